"""Tests of train/labels/render.py on hand-made triangles (pixel centres at integer (x, y), y down)."""
from __future__ import annotations

import numpy as np

from train.labels.render import rasterize


def test_single_triangle_coverage_and_barycentrics() -> None:
    # Right triangle with corners (1, 1), (5, 1), (1, 5): centres with x ≥ 1, y ≥ 1, x + y ≤ 6.
    # Top-left rule: the top edge (y = 1) and the left edge (x = 1) own their centres, the
    # hypotenuse (x + y = 6) does not.
    v = np.array([[1.0, 1.0, 0.0], [5.0, 1.0, 0.0], [1.0, 5.0, 0.0]])
    tri_id, bary, depth = rasterize(v, np.array([[0, 1, 2]]), 8, 8)
    ys, xs = np.mgrid[0:8, 0:8]
    expected = (xs >= 1) & (ys >= 1) & (xs + ys < 6)
    np.testing.assert_array_equal(tri_id >= 0, expected)
    # By hand: at (x, y), weight of corner 1 is (x − 1)/4, of corner 2 is (y − 1)/4.
    b1 = (xs - 1) / 4.0
    b2 = (ys - 1) / 4.0
    hand = np.stack([1.0 - b1 - b2, b1, b2], axis=-1)
    np.testing.assert_allclose(bary[expected], hand[expected], atol=1e-6)
    assert np.all(bary[~expected] == 0) and np.all(np.isneginf(depth[~expected]))
    assert np.all(tri_id[expected] == 0)


def test_quad_shared_edge_covers_each_pixel_once() -> None:
    # Square (0.5, 0.5)–(4, 4) split along its diagonal (which passes through the centres (1, 1),
    # (2, 2), (3, 3)), the two halves with opposite windings. The right (x = 4) and bottom (y = 4)
    # edges do not own their centres, so the covered centres are 1..3 × 1..3.
    v = np.array([[0.5, 0.5, 0.0], [4.0, 0.5, 0.0], [4.0, 4.0, 0.0], [0.5, 4.0, 0.0]])
    tris = np.array([[0, 1, 2], [0, 3, 2]])
    tri_id, _, _ = rasterize(v, tris, 6, 6)
    ys, xs = np.mgrid[0:6, 0:6]
    inside = (xs >= 1) & (xs <= 3) & (ys >= 1) & (ys <= 3)
    np.testing.assert_array_equal(tri_id >= 0, inside)
    # Each centre belongs to exactly one half: compare with drawing each half alone.
    alone0 = rasterize(v, tris[:1], 6, 6)[0] >= 0
    alone1 = rasterize(v, tris[1:], 6, 6)[0] >= 0
    assert not np.any(alone0 & alone1)
    np.testing.assert_array_equal(alone0 | alone1, inside)


def test_nearer_triangle_wins() -> None:
    far = [[0.0, 0.0, 1.0], [9.0, 0.0, 1.0], [0.0, 9.0, 1.0]]
    near = [[2.0, 2.0, 5.0], [9.0, 2.0, 5.0], [2.0, 9.0, 5.0]]
    v = np.array(far + near)
    for tris, near_id in ((np.array([[0, 1, 2], [3, 4, 5]]), 1), (np.array([[3, 4, 5], [0, 1, 2]]), 0)):
        tri_id, _, depth = rasterize(v, tris, 10, 10)
        assert tri_id[3, 3] == near_id and depth[3, 3] == 5.0
        assert tri_id[1, 1] == 1 - near_id and depth[1, 1] == 1.0


def test_depth_is_interpolated_z() -> None:
    v = np.array([[0.0, 0.0, 0.0], [8.0, 0.0, 8.0], [0.0, 8.0, 4.0]])
    _, _, depth = rasterize(v, np.array([[0, 1, 2]]), 9, 9)
    ys, xs = np.mgrid[0:9, 0:9]
    covered = np.isfinite(depth)
    np.testing.assert_allclose(depth[covered], (xs + 0.5 * ys)[covered], atol=1e-5)


def test_bary_reconstructs_pixel_centres() -> None:
    rng = np.random.default_rng(0)
    v = np.column_stack([rng.uniform(-3, 35, (30, 2)), rng.uniform(0, 10, 30)])
    tris = rng.integers(0, 30, (40, 3))
    tri_id, bary, _ = rasterize(v, tris, 32, 32)
    rows, cols = np.nonzero(tri_id >= 0)
    assert len(rows) > 100
    corners = v[tris[tri_id[rows, cols]]]  # (N, 3 corners, 3)
    xy = np.einsum("nk,nkd->nd", bary[rows, cols].astype(np.float64), corners[:, :, :2])
    np.testing.assert_allclose(xy, np.column_stack([cols, rows]), atol=1e-4)


def test_back_face_culling() -> None:
    ccw = [[0.0, 0.0, 0.0], [6.0, 0.0, 0.0], [0.0, 6.0, 0.0]]  # signed area > 0
    v = np.array(ccw)
    tris = np.array([[0, 1, 2]])
    assert (rasterize(v, tris, 8, 8, cull_sign=1)[0] >= 0).any()
    assert not (rasterize(v, tris, 8, 8, cull_sign=-1)[0] >= 0).any()
