package dev.denseface.core;

import static dev.denseface.core.Golden.*;
import static org.junit.Assert.assertArrayEquals;
import static org.junit.Assert.assertEquals;

import java.util.Map;
import org.junit.BeforeClass;
import org.junit.Test;

/** The crop rule against golden/crop.json (denseface.crop, pose.roll_from_eyes, crop.detection_roll). */
public class CropGoldenTest {

    private static Map<String, Object> golden;

    @BeforeClass
    public static void load() throws Exception {
        golden = Golden.load("crop.json");
    }

    @Test
    public void constantsAreTheSdks() {
        Map<String, Object> conventions = obj(golden.get("conventions"));
        assertEquals(conventions.keySet(), Crop.BOX_CONVENTIONS.keySet());
        for (String name : conventions.keySet()) {
            assertArrayEquals(name, doubles(conventions.get(name)), Crop.BOX_CONVENTIONS.get(name), 0);
        }
        assertEquals((int) num(golden.get("model_input")), Crop.MODEL_INPUT);
        assertEquals(num(golden.get("landmark_box_scale")), Crop.LANDMARK_BOX_SCALE, 0);
    }

    @Test
    public void boxConventionsAndRollsGiveTheSdksCrops() {
        for (Object o : list(golden.get("square_cases"))) {
            Map<String, Object> c = obj(o);
            float[] box = floats(c.get("box"));
            String convention = (String) c.get("convention");
            double roll = num(c.get("roll"));
            String what = convention + " roll " + roll;
            double[] square = Crop.boxToSquare(box, convention, roll);
            double[] center = doubles(c.get("center"));
            assertEquals(what, center[0], square[0], 1e-9);
            assertEquals(what, center[1], square[1], 1e-9);
            assertEquals(what, num(c.get("side")), square[2], 1e-9);
            CropTransform crop = Crop.cropFromBox(box, convention, (int) num(c.get("size")), roll);
            assertArrayEquals(what, doubles(c.get("matrix")), crop.matrix(), 1e-9);
        }
    }

    @Test
    public void landmarkCropsAreTheSdks() {
        for (Object o : list(golden.get("landmark_cases"))) {
            Map<String, Object> c = obj(o);
            double[] points = doubles(c.get("points"));
            float[] p = new float[points.length];
            for (int i = 0; i < p.length; i++) {
                p[i] = (float) points[i];
            }
            CropTransform crop = Crop.cropFromLandmarks(p, 2, p.length / 2, (int) num(c.get("size")), num(c.get("roll")));
            // the golden used float64 points; float32 inputs move the box by < 1e-5 px
            assertArrayEquals(doubles(c.get("matrix")), crop.matrix(), 1e-4);
        }
    }

    @Test
    public void pointsMapToTheCropAndBack() {
        Map<String, Object> t = obj(golden.get("transform"));
        double[] center = doubles(t.get("center"));
        CropTransform crop = Crop.squareTransform(center[0], center[1], num(t.get("side")), (int) num(t.get("size")), num(t.get("roll")));
        assertArrayEquals(doubles(t.get("matrix")), crop.matrix(), 1e-12);
        assertEquals(num(t.get("scale")), crop.scale(), 1e-12);
        assertArrayEquals(floats(t.get("to_crop3")), crop.toCrop(floats(t.get("points3")), 3), 1e-3f);
        assertArrayEquals(floats(t.get("to_frame3")), crop.toFrame(floats(t.get("points3")), 3), 1e-3f);
        assertArrayEquals(floats(t.get("to_crop2")), crop.toCrop(floats(t.get("points2")), 2), 1e-3f);
        assertArrayEquals(floats(t.get("to_frame2")), crop.toFrame(floats(t.get("points2")), 2), 1e-3f);
    }

    @Test
    public void rollFromEyesIsTheSdks() {
        for (Object o : list(golden.get("roll_from_eyes"))) {
            Map<String, Object> c = obj(o);
            double[] right = doubles(c.get("right")), left = doubles(c.get("left"));
            assertEquals(num(c.get("roll")), HeadPose.rollFromEyes(right[0], right[1], left[0], left[1]), 1e-9);
        }
    }

    @Test
    public void detectionRollIsTheSdks() {
        for (Object o : list(golden.get("detection_roll"))) {
            Map<String, Object> c = obj(o);
            assertEquals(num(c.get("crop_roll")), FacePipeline.detectionRoll(num(c.get("eye_roll"))), 1e-9);
        }
    }

    @Test(expected = IllegalArgumentException.class)
    public void anUnknownConventionIsRejected() {
        Crop.cropFromBox(new float[] {0, 0, 10, 10}, "mtcnn", 120, 0);
    }

    @Test(expected = IllegalArgumentException.class)
    public void aDegenerateBoxIsRejected() {
        Crop.cropFromBox(new float[] {5, 5, 5.5f, 30}, "square", 120, 0);
    }
}
