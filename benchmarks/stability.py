"""Stability: jitter on a still face (with and without the One-Euro filter), ghost faces in video
mode, and how much accuracy depends on the convention of the caller's face boxes.

    python -m benchmarks.stability [--frames 300] [--noise 2.0] [--limit N] [--out DIR]

Jitter: one AFLW2000-3D original (a still face), repeated ``--frames`` times with fresh Gaussian
sensor noise (σ = ``--noise`` grey levels) per frame, run through ``landmarks_for_video`` (VIDEO mode:
tracking crop from the previous frame) with the default One-Euro filter and with the filter off
(``min_cutoff`` 1e9 Hz: no smoothing), and through ``landmarks`` (IMAGE mode: detection every frame)
with the default int8 detector and with the float one (the int8 detector's boxes are noisier).
Jitter = mean over frames and the 520 points of the 2-D displacement between consecutive frames,
in pixels and in % of √(w·h) of the face's 68-point box.

Ghosts: VIDEO mode on the moving-face sequence (``benchmarks.frames``) for 20 frames, then 30 frames
without the face: black, mid-grey, and the sequence's own face-free background. Every face reported
on those 30 frames is a ghost (wanted: none); also the detector calls during the 600-frame moving
face alone (the crop-content check runs the detector only when a crop changes unlike a moving face).

Box conventions: every AFLW2000-3D original through ``landmarks(frame, faces=[box])`` with the ground
truth's tight 68-point box ("landmarks68"), the square box of the same centre and longer side
("square"), and BlazeFace's own box of the annotated face ("blazeface": the detection chosen by
``train.evaluation.evaluate.annotated_face`` — some originals show several people; images where BlazeFace
does not find the annotated face are counted as missed), scored under 3DDFA's protocol
(``train.evaluation.metrics``).
"""
from __future__ import annotations

import argparse
from pathlib import Path

import cv2
import numpy as np

from benchmarks.common import DEFAULT_OUT, format_table, model_argument, pyplot, save_png, write_json
from benchmarks.frames import background, moving_face_frames
from denseface import DenseFace, RunningMode
from benchmarks.accuracy import MAX_FACES
from train.data import AFLW2000
from train.evaluation.evaluate import annotated_face
from train.evaluation.metrics import nme_report

STILL_FACE = "image00002.jpg"


def jitter(df: DenseFace, frame: np.ndarray, frames: int, noise: float, video: bool, seed: int = 0) -> float:
    """Mean 2-D displacement (px) of the 520 points between consecutive noisy copies of ``frame``."""
    rng = np.random.default_rng(seed)
    previous, moves = None, []
    for i in range(frames):
        noisy = np.clip(frame + rng.normal(0.0, noise, frame.shape), 0, 255).astype(np.uint8)
        faces = df.landmarks_for_video(noisy, timestamp_ms=i * 33.3) if video else df.landmarks(noisy)
        if not faces:
            raise RuntimeError(f"no face found in frame {i} of the still-face sequence")
        points = faces[0].points[:, :2]
        if previous is not None:
            moves.append(np.linalg.norm(points - previous, axis=1).mean())
        previous = points
    return float(np.mean(moves[10:]))  # the filter's first frames converge from the first detection


def ghosts(model: Path) -> dict[str, object]:
    """Faces reported on 30 face-free frames after 20 tracked ones, per kind of empty frame, and the
    detector calls over 600 moving-face frames."""
    result: dict[str, object] = {}
    empties = {"black": np.zeros((480, 640, 3), np.uint8), "grey": np.full((480, 640, 3), 128, np.uint8),
               "background": background()}
    for name, empty in empties.items():
        video = DenseFace(model_path=model, running_mode=RunningMode.VIDEO)
        for frame, timestamp in moving_face_frames(20):
            video.landmarks_for_video(frame, timestamp)
        result[name] = sum(len(video.landmarks_for_video(empty, 1000.0 + 33.3 * k)) for k in range(30))
    video = DenseFace(model_path=model, running_mode=RunningMode.VIDEO)
    calls, detect = [], video.detector.detect
    video.detector.detect = lambda frame: calls.append(1) or detect(frame)
    found = sum(bool(video.landmarks_for_video(frame, timestamp)) for frame, timestamp in moving_face_frames(600))
    result["moving_face_frames_with_a_face"] = found
    result["moving_face_detector_calls"] = len(calls)
    return result


CONVENTIONS = ("landmarks68", "square", "blazeface")


def box_spread(model: Path, limit: int | None) -> dict[str, object]:
    """3DDFA-protocol reports of ``landmarks(frame, faces=[box])`` for each box convention."""
    gt = np.load(AFLW2000 / "ground_truth.npz")
    names = gt["names"][:limit]
    gt_xy = gt["pts68"][: len(names), :2].transpose(0, 2, 1)
    df = DenseFace(model_path=model, max_faces=MAX_FACES)
    preds = {c: np.full((len(names), 68, 2), np.nan) for c in CONVENTIONS}
    for i, name in enumerate(names):
        frame = cv2.cvtColor(cv2.imread(str(AFLW2000 / "images" / name)), cv2.COLOR_BGR2RGB)
        lo, hi = gt_xy[i].min(0), gt_xy[i].max(0)
        centre, side = (lo + hi) / 2, float((hi - lo).max())
        boxes = {"landmarks68": (*lo, *hi), "square": (*(centre - side / 2), *(centre + side / 2))}
        detections = df.detector.detect(frame)
        match = annotated_face([d.box for d in detections], gt_xy[i])
        if match is not None:
            boxes["blazeface"] = detections[match].box
        for convention, box in boxes.items():
            face = df.landmarks(frame, faces=[box], box_convention=convention)[0]
            preds[convention][i] = face.points68[:, :2]
    return {c: nme_report(p, gt_xy, gt["pose"][: len(names)]) for c, p in preds.items()}


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter, epilog=__doc__)
    parser.add_argument("--model", help="landmark model: full, lite or a .tflite (default: the bundled full model)")
    parser.add_argument("--frames", type=int, default=300, help="frames of the still-face sequence (default 300)")
    parser.add_argument("--noise", type=float, default=2.0, help="sensor noise σ, grey levels (default 2)")
    parser.add_argument("--limit", type=int, help="score only the first N AFLW2000-3D images")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help="output folder for JSON and PNG")
    args = parser.parse_args(argv)
    model = model_argument(parser, args.model)

    frame = cv2.cvtColor(cv2.imread(str(AFLW2000 / "images" / STILL_FACE)), cv2.COLOR_BGR2RGB).astype(np.float32)
    face_size = DenseFace(model_path=model).landmarks(frame.astype(np.uint8))[0].box
    norm = float(np.sqrt((face_size[2] - face_size[0]) * (face_size[3] - face_size[1])))
    runs = {
        "image mode (detect every frame)": jitter(DenseFace(model_path=model), frame, args.frames, args.noise, False),
        "image mode, float detector (short)": jitter(DenseFace(model_path=model, detector="short"), frame,
                                                     args.frames, args.noise, False),
        "video mode, One-Euro off": jitter(DenseFace(model_path=model, running_mode=RunningMode.VIDEO,
                                                     min_cutoff=1e9), frame, args.frames, args.noise, True),
        "video mode, One-Euro (default)": jitter(DenseFace(model_path=model, running_mode=RunningMode.VIDEO),
                                                 frame, args.frames, args.noise, True),
    }
    print(format_table(["run", "jitter px", "jitter % of face"],
                       [[k, f"{v:.3f}", f"{100 * v / norm:.3f}"] for k, v in runs.items()],
                       title=f"Still face {STILL_FACE}, {args.frames} frames, sensor noise σ {args.noise}"))
    ghost = ghosts(model)
    print(format_table(["frames without the face (30 each)", "faces reported (ghosts)"],
                       [[k, v] for k, v in ghost.items() if not k.startswith("moving")],
                       title="VIDEO mode: 20 frames of a moving face, then 30 without it"))
    print(f"moving face alone: a face on {ghost['moving_face_frames_with_a_face']} of 600 frames, "
          f"{ghost['moving_face_detector_calls']} detector calls (redetect interval 30)")
    reports = box_spread(model, args.limit)
    print(format_table(["box convention", "[0,30]", "(30,60]", ">60", "balanced", "missed"],
                       [[c, *(f"{b:.2f}" for b in r.bins), f"{r.balanced:.2f}", r.missed] for c, r in reports.items()],
                       title="AFLW2000-3D, 3DDFA protocol (NME %, 68 2-D points / √(w·h) of the GT box)"))
    balanced = [r.balanced for r in reports.values()]
    spread = max(balanced) - min(balanced)
    print(f"spread of the balanced NME across conventions: {spread:.2f}")
    write_json(args.out, "stability", {
        "jitter_px": runs, "face_norm_px": norm, "frames": args.frames, "noise": args.noise, "ghosts": ghost,
        "box_conventions": {c: {"bins": r.bins, "balanced": r.balanced, "missed": r.missed} for c, r in reports.items()},
        "box_convention_spread": spread,
    })
    plt = pyplot()
    fig, ax = plt.subplots(figsize=(7, 3.5))
    ax.barh(list(runs), list(runs.values()), color="#1f77b4")
    ax.set_xlabel("mean 2-D displacement between frames, px")
    ax.set_title("jitter on a still face")
    save_png(fig, args.out / "stability.png")


if __name__ == "__main__":
    main()
