"""Tests of train/labels/whole_image.py (whole-image profiling) on test_profiling's synthetic face.

The synthetic photo's background is replaced by a fine sinusoidal pattern, so any misplaced pixel of
the surroundings shows; expectations come from the photo itself (no turn), OpenCV's own rotation of
it (a pure roll), the documented anchor geometry (a yaw) and the face-only renderer (the head).
"""
from __future__ import annotations

import cv2
import numpy as np
import pytest
from test_profiling import SIZE, synthetic_source

from train.labels import build_dataset
from train.labels.fit import FitResult
from train.labels.ict import load_ict
from train.labels.profiling import (
    face_centre,
    ict_head_mesh,
    prepare_source,
    render_prepared,
    rotate_head,
    rotation_matrix,
)
from train.labels.render import rasterize
from train.labels.whole_image import move_surroundings, prepare_whole, render_whole

pytestmark = pytest.mark.usefixtures("shared_data")

MARKER = np.array([255, 0, 255], np.uint8)
MARKER_CENTRE = (138.0, 100.0)  # (x, y) px, in the background right of the head
MARKER_RADIUS = 3.0


def footprint(verts: np.ndarray) -> np.ndarray:
    """(SIZE, SIZE) bool pixels covered by the closed head ``verts`` (V, 3)."""
    mesh = ict_head_mesh()
    return rasterize(mesh.close_holes(verts), mesh.triangles, SIZE, SIZE)[0] >= 0


def away_from(mask: np.ndarray, pixels: int) -> np.ndarray:
    """(H, W) bool pixels farther than ``pixels`` from every pixel of ``mask``."""
    return cv2.distanceTransform((~mask).astype(np.uint8), cv2.DIST_L2, 5) > pixels


@pytest.fixture(scope="module")
def photo() -> tuple[np.ndarray, np.ndarray]:
    """(image (SIZE, SIZE, 3) uint8, verts_src (V, 3)): the synthetic head over a patterned background
    (period ≈ 9 px) with a magenta disk at MARKER_CENTRE."""
    image, verts, _ = synthetic_source()
    ys, xs = np.mgrid[0:SIZE, 0:SIZE].astype(np.float64)
    pattern = np.stack([128 + 60 * np.sin(0.7 * xs) * np.cos(0.5 * ys),
                        128 + 60 * np.cos(0.6 * xs + 0.4 * ys),
                        100 + 40 * np.sin(0.45 * ys)], axis=-1)
    background = ~footprint(verts)
    image = image.copy()
    image[background] = np.rint(pattern[background]).astype(np.uint8)
    image[np.hypot(xs - MARKER_CENTRE[0], ys - MARKER_CENTRE[1]) <= MARKER_RADIUS] = MARKER
    return image, verts


def test_unturned_head_gives_back_the_photo(photo: tuple[np.ndarray, np.ndarray]) -> None:
    image, verts = photo
    out = render_whole(prepare_whole(image, verts), verts, (SIZE, SIZE))
    diff = np.abs(out.astype(int) - image).max(axis=2)
    outside = away_from(footprint(verts), 2)
    assert diff[outside].max() == 0
    # On the head only the grazing rim is not the photo's own pixel.
    inside = cv2.erode(footprint(verts).astype(np.uint8), np.ones((7, 7), np.uint8)) > 0
    assert np.mean(diff[inside]) < 1.0 and np.percentile(diff[inside], 99) <= 8


def test_roll_turns_the_whole_image_like_a_camera(photo: tuple[np.ndarray, np.ndarray]) -> None:
    image, verts = photo
    verts_new = rotate_head(verts, rotation_matrix(0.0, 0.0, 20.0))
    out = render_whole(prepare_whole(image, verts), verts_new, (SIZE, SIZE))
    # roll > 0 turns the content counter-clockwise on screen, as a positive angle of OpenCV's matrix
    centre = face_centre(verts)[:2]
    turn = cv2.getRotationMatrix2D((float(centre[0]), float(centre[1])), 20.0, 1.0)
    expected = cv2.warpAffine(image, turn, (SIZE, SIZE), flags=cv2.INTER_LINEAR)
    inside_photo = cv2.warpAffine(np.ones((SIZE, SIZE), np.uint8), turn, (SIZE, SIZE),
                                  flags=cv2.INTER_NEAREST)
    compared = away_from(footprint(verts_new), 2) & (cv2.erode(inside_photo, np.ones((5, 5), np.uint8)) > 0)
    assert compared.sum() > 0.4 * SIZE * SIZE
    diff = np.abs(out.astype(int) - expected).max(axis=2)[compared]
    assert diff.mean() < 1.0 and diff.max() <= 6


def test_background_moves_with_the_anchor_mesh_and_the_edge_stays(photo: tuple[np.ndarray, np.ndarray]) -> None:
    image, verts = photo
    source = prepare_whole(image, verts)
    verts_new = rotate_head(verts, rotation_matrix(50.0, 0.0, 0.0))
    moved = move_surroundings(source, verts_new)

    # Anchors on the image's outer edge do not move under a yaw.
    xy = source.anchors[:, :2]
    on_edge = np.isin(xy[:, 0], [-0.5, SIZE - 0.5]) | np.isin(xy[:, 1], [-0.5, SIZE - 0.5])
    assert on_edge.sum() >= 8
    np.testing.assert_allclose(moved[len(source.seam):][on_edge, :2], xy[on_edge], atol=1e-9)

    # The marker's centre, located in its source triangle, lands where that triangle's corners went.
    corners = source.source_xy()[source.triangles]  # (T, 3, 2)
    a, b, c = corners[:, 0], corners[:, 1], corners[:, 2]
    p = np.array(MARKER_CENTRE)
    det = (b[:, 0] - a[:, 0]) * (c[:, 1] - a[:, 1]) - (b[:, 1] - a[:, 1]) * (c[:, 0] - a[:, 0])
    wb = ((p[0] - a[:, 0]) * (c[:, 1] - a[:, 1]) - (p[1] - a[:, 1]) * (c[:, 0] - a[:, 0])) / det
    wc = ((b[:, 0] - a[:, 0]) * (p[1] - a[:, 1]) - (b[:, 1] - a[:, 1]) * (p[0] - a[:, 0])) / det
    weights = np.column_stack([1.0 - wb - wc, wb, wc])
    t = np.flatnonzero((weights >= 0.0).all(axis=1))[0]
    expected = weights[t] @ moved[source.triangles[t], :2]
    assert np.hypot(*(expected - p)) > 3.0  # the marker does move

    out = render_whole(source, verts_new, (SIZE, SIZE))
    ys, xs = np.mgrid[0:SIZE, 0:SIZE]
    near = np.hypot(xs - expected[0], ys - expected[1]) < 3 * MARKER_RADIUS
    marker = near & (np.abs(out.astype(int) - MARKER).max(axis=2) < 60)
    assert marker.sum() >= 10
    found = np.array([xs[marker].mean(), ys[marker].mean()])
    assert np.hypot(*(found - expected)) < 0.75, (found, expected)


def test_head_is_drawn_in_front_as_in_the_face_only_mode(photo: tuple[np.ndarray, np.ndarray]) -> None:
    image, verts = photo
    verts_new = rotate_head(verts, rotation_matrix(70.0, -10.0, 0.0))
    whole = render_whole(prepare_whole(image, verts), verts_new, (SIZE, SIZE))
    face_only = render_prepared(prepare_source(image, verts), verts_new, (SIZE, SIZE))
    inside = cv2.erode(footprint(verts_new).astype(np.uint8), np.ones((7, 7), np.uint8)) > 0
    np.testing.assert_array_equal(whole[inside], face_only[inside])
    assert np.abs(whole.astype(int) - face_only).max(axis=2)[away_from(footprint(verts_new), 2)].mean() > 20


def test_labels_and_views_do_not_depend_on_the_profiling_mode(
    photo: tuple[np.ndarray, np.ndarray], monkeypatch: pytest.MonkeyPatch
) -> None:
    # The synthetic head as a fit (scale 4 px/cm, frontal, neutral) stands in for the teacher's.
    image, verts = photo
    ict = load_ict()
    fit = FitResult(alpha=np.zeros(ict.identity.shape[0]), beta=np.zeros(len(ict.expression_names)),
                    rotation=np.eye(3), scale=4.0, translation=np.array([80.0, 70.0, 0.0]),
                    vertices=verts.astype(np.float32), points=np.zeros((468, 3), np.float32),
                    residual_px=0.0, residual_norm=0.0, yaw=0.0, pitch=0.0, roll=0.0)
    monkeypatch.setattr(build_dataset, "fit_source", lambda image, points468: (fit, None))
    face, _ = build_dataset.render_source(image, None, 4, seed=3, profiling="face")
    whole, _ = build_dataset.render_source(image, None, 4, seed=3, profiling="whole")
    for f, w in zip(face, whole, strict=True):
        for key in ("points", "yaw", "pitch", "roll", "flags", "view"):
            np.testing.assert_array_equal(f[key], w[key])
    assert not np.array_equal(face[1]["images"], whole[1]["images"])
    with pytest.raises(ValueError, match="unknown profiling mode"):
        build_dataset.profiler("faces")


@pytest.mark.parametrize("source_yaw, turned", [(20.0, True), (-33.0, True), (3.0, False)])
def test_yaw_sign_source_turns_views_the_way_the_photo_faces(source_yaw: float, turned: bool) -> None:
    """``plan_views(yaw_sign="source")``: the same draws as "random" (pitch, roll, edits and |yaw|), but
    every view's yaw takes the photo's sign when the photo is turned ≥ 5°; a frontal one keeps them."""
    pose = (source_yaw, 4.0, -2.0)
    random = build_dataset.plan_views(np.random.default_rng(7), 8, pose, "random")
    source = build_dataset.plan_views(np.random.default_rng(7), 8, pose, "source")
    assert random[0] == source[0] == build_dataset.View(*pose, flags=0)
    for a, b in zip(random[1:], source[1:]):
        assert (abs(a.yaw), a.pitch, a.roll, a.flags) == (abs(b.yaw), b.pitch, b.roll, b.flags)
        assert b.yaw == (abs(a.yaw) * np.sign(source_yaw) if turned else a.yaw)
    assert turned or {np.sign(v.yaw) for v in random[1:]} == {-1.0, 1.0}  # the random signs differ here
    with pytest.raises(ValueError):
        build_dataset.plan_views(np.random.default_rng(7), 8, pose, "left")
