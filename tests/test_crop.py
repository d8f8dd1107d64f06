"""Crop geometry: round trips and hand-computed transforms."""
from __future__ import annotations

import numpy as np
import pytest

from denseface.crop import SNAP_PX, crop_from_box, crop_from_landmarks, square_transform


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
    snapped_side = 113.125  # 80·√2 = 113.137 rounded to a multiple of 1/16 px
    assert t.scale == pytest.approx(120 / snapped_side)
    np.testing.assert_allclose(t.to_crop(np.array([[30.0, 60.0]])), [[59.5, 59.5]], atol=1e-5)


@pytest.mark.parametrize("box", [(10, 10, 10, 50), (10, 10, 50, 9), (0, 0, np.nan, 5), (0, 0, np.inf, 5)])
def test_degenerate_boxes_are_rejected(box):
    with pytest.raises(ValueError, match="degenerate"):
        crop_from_box(box, "landmarks68")


def test_unknown_convention_is_rejected():
    with pytest.raises(ValueError, match="unknown box convention"):
        crop_from_box((0, 0, 10, 10), "yolo")


def _reference_warp(frame: np.ndarray, inverse: np.ndarray, size: int) -> np.ndarray:
    """Bilinear sampling written out per pixel: position rounded to 1/32 px, integer weights, black outside."""
    height, width = frame.shape[:2]
    out = np.zeros((size, size, frame.shape[2]), np.uint8)
    for v in range(size):
        for u in range(size):
            x = int(round(float(inverse[0] @ [u, v, 1]) * 32))
            y = int(round(float(inverse[1] @ [u, v, 1]) * 32))
            total = np.zeros(frame.shape[2], np.int64)
            for dx, dy in ((0, 0), (1, 0), (0, 1), (1, 1)):
                px, py = x // 32 + dx, y // 32 + dy
                wx = x % 32 if dx else 32 - x % 32
                wy = y % 32 if dy else 32 - y % 32
                if 0 <= px < width and 0 <= py < height:
                    total += wx * wy * frame[py, px].astype(np.int64)
            out[v, u] = (total + 512) // 1024
    return out


def test_warp_is_integer_bilinear_at_1_32_px():
    rng = np.random.default_rng(3)
    frame = rng.integers(0, 256, (70, 90, 3), np.uint8)
    t = square_transform(center=(80.3, 12.9), side=61.7, size=40, roll_deg=23.0)  # partly outside the frame
    expected = _reference_warp(frame, t.inverse, 40)
    crop = t.warp(frame)
    assert (expected == 0).all(axis=2).sum() > 100  # the border is exercised
    np.testing.assert_array_equal(crop, expected)


def test_a_transform_warps_every_frame_it_is_given_with_its_kept_maps():
    """warp keeps its sampling maps per frame size: a second frame of the same size, a frame of another
    size and a frame after it still give the per-pixel reference's bytes; the matrix cannot change under them."""
    rng = np.random.default_rng(4)
    t = square_transform(center=(40.6, 30.2), side=50.3, size=24, roll_deg=-31.0)
    for shape in ((60, 80, 3), (60, 80, 3), (45, 50, 3), (60, 80, 3), (10, 12, 3)):
        frame = rng.integers(0, 256, shape, np.uint8)
        np.testing.assert_array_equal(t.warp(frame), _reference_warp(frame, t.inverse, 24))
    with pytest.raises(ValueError, match="read-only"):
        t.matrix[0, 2] += 1.0


def test_a_crop_reading_megabytes_of_the_frame_is_warped_the_same():
    """A face filling a large frame: the region the crop reads (~2.4 MB) is copied into a fresh array
    rather than a kept work array; the bytes are the per-pixel reference's all the same."""
    frame = np.random.default_rng(5).integers(0, 256, (1000, 1000, 3), np.uint8)
    t = square_transform(center=(500.2, 480.9), side=900.0, size=24, roll_deg=10.0)
    np.testing.assert_array_equal(t.warp(frame), _reference_warp(frame, t.inverse, 24))


def test_a_crop_entirely_outside_the_frame_is_the_border_value():
    frame = np.full((30, 40, 3), 200, np.uint8)
    t = square_transform(center=(-50.0, 15.0), side=20.0, size=16)
    np.testing.assert_array_equal(t.warp(frame, border_value=7), np.full((16, 16, 3), 7, np.uint8))
    np.testing.assert_array_equal(t.warp(frame, border_value=7), _reference_warp(frame, t.inverse, 16) + 7)


def test_centre_is_the_square_centre():
    t = square_transform(center=(100.0, 50.0), side=60.0, size=120, roll_deg=33.0)
    assert t.centre == pytest.approx((100.0, 50.0), abs=1e-9)


def test_inverse_is_the_inverse():
    t = square_transform(center=(321.0, 222.0), side=173.0, size=128, roll_deg=-17.0)
    product = np.vstack([t.matrix, [0, 0, 1]]) @ np.vstack([t.inverse, [0, 0, 1]])
    np.testing.assert_allclose(product, np.eye(3), atol=1e-12)


def test_crop_is_snapped_so_last_bit_noise_does_not_move_it():
    box = (100.0, 80.0, 220.0, 210.0)
    t = crop_from_box(box, "landmarks68")
    noisy = crop_from_box(tuple(v + 3e-5 for v in box), "landmarks68", roll_deg=1e-4)
    np.testing.assert_array_equal(noisy.matrix, t.matrix)
    # the snapped crop is within half a grid step of the exact one: centre (160, 145), side 130·√2
    centre = t.to_frame(np.array([[59.5, 59.5]]))[0]
    np.testing.assert_allclose(centre, (160.0, 145.0), atol=1e-4)  # on the grid already
    assert 120 / t.scale == pytest.approx(130 * np.sqrt(2), abs=SNAP_PX / 2)
