"""Face profiling: synthesise the photo of a rotated / re-posed fitted head (300W-LP style).

Image frame (used for every vertex array here): x right and y down in pixels of the source photo,
z in the same pixel scale with +z towards the camera; the projection is scaled orthographic, so the
pixel of a vertex is its (x, y). Pixel centres lie at integer (x, y) (see train/labels/render.py).

``verts_src`` is the ICT head (11248 vertices) fitted to the source photo; ``verts_new`` the same
vertices after a rotation and/or an expression change. The new view is made by texture lookup: each
pixel covered by ``verts_new`` finds its surface point (triangle + barycentrics), whose position in the
source photo is the same barycentric mix of ``verts_src``; the photo is sampled there (bilinear). So the
photo keeps its detail and the labels computed from ``verts_new`` are exact for the rendered head.

Surface points that the source does not show reliably (hidden by the head itself, outside the photo,
or seen at a grazing angle) take the source position of their left/right mirror point, else a colour
spread from the nearest reliable vertices. The eye and mouth holes of the ICT mesh are closed by fans to
one extra centre vertex each, so the eyes and lips of the photo move with the lids and lips; a mouth
opened wider than in the photo is darkened towards its centre. The background is the photo with the
head's footprint filled in (inpainting at low resolution); the head is composited over it with an
anti-aliased edge. (``train.labels.whole_image`` renders the same head in front of the photo's
surroundings turned with it instead, as 300W-LP was made.)

Typical use (one photo, several views; angles follow train/labels/fit.py)::

    source = prepare_source(image, fit.vertices, rng)
    verts_new = rotate_head(fit.vertices, pose_change(fit.rotation, yaw=60, pitch=0, roll=0))
    affine = square_crop_affine(verts_new[:9409, :2], 120)
    view = render_prepared(source, verts_new, (120, 120), affine)  # labels: verts_new mapped by affine

Cost on one core at 150×150: prepare_source ≈ 10 ms, render_prepared ≈ 4–5 ms (after numba's JIT).
"""
from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import cv2
import numpy as np
import scipy.sparse as sp
from scipy.sparse.csgraph import connected_components
from numba import njit
from scipy.spatial import cKDTree

from denseface.pose import rotation_from_angles
from train.labels.ict import load_ict, mirror_vertices
from train.labels.render import rasterize

# A surface point is hidden in the source when it lies deeper than the visible surface at its pixel
# by more than this fraction of the face's width.
DEPTH_TOLERANCE = 0.03
# Facing (z of the unit surface normal in the source) from which the photo is fully trusted, and below
# which it is not used at all (cos 75° and cos 87°).
FACING_TRUSTED = 0.26
FACING_UNUSABLE = 0.05
# RGB colour of the inside of an opened mouth, faded in towards the centre of the mouth hole.
MOUTH_INTERIOR = np.array([45.0, 20.0, 20.0], np.float32)


@dataclass(frozen=True)
class HeadMesh:
    """The ICT head with its eye and mouth holes closed, for rendering.

    triangles: (T + F, 3) int32, the ICT triangles then F fan triangles closing the holes.
    hole_loops: one (n,) int32 array per hole, the ids of its boundary vertices; hole i is closed with
        the extra vertex V + i (V = 11248) placed at the mean of its boundary.
    mirror: (V + holes,) int32 left/right partner of every vertex, extra vertices included.
    adjacency: (V + holes, V + holes) CSR float64 row-normalised vertex adjacency (mean of neighbours).
    incidence: (V + holes, T + F) CSR float64, 1 where a vertex is a corner of a triangle.
    mouth_fan: (M,) int32 ids (into ``triangles``) of the fan closing the mouth; the fan's third corner
        is the mouth centre vertex.
    eye_corners: (2,) int32 the outer eye corner vertices, whose distance measures the head's scale.
    face_vertex_count: the first vertices that form the face (9409 for ICT).
    """

    triangles: np.ndarray
    hole_loops: tuple[np.ndarray, ...]
    mirror: np.ndarray
    adjacency: sp.csr_matrix
    incidence: sp.csr_matrix
    mouth_fan: np.ndarray
    eye_corners: np.ndarray
    face_vertex_count: int

    def close_holes(self, verts: np.ndarray) -> np.ndarray:
        """(V, 3) ICT vertices -> (V + holes, 3) float64 with the hole centre vertices appended."""
        verts = np.asarray(verts, np.float64)
        centres = [verts[loop].mean(axis=0) for loop in self.hole_loops]
        return np.concatenate([verts, np.array(centres)], axis=0)


@lru_cache(maxsize=1)
def ict_head_mesh() -> HeadMesh:
    """The ICT whole-head mesh with its two eye holes and the mouth hole closed (cached)."""
    ict = load_ict()
    tri = ict.triangles
    n_vert = len(ict.neutral)
    directed = np.concatenate([tri[:, [0, 1]], tri[:, [1, 2]], tri[:, [2, 0]]])
    key = np.sort(directed, axis=1)
    _, inverse, counts = np.unique(key, axis=0, return_inverse=True, return_counts=True)
    boundary = directed[counts[inverse.ravel()] == 1]  # (B, 2) boundary edges, as walked by their triangle
    # Boundary edges split into loops by connected components; the face's holes are the loops made
    # only of face vertices (the neck cut is the other one).
    graph = sp.coo_matrix((np.ones(len(boundary)), (boundary[:, 0], boundary[:, 1])), (n_vert, n_vert))
    _, label = connected_components(graph, directed=False)
    loops, fans = [], []
    for lab in np.unique(label[boundary[:, 0]]):
        edges = boundary[label[boundary[:, 0]] == lab]
        if edges.max() >= ict.face_vertex_count:
            continue
        centre = n_vert + len(loops)
        loops.append(np.unique(edges).astype(np.int32))
        # Reverse each boundary edge so the fan keeps the orientation of the triangles beside it.
        fans.append(np.column_stack([edges[:, 1], edges[:, 0], np.full(len(edges), centre)]))
    triangles = np.concatenate([tri] + fans).astype(np.int32)

    mirror_mesh = mirror_vertices()
    centre_of = {frozenset(loop.tolist()): i for i, loop in enumerate(loops)}
    centre_mirror = [n_vert + centre_of[frozenset(mirror_mesh[loop].tolist())] for loop in loops]
    mirror = np.concatenate([mirror_mesh, np.array(centre_mirror, np.int32)]).astype(np.int32)

    n_all = n_vert + len(loops)
    pairs = np.concatenate([triangles[:, [0, 1]], triangles[:, [1, 2]], triangles[:, [2, 0]]])
    pairs = np.concatenate([pairs, pairs[:, ::-1]])
    adj = sp.csr_matrix((np.ones(len(pairs)), (pairs[:, 0], pairs[:, 1])), (n_all, n_all))
    adj.data[:] = 1.0  # duplicate edges were summed
    adj = sp.diags(1.0 / np.asarray(adj.sum(axis=1)).ravel()) @ adj
    corner_of = np.repeat(np.arange(len(triangles)), 3)
    incidence = sp.csr_matrix((np.ones(corner_of.size), (triangles.ravel(), corner_of)),
                              (n_all, len(triangles)))
    # The mouth is the hole that is its own mirror image.
    mouth_centre = next(m for i, m in enumerate(centre_mirror) if m == n_vert + i)
    mouth_fan = np.flatnonzero(triangles[:, 2] == mouth_centre).astype(np.int32)
    eye_corners = ict.landmarks68[[36, 45]].astype(np.int32)
    return HeadMesh(triangles, tuple(loops), mirror, adj.tocsr(), incidence, mouth_fan, eye_corners,
                    ict.face_vertex_count)


def rotation_matrix(yaw: float, pitch: float, roll: float) -> np.ndarray:
    """(3, 3) float64 rotation of the image frame (x right, y down, z towards the camera), degrees.

    The angles follow train/labels/fit.py: R_cam = Rz(roll) · Ry(yaw) · Rx(pitch) about the camera axes
    (x right, y up, z towards the camera), and the image-frame matrix is F · R_cam · F with
    F = diag(1, −1, 1); apply it to column vectors (v' = R v). For a face looking at the camera:
    yaw > 0 moves the nose towards image right (the subject turns to their own left); pitch > 0 moves
    the nose down (the subject looks down); roll > 0 turns the image content counter-clockwise on screen.
    """
    flip = np.diag([1.0, -1.0, 1.0])
    return flip @ rotation_from_angles(yaw, pitch, roll) @ flip


def pose_change(fit_rotation: np.ndarray, yaw: float, pitch: float, roll: float) -> np.ndarray:
    """(3, 3) image-frame rotation that takes a head fitted with camera-frame rotation ``fit_rotation``
    (FitResult.rotation) to the absolute pose (yaw, pitch, roll) in degrees (train/labels/fit.py conventions).
    Use it with rotate_head."""
    flip = np.diag([1.0, -1.0, 1.0])
    change = rotation_from_angles(yaw, pitch, roll) @ np.asarray(fit_rotation, np.float64).T
    return flip @ change @ flip


def face_centre(verts: np.ndarray, face_vertex_count: int = 9409) -> np.ndarray:
    """(3,) float64 centroid of the face vertices (the first ``face_vertex_count``), depth included."""
    return np.asarray(verts, np.float64)[:face_vertex_count].mean(axis=0)


def rotate_head(verts: np.ndarray, rotation: np.ndarray, centre: np.ndarray | None = None) -> np.ndarray:
    """(V, 3) float64 vertices rotated by ``rotation`` (3, 3) about ``centre`` (3,) (default: the
    face centroid, so the face stays where it was in the image). Frame: the image frame."""
    verts = np.asarray(verts, np.float64)
    c = face_centre(verts) if centre is None else np.asarray(centre, np.float64)
    return (verts - c) @ np.asarray(rotation, np.float64).T + c


def shift_into_frame(
    verts: np.ndarray, height: int, width: int, margin: float = 2.0, face_vertex_count: int = 9409
) -> np.ndarray:
    """(V, 3) float64 image-frame vertices translated in x, y (pixels) by the least amount that puts
    the bounding box of the face vertices (the first ``face_vertex_count``) inside a height × width
    image with ``margin`` pixels to spare (centred on an axis where it is larger than the image)."""
    verts = np.asarray(verts, np.float64)
    face = verts[:face_vertex_count, :2]
    lo, hi = face.min(axis=0), face.max(axis=0)
    limit_lo = np.array([margin, margin])
    limit_hi = np.array([width - 1 - margin, height - 1 - margin])
    shift = np.where(hi - lo > limit_hi - limit_lo,
                     (limit_lo + limit_hi - lo - hi) / 2.0,
                     np.maximum(limit_lo - lo, 0.0) + np.minimum(limit_hi - hi, 0.0))
    return verts + np.array([shift[0], shift[1], 0.0])


def square_crop_affine(points_xy: np.ndarray, out_size: int, enlarge: float = 1.4) -> np.ndarray:
    """(2, 3) float64 affine from image pixels to a square ``out_size`` crop around ``points_xy``
    (N, 2): their bounding box made square on its longer side and enlarged by ``enlarge`` about its
    centre. Output pixel = A[:, :2] @ (x, y) + A[:, 2], pixel centres at integers in both frames."""
    pts = np.asarray(points_xy, np.float64)
    lo, hi = pts.min(axis=0), pts.max(axis=0)
    centre = (lo + hi) / 2.0
    side = float((hi - lo).max()) * enlarge
    scale = out_size / side
    # The crop square [centre - side/2, centre + side/2] maps onto [-0.5, out_size - 0.5].
    offset = -0.5 - (centre - side / 2.0) * scale
    return np.array([[scale, 0.0, offset[0]], [0.0, scale, offset[1]]])


@dataclass(frozen=True)
class SourceFace:
    """A photo with its fitted head, prepared for rendering any number of new views.

    mesh: the closed ICT head mesh (ict_head_mesh()). image: (H, W, 3) uint8 RGB.
    verts: (V + holes, 3) float64 image-frame vertices (holes closed).
    facing: (V + holes,) float64 z of the unit vertex normals (1 = facing the camera).
    depth: (H, W) float32 z-buffer of the head in the photo (−inf off the head).
    tolerance: depth tolerance in pixels. vertex_colour: (V + holes, 3) float32 RGB per vertex, from the
    photo where reliable and spread over the mesh elsewhere (used where no reliable lookup exists).
    background: (H, W, 3) uint8 the photo with the head's footprint filled in.
    """

    mesh: HeadMesh
    image: np.ndarray
    verts: np.ndarray
    facing: np.ndarray
    depth: np.ndarray
    tolerance: float
    vertex_colour: np.ndarray
    background: np.ndarray


def _vertex_facing(verts: np.ndarray, mesh: HeadMesh) -> np.ndarray:
    """(V,) z of the area-weighted unit vertex normals of an image-frame mesh (front faces of an ICT
    mesh have negative 2-D signed area in the y-down frame, so the outward normal is −(e1 × e2))."""
    tri = mesh.triangles
    a, b, c = verts[tri[:, 0]], verts[tri[:, 1]], verts[tri[:, 2]]
    normal = mesh.incidence @ -np.cross(b - a, c - a)
    return normal[:, 2] / np.maximum(np.linalg.norm(normal, axis=1), 1e-12)


@njit(cache=True)
def _reliability_at(
    x: float, y: float, z: float, facing: float, depth: np.ndarray, tolerance: float
) -> float:
    """How far the photo can be trusted at the image-frame point (x, y, z) whose surface has facing
    ``facing`` (z of its unit normal), in [0, 1]: 0 where the point is hidden behind the head, else a
    ramp of facing (FACING_UNUSABLE..FACING_TRUSTED) times a ramp over the photo's outer 2 px (0 outside).

    Hidden means deeper than the z-buffer ``depth`` (H, W) at the nearest pixel centre by more than
    ``tolerance`` plus the depth change of the point's own surface over the ≤ 0.71 px to that centre
    (|∇z| = tan of the angle between the normal and the view direction).
    """
    h, w = depth.shape
    inside = min(min(x, w - 1.0 - x), min(y, h - 1.0 - y)) / 2.0
    if inside <= 0.0:
        return 0.0
    cos = min(max(facing, FACING_UNUSABLE), 1.0)
    slack = tolerance + 0.71 * np.sqrt(1.0 - cos * cos) / cos
    if z < depth[int(np.rint(y)), int(np.rint(x))] - slack:
        return 0.0
    ramp = min(max((facing - FACING_UNUSABLE) / (FACING_TRUSTED - FACING_UNUSABLE), 0.0), 1.0)
    return min(inside, 1.0) * ramp


@njit(cache=True)
def _vertex_reliability(
    verts: np.ndarray, facing: np.ndarray, depth: np.ndarray, tolerance: float
) -> np.ndarray:
    """(V,) float64 _reliability_at for each vertex of ``verts`` (V, 3) with ``facing`` (V,)."""
    out = np.zeros(verts.shape[0])
    for i in range(verts.shape[0]):
        out[i] = _reliability_at(verts[i, 0], verts[i, 1], verts[i, 2], facing[i], depth, tolerance)
    return out


@njit(cache=True)
def _lookup_kernel(
    tri_id: np.ndarray,
    bary: np.ndarray,
    triangles: np.ndarray,
    mirror: np.ndarray,
    src_verts: np.ndarray,
    facing: np.ndarray,
    depth: np.ndarray,
    tolerance: float,
    vertex_colour: np.ndarray,
    own_map: np.ndarray,
    mirror_map: np.ndarray,
    weights: np.ndarray,
    fallback: np.ndarray,
) -> None:
    """For each output pixel covered by triangle ``tri_id`` with barycentrics ``bary``: the source
    photo position of its surface point (own_map (H2, W2, 2)) and of the mirrored point (mirror_map),
    their reliabilities (weights[..., 0] and [..., 1]) and the interpolated vertex colour (fallback
    (H2, W2, 3)). Uncovered pixels are left as they are (zeros)."""
    h2, w2 = tri_id.shape
    for r in range(h2):
        for c in range(w2):
            t = tri_id[r, c]
            if t < 0:
                continue
            ox = oy = oz = of = mx = my = mz = mf = 0.0
            for k in range(3):
                b = bary[r, c, k]
                v = triangles[t, k]
                m = mirror[v]
                ox += b * src_verts[v, 0]
                oy += b * src_verts[v, 1]
                oz += b * src_verts[v, 2]
                of += b * facing[v]
                mx += b * src_verts[m, 0]
                my += b * src_verts[m, 1]
                mz += b * src_verts[m, 2]
                mf += b * facing[m]
                for ch in range(3):
                    fallback[r, c, ch] += b * vertex_colour[v, ch]
            own_map[r, c, 0] = ox
            own_map[r, c, 1] = oy
            mirror_map[r, c, 0] = mx
            mirror_map[r, c, 1] = my
            weights[r, c, 0] = _reliability_at(ox, oy, oz, of, depth, tolerance)
            weights[r, c, 1] = _reliability_at(mx, my, mz, mf, depth, tolerance)


def _mouth_opening(src_verts: np.ndarray, new_verts: np.ndarray, mesh: HeadMesh) -> float:
    """Fraction in [0, 1] of the mouth hole's 3-D area in ``new_verts`` that ``src_verts`` lacks (both
    (V + holes, 3), areas divided by the squared outer-eye-corner distance): 0 unless the mouth opened."""

    def relative_area(v: np.ndarray) -> float:
        t = mesh.triangles[mesh.mouth_fan]
        area = 0.5 * np.linalg.norm(np.cross(v[t[:, 1]] - v[t[:, 0]], v[t[:, 2]] - v[t[:, 0]]), axis=1).sum()
        eye_distance = np.linalg.norm(v[mesh.eye_corners[0]] - v[mesh.eye_corners[1]])
        return float(area / eye_distance**2)

    return float(np.clip(1.0 - relative_area(src_verts) / max(relative_area(new_verts), 1e-12), 0.0, 1.0))


def _fill_background(image: np.ndarray, hole: np.ndarray, rng: np.random.Generator | None) -> np.ndarray:
    """(H, W, 3) uint8: ``image`` with the pixels where ``hole`` (H, W) bool is set replaced by a smooth
    inpainting computed at about 48 px width, softly blended in at the hole's edge; with ``rng``, noise
    of the photo's own grain level is added inside so the fill is not suspiciously smooth."""
    h, w = hole.shape
    factor = max(1, int(round(max(h, w) / 48)))
    small_size = (max(1, w // factor), max(1, h // factor))
    small = cv2.resize(image, small_size, interpolation=cv2.INTER_AREA)
    small_hole = cv2.resize(hole.astype(np.uint8), small_size, interpolation=cv2.INTER_AREA) > 0
    small_hole = cv2.dilate(small_hole.astype(np.uint8), np.ones((3, 3), np.uint8))
    filled = cv2.inpaint(small, small_hole, 3, cv2.INPAINT_TELEA)
    filled = cv2.resize(filled, (w, h), interpolation=cv2.INTER_LINEAR).astype(np.float32)
    filled = cv2.GaussianBlur(filled, (0, 0), factor)
    alpha = cv2.GaussianBlur(hole.astype(np.float32), (0, 0), 1.5)
    alpha = np.maximum(alpha, hole)[:, :, None]
    if rng is not None:
        photo = image.astype(np.float32)
        grain = float(np.std((photo - cv2.GaussianBlur(photo, (0, 0), 1.0))[~hole]))
        filled = filled + grain * rng.standard_normal(filled.shape, np.float32)
    out = alpha * filled + (1.0 - alpha) * image.astype(np.float32)
    return np.clip(np.rint(out), 0, 255).astype(np.uint8)


def prepare_source(
    image: np.ndarray, verts_src: np.ndarray, rng: np.random.Generator | None = None
) -> SourceFace:
    """Prepare a photo (H, W, 3) uint8 RGB and its fitted head ``verts_src`` (V, 3) image frame, pixels.

    ``rng`` only adds grain to the filled-in background (None: no noise). Reuse the result for all the
    views rendered from the same photo.
    """
    mesh = ict_head_mesh()
    h, w = image.shape[:2]
    verts = mesh.close_holes(verts_src)
    tri_id, _, depth = rasterize(verts, mesh.triangles, h, w)
    face_xy = verts[: mesh.face_vertex_count, :2]
    tolerance = DEPTH_TOLERANCE * float(np.ptp(face_xy[:, 0]))
    facing = _vertex_facing(verts, mesh)

    # Per-vertex colours: own position if reliable, else the mirror's. The others take the colour of
    # the nearest of every 4th reliable vertex of their own part (face, or scalp/ears/neck, so the back
    # of the skull takes hair rather than cheek colour), then are smoothed over the mesh with the
    # reliable ones held fixed.
    own = _vertex_reliability(verts, facing, depth, tolerance)
    mirrored = own[mesh.mirror]
    position = np.where((own >= mirrored)[:, None], verts[:, :2], verts[mesh.mirror, :2]).astype(np.float32)
    colour = cv2.remap(image, position[None, :, 0], position[None, :, 1], cv2.INTER_LINEAR,
                       borderMode=cv2.BORDER_REFLECT_101)[0].astype(np.float32)
    reliable = np.maximum(own, mirrored) >= 0.5
    is_face = np.arange(len(verts)) < mesh.face_vertex_count
    for part in (is_face, ~is_face):
        known = np.flatnonzero(reliable & part)[::4]
        if len(known) == 0:
            known = np.flatnonzero(reliable)[::4]
        missing = np.flatnonzero(~reliable & part)
        if len(known) and len(missing):
            _, nearest = cKDTree(verts[known]).query(verts[missing], eps=1.0)
            colour[missing] = colour[known[nearest]]
    unknown = np.flatnonzero(~reliable)
    if len(unknown):
        rows = mesh.adjacency[unknown]
        from_known = rows[:, np.flatnonzero(reliable)] @ colour[reliable].astype(np.float64)
        among_unknown = rows[:, unknown]
        smooth = colour[unknown].astype(np.float64)
        for _ in range(20):
            smooth = among_unknown @ smooth + from_known
        colour[unknown] = smooth
    mask = cv2.dilate((tri_id >= 0).astype(np.uint8), np.ones((5, 5), np.uint8)) > 0
    background = _fill_background(image, mask, rng)
    return SourceFace(mesh, image, verts, facing, depth, tolerance, colour.astype(np.float32), background)


def render_head(
    source: SourceFace, verts_new: np.ndarray, out_shape: tuple[int, int], affine: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """The head ``verts_new`` (V, 3) (source image frame, pixels) alone, in output pixels of ``affine``
    (2, 3): (colour (H2, W2, 3) float RGB, 0 off the head; coverage (H2, W2) float32, 1 where a head
    triangle covers the pixel centre, else 0). ``composite_head`` puts it over a background."""
    mesh = source.mesh
    h2, w2 = out_shape
    verts = mesh.close_holes(verts_new)
    scale = float(np.sqrt(abs(np.linalg.det(affine[:, :2]))))
    out_verts = np.column_stack([verts[:, :2] @ affine[:, :2].T + affine[:, 2], verts[:, 2] * scale])
    tri_id, bary, _ = rasterize(out_verts, mesh.triangles, h2, w2)

    own_map = np.zeros((h2, w2, 2), np.float32)
    mirror_map = np.zeros((h2, w2, 2), np.float32)
    weights = np.zeros((h2, w2, 2), np.float32)
    fallback = np.zeros((h2, w2, 3), np.float32)
    _lookup_kernel(tri_id, bary, mesh.triangles, mesh.mirror, source.verts, source.facing, source.depth,
                   source.tolerance, source.vertex_colour, own_map, mirror_map, weights, fallback)
    own_w, mirror_w = weights[:, :, :1], weights[:, :, 1:]
    own = cv2.remap(source.image, own_map, None, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REFLECT_101)
    mirrored = cv2.remap(source.image, mirror_map, None, cv2.INTER_LINEAR,
                         borderMode=cv2.BORDER_REFLECT_101)
    head = own_w * own + (1.0 - own_w) * (mirror_w * mirrored + (1.0 - mirror_w) * fallback)
    # Where the mouth opened wider than in the photo, darken its hole towards the centre (the fans'
    # third corner is the mouth centre).
    opening = _mouth_opening(source.verts, verts, mesh)
    if opening > 0.0:
        in_mouth = np.zeros(len(mesh.triangles) + 1, bool)  # the last entry stands for tri_id −1
        in_mouth[mesh.mouth_fan] = True
        dark = (opening * in_mouth[tri_id] * np.clip(2.0 * bary[:, :, 2], 0.0, 1.0))[:, :, None]
        head = (1.0 - dark) * head + dark * MOUTH_INTERIOR
    covered = (tri_id >= 0).astype(np.float32)
    return head * covered[:, :, None], covered


def composite_head(head: np.ndarray, covered: np.ndarray, background: np.ndarray) -> np.ndarray:
    """(H2, W2, 3) uint8: the head layer of ``render_head`` (``head``, ``covered``) over ``background``
    (H2, W2, 3), uint8 or float RGB, in front of all of it.

    Anti-aliased edge: the head's colours are extended about a pixel outwards (normalised blur) and
    blended with a blurred coverage mask, so the silhouette is soft on both sides of the true edge.
    """
    weight = np.maximum(cv2.GaussianBlur(covered, (0, 0), 1.0), 1e-6)[:, :, None]
    spread = cv2.GaussianBlur(head, (0, 0), 1.0) / weight
    head = np.where(covered[:, :, None] > 0, head, spread)
    alpha = cv2.GaussianBlur(covered, (0, 0), 0.6)[:, :, None]
    out = alpha * head + (1.0 - alpha) * background.astype(np.float32)
    return np.clip(np.rint(out), 0, 255).astype(np.uint8)


def warp_to_output(image: np.ndarray, out_shape: tuple[int, int], affine: np.ndarray) -> np.ndarray:
    """(H2, W2, 3) uint8 a source-frame image (H, W, 3) uint8 in output pixels of ``affine`` (2, 3)
    (bilinear); beyond the image, its border reflection."""
    h2, w2 = out_shape
    return cv2.warpAffine(image, affine, (w2, h2), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REFLECT_101)


def render_prepared(
    source: SourceFace, verts_new: np.ndarray, out_shape: tuple[int, int], affine: np.ndarray | None = None
) -> np.ndarray:
    """(H2, W2, 3) uint8 RGB photo of the head ``verts_new`` (V, 3) (source image frame, pixels) over
    the photo's filled-in, static background (face-only profiling).

    ``affine`` (2, 3) maps the source image frame to output pixels (e.g. from square_crop_affine;
    None = identity): output (x, y) = A[:, :2] @ (x, y) + A[:, 2]. Labels of the output are verts_new
    mapped the same way. Parts of the output beyond the photo show its border reflection.
    """
    a = np.eye(2, 3) if affine is None else np.asarray(affine, np.float64)
    head, covered = render_head(source, verts_new, out_shape, a)
    return composite_head(head, covered, warp_to_output(source.background, out_shape, a))


def render_view(
    image: np.ndarray,
    verts_src: np.ndarray,
    verts_new: np.ndarray,
    out_shape: tuple[int, int],
    affine: np.ndarray | None = None,
    rng: np.random.Generator | None = None,
) -> np.ndarray:
    """One new view of a photo: prepare_source(image, verts_src, rng) then render_prepared(verts_new).

    image: (H, W, 3) uint8 RGB; verts_src, verts_new: (11248, 3) ICT head, image frame, pixels.
    out_shape: (H2, W2); affine: (2, 3) source frame -> output pixels (None = identity).
    Returns (H2, W2, 3) uint8 RGB; its labels are verts_new mapped by ``affine``. ``rng`` adds grain to
    the filled-in background (None: none). To render several views of one photo, call prepare_source
    once and render_prepared per view.
    """
    source = prepare_source(image, verts_src, rng)
    return render_prepared(source, verts_new, out_shape, affine)
