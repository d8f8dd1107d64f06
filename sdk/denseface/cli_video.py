"""The ``denseface video`` command: every frame of a video through VIDEO mode (tracking, smoothing),
written as a video with the faces drawn and/or as JSON Lines (one line per frame).

JSON Lines (``--jsonl``): line i is ``{"frame": i, "timestamp_ms": t, **frame_document(...)}``
(``denseface.export.frame_document``: width, height, coordinates, faces with their ``track_id``),
t = i × 1000 / the video's frame rate; frames without faces have ``"faces": []``.
"""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import cv2

from denseface.api import RunningMode
from denseface.cli_support import check_input, check_output, fail, load_denseface
from denseface.draw import draw_faces
from denseface.export import frame_document
from denseface.timing import FrameProgress, StageTimes

VIDEO_EXTENSIONS = (".mp4", ".m4v", ".mov", ".avi", ".mkv")  # containers OpenCV writes with the mp4v codec


def command_video(args: argparse.Namespace) -> int:
    """Check the paths, then run :func:`run_video` on the input."""
    check_input(args.input)
    if args.output is None and args.jsonl is None:
        fail("nothing to write: give -o OUT.mp4 (the drawn video) and/or --jsonl OUT.jsonl (the faces per frame)")
    if args.output is not None:
        if args.output.suffix.lower() not in VIDEO_EXTENSIONS:
            fail(f"cannot write a video with extension {args.output.suffix!r} ({args.output}); "
                 f"use one of {', '.join(VIDEO_EXTENSIONS)}")
        check_output(args.output)
    check_output(args.jsonl)
    capture = cv2.VideoCapture(str(args.input))
    try:
        return run_video(capture, args)
    finally:
        capture.release()


def run_video(capture: cv2.VideoCapture, args: argparse.Namespace) -> int:
    """Landmarks of every frame of ``capture`` (VIDEO mode); writes the drawn video and/or the JSON
    Lines; prints a summary, progress and timings. Fails (one line) before loading the model when no
    frame can be read."""
    times = StageTimes()
    read = times.wrap("read", capture.read)
    ok, bgr = read() if capture.isOpened() else (False, None)
    if not ok:
        fail(f"cannot read a video from {args.input}")
    fps = capture.get(cv2.CAP_PROP_FPS) or 30.0
    height, width = bgr.shape[:2]
    denseface = load_denseface(args, RunningMode.VIDEO)
    landmarks = times.wrap("landmarks (all)", denseface.landmarks_for_video)
    draw = times.wrap("draw", draw_faces)
    writer = None
    if args.output is not None:
        writer = cv2.VideoWriter(str(args.output), cv2.VideoWriter_fourcc(*"mp4v"), fps, (width, height))
        if not writer.isOpened():
            fail(f"cannot write a video to {args.output}")
        write = times.wrap("write", writer.write)
    try:
        lines = None if args.jsonl is None else args.jsonl.open("w")
    except OSError as error:
        fail(f"cannot write {args.jsonl}: {error.strerror or error}")
    progress = FrameProgress(int(capture.get(cv2.CAP_PROP_FRAME_COUNT) or 0))
    frames, with_faces = 0, 0
    try:
        while ok:
            timestamp_ms = frames * 1000.0 / fps
            faces = landmarks(bgr, timestamp_ms, timer=times)
            with_faces += bool(faces)
            if writer is not None:
                write(draw(bgr, faces, args.draw, "bgr"))
            if lines is not None:
                with times.stage("write"):
                    record = {"frame": frames, "timestamp_ms": round(timestamp_ms, 3),
                              **frame_document(faces, width, height)}
                    lines.write(json.dumps(record) + "\n")
            frames += 1
            progress.update(frames)
            ok, bgr = read()
    finally:
        progress.close()
        if writer is not None:
            writer.release()
        if lines is not None:
            lines.close()
    written = ", ".join(str(path) for path in (args.output, args.jsonl) if path is not None)
    print(f"{args.input}: {frames} frames, faces in {with_faces} -> {written}")
    print(times.report(frames), file=sys.stderr)
    return 0


def add_arguments(video: argparse.ArgumentParser) -> None:
    """The video command's own arguments."""
    video.add_argument("input", type=Path, help="video file (any format OpenCV reads)")
    video.add_argument("-o", "--output", type=Path, default=None,
                       help=f"video to write with the faces drawn, mp4v codec ({', '.join(VIDEO_EXTENSIONS)}; "
                            "default: none, then --jsonl is needed)")
    video.add_argument("--jsonl", type=Path, default=None,
                       help="also write the faces of every frame as JSON Lines to this file, one line per frame "
                            "(default: none)")
    video.set_defaults(run=command_video)
