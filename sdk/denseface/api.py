"""DenseFace's public task: a camera frame in, a list of faces with 520 dense 3D landmarks out.

    from denseface import DenseFace
    faces = DenseFace().landmarks(rgb_frame)       # [Face(points (520, 3), points68, box, score, pose)]

Each call of :meth:`DenseFace.landmarks` composes the stage modules: ``detect`` (BlazeFace) →
``crop`` (the model's crop rule) → ``infer`` (the LiteRT landmark model) → ``decode`` (model output →
frame pixels) → ``pose``. Video mode adds tracking (the next frame's crop from the current landmarks)
and ``smooth`` (One-Euro filter).

Coordinates: frame pixels in OpenCV's convention (x right, y down, pixel centres at integers); z in
the same pixel scale, relative depth (the mean depth of a face's 520 points is 0), +z towards the
camera.

Thread-safety: one DenseFace instance may be shared by threads: its calls are serialised by a lock
(its LiteRT interpreters and, in video mode, its tracking state serve one call at a time), so shared
use is correct but not parallel. For parallel work use one instance per thread; instances are
independent and give identical results for identical inputs.
"""
from __future__ import annotations

import dataclasses
import enum
import functools
import logging
import math
import threading
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Callable, Iterable

import cv2
import numpy as np

from denseface.crop import BOX_CONVENTIONS, MODEL_INPUT, CropTransform, crop_from_box, crop_from_landmarks
from denseface.decode import OUTPUT_SIZE, decode, to_crop_points
from denseface.detect import DETECTOR_SPECS, Detection, DetectorOptions, FaceDetector, check_frame
from denseface.infer import TFLiteModel
from denseface.pose import head_pose, roll_from_eyes
from denseface.smooth import OneEuroFilter
from denseface.topology import IBUG68, N_POINTS

logger = logging.getLogger(__name__)

BUNDLED_MODEL = "models/denseface_int8.tflite"  # inside the denseface package

# Tracking is lost when the model's 68 points, in the crop they were predicted in, stop looking like
# the crop rule's framing (square box side = MODEL_INPUT / √2 ≈ 85 px, centred): side outside
# these fractions of the expected side, or centre further than TRACK_MAX_SHIFT × MODEL_INPUT away.
TRACK_SIDE_RANGE = (0.5, 1.6)
TRACK_MAX_SHIFT = 0.25
MIN_FACE_PX = 8.0  # a tracked face whose 68-point box side falls below this (frame px) is lost
# Dead band of the tracking crop: the next frame keeps the current crop unless the new one's centre
# moved more than this fraction of the crop side or its side changed by more than this fraction
# (or its roll by TRACK_DEAD_BAND_DEG). Without it, a still face's crop random-walks with the model's
# noise and the tracking loop amplifies it (first model: 11.45 px jitter vs 3.02 px in image mode).
TRACK_DEAD_BAND = 0.03
TRACK_DEAD_BAND_DEG = 3.0
# A track is confirmed on every frame by its crop's content: a small grey thumbnail of the crop
# (APPEARANCE_SIDE² pixels) must correlate with the previous frame's by at least APPEARANCE_MIN_NCC
# (zero-mean normalised cross-correlation) and show some texture (standard deviation at least
# APPEARANCE_MIN_STD grey levels). Otherwise the detector runs on that frame and the track lives on
# only if a detection confirms it, so a face that vanishes (a cut, a covered lens, a black or grey
# frame) is dropped on the first frame without it. The landmark model itself has no face-presence
# output; the landmarks of a crop without a face still look like a face.
APPEARANCE_SIDE = 16
APPEARANCE_MIN_NCC = 0.5
APPEARANCE_MIN_STD = 2.0
# The detection crop keeps rolls of BlazeFace's eye line up to this many degrees, the rotation range
# the model is trained on, and removes only the excess: the eye keypoints' roll is unreliable
# off-frontal (error against the labels on the validation renders, |yaw| > 60: median 11.3°, 90th
# percentile 34.2°). Validation NME through detection crops by |yaw| bin, balanced (python -m
# train.calibrate_boxes --model ...; model r3 / bundled model r6): whole eye roll 2.95 / 2.56, none
# 2.79 / 2.48, beyond ±30° 2.85 / 2.53, beyond ±45° 2.83 / 2.53 — nearly "none", while faces rolled
# past 45° still reach the model upright.
DETECTION_FREE_ROLL_DEG = 45.0


class RunningMode(enum.Enum):
    """IMAGE: independent frames, :meth:`DenseFace.landmarks`. VIDEO: frames of one stream with
    increasing timestamps, :meth:`DenseFace.landmarks_for_video` (tracking and smoothing)."""

    IMAGE = "image"
    VIDEO = "video"


@dataclass(frozen=True)
class DenseFaceOptions:
    """Options of :class:`DenseFace`.

    Attributes:
        model_path: landmark model .tflite; None = the bundled int8 model (``BUNDLED_MODEL``).
        detector: BlazeFace model: "short" (faces within ~2 m) or "full" (192×192 sparse model).
        detector_path: explicit detector .tflite instead of the bundled BlazeFace one.
        max_faces: most faces returned per frame (>= 1), highest detector scores first.
        min_score: minimum detector score in (0, 1).
        num_threads: CPU threads of each LiteRT interpreter (>= 1).
        color_order: channel order of the frames passed in: "rgb" or "bgr" (OpenCV's imread/VideoCapture).
        running_mode: :class:`RunningMode`; selects which method may be called.
        min_cutoff: VIDEO: One-Euro cutoff at rest, Hz (> 0); lower = steadier, more lag.
        beta: VIDEO: One-Euro speed coefficient, 1/px (>= 0); higher = less lag on fast motion.
        redetect_interval: VIDEO: run the detector every this many frames even while tracking (to
            find new faces and drop faces the detector no longer sees); 0 = only when no face is
            tracked or a track is lost.

    Raises (on construction):
        ValueError: a value out of range or an unknown name.
    """

    model_path: str | Path | None = None
    detector: str = "short"
    detector_path: str | Path | None = None
    max_faces: int = 1
    min_score: float = 0.5
    num_threads: int = 1
    color_order: str = "rgb"
    running_mode: RunningMode = RunningMode.IMAGE
    min_cutoff: float = 1.0
    beta: float = 0.05
    redetect_interval: int = 30

    def __post_init__(self) -> None:
        if self.detector not in DETECTOR_SPECS:
            raise ValueError(f"unknown detector {self.detector!r}; expected one of {sorted(DETECTOR_SPECS)}")
        if not isinstance(self.max_faces, int) or self.max_faces < 1:
            raise ValueError(f"max_faces must be an int >= 1, got {self.max_faces!r}")
        if not 0.0 < self.min_score < 1.0:
            raise ValueError(f"min_score must be in (0, 1), got {self.min_score}")
        if self.color_order not in ("rgb", "bgr"):
            raise ValueError(f"color_order must be 'rgb' or 'bgr', got {self.color_order!r}")
        if not isinstance(self.running_mode, RunningMode):
            raise ValueError(f"running_mode must be a RunningMode (IMAGE or VIDEO), got {self.running_mode!r}")
        if not self.min_cutoff > 0 or not self.beta >= 0:
            raise ValueError(f"need min_cutoff > 0 and beta >= 0, got {self.min_cutoff} and {self.beta}")
        if not isinstance(self.redetect_interval, int) or self.redetect_interval < 0:
            raise ValueError(f"redetect_interval must be an int >= 0, got {self.redetect_interval!r}")


@dataclass(frozen=True, eq=False)
class Face:
    """One face's landmarks (arrays are read-only).

    Attributes:
        points: (520, 3) float32 the dense points of ``denseface.topology`` in frame pixels: x right,
            y down; z in the same pixel scale, relative depth (mean over the 520 points = 0), +z
            towards the camera.
        box: (x0, y0, x1, y1) frame pixels, the tight box of the 68 points' (x, y).
        score: the detector's score in [0, 1] for a detected face (in VIDEO mode, that of the
            detection that started or last confirmed the track); NaN for a face from a caller's box.
        pose: (yaw, pitch, roll) degrees (``denseface.pose``: yaw > 0 nose towards image right,
            pitch > 0 looking down, roll > 0 counter-clockwise on screen; see the property for
            AFLW2000-3D's and MediaPipe's conventions); fitted on first access (a rigid fit of the
            520 points, ~0.2 ms), then kept.
    """

    points: np.ndarray
    box: tuple[float, float, float, float]
    score: float

    @functools.cached_property
    def pose(self) -> tuple[float, float, float]:
        """(yaw, pitch, roll) degrees of the head, from all 520 points (``denseface.pose``).

        Signs, as seen in the image: yaw > 0 the nose turns towards image right (the subject turns to
        their own left); pitch > 0 the nose moves down (the subject looks down); roll > 0 the head
        tilts counter-clockwise on screen. ``R = Rz(roll) · Ry(yaw) · Rx(pitch)``; all 0 = facing the
        camera, upright.

        AFLW2000-3D's yaw (3DDFA's ground truth) has the opposite sign: ours ≈ −theirs (the bundled
        model on its 688 faces with |yaw| > 30°, ground-truth boxes: opposite signs for all but one,
        correlation −0.96).
        MediaPipe's face landmarker reports no angles; its facial transformation matrix uses the
        same frames (canonical face: x towards the viewer's right, y up, z towards the viewer;
        camera: x right, y up, z towards the viewer), so its rotation decomposed as
        Rz(roll) · Ry(yaw) · Rx(pitch) gives these angles with these signs.
        """
        return head_pose(self.points)

    def __repr__(self) -> str:
        """A summary: the box (rounded to 0.1 px), the score and the points' shape and dtype."""
        box = ", ".join(f"{v:.1f}" for v in self.box)
        return f"Face(box=({box}) px, score={self.score:.2f}, points={self.points.shape} {self.points.dtype})"

    @property
    def points68(self) -> np.ndarray:
        """(68, 3) float32 the iBUG 68 landmarks (the first 68 of ``points``), same frame."""
        return self.points[: len(IBUG68)]  # a read-only view: the 68 are the first points


def bundled_model_path() -> Path:
    """Path of the bundled int8 landmark model; FileNotFoundError when this installation lacks it."""
    path = Path(str(resources.files("denseface").joinpath(BUNDLED_MODEL)))
    if not path.is_file():
        raise FileNotFoundError(
            f"the bundled landmark model {path} is missing from this installation; "
            "pass model_path= (CLI: --model) to a DenseFace .tflite model"
        )
    return path


def load_landmark_model(path: str | Path | None, num_threads: int = 1) -> TFLiteModel:
    """Load and check a landmark model: one (1, 120, 120, 3) input, one output of 1560 values.

    Raises:
        FileNotFoundError: no such file (or no bundled model for ``path=None``).
        ValueError: not a loadable .tflite, or its tensors do not match the contract.
    """
    model = TFLiteModel(bundled_model_path() if path is None else Path(path), num_threads)
    expected = (1, MODEL_INPUT, MODEL_INPUT, 3)
    if model.input_shape != expected:
        raise ValueError(
            f"{model.path.name} has input shape {model.input_shape}; a DenseFace landmark model takes "
            f"{expected} (is this the landmark model?)"
        )
    if len(model.output_shapes) != 1 or math.prod(model.output_shapes[0]) != OUTPUT_SIZE:
        raise ValueError(
            f"{model.path.name} has output shapes {model.output_shapes}; a DenseFace landmark model has one "
            f"output of {OUTPUT_SIZE} values ({N_POINTS} points × 3)"
        )
    return model


def prepare_frame(frame: object, color_order: str = "rgb") -> np.ndarray:
    """Check a frame and return it as a C-contiguous (H, W, 3) uint8 RGB array.

    Accepted: uint8 (H, W, 3) in ``color_order``; uint8 gray (H, W) or (H, W, 1) (converted to RGB);
    any strides (non-contiguous views are copied once). H and W must be >= 2. An RGB contiguous
    frame is returned as is (no copy); a BGR or gray frame costs one frame-sized copy.

    Raises:
        TypeError: None, not a numpy array, or a dtype other than uint8 (the message says how to convert).
        ValueError: wrong dimensions, 2 or 4+ channels, or H or W < 2.
    """
    if isinstance(frame, np.ndarray) and frame.dtype != np.uint8:
        if np.issubdtype(frame.dtype, np.floating):
            hint = "for floats in 0..1 use (frame * 255).round().clip(0, 255).astype(np.uint8)"
        elif frame.dtype == np.uint16:
            hint = "for 16-bit images use (frame >> 8).astype(np.uint8)"
        else:
            hint = "scale the values to 0..255 and use .astype(np.uint8)"
        raise TypeError(f"frame has dtype {frame.dtype}; pass a uint8 (H, W, 3) RGB array: {hint}")
    if isinstance(frame, np.ndarray) and frame.ndim in (2, 3):
        if min(frame.shape[:2]) < 2:
            raise ValueError(f"frame is {frame.shape[0]}x{frame.shape[1]} pixels; height and width must both be at least 2")
        if frame.ndim == 3 and frame.shape[2] == 1:
            frame = frame[:, :, 0]
        if frame.ndim == 2:
            frame = cv2.cvtColor(np.ascontiguousarray(frame), cv2.COLOR_GRAY2RGB)
        elif frame.shape[2] == 3 and color_order == "bgr":
            frame = np.ascontiguousarray(frame[:, :, ::-1])
    return check_frame(frame)


def check_boxes(faces: Iterable, height: int, width: int) -> list[tuple[float, float, float, float]]:
    """Caller boxes → list of (x0, y0, x1, y1) floats. Each item is 4 numbers or has a ``.box``.

    A box may stick out of the frame (the crop pads with black).

    Raises:
        ValueError: not 4 numbers, NaN/inf, x1 <= x0 or y1 <= y0, or entirely outside the frame.
    """
    boxes = []
    for face in faces:
        box = np.asarray(getattr(face, "box", face), np.float64)
        if box.shape != (4,):
            raise ValueError(
                f"a face box must be 4 numbers (x0, y0, x1, y1), got shape {box.shape} "
                "(faces= takes a list of boxes, e.g. [(x0, y0, x1, y1)])"
            )
        x0, y0, x1, y1 = (float(v) for v in box)
        shown = f"({x0:g}, {y0:g}, {x1:g}, {y1:g})"  # plain numbers: nan, not np.float64(nan)
        if not np.isfinite(box).all():
            raise ValueError(f"face box {shown} contains NaN or inf")
        if x1 <= x0 or y1 <= y0:
            raise ValueError(f"face box {shown} is degenerate: need x0 < x1 and y0 < y1")
        if x1 < -0.5 or y1 < -0.5 or x0 > width - 0.5 or y0 > height - 0.5:
            raise ValueError(f"face box {shown} lies entirely outside the {width}x{height} frame")
        boxes.append((x0, y0, x1, y1))
    return boxes


def make_face(points: np.ndarray, score: float) -> Face:
    """A :class:`Face` from (520, 3) frame points: box from the 68 points (pose from all 520 when asked)."""
    points = np.array(points, np.float32)
    points.setflags(write=False)
    lo, hi = points[IBUG68, :2].min(0), points[IBUG68, :2].max(0)
    return Face(points=points, box=(float(lo[0]), float(lo[1]), float(hi[0]), float(hi[1])), score=float(score))


def detection_roll(eye_roll_deg: float) -> float:
    """The roll (degrees) the detection crop removes, given the roll of BlazeFace's eye keypoints:
    only the part beyond ±``DETECTION_FREE_ROLL_DEG`` (the model handles smaller rolls itself)."""
    return eye_roll_deg - min(max(eye_roll_deg, -DETECTION_FREE_ROLL_DEG), DETECTION_FREE_ROLL_DEG)


def detection_crop(detection: Detection) -> CropTransform:
    """The model's crop for a BlazeFace detection: its box ("blazeface" convention), rolled by
    :func:`detection_roll` of the angle of its eye keypoints."""
    roll = roll_from_eyes(detection.keypoints[0], detection.keypoints[1])
    return crop_from_box(detection.box, "blazeface", roll_deg=detection_roll(roll))


def tracking_crop(points: np.ndarray) -> CropTransform:
    """The next frame's crop from a face's (520, 3) frame points: their 68-point square box ×√2,
    rolled by the angle of the outer eye corners (iBUG 36 and 45)."""
    return crop_from_landmarks(points[IBUG68, :2], roll_deg=roll_from_eyes(points[36], points[45]))


def next_tracking_crop(current: CropTransform, points: np.ndarray) -> CropTransform:
    """The crop for the next frame: ``tracking_crop(points)``, or ``current`` when that one's centre
    moved at most ``TRACK_DEAD_BAND`` of the crop side, its scale changed at most ``TRACK_DEAD_BAND``
    and its roll at most ``TRACK_DEAD_BAND_DEG`` degrees."""
    proposed = tracking_crop(points)
    middle = np.full((1, 2), (current.size - 1) / 2.0)
    shift = float(np.linalg.norm(proposed.to_frame(middle) - current.to_frame(middle)))
    scale_change = abs(proposed.scale / current.scale - 1.0)
    roll_change = abs(math.remainder(crop_roll(proposed) - crop_roll(current), 2 * math.pi))
    if (shift <= TRACK_DEAD_BAND * current.size / current.scale and scale_change <= TRACK_DEAD_BAND
            and math.degrees(roll_change) <= TRACK_DEAD_BAND_DEG):
        return current
    return proposed


def crop_roll(transform: CropTransform) -> float:
    """The rotation of a crop transform, radians."""
    return math.atan2(transform.matrix[1, 0], transform.matrix[0, 0])


def looks_tracked(crop_points: np.ndarray) -> bool:
    """Whether (520, 3) points in crop pixels are framed as the crop rule frames a face (see
    ``TRACK_SIDE_RANGE``, ``TRACK_MAX_SHIFT``); False also for non-finite points."""
    if not np.isfinite(crop_points).all():
        return False
    xy = crop_points[IBUG68, :2]
    lo, hi = xy.min(0), xy.max(0)
    side = float((hi - lo).max()) / (MODEL_INPUT / math.sqrt(2.0))
    shift = float(np.abs((lo + hi) / 2 - (MODEL_INPUT - 1) / 2).max()) / MODEL_INPUT
    return TRACK_SIDE_RANGE[0] <= side <= TRACK_SIDE_RANGE[1] and shift <= TRACK_MAX_SHIFT


def appearance(crop: np.ndarray) -> np.ndarray:
    """(APPEARANCE_SIDE, APPEARANCE_SIDE) float32 zero-mean grey thumbnail of a (120, 120, 3) uint8 crop."""
    grey = cv2.cvtColor(crop, cv2.COLOR_RGB2GRAY)
    small = cv2.resize(grey, (APPEARANCE_SIDE, APPEARANCE_SIDE), interpolation=cv2.INTER_AREA).astype(np.float32)
    return small - small.mean()


def same_content(previous: np.ndarray, current: np.ndarray) -> bool:
    """Whether two :func:`appearance` thumbnails show the same textured content: both with a standard
    deviation of at least ``APPEARANCE_MIN_STD`` and a normalised correlation of at least
    ``APPEARANCE_MIN_NCC``."""
    a, b = float(np.linalg.norm(previous)), float(np.linalg.norm(current))
    floor = APPEARANCE_MIN_STD * APPEARANCE_SIDE  # the norm of a thumbnail whose std is the minimum
    if a < floor or b < floor:
        return False
    return float(np.vdot(previous, current)) / (a * b) >= APPEARANCE_MIN_NCC


@dataclass(eq=False)
class _Track:
    crop: CropTransform  # where to look in the next frame
    score: float
    smoother: OneEuroFilter
    box: tuple[float, float, float, float]  # last 68-point box, to match detections
    look: np.ndarray | None = None  # appearance() of the last frame's crop; None before the first


class DenseFace:
    """Faces and their 520 dense 3D landmarks in camera frames.

    Calls on one instance are serialised (see the module docstring).

    Attributes:
        options: the :class:`DenseFaceOptions` in force.
        detector: the :class:`~denseface.detect.FaceDetector` used.
        model: the landmark :class:`~denseface.infer.TFLiteModel`.
    """

    def __init__(self, options: DenseFaceOptions | None = None, **overrides: object) -> None:
        """Load the detector and the landmark model.

        Args:
            options: all options; None = ``DenseFaceOptions()``.
            **overrides: option fields replacing those of ``options`` (e.g. ``max_faces=3``).

        Raises:
            TypeError: an override that is not a field of :class:`DenseFaceOptions`.
            ValueError: an option out of range, or a model file that is not a valid model of its kind.
            FileNotFoundError: a model file is missing.
        """
        self.options = dataclasses.replace(options or DenseFaceOptions(), **overrides)
        o = self.options
        self.detector = FaceDetector(DetectorOptions(
            kind=o.detector, min_score=o.min_score, max_faces=o.max_faces, num_threads=o.num_threads,
            model_path=None if o.detector_path is None else str(o.detector_path)))
        self.model = load_landmark_model(o.model_path, o.num_threads)
        self._lock = threading.Lock()  # one call at a time: interpreters and tracks are shared state
        self._tracks: list[_Track] = []
        self._last_timestamp_ms: float | None = None
        self._frames_since_detection = 0

    def landmarks(self, frame: np.ndarray, faces: Iterable | None = None,
                  box_convention: str = "landmarks68") -> list[Face]:
        """Landmarks of the faces in one image (IMAGE mode).

        Args:
            frame: (H, W, 3) uint8 in ``options.color_order``, or uint8 gray (see :func:`prepare_frame`).
            faces: None to detect faces, or the caller's face boxes: each (x0, y0, x1, y1) frame
                pixels, or an object with such a ``.box`` (e.g. a previous :class:`Face`). One
                :class:`Face` per box, in order, with score NaN.
            box_convention: what the caller's boxes frame (``denseface.crop.BOX_CONVENTIONS``):
                "landmarks68" (the tight box of the 68 landmarks, as ``Face.box``), "square" (a square
                box around the face) or "blazeface" (a BlazeFace short-range box).

        Returns:
            A list of :class:`Face`, by descending detector score; [] when no face is found.

        Raises:
            ValueError: VIDEO mode (use ``landmarks_for_video``), a bad frame shape, a bad box or
                an unknown box convention. TypeError: a frame that is not a uint8 array.
        """
        self._require_mode(RunningMode.IMAGE, "landmarks(frame)", "landmarks_for_video(frame, timestamp_ms)")
        if box_convention not in BOX_CONVENTIONS:
            raise ValueError(f"unknown box convention {box_convention!r}; expected one of {sorted(BOX_CONVENTIONS)}")
        frame = prepare_frame(frame, self.options.color_order)
        with self._lock:
            if faces is None:
                crops = [(detection_crop(d), d.score) for d in self.detector.detect(frame)]
            else:
                boxes = check_boxes(faces, frame.shape[0], frame.shape[1])
                crops = [(crop_from_box(box, box_convention), math.nan) for box in boxes]
            return [make_face(decode(self.infer(crop.warp(frame)), crop), score) for crop, score in crops]

    def landmarks_for_video(self, frame: np.ndarray, timestamp_ms: float) -> list[Face]:
        """Landmarks of the faces in one frame of a video stream (VIDEO mode).

        While a face is tracked, its crop comes from its landmarks in the previous frame (no
        detection). The detector runs when nothing is tracked, when a track is lost (its points are
        non-finite, smaller than ``MIN_FACE_PX``, or no longer framed as a face, see
        :func:`looks_tracked`), when a track's crop no longer shows what it showed in the previous
        frame (:func:`same_content`; such a track is kept only if a detection confirms it), and
        every ``options.redetect_interval`` frames (then tracks the detector no longer confirms
        are dropped and new faces start tracks). Points are smoothed by a One-Euro filter per
        track (``options.min_cutoff``, ``options.beta``); the next crop uses the unsmoothed points.

        Args:
            frame: as for :meth:`landmarks`.
            timestamp_ms: the frame's time in milliseconds, greater than the previous call's.

        Returns:
            A list of :class:`Face` (at most ``options.max_faces``); [] when no face is found.

        Raises:
            ValueError: IMAGE mode (use ``landmarks``), a timestamp not after the previous one or
                not finite, or a bad frame shape. TypeError: a frame that is not a uint8 array.
        """
        self._require_mode(RunningMode.VIDEO, "landmarks_for_video(frame, timestamp_ms)", "landmarks(frame)")
        timestamp_ms = float(timestamp_ms)
        if not math.isfinite(timestamp_ms):
            raise ValueError(f"timestamp_ms must be finite, got {timestamp_ms}")
        frame = prepare_frame(frame, self.options.color_order)
        with self._lock:  # the order check too: another thread's frame may be in between
            if self._last_timestamp_ms is not None and timestamp_ms <= self._last_timestamp_ms:
                raise ValueError(
                    f"timestamp_ms must increase: got {timestamp_ms} after {self._last_timestamp_ms}"
                )
            self._last_timestamp_ms = timestamp_ms
            return self._video_step(frame, timestamp_ms)

    def _video_step(self, frame: np.ndarray, timestamp_ms: float) -> list[Face]:
        """One VIDEO frame (already checked): detect when due, follow the tracks, confirm doubtful ones."""
        interval = self.options.redetect_interval
        detected = not self._tracks or (interval > 0 and self._frames_since_detection >= interval)
        if detected:
            kept, new = self._update_tracks(self._tracks, self.detector.detect(frame), lambda track: True)
            self._tracks = kept + new
        faces, alive, doubtful = self._track(frame, self._tracks, timestamp_ms, confirmed=detected)
        if not detected and (len(alive) < len(self._tracks) or doubtful):
            # a track was lost, or its crop changed beyond a moving face's change: look again now;
            # the doubtful tracks live on only if a detection confirms them, new faces start tracks
            detected = True
            kept, new = self._update_tracks(alive, self.detector.detect(frame), lambda track: track in doubtful)
            faces = [face for face, track in zip(faces, alive) if track in kept]
            new_faces, new_alive, _ = self._track(frame, new, timestamp_ms, confirmed=True)
            faces, alive = faces + new_faces, kept + new_alive
        self._tracks = alive
        self._frames_since_detection = 1 if detected else self._frames_since_detection + 1
        return faces

    def reset(self) -> None:
        """VIDEO mode: forget the tracks and the last timestamp (start a new stream)."""
        with self._lock:
            self._tracks, self._last_timestamp_ms, self._frames_since_detection = [], None, 0

    def infer(self, crop: np.ndarray) -> np.ndarray:
        """Run the landmark model on a (120, 120, 3) uint8 RGB crop; returns the (1560,) float32 output."""
        x = crop[None] if self.model.input_dtype == np.uint8 else crop[None].astype(np.float32)
        return self.model.run(x)[0].reshape(-1)

    def _require_mode(self, mode: RunningMode, method: str, other: str) -> None:
        if self.options.running_mode is not mode:
            raise ValueError(
                f"{method} needs running_mode={mode}, but this DenseFace was created with "
                f"running_mode={self.options.running_mode}: call {other} instead"
            )

    def _update_tracks(self, tracks: list[_Track], detections: list[Detection],
                       must_confirm: Callable[[_Track], bool]) -> tuple[list[_Track], list[_Track]]:
        """Match detections to tracks (a detection confirms a track when its centre lies in the
        track's 68-point box). Returns (the tracks kept: confirmed ones and those ``must_confirm``
        spares, in order; new tracks for the unmatched detections), at most ``max_faces`` in all."""
        kept, used = [], set()
        for track in tracks:
            x0, y0, x1, y1 = track.box
            match = next((i for i, d in enumerate(detections) if i not in used
                          and x0 <= (d.box[0] + d.box[2]) / 2 <= x1 and y0 <= (d.box[1] + d.box[3]) / 2 <= y1), None)
            if match is not None:
                used.add(match)
                track.score = detections[match].score
            if match is not None or not must_confirm(track):
                kept.append(track)
        new = []
        for i, d in enumerate(detections):
            if i not in used and len(kept) + len(new) < self.options.max_faces:
                smoother = OneEuroFilter(self.options.min_cutoff, self.options.beta)
                new.append(_Track(crop=detection_crop(d), score=d.score, smoother=smoother, box=d.box))
        return kept, new

    def _track(self, frame: np.ndarray, tracks: list[_Track], timestamp_ms: float,
               confirmed: bool) -> tuple[list[Face], list[_Track], list[_Track]]:
        """Run the model on each track's crop. Returns the faces, the tracks still alive (one per
        face) and, unless the detector ``confirmed`` the tracks on this frame, the alive tracks whose
        crop no longer shows what it showed in the previous frame (:func:`same_content`)."""
        faces, alive, doubtful = [], [], []
        for track in tracks:
            crop = track.crop.warp(frame)
            look = appearance(crop)
            output = self.infer(crop)
            points = decode(output, track.crop)
            side = float(np.ptp(points[IBUG68, :2], axis=0).max()) if np.isfinite(points).all() else 0.0
            if not looks_tracked(to_crop_points(output)) or side < MIN_FACE_PX:
                logger.debug("track lost at %.0f ms", timestamp_ms)
                continue
            if not confirmed and track.look is not None and not same_content(track.look, look):
                logger.debug("track's crop changed at %.0f ms: confirming it by detection", timestamp_ms)
                doubtful.append(track)
            face = make_face(track.smoother(points, timestamp_ms), track.score)
            track.crop, track.box, track.look = next_tracking_crop(track.crop, points), face.box, look
            faces.append(face)
            alive.append(track)
        return faces, alive, doubtful
