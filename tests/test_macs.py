"""train.evaluation.macs against MACs counted by hand for a tiny conv / depthwise / dense graph."""
from __future__ import annotations

from pathlib import Path

import pytest

tf = pytest.importorskip("tensorflow")
keras = pytest.importorskip("keras")

from train.evaluation.macs import count_macs  # noqa: E402
from train.learning.export import convert_float  # noqa: E402


def test_macs_of_a_tiny_graph(tmp_path: Path) -> None:
    inputs = keras.Input((8, 8, 3), batch_size=1)
    x = keras.layers.Conv2D(4, 3, padding="same")(inputs)  # 8·8·4 outputs × 3·3·3 = 6912
    x = keras.layers.DepthwiseConv2D(3, strides=2, padding="same")(x)  # 4·4·4 outputs × 3·3 = 576
    x = keras.layers.Flatten()(x)  # 64 features
    outputs = keras.layers.Dense(5)(x)  # 5 × 64 = 320
    model = keras.Model(inputs, outputs)
    path = tmp_path / "tiny.tflite"
    path.write_bytes(convert_float(model))
    cost = count_macs(path)
    assert cost.by_op() == {"CONV_2D": 6912, "DEPTHWISE_CONV_2D": 576, "FULLY_CONNECTED": 320}
    assert cost.macs == 7808 and cost.flops == 15616


def test_rejects_a_file_that_is_not_tflite(tmp_path: Path) -> None:
    path = tmp_path / "not_a_model.tflite"
    path.write_bytes(b"\x00" * 64)
    with pytest.raises(ValueError, match="TFL3"):
        count_macs(path)
