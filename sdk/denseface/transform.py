"""The facial transformation matrix: a 4×4 rigid transform from the canonical face (cm) to the camera.

What MediaPipe's Face Landmarker returns as ``facial_transformation_matrixes``, for placing a 3D
object on a head.

Frames
------
Canonical face: ``topology.mean_shape``, the 520 points on the ICT-FaceKit neutral face, in
centimetres, x towards the viewer's right (the subject's left), y up, z towards the viewer (the
ICT model's origin: about 13 cm behind the nose tip, near the centre of the head).
Camera: x right, y up, z towards the viewer (OpenGL's and MediaPipe's camera space: the camera
looks along −z, so a face in front of it has z < 0), centimetres.
Camera model: a pinhole with focal length ``f`` pixels and its principal point at the frame centre
((W − 1)/2, (H − 1)/2) in the SDK's pixel convention (pixel centres at integers); by default ``f``
gives a vertical field of view of 63° (MediaPipe's default): ``f = (H / 2) / tan(31.5°)``. A camera
point (X, Y, Z) is seen at pixel ``x = cx + f·X/(−Z)``, ``y = cy − f·Y/(−Z)``.

The matrix M = [[R, T], [0, 0, 0, 1]] is rigid (no scale): the head is taken to be the mean face's
size, so its distance is an estimate (a head 10 % larger than the mean reads 10 % nearer). R, T
minimise the pixel distance between the returned points' (x, y) and the canonical points seen
through M and the camera (OpenCV's ``solvePnP``, started from the weak-perspective pose of
``denseface.pose``).
"""
from __future__ import annotations

import math

import cv2
import numpy as np

from denseface.pose import fit_similarity
from denseface.topology import load_topology

DEFAULT_VERTICAL_FOV_DEG = 63.0  # MediaPipe's default camera
GL_FROM_CV = np.diag([1.0, -1.0, -1.0])  # OpenCV camera (y down, z forward) <-> camera frame above


def default_focal_length(height: int) -> float:
    """Focal length in pixels of a camera with a 63° vertical field of view for frames ``height`` px high."""
    return (height / 2.0) / math.tan(math.radians(DEFAULT_VERTICAL_FOV_DEG / 2.0))


def facial_transform(points: np.ndarray, frame_size: tuple[int, int], focal_length: float | None = None) -> np.ndarray:
    """(4, 4) float64 matrix from the canonical face (cm) to the camera frame (cm); see the module doc.

    points: (520, 3) a face's points in frame pixels (``Face.points``; only x and y are used).
    frame_size: (height, width) of the frame in pixels. focal_length: in pixels; None = the 63° default.
    Raises ValueError for a wrong shape, non-finite points or a focal length that is not positive.
    """
    height, width = frame_size
    f = default_focal_length(height) if focal_length is None else float(focal_length)
    if not (math.isfinite(f) and f > 0):
        raise ValueError(f"focal_length must be a positive number of pixels, got {focal_length!r}")
    scale, rotation, shift = fit_similarity(points)  # also checks shape and finiteness
    center = np.array([(width - 1) / 2.0, (height - 1) / 2.0])
    camera = np.array([[f, 0.0, center[0]], [0.0, f, center[1]], [0.0, 0.0, 1.0]])
    # Weak perspective start: s px per cm at depth f / s; the model origin is seen at shift[:2].
    depth = f / scale
    tvec = np.r_[(shift[:2] - center) * depth / f, depth]
    rvec = cv2.Rodrigues(GL_FROM_CV @ rotation)[0]
    canonical = load_topology().mean_shape.astype(np.float64)
    image = np.ascontiguousarray(np.asarray(points, np.float64)[:, :2])
    ok, rvec, tvec = cv2.solvePnP(canonical, image, camera, None, rvec, tvec.reshape(3, 1), True,
                                  cv2.SOLVEPNP_ITERATIVE)
    if not ok:  # OpenCV's own failure report (degenerate input): an error, never a wrong matrix
        raise ValueError("the perspective pose fit failed for these points")
    matrix = np.eye(4)
    matrix[:3, :3] = GL_FROM_CV @ cv2.Rodrigues(rvec)[0]
    matrix[:3, 3] = GL_FROM_CV @ tvec.ravel()
    matrix.setflags(write=False)  # a Face's arrays are read-only
    return matrix
