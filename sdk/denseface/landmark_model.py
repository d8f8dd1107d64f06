"""The landmark model: its contract, checked at load; the bundled model files; one crop → 1560 values.

Contract: one input of shape (1, 120, 120, 3), RGB — uint8 (raw pixels), int8 with quantization
parameters, or float32 with values 0..255 — and one output of 1560 values (the 520 points × (x, y, z)
/ 120 in crop pixels of ``denseface.decode``; int8 / uint8 outputs are dequantized with the tensor's
scale and zero point by ``denseface.infer.TFLiteModel``). The crop is ``denseface.crop``'s.

The SDK (``DenseFace.model``), ``train/evaluation/evaluate.py`` and ``train/learning/export.py`` run landmark models
through :class:`LandmarkModel`, so the contract is written once; the Android demo's golden files
(``android_demo/tools/make_golden.py``) take the bundled models from :func:`bundled_path`.

Two models are bundled, both full-integer int8 with this contract (model card: ``models/MODEL_CARD.md``):
"full", the paper's MobileNetV2 α 1.0 (95.1 M MACs, the default), and "lite", MobileNetV2 α 0.5
distilled from it (31.6 M MACs, under MediaPipe's 35.0 M landmark model) for CPUs without fast int8
dot products.
"""
from __future__ import annotations

import math
from importlib import resources
from pathlib import Path

import numpy as np

from denseface.crop import MODEL_INPUT
from denseface.decode import OUTPUT_SIZE
from denseface.infer import TFLiteModel
from denseface.topology import N_POINTS, load_topology

# The landmark models shipped inside the denseface package, by name (paths relative to the package).
BUNDLED_MODELS: dict[str, str] = {"full": "models/denseface_int8.tflite",
                                  "lite": "models/denseface_lite_int8.tflite"}
DEFAULT_MODEL = "full"


def bundled_path(name: str = DEFAULT_MODEL) -> Path:
    """Path of the bundled landmark model ``name`` (a key of ``BUNDLED_MODELS``).

    Raises:
        ValueError: an unknown name.
        FileNotFoundError: this installation lacks the file.
    """
    if name not in BUNDLED_MODELS:
        raise ValueError(f"unknown bundled landmark model {name!r}; expected one of {sorted(BUNDLED_MODELS)}")
    path = Path(str(resources.files("denseface").joinpath(BUNDLED_MODELS[name])))
    if not path.is_file():
        raise FileNotFoundError(
            f"the bundled landmark model {path} is missing from this installation; "
            "pass model_path= (CLI: --model) to a DenseFace .tflite model"
        )
    return path


class LandmarkModel:
    """A landmark .tflite that keeps the contract (module docstring).

    Not thread-safe (it owns one LiteRT interpreter): use one instance per thread.

    Attributes:
        path: the .tflite file.
        input_dtype: numpy dtype of its input tensor (uint8, int8 or float32).
    """

    def __init__(self, path: str | Path, num_threads: int = 1, mirror_average: bool = False) -> None:
        """Load ``path`` with ``num_threads`` CPU threads (>= 1) and check its tensors.

        Args:
            mirror_average: :meth:`run` also runs the model on the crop's mirror image and averages
                the two (twice the time; more accurate, see the model card).

        Raises:
            FileNotFoundError: no such file.
            ValueError: not a loadable .tflite, or its tensors do not match the contract.
        """
        self._model = TFLiteModel(path, num_threads)
        self.mirror_average = bool(mirror_average)
        self._flip = load_topology().flip if self.mirror_average else None
        self.path = self._model.path
        self.input_dtype = self._model.input_dtype
        expected = (1, MODEL_INPUT, MODEL_INPUT, 3)
        if self._model.input_shape != expected:
            raise ValueError(
                f"{self.path.name} has input shape {self._model.input_shape}; a DenseFace landmark model takes "
                f"{expected} (is this the landmark model?)"
            )
        outputs = self._model.output_shapes
        if len(outputs) != 1 or math.prod(outputs[0]) != OUTPUT_SIZE:
            raise ValueError(
                f"{self.path.name} has output shapes {outputs}; a DenseFace landmark model has one "
                f"output of {OUTPUT_SIZE} values ({N_POINTS} points × 3)"
            )

    def run(self, crop: np.ndarray) -> np.ndarray:
        """The (1560,) float32 output for a (120, 120, 3) uint8 RGB crop (``denseface.decode`` reads it).

        A uint8 crop goes to a uint8 input as is; for an int8 or float32 input it is converted to
        float32 (0..255) and, for int8, quantized with the input's scale and zero point. With
        ``mirror_average``: the mean of this output and the mirror image's output mirrored back (its
        points renumbered by the topology's left/right ``flip`` and x ↦ 119 − x crop pixels; depth
        as it is), in the same contract.
        """
        output = self._run_once(crop)
        if not self.mirror_average:
            return output
        mirrored = self._run_once(np.ascontiguousarray(crop[:, ::-1])).reshape(N_POINTS, 3)[self._flip]
        mirrored[:, 0] = np.float32((MODEL_INPUT - 1) / MODEL_INPUT) - mirrored[:, 0]
        return ((output.reshape(N_POINTS, 3) + mirrored) * np.float32(0.5)).reshape(-1)

    def _run_once(self, crop: np.ndarray) -> np.ndarray:
        x = crop[None] if self.input_dtype == np.uint8 else crop[None].astype(np.float32)
        return self._model.run(x)[0].reshape(-1)
