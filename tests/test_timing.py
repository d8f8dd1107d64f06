"""Tests of denseface.timing: stage times (the SDK's timing hook) and the CLI's frame progress."""
from __future__ import annotations

import io
import time

import pytest

from denseface.timing import FrameProgress, StageTimes, measure


def test_stages_add_up_and_are_read_per_frame():
    timer = StageTimes()
    with timer.stage("crop"):
        time.sleep(0.002)
    with timer.stage("crop"):
        pass
    assert timer.wrap("infer", lambda x: x + 1)(1) == 2
    assert timer.calls == {"crop": 2, "infer": 1}
    assert list(timer.seconds) == ["crop", "infer"] and timer.seconds["crop"] >= 0.002
    spent = timer.take()  # milliseconds, then empty
    assert set(spent) == {"crop", "infer"} and spent["crop"] >= 2.0
    assert timer.take() == {} and timer.calls == {}


def test_a_stage_that_raises_is_still_counted():
    timer = StageTimes()
    with pytest.raises(RuntimeError), timer.stage("detect"):
        raise RuntimeError("model failed")
    assert timer.calls == {"detect": 1}


def test_no_timer_measures_nothing():
    with measure(None, "crop"):
        pass  # no error, nothing to record into
    timer = StageTimes()
    with measure(timer, "crop"):
        pass
    assert timer.calls == {"crop": 1}
    assert "crop" in timer.report(frames=1) and "ms/frame" in timer.report(frames=1)


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_progress_rewrites_one_line_only_on_a_terminal():
    log, terminal = io.StringIO(), _Terminal()
    for stream in (log, terminal):
        progress = FrameProgress(total=3, stream=stream)
        for done in range(1, 4):
            progress.update(done)
        progress.close()
    assert "\r" not in log.getvalue() and log.getvalue().splitlines()[-1].startswith("frame 3/3")
    assert "\rframe 3/3" in terminal.getvalue() and terminal.getvalue().endswith("\n")
