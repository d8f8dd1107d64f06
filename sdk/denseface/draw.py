"""Drawing faces on a copy of a frame: the dense points, the mesh, the 68 landmarks, the box, pose axes.

Colours are given as RGB; pass ``color_order="bgr"`` to draw on an OpenCV BGR frame. What the camera
does not see (``Face.visibility``) is left out of the points and the mesh, or drawn dimmed.
"""
from __future__ import annotations

from typing import Sequence

import cv2
import numpy as np

from denseface.checks import check_frame
from denseface.pose import Y_FLIP, rotation_from_angles
from denseface.topology import IBUG68, load_topology

DRAWABLE = ("points", "mesh", "points68", "box", "axes")
COLORS = {  # RGB
    "points": (0, 200, 255),
    "mesh": (90, 170, 255),
    "points68": (255, 60, 60),
    "box": (60, 230, 60),
}
DIM = 0.35  # the fraction of its colour a hidden point or edge is drawn with (hidden="dim")
AXIS_COLORS = ((255, 0, 0), (0, 210, 0), (40, 90, 255))  # the head's x (its left), y (up), z (forward)
NOSE_TIP = 30  # iBUG index, where the pose axes start
_SHIFT = 4  # fixed-point bits for sub-pixel drawing
_ONE = 1 << _SHIFT


def _fixed(points_xy: np.ndarray) -> np.ndarray:
    """(N, 2) float pixel coordinates → int32 fixed point for OpenCV's ``shift`` argument."""
    return np.round(np.asarray(points_xy, np.float64) * _ONE).astype(np.int32)


def draw_faces(
    frame: np.ndarray,
    faces: Sequence,
    what: Sequence[str] = ("mesh", "points68", "box", "axes"),
    color_order: str = "rgb",
    hidden: str = "skip",
) -> np.ndarray:
    """Draw ``faces`` (:class:`denseface.Face`) on a copy of ``frame``; the input is left untouched.

    Args:
        frame: (H, W, 3) uint8 image in ``color_order``.
        faces: faces whose coordinates are in ``frame``'s pixels.
        what: any of "points" (the 520 dense points), "mesh" (``topology.triangles`` edges),
            "points68", "box" (``Face.box``) and "axes" (pose axes from the nose tip: red = the
            head's x, towards the subject's left; green = up; blue = forward, out of the face).
        color_order: "rgb" or "bgr", the channel order of ``frame`` (and of the result).
        hidden: what "points" and "mesh" do with what the camera does not see (``Face.visibility``):
            "skip" leaves hidden points and edges with a hidden end out; "dim" draws them at
            ``DIM`` of their colour.

    Returns:
        A new (H, W, 3) uint8 array.

    Raises:
        ValueError: an unknown item in ``what``, ``color_order`` or ``hidden``; those of
            ``denseface.checks.check_frame`` for a bad frame.
    """
    unknown = [w for w in what if w not in DRAWABLE]
    if unknown:
        raise ValueError(f"cannot draw {unknown}; expected items of {DRAWABLE}")
    if color_order not in ("rgb", "bgr"):
        raise ValueError(f"color_order must be 'rgb' or 'bgr', got {color_order!r}")
    if hidden not in ("skip", "dim"):
        raise ValueError(f"hidden must be 'skip' or 'dim', got {hidden!r}")
    out = check_frame(frame).copy()
    thickness = max(1, round(min(out.shape[:2]) / 600))

    def color(rgb: tuple[int, int, int], dim: bool = False) -> tuple[int, int, int]:
        rgb = tuple(round(DIM * c) for c in rgb) if dim else rgb
        return rgb[::-1] if color_order == "bgr" else rgb

    topology = load_topology()
    if "mesh" in what:
        tri = topology.triangles
        edges = np.unique(np.sort(np.concatenate([tri[:, [0, 1]], tri[:, [1, 2]], tri[:, [2, 0]]]), axis=1), axis=0)
    for face in faces:
        xy = np.asarray(face.points, np.float64)[:, :2]
        seen = face.visibility > 0 if {"mesh", "points"} & set(what) else None
        if "mesh" in what:
            seen_edge = seen[edges].all(axis=1)
            if hidden == "dim":  # first, so that the visible edges are drawn over them
                cv2.polylines(out, list(_fixed(xy)[edges[~seen_edge]]), False, color(COLORS["mesh"], True), 1,
                              cv2.LINE_AA, _SHIFT)
            cv2.polylines(out, list(_fixed(xy)[edges[seen_edge]]), False, color(COLORS["mesh"]), 1, cv2.LINE_AA,
                          _SHIFT)
        if "points" in what:
            for p, is_seen in zip(_fixed(xy), seen):
                if is_seen or hidden == "dim":
                    cv2.circle(out, tuple(int(v) for v in p), _ONE * thickness, color(COLORS["points"], not is_seen),
                               -1, cv2.LINE_AA, _SHIFT)
        if "points68" in what:
            for p in _fixed(xy[IBUG68]):
                cv2.circle(out, tuple(int(v) for v in p), 2 * _ONE * thickness, color(COLORS["points68"]), -1,
                           cv2.LINE_AA, _SHIFT)
        if "box" in what:
            corners = _fixed(np.reshape(face.box, (2, 2)))
            cv2.rectangle(out, tuple(int(v) for v in corners[0]), tuple(int(v) for v in corners[1]),
                          color(COLORS["box"]), thickness, cv2.LINE_AA, _SHIFT)
        if "axes" in what:
            x0, y0, x1, y1 = face.box
            length = 0.5 * max(x1 - x0, y1 - y0)
            axes = length * (rotation_from_angles(*face.pose).T * Y_FLIP)  # rows: the head's axes, image frame
            origin = xy[NOSE_TIP]
            for axis, rgb in zip(axes, AXIS_COLORS):
                start, end = _fixed(np.stack([origin, origin + axis[:2]]))
                cv2.line(out, tuple(int(v) for v in start), tuple(int(v) for v in end), color(rgb), 2 * thickness,
                         cv2.LINE_AA, _SHIFT)
    return out
