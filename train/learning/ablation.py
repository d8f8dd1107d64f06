"""Ablations at a reduced, equal budget: named training variants from the same starting weights, one
table of validation (renders) and aflw_dev (real photos) scores.

    python -m train.learning.ablation --variants mse wing hybrid --out ~/.cache/denseface/ablation
        [--data DATASET] [--max-train 12800] [--epochs 2] [--max-val 1000] [--json docs/ablation.json]
    python -m train.learning.ablation --variants baseline large_yaw_x3 hard_examples \\
        --init ~/.cache/denseface/runs/r6/last.keras --lr 2e-4 --warmup-epochs 0.1 \\
        --out ~/.cache/denseface/ablation_r6 --json docs/ablation_r6.json

Each variant is ``python -m train.learning.training`` with the common flags plus its own (``VARIANTS``), trained
into OUT/<variant>/ one after another; a killed ablation resumes where it stopped (finished runs are
read back from their log.csv, an unfinished one continues with ``--resume``).

Scores of each final model:
- validation rows (held-out LFW identities, renders and photos): the 68-point 2-D NME and the dense
  520-point 3-D NME (%, 3DDFA normalisation by √(w·h) of the label's 68-point box). From scratch the
  BatchNorm moving averages trail the weights after a few hundred steps, so those runs are scored
  with batch statistics; runs started from ``--init`` in inference mode, as shipped.
- aflw_dev (real photos, AFLW's 21 points, roi side / √2, |yaw| bins and balanced, failures > 10 % at
  >60°; ``train.evaluation.evaluate.row_aflw_dev``), in inference mode. This is where designs are chosen.
AFLW2000-3D is not used.
"""
from __future__ import annotations

import argparse
import csv
import json
import subprocess
import sys
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from denseface.crop import MODEL_INPUT
from denseface.topology import IBUG68
from train.data import CACHE

if TYPE_CHECKING:
    import keras

# variant → its own train.learning.training flags (on top of the ablation's common flags)
VARIANTS: dict[str, list[str]] = {
    "mse": ["--loss", "mse"],
    "wing": ["--loss", "wing"],
    "hybrid": ["--loss", "hybrid"],
    "baseline": [],
    "large_yaw_x3": ["--large-yaw-weight", "3"],
    "hard_examples": ["--loss", "hybrid_hard"],
    "background_swap": ["--background-prob", "0.5"],
    "shape_prior_64": ["--pca-components", "64"],
    "relight": ["--relight-prob", "0.5"],
    "jpeg": ["--jpeg-prob", "0.3"],
    # rendered rows drawn half the time from the whole-image build (build_dataset --profiling whole
    # --out CACHE/dataset_whole, the same rows and labels) and half from --data's face-only renders
    "mixed_whole": ["--paired-data", str(CACHE / "dataset_whole"), "--paired-prob", "0.5"],
    # trained on a build whose views turn the way each photo already faces (build_dataset --yaw-sign
    # source --limit 3800 --out CACHE/dataset_sideways: the first 24,000 training rows' photos); scored
    # on the common --data's validation rows like the others (its --data comes after the common one,
    # and argparse keeps the last)
    "sideways": ["--data", str(CACHE / "dataset_sideways")],
    # real photos (train.labels.real_photos build --reprofile 2 --out CACHE/dataset_cfp: CFP labelled by
    # 3DDFA_V2 with test-time averaging and an ICT fit) beside the renders, each real row drawn
    # --real-weight times as often as a render (run with --common --steps-per-epoch N: equal budgets)
    "cfp_x3": ["--real-data", str(CACHE / "dataset_cfp"), "--real-weight", "3"],
    "cfp_x8": ["--real-data", str(CACHE / "dataset_cfp"), "--real-weight", "8"],
    # the profiles alone (real_photos build --view profile: the same rows as dataset_cfp's profiles), and
    # with two re-posed renders each turned 10–20° further out (--view profile --reprofile 2); ×3 keeps
    # the real share near ×8's (54 % vs 51 % of the draws)
    "cfp_profiles_x8": ["--real-data", str(CACHE / "dataset_cfp_profiles"), "--real-weight", "8",
                        "--real-profiles-only"],
    "cfp_profiles_reposed_x3": ["--real-data", str(CACHE / "dataset_cfp_profiles_reposed"), "--real-weight", "3",
                                "--real-profiles-only", "--real-renders"],
    # the profiles' targets from the teacher run on each augmented crop (one pass) instead of the fixed labels
    "cfp_profiles_online_x8": ["--real-data", str(CACHE / "dataset_cfp_profiles"), "--real-weight", "8",
                               "--real-profiles-only", "--real-online-teacher"],
    "cfp_reposed_x3": ["--real-data", str(CACHE / "dataset_cfp"), "--real-weight", "3", "--real-renders"],
}


def run_one(variant: str, args: argparse.Namespace) -> Path:
    """Train (or resume, or skip when finished) the run of ``variant``; returns its directory."""
    out = args.out / variant
    log = out / "log.csv"
    finished = log.exists() and not (out / "backup").exists()
    if not finished:
        command = [sys.executable, "-m", "train.learning.training", "--data", str(args.data), "--out", str(out),
                   "--epochs", str(args.epochs), "--max-train", str(args.max_train),
                   "--max-val", str(args.max_val), "--warmup-epochs", str(args.warmup_epochs),
                   "--lr", str(args.lr), "--no-mixed-precision", *args.common, *VARIANTS[variant]]
        if args.init is not None:
            command += ["--init", str(args.init)]
        if (out / "backup").exists():
            command.append("--resume")
        print("$", " ".join(command), flush=True)
        subprocess.run(command, check=True)
    return out


def validation_nme(model: keras.Model, data: Path, max_val: int, batch_statistics: bool) -> tuple[float, float]:
    """(68-point 2-D NME, dense 520-point 3-D NME), both %, of a landmark model on the first ``max_val``
    validation rows' central crops; with ``batch_statistics`` BatchNorm uses each batch's own
    statistics (batches of 64), else its moving averages."""
    from train.evaluation.evaluate import dense_nme, keras_crop_points
    from train.evaluation.metrics import nme_per_image
    from train.learning.augment import MARGIN
    from train.learning.dataset import VAL_SPLIT, load_dataset

    samples = load_dataset(data, VAL_SPLIT, max_val)
    crops = samples.images[:, MARGIN:MARGIN + MODEL_INPUT, MARGIN:MARGIN + MODEL_INPUT]
    pred = keras_crop_points(model, crops, batch_statistics)
    label = samples.points.astype(np.float64) - [MARGIN, MARGIN, 0.0]
    nme68 = float(nme_per_image(pred[:, IBUG68, :2], label[:, IBUG68, :2]).mean())
    for points in (pred, label):
        points[..., 2] -= points[..., 2].mean(axis=1, keepdims=True)
    return nme68, float(dense_nme(pred, label).mean())


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--variants", nargs="+", choices=sorted(VARIANTS), required=True,
                        help="the variants to train and compare")
    parser.add_argument("--data", type=Path, default=CACHE / "dataset", help="dataset directory")
    parser.add_argument("--out", type=Path, default=CACHE / "ablation", help="directory of the runs")
    parser.add_argument("--init", type=Path, default=None,
                        help="the .keras weights every variant starts from (default: from scratch)")
    parser.add_argument("--max-train", type=int, default=12800, help="training rows (the first ones)")
    parser.add_argument("--max-val", type=int, default=1000, help="validation rows (the first ones)")
    parser.add_argument("--epochs", type=int, default=2, help="epochs of each run")
    parser.add_argument("--warmup-epochs", type=float, default=0.2, help="learning-rate warm-up, epochs")
    parser.add_argument("--lr", type=float, default=1e-3, help="peak learning rate")
    parser.add_argument("--common", nargs=argparse.REMAINDER, default=[],
                        help="further train.learning.training flags for every variant (last on the command line)")
    parser.add_argument("--json", type=Path, default=None, help="also write the table here")
    args = parser.parse_args(argv)

    start = "from scratch" if args.init is None else f"from {args.init.name} ({args.init.parent.name})"
    budget = (f"{args.max_train} training rows × {args.epochs} epochs {start}, batch 64, AdamW peak lr "
              f"{args.lr}, warm-up {args.warmup_epochs} epochs, {args.max_val} validation rows"
              + (f", common flags {' '.join(args.common)}" if args.common else ""))
    import keras  # here, not at the top: --help and the spawned runs need no TensorFlow in this process

    from train.evaluation.evaluate import (aflw_dev_crops, aflw_dev_summary, keras_crop_points, load_aflw_dev,
                                           score_aflw_dev)

    aflw_dev = load_aflw_dev()
    aflw_dev_images = aflw_dev_crops(aflw_dev)

    table = {}
    for variant in args.variants:
        out = run_one(variant, args)
        with (out / "log.csv").open() as f:
            rows = list(csv.DictReader(f))
        model = keras.models.load_model(out / "last.keras", compile=False)
        nme68, nme520 = validation_nme(model, args.data, args.max_val, args.init is None)
        table[variant] = {"flags": VARIANTS[variant],
                          "logged_val_nme68_by_epoch": [float(r["val_nme68"]) for r in rows],
                          "logged_train_nme68_by_epoch": [float(r["nme68"]) for r in rows],
                          "val_nme68": nme68, "val_nme520": nme520,
                          "aflw_dev": aflw_dev_summary(score_aflw_dev(keras_crop_points(model, aflw_dev_images), aflw_dev))}
    stats = "batch statistics" if args.init is None else "inference mode"
    print(f"Ablation ({budget}); validation with {stats}; aflw_dev: AFLW 21 points / (roi side / √2), "
          "|yaw| bins [0,30] / (30,60] / >60")
    print(f"{'variant':<14} {'val NME68':>9} {'val NME520':>10}   {'aflw_dev bins → balanced':<34} {'fail >60':>8}")
    for variant, row in table.items():
        dev = row["aflw_dev"]
        bins = " / ".join(f"{v:.2f}" for v in dev["bins"])
        print(f"{variant:<14} {row['val_nme68']:>9.2f} {row['val_nme520']:>10.2f}   "
              f"{bins + ' → ' + format(dev['balanced'], '.2f'):<34} {dev['failures_over_60']:>8}")
    if args.json:
        args.json.write_text(json.dumps({"budget": budget, "validation": stats, "variants": table}, indent=1))


if __name__ == "__main__":
    main()
