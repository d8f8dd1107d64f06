package dev.denseface.core;

import java.util.ArrayList;
import java.util.List;
import java.util.function.Predicate;

/**
 * How the stages compose, for one image or a video stream: a port of {@code DenseFace.landmarks} and
 * {@code DenseFace.landmarks_for_video} in {@code sdk/denseface/api.py} (video mode: {@code Tracker} in
 * {@code track.py}), with the two models behind {@link Stages} so that this class needs no Android or
 * LiteRT import.
 *
 * <p>Video mode: while a face is tracked, its crop comes from its landmarks in the previous frame (no
 * detection). The detector runs when nothing is tracked, when a track is lost (its points are
 * non-finite, smaller than {@link #MIN_FACE_PX}, or no longer framed as a face, see
 * {@link #looksTracked}), when a track's crop no longer shows what it showed in the previous frame
 * ({@link #sameContent}; such a track is kept only if a detection confirms it), and every
 * {@code redetectInterval} frames (then tracks the detector no longer confirms are dropped and new
 * faces start tracks). Points are smoothed by a One-Euro filter per track; the next crop uses the
 * unsmoothed points.
 *
 * <p>Not thread-safe (video mode keeps tracking state): one instance per stream.
 *
 * @param <F> the caller's frame type (e.g. an ARGB pixel array with its size)
 */
public final class FacePipeline<F> {

    /** The two models, run by the caller (on Android: LiteRT interpreters). */
    public interface Stages<F> {
        /** Detections in frame pixels, by descending score, at most the options' maxFaces. */
        List<Detection> detect(F frame);

        /** The frame's width, pixels. */
        int width(F frame);

        /** The frame's height, pixels. */
        int height(F frame);

        /**
         * The {@code crop.size()}² × 3 RGB bytes of {@code frame} under {@code crop}
         * ({@link ImageOps#warpToRgb}); the next call may reuse the array.
         */
        byte[] crop(F frame, CropTransform crop);

        /** The landmark model's 1560 dequantized outputs for a crop made by {@link #crop}. */
        float[] landmarks(byte[] cropRgb);
    }

    /**
     * Options (see {@code DenseFaceOptions} in api.py).
     *
     * @param maxFaces most faces per frame (&gt;= 1)
     * @param minCutoff One-Euro cutoff at rest, Hz (&gt; 0)
     * @param beta One-Euro speed coefficient, 1/px (&gt;= 0)
     * @param redetectInterval run the detector every this many frames even while tracking; 0 = only
     *     when no face is tracked or a track is lost
     */
    public record Options(int maxFaces, double minCutoff, double beta, int redetectInterval) {
        /** The SDK's defaults: 1 face, min_cutoff 1 Hz, beta 0.05, re-detect every 30 frames. */
        public static Options defaults() {
            return new Options(1, 1.0, 0.05, 30);
        }

        /** @throws IllegalArgumentException for a value out of range */
        public Options {
            if (maxFaces < 1) {
                throw new IllegalArgumentException("maxFaces must be >= 1, got " + maxFaces);
            }
            if (!(minCutoff > 0) || !(beta >= 0)) {
                throw new IllegalArgumentException("need minCutoff > 0 and beta >= 0, got " + minCutoff + " and " + beta);
            }
            if (redetectInterval < 0) {
                throw new IllegalArgumentException("redetectInterval must be >= 0, got " + redetectInterval);
            }
        }
    }

    /** A track is lost when its 68-point box side, relative to the crop rule's, leaves this range. */
    public static final double[] TRACK_SIDE_RANGE = {0.5, 1.6};

    /** ... or its centre moves further than this fraction of the crop side from the crop's centre. */
    public static final double TRACK_MAX_SHIFT = 0.25;

    /**
     * A track is confirmed on every frame by its crop's content (track.py's appearance check): a grey
     * thumbnail of the crop, {@code APPEARANCE_SIDE}² cells of 8 × 8 pixels, zero-mean over the cells
     * inside the frame, must correlate with the previous frame's by at least {@link #APPEARANCE_MIN_NCC}
     * and show a standard deviation of at least {@link #APPEARANCE_MIN_STD} grey levels; otherwise the
     * detector runs and the track lives on only if a detection confirms it (no ghost when the face goes).
     */
    public static final int APPEARANCE_SIDE = Crop.MODEL_INPUT / 8;

    /** Least normalised correlation of consecutive thumbnails of a track's crop. */
    public static final double APPEARANCE_MIN_NCC = 0.5;

    /** Least standard deviation of a thumbnail, grey levels. */
    public static final double APPEARANCE_MIN_STD = 2.0;

    /** A tracked face whose 68-point box side falls below this (frame px) is lost. */
    public static final double MIN_FACE_PX = 8.0;

    /**
     * Dead band of the tracking crop (track.py's TRACK_DEAD_BAND): the next frame keeps the current crop
     * unless the new one's centre moved more than this fraction of the crop side or its scale changed
     * by more than this fraction (or its roll by {@link #TRACK_DEAD_BAND_DEG}).
     */
    public static final double TRACK_DEAD_BAND = 0.03;

    /** Roll change, degrees, below which the tracking crop is kept. */
    public static final double TRACK_DEAD_BAND_DEG = 3.0;

    /**
     * The detection crop keeps rolls of BlazeFace's eye line up to this many degrees (crop.py's
     * DETECTION_FREE_ROLL_DEG, the model's trained rotation range: the eye keypoints' roll is unreliable
     * off-frontal).
     */
    public static final double DETECTION_FREE_ROLL_DEG = 45.0;

    private final Options options;
    private final HeadPose headPose;
    private List<Track> tracks = new ArrayList<>();
    private double lastTimestampMs = Double.NaN;
    private int framesSinceDetection;

    private static final class Track {
        CropTransform crop; // where to look in the next frame
        float score;
        final OneEuroFilter smoother;
        float[] box; // last 68-point box, to match detections
        float[] look; // appearance() of the last frame's crop; null before the first

        Track(CropTransform crop, float score, OneEuroFilter smoother, float[] box) {
            this.crop = crop;
            this.score = score;
            this.smoother = smoother;
            this.box = box;
        }
    }

    /** A pipeline fitting poses to {@code topology}'s mean shape. */
    public FacePipeline(Topology topology, Options options) {
        this.options = options;
        this.headPose = new HeadPose(topology);
    }

    /** The options in force. */
    public Options options() {
        return options;
    }

    /** Landmarks of the faces in one independent image, by descending detector score; empty when none. */
    public List<Face> landmarks(F frame, Stages<F> stages) {
        List<Face> faces = new ArrayList<>();
        for (Detection detection : stages.detect(frame)) {
            CropTransform crop = detectionCrop(detection);
            float[] output = stages.landmarks(stages.crop(frame, crop));
            faces.add(makeFace(LandmarkDecoder.decode(output, crop), detection.score()));
            if (faces.size() == options.maxFaces()) {
                break;
            }
        }
        return faces;
    }

    /**
     * Landmarks of the faces in one frame of a video stream (tracking and smoothing, see the class comment).
     *
     * @param timestampMs the frame's time, greater than the previous call's
     * @throws IllegalArgumentException for a timestamp that is not finite or not after the previous one
     */
    public List<Face> landmarksForVideo(F frame, double timestampMs, Stages<F> stages) {
        if (!Double.isFinite(timestampMs)) {
            throw new IllegalArgumentException("timestampMs must be finite, got " + timestampMs);
        }
        if (!Double.isNaN(lastTimestampMs) && timestampMs <= lastTimestampMs) {
            throw new IllegalArgumentException("timestampMs must increase: got " + timestampMs + " after " + lastTimestampMs);
        }
        lastTimestampMs = timestampMs;
        int interval = options.redetectInterval();
        boolean detected = tracks.isEmpty() || (interval > 0 && framesSinceDetection >= interval);
        if (detected) {
            tracks = updateTracks(tracks, stages.detect(frame), track -> true);
        }
        List<Face> faces = new ArrayList<>();
        List<Track> doubtful = new ArrayList<>();
        List<Track> alive = track(frame, tracks, timestampMs, stages, detected, faces, doubtful);
        if (!detected && (alive.size() < tracks.size() || !doubtful.isEmpty())) {
            // a track was lost, or its crop changed beyond a moving face's change: look again now; the
            // doubtful tracks live on only if a detection confirms them, new faces start tracks
            detected = true;
            List<Track> all = updateTracks(alive, stages.detect(frame), doubtful::contains);
            List<Face> keptFaces = new ArrayList<>();
            List<Track> kept = new ArrayList<>();
            for (int i = 0; i < alive.size(); i++) {
                if (all.contains(alive.get(i))) {
                    keptFaces.add(faces.get(i));
                    kept.add(alive.get(i));
                }
            }
            List<Track> fresh = new ArrayList<>(all);
            fresh.removeAll(alive);
            kept.addAll(track(frame, fresh, timestampMs, stages, true, keptFaces, new ArrayList<>()));
            faces = keptFaces;
            alive = kept;
        }
        tracks = alive;
        framesSinceDetection = detected ? 1 : framesSinceDetection + 1;
        return faces;
    }

    /** Forget the tracks and the last timestamp (start a new stream, e.g. after switching cameras). */
    public void reset() {
        tracks = new ArrayList<>();
        lastTimestampMs = Double.NaN;
        framesSinceDetection = 0;
    }

    /**
     * The roll (degrees) the detection crop removes given the eye keypoints' roll: only the part
     * beyond ±{@link #DETECTION_FREE_ROLL_DEG} (crop.py's detection_roll).
     */
    public static double detectionRoll(double eyeRollDeg) {
        return eyeRollDeg - Math.min(Math.max(eyeRollDeg, -DETECTION_FREE_ROLL_DEG), DETECTION_FREE_ROLL_DEG);
    }

    /**
     * The model's crop for a BlazeFace detection: its box ("blazeface" convention), rolled by
     * {@link #detectionRoll} of the angle of its eye keypoints.
     */
    public static CropTransform detectionCrop(Detection detection) {
        double roll = HeadPose.rollFromEyes(detection.keypointX(0), detection.keypointY(0),
                detection.keypointX(1), detection.keypointY(1));
        return Crop.cropFromBox(detection.box(), "blazeface", Crop.MODEL_INPUT, detectionRoll(roll));
    }

    /**
     * The next frame's crop from a face's 520 × 3 frame points: their 68-point square box ×√2, rolled
     * by the angle of the outer eye corners (iBUG 36 and 45).
     */
    public static CropTransform trackingCrop(float[] points) {
        double roll = HeadPose.rollFromEyes(points[3 * 36], points[3 * 36 + 1], points[3 * 45], points[3 * 45 + 1]);
        return Crop.cropFromLandmarks(points, 3, LandmarkDecoder.N_LANDMARKS68, Crop.MODEL_INPUT, roll);
    }

    /**
     * The crop for the next frame: {@link #trackingCrop}, or {@code current} when that one moved less
     * than the dead band ({@link #TRACK_DEAD_BAND}, {@link #TRACK_DEAD_BAND_DEG}); track.next_tracking_crop.
     */
    public static CropTransform nextTrackingCrop(CropTransform current, float[] points) {
        CropTransform proposed = trackingCrop(points);
        float middle = (current.size() - 1) / 2.0f;
        float[] a = proposed.toFrame(new float[] {middle, middle}, 2);
        float[] b = current.toFrame(new float[] {middle, middle}, 2);
        double shift = Math.hypot(a[0] - b[0], a[1] - b[1]);
        double scaleChange = Math.abs(proposed.scale() / current.scale() - 1.0);
        double rollChange = Math.abs(Math.IEEEremainder(cropRoll(proposed) - cropRoll(current), 2 * Math.PI));
        if (shift <= TRACK_DEAD_BAND * current.size() / current.scale() && scaleChange <= TRACK_DEAD_BAND
                && Math.toDegrees(rollChange) <= TRACK_DEAD_BAND_DEG) {
            return current;
        }
        return proposed;
    }

    /** The rotation of a crop transform, radians. */
    public static double cropRoll(CropTransform transform) {
        double[] m = transform.matrix();
        return Math.atan2(m[3], m[0]);
    }

    /**
     * Whether 520 × 3 points in crop pixels are framed as the crop rule frames a face (see
     * {@link #TRACK_SIDE_RANGE}, {@link #TRACK_MAX_SHIFT}); false also for non-finite points.
     */
    public static boolean looksTracked(float[] cropPoints) {
        for (float v : cropPoints) {
            if (!Float.isFinite(v)) {
                return false;
            }
        }
        float[] box = box68(cropPoints);
        double side = Math.max(box[2] - box[0], box[3] - box[1]) / (Crop.MODEL_INPUT / Math.sqrt(2.0));
        double centre = (Crop.MODEL_INPUT - 1) / 2.0;
        double shift = Math.max(Math.abs((box[0] + box[2]) / 2.0 - centre), Math.abs((box[1] + box[3]) / 2.0 - centre))
                / Crop.MODEL_INPUT;
        return TRACK_SIDE_RANGE[0] <= side && side <= TRACK_SIDE_RANGE[1] && shift <= TRACK_MAX_SHIFT;
    }

    /**
     * The crop-content thumbnail of a crop (track.appearance): {@code APPEARANCE_SIDE}² grey levels,
     * each cell the mean of 8 × 8 pixels (OpenCV's RGB2GRAY, (9798 R + 19235 G + 3735 B + 2¹⁴) >> 15,
     * then INTER_AREA's rounded block mean), minus their mean over the {@code cells} inside the frame;
     * 0 in the other cells.
     *
     * @param rgb MODEL_INPUT × MODEL_INPUT × 3 RGB bytes, row-major
     * @param cells APPEARANCE_SIDE² flags from {@link #frameCells}, row-major
     */
    public static float[] appearance(byte[] rgb, boolean[] cells) {
        int side = Crop.MODEL_INPUT, n = APPEARANCE_SIDE, block = side / n;
        if (rgb.length != side * side * 3 || cells.length != n * n) {
            throw new IllegalArgumentException("need " + side + " x " + side + " x 3 bytes and " + n * n + " cells");
        }
        int[] sums = new int[n * n];
        for (int v = 0; v < side; v++) {
            for (int u = 0; u < side; u++) {
                int o = 3 * (v * side + u);
                int grey = ((rgb[o] & 0xFF) * 9798 + (rgb[o + 1] & 0xFF) * 19235 + (rgb[o + 2] & 0xFF) * 3735 + (1 << 14)) >> 15;
                sums[(v / block) * n + u / block] += grey;
            }
        }
        float[] look = new float[n * n];
        double total = 0;
        int inside = 0;
        for (int i = 0; i < n * n; i++) {
            look[i] = (float) Math.rint(sums[i] / (double) (block * block)); // half to even, as OpenCV
            if (cells[i]) {
                total += look[i];
                inside++;
            }
        }
        float mean = inside > 0 ? (float) (total / inside) : 0f;
        for (int i = 0; i < n * n; i++) {
            look[i] = cells[i] ? look[i] - mean : 0f;
        }
        return look;
    }

    /**
     * The thumbnail cells (8 × 8 crop pixels each, row-major) whose every crop pixel samples inside a
     * width × height frame, for the crop made by {@code transform} (track.frame_cells).
     */
    public static boolean[] frameCells(CropTransform transform, int width, int height) {
        int n = APPEARANCE_SIDE;
        double[] m = transform.inverse();
        boolean[] corner = new boolean[(n + 1) * (n + 1)];
        for (int j = 0; j <= n; j++) {
            for (int i = 0; i <= n; i++) {
                double u = i * (Crop.MODEL_INPUT / (double) n) - 0.5, v = j * (Crop.MODEL_INPUT / (double) n) - 0.5;
                double x = m[0] * u + m[1] * v + m[2], y = m[3] * u + m[4] * v + m[5];
                corner[j * (n + 1) + i] = x >= 0 && x <= width - 1 && y >= 0 && y <= height - 1;
            }
        }
        boolean[] cells = new boolean[n * n];
        for (int j = 0; j < n; j++) {
            for (int i = 0; i < n; i++) {
                int k = j * (n + 1) + i;
                cells[j * n + i] = corner[k] && corner[k + 1] && corner[k + n + 1] && corner[k + n + 2];
            }
        }
        return cells;
    }

    /**
     * Whether two {@link #appearance} thumbnails show the same textured content (track.same_content):
     * both with a standard deviation of at least {@link #APPEARANCE_MIN_STD} over all cells and a
     * normalised correlation of at least {@link #APPEARANCE_MIN_NCC}.
     */
    public static boolean sameContent(float[] previous, float[] current) {
        double dot = 0, a = 0, b = 0;
        for (int i = 0; i < previous.length; i++) {
            dot += (double) previous[i] * current[i];
            a += (double) previous[i] * previous[i];
            b += (double) current[i] * current[i];
        }
        double floor = APPEARANCE_MIN_STD * APPEARANCE_SIDE; // the norm of a thumbnail whose std is the minimum
        a = Math.sqrt(a);
        b = Math.sqrt(b);
        return a >= floor && b >= floor && dot / (a * b) >= APPEARANCE_MIN_NCC;
    }

    /** (x0, y0, x1, y1): the tight box of the 68 landmarks' (x, y) among 520 × 3 points. */
    public static float[] box68(float[] points) {
        float x0 = Float.POSITIVE_INFINITY, y0 = Float.POSITIVE_INFINITY;
        float x1 = Float.NEGATIVE_INFINITY, y1 = Float.NEGATIVE_INFINITY;
        for (int i = 0; i < LandmarkDecoder.N_LANDMARKS68; i++) {
            x0 = Math.min(x0, points[3 * i]);
            y0 = Math.min(y0, points[3 * i + 1]);
            x1 = Math.max(x1, points[3 * i]);
            y1 = Math.max(y1, points[3 * i + 1]);
        }
        return new float[] {x0, y0, x1, y1};
    }

    /** A {@link Face} from 520 × 3 frame points: box from the 68 points, pose from all 520. */
    public Face makeFace(float[] points, float score) {
        return new Face(points, box68(points), score, headPose.headPose(points));
    }

    /**
     * Match detections to tracks (a detection confirms a track when its centre lies in the track's
     * 68-point box). Returns the tracks kept (confirmed ones and those {@code mustConfirm} spares, in
     * order), then new tracks for the unmatched detections; at most maxFaces in all.
     */
    private List<Track> updateTracks(List<Track> current, List<Detection> detections, Predicate<Track> mustConfirm) {
        List<Track> kept = new ArrayList<>();
        boolean[] used = new boolean[detections.size()];
        for (Track track : current) {
            int match = -1;
            for (int i = 0; i < detections.size() && match < 0; i++) {
                float[] b = detections.get(i).box();
                float cx = (b[0] + b[2]) / 2, cy = (b[1] + b[3]) / 2;
                if (!used[i] && track.box[0] <= cx && cx <= track.box[2] && track.box[1] <= cy && cy <= track.box[3]) {
                    match = i;
                }
            }
            if (match >= 0) {
                used[match] = true;
                track.score = detections.get(match).score();
            }
            if (match >= 0 || !mustConfirm.test(track)) {
                kept.add(track);
            }
        }
        for (int i = 0; i < detections.size(); i++) {
            if (!used[i] && kept.size() < options.maxFaces()) {
                Detection d = detections.get(i);
                OneEuroFilter smoother = new OneEuroFilter(options.minCutoff(), options.beta(), 1.0);
                kept.add(new Track(detectionCrop(d), d.score(), smoother, d.box()));
            }
        }
        return kept;
    }

    /**
     * Run the model on each track's crop; adds the faces to {@code faces} and, unless the detector
     * {@code confirmed} the tracks on this frame, the alive tracks whose crop no longer shows what it
     * showed in the previous frame to {@code doubtful}. Returns the tracks still alive (one per face).
     */
    private List<Track> track(F frame, List<Track> current, double timestampMs, Stages<F> stages, boolean confirmed,
                              List<Face> faces, List<Track> doubtful) {
        List<Track> alive = new ArrayList<>();
        for (Track track : current) {
            byte[] rgb = stages.crop(frame, track.crop);
            float[] look = appearance(rgb, frameCells(track.crop, stages.width(frame), stages.height(frame)));
            float[] output = stages.landmarks(rgb);
            float[] points = LandmarkDecoder.decode(output, track.crop);
            boolean finite = true;
            for (float v : points) {
                finite &= Float.isFinite(v);
            }
            float[] box = box68(points);
            double side = finite ? Math.max(box[2] - box[0], box[3] - box[1]) : 0.0;
            if (!looksTracked(LandmarkDecoder.toCropPoints(output)) || side < MIN_FACE_PX) {
                continue; // track lost
            }
            if (!confirmed && track.look != null && !sameContent(track.look, look)) {
                doubtful.add(track); // its crop changed: a detection must confirm it
            }
            Face face = makeFace(track.smoother.filter(points, timestampMs), track.score);
            track.crop = nextTrackingCrop(track.crop, points);
            track.box = face.box();
            track.look = look;
            faces.add(face);
            alive.add(track);
        }
        return alive;
    }
}
