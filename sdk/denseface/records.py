"""The batch job's output contract: one Parquet row per face, one file per input, written atomically.

Columns (``SCHEMA``; pandas, Arrow, Spark, DuckDB and Ray read them):

    file          string     the input as listed (a folder argument joined with the file's path in it)
    frame         int32      0-based frame index in a video; 0 for an image
    timestamp_ms  float64    a video frame's time (frame × 1000 / fps, as tracking saw it); null for an image
    face          int16      the face's index in its frame (by descending detector score, as returned)
    track_id      int32      ``Face.track_id`` in a video (the same face on consecutive frames); null for an image
    box           float32[4] x0, y0, x1, y1 frame pixels, the tight box of the 68 points (``Face.box``)
    score         float32    detector score in [0, 1] (``Face.score``)
    pose          float32[3] yaw, pitch, roll degrees (``Face.pose``, its signs)
    points        float32[520][3]  ``Face.points``: x right, y down in frame pixels, z relative depth in
                  the same scale, +z towards the camera; bit-identical to the SDK's float32 values

``box``, ``pose`` and ``points`` are fixed-size lists (``points`` a list of 520 lists of 3);
:func:`points_array` turns a table's points back into an (N, 520, 3) array without a copy per row.
Optional columns, after ``points``, in this order (``OPTIONAL``, :func:`schema`), when the job asks:

    visibility    float32[520]  ``Face.visibility`` (0 = the camera does not see the point; ~4 ms a face)
    blendshapes   float32[52]   ``Face.blendshapes`` in MediaPipe's order (the field's metadata "names")
    transform     float64[16]   ``Face.transform``, the 4×4 canonical face (cm) → camera matrix, row by row

A frame without faces has no row; an input without faces gives a file with no rows, so that a
resumed job knows it is done.

Files are named after their input (:func:`output_name`) and written to a hidden temporary file
beside the final one, then renamed (:class:`AtomicParquet`; a video's rows in parts as they come): a
reader or a resumed job sees a whole file or none. Readers of a folder skip names starting with "."
or "_" (pyarrow, Spark), so the temporary files and the job's log are never read as data.
"""
from __future__ import annotations

import contextlib
import errno
import hashlib
import os
from pathlib import Path
from typing import Iterable, Sequence

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from denseface.blendshapes import MEDIAPIPE_NAMES
from denseface.face import Face
from denseface.topology import N_POINTS

SCHEMA = pa.schema([
    ("file", pa.string()),
    ("frame", pa.int32()),
    ("timestamp_ms", pa.float64()),
    ("face", pa.int16()),
    ("track_id", pa.int32()),
    ("box", pa.list_(pa.float32(), 4)),
    ("score", pa.float32()),
    ("pose", pa.list_(pa.float32(), 3)),
    ("points", pa.list_(pa.list_(pa.float32(), 3), N_POINTS)),
])
OPTIONAL = {
    "visibility": pa.field("visibility", pa.list_(pa.float32(), N_POINTS)),
    "blendshapes": pa.field("blendshapes", pa.list_(pa.float32(), len(MEDIAPIPE_NAMES)),
                            metadata={"names": ",".join(MEDIAPIPE_NAMES)}),
    "transform": pa.field("transform", pa.list_(pa.float64(), 16)),
}
TEMPORARY_SUFFIX = ".tmp"


def schema(optional: Sequence[str] = ()) -> pa.Schema:
    """``SCHEMA`` and the ``optional`` columns (names of ``OPTIONAL``), in ``OPTIONAL``'s order."""
    unknown = set(optional) - set(OPTIONAL)
    if unknown:
        raise ValueError(f"unknown optional columns {sorted(unknown)}; expected some of {list(OPTIONAL)}")
    return pa.schema(list(SCHEMA) + [field for name, field in OPTIONAL.items() if name in optional])


def _optional_values(face: Face, name: str) -> np.ndarray:
    if name == "visibility":
        return np.asarray(face.visibility, np.float32)
    if name == "blendshapes":
        return np.array([face.blendshapes[n] for n in MEDIAPIPE_NAMES], np.float32)
    return np.asarray(face.transform, np.float64).reshape(16)


class OutputError(OSError):
    """An output file could not be written (disk full, permissions): the job must stop."""


def faces_table(file: str, frames: Iterable[tuple[int, float | None, Sequence[Face]]],
                optional: Sequence[str] = ()) -> pa.Table:
    """The rows of one input: ``frames`` yields (frame index, timestamp ms or None for an image,
    the faces of that frame); one row per face, in ``schema(optional)`` (the faces must carry the
    optional values asked for: blendshapes and transform when their DenseFace options are set)."""
    table_schema = schema(optional)
    extra: dict[str, list] = {name: [] for name in table_schema.names[len(SCHEMA):]}
    index, stamps, numbers, tracks, boxes, scores, poses, points = [], [], [], [], [], [], [], []
    for frame, timestamp_ms, faces in frames:
        for number, face in enumerate(faces):
            index.append(frame)
            stamps.append(timestamp_ms)
            numbers.append(number)
            tracks.append(face.track_id)
            boxes.append(face.box)
            scores.append(face.score)
            poses.append(face.pose)
            points.append(face.points)
            for name, values in extra.items():
                values.append(_optional_values(face, name))
    flat = np.asarray(points, np.float32).reshape(-1)  # the SDK's float32 values, unchanged
    columns = [
        pa.array([file] * len(index), pa.string()),
        pa.array(index, pa.int32()),
        pa.array(stamps, pa.float64()),
        pa.array(numbers, pa.int16()),
        pa.array(tracks, pa.int32()),
        pa.FixedSizeListArray.from_arrays(pa.array(np.asarray(boxes, np.float32).reshape(-1)), 4),
        pa.array(np.asarray(scores, np.float32)),
        pa.FixedSizeListArray.from_arrays(pa.array(np.asarray(poses, np.float32).reshape(-1)), 3),
        pa.FixedSizeListArray.from_arrays(pa.FixedSizeListArray.from_arrays(pa.array(flat), 3), N_POINTS),
    ]
    for name, values in extra.items():
        field = table_schema.field(name)
        flat_values = np.asarray(values, field.type.value_type.to_pandas_dtype()).reshape(-1)
        columns.append(pa.FixedSizeListArray.from_arrays(pa.array(flat_values), field.type.list_size))
    return pa.Table.from_arrays(columns, schema=table_schema)


def points_array(table: pa.Table) -> np.ndarray:
    """(N, 520, 3) float32 the ``points`` column of a table in ``SCHEMA`` (N rows)."""
    column = table.column("points").combine_chunks()
    return column.flatten().flatten().to_numpy(zero_copy_only=False).reshape(-1, N_POINTS, 3)


def output_name(path: Path) -> str:
    """The output file's name for input ``path``: its name and 10 hex digits of its absolute path's
    SHA-1 (inputs of the same name in different folders get different files; the same input always
    gets the same one, which is how a resumed job finds it done)."""
    digest = hashlib.sha1(str(Path(path).resolve()).encode()).hexdigest()[:10]
    return f"{Path(path).name}.{digest}.parquet"


class AtomicParquet:
    """A Parquet file (``file_schema``, default ``SCHEMA``) written in parts to a hidden temporary file
    beside ``path`` and renamed over ``path`` by :meth:`close`; :meth:`discard` (or an exception in
    a ``with`` block) removes it instead, leaving ``path`` as it was. Not flushed to disk (fsync
    cost 9 ms, 40 % of an image's time): after a crash of the machine a renamed file may be cut
    short, which :func:`is_whole` tells.

    Raises (any method):
        OutputError: the file could not be written; the message says why (disk full, permission).
    """

    def __init__(self, path: Path, file_schema: pa.Schema = SCHEMA) -> None:
        self.path = path
        self.temporary = path.with_name(f".{path.name}.{os.getpid()}{TEMPORARY_SUFFIX}")
        self.writer: pq.ParquetWriter | None = None
        self.writer = self._io(pq.ParquetWriter, self.temporary, file_schema)

    def write(self, table: pa.Table) -> None:
        """Append ``table``'s rows (one row group)."""
        self._io(self.writer.write_table, table)

    def close(self) -> None:
        """Finish the file and rename it into place."""
        self._io(self.writer.close)
        self._io(os.replace, self.temporary, self.path)

    def discard(self) -> None:
        """Remove the temporary file; ``path`` is left as it was."""
        if self.writer is not None and self.writer.is_open:
            with contextlib.suppress(OSError):  # a writer that failed may fail again: its file goes anyway
                self.writer.close()
        self.temporary.unlink(missing_ok=True)

    def __enter__(self) -> AtomicParquet:
        return self

    def __exit__(self, error_type, error, traceback) -> None:
        if error_type is None and self.writer.is_open:
            self.close()
        else:
            self.discard()

    def _io(self, call, *args):
        try:
            return call(*args)
        except OSError as error:
            self.discard()
            reason = "disk full" if error.errno in (errno.ENOSPC, errno.EDQUOT) else (error.strerror or str(error))
            raise OutputError(f"cannot write {self.path}: {reason}") from error


def write_atomically(table: pa.Table, path: Path) -> None:
    """Write ``table`` to ``path`` through :class:`AtomicParquet` (a whole file or none).

    Raises:
        OutputError: as :class:`AtomicParquet`.
    """
    with AtomicParquet(path, table.schema) as file:
        file.write(table)


def is_whole(path: Path, file_schema: pa.Schema = SCHEMA) -> bool:
    """Whether ``path`` is a whole Parquet file (its footer, written last, reads back) with the
    columns of ``file_schema`` (a file of a job with other optional columns is not)."""
    try:
        return pq.read_schema(path).equals(file_schema)
    except (OSError, ValueError):  # missing, cut short, or not Parquet (pyarrow's ArrowInvalid)
        return False


def remove_temporary_files(folder: Path) -> list[Path]:
    """Remove the temporary files an interrupted job left in ``folder`` (one job per folder);
    returns them."""
    stale = sorted(folder.glob(f".*.parquet.*{TEMPORARY_SUFFIX}"))
    for path in stale:
        path.unlink(missing_ok=True)
    return stale
