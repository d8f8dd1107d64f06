"""Shared test fixtures: the shared research data.

Every test that reads the shared data requests the ``shared_data`` fixture (directly, through
another fixture, or with ``pytestmark = pytest.mark.usefixtures("shared_data")``). Without the data
such a test is skipped, saying how to get it; under CI (the CI environment variable set, as CI
services do) it errors instead, so a CI run can never pass by skipping the data tests.
"""
from __future__ import annotations

import atexit
import os
import shutil
import tempfile

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")  # before numpy: BLAS threads only fight on 2 cores
# What the code under test computes and caches (train.data.CACHE: e.g. the MediaPipe → ICT registration)
# goes to a folder of this session, removed at its end, never to the user's ~/.cache/denseface. Set
# before train.data is imported, which reads it once. The pinned downloads (sha256-checked on use:
# denseface.fetch's MediaPipe models, test_android_compile's toolchain, ~260 MB) stay in the user's
# cache, linked in, so that they are fetched once, not in every session.
from pathlib import Path  # noqa: E402

DOWNLOAD_CACHES = ("models", "android")
_USER_CACHE = Path(os.environ.get("DENSEFACE_CACHE") or Path.home() / ".cache" / "denseface").expanduser()
_CACHE = tempfile.mkdtemp(prefix="denseface-test-cache-")
atexit.register(shutil.rmtree, _CACHE, ignore_errors=True)  # removes the links, not what they point to
for _name in DOWNLOAD_CACHES:
    try:
        (_USER_CACHE / _name).mkdir(parents=True, exist_ok=True)
        os.symlink(_USER_CACHE / _name, Path(_CACHE) / _name, target_is_directory=True)
    except OSError:  # a read-only home: the downloads then land in the session folder
        pass
os.environ["DENSEFACE_CACHE"] = _CACHE

import sys  # noqa: E402

import pytest  # noqa: E402

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))  # `import train` from a source checkout

from train.data import SHARED_DATA  # noqa: E402


def running_in_ci() -> bool:
    """Whether the CI environment variable is set to anything but empty, "0" or "false"."""
    return os.environ.get("CI", "").strip().lower() not in ("", "0", "false")


@pytest.fixture(scope="session")
def shared_data() -> Path:
    """The shared research data folder (``train.data.SHARED_DATA``); skips (errors under CI) without it."""
    if not SHARED_DATA.is_dir():
        reason = (
            f"shared research data not found at {SHARED_DATA}: place the project's research data in "
            f"../shared/data beside the repository ({REPO.parent / 'shared' / 'data'}) or set "
            "DENSEFACE_SHARED_DATA to its folder"
        )
        if running_in_ci():
            pytest.fail(f"{reason} (CI is set: missing data fails instead of skipping)", pytrace=False)
        pytest.skip(reason)
    return SHARED_DATA
