package dev.denseface.demo

import android.util.Log
import androidx.test.ext.junit.runners.AndroidJUnit4
import androidx.test.platform.app.InstrumentationRegistry
import dev.denseface.core.Golden
import dev.denseface.core.HeadPose
import dev.denseface.core.ModelParity
import dev.denseface.core.Topology
import dev.denseface.demo.ml.Device
import dev.denseface.demo.ml.FaceDetector
import dev.denseface.demo.ml.LandmarkModel
import java.security.MessageDigest
import org.junit.Assert.assertEquals
import org.junit.Test
import org.junit.runner.RunWith

/**
 * On-device parity with the Python SDK: `./gradlew connectedAndroidTest` with a phone attached.
 *
 * Both models run through LiteRT on the phone, on the CPU with XNNPACK (the app's default), through the
 * app's own classes ([FaceDetector], [LandmarkModel]: tensor layout, [-1, 1] scaling, int8 input
 * quantization, dequantization), on the inputs the golden files store: `detector.json`'s letterboxed
 * 128 × 128 frames (`input_rgb`) and `landmarks.json`'s 120 × 120 crops (`crop_rgb`). The results are
 * compared with the Python SDK's by [ModelParity] (shared with the JVM tests, which run it in CI on the
 * golden outputs) to the same [dev.denseface.core.Tolerances] as the JVM core's tests: detections to
 * 1e-3 px and scores to 1e-6; the landmark model's dequantized output exactly, the 520 points to 1e-3 px,
 * the pose to 1e-3°. The golden files are this test APK's assets straight from
 * `core/src/test/resources` (app/build.gradle.kts), not copies. The GPU and NNAPI delegates are not
 * checked here (they compute in other precisions); see the README's benchmark mode for them.
 */
@RunWith(AndroidJUnit4::class)
class ModelParityTest {

    private val instrumentation = InstrumentationRegistry.getInstrumentation()
    private val app = instrumentation.targetContext // the app under test: its models and topology.bin
    private val testApk = instrumentation.context // this test APK: assets/golden/*.json

    private fun golden(name: String) = testApk.assets.open("golden/$name").use { Golden.parse(it) }

    @Test
    fun detectorOnLiteRtGivesThePythonDetections() {
        var faces = 0
        for (case in ModelParity.detectorCases(golden("detector.json"))) {
            FaceDetector.create(app, Device.CPU, maxFaces = case.maxFaces, minScore = case.minScore).use { detector ->
                val raw = detector.runModel(case.inputRgb)
                Log.i(TAG, ModelParity.checkDetectorOutputs(case, raw.regressors, raw.logits))
                // the app's own path from the letterboxed input to detections gives the same
                ModelParity.checkDetections(case, detector.detectLetterboxed(case.inputRgb, case.letterbox),
                    "FaceDetector.detectLetterboxed")
            }
            faces += case.expectedFaces()
        }
        assertEquals("faces in the golden frames", 3, faces)
    }

    @Test
    fun landmarkModelOnLiteRtGivesThePythonPointsAndPose() {
        val landmarks = golden("landmarks.json")
        val apkModel = app.assets.open(LandmarkModel.MODEL_ASSET).use { sha256(it.readBytes()) }
        assertEquals("the APK's ${LandmarkModel.MODEL_ASSET} is not the model landmarks.json was made with " +
            "(built with -Pdenseface.model, or retrained): run android_demo/tools/make_golden.py, then rebuild",
            ModelParity.landmarkModelSha256(landmarks), apkModel)
        val headPose = HeadPose(app.assets.open(TOPOLOGY_ASSET).use { Topology.read(it) })
        val cases = ModelParity.landmarkCases(landmarks)
        LandmarkModel.create(app, Device.CPU).use { model ->
            for (case in cases) {
                Log.i(TAG, ModelParity.checkLandmarks(case, model.runOnCrop(case.cropRgb), headPose))
            }
        }
        assertEquals("bundled-model crops in landmarks.json", 3, cases.size)
    }

    private fun sha256(bytes: ByteArray): String =
        MessageDigest.getInstance("SHA-256").digest(bytes).joinToString("") { "%02x".format(it) }

    private companion object {
        const val TAG = "DenseFaceParity"
        const val TOPOLOGY_ASSET = "topology.bin"
    }
}
