package dev.denseface.core;

import java.util.Arrays;

/**
 * Percentiles of timings, as the Python benchmarks compute them ({@code benchmarks/common.py}
 * {@code percentiles}: {@code numpy.percentile}'s default linear interpolation between the closest
 * ranks), so the app's benchmark mode and {@code python -m benchmarks.latency} report comparable p50 / p95.
 */
public final class LatencyStats {

    private LatencyStats() {}

    /**
     * The {@code q}-th percentile (0..100) of {@code values}: with the values sorted, position
     * (n − 1) · q / 100, linearly interpolated; NaN for no values.
     *
     * @throws IllegalArgumentException for q outside [0, 100]
     */
    public static double percentile(double[] values, double q) {
        if (!(q >= 0 && q <= 100)) {
            throw new IllegalArgumentException("percentile must be in [0, 100], got " + q);
        }
        if (values.length == 0) {
            return Double.NaN;
        }
        double[] sorted = values.clone();
        Arrays.sort(sorted);
        double position = (sorted.length - 1) * q / 100.0;
        int below = (int) Math.floor(position);
        int above = Math.min(below + 1, sorted.length - 1);
        double fraction = position - below;
        return sorted[below] + (sorted[above] - sorted[below]) * fraction;
    }

    /** The arithmetic mean; NaN for no values. */
    public static double mean(double[] values) {
        if (values.length == 0) {
            return Double.NaN;
        }
        double sum = 0;
        for (double v : values) {
            sum += v;
        }
        return sum / values.length;
    }
}
