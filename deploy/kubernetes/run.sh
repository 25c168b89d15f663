#!/usr/bin/env bash
# One distributed napkin load test on Kubernetes, start to verdict (docs/distributed.md):
# renders the manifests (render.sh) for a scenario, N shards and a start time, applies them,
# waits for the Indexed Job, collects every shard's run.json from its pod's log (the pods run
# `napkin load ... --out -`), merges them with `napkin merge`, gates the whole run once with
# `napkin check --junit`, and exits with check's code (0 pass, 1 SLO failed; 2 bad input or
# missing shards; 3 the run could not be carried out).
#
#   deploy/kubernetes/run.sh SCENARIO.yaml --shards N --target URL [--start-in SECONDS |
#       --start-at TIME] [--image IMAGE] [--namespace NS] [--name NAME] [--out-dir DIR]
#       [--timeout SECONDS] [--allow-partial] [--keep] [render.sh options] [-- LOAD FLAGS...]
#
# Needs kubectl (pointed at the cluster) and a local `napkin` (or NAPKIN=/path/to/napkin) for
# the merge and the check. The image must hold napkin (the repository's Dockerfile).
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
napkin=${NAPKIN:-napkin}
die() {
  echo "run.sh: $*" >&2
  exit 2
}

start_in=60 start_at="" namespace="" name="" out_dir="" timeout=3600 allow_partial="" keep=""
shards="" render=()
while [ $# -gt 0 ]; do
  case "$1" in
    --start-in) start_in="${2:-}"; shift 2 ;;
    --start-at) start_at="${2:-}"; shift 2 ;;
    --namespace) namespace="${2:-}"; render+=(--namespace "$namespace"); shift 2 ;;
    --name) name="${2:-}"; shift 2 ;;
    --out-dir) out_dir="${2:-}"; shift 2 ;;
    --timeout) timeout="${2:-}"; shift 2 ;;
    --allow-partial) allow_partial=--allow-partial; shift ;;
    --keep) keep=1; shift ;;
    --shards) shards="${2:-}"; render+=(--shards "$shards"); shift 2 ;;
    -h|--help) sed -n '2,15p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    --) render+=("$@"); break ;;
    *) render+=("$1"); shift ;;
  esac
done
command -v kubectl >/dev/null || die "kubectl is not on PATH"
command -v "$napkin" >/dev/null || die "napkin is not on PATH (build it, or set NAPKIN=/path/to/napkin)"
[[ "$shards" =~ ^[1-9][0-9]*$ ]] || die "--shards N is required (a whole number >= 1)"
[[ "$start_in" =~ ^[0-9]+$ ]] || die "--start-in takes whole seconds, got '$start_in'"
[[ "$timeout" =~ ^[1-9][0-9]*$ ]] || die "--timeout takes whole seconds, got '$timeout'"
if [ -z "$start_at" ]; then
  # Long enough for every pod to be scheduled and its image pulled: a shard that starts later
  # than the warm-up after this instant fails (exit 2) rather than skew the run.
  start_at=$(date -u -d "+${start_in} seconds" +%Y-%m-%dT%H:%M:%SZ)
fi
[ -n "$name" ] || name="napkin-$(date -u -d "$start_at" +%Y%m%d-%H%M%S)"
[ -n "$out_dir" ] || out_dir="$name"
mkdir -p "$out_dir"
kc=(kubectl)
[ -z "$namespace" ] || kc+=(--namespace "$namespace")

# Our options first: whatever follows `--` in render's arguments goes to napkin load.
"$here/render.sh" --start-at "$start_at" --name "$name" --deadline "$timeout" "${render[@]}" \
  > "$out_dir/manifests.yaml"
# shellcheck disable=SC2317  # called by the EXIT trap
cleanup() {
  if [ -z "$keep" ]; then
    "${kc[@]}" delete --ignore-not-found -f "$out_dir/manifests.yaml" >/dev/null 2>&1 || true
  fi
}
trap cleanup EXIT
"${kc[@]}" apply -f "$out_dir/manifests.yaml" >&2
echo "run.sh: job $name, $shards shards, start at $start_at; waiting (at most ${timeout}s)" >&2

# Wait for the Job to complete or fail (kubectl wait cannot wait for either of two conditions).
give_up=$(( $(date +%s) + timeout + 60 ))
while :; do
  state=$("${kc[@]}" get job "$name" -o \
    jsonpath='{range .status.conditions[?(@.status=="True")]}{.type}{" "}{end}' 2>/dev/null || true)
  case "$state" in
    *Complete*) break ;;
    *Failed*) echo "run.sh: job $name failed; collecting what the shards wrote" >&2; break ;;
  esac
  [ "$(date +%s)" -lt "$give_up" ] || { echo "run.sh: gave up waiting for job $name" >&2; break; }
  sleep 2
done

# Each pod's log holds its banner and summary (stderr) around its run.json (stdout, --out -):
# the top-level JSON document is the lines from a lone "{" to a lone "}".
rm -f "$out_dir"/shard-*.json
"${kc[@]}" get pods -l "job-name=$name" -o \
  jsonpath='{range .items[*]}{.metadata.name}{" "}{.metadata.annotations.batch\.kubernetes\.io/job-completion-index}{"\n"}{end}' \
  | while read -r pod index; do
      [ -n "$pod" ] || continue
      "${kc[@]}" logs "$pod" > "$out_dir/pod-$index.log" 2>&1 || true
      sed -n '/^{$/,/^}$/p' "$out_dir/pod-$index.log" > "$out_dir/shard-$index.json"
      [ -s "$out_dir/shard-$index.json" ] || { rm -f "$out_dir/shard-$index.json";
        echo "run.sh: shard $index ($pod) wrote no result; see $out_dir/pod-$index.log" >&2; }
    done
shopt -s nullglob
results=("$out_dir"/shard-*.json)
[ ${#results[@]} -gt 0 ] || die "no shard wrote a result; see the logs in $out_dir"

# merge exits 1 when the merged SLO fails (check says so below); 2 is bad input (missing shards).
status=0
"$napkin" merge "${results[@]}" -o "$out_dir/merged.json" $allow_partial || status=$?
[ "$status" -le 1 ] || exit "$status"
status=0
"$napkin" check "$out_dir/merged.json" --junit "$out_dir/junit.xml" || status=$?
echo "run.sh: merged result $out_dir/merged.json, JUnit $out_dir/junit.xml" >&2
exit "$status"
