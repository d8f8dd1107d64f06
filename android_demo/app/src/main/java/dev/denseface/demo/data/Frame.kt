package dev.denseface.demo.data

/**
 * One upright camera frame as packed ARGB pixels (Android's Bitmap.getPixels layout, row-major).
 * Coordinates of everything computed from it are frame pixels: x right, y down, pixel centres at integers.
 */
class Frame(val argb: IntArray, val width: Int, val height: Int) {
    init {
        require(argb.size == width * height) { "a ${width}x$height frame needs ${width * height} pixels, got ${argb.size}" }
    }
}
