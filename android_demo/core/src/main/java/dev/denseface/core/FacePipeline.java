package dev.denseface.core;

import java.util.ArrayList;
import java.util.List;

/**
 * How the stages compose, for one image or a video stream: a port of {@code DenseFace.landmarks} and
 * {@code DenseFace.landmarks_for_video} in {@code sdk/denseface/api.py} (video mode: {@code Tracker} in
 * {@code track.py}), with the two models behind {@link Stages} so that this class needs no Android or
 * LiteRT import.
 *
 * <p>Video mode: while a face is tracked, its crop comes from its landmarks in the previous frame (no
 * detection). The detector runs when nothing is tracked, when a track is lost (its points are
 * non-finite, smaller than {@link #MIN_FACE_PX}, or no longer framed as a face, see
 * {@link #looksTracked}), and every {@code redetectInterval} frames (then tracks the detector no longer
 * confirms are dropped and new faces start tracks). Points are smoothed by a One-Euro filter per
 * track; the next crop uses the unsmoothed points.
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

        /** The landmark model's 1560 dequantized outputs for the crop of {@code frame} made by {@code crop}. */
        float[] landmarks(F frame, CropTransform crop);
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
            faces.add(makeFace(LandmarkDecoder.decode(stages.landmarks(frame, crop), crop), detection.score()));
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
            tracks = updateTracks(tracks, stages.detect(frame), true);
        }
        List<Face> faces = new ArrayList<>();
        List<Track> kept = track(frame, tracks, timestampMs, stages, faces);
        if (kept.size() < tracks.size() && !detected) { // a track was lost: look again now
            detected = true;
            List<Track> all = updateTracks(kept, stages.detect(frame), false);
            List<Track> fresh = new ArrayList<>(all.subList(kept.size(), all.size()));
            kept.addAll(track(frame, fresh, timestampMs, stages, faces));
        }
        tracks = kept;
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

    private List<Track> updateTracks(List<Track> current, List<Detection> detections, boolean dropUnconfirmed) {
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
            if (match >= 0 || !dropUnconfirmed) {
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

    private List<Track> track(F frame, List<Track> current, double timestampMs, Stages<F> stages, List<Face> faces) {
        List<Track> alive = new ArrayList<>();
        for (Track track : current) {
            float[] output = stages.landmarks(frame, track.crop);
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
            Face face = makeFace(track.smoother.filter(points, timestampMs), track.score);
            track.crop = nextTrackingCrop(track.crop, points);
            track.box = face.box();
            faces.add(face);
            alive.add(track);
        }
        return alive;
    }
}
