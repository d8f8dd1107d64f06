"""AFLW2000-3D accuracy under 3DDFA's protocol.

NME of the 2-D 68 points: for each image, the mean Euclidean distance between predicted and
ground-truth (x, y) over the 68 landmarks, divided by √(w·h) of the ground-truth 68-point box, in %.
Images are split by |yaw| (degrees, from ground_truth.npz ``pose``) into [0, 30], (30, 60], (60, 90];
as in 3DDFA's benchmark code the last bin takes every |yaw| > 60 (7 images have |yaw| > 90), giving
1312 / 383 / 305 images. The balanced mean is the plain mean of the three bin means. Images a method did not produce landmarks
for (a missed detection) are reported separately and excluded from the means.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

YAW_BINS = ((0.0, 30.0), (30.0, 60.0), (60.0, 90.0))


@dataclass(frozen=True)
class NMEReport:
    """bins: mean NME (%) per yaw bin; balanced: mean of the bins; overall: mean over all scored images;
    counts: scored images per bin; missed: images without a prediction; per_image: (N,) NaN = missed."""

    bins: tuple[float, float, float]
    balanced: float
    overall: float
    counts: tuple[int, int, int]
    missed: int
    per_image: np.ndarray

    def row(self) -> str:
        b = " / ".join(f"{v:.2f}" for v in self.bins)
        return f"{b} → {self.balanced:.2f} balanced (all {self.overall:.2f}; missed {self.missed})"


def nme_per_image(pred_xy: np.ndarray, gt_xy: np.ndarray) -> np.ndarray:
    """(N,) NME in % for predictions (N, 68, 2) against ground truth (N, 68, 2), both in image pixels."""
    lo, hi = gt_xy.min(1), gt_xy.max(1)
    norm = np.sqrt(np.prod(hi - lo, axis=1))
    return 100.0 * np.linalg.norm(pred_xy - gt_xy, axis=2).mean(1) / norm


def nme_report(pred_xy: np.ndarray, gt_xy: np.ndarray, yaw_deg: np.ndarray) -> NMEReport:
    """The 3DDFA-protocol report; rows of ``pred_xy`` that contain NaN count as missed."""
    per_image = nme_per_image(pred_xy, gt_xy)
    yaw = np.abs(yaw_deg)
    scored = np.isfinite(per_image)
    bins, counts = [], []
    for i, (lo, hi) in enumerate(YAW_BINS):
        upper = (yaw <= hi) if i < len(YAW_BINS) - 1 else np.ones_like(scored)
        sel = scored & upper & ((yaw > lo) if i else True)
        bins.append(float(per_image[sel].mean()) if sel.any() else float("nan"))
        counts.append(int(sel.sum()))
    return NMEReport(
        bins=tuple(bins), balanced=float(np.mean(bins)), overall=float(per_image[scored].mean()),
        counts=tuple(counts), missed=int((~scored).sum()), per_image=per_image,
    )
