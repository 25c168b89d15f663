"""The regression gate of napkin compare before significance testing (size only), applied to
run files for bench/gate-noise.sh: on every ordered pair, a latency percentile regressed when it
grew > 10% and > 1 ms with >= 10/(1-p) latencies in both runs; the error rate when it grew
> 10% relative and > 0.1 pp; successful req/s when it fell > 10%; a missing action failed.
Usage: python3 bench/gate_before.py RUN.json..."""
import itertools, json, sys

def scopes(run):
    yield "all", run["all"]
    yield from run["actions"].items()

def latencies(s):
    return s["requests"] - s["error_kinds"].get("connect", 0) - s["error_kinds"].get("timeout", 0) - s["error_kinds"].get("io", 0) - s["error_kinds"].get("unfinished", 0)

def fails(base, new):
    bad = []
    ns = dict(scopes(new))
    for name, b in scopes(base):
        n = ns.get(name)
        if n is None:
            bad.append(f"{name} missing"); continue
        least = min(latencies(b), latencies(n))
        for q, key in [(0.5, "p50"), (0.9, "p90"), (0.99, "p99"), (0.999, "p999")]:
            if least == 0 or least < round(10 / (1 - q)):
                continue
            x, y = b["latency_us"][key], n["latency_us"][key]
            if y - x > 1000 and y > x * 1.1:
                bad.append(f"{name} {key}")
        er = lambda s: s["errors"] / s["requests"] if s["requests"] else 0.0
        if er(n) - er(b) > 0.001 and er(n) > er(b) * 1.1:
            bad.append(f"{name} error_rate")
        ok = lambda r, s: (s["requests"] - s["errors"]) / r["duration_s"]
        if ok(new, n) < ok(base, b) * 0.9:
            bad.append(f"{name} rps")
    return bad

runs = [json.load(open(p)) for p in sys.argv[1:]]
pairs = list(itertools.permutations(range(len(runs)), 2))
flagged = [fails(runs[i], runs[j]) for i, j in pairs]
n = sum(1 for f in flagged if f)
print(f"  before significance testing (size only, same tolerances): {n} of {len(pairs)} flagged ({100.0 * n / len(pairs):.1f}%)")
