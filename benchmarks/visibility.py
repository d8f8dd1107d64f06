"""Visibility (``Face.visibility``) from the SDK's points against that from the labels, on renders.

    python -m benchmarks.visibility [--renders 600] [--data DIR] [--out DIR]

The dataset's held-out rendered views (``benchmarks.common.rendered_test_views``) carry the exact
520 points of the rendered ICT mesh. Their visibility (``denseface.visibility`` on the labels) agrees
with the full-resolution ICT z-buffer for 96 % of the points (``tests/test_visibility.py``); this
measures what the landmark model's error adds: per |yaw| bin ([0, 30], (30, 60], > 60), the share of
points whose visible/hidden call from the SDK's points (box given) matches that from the labels, and
the share of points each calls visible.

Writes OUT/visibility.json and prints the table.
"""
from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np

from benchmarks.common import DEFAULT_OUT, format_table, rendered_test_views, write_json
from denseface import DenseFace
from denseface.visibility import point_visibility
from train.data import CACHE

YAW_BINS = ("[0,30]", "(30,60]", ">60")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--renders", type=int, default=600, help="held-out rendered views")
    parser.add_argument("--data", type=Path, default=CACHE / "dataset", help="the dataset (its shards/)")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT)
    args = parser.parse_args(argv)
    sdk = DenseFace()
    rows = {b: {"agree": [], "labels_visible": [], "sdk_visible": []} for b in YAW_BINS}
    for view in rendered_test_views(args.data, args.renders):
        x0, y0 = view["points"][:68, :2].min(0)
        x1, y1 = view["points"][:68, :2].max(0)
        face = sdk.landmarks(view["image"], faces=[(x0, y0, x1, y1)])[0]
        truth, ours = point_visibility(view["points"]) > 0, face.visibility > 0
        yaw = abs(view["yaw"])
        row = rows[YAW_BINS[int(yaw > 30) + int(yaw > 60)]]
        row["agree"].append((truth == ours).mean())
        row["labels_visible"].append(truth.mean())
        row["sdk_visible"].append(ours.mean())
    table = {b: {"n": len(r["agree"]), **{k: float(np.mean(v)) if v else float("nan") for k, v in r.items()}}
             for b, r in rows.items()}
    print(format_table(["|yaw|", "views", "agreement", "visible (labels)", "visible (SDK)"],
                       [[b, t["n"], t["agree"], t["labels_visible"], t["sdk_visible"]] for b, t in table.items()],
                       title="Visible/hidden calls, SDK points vs labels, held-out renders"))
    print("\nwrote", write_json(args.out, "visibility", {"args": vars(args), "bins": table}))


if __name__ == "__main__":
    main()
