#!/usr/bin/env bash
# Lines of code per source file, tests left out (`#[cfg(test)] mod … { … }`
# blocks and the files of `#[cfg(test)] mod x;`): the measure behind "a file
# past ~400 lines is two concepts". Largest last; `scripts/sizes.sh 400`
# prints only the files over 400.
set -euo pipefail
cd "$(dirname "$0")/.."
over="${1:-0}"
find src -name '*.rs' ! -name tests.rs ! -path '*/tests/*' | while read -r f; do
    awk 'skip==0 && /^#\[cfg\(test\)\]/ {getline nxt; if (nxt ~ /^mod .*\{/) {skip=1; next} else if (nxt ~ /^mod .*;/) next; else {n+=2; next}} skip==1 { if ($0 ~ /^}/) skip=0; next } {n++} END{print n+0, FILENAME}' "$f"
done | sort -n | awk -v over="$over" '$1 > over'
