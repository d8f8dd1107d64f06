"""Tests of train/labels/profiling.py on a synthetic textured ICT face.

The source photo is the ICT neutral head (4 px/cm) rendered into a 160×160 image with a procedural
grey texture and small disks of saturated colours (radius 0.6 cm on the surface, ≈2.4 px) centred on
landmark vertices (a left/right pair shares a colour). After a rotation, the centroid of each disk
found in the rendered view must lie within 1.5 px (BOUND_PX) of the landmark's projection from
verts_new (for landmarks visible in the new view; observed ≤ 0.9 px): the texture lookup carries the
photo's content exactly where the labels say, including the mirrored texture on a side the photo
does not show.
"""
from __future__ import annotations

import numpy as np
import pytest

from denseface.pose import rotation_from_angles
from train.labels.ict import load_ict
from train.labels.profiling import (
    face_centre,
    ict_head_mesh,
    pose_change,
    render_view,
    rotate_head,
    rotation_matrix,
    shift_into_frame,
    square_crop_affine,
)
from train.labels.render import rasterize

SIZE = 160
SCALE = 4.0  # pixels per centimetre
BOUND_PX = 1.5
DISK_RADIUS_CM = 0.6
GATE_PX = 4.0  # a disk's pixels are searched within this distance of its expected centre
# Multi-PIE 68 indices: eye corners, nostrils' base, mouth corners, brow ends (left/right pairs share
# a colour, so a side hidden in the source shows its mirror's disk), nose tip and chin.
LANDMARKS = [36, 45, 39, 42, 31, 35, 48, 54, 17, 26, 30, 8]
COLOUR_OF = [0, 0, 1, 1, 2, 2, 3, 3, 4, 4, 5, 6]
COLOURS = np.array(
    [[255, 0, 0], [0, 255, 0], [0, 0, 255], [255, 255, 0], [255, 0, 255], [0, 255, 255], [255, 128, 0]],
    np.float64,
)


def synthetic_source(yaw: float = 0.0) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(image (160, 160, 3) uint8, verts_src (V, 3) float64 image frame, landmark vertex ids (K,)) of
    the ICT neutral turned by ``yaw`` degrees, textured in its own model frame."""
    ict = load_ict()
    mesh = ict_head_mesh()
    neutral = ict.neutral.astype(np.float64)
    frontal = np.column_stack([neutral[:, 0] * SCALE + 80.0, -neutral[:, 1] * SCALE + 70.0,
                               neutral[:, 2] * SCALE])
    verts = rotate_head(frontal, rotation_matrix(yaw, 0.0, 0.0))
    ids = ict.landmarks68[LANDMARKS]
    closed = mesh.close_holes(verts)
    model = mesh.close_holes(neutral)
    tri_id, bary, _ = rasterize(closed, mesh.triangles, SIZE, SIZE)
    ys, xs = np.mgrid[0:SIZE, 0:SIZE]
    image = np.stack([60 + 0.5 * xs, 90 + 0.3 * ys, 120 + 0 * xs], axis=-1).astype(np.float64)
    rows, cols = np.nonzero(tri_id >= 0)
    q = np.einsum("nk,nkd->nd", bary[rows, cols], model[mesh.triangles[tri_id[rows, cols]]])
    grey = 140 + 25 * np.sin(1.7 * q[:, 0]) * np.cos(1.3 * q[:, 1]) + 15 * np.sin(0.9 * q[:, 2])
    colour = np.stack([grey + 10, grey, grey - 10], axis=1)
    for k, vid in enumerate(ids):
        in_disk = np.linalg.norm(q - neutral[vid], axis=1) < DISK_RADIUS_CM
        colour[in_disk] = COLOURS[COLOUR_OF[k]]
    image[rows, cols] = colour
    return np.clip(np.rint(image), 0, 255).astype(np.uint8), verts, ids


def disk_errors(out: np.ndarray, projected: np.ndarray, visible: np.ndarray) -> np.ndarray:
    """(K,) distance in px from each visible disk's centroid in ``out`` to ``projected`` (K, 2); the
    disk is the pixels of its colour within GATE_PX of ``projected``. NaN for invisible landmarks."""
    errors = np.full(len(projected), np.nan)
    ys, xs = np.mgrid[0:out.shape[0], 0:out.shape[1]]
    for k in np.flatnonzero(visible):
        near_colour = np.linalg.norm(out.astype(np.float64) - COLOURS[COLOUR_OF[k]], axis=2) < 60
        gate = np.hypot(xs - projected[k, 0], ys - projected[k, 1]) < GATE_PX
        rows, cols = np.nonzero(near_colour & gate)
        assert len(rows) >= 3, f"disk of landmark {LANDMARKS[k]} not found"
        errors[k] = np.hypot(cols.mean() - projected[k, 0], rows.mean() - projected[k, 1])
    return errors


def landmark_visible(verts: np.ndarray, ids: np.ndarray, shape: tuple[int, int]) -> np.ndarray:
    """(K,) bool: the landmark's surface is the nearest one at its pixel and faces the camera."""
    mesh = ict_head_mesh()
    closed = mesh.close_holes(verts)
    _, _, depth = rasterize(closed, mesh.triangles, *shape)
    p = verts[ids]
    col = np.rint(p[:, 0]).astype(int)
    row = np.rint(p[:, 1]).astype(int)
    return p[:, 2] >= depth[row, col] - 1.0


@pytest.mark.usefixtures("shared_data")
@pytest.mark.parametrize("yaw, pitch", [(40.0, 0.0), (-40.0, 0.0), (0.0, 20.0)])
def test_disks_follow_landmarks(yaw: float, pitch: float) -> None:
    image, verts_src, ids = synthetic_source()
    verts_new = rotate_head(verts_src, rotation_matrix(yaw, pitch, 0.0))
    out = render_view(image, verts_src, verts_new, (SIZE, SIZE), rng=np.random.default_rng(0))
    visible = landmark_visible(verts_new, ids, (SIZE, SIZE))
    assert visible.sum() >= 8
    errors = disk_errors(out, verts_new[ids, :2], visible)
    assert np.nanmax(errors) < BOUND_PX, dict(zip(np.array(LANDMARKS)[visible], errors[visible].round(2)))


@pytest.mark.usefixtures("shared_data")
def test_hidden_side_takes_the_mirror_texture() -> None:
    # Source turned to yaw −60°, new view at +30°: landmarks hidden in the photo show their mirror
    # partner's disk (same colour), which must land on their own projection.
    image, verts_src, ids = synthetic_source(-60.0)
    verts_new = rotate_head(verts_src, rotation_matrix(90.0, 0.0, 0.0))
    out = render_view(image, verts_src, verts_new, (SIZE, SIZE))
    hidden_in_source = ~landmark_visible(verts_src, ids, (SIZE, SIZE))
    mirrored = hidden_in_source & landmark_visible(verts_new, ids, (SIZE, SIZE))
    assert mirrored.sum() >= 3
    errors = disk_errors(out, verts_new[ids, :2], mirrored)
    assert np.nanmax(errors) < BOUND_PX, dict(zip(np.array(LANDMARKS)[mirrored], errors[mirrored].round(2)))


@pytest.mark.usefixtures("shared_data")
def test_crop_affine_moves_disks_with_labels() -> None:
    image, verts_src, ids = synthetic_source()
    verts_new = rotate_head(verts_src, rotation_matrix(30.0, -10.0, 15.0))
    affine = square_crop_affine(verts_new[ids, :2], 120, enlarge=2.0)
    out = render_view(image, verts_src, verts_new, (120, 120), affine)
    projected = verts_new[ids, :2] @ affine[:, :2].T + affine[:, 2]
    visible = landmark_visible(verts_new, ids, (SIZE, SIZE))
    errors = disk_errors(out, projected, visible)
    assert np.nanmax(errors) < BOUND_PX * affine[0, 0]


def test_rotation_conventions() -> None:
    nose = np.array([0.0, 0.0, 1.0])
    assert (rotation_matrix(30, 0, 0) @ nose)[0] > 0  # nose moves to image right
    assert (rotation_matrix(0, 30, 0) @ nose)[1] > 0  # looks down: nose moves down (+y)
    assert (rotation_matrix(0, 0, 30) @ np.array([1.0, 0.0, 0.0]))[1] < 0  # counter-clockwise
    r = rotation_matrix(25, -15, 40)
    np.testing.assert_allclose(r @ r.T, np.eye(3), atol=1e-12)
    verts = np.random.default_rng(1).normal(size=(9409, 3))
    np.testing.assert_allclose(face_centre(rotate_head(verts, r)), face_centre(verts), atol=1e-9)


@pytest.mark.usefixtures("shared_data")
def test_pose_change_reaches_the_target_pose() -> None:
    # A head posed by R_fit (camera frame, as FitResult) and turned by pose_change equals the head
    # posed directly by the target angles, up to a translation.
    neutral = load_ict().neutral.astype(np.float64)
    flip = np.diag([1.0, -1.0, 1.0])

    def posed(rotation: np.ndarray) -> np.ndarray:
        return 5.0 * neutral @ (flip @ rotation).T + np.array([70.0, 80.0, 3.0])

    fitted = posed(rotation_from_angles(-20.0, 10.0, 5.0))
    turned = rotate_head(fitted, pose_change(rotation_from_angles(-20.0, 10.0, 5.0), 60.0, -15.0, 8.0))
    direct = posed(rotation_from_angles(60.0, -15.0, 8.0))
    np.testing.assert_allclose(turned - turned.mean(0), direct - direct.mean(0), atol=1e-9)


def test_shift_into_frame_and_crop() -> None:
    verts = np.zeros((9409, 3))
    verts[:, :2] = np.random.default_rng(2).uniform([-30, 50], [40, 90], (9409, 2))
    shifted = shift_into_frame(verts, 150, 150, margin=2.0)
    assert shifted[:, :2].min() >= 2.0 - 1e-9 and shifted[:, :2].max() <= 147.0 + 1e-9
    np.testing.assert_allclose(shifted[:, 1], verts[:, 1])  # y was already inside
    affine = square_crop_affine(np.array([[10.0, 20.0], [50.0, 40.0]]), 120, enlarge=1.0)
    corners = np.array([[10.0, 10.0], [50.0, 50.0]]) @ affine[:, :2].T + affine[:, 2]
    np.testing.assert_allclose(corners, [[-0.5, -0.5], [119.5, 119.5]])


@pytest.mark.usefixtures("shared_data")
def test_head_mesh_holes() -> None:
    mesh = ict_head_mesh()
    n = len(load_ict().neutral)
    assert len(mesh.hole_loops) == 3  # two eyes and the mouth
    centres = np.arange(n, n + 3)
    assert sorted(mesh.mirror[centres].tolist()) == centres.tolist()
    assert (mesh.mirror[centres] == centres).sum() == 1  # only the mouth is its own mirror
    assert np.all(mesh.triangles[mesh.mouth_fan, 2] == mesh.mirror[mesh.triangles[mesh.mouth_fan, 2]])
