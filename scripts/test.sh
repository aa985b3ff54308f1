#!/usr/bin/env bash
# The test command: installs what is needed, builds, and runs every test with ctest
# (unit tests, real-data tests on ../shared/data when present, end-to-end CLI tests).
# FER_LIBTORCH=pip: against LibTorch 2.x from the PyPI wheel, in build-pip/ (scripts/build.sh).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install_deps.sh
scripts/build.sh -DFER_BUILD_TESTS=ON
if [ "${FER_LIBTORCH:-debian}" = pip ]; then BUILD_DIR=${FER_BUILD_DIR:-build-pip}; else BUILD_DIR=${FER_BUILD_DIR:-build}; fi
ctest --test-dir "$BUILD_DIR" --output-on-failure -j "${FER_TEST_JOBS:-2}" "$@"
