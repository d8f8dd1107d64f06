"""VIDEO mode's tracks: ids, fresh results after scene cuts, fresh scores with redetect_interval=1, the
content check's like-with-like thumbnails."""
from __future__ import annotations

import math
from importlib import resources
from pathlib import Path

import cv2
import numpy as np
import pytest

from denseface import DenseFace, RunningMode
from denseface.crop import square_transform
from denseface.detect import DetectorOptions, FaceDetector
from denseface.landmark_model import BUNDLED_MODELS
from denseface.track import APPEARANCE_SIDE, moved_appearance
from train.data import AFLW2000

REAL_MODEL = Path(str(resources.files("denseface").joinpath(BUNDLED_MODELS["full"])))
needs_model = pytest.mark.skipif(not REAL_MODEL.is_file(), reason="the trained landmark model is not bundled")


def aflw(number: int) -> np.ndarray:
    """AFLW2000-3D original ``image<number>.jpg``, (450, 450, 3) uint8 RGB."""
    return cv2.cvtColor(cv2.imread(str(AFLW2000 / "images" / f"image{number:05d}.jpg")), cv2.COLOR_BGR2RGB)


@needs_model
@pytest.mark.usefixtures("shared_data")
def test_cuts_between_different_faces_give_fresh_faces_and_new_ids():
    """Four shots of 5 frames (three people, framed alike, then the first again, each face's centre
    inside the box of the face before): the first frame after each cut is exactly what IMAGE mode
    finds in that frame (box and score: nothing of the face before the cut), each shot has one track
    id on all its frames, and every shot a new one."""
    shots = [aflw(19), aflw(21), aflw(2), aflw(19)]
    image = DenseFace()
    expected = [image.landmarks(frame)[0] for frame in shots]
    video = DenseFace(running_mode=RunningMode.VIDEO)
    ids = []
    for s, frame in enumerate(shots):
        for k in range(5):
            (face,) = video.landmarks_for_video(frame, 33.0 * (5 * s + k))
            ids.append(face.track_id)
            if k == 0:
                np.testing.assert_allclose(face.box, expected[s].box, atol=1e-3, err_msg=f"shot {s}")
                assert face.score == pytest.approx(expected[s].score, abs=1e-6), f"shot {s}"
    assert ids == [0] * 5 + [1] * 5 + [2] * 5 + [3] * 5
    for s in range(1, 4):  # the premise: the new face's detection lies in the old face's box
        x0, y0, x1, y1 = expected[s - 1].box
        cx, cy = (expected[s].box[0] + expected[s].box[2]) / 2, (expected[s].box[1] + expected[s].box[3]) / 2
        assert x0 <= cx <= x1 and y0 <= cy <= y1


def hand_held(photo: np.ndarray, k: int) -> np.ndarray:
    """Frame ``k`` of a hand-held shot of ``photo``: moved 3 px right and 2 px up per frame (edges
    repeated), its brightness 100, 94, 88, 82 % in turn, so that the detector's score changes."""
    moved = cv2.warpAffine(photo, np.float32([[1, 0, 3 * k], [0, 1, -2 * k]]), photo.shape[1::-1],
                           borderMode=cv2.BORDER_REPLICATE)
    return np.clip(moved * (1.0 - 0.06 * (k % 4)), 0, 255).astype(np.uint8)


@needs_model
@pytest.mark.usefixtures("shared_data")
def test_redetect_interval_1_scores_every_frame_with_that_frames_detection():
    """Eight hand-held frames of one photo, then the next one blurred beyond the detector. With
    redetect_interval=1 each frame's score is the one a FaceDetector of its own gives that frame, on
    one track, and the blurred frame gives [] at once. With the default (30) every frame keeps the
    first frame's score and the blurred frame still gives the tracked face (until a redetection)."""
    photo = aflw(2)
    frames = [hand_held(photo, k) for k in range(8)]
    blurred = cv2.GaussianBlur(hand_held(photo, 8), (0, 0), 15)
    detector = FaceDetector(DetectorOptions())  # the SDK's default detector, run apart from DenseFace
    scores = [detection.score for (detection,) in map(detector.detect, frames)]
    assert len(set(scores)) > 1 and detector.detect(blurred) == []  # the premises
    fresh = DenseFace(running_mode=RunningMode.VIDEO, redetect_interval=1)
    default = DenseFace(running_mode=RunningMode.VIDEO)
    for k, frame in enumerate(frames):
        (face,) = fresh.landmarks_for_video(frame, 33.0 * k)
        assert face.track_id == 0 and face.score == pytest.approx(scores[k], abs=1e-6), f"frame {k}"
        (face,) = default.landmarks_for_video(frame, 33.0 * k)
        assert face.track_id == 0 and face.score == pytest.approx(scores[0], abs=1e-6), f"frame {k}"
    assert fresh.landmarks_for_video(blurred, 33.0 * 8) == []
    (face,) = default.landmarks_for_video(blurred, 33.0 * 8)
    assert face.track_id == 0 and face.score == pytest.approx(scores[0], abs=1e-6)


@needs_model
def test_a_moving_face_keeps_its_id_and_a_returning_one_gets_a_new_id():
    skimage_data = pytest.importorskip("skimage.data", reason="scikit-image (the test extra) is needed")
    frame = skimage_data.astronaut()
    video = DenseFace(running_mode=RunningMode.VIDEO)
    rng = np.random.default_rng(1)
    for k in range(40):  # hand-held: a few pixels each frame, past a redetection at frame 30
        moved = np.roll(frame, (int(rng.integers(-4, 5)), int(rng.integers(-4, 5))), axis=(0, 1))
        (face,) = video.landmarks_for_video(moved, 33.0 * k)
        assert face.track_id == 0, f"frame {k}"
    assert video.landmarks_for_video(np.zeros_like(frame), 33.0 * 40) == []
    (face,) = video.landmarks_for_video(frame, 33.0 * 41)
    assert face.track_id == 1
    video.reset()  # a new stream: ids start again
    (face,) = video.landmarks_for_video(frame, 0.0)
    assert face.track_id == 0


@needs_model
def test_image_mode_has_no_track_id_and_the_timestamp_error_names_reset():
    frame = np.full((240, 320, 3), 128, np.uint8)
    (face,) = DenseFace().landmarks(frame, faces=[(100, 60, 200, 180)])
    assert face.track_id is None
    video = DenseFace(running_mode=RunningMode.VIDEO)
    video.landmarks_for_video(frame, 10.0)
    with pytest.raises(ValueError, match=r"timestamp_ms must increase.*reset\(\)"):
        video.landmarks_for_video(frame, 10.0)


def test_moved_appearance_follows_the_crop_by_whole_cells():
    """A 120-px crop at scale 1 moved right by 2 cells (16 px): the new crop's cell (r, c) shows what
    the old crop's cell (r, c + 2) showed; the last two columns fall outside the old crop (0)."""
    look = np.arange(APPEARANCE_SIDE ** 2, dtype=np.float32).reshape(APPEARANCE_SIDE, APPEARANCE_SIDE)
    old = square_transform(center=(200.0, 150.0), side=120.0, size=120)
    new = square_transform(center=(216.0, 150.0), side=120.0, size=120)
    moved = moved_appearance(look, old, new)
    np.testing.assert_allclose(moved[:, :-2], look[:, 2:], atol=1e-4)
    np.testing.assert_array_equal(moved[:, -1], 0.0)
    np.testing.assert_allclose(moved_appearance(look, old, old), look, atol=1e-4)


def test_moved_appearance_follows_a_half_turn():
    """The same crop turned by 180° about its centre: cell (r, c) shows the old cell (14 − r, 14 − c)."""
    look = np.random.default_rng(0).normal(size=(APPEARANCE_SIDE, APPEARANCE_SIDE)).astype(np.float32)
    old = square_transform(center=(200.0, 150.0), side=120.0, size=120)
    turned = square_transform(center=(200.0, 150.0), side=120.0, size=120, roll_deg=180.0)
    assert math.isclose(abs(turned.matrix[0, 0]), 1.0, abs_tol=1e-9)
    np.testing.assert_allclose(moved_appearance(look, old, turned), look[::-1, ::-1], atol=1e-4)


def test_moved_appearance_follows_a_zoom_out():
    """The crop's side doubled about its centre: new cell t shows old cell 2t − 7 (cell centres at crop
    px 8t + 3.5, the crop's centre 59.5 = cell 7), so cells 4..10 hold old cells 1, 3, ..., 13."""
    look = np.random.default_rng(1).normal(size=(APPEARANCE_SIDE, APPEARANCE_SIDE)).astype(np.float32)
    old = square_transform(center=(200.0, 150.0), side=120.0, size=120)
    wide = square_transform(center=(200.0, 150.0), side=240.0, size=120)
    moved = moved_appearance(look, old, wide)
    np.testing.assert_allclose(moved[4:11, 4:11], look[1:14:2, 1:14:2], atol=1e-4)
