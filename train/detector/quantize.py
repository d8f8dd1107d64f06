"""Quantize the short-range BlazeFace detector to int8 with ``ai-edge-quantizer``, calibrated on LFW photos.

    python3 -m venv /tmp/aeq-venv
    /tmp/aeq-venv/bin/pip install ai-edge-quantizer==0.10.0 && /tmp/aeq-venv/bin/pip install --no-deps -e .
    /tmp/aeq-venv/bin/python -m train.detector.quantize [--images 500] [--out FILE.tflite]

``ai-edge-quantizer`` is a tool of this script only, never a dependency of the SDK (which runs the result
with LiteRT like the float model), hence its own virtual environment.

What it makes: MediaPipe's ``face_detection_short_range.tflite`` with its convolutions, depthwise
convolutions, additions, pooling and padding in int8 (recipe ``static_wi8_ai8``: int8 weights, per output
channel, and int8 activations whose ranges are the min / max seen in calibration), except the ops of
:data:`FLOAT_OPS` (the last block and the heads), which stay float32. The input and outputs are int8
(``denseface.infer.TFLiteModel`` quantizes the [-1, 1] input and dequantizes the outputs at the boundary),
so ``denseface.detect.FaceDetector`` feeds and decodes it exactly as the float model.

Four changes to the float model come first; they change no output value. MediaPipe stores the weights
as float16 constants followed by DEQUANTIZE ops, folded here into float32 constants; its operator codes
are in the old form (the op in ``deprecated_builtin_code``, ``builtin_code`` left 0, which the quantizer
reads as ADD), so ``builtin_code`` is filled in; each RELU is fused into the ADD or CONV_2D before it
(XNNPACK runs an int8 RELU only fused, so 17 standalone RELUs split the int8 graph into 18 delegate
partitions and made it 3× slower than the float model; fused, the op's int8 range also no longer
spends levels on the negative values the RELU drops); and the model has no signature, so one
(``serving_default``: ``input`` → ``regressors``, ``classificators``) is added
(:func:`prepare_float_model`).

Calibration frames: ``--images`` frames made of LFW photos (:func:`calibration_frames`: selfie-like
crops, single photos and grids of up to 4×5 photos, so that faces of every size the detector handles
occur), put through the SDK's own preprocessing (``FaceDetector.input_tensor``: the letterbox and the
[-1, 1] scaling), so the activation ranges are those of real frames as the SDK feeds them. AFLW2000-3D
(the test set) and aflw_dev are never used here; the choices above (calibration frames, float ops) were
made on aflw_dev (``python -m benchmarks.detector``, benchmarks/README.md).
"""
from __future__ import annotations

import argparse
import random
from pathlib import Path

import numpy as np

from denseface.detect import DETECTOR_SPECS, DetectorOptions, FaceDetector, detector_path
from train.data import LFW, require

SIGNATURE = "serving_default"
FLOAT_OPS = "(depthwise_conv2d_15|conv2d_16|activation_16|classificator|regressor|reshape).*"
"""Ops left in float32 (a regular expression on their output tensors' names): the last block of the 8×8
stage and the two heads. The block's depthwise output reaches -230 while its standard deviation is a
twentieth of its largest magnitude, so one int8 scale for the whole tensor leaves its usual values a few
levels (relative error 26 %, against ~13 % for the layers before it); and int8 heads clip the score logits near 0 (the 0.5
threshold) and step the box offsets by ~0.8 input pixels. These ops are 7 % of the convolutions'
multiply-adds."""
CALIBRATION_IMAGES = 500  # 100 of each kind of calibration_frames; calibration takes seconds
SEED = 0


def prepare_float_model(model: bytes) -> bytearray:
    """The same network as ``model`` (a float BlazeFace .tflite), ready for the quantizer.

    Folds each DEQUANTIZE of a float16 constant into a float32 constant (the values are those the
    DEQUANTIZE computes at run time), drops the float16 tensors it leaves unused, writes each operator
    code's op into ``builtin_code`` and adds the signature :data:`SIGNATURE` mapping the model's input
    and outputs by their tensor names.
    """
    from ai_edge_litert import schema_py_generated as schema
    from ai_edge_litert.tools import flatbuffer_utils

    tree = flatbuffer_utils.read_model_from_bytearray(bytearray(model))
    for code in tree.operatorCodes:
        code.builtinCode = flatbuffer_utils.get_builtin_code_from_operator_code(code)
    graph = tree.subgraphs[0]
    codes = [code.builtinCode for code in tree.operatorCodes]
    dequantize = {i for i, code in enumerate(codes) if code == schema.BuiltinOperator.DEQUANTIZE}
    relu = {i for i, code in enumerate(codes) if code == schema.BuiltinOperator.RELU}
    kept = []
    for op in graph.operators:
        source = graph.tensors[op.inputs[0]]
        constant = tree.buffers[source.buffer].data is not None
        if op.opcodeIndex in dequantize and source.type == schema.TensorType.FLOAT16 and constant:
            buffer = tree.buffers[source.buffer]  # now the float32 tensor's: the float16 one goes unused
            values = np.frombuffer(bytes(buffer.data), np.float16).astype(np.float32)
            buffer.data = np.frombuffer(values.tobytes(), np.uint8)
            graph.tensors[op.outputs[0]].buffer = source.buffer
        else:
            kept.append(op)
    graph.operators = kept

    # A RELU of its own splits the int8 graph for XNNPACK (which takes int8 RELU only fused into the op
    # before it) and makes the op before it quantize the negative half that the RELU drops.
    producers = {op.outputs[0]: op for op in kept}
    readers = [i for op in kept for i in op.inputs]
    fused = []
    for op in kept:
        source = producers.get(op.inputs[0])
        if (op.opcodeIndex in relu and source is not None and readers.count(op.inputs[0]) == 1
                and op.inputs[0] not in graph.outputs and hasattr(source.builtinOptions, "fusedActivationFunction")
                and source.builtinOptions.fusedActivationFunction == schema.ActivationFunctionType.NONE):
            source.builtinOptions.fusedActivationFunction = schema.ActivationFunctionType.RELU
            source.outputs = [op.outputs[0]]
        else:
            fused.append(op)
    kept = graph.operators = fused

    used = sorted({*graph.inputs, *graph.outputs, *(i for op in kept for i in (*op.inputs, *op.outputs) if i >= 0)})
    new_index = {old: new for new, old in enumerate(used)}
    graph.tensors = [graph.tensors[i] for i in used]
    for op in kept:
        op.inputs = [new_index.get(i, -1) for i in op.inputs]
        op.outputs = [new_index[i] for i in op.outputs]
    graph.inputs = [new_index[i] for i in graph.inputs]
    graph.outputs = [new_index[i] for i in graph.outputs]

    def tensor_maps(indices: list[int]) -> list:
        return [schema.TensorMapT(name=graph.tensors[i].name.decode(), tensorIndex=i) for i in indices]

    tree.signatureDefs = [schema.SignatureDefT(inputs=tensor_maps(graph.inputs), outputs=tensor_maps(graph.outputs),
                                               signatureKey=SIGNATURE, subgraphIndex=0)]
    return flatbuffer_utils.convert_object_to_bytearray(tree)


def calibration_frames(count: int, seed: int = SEED) -> list[np.ndarray]:
    """``count`` frames made of LFW photos (distinct photos from a seeded shuffle of the folder), each
    (H, W, 3) uint8 RGB, the face sizes of a camera's range in turn: frame i is, for i % 5 = 0, the
    central 100×100 of a photo (the face fills most of the frame, as in a selfie); else a grid of
    i % 5 rows of photos and as many or one more columns (square and landscape frames, so the
    letterbox pads some).

    LFW's 150×150 photos alone show faces of one size (about half the frame) and leave the small-face
    anchors of the 16×16 feature map silent; a grid of 4 puts ~30-pixel faces into the 128×128 input,
    as a face a few metres from the camera does.
    """
    import cv2

    names = sorted(p.name for p in require(LFW).glob("*.jpg"))
    random.Random(seed).shuffle(names)
    frames, taken = [], 0
    for i in range(count):
        rows = i % 5
        cols = max(rows, 1) + (i // 5) % 2
        tiles = []
        for _ in range(max(rows * cols, 1)):
            photo = cv2.imread(str(LFW / names[taken % len(names)]), cv2.IMREAD_COLOR)
            tiles.append(cv2.cvtColor(photo, cv2.COLOR_BGR2RGB))
            taken += 1
        if rows == 0:
            frames.append(np.ascontiguousarray(tiles[0][25:125, 25:125]))
        else:
            frames.append(np.vstack([np.hstack(tiles[r * cols : (r + 1) * cols]) for r in range(rows)]))
    return frames


def calibration_inputs(frames: list[np.ndarray]) -> list[dict[str, np.ndarray]]:
    """``frames`` as the SDK's short-range detector input: each {"input": (1, 128, 128, 3) float32 in
    [-1, 1]} made by ``FaceDetector.input_tensor`` (the letterbox and the scaling of the SDK)."""
    detector = FaceDetector(DetectorOptions(kind="short"))
    # input_tensor reuses its buffer on the next call, hence the copy
    return [{"input": detector.input_tensor(frame)[0].copy()} for frame in frames]


def quantize(float_model: Path, out: Path, images: int = CALIBRATION_IMAGES) -> None:
    """Write the int8 version of ``float_model`` (see the module docstring) to ``out``."""
    from ai_edge_quantizer import qtyping, quantizer, recipe
    from ai_edge_quantizer.algorithm_manager import AlgorithmName

    engine = quantizer.Quantizer(prepare_float_model(float_model.read_bytes()))
    engine.load_quantization_recipe(recipe.static_wi8_ai8())
    engine.update_quantization_recipe(FLOAT_OPS, qtyping.TFLOperationName.ALL_SUPPORTED,
                                      algorithm_key=AlgorithmName.NO_QUANTIZE)
    ranges = engine.calibrate({SIGNATURE: calibration_inputs(calibration_frames(images))}, num_threads=1)
    engine.quantize(ranges).export_model(out, overwrite=True)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter, epilog=__doc__)
    parser.add_argument("--images", type=int, default=CALIBRATION_IMAGES,
                        help=f"LFW photos to calibrate on (default {CALIBRATION_IMAGES})")
    bundled = detector_path("short").with_name(DETECTOR_SPECS["short_int8"].model_file)
    parser.add_argument("--out", type=Path, default=bundled,
                        help=f"where to write the int8 model (default {bundled}: the file the SDK ships)")
    args = parser.parse_args(argv)
    quantize(detector_path("short"), args.out, args.images)
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
