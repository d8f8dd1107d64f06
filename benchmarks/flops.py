"""Size and compute of the landmark models: parameters, MACs and FLOPs per operator, file size.

    python -m benchmarks.flops [--model M_int8.tflite] [--extra MORE.tflite ...] [--sizes 96 112 120 128 160]

Models: ``--model`` (default the bundled int8 model) and its float32 twin beside it when present
(``denseface_float32.tflite``), any ``--extra`` files, and for comparison MediaPipe 0.10.14's
face_landmark.tflite and BlazeFace short range (``--no-reference`` drops them). ``--sizes`` also
exports the landmark architecture (``train.learning.model``: MobileNetV2 α=1.0 → pooling → Dense(1560)) at
other input sizes with random weights, float32, to count what a smaller or larger input would cost
(needs TensorFlow; architecture only, these files are thrown away).

Counting rule (``train.evaluation.macs``, read from the .tflite flatbuffer's main subgraph, batch 1):
CONV_2D = N·Ho·Wo·Co·kh·kw·Ci MACs; DEPTHWISE_CONV_2D = N·Ho·Wo·Co·kh·kw; FULLY_CONNECTED =
rows·units·in; every other op (adds, pooling, padding, (de)quantize, reshape) counts 0.
FLOPs = 2 × MACs. Parameters = elements of the constant tensors (those backed by a buffer) that
feed the counted ops (weights and biases, also when stored as float16 behind a DEQUANTIZE op, as
in MediaPipe's models); "constants" = elements of every constant tensor.
File size = bytes on disk.

Writes OUT/flops.json (per model: the totals, per op type, and every counted op) and OUT/flops.png.
"""
from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

import numpy as np

from benchmarks.common import (DEFAULT_OUT, float_model_beside, format_table, model_argument, pyplot, save_png,
                               write_json)

SIZES = (96, 112, 120, 128, 160)


def _counted_ops():
    """train.evaluation.macs, or a clear error naming it."""
    try:
        from train.evaluation.macs import count_macs
    except ImportError as error:
        raise SystemExit("benchmarks.flops needs train.evaluation.macs.count_macs (the MAC counter): "
                         f"{error}") from error
    return count_macs


def graph_summary(path: Path) -> dict:
    """Totals of one .tflite: input shape/dtype, bytes, params, constants, MACs, FLOPs, per op type."""
    from ai_edge_litert import schema_py_generated as schema

    cost = _counted_ops()(path)
    buffer = path.read_bytes()
    model = schema.Model.GetRootAs(buffer, 0)
    graph = model.Subgraphs(0)
    counted = {op.index for op in cost.ops}
    constant = {}
    for t in range(graph.TensorsLength()):
        tensor = graph.Tensors(t)
        data = model.Buffers(tensor.Buffer())
        if data is not None and (data.DataLength() > 0 or data.Offset() > 1):
            constant[t] = int(np.prod(tensor.ShapeAsNumpy(), dtype=np.int64)) if tensor.ShapeLength() else 1
    names = {v: k for k, v in vars(schema.BuiltinOperator).items() if not k.startswith("_")}
    op_counts: dict[str, int] = {}
    dequantized: dict[int, int] = {}  # output tensor of a DEQUANTIZE of a constant → that constant
    inputs_of_counted: list[int] = []
    for i in range(graph.OperatorsLength()):
        op = graph.Operators(i)
        code = model.OperatorCodes(op.OpcodeIndex())
        kind = names.get(max(int(code.BuiltinCode()), int(code.DeprecatedBuiltinCode())), "CUSTOM")
        op_counts[kind] = op_counts.get(kind, 0) + 1
        inputs = [int(t) for t in op.InputsAsNumpy() if t >= 0]
        if kind == "DEQUANTIZE" and inputs and inputs[0] in constant:  # float16 weights (MediaPipe)
            dequantized[int(op.OutputsAsNumpy()[0])] = inputs[0]
        if i in counted:
            inputs_of_counted.extend(inputs)
    weights = {dequantized.get(t, t) for t in inputs_of_counted} & set(constant)
    entry = graph.Tensors(int(graph.InputsAsNumpy()[0]))
    dtype_names = {v: k for k, v in vars(schema.TensorType).items() if not k.startswith("_")}
    return {
        "path": str(path), "bytes": path.stat().st_size,
        "input": [int(n) for n in entry.ShapeAsNumpy()], "input_dtype": dtype_names.get(entry.Type(), "?").lower(),
        "params": int(sum(constant[t] for t in weights)), "constants": int(sum(constant.values())),
        "macs": cost.macs, "flops": cost.flops, "macs_by_op": cost.by_op(), "op_counts": op_counts,
        "ops": [{"index": op.index, "op": op.op, "macs": op.macs} for op in cost.ops],
    }


def export_at_sizes(sizes: list[int], folder: Path) -> dict[str, Path]:
    """Random-weight float32 .tflite of the landmark architecture at each input size (cost only)."""
    from train.learning.export import convert_float
    from train.learning.model import build_model

    paths = {}
    for size in sizes:
        name = f"architecture @{size} (random float32)"
        paths[name] = folder / f"arch_{size}.tflite"
        paths[name].write_bytes(convert_float(build_model(input_size=size)))  # the shipped model's export path
    return paths


def draw(models: dict[str, dict], out_png: Path) -> Path:
    """Left: MACs and file size per model. Right: MACs of each counted op along the first model's graph."""
    plt = pyplot()
    fig, (left, right) = plt.subplots(1, 2, figsize=(13, 5))
    names = list(models)
    x = np.arange(len(names))
    macs = np.array([models[n]["macs"] / 1e6 for n in names])
    size = np.array([models[n]["bytes"] / 1e6 for n in names])
    left.bar(x - 0.2, macs, 0.4, label="MMACs", color="tab:blue")
    twin = left.twinx()
    twin.bar(x + 0.2, size, 0.4, label="file MB", color="tab:orange")
    left.set_xticks(x, [n.replace(" (", "\n(") for n in names], fontsize=7, rotation=20)
    left.set_ylabel("MMACs (counted ops)")
    twin.set_ylabel("file size, MB")
    left.set_title("compute and size")
    left.legend(loc="upper left", fontsize=8)
    twin.legend(loc="upper right", fontsize=8)
    first = models[names[0]]
    colours = {"CONV_2D": "tab:blue", "DEPTHWISE_CONV_2D": "tab:green", "FULLY_CONNECTED": "tab:red"}
    for kind, colour in colours.items():
        ops = [(i, op["macs"] / 1e6) for i, op in enumerate(first["ops"]) if op["op"] == kind]
        if ops:
            right.bar([i for i, _ in ops], [m for _, m in ops], color=colour, label=kind)
    right.set_xlabel("counted op, in graph order")
    right.set_ylabel("MMACs")
    right.set_title(f"per operator: {names[0]}")
    right.legend(fontsize=8)
    return save_png(fig, out_png)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter, epilog=__doc__)
    parser.add_argument("--model", help="landmark model: full, lite or a .tflite (default: the bundled full model)")
    parser.add_argument("--extra", type=Path, nargs="*", default=[], help="more .tflite files to count")
    parser.add_argument("--sizes", type=int, nargs="*", default=[],
                        help=f"also count the architecture at these input sizes (e.g. {' '.join(map(str, SIZES))}); needs TensorFlow")
    parser.add_argument("--no-reference", action="store_true", help="leave out MediaPipe's face_landmark and BlazeFace")
    parser.add_argument("--per-op", action="store_true", help="also print every counted op of the first model")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help=f"output folder (default {DEFAULT_OUT})")
    args = parser.parse_args(argv)

    model = model_argument(parser, args.model)
    paths: dict[str, Path] = {f"denseface ({model.name})": model}
    twin = float_model_beside(model)
    if twin is not None:
        paths[f"denseface ({twin.name})"] = twin
    for extra in args.extra:
        if not extra.is_file():
            parser.error(f"--extra {extra}: no such file")
        if extra.resolve() not in {p.resolve() for p in paths.values()}:
            paths[extra.name] = extra
    if not args.no_reference:
        from denseface.detect import detector_path
        from denseface.fetch import model_path

        paths["MediaPipe face_landmark (468)"] = model_path("mesh468")
        paths["BlazeFace short"] = detector_path("short")
    with tempfile.TemporaryDirectory(prefix="denseface-sizes-") as tmp:
        if args.sizes:
            print(f"exporting the architecture at {args.sizes} (TensorFlow) ...", file=sys.stderr)
            paths.update(export_at_sizes(args.sizes, Path(tmp)))
        models = {name: graph_summary(path) for name, path in paths.items()}
    rows = [(name, "x".join(map(str, m["input"])) + " " + m["input_dtype"], f"{m['bytes'] / 1e6:.2f}",
             f"{m['params'] / 1e6:.3f}", f"{m['constants'] / 1e6:.3f}", f"{m['macs'] / 1e6:.1f}", f"{m['flops'] / 1e6:.1f}")
            for name, m in models.items()]
    print(format_table(("model", "input", "file MB", "params M", "constants M", "MMACs", "MFLOPs"), rows,
                       title="Models (params: weights+biases of the counted ops; constants: every constant tensor)"))
    for name, m in models.items():
        total = max(m["macs"], 1)
        rows = [(kind, m["op_counts"].get(kind, 0), f"{macs / 1e6:.2f}", f"{100 * macs / total:.1f}%")
                for kind, macs in sorted(m["macs_by_op"].items(), key=lambda kv: -kv[1])]
        others = sum(c for k, c in m["op_counts"].items() if k not in m["macs_by_op"])
        rows.append(("other ops (counted as 0)", others, "0", "0%"))
        print(format_table(("op", "count", "MMACs", "share"), rows, title=f"\n{name}"))
    if args.per_op:
        name, first = next(iter(models.items()))
        rows = [(op["index"], op["op"], f"{op['macs'] / 1e6:.3f}") for op in first["ops"]]
        print(format_table(("op index", "op", "MMACs"), rows, title=f"\nEvery counted op: {name}"))
    print("\nRule: CONV_2D N·Ho·Wo·Co·kh·kw·Ci, DEPTHWISE_CONV_2D N·Ho·Wo·Co·kh·kw, FULLY_CONNECTED rows·units·in "
          "MACs; other ops 0; FLOPs = 2 × MACs (train.evaluation.macs)")
    json_path = write_json(args.out, "flops", {"rule": __doc__.split("Counting rule")[1].split("Writes")[0].strip(),
                                               "models": models})
    png_path = draw(models, args.out / "flops.png")
    print(f"\nwrote {json_path} and {png_path}")


if __name__ == "__main__":
    main()
