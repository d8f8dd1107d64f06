"""The ICT-FaceKit morphable face model, restricted to what DenseFace uses.

Model frame: centimetres, x towards the subject's left (the viewer's right), y up, z towards the
viewer. A shape is ``neutral + identity·α + expression·β`` with α ∈ R^100 (unit-variance identity
weights) and β ∈ [0, 1]^57 (ARKit-style blendshape activations).
"""
from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import numpy as np

from train.data import ICT_NPZ, require


@dataclass(frozen=True)
class ICTModel:
    """ICT face model arrays (float32 unless stated).

    neutral: (V, 3) vertices, V = 11248 (face 0..face_vertex_count-1, then head and neck).
    triangles: (T, 3) int32 vertex ids of the whole mesh.
    face_triangles: (F, 3) int32 the triangles of the face whose UVs lie in the 0..1 tile.
    face_triangles_uv: (F, 3, 2) UV coordinates of those triangles' corners (u right, v up).
    identity: (100, V, 3) and expression: (57, V, 3) offsets from neutral.
    expression_names: (57,) str. landmarks68: (68,) int32 vertex ids (Multi-PIE order).
    Vertices below narrow_face_vertex_count (6706) form the front of the face (no ears, no neck).
    """

    neutral: np.ndarray
    triangles: np.ndarray
    face_triangles: np.ndarray
    face_triangle_ids: np.ndarray
    face_triangles_uv: np.ndarray
    identity: np.ndarray
    expression: np.ndarray
    expression_names: tuple[str, ...]
    landmarks68: np.ndarray
    face_vertex_count: int
    narrow_face_vertex_count: int

    def shape(self, alpha: np.ndarray | None = None, beta: np.ndarray | None = None) -> np.ndarray:
        """(V, 3) vertices for identity weights ``alpha`` (≤100) and expression weights ``beta`` (57)."""
        v = self.neutral.astype(np.float64).copy()
        if alpha is not None:
            alpha = np.asarray(alpha, np.float64)
            v += np.tensordot(alpha, self.identity[: len(alpha)], axes=1)
        if beta is not None:
            v += np.tensordot(np.asarray(beta, np.float64), self.expression, axes=1)
        return v

    def expression_index(self, name: str) -> int:
        """Index of the blendshape called ``name`` (e.g. ``"jawOpen"``); ValueError if unknown."""
        try:
            return self.expression_names.index(name)
        except ValueError:
            raise ValueError(f"unknown ICT expression {name!r}") from None


@lru_cache(maxsize=1)
def load_ict() -> ICTModel:
    """Load ``ict_face_model.npz`` from the shared data (cached per process)."""
    d = np.load(require(ICT_NPZ))
    n_face = int(d["face_vertex_count"])
    tri, tri_uv, uv = d["triangles"], d["triangles_uv"], d["uv"]
    corners_uv = uv[tri_uv]  # (T, 3, 2)
    in_tile = ((corners_uv >= 0) & (corners_uv <= 1)).all(axis=(1, 2))
    face = (tri < n_face).all(axis=1) & in_tile
    ids = np.flatnonzero(face).astype(np.int32)
    return ICTModel(
        neutral=d["neutral"].astype(np.float32),
        triangles=tri.astype(np.int32),
        face_triangles=tri[ids].astype(np.int32),
        face_triangle_ids=ids,
        face_triangles_uv=corners_uv[ids].astype(np.float32),
        identity=d["identity"].astype(np.float32),
        expression=d["expression"].astype(np.float32),
        expression_names=tuple(str(s) for s in d["expression_names"]),
        landmarks68=d["landmarks68"].astype(np.int32),
        face_vertex_count=n_face,
        narrow_face_vertex_count=int(d["narrow_face_vertex_count"]),
    )


@lru_cache(maxsize=1)
def mirror_vertices() -> np.ndarray:
    """(V,) int32: for each vertex, the vertex nearest to its mirror image (x → −x) on the neutral.

    The ICT neutral is left/right symmetric to ~1e-4 cm, so this is the left/right vertex pairing.
    """
    from scipy.spatial import cKDTree

    v = load_ict().neutral
    _, idx = cKDTree(v).query(v * np.array([-1.0, 1.0, 1.0], np.float32))
    return idx.astype(np.int32)


def topology_points(vertices: np.ndarray) -> np.ndarray:
    """(520, 3) float64: DenseFace's dense points (``denseface.topology``) on an ICT mesh ``vertices``
    (V, 3) in any frame (the points are barycentric mixes of mesh vertices, so they follow it)."""
    from denseface.topology import load_topology

    topo = load_topology()
    corners = np.asarray(vertices, np.float64)[load_ict().triangles[topo.ict_triangle]]  # (520, 3, 3)
    return (topo.bary[:, :, None] * corners).sum(1)
