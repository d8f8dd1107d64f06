"""Blendshapes: MediaPipe's 52 ARKit-named expression coefficients, from a face's 520 points.

The ICT-FaceKit face model (MIT) is a mean face plus identity and expression offsets whose expressions
are ARKit's blendshapes. ``fit_blendshapes`` fits it to the 520 points (``assets/blendshapes.npz``,
built by ``python -m train.labels.make_blendshape_basis``: the ICT bases at the 520 points, 196 KiB):

    points ≈ s · F · R · (mean_shape + identity · α + expression · β) + t

with a similarity (s, R, t; F flips y: ``denseface.pose``), α the first 40 identity weights and β the
55 ICT expression weights in [0, 1]: from a similarity fit of the mean face (``pose.umeyama``),
Gauss-Newton steps update pose, α and β together (β kept in [0, 1], α and β regularised:
``solve_bounded``), numpy only. The residuals are measured in the model's centimetres.

Names and sides follow MediaPipe's Face Landmarker (``face_blendshapes``): "eyeBlinkLeft" is the
subject's own left eye (on the image's right in an unmirrored photo), as ARKit and ICT ("eyeBlink_L")
name it. ICT splits browInnerUp and cheekPuff into left and right halves: their mean is reported.
ICT's cheekRaiser_L/R (not ARKit) are fitted but not reported. "_neutral" (MediaPipe's model emits
one and says to ignore it) is 1 − the largest of the other 51: 1 for the rest face.
"""
from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from importlib import resources

import cv2
import numpy as np

from denseface.checks import check_points
from denseface.pose import Y_FLIP, umeyama
from denseface.topology import load_topology

MEDIAPIPE_NAMES = (  # MediaPipe's output order (face_blendshapes_graph.cc)
    "_neutral", "browDownLeft", "browDownRight", "browInnerUp", "browOuterUpLeft", "browOuterUpRight",
    "cheekPuff", "cheekSquintLeft", "cheekSquintRight", "eyeBlinkLeft", "eyeBlinkRight", "eyeLookDownLeft",
    "eyeLookDownRight", "eyeLookInLeft", "eyeLookInRight", "eyeLookOutLeft", "eyeLookOutRight", "eyeLookUpLeft",
    "eyeLookUpRight", "eyeSquintLeft", "eyeSquintRight", "eyeWideLeft", "eyeWideRight", "jawForward", "jawLeft",
    "jawOpen", "jawRight", "mouthClose", "mouthDimpleLeft", "mouthDimpleRight", "mouthFrownLeft",
    "mouthFrownRight", "mouthFunnel", "mouthLeft", "mouthLowerDownLeft", "mouthLowerDownRight", "mouthPressLeft",
    "mouthPressRight", "mouthPucker", "mouthRight", "mouthRollLower", "mouthRollUpper", "mouthShrugLower",
    "mouthShrugUpper", "mouthSmileLeft", "mouthSmileRight", "mouthStretchLeft", "mouthStretchRight",
    "mouthUpperUpLeft", "mouthUpperUpRight", "noseSneerLeft", "noseSneerRight",
)
ITERATIONS = 3  # joint Gauss-Newton steps (pose and weights together): converged after 3 on ICT faces
# Tikhonov weights (cm², relative to the squared point residuals in the model's cm): about the
# per-coordinate noise variance of the points, as in train/labels/fit.py. The best of a few pairs
# (0.05-1 × 0.01-0.05) on ICT faces with exact and 2 %-noisy points, seeds apart from the benchmark's.
LAMBDA_IDENTITY = 0.05
LAMBDA_EXPRESSION = 0.05


def ict_to_mediapipe(name: str) -> str | None:
    """The MediaPipe name an ICT expression reports under ("eyeBlink_L" → "eyeBlinkLeft"; the halves of
    browInnerUp and cheekPuff → "browInnerUp", "cheekPuff"); None for the ICT expressions MediaPipe
    has no name for (cheekRaiser_L/R, PupilDilate_L/R)."""
    base, _, side = name.partition("_")
    if base in ("browInnerUp", "cheekPuff"):
        return base
    mediapipe = base + {"L": "Left", "R": "Right"}.get(side, side)
    return mediapipe if mediapipe in MEDIAPIPE_NAMES else None


@dataclass(frozen=True)
class _Model:
    """The ICT bases at the 520 points (float64, cm, model frame) and the fit's constant matrices.

    flat: (1560, K) identity then expression columns, rows x0, y0, z0, x1, .... lambdas: (K,) the
    Tikhonov weights; hessian: (K, K) ``flatᵀ·flat + diag(lambdas)``. report: (51, E) the MediaPipe coefficients (names 1..51) from the E
    expression weights (a row of ones for a whole expression, of halves for split ones).
    """

    mean: np.ndarray
    flat: np.ndarray
    hessian: np.ndarray
    lambdas: np.ndarray
    n_identity: int
    report: np.ndarray


@lru_cache(maxsize=1)
def _model() -> _Model:
    with resources.files("denseface").joinpath("assets/blendshapes.npz").open("rb") as f:
        d = np.load(f)
        identity, expression = d["identity"].astype(np.float64), d["expression"].astype(np.float64)
        names = [str(s) for s in d["expression_names"]]
    flat = np.concatenate([identity, expression]).reshape(len(identity) + len(expression), -1).T
    lambdas = np.r_[np.full(len(identity), LAMBDA_IDENTITY), np.full(len(expression), LAMBDA_EXPRESSION)]
    report = np.zeros((len(MEDIAPIPE_NAMES) - 1, len(names)))
    for j, name in enumerate(names):
        target = ict_to_mediapipe(name)
        if target is not None:
            report[MEDIAPIPE_NAMES.index(target) - 1, j] = 1.0
    report /= report.sum(axis=1, keepdims=True)  # every MediaPipe name has one or two ICT sources
    return _Model(mean=load_topology().mean_shape.astype(np.float64), flat=flat,
                  hessian=flat.T @ flat + np.diag(lambdas), lambdas=lambdas, n_identity=len(identity), report=report)


def solve_bounded(h: np.ndarray, g: np.ndarray, lower: np.ndarray, upper: np.ndarray,
                  start: np.ndarray) -> np.ndarray:
    """Minimise ``½ xᵀ h x − gᵀ x`` subject to ``lower ≤ x ≤ upper`` (±inf for unbounded).

    h: (K, K) symmetric positive definite; g, lower, upper, start: (K,). A small active-set loop: the
    active set starts from the bounds ``start`` touches, violated variables are fixed at their bound,
    and fixed variables whose gradient points into the box are released.
    """
    at_lower, at_upper = start <= lower, start >= upper
    x = start
    for _ in range(20):
        fixed = at_lower | at_upper
        x = np.where(at_lower, lower, np.where(at_upper, upper, 0.0))
        free = ~fixed
        rhs = g[free] - h[np.ix_(free, fixed)] @ x[fixed]
        x[free] = np.linalg.solve(h[np.ix_(free, free)], rhs)
        below, above = free & (x < lower), free & (x > upper)
        if below.any() or above.any():
            at_lower |= below
            at_upper |= above
            continue
        grad = h @ x - g
        release = (at_lower & (grad < 0)) | (at_upper & (grad > 0))
        if not release.any():
            break
        at_lower &= ~release
        at_upper &= ~release
    return np.clip(x, lower, upper)


def _pose_jacobian(shape: np.ndarray) -> np.ndarray:
    """(N·3, 7) derivatives of ``(1 + ds) · exp([ω]×) · X + dt`` at 0 for model points X (N, 3):
    columns ω (3), ds, dt (3); rows x0, y0, z0, x1, ...."""
    x, y, z = shape.T
    zero, one = np.zeros_like(x), np.ones_like(x)
    cross = np.stack([[zero, z, -y], [-z, zero, x], [y, -x, zero]]).transpose(2, 0, 1)  # ω × X = cross @ ω
    eye = np.broadcast_to(np.eye(3), (len(x), 3, 3))
    return np.concatenate([cross, shape[:, :, None], eye], axis=2).reshape(-1, 7)


def fit_expression(points: np.ndarray) -> np.ndarray:
    """(E,) float64 the ICT expression weights in [0, 1] (the asset's ``expression_names`` order) of a
    face's (520, 3) frame points (x right, y down, z towards the camera, pixels).

    Raises ValueError for a wrong shape or non-finite points.
    """
    p = check_points(points)
    m = _model()
    k = m.flat.shape[1]
    lower = np.r_[np.full(7 + m.n_identity, -np.inf), np.zeros(k - m.n_identity)]
    upper = np.r_[np.full(7 + m.n_identity, np.inf), np.ones(k - m.n_identity)]
    target = p * Y_FLIP  # camera frame: a proper rotation maps the model frame onto it
    coeffs = np.zeros(k)
    scale, rotation, shift = umeyama(m.mean, target)
    for _ in range(ITERATIONS):
        shape = m.mean + (m.flat @ coeffs).reshape(-1, 3)
        residual = ((target - shift) @ rotation / scale - shape).ravel()  # in the model frame, cm
        pose_jac = _pose_jacobian(shape)  # (1560, 7): rotation ω, scale, translation (model frame)
        h = np.empty((7 + k, 7 + k))
        h[:7, :7] = pose_jac.T @ pose_jac
        h[:7, 7:] = pose_jac.T @ m.flat
        h[7:, :7] = h[:7, 7:].T
        h[7:, 7:] = m.hessian
        g = np.r_[pose_jac.T @ residual, m.flat.T @ residual - m.lambdas * coeffs]
        base = np.r_[np.zeros(7), coeffs]
        step = solve_bounded(h, g, lower - base, upper - base, np.zeros(7 + k))
        shift = shift + scale * rotation @ step[4:7]
        rotation = rotation @ cv2.Rodrigues(step[:3])[0]
        scale *= 1.0 + step[3]
        coeffs = np.clip(coeffs + step[7:], lower[7:], upper[7:])
    return coeffs[m.n_identity:]


def fit_blendshapes(points: np.ndarray) -> dict[str, float]:
    """MediaPipe's 52 blendshape names → coefficients in [0, 1] for a face's (520, 3) frame points
    (see the module doc; ~5 ms). Raises ValueError for a wrong shape or non-finite points."""
    scores = _model().report @ fit_expression(points)
    return {"_neutral": float(1.0 - scores.max()), **{n: float(v) for n, v in zip(MEDIAPIPE_NAMES[1:], scores)}}
