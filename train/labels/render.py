"""Z-buffer triangle rasteriser (numba) for meshes in an image frame.

Frame and pixel convention: x to the right and y down, both in pixels; pixel (row r, column c) has its
centre at (x, y) = (c, r), i.e. pixel centres lie at integer coordinates (the convention of OpenCV's
``remap``/``warpAffine``). z is depth in any unit with +z towards the camera (orthographic view along
−z): where triangles overlap, the one with the largest interpolated z at the pixel centre wins.

A pixel is covered by a triangle when its centre lies inside it. Centres exactly on an edge follow the
top-left rule, so two triangles sharing an edge never both cover a pixel on it and never both miss it.

For a 2-D rasterisation (e.g. of a UV layout) pass z = 0 for every vertex: then the first triangle
covering a pixel (lowest index) keeps it.
"""
from __future__ import annotations

import numpy as np
from numba import njit


@njit(cache=True)
def _rasterize_kernel(
    vertices: np.ndarray,
    triangles: np.ndarray,
    cull_sign: int,
    tri_id: np.ndarray,
    bary: np.ndarray,
    depth: np.ndarray,
) -> None:
    height, width = tri_id.shape
    for t in range(triangles.shape[0]):
        i0, i1, i2 = triangles[t, 0], triangles[t, 1], triangles[t, 2]
        x0, y0, z0 = vertices[i0, 0], vertices[i0, 1], vertices[i0, 2]
        x1, y1, z1 = vertices[i1, 0], vertices[i1, 1], vertices[i1, 2]
        x2, y2, z2 = vertices[i2, 0], vertices[i2, 1], vertices[i2, 2]
        area = (x1 - x0) * (y2 - y0) - (y1 - y0) * (x2 - x0)
        if area == 0.0 or not np.isfinite(area):
            continue
        if cull_sign != 0 and (area > 0.0) != (cull_sign > 0):
            continue
        # Orient every triangle so that its edge functions are positive inside; `swapped` remembers
        # that corners 1 and 2 were exchanged so the barycentrics are written in the input order.
        swapped = area < 0.0
        if swapped:
            x1, y1, z1, x2, y2, z2 = x2, y2, z2, x1, y1, z1
            area = -area
        c_min = max(int(np.ceil(min(x0, x1, x2))), 0)
        c_max = min(int(np.floor(max(x0, x1, x2))), width - 1)
        r_min = max(int(np.ceil(min(y0, y1, y2))), 0)
        r_max = min(int(np.floor(max(y0, y1, y2))), height - 1)
        if c_min > c_max or r_min > r_max:
            continue
        # Edge k is the edge opposite corner k, walked a -> b; its edge function at p is
        # (b - a) x (p - a). Top-left rule (y down): an edge owns the centres lying exactly on it
        # when it is a left edge (dy < 0) or a top edge (dy == 0 and dx > 0).
        dx0, dy0 = x2 - x1, y2 - y1
        dx1, dy1 = x0 - x2, y0 - y2
        dx2, dy2 = x1 - x0, y1 - y0
        own0 = dy0 < 0.0 or (dy0 == 0.0 and dx0 > 0.0)
        own1 = dy1 < 0.0 or (dy1 == 0.0 and dx1 > 0.0)
        own2 = dy2 < 0.0 or (dy2 == 0.0 and dx2 > 0.0)
        inv_area = 1.0 / area
        for r in range(r_min, r_max + 1):
            py = float(r)
            for c in range(c_min, c_max + 1):
                px = float(c)
                e0 = dx0 * (py - y1) - dy0 * (px - x1)
                e1 = dx1 * (py - y2) - dy1 * (px - x2)
                e2 = dx2 * (py - y0) - dy2 * (px - x0)
                if e0 < 0.0 or e1 < 0.0 or e2 < 0.0:
                    continue
                if (e0 == 0.0 and not own0) or (e1 == 0.0 and not own1) or (e2 == 0.0 and not own2):
                    continue
                b0 = e0 * inv_area
                b1 = e1 * inv_area
                b2 = e2 * inv_area
                z = b0 * z0 + b1 * z1 + b2 * z2
                if z <= depth[r, c]:
                    continue
                depth[r, c] = z
                tri_id[r, c] = t
                bary[r, c, 0] = b0
                if swapped:
                    bary[r, c, 1] = b2
                    bary[r, c, 2] = b1
                else:
                    bary[r, c, 1] = b1
                    bary[r, c, 2] = b2


def rasterize(
    vertices: np.ndarray,
    triangles: np.ndarray,
    height: int,
    width: int,
    cull_sign: int = 0,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Rasterise a triangle mesh with a z-buffer (pixel centres at integer (x, y); see module doc).

    vertices: (V, 3) float, (x, y) in pixels of the output grid (x right, y down), z towards the camera.
    triangles: (T, 3) integer vertex ids.
    height, width: the output grid size in pixels.
    cull_sign: 0 draws every triangle; +1 (−1) draws only triangles whose signed area
        (x1−x0)(y2−y0) − (y1−y0)(x2−x0) is positive (negative). An ICT mesh placed in an image frame
        (y down) has negative signed area on its front faces, so pass −1 to cull its back faces.

    Returns:
        tri_id: (H, W) int32 index of the visible triangle, −1 where no triangle covers the centre.
        bary: (H, W, 3) float32 barycentric weights of that triangle's three corners (in the order
            given in ``triangles``) at the pixel centre; 0 on background.
        depth: (H, W) float32 interpolated z of the visible surface; −inf on background.
    """
    v = np.ascontiguousarray(vertices, dtype=np.float64)
    t = np.ascontiguousarray(triangles, dtype=np.int32)
    if v.ndim != 2 or v.shape[1] != 3 or t.ndim != 2 or t.shape[1] != 3:
        raise ValueError(f"expected vertices (V, 3) and triangles (T, 3), got {v.shape} and {t.shape}")
    tri_id = np.full((height, width), -1, np.int32)
    bary = np.zeros((height, width, 3), np.float32)
    depth = np.full((height, width), -np.inf, np.float32)
    _rasterize_kernel(v, t, int(cull_sign), tri_id, bary, depth)
    return tri_id, bary, depth
