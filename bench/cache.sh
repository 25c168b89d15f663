#!/usr/bin/env bash
# The cache against the estimate (issue 12, point 4): the twitter scenario's traffic (Zipf
# users over 10K keys) against `napkin serve --data-dir --cache-size` at three cache sizes,
# measured hit ratio of the home timeline cache (keyed by user, the scenario's Zipf key)
# next to the hit ratio `napkin estimate` predicts for a cache holding the hottest k users.
#
# The three sizes give the timeline cache room for 1%, 10% and 20% of the users' timelines
# (half of --cache-size holds timelines, each charged 3,264 B); the prediction for each comes
# from `napkin estimate --set cache.recent=...`, which sizes the scenario's cache to the same
# share of its data. Hit ratios are counted after a warm-up run, from /metrics deltas.
#
# Usage: bench/cache.sh     Env: RATE (req/s, default 2000) DURATION (default 20s) WARMUP (10s)
set -euo pipefail
cd "$(dirname "$0")/.."

RATE=${RATE:-2000}
DURATION=${DURATION:-20s}
WARMUP=${WARMUP:-10s}
SCENARIO=scenarios/twitter.yaml
USERS=10000
TIMELINE_BYTES=3264

for tool in taskset curl bc; do
    command -v $tool >/dev/null || { echo "$tool is not installed" >&2; exit 2; }
done
cargo build --release -p napkin >&2
BIN=target/release/napkin
WORK=$(mktemp -d /var/tmp/napkin-cache.XXXXXX)
. bench/serve_lib.sh
trap 'cleanup_servers; rm -rf "$WORK"' EXIT

# hits_misses ADDR KIND: "hits misses" of a cache kind so far.
hits_misses() {
    echo "$(metric "$1" "napkin_cache_hits_total{kind=\"$2\"}") $(metric "$1" "napkin_cache_misses_total{kind=\"$2\"}")"
}
ratio() { echo "scale=4; ($3 - $1) / (($3 - $1) + ($4 - $2))" | bc; }

# The retention of the scenario, in days, to express a share of the data as cache.recent.
RETENTION_D=$((5 * 365))
printf '%-9s %-14s %-18s %-16s %-14s %s\n' share timelines cache-size predicted measured tweet-cache
for share in 0.01 0.10 0.20; do
    k=$(printf '%.0f' "$(echo "$share * $USERS" | bc)")
    size=$((2 * k * TIMELINE_BYTES))
    recent=$(echo "scale=4; $share * $RETENTION_D" | bc)d
    predicted=$("$BIN" estimate "$SCENARIO" --set "cache.recent=$recent" --format markdown |
        awk -F'|' '/^\| twitter +\| user/ {gsub(/ /, "", $10); print $10}')
    start_server s --data-dir "$WORK/store-$share" --cache-size "$size" --seed-users "$USERS"
    "$BIN" load "$SCENARIO" --target "http://$ADDR_s" --rate "$RATE" --duration "$WARMUP" >/dev/null 2>&1 || true
    read -r h0 m0 < <(hits_misses "$ADDR_s" timeline)
    read -r th0 tm0 < <(hits_misses "$ADDR_s" tweet)
    "$BIN" load "$SCENARIO" --target "http://$ADDR_s" --rate "$RATE" --duration "$DURATION" >/dev/null 2>&1 || true
    read -r h1 m1 < <(hits_misses "$ADDR_s" timeline)
    read -r th1 tm1 < <(hits_misses "$ADDR_s" tweet)
    printf '%-9s %-14s %-18s %-16s %-14s %s\n' "$share" "$k" "$size B" "$predicted" \
        "$(echo "scale=1; 100 * $(ratio "$h0" "$m0" "$h1" "$m1") / 1" | bc)%" \
        "$(echo "scale=1; 100 * $(ratio "$th0" "$tm0" "$th1" "$tm1") / 1" | bc)%"
    stop_server s
done
cat <<'NOTE'
predicted: `napkin estimate`'s hit ratio of a cache holding the hottest k of 10K Zipf(1.0) users.
measured: timeline cache hits / lookups during the measured run (after the warm-up run).
It sits below the prediction by what a real cache does that the model does not: the policy only
approximates "the hottest k" from what it has seen, follows invalidate the follower's cached
timeline, and every timeline missing after the warm-up costs one miss. tweet-cache: the tweet
kind, keyed by tweet (not a Zipf key of the scenario), shown for reference.
NOTE
