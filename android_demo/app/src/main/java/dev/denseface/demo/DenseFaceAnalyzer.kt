package dev.denseface.demo

import android.content.Context
import android.os.SystemClock
import android.util.Log
import androidx.camera.core.ImageAnalysis
import androidx.camera.core.ImageProxy
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
 *
 * @param onResult called (on the analysis thread) with each frame's result
 * @param onError called (on the analysis thread) with a message when a frame fails (e.g. a model is missing)
 */
class DenseFaceAnalyzer(
    private val context: Context,
    topology: Topology,
    private val onResult: (FrameResult) -> Unit,
    private val onError: (String) -> Unit,
) : ImageAnalysis.Analyzer, AutoCloseable {

    /** Where the models should run; a change takes effect on the next frame. */
    @Volatile var requestedDevice: Device = Device.CPU

    /** Whether the frames come from the front camera (the preview mirrors them). */
    @Volatile var mirrored: Boolean = false

    /** Set when the camera switches: the next frame starts a new stream (tracks and timestamps reset). */
    @Volatile var resetRequested: Boolean = false

    private val converter = FrameConverter()
    private val pipeline = FacePipeline<Frame>(topology, FacePipeline.Options.defaults())
    private var detector: FaceDetector? = null
    private var landmarks: LandmarkModel? = null
    private var loadedDevice: Device? = null
    private val frameTimes = java.util.ArrayDeque<Long>()
    private var detectNs = 0L
    private var landmarksNs = 0L

    private val stages = object : FacePipeline.Stages<Frame> {
        override fun detect(frame: Frame): List<Detection> {
            val start = SystemClock.elapsedRealtimeNanos()
            return detector!!.detect(frame).also { detectNs += SystemClock.elapsedRealtimeNanos() - start }
        }

        override fun landmarks(frame: Frame, crop: CropTransform): FloatArray {
            val start = SystemClock.elapsedRealtimeNanos()
            return landmarks!!.run(frame, crop).also { landmarksNs += SystemClock.elapsedRealtimeNanos() - start }
        }
    }

    override fun analyze(image: ImageProxy) {
        try {
            ensureModels()
            if (resetRequested) {
                pipeline.reset()
                resetRequested = false
            }
            val start = SystemClock.elapsedRealtimeNanos()
            val frame = converter.convert(image)
            val converted = SystemClock.elapsedRealtimeNanos()
            detectNs = 0L
            landmarksNs = 0L
            val timestampMs = image.imageInfo.timestamp / 1e6
            val faces = pipeline.landmarksForVideo(frame, timestampMs, stages)
            val end = SystemClock.elapsedRealtimeNanos()
            val timings = StageTimings(
                convertMs = (converted - start) / 1e6f,
                detectMs = detectNs / 1e6f,
                landmarksMs = landmarksNs / 1e6f,
                postMs = (end - converted - detectNs - landmarksNs) / 1e6f,
            )
            onResult(FrameResult(faces, frame.width, frame.height, mirrored, timings, fps(end), deviceLabel()))
        } catch (error: IllegalArgumentException) { // a missing or wrong model, or a timestamp going back after a switch
            Log.w("DenseFace", "frame skipped: ${error.message}")
            onError(error.message ?: error.toString())
            pipeline.reset()
        } finally {
            image.close()
        }
    }

    private fun ensureModels() {
        val wanted = requestedDevice
        if (wanted == loadedDevice) return
        detector?.close()
        landmarks?.close()
        detector = FaceDetector.create(context, wanted)
        landmarks = LandmarkModel.create(context, wanted)
        loadedDevice = wanted
        pipeline.reset()
    }

    private fun deviceLabel(): String {
        val d = detector?.device
        val l = landmarks?.device
        fun label(device: Device?) = if (device == Device.GPU) "GPU" else "CPU (XNNPACK)"
        return if (d == l) label(d) else "detector ${label(d)}, landmarks ${label(l)}"
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
}
