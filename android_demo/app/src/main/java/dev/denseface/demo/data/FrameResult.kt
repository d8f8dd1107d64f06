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
 * @property device where the models run ("CPU (XNNPACK)" or "GPU")
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

/** Milliseconds spent in each stage of one frame. */
data class StageTimings(
    val convertMs: Float,
    val detectMs: Float,
    val landmarksMs: Float,
    val postMs: Float,
) {
    val totalMs: Float get() = convertMs + detectMs + landmarksMs + postMs
}
