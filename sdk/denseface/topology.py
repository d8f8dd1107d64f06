"""The 520-point dense topology shipped with the model (``assets/topology.npz``).

Built by ``python -m train.labels.make_topology`` from the ICT-FaceKit face with the seed paper's method
(iterative Delaunay refinement in UV starting from the 68 landmarks). Point i of every model output
is point i here. The first 68 points are the iBUG 68 landmarks in the standard order, with the BFM /
3DDFA definition of the jaw contour (the one AFLW2000-3D's ground truth uses).
"""
from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from importlib import resources

import numpy as np

N_POINTS = 520
N_IBUG68 = 68  # the iBUG 68 landmarks are the first points: points[:N_IBUG68] is a view (no gather)
IBUG68 = np.arange(N_IBUG68)  # their indices among the 520 points


@dataclass(frozen=True)
class Topology:
    """The dense layout.

    mean_shape: (520, 3) float32 the points on the ICT neutral face, centimetres, model frame
        (x towards the subject's left = the viewer's right, y up, z towards the viewer).
    triangles: (M, 3) int32 a triangulation of the 520 points for drawing a mesh.
    flip: (520,) int32 left/right partner of each point (an involution; ``points[flip]`` of a mirrored
        face is the mirrored ``points``).
    regions: (520,) uint8 index into ``region_names`` (jaw, brows, nose, eyes, lips, cheeks, forehead).
    ict_triangle: (520,) int32 and bary: (520, 3) float32: each point as barycentric weights of an
        ICT-FaceKit mesh triangle, so it can be evaluated on any fitted ICT mesh.
    uv: (520, 2) float32 the points in ICT's UV layout.
    """

    mean_shape: np.ndarray
    triangles: np.ndarray
    flip: np.ndarray
    regions: np.ndarray
    region_names: tuple[str, ...]
    ict_triangle: np.ndarray
    bary: np.ndarray
    uv: np.ndarray

    def region(self, name: str) -> np.ndarray:
        """Indices of the points labelled ``name``; ValueError for an unknown region name."""
        if name not in self.region_names:
            raise ValueError(f"unknown region {name!r}; expected one of {self.region_names}")
        return np.flatnonzero(self.regions == self.region_names.index(name))


@lru_cache(maxsize=1)
def load_topology() -> Topology:
    """Load the bundled topology (cached)."""
    with resources.files("denseface").joinpath("assets/topology.npz").open("rb") as f:
        d = np.load(f)
        return Topology(
            mean_shape=d["mean_shape"],
            triangles=d["triangles"],
            flip=d["flip"],
            regions=d["regions"],
            region_names=tuple(str(s) for s in d["region_names"]),
            ict_triangle=d["ict_triangle"],
            bary=d["bary"],
            uv=d["uv"],
        )
