#!/usr/bin/env bash
# Renders the Kubernetes manifests of a sharded napkin load test (docs/distributed.md): a
# ConfigMap holding the scenario and an Indexed Job of N pods, pod I running
#   napkin load /etc/napkin/scenario.yaml --shard I/N --start-at TIME --out - ...
# with I from JOB_COMPLETION_INDEX. Prints YAML to stdout; needs only bash (no kubectl), so the
# manifests can be reviewed, validated (tests/kubernetes_manifests.rs) or applied by hand.
#
#   deploy/kubernetes/render.sh SCENARIO.yaml --shards N --start-at TIME --target URL \
#       [--image IMAGE] [--name NAME] [--namespace NS] [--run-id ID] [--cpu CPU] \
#       [--memory MEM] [--deadline SECONDS] [-- MORE NAPKIN LOAD FLAGS...]
set -euo pipefail

usage() {
  sed -n '2,11p' "$0" | sed 's/^# \{0,1\}//' >&2
  exit 2
}
die() {
  echo "render.sh: $*" >&2
  exit 2
}

scenario="" shards="" start_at="" target="" image="napkin:latest" name="" namespace=""
run_id="" cpu="1" memory="512Mi" deadline="3600"
extra=()
while [ $# -gt 0 ]; do
  case "$1" in
    --shards) shards="${2:-}"; shift 2 ;;
    --start-at) start_at="${2:-}"; shift 2 ;;
    --target) target="${2:-}"; shift 2 ;;
    --image) image="${2:-}"; shift 2 ;;
    --name) name="${2:-}"; shift 2 ;;
    --namespace) namespace="${2:-}"; shift 2 ;;
    --run-id) run_id="${2:-}"; shift 2 ;;
    --cpu) cpu="${2:-}"; shift 2 ;;
    --memory) memory="${2:-}"; shift 2 ;;
    --deadline) deadline="${2:-}"; shift 2 ;;
    --) shift; extra=("$@"); break ;;
    -h|--help) usage ;;
    -*) die "unknown option $1 (see --help)" ;;
    *) [ -z "$scenario" ] || die "one scenario file only, got $scenario and $1"; scenario="$1"; shift ;;
  esac
done

[ -n "$scenario" ] || die "give the scenario file, e.g. render.sh scenarios/twitter.yaml --shards 4 ..."
[ -r "$scenario" ] || die "cannot read scenario file $scenario"
[[ "$shards" =~ ^[1-9][0-9]*$ ]] || die "--shards must be a whole number >= 1, got '${shards}'"
[ -n "$target" ] || die "--target URL is required: every shard loads the same service"
[ -n "$start_at" ] || die "--start-at TIME (RFC 3339, e.g. 2026-12-01T12:00:00Z) is required"
date -u -d "$start_at" +%s >/dev/null 2>&1 \
  || die "--start-at '$start_at' is not a time; write RFC 3339, e.g. 2026-12-01T12:00:00Z"
[[ "$deadline" =~ ^[1-9][0-9]*$ ]] || die "--deadline must be whole seconds, got '$deadline'"
if [ -z "$name" ]; then
  name="napkin-$(date -u -d "$start_at" +%Y%m%d-%H%M%S)"
fi
[[ "$name" =~ ^[a-z0-9]([-a-z0-9]{0,50}[a-z0-9])?$ ]] \
  || die "--name '$name' must be a DNS label: lower-case letters, digits and '-', at most 52 characters"

# A YAML double-quoted scalar (JSON string escaping) of $1.
quote() {
  local s=$1
  s=${s//\\/\\\\}
  s=${s//\"/\\\"}
  s=${s//$'\t'/\\t}
  s=${s//$'\n'/\\n}
  printf '"%s"' "$s"
}

args=(load /etc/napkin/scenario.yaml --target "$target"
      --shard "\$(JOB_COMPLETION_INDEX)/$shards" --start-at "$start_at" --out -)
[ -z "$run_id" ] || args+=(--run-id "$run_id")
args+=("${extra[@]}")

ns_line=""
[ -z "$namespace" ] || ns_line="  namespace: $(quote "$namespace")"

cat <<YAML
# napkin load test $name: $shards shards starting at $start_at (rendered by deploy/kubernetes/render.sh)
apiVersion: v1
kind: ConfigMap
metadata:
  name: $name
${ns_line:+$ns_line
}  labels:
    app.kubernetes.io/name: napkin
    app.kubernetes.io/instance: $name
data:
  scenario.yaml: |
$(sed 's/^/    /' "$scenario")
---
apiVersion: batch/v1
kind: Job
metadata:
  name: $name
${ns_line:+$ns_line
}  labels:
    app.kubernetes.io/name: napkin
    app.kubernetes.io/instance: $name
spec:
  completionMode: Indexed
  completions: $shards
  parallelism: $shards
  # A shard that fails is not retried: a retry would start after --start-at and skew the run.
  backoffLimit: 0
  activeDeadlineSeconds: $deadline
  ttlSecondsAfterFinished: 86400
  template:
    metadata:
      labels:
        app.kubernetes.io/name: napkin
        app.kubernetes.io/instance: $name
    spec:
      restartPolicy: Never
      # SIGTERM ends a run like Ctrl-C (results written, marked interrupted).
      terminationGracePeriodSeconds: 30
      # One shard per node where possible: shards are meant to add machines.
      topologySpreadConstraints:
        - maxSkew: 1
          topologyKey: kubernetes.io/hostname
          whenUnsatisfiable: ScheduleAnyway
          labelSelector:
            matchLabels:
              app.kubernetes.io/instance: $name
      containers:
        - name: napkin
          image: $(quote "$image")
          imagePullPolicy: IfNotPresent
          env:
            - name: JOB_COMPLETION_INDEX
              valueFrom:
                fieldRef:
                  fieldPath: metadata.annotations['batch.kubernetes.io/job-completion-index']
          args:
YAML
for a in "${args[@]}"; do
  printf '            - %s\n' "$(quote "$a")"
done
cat <<YAML
          resources:
            requests:
              cpu: $(quote "$cpu")
              memory: $(quote "$memory")
            limits:
              memory: $(quote "$memory")
          volumeMounts:
            - name: scenario
              mountPath: /etc/napkin
              readOnly: true
      volumes:
        - name: scenario
          configMap:
            name: $name
YAML
