package dev.denseface.core;

import static dev.denseface.core.Golden.*;
import static org.junit.Assert.assertArrayEquals;
import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertTrue;

import java.util.Map;
import org.junit.BeforeClass;
import org.junit.Test;

/**
 * The crop warp against the Python SDK's bytes (golden/images.json), exactly: both use the same
 * integer interpolation; the detector letterbox against OpenCV's resize, to ±1 grey level.
 */
public class ImagesGoldenTest {

    private static Map<String, Object> golden;

    @BeforeClass
    public static void load() throws Exception {
        golden = Golden.load("images.json");
    }

    private static void assertWithinOneLevel(String what, byte[] expected, byte[] actual) {
        assertWithin(what, expected, actual, 1);
    }

    private static void assertWithin(String what, byte[] expected, byte[] actual, int levels) {
        assertEquals(what, expected.length, actual.length);
        int worst = 0, off = 0;
        for (int i = 0; i < expected.length; i++) {
            int diff = Math.abs((expected[i] & 0xFF) - (actual[i] & 0xFF));
            worst = Math.max(worst, diff);
            off += diff > 0 ? 1 : 0;
        }
        assertTrue(what + ": max difference " + worst + " grey levels (" + off + " values differ)", worst <= levels);
    }

    @Test
    public void warpIsThePythonCropByteForByte() {
        int[] shape = shape(golden.get("source"));
        int[] argb = packedArgb(golden.get("source"));
        for (String name : new String[] {"warp", "warp_beyond_border"}) {
            Map<String, Object> warp = obj(golden.get(name));
            int size = (int) num(warp.get("size"));
            byte[] out = new byte[size * size * 3];
            ImageOps.warpToRgb(argb, shape[1], shape[0], new CropTransform(doubles(warp.get("matrix")), size), out);
            assertWithin(name, packedBytes(warp.get("expected")), out, 0);
        }
    }

    @Test
    public void letterboxIsOpenCvsResizeWhenShrinkingAndEnlarging() {
        String[][] cases = {{"source", "letterbox_shrink"}, {"small", "letterbox_enlarge"}};
        for (String[] c : cases) {
            int[] shape = shape(golden.get(c[0]));
            Map<String, Object> expected = obj(golden.get(c[1]));
            int side = (int) num(expected.get("input_size"));
            byte[] out = new byte[side * side * 3];
            ImageOps.letterboxToRgb(packedArgb(golden.get(c[0])), shape[1], shape[0], Letterbox.fit(shape[0], shape[1], side), out);
            assertWithinOneLevel(c[1], packedBytes(expected.get("expected")), out);
        }
    }

    @Test
    public void cropContentThumbnailsAreTheSdks() {
        int[] shape = shape(golden.get("source"));
        for (Object item : list(golden.get("appearance"))) {
            Map<String, Object> c = obj(item);
            CropTransform crop = new CropTransform(doubles(c.get("matrix")), Crop.MODEL_INPUT);
            boolean[] cells = FacePipeline.frameCells(crop, shape[1], shape[0]);
            byte[] expectedCells = packedBytes(c.get("cells"));
            int outside = 0;
            for (int i = 0; i < cells.length; i++) {
                assertEquals("cell " + i, expectedCells[i] != 0, cells[i]);
                outside += cells[i] ? 0 : 1;
            }
            float[] look = FacePipeline.appearance(packedBytes(c.get("crop_rgb")), cells);
            assertArrayEquals("thumbnail (" + outside + " cells outside the frame)", packedFloats(c.get("expected")), look, 1e-4f);
        }
    }

    @Test
    public void rotationsTurnClockwise() {
        int[] image = {1, 2, 3, 4, 5, 6}; // 3 wide, 2 high
        assertArrayEquals(new int[] {4, 1, 5, 2, 6, 3}, ImageOps.rotate(image, 3, 2, 90));
        assertArrayEquals(new int[] {6, 5, 4, 3, 2, 1}, ImageOps.rotate(image, 3, 2, 180));
        assertArrayEquals(new int[] {3, 6, 2, 5, 1, 4}, ImageOps.rotate(image, 3, 2, 270));
        assertArrayEquals(image, ImageOps.rotate(image, 3, 2, 0));
    }
}
