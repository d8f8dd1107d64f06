"""The crop rule: which square of the frame the landmark model sees, and the way back.

One rule serves training and inference. The model was trained on crops framed like 3DDFA's
benchmark crops: the tight box of the 68 landmarks made square on its longer side and enlarged
×√2 about its centre (``LANDMARK_BOX_SCALE``), optionally rotated by the face's roll. A box from
another source is first turned into that framing (``box_to_square``), using one of the conventions
in ``BOX_CONVENTIONS``; a BlazeFace detection's crop (``detection_crop``) is also rolled upright by
its eye line, beyond ``DETECTION_FREE_ROLL_DEG``.

Frames: frame pixels (x right, y down, pixel centres at integer coordinates, as OpenCV's warpAffine)
and crop pixels of a ``size``×``size`` crop, related by a similarity transform.

Reproducibility: the same frame gives the same crop bytes on every machine (x86, ARM, the Android
port). Sampling positions are rounded to 1/``SUBPIXEL`` px and interpolated with integer weights
(``CropTransform.warp``), and a crop's centre, side and roll are snapped to a grid (``square_transform``)
so that the last-bit differences of a float detector between machines rarely move a crop at all.
"""
from __future__ import annotations

import functools
import math
import threading
from dataclasses import dataclass, field

import cv2
import numpy as np

from denseface.pose import roll_from_eyes

MODEL_INPUT = 120  # side of the landmark model's input, pixels
SUBPIXEL_BITS = 5  # OpenCV's fixed-point remap grid: positions in 1/32 px (fixed by cv2.remap's table)
SUBPIXEL = 1 << SUBPIXEL_BITS  # crop sampling positions are rounded to 1/SUBPIXEL frame px
SNAP_PX = 1.0 / 16.0  # crop centres and sides are rounded to multiples of this, frame pixels
SNAP_DEG = 1.0 / 16.0  # crop rolls are rounded to multiples of this, degrees
LANDMARK_BOX_SCALE = float(np.sqrt(2.0))  # 3DDFA's crop: the 68-point box's longer side × √2

# How a caller's box relates to the square framing of the 68-point box (centre shift in units of the
# box side, side scale), per convention. "landmarks68": the tight box of the 68 landmarks;
# "square": a square face box centred on the face (side ≈ the 68-point box's longer side);
# "blazeface": the short-range BlazeFace box (measured against the labels' 68-point boxes on the
# training set's validation split, yaw-balanced; see train/evaluation/calibrate_boxes.py).
BOX_CONVENTIONS: dict[str, tuple[float, float, float]] = {
    # convention: (centre shift x, centre shift y) as a fraction of the box side, side multiplier
    "landmarks68": (0.0, 0.0, 1.0),
    "square": (0.0, 0.0, 1.0),
    # the medians of python -m train.evaluation.calibrate_boxes over the validation split's real photos; what
    # they were measured on and the residual spread: models/MODEL_CARD.md, "Where the SDK's constants
    # come from"
    "blazeface": (-0.0052, 0.0442, 0.9520),
}
# The detection crop keeps rolls of BlazeFace's eye line up to this many degrees, the rotation range
# the model is trained on, and removes only the excess: the eye keypoints' roll is unreliable
# off-frontal, so removing all of it costs accuracy there, while faces rolled past this still reach
# the model within its range (the measurements: models/MODEL_CARD.md, "Where the SDK's constants
# come from").
DETECTION_FREE_ROLL_DEG = 45.0


@dataclass(frozen=True)
class CropTransform:
    """A similarity transform from frame pixels to crop pixels.

    matrix: (2, 3) float64, crop = matrix @ [x, y, 1] (OpenCV's warpAffine convention); read-only.
    size: side of the square crop, pixels. scale: crop pixels per frame pixel.
    """

    matrix: np.ndarray
    size: int
    # warp's sampling maps by frame (height, width); derived from matrix, not part of the value
    _maps: dict = field(default_factory=dict, init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        # a read-only copy: the cached maps must not outlive a change of the matrix
        matrix = np.array(self.matrix, np.float64)
        if matrix.shape != (2, 3):
            raise ValueError(f"a crop transform's matrix must be (2, 3), got {matrix.shape}")
        matrix.setflags(write=False)
        object.__setattr__(self, "matrix", matrix)

    @property
    def scale(self) -> float:
        return float(np.hypot(self.matrix[0, 0], self.matrix[1, 0]))

    def to_crop(self, points: np.ndarray) -> np.ndarray:
        """(N, 2|3) frame points → crop points; a third column (depth) is multiplied by ``scale``."""
        return _apply(self.matrix, points)

    def to_frame(self, points: np.ndarray) -> np.ndarray:
        """(N, 2|3) crop points → frame points; a third column (depth) is divided by ``scale``."""
        return _apply(self.inverse, points)

    @property
    def centre(self) -> tuple[float, float]:
        """(x, y) frame pixels of the crop's centre pixel position ((size − 1)/2, (size − 1)/2)."""
        (ia, ib, ic), (id_, ie, if_) = self._inverse_rows()
        m = (self.size - 1) / 2.0
        return ia * m + ib * m + ic, id_ * m + ie * m + if_

    @functools.cached_property
    def inverse(self) -> np.ndarray:
        """(2, 3) float64 crop → frame matrix, read-only (cv2.invertAffineTransform's formulas, in
        Python floats so that no compiler fuses them differently on another machine)."""
        inverse = np.array(self._inverse_rows())
        inverse.setflags(write=False)
        return inverse

    def _inverse_rows(self) -> tuple[tuple[float, float, float], tuple[float, float, float]]:
        (a, b, c), (d, e, f) = self.matrix.tolist()
        det = a * e - b * d
        ia, ib, id_, ie = e / det, -b / det, -d / det, a / det
        return (ia, ib, -ia * c - ib * f), (id_, ie, -id_ * c - ie * f)

    def warp(self, frame: np.ndarray, border_value: int = 0) -> np.ndarray:
        """The (size, size, C) uint8 crop of a uint8 ``frame``: bilinear, outside the frame ``border_value``.

        Crop pixel (u, v) samples frame position p = inverse · [u, v, 1] rounded to 1/32 px, as
        (Σ wᵢ·pixelᵢ + 512) >> 10 over its four neighbours with integer weights wᵢ = (32 − fx or fx)·(32 − fy
        or fy) (OpenCV's fixed-point bilinear remap). Positions are computed element by element in
        float64 and the interpolation in integers, so every machine produces the same bytes. The
        sampling maps are kept per frame size: a transform used again (video mode keeps a still
        face's crop) skips building them.
        """
        height, width = frame.shape[:2]
        maps = self._maps.get((height, width))
        if maps is None:
            maps = self._maps[(height, width)] = self._sampling_maps(height, width)
        whole, fraction, (y0, y1, x0, x1) = maps
        if y1 <= y0 or x1 <= x0:  # the crop lies entirely outside the frame
            return np.full((self.size, self.size) + frame.shape[2:], border_value, np.uint8)
        # Copying the frame's rows the crop reads first streams them into the cache in order; the
        # rotated, scattered reads of remap then hit the cache (~2× faster on a frame fresh from
        # memory: benchmarks/README.md, "The per-frame cuts").
        source = frame[y0:y1, x0:x1]
        region = _work_array("region", source.shape, np.uint8)
        np.copyto(region, source)
        return cv2.remap(region, whole, fraction, cv2.INTER_LINEAR, borderMode=cv2.BORDER_CONSTANT,
                         borderValue=(border_value,) * 3)

    def _sampling_maps(self, height: int, width: int) -> tuple[np.ndarray, np.ndarray, tuple[int, int, int, int]]:
        """cv2.remap's fixed-point maps for an (height, width) frame: (size, size, 2) int16 whole
        pixels (x, y) of the top-left neighbour, relative to the region of the frame the crop reads;
        (size, size) uint16 fractions (32·fy + fx); and that region (y0, y1, x0, x1), clipped to the
        frame (every neighbour inside the frame lies in it; those outside stay outside it)."""
        (a, b, c), (d, e, f) = ((value * SUBPIXEL for value in row) for row in self._inverse_rows())
        # Position (u, v) in 1/32 px is rint((b·v + c) + a·u) (same for y), in float64. Each is
        # monotonic in u and in v, so its extremes lie at the crop's corners: the region and whether
        # any position needs clipping come from four positions in Python floats (the same operations,
        # so the same values; round() is half to even, as np.rint). Positions more than a pixel
        # beyond the border are all border; they are clipped to stay in OpenCV's int16 maps.
        ends = (0.0, float(self.size - 1))
        region, clip = [], False
        for (p, q, r), limit in (((a, b, c), width), ((d, e, f), height)):
            corners = [round((q * v + r) + p * u) for v in ends for u in ends]
            low, high = max(min(corners), -2 * SUBPIXEL), min(max(corners), (limit + 1) * SUBPIXEL)
            clip = clip or low != min(corners) or high != max(corners)
            region.append((max(low >> SUBPIXEL_BITS, 0), min((high >> SUBPIXEL_BITS) + 2, limit)))  # floor
        (x0, x1), (y0, y1) = region
        steps = np.arange(self.size, dtype=np.float64)
        positions = _work_array("positions", (2, self.size, self.size), np.float64)
        x, y = positions
        np.add(b * steps[:, None] + c, a * steps[None, :], out=x)
        np.add(e * steps[:, None] + f, d * steps[None, :], out=y)
        np.rint(positions, out=positions)
        if clip:
            np.clip(x, -2 * SUBPIXEL, (width + 1) * SUBPIXEL, out=x)
            np.clip(y, -2 * SUBPIXEL, (height + 1) * SUBPIXEL, out=y)
        # Whole multiples of 1/32 px relative to the region are exact in float32 (|value| < 2^19), so
        # cv2.convertMaps' rounding of value·32 is exact: its maps are floor(position / 32) and
        # 32·fy + fx of these positions, in one vectorised pass.
        relative = _work_array("relative", (2, self.size, self.size), np.float32)
        np.subtract(positions, np.array([[[x0 * SUBPIXEL]], [[y0 * SUBPIXEL]]], np.float64), out=relative,
                    casting="unsafe")
        relative *= np.float32(1.0 / SUBPIXEL)
        whole, fraction = cv2.convertMaps(relative[0], relative[1], cv2.CV_16SC2)
        whole.setflags(write=False)
        fraction.setflags(write=False)
        return whole, fraction, (y0, y1, x0, x1)


_WORK = threading.local()
_WORK_KEPT_BYTES = 1 << 20  # work arrays up to 1 MiB are kept per thread (a 120-px crop's maps: ~0.35 MB in all)


def _work_array(name: str, shape: tuple[int, ...], dtype: type) -> np.ndarray:
    """This thread's work array ``name`` of ``shape`` and ``dtype`` (a view of a buffer kept per thread
    and grown as needed; overwritten by the next use). Warping allocates no large temporaries: fresh
    ~0.1 MB arrays on every crop cost more than the arithmetic (new pages from the OS each time)."""
    dtype = np.dtype(dtype)
    count = math.prod(shape)
    if count * dtype.itemsize > _WORK_KEPT_BYTES:  # a huge face: not worth keeping per thread
        return np.empty(shape, dtype)
    buffer = getattr(_WORK, name, None)
    if buffer is None or buffer.dtype != dtype or buffer.size < count:
        buffer = np.empty(count, dtype)
        setattr(_WORK, name, buffer)
    return buffer[:count].reshape(shape)


def _apply(matrix: np.ndarray, points: np.ndarray) -> np.ndarray:
    points = np.asarray(points, np.float64)
    out = np.empty(points.shape, np.float32)  # computed in float64, rounded once on assignment
    out[:, :2] = points[:, :2] @ matrix[:, :2].T + matrix[:, 2]
    if points.shape[1] == 3:
        out[:, 2] = points[:, 2] * np.hypot(matrix[0, 0], matrix[1, 0])
    return out


def square_transform(center: tuple[float, float], side: float, size: int, roll_deg: float = 0.0) -> CropTransform:
    """The transform mapping the square of ``side`` frame pixels centred at ``center`` (rotated by
    ``roll_deg``, counter-clockwise in the image, i.e. the face's roll) onto a ``size``×``size`` crop.

    The square's edges map to the crop's outer pixel edges: frame centre → crop ((size−1)/2, (size−1)/2).
    """
    if not side > 0 or not np.isfinite(side):
        raise ValueError(f"crop side must be a positive finite number of pixels, got {side}")
    side = max(_snap(side, SNAP_PX), SNAP_PX)
    cx, cy = _snap(center[0], SNAP_PX), _snap(center[1], SNAP_PX)
    s = size / side
    a = math.radians(_snap(roll_deg, SNAP_DEG))
    cos, sin = s * math.cos(a), s * math.sin(a)
    c = (size - 1) / 2.0
    # rotate the frame by +roll about the centre so the face is upright in the crop
    matrix = np.array([[cos, -sin, c - cos * cx + sin * cy], [sin, cos, c - sin * cx - cos * cy]])
    return CropTransform(matrix=matrix, size=size)


def _snap(value: float, step: float) -> float:
    """``value`` rounded to a multiple of ``step`` (a power of two, so the result is exact)."""
    value = float(value)
    return round(value / step) * step if math.isfinite(value) else value  # round(): half to even, as np.rint


def landmark_square(points_xy: np.ndarray) -> tuple[tuple[float, float], float]:
    """(centre, side) of the tight box of (N, 2) points made square on its longer side, in float64
    (the extremes are exact in the points' own float dtype)."""
    (x0, y0), (x1, y1) = points_xy.min(0).tolist(), points_xy.max(0).tolist()
    return ((x0 + x1) / 2.0, (y0 + y1) / 2.0), float(max(x1 - x0, y1 - y0))


def crop_from_landmarks(points_xy: np.ndarray, size: int = MODEL_INPUT, roll_deg: float = 0.0) -> CropTransform:
    """3DDFA's crop from landmarks: their square box ×√2 (``LANDMARK_BOX_SCALE``), to ``size`` pixels."""
    center, side = landmark_square(np.asarray(points_xy, np.float64)[:, :2])
    return square_transform(center, side * LANDMARK_BOX_SCALE, size, roll_deg)


def box_to_square(
    box: tuple[float, float, float, float], convention: str, roll_deg: float = 0.0
) -> tuple[tuple[float, float], float]:
    """(centre, side) of the equivalent square 68-point box for a box (x0, y0, x1, y1) of ``convention``.

    The convention's centre shift is measured on upright faces; for a face rolled by ``roll_deg``
    (counter-clockwise on screen) it is rotated with the face.

    Raises ValueError for an unknown convention or a degenerate box.
    """
    if convention not in BOX_CONVENTIONS:
        raise ValueError(f"unknown box convention {convention!r}; expected one of {sorted(BOX_CONVENTIONS)}")
    x0, y0, x1, y1 = (float(v) for v in box)
    if not all(math.isfinite(v) for v in (x0, y0, x1, y1)) or x1 - x0 < 1 or y1 - y0 < 1:
        raise ValueError(f"box {box} is degenerate: need finite x0 < x1 and y0 < y1, at least 1 px apart")
    dx, dy, k = BOX_CONVENTIONS[convention]
    if roll_deg:  # the face's axes in the image (y down): right = (cos, −sin), down = (sin, cos)
        a = math.radians(roll_deg)
        dx, dy = dx * math.cos(a) + dy * math.sin(a), -dx * math.sin(a) + dy * math.cos(a)
    side = max(x1 - x0, y1 - y0)
    return ((x0 + x1) / 2.0 + dx * side, (y0 + y1) / 2.0 + dy * side), side * k


def crop_from_box(
    box: tuple[float, float, float, float], convention: str, size: int = MODEL_INPUT, roll_deg: float = 0.0
) -> CropTransform:
    """The model's crop for a face box of the given convention (see ``BOX_CONVENTIONS``)."""
    center, side = box_to_square(box, convention, roll_deg)
    return square_transform(center, side * LANDMARK_BOX_SCALE, size, roll_deg)


def detection_roll(eye_roll_deg: float) -> float:
    """The roll (degrees, > 0 counter-clockwise on screen) the detection crop removes, given the roll
    of BlazeFace's eye keypoints: only the part beyond ±``DETECTION_FREE_ROLL_DEG`` (the model handles
    smaller rolls itself)."""
    return eye_roll_deg - min(max(eye_roll_deg, -DETECTION_FREE_ROLL_DEG), DETECTION_FREE_ROLL_DEG)


def detection_crop(box: tuple[float, float, float, float], right_eye: np.ndarray, left_eye: np.ndarray) -> CropTransform:
    """The model's crop for a BlazeFace detection: its box (x0, y0, x1, y1) ("blazeface" convention),
    rolled by :func:`detection_roll` of the line from its subject's right eye keypoint to the left one
    ((x, y) each, frame pixels; keypoints 0 and 1 of ``denseface.detect.Detection``)."""
    return crop_from_box(box, "blazeface", roll_deg=detection_roll(roll_from_eyes(right_eye, left_eye)))
