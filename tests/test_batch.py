"""Batch landmarking with the local engine (denseface.batch, denseface.records, `denseface batch`):
inputs, the rows against direct SDK calls, worker processes, resume, unreadable inputs, failed
writes. Inputs: tests/batch_inputs.py (the bundled model on scikit-image's astronaut)."""
from __future__ import annotations

import dataclasses
import errno
import io
import shutil
import subprocess
from pathlib import Path

import cv2
import numpy as np
import pyarrow.dataset as pads
import pyarrow.parquet as pq
import pytest

from denseface import DenseFace, DenseFaceOptions, RunningMode, batch, batch_cli, records
from denseface.batch import list_inputs, run_batch
from denseface.blendshapes import MEDIAPIPE_NAMES
from denseface.batch_cli import LOG_NAME, Progress
from denseface.cli import main
from denseface.records import SCHEMA, OutputError, output_name, points_array, write_atomically

from batch_inputs import VIDEO_FPS, VIDEO_FRAMES, make_inputs

OPTIONS = DenseFaceOptions(max_faces=2)
SORT = [("file", "ascending"), ("frame", "ascending"), ("face", "ascending")]


@pytest.fixture(scope="module")
def inputs(tmp_path_factory) -> dict[str, Path]:
    return make_inputs(tmp_path_factory.mktemp("inputs"))


@pytest.fixture(scope="module")
def one_worker(inputs, tmp_path_factory) -> tuple[Path, list]:
    """The whole folder landmarked in this process: (output folder, results)."""
    out = tmp_path_factory.mktemp("one_worker")
    return out, run_batch(list_inputs([inputs["face"].parent]), out, OPTIONS, workers=1)


def read_rows(out: Path, path: Path):
    return pq.read_table(out / output_name(path))


def decoded_frames(path: Path) -> list[np.ndarray]:
    capture = cv2.VideoCapture(str(path))
    frames = []
    ok, frame = capture.read()
    while ok:
        frames.append(frame)
        ok, frame = capture.read()
    capture.release()
    return frames


def test_list_inputs_walks_folders_patterns_and_list_files(inputs, tmp_path):
    folder = inputs["face"].parent
    listed = list_inputs([folder])
    assert {p.name for p in listed} == {"face.jpg", "mirrored.png", "grey.png", "broken.jpg", "clip.avi",
                                        "short.avi", "cut.mp4"}  # the sub-folder too
    assert list_inputs([str(folder / "*.avi")]) == [inputs["video"], inputs["short"]]
    assert list_inputs([str(folder / "**" / "*.png")]) == [inputs["empty"], inputs["mirrored"]]
    listing = tmp_path / "list.txt"
    listing.write_text(f"# photos\n{inputs['face']}\n\n{inputs['face']}\nmissing.jpg\n")
    assert list_inputs([listing, inputs["face"]]) == [inputs["face"], tmp_path / "missing.jpg"]  # each once


def test_list_inputs_names_what_holds_nothing(tmp_path):
    (tmp_path / "empty").mkdir()
    (tmp_path / "notes.md").write_text("no pictures")
    with pytest.raises(ValueError, match="folder .*empty holds no images or videos"):
        list_inputs([tmp_path / "empty"])
    with pytest.raises(ValueError, match="pattern .* holds no images"):
        list_inputs([str(tmp_path / "*.jpg")])
    with pytest.raises(ValueError, match="no such file or folder"):
        list_inputs([tmp_path / "nowhere"])
    (tmp_path / "list.txt").write_text("# nothing\n")
    with pytest.raises(ValueError, match="list file .* holds no images"):
        list_inputs([tmp_path / "list.txt"])


def test_each_image_gets_a_file_with_the_sdk_points(inputs, one_worker):
    out, _ = one_worker
    image = DenseFace(OPTIONS, color_order="bgr")
    for role in ("face", "mirrored"):
        rows = read_rows(out, inputs[role])
        assert rows.schema == SCHEMA and rows.num_rows == 1
        face = image.landmarks(cv2.imread(str(inputs[role])))[0]
        np.testing.assert_array_equal(points_array(rows)[0], face.points)
        assert rows.column("file")[0].as_py() == str(inputs[role])
        assert rows.column("frame")[0].as_py() == 0 and rows.column("timestamp_ms")[0].as_py() is None
        assert rows.column("track_id")[0].as_py() is None
        assert rows.column("box")[0].as_py() == list(np.float32(face.box))
        np.testing.assert_allclose(rows.column("pose")[0].as_py(), face.pose, atol=1e-4)
        assert rows.column("score")[0].as_py() == np.float32(face.score)
    assert read_rows(out, inputs["empty"]).num_rows == 0  # a file without rows: done, no face


def test_a_video_runs_in_video_mode_frame_by_frame(inputs, one_worker):
    out, results = one_worker
    rows = read_rows(out, inputs["video"])
    video = DenseFace(OPTIONS, color_order="bgr", running_mode=RunningMode.VIDEO)
    expected = [video.landmarks_for_video(frame, k * 1000.0 / VIDEO_FPS)
                for k, frame in enumerate(decoded_frames(inputs["video"]))]
    assert [len(faces) for faces in expected] == [1] * VIDEO_FRAMES
    assert rows.column("frame").to_pylist() == list(range(VIDEO_FRAMES))
    assert rows.column("timestamp_ms").to_pylist() == [40.0 * k for k in range(VIDEO_FRAMES)]
    np.testing.assert_array_equal(points_array(rows), np.stack([faces[0].points for faces in expected]))
    assert rows.column("track_id").to_pylist() == [faces[0].track_id for faces in expected] == [0] * VIDEO_FRAMES
    result = next(r for r in results if r.file == str(inputs["video"]))
    assert (result.frames, result.faces, result.error, result.note) == (VIDEO_FRAMES, VIDEO_FRAMES, None, None)


def test_a_long_video_is_written_in_parts(inputs, one_worker, tmp_path, monkeypatch):
    """Every CHUNK_FRAMES frames a row group goes to the file: the same rows, bounded memory."""
    monkeypatch.setattr(batch, "CHUNK_FRAMES", 4)
    run_batch([inputs["video"]], tmp_path, OPTIONS, workers=1)
    out, _ = one_worker
    parts = pq.ParquetFile(tmp_path / output_name(inputs["video"]))
    assert [parts.metadata.row_group(k).num_rows for k in range(parts.num_row_groups)] == [4, VIDEO_FRAMES - 4]
    assert parts.read().equals(read_rows(out, inputs["video"]))


def test_optional_columns_hold_the_sdks_values_and_a_job_with_other_columns_redoes_the_files(inputs, tmp_path):
    options = dataclasses.replace(OPTIONS, output_blendshapes=True, output_facial_transformation_matrixes=True)
    listed = [inputs["face"], inputs["video"]]
    run_batch(listed, tmp_path, options, workers=1, visibility=True)
    rows = read_rows(tmp_path, inputs["face"])
    assert rows.schema == records.schema(["visibility", "blendshapes", "transform"])
    assert rows.schema.field("blendshapes").metadata[b"names"].decode().split(",") == list(MEDIAPIPE_NAMES)
    face = DenseFace(options, color_order="bgr").landmarks(cv2.imread(str(inputs["face"])))[0]
    np.testing.assert_array_equal(rows.column("visibility")[0].as_py(), face.visibility)
    np.testing.assert_array_equal(rows.column("blendshapes")[0].as_py(),
                                  np.float32([face.blendshapes[name] for name in MEDIAPIPE_NAMES]))
    np.testing.assert_array_equal(np.reshape(rows.column("transform")[0].as_py(), (4, 4)), face.transform)
    assert read_rows(tmp_path, inputs["video"]).num_rows == VIDEO_FRAMES
    again = run_batch(listed, tmp_path, OPTIONS, workers=1)  # without them: the files are not this job's
    assert not any(r.resumed for r in again) and read_rows(tmp_path, inputs["face"]).schema == SCHEMA


def test_unreadable_inputs_are_reported_and_skipped(inputs, one_worker):
    out, results = one_worker
    by_file = {r.file: r for r in results}
    assert "not a format OpenCV decodes" in by_file[str(inputs["broken"])].error
    assert "cannot read a video" in by_file[str(inputs["bad_video"])].error
    assert not (out / output_name(inputs["broken"])).exists() and not (out / output_name(inputs["bad_video"])).exists()
    short = by_file[str(inputs["short"])]
    read = len(decoded_frames(inputs["short"]))
    assert 0 < read < VIDEO_FRAMES and short.error is None  # the frames read are kept
    assert short.note == f"ended at frame {read} of {VIDEO_FRAMES}" and read_rows(out, inputs["short"]).num_rows == read
    assert sum(r.error is None for r in results) == 5 and len(results) == 7


def test_two_worker_processes_write_the_same_bytes(inputs, one_worker, tmp_path):
    out, _ = one_worker
    results = run_batch(list_inputs([inputs["face"].parent]), tmp_path, OPTIONS, workers=2)
    assert sum(r.error is None for r in results) == 5 and len(results) == 7
    written = sorted(p.name for p in tmp_path.glob("*.parquet"))
    assert written == sorted(p.name for p in out.glob("*.parquet")) and len(written) == 5
    for name in written:
        assert (tmp_path / name).read_bytes() == (out / name).read_bytes(), name


def test_a_job_run_again_resumes_where_it_stopped(inputs, one_worker, tmp_path):
    out, _ = one_worker
    for path in out.glob("*.parquet"):
        shutil.copy(path, tmp_path)
    (tmp_path / output_name(inputs["video"])).unlink()  # as if the job had stopped before the video
    stale = tmp_path / f".{output_name(inputs['video'])}.4242.tmp"
    stale.write_bytes(b"PAR1 half a file")  # a killed job's temporary file
    cut = tmp_path / output_name(inputs["face"])
    cut.write_bytes(cut.read_bytes()[:-100])  # renamed, but cut short by a crash of the machine
    results = run_batch(list_inputs([inputs["face"].parent]), tmp_path, OPTIONS, workers=1)
    resumed = sorted(r.file for r in results if r.resumed)
    assert resumed == sorted(str(inputs[k]) for k in ("mirrored", "empty", "short"))
    landmarked = [r.file for r in results if not r.resumed and r.error is None]
    assert sorted(landmarked) == sorted([str(inputs["video"]), str(inputs["face"])]) and not stale.exists()
    for path in (inputs["video"], inputs["face"]):
        assert (tmp_path / output_name(path)).read_bytes() == (out / output_name(path)).read_bytes()


def test_a_failed_write_stops_the_job_and_keeps_the_whole_files(inputs, one_worker, tmp_path, monkeypatch):
    write_table = pq.ParquetWriter.write_table
    calls = []

    def fill_the_disk(writer, table, **kwargs):
        calls.append(table)
        if len(calls) == 2:
            write_table(writer, table.slice(0, 0))  # some bytes reach the file before the disk is full
            raise OSError(errno.ENOSPC, "No space left on device")
        return write_table(writer, table, **kwargs)

    monkeypatch.setattr(records.pq.ParquetWriter, "write_table", fill_the_disk)
    listed = list_inputs([inputs["face"], inputs["mirrored"], inputs["video"]])
    with pytest.raises(OutputError, match=f"cannot write .*{output_name(inputs['mirrored'])}: disk full"):
        run_batch(listed, tmp_path, OPTIONS, workers=1)
    assert [p.name for p in tmp_path.iterdir()] == [output_name(inputs["face"])]  # no half file, no temporary
    monkeypatch.undo()
    results = run_batch(listed, tmp_path, OPTIONS, workers=1)
    assert [r.resumed for r in results] == [True, False, False]
    out, _ = one_worker
    for path in listed:
        assert (tmp_path / output_name(path)).read_bytes() == (out / output_name(path)).read_bytes()


@pytest.fixture
def small_disk(tmp_path):
    """A 256 KiB tmpfs (needs root and a mount-capable host; skipped elsewhere)."""
    disk = tmp_path / "disk"
    disk.mkdir()
    mount = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=256k", "tmpfs", str(disk)], capture_output=True)
    if mount.returncode != 0:
        pytest.skip(f"cannot mount a small tmpfs here: {mount.stderr.decode().strip() or mount.returncode}")
    try:
        yield disk
    finally:
        subprocess.run(["umount", str(disk)], check=True)


def test_a_full_disk_stops_the_worker_pool_and_the_job_resumes(inputs, one_worker, small_disk):
    """A real ENOSPC from the file system, in a worker process: the job stops with "disk full", the
    files written are whole, no temporary file is left; with space again the job finishes."""
    filler = small_disk / "filler"
    filler.write_bytes(bytes(200_000))
    out = small_disk / "out"
    first = [inputs["face"], inputs["mirrored"], inputs["empty"]]  # 14 KB: they fit, the video does not
    run_batch(first, out, OPTIONS, workers=1)
    listed = list_inputs([inputs["face"].parent])
    with pytest.raises(OutputError, match="disk full"):
        run_batch(listed, out, OPTIONS, workers=2)
    written = [p.name for p in out.iterdir()]
    assert {output_name(p) for p in first} <= set(written)
    assert all(name.endswith(".parquet") for name in written)  # no temporary file
    reference, _ = one_worker
    for name in written:  # whole: the files of before and any finished since
        assert (out / name).read_bytes() == (reference / name).read_bytes()
    filler.unlink()
    results = run_batch(listed, out, OPTIONS, workers=1)
    assert sum(r.resumed for r in results) == len(written) and sum(r.error is None for r in results) == 5
    assert sorted(p.name for p in out.iterdir()) == sorted(p.name for p in reference.glob("*.parquet"))


def test_write_atomically_replaces_a_file_whole(tmp_path):
    path = tmp_path / "rows.parquet"
    write_atomically(SCHEMA.empty_table(), path)
    assert pq.read_table(path).num_rows == 0 and [p.name for p in tmp_path.iterdir()] == ["rows.parquet"]
    with pytest.raises(OutputError, match="cannot write"):
        write_atomically(SCHEMA.empty_table(), tmp_path / "missing" / "rows.parquet")


def test_an_output_that_cannot_be_a_folder_is_refused_before_any_work(inputs, tmp_path):
    afile = tmp_path / "file"
    afile.write_text("x")
    with pytest.raises(OutputError, match="it is a file"):
        run_batch([inputs["face"]], afile, OPTIONS)
    with pytest.raises(OutputError, match="cannot write to .*file/sub"):
        run_batch([inputs["face"]], afile / "sub", OPTIONS)


def test_cli_batch_summary_log_and_exit_status(inputs, one_worker, tmp_path, capsys):
    out = tmp_path / "new" / "out"
    status = main(["batch", str(inputs["face"].parent), "--out", str(out), "--workers", "1", "--max-faces", "2"])
    assert status == 1  # some inputs were skipped
    captured = capsys.readouterr()
    assert "landmarked now         5" in captured.out and "failed (skipped)       2" in captured.out
    assert f"{inputs['broken']}: cannot read an image" in captured.out
    assert f"note: {inputs['short']}: ended at frame" in captured.out
    assert "files 7/7" in captured.err and "\r" not in captured.err  # not a terminal: whole lines
    log = (out / LOG_NAME).read_text()
    assert f"skipped {inputs['broken']}" in log and f"skipped {inputs['bad_video']}" in log
    reference, _ = one_worker
    for path in reference.glob("*.parquet"):
        assert (out / path.name).read_bytes() == path.read_bytes()
    rows = pads.dataset(out).to_table().sort_by(SORT)  # a reader of the folder skips the log
    assert rows.num_rows == 2 + VIDEO_FRAMES + read_rows(out, inputs["short"]).num_rows


def test_cli_batch_errors_are_one_line(tmp_path):
    (tmp_path / "empty").mkdir()
    with pytest.raises(SystemExit, match="error: folder .*empty holds no images or videos"):
        main(["batch", str(tmp_path / "empty"), "--out", str(tmp_path / "out")])
    picture = tmp_path / "a.png"
    cv2.imwrite(str(picture), np.zeros((8, 8, 3), np.uint8))
    (tmp_path / "taken").write_text("x")
    with pytest.raises(SystemExit, match="error: cannot write to .*taken: it is a file"):
        main(["batch", str(picture), "--out", str(tmp_path / "taken")])
    with pytest.raises(SystemExit, match="--workers must be >= 1"):
        main(["batch", str(picture), "--out", str(tmp_path / "out"), "--workers", "0"])


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_progress_is_a_bar_on_a_terminal_and_lines_elsewhere():
    terminal, log = _Terminal(), io.StringIO()
    for stream in (terminal, log):
        progress = Progress(3, stream)
        for frames in (1, 25, 1):
            progress.update(frames)
        progress.close()
    assert "3/3" in terminal.getvalue() and "27 frames" in terminal.getvalue() and "\r" in terminal.getvalue()
    assert log.getvalue().startswith("files 3/3, 27 frames, ") and "\r" not in log.getvalue()
    assert log.getvalue().count("\n") == 1  # within LOG_INTERVAL_S: only the last line


def test_progress_eta_counts_only_the_inputs_landmarked_now(monkeypatch):
    """Two inputs done by an earlier run, one landmarked in 10 s: one left takes ~10 s more."""
    clock = [0.0]
    monkeypatch.setattr(batch_cli.time, "perf_counter", lambda: clock[0])
    log = io.StringIO()
    progress = Progress(4, log)
    progress.update(0, resumed=True)
    progress.update(0, resumed=True)
    clock[0] = batch_cli.LOG_INTERVAL_S
    progress.update(1)
    assert log.getvalue() == "files 3/4, 1 frames, 0.1 frames/s, ETA 10 s\n"
