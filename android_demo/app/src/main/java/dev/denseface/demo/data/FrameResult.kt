package dev.denseface.demo.data

import dev.denseface.core.Face

/**
 * What one analysed frame produced, for the overlay.
 *
 * @property faces the faces found, in frame pixels
 * @property frameWidth width of the upright frame the faces are in
 * @property frameHeight its height
 * @property mirrored whether the preview shows this camera mirrored (the front camera)
 * @property timings per-stage milliseconds of this frame
 * @property fps frames analysed per second, averaged over the last second
 * @property device where the models run (e.g. "CPU (XNNPACK)", "GPU", or one per model when they differ)
 */
data class FrameResult(
    val faces: List<Face>,
    val frameWidth: Int,
    val frameHeight: Int,
    val mirrored: Boolean,
    val timings: StageTimings,
    val fps: Float,
    val device: String,
)

/**
 * Milliseconds spent in each stage of one frame, named as `python -m benchmarks.latency` names them.
 *
 * @property convertMs camera image → upright frame (FrameConverter)
 * @property detectMs the detector: letterbox, LiteRT, decoding (0 on frames where tracking skipped it)
 * @property cropMs the landmark crops: warp and input quantization (0 without a face)
 * @property inferMs the landmark model: LiteRT and dequantization (0 without a face)
 * @property decodeMs the rest of FacePipeline: points to frame pixels, One-Euro smoothing, head pose, tracking
 * @property detectorRan whether the detector ran on this frame
 * @property landmarkRuns how many crops the landmark model ran on in this frame
 */
data class StageTimings(
    val convertMs: Float,
    val detectMs: Float,
    val cropMs: Float,
    val inferMs: Float,
    val decodeMs: Float,
    val detectorRan: Boolean,
    val landmarkRuns: Int,
) {
    /** End to end: camera image in, faces out. */
    val totalMs: Float get() = convertMs + detectMs + cropMs + inferMs + decodeMs
}
