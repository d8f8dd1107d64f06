"""Accuracy on AFLW2000-3D: DenseFace against MediaPipe's 468-point mesh (and optionally 3DDFA_V2).

    python -m benchmarks.accuracy [--model M_int8.tflite] [--model2 M_float32.tflite] [--limit N]
        [--no-mediapipe] [--tddfa] [--out DIR]

Protocol (``train.evaluation.metrics``, 3DDFA's): NME of the 68 2-D landmarks, per image the mean point error
divided by √(w·h) of the ground-truth 68-point box, in %; images split by |yaw| into [0, 30],
(30, 60], (60, 90] (the last takes every |yaw| > 60: 1312 / 383 / 305 images); "balanced" = mean of
the three bins. A method that finds no face in an image counts it as missed (excluded from the means,
reported, and a failure in the CED). AFLW2000-3D is test data: nothing was trained or tuned on it.

Rows (all through ``train.evaluation.evaluate``):

1. standard crops: each model on the benchmark's own 120×120 crops (``row_standard_crops``);
2. SDK crops: the SDK's crop rule around the ground-truth 68-point box, cut from the 450×450
   originals (``row_sdk_crops``);
3. end to end: the whole SDK, ``DenseFace(model).landmarks(original)`` with BlazeFace
   (``row_end_to_end``), and the same for the MediaPipe pipeline (``benchmarks.mediapipe_pipeline``,
   image mode), MediaPipe's 468 points mapped to our 68 by ``train.evaluation.evaluate.mediapipe_68``. Both
   report up to ``MAX_FACES`` faces; the face of the annotated person is scored
   (``train.evaluation.evaluate.annotated_face``: some originals show several people, one annotated), and
   "first is other" counts the images where the pipeline's best face was someone else;
4. MediaPipe mesh on a ground-truth-box ROI (``row_mediapipe``), the mesh's best case.
6. aflw_dev, the development set of real photos (AFLW's 21 manual points, roi side / √2, visible
   points; ``row_aflw_dev``): ``DenseFace.landmarks(crop, faces=[box])`` on each 120×120 crop with the
   box the crop was cut around (its central square of side 120/√2, convention "landmarks68", so the
   SDK's crop is the crop itself); with ``--tddfa`` also 3DDFA_V2 on the crops (4.43 balanced).

Writes OUT/accuracy.json and OUT/accuracy.png (cumulative error distribution of rows 1 and 3).
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path


from benchmarks.common import DEFAULT_OUT, float_model_beside, format_table, model_argument, write_json


def _evaluate():
    """train.evaluation.evaluate, or a clear error naming it."""
    try:
        import train.evaluation.evaluate as evaluate
    except ImportError as error:
        raise SystemExit("benchmarks.accuracy needs train.evaluation.evaluate (AFLW2000-3D rows and CED plot): "
                         f"{error}") from error
    return evaluate


MAX_FACES = 10  # faces per original the end-to-end pipelines report (row 3)


def denseface_end_to_end(model: Path):
    """frame → the (68, 3) points of every face the SDK finds (for ``row_end_to_end``)."""
    from denseface import DenseFace

    sdk = DenseFace(model_path=model, max_faces=MAX_FACES)
    return lambda frame: [face.points68 for face in sdk.landmarks(frame)]


def denseface_on_dev_crops(model: Path):
    """A CropPredictor through the SDK: (120, 120, 3) aflw_dev crop → (520, 3) points in its pixels."""
    from denseface import DenseFace
    from denseface.crop import LANDMARK_BOX_SCALE, MODEL_INPUT

    sdk = DenseFace(model_path=model)
    centre, half = (MODEL_INPUT - 1) / 2.0, MODEL_INPUT / LANDMARK_BOX_SCALE / 2.0
    box = (centre - half, centre - half, centre + half, centre + half)
    return lambda crop: sdk.landmarks(crop, faces=[box], box_convention="landmarks68")[0].points


def mediapipe_end_to_end():
    """frame → MediaPipe's points standing in for our 68, per face found (for ``row_end_to_end``)."""
    from benchmarks.mediapipe_pipeline import MediaPipeMesh468

    pipeline = MediaPipeMesh468(max_faces=MAX_FACES)
    index = _evaluate().mediapipe_68()
    return lambda frame: [points[index, :2] for points in pipeline.landmarks(frame)]


def _entry(report) -> dict:
    return {"bins": list(report.bins), "balanced": report.balanced, "overall": report.overall,
            "counts": list(report.counts), "missed": report.missed, "failures": list(report.failures),
            "per_image": report.per_image}


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter, epilog=__doc__)
    parser.add_argument("--model", help="landmark model: full, lite or a .tflite (default: the bundled full model)")
    parser.add_argument("--model2", type=Path,
                        help="a second model side by side (default: denseface_float32.tflite beside --model, if present)")
    parser.add_argument("--limit", type=int, help="only the first N AFLW2000-3D images (quick checks; not the protocol)")
    parser.add_argument("--no-mediapipe", action="store_true", help="leave out the MediaPipe rows")
    parser.add_argument("--tddfa", action="store_true", help="add 3DDFA_V2 (mb05) to row 1 (needs onnxruntime)")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help=f"output folder (default {DEFAULT_OUT})")
    args = parser.parse_args(argv)

    evaluate = _evaluate()
    model = model_argument(parser, args.model)
    second = args.model2 if args.model2 is not None else float_model_beside(model)
    models = {model.name: model, **({second.name: second} if second is not None else {})}
    gt = evaluate.load_aflw2000().head(args.limit)
    rows: list[tuple[str, str, object]] = []  # (row, method, report)
    others_first: dict[str, int] = {}  # row 3: images whose best face was not the annotated person
    for name, path in models.items():
        predict = evaluate.tflite_predictor(path)
        rows.append(("1 standard crops", name, evaluate.row_standard_crops(predict, gt)))
        rows.append(("2 SDK crops", name, evaluate.row_sdk_crops(predict, gt)))
    tddfa = evaluate.tddfa_predictor() if args.tddfa else None
    if tddfa is not None:
        rows.append(("1 standard crops", "3DDFA_V2 mb05", evaluate.row_standard_crops(tddfa, gt, pixel_centres=False)))
    print("end to end (detector included) ...", file=sys.stderr)
    pipelines = {f"DenseFace SDK ({model.name})": denseface_end_to_end(model)}
    if not args.no_mediapipe:
        pipelines["MediaPipe 468 pipeline → 68"] = mediapipe_end_to_end()
    for method, faces68 in pipelines.items():
        report, others_first[method] = evaluate.row_end_to_end(faces68, gt)
        rows.append(("3 end to end", method, report))
    if not args.no_mediapipe:
        rows.append(("4 GT-box ROI", "MediaPipe 468 → 68", evaluate.row_mediapipe(gt)))
    dev = evaluate.load_aflw_dev()
    dev_rows = [(f"DenseFace SDK ({model.name})", evaluate.row_aflw_dev(denseface_on_dev_crops(model), dev))]
    if tddfa is not None:
        dev_rows.append(("3DDFA_V2 mb05", evaluate.row_aflw_dev(tddfa, dev, pixel_centres=False)))

    table = [(row, method, *r.bins, r.balanced, r.overall, r.missed, sum(r.counts), f"{r.failures[2]} of {r.counts[2]}",
              others_first.get(method, "-")) for row, method, r in rows]
    print(format_table(("row", "method", "[0,30]", "(30,60]", "(60,90]", "balanced", "all", "missed", "scored",
                        "failures >10% at >60", "first is other"),
                       table, title="AFLW2000-3D, NME % of the 68 2-D points (3DDFA protocol, √(w·h) of the GT box)"))
    print(format_table(("method", "[0,30]", "(30,60]", "(60,90]", "balanced", "failures >10% at >60"),
                       [(method, *r.bins, r.balanced, f"{r.failures[2]} of {r.counts[2]}") for method, r in dev_rows],
                       title="6 aflw_dev (real photos), NME % of AFLW's visible 21 points / (roi side / √2), box given"))
    limited = f"first {len(gt.names)} images only (--limit): NOT the full protocol" if args.limit else f"all {len(gt.names)} images"
    print(f"\n{limited}; yaw bins by |yaw| from ground_truth.npz; missed = the annotated face not found (excluded "
          "from the means); first is other = the pipeline's best face was another person's")
    curves = {f"{method} ({row.split(' ', 1)[1]})": r.per_image for row, method, r in rows if row[0] in "13"}
    args.out.mkdir(parents=True, exist_ok=True)
    png_path = evaluate.draw_ced(curves, args.out / "accuracy.png")
    json_path = write_json(args.out, "accuracy", {
        "protocol": __doc__.split("Protocol")[1].split("Rows")[0].strip(), "images": len(gt.names),
        "limit": args.limit, "names": gt.names,
        "rows": [{"row": row, "method": method, **_entry(r), **({"first_is_other": others_first[method]}
                                                                 if row.startswith("3") else {})}
                 for row, method, r in rows],
        "aflw_dev": [{"method": method, **_entry(r)} for method, r in dev_rows]})
    print(f"\nwrote {json_path} and {png_path}")


if __name__ == "__main__":
    main()
