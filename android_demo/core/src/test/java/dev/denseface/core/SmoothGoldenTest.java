package dev.denseface.core;

import static dev.denseface.core.Golden.*;
import static org.junit.Assert.assertArrayEquals;

import java.util.List;
import java.util.Map;
import org.junit.Test;

/** The One-Euro filter against golden/smooth.json (denseface.smooth.OneEuroFilter, float64). */
public class SmoothGoldenTest {

    @Test
    public void sequencesWithIrregularTimestampsAndAResetMatchTheSdk() throws Exception {
        for (Object o : list(Golden.load("smooth.json").get("cases"))) {
            Map<String, Object> c = obj(o);
            OneEuroFilter filter = new OneEuroFilter(num(c.get("min_cutoff")), num(c.get("beta")), num(c.get("d_cutoff")));
            double[] times = doubles(c.get("timestamps_ms"));
            double[] resets = doubles(c.get("reset_before"));
            List<Object> samples = list(c.get("samples")), expected = list(c.get("expected"));
            for (int step = 0; step < times.length; step++) {
                for (double r : resets) {
                    if ((int) r == step) {
                        filter.reset();
                    }
                }
                double[] out = filter.filter(doubles(samples.get(step)), times[step]);
                assertArrayEquals("step " + step, doubles(expected.get(step)), out, 1e-9);
            }
        }
    }

    @Test(expected = IllegalArgumentException.class)
    public void timestampsMustIncrease() {
        OneEuroFilter filter = new OneEuroFilter();
        filter.filter(new double[] {1}, 10);
        filter.filter(new double[] {1}, 10);
    }
}
