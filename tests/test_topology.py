"""The 520-point topology: deterministic, the paper's construction, iBUG order, symmetric."""
from __future__ import annotations

import numpy as np
import pytest

from denseface.topology import IBUG68, N_POINTS, load_topology


@pytest.fixture(scope="module")
def built(shared_data):
    from train.labels.ict import load_ict
    from train.labels.make_topology import build

    return build(load_ict()), load_ict()


def test_rebuild_is_deterministic_and_matches_the_shipped_asset(built):
    from train.labels.ict import load_ict
    from train.labels.make_topology import build

    again = build(load_ict())
    shipped = load_topology()
    for key in ("ict_triangle", "triangles", "flip", "regions"):
        np.testing.assert_array_equal(built[0][key], again[key])
        np.testing.assert_array_equal(built[0][key], getattr(shipped, key))
    np.testing.assert_allclose(built[0]["mean_shape"], shipped.mean_shape, atol=1e-5)


def test_layout_is_stable_under_rounding_noise(built, monkeypatch):
    """Seeds moved by 1e-9 (float noise of another, equivalent projection) give the same 520 points."""
    import train.labels.make_topology as mt

    exact = mt.bfm68_on_ict

    def noisy(model):
        rows, bary = exact(model)
        bary = bary + np.random.default_rng(0).normal(0, 1e-9, bary.shape)
        return rows, bary / bary.sum(1, keepdims=True)

    monkeypatch.setattr(mt, "bfm68_on_ict", noisy)
    again = mt.build(built[1])
    np.testing.assert_array_equal(again["ict_triangle"], built[0]["ict_triangle"])
    np.testing.assert_allclose(again["mean_shape"], built[0]["mean_shape"], atol=1e-6)


def test_count_and_unique_points():
    topo = load_topology()
    assert topo.mean_shape.shape == (N_POINTS, 3)
    d = np.linalg.norm(topo.mean_shape[:, None] - topo.mean_shape[None], axis=-1)
    np.fill_diagonal(d, np.inf)
    assert d.min() > 0.02  # cm: no two points coincide (the closest pair is on an eyelid, 0.043 cm)


def test_points_lie_inside_the_face_mask(built):
    """Every point sits on a triangle of ICT's face (the UV mask) with non-negative weights."""
    topo, model = built
    assert np.isin(topo["ict_triangle"], model.face_triangle_ids).all()
    assert (topo["bary"] >= 0).all() and np.allclose(topo["bary"].sum(1), 1, atol=1e-5)


def test_first_68_follow_ibug_order_on_the_mean_face():
    """Hand-checkable iBUG facts in the model frame (x to the viewer's right, y up, z to the viewer)."""
    p = load_topology().mean_shape[IBUG68]
    assert p[0, 0] < p[8, 0] < p[16, 0]  # jaw runs from the subject's right (viewer's left) to left
    assert p[8, 1] == p[:17, 1].min()  # 8 is the chin, the lowest jaw point
    assert p[30, 2] == p.max(0)[2]  # 30 is the nose tip, the most forward point
    assert p[36, 0] < p[39, 0] < p[27, 0] < p[42, 0] < p[45, 0]  # eye corners, left to right
    assert p[48, 0] < p[51, 0] < p[54, 0] and p[51, 1] > p[57, 1]  # mouth corners, upper above lower lip
    assert p[19, 1] > p[37, 1] and p[24, 1] > p[44, 1]  # brows above the eyes
    assert abs(p[8, 0]) < 0.05 and abs(p[30, 0]) < 0.05  # chin and nose tip on the midline


def test_jaw_follows_the_bfm_definition(shared_data):
    """The jaw seeds are BFM's jaw line, not ICT's silhouette landmarks: after similarity alignment on
    the inner 51 points, BFM's 3DDFA mean jaw lies within 0.45 cm of ours in 3D, while ICT's own jaw
    landmarks (on the silhouette, further back) are on average more than 1.5 cm off."""
    from train.labels.ict import load_ict

    from denseface.pose import umeyama

    p = load_topology().mean_shape[IBUG68].astype(np.float64)
    bfm = np.loadtxt(shared_data / "bfm_reference" / "bfm68_u_base.txt").reshape(68, 3)
    s, r, t = umeyama(bfm[17:], p[17:])
    aligned = (s * (r @ bfm.T)).T + t
    jaw_error = np.linalg.norm(aligned[:17] - p[:17], axis=1)
    assert jaw_error.max() < 0.45
    model = load_ict()
    ict_error = np.linalg.norm(model.neutral[model.landmarks68[:17]] - p[:17], axis=1)
    assert ict_error.mean() > 1.5


def test_flip_is_an_involution_that_mirrors_the_mean_face():
    topo = load_topology()
    n = np.arange(N_POINTS)
    np.testing.assert_array_equal(topo.flip[topo.flip], n)
    mirrored = topo.mean_shape[topo.flip] * np.array([-1, 1, 1])
    assert np.linalg.norm(mirrored - topo.mean_shape, axis=1).max() < 0.05  # cm
    assert topo.flip[36] == 45 and topo.flip[48] == 54 and topo.flip[8] == 8 and topo.flip[30] == 30


def test_regions_and_triangles():
    topo = load_topology()
    assert set(topo.region_names) == {"jaw", "brows", "nose", "eyes", "lips", "cheeks", "forehead"}
    assert (topo.regions[:17] == topo.region_names.index("jaw")).all()
    assert (topo.regions[48:68] == topo.region_names.index("lips")).all()
    forehead = topo.region("forehead")
    assert len(forehead) > 20 and (topo.mean_shape[forehead, 1] > topo.mean_shape[17:27, 1].min()).all()
    assert topo.triangles.min() == 0 and topo.triangles.max() == N_POINTS - 1
    assert len(np.unique(topo.triangles)) == N_POINTS  # every point is on the drawing mesh
    with pytest.raises(ValueError, match="unknown region"):
        topo.region("ears")
