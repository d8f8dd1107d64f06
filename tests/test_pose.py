"""Head pose from dense points: known rotations of the mean shape, conventions, eye-line roll."""
from __future__ import annotations

import numpy as np
import pytest

from denseface.pose import Y_FLIP, angles_from_rotation, head_pose, roll_from_eyes, rotation_from_angles
from denseface.topology import load_topology


def _posed(yaw: float, pitch: float, roll: float, scale: float = 7.0, shift=(320.0, 240.0, -15.0)) -> np.ndarray:
    """The mean shape in the image frame (y down), posed: image = s · F · R · X + t."""
    rotation = rotation_from_angles(yaw, pitch, roll)
    return (scale * load_topology().mean_shape.astype(np.float64) @ rotation.T) * Y_FLIP + shift


@pytest.mark.parametrize("angles", [(0, 0, 0), (30, -10, 15), (-55, 20, -18), (70, 5, 40), (-10, -35, 170)])
def test_known_rotations_are_recovered(angles):
    np.testing.assert_allclose(head_pose(_posed(*angles)), angles, atol=0.1)


def test_recovery_with_noise():
    rng = np.random.default_rng(0)
    points = _posed(25, 12, -8, scale=10.0) + rng.normal(0, 0.5, (520, 3))
    np.testing.assert_allclose(head_pose(points), (25, 12, -8), atol=0.5)


def test_sign_conventions_on_the_image():
    topo = load_topology()
    nose = int(np.argmax(topo.mean_shape[:, 2]))  # the most forward point
    centre = lambda p: p.mean(0)  # noqa: E731
    turned = _posed(20, 0, 0)
    assert turned[nose, 0] > centre(turned)[0] + 1  # yaw > 0: nose towards image right
    down = _posed(0, 20, 0)
    assert down[nose, 1] - centre(down)[1] > _posed(0, 0, 0)[nose, 1] - centre(_posed(0, 0, 0))[1]  # pitch > 0: nose down
    rolled = _posed(0, 0, 20)
    top = int(np.argmax(topo.mean_shape[:, 1]))
    assert rolled[top, 0] < centre(rolled)[0]  # roll > 0: head top to image left


def test_angle_round_trip():
    for angles in [(10.0, 20.0, 30.0), (-80.0, -5.0, 100.0)]:
        np.testing.assert_allclose(angles_from_rotation(rotation_from_angles(*angles)), angles, atol=1e-9)


def test_roll_from_eyes():
    assert roll_from_eyes((100, 100), (200, 100)) == pytest.approx(0.0)
    assert roll_from_eyes((100, 100), (200, 0)) == pytest.approx(45.0)  # left eye higher: counter-clockwise
    points = _posed(0, 0, 25)
    assert roll_from_eyes(points[36], points[45]) == pytest.approx(25.0, abs=1.0)


@pytest.mark.parametrize("bad", [np.zeros((68, 3)), np.full((520, 3), np.nan)])
def test_bad_points_are_rejected(bad):
    with pytest.raises(ValueError):
        head_pose(bad)
