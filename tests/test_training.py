"""train.learning.training end to end on a tiny synthetic dataset: every head and sampling option
builds, trains a step, validates, checkpoints, and a second run starts from the first one's weights."""
from __future__ import annotations

import csv
from pathlib import Path

import numpy as np
import pytest

keras = pytest.importorskip("keras")

from denseface.topology import load_topology  # noqa: E402
from train.learning.export import load_float_model  # noqa: E402
from train.learning.training import main  # noqa: E402


@pytest.fixture(scope="module")
def tiny_dataset(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One shard: 64 training and 16 validation rows of noise images whose labels are the mean face
    (x right, y down in the 128-pixel crop, 40 px per 10 cm), yaw spread over 0..90°."""
    root = tmp_path_factory.mktemp("dataset")
    (root / "shards").mkdir()
    rng = np.random.default_rng(0)
    n = 80
    face = load_topology().mean_shape * np.array([4.0, -4.0, 4.0], np.float32) + np.array([63.5, 63.5, 0.0], np.float32)
    np.savez(root / "shards" / "shard_00000.npz",
             images=rng.integers(0, 256, (n, 128, 128, 3), dtype=np.uint8),
             points=np.repeat(face[None], n, axis=0).astype(np.float32),
             yaw=np.linspace(0, 90, n).astype(np.float32), view=np.arange(n, dtype=np.int16) % 9,
             split=np.array([0] * 64 + [1] * 16, np.uint8))
    return root


def _run(data: Path, out: Path, *flags: str) -> list[dict[str, str]]:
    main(["--data", str(data), "--out", str(out), "--epochs", "1", "--batch", "32", "--warmup-epochs", "0.5",
          "--no-mixed-precision", *flags])
    with (out / "log.csv").open() as f:
        return list(csv.DictReader(f))


def test_linear_head_then_shape_prior_from_its_weights(tiny_dataset: Path, tmp_path: Path) -> None:
    rows = _run(tiny_dataset, tmp_path / "linear", "--large-yaw-weight", "3", "--background-prob", "0.5")
    assert len(rows) == 1 and np.isfinite(float(rows[0]["val_nme68"]))
    assert (tmp_path / "linear" / "last.keras").is_file() and not (tmp_path / "linear" / "backup").exists()
    rows = _run(tiny_dataset, tmp_path / "prior", "--pca-components", "8", "--loss", "hybrid_hard",
                "--init", str(tmp_path / "linear" / "last.keras"))
    model = keras.models.load_model(tmp_path / "prior" / "last.keras", compile=False)
    assert model.get_layer("shape_coefficients").units == 8 and np.isfinite(float(rows[0]["val_nme68"]))
    # the export rebuilds the same head in float32 and takes every weight
    rebuilt = load_float_model(tmp_path / "prior" / "last.keras")
    x = np.random.default_rng(0).uniform(0, 255, (2, 120, 120, 3)).astype(np.float32)
    np.testing.assert_allclose(rebuilt(x, training=False), model(x, training=False), atol=1e-5)


def test_lite_student_distilled_from_a_teacher(tiny_dataset: Path, tmp_path: Path) -> None:
    _run(tiny_dataset, tmp_path / "teacher")
    rows = _run(tiny_dataset, tmp_path / "lite", "--width", "lite", "--teacher", str(tmp_path / "teacher" / "last.keras"),
                "--teacher-weight", "0.5")
    assert np.isfinite(float(rows[0]["val_nme68"])) and np.isfinite(float(rows[0]["val_loss"]))
    student = keras.models.load_model(tmp_path / "lite" / "last.keras", compile=False)
    assert student.output_shape == (None, 1560)  # the checkpoint is the student alone
    # α 0.5 halves the stem convolution's 32 channels; the export rebuilds the same width
    assert student.get_layer("mobilenetv2_0.50_120").get_layer("Conv1").filters == 16
    rebuilt = load_float_model(tmp_path / "lite" / "last.keras")
    x = np.random.default_rng(1).uniform(0, 255, (2, 120, 120, 3)).astype(np.float32)
    np.testing.assert_allclose(rebuilt(x, training=False), student(x, training=False), atol=1e-5)



def test_paired_renders_replace_only_rendered_rows(tiny_dataset: Path, tmp_path: Path) -> None:
    from train.learning.dataset import TRAIN_SPLIT, load_dataset, load_paired_images, paired_pictures

    with np.load(tiny_dataset / "shards" / "shard_00000.npz") as shard:
        arrays = dict(shard)
    paired = tmp_path / "paired"
    (paired / "shards").mkdir(parents=True)
    np.savez(paired / "shards" / "shard_00000.npz", **{**arrays, "images": np.zeros_like(arrays["images"])})
    samples = load_dataset(tiny_dataset, TRAIN_SPLIT)
    other = load_paired_images(paired, TRAIN_SPLIT, samples)
    assert other.shape == samples.images.shape and not other.any()
    rng = np.random.default_rng(0)
    photo = samples.view == 0  # views cycle 0..8: rows 0, 9, 18, ... are photos
    always = paired_pictures(samples.images, samples.view, other, 1.0, rng)
    assert np.array_equal(always[photo], samples.images[photo]) and not always[~photo].any()
    assert np.array_equal(paired_pictures(samples.images, samples.view, other, 0.0, rng), samples.images)
    half = paired_pictures(samples.images, samples.view, other, 0.5, rng)
    swapped = ~half.reshape(len(half), -1).any(axis=1)
    assert 0 < swapped.sum() < (~photo).sum() and not swapped[photo].any()
    np.savez(paired / "shards" / "shard_00000.npz", **{**arrays, "points": arrays["points"] + 1.0})
    with pytest.raises(ValueError, match="not a paired build"):
        load_paired_images(paired, TRAIN_SPLIT, samples)


def test_real_photos_beside_renders(tiny_dataset: Path, tmp_path: Path) -> None:
    """A real-photo build's rows are filtered (split, renders, profiles, fiducial disagreement) and
    trained on beside --data; --steps-per-epoch fixes the budget whatever rows are added."""
    from train.learning.dataset import TRAIN_SPLIT, load_real_photos

    with np.load(tiny_dataset / "shards" / "shard_00000.npz") as shard:
        arrays = dict(shard)
    n = len(arrays["yaw"])
    real = tmp_path / "real"
    (real / "shards").mkdir(parents=True)
    rows = np.arange(n)
    np.savez(real / "shards" / "shard_00000.npz", **arrays, profile=rows % 2 == 0,
             nose_tip=np.where(rows % 5 == 0, 0.2, 0.01).astype(np.float32),
             mouth_corner=np.full(n, 0.02, np.float32))
    np.savez(real / "shards" / "shard_00001.npz", counts="{}")  # every photo of a shard rejected
    train = (arrays["split"] == 0) & (rows % 5 != 0)
    photos = load_real_photos(real, TRAIN_SPLIT, include_renders=False, profiles_only=False, max_disagreement=0.08)
    assert len(photos) == (train & (arrays["view"] == 0)).sum() and (photos.view == 0).all()
    everything = load_real_photos(real, TRAIN_SPLIT, include_renders=True, profiles_only=False, max_disagreement=0.08)
    assert len(everything) == train.sum()
    profiles = load_real_photos(real, TRAIN_SPLIT, include_renders=True, profiles_only=True, max_disagreement=0.08)
    assert len(profiles) == (train & (rows % 2 == 0)).sum()
    assert len(load_real_photos(real, TRAIN_SPLIT, True, False, max_disagreement=1.0)) == (arrays["split"] == 0).sum()
    with pytest.raises(ValueError, match="no kept rows"):
        load_real_photos(real, TRAIN_SPLIT, include_renders=True, profiles_only=False, max_disagreement=0.001)
    out = tmp_path / "run"
    main(["--data", str(tiny_dataset), "--out", str(out), "--epochs", "1", "--batch", "16", "--steps-per-epoch", "3",
          "--warmup-epochs", "0.5", "--no-mixed-precision", "--real-data", str(real), "--real-weight", "4",
          "--real-renders"])
    with (out / "log.csv").open() as f:
        logged = list(csv.DictReader(f))
    assert len(logged) == 1 and np.isfinite(float(logged[0]["val_nme68"]))


def test_aflw_dev_curve_scores_every_nth_and_the_last_epoch(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """--aflw-dev-every's callback on a stand-in development set whose ground truth is the model's own
    (constant) prediction moved 3 px right: every image scores 3 / (120 / √2) = 3.5355 %, in each
    |yaw| bin; epochs 2 and 3 of 3 are scored and kept (every 2nd and the last), epoch 1 logs NaN."""
    from train.evaluation import evaluate
    from train.evaluation.metrics import aflw21
    from train.learning.training import AflwDevCurve

    face = load_topology().mean_shape * np.array([3.0, -3.0, 3.0], np.float32) + np.array([59.5, 59.5, 0.0])
    model = keras.Sequential([keras.Input((120, 120, 3)), keras.layers.GlobalAveragePooling2D(),
                              keras.layers.Dense(1560, kernel_initializer="zeros",
                                                 bias_initializer=keras.initializers.Constant(face.ravel() / 120.0))])
    # roi box (0, 0, 120, 120): crop pixels are the photo's pixels (pixel centres kept)
    gt21 = aflw21(face[None, :68, :2].astype(np.float32)) + np.array([3.0, 0.0], np.float32)
    dev = evaluate.AflwDev(names=np.array(["a", "b", "c"]), pts21=np.repeat(gt21, 3, axis=0),
                           visible=np.ones((3, 21), bool), roi_box=np.tile(np.float32([0, 0, 120, 120]), (3, 1)),
                           yaw=np.float32([10.0, -45.0, 75.0]))
    monkeypatch.setattr(evaluate, "load_aflw_dev", lambda: dev)
    monkeypatch.setattr(evaluate, "aflw_dev_crops", lambda d: np.zeros((len(d.names), 120, 120, 3), np.uint8))
    curve = AflwDevCurve(every=2, epochs=3, out=tmp_path)
    curve.set_model(model)
    logged = []
    for epoch in range(3):
        logs: dict = {}
        curve.on_epoch_end(epoch, logs)
        logged.append(logs)
    assert np.isnan(logged[0]["aflw_dev"]) and np.isnan(logged[0]["aflw_dev_fail60"])
    for logs in logged[1:]:
        assert logs["aflw_dev"] == pytest.approx(3.0 / (120.0 / np.sqrt(2.0)) * 100.0, abs=1e-4)
        assert logs["aflw_dev_fail60"] == 0
    assert sorted(p.name for p in tmp_path.glob("epoch_*.keras")) == ["epoch_002.keras", "epoch_003.keras"]
