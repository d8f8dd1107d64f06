"""The MediaPipe 468-point face mesh pipeline, run by LiteRT: what a user of MediaPipe runs today.

MediaPipe's face_landmark_front graph (CPU), stage by stage, with the same BlazeFace detector and
decoding the SDK uses (``denseface.detect``) and MediaPipe 0.10.14's ``face_landmark.tflite``:

* detect: BlazeFace short range (``denseface.detect.FaceDetector``), min score 0.5;
* crop: the ROI (detection box made square on its long side × 1.5, rotated by the eye keypoints;
  or, when tracking, the 468 points' box × 1.5 rotated by eye corners 33 → 263: ``train.labels.teacher``'s
  Roi rules), warped to 192×192 and scaled to float32 in [0, 1];
* infer: ``face_landmark.tflite`` → 468 × (x, y, z) and a face-presence logit;
* decode: ROI pixels → frame pixels.

The crop, infer and decode stages are ``train.labels.teacher.MeshModel``'s (the teacher's own mesh pass).
Both modes take an optional ``timer`` (``denseface.timing.StageTimes``) that records these stages
and "detect", as ``DenseFace``'s calls do.

Image mode (``landmarks``): detection on every frame, one landmark pass per detected face
(MediaPipe's static_image_mode). Video mode (``landmarks_for_video``, MediaPipe's tracking): the
detector runs only while no face is tracked; otherwise the landmark model runs on the ROI made from
the previous frame's points, and a face whose presence falls below 0.5 is dropped (the detector runs
again on the next frame), as MediaPipe's FaceMesh does with min_tracking_confidence 0.5.

Results: a list of (468, 3) float32 arrays, frame pixels (x right, y down, z towards the camera in
x's pixel scale), one per face. Not thread-safe: one instance per thread.
"""
from __future__ import annotations

import numpy as np

from denseface.checks import check_frame
from denseface.detect import DetectorOptions, FaceDetector
from denseface.timing import StageTimes, measure
from train.labels.teacher import MeshModel, Roi, roi_from_detection, roi_from_points

PRESENCE_THRESHOLD = 0.5  # MediaPipe FaceMesh's min_tracking_confidence default


class MediaPipeMesh468:
    """BlazeFace + MediaPipe's face_landmark.tflite (see the module docstring).

    Attributes:
        detector: the shared :class:`~denseface.detect.FaceDetector`.
        mesh: the face_landmark.tflite :class:`~train.labels.teacher.MeshModel`.
    """

    def __init__(self, num_threads: int = 1, max_faces: int = 1, detector: str = "short", min_score: float = 0.5) -> None:
        """Load BlazeFace (bundled with the SDK) and face_landmark.tflite (cached by ``denseface.fetch``).

        Raises:
            FileNotFoundError: face_landmark.tflite is neither cached nor fetchable.
            ValueError: face_landmark.tflite does not take (1, 192, 192, 3).
        """
        self.detector = FaceDetector(DetectorOptions(kind=detector, min_score=min_score, max_faces=max_faces,
                                                     num_threads=num_threads))
        self.mesh = MeshModel(num_threads)
        self.max_faces = max_faces
        self._rois: list[Roi] = []

    def _detect(self, frame: np.ndarray, timer: StageTimes | None) -> list[Roi]:
        """The first ROI of each face the detector finds (MediaPipe's rule, ``train.labels.teacher``)."""
        with measure(timer, "detect"):
            detections = self.detector.detect(frame)
        with measure(timer, "crop"):
            return [roi_from_detection(d) for d in detections]

    def _run(self, frame: np.ndarray, roi: Roi, timer: StageTimes | None) -> np.ndarray | None:
        """(468, 3) float32 frame points on ``roi``, or None when the face-presence is below threshold."""
        points, presence = self.mesh.run(frame, roi, timer)
        return points if presence >= PRESENCE_THRESHOLD else None

    def landmarks(self, frame: np.ndarray, timer: StageTimes | None = None) -> list[np.ndarray]:
        """Image mode: detect, then one landmark pass per face; (H, W, 3) uint8 RGB frame."""
        frame = check_frame(frame)
        faces = [self._run(frame, roi, timer) for roi in self._detect(frame, timer)]
        return [f for f in faces if f is not None]

    def landmarks_for_video(self, frame: np.ndarray, timestamp_ms: float,
                            timer: StageTimes | None = None) -> list[np.ndarray]:
        """Video (tracking) mode: the previous frame's ROIs, or detection when none is tracked."""
        del timestamp_ms  # MediaPipe's FaceMesh uses it only to order packets
        frame = check_frame(frame)
        rois = self._rois or self._detect(frame, timer)
        faces, self._rois = [], []
        for roi in rois[: self.max_faces]:
            points = self._run(frame, roi, timer)
            if points is not None:
                faces.append(points)
                with measure(timer, "crop"):  # the tracking ROI from the 468 points (MediaPipe's rule)
                    self._rois.append(roi_from_points(points))
        return faces

    def reset(self) -> None:
        """Forget the tracked ROIs (start a new stream)."""
        self._rois = []
