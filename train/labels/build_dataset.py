"""Build DenseFace's training set from LFW: teacher → ICT fit → face profiling → 128 px crops + 520×3 labels.

    python -m train.labels.build_dataset --out ~/.cache/denseface/dataset [--views 8] [--workers 2]

Stages (each resumable; rerun the same command after a kill and finished work is kept):
1. teacher: BlazeFace + MediaPipe's 468-point model on every LFW image (``train.labels.teacher``) →
   OUT/teacher.npz. Unreadable or corrupt images are skipped and counted there.
2. per source image, in shards of ``--shard-size`` sources written atomically to OUT/shards/:
   fit ICT to the 468 points (``train.labels.fit``) and reject bad fits (counted by reason); fit again with
   our 68 points also pulled to 3DDFA_V2's (``train.labels.fuse``: BFM-consistent jaw and brows) and reject
   that fit if it fails the same checks with the fused residual limit; then render
   ``--views`` views: view 0 is the photo itself with its fitted labels; the others rotate the fitted
   head to a new absolute pose (|yaw| stratified over 0–90° so the set's yaw histogram is flat, pitch
   up to ±40°, roll ±25°) and sometimes change its expression (both eyes closed, one eye closed, jaw
   open, smile), re-rendered from the photo's texture. ``--profiling face`` (the default, the shipped
   dataset) pastes the turned head over the photo with the head's footprint filled in
   (``train.labels.profiling``); ``--profiling whole`` turns the photo around the head with it, hair,
   ears and background included (``train.labels.whole_image``, 300W-LP style); a seed gives the same
   views and labels in both. The labels are the 520 topology points of the new mesh, so they are exact
   for the rendered image.
3. OUT/index.json: counts, rejections by reason, the yaw histogram, the profiling mode, the build time.

A reduced build that reuses another build's teacher stage (copy its teacher.npz into OUT first)::

    python -m train.labels.build_dataset --out ~/.cache/denseface/dataset_whole --profiling whole --limit 3800

The contact sheet of the two modes (docs/whole_image_profiling.jpg)::

    python -m train.labels.build_dataset --samples docs/whole_image_profiling.jpg

Each sample: a 128×128 uint8 RGB crop whose central 120×120 is 3DDFA's crop of the sample's 68 points
(their square box ×√2), and its 520 points in that crop's pixels (x right, y down, pixel centres at
integers; z towards the camera in the same scale, relative to the points' mean depth).
Shard arrays: images (n,128,128,3) uint8, points (n,520,3) float32, yaw/pitch/roll (n,) float32
degrees (``train.labels.fit`` conventions), split (n,) uint8 (0 train, 1 val, 2 test: by LFW identity,
so a person's photos are all in one split), source (n,) int32 row of OUT/sources.json, view (n,)
int16, flags (n,) uint8 (FLAG_* bits), residual (n,) float32 (the fit's residual_norm).
"""
from __future__ import annotations

import os

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")  # before numpy: one BLAS thread per worker process

import argparse
import json
import logging
import math
import time
import zlib
from collections import Counter
from dataclasses import dataclass
from functools import lru_cache
from multiprocessing import Pool
from pathlib import Path
from typing import TYPE_CHECKING, Callable

import cv2
import numpy as np

from denseface.crop import LANDMARK_BOX_SCALE, MODEL_INPUT, landmark_square, square_transform
from train.data import CACHE, LFW, require

if TYPE_CHECKING:
    from train.labels.fit import FitResult
    from train.labels.tddfa import TDDFA

CROP = 128  # stored crop side; its central MODEL_INPUT pixels are the model's framing
VIEWS = 9  # samples per source photo (view 0 = the photo itself): ~7,000 kept photos → ≥ 60,000 samples
MAX_YAW, MAX_PITCH, MAX_ROLL = 90.0, 40.0, 25.0  # degrees, absolute pose of rendered views
VAL_PERCENT, TEST_PERCENT = 4, 4  # identities (by crc32 of the LFW name) held out per split
# Profiling modes of the rendered views: "face" pastes the turned head over the photo with the head's
# footprint filled in (train.labels.profiling), "whole" turns the photo around the head with it, as
# 300W-LP was made (train.labels.whole_image).
PROFILING = ("face", "whole")
SHEET_YAWS = (30.0, 60.0, 80.0, 90.0)  # degrees, the columns of --samples' contact sheet

# Expression edits of rendered views: (flag bit, probability per view).
FLAG_EYES_CLOSED, FLAG_WINK, FLAG_JAW_OPEN, FLAG_SMILE = 1, 2, 4, 8
EXPRESSION_EDITS = ((FLAG_EYES_CLOSED, 0.18), (FLAG_WINK, 0.07), (FLAG_JAW_OPEN, 0.15), (FLAG_SMILE, 0.15))

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class View:
    """One rendered view: absolute pose (degrees, ``train.labels.fit`` conventions) and expression edit."""

    yaw: float
    pitch: float
    roll: float
    flags: int


YAW_SIGNS = ("random", "source")
SOURCE_SIDE_MIN_YAW = 5.0  # degrees: photos turned less than this count as frontal (their views keep a random sign)


def identity_split(name: str) -> int:
    """0 train, 1 val, 2 test for an LFW file name (``First_Last_0001.jpg`` → identity ``First_Last``)."""
    bucket = zlib.crc32(name.rsplit("_", 1)[0].encode()) % 100
    return 1 if bucket < VAL_PERCENT else 2 if bucket < VAL_PERCENT + TEST_PERCENT else 0


def plan_views(rng: np.random.Generator, count: int, fit_pose: tuple[float, float, float],
               yaw_sign: str = "random") -> list[View]:
    """View 0 keeps the photo's pose; views 1..count−1 draw |yaw| from successive equal slices of
    [0, MAX_YAW] (so every source covers the whole range), a sign, and pitch, roll, expression.

    ``yaw_sign`` (``YAW_SIGNS``): "random" (the shipped dataset), or "source": every view turns the
    way the photo already faces when the photo's |yaw| is at least ``SOURCE_SIDE_MIN_YAW`` (so a profile
    needs the smallest rotation and shows the side the photo shows most of), else a random sign. The
    random draws are the same in both, so the other view parameters do not change."""
    if yaw_sign not in YAW_SIGNS:
        raise ValueError(f"yaw_sign must be one of {YAW_SIGNS}, got {yaw_sign!r}")
    views = [View(*fit_pose, flags=0)]
    edges = np.linspace(0.0, MAX_YAW, count)
    source_side = yaw_sign == "source" and abs(fit_pose[0]) >= SOURCE_SIDE_MIN_YAW
    for k in range(count - 1):
        yaw = rng.uniform(edges[k], edges[k + 1]) * rng.choice([-1.0, 1.0])
        if source_side:
            yaw = math.copysign(yaw, fit_pose[0])
        pitch = rng.uniform(-MAX_PITCH, MAX_PITCH) if rng.random() < 0.3 else rng.normal(0.0, 12.0)
        roll = rng.uniform(-MAX_ROLL, MAX_ROLL)
        flags = 0
        for flag, p in EXPRESSION_EDITS:
            if rng.random() < p and not (flag == FLAG_WINK and flags & FLAG_EYES_CLOSED):
                flags |= flag
        views.append(View(float(yaw), float(np.clip(pitch, -MAX_PITCH, MAX_PITCH)), float(roll), flags))
    return views


def edited_beta(beta: np.ndarray, flags: int, rng: np.random.Generator) -> np.ndarray:
    """(57,) expression weights with the edits of ``flags`` applied (ICT blendshape names)."""
    from train.labels.ict import load_ict

    model, beta = load_ict(), beta.copy()
    if flags & FLAG_EYES_CLOSED:
        for name in ("eyeBlink_L", "eyeBlink_R"):
            beta[model.expression_index(name)] = rng.uniform(0.85, 1.0)
    if flags & FLAG_WINK:
        beta[model.expression_index(rng.choice(["eyeBlink_L", "eyeBlink_R"]))] = rng.uniform(0.85, 1.0)
    if flags & FLAG_JAW_OPEN:
        beta[model.expression_index("jawOpen")] += rng.uniform(0.15, 0.5)
    if flags & FLAG_SMILE:
        level = rng.uniform(0.3, 0.8)
        for name in ("mouthSmile_L", "mouthSmile_R"):
            beta[model.expression_index(name)] = level
    return np.clip(beta, 0.0, 1.0)


def sample_crop(points: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The stored crop of a view: (affine (2, 3) image → crop, points (520, 3) in crop pixels)."""
    center, side = landmark_square(points[:68, :2])
    transform = square_transform(center, side * LANDMARK_BOX_SCALE * CROP / MODEL_INPUT, CROP)
    crop_points = transform.to_crop(points)
    crop_points[:, 2] -= crop_points[:, 2].mean()
    return transform.matrix, crop_points


@lru_cache(maxsize=1)
def tddfa() -> "TDDFA":
    """One 3DDFA_V2 session per worker process."""
    from train.labels.tddfa import TDDFA

    return TDDFA(num_threads=1)


def profiler(mode: str) -> tuple[Callable, Callable]:
    """(prepare, render) of a profiling mode (``PROFILING``), called as prepare(image, verts, rng=rng)
    once per photo and render(prepared, verts_new, out_shape, affine) per view."""
    if mode == "face":
        from train.labels.profiling import prepare_source, render_prepared

        return prepare_source, render_prepared
    if mode == "whole":
        from train.labels.whole_image import prepare_whole, render_whole

        return prepare_whole, render_whole
    raise ValueError(f"unknown profiling mode {mode!r}; use one of {', '.join(PROFILING)}")


def fit_source(image: np.ndarray, points468: np.ndarray) -> tuple["FitResult", str | None]:
    """The fused ICT fit of one photo and why it is rejected (None: kept)."""
    from train.labels.fit import fit_face
    from train.labels.fuse import fused_fit, label_verdict

    first = fit_face(points468)
    fit, _ = fused_fit(image, points468, tddfa(), first=first)
    return fit, label_verdict(first, fit, points468)


def view_vertices(fit: "FitResult", view: View, rng: np.random.Generator) -> np.ndarray:
    """(11248, 3) float64 image-frame head of a rendered view: the fitted identity with ``view``'s
    expression edits, turned from the fitted pose to ``view``'s about the face centre."""
    from train.labels.ict import load_ict
    from train.labels.profiling import pose_change, rotate_head

    shape = load_ict().shape(fit.alpha, edited_beta(fit.beta, view.flags, rng))
    verts = fit.scale * (shape @ fit.rotation.T) * np.array([1.0, -1.0, 1.0]) + fit.translation
    return rotate_head(verts, pose_change(fit.rotation, view.yaw, view.pitch, view.roll))


def render_source(
    image: np.ndarray, points468: np.ndarray, views: int, seed: int, profiling: str = "face", yaw_sign: str = "random"
) -> tuple[list[dict], str | None]:
    """All samples of one photo, or ([], reason) when its fit is rejected; ``profiling`` is the mode
    of the rendered views (``PROFILING``): the same seed gives the same views and labels in each;
    ``yaw_sign`` as in :func:`plan_views`."""
    from train.labels.ict import topology_points

    fit, reason = fit_source(image, points468)
    if reason is not None:
        return [], reason
    rng = np.random.default_rng(seed)
    prepare, render = profiler(profiling)
    source = prepare(image, fit.vertices, rng=rng)
    samples = []
    for k, view in enumerate(plan_views(rng, views, (fit.yaw, fit.pitch, fit.roll), yaw_sign)):
        verts = fit.vertices.astype(np.float64) if k == 0 else view_vertices(fit, view, rng)
        affine, crop_points = sample_crop(topology_points(verts))
        crop = image_crop(image, affine) if k == 0 else render(source, verts, (CROP, CROP), affine)
        samples.append({"images": crop, "points": crop_points.astype(np.float32), "yaw": view.yaw,
                        "pitch": view.pitch, "roll": view.roll, "view": k, "flags": view.flags,
                        "residual": fit.residual_norm})
    return samples, None


def contact_sheet(
    path: Path, teacher: np.lib.npyio.NpzFile, photos: int, yaws: tuple[float, ...] = SHEET_YAWS
) -> None:
    """Write a JPEG comparing the profiling modes: per row one accepted LFW photo (spread over the
    teacher's list) as view 0, then its face-only and its whole-image renders at absolute ``yaws``
    (degrees; the photo's own pitch and roll, no expression edit), each a stored 128 px crop."""
    from train.labels.ict import topology_points

    names, found = teacher["names"], np.flatnonzero(teacher["found"])
    rows = []
    for r in found[np.linspace(0, len(found) - 1, 4 * photos).astype(int)]:
        image = cv2.cvtColor(cv2.imread(str(LFW / str(names[r])), cv2.IMREAD_COLOR), cv2.COLOR_BGR2RGB)
        fit, reason = fit_source(image, teacher["points468"][r])
        if reason is not None:
            continue
        rng = np.random.default_rng(0)  # unused without expression edits
        tiles = [image_crop(image, sample_crop(topology_points(fit.vertices))[0])]
        for mode in PROFILING:
            prepare, render = profiler(mode)
            source = prepare(image, fit.vertices)
            for yaw in yaws:
                verts = view_vertices(fit, View(yaw, fit.pitch, fit.roll, flags=0), rng)
                tiles.append(render(source, verts, (CROP, CROP), sample_crop(topology_points(verts))[0]))
        rows.append(np.concatenate(tiles, axis=1))
        if len(rows) == photos:
            break
    header = np.full((20, rows[0].shape[1], 3), 255, np.uint8)
    titles = ["photo"] + [f"{mode} {yaw:g}" for mode in PROFILING for yaw in yaws]
    for k, title in enumerate(titles):
        cv2.putText(header, title, (k * CROP + 4, 15), cv2.FONT_HERSHEY_SIMPLEX, 0.45, (0, 0, 0), 1, cv2.LINE_AA)
    sheet = np.concatenate([header] + rows, axis=0)
    cv2.imwrite(str(path), cv2.cvtColor(sheet, cv2.COLOR_RGB2BGR), [cv2.IMWRITE_JPEG_QUALITY, 80])


def image_crop(image: np.ndarray, affine: np.ndarray) -> np.ndarray:
    """The photo itself cropped (view 0), borders reflected like the rendered views' background."""
    return cv2.warpAffine(image, affine, (CROP, CROP), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REFLECT_101)


def build_shard(task: tuple[Path, list[int], list[str], np.ndarray, int, int, str, str]) -> dict:
    """Render the sources of one shard and write it atomically; returns its counts."""
    path, rows, names, points468, views, seed, profiling, yaw_sign = task
    cv2.setNumThreads(1)
    columns: dict[str, list] = {}
    counts: Counter = Counter()
    for row, name, pts in zip(rows, names, points468):
        image = cv2.imread(str(LFW / name), cv2.IMREAD_COLOR)
        if image is None:
            counts["unreadable"] += 1
            continue
        try:
            samples, reason = render_source(cv2.cvtColor(image, cv2.COLOR_BGR2RGB), pts, views, seed + row,
                                            profiling, yaw_sign)
        except (ValueError, np.linalg.LinAlgError) as err:  # a fit that fails numerically
            samples, reason = [], f"fit_error:{type(err).__name__}"
        if reason is not None:
            counts[reason] += 1
            continue
        counts["sources"] += 1
        for s in samples:
            s.update(source=row, split=identity_split(name))
            for key, value in s.items():
                columns.setdefault(key, []).append(value)
    arrays = {key: np.asarray(values) for key, values in columns.items()}
    if arrays:
        arrays = {**arrays, "yaw": arrays["yaw"].astype(np.float32), "pitch": arrays["pitch"].astype(np.float32),
                  "roll": arrays["roll"].astype(np.float32), "view": arrays["view"].astype(np.int16),
                  "flags": arrays["flags"].astype(np.uint8), "residual": arrays["residual"].astype(np.float32),
                  "source": arrays["source"].astype(np.int32), "split": arrays["split"].astype(np.uint8)}
    tmp = path.with_name(path.stem + ".tmp.npz")
    np.savez(tmp, counts=json.dumps(counts), **arrays)
    os.replace(tmp, path)
    return dict(counts)


def shard_counts(path: Path) -> dict:
    with np.load(path) as d:
        return json.loads(str(d["counts"]))


def summarise(out: Path, teacher: dict, counts: Counter, seconds: float, profiling: str, yaw_sign: str) -> dict:
    """OUT/index.json: what was built, from the shards on disk."""
    yaws, splits, flags = [], Counter(), Counter()
    for shard in sorted((out / "shards").glob("shard_*.npz")):
        with np.load(shard) as d:
            if "yaw" not in d:
                continue
            yaws.append(d["yaw"])
            splits.update(d["split"].tolist())
            for bit, name in ((FLAG_EYES_CLOSED, "eyes_closed"), (FLAG_WINK, "wink"),
                              (FLAG_JAW_OPEN, "jaw_open"), (FLAG_SMILE, "smile")):
                flags[name] += int((d["flags"] & bit).astype(bool).sum())
    yaw = np.abs(np.concatenate(yaws)) if yaws else np.zeros(0)
    hist, edges = np.histogram(yaw, bins=np.arange(0, 100, 10))
    index = {
        "samples": int(len(yaw)),
        "profiling": profiling,
        "yaw_sign": yaw_sign,
        "splits": {["train", "val", "test"][k]: int(v) for k, v in sorted(splits.items())},
        "teacher": teacher,
        "sources": dict(counts),
        "expression_edits": dict(flags),
        "abs_yaw_histogram": {f"{int(a)}-{int(b)}": int(h) for a, b, h in zip(edges[:-1], edges[1:], hist)},
        "build_seconds": round(seconds, 1),
    }
    (out / "index.json").write_text(json.dumps(index, indent=1))
    return index


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", type=Path, default=CACHE / "dataset", help="output folder (never inside the repo)")
    parser.add_argument("--views", type=int, default=VIEWS, help="samples per source photo, view 0 = the photo")
    parser.add_argument("--workers", type=int, default=2, help="processes (this machine has 2 cores)")
    parser.add_argument("--shard-size", type=int, default=100, help="source photos per shard file")
    parser.add_argument("--limit", type=int, default=None, help="only the first N LFW photos (for a quick try)")
    parser.add_argument("--seed", type=int, default=0, help="random seed; source i uses seed + i")
    parser.add_argument("--profiling", choices=PROFILING, default="face",
                        help="how views are rendered: face = the turned head over the photo with the head "
                             "filled in; whole = the whole photo turns with the head (300W-LP style)")
    parser.add_argument("--yaw-sign", choices=YAW_SIGNS, default="random",
                        help="which way rendered views turn: random, or source = the way the photo already "
                             f"faces (photos turned at least {SOURCE_SIDE_MIN_YAW:g}°)")
    parser.add_argument("--samples", type=Path, default=None,
                        help="only write a JPEG contact sheet comparing the profiling modes here (from "
                             "OUT/teacher.npz, made first if missing), then exit")
    parser.add_argument("--sample-photos", type=int, default=6, help="photos (rows) of the --samples sheet")
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s")
    start = time.perf_counter()

    from tqdm import tqdm

    from train.labels.teacher import run_directory

    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "shards").mkdir(exist_ok=True)
    teacher_path = args.out / "teacher.npz"
    if not teacher_path.exists():
        run_directory(require(LFW), teacher_path, args.limit, args.workers)
    teacher = np.load(teacher_path)
    if args.samples is not None:
        contact_sheet(args.samples, teacher, args.sample_photos)
        return
    names = [str(n) for n in teacher["names"]]
    found = np.flatnonzero(teacher["found"])
    if args.limit is not None:
        found = found[found < args.limit]
    (args.out / "sources.json").write_text(json.dumps(names))
    tasks = []
    for first in range(0, len(found), args.shard_size):
        rows = found[first : first + args.shard_size]
        path = args.out / "shards" / f"shard_{first // args.shard_size:05d}.npz"
        tasks.append((path, rows.tolist(), [names[r] for r in rows], teacher["points468"][rows],
                      args.views, args.seed, args.profiling, args.yaw_sign))
    todo = [t for t in tasks if not t[0].exists()]
    counts: Counter = Counter()
    for t in tasks:
        if t[0].exists():
            counts.update(shard_counts(t[0]))
    logger.info("%d shards, %d already built", len(tasks), len(tasks) - len(todo))
    with Pool(args.workers) as pool:
        for c in tqdm(pool.imap_unordered(build_shard, todo), total=len(todo), unit="shard"):
            counts.update(c)
    teacher_counts = {"images": len(names) + len(teacher["skipped"]), "faces_found": int(teacher["found"].sum()),
                      "no_face": int((~teacher["found"]).sum()), "unreadable": int(len(teacher["skipped"]))}
    index = summarise(args.out, teacher_counts, counts, time.perf_counter() - start, args.profiling,
                      args.yaw_sign)
    print(json.dumps(index, indent=1))


if __name__ == "__main__":
    main()
