#!/usr/bin/env bash
# Whole-process time of `napkin estimate scenarios/twitter.yaml` (SPEC section 7: <= 20 ms).
# Builds the release binary, then reports the median wall time of repeated runs, measured with
# hyperfine when installed, else with a plain loop.
set -euo pipefail
cd "$(dirname "$0")/.."

RUNS="${RUNS:-30}"
TARGET_MS=20
cargo build --release --quiet --bin napkin
BIN=target/release/napkin
CMD="$BIN estimate scenarios/twitter.yaml"
$CMD >/dev/null # fails loudly if the estimate itself fails

if command -v hyperfine >/dev/null; then
    json="$(mktemp)"
    trap 'rm -f "$json"' EXIT
    hyperfine -N --warmup 3 --runs "$RUNS" --export-json "$json" "$CMD" >/dev/null
    median_ms="$(python3 -c 'import json,sys; print("%.2f" % (json.load(open(sys.argv[1]))["results"][0]["median"] * 1000))' "$json")"
    tool=hyperfine
else
    times=()
    for _ in 1 2 3; do $CMD >/dev/null; done
    for _ in $(seq "$RUNS"); do
        start=$(date +%s%N)
        $CMD >/dev/null
        end=$(date +%s%N)
        times+=($(( (end - start) / 1000 )))
    done
    median_us="$(printf '%s\n' "${times[@]}" | sort -n | awk '{a[NR]=$1} END {print (NR%2 ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2)}')"
    median_ms="$(awk -v u="$median_us" 'BEGIN {printf "%.2f", u/1000}')"
    tool="shell loop"
fi

ratio="$(awk -v m="$median_ms" -v t="$TARGET_MS" 'BEGIN {printf "%.2f", m/t}')"
verdict="$(awk -v m="$median_ms" -v t="$TARGET_MS" 'BEGIN {print (m <= t) ? "within" : "OVER"}')"
echo "napkin estimate scenarios/twitter.yaml: median ${median_ms} ms over ${RUNS} runs (${tool}); target ${TARGET_MS} ms; ratio ${ratio} (${verdict} target)"
