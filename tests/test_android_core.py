"""The Android demo's JVM core (android_demo/core) reproduces the Python SDK's golden outputs.

Runs ``android_demo/core/run_tests.sh`` (javac + Debian's JUnit 4; the script apt-installs JUnit when
missing). The goldens in ``android_demo/core/src/test/resources/golden`` come from
``android_demo/tools/make_golden.py``; a second test checks that the shipped topology.bin matches the
SDK's topology, so a changed ``topology.npz`` cannot go unnoticed; a third that the Java core's copies of
the SDK's tracking constants (``denseface.track``) and detection-roll limit (``denseface.crop``) equal the
SDK's (``TrackingDeadBandTest`` pins how the Java rule uses them).
"""
from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
CORE = REPO / "android_demo" / "core"
TOOLS = REPO / "android_demo" / "tools"


@pytest.mark.skipif(shutil.which("javac") is None, reason="javac not installed (apt-get install default-jdk-headless)")
def test_jvm_core_parity_tests_pass() -> None:
    junit = Path("/usr/share/java/junit4.jar").exists() and Path("/usr/share/java/hamcrest-core.jar").exists()
    if not junit and os.geteuid() != 0 and shutil.which("sudo") is None:
        pytest.skip("JUnit 4 is not installed and cannot be apt-installed here (apt-get install junit4)")
    result = subprocess.run(["bash", str(CORE / "run_tests.sh")], capture_output=True, text=True, timeout=600)
    summary = [line for line in result.stdout.splitlines() if line.startswith(("OK (", "Tests run:"))]
    assert result.returncode == 0, f"JVM core tests failed:\n{result.stdout[-4000:]}\n{result.stderr[-2000:]}"
    assert summary and summary[-1].startswith("OK ("), result.stdout[-2000:]


def test_topology_asset_matches_the_sdk() -> None:
    import importlib.util

    spec = importlib.util.spec_from_file_location("export_assets", TOOLS / "export_assets.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    shipped = (REPO / "android_demo" / "app" / "src" / "main" / "assets" / "topology.bin").read_bytes()
    assert shipped == module.topology_bytes(), "topology.bin is stale: run python android_demo/tools/export_assets.py"


def test_java_tracking_constants_are_the_sdks() -> None:
    from denseface import crop, track

    java = (CORE / "src" / "main" / "java" / "dev" / "denseface" / "core" / "FacePipeline.java").read_text()

    def java_constant(name: str) -> tuple[float, ...]:
        match = re.search(rf"public static final double(?:\[\])? {name} = \{{?([^;}}]+)\}}?;", java)
        assert match, f"{name} not found in FacePipeline.java"
        return tuple(float(v) for v in match.group(1).split(","))

    for module, name in ((track, "TRACK_SIDE_RANGE"), (track, "TRACK_MAX_SHIFT"), (track, "MIN_FACE_PX"),
                         (track, "TRACK_DEAD_BAND"), (track, "TRACK_DEAD_BAND_DEG"), (crop, "DETECTION_FREE_ROLL_DEG")):
        value = getattr(module, name)
        expected = tuple(float(v) for v in value) if isinstance(value, tuple) else (float(value),)
        assert java_constant(name) == expected, f"FacePipeline.{name} differs from {module.__name__}.{name} = {value}"
