"""Loss ablation at a reduced budget: the same model trained from scratch with MSE only, Wing only and
the hybrid 1.5·Wing + 0.5·MSE, everything else equal; one table of validation NME.

    python -m train.ablation --data ~/.cache/denseface/dataset --out ~/.cache/denseface/ablation
        [--max-train 12800] [--epochs 2] [--max-val 1000] [--json train/ablation.json]

Each loss trains with ``python -m train.train`` (same seed-free pipeline, same rows, same schedule)
into OUT/<loss>/, one after another; a killed ablation resumes where it stopped (finished runs are
read back from their log.csv, an unfinished one continues with ``--resume``). The table gives, per
loss, the training 68-point NME of the last epoch (augmented batches, as logged) and, for the final
model on the validation rows (held-out LFW identities), the 68-point NME (%, 3DDFA normalisation:
2-D points over √(w·h) of the label's 68-point box) and the dense 520-point 3-D NME
(``train.evaluate.dense_nme``, z relative to the mean depth), computed with batch statistics (see
``validation_nme``). AFLW2000-3D is not used.
"""
from __future__ import annotations

import argparse
import csv
import json
import subprocess
import sys
from pathlib import Path

import numpy as np

from denseface.crop import MODEL_INPUT
from denseface.topology import IBUG68, N_POINTS
from train.data import CACHE

LOSS_NAMES = ("mse", "wing", "hybrid")
BATCH = 64


def run_one(loss: str, args: argparse.Namespace) -> Path:
    """Train (or resume, or skip when finished) the run of ``loss``; returns its directory."""
    out = args.out / loss
    log = out / "log.csv"
    finished = log.exists() and not (out / "backup").exists()
    if not finished:
        command = [sys.executable, "-m", "train.train", "--data", str(args.data), "--out", str(out),
                   "--loss", loss, "--epochs", str(args.epochs), "--max-train", str(args.max_train),
                   "--max-val", str(args.max_val), "--warmup-epochs", str(args.warmup_epochs),
                   "--lr", str(args.lr), "--no-mixed-precision"]
        if (out / "backup").exists():
            command.append("--resume")
        print("$", " ".join(command), flush=True)
        subprocess.run(command, check=True)
    return out


def validation_nme(model_path: Path, data: Path, max_val: int) -> tuple[float, float]:
    """(68-point 2-D NME, dense 520-point 3-D NME), both %, of a .keras model on the first ``max_val``
    validation rows' central crops, with BatchNorm using each batch's own statistics (batches of 64).

    After a few hundred steps from scratch the BatchNorm moving averages still trail the weights (the
    logged inference-mode validation NME stays near the mean-shape level, ~27 %, while the training
    NME falls), so the comparison of what each loss has learnt uses batch statistics."""
    import keras

    from train.augment import MARGIN
    from train.evaluate import dense_nme
    from train.metrics import nme_per_image
    from train.train import VAL_SPLIT, load_dataset

    samples = load_dataset(data, VAL_SPLIT, max_val)
    model = keras.models.load_model(model_path, compile=False)
    crops = samples.images[:, MARGIN:MARGIN + MODEL_INPUT, MARGIN:MARGIN + MODEL_INPUT].astype(np.float32)
    pred = np.concatenate([np.asarray(model(crops[i:i + BATCH], training=True))
                           for i in range(0, len(crops), BATCH)]).reshape(-1, N_POINTS, 3).astype(np.float64)
    pred *= MODEL_INPUT
    label = samples.points.astype(np.float64) - [MARGIN, MARGIN, 0.0]
    nme68 = float(nme_per_image(pred[:, IBUG68, :2], label[:, IBUG68, :2]).mean())
    for points in (pred, label):
        points[..., 2] -= points[..., 2].mean(axis=1, keepdims=True)
    return nme68, float(dense_nme(pred, label).mean())


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", type=Path, default=CACHE / "dataset", help="dataset directory")
    parser.add_argument("--out", type=Path, default=CACHE / "ablation", help="directory of the three runs")
    parser.add_argument("--max-train", type=int, default=12800, help="training rows (the first ones)")
    parser.add_argument("--max-val", type=int, default=1000, help="validation rows (the first ones)")
    parser.add_argument("--epochs", type=int, default=2, help="epochs of each run")
    parser.add_argument("--warmup-epochs", type=float, default=0.2, help="learning-rate warm-up, epochs")
    parser.add_argument("--lr", type=float, default=1e-3, help="peak learning rate")
    parser.add_argument("--json", type=Path, default=None, help="also write the table here")
    args = parser.parse_args(argv)

    table = {}
    for loss in LOSS_NAMES:
        out = run_one(loss, args)
        with (out / "log.csv").open() as f:
            rows = list(csv.DictReader(f))
        nme68, nme520 = validation_nme(out / "last.keras", args.data, args.max_val)
        table[loss] = {"logged_val_nme68_by_epoch": [float(r["val_nme68"]) for r in rows],
                       "logged_train_nme68_by_epoch": [float(r["nme68"]) for r in rows],
                       "val_nme68_batch_stats": nme68, "val_nme520_batch_stats": nme520}
    budget = (f"{args.max_train} training rows × {args.epochs} epochs from scratch, batch 64, AdamW peak lr "
              f"{args.lr}, {args.max_val} validation rows")
    print(f"Loss ablation ({budget})")
    print(f"{'loss':<8} {'train NME68 (last epoch, augmented)':>36} {'val NME68':>10} {'val NME520 (3-D)':>17}")
    for loss, row in table.items():
        print(f"{loss:<8} {row['logged_train_nme68_by_epoch'][-1]:>36.2f} {row['val_nme68_batch_stats']:>10.2f} "
              f"{row['val_nme520_batch_stats']:>17.2f}")
    if args.json:
        args.json.write_text(json.dumps({"budget": budget, "losses": table}, indent=1))


if __name__ == "__main__":
    main()
