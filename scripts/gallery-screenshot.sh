#!/usr/bin/env bash
# Renders the example campaign's gallery (`repmail preview --html`) and
# takes screenshots of its index and of one letter page in headless
# Chromium, to check the pages by eye. Not run in CI.
#
#   scripts/gallery-screenshot.sh [OUT_DIR] [CONFIG]
#
# --virtual-time-budget lets the sandboxed frame render before the shot
# (without it the HTML part is still blank). Needs Debian's chromium (`apt-get install -y chromium`). Chromium gets a
# fresh profile and no background networking, so it fetches nothing.
set -euo pipefail

root="$(cd "$(dirname "$0")/.." && pwd)"
# Cargo builds into $CARGO_TARGET_DIR when it is set (issue 24, item 10).
target="${CARGO_TARGET_DIR:-$root/target}"
out="${1:-$target/gallery-screenshots}"
config="${2:-$root/config.example.toml}"
browser="$(command -v chromium || command -v chromium-browser || true)"
if [ -z "$browser" ]; then
    echo "chromium is not installed: apt-get install -y chromium" >&2
    exit 1
fi

cargo build --quiet --manifest-path "$root/Cargo.toml"
rm -rf "$out"
mkdir -p "$out"
"$target/debug/repmail" --config "$config" preview --quiet --html "$out/gallery" || true
test -f "$out/gallery/index.html"

shot() { # shot PAGE PNG
    local profile
    profile="$(mktemp -d)"
    "$browser" --headless --no-sandbox --disable-gpu \
        --disable-background-networking --disable-component-update \
        --disable-sync --no-first-run --user-data-dir="$profile" \
        --window-size=1200,1400 --hide-scrollbars --virtual-time-budget=8000 \
        --screenshot="$2" "file://$1" >/dev/null 2>&1
    rm -rf "$profile"
    echo "$2"
}

shot "$out/gallery/index.html" "$out/index.png"
letter="${LETTER:-$(ls "$out/gallery/letters" | sed -n 3p)}"
shot "$out/gallery/letters/$letter" "$out/letter.png"
