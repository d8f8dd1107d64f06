"""Export the topology the Android demo draws and fits the pose to: ``app/src/main/assets/topology.bin``.

    PYTHONPATH=sdk python android_demo/tools/export_assets.py

Source: ``sdk/denseface/assets/topology.npz`` (``denseface.topology.load_topology``). The binary is
little-endian and read by ``dev.denseface.core.Topology.read``:

    bytes 0..3   magic "DFTP"
    int32        format version (1)
    int32        n_points (520), int32 n_triangles (M), int32 n_landmarks68 (68)
    float32[n_points * 3]     mean_shape, cm, model frame (x viewer's right, y up, z towards the viewer)
    int32[M * 3]              triangles (indices into the points)
    int32[n_points]           flip (left/right partner of each point)

Re-run it whenever ``topology.npz`` changes (a test checks that the two agree).
"""
from __future__ import annotations

import argparse
import struct
from pathlib import Path

import numpy as np

from denseface.topology import IBUG68, load_topology

MAGIC = b"DFTP"
VERSION = 1
DEFAULT_OUT = Path(__file__).resolve().parents[1] / "app" / "src" / "main" / "assets" / "topology.bin"


def topology_bytes() -> bytes:
    """The topology.bin contents for the bundled topology."""
    topology = load_topology()
    mean_shape = np.ascontiguousarray(topology.mean_shape, "<f4")
    triangles = np.ascontiguousarray(topology.triangles, "<i4")
    flip = np.ascontiguousarray(topology.flip, "<i4")
    header = MAGIC + struct.pack("<iiii", VERSION, mean_shape.shape[0], triangles.shape[0], len(IBUG68))
    return header + mean_shape.tobytes() + triangles.tobytes() + flip.tobytes()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help="output file (default: %(default)s)")
    args = parser.parse_args()
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_bytes(topology_bytes())
    print(f"wrote {args.out} ({args.out.stat().st_size} bytes)")


if __name__ == "__main__":
    main()
