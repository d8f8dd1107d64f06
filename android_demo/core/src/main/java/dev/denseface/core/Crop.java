package dev.denseface.core;

import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The crop rule: which square of the frame the landmark model sees; a port of
 * {@code sdk/denseface/crop.py} (read that file's docstring for where the numbers come from).
 *
 * <p>The model was trained on crops framed like 3DDFA's: the tight box of the 68 landmarks made square
 * on its longer side and enlarged ×√2 about its centre ({@link #LANDMARK_BOX_SCALE}), optionally
 * rotated by the face's roll. A box from another source is first turned into that framing with one
 * of the {@link #BOX_CONVENTIONS}.
 */
public final class Crop {

    /** Side of the landmark model's input, pixels (crop.py MODEL_INPUT). */
    public static final int MODEL_INPUT = 120;

    /** 3DDFA's crop: the 68-point box's longer side × √2 (crop.py LANDMARK_BOX_SCALE). */
    public static final double LANDMARK_BOX_SCALE = Math.sqrt(2.0);

    /**
     * How a caller's box relates to the square framing of the 68-point box: (centre shift x, centre
     * shift y) as a fraction of the box side, then a side multiplier. COPIED from BOX_CONVENTIONS in
     * {@code sdk/denseface/crop.py} (the "blazeface" row is measured by {@code train/evaluation/calibrate_boxes.py});
     * {@code CropGoldenTest} fails when they drift apart.
     */
    public static final Map<String, double[]> BOX_CONVENTIONS;

    static {
        Map<String, double[]> conventions = new LinkedHashMap<>(); // not Map.of: Android before API 30 lacks it
        conventions.put("landmarks68", new double[] {0.0, 0.0, 1.0});
        conventions.put("square", new double[] {0.0, 0.0, 1.0});
        conventions.put("blazeface", new double[] {-0.0052, 0.0442, 0.9520});
        BOX_CONVENTIONS = Collections.unmodifiableMap(conventions);
    }

    /** Crop centres and sides are rounded to multiples of this, frame pixels (crop.SNAP_PX). */
    public static final double SNAP_PX = 1.0 / 16.0;

    /** Crop rolls are rounded to multiples of this, degrees (crop.SNAP_DEG). */
    public static final double SNAP_DEG = 1.0 / 16.0;

    private Crop() {}

    /**
     * The transform mapping the square of {@code side} frame pixels centred at (cx, cy), rotated by
     * {@code rollDeg} (counter-clockwise in the image: the face's roll), onto a size × size crop.
     * The square's edges map to the crop's outer pixel edges. Centre and side are snapped to
     * {@link #SNAP_PX}, the roll to {@link #SNAP_DEG}, as in Python.
     *
     * @throws IllegalArgumentException for a side that is not a positive finite number
     */
    public static CropTransform squareTransform(double cx, double cy, double side, int size, double rollDeg) {
        if (!(side > 0) || !Double.isFinite(side)) {
            throw new IllegalArgumentException("crop side must be a positive finite number of pixels, got " + side);
        }
        side = Math.max(snap(side, SNAP_PX), SNAP_PX);
        cx = snap(cx, SNAP_PX);
        cy = snap(cy, SNAP_PX);
        double s = size / side;
        double a = Math.toRadians(snap(rollDeg, SNAP_DEG));
        double cos = s * Math.cos(a), sin = s * Math.sin(a);
        double c = (size - 1) / 2.0;
        return new CropTransform(new double[] {
            cos, -sin, c - cos * cx + sin * cy,
            sin, cos, c - sin * cx - cos * cy,
        }, size);
    }

    /** {@code value} rounded (half to even) to a multiple of {@code step}, a power of two. */
    private static double snap(double value, double step) {
        return Math.rint(value / step) * step;
    }

    /** (cx, cy, side) of the tight box of N × 2 (or N × dims, first two used) points made square on its longer side. */
    public static double[] landmarkSquare(float[] points, int dims, int count) {
        double x0 = Double.POSITIVE_INFINITY, y0 = Double.POSITIVE_INFINITY;
        double x1 = Double.NEGATIVE_INFINITY, y1 = Double.NEGATIVE_INFINITY;
        for (int i = 0; i < count; i++) {
            double x = points[dims * i], y = points[dims * i + 1];
            x0 = Math.min(x0, x);
            y0 = Math.min(y0, y);
            x1 = Math.max(x1, x);
            y1 = Math.max(y1, y);
        }
        return new double[] {(x0 + x1) / 2.0, (y0 + y1) / 2.0, Math.max(x1 - x0, y1 - y0)};
    }

    /**
     * 3DDFA's crop from landmarks: the square box of the first {@code count} points ×√2, to {@code size} pixels.
     *
     * @param points N × dims flattened frame points (dims 2 or 3)
     */
    public static CropTransform cropFromLandmarks(float[] points, int dims, int count, int size, double rollDeg) {
        double[] square = landmarkSquare(points, dims, count);
        return squareTransform(square[0], square[1], square[2] * LANDMARK_BOX_SCALE, size, rollDeg);
    }

    /**
     * (cx, cy, side) of the equivalent square 68-point box for a box (x0, y0, x1, y1) of
     * {@code convention}; the convention's centre shift turns with a face rolled by {@code rollDeg}.
     *
     * @throws IllegalArgumentException for an unknown convention or a degenerate box
     */
    public static double[] boxToSquare(float[] box, String convention, double rollDeg) {
        double[] c = BOX_CONVENTIONS.get(convention);
        if (c == null) {
            throw new IllegalArgumentException("unknown box convention '" + convention
                    + "'; expected one of [blazeface, landmarks68, square]");
        }
        double x0 = box[0], y0 = box[1], x1 = box[2], y1 = box[3];
        if (!Double.isFinite(x0 + y0 + x1 + y1) || x1 - x0 < 1 || y1 - y0 < 1) {
            throw new IllegalArgumentException("box (" + x0 + ", " + y0 + ", " + x1 + ", " + y1
                    + ") is degenerate: need finite x0 < x1 and y0 < y1, at least 1 px apart");
        }
        double dx = c[0], dy = c[1];
        if (rollDeg != 0) { // the face's axes in the image (y down): right = (cos, -sin), down = (sin, cos)
            double a = Math.toRadians(rollDeg);
            double rx = dx * Math.cos(a) + dy * Math.sin(a);
            double ry = -dx * Math.sin(a) + dy * Math.cos(a);
            dx = rx;
            dy = ry;
        }
        double side = Math.max(x1 - x0, y1 - y0);
        return new double[] {(x0 + x1) / 2.0 + dx * side, (y0 + y1) / 2.0 + dy * side, side * c[2]};
    }

    /** The model's crop for a face box of the given convention (see {@link #BOX_CONVENTIONS}). */
    public static CropTransform cropFromBox(float[] box, String convention, int size, double rollDeg) {
        double[] square = boxToSquare(box, convention, rollDeg);
        return squareTransform(square[0], square[1], square[2] * LANDMARK_BOX_SCALE, size, rollDeg);
    }
}
