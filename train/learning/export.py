"""Export a trained model to TFLite: float32 and full-integer int8.

CLI::

    python -m train.learning.export --model RUN_DIR/best.keras --data DATASET_DIR --out RUN_DIR
    cp RUN_DIR/denseface_int8.tflite sdk/denseface/models/      # to ship it

writes OUT/denseface_float32.tflite and OUT/denseface_int8.tflite (the float32 twin stays beside its
checkpoint, outside the repository; only the int8 model is committed), and RUN_DIR/export.json with file
sizes, parameter count, MACs/FLOPs counted from each .tflite graph (``train.evaluation.macs``) and the int8 −
float32 difference on validation crops.

The float model takes (1, 120, 120, 3) float32 RGB in 0..255. The int8 model has int8 weights
and activations, takes (1, 120, 120, 3) uint8 RGB (raw pixels: input scale 1, zero point 0) and
returns int8 that ``denseface.infer.TFLiteModel`` dequantizes into the 1560 float outputs of
``denseface.decode`` (the contract ``denseface.landmark_model`` checks). Activation ranges are
calibrated on ``CALIBRATION_CROPS`` training crops (the central 120 pixels of the dataset's 128-pixel
crops; never AFLW2000).

Size: convolution weights are quantized per output channel, the final dense layer per tensor, and
the int8 file's strings (tensor names, signature) are stripped. The format stores a float32 scale
and an int64 zero point for every channel of every weight and bias tensor, so per-channel
quantization of the 1560-output dense layer alone costs 37 KB, and the names 45 KB: without these
two steps the int8 file was 4,774,792 bytes, with them 4,690,376 (model r4; int8 − float32 on 200
validation crops mean 0.239 → 0.241 px, max 1.458 px both). Both models are addressed by tensor index.
"""
from __future__ import annotations

import argparse
import json
import tempfile
from pathlib import Path
from typing import Iterator

import keras
import numpy as np
import tensorflow as tf
from tensorflow.lite.tools import flatbuffer_utils

from denseface.crop import MODEL_INPUT
from denseface.landmark_model import LandmarkModel
from train.evaluation.macs import count_macs
from train.learning.augment import MARGIN
from train.learning.dataset import TRAIN_SPLIT, VAL_SPLIT, load_dataset
from train.learning.model import build_model, transfer_weights, width_multiplier

CALIBRATION_CROPS = 500  # training crops for the int8 activation ranges
CHECK_CROPS = 200  # validation crops for the int8 vs float32 comparison
FLOAT_NAME = "denseface_float32.tflite"
INT8_NAME = "denseface_int8.tflite"


def load_float_model(path: str | Path) -> keras.Model:
    """The model saved at ``path`` (.keras), rebuilt in float32 (training may use mixed precision) with
    its width and the linear head (a shape prior folded into it, see ``transfer_weights``)."""
    trained = keras.models.load_model(path, compile=False)
    keras.mixed_precision.set_global_policy("float32")
    model = build_model(alpha=width_multiplier(trained))
    transfer_weights(trained, model)  # a shape-prior head is folded into the one dense layer
    return model


def _converter(model: keras.Model, workdir: Path) -> tf.lite.TFLiteConverter:
    """A converter for ``model`` with a fixed (1, H, W, 3) float32 input, via a SavedModel in ``workdir``."""
    signature = [tf.TensorSpec((1,) + tuple(model.input_shape[1:]), tf.float32, name="image")]
    model.export(str(workdir / "saved_model"), format="tf_saved_model", input_signature=signature, verbose=False)
    return tf.lite.TFLiteConverter.from_saved_model(str(workdir / "saved_model"))


def convert_float(model: keras.Model) -> bytes:
    """The float32 .tflite flatbuffer of ``model``."""
    with tempfile.TemporaryDirectory() as workdir:
        return _converter(model, Path(workdir)).convert()


def convert_int8(model: keras.Model, calibration: np.ndarray) -> bytes:
    """The full-integer .tflite of ``model``: uint8 input, int8 weights/activations/output, strings
    stripped.

    calibration: (N, 120, 120, 3) uint8 RGB crops for the activation ranges.
    """
    def representative() -> Iterator[list[np.ndarray]]:
        for crop in calibration:
            yield [crop[None].astype(np.float32)]

    with tempfile.TemporaryDirectory() as workdir:
        converter = _converter(model, Path(workdir))
        converter.optimizations = [tf.lite.Optimize.DEFAULT]
        converter.representative_dataset = representative
        converter.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS_INT8]
        converter.inference_input_type = tf.uint8
        converter.inference_output_type = tf.int8
        converter._experimental_disable_per_channel_quantization_for_dense_layers = True  # size: see above
        model_object = flatbuffer_utils.convert_bytearray_to_object(bytearray(converter.convert()))
    flatbuffer_utils.strip_strings(model_object)  # tensor names, signature: 45 KB the runtime never reads
    return bytes(flatbuffer_utils.convert_object_to_bytearray(model_object))


def run_tflite(path: str | Path, crops: np.ndarray) -> np.ndarray:
    """(N, 1560) float32 outputs of the .tflite at ``path`` on (N, 120, 120, 3) uint8 RGB crops."""
    model = LandmarkModel(path)
    return np.stack([model.run(crop) for crop in crops])


def central_crops(images: np.ndarray) -> np.ndarray:
    """(N, 120, 120, 3) uint8: the model crops inside (N, 128, 128, 3) dataset crops."""
    return np.ascontiguousarray(images[:, MARGIN:MARGIN + MODEL_INPUT, MARGIN:MARGIN + MODEL_INPUT])


def export(model_path: Path, data: Path, out: Path) -> dict[str, object]:
    """Write both .tflite files to ``out`` and return the export summary (also saved as export.json
    beside ``model_path``)."""
    model = load_float_model(model_path)
    calibration = central_crops(load_dataset(data, TRAIN_SPLIT, CALIBRATION_CROPS).images)
    check = load_dataset(data, VAL_SPLIT, CHECK_CROPS)
    out.mkdir(parents=True, exist_ok=True)
    paths = {"float32": out / FLOAT_NAME, "int8": out / INT8_NAME}
    paths["float32"].write_bytes(convert_float(model))
    paths["int8"].write_bytes(convert_int8(model, calibration))
    crops = central_crops(check.images)
    outputs = {kind: run_tflite(path, crops) for kind, path in paths.items()}
    difference_px = np.abs(outputs["int8"] - outputs["float32"]) * MODEL_INPUT
    summary: dict[str, object] = {"params": int(model.count_params()), "calibration_crops": len(calibration)}
    for kind, path in paths.items():
        cost = count_macs(path)
        summary[kind] = {"path": str(path), "bytes": path.stat().st_size, "macs": cost.macs,
                         "flops": cost.flops, "macs_by_op": cost.by_op()}
    summary["int8_vs_float32"] = {"crops": len(crops), "mean_abs_px": float(difference_px.mean()),
                                  "max_abs_px": float(difference_px.max())}
    (model_path.parent / "export.json").write_text(json.dumps(summary, indent=2))
    return summary


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", type=Path, required=True, help="trained model, RUN_DIR/best.keras")
    parser.add_argument("--data", type=Path, required=True,
                        help="dataset directory (DIR/shards/*.npz): training crops calibrate the int8 "
                             "ranges, validation crops measure the int8 − float32 difference")
    parser.add_argument("--out", type=Path, required=True, help="directory for the two .tflite files")
    args = parser.parse_args(argv)
    summary = export(args.model, args.data, args.out)
    print(json.dumps(summary, indent=2))


if __name__ == "__main__":
    main()
