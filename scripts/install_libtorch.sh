#!/usr/bin/env bash
# Installs LibTorch 2.x from the PyPI `torch` wheel into a virtual environment (the second
# LibTorch configuration; the first is Debian's libtorch-dev 1.13.1) and prints its CMake prefix
# (the wheel's torch/ folder: lib/, include/, share/cmake/Torch) on stdout.
# Idempotent. The wheel carries the headers, the shared libraries and share/cmake/Torch.
#
#   scripts/install_libtorch.sh                 # into .venv-libtorch, torch ${FER_TORCH_VERSION:-2.11.0}
#   FER_LIBTORCH=pip scripts/test.sh            # build (into build-pip/) and test against it
#
# The wheel is built with the C++11 ABI (_GLIBCXX_USE_CXX11_ABI=1) like Debian's libraries;
# the script refuses a wheel built otherwise (fer links OpenCV, dlib and spdlog from Debian).
set -euo pipefail
cd "$(dirname "$0")/.."
VENV=${FER_LIBTORCH_VENV:-.venv-libtorch}
VERSION=${FER_TORCH_VERSION:-2.11.0}
PY=${FER_LIBTORCH_PYTHON:-python3}

if [ ! -x "$VENV/bin/python" ]; then
  "$PY" -m venv "$VENV" || { echo "install_libtorch: cannot make a virtual environment with $PY" >&2; exit 1; }
fi
have=$("$VENV/bin/python" -c 'import torch; print(torch.__version__.split("+")[0])' 2>/dev/null || true)
if [ "$have" != "$VERSION" ]; then
  echo "install_libtorch: installing torch==$VERSION from PyPI into $VENV (several GB with its CUDA libraries)" >&2
  "$VENV/bin/python" -m pip install -q --upgrade pip >&2
  "$VENV/bin/python" -m pip install -q "torch==$VERSION" >&2
fi
"$VENV/bin/python" - <<'PY' >&2 2>/dev/null
import torch, sys
abi = torch._C._GLIBCXX_USE_CXX11_ABI
print(f"install_libtorch: torch {torch.__version__}, CUDA {torch.version.cuda}, C++11 ABI {abi}")
if not abi:
    sys.exit("install_libtorch: this wheel uses the old C++ ABI; Debian's OpenCV/dlib/spdlog use the C++11 ABI")
PY
"$VENV/bin/python" -c 'import torch, os; print(os.path.dirname(torch.__file__))' 2>/dev/null
