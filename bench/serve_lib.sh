# Shared by bench/durable.sh, bench/cache.sh and bench/storage.sh: start and stop `napkin serve`
# (pinned to core 0), read its /metrics, and a wrk Lua script that posts tweets.
# Needs: BIN (the napkin binary), WORK (a scratch directory).

PIDS=()
cleanup_servers() {
    for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
}

# start_server NAME ARGS...: starts `napkin serve ARGS` and waits until it listens; sets
# ADDR_<NAME>, PID_<NAME> and START_S_<NAME> (seconds from exec to listening).
start_server() {
    local name=$1 started pid addr=
    shift
    started=$(date +%s.%N)
    : >"$WORK/$name.out"  # exists before the first read below (set -e would end on sed's error)
    taskset -c 0 "$BIN" serve --addr 127.0.0.1:0 --log-level warn "$@" \
        >"$WORK/$name.out" 2>"$WORK/$name.log" &
    pid=$!
    PIDS+=("$pid")
    for _ in $(seq 1 1200); do
        addr=$(sed -n 's/^listening on http:\/\///p' "$WORK/$name.out")
        [ -n "$addr" ] && break
        kill -0 "$pid" 2>/dev/null || { echo "server $name exited:" >&2; cat "$WORK/$name.log" >&2; exit 3; }
        sleep 0.05
    done
    [ -n "$addr" ] || { echo "server $name did not start within 60 s" >&2; exit 3; }
    printf -v "ADDR_$name" '%s' "$addr"
    printf -v "PID_$name" '%s' "$pid"
    printf -v "START_S_$name" '%s' "$(echo "$(date +%s.%N) - $started" | bc)"
}

# stop_server NAME [KILL]: SIGTERM and wait (SIGKILL with KILL=9).
stop_server() {
    local pid_var="PID_$1"
    local pid=${!pid_var}
    kill "-${2:-TERM}" "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
}

# rss_mib NAME: peak resident memory of the server so far.
rss_mib() {
    local pid_var="PID_$1"
    awk '/VmHWM/ {printf "%d", $2 / 1024}' "/proc/${!pid_var}/status"
}

# metric ADDR 'name{labels}': one value from /metrics (0 if absent).
metric() {
    curl -s "http://$1/metrics" | awk -v m="$2" '$1 == m {print $2; found=1} END {if (!found) print 0}'
}

median() { sort -g | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }

# post_lua FILE USERS: a wrk script posting 140-character tweets by random users (the twitter
# scenario's {{text 140}}), the same prepared requests cycled.
post_lua() {
    cat >"$1" <<LUA
math.randomseed(7)
local reqs, n, i = {}, 4096, 0
local text = string.rep("napkin ", 20)
for k = 1, n do
  local body = '{"user_id": ' .. math.random(1, $2) .. ', "text": "' .. text .. '"}'
  reqs[k] = wrk.format("POST", "/tweets", {["Content-Type"] = "application/json"}, body)
end
request = function()
  i = i % n + 1
  return reqs[i]
end
LUA
}

# wrk_rps ADDR SCRIPT DURATION CONNECTIONS: requests/s of 2xx answers (fails on errors).
wrk_rps() {
    local out
    out=$(taskset -c 1 wrk -t1 -c"$4" -d"$3" -s "$2" "http://$1")
    if grep -qE "Non-2xx|Socket errors" <<<"$out"; then
        echo "wrk saw errors on $1:" >&2
        echo "$out" >&2
        return 1
    fi
    awk '/Requests\/sec/ {print $2}' <<<"$out"
}
