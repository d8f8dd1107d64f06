"""The dataset's shards in memory and the tf.data pipelines over them.

``python -m train.labels.build_dataset`` writes ``DATASET_DIR/shards/shard_NNNNN.npz``; each row is a
128-pixel crop (``images``), its 520 labels (``points``), ``yaw``, ``view`` and ``split`` (the split
constants below: by LFW identity). Training (``train.learning.training``), export, restore, the
ablations, evaluation, box calibration and the render-realism measurement read them through
``load_dataset``.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import numpy as np
import tensorflow as tf

from train.learning.augment import MARGIN, AugmentConfig, augment_batch, validation_batch

TRAIN_SPLIT, VAL_SPLIT, TEST_SPLIT = 0, 1, 2  # the shards' ``split`` values
LARGE_YAW = 60.0  # degrees: the last |yaw| bin of the benchmarks, which ``large_yaw_weight`` weights
SHARD_FIELDS = ("images", "points", "yaw", "view")


@dataclass(frozen=True)
class Samples:
    """Dataset rows in memory.

    images: (N, 128, 128, 3) uint8 RGB crops. points: (N, 520, 3) float32 in the crop's pixels
    (x right, y down, pixel centres at integers, z towards the camera relative to the mean depth).
    yaw: (N,) float32 degrees. view: (N,) int16, 0 for the photo itself, > 0 for rendered views.
    """

    images: np.ndarray
    points: np.ndarray
    yaw: np.ndarray
    view: np.ndarray

    def __len__(self) -> int:
        return len(self.images)


def load_dataset(data: Path, split: int, limit: int | None = None) -> Samples:
    """The rows of ``split`` (0 train, 1 val, 2 test) of all shards under ``data/shards``, in shard
    order, at most ``limit`` of them. Raises FileNotFoundError when there are no shards, ValueError
    when the split is empty."""
    return _read_rows(data, lambda shard: shard["split"] == split, limit, "train.labels.build_dataset",
                      f"no rows with split == {split}")


def _read_rows(data: Path, select: Callable[[np.lib.npyio.NpzFile], np.ndarray], limit: int | None,
               builder: str, empty: str) -> Samples:
    """The rows of every shard under ``data/shards`` where ``select(shard)`` (a bool mask) holds, in
    shard order, at most ``limit`` of them; shards without rows (every photo rejected) are passed over.
    Raises FileNotFoundError naming ``builder`` when there are no shards, ValueError saying ``empty``
    when no row is selected."""
    paths = sorted((data / "shards").glob("shard_*.npz"))
    if not paths:
        raise FileNotFoundError(f"no shards found: expected {data}/shards/shard_NNNNN.npz ({builder})")
    parts: dict[str, list[np.ndarray]] = {field: [] for field in SHARD_FIELDS}
    count = 0
    for path in paths:
        with np.load(path) as shard:
            if "split" not in shard.files:
                continue
            rows = np.flatnonzero(select(shard))
            if limit is not None:
                rows = rows[: limit - count]
            for field in SHARD_FIELDS:
                parts[field].append(shard[field][rows])
        count += len(rows)
        if limit is not None and count >= limit:
            break
    if count == 0:
        raise ValueError(f"{data}/shards hold {empty}")
    return Samples(**{field: np.concatenate(parts[field]) for field in SHARD_FIELDS})


def load_real_photos(data: Path, split: int, include_renders: bool, profiles_only: bool,
                     max_disagreement: float) -> Samples:
    """The rows of ``split`` of a real-photo build (``train.labels.real_photos build``): the labelled
    photos (view 0) and, with ``include_renders``, their re-posed renders (view > 0); with
    ``profiles_only`` only CFP's profile photos (and their renders). Photos whose teacher disagrees with
    their own fiducials (nose tip or mouth corner further apart than ``max_disagreement`` × √(w·h) of
    the 68-point box) are left out with their renders. Raises as ``load_dataset``."""

    def select(shard: np.lib.npyio.NpzFile) -> np.ndarray:
        keep = ((shard["split"] == split) & (shard["nose_tip"] <= max_disagreement)
                & (shard["mouth_corner"] <= max_disagreement))
        if not include_renders:
            keep &= shard["view"] == 0
        if profiles_only:
            keep &= shard["profile"]
        return keep

    return _read_rows(data, select, None, "train.labels.real_photos build", f"no kept rows with split == {split}")


def concat_samples(first: Samples, second: Samples) -> Samples:
    """The rows of ``first`` followed by those of ``second``."""
    return Samples(**{field: np.concatenate([getattr(first, field), getattr(second, field)])
                      for field in SHARD_FIELDS})


def load_paired_images(paired: Path, split: int, samples: Samples, limit: int | None = None) -> np.ndarray:
    """(N, 128, 128, 3) uint8: the images of ``samples``' rows in another build of the same dataset
    (``build_dataset --profiling whole`` with the same seed renders the same rows, poses and labels;
    only the pictures of the rendered views differ). Raises ValueError when the builds are not paired
    (a row's view or labels differ, or the other build has fewer rows)."""
    other = load_dataset(paired, split, limit if limit is not None else len(samples))
    n = len(samples)
    if len(other) < n or not (np.array_equal(other.view[:n], samples.view)
                              and np.array_equal(other.points[:n], samples.points)):
        raise ValueError(f"{paired} is not a paired build of the training data: its first {n} rows of split "
                         f"{split} do not hold the same views and labels")
    return other.images[:n]


def paired_pictures(images: np.ndarray, view: np.ndarray, paired: np.ndarray, prob: float,
                    rng: np.random.Generator) -> np.ndarray:
    """A copy of (B, 128, 128, 3) ``images`` in which each rendered row (``view`` > 0) shows its
    ``paired`` picture instead with probability ``prob``; photos (view 0) are kept."""
    swap = (view > 0) & (rng.random(len(images)) < prob)
    out = images.copy()
    out[swap] = paired[swap]
    return out


def mean_target(samples: Samples) -> np.ndarray:
    """(1560,) float32 mean model target over the un-augmented crops of ``samples``."""
    points = samples.points.astype(np.float64) - [MARGIN, MARGIN, 0.0]
    points[..., 2] -= points[..., 2].mean(axis=1, keepdims=True)
    return (points.mean(axis=0) / 120.0).reshape(-1).astype(np.float32)


def make_pipeline(samples: Samples, batch: int, training: bool, config: AugmentConfig,
                  large_yaw_weight: int = 1, paired_images: np.ndarray | None = None,
                  paired_prob: float = 0.0, row_weight: np.ndarray | None = None,
                  relabel: Callable[[np.ndarray, np.ndarray, np.ndarray], np.ndarray] | None = None,
                  relabel_from: int = 0) -> tf.data.Dataset:
    """Batches of (B, 120, 120, 3) float32 0..255 inputs and (B, 1560) float32 targets; training: an
    endless stream of shuffled full batches, augmented, in which rows with |yaw| > ``LARGE_YAW`` come
    ``large_yaw_weight`` times as often as the others, each row also ``row_weight`` (N,) int times as
    often (e.g. real photos beside renders), and a rendered row (view > 0) shows its picture from
    ``paired_images`` (:func:`load_paired_images`) with probability ``paired_prob`` each time it is
    drawn; validation: in order, central crops. ``relabel(images, targets, real)`` (training only)
    replaces the targets of the augmented rows from ``relabel_from`` on (``real``, (B,) bool) after
    augmentation (``train.learning.online_teacher``)."""
    if training:
        repeats = np.where(np.abs(samples.yaw) > LARGE_YAW, large_yaw_weight, 1)
        if row_weight is not None:
            repeats = repeats * np.asarray(row_weight)
        rows = np.repeat(np.arange(len(samples)), repeats)
        ds = tf.data.Dataset.from_tensor_slices(rows).shuffle(len(rows), reshuffle_each_iteration=True).repeat()
    else:
        ds = tf.data.Dataset.range(len(samples))
    ds = ds.batch(batch, drop_remainder=training)

    def gather(rows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        rows = np.sort(rows)
        images = samples.images[rows]
        if paired_images is not None:  # a fresh generator per call: tf.data calls this from several threads
            images = paired_pictures(images, samples.view[rows], paired_images[rows], paired_prob,
                                     np.random.default_rng())
        return images, samples.points[rows]

    def load(rows: tf.Tensor) -> tuple[tf.Tensor, tf.Tensor]:
        images, points = tf.numpy_function(gather, [rows], (tf.uint8, tf.float32))
        images.set_shape((None,) + samples.images.shape[1:])
        points.set_shape((None,) + samples.points.shape[1:])
        return images, points

    transform = (lambda i, p: augment_batch(i, p, config)) if training else validation_batch
    if relabel is None or not training:
        ds = ds.map(load, num_parallel_calls=tf.data.AUTOTUNE)
        return ds.map(transform, num_parallel_calls=tf.data.AUTOTUNE).prefetch(tf.data.AUTOTUNE)

    def relabelled(rows: tf.Tensor) -> tuple[tf.Tensor, tf.Tensor]:
        rows = tf.sort(rows)  # gather's order, so that the flags match the gathered rows
        images, targets = transform(*load(rows))
        real = rows >= relabel_from
        targets = tf.numpy_function(relabel, [images, targets, real], tf.float32)
        targets.set_shape((None, 3 * samples.points.shape[1]))
        return images, targets

    return ds.map(relabelled, num_parallel_calls=tf.data.AUTOTUNE).prefetch(tf.data.AUTOTUNE)
