package dev.denseface.core;

/**
 * The pixel work that feeds the two models, on packed ARGB frames ({@code int} per pixel, as Android's
 * {@code Bitmap.getPixels} returns them; alpha ignored): the detector's letterbox
 * ({@code Letterbox.apply} in {@code sdk/denseface/detect.py}: OpenCV's INTER_AREA when shrinking,
 * INTER_LINEAR when enlarging; the tests hold it to OpenCV's within ±1 grey level) and the landmark
 * model's crop ({@code CropTransform.warp} in {@code sdk/denseface/crop.py}: integer bilinear, the
 * tests hold it to the Python bytes exactly).
 *
 * <p>Stateless and thread-safe.
 */
public final class ImageOps {

    /** Bits of the crop's sampling grid (crop.SUBPIXEL_BITS). */
    public static final int SUBPIXEL_BITS = 5;

    /** Crop sampling positions are rounded to 1/SUBPIXEL frame pixels (crop.SUBPIXEL). */
    public static final int SUBPIXEL = 1 << SUBPIXEL_BITS;

    private ImageOps() {}

    /**
     * Rotate a frame clockwise by a multiple of 90° (CameraX's {@code ImageInfo.getRotationDegrees()}:
     * the rotation that makes the image upright).
     *
     * @param argb width × height pixels, row-major
     * @return the rotated pixels; the result is height × width for 90° and 270°
     * @throws IllegalArgumentException for an angle that is not a multiple of 90
     */
    public static int[] rotate(int[] argb, int width, int height, int degrees) {
        int d = ((degrees % 360) + 360) % 360;
        if (d % 90 != 0) {
            throw new IllegalArgumentException("rotation must be a multiple of 90 degrees, got " + degrees);
        }
        if (d == 0) {
            return argb;
        }
        int[] out = new int[argb.length];
        for (int y = 0; y < height; y++) {
            for (int x = 0; x < width; x++) {
                int pixel = argb[y * width + x];
                switch (d) {
                    case 90: // out is height wide: (x, y) → (height − 1 − y, x)
                        out[x * height + (height - 1 - y)] = pixel;
                        break;
                    case 180:
                        out[(height - 1 - y) * width + (width - 1 - x)] = pixel;
                        break;
                    default: // 270: (x, y) → (y, width − 1 − x)
                        out[(width - 1 - x) * height + y] = pixel;
                        break;
                }
            }
        }
        return out;
    }

    /**
     * The crop of a frame under {@code transform}, byte for byte {@code CropTransform.warp} in
     * {@code sdk/denseface/crop.py}: crop pixel (u, v) samples the frame position
     * inverse · [u, v, 1] rounded to 1/32 px, as (Σ w·pixel + 512) >> 10 over its four neighbours with
     * integer weights (32 − fx or fx)·(32 − fy or fy); neighbours outside the frame are black.
     *
     * @param argb width × height pixels, row-major
     * @param out size × size × 3 RGB bytes (uint8), row-major; {@code transform.size()} is the side
     */
    public static void warpToRgb(int[] argb, int width, int height, CropTransform transform, byte[] out) {
        int size = transform.size();
        if (out.length != size * size * 3) {
            throw new IllegalArgumentException("out must hold " + size + " x " + size + " x 3 bytes, has " + out.length);
        }
        double[] m = transform.inverse();
        double a = m[0] * SUBPIXEL, b = m[1] * SUBPIXEL, c = m[2] * SUBPIXEL;
        double d = m[3] * SUBPIXEL, e = m[4] * SUBPIXEL, f = m[5] * SUBPIXEL;
        int[] acc = new int[3];
        for (int v = 0; v < size; v++) {
            for (int u = 0; u < size; u++) {
                // the same operations in the same order as the Python code, so the same rounding
                int x = (int) clamp(Math.rint((b * v + c) + a * u), -2 * SUBPIXEL, (width + 1) * SUBPIXEL);
                int y = (int) clamp(Math.rint((e * v + f) + d * u), -2 * SUBPIXEL, (height + 1) * SUBPIXEL);
                int x0 = x >> SUBPIXEL_BITS, y0 = y >> SUBPIXEL_BITS, fx = x & (SUBPIXEL - 1), fy = y & (SUBPIXEL - 1);
                acc[0] = acc[1] = acc[2] = 0;
                addWeighted(argb, width, height, x0, y0, (SUBPIXEL - fx) * (SUBPIXEL - fy), acc);
                addWeighted(argb, width, height, x0 + 1, y0, fx * (SUBPIXEL - fy), acc);
                addWeighted(argb, width, height, x0, y0 + 1, (SUBPIXEL - fx) * fy, acc);
                addWeighted(argb, width, height, x0 + 1, y0 + 1, fx * fy, acc);
                int o = 3 * (v * size + u);
                out[o] = (byte) ((acc[0] + 512) >> 10);
                out[o + 1] = (byte) ((acc[1] + 512) >> 10);
                out[o + 2] = (byte) ((acc[2] + 512) >> 10);
            }
        }
    }

    private static double clamp(double value, double lo, double hi) {
        return Math.max(lo, Math.min(hi, value));
    }

    private static void addWeighted(int[] argb, int width, int height, int x, int y, int weight, int[] acc) {
        if (weight == 0 || x < 0 || y < 0 || x >= width || y >= height) {
            return; // the black border contributes 0
        }
        int pixel = argb[y * width + x];
        acc[0] += weight * ((pixel >> 16) & 0xFF);
        acc[1] += weight * ((pixel >> 8) & 0xFF);
        acc[2] += weight * (pixel & 0xFF);
    }

    private static byte toByte(float value) {
        return (byte) Math.max(0, Math.min(255, (int) Math.rint(value)));
    }

    /**
     * The detector input of a frame: resized into {@code letterbox} (area averaging when shrinking,
     * bilinear when enlarging, as Letterbox.apply) and padded with black.
     *
     * @param argb width × height pixels, row-major
     * @param out inputSize × inputSize × 3 RGB bytes (uint8), row-major
     */
    public static void letterboxToRgb(int[] argb, int width, int height, Letterbox letterbox, byte[] out) {
        int side = letterbox.inputSize();
        if (out.length != side * side * 3) {
            throw new IllegalArgumentException("out must hold " + side + " x " + side + " x 3 bytes, has " + out.length);
        }
        java.util.Arrays.fill(out, (byte) 0);
        int newWidth = letterbox.resizedWidth(width), newHeight = letterbox.resizedHeight(height);
        boolean area = newWidth < width && newHeight <= height; // Letterbox.apply picks INTER_AREA when shrinking
        Taps xs = area ? areaTaps(width, newWidth) : linearTaps(width, newWidth);
        Taps ys = area ? areaTaps(height, newHeight) : linearTaps(height, newHeight);
        float[] row = new float[3 * width];
        for (int dy = 0; dy < newHeight; dy++) {
            java.util.Arrays.fill(row, 0f);
            for (int t = ys.start[dy]; t < ys.start[dy + 1]; t++) { // vertical pass into one float row
                int base = ys.index[t] * width;
                float weight = ys.weight[t];
                for (int x = 0; x < width; x++) {
                    int pixel = argb[base + x];
                    row[3 * x] += weight * ((pixel >> 16) & 0xFF);
                    row[3 * x + 1] += weight * ((pixel >> 8) & 0xFF);
                    row[3 * x + 2] += weight * (pixel & 0xFF);
                }
            }
            for (int dx = 0; dx < newWidth; dx++) {
                float r = 0, g = 0, b = 0;
                for (int t = xs.start[dx]; t < xs.start[dx + 1]; t++) {
                    int i = 3 * xs.index[t];
                    float weight = xs.weight[t];
                    r += weight * row[i];
                    g += weight * row[i + 1];
                    b += weight * row[i + 2];
                }
                int o = 3 * ((dy + letterbox.padY()) * side + dx + letterbox.padX());
                out[o] = toByte(r);
                out[o + 1] = toByte(g);
                out[o + 2] = toByte(b);
            }
        }
    }

    /**
     * RGB bytes → the BlazeFace input tensor values {@code x / 127.5 − 1} in [−1, 1].
     *
     * @param out float32 values, same length as {@code rgb}
     */
    public static void toSignedUnit(byte[] rgb, float[] out) {
        for (int i = 0; i < rgb.length; i++) {
            out[i] = (rgb[i] & 0xFF) / 127.5f - 1f;
        }
    }

    /** Sparse 1-D resampling weights: output i uses index[start[i]..start[i+1]) with weight[...]. */
    private record Taps(int[] start, int[] index, float[] weight) {}

    /** cv2.resize INTER_AREA's weights (computeResizeAreaTab) for shrinking {@code source} → {@code target}. */
    private static Taps areaTaps(int source, int target) {
        double scale = (double) source / target;
        int[] start = new int[target + 1];
        TapList taps = new TapList();
        for (int d = 0; d < target; d++) {
            double fsx1 = d * scale, fsx2 = fsx1 + scale;
            double cellWidth = Math.min(scale, source - fsx1);
            int sx1 = (int) Math.ceil(fsx1), sx2 = (int) Math.floor(fsx2);
            sx2 = Math.min(sx2, source - 1);
            sx1 = Math.min(sx1, sx2);
            start[d] = taps.size;
            if (sx1 - fsx1 > 1e-3) {
                taps.add(sx1 - 1, (float) ((sx1 - fsx1) / cellWidth));
            }
            for (int s = sx1; s < sx2; s++) {
                taps.add(s, (float) (1.0 / cellWidth));
            }
            if (fsx2 - sx2 > 1e-3) {
                taps.add(sx2, (float) (Math.min(Math.min(fsx2 - sx2, 1.0), cellWidth) / cellWidth));
            }
        }
        start[target] = taps.size;
        return new Taps(start, java.util.Arrays.copyOf(taps.index, taps.size), java.util.Arrays.copyOf(taps.weight, taps.size));
    }

    /** cv2.resize INTER_LINEAR's weights: source = (d + 0.5)·scale − 0.5, clamped at the borders. */
    private static Taps linearTaps(int source, int target) {
        double scale = (double) source / target;
        int[] start = new int[target + 1];
        TapList taps = new TapList();
        for (int d = 0; d < target; d++) {
            double s = (d + 0.5) * scale - 0.5;
            int s0 = (int) Math.floor(s);
            double f = s - s0;
            if (s0 < 0) {
                s0 = 0;
                f = 0;
            }
            if (s0 >= source - 1) {
                s0 = source - 1;
                f = 0;
            }
            start[d] = taps.size;
            taps.add(s0, (float) (1 - f));
            if (f > 0) {
                taps.add(s0 + 1, (float) f);
            }
        }
        start[target] = taps.size;
        return new Taps(start, java.util.Arrays.copyOf(taps.index, taps.size), java.util.Arrays.copyOf(taps.weight, taps.size));
    }

    /** A growable list of (index, weight) taps. */
    private static final class TapList {
        int[] index = new int[16];
        float[] weight = new float[16];
        int size;

        void add(int i, float w) {
            if (size == index.length) {
                index = java.util.Arrays.copyOf(index, 2 * size);
                weight = java.util.Arrays.copyOf(weight, 2 * size);
            }
            index[size] = i;
            weight[size++] = w;
        }
    }
}
