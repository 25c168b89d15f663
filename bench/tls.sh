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
# (repeatable whatever else the machine does): the marginal cost between a short and a long
# run of each tool (napkin 2 s / 6 s, wrk 3 s / 9 s, h2load 5,000 / 20,000 requests), so
# start-up and TLS handshakes are not counted.
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
  echo "== 4. instructions per request (callgrind, client on core 1; marginal: short vs long run)"
  cg() { # OUT CMD...: runs CMD under callgrind, prints its instruction count
    local out=$1; shift
    taskset -c 1 valgrind --tool=callgrind --callgrind-out-file=/dev/null "$@" >"$out" 2>&1 || true
    sed -n 's/.*Collected : \([0-9]*\).*/\1/p' "$out"
  }
  marginal() { # I1 N1 I2 N2: (I2 - I1) / (N2 - N1)
    python3 -c "import sys; i1,n1,i2,n2=map(float,sys.argv[1:]); print(round((i2-i1)/(n2-n1)))" "$@"
  }
  napkin_run() { # SECS FLAGS...: "instructions requests"
    local secs=$1; shift
    local i
    i=$(cg "$TMP/cgn.txt" "$BIN" load "$TMP/healthz.yaml" --target "$URL" --cacert "$TMP/cert.pem" \
      --threads 1 --duration "${secs}s" --out "$TMP/cgn.json" "$@")
    echo "$i $(json_field "$TMP/cgn.json" requests)"
  }
  wrk_run() { # SECS: "instructions requests"
    local i
    i=$(cg "$TMP/cgw.txt" wrk -t1 -c32 -d"$1s" "$URL/healthz")
    echo "$i $(awk '/requests in/ {print $1}' "$TMP/cgw.txt")"
  }
  h2load_run() { # N: "instructions requests"
    local i
    i=$(cg "$TMP/cgh.txt" h2load -c4 -m8 -t1 -n "$1" "$URL/healthz")
    echo "$i $1"
  }
  n=$(marginal $(napkin_run 2 --concurrency 32) $(napkin_run 6 --concurrency 32))
  w=$(marginal $(wrk_run 3) $(wrk_run 9))
  python3 -c "import sys; n,w=map(int,sys.argv[1:]); print(f'  HTTPS keep-alive: napkin {n} instructions/request, wrk {w} ({n/w:.2f}x)')" "$n" "$w"
  n=$(marginal $(napkin_run 2 --http2 --streams 8 --concurrency 32) $(napkin_run 6 --http2 --streams 8 --concurrency 32))
  h=$(marginal $(h2load_run 5000) $(h2load_run 20000))
  python3 -c "import sys; n,h=map(int,sys.argv[1:]); print(f'  HTTP/2 4x8: napkin {n} instructions/request, h2load {h} ({n/h:.2f}x)')" "$n" "$h"
fi

if [ "${SKIP_PLAIN:-0}" != "1" ]; then
  echo "== 3. plain HTTP/1.1: bench/load.sh (target >= 0.95x wrk: no regression)"
  PAIRS="$PAIRS" PAIR_SECS="$PAIR_SECS" SKIP_RSS=1 OPEN_SECS=${OPEN_SECS:-5} bash bench/load.sh | sed 's/^/  /'
fi
