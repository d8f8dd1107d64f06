"""BlazeFace face detection (MediaPipe's short- and full-range models) decoded by DenseFace's own code.

Coordinate convention used throughout DenseFace: frame pixel coordinates in OpenCV's convention,
x to the right and y down, (0, 0) being the centre of the top-left pixel. The models themselves work
in normalised [0, 1] coordinates whose 0 and 1 are the outer edges of the input image; the
conversion happens in :class:`Letterbox`.

The pure functions (:func:`ssd_anchors`, :func:`decode_boxes`, :func:`weighted_nms`) mirror
MediaPipe's SsdAnchorsCalculator, TensorsToDetectionsCalculator and NonMaxSuppressionCalculator
(WEIGHTED, intersection over union) so that ports to other platforms can follow them line by line.

Both models ship inside the package (``models/blazeface/``, Apache-2.0, with MediaPipe's LICENSE and
a NOTICE saying where they come from), so detection works offline from the first run.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Sequence

import cv2
import numpy as np

from denseface.infer import TFLiteModel

logger = logging.getLogger(__name__)

NUM_KEYPOINTS = 6
"""Keypoints per detection, in MediaPipe's order: subject's right eye, left eye, nose tip, mouth
centre, right ear tragion, left ear tragion. In an unmirrored photo the subject's right eye is the one
at the smaller x."""

SCORE_CLIP = 100.0
NMS_THRESHOLD = 0.3


@dataclass(frozen=True)
class DetectorSpec:
    """Fixed decoding parameters of one BlazeFace model (from MediaPipe's graph options).

    Attributes:
        model_file: the model's file name in :data:`BUNDLED_DETECTORS`.
        input_size: side of the square RGB input, pixels.
        strides: one stride per SSD layer, pixels.
        anchors_per_layer: anchors each layer puts on every cell of its feature map.
        box_scale: divisor of the raw box and keypoint offsets (x_scale = y_scale = w_scale = h_scale).
    """

    model_file: str
    input_size: int
    strides: tuple[int, ...]
    anchors_per_layer: int
    box_scale: float


DETECTOR_SPECS: dict[str, DetectorSpec] = {
    # face_detection_short_range.pbtxt: 4 layers, aspect ratio 1 plus the interpolated one -> 2 per layer.
    "short": DetectorSpec("face_detection_short_range.tflite", input_size=128, strides=(8, 16, 16, 16),
                          anchors_per_layer=2, box_scale=128.0),
    # face_detection_full_range.pbtxt: 1 layer, interpolated_scale_aspect_ratio 0 -> 1 per layer.
    "full": DetectorSpec("face_detection_full_range_sparse.tflite", input_size=192, strides=(4,),
                         anchors_per_layer=1, box_scale=192.0),
}

BUNDLED_DETECTORS = "models/blazeface"  # inside the denseface package: both models, LICENSE, NOTICE


def detector_path(kind: str, path: str | Path | None = None) -> Path:
    """Path of the BlazeFace model of ``kind``: ``path`` if given, else the copy bundled with the package.

    Args:
        kind: "short" (128x128 input) or "full" (192x192 input), a key of :data:`DETECTOR_SPECS`.
        path: an explicit .tflite file to use instead of the bundled one.

    Raises:
        ValueError: unknown kind.
        FileNotFoundError: an explicit ``path`` that does not exist, or an installation that lacks
            the bundled file.
    """
    if kind not in DETECTOR_SPECS:
        raise ValueError(f"unknown detector kind {kind!r}; expected one of {sorted(DETECTOR_SPECS)}")
    if path is not None:
        explicit = Path(path).expanduser()
        if not explicit.is_file():
            raise FileNotFoundError(f"detector model file not found: {explicit}")
        return explicit
    bundled = Path(str(resources.files("denseface").joinpath(f"{BUNDLED_DETECTORS}/{DETECTOR_SPECS[kind].model_file}")))
    if not bundled.is_file():
        raise FileNotFoundError(
            f"the bundled detector model {bundled} is missing from this installation; reinstall denseface "
            "or pass an explicit detector .tflite (DetectorOptions.model_path, DenseFace(detector_path=...))"
        )
    return bundled


@dataclass(frozen=True)
class DetectorOptions:
    """Options of :class:`FaceDetector`.

    Attributes:
        kind: "short" (faces within ~2 m, 128x128 model) or "full" (192x192 sparse model).
        min_score: minimum detection score in (0, 1).
        max_faces: most detections returned (>= 1).
        num_threads: CPU threads for the model (>= 1).
        model_path: an explicit .tflite file instead of the bundled one.
    """

    kind: str = "short"
    min_score: float = 0.5
    max_faces: int = 10
    num_threads: int = 1
    model_path: str | None = None


@dataclass(frozen=True, eq=False)
class Detection:
    """One detected face.

    Attributes:
        box: (x0, y0, x1, y1) frame pixels, not clipped to the frame.
        score: detection confidence in [0, 1].
        keypoints: (6, 2) float32 frame pixels (x, y), in the order of :data:`NUM_KEYPOINTS`.
    """

    box: tuple[float, float, float, float]
    score: float
    keypoints: np.ndarray


def check_frame(frame: object) -> np.ndarray:
    """Check that ``frame`` is an (H, W, 3) uint8 RGB image and return it C-contiguous.

    Raises:
        TypeError: ``frame`` is None, not a numpy array, or not uint8.
        ValueError: wrong number of dimensions or channels, or H or W < 2.
    """
    if frame is None:
        raise TypeError("frame is None; pass an (H, W, 3) uint8 RGB array (did the image fail to load?)")
    if not isinstance(frame, np.ndarray):
        raise TypeError(f"frame must be a numpy array, got {type(frame).__name__}")
    if frame.ndim != 3:
        raise ValueError(f"frame has {frame.ndim} dimensions {frame.shape}; pass an (H, W, 3) uint8 RGB array")
    channels = frame.shape[2]
    if channels != 3:
        hint = " (RGBA?)" if channels == 4 else " (grayscale?)" if channels == 1 else ""
        raise ValueError(f"frame has {channels} channels{hint}; pass an (H, W, 3) uint8 RGB array")
    if frame.dtype != np.uint8:
        raise TypeError(f"frame has dtype {frame.dtype}; pass an (H, W, 3) uint8 RGB array with values 0..255")
    height, width = frame.shape[:2]
    if height < 2 or width < 2:
        raise ValueError(f"frame is {height}x{width} pixels; height and width must both be at least 2")
    return np.ascontiguousarray(frame)


def ssd_anchors(input_size: int, strides: Sequence[int], anchors_per_layer: int, offset: float = 0.5) -> np.ndarray:
    """SSD anchors as MediaPipe's SsdAnchorsCalculator makes them with ``fixed_anchor_size: true``.

    Consecutive layers that share a stride share one feature map: for every cell (row-major) all
    their anchors follow each other. With a fixed anchor size every anchor is 1 x 1.

    Args:
        input_size: side of the square model input, pixels.
        strides: stride of each layer, pixels.
        anchors_per_layer: anchors per cell contributed by each layer.
        offset: anchor centre within its cell, in cells (MediaPipe: 0.5).

    Returns:
        (N, 4) float32 rows (x_center, y_center, width, height), normalised to the model input
        (0 and 1 are its outer edges).
    """
    if input_size < 1 or anchors_per_layer < 1 or not strides or min(strides) < 1:
        raise ValueError("input_size, anchors_per_layer and every stride must be >= 1")
    rows = []
    layer = 0
    while layer < len(strides):
        stride = strides[layer]
        group_end = layer
        while group_end < len(strides) and strides[group_end] == stride:
            group_end += 1
        per_cell = anchors_per_layer * (group_end - layer)
        cells = int(np.ceil(input_size / stride))
        for y in range(cells):
            for x in range(cells):
                centre = ((x + offset) / cells, (y + offset) / cells, 1.0, 1.0)
                rows.extend([centre] * per_cell)
        layer = group_end
    return np.asarray(rows, dtype=np.float32)


def decode_boxes(raw: np.ndarray, anchors: np.ndarray, scale: float) -> tuple[np.ndarray, np.ndarray]:
    """Decode BlazeFace regressor output against its anchors.

    Args:
        raw: (N, 4 + 2K) float32 rows (dx, dy, w, h, kx0, ky0, kx1, ky1, ...) in model-input pixels
            relative to the anchor centre (MediaPipe's reverse_output_order: x before y).
        anchors: (N, 4) rows (x_center, y_center, width, height) from :func:`ssd_anchors`.
        scale: the box scale (x_scale = y_scale = w_scale = h_scale): the model input size.

    Returns:
        boxes: (N, 4) float32 (x0, y0, x1, y1) normalised to the model input.
        keypoints: (N, K, 2) float32 (x, y) normalised to the model input.
    """
    raw = np.asarray(raw, dtype=np.float32)
    anchors = np.asarray(anchors, dtype=np.float32)
    if raw.ndim != 2 or raw.shape[1] < 4 or raw.shape[1] % 2 != 0:
        raise ValueError(f"raw must be (N, 4 + 2K), got {raw.shape}")
    if anchors.shape != (raw.shape[0], 4):
        raise ValueError(f"anchors must be ({raw.shape[0]}, 4) to match raw, got {anchors.shape}")
    if scale <= 0:
        raise ValueError(f"scale must be > 0, got {scale}")
    anchor_xy = anchors[:, 0:2]
    anchor_wh = anchors[:, 2:4]
    centre = raw[:, 0:2] / scale * anchor_wh + anchor_xy
    size = raw[:, 2:4] / scale * anchor_wh
    boxes = np.concatenate([centre - size / 2, centre + size / 2], axis=1)
    offsets = raw[:, 4:].reshape(raw.shape[0], -1, 2)
    keypoints = offsets / scale * anchor_wh[:, None, :] + anchor_xy[:, None, :]
    return boxes.astype(np.float32), keypoints.astype(np.float32)


def box_iou(box: np.ndarray, boxes: np.ndarray) -> np.ndarray:
    """Intersection over union of one (4,) box with (M, 4) boxes, all (x0, y0, x1, y1); returns (M,)."""
    width = np.clip(np.minimum(box[2], boxes[:, 2]) - np.maximum(box[0], boxes[:, 0]), 0, None)
    height = np.clip(np.minimum(box[3], boxes[:, 3]) - np.maximum(box[1], boxes[:, 1]), 0, None)
    intersection = width * height
    area = (box[2] - box[0]) * (box[3] - box[1])
    areas = (boxes[:, 2] - boxes[:, 0]) * (boxes[:, 3] - boxes[:, 1])
    union = area + areas - intersection
    return np.where(union > 0, intersection / np.where(union > 0, union, 1), 0.0)


def weighted_nms(
    boxes: np.ndarray,
    scores: np.ndarray,
    keypoints: np.ndarray,
    threshold: float = NMS_THRESHOLD,
    max_results: int | None = None,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """MediaPipe's weighted non-maximum suppression.

    Repeatedly take the highest-scoring remaining candidate; every remaining candidate whose IoU
    with it exceeds ``threshold`` (itself included) forms its cluster and is removed. The result
    has the cluster's score-weighted mean box and keypoints and the top candidate's score.

    Args:
        boxes: (N, 4) float (x0, y0, x1, y1), any consistent frame.
        scores: (N,) float scores.
        keypoints: (N, K, 2) float, same frame as the boxes.
        threshold: IoU above which a candidate joins the cluster (MediaPipe: 0.3).
        max_results: stop after this many results (None: no limit).

    Returns:
        (M, 4) float32 boxes, (M,) float32 scores (descending) and (M, K, 2) float32 keypoints.
    """
    boxes = np.asarray(boxes, dtype=np.float32)
    scores = np.asarray(scores, dtype=np.float32)
    keypoints = np.asarray(keypoints, dtype=np.float32)
    count = boxes.shape[0]
    if boxes.shape != (count, 4) or scores.shape != (count,) or keypoints.ndim != 3 or keypoints.shape[0] != count:
        raise ValueError(
            "expected boxes (N, 4), scores (N,), keypoints (N, K, 2); "
            f"got {boxes.shape}, {scores.shape}, {keypoints.shape}"
        )
    remaining = np.argsort(-scores, kind="stable")
    out_boxes, out_scores, out_keypoints = [], [], []
    while remaining.size > 0 and (max_results is None or len(out_scores) < max_results):
        top = remaining[0]
        in_cluster = box_iou(boxes[top], boxes[remaining]) > threshold
        in_cluster[0] = True
        cluster = remaining[in_cluster]
        weights = scores[cluster] / scores[cluster].sum()
        out_boxes.append(np.tensordot(weights, boxes[cluster], axes=1))
        out_keypoints.append(np.tensordot(weights, keypoints[cluster], axes=1))
        out_scores.append(scores[top])
        remaining = remaining[~in_cluster]
    num_keypoints = keypoints.shape[1]
    return (
        np.asarray(out_boxes, dtype=np.float32).reshape(-1, 4),
        np.asarray(out_scores, dtype=np.float32),
        np.asarray(out_keypoints, dtype=np.float32).reshape(-1, num_keypoints, 2),
    )


@dataclass(frozen=True)
class Letterbox:
    """How a frame was fitted into the square model input (resize keeping aspect, then centre padding).

    A frame pixel x maps to input pixel (x + 0.5) * scale_x - 0.5 + pad_x (both pixel-centre
    coordinates; same for y). scale_x and scale_y differ only by the rounding of the resized size.

    Attributes:
        scale_x, scale_y: input pixels per frame pixel.
        pad_x, pad_y: padding columns left of / rows above the resized frame, input pixels.
        input_size: side of the model input, pixels.
    """

    scale_x: float
    scale_y: float
    pad_x: int
    pad_y: int
    input_size: int

    @staticmethod
    def fit(height: int, width: int, input_size: int) -> "Letterbox":
        """The letterbox of an (height, width) frame for a square model input of side ``input_size``."""
        side = max(height, width)
        new_width = max(1, round(width * input_size / side))
        new_height = max(1, round(height * input_size / side))
        return Letterbox(
            scale_x=new_width / width,
            scale_y=new_height / height,
            pad_x=(input_size - new_width) // 2,
            pad_y=(input_size - new_height) // 2,
            input_size=input_size,
        )

    def apply(self, frame: np.ndarray) -> np.ndarray:
        """(H, W, 3) uint8 frame -> (input_size, input_size, 3) uint8, black padding."""
        height, width = frame.shape[:2]
        new_size = (round(width * self.scale_x), round(height * self.scale_y))
        shrinking = new_size[0] < width
        resized = cv2.resize(frame, new_size, interpolation=cv2.INTER_AREA if shrinking else cv2.INTER_LINEAR)
        canvas = np.zeros((self.input_size, self.input_size, 3), dtype=np.uint8)
        canvas[self.pad_y : self.pad_y + new_size[1], self.pad_x : self.pad_x + new_size[0]] = resized
        return canvas

    def normalised_to_frame(self, points: np.ndarray) -> np.ndarray:
        """(..., 2) points normalised to the model input (0, 1 = its edges) -> frame pixels, float32."""
        input_pixels = np.asarray(points, dtype=np.float32) * self.input_size - 0.5
        x = (input_pixels[..., 0] - self.pad_x + 0.5) / self.scale_x - 0.5
        y = (input_pixels[..., 1] - self.pad_y + 0.5) / self.scale_y - 0.5
        return np.stack([x, y], axis=-1).astype(np.float32)


class FaceDetector:
    """Detect faces with a MediaPipe BlazeFace model.

    Not thread-safe (it owns one TFLite interpreter): use one FaceDetector per thread.
    """

    def __init__(self, options: DetectorOptions = DetectorOptions()) -> None:
        """Load the model of ``options.kind``: ``options.model_path``, else the bundled one.

        Raises:
            ValueError: invalid options, or a model whose outputs do not match the anchors.
            FileNotFoundError: the model file is unavailable.
        """
        path = detector_path(options.kind, options.model_path)  # first: it also rejects an unknown kind
        if not 0.0 < options.min_score < 1.0:
            raise ValueError(f"min_score must be in (0, 1), got {options.min_score}")
        if options.max_faces < 1:
            raise ValueError(f"max_faces must be >= 1, got {options.max_faces}")
        self.options = options
        self._spec = DETECTOR_SPECS[options.kind]
        self._model = TFLiteModel(path, options.num_threads)
        size = self._spec.input_size
        if self._model.input_shape != (1, size, size, 3):
            raise ValueError(f"{path.name} has input shape {self._model.input_shape}; expected (1, {size}, {size}, 3)")
        self._anchors = ssd_anchors(size, self._spec.strides, self._spec.anchors_per_layer)
        count = self._anchors.shape[0]
        expected = [(1, count, 1), (1, count, 4 + 2 * NUM_KEYPOINTS)]
        if sorted(self._model.output_shapes) != expected:
            raise ValueError(
                f"{path.name} outputs {self._model.output_shapes}; the {options.kind} detector expects "
                f"{expected} ({count} anchors)"
            )

    def detect(self, frame: np.ndarray) -> list[Detection]:
        """Detect faces in an (H, W, 3) uint8 RGB frame; returns detections by descending score."""
        frame = check_frame(frame)
        size = self._spec.input_size
        letterbox = Letterbox.fit(frame.shape[0], frame.shape[1], size)
        tensor = letterbox.apply(frame).astype(np.float32) / 127.5 - 1.0
        outputs = self._model.run(tensor[None])
        regressors = next(o for o in outputs if o.shape[-1] != 1).reshape(-1, 4 + 2 * NUM_KEYPOINTS)
        logits = next(o for o in outputs if o.shape[-1] == 1).reshape(-1)
        clipped = np.clip(logits.astype(np.float64), -SCORE_CLIP, SCORE_CLIP)
        scores = (1.0 / (1.0 + np.exp(-clipped))).astype(np.float32)
        keep = scores >= self.options.min_score
        if not np.any(keep):
            return []
        boxes, keypoints = decode_boxes(regressors[keep], self._anchors[keep], self._spec.box_scale)
        boxes, kept_scores, keypoints = weighted_nms(
            boxes, scores[keep], keypoints, NMS_THRESHOLD, self.options.max_faces
        )
        corners = letterbox.normalised_to_frame(boxes.reshape(-1, 2, 2)).reshape(-1, 4)
        frame_keypoints = letterbox.normalised_to_frame(keypoints)
        return [
            Detection(
                box=tuple(float(v) for v in corners[i]), score=float(kept_scores[i]), keypoints=frame_keypoints[i]
            )
            for i in range(kept_scores.shape[0])
        ]
