"""Labels for real photos (CFP's frontals and profiles) from the 3DDFA_V2 teacher, and their quality.

    python -m train.labels.real_photos quality [--tta mirror_jitter]   # the label ceiling on aflw_dev
        [--student M.tflite]   # and teacher-student ensembles (a self-training round's labels)
    python -m train.labels.real_photos build --out ~/.cache/denseface/dataset_cfp [--reprofile 2] [--view profile]

Steps per photo (``label_photo``):
1. a first 3DDFA_V2 pass on the crop of a start box (CFP: the box of its 30 fiducials, by 3DDFA's box
   rule; aflw_dev: its 120-px crop, which is already 3DDFA's framing);
2. a second pass on 3DDFA's landmark crop of those 68 points (the framing its training crops had);
3. test-time averaging on that crop's framing: the crop and its mirror image (the 68 points renumbered
   by the topology's left/right flip), each at a few small shifts and scales (``TTA``), the 3-D points
   averaged in the frame (depth centred per pass);
4. the ICT model fitted to the averaged 68 3-D points as points of our topology's 68
   (``fit_face(surface=...)``): the 520 labels are that fitted surface's topology points.

The photo is first padded by reflection so that crops past its edges see image content, as the
training crops do (``build_dataset.image_crop``). 3DDFA_V2's crop coordinates (corner convention,
``train.evaluation.evaluate.crop_to_original``) are converted to our pixel-centre convention.

Quality (``quality``): the same steps on aflw_dev's crops, scored on AFLW's 21 visible points per |yaw|
bin — it chooses the labelling method; nothing is fitted to those labels. The CFP fiducials are
compared with the teacher where the two define the same point (nose tip, mouth corner, eye corners):
``fiducial_agreement``.

``build`` writes the labelled CFP photos as dataset shards (the format of ``build_dataset``: 128-px
crops, 520 points, yaw/pitch/roll, view 0 for the photo itself), one shard per 100 photos, atomically
and resumably; ``--reprofile N`` adds N re-posed renders per photo (``build_dataset``'s face
profiling): |yaw| turned 10–20° further out for profiles, evenly over 0–90° for frontals. Splits by
identity with LFW's rule on the person's name (people also in LFW fall on the same side), CFP's own
test people (451–500) in the test split.
"""
from __future__ import annotations

import os

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")  # before numpy: one BLAS thread per worker process

import argparse
import json
import logging
import time
from collections import Counter
from dataclasses import dataclass
from functools import lru_cache
from multiprocessing import Pool
from pathlib import Path

import cv2
import numpy as np
from tqdm import tqdm

from denseface.crop import LANDMARK_BOX_SCALE, MODEL_INPUT, CropTransform, landmark_square, square_transform
from denseface.topology import IBUG68, load_topology
from train.data import AFLW_DEV, CACHE, SHARED_DATA, require

CFP = SHARED_DATA / "cfp"
CFP_TEST_FIRST_ID = 451  # CFP's own test people: 451–500
# 3DDFA_V2's box crop rule (shared data README): side 1.58 × the box's mean side, centre moved down 0.14 ×.
BOX_SIDE, BOX_SHIFT_DOWN = 1.58, 0.14
PAD = 0.5  # reflection padding on each side, × the photo's longer side
# Test-time variants of the landmark crop: (x shift, y shift) × the crop side, side factor.
TTA = {
    "none": ((0.0, 0.0, 1.0),),
    "jitter": ((0.0, 0.0, 1.0), (0.04, 0.0, 1.0), (-0.04, 0.0, 1.0), (0.0, 0.04, 1.0), (0.0, -0.04, 1.0),
               (0.0, 0.0, 0.92), (0.0, 0.0, 1.08)),
}
# CFP fiducial → our iBUG 68 index for the points both define; the mouth corner and the eye corners are
# the visible side's, found as the nearer of the two candidates (``fiducial_agreement``).
FIDUCIAL_NOSE_TIP = (21, 30)
FIDUCIAL_MOUTH_CORNER = (25, (48, 54))
REPROFILE_TURN = (10.0, 20.0)  # degrees a re-posed profile turns further out
PROFILE_MIN_YAW = 45.0  # degrees: CFP's profiles are beyond this
# Teacher–fiducial distance (× the face size) above which a photo's label is distrusted: training
# leaves such photos out (``train.learning.training --real-max-disagreement``, the same default).
AGREEMENT_LIMIT = 0.08

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class PhotoLabel:
    """One photo's labels, in the (unpadded) photo's pixels (x right, y down; z towards the camera).

    teacher68: (68, 3) float64 3DDFA_V2's averaged points (depth centred). fit: the ICT fit to them
    (``train.labels.fit.FitResult``; its vertices are in the photo's frame). points: (520, 3) float64
    the fitted surface's topology points. reject: why the fit is not a usable label, or None.
    """

    teacher68: np.ndarray
    fit: object
    points: np.ndarray
    reject: str | None


def flip68() -> np.ndarray:
    """(68,) the left/right partner of each iBUG point (the topology's flip restricted to the 68)."""
    flip = load_topology().flip[IBUG68]
    if flip.max() >= len(IBUG68):
        raise ValueError("the topology's flip does not map the 68 points onto themselves")
    return flip


def box_crop(box: tuple[float, float, float, float]) -> CropTransform:
    """3DDFA_V2's crop of a face box (x0, y0, x1, y1), frame pixels."""
    x0, y0, x1, y1 = box
    mean_side = ((x1 - x0) + (y1 - y0)) / 2.0
    centre = ((x0 + x1) / 2.0, (y0 + y1) / 2.0 + BOX_SHIFT_DOWN * mean_side)
    return square_transform(centre, BOX_SIDE * mean_side, MODEL_INPUT)


def teacher_pass(image_rgb: np.ndarray, transform: CropTransform, tddfa, mirror: bool) -> np.ndarray:
    """(68, 3) float64 3DDFA_V2's points on one crop of ``image_rgb``, frame pixels, depth centred."""
    crop = transform.warp(image_rgb)
    if mirror:
        crop = crop[:, ::-1]
    points = tddfa.predict(np.ascontiguousarray(crop[:, :, ::-1])).astype(np.float64)
    # 3DDFA's crop frame has the crop's corner at 0 (frame = c · s + corner + ½ px): to pixel centres
    points[:, :2] += 0.5 * transform.scale - 0.5
    if mirror:
        points[:, 0] = (MODEL_INPUT - 1) - points[:, 0]
        points = points[flip68()]
    frame = transform.to_frame(points)
    frame[:, 2] -= frame[:, 2].mean()
    return frame


def averaged_teacher(image_rgb: np.ndarray, start: CropTransform, tddfa, tta: str) -> np.ndarray:
    """(68, 3) 3DDFA_V2's points averaged over the test-time variants ``TTA[tta]`` (× mirror unless
    ``tta`` is "none"), after the start pass and one landmark-crop pass."""
    first = teacher_pass(image_rgb, start, tddfa, mirror=False)
    second = teacher_pass(image_rgb, landmark_crop(first, (0.0, 0.0, 1.0)), tddfa, mirror=False)
    if tta == "none":
        return second
    variants = TTA["jitter"] if tta == "mirror_jitter" else TTA["none"]
    passes = [teacher_pass(image_rgb, landmark_crop(second, v), tddfa, mirror)
              for v in variants for mirror in (False, True)]
    return np.mean(passes, axis=0)


def landmark_crop(points68: np.ndarray, variant: tuple[float, float, float]) -> CropTransform:
    """3DDFA's landmark crop of ``points68`` moved by ``variant`` = (dx, dy, side factor)."""
    (cx, cy), side = landmark_square(points68[:, :2])
    side *= LANDMARK_BOX_SCALE
    dx, dy, factor = variant
    return square_transform((cx + dx * side, cy + dy * side), side * factor, MODEL_INPUT)


@lru_cache(maxsize=1)
def _teacher_surface():
    """Our topology's 68 points on the ICT surface (``train.labels.fit.Registration``)."""
    from train.labels.fit import Registration

    topo = load_topology()
    return Registration(triangle=topo.ict_triangle[IBUG68], bary=topo.bary[IBUG68])


def fit_teacher68(teacher68: np.ndarray) -> tuple[object, str | None]:
    """The ICT model fitted to 3DDFA_V2's (68, 3) points as points of our topology's 68
    (``fit_face(surface=...)``) and why that fit is not a usable label (``reject_reason``), or None.
    Raises ValueError / LinAlgError as ``fit_face``."""
    from train.labels.fit import fit_face, reject_reason

    surface = _teacher_surface()
    fit = fit_face(teacher68, surface=surface)
    return fit, reject_reason(fit, teacher68, surface=surface)


def label_photo(image_rgb: np.ndarray, start_box: tuple[float, float, float, float] | None, tddfa,
                tta: str = "mirror_jitter") -> PhotoLabel:
    """The labels of one photo. image_rgb: (H, W, 3) uint8. start_box: the face box (x0, y0, x1, y1)
    in its pixels, or None when the photo is itself 3DDFA's crop of the face (aflw_dev). tta: "none",
    "mirror" or "mirror_jitter"."""
    from train.labels.ict import topology_points

    h, w = image_rgb.shape[:2]
    pad = int(round(PAD * max(h, w)))
    padded = cv2.copyMakeBorder(image_rgb, pad, pad, pad, pad, cv2.BORDER_REFLECT_101)
    if start_box is None:
        start = square_transform((pad + (w - 1) / 2.0, pad + (h - 1) / 2.0), float(max(h, w)), MODEL_INPUT)
    else:
        start = box_crop(tuple(np.asarray(start_box, np.float64) + pad))
    teacher68 = averaged_teacher(padded, start, tddfa, tta) - [pad, pad, 0.0]
    fit, reason = fit_teacher68(teacher68)
    return PhotoLabel(teacher68=teacher68, fit=fit, points=topology_points(fit.vertices), reject=reason)


def fiducial_agreement(pts30: np.ndarray, points68: np.ndarray) -> dict[str, float]:
    """Distances between CFP fiducials and the teacher's points that mean the same place, divided by
    √(w·h) of the teacher's 68-point box: "nose_tip" and "mouth_corner" (the nearer corner)."""
    lo, hi = points68[:, :2].min(0), points68[:, :2].max(0)
    norm = float(np.sqrt(np.prod(hi - lo)))
    nose = np.linalg.norm(pts30[FIDUCIAL_NOSE_TIP[0]] - points68[FIDUCIAL_NOSE_TIP[1], :2])
    fid, corners = FIDUCIAL_MOUTH_CORNER
    mouth = min(np.linalg.norm(pts30[fid] - points68[c, :2]) for c in corners)
    return {"nose_tip": float(nose / norm), "mouth_corner": float(mouth / norm)}


# ---------------------------------------------------------------------------------------------------
# Label quality on aflw_dev
# ---------------------------------------------------------------------------------------------------


def _dev_labels(task: tuple[list[str], str]) -> np.ndarray:
    """(N, 2, 68, 2): per aflw_dev crop, the teacher's averaged 68 (x, y) and the fitted label's 68."""
    from train.labels.tddfa import TDDFA

    names, tta = task
    cv2.setNumThreads(1)
    tddfa = TDDFA(num_threads=1)
    out = np.full((len(names), 2, 68, 2), np.nan)
    for i, name in enumerate(names):
        image = cv2.cvtColor(cv2.imread(str(AFLW_DEV / "crops" / name)), cv2.COLOR_BGR2RGB)
        try:
            label = label_photo(image, None, tddfa, tta)
        except (ValueError, np.linalg.LinAlgError):
            continue
        out[i, 0] = label.teacher68[:, :2]
        out[i, 1] = label.points[IBUG68, :2]
    return out


def quality(tta: str, workers: int, limit: int | None, student: Path | None = None,
            student_weights: tuple[float, ...] = ()) -> dict:
    """The label ceiling on aflw_dev: the teacher's averaged points and the fitted labels, AFLW's 21
    visible points / (roi side / √2), by |yaw| bin (``train.evaluation.metrics``). With ``student`` (a
    DenseFace .tflite) also the teacher–student ensembles a self-training round would label with: its
    mirror-averaged 68 points on each crop mixed in with each of ``student_weights`` (0 = the teacher
    alone, 1 = the student alone)."""
    from train.evaluation.evaluate import crop_to_original, load_aflw_dev, read_rgb, tflite_predictor
    from train.evaluation.metrics import aflw21, binned_report, nme21_per_image

    dev = load_aflw_dev()
    names = list(dev.names[:limit])
    chunks = [(names[i:i + 50], tta) for i in range(0, len(names), 50)]
    with Pool(workers) as pool:
        parts = list(tqdm(pool.imap(_dev_labels, chunks), total=len(chunks), desc=f"aflw_dev {tta}"))
    both = np.concatenate(parts)
    labels = {"teacher": both[:, 0], "fitted_label": both[:, 1]}
    if student is not None:
        predict = tflite_predictor(student, mirror_average=True)
        points = np.stack([predict(read_rgb(AFLW_DEV / "crops" / name))[IBUG68, :2] for name in names])
        for weight in student_weights:
            labels[f"ensemble_student_{weight:g}"] = (1.0 - weight) * labels["teacher"] + weight * points
    n = len(names)
    side = dev.roi_box[:n, 2] - dev.roi_box[:n, 0]
    result = {}
    for kind, points68 in labels.items():
        # the crop is the frame here: points are crop pixels in the pixel-centre convention
        pred = np.stack([aflw21(crop_to_original(p, dev.roi_box[i])) for i, p in enumerate(points68)])
        report = binned_report(nme21_per_image(pred, dev.pts21[:n], dev.visible[:n], side), dev.yaw[:n])
        print(f"{kind:24s} {tta:14s} {report.row()}")
        result[kind] = {"bins": report.bins, "balanced": report.balanced, "failures": report.failures,
                        "counts": report.counts, "missed": report.missed}
    return result


# ---------------------------------------------------------------------------------------------------
# The CFP dataset
# ---------------------------------------------------------------------------------------------------


def person_split(person: str, identity: int) -> int:
    """0 train, 1 val, 2 test: CFP's test people in test, the others by LFW's identity rule on the name."""
    from train.labels.build_dataset import identity_split

    if identity >= CFP_TEST_FIRST_ID:
        return 2
    return identity_split(person.replace(" ", "_") + "_0001.jpg")


def reprofile_views(rng: np.random.Generator, count: int, pose: tuple[float, float, float]) -> list:
    """``count`` re-posed views of a photo at ``pose`` (yaw, pitch, roll degrees): a profile turns
    10–20° further out (capped at 90°), a frontal as ``build_dataset.plan_views`` turns LFW photos."""
    from train.labels.build_dataset import MAX_YAW, View, plan_views

    yaw, pitch, roll = pose
    if abs(yaw) < PROFILE_MIN_YAW:
        return plan_views(rng, count + 1, pose)[1:]
    sign = 1.0 if yaw >= 0 else -1.0
    return [View(sign * min(abs(yaw) + rng.uniform(*REPROFILE_TURN), MAX_YAW), pitch, roll, 0)
            for _ in range(count)]


def _cfp_shard(task: tuple[Path, list[int], int, int]) -> dict:
    """Label the photos ``rows`` of CFP and write one shard atomically; returns its counts."""
    from train.labels.build_dataset import image_crop, profiler, sample_crop, view_vertices
    from train.labels.ict import topology_points
    from train.labels.tddfa import TDDFA

    path, rows, reprofile, seed = task
    cv2.setNumThreads(1)
    fid = np.load(CFP / "fiducials.npz")
    people = (CFP / "people.txt").read_text().splitlines()
    tddfa = TDDFA(num_threads=1)
    prepare, render = profiler("face")
    columns: dict[str, list] = {}
    counts: Counter = Counter()
    for row in rows:
        bgr = cv2.imread(str(CFP / "images" / f"{fid['names'][row]}.jpg"), cv2.IMREAD_COLOR)
        if bgr is None:
            counts["unreadable"] += 1
            continue
        image = cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB)
        pts30 = fid["pts30"][row].astype(np.float64)
        box = (*pts30.min(0), *pts30.max(0))
        try:
            label = label_photo(image, box, tddfa)
        except (ValueError, np.linalg.LinAlgError) as err:
            counts[f"fit_error:{type(err).__name__}"] += 1
            continue
        if label.reject is not None:
            counts[label.reject] += 1
            continue
        counts["photos"] += 1
        agreement = fiducial_agreement(pts30, label.teacher68)
        identity = int(fid["identity"][row])
        split = person_split(people[identity - 1], identity)
        fit = label.fit
        rng = np.random.default_rng(seed + row)
        views = [None] + (reprofile_views(rng, reprofile, (fit.yaw, fit.pitch, fit.roll)) if reprofile else [])
        source = prepare(image, fit.vertices, rng=rng) if reprofile else None
        for k, view in enumerate(views):
            verts = fit.vertices.astype(np.float64) if view is None else view_vertices(fit, view, rng)
            affine, crop_points = sample_crop(topology_points(verts))
            crop = image_crop(image, affine) if view is None else render(source, verts, (128, 128), affine)
            pose = (fit.yaw, fit.pitch, fit.roll) if view is None else (view.yaw, view.pitch, view.roll)
            sample = {"images": crop, "points": crop_points.astype(np.float32), "yaw": pose[0], "pitch": pose[1],
                      "roll": pose[2], "view": k, "flags": 0, "residual": fit.residual_norm, "source": row,
                      "split": split, "profile": fid["view"][row] == "profile",
                      "nose_tip": agreement["nose_tip"], "mouth_corner": agreement["mouth_corner"]}
            for key, value in sample.items():
                columns.setdefault(key, []).append(value)
    arrays = {key: np.asarray(values) for key, values in columns.items()}
    if arrays:
        types = {"yaw": np.float32, "pitch": np.float32, "roll": np.float32, "view": np.int16, "flags": np.uint8,
                 "residual": np.float32, "source": np.int32, "split": np.uint8, "nose_tip": np.float32,
                 "mouth_corner": np.float32}
        arrays.update({key: arrays[key].astype(t) for key, t in types.items()})
    tmp = path.with_name(path.stem + ".tmp.npz")
    np.savez(tmp, counts=json.dumps(counts), **arrays)
    os.replace(tmp, path)
    return dict(counts)


def agreement_summary(photos: dict[str, np.ndarray]) -> dict:
    """Per CFP view (frontal / profile) of the labelled photos: count, the fitted |yaw| quartiles, and
    the teacher–fiducial distances (``fiducial_agreement``) as median, 90th percentile and the count
    above ``AGREEMENT_LIMIT``."""
    summary = {}
    for view, rows in (("frontal", ~photos["profile"]), ("profile", photos["profile"])):
        if not rows.any():  # a build of one view (--view)
            continue
        entry = {"photos": int(rows.sum()),
                 "abs_yaw_quartiles": np.percentile(np.abs(photos["yaw"][rows]), [25, 50, 75]).round(1).tolist()}
        for key in ("nose_tip", "mouth_corner"):
            values = photos[key][rows]
            entry[key] = {"median": round(float(np.median(values)), 4), "p90": round(float(np.percentile(values, 90)), 4),
                          f"over_{AGREEMENT_LIMIT}": int((values > AGREEMENT_LIMIT).sum())}
        summary[view] = entry
    return summary


def build(out: Path, workers: int, reprofile: int, limit: int | None, seed: int, view: str | None = None) -> dict:
    """Label the CFP photos (of one ``view``, 'frontal' or 'profile', when given) into ``out/shards``
    (resumable: finished shards are kept; shard k holds the labelled photos among CFP rows 100k…100k+99)."""
    fid = np.load(require(CFP / "fiducials.npz"))
    n = len(fid["names"]) if limit is None else min(limit, len(fid["names"]))
    (out / "shards").mkdir(parents=True, exist_ok=True)
    tasks = []
    for start in range(0, n, 100):
        path = out / "shards" / f"shard_{start // 100:05d}.npz"
        rows = [row for row in range(start, min(start + 100, n)) if view is None or fid["view"][row] == view]
        if rows and not path.exists():
            tasks.append((path, rows, reprofile, seed))
    begin = time.time()
    with Pool(workers) as pool:
        for _ in tqdm(pool.imap_unordered(_cfp_shard, tasks), total=len(tasks), desc="cfp shards"):
            pass
    counts: Counter = Counter()
    columns: dict[str, list[np.ndarray]] = {"profile": [], "nose_tip": [], "mouth_corner": [], "yaw": []}
    for path in sorted((out / "shards").glob("shard_*.npz")):
        with np.load(path) as shard:
            counts.update(json.loads(str(shard["counts"])))
            if "view" in shard.files:
                photo = shard["view"] == 0
                for key in columns:
                    columns[key].append(shard[key][photo])
    photos = {key: np.concatenate(values) for key, values in columns.items()}
    index = {"photos": n, "view": view or "all", "counts": dict(counts), "reprofile": reprofile, "seed": seed,
             "seconds_this_call": round(time.time() - begin, 1), "agreement": agreement_summary(photos)}
    (out / "index.json").write_text(json.dumps(index, indent=2))
    return index


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True)
    q = sub.add_parser("quality", help="score the labelling on aflw_dev (the label ceiling), by |yaw| bin")
    q.add_argument("--tta", nargs="+", default=["none", "mirror", "mirror_jitter"],
                   choices=["none", "mirror", "mirror_jitter"], help="test-time averaging variants to score")
    q.add_argument("--limit", type=int, default=None, help="only the first N aflw_dev crops")
    q.add_argument("--json", type=Path, default=None, help="write the results here")
    q.add_argument("--student", type=Path, default=None,
                   help="a DenseFace .tflite: also score teacher-student ensembles (self-training's labels)")
    q.add_argument("--student-weights", type=float, nargs="+", default=[0.25, 0.5, 1.0],
                   help="the student's share in each ensemble scored with --student")
    b = sub.add_parser("build", help="label CFP into dataset shards")
    b.add_argument("--out", type=Path, default=CACHE / "dataset_cfp", help="output folder (never in the repo)")
    b.add_argument("--reprofile", type=int, default=0, help="re-posed renders per photo besides the photo")
    b.add_argument("--limit", type=int, default=None, help="only the first N CFP photos")
    b.add_argument("--seed", type=int, default=0, help="random seed of the re-posed views (photo i: seed + i)")
    b.add_argument("--view", choices=["frontal", "profile"], default=None,
                   help="label only CFP's photos of this view (profiles: 2,000 of 7,000, ~2/7 of the time)")
    for p in (q, b):
        p.add_argument("--workers", type=int, default=2, help="processes")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO)
    if args.command == "quality":
        results = {tta: quality(tta, args.workers, args.limit, args.student, tuple(args.student_weights))
                   for tta in args.tta}
        if args.json is not None:
            args.json.write_text(json.dumps(results, indent=2))
    else:
        print(json.dumps(build(args.out, args.workers, args.reprofile, args.limit, args.seed, args.view), indent=2))


if __name__ == "__main__":
    main()
