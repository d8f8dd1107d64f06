package dev.denseface.core;

/**
 * One face's landmarks; mirrors {@code Face} in {@code sdk/denseface/face.py}.
 *
 * @param points 520 × (x, y, z) flattened, frame pixels: x right, y down; z in the same pixel scale,
 *     relative depth (mean over the 520 points = 0), +z towards the camera. The first 68 points are
 *     the iBUG 68 landmarks.
 * @param box (x0, y0, x1, y1) frame pixels, the tight box of the 68 points' (x, y)
 * @param score the detector's score in [0, 1] (in video mode, that of the detection that started or
 *     last confirmed the track)
 * @param pose (yaw, pitch, roll) degrees, see {@link HeadPose}
 */
public record Face(float[] points, float[] box, float score, double[] pose) {

    /** The 68 iBUG landmarks: 68 × (x, y, z) flattened, same frame as {@link #points()}. */
    public float[] points68() {
        return java.util.Arrays.copyOf(points, 3 * LandmarkDecoder.N_LANDMARKS68);
    }
}
