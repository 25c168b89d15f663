#!/usr/bin/env bash
# How often the default regression gate (`napkin compare`, no flags) cries wolf, and how often
# it catches a real slowdown, on this machine:
#  1. false alarms: RUNS (>= 10) identical runs of `napkin load scenarios/twitter.yaml` (the
#     README's main job: embedded reference server, 500 req/s, 8 s measured), compared on
#     every ordered pair (one run per side), and on SPLITS random pairs of disjoint sides of
#     each size in SIDES (several runs per side);
#  2. detection: the same scenario against one reference server (`napkin serve`) behind a
#     proxy that holds each request for a fixed delay (examples/delay_proxy.rs): DELAY_MS
#     for the base, DELAY_MS x 1.2 and x 1.5 for the slowed targets (20% and 50% slower
#     service), RUNS runs of each, interleaved (base, +20%, +50%, rotating) so that the
#     server's growing state and the machine's drift hit all alike; every base x slowed pair
#     (one run per side) and SPLITS random sides of each size in SIDES;
#  3. the same interleaved runs as `napkin ab` compares them (`compare --paired`, round i of
#     the base against round i of the other): A/A (a second proxy with the base delay), +20%,
#     +50%; and the false alarms of the delayed base against itself, unpaired.
# Knobs: RUNS (14; also the rounds of part 3), SIDES ("5 7": runs per side of the several-runs
# comparisons; disjoint splits need 2 x SIDE <= RUNS), SPLITS (50), DELAY_MS (10), PORT (18090).
set -euo pipefail
cd "$(dirname "$0")/.."

RUNS=${RUNS:-14}
SIDES=${SIDES:-"5 7"}
SPLITS=${SPLITS:-50}
DELAY_MS=${DELAY_MS:-10}
PORT=${PORT:-18090}

cargo build --release -p napkin --bin napkin --example delay_proxy 2>&1 | tail -1
BIN=target/release/napkin
PROXY=target/release/examples/delay_proxy
TMP=$(mktemp -d)
PIDS=()
cleanup() {
  for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; wait "$p" 2>/dev/null || true; done
  rm -rf "$TMP"
}
trap cleanup EXIT

# The comparisons: napkin compare --format json on the given pairs; prints rates and what
# failed.
cat >"$TMP/gate.py" <<'PY'
import itertools, json, random, statistics, subprocess, sys
from collections import Counter

napkin, mode, side, splits = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
side_sizes = [int(x) for x in side.split()] if side[:1].isdigit() else []
rest = sys.argv[5:]
rng = random.Random(42)

def compare(base, new):
    args = [napkin, "compare", "--format", "json"]
    args += [base[0], new[0]] if len(base) == 1 == len(new) else ["--base", *base, "--new", *new]
    p = subprocess.run(args, capture_output=True, text=True)
    if p.returncode not in (0, 1):
        sys.exit(f"napkin compare failed ({p.returncode}): {p.stderr}")
    c = json.loads(p.stdout)
    bad = [f"{s['scope']} {m['metric']}" for s in c["scopes"] for m in s["metrics"]
           if m["verdict"] == "regressed"]
    bad += [f"{s['scope']} missing" for s in c["scopes"] if s["verdict"] == "missing"]
    return p.returncode == 1, bad, c

def p50(path):
    return json.load(open(path))["all"]["latency_us"]["p50"]

def report(label, results):
    flagged = sum(1 for r in results if r[0])
    n = len(results)
    print(f"  {label}: {flagged} of {n} flagged ({100.0 * flagged / n:.1f}%)")
    top = Counter(m for r in results for m in r[1]).most_common(4)
    if top:
        print("    failing metrics: " + ", ".join(f"{m} x{k}" for m, k in top))

def sides(a, b, k):
    """`splits` random pairs of k runs from a and k from b (disjoint when a is b)."""
    out = []
    for _ in range(splits):
        if a is b:
            pick = rng.sample(a, 2 * k)
            out.append((pick[:k], pick[k:]))
        else:
            out.append((rng.sample(a, k), rng.sample(b, k)))
    return out

if mode == "paired":
    cut = rest.index("--")
    base, new = rest[:cut], rest[cut + 1:]
    p = subprocess.run([napkin, "compare", "--paired", "--format", "json", "--base", *base,
                        "--new", *new], capture_output=True, text=True)
    if p.returncode not in (0, 1):
        sys.exit(f"napkin compare failed ({p.returncode}): {p.stderr}")
    c = json.loads(p.stdout)
    ps = [m["significance"]["p_adjusted"] for s in c["scopes"] for m in s["metrics"]
          if m.get("significance")]
    bad = [f"{s['scope']} {m['metric']}" for s in c["scopes"] for m in s["metrics"]
           if m["verdict"] == "regressed"]
    verdict = "FLAGGED" if p.returncode == 1 else "not flagged"
    print(f"  {side}: {len(base)} rounds: {verdict} (smallest adjusted p {min(ps):.4f}; "
          f"{len(bad)} metrics regressed{': ' + ', '.join(bad[:3]) if bad else ''})")
    sys.exit(0)

if mode == "same":
    runs = rest
    pairs = [(a, b) for a, b in itertools.permutations(runs, 2)]
    report(f"one run per side, every ordered pair of {len(runs)} runs",
           [compare([a], [b]) for a, b in pairs])
    for k in side_sizes:
        if len(runs) < 2 * k:
            continue
        report(f"{k} runs per side, {splits} random disjoint splits",
               [compare(a, b) for a, b in sides(runs, runs, k)])
        for w in compare(runs[:k], runs[k:2 * k])[2]["warnings"]:
            print(f"    note: {w}")
else:
    cut = rest.index("--")
    base, slow = rest[:cut], rest[cut + 1:]
    b50, s50 = statistics.median(map(p50, base)), statistics.median(map(p50, slow))
    print(f"  {mode}: median p50 {b50 / 1000:.2f} ms -> {s50 / 1000:.2f} ms "
          f"({100.0 * (s50 / b50 - 1):+.1f}%)")
    report("one run per side, every base x slowed pair",
           [compare([a], [b]) for a in base for b in slow])
    for k in side_sizes:
        report(f"{k} runs per side, {splits} random picks",
               [compare(a, b) for a, b in sides(base, slow, k)])
        for w in compare(base[:k], slow[:k])[2]["warnings"]:
            print(f"    note: {w}")
PY

load() { # scenario args..., quiet
  "$BIN" load scenarios/twitter.yaml "$@" >/dev/null 2>"$TMP/load.err" || {
    rc=$?
    # 1 = an SLO of the scenario failed: still a run to compare.
    [ "$rc" = 1 ] || { cat "$TMP/load.err"; exit 1; }
  }
}

echo "== 1. false alarms: ${RUNS} identical runs of scenarios/twitter.yaml (embedded server)"
same=()
for i in $(seq 1 "$RUNS"); do
  load --out "$TMP/same-$i.json"
  same+=("$TMP/same-$i.json")
done
python3 "$TMP/gate.py" "$BIN" same "$SIDES" "$SPLITS" "${same[@]}"
python3 bench/gate_before.py "${same[@]}"

echo "== 2. detection: reference server behind a ${DELAY_MS} ms delay vs +20% and +50%"
"$BIN" serve --addr "127.0.0.1:${PORT}" --seed-users 10000 --log-level warn >"$TMP/server.log" 2>&1 &
PIDS+=($!)
for _ in $(seq 1 100); do
  curl -fs "http://127.0.0.1:${PORT}/healthz" >/dev/null 2>&1 && break
  sleep 0.1
done
proxy() { # name delay_us: starts a proxy (in this shell, so that cleanup stops it)
  "$PROXY" 127.0.0.1:0 "127.0.0.1:${PORT}" "$2" >"$TMP/proxy-$1.out" 2>&1 &
  PIDS+=($!)
  for _ in $(seq 1 100); do
    grep -q listening "$TMP/proxy-$1.out" 2>/dev/null && break
    sleep 0.05
  done
}
url_of() { echo "http://$(awk '/listening on/ {print $3}' "$TMP/proxy-$1.out")"; }
base_us=$((DELAY_MS * 1000))
proxy base "$base_us"
proxy aa "$base_us"
proxy s20 $((base_us * 12 / 10))
proxy s50 $((base_us * 15 / 10))
url_base=$(url_of base)
url_aa=$(url_of aa)
url_20=$(url_of s20)
url_50=$(url_of s50)
base=(); aa=(); s20=(); s50=()
kinds=(base aa s20 s50)
for i in $(seq 1 "$RUNS"); do
  for k in 0 1 2 3; do # rotate the order from round to round
    kind=${kinds[$(((i + k) % 4))]}
    case $kind in
      base) load --target "$url_base" --out "$TMP/base-$i.json"; base+=("$TMP/base-$i.json") ;;
      aa) load --target "$url_aa" --out "$TMP/aa-$i.json"; aa+=("$TMP/aa-$i.json") ;;
      s20) load --target "$url_20" --out "$TMP/s20-$i.json"; s20+=("$TMP/s20-$i.json") ;;
      s50) load --target "$url_50" --out "$TMP/s50-$i.json"; s50+=("$TMP/s50-$i.json") ;;
    esac
  done
done
python3 "$TMP/gate.py" "$BIN" "+20% delay" "$SIDES" "$SPLITS" "${base[@]}" -- "${s20[@]}"
python3 "$TMP/gate.py" "$BIN" "+50% delay" "$SIDES" "$SPLITS" "${base[@]}" -- "${s50[@]}"
echo "== 3. paired by round, as napkin ab compares (one comparison each)"
python3 "$TMP/gate.py" "$BIN" paired "A/A (same delay)" 0 "${base[@]}" -- "${aa[@]}"
python3 "$TMP/gate.py" "$BIN" paired "+20% delay" 0 "${base[@]}" -- "${s20[@]}"
python3 "$TMP/gate.py" "$BIN" paired "+50% delay" 0 "${base[@]}" -- "${s50[@]}"
echo "   false alarms of the delayed target against itself (${RUNS} base runs), unpaired:"
python3 "$TMP/gate.py" "$BIN" same "$SIDES" "$SPLITS" "${base[@]}"
