"""train.learning.export: a tiny model with the landmark head and contract survives full-integer conversion."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

tf = pytest.importorskip("tensorflow")
keras = pytest.importorskip("keras")

from denseface.infer import TFLiteModel  # noqa: E402
from train.learning.export import convert_float, convert_int8  # noqa: E402


def _tiny_model() -> keras.Model:
    """120×120×3 0..255 input → [−1, 1] → one strided conv → pooling → Dense(1560), like
    train.learning.model."""
    inputs = keras.Input((120, 120, 3))
    x = keras.layers.Rescaling(1.0 / 127.5, offset=-1.0)(inputs)
    x = keras.layers.Conv2D(8, 3, strides=4, activation="relu6")(x)
    x = keras.layers.GlobalAveragePooling2D()(x)
    outputs = keras.layers.Dense(1560, bias_initializer=keras.initializers.RandomUniform(0.2, 0.8))(x)
    return keras.Model(inputs, outputs)


def test_int8_export_takes_uint8_and_matches_keras(tmp_path: Path) -> None:
    keras.utils.set_random_seed(0)
    model = _tiny_model()
    rng = np.random.default_rng(0)
    calibration = rng.integers(0, 256, (32, 120, 120, 3), dtype=np.uint8)
    path = tmp_path / "tiny_int8.tflite"
    path.write_bytes(convert_int8(model, calibration))
    runner = TFLiteModel(path)
    assert runner.input_shape == (1, 120, 120, 3) and runner.input_dtype == np.uint8
    crop = rng.integers(0, 256, (1, 120, 120, 3), dtype=np.uint8)
    expected = model(crop.astype(np.float32)).numpy()
    got = runner.run(crop)[0]
    assert got.shape == (1, 1560) and got.dtype == np.float32
    # one int8 output step over the output range ≈ 0.6/255; allow a few steps
    assert np.abs(got - expected).max() < 0.02


def test_float_export_matches_keras(tmp_path: Path) -> None:
    keras.utils.set_random_seed(1)
    model = _tiny_model()
    path = tmp_path / "tiny_float.tflite"
    path.write_bytes(convert_float(model))
    crop = np.random.default_rng(1).integers(0, 256, (1, 120, 120, 3)).astype(np.float32)
    np.testing.assert_allclose(TFLiteModel(path).run(crop)[0], model(crop).numpy(), atol=1e-5)
