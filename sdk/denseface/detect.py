"""BlazeFace face detection (MediaPipe's short- and full-range models, and the short-range one quantized to
int8) decoded by DenseFace's own code.

Coordinate convention used throughout DenseFace: frame pixel coordinates in OpenCV's convention,
x to the right and y down, (0, 0) being the centre of the top-left pixel. The models themselves work
in normalised [0, 1] coordinates whose 0 and 1 are the outer edges of the input image; the
conversion happens in :class:`~denseface.letterbox.Letterbox`.

The frame is fitted into the model's square input by ``denseface.letterbox``; the SSD
post-processing (anchors, box decoding, weighted NMS: MediaPipe's calculators) is in
``denseface.ssd``; frames are checked by ``denseface.checks.check_frame``.

The models ship inside the package (``models/blazeface/``, Apache-2.0, with MediaPipe's LICENSE and
a NOTICE saying where they come from), so detection works offline from the first run.

Thread-safety: a :class:`FaceDetector` owns an interpreter and reuses its input buffers from frame to
frame; use one per thread (``DenseFace`` serialises its calls with a lock).
"""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass, replace
from importlib import resources
from pathlib import Path

import cv2
import numpy as np

from denseface.checks import check_frame
from denseface.infer import TFLiteModel
from denseface.letterbox import Letterbox
from denseface.ssd import NMS_THRESHOLD, decode_boxes, ssd_anchors, weighted_nms

logger = logging.getLogger(__name__)

NUM_KEYPOINTS = 6
"""Keypoints per detection, in MediaPipe's order: subject's right eye, left eye, nose tip, mouth
centre, right ear tragion, left ear tragion. In an unmirrored photo the subject's right eye is the one
at the smaller x."""

SCORE_CLIP = 100.0  # logits are clipped to ±this before the sigmoid (MediaPipe's score_clipping_thresh)



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
# The short-range model quantized to int8 by train.detector.quantize: the same network, so the same decoding.
DETECTOR_SPECS["short_int8"] = replace(DETECTOR_SPECS["short"], model_file="face_detection_short_range_int8.tflite")

BUNDLED_DETECTORS = "models/blazeface"  # inside the denseface package: the models, LICENSE, NOTICE


def detector_path(kind: str, path: str | Path | None = None) -> Path:
    """Path of the BlazeFace model of ``kind``: ``path`` if given, else the copy bundled with the package.

    Args:
        kind: "short_int8", "short" (128x128 input) or "full" (192x192 input), a key of :data:`DETECTOR_SPECS`.
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
        kind: "short_int8" (faces within ~2 m, 128x128 model, int8: 0.53 ms against 0.70 ms for "short"
            on one x86 core, with the same end-to-end accuracy on AFLW2000-3D; benchmarks/README.md),
            "short" (the same model in float) or "full" (192x192 sparse model, float).
        min_score: minimum detection score in (0, 1).
        max_faces: most detections returned (>= 1).
        num_threads: CPU threads for the model (>= 1).
        model_path: an explicit .tflite file instead of the bundled one.
    """

    kind: str = "short_int8"
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


def scale_pixels(pixels: np.ndarray, out: np.ndarray | None = None) -> np.ndarray:
    """BlazeFace's input scaling: uint8 pixels → float32 pixel / 127.5 − 1, in [-1, 1]."""
    scaled = np.divide(pixels, np.float32(127.5), out=out, dtype=np.float32)
    scaled -= np.float32(1.0)
    return scaled


class FaceDetector:
    """Detect faces with a MediaPipe BlazeFace model.

    Not thread-safe (it owns one TFLite interpreter and reuses its input buffers): use one FaceDetector
    per thread.
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
        # Logits below this cannot score min_score, so detect() computes no sigmoid for them: a margin
        # of 1 (a factor e in the odds) below the threshold's logit, at most 15 (score 1 − 3e-7), so
        # the float32 rounding of a score never crosses it.
        self._min_logit = min(math.log(options.min_score / (1.0 - options.min_score)) - 1.0, 15.0)
        self._spec = DETECTOR_SPECS[options.kind]
        self._model = TFLiteModel(path, options.num_threads)
        size = self._spec.input_size
        if self._model.input_shape != (1, size, size, 3):
            raise ValueError(f"{path.name} has input shape {self._model.input_shape}; expected (1, {size}, {size}, 3)")
        self._anchors = ssd_anchors(size, self._spec.strides, self._spec.anchors_per_layer)
        # the letterboxed frame and the model input, reused from frame to frame (input_tensor)
        self._canvas = np.zeros((size, size, 3), np.uint8)
        self._blurred = np.empty((0, 0, 3), np.uint8)  # the letterbox's box blur of the frame, per frame size
        self._tensor = np.zeros((1, size, size, 3), np.float32)
        # A quantized input (short_int8) is a function of the pixel value alone: a 256-entry table
        # from pixel to input value, the same bytes as scaling then quantizing (TFLiteModel.quantize),
        # at one lookup per pixel instead of five float passes.
        self._pixel_table = None
        self._quantized = None
        if self._model.input_dtype != np.float32:
            self._pixel_table = self._model.quantize(scale_pixels(np.arange(256, dtype=np.uint8)))
            self._quantized = np.zeros((1, size, size, 3), self._model.input_dtype)
        count = self._anchors.shape[0]
        expected = [(1, count, 1), (1, count, 4 + 2 * NUM_KEYPOINTS)]
        if sorted(self._model.output_shapes) != expected:
            raise ValueError(
                f"{path.name} outputs {self._model.output_shapes}; the {options.kind} detector expects "
                f"{expected} ({count} anchors)"
            )

    def input_tensor(self, frame: np.ndarray) -> tuple[np.ndarray, Letterbox]:
        """The model input for an (H, W, 3) uint8 RGB frame and the letterbox that made it.

        Returns:
            (1, S, S, 3) float32 in [-1, 1] (pixel / 127.5 - 1), S = the model's input side: this
            detector's own buffer, overwritten by the next call; and the frame's :class:`Letterbox`.
        """
        letterbox = self._letterbox(frame)
        scale_pixels(self._canvas, out=self._tensor[0])
        return self._tensor, letterbox

    def _letterbox(self, frame: np.ndarray) -> Letterbox:
        """Letterbox a checked frame into this detector's canvas; returns how."""
        frame = check_frame(frame)
        letterbox = Letterbox.fit(frame.shape[0], frame.shape[1], self._spec.input_size)
        if self._blurred.shape != frame.shape:  # a new frame size: the box blur's buffer follows it
            self._blurred = np.empty_like(frame)
        letterbox.apply(frame, out=self._canvas, blurred=self._blurred)
        return letterbox

    def detect(self, frame: np.ndarray) -> list[Detection]:
        """Detect faces in an (H, W, 3) uint8 RGB frame; returns detections by descending score."""
        if self._pixel_table is None:
            tensor, letterbox = self.input_tensor(frame)
        else:  # the quantized input by table: the same bytes as quantizing input_tensor(frame)
            letterbox = self._letterbox(frame)
            tensor = self._quantized
            cv2.LUT(self._canvas, self._pixel_table, dst=tensor[0])
        outputs = self._model.run(tensor)
        regressors = next(o for o in outputs if o.shape[-1] != 1).reshape(-1, 4 + 2 * NUM_KEYPOINTS)
        logits = next(o for o in outputs if o.shape[-1] == 1).reshape(-1)
        candidates = np.flatnonzero(logits >= self._min_logit)  # scores for these only, the same test
        clipped = np.clip(logits[candidates].astype(np.float64), -SCORE_CLIP, SCORE_CLIP)
        scores = (1.0 / (1.0 + np.exp(-clipped))).astype(np.float32)
        passed = scores >= self.options.min_score
        keep = candidates[passed]
        if keep.size == 0:
            return []
        boxes, keypoints = decode_boxes(regressors[keep], self._anchors[keep], self._spec.box_scale)
        boxes, kept_scores, keypoints = weighted_nms(
            boxes, scores[passed], keypoints, NMS_THRESHOLD, self.options.max_faces
        )
        # box corners and keypoints to frame pixels in one call: (M, 2 + 6, 2)
        points = letterbox.normalised_to_frame(np.concatenate([boxes.reshape(-1, 2, 2), keypoints], axis=1))
        corners = points[:, :2].reshape(-1, 4).tolist()
        return [Detection(box=tuple(corners[i]), score=float(kept_scores[i]), keypoints=points[i, 2:])
                for i in range(kept_scores.shape[0])]
