package dev.denseface.demo.camera

import android.graphics.Bitmap
import android.graphics.Rect
import dev.denseface.core.ImageOps
import dev.denseface.demo.data.Frame

/**
 * CameraX analysis image (RGBA_8888) → upright [Frame], from the three things MainActivity takes out of the
 * ImageProxy: its bitmap (ImageProxy.toBitmap(), CameraX 1.3+, handles the row stride), its crop rect (the
 * part the preview shows: MainActivity binds preview and analysis in one UseCaseGroup with PreviewView's
 * ViewPort; toBitmap() itself does not crop) and its rotationDegrees. Bitmap.getPixels of the crop rect, then
 * a rotation by rotationDegrees (so the faces are upright, as the models expect, in the display's
 * orientation). Not mirrored: for the front camera the overlay mirrors, not the frame. No CameraX type here,
 * so CI compiles this file against the platform jar (README, "What is verified where").
 */
class FrameConverter {
    private var pixels = IntArray(0)

    /**
     * @param bitmap the whole camera image (recycled here)
     * @param cropRect the part of [bitmap] to keep, in its pixels; an empty rect keeps all of it
     * @param rotationDegrees clockwise rotation (0, 90, 180 or 270) that makes the image upright
     */
    fun convert(bitmap: Bitmap, cropRect: Rect, rotationDegrees: Int): Frame {
        val left = cropRect.left.coerceIn(0, bitmap.width - 1)
        val top = cropRect.top.coerceIn(0, bitmap.height - 1)
        val width = (if (cropRect.isEmpty) bitmap.width else cropRect.width()).coerceIn(1, bitmap.width - left)
        val height = (if (cropRect.isEmpty) bitmap.height else cropRect.height()).coerceIn(1, bitmap.height - top)
        if (pixels.size != width * height) pixels = IntArray(width * height)
        bitmap.getPixels(pixels, 0, width, left, top, width, height)
        bitmap.recycle()
        val upright = ImageOps.rotate(pixels, width, height, rotationDegrees)
        return if (rotationDegrees % 180 == 0) Frame(upright.copyOf(), width, height) else Frame(upright, height, width)
    }
}
