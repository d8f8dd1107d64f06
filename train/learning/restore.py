"""Rebuild a trainable Keras checkpoint from an exported landmark model (.tflite, float32 or int8).

    python -m train.learning.restore --tflite sdk/denseface/models/denseface_int8.tflite \
        --data ~/.cache/denseface/dataset --out ~/.cache/denseface/runs/r6/last.keras

Checkpoints live in ``~/.cache/denseface`` and are never committed; when that cache is lost, this turns
the committed model back into a starting point for further training, so a lost cache costs a rebuild
of the dataset, not the training that made the model.

The export folds every BatchNormalization into the convolution before it (kernel W·γ/σ, bias
β − μ·γ/σ). The rebuilt model takes the folded kernel and, for each BatchNormalization, the statistics
(m, v) of that folded convolution's output on ``--batches`` batches of training crops, with
γ = √(v + ε) and β = bias + m: in inference mode it is the exported function exactly (int8 weights
dequantized: ``scale × (q − zero_point)``), and in training mode, where batch statistics ≈ (m, v),
it starts from the same function too instead of from renormalised features.
"""
from __future__ import annotations

import argparse
from pathlib import Path

import keras
import numpy as np

from train.learning.augment import validation_batch
from train.learning.dataset import TRAIN_SPLIT, load_dataset
from train.learning.model import WIDTHS, build_model

# builtin operator codes of the TFLite schema
CONV_2D, DEPTHWISE_CONV_2D, FULLY_CONNECTED = 3, 4, 9


def tflite_weights(path: Path) -> list[tuple[int, np.ndarray, np.ndarray]]:
    """(operator code, weights, bias) of every convolution and dense layer in execution order, float32.

    Weights keep TFLite's layout: CONV_2D (out, kh, kw, in), DEPTHWISE_CONV_2D (1, kh, kw, channels),
    FULLY_CONNECTED (out, in); quantized tensors are dequantized per channel or per tensor.
    """
    from tensorflow.lite.tools import flatbuffer_utils

    model = flatbuffer_utils.read_model(str(path))
    graph = model.subgraphs[0]

    def tensor_value(index: int) -> np.ndarray:
        tensor = graph.tensors[index]
        dtype = {0: np.float32, 2: np.int32, 9: np.int8}[tensor.type]
        data = model.buffers[tensor.buffer].data
        if data is None:
            raise ValueError(f"{path}: tensor {index} of a weighted layer holds no constant weights")
        value = np.frombuffer(bytes(data), dtype).reshape(tensor.shape)
        q = tensor.quantization
        if dtype is np.float32 or q is None or q.scale is None or len(q.scale) == 0:
            return value.astype(np.float32)
        shape = [1] * value.ndim
        shape[q.quantizedDimension] = -1  # per channel along this axis, or one value per tensor
        scale = np.asarray(q.scale, np.float32).reshape(shape if len(q.scale) > 1 else [1] * value.ndim)
        zero = np.asarray(q.zeroPoint, np.float32).reshape(scale.shape)
        return (value.astype(np.float32) - zero) * scale

    layers = []
    for op in graph.operators:
        code = model.operatorCodes[op.opcodeIndex].builtinCode
        if code in (CONV_2D, DEPTHWISE_CONV_2D, FULLY_CONNECTED):
            weights = tensor_value(op.inputs[1])
            bias = tensor_value(op.inputs[2]) if len(op.inputs) > 2 and op.inputs[2] >= 0 else np.zeros(
                weights.shape[-1] if code == DEPTHWISE_CONV_2D else weights.shape[0], np.float32)
            layers.append((code, weights, bias))
    return layers


def _keras_kernel(code: int, weights: np.ndarray) -> np.ndarray:
    """Keras' kernel of a TFLite convolution's weights (``tflite_weights``' layout), a view."""
    if code == DEPTHWISE_CONV_2D:
        return weights[0][..., None]  # (kh, kw, channels, 1)
    return weights.transpose(1, 2, 3, 0)  # (kh, kw, in, out)


def restore(tflite: Path, calibration: np.ndarray) -> keras.Model:
    """The landmark model of ``train.learning.model`` carrying the weights of ``tflite``.

    Args:
        tflite: an export of ``train.learning.export`` (the ``build_model`` architecture at one of the
            widths of ``WIDTHS``: full or lite, told apart by the shapes of its layers).
        calibration: (N, 120, 120, 3) float32 0..255 training crops for the BatchNormalization statistics.
    """
    layers = tflite_weights(tflite)
    for alpha in WIDTHS.values():
        model = build_model(alpha=alpha)
        backbone = next(layer for layer in model.layers if isinstance(layer, keras.Model))
        convs = [layer for layer in backbone.layers if isinstance(layer, (keras.layers.Conv2D, keras.layers.DepthwiseConv2D))]
        norms = [layer for layer in backbone.layers if isinstance(layer, keras.layers.BatchNormalization)]
        if len(layers) == len(convs) + 1 and len(norms) == len(convs) and all(
                _keras_kernel(code, weights).shape == tuple(conv.kernel.shape) for conv, (code, weights, _) in zip(convs, layers)):
            break
    else:
        raise ValueError(f"{tflite}: its {len(layers)} weighted layers do not match the architecture (its "
                         f"convolutions + 1 dense layer) at any width of {sorted(WIDTHS)}")
    biases = []
    for conv, (code, weights, bias) in zip(convs, layers):
        if isinstance(conv, keras.layers.DepthwiseConv2D):
            if code != DEPTHWISE_CONV_2D:
                raise ValueError(f"{conv.name}: the export has operator {code} where a depthwise convolution is")
        elif code != CONV_2D:
            raise ValueError(f"{conv.name}: the export has operator {code} where a convolution is")
        conv.set_weights([_keras_kernel(code, weights)])
        biases.append(bias)
    code, weights, bias = layers[-1]
    model.get_layer("points").set_weights([weights.T, bias])

    # Every BatchNormalization an identity plus the folded bias (mean 0, variance 1, γ = √(1 + ε)), so
    # the model is the exported function; then the statistics of each convolution's output replace
    # (0, 1) with γ and β changed to match, which leaves that function as it is.
    for norm, bias in zip(norms, biases):
        norm.set_weights([np.full_like(bias, np.sqrt(1 + norm.epsilon)), bias,
                          np.zeros_like(bias), np.ones_like(bias)])
    features = keras.Model(backbone.input, [conv.output for conv in convs])
    scaled = (calibration / 127.5 - 1.0).astype(np.float32)
    outputs = features.predict(scaled, batch_size=64, verbose=0)
    for norm, bias, out in zip(norms, biases, outputs):
        mean = out.mean(axis=(0, 1, 2))
        var = out.var(axis=(0, 1, 2))
        norm.set_weights([np.sqrt(var + norm.epsilon), bias + mean, mean, var])
    return model


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--tflite", type=Path, required=True, help="the exported model (float32 or int8)")
    parser.add_argument("--data", type=Path, required=True, help="dataset directory (its training crops calibrate)")
    parser.add_argument("--out", type=Path, required=True, help="the .keras file to write (outside the repository)")
    parser.add_argument("--batches", type=int, default=8, help="batches of 64 training crops for the statistics")
    args = parser.parse_args(argv)
    samples = load_dataset(args.data, TRAIN_SPLIT, 64 * args.batches)
    images, _ = validation_batch(samples.images, samples.points)
    model = restore(args.tflite, np.asarray(images))
    args.out.parent.mkdir(parents=True, exist_ok=True)
    model.save(args.out)
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
