"""A synthetic landmark model with the real model's contract and a known output, for SDK tests.

    python tests/synthetic_model.py OUT_DIR      (needs TensorFlow; tests call it in a subprocess)

The model maps a (1, 120, 120, 3) uint8 RGB crop to 1560 values (``denseface.decode``'s contract):

    output = encode(MEAN_FACE) + SHIFT_PER_UNIT · (mean R − mean B) / 255 on every x coordinate

MEAN_FACE (:func:`mean_face_crop`) is ``topology.mean_shape`` placed upright in the crop so that the
square box of its 68 points, enlarged ×√2, is exactly the crop (the crop rule of ``denseface.crop``):
a crop made from a "landmarks68" box B therefore decodes to 68 points whose square box is B's. The
colour term makes the output depend on the pixels the crop holds and on their channel order.

Two files are written: ``synthetic_float32.tflite`` (float32 in and out) and
``synthetic_int8.tflite`` (full-integer int8, uint8 input, int8 output dequantized by TFLiteModel).
Never ship these: they are not trained. The SDK tests build them once into a temporary folder.
"""
from __future__ import annotations

import hashlib
import subprocess
import sys
from importlib import resources
from pathlib import Path

import numpy as np

from denseface.crop import LANDMARK_BOX_SCALE, MODEL_INPUT, landmark_square
from denseface.decode import encode
from denseface.topology import IBUG68, load_topology

SHIFT_PER_UNIT = 0.1  # output x change (fraction of the crop) per unit of (mean R − mean B) / 255


def mean_face_crop() -> np.ndarray:
    """(520, 3) float64: the mean shape in crop pixels (x right, y down, z towards the camera), its
    68-point square box ×√2 filling the 120-px crop."""
    shape = load_topology().mean_shape.astype(np.float64) * [1.0, -1.0, 1.0]  # y down
    (cx, cy), side = landmark_square(shape[IBUG68, :2])
    scale = MODEL_INPUT / (side * LANDMARK_BOX_SCALE)
    centre = (MODEL_INPUT - 1) / 2.0
    out = (shape - [cx, cy, 0.0]) * scale
    out[:, :2] += centre
    return out


def expected_output(crop_rgb: np.ndarray) -> np.ndarray:
    """(1560,) float32 what the float32 synthetic model returns for a (120, 120, 3) uint8 RGB crop."""
    mean = crop_rgb.reshape(-1, 3).astype(np.float64).mean(0) / 255.0
    out = encode(mean_face_crop()).astype(np.float64).reshape(-1, 3)
    out[:, 0] += SHIFT_PER_UNIT * (mean[0] - mean[2])
    return out.reshape(-1).astype(np.float32)


def build(out_dir: Path) -> None:
    """Write both .tflite files into ``out_dir`` (imports TensorFlow)."""
    import tensorflow as tf

    bias = encode(mean_face_crop()).astype(np.float32)
    kernel = np.zeros((3, bias.size), np.float32)
    kernel[0, 0::3] = SHIFT_PER_UNIT / 255.0
    kernel[2, 0::3] = -SHIFT_PER_UNIT / 255.0

    class Synthetic(tf.Module):
        @tf.function(input_signature=[tf.TensorSpec((1, MODEL_INPUT, MODEL_INPUT, 3), tf.float32)])
        def __call__(self, x):
            mean = tf.reduce_mean(x, axis=[1, 2])  # (1, 3)
            return tf.matmul(mean, kernel) + bias

    module = Synthetic()
    function = module.__call__.get_concrete_function()
    converter = tf.lite.TFLiteConverter.from_concrete_functions([function], module)
    (out_dir / "synthetic_float32.tflite").write_bytes(converter.convert())

    rng = np.random.default_rng(0)

    def representative():
        for _ in range(32):
            # per-channel levels spanning 0..255 so that the channel means' range is calibrated
            level = rng.uniform(0, 255, (1, 1, 1, 3))
            noise = rng.normal(0, 20, (1, MODEL_INPUT, MODEL_INPUT, 3))
            yield [np.clip(level + noise, 0, 255).astype(np.float32)]

    converter = tf.lite.TFLiteConverter.from_concrete_functions([function], module)
    converter.optimizations = [tf.lite.Optimize.DEFAULT]
    converter.representative_dataset = representative
    converter.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS_INT8]
    converter.inference_input_type = tf.uint8
    converter.inference_output_type = tf.int8
    (out_dir / "synthetic_int8.tflite").write_bytes(converter.convert())


def synthetic_models(root: Path) -> dict[str, Path]:
    """Paths of the two synthetic models, built (in a subprocess, TensorFlow) on first use under
    ``root``/<hash of this file and of the topology they encode>. Raises RuntimeError when they cannot
    be built (no TensorFlow)."""
    topology = resources.files("denseface").joinpath("assets/topology.npz").read_bytes()
    digest = hashlib.sha256(Path(__file__).read_bytes() + topology).hexdigest()[:12]
    out_dir = root / f"denseface_synthetic_{digest}"
    paths = {kind: out_dir / f"synthetic_{kind}.tflite" for kind in ("float32", "int8")}
    if not all(p.is_file() for p in paths.values()):
        out_dir.mkdir(parents=True, exist_ok=True)
        run = subprocess.run([sys.executable, __file__, str(out_dir)], capture_output=True, text=True)
        if run.returncode != 0 or not all(p.is_file() for p in paths.values()):
            raise RuntimeError(f"could not build the synthetic models: {run.stderr[-2000:]}")
    return paths


if __name__ == "__main__":
    build(Path(sys.argv[1]))
