package dev.denseface.core;

import java.nio.ByteBuffer;

/**
 * The landmark model's output contract and its decoding into frame pixels; a port of
 * {@code sdk/denseface/decode.py} and of the dequantization in {@code sdk/denseface/infer.py}.
 *
 * <p>The model maps a 120 × 120 uint8 RGB crop to 1560 values: the 520 points of the topology as
 * (x, y, z) triplets, point-major, divided by the crop side: x, y in crop pixels (x right, y down,
 * pixel centres at integers) / 120; z = depth relative to the mean depth of the 520 points, +z
 * towards the camera, in crop pixels / 120.
 */
public final class LandmarkDecoder {

    /** Points per face. */
    public static final int N_POINTS = 520;

    /** Values the model outputs: 520 × (x, y, z). */
    public static final int OUTPUT_SIZE = 3 * N_POINTS;

    /** Points that are the iBUG 68 landmarks: the first 68, in the standard order. */
    public static final int N_LANDMARKS68 = 68;

    private LandmarkDecoder() {}

    /**
     * Dequantize an int8 or uint8 tensor as {@code (q - zeroPoint) * scale} in float32 (infer.py's formula).
     *
     * @param quantized the raw bytes, one value per byte
     * @param signed true for int8, false for uint8
     * @param scale the tensor's quantization scale (&gt; 0)
     * @param zeroPoint the tensor's zero point
     * @throws IllegalArgumentException for a scale that is not positive (an unquantized tensor)
     */
    public static float[] dequantize(byte[] quantized, boolean signed, float scale, int zeroPoint) {
        if (!(scale > 0)) {
            throw new IllegalArgumentException("quantization scale must be > 0, got " + scale + " (is the tensor quantized?)");
        }
        float[] out = new float[quantized.length];
        float zero = zeroPoint;
        for (int i = 0; i < quantized.length; i++) {
            int q = signed ? quantized[i] : quantized[i] & 0xFF;
            out[i] = ((float) q - zero) * scale;
        }
        return out;
    }

    /** {@link #dequantize(byte[], boolean, float, int)} of the remaining bytes of a buffer (its position is unchanged). */
    public static float[] dequantize(ByteBuffer quantized, boolean signed, float scale, int zeroPoint) {
        byte[] bytes = new byte[quantized.remaining()];
        quantized.duplicate().get(bytes);
        return dequantize(bytes, signed, scale, zeroPoint);
    }

    /**
     * Quantize a float value as the LiteRT input would: {@code round(x / scale + zeroPoint)} clipped to
     * the type's range (infer.py's {@code _prepare_input}).
     */
    public static byte quantize(float value, boolean signed, float scale, int zeroPoint) {
        double q = Math.rint(value / scale + (float) zeroPoint); // numpy's round: half to even
        int lo = signed ? -128 : 0, hi = signed ? 127 : 255;
        return (byte) Math.max(lo, Math.min(hi, (int) q));
    }

    /**
     * 1560 model outputs → 520 × (x, y, z) crop pixels (z relative to the points' mean).
     *
     * @throws IllegalArgumentException when {@code output} does not hold 1560 values
     */
    public static float[] toCropPoints(float[] output) {
        checkSize(output);
        float[] out = new float[OUTPUT_SIZE];
        float side = Crop.MODEL_INPUT;
        for (int i = 0; i < OUTPUT_SIZE; i++) {
            out[i] = output[i] * side;
        }
        return out;
    }

    /**
     * 1560 model outputs for the crop made by {@code transform} → 520 × (x, y, z) frame points: x, y in
     * frame pixels; z in frame pixels, relative to the points' mean depth, +z towards the camera.
     */
    public static float[] decode(float[] output, CropTransform transform) {
        return transform.toFrame(toCropPoints(output), 3);
    }

    private static void checkSize(float[] output) {
        if (output.length != OUTPUT_SIZE) {
            throw new IllegalArgumentException("expected " + OUTPUT_SIZE + " model outputs (" + N_POINTS
                    + " points x 3), got " + output.length + " (is this a DenseFace landmark model?)");
        }
    }
}
