package dev.denseface.demo

import android.content.Context
import android.graphics.Canvas
import android.graphics.Color
import android.graphics.Paint
import android.util.AttributeSet
import android.view.View
import dev.denseface.core.Face
import dev.denseface.core.HeadPose
import dev.denseface.core.LandmarkDecoder
import dev.denseface.core.Topology
import dev.denseface.demo.data.FrameResult
import kotlin.math.max

/**
 * Draws the faces of the latest [FrameResult] over the camera preview: the 520 points or the mesh
 * (the topology's triangles), the 68 iBUG points, the head-pose axes, and the FPS, device and
 * per-stage milliseconds. Frame pixels map to the view as PreviewView's FILL_CENTER shows the frame
 * (scaled to cover the view, centred), mirrored for the front camera.
 */
class OverlayView @JvmOverloads constructor(context: Context, attrs: AttributeSet? = null) : View(context, attrs) {

    /** The mesh triangles; set once by the activity. */
    var topology: Topology? = null

    /** Draw the mesh (true) or the 520 points (false). */
    var drawMesh: Boolean = false
        set(value) { field = value; invalidate() }

    /**
     * Left and top of the area free of system bars and display cutouts (px; the window is edge to edge,
     * MainActivity sets them from the window insets): the texts start there. Faces are drawn everywhere,
     * as the preview under them fills the whole view.
     */
    var textInsetLeft: Int = 0
        set(value) { field = value; invalidate() }
    var textInsetTop: Int = 0
        set(value) { field = value; invalidate() }

    @Volatile private var result: FrameResult? = null
    @Volatile private var error: String? = null

    private val densePaint = Paint().apply { color = Color.argb(200, 0, 220, 255); strokeWidth = 3f; isAntiAlias = true }
    private val meshPaint = Paint().apply { color = Color.argb(140, 0, 220, 255); strokeWidth = 1f; isAntiAlias = true }
    private val points68Paint = Paint().apply { color = Color.YELLOW; strokeWidth = 7f; strokeCap = Paint.Cap.ROUND; isAntiAlias = true }
    private val axisPaints = listOf(Color.RED, Color.GREEN, Color.BLUE).map {
        Paint().apply { color = it; strokeWidth = 6f; isAntiAlias = true }
    }
    private val errorPaint = Paint().apply { color = Color.RED; textSize = 36f; isAntiAlias = true }
    private val textPaint = Paint().apply { color = Color.WHITE; textSize = 40f; isAntiAlias = true; setShadowLayer(4f, 0f, 0f, Color.BLACK) }

    /** Show a new result (any thread). */
    fun show(result: FrameResult) {
        this.result = result
        this.error = null
        postInvalidate()
    }

    /** Show why the last frame failed, e.g. a model missing from the APK (any thread). */
    fun showError(message: String) {
        this.error = message
        postInvalidate()
    }

    override fun onDraw(canvas: Canvas) {
        super.onDraw(canvas)
        error?.let { canvas.drawText(it, textInsetLeft + 24f, height / 2f, errorPaint) }
        val r = result ?: return
        val scale = max(width / r.frameWidth.toFloat(), height / r.frameHeight.toFloat())
        val dx = (width - r.frameWidth * scale) / 2f
        val dy = (height - r.frameHeight * scale) / 2f
        fun viewX(x: Float) = (dx + (x + 0.5f) * scale).let { if (r.mirrored) width - it else it }
        fun viewY(y: Float) = dy + (y + 0.5f) * scale
        for (face in r.faces) drawFace(canvas, face, r.mirrored, ::viewX, ::viewY)
        drawStats(canvas, r)
    }

    private fun drawFace(canvas: Canvas, face: Face, mirrored: Boolean, viewX: (Float) -> Float, viewY: (Float) -> Float) {
        val p = face.points()
        val triangles = topology?.triangles()
        if (drawMesh && triangles != null) {
            val lines = FloatArray(triangles.size * 4)
            for (t in 0 until triangles.size / 3) {
                for (e in 0 until 3) {
                    val a = triangles[3 * t + e]
                    val b = triangles[3 * t + (e + 1) % 3]
                    val o = 4 * (3 * t + e)
                    lines[o] = viewX(p[3 * a]); lines[o + 1] = viewY(p[3 * a + 1])
                    lines[o + 2] = viewX(p[3 * b]); lines[o + 3] = viewY(p[3 * b + 1])
                }
            }
            canvas.drawLines(lines, meshPaint)
        } else {
            val dense = FloatArray(2 * LandmarkDecoder.N_POINTS) { i -> if (i % 2 == 0) viewX(p[3 * (i / 2)]) else viewY(p[3 * (i / 2) + 1]) }
            canvas.drawPoints(dense, densePaint)
        }
        val ibug = FloatArray(2 * LandmarkDecoder.N_LANDMARKS68) { i -> if (i % 2 == 0) viewX(p[3 * (i / 2)]) else viewY(p[3 * (i / 2) + 1]) }
        canvas.drawPoints(ibug, points68Paint)
        drawPoseAxes(canvas, face, mirrored, viewX, viewY)
    }

    /** The head's x (red, subject's left), y (green, up) and z (blue, forward) axes from the nose tip (iBUG 30). */
    private fun drawPoseAxes(canvas: Canvas, face: Face, mirrored: Boolean, viewX: (Float) -> Float, viewY: (Float) -> Float) {
        val (yaw, pitch, roll) = face.pose().let { Triple(it[0], it[1], it[2]) }
        val rotation = HeadPose.rotationFromAngles(yaw, pitch, roll) // model → camera frame (y up)
        val p = face.points()
        val noseX = p[3 * 30]
        val noseY = p[3 * 30 + 1]
        val length = 0.5f * (face.box()[2] - face.box()[0])
        for (axis in 0 until 3) {
            val ax = rotation[axis].toFloat() // column `axis` of R: rows 0 and 1
            val ay = -rotation[3 + axis].toFloat() // camera y up → image y down
            canvas.drawLine(viewX(noseX), viewY(noseY), viewX(noseX + length * ax), viewY(noseY + length * ay), axisPaints[axis])
        }
        val label = "yaw %.0f°  pitch %.0f°  roll %.0f°".format(yaw, pitch, roll)
        val left = if (mirrored) viewX(face.box()[2]) else viewX(face.box()[0])
        canvas.drawText(label, left, viewY(face.box()[1]) - 16f, textPaint)
    }

    private fun drawStats(canvas: Canvas, r: FrameResult) {
        val t = r.timings
        val lines = listOf(
            "%.1f FPS  %s  %d face(s)".format(r.fps, r.device, r.faces.size),
            "convert %.1f  detect %.1f  crop %.1f  infer %.1f  decode %.1f  = %.1f ms".format(
                t.convertMs, t.detectMs, t.cropMs, t.inferMs, t.decodeMs, t.totalMs),
        )
        lines.forEachIndexed { i, line -> canvas.drawText(line, textInsetLeft + 24f, textInsetTop + 64f + i * 48f, textPaint) }
    }
}
