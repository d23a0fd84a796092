#!/usr/bin/env bash
# The long fuzz run: builds the clang ASan+UBSan tree (build-fuzz/) and runs every libFuzzer
# target of tests/fuzz for [seconds] each (default 600), one after another, from the seeds
# (tests/fixtures and generated ones) plus whatever earlier runs added to the corpus.
#
#   scripts/fuzz.sh [seconds] [target ...]      e.g.  scripts/fuzz.sh 3600 store label_studio
#
# Findings (crash-*, leak-*, timeout-*, oom-* inputs) land in build-fuzz/fuzzwork/<target>/
# artifacts; the script exits non-zero if any target found something. Each finding becomes a
# fix plus its input under tests/fuzz/regressions/<target>/ (run by the `fuzz` CTest tests).
# One job per target, one target at a time. At the end a table lists per target the inputs
# executed, the seconds fuzzed, the corpus before -> after and the new findings; each
# target's whole output is also in build-fuzz/fuzzwork/<target>.out. FUZZ_JOBS sets the
# build's parallelism (default: nproc).
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${1:-600}
shift || true
targets=("$@")
((${#targets[@]})) || targets=(label_studio cvat coco csv idx config store image)
bin=build-fuzz
work=$bin/fuzzwork
tests/sanitize/build_tree.sh asan "$PWD" "$bin" "${FUZZ_JOBS:-$(nproc)}"
ASAN_OPTIONS=detect_leaks=0 "$bin/tests/fuzz/fuzz_seeds" "$work/seeds"

fx=tests/fixtures
declare -A seeds=(
  [label_studio]="$fx:*.json" [coco]="$fx:*.json" [cvat]="$fx:*.xml"
  [csv]="$fx:*.csv $fx:*.txt $work/seeds/csv:*" [idx]="$work/seeds/idx:*"
  [config]="$work/seeds/config:*" [store]="$work/seeds/store:*" [image]="$work/seeds/image:*")
failed=()
for t in "${targets[@]}"; do
  # shellcheck disable=SC2086  # the seed specs are split on purpose
  set +e
  tests/fuzz/run_fuzz.sh "$bin/tests/fuzz/fuzz_$t" "$work/$t" "$seconds" \
    "tests/fuzz/regressions/$t" ${seeds[$t]} 2>&1 | tee "$work/$t.out"
  rc=${PIPESTATUS[0]}
  set -e
  ((rc == 0)) || failed+=("$t")
done
echo
echo "target          runs        seconds  corpus          findings"
for t in "${targets[@]}"; do
  sed -nE 's/^== summary fuzz_([a-z_]+) runs=([^ ]+) seconds=([^ ]+) corpus=([^ ]+) findings=([^ ]+) .*/\1 \2 \3 \4 \5/p' \
    "$work/$t.out"
done | while read -r name runs secs corpus findings; do
  printf '%-15s %-11s %-8s %-15s %s\n' "$name" "$runs" "$secs" "$corpus" "$findings"
done
if ((${#failed[@]})); then
  echo "fuzz.sh: findings in: ${failed[*]}"
  exit 1
fi
echo "fuzz.sh: no findings (${#targets[@]} targets, ${seconds}s each)"
