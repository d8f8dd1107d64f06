"""Pictures for docs/: the topology on the mean face, dataset contact sheets, training curves."""
from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

from train.data import BFM_REFERENCE  # noqa: E402
from train.labels.ict import ICTModel  # noqa: E402

REGION_COLOURS = ("#d62728", "#ff7f0e", "#2ca02c", "#1f77b4", "#e377c2", "#8c564b", "#9467bd")


def _yaw(points: np.ndarray, degrees: float) -> np.ndarray:
    """Rotate (N, 3) model-frame points (y up, z to viewer) about the y axis."""
    a = np.radians(degrees)
    r = np.array([[np.cos(a), 0, np.sin(a)], [0, 1, 0], [-np.sin(a), 0, np.cos(a)]])
    return points @ r.T


def draw_topology(topo: dict[str, np.ndarray], model: ICTModel, out_dir: Path) -> Path:
    """docs/topology.png: the 520 points and their triangles on the ICT neutral (front, 3/4 view),
    coloured by region, beside the seed paper's own 520 points on the BFM mean face (front)."""
    out_dir.mkdir(parents=True, exist_ok=True)
    fig, axes = plt.subplots(1, 3, figsize=(18, 6.6))
    face = model.neutral[: model.narrow_face_vertex_count]
    for ax, yaw in zip(axes[:2], (0.0, -40.0)):
        pts, skin = _yaw(topo["mean_shape"], yaw), _yaw(face, yaw)
        ax.scatter(skin[:, 0], skin[:, 1], s=0.3, c="#dddddd")
        ax.triplot(pts[:, 0], pts[:, 1], topo["triangles"], lw=0.35, color="#555555")
        front = pts[:, 2] >= np.percentile(pts[:, 2], 0)  # all points; depth order by scatter order
        order = np.argsort(pts[:, 2])
        for r, name in enumerate(topo["region_names"]):
            sel = order[(topo["regions"][order] == r) & front[order]]
            ax.scatter(pts[sel, 0], pts[sel, 1], s=9, c=REGION_COLOURS[r], label=str(name), zorder=3)
        ax.scatter(pts[:68, 0], pts[:68, 1], s=26, facecolors="none", edgecolors="k", lw=0.8, zorder=4)
        ax.set_title(f"DenseFace 520 on ICT neutral, yaw {yaw:+.0f}°  (circled: iBUG 68)")
        ax.set_aspect("equal")
        ax.axis("off")
    axes[0].legend(loc="lower left", fontsize=8, markerscale=1.5)
    bfm = np.load(BFM_REFERENCE / "prnet_canonical_vertices.npy")
    rows520 = np.loadtxt(BFM_REFERENCE / "seed_520_face_ind_rows.txt").astype(int)
    rows68 = np.loadtxt(BFM_REFERENCE / "seed_68_face_ind_rows.txt").astype(int)
    ax = axes[2]
    ax.scatter(bfm[::7, 0], bfm[::7, 1], s=0.3, c="#dddddd")
    ax.scatter(bfm[rows520, 0], bfm[rows520, 1], s=9, c="#1f77b4")
    ax.scatter(bfm[rows68, 0], bfm[rows68, 1], s=26, facecolors="none", edgecolors="k", lw=0.8)
    ax.set_title("seed paper's 520 on the BFM mean (PRNet frame)")
    ax.invert_yaxis()  # PRNet's canonical vertices are stored with y down
    ax.set_aspect("equal")
    ax.axis("off")
    fig.tight_layout()
    path = out_dir / "topology.png"
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def contact_sheet(shard_paths: list[Path], out_path: Path, count: int = 48, seed: int = 0) -> Path:
    """A grid of ``count`` random dataset samples with their 520 points (iBUG 68 in red), chosen evenly
    over the |yaw| bins [0,30], (30,60], (60,90]; titled with yaw/pitch/roll."""
    import cv2

    images, points, poses = [], [], []
    for path in shard_paths:
        with np.load(path) as d:
            if "images" in d:
                images.append(d["images"])
                points.append(d["points"])
                poses.append(np.stack([d["yaw"], d["pitch"], d["roll"]], 1))
    images, points, poses = np.concatenate(images), np.concatenate(points), np.concatenate(poses)
    rng = np.random.default_rng(seed)
    yaw = np.abs(poses[:, 0])
    picks = []
    for lo, hi in ((-1, 30), (30, 60), (60, 91)):
        pool = np.flatnonzero((yaw > lo) & (yaw <= hi))
        picks.extend(rng.choice(pool, min(len(pool), count // 3), replace=False))
    cols = 8
    rows = int(np.ceil(len(picks) / cols))
    tile = 256
    sheet = np.full((rows * (tile + 18), cols * tile, 3), 255, np.uint8)
    for k, i in enumerate(picks):
        img = cv2.resize(images[i], (tile, tile), interpolation=cv2.INTER_LINEAR)
        s = tile / images.shape[1]
        for j, (x, y) in enumerate((points[i, :, :2] + 0.5) * s - 0.5):
            cv2.circle(img, (int(round(x)), int(round(y))), 2 if j < 68 else 1,
                       (255, 40, 40) if j < 68 else (40, 255, 40), -1, cv2.LINE_AA)
        r, c = divmod(k, cols)
        y0 = r * (tile + 18)
        sheet[y0 + 18 : y0 + 18 + tile, c * tile : (c + 1) * tile] = img
        cv2.putText(sheet, "y%+.0f p%+.0f r%+.0f" % tuple(poses[i]), (c * tile + 4, y0 + 14),
                    cv2.FONT_HERSHEY_SIMPLEX, 0.45, (0, 0, 0), 1, cv2.LINE_AA)
    out_path.parent.mkdir(parents=True, exist_ok=True)
    cv2.imwrite(str(out_path), cv2.cvtColor(sheet, cv2.COLOR_RGB2BGR))
    return out_path


def draw_training_curves(log_csv: Path, out_png: Path) -> Path:
    """Training curves from a Keras CSVLogger file (train.learning.training's log.csv): loss and val_loss per epoch
    (left, log scale) and validation 68-point NME in % (right; with the aflw_dev balanced NME where
    the log has it). A repeated epoch (a resumed run)
    keeps its last row."""
    import csv

    with Path(log_csv).open() as f:
        rows = {int(row["epoch"]): row for row in csv.DictReader(f)}
    epochs = sorted(rows)
    fig, (left, right) = plt.subplots(1, 2, figsize=(11, 4))
    for key in ("loss", "val_loss"):
        if epochs and key in rows[epochs[0]]:
            left.plot([e + 1 for e in epochs], [float(rows[e][key]) for e in epochs], marker=".", label=key)
    left.set_yscale("log")
    left.set_xlabel("epoch")
    left.set_title("loss")
    left.legend()
    if epochs and "val_nme68" in rows[epochs[0]]:
        right.plot([e + 1 for e in epochs], [float(rows[e]["val_nme68"]) for e in epochs], marker=".", c="C2",
                   label="validation renders, 68 points")
    if epochs and "aflw_dev" in rows[epochs[0]]:  # --aflw-dev-every: the scored epochs only
        scored = [e for e in epochs if np.isfinite(float(rows[e]["aflw_dev"]))]
        right.plot([e + 1 for e in scored], [float(rows[e]["aflw_dev"]) for e in scored], marker="o", c="C3",
                   label="aflw_dev balanced, 21 points")
        right.legend()
    right.set_xlabel("epoch")
    right.set_title("NME (%)")
    right.grid(alpha=0.3)
    fig.tight_layout()
    out_png = Path(out_png)
    out_png.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(out_png, dpi=100)
    plt.close(fig)
    return out_png
