package dev.denseface.demo.ml

import android.content.Context
import android.os.Build
import android.util.Log
import java.io.FileInputStream
import java.nio.MappedByteBuffer
import java.nio.channels.FileChannel
import org.tensorflow.lite.Delegate
import org.tensorflow.lite.Interpreter
import org.tensorflow.lite.gpu.CompatibilityList
import org.tensorflow.lite.gpu.GpuDelegate
import org.tensorflow.lite.nnapi.NnApiDelegate

/**
 * Where a model runs: on the CPU with XNNPACK (the default), with LiteRT's GPU delegate, or with the
 * NNAPI delegate (the device's NPU / DSP drivers; meant for the int8 landmark model — NNAPI is
 * deprecated from Android 15 but still shipped).
 */
enum class Device(val label: String) {
    CPU("CPU (XNNPACK)"),
    GPU("GPU"),
    NNAPI("NNAPI");

    companion object {
        /** "cpu", "gpu" or "nnapi" (any case), as the benchmark intent's `delegate` extra; null for anything else. */
        fun parse(name: String?): Device? = entries.firstOrNull { it.name.equals(name?.trim(), ignoreCase = true) }
    }
}

private const val TAG = "DenseFace"

/**
 * A LiteRT interpreter and the delegate it owns (null on the CPU); [close] releases both.
 *
 * @property device where it actually runs (CPU when the requested delegate failed)
 * @property fallbackReason why it runs on the CPU although another device was requested; null otherwise
 */
class LoadedInterpreter(
    val interpreter: Interpreter,
    private val delegate: Delegate?,
    val device: Device,
    val fallbackReason: String? = null,
) : AutoCloseable {
    override fun close() {
        interpreter.close()
        delegate?.close()
    }
}

/**
 * Load an asset .tflite into an interpreter on [device]. Any failure of the GPU or NNAPI path —
 * the compatibility check, the delegate's constructor (e.g. a missing native library), or the
 * interpreter refusing the delegated model — falls back to XNNPACK on [numThreads] CPU threads, with
 * [LoadedInterpreter.fallbackReason] saying why (the app shows it).
 *
 * @throws IllegalArgumentException when the asset is missing or the CPU interpreter cannot load it
 */
fun loadInterpreter(context: Context, asset: String, device: Device, numThreads: Int): LoadedInterpreter {
    val model = mapAsset(context, asset)
    var fallback: String? = null
    if (device != Device.CPU) {
        try {
            return withDelegate(model, device, numThreads)
        } catch (error: Exception) { // IllegalArgumentException, IllegalStateException, UnsupportedOperationException, ...
            fallback = "${device.label} failed for $asset (${error.message ?: error.javaClass.simpleName}); running it on the CPU"
            Log.w(TAG, fallback, error)
        } catch (error: LinkageError) { // UnsatisfiedLinkError / NoClassDefFoundError: the delegate's native code is missing
            fallback = "${device.label} unavailable for $asset (${error.javaClass.simpleName}); running it on the CPU"
            Log.w(TAG, fallback, error)
        }
    }
    val options = Interpreter.Options().setNumThreads(numThreads).setUseXNNPACK(true)
    return LoadedInterpreter(Interpreter(model, options), null, Device.CPU, fallback)
}

/** The interpreter with the GPU or NNAPI delegate; throws (after releasing the delegate) when either refuses. */
private fun withDelegate(model: MappedByteBuffer, device: Device, numThreads: Int): LoadedInterpreter {
    val delegate: Delegate = when (device) {
        Device.GPU -> {
            val options = CompatibilityList().use { list ->
                if (list.isDelegateSupportedOnThisDevice) list.bestOptionsForThisDevice else null
            } ?: throw UnsupportedOperationException("the GPU delegate does not support this device")
            GpuDelegate(options)
        }
        Device.NNAPI -> {
            // 27 is Build.VERSION_CODES.O_MR1: the number, as the constant is inlined anyway, so that CI can
            // compile this file against the API 23 platform jar it has (README, "What is verified where")
            if (Build.VERSION.SDK_INT < 27) {
                throw UnsupportedOperationException("NNAPI needs Android 8.1 (API 27)")
            }
            NnApiDelegate()
        }
        Device.CPU -> throw IllegalArgumentException("the CPU needs no delegate")
    }
    try {
        val options = Interpreter.Options().setNumThreads(numThreads).addDelegate(delegate)
        return LoadedInterpreter(Interpreter(model, options), delegate, device)
    } catch (error: Exception) {
        delegate.close()
        throw error
    } catch (error: LinkageError) {
        delegate.close()
        throw error
    }
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
