"""What the denseface commands share: one-line failures, checks of the paths given, reading an
image, the DenseFace of the command-line options, and writing results (JSON, meshes).

Every failure exits with status 1 and one line on stderr (``fail``), before any work where it can
be checked first.
"""
from __future__ import annotations

import argparse
import json
import os
from pathlib import Path
from typing import NoReturn

import cv2
import numpy as np

from denseface import export
from denseface.api import DenseFace, DenseFaceOptions, RunningMode
from denseface.checks import prepare_frame
from denseface.landmark_model import BUNDLED_MODELS, DEFAULT_MODEL


def fail(message: str) -> NoReturn:
    """Exit with status 1 and the one-line ``message`` on stderr (no traceback)."""
    raise SystemExit(f"denseface: error: {message}")


def one_line(error: BaseException) -> str:
    """An exception's message on one line (OpenCV's span several)."""
    return " ".join(str(error).split())


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


def check_mesh_output(path: Path | None) -> None:
    """Fail unless ``path`` (when given) ends in a mesh extension (.obj or .ply, ``export.MESH_WRITERS``)
    and ``check_output`` passes."""
    if path is not None and path.suffix.lower() not in export.MESH_WRITERS:
        fail(f"cannot write a mesh with extension {path.suffix!r} ({path}); use {' or '.join(export.MESH_WRITERS)}")
    check_output(path)


def write_json(path: Path, document: dict) -> None:
    """Write ``document`` as JSON to ``path``; fails (one line) when it cannot be written."""
    try:
        path.write_text(json.dumps(document))
    except OSError as error:
        fail(f"cannot write {path}: {error.strerror or error}")


def write_mesh(path: Path, faces: list) -> None:
    """Write ``faces`` as a mesh to ``path``, OBJ or PLY by its extension (checked by
    ``check_mesh_output``); fails (one line) when it cannot be written."""
    try:
        export.write_mesh(path, faces)
    except OSError as error:
        fail(f"cannot write {path}: {error.strerror or error}")
