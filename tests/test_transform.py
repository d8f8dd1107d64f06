"""The facial transformation matrix against hand-built perspective geometry (a known rotation and
translation of the canonical face, projected by a pinhole camera written out here)."""
from __future__ import annotations

import math

import numpy as np
import pytest

from denseface import DenseFaceOptions
from denseface.face import make_face
from denseface.pose import rotation_from_angles
from denseface.topology import load_topology
from denseface.transform import facial_transform


def project(camera_points: np.ndarray, f: float, height: int, width: int) -> np.ndarray:
    """Pixels (x right, y down, centres at integers) of camera points (x right, y up, z towards the
    viewer, camera looking along −z), principal point at the frame centre."""
    x, y, z = camera_points.T
    return np.stack([(width - 1) / 2 + f * x / -z, (height - 1) / 2 - f * y / -z], axis=1)


def scene(rotation: np.ndarray, translation: np.ndarray, f: float, height: int, width: int) -> np.ndarray:
    """(520, 3) frame points of the canonical face placed by (rotation, translation): (x, y) projected,
    z the depth towards the camera in pixels at the face's distance (relative, as ``Face.points``)."""
    camera = load_topology().mean_shape.astype(np.float64) @ rotation.T + translation
    z = (camera[:, 2] - camera[:, 2].mean()) * f / -translation[2]
    return np.c_[project(camera, f, height, width), z]


@pytest.mark.parametrize("angles, translation, focal", [
    ((25.0, -10.0, 5.0), (4.0, -3.0, -45.0), 900.0),
    ((-70.0, 15.0, -20.0), (-10.0, 6.0, -80.0), 1500.0),
    ((0.0, 0.0, 0.0), (0.0, 0.0, -30.0), None),  # the 63° default camera
])
def test_transform_recovers_a_known_pose(angles, translation, focal):
    height, width = 720, 1280
    f = (height / 2) / math.tan(math.radians(31.5)) if focal is None else focal
    rotation = rotation_from_angles(*angles)
    points = scene(rotation, np.array(translation), f, height, width)
    matrix = facial_transform(make_face(points, 1.0).points, (height, width), focal)
    assert matrix.shape == (4, 4)
    np.testing.assert_allclose(matrix[3], [0, 0, 0, 1])
    np.testing.assert_allclose(matrix[:3, :3], rotation, atol=1e-4)
    np.testing.assert_allclose(matrix[:3, 3], translation, atol=1e-3 * abs(translation[2]))
    # The stated contract: canonical points through the matrix and the camera land on the points.
    canonical = np.c_[load_topology().mean_shape, np.ones(520)]
    seen = project((canonical @ matrix.T)[:, :3], f, height, width)
    assert np.abs(seen - points[:, :2]).max() < 0.01  # px (the points are float32)


def test_transform_with_a_wrong_focal_length_changes_the_distance_not_the_picture():
    # A longer lens sees the same picture from farther away: the fit must follow, and still project.
    height, width = 480, 640
    points = scene(rotation_from_angles(10, 5, 0), np.array([2.0, 1.0, -50.0]), 600.0, height, width)
    near = facial_transform(points, (height, width), 600.0)
    far = facial_transform(points, (height, width), 1200.0)
    assert far[2, 3] < 1.5 * near[2, 3]  # about twice as far (z < 0)


def test_transform_rejects_bad_input():
    points = scene(np.eye(3), np.array([0.0, 0.0, -40.0]), 800.0, 480, 640)
    with pytest.raises(ValueError, match="focal_length"):
        facial_transform(points, (480, 640), -5.0)
    with pytest.raises(ValueError, match="520"):
        facial_transform(points[:68], (480, 640))
    with pytest.raises(ValueError, match="focal_length"):
        DenseFaceOptions(focal_length=0.0)
    with pytest.raises(ValueError, match="output_facial_transformation_matrixes"):
        DenseFaceOptions(output_facial_transformation_matrixes=1)


def test_the_option_fills_face_transform_in_both_modes(shared_data):
    import cv2
    from denseface import DenseFace
    from train.data import AFLW2000

    frame = cv2.cvtColor(cv2.imread(str(AFLW2000 / "images" / "image00002.jpg")), cv2.COLOR_BGR2RGB)
    plain = DenseFace().landmarks(frame)[0]
    assert plain.transform is None
    face = DenseFace(output_facial_transformation_matrixes=True, focal_length=500.0).landmarks(frame)[0]
    np.testing.assert_array_equal(face.points, plain.points)
    np.testing.assert_allclose(face.transform, facial_transform(plain.points, frame.shape[:2], 500.0))
    # A real face is not the mean face: the canonical points land within a few % of the face's size.
    seen = project((np.c_[load_topology().mean_shape, np.ones(520)] @ face.transform.T)[:, :3], 500.0,
                   *frame.shape[:2])
    size = math.sqrt((face.box[2] - face.box[0]) * (face.box[3] - face.box[1]))
    assert np.sqrt(((seen - face.points[:, :2]) ** 2).sum(1).mean()) < 0.08 * size
    video = DenseFace(running_mode="video", output_facial_transformation_matrixes=True)
    tracked = video.landmarks_for_video(frame, 0.0)[0]
    np.testing.assert_allclose(tracked.transform, facial_transform(tracked.points, frame.shape[:2]))
