"""Build the SDK's blendshape asset: the ICT-FaceKit identity and expression bases at the 520 points.

    python -m train.labels.make_blendshape_basis [--out sdk/denseface/assets/blendshapes.npz]

``denseface.blendshapes`` fits ``mean_shape + identity·α + expression·β`` to a face's 520 points; this
writes what it needs beyond ``topology.npz`` (whose ``mean_shape`` is the ICT neutral at the 520
points): the first ``N_IDENTITY`` identity components and the ICT expressions that move the 520
points (all but PupilDilate_L/R, which move only the pupils), each evaluated at the 520 points
(``train.labels.ict.topology_points``), centimetres, model frame, stored as float16 (the bases'
largest offsets are a few cm: float16 keeps them to ~1e-3 cm, far below the points' error). ICT-FaceKit is MIT.

Arrays: ``identity`` (N_IDENTITY, 520, 3) float16, ``expression`` (E, 520, 3) float16,
``expression_names`` (E,) str (ICT's names, e.g. "eyeBlink_L": _L/_R are the subject's left/right).
"""
from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np

from train.data import REPO
from train.labels.ict import load_ict, topology_points

N_IDENTITY = 40  # ICT's components 40..99 move the 520 points by ≤ 0.03 cm RMS each at unit weight
UNUSED_EXPRESSIONS = ("PupilDilate_L", "PupilDilate_R")


def build() -> dict[str, np.ndarray]:
    """The asset's arrays (see the module doc)."""
    ict = load_ict()
    keep = [i for i, name in enumerate(ict.expression_names) if name not in UNUSED_EXPRESSIONS]
    identity = np.stack([topology_points(ict.identity[i]) for i in range(N_IDENTITY)])
    expression = np.stack([topology_points(ict.expression[i]) for i in keep])
    return {
        "identity": identity.astype(np.float16),
        "expression": expression.astype(np.float16),
        "expression_names": np.array([ict.expression_names[i] for i in keep]),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", type=Path, default=REPO / "sdk/denseface/assets/blendshapes.npz",
                        help="where to write the arrays (default: the SDK's bundled asset)")
    args = parser.parse_args()
    args.out.parent.mkdir(parents=True, exist_ok=True)
    np.savez_compressed(args.out, **build())
    print(f"wrote {args.out} ({args.out.stat().st_size / 1024:.0f} KiB)")


if __name__ == "__main__":
    main()
