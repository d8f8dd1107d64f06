"""The landmark network: MobileNetV2 (α = 1.0, "full"; α = 0.5, "lite") → global average pooling → Dense(1560).

With a shape prior (``pca``), the head is Dense(K) coefficients → a fixed Dense(1560) holding the
mean and K principal directions of the training targets: the outputs can only be faces the training
set spans, and the exported model keeps the 1560-output contract.

Input: (B, 120, 120, 3) float32 RGB in the uint8 range 0..255 (raw pixels; the [−1, 1] scaling is the
model's first layer, so the exported .tflite takes raw pixels and the int8 model takes uint8).
Output: (B, 1560) float32, the contract of ``denseface.decode`` (520 × (x, y, z) / 120 in crop
pixels). The output layer is float32 even under a mixed-precision policy.
"""
from __future__ import annotations

import keras
import numpy as np

from denseface.crop import MODEL_INPUT
from denseface.decode import OUTPUT_SIZE

# MobileNetV2's α by model name. Both take the 120-pixel crop (one crop contract): full = the paper's
# network, 95.1 M MACs; lite = 31.6 M MACs (under MediaPipe's 35.0 M), 2.70 M parameters of which the
# 1280 × 1560 output layer holds 2.0 M (Keras keeps the last convolution at 1280 channels for α < 1).
WIDTHS: dict[str, float] = {"full": 1.0, "lite": 0.5}
WIDTH_MULTIPLIER = WIDTHS["full"]
# Keras' MobileNetV2 uses BatchNormalization momentum 0.999: after the ~2,000 steps of a short CPU run
# its moving statistics still carry the initial values, and the model in inference mode is off (run
# r1, epoch 2: validation NME 26.7 % with them, 4.86 % with the statistics recomputed). 0.99 forgets
# the initial values within ~500 steps.
BN_MOMENTUM = 0.99


def build_model(mean_output: np.ndarray | None = None, input_size: int = MODEL_INPUT,
                alpha: float = WIDTH_MULTIPLIER, pca: np.ndarray | None = None) -> keras.Model:
    """A freshly initialised landmark model (no pretrained weights).

    Args:
        mean_output: optional (1560,) float32 mean training target; the output layer's bias starts
            there so the untrained model predicts the mean face instead of zeros.
        input_size: side of the input, pixels (the SDK's crop is ``MODEL_INPUT``; other sizes serve
            the cost benchmarks).
        alpha: MobileNetV2's width multiplier (the shipped model: ``WIDTH_MULTIPLIER``).
        pca: optional (K, 1560) orthonormal principal directions of the targets: the shape-prior head
            (with ``mean_output`` as its fixed mean, required then).

    Returns:
        A keras Model ``image (B, input_size, input_size, 3) 0..255 RGB → points (B, 1560) float32``.
    """
    inputs = keras.Input((input_size, input_size, 3), name="image")
    # pixels p ∈ [0, 255] → p / 127.5 − 1 ∈ [−1, 1] (MobileNetV2's input range); float32 for exactness
    x = keras.layers.Rescaling(1.0 / 127.5, offset=-1.0, dtype="float32", name="scale_pixels")(inputs)
    backbone = keras.applications.MobileNetV2(
        input_shape=(input_size, input_size, 3), alpha=alpha, include_top=False, weights=None
    )
    for layer in backbone.layers:
        if isinstance(layer, keras.layers.BatchNormalization):
            layer.momentum = BN_MOMENTUM
    x = backbone(x)
    x = keras.layers.GlobalAveragePooling2D(name="pool")(x)
    bias = "zeros" if mean_output is None else keras.initializers.Constant(np.asarray(mean_output, np.float32))
    if pca is not None:
        if mean_output is None:
            raise ValueError("the shape-prior head needs mean_output, its fixed mean")
        # zero coefficients: the untrained model outputs exactly the mean face
        x = keras.layers.Dense(len(pca), kernel_initializer="zeros", dtype="float32", name="shape_coefficients")(x)
        outputs = keras.layers.Dense(OUTPUT_SIZE, kernel_initializer=keras.initializers.Constant(np.asarray(pca, np.float32)),
                                     bias_initializer=bias, trainable=False, dtype="float32", name="points")(x)
        return keras.Model(inputs, outputs, name="denseface_mobilenetv2")
    # a zero kernel: the untrained model outputs exactly the bias (the mean face), not random offsets
    outputs = keras.layers.Dense(
        OUTPUT_SIZE, kernel_initializer="zeros", bias_initializer=bias, dtype="float32", name="points"
    )(x)
    return keras.Model(inputs, outputs, name="denseface_mobilenetv2")


def transfer_weights(source: keras.Model, target: keras.Model) -> None:
    """Give ``target`` the weights of ``source`` (both from :func:`build_model`). The same architecture
    takes every weight. A linear head into a shape-prior head is projected onto its principal
    directions P (coefficients c = (W x + b − mean) · Pᵀ: the outputs become the source's projected onto
    the span). A shape-prior head into a linear head is folded into one Dense(1560) (W = C · P,
    b = c₀ · P + mean: the same outputs), which is how a shape-prior model is exported, so its
    .tflite is the shipped architecture and quantizes like it."""
    if len(source.weights) == len(target.weights):
        target.set_weights(source.get_weights())
        return
    backbone = next(layer for layer in target.layers if isinstance(layer, keras.Model))
    backbone.set_weights(source.get_layer(backbone.name).get_weights())
    names = {layer.name for layer in target.layers}
    if "shape_coefficients" in names:
        kernel, bias = source.get_layer("points").get_weights()
        basis, mean = target.get_layer("points").get_weights()  # (K, 1560), (1560,)
        target.get_layer("shape_coefficients").set_weights([kernel @ basis.T, (bias - mean) @ basis.T])
    else:
        kernel, bias = source.get_layer("shape_coefficients").get_weights()  # (1280, K), (K,)
        basis, mean = source.get_layer("points").get_weights()
        target.get_layer("points").set_weights([kernel @ basis, bias @ basis + mean])


def width_multiplier(model: keras.Model) -> float:
    """MobileNetV2's α of a model from :func:`build_model`, read from its backbone's name (Keras names
    it ``mobilenetv2_{α:.2f}_{input size}``; the layer shapes alone cannot tell α 0.35 from 0.5)."""
    backbone = next(layer for layer in model.layers if isinstance(layer, keras.Model))
    return float(backbone.name.split("_")[1])
