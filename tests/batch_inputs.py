"""Small batch inputs for tests/test_batch*.py: scikit-image's astronaut (one face) as images and a
short video, a picture without a face, files that cannot be read and a video cut short."""
from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest

VIDEO_FPS = 25.0
VIDEO_FRAMES = 6


def astronaut_bgr() -> np.ndarray:
    """scikit-image's public-domain astronaut photo, (512, 512, 3) uint8 BGR: one face."""
    skimage_data = pytest.importorskip("skimage.data", reason="scikit-image (the demo/test extra) is needed")
    return cv2.cvtColor(skimage_data.astronaut(), cv2.COLOR_RGB2BGR)


def write_video(path: Path, frames: list[np.ndarray]) -> Path:
    """An MJPG AVI at ``VIDEO_FPS`` (AVI: still readable when cut short, unlike an MP4 without its index)."""
    height, width = frames[0].shape[:2]
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"MJPG"), VIDEO_FPS, (width, height))
    for frame in frames:
        writer.write(frame)
    writer.release()
    return path


def make_inputs(folder: Path) -> dict[str, Path]:
    """Writes the inputs into ``folder`` (a sub-folder too); returns them by role:
    face / mirrored (images with one face), empty (no face), video (``VIDEO_FRAMES`` frames, the face
    moving 3 px a frame), broken (text named .jpg), short (the video cut at 60 %: its header still
    counts every frame), bad_video (an MP4 cut in half: no index, unreadable)."""
    face = astronaut_bgr()
    (folder / "sub").mkdir(parents=True)
    paths = {"face": folder / "face.jpg", "mirrored": folder / "sub" / "mirrored.png",
             "empty": folder / "grey.png", "broken": folder / "broken.jpg"}
    cv2.imwrite(str(paths["face"]), face)
    cv2.imwrite(str(paths["mirrored"]), np.ascontiguousarray(face[:, ::-1]))
    cv2.imwrite(str(paths["empty"]), np.full((96, 128, 3), 128, np.uint8))
    paths["broken"].write_text("not an image")
    paths["video"] = write_video(folder / "clip.avi", [np.roll(face, 3 * k, axis=1) for k in range(VIDEO_FRAMES)])
    data = paths["video"].read_bytes()
    paths["short"] = folder / "short.avi"
    paths["short"].write_bytes(data[: int(len(data) * 0.6)])
    mp4 = folder / "whole.mp4"
    writer = cv2.VideoWriter(str(mp4), cv2.VideoWriter_fourcc(*"mp4v"), VIDEO_FPS, (64, 64))
    for _ in range(4):
        writer.write(np.zeros((64, 64, 3), np.uint8))
    writer.release()
    paths["bad_video"] = folder / "cut.mp4"
    paths["bad_video"].write_bytes(mp4.read_bytes()[: mp4.stat().st_size // 2])
    mp4.unlink()
    return paths
