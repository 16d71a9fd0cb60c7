#!/usr/bin/env bash
# The test command: everything, offline. The IMAP tests need a real IMAP
# server, Dovecot (Debian package dovecot-imapd); they start it themselves
# on a loopback port with a throwaway configuration. Install it when it is
# missing, saying so, then run the whole suite. Extra arguments go to
# `cargo test`.
set -euo pipefail
cd "$(dirname "$0")/.."

if [ ! -x /usr/sbin/dovecot ]; then
    echo "scripts/test.sh: Dovecot is missing; installing the Debian package dovecot-imapd (for the IMAP tests)" >&2
    if [ "$(id -u)" -eq 0 ]; then
        sudo=""
    else
        sudo="sudo"
    fi
    export DEBIAN_FRONTEND=noninteractive
    $sudo apt-get update -qq
    # The package starts a system-wide service when it can; the tests use
    # their own instance and need only the program.
    $sudo apt-get install -y -qq dovecot-imapd
fi

# The module map of docs/design.md holds: no import circle, no import
# against the map's direction (scripts/modgraph.py, python3 only).
python3 scripts/modgraph.py --quiet >/dev/null || {
    python3 scripts/modgraph.py --quiet
    echo "scripts/test.sh: an import breaks the module map (above); see docs/design.md, Module map" >&2
    exit 1
}

exec cargo test "$@"
