"""Blendshapes (``denseface.blendshapes``): known ICT expressions on posed faces come back under
MediaPipe's names and sides; the rest face reads neutral; bad input is rejected."""
from __future__ import annotations

from importlib import resources

import numpy as np
import pytest

from denseface.blendshapes import MEDIAPIPE_NAMES, fit_blendshapes, fit_expression, ict_to_mediapipe
from denseface.pose import rotation_from_angles
from denseface.topology import load_topology


def posed(model_points: np.ndarray, angles=(25.0, -10.0, 8.0), scale=6.0) -> np.ndarray:
    """Model-frame points (cm, y up) → frame points (px, y down, z towards the camera)."""
    return scale * (model_points @ rotation_from_angles(*angles).T) * np.array([1.0, -1.0, 1.0]) + (320.0, 240.0, 0.0)


def test_names_are_mediapipes_and_every_one_has_an_ict_source():
    assert len(MEDIAPIPE_NAMES) == 52 == len(set(MEDIAPIPE_NAMES))
    assert MEDIAPIPE_NAMES[0] == "_neutral" and "tongueOut" not in MEDIAPIPE_NAMES  # MediaPipe's, not ARKit's
    asset = np.load(resources.files("denseface").joinpath("assets/blendshapes.npz"))
    sources = {ict_to_mediapipe(str(n)) for n in asset["expression_names"]}
    assert sources - {None} == set(MEDIAPIPE_NAMES[1:])
    assert ict_to_mediapipe("eyeBlink_L") == "eyeBlinkLeft" and ict_to_mediapipe("browInnerUp_R") == "browInnerUp"
    assert ict_to_mediapipe("cheekRaiser_L") is None and ict_to_mediapipe("PupilDilate_R") is None


def test_the_rest_face_reads_neutral_at_any_pose():
    for angles in ((0.0, 0.0, 0.0), (50.0, 15.0, -20.0)):
        scores = fit_blendshapes(posed(load_topology().mean_shape.astype(np.float64), angles))
        assert list(scores) == list(MEDIAPIPE_NAMES)
        assert max(v for k, v in scores.items() if k != "_neutral") < 0.05
        assert scores["_neutral"] > 0.95


def test_bad_points_are_rejected():
    with pytest.raises(ValueError, match="520"):
        fit_blendshapes(np.zeros((468, 3)))
    bad = posed(load_topology().mean_shape.astype(np.float64))
    bad[7, 2] = np.inf
    with pytest.raises(ValueError, match="non-finite"):
        fit_expression(bad)


def test_known_ict_expressions_come_back(shared_data):
    from train.labels.ict import load_ict, topology_points

    ict = load_ict()
    rng = np.random.default_rng(3)
    cases = [({"eyeBlink_L": 1.0}, {"eyeBlinkLeft": 1.0, "eyeBlinkRight": 0.0}),
             ({"jawOpen": 0.6}, {"jawOpen": 0.6}),
             ({"mouthSmile_L": 0.7, "mouthSmile_R": 0.7}, {"mouthSmileLeft": 0.7, "mouthSmileRight": 0.7}),
             ({"browInnerUp_L": 0.8, "browInnerUp_R": 0.8}, {"browInnerUp": 0.8})]
    for ict_weights, expected in cases:
        beta = np.zeros(len(ict.expression_names))
        for name, value in ict_weights.items():
            beta[ict.expression_index(name)] = value
        model_points = topology_points(ict.shape(rng.normal(size=100), beta))  # a random identity, all 100
        scores = fit_blendshapes(posed(model_points, tuple(rng.uniform(-30, 30, 3))))
        for name, value in expected.items():
            assert abs(scores[name] - value) < 0.15, (ict_weights, name, scores[name])
        # The eye shapes with the smallest footprints (eyeLook*, eyeWide: ≤ 0.06 cm RMS at full weight)
        # absorb some of the identity: ICT measures up to ~0.35 of them on these faces.
        others = [v for k, v in scores.items() if k not in expected and k != "_neutral"]
        assert max(others) < 0.45, ict_weights
    # The side: ICT's eyeBlink_L closes the eye that an unmirrored frontal picture shows on its right.
    beta = np.zeros(len(ict.expression_names))
    beta[ict.expression_index("eyeBlink_L")] = 1.0
    moved = np.linalg.norm(topology_points(ict.shape(None, beta)) - topology_points(ict.shape()), axis=1) > 0.05
    frontal = posed(topology_points(ict.shape()), (0.0, 0.0, 0.0))
    assert (frontal[moved, 0] > frontal[30, 0]).all()  # right of the nose tip (iBUG 30) in the image


def test_the_option_fills_face_blendshapes(shared_data):
    import cv2
    from denseface import DenseFace
    from train.data import AFLW2000

    frame = cv2.cvtColor(cv2.imread(str(AFLW2000 / "images" / "image00002.jpg")), cv2.COLOR_BGR2RGB)
    assert DenseFace().landmarks(frame)[0].blendshapes is None
    face = DenseFace(output_blendshapes=True).landmarks(frame)[0]
    assert face.blendshapes == fit_blendshapes(face.points)
    assert all(0.0 <= v <= 1.0 for v in face.blendshapes.values())


def test_the_shipped_asset_is_what_the_script_builds(shared_data):
    from train.labels.make_blendshape_basis import build

    shipped = np.load(resources.files("denseface").joinpath("assets/blendshapes.npz"))
    for key, value in build().items():
        np.testing.assert_array_equal(shipped[key], value)
