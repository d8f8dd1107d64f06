"""The ``denseface`` command line (also ``python -m denseface``).

    denseface image IN.jpg -o OUT.png [--json OUT.json]    faces of one image, drawn, and as JSON
    denseface video IN.mp4 -o OUT.mp4                      every frame (VIDEO mode: tracking, smoothing)
    denseface demo [-o demo.png]                           scikit-image's public-domain astronaut photo

Common options: --model (landmark .tflite; default: the bundled int8 model), --detector short|full,
--max-faces, --draw (what to draw). Timings per stage are printed to stderr at the end; they are
measured here, by wrapping the detector's and the landmark model's calls, not inside the API.
"""
from __future__ import annotations

import argparse
import json
import math
import sys
import time
from pathlib import Path
from typing import Callable, Sequence

import cv2
import numpy as np

from denseface.api import DenseFace, DenseFaceOptions, Face, RunningMode
from denseface.draw import DRAWABLE, draw_faces


class StageTimes:
    """Wall-clock seconds and calls per named stage, collected by wrapping callables."""

    def __init__(self) -> None:
        self.seconds: dict[str, float] = {}
        self.calls: dict[str, int] = {}

    def wrap(self, name: str, function: Callable) -> Callable:
        """``function`` timed under ``name``."""
        def timed(*args, **kwargs):
            start = time.perf_counter()
            try:
                return function(*args, **kwargs)
            finally:
                self.add(name, time.perf_counter() - start)
        return timed

    def add(self, name: str, seconds: float) -> None:
        self.seconds[name] = self.seconds.get(name, 0.0) + seconds
        self.calls[name] = self.calls.get(name, 0) + 1

    def report(self, frames: int) -> str:
        """One line per stage: total ms, calls, ms per frame."""
        lines = [f"timings over {frames} frame(s):"]
        for name, seconds in self.seconds.items():
            lines.append(f"  {name:<22} {1000 * seconds:9.1f} ms total  {self.calls[name]:6d} calls  "
                         f"{1000 * seconds / max(frames, 1):7.2f} ms/frame")
        return "\n".join(lines)


def timed_denseface(options: DenseFaceOptions, times: StageTimes) -> DenseFace:
    """A DenseFace whose detector and landmark-model calls are timed into ``times``."""
    denseface = DenseFace(options)
    denseface.detector.detect = times.wrap("detect", denseface.detector.detect)
    denseface.model.run = times.wrap("landmark model", denseface.model.run)
    return denseface


def faces_to_json(faces: Sequence[Face], width: int, height: int) -> dict:
    """A JSON-ready dict: frame size and, per face, box, score (null for caller boxes), pose and points."""
    def rounded(a: np.ndarray) -> list:
        return np.round(np.asarray(a, np.float64), 2).tolist()

    return {
        "width": width,
        "height": height,
        "coordinates": "frame pixels, x right, y down, z relative depth in pixels towards the camera",
        "faces": [
            {
                "box": rounded(face.box),
                "score": None if math.isnan(face.score) else round(face.score, 4),
                "pose": dict(zip(("yaw", "pitch", "roll"), (round(v, 2) for v in face.pose))),
                "points68": rounded(face.points68),
                "points": rounded(face.points),
            }
            for face in faces
        ],
    }


def _options(args: argparse.Namespace, mode: RunningMode) -> DenseFaceOptions:
    return DenseFaceOptions(model_path=args.model, detector=args.detector, max_faces=args.max_faces,
                            num_threads=args.threads, color_order="bgr", running_mode=mode)


def _draw_items(text: str) -> tuple[str, ...]:
    items = tuple(s for s in text.split(",") if s)
    unknown = [s for s in items if s not in DRAWABLE]
    if unknown:
        raise argparse.ArgumentTypeError(f"unknown --draw items {unknown}; choose from {','.join(DRAWABLE)}")
    return items


def run_image(bgr: np.ndarray, args: argparse.Namespace, name: str) -> int:
    """Landmarks of one BGR image; writes the drawing (and JSON); prints a summary and timings."""
    times = StageTimes()
    denseface = timed_denseface(_options(args, RunningMode.IMAGE), times)
    faces = times.wrap("landmarks (all)", denseface.landmarks)(bgr)
    drawn = times.wrap("draw", draw_faces)(bgr, faces, args.draw, "bgr")
    if not cv2.imwrite(str(args.output), drawn):
        raise SystemExit(f"error: could not write {args.output}")
    if args.json:
        Path(args.json).write_text(json.dumps(faces_to_json(faces, bgr.shape[1], bgr.shape[0])))
    print(f"{name}: {len(faces)} face(s) -> {args.output}" + (f", {args.json}" if args.json else ""))
    for i, face in enumerate(faces):
        yaw, pitch, roll = face.pose
        print(f"  face {i}: box {tuple(round(v) for v in face.box)} score {face.score:.2f} "
              f"yaw {yaw:+.1f} pitch {pitch:+.1f} roll {roll:+.1f}")
    print(times.report(1), file=sys.stderr)
    return 0


def command_image(args: argparse.Namespace) -> int:
    bgr = cv2.imread(str(args.input), cv2.IMREAD_COLOR)
    if bgr is None:
        raise SystemExit(f"error: cannot read an image from {args.input}")
    return run_image(bgr, args, str(args.input))


def command_demo(args: argparse.Namespace) -> int:
    try:
        from skimage import data
    except ImportError:
        raise SystemExit("error: the demo needs scikit-image: pip install 'denseface[demo]'") from None
    return run_image(cv2.cvtColor(data.astronaut(), cv2.COLOR_RGB2BGR), args, "astronaut (scikit-image)")


def command_video(args: argparse.Namespace) -> int:
    capture = cv2.VideoCapture(str(args.input))
    if not capture.isOpened():
        raise SystemExit(f"error: cannot open a video from {args.input}")
    fps = capture.get(cv2.CAP_PROP_FPS) or 30.0
    total = int(capture.get(cv2.CAP_PROP_FRAME_COUNT) or 0)
    times = StageTimes()
    denseface = timed_denseface(_options(args, RunningMode.VIDEO), times)
    landmarks = times.wrap("landmarks (all)", denseface.landmarks_for_video)
    read, draw = times.wrap("read", capture.read), times.wrap("draw", draw_faces)
    writer, frames, with_faces = None, 0, 0
    try:
        while True:
            ok, bgr = read()
            if not ok:
                break
            faces = landmarks(bgr, frames * 1000.0 / fps)
            with_faces += bool(faces)
            drawn = draw(bgr, faces, args.draw, "bgr")
            if writer is None:
                writer = cv2.VideoWriter(str(args.output), cv2.VideoWriter_fourcc(*"mp4v"), fps,
                                         (bgr.shape[1], bgr.shape[0]))
                if not writer.isOpened():
                    raise SystemExit(f"error: cannot write a video to {args.output}")
            times.wrap("write", writer.write)(drawn)
            frames += 1
            print(f"\rframe {frames}" + (f"/{total}" if total else ""), end="", file=sys.stderr, flush=True)
    finally:
        capture.release()
        if writer is not None:
            writer.release()
    print(file=sys.stderr)
    if frames == 0:
        raise SystemExit(f"error: no frames could be read from {args.input}")
    print(f"{args.input}: {frames} frames, faces in {with_faces} -> {args.output}")
    print(times.report(frames), file=sys.stderr)
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="denseface", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    commands = parser.add_subparsers(dest="command", required=True)
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--model", default=None, help="landmark model .tflite (default: the bundled int8 model)")
    common.add_argument("--detector", choices=("short", "full"), default="short",
                        help="BlazeFace model: short (faces within ~2 m) or full range")
    common.add_argument("--max-faces", type=int, default=4, help="most faces per image or frame")
    common.add_argument("--threads", type=int, default=1, help="CPU threads per model")
    common.add_argument("--draw", type=_draw_items, default=("mesh", "points68", "box", "axes"),
                        help=f"comma-separated items to draw, from {','.join(DRAWABLE)}")
    image = commands.add_parser("image", parents=[common], help="one image -> drawing (+ JSON)")
    image.add_argument("input", type=Path, help="image file (anything OpenCV reads)")
    image.add_argument("-o", "--output", type=Path, required=True, help="drawing to write (.png, .jpg)")
    image.add_argument("--json", type=Path, default=None, help="also write the faces as JSON here")
    image.set_defaults(run=command_image)
    video = commands.add_parser("video", parents=[common], help="a video -> a video with the faces drawn")
    video.add_argument("input", type=Path, help="video file (anything OpenCV reads)")
    video.add_argument("-o", "--output", type=Path, required=True, help="video to write (.mp4, mp4v codec)")
    video.set_defaults(run=command_video)
    demo = commands.add_parser("demo", parents=[common], help="run on scikit-image's astronaut photo")
    demo.add_argument("-o", "--output", type=Path, default=Path("demo.png"), help="drawing to write")
    demo.add_argument("--json", type=Path, default=None, help="also write the faces as JSON here")
    demo.set_defaults(run=command_demo)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit status (errors exit with a one-line message)."""
    args = build_parser().parse_args(argv)
    try:
        return args.run(args)
    except (FileNotFoundError, ValueError) as error:
        raise SystemExit(f"error: {error}") from None


if __name__ == "__main__":
    sys.exit(main())
