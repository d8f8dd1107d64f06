package dev.denseface.demo.camera

import androidx.camera.core.ImageProxy
import dev.denseface.core.ImageOps
import dev.denseface.demo.data.Frame

/**
 * CameraX analysis image (RGBA_8888) → upright [Frame]: ImageProxy.toBitmap() (CameraX 1.3+, handles the
 * row stride), Bitmap.getPixels, then a rotation by the image's rotationDegrees (so the faces are
 * upright, as the models expect). Not mirrored: for the front camera the overlay mirrors, not the frame.
 */
class FrameConverter {
    private var pixels = IntArray(0)

    fun convert(image: ImageProxy): Frame {
        val bitmap = image.toBitmap()
        val width = bitmap.width
        val height = bitmap.height
        if (pixels.size != width * height) pixels = IntArray(width * height)
        bitmap.getPixels(pixels, 0, width, 0, 0, width, height)
        bitmap.recycle()
        val degrees = image.imageInfo.rotationDegrees
        val upright = ImageOps.rotate(pixels, width, height, degrees)
        return if (degrees % 180 == 0) Frame(upright.copyOf(), width, height) else Frame(upright, height, width)
    }
}
