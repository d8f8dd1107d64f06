package dev.denseface.core;

import static dev.denseface.core.Golden.*;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * The model-stage parity checks of the on-device test ({@code app/src/androidTest/.../ModelParityTest.kt}),
 * in plain Java so that CI compiles and exercises them ({@code ModelParityGoldenTest} feeds them the
 * golden outputs themselves, and perturbed ones that must fail).
 *
 * <p>Inputs: {@code detector.json}'s {@code input_rgb} (the Python SDK's letterboxed 128 × 128 RGB frame,
 * before the [-1, 1] scaling) and {@code landmarks.json}'s {@code crop_rgb} (its 120 × 120 crops, on
 * which the bundled int8 model gave the golden raw outputs). Expected: the SDK's detections and the
 * dequantized outputs, 520 frame points and head pose, to the {@link Tolerances} the JVM tests use.
 * Failures are {@link AssertionError}s naming the case and the largest difference.
 */
public final class ModelParity {

    private ModelParity() {}

    /** One frame of detector.json: the model input and what the SDK made of its outputs. */
    public static final class DetectorCase {
        public final String source;
        /** (inputSize, inputSize, 3) RGB bytes, row-major: feed {@code ImageOps.toSignedUnit} of them to the model. */
        public final byte[] inputRgb;
        public final int inputSize;
        public final Letterbox letterbox;
        public final float minScore;
        public final int maxFaces;
        /** The Python SDK's raw model outputs on this input (anchors × 16 and anchors). */
        public final float[] regressors;
        public final float[] logits;
        private final List<Object> detections;

        DetectorCase(Map<String, Object> c) {
            source = (String) c.get("source");
            Object input = c.get("input_rgb");
            if (input == null) {
                throw new IllegalStateException("detector.json has no input_rgb: regenerate it with android_demo/tools/make_golden.py");
            }
            int[] shape = shape(input);
            inputSize = shape[0];
            if (shape.length != 3 || shape[1] != inputSize || shape[2] != 3) {
                throw new IllegalStateException(source + ": input_rgb has shape " + java.util.Arrays.toString(shape));
            }
            inputRgb = packedBytes(input);
            letterbox = Letterbox.fit((int) num(c.get("height")), (int) num(c.get("width")), inputSize);
            minScore = (float) num(c.get("min_score"));
            maxFaces = (int) num(c.get("max_faces"));
            regressors = packedFloats(c.get("regressors"));
            logits = packedFloats(c.get("logits"));
            detections = list(c.get("detections"));
        }

        /** The number of faces the SDK found in this frame. */
        public int expectedFaces() {
            return detections.size();
        }
    }

    /** One bundled-model case of landmarks.json: the crop, the model's raw output and its decoding. */
    public static final class LandmarkCase {
        public final String label;
        /** (120, 120, 3) RGB bytes, row-major: the landmark model's input. */
        public final byte[] cropRgb;
        public final CropTransform crop;
        /** The SDK's dequantized model output on {@link #cropRgb} (1560 values). */
        public final float[] dequantized;
        public final float[] framePoints;
        public final double[] pose;

        LandmarkCase(String label, Map<String, Object> c) {
            this.label = label;
            Object image = c.get("crop_rgb");
            int[] shape = shape(image);
            int size = (int) num(c.get("crop_size"));
            if (shape.length != 3 || shape[0] != size || shape[1] != size || shape[2] != 3) {
                throw new IllegalStateException(label + ": crop_rgb has shape " + java.util.Arrays.toString(shape));
            }
            cropRgb = packedBytes(image);
            crop = new CropTransform(doubles(c.get("crop_matrix")), size);
            dequantized = packedFloats(c.get("dequantized"));
            framePoints = packedFloats(c.get("frame_points"));
            pose = doubles(c.get("pose"));
        }
    }

    /** The frames of a parsed detector.json (each with its {@code input_rgb}). */
    public static List<DetectorCase> detectorCases(Map<String, Object> detectorGolden) {
        List<DetectorCase> cases = new ArrayList<>();
        for (Object c : list(detectorGolden.get("cases"))) {
            cases.add(new DetectorCase(obj(c)));
        }
        return cases;
    }

    /** The cases of a parsed landmarks.json whose output came from the bundled model on a stored crop. */
    public static List<LandmarkCase> landmarkCases(Map<String, Object> landmarksGolden) {
        List<LandmarkCase> cases = new ArrayList<>();
        List<Object> all = list(landmarksGolden.get("cases"));
        for (int i = 0; i < all.size(); i++) {
            Map<String, Object> c = obj(all.get(i));
            if (c.get("crop_rgb") != null) {
                cases.add(new LandmarkCase("landmarks.json case " + i + " (" + c.get("output_source") + ")", c));
            }
        }
        if (cases.isEmpty()) {
            throw new IllegalStateException("landmarks.json has no crop_rgb: regenerate it with android_demo/tools/make_golden.py "
                    + "(with the bundled int8 model present)");
        }
        return cases;
    }

    /**
     * The sha256 (hex) of the landmark model that gave landmarks.json's real outputs: the on-device test
     * first checks that the APK carries this model (else its outputs cannot match: regenerate the goldens).
     */
    public static String landmarkModelSha256(Map<String, Object> landmarksGolden) {
        Object sha = landmarksGolden.get("model_sha256");
        if (!(sha instanceof String) || !((String) sha).matches("[0-9a-f]{64}")) {
            throw new IllegalStateException("landmarks.json has no model_sha256: regenerate it with android_demo/tools/make_golden.py");
        }
        return (String) sha;
    }

    /**
     * Checks the detector model's raw outputs on {@code c.inputRgb}, decoded by the core's
     * {@link BlazeFace}, against the SDK's detections.
     *
     * @return a one-line summary (faces, largest raw-output differences) for the test log
     */
    public static String checkDetectorOutputs(DetectorCase c, float[] regressors, float[] logits) {
        String raw = String.format(Locale.ROOT, "raw outputs vs Python: max |d regressor| %.3g, max |d logit| %.3g",
                maxDiff(c.regressors, regressors), maxDiff(c.logits, logits));
        List<Detection> decoded = new BlazeFace(DetectorSpec.SHORT).decode(regressors, logits, c.letterbox, c.minScore, c.maxFaces);
        checkDetections(c, decoded, raw);
        return c.source + ": " + decoded.size() + " face(s) match; " + raw;
    }

    /** Checks detections (frame pixels) against the SDK's for this frame; {@code note} goes into failure messages. */
    public static void checkDetections(DetectorCase c, List<Detection> actual, String note) {
        if (actual.size() != c.detections.size()) {
            throw new AssertionError(c.source + ": " + actual.size() + " detection(s), the Python SDK found "
                    + c.detections.size() + " (" + note + ")");
        }
        for (int i = 0; i < actual.size(); i++) {
            Map<String, Object> e = obj(c.detections.get(i));
            Detection d = actual.get(i);
            String what = c.source + ": detection " + i;
            within(what + " box", floats(e.get("box")), d.box(), Tolerances.PX, note);
            within(what + " keypoints", floats(e.get("keypoints")), d.keypoints(), Tolerances.PX, note);
            within(what + " score", new float[] {(float) num(e.get("score"))}, new float[] {d.score()}, Tolerances.SCORE, note);
        }
    }

    /**
     * Checks the landmark model's dequantized output on {@code c.cropRgb} against the SDK's (exactly),
     * then its decoding to frame points and the head pose.
     *
     * @return a one-line summary for the test log
     */
    public static String checkLandmarks(LandmarkCase c, float[] dequantized, HeadPose headPose) {
        double diff = maxDiff(c.dequantized, dequantized);
        String note = String.format(Locale.ROOT, "max |d output| %.3g", diff);
        within(c.label + ": dequantized model output", c.dequantized, dequantized, Tolerances.DEQUANTIZED, note);
        float[] points = LandmarkDecoder.decode(dequantized, c.crop);
        within(c.label + ": 520 frame points", c.framePoints, points, Tolerances.PX, note);
        double[] pose = headPose.headPose(points);
        for (int i = 0; i < 3; i++) {
            if (!(Math.abs(pose[i] - c.pose[i]) <= Tolerances.DEG)) {
                throw new AssertionError(String.format(Locale.ROOT, "%s: head pose %s, Python %s (tolerance %s deg)",
                        c.label, java.util.Arrays.toString(pose), java.util.Arrays.toString(c.pose), Tolerances.DEG));
            }
        }
        return c.label + ": output, points and pose match; " + note;
    }

    /** The largest |expected − actual| (infinite for a length mismatch or a NaN on one side only). */
    public static double maxDiff(float[] expected, float[] actual) {
        if (expected.length != actual.length) {
            return Double.POSITIVE_INFINITY;
        }
        double worst = 0;
        for (int i = 0; i < expected.length; i++) {
            if (Float.isNaN(expected[i]) != Float.isNaN(actual[i])) {
                return Double.POSITIVE_INFINITY;
            }
            if (!Float.isNaN(expected[i])) {
                worst = Math.max(worst, Math.abs((double) expected[i] - actual[i]));
            }
        }
        return worst;
    }

    private static void within(String what, float[] expected, float[] actual, double tolerance, String note) {
        if (expected.length != actual.length) {
            throw new AssertionError(what + ": " + actual.length + " values, expected " + expected.length);
        }
        for (int i = 0; i < expected.length; i++) {
            double diff = Math.abs((double) expected[i] - actual[i]);
            if (!(diff <= tolerance) && !(Float.isNaN(expected[i]) && Float.isNaN(actual[i]))) {
                throw new AssertionError(String.format(Locale.ROOT,
                        "%s: value %d is %s, Python %s (|diff| %.3g > tolerance %s; largest |diff| %.3g; %s)",
                        what, i, actual[i], expected[i], diff, tolerance, maxDiff(expected, actual), note));
            }
        }
    }
}
