"""Label ceiling: the training-label path (teacher → ICT fit → our 68 points) on AFLW2000-3D.

    python -m train.labels.label_quality [--teacher ~/.cache/denseface/teacher/aflw2000.npz] [--json OUT]

Uses the MediaPipe teacher's outputs on the AFLW2000-3D originals (``python -m train.labels.teacher --images
../shared/data/aflw2000_3d/images --out ...``) and scores, under 3DDFA's protocol (``train.evaluation.metrics``),
the 68 points of three label paths: the ICT fit to the 468 points alone; the fused fit the dataset
builder uses (``train.labels.fuse``: our 68 also pulled to 3DDFA_V2's); and 3DDFA_V2's own 68
on that pipeline's crops. Images the teacher missed are counted, not scored; fits the builder would
reject are counted by reason and scored anyway. Nothing here chooses anything: it is a measurement.
"""
from __future__ import annotations

import argparse
import json
from collections import Counter
from pathlib import Path

import cv2
import numpy as np

from denseface.topology import IBUG68
from train.data import AFLW2000, CACHE, require
from train.evaluation.metrics import nme_report
from train.labels.fit import fit_face
from train.labels.fuse import fused_fit, label_verdict
from train.labels.ict import topology_points
from train.labels.tddfa import TDDFA


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--teacher", type=Path, default=CACHE / "teacher" / "aflw2000.npz",
                        help="teacher outputs on the AFLW2000-3D originals (train.labels.teacher's .npz)")
    parser.add_argument("--json", type=Path, default=None, help="also write the numbers here")
    args = parser.parse_args()

    gt = np.load(require(AFLW2000 / "ground_truth.npz"))
    teacher = np.load(require(args.teacher))
    if list(teacher["names"]) != list(gt["names"]):
        raise ValueError("teacher outputs and ground truth list different images")
    rows = {name: np.full((len(gt["names"]), 68, 2), np.nan) for name in ("alone", "fused", "tddfa")}
    tddfa = TDDFA()
    rejected: Counter = Counter()
    for i in np.flatnonzero(teacher["found"]):
        points468 = teacher["points468"][i]
        image_rgb = cv2.cvtColor(cv2.imread(str(require(AFLW2000 / "images" / gt["names"][i]))), cv2.COLOR_BGR2RGB)
        alone = fit_face(points468)
        fused, rows["tddfa"][i] = fused_fit(image_rgb, points468, tddfa, first=alone)
        rejected[label_verdict(alone, fused, points468) or "kept"] += 1
        rows["alone"][i] = topology_points(alone.vertices)[IBUG68, :2]
        rows["fused"][i] = topology_points(fused.vertices)[IBUG68, :2]
    gt_xy = gt["pts68"][:, :2].transpose(0, 2, 1)
    reports = {name: nme_report(pred, gt_xy, gt["pose"]) for name, pred in rows.items()}
    print("AFLW2000-3D, 3DDFA protocol (NME % of the 68 2-D points / sqrt(w·h) of the GT 68-point box;"
          " |yaw| bins [0,30] / (30,60] / >60; balanced = mean of the bins)")
    titles = {"alone": "ICT fit to MediaPipe's 468 alone", "fused": "fused fit (the dataset's labels)",
              "tddfa": "3DDFA_V2 on the same crops"}
    for name, report in reports.items():
        print(f"{titles[name]:<36}: {report.row()}  n={report.counts}")
    print(f"the builder's verdicts on these fits: {dict(rejected)}")
    if args.json:
        args.json.write_text(json.dumps({name: {"bins": r.bins, "balanced": r.balanced, "overall": r.overall,
                                                "missed": r.missed} for name, r in reports.items()}
                                        | {"verdicts": dict(rejected)}, indent=1))


if __name__ == "__main__":
    main()
