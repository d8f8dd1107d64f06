"""Train the landmark model on the dataset's shards.

CLI::

    python -m train.learning.training --data DATASET_DIR --out RUN_DIR [--epochs N] [--batch 64] [--lr 1e-3]
        [--loss hybrid|wing|mse] [--max-train N] [--no-mixed-precision] [--resume]
        [--width lite --teacher RUN/last.keras --teacher-weight 0.5]

Reads every DATASET_DIR/shards/shard_*.npz into memory (uint8 images), trains on ``split == 0`` and
validates on ``split == 1`` (AFLW2000 is never used). Each epoch writes to RUN_DIR: ``backup/`` (model,
optimizer and epoch; ``--resume`` continues a killed run from the last finished epoch), ``best.keras``
(the lowest validation 68-point NME so far), ``last.keras`` (the latest epoch), ``log.csv`` (loss, val_loss, nme68, val_nme68, lr and
training images/s per epoch; with ``--aflw-dev-every N`` the aflw_dev score every N epochs, beside
``epoch_NNN.keras``) and ``curves.png``. ``config.json`` records the command line.

Data pipeline (``train.learning.dataset``): shuffled indices → batches gathered from the in-memory
arrays → ``train.learning.augment`` (training) or the central 120-pixel crop (validation), in
parallel, prefetched. With ``--teacher`` (distillation, for the lite model) the teacher's outputs on
each augmented batch are appended to its targets in the pipeline and the loss is
``train.learning.losses.distillation``; the checkpoints hold the student alone.
"""
from __future__ import annotations

import argparse
import csv
import json
import time
from pathlib import Path

import keras
import numpy as np
import tensorflow as tf

from train.evaluation.plots import draw_training_curves
from train.labels.real_photos import AGREEMENT_LIMIT
from train.learning.augment import AugmentConfig
from train.learning.dataset import (TRAIN_SPLIT, VAL_SPLIT, concat_samples, load_dataset, load_paired_images,
                                    load_real_photos, make_pipeline, mean_target)
from train.learning.losses import LOSSES, distillation, nme68
from train.learning.model import WIDTHS, build_model, transfer_weights

EPOCHS = 60
BATCH = 64
LEARNING_RATE = 1e-3  # peak, after warm-up
WARMUP_EPOCHS = 1.0  # linear warm-up from 0, then cosine decay to 0 at the last step
WEIGHT_DECAY = 1e-2  # AdamW's decoupled decay (× learning rate per step); not on biases or BatchNorm
LOSS = "hybrid"
TEACHER_WEIGHT = 0.5  # λ of the distillation loss: labels and teacher count alike
PCA_BATCHES = 100  # augmented training batches (6,400 targets) the shape prior's directions come from


def target_pca(ds: tf.data.Dataset, components: int, batches: int = PCA_BATCHES) -> tuple[np.ndarray, np.ndarray]:
    """(1560,) mean and (K, 1560) orthonormal top principal directions of the targets of ``batches``
    augmented training batches (augmentation rotates and mirrors, so the directions must come from
    augmented targets, not the dataset's labels)."""
    targets = np.concatenate([np.asarray(t) for _, t in ds.take(batches)]).astype(np.float64)
    mean = targets.mean(axis=0)
    _, singular, directions = np.linalg.svd(targets - mean, full_matrices=False)
    held = float((singular[:components] ** 2).sum() / (singular ** 2).sum())
    print(f"shape prior: {components} principal directions hold {100 * held:.4f} % of the target variance", flush=True)
    return mean.astype(np.float32), directions[:components].astype(np.float32)


def with_teacher(ds: tf.data.Dataset, teacher: keras.Model) -> tf.data.Dataset:
    """``ds``'s batches with targets (B, 3120) = labels ‖ ``teacher``'s outputs (inference mode) on the
    same (augmented) inputs."""
    def append(images: tf.Tensor, targets: tf.Tensor) -> tuple[tf.Tensor, tf.Tensor]:
        taught = tf.cast(teacher(images, training=False), tf.float32)
        return images, tf.concat([targets, taught], axis=-1)

    return ds.map(append).prefetch(tf.data.AUTOTUNE)


class Throughput(keras.callbacks.Callback):
    """Adds ``images_per_s`` (training steps after the epoch's first, input pipeline included) and
    ``lr`` to each epoch's logs."""

    def __init__(self, batch: int) -> None:
        super().__init__()
        self.batch = batch
        self.times: list[float] = []

    def on_epoch_begin(self, epoch: int, logs: dict | None = None) -> None:
        self.times = []

    def on_train_batch_end(self, batch: int, logs: dict | None = None) -> None:
        self.times.append(time.perf_counter())

    def on_epoch_end(self, epoch: int, logs: dict | None = None) -> None:
        if logs is None:
            return
        steps = len(self.times) - 1
        logs["images_per_s"] = steps * self.batch / (self.times[-1] - self.times[0]) if steps > 0 else float("nan")
        optimizer = self.model.optimizer
        logs["lr"] = float(keras.ops.convert_to_numpy(optimizer.learning_rate))


class DrawCurves(keras.callbacks.Callback):
    """Redraws ``png`` from the CSV log after every epoch (run after the CSVLogger)."""

    def __init__(self, log: Path, png: Path) -> None:
        super().__init__()
        self.log, self.png = log, png

    def on_epoch_end(self, epoch: int, logs: dict | None = None) -> None:
        draw_training_curves(self.log, self.png)


class AflwDevCurve(keras.callbacks.Callback):
    """The learning curve on aflw_dev (real photos; ``train.evaluation.evaluate.aflw_dev_summary``): after
    every ``every``-th epoch and the last, the float model in inference mode is scored there and
    ``aflw_dev`` (balanced NME %) and ``aflw_dev_fail60`` (failures at >60°) join the epoch's logs (NaN
    on the other epochs; run before the CSVLogger), and the weights are kept as ``epoch_NNN.keras`` —
    the checkpoints a run's model is chosen among (aflw_dev chooses; nothing is fitted to it)."""

    def __init__(self, every: int, epochs: int, out: Path) -> None:
        super().__init__()
        from train.evaluation.evaluate import aflw_dev_crops, load_aflw_dev

        self.every, self.epochs, self.out = every, epochs, out
        self.dev = load_aflw_dev()
        self.crops = aflw_dev_crops(self.dev)

    def on_epoch_end(self, epoch: int, logs: dict | None = None) -> None:
        from train.evaluation.evaluate import aflw_dev_summary, keras_crop_points, score_aflw_dev

        if logs is None:
            return
        logs["aflw_dev"] = logs["aflw_dev_fail60"] = float("nan")
        if (epoch + 1) % self.every == 0 or epoch + 1 == self.epochs:
            summary = aflw_dev_summary(score_aflw_dev(keras_crop_points(self.model, self.crops), self.dev))
            logs["aflw_dev"], logs["aflw_dev_fail60"] = summary["balanced"], summary["failures_over_60"]
            self.model.save(self.out / f"epoch_{epoch + 1:03d}.keras")
            print(f"epoch {epoch + 1}: aflw_dev {summary['bins']} -> {summary['balanced']:.3f}, "
                  f"failures >60: {summary['failures_over_60']}", flush=True)


def best_logged(log: Path, column: str) -> float | None:
    """The lowest value of ``column`` in a CSV log, or None when there is no log yet."""
    if not log.exists():
        return None
    with log.open() as f:
        values = [float(row[column]) for row in csv.DictReader(f) if row.get(column)]
    return min(values) if values else None


def train_model(args: argparse.Namespace) -> keras.callbacks.History:
    """Build, compile and fit the model as configured by the parsed command line."""
    out: Path = args.out
    backup = out / "backup"
    if backup.exists() and not args.resume:
        raise FileExistsError(f"{out} holds an unfinished run; pass --resume to continue it or choose another --out")
    if (out / "log.csv").exists() and not backup.exists():
        raise FileExistsError(f"{out} holds a finished run (log.csv, no backup/); choose another --out")
    out.mkdir(parents=True, exist_ok=True)
    (out / "config.json").write_text(json.dumps({k: str(v) for k, v in vars(args).items()}, indent=2))
    if not args.no_mixed_precision:
        keras.mixed_precision.set_global_policy("mixed_bfloat16")

    train_samples = load_dataset(args.data, TRAIN_SPLIT, args.max_train)
    val_samples = load_dataset(args.data, VAL_SPLIT, args.max_val)
    config = AugmentConfig(side_range=tuple(args.box_side), shift=args.box_shift,
                           background_prob=args.background_prob, relight_prob=args.relight_prob,
                           jpeg_prob=args.jpeg_prob)
    paired = None if args.paired_data is None else load_paired_images(args.paired_data, TRAIN_SPLIT, train_samples)
    # an epoch is a pass over --data's rows, whatever real photos are added (equal budgets compare)
    steps_per_epoch = args.steps_per_epoch or len(train_samples) // args.batch
    row_weight = None
    relabel = None
    renders = len(train_samples)
    if args.real_data is not None:
        real = load_real_photos(args.real_data, TRAIN_SPLIT, args.real_renders, args.real_profiles_only,
                                args.real_max_disagreement)
        print(f"real photos: {len(real)} rows of {args.real_data}, each drawn {args.real_weight}× as often "
              f"as a row of {args.data} ({len(train_samples)} rows)", flush=True)
        row_weight = np.r_[np.ones(len(train_samples), int), np.full(len(real), args.real_weight)]
        if paired is not None:  # real rows have no other build: their own pictures
            paired = np.concatenate([paired, real.images])
        train_samples = concat_samples(train_samples, real)
        if args.real_online_teacher:
            from train.learning.online_teacher import OnlineTeacher

            relabel = OnlineTeacher()
    train_ds = make_pipeline(train_samples, args.batch, True, config, args.large_yaw_weight, paired, args.paired_prob,
                             row_weight, relabel, renders)
    val_ds = make_pipeline(val_samples, args.batch, False, config)

    if steps_per_epoch == 0:
        raise ValueError(f"{len(train_samples)} training rows make no full batch of {args.batch}")
    total = steps_per_epoch * args.epochs
    warmup = min(int(round(args.warmup_epochs * steps_per_epoch)), total - 1)
    schedule = keras.optimizers.schedules.CosineDecay(
        initial_learning_rate=0.0, decay_steps=max(total - warmup, 1), warmup_target=args.lr, warmup_steps=warmup
    )
    optimizer = keras.optimizers.AdamW(learning_rate=schedule, weight_decay=WEIGHT_DECAY)
    optimizer.exclude_from_weight_decay(var_names=["bias", "gamma", "beta"])

    alpha = WIDTHS[args.width]
    if args.pca_components:
        mean, directions = target_pca(train_ds, args.pca_components)
        model = build_model(mean, alpha=alpha, pca=directions)
    else:
        model = build_model(mean_target(train_samples), alpha=alpha)
    if args.init is not None:  # start from another run's weights (a BackupAndRestore resume overrides them)
        transfer_weights(keras.models.load_model(args.init, compile=False), model)
    loss = LOSSES[args.loss]
    if args.teacher is not None:
        teacher = keras.models.load_model(args.teacher, compile=False)
        teacher.trainable = False
        train_ds, val_ds = with_teacher(train_ds, teacher), with_teacher(val_ds, teacher)
        loss = distillation(loss, args.teacher_weight)
    # XLA (jit_compile) measured 5× slower than the plain graph on this CPU
    model.compile(optimizer=optimizer, loss=loss, metrics=[nme68], jit_compile=False)

    log = out / "log.csv"
    best = best_logged(log, "val_nme68")
    callbacks = [
        Throughput(args.batch),
        keras.callbacks.BackupAndRestore(str(backup)),
        keras.callbacks.ModelCheckpoint(
            str(out / "best.keras"), monitor="val_nme68", mode="min", save_best_only=True,
            initial_value_threshold=best,
        ),
        keras.callbacks.ModelCheckpoint(str(out / "last.keras")),  # every epoch: the run's final weights
        *([AflwDevCurve(args.aflw_dev_every, args.epochs, out)] if args.aflw_dev_every else []),
        keras.callbacks.CSVLogger(str(log), append=True),
        DrawCurves(log, out / "curves.png"),
    ]
    history = model.fit(train_ds, validation_data=val_ds, epochs=args.epochs, steps_per_epoch=steps_per_epoch,
                        callbacks=callbacks, verbose=2)
    if relabel is not None:
        print(f"online teacher: {relabel.relabelled} real crops re-labelled, {relabel.kept} kept their fixed "
              "label (fit failed or rejected)", flush=True)
    return history


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    parser.add_argument("--data", type=Path, required=True, help="dataset directory holding shards/shard_*.npz")
    parser.add_argument("--out", type=Path, required=True, help="run directory for checkpoints, logs and plots")
    parser.add_argument("--epochs", type=int, default=EPOCHS, help="epochs (full passes over the training rows)")
    parser.add_argument("--batch", type=int, default=BATCH, help="images per training step")
    parser.add_argument("--warmup-epochs", type=float, default=WARMUP_EPOCHS,
                        help="epochs of linear learning-rate warm-up before the cosine decay")
    parser.add_argument("--lr", type=float, default=LEARNING_RATE,
                        help="peak learning rate of AdamW, reached after a one-epoch linear warm-up, then cosine decay")
    parser.add_argument("--loss", choices=sorted(LOSSES), default=LOSS,
                        help="hybrid = 1.5·Wing + 0.5·MSE; see train/learning/losses.py")
    parser.add_argument("--max-train", type=int, default=None,
                        help="use at most this many training rows (the first ones, for quick checks)")
    parser.add_argument("--max-val", type=int, default=None, help="use at most this many validation rows")
    parser.add_argument("--no-mixed-precision", action="store_true",
                        help="train in float32 instead of the mixed_bfloat16 policy")
    parser.add_argument("--box-shift", type=float, default=AugmentConfig.shift,
                        help="box jitter: the crop centre moves by up to this fraction of the crop side")
    parser.add_argument("--box-side", type=float, nargs=2, default=AugmentConfig.side_range, metavar=("LO", "HI"),
                        help="box jitter: the crop side relative to the model's crop is uniform in [LO, HI]")
    parser.add_argument("--background-prob", type=float, default=AugmentConfig.background_prob,
                        help="probability of replacing everything outside the face's ellipse by another image")
    parser.add_argument("--relight-prob", type=float, default=AugmentConfig.relight_prob,
                        help="probability of shading the face by a directional side light (augment.relight)")
    parser.add_argument("--jpeg-prob", type=float, default=AugmentConfig.jpeg_prob,
                        help="probability of re-encoding the input as JPEG at quality "
                             f"{AugmentConfig.jpeg_quality[0]}–{AugmentConfig.jpeg_quality[1]}")
    parser.add_argument("--large-yaw-weight", type=int, default=1,
                        help="rows with |yaw| > 60° are drawn this many times as often (an epoch keeps its "
                             "number of steps)")
    parser.add_argument("--paired-data", type=Path, default=None,
                        help="another build of --data with other renders of the same rows (build_dataset "
                             "--profiling whole): training rendered rows show its picture with --paired-prob")
    parser.add_argument("--paired-prob", type=float, default=0.5,
                        help="probability that a drawn rendered row shows the --paired-data picture")
    parser.add_argument("--real-data", type=Path, default=None,
                        help="a real-photo build (train.labels.real_photos build) trained on beside --data")
    parser.add_argument("--real-weight", type=int, default=1,
                        help="each real row is drawn this many times as often as a row of --data")
    parser.add_argument("--real-renders", action="store_true",
                        help="also the real photos' re-posed renders (real_photos build --reprofile)")
    parser.add_argument("--real-profiles-only", action="store_true", help="only the real profile photos")
    parser.add_argument("--real-online-teacher", action="store_true",
                        help="each augmented real crop's target from the teacher run on it "
                             "(train.learning.online_teacher) instead of its fixed label")
    parser.add_argument("--real-max-disagreement", type=float, default=AGREEMENT_LIMIT,
                        help="leave out real photos whose teacher and fiducials disagree by more than this "
                             "fraction of the face size (real_photos.fiducial_agreement)")
    parser.add_argument("--steps-per-epoch", type=int, default=0,
                        help="training steps per epoch (0: one pass over --data's training rows)")
    parser.add_argument("--aflw-dev-every", type=int, default=0,
                        help="score the model on aflw_dev every N epochs and after the last (the learning curve; "
                             "log.csv's aflw_dev column) and keep those epochs' weights; 0: never")
    parser.add_argument("--pca-components", type=int, default=0,
                        help="a shape-prior head of this many principal directions of the targets (0: linear head)")
    parser.add_argument("--width", choices=sorted(WIDTHS), default="full",
                        help="the network: full = MobileNetV2 α 1.0 (the paper's), lite = α 0.5")
    parser.add_argument("--teacher", type=Path, default=None,
                        help="distil from this .keras model: its outputs on every augmented crop are "
                             "targets beside the labels")
    parser.add_argument("--teacher-weight", type=float, default=TEACHER_WEIGHT,
                        help="λ: loss = (1 − λ)·loss(labels) + λ·loss(teacher outputs)")
    parser.add_argument("--init", type=Path, default=None,
                        help="a .keras model whose weights start this run (e.g. an earlier run's last.keras)")
    parser.add_argument("--resume", action="store_true",
                        help="continue the unfinished run in --out from its last finished epoch")
    args = parser.parse_args(argv)
    history = train_model(args)
    last = {k: v[-1] for k, v in history.history.items()}
    print(json.dumps(last, indent=2, default=float))


if __name__ == "__main__":
    main()
