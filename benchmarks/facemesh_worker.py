"""Time MediaPipe 0.10.14's Python FaceMesh on the benchmark frames; runs in its own environment.

``mediapipe==0.10.14`` cannot be installed beside TensorFlow 2.21 (protobuf), so ``benchmarks.latency``
runs this module with another interpreter (``--facemesh-python``, e.g. /tmp/mpvenv/bin/python after
``python3 -m venv /tmp/mpvenv && /tmp/mpvenv/bin/pip install mediapipe==0.10.14``) and the repository
on PYTHONPATH. It imports only numpy, OpenCV, mediapipe and ``benchmarks.frames`` (so it builds the
very same frames), and writes JSON: {"mediapipe": version, "ms": [per-frame ms], "faces": [count per
frame], "threads": "..."}.

FaceMesh: ``mp.solutions.face_mesh.FaceMesh(static_image_mode=(mode == "image"), max_num_faces=1,
refine_landmarks=False)`` (468 points), ``process(rgb_frame)`` timed with ``time.perf_counter``.
Its thread count is MediaPipe's own (not settable from Python).
"""
from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np

from benchmarks.frames import aflw_frame, moving_face_frames


def frames(source: str, count: int, paths: list[str]):
    """The benchmark's frames: AFLW2000-3D originals from ``paths`` (cycled), or the moving face."""
    if source == "moving":
        for frame, _ in moving_face_frames(count):
            yield frame
    else:
        for i in range(count):
            yield aflw_frame(Path(paths[i % len(paths)]))


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--mode", choices=("image", "video"), required=True)
    parser.add_argument("--source", choices=("aflw", "moving"), required=True)
    parser.add_argument("--frames", type=int, required=True, help="timed frames")
    parser.add_argument("--warmup", type=int, default=50, help="untimed frames first")
    parser.add_argument("--paths", type=Path, help="text file: one AFLW2000-3D image path per line (--source aflw)")
    parser.add_argument("--out", type=Path, required=True, help="JSON result file")
    args = parser.parse_args(argv)

    import mediapipe as mp

    paths = args.paths.read_text().split() if args.paths else []
    ms, faces = [], []
    with mp.solutions.face_mesh.FaceMesh(static_image_mode=args.mode == "image", max_num_faces=1,
                                         refine_landmarks=False) as mesh:
        for i, frame in enumerate(frames(args.source, args.warmup + args.frames, paths)):
            frame = np.ascontiguousarray(frame)
            start = time.perf_counter()
            result = mesh.process(frame)
            elapsed = (time.perf_counter() - start) * 1000.0
            if i >= args.warmup:
                ms.append(elapsed)
                faces.append(len(result.multi_face_landmarks or []))
    args.out.write_text(json.dumps({"mediapipe": mp.__version__, "ms": ms, "faces": faces,
                                    "threads": "MediaPipe's own (not settable from Python)"}))


if __name__ == "__main__":
    main()
