"""What every benchmark shares: the machine's description, percentiles, text tables, JSON output,
model paths and matplotlib set up for files.

Every script writes ``OUT/NAME.json`` (all numbers, plus :func:`machine_info`) and ``OUT/NAME.png``
into ``--out`` (default ``benchmarks/results/``) and prints its table on stdout.
"""
from __future__ import annotations

import argparse
import datetime
import json
import os
import platform
import sys
from pathlib import Path
from typing import Any, Iterable, Iterator, Sequence

import numpy as np

DEFAULT_OUT = Path(__file__).resolve().parent / "results"
# Load average per core above which the script warns that timings are disturbed by other processes.
BUSY_LOAD_PER_CORE = 0.3


# CPU features that decide int8 and float speed (x86: AVX2 / AVX-512 / VNNI dot products; ARM: NEON,
# dotprod, i8mm). Timings differ by 2x and more between hosts with and without them.
ISA_FEATURES = ("avx2", "fma", "avx512f", "avx512_vnni", "avx_vnni", "avx512_bf16", "asimd", "asimddp", "i8mm")


def isa_features() -> list[str]:
    """The ``ISA_FEATURES`` this host's CPU reports (/proc/cpuinfo flags or Features), in that order."""
    try:
        text = Path("/proc/cpuinfo").read_text()
    except OSError:
        return []
    flags = set()
    for line in text.splitlines():
        if line.lower().startswith(("flags", "features")):
            flags.update(line.split(":", 1)[1].split())
    return [feature for feature in ISA_FEATURES if feature in flags]


def machine_info() -> dict[str, Any]:
    """Where the numbers were taken: CPU, its ISA features, core count, OS, library versions, load average."""
    cpu = platform.processor() or ""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.lower().startswith(("model name", "hardware", "cpu model")):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    versions = {}
    for module in ("numpy", "cv2", "ai_edge_litert", "tflite_runtime"):
        try:
            versions[module] = getattr(__import__(module), "__version__", "?")
        except ImportError:
            continue
    try:
        from importlib.metadata import version

        versions.setdefault("ai_edge_litert", version("ai-edge-litert"))
    except Exception:  # noqa: BLE001 - metadata is optional information
        pass
    load = os.getloadavg() if hasattr(os, "getloadavg") else (float("nan"),) * 3
    return {
        "date_utc": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
        "machine": platform.machine(),
        "cpu": cpu,
        "isa": isa_features(),
        "cores": os.cpu_count(),
        "os": platform.platform(),
        "python": sys.version.split()[0],
        "versions": versions,
        "load_average_1_5_15min": [round(v, 2) for v in load],
        "emulated": is_emulated(),
    }


def is_emulated() -> bool:
    """True under qemu user emulation (the ARM check): timings there are not the target CPU's."""
    if os.environ.get("DENSEFACE_EMULATED"):
        return True
    try:
        return "qemu" in Path("/proc/cpuinfo").read_text().lower()
    except OSError:
        return False


def load_warning() -> str | None:
    """A warning line when other processes keep the CPU busy (1-min load average), else None."""
    if not hasattr(os, "getloadavg"):
        return None
    load = os.getloadavg()[0]
    cores = os.cpu_count() or 1
    if load > BUSY_LOAD_PER_CORE * cores:
        return (f"WARNING: load average {load:.1f} on {cores} cores: other processes are using the CPU; "
                "these timings are not representative")
    return None


def percentiles(samples_ms: Iterable[float]) -> dict[str, float]:
    """n, p50, p95, p99, mean and min of samples in milliseconds (NaN for an empty list)."""
    values = np.asarray(list(samples_ms), np.float64)
    if values.size == 0:
        return {"n": 0, "p50": float("nan"), "p95": float("nan"), "p99": float("nan"),
                "mean": float("nan"), "min": float("nan")}
    p50, p95, p99 = np.percentile(values, [50, 95, 99])
    return {"n": int(values.size), "p50": float(p50), "p95": float(p95), "p99": float(p99),
            "mean": float(values.mean()), "min": float(values.min())}


def format_table(headers: Sequence[str], rows: Sequence[Sequence[object]], title: str | None = None) -> str:
    """A plain-text table: columns padded to their widest cell, floats with 3 decimals."""
    def cell(value: object) -> str:
        if isinstance(value, float):
            return "nan" if not np.isfinite(value) else f"{value:.3f}"
        return str(value)

    text = [[cell(v) for v in row] for row in rows]
    widths = [max([len(h)] + [len(r[i]) for r in text]) for i, h in enumerate(headers)]
    lines = [] if title is None else [title]
    lines.append("  ".join(h.ljust(w) for h, w in zip(headers, widths)))
    lines.append("  ".join("-" * w for w in widths))
    lines.extend("  ".join(v.rjust(w) if i else v.ljust(w) for i, (v, w) in enumerate(zip(r, widths))) for r in text)
    return "\n".join(lines)


def _jsonable(value: Any) -> Any:
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    if isinstance(value, np.ndarray):
        return _jsonable(value.tolist())
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, float) and not np.isfinite(value):
        return None  # JSON has no NaN
    if isinstance(value, Path):
        return str(value)
    return value


def write_json(out_dir: Path, name: str, payload: dict[str, Any]) -> Path:
    """Write ``payload`` plus ``machine`` (:func:`machine_info`) to OUT/NAME.json; returns the path."""
    out_dir.mkdir(parents=True, exist_ok=True)
    path = out_dir / f"{name}.json"
    path.write_text(json.dumps(_jsonable({"machine": machine_info(), **payload}), indent=2))
    return path


def pyplot():
    """matplotlib.pyplot with the file-only Agg backend."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def save_png(fig: Any, out_png: Path) -> Path:
    """Lay out, write (110 dpi) and close a matplotlib figure; returns ``out_png``."""
    fig.tight_layout()
    out_png.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(out_png, dpi=110)
    pyplot().close(fig)
    return out_png


def landmark_model(model: str | Path | None) -> Path:
    """The landmark model to benchmark: a bundled model's name ("full", "lite"), a .tflite path, or
    the bundled full model when None.

    Raises:
        FileNotFoundError: the file does not exist (the message names ``--model``).
    """
    from denseface.landmark_model import BUNDLED_MODELS, bundled_path

    if model is None or str(model) in BUNDLED_MODELS:
        try:
            return bundled_path() if model is None else bundled_path(str(model))
        except FileNotFoundError as error:
            raise FileNotFoundError(f"{error} (benchmarks: --model PATH)") from error
    path = Path(model).expanduser()
    if not path.is_file():
        raise FileNotFoundError(f"landmark model {path} not found (--model)")
    return path


def model_argument(parser: argparse.ArgumentParser, model: str | None) -> Path:
    """:func:`landmark_model` of a benchmark's ``--model`` value; a missing file ends the program
    through ``parser.error`` (usage, the message, exit status 2)."""
    try:
        return landmark_model(model)
    except FileNotFoundError as error:
        parser.error(str(error))


def float_model_beside(int8_path: Path) -> Path | None:
    """``denseface_float32.tflite`` beside an int8 model named ``*int8*``, when it exists."""
    candidate = int8_path.with_name(int8_path.name.replace("int8", "float32"))
    return candidate if candidate != int8_path and candidate.is_file() else None


def rendered_test_views(data: Path, limit: int) -> Iterator[dict[str, Any]]:
    """Up to ``limit`` rendered views (view > 0) of the dataset's held-out test split (split 2:
    ``train.learning.dataset.TEST_SPLIT``, read here without TensorFlow) from ``DATA/shards/shard_*.npz``
    (``train.labels.build_dataset``), in shard order. Each: ``image`` (128, 128, 3) uint8 RGB, ``points``
    (520, 3) float64 its labels (the ICT mesh's points, crop pixels, z towards the camera), ``yaw``
    (degrees) and ``flags`` (the view's expression edits, ``build_dataset.FLAG_*``).

    Raises FileNotFoundError when there are no shards."""
    paths = sorted((data / "shards").glob("shard_*.npz"))
    if not paths:
        raise FileNotFoundError(f"no dataset shards under {data}/shards (python -m train.labels.build_dataset)")
    count = 0
    for path in paths:
        with np.load(path) as shard:
            for row in np.flatnonzero((shard["split"] == 2) & (shard["view"] > 0)):
                if count == limit:
                    return
                count += 1
                yield {"image": shard["images"][row], "points": shard["points"][row].astype(np.float64),
                       "yaw": float(shard["yaw"][row]), "flags": int(shard["flags"][row])}
