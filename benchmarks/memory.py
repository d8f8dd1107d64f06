"""Memory: peak resident set size (RSS) and its growth over a long stream of frames.

    python -m benchmarks.memory [--model M.tflite] [--frames 10000] [--modes image video]
        [--pipelines denseface mediapipe-468] [--out DIR]

Each (pipeline, mode) runs in a fresh process (multiprocessing "spawn"), so the figures are that
pipeline's alone: RSS before anything is loaded (Python + numpy + OpenCV + LiteRT imported), after
the models are loaded, after ``--warmup`` frames, and every ``--sample-every`` frames up to
``--frames``; peak = the kernel's high-water mark (VmHWM). Frames: image mode cycles the AFLW2000-3D
originals as 640×480 frames; video mode plays the synthetic moving-face sequence
(``benchmarks.frames``); each frame is built before the call and dropped after it.

Growth = RSS at the last sample − RSS after warm-up; slope = least-squares fit of RSS against frame
index after warm-up, in KiB per 1000 frames; noise = standard deviation of the samples around that
line. Verdict "no growth" when the fitted growth over the run (slope × frames) is below
max(``--tolerance-mib``, 3 × noise).

Writes OUT/memory.json and OUT/memory.png (RSS against frames, per pipeline and mode).
"""
from __future__ import annotations

import argparse
import multiprocessing
import sys
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import numpy as np

from benchmarks.common import DEFAULT_OUT, format_table, model_argument, pyplot, save_png, write_json

PIPELINES = ("denseface", "mediapipe-468")
MODES = ("image", "video")


def _status_kib(field: str) -> int:
    """A field of /proc/self/status in KiB (VmRSS, VmHWM); falls back to ru_maxrss."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith(field + ":"):
                return int(line.split()[1])
    except OSError:
        pass
    import resource

    return int(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)


def measure(pipeline: str, mode: str, model: str, frames: int, warmup: int, sample_every: int) -> dict:
    """Run in a fresh process: the RSS samples of one pipeline and mode (see the module docstring)."""
    import cv2  # noqa: F401 - the libraries are loaded before the first sample
    import denseface  # noqa: F401

    try:
        import ai_edge_litert.interpreter  # noqa: F401
    except ImportError:  # tflite_runtime instead: loaded with the first model
        pass

    from benchmarks.frames import aflw_frame, aflw_paths, moving_face_frames

    baseline = _status_kib("VmRSS")
    if pipeline == "denseface":
        from denseface import DenseFace
        from denseface.api import RunningMode

        running_mode = RunningMode.VIDEO if mode == "video" else RunningMode.IMAGE
        face = DenseFace(model_path=model, running_mode=running_mode)
    else:
        from benchmarks.mediapipe_pipeline import MediaPipeMesh468

        face = MediaPipeMesh468()
    loaded = _status_kib("VmRSS")
    paths = aflw_paths() if mode == "image" else []
    source = moving_face_frames(frames + warmup) if mode == "video" else None
    samples, at, found = [], [], 0
    after_warmup = loaded
    for i in range(frames + warmup):
        if mode == "video":
            frame, timestamp = next(source)
            found += bool(face.landmarks_for_video(frame, timestamp))
        else:
            found += bool(face.landmarks(aflw_frame(paths[i % len(paths)])))
        if i + 1 == warmup:
            after_warmup = _status_kib("VmRSS")
        if i + 1 >= warmup and (i + 1 - warmup) % sample_every == 0:
            samples.append(_status_kib("VmRSS"))
            at.append(i + 1 - warmup)
    return {"pipeline": pipeline, "mode": mode, "frames": frames, "warmup": warmup, "baseline_kib": baseline,
            "loaded_kib": loaded, "after_warmup_kib": after_warmup, "samples_kib": samples, "sample_frames": at,
            "peak_kib": _status_kib("VmHWM"), "frames_with_face": found / (frames + warmup)}


def analyse(result: dict, tolerance_mib: float) -> dict:
    """Growth, slope, noise and verdict of one measurement."""
    x = np.asarray(result["sample_frames"], np.float64)
    y = np.asarray(result["samples_kib"], np.float64)
    if len(x) >= 2:
        slope, intercept = np.polyfit(x, y, 1)
        noise = float(np.std(y - (slope * x + intercept)))
    else:
        slope, noise = 0.0, 0.0
    fitted_growth_kib = float(slope * result["frames"])
    limit_kib = max(tolerance_mib * 1024.0, 3.0 * noise)
    return {"growth_kib": float(y[-1] - result["after_warmup_kib"]) if len(y) else float("nan"),
            "slope_kib_per_1000": float(slope * 1000.0), "noise_kib": noise, "fitted_growth_kib": fitted_growth_kib,
            "limit_kib": limit_kib, "no_growth": bool(fitted_growth_kib < limit_kib)}


def draw(results: list[dict], out_png: Path) -> Path:
    plt = pyplot()
    fig, ax = plt.subplots(figsize=(8, 4.5))
    for r in results:
        x = np.asarray(r["sample_frames"])
        ax.plot(x, np.asarray(r["samples_kib"]) / 1024.0, label=f"{r['pipeline']} {r['mode']}")
    ax.set_xlabel("frames after warm-up")
    ax.set_ylabel("RSS, MiB")
    ax.set_title("resident memory over the stream (each line: its own process)")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    return save_png(fig, out_png)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter, epilog=__doc__)
    parser.add_argument("--model", help="landmark model: full, lite or a .tflite (default: the bundled full model)")
    parser.add_argument("--frames", type=int, default=10000, help="frames after warm-up (default 10000)")
    parser.add_argument("--warmup", type=int, default=100, help="frames before the growth baseline (default 100)")
    parser.add_argument("--sample-every", type=int, default=100, help="RSS sample interval, frames (default 100)")
    parser.add_argument("--modes", nargs="+", choices=MODES, default=list(MODES))
    parser.add_argument("--pipelines", nargs="+", choices=PIPELINES, default=["denseface"])
    parser.add_argument("--tolerance-mib", type=float, default=2.0,
                        help="growth below this (or 3 × noise) counts as none (default 2 MiB)")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help=f"output folder (default {DEFAULT_OUT})")
    args = parser.parse_args(argv)
    if args.frames < 1 or args.warmup < 1 or args.sample_every < 1:
        parser.error("--frames, --warmup and --sample-every must be >= 1")

    model = model_argument(parser, args.model)
    results = []
    for pipeline in args.pipelines:
        for mode in args.modes:
            print(f"{pipeline} {mode}: {args.frames} frames ...", file=sys.stderr)
            with ProcessPoolExecutor(max_workers=1, mp_context=multiprocessing.get_context("spawn")) as pool:
                result = pool.submit(measure, pipeline, mode, str(model), args.frames, args.warmup,
                                     args.sample_every).result()
            result.update(analyse(result, args.tolerance_mib))
            results.append(result)
    mib = 1.0 / 1024.0
    rows = [(r["pipeline"], r["mode"], r["frames"], r["baseline_kib"] * mib, r["loaded_kib"] * mib,
             r["after_warmup_kib"] * mib, r["peak_kib"] * mib, r["growth_kib"], r["slope_kib_per_1000"],
             r["noise_kib"], "none" if r["no_growth"] else "GROWS")
            for r in results]
    print(format_table(("pipeline", "mode", "frames", "start MiB", "loaded MiB", "warm MiB", "peak MiB",
                        "growth KiB", "KiB/1000 fr", "noise KiB", "growth"), rows,
                       title="Resident memory (each row a fresh process)"))
    json_path = write_json(args.out, "memory", {"model": str(model), "tolerance_mib": args.tolerance_mib,
                                                "results": results})
    png_path = draw(results, args.out / "memory.png")
    print(f"\nwrote {json_path} and {png_path}")


if __name__ == "__main__":
    main()
