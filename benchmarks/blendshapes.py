"""Blendshapes: DenseFace's fit (``denseface.blendshapes``) against known ICT expressions and against
MediaPipe's own blendshape model on real photos, and what the fit costs.

    python -m benchmarks.blendshapes [--faces 300] [--renders 400] [--photos 200] [--data DIR] [--out DIR]

1. ``known``: held-out ICT-FaceKit faces (seed 2026, not the seeds the fit's weights were chosen on):
   a random identity (all 100 components, N(0, 1)), 3 random expressions of the 55 at U(0, 1), a random
   pose (|yaw| ≤ 60°, |pitch| ≤ 25°, |roll| ≤ 20°) and scale; the 520 points from the known mesh, exact
   and with i.i.d. Gaussian noise of 2 % of the face's RMS radius per coordinate; fitted; the error per
   MediaPipe coefficient (mean absolute error over all faces, and over the faces where it is active,
   true value > 0.1).
2. ``renders``: the dataset's held-out rendered views (``--data``, ``benchmarks.common.rendered_test_views``)
   whose expression edits are known: eyes closed (both eyeBlink ≥ 0.85), jaw opened (+0.15–0.5),
   smile (0.3–0.8); the rest of their expression is the source photo's fit (unknown here). For each
   edit, the mean coefficient on the views with it and on those without it, from the labels' points
   (the fit alone) and from the SDK on the rendered crop, box given (landmark model + fit).
3. ``photos``: ``--photos`` LFW photos (a seeded random draw). MediaPipe: BlazeFace short range → the
   detection ROI (``train.labels.teacher``'s rule) → the Face Landmarker's 478-point mesh → its
   ``face_blendshapes.tflite`` on the 146 points it reads (``BLENDSHAPE_INPUT``), in frame pixels, as
   its graph feeds it. DenseFace: ``DenseFace(output_blendshapes=True)``. Pearson correlation per
   coefficient over the photos where both find a face, and each side's mean.
   A side check first: closing the eye of MediaPipe's landmarks 33/159 (the subject's right eye)
   must raise MediaPipe's eyeBlinkRight (the side convention this SDK follows).
4. ``cost``: microseconds per face of ``fit_blendshapes`` on the photos' points, beside the
   ``DenseFace.landmarks`` call on the same photos and MediaPipe's blendshape model (p50 of
   repeated runs). Pause other load while timing; the host's ISA flags are printed.

Writes OUT/blendshapes.json and prints the tables.
"""
from __future__ import annotations

import argparse
import time
from pathlib import Path

import cv2
import numpy as np

from benchmarks.common import DEFAULT_OUT, format_table, isa_features, percentiles, rendered_test_views, write_json
from denseface import DenseFace
from denseface.blendshapes import MEDIAPIPE_NAMES, fit_blendshapes, ict_to_mediapipe
from denseface.detect import DetectorOptions, FaceDetector
from denseface.fetch import model_path
from denseface.infer import TFLiteModel
from denseface.pose import rotation_from_angles
from train.data import CACHE, LFW

# The 146 of the 478 Face Landmarker points its blendshape model reads, in order (MediaPipe's
# face_blendshapes_graph.cc, kLandmarksSubsetIdxs).
BLENDSHAPE_INPUT = (
    0, 1, 4, 5, 6, 7, 8, 10, 13, 14, 17, 21, 33, 37, 39, 40, 46, 52, 53, 54, 55, 58, 61, 63, 65, 66, 67, 70,
    78, 80, 81, 82, 84, 87, 88, 91, 93, 95, 103, 105, 107, 109, 127, 132, 133, 136, 144, 145, 146, 148, 149,
    150, 152, 153, 154, 155, 157, 158, 159, 160, 161, 162, 163, 168, 172, 173, 176, 178, 181, 185, 191, 195,
    197, 234, 246, 249, 251, 263, 267, 269, 270, 276, 282, 283, 284, 285, 288, 291, 293, 295, 296, 297, 300,
    308, 310, 311, 312, 314, 317, 318, 321, 323, 324, 332, 334, 336, 338, 356, 361, 362, 365, 373, 374, 375,
    377, 378, 379, 380, 381, 382, 384, 385, 386, 387, 388, 389, 390, 397, 398, 400, 402, 405, 409, 415, 454,
    466, 468, 469, 470, 471, 472, 473, 474, 475, 476, 477,
)
KEY = ("eyeBlinkLeft", "eyeBlinkRight", "jawOpen", "mouthSmileLeft", "mouthSmileRight", "browInnerUp",
       "browDownLeft", "browDownRight", "eyeSquintLeft", "eyeSquintRight", "mouthPucker", "mouthFunnel",
       "cheekSquintLeft", "cheekSquintRight", "mouthFrownLeft", "mouthFrownRight", "_neutral")
# Closing an eye on MediaPipe's points: each upper-lid point onto the lower-lid point below it
# (the subject's right eye, landmarks 33..133).
RIGHT_EYE_LIDS = ((159, 145), (158, 153), (160, 144), (157, 154), (161, 163), (246, 7), (173, 155))
# The dataset's expression edits (train.labels.build_dataset.FLAG_*) and the coefficients they set;
# a view without the edit must also lack WINK for the eyes (a wink closes one eye).
EDITS = {"eyes closed": (1, 1 | 2, ("eyeBlinkLeft", "eyeBlinkRight")), "jaw open": (4, 4, ("jawOpen",)),
         "smile": (8, 8, ("mouthSmileLeft", "mouthSmileRight"))}


class MediaPipeBlendshapes:
    """BlazeFace → Face Landmarker mesh (478 points) → its blendshape model (see the module doc)."""

    def __init__(self) -> None:
        from train.labels.teacher import MeshModel

        self.detector = FaceDetector(DetectorOptions(kind="short", max_faces=1))
        self.mesh = MeshModel(kind="mesh478")
        self.model = TFLiteModel(model_path("blendshapes"))

    def points(self, frame: np.ndarray) -> np.ndarray | None:
        """(478, 3) frame points of the best face, or None."""
        from train.labels.teacher import roi_from_detection

        detections = self.detector.detect(frame)
        return self.mesh.run(frame, roi_from_detection(detections[0]))[0] if detections else None

    def blendshapes(self, points: np.ndarray) -> np.ndarray:
        """(52,) MediaPipe's coefficients (``MEDIAPIPE_NAMES`` order) from (478, ≥2) frame points."""
        # MediaPipe feeds normalised landmarks × the frame size: pixels with 0 at the frame's edge.
        xy = points[list(BLENDSHAPE_INPUT), :2] + 0.5
        return self.model.run(xy[None].astype(np.float32))[0].reshape(-1)


def _mean(values: np.ndarray) -> float:
    """The mean, NaN for none (a short run may hold no face with a given expression)."""
    return float(values.mean()) if len(values) else float("nan")


def known_faces(count: int, noise: float, seed: int) -> dict[str, dict[str, float]]:
    """Per MediaPipe name: MAE over all faces and over the faces where it is active (see the module doc)."""
    from train.labels.ict import load_ict, topology_points

    ict = load_ict()
    used = [i for i, n in enumerate(ict.expression_names) if ict_to_mediapipe(n) is not None]
    rng = np.random.default_rng(seed)
    truth, fitted = [], []
    for _ in range(count):
        beta = np.zeros(len(ict.expression_names))
        beta[rng.choice(used, 3, replace=False)] = rng.uniform(0.0, 1.0, 3)
        model_points = topology_points(ict.shape(rng.normal(size=100), beta))
        rotation = rotation_from_angles(rng.uniform(-60, 60), rng.uniform(-25, 25), rng.uniform(-20, 20))
        points = rng.uniform(2.0, 10.0) * (model_points @ rotation.T) * np.array([1.0, -1.0, 1.0]) + 300.0
        radius = np.sqrt(((points - points.mean(0)) ** 2).sum(1).mean())
        scores = fit_blendshapes(points + rng.normal(size=points.shape) * noise * radius)
        expected = {n: 0.0 for n in MEDIAPIPE_NAMES[1:]}
        for i in np.flatnonzero(beta):
            name = ict_to_mediapipe(ict.expression_names[i])
            split = name in ("browInnerUp", "cheekPuff")  # reported as the mean of ICT's two halves
            expected[name] += beta[i] / 2 if split else beta[i]
        truth.append([expected[n] for n in MEDIAPIPE_NAMES[1:]])
        fitted.append([scores[n] for n in MEDIAPIPE_NAMES[1:]])
    truth, fitted = np.array(truth), np.array(fitted)
    error = np.abs(fitted - truth)
    active = truth > 0.1
    return {n: {"mae": float(error[:, j].mean()), "mae_active": _mean(error[active[:, j], j]),
                "n_active": int(active[:, j].sum())} for j, n in enumerate(MEDIAPIPE_NAMES[1:])}


def renders(data: Path, limit: int) -> dict[str, dict[str, float]]:
    """Per edit: mean coefficient with / without it, from the labels and from the SDK (module doc)."""
    sdk = DenseFace()
    flags, from_labels, from_sdk = [], [], []
    for view in rendered_test_views(data, limit):
        x0, y0 = view["points"][:68, :2].min(0)
        x1, y1 = view["points"][:68, :2].max(0)
        face = sdk.landmarks(view["image"], faces=[(x0, y0, x1, y1)])[0]
        flags.append(view["flags"])
        from_labels.append(fit_blendshapes(view["points"]))
        from_sdk.append(fit_blendshapes(face.points))
    flags = np.array(flags)
    result = {}
    for edit, (bit, absent, names) in EDITS.items():
        on, off = (flags & bit) > 0, (flags & absent) == 0
        for source, scores in (("labels", from_labels), ("sdk", from_sdk)):
            value = np.array([np.mean([s[n] for n in names]) for s in scores])
            result[f"{edit}, {source}"] = {"with": _mean(value[on]), "without": _mean(value[off]),
                                           "n_with": int(on.sum()), "n_without": int(off.sum())}
    return result


def side_check(mp: MediaPipeBlendshapes, frame: np.ndarray) -> dict[str, float]:
    """MediaPipe's eyeBlinkLeft/Right before and after closing the subject's right eye (its 33..133)."""
    points = mp.points(frame)
    closed = points.copy()
    for upper, lower in RIGHT_EYE_LIDS:
        closed[upper, :2] = points[lower, :2]
    before, after = mp.blendshapes(points), mp.blendshapes(closed)
    left, right = MEDIAPIPE_NAMES.index("eyeBlinkLeft"), MEDIAPIPE_NAMES.index("eyeBlinkRight")
    return {"eyeBlinkLeft": [float(before[left]), float(after[left])],
            "eyeBlinkRight": [float(before[right]), float(after[right])]}


def photos(count: int, seed: int) -> dict:
    """Both pipelines on ``count`` LFW photos: correlation per coefficient, means, and the costs."""
    names = sorted(p.name for p in LFW.glob("*.jpg"))
    chosen = np.random.default_rng(seed).choice(len(names), count, replace=False)
    ours_sdk = DenseFace(output_blendshapes=True)
    plain_sdk = DenseFace()
    mp = MediaPipeBlendshapes()
    ours, theirs, fit_us, call_us, model_us, check = [], [], [], [], [], None
    for k in sorted(chosen):
        frame = cv2.cvtColor(cv2.imread(str(LFW / names[k])), cv2.COLOR_BGR2RGB)
        faces, points = ours_sdk.landmarks(frame), mp.points(frame)
        if not faces or points is None:
            continue
        check = check or side_check(mp, frame)
        ours.append([faces[0].blendshapes[n] for n in MEDIAPIPE_NAMES])
        theirs.append(mp.blendshapes(points))
        for _ in range(5):  # p50 of repeated runs: single runs are ms-noisy on a shared host
            t0 = time.perf_counter()
            fit_blendshapes(faces[0].points)
            t1 = time.perf_counter()
            plain_sdk.landmarks(frame)
            t2 = time.perf_counter()
            mp.blendshapes(points)
            t3 = time.perf_counter()
            fit_us.append(1e6 * (t1 - t0))
            call_us.append(1e6 * (t2 - t1))
            model_us.append(1e6 * (t3 - t2))
    ours, theirs = np.array(ours), np.array(theirs)
    table = {}
    for j, name in enumerate(MEDIAPIPE_NAMES):
        a, b = ours[:, j], theirs[:, j]
        r = float(np.corrcoef(a, b)[0, 1]) if a.std() > 0 and b.std() > 0 else float("nan")
        table[name] = {"r": r, "ours_mean": float(a.mean()), "mediapipe_mean": float(b.mean())}
    return {"faces": len(ours), "side_check": check, "table": table,
            "cost_us": {"fit_blendshapes": percentiles(fit_us), "denseface_landmarks_call": percentiles(call_us),
                        "mediapipe_blendshape_model": percentiles(model_us)}}


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--faces", type=int, default=300, help="held-out ICT faces per noise level")
    parser.add_argument("--renders", type=int, default=400, help="held-out rendered views (0: skip)")
    parser.add_argument("--photos", type=int, default=200, help="LFW photos for the MediaPipe comparison")
    parser.add_argument("--data", type=Path, default=CACHE / "dataset", help="the dataset (its shards/)")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT)
    args = parser.parse_args(argv)
    cv2.setNumThreads(1)
    known = {f"noise {noise:.0%}": known_faces(args.faces, noise, seed=2026) for noise in (0.0, 0.02)}
    rows = [[n] + [v for level in known.values() for v in (level[n]["mae"], level[n]["mae_active"])]
            + [known["noise 0%"][n]["n_active"]] for n in MEDIAPIPE_NAMES[1:]]
    print(format_table(["coefficient", "MAE exact", "MAE exact, active", "MAE 2% noise", "MAE 2%, active",
                        "n active"], rows, title=f"Known ICT expressions, {args.faces} faces"))
    rendered = renders(args.data, args.renders) if args.renders else {}
    if rendered:
        print(format_table(["edit, points from", "mean with", "n", "mean without", "n"],
                           [[k, v["with"], v["n_with"], v["without"], v["n_without"]] for k, v in rendered.items()],
                           title="\nRendered views with known edits (dataset test split)"))
    real = photos(args.photos, seed=2026)
    print(f"\nMediaPipe side check (closing the subject's right eye): {real['side_check']}")
    order = list(KEY) + [n for n in MEDIAPIPE_NAMES if n not in KEY]
    rows = [[n, real["table"][n]["r"], real["table"][n]["ours_mean"], real["table"][n]["mediapipe_mean"]]
            for n in order]
    print(format_table(["coefficient", "Pearson r", "DenseFace mean", "MediaPipe mean"], rows,
                       title=f"\nDenseFace vs MediaPipe 0.10.14's blendshape model on {real['faces']} LFW photos"))
    cost = real["cost_us"]
    print(format_table(["what", "p50 µs", "p95 µs", "n"],
                       [[k, v["p50"], v["p95"], v["n"]] for k, v in cost.items()],
                       title=f"\nCost per face (host ISA: {' '.join(isa_features())})"))
    print("\nwrote", write_json(args.out, "blendshapes", {"args": vars(args), "known": known, "renders": rendered,
                                                         "photos": real}))


if __name__ == "__main__":
    main()
