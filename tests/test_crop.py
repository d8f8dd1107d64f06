"""Crop geometry: round trips and hand-computed transforms."""
from __future__ import annotations

import numpy as np
import pytest

from denseface.crop import crop_from_box, crop_from_landmarks, square_transform


def test_square_maps_onto_the_crop_edges():
    t = square_transform(center=(100.0, 50.0), side=60.0, size=120)
    # scale 2; the square's corner (70, 20) is the crop's outer corner (-0.5, -0.5) in pixel-centre coordinates
    np.testing.assert_allclose(t.to_crop(np.array([[70.0, 20.0], [100.0, 50.0]])), [[-0.5, -0.5], [59.5, 59.5]], atol=1e-5)
    assert t.scale == pytest.approx(2.0)


def test_roll_rotates_about_the_centre():
    t = square_transform(center=(100.0, 50.0), side=60.0, size=120, roll_deg=90.0)
    # a point 30 px right of the centre goes 60 crop px down: the face rolled 90° ccw is made upright
    np.testing.assert_allclose(t.to_crop(np.array([[130.0, 50.0]])), [[59.5, 119.5]], atol=1e-4)


def test_round_trip_with_depth():
    rng = np.random.default_rng(0)
    t = square_transform(center=(321.0, 222.0), side=173.0, size=128, roll_deg=-17.0)
    p = rng.uniform(0, 500, (50, 3))
    np.testing.assert_allclose(t.to_frame(t.to_crop(p)), p, atol=1e-3)
    np.testing.assert_allclose(t.to_crop(p)[:, 2], p[:, 2] * 128 / 173.0, rtol=1e-5)


def test_warp_places_a_pixel_where_to_crop_says():
    frame = np.zeros((200, 300, 3), np.uint8)
    frame[80, 150] = 255
    t = square_transform(center=(140.0, 90.0), side=60.0, size=120)
    crop = t.warp(frame)
    y, x = np.unravel_index(np.argmax(crop[..., 0]), crop.shape[:2])
    np.testing.assert_allclose([x, y], t.to_crop(np.array([[150.0, 80.0]]))[0], atol=1.0)


def test_landmark_rule_is_3ddfas():
    pts = np.array([[10.0, 20.0], [50.0, 20.0], [30.0, 100.0]])  # box 40×80 → square side 80, ×√2
    t = crop_from_landmarks(pts, size=120)
    assert t.scale == pytest.approx(120 / (80 * np.sqrt(2)))
    np.testing.assert_allclose(t.to_crop(np.array([[30.0, 60.0]])), [[59.5, 59.5]], atol=1e-5)


@pytest.mark.parametrize("box", [(10, 10, 10, 50), (10, 10, 50, 9), (0, 0, np.nan, 5), (0, 0, np.inf, 5)])
def test_degenerate_boxes_are_rejected(box):
    with pytest.raises(ValueError, match="degenerate"):
        crop_from_box(box, "landmarks68")


def test_unknown_convention_is_rejected():
    with pytest.raises(ValueError, match="unknown box convention"):
        crop_from_box((0, 0, 10, 10), "yolo")
