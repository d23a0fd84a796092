#!/usr/bin/env bash
# Runs the augment loader's tests under ThreadSanitizer.
#   run_tsan.sh <tsan_loader binary> <suppressions file>
# ASLR off (setarch -R): the TSan runtime of gcc 12 / clang 14 cannot map its shadow memory
# with the high mmap randomisation of recent kernels ("unexpected memory mapping").
set -euo pipefail
bin=$1 supp=$2
export TSAN_OPTIONS="halt_on_error=1 second_deadlock_stack=1 history_size=4 suppressions=$supp"
export OMP_NUM_THREADS=1
run=("$bin" --gtest_filter='Loader.*' --gtest_brief=1)
if setarch "$(uname -m)" -R true 2>/dev/null; then
  exec setarch "$(uname -m)" -R "${run[@]}"
fi
exec "${run[@]}"
