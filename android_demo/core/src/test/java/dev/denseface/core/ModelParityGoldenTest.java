package dev.denseface.core;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertTrue;
import static org.junit.Assert.fail;

import java.util.List;
import java.util.Map;
import org.junit.BeforeClass;
import org.junit.Test;

/**
 * The checks the app's on-device parity test runs ({@link ModelParity}, used by
 * app/src/androidTest/.../ModelParityTest.kt on LiteRT's outputs), exercised here on the golden
 * outputs themselves (they must pass) and on slightly wrong ones (they must fail), so the device test
 * compares what it claims to and its inputs are in the golden files.
 */
public class ModelParityGoldenTest {

    private static String modelSha256;
    private static List<ModelParity.DetectorCase> detectorCases;
    private static List<ModelParity.LandmarkCase> landmarkCases;
    private static HeadPose headPose;

    @BeforeClass
    public static void load() throws Exception {
        detectorCases = ModelParity.detectorCases(Golden.load("detector.json"));
        Map<String, Object> landmarks = Golden.load("landmarks.json");
        landmarkCases = ModelParity.landmarkCases(landmarks);
        modelSha256 = ModelParity.landmarkModelSha256(landmarks);
        headPose = new HeadPose(Golden.topology());
    }

    @Test
    public void theGoldenFilesHoldTheModelInputs() {
        assertEquals(2, detectorCases.size());
        for (ModelParity.DetectorCase c : detectorCases) {
            assertEquals(DetectorSpec.SHORT.inputSize(), c.inputSize);
            assertEquals(c.inputSize * c.inputSize * 3, c.inputRgb.length);
        }
        assertEquals("one bundled-model crop per detection", 3, landmarkCases.size());
        assertEquals(64, modelSha256.length());
        for (ModelParity.LandmarkCase c : landmarkCases) {
            assertEquals(Crop.MODEL_INPUT * Crop.MODEL_INPUT * 3, c.cropRgb.length);
        }
    }

    @Test
    public void thePythonOutputsPassTheDeviceChecks() {
        int faces = 0;
        for (ModelParity.DetectorCase c : detectorCases) {
            assertTrue(ModelParity.checkDetectorOutputs(c, c.regressors, c.logits).contains("match"));
            faces += c.expectedFaces();
        }
        assertEquals(3, faces);
        for (ModelParity.LandmarkCase c : landmarkCases) {
            assertTrue(ModelParity.checkLandmarks(c, c.dequantized.clone(), headPose).contains("match"));
        }
    }

    @Test
    public void aDetectorOutputOffByAFractionOfAPixelFails() {
        ModelParity.DetectorCase c = detectorCases.get(0);
        float[] shifted = c.regressors.clone();
        for (int i = 0; i < shifted.length; i += DetectorSpec.REGRESSOR_SIZE) {
            shifted[i] += 0.01f; // box centre x, 128-px input units: ~0.035 frame px
        }
        try {
            ModelParity.checkDetectorOutputs(c, shifted, c.logits);
        } catch (AssertionError expected) {
            assertTrue(expected.getMessage(), expected.getMessage().contains("box"));
            return;
        }
        fail("a 0.035 px shift passed the detector check");
    }

    @Test
    public void aLandmarkOutputOneQuantizationStepOffFails() {
        ModelParity.LandmarkCase c = landmarkCases.get(0);
        float[] output = c.dequantized.clone();
        output[100] += 0.006f; // about one int8 step of the bundled model's output
        try {
            ModelParity.checkLandmarks(c, output, headPose);
        } catch (AssertionError expected) {
            assertTrue(expected.getMessage(), expected.getMessage().contains("dequantized"));
            return;
        }
        fail("an output one quantization step off passed the landmark check");
    }
}
