package dev.denseface.core;

import static dev.denseface.core.Golden.*;
import static org.junit.Assert.assertArrayEquals;
import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertFalse;
import static org.junit.Assert.assertTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.Test;

/** How the stages compose (api.py's image mode, track.py's video mode), with the models replaced by golden outputs. */
public class FacePipelineTest {

    /**
     * Stages returning the golden detection and, for any crop, the golden model output and the crop
     * pixels {@code cropRgb} (a seeded texture unless a test changes them) of a 4096 × 4096 frame; counts calls.
     */
    private static final class GoldenStages implements FacePipeline.Stages<Object> {
        final List<Detection> detections = new ArrayList<>();
        float[] output;
        byte[] cropRgb = texture(1);
        int detectCalls;
        int landmarkCalls;

        @Override
        public List<Detection> detect(Object frame) {
            detectCalls++;
            return detections;
        }

        @Override
        public int width(Object frame) {
            return 4096;
        }

        @Override
        public int height(Object frame) {
            return 4096;
        }

        @Override
        public byte[] crop(Object frame, CropTransform crop) {
            return cropRgb;
        }

        @Override
        public float[] landmarks(byte[] rgb) {
            landmarkCalls++;
            return output;
        }
    }

    /** A 120 × 120 × 3 crop of seeded random pixels. */
    private static byte[] texture(long seed) {
        byte[] rgb = new byte[Crop.MODEL_INPUT * Crop.MODEL_INPUT * 3];
        new java.util.Random(seed).nextBytes(rgb);
        return rgb;
    }

    /** Stages that detect the golden case's face and give its model output for every crop. */
    private static GoldenStages withTheFace(Map<String, Object> c) {
        GoldenStages stages = new GoldenStages();
        stages.detections.add(LandmarksGoldenTest.detection(c));
        stages.output = LandmarksGoldenTest.dequantized(c);
        return stages;
    }

    private static Map<String, Object> firstCase() throws Exception {
        return obj(list(Golden.load("landmarks.json").get("cases")).get(0));
    }

    @Test
    public void imageModeGivesTheSdksPointsAndPose() throws Exception {
        Map<String, Object> c = firstCase();
        GoldenStages stages = withTheFace(c);
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
        GoldenStages stages = withTheFace(c);
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
        GoldenStages stages = withTheFace(c);
        FacePipeline<Object> pipeline = new FacePipeline<>(Golden.topology(), new FacePipeline.Options(1, 1.0, 0.05, 0));
        pipeline.landmarksForVideo(new Object(), 0, stages);
        float[] lost = LandmarksGoldenTest.dequantized(c).clone();
        java.util.Arrays.fill(lost, Float.NaN);
        stages.output = lost;
        assertEquals(0, pipeline.landmarksForVideo(new Object(), 33, stages).size());
        assertEquals("initial detection + the re-detection after the loss", 2, stages.detectCalls);
    }

    @Test
    public void aTrackWhoseCropNoLongerShowsTheFaceEndsUnlessTheDetectorConfirmsIt() throws Exception {
        Map<String, Object> c = firstCase();
        GoldenStages stages = withTheFace(c);
        FacePipeline<Object> pipeline = new FacePipeline<>(Golden.topology(), FacePipeline.Options.defaults());
        for (int frame = 0; frame < 3; frame++) {
            assertEquals(1, pipeline.landmarksForVideo(new Object(), 33.0 * frame, stages).size());
        }
        assertEquals("the same crop content: tracked without the detector", 1, stages.detectCalls);
        stages.cropRgb = texture(2); // another picture in the crop, the face still detected there: kept
        assertEquals(1, pipeline.landmarksForVideo(new Object(), 100, stages).size());
        assertEquals(2, stages.detectCalls);
        stages.cropRgb = new byte[stages.cropRgb.length]; // the face gone (uniform grey), the detector finds nothing
        java.util.Arrays.fill(stages.cropRgb, (byte) 128);
        stages.detections.clear();
        assertEquals("no ghost on the first frame without the face", 0,
                pipeline.landmarksForVideo(new Object(), 133, stages).size());
    }

    @Test
    public void thumbnailsAndTheirCellsInsideTheFrame() {
        // a 120-px crop at scale 1 centred on the frame's left edge: columns 0..7 of cells lie outside
        CropTransform edge = Crop.squareTransform(0.0, 240.0, 120.0, 120, 0.0);
        boolean[] cells = FacePipeline.frameCells(edge, 640, 480);
        for (int i = 0; i < cells.length; i++) {
            assertEquals("cell " + i, i % 15 >= 8, cells[i]);
        }
        byte[] grey = new byte[120 * 120 * 3];
        java.util.Arrays.fill(grey, (byte) 128);
        float[] flat = FacePipeline.appearance(grey, cells);
        assertFalse("a uniform crop has no texture", FacePipeline.sameContent(flat, flat));
        float[] look = FacePipeline.appearance(texture(3), cells);
        assertTrue(FacePipeline.sameContent(look, look));
        assertEquals(0f, look[0], 0f); // outside the frame
    }

    @Test(expected = IllegalArgumentException.class)
    public void timestampsMustIncrease() throws Exception {
        GoldenStages stages = new GoldenStages();
        FacePipeline<Object> pipeline = new FacePipeline<>(Golden.topology(), FacePipeline.Options.defaults());
        pipeline.landmarksForVideo(new Object(), 5, stages);
        pipeline.landmarksForVideo(new Object(), 5, stages);
    }
}
