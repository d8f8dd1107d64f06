"""Smoke tests of benchmarks/: each script runs end to end with a handful of frames on the synthetic
model and writes its JSON and PNG; the shared helpers compute what they claim.

Timings are not checked (meaningless at these counts); the ARM comparison is checked against itself.
"""
from __future__ import annotations

import json
import tempfile
from pathlib import Path

import numpy as np
import pytest

from benchmarks.common import format_table, percentiles
from benchmarks.frames import FRAME_HEIGHT, FRAME_WIDTH, fit_frame, moving_face_frames
from denseface.fetch import model_path

from synthetic_model import synthetic_models


@pytest.fixture(scope="module")
def synthetic_int8(shared_data) -> Path:
    """The synthetic int8 model, for benchmark runs on AFLW2000-3D frames that also run MediaPipe's mesh."""
    try:
        model_path("mesh468")
    except FileNotFoundError as error:
        pytest.skip(f"MediaPipe's face_landmark.tflite unavailable offline: {error}")
    try:
        return synthetic_models(Path(tempfile.gettempdir()))["int8"]
    except RuntimeError as error:
        pytest.skip(f"synthetic model needs TensorFlow to build: {error}")


def test_percentiles_of_known_samples():
    stats = percentiles(range(1, 101))
    assert stats["n"] == 100 and stats["p50"] == pytest.approx(50.5) and stats["min"] == 1.0
    assert stats["p95"] == pytest.approx(95.05) and stats["p99"] == pytest.approx(99.01)
    assert np.isnan(percentiles([])["p50"])


def test_table_aligns_columns():
    lines = format_table(("a", "bb"), [("x", 1.0), ("yyy", 22.5)]).splitlines()
    assert lines[0].startswith("a  ") and lines[2].endswith("1.000") and len({len(line) for line in lines}) == 1


def test_frames_are_640x480():
    frame = fit_frame(np.full((450, 450, 3), 200, np.uint8))
    assert frame.shape == (FRAME_HEIGHT, FRAME_WIDTH, 3) and frame[:, 0].max() == 0 and frame[240, 320, 0] == 200


@pytest.mark.usefixtures("shared_data")  # the frames are made from an AFLW2000-3D original
def test_moving_face_frames_are_deterministic():
    first = list(moving_face_frames(3))
    second = list(moving_face_frames(3))
    assert [ms for _, ms in first] == pytest.approx([0.0, 1000 / 30, 2000 / 30])
    assert all(np.array_equal(a, b) for (a, _), (b, _) in zip(first, second))
    assert not np.array_equal(first[0][0], first[2][0])  # the face moves


def test_latency_quick_run_writes_json_and_png(synthetic_int8, tmp_path, capsys):
    from benchmarks import latency

    latency.main(["--model", str(synthetic_int8), "--frames", "4", "--warmup", "1", "--threads", "1",
                  "--runs", "image:aflw", "video:moving", "video:moving:fresh", "--model-invokes", "5",
                  "--facemesh-python", "none", "--out", str(tmp_path)])
    printed = capsys.readouterr().out
    assert "End to end" in printed and "Model alone" in printed and "Targets" in printed
    data = json.loads((tmp_path / "latency.json").read_text())
    assert (tmp_path / "latency.png").stat().st_size > 0
    runs = {r["run"]: r for r in data["runs"]}
    assert set(runs) == {"image:aflw", "video:moving", "video:moving:fresh"}
    ours = runs["video:moving"]["pipelines"]["denseface"]
    assert ours["end_to_end"]["n"] == 4 and ours["stages"]["infer"]["frames_run"] == 4
    assert "smooth" in ours["stages"] and "error" in runs["image:aflw"]["pipelines"]["facemesh-py"]
    fresh = runs["video:moving:fresh"]  # redetect_interval=1: the detector on every timed frame
    assert fresh["redetect_interval"] == 1 and runs["video:moving"]["redetect_interval"] == 30
    assert fresh["pipelines"]["denseface"]["stages"]["detect"]["frames_run"] == 4
    assert "video:moving:fresh / video:moving denseface p50, 1 thread(s)" in printed


def test_flops_counts_the_synthetic_dense_layer(synthetic_int8, tmp_path):
    from benchmarks import flops

    flops.main(["--model", str(synthetic_int8), "--no-reference", "--out", str(tmp_path)])
    models = json.loads((tmp_path / "flops.json").read_text())["models"]
    ours = next(iter(models.values()))
    # the synthetic model is mean(pixels) @ (3, 1560) + bias: one FULLY_CONNECTED of 3 × 1560 MACs
    assert ours["macs"] == 3 * 1560 and ours["flops"] == 2 * 3 * 1560
    assert (tmp_path / "flops.png").stat().st_size > 0


def test_memory_quick_run(synthetic_int8, tmp_path):
    from benchmarks import memory

    memory.main(["--model", str(synthetic_int8), "--frames", "6", "--warmup", "2", "--sample-every", "2",
                 "--modes", "video", "--out", str(tmp_path)])
    result = json.loads((tmp_path / "memory.json").read_text())["results"][0]
    assert result["sample_frames"] == [0, 2, 4, 6] and result["peak_kib"] >= result["loaded_kib"] > 0


@pytest.mark.usefixtures("shared_data")  # AFLW2000-3D originals
def test_batch_quick_run(tmp_path, capsys):
    from benchmarks import batch

    batch.main(["--images", "4", "--runs", "local:1", "--stage-images", "2", "--out", str(tmp_path)])
    result = json.loads((tmp_path / "batch.json").read_text())
    assert result["runs"][0]["done"] == 4 and result["runs"][0]["worker_peak_mib"][0] > 50
    assert {"read (JPEG decode)", "detect", "infer", "write (Parquet, rename)"} <= set(result["stages_ms_per_image"])
    assert "images/s" in capsys.readouterr().out


def test_accuracy_quick_run(synthetic_int8, tmp_path):
    pytest.importorskip("train.evaluation.evaluate")
    from benchmarks import accuracy

    accuracy.main(["--model", str(synthetic_int8), "--limit", "3", "--no-mediapipe", "--out", str(tmp_path)])
    rows = json.loads((tmp_path / "accuracy.json").read_text())["rows"]
    assert {r["row"] for r in rows} >= {"1 standard crops", "2 SDK crops", "3 end to end"}
    assert (tmp_path / "accuracy.png").stat().st_size > 0


def test_annotated_face_is_the_box_centred_in_the_ground_truth():
    evaluate = pytest.importorskip("train.evaluation.evaluate")
    gt = np.array([[100.0, 100.0], [200.0, 100.0], [150.0, 220.0]])  # tight box (100, 100)-(200, 220)
    other = (300.0, 90.0, 420.0, 230.0)  # someone else, centre outside the box
    near = (95.0, 95.0, 205.0, 215.0)  # centre (150, 155): 5 px from the box's centre (150, 160)
    nearer = (110.0, 110.0, 190.0, 210.0)  # centre (150, 160)
    assert evaluate.annotated_face([other, near], gt) == 1
    assert evaluate.annotated_face([other, near, nearer], gt) == 2
    assert evaluate.annotated_face([other], gt) is None
    assert evaluate.annotated_face([], gt) is None


def test_arm_check_passes_against_itself(synthetic_int8, tmp_path):
    import importlib.util

    spec = importlib.util.spec_from_file_location(
        "check_landmarks", Path(__file__).resolve().parents[1] / "benchmarks" / "arm" / "check_landmarks.py")
    check = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(check)
    check.make_inputs(tmp_path / "inputs.npz", 2)
    check.run(tmp_path / "inputs.npz", synthetic_int8, tmp_path / "a.npz")
    assert check.compare(tmp_path / "a.npz", tmp_path / "a.npz", 1e-3, tmp_path)
    assert json.loads((tmp_path / "arm_check.json").read_text())["pass"] is True


def test_detector_iou_of_hand_made_boxes():
    from denseface.ssd import box_iou  # benchmarks.detector's IoU, row by row

    a = np.array([[0, 0, 10, 10], [0, 0, 10, 10], [0, 0, 10, 10]], float)
    b = np.array([[0, 0, 10, 10], [5, 0, 15, 10], [20, 20, 30, 30]], float)
    np.testing.assert_allclose(box_iou(a, b), [1.0, 50 / 150, 0.0])
    np.testing.assert_allclose(box_iou(a[0], b), [1.0, 50 / 150, 0.0])  # one box against many (NMS)


@pytest.mark.usefixtures("shared_data")  # a standard AFLW2000-3D crop
def test_detector_grid_finds_each_tiles_face_in_its_own_tile():
    from benchmarks.detector import grid_detections
    from denseface.detect import DetectorOptions, FaceDetector
    from train.data import AFLW2000
    from train.evaluation.evaluate import read_rgb

    crop = read_rgb(AFLW2000 / "crops" / "image00002.jpg")  # 120×120, a near-frontal face
    boxes = grid_detections(FaceDetector(DetectorOptions(kind="short")), [crop] * 5, grid=2)
    assert np.isnan(boxes[4]).all()  # the fifth crop fills no 2×2 grid
    # the same face in every tile: the boxes differ by the tiles' offset of 120 px, give or take the few
    # pixels by which the detector's box moves with the face's place on its anchor grid (3 px here)
    np.testing.assert_allclose(boxes[1] - boxes[0], [120, 0, 120, 0], atol=6.0)
    np.testing.assert_allclose(boxes[3] - boxes[0], [120, 120, 120, 120], atol=6.0)


def test_detector_range_places_the_face_box_at_the_asked_size():
    """A 450×450 image whose box (100, 120, 300, 300) has side 200, placed at side 50: scale 1/4, the
    112×112 scaled image (OpenCV rounds 112.5 to even) centred in the 1920×1080 frame (left 904,
    top 484), grey around it."""
    from benchmarks.detector_range import place

    image = np.zeros((450, 450, 3), np.uint8)
    image[120:301, 100:301] = 255  # the box's pixels, white
    frame, box = place(image, np.array([100.0, 120.0, 300.0, 300.0]), 50.0)
    assert frame.shape == (1080, 1920, 3)
    np.testing.assert_allclose(box, [(100.5 / 4 - 0.5) + 904, (120.5 / 4 - 0.5) + 484,
                                     (300.5 / 4 - 0.5) + 904, (300.5 / 4 - 0.5) + 484])
    assert box[2] - box[0] == pytest.approx(50.0)
    inner = frame[int(box[1]) + 2:int(box[3]) - 1, int(box[0]) + 2:int(box[2]) - 1]
    assert inner.min() == 255  # the white box lands inside the placed box
    assert (frame[:400] == 128).all() and (frame[:, :900] == 128).all()  # grey outside the image


def test_blendshapes_quick_run(shared_data, tmp_path, capsys):
    try:
        model_path("mesh478"), model_path("blendshapes")
    except FileNotFoundError as error:
        pytest.skip(f"MediaPipe's Face Landmarker models unavailable offline: {error}")
    from benchmarks import blendshapes

    _one_shard(tmp_path / "data")
    blendshapes.main(["--faces", "3", "--photos", "4", "--data", str(tmp_path / "data"), "--out", str(tmp_path)])
    result = json.loads((tmp_path / "blendshapes.json").read_text())
    assert set(result["known"]["noise 0%"]) == set(blendshapes.MEDIAPIPE_NAMES[1:])
    check = result["photos"]["side_check"]  # MediaPipe's own model: the closed right eye is eyeBlinkRight
    assert check["eyeBlinkRight"][1] > check["eyeBlinkRight"][0] + 0.3
    assert abs(check["eyeBlinkLeft"][1] - check["eyeBlinkLeft"][0]) < 0.1
    assert "Pearson r" in capsys.readouterr().out


def _one_shard(data: Path) -> None:
    """A dataset shard with three rows: a held-out render, a held-out photo (view 0) and a training
    render; the faces are the mean face drawn nowhere (a grey crop): only the plumbing is checked."""
    from denseface.topology import load_topology

    points = 4.0 * load_topology().mean_shape * np.array([1.0, -1.0, 1.0]) + (64.0, 64.0, 0.0)
    (data / "shards").mkdir(parents=True)
    np.savez(data / "shards" / "shard_00000.npz", images=np.full((3, 128, 128, 3), 128, np.uint8),
             points=np.stack([points] * 3).astype(np.float32), yaw=np.array([70.0, 0.0, 10.0], np.float32),
             view=np.array([1, 0, 2], np.int16), flags=np.array([1, 0, 8], np.uint8),
             split=np.array([2, 2, 0], np.uint8))


def test_rendered_test_views_are_the_held_out_renders(tmp_path):
    from benchmarks.common import rendered_test_views

    _one_shard(tmp_path)
    views = list(rendered_test_views(tmp_path, 10))
    assert len(views) == 1 and views[0]["yaw"] == 70.0 and views[0]["flags"] == 1
    assert views[0]["points"].shape == (520, 3) and views[0]["image"].shape == (128, 128, 3)
    with pytest.raises(FileNotFoundError, match="shards"):
        list(rendered_test_views(tmp_path / "none", 10))


def test_visibility_quick_run(tmp_path):
    from benchmarks import visibility

    _one_shard(tmp_path / "data")
    visibility.main(["--data", str(tmp_path / "data"), "--out", str(tmp_path)])
    bins = json.loads((tmp_path / "visibility.json").read_text())["bins"]
    assert bins[">60"]["n"] == 1 and bins["[0,30]"]["n"] == 0
    assert 0.0 <= bins[">60"]["agree"] <= 1.0
