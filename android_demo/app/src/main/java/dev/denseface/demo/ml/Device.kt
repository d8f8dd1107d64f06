package dev.denseface.demo.ml

import android.content.Context
import android.util.Log
import java.io.FileInputStream
import java.nio.MappedByteBuffer
import java.nio.channels.FileChannel
import org.tensorflow.lite.Interpreter
import org.tensorflow.lite.gpu.CompatibilityList
import org.tensorflow.lite.gpu.GpuDelegate

/** Where a model runs: on the CPU with XNNPACK (the default), or with LiteRT's GPU delegate. */
enum class Device { CPU, GPU }

private const val TAG = "DenseFace"

/**
 * A LiteRT interpreter and the GPU delegate it owns (null on the CPU); [close] releases both.
 *
 * @property device where it actually runs: GPU requested on a device without GPU support gives CPU
 */
class LoadedInterpreter(val interpreter: Interpreter, private val gpu: GpuDelegate?, val device: Device) : AutoCloseable {
    override fun close() {
        interpreter.close()
        gpu?.close()
    }
}

/**
 * Load an asset .tflite into an interpreter: XNNPACK on [numThreads] CPU threads, plus the GPU delegate
 * when [device] is GPU and the device supports it (otherwise, or when the GPU rejects the model, CPU).
 *
 * @throws IllegalArgumentException when the asset is missing (the Gradle tasks put both models there)
 */
fun loadInterpreter(context: Context, asset: String, device: Device, numThreads: Int): LoadedInterpreter {
    val model = mapAsset(context, asset)
    if (device == Device.GPU) {
        val gpuOptions = CompatibilityList().use { list ->
            if (list.isDelegateSupportedOnThisDevice) list.bestOptionsForThisDevice else null
        }
        if (gpuOptions != null) {
            val gpu = GpuDelegate(gpuOptions)
            try {
                return LoadedInterpreter(Interpreter(model, Interpreter.Options().addDelegate(gpu)), gpu, Device.GPU)
            } catch (error: IllegalArgumentException) { // the delegate refused the model: CPU below
                gpu.close()
                Log.w(TAG, "GPU delegate rejected $asset, running it on the CPU", error)
            }
        } else {
            Log.w(TAG, "no GPU delegate support on this device, running $asset on the CPU")
        }
    }
    val options = Interpreter.Options().setNumThreads(numThreads).setUseXNNPACK(true)
    return LoadedInterpreter(Interpreter(model, options), null, Device.CPU)
}

/** Memory-map an uncompressed asset (build.gradle.kts keeps .tflite files uncompressed). */
private fun mapAsset(context: Context, asset: String): MappedByteBuffer {
    val descriptor = try {
        context.assets.openFd(asset)
    } catch (error: java.io.IOException) {
        throw IllegalArgumentException("model asset $asset missing from the APK (did the Gradle model tasks run?)", error)
    }
    descriptor.use {
        FileInputStream(it.fileDescriptor).use { stream ->
            return stream.channel.map(FileChannel.MapMode.READ_ONLY, it.startOffset, it.declaredLength)
        }
    }
}
