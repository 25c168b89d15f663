#!/usr/bin/env bash
# napkin capacity against the reference server (issue 9 benchmark): `napkin serve` (push,
# 100K users seeded) pinned to core 0, `napkin capacity scenarios/twitter.yaml` (its SLO: all
# p99 <= 100ms, error_rate <= 1%) pinned to core 1 with one generator thread. Prints max_rps,
# the number of steps and the total time, then checks the result with plain `napkin load`
# runs at 0.9x and 1.1x the found rate, which should pass and fail the SLO.
# Knobs: STEP (10s), WARMUP (2s), FROM (100), PRECISION (2%), CHECK_SECS (12), USERS (100000),
# CONNECTIONS (64). The scenario's 16 connections are too few lanes for ~7K/s on this server:
# each lane has its own schedule, so a celebrity's post (a fan-out of ~5 ms to 99K homes)
# holds its lane's next requests, and that head-of-line wait, not the server's capacity, sets
# the p99 (20-90 ms from 4.5K/s to 7.5K/s, measured); with 64 the knee is the server's.
set -euo pipefail
cd "$(dirname "$0")/.."

STEP=${STEP:-10s}
WARMUP=${WARMUP:-2s}
FROM=${FROM:-100}
PRECISION=${PRECISION:-2%}
CHECK_SECS=${CHECK_SECS:-12}
USERS=${USERS:-100000}
CONNECTIONS=${CONNECTIONS:-64}

cargo build --release -p napkin 2>&1 | tail -1
BIN=$PWD/target/release/napkin
WORK=$(mktemp -d)
trap 'cleanup_servers; rm -rf "$WORK"' EXIT
source bench/serve_lib.sh

start_server push --seed-users "$USERS" --seed-follows 50 --seed-tweets 10 --timeline push
URL="http://$ADDR_push"
echo "server: push, $USERS users seeded, at $URL (started in ${START_S_push}s)"

echo "== napkin capacity scenarios/twitter.yaml (step $STEP + warm-up $WARMUP, from $FROM/s, precision $PRECISION, $CONNECTIONS connections)"
t0=$(date +%s.%N)
code=0
taskset -c 1 "$BIN" capacity scenarios/twitter.yaml --target "$URL" --threads 1 --connections "$CONNECTIONS" \
    --step "$STEP" --warmup "$WARMUP" --from "$FROM" --precision "$PRECISION" \
    --out "$WORK/capacity.json" >"$WORK/capacity.txt" 2>"$WORK/capacity.log" || code=$?
t1=$(date +%s.%N)
grep "^step" "$WORK/capacity.log" || true
tail -4 "$WORK/capacity.txt"
[ "$code" = 0 ] || { echo "napkin capacity exited $code"; cat "$WORK/capacity.log"; exit 1; }
read -r MAX STEPS BOTTLENECK < <(python3 -c '
import json,sys; c=json.load(open(sys.argv[1]))
print(c["max_rps"], len(c["steps"]), c["bottleneck"])' "$WORK/capacity.json")
printf 'max_rps %.1f/s, %d steps, %.0f s in all, bottleneck %s\n' "$MAX" "$STEPS" "$(echo "$t1 - $t0" | bc)" "$BOTTLENECK"

echo "== check with plain napkin load at 0.9x and 1.1x max_rps (${CHECK_SECS}s, warm-up 2s)"
for f in 0.9 1.1; do
    rate=$(python3 -c "print(round($MAX * $f, 1))")
    code=0
    taskset -c 1 "$BIN" load scenarios/twitter.yaml --target "$URL" --threads 1 --connections "$CONNECTIONS" \
        --rate "$rate" --duration "${CHECK_SECS}s" --warmup 2s --out "$WORK/check-$f.json" \
        >"$WORK/check-$f.txt" 2>&1 || code=$?
    python3 - "$WORK/check-$f.json" "$f" "$rate" "$code" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))
f, rate, code = sys.argv[2], sys.argv[3], sys.argv[4]
verdict = "pass" if r["slo"]["pass"] else "FAIL"
want = "pass" if f == "0.9" else "FAIL"
print(f"  {f}x = {rate}/s: achieved {r['achieved_rps']:.1f}/s, p99 {r['all']['latency_us']['p99']/1000:.2f} ms, "
      f"dropped {r.get('dropped', 0)}, saturated {r.get('saturated', False)} -> SLO {verdict} "
      f"(exit {code}; expected {want}{'' if verdict == want else ': MISMATCH'})")
PY
done
