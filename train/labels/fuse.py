"""Fused labels: the ICT fit to MediaPipe's 468 points, with our 68 points also pulled to 3DDFA_V2's.

MediaPipe's mesh gives the dense shape but does not follow the BFM definition of the jaw contour and
the brows that AFLW2000-3D (and our first 68 points, see ``denseface.topology``) use. 3DDFA_V2
predicts exactly those 68 points. ``fused_fit`` fits ICT to both: the 468 MediaPipe points (x, y, z)
and the x, y of 3DDFA_V2's 68 points as targets for our 68 topology points (3DDFA's z is in another
frame and is not used).

Steps: fit the 468 points alone; crop 3DDFA's way (``crop_from_landmarks``: the 68-point box made
square, ×√2, 120 px) around our 68 points of that fit and run 3DDFA_V2; crop again around 3DDFA_V2's
own 68 points (3DDFA_V2's landmark crop policy, the framing its training crops have) and run it once
more; fit again with those 68 points as ``ExtraPoints``.

Weight (``TDDFA_WEIGHT``, chosen a priori, not on any test set): the two teachers get the same total
say in x, y, i.e. each of the 68 points weighs 468 / 68 ≈ 6.9 MediaPipe points. MediaPipe's 468 points
are dense samples of one surface whose errors are strongly correlated, so counting them as 468
independent measurements against 68 would let MediaPipe's contour definition win everywhere.
"""
from __future__ import annotations

import numpy as np

from denseface.crop import MODEL_INPUT, crop_from_landmarks
from denseface.topology import IBUG68, load_topology
from train.labels.fit import MESH_POINTS, ExtraPoints, FitOptions, FitResult, fit_face, reject_reason
from train.labels.ict import topology_points
from train.labels.tddfa import TDDFA

TDDFA_WEIGHT = MESH_POINTS / len(IBUG68)  # per 3DDFA point, in MediaPipe points: equal total x, y weight
# A fused fit departs from the 468 points by design (median residual_norm 0.0135 on 150 LFW faces, 99th
# percentile 0.0233, against 0.008 / 0.0125 unfused): its own residual limit, from those LFW figures.
FUSED_MAX_RESIDUAL_NORM = 0.025


def tddfa_points(image_rgb: np.ndarray, points68_xy: np.ndarray, tddfa: TDDFA) -> np.ndarray:
    """3DDFA_V2's 68 points on the crop framed by ``points68_xy``.

    image_rgb: (H, W, 3) uint8 RGB. points68_xy: (68, 2) current 68-point estimate, image pixels (x
    right, y down). Returns (68, 2) float64 3DDFA_V2's 68 points (x, y) in image pixels.
    """
    transform = crop_from_landmarks(points68_xy, MODEL_INPUT)
    crop_bgr = np.ascontiguousarray(transform.warp(image_rgb)[:, :, ::-1])
    return transform.to_frame(tddfa.predict(crop_bgr)[:, :2]).astype(np.float64)


def fused_fit(
    image_rgb: np.ndarray,
    points468: np.ndarray,
    tddfa: TDDFA,
    options: FitOptions = FitOptions(),
    first: FitResult | None = None,
) -> tuple[FitResult, np.ndarray]:
    """The ICT fit to MediaPipe's 468 points and 3DDFA_V2's 68 points (x, y) of one face.

    image_rgb: (H, W, 3) uint8 RGB image the points were found on. points468: (468, 3) MediaPipe's
    points, image frame (see ``fit_face``). Returns (the fused fit, (68, 2) float64 3DDFA_V2's 68
    points in image pixels that it was pulled to). ``first``: the fit to the 468 points alone when the
    caller has it already. Raises ValueError for bad input (``fit_face``).
    """
    image = np.asarray(image_rgb)
    if image.ndim != 3 or image.shape[2] != 3 or image.dtype != np.uint8:
        raise ValueError(f"image_rgb must be an (H, W, 3) uint8 RGB array, got {image.shape} {image.dtype}")
    first = fit_face(points468, options) if first is None else first
    ours68 = topology_points(first.vertices)[IBUG68, :2]
    tddfa68 = tddfa_points(image, tddfa_points(image, ours68, tddfa), tddfa)
    topo = load_topology()
    extra = ExtraPoints(
        xy=tddfa68, triangle=topo.ict_triangle[IBUG68], bary=topo.bary[IBUG68], weight=TDDFA_WEIGHT
    )
    return fit_face(points468, options, extra), tddfa68



def label_verdict(first: FitResult, fused: FitResult, points468: np.ndarray) -> str | None:
    """Why a photo's labels are rejected (None: kept), from its fit to the 468 points alone and its
    fused fit: the first must pass ``reject_reason`` (the teacher's points are sound), the fused one
    must pass it with ``FUSED_MAX_RESIDUAL_NORM`` (reasons then prefixed ``fused_``)."""
    reason = reject_reason(first, points468)
    if reason is not None:
        return reason
    reason = reject_reason(fused, points468, FUSED_MAX_RESIDUAL_NORM)
    return None if reason is None else f"fused_{reason}"
