package dev.denseface.demo.ml

import android.content.Context
import dev.denseface.core.Crop
import dev.denseface.core.CropTransform
import dev.denseface.core.ImageOps
import dev.denseface.core.LandmarkDecoder
import dev.denseface.demo.data.Frame
import java.nio.ByteBuffer
import java.nio.ByteOrder
import org.tensorflow.lite.DataType

/**
 * The DenseFace landmark model on LiteRT: a 120 × 120 uint8 RGB crop in, 1560 values out (520 points ×
 * (x, y, z) / 120 in crop pixels; see the JVM core's [LandmarkDecoder]). Handles uint8, int8 and float32
 * inputs and outputs as the Python SDK's infer.py does. Not thread-safe: one instance per thread.
 */
class LandmarkModel private constructor(private val loaded: LoadedInterpreter) : AutoCloseable {

    private val size = Crop.MODEL_INPUT
    private val crop = ByteArray(size * size * 3)
    private val inputType: DataType
    private val inputScale: Float
    private val inputZeroPoint: Int
    private val outputType: DataType
    private val outputScale: Float
    private val outputZeroPoint: Int
    private val input: ByteBuffer
    private val output: ByteBuffer
    private val outputBytes = ByteArray(LandmarkDecoder.OUTPUT_SIZE)
    private val outputFloats = FloatArray(LandmarkDecoder.OUTPUT_SIZE)

    /** Where the model actually runs. */
    val device: Device get() = loaded.device

    init {
        val interpreter = loaded.interpreter
        val inputTensor = interpreter.getInputTensor(0)
        require(interpreter.inputTensorCount == 1 && inputTensor.shape().contentEquals(intArrayOf(1, size, size, 3))) {
            "the landmark model has input ${inputTensor.shape().contentToString()}; a DenseFace landmark model takes " +
                "[1, $size, $size, 3] (is this the landmark model?)"
        }
        val outputTensor = interpreter.getOutputTensor(0)
        require(interpreter.outputTensorCount == 1 && outputTensor.numElements() == LandmarkDecoder.OUTPUT_SIZE) {
            "the landmark model has ${interpreter.outputTensorCount} output(s) of ${outputTensor.numElements()} values; " +
                "a DenseFace landmark model has one output of ${LandmarkDecoder.OUTPUT_SIZE} values"
        }
        inputType = inputTensor.dataType()
        outputType = outputTensor.dataType()
        require(inputType in SUPPORTED && outputType in SUPPORTED) {
            "unsupported tensor types $inputType -> $outputType; expected UINT8, INT8 or FLOAT32"
        }
        inputScale = inputTensor.quantizationParams().scale
        inputZeroPoint = inputTensor.quantizationParams().zeroPoint
        outputScale = outputTensor.quantizationParams().scale
        outputZeroPoint = outputTensor.quantizationParams().zeroPoint
        require(inputType != DataType.INT8 || inputScale > 0f) { "int8 input tensor without quantization parameters" }
        input = ByteBuffer.allocateDirect(inputTensor.numBytes()).order(ByteOrder.nativeOrder())
        output = ByteBuffer.allocateDirect(outputTensor.numBytes()).order(ByteOrder.nativeOrder())
    }

    /** Why the requested GPU / NNAPI delegate is not used (the model runs on the CPU); null when it is. */
    val fallbackReason: String? get() = loaded.fallbackReason

    /** The model's 1560 dequantized outputs for a 120 × 120 × 3 RGB crop (row-major bytes). */
    fun runOnCrop(cropRgb: ByteArray): FloatArray {
        require(cropRgb.size == crop.size) { "the landmark model takes $size x $size x 3 bytes, got ${cropRgb.size}" }
        fillInput(cropRgb)
        return infer()
    }

    /** The 120 × 120 × 3 RGB crop of [frame] made by [transform], in this model's crop buffer (reused by the next call). */
    fun warp(frame: Frame, transform: CropTransform): ByteArray {
        ImageOps.warpToRgb(frame.argb, frame.width, frame.height, transform, crop)
        return crop
    }

    private fun fillInput(rgb: ByteArray) {
        input.rewind()
        when (inputType) {
            DataType.UINT8 -> input.put(rgb)
            DataType.INT8 -> for (value in rgb) { // infer.py: float pixels quantized with the input's scale / zero point
                input.put(LandmarkDecoder.quantize((value.toInt() and 0xFF).toFloat(), true, inputScale, inputZeroPoint))
            }
            else -> for (value in rgb) input.putFloat((value.toInt() and 0xFF).toFloat()) // 0..255, as infer.py
        }
    }

    /** Run the interpreter on the filled input; the 1560 dequantized outputs (a new array). */
    private fun infer(): FloatArray {
        input.rewind()
        output.rewind()
        loaded.interpreter.run(input, output)
        output.rewind()
        return when (outputType) {
            DataType.FLOAT32 -> {
                output.asFloatBuffer().get(outputFloats)
                outputFloats.copyOf()
            }
            else -> {
                output.get(outputBytes)
                if (outputScale > 0f) {
                    LandmarkDecoder.dequantize(outputBytes, outputType == DataType.INT8, outputScale, outputZeroPoint)
                } else { // unquantized integer output: the raw values
                    FloatArray(outputBytes.size) { i ->
                        if (outputType == DataType.INT8) outputBytes[i].toFloat() else (outputBytes[i].toInt() and 0xFF).toFloat()
                    }
                }
            }
        }
    }

    override fun close() = loaded.close()

    companion object {
        /** Put into the APK's assets by the copyLandmarkModel Gradle task (swap it with -Pdenseface.model=...). */
        const val MODEL_ASSET = "denseface_landmarks.tflite"

        private val SUPPORTED = setOf(DataType.UINT8, DataType.INT8, DataType.FLOAT32)

        /**
         * Load the landmark model.
         *
         * @param device CPU (XNNPACK), GPU or NNAPI (falls back to the CPU when the delegate fails; see
         *     [LandmarkModel.device] and [LandmarkModel.fallbackReason])
         * @throws IllegalArgumentException for a model that breaks the DenseFace model contract
         */
        fun create(context: Context, device: Device, numThreads: Int = 2): LandmarkModel {
            val loaded = loadInterpreter(context, MODEL_ASSET, device, numThreads)
            return try {
                LandmarkModel(loaded)
            } catch (error: IllegalArgumentException) {
                loaded.close()
                throw error
            }
        }
    }
}
