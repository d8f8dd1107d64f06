package dev.denseface.core;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertTrue;

import org.junit.Test;

/** The app's benchmark percentiles are numpy.percentile's (values from numpy 2.4 in the comments). */
public class LatencyStatsTest {

    @Test
    public void percentilesAreNumpysLinearInterpolation() {
        double[] values = {5.0, 1.0, 4.0, 2.0, 3.0, 10.0, 7.5};
        // np.percentile(values, [0, 50, 95, 100]) == [1.0, 4.0, 9.249999999999998, 10.0]; np.mean == 4.642857142857143
        assertEquals(1.0, LatencyStats.percentile(values, 0), 1e-12);
        assertEquals(4.0, LatencyStats.percentile(values, 50), 1e-12);
        assertEquals(9.25, LatencyStats.percentile(values, 95), 1e-12);
        assertEquals(10.0, LatencyStats.percentile(values, 100), 1e-12);
        assertEquals(4.642857142857143, LatencyStats.mean(values), 1e-12);
        // np.percentile([1.0, 2.0], [50, 95]) == [1.5, 1.95]; one value is every percentile
        assertEquals(1.95, LatencyStats.percentile(new double[] {1.0, 2.0}, 95), 1e-12);
        assertEquals(2.5, LatencyStats.percentile(new double[] {2.5}, 95), 0);
        assertEquals("the input is not reordered", 5.0, values[0], 0);
    }

    @Test
    public void noValuesGiveNaN() {
        assertTrue(Double.isNaN(LatencyStats.percentile(new double[0], 50)));
        assertTrue(Double.isNaN(LatencyStats.mean(new double[0])));
    }

    @Test(expected = IllegalArgumentException.class)
    public void aPercentileAbove100IsRejected() {
        LatencyStats.percentile(new double[] {1}, 101);
    }
}
