"""Accuracy of exported models on AFLW2000-3D (3DDFA protocol, ``train.evaluation.metrics``) and on the dataset's
held-out dense test split.

CLI::

    python -m train.evaluation.evaluate --model denseface_float32.tflite [--model2 denseface_int8.tflite]
        [--data DATASET_DIR] [--mediapipe] [--tddfa] [--limit N] [--mirror-average] [--json OUT.json]
        [--ced OUT.png]

Rows (NME of the 68 points in 2-D, %, by |yaw| bin and balanced):

1. ``standard crops``: each model on AFLW2000-3D's 120×120 benchmark crops as given; its points mapped
   to the original image with the crop's ``roi_box`` (cv2.resize's pixel-centre rule, see
   ``crop_to_original``).
2. ``SDK crops``: the SDK's crop rule (``denseface.crop.crop_from_box``, convention "landmarks68") on the
   tight box of the ground-truth 68 points, cut from the 450×450 originals and decoded with
   ``denseface.decode``.
3. end to end through a detector: ``row_end_to_end`` takes any frame → faces' 68 points callable
   (added by the SDK). Several people can be in an AFLW2000-3D original and only one is annotated:
   the row scores the found face of the annotated person (``annotated_face``), and counts an image as
   missed when none was found.
4. ``--mediapipe``: the MediaPipe 468-point mesh (``train.labels.teacher``) on a square ROI of 1.5× the
   ground-truth box's longer side, with each of our 68 points taken as the nearest MediaPipe point
   (see ``mediapipe_68``).
5. ``--data``: dense NME on the dataset's test split (``split == 2``): all 520 points in 3-D and per
   face region, normalised like the 68-point NME by √(w·h) of the label's 68-point 2-D box.

6. ``aflw_dev``: the development set of real photos (3,000 AFLW faces, 1,000 per |yaw| bin, none in
   AFLW2000-3D): each model on its 120×120 crops, scored on AFLW's 21 manual points (visible ones),
   normalised by the roi side / √2 (``train.evaluation.metrics.nme21_per_image``), with failures (NME > 10 %).

``--mirror-average`` scores rows 1, 2, 5 and 6 with the SDK's ``mirror_average`` option (each crop and its
mirror image through the model, averaged: ``denseface.landmark_model.LandmarkModel.run``).

``--tddfa`` adds 3DDFA_V2 (``train.labels.tddfa``) to rows 1 and 6 as a check of the code path: it must score
2.90 / 3.69 / 4.78 → 3.79 balanced on row 1 (its outputs follow 3DDFA's own crop → image mapping).
AFLW2000-3D is test data only: nothing here feeds back into training. aflw_dev is for choosing between
runs and designs; nothing is trained or fitted on its labels either.
"""
from __future__ import annotations

import argparse
import json
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Callable, Sequence

import cv2
import numpy as np

from denseface.crop import MODEL_INPUT, crop_from_box
from denseface.decode import to_crop_points
from denseface.landmark_model import LandmarkModel
from denseface.topology import IBUG68, load_topology
from train.data import AFLW2000, AFLW_DEV, require
from train.evaluation.metrics import NMEReport, aflw21, binned_report, nme21_per_image, nme_per_image, nme_report
from train.learning.augment import MARGIN

# A model on one crop: (120, 120, 3) uint8 RGB → (K, 3) float32 crop pixels (K = 520 or 68, the first
# 68 being the iBUG 68), x right, y down, pixel centres at integers.
if TYPE_CHECKING:
    import keras

CropPredictor = Callable[[np.ndarray], np.ndarray]
CED_MAX_NME = 10.0  # % : the CED plot's x range


@dataclass(frozen=True)
class Aflw2000:
    """AFLW2000-3D ground truth (``ground_truth.npz``), rows in ``names`` order.

    names: (N,) str jpg names. pts68: (N, 68, 2) float32 x, y in original-image pixels.
    roi_box: (N, 4) float32 (x0, y0, x1, y1) of each standard crop in the original. yaw: (N,) degrees.
    """

    names: np.ndarray
    pts68: np.ndarray
    roi_box: np.ndarray
    yaw: np.ndarray

    def head(self, limit: int | None) -> Aflw2000:
        """The first ``limit`` images (all when None)."""
        n = len(self.names) if limit is None else limit
        return Aflw2000(self.names[:n], self.pts68[:n], self.roi_box[:n], self.yaw[:n])


def load_aflw2000() -> Aflw2000:
    """The benchmark's ground truth (raises FileNotFoundError when the shared data is missing)."""
    d = np.load(require(AFLW2000 / "ground_truth.npz"))
    return Aflw2000(names=d["names"], pts68=np.transpose(d["pts68"][:, :2], (0, 2, 1)).astype(np.float32),
                    roi_box=d["roi_box"].astype(np.float32), yaw=d["pose"].astype(np.float32))


@dataclass(frozen=True)
class AflwDev:
    """aflw_dev ground truth (``ground_truth.npz``), rows in ``names`` order.

    names: (N,) str crop names. pts21: (N, 21, 2) float32 x, y in the original photo's pixels.
    visible: (N, 21) bool. roi_box: (N, 4) float32 (x0, y0, x1, y1) of each crop in the original.
    yaw: (N,) degrees.
    """

    names: np.ndarray
    pts21: np.ndarray
    visible: np.ndarray
    roi_box: np.ndarray
    yaw: np.ndarray


def load_aflw_dev() -> AflwDev:
    """The development set's ground truth (FileNotFoundError when the shared data is missing)."""
    d = np.load(require(AFLW_DEV / "ground_truth.npz"))
    pts21 = np.transpose(d["pts21"], (0, 2, 1)).astype(np.float32)
    return AflwDev(names=d["names"], pts21=pts21, visible=pts21[..., 0] >= 0,
                   roi_box=d["roi_box"].astype(np.float32), yaw=d["yaw"].astype(np.float32))


def read_rgb(path: Path) -> np.ndarray:
    """(H, W, 3) uint8 RGB image (cv2 reads BGR)."""
    image = cv2.imread(str(path), cv2.IMREAD_COLOR)
    if image is None:
        raise FileNotFoundError(f"cannot read image {path}")
    return cv2.cvtColor(image, cv2.COLOR_BGR2RGB)


def tflite_predictor(path: str | Path, mirror_average: bool = False) -> CropPredictor:
    """A CropPredictor running a DenseFace .tflite (float32 or int8, ``denseface.landmark_model``) on one
    crop, with the SDK's ``mirror_average`` option when asked."""
    model = LandmarkModel(path, mirror_average=mirror_average)
    return lambda crop: to_crop_points(model.run(crop))


def keras_crop_points(model: keras.Model, crops: np.ndarray, batch_statistics: bool = False,
                      batch: int = 64) -> np.ndarray:
    """(N, 520, 3) float64 points in crop pixels (z as the model gives it) of a Keras landmark model on
    (N, 120, 120, 3) crops, in batches; BatchNorm in inference mode unless ``batch_statistics``."""
    outputs = [np.asarray(model(crops[i:i + batch].astype(np.float32), training=batch_statistics))
               for i in range(0, len(crops), batch)]
    return np.concatenate(outputs).reshape(len(crops), -1, 3).astype(np.float64) * MODEL_INPUT


def aflw_dev_summary(report: NMEReport) -> dict[str, object]:
    """An aflw_dev report (``score_aflw_dev``) as JSON-able numbers: the three |yaw| bins' NME (%), their
    balanced mean, and the failures (NME > 10 %) of the >60° bin among its images."""
    return {"bins": list(report.bins), "balanced": report.balanced, "failures_over_60": report.failures[2],
            "count_over_60": report.counts[2]}


def tddfa_predictor() -> CropPredictor:
    """3DDFA_V2 (mb05) as a CropPredictor: (68, 3) points in 3DDFA's crop frame (use with
    ``pixel_centres=False``)."""
    from train.labels.tddfa import TDDFA

    model = TDDFA()
    return lambda crop: model.predict(cv2.cvtColor(crop, cv2.COLOR_RGB2BGR))


def crop_to_original(points: np.ndarray, roi_box: np.ndarray, pixel_centres: bool = True) -> np.ndarray:
    """(K, 2) points of a 120×120 standard crop → original-image pixels.

    The crop is cv2.resize of the box (x0, y0, x1, y1), scale s = (x1 − x0) / 120 in x (and likewise
    in y). With ``pixel_centres`` (our models, which predict in the pixel-centre convention): x = (c +
    0.5)·s − 0.5 + x0. Without (3DDFA's own convention): x = c·s + x0.
    """
    x0, y0, x1, y1 = (float(v) for v in roi_box)
    scale = np.array([(x1 - x0) / MODEL_INPUT, (y1 - y0) / MODEL_INPUT])
    half = 0.5 if pixel_centres else 0.0
    return ((points[:, :2] + half) * scale - half + [x0, y0]).astype(np.float32)


def row_standard_crops(predict: CropPredictor, gt: Aflw2000, pixel_centres: bool = True) -> NMEReport:
    """Row 1: ``predict`` on the benchmark's own 120×120 crops."""
    pred = np.empty_like(gt.pts68)
    for i, name in enumerate(gt.names):
        crop = read_rgb(AFLW2000 / "crops" / name)
        pred[i] = crop_to_original(predict(crop)[IBUG68], gt.roi_box[i], pixel_centres)
    return nme_report(pred, gt.pts68, gt.yaw)


def aflw_dev_crops(dev: AflwDev) -> np.ndarray:
    """(N, 120, 120, 3) uint8 RGB: aflw_dev's crops in ``dev.names`` order."""
    return np.stack([read_rgb(AFLW_DEV / "crops" / name) for name in dev.names])


def score_aflw_dev(crop_points: np.ndarray, dev: AflwDev, pixel_centres: bool = True) -> NMEReport:
    """Row 6's scores of predicted (N, K ≥ 68, 2 or 3) points on aflw_dev's crops (crop pixels; the
    first 68 are iBUG's), on AFLW's visible 21 points."""
    pred = np.stack([aflw21(crop_to_original(points[IBUG68, :2], roi_box, pixel_centres))
                     for points, roi_box in zip(crop_points, dev.roi_box)])
    side = dev.roi_box[:, 2] - dev.roi_box[:, 0]
    return binned_report(nme21_per_image(pred.astype(dev.pts21.dtype), dev.pts21, dev.visible, side), dev.yaw)


def row_aflw_dev(predict: CropPredictor, dev: AflwDev, pixel_centres: bool = True) -> NMEReport:
    """Row 6: ``predict`` on aflw_dev's 120×120 crops, scored on AFLW's visible 21 points."""
    return score_aflw_dev(np.stack([predict(read_rgb(AFLW_DEV / "crops" / name)) for name in dev.names]), dev,
                          pixel_centres)


def gt_box(pts68: np.ndarray) -> tuple[float, float, float, float]:
    """(x0, y0, x1, y1) tight box of (68, 2) points."""
    lo, hi = pts68.min(0), pts68.max(0)
    return float(lo[0]), float(lo[1]), float(hi[0]), float(hi[1])


def row_sdk_crops(predict: CropPredictor, gt: Aflw2000) -> NMEReport:
    """Row 2: ``predict`` on crops cut from the originals by the SDK's rule around the GT 68-point box."""
    pred = np.empty_like(gt.pts68)
    for i, name in enumerate(gt.names):
        frame = read_rgb(AFLW2000 / "images" / name)
        transform = crop_from_box(gt_box(gt.pts68[i]), "landmarks68")
        points = predict(transform.warp(frame))[IBUG68]
        pred[i] = transform.to_frame(points)[:, :2]
    return nme_report(pred, gt.pts68, gt.yaw)


def annotated_face(boxes: Sequence[Sequence[float]], gt_points: np.ndarray) -> int | None:
    """Which of a pipeline's face boxes (x0, y0, x1, y1) belongs to the annotated person: among the
    boxes whose centre lies inside the tight box of the ground truth's 68 points ((68, ≥2), frame
    pixels), the one whose centre is nearest the centre of that box; None when no box qualifies. (The
    SDK's video mode confirms a track by a detection whose centre lies in the track's box, too.)"""
    x0, y0, x1, y1 = gt_box(gt_points)
    best, best_distance = None, np.inf
    for i, (bx0, by0, bx1, by1) in enumerate(boxes):
        cx, cy = (bx0 + bx1) / 2, (by0 + by1) / 2
        distance = np.hypot(cx - (x0 + x1) / 2, cy - (y0 + y1) / 2)
        if x0 <= cx <= x1 and y0 <= cy <= y1 and distance < best_distance:
            best, best_distance = i, distance
    return best


def row_end_to_end(faces68: Callable[[np.ndarray], list[np.ndarray]], gt: Aflw2000) -> tuple[NMEReport, int]:
    """Row 3: a whole pipeline, ``faces68(frame)`` on each (450, 450, 3) uint8 RGB original → a list of
    (68, ≥2) frame-pixel point sets, one per face found (best first). The face of the annotated
    person (``annotated_face``, by the tight box of each face's points) is scored; an image where it
    was not found counts as missed. Returns the report and the number of images whose first face
    was someone else's."""
    pred = np.full_like(gt.pts68, np.nan)
    others_first = 0
    for i, name in enumerate(gt.names):
        faces = [np.asarray(points)[:, :2] for points in faces68(read_rgb(AFLW2000 / "images" / name))]
        match = annotated_face([(*f.min(0), *f.max(0)) for f in faces], gt.pts68[i])
        if match is not None:
            pred[i] = faces[match]
        others_first += bool(faces) and match != 0
    return nme_report(pred, gt.pts68, gt.yaw), others_first


@lru_cache(maxsize=1)
def mediapipe_68() -> np.ndarray:
    """(68,) indices into MediaPipe's 468 points standing in for our 68 landmarks.

    Both point sets live on the ICT neutral face: ours through the topology's (triangle, barycentric)
    coordinates, MediaPipe's through its registration (``train.labels.fit.mediapipe_registration``). Each of
    our 68 points takes the MediaPipe point nearest to it there (a fixed choice, no fitting).
    """
    from train.labels.fit import mediapipe_registration, surface_points
    from train.labels.ict import load_ict

    neutral = load_ict().neutral
    topology = load_topology()
    ours = surface_points(neutral, topology.ict_triangle[IBUG68], topology.bary[IBUG68])
    registration = mediapipe_registration()
    theirs = surface_points(neutral, registration.triangle, registration.bary)
    return np.linalg.norm(ours[:, None] - theirs[None], axis=2).argmin(axis=1)


def row_mediapipe(gt: Aflw2000) -> NMEReport:
    """Row 4: MediaPipe's mesh on a square ROI of ``train.labels.teacher.ROI_SCALE`` (1.5) × the GT 68-point
    box's longer side (upright, centred on the box), one pass, mapped to 68 points by ``mediapipe_68``."""
    from train.labels.teacher import ROI_SCALE, MeshModel, Roi

    mesh = MeshModel()
    index = mediapipe_68()
    pred = np.empty_like(gt.pts68)
    for i, name in enumerate(gt.names):
        x0, y0, x1, y1 = gt_box(gt.pts68[i])
        roi = Roi(centre=((x0 + x1) / 2, (y0 + y1) / 2), side=ROI_SCALE * max(x1 - x0, y1 - y0), angle=0.0)
        points, _ = mesh.run(read_rgb(AFLW2000 / "images" / name), roi)
        pred[i] = points[index, :2]
    return nme_report(pred, gt.pts68, gt.yaw)


@dataclass(frozen=True)
class DenseReport:
    """3-D NME (%) on the dense test split: ``overall`` over all 520 points, ``regions`` per face
    region, ``nme68_2d`` the 68-point 2-D NME; ``per_image`` (N,) the 520-point values; ``count`` N."""

    overall: float
    regions: dict[str, float]
    nme68_2d: float
    per_image: np.ndarray
    count: int


def dense_nme(pred: np.ndarray, label: np.ndarray) -> np.ndarray:
    """(N, 520) per-point 3-D error in % of √(w·h) of the label's 68-point 2-D box, for predictions
    and labels (N, 520, 3) in the same pixels, each z relative to its own points' mean depth."""
    lo, hi = label[:, IBUG68, :2].min(1), label[:, IBUG68, :2].max(1)
    norm = np.sqrt(np.prod(hi - lo, axis=1))
    return 100.0 * np.linalg.norm(pred - label, axis=2) / norm[:, None]


def dense_report(predict: CropPredictor, images: np.ndarray, points: np.ndarray) -> DenseReport:
    """Row 5 for (N, 128, 128, 3) uint8 dataset crops and their (N, 520, 3) labels (128-crop pixels)."""
    label = points.astype(np.float64) - [MARGIN, MARGIN, 0.0]
    label[..., 2] -= label[..., 2].mean(axis=1, keepdims=True)
    pred = np.stack([predict(np.ascontiguousarray(img[MARGIN:MARGIN + MODEL_INPUT, MARGIN:MARGIN + MODEL_INPUT]))
                     for img in images]).astype(np.float64)
    pred[..., 2] -= pred[..., 2].mean(axis=1, keepdims=True)
    errors = dense_nme(pred, label)
    topology = load_topology()
    regions = {name: float(errors[:, topology.region(name)].mean()) for name in topology.region_names}
    return DenseReport(
        overall=float(errors.mean()), regions=regions,
        nme68_2d=float(nme_per_image(pred[:, IBUG68, :2], label[:, IBUG68, :2]).mean()),
        per_image=errors.mean(axis=1), count=len(images),
    )


def draw_ced(curves: dict[str, np.ndarray], out_png: Path) -> Path:
    """Cumulative error distribution: fraction of images with NME ≤ x, x in 0..10 %, one line per
    (name → (N,) per-image NME, NaN = missed, counted as failures)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    x = np.linspace(0.0, CED_MAX_NME, 201)
    fig, ax = plt.subplots(figsize=(6, 4.5))
    for name, per_image in curves.items():
        values = np.where(np.isfinite(per_image), per_image, np.inf)
        ax.plot(x, (values[None, :] <= x[:, None]).mean(axis=1), label=name)
    ax.set_xlabel("NME (%), 68 points, AFLW2000-3D")
    ax.set_ylabel("fraction of images")
    ax.set_xlim(0, CED_MAX_NME)
    ax.set_ylim(0, 1)
    ax.grid(alpha=0.3)
    ax.legend(loc="lower right")
    fig.tight_layout()
    out_png.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(out_png, dpi=110)
    plt.close(fig)
    return out_png


def _report_json(report: NMEReport) -> dict[str, object]:
    """The JSON-able numbers of a report (per-image values left out)."""
    return {"bins": list(report.bins), "balanced": report.balanced, "overall": report.overall,
            "counts": list(report.counts), "missed": report.missed, "failures": list(report.failures)}


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", type=Path, required=True, help="a DenseFace .tflite (float32 or int8)")
    parser.add_argument("--model2", type=Path, help="a second .tflite to score side by side (e.g. the int8 one)")
    parser.add_argument("--data", type=Path,
                        help="dataset directory: adds row 5, dense 3-D NME on its test split (split == 2)")
    parser.add_argument("--mediapipe", action="store_true", help="add row 4, the MediaPipe mesh baseline")
    parser.add_argument("--tddfa", action="store_true", help="add 3DDFA_V2 to row 1 (check: 3.79 balanced)")
    parser.add_argument("--limit", type=int, help="score only the first N AFLW2000-3D images (quick checks)")
    parser.add_argument("--mirror-average", action="store_true",
                        help="score the models with the SDK's mirror_average option (each crop and its mirror)")
    parser.add_argument("--json", type=Path, help="write every number to this JSON file")
    parser.add_argument("--ced", type=Path, help="write the CED plot (rows 1 and 4) to this PNG")
    args = parser.parse_args(argv)

    gt = load_aflw2000().head(args.limit)
    dev = load_aflw_dev()
    models = {path.stem: path for path in (args.model, args.model2) if path is not None}
    results: dict[str, dict[str, object]] = {}
    curves: dict[str, np.ndarray] = {}
    for name, path in models.items():
        predict = tflite_predictor(path, args.mirror_average)
        for row, report in (("1 standard crops", row_standard_crops(predict, gt)),
                            ("2 SDK crops", row_sdk_crops(predict, gt))):
            print(f"{row:18s} {name:28s} {report.row()}")
            results.setdefault(row, {})[name] = _report_json(report)
            if row.startswith("1"):
                curves[name] = report.per_image
        report = row_aflw_dev(predict, dev)
        print(f"{'6 aflw_dev (21)':18s} {name:28s} {report.row()}")
        results.setdefault("6 aflw_dev", {})[name] = _report_json(report)
    if args.tddfa:
        tddfa = tddfa_predictor()
        for row, report in (("1 standard crops", row_standard_crops(tddfa, gt, pixel_centres=False)),
                            ("6 aflw_dev", row_aflw_dev(tddfa, dev, pixel_centres=False))):
            print(f"{row:18s} {'3DDFA_V2 mb05':28s} {report.row()}")
            results[row]["3DDFA_V2 mb05"] = _report_json(report)
    if args.mediapipe:
        report = row_mediapipe(gt)
        print(f"{'4 GT-box ROI':18s} {'MediaPipe 468 → 68':28s} {report.row()}")
        results["4 MediaPipe"] = {"MediaPipe 468 → 68": _report_json(report)}
        curves["MediaPipe 468 → 68"] = report.per_image
    if args.data is not None:
        from train.learning.dataset import TEST_SPLIT, load_dataset

        test = load_dataset(args.data, TEST_SPLIT)
        for name, path in models.items():
            dense = dense_report(tflite_predictor(path, args.mirror_average), test.images, test.points)
            regions = ", ".join(f"{k} {v:.2f}" for k, v in dense.regions.items())
            print(f"{'5 dense test':18s} {name:28s} 520-pt 3-D {dense.overall:.2f} "
                  f"(68-pt 2-D {dense.nme68_2d:.2f}; {regions}; {dense.count} faces)")
            results.setdefault("5 dense test", {})[name] = {
                "overall_3d": dense.overall, "regions_3d": dense.regions, "nme68_2d": dense.nme68_2d,
                "count": dense.count}
    if args.json is not None:
        args.json.write_text(json.dumps(results, indent=2))
    if args.ced is not None:
        draw_ced(curves, args.ced)


if __name__ == "__main__":
    main()
