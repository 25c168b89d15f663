#!/usr/bin/env bash
# napkin load over HTTPS and HTTP/2 against outside tools (issue 10), side by side, PAIRS pairs
# each, ratio of medians printed:
#  1. HTTPS keep-alive: `napkin load --concurrency 32` vs `wrk -t1 -c32`, both against Debian's
#     nginx with a self-signed certificate (target >= 0.9x wrk);
#  2. HTTP/2 over TLS, 4 connections x 8 streams: `napkin load --http2 --streams 8
#     --concurrency 32` vs `h2load -c4 -m8 -t1` on the same nginx (target >= 0.9x h2load);
#  3. plain HTTP/1.1: bench/load.sh as it is (closed model vs wrk; target >= 0.95x wrk, no
#     regression), run with SKIP_RSS=1 and a short open-model part.
# Server pinned to core 0, generator to core 1, as in bench/load.sh.
# CALLGRIND=1 adds part 4: user-space instructions per request of each client under valgrind
# (repeatable whatever else the machine does; napkin's is the marginal cost between a 2 s and
# a 6 s run, so start-up is not counted; wrk's and h2load's include their short start-up).
# Knobs: PAIRS (3), PAIR_SECS (5), PORT (18443), SKIP_PLAIN=1 to skip part 3, CALLGRIND=1.
set -euo pipefail
cd "$(dirname "$0")/.."

PAIRS=${PAIRS:-3}
PAIR_SECS=${PAIR_SECS:-5}
PORT=${PORT:-18443}
URL="https://127.0.0.1:${PORT}"

for tool in nginx wrk h2load openssl; do
  command -v "$tool" >/dev/null || { echo "needs $tool (apt-get install nginx wrk nghttp2-client openssl)"; exit 1; }
done
cargo build --release -p napkin 2>&1 | tail -1
BIN=target/release/napkin
TMP=$(mktemp -d)
NGINX=""
cleanup() {
  if [ -n "$NGINX" ]; then kill "$NGINX" 2>/dev/null || true; wait "$NGINX" 2>/dev/null || true; fi
  rm -rf "$TMP"
}
trap cleanup EXIT

# A self-signed certificate for 127.0.0.1 and localhost (ECDSA P-256, as rcgen makes them); not
# a CA certificate (openssl's default for -x509), which rustls rightly refuses as a server's.
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 1 \
  -keyout "$TMP/key.pem" -out "$TMP/cert.pem" -subj /CN=localhost \
  -addext "subjectAltName=IP:127.0.0.1,DNS:localhost" \
  -addext "basicConstraints=critical,CA:FALSE" 2>/dev/null

# One worker on core 0; no request limit per connection (nginx closes after 1000 by default).
mkdir -p "$TMP/nginx"
cat >"$TMP/nginx.conf" <<NGINX
worker_processes 1;
worker_cpu_affinity 1;
daemon off;
pid $TMP/nginx.pid;
error_log $TMP/nginx-error.log warn;
events { worker_connections 1024; }
http {
  access_log off;
  keepalive_requests 1000000000;
  keepalive_timeout 60s;
  client_body_temp_path $TMP/nginx;
  server {
    listen 127.0.0.1:${PORT} ssl http2;
    ssl_certificate $TMP/cert.pem;
    ssl_certificate_key $TMP/key.pem;
    ssl_protocols TLSv1.2 TLSv1.3;
    location /healthz { default_type application/json; return 200 '{"status":"ok"}'; }
  }
}
NGINX
taskset -c 0 nginx -c "$TMP/nginx.conf" -p "$TMP/nginx" 2>"$TMP/nginx-start.log" &
NGINX=$!
for _ in $(seq 1 100); do
  curl -fsk "$URL/healthz" >/dev/null 2>&1 && break
  sleep 0.1
done
curl -fs --cacert "$TMP/cert.pem" "$URL/healthz" >/dev/null || {
  echo "nginx did not start"; cat "$TMP/nginx-start.log" "$TMP/nginx-error.log" 2>/dev/null; exit 1; }

cat >"$TMP/healthz.yaml" <<YAML
name: healthz
actions:
  - name: healthz
    per_second: 1
    request: {method: GET, path: /healthz, expect: [200]}
YAML

json_field() { python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))[sys.argv[2]])' "$1" "$2"; }
median() { python3 -c 'import sys,statistics; print(statistics.median(float(x) for x in sys.argv[1:]))' "$@"; }
ratio() {
  python3 -c "import sys; n,w=map(float,sys.argv[1:3]); print(f'  median napkin {n:.0f} req/s, {sys.argv[3]} {w:.0f} req/s, ratio {n/w:.3f}x (target >= {sys.argv[4]}x)')" "$@"
}

echo "== 1. HTTPS keep-alive (nginx, self-signed): napkin --concurrency 32 vs wrk -t1 -c32, ${PAIR_SECS}s each, ${PAIRS} pairs"
napkin_rps=(); wrk_rps=()
for i in $(seq 1 "$PAIRS"); do
  taskset -c 1 "$BIN" load "$TMP/healthz.yaml" --target "$URL" --cacert "$TMP/cert.pem" \
    --concurrency 32 --threads 1 --duration "${PAIR_SECS}s" --out "$TMP/https-$i.json" >"$TMP/https-$i.txt"
  n=$(json_field "$TMP/https-$i.json" achieved_rps)
  w=$(taskset -c 1 wrk -t1 -c32 -d"${PAIR_SECS}s" "$URL/healthz" | awk '/Requests\/sec/ {print $2}')
  printf '  pair %d: napkin %.0f req/s   wrk %.0f req/s\n' "$i" "$n" "$w"
  napkin_rps+=("$n"); wrk_rps+=("$w")
done
ratio "$(median "${napkin_rps[@]}")" "$(median "${wrk_rps[@]}")" wrk 0.9
grep -E "^connections:" "$TMP/https-1.txt" | sed 's/^/  napkin /'

echo "== 2. HTTP/2 over TLS, 4 connections x 8 streams: napkin --http2 --streams 8 --concurrency 32 vs h2load -c4 -m8 -t1, ${PAIR_SECS}s each, ${PAIRS} pairs"
napkin_rps=(); h2_rps=()
for i in $(seq 1 "$PAIRS"); do
  taskset -c 1 "$BIN" load "$TMP/healthz.yaml" --target "$URL" --cacert "$TMP/cert.pem" --http2 --streams 8 \
    --concurrency 32 --threads 1 --duration "${PAIR_SECS}s" --out "$TMP/h2-$i.json" >"$TMP/h2-$i.txt"
  n=$(json_field "$TMP/h2-$i.json" achieved_rps)
  h=$(taskset -c 1 h2load -c4 -m8 -t1 -D "$PAIR_SECS" "$URL/healthz" 2>&1 | awk '/^finished in/ {print $4}')
  printf '  pair %d: napkin %.0f req/s   h2load %.0f req/s\n' "$i" "$n" "$h"
  napkin_rps+=("$n"); h2_rps+=("$h")
done
ratio "$(median "${napkin_rps[@]}")" "$(median "${h2_rps[@]}")" h2load 0.9
grep -E "^connections:" "$TMP/h2-1.txt" | sed 's/^/  napkin /'

if [ "${CALLGRIND:-0}" = "1" ]; then
  echo "== 4. instructions per request (callgrind, client on core 1)"
  cg() { # OUT CMD...: runs CMD under callgrind, prints its instruction count
    local out=$1; shift
    taskset -c 1 valgrind --tool=callgrind --callgrind-out-file=/dev/null "$@" >"$out" 2>&1 || true
    sed -n 's/.*Collected : \([0-9]*\).*/\1/p' "$out"
  }
  napkin_marginal() { # extra napkin flags: marginal instructions per request, 2 s vs 6 s
    local i2 i6
    i2=$(cg "$TMP/cg2.txt" "$BIN" load "$TMP/healthz.yaml" --target "$URL" --cacert "$TMP/cert.pem" \
      --threads 1 --duration 2s --out "$TMP/cg2.json" "$@")
    i6=$(cg "$TMP/cg6.txt" "$BIN" load "$TMP/healthz.yaml" --target "$URL" --cacert "$TMP/cert.pem" \
      --threads 1 --duration 6s --out "$TMP/cg6.json" "$@")
    python3 -c "import json,sys; a,b=(json.load(open(f))['requests'] for f in sys.argv[3:]); print(round((int(sys.argv[2])-int(sys.argv[1]))/(b-a)))" \
      "$i2" "$i6" "$TMP/cg2.json" "$TMP/cg6.json"
  }
  wi=$(cg "$TMP/cgw.txt" wrk -t1 -c32 -d3s "$URL/healthz")
  wn=$(awk '/requests in/ {print $1}' "$TMP/cgw.txt")
  ni=$(napkin_marginal --concurrency 32)
  python3 -c "import sys; w=int(sys.argv[1])/int(sys.argv[2]); n=int(sys.argv[3]); print(f'  HTTPS keep-alive: napkin {n} instructions/request, wrk {w:.0f} ({n/w:.2f}x)')" "$wi" "$wn" "$ni"
  hi=$(cg "$TMP/cgh.txt" h2load -c4 -m8 -t1 -n 20000 "$URL/healthz")
  ni=$(napkin_marginal --http2 --streams 8 --concurrency 32)
  python3 -c "import sys; h=int(sys.argv[1])/20000; n=int(sys.argv[2]); print(f'  HTTP/2 4x8: napkin {n} instructions/request, h2load {h:.0f} ({n/h:.2f}x)')" "$hi" "$ni"
fi

if [ "${SKIP_PLAIN:-0}" != "1" ]; then
  echo "== 3. plain HTTP/1.1: bench/load.sh (target >= 0.95x wrk: no regression)"
  PAIRS="$PAIRS" PAIR_SECS="$PAIR_SECS" SKIP_RSS=1 OPEN_SECS=${OPEN_SECS:-5} bash bench/load.sh | sed 's/^/  /'
fi
