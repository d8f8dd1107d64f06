"""Tests of train.labels.teacher: ROI geometry by hand, and the MediaPipe mesh on a real LFW image."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest

from denseface.detect import Detection
from train.data import LFW
from train.labels.teacher import Roi, Teacher, roi_from_detection, run_directory

LFW_IMAGE = LFW / "Aaron_Eckhart_0001.jpg"


def test_roi_maps_its_centre_and_axes_to_the_frame() -> None:
    upright = Roi(centre=(100.0, 50.0), side=192.0, angle=0.0).roi_to_frame()
    np.testing.assert_allclose(upright @ [95.5, 95.5, 1.0], [100.0, 50.0])
    # Side 384: 2 frame px per ROI px; rotated 90 degrees, the ROI's +x points down the frame.
    turned = Roi(centre=(100.0, 50.0), side=384.0, angle=math.pi / 2).roi_to_frame()
    np.testing.assert_allclose(turned @ [96.5, 95.5, 1.0], [100.0, 52.0], atol=1e-9)


def test_roi_from_detection_is_square_1_5x_long_side_rotated_by_the_eyes() -> None:
    keypoints = np.zeros((6, 2), np.float32)
    keypoints[0] = (10.0, 10.0)
    keypoints[1] = (20.0, 20.0)  # left eye 45 degrees down-right of the right eye
    roi = roi_from_detection(Detection(box=(0.0, 0.0, 40.0, 20.0), score=0.9, keypoints=keypoints))
    assert roi.centre == (20.0, 10.0)
    assert roi.side == pytest.approx(60.0)
    assert roi.angle == pytest.approx(math.pi / 4)


@pytest.mark.usefixtures("shared_data")  # reads LFW_IMAGE
def test_teacher_mesh_on_a_real_lfw_image() -> None:
    cv2 = pytest.importorskip("cv2")
    try:
        teacher = Teacher()
    except FileNotFoundError as error:
        pytest.skip(f"MediaPipe models unavailable offline: {error}")
    image = cv2.cvtColor(cv2.imread(str(LFW_IMAGE)), cv2.COLOR_BGR2RGB)
    faces = teacher.run(image)
    assert len(faces) == 1
    points = faces[0].points468
    assert points.shape == (468, 3) and points.dtype == np.float32
    height, width = image.shape[:2]
    assert np.all((points[:, 0] > -0.5) & (points[:, 0] < width - 0.5))
    assert np.all((points[:, 1] > -0.5) & (points[:, 1] < height - 0.5))
    assert faces[0].presence > 0.9
    nose_tip, right_eye_outer, left_eye_outer = points[1], points[33], points[263]
    # Subject's right eye corner is at smaller x, the left one at larger x; both above the nose tip.
    assert right_eye_outer[0] < nose_tip[0] < left_eye_outer[0]
    assert right_eye_outer[1] < nose_tip[1] and left_eye_outer[1] < nose_tip[1]
    # +z points towards the camera: the nose tip is closer than the face-contour points 234 and 454.
    assert nose_tip[2] > points[234, 2] and nose_tip[2] > points[454, 2]


@pytest.mark.usefixtures("shared_data")  # reads LFW_IMAGE
def test_run_directory_records_faces_blanks_and_skips_corrupt_images(tmp_path: Path) -> None:
    try:
        Teacher()
    except FileNotFoundError as error:
        pytest.skip(f"MediaPipe models unavailable offline: {error}")
    cv2 = pytest.importorskip("cv2")
    images = tmp_path / "images"
    images.mkdir()
    (images / "a_face.jpg").write_bytes(LFW_IMAGE.read_bytes())
    cv2.imwrite(str(images / "b_grey.jpg"), np.full((64, 64, 3), 128, np.uint8))
    (images / "c_truncated.jpg").write_bytes(LFW_IMAGE.read_bytes()[:500])
    out = tmp_path / "teacher.npz"
    counts = run_directory(images, out, workers=1)
    assert counts == {"images": 2, "found": 1, "skipped": 1}
    with np.load(out) as data:
        assert list(data["names"]) == ["a_face.jpg", "b_grey.jpg"]
        assert list(data["skipped"]) == ["c_truncated.jpg"]
        assert list(data["found"]) == [True, False]
        assert data["points468"].shape == (2, 468, 3)
        assert np.isfinite(data["points468"][0]).all() and np.isnan(data["points468"][1]).all()
    assert not (tmp_path / "teacher.partial.npz").exists()
