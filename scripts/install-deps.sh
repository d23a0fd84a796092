#!/usr/bin/env bash
# Installs the Debian 12 packages alx needs to build, test and run (idempotent,
# non-interactive). Only packages that are missing are installed.
set -euo pipefail

packages=(
  # toolchain
  cmake ninja-build ccache g++ pkg-config
  clang libclang-rt-14-dev  # libFuzzer and the sanitizer runtimes (tests/fuzz, tests/sanitize)
  # libraries
  libtorch-dev libopencv-dev libeigen3-dev libhdf5-dev libyaml-cpp-dev libfmt-dev libspdlog-dev
  nlohmann-json3-dev libpugixml-dev libcli11-dev zlib1g-dev libgloo-dev
  libgtest-dev libgmock-dev libbenchmark-dev
  # fast matrix products for LibTorch (replaces the reference BLAS, ~30x on Linear layers)
  libopenblas0-openmp
  # Python side: bindings, pytest, notebooks (Debian's torch matches the C++ LibTorch)
  python3-dev pybind11-dev python3-numpy python3-torch python3-pytest python3-nbclient
  python3-ipykernel python3-matplotlib python3-nbformat
  # data: Fashion-MNIST under /usr/share/datasets/fashion-mnist
  dataset-fashion-mnist
)

missing=()
for p in "${packages[@]}"; do
  status=$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null || true)
  [[ "$status" == "install ok installed" ]] || missing+=("$p")
done

if ((${#missing[@]})); then
  echo "alx: installing ${#missing[@]} Debian packages: ${missing[*]}"
  sudo=""
  [[ $(id -u) -eq 0 ]] || sudo="sudo"
  export DEBIAN_FRONTEND=noninteractive
  $sudo apt-get update -q
  $sudo apt-get install -y -q --no-install-recommends "${missing[@]}"
fi
