#!/usr/bin/env bash
# The measurement behind the server's embedded store (issue 12): fjall (LSM), redb (B-tree) and
# SQLite (rusqlite, WAL, synchronous=FULL) on the server's own patterns, on this machine's disk:
#   always/s   durable commits per second, one tweet each (--fsync always)
#   batch64/s  tweets per second in durable commits of 64 (--fsync batch, 64 clients)
#   bulk/s, wbytes/tw, wchar/tw, disk B/tw   ROWS tweets in 64-row commits: rate, bytes the
#              process wrote to storage and to write() per tweet, bytes on disk per tweet
#   reopen_s   restart: open the store and read every tweet back
# then, as root, a 8 MiB tmpfs filled up: what the failing commit says, whether commits work
# again on the same handle once space is freed, and whether every acknowledged row survives.
# Usage: bench/store-pick.sh [ROWS]   (default 1000000)
set -euo pipefail
cd "$(dirname "$0")/store-pick"
ROWS=${1:-1000000}
cargo build --release -q
WORK=$(mktemp -d /var/tmp/store-pick.XXXXXX)
FULL=
cleanup() {
    [ -n "$FULL" ] && umount "$FULL" 2>/dev/null || true
    rm -rf "$WORK"
}
trap cleanup EXIT
if mkdir -p "$WORK/full" && mount -t tmpfs -o size=8m tmpfs "$WORK/full" 2>/dev/null; then
    FULL="$WORK/full"
else
    echo "(not root: skipping the full-disk part)"
fi
./target/release/store-pick "$WORK/data" "$ROWS" $FULL
