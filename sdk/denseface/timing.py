"""Wall-clock timing for callers of the SDK: per stage of a call (:class:`StageTimes`, the SDK's timing
hook) and frames per second of a long run (:class:`FrameProgress`).

The hook: pass a :class:`StageTimes` to ``DenseFace.landmarks(frame, timer=...)`` or
``landmarks_for_video(frame, timestamp_ms, timer=...)`` and the call adds the time of each of its
stages (``STAGES``) under that stage's name; without a timer (the default) nothing is measured. The
head pose is not a stage of the call: ``Face.pose`` is fitted when first read, so a caller that wants
its time reads it inside ``timer.stage("pose")`` (or any name) itself.

Times are ``time.perf_counter`` seconds. Not thread-safe: one :class:`StageTimes` per thread (a
DenseFace serialises its calls, so one timer passed to the calls of one shared instance is fine).
"""
from __future__ import annotations

import contextlib
import sys
import time
from typing import Callable, ContextManager, Iterator, TextIO

STAGES = ("detect", "crop", "infer", "decode", "smooth")
"""The stages DenseFace records: detect = the BlazeFace detector; crop = the crop rule (detection,
caller-box or tracking crop) and the crop's warp; infer = the landmark model; decode = model output →
frame points; smooth = the One-Euro filter (VIDEO mode). The rest of a call (frame checks, tracking
bookkeeping, the 68-point box) is in no stage."""

_UNTIMED = contextlib.nullcontext()  # stateless: one instance serves every untimed block


class StageTimes:
    """Wall-clock seconds and calls per named stage.

    Attributes:
        seconds: stage name → total seconds, in the order the stages were first timed.
        calls: stage name → number of timed blocks or calls.
    """

    def __init__(self) -> None:
        self.seconds: dict[str, float] = {}
        self.calls: dict[str, int] = {}

    @contextlib.contextmanager
    def stage(self, name: str) -> Iterator[None]:
        """Time the ``with`` block under ``name`` (also when it raises)."""
        start = time.perf_counter()
        try:
            yield
        finally:
            self.add(name, time.perf_counter() - start)

    def wrap(self, name: str, function: Callable) -> Callable:
        """``function`` timed under ``name`` on every call (for a caller's own callables)."""
        def timed(*args, **kwargs):
            with self.stage(name):
                return function(*args, **kwargs)
        return timed

    def add(self, name: str, seconds: float) -> None:
        """Count one block of ``seconds`` under ``name``."""
        self.seconds[name] = self.seconds.get(name, 0.0) + seconds
        self.calls[name] = self.calls.get(name, 0) + 1

    def take(self) -> dict[str, float]:
        """Milliseconds per stage since the last ``take`` (or creation), then start afresh: a
        per-frame reading."""
        taken = {name: 1000.0 * seconds for name, seconds in self.seconds.items()}
        self.seconds.clear()
        self.calls.clear()
        return taken

    def report(self, frames: int) -> str:
        """One line per stage: total ms, calls, ms per frame."""
        lines = [f"timings over {frames} frame(s):"]
        for name, seconds in self.seconds.items():
            lines.append(f"  {name:<22} {1000 * seconds:9.1f} ms total  {self.calls[name]:6d} calls  "
                         f"{1000 * seconds / max(frames, 1):7.2f} ms/frame")
        return "\n".join(lines)


def measure(timer: StageTimes | None, name: str) -> ContextManager:
    """``timer.stage(name)``, or a context that measures nothing when ``timer`` is None."""
    return _UNTIMED if timer is None else timer.stage(name)


class FrameProgress:
    """Frames done, on stderr. On a terminal: one line rewritten in place (``\\r``) at most every
    ``TTY_INTERVAL_S``. Elsewhere (a log file, a pipe): a whole line every ``LOG_INTERVAL_S`` and one
    at the end, so logs never get ``\\r``-joined lines."""

    TTY_INTERVAL_S = 0.1
    LOG_INTERVAL_S = 10.0

    def __init__(self, total: int = 0, stream: TextIO | None = None) -> None:
        """total: the expected number of frames (0 = unknown). stream: default ``sys.stderr``."""
        self.total = total
        self.stream = sys.stderr if stream is None else stream
        self.tty = self.stream.isatty()
        self.done = 0
        self.start = self.last_print = time.perf_counter()

    def update(self, done: int) -> None:
        """``done`` frames are finished; prints when the interval since the last print has passed."""
        self.done = done
        now = time.perf_counter()
        if now - self.last_print >= (self.TTY_INTERVAL_S if self.tty else self.LOG_INTERVAL_S):
            self._print(now)

    def close(self) -> None:
        """Print the final count (and end the terminal line)."""
        self._print(time.perf_counter())
        if self.tty:
            self.stream.write("\n")
            self.stream.flush()

    def _print(self, now: float) -> None:
        count = f"{self.done}/{self.total}" if self.total else str(self.done)
        line = f"frame {count}, {self.done / max(now - self.start, 1e-9):.1f} frames/s"
        self.stream.write(f"\r{line:<40}" if self.tty else f"{line}\n")
        self.stream.flush()
        self.last_print = now
