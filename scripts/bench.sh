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
#   3. Peak memory of `check`, `send --dry-run` and `log` over a contacts
#      file of REPMAIL_BENCH_MEMORY_N generated rows (default 1,000,000)
#      and its delivery log (two rows for three recipients in four: half
#      sent, a quarter deferred, a quarter never tried), side by side with
#      the same commands over 10,000 rows and with `wc -l` reading the
#      same files: memory must not grow with the rows. GNU time is
#      installed with apt-get when missing (as root), else the section is
#      skipped. Only this section: --memory-only.
#
# Usage: scripts/bench.sh [--no-preview] [--memory-only]
set -euo pipefail
cd "$(dirname "$0")/.."

preview=1
throughput=1
for arg in "$@"; do
    case "$arg" in
        --no-preview) preview=0 ;;
        --memory-only) preview=0; throughput=0 ;;
        *) echo "usage: scripts/bench.sh [--no-preview] [--memory-only]" >&2; exit 2 ;;
    esac
done

if [ "$throughput" = 1 ]; then
    echo "== cargo bench --bench throughput"
    cargo bench --bench throughput
fi

# GNU time reports the peak RSS; Debian and Ubuntu ship it as `time`.
if [ ! -x /usr/bin/time ] && [ "$(id -u)" = 0 ] && command -v apt-get > /dev/null; then
    echo "== installing GNU time (apt-get install -y time) for the memory figures"
    apt-get install -y -qq time > /dev/null || true
fi
if [ ! -x /usr/bin/time ]; then
    echo "== memory figures: skipped (GNU time not found at /usr/bin/time; apt install time)"
    exit 0
fi
# The stripped release binary, as `cargo install` builds it (wall time and
# peak memory do not depend on symbols; for perf or callgrind use
# `cargo build --profile profiling`).
cargo build --release --quiet
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# rss_mib FILE: the peak resident set of a `/usr/bin/time -v` report, MiB.
rss_mib() {
    awk -F': ' '/Maximum resident set size/ {printf "%d", $2 / 1024}' "$1"
}

# memory N: a campaign of N generated contacts and its log, in $tmp/mem.
memory_campaign() {
    local dir="$tmp/mem"
    rm -rf "$dir"
    mkdir -p "$dir/templates" "$dir/contacts" "$dir/logs"
    cp config.example.toml "$dir/repmail.toml"
    cp templates/*.tera "$dir/templates/"
    awk -v n="$1" -v contacts="$dir/contacts/representatives.csv" \
        -v ledger="$dir/logs/human-rights-first.csv" 'BEGIN {
    print "title,first_name,last_name,chamber,state,district,party,email,contact_form" > contacts
    print "time,campaign,email,status,attempt,smtp_code,message_id,detail" > ledger
    split("Vermont,Montana,Oregon,New Mexico,Maine,Wisconsin", states, ",")
    split("example.org,example.com,example.net", domains, ",")
    for (i = 0; i < n; i++) {
        if (i % 4 == 0) { t = "Senator"; c = "Senate"; d = "" }
        else { t = "Representative"; c = "House of Representatives"; d = i % 12 + 1 }
        email = sprintf("rep%d@%s", i, domains[i % 3 + 1])
        printf "%s,First%d,Last%d,%s,%s,%s,Independent,%s,\n",
            t, i, i, c, states[i % 6 + 1], d, email > contacts
        if (i % 4 == 3) continue
        id = sprintf("<%d.bench@example.org>", i)
        printf "2026-12-01T10:00:00.000Z,human-rights-first,%s,sending,1,,%s,\n", email, id > ledger
        if (i % 2 == 0)
            printf "2026-12-01T10:00:01.000Z,human-rights-first,%s,sent,1,250,%s,2.0.0 Ok: queued\n", email, id > ledger
        else
            printf "2026-12-01T10:00:01.000Z,human-rights-first,%s,deferred,1,451,%s,4.7.1 Try again later\n", email, id > ledger
    }
}'
}

memory_n=${REPMAIL_BENCH_MEMORY_N:-1000000}
echo
echo "== peak memory over the contacts file and its log (release build)"
printf '%-10s %10s %10s %8s %8s %14s %8s\n' rows contacts log "wc -l" check "send --dry-run" log
for m in 10000 "$memory_n"; do
    memory_campaign "$m"
    dir="$tmp/mem"
    files=("$dir/contacts/representatives.csv" "$dir/logs/human-rights-first.csv")
    /usr/bin/time -v -o "$tmp/wc.txt" wc -l "${files[@]}" > /dev/null
    bin=(target/release/repmail --config "$dir/repmail.toml")
    # Exit codes are not the point here (check may warn); the figures are.
    /usr/bin/time -v -o "$tmp/check.txt" "${bin[@]}" check > /dev/null 2>&1 || true
    /usr/bin/time -v -o "$tmp/dry.txt" "${bin[@]}" send --dry-run > "$tmp/dry.out" 2>&1 || true
    /usr/bin/time -v -o "$tmp/log.txt" "${bin[@]}" log > "$tmp/log.out" 2>&1 || true
    printf '%-10s %10s %10s %5s MiB %4s MiB %10s MiB %4s MiB\n' "$m" \
        "$(du -h "${files[0]}" | cut -f1)" "$(du -h "${files[1]}" | cut -f1)" \
        "$(rss_mib "$tmp/wc.txt")" "$(rss_mib "$tmp/check.txt")" \
        "$(rss_mib "$tmp/dry.txt")" "$(rss_mib "$tmp/log.txt")"
done
echo "(send --dry-run printed $(wc -l < "$tmp/dry.out") lines, log $(wc -l < "$tmp/log.out") lines, at $memory_n rows)"

[ "$preview" = 1 ] || exit 0

n=${REPMAIL_BENCH_PREVIEW_N:-100000}
echo
echo "== peak memory: repmail preview --out over $n recipients (release build)"
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
