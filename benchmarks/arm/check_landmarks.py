"""Same input, same landmarks? The SDK's outputs on fixed inputs, written on one machine and compared
with another's (x86_64 against aarch64, native or under qemu).

    python benchmarks/arm/check_landmarks.py inputs  --out inputs.npz [--count 16]        # once, anywhere
    python benchmarks/arm/check_landmarks.py run     --inputs inputs.npz --model M.tflite --out points_ARCH.npz
    python benchmarks/arm/check_landmarks.py compare points_x86_64.npz points_aarch64.npz [--tol 1e-3] [--out DIR]

``inputs`` stores raw uint8 frames (so no JPEG decoder differs between machines): ``count`` AFLW2000-3D
originals as 640×480 frames and ``count`` frames of the moving-face sequence (``benchmarks.frames``),
plus fixed 120×120 crops (the SDK's crop rule on each frame's first detection, made here).
``run`` needs only the installed ``denseface`` package, numpy and OpenCV (not this repository), and
records, per stage: BlazeFace boxes and keypoints; the landmark model's (1560,) output on the fixed
crops; the 520 points of ``DenseFace.landmarks`` (image mode) and of ``landmarks_for_video`` over the
moving sequence (video mode). ``compare`` prints the largest difference of each in pixels (frame
pixels; model outputs × 120 = crop pixels), and pass/fail against ``--tol`` (default 1e-3 px), and
writes OUT/arm_check.json and OUT/arm_check.png.
"""
from __future__ import annotations

import argparse
import json
import platform
import sys
from pathlib import Path

import numpy as np

MODEL_INPUT = 120


def make_inputs(out: Path, count: int) -> None:
    """Frames and fixed crops; needs the repository (``benchmarks.frames``) and the shared data."""
    sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
    from benchmarks.frames import aflw_frame, aflw_paths, moving_face_frames
    from denseface.crop import detection_crop
    from denseface.detect import FaceDetector

    detector = FaceDetector()
    images, crops = [], []
    for path in aflw_paths():
        if len(images) == count:
            break
        frame = aflw_frame(path)
        detections = detector.detect(frame)
        if detections:
            images.append(frame)
            box, keypoints = detections[0].box, detections[0].keypoints
            crops.append(detection_crop(box, keypoints[0], keypoints[1]).warp(frame))
    video = np.stack([frame for frame, _ in moving_face_frames(count)])
    np.savez_compressed(out, images=np.stack(images), crops=np.stack(crops), video=video,
                        video_ms=np.arange(count) * 1000.0 / 30.0)
    print(f"wrote {out}: {len(images)} AFLW frames, {len(crops)} crops, {count} video frames")


def run(inputs: Path, model: Path, out: Path) -> None:
    """Every stage's output on the stored inputs (installed package only)."""
    from denseface import DenseFace, RunningMode

    data = np.load(inputs)
    image_mode = DenseFace(model_path=model)
    video_mode = DenseFace(model_path=model, running_mode=RunningMode.VIDEO)
    boxes = np.full((len(data["images"]), 17), np.nan, np.float64)  # box 4, keypoints 6 × 2, score
    points = np.full((len(data["images"]), 520, 3), np.nan, np.float32)
    for i, frame in enumerate(data["images"]):
        detections = image_mode.detector.detect(frame)
        if detections:
            boxes[i] = np.concatenate([detections[0].box, detections[0].keypoints.reshape(-1), [detections[0].score]])
        faces = image_mode.landmarks(frame)
        if faces:
            points[i] = faces[0].points
    outputs = np.stack([image_mode.model.run(crop) for crop in data["crops"]])
    video = np.full((len(data["video"]), 520, 3), np.nan, np.float32)
    for i, (frame, ms) in enumerate(zip(data["video"], data["video_ms"])):
        faces = video_mode.landmarks_for_video(frame, float(ms))
        if faces:
            video[i] = faces[0].points
    import cv2
    import denseface

    try:
        from importlib.metadata import version

        litert = version("ai-edge-litert")
    except Exception:  # noqa: BLE001 - informational only
        litert = "?"
    meta = {"machine": platform.machine(), "python": platform.python_version(), "numpy": np.__version__,
            "cv2": cv2.__version__, "ai_edge_litert": litert, "denseface": str(Path(denseface.__file__).parent),
            "model": str(model)}
    np.savez_compressed(out, boxes=boxes, outputs=outputs, points=points, video=video, meta=json.dumps(meta))
    print(f"wrote {out} ({meta['machine']}): {np.isfinite(points[:, 0, 0]).sum()}/{len(points)} image faces, "
          f"{np.isfinite(video[:, 0, 0]).sum()}/{len(video)} video faces")


def compare(first: Path, second: Path, tol: float, out_dir: Path | None) -> bool:
    """Largest differences per stage; True when every landmark stage is within ``tol`` pixels."""
    a, b = np.load(first), np.load(second)
    meta = [json.loads(str(x["meta"])) for x in (a, b)]
    stages = {
        "detector box, keypoints (frame px), score": (a["boxes"], b["boxes"], 1.0),
        "model on fixed crops (crop px)": (a["outputs"], b["outputs"], float(MODEL_INPUT)),
        "image mode, 520 points (frame px)": (a["points"], b["points"], 1.0),
        "video mode, 520 points (frame px)": (a["video"], b["video"], 1.0),
    }
    rows, report = [], {}
    for name, (x, y, scale) in stages.items():
        same_found = np.array_equal(np.isfinite(x), np.isfinite(y))
        both = np.isfinite(x) & np.isfinite(y)
        diff = np.abs(x[both].astype(np.float64) - y[both].astype(np.float64)) * scale
        worst = float(diff.max()) if diff.size else 0.0
        ok = same_found and worst <= tol if "points" in name or "model" in name else None
        report[name] = {"max_abs": worst, "mean_abs": float(diff.mean()) if diff.size else 0.0,
                        "same_faces_found": same_found, "values": int(diff.size), "pass": ok}
        rows.append((name, f"{worst:.3g}", f"{report[name]['mean_abs']:.3g}", same_found,
                     "-" if ok is None else ("pass" if ok else "FAIL")))
    widths = [max(len(str(r[i])) for r in rows + [("stage", "max |diff|", "mean |diff|", "same faces", f"≤ {tol:g}")])
              for i in range(5)]
    header = ("stage", "max |diff|", "mean |diff|", "same faces", f"≤ {tol:g}")
    print(f"{meta[0]['machine']} ({first.name}) vs {meta[1]['machine']} ({second.name})")
    for row in [header] + rows:
        print("  ".join(str(v).ljust(w) for v, w in zip(row, widths)))
    passed = all(r["pass"] for r in report.values() if r["pass"] is not None)
    print("PASS" if passed else "FAIL", f"(tolerance {tol:g} px on the model outputs and the 520 points)")
    if out_dir is not None:
        out_dir.mkdir(parents=True, exist_ok=True)
        (out_dir / "arm_check.json").write_text(json.dumps({"tolerance_px": tol, "first": meta[0], "second": meta[1],
                                                            "stages": report, "pass": passed}, indent=2))
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt

        fig, ax = plt.subplots(figsize=(7, 4))
        for name, (x, y, scale) in stages.items():
            both = np.isfinite(x) & np.isfinite(y)
            diff = np.abs(x[both].astype(np.float64) - y[both].astype(np.float64)) * scale
            if diff.size:
                ax.hist(np.log10(diff + 1e-9), bins=60, histtype="step", label=name)
        ax.axvline(np.log10(tol), color="k", ls="--", label=f"tolerance {tol:g} px")
        ax.set_xlabel("log10 |difference| (px; 1e-9 added so that 0 shows as -9)")
        ax.set_ylabel("values")
        ax.set_title(f"{meta[0]['machine']} vs {meta[1]['machine']}: same inputs")
        ax.legend(fontsize=7)
        fig.tight_layout()
        fig.savefig(out_dir / "arm_check.png", dpi=110)
        plt.close(fig)
        print(f"wrote {out_dir / 'arm_check.json'} and {out_dir / 'arm_check.png'}")
    return passed


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter, epilog=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    p = sub.add_parser("inputs", help="write the fixed inputs (frames, crops)")
    p.add_argument("--out", type=Path, required=True)
    p.add_argument("--count", type=int, default=16, help="AFLW frames and video frames (default 16 each)")
    p = sub.add_parser("run", help="run the SDK on the inputs, write its outputs")
    p.add_argument("--inputs", type=Path, required=True)
    p.add_argument("--model", type=Path, required=True, help="landmark .tflite (the same file on both machines)")
    p.add_argument("--out", type=Path, required=True)
    p = sub.add_parser("compare", help="compare two machines' outputs")
    p.add_argument("first", type=Path)
    p.add_argument("second", type=Path)
    p.add_argument("--tol", type=float, default=1e-3, help="pixels (default 1e-3)")
    p.add_argument("--out", type=Path, help="folder for arm_check.json and arm_check.png")
    args = parser.parse_args(argv)
    if args.command == "inputs":
        make_inputs(args.out, args.count)
    elif args.command == "run":
        run(args.inputs, args.model, args.out)
    else:
        sys.exit(0 if compare(args.first, args.second, args.tol, args.out) else 1)


if __name__ == "__main__":
    main()
