#!/usr/bin/env bash
# Runs one libFuzzer target: first once over every committed regression input (each one
# crashed, hung or over-allocated before its fix), then `seconds` of fuzzing from the seeds.
#
#   run_fuzz.sh <fuzz binary> <work dir> <seconds> <regression dir> [<dir>:<glob> ...]
#
# Seeds (files under <dir> matching <glob>) are copied into <work dir>/corpus, which keeps
# what the fuzzer finds between runs. Findings land in <work dir>/artifacts and fail the run.
# Limits: 2 GiB RSS, 1 GiB per allocation, 10 s per input.
set -euo pipefail
fuzzer=$1 work=$2 seconds=$3 regressions=$4
shift 4
mkdir -p "$work/corpus" "$work/artifacts"
for spec in "$@"; do
  dir=${spec%%:*} glob=${spec#*:}
  [[ -d "$dir" ]] || continue
  while IFS= read -r -d '' f; do
    cp -f "$f" "$work/corpus/seed-$(sha1sum < "$f" | cut -c1-16)"
  done < <(find "$dir" -type f -name "$glob" -size -2M -print0)
done

limits=(-rss_limit_mb=2048 -malloc_limit_mb=1024 -timeout=10)
# ALX_FUZZ_SEED fixes libFuzzer's random seed (the test suite does: from the same corpus a run
# walks the same sequence of inputs, so a finding replays); unset, each run draws a new one.
seed=()
[[ -z "${ALX_FUZZ_SEED:-}" ]] || seed=(-seed="$ALX_FUZZ_SEED")
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:allocator_may_return_null=0}
# Leaks inside libhdf5 are told apart by their full allocation stack (lsan.supp).
[[ $(basename "$fuzzer") != fuzz_store ]] || ASAN_OPTIONS+=:fast_unwind_on_malloc=0
export LSAN_OPTIONS=${LSAN_OPTIONS:-suppressions=$(dirname "$0")/lsan.supp}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}

if [[ -d "$regressions" ]] && compgen -G "$regressions/*" >/dev/null; then
  echo "== regression inputs: $regressions"
  "$fuzzer" "${limits[@]}" "$regressions"/* 2>&1 | grep -E "^(Running|Executed|==|SUMMARY)" || true
  "$fuzzer" "${limits[@]}" "$regressions"/* >/dev/null 2>&1 || {
    echo "a regression input fails again"; "$fuzzer" "${limits[@]}" "$regressions"/*; exit 1; }
fi

corpus_before=$(find "$work/corpus" -type f | wc -l)
artifacts_before=$(find "$work/artifacts" -type f | wc -l)
echo "== fuzzing $(basename "$fuzzer") for ${seconds}s from $corpus_before inputs"
log="$work/last.log"
set +e
"$fuzzer" "${limits[@]}" "${seed[@]}" -max_total_time="$seconds" -print_final_stats=1 \
  -artifact_prefix="$work/artifacts/" "$work/corpus" >"$log" 2>&1
rc=$?
set -e
grep -E "^(stat::number_of_executed_units|stat::peak_rss_mb|stat::new_units_added)|Done [0-9]+ runs" "$log" || true
# One line to collect into a table (scripts/fuzz.sh does): runs, seconds, corpus, findings.
runs=$(sed -nE 's/^stat::number_of_executed_units: *([0-9]+).*/\1/p' "$log" | tail -n1)
secs=$(sed -nE 's/.*Done [0-9]+ runs in ([0-9]+) second.*/\1/p' "$log" | tail -n1)
echo "== summary $(basename "$fuzzer") runs=${runs:-?} seconds=${secs:-?}" \
  "corpus=$corpus_before->$(find "$work/corpus" -type f | wc -l)" \
  "findings=$(($(find "$work/artifacts" -type f | wc -l) - artifacts_before)) rc=$rc"
if ((rc != 0)); then
  tail -n 60 "$log"
  echo "FINDING: $(basename "$fuzzer") failed (rc $rc); inputs in $work/artifacts"
  exit 1
fi
