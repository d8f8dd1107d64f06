package dev.denseface.core;

/**
 * How a frame is fitted into the square detector input (resize keeping aspect, then centre padding);
 * mirrors {@code Letterbox} in {@code sdk/denseface/detect.py}.
 *
 * <p>A frame pixel x maps to input pixel {@code (x + 0.5) * scaleX - 0.5 + padX} (pixel-centre
 * coordinates; same for y).
 *
 * @param scaleX input pixels per frame pixel, horizontally
 * @param scaleY input pixels per frame pixel, vertically (differs from scaleX only by rounding)
 * @param padX padding columns left of the resized frame, input pixels
 * @param padY padding rows above the resized frame, input pixels
 * @param inputSize side of the model input, pixels
 */
public record Letterbox(double scaleX, double scaleY, int padX, int padY, int inputSize) {

    /**
     * The letterbox of a {@code height} × {@code width} frame for a square input of side {@code inputSize}.
     *
     * @throws IllegalArgumentException for a non-positive size
     */
    public static Letterbox fit(int height, int width, int inputSize) {
        if (height < 1 || width < 1 || inputSize < 1) {
            throw new IllegalArgumentException(
                    "frame " + width + "x" + height + " and input size " + inputSize + " must all be >= 1");
        }
        int side = Math.max(height, width);
        // Python's round(): half to even, as Math.rint
        int newWidth = Math.max(1, (int) Math.rint(width * (double) inputSize / side));
        int newHeight = Math.max(1, (int) Math.rint(height * (double) inputSize / side));
        return new Letterbox((double) newWidth / width, (double) newHeight / height,
                (inputSize - newWidth) / 2, (inputSize - newHeight) / 2, inputSize);
    }

    /** Width of the resized frame inside the input, for a frame {@code width} pixels wide. */
    public int resizedWidth(int width) {
        return (int) Math.rint(width * scaleX);
    }

    /** Height of the resized frame inside the input, for a frame {@code height} pixels high. */
    public int resizedHeight(int height) {
        return (int) Math.rint(height * scaleY);
    }

    /** Frame pixel x of a coordinate normalised to the model input (0 and 1 are its outer edges). */
    public float normalisedToFrameX(float x) {
        double input = (double) x * inputSize - 0.5;
        return (float) ((input - padX + 0.5) / scaleX - 0.5);
    }

    /** Frame pixel y of a coordinate normalised to the model input (0 and 1 are its outer edges). */
    public float normalisedToFrameY(float y) {
        double input = (double) y * inputSize - 0.5;
        return (float) ((input - padY + 0.5) / scaleY - 0.5);
    }
}
