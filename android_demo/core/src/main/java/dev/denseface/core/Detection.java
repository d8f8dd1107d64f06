package dev.denseface.core;

/**
 * One detected face, in frame pixels (x right, y down, pixel centres at integers; not clipped to the frame).
 *
 * @param box (x0, y0, x1, y1)
 * @param score detection confidence in [0, 1]
 * @param keypoints 6 × (x, y) flattened, in {@link DetectorSpec#NUM_KEYPOINTS}' order: subject's right
 *     eye, left eye, nose tip, mouth centre, right ear tragion, left ear tragion
 */
public record Detection(float[] box, float score, float[] keypoints) {

    /** x of keypoint {@code i}. */
    public float keypointX(int i) {
        return keypoints[2 * i];
    }

    /** y of keypoint {@code i}. */
    public float keypointY(int i) {
        return keypoints[2 * i + 1];
    }
}
