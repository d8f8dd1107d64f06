"""DenseFace's public task: a camera frame in, a list of faces with 520 dense 3D landmarks out.

    from denseface import DenseFace
    faces = DenseFace().landmarks(rgb_frame)       # [Face(points (520, 3), points68, box, score, pose)]

By default at most one face is returned (``max_faces=1``, as MediaPipe's ``num_faces``: one user in
front of a camera); pass ``max_faces=4`` for group photos (the ``denseface`` command's default).

This module composes the others. Each call of :meth:`DenseFace.landmarks` checks its input
(``checks``), then runs ``detect`` (BlazeFace) → ``crop`` (the model's crop rule) → ``landmark_model``
(the LiteRT landmark model) → ``decode`` (model output → frame pixels) and returns ``face.Face``
results (their ``pose`` is fitted on first access). Video mode hands each frame to ``track.Tracker``
(the next frame's crop from the current landmarks, ``smooth``'s One-Euro filter). A caller may pass a
``timing.StageTimes`` to any call to time its stages.

Coordinates: frame pixels in OpenCV's convention (x right, y down, pixel centres at integers); z in
the same pixel scale, relative depth (the mean depth of a face's 520 points is 0), +z towards the
camera.

Thread-safety: one DenseFace instance may be shared by threads: its calls are serialised by a lock
(its LiteRT interpreters and, in video mode, its tracking state serve one call at a time), so shared
use is correct but not parallel. For parallel work use one instance per thread; instances are
independent and give identical results for identical inputs. An instance pickles (its options;
the copy loads its own interpreters), so worker processes can be handed one.
"""
from __future__ import annotations

import dataclasses
import enum
import math
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable

import numpy as np

from denseface.blendshapes import fit_blendshapes
from denseface.checks import check_boxes, prepare_frame
from denseface.crop import BOX_CONVENTIONS, crop_from_box, detection_crop
from denseface.decode import decode
from denseface.detect import DETECTOR_SPECS, DetectorOptions, FaceDetector
from denseface.face import Face, make_face
from denseface.landmark_model import BUNDLED_MODELS, DEFAULT_MODEL, LandmarkModel, bundled_path
from denseface.timing import StageTimes, measure
from denseface.track import Tracker
from denseface.transform import facial_transform


class RunningMode(enum.Enum):
    """IMAGE: independent frames, :meth:`DenseFace.landmarks`. VIDEO: frames of one stream with
    increasing timestamps, :meth:`DenseFace.landmarks_for_video` (tracking and smoothing)."""

    IMAGE = "image"
    VIDEO = "video"


@dataclass(frozen=True)
class DenseFaceOptions:
    """Options of :class:`DenseFace`.

    Attributes:
        model: bundled landmark model: "full" (the paper's network, the most accurate) or "lite"
            (a third of its cost, for CPUs without fast int8; see the model card).
        model_path: landmark model .tflite instead of the bundled ``model``.
        detector: BlazeFace model: "short_int8" (faces within ~2 m of the camera: in a 1920×1080
            frame it finds 92 % of faces 240 px high, 73 % at 180 px, 10 % at 120 px; the
            short-range model in int8, 0.73× its float time, the same end-to-end accuracy on
            AFLW2000-3D, but boxes ~6× noisier under sensor noise, so IMAGE mode jitters ~2× more on
            a still face: benchmarks/README.md), "short" (the same model in float: the steadier
            choice for IMAGE mode on a video stream; VIDEO mode tracks without the detector) or
            "full" (192×192 full-range model, for small faces in large frames: in 1920×1080 82 %
            of faces at 120 px, 65 % at 80 px, 55 % at 60 px; 96 % against 98.5 % of large ones).
            A frame in which the detector finds no face gives [].
        detector_path: explicit detector .tflite instead of the bundled BlazeFace one.
        max_faces: most faces returned per frame (>= 1), highest detector scores first. Default 1
            (as MediaPipe's ``num_faces``); the ``denseface`` command's default is 4.
        min_score: minimum detector score in (0, 1).
        num_threads: CPU threads of each LiteRT interpreter (>= 1).
        color_order: channel order of the frames passed in: "rgb" or "bgr" (OpenCV's imread/VideoCapture).
        running_mode: :class:`RunningMode`, or its value "image" / "video" (kept as the enum);
            selects which method may be called.
        min_cutoff: VIDEO: One-Euro cutoff at rest, Hz (> 0); lower = steadier, more lag.
        beta: VIDEO: One-Euro speed coefficient, 1/px (>= 0); higher = less lag on fast motion.
        redetect_interval: VIDEO: run the detector every this many frames even while tracking (to
            find new faces and drop faces the detector no longer sees); 0 = only when no face is
            tracked or a track is lost; 1 = on every frame: each ``Face.score`` is that frame's
            detection's and a face the detector no longer finds is dropped on that frame, at the
            detector's cost on every frame (measured +1.47 ms a 640×480 frame, ×1.87: README, Video).
        mirror_average: run the landmark model on each crop and on its mirror image and average the
            two (``LandmarkModel.run``): twice the model's time, for accuracy (aflw_dev balanced NME
            of the full model 5.22 → 5.04, lite 5.77 → 5.54: models/MODEL_CARD.md).
        output_facial_transformation_matrixes: fill ``Face.transform`` (``denseface.transform``: the
            4×4 canonical face (cm) → camera matrix, as MediaPipe's option of that name).
        focal_length: the camera's focal length in pixels for ``Face.transform``; None = a 63°
            vertical field of view (MediaPipe's default camera).
        output_blendshapes: fill ``Face.blendshapes`` (``denseface.blendshapes``: MediaPipe's 52
            ARKit-named coefficients, from a fit of the ICT face model to the 520 points).

    Raises (on construction):
        ValueError: a value out of range or an unknown name.
    """

    model: str = DEFAULT_MODEL
    model_path: str | Path | None = None
    detector: str = "short_int8"
    detector_path: str | Path | None = None
    max_faces: int = 1
    min_score: float = 0.5
    num_threads: int = 1
    color_order: str = "rgb"
    running_mode: RunningMode | str = RunningMode.IMAGE
    min_cutoff: float = 1.0
    beta: float = 0.05
    redetect_interval: int = 30
    mirror_average: bool = False
    output_facial_transformation_matrixes: bool = False
    focal_length: float | None = None
    output_blendshapes: bool = False

    def __post_init__(self) -> None:
        if self.model not in BUNDLED_MODELS:
            raise ValueError(f"unknown model {self.model!r}; expected one of {sorted(BUNDLED_MODELS)} "
                             "(or model_path= for a .tflite file)")
        if self.detector not in DETECTOR_SPECS:
            raise ValueError(f"unknown detector {self.detector!r}; expected one of {sorted(DETECTOR_SPECS)}")
        if not isinstance(self.max_faces, int) or self.max_faces < 1:
            raise ValueError(f"max_faces must be an int >= 1, got {self.max_faces!r}")
        if not 0.0 < self.min_score < 1.0:
            raise ValueError(f"min_score must be in (0, 1), got {self.min_score}")
        if self.color_order not in ("rgb", "bgr"):
            raise ValueError(f"color_order must be 'rgb' or 'bgr', got {self.color_order!r}")
        if isinstance(self.running_mode, str) and self.running_mode in {m.value for m in RunningMode}:
            object.__setattr__(self, "running_mode", RunningMode(self.running_mode))  # the same option, as the enum
        if not isinstance(self.running_mode, RunningMode):
            raise ValueError(f"running_mode must be a RunningMode (IMAGE or VIDEO) or 'image' / 'video', "
                             f"got {self.running_mode!r}")
        if not self.min_cutoff > 0 or not self.beta >= 0:
            raise ValueError(f"need min_cutoff > 0 and beta >= 0, got {self.min_cutoff} and {self.beta}")
        if not isinstance(self.redetect_interval, int) or self.redetect_interval < 0:
            raise ValueError(f"redetect_interval must be an int >= 0, got {self.redetect_interval!r}")
        if not isinstance(self.mirror_average, bool):
            raise ValueError(f"mirror_average must be True or False, got {self.mirror_average!r}")
        for name in ("output_facial_transformation_matrixes", "output_blendshapes"):
            if not isinstance(getattr(self, name), bool):
                raise ValueError(f"{name} must be True or False, got {getattr(self, name)!r}")
        if self.focal_length is not None and not (isinstance(self.focal_length, (int, float))
                                                  and math.isfinite(self.focal_length) and self.focal_length > 0):
            raise ValueError(f"focal_length must be None or a positive number of pixels, got {self.focal_length!r}")


class DenseFace:
    """Faces and their 520 dense 3D landmarks in camera frames.

    Calls on one instance are serialised (see the module docstring).

    Attributes:
        options: the :class:`DenseFaceOptions` in force.
        detector: the :class:`~denseface.detect.FaceDetector` used.
        model: the :class:`~denseface.landmark_model.LandmarkModel` used.
    """

    def __init__(self, options: DenseFaceOptions | None = None, **overrides: object) -> None:
        """Load the detector and the landmark model.

        Args:
            options: all options; None = ``DenseFaceOptions()``.
            **overrides: option fields replacing those of ``options`` (e.g. ``max_faces=3``).

        Raises:
            TypeError: an override that is not a field of :class:`DenseFaceOptions`.
            ValueError: an option out of range, or a model file that is not a valid model of its kind.
            FileNotFoundError: a model file is missing.
        """
        self.options = dataclasses.replace(options or DenseFaceOptions(), **overrides)
        o = self.options
        self.detector = FaceDetector(DetectorOptions(
            kind=o.detector, min_score=o.min_score, max_faces=o.max_faces, num_threads=o.num_threads,
            model_path=None if o.detector_path is None else str(o.detector_path)))
        self.model = LandmarkModel(bundled_path(o.model) if o.model_path is None else o.model_path, o.num_threads,
                                   mirror_average=o.mirror_average)
        self._lock = threading.Lock()  # one call at a time: interpreters and tracks are shared state
        self._tracker = Tracker(self.detector, self.model, o.max_faces, o.min_cutoff, o.beta, o.redetect_interval)

    def landmarks(self, frame: np.ndarray, faces: Iterable | None = None, box_convention: str = "landmarks68",
                  *, timer: StageTimes | None = None) -> list[Face]:
        """Landmarks of the faces in one image (IMAGE mode).

        Args:
            frame: (H, W, 3) uint8 in ``options.color_order``, or uint8 gray (see
                :func:`~denseface.checks.prepare_frame`).
            faces: None to detect faces, or the caller's face boxes: each (x0, y0, x1, y1) frame
                pixels, or an object with such a ``.box`` (e.g. a previous :class:`Face`). One
                :class:`Face` per box, in order, with score NaN. A box may stick out of the frame,
                but at least a quarter of it must lie inside (``checks.MIN_BOX_INSIDE``).
            box_convention: what the caller's boxes frame (``denseface.crop.BOX_CONVENTIONS``):
                "landmarks68" (the tight box of the face's 68 landmarks, as ``Face.box``: brows to
                chin, jaw line to jaw line; also for another detector's face box: the model is
                trained on crops 0.85–1.2× the rule's size, shifted by up to 8 %, so a box within
                that of the 68-point box works; shrink one that also frames forehead and hair),
                "square" (the same rule under another name: only the box's centre and longer side
                count, so a tight box and its square give the same crop) or "blazeface" (a MediaPipe
                / BlazeFace short-range box, which sits a little higher and larger: calibrated).
            timer: a :class:`~denseface.timing.StageTimes` that the call's stages are added to
                (``denseface.timing.STAGES``); None = no timing.

        Returns:
            A list of :class:`Face`, by descending detector score; [] when no face is found.

        Raises:
            ValueError: VIDEO mode (use ``landmarks_for_video``), a bad frame shape, a bad box or
                an unknown box convention. TypeError: a frame that is not a uint8 array.
        """
        self._require_mode(RunningMode.IMAGE, "landmarks(frame)", "landmarks_for_video(frame, timestamp_ms)")
        if box_convention not in BOX_CONVENTIONS:
            raise ValueError(f"unknown box convention {box_convention!r}; expected one of {sorted(BOX_CONVENTIONS)}")
        frame = prepare_frame(frame, self.options.color_order)
        with self._lock:
            if faces is None:
                with measure(timer, "detect"):
                    detections = self.detector.detect(frame)
                with measure(timer, "crop"):
                    crops = [(detection_crop(d.box, d.keypoints[0], d.keypoints[1]), d.score) for d in detections]
            else:
                boxes = check_boxes(faces, frame.shape[0], frame.shape[1])
                with measure(timer, "crop"):
                    crops = [(crop_from_box(box, box_convention), math.nan) for box in boxes]
            results = []
            for crop, score in crops:
                with measure(timer, "crop"):
                    pixels = crop.warp(frame)
                with measure(timer, "infer"):
                    output = self.model.run(pixels)
                with measure(timer, "decode"):
                    points = decode(output, crop)
                results.append(make_face(points, score))
            return self._outputs(results, frame.shape[:2])

    def landmarks_for_video(self, frame: np.ndarray, timestamp_ms: float, *,
                            timer: StageTimes | None = None) -> list[Face]:
        """Landmarks of the faces in one frame of a video stream (VIDEO mode).

        While a face is tracked, its crop comes from its landmarks in the previous frame (no
        detection). The detector runs when nothing is tracked, when a track is lost (its points are
        non-finite, smaller than ``track.MIN_FACE_PX``, or no longer framed as a face, see
        :func:`~denseface.track.looks_tracked`), when a track's crop no longer shows what it showed
        in the previous frame (:func:`~denseface.track.same_content`; such a track is kept only if a
        detection confirms it), and every ``options.redetect_interval`` frames (then tracks the
        detector no longer confirms are dropped and new faces start tracks). Points are smoothed by
        a One-Euro filter per track (``options.min_cutoff``, ``options.beta``); the next crop uses
        the unsmoothed points.

        Args:
            frame: as for :meth:`landmarks`.
            timestamp_ms: the frame's time in milliseconds, greater than the previous call's (call
                :meth:`reset` before the frames of another video or stream).
            timer: as for :meth:`landmarks` (the stages include "smooth").

        Returns:
            A list of :class:`Face` (at most ``options.max_faces``), each with its ``track_id``
            (the same while the face is followed, a new one for a new face: after a scene cut the
            faces are new tracks, nothing of the faces before the cut is returned); [] when no face
            is found.

        Raises:
            ValueError: IMAGE mode (use ``landmarks``), a timestamp not after the previous one or
                not finite, or a bad frame shape. TypeError: a frame that is not a uint8 array.
        """
        self._require_mode(RunningMode.VIDEO, "landmarks_for_video(frame, timestamp_ms)", "landmarks(frame)")
        timestamp_ms = float(timestamp_ms)
        if not math.isfinite(timestamp_ms):
            raise ValueError(f"timestamp_ms must be finite, got {timestamp_ms}")
        frame = prepare_frame(frame, self.options.color_order)
        with self._lock:  # the order check too: another thread's frame may be in between
            return self._outputs(self._tracker.step(frame, timestamp_ms, timer), frame.shape[:2])

    def __reduce__(self) -> tuple:
        """Pickling (multiprocessing, joblib, Ray): only the options travel; the copy loads its own
        interpreters when unpickled. In VIDEO mode the copy starts a new stream (no tracks)."""
        return self.__class__, (self.options,)

    def reset(self) -> None:
        """VIDEO mode: forget the tracks and the last timestamp (start a new stream: timestamps may
        start again from any value, track ids from 0)."""
        with self._lock:
            self._tracker.reset()

    def _outputs(self, faces: list[Face], frame_size: tuple[int, int]) -> list[Face]:
        """The faces with the optional outputs the options ask for (transform, blendshapes)."""
        o = self.options
        if o.output_facial_transformation_matrixes:
            faces = [dataclasses.replace(f, transform=facial_transform(f.points, frame_size, o.focal_length))
                     for f in faces]
        if o.output_blendshapes:
            faces = [dataclasses.replace(f, blendshapes=fit_blendshapes(f.points)) for f in faces]
        return faces

    def _require_mode(self, mode: RunningMode, method: str, other: str) -> None:
        if self.options.running_mode is not mode:
            raise ValueError(
                f"{method} needs running_mode={mode}, but this DenseFace was created with "
                f"running_mode={self.options.running_mode}: call {other} instead"
            )
