package dev.denseface.core;

/**
 * The One-Euro filter (Casiez, Roussel, Vogel, CHI 2012) of arrays of a fixed length, timestamps in
 * milliseconds; a port of {@code sdk/denseface/smooth.py} (float64 computation).
 *
 * <p>For a sample x at time t with Δt the time since the previous sample and x̂, d̂x the previous
 * filtered value and derivative: α(f) = 1 / (1 + τ/Δt), τ = 1 / (2π f); dx = (x − x̂) / Δt;
 * d̂x ← d̂x + α(d_cutoff)·(dx − d̂x); f_c = min_cutoff + beta·|d̂x|; x̂ ← x̂ + α(f_c)·(x − x̂).
 * The first sample (and the first after {@link #reset()}) passes through unchanged with d̂x = 0.
 *
 * <p>Not thread-safe (it keeps state): one filter per stream.
 */
public final class OneEuroFilter {

    private final double minCutoff;
    private final double beta;
    private final double dCutoff;
    private double[] value;
    private double[] speed;
    private double timeMs;

    /**
     * @param minCutoff cutoff frequency at rest, Hz (&gt; 0): lower = smoother, more lag when slow
     * @param beta cutoff increase per unit of speed (units/s), &gt;= 0: higher = less lag when fast
     * @param dCutoff cutoff of the speed estimate, Hz (&gt; 0)
     * @throws IllegalArgumentException for a parameter out of range
     */
    public OneEuroFilter(double minCutoff, double beta, double dCutoff) {
        if (!(minCutoff > 0) || !(dCutoff > 0)) {
            throw new IllegalArgumentException("min_cutoff and d_cutoff must be > 0 Hz, got " + minCutoff + " and " + dCutoff);
        }
        if (!(beta >= 0)) {
            throw new IllegalArgumentException("beta must be >= 0, got " + beta);
        }
        this.minCutoff = minCutoff;
        this.beta = beta;
        this.dCutoff = dCutoff;
    }

    /** The SDK's defaults: min_cutoff 1 Hz, beta 0.05, d_cutoff 1 Hz. */
    public OneEuroFilter() {
        this(1.0, 0.05, 1.0);
    }

    /** α = 1 / (1 + τ/Δt) with τ = 1/(2π·cutoff): the weight of a new sample in the low-pass. */
    public static double smoothingFactor(double cutoffHz, double dtS) {
        double tau = 1.0 / (2.0 * Math.PI * cutoffHz);
        return 1.0 / (1.0 + tau / dtS);
    }

    /** Forget the past: the next sample passes through unchanged. */
    public void reset() {
        value = null;
        speed = null;
    }

    /**
     * Filter one sample.
     *
     * @return the filtered values (a new array)
     * @throws IllegalArgumentException a timestamp not after the previous one, or a length that differs
     *     from the previous sample's
     */
    public double[] filter(double[] sample, double timestampMs) {
        if (value == null) {
            value = sample.clone();
            speed = new double[sample.length];
            timeMs = timestampMs;
            return sample.clone();
        }
        if (!(timestampMs > timeMs)) {
            throw new IllegalArgumentException("timestamp " + timestampMs + " ms is not after the previous one (" + timeMs + " ms)");
        }
        if (sample.length != value.length) {
            throw new IllegalArgumentException("sample length " + sample.length + " differs from the filter's "
                    + value.length + "; reset() first");
        }
        double dt = (timestampMs - timeMs) / 1000.0;
        double alphaD = smoothingFactor(dCutoff, dt);
        for (int i = 0; i < sample.length; i++) {
            double dx = (sample[i] - value[i]) / dt;
            speed[i] = speed[i] + alphaD * (dx - speed[i]);
            double cutoff = minCutoff + beta * Math.abs(speed[i]);
            value[i] = value[i] + smoothingFactor(cutoff, dt) * (sample[i] - value[i]);
        }
        timeMs = timestampMs;
        return value.clone();
    }

    /** {@link #filter(double[], double)} of float32 values (computed in float64, returned as float32). */
    public float[] filter(float[] sample, double timestampMs) {
        double[] in = new double[sample.length];
        for (int i = 0; i < in.length; i++) {
            in[i] = sample[i];
        }
        double[] filtered = filter(in, timestampMs);
        float[] out = new float[filtered.length];
        for (int i = 0; i < out.length; i++) {
            out[i] = (float) filtered[i];
        }
        return out;
    }
}
