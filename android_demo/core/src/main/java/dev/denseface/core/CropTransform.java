package dev.denseface.core;

/**
 * A similarity transform from frame pixels to the pixels of a square crop; mirrors
 * {@code CropTransform} in {@code sdk/denseface/crop.py}.
 *
 * <p>{@code crop = M · [x, y, 1]} with M the 2 × 3 {@link #matrix()} (OpenCV's warpAffine convention;
 * pixel centres at integer coordinates in both frames). Immutable and thread-safe.
 */
public final class CropTransform {

    private final double[] matrix;
    private final double[] inverse;
    private final int size;

    /**
     * @param matrix the 2 × 3 matrix, row-major (a, b, c, d, e, f): crop x = a·x + b·y + c, crop y = d·x + e·y + f
     * @param size side of the square crop, pixels
     * @throws IllegalArgumentException for a matrix that is not 6 finite values or is singular
     */
    public CropTransform(double[] matrix, int size) {
        if (matrix.length != 6) {
            throw new IllegalArgumentException("a crop matrix has 6 values (2 x 3, row-major), got " + matrix.length);
        }
        this.matrix = matrix.clone();
        this.size = size;
        // cv2.invertAffineTransform
        double a = matrix[0], b = matrix[1], c = matrix[2], d = matrix[3], e = matrix[4], f = matrix[5];
        double det = a * e - b * d;
        if (!(det != 0) || !Double.isFinite(det)) {
            throw new IllegalArgumentException("crop matrix is singular or not finite");
        }
        double ia = e / det, ib = -b / det, id = -d / det, ie = a / det;
        this.inverse = new double[] {ia, ib, -ia * c - ib * f, id, ie, -id * c - ie * f};
    }

    /** The 2 × 3 frame → crop matrix, row-major (a copy). */
    public double[] matrix() {
        return matrix.clone();
    }

    /** The 2 × 3 crop → frame matrix, row-major (a copy). */
    public double[] inverse() {
        return inverse.clone();
    }

    /** Side of the square crop, pixels. */
    public int size() {
        return size;
    }

    /** Crop pixels per frame pixel. */
    public double scale() {
        return Math.hypot(matrix[0], matrix[3]);
    }

    /**
     * Frame points → crop points.
     *
     * @param points N × dims flattened, dims 2 (x, y) or 3 (x, y, depth: multiplied by {@link #scale()})
     */
    public float[] toCrop(float[] points, int dims) {
        return apply(matrix, points, dims);
    }

    /**
     * Crop points → frame points.
     *
     * @param points N × dims flattened, dims 2 (x, y) or 3 (x, y, depth: divided by {@link #scale()})
     */
    public float[] toFrame(float[] points, int dims) {
        return apply(inverse, points, dims);
    }

    private static float[] apply(double[] m, float[] points, int dims) {
        if ((dims != 2 && dims != 3) || points.length % dims != 0) {
            throw new IllegalArgumentException("points must be N x 2 or N x 3 flattened; got " + points.length
                    + " values with dims " + dims);
        }
        double depthScale = Math.hypot(m[0], m[3]);
        float[] out = new float[points.length];
        for (int i = 0; i < points.length; i += dims) {
            double x = points[i], y = points[i + 1];
            out[i] = (float) (m[0] * x + m[1] * y + m[2]);
            out[i + 1] = (float) (m[3] * x + m[4] * y + m[5]);
            if (dims == 3) {
                out[i + 2] = (float) (points[i + 2] * depthScale);
            }
        }
        return out;
    }
}
