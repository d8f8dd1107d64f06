"""MediaPipe's SSD post-processing for BlazeFace, as pure functions: anchors, box decoding and weighted
non-maximum suppression.

They mirror MediaPipe's SsdAnchorsCalculator, TensorsToDetectionsCalculator and
NonMaxSuppressionCalculator (WEIGHTED, intersection over union) so that ports to other platforms can
follow them line by line (the Android demo's ``BlazeFace.java`` does). Coordinates are normalised to
the model input (0 and 1 are its outer edges); ``denseface.detect`` maps them to frame pixels.
"""

from __future__ import annotations

from typing import Sequence

import numpy as np

NMS_THRESHOLD = 0.3  # MediaPipe's min_suppression_threshold for BlazeFace


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
    maps = []
    layer = 0
    while layer < len(strides):
        group_end = layer
        while group_end < len(strides) and strides[group_end] == strides[layer]:
            group_end += 1
        cells = int(np.ceil(input_size / strides[layer]))
        y, x = np.mgrid[0:cells, 0:cells]  # row-major cells
        centres = np.stack([(x.ravel() + offset) / cells, (y.ravel() + offset) / cells], axis=1)
        maps.append(np.repeat(centres, anchors_per_layer * (group_end - layer), axis=0))
        layer = group_end
    centres = np.concatenate(maps)
    return np.concatenate([centres, np.ones_like(centres)], axis=1).astype(np.float32)


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
    """Intersection over union, all boxes (x0, y0, x1, y1): one (4,) box with (M, 4) boxes → (M,), or
    (M, 4) boxes with (M, 4) boxes row by row → (M,); 0 where the union is empty."""
    width = np.maximum(np.minimum(box[..., 2], boxes[:, 2]) - np.maximum(box[..., 0], boxes[:, 0]), 0)
    height = np.maximum(np.minimum(box[..., 3], boxes[:, 3]) - np.maximum(box[..., 1], boxes[:, 1]), 0)
    intersection = width * height
    area = (box[..., 2] - box[..., 0]) * (box[..., 3] - box[..., 1])
    areas = (boxes[:, 2] - boxes[:, 0]) * (boxes[:, 3] - boxes[:, 1])
    union = area + areas - intersection
    return np.divide(intersection, union, out=np.zeros_like(intersection), where=union > 0)


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
        # (1, n) · (n, ...): np.tensordot's own call, without its reshaping overhead
        out_boxes.append(np.dot(weights[None, :], boxes[cluster])[0])
        out_keypoints.append(np.dot(weights[None, :], keypoints[cluster].reshape(cluster.size, -1))[0])
        out_scores.append(scores[top])
        remaining = remaining[~in_cluster]
    num_keypoints = keypoints.shape[1]
    return (
        np.asarray(out_boxes, dtype=np.float32).reshape(-1, 4),
        np.asarray(out_scores, dtype=np.float32),
        np.asarray(out_keypoints, dtype=np.float32).reshape(-1, num_keypoints, 2),
    )
