#!/usr/bin/env bash
# Sharded load on this machine, the local stand-in for a distributed run (docs/distributed.md):
# `napkin serve` (core 0) loaded at one fixed total rate by 1, 2 and 4 shard processes
# (`napkin load --shard I/N --start-at T`, core 1), merged with `napkin merge` and gated with
# `napkin check`, beside an unsharded run of the same scenario, seed and rate. For each N it
# prints the merged achieved rate, p99, the offered count against the unsharded run's (equal
# by construction: request k is shard k mod N's) and the start skew between the shards.
# Knobs: RATE (2000), SECS (10, warm-up included), WARMUP (2s), CONNS (24), LEAD (3: seconds
# from launch to --start-at), ARRIVALS ("uniform poisson"), SHARDS ("1 2 4"),
# SCENARIO (scenarios/twitter.yaml; its `user` key space is 10K, seeded to match).
set -euo pipefail
cd "$(dirname "$0")/.."

RATE=${RATE:-2000}
SECS=${SECS:-10}
WARMUP=${WARMUP:-2s}
CONNS=${CONNS:-24}
LEAD=${LEAD:-3}
ARRIVALS=${ARRIVALS:-uniform poisson}
SHARDS=${SHARDS:-1 2 4}
SCENARIO=${SCENARIO:-scenarios/twitter.yaml}

cargo build --release -p napkin 2>&1 | tail -1
BIN=target/release/napkin
TMP=$(mktemp -d)
SERVER=""
cleanup() {
  if [ -n "$SERVER" ]; then kill "$SERVER" 2>/dev/null || true; wait "$SERVER" 2>/dev/null || true; fi
  rm -rf "$TMP"
}
trap cleanup EXIT

taskset -c 0 "$BIN" serve --addr 127.0.0.1:0 --seed-users 10000 --seed-follows 20 \
  --seed-tweets 5 --log-level warn >"$TMP/server.log" 2>&1 &
SERVER=$!
URL=""
for _ in $(seq 1 200); do
  URL=$(sed -n 's/^listening on \(http:[^ ]*\).*/\1/p' "$TMP/server.log")
  [ -n "$URL" ] && break
  sleep 0.1
done
[ -n "$URL" ] || { echo "server did not start"; cat "$TMP/server.log"; exit 1; }

field() { python3 -c 'import json,sys
v = json.load(open(sys.argv[1]))
for k in sys.argv[2].split("."):
    v = v.get(k) if isinstance(v, dict) else None
print("-" if v is None else v)' "$1" "$2"; }

run_load() {  # run_load OUT EXTRA... : one napkin load of the common settings
  local out=$1
  shift
  taskset -c 1 "$BIN" load "$TMP/scenario.yaml" --target "$URL" --rate "$RATE" \
    --duration "${SECS}s" --warmup "$WARMUP" --connections "$CONNS" --threads 1 --seed 7 \
    --out "$out" "$@" >"$out.txt" 2>&1
}

echo "server $URL (core 0); generators on core 1; $RATE req/s in all, ${SECS}s (warm-up $WARMUP), $CONNS connections"
for arrivals in $ARRIVALS; do
  sed "s/^  arrivals: .*/  arrivals: $arrivals/" "$SCENARIO" >"$TMP/scenario.yaml"
  grep -q "^  arrivals: $arrivals" "$TMP/scenario.yaml" \
    || { echo "could not set arrivals: $arrivals in $SCENARIO"; exit 1; }
  run_load "$TMP/whole.json" || true
  whole_offered=$(field "$TMP/whole.json" settings.offered)
  echo
  echo "== $arrivals arrivals; unsharded: offered $whole_offered, achieved $(field "$TMP/whole.json" achieved_rps) req/s, p99 $(field "$TMP/whole.json" all.latency_us.p99) us"
  printf '%-7s %12s %10s %9s %10s %7s %12s %s\n' shards achieved_rps p99_us offered unsharded equal start_skew_us check
  for n in $SHARDS; do
    start=$(date -u -d "+${LEAD} seconds" +%Y-%m-%dT%H:%M:%SZ)
    pids=()
    for i in $(seq 0 $((n - 1))); do
      run_load "$TMP/shard-$n-$i.json" --shard "$i/$n" --start-at "$start" &
      pids+=($!)
    done
    for p in "${pids[@]}"; do wait "$p" || true; done
    merged="$TMP/merged-$n.json"
    "$BIN" merge "$TMP"/shard-"$n"-*.json -o "$merged" >/dev/null || true
    verdict=pass
    "$BIN" check "$merged" >"$TMP/check-$n.txt" 2>&1 || verdict="FAIL (exit $?)"
    offered=$(field "$merged" settings.offered)
    equal=no
    [ "$offered" = "$whole_offered" ] && equal=yes
    printf '%-7s %12.1f %10s %9s %10s %7s %12s %s\n' "$n" "$(field "$merged" achieved_rps)" \
      "$(field "$merged" all.latency_us.p99)" "$offered" "$whole_offered" "$equal" \
      "$(field "$merged" shard.start_skew_us)" "$verdict"
  done
done
