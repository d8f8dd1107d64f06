"""Head pose (yaw, pitch, roll in degrees) from a face's 520 dense points.

Frames
------
Image frame: x right and y down in pixels, z in pixels towards the camera (``Face.points``).
Camera frame: the image frame with y flipped (x right, y up, z towards the camera).
Model frame: ``topology.mean_shape`` — centimetres, x towards the viewer's right, y up, z towards the
viewer. A face is modelled as ``image = s · F · R · X + t`` with F = diag(1, −1, 1), X a model-frame
point, R a proper rotation from the model frame to the camera frame, s pixels per cm.

Angles (the conventions of ``train/labels/fit.py``): ``R = Rz(roll) · Ry(yaw) · Rx(pitch)``, right-handed
rotations about the camera axes:

* yaw > 0: the nose moves towards image right (the subject turns to their own left);
* pitch > 0: the nose moves down in the image (the subject looks down);
* roll > 0: the top of the head moves towards image left (counter-clockwise on screen).

With R = identity the face looks straight at the camera, upright.
"""
from __future__ import annotations

import math

import numpy as np

from denseface.checks import check_points
from denseface.topology import load_topology

Y_FLIP = np.array([1.0, -1.0, 1.0])  # F: image frame <-> camera frame


def umeyama(source: np.ndarray, target: np.ndarray) -> tuple[float, np.ndarray, np.ndarray]:
    """Least-squares similarity ``target ≈ s · R · source + t`` (Umeyama 1991).

    source, target: (N, 3) corresponding points. Returns (s, R (3, 3) proper rotation, t (3,)).
    """
    mu_s, mu_t = source.mean(axis=0), target.mean(axis=0)
    src, tgt = source - mu_s, target - mu_t
    cov = tgt.T @ src / len(source)
    u, d, vt = np.linalg.svd(cov)
    signs = np.array([1.0, 1.0, np.sign(np.linalg.det(u @ vt)) or 1.0])
    rotation = (u * signs) @ vt
    scale = float((d * signs).sum() / (src**2).sum(axis=1).mean())
    return scale, rotation, mu_t - scale * rotation @ mu_s


def rotation_from_angles(yaw: float, pitch: float, roll: float) -> np.ndarray:
    """(3, 3) rotation ``Rz(roll) · Ry(yaw) · Rx(pitch)`` from angles in degrees (conventions above)."""
    y, p, r = np.radians([yaw, pitch, roll])
    rx = np.array([[1, 0, 0], [0, math.cos(p), -math.sin(p)], [0, math.sin(p), math.cos(p)]])
    ry = np.array([[math.cos(y), 0, math.sin(y)], [0, 1, 0], [-math.sin(y), 0, math.cos(y)]])
    rz = np.array([[math.cos(r), -math.sin(r), 0], [math.sin(r), math.cos(r), 0], [0, 0, 1]])
    return rz @ ry @ rx


def angles_from_rotation(rotation: np.ndarray) -> tuple[float, float, float]:
    """(yaw, pitch, roll) in degrees of a rotation ``Rz(roll) · Ry(yaw) · Rx(pitch)`` (yaw in ±90°)."""
    yaw = math.asin(float(np.clip(-rotation[2, 0], -1.0, 1.0)))
    pitch = math.atan2(rotation[2, 1], rotation[2, 2])
    roll = math.atan2(rotation[1, 0], rotation[0, 0])
    return math.degrees(yaw), math.degrees(pitch), math.degrees(roll)


def fit_similarity(points: np.ndarray) -> tuple[float, np.ndarray, np.ndarray]:
    """Similarity from the model frame to the image frame for (520, 3) image-frame points.

    Returns (s, R, t): ``points ≈ s · F · R · mean_shape + t`` with s in pixels per cm, R (3, 3) a
    proper rotation model → camera frame, t (3,) image pixels. Raises ValueError for a wrong shape or
    non-finite points.
    """
    p = check_points(points)
    scale, rotation, shift = umeyama(load_topology().mean_shape.astype(np.float64), p * Y_FLIP)
    return scale, rotation, shift * Y_FLIP


def head_pose(points: np.ndarray) -> tuple[float, float, float]:
    """(yaw, pitch, roll) in degrees of a face's (520, 3) image-frame points (conventions above).

    A rigid (similarity) fit of ``topology.mean_shape`` to all 520 points; raises ValueError for a
    wrong shape or non-finite points.
    """
    return angles_from_rotation(fit_similarity(points)[1])


def roll_from_eyes(right_eye: np.ndarray, left_eye: np.ndarray) -> float:
    """Roll in degrees (> 0: counter-clockwise on screen) of the line from the subject's right eye to
    their left eye, both (x, y) image pixels (in an unmirrored upright face the right eye has the
    smaller x)."""
    dx, dy = float(left_eye[0]) - float(right_eye[0]), float(left_eye[1]) - float(right_eye[1])  # float64
    return math.degrees(math.atan2(-dy, dx))
