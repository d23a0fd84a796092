#!/usr/bin/env bash
# Every test of alx, from a clean clone on Debian 12: installs the packages, configures
# (Ninja, Release, ccache when present), builds everything and runs the whole suite
# (C++ GoogleTest suites, consumer projects, Python tests and the notebook) through CTest.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
jobs=$(nproc)
cmake --preset release
cmake --build build -j"$jobs"
ctest --test-dir build --output-on-failure -j"$jobs" --timeout 1200 "$@"
