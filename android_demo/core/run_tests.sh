#!/usr/bin/env bash
# The JVM core's parity tests with the JDK and Debian's JUnit 4, no Gradle and no network beyond apt:
#   bash android_demo/core/run_tests.sh
# Installs default-jdk-headless / junit4 / libhamcrest-java with apt-get when missing (needs root or sudo).
# Compiles src/main, then src/testShared + src/test, with javac into a temporary folder and runs every *Test class;
# exits non-zero when a test fails. The golden files come from android_demo/tools/make_golden.py.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
junit_jar=/usr/share/java/junit4.jar
hamcrest_jar=/usr/share/java/hamcrest-core.jar

missing=()
command -v javac >/dev/null 2>&1 || missing+=(default-jdk-headless)
[[ -f "$junit_jar" ]] || missing+=(junit4)
[[ -f "$hamcrest_jar" ]] || missing+=(libhamcrest-java)
if (( ${#missing[@]} )); then
    echo "installing ${missing[*]} with apt-get" >&2
    sudo_cmd=()
    [[ "$(id -u)" == 0 ]] || sudo_cmd=(sudo)
    "${sudo_cmd[@]}" apt-get update -qq
    DEBIAN_FRONTEND=noninteractive "${sudo_cmd[@]}" apt-get install -y -qq "${missing[@]}" >/dev/null
fi

build="$(mktemp -d)"
trap 'rm -rf "$build"' EXIT
classpath="$junit_jar:$hamcrest_jar"
javac --release 17 -Xlint:all -Werror -encoding UTF-8 -d "$build/main" $(find "$here/src/main/java" -name '*.java')
# src/testShared: test code the app's on-device tests (app/src/androidTest) compile too (Golden, Tolerances, ModelParity)
javac --release 17 -Xlint:all -encoding UTF-8 -cp "$build/main:$classpath" -d "$build/test" \
    $(find "$here/src/testShared/java" "$here/src/test/java" -name '*.java')
tests=$(cd "$here/src/test/java" && find . -name '*Test.java' | sed 's|^\./||; s|\.java$||; s|/|.|g' | sort)
# a small, quickly started JVM: the tests take well under a second
java -XX:+UseSerialGC -XX:TieredStopAtLevel=1 \
    -Ddenseface.topology="$here/../app/src/main/assets/topology.bin" \
    -cp "$build/main:$build/test:$here/src/test/resources:$classpath" \
    org.junit.runner.JUnitCore $tests
