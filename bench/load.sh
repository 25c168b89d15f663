#!/usr/bin/env bash
# napkin load benchmarks (SPEC section 7), on this machine, side by side:
#  1. closed model max req/s: `napkin load --concurrency 32` vs `wrk -t1 -c32`, alternating,
#     PAIRS pairs, ratio of medians (target >= 0.9x wrk);
#  2. open model at 20K req/s for 20 s: achieved rate (target within 1%) and send-lag p99
#     (target < 1 ms);
#  3. peak RSS of the generator at 20K req/s for 10 s and 60 s (target <= 50 MB, within 10%).
# Server (`napkin serve`, GET /healthz) pinned to core 0, generator to core 1.
# Knobs: PAIRS (3), PAIR_SECS (5), OPEN_RATE (20000), OPEN_SECS (20), OPEN_CONNS (64), PORT (18080),
# SKIP_RSS=1 to skip part 3.
set -euo pipefail
cd "$(dirname "$0")/.."

PAIRS=${PAIRS:-3}
PAIR_SECS=${PAIR_SECS:-5}
OPEN_RATE=${OPEN_RATE:-20000}
OPEN_SECS=${OPEN_SECS:-20}
OPEN_CONNS=${OPEN_CONNS:-64}
PORT=${PORT:-18080}
URL="http://127.0.0.1:${PORT}"

cargo build --release -p napkin 2>&1 | tail -1
BIN=target/release/napkin
TMP=$(mktemp -d)
SERVER=""
cleanup() {
  if [ -n "$SERVER" ]; then kill "$SERVER" 2>/dev/null || true; wait "$SERVER" 2>/dev/null || true; fi
  rm -rf "$TMP"
}
trap cleanup EXIT

taskset -c 0 "$BIN" serve --addr "127.0.0.1:${PORT}" --seed-users 100 --log-level warn >"$TMP/server.log" 2>&1 &
SERVER=$!
for _ in $(seq 1 100); do
  curl -fs "$URL/healthz" >/dev/null 2>&1 && break
  sleep 0.1
done
curl -fs "$URL/healthz" >/dev/null || { echo "server did not start"; cat "$TMP/server.log"; exit 1; }

cat >"$TMP/healthz.yaml" <<YAML
name: healthz
actions:
  - name: healthz
    per_second: 1
    request: {method: GET, path: /healthz, expect: [200]}
YAML

json_field() { python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))[sys.argv[2]])' "$1" "$2"; }
median() { python3 -c 'import sys,statistics; print(statistics.median(float(x) for x in sys.argv[1:]))' "$@"; }

echo "== 1. closed model, 32 connections, ${PAIR_SECS}s each, ${PAIRS} pairs (generator on core 1)"
napkin_rps=(); wrk_rps=()
for i in $(seq 1 "$PAIRS"); do
  taskset -c 1 "$BIN" load "$TMP/healthz.yaml" --target "$URL" --concurrency 32 --threads 1 \
    --duration "${PAIR_SECS}s" --out "$TMP/closed-$i.json" >"$TMP/closed-$i.txt"
  n=$(json_field "$TMP/closed-$i.json" achieved_rps)
  w=$(taskset -c 1 wrk -t1 -c32 -d"${PAIR_SECS}s" "$URL/healthz" | awk '/Requests\/sec/ {print $2}')
  printf '  pair %d: napkin %.0f req/s   wrk %.0f req/s\n' "$i" "$n" "$w"
  napkin_rps+=("$n"); wrk_rps+=("$w")
done
mn=$(median "${napkin_rps[@]}"); mw=$(median "${wrk_rps[@]}")
python3 -c "import sys; n,w=map(float,sys.argv[1:]); print(f'  median napkin {n:.0f} req/s, wrk {w:.0f} req/s, ratio {n/w:.3f}x (target >= 0.9x)')" "$mn" "$mw"

# p99 of "send lag" or "timer lag" from the summary lines "KIND lag p99 X, ...", in microseconds.
lag_us() {
  python3 - "$1" "$2" <<'PY'
import re, sys
text = open(sys.argv[1]).read()
m = re.search(sys.argv[2] + r" lag p99 ([0-9.]+)(us|µs|ms|s)\b", text)
if not m:
    print("nan"); sys.exit()
v, u = float(m.group(1)), m.group(2)
print(v * {"us": 1, "µs": 1, "ms": 1e3, "s": 1e6}[u])
PY
}

echo "== 2. open model, ${OPEN_RATE} req/s for ${OPEN_SECS}s, ${OPEN_CONNS} connections"
taskset -c 1 "$BIN" load "$TMP/healthz.yaml" --target "$URL" --rate "$OPEN_RATE" --connections "$OPEN_CONNS" \
  --threads 1 --duration "${OPEN_SECS}s" --out "$TMP/open.json" >"$TMP/open.txt"
achieved=$(json_field "$TMP/open.json" achieved_rps)
lag=$(lag_us "$TMP/open.txt" send)
tlag=$(lag_us "$TMP/open.txt" timer)
python3 -c "import sys; a,r,l,t=map(float,sys.argv[1:]); print(f'  achieved {a:.1f} req/s of {r:.0f} ({(a/r-1)*100:+.2f}%, target within 1%); send lag p99 {l:.0f} us, timer lag p99 {t:.0f} us (target < 1000 us)')" "$achieved" "$OPEN_RATE" "$lag" "$tlag"
grep -E "lag p99|errors:" "$TMP/open.txt" | sed 's/^/  /'

if [ "${SKIP_RSS:-0}" != "1" ]; then
  echo "== 3. peak RSS at ${OPEN_RATE} req/s"
  rss=()
  for secs in 10 60; do
    /usr/bin/time -v taskset -c 1 "$BIN" load "$TMP/healthz.yaml" --target "$URL" --rate "$OPEN_RATE" \
      --connections "$OPEN_CONNS" --threads 1 --duration "${secs}s" --out "$TMP/rss-$secs.json" \
      >"$TMP/rss-$secs.txt" 2>"$TMP/rss-$secs.time"
    kb=$(awk -F': ' '/Maximum resident set size/ {print $2}' "$TMP/rss-$secs.time")
    printf '  %3ds run: peak RSS %.1f MB\n' "$secs" "$(echo "$kb / 1024" | bc -l)"
    rss+=("$kb")
  done
  python3 -c "import sys; a,b=map(float,sys.argv[1:]); print(f'  60s / 10s = {b/a:.3f} (target within 10%); max {max(a,b)/1024:.1f} MB (target <= 50 MB)')" "${rss[@]}"
fi
