package dev.denseface.core;

import java.io.ByteArrayOutputStream;
import java.io.FileInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Reads the golden files written by {@code android_demo/tools/make_golden.py}: a minimal JSON parser
 * (objects, arrays, numbers, strings, booleans, null; no external jar) and decoders of the packed
 * arrays ({"dtype", "shape", "base64"} of little-endian bytes).
 *
 * <p>Shared test code ({@code src/testShared}): compiled with the JVM tests ({@code run_tests.sh},
 * {@code :core:test}) and with the app's on-device tests ({@code app/src/androidTest}, which read the
 * same files from their assets through {@link #parse(InputStream)}). Only Java APIs that Android has
 * since API 26 (the app's minSdk) are used here.
 */
public final class Golden {

    private final String text;
    private int pos;

    private Golden(String text) {
        this.text = text;
    }

    /** The parsed golden file {@code golden/<name>} from the test classpath. */
    public static Map<String, Object> load(String name) throws IOException {
        try (InputStream in = Golden.class.getResourceAsStream("/golden/" + name)) {
            if (in == null) {
                throw new IOException("golden/" + name + " is not on the test classpath (run android_demo/tools/make_golden.py)");
            }
            return parse(in);
        }
    }

    /** A golden file's JSON object read from {@code in} (e.g. an Android asset); does not close it. */
    @SuppressWarnings("unchecked")
    public static Map<String, Object> parse(InputStream in) throws IOException {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream(); // not readAllBytes: Android has it from API 33
        byte[] chunk = new byte[1 << 16];
        for (int n; (n = in.read(chunk)) > 0; ) {
            bytes.write(chunk, 0, n);
        }
        return (Map<String, Object>) new Golden(new String(bytes.toByteArray(), StandardCharsets.UTF_8)).parse();
    }

    /** The topology.bin the app ships (path from the system property denseface.topology). */
    public static Topology topology() throws IOException {
        String path = System.getProperty("denseface.topology", "../app/src/main/assets/topology.bin");
        try (InputStream in = new FileInputStream(path)) {
            return Topology.read(in);
        }
    }

    private Object parse() {
        Object value = value();
        skipSpace();
        if (pos != text.length()) {
            throw error("trailing characters");
        }
        return value;
    }

    private Object value() {
        skipSpace();
        char c = text.charAt(pos);
        switch (c) {
            case '{': {
                Map<String, Object> map = new LinkedHashMap<>();
                pos++;
                skipSpace();
                if (text.charAt(pos) == '}') {
                    pos++;
                    return map;
                }
                while (true) {
                    skipSpace();
                    String key = string();
                    skipSpace();
                    expect(':');
                    map.put(key, value());
                    skipSpace();
                    if (text.charAt(pos) == ',') {
                        pos++;
                    } else {
                        expect('}');
                        return map;
                    }
                }
            }
            case '[': {
                List<Object> list = new ArrayList<>();
                pos++;
                skipSpace();
                if (text.charAt(pos) == ']') {
                    pos++;
                    return list;
                }
                while (true) {
                    list.add(value());
                    skipSpace();
                    if (text.charAt(pos) == ',') {
                        pos++;
                    } else {
                        expect(']');
                        return list;
                    }
                }
            }
            case '"':
                return string();
            case 't':
                return literal("true", Boolean.TRUE);
            case 'f':
                return literal("false", Boolean.FALSE);
            case 'n':
                return literal("null", null);
            case 'N':
                return literal("NaN", Double.NaN);
            default:
                int start = pos;
                while (pos < text.length() && "+-0123456789.eEInfinity".indexOf(text.charAt(pos)) >= 0) {
                    pos++;
                }
                return Double.parseDouble(text.substring(start, pos));
        }
    }

    private Object literal(String word, Object value) {
        if (!text.startsWith(word, pos)) {
            throw error("expected " + word);
        }
        pos += word.length();
        return value;
    }

    private String string() {
        expect('"');
        StringBuilder out = new StringBuilder();
        while (text.charAt(pos) != '"') {
            char c = text.charAt(pos++);
            if (c == '\\') {
                char e = text.charAt(pos++);
                switch (e) {
                    case 'n': out.append('\n'); break;
                    case 't': out.append('\t'); break;
                    case 'r': out.append('\r'); break;
                    case 'b': out.append('\b'); break;
                    case 'f': out.append('\f'); break;
                    case 'u':
                        out.append((char) Integer.parseInt(text.substring(pos, pos + 4), 16));
                        pos += 4;
                        break;
                    default: out.append(e);
                }
            } else {
                out.append(c);
            }
        }
        pos++;
        return out.toString();
    }

    private void expect(char c) {
        if (text.charAt(pos) != c) {
            throw error("expected '" + c + "'");
        }
        pos++;
    }

    private void skipSpace() {
        while (pos < text.length() && Character.isWhitespace(text.charAt(pos))) {
            pos++;
        }
    }

    private IllegalStateException error(String what) {
        return new IllegalStateException(what + " at character " + pos + " of a golden file");
    }

    // ---- typed accessors ----

    @SuppressWarnings("unchecked")
    public static Map<String, Object> obj(Object o) {
        return (Map<String, Object>) o;
    }

    @SuppressWarnings("unchecked")
    public static List<Object> list(Object o) {
        return (List<Object>) o;
    }

    public static double num(Object o) {
        return ((Number) o).doubleValue();
    }

    public static double[] doubles(Object o) {
        List<Object> values = list(o);
        double[] out = new double[values.size()];
        for (int i = 0; i < out.length; i++) {
            out[i] = num(values.get(i));
        }
        return out;
    }

    /** A nested list of numbers flattened, as float32. */
    public static float[] floats(Object o) {
        List<Double> flat = new ArrayList<>();
        flatten(o, flat);
        float[] out = new float[flat.size()];
        for (int i = 0; i < out.length; i++) {
            out[i] = flat.get(i).floatValue();
        }
        return out;
    }

    private static void flatten(Object o, List<Double> out) {
        if (o instanceof List) {
            for (Object item : list(o)) {
                flatten(item, out);
            }
        } else {
            out.add(num(o));
        }
    }

    private static ByteBuffer packedBytes(Object o, String dtype) {
        Map<String, Object> packed = obj(o);
        if (!dtype.equals(packed.get("dtype"))) {
            throw new IllegalStateException("expected a packed " + dtype + " array, got " + packed.get("dtype"));
        }
        byte[] bytes = Base64.getDecoder().decode((String) packed.get("base64"));
        return ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN);
    }

    public static String dtype(Object o) {
        return (String) obj(o).get("dtype");
    }

    public static int[] shape(Object o) {
        double[] s = doubles(obj(o).get("shape"));
        int[] out = new int[s.length];
        for (int i = 0; i < s.length; i++) {
            out[i] = (int) s[i];
        }
        return out;
    }

    /** A packed float32 array, flattened. */
    public static float[] packedFloats(Object o) {
        ByteBuffer buffer = packedBytes(o, "float32");
        float[] out = new float[buffer.remaining() / 4];
        buffer.asFloatBuffer().get(out);
        return out;
    }

    /** A packed int8 or uint8 array's raw bytes. */
    public static byte[] packedBytes(Object o) {
        ByteBuffer buffer = packedBytes(o, dtype(o));
        byte[] out = new byte[buffer.remaining()];
        buffer.get(out);
        return out;
    }

    /** A packed (H, W, 3) uint8 RGB image as packed ARGB ints (alpha 255). */
    public static int[] packedArgb(Object o) {
        byte[] rgb = packedBytes(o);
        int[] out = new int[rgb.length / 3];
        for (int i = 0; i < out.length; i++) {
            out[i] = 0xFF000000 | (rgb[3 * i] & 0xFF) << 16 | (rgb[3 * i + 1] & 0xFF) << 8 | (rgb[3 * i + 2] & 0xFF);
        }
        return out;
    }
}
