#!/usr/bin/env bash
# The one-call GPU check (issue 23): on a machine with an NVIDIA GPU and Python's torch (a CUDA
# LibTorch inside) but without OpenCV, dlib, HDF5 or a package registry, it builds fer's CUDA
# checks (tests/cuda) against that torch, runs the smoke test (CPU/GPU agreement, training,
# checkpoints across devices, model-alone img/s) and trains fer's ResNet-18 on FER2013 faces for
# a few minutes in fp32 and in bf16, printing images/s and PublicTest accuracy per epoch.
#
#   scripts/gpu_check.sh --prepare   # on the CPU machine: fill .gpu_carry/ and rehearse
#   scripts/gpu_check.sh             # on the GPU machine (MINUTES=3 per precision; OUT=$OUT or /tmp)
#
# --prepare copies the header-only dependencies (nlohmann_json, {fmt}) and the FER2013 faces as
# raw bytes (the first ${FER_GPU_TRAIN_FACES:-18000} Training faces and all 3,589 PublicTest
# faces; the whole set does not fit the 64 MiB that travels) into .gpu_carry/ (git-ignored), then
# rehearses the GPU machine's build against the PyPI wheel's LibTorch (scripts/install_libtorch.sh)
# with the same commands, checks from the compiler's dependency files that no header came from
# outside LibTorch, the C++ library and .gpu_carry/, runs the trainer for a few steps on the CPU,
# and checks that the working tree plus .gpu_carry/ stay under 64 MiB. Then, from the session:
#   run(command="scripts/gpu_check.sh", carry=[".gpu_carry"], timeout_s=600)
# The build needs no CUDA toolkit (no .cu files; LibTorch's C++ API only), so it calls the
# compiler directly rather than CMake, whose Torch package asks for nvcc.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
CARRY=$ROOT/.gpu_carry
MINUTES=${MINUTES:-3}
# fer's sources the CUDA checks need, one pattern per line (tests/cuda/CMakeLists.txt reads it too).
mapfile -t patterns < tests/cuda/sources.txt
SOURCES=()
for p in "${patterns[@]}"; do SOURCES+=($p); done

build() {  # PYTHON BUILD_DIR: compiles tests/cuda against that Python's torch
  local py=$1 dir=$2 torch
  torch=$("$py" -c 'import torch, os; print(os.path.dirname(torch.__file__))' 2>/dev/null)
  [ -f "$torch/include/torch/csrc/api/include/torch/torch.h" ] || { echo "gpu_check: no LibTorch headers in $torch" >&2; exit 1; }
  local abi
  abi=$("$py" -c 'import torch; print(int(torch._C._GLIBCXX_USE_CXX11_ABI))' 2>/dev/null)
  mkdir -p "$dir"
  local flags=(-std=c++17 -O2 -fPIC -DFMT_HEADER_ONLY -D_GLIBCXX_USE_CXX11_ABI="$abi"
               -I "$ROOT/include" -I "$CARRY/include"
               -isystem "$torch/include" -isystem "$torch/include/torch/csrc/api/include")
  local objs=() pids=() f o
  for f in "${SOURCES[@]}" tests/cuda/cuda_smoke.cpp tests/cuda/gpu_train.cpp; do
    o="$dir/$(printf '%s' "${f%.cpp}" | tr / _).o"  # by path: src/core/registry.cpp and src/models/registry.cpp
    objs+=("$o")
    c++ "${flags[@]}" -MD -MF "${o%.o}.d" -c "$f" -o "$o" &
    pids+=($!)
  done
  local ok=1 p
  for p in "${pids[@]}"; do wait "$p" || ok=0; done
  [ "$ok" = 1 ] || { echo "gpu_check: compile failed" >&2; exit 1; }
  local libs=(-L "$torch/lib" -Wl,-rpath,"$torch/lib" -Wl,--no-as-needed -ltorch -ltorch_cpu -lc10)
  [ -f "$torch/lib/libtorch_cuda.so" ] && libs+=(-ltorch_cuda -lc10_cuda)
  libs+=(-Wl,--as-needed -pthread)
  local common=()
  for o in "${objs[@]}"; do case "$o" in *cuda_smoke.o|*gpu_train.o) ;; *) common+=("$o") ;; esac; done
  # libstdc++ first: the wheel's libtorch.so exports its own std::filesystem (cmake/TorchCompat.cmake)
  local first=(-Wl,--push-state,--no-as-needed -lstdc++ -Wl,--pop-state)
  c++ -o "$dir/fer_cuda_smoke" "${first[@]}" "$dir/tests_cuda_cuda_smoke.o" "${common[@]}" "${libs[@]}"
  c++ -o "$dir/fer_gpu_train" "${first[@]}" "$dir/tests_cuda_gpu_train.o" "${common[@]}" "${libs[@]}"
  echo "gpu_check: built $dir/fer_cuda_smoke and $dir/fer_gpu_train against $torch"
}

if [ "${1:-}" = "--prepare" ]; then
  rm -rf "$CARRY"
  mkdir -p "$CARRY/include" "$CARRY/fer2013"
  for h in nlohmann fmt; do
    [ -d "/usr/include/$h" ] || { echo "gpu_check: /usr/include/$h missing (scripts/install_deps.sh)" >&2; exit 1; }
    cp -r "/usr/include/$h" "$CARRY/include/"
  done
  H5=${FER2013_H5:-../shared/data/fer2013/fer2013_training_publictest.h5}
  /usr/bin/python3 - "$H5" "$CARRY/fer2013" "${FER_GPU_TRAIN_FACES:-18000}" <<'PY'
import sys, h5py, numpy as np
src, out, n = sys.argv[1], sys.argv[2], int(sys.argv[3])
with h5py.File(src, "r") as f:
    for split, name, count in (("Training", "train", n), ("PublicTest", "test", None)):
        x = f[f"{split}_pixel"][:count]
        y = f[f"{split}_label"][:count]
        assert x.shape[1:] == (48, 48) and x.dtype == np.uint8 and y.min() >= 0 and y.max() <= 6, split
        x.tofile(f"{out}/{name}.u8")
        y.astype(np.uint8).tofile(f"{out}/{name}_labels.u8")
        print(f"gpu_check: {src}: {len(x)} {split} faces -> {out}/{name}.u8")
PY
  # Rehearsal: the same build against the PyPI wheel's LibTorch, then only carried headers allowed.
  scripts/install_libtorch.sh >/dev/null
  rehearsal=${TMPDIR:-/tmp}/fer_gpu_rehearsal
  rm -rf "$rehearsal"
  build "${FER_LIBTORCH_VENV:-.venv-libtorch}/bin/python" "$rehearsal"
  outside=$(cat "$rehearsal"/*.d | tr ' \\' '\n\n' | grep '^/' | grep -v ':$' | grep -v -e "^$ROOT/" -e "/torch/include/" \
    -e '^/usr/include/c++/' -e '^/usr/lib/gcc/' -e '^/usr/include/x86_64-linux-gnu/' \
    -e '^/usr/include/[a-z_0-9-]*\.h$' -e '^/usr/include/\(linux\|asm-generic\|sys\|bits\|gnu\)/' | sort -u || true)
  if [ -n "$outside" ]; then
    echo "gpu_check: headers from outside LibTorch, libc/libstdc++ and .gpu_carry (missing on the GPU machine):" >&2
    echo "$outside" >&2
    exit 1
  fi
  echo "gpu_check: every header came from LibTorch, the C/C++ libraries, include/ or .gpu_carry/"
  "$rehearsal/fer_gpu_train" "$CARRY/fer2013" 0 fp32 cpu 3
  tree=$(git ls-files -co --exclude-standard -z | xargs -0 du -cb 2>/dev/null | tail -1 | cut -f1)
  carry=$(du -sb "$CARRY" | cut -f1)
  total=$((tree + carry))
  echo "gpu_check: working tree $((tree / 1024)) KiB + .gpu_carry $((carry / 1024)) KiB = $((total / 1048576)) MiB (limit 64)"
  [ "$total" -lt $((64 * 1048576)) ] || { echo "gpu_check: over 64 MiB" >&2; exit 1; }
  echo "gpu_check: ready: run(command=\"scripts/gpu_check.sh\", carry=[\".gpu_carry\"], timeout_s=600)"
  exit 0
fi

# ---- on the GPU machine ----
[ -d "$CARRY/fer2013" ] || { echo "gpu_check: .gpu_carry/ missing: run scripts/gpu_check.sh --prepare first and carry it" >&2; exit 1; }
OUT=${OUT:-/tmp}
exec > >(tee "$OUT/gpu_check.txt") 2>&1
date -u
nvidia-smi -L || true
python3 -c 'import torch; print("torch", torch.__version__, "CUDA", torch.version.cuda, torch.cuda.get_device_name(0) if torch.cuda.is_available() else "no GPU")'
build python3 "${TMPDIR:-/tmp}/fer_gpu_build"
bin=${TMPDIR:-/tmp}/fer_gpu_build
"$bin/fer_cuda_smoke" || echo "gpu_check: smoke test FAILED"
for p in fp32 bf16; do
  "$bin/fer_gpu_train" "$CARRY/fer2013" "$MINUTES" "$p" || echo "gpu_check: training in $p FAILED"
done
grep -E "^(PASS|FAIL|model alone|RESULT)" "$OUT/gpu_check.txt" || true
