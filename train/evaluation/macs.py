"""Multiply-accumulate count of a .tflite graph, read from its flatbuffer (LiteRT's schema).

Rule: only the ops that dominate a CNN's cost are counted, from the tensor shapes of the main
subgraph (batch N included):

* CONV_2D, output (N, Ho, Wo, Co), filter (Co, kh, kw, Ci): N·Ho·Wo·Co·kh·kw·Ci MACs;
* DEPTHWISE_CONV_2D, output (N, Ho, Wo, Co), filter (1, kh, kw, Co): N·Ho·Wo·Co·kh·kw MACs;
* FULLY_CONNECTED, weights (units, in), output with R·units elements: R·units·in MACs.

Element-wise ops, pooling, padding and (de)quantization are not counted (well under 1 % for
MobileNetV2). FLOPs = 2 · MACs (one multiply and one add each).
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
from ai_edge_litert import schema_py_generated as schema

_COUNTED = {
    schema.BuiltinOperator.CONV_2D: "CONV_2D",
    schema.BuiltinOperator.DEPTHWISE_CONV_2D: "DEPTHWISE_CONV_2D",
    schema.BuiltinOperator.FULLY_CONNECTED: "FULLY_CONNECTED",
}


@dataclass(frozen=True)
class OpCost:
    """MACs of one counted op: its index in the subgraph, its builtin name and its MACs."""

    index: int
    op: str
    macs: int


@dataclass(frozen=True)
class GraphCost:
    """MACs of a .tflite graph: ``ops`` one entry per counted op; ``macs`` their sum; ``flops`` = 2·macs."""

    ops: tuple[OpCost, ...]

    @property
    def macs(self) -> int:
        return sum(op.macs for op in self.ops)

    @property
    def flops(self) -> int:
        return 2 * self.macs

    def by_op(self) -> dict[str, int]:
        """MACs summed per op type."""
        totals: dict[str, int] = {}
        for op in self.ops:
            totals[op.op] = totals.get(op.op, 0) + op.macs
        return totals


def _builtin(code: schema.OperatorCode) -> int:
    """The op's builtin code (newer files store codes ≥ 127 only in ``BuiltinCode``)."""
    return max(int(code.BuiltinCode()), int(code.DeprecatedBuiltinCode()))


def _op_macs(kind: int, shapes: list[np.ndarray], out_shape: np.ndarray) -> int:
    """MACs of one op from its input shapes (data, weights, …) and its output shape."""
    weights = shapes[1]
    if kind == schema.BuiltinOperator.CONV_2D:
        return int(np.prod(out_shape, dtype=np.int64) * np.prod(weights[1:], dtype=np.int64))
    if kind == schema.BuiltinOperator.DEPTHWISE_CONV_2D:
        return int(np.prod(out_shape, dtype=np.int64) * weights[1] * weights[2])
    return int(np.prod(out_shape, dtype=np.int64) * weights[1])  # FULLY_CONNECTED


def count_macs(path: str | Path) -> GraphCost:
    """MACs of the counted ops of the main subgraph of the .tflite file ``path`` (see module docstring).

    Raises ValueError if the file is not a TFLite flatbuffer.
    """
    buffer = Path(path).read_bytes()
    if buffer[4:8] != b"TFL3":
        raise ValueError(f"{path} is not a TFLite model: expected the identifier 'TFL3' at bytes 4..8")
    model = schema.Model.GetRootAs(buffer, 0)
    graph = model.Subgraphs(0)
    ops = []
    for i in range(graph.OperatorsLength()):
        op = graph.Operators(i)
        kind = _builtin(model.OperatorCodes(op.OpcodeIndex()))
        if kind not in _COUNTED:
            continue
        shapes = [graph.Tensors(int(t)).ShapeAsNumpy() for t in op.InputsAsNumpy() if t >= 0]
        out_shape = graph.Tensors(int(op.OutputsAsNumpy()[0])).ShapeAsNumpy()
        ops.append(OpCost(index=i, op=_COUNTED[kind], macs=_op_macs(kind, shapes, out_shape)))
    return GraphCost(ops=tuple(ops))
