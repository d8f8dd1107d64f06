"""Batch landmarking: many images and videos → one Parquet file per input (``denseface.records``).

    from denseface import DenseFaceOptions
    from denseface.batch import list_inputs, run_batch
    results = run_batch(list_inputs(["photos/", "clips/*.mp4"]), Path("landmarks"), DenseFaceOptions(max_faces=4))

Images run in IMAGE mode, videos in VIDEO mode (tracking and smoothing; a new stream per video),
every face of every image or frame. The local engine is a process pool of ``workers`` processes,
each with its own :class:`Landmarker` (a pickled one: ``DenseFace`` pickles its options and loads
its interpreters again); ``denseface.batch_ray`` runs the same :class:`Landmarker` on Ray Data.

An input that cannot be read (not a decodable image, not a video, missing) is reported in its
:class:`InputResult` and skipped; the job goes on. A video that ends before the frame count its
header gave keeps the frames read, with a note. An output that cannot be written (disk full,
permissions) stops the job with :class:`~denseface.records.OutputError`: the files already written
are whole (``records.write_atomically``), and running the same job again skips them (resume).
"""
from __future__ import annotations

import dataclasses
import glob
import itertools
import math
import multiprocessing
import os
import time
from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Iterator, Sequence

import cv2
import pyarrow as pa

from denseface.api import DenseFace, DenseFaceOptions, RunningMode
from denseface.cli_support import one_line
from denseface.records import (AtomicParquet, OutputError, faces_table, is_whole, output_name, remove_temporary_files,
                               schema)

IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png", ".bmp", ".tif", ".tiff", ".webp", ".jp2", ".pgm", ".ppm", ".pnm")
VIDEO_SUFFIXES = (".mp4", ".m4v", ".mov", ".avi", ".mkv", ".webm", ".mpg", ".mpeg", ".wmv", ".flv")
LIST_SUFFIXES = (".txt", ".lst")
READ_ERRORS = (OSError, ValueError, TypeError, cv2.error)  # an input's own fault: reported, then skipped
CHUNK_FRAMES = 300  # a video's rows go to its file every this many frames (one Parquet row group, ~2 MB a face)


@dataclass(frozen=True)
class InputResult:
    """What became of one input.

    Attributes:
        file: the input as listed. frames: frames landmarked (1 for an image). faces: rows written.
        seconds: wall time of reading and landmarking it. error: why it was skipped (None = done).
        note: a remark on a done input (a video that ended early). resumed: done by an earlier run.
    """

    file: str
    frames: int = 0
    faces: int = 0
    seconds: float = 0.0
    error: str | None = None
    note: str | None = None
    resumed: bool = False


def is_video(path: Path) -> bool:
    """Whether ``path`` is read as a video (by its suffix, ``VIDEO_SUFFIXES``); otherwise an image."""
    return path.suffix.lower() in VIDEO_SUFFIXES


def list_inputs(arguments: Sequence[str | Path]) -> list[Path]:
    """The inputs named by ``arguments``, in order, each once: a folder gives its images and videos
    (recursively, by suffix, sorted), a glob pattern (``*``, ``?``, ``[``, ``**``) its matching
    files, a .txt / .lst file one path per line (relative to the list's folder; blank lines and
    lines starting with # skipped; listed files that are missing are reported when read), any
    other file itself.

    Raises:
        ValueError: an argument that names nothing, or a folder, pattern or list without an image
            or video (the message names it).
    """
    found: dict[Path, Path] = {}
    for argument in map(str, arguments):
        path = Path(argument)
        if path.is_dir():
            named = sorted(p for p in path.rglob("*") if p.suffix.lower() in IMAGE_SUFFIXES + VIDEO_SUFFIXES
                           and p.is_file())
            where = f"folder {argument}"
        elif path.is_file() and path.suffix.lower() in LIST_SUFFIXES:
            lines = (line.strip() for line in path.read_text().splitlines())
            named = [path.parent / line for line in lines if line and not line.startswith("#")]
            where = f"list file {argument}"
        elif path.is_file():
            named, where = [path], argument
        elif glob.has_magic(argument):
            named = [Path(p) for p in sorted(glob.glob(argument, recursive=True)) if Path(p).is_file()]
            where = f"pattern {argument!r}"
        else:
            raise ValueError(f"no such file or folder: {argument}")
        if not named:
            suffixes = " ".join(IMAGE_SUFFIXES + VIDEO_SUFFIXES)
            raise ValueError(f"{where} holds no images or videos (suffixes {suffixes})")
        for p in named:
            found.setdefault(p.resolve(), p)  # the same file named twice runs once
    return list(found.values())


class Landmarker:
    """Reads one input and hands its rows on: images with an IMAGE-mode :class:`DenseFace`, videos with
    a VIDEO-mode one (reset for each video). Pickles (its two DenseFace instances travel as options)."""

    def __init__(self, options: DenseFaceOptions, visibility: bool = False) -> None:
        """options: as for DenseFace; ``color_order`` and ``running_mode`` are set here (OpenCV decodes
        BGR; the mode follows the input). The rows' optional columns (``records.OPTIONAL``):
        visibility when ``visibility``, blendshapes and transform when their options are set."""
        bgr = dataclasses.replace(options, color_order="bgr")
        self.image = DenseFace(bgr, running_mode=RunningMode.IMAGE)
        self.video = DenseFace(bgr, running_mode=RunningMode.VIDEO)
        asked = {"visibility": visibility, "blendshapes": options.output_blendshapes,
                 "transform": options.output_facial_transformation_matrixes}
        self.optional = tuple(name for name, wanted in asked.items() if wanted)
        self.schema = schema(self.optional)

    def __call__(self, path: Path, write: Callable[[pa.Table], None]) -> tuple[int, int, str | None]:
        """Landmark the input at ``path``, passing its rows (``self.schema``) to ``write``: an
        image's at once, a video's every ``CHUNK_FRAMES`` frames (its memory stays bounded) and at
        its end. Returns (frames read, rows, a note or None).

        Raises:
            FileNotFoundError: no such file. ValueError: not an image or a video OpenCV decodes, or
                a frame the SDK refuses. (Rows already passed on belong to an input that failed.)
        """
        if not path.is_file():
            raise FileNotFoundError(f"no such file: {path}")
        return self._video(path, write) if is_video(path) else self._image(path, write)

    def _image(self, path: Path, write: Callable[[pa.Table], None]) -> tuple[int, int, str | None]:
        bgr = cv2.imread(str(path), cv2.IMREAD_COLOR)
        if bgr is None:
            raise ValueError(f"cannot read an image from {path}: not a format OpenCV decodes")
        rows = faces_table(str(path), [(0, None, self.image.landmarks(bgr))], self.optional)
        write(rows)
        return 1, rows.num_rows, None

    def _video(self, path: Path, write: Callable[[pa.Table], None]) -> tuple[int, int, str | None]:
        capture = cv2.VideoCapture(str(path))
        try:
            if not capture.isOpened():
                raise ValueError(f"cannot read a video from {path}")
            fps = capture.get(cv2.CAP_PROP_FPS)
            fps = fps if math.isfinite(fps) and fps > 0 else 30.0  # the CLI's fallback for a header without it
            expected = int(capture.get(cv2.CAP_PROP_FRAME_COUNT) or 0)
            self.video.reset()
            frames, rows, chunk = 0, 0, []
            ok, bgr = capture.read()
            while ok:
                timestamp_ms = frames * 1000.0 / fps
                chunk.append((frames, timestamp_ms, self.video.landmarks_for_video(bgr, timestamp_ms)))
                frames += 1
                ok, bgr = capture.read()
                if len(chunk) == CHUNK_FRAMES or not ok:
                    table = faces_table(str(path), chunk, self.optional)
                    write(table)
                    rows, chunk = rows + table.num_rows, []
        finally:
            capture.release()
        if not frames:
            raise ValueError(f"cannot read a frame of the video {path}")
        return frames, rows, f"ended at frame {frames} of {expected}" if frames < expected else None


def landmark_input(landmarker: Landmarker, path: Path, write: Callable[[pa.Table], None]) -> InputResult:
    """Landmark one input, its rows to ``write``; an input that cannot be read gives a result with
    ``error`` (the rows written before the failure are the caller's to drop).

    Raises:
        OutputError: from ``write`` (the job must stop).
    """
    start = time.perf_counter()
    try:
        frames, rows, note = landmarker(path, write)
    except OutputError:
        raise
    except READ_ERRORS as error:
        return InputResult(str(path), seconds=time.perf_counter() - start, error=one_line(error))
    return InputResult(str(path), frames, rows, time.perf_counter() - start, note=note)


def landmark_to_file(landmarker: Landmarker, path: Path, out_path: Path) -> InputResult:
    """Landmark one input into the Parquet file ``out_path`` (``records.AtomicParquet``: a whole
    file, or none when the input cannot be read: its result says why).

    Raises:
        OutputError: the rows could not be written (the job must stop).
    """
    with AtomicParquet(out_path, landmarker.schema) as file:
        result = landmark_input(landmarker, path, file.write)
        if result.error is not None:
            file.discard()
    return result


def prepare_output(out_dir: Path) -> None:
    """Create ``out_dir`` (with its parents) and check that files can be made in it; remove the
    temporary files of an interrupted job.

    Raises:
        OutputError: it is a file, cannot be created, or is not writable.
    """
    if out_dir.exists() and not out_dir.is_dir():
        raise OutputError(f"cannot write to {out_dir}: it is a file, not a folder")
    try:
        out_dir.mkdir(parents=True, exist_ok=True)
        probe = out_dir / f".denseface-probe-{os.getpid()}"
        probe.touch()
        probe.unlink()
    except OSError as error:
        raise OutputError(f"cannot write to {out_dir}: {error.strerror or error}") from None
    remove_temporary_files(out_dir)


_WORKER: Landmarker | None = None  # each pool process's own Landmarker (set by its initializer)


def _start_worker(landmarker: Landmarker) -> None:
    global _WORKER
    _WORKER = landmarker


def _run_in_worker(path: Path, out_path: Path) -> InputResult:
    return landmark_to_file(_WORKER, path, out_path)


def run_local(inputs: Sequence[Path], out_dir: Path, landmarker: Landmarker, workers: int) -> Iterator[InputResult]:
    """The results of ``inputs``, in the order they finish: in this process when ``workers`` is 1,
    else in a pool of ``workers`` processes (spawned: no interpreter or thread state is forked),
    each with its own copy of ``landmarker``. On an error (``OutputError``, an interrupt) the inputs
    not started are cancelled and those running finish their (atomic) files."""
    if workers == 1:
        for path in inputs:
            yield landmark_to_file(landmarker, path, out_dir / output_name(path))
        return
    pool = ProcessPoolExecutor(workers, multiprocessing.get_context("spawn"), _start_worker, (landmarker,))
    try:
        # one future per input: a worker takes the next one when it is free (long videos, short images)
        pending = {pool.submit(_run_in_worker, path, out_dir / output_name(path)) for path in inputs}
        while pending:
            done, pending = wait(pending, return_when=FIRST_COMPLETED)
            for future in done:
                yield future.result()
    finally:
        pool.shutdown(wait=True, cancel_futures=True)


def run_batch(inputs: Sequence[Path], out_dir: Path, options: DenseFaceOptions, workers: int = 0,
              on_result: Callable[[InputResult], None] | None = None, visibility: bool = False) -> list[InputResult]:
    """Landmark ``inputs`` (e.g. from :func:`list_inputs`) into ``out_dir`` with the local engine: one
    Parquet file per input (``records.output_name``); inputs whose file is whole, with the same
    columns, are skipped (``resumed``). ``visibility``: add that column (see :class:`Landmarker`).
    ``workers``: processes, 0 = the machine's cores. ``on_result`` is called with each result as it
    comes (progress). Returns one :class:`InputResult` per input.

    Raises:
        OutputError: ``out_dir`` is not writable, or a file could not be written (files already
            written are whole; run again to resume).
        ValueError: ``workers`` < 0.
    """
    if workers < 0:
        raise ValueError(f"workers must be >= 0 (0 = one per core), got {workers}")
    prepare_output(out_dir)
    landmarker = Landmarker(options, visibility)  # here first: a bad model fails before any worker starts
    done = {p for p in inputs if is_whole(out_dir / output_name(p), landmarker.schema)}
    todo = [p for p in inputs if p not in done]
    workers = min(workers or os.cpu_count() or 1, max(len(todo), 1))
    resumed = (InputResult(str(p), resumed=True) for p in inputs if p in done)
    results = []
    for result in itertools.chain(resumed, run_local(todo, out_dir, landmarker, workers)):
        results.append(result)
        if on_result is not None:
            on_result(result)
    return results
