"""Render realism proxy: how well a model trained on real photos (3DDFA_V2 mb05) reads our dataset.

    python -m train.labels.render_realism --data ~/.cache/denseface/dataset [--split 1] [--json OUT]
        [--model denseface_int8.tflite]

3DDFA_V2 never saw our renders. If they looked like real photos it would read them about as well as
real photos of the same pose; where its error on renders exceeds its error on aflw_dev's real photos
in the same |yaw| bin, the renders teach something real photos do not show. It runs on the central
120×120 crop of each dataset row (3DDFA's own crop of the label's 68 points) and is scored against
the row's 68 label points: NME % / √(w·h) of the label's 68-point box, by |yaw| of the label
([0,30] / (30,60] / >60), for the photos themselves (view 0) and the rendered views apart. Beside it,
3DDFA_V2 on aflw_dev (21 points, roi side / √2: ``train.evaluation.evaluate.row_aflw_dev``). Only a measurement:
nothing is trained or chosen on aflw_dev's labels here.

With ``--model``, a DenseFace landmark model is scored the same way beside it: a model that beats
3DDFA_V2 on the renders but not on aflw_dev's photos is limited by what the renders show, not by
what it can fit.
"""
from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np

from denseface.crop import MODEL_INPUT
from denseface.topology import IBUG68
from train.data import CACHE
from train.evaluation.evaluate import CropPredictor, load_aflw_dev, row_aflw_dev, tddfa_predictor, tflite_predictor
from train.evaluation.metrics import NMEReport, nme_report
from train.learning.augment import MARGIN
from train.learning.dataset import VAL_SPLIT, Samples, load_dataset


def nme_on_rows(predict: CropPredictor, samples: Samples) -> dict[str, NMEReport]:
    """A model's (``predict``: ``tddfa_predictor``, ``tflite_predictor``) 68-point NME on the rows'
    central crops: {"photos": view 0, "renders": views > 0}."""
    crops = samples.images[:, MARGIN:MARGIN + MODEL_INPUT, MARGIN:MARGIN + MODEL_INPUT]
    # the crop is 3DDFA's own 120-pixel frame and DenseFace's crop, so the points need no mapping
    # (``crop_to_original``'s two pixel conventions agree at scale 1)
    pred = np.stack([predict(np.ascontiguousarray(crop))[IBUG68, :2] for crop in crops])
    label = samples.points[:, IBUG68, :2] - MARGIN
    photo = samples.view == 0
    return {name: nme_report(pred[rows], label[rows], samples.yaw[rows])
            for name, rows in (("photos", photo), ("renders", ~photo))}


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", type=Path, default=CACHE / "dataset", help="dataset directory")
    parser.add_argument("--split", type=int, default=VAL_SPLIT, help="dataset split (1 val, 2 test)")
    parser.add_argument("--json", type=Path, default=None, help="also write the numbers here")
    parser.add_argument("--model", type=Path, default=None, help="also score this DenseFace .tflite")
    args = parser.parse_args(argv)
    samples, dev = load_dataset(args.data, args.split), load_aflw_dev()
    models = {"3DDFA_V2 mb05": (tddfa_predictor(), False)}
    if args.model is not None:
        models[f"DenseFace {args.model.name}"] = (tflite_predictor(args.model), True)
    table = {}
    print("NME % by |yaw| bin [0,30] / (30,60] / >60 → balanced")
    for model, (predict, pixel_centres) in models.items():
        reports = nme_on_rows(predict, samples)
        reports["aflw_dev (real, 21 points)"] = row_aflw_dev(predict, dev, pixel_centres=pixel_centres)
        print(model)
        for name, report in reports.items():
            print(f"  {name:<28} {report.row()}  n={report.counts}")
        table[model] = {name: {"bins": r.bins, "balanced": r.balanced, "counts": r.counts, "failures": r.failures}
                        for name, r in reports.items()}
    if args.json is not None:
        args.json.write_text(json.dumps(table, indent=1))


if __name__ == "__main__":
    main()
