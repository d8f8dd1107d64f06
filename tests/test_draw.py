"""draw_faces: a new image, the input untouched, each item drawn where the face's geometry says."""
from __future__ import annotations

import numpy as np
import pytest

from denseface.face import make_face
from denseface.draw import COLORS, draw_faces
from denseface.pose import Y_FLIP, rotation_from_angles
from denseface.topology import load_topology


def _face(yaw: float = 0.0, pitch: float = 0.0, roll: float = 0.0):
    mean = load_topology().mean_shape.astype(np.float64)
    points = (8.0 * mean @ rotation_from_angles(yaw, pitch, roll).T) * Y_FLIP + (160.0, 120.0, 0.0)
    return make_face(points, 0.9)


def test_returns_a_new_image_and_leaves_the_input():
    frame = np.full((240, 320, 3), 30, np.uint8)
    before = frame.copy()
    out = draw_faces(frame, [_face()])
    np.testing.assert_array_equal(frame, before)
    assert out.shape == frame.shape and out.dtype == np.uint8 and not np.shares_memory(out, frame)
    assert (out != frame).any()
    np.testing.assert_array_equal(draw_faces(frame, []), frame)


def test_box_is_drawn_on_its_edges_only():
    face = _face()
    out = draw_faces(np.zeros((240, 320, 3), np.uint8), [face], what=("box",))
    x0, y0, x1, y1 = (int(round(v)) for v in face.box)
    top_edge = out[y0 - 1 : y0 + 2, x0 + 5 : x1 - 5, 1].max(axis=0)  # anti-aliased: look ±1 row
    assert (top_edge > COLORS["box"][1] // 2).all()
    assert (out[y0 + 3 : y1 - 3, x0 + 3 : x1 - 3] == 0).all()  # nothing inside


def test_points68_are_drawn_at_the_points():
    face = _face()
    out = draw_faces(np.zeros((240, 320, 3), np.uint8), [face], what=("points68",))
    for x, y in np.round(face.points68[:, :2]).astype(int):
        assert out[y, x].any()
    drawn = np.argwhere(out.any(axis=2))
    lo, hi = drawn.min(0), drawn.max(0)  # (y, x): nothing drawn far from the 68 points
    assert lo[1] >= face.box[0] - 4 and hi[1] <= face.box[2] + 4


def test_mesh_covers_the_face_and_points_draw():
    face = _face()
    for what in (("mesh",), ("points",)):
        out = draw_faces(np.zeros((240, 320, 3), np.uint8), [face], what=what)
        assert out.any(axis=2).sum() > 500


def test_axes_follow_the_pose():
    """Yaw > 0 turns the forward (blue) axis towards image right."""
    for yaw, side in ((40.0, 1), (-40.0, -1)):
        face = _face(yaw=yaw)
        out = draw_faces(np.zeros((240, 320, 3), np.uint8), [face], what=("axes",)).astype(int)
        blue = np.argwhere((out[..., 2] > 150) & (out[..., 0] < 100) & (out[..., 1] < 150))
        nose_x = face.points[30, 0]
        assert np.sign(blue[:, 1].mean() - nose_x) == side


def test_bgr_swaps_the_colours():
    face = _face()
    rgb = draw_faces(np.zeros((240, 320, 3), np.uint8), [face], what=("box",))
    bgr = draw_faces(np.zeros((240, 320, 3), np.uint8), [face], what=("box",), color_order="bgr")
    np.testing.assert_array_equal(rgb, bgr[..., ::-1])


def test_bad_arguments():
    with pytest.raises(ValueError, match="cannot draw"):
        draw_faces(np.zeros((10, 10, 3), np.uint8), [], what=("hat",))
    with pytest.raises(ValueError, match="color_order"):
        draw_faces(np.zeros((10, 10, 3), np.uint8), [], color_order="hsv")
    with pytest.raises(ValueError, match="RGBA"):
        draw_faces(np.zeros((10, 10, 4), np.uint8), [])


def test_hidden_points_and_edges_are_left_out_or_dimmed():
    face = _face(yaw=80.0)  # a profile: the subject's left half faces away
    seen = face.visibility > 0
    xy = face.points[:, :2]
    gap = np.linalg.norm(xy[~seen][:, None] - xy[seen][None], axis=2).min(axis=1)
    lone = np.round(xy[~seen][gap > 4]).astype(int)  # hidden points > 4 px from every seen one
    assert len(lone) >= 5
    black = np.zeros((240, 320, 3), np.uint8)
    skip = draw_faces(black, [face], what=("points",))
    dim = draw_faces(black, [face], what=("points",), hidden="dim")
    for x, y in lone:
        assert not skip[y, x].any()
        assert 0 < dim[y, x].max() <= round(0.35 * max(COLORS["points"])) + 1
    for x, y in np.round(xy[seen]).astype(int):
        assert skip[y, x].max() > 0.6 * max(COLORS["points"])
    assert dim.any(axis=2).sum() > skip.any(axis=2).sum()
    mesh_skip = draw_faces(black, [face], what=("mesh",)).any(axis=2)
    mesh_dim = draw_faces(black, [face], what=("mesh",), hidden="dim").any(axis=2)
    assert mesh_dim.sum() > 1.05 * mesh_skip.sum()  # the hidden half, seen edge-on, adds a few pixels
    assert (mesh_skip & ~mesh_dim).sum() == 0
    with pytest.raises(ValueError, match="hidden"):
        draw_faces(black, [face], hidden="ghost")
