package dev.denseface.core;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;

/**
 * Decoding of MediaPipe's BlazeFace outputs into {@link Detection}s; a line-by-line port of
 * {@code sdk/denseface/ssd.py} ({@code ssd_anchors}, {@code decode_boxes}, {@code weighted_nms}) and
 * {@code detect.py} (the sigmoid with clipping in {@code FaceDetector.detect}), themselves mirroring
 * MediaPipe's SsdAnchorsCalculator, TensorsToDetectionsCalculator and NonMaxSuppressionCalculator
 * (WEIGHTED, IoU).
 *
 * <p>Thread-safe: instances hold only immutable state.
 */
public final class BlazeFace {

    /** Raw logits are clipped to ±SCORE_CLIP before the sigmoid (MediaPipe's score_clipping_thresh). */
    public static final double SCORE_CLIP = 100.0;

    /** IoU above which a candidate joins a weighted-NMS cluster (MediaPipe: 0.3). */
    public static final float NMS_THRESHOLD = 0.3f;

    private final DetectorSpec spec;
    private final float[] anchors;

    /** A decoder for the detector described by {@code spec} (its anchors are computed once here). */
    public BlazeFace(DetectorSpec spec) {
        this.spec = spec;
        this.anchors = ssdAnchors(spec.inputSize(), spec.strides(), spec.anchorsPerLayer(), 0.5f);
    }

    /** The detector's spec. */
    public DetectorSpec spec() {
        return spec;
    }

    /** Number of anchors, i.e. rows the model's two outputs must have. */
    public int anchorCount() {
        return anchors.length / 4;
    }

    /**
     * SSD anchors as MediaPipe's SsdAnchorsCalculator makes them with {@code fixed_anchor_size: true}:
     * consecutive layers sharing a stride share one feature map; every anchor is 1 × 1.
     *
     * @return N × (x_center, y_center, width, height) flattened, normalised to the model input
     * @throws IllegalArgumentException for a size, stride or anchor count below 1
     */
    public static float[] ssdAnchors(int inputSize, int[] strides, int anchorsPerLayer, float offset) {
        boolean badStride = strides.length == 0;
        for (int stride : strides) {
            badStride |= stride < 1;
        }
        if (inputSize < 1 || anchorsPerLayer < 1 || badStride) {
            throw new IllegalArgumentException("input_size, anchors_per_layer and every stride must be >= 1");
        }
        List<float[]> rows = new ArrayList<>();
        int layer = 0;
        while (layer < strides.length) {
            int stride = strides[layer];
            int groupEnd = layer;
            while (groupEnd < strides.length && strides[groupEnd] == stride) {
                groupEnd++;
            }
            int perCell = anchorsPerLayer * (groupEnd - layer);
            int cells = (int) Math.ceil((double) inputSize / stride);
            for (int y = 0; y < cells; y++) {
                for (int x = 0; x < cells; x++) {
                    float[] centre = {(float) ((x + (double) offset) / cells), (float) ((y + (double) offset) / cells), 1f, 1f};
                    for (int k = 0; k < perCell; k++) {
                        rows.add(centre);
                    }
                }
            }
            layer = groupEnd;
        }
        float[] out = new float[rows.size() * 4];
        for (int i = 0; i < rows.size(); i++) {
            System.arraycopy(rows.get(i), 0, out, 4 * i, 4);
        }
        return out;
    }

    /** Score in [0, 1] of a raw logit: sigmoid of the logit clipped to ±{@link #SCORE_CLIP}, as float32. */
    public static float score(float logit) {
        double clipped = Math.max(-SCORE_CLIP, Math.min(SCORE_CLIP, logit));
        return (float) (1.0 / (1.0 + Math.exp(-clipped)));
    }

    /**
     * Decode one anchor's regressor row into a box and keypoints normalised to the model input.
     *
     * @param raw the regressor output, N × (dx, dy, w, h, kx0, ky0, ...) flattened (x before y)
     * @param row the anchor index
     * @param box out: (x0, y0, x1, y1)
     * @param keypoints out: K × (x, y)
     */
    public void decodeBox(float[] raw, int row, float[] box, float[] keypoints) {
        int width = DetectorSpec.REGRESSOR_SIZE;
        int base = row * width;
        float scale = spec.boxScale();
        float ax = anchors[4 * row], ay = anchors[4 * row + 1], aw = anchors[4 * row + 2], ah = anchors[4 * row + 3];
        float cx = raw[base] / scale * aw + ax;
        float cy = raw[base + 1] / scale * ah + ay;
        float w = raw[base + 2] / scale * aw;
        float h = raw[base + 3] / scale * ah;
        box[0] = cx - w / 2;
        box[1] = cy - h / 2;
        box[2] = cx + w / 2;
        box[3] = cy + h / 2;
        for (int k = 0; k < DetectorSpec.NUM_KEYPOINTS; k++) {
            keypoints[2 * k] = raw[base + 4 + 2 * k] / scale * aw + ax;
            keypoints[2 * k + 1] = raw[base + 5 + 2 * k] / scale * ah + ay;
        }
    }

    /**
     * Detections from the model's raw outputs, by descending score.
     *
     * @param regressors the (1, N, 16) "regressors" output, flattened
     * @param logits the (1, N, 1) "classificators" output, flattened
     * @param letterbox how the frame was fitted into the model input
     * @param minScore minimum score in (0, 1)
     * @param maxFaces most detections returned (>= 1)
     * @return detections in frame pixels; empty when none passes {@code minScore}
     * @throws IllegalArgumentException when the output sizes do not match the anchors
     */
    public List<Detection> decode(float[] regressors, float[] logits, Letterbox letterbox, float minScore, int maxFaces) {
        int count = anchorCount();
        if (logits.length != count || regressors.length != count * DetectorSpec.REGRESSOR_SIZE) {
            throw new IllegalArgumentException("detector outputs have " + logits.length + " scores and "
                    + regressors.length + " regressor values; the " + spec + " detector expects " + count
                    + " and " + count * DetectorSpec.REGRESSOR_SIZE + " (wrong detector model?)");
        }
        List<Candidate> candidates = new ArrayList<>();
        for (int i = 0; i < count; i++) {
            float s = score(logits[i]);
            if (s >= minScore) {
                float[] box = new float[4];
                float[] keypoints = new float[2 * DetectorSpec.NUM_KEYPOINTS];
                decodeBox(regressors, i, box, keypoints);
                candidates.add(new Candidate(box, s, keypoints));
            }
        }
        List<Detection> out = new ArrayList<>();
        for (Candidate c : weightedNms(candidates, NMS_THRESHOLD, maxFaces)) {
            float[] box = {
                letterbox.normalisedToFrameX(c.box[0]), letterbox.normalisedToFrameY(c.box[1]),
                letterbox.normalisedToFrameX(c.box[2]), letterbox.normalisedToFrameY(c.box[3]),
            };
            float[] keypoints = new float[c.keypoints.length];
            for (int k = 0; k < keypoints.length; k += 2) {
                keypoints[k] = letterbox.normalisedToFrameX(c.keypoints[k]);
                keypoints[k + 1] = letterbox.normalisedToFrameY(c.keypoints[k + 1]);
            }
            out.add(new Detection(box, c.score, keypoints));
        }
        return out;
    }

    /** A decoded candidate before suppression: box (x0, y0, x1, y1), score, keypoints K × (x, y). */
    public record Candidate(float[] box, float score, float[] keypoints) {}

    /** Intersection over union of two (x0, y0, x1, y1) boxes; 0 when the union is empty. */
    public static float iou(float[] a, float[] b) {
        float width = Math.max(Math.min(a[2], b[2]) - Math.max(a[0], b[0]), 0f);
        float height = Math.max(Math.min(a[3], b[3]) - Math.max(a[1], b[1]), 0f);
        float intersection = width * height;
        float union = (a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - intersection;
        return union > 0 ? intersection / union : 0f;
    }

    /**
     * MediaPipe's weighted non-maximum suppression: repeatedly take the highest-scoring remaining
     * candidate; every remaining candidate whose IoU with it exceeds {@code threshold} (itself
     * included) forms its cluster and is removed; the result has the cluster's score-weighted mean
     * box and keypoints and the top candidate's score.
     *
     * @param maxResults stop after this many results (&lt;= 0: no limit)
     * @return results by descending score
     */
    public static List<Candidate> weightedNms(List<Candidate> candidates, float threshold, int maxResults) {
        List<Candidate> remaining = new ArrayList<>(candidates);
        remaining.sort(Comparator.comparingDouble((Candidate c) -> -c.score)); // stable, like argsort(kind="stable")
        List<Candidate> out = new ArrayList<>();
        while (!remaining.isEmpty() && (maxResults <= 0 || out.size() < maxResults)) {
            Candidate top = remaining.get(0);
            List<Candidate> cluster = new ArrayList<>();
            List<Candidate> rest = new ArrayList<>();
            for (int i = 0; i < remaining.size(); i++) {
                Candidate c = remaining.get(i);
                if (i == 0 || iou(top.box, c.box) > threshold) {
                    cluster.add(c);
                } else {
                    rest.add(c);
                }
            }
            double total = 0;
            for (Candidate c : cluster) {
                total += c.score;
            }
            double[] box = new double[4];
            double[] keypoints = new double[top.keypoints.length];
            for (Candidate c : cluster) {
                double weight = c.score / total;
                for (int k = 0; k < 4; k++) {
                    box[k] += weight * c.box[k];
                }
                for (int k = 0; k < keypoints.length; k++) {
                    keypoints[k] += weight * c.keypoints[k];
                }
            }
            out.add(new Candidate(toFloat(box), top.score, toFloat(keypoints)));
            remaining = rest;
        }
        return out;
    }

    private static float[] toFloat(double[] values) {
        float[] out = new float[values.length];
        for (int i = 0; i < values.length; i++) {
            out[i] = (float) values[i];
        }
        return out;
    }
}
