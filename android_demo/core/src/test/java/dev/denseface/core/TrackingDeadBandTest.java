package dev.denseface.core;

import static dev.denseface.core.Golden.*;
import static org.junit.Assert.assertArrayEquals;
import static org.junit.Assert.assertNotSame;
import static org.junit.Assert.assertSame;

import org.junit.BeforeClass;
import org.junit.Test;

/**
 * The tracking crop's dead band (track.py's TRACK_DEAD_BAND = 0.03 of the crop side / of its scale, and
 * TRACK_DEAD_BAND_DEG = 3 degrees of roll), probed just inside (0.027, 2.7°) and just outside
 * (0.033, 3.3°) each limit: {@link FacePipeline#nextTrackingCrop} must keep the current crop inside
 * and take the new one outside. The limits are written here as numbers, from the Python SDK, on
 * purpose: changing {@link FacePipeline#TRACK_DEAD_BAND} (e.g. to 0.04) or the rule fails this test
 * (the golden files' 1-px nudge alone does not), and tests/test_android_core.py checks that the Java
 * constants equal track.py's.
 *
 * <p>The face is the first real face of golden/landmarks.json (crop side ≈ 300 px, so 0.003 of it is
 * ≈ 0.9 px, far above the crops' 1/16-px snapping).
 */
public class TrackingDeadBandTest {

    /** track.py's TRACK_DEAD_BAND and TRACK_DEAD_BAND_DEG, as numbers. */
    private static final double PYTHON_DEAD_BAND = 0.03;
    private static final double PYTHON_DEAD_BAND_DEG = 3.0;
    /** How far inside / outside each limit the probes go, as a fraction of the limit. */
    private static final double[] PROBES = {0.9, 1.1};

    private static float[] points;
    private static CropTransform current;

    @BeforeClass
    public static void load() throws Exception {
        points = packedFloats(obj(list(Golden.load("landmarks.json").get("cases")).get(0)).get("frame_points"));
        current = FacePipeline.trackingCrop(points);
    }

    private static void assertRule(String what, double fraction, float[] moved) {
        CropTransform next = FacePipeline.nextTrackingCrop(current, moved);
        if (fraction <= 1.0) {
            assertSame(what + ": inside the dead band the crop is kept", current, next);
        } else {
            assertNotSame(what + ": outside the dead band the crop follows the face", current, next);
            assertArrayEquals(what, FacePipeline.trackingCrop(moved).matrix(), next.matrix(), 0.0);
        }
    }

    @Test
    public void aShiftOfThreePercentOfTheCropSideIsTheLimit() {
        double side = current.size() / current.scale(); // frame pixels
        for (double probe : PROBES) {
            for (int axis = 0; axis < 2; axis++) {
                float[] moved = points.clone();
                for (int i = axis; i < moved.length; i += 3) {
                    moved[i] += (float) (probe * PYTHON_DEAD_BAND * side);
                }
                assertRule("shift " + probe * PYTHON_DEAD_BAND + " of the side along axis " + axis, probe, moved);
            }
        }
    }

    @Test
    public void aScaleChangeOfThreePercentIsTheLimit() {
        float[] box = FacePipeline.box68(points);
        double cx = (box[0] + box[2]) / 2.0, cy = (box[1] + box[3]) / 2.0;
        for (double probe : PROBES) {
            for (int sign = -1; sign <= 1; sign += 2) {
                // the crop's scale (crop px per frame px) changes by the factor 1 + sign·fraction
                double fraction = probe * PYTHON_DEAD_BAND;
                double grow = 1.0 / (1.0 + sign * fraction);
                float[] moved = points.clone();
                for (int i = 0; i < moved.length; i += 3) {
                    moved[i] = (float) (cx + (moved[i] - cx) * grow);
                    moved[i + 1] = (float) (cy + (moved[i + 1] - cy) * grow);
                }
                assertRule("scale change " + sign * fraction, probe, moved);
            }
        }
    }

    @Test
    public void aRollChangeOfThreeDegreesIsTheLimit() {
        // turn only the outer eye corners (iBUG 36, 45: they set the crop's roll, not the 68-point box)
        double mx = (points[3 * 36] + points[3 * 45]) / 2.0, my = (points[3 * 36 + 1] + points[3 * 45 + 1]) / 2.0;
        for (double probe : PROBES) {
            for (int sign = -1; sign <= 1; sign += 2) {
                double a = Math.toRadians(sign * probe * PYTHON_DEAD_BAND_DEG);
                float[] moved = points.clone();
                for (int p : new int[] {36, 45}) {
                    double x = points[3 * p] - mx, y = points[3 * p + 1] - my;
                    moved[3 * p] = (float) (mx + x * Math.cos(a) - y * Math.sin(a));
                    moved[3 * p + 1] = (float) (my + x * Math.sin(a) + y * Math.cos(a));
                }
                assertArrayEquals("the eye corners stay inside the 68-point box",
                        FacePipeline.box68(points), FacePipeline.box68(moved), 0f);
                assertRule("roll change " + sign * probe * PYTHON_DEAD_BAND_DEG + " deg", probe, moved);
            }
        }
    }
}
