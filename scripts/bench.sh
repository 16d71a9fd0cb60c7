#!/usr/bin/env bash
# Benchmarks, printed as figures (never asserted on):
#   1. `cargo bench --bench throughput`: render-only messages/s, and `send`'s
#      path with a relay's [rate] (per_minute = 1000000) to the in-process
#      SMTP sink on loopback at concurrency 1 and 4, side by side with a
#      baseline client (REPMAIL_BENCH_N recipients, default 500).
#   2. Peak memory and wall time of a release `repmail preview --out` over
#      REPMAIL_BENCH_PREVIEW_N generated recipients (default 100000), with
#      the example campaign's config and its Markdown letter; then
#      `repmail preview --mbox` (one file) over 10,000 recipients (time)
#      and over REPMAIL_BENCH_PREVIEW_N (time and peak RSS). Needs GNU time
#      at /usr/bin/time (Debian/Ubuntu: apt install time); skipped without
#      it. Skip it on purpose with --no-preview.
#
# Usage: scripts/bench.sh [--no-preview]
set -euo pipefail
cd "$(dirname "$0")/.."

preview=1
for arg in "$@"; do
    case "$arg" in
        --no-preview) preview=0 ;;
        *) echo "usage: scripts/bench.sh [--no-preview]" >&2; exit 2 ;;
    esac
done

echo "== cargo bench --bench throughput"
cargo bench --bench throughput

[ "$preview" = 1 ] || exit 0
if [ ! -x /usr/bin/time ]; then
    echo "== preview memory: skipped (GNU time not found at /usr/bin/time)"
    exit 0
fi

n=${REPMAIL_BENCH_PREVIEW_N:-100000}
echo
echo "== peak memory: repmail preview --out over $n recipients (release build)"
cargo build --release --quiet

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
# The example campaign as it is, with a generated contacts file in place of
# the 32 example representatives (same columns, reserved domains).
mkdir -p "$tmp/templates" "$tmp/contacts"
cp config.example.toml "$tmp/repmail.toml"
cp templates/*.tera "$tmp/templates/"
# contacts N: a representatives file of N generated rows.
contacts() {
    awk -v n="$1" 'BEGIN {
    print "title,first_name,last_name,chamber,state,district,party,email,contact_form"
    split("Vermont,Montana,Oregon,New Mexico,Maine,Wisconsin", states, ",")
    split("example.org,example.com,example.net", domains, ",")
    for (i = 0; i < n; i++) {
        if (i % 4 == 0) { t = "Senator"; c = "Senate"; d = "" }
        else { t = "Representative"; c = "House of Representatives"; d = i % 12 + 1 }
        printf "%s,First%d,Last%d,%s,%s,%s,Independent,rep%d@%s,\n",
            t, i, i, c, states[i % 6 + 1], d, i, domains[i % 3 + 1]
    }
}' > "$tmp/contacts/representatives.csv"
}
contacts "$n"

/usr/bin/time -v -o "$tmp/time.txt" \
    target/release/repmail --config "$tmp/repmail.toml" preview --out "$tmp/out" > /dev/null

files=$(find "$tmp/out" -name '*.eml' | wc -l)
size=$(du -sh "$tmp/out" | cut -f1)
rss_kb=$(awk -F': ' '/Maximum resident set size/ {print $2}' "$tmp/time.txt")
wall=$(awk -F': ' '/Elapsed \(wall clock\) time/ {print $2}' "$tmp/time.txt")
echo "recipients       $n"
echo ".eml written     $files ($size)"
echo "wall time        $wall (m:ss)"
echo "peak RSS         $((rss_kb / 1024)) MiB ($rss_kb kB)"
if [ "$files" != "$n" ]; then
    echo "error: expected $n .eml files, found $files" >&2
    exit 1
fi
rm -rf "$tmp/out"

# preview --mbox: the same letters in one file, at 10,000 and at $n.
echo
echo "== repmail preview --mbox (one mboxrd file), release build"
printf '%-12s %12s %10s %12s %10s\n' recipients letters size "wall m:ss" "peak RSS"
for m in 10000 "$n"; do
    contacts "$m"
    /usr/bin/time -v -o "$tmp/time.txt" \
        target/release/repmail --config "$tmp/repmail.toml" preview --mbox "$tmp/letters.mbox" > /dev/null 2>&1
    letters=$(grep -c '^From ' "$tmp/letters.mbox")
    size=$(du -h "$tmp/letters.mbox" | cut -f1)
    rss_kb=$(awk -F': ' '/Maximum resident set size/ {print $2}' "$tmp/time.txt")
    wall=$(awk -F': ' '/Elapsed \(wall clock\) time/ {print $2}' "$tmp/time.txt")
    printf '%-12s %12s %10s %12s %7s MiB\n' "$m" "$letters" "$size" "$wall" "$((rss_kb / 1024))"
    if [ "$letters" != "$m" ]; then
        echo "error: expected $m letters in the mbox, found $letters" >&2
        exit 1
    fi
    rm -f "$tmp/letters.mbox"
done
