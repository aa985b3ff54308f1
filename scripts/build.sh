#!/usr/bin/env bash
# Configures and builds fer (Release, Ninja, ccache when present) into ${FER_BUILD_DIR:-build}.
# Extra arguments go to CMake, e.g. scripts/build.sh -DFER_BUILD_TESTS=OFF
# or, against another LibTorch (CUDA): scripts/build.sh -DCMAKE_PREFIX_PATH=/path/to/libtorch
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD_DIR=${FER_BUILD_DIR:-build}
JOBS=${FER_JOBS:-$(nproc)}
cmake -S . -B "$BUILD_DIR" -G Ninja -DCMAKE_BUILD_TYPE=Release "$@"
cmake --build "$BUILD_DIR" -j "$JOBS"
echo "build: $BUILD_DIR/fer"
