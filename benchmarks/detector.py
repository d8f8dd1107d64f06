"""The shared detection stage at its cheapest: float vs int8 short-range BlazeFace, INTER_AREA vs
INTER_LINEAR letterbox.

    python -m benchmarks.detector [--model M_int8.tflite] [--limit N] [--repeats 3000] [--out DIR]

Configurations: the detector ``short`` (MediaPipe's float model) or ``short_int8`` (its int8 version,
``train.detector.quantize``), each with the letterbox shrinking the frame by INTER_AREA or INTER_LINEAR
(``denseface.letterbox.SHRINK_INTERPOLATION``).

1. End to end on AFLW2000-3D (the test set; nothing here was tuned on it): ``DenseFace(model,
   detector=...)`` on the 2000 originals, scored as ``benchmarks.accuracy``'s row 3 (the annotated
   person's face, 3DDFA protocol, missed = not found). The detection box of the annotated person
   (``train.evaluation.evaluate.annotated_face`` on the detections) is compared with the float INTER_AREA
   detector's box (IoU; centre distance and |√area ratio − 1|, in % of √(w·h) of the ground-truth
   68-point box) and with that ground-truth box (IoU).
2. Detection alone on aflw_dev (the development set: the choices were made here): each 120×120 crop as
   a frame (faces filling ~70 % of it), and 3×3 and 4×4 grids of crops (faces of ~40 and ~30 px in the
   128-px detector input). A face is found when a detection's centre lies in its crop's central box
   (side 120/√2, the box the crop was cut around). Missed per |yaw| bin [0,30], (30,60], >60, and the
   IoU of the found boxes with the float detector's.
3. Latency, 1 thread, LiteRT as the SDK runs it: the detector model alone (``TFLiteModel.run`` on a
   ready input, quantization of the input and dequantization of the outputs included), the whole
   ``FaceDetector.detect`` on a 640×480 frame (``benchmarks.frames.fit_frame`` of an AFLW2000-3D
   original), and the letterbox alone with each interpolation; the two of each pair called in turn
   ``--repeats`` times (so that other processes slow both alike), best and median call.

Writes OUT/detector.json.
"""
from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path
from typing import Callable

import cv2
import numpy as np

from benchmarks.common import DEFAULT_OUT, format_table, isa_features, load_warning, model_argument, write_json
from denseface.ssd import box_iou

DETECTORS = ("short", "short_int8")
INTERPOLATIONS = {"INTER_AREA": cv2.INTER_AREA, "INTER_LINEAR": cv2.INTER_LINEAR}
REFERENCE = ("short", "INTER_AREA")  # the SDK's detector before issue 14
GRIDS = (1, 3, 4)
CROP = 120  # aflw_dev crops are 120×120, the face box a central square of side CROP / √2


def with_interpolation(interpolation: int, call: Callable[[], object]) -> object:
    """``call()`` with the letterbox shrinking by ``interpolation``."""
    import denseface.letterbox as letterbox

    saved = letterbox.SHRINK_INTERPOLATION
    letterbox.SHRINK_INTERPOLATION = interpolation
    try:
        return call()
    finally:
        letterbox.SHRINK_INTERPOLATION = saved


def end_to_end(model: Path, limit: int | None) -> list[dict]:
    """Section 1: one row per (detector, interpolation)."""
    from denseface import DenseFace
    from train.data import AFLW2000
    from train.evaluation import evaluate
    from train.evaluation.metrics import nme_report

    gt = evaluate.load_aflw2000().head(limit)
    configs = [(d, i) for i in INTERPOLATIONS for d in DETECTORS]
    sdks = {d: DenseFace(model_path=model, max_faces=10, detector=d) for d in DETECTORS}
    pred = {c: np.full_like(gt.pts68, np.nan) for c in configs}
    boxes = {c: np.full((len(gt.names), 4), np.nan) for c in configs}
    for i, name in enumerate(gt.names):
        frame = evaluate.read_rgb(AFLW2000 / "images" / name)
        for detector, interpolation in configs:
            sdk = sdks[detector]
            # the detector run again on its own for its boxes: face i of landmarks() is detection i
            detections, faces = with_interpolation(INTERPOLATIONS[interpolation],
                                                   lambda: (sdk.detector.detect(frame), sdk.landmarks(frame)))
            match = evaluate.annotated_face([f.box for f in faces], gt.pts68[i])
            if match is not None:
                pred[detector, interpolation][i] = faces[match].points68[:, :2]
                boxes[detector, interpolation][i] = detections[match].box
    lo, hi = gt.pts68.min(1), gt.pts68.max(1)
    truth, side = np.concatenate([lo, hi], 1), np.sqrt((hi - lo).prod(1))
    reference = boxes[REFERENCE]
    rows = []
    for config in configs:
        report, box = nme_report(pred[config], gt.pts68, gt.yaw), boxes[config]
        both = np.isfinite(box[:, 0]) & np.isfinite(reference[:, 0])
        centre = np.hypot(*((box[:, :2] + box[:, 2:] - reference[:, :2] - reference[:, 2:]) / 2).T)
        size = np.sqrt((box[:, 2:] - box[:, :2]).prod(1) / (reference[:, 2:] - reference[:, :2]).prod(1))
        found = np.isfinite(box[:, 0])
        rows.append({
            "detector": config[0], "letterbox": config[1], "bins": report.bins, "balanced": report.balanced,
            "missed": report.missed, "iou_vs_reference": float(box_iou(box[both], reference[both]).mean()),
            "iou_vs_reference_p5": float(np.percentile(box_iou(box[both], reference[both]), 5)),
            "centre_vs_reference_pct": float(100 * (centre[both] / side[both]).mean()),
            "size_vs_reference_pct": float(100 * np.abs(size[both] - 1).mean()),
            "iou_vs_gt68": float(box_iou(box[found], truth[found]).mean()),
        })
    return rows


def grid_detections(detector, crops: list[np.ndarray], grid: int) -> np.ndarray:
    """(N, 4) box of each crop's face when the crops are shown ``grid`` × ``grid`` per frame (NaN = missed
    or left over after the last full grid)."""
    boxes = np.full((len(crops), 4), np.nan)
    per_frame, half = grid * grid, CROP / np.sqrt(2) / 2
    for start in range(0, len(crops) - per_frame + 1, per_frame):
        tiles = crops[start : start + per_frame]
        frame = np.vstack([np.hstack(tiles[r * grid : (r + 1) * grid]) for r in range(grid)])
        detections = detector.detect(frame)
        for t in range(per_frame):
            cx, cy = CROP * (t % grid) + (CROP - 1) / 2, CROP * (t // grid) + (CROP - 1) / 2
            inside = [d.box for d in detections
                      if abs((d.box[0] + d.box[2]) / 2 - cx) <= half and abs((d.box[1] + d.box[3]) / 2 - cy) <= half]
            if inside:
                boxes[start + t] = inside[0]
    return boxes


def dev_detection() -> list[dict]:
    """Section 2: one row per (detector, grid)."""
    from denseface.detect import DetectorOptions, FaceDetector
    from train.data import AFLW_DEV
    from train.evaluation import evaluate

    dev = evaluate.load_aflw_dev()
    crops = [evaluate.read_rgb(AFLW_DEV / "crops" / name) for name in dev.names]
    yaw = np.abs(dev.yaw)
    bins = (yaw <= 30, (yaw > 30) & (yaw <= 60), yaw > 60)
    found_boxes = {(d, g): grid_detections(FaceDetector(DetectorOptions(kind=d, max_faces=20)), crops, g)
                   for d in DETECTORS for g in GRIDS}
    rows = []
    for (detector, grid), box in found_boxes.items():
        shown = np.arange(len(crops)) < len(crops) // grid**2 * grid**2
        found = np.isfinite(box[:, 0])
        reference = found_boxes[REFERENCE[0], grid]
        both = found & np.isfinite(reference[:, 0])
        overlap = box_iou(box[both], reference[both])
        rows.append({"detector": detector, "grid": grid, "faces": int(shown.sum()),
                     "missed_by_bin": [int((shown & ~found & b).sum()) for b in bins],
                     "missed": int((shown & ~found).sum()), "iou_vs_float": float(overlap.mean()),
                     "iou_vs_float_p5": float(np.percentile(overlap, 5))})
    return rows


def interleaved_ms(calls: dict[str, Callable[[], object]], repeats: int) -> dict[str, tuple[float, float]]:
    """Best and median time of one call, ms, for each of ``calls``, called in turn ``repeats`` times
    (interleaved, so that other processes slow them alike)."""
    samples: dict[str, list[float]] = {name: [] for name in calls}
    for _ in range(repeats):
        for name, call in calls.items():
            start = time.perf_counter()
            call()
            samples[name].append((time.perf_counter() - start) * 1e3)
    return {name: (min(times), float(np.median(times))) for name, times in samples.items()}


def latency(repeats: int) -> list[dict]:
    """Section 3: one row per timed call."""
    from benchmarks.frames import MOVING_SOURCE, aflw_images_dir, fit_frame
    from denseface.detect import DetectorOptions, FaceDetector
    from denseface.letterbox import Letterbox
    from train.evaluation.evaluate import read_rgb

    frame = fit_frame(read_rgb(aflw_images_dir() / MOVING_SOURCE))
    detectors = {kind: FaceDetector(DetectorOptions(kind=kind, num_threads=1)) for kind in DETECTORS}
    inputs = {kind: detector.input_tensor(frame)[0].copy() for kind, detector in detectors.items()}
    for detector in detectors.values():
        detector.detect(frame)  # warm-up: XNNPACK packs its weights on the first run
    letterbox = Letterbox.fit(frame.shape[0], frame.shape[1], 128)
    canvas = np.zeros((128, 128, 3), np.uint8)
    groups = [
        {f"{kind}: model alone": (lambda d=detector, x=inputs[kind]: d._model.run(x))
         for kind, detector in detectors.items()},
        {f"{kind}: detect 640x480": (lambda d=detector: d.detect(frame)) for kind, detector in detectors.items()},
        {f"letterbox 640x480 -> 128, {name}":
         (lambda i=flag: with_interpolation(i, lambda: letterbox.apply(frame, out=canvas)))
         for name, flag in INTERPOLATIONS.items()},
    ]
    return [{"what": what, "ms": ms} for group in groups for what, ms in interleaved_ms(group, repeats).items()]


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter, epilog=__doc__)
    parser.add_argument("--model", help="landmark model: full, lite or a .tflite (default: the bundled full model)")
    parser.add_argument("--limit", type=int,
                        help="only the first N AFLW2000-3D images (quick checks; not the protocol)")
    parser.add_argument("--repeats", type=int, default=3000, help="timed calls of each kind (default 3000)")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help=f"output folder (default {DEFAULT_OUT})")
    args = parser.parse_args(argv)
    model = model_argument(parser, args.model)

    print("end to end on AFLW2000-3D ...", file=sys.stderr)
    e2e = end_to_end(model, args.limit)
    print(format_table(
        ("detector", "letterbox", "[0,30]", "(30,60]", ">60", "balanced", "missed", "IoU vs float/AREA",
         "p5", "centre %", "size %", "IoU vs GT68"),
        [(r["detector"], r["letterbox"], *r["bins"], r["balanced"], r["missed"], r["iou_vs_reference"],
          r["iou_vs_reference_p5"], r["centre_vs_reference_pct"], r["size_vs_reference_pct"], r["iou_vs_gt68"])
         for r in e2e],
        title=f"1 AFLW2000-3D end to end ({model.name}), NME % (3DDFA protocol); "
              "boxes: the annotated person's detection"))
    print("detection on aflw_dev ...", file=sys.stderr)
    dev = dev_detection()
    print(format_table(("detector", "grid", "faces", "missed by |yaw| bin", "missed", "IoU vs float", "p5"),
                       [(r["detector"], f"{r['grid']}x{r['grid']}", r["faces"], str(r["missed_by_bin"]), r["missed"],
                         r["iou_vs_float"], r["iou_vs_float_p5"]) for r in dev],
                       title="\n2 aflw_dev, detection alone (found = a detection centred in the crop's face box)"))
    timings = latency(args.repeats)
    print(format_table(("1 thread, interleaved", "best ms", "median ms"), [(r["what"], *r["ms"]) for r in timings],
                       title=f"\n3 latency (ISA: {' '.join(isa_features()) or 'unknown'})"))
    warning = load_warning()
    if warning:
        print(warning)
    limited = f"first {args.limit} AFLW2000-3D images only (--limit): NOT the full protocol" if args.limit else ""
    if limited:
        print(limited)
    path = write_json(args.out, "detector", {"model": model, "limit": args.limit, "end_to_end": e2e,
                                             "aflw_dev": dev, "latency": timings, "load_warning": warning})
    print(f"\nwrote {path}")


if __name__ == "__main__":
    main()
