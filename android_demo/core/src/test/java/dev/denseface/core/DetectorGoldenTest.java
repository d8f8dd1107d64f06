package dev.denseface.core;

import static dev.denseface.core.Golden.*;
import static org.junit.Assert.assertArrayEquals;
import static org.junit.Assert.assertEquals;

import java.util.List;
import java.util.Map;
import org.junit.BeforeClass;
import org.junit.Test;

/** BlazeFace anchors, letterbox and decoding against golden/detector.json (the real model's outputs, decoded by the SDK). */
public class DetectorGoldenTest {

    private static final double PX = Tolerances.PX;
    private static Map<String, Object> golden;

    @BeforeClass
    public static void load() throws Exception {
        golden = Golden.load("detector.json");
    }

    @Test
    public void anchorsMatchTheSdkForBothSpecs() {
        for (String kind : new String[] {"short", "full"}) {
            Map<String, Object> expected = obj(obj(golden.get("specs")).get(kind));
            DetectorSpec spec = DetectorSpec.forKind(kind);
            assertEquals(kind, (int) num(expected.get("input_size")), spec.inputSize());
            assertEquals(kind, (int) num(expected.get("anchors_per_layer")), spec.anchorsPerLayer());
            assertEquals(kind, num(expected.get("box_scale")), spec.boxScale(), 0);
            double[] strides = doubles(expected.get("strides"));
            assertEquals(kind, strides.length, spec.strides().length);
            for (int i = 0; i < strides.length; i++) {
                assertEquals(kind, (int) strides[i], spec.strides()[i]);
            }
            float[] anchors = BlazeFace.ssdAnchors(spec.inputSize(), spec.strides(), spec.anchorsPerLayer(), 0.5f);
            assertEquals(kind, (int) num(expected.get("count")), anchors.length / 4);
            assertEquals(kind, anchors.length / 4, spec.anchorCount());
            int step = (int) num(expected.get("row_step"));
            float[] sampled = new float[4 * ((anchors.length / 4 + step - 1) / step)];
            for (int row = 0; row < anchors.length / 4; row += step) {
                System.arraycopy(anchors, 4 * row, sampled, 4 * (row / step), 4);
            }
            assertArrayEquals(kind, packedFloats(expected.get("anchors")), sampled, 0f);
        }
    }

    @Test
    public void letterboxMatchesTheSdk() {
        for (Object c : list(golden.get("cases"))) {
            Map<String, Object> expected = obj(obj(c).get("letterbox"));
            Letterbox letterbox = Letterbox.fit((int) num(obj(c).get("height")), (int) num(obj(c).get("width")), 128);
            assertEquals(num(expected.get("scale_x")), letterbox.scaleX(), 1e-12);
            assertEquals(num(expected.get("scale_y")), letterbox.scaleY(), 1e-12);
            assertEquals((int) num(expected.get("pad_x")), letterbox.padX());
            assertEquals((int) num(expected.get("pad_y")), letterbox.padY());
        }
    }

    @Test
    public void decodingRawOutputsReproducesTheSdksDetections() {
        BlazeFace decoder = new BlazeFace(DetectorSpec.SHORT);
        int faces = 0;
        for (Object o : list(golden.get("cases"))) {
            Map<String, Object> c = obj(o);
            String source = (String) c.get("source");
            Letterbox letterbox = Letterbox.fit((int) num(c.get("height")), (int) num(c.get("width")), 128);
            List<Detection> detections = decoder.decode(packedFloats(c.get("regressors")), packedFloats(c.get("logits")),
                    letterbox, (float) num(c.get("min_score")), (int) num(c.get("max_faces")));
            List<Object> expected = list(c.get("detections"));
            assertEquals(source + ": detections", expected.size(), detections.size());
            for (int i = 0; i < expected.size(); i++) {
                Map<String, Object> e = obj(expected.get(i));
                Detection d = detections.get(i);
                assertArrayEquals(source + ": box " + i, floats(e.get("box")), d.box(), (float) PX);
                assertArrayEquals(source + ": keypoints " + i, floats(e.get("keypoints")), d.keypoints(), (float) PX);
                assertEquals(source + ": score " + i, num(e.get("score")), d.score(), Tolerances.SCORE);
                faces++;
            }
        }
        assertEquals("faces in the golden frames", 3, faces);
    }

    @Test
    public void weightedNmsMatchesTheSdkAcrossOverlaps() {
        for (Object o : list(golden.get("nms_cases"))) {
            Map<String, Object> c = obj(o);
            float[] boxes = packedFloats(c.get("boxes")), scores = packedFloats(c.get("scores"));
            float[] keypoints = packedFloats(c.get("keypoints"));
            int k = 2 * DetectorSpec.NUM_KEYPOINTS;
            List<BlazeFace.Candidate> candidates = new java.util.ArrayList<>();
            for (int i = 0; i < scores.length; i++) {
                candidates.add(new BlazeFace.Candidate(java.util.Arrays.copyOfRange(boxes, 4 * i, 4 * i + 4), scores[i],
                        java.util.Arrays.copyOfRange(keypoints, k * i, k * i + k)));
            }
            List<BlazeFace.Candidate> kept = BlazeFace.weightedNms(candidates, BlazeFace.NMS_THRESHOLD, (int) num(c.get("max_results")));
            float[] expectedScores = packedFloats(c.get("expected_scores"));
            float[] expectedBoxes = packedFloats(c.get("expected_boxes"));
            float[] expectedKeypoints = packedFloats(c.get("expected_keypoints"));
            assertEquals("results", expectedScores.length, kept.size());
            for (int i = 0; i < kept.size(); i++) {
                assertEquals(expectedScores[i], kept.get(i).score(), 0f);
                assertArrayEquals(java.util.Arrays.copyOfRange(expectedBoxes, 4 * i, 4 * i + 4), kept.get(i).box(), 1e-6f);
                assertArrayEquals(java.util.Arrays.copyOfRange(expectedKeypoints, k * i, k * i + k), kept.get(i).keypoints(), 1e-6f);
            }
        }
    }

    @Test
    public void noCandidateAboveTheThresholdGivesNoDetection() {
        BlazeFace decoder = new BlazeFace(DetectorSpec.SHORT);
        float[] logits = new float[896];
        java.util.Arrays.fill(logits, -5f);
        List<Detection> detections = decoder.decode(new float[896 * 16], logits, Letterbox.fit(480, 640, 128), 0.5f, 3);
        assertEquals(0, detections.size());
    }

    @Test(expected = IllegalArgumentException.class)
    public void outputsOfTheWrongDetectorAreRejected() {
        new BlazeFace(DetectorSpec.SHORT).decode(new float[2304 * 16], new float[2304], Letterbox.fit(10, 10, 128), 0.5f, 1);
    }
}
