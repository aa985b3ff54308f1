#!/usr/bin/env bash
# Installs the Debian 12 packages fer needs to build, test and run. Idempotent: does nothing
# when everything is already installed. Needs root (or sudo).
set -euo pipefail

PACKAGES=(
  cmake ninja-build g++ ccache pkg-config
  libtorch-dev libopenblas0-pthread          # LibTorch 1.13 (CPU) + a fast BLAS for it
  libopencv-dev opencv-data                  # images, video, drawing; Haar cascades
  libdlib-dev libdlib-data                   # face detection, 68-point landmark model
  libcli11-dev libspdlog-dev nlohmann-json3-dev libhdf5-dev
  libgtest-dev
  clang-tidy cppcheck                        # scripts/lint.sh (CI runs it)
  libssl-dev                                 # SHA-256 of dataset files (OpenSSL's libcrypto)
  python3-torch python3-torchvision python3-h5py  # /usr/bin/python3: parity test, reference bench
  python3-matplotlib                         # scripts/seed_parity.sh: the parity plot
  python3-opencv                             # scripts/bench/infer_pytorch.py: the Python infer peer
  python3-venv                               # scripts/install_libtorch.sh: LibTorch 2.x from PyPI (FER_LIBTORCH=pip)
)

missing=()
for p in "${PACKAGES[@]}"; do
  [[ "$p" == \#* ]] && continue
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
  echo "install_deps: all ${#PACKAGES[@]} packages present"
  exit 0
fi
SUDO=""
if [ "$(id -u)" -ne 0 ]; then
  command -v sudo >/dev/null || { echo "install_deps: need root or sudo to install: ${missing[*]}" >&2; exit 1; }
  SUDO=sudo
fi
echo "install_deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -q
$SUDO apt-get install -y -q --no-install-recommends "${missing[@]}"
