"""The denseface command line (also: python -m denseface).

  denseface image IN.jpg -o OUT.png [--json OUT.json] [--mesh OUT.obj|.ply]   one image: drawing, JSON, mesh
  denseface video IN.mp4 [-o OUT.mp4] [--jsonl OUT.jsonl]                      every frame (tracking, smoothing)
  denseface demo [-o demo.png] [--json ...] [--mesh ...]                       scikit-image's astronaut photo
  denseface batch INPUT... --out DIR [--engine ray]                            folders of images and videos -> Parquet

The input and the output paths are checked before any work. Timings per stage are printed to stderr
at the end: the SDK's stages (detect, crop, infer, decode, smooth) and the command's own (read, draw,
write). Errors print one line and exit with status 1. Run 'denseface COMMAND --help' for a command's
options.
"""
from __future__ import annotations

import argparse
import sys
from importlib import metadata
from pathlib import Path
from typing import Sequence

import cv2
import numpy as np

from denseface import __version__, batch_cli, cli_video
from denseface.api import RunningMode
from denseface.cli_support import (check_image_output, check_input, check_mesh_output, check_output, fail,
                                   load_denseface, one_line, read_image, write_json, write_mesh)
from denseface.detect import DETECTOR_SPECS
from denseface.draw import DRAWABLE, draw_faces
from denseface.export import frame_document
from denseface.landmark_model import DEFAULT_MODEL
from denseface.timing import StageTimes

DEFAULT_DRAW = "mesh,points68,box,axes"


def package_version() -> str:
    """The installed ``denseface`` distribution's version; the package's own when not installed."""
    try:
        return metadata.version("denseface")
    except metadata.PackageNotFoundError:  # run from a source checkout on sys.path
        return f"{__version__} (not installed)"


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
    """Landmarks of one BGR image; writes the drawing (and JSON, mesh); prints a summary and timings.
    The output paths must have been checked (``check_outputs``)."""
    times = StageTimes()
    denseface = load_denseface(args, RunningMode.IMAGE)
    with times.stage("landmarks (all)"):
        faces = denseface.landmarks(bgr, timer=times)
    drawn = times.wrap("draw", draw_faces)(bgr, faces, args.draw, "bgr")
    try:
        saved = cv2.imwrite(str(args.output), drawn)
    except cv2.error as error:
        fail(f"cannot write {args.output}: {one_line(error)}")
    if not saved:
        fail(f"cannot write {args.output}")
    if args.json:
        write_json(args.json, frame_document(faces, bgr.shape[1], bgr.shape[0]))
    if args.mesh:
        write_mesh(args.mesh, faces)
    written = ", ".join(str(path) for path in (args.output, args.json, args.mesh) if path is not None)
    print(f"{name}: {len(faces)} face(s) -> {written}")
    for i, face in enumerate(faces):
        yaw, pitch, roll = face.pose
        print(f"  face {i}: box {tuple(round(v) for v in face.box)} score {face.score:.2f} "
              f"yaw {yaw:+.1f} pitch {pitch:+.1f} roll {roll:+.1f}")
    print(times.report(1), file=sys.stderr)
    return 0


def check_outputs(args: argparse.Namespace) -> None:
    """Fail unless the drawing, the JSON and the mesh (those given) can be written."""
    check_image_output(args.output)
    check_output(args.json)
    check_mesh_output(args.mesh)


def command_image(args: argparse.Namespace) -> int:
    check_input(args.input)
    check_outputs(args)
    return run_image(read_image(args.input), args, str(args.input))


def command_demo(args: argparse.Namespace) -> int:
    check_outputs(args)
    try:
        from skimage import data
    except ImportError:
        fail("the demo needs scikit-image: pip install 'denseface[demo]'")
    return run_image(cv2.cvtColor(data.astronaut(), cv2.COLOR_RGB2BGR), args, "astronaut (scikit-image)")


def add_exports(command: argparse.ArgumentParser) -> None:
    """--json and --mesh, the exports of the one-image commands."""
    command.add_argument("--json", type=Path, default=None,
                         help="also write the faces as JSON to this file (Face.to_dict() of each; default: none)")
    command.add_argument("--mesh", type=Path, default=None,
                         help="also write the faces as a mesh (the topology's triangles and UVs; Blender, "
                              "MeshLab) to this file, Wavefront OBJ or binary PLY by its extension, .obj or .ply "
                              "(default: none)")


def build_parser() -> argparse.ArgumentParser:
    """The argument parser: the commands with their options (defaults in --help)."""
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

    def add_command(name: str, summary: str, draws: bool = True) -> argparse.ArgumentParser:
        command = commands.add_parser(name, parents=[common], help=summary, description=summary, formatter_class=raw)
        if draws:
            command.add_argument("--draw", type=_draw_items, default=DEFAULT_DRAW, metavar="ITEMS",
                                 help=f"comma-separated items to draw, from {','.join(DRAWABLE)} "
                                      f"(default: {DEFAULT_DRAW})")
        return command

    image = add_command("image", "one image -> a drawing (and JSON, a mesh)")
    image.add_argument("input", type=Path, help="image file (any format OpenCV reads)")
    image.add_argument("-o", "--output", type=Path, required=True, help="drawing to write (.png, .jpg, ...)")
    add_exports(image)
    image.set_defaults(run=command_image)
    cli_video.add_arguments(add_command("video", "a video -> a video with the faces drawn, and/or JSON Lines"))
    demo = add_command("demo", "scikit-image's astronaut photo -> a drawing (and JSON, a mesh)")
    demo.add_argument("-o", "--output", type=Path, default=Path("demo.png"),
                      help="drawing to write (default: %(default)s, in the current folder)")
    add_exports(demo)
    demo.set_defaults(run=command_demo)
    batch_cli.add_arguments(add_command("batch", "folders, globs or list files of images and videos -> Parquet, "
                                        "one file per input (the job resumes)", draws=False))
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit status. Errors of the input, the model or the output
    exit with status 1 and a one-line message (argparse's usage errors with status 2)."""
    args = build_parser().parse_args(argv)
    return args.run(args)


if __name__ == "__main__":
    sys.exit(main())
