"""The MediaPipe 468-point face mesh pipeline, run by LiteRT: what a user of MediaPipe runs today.

MediaPipe's face_landmark_front graph (CPU), stage by stage, with the same BlazeFace detector and
decoding the SDK uses (``denseface.detect``) and MediaPipe 0.10.14's ``face_landmark.tflite``:

* detect: BlazeFace short range (``denseface.detect.FaceDetector``), min score 0.5;
* crop: the ROI (detection box made square on its long side × 1.5, rotated by the eye keypoints;
  or, when tracking, the 468 points' box × 1.5 rotated by eye corners 33 → 263: ``train.teacher``'s
  Roi rules), warped to 192×192 and scaled to float32 in [0, 1];
* infer: ``face_landmark.tflite`` → 468 × (x, y, z) and a face-presence logit;
* decode: ROI pixels → frame pixels.

Image mode (``landmarks``): detection on every frame, one landmark pass per detected face
(MediaPipe's static_image_mode). Video mode (``landmarks_for_video``, MediaPipe's tracking): the
detector runs only while no face is tracked; otherwise the landmark model runs on the ROI made from
the previous frame's points, and a face whose presence falls below 0.5 is dropped (the detector runs
again on the next frame), as MediaPipe's FaceMesh does with min_tracking_confidence 0.5.

Results: a list of (468, 3) float32 arrays, frame pixels (x right, y down, z towards the camera in
x's pixel scale), one per face. Not thread-safe: one instance per thread.
"""
from __future__ import annotations

import math

import cv2
import numpy as np

from denseface.detect import DetectorOptions, FaceDetector, check_frame
from denseface.fetch import model_path
from denseface.infer import TFLiteModel
from train.teacher import MESH_INPUT, NUM_POINTS, Roi, roi_from_detection, roi_from_points

PRESENCE_THRESHOLD = 0.5  # MediaPipe FaceMesh's min_tracking_confidence default


class MediaPipeMesh468:
    """BlazeFace + MediaPipe's face_landmark.tflite (see the module docstring).

    Attributes:
        detector: the shared :class:`~denseface.detect.FaceDetector`.
        mesh: the face_landmark.tflite :class:`~denseface.infer.TFLiteModel`.
    """

    def __init__(self, num_threads: int = 1, max_faces: int = 1, detector: str = "short", min_score: float = 0.5) -> None:
        """Load BlazeFace (bundled with the SDK) and face_landmark.tflite (cached by ``denseface.fetch``).

        Raises:
            FileNotFoundError: face_landmark.tflite is neither cached nor fetchable.
            ValueError: face_landmark.tflite does not take (1, 192, 192, 3).
        """
        self.detector = FaceDetector(DetectorOptions(kind=detector, min_score=min_score, max_faces=max_faces,
                                                     num_threads=num_threads))
        self.mesh = TFLiteModel(model_path("mesh468"), num_threads)
        if self.mesh.input_shape != (1, MESH_INPUT, MESH_INPUT, 3):
            raise ValueError(f"face_landmark.tflite has input {self.mesh.input_shape}; expected (1, 192, 192, 3)")
        self.max_faces = max_faces
        self._rois: list[Roi] = []

    # --- stages -------------------------------------------------------------------------------
    @staticmethod
    def roi_for_detection(detection) -> Roi:
        """The first ROI of a face: its detection box (MediaPipe's rule, ``train.teacher``)."""
        return roi_from_detection(detection)

    @staticmethod
    def roi_for_points(points: np.ndarray) -> Roi:
        """The tracking ROI from (468, 3) frame points (MediaPipe's rule, ``train.teacher``)."""
        return roi_from_points(points)

    @staticmethod
    def crop(frame: np.ndarray, roi: Roi) -> np.ndarray:
        """(1, 192, 192, 3) float32 in [0, 1]: the ROI warped out of the frame (edges replicated)."""
        frame_to_roi = cv2.invertAffineTransform(roi.roi_to_frame())
        pixels = cv2.warpAffine(frame, frame_to_roi, (MESH_INPUT, MESH_INPUT), flags=cv2.INTER_LINEAR,
                                borderMode=cv2.BORDER_REPLICATE)
        return (pixels.astype(np.float32) * np.float32(1.0 / 255.0))[None]

    def infer(self, tensor: np.ndarray) -> tuple[np.ndarray, float]:
        """Run face_landmark.tflite: (468, 3) float32 ROI-input points and the presence probability."""
        landmarks, presence_logit = self.mesh.run(tensor)
        logit = float(np.clip(presence_logit.reshape(-1)[0], -100.0, 100.0))
        return landmarks.reshape(NUM_POINTS, 3), 1.0 / (1.0 + math.exp(-logit))

    @staticmethod
    def decode(raw: np.ndarray, roi: Roi) -> np.ndarray:
        """(468, 3) ROI-input points (0 = the crop's outer edge) → (468, 3) float32 frame pixels
        (same mapping as ``train.teacher.Teacher``)."""
        roi_to_frame = roi.roi_to_frame()
        xy = (raw[:, :2] - 0.5) @ roi_to_frame[:, :2].T + roi_to_frame[:, 2]
        z = -raw[:, 2] * (roi.side / MESH_INPUT)
        return np.column_stack([xy, z]).astype(np.float32)

    # --- modes --------------------------------------------------------------------------------
    def _run(self, frame: np.ndarray, roi: Roi) -> np.ndarray | None:
        raw, presence = self.infer(self.crop(frame, roi))
        return self.decode(raw, roi) if presence >= PRESENCE_THRESHOLD else None

    def landmarks(self, frame: np.ndarray) -> list[np.ndarray]:
        """Image mode: detect, then one landmark pass per face; (H, W, 3) uint8 RGB frame."""
        frame = check_frame(frame)
        faces = [self._run(frame, self.roi_for_detection(d)) for d in self.detector.detect(frame)]
        return [f for f in faces if f is not None]

    def landmarks_for_video(self, frame: np.ndarray, timestamp_ms: float) -> list[np.ndarray]:
        """Video (tracking) mode: the previous frame's ROIs, or detection when none is tracked."""
        del timestamp_ms  # MediaPipe's FaceMesh uses it only to order packets
        frame = check_frame(frame)
        rois = self._rois or [self.roi_for_detection(d) for d in self.detector.detect(frame)]
        faces, self._rois = [], []
        for roi in rois[: self.max_faces]:
            points = self._run(frame, roi)
            if points is not None:
                faces.append(points)
                self._rois.append(self.roi_for_points(points))
        return faces

    def reset(self) -> None:
        """Forget the tracked ROIs (start a new stream)."""
        self._rois = []
