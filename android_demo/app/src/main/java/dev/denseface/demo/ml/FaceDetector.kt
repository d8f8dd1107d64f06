package dev.denseface.demo.ml

import android.content.Context
import dev.denseface.core.BlazeFace
import dev.denseface.core.Detection
import dev.denseface.core.DetectorSpec
import dev.denseface.core.ImageOps
import dev.denseface.core.Letterbox
import dev.denseface.demo.data.Frame
import java.nio.ByteBuffer
import java.nio.ByteOrder
import org.tensorflow.lite.DataType

/**
 * MediaPipe's short-range BlazeFace on LiteRT; all decoding is the JVM core's [BlazeFace] (tested
 * against the Python SDK). Not thread-safe: one instance per thread.
 */
class FaceDetector private constructor(
    private val loaded: LoadedInterpreter,
    private val minScore: Float,
    private val maxFaces: Int,
) : AutoCloseable {

    private val spec = DetectorSpec.SHORT
    private val decoder = BlazeFace(spec)
    private val size = spec.inputSize()
    private val rgb = ByteArray(size * size * 3)
    private val values = FloatArray(size * size * 3)
    private val input = ByteBuffer.allocateDirect(4 * values.size).order(ByteOrder.nativeOrder())
    private val regressorIndex: Int
    private val scoreIndex: Int
    private val regressorBuffer: ByteBuffer
    private val scoreBuffer: ByteBuffer
    private val regressors = FloatArray(decoder.anchorCount() * DetectorSpec.REGRESSOR_SIZE)
    private val logits = FloatArray(decoder.anchorCount())

    /** Where the model actually runs. */
    val device: Device get() = loaded.device

    init {
        val interpreter = loaded.interpreter
        val inputTensor = interpreter.getInputTensor(0)
        require(inputTensor.shape().contentEquals(intArrayOf(1, size, size, 3)) && inputTensor.dataType() == DataType.FLOAT32) {
            "$MODEL_ASSET has input ${inputTensor.shape().contentToString()} ${inputTensor.dataType()}; " +
                "expected [1, $size, $size, 3] FLOAT32 (is this the short-range BlazeFace?)"
        }
        val shapes = (0 until interpreter.outputTensorCount).map { interpreter.getOutputTensor(it).shape() }
        val count = decoder.anchorCount()
        regressorIndex = shapes.indexOfFirst { it.contentEquals(intArrayOf(1, count, DetectorSpec.REGRESSOR_SIZE)) }
        scoreIndex = shapes.indexOfFirst { it.contentEquals(intArrayOf(1, count, 1)) }
        require(regressorIndex >= 0 && scoreIndex >= 0) {
            "$MODEL_ASSET outputs ${shapes.map { it.contentToString() }}; expected [1, $count, 16] and [1, $count, 1]"
        }
        regressorBuffer = ByteBuffer.allocateDirect(4 * regressors.size).order(ByteOrder.nativeOrder())
        scoreBuffer = ByteBuffer.allocateDirect(4 * logits.size).order(ByteOrder.nativeOrder())
    }

    /** Why the requested GPU / NNAPI delegate is not used (the model runs on the CPU); null when it is. */
    val fallbackReason: String? get() = loaded.fallbackReason

    /** The model's raw outputs on one letterboxed input (see [runModel]). */
    class RawOutputs(val regressors: FloatArray, val logits: FloatArray)

    /** Faces in [frame], in frame pixels, by descending score (at most maxFaces); empty when none. */
    fun detect(frame: Frame): List<Detection> {
        val letterbox = Letterbox.fit(frame.height, frame.width, size)
        ImageOps.letterboxToRgb(frame.argb, frame.width, frame.height, letterbox, rgb)
        return detectLetterboxed(rgb, letterbox)
    }

    /**
     * Faces in a frame already letterboxed by [letterbox] into [letterboxedRgb] (size × size × 3 RGB
     * bytes, row-major, as ImageOps.letterboxToRgb writes them), in the frame's pixels.
     */
    fun detectLetterboxed(letterboxedRgb: ByteArray, letterbox: Letterbox): List<Detection> {
        infer(letterboxedRgb)
        return decoder.decode(regressors, logits, letterbox, minScore, maxFaces)
    }

    /** The model's raw outputs (copies: anchors × 16 regressors, anchors logits) on a letterboxed RGB input. */
    fun runModel(letterboxedRgb: ByteArray): RawOutputs {
        infer(letterboxedRgb)
        return RawOutputs(regressors.copyOf(), logits.copyOf())
    }

    private fun infer(letterboxedRgb: ByteArray) {
        require(letterboxedRgb.size == size * size * 3) { "the detector takes $size x $size x 3 bytes, got ${letterboxedRgb.size}" }
        ImageOps.toSignedUnit(letterboxedRgb, values)
        input.rewind()
        input.asFloatBuffer().put(values)
        regressorBuffer.rewind()
        scoreBuffer.rewind()
        loaded.interpreter.runForMultipleInputsOutputs(
            arrayOf<Any>(input), mapOf<Int, Any>(regressorIndex to regressorBuffer, scoreIndex to scoreBuffer))
        regressorBuffer.rewind()
        regressorBuffer.asFloatBuffer().get(regressors)
        scoreBuffer.rewind()
        scoreBuffer.asFloatBuffer().get(logits)
    }

    override fun close() = loaded.close()

    companion object {
        /** Put into the APK's assets by the copyDetector Gradle task. */
        const val MODEL_ASSET = "face_detection_short_range.tflite"

        /**
         * Load the detector.
         *
         * @param device CPU (XNNPACK), GPU or NNAPI (falls back to the CPU when the delegate fails; see
         *     [FaceDetector.device] and [FaceDetector.fallbackReason])
         * @param maxFaces most detections per frame (>= 1)
         * @param minScore minimum score in (0, 1)
         * @throws IllegalArgumentException for a bad option or a model that is not the short-range BlazeFace
         */
        fun create(context: Context, device: Device, maxFaces: Int = 1, minScore: Float = 0.5f, numThreads: Int = 2): FaceDetector {
            require(maxFaces >= 1) { "maxFaces must be >= 1, got $maxFaces" }
            require(minScore > 0f && minScore < 1f) { "minScore must be in (0, 1), got $minScore" }
            val loaded = loadInterpreter(context, MODEL_ASSET, device, numThreads)
            return try {
                FaceDetector(loaded, minScore, maxFaces)
            } catch (error: IllegalArgumentException) {
                loaded.close()
                throw error
            }
        }
    }
}
