#!/usr/bin/env bash
# Durable tier benchmark (issue 12), figures side by side in one run:
#  1. POST /tweets at 64 concurrent clients, --fsync batch against --fsync always (two servers,
#     runs alternated, PAIRS pairs): group commit should give >= 10x.
#  2. GET /users/{random id}/timeline?limit=20 with a warm cache against memory mode (push,
#     USERS/FOLLOWS/TWEETS seeded, runs alternated): target >= 0.8x.
#  3. Restart with the seeded store (1M tweets by default): time to listening and peak RSS,
#     after a clean stop and after kill -9 (target <= 10 s).
# Server pinned to core 0, wrk to core 1.
#
# Usage: bench/durable.sh        Env: USERS FOLLOWS TWEETS DURATION PAIRS CACHE
set -euo pipefail
cd "$(dirname "$0")/.."

USERS=${USERS:-100000}
FOLLOWS=${FOLLOWS:-50}
TWEETS=${TWEETS:-10}
DURATION=${DURATION:-5s}
PAIRS=${PAIRS:-3}
CACHE=${CACHE:-1GiB}

for tool in wrk taskset curl bc; do
    command -v $tool >/dev/null || { echo "$tool is not installed (apt-get install wrk util-linux curl bc)" >&2; exit 2; }
done
cargo build --release -p napkin >&2
BIN=target/release/napkin
WORK=$(mktemp -d /var/tmp/napkin-durable.XXXXXX)
. bench/serve_lib.sh
trap 'cleanup_servers; rm -rf "$WORK"' EXIT

echo "== 1. POST /tweets, 64 connections: --fsync batch vs always (${DURATION} runs, $PAIRS pairs)"
post_lua "$WORK/post.lua" 1000
start_server always --data-dir "$WORK/always" --fsync always --seed-users 1000 --seed-tweets 1
start_server batch --data-dir "$WORK/batch" --fsync batch --seed-users 1000 --seed-tweets 1
a=(); b=(); r=()
for _ in $(seq 1 "$PAIRS"); do
    x=$(wrk_rps "$ADDR_always" "$WORK/post.lua" "$DURATION" 64)
    y=$(wrk_rps "$ADDR_batch" "$WORK/post.lua" "$DURATION" 64)
    a+=("$x"); b+=("$y"); r+=("$(echo "scale=2; $y / $x" | bc)")
done
writes_per_commit=$(echo "scale=1; $(metric "$ADDR_batch" napkin_store_commit_writes_sum) / $(metric "$ADDR_batch" napkin_store_commit_writes_count)" | bc)
commit_ms=$(echo "scale=2; 1000 * $(metric "$ADDR_always" napkin_store_commit_duration_seconds_sum) / $(metric "$ADDR_always" napkin_store_commit_duration_seconds_count)" | bc)
printf 'always %8.0f tweets/s (mean commit %s ms)\nbatch  %8.0f tweets/s (mean %s writes per commit)\nbatch/always %s (target >= 10)\n' \
    "$(printf '%s\n' "${a[@]}" | median)" "$commit_ms" "$(printf '%s\n' "${b[@]}" | median)" \
    "$writes_per_commit" "$(printf '%s\n' "${r[@]}" | median)"
stop_server always; stop_server batch

echo "== 2. GET timeline, push, ${USERS} users: durable with a warm ${CACHE} cache vs memory mode"
cat >"$WORK/timeline.lua" <<LUA
math.randomseed(12345)
local reqs, n, i = {}, 10000, 0
for k = 1, n do reqs[k] = wrk.format("GET", "/users/" .. math.random(1, $USERS) .. "/timeline?limit=20") end
request = function()
  i = i % n + 1
  return reqs[i]
end
LUA
cat >"$WORK/warm.lua" <<LUA
local id = 0
request = function()
  id = id % $USERS + 1
  return wrk.format("GET", "/users/" .. id .. "/timeline?limit=20")
end
LUA
seed=(--seed-users "$USERS" --seed-follows "$FOLLOWS" --seed-tweets "$TWEETS")
start_server memory "${seed[@]}"
start_server durable --data-dir "$WORK/store" --cache-size "$CACHE" "${seed[@]}"
echo "seeding into the store took $START_S_durable s (memory mode: $START_S_memory s)"
# Warm: every user's timeline once (wrk -c1 walks the ids in order), then the random mix once.
timeout 300 taskset -c 1 wrk -t1 -c1 -d"$((USERS / 2000 + 10))s" -s "$WORK/warm.lua" "http://$ADDR_durable" >/dev/null
wrk_rps "$ADDR_durable" "$WORK/timeline.lua" "$DURATION" 32 >/dev/null
m=(); d=(); r=()
for _ in $(seq 1 "$PAIRS"); do
    x=$(wrk_rps "$ADDR_memory" "$WORK/timeline.lua" "$DURATION" 32)
    y=$(wrk_rps "$ADDR_durable" "$WORK/timeline.lua" "$DURATION" 32)
    m+=("$x"); d+=("$y"); r+=("$(echo "scale=3; $y / $x" | bc)")
done
hits=$(metric "$ADDR_durable" 'napkin_cache_hits_total{kind="timeline"}')
misses=$(metric "$ADDR_durable" 'napkin_cache_misses_total{kind="timeline"}')
thits=$(metric "$ADDR_durable" 'napkin_cache_hits_total{kind="tweet"}')
tmisses=$(metric "$ADDR_durable" 'napkin_cache_misses_total{kind="tweet"}')
printf 'memory  %8.0f req/s (rss %s MiB)\ndurable %8.0f req/s (rss %s MiB; hits since start: timelines %s of %s, tweets %s of %s)\ndurable/memory %s (target >= 0.8)\n' \
    "$(printf '%s\n' "${m[@]}" | median)" "$(rss_mib memory)" "$(printf '%s\n' "${d[@]}" | median)" \
    "$(rss_mib durable)" "$hits" "$((${hits%.*} + ${misses%.*}))" "$thits" "$((${thits%.*} + ${tmisses%.*}))" \
    "$(printf '%s\n' "${r[@]}" | median)"
stop_server memory

echo "== 3. Restart with $((USERS * TWEETS)) tweets, $((USERS * FOLLOWS)) follows stored"
stop_server durable
echo "store on disk: $(du -sh "$WORK/store" | cut -f1)"
start_server clean --data-dir "$WORK/store" --cache-size "$CACHE"
printf 'after a clean stop: listening in %.2f s, rss %s MiB\n' "$START_S_clean" "$(rss_mib clean)"
# Some writes in flight, then kill -9: the restart replays the WAL.
taskset -c 1 wrk -t1 -c16 -d3s -s "$WORK/post.lua" "http://$ADDR_clean" >/dev/null 2>&1 &
sleep 1.5
stop_server clean KILL
wait || true
start_server crashed --data-dir "$WORK/store" --cache-size "$CACHE"
printf 'after kill -9:      listening in %.2f s, rss %s MiB (target <= 10 s)\n' "$START_S_crashed" "$(rss_mib crashed)"
stop_server crashed
