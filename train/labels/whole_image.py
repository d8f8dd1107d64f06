"""Whole-image profiling: the photo around the head (hair, ears, neck, background) turns with the head.

300W-LP's face profiling (Zhu et al., "Face Alignment Across Large Poses: A 3D Solution", CVPR 2016)
meshes the whole image, not only the face: anchor points on rings around the face's outline and on the
image border get depths, are triangulated with the face's outline, and rotate with the face, so the
surroundings move and distort smoothly instead of standing still behind a pasted face. Here:

- the head is rendered exactly as ``train.labels.profiling`` renders it (texture lookup, mirror fill,
  closed eyes and mouth); the labels are still the rotated head's, so they stay exact;
- the surroundings are a 2.5-D mesh of the photo outside the head's footprint: the head vertices on
  the footprint's outline (the seam, which moves with the head), anchors on rings at
  ``RING_DISTANCES`` beyond the outline, anchors on the photo's edge and on a frame ``FRAME_MARGIN``
  photo sides outside it (so the photo stays covered after an in-plane turn), triangulated by
  Delaunay on their source (x, y) and textured from the photo at those (x, y), reflected beyond it;
- an anchor's depth falls smoothly from its nearest seam vertex's depth at the outline to the back of
  the head (the head's deepest vertex) ``DEPTH_FALLOFF`` face widths beyond it, so what lies beyond
  the outline turns behind the head and shows parallax;
- the head's motion (found from the source and new head vertices: least squares, exact for a rigid
  turn), taken about the face centre (``rotate_head``'s pivot), is split into its in-plane part (a
  turn about the view axis, plus the face centre's shift), which the whole image follows as a camera
  roll would, and its out-of-plane part (yaw and pitch), which an anchor follows by the fraction
  ``follow`` = smoothstep(b / (b + d)) of its angle (d: distance to the head's footprint, b: to the
  photo's edge): all of it at the outline, none at the photo's edge and beyond. A rigid turn of the
  whole image would squash a photo's background to a line at 90° of yaw and pull the image's edges
  into the crop; under a yaw or pitch the photo's edge instead stays put and the surroundings between
  stretch;
- the head is drawn in front of the surroundings (nothing of the photo outside the head can be in
  front of the face), the surroundings with their own z-buffer, rendered in the photo's frame and
  then warped to the crop like the face-only mode's background (reflected beyond the photo); where
  the surroundings leave a gap (slivers along the seam; under the head, which a crop reaching beyond
  the photo shows reflected) the face-only mode's filled-in background shows.

Frames as in ``train.labels.profiling``: x right, y down in source pixels, z in the same scale
towards the camera, pixel centres at integers.

Typical use (the same calls as the face-only mode)::

    source = prepare_whole(image, fit.vertices, rng)
    view = render_whole(source, verts_new, (128, 128), affine)  # labels: verts_new mapped by affine
"""
from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np
from scipy.spatial import Delaunay, cKDTree
from scipy.spatial.transform import Rotation

from train.labels.profiling import (
    SourceFace,
    composite_head,
    face_centre,
    prepare_source,
    render_head,
    warp_to_output,
)
from train.labels.render import rasterize

# Distances of the anchor rings beyond the head's outline, in face widths (the face vertices' x extent
# in the photo): dense near the outline, where hair and ears bend with the head, sparse further out.
RING_DISTANCES = (0.03, 0.08, 0.16, 0.28, 0.45, 0.7)
# Spacing of the seam's vertices along the outline, in face widths (≈ 4 px on an LFW face); a ring's
# anchors are this plus half the ring's distance apart, and the frame's a quarter face width.
SEAM_SPACING = 0.04
FRAME_SPACING = 0.25
# The outer frame of anchors lies this many photo sides (the longer one) outside the photo, so that an
# in-plane turn of up to 90° leaves no part of the photo uncovered.
FRAME_MARGIN = 0.5
# Beyond the outline an anchor's depth goes from its seam vertex's to the back of the head over this
# many face widths.
DEPTH_FALLOFF = 0.5


@dataclass(frozen=True)
class WholeImageSource:
    """A photo prepared for whole-image profiling: the head (face-only mode) and its surroundings.

    face: the head, as ``train.labels.profiling.prepare_source`` prepares it.
    seam: (S,) int32 ids of head vertices (into ``face.verts``) on the outline of the head's footprint.
    anchors: (A, 3) float64 image-frame anchors (source x, y in pixels, assigned depth z).
    follow: (A,) float64 in [0, 1], the fraction of the head's out-of-plane turn each anchor follows
        (0 on the photo's edge and beyond).
    triangles: (T, 3) int32 the surroundings' triangles, indexing the seam vertices then the anchors.
    """

    face: SourceFace
    seam: np.ndarray
    anchors: np.ndarray
    follow: np.ndarray
    triangles: np.ndarray

    def source_xy(self) -> np.ndarray:
        """(S + A, 2) float64 where each surroundings vertex samples the photo (source pixels; beyond
        the photo, its reflection)."""
        return np.concatenate([self.face.verts[self.seam, :2], self.anchors[:, :2]])


def _smoothstep(t: np.ndarray) -> np.ndarray:
    t = np.clip(t, 0.0, 1.0)
    return t * t * (3.0 - 2.0 * t)


def _outline_points(mask: np.ndarray, spacing: float, cut_by_edge: bool) -> np.ndarray:
    """(N, 2) float64 pixel centres (x, y) every ``spacing`` px along the outer outlines of ``mask``
    (H, W) bool; where the image's edge cuts the mask, the outline runs along the edge's pixels,
    which are left out unless ``cut_by_edge``."""
    h, w = mask.shape
    contours, _ = cv2.findContours(mask.astype(np.uint8), cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_NONE)
    points = []
    for contour in contours:
        xy = contour[:, 0, :].astype(np.float64)
        arc = np.concatenate([[0.0], np.cumsum(np.linalg.norm(np.diff(xy, axis=0), axis=1))])
        points.append(xy[np.searchsorted(arc, np.arange(0.0, arc[-1] + 1e-9, spacing))])
    if not points:
        return np.zeros((0, 2))
    xy = np.concatenate(points)
    if cut_by_edge:
        return xy
    inside = (xy[:, 0] >= 1) & (xy[:, 0] <= w - 2) & (xy[:, 1] >= 1) & (xy[:, 1] <= h - 2)
    return xy[inside]


def _frame_points(height: int, width: int, margin: float, spacing: float) -> np.ndarray:
    """(N, 2) float64 points about ``spacing`` px apart on the rectangle ``margin`` px outside the
    photo's pixel centres on every side, corners included."""
    lo_x, hi_x, lo_y, hi_y = -margin, width - 1.0 + margin, -margin, height - 1.0 + margin
    xs = np.linspace(lo_x, hi_x, max(2, int(np.ceil((hi_x - lo_x) / spacing)) + 1))
    ys = np.linspace(lo_y, hi_y, max(2, int(np.ceil((hi_y - lo_y) / spacing)) + 1))[1:-1]
    return np.concatenate([np.column_stack([xs, np.full_like(xs, lo_y)]),
                           np.column_stack([xs, np.full_like(xs, hi_y)]),
                           np.column_stack([np.full_like(ys, lo_x), ys]),
                           np.column_stack([np.full_like(ys, hi_x), ys])])


def prepare_whole(
    image: np.ndarray, verts_src: np.ndarray, rng: np.random.Generator | None = None
) -> WholeImageSource:
    """Prepare a photo (H, W, 3) uint8 RGB and its fitted head ``verts_src`` (11248, 3) (image frame,
    pixels) for whole-image profiling; reuse the result for all the views of the photo.

    ``rng`` only adds grain to the filled-in background (``prepare_source``; it draws the same numbers).
    """
    face = prepare_source(image, verts_src, rng)
    h, w = image.shape[:2]
    footprint = np.isfinite(face.depth)
    face_width = float(np.ptp(face.verts[: face.mesh.face_vertex_count, 0]))

    # Seam: for points along the footprint's outline, the nearest head vertex the photo shows (on the
    # visible surface, so the seam follows the front of the head where front and back meet). Where the
    # photo's edge cuts the head, the seam runs along the edge too: the surroundings there then
    # stretch to the turned head instead of leaving a gap between it and the static edge.
    outline = _outline_points(footprint, SEAM_SPACING * face_width, cut_by_edge=True)
    v = face.verts
    col, row = np.rint(v[:, 0]).astype(int), np.rint(v[:, 1]).astype(int)
    in_photo = np.flatnonzero((col >= 0) & (col < w) & (row >= 0) & (row < h))
    visible = in_photo[v[in_photo, 2] >= face.depth[row[in_photo], col[in_photo]] - face.tolerance]
    _, nearest = cKDTree(v[visible, :2]).query(outline)
    seam = np.unique(visible[nearest]).astype(np.int32)

    # Anchors: rings of the distance to the footprint, the photo's edge (the outside of its edge
    # pixels, so every pixel centre is inside the mesh) and the outer frame.
    distance = cv2.distanceTransform((~footprint).astype(np.uint8), cv2.DIST_L2, 5)
    rings = [_outline_points(distance <= r * face_width, (SEAM_SPACING + r / 2.0) * face_width, False)
             for r in RING_DISTANCES]
    xy = np.concatenate(rings + [_frame_points(h, w, margin, FRAME_SPACING * face_width)
                                 for margin in (0.5, FRAME_MARGIN * max(h, w))])
    pixel = np.clip(np.rint(xy).astype(int), 0, [w - 1, h - 1])
    to_head = distance[pixel[:, 1], pixel[:, 0]].astype(np.float64)
    to_edge = np.maximum(np.minimum(np.minimum(xy[:, 0], w - 1.0 - xy[:, 0]),
                                    np.minimum(xy[:, 1], h - 1.0 - xy[:, 1])), 0.0)
    total = to_head + to_edge
    follow = _smoothstep(np.divide(to_edge, total, out=np.zeros_like(total), where=total > 0))
    _, nearest_seam = cKDTree(v[seam, :2]).query(xy)
    back = float(v[:, 2].min())
    ramp = _smoothstep(1.0 - to_head / (DEPTH_FALLOFF * face_width))
    depth = back + (v[seam[nearest_seam], 2] - back) * ramp
    anchors = np.column_stack([xy, depth])

    # Delaunay covers the hull, the head's footprint included; the triangles spanning the footprint
    # between seam vertices alone are the head's place, drawn by the head.
    points = np.concatenate([v[seam, :2], xy])
    triangles = Delaunay(points).simplices.astype(np.int32)
    centre = np.clip(np.rint(points[triangles].mean(axis=1)).astype(int), 0, [w - 1, h - 1])
    spans_head = (triangles < len(seam)).all(axis=1) & footprint[centre[:, 1], centre[:, 0]]
    return WholeImageSource(face, seam, anchors, follow, triangles[~spans_head])


def rigid_motion(src: np.ndarray, new: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(R (3, 3), t (3,)) of the least-squares rigid motion new ≈ R src + t of two (N, 3) point sets
    (Kabsch). Exact when ``new`` is a rigid motion of ``src``; for a head with an expression edit it is
    the head's overall turn."""
    c_src, c_new = src.mean(axis=0), new.mean(axis=0)
    u, _, vt = np.linalg.svd((src - c_src).T @ (new - c_new))
    d = np.sign(np.linalg.det(vt.T @ u.T))
    rotation = vt.T @ np.diag([1.0, 1.0, d]) @ u.T
    return rotation, c_new - rotation @ c_src


def move_surroundings(source: WholeImageSource, verts_new: np.ndarray) -> np.ndarray:
    """(S + A, 3) float64 image-frame positions of the surroundings' vertices for the head
    ``verts_new`` (11248, 3): the seam vertices are the new head's; each anchor turns about the face
    centre (``rotate_head``'s pivot) by the head's in-plane turn and by ``follow`` of its out-of-plane
    turn, and moves with the face centre."""
    face = source.face
    head_new = face.mesh.close_holes(verts_new)
    rotation, shift = rigid_motion(face.verts, head_new)
    pivot = face_centre(face.verts, face.mesh.face_vertex_count)
    turn = Rotation.from_matrix(rotation)
    _, _, z, w = turn.as_quat()  # scalar last
    # Swing-twist split: the twist is the turn about the view axis (z), the swing the rest; a swing
    # of exactly 180° leaves the twist undefined, and any split then does.
    twist = Rotation.from_quat([0.0, 0.0, z, w]) if np.hypot(z, w) > 1e-9 else Rotation.identity()
    swing = (turn * twist.inv()).as_rotvec()
    partial = Rotation.from_rotvec(source.follow[:, None] * swing[None, :])
    anchors = partial.apply(twist.apply(source.anchors - pivot)) + rotation @ pivot + shift
    return np.concatenate([head_new[source.seam], anchors])


def render_surroundings(source: WholeImageSource, verts_new: np.ndarray) -> np.ndarray:
    """(H, W, 3) uint8 the photo's surroundings turned with the head ``verts_new`` (11248, 3), in the
    photo's own pixels (source frame), without the head; where they leave a gap (slivers along the
    seam), the photo with the head filled in (``SourceFace.background``).

    Rendered in the photo's frame and then warped, so that a crop reaching beyond the photo shows
    the turned surroundings reflected, continuous at the photo's edge.
    """
    face = source.face
    h, w = face.image.shape[:2]
    tri_id, bary, _ = rasterize(move_surroundings(source, verts_new), source.triangles, h, w)
    corners = source.source_xy()[source.triangles[tri_id]]  # (H, W, 3, 2); tri_id −1 rows are masked
    where = np.einsum("hwk,hwkd->hwd", bary, corners).astype(np.float32)
    turned = cv2.remap(face.image, where, None, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REFLECT_101)
    return np.where((tri_id >= 0)[:, :, None], turned, face.background)


def render_whole(
    source: WholeImageSource, verts_new: np.ndarray, out_shape: tuple[int, int], affine: np.ndarray | None = None
) -> np.ndarray:
    """(H2, W2, 3) uint8 RGB photo of the head ``verts_new`` (11248, 3) (source image frame, pixels) in
    front of its surroundings, turned with it (whole-image profiling).

    ``affine`` (2, 3) maps the source image frame to output pixels (None = identity), as in
    ``train.labels.profiling.render_prepared``; the labels of the output are verts_new mapped the same
    way. With verts_new = the fitted head the output is the photo itself (up to the head's
    interpolation and the grazing parts its texture does not trust).
    """
    a = np.eye(2, 3) if affine is None else np.asarray(affine, np.float64)
    head, covered = render_head(source.face, verts_new, out_shape, a)
    return composite_head(head, covered, warp_to_output(render_surroundings(source, verts_new), out_shape, a))
