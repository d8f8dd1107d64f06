"""The batch job on Ray Data (``denseface batch ... --engine ray``; ``pip install 'denseface[ray]'``).

    read the input paths (``ray.data.from_items``) → ``map_batches`` with an actor pool of
    ``workers`` :class:`~denseface.batch.Landmarker` actors (one CPU each) → ``write_parquet``

Locally (no address) a new Ray starts on this machine; with ``address`` the job joins a running
cluster (as ``ray.init(address=...)``: "auto" for the one this machine belongs to), whose nodes need
``denseface`` installed and the inputs and the output folder at the same paths (a shared file
system). The rows are the local engine's (``records.SCHEMA``, bit for bit: the same
:class:`~denseface.batch.Landmarker` makes them); Ray names the files (several inputs per file), so
a Ray job does not resume: run an interrupted one again into a new folder, or use the local engine.

Each input also yields one status row (frames, error, note) beside its face rows (an actor holds
one input's rows until the input ends: ~6 kB a face, 0.7 GB for an hour of 30 fps video); the rows
are materialised in Ray's object store (spilled to disk when they outgrow it), the face rows written
and the status rows returned as :class:`~denseface.batch.InputResult`, so that unreadable inputs are
reported as with the local engine.
"""
from __future__ import annotations

from pathlib import Path
from typing import Iterator, Sequence

import pyarrow as pa
import pyarrow.compute as pc

from denseface.api import DenseFaceOptions
from denseface.batch import InputResult, Landmarker, is_video, landmark_input

STATUS = pa.schema([("status_frames", pa.int32()), ("status_faces", pa.int32()), ("status_seconds", pa.float64()),
                    ("status_error", pa.string()), ("status_note", pa.string())])
"""Columns of an input's status row (its ``file`` set, the face columns null); null on face rows."""
IMAGES_PER_BATCH = 16  # per actor call: Ray's per-batch cost spread (local: 17 against 12 images/s for 1)
ROWS_PER_FILE = 5000  # ~30 MB Parquet files, however many batches they come from


class RayLandmarker:
    """An actor of the pool: a :class:`~denseface.batch.Landmarker` for the inputs of each batch."""

    def __init__(self, options: DenseFaceOptions, visibility: bool) -> None:
        self.landmarker = Landmarker(options, visibility)

    def __call__(self, batch: pa.Table) -> Iterator[pa.Table]:
        """A batch of input paths (column "path") → their face rows, then one status row each."""
        schema = pa.unify_schemas([self.landmarker.schema, STATUS])
        for path in batch.column("path").to_pylist():
            parts: list[pa.Table] = []
            result = landmark_input(self.landmarker, Path(path), parts.append)
            for faces in parts if result.error is None else []:
                yield pa.Table.from_arrays(faces.columns + [pa.nulls(faces.num_rows, f.type) for f in STATUS],
                                           schema=schema)
            status = {"file": result.file, "status_frames": result.frames, "status_faces": result.faces,
                      "status_seconds": result.seconds, "status_error": result.error, "status_note": result.note}
            yield pa.Table.from_pylist([status], schema=schema)


def _face_rows(batch: pa.Table) -> pa.Table:
    return batch.filter(pc.field("status_seconds").is_null()).drop_columns(STATUS.names)


def _status_rows(batch: pa.Table) -> pa.Table:
    return batch.filter(pc.field("status_seconds").is_valid()).select(["file"] + STATUS.names)


def run_ray(inputs: Sequence[Path], out_dir: Path, options: DenseFaceOptions, workers: int | None = None,
            address: str | None = None, visibility: bool = False) -> list[InputResult]:
    """Landmark ``inputs`` on Ray Data into Parquet files in ``out_dir``; returns one
    :class:`~denseface.batch.InputResult` per input. Uses the running Ray when this process has
    one (``ray.init`` before), else starts or joins one (``address``).

    Args:
        workers: actors in the pool (one CPU each); None = the cluster's CPUs.
        visibility: add that column (``batch.Landmarker``).

    Raises:
        ImportError: Ray is not installed (``pip install 'denseface[ray]'``).
        ValueError: ``out_dir`` already holds Parquet files (a Ray job writes a new data set).
    """
    try:
        import ray
    except ImportError as error:
        raise ImportError("the ray engine needs Ray: pip install 'denseface[ray]'") from error
    if any(out_dir.glob("*.parquet")):
        raise ValueError(f"{out_dir} already holds Parquet files; the ray engine writes a new data set "
                         "(its own file names, no resume): give an empty or new folder")
    if not ray.is_initialized():
        # "local": a new Ray on this machine even where one already runs ("auto" joins that one)
        ray.init(address=address or "local", include_dashboard=False, log_to_driver=False)
    workers = workers or max(int(ray.cluster_resources().get("CPU", 1)), 1)
    paths = ray.data.from_items([{"path": str(path)} for path in inputs])
    batch_size = 1 if any(map(is_video, inputs)) else IMAGES_PER_BATCH  # a video is a long task: one at a time
    rows = paths.map_batches(RayLandmarker, fn_constructor_args=(options, visibility), batch_size=batch_size,
                             batch_format="pyarrow", compute=ray.data.ActorPoolStrategy(size=workers),
                             num_cpus=1).materialize()
    rows.map_batches(_face_rows, batch_format="pyarrow").write_parquet(str(out_dir), min_rows_per_file=ROWS_PER_FILE)
    statuses = rows.map_batches(_status_rows, batch_format="pyarrow").take_all()
    return [InputResult(s["file"], s["status_frames"], s["status_faces"], s["status_seconds"], s["status_error"],
                        s["status_note"]) for s in statuses]
