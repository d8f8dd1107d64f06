"""Calibrate the "blazeface" box convention of ``denseface.crop.BOX_CONVENTIONS`` and the detection
crop's roll rule on the validation split of the training set (yaw-balanced renders with exact labels).

    python -m train.evaluation.calibrate_boxes [--data ~/.cache/denseface/dataset] [--model M.tflite] [--json OUT]

Each validation row (held-out LFW identities; AFLW2000-3D is never used) is a 128×128 crop with its
520 labelled points. It is placed in the middle of a 256×256 mid-grey canvas (so the face covers about
a third of the frame, as a selfie does) and run through the SDK's short-range BlazeFace. For the
first detection, against the square box of the label's 68 points (``denseface.crop.landmark_square``:
centre c68, side S68) and the detection's box (centre cb, side Sb = its longer side):

    dx = (c68x − cbx) / Sb,   dy = (c68y − cby) / Sb,   k = S68 / Sb.

The convention's constants are the medians over the real photos (view 0 of each source): BlazeFace
frames a rendered head about 5 % larger relative to its landmarks than a photographed one (k ≈ 1.00
on the renders against 0.95 on the photos, and on AFLW2000-3D's photos), so the renders give the
dependence on yaw (per-bin medians, nearly flat) but not the level. The residual after the constants
(what the trainer's box jitter must cover) is reported per |yaw| bin [0,30], (30,60], >60 as 5–95 %
ranges of ``(c68 − ĉ) / S68`` with ĉ = cb + (dx, dy)·Sb and of ``S68 / (k·Sb)``.

The roll of BlazeFace's eye keypoints is compared with the labels' (the line of iBUG points 36 → 45)
per yaw bin. With ``--model`` the landmark model is also run on the detection crops made with each
roll rule of ``ROLL_RULES`` and the validation NME (68 points in 2-D over √(w·h) of the
label's 68-point box, %) is printed per yaw bin, to choose the SDK's rule on validation data.
"""
from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np

from denseface import DenseFace
from denseface.crop import crop_from_box, landmark_square
from denseface.decode import decode
from denseface.detect import FaceDetector
from denseface.pose import roll_from_eyes
from denseface.topology import IBUG68
from train.data import CACHE
from train.evaluation.metrics import nme_per_image
from train.learning.dataset import VAL_SPLIT, load_dataset

CANVAS = 256  # px: the frame each 128-px validation crop is placed in
CANVAS_GREY = 127
YAW_BINS = ((0.0, 30.0), (30.0, 60.0), (60.0, 180.0))
# Candidate rules for the detection crop's roll (degrees) from the eye keypoints' roll r: the eye
# line as it is, none (the model is trained with rotations up to ±45°), or only the part beyond ±30°
# or ±45°.
ROLL_RULES = {
    "eyes": lambda r: r,
    "none": lambda r: 0.0,
    "beyond_30": lambda r: r - float(np.clip(r, -30.0, 30.0)),
    "beyond_45": lambda r: r - float(np.clip(r, -45.0, 45.0)),
}


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


def yaw_bin_masks(yaw_deg: np.ndarray) -> list[np.ndarray]:
    """Boolean masks of the three |yaw| bins [0,30], (30,60], >60."""
    a = np.abs(yaw_deg)
    return [(a <= hi) & ((a > lo) if lo else True) for lo, hi in YAW_BINS]


def in_canvas(crop: np.ndarray) -> tuple[np.ndarray, float]:
    """(CANVAS, CANVAS, 3) frame with ``crop`` in its middle, and the crop's offset in the frame, px."""
    offset = (CANVAS - crop.shape[0]) // 2
    frame = np.full((CANVAS, CANVAS, 3), CANVAS_GREY, np.uint8)
    frame[offset:offset + crop.shape[0], offset:offset + crop.shape[1]] = crop
    return frame, float(offset)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", type=Path, default=CACHE / "dataset",
                        help="dataset directory (train.labels.build_dataset)")
    parser.add_argument("--model", type=Path, default=None, help="landmark .tflite: also compare the roll rules")
    parser.add_argument("--limit", type=int, default=None, help="use at most this many validation rows")
    parser.add_argument("--json", type=Path, default=None, help="also write the numbers here")
    args = parser.parse_args(argv)

    samples = load_dataset(args.data, VAL_SPLIT, args.limit)
    sdk = None if args.model is None else DenseFace(model_path=args.model)
    detector = FaceDetector() if sdk is None else sdk.detector
    rows, found_yaw, found_view, label_xy, det_roll, label_roll = [], [], [], [], [], []
    preds: dict[str, list[np.ndarray]] = {rule: [] for rule in ROLL_RULES}
    for image, points, yaw, view in zip(samples.images, samples.points, samples.yaw, samples.view):
        frame, offset = in_canvas(image)
        detections = detector.detect(frame)
        if not detections:
            continue
        det = detections[0]
        xy = points[IBUG68, :2] + offset
        rows.append(box_measurements(xy[None], np.asarray(det.box)[None])[0])
        found_yaw.append(yaw)
        found_view.append(view)
        label_xy.append(xy)
        det_roll.append(roll_from_eyes(det.keypoints[0], det.keypoints[1]))
        label_roll.append(roll_from_eyes(xy[36], xy[45]))
        if sdk is not None:
            for rule, roll_of in ROLL_RULES.items():
                crop = crop_from_box(det.box, "blazeface", roll_deg=roll_of(det_roll[-1]))
                preds[rule].append(decode(sdk.model.run(crop.warp(frame)), crop)[IBUG68, :2])
    measured, yaw = np.asarray(rows), np.asarray(found_yaw)
    masks = yaw_bin_masks(yaw)
    photos = np.asarray(found_view) == 0
    convention = np.median(measured[photos], axis=0)
    res = residuals(measured, convention)
    roll_error = np.abs(np.asarray(det_roll) - np.asarray(label_roll))

    print(f"validation rows: {len(samples)}, detected: {len(measured)} "
          f"(per |yaw| bin {[int(m.sum()) for m in masks]} of "
          f"{[int(m.sum()) for m in yaw_bin_masks(samples.yaw)]})")
    print(f"blazeface convention (median over the {int(photos.sum())} photos): dx={convention[0]:+.4f}  dy={convention[1]:+.4f}  "
          f"k={convention[2]:.4f}")
    report: dict[str, object] = {"rows": len(samples), "detected": len(measured), "convention": convention.tolist(),
                                 "bins": []}
    for (lo, hi), m in zip(YAW_BINS, masks):
        med = np.median(measured[m], axis=0)
        p5, p95 = np.percentile(res[m], [5, 95], axis=0)
        line = {"yaw": [lo, hi], "n": int(m.sum()), "median": med.tolist(), "residual_p5": p5.tolist(),
                "residual_p95": p95.tolist(), "eye_roll_error_median_deg": float(np.median(roll_error[m])),
                "eye_roll_error_p90_deg": float(np.percentile(roll_error[m], 90))}
        print(f"|yaw| {lo:.0f}-{hi:.0f} (n={line['n']}): median dx={med[0]:+.4f} dy={med[1]:+.4f} k={med[2]:.4f}; "
              f"residual 5-95% x [{p5[0]:+.3f}, {p95[0]:+.3f}] y [{p5[1]:+.3f}, {p95[1]:+.3f}] "
              f"scale [{p5[2]:.3f}, {p95[2]:.3f}]; eye-keypoint roll error median "
              f"{line['eye_roll_error_median_deg']:.1f}°, p90 {line['eye_roll_error_p90_deg']:.1f}°")
        report["bins"].append(line)
    if sdk is not None:
        gt = np.asarray(label_xy)
        report["roll_rules_nme"] = {}
        for rule, pred in preds.items():
            nme = nme_per_image(np.asarray(pred), gt)
            bins = [float(nme[m].mean()) for m in masks]
            report["roll_rules_nme"][rule] = {"bins": bins, "balanced": float(np.mean(bins))}
            print(f"roll rule {rule!r}: validation NME by |yaw| bin " + " / ".join(f"{b:.2f}" for b in bins)
                  + f" -> balanced {np.mean(bins):.2f}")
    if args.json:
        args.json.write_text(json.dumps(report, indent=1))


if __name__ == "__main__":
    main()
