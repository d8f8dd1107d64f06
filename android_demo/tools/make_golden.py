"""Write the golden files the Android demo's JVM core is tested against (``core/src/test/resources/golden``).

    PYTHONPATH=sdk:. python android_demo/tools/make_golden.py     (needs the cached BlazeFace model and
                                                                   ../shared/data/aflw2000_3d/images)

Every expected value is computed by the Python SDK (``sdk/denseface``); the Java tests must reproduce
them (points to 1e-3 px, angles to 1e-3 degrees, the crop warp byte for byte, the letterbox to 1 grey
level). The stored model inputs (``input_rgb``, ``crop_rgb``) are for the app's on-device parity test
(``app/src/androidTest``), which runs LiteRT on them and compares with these outputs.
Which path made each file:

* ``detector.json``: the REAL short-range BlazeFace model (``denseface.infer.TFLiteModel`` on the
  letterboxed frame, stored as ``input_rgb``) run on AFLW2000-3D photos; its raw output tensors, the letterbox, and the
  detections that ``denseface.detect.FaceDetector.detect`` returns for the same frames. Also the SSD
  anchors of both ``DETECTOR_SPECS``.
* ``landmarks.json``: for each detection above, its crop (``crop.detection_crop``), then the BUNDLED
  int8 landmark model's raw output tensor on that crop (the crop stored as ``crop_rgb``, with the tensor's
  scale and zero point, and the model file's sha256 as ``model_sha256``), and a
  SYNTHETIC landmark-model output: ``topology.mean_shape`` rotated by a known pose, framed by the crop
  rule, plus seeded noise, quantized to int8 / uint8 (or left float32) with a stated scale and zero
  point (so every tensor type is covered). Expected: the dequantized output (``infer.py``'s formula), the
  crop and frame points (``decode``), the head pose and similarity (``pose``), the tracking crop and
  the tracking test (``track.tracking_crop``, ``track.looks_tracked``) and the 68-point box.
* ``crop.json``: ``crop.box_to_square`` / ``crop_from_box`` for every ``BOX_CONVENTIONS`` entry and
  several rolls, ``crop_from_landmarks``, ``CropTransform.to_crop`` / ``to_frame`` of seeded points,
  and ``pose.roll_from_eyes``.
* ``smooth.json``: ``smooth.OneEuroFilter`` on seeded random walks with irregular timestamps and a reset.
* ``images.json``: ``CropTransform.warp`` (integer bilinear at 1/32-px positions, black border; the
  Java port must match it byte for byte), once inside the frame and once reaching beyond its border,
  and ``Letterbox.apply`` (cv2.resize INTER_AREA when shrinking, INTER_LINEAR when enlarging; OpenCV 5
  resizes in floating point and the Java port matches it to 1 grey level) of a small downscaled
  AFLW2000-3D photo; and the video mode's crop-content thumbnails (``track.frame_cells`` and
  ``track.appearance``) of two 120-px crops of it, one inside the frame and one half outside.

Arrays are stored as {"dtype", "shape", "base64"} (little-endian raw bytes, exact); scalars and short
lists as JSON numbers (Python's repr: exact float64).
"""
from __future__ import annotations

import argparse
import base64
import hashlib
import json
from pathlib import Path

import cv2
import numpy as np

from denseface.crop import BOX_CONVENTIONS, MODEL_INPUT, LANDMARK_BOX_SCALE, box_to_square, crop_from_box
from denseface.crop import crop_from_landmarks, detection_crop, detection_roll, landmark_square, square_transform
from denseface.decode import decode, encode, to_crop_points
from denseface.detect import DETECTOR_SPECS, NUM_KEYPOINTS, DetectorOptions, FaceDetector
from denseface.detect import detector_path
from denseface.letterbox import Letterbox
from denseface.face import make_face
from denseface.infer import TFLiteModel, load_interpreter
from denseface.landmark_model import bundled_path
from denseface.pose import fit_similarity, head_pose, roll_from_eyes, rotation_from_angles
from denseface.smooth import OneEuroFilter
from denseface.ssd import ssd_anchors, weighted_nms
from denseface.topology import IBUG68, load_topology
from denseface.track import appearance, frame_cells, looks_tracked, next_tracking_crop, tracking_crop
from train.data import AFLW2000

IMAGES = AFLW2000 / "images"
DEFAULT_OUT = Path(__file__).resolve().parents[1] / "core" / "src" / "test" / "resources" / "golden"
SEED = 20261125


def packed(array: np.ndarray, dtype: str) -> dict:
    """An array as {"dtype", "shape", "base64"} of its little-endian bytes."""
    a = np.ascontiguousarray(array, np.dtype(dtype).newbyteorder("<"))
    return {"dtype": dtype, "shape": list(a.shape), "base64": base64.b64encode(a.tobytes()).decode("ascii")}


def flat(array: np.ndarray) -> list[float]:
    """An array's values as a flat list of Python floats (JSON numbers, exact)."""
    return np.asarray(array, np.float64).reshape(-1).tolist()


def load_rgb(name: str) -> np.ndarray:
    image = cv2.imread(str(IMAGES / name), cv2.IMREAD_COLOR)
    if image is None:
        raise FileNotFoundError(IMAGES / name)
    return np.ascontiguousarray(image[:, :, ::-1])


def detector_frames() -> list[tuple[str, np.ndarray]]:
    """A square photo with one face, and a wide frame (two photos side by side, then shrunk) with two."""
    single = load_rgb("image00002.jpg")
    pair = np.concatenate([load_rgb("image00004.jpg"), load_rgb("image00022.jpg")], axis=1)
    pair = cv2.resize(pair, (640, 320), interpolation=cv2.INTER_AREA)
    return [("image00002.jpg", single), ("image00004.jpg | image00022.jpg, resized to 640x320", pair)]


def detector_golden() -> tuple[dict, list]:
    spec = DETECTOR_SPECS["short"]
    options = DetectorOptions(kind="short", min_score=0.5, max_faces=10)
    detector = FaceDetector(options)
    model = TFLiteModel(detector_path("short"))
    cases, detections_all = [], []  # detections_all: (frame, detection) pairs
    for source, frame in detector_frames():
        letterbox = Letterbox.fit(frame.shape[0], frame.shape[1], spec.input_size)
        letterboxed = letterbox.apply(frame)
        tensor = letterboxed.astype(np.float32) / 127.5 - 1.0
        outputs = model.run(tensor[None])
        regressors = next(o for o in outputs if o.shape[-1] != 1).reshape(-1, 4 + 2 * NUM_KEYPOINTS)
        logits = next(o for o in outputs if o.shape[-1] == 1).reshape(-1)
        detections = detector.detect(frame)
        detections_all.extend((frame, d) for d in detections)
        cases.append({
            "source": source,
            "height": frame.shape[0],
            "width": frame.shape[1],
            "min_score": options.min_score,
            "max_faces": options.max_faces,
            "letterbox": {"scale_x": letterbox.scale_x, "scale_y": letterbox.scale_y,
                          "pad_x": letterbox.pad_x, "pad_y": letterbox.pad_y, "input_size": letterbox.input_size},
            # the model's input before the [-1, 1] scaling: the app's on-device parity test (androidTest)
            # runs LiteRT on exactly these bytes (the Java letterbox matches cv2.resize to 1 grey level only)
            "input_rgb": packed(letterboxed, "uint8"),
            "regressors": packed(regressors, "float32"),
            "logits": packed(logits, "float32"),
            "detections": [{"box": list(d.box), "score": d.score, "keypoints": d.keypoints.astype(float).tolist()}
                           for d in detections],
        })
        print(f"detector: {source}: {len(detections)} face(s)")
    anchors = {}
    for kind, s in DETECTOR_SPECS.items():
        rows = ssd_anchors(s.input_size, s.strides, s.anchors_per_layer)
        step = 1 if kind == "short" else 7  # every row of the app's detector; a sample of the full one's 2304
        anchors[kind] = {"input_size": s.input_size, "strides": list(s.strides),
                         "anchors_per_layer": s.anchors_per_layer, "box_scale": s.box_scale,
                         "count": rows.shape[0], "row_step": step, "anchors": packed(rows[::step], "float32")}
    return {"made_by": "real BlazeFace short-range model + denseface.detect", "specs": anchors, "cases": cases,
            "nms_cases": nms_golden()}, detections_all


def nms_golden() -> list[dict]:
    """``weighted_nms`` on seeded candidates clustered with a wide range of overlaps (IoU 0..1 around
    the 0.3 threshold), as the real frames only give tight clusters."""
    rng = np.random.default_rng(SEED + 3)
    cases = []
    for max_results in (None, 2):
        centres = rng.uniform(0.2, 0.8, (3, 2))
        picks = rng.integers(0, 3, 40)
        size = rng.uniform(0.1, 0.2, (40, 1))
        centre = centres[picks] + rng.normal(0, 0.06, (40, 2))
        boxes = np.concatenate([centre - size / 2, centre + size / 2], axis=1).astype(np.float32)
        keypoints = (centre[:, None, :] + rng.normal(0, 0.02, (40, NUM_KEYPOINTS, 2))).astype(np.float32)
        scores = rng.uniform(0.5, 1.0, 40).astype(np.float32)
        out_boxes, out_scores, out_keypoints = weighted_nms(boxes, scores, keypoints, 0.3, max_results)
        cases.append({"max_results": 0 if max_results is None else max_results,
                      "boxes": packed(boxes, "float32"), "scores": packed(scores, "float32"),
                      "keypoints": packed(keypoints, "float32"), "expected_boxes": packed(out_boxes, "float32"),
                      "expected_scores": packed(out_scores, "float32"),
                      "expected_keypoints": packed(out_keypoints, "float32")})
    return cases


def synthetic_output(crop_pose: tuple[float, float, float], rng: np.random.Generator) -> np.ndarray:
    """(1560,) float32: mean_shape rotated by (yaw, pitch, roll) and framed as the crop rule frames a face."""
    shape = load_topology().mean_shape.astype(np.float64) @ rotation_from_angles(*crop_pose).T * [1.0, -1.0, 1.0]
    (cx, cy), side = landmark_square(shape[IBUG68, :2])
    scale = MODEL_INPUT / (side * LANDMARK_BOX_SCALE)
    points = (shape - [cx, cy, 0.0]) * scale
    points[:, :2] += (MODEL_INPUT - 1) / 2.0 + rng.normal(0.0, 1.5, 2)  # a slightly off-centre face
    points += rng.normal(0.0, 0.3, points.shape)
    return encode(points)


def quantize(output: np.ndarray, dtype: str, scale: float, zero_point: int) -> np.ndarray:
    info = np.iinfo(dtype)
    return np.clip(np.round(output / scale + zero_point), info.min, info.max).astype(dtype)


def real_model_output(crop_image: np.ndarray) -> tuple[np.ndarray, float, int] | None:
    """The bundled int8 landmark model's raw output tensor for a (120, 120, 3) uint8 crop, with its
    scale and zero point; None when the model is not bundled."""
    path = bundled_path()
    if not path.is_file():
        return None
    interpreter = load_interpreter(path)
    interpreter.set_tensor(interpreter.get_input_details()[0]["index"], crop_image[None])
    interpreter.invoke()
    detail = interpreter.get_output_details()[0]
    scale, zero_point = detail["quantization"]
    return interpreter.get_tensor(detail["index"]).reshape(-1), float(scale), int(zero_point)


def landmark_case(detection, crop, raw: np.ndarray, dtype: str, scale: float, zero_point: int, source: str,
                  crop_image: np.ndarray | None = None) -> dict:
    """Expected values of the whole landmark path for one model output ``raw`` of ``dtype``; with
    ``crop_image`` (the model's (120, 120, 3) uint8 input that gave ``raw``) stored as ``crop_rgb``."""
    if dtype == "float32":
        dequantized = raw
    else:  # infer.TFLiteModel.run's formula
        dequantized = (raw.astype(np.float32) - np.float32(zero_point)) * np.float32(scale)
    points = decode(dequantized, crop)
    s, rotation, shift = fit_similarity(points)
    face = make_face(points, detection.score)
    tracking = tracking_crop(points)
    case = {
        "output_source": source,
        "detection": {"box": list(detection.box), "score": detection.score,
                      "keypoints": detection.keypoints.astype(float).tolist()},
        "crop_matrix": crop.matrix.reshape(-1).tolist(),
        "crop_size": crop.size,
        "output": packed(raw, dtype),
        "scale": scale,
        "zero_point": zero_point,
        "dequantized": packed(dequantized, "float32"),
        "crop_points": packed(to_crop_points(dequantized), "float32"),
        "frame_points": packed(points, "float32"),
        "pose": list(head_pose(points)),
        "similarity_scale": s,
        "similarity_rotation": rotation.reshape(-1).tolist(),
        "similarity_shift": shift.tolist(),
        "box68": list(face.box),
        "tracking_matrix": tracking.matrix.reshape(-1).tolist(),
        # the dead band from the detection crop, and from a tracking crop of the points moved by 1 px
        "next_from_crop_matrix": next_tracking_crop(crop, points).matrix.reshape(-1).tolist(),
        "next_from_nudged_matrix": next_tracking_crop(
            tracking_crop(points + np.float32([1.0, 0.0, 0.0])), points).matrix.reshape(-1).tolist(),
        "looks_tracked": bool(looks_tracked(to_crop_points(dequantized))),
    }
    if crop_image is not None:  # the on-device parity test (androidTest) runs LiteRT on these bytes
        case["crop_rgb"] = packed(crop_image, "uint8")
    return case


def landmarks_golden(detections: list) -> dict:
    rng = np.random.default_rng(SEED)
    poses = [(20.0, -10.0, 5.0), (-35.0, 15.0, -12.0), (5.0, 25.0, 30.0), (-8.0, -4.0, 0.0)]
    # (dtype, scale, zero_point): the output range [-0.4, 1.3) of the crop side in 255 steps
    quantizations = [("int8", 1.7 / 255, -81), ("uint8", 1.7 / 255, 47), ("float32", 0.0, 0), ("int8", 1.7 / 255, -81)]
    cases = []
    for i, (frame, detection) in enumerate(detections):
        crop = detection_crop(detection.box, detection.keypoints[0], detection.keypoints[1])
        crop_image = crop.warp(frame)
        real = real_model_output(crop_image)
        if real is not None:
            raw, scale, zero_point = real
            cases.append(landmark_case(detection, crop, raw, "int8", scale, zero_point, "bundled int8 model",
                                       crop_image))
        output = synthetic_output(poses[i % len(poses)], rng)
        dtype, scale, zero_point = quantizations[i % len(quantizations)]
        raw = output if dtype == "float32" else quantize(output, dtype, scale, zero_point)
        cases.append(landmark_case(detection, crop, raw, dtype, scale, zero_point, "synthetic"))
    # a lost track: the face drifted to the crop's corner and shrank
    lost = to_crop_points(synthetic_output((0.0, 0.0, 0.0), rng)) * 0.4
    model = bundled_path()
    return {"made_by": "denseface.crop/track/decode/pose on the bundled int8 model's raw outputs for the real crops, "
                       "and on SYNTHETIC outputs (mean_shape at known poses + noise) for the other tensor types",
            # the bundled model the real outputs came from: the on-device parity test checks that the APK has it
            "model_sha256": hashlib.sha256(model.read_bytes()).hexdigest() if model.is_file() else None,
            "model_input": MODEL_INPUT, "cases": cases,
            "tracking_lost": {"crop_points": packed(lost, "float32"), "looks_tracked": bool(looks_tracked(lost))}}


def crop_golden() -> dict:
    rng = np.random.default_rng(SEED + 1)
    boxes = [(100.0, 80.0, 260.0, 250.0), (-20.5, 33.25, 61.0, 90.0), (300.0, 10.0, 340.0, 90.0)]
    square_cases = []
    for convention in sorted(BOX_CONVENTIONS):
        for box in boxes:
            for roll in (0.0, 17.5, -40.0):
                center, side = box_to_square(box, convention, roll)
                crop = crop_from_box(box, convention, MODEL_INPUT, roll)
                square_cases.append({"box": list(box), "convention": convention, "roll": roll,
                                     "center": list(center), "side": side,
                                     "matrix": crop.matrix.reshape(-1).tolist(), "size": crop.size})
    landmark_cases = []
    for roll, size in ((0.0, MODEL_INPUT), (-23.0, MODEL_INPUT), (61.0, 96)):
        points = rng.uniform(50, 400, (68, 2))
        crop = crop_from_landmarks(points, size, roll)
        landmark_cases.append({"points": points.reshape(-1).tolist(), "roll": roll, "size": size,
                               "matrix": crop.matrix.reshape(-1).tolist()})
    transform = square_transform((211.5, 187.25), 173.0, MODEL_INPUT, 12.0)
    points3 = rng.uniform(-50, 450, (20, 3))
    points2 = rng.uniform(-50, 450, (20, 2))
    eyes = [(rng.uniform(0, 500, 2), rng.uniform(0, 500, 2)) for _ in range(6)]
    return {
        "made_by": "denseface.crop (detection_roll included) and denseface.pose.roll_from_eyes",
        "conventions": {k: list(v) for k, v in BOX_CONVENTIONS.items()},
        "model_input": MODEL_INPUT, "landmark_box_scale": LANDMARK_BOX_SCALE,
        "square_cases": square_cases, "landmark_cases": landmark_cases,
        "transform": {"center": [211.5, 187.25], "side": 173.0, "size": MODEL_INPUT, "roll": 12.0,
                      "matrix": transform.matrix.reshape(-1).tolist(), "scale": transform.scale,
                      "points3": flat(points3), "to_crop3": flat(transform.to_crop(points3)),
                      "to_frame3": flat(transform.to_frame(points3)),
                      "points2": flat(points2), "to_crop2": flat(transform.to_crop(points2)),
                      "to_frame2": flat(transform.to_frame(points2))},
        "roll_from_eyes": [{"right": r.tolist(), "left": l.tolist(), "roll": roll_from_eyes(r, l)} for r, l in eyes],
        "detection_roll": [{"eye_roll": r, "crop_roll": detection_roll(r)}
                           for r in (-170.0, -75.0, -45.0, -12.5, 0.0, 44.9, 52.0, 90.0)],
    }


def smooth_golden() -> dict:
    rng = np.random.default_rng(SEED + 2)
    cases = []
    for min_cutoff, beta, d_cutoff in ((1.0, 0.05, 1.0), (0.5, 0.3, 2.0), (3.0, 0.0, 1.0)):
        smoother = OneEuroFilter(min_cutoff, beta, d_cutoff)
        value = rng.uniform(0, 300, 12)
        times = np.cumsum(rng.uniform(10, 60, 14)).tolist()
        samples, outputs, resets = [], [], []
        for step, t in enumerate(times):
            if step == 9:
                smoother.reset()
                resets.append(step)
            value = value + rng.normal(0, 4 if step % 5 else 40, value.shape)
            samples.append(value.tolist())
            outputs.append(smoother(value, t).tolist())
        cases.append({"min_cutoff": min_cutoff, "beta": beta, "d_cutoff": d_cutoff, "timestamps_ms": times,
                      "reset_before": resets, "samples": samples, "expected": outputs})
    return {"made_by": "denseface.smooth.OneEuroFilter (float64)", "cases": cases}


def images_golden() -> dict:
    source = cv2.resize(load_rgb("image00008.jpg"), (120, 90), interpolation=cv2.INTER_AREA)
    warp = square_transform((61.0, 40.5), 70.0, 64, -15.0)
    beyond = square_transform((101.3, 12.7), 83.1, 64, 31.3)  # a corner of the crop lies outside the frame
    shrink = Letterbox.fit(90, 120, 64)
    small = np.ascontiguousarray(source[30:54, 40:72])  # 24 x 32
    enlarge = Letterbox.fit(24, 32, 48)
    looks = []
    for centre, side, roll in (((60.0, 45.0), 60.0, 8.0), ((20.0, 70.0), 90.0, -21.0)):  # inside; half outside
        crop = square_transform(centre, side, MODEL_INPUT, roll)
        cells = frame_cells(crop, *source.shape[:2])
        looks.append({"matrix": crop.matrix.reshape(-1).tolist(), "cells": packed(cells.astype(np.uint8), "uint8"),
                      "crop_rgb": packed(crop.warp(source), "uint8"),
                      "expected": packed(appearance(crop.warp(source), cells), "float32")})
    return {
        "made_by": "denseface.crop.CropTransform.warp, denseface.letterbox.Letterbox.apply (cv2.resize), "
                   "denseface.track.frame_cells and appearance",
        "opencv_version": cv2.__version__,
        "source": packed(source, "uint8"),
        "warp": {"matrix": warp.matrix.reshape(-1).tolist(), "size": warp.size,
                 "expected": packed(warp.warp(source), "uint8")},
        "warp_beyond_border": {"matrix": beyond.matrix.reshape(-1).tolist(), "size": beyond.size,
                               "expected": packed(beyond.warp(source), "uint8")},
        "letterbox_shrink": {"input_size": 64, "expected": packed(shrink.apply(source), "uint8")},
        "small": packed(small, "uint8"),
        "letterbox_enlarge": {"input_size": 48, "expected": packed(enlarge.apply(small), "uint8")},
        "appearance": looks,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help="output folder (default: %(default)s)")
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    detector, detections = detector_golden()
    files = {"detector.json": detector, "landmarks.json": landmarks_golden(detections), "crop.json": crop_golden(),
             "smooth.json": smooth_golden(), "images.json": images_golden()}
    for name, content in files.items():
        path = args.out / name
        path.write_text(json.dumps(content, indent=1) + "\n")
        print(f"wrote {path} ({path.stat().st_size // 1024} KiB)")


if __name__ == "__main__":
    main()
