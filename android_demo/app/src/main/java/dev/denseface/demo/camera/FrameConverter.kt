package dev.denseface.demo.camera

import androidx.camera.core.ImageProxy
import dev.denseface.core.ImageOps
import dev.denseface.demo.data.Frame

/**
 * CameraX analysis image (RGBA_8888) → upright [Frame]: ImageProxy.toBitmap() (CameraX 1.3+, handles the
 * row stride), Bitmap.getPixels of the image's crop rect (the part the preview shows: MainActivity binds
 * preview and analysis in one UseCaseGroup with PreviewView's ViewPort; toBitmap() itself does not
 * crop), then a rotation by the image's rotationDegrees (so the faces are upright, as the models
 * expect, in the display's orientation). Not mirrored: for the front camera the overlay mirrors, not the frame.
 */
class FrameConverter {
    private var pixels = IntArray(0)

    fun convert(image: ImageProxy): Frame {
        val bitmap = image.toBitmap()
        val rect = image.cropRect
        val left = rect.left.coerceIn(0, bitmap.width - 1)
        val top = rect.top.coerceIn(0, bitmap.height - 1)
        val width = (if (rect.isEmpty) bitmap.width else rect.width()).coerceIn(1, bitmap.width - left)
        val height = (if (rect.isEmpty) bitmap.height else rect.height()).coerceIn(1, bitmap.height - top)
        if (pixels.size != width * height) pixels = IntArray(width * height)
        bitmap.getPixels(pixels, 0, width, left, top, width, height)
        bitmap.recycle()
        val degrees = image.imageInfo.rotationDegrees
        val upright = ImageOps.rotate(pixels, width, height, degrees)
        return if (degrees % 180 == 0) Frame(upright.copyOf(), width, height) else Frame(upright, height, width)
    }
}
