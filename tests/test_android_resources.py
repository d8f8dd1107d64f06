"""The Android demo's resources and manifest link with aapt2 (issue 16: a layout set
``android:scaleType="fillCenter"`` on CameraX's PreviewView, which only Gradle's resource link caught).

No Android SDK and no Google Maven here, so this links what it can without them: the app's real
``android_demo/app/src/main/res`` and ``AndroidManifest.xml`` (with the ``package`` attribute that the
Android Gradle plugin adds from ``namespace``, and min / target SDK from ``app/build.gradle.kts``),
against Debian's Android framework resources (``framework-res.apk``, Android 10 / API 29) plus
``android_demo/tools/resource_check/res``: test-only stand-ins for the AndroidX attributes and styles
the layouts and theme use (PreviewView's ``app:scaleType``, the AppCompat theme parent). A wrong
attribute, value, reference or string format fails the link, as it would fail ``./gradlew assembleDebug``.

Tools: Debian's ``aapt`` package (ships ``/usr/bin/aapt2``) and ``android-framework-res``. Without them
the tests are skipped; under CI (the CI environment variable set) they are apt-installed (root or sudo),
and the tests fail when that is impossible, so a CI run cannot pass by skipping them.

Limits: the framework is API 29, so manifest elements added later (``<uses-native-library>``, API 31)
are unknown to it and only allowed as named warnings (``NEWER_MANIFEST_ELEMENTS``); the stand-ins check
names and formats, not the AndroidX libraries' own resources. test_android_compile.py compiles the Kotlin
that needs no AndroidX against the R class this link writes.

A last test checks the committed Gradle wrapper (Gradle's own jar, a checksum-pinned distribution); no
Gradle build runs here.
"""
from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from conftest import running_in_ci

REPO = Path(__file__).resolve().parents[1]
DEMO = REPO / "android_demo"
APP = DEMO / "app"
RES = APP / "src" / "main" / "res"
MANIFEST = APP / "src" / "main" / "AndroidManifest.xml"
STUBS = DEMO / "tools" / "resource_check" / "res"
FRAMEWORK_RES = Path("/usr/share/android-framework-res/framework-res.apk")
APT_PACKAGES = ("aapt", "android-framework-res")  # Debian / Ubuntu: aapt ships aapt2 too
# Manifest elements newer than the API 29 framework (aapt2 warns "unexpected element"): allowed, by name.
NEWER_MANIFEST_ELEMENTS = {"uses-native-library"}  # API 31: the GPU delegate's OpenCL libraries


def _install_tools() -> None:
    """apt-get install the tools (under CI only); pytest.fail when that is impossible."""
    sudo = [] if os.geteuid() == 0 else ["sudo", "-n"]
    if shutil.which("apt-get") is None or (sudo and shutil.which("sudo") is None):
        pytest.fail(f"CI is set but aapt2 / {FRAMEWORK_RES} are missing and cannot be apt-installed here "
                    f"(need apt-get and root or sudo): apt-get install {' '.join(APT_PACKAGES)}", pytrace=False)
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    for command in (["apt-get", "update", "-qq"], ["apt-get", "install", "-y", "-qq", *APT_PACKAGES]):
        result = subprocess.run(sudo + command, capture_output=True, text=True, env=env, timeout=900)
        if result.returncode != 0:
            pytest.fail(f"CI is set and aapt2 is missing; `{' '.join(sudo + command)}` failed:\n"
                        f"{result.stdout[-2000:]}\n{result.stderr[-2000:]}", pytrace=False)


@pytest.fixture(scope="module")
def aapt2() -> str:
    """The aapt2 binary (with framework-res.apk present): skipped without them, apt-installed under CI."""
    found = shutil.which("aapt2")
    if found is None or not FRAMEWORK_RES.is_file():
        if not running_in_ci():
            pytest.skip(f"aapt2 or {FRAMEWORK_RES} not installed (apt-get install {' '.join(APT_PACKAGES)}); "
                        "under CI this test installs them")
        _install_tools()
        found = shutil.which("aapt2")
        if found is None or not FRAMEWORK_RES.is_file():
            pytest.fail(f"apt-get installed {' '.join(APT_PACKAGES)} but aapt2 / {FRAMEWORK_RES} are still missing",
                        pytrace=False)
    return found


def _gradle_setting(name: str) -> str:
    """A ``name = value`` setting of app/build.gradle.kts (namespace, minSdk, targetSdk)."""
    match = re.search(rf"^\s*{name}\s*=\s*\"?([\w.]+)\"?\s*$", (APP / "build.gradle.kts").read_text(), re.MULTILINE)
    assert match, f"{name} not found in android_demo/app/build.gradle.kts"
    return match.group(1)


def _run(command: list[str]) -> subprocess.CompletedProcess:
    return subprocess.run(command, capture_output=True, text=True, timeout=300)


def link(aapt2: str, res: Path, manifest: Path, work: Path) -> tuple[subprocess.CompletedProcess, Path]:
    """aapt2 compile (app res, stubs) + aapt2 link, as AGP's resource tasks do; (link result, R.txt).
    The R class's source goes to ``work/java`` (test_android_compile.py compiles against it)."""
    work.mkdir(parents=True, exist_ok=True)
    for source, out in ((res, work / "app.zip"), (STUBS, work / "stubs.zip")):
        compiled = _run([aapt2, "compile", "--dir", str(source), "-o", str(out)])
        assert compiled.returncode == 0, f"aapt2 compile {source} failed:\n{compiled.stdout}{compiled.stderr}"
    # AGP writes the package attribute from `namespace` into the merged manifest
    text = manifest.read_text()
    assert "package=" not in text, "AndroidManifest.xml must not set package= (AGP takes it from namespace)"
    merged = work / "AndroidManifest.xml"
    merged.write_text(text.replace("<manifest ", f'<manifest package="{_gradle_setting("namespace")}" ', 1))
    symbols = work / "R.txt"
    result = _run([aapt2, "link", "-o", str(work / "resources.apk"), "-I", str(FRAMEWORK_RES),
                   "--manifest", str(merged), "--min-sdk-version", _gradle_setting("minSdk"),
                   "--target-sdk-version", _gradle_setting("targetSdk"), "--warn-manifest-validation",
                   "--output-text-symbols", str(symbols), "--java", str(work / "java"),
                   str(work / "stubs.zip"), str(work / "app.zip")])
    return result, symbols


def test_app_resources_and_manifest_link(aapt2: str, tmp_path: Path) -> None:
    result, symbols = link(aapt2, RES, MANIFEST, tmp_path)
    output = result.stdout + result.stderr
    assert result.returncode == 0, f"aapt2 link of android_demo/app failed:\n{output}"
    unexpected = [line for line in output.splitlines() if line.strip()
                  and not any(f"unexpected element <{element}>" in line for element in NEWER_MANIFEST_ELEMENTS)]
    assert not unexpected, "aapt2 link warned:\n" + "\n".join(unexpected)
    # every R.<type>.<name> the Kotlin sources use exists (MainActivity, their user, needs AndroidX: not compiled here)
    defined = {tuple(line.split()[1:3]) for line in symbols.read_text().splitlines() if line.strip()}
    used = set()
    for source in (APP / "src").rglob("*.kt"):
        used |= set(re.findall(r"\bR\.(\w+)\.(\w+)", source.read_text()))
    assert used, "no R.<type>.<name> found in the app's Kotlin sources"
    missing = sorted(f"R.{kind}.{name}" for kind, name in used if (kind, name) not in defined)
    assert not missing, f"used in Kotlin but not defined in res/: {missing}"


def test_a_framework_attribute_with_a_camerax_value_fails(aapt2: str, tmp_path: Path) -> None:
    """The check catches issue 16's bug: android:scaleType (ImageView's enum) with PreviewView's value."""
    res = tmp_path / "res"
    shutil.copytree(RES, res)
    layout = res / "layout" / "activity_main.xml"
    text = layout.read_text()
    assert 'app:scaleType="fillCenter"' in text, "the PreviewView no longer sets app:scaleType: update this test"
    layout.write_text(text.replace('app:scaleType="fillCenter"', 'android:scaleType="fillCenter"'))
    result, _ = link(aapt2, res, MANIFEST, tmp_path / "work")
    assert result.returncode != 0, "aapt2 linked android:scaleType=\"fillCenter\" on PreviewView"
    assert "scaleType" in result.stdout + result.stderr


# The official gradle-wrapper.jar of Gradle 8.10 to 8.12.1 (one jar for those releases; Gradle publishes
# its sha256 with each release), and the sha256 of gradle-8.10.2-bin.zip that gradle-wrapper.properties pins.
WRAPPER_JAR_SHA256 = "2db75c40782f5e8ba1fc278a5574bab070adccb2d21ca5a6e5ed840888448046"
GRADLE_VERSION = "8.10.2"
DISTRIBUTION_SHA256 = "31c55713e40233a8303827ceb42ca48a47267a0ad4bab9177123121e71524c26"


def test_gradle_wrapper_is_gradles_and_pinned() -> None:
    """The committed wrapper is Gradle's own jar and fetches a checksum-pinned Gradle that AGP 8.7 accepts.
    (No Gradle build runs here: no Google Maven.)"""
    import hashlib

    jar = DEMO / "gradle" / "wrapper" / "gradle-wrapper.jar"
    assert hashlib.sha256(jar.read_bytes()).hexdigest() == WRAPPER_JAR_SHA256, \
        "gradle-wrapper.jar is not Gradle's official 8.10-8.12.1 wrapper jar"
    properties = dict(line.split("=", 1) for line in (DEMO / "gradle" / "wrapper" / "gradle-wrapper.properties")
                      .read_text().splitlines() if "=" in line and not line.startswith("#"))
    assert properties["distributionUrl"] == rf"https\://services.gradle.org/distributions/gradle-{GRADLE_VERSION}-bin.zip"
    assert properties["distributionSha256Sum"] == DISTRIBUTION_SHA256
    for script in ("gradlew", "gradlew.bat"):
        assert "gradle-wrapper.jar" in (DEMO / script).read_text(), script
    assert os.access(DEMO / "gradlew", os.X_OK), "gradlew must be executable"
