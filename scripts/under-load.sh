#!/usr/bin/env bash
# The whole suite, RUNS times in a row (default 5), with every core kept
# busy by a busy loop the whole time: timing checks must hold on a loaded
# machine (docs/testing.md, "Timing policy"). Stops at the first failing
# run. Extra arguments go to scripts/test.sh (and so to `cargo test`).
#
#   scripts/under-load.sh            # 5 runs
#   RUNS=2 scripts/under-load.sh --test it send::
set -euo pipefail
cd "$(dirname "$0")/.."

runs=${RUNS:-5}
cores=$(nproc)

# Build first, unloaded: the runs then time the tests, not the compiler.
scripts/test.sh --no-run --quiet "$@"

loops=()
stop_loops() {
    for p in "${loops[@]}"; do kill "$p" 2>/dev/null || true; done
}
trap stop_loops EXIT
for _ in $(seq "$cores"); do
    (while :; do :; done) &
    loops+=($!)
done
echo "under-load: $cores busy loops (pids ${loops[*]}), $runs runs of scripts/test.sh $*"

for r in $(seq "$runs"); do
    start=$(date +%s)
    if ! scripts/test.sh "$@" >"target/under-load-$r.log" 2>&1; then
        echo "under-load: run $r FAILED after $(( $(date +%s) - start )) s; see target/under-load-$r.log"
        grep -E "^test .* FAILED|panicked at" "target/under-load-$r.log" | head -20 || true
        exit 1
    fi
    passed=$(grep -Eo "test result: ok\. [0-9]+ passed" "target/under-load-$r.log" | awk '{s += $4} END {print s}')
    echo "under-load: run $r ok in $(( $(date +%s) - start )) s ($passed tests passed)"
done
echo "under-load: $runs runs in a row passed with $cores cores busy"
