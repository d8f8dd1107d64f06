"""Run a .tflite model with LiteRT (``ai_edge_litert``) or, failing that, ``tflite_runtime``.

Thread-safety: a TFLite interpreter is not thread-safe. Create one :class:`TFLiteModel` per thread
(or guard a shared one with a lock); several models in one process are fine.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import numpy as np

logger = logging.getLogger(__name__)

_FLATBUFFER_IDENTIFIER = b"TFL3"
_QUANTIZED_DTYPES = (np.int8, np.uint8)


def _interpreter_class() -> type:
    """Return the Interpreter class of ai_edge_litert, else of tflite_runtime."""
    try:
        from ai_edge_litert.interpreter import Interpreter
    except ImportError:
        try:
            from tflite_runtime.interpreter import Interpreter
        except ImportError as error:
            raise ImportError(
                "no TFLite runtime found: install 'ai-edge-litert' (pip install ai-edge-litert) "
                "or, on platforms without it, 'tflite-runtime'"
            ) from error
    return Interpreter


def load_interpreter(path: str | Path, num_threads: int = 1) -> Any:
    """Load a .tflite file into an interpreter with its tensors allocated.

    Args:
        path: the .tflite file.
        num_threads: CPU threads the interpreter may use (>= 1).

    Returns:
        An ``Interpreter`` (ai_edge_litert's or tflite_runtime's), ready to ``invoke``.

    Raises:
        FileNotFoundError: the file does not exist.
        ValueError: the file is not a TFLite flatbuffer (no "TFL3" identifier at bytes 4..8), is
            truncated or otherwise cannot be loaded; or ``num_threads`` < 1.
        TypeError: ``num_threads`` is not an int.
    """
    if not isinstance(num_threads, int) or isinstance(num_threads, bool):
        raise TypeError(f"num_threads must be an int, got {type(num_threads).__name__}")
    if num_threads < 1:
        raise ValueError(f"num_threads must be >= 1, got {num_threads}")
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"TFLite model file not found: {path}")
    with path.open("rb") as handle:
        header = handle.read(8)
    if len(header) < 8 or header[4:8] != _FLATBUFFER_IDENTIFIER:
        raise ValueError(
            f"{path} is not a TFLite model: expected the flatbuffer identifier 'TFL3' at bytes 4..8"
        )
    interpreter_class = _interpreter_class()
    try:
        interpreter = interpreter_class(model_path=str(path), num_threads=num_threads)
        interpreter.allocate_tensors()
    except (ValueError, RuntimeError) as error:
        raise ValueError(f"{path} could not be loaded as a TFLite model (truncated or corrupt?): {error}") from error
    return interpreter


class TFLiteModel:
    """A single-input TFLite model with quantization handled at its boundary.

    Not thread-safe: use one instance per thread.

    Attributes:
        path: the .tflite file.
        input_shape: shape of the input tensor, e.g. (1, 128, 128, 3).
        input_dtype: numpy dtype of the input tensor (float32, int8 or uint8).
        output_shapes: shape of each output tensor, in the order :meth:`run` returns them.
    """

    def __init__(self, path: str | Path, num_threads: int = 1) -> None:
        """Load ``path`` (see :func:`load_interpreter` for the errors raised)."""
        self.path = Path(path)
        self._interpreter = load_interpreter(self.path, num_threads)
        inputs = self._interpreter.get_input_details()
        if len(inputs) != 1:
            raise ValueError(f"{self.path} has {len(inputs)} inputs; TFLiteModel supports exactly one")
        self._input = inputs[0]
        self._outputs = self._interpreter.get_output_details()
        self.input_shape: tuple[int, ...] = tuple(int(n) for n in self._input["shape"])
        self.input_dtype: np.dtype = np.dtype(self._input["dtype"])
        self.output_shapes: list[tuple[int, ...]] = [tuple(int(n) for n in o["shape"]) for o in self._outputs]

    def _prepare_input(self, x: np.ndarray) -> np.ndarray:
        """Check ``x`` against the input tensor and convert it to the tensor's dtype.

        Float input to an int8/uint8 tensor is quantized as round(x / scale + zero_point), clipped
        to the dtype's range; input already in the tensor's dtype passes through unchanged.
        """
        if not isinstance(x, np.ndarray):
            raise TypeError(f"model input must be a numpy array, got {type(x).__name__}")
        if tuple(x.shape) != self.input_shape:
            raise ValueError(f"model input has shape {tuple(x.shape)}; {self.path.name} expects {self.input_shape}")
        if x.dtype == self.input_dtype:
            return np.ascontiguousarray(x)
        if self.input_dtype.type in _QUANTIZED_DTYPES:
            if not np.issubdtype(x.dtype, np.floating):
                raise TypeError(
                    f"model input has dtype {x.dtype}; {self.path.name} expects {self.input_dtype} "
                    "or floating point values to quantize"
                )
            return self.quantize(x)
        if np.issubdtype(self.input_dtype, np.floating) and np.issubdtype(x.dtype, np.floating):
            return np.ascontiguousarray(x, dtype=self.input_dtype)
        raise TypeError(f"model input has dtype {x.dtype}; {self.path.name} expects {self.input_dtype}")

    def quantize(self, values: np.ndarray) -> np.ndarray:
        """Float ``values`` (any shape) → the int8/uint8 input tensor's values: round(v / scale +
        zero_point) in float32, clipped to the dtype's range. The one quantization rule of this module.

        Raises:
            ValueError: the input tensor is not quantized (or has no scale).
        """
        if self.input_dtype.type not in _QUANTIZED_DTYPES:
            raise ValueError(f"{self.path.name}: the input tensor is {self.input_dtype}, not quantized")
        scale, zero_point = self._input["quantization"]
        if scale == 0.0:
            raise ValueError(f"{self.path.name}: quantized input tensor has no scale")
        info = np.iinfo(self.input_dtype)
        quantized = np.round(np.asarray(values).astype(np.float32) / np.float32(scale) + np.float32(zero_point))
        return np.clip(quantized, info.min, info.max).astype(self.input_dtype)

    def run(self, x: np.ndarray) -> list[np.ndarray]:
        """Run the model once.

        Args:
            x: input of shape ``input_shape``; dtype ``input_dtype``, or any float dtype (quantized
                here when the input tensor is int8/uint8).

        Returns:
            One float32 array per output tensor, in the model's output order, with the output's
            shape; quantized outputs are dequantized as (q - zero_point) * scale.
        """
        self._interpreter.set_tensor(self._input["index"], self._prepare_input(x))
        self._interpreter.invoke()
        results = []
        for detail in self._outputs:
            value = self._interpreter.get_tensor(detail["index"])
            scale, zero_point = detail["quantization"]
            if np.dtype(detail["dtype"]).type in _QUANTIZED_DTYPES and scale != 0.0:
                value = (value.astype(np.float32) - np.float32(zero_point)) * np.float32(scale)
            results.append(np.asarray(value, dtype=np.float32))  # get_tensor returned a copy
        return results
