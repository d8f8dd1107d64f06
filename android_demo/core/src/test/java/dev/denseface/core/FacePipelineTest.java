package dev.denseface.core;

import static dev.denseface.core.Golden.*;
import static org.junit.Assert.assertArrayEquals;
import static org.junit.Assert.assertEquals;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.Test;

/** How the stages compose (api.py's image mode, track.py's video mode), with the models replaced by golden outputs. */
public class FacePipelineTest {

    /** Stages returning the golden detection and, for any crop, the golden model output; counts calls. */
    private static final class GoldenStages implements FacePipeline.Stages<Object> {
        final List<Detection> detections = new ArrayList<>();
        float[] output;
        int detectCalls;
        int landmarkCalls;

        @Override
        public List<Detection> detect(Object frame) {
            detectCalls++;
            return detections;
        }

        @Override
        public float[] landmarks(Object frame, CropTransform crop) {
            landmarkCalls++;
            return output;
        }
    }

    private static Map<String, Object> firstCase() throws Exception {
        return obj(list(Golden.load("landmarks.json").get("cases")).get(0));
    }

    @Test
    public void imageModeGivesTheSdksPointsAndPose() throws Exception {
        Map<String, Object> c = firstCase();
        GoldenStages stages = new GoldenStages();
        stages.detections.add(LandmarksGoldenTest.detection(c));
        stages.output = LandmarksGoldenTest.dequantized(c);
        FacePipeline<Object> pipeline = new FacePipeline<>(Golden.topology(), FacePipeline.Options.defaults());
        List<Face> faces = pipeline.landmarks(new Object(), stages);
        assertEquals(1, faces.size());
        assertArrayEquals(packedFloats(c.get("frame_points")), faces.get(0).points(), 1e-3f);
        assertArrayEquals(doubles(c.get("pose")), faces.get(0).pose(), 1e-3);
        assertEquals(3 * 68, faces.get(0).points68().length);
    }

    @Test
    public void videoModeTracksWithoutTheDetectorThenRedetects() throws Exception {
        Map<String, Object> c = firstCase();
        GoldenStages stages = new GoldenStages();
        stages.detections.add(LandmarksGoldenTest.detection(c));
        stages.output = LandmarksGoldenTest.dequantized(c);
        FacePipeline<Object> pipeline = new FacePipeline<>(Golden.topology(), new FacePipeline.Options(1, 1.0, 0.05, 3));
        for (int frame = 0; frame < 4; frame++) {
            assertEquals(1, pipeline.landmarksForVideo(new Object(), 33.0 * frame, stages).size());
        }
        assertEquals("detector on frames 0 and 3 (interval 3)", 2, stages.detectCalls);
        assertEquals(4, stages.landmarkCalls);
        // the first frame of a track passes through the smoother unchanged
        pipeline.reset();
        List<Face> faces = pipeline.landmarksForVideo(new Object(), 1000.0, stages);
        assertArrayEquals(packedFloats(c.get("frame_points")), faces.get(0).points(), 1e-3f);
    }

    @Test
    public void aLostTrackTriggersDetectionInTheSameFrame() throws Exception {
        Map<String, Object> c = firstCase();
        GoldenStages stages = new GoldenStages();
        stages.detections.add(LandmarksGoldenTest.detection(c));
        stages.output = LandmarksGoldenTest.dequantized(c);
        FacePipeline<Object> pipeline = new FacePipeline<>(Golden.topology(), new FacePipeline.Options(1, 1.0, 0.05, 0));
        pipeline.landmarksForVideo(new Object(), 0, stages);
        float[] lost = LandmarksGoldenTest.dequantized(c).clone();
        java.util.Arrays.fill(lost, Float.NaN);
        stages.output = lost;
        assertEquals(0, pipeline.landmarksForVideo(new Object(), 33, stages).size());
        assertEquals("initial detection + the re-detection after the loss", 2, stages.detectCalls);
    }

    @Test(expected = IllegalArgumentException.class)
    public void timestampsMustIncrease() throws Exception {
        GoldenStages stages = new GoldenStages();
        FacePipeline<Object> pipeline = new FacePipeline<>(Golden.topology(), FacePipeline.Options.defaults());
        pipeline.landmarksForVideo(new Object(), 5, stages);
        pipeline.landmarksForVideo(new Object(), 5, stages);
    }
}
