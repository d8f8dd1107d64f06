#!/usr/bin/env bash
# The SDK on aarch64 under qemu user emulation: install it into an arm64 Debian bookworm root, run the
# SDK tests there, compare its landmarks with this machine's on the same inputs (to 1e-3 px), and run
# the latency benchmark there with few frames (a smoke test: emulated timings are NOT ARM timings).
#
#   sudo benchmarks/arm/run_qemu.sh [MODEL.tflite]        (default: the bundled int8 model)
#
# Needs: a Debian/Ubuntu x86_64 host, root (chroot, debootstrap, binfmt), network access to
# deb.debian.org and PyPI, and a host Python with the SDK's dependencies (HOST_PYTHON, default python3;
# PYTHONPATH is set to this checkout). Environment: DENSEFACE_ARM_WORK (default /tmp/denseface-arm)
# holds the arm64 root and the wheels; OUT (default benchmarks/results/arm) gets the results.
# Re-running reuses the root and the wheels and reinstalls the denseface wheel from this checkout.
set -euo pipefail

REPO="$(cd "$(dirname "$0")/../.." && pwd)"
MODEL="${1:-$REPO/sdk/denseface/models/denseface_int8.tflite}"
WORK="${DENSEFACE_ARM_WORK:-/tmp/denseface-arm}"
ROOT="$WORK/root"
OUT="${OUT:-$REPO/benchmarks/results/arm}"
HOST_PYTHON="${HOST_PYTHON:-python3}"
SUITE=bookworm            # its python3 is 3.11, which the aarch64 wheels below are fetched for
PYVER=3.11
MIRROR="${MIRROR:-http://deb.debian.org/debian}"
# The emulated CPU. qemu's default ("max") advertises every ISA extension it knows (SVE, SME, i8mm...),
# which no Raspberry Pi has, and XNNPACK then picks kernels for them; under qemu 7.2 those gave int8
# outputs far from x86's (up to 244 of 256 steps) while cortex-a72 and cortex-a76 match x86 bit for bit.
# So emulate the Pi's own core: cortex-a72 (Pi 4) by default, QEMU_CPU=cortex-a76 for a Pi 5.
QEMU_CPU="${QEMU_CPU:-cortex-a72}"
SDK_TESTS="tests/test_api.py tests/test_cli.py tests/test_crop.py tests/test_detect.py tests/test_draw.py tests/test_infer.py tests/test_pose.py tests/test_smooth.py tests/test_topology.py"
# training-side tests in test_topology.py (they rebuild the topology: scipy, numba, the ICT model)
TRAIN_SIDE="--deselect tests/test_topology.py::test_rebuild_is_deterministic_and_matches_the_shipped_asset
            --deselect tests/test_topology.py::test_layout_is_stable_under_rounding_noise
            --deselect tests/test_topology.py::test_points_lie_inside_the_face_mask
            --deselect tests/test_topology.py::test_jaw_follows_the_bfm_definition"
TRAIN_SIDE="$(echo $TRAIN_SIDE)"  # one line: it goes into a sh -c command
export PYTHONPATH="$REPO/sdk:$REPO"

say() { printf '\n== %s\n' "$*"; }
[ -f "$MODEL" ] || { echo "landmark model $MODEL not found: pass its path as the first argument" >&2; exit 2; }
mkdir -p "$WORK" "$OUT"

say "1. tools: qemu-user-static, debootstrap, binfmt-support"
if ! command -v qemu-aarch64-static >/dev/null || ! command -v debootstrap >/dev/null; then
    apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q qemu-user-static debootstrap binfmt-support
fi

say "2. binfmt_misc: let the kernel start aarch64 programs through qemu"
if [ ! -e /proc/sys/fs/binfmt_misc/register ]; then
    mount -t binfmt_misc binfmt_misc /proc/sys/fs/binfmt_misc 2>/dev/null || true
fi
if [ ! -e /proc/sys/fs/binfmt_misc/qemu-aarch64 ] && command -v update-binfmts >/dev/null; then
    update-binfmts --enable qemu-aarch64 2>/dev/null || true
fi
if [ -e /proc/sys/fs/binfmt_misc/qemu-aarch64 ]; then
    QEMU=""            # chroot runs aarch64 binaries (and their subprocesses) directly
    DESELECT=""
else
    QEMU="/usr/bin/qemu-aarch64-static"  # explicit: only the first process is emulated
    DESELECT="--deselect tests/test_cli.py::test_module_entry_point"  # it starts a subprocess
    echo "binfmt_misc unavailable: running qemu explicitly; tests that start subprocesses are deselected"
fi
arm() {  # run a command inside the arm64 root with a clean environment
    env -i HOME=/root PATH=/opt/venv/bin:/usr/bin:/bin LANG=C.UTF-8 DENSEFACE_EMULATED=1 QEMU_CPU="$QEMU_CPU" \
        /usr/sbin/chroot "$ROOT" $QEMU "$@"
}

say "3. arm64 Debian $SUITE root in $ROOT"
if [ ! -x "$ROOT/usr/bin/python$PYVER" ]; then
    debootstrap --arch=arm64 --foreign --variant=minbase --include=python3,python3-venv,libstdc++6 \
        "$SUITE" "$ROOT" "$MIRROR"
    # The second stage (configuring packages) would need the root's own dpkg under emulation; Python
    # needs only the files, so unpack every downloaded package instead.
    for deb in "$ROOT"/var/cache/apt/archives/*.deb; do dpkg-deb -x "$deb" "$ROOT"; done
fi
cp /usr/bin/qemu-aarch64-static "$ROOT/usr/bin/"
# LiteRT's XNNPACK delegate asks cpuinfo what the CPU is. Under qemu user mode /proc/cpuinfo is the
# x86 host's (cpuinfo crashes on it) and without /sys it gives up, and LiteRT silently falls back to
# its built-in kernels, which a real ARM device would not run. So: /sys from the host, and a
# /proc/cpuinfo describing Cortex-A72 cores (a Raspberry Pi 4), one per host CPU. Unmounted on exit.
FAKE_CPUINFO="$WORK/cpuinfo_cortex_a72"
: > "$FAKE_CPUINFO"
for i in $(seq 0 $(( $(nproc) - 1 ))); do
    printf 'processor\t: %d\nBogoMIPS\t: 108.00\nFeatures\t: fp asimd evtstrm crc32 cpuid\nCPU implementer\t: 0x41\nCPU architecture: 8\nCPU variant\t: 0x0\nCPU part\t: 0xd08\nCPU revision\t: 3\n\n' "$i" >> "$FAKE_CPUINFO"
done
unmount_all() {
    umount "$ROOT/proc/cpuinfo" 2>/dev/null || true
    umount "$ROOT/proc" 2>/dev/null || true
    umount "$ROOT/sys" 2>/dev/null || true
}
unmount_all
trap unmount_all EXIT
mkdir -p "$ROOT/proc" "$ROOT/sys"
mount -t proc proc "$ROOT/proc"
mount --bind "$FAKE_CPUINFO" "$ROOT/proc/cpuinfo"
mount -t sysfs sysfs "$ROOT/sys"
arm /usr/bin/python$PYVER -c 'import platform; print("arm64 root python", platform.python_version(), platform.machine())'

say "4. aarch64 wheels from PyPI and the denseface wheel from this checkout"
WHEELS="$ROOT/wheels"
mkdir -p "$WHEELS"
PLATFORMS=""
for tag in manylinux2014_aarch64 manylinux_2_17_aarch64 manylinux_2_27_aarch64 manylinux_2_28_aarch64 manylinux_2_31_aarch64 manylinux_2_34_aarch64 manylinux_2_36_aarch64; do
    PLATFORMS="$PLATFORMS --platform $tag"
done
"$HOST_PYTHON" -m pip download -q --only-binary=:all: $PLATFORMS --python-version $PYVER --implementation cp \
    -d "$WHEELS" numpy opencv-python-headless ai-edge-litert pytest tqdm matplotlib
rm -rf "$WORK/src" && mkdir -p "$WORK/src"
cp -r "$REPO/sdk" "$REPO/setup.cfg" "$REPO/pyproject.toml" "$REPO/README.md" "$WORK/src/"
find "$WORK/src" -name __pycache__ -prune -exec rm -rf {} +
rm -f "$WHEELS"/denseface-*.whl
"$HOST_PYTHON" -m pip wheel -q --no-deps --no-build-isolation -w "$WHEELS" "$WORK/src"

say "5. install denseface into a venv inside the arm64 root (pip running under emulation)"
PIP_WHL="$(cd "$ROOT" && ls usr/share/python-wheels/pip-*.whl | head -1)"
[ -x "$ROOT/opt/venv/bin/python" ] || arm /usr/bin/python$PYVER -m venv --without-pip /opt/venv
arm /opt/venv/bin/python "/$PIP_WHL/pip" install -q --no-index --find-links /wheels pytest tqdm matplotlib
arm /opt/venv/bin/python "/$PIP_WHL/pip" install -q --no-index --find-links /wheels --force-reinstall --no-deps denseface
arm /opt/venv/bin/python "/$PIP_WHL/pip" install -q --no-index --find-links /wheels denseface
arm /opt/venv/bin/python -c 'import platform, denseface, numpy, cv2; from importlib.metadata import version; print("installed on", platform.machine(), "denseface", version("denseface"), "ai-edge-litert", version("ai-edge-litert"), "numpy", numpy.__version__, "cv2", cv2.__version__)'

say "6. the tests, benchmarks, model files and AFLW2000-3D originals into the root"
mkdir -p "$ROOT/work/main" "$ROOT/work/shared/data/aflw2000_3d" "$ROOT/root/.cache/denseface/models" "$ROOT/models"
rm -rf "$ROOT/work/main/tests" "$ROOT/work/main/train" "$ROOT/work/main/benchmarks"
tar -C "$REPO" --exclude=__pycache__ --exclude=results -cf - tests train benchmarks | tar -C "$ROOT/work/main" -xf -
SHARED="${DENSEFACE_SHARED_DATA:-$REPO/../shared/data}"
cp -r "$SHARED/aflw2000_3d/images" "$SHARED/aflw2000_3d/ground_truth.npz" "$ROOT/work/shared/data/aflw2000_3d/"
"$HOST_PYTHON" -m denseface.fetch >/dev/null
cp "${DENSEFACE_CACHE:-$HOME/.cache/denseface}"/models/*.tflite "$ROOT/root/.cache/denseface/models/"
cp "$MODEL" "$ROOT/models/landmarks.tflite"
# the SDK tests' synthetic model is built with TensorFlow (x86 only here): build it on the host
SYNTH="$("$HOST_PYTHON" -c "import sys, tempfile; from pathlib import Path; sys.path.insert(0, '$REPO/tests'); from synthetic_model import synthetic_models; print(synthetic_models(Path(tempfile.gettempdir()))['int8'].parent)")"
mkdir -p "$ROOT/tmp" && cp -r "$SYNTH" "$ROOT/tmp/"

say "7. SDK tests on aarch64"
set +e
arm /bin/sh -c "cd /work/main && python -m pytest -q -rs -p no:cacheprovider $SDK_TESTS $TRAIN_SIDE $DESELECT" \
    | tee "$OUT/pytest_aarch64.txt"
TESTS_RC=${PIPESTATUS[0]}
set -e

say "8. same input, same landmarks: x86_64 against aarch64 (tolerance 1e-3 px)"
CHECK="$REPO/benchmarks/arm/check_landmarks.py"
"$HOST_PYTHON" "$CHECK" inputs --out "$WORK/inputs.npz"
"$HOST_PYTHON" "$CHECK" run --inputs "$WORK/inputs.npz" --model "$MODEL" --out "$OUT/points_x86_64.npz"
cp "$WORK/inputs.npz" "$ROOT/tmp/inputs.npz"
arm /opt/venv/bin/python /work/main/benchmarks/arm/check_landmarks.py run --inputs /tmp/inputs.npz \
    --model /models/landmarks.tflite --out /tmp/points_aarch64.npz
cp "$ROOT/tmp/points_aarch64.npz" "$OUT/"
set +e
"$HOST_PYTHON" "$CHECK" compare "$OUT/points_x86_64.npz" "$OUT/points_aarch64.npz" --tol 1e-3 --out "$OUT"
CHECK_RC=$?
set -e

say "9. latency benchmark under emulation (smoke test only: NOT ARM timings)"
arm /bin/sh -c "cd /work/main && python -m benchmarks.latency --model /models/landmarks.tflite --frames ${QEMU_FRAMES:-20} \
    --warmup 3 --threads 1 --runs image:aflw video:moving --model-invokes 20 --facemesh-python none --out /tmp/latency_qemu" \
    | tee "$OUT/latency_qemu.txt"
cp "$ROOT"/tmp/latency_qemu/latency.* "$OUT/" 2>/dev/null && for f in "$OUT"/latency.json "$OUT"/latency.png; do mv "$f" "${f%.*}_qemu.${f##*.}"; done

say "summary"
echo "SDK tests on aarch64: exit $TESTS_RC ($OUT/pytest_aarch64.txt)"
echo "landmark check x86_64 vs aarch64: $([ $CHECK_RC -eq 0 ] && echo PASS || echo FAIL) ($OUT/arm_check.json)"
echo "emulated latency (not ARM timings): $OUT/latency_qemu.txt"
exit $(( TESTS_RC != 0 || CHECK_RC != 0 ))
