"""Which of a face's 520 points the camera sees, from the 3D surface of ``topology.triangles``.

The points' frame is ``Face.points``': x right, y down, z towards the camera, all in pixels; the
view is along −z (the points are an orthographic picture: the model predicts them so). A point is
hidden when

* its surface faces away from the camera: its normal (the area-weighted mean of the normals of the
  triangles around it) makes a cosine below ``-FACING_MARGIN`` with +z (a margin: the 520-point
  mesh is coarse, so a point seen edge-on may have a normal tilted slightly away); or
* the surface covers it: a triangle that does not have the point as a corner covers its (x, y)
  and lies nearer the camera there, by more than ``OCCLUSION_TOLERANCE`` of the face's size (the
  nose in front of the far cheek at large yaw).

``point_visibility`` returns, per point, 0 for a hidden point and otherwise how squarely the camera
sees it, in (0, 1]: ``(cos + FACING_MARGIN) / (1 + FACING_MARGIN)`` of the cosine between its normal
and the view direction. Checked against the z-buffer of full-resolution ICT-FaceKit heads at known
poses (``tests/test_visibility.py``): the visible/hidden call agrees for 96-97 % of the points.
"""
from __future__ import annotations

from functools import lru_cache

import numpy as np

from denseface.checks import check_points
from denseface.topology import load_topology

OCCLUSION_TOLERANCE = 0.01  # of the face's size (RMS distance of the points from their centre)
FACING_MARGIN = 0.1  # best of 0-0.4 against ICT z-buffers (agreement +0.3-1 % over 0 in each yaw bin)


@lru_cache(maxsize=1)
def _winding() -> float:
    """+1 or −1: the sign that makes ``topology.triangles``' normals point out of the face.

    Decided on the mean shape (model frame = the camera frame of a face seen from the front), where
    the outward normals point towards the camera (+z).
    """
    front = load_topology().mean_shape.astype(np.float64)
    return 1.0 if _triangle_normals(front, 1.0)[:, 2].sum() > 0 else -1.0


def _triangle_normals(points: np.ndarray, winding: float) -> np.ndarray:
    """(M, 3) area-weighted normals (cross products) of the topology's triangles on ``points``."""
    a, b, c = (points[load_topology().triangles[:, k]] for k in range(3))
    return winding * np.cross(b - a, c - a)


def _occluded(points: np.ndarray) -> np.ndarray:
    """(520,) bool: a triangle not cornered on the point covers its (x, y) nearer the camera."""
    tri = load_topology().triangles
    corners = points[tri]  # (M, 3, 3)
    lo, hi = corners[:, :, :2].min(1), corners[:, :, :2].max(1)
    xy = points[:, :2]
    # Candidate (point, triangle) pairs from the triangles' boxes, then exact barycentric tests.
    x, y = xy[:, :1], xy[:, 1:]
    inside_box = (x >= lo[:, 0]) & (x <= hi[:, 0]) & (y >= lo[:, 1]) & (y <= hi[:, 1])  # (520, M)
    p, t = np.nonzero(inside_box)
    keep = (tri[t] != p[:, None]).all(1)
    p, t = p[keep], t[keep]
    a, b, c = corners[t, 0], corners[t, 1], corners[t, 2]
    e1, e2, d = b[:, :2] - a[:, :2], c[:, :2] - a[:, :2], xy[p] - a[:, :2]
    det = e1[:, 0] * e2[:, 1] - e1[:, 1] * e2[:, 0]
    valid = np.abs(det) > 1e-12
    det = np.where(valid, det, 1.0)
    u = (d[:, 0] * e2[:, 1] - d[:, 1] * e2[:, 0]) / det
    v = (e1[:, 0] * d[:, 1] - e1[:, 1] * d[:, 0]) / det
    covers = valid & (u >= 0) & (v >= 0) & (u + v <= 1)
    surface_z = a[:, 2] + u * (b[:, 2] - a[:, 2]) + v * (c[:, 2] - a[:, 2])
    size = np.sqrt(((points - points.mean(0)) ** 2).sum(1).mean())
    nearer = covers & (surface_z > points[p, 2] + OCCLUSION_TOLERANCE * size)
    occluded = np.zeros(len(points), bool)
    occluded[p[nearer]] = True
    return occluded


def point_visibility(points: np.ndarray) -> np.ndarray:
    """(520,) float32 in [0, 1]: 0 where the point is hidden, else how squarely the camera sees it
    (see the module doc). ``points``: (520, 3) frame points.

    Raises ValueError for a wrong shape or non-finite points.
    """
    p = check_points(points)
    # Frame points have y down: flipping y makes the frame right-handed, so the winding carries over.
    normals_tri = _triangle_normals(p * np.array([1.0, -1.0, 1.0]), _winding())
    normals = np.zeros_like(p)
    for k in range(3):
        np.add.at(normals, load_topology().triangles[:, k], normals_tri)
    length = np.linalg.norm(normals, axis=1)
    facing = np.where(length > 0, normals[:, 2] / np.maximum(length, 1e-300), 0.0)
    seen = np.clip((facing + FACING_MARGIN) / (1.0 + FACING_MARGIN), 0.0, 1.0)
    visibility = np.where(_occluded(p), 0.0, seen)
    return visibility.astype(np.float32)
