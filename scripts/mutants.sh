#!/usr/bin/env bash
# Mutation testing of the core modules with cargo-mutants, each file
# narrowed to the tests that exercise it so that a run fits in a session.
# Not run by CI (too slow); run before a release and record the figures in
# docs/testing.md.
#
#   scripts/mutants.sh ledger|outcome|pace|plan|contacts|credentials|inbox|all [extra cargo-mutants args]
#
# Results go to target/mutants/<name>/mutants.out (caught.txt, missed.txt,
# timeout.txt, unviable.txt).
set -euo pipefail
cd "$(dirname "$0")/.."

if ! command -v cargo-mutants >/dev/null; then
    echo "cargo-mutants is not installed: cargo install cargo-mutants --locked" >&2
    exit 1
fi

which=${1:-all}
shift || true

# name | files (comma-separated globs) | cargo test arguments
#
# The integration tests are one binary (`--test it`), narrowed by module
# name (`send::`); the names after `--` filter the unit tests as well, so
# each row also names the module's own unit tests (`schedule::`).
table() {
    cat <<'EOF'
ledger|src/ledger.rs,src/ledger/*.rs|--lib
outcome|src/send/outcome.rs,src/send/outcome/*.rs,src/diagnose.rs|--lib
pace|src/schedule/*.rs|--lib --test it -- schedule:: dispatch::
plan|src/plan.rs,src/plan/**/*.rs|--lib --test it -- plan:: send:: offline::
contacts|src/contacts.rs,src/contacts/*.rs|--lib --test it -- contacts:: offline:: props::
credentials|src/credentials/*.rs|--lib --test it -- credentials:: send::
inbox|src/inbox/classify.rs,src/inbox/evidence.rs,src/inbox/matching.rs|--lib --test it -- inbox::
EOF
}

found=0
while IFS='|' read -r name files tests; do
    [[ $which == all || $which == "$name" ]] || continue
    found=1
    args=()
    IFS=',' read -ra globs <<<"$files"
    for g in "${globs[@]}"; do
        # Skip globs that match nothing (a module not written yet).
        compgen -G "$g" >/dev/null && args+=(--file "$g")
    done
    if [[ ${#args[@]} -eq 0 ]]; then
        echo "== $name: no such files ($files), skipped"
        continue
    fi
    echo "== $name: ${args[*]} -- $tests"
    mkdir -p "target/mutants/$name"
    # shellcheck disable=SC2086 # $tests is a list of words on purpose
    cargo mutants --no-shuffle "${args[@]}" --output "target/mutants/$name" "$@" -- $tests || true
    out="target/mutants/$name/mutants.out"
    for kind in caught missed timeout unviable; do
        printf '%-9s %s\n' "$kind" "$(wc -l <"$out/$kind.txt" 2>/dev/null || echo 0)"
    done
done < <(table)

if [[ $found == 0 ]]; then
    echo "unknown module '$which': one of ledger outcome pace plan contacts credentials inbox all" >&2
    exit 2
fi
