package dev.denseface.demo

import android.content.Context
import android.graphics.Bitmap
import android.graphics.Rect
import android.os.SystemClock
import android.util.Log
import dev.denseface.core.CropTransform
import dev.denseface.core.Detection
import dev.denseface.core.FacePipeline
import dev.denseface.core.Topology
import dev.denseface.demo.camera.FrameConverter
import dev.denseface.demo.data.Frame
import dev.denseface.demo.data.FrameResult
import dev.denseface.demo.data.StageTimings
import dev.denseface.demo.ml.Device
import dev.denseface.demo.ml.FaceDetector
import dev.denseface.demo.ml.LandmarkModel

/**
 * The per-frame work, on CameraX's analysis thread: convert the image, then the JVM core's
 * [FacePipeline] in video mode (detect → crop → landmark model → decode → One-Euro → pose, with
 * tracking), timing each stage. The models are (re)created here, on the thread that uses them.
 * MainActivity's CameraX analyzer hands each image to [analyze]; no CameraX type here, so CI compiles
 * this file against the platform jar (README, "What is verified where").
 *
 * Delegates: with [Device.GPU] both models get the GPU delegate; with [Device.NNAPI] the int8 landmark
 * model gets the NNAPI delegate and the float detector stays on the CPU. A delegate that cannot be
 * created, refuses a model, or fails while running falls back to the CPU, and [onStatus] says so.
 *
 * @param onResult called (on the analysis thread) with each frame's result
 * @param onError called (on the analysis thread) with a message when a frame fails (e.g. a model is missing)
 * @param onStatus called (on the analysis thread) with where the models run after each (re)load, and
 *     with `fallback = true` when a requested delegate was replaced by the CPU
 */
class DenseFaceAnalyzer(
    private val context: Context,
    topology: Topology,
    private val onResult: (FrameResult) -> Unit,
    private val onError: (String) -> Unit,
    private val onStatus: (message: String, fallback: Boolean) -> Unit,
) : AutoCloseable {

    /** Where the models should run; a change takes effect on the next frame. */
    @Volatile var requestedDevice: Device = Device.CPU

    /** Whether the frames come from the front camera (the preview mirrors them). */
    @Volatile var mirrored: Boolean = false

    /** Set when the camera switches: the next frame starts a new stream (tracks and timestamps reset). */
    @Volatile var resetRequested: Boolean = false

    /** Called on the analysis thread with each analysed frame's timings, face count and device label (benchmark mode). */
    @Volatile var frameListener: ((timings: StageTimings, faces: Int, device: String) -> Unit)? = null

    private val converter = FrameConverter()
    private val pipeline = FacePipeline<Frame>(topology, FacePipeline.Options.defaults())
    private var detector: FaceDetector? = null
    private var landmarks: LandmarkModel? = null
    private var loadedDevice: Device? = null
    private var lastRequested: Device? = null
    private var failedAtRunTime: Device? = null // a delegate that failed while running: CPU until another request
    private val frameTimes = java.util.ArrayDeque<Long>()
    private var detectNs = 0L
    private var cropNs = 0L
    private var inferNs = 0L
    private var detectorRan = false
    private var landmarkRuns = 0

    /** A LiteRT failure while a model ran (not while loading), on [device]. */
    private class ModelRunException(val model: String, val device: Device, cause: RuntimeException) :
        RuntimeException("$model on ${device.label}: ${cause.message ?: cause.javaClass.simpleName}", cause)

    private val stages = object : FacePipeline.Stages<Frame> {
        override fun detect(frame: Frame): List<Detection> {
            val model = detector!!
            val start = SystemClock.elapsedRealtimeNanos()
            try {
                return model.detect(frame)
            } catch (error: RuntimeException) {
                throw ModelRunException("the detector", model.device, error)
            } finally {
                detectNs += SystemClock.elapsedRealtimeNanos() - start
                detectorRan = true
            }
        }

        override fun width(frame: Frame): Int = frame.width

        override fun height(frame: Frame): Int = frame.height

        override fun crop(frame: Frame, crop: CropTransform): ByteArray {
            val start = SystemClock.elapsedRealtimeNanos()
            try {
                return landmarks!!.warp(frame, crop)
            } finally {
                cropNs += SystemClock.elapsedRealtimeNanos() - start
            }
        }

        override fun landmarks(cropRgb: ByteArray): FloatArray {
            val model = landmarks!!
            val start = SystemClock.elapsedRealtimeNanos()
            try {
                return model.runOnCrop(cropRgb)
            } catch (error: RuntimeException) {
                throw ModelRunException("the landmark model", model.device, error)
            } finally {
                inferNs += SystemClock.elapsedRealtimeNanos() - start
                landmarkRuns++
            }
        }
    }

    /**
     * Analyse one camera image and report it through [onResult] (or [onError] / [onStatus]).
     *
     * @param toBitmap the image's pixels (CameraX's ImageProxy.toBitmap), called here so that it counts in
     *     the `convert` stage; the bitmap is recycled here
     * @param cropRect the part of the image the preview shows (ImageProxy.getCropRect), in its pixels
     * @param rotationDegrees the clockwise rotation that makes the image upright (ImageInfo.getRotationDegrees)
     * @param timestampNs the image's timestamp in nanoseconds (ImageInfo.getTimestamp)
     */
    fun analyze(toBitmap: () -> Bitmap, cropRect: Rect, rotationDegrees: Int, timestampNs: Long) {
        try {
            ensureModels()
            if (resetRequested) {
                pipeline.reset()
                resetRequested = false
            }
            val start = SystemClock.elapsedRealtimeNanos()
            val frame = converter.convert(toBitmap(), cropRect, rotationDegrees)
            val converted = SystemClock.elapsedRealtimeNanos()
            detectNs = 0L
            cropNs = 0L
            inferNs = 0L
            detectorRan = false
            landmarkRuns = 0
            val timestampMs = timestampNs / 1e6
            val faces = pipeline.landmarksForVideo(frame, timestampMs, stages)
            val end = SystemClock.elapsedRealtimeNanos()
            val timings = StageTimings(
                convertMs = (converted - start) / 1e6f,
                detectMs = detectNs / 1e6f,
                cropMs = cropNs / 1e6f,
                inferMs = inferNs / 1e6f,
                decodeMs = (end - converted - detectNs - cropNs - inferNs) / 1e6f,
                detectorRan = detectorRan,
                landmarkRuns = landmarkRuns,
            )
            val label = deviceLabel()
            onResult(FrameResult(faces, frame.width, frame.height, mirrored, timings, fps(end), label))
            frameListener?.invoke(timings, faces.size, label)
        } catch (error: ModelRunException) {
            if (error.device != Device.CPU) { // the delegate broke at run time: the CPU from the next frame on
                failedAtRunTime = requestedDevice
                val message = "LiteRT failed while running ${error.message}; switching to the CPU"
                Log.w(TAG, message, error)
                onStatus(message, true)
            } else {
                Log.e(TAG, "frame skipped", error)
                onError(error.message ?: error.toString())
            }
            pipeline.reset()
        } catch (error: IllegalArgumentException) { // a missing or wrong model, or a timestamp going back after a switch
            Log.w(TAG, "frame skipped: ${error.message}")
            onError(error.message ?: error.toString())
            pipeline.reset()
        } catch (error: RuntimeException) { // anything else: report it, keep the camera running
            Log.e(TAG, "frame skipped", error)
            onError(error.message ?: error.toString())
            pipeline.reset()
        }
    }

    private fun ensureModels() {
        val requested = requestedDevice
        if (requested != lastRequested) { // a new choice gets a new try even if that delegate failed before
            lastRequested = requested
            failedAtRunTime = null
        }
        val wanted = if (requested == failedAtRunTime) Device.CPU else requested
        if (wanted == loadedDevice) return
        detector?.close()
        landmarks?.close()
        detector = null
        landmarks = null
        loadedDevice = null
        // NNAPI is for the int8 landmark model; the float32 detector stays on XNNPACK
        detector = FaceDetector.create(context, if (wanted == Device.NNAPI) Device.CPU else wanted)
        landmarks = LandmarkModel.create(context, wanted)
        loadedDevice = wanted
        pipeline.reset()
        val fallbacks = listOfNotNull(detector?.fallbackReason, landmarks?.fallbackReason)
        if (fallbacks.isEmpty()) {
            onStatus("Models on ${deviceLabel()}", false)
        } else {
            onStatus(fallbacks.joinToString("\n"), true)
        }
    }

    private fun deviceLabel(): String {
        val d = detector?.device
        val l = landmarks?.device
        return if (d == l) d?.label ?: "-" else "detector ${d?.label}, landmarks ${l?.label}"
    }

    private fun fps(nowNs: Long): Float {
        frameTimes.addLast(nowNs)
        while (frameTimes.size > 1 && nowNs - frameTimes.peekFirst() > 1_000_000_000L) frameTimes.removeFirst()
        val spanS = (frameTimes.peekLast() - frameTimes.peekFirst()) / 1e9f
        return if (frameTimes.size > 1 && spanS > 0f) (frameTimes.size - 1) / spanS else 0f
    }

    /** Release the interpreters; call on the analysis thread (or after it stopped). */
    override fun close() {
        detector?.close()
        landmarks?.close()
        detector = null
        landmarks = null
        loadedDevice = null
    }

    private companion object {
        const val TAG = "DenseFace"
    }
}
