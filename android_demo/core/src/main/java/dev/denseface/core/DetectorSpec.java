package dev.denseface.core;

import java.util.Arrays;

/**
 * Fixed decoding parameters of one BlazeFace model, copied from {@code DETECTOR_SPECS} in
 * {@code sdk/denseface/detect.py} (themselves from MediaPipe's graph options).
 *
 * @param inputSize side of the square RGB input, pixels
 * @param strides one stride per SSD layer, pixels
 * @param anchorsPerLayer anchors each layer puts on every cell of its feature map
 * @param boxScale divisor of the raw box and keypoint offsets (x_scale = y_scale = w_scale = h_scale)
 */
public record DetectorSpec(int inputSize, int[] strides, int anchorsPerLayer, float boxScale) {

    /** face_detection_short_range.tflite: 4 layers, 2 anchors per layer; faces within ~2 m. */
    public static final DetectorSpec SHORT = new DetectorSpec(128, new int[] {8, 16, 16, 16}, 2, 128f);

    /** face_detection_full_range_sparse.tflite: 1 layer, 1 anchor per cell. */
    public static final DetectorSpec FULL = new DetectorSpec(192, new int[] {4}, 1, 192f);

    /** Keypoints per detection (right eye, left eye, nose tip, mouth, right ear, left ear). */
    public static final int NUM_KEYPOINTS = 6;

    /** Values per anchor in the regressor output: box (4) + keypoints (2 each). */
    public static final int REGRESSOR_SIZE = 4 + 2 * NUM_KEYPOINTS;

    /**
     * The spec of a detector kind.
     *
     * @throws IllegalArgumentException for a kind other than "short" or "full"
     */
    public static DetectorSpec forKind(String kind) {
        switch (kind) {
            case "short":
                return SHORT;
            case "full":
                return FULL;
            default:
                throw new IllegalArgumentException("unknown detector kind '" + kind + "'; expected 'full' or 'short'");
        }
    }

    /** Number of anchors (= rows of the model's outputs): 896 for SHORT, 2304 for FULL. */
    public int anchorCount() {
        return BlazeFace.ssdAnchors(inputSize, strides, anchorsPerLayer, 0.5f).length / 4;
    }

    @Override
    public String toString() {
        return "DetectorSpec[inputSize=" + inputSize + ", strides=" + Arrays.toString(strides)
                + ", anchorsPerLayer=" + anchorsPerLayer + ", boxScale=" + boxScale + "]";
    }
}
