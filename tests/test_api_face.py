"""The Face summary repr, plain numbers in box errors, and the documented yaw sign against AFLW2000-3D."""
from __future__ import annotations

import math

import cv2
import numpy as np
import pytest

from denseface import DenseFace
from denseface.checks import check_boxes
from denseface.face import make_face
from denseface.topology import load_topology


def test_face_repr_is_a_short_summary():
    points = load_topology().mean_shape * 10.0 + (200.0, 150.0, 0.0)
    face = make_face(points, 0.93456)
    text = repr(face)
    assert len(text) < 200 and text.startswith("Face(box=(") and "score=0.93" in text
    assert "(520, 3) float32" in text and "array" not in text
    assert all(f"{v:.1f}" in text for v in face.box)
    assert "score=nan" in repr(make_face(points, math.nan))


@pytest.mark.parametrize("box, match", [
    ((0.0, 0.0, np.nan, 5.0), r"\(0, 0, nan, 5\) contains NaN"),
    ((0.0, 0.0, np.inf, 5.0), r"\(0, 0, inf, 5\) contains NaN"),
    ((4.0, 0.0, 2.0, 5.0), r"\(4, 0, 2, 5\) is degenerate"),
    ((500.5, 0.0, 600.0, 5.0), r"\(500.5, 0, 600, 5\) lies entirely outside"),
    ((0.0, 0.0, 1e6, 1e6), r"\(0, 0, 1e\+06, 1e\+06\) has only 9.9e-07 % of its area inside the 100x100 frame"),  # 99.5² / 1e12
])
def test_box_errors_print_plain_numbers(box, match):
    with pytest.raises(ValueError, match=match) as error:
        check_boxes([np.array(box)], 100, 100)
    assert "np.float64" not in str(error.value)


def test_yaw_is_opposite_to_aflw2000_3d(shared_data):
    """Face.pose documents ours ≈ −AFLW2000-3D's yaw; checked on 6 faces with 60° < |yaw| < 90°
    (beyond 90° its labels wrap: one says 187.8°)."""
    try:
        df = DenseFace(color_order="bgr")  # the bundled model
    except FileNotFoundError as error:  # not bundled, or BlazeFace unavailable offline
        pytest.skip(str(error))
    gt = np.load(shared_data / "aflw2000_3d" / "ground_truth.npz")
    yaw = gt["pose"]
    positive, negative = np.flatnonzero((yaw > 60) & (yaw < 90)), np.flatnonzero((yaw < -60) & (yaw > -90))
    for i in np.concatenate([positive[:3], negative[:3]]):
        bgr = cv2.imread(str(shared_data / "aflw2000_3d" / "images" / gt["names"][i]))
        x, y = gt["pts68"][i, 0], gt["pts68"][i, 1]
        face = df.landmarks(bgr, faces=[(x.min(), y.min(), x.max(), y.max())], box_convention="landmarks68")[0]
        assert np.sign(face.pose[0]) == -np.sign(yaw[i]), (gt["names"][i], face.pose[0], yaw[i])


@pytest.mark.parametrize("box, inside", [
    ((-0.5, -0.5, 99.5, 99.5), 1.0),  # the whole frame, pixel edge to pixel edge
    ((-100.5, -0.5, 99.5, 99.5), 0.5),  # half out on the left
    ((49.5, 49.5, 249.5, 249.5), 0.0625),  # a quarter of each side inside
])
def test_boxes_must_lie_a_quarter_inside_the_frame(box, inside):
    """Hand-computed overlaps with a 100×100 frame (it spans -0.5 .. 99.5): at least 25 % passes."""
    if inside >= 0.25:
        assert check_boxes([box], 100, 100) == [box]
    else:
        with pytest.raises(ValueError, match=f"has only {100 * inside:.2g} % of its area inside"):
            check_boxes([box], 100, 100)
