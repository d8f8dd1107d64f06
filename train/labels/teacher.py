"""The MediaPipe 468-point face mesh as a teacher, run with LiteRT (``face_landmark.tflite``).

Follows MediaPipe's face_landmark_front graph: detection -> ROI (rotated so the eyes are
horizontal, square on the box's long side x 1.5) -> 192x192 crop, RGB in [0, 1] -> 468 (x, y, z)
points + a face-presence logit; then one tracking pass with the ROI rebuilt from the 468 points
(rotation from eye corners 33 -> 263, their bounding box x 1.5), whose result is kept. The ROI rules
(``roi_from_detection``, ``roi_from_points``, ``ROI_SCALE``) and the mesh pass (:class:`MeshModel`)
are public: ``benchmarks.mediapipe_pipeline`` and ``train.evaluation.evaluate`` run MediaPipe's pipeline with them.

Output coordinates: frame pixels in OpenCV's convention ((0, 0) = centre of the top-left pixel),
x right, y down, z towards the camera in the same pixel units as x (MediaPipe's z, scaled like x and
sign-flipped; its origin is roughly the face's centre depth, so only differences are meaningful).

CLI::

    python -m train.labels.teacher --images DIR --out FILE.npz [--limit N] [--workers 2]

writes FILE.npz with, per readable image (sorted by name): ``names`` (N,) str, ``found`` (N,) bool,
``points468`` (N, 468, 3) float32 (NaN where not found), ``presence`` (N,) float32,
``det_score`` (N,) float32, ``det_box`` (N, 4) float32 (x0, y0, x1, y1), ``keypoints`` (N, 6, 2)
float32 (all frame pixels, the highest-scoring face), and ``skipped`` (S,) str: unreadable images.
Partial results go to FILE.partial.npz every 500 images; a rerun continues from there.
"""

from __future__ import annotations

import argparse
import logging
import math
import multiprocessing
import os
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

import cv2
import numpy as np
from tqdm import tqdm

from denseface.checks import check_frame
from denseface.detect import DetectorOptions, Detection, FaceDetector
from denseface.fetch import model_path
from denseface.infer import TFLiteModel
from denseface.timing import StageTimes, measure

logger = logging.getLogger(__name__)

MESH_INPUT = 192
NUM_POINTS = 468
ROI_SCALE = 1.5  # MediaPipe's ROI side over the face box's longer side (RectTransformation scale_x/y)
RIGHT_EYE_OUTER = 33
LEFT_EYE_OUTER = 263
CHECKPOINT_EVERY = 500
_JPEG_END = b"\xff\xd9"
_JPEG_TAIL = 1024


@dataclass(frozen=True, eq=False)
class TeacherFace:
    """The teacher's result for one face.

    Attributes:
        points468: (468, 3) float32 frame pixels (x right, y down, z towards the camera).
        presence: face-presence probability in [0, 1] of the final (refined) pass.
        detection: the detection the face came from.
    """

    points468: np.ndarray
    presence: float
    detection: Detection


@dataclass(frozen=True)
class Roi:
    """A rotated square region of the frame.

    Attributes:
        centre: (x, y) frame pixels.
        side: side length, frame pixels.
        angle: rotation in radians; the ROI's +x axis points along (cos angle, sin angle) in the
            frame (y down), so a positive angle turns it clockwise on screen.
    """

    centre: tuple[float, float]
    side: float
    angle: float

    def roi_to_frame(self, input_size: int = MESH_INPUT) -> np.ndarray:
        """(2, 3) float64 affine mapping the pixels of an ``input_size``-square model input (pixel-centre
        convention) to frame pixels."""
        scale = self.side / input_size
        cos, sin = math.cos(self.angle), math.sin(self.angle)
        linear = scale * np.array([[cos, -sin], [sin, cos]])
        half = input_size / 2 - 0.5
        translation = np.asarray(self.centre) - linear @ np.array([half, half])
        return np.hstack([linear, translation[:, None]])


def roi_from_box(box: tuple[float, float, float, float], start: np.ndarray, end: np.ndarray) -> Roi:
    """MediaPipe's DetectionsToRects + RectTransformation(scale 1.5, square_long) rule.

    Args:
        box: (x0, y0, x1, y1) frame pixels.
        start, end: (2,) frame pixels of the points whose direction becomes the ROI's +x axis
            (right eye -> left eye of the subject).
    """
    x0, y0, x1, y1 = box
    angle = math.atan2(float(end[1] - start[1]), float(end[0] - start[0]))
    side = max(x1 - x0, y1 - y0) * ROI_SCALE
    return Roi(centre=((x0 + x1) / 2, (y0 + y1) / 2), side=float(side), angle=angle)


def roi_from_detection(detection: Detection) -> Roi:
    """The first ROI: the detection box, rotated by the eye keypoints (0 -> 1)."""
    return roi_from_box(detection.box, detection.keypoints[0], detection.keypoints[1])


def roi_from_points(points: np.ndarray) -> Roi:
    """The tracking ROI from (468, >=2) frame points: their bounding box, rotated by 33 -> 263."""
    low = points[:, :2].min(axis=0)
    high = points[:, :2].max(axis=0)
    box = (float(low[0]), float(low[1]), float(high[0]), float(high[1]))
    return roi_from_box(box, points[RIGHT_EYE_OUTER], points[LEFT_EYE_OUTER])


MESH_KINDS = {"mesh468": (MESH_INPUT, NUM_POINTS), "mesh478": (256, 478)}  # denseface.fetch kind: input, points


class MeshModel:
    """MediaPipe's face mesh on one ROI of a frame: the one implementation of the mesh pass, used by
    :class:`Teacher`, ``train.evaluation.evaluate`` and the benchmarks. ``kind`` "mesh468" is 0.10.14's
    face_landmark.tflite (192×192 input, 468 points); "mesh478" the Face Landmarker's
    face_landmarks_detector.tflite (256×256, 478 points: the 468 and the two irises), same ROI rules.

    Not thread-safe (one LiteRT interpreter): one per thread/process.
    """

    def __init__(self, num_threads: int = 1, kind: str = "mesh468") -> None:
        """Load the model (fetched on first use, see denseface.fetch).

        Raises:
            FileNotFoundError: the model is neither cached nor fetchable.
            ValueError: an unknown kind, or a model that does not take its kind's input.
        """
        if kind not in MESH_KINDS:
            raise ValueError(f"unknown mesh kind {kind!r}; expected one of {sorted(MESH_KINDS)}")
        self.input_size, self.num_points = MESH_KINDS[kind]
        self.model = TFLiteModel(model_path(kind), num_threads)
        if self.model.input_shape != (1, self.input_size, self.input_size, 3):
            raise ValueError(f"the {kind} model has input shape {self.model.input_shape}; "
                             f"expected (1, {self.input_size}, {self.input_size}, 3)")

    def run(self, frame: np.ndarray, roi: Roi, timer: StageTimes | None = None) -> tuple[np.ndarray, float]:
        """The mesh on ``roi`` of an (H, W, 3) uint8 RGB ``frame``: (num_points, 3) float32 frame points
        and the face-presence probability in [0, 1]; stages ("crop": warp to the model's input, RGB in
        [0, 1] with replicated edges; "infer"; "decode": ROI → frame pixels) timed into ``timer``."""
        size = self.input_size
        with measure(timer, "crop"):
            roi_to_frame = roi.roi_to_frame(size)
            frame_to_roi = cv2.invertAffineTransform(roi_to_frame)
            crop = cv2.warpAffine(
                frame, frame_to_roi, (size, size), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE
            )
            tensor = (crop.astype(np.float32) / 255.0)[None]
        with measure(timer, "infer"):
            landmarks, presence_logit = self.model.run(tensor)[:2]
        with measure(timer, "decode"):
            raw = landmarks.reshape(self.num_points, 3)
            # The model's x, y are in ROI input pixels with 0 at the crop's outer edge.
            roi_xy = raw[:, :2] - 0.5
            frame_xy = roi_xy @ roi_to_frame[:, :2].T + roi_to_frame[:, 2]
            frame_z = -raw[:, 2] * (roi.side / size)
            presence = 1.0 / (1.0 + math.exp(-float(np.clip(presence_logit.reshape(-1)[0], -100.0, 100.0))))
            points = np.column_stack([frame_xy, frame_z]).astype(np.float32)
        return points, presence


class Teacher:
    """MediaPipe face detection + 468-point face mesh. Not thread-safe: one per thread/process."""

    def __init__(self, num_threads: int = 1, detector_kind: str = "short") -> None:
        """Load the detector and face_landmark.tflite (the bundled detector; the mesh model fetched on first use, see denseface.fetch)."""
        self._detector = FaceDetector(DetectorOptions(kind=detector_kind, num_threads=num_threads))
        self.mesh = MeshModel(num_threads)

    def run(self, image_rgb: np.ndarray) -> list[TeacherFace]:
        """Detect faces in an (H, W, 3) uint8 RGB image and return the refined mesh of each, by detection score."""
        frame = check_frame(image_rgb)
        faces = []
        for detection in self._detector.detect(frame):
            first, _ = self.mesh.run(frame, roi_from_detection(detection))
            points, presence = self.mesh.run(frame, roi_from_points(first))
            faces.append(TeacherFace(points468=points, presence=presence, detection=detection))
        return faces


# --- CLI ------------------------------------------------------------------------------------------

_WORKER_TEACHER: Teacher | None = None
_FIELDS = ("found", "points468", "presence", "det_score", "det_box", "keypoints")


def _empty_record() -> dict[str, np.ndarray]:
    """The record of an image without a face: found False, NaN elsewhere."""
    return {
        "found": np.array(False),
        "points468": np.full((NUM_POINTS, 3), np.nan, np.float32),
        "presence": np.array(np.nan, np.float32),
        "det_score": np.array(np.nan, np.float32),
        "det_box": np.full(4, np.nan, np.float32),
        "keypoints": np.full((6, 2), np.nan, np.float32),
    }


def _init_worker() -> None:
    """Create this process's Teacher (single-threaded; parallelism comes from the processes)."""
    global _WORKER_TEACHER
    _WORKER_TEACHER = Teacher(num_threads=1)


def _process(path: str) -> tuple[str, dict[str, np.ndarray] | None]:
    """Teacher record of the best face of one image; None when the image is unreadable or truncated
    (no JPEG end-of-image marker in its last 1 KiB)."""
    if _WORKER_TEACHER is None:
        raise RuntimeError("teacher worker not initialised: call _init_worker first")
    name = os.path.basename(path)
    data = Path(path).read_bytes()
    if _JPEG_END not in data[-_JPEG_TAIL:]:
        return name, None  # truncated: OpenCV would decode it with the missing part grey
    image = cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_COLOR)
    if image is None or image.shape[0] < 2 or image.shape[1] < 2:
        return name, None
    faces = _WORKER_TEACHER.run(cv2.cvtColor(image, cv2.COLOR_BGR2RGB))
    record = _empty_record()
    if faces:
        best = faces[0]
        record = {
            "found": np.array(True),
            "points468": best.points468,
            "presence": np.array(best.presence, np.float32),
            "det_score": np.array(best.detection.score, np.float32),
            "det_box": np.asarray(best.detection.box, np.float32),
            "keypoints": best.detection.keypoints.astype(np.float32),
        }
    return name, record


def _save(path: Path, names: list[str], records: list[dict[str, np.ndarray]], skipped: list[str]) -> None:
    """Write the arrays atomically (temporary file, then rename)."""
    arrays = {field: np.stack([r[field] for r in records]) if records else np.empty((0,)) for field in _FIELDS}
    temporary = path.with_name(path.name + ".tmp")
    with temporary.open("wb") as handle:
        np.savez(handle, names=np.asarray(names, dtype=str), skipped=np.asarray(skipped, dtype=str), **arrays)
    temporary.replace(path)


def _load_partial(path: Path) -> tuple[list[str], list[dict[str, np.ndarray]], list[str]]:
    """Names, records and skipped names from a partial file (empty when there is none)."""
    if not path.is_file():
        return [], [], []
    with np.load(path) as data:
        names = [str(n) for n in data["names"]]
        records = [{field: data[field][i] for field in _FIELDS} for i in range(len(names))]
        skipped = [str(n) for n in data["skipped"]]
    logger.info("resuming from %s: %d done, %d skipped", path, len(names), len(skipped))
    return names, records, skipped


def _results(paths: list[str], workers: int) -> Iterator[tuple[str, dict[str, np.ndarray] | None]]:
    """Yield (name, record) for each path, in order, with ``workers`` processes."""
    if workers == 1:
        _init_worker()
        yield from map(_process, paths)
        return
    with multiprocessing.get_context("spawn").Pool(workers, initializer=_init_worker) as pool:
        yield from pool.imap(_process, paths, chunksize=8)


def run_directory(images: Path, out: Path, limit: int | None = None, workers: int = 2) -> dict[str, int]:
    """Run the teacher over ``images``/*.jpg (sorted) and write ``out`` (see the module CLI).

    Returns:
        Counts: "images", "found", "skipped" (unreadable).
    """
    if not images.is_dir():
        raise FileNotFoundError(f"image folder not found: {images}")
    if workers < 1:
        raise ValueError(f"workers must be >= 1, got {workers}")
    paths = sorted(images.glob("*.jpg"))
    if limit is not None:
        paths = paths[:limit]
    out.parent.mkdir(parents=True, exist_ok=True)
    partial = out.with_name(out.stem + ".partial.npz")
    names, records, skipped = _load_partial(partial)
    done = set(names) | set(skipped)
    todo = [str(p) for p in paths if p.name not in done]
    for count, (name, record) in enumerate(tqdm(_results(todo, workers), total=len(todo), desc=images.name), 1):
        if record is None:
            logger.warning("skipping unreadable image %s", name)
            skipped.append(name)
        else:
            names.append(name)
            records.append(record)
        if count % CHECKPOINT_EVERY == 0:
            _save(partial, names, records, skipped)
    wanted = {p.name for p in paths}
    order = sorted((i for i, n in enumerate(names) if n in wanted), key=lambda i: names[i])
    _save(out, [names[i] for i in order], [records[i] for i in order], sorted(n for n in skipped if n in wanted))
    partial.unlink(missing_ok=True)
    found = sum(bool(records[i]["found"]) for i in order)
    return {"images": len(order), "found": found, "skipped": len([n for n in skipped if n in wanted])}


def main(argv: list[str] | None = None) -> None:
    """CLI entry point."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--images", type=Path, required=True, help="folder of *.jpg images")
    parser.add_argument("--out", type=Path, required=True, help="output .npz")
    parser.add_argument("--limit", type=int, default=None, help="only the first N images (sorted)")
    parser.add_argument("--workers", type=int, default=2, help="processes (default 2)")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    start = time.perf_counter()
    counts = run_directory(args.images, args.out, args.limit, args.workers)
    logger.info(
        "%s: %d images, %d faces found, %d unreadable skipped, %.1f s -> %s",
        args.images, counts["images"], counts["found"], counts["skipped"], time.perf_counter() - start, args.out,
    )


if __name__ == "__main__":
    main()
