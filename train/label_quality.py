"""Label ceiling: the training-label path (MediaPipe teacher → ICT fit → our 68 points) on AFLW2000-3D.

    python -m train.label_quality [--teacher ~/.cache/denseface/teacher/aflw2000.npz] [--fused]

Runs nothing on the test images but the teacher's outputs (``python -m train.teacher --images
../shared/data/aflw2000_3d/images --out ...``), fits ICT to each face and scores the IBUG68 points of
the fitted mesh under 3DDFA's protocol (see ``train.metrics``). Images the teacher missed are counted,
not scored. It also scores the teacher's own 468 points mapped to 68 by the same registration
(the MediaPipe surface point nearest to each of our 68) so the gain of the fit is visible.
With ``--fused`` the labels are ``train.fuse.fused_fit``'s (the fit also pulls our 68 points to
3DDFA_V2's 68 on the image), and 3DDFA_V2's 68 points of that pipeline are scored too.
Nothing here is used to choose anything: it is a measurement.
"""
from __future__ import annotations

import argparse
import json
from pathlib import Path

import cv2
import numpy as np

from denseface.topology import IBUG68
from train.data import AFLW2000, CACHE, require
from train.fit import fit_face, reject_reason
from train.fuse import fused_fit
from train.ict import topology_points
from train.metrics import nme_report
from train.tddfa import TDDFA


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--teacher", type=Path, default=CACHE / "teacher" / "aflw2000.npz",
                        help="teacher outputs on the AFLW2000-3D originals (train.teacher's .npz)")
    parser.add_argument("--json", type=Path, default=None, help="also write the numbers here")
    parser.add_argument("--fused", action="store_true",
                        help="score the fused labels (train.fuse: MediaPipe 468 + 3DDFA_V2 68 on the images)")
    args = parser.parse_args()

    gt = np.load(require(AFLW2000 / "ground_truth.npz"))
    teacher = np.load(require(args.teacher))
    if list(teacher["names"]) != [n.rsplit(".", 1)[0] for n in gt["names"]] and list(teacher["names"]) != list(gt["names"]):
        raise ValueError("teacher outputs and ground truth list different images")
    pred = np.full((len(gt["names"]), 68, 2), np.nan)
    pred_tddfa = np.full_like(pred, np.nan)
    tddfa = TDDFA() if args.fused else None
    rejected: dict[str, int] = {}
    for i in np.flatnonzero(teacher["found"]):
        if tddfa is None:
            fit = fit_face(teacher["points468"][i])
        else:
            image_rgb = cv2.cvtColor(cv2.imread(str(require(AFLW2000 / "images" / gt["names"][i]))), cv2.COLOR_BGR2RGB)
            fit, pred_tddfa[i] = fused_fit(image_rgb, teacher["points468"][i], tddfa)
        reason = reject_reason(fit, teacher["points468"][i])
        if reason is not None:
            rejected[reason] = rejected.get(reason, 0) + 1
        pred[i] = topology_points(fit.vertices)[IBUG68, :2]
    gt_xy = gt["pts68"][:, :2].transpose(0, 2, 1)
    report = nme_report(pred, gt_xy, gt["pose"])
    print("AFLW2000-3D, 3DDFA protocol (NME % of 68 2-D points / sqrt(w·h) of the GT box; yaw bins "
          "[0,30] / (30,60] / >60; balanced = mean of the bins)")
    label = "teacher + 3DDFA_V2 fused ICT fit, our 68" if args.fused else "teacher + ICT fit, our 68"
    print(f"{label} : {report.row()}  bins n={report.counts}")
    if args.fused:
        print(f"3DDFA_V2 on the fused pipeline's crops : {nme_report(pred_tddfa, gt_xy, gt['pose']).row()}")
    print(f"fits the builder would reject (scored anyway): {rejected}")
    if args.json:
        args.json.write_text(json.dumps({"bins": report.bins, "balanced": report.balanced,
                                         "overall": report.overall, "missed": report.missed,
                                         "rejected": rejected}, indent=1))


if __name__ == "__main__":
    main()
