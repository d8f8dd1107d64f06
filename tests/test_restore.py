"""train.learning.restore: an export (BatchNorm folded into the convolutions) becomes a Keras model again."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

keras = pytest.importorskip("keras")

from train.learning.export import convert_float, convert_int8  # noqa: E402
from train.learning.model import WIDTHS, build_model, width_multiplier  # noqa: E402
from train.learning.restore import restore  # noqa: E402


@pytest.fixture(scope="module", params=sorted(WIDTHS))
def trained_like(request: pytest.FixtureRequest) -> keras.Model:
    """The landmark architecture at each width (full, lite) with random weights and random BatchNorm
    statistics, so that the export's folding (W·γ/σ, β − μ·γ/σ) changes every convolution."""
    keras.utils.set_random_seed(0)
    model = build_model(np.full(1560, 0.5, np.float32), alpha=WIDTHS[request.param])
    rng = np.random.default_rng(0)
    backbone = next(layer for layer in model.layers if isinstance(layer, keras.Model))
    for layer in backbone.layers:
        if isinstance(layer, keras.layers.BatchNormalization):
            gamma, beta, mean, var = layer.get_weights()
            layer.set_weights([rng.uniform(0.5, 1.5, gamma.shape), rng.normal(0, 0.1, beta.shape),
                               rng.normal(0, 0.1, mean.shape), rng.uniform(0.5, 2.0, var.shape)])
    dense = model.get_layer("points")
    kernel, bias = dense.get_weights()
    dense.set_weights([rng.normal(0, 0.01, kernel.shape), bias])
    return model


def test_restored_float_export_is_the_same_function(trained_like: keras.Model, tmp_path: Path) -> None:
    path = tmp_path / "float32.tflite"
    path.write_bytes(convert_float(trained_like))
    rng = np.random.default_rng(1)
    calibration = rng.uniform(0, 255, (64, 120, 120, 3)).astype(np.float32)
    restored = restore(path, calibration)
    assert width_multiplier(restored) == width_multiplier(trained_like)  # the width told from the shapes
    crops = rng.uniform(0, 255, (4, 120, 120, 3)).astype(np.float32)
    expected = trained_like(crops, training=False).numpy()
    np.testing.assert_allclose(restored(crops, training=False).numpy(), expected, atol=2e-4)
    # in training mode, on batches like the calibration crops, BatchNorm's batch statistics are the
    # calibrated ones: the function stays close to the export's instead of renormalising features
    drift = np.abs(restored(calibration, training=True).numpy() - trained_like(calibration, training=False).numpy())
    assert drift.max() < 0.01, drift.max()


def test_restored_int8_export_is_close(trained_like: keras.Model, tmp_path: Path) -> None:
    rng = np.random.default_rng(2)
    calibration = rng.integers(0, 256, (32, 120, 120, 3), dtype=np.uint8)
    path = tmp_path / "int8.tflite"
    path.write_bytes(convert_int8(trained_like, calibration))
    restored = restore(path, calibration.astype(np.float32))
    crops = rng.uniform(0, 255, (4, 120, 120, 3)).astype(np.float32)
    error = np.abs(restored(crops, training=False).numpy() - trained_like(crops, training=False).numpy())
    assert error.mean() < 0.01  # dequantized int8 weights: a few int8 steps of the 0..1 output range


def test_an_export_of_another_architecture_is_refused(tmp_path: Path) -> None:
    inputs = keras.Input((120, 120, 3))
    x = keras.layers.Conv2D(8, 3, strides=4)(inputs)
    outputs = keras.layers.Dense(1560)(keras.layers.GlobalAveragePooling2D()(x))
    path = tmp_path / "other.tflite"
    path.write_bytes(convert_float(keras.Model(inputs, outputs)))
    with pytest.raises(ValueError, match="do not match"):
        restore(path, np.zeros((2, 120, 120, 3), np.float32))
