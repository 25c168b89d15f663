#!/usr/bin/env bash
# Reference server benchmark (SPEC section 7, issue 3).
#
# Seeds 100K users / 50 follows / 10 tweets (5M follows, 1M tweets) per timeline strategy and
# reports seeding time, start-up time and peak RSS; then, server pinned to core 0 and wrk to
# core 1, alternates wrk runs on GET /healthz and GET /users/{random id}/timeline?limit=20
# (PAIRS pairs, DURATION each) and prints the median req/s and the median timeline/healthz ratio.
# Targets: seed <= 10 s and <= 1 GiB; push timeline >= 0.5x healthz.
#
# Usage: bench/server.sh [strategy...]   (default: push pull hybrid)
# Env: USERS FOLLOWS TWEETS DURATION PAIRS CONNECTIONS
#      THP=1 (default) runs the server with GLIBC_TUNABLES=glibc.malloc.hugetlb=1: transparent
#      huge pages for the heap, fewer TLB misses on the random reads of a 300 MB store (a
#      deployment setting, not code; THP=0 measures without it).
set -euo pipefail
cd "$(dirname "$0")/.."

USERS=${USERS:-100000}
FOLLOWS=${FOLLOWS:-50}
TWEETS=${TWEETS:-10}
DURATION=${DURATION:-5s}
PAIRS=${PAIRS:-3}
CONNECTIONS=${CONNECTIONS:-32}
THP=${THP:-1}
SERVER_ENV=()
[ "$THP" = 1 ] && SERVER_ENV=(env GLIBC_TUNABLES=glibc.malloc.hugetlb=1)
STRATEGIES=("$@")
[ ${#STRATEGIES[@]} -eq 0 ] && STRATEGIES=(push pull hybrid)

command -v wrk >/dev/null || { echo "wrk is not installed: apt-get install wrk" >&2; exit 2; }
command -v taskset >/dev/null || { echo "taskset is not installed: apt-get install util-linux" >&2; exit 2; }

cargo build --release -p napkin >&2
BIN=target/release/napkin
WORK=$(mktemp -d)
SERVER_PID=
cleanup() {
    [ -n "$SERVER_PID" ] && kill "$SERVER_PID" 2>/dev/null || true
    rm -rf "$WORK"
}
trap cleanup EXIT

# Both runs go through the same kind of Lua script (a table of prepared requests, cycled), so
# the client does the same work per request and the ratio measures the server.
lua() { # lua FILE PATH_EXPRESSION
    cat >"$1" <<LUA
math.randomseed(12345)
local reqs, n, i = {}, 10000, 0
for k = 1, n do reqs[k] = wrk.format("GET", $2) end
request = function()
  i = i % n + 1
  return reqs[i]
end
LUA
}
lua "$WORK/healthz.lua" '"/healthz"'
lua "$WORK/timeline.lua" '"/users/" .. math.random(1, '"$USERS"') .. "/timeline?limit=20"'

# cpu_ticks: user+system clock ticks the server has used so far.
cpu_ticks() { awk '{print $14 + $15}' "/proc/$SERVER_PID/stat"; }
TICK_US=$((1000000 / $(getconf CLK_TCK)))

# wrk_run URL SCRIPT: prints "req/s server-cpu-us-per-request"; fails on socket errors or
# non-2xx answers. CPU per request is robust to other load on the machine; req/s is not.
wrk_run() {
    local out before after requests
    before=$(cpu_ticks)
    out=$(taskset -c 1 wrk -t1 -c"$CONNECTIONS" -d"$DURATION" -s "$2" "$1")
    after=$(cpu_ticks)
    if grep -qE "Non-2xx|Socket errors" <<<"$out"; then
        echo "wrk saw errors on $1:" >&2
        echo "$out" >&2
        return 1
    fi
    requests=$(awk '/requests in/ {print $1}' <<<"$out")
    echo "$(awk '/Requests\/sec/ {print $2}' <<<"$out") $(echo "scale=2; ($after - $before) * $TICK_US / $requests" | bc)"
}

median() { sort -g | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }

printf '%-7s %7s %8s %8s %8s %11s %12s %6s %9s %10s %9s\n' strategy seed_s start_s rss_mib rss_end \
    healthz_rps timeline_rps ratio healthz_us timeline_us cpu_ratio
for strategy in "${STRATEGIES[@]}"; do
    log="$WORK/$strategy.log"
    started=$(date +%s.%N)
    taskset -c 0 "${SERVER_ENV[@]}" "$BIN" serve --addr 127.0.0.1:0 --timeline "$strategy" --seed-users "$USERS" \
        --seed-follows "$FOLLOWS" --seed-tweets "$TWEETS" --log-level warn \
        >"$WORK/$strategy.out" 2>"$log" &
    SERVER_PID=$!
    addr=
    for _ in $(seq 1 600); do
        addr=$(sed -n 's/^listening on http:\/\///p' "$WORK/$strategy.out")
        [ -n "$addr" ] && break
        kill -0 "$SERVER_PID" 2>/dev/null || { cat "$log" >&2; exit 3; }
        sleep 0.1
    done
    [ -n "$addr" ] || { echo "server did not start within 60 s" >&2; exit 3; }
    start_s=$(echo "$(date +%s.%N) - $started" | bc)
    # Seeding time as the server measured it.
    seed_s=$(curl -s "http://$addr/metrics" | awk '/^napkin_seed_duration_seconds / {print $2}')
    rss_kib=$(awk '/VmHWM/ {print $2}' "/proc/$SERVER_PID/status")
    ratios=() ; hz=() ; tl=() ; hz_us=() ; tl_us=() ; cpu_ratios=()
    for _ in $(seq 1 "$PAIRS"); do
        read -r h hu < <(wrk_run "http://$addr" "$WORK/healthz.lua")
        read -r t tu < <(wrk_run "http://$addr" "$WORK/timeline.lua")
        [ -n "${h:-}" ] && [ -n "${t:-}" ] || { echo "a wrk run failed" >&2; exit 3; }
        hz+=("$h"); tl+=("$t"); hz_us+=("$hu"); tl_us+=("$tu")
        ratios+=("$(echo "scale=3; $t / $h" | bc)")
        cpu_ratios+=("$(echo "scale=3; $hu / $tu" | bc)")
    done
    rss_end_kib=$(awk '/VmHWM/ {print $2}' "/proc/$SERVER_PID/status")
    kill -TERM "$SERVER_PID"
    wait "$SERVER_PID" || { echo "server exited non-zero after SIGTERM" >&2; exit 3; }
    SERVER_PID=
    printf '%-7s %7.2f %8.2f %8d %8d %11.0f %12.0f %6.3f %9.2f %10.2f %9.3f\n' "$strategy" "$seed_s" \
        "$start_s" $((rss_kib / 1024)) $((rss_end_kib / 1024)) "$(printf '%s\n' "${hz[@]}" | median)" \
        "$(printf '%s\n' "${tl[@]}" | median)" "$(printf '%s\n' "${ratios[@]}" | median)" \
        "$(printf '%s\n' "${hz_us[@]}" | median)" "$(printf '%s\n' "${tl_us[@]}" | median)" \
        "$(printf '%s\n' "${cpu_ratios[@]}" | median)"
done
echo "rss_mib = peak RSS once seeded; rss_end = peak RSS after the load (rendered-tweet cache)."
echo "ratio = timeline/healthz req/s; *_us = server CPU microseconds per request;"
echo "cpu_ratio = healthz_us/timeline_us (the req/s ratio a saturated server core would give)."
echo "targets: seed+start <= 10 s, rss <= 1024 MiB, push ratio >= 0.5"
echo "(THP=$THP; medians of $PAIRS pairs, ${DURATION} each, wrk -t1 -c$CONNECTIONS, server on core 0, wrk on core 1)"
