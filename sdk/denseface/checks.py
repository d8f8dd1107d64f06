"""Checks of what callers pass in, at the SDK's entrance: frames, face boxes and a face's points.

Each check raises ``TypeError`` / ``ValueError`` with a message that says what was wrong and how to
fix it, and returns the input in the one form the stages behind it expect. Coordinates: frame pixels
(x right, y down, pixel centres at integers).
"""
from __future__ import annotations

from typing import Iterable

import cv2
import numpy as np

from denseface.topology import N_POINTS

MIN_BOX_INSIDE = 0.25
"""Least fraction of a caller's face box that must lie inside the frame. The model's crop pads with
black what lies outside; with less than a quarter of the face in the picture the points are guesses,
and a box far larger than the frame (e.g. in another frame's pixels) would give points far off it."""


def check_frame(frame: object) -> np.ndarray:
    """Check that ``frame`` is an (H, W, 3) uint8 RGB image and return it C-contiguous.

    Raises:
        TypeError: ``frame`` is None, not a numpy array, or not uint8.
        ValueError: wrong number of dimensions or channels, or H or W < 2.
    """
    if frame is None:
        raise TypeError("frame is None; pass an (H, W, 3) uint8 RGB array (did the image fail to load?)")
    if not isinstance(frame, np.ndarray):
        raise TypeError(f"frame must be a numpy array, got {type(frame).__name__}")
    if frame.ndim != 3:
        raise ValueError(f"frame has {frame.ndim} dimensions {frame.shape}; pass an (H, W, 3) uint8 RGB array")
    channels = frame.shape[2]
    if channels != 3:
        hint = " (RGBA?)" if channels == 4 else " (grayscale?)" if channels == 1 else ""
        raise ValueError(f"frame has {channels} channels{hint}; pass an (H, W, 3) uint8 RGB array")
    if frame.dtype != np.uint8:
        raise TypeError(f"frame has dtype {frame.dtype}; pass an (H, W, 3) uint8 RGB array with values 0..255")
    height, width = frame.shape[:2]
    if height < 2 or width < 2:
        raise ValueError(f"frame is {height}x{width} pixels; height and width must both be at least 2")
    return np.ascontiguousarray(frame)


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
    """Caller boxes → list of (x0, y0, x1, y1) floats, frame pixels. Each item is 4 numbers or has a
    ``.box`` (e.g. a ``Face``); ``height`` and ``width`` are the frame's, pixels.

    A box may stick out of the frame (the crop pads with black), but at least ``MIN_BOX_INSIDE`` of
    its area must lie inside it (the frame spans -0.5 .. width - 0.5 and -0.5 .. height - 0.5).

    Raises:
        ValueError: not 4 numbers, NaN/inf, x1 <= x0 or y1 <= y0, entirely outside the frame, or
            less than ``MIN_BOX_INSIDE`` of its area inside it.
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
        inside_x = min(x1, width - 0.5) - max(x0, -0.5)
        inside_y = min(y1, height - 0.5) - max(y0, -0.5)
        if inside_x <= 0 or inside_y <= 0:
            raise ValueError(f"face box {shown} lies entirely outside the {width}x{height} frame")
        inside = inside_x * inside_y / ((x1 - x0) * (y1 - y0))
        if inside < MIN_BOX_INSIDE:
            raise ValueError(f"face box {shown} has only {100 * inside:.2g} % of its area inside the {width}x{height} "
                             f"frame; at least {100 * MIN_BOX_INSIDE:g} % must be (a box in another frame's pixels?)")
        boxes.append((x0, y0, x1, y1))
    return boxes


def check_points(points: object) -> np.ndarray:
    """A face's points as (520, 3) float64, for the stages that read them (pose, visibility,
    blendshapes). Raises ValueError for a wrong shape or non-finite values."""
    p = np.asarray(points, np.float64)
    if p.shape != (N_POINTS, 3):
        raise ValueError(f"expected ({N_POINTS}, 3) points, got {p.shape}")
    if not np.isfinite(p).all():
        raise ValueError("points contain non-finite values")
    return p
