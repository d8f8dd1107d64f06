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

from denseface.cli import main
from denseface.fetch import detector_path
from train.data import AFLW2000

from synthetic_model import synthetic_models

REPO = Path(__file__).resolve().parents[1]
IMAGE = AFLW2000 / "images" / "image00002.jpg"
REAL_MODEL = REPO / "sdk" / "denseface" / "models" / "denseface_int8.tflite"


@pytest.fixture(scope="module")
def model() -> str:
    if not IMAGE.is_file():
        pytest.skip(f"{IMAGE} not found")
    try:
        detector_path("short")
    except FileNotFoundError as error:
        pytest.skip(f"BlazeFace model unavailable offline: {error}")
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


def test_image_writes_png_and_json(model, tmp_path, capsys):
    png, js = tmp_path / "out.png", tmp_path / "out.json"
    assert main(["image", str(IMAGE), "-o", str(png), "--json", str(js), "--model", model]) == 0
    _check_outputs(png, js, (450, 450))
    captured = capsys.readouterr()
    assert "1 face(s)" in captured.out and "landmark model" in captured.err


@pytest.mark.skipif(not REAL_MODEL.is_file(), reason="model not bundled yet")
def test_image_with_the_bundled_model(tmp_path):
    png, js = tmp_path / "out.png", tmp_path / "out.json"
    assert main(["image", str(IMAGE), "-o", str(png), "--json", str(js)]) == 0
    face = _check_outputs(png, js, (450, 450))
    assert abs(face["pose"]["yaw"]) < 30  # image00002 is near-frontal (AFLW2000-3D yaw ≈ 1°)


def test_video(model, tmp_path, capsys):
    frame = cv2.imread(str(IMAGE))
    source = tmp_path / "in.mp4"
    writer = cv2.VideoWriter(str(source), cv2.VideoWriter_fourcc(*"mp4v"), 25.0, (450, 450))
    for shift in range(6):
        writer.write(np.roll(frame, 3 * shift, axis=1))
    writer.release()
    out = tmp_path / "out.mp4"
    assert main(["video", str(source), "-o", str(out), "--model", model]) == 0
    captured = capsys.readouterr()
    assert "6 frames, faces in 6" in captured.out and "frame 6/6" in captured.err
    capture = cv2.VideoCapture(str(out))
    assert int(capture.get(cv2.CAP_PROP_FRAME_COUNT)) == 6
    capture.release()


def test_demo(model, tmp_path):
    pytest.importorskip("skimage")
    out = tmp_path / "demo.png"
    assert main(["demo", "-o", str(out), "--model", model]) == 0
    assert cv2.imread(str(out)).shape == (512, 512, 3)


def test_errors_are_one_line(model, tmp_path):
    with pytest.raises(SystemExit, match="cannot read an image"):
        main(["image", str(tmp_path / "missing.jpg"), "-o", str(tmp_path / "o.png"), "--model", model])
    with pytest.raises(SystemExit, match="not found"):
        main(["image", str(IMAGE), "-o", str(tmp_path / "o.png"), "--model", str(tmp_path / "none.tflite")])
    with pytest.raises(SystemExit):
        main(["image", str(IMAGE), "-o", str(tmp_path / "o.png"), "--draw", "hats"])


def test_python_dash_m(model, tmp_path):
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(REPO / "sdk"), os.environ.get("PYTHONPATH", "")]))
    run = subprocess.run([sys.executable, "-m", "denseface", "image", str(IMAGE), "-o", str(tmp_path / "o.png"),
                          "--model", model], capture_output=True, text=True, env=env, timeout=120)
    assert run.returncode == 0, run.stderr
    assert "1 face(s)" in run.stdout
