"""Tests of train.labels.real_photos: the crop rules, the mirror pass, splits and re-posed views."""
from __future__ import annotations

import numpy as np
import pytest

from denseface.crop import MODEL_INPUT, square_transform
from train.labels.build_dataset import MAX_YAW, identity_split
from train.labels.real_photos import (
    BOX_SIDE,
    REPROFILE_TURN,
    box_crop,
    fiducial_agreement,
    flip68,
    person_split,
    reprofile_views,
    teacher_pass,
)


def test_box_crop_is_3ddfa_box_rule() -> None:
    """Box (10, 20, 110, 120): mean side 100 → a 158-px square centred at (60, 70 + 14)."""
    transform = box_crop((10.0, 20.0, 110.0, 120.0))
    assert transform.scale == pytest.approx(MODEL_INPUT / (BOX_SIDE * 100.0))
    centre = transform.to_frame(np.array([[(MODEL_INPUT - 1) / 2.0] * 2]))[0]
    np.testing.assert_allclose(centre, (60.0, 84.0), atol=1 / 16)


def test_flip68_pairs_the_ibug_points() -> None:
    flip = flip68()
    assert np.array_equal(flip[flip], np.arange(68))
    for a, b in [(0, 16), (8, 8), (36, 45), (39, 42), (30, 30), (31, 35), (48, 54), (51, 51), (57, 57)]:
        assert flip[a] == b and flip[b] == a


def test_fiducial_agreement_by_hand() -> None:
    points68 = np.zeros((68, 3))
    points68[:, :2] = np.random.default_rng(0).uniform(0, 100, (68, 2))
    points68[0, :2], points68[1, :2] = (0.0, 0.0), (100.0, 25.0)  # the 68-point box: 100 × ≤ 100
    lo, hi = points68[:, :2].min(0), points68[:, :2].max(0)
    norm = np.sqrt(np.prod(hi - lo))
    pts30 = np.zeros((30, 2))
    pts30[21] = points68[30, :2] + (3.0, 4.0)  # nose tip 5 px off
    pts30[25] = points68[54, :2] + (0.0, 2.0)  # 2 px from the left mouth corner, nearer than the right
    agreement = fiducial_agreement(pts30, points68)
    assert agreement["nose_tip"] == pytest.approx(5.0 / norm)
    assert agreement["mouth_corner"] <= 2.0 / norm + 1e-12


def test_person_split_follows_lfw_and_cfp_test_people() -> None:
    assert person_split("Aaron Rodgers", 451) == 2 and person_split("Aaron Rodgers", 500) == 2
    for name in ("George W Bush", "Colin Powell", "Serena Williams", "50 Cent"):
        lfw_name = name.replace(" ", "_")
        assert person_split(name, 1) == identity_split(f"{lfw_name}_0001.jpg") == identity_split(f"{lfw_name}_0042.jpg")


def test_reprofile_views_turn_profiles_further_out() -> None:
    rng = np.random.default_rng(0)
    for yaw in (62.0, -70.0, 84.0):
        views = reprofile_views(rng, 5, (yaw, 3.0, -2.0))
        assert len(views) == 5
        for view in views:
            assert np.sign(view.yaw) == np.sign(yaw) and (view.pitch, view.roll, view.flags) == (3.0, -2.0, 0)
            assert min(abs(yaw) + REPROFILE_TURN[0], MAX_YAW) <= abs(view.yaw) <= min(abs(yaw) + REPROFILE_TURN[1], MAX_YAW)
    frontal = reprofile_views(rng, 4, (5.0, 0.0, 0.0))  # a frontal turns over 0–90° like an LFW photo
    assert len(frontal) == 4 and max(abs(v.yaw) for v in frontal) > 45.0


@pytest.mark.usefixtures("shared_data")
def test_mirror_pass_equals_the_pass_on_the_mirrored_photo() -> None:
    """The crop-level mirror (crop flipped, x ↦ 119 − x, points renumbered) against the frame-level
    mirror of an independent path: the same crop of the photo mirrored in the frame, its points
    mirrored back (x ↦ W − 1 − x) and renumbered. Crop centred on the photo, so both crops are the
    same pixels mirrored."""
    from train.evaluation.evaluate import load_aflw_dev, read_rgb
    from train.data import AFLW_DEV
    from train.labels.tddfa import TDDFA

    tddfa = TDDFA()
    dev = load_aflw_dev()
    for name in dev.names[[0, 1500, 2999]]:
        photo = read_rgb(AFLW_DEV / "crops" / name)
        width = photo.shape[1]
        transform = square_transform(((width - 1) / 2.0, (photo.shape[0] - 1) / 2.0), 100.0, MODEL_INPUT)
        assert np.array_equal(transform.warp(photo[:, ::-1].copy()), transform.warp(photo)[:, ::-1])
        crop_mirror = teacher_pass(photo, transform, tddfa, mirror=True)
        frame_mirror = teacher_pass(photo[:, ::-1].copy(), transform, tddfa, mirror=False)
        frame_mirror[:, 0] = (width - 1) - frame_mirror[:, 0]
        np.testing.assert_allclose(crop_mirror, frame_mirror[flip68()], atol=1e-3)
        # and the mirror pass is a second opinion on the same face: within a few pixels of the plain one
        plain = teacher_pass(photo, transform, tddfa, mirror=False)
        assert np.linalg.norm(plain[:, :2] - crop_mirror[:, :2], axis=1).mean() < 4.0


def test_online_teacher_relabels_only_the_real_rows(shared_data) -> None:
    """The online teacher's targets on an AFLW2000-3D standard crop land on its ground-truth 68 points
    (NME below 6 % of √(w·h) of their box, in the crop's pixels), and a row not flagged real keeps its
    target exactly."""
    pytest.importorskip("onnxruntime")
    from denseface.topology import IBUG68
    from train.evaluation.evaluate import load_aflw2000, read_rgb
    from train.evaluation.metrics import nme_per_image
    from train.learning.online_teacher import OnlineTeacher

    gt = load_aflw2000()
    i = 0
    crop = read_rgb(shared_data / "aflw2000_3d" / "crops" / gt.names[i]).astype(np.float32)
    x0, y0, x1, y1 = gt.roi_box[i]
    scale = np.array([x1 - x0, y1 - y0]) / MODEL_INPUT
    expected = (gt.pts68[i] - [x0, y0] + 0.5) / scale - 0.5  # original → crop pixels (pixel centres)
    targets = np.full((2, 1560), 0.25, np.float32)
    teacher = OnlineTeacher()
    out = teacher(np.stack([crop, crop]), targets, np.array([True, False]))
    assert np.array_equal(out[1], targets[1])
    points = out[0].reshape(520, 3)[IBUG68, :2] * MODEL_INPUT
    assert nme_per_image(points[None], expected[None])[0] < 6.0
    assert (teacher.relabelled, teacher.kept) == (1, 0)
