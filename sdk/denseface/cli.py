"""The denseface command line (also: python -m denseface).

  denseface image IN.jpg -o OUT.png [--json OUT.json]   faces of one image, drawn, and as JSON
  denseface video IN.mp4 -o OUT.mp4                     every frame (video mode: tracking, smoothing)
  denseface demo [-o demo.png]                          scikit-image's public-domain astronaut photo

The input and the output paths are checked before any work. Timings per stage are printed to stderr
at the end: the SDK's stages (detect, crop, infer, decode, smooth) and the command's own (read, draw,
write). Errors print one line and exit with status 1. Run 'denseface COMMAND --help' for a command's
options.
"""
from __future__ import annotations

import argparse
import json
import math
import os
import sys
from importlib import metadata
from pathlib import Path
from typing import NoReturn, Sequence

import cv2
import numpy as np

from denseface import __version__
from denseface.api import DenseFace, DenseFaceOptions, RunningMode
from denseface.checks import prepare_frame
from denseface.detect import DETECTOR_SPECS
from denseface.draw import DRAWABLE, draw_faces
from denseface.landmark_model import BUNDLED_MODELS, DEFAULT_MODEL
from denseface.face import Face
from denseface.timing import FrameProgress, StageTimes

DEFAULT_DRAW = "mesh,points68,box,axes"
VIDEO_EXTENSIONS = (".mp4", ".m4v", ".mov", ".avi", ".mkv")  # containers OpenCV writes with the mp4v codec


def fail(message: str) -> NoReturn:
    """Exit with status 1 and the one-line ``message`` on stderr (no traceback)."""
    raise SystemExit(f"denseface: error: {message}")


def one_line(error: BaseException) -> str:
    """An exception's message on one line (OpenCV's span several)."""
    return " ".join(str(error).split())


def package_version() -> str:
    """The installed ``denseface`` distribution's version; the package's own when not installed."""
    try:
        return metadata.version("denseface")
    except metadata.PackageNotFoundError:  # run from a source checkout on sys.path
        return f"{__version__} (not installed)"


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


def check_input(path: Path) -> None:
    """Fail unless ``path`` is an existing file."""
    if not path.is_file():
        fail(f"no such file: {path}")


def check_output(path: Path | None) -> None:
    """Fail unless ``path`` (when given) can be written: not a folder, in an existing writable folder."""
    if path is None:
        return
    if path.is_dir():
        fail(f"{path} is a folder; give a file name")
    if not path.parent.is_dir():
        fail(f"cannot write {path}: folder {path.parent} does not exist")
    if not os.access(path.parent, os.W_OK) or (path.exists() and not os.access(path, os.W_OK)):
        fail(f"cannot write {path}: permission denied")


def check_image_output(path: Path) -> None:
    """Fail unless OpenCV can write an image with ``path``'s extension (and ``check_output`` passes)."""
    if not path.suffix:
        fail(f"cannot tell the image format of {path}: add an extension such as .png or .jpg")
    if not cv2.haveImageWriter(str(path)):
        fail(f"cannot write an image with extension {path.suffix!r} ({path}); use .png or .jpg")
    check_output(path)


def read_image(path: Path) -> np.ndarray:
    """(H, W, 3) uint8 BGR image of ``path``; fails (one line) when OpenCV cannot decode a usable image."""
    try:
        bgr = cv2.imread(str(path), cv2.IMREAD_COLOR)
    except cv2.error as error:
        fail(f"cannot read an image from {path}: {one_line(error)}")
    if bgr is None:
        fail(f"cannot read an image from {path}: not a format OpenCV decodes")
    try:
        prepare_frame(bgr, "bgr")  # the API's frame checks (e.g. at least 2x2 pixels)
    except (TypeError, ValueError) as error:
        fail(f"cannot use the image {path}: {error}")
    return bgr


def load_denseface(args: argparse.Namespace, mode: RunningMode) -> DenseFace:
    """The DenseFace of the command-line options; fails (one line) on a missing or invalid model."""
    bundled = args.model in BUNDLED_MODELS
    options = DenseFaceOptions(model=args.model if bundled else DEFAULT_MODEL,
                               model_path=None if bundled else args.model, detector=args.detector,
                               max_faces=args.max_faces, num_threads=args.threads, color_order="bgr",
                               mirror_average=args.mirror_average,
                               running_mode=mode)
    try:
        return DenseFace(options)
    except (OSError, ValueError) as error:
        fail(one_line(error))


def _draw_items(text: str) -> tuple[str, ...]:
    items = tuple(s for s in text.split(",") if s)
    unknown = [s for s in items if s not in DRAWABLE]
    if unknown:
        raise argparse.ArgumentTypeError(f"unknown --draw items {unknown}; choose from {','.join(DRAWABLE)}")
    return items


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected an integer, got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected an integer >= 1, got {value}")
    return value


def run_image(bgr: np.ndarray, args: argparse.Namespace, name: str) -> int:
    """Landmarks of one BGR image; writes the drawing (and JSON); prints a summary and timings.
    The output paths must have been checked (``check_image_output``, ``check_output``)."""
    times = StageTimes()
    denseface = load_denseface(args, RunningMode.IMAGE)
    with times.stage("landmarks (all)"):
        faces = denseface.landmarks(bgr, timer=times)
    drawn = times.wrap("draw", draw_faces)(bgr, faces, args.draw, "bgr")
    try:
        written = cv2.imwrite(str(args.output), drawn)
    except cv2.error as error:
        fail(f"cannot write {args.output}: {one_line(error)}")
    if not written:
        fail(f"cannot write {args.output}")
    if args.json:
        try:
            args.json.write_text(json.dumps(faces_to_json(faces, bgr.shape[1], bgr.shape[0])))
        except OSError as error:
            fail(f"cannot write {args.json}: {error.strerror or error}")
    print(f"{name}: {len(faces)} face(s) -> {args.output}" + (f", {args.json}" if args.json else ""))
    for i, face in enumerate(faces):
        yaw, pitch, roll = face.pose
        print(f"  face {i}: box {tuple(round(v) for v in face.box)} score {face.score:.2f} "
              f"yaw {yaw:+.1f} pitch {pitch:+.1f} roll {roll:+.1f}")
    print(times.report(1), file=sys.stderr)
    return 0


def command_image(args: argparse.Namespace) -> int:
    check_input(args.input)
    check_image_output(args.output)
    check_output(args.json)
    return run_image(read_image(args.input), args, str(args.input))


def command_demo(args: argparse.Namespace) -> int:
    check_image_output(args.output)
    check_output(args.json)
    try:
        from skimage import data
    except ImportError:
        fail("the demo needs scikit-image: pip install 'denseface[demo]'")
    return run_image(cv2.cvtColor(data.astronaut(), cv2.COLOR_RGB2BGR), args, "astronaut (scikit-image)")


def command_video(args: argparse.Namespace) -> int:
    check_input(args.input)
    if args.output.suffix.lower() not in VIDEO_EXTENSIONS:
        fail(f"cannot write a video with extension {args.output.suffix!r} ({args.output}); "
             f"use one of {', '.join(VIDEO_EXTENSIONS)}")
    check_output(args.output)
    capture = cv2.VideoCapture(str(args.input))
    try:
        return run_video(capture, args)
    finally:
        capture.release()


def run_video(capture: cv2.VideoCapture, args: argparse.Namespace) -> int:
    """Landmarks of every frame of ``capture`` (VIDEO mode); writes the drawn video; prints a summary,
    progress and timings. Fails (one line) before loading the model when no frame can be read."""
    times = StageTimes()
    read = times.wrap("read", capture.read)
    ok, bgr = read() if capture.isOpened() else (False, None)
    if not ok:
        fail(f"cannot read a video from {args.input}")
    fps = capture.get(cv2.CAP_PROP_FPS) or 30.0
    denseface = load_denseface(args, RunningMode.VIDEO)
    landmarks = times.wrap("landmarks (all)", denseface.landmarks_for_video)
    draw = times.wrap("draw", draw_faces)
    writer = cv2.VideoWriter(str(args.output), cv2.VideoWriter_fourcc(*"mp4v"), fps, (bgr.shape[1], bgr.shape[0]))
    if not writer.isOpened():
        fail(f"cannot write a video to {args.output}")
    write = times.wrap("write", writer.write)
    progress = FrameProgress(int(capture.get(cv2.CAP_PROP_FRAME_COUNT) or 0))
    frames, with_faces = 0, 0
    try:
        while ok:
            faces = landmarks(bgr, frames * 1000.0 / fps, timer=times)
            with_faces += bool(faces)
            write(draw(bgr, faces, args.draw, "bgr"))
            frames += 1
            progress.update(frames)
            ok, bgr = read()
    finally:
        progress.close()
        writer.release()
    print(f"{args.input}: {frames} frames, faces in {with_faces} -> {args.output}")
    print(times.report(frames), file=sys.stderr)
    return 0


def build_parser() -> argparse.ArgumentParser:
    """The argument parser: commands image, video and demo with their options (defaults in --help)."""
    raw = argparse.RawDescriptionHelpFormatter
    parser = argparse.ArgumentParser(prog="denseface", description=__doc__, formatter_class=raw)
    parser.add_argument("--version", action="version", version=f"%(prog)s {package_version()}")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--model", default=DEFAULT_MODEL, metavar="full|lite|PATH",
                        help="landmark model: a bundled one, full (most accurate) or lite (a third of the "
                             "cost), or a .tflite file (default: %(default)s)")
    common.add_argument("--detector", choices=sorted(DETECTOR_SPECS), default="short_int8",
                        help="BlazeFace model: short_int8 (faces within ~2 m, int8), short (the same, float) "
                             "or full range (default: %(default)s)")
    common.add_argument("--max-faces", type=_positive_int, default=4,
                        help="most faces per image or frame (default: %(default)s, so that a group photo shows "
                             "several faces; the Python API's max_faces defaults to 1, for one user in front of "
                             "a camera)")
    common.add_argument("--threads", type=_positive_int, default=1,
                        help="CPU threads per model (default: %(default)s)")
    common.add_argument("--mirror-average", action="store_true",
                        help="run the landmark model on each crop and its mirror image and average them "
                             "(twice the model's time, more accurate)")
    common.add_argument("--draw", type=_draw_items, default=DEFAULT_DRAW, metavar="ITEMS",
                        help=f"comma-separated items to draw, from {','.join(DRAWABLE)} (default: {DEFAULT_DRAW})")

    def add_command(name: str, summary: str) -> argparse.ArgumentParser:
        return commands.add_parser(name, parents=[common], help=summary, description=summary, formatter_class=raw)

    image = add_command("image", "one image -> a drawing (and JSON)")
    image.add_argument("input", type=Path, help="image file (any format OpenCV reads)")
    image.add_argument("-o", "--output", type=Path, required=True, help="drawing to write (.png, .jpg, ...)")
    image.add_argument("--json", type=Path, default=None, help="also write the faces as JSON to this file "
                       "(default: no JSON)")
    image.set_defaults(run=command_image)
    video = add_command("video", "a video -> a video with the faces drawn")
    video.add_argument("input", type=Path, help="video file (any format OpenCV reads)")
    video.add_argument("-o", "--output", type=Path, required=True,
                       help=f"video to write, mp4v codec ({', '.join(VIDEO_EXTENSIONS)})")
    video.set_defaults(run=command_video)
    demo = add_command("demo", "scikit-image's astronaut photo -> a drawing (and JSON)")
    demo.add_argument("-o", "--output", type=Path, default=Path("demo.png"),
                      help="drawing to write (default: %(default)s)")
    demo.add_argument("--json", type=Path, default=None, help="also write the faces as JSON to this file "
                      "(default: no JSON)")
    demo.set_defaults(run=command_demo)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit status. Errors of the input, the model or the output
    exit with status 1 and a one-line message (argparse's usage errors with status 2)."""
    args = build_parser().parse_args(argv)
    return args.run(args)


if __name__ == "__main__":
    sys.exit(main())
