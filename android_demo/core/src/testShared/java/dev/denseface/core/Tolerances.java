package dev.denseface.core;

/**
 * How close the Java / Android port must come to the Python SDK's golden values: one set of numbers
 * for the JVM core's tests ({@code src/test}) and the app's on-device parity test
 * ({@code app/src/androidTest}), so the two cannot drift apart. Shared test code ({@code src/testShared}).
 */
public final class Tolerances {

    /** Frame / crop points, boxes and keypoints, pixels. */
    public static final double PX = 1e-3;

    /** Detector scores (sigmoid of the logits). */
    public static final double SCORE = 1e-6;

    /** Head-pose angles, degrees. */
    public static final double DEG = 1e-3;

    /** Crop matrices (frame → crop pixels). */
    public static final double MATRIX = 1e-6;

    /**
     * Dequantized landmark-model outputs: exact. The same int8 model on the same crop gives the same
     * integers, so the same floats (the project's aarch64 check found LiteRT + XNNPACK bit-identical to
     * x86_64 on Cortex-A72 / A76, see benchmarks/arm/README.md).
     */
    public static final double DEQUANTIZED = 0.0;

    private Tolerances() {}
}
