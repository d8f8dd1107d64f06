"""Render realism proxy: how well a model trained on real photos (3DDFA_V2 mb05) reads our dataset.

    python -m train.labels.render_realism --data ~/.cache/denseface/dataset [--split 1] [--json OUT]

3DDFA_V2 never saw our renders. If they looked like real photos it would read them about as well as
real photos of the same pose; where its error on renders exceeds its error on aflw_dev's real photos
in the same |yaw| bin, the renders teach something real photos do not show. It runs on the central
120×120 crop of each dataset row (3DDFA's own crop of the label's 68 points) and is scored against
the row's 68 label points: NME % / √(w·h) of the label's 68-point box, by |yaw| of the label
([0,30] / (30,60] / >60), for the photos themselves (view 0) and the rendered views apart. Beside it,
3DDFA_V2 on aflw_dev (21 points, roi side / √2: ``train.evaluation.evaluate.row_aflw_dev``). Only a measurement:
nothing is trained or chosen on aflw_dev's labels here.
"""
from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np

from denseface.crop import MODEL_INPUT
from denseface.topology import IBUG68
from train.data import CACHE
from train.evaluation.evaluate import CropPredictor, load_aflw_dev, row_aflw_dev, tddfa_predictor
from train.evaluation.metrics import NMEReport, nme_report
from train.learning.augment import MARGIN
from train.learning.dataset import VAL_SPLIT, Samples, load_dataset


def tddfa_on_rows(predict: CropPredictor, samples: Samples) -> dict[str, NMEReport]:
    """3DDFA_V2's (``predict``, ``tddfa_predictor``) 68-point NME on the rows' central crops:
    {"photos": view 0, "renders": views > 0}."""
    crops = samples.images[:, MARGIN:MARGIN + MODEL_INPUT, MARGIN:MARGIN + MODEL_INPUT]
    # the crop is 3DDFA's own 120-pixel frame, so its points need no mapping (``crop_to_original``'s two
    # pixel conventions agree at scale 1)
    pred = np.stack([predict(np.ascontiguousarray(crop))[:, :2] for crop in crops])
    label = samples.points[:, IBUG68, :2] - MARGIN
    photo = samples.view == 0
    return {name: nme_report(pred[rows], label[rows], samples.yaw[rows])
            for name, rows in (("photos", photo), ("renders", ~photo))}


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", type=Path, default=CACHE / "dataset", help="dataset directory")
    parser.add_argument("--split", type=int, default=VAL_SPLIT, help="dataset split (1 val, 2 test)")
    parser.add_argument("--json", type=Path, default=None, help="also write the numbers here")
    args = parser.parse_args(argv)
    tddfa = tddfa_predictor()
    reports = tddfa_on_rows(tddfa, load_dataset(args.data, args.split))
    reports["aflw_dev (real, 21 points)"] = row_aflw_dev(tddfa, load_aflw_dev(), pixel_centres=False)
    print("3DDFA_V2 mb05, NME % by |yaw| bin [0,30] / (30,60] / >60 → balanced")
    for name, report in reports.items():
        print(f"{name:<28} {report.row()}  n={report.counts}")
    if args.json is not None:
        args.json.write_text(json.dumps({name: {"bins": r.bins, "balanced": r.balanced, "counts": r.counts,
                                                "failures": r.failures} for name, r in reports.items()}, indent=1))


if __name__ == "__main__":
    main()
