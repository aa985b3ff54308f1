#!/usr/bin/env bash
# The test command: installs what is needed, builds, and runs every test with ctest
# (unit tests, real-data tests on ../shared/data when present, end-to-end CLI tests).
# FER_LIBTORCH=pip: against LibTorch 2.x from the PyPI wheel, in build-pip/ (scripts/build.sh).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install_deps.sh
scripts/build.sh -DFER_BUILD_TESTS=ON
ctest --test-dir "$(scripts/build.sh --print-dir)" --output-on-failure -j "${FER_TEST_JOBS:-2}" "$@"
