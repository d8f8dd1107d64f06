"""Point visibility (``denseface.visibility``) against hand-built geometry and against the z-buffer of
full-resolution ICT-FaceKit heads (11,248 vertices, ears and neck included: an independent path)."""
from __future__ import annotations

import numpy as np
import pytest

from denseface.pose import rotation_from_angles
from denseface.topology import load_topology
from denseface.visibility import point_visibility

YAW_BINS = ("[0,30]", "(30,60]", ">60")
PX_PER_CM = 40.0  # ~700 px faces: the z-buffer resolves 0.25 mm
FRAME = 1600  # px, square


def frame_points(model_points: np.ndarray, rotation: np.ndarray, scale: float, shift: np.ndarray) -> np.ndarray:
    """Model-frame points (cm, y up) → frame points (px, y down, z towards the camera)."""
    return scale * (model_points @ rotation.T) * np.array([1.0, -1.0, 1.0]) + shift


def test_a_frontal_face_is_visible_and_seen_from_behind_it_is_not():
    mean = load_topology().mean_shape.astype(np.float64)
    front = frame_points(mean, np.eye(3), 10.0, np.array([200.0, 200.0, 0.0]))
    vis = point_visibility(front)
    assert vis.shape == (520,) and vis.dtype == np.float32
    assert (vis > 0).mean() > 0.95  # the ICT z-buffer: 95 %; hidden: the lip seam, the jaw seen edge-on
    assert vis[30] > 0.9  # the nose tip faces the camera
    behind = frame_points(mean, rotation_from_angles(180.0, 0.0, 0.0), 10.0, np.array([200.0, 200.0, 0.0]))
    # From behind, the camera sees the inside of the mask: what the front view does not, but for
    # points seen edge-on (|cos| < FACING_MARGIN counts as seen from both sides).
    back = point_visibility(behind)
    both = (back > 0) & (vis > 0)
    assert (back > 0).mean() < 0.5 and (vis[both] < 0.2).all() and (back[both] < 0.2).all()


def test_the_nose_hides_the_far_cheek_in_profile():
    topo = load_topology()
    mean = topo.mean_shape.astype(np.float64)
    # Yaw +80: the nose moves towards image right, the subject's left side (model x > 0) turns away.
    vis = point_visibility(frame_points(mean, rotation_from_angles(80.0, 0.0, 0.0), 10.0, np.zeros(3)))
    far = mean[:, 0] > 2.0
    near = mean[:, 0] < -2.0
    assert (vis[far] > 0).mean() < 0.1 and (vis[near] > 0).mean() > 0.9


def test_bad_points_are_rejected():
    with pytest.raises(ValueError, match="520"):
        point_visibility(np.zeros((68, 3)))
    bad = load_topology().mean_shape.astype(np.float64).copy()
    bad[3, 1] = np.nan
    with pytest.raises(ValueError, match="non-finite"):
        point_visibility(bad)


def zbuffer_visibility(vertices: np.ndarray, points: np.ndarray) -> np.ndarray:
    """(520,) bool ground truth: at one of the 4 pixel centres around each point, the full ICT head's
    z-buffer (the render's, independent of the 520-point mesh) lies less than 2 mm in front of the
    point (4 pixels: on a surface seen edge-on the depth changes by cm within a pixel; where a pixel
    falls through a hole of the cut mesh, the eye openings, the z-buffer is behind: visible)."""
    from train.labels.ict import load_ict
    from train.labels.render import rasterize

    _, _, depth = rasterize(vertices, load_ict().triangles, FRAME, FRAME)
    col, row = np.floor(points[:, 0]).astype(int), np.floor(points[:, 1]).astype(int)
    around = np.stack([depth[row + dr, col + dc] for dr in (0, 1) for dc in (0, 1)], axis=1)
    return (around - points[:, 2:] < 0.2 * PX_PER_CM).any(axis=1)


def test_agreement_with_the_ict_zbuffer_by_yaw_bin(shared_data):
    from train.labels.ict import load_ict, topology_points

    ict = load_ict()
    rng = np.random.default_rng(26)
    agreement = {b: [] for b in YAW_BINS}
    for head in range(3):
        alpha = rng.normal(size=30)
        beta = np.zeros(len(ict.expression_names))
        beta[rng.choice(len(beta), 4, replace=False)] = rng.uniform(0.2, 0.8, 4)
        shape = ict.shape(alpha, beta)
        for yaw in np.arange(0, 91, 10.0):
            pitch, roll = rng.uniform(-20, 20), rng.uniform(-15, 15)
            rotation = rotation_from_angles(yaw * rng.choice([-1, 1]), pitch, roll)
            vertices = frame_points(shape, rotation, PX_PER_CM, np.full(3, FRAME / 2))
            points = topology_points(vertices)
            truth = zbuffer_visibility(vertices, points)
            ours = point_visibility(points) > 0
            agreement[YAW_BINS[int(yaw > 30) + int(yaw > 60)]].append((truth == ours).mean())
    means = {b: float(np.mean(v)) for b, v in agreement.items()}
    print("visibility agreement with the ICT z-buffer by |yaw| bin:", means)
    assert min(means.values()) > 0.95
