"""VIDEO mode: faces followed from frame to frame by their own landmarks (:class:`Tracker`).

While a face is tracked, its next crop comes from its landmarks in the current frame
(:func:`next_tracking_crop`), so the detector does not run. The detector runs when nothing is tracked,
when a track is lost (:func:`looks_tracked`, ``MIN_FACE_PX``), when a track's crop no longer shows
what it showed in the previous frame (:func:`same_content`: a scene cut, or the face gone; the track
ends and a face the detector finds there starts a new track), and every ``redetect_interval`` frames
(tracks the detector no longer confirms end). Every track has an id, new for each new track. Each
track's points are smoothed by its own One-Euro filter; the next crop uses the unsmoothed points.

Frames: frame pixels (x right, y down, pixel centres at integers) and crop pixels of the model's
120×120 crop (``denseface.crop``).
"""
from __future__ import annotations

import dataclasses
import logging
import math
from dataclasses import dataclass

import cv2
import numpy as np

from denseface.crop import MODEL_INPUT, CropTransform, crop_from_landmarks, detection_crop, landmark_square
from denseface.decode import to_crop_points
from denseface.detect import Detection, FaceDetector
from denseface.face import Face, make_face
from denseface.landmark_model import LandmarkModel
from denseface.pose import roll_from_eyes
from denseface.smooth import OneEuroFilter
from denseface.timing import StageTimes, measure
from denseface.topology import N_IBUG68

logger = logging.getLogger(__name__)

# Tracking is lost when the model's 68 points, in the crop they were predicted in, stop looking like
# the crop rule's framing (square box side = MODEL_INPUT / √2 ≈ 85 px, centred): side outside
# these fractions of the expected side, or centre further than TRACK_MAX_SHIFT × MODEL_INPUT away.
TRACK_SIDE_RANGE = (0.5, 1.6)
TRACK_MAX_SHIFT = 0.25
MIN_FACE_PX = 8.0  # a tracked face whose 68-point box side falls below this (frame px) is lost
# Dead band of the tracking crop: the next frame keeps the current crop unless the new one's centre
# moved more than this fraction of the crop side or its side changed by more than this fraction
# (or its roll by TRACK_DEAD_BAND_DEG). Without it, a still face's crop random-walks with the model's
# noise and the tracking loop amplifies it (measured: models/MODEL_CARD.md, "Where the SDK's
# constants come from").
TRACK_DEAD_BAND = 0.03
TRACK_DEAD_BAND_DEG = 3.0
# A track is confirmed on every frame by its crop's content: a small grey thumbnail of the crop
# (APPEARANCE_SIDE² pixels, each the mean of an 8×8 block: INTER_AREA's integer-factor path, the
# cheapest; only the cells inside the frame count, frame_cells) must correlate with the previous
# frame's by at least APPEARANCE_MIN_NCC
# (zero-mean normalised cross-correlation) and show some texture (standard deviation at least
# APPEARANCE_MIN_STD grey levels). Otherwise the detector runs on that frame and the track lives on
# only if a detection confirms it, so a face that vanishes (a cut, a covered lens, a black or grey
# frame) is dropped on the first frame without it. The landmark model itself has no face-presence
# output; the landmarks of a crop without a face still look like a face.
APPEARANCE_SIDE = MODEL_INPUT // 8
APPEARANCE_MIN_NCC = 0.5
APPEARANCE_MIN_STD = 2.0


def tracking_crop(points: np.ndarray) -> CropTransform:
    """The next frame's crop from a face's (520, 3) frame points: their 68-point square box ×√2,
    rolled by the angle of the outer eye corners (iBUG 36 and 45)."""
    return crop_from_landmarks(points[:N_IBUG68, :2], roll_deg=roll_from_eyes(points[36], points[45]))


def next_tracking_crop(current: CropTransform, points: np.ndarray) -> CropTransform:
    """The crop for the next frame: ``tracking_crop(points)``, or ``current`` when that one's centre
    moved at most ``TRACK_DEAD_BAND`` of the crop side, its scale changed at most ``TRACK_DEAD_BAND``
    and its roll at most ``TRACK_DEAD_BAND_DEG`` degrees."""
    proposed = tracking_crop(points)
    (x0, y0), (x1, y1) = current.centre, proposed.centre
    shift = math.hypot(x1 - x0, y1 - y0)
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
    xy = crop_points[:N_IBUG68, :2]
    (x0, y0), (x1, y1) = xy.min(0).tolist(), xy.max(0).tolist()
    side = max(x1 - x0, y1 - y0) / (MODEL_INPUT / math.sqrt(2.0))
    middle = (MODEL_INPUT - 1) / 2
    shift = max(abs((x0 + x1) / 2 - middle), abs((y0 + y1) / 2 - middle)) / MODEL_INPUT
    return TRACK_SIDE_RANGE[0] <= side <= TRACK_SIDE_RANGE[1] and shift <= TRACK_MAX_SHIFT


def appearance(crop: np.ndarray, cells: np.ndarray) -> np.ndarray:
    """(APPEARANCE_SIDE, APPEARANCE_SIDE) = (15, 15) float32 grey thumbnail of a (120, 120, 3) uint8 crop,
    zero-mean over the ``cells`` that show the frame (:func:`frame_cells`) and 0 elsewhere: the black
    border of a crop that sticks out of the frame is the same in every frame and would make any two
    such crops look alike."""
    grey = cv2.cvtColor(crop, cv2.COLOR_RGB2GRAY)
    small = cv2.resize(grey, (APPEARANCE_SIDE, APPEARANCE_SIDE), interpolation=cv2.INTER_AREA).astype(np.float32)
    if cells is _ALL_CELLS or cells.all():
        return small - small.mean()
    if not cells.any():
        return np.zeros_like(small)
    return np.where(cells, small - small[cells].mean(), np.float32(0.0))


def frame_cells(transform: CropTransform, height: int, width: int) -> np.ndarray:
    """(APPEARANCE_SIDE, APPEARANCE_SIDE) bool: the thumbnail cells (8×8 crop pixels each) whose every
    crop pixel samples inside an (height, width) frame, for the crop made by ``transform``."""
    (a, b, c), (d, e, f) = transform.inverse.tolist()
    ends = (-0.5, MODEL_INPUT - 0.5)  # the crop's outer edges, crop px
    if all(0 <= a * u + b * v + c <= width - 1 and 0 <= d * u + e * v + f <= height - 1 for u in ends for v in ends):
        return _ALL_CELLS  # the crop's four corners are inside, so all of it is (the usual case, no arrays)
    edges = np.arange(APPEARANCE_SIDE + 1) * (MODEL_INPUT / APPEARANCE_SIDE) - 0.5  # cell edges, crop px
    x = a * edges[None, :] + b * edges[:, None] + c  # frame position of each cell corner (v, u)
    y = d * edges[None, :] + e * edges[:, None] + f
    inside = (x >= 0) & (x <= width - 1) & (y >= 0) & (y <= height - 1)  # the corners; the cells are convex
    return inside[:-1, :-1] & inside[:-1, 1:] & inside[1:, :-1] & inside[1:, 1:]


def moved_appearance(look: np.ndarray, old: CropTransform, new: CropTransform) -> np.ndarray:
    """An :func:`appearance` thumbnail of crop ``old`` resampled into the cells of crop ``new``
    (bilinear; cells that fall outside ``old``: 0), so that the next frame's thumbnail, taken with
    ``new``, is compared with the same part of the frame."""
    # crop px of new -> frame -> crop px of old: u_old = A u_new + b (plain floats: a few µs, not numpy's tens)
    (a, b, c), (d, e, f) = old.matrix.tolist()
    (g, h, i), (j, k, m) = new.inverse.tolist()
    a11, a12, a21, a22 = a * g + b * j, a * h + b * k, d * g + e * j, d * h + e * k
    bx, by = a * i + b * m + c, d * i + e * m + f
    # in cell units, t = s·u + o (cell t's centre is crop px u = (t − o) / s): t_old = A t_new + s·b + o − A·(o, o)
    scale = APPEARANCE_SIDE / MODEL_INPUT
    offset = -(MODEL_INPUT / APPEARANCE_SIDE - 1) / 2 * scale
    cells = np.array([[a11, a12, scale * bx + offset - (a11 + a12) * offset],
                      [a21, a22, scale * by + offset - (a21 + a22) * offset]])
    return cv2.warpAffine(look, cells, (APPEARANCE_SIDE, APPEARANCE_SIDE),
                          flags=cv2.INTER_LINEAR | cv2.WARP_INVERSE_MAP, borderMode=cv2.BORDER_CONSTANT, borderValue=0)


_ALL_CELLS = np.ones((APPEARANCE_SIDE, APPEARANCE_SIDE), bool)
_ALL_CELLS.setflags(write=False)


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
    id: int
    crop: CropTransform  # where to look in the next frame
    score: float
    smoother: OneEuroFilter
    box: tuple[float, float, float, float]  # last 68-point box, to match detections
    look: np.ndarray | None = None  # appearance() of the last frame's crop; None before the first
    face: Face | None = None  # the face of the last frame followed


class Tracker:
    """The tracks of one video stream and the step from one frame to the next (module docstring).

    Not thread-safe (it keeps the stream's state): ``DenseFace`` calls it under its lock.
    """

    def __init__(self, detector: FaceDetector, model: LandmarkModel, max_faces: int, min_cutoff: float,
                 beta: float, redetect_interval: int) -> None:
        """Args:
            detector: finds faces in a frame; its ``detect`` is looked up on every call.
            model: the landmark model.
            max_faces: most faces tracked (>= 1).
            min_cutoff, beta: each track's One-Euro filter (Hz at rest; 1/px).
            redetect_interval: run the detector every this many frames even while tracking; 0 = only
                when no face is tracked or a track is lost or doubtful.
        """
        self.detector = detector
        self.model = model
        self.max_faces = max_faces
        self.min_cutoff = min_cutoff
        self.beta = beta
        self.redetect_interval = redetect_interval
        self.reset()

    def reset(self) -> None:
        """Forget the tracks, the last timestamp and the ids given (a new stream: ids restart at 0)."""
        self._tracks: list[_Track] = []
        self._last_timestamp_ms: float | None = None
        self._frames_since_detection = 0
        self._next_id = 0

    def step(self, frame: np.ndarray, timestamp_ms: float, timer: StageTimes | None = None) -> list[Face]:
        """The faces of the next frame: a checked (H, W, 3) uint8 RGB ``frame`` at ``timestamp_ms``
        (finite milliseconds); stages timed into ``timer`` when given.

        Raises:
            ValueError: ``timestamp_ms`` not after the previous frame's.
        """
        if self._last_timestamp_ms is not None and timestamp_ms <= self._last_timestamp_ms:
            raise ValueError(f"timestamp_ms must increase: got {timestamp_ms} after {self._last_timestamp_ms}; "
                             "call reset() before the frames of another video or stream")
        self._last_timestamp_ms = timestamp_ms
        interval = self.redetect_interval
        detected = not self._tracks or (interval > 0 and self._frames_since_detection >= interval)
        if detected:  # the tracks the detections confirm (with their scores), new tracks for the others
            self._tracks = self._update_tracks(self._tracks, self._detect(frame, timer), True, timer)
        alive, doubtful = self._follow(frame, self._tracks, timestamp_ms, detected, timer)
        if not detected and (len(alive) < len(self._tracks) or doubtful):
            # a track was lost, or its crop changed beyond a moving face's change (a scene cut, the face
            # gone): look again now. A doubtful track ends, so that no face of this frame comes from the
            # crop of the face before the cut: a face the detector finds there starts a new track.
            detected = True
            steady = [track for track in alive if track not in doubtful]
            tracks = self._update_tracks(steady, self._detect(frame, timer), False, timer)
            for track in steady:  # their faces were made before this frame's detection: give them its score
                if track.face.score != track.score:
                    track.face = dataclasses.replace(track.face, score=track.score)
            new, _ = self._follow(frame, tracks[len(steady):], timestamp_ms, True, timer)
            alive = steady + new
        self._tracks = alive
        self._frames_since_detection = 1 if detected else self._frames_since_detection + 1
        return [track.face for track in alive]

    def _detect(self, frame: np.ndarray, timer: StageTimes | None) -> list[Detection]:
        with measure(timer, "detect"):
            return self.detector.detect(frame)

    def _update_tracks(self, tracks: list[_Track], detections: list[Detection], must_confirm: bool,
                       timer: StageTimes | None) -> list[_Track]:
        """Match detections to tracks (a detection confirms a track when its centre lies in the
        track's 68-point box; the track takes its score). Returns the tracks kept (the confirmed ones,
        or all of them unless ``must_confirm``, in order), then new tracks for the unmatched
        detections, at most ``max_faces`` in all."""
        kept, used = [], set()
        for track in tracks:
            x0, y0, x1, y1 = track.box
            match = next((i for i, d in enumerate(detections) if i not in used
                          and x0 <= (d.box[0] + d.box[2]) / 2 <= x1 and y0 <= (d.box[1] + d.box[3]) / 2 <= y1), None)
            if match is not None:
                used.add(match)
                track.score = detections[match].score
            if match is not None or not must_confirm:
                kept.append(track)
        for i, d in enumerate(detections):
            if i not in used and len(kept) < self.max_faces:
                with measure(timer, "crop"):
                    crop = detection_crop(d.box, d.keypoints[0], d.keypoints[1])
                smoother = OneEuroFilter(self.min_cutoff, self.beta)
                kept.append(_Track(id=self._next_id, crop=crop, score=d.score, smoother=smoother, box=d.box))
                self._next_id += 1
        return kept

    def _follow(self, frame: np.ndarray, tracks: list[_Track], timestamp_ms: float, confirmed: bool,
                timer: StageTimes | None) -> tuple[list[_Track], list[_Track]]:
        """Run the model on each track's crop and set the track's ``face``. Returns the tracks still
        alive and, unless the detector ``confirmed`` the tracks on this frame, the alive tracks whose
        crop no longer shows what it showed in the previous frame (:func:`same_content`)."""
        alive, doubtful = [], []
        for track in tracks:
            with measure(timer, "crop"):
                crop = track.crop.warp(frame)
            look = appearance(crop, frame_cells(track.crop, frame.shape[0], frame.shape[1]))
            with measure(timer, "infer"):
                output = self.model.run(crop)
            with measure(timer, "decode"):
                crop_points = to_crop_points(output)
                points = track.crop.to_frame(crop_points)
            # finite crop points (looks_tracked) make finite frame points
            if not looks_tracked(crop_points) or landmark_square(points[:N_IBUG68, :2])[1] < MIN_FACE_PX:
                logger.debug("track %d lost at %.0f ms", track.id, timestamp_ms)
                continue
            if not confirmed and track.look is not None and not same_content(track.look, look):
                logger.debug("track %d's crop changed at %.0f ms: it ends, the detector looks", track.id, timestamp_ms)
                doubtful.append(track)
            with measure(timer, "smooth"):
                smoothed = track.smoother(points, timestamp_ms)
            track.face = make_face(smoothed, track.score, track.id)
            with measure(timer, "crop"):
                crop = next_tracking_crop(track.crop, points)
            if crop is not track.crop:  # the next thumbnail is taken with the new crop: compare like with like
                look = moved_appearance(look, track.crop, crop)
            track.crop, track.box, track.look = crop, track.face.box, look
            alive.append(track)
        return alive, doubtful
