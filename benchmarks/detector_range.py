"""How small a face the bundled detectors find in a 1920×1080 frame: short range vs full range.

    python -m benchmarks.detector_range [--limit N] [--sizes 360 240 180 120 80 60 40 30 20] [--out DIR]

Each AFLW2000-3D original (450×450, one annotated face; the test set, nothing here was tuned on it)
is scaled so that its annotated face (the square box of the ground-truth 68 points) has a side of
``size`` pixels, and pasted in the middle of a mid-grey 1920×1080 frame (cut to the frame when
larger). Both bundled BlazeFace detectors (``FaceDetector`` with its defaults: min_score 0.5) run on
that frame; the face is found when a detection's centre lies in its 68-point box. Prints the
detection rate per detector and face size (and the rate when each original, unscaled, is
letterboxed to 1920×1080 itself: faces of ~300–600 px) and the time per call.

Limits: one face per frame on a plain background (real wide shots have clutter, and several faces);
AFLW2000-3D's poses (a third beyond 60° yaw, where BlazeFace misses more at any size); the rate,
not the landmarks' accuracy on small faces (the landmark model sees every face as a 120×120 crop).

Writes OUT/detector_range.json.
"""
from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import cv2
import numpy as np

from benchmarks.common import DEFAULT_OUT, format_table, isa_features, load_warning, write_json
from denseface.detect import DetectorOptions, FaceDetector

FRAME = (1080, 1920)  # height, width
DETECTORS = ("short_int8", "full")
SIZES = (360, 240, 180, 120, 80, 60, 40, 30, 20)  # face side in frame pixels
FITTED = "fitted"  # the original letterboxed to the frame's height


def place(image: np.ndarray, box: np.ndarray, size: float | None) -> tuple[np.ndarray, np.ndarray]:
    """A 1920×1080 mid-grey frame with ``image`` scaled so that the square of ``box`` (x0, y0, x1, y1)
    has side ``size`` (None: scaled to the frame's height), centred; returns the frame and the box in it."""
    height, width = FRAME
    side = max(box[2] - box[0], box[3] - box[1])
    scale = height / image.shape[0] if size is None else size / side
    interpolation = cv2.INTER_AREA if scale < 1 else cv2.INTER_LINEAR
    scaled = cv2.resize(image, None, fx=scale, fy=scale, interpolation=interpolation)
    frame = np.full((height, width, 3), 128, np.uint8)
    top, left = (height - scaled.shape[0]) // 2, (width - scaled.shape[1]) // 2  # negative: cut
    source = scaled[max(0, -top):, max(0, -left):][:height, :width]
    frame[max(0, top):max(0, top) + source.shape[0], max(0, left):max(0, left) + source.shape[1]] = source
    # pixel centres: x' = (x + 0.5) · scale − 0.5 + left
    placed = (np.asarray(box, np.float64) + 0.5) * scale - 0.5 + np.array([left, top, left, top])
    return frame, placed


def found(detections: list, box: np.ndarray) -> bool:
    """Whether a detection's centre lies in ``box``."""
    return any(box[0] <= (d.box[0] + d.box[2]) / 2 <= box[2] and box[1] <= (d.box[1] + d.box[3]) / 2 <= box[3]
               for d in detections)


def detection_rates(limit: int | None, sizes: tuple[int, ...]) -> list[dict]:
    """One row per (detector, size): faces found of those placed, and the mean time per call."""
    from train.data import AFLW2000

    gt = np.load(AFLW2000 / "ground_truth.npz")
    names = gt["names"][:limit]
    detectors = {kind: FaceDetector(DetectorOptions(kind=kind)) for kind in DETECTORS}
    columns = [*sizes, FITTED]
    hits = {(kind, size): 0 for kind in DETECTORS for size in columns}
    seconds = {kind: 0.0 for kind in DETECTORS}
    for i, name in enumerate(names):
        image = cv2.cvtColor(cv2.imread(str(AFLW2000 / "images" / name)), cv2.COLOR_BGR2RGB)
        x, y = gt["pts68"][i, 0], gt["pts68"][i, 1]
        box = np.array([x.min(), y.min(), x.max(), y.max()])
        for size in columns:
            frame, placed = place(image, box, None if size == FITTED else float(size))
            for kind, detector in detectors.items():
                start = time.perf_counter()
                detections = detector.detect(frame)
                seconds[kind] += time.perf_counter() - start
                hits[kind, size] += found(detections, placed)
    calls = len(names) * len(columns)
    return [{"detector": kind, "size_px": size, "faces": len(names), "found": hits[kind, size],
             "rate": hits[kind, size] / len(names), "ms_per_call": 1000 * seconds[kind] / calls}
            for kind in DETECTORS for size in columns]


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter, epilog=__doc__)
    parser.add_argument("--limit", type=int, help="only the first N AFLW2000-3D images (quick checks)")
    parser.add_argument("--sizes", type=int, nargs="+", default=list(SIZES),
                        help=f"face sides in frame pixels (default {' '.join(map(str, SIZES))})")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help=f"output folder (default {DEFAULT_OUT})")
    args = parser.parse_args(argv)
    print("detecting ...", file=sys.stderr)
    rows = detection_rates(args.limit, tuple(args.sizes))
    columns = [*args.sizes, FITTED]
    table = []
    for kind in DETECTORS:
        own = [r for r in rows if r["detector"] == kind]
        table.append((kind, *(f"{r['rate']:.1%}" for r in own), own[0]["ms_per_call"]))
    print(format_table(("detector", *(f"{c} px" if c != FITTED else FITTED for c in columns), "ms/call"), table,
                       title=f"faces found in 1920x1080 frames, {rows[0]['faces']} AFLW2000-3D originals "
                             f"(ISA: {' '.join(isa_features()) or 'unknown'})"))
    warning = load_warning()
    if warning:
        print(warning)
    path = write_json(args.out, "detector_range", {"limit": args.limit, "frame": FRAME, "rows": rows,
                                                   "load_warning": warning})
    print(f"\nwrote {path}")


if __name__ == "__main__":
    main()
