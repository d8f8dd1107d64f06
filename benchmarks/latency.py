"""Latency of DenseFace against the MediaPipe 468-point face mesh, on the same frames, in one run.

    python -m benchmarks.latency [--model M.tflite] [--frames 1000] [--threads 1 2 4] [--out DIR]
        [--facemesh-python /tmp/mpvenv/bin/python]

Runs (``--runs``): ``image:aflw`` (image mode on AFLW2000-3D originals as 640×480 frames, only those
in which BlazeFace finds a face), ``image:moving`` and ``video:moving`` (the synthetic moving-face
sequence, ``benchmarks.frames``) and ``video:moving:fresh`` (the same with ``redetect_interval=1``:
the detector on every frame, so every ``Face.score`` is that frame's); each at every ``--threads``
count, after ``--warmup`` untimed frames. Pipelines:

* ``denseface``: ``DenseFace.landmarks`` (image) or ``landmarks_for_video`` (video: tracking,
  One-Euro smoothing, re-detection every ``redetect_interval`` frames: the SDK's defaults, but every
  frame in ``video:moving:fresh``);
* ``mediapipe-468``: BlazeFace + MediaPipe's face_landmark.tflite, run by LiteRT with the same
  thread count (``benchmarks.mediapipe_pipeline``; video = MediaPipe's tracking on the previous ROI);
* ``facemesh-py``: MediaPipe 0.10.14's own Python FaceMesh, timed in another environment
  (``benchmarks.facemesh_worker``) on the same frames, when ``--facemesh-python`` is available.
  Its thread count is MediaPipe's own.

Per pipeline and run, two passes over the same frames: (1) end to end, the two LiteRT pipelines
interleaved frame by frame (alternating which goes first) so that background load hits both alike;
(2) per stage: the same public calls with a ``denseface.timing.StageTimes`` passed as their ``timer``
(the SDK's stage-timing hook: detect, crop, infer, decode, smooth; MediaPipe's pipeline takes the same
timer; "other" = the rest of the call: frame checks, tracking bookkeeping, the 68-point box) and,
apart, "pose on access": reading ``Face.pose`` after the call, in the same timer (the head pose is
fitted on first access, so it is not part of the end-to-end time; MediaPipe's pipeline has no such
stage). A stage's percentiles are over the frames in which it ran (video: the detector runs
on few frames). ``model alone``: ``interpreter.invoke()`` on a fixed input, like LiteRT's
benchmark_model, for ``--model``, both bundled landmark models (full, lite), MediaPipe's landmark
model and BlazeFace, each with its MACs (``train.evaluation.macs``) so that a time can be scaled to
another device; ``--variants 0.75@96 ...`` adds the landmark architecture (``train.learning.model``) at other
width multipliers α and input sizes, int8 with random weights (needs TensorFlow; what a smaller model
would cost, timed in the same run as the shipped one). Times are wall-clock (``time.perf_counter_ns``
end to end, ``time.perf_counter`` per stage), milliseconds.

Writes OUT/latency.json and OUT/latency.png; prints the tables, our/their p50 ratios (and, with both
video runs, the fresh-score run's p50 against the default's) and the targets.
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Iterator

import numpy as np

from benchmarks.common import (DEFAULT_OUT, ISA_FEATURES, float_model_beside, format_table, is_emulated,
                               load_warning, machine_info, model_argument, percentiles, pyplot, save_png,
                               write_json)
from benchmarks.frames import aflw_frame, aflw_paths, moving_face_frames
from denseface.timing import STAGES, StageTimes

POSE_STAGE = "pose on access"  # timed apart, after the call: not part of the end-to-end time
OUR_STAGES = STAGES + (POSE_STAGE,)
THEIR_STAGES = ("detect", "crop", "infer", "decode")
RUNS = ("image:aflw", "image:moving", "video:moving", "video:moving:fresh")
DEFAULT_FACEMESH_PYTHON = Path("/tmp/mpvenv/bin/python")
# Targets of the issues (ratios in one run on one machine, 1 thread; model alone also absolute, int8).
TARGET_RATIO_IMAGE = 0.7
TARGET_RATIO_VIDEO = 0.7
TARGET_RATIO_MODEL = 0.7  # --model alone / MediaPipe's face_landmark alone (issue 14: the lite model)
TARGET_MODEL_MS = 0.55


# --- frames ----------------------------------------------------------------------------------

def select_aflw(count: int, threads: int = 1) -> tuple[list[Path], int]:
    """The first ``count`` AFLW2000-3D originals in which BlazeFace (short, 0.5) finds a face as a
    640×480 frame (cycled when fewer exist); returns them and how many were checked."""
    from denseface.detect import DetectorOptions, FaceDetector

    detector = FaceDetector(DetectorOptions(num_threads=threads, max_faces=1))
    chosen, checked = [], 0
    for path in aflw_paths():
        if len(chosen) >= count:
            break
        checked += 1
        if detector.detect(aflw_frame(path)):
            chosen.append(path)
    if not chosen:
        raise RuntimeError("BlazeFace found no face in any AFLW2000-3D original")
    return chosen, checked


def run_frames(source: str, count: int, paths: list[Path]) -> Iterator[tuple[np.ndarray, float]]:
    """(frame, timestamp_ms) pairs of a run's source (AFLW frames get 30 fps timestamps too)."""
    if source == "moving":
        yield from moving_face_frames(count)
    else:
        for i in range(count):
            yield aflw_frame(paths[i % len(paths)]), i * 1000.0 / 30.0


# --- one run ---------------------------------------------------------------------------------

@dataclass
class Pipelines:
    """The two LiteRT pipelines of one run, created for one thread count and mode."""

    ours: object
    theirs: object
    mode: str

    def call(self, which: str, frame: np.ndarray, timestamp_ms: float, timer: StageTimes | None = None) -> list:
        """Run one pipeline on one frame, its stages timed into ``timer`` when given; returns its faces."""
        pipeline = self.ours if which == "denseface" else self.theirs
        if self.mode == "video":
            return pipeline.landmarks_for_video(frame, timestamp_ms, timer=timer)
        return pipeline.landmarks(frame, timer=timer)

    def reset(self) -> None:
        if self.mode == "video":
            self.ours.reset()
            self.theirs.reset()


def make_pipelines(model: Path, threads: int, mode: str, fresh_score: bool = False) -> Pipelines:
    """The pipelines of one run; ``fresh_score``: ours with ``redetect_interval=1`` (else the SDK's default)."""
    from benchmarks.mediapipe_pipeline import MediaPipeMesh468
    from denseface import DenseFace
    from denseface.api import RunningMode

    running_mode = RunningMode.VIDEO if mode == "video" else RunningMode.IMAGE
    options = {"redetect_interval": 1} if fresh_score else {}
    ours = DenseFace(model_path=model, num_threads=threads, running_mode=running_mode, **options)
    return Pipelines(ours=ours, theirs=MediaPipeMesh468(num_threads=threads), mode=mode)


def end_to_end(pipes: Pipelines, frames: Callable[[], Iterator], warmup: int) -> dict[str, dict]:
    """Pass 1: both pipelines on every frame, interleaved, alternating which goes first."""
    order = ("denseface", "mediapipe-468")
    ms: dict[str, list[float]] = {name: [] for name in order}
    faces: dict[str, list[int]] = {name: [] for name in order}
    pipes.reset()
    for i, (frame, timestamp) in enumerate(frames()):
        for name in (order if i % 2 == 0 else order[::-1]):
            start = time.perf_counter_ns()
            found = len(pipes.call(name, frame, timestamp))
            elapsed = (time.perf_counter_ns() - start) / 1e6
            if i >= warmup:
                ms[name].append(elapsed)
                faces[name].append(found)
    return {name: {"end_to_end": percentiles(ms[name]), "frames_with_face": float(np.mean(np.asarray(faces[name]) > 0))}
            for name in order}


def by_stage(pipes: Pipelines, frames: Callable[[], Iterator], warmup: int) -> dict[str, dict]:
    """Pass 2: each pipeline alone over the frames with its stages timed by the ``timer`` hook."""
    results = {}
    for name, stages in (("denseface", OUR_STAGES), ("mediapipe-468", THEIR_STAGES)):
        timer = StageTimes()
        per_stage: dict[str, list[float]] = {s: [] for s in stages + ("other",)}
        sums: dict[str, float] = {s: 0.0 for s in stages + ("other",)}
        timed = 0
        pipes.reset()
        for i, (frame, timestamp) in enumerate(frames()):
            start = time.perf_counter_ns()
            faces = pipes.call(name, frame, timestamp, timer)
            total = (time.perf_counter_ns() - start) / 1e6
            spent = timer.take()
            if name == "denseface" and faces:  # the head pose, fitted when asked: timed apart
                with timer.stage(POSE_STAGE):
                    _ = [face.pose for face in faces]
                spent.update(timer.take())
            if i < warmup:
                continue
            timed += 1
            spent["other"] = max(0.0, total - sum(v for k, v in spent.items() if k != POSE_STAGE))
            for stage, value in spent.items():
                if stage in per_stage:
                    per_stage[stage].append(value)
                    sums[stage] += value
        results[name] = {stage: {**percentiles(values), "mean_per_frame": sums[stage] / max(timed, 1),
                                 "frames_run": len(values)}
                         for stage, values in per_stage.items()}
    return results


def facemesh(python: Path | None, mode: str, source: str, count: int, warmup: int, paths: list[Path]) -> dict:
    """MediaPipe's Python FaceMesh on the same frames, in its own interpreter; {"error": why} if not run."""
    if python is None:
        return {"error": "not requested (--facemesh-python none)"}
    if not Path(python).is_file():
        return {"error": f"no interpreter at {python}: python3 -m venv /tmp/mpvenv && "
                         "/tmp/mpvenv/bin/pip install mediapipe==0.10.14"}
    repo = Path(__file__).resolve().parents[1]
    with tempfile.TemporaryDirectory(prefix="denseface-facemesh-") as tmp:
        out, listing = Path(tmp) / "result.json", Path(tmp) / "paths.txt"
        listing.write_text("\n".join(str(p) for p in paths))
        command = [str(python), "-m", "benchmarks.facemesh_worker", "--mode", mode, "--source", source,
                   "--frames", str(count), "--warmup", str(warmup), "--paths", str(listing), "--out", str(out)]
        env = {**os.environ, "PYTHONPATH": str(repo)}
        run = subprocess.run(command, capture_output=True, text=True, env=env, check=False)
        if run.returncode != 0 or not out.is_file():
            tail = " | ".join(run.stderr.strip().splitlines()[-3:])
            return {"error": f"FaceMesh worker failed (exit {run.returncode}): {tail}"}
        data = json.loads(out.read_text())
    return {"mediapipe": data["mediapipe"], "threads": data["threads"], "end_to_end": percentiles(data["ms"]),
            "frames_with_face": float(np.mean(np.asarray(data["faces"]) > 0))}


def model_alone(paths: dict[str, Path], threads: int, count: int, warmup: int) -> dict[str, dict]:
    """``interpreter.invoke()`` only, on a fixed random input, per model: percentiles and ``macs``."""
    from denseface.infer import load_interpreter
    from train.evaluation.macs import count_macs

    results = {}
    rng = np.random.default_rng(0)
    for name, path in paths.items():
        interpreter = load_interpreter(path, threads)
        detail = interpreter.get_input_details()[0]
        dtype = np.dtype(detail["dtype"])
        if np.issubdtype(dtype, np.integer):
            info = np.iinfo(dtype)
            x = rng.integers(info.min, info.max + 1, detail["shape"]).astype(dtype)
        else:
            x = rng.uniform(0, 1, detail["shape"]).astype(dtype)
        interpreter.set_tensor(detail["index"], x)
        samples = []
        for i in range(warmup + count):
            start = time.perf_counter_ns()
            interpreter.invoke()
            if i >= warmup:
                samples.append((time.perf_counter_ns() - start) / 1e6)
        results[name] = {**percentiles(samples), "macs": count_macs(path).macs}
    return results


def variant(spec: str) -> tuple[float, int]:
    """(width multiplier, input size) of an "ALPHA@SIZE" command-line value such as "0.75@96"."""
    try:
        alpha, size = spec.split("@")
        return float(alpha), int(size)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected ALPHA@SIZE such as 0.75@96, got {spec!r}") from None


def export_variants(specs: list[tuple[float, int]], folder: Path) -> dict[str, Path]:
    """Random-weight int8 .tflite of the landmark architecture for each (width multiplier, input size),
    exported like the shipped model (``train.learning.export.convert_int8``, calibrated on random crops): timing
    only. Needs TensorFlow only when ``specs`` is not empty."""
    if not specs:
        return {}
    from train.learning.export import convert_int8
    from train.learning.model import build_model

    rng = np.random.default_rng(0)
    paths = {}
    for alpha, size in specs:
        model = build_model(input_size=size, alpha=alpha)
        dense = model.get_layer("points")
        kernel, bias = dense.get_weights()
        dense.set_weights([rng.normal(0.0, 0.01, kernel.shape).astype(np.float32), bias])  # not all zero
        name = f"architecture α{alpha:g} @{size} (random int8)"
        paths[name] = folder / f"variant_{alpha:g}_{size}.tflite"
        paths[name].write_bytes(convert_int8(model, rng.integers(0, 256, (16, size, size, 3), np.uint8)))
    return paths


# --- output ----------------------------------------------------------------------------------

def draw(results: dict, out_png: Path) -> Path:
    """Left: end-to-end p50 (bars) and p95 (whiskers) per run, thread count and pipeline. Right: mean
    time per stage (stacked), 1st thread count, per run and pipeline."""
    plt = pyplot()
    runs = results["runs"]
    pipelines = ("denseface", "mediapipe-468", "facemesh-py")
    colours = {"denseface": "tab:blue", "mediapipe-468": "tab:orange", "facemesh-py": "tab:gray"}
    fig, (left, right) = plt.subplots(1, 2, figsize=(max(14.0, 6.0 + 1.4 * len(runs)), 5.5))
    labels = [f"{r['run']}\n{r['threads']} thr" for r in runs]
    x = np.arange(len(runs))
    width = 0.27
    for k, name in enumerate(pipelines):
        p50 = [r["pipelines"].get(name, {}).get("end_to_end", {}).get("p50", np.nan) for r in runs]
        p95 = [r["pipelines"].get(name, {}).get("end_to_end", {}).get("p95", np.nan) for r in runs]
        err = np.clip(np.asarray(p95) - np.asarray(p50), 0, None)
        left.bar(x + (k - 1) * width, p50, width, yerr=[np.zeros_like(err), err], capsize=2, label=name,
                 color=colours[name])
    left.set_xticks(x, labels, fontsize=7)
    left.set_ylabel("ms per frame (bar p50, whisker p95)")
    left.set_title("end to end")
    left.legend(fontsize=8)
    first = [r for r in runs if r["threads"] == runs[0]["threads"]]
    stages = ("detect", "crop", "infer", "decode", "smooth", "other")  # the parts of the end-to-end time
    cmap = plt.get_cmap("tab10")
    bars, names = [], []
    for r in first:
        for name in ("denseface", "mediapipe-468"):
            bars.append(r["pipelines"][name].get("stages", {}))
            names.append(f"{r['run']}\n{'ours' if name == 'denseface' else 'MP-468'}")
    bottom = np.zeros(len(bars))
    for s, stage in enumerate(stages):
        values = np.array([b.get(stage, {}).get("mean_per_frame", 0.0) for b in bars])
        right.bar(np.arange(len(bars)), values, 0.6, bottom=bottom, label=stage, color=cmap(s))
        bottom += values
    right.set_xticks(np.arange(len(bars)), names, fontsize=7)
    right.set_ylabel("mean ms per frame")
    right.set_title(f"by stage, {runs[0]['threads']} thread(s)")
    right.legend(fontsize=8)
    note = "EMULATED (qemu): not ARM timings" if results["machine_emulated"] else results["machine_cpu"]
    fig.suptitle(f"DenseFace vs MediaPipe 468 — {note}" + ("  [CPU busy: not representative]" if results["load_warning"] else ""),
                 fontsize=10)
    return save_png(fig, out_png)


def _ratio(a: float, b: float) -> float:
    return a / b if b and np.isfinite(a) and np.isfinite(b) else float("nan")


def report(results: dict) -> str:
    """The printed tables."""
    lines = []
    rows = []
    for r in results["runs"]:
        for name, data in r["pipelines"].items():
            if "error" in data:
                rows.append((r["run"], r["threads"], name, "-", "-", "-", "-", "-", "-", data["error"][:60]))
                continue
            e = data["end_to_end"]
            threads = "own" if name == "facemesh-py" else r["threads"]
            ours = r["pipelines"]["denseface"]["end_to_end"]["p50"]
            ratio = "" if name == "denseface" else f"{_ratio(ours, e['p50']):.2f}"
            rows.append((r["run"], threads, name, e["p50"], e["p95"], e["p99"], e["mean"], e["n"],
                         f"{100 * data['frames_with_face']:.0f}%", ratio))
    lines.append(format_table(("run", "threads", "pipeline", "p50", "p95", "p99", "mean", "frames", "face found",
                               "ours/this p50"), rows, title="End to end, ms per frame"))
    default_video = {r["threads"]: r["pipelines"]["denseface"]["end_to_end"]["p50"]
                     for r in results["runs"] if r["run"] == "video:moving"}
    for r in results["runs"]:  # passes apart, not interleaved: the ratios against MP-468 above are the steadier
        if r["run"] == "video:moving:fresh" and r["threads"] in default_video:
            fresh, default = r["pipelines"]["denseface"]["end_to_end"]["p50"], default_video[r["threads"]]
            lines.append(f"video:moving:fresh / video:moving denseface p50, {r['threads']} thread(s): "
                         f"{fresh:.3f} / {default:.3f} ms = {_ratio(fresh, default):.2f} ({fresh - default:+.3f} ms)")
    rows = []
    for r in results["runs"]:
        for name in ("denseface", "mediapipe-468"):
            for stage, s in r["pipelines"][name].get("stages", {}).items():
                rows.append((r["run"], r["threads"], name, stage, s["p50"], s["p95"], s["p99"], s["mean_per_frame"],
                             f"{s['frames_run']}/{r['frames']}"))
    lines.append(format_table(("run", "threads", "pipeline", "stage", "p50", "p95", "p99", "mean/frame", "ran on"),
                              rows, title="\nBy stage, ms (percentiles over the frames the stage ran on)"))
    rows = []
    for threads, models in results["model_alone"].items():
        for name, s in models.items():
            rows.append((name, f"{s['macs'] / 1e6:.1f}", threads, s["p50"], s["p95"], s["p99"], s["n"]))
    lines.append(format_table(("model", "M MACs", "threads", "p50", "p95", "p99", "invokes"), rows,
                              title="\nModel alone (interpreter.invoke), ms"))
    rows = []
    for target in results["targets"]:
        rows.append((target["name"], target["value"], target["limit"],
                     "n/a" if target["pass"] is None else ("pass" if target["pass"] else "FAIL")))
    lines.append(format_table(("target", "measured", "limit", ""), rows, title="\nTargets (this machine, this run)"))
    if results["load_warning"]:
        lines.append(results["load_warning"])
    if results["machine_emulated"]:
        lines.append("EMULATED under qemu user mode: these are not ARM timings; see benchmarks/arm/README.md")
    return "\n".join(lines)


def targets(results: dict) -> list[dict]:
    """The issue's targets, evaluated on this run (None where the run did not measure them)."""
    def find(run: str, threads: int):
        return next((r for r in results["runs"] if r["run"] == run and r["threads"] == threads), None)

    out = []
    for run, limit, label in (("image:aflw", TARGET_RATIO_IMAGE, "image mode ours/MP-468 p50, 1 thread, AFLW 640x480"),
                              ("video:moving", TARGET_RATIO_VIDEO, "video mode ours/MP-468 tracking p50, 1 thread")):
        r = find(run, 1)
        value = float("nan") if r is None else _ratio(r["pipelines"]["denseface"]["end_to_end"]["p50"],
                                                      r["pipelines"]["mediapipe-468"]["end_to_end"]["p50"])
        out.append({"name": label, "value": value, "limit": limit, "pass": None if np.isnan(value) else bool(value <= limit)})
    alone = results["model_alone"].get(1, {})
    ours = alone.get("denseface", {}).get("p50", float("nan"))
    theirs = alone.get("mediapipe face_landmark", {}).get("p50", float("nan"))
    out.append({"name": "model alone p50 ms, 1 thread (--model)", "value": ours, "limit": TARGET_MODEL_MS,
                "pass": None if np.isnan(ours) else bool(ours <= TARGET_MODEL_MS)})
    ratio = _ratio(ours, theirs)
    out.append({"name": "model alone ours/MediaPipe face_landmark p50, 1 thread", "value": ratio,
                "limit": TARGET_RATIO_MODEL, "pass": None if np.isnan(ratio) else bool(ratio <= TARGET_RATIO_MODEL)})
    if results["machine_emulated"]:  # emulated timings say nothing about the targets
        for target in out:
            target["pass"] = None
    return out


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter, epilog=__doc__)
    parser.add_argument("--model", help="landmark model: full, lite or a .tflite (default: the bundled full model)")
    parser.add_argument("--frames", type=int, default=1000, help="timed frames per run (default 1000)")
    parser.add_argument("--warmup", type=int, default=50, help="untimed frames before each run (default 50)")
    parser.add_argument("--threads", type=int, nargs="+", default=[1, 2, 4], help="LiteRT thread counts (default 1 2 4)")
    parser.add_argument("--runs", nargs="+", default=list(RUNS), choices=RUNS, help="mode:source runs (default all)")
    parser.add_argument("--model-invokes", type=int, default=2000, help="invokes per model for 'model alone' (default 2000)")
    parser.add_argument("--facemesh-python", default=str(DEFAULT_FACEMESH_PYTHON),
                        help="interpreter with mediapipe==0.10.14 for the FaceMesh row, or 'none' "
                             f"(default {DEFAULT_FACEMESH_PYTHON})")
    parser.add_argument("--variants", nargs="*", type=variant, default=[], metavar="ALPHA@SIZE",
                        help="also time the architecture at these width multipliers and input sizes, e.g. "
                             "1.0@120 0.75@96 (random int8 weights; needs TensorFlow)")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help=f"output folder (default {DEFAULT_OUT})")
    args = parser.parse_args(argv)
    if args.frames < 1 or args.warmup < 0 or min(args.threads) < 1:
        parser.error("--frames must be >= 1, --warmup >= 0, every --threads >= 1")

    from denseface.detect import detector_path
    from denseface.fetch import model_path
    from denseface.landmark_model import BUNDLED_MODELS, bundled_path

    model = model_argument(parser, args.model)
    facemesh_python = None if args.facemesh_python == "none" else Path(args.facemesh_python)
    warning = load_warning()
    if warning:
        print(warning, file=sys.stderr)
    needed = args.frames + args.warmup
    paths: list[Path] = []
    checked = 0
    if any(run.endswith(":aflw") for run in args.runs):
        paths, checked = select_aflw(needed)
        print(f"AFLW2000-3D: {len(paths)} originals with a BlazeFace face (of {checked} checked)"
              + (f"; cycled to {needed} frames" if len(paths) < needed else ""), file=sys.stderr)
    results: dict = {"model": str(model), "frames": args.frames, "warmup": args.warmup, "aflw_distinct": len(paths),
                     "aflw_checked": checked, "runs": [], "model_alone": {}, "load_warning": warning,
                     "machine_emulated": is_emulated()}
    for spec in args.runs:
        mode, source, *flags = spec.split(":")
        frames = lambda: run_frames(source, needed, paths)  # noqa: E731 - regenerated for every pass
        for threads in args.threads:
            print(f"{spec}, {threads} thread(s) ...", file=sys.stderr)
            pipes = make_pipelines(model, threads, mode, fresh_score="fresh" in flags)
            pipelines = end_to_end(pipes, frames, args.warmup)
            for name, stages in by_stage(pipes, frames, args.warmup).items():
                pipelines[name]["stages"] = stages
            if threads == args.threads[0]:
                pipelines["facemesh-py"] = facemesh(facemesh_python, mode, source, args.frames, args.warmup, paths)
            results["runs"].append({"run": spec, "mode": mode, "source": source, "threads": threads,
                                    "frames": args.frames, "pipelines": pipelines,
                                    "redetect_interval": getattr(pipes.ours.options, "redetect_interval", None)})
    models = {"denseface": model, "mediapipe face_landmark": model_path("mesh468"),
              "blazeface short": detector_path("short"), "blazeface short_int8": detector_path("short_int8")}
    for name in BUNDLED_MODELS:  # both bundled models in every run, so their ratio is measured too
        bundled = bundled_path(name)
        if bundled != model:
            models[f"denseface {name} (bundled)"] = bundled
    float_model = float_model_beside(model)
    if float_model is not None:
        models["denseface float32"] = float_model
    with tempfile.TemporaryDirectory() as folder:
        models.update(export_variants(args.variants, Path(folder)))
        for threads in args.threads:
            results["model_alone"][threads] = model_alone(models, threads, args.model_invokes,
                                                          min(100, args.model_invokes))
    results["targets"] = targets(results)
    info = machine_info()
    results["machine_cpu"] = f"{info['cpu']}, {info['cores']} cores, ISA: {' '.join(info['isa']) or 'none of ' + ', '.join(ISA_FEATURES)}"
    print(report(results))
    json_path = write_json(args.out, "latency", results)
    png_path = draw(results, args.out / "latency.png")
    print(f"\nwrote {json_path} and {png_path}")


if __name__ == "__main__":
    main()
