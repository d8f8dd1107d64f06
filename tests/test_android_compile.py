"""The Android app's Kotlin compiles against real jars: every app file that needs no AndroidX / CameraX.

Google's Maven (AndroidX, CameraX, LiteRT, the Android Gradle plugin) cannot be reached from CI, so the
app is compiled against what the reachable registries hold, no stand-in for any library API. Each
artifact is fetched by name, pinned by version and sha256, and cached (with what is built from it) in
``$DENSEFACE_CACHE/android`` (default ``~/.cache/denseface/android``):

* the Android platform: Debian bullseye's ``libandroid-23-java`` (Android 6.0.1, API 23: Google's
  ``android.jar``), through a private apt state (the machine's own sources are left alone);
* Kotlin 2.0.21, the app's version: JetBrains' compiler distribution, npm's ``kotlin-compiler`` package;
* TensorFlow Lite's Java API (``org.tensorflow.lite``, ``.gpu``, ``.nnapi``), built here with
  ``javac --release 8`` from Debian sid's ``tensorflow`` source (2.14.1+dfsg, its ``.orig.tar.xz``), with
  the one androidx annotation (``@Nullable`` in ``GpuDelegateNative``) removed from a copy, and the
  nullness annotations it uses from Debian bullseye's ``libchecker-framework-java`` (checker-qual). It is
  TF 2.14's API, not LiteRT 1.4.0's artifact: the same packages and the calls the app makes;
* the app's R class: ``aapt2 link`` as ``test_android_resources.py`` runs it; the JVM core: ``javac``.

``kotlinc -jvm-target 17 -Werror`` then compiles every Kotlin file of ``app/src/main`` that imports no
``androidx``; a compile error or warning fails. Only the camera / UI glue (``MainActivity.kt``) needs
AndroidX, and a test keeps it that way. A pinned artifact the registry no longer gives skips the tests,
naming it. Limits: the platform is API 23, not the app's compileSdk 35 (an API newer than 23 cannot be
compiled here); nothing is dexed or run.
"""
from __future__ import annotations

import fcntl
import os
import re
import shutil
import subprocess
import tarfile
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest

from conftest import running_in_ci
from denseface.fetch import cache_dir, sha256_of
from test_android_resources import MANIFEST, RES, aapt2, link  # noqa: F401 (aapt2: the fixture)

REPO = Path(__file__).resolve().parents[1]
DEMO = REPO / "android_demo"
APP_SOURCES = DEMO / "app" / "src" / "main" / "java"
CORE_SOURCES = DEMO / "core" / "src" / "main" / "java"
NEEDS_ANDROIDX = {"MainActivity.kt"}  # the camera / UI glue; everything else compiles here

APT_SOURCES = """\
deb [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] http://deb.debian.org/debian bullseye main
deb-src [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] http://deb.debian.org/debian sid main
"""
APT_HELPER = Path("/usr/lib/apt/apt-helper")  # apt's own downloader (hash-checked)


@dataclass(frozen=True)
class Artifact:
    """One pinned download.

    Attributes:
        source: where it comes from, as a person would look it up ("Debian bullseye", "npm").
        name: the package's name there (for Debian sources: the source package's).
        version: the pinned version (the Debian revision is left free for a source's .orig tarball).
        filename: the file it gives.
        sha256: hex digest that file must have.
    """

    source: str
    name: str
    version: str
    filename: str
    sha256: str

    def __str__(self) -> str:
        return f"{self.filename} ({self.source} {self.name} {self.version})"


ANDROID_PLATFORM = Artifact("Debian bullseye", "libandroid-23-java", "6.0.1+r72-6",
                            "libandroid-23-java_6.0.1+r72-6_all.deb",
                            "8af1b6df556971dda0a6da3536ea526a838e0c363afcdd454213d8bce94793e3")
CHECKER_QUAL = Artifact("Debian bullseye", "libchecker-framework-java", "3.0.1+ds2-3",
                        "libchecker-framework-java_3.0.1+ds2-3_all.deb",
                        "a5a93029e8a482d93fd819bf0dd43e50a3bff236871d049c2de543fe1e2a7a02")
TENSORFLOW_SOURCE = Artifact("Debian sid source", "tensorflow", "2.14.1+dfsg",
                             "tensorflow_2.14.1+dfsg.orig.tar.xz",
                             "9dfff0627def4e999f66a80d0fb57fd0651d12d525dcd67d6c24f1e9bca72b93")
KOTLIN = Artifact("npm", "kotlin-compiler", "2.0.21", "kotlin-compiler-2.0.21.tgz",
                  "c3505a37d85df9c79a19857626f2144c2ce078a8e679f7b97850202a06182bd1")

# TensorFlow Lite's Java API in the TF source tree: the interpreter, the GPU and the NNAPI delegates
TFLITE_JAVA = tuple(f"tensorflow-2.14.1/tensorflow/lite/{folder}/src/main/java/"
                    for folder in ("java", "delegates/gpu/java", "delegates/nnapi/java"))
GPU_DELEGATE_NATIVE = "org/tensorflow/lite/gpu/GpuDelegateNative.java"
ANDROIDX_NULLABLE = (("import androidx.annotation.Nullable;\n", ""),
                     ("  @Nullable static final Throwable", "  static final Throwable"))


def _run(command: list[str], cwd: Path | None = None,
         env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(command, cwd=cwd, env=env, capture_output=True, text=True, timeout=600)


# The compilers' runs are short: C1 only and the serial GC about halve their CPU time (kotlinc: 20 → 11 s)
QUICK_JVM = ("-XX:TieredStopAtLevel=1", "-XX:+UseSerialGC")


def _javac(*args: str) -> subprocess.CompletedProcess:
    return _run(["javac", *(f"-J{option}" for option in QUICK_JVM), "-encoding", "UTF-8", *args])


def _said(result: subprocess.CompletedProcess) -> str:
    return " | ".join(line for line in (result.stdout + result.stderr).strip().splitlines()[-4:] if line)


def _unavailable(artifact: Artifact, command: list[str], result: subprocess.CompletedProcess) -> None:
    """The registry said no (or could not be reached): skip, naming the artifact (never a red CI forever)."""
    shown = " ".join(word for word in command if not word.startswith("-o"))  # apt's private-state options
    pytest.skip(f"pinned artifact {artifact} cannot be fetched: `{shown}` exited {result.returncode}: {_said(result)}")


class Cache:
    """The downloads (``root/downloads``) and what is built from them (``root/<name>_<version>``); ``apt``: a private
    apt state for the downloads (a temporary folder: its indexes are only needed while fetching)."""

    def __init__(self, root: Path, apt: Path) -> None:
        self.root = root
        self.downloads = root / "downloads"
        self.apt = apt
        self._apt_updated = False

    def _apt_get(self, *args: str) -> list[str]:
        """apt-get on the private state: only APT_SOURCES, no installed packages, no translations."""
        options = {"Dir::Etc::SourceList": self.apt / "sources.list", "Dir::Etc::SourceParts": self.apt / "parts",
                   "Dir::State::Lists": self.apt / "lists", "Dir::Cache": self.apt / "cache",
                   "Dir::State::status": "/dev/null", "Acquire::Languages": "none"}
        return ["apt-get", "-q", *(f"-o{key}={value}" for key, value in options.items()), *args]

    def _apt_update(self, artifact: Artifact) -> None:
        if self._apt_updated:
            return
        for folder in ("parts", "lists/partial", "cache/archives/partial"):
            (self.apt / folder).mkdir(parents=True, exist_ok=True)
        (self.apt / "sources.list").write_text(APT_SOURCES)
        command = self._apt_get("update")
        result = _run(command)
        if result.returncode != 0:
            _unavailable(artifact, command, result)
        self._apt_updated = True

    def download(self, artifact: Artifact) -> Path:
        """The artifact's file, fetched by name when missing; its sha256 checked (a mismatch fails)."""
        path = self.downloads / artifact.filename
        if not path.is_file():
            self.downloads.mkdir(parents=True, exist_ok=True)
            with tempfile.TemporaryDirectory(dir=self.downloads) as partial:
                fetched = FETCHERS[artifact.source](self, artifact, Path(partial))
                fetched.replace(path)
        digest = sha256_of(path)
        assert digest == artifact.sha256, f"{path} has sha256 {digest}, expected {artifact.sha256} ({artifact})"
        return path

    def _debian_binary(self, artifact: Artifact, into: Path) -> Path:
        self._apt_update(artifact)
        command = self._apt_get("download", f"{artifact.name}={artifact.version}")
        result = _run(command, cwd=into)
        if result.returncode != 0 or not (into / artifact.filename).is_file():
            _unavailable(artifact, command, result)
        return into / artifact.filename

    def _debian_source_file(self, artifact: Artifact, into: Path) -> Path:
        """One file of a Debian source package (its .orig tarball), whichever Debian revision lists it."""
        self._apt_update(artifact)
        command = self._apt_get("source", "--print-uris", artifact.name)
        result = _run(command, cwd=into)
        uris = {name: uri for uri, name in re.findall(r"^'(\S+)' (\S+) \d+ \S+$", result.stdout, re.MULTILINE)}
        if artifact.filename not in uris:
            _unavailable(artifact, command, result)
        command = [str(APT_HELPER), "download-file", uris[artifact.filename], str(into / artifact.filename),
                   f"SHA256:{artifact.sha256}"]
        result = _run(command)
        if result.returncode != 0:
            _unavailable(artifact, command, result)
        return into / artifact.filename

    def _npm(self, artifact: Artifact, into: Path) -> Path:
        command = ["npm", "pack", f"{artifact.name}@{artifact.version}", "--pack-destination", str(into)]
        result = _run(command)
        if result.returncode != 0 or not (into / artifact.filename).is_file():
            _unavailable(artifact, command, result)
        return into / artifact.filename

    def built(self, artifact: Artifact, build: Callable[[Path, Path], None]) -> Path:
        """``root/<name>_<version>``, made once by ``build(download, folder)`` from the artifact's download
        (into a temporary folder, then renamed: never half made)."""
        target = self.root / f"{artifact.name}_{artifact.version}"
        if not target.exists():
            with tempfile.TemporaryDirectory(dir=self.root) as partial:
                build(self.download(artifact), Path(partial) / target.name)
                (Path(partial) / target.name).replace(target)
        return target


FETCHERS = {"Debian bullseye": Cache._debian_binary, "Debian sid source": Cache._debian_source_file,
            "npm": Cache._npm}


def _unpack_deb(deb: Path, folder: Path) -> None:
    result = _run(["dpkg-deb", "-x", str(deb), str(folder)])
    assert result.returncode == 0, f"dpkg-deb -x {deb} failed: {_said(result)}"


def _unpack_npm(tgz: Path, folder: Path) -> None:
    with tarfile.open(tgz) as archive:
        archive.extractall(folder, filter="tar")  # keeps bin/kotlinc executable


def _build_tflite_api(orig: Path, checker_qual: Path, classes: Path) -> None:
    """TF Lite's Java API from the TF source tarball, with javac --release 8 (as TF's own build targets Java 8)."""
    with tempfile.TemporaryDirectory() as work:
        sources = []
        with tarfile.open(orig, "r|xz") as archive:
            for member in archive:
                if member.isfile() and member.name.endswith(".java") and member.name.startswith(TFLITE_JAVA):
                    path = Path(work) / member.name
                    path.parent.mkdir(parents=True, exist_ok=True)
                    path.write_bytes(archive.extractfile(member).read())
                    sources.append(path)
        gpu_native = next(path for path in sources if path.as_posix().endswith(GPU_DELEGATE_NATIVE))
        text = gpu_native.read_text()
        for old, new in ANDROIDX_NULLABLE:  # its only AndroidX use: an annotation, no API
            assert text.count(old) == 1, f"{GPU_DELEGATE_NATIVE} no longer has {old.strip()!r}"
            text = text.replace(old, new)
        gpu_native.write_text(text)
        result = _javac("--release", "8", "-nowarn", "-cp", str(checker_qual), "-d", str(classes), *map(str, sources))
        assert result.returncode == 0, f"javac of TF Lite's Java API failed:\n{result.stdout}{result.stderr}"


@dataclass(frozen=True)
class Toolchain:
    """What the app is compiled with: kotlinc and the jars / class folders from the pinned artifacts."""

    kotlinc: Path
    android_jar: Path
    tflite_api: Path


def _require(*tools: str) -> None:
    """Skip without a command-line tool (under CI: fail, so a CI run cannot pass by skipping)."""
    missing = [tool for tool in tools if shutil.which(tool) is None and not Path(tool).is_file()]
    if missing:
        reason = f"{', '.join(missing)} not installed: needed to fetch and compile against the pinned jars"
        if running_in_ci():
            pytest.fail(f"{reason} (CI is set)", pytrace=False)
        pytest.skip(reason)


@pytest.fixture(scope="module")
def toolchain() -> Toolchain:
    """Fetches (once per machine: cached) and builds the toolchain; one test session at a time (a file lock)."""
    _require("javac", "npm", "apt-get", "dpkg-deb", str(APT_HELPER))
    root = cache_dir().parent / "android"  # beside the SDK's model cache
    root.mkdir(parents=True, exist_ok=True)
    with open(root / ".lock", "w") as lock, tempfile.TemporaryDirectory() as apt:
        fcntl.flock(lock, fcntl.LOCK_EX)
        cache = Cache(root, Path(apt))
        android_jar = cache.built(ANDROID_PLATFORM, _unpack_deb) / "usr/share/java/com.android.android-23.jar"
        checker_qual = cache.built(CHECKER_QUAL, _unpack_deb) / "usr/share/java/checker-qual-3.0.1.jar"
        tflite_api = cache.built(TENSORFLOW_SOURCE,
                                 lambda orig, classes: _build_tflite_api(orig, checker_qual, classes))
        compiler = cache.built(KOTLIN, _unpack_npm) / "package" / "bin" / "kotlinc"
    return Toolchain(compiler, android_jar, tflite_api)


def kotlinc(tools: Toolchain, sources: list[Path], classpath: list[Path], out: Path) -> subprocess.CompletedProcess:
    """``kotlinc -jvm-target 17 -Werror`` of ``sources`` against the platform jar, TF Lite's API and ``classpath``
    (the app's build: Kotlin 2.0.21, jvmTarget 17; no kotlin-reflect, which the app does not use)."""
    jars = [tools.android_jar, tools.tflite_api, *classpath]
    command = ["bash", str(tools.kotlinc), "-jvm-target", "17", "-Werror", "-no-reflect",
               "-cp", os.pathsep.join(map(str, jars)), "-d", str(out), *map(str, sources)]
    java_options = " ".join(("-Xmx512M", "-Xms128M", *QUICK_JVM))  # kotlinc's own heap settings, and QUICK_JVM
    return _run(command, env={**os.environ, "JAVA_OPTS": java_options})


def _needs_androidx(source: Path) -> bool:
    return re.search(r"^import androidx\.", source.read_text(), re.MULTILINE) is not None


def _app_sources_without_androidx() -> list[Path]:
    return sorted(path for path in APP_SOURCES.rglob("*.kt") if not _needs_androidx(path))


@dataclass(frozen=True)
class CompiledApp:
    """The app's compile: its kotlinc result, output folder and the class path it was compiled against."""

    result: subprocess.CompletedProcess
    classes: Path
    classpath: list[Path]


@pytest.fixture(scope="module")
def compiled_app(toolchain: Toolchain, aapt2: str,  # noqa: F811 (the imported fixture)
                 tmp_path_factory: pytest.TempPathFactory) -> CompiledApp:
    """The R class (aapt2 link) and the JVM core, compiled with javac, then the app's AndroidX-free files
    (kotlinc, once per session)."""
    work = tmp_path_factory.mktemp("android_compile")
    linked, _ = link(aapt2, RES, MANIFEST, work / "res")
    assert linked.returncode == 0, f"aapt2 link of android_demo/app failed:\n{linked.stdout}{linked.stderr}"
    java = work / "java"
    sources = [*sorted(CORE_SOURCES.rglob("*.java")), *(work / "res" / "java").rglob("R.java")]
    result = _javac("--release", "17", "-d", str(java), *map(str, sources))
    assert result.returncode == 0, f"javac of android_demo/core and R failed:\n{result.stdout}{result.stderr}"
    classpath = [java]
    classes = work / "app"
    return CompiledApp(kotlinc(toolchain, _app_sources_without_androidx(), classpath, classes), classes, classpath)


def test_only_the_camera_and_ui_glue_needs_androidx() -> None:
    """The app keeps AndroidX / CameraX in its glue, so everything else is compiled below."""
    needing = {path.name for path in APP_SOURCES.rglob("*.kt") if _needs_androidx(path)}
    assert needing == NEEDS_ANDROIDX, (f"files importing androidx: {sorted(needing)}, expected "
                                       f"{sorted(NEEDS_ANDROIDX)}: keep model, detector, overlay, benchmark "
                                       "and data code free of AndroidX")


def test_the_pinned_kotlin_and_jvm_target_are_the_apps() -> None:
    plugin = re.search(r'id\("org\.jetbrains\.kotlin\.android"\) version "([\d.]+)"',
                       (DEMO / "build.gradle.kts").read_text())
    assert plugin and plugin.group(1) == KOTLIN.version, \
        f"the app builds with Kotlin {plugin and plugin.group(1)}: pin kotlin-compiler at that version here"
    assert 'jvmTarget = "17"' in (DEMO / "app" / "build.gradle.kts").read_text(), "the app's jvmTarget is not 17"


def test_app_compiles_against_the_real_platform_and_tflite_jars(compiled_app: CompiledApp) -> None:
    result = compiled_app.result
    assert result.returncode == 0, \
        f"kotlinc -Werror of the app's AndroidX-free files failed:\n{result.stdout}{result.stderr}"
    # each file left its class: the one named after it, or <File>Kt for a file of top-level declarations
    classes = {path.relative_to(compiled_app.classes).as_posix() for path in compiled_app.classes.rglob("*.class")}
    for source in _app_sources_without_androidx():
        stem = source.relative_to(APP_SOURCES).as_posix().removesuffix(".kt")
        assert f"{stem}.class" in classes or f"{stem}Kt.class" in classes, f"no class compiled from {source}"


def test_a_type_error_in_an_app_file_fails_the_compile(toolchain: Toolchain, compiled_app: CompiledApp,
                                                       tmp_path: Path) -> None:
    """The same compile of one app file with a type error added (a scratch copy of ml/LandmarkModel.kt, against
    the other files' classes) fails, naming the error."""
    if compiled_app.result.returncode != 0:
        pytest.fail("the app itself does not compile (see the test above)", pytrace=False)
    original = APP_SOURCES / "dev" / "denseface" / "demo" / "ml" / "LandmarkModel.kt"
    broken = tmp_path / original.name
    broken.write_text(original.read_text() + '\nprivate val deliberateTypeError: Int = "not an Int"\n')
    result = kotlinc(toolchain, [broken], [*compiled_app.classpath, compiled_app.classes], tmp_path / "classes")
    output = result.stdout + result.stderr
    assert result.returncode != 0, f"kotlinc accepted a String as an Int:\n{output}"
    assert re.search(rf"{broken.name}:\d+:\d+: error: .*mismatch", output), output
