"""The model's output contract, and decoding it into frame pixels.

The landmark model maps a 120×120 uint8 RGB crop (``denseface.crop``) to 1560 values: the 520 points
of ``denseface.topology`` as (x, y, z) triplets, point-major, divided by the crop side:
x, y in crop pixels (x right, y down, pixel centres at integers) / 120; z = depth relative to the
mean depth of the 520 points, +z towards the camera, in crop pixels / 120. ``encode`` is the inverse,
used to make training targets.
"""
from __future__ import annotations

import numpy as np

from denseface.crop import MODEL_INPUT, CropTransform
from denseface.topology import N_POINTS

OUTPUT_SIZE = 3 * N_POINTS


def encode(points_crop: np.ndarray) -> np.ndarray:
    """(520, 3) crop-pixel points (z relative, any offset) → (1560,) float32 model target."""
    p = np.asarray(points_crop, np.float64).copy()
    if p.shape != (N_POINTS, 3):
        raise ValueError(f"expected ({N_POINTS}, 3) points, got {p.shape}")
    p[:, 2] -= p[:, 2].mean()
    return (p / MODEL_INPUT).reshape(-1).astype(np.float32)


def to_crop_points(output: np.ndarray) -> np.ndarray:
    """(1560,) model output → (520, 3) float32 points in crop pixels (z relative to the points' mean)."""
    out = np.asarray(output, np.float32).reshape(-1)
    if out.size != OUTPUT_SIZE:
        raise ValueError(f"expected {OUTPUT_SIZE} model outputs, got {out.size}")
    return out.reshape(N_POINTS, 3) * np.float32(MODEL_INPUT)


def decode(output: np.ndarray, transform: CropTransform) -> np.ndarray:
    """(1560,) model output for the crop made by ``transform`` → (520, 3) float32 frame points:
    x, y in frame pixels; z in frame pixels, relative to the points' mean depth, +z towards the camera."""
    return transform.to_frame(to_crop_points(output))
