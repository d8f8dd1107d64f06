"""AFLW2000-3D and AFLW accuracy under 3DDFA's protocol.

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
FAILURE_NME = 10.0  # %: a face above this is a failure (the points no longer follow the face)
# AFLW's 21 points from the iBUG 68 (0-based; a tuple is the mean of those points), 3DDFA's map, in
# AFLW's order: six brow points, per eye its corners and centre, then jaw point 2 (for the right ear
# lobe), the nose's three, jaw point 14 (left lobe), the mouth's corners and centre, and the chin.
AFLW21_FROM_68 = (17, 19, 21, 22, 24, 26, 36, tuple(range(36, 42)), 39, 42, tuple(range(42, 48)), 45,
                  2, 31, 30, 35, 14, 48, tuple(range(60, 68)), 54, 8)


@dataclass(frozen=True)
class NMEReport:
    """bins: mean NME (%) per yaw bin; balanced: mean of the bins; overall: mean over all scored images;
    counts: scored images per bin; missed: images without a prediction; failures: scored images per
    bin with NME > FAILURE_NME; per_image: (N,) NaN = missed."""

    bins: tuple[float, float, float]
    balanced: float
    overall: float
    counts: tuple[int, int, int]
    missed: int
    failures: tuple[int, int, int]
    per_image: np.ndarray

    def row(self) -> str:
        b = " / ".join(f"{v:.2f}" for v in self.bins)
        return (f"{b} → {self.balanced:.2f} balanced (all {self.overall:.2f}; missed {self.missed}; "
                f"failures >{FAILURE_NME:g}% at >60° {self.failures[2]} of {self.counts[2]})")


def nme_per_image(pred_xy: np.ndarray, gt_xy: np.ndarray) -> np.ndarray:
    """(N,) NME in % for predictions (N, 68, 2) against ground truth (N, 68, 2), both in image pixels."""
    lo, hi = gt_xy.min(1), gt_xy.max(1)
    norm = np.sqrt(np.prod(hi - lo, axis=1))
    return 100.0 * np.linalg.norm(pred_xy - gt_xy, axis=2).mean(1) / norm


def nme21_per_image(pred_xy: np.ndarray, gt_xy: np.ndarray, visible: np.ndarray, roi_side: np.ndarray) -> np.ndarray:
    """(N,) AFLW NME in %: predictions (N, 21, 2) against ground truth (N, 21, 2) in the same pixels,
    the mean over the points where ``visible`` (N, 21) is true, divided by ``roi_side`` (N,) / √2."""
    error = np.linalg.norm(pred_xy - gt_xy, axis=2)
    mean = np.where(visible, error, 0.0).sum(1) / np.maximum(visible.sum(1), 1)
    return 100.0 * mean / (np.asarray(roi_side) / np.sqrt(2.0))


def aflw21(points68: np.ndarray) -> np.ndarray:
    """(..., 21, C) AFLW's 21 points from (..., 68, C) iBUG points (``AFLW21_FROM_68``)."""
    return np.stack([points68[..., list(i), :].mean(-2) if isinstance(i, tuple) else points68[..., i, :]
                     for i in AFLW21_FROM_68], axis=-2)


def nme_report(pred_xy: np.ndarray, gt_xy: np.ndarray, yaw_deg: np.ndarray) -> NMEReport:
    """The 3DDFA-protocol report; rows of ``pred_xy`` that contain NaN count as missed."""
    return binned_report(nme_per_image(pred_xy, gt_xy), yaw_deg)


def binned_report(per_image: np.ndarray, yaw_deg: np.ndarray) -> NMEReport:
    """The report of per-image NMEs (N,) (NaN = missed) binned by |yaw| (N,) degrees."""
    yaw = np.abs(yaw_deg)
    scored = np.isfinite(per_image)
    bins, counts, failures = [], [], []
    for i, (lo, hi) in enumerate(YAW_BINS):
        upper = (yaw <= hi) if i < len(YAW_BINS) - 1 else np.ones_like(scored)
        sel = scored & upper & ((yaw > lo) if i else True)
        bins.append(float(per_image[sel].mean()) if sel.any() else float("nan"))
        counts.append(int(sel.sum()))
        failures.append(int((per_image[sel] > FAILURE_NME).sum()))
    return NMEReport(
        bins=tuple(bins), balanced=float(np.mean(bins)), overall=float(per_image[scored].mean()),
        counts=tuple(counts), missed=int((~scored).sum()), failures=tuple(failures), per_image=per_image,
    )
