"""The ``denseface batch`` command: its arguments, progress, log and summary (the job: ``denseface.batch``).

    denseface batch photos/ 'clips/**/*.mp4' list.txt --out landmarks/ [--workers N]
    denseface batch photos/ --out landmarks/ --engine ray [--address HOST:PORT]

Progress on stderr: a tqdm bar on a terminal (files, frames/s, ETA), else a plain line every
``LOG_INTERVAL_S``. Inputs that could not be read are logged (stderr and ``DIR/_denseface_batch.log``)
as they come and listed in the summary table at the end (stdout). pyarrow (and tqdm) come with
``pip install 'denseface[batch]'``, Ray with ``'denseface[ray]'``; they are imported when the command runs.
"""
from __future__ import annotations

import argparse
import dataclasses
import logging
import os
import sys
import time
from pathlib import Path
from typing import Sequence, TextIO

from denseface.api import DenseFaceOptions, RunningMode
from denseface.cli_support import fail, load_denseface, one_line

LOG_INTERVAL_S = 10.0
LOG_NAME = "_denseface_batch.log"  # "_": readers of the folder's Parquet files skip it
log = logging.getLogger("denseface.batch")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The batch command's own arguments (the model options come from the CLI's common ones)."""
    parser.add_argument("inputs", nargs="+", metavar="INPUT",
                        help="folders (searched recursively), glob patterns (quote them) or .txt list files of "
                             "images and videos")
    parser.add_argument("--out", type=Path, required=True, metavar="DIR",
                        help="folder for the Parquet files, one per input (made if missing; a job run again "
                             "skips the inputs already written)")
    parser.add_argument("--workers", type=int, default=None,
                        help="worker processes (local) or actors (ray), one DenseFace each (default: this "
                             f"machine's cores, {os.cpu_count()}, or the Ray cluster's CPUs)")
    parser.add_argument("--engine", choices=("local", "ray"), default="local",
                        help="local: a process pool on this machine; ray: Ray Data, local or on a cluster "
                             "(pip install 'denseface[ray]') (default: %(default)s)")
    parser.add_argument("--address", default=None,
                        help="ray: the cluster to join, as for ray.init: HOST:PORT, or auto for the one this "
                             "machine belongs to (default: a new Ray on this machine)")
    extra = parser.add_argument_group("optional columns (slower: each is computed per face)")
    extra.add_argument("--visibility", action="store_true", help="per-point visibility, 520 values (~4 ms a face)")
    extra.add_argument("--blendshapes", action="store_true", help="MediaPipe's 52 blendshapes (~5 ms a face)")
    extra.add_argument("--transform", action="store_true", help="the 4x4 facial transformation matrix")
    parser.set_defaults(run=command_batch)


class Progress:
    """Files done and frames/s on ``stream``: tqdm on a terminal, plain lines elsewhere."""

    def __init__(self, total: int, stream: TextIO | None = None) -> None:
        self.total, self.files, self.resumed, self.frames = total, 0, 0, 0
        self.stream = sys.stderr if stream is None else stream
        self.start = self.last_line = time.perf_counter()
        self.bar = None
        if self.stream.isatty():
            from tqdm import tqdm
            self.bar = tqdm(total=total, unit="file", file=self.stream, dynamic_ncols=True)

    def update(self, frames: int, resumed: bool = False) -> None:
        """One more input done, with ``frames`` frames; ``resumed``: done by an earlier run (no time)."""
        self.files += 1
        self.resumed += resumed
        self.frames += frames
        rate = self.frames / max(time.perf_counter() - self.start, 1e-9)
        if self.bar is not None:
            self.bar.set_postfix_str(f"{self.frames} frames, {rate:.1f} frames/s", refresh=False)
            self.bar.update(1)
        elif time.perf_counter() - self.last_line >= LOG_INTERVAL_S or self.files == self.total:
            self._line(rate)

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()

    def _line(self, rate: float) -> None:
        elapsed = time.perf_counter() - self.start
        eta = elapsed / max(self.files - self.resumed, 1) * (self.total - self.files)
        self.stream.write(f"files {self.files}/{self.total}, {self.frames} frames, {rate:.1f} frames/s, "
                          f"ETA {eta:.0f} s\n")
        self.stream.flush()
        self.last_line = time.perf_counter()


def summary(results: Sequence, seconds: float, out_dir: Path) -> str:
    """The table printed at the end: inputs done / resumed / failed, frames, faces, speed; then each
    failed input with its reason and each note."""
    done = [r for r in results if r.error is None and not r.resumed]
    failed = [r for r in results if r.error is not None]
    frames, faces = sum(r.frames for r in done), sum(r.faces for r in done)
    rows = [("inputs", len(results)), ("landmarked now", len(done)),
            ("done before (resumed)", sum(r.resumed for r in results)), ("failed (skipped)", len(failed)),
            ("frames", frames), ("faces (rows)", faces), ("seconds", f"{seconds:.1f}"),
            ("frames/s", f"{frames / max(seconds, 1e-9):.1f}"), ("output", out_dir)]
    lines = ["denseface batch summary"] + [f"  {name:<22} {value}" for name, value in rows]
    if failed:
        lines.append("failed inputs (file: reason):")
        lines += [f"  {r.file}: {r.error}" for r in failed]
    lines += [f"note: {r.file}: {r.note}" for r in results if r.note]
    return "\n".join(lines)


def _log_to(out_dir: Path) -> list[logging.Handler]:
    """Log the job's warnings to stderr and to ``out_dir``'s log file; returns the handlers (for the
    caller to remove and close)."""
    log.setLevel(logging.INFO)
    file_handler = logging.FileHandler(out_dir / LOG_NAME)
    file_handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(message)s"))
    handlers = [logging.StreamHandler(), file_handler]  # stderr as it is now
    for handler in handlers:
        log.addHandler(handler)
    return handlers


def command_batch(args: argparse.Namespace) -> int:
    """Run ``denseface batch``; exit status 0 when every input was landmarked, 1 when some were
    skipped; raises SystemExit with a one-line message on bad input or an unwritable output."""
    if args.workers is not None and args.workers < 1:
        fail(f"--workers must be >= 1, got {args.workers}")
    options = dataclasses.replace(load_denseface(args, RunningMode.IMAGE).options,  # a bad model fails here
                                  output_blendshapes=args.blendshapes,
                                  output_facial_transformation_matrixes=args.transform)
    try:
        from denseface import batch
        from denseface.records import OutputError
    except ImportError as error:
        fail(f"batch needs {error.name}: pip install 'denseface[batch]'")
    try:
        inputs = batch.list_inputs(args.inputs)
        batch.prepare_output(args.out)
    except (ValueError, OutputError) as error:
        fail(str(error))
    handlers = _log_to(args.out)
    progress = Progress(len(inputs)) if args.engine == "local" else None  # Ray Data shows its own

    def report(result: batch.InputResult) -> None:
        if progress is not None:
            progress.update(result.frames, result.resumed)
        if result.error is not None:
            log.warning("skipped %s: %s", result.file, result.error)

    start = time.perf_counter()
    try:
        if args.engine == "ray":
            results = _run_ray(inputs, args, options)
            for result in results:
                report(result)
        else:
            results = batch.run_batch(inputs, args.out, options, args.workers or 0, report, args.visibility)
    except OutputError as error:
        fail(f"{error}; the files written so far are whole: free the space or fix the folder, then run the same "
             "command again to resume")
    except KeyboardInterrupt:
        raise SystemExit("denseface: interrupted" + ("" if args.engine == "ray" else "; the files written so far "
                         "are whole: run the same command again to resume")) from None
    finally:
        if progress is not None:
            progress.close()
        for handler in handlers:
            log.removeHandler(handler)
            handler.close()
    print(summary(results, time.perf_counter() - start, args.out))
    return 1 if any(r.error is not None for r in results) else 0


def _run_ray(inputs: Sequence[Path], args: argparse.Namespace, options: DenseFaceOptions) -> list:
    """``batch_ray.run_ray`` with its errors as one-line exits."""
    try:
        from denseface.batch_ray import run_ray
        return run_ray(inputs, args.out, options, args.workers, args.address, args.visibility)
    except (ImportError, ValueError, ConnectionError) as error:  # ConnectionError: ray.init(address=...)
        fail(one_line(error))
