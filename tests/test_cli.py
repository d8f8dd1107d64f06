"""The denseface command line: image (PNG + JSON), video, demo, errors; `python -m denseface`."""
from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

import cv2
import numpy as np
import pytest

from denseface import __version__
from denseface.cli import main
from train.data import AFLW2000

from synthetic_model import synthetic_models

REPO = Path(__file__).resolve().parents[1]
IMAGE = AFLW2000 / "images" / "image00002.jpg"
REAL_MODEL = REPO / "sdk" / "denseface" / "models" / "denseface_int8.tflite"
ENV = dict(os.environ, PYTHONPATH=os.pathsep.join([str(REPO / "sdk"), os.environ.get("PYTHONPATH", "")]))


def run_cli(*args: str) -> subprocess.CompletedProcess:
    """``python -m denseface ARGS`` in a subprocess (stderr is a pipe, not a terminal)."""
    return subprocess.run([sys.executable, "-m", "denseface", *args], capture_output=True, text=True, env=ENV,
                          timeout=120)


@pytest.fixture
def small_png(tmp_path) -> Path:
    path = tmp_path / "in.png"
    cv2.imwrite(str(path), np.full((64, 64, 3), 128, np.uint8))
    return path


@pytest.fixture(scope="module")
def model() -> str:
    try:
        return str(synthetic_models(Path(tempfile.gettempdir()))["int8"])
    except RuntimeError as error:
        pytest.skip(f"synthetic model needs TensorFlow to build: {error}")


def _check_outputs(png: Path, json_path: Path, shape: tuple[int, int]) -> dict:
    drawn = cv2.imread(str(png))
    assert drawn is not None and drawn.shape[:2] == shape
    result = json.loads(json_path.read_text())
    assert (result["height"], result["width"]) == shape
    assert len(result["faces"]) == 1
    face = result["faces"][0]
    assert np.asarray(face["points"]).shape == (520, 3) and np.asarray(face["points68"]).shape == (68, 3)
    assert 0.5 <= face["score"] <= 1.0 and set(face["pose"]) == {"yaw", "pitch", "roll"}
    x0, y0, x1, y1 = face["box"]
    assert 0 <= x0 < x1 <= shape[1] and 0 <= y0 < y1 <= shape[0]
    return face


@pytest.mark.usefixtures("shared_data")  # reads IMAGE
def test_image_writes_png_and_json(model, tmp_path, capsys):
    png, js = tmp_path / "out.png", tmp_path / "out.json"
    assert main(["image", str(IMAGE), "-o", str(png), "--json", str(js), "--model", model]) == 0
    _check_outputs(png, js, (450, 450))
    captured = capsys.readouterr()
    assert "1 face(s)" in captured.out and all(stage in captured.err for stage in ("detect", "crop", "infer", "decode"))


@pytest.mark.skipif(not REAL_MODEL.is_file(), reason="model not bundled yet")
@pytest.mark.usefixtures("shared_data")  # reads IMAGE
@pytest.mark.parametrize("bundled", [[], ["--model", "lite"]], ids=["full", "lite"])
def test_image_with_the_bundled_model(bundled, tmp_path):
    png, js = tmp_path / "out.png", tmp_path / "out.json"
    assert main(["image", str(IMAGE), "-o", str(png), "--json", str(js), *bundled]) == 0
    face = _check_outputs(png, js, (450, 450))
    assert abs(face["pose"]["yaw"]) < 30  # image00002 is near-frontal (AFLW2000-3D yaw ≈ 1°)


def moving_video(path: Path, frames: int, fps: float) -> Path:
    """An mp4v video of IMAGE (450×450) moving right by 3 px per frame."""
    frame = cv2.imread(str(IMAGE))
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"mp4v"), fps, (450, 450))
    for shift in range(frames):
        writer.write(np.roll(frame, 3 * shift, axis=1))
    writer.release()
    return path


@pytest.mark.usefixtures("shared_data")  # reads IMAGE
def test_video(model, tmp_path, capsys):
    source = moving_video(tmp_path / "in.mp4", 6, 25.0)
    out = tmp_path / "out.mp4"
    assert main(["video", str(source), "-o", str(out), "--model", model]) == 0
    captured = capsys.readouterr()
    assert "6 frames, faces in 6" in captured.out and "frame 6/6" in captured.err
    assert "\r" not in captured.err  # stderr is not a terminal: whole lines only
    capture = cv2.VideoCapture(str(out))
    assert int(capture.get(cv2.CAP_PROP_FRAME_COUNT)) == 6
    capture.release()


@pytest.mark.usefixtures("shared_data")  # reads IMAGE
def test_video_writes_one_json_line_per_frame_without_a_video(model, tmp_path, capsys):
    source = moving_video(tmp_path / "in.mp4", 4, 20.0)
    lines = tmp_path / "faces.jsonl"
    assert main(["video", str(source), "--jsonl", str(lines), "--model", model]) == 0
    records = [json.loads(line) for line in lines.read_text().splitlines()]
    assert [r["frame"] for r in records] == [0, 1, 2, 3]
    assert [r["timestamp_ms"] for r in records] == [0.0, 50.0, 100.0, 150.0]  # 20 fps
    assert all((r["width"], r["height"], len(r["faces"])) == (450, 450, 1) for r in records)
    assert [r["faces"][0]["track_id"] for r in records] == [0, 0, 0, 0]
    assert np.asarray(records[0]["faces"][0]["points"]).shape == (520, 3)
    assert "4 frames, faces in 4" in capsys.readouterr().out
    with pytest.raises(SystemExit, match="nothing to write"):
        main(["video", str(source), "--model", model])


@pytest.mark.usefixtures("shared_data")  # reads IMAGE
def test_image_writes_an_obj_or_a_ply_mesh_by_extension(model, tmp_path):
    from denseface.topology import load_topology

    png, mesh = tmp_path / "out.png", tmp_path / "face.obj"
    assert main(["image", str(IMAGE), "-o", str(png), "--mesh", str(mesh), "--model", model]) == 0
    lines = mesh.read_text().splitlines()
    kinds = [line.split()[0] for line in lines if not line.startswith("#")]
    topology = load_topology()
    assert kinds.count("o") == 1 and kinds.count("v") == 520 and kinds.count("vt") == 520
    assert kinds.count("f") == topology.triangles.shape[0]
    ply = tmp_path / "face.ply"
    assert main(["image", str(IMAGE), "-o", str(png), "--mesh", str(ply), "--model", model]) == 0
    header = ply.read_bytes().split(b"end_header")[0].decode("ascii")
    assert "element vertex 520" in header and f"element face {topology.triangles.shape[0]}" in header
    with pytest.raises(SystemExit, match=r"extension '\.stl'.*use \.obj or \.ply"):
        main(["image", str(IMAGE), "-o", str(png), "--mesh", str(tmp_path / "face.stl"), "--model", model])


def test_demo(model, tmp_path):
    pytest.importorskip("skimage")
    out = tmp_path / "demo.png"
    assert main(["demo", "-o", str(out), "--model", model]) == 0
    assert cv2.imread(str(out)).shape == (512, 512, 3)


@pytest.mark.usefixtures("shared_data")  # reads IMAGE
def test_errors_are_one_line(model, tmp_path):
    with pytest.raises(SystemExit, match="no such file"):
        main(["image", str(tmp_path / "missing.jpg"), "-o", str(tmp_path / "o.png"), "--model", model])
    (tmp_path / "text.jpg").write_text("not an image")
    with pytest.raises(SystemExit, match="cannot read an image"):
        main(["image", str(tmp_path / "text.jpg"), "-o", str(tmp_path / "o.png"), "--model", model])
    with pytest.raises(SystemExit, match="not found"):
        main(["image", str(IMAGE), "-o", str(tmp_path / "o.png"), "--model", str(tmp_path / "none.tflite")])
    with pytest.raises(SystemExit):
        main(["image", str(IMAGE), "-o", str(tmp_path / "o.png"), "--draw", "hats"])


@pytest.mark.usefixtures("shared_data")  # reads IMAGE
def test_python_dash_m(model, tmp_path):
    run = run_cli("image", str(IMAGE), "-o", str(tmp_path / "o.png"), "--model", model)
    assert run.returncode == 0, run.stderr
    assert "1 face(s)" in run.stdout


def _assert_one_line_error(run: subprocess.CompletedProcess, *words: str, alone: bool = True) -> None:
    """Exit status 1, no traceback, stderr ends with our one-line error naming ``words``. ``alone``:
    nothing else on stderr (False where a native library logs first, e.g. FFmpeg or LiteRT)."""
    assert run.returncode == 1 and "Traceback" not in run.stderr, run.stderr
    lines = run.stderr.splitlines()
    assert lines[-1].startswith("denseface: error: ") and all(word in lines[-1] for word in words), run.stderr
    assert len(lines) == 1 or not alone, run.stderr


def test_unknown_output_extension_fails_before_any_work(small_png, tmp_path):
    out = tmp_path / "x.xyz"
    _assert_one_line_error(run_cli("image", str(small_png), "-o", str(out)), ".xyz")
    assert not out.exists()
    video_out = tmp_path / "x.gif"
    _assert_one_line_error(run_cli("video", str(small_png), "-o", str(video_out)), ".gif", ".mp4")
    assert not video_out.exists()


def test_json_in_a_missing_folder_fails_before_the_picture_is_written(small_png, tmp_path):
    png = tmp_path / "o.png"
    run = run_cli("image", str(small_png), "-o", str(png), "--json", str(tmp_path / "missing" / "o.json"))
    _assert_one_line_error(run, "does not exist")
    assert not png.exists()


def test_bad_inputs_and_models_are_one_line_errors(small_png, tmp_path):
    _assert_one_line_error(run_cli("image", str(tmp_path / "missing.png"), "-o", str(tmp_path / "o.png")),
                           "no such file")
    text = tmp_path / "text.png"
    text.write_text("not an image")
    _assert_one_line_error(run_cli("image", str(text), "-o", str(tmp_path / "o.png")), "cannot read an image")
    tiny = tmp_path / "tiny.png"
    cv2.imwrite(str(tiny), np.zeros((1, 1, 3), np.uint8))
    _assert_one_line_error(run_cli("image", str(tiny), "-o", str(tmp_path / "o.png")), "at least 2")
    _assert_one_line_error(run_cli("video", str(text), "-o", str(tmp_path / "o.mp4")), "cannot read a video",
                           alone=False)
    _assert_one_line_error(run_cli("image", str(small_png), "-o", str(tmp_path / "o.png"), "--model", str(text)),
                           "not a TFLite model", alone=False)
    assert not (tmp_path / "o.png").exists() and not (tmp_path / "o.mp4").exists()


def test_version():
    run = run_cli("--version")
    assert run.returncode == 0 and run.stdout.startswith(f"denseface {__version__}")


@pytest.mark.parametrize("command", [[], ["image"], ["video"], ["demo"], ["batch"]])
def test_help_is_plain_text_with_defaults(command, capsys):
    with pytest.raises(SystemExit) as exit_info:
        main([*command, "--help"])
    assert exit_info.value.code == 0
    text = " ".join(capsys.readouterr().out.split())  # argparse wraps lines
    assert "`" not in text
    if command:
        assert "(default: 4," in text and "defaults to 1" in text  # --max-faces, and the API's default
        assert "(default: short_int8)" in text and "(default: full)" in text and "(default: 1)" in text
