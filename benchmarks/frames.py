"""The frames the benchmarks run on: AFLW2000-3D originals as 640×480 camera frames, and a synthetic
moving-face video.

* ``aflw_frame(path)``: a 450×450 AFLW2000-3D original scaled to 480×480 (aspect kept, bilinear)
  and centred on a black 640×480 frame, RGB uint8.
* ``moving_face_frames(count)``: a 30 fps sequence of 640×480 frames in which one AFLW2000-3D face
  (``MOVING_SOURCE``) moves over a fixed textured background: its centre follows two sines
  (±110 px horizontally, period 4 s; ±50 px vertically, 3 s), its scale 0.70..1.00 (5 s) and its roll
  ±12° (6 s). Fastest motion ≈ 6 px per frame. Deterministic: the same frames on every machine.

Only numpy and OpenCV are needed, so the MediaPipe FaceMesh worker (another virtual environment,
``benchmarks.facemesh_worker``) builds exactly the same frames.
"""
from __future__ import annotations

import math
import os
from functools import lru_cache
from pathlib import Path
from typing import Iterator

import cv2
import numpy as np

FRAME_WIDTH, FRAME_HEIGHT = 640, 480
FPS = 30.0
MOVING_SOURCE = "image00002.jpg"  # a near-frontal AFLW2000-3D face (the one the SDK tests use)


def aflw_images_dir() -> Path:
    """AFLW2000-3D originals: ``$DENSEFACE_SHARED_DATA/aflw2000_3d/images`` or ../shared/data beside the repo."""
    root = os.environ.get("DENSEFACE_SHARED_DATA")
    base = Path(root) if root else Path(__file__).resolve().parents[2] / "shared" / "data"
    return base / "aflw2000_3d" / "images"


def aflw_paths(images_dir: Path | None = None) -> list[Path]:
    """The sorted .jpg paths of the AFLW2000-3D originals.

    Raises:
        FileNotFoundError: the folder is missing or holds no .jpg.
    """
    folder = aflw_images_dir() if images_dir is None else Path(images_dir)
    paths = sorted(folder.glob("*.jpg"))
    if not paths:
        raise FileNotFoundError(
            f"no AFLW2000-3D images in {folder}: the shared data is expected in ../shared/data beside the "
            "repository (or set DENSEFACE_SHARED_DATA)")
    return paths


def read_rgb(path: Path) -> np.ndarray:
    """(H, W, 3) uint8 RGB image from a file."""
    image = cv2.imread(str(path), cv2.IMREAD_COLOR)
    if image is None:
        raise FileNotFoundError(f"cannot read image {path}")
    return cv2.cvtColor(image, cv2.COLOR_BGR2RGB)


def fit_frame(image: np.ndarray) -> np.ndarray:
    """(H, W, 3) uint8 image → (480, 640, 3) uint8: scaled to fit (aspect kept), centred, black borders."""
    height, width = image.shape[:2]
    scale = min(FRAME_WIDTH / width, FRAME_HEIGHT / height)
    size = (max(1, round(width * scale)), max(1, round(height * scale)))
    resized = cv2.resize(image, size, interpolation=cv2.INTER_LINEAR if scale > 1 else cv2.INTER_AREA)
    frame = np.zeros((FRAME_HEIGHT, FRAME_WIDTH, 3), np.uint8)
    x0, y0 = (FRAME_WIDTH - size[0]) // 2, (FRAME_HEIGHT - size[1]) // 2
    frame[y0:y0 + size[1], x0:x0 + size[0]] = resized
    return frame


def aflw_frame(path: Path) -> np.ndarray:
    """One AFLW2000-3D original as a (480, 640, 3) uint8 RGB frame (:func:`fit_frame`)."""
    return fit_frame(read_rgb(path))


@lru_cache(maxsize=1)
def background() -> np.ndarray:
    """A fixed (480, 640, 3) uint8 background: a colour gradient with blurred noise (no faces)."""
    rng = np.random.default_rng(0)
    y, x = np.mgrid[0:FRAME_HEIGHT, 0:FRAME_WIDTH].astype(np.float32)
    gradient = np.stack([90 + 60 * x / FRAME_WIDTH, 110 + 40 * y / FRAME_HEIGHT, 120 - 30 * x / FRAME_WIDTH], -1)
    noise = cv2.GaussianBlur(rng.normal(0, 40, (FRAME_HEIGHT, FRAME_WIDTH, 3)).astype(np.float32), (0, 0), 6)
    return np.clip(gradient + noise, 0, 255).astype(np.uint8)


def moving_face_pose(t_s: float) -> tuple[float, float, float, float]:
    """(dx, dy, scale, roll_deg) of the moving face at time ``t_s`` seconds (see the module docstring)."""
    dx = 110.0 * math.sin(2 * math.pi * t_s / 4.0)
    dy = 50.0 * math.sin(2 * math.pi * t_s / 3.0 + 0.5)
    scale = 0.85 + 0.15 * math.sin(2 * math.pi * t_s / 5.0)
    roll = 12.0 * math.sin(2 * math.pi * t_s / 6.0)
    return dx, dy, scale, roll


def moving_face_frames(count: int, source: Path | None = None, fps: float = FPS) -> Iterator[tuple[np.ndarray, float]]:
    """``count`` frames of the moving-face sequence: ((480, 640, 3) uint8 RGB frame, timestamp_ms)."""
    image = read_rgb(source if source is not None else aflw_images_dir() / MOVING_SOURCE)
    height, width = image.shape[:2]
    mask = np.full((height, width), 255, np.uint8)
    backdrop = background()
    for i in range(count):
        t = i / fps
        dx, dy, scale, roll = moving_face_pose(t)
        matrix = cv2.getRotationMatrix2D(((width - 1) / 2, (height - 1) / 2), roll, scale)
        matrix[:, 2] += [(FRAME_WIDTH - width) / 2 + dx, (FRAME_HEIGHT - height) / 2 + dy]
        face = cv2.warpAffine(image, matrix, (FRAME_WIDTH, FRAME_HEIGHT), flags=cv2.INTER_LINEAR)
        inside = cv2.warpAffine(mask, matrix, (FRAME_WIDTH, FRAME_HEIGHT), flags=cv2.INTER_NEAREST) > 0
        frame = backdrop.copy()
        frame[inside] = face[inside]
        yield frame, 1000.0 * t
