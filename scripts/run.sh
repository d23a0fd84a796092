#!/usr/bin/env bash
# The main job of alx, from a clean clone on Debian 12: installs the packages, builds the
# `alx` program and runs the example active-learning loop on Fashion-MNIST (Debian's
# dataset-fashion-mnist): 20 labels to start, 10 rounds of 100, margin sampling.
# Extra arguments go to `alx simulate` (e.g. --sampler random, --rounds 5, --seed 1).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
cmake --preset release
cmake --build build -j"$(nproc)" --target alx_cli
out=runs/fashion-mnist
build/examples/alx simulate --out "$out" "$@"
echo "learning curve: $out/curve.png ($out/curve.csv); last batch: $out/next_batch.csv; store: $out/store.h5"
echo "state of the run: build/examples/alx status --store $out/store.h5"
