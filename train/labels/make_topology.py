"""Build DenseFace's 520-point topology on the ICT-FaceKit face (the seed paper's sampling method).

    python -m train.labels.make_topology [--out sdk/denseface/assets/topology.npz] [--docs docs/]

1. The 68 seeds follow the BFM / 3DDFA definition that AFLW2000-3D's ground truth uses: 3DDFA's
   mean 68-point BFM shape is similarity-aligned to ICT's own 68 landmarks on the 51 inner points
   (jaw excluded: the two models disagree there by 2–3 cm), and every BFM point is projected onto the
   ICT face surface. ICT's own jaw landmarks sit on the silhouette edge; BFM's lie on the jaw line.
2. The mask is ICT's face in the 0..1 UV tile; the sampling is bounded by the outline of its
   "narrow face" (the front of the face, vertices 0..6705), rasterised into a UV position map (xyz of
   the neutral per pixel) and mask.
3. Repeat until 520 points: Delaunay-triangulate (in UV) the current points together with a fixed
   frame of points on the mask outline (they only shape the triangulation, so sampling reaches the
   forehead and cheeks instead of stopping at the seeds' convex hull); add the centroids of the
   triangles, largest UV area first, that fall inside the mask.
4. Every point is stored as (ICT triangle, barycentric weights): evaluable on any ICT shape.

Also written: a drawing triangulation of the 520 points, face-region labels, the left/right flip
permutation, the 520 points on the ICT neutral, and (with --docs) pictures of the layout.
"""
from __future__ import annotations

import argparse
from pathlib import Path

import cv2
import numpy as np
from scipy.optimize import linear_sum_assignment
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components
from scipy.spatial import Delaunay, cKDTree

from denseface.pose import umeyama
from denseface.topology import N_POINTS
from train.data import BFM_REFERENCE, REPO, require
from train.labels.fit import closest_surface_points
from train.labels.ict import ICTModel, load_ict

UV_RASTER = 512  # UV mask / position map resolution (pixels per UV unit)
FRAME_POINTS = 40  # points on the mask outline that shape the triangulation (not part of the 520)
FRAME_INSET = 0.012  # how far (UV units) inside the mask outline the frame points sit
AREA_DECIMALS = 9  # UV areas are ~1e-5..1e-2; rounding makes mirrored triangles' areas exactly equal
# Four points closer than this (relative to the circumradius) to one circle are treated as cocircular:
# the mirror-symmetric layout makes many exactly cocircular quads (isosceles trapezoids), where Qhull's
# choice of diagonal differs between versions; 1e-6 is far above float noise and far below real gaps.
COCIRCULAR_TOL = 1e-6
EDGE_TOL = 1e-7  # barycentric weight within which a point counts as lying on a triangle's edge
MIDLINE_TOL = 1e-3  # UV distance from u = 0.5 below which a centroid is put on the midline
MIN_SPACING = 1e-3  # UV distance below which a centroid duplicates a point already there
REGION_RADIUS_CM = 1.0  # a point this close to a landmark group on the neutral belongs to that region

# iBUG 68 groups (0-based, Multi-PIE order) and the region names of the shipped labels.
REGION_NAMES = ("jaw", "brows", "nose", "eyes", "lips", "cheeks", "forehead")
IBUG_GROUPS = {"jaw": range(0, 17), "brows": range(17, 27), "nose": range(27, 36),
               "eyes": range(36, 48), "lips": range(48, 68)}
# iBUG 68 left/right mirror pairs (subject's right ↔ left).
IBUG_FLIP = np.array(
    [16, 15, 14, 13, 12, 11, 10, 9, 8, 7, 6, 5, 4, 3, 2, 1, 0,
     26, 25, 24, 23, 22, 21, 20, 19, 18, 17,
     27, 28, 29, 30, 35, 34, 33, 32, 31,
     45, 44, 43, 42, 47, 46, 39, 38, 37, 36, 41, 40,
     54, 53, 52, 51, 50, 49, 48, 59, 58, 57, 56, 55, 64, 63, 62, 61, 60, 67, 66, 65],
    np.int32,
)
MIRROR_X = np.array([-1.0, 1.0, 1.0])


def bfm68_on_ict(model: ICTModel) -> tuple[np.ndarray, np.ndarray]:
    """The BFM 68 landmarks projected onto the ICT face: (rows of face_triangles (68,), bary (68, 3))."""
    bfm = np.loadtxt(require(BFM_REFERENCE / "bfm68_u_base.txt")).reshape(68, 3)
    ict68 = model.neutral[model.landmarks68].astype(np.float64)
    s, r, t = umeyama(bfm[17:], ict68[17:])
    aligned = (s * (r @ bfm.T)).T + t
    triangle, bary, _ = closest_surface_points(aligned, model.neutral, model.face_triangle_ids)
    return np.searchsorted(model.face_triangle_ids, triangle).astype(np.int32), bary


def narrow_triangles(model: ICTModel) -> np.ndarray:
    """(F', 3) the face triangles of the narrow face (front of the face) in the 0..1 UV tile."""
    return model.face_triangles[(model.face_triangles < model.narrow_face_vertex_count).all(1)]


def narrow_triangles_uv(model: ICTModel) -> np.ndarray:
    """(F', 3, 2) UVs of the corners of :func:`narrow_triangles`, in the same order."""
    return model.face_triangles_uv[(model.face_triangles < model.narrow_face_vertex_count).all(1)]


def locate_uv(
    uv: np.ndarray, tri_uv: np.ndarray, snap: bool = False, candidates: int = 16
) -> tuple[np.ndarray, np.ndarray]:
    """The UV triangle containing each point: (row (N,) int32, bary (N, 3) float64).

    Outside the triangles the row is −1, unless ``snap``: then the nearest candidate triangle is
    used with its weights clamped to the triangle (for points a rounding error off the mask edge).
    """
    a, b, c = tri_uv[:, 0], tri_uv[:, 1], tri_uv[:, 2]
    _, cand = cKDTree(tri_uv.mean(1)).query(uv, k=candidates)
    v0, v1, v2 = b[cand] - a[cand], c[cand] - a[cand], uv[:, None] - a[cand]
    den = v0[..., 0] * v1[..., 1] - v1[..., 0] * v0[..., 1]
    with np.errstate(divide="ignore", invalid="ignore"):
        w1 = (v2[..., 0] * v1[..., 1] - v1[..., 0] * v2[..., 1]) / den
        w2 = (v0[..., 0] * v2[..., 1] - v2[..., 0] * v0[..., 1]) / den
    bary = np.nan_to_num(np.stack([1 - w1 - w2, w1, w2], -1), nan=-1.0)
    inside = bary.min(-1)  # (N, candidates) ≥ 0 inside the triangle
    most = inside.max(1, keepdims=True)
    # the containing triangle, or the least-outside one; a point on an edge is inside both triangles
    # of the edge, and the lower row is taken so float noise does not pick one
    tied = inside >= np.minimum(most, 0) - EDGE_TOL
    best = np.argmin(np.where(tied, cand, np.iinfo(cand.dtype).max), axis=1)
    rows = np.arange(len(uv))
    found = most[:, 0] >= -1e-9
    weights = bary[rows, best]
    if snap:
        weights = np.clip(weights, 0, None)
        weights /= weights.sum(-1, keepdims=True)
        found[:] = True
    return np.where(found, cand[rows, best], -1).astype(np.int32), np.where(found[:, None], weights, 0.0)


def uv_position_map(
    model: ICTModel, triangles: np.ndarray, triangles_uv: np.ndarray, size: int = UV_RASTER
) -> tuple[np.ndarray, np.ndarray]:
    """ICT triangles (F, 3) with UVs (F, 3, 2) of the neutral rasterised in UV:
    (position (size, size, 3) cm, mask (size, size) bool).

    Pixel (row i, col j) samples UV (u, v) = ((j + 0.5) / size, 1 − (i + 0.5) / size).
    """
    j, i = np.meshgrid(np.arange(size), np.arange(size))
    uv = np.stack([(j.ravel() + 0.5) / size, 1 - (i.ravel() + 0.5) / size], 1)
    row, bary = locate_uv(uv, triangles_uv)
    corners = model.neutral[triangles[np.maximum(row, 0)]]
    pos = (bary[:, :, None] * corners).sum(1)
    mask = row >= 0
    pos[~mask] = 0
    return pos.reshape(size, size, 3).astype(np.float32), mask.reshape(size, size)


def mask_frame(mask: np.ndarray, count: int, inset: float) -> np.ndarray:
    """(count, 2) UV points evenly spaced along the mask's outer outline, moved ``inset`` inwards."""
    size = mask.shape[0]
    px = int(round(inset * size))
    eroded = cv2.erode(mask.astype(np.uint8), np.ones((2 * px + 1, 2 * px + 1), np.uint8))
    contours, _ = cv2.findContours(eroded, cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_NONE)
    outline = max(contours, key=len)[:, 0, :].astype(np.float64)  # (n, 2) col, row
    seg = np.linalg.norm(np.diff(outline, axis=0, append=outline[:1]), axis=1)
    arc = np.concatenate([[0], np.cumsum(seg)[:-1]])
    picks = np.searchsorted(arc, np.arange(count) * seg.sum() / count)
    col, row = outline[picks].T
    return np.stack([(col + 0.5) / size, 1 - (row + 0.5) / size], 1)


def mirror_uv(uv: np.ndarray) -> np.ndarray:
    """ICT's UV layout is left/right symmetric about u = 0.5 (to 1e-6): the mirror of (u, v) is (1 − u, v)."""
    return np.stack([1 - uv[..., 0], uv[..., 1]], -1)


def delaunay(points: np.ndarray) -> np.ndarray:
    """(M, 3) int32 the Delaunay triangulation of (N, 2) points, the same under every Qhull version.

    Where four or more points lie on one empty circle the Delaunay triangulation is not unique and
    Qhull's choice varies between releases. Such cells (triangles joined across an edge whose opposite
    vertex lies on their circumcircle, within ``COCIRCULAR_TOL``) are re-triangulated as a fan from
    their lowest vertex id. Every triangle is counter-clockwise and starts at its lowest vertex id;
    the rows are sorted.
    """
    mesh = Delaunay(points)
    simplices, neighbors = mesh.simplices, mesh.neighbors
    a, b, c = (points[simplices[:, k]] for k in range(3))
    # circumcentre of each triangle, from the standard closed form
    d = 2 * (a[:, 0] * (b[:, 1] - c[:, 1]) + b[:, 0] * (c[:, 1] - a[:, 1]) + c[:, 0] * (a[:, 1] - b[:, 1]))
    sa, sb, sc = (a**2).sum(1), (b**2).sum(1), (c**2).sum(1)
    centre = np.stack([sa * (b[:, 1] - c[:, 1]) + sb * (c[:, 1] - a[:, 1]) + sc * (a[:, 1] - b[:, 1]),
                       sa * (c[:, 0] - b[:, 0]) + sb * (a[:, 0] - c[:, 0]) + sc * (b[:, 0] - a[:, 0])], 1) / d[:, None]
    radius = np.linalg.norm(a - centre, axis=1)
    # each pair of neighbouring triangles (t, n): the vertex of n across their shared edge, i.e. the
    # one of n whose neighbour is t; the pair is one cell when that vertex lies on t's circumcircle
    t, k = np.nonzero(neighbors >= 0)
    n = neighbors[t, k]
    opposite = points[simplices[n, np.argmax(neighbors[n] == t[:, None], axis=1)]]
    same = np.abs(np.linalg.norm(opposite - centre[t], axis=1) - radius[t]) <= COCIRCULAR_TOL * radius[t]
    pairs = coo_matrix((np.ones(same.sum()), (t[same], n[same])), shape=(len(simplices),) * 2)
    _, cell = connected_components(pairs, directed=False)  # one label per cocircular cell
    triangles: list[np.ndarray] = []
    for label in np.unique(cell):
        members = simplices[cell == label]
        if len(members) == 1:
            triangles.append(members[0])
            continue
        ring = np.unique(members)  # a convex polygon on one circle: order its corners by angle
        offset = points[ring] - points[ring].mean(0)
        ring = ring[np.argsort(np.arctan2(offset[:, 1], offset[:, 0]))]
        ring = np.roll(ring, -int(np.argmin(ring)))
        triangles.extend(np.array([ring[0], ring[i], ring[i + 1]]) for i in range(1, len(ring) - 1))
    tri = np.asarray(triangles)
    e1, e2 = points[tri[:, 1]] - points[tri[:, 0]], points[tri[:, 2]] - points[tri[:, 0]]
    clockwise = e1[:, 0] * e2[:, 1] - e1[:, 1] * e2[:, 0] < 0
    tri[clockwise] = tri[clockwise][:, [0, 2, 1]]
    first = np.argmin(tri, axis=1)[:, None]
    tri = np.take_along_axis(tri, (first + np.arange(3)) % 3, axis=1)  # rotation keeps the orientation
    return tri[np.lexsort(tri.T[::-1])].astype(np.int32)


def sample_points(seeds_uv: np.ndarray, frame_uv: np.ndarray, tri_uv: np.ndarray, n: int) -> np.ndarray:
    """Iterative Delaunay refinement in UV: (n, 2), the seeds first, then centroids in insertion order.

    Each round triangulates the current points plus ``frame_uv`` and visits the triangles largest
    first; a centroid inside the mask is added together with its mirror image (a centroid on the
    midline u = 0.5 alone), so the layout stays left/right symmetric and every point has a partner.
    A round ends when the number is reached; one slot left is filled only by a midline centroid.
    """
    points = list(seeds_uv)
    while len(points) < n:
        current = np.asarray(points)
        everything = np.vstack([current, frame_uv])
        simplices = delaunay(everything)
        corners = everything[simplices]  # (M, 3, 2)
        e1, e2 = corners[:, 1] - corners[:, 0], corners[:, 2] - corners[:, 0]
        area = 0.5 * np.abs(e1[:, 0] * e2[:, 1] - e1[:, 1] * e2[:, 0])
        # largest first; areas equal to AREA_DECIMALS (mirror pairs) are ties, kept in delaunay()'s
        # sorted order of vertex ids (a stable sort), so the order never depends on Qhull
        order = np.argsort(-np.round(area, AREA_DECIMALS), kind="stable")
        centroids = corners[order].mean(1)
        centroids = centroids[locate_uv(centroids, tri_uv)[0] >= 0]
        added = cKDTree(current)
        taken: list[np.ndarray] = []
        for c in centroids:
            on_midline = abs(c[0] - 0.5) < MIDLINE_TOL
            new = [np.array([0.5, c[1]])] if on_midline else [c, mirror_uv(c)]
            if len(points) + len(taken) + len(new) > n:
                continue
            if added.query(c)[0] < MIN_SPACING or (taken and cKDTree(taken).query(c)[0] < MIN_SPACING):
                continue  # the mirror of an earlier centroid of this round
            taken.extend(new)
            if len(points) + len(taken) == n:
                break
        if not taken:
            raise RuntimeError("no centroid could be added; the mask or the seeds are degenerate")
        points.extend(taken)
    return np.asarray(points)


def flip_permutation(points: np.ndarray) -> np.ndarray:
    """(N,) the left/right mirror partner of each point; iBUG pairs for the first 68.

    The others: the assignment minimising the total distance between each point and its partner's
    mirror image (x → −x) on the neutral, made symmetric (i ↔ j) so the permutation is an involution.
    """
    rest = np.arange(68, len(points))
    p = points[rest]
    cost = np.linalg.norm(p[:, None] - p[None] * MIRROR_X, axis=-1)
    _, col = linear_sum_assignment(cost + cost.T)  # symmetric cost: mirror pairs are mutual
    flip = np.concatenate([IBUG_FLIP, rest[col]]).astype(np.int32)
    if not np.array_equal(flip[flip], np.arange(len(points))):
        raise RuntimeError("the mirror assignment is not an involution")
    return flip


def region_labels(points: np.ndarray) -> np.ndarray:
    """(N,) uint8 index into REGION_NAMES; the 68 by their iBUG group, others by the nearest group.

    A non-landmark point within REGION_RADIUS_CM of a group's landmarks joins that group; otherwise it
    is forehead when above the brows' lowest landmark, cheeks when below.
    """
    labels = np.zeros(len(points), np.uint8)
    group_of = np.zeros(68, np.uint8)
    for name, idx in IBUG_GROUPS.items():
        group_of[list(idx)] = REGION_NAMES.index(name)
    labels[:68] = group_of
    dist, nearest = cKDTree(points[:68]).query(points[68:])
    brow_bottom = points[17:27, 1].min()
    other = np.where(points[68:, 1] > brow_bottom, REGION_NAMES.index("forehead"), REGION_NAMES.index("cheeks"))
    labels[68:] = np.where(dist < REGION_RADIUS_CM, group_of[nearest], other)
    return labels


def drawing_triangles(uv: np.ndarray, tri_uv: np.ndarray) -> np.ndarray:
    """(M, 3) int32 Delaunay triangles of the points in UV whose centroid lies on the face (no mouth slot)."""
    simplices = delaunay(uv)
    keep = locate_uv(uv[simplices].mean(1), tri_uv)[0] >= 0
    return simplices[keep].astype(np.int32)


def build(model: ICTModel) -> dict[str, np.ndarray]:
    """All topology arrays (see ``denseface.topology`` for their meaning).

    The mask is ICT's face (the 0..1 UV tile); the frame that bounds the sampling follows the outline
    of the narrow face, so points stay on the front of the face except the BFM jaw seeds near the ears.
    """
    tris_uv = model.face_triangles_uv
    seed_rows, seed_bary = bfm68_on_ict(model)
    seeds_uv = (seed_bary[:, :, None] * tris_uv[seed_rows]).sum(1)
    seeds_uv = 0.5 * (seeds_uv + mirror_uv(seeds_uv[IBUG_FLIP]))  # BFM's mean is symmetric to ~1 mm
    _, narrow_mask = uv_position_map(model, narrow_triangles(model), narrow_triangles_uv(model))
    frame = mask_frame(narrow_mask, FRAME_POINTS, FRAME_INSET)
    uv = sample_points(seeds_uv, frame, tris_uv, N_POINTS)
    rows, bary = locate_uv(uv, tris_uv, snap=True)
    ict_triangle = model.face_triangle_ids[rows]
    points = (bary[:, :, None] * model.neutral[model.triangles[ict_triangle]]).sum(1)
    return {
        "ict_triangle": ict_triangle.astype(np.int32),
        "bary": bary.astype(np.float32),
        "uv": uv.astype(np.float32),
        "mean_shape": points.astype(np.float32),
        "triangles": drawing_triangles(uv, tris_uv),
        "flip": flip_permutation(points),
        "regions": region_labels(points),
        "region_names": np.array(REGION_NAMES),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", type=Path, default=REPO / "sdk/denseface/assets/topology.npz",
                        help="where to write the topology arrays (default: the SDK's bundled asset)")
    parser.add_argument("--docs", type=Path, default=None,
                        help="also draw the 520 points and triangles on the mean face into this folder")
    args = parser.parse_args()
    topo = build(load_ict())
    args.out.parent.mkdir(parents=True, exist_ok=True)
    np.savez_compressed(args.out, **topo)
    if args.docs is not None:
        from train.evaluation.plots import draw_topology

        draw_topology(topo, load_ict(), args.docs)


if __name__ == "__main__":
    main()
