"""Fitting the ICT morphable model to MediaPipe's 468 face landmarks.

Frames and units
----------------
ICT model frame: centimetres, x towards the viewer's right (the subject's left), y up, z towards the
viewer (see ``train.labels.ict``).

Image frame: x right and y down in pixels, z in pixels towards the camera (MediaPipe's convention for
``points468``; the z offset is arbitrary).

Camera frame: the image frame with y flipped (x right, y up, z towards the camera, pixels). A fitted
face is ``image = F · (s · R · X + t_cam)`` with ``F = diag(1, -1, 1)``, i.e.
``image = s · F · R · X + t`` with ``t = F · t_cam``, where X is an ICT-frame point (cm), R a proper
rotation (det +1) from the ICT frame to the camera frame, s the scale in pixels per cm and t the
translation in image pixels. With R = identity the face looks straight at the camera, upright.

Head pose angles (degrees; the angle maths and ``umeyama`` live in ``denseface.pose``) are defined by ``R = Rz(roll) · Ry(yaw) · Rx(pitch)`` with the right-handed
elementary rotations about the camera axes:

* yaw > 0: the nose moves towards image right, i.e. the subject turns to their own left;
* pitch > 0: the nose moves down in the image, i.e. the subject looks down;
* roll > 0: the top of the head moves towards image left (counter-clockwise on screen), i.e. the head
  tilts towards the subject's right shoulder.

Registration
------------
Each of the 468 vertices of MediaPipe's canonical face mesh is tied to a point of the ICT surface,
stored as (triangle id into ``ICTModel.triangles``, barycentric weights). These points are valid on
any ICT shape, so ``surface_points(shape, triangle, bary)`` gives the model's 468 landmarks.
"""
from __future__ import annotations

import logging
import math
from dataclasses import dataclass
from functools import lru_cache

import numpy as np
from scipy.spatial import cKDTree

from denseface.blendshapes import solve_bounded
from denseface.pose import angles_from_rotation, umeyama
from train.data import CACHE, MEDIAPIPE_GEOMETRY, require
from train.labels.ict import load_ict

logger = logging.getLogger(__name__)

MESH_POINTS = 468  # vertices of MediaPipe's face mesh (the SDK's N_POINTS, 520, counts our topology's points)
REGISTRATION_CACHE = CACHE / "mp468_to_ict.npz"

# Unambiguous correspondences for the initial alignment: MediaPipe canonical vertex -> ICT landmarks68
# index (Multi-PIE order). Eye corners (subject's right outer/inner, left inner/outer), nose tip,
# mouth corners, chin.
_MP_ANCHORS = np.array([33, 133, 362, 263, 1, 61, 291, 152])
_ICT68_ANCHORS = np.array([36, 39, 42, 45, 30, 48, 54, 8])

_REGISTRATION_IDENTITY = 40  # identity components fitted during registration
_REGISTRATION_LAMBDA = 0.5  # Tikhonov weight on those (cm² per unit-variance coefficient)
_REGISTRATION_ITERATIONS = 20
_CANDIDATE_TRIANGLES = 24  # nearest triangle centroids searched per point for the closest point

_Y_FLIP = np.array([1.0, -1.0, 1.0])


# ----------------------------------------------------------------------------------------------
# Geometry helpers
# ----------------------------------------------------------------------------------------------


def surface_points(vertices: np.ndarray, triangle: np.ndarray, bary: np.ndarray) -> np.ndarray:
    """Evaluate surface points on an ICT-topology mesh.

    vertices: (V, 3) mesh vertices (any frame/unit; the result is in the same).
    triangle: (N,) int ids into ``ICTModel.triangles``. bary: (N, 3) barycentric weights.
    Returns (N, 3) float64 points ``Σ_k bary[:, k] · vertices[triangles[triangle, k]]``.
    """
    tris = load_ict().triangles
    vertices = np.asarray(vertices)
    if vertices.ndim != 2 or vertices.shape != (len(load_ict().neutral), 3):
        raise ValueError(f"vertices must be (V, 3) with the ICT vertex count, got {vertices.shape}")
    triangle = np.asarray(triangle)
    bary = np.asarray(bary)
    if triangle.ndim != 1 or bary.shape != (len(triangle), 3):
        raise ValueError(f"triangle must be (N,) and bary (N, 3), got {triangle.shape} and {bary.shape}")
    corners = vertices[tris[triangle]].astype(np.float64)  # (N, 3 corners, 3 xyz)
    return np.einsum("nk,nkd->nd", bary.astype(np.float64), corners)


def _closest_on_triangles(
    p: np.ndarray, a: np.ndarray, b: np.ndarray, c: np.ndarray
) -> np.ndarray:
    """Barycentric weights (M, 3) of the closest point to p on triangle (a, b, c); all inputs (M, 3).

    Voronoi-region classification (vertex, edge, interior) as in Ericson, Real-Time Collision
    Detection §5.1.5, evaluated for all rows at once; the first matching region wins.
    """
    ab, ac = b - a, c - a
    d1 = np.einsum("md,md->m", ab, p - a)
    d2 = np.einsum("md,md->m", ac, p - a)
    d3 = np.einsum("md,md->m", ab, p - b)
    d4 = np.einsum("md,md->m", ac, p - b)
    d5 = np.einsum("md,md->m", ab, p - c)
    d6 = np.einsum("md,md->m", ac, p - c)
    va, vb, vc = d3 * d6 - d5 * d4, d5 * d2 - d1 * d6, d1 * d4 - d3 * d2

    with np.errstate(divide="ignore", invalid="ignore"):
        denom = va + vb + vc
        v_in, w_in = vb / denom, vc / denom
        t_ab = d1 / (d1 - d3)
        t_ac = d2 / (d2 - d6)
        t_bc = (d4 - d3) / ((d4 - d3) + (d5 - d6))
    zero, one = np.zeros_like(d1), np.ones_like(d1)
    regions = [
        ((d1 <= 0) & (d2 <= 0), (one, zero, zero)),
        ((d3 >= 0) & (d4 <= d3), (zero, one, zero)),
        ((vc <= 0) & (d1 >= 0) & (d3 <= 0), (1 - t_ab, t_ab, zero)),
        ((d6 >= 0) & (d5 <= d6), (zero, zero, one)),
        ((vb <= 0) & (d2 >= 0) & (d6 <= 0), (1 - t_ac, zero, t_ac)),
        ((va <= 0) & (d4 - d3 >= 0) & (d5 - d6 >= 0), (zero, 1 - t_bc, t_bc)),
    ]
    bary = np.stack([1 - v_in - w_in, v_in, w_in], axis=1)
    done = np.zeros(len(p), bool)
    for mask, weights in regions:
        take = mask & ~done
        bary[take] = np.stack(weights, axis=1)[take]
        done |= take
    return bary


def closest_surface_points(
    points: np.ndarray, vertices: np.ndarray, triangle_ids: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Closest points on a subset of an ICT-topology mesh.

    points: (N, 3); vertices: (V, 3) in the same frame; triangle_ids: (T,) ids into
    ``ICTModel.triangles`` to search. Returns (triangle (N,) int32 ids into ``ICTModel.triangles``,
    bary (N, 3) float64, distance (N,) float64).
    """
    tris = load_ict().triangles[triangle_ids]
    corners = vertices[tris].astype(np.float64)  # (T, 3, 3)
    k = min(_CANDIDATE_TRIANGLES, len(triangle_ids))
    _, cand = cKDTree(corners.mean(axis=1)).query(points, k=k)  # (N, k)
    cand = cand.reshape(len(points), k)
    p = np.repeat(points.astype(np.float64), k, axis=0)
    a, b, c = (corners[cand.ravel(), j] for j in range(3))
    bary = _closest_on_triangles(p, a, b, c)
    closest = bary[:, :1] * a + bary[:, 1:2] * b + bary[:, 2:] * c
    dist = np.linalg.norm(closest - p, axis=1).reshape(len(points), k)
    best = dist.argmin(axis=1)
    rows = np.arange(len(points))
    return (
        triangle_ids[cand[rows, best]].astype(np.int32),
        bary.reshape(len(points), k, 3)[rows, best],
        dist[rows, best],
    )


# ----------------------------------------------------------------------------------------------
# Registration of MediaPipe's canonical mesh on the ICT surface
# ----------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Registration:
    """Points of the ICT surface: MediaPipe's 468 canonical vertices (``mediapipe_registration``), or
    any other landmark set a fit takes as its input points (e.g. our 68, ``fit_face(surface=...)``).

    triangle: (N,) int32 ids into ``ICTModel.triangles``. bary: (N, 3) float32 barycentric weights.
    """

    triangle: np.ndarray
    bary: np.ndarray


def load_canonical_mesh() -> np.ndarray:
    """(468, 3) float64 vertices of MediaPipe's canonical face mesh (cm, y up, z towards the viewer)."""
    path = require(MEDIAPIPE_GEOMETRY / "canonical_face_model.obj")
    rows = [line.split()[1:4] for line in path.read_text().splitlines() if line.startswith("v ")]
    verts = np.array(rows, np.float64)
    if verts.shape != (MESH_POINTS, 3):
        raise ValueError(f"{path}: expected {MESH_POINTS} vertices, found {verts.shape}")
    return verts


@dataclass(frozen=True)
class RegistrationFit:
    """The result of registering the canonical mesh (see ``register_canonical_mesh``).

    registration: the surface points. aligned_canonical: (468, 3) float64 canonical vertices moved by
    the final similarity into the ICT frame (cm). alpha: (40,) fitted identity weights. distance: (468,)
    float64 distance (cm) from each aligned canonical vertex to its registered point on the fitted shape.
    """

    registration: Registration
    aligned_canonical: np.ndarray
    alpha: np.ndarray
    distance: np.ndarray


def register_canonical_mesh() -> RegistrationFit:
    """Register MediaPipe's canonical mesh on the ICT face surface (ICP with the morphable model).

    Initial similarity from the anchor correspondences, then alternate: closest points of the aligned
    canonical vertices on the current ICT shape (face triangles only), a regularised least-squares
    fit of the first 40 identity weights through them, and a new similarity (canonical → fitted
    surface points). The last closest-point projection gives the registration.
    """
    model = load_ict()
    canonical = load_canonical_mesh()
    scale, rotation, shift = umeyama(canonical[_MP_ANCHORS], model.neutral[model.landmarks68[_ICT68_ANCHORS]])
    n = _REGISTRATION_IDENTITY
    alpha = np.zeros(n)
    for _ in range(_REGISTRATION_ITERATIONS):
        target = scale * canonical @ rotation.T + shift
        triangle, bary, _ = closest_surface_points(target, model.shape(alpha), model.face_triangle_ids)
        mean, basis = _basis_at(model.neutral, model.identity[:n], triangle, bary)
        a = basis.reshape(n, -1).T  # (468·3, n)
        rhs = (target - mean).ravel()
        alpha = np.linalg.solve(a.T @ a + _REGISTRATION_LAMBDA * np.eye(n), a.T @ rhs)
        fitted = mean + np.tensordot(alpha, basis, axes=1)
        scale, rotation, shift = umeyama(canonical, fitted)
    target = scale * canonical @ rotation.T + shift
    triangle, bary, distance = closest_surface_points(target, model.shape(alpha), model.face_triangle_ids)
    logger.info("registration residual: mean %.3f cm, max %.3f cm", distance.mean(), distance.max())
    return RegistrationFit(
        registration=Registration(triangle=triangle, bary=bary.astype(np.float32)),
        aligned_canonical=target,
        alpha=alpha,
        distance=distance,
    )


@lru_cache(maxsize=1)
def mediapipe_registration() -> Registration:
    """The 468-point registration, read from ``CACHE/mp468_to_ict.npz`` or computed and cached there."""
    if REGISTRATION_CACHE.exists():
        d = np.load(REGISTRATION_CACHE)
        return Registration(triangle=d["triangle"].astype(np.int32), bary=d["bary"].astype(np.float32))
    reg = register_canonical_mesh().registration
    REGISTRATION_CACHE.parent.mkdir(parents=True, exist_ok=True)
    tmp = REGISTRATION_CACHE.with_suffix(".tmp.npz")
    np.savez(tmp, triangle=reg.triangle, bary=reg.bary)
    tmp.replace(REGISTRATION_CACHE)
    return reg


def _basis_at(
    neutral: np.ndarray, basis: np.ndarray, triangle: np.ndarray, bary: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Neutral (N, 3) and basis (K, N, 3) float64 evaluated at surface points (triangle, bary)."""
    corners = load_ict().triangles[triangle]  # (N, 3)
    w = bary.astype(np.float64)
    mean = np.einsum("nk,nkd->nd", w, neutral[corners].astype(np.float64))
    return mean, np.einsum("nk,bnkd->bnd", w, basis[:, corners].astype(np.float64))


# ----------------------------------------------------------------------------------------------
# Per-face fit
# ----------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class FitOptions:
    """Options of ``fit_face``.

    n_identity: identity components fitted (≤ 100). lambda_identity / lambda_expression: Tikhonov
    weights on α and β relative to the squared point residuals measured in the model's centimetres
    (pixel residual / scale), so they do not depend on the face's size in pixels; MAP-wise each is
    about the per-coordinate noise variance in cm². The defaults suit real MediaPipe points (LFW:
    residual ≈ 0.8 px at ≈ 4.5 px/cm, and lambda_identity=0.05 gives max|α| over 60 components with
    median 2.06, as expected for unit-variance weights; 0.01 gave 3.5). z_weight: weight of the depth (camera z) residuals
    relative to x and y (MediaPipe's z is less reliable). iterations: Gauss-Newton steps after the
    Umeyama initialisation (the fit converges in about 3).
    """

    n_identity: int = 60
    lambda_identity: float = 0.05
    lambda_expression: float = 0.01
    z_weight: float = 0.5
    iterations: int = 5


@dataclass(frozen=True)
class FitResult:
    """The ICT model fitted to one face's 468 MediaPipe points.

    alpha: (n_identity,) float64 identity weights. beta: (57,) float64 expression weights in [0, 1].
    rotation: (3, 3) float64 proper rotation R from the ICT frame to the camera frame (x right, y up,
    z towards the camera). scale: pixels per cm. translation: (3,) float64 t in image pixels, so that an
    ICT point X (cm) maps to ``image = scale · F · R · X + t`` with F = diag(1, -1, 1).
    vertices: (11248, 3) float32 the fitted ICT shape in the image frame (x right, y down in pixels,
    z in pixels towards the camera, same offset as the input z).
    points: (468, 3) float32 the registered surface points of the fitted shape, image frame.
    residual_px: RMS over the 468 points of the 2-D (x, y) distance to the input, pixels.
    residual_norm: residual_px divided by sqrt(w·h) of the input points' 2-D bounding box.
    yaw, pitch, roll: head pose in degrees from R (conventions in the module docstring).
    """

    alpha: np.ndarray
    beta: np.ndarray
    rotation: np.ndarray
    scale: float
    translation: np.ndarray
    vertices: np.ndarray
    points: np.ndarray
    residual_px: float
    residual_norm: float
    yaw: float
    pitch: float
    roll: float


@dataclass(frozen=True)
class ExtraPoints:
    """2-D constraints on fixed surface points of the ICT mesh, added to ``fit_face``'s 468 points.

    xy: (M, 2) target positions in the image frame (x right, y down, pixels); only x and y are
    constrained. triangle: (M,) int ids into ``ICTModel.triangles``. bary: (M, 3) barycentric weights.
    weight: each point's weight relative to one MediaPipe point's x, y residual (1 = as much say as one
    of the 468 points; ``468 / M`` gives the M points as much total x, y weight as the 468).
    """

    xy: np.ndarray
    triangle: np.ndarray
    bary: np.ndarray
    weight: float


@dataclass(frozen=True)
class _PointBasis:
    """The model restricted to N surface points (float64, cm, ICT frame).

    mean: (N, 3) neutral. flat: (N·3, K) basis columns, K = n_identity + 57 (identity then
    expression), rows x0, y0, z0, x1, .... gram: (3, 3, K, K) with gram[a, b] = Σ_i flat[3i+a]ᵀ flat[3i+b].
    """

    mean: np.ndarray
    flat: np.ndarray
    gram: np.ndarray


def _surface_basis(n_identity: int, triangle: np.ndarray, bary: np.ndarray) -> _PointBasis:
    """The identity (first ``n_identity``) and expression basis at surface points (triangle, bary)."""
    model = load_ict()
    stacked = np.concatenate([model.identity[:n_identity], model.expression])
    mean, basis = _basis_at(model.neutral, stacked, triangle, bary)
    flat = np.ascontiguousarray(basis.reshape(len(basis), -1).T)
    gram = np.stack([np.stack([flat[a::3].T @ flat[b::3] for b in range(3)]) for a in range(3)])
    return _PointBasis(mean=mean, flat=flat, gram=gram)


@lru_cache(maxsize=4)
def _point_basis(n_identity: int) -> _PointBasis:
    """The basis at MediaPipe's 468 registered points."""
    reg = mediapipe_registration()
    return _surface_basis(n_identity, reg.triangle, reg.bary)


def _input_basis(n_identity: int, surface: Registration | None) -> _PointBasis:
    """The basis at a fit's input points: MediaPipe's 468 (``surface`` None) or ``surface``'s points."""
    if surface is None:
        return _point_basis(n_identity)
    triangle = np.asarray(surface.triangle, np.int64)
    return _extra_basis(n_identity, triangle.tobytes(), np.asarray(surface.bary, np.float64).tobytes())


@lru_cache(maxsize=8)
def _extra_basis(n_identity: int, triangle: bytes, bary: bytes) -> _PointBasis:
    """The basis at extra surface points, cached by their contents: ``triangle`` is the bytes of an
    int64 (M,) array and ``bary`` those of a float64 (M, 3) array (callers pass the same points, e.g.
    our 68, for every face, so the basis is built once)."""
    tri = np.frombuffer(triangle, np.int64)
    return _surface_basis(n_identity, tri, np.frombuffer(bary, np.float64).reshape(len(tri), 3))


def _normal_equations(
    pb: _PointBasis,
    shape_points: np.ndarray,
    target: np.ndarray,
    weight: np.ndarray,
    rotation: np.ndarray,
    scale: float,
    shift: np.ndarray,
) -> tuple[np.ndarray, np.ndarray]:
    """Gauss-Newton normal equations of ``Σ_i rᵢᵀ W rᵢ`` with ``rᵢ = s·R·Xᵢ + shift − targetᵢ``.

    The unknowns are [ω (rotation increment R ← R·exp(ω)), ds, dt, dcoeffs]. pb: the basis at the N
    points; shape_points: (N, 3) their current model positions Xᵢ (cm, ICT frame); target: (N, 3) in the
    camera frame (pixels); weight: (3, 3) W on the camera-frame residual (pixels²). Written in the
    rotated frame (rows Rᵀ·J) where W becomes M = Rᵀ·W·R. Returns (h (7+K, 7+K), g (7+K,)) with the
    step solving ``h · step = −g`` (no prior terms).
    """
    m = rotation.T @ weight @ rotation
    residual = (scale * shape_points @ rotation.T + shift - target) @ rotation  # (N, 3), Rᵀ·r
    x, y, z = shape_points.T
    zero = np.zeros_like(x)
    cross = np.stack([[zero, z, -y], [-z, zero, x], [y, -x, zero]], axis=0).transpose(2, 0, 1)
    pose_jac = np.concatenate(
        [scale * cross, shape_points[:, :, None], np.broadcast_to(rotation.T, (len(x), 3, 3))], axis=2
    )  # (N, 3, 7): -s·[X]×, X, Rᵀ
    weighted_pose = np.einsum("ab,ibp->iap", m, pose_jac).reshape(-1, 7)
    k = pb.flat.shape[1]
    h = np.empty((7 + k, 7 + k))
    h[:7, :7] = pose_jac.reshape(-1, 7).T @ weighted_pose
    h[:7, 7:] = scale * weighted_pose.T @ pb.flat
    h[7:, :7] = h[:7, 7:].T
    h[7:, 7:] = scale**2 * np.einsum("ab,abkl->kl", m, pb.gram)
    g = np.r_[weighted_pose.T @ residual.ravel(), scale * pb.flat.T @ (residual @ m).ravel()]
    return h, g


def _rodrigues(omega: np.ndarray) -> np.ndarray:
    """(3, 3) rotation by the axis-angle vector omega (3,), radians."""
    angle = float(np.linalg.norm(omega))
    if angle < 1e-12:
        return np.eye(3)
    kx, ky, kz = omega / angle
    k = np.array([[0, -kz, ky], [kz, 0, -kx], [-ky, kx, 0]])
    return np.eye(3) + math.sin(angle) * k + (1 - math.cos(angle)) * k @ k


def _extra_terms(extra: ExtraPoints, n_identity: int) -> tuple[_PointBasis, np.ndarray, np.ndarray]:
    """Check ``extra`` and return its (basis, (M, 3) camera-frame target with z = 0, (3, 3) weight W
    = weight · diag(1, 1, 0), so depth is unconstrained). Raises ValueError for bad shapes or values."""
    xy = np.asarray(extra.xy, np.float64)
    triangle = np.asarray(extra.triangle, np.int64)
    bary = np.asarray(extra.bary, np.float64)
    m = len(xy)
    if m == 0 or xy.shape != (m, 2) or triangle.shape != (m,) or bary.shape != (m, 3):
        raise ValueError(
            f"extra points need xy (M, 2), triangle (M,), bary (M, 3) with M ≥ 1; got {xy.shape}, "
            f"{triangle.shape}, {bary.shape}"
        )
    if not (np.isfinite(xy).all() and np.isfinite(bary).all()):
        raise ValueError("extra points contain non-finite values")
    n_triangles = len(load_ict().triangles)
    if triangle.min() < 0 or triangle.max() >= n_triangles:
        raise ValueError(f"extra triangle ids must be in 0..{n_triangles - 1}")
    if not (extra.weight > 0 and math.isfinite(extra.weight)):
        raise ValueError(f"extra weight must be positive and finite, got {extra.weight}")
    basis = _extra_basis(n_identity, triangle.tobytes(), bary.tobytes())
    return basis, np.c_[xy, np.zeros(m)] * _Y_FLIP, extra.weight * np.diag([1.0, 1.0, 0.0])


def fit_face(
    points468: np.ndarray,
    options: FitOptions = FitOptions(),
    extra: ExtraPoints | None = None,
    surface: Registration | None = None,
) -> FitResult:
    """Fit ICT identity, expression and a scaled-orthographic pose to one face's MediaPipe points.

    points468: (468, 3) MediaPipe landmarks in the image frame (x right, y down, pixels; z in pixels
    towards the camera, arbitrary offset). Model: ``points ≈ s · F · R · X(α, β) + t`` where X are the
    registered ICT surface points (see ``FitResult``). The similarity is initialised by Umeyama on the
    neutral shape (on the y-flipped points, so R is a proper rotation); then Gauss-Newton steps update
    rotation, scale, translation, α and β jointly (β kept in [0, 1] by a bounded solve, z residuals
    weighted by ``options.z_weight``). Joint steps are used because alternating pose and shape solves
    converge slowly (pitch trades off against identity).

    extra: optional 2-D targets for other surface points (e.g. a second teacher's 68 landmarks); their
    x, y residuals enter the same least-squares sum, each weighted by ``extra.weight`` relative to a
    MediaPipe point's x, y. They do not enter the initialisation or ``residual_px``.

    surface: the surface points the input points are (default: MediaPipe's 468 registered points);
    e.g. our 68 topology points to fit a teacher's 68 3-D landmarks (``train.labels.real_photos``),
    in which case ``points468`` is (68, 3) and everything said of the 468 points holds for those.
    Raises ValueError for a wrong shape or non-finite input (points468 or extra).
    """
    points = np.asarray(points468, np.float64)
    n_points = MESH_POINTS if surface is None else len(surface.triangle)
    if points.shape != (n_points, 3):
        raise ValueError(f"points468 must be ({n_points}, 3), got {points.shape}")
    if not np.isfinite(points).all():
        raise ValueError("points468 contains non-finite values")
    extent = points[:, :2].max(axis=0) - points[:, :2].min(axis=0)
    if not (extent > 0).all():
        raise ValueError(f"points468 are degenerate: 2-D extent {extent} px")
    model = load_ict()
    if not 0 < options.n_identity <= len(model.identity):
        raise ValueError(f"n_identity must be in 1..{len(model.identity)}, got {options.n_identity}")
    pb = _input_basis(options.n_identity, surface)
    if extra is not None:
        extra_pb, extra_target, extra_weight = _extra_terms(extra, options.n_identity)
    n_id, n_exp = options.n_identity, len(model.expression)
    lambdas = np.r_[np.full(n_id, options.lambda_identity), np.full(n_exp, options.lambda_expression)]
    lower = np.r_[np.full(7 + n_id, -np.inf), np.zeros(n_exp)]
    upper = np.r_[np.full(7 + n_id, np.inf), np.ones(n_exp)]
    camera_weight = np.diag([1.0, 1.0, options.z_weight**2])

    target = points * _Y_FLIP  # camera frame: x right, y up, z towards the camera (pixels)
    coeffs = np.zeros(n_id + n_exp)
    shape_points = pb.mean
    scale, rotation, shift = umeyama(shape_points, target)
    for _ in range(options.iterations):
        h, grad = _normal_equations(pb, shape_points, target, camera_weight, rotation, scale, shift)
        if extra is not None:
            extra_points = extra_pb.mean + (extra_pb.flat @ coeffs).reshape(-1, 3)
            h_extra, g_extra = _normal_equations(
                extra_pb, extra_points, extra_target, extra_weight, rotation, scale, shift
            )
            h += h_extra
            grad += g_extra
        h[7:, 7:] += scale**2 * np.diag(lambdas)
        grad[7:] += scale**2 * lambdas * coeffs
        base = np.r_[np.zeros(7), coeffs]
        step = solve_bounded(h, -grad, lower - base, upper - base, np.zeros_like(grad))
        rotation = rotation @ _rodrigues(step[:3])
        scale += step[3]
        shift = shift + step[4:7]
        coeffs = np.clip(coeffs + step[7:], lower[7:], upper[7:])
        shape_points = pb.mean + (pb.flat @ coeffs).reshape(-1, 3)

    alpha, beta = coeffs[:n_id], coeffs[n_id:]
    translation = shift * _Y_FLIP
    to_image = scale * rotation.T * _Y_FLIP  # (3, 3): X @ to_image = s·F·R·X for row vectors X
    fitted = shape_points @ to_image + translation
    vertices = (
        model.neutral
        + (alpha.astype(np.float32) @ model.identity[:n_id].reshape(n_id, -1)).reshape(-1, 3)
        + (beta.astype(np.float32) @ model.expression.reshape(n_exp, -1)).reshape(-1, 3)
    )
    vertices_image = vertices @ to_image.astype(np.float32) + translation.astype(np.float32)
    residual_px = float(np.sqrt(((fitted[:, :2] - points[:, :2]) ** 2).sum(axis=1).mean()))
    yaw, pitch, roll = angles_from_rotation(rotation)
    return FitResult(
        alpha=alpha,
        beta=beta,
        rotation=rotation,
        scale=float(scale),
        translation=translation,
        vertices=vertices_image,
        points=fitted.astype(np.float32),
        residual_px=residual_px,
        residual_norm=residual_px / float(np.sqrt(extent[0] * extent[1])),
        yaw=yaw,
        pitch=pitch,
        roll=roll,
    )


# Rejection thresholds (see ``reject_reason``), set from the default fit of the first 500 LFW faces
# of the MediaPipe teacher: residual_norm median 0.0080, 99th percentile 0.0119, max 0.0131; scale
# ratio 0.96-1.11; expression RMS ≤ 1.08 cm (a full jawOpen alone is 1.46 cm); max|α| > 3.5 in 2.8%.
MAX_RESIDUAL_NORM = 0.015
MAX_ABS_ALPHA = 3.5
MAX_EXPRESSION_RMS_CM = 1.8
SCALE_RATIO_RANGE = (0.8, 1.25)


def expression_rms_cm(result: FitResult) -> float:
    """RMS (cm) over the 468 registered points of the fitted expression offset ``Σ β_j · expression_j``."""
    pb = _point_basis(len(result.alpha))
    offsets = pb.flat[:, len(result.alpha) :] @ result.beta
    return float(np.sqrt((offsets.reshape(-1, 3) ** 2).sum(axis=1).mean()))


def reject_reason(
    result: FitResult,
    points468: np.ndarray,
    max_residual_norm: float = MAX_RESIDUAL_NORM,
    surface: Registration | None = None,
) -> str | None:
    """Why a fit should not be used as a training label, or None to keep it.

    points468: (468, 3) the fitted input, image frame (pixels); (N, 3) for a fit to ``surface``'s N
    points (as in ``fit_face``). Checked in order:
    "non_finite": NaN/inf in the input or the result.
    "degenerate_scale": scale ≤ 0, or scale differs from the size ratio (RMS 3-D radius of the input
    points in px over that of the registered neutral points in cm) by a factor outside
    ``SCALE_RATIO_RANGE``.
    "coefficients_out_of_range": some |α| > ``MAX_ABS_ALPHA``.
    "extreme_expression": the expression offset's RMS over the 468 points > ``MAX_EXPRESSION_RMS_CM``.
    "high_residual": ``residual_norm`` > ``max_residual_norm`` (default ``MAX_RESIDUAL_NORM``; a fit
    that is also pulled to other points, as ``train.labels.fuse``'s, departs further from the 468 by design).
    """
    points = np.asarray(points468, np.float64)
    n_points = MESH_POINTS if surface is None else len(surface.triangle)
    if points.shape != (n_points, 3):
        raise ValueError(f"points468 must be ({n_points}, 3), got {points.shape}")
    arrays = (points, result.alpha, result.beta, result.rotation, result.translation, result.vertices)
    scalars = (result.scale, result.residual_px, result.residual_norm)
    if not (all(np.isfinite(a).all() for a in arrays) and np.isfinite(scalars).all()):
        return "non_finite"
    mean = _input_basis(len(result.alpha), surface).mean
    radius_px = np.sqrt(((points - points.mean(axis=0)) ** 2).sum(axis=1).mean())
    radius_cm = np.sqrt(((mean - mean.mean(axis=0)) ** 2).sum(axis=1).mean())
    if result.scale <= 0:
        return "degenerate_scale"
    ratio = result.scale / (radius_px / radius_cm)
    if not SCALE_RATIO_RANGE[0] <= ratio <= SCALE_RATIO_RANGE[1]:
        return "degenerate_scale"
    if np.abs(result.alpha).max() > MAX_ABS_ALPHA:
        return "coefficients_out_of_range"
    if expression_rms_cm(result) > MAX_EXPRESSION_RMS_CM:
        return "extreme_expression"
    if result.residual_norm > max_residual_norm:
        return "high_residual"
    return None
