#!/usr/bin/env bash
# Configures and builds a sanitizer tree of this source, separate from the main build, with
# only the targets a sanitizer run needs. Used by the CTest tests labelled `sanitize` and
# `fuzz` and by scripts/fuzz.sh.
#
#   build_tree.sh asan <source> <binary dir> <jobs>   clang, ASan + UBSan + libFuzzer coverage:
#                                                      test_core, test_io, test_faults_core, fuzz_*
#   build_tree.sh tsan <source> <binary dir> <jobs>   ThreadSanitizer: the augment loader tests
#
# The trees configure the whole project (so the test folders define their targets the usual
# way) with Python, benchmarks and examples off, and build nothing else. ccache is used when
# present (cmake/AlxCompiler.cmake), so a rebuild of an unchanged tree takes seconds.
set -euo pipefail
kind=$1 src=$2 bin=$3 jobs=${4:-2}

common=(-G Ninja -DALX_BUILD_PYTHON=OFF -DALX_BUILD_BENCHMARKS=OFF -DALX_BUILD_EXAMPLES=OFF
        -DALX_BUILD_TESTS=ON -DALX_SANITIZER_TREE="$kind")
case "$kind" in
  asan)
    # The `asan` preset's sanitizers (ALX_SANITIZE), built with clang so that the same objects
    # also carry libFuzzer's coverage hooks (-fsanitize=fuzzer-no-link; inert in test binaries).
    # -O1: fast enough to fuzz, still exact stacks; assertions stay on (no NDEBUG).
    targets=(test_core test_io test_faults_core alx_fuzzers)
    cmake -S "$src" -B "$bin" "${common[@]}" -DCMAKE_BUILD_TYPE=Debug \
      -DCMAKE_C_COMPILER=clang -DCMAKE_CXX_COMPILER=clang++ -DALX_SANITIZE=ON \
      -DCMAKE_CXX_FLAGS="-fsanitize=fuzzer-no-link" -DCMAKE_CXX_FLAGS_DEBUG="-g -O1" >/dev/null
    ;;
  tsan)
    targets=(tsan_loader)
    cmake -S "$src" -B "$bin" "${common[@]}" -DCMAKE_BUILD_TYPE=RelWithDebInfo \
      -DCMAKE_CXX_FLAGS="-fsanitize=thread -fno-omit-frame-pointer" \
      -DCMAKE_EXE_LINKER_FLAGS="-fsanitize=thread" >/dev/null
    ;;
  *) echo "build_tree.sh: unknown kind '$kind' (asan or tsan)" >&2; exit 2 ;;
esac
cmake --build "$bin" -j"$jobs" --target "${targets[@]}"
