package dev.denseface.core;

import static dev.denseface.core.Golden.*;
import static org.junit.Assert.assertArrayEquals;
import static org.junit.Assert.assertEquals;

import java.util.List;
import java.util.Map;
import org.junit.BeforeClass;
import org.junit.Test;

/**
 * Detection → crop → dequantization → frame points → pose → tracking crop, against
 * golden/landmarks.json (the SDK on synthetic int8 / uint8 / float32 model outputs).
 */
public class LandmarksGoldenTest {

    private static final float PX = (float) Tolerances.PX;
    private static final double DEG = Tolerances.DEG;
    private static Map<String, Object> golden;
    private static Topology topology;

    @BeforeClass
    public static void load() throws Exception {
        golden = Golden.load("landmarks.json");
        topology = Golden.topology();
    }

    static Detection detection(Map<String, Object> c) {
        Map<String, Object> d = obj(c.get("detection"));
        return new Detection(floats(d.get("box")), (float) num(d.get("score")), floats(d.get("keypoints")));
    }

    static float[] dequantized(Map<String, Object> c) {
        Object output = c.get("output");
        String dtype = dtype(output);
        if (dtype.equals("float32")) {
            return packedFloats(output);
        }
        return LandmarkDecoder.dequantize(packedBytes(output), dtype.equals("int8"), (float) num(c.get("scale")),
                (int) num(c.get("zero_point")));
    }

    private static List<Object> cases() {
        List<Object> cases = list(golden.get("cases"));
        // per detection (3): the bundled int8 model's raw output on its crop, and a synthetic output
        assertEquals("golden cases (two per detection)", 6, cases.size());
        return cases;
    }

    @Test
    public void detectionCropsAreTheSdks() {
        for (Object o : cases()) {
            Map<String, Object> c = obj(o);
            CropTransform crop = FacePipeline.detectionCrop(detection(c));
            assertEquals((int) num(c.get("crop_size")), crop.size());
            assertArrayEquals(doubles(c.get("crop_matrix")), crop.matrix(), Tolerances.MATRIX);
        }
    }

    @Test
    public void dequantizationIsTheSdks() {
        for (Object o : cases()) {
            Map<String, Object> c = obj(o);
            assertArrayEquals(dtype(c.get("output")), packedFloats(c.get("dequantized")), dequantized(c),
                    (float) Tolerances.DEQUANTIZED);
        }
    }

    @Test
    public void decodedPointsAreTheSdksTo1e3Px() {
        for (Object o : cases()) {
            Map<String, Object> c = obj(o);
            float[] output = dequantized(c);
            assertArrayEquals(packedFloats(c.get("crop_points")), LandmarkDecoder.toCropPoints(output), PX);
            CropTransform crop = FacePipeline.detectionCrop(detection(c));
            float[] points = LandmarkDecoder.decode(output, crop);
            assertArrayEquals(packedFloats(c.get("frame_points")), points, PX);
        }
    }

    @Test
    public void headPoseIsTheSdksTo1e3Degrees() {
        HeadPose pose = new HeadPose(topology);
        for (Object o : cases()) {
            Map<String, Object> c = obj(o);
            float[] points = packedFloats(c.get("frame_points"));
            assertArrayEquals(doubles(c.get("pose")), pose.headPose(points), DEG);
            HeadPose.Similarity fit = pose.fitSimilarity(points);
            assertEquals(num(c.get("similarity_scale")), fit.scale(), 1e-6 * fit.scale());
            assertArrayEquals(doubles(c.get("similarity_rotation")), fit.rotation(), 1e-6);
            assertArrayEquals(doubles(c.get("similarity_shift")), fit.shift(), 1e-3);
        }
    }

    @Test
    public void poseOfRotatedMeanShapeRecoversItsAngles() {
        HeadPose pose = new HeadPose(topology);
        double[] r = HeadPose.rotationFromAngles(31, -17, 48);
        float[] mean = topology.meanShape();
        float[] points = new float[mean.length];
        for (int i = 0; i < mean.length; i += 3) {
            for (int a = 0; a < 3; a++) {
                double v = 7.5 * (r[3 * a] * mean[i] + r[3 * a + 1] * mean[i + 1] + r[3 * a + 2] * mean[i + 2]);
                points[i + a] = (float) (a == 1 ? 240 - v : (a == 0 ? 320 + v : v)); // F = diag(1, -1, 1), shifted
            }
        }
        assertArrayEquals(new double[] {31, -17, 48}, pose.headPose(points), DEG);
        assertArrayEquals(new double[] {31, -17, 48}, HeadPose.anglesFromRotation(r), 1e-9);
    }

    @Test
    public void faceBoxTrackingCropAndTrackingTestAreTheSdks() {
        FacePipeline<Void> pipeline = new FacePipeline<>(topology, FacePipeline.Options.defaults());
        for (Object o : cases()) {
            Map<String, Object> c = obj(o);
            float[] points = packedFloats(c.get("frame_points"));
            Face face = pipeline.makeFace(points, 0.9f);
            assertArrayEquals(floats(c.get("box68")), face.box(), PX);
            assertArrayEquals(doubles(c.get("tracking_matrix")), FacePipeline.trackingCrop(points).matrix(), 1e-6);
            CropTransform crop = new CropTransform(doubles(c.get("crop_matrix")), (int) num(c.get("crop_size")));
            assertArrayEquals(doubles(c.get("next_from_crop_matrix")),
                    FacePipeline.nextTrackingCrop(crop, points).matrix(), 1e-6);
            float[] nudged = points.clone();
            for (int i = 0; i < nudged.length; i += 3) {
                nudged[i] += 1.0f;
            }
            assertArrayEquals(doubles(c.get("next_from_nudged_matrix")),
                    FacePipeline.nextTrackingCrop(FacePipeline.trackingCrop(nudged), points).matrix(), 1e-6);
            assertEquals(c.get("looks_tracked"), FacePipeline.looksTracked(packedFloats(c.get("crop_points"))));
        }
        Map<String, Object> lost = obj(golden.get("tracking_lost"));
        assertEquals(lost.get("looks_tracked"), FacePipeline.looksTracked(packedFloats(lost.get("crop_points"))));
        assertEquals(false, lost.get("looks_tracked"));
    }

    @Test
    public void quantizeRoundsHalfToEvenAndClips() {
        assertEquals((byte) 2, LandmarkDecoder.quantize(2.5f, true, 1f, 0));
        assertEquals((byte) 127, LandmarkDecoder.quantize(1000f, true, 1f, 0));
        assertEquals((byte) 0, LandmarkDecoder.quantize(-3f, false, 1f, 0));
        assertEquals((byte) 200, LandmarkDecoder.quantize(100f, false, 0.5f, 0));
    }

    @Test(expected = IllegalArgumentException.class)
    public void anOutputOfTheWrongSizeIsRejected() {
        LandmarkDecoder.toCropPoints(new float[468 * 3]);
    }
}
