"""The result of the SDK: :class:`Face`, one face's 520 dense 3D landmarks in frame pixels.

Coordinates: frame pixels in OpenCV's convention (x right, y down, pixel centres at integers); z in
the same pixel scale, relative depth (the mean depth of a face's 520 points is 0), +z towards the
camera.
"""
from __future__ import annotations

import dataclasses
import functools
import math
from dataclasses import dataclass

import numpy as np

from denseface.pose import head_pose
from denseface.topology import N_IBUG68
from denseface.visibility import point_visibility


@dataclass(frozen=True, eq=False)
class Face:
    """One face's landmarks (arrays are read-only).

    Attributes:
        points: (520, 3) float32 the dense points of ``denseface.topology`` in frame pixels: x right,
            y down; z in the same pixel scale, relative depth (mean over the 520 points = 0), +z
            towards the camera.
        box: (x0, y0, x1, y1) frame pixels, the tight box of the 68 points' (x, y). It may reach
            beyond the frame: the points of a face cut by the frame's edge continue outside it.
        score: the detector's score in [0, 1] for a detected face; NaN for a face from a caller's
            box. VIDEO mode: the score of the detection that started or last confirmed the track
            (the detector runs on the first frame of every track, after a scene cut, and every
            ``redetect_interval`` frames; in between a tracked face keeps its score). With
            ``redetect_interval=1`` the detector runs on every frame, so the score is that frame's
            detection's, and a face the detector no longer finds is dropped on that frame; the cost
            is the detector's on every frame (+1.47 ms a 640×480 frame measured: README, Video).
        track_id: VIDEO mode: the face's track, an int >= 0, the same on every frame while the face
            is followed and a new one for a new face (also for a face found again after it was
            lost or after a scene cut); unique within a stream (ids restart at 0 after
            ``DenseFace.reset()``). None in IMAGE mode.
        pose: (yaw, pitch, roll) degrees (``denseface.pose``: yaw > 0 nose towards image right,
            pitch > 0 looking down, roll > 0 counter-clockwise on screen; see the property for
            AFLW2000-3D's and MediaPipe's conventions); fitted on first access (a rigid fit of the
            520 points, ~0.2 ms), then kept.
        visibility: (520,) float32 in [0, 1], 0 for a point the camera does not see (its surface faces
            away or the face covers it), else how squarely it is seen (``denseface.visibility``);
            computed on first access (~4 ms), then kept.
        transform: (4, 4) float64 the canonical face (cm) → camera matrix (``denseface.transform``),
            when ``DenseFaceOptions.output_facial_transformation_matrixes`` is set; else None.
        blendshapes: MediaPipe's 52 blendshape names → coefficients in [0, 1]
            (``denseface.blendshapes``), when ``DenseFaceOptions.output_blendshapes`` is set; else None.
    """

    points: np.ndarray
    box: tuple[float, float, float, float]
    score: float
    track_id: int | None = None
    transform: np.ndarray | None = None
    blendshapes: dict[str, float] | None = None

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

    @functools.cached_property
    def visibility(self) -> np.ndarray:
        """(520,) float32 in [0, 1]: 0 = hidden, > 0 = seen (``denseface.visibility``); read-only."""
        visibility = point_visibility(self.points)
        visibility.setflags(write=False)
        return visibility

    def __repr__(self) -> str:
        """A summary: the box (rounded to 0.1 px), the score and the points' shape and dtype."""
        box = ", ".join(f"{v:.1f}" for v in self.box)
        return f"Face(box=({box}) px, score={self.score:.2f}, points={self.points.shape} {self.points.dtype})"

    @property
    def points68(self) -> np.ndarray:
        """(68, 3) float32 the iBUG 68 landmarks (the first 68 of ``points``), same frame."""
        return self.points[:N_IBUG68]  # a read-only view: the 68 are the first points

    def to_dict(self, decimals: int | None = 2) -> dict:
        """The face as plain JSON-ready values (``json.dumps(face.to_dict())`` works as is).

        Keys, in this order (frames and units as the attributes'):
            "box": [x0, y0, x1, y1] frame pixels; "score": float, null for a caller's box (NaN);
            "track_id": int, null in IMAGE mode; "pose": {"yaw", "pitch", "roll"} degrees;
            "points68": 68 × [x, y, z]; "points": 520 × [x, y, z] frame pixels (z: relative depth,
            +z towards the camera); "visibility": 520 numbers in [0, 1], 0 = hidden (the property's,
            computed here if not yet read, ~4 ms; rounded as the rest, so with 2 decimals a point seen
            at a grazing angle, below 0.005, reads 0); then every further attribute of :class:`Face`
            under its own name, null when it is None, arrays as nested lists, NaN as null.

        Args:
            decimals: floats rounded to this many decimals (2: 0.01 px, far below the model's
                error, and a third of the text); None = float32's full precision.
        """
        values = {"box": self.box, "score": self.score, "track_id": self.track_id,
                  "pose": dict(zip(("yaw", "pitch", "roll"), self.pose)), "points68": self.points68,
                  "points": self.points, "visibility": self.visibility}
        values.update((f.name, getattr(self, f.name)) for f in dataclasses.fields(self) if f.name not in values)
        return {key: json_ready(value, decimals) for key, value in values.items()}


def json_ready(value: object, decimals: int | None) -> object:
    """``value`` as JSON's types: None stays None, NaN and ±inf become None, floats are rounded to
    ``decimals`` (None = not rounded), arrays, tuples and lists become lists, dicts keep their keys."""
    if value is None or isinstance(value, (bool, str)):
        return value
    if isinstance(value, dict):
        return {str(key): json_ready(item, decimals) for key, item in value.items()}
    if isinstance(value, (np.ndarray, list, tuple)):
        array = np.asarray(value)
        if array.dtype.kind in "iub":
            return array.tolist()
        if array.dtype.kind == "f" and np.isfinite(array).all():  # the usual case: one vectorised pass
            array = array.astype(np.float64)
            return (array if decimals is None else np.round(array, decimals)).tolist()
        return [json_ready(item, decimals) for item in value]  # NaNs inside, or mixed items
    if isinstance(value, (int, np.integer)):
        return int(value)
    number = float(value)
    if not math.isfinite(number):
        return None
    return number if decimals is None else round(number, decimals)


def make_face(points: np.ndarray, score: float, track_id: int | None = None) -> Face:
    """A :class:`Face` from (520, 3) frame points: box from the 68 points (pose from all 520 when asked)."""
    points = np.array(points, np.float32)
    points.setflags(write=False)
    xy = points[:N_IBUG68, :2]
    lo, hi = xy.min(0), xy.max(0)
    return Face(points=points, box=(float(lo[0]), float(lo[1]), float(hi[0]), float(hi[1])), score=float(score),
                track_id=track_id)
