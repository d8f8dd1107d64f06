package dev.denseface.core;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;

/**
 * The 520-point dense topology shipped with the model, as exported from
 * {@code sdk/denseface/assets/topology.npz} by {@code android_demo/tools/export_assets.py}
 * into {@code topology.bin} (that script's docstring gives the byte layout).
 *
 * @param meanShape 520 × (x, y, z) the points on the neutral face, centimetres, model frame (x towards
 *     the viewer's right, y up, z towards the viewer)
 * @param triangles M × 3 point indices, a triangulation for drawing a mesh
 * @param flip left/right partner of each point
 * @param landmarks68 how many leading points are the iBUG 68 landmarks (68)
 */
public record Topology(float[] meanShape, int[] triangles, int[] flip, int landmarks68) {

    private static final byte[] MAGIC = "DFTP".getBytes(StandardCharsets.US_ASCII);
    private static final int VERSION = 1;

    /** Number of points (520). */
    public int pointCount() {
        return meanShape.length / 3;
    }

    /** Number of triangles. */
    public int triangleCount() {
        return triangles.length / 3;
    }

    /**
     * Read a topology.bin stream (the stream is read to its end, not closed).
     *
     * @throws IOException on a read error, or (as its subclass) for a file that is not a version-1
     *     topology.bin or is truncated
     */
    public static Topology read(InputStream in) throws IOException {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        byte[] chunk = new byte[8192]; // not InputStream.transferTo: Android before API 33 lacks it
        for (int n = in.read(chunk); n >= 0; n = in.read(chunk)) {
            bytes.write(chunk, 0, n);
        }
        ByteBuffer buffer = ByteBuffer.wrap(bytes.toByteArray()).order(ByteOrder.LITTLE_ENDIAN);
        byte[] magic = new byte[4];
        if (buffer.remaining() < 20) {
            throw new IOException("topology.bin is truncated (" + buffer.remaining() + " bytes)");
        }
        buffer.get(magic);
        int version = buffer.getInt();
        if (!java.util.Arrays.equals(magic, MAGIC) || version != VERSION) {
            throw new IOException("not a version-" + VERSION + " topology.bin (regenerate it with android_demo/tools/export_assets.py)");
        }
        int points = buffer.getInt(), triangles = buffer.getInt(), landmarks = buffer.getInt();
        long expected = 4L * (3L * points + 3L * triangles + points);
        if (points < 1 || triangles < 0 || buffer.remaining() != expected) {
            throw new IOException("topology.bin holds " + buffer.remaining() + " data bytes; its header promises " + expected);
        }
        float[] meanShape = new float[3 * points];
        buffer.asFloatBuffer().get(meanShape);
        buffer.position(buffer.position() + 4 * meanShape.length);
        int[] tri = new int[3 * triangles];
        buffer.asIntBuffer().get(tri);
        buffer.position(buffer.position() + 4 * tri.length);
        int[] flip = new int[points];
        buffer.asIntBuffer().get(flip);
        return new Topology(meanShape, tri, flip, landmarks);
    }
}
