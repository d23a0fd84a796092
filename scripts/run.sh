#!/usr/bin/env bash
# The main job of alx, from a clean clone on Debian 12: installs the packages, builds,
# and runs the example active-learning loop on Fashion-MNIST (Debian's dataset-fashion-mnist).
# Extra arguments go to the program.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
cmake --preset release
cmake --build build -j"$(nproc)" --target bench_core
build/benchmarks/bench_core "$@"
