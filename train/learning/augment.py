"""Batched training augmentation in TensorFlow ops: 128-pixel dataset crops → 120-pixel model inputs.

Frames: the dataset's crops are 128×128 (``SOURCE_SIZE``), whose central 120×120 region is the model's
crop (``denseface.crop``), so the un-augmented input is ``image[4:124, 4:124]`` with points − 4.
All points are pixels, x right, y down, pixel centres at integers (OpenCV's convention), z towards
the camera in the same pixel scale. Geometric transforms are similarities given as (B, 2, 3) matrices
``out = M @ [x, y, 1]`` from source pixels to output pixels; a matrix with a negative determinant
mirrors the image, and then the points are also renumbered with the topology's flip permutation
(point i of a mirrored face is the mirror image of point ``flip[i]``). Depth z is multiplied by the
matrix's scale; it stays relative to the points' mean depth.

Images enter as uint8 and leave as float32 in 0..255 (the model scales pixels itself).
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import tensorflow as tf

from denseface.crop import MODEL_INPUT
from denseface.topology import N_POINTS, load_topology

SOURCE_SIZE = 128  # side of the dataset's crops
MARGIN = (SOURCE_SIZE - MODEL_INPUT) // 2  # 4 px on each side
N_LANDMARKS = 68

# RGB → YIQ (luma + two chroma axes); hue is a rotation and saturation a scaling of the chroma plane.
_RGB_TO_YIQ = np.array([[0.299, 0.587, 0.114], [0.596, -0.274, -0.322], [0.211, -0.523, 0.312]])


@dataclass(frozen=True)
class AugmentConfig:
    """Ranges and probabilities of the training augmentation (all sampled independently per image).

    Geometry: the output crop's side relative to the model's crop is drawn from
    ``side_range`` (>1 zooms out), its centre moves by up to ``shift`` × that side in x and y, the
    rotation is uniform in ±``large_rotation_deg`` with probability ``large_rotation_prob``, else in
    ±``small_rotation_deg``; ``flip_prob`` mirrors left/right. Together these cover the SDK's box
    jitter (detector boxes, tracking drift, roll). Areas outside the source crop are filled by
    reflection.

    Colour: brightness offset ±``brightness`` (pixel levels), contrast factor in ``contrast``,
    saturation factor in ``saturation``, hue rotation ±``hue_deg``; ``gray_prob`` makes the image
    gray. Degradation: Gaussian blur (σ uniform in ``blur_sigma`` px) with ``blur_prob``; Gaussian
    noise (σ up to ``noise_sigma`` levels) with ``noise_prob``. Occlusion with ``occluder_prob``: one
    rectangle or ellipse, area ``occluder_area`` × the 68-point box's area (≤ 25 %), centred inside
    that box, filled with a random colour or with pixels of another image in the batch.
    Background swap with ``background_prob``: everything outside the face's ellipse (``face_mask``)
    replaced by another image of the batch, so no cue outside the face — in renders, the smeared head
    side, hair and stretched background — is there to rely on.
    Side light with ``relight_prob`` (``relight``): the image shaded by a directional light on the face
    ellipsoid, ambient share in ``relight_ambient``, so the side a render turned into view — lit as the
    frontal photo was — is also seen in shadow, as real profiles often are. JPEG re-encoding with
    ``jpeg_prob``, quality uniform in ``jpeg_quality``.
    """

    side_range: tuple[float, float] = (0.85, 1.2)
    shift: float = 0.08
    large_rotation_prob: float = 0.5
    large_rotation_deg: float = 45.0
    small_rotation_deg: float = 10.0
    flip_prob: float = 0.5
    brightness: float = 32.0
    contrast: tuple[float, float] = (0.6, 1.4)
    saturation: tuple[float, float] = (0.5, 1.5)
    hue_deg: float = 18.0
    gray_prob: float = 0.1
    blur_prob: float = 0.2
    blur_sigma: tuple[float, float] = (0.4, 1.6)
    noise_prob: float = 0.2
    noise_sigma: float = 8.0
    occluder_prob: float = 0.3
    occluder_area: tuple[float, float] = (0.05, 0.25)
    background_prob: float = 0.0
    relight_prob: float = 0.0
    relight_ambient: tuple[float, float] = (0.25, 0.7)
    jpeg_prob: float = 0.0
    jpeg_quality: tuple[int, int] = (20, 75)


def center_crop(images: tf.Tensor, points: tf.Tensor) -> tuple[tf.Tensor, tf.Tensor]:
    """The un-augmented model input: (B, 128, 128, 3) uint8 and (B, 520, 3) source points →
    (B, 120, 120, 3) float32 0..255 and (B, 520, 3) float32 points in the 120-pixel crop."""
    crop = tf.cast(images[:, MARGIN:MARGIN + MODEL_INPUT, MARGIN:MARGIN + MODEL_INPUT, :], tf.float32)
    return crop, tf.cast(points, tf.float32) - tf.constant([MARGIN, MARGIN, 0], tf.float32)


def to_target(points: tf.Tensor) -> tf.Tensor:
    """(B, 520, 3) crop points → (B, 1560) model targets (``denseface.decode.encode``, batched)."""
    points = tf.cast(points, tf.float32)
    z = points[..., 2:] - tf.reduce_mean(points[..., 2:], axis=1, keepdims=True)
    return tf.reshape(tf.concat([points[..., :2], z], axis=-1) / float(MODEL_INPUT), (-1, 3 * N_POINTS))


def similarity(scale: tf.Tensor, angle: tf.Tensor, mirror: tf.Tensor, source_centre: tf.Tensor,
               out_size: int) -> tf.Tensor:
    """(B, 2, 3) matrices mapping source pixels to output pixels: the point ``source_centre`` (B, 2)
    goes to the output's centre ((out_size − 1)/2 in x and y), distances are multiplied by ``scale``
    (B,), the image turns by ``angle`` (B,) radians (counter-clockwise on screen for a positive
    angle), and where ``mirror`` (B,) bool the output is mirrored left/right about its centre."""
    cos, sin = tf.cos(angle) * scale, tf.sin(angle) * scale
    f = tf.where(mirror, -1.0, 1.0)
    # y down: a counter-clockwise turn on screen is [[cos, sin], [−sin, cos]]; mirroring negates row 0
    linear = tf.stack([tf.stack([f * cos, f * sin], -1), tf.stack([-sin, cos], -1)], axis=1)  # (B, 2, 2)
    c = (out_size - 1) / 2.0
    offset = c - tf.linalg.matvec(linear, source_centre)
    return tf.concat([linear, offset[:, :, None]], axis=2)


def warp(images: tf.Tensor, points: tf.Tensor, matrix: tf.Tensor, out_size: int) -> tuple[tf.Tensor, tf.Tensor]:
    """Resample images and move their points with similarity matrices.

    Args:
        images: (B, H, W, C) uint8 or float.
        points: (B, 520, 3) source pixels (z relative, same pixel scale).
        matrix: (B, 2, 3) float32 similarities source → output pixels (see module docstring).
        out_size: side of the output images.

    Returns:
        (B, out_size, out_size, C) float32 images (bilinear, reflection outside the source) and
        (B, 520, 3) float32 output-pixel points, renumbered by the flip permutation where mirrored.
    """
    matrix = tf.cast(matrix, tf.float32)
    linear, offset = matrix[:, :, :2], matrix[:, :, 2]
    det = tf.linalg.det(linear)
    inverse = tf.stack([tf.stack([linear[:, 1, 1], -linear[:, 0, 1]], -1),
                        tf.stack([-linear[:, 1, 0], linear[:, 0, 0]], -1)], axis=1) / det[:, None, None]
    inverse_offset = -tf.linalg.matvec(inverse, offset)
    batch = tf.shape(matrix)[0]
    # ImageProjectiveTransformV3 maps each output pixel (x, y) to the source point
    # (a0 x + a1 y + a2, b0 x + b1 y + b2), pixel centres at integers on both sides.
    transforms = tf.concat([inverse[:, 0, :], inverse_offset[:, :1], inverse[:, 1, :], inverse_offset[:, 1:],
                            tf.zeros((batch, 2))], axis=1)
    out = tf.raw_ops.ImageProjectiveTransformV3(
        images=tf.cast(images, tf.float32), transforms=transforms, output_shape=tf.constant([out_size, out_size]),
        fill_value=0.0, interpolation="BILINEAR", fill_mode="REFLECT",
    )
    points = tf.cast(points, tf.float32)
    xy = tf.einsum("bij,bnj->bni", linear, points[..., :2]) + offset[:, None, :]
    z = points[..., 2:] * tf.sqrt(tf.abs(det))[:, None, None]
    moved = tf.concat([xy, z], axis=-1)
    flip = tf.constant(load_topology().flip, tf.int32)
    moved = tf.where((det < 0)[:, None, None], tf.gather(moved, flip, axis=1), moved)
    return out, moved


def random_geometry(batch: int, config: AugmentConfig) -> tf.Tensor:
    """(B, 2, 3) random similarities from the 128-pixel source crop to the 120-pixel model input."""
    side = tf.random.uniform((batch,), *config.side_range) * MODEL_INPUT  # output crop side in source px
    large = tf.random.uniform((batch,)) < config.large_rotation_prob
    limit = tf.where(large, config.large_rotation_deg, config.small_rotation_deg) * (math.pi / 180.0)
    angle = tf.random.uniform((batch,), -1.0, 1.0) * limit
    shift = tf.random.uniform((batch, 2), -1.0, 1.0) * config.shift * side[:, None]
    centre = (SOURCE_SIZE - 1) / 2.0 + shift
    mirror = tf.random.uniform((batch,)) < config.flip_prob
    return similarity(MODEL_INPUT / side, angle, mirror, centre, MODEL_INPUT)


def jitter_colour(images: tf.Tensor, config: AugmentConfig) -> tf.Tensor:
    """Brightness, contrast, saturation, hue and gray-scale on (B, H, W, 3) float32 0..255 RGB."""
    batch = tf.shape(images)[0]
    hue = tf.random.uniform((batch,), -1.0, 1.0) * config.hue_deg * (math.pi / 180.0)
    sat = tf.random.uniform((batch,), *config.saturation)
    sat = tf.where(tf.random.uniform((batch,)) < config.gray_prob, 0.0, sat)
    cos, sin = sat * tf.cos(hue), sat * tf.sin(hue)
    one, zero = tf.ones_like(cos), tf.zeros_like(cos)
    chroma = tf.stack([tf.stack([one, zero, zero], -1), tf.stack([zero, cos, -sin], -1),
                       tf.stack([zero, sin, cos], -1)], axis=1)  # (B, 3, 3) in YIQ
    to_yiq = tf.constant(_RGB_TO_YIQ, tf.float32)
    colour = tf.linalg.inv(to_yiq)[None] @ chroma @ to_yiq[None]  # (B, 3, 3) in RGB
    images = tf.einsum("bij,bhwj->bhwi", colour, images)
    gray = tf.reduce_mean(images, axis=[1, 2, 3], keepdims=True)
    contrast = tf.random.uniform((batch, 1, 1, 1), *config.contrast)
    brightness = tf.random.uniform((batch, 1, 1, 1), -config.brightness, config.brightness)
    return (images - gray) * contrast + gray + brightness


def blur(images: tf.Tensor, sigma: tf.Tensor) -> tf.Tensor:
    """Gaussian blur of (B, H, W, C) float32 images with a σ (B,) pixels per image (σ → 0: unchanged),
    7 taps, reflected borders."""
    radius = 3
    taps = tf.range(-radius, radius + 1, dtype=tf.float32)
    kernel = tf.exp(-0.5 * tf.square(taps[None, :] / tf.maximum(sigma, 1e-3)[:, None]))
    kernel /= tf.reduce_sum(kernel, axis=1, keepdims=True)  # (B, 7)
    shape = tf.shape(images)
    b, h, w, c = shape[0], shape[1], shape[2], shape[3]
    # put the batch into the channels so one depthwise convolution applies each image's own kernel
    x = tf.reshape(tf.transpose(images, [1, 2, 0, 3]), (1, h, w, b * c))
    k = tf.repeat(kernel, c, axis=0)  # (B·C, 7), channel order b·C + c
    x = tf.pad(x, [[0, 0], [radius, radius], [radius, radius], [0, 0]], mode="REFLECT")
    x = tf.nn.depthwise_conv2d(x, tf.transpose(k)[:, None, :, None], [1, 1, 1, 1], "VALID")
    x = tf.nn.depthwise_conv2d(x, tf.transpose(k)[None, :, :, None], [1, 1, 1, 1], "VALID")
    return tf.transpose(tf.reshape(x, (h, w, b, c)), [2, 0, 1, 3])


def occluder_masks(points: tf.Tensor, size: int, config: AugmentConfig) -> tf.Tensor:
    """(B, size, size, 1) float32 masks (1 = occluded) of one random rectangle or ellipse per image,
    centred inside the image's 68-point box (points (B, 520, 3) output pixels) with an area of
    ``config.occluder_area`` × that box's area; all zero for images not drawn (``occluder_prob``)."""
    batch = tf.shape(points)[0]
    lo, hi = tf.reduce_min(points[:, :N_LANDMARKS, :2], 1), tf.reduce_max(points[:, :N_LANDMARKS, :2], 1)
    area = tf.random.uniform((batch,), *config.occluder_area) * tf.reduce_prod(hi - lo, axis=1)
    aspect = tf.exp(tf.random.uniform((batch,), -math.log(2.0), math.log(2.0)))
    ellipse = tf.random.uniform((batch,)) < 0.5
    # half sizes with area (rectangle: 4·hx·hy, ellipse: π·hx·hy) and hx / hy = aspect
    form = tf.where(ellipse, math.pi, 4.0)
    hx, hy = tf.sqrt(area * aspect / form), tf.sqrt(area / (aspect * form))
    centre = lo + tf.random.uniform((batch, 2)) * (hi - lo)
    grid = tf.range(size, dtype=tf.float32)
    dx = (grid[None, None, :] - centre[:, 0, None, None]) / hx[:, None, None]  # (B, 1, size)
    dy = (grid[None, :, None] - centre[:, 1, None, None]) / hy[:, None, None]  # (B, size, 1)
    inside = tf.where(ellipse[:, None, None], dx * dx + dy * dy <= 1.0,
                      (tf.abs(dx) <= 1.0) & (tf.abs(dy) <= 1.0))
    drawn = tf.random.uniform((batch,)) < config.occluder_prob
    return tf.cast(inside & drawn[:, None, None], tf.float32)[..., None]


def occlude(images: tf.Tensor, points: tf.Tensor, config: AugmentConfig) -> tf.Tensor:
    """(B, H, W, 3) float32 images with occluders (see ``occluder_masks``): half of them a random
    colour, half the pixels of the next image in the batch, shifted by a random offset."""
    batch, size = tf.shape(images)[0], images.shape[1]
    mask = occluder_masks(points, size, config)
    colour = tf.random.uniform((batch, 1, 1, 3), 0.0, 255.0)
    offset = tf.random.uniform((2,), -size // 2, size // 2, dtype=tf.int32)
    other = tf.roll(tf.roll(images, 1, axis=0), offset, axis=[1, 2])
    fill = tf.where(tf.random.uniform((batch, 1, 1, 1)) < 0.5, colour, other)
    return images * (1.0 - mask) + fill * mask


FACE_ELLIPSE_SIGMAS = 2.2  # the face ellipse's radius in standard deviations of the 520 points
FACE_EDGE_PX = 2.0  # width of the soft edge between the face and a swapped background, pixels


def face_mask(points: tf.Tensor, size: int) -> tf.Tensor:
    """(B, size, size, 1) float32, 1 inside each face and 0 outside: the ellipse of the 520 points'
    (B, 520, 3) output-pixel 2-D mean and covariance at ``FACE_ELLIPSE_SIGMAS`` standard deviations
    (points spread evenly over an ellipse reach 2 of them), with a soft edge of ``FACE_EDGE_PX``."""
    xy = points[..., :2]
    mean = tf.reduce_mean(xy, axis=1)  # (B, 2)
    centred = xy - mean[:, None]
    cov = tf.einsum("bni,bnj->bij", centred, centred) / tf.cast(tf.shape(xy)[1], tf.float32)
    grid = tf.range(size, dtype=tf.float32)
    pixels = tf.stack(tf.meshgrid(grid, grid), axis=-1)  # (size, size, 2) x, y
    offset = pixels[None] - mean[:, None, None]  # (B, size, size, 2)
    distance = tf.sqrt(tf.einsum("bhwi,bij,bhwj->bhw", offset, tf.linalg.inv(cov), offset))  # in σ
    # the σ along the offset's direction, to turn the edge width into σ units
    sigma = tf.norm(offset, axis=-1) / tf.maximum(distance, 1e-6)
    return tf.sigmoid((FACE_ELLIPSE_SIGMAS - distance) * sigma / FACE_EDGE_PX)[..., None]


def swap_background(images: tf.Tensor, points: tf.Tensor, config: AugmentConfig) -> tf.Tensor:
    """(B, H, W, 3) float32 images whose background outside :func:`face_mask` is, with
    ``background_prob``, a corner of the previous image of the batch (the 30 % of its side at the top
    left, where the crop rule leaves no face) enlarged to the whole image."""
    batch, size = tf.shape(images)[0], images.shape[1]
    drawn = tf.cast(tf.random.uniform((batch, 1, 1, 1)) < config.background_prob, tf.float32)
    keep = 1.0 - drawn * (1.0 - face_mask(points, size))
    corner = tf.roll(images, 1, axis=0)[:, : int(0.3 * size), : int(0.3 * size)]
    other = tf.image.resize(corner, (size, size), method="bilinear")
    return images * keep + other * (1.0 - keep)


def relight(images: tf.Tensor, points: tf.Tensor, config: AugmentConfig) -> tf.Tensor:
    """(B, H, W, 3) float32 images shaded, with ``relight_prob``, by a distant light on an ellipsoid
    over the face: semi-axes ``FACE_ELLIPSE_SIGMAS`` × the standard deviations of the 520 points'
    (B, 520, 3) output-pixel x and y, the normal at image pixel (x, y) is (u, v, √(1 − u² − v²)) for
    u, v its offsets from the points' mean in semi-axes (outside the ellipse: the rim's normal). The light
    comes from a random azimuth with a direction's z (towards the camera) uniform in 0..0.7, so one side
    falls into shadow; pixel × (a + (1 − a)·max(0, n·l)), ambient a uniform in ``relight_ambient``."""
    if config.relight_prob <= 0.0:  # off: no ops, and the other augmentations draw as before
        return images
    batch, size = tf.shape(images)[0], images.shape[1]
    xy = points[..., :2]
    mean = tf.reduce_mean(xy, axis=1)  # (B, 2)
    semi = FACE_ELLIPSE_SIGMAS * tf.maximum(tf.math.reduce_std(xy, axis=1), 1.0)  # (B, 2)
    grid = tf.range(size, dtype=tf.float32)
    u = (grid[None, None, :] - mean[:, 0, None, None]) / semi[:, 0, None, None]  # (B, 1, W)
    v = (grid[None, :, None] - mean[:, 1, None, None]) / semi[:, 1, None, None]  # (B, H, 1)
    radius = tf.sqrt(u * u + v * v)
    rim = tf.maximum(radius, 1.0)
    nx, ny = u / rim, v / rim
    nz = tf.sqrt(tf.maximum(1.0 - nx * nx - ny * ny, 0.0))
    azimuth = tf.random.uniform((batch,), 0.0, 2.0 * math.pi)
    lz = tf.random.uniform((batch,), 0.0, 0.7)
    lxy = tf.sqrt(1.0 - lz * lz)
    lx, ly = lxy * tf.cos(azimuth), lxy * tf.sin(azimuth)
    lambert = tf.maximum(nx * lx[:, None, None] + ny * ly[:, None, None] + nz * lz[:, None, None], 0.0)
    ambient = tf.random.uniform((batch, 1, 1), *config.relight_ambient)
    shade = ambient + (1.0 - ambient) * lambert  # (B, H, W)
    drawn = tf.random.uniform((batch, 1, 1)) < config.relight_prob
    return images * tf.where(drawn, shade, 1.0)[..., None]


def jpeg(images: tf.Tensor, config: AugmentConfig) -> tf.Tensor:
    """(B, H, W, 3) float32 0..255 images, each re-encoded as JPEG with ``jpeg_prob`` at a quality
    uniform in ``jpeg_quality`` (blocking and ringing of compressed camera and web photos)."""
    if config.jpeg_prob <= 0.0:
        return images
    batch = tf.shape(images)[0]
    drawn = tf.random.uniform((batch,)) < config.jpeg_prob
    quality = tf.random.uniform((batch,), config.jpeg_quality[0], config.jpeg_quality[1] + 1, dtype=tf.int32)

    def one(args: tuple[tf.Tensor, tf.Tensor, tf.Tensor]) -> tf.Tensor:
        image, q, draw = args
        pixels = tf.cast(tf.round(tf.clip_by_value(image, 0.0, 255.0)), tf.uint8)
        return tf.cond(draw, lambda: tf.cast(tf.image.adjust_jpeg_quality(pixels, q), tf.float32),
                       lambda: image)

    return tf.map_fn(one, (images, quality, drawn), fn_output_signature=tf.float32)


def augment_batch(images: tf.Tensor, points: tf.Tensor, config: AugmentConfig) -> tuple[tf.Tensor, tf.Tensor]:
    """Random training inputs: (B, 128, 128, 3) uint8 and (B, 520, 3) source points →
    (B, 120, 120, 3) float32 0..255 images and (B, 1560) float32 targets."""
    batch = tf.shape(images)[0]
    out, moved = warp(images, points, random_geometry(batch, config), MODEL_INPUT)
    out = swap_background(out, moved, config)
    out = occlude(out, moved, config)
    out = relight(out, moved, config)
    out = jitter_colour(out, config)
    sigma = tf.where(tf.random.uniform((batch,)) < config.blur_prob,
                     tf.random.uniform((batch,), *config.blur_sigma), 0.0)
    out = blur(out, sigma)
    noise = tf.where(tf.random.uniform((batch, 1, 1, 1)) < config.noise_prob,
                     tf.random.uniform((batch, 1, 1, 1), 0.0, config.noise_sigma), 0.0)
    out = out + noise * tf.random.normal(tf.shape(out))
    return jpeg(tf.clip_by_value(out, 0.0, 255.0), config), to_target(moved)


def validation_batch(images: tf.Tensor, points: tf.Tensor) -> tuple[tf.Tensor, tf.Tensor]:
    """Un-augmented inputs and targets: (B, 128, 128, 3) uint8, (B, 520, 3) → (B, 120, 120, 3), (B, 1560)."""
    crop, moved = center_crop(images, points)
    return crop, to_target(moved)
