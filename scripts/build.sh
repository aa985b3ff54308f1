#!/usr/bin/env bash
# Configures and builds fer (Release, Ninja, ccache when present) into ${FER_BUILD_DIR:-build}.
# Extra arguments go to CMake, e.g. scripts/build.sh -DFER_BUILD_TESTS=OFF
# or, against another LibTorch (CUDA): scripts/build.sh -DCMAKE_PREFIX_PATH=/path/to/libtorch
# FER_LIBTORCH=pip builds against LibTorch 2.x from the PyPI wheel (scripts/install_libtorch.sh
# installs it) into ${FER_BUILD_DIR:-build-pip}; the default, FER_LIBTORCH=debian, uses libtorch-dev.
set -euo pipefail
cd "$(dirname "$0")/.."
case "${FER_LIBTORCH:-debian}" in
  debian) BUILD_DIR=${FER_BUILD_DIR:-build} ;;
  pip) BUILD_DIR=${FER_BUILD_DIR:-build-pip} ;;
  *) echo "build: FER_LIBTORCH must be debian or pip, got '${FER_LIBTORCH}'" >&2; exit 2 ;;
esac
# scripts/build.sh --print-dir: the build folder alone (test.sh and demo.sh use it).
if [ "${1:-}" = "--print-dir" ]; then echo "$BUILD_DIR"; exit 0; fi
extra=()
[ "${FER_LIBTORCH:-debian}" = pip ] && extra=(-DCMAKE_PREFIX_PATH="$(scripts/install_libtorch.sh)")
JOBS=${FER_JOBS:-$(nproc)}
cmake -S . -B "$BUILD_DIR" -G Ninja -DCMAKE_BUILD_TYPE=Release "${extra[@]}" "$@"
cmake --build "$BUILD_DIR" -j "$JOBS"
echo "build: $BUILD_DIR/fer"
