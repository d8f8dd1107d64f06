"""Calibrate the "blazeface" box convention of ``denseface.crop.BOX_CONVENTIONS`` on training faces.

    python -m train.calibrate_boxes [--teacher ~/.cache/denseface/teacher/lfw.npz] [--n 2000] [--seed 0]

Uses LFW only (training data): for a random subset of the faces the teacher found, the ICT model is
fitted to the teacher's 468 points (``train.fit.fit_face``; rejected fits are skipped) and our 68
points are taken on the fitted mesh (``train.ict.topology_points``). For each face it compares
the square box of those 68 points (``denseface.crop.landmark_square``: centre c68, side S68) with the
short-range BlazeFace box the teacher ran on (centre cb, side Sb = its longer side):

    dx = (c68x − cbx) / Sb,   dy = (c68y − cby) / Sb,   k = S68 / Sb.

The convention's constants are the medians (dx, dy, k). The spread that remains after applying them
(the jitter the trainer should cover so that the model works from a detector box) is reported as
5–95 % ranges of the residual centre shift in units of the 68-point side, ``(c68 − ĉ) / S68`` with
ĉ = cb + (dx, dy)·Sb, and of the residual scale ``S68 / (k·Sb)``.
"""
from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np

from denseface.crop import landmark_square
from denseface.topology import IBUG68
from train.data import CACHE, require
from train.fit import fit_face, reject_reason
from train.ict import topology_points


def box_measurements(points68: np.ndarray, det_boxes: np.ndarray) -> np.ndarray:
    """(N, 3) rows (dx, dy, k) for (N, 68, 2) points and (N, 4) boxes (x0, y0, x1, y1), pixels."""
    rows = []
    for pts, box in zip(points68, det_boxes):
        (cx, cy), side68 = landmark_square(pts)
        x0, y0, x1, y1 = (float(v) for v in box)
        side = max(x1 - x0, y1 - y0)
        rows.append(((cx - (x0 + x1) / 2) / side, (cy - (y0 + y1) / 2) / side, side68 / side))
    return np.asarray(rows)


def residuals(measured: np.ndarray, convention: np.ndarray) -> np.ndarray:
    """(N, 3) residual (shift x, shift y in units of the 68-point side, scale) after ``convention``."""
    dx, dy, k = convention
    return np.stack([(measured[:, 0] - dx) / measured[:, 2], (measured[:, 1] - dy) / measured[:, 2],
                     measured[:, 2] / k], axis=1)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--teacher", type=Path, default=CACHE / "teacher" / "lfw.npz",
                        help="teacher outputs on LFW (train.teacher's .npz, with det_box)")
    parser.add_argument("--n", type=int, default=2000, help="faces sampled (without replacement)")
    parser.add_argument("--seed", type=int, default=0, help="seed of the sample")
    parser.add_argument("--json", type=Path, default=None, help="also write the numbers here")
    args = parser.parse_args()

    teacher = np.load(require(args.teacher))
    found = np.flatnonzero(teacher["found"])
    chosen = np.sort(np.random.default_rng(args.seed).choice(found, min(args.n, len(found)), replace=False))
    points68, boxes, rejected = [], [], 0
    for i in chosen:
        fit = fit_face(teacher["points468"][i])
        if reject_reason(fit, teacher["points468"][i]) is not None:
            rejected += 1
            continue
        points68.append(topology_points(fit.vertices)[IBUG68, :2])
        boxes.append(teacher["det_box"][i])
    measured = box_measurements(np.asarray(points68), np.asarray(boxes))
    convention = np.median(measured, axis=0)
    res = residuals(measured, convention)
    lo, hi = np.percentile(res, [5, 95], axis=0)
    print(f"LFW faces used: {len(measured)} of {len(chosen)} sampled ({rejected} fits rejected)")
    print(f"blazeface convention (median): dx={convention[0]:+.4f}  dy={convention[1]:+.4f}  k={convention[2]:.4f}")
    print(f"residual shift x / S68, 5-95%: [{lo[0]:+.4f}, {hi[0]:+.4f}]")
    print(f"residual shift y / S68, 5-95%: [{lo[1]:+.4f}, {hi[1]:+.4f}]")
    print(f"residual scale S68/(k·Sb), 5-95%: [{lo[2]:.4f}, {hi[2]:.4f}]")
    if args.json:
        args.json.write_text(json.dumps({
            "n": len(measured), "rejected": rejected, "convention": convention.tolist(),
            "residual_p5": lo.tolist(), "residual_p95": hi.tolist()}, indent=1))


if __name__ == "__main__":
    main()
