#!/usr/bin/env bash
# Templates cost: engine req/s with the Twitter scenario's compiled templates vs the same
# requests made fixed, alternating in one process (median of N pairs), client on one core.
#   1. against a minimal loopback responder (client cost dominates: the strict case);
#   2. against the reference server (`napkin serve`, 10K seeded users), pinned to another core.
# Usage: bench/templates.sh [PAIRS] [SECS]
set -euo pipefail
cd "$(dirname "$0")/.."
PAIRS=${1:-3}
SECS=${2:-3}
cargo build --release -q -p loadgen --example templates_bench
cargo build --release -q --bin napkin
BENCH=target/release/examples/templates_bench

echo "== minimal responder (same process, client pinned to core 1)"
taskset -c 1 "$BENCH" --pairs "$PAIRS" --secs "$SECS"

echo "== reference server (napkin serve on core 0, client on core 1)"
PORT_FILE=$(mktemp)
taskset -c 0 target/release/napkin serve --addr 127.0.0.1:0 --seed-users 10000 --seed-follows 20 \
  --seed-tweets 5 >"$PORT_FILE" 2>&1 &
SERVER=$!
trap 'kill $SERVER 2>/dev/null || true; rm -f "$PORT_FILE"' EXIT
URL=""
for _ in $(seq 1 200); do
  URL=$(grep -oE 'http://127\.0\.0\.1:[0-9]+' "$PORT_FILE" | head -1 || true)
  [ -n "$URL" ] && break
  sleep 0.1
done
if [ -z "$URL" ]; then
  echo "napkin serve did not print its address:"; cat "$PORT_FILE"; exit 1
fi
taskset -c 1 "$BENCH" --pairs "$PAIRS" --secs "$SECS" --target "$URL"
