"""Geometric exactness of train.learning.augment: labels follow the pixels under warps and flips."""
from __future__ import annotations

import math

import numpy as np
import pytest

tf = pytest.importorskip("tensorflow")

from denseface.topology import load_topology  # noqa: E402
from train.learning.augment import (  # noqa: E402
    AugmentConfig, augment_batch, center_crop, jpeg, occluder_masks, relight, similarity, to_target, warp,
)


def _blob_image(size: int, centre: tuple[float, float], sigma: float = 1.5) -> np.ndarray:
    """(size, size, 3) float32 black image with a bright Gaussian dot at ``centre`` (pixel centres at integers)."""
    y, x = np.mgrid[0:size, 0:size].astype(np.float64)
    dot = 255.0 * np.exp(-((x - centre[0]) ** 2 + (y - centre[1]) ** 2) / (2 * sigma**2))
    return np.repeat(dot[..., None], 3, axis=2).astype(np.float32)


def _centroid(image: np.ndarray) -> np.ndarray:
    """(x, y) intensity-weighted centroid of a (H, W, C) image."""
    w = image.sum(axis=2)
    y, x = np.mgrid[0:w.shape[0], 0:w.shape[1]]
    return np.array([(w * x).sum() / w.sum(), (w * y).sum() / w.sum()])


def _points_with(first: tuple[float, float]) -> np.ndarray:
    """(1, 520, 3) float32 points: all at the source centre except point 0 at ``first``."""
    points = np.full((1, 520, 3), 63.5, np.float32)
    points[0, :, 2] = 0.0
    points[0, 0, :2] = first
    return points


@pytest.mark.parametrize(
    "scale, angle_deg, centre, dot",
    [(1.0, 0.0, (63.5, 63.5), (40.0, 70.0)),  # pure crop: the dot moves by −4 px
     (1.0 / 1.2, 30.0, (60.0, 66.0), (45.3, 52.8)),
     (1.0 / 0.85, -45.0, (67.0, 61.0), (80.2, 75.6)),
     (1.1, 10.0, (63.5, 63.5), (70.0, 40.0))],
)
def test_dot_lands_on_the_moved_label(scale: float, angle_deg: float, centre: tuple[float, float],
                                      dot: tuple[float, float]) -> None:
    image = _blob_image(128, dot)[None]
    matrix = similarity(tf.constant([scale]), tf.constant([math.radians(angle_deg)]), tf.constant([False]),
                        tf.constant([centre], tf.float32), 120)
    out, moved = warp(image, _points_with(dot), matrix, 120)
    assert np.linalg.norm(_centroid(out.numpy()[0]) - moved.numpy()[0, 0, :2]) < 0.7


def test_similarity_by_hand() -> None:
    # scale 2, 90° counter-clockwise on screen (y down): source (x, y) → (2 (y − 10), −2 (x − 10)) + 4.5
    matrix = similarity(tf.constant([2.0]), tf.constant([math.pi / 2]), tf.constant([False]),
                        tf.constant([[10.0, 10.0]]), 10).numpy()[0]
    np.testing.assert_allclose(matrix @ [11.0, 10.0, 1.0], [4.5, 2.5], atol=1e-5)  # right → up
    np.testing.assert_allclose(matrix @ [10.0, 11.0, 1.0], [6.5, 4.5], atol=1e-5)  # down → right


def test_center_crop_is_the_central_120() -> None:
    images = np.arange(128 * 128 * 3, dtype=np.int64).reshape(1, 128, 128, 3) % 251
    points = np.zeros((1, 520, 3), np.float32)
    points[0, 0] = (10.0, 20.0, 3.0)
    crop, moved = center_crop(tf.constant(images.astype(np.uint8)), points)
    np.testing.assert_array_equal(crop.numpy()[0], images[0, 4:124, 4:124])
    np.testing.assert_allclose(moved.numpy()[0, 0], (6.0, 16.0, 3.0))


def _mirror_matrix(size: int) -> tf.Tensor:
    """x → size − 1 − x."""
    return tf.constant([[[-1.0, 0.0, size - 1.0], [0.0, 1.0, 0.0]]])


def test_flip_moves_x_to_w_minus_1_minus_x_and_renumbers() -> None:
    rng = np.random.default_rng(0)
    image = rng.uniform(0, 255, (1, 120, 120, 3)).astype(np.float32)
    points = rng.uniform(0, 119, (1, 520, 3)).astype(np.float32)
    out, moved = warp(image, points, _mirror_matrix(120), 120)
    np.testing.assert_allclose(out.numpy()[0], image[0, :, ::-1], atol=1e-3)
    flip = load_topology().flip
    expected = points[0, flip] * [-1.0, 1.0, 1.0] + [119.0, 0.0, 0.0]
    np.testing.assert_allclose(moved.numpy()[0], expected, atol=1e-4)


def test_flip_twice_is_identity() -> None:
    rng = np.random.default_rng(1)
    image = rng.uniform(0, 255, (1, 120, 120, 3)).astype(np.float32)
    points = rng.uniform(0, 119, (1, 520, 3)).astype(np.float32)
    once = warp(image, points, _mirror_matrix(120), 120)
    twice = warp(*once, _mirror_matrix(120), 120)
    np.testing.assert_allclose(twice[0].numpy(), image, atol=1e-3)
    np.testing.assert_allclose(twice[1].numpy(), points, atol=1e-4)


def test_flip_maps_a_symmetric_face_onto_itself() -> None:
    topology = load_topology()
    mean = topology.mean_shape.astype(np.float64)  # cm, x to the viewer's right, y up
    points = np.stack([59.5 + 6.0 * mean[:, 0], 59.5 - 6.0 * mean[:, 1], 6.0 * mean[:, 2]], axis=1)
    image = np.zeros((1, 120, 120, 3), np.float32)
    _, moved = warp(image, points[None].astype(np.float32), _mirror_matrix(120), 120)
    # the ICT neutral is left/right symmetric to 0.02 cm = 0.12 px at 6 px/cm
    np.testing.assert_allclose(moved.numpy()[0], points, atol=0.15)


def test_depth_scales_with_the_similarity() -> None:
    points = np.zeros((1, 520, 3), np.float32)
    points[0, :, 2] = 2.0
    matrix = similarity(tf.constant([1.5]), tf.constant([0.3]), tf.constant([True]), tf.constant([[63.5, 63.5]]), 120)
    _, moved = warp(np.zeros((1, 128, 128, 3), np.float32), points, matrix, 120)
    np.testing.assert_allclose(moved.numpy()[0, :, 2], 3.0, atol=1e-5)


def test_to_target_matches_encode_by_hand() -> None:
    points = np.zeros((1, 520, 3), np.float32)
    points[0, 0] = (60.0, 30.0, 5.2)  # mean depth 0.01
    target = to_target(points).numpy()[0]
    np.testing.assert_allclose(target[:3], (0.5, 0.25, (5.2 - 0.01) / 120), atol=1e-6)
    np.testing.assert_allclose(target[5], -0.01 / 120, atol=1e-7)


def test_occluders_cover_at_most_a_quarter_of_the_face_box() -> None:
    points = np.zeros((16, 520, 3), np.float32)
    points[:, :68, 0] = np.linspace(20.0, 100.0, 68)
    points[:, :68, 1] = np.linspace(30.0, 90.0, 68)[::-1]
    config = AugmentConfig(occluder_prob=1.0)
    masks = occluder_masks(tf.constant(points), 120, config).numpy()[..., 0]
    covered = masks.sum(axis=(1, 2))
    assert (covered > 0).all()
    assert (covered <= 0.25 * 80 * 60 + 2 * (80 + 60)).all()  # area + rasterisation at the rim


def test_augment_batch_shapes_and_ranges() -> None:
    rng = np.random.default_rng(2)
    images = rng.integers(0, 256, (4, 128, 128, 3), dtype=np.uint8)
    points = rng.uniform(30, 100, (4, 520, 3)).astype(np.float32)
    out, target = augment_batch(tf.constant(images), tf.constant(points), AugmentConfig())
    assert out.shape == (4, 120, 120, 3) and target.shape == (4, 1560)
    assert 0.0 <= float(tf.reduce_min(out)) and float(tf.reduce_max(out)) <= 255.0
    assert np.isfinite(target.numpy()).all()


def test_face_mask_covers_the_face_ellipse_and_not_the_corners():
    """Points spread evenly over a disc of radius 30 px at (60, 50) (σ = 15 px per axis): the mask's
    edge lies at 2.2 σ ≈ 33 px, softened over a few pixels; 1 well inside, 0 well outside."""
    from train.learning.augment import face_mask

    rng = np.random.default_rng(0)
    radius, angle = 30.0 * np.sqrt(rng.uniform(0, 1, 520)), rng.uniform(0, 2 * np.pi, 520)
    points = np.stack([60 + radius * np.cos(angle), 50 + radius * np.sin(angle), np.zeros(520)], -1)
    mask = face_mask(tf.constant(points[None], tf.float32), 120).numpy()[0, :, :, 0]
    assert mask[50, 60] > 0.99 and mask[50, 60 + 24] > 0.95 and mask[50 - 24, 60] > 0.95
    assert mask[0, 0] < 0.01 and mask[119, 119] < 0.01 and mask[50, 60 + 45] < 0.01


def _ring_points(centre: float, radius: float) -> np.ndarray:
    """(1, 520, 3) float32 points evenly on a circle of ``radius`` px about (centre, centre), z = 0."""
    angle = np.linspace(0.0, 2.0 * math.pi, 520, endpoint=False)
    points = np.zeros((1, 520, 3), np.float32)
    points[0, :, 0] = centre + radius * np.cos(angle)
    points[0, :, 1] = centre + radius * np.sin(angle)
    return points


def test_relight_shades_between_ambient_and_full_light() -> None:
    """On a flat grey image: the ellipsoid's apex (normal towards the camera) gets a + (1 − a)·l_z with
    l_z ≤ 0.7; two pixels mirrored through the face centre outside the ellipse have opposite rim normals
    (n_z = 0), so the darker one gets exactly the ambient share a."""
    ambient = 0.4
    config = AugmentConfig(relight_prob=1.0, relight_ambient=(ambient, ambient))
    images = tf.fill((8, 120, 120, 3), 200.0)
    points = tf.constant(np.repeat(_ring_points(59.5, 20.0), 8, axis=0))
    out = relight(images, points, config).numpy() / 200.0
    assert np.all(out <= 1.0 + 1e-6) and np.all(out >= ambient - 1e-6)
    apex = out[:, 59:61, 59:61, 0].mean(axis=(1, 2))  # the four pixels round the centre, normals ≈ +z
    assert np.all(apex >= ambient - 1e-3) and np.all(apex <= ambient + (1 - ambient) * 0.7 + 1e-3)
    corners = np.minimum(out[:, 0, 0, 0], out[:, 119, 119, 0]), np.minimum(out[:, 0, 119, 0], out[:, 119, 0, 0])
    np.testing.assert_allclose(corners[0], ambient, atol=1e-5)
    np.testing.assert_allclose(corners[1], ambient, atol=1e-5)


def test_relight_and_jpeg_off_leave_the_image_alone() -> None:
    images = tf.random.uniform((4, 120, 120, 3), 0.0, 255.0)
    points = tf.constant(np.repeat(_ring_points(59.5, 20.0), 4, axis=0))
    config = AugmentConfig()
    assert relight(images, points, config) is images
    assert jpeg(images, config) is images


def test_jpeg_matches_opencv_encoder() -> None:
    """Quality fixed at 30: each image close to OpenCV's libjpeg round trip of it (an independent
    encoder; the decoders' IDCT and chroma upsampling differ by a level or two), and much closer to it
    than to the original."""
    cv2 = pytest.importorskip("cv2")
    rng = np.random.default_rng(3)
    noise = rng.uniform(0, 255, (240, 120, 3)).astype(np.uint8)
    smooth = cv2.GaussianBlur(noise, (0, 0), 2)
    images = smooth.reshape(2, 120, 120, 3).astype(np.float32)
    out = jpeg(tf.constant(images), AugmentConfig(jpeg_prob=1.0, jpeg_quality=(30, 30))).numpy()
    for image, got in zip(images.astype(np.uint8), out):
        ok, data = cv2.imencode(".jpg", image[..., ::-1], [cv2.IMWRITE_JPEG_QUALITY, 30])
        expected = cv2.imdecode(data, cv2.IMREAD_COLOR)[..., ::-1].astype(np.float32)
        loss, apart = np.abs(got - image).mean(), np.abs(got - expected).mean()
        assert loss > 2.0 and apart < 1.5 and apart < 0.4 * loss, (loss, apart)
