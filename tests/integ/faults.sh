#!/bin/bash
# Faults dockerd cannot be made to produce on demand, from a fake dockerd
# (tests/fakedocker.c) behind one berth-fcgi worker: 500s, a hang past
# docker.timeout_ms, a connection closed mid-reply, truncated, non-JSON and
# oversized (70 MiB) replies, an inspect without Name, a log stream cut
# mid-frame, the socket gone.  Each must give 502/503/504 with a JSON error,
# and the same worker (same pid) must serve the next request.
. "$(dirname "$0")/../lib.sh"

INST="t-faults-$$"
FAKE="$T/fakedocker"
if ! cc -O1 -Wall -Wextra -Werror -D_GNU_SOURCE -o "$FAKE" "$SRC_DIR/tests/fakedocker.c" 2>"$T/cc.err"; then
	cat "$T/cc.err"
	not_ok "fakedocker builds"
	finish
	exit 1
fi
echo ok >"$T/mode"
"$FAKE" "$T/docker.sock" "$T/mode" "$INST" >/dev/null 2>"$T/fake.err" &
FAKE_PID=$!
wait_for 5 test -S "$T/docker.sock" || not_ok "fakedocker listens"
cat >"$T/berth.conf" <<CONF
anonymous = "admin";
docker = { socket = "$T/docker.sock"; connect_timeout_ms = 1000; timeout_ms = 1500; };
jobs = { sweep_interval = 3600; };
policy = { admin = { images = [ "*" ]; }; };
CONF
STATE_F="$T/state-f"
mkdir -m 0700 "$STATE_F"
start_berth f --config "$T/berth.conf" --workers 1 --instance "$INST" --state-dir "$STATE_F" ||
	{ kill "$FAKE_PID"; finish; exit 1; }
API="$URL/api/v1"

req GET "$API/health"
expect "fake dockerd answers: health ok" 200 .docker ok
W0=$(worker_pids "$PID_f")
check "one worker serving (pid $W0)" test "$(echo "$W0" | wc -w)" = 1

# fault MODE NAME METHOD PATH STATUS CODE: one faulty call, then a healthy one on the same worker.
fault() {
	local mode=$1 name=$2 method=$3 path=$4 want=$5 code=$6 t0
	echo "$mode" >"$T/mode"
	t0=$SECONDS
	req "$method" "$API$path"
	expect "$name: $want $code" "$want" .error.code "$code"
	check "$name: answered in $((SECONDS - t0)) s (under 10)" test $((SECONDS - t0)) -lt 10
	echo ok >"$T/mode"
	req GET "$API/containers/fake"
	expect "$name: next request served" 200 .id fake
	check "$name: same worker, nothing died ($(worker_pids "$PID_f" | xargs))" \
		test "$(worker_pids "$PID_f" | xargs)" = "$W0"
}

fault 500 "dockerd 500" GET /containers/fake 502 docker_error
fault 500 "dockerd 500 on health" GET /health 503 docker_unavailable
fault hang "dockerd hangs past timeout_ms" GET /containers/fake 504 docker_timeout
fault close "dockerd closes mid-reply" GET /containers 502 docker_error
fault truncated "truncated JSON" GET /containers/fake 502 docker_error
fault garbage "HTML instead of JSON" GET /containers/fake 502 docker_error
fault huge "70 MiB reply over the 64 MiB cap" GET /containers 502 docker_error
fault 500 "dockerd 500 on stop" POST /containers/fake/stop 502 docker_error
fault hang "hang on a mutation" POST /containers/fake/restart 504 docker_timeout

# Inspect without Name: the lifecycle handlers once printed NULL + 1.
echo noname >"$T/mode"
req POST "$API/containers/fake/stop"
expect "inspect without Name: stop still answers" 200 .id fake
echo ok >"$T/mode"
check "inspect without Name: worker survived" test "$(worker_pids "$PID_f" | xargs)" = "$W0"

# An update of a container whose inspect has no Name: once NULL + 1, a dead worker.
echo noname >"$T/mode"
req POST "$API/containers/fake/update"
check "inspect without Name: update answers with a JSON error, not a dead worker ($STATUS)" \
	bash -c '[[ $1 == 4?? || $1 == 5?? ]] && jq -e .error.code <<<"$2" >/dev/null' _ "$STATUS" "$BODY"
echo ok >"$T/mode"
check "inspect without Name: the worker survived the update" test "$(worker_pids "$PID_f" | xargs)" = "$W0"

# A recreate whose old container will not go: the new one is up, the leftover is reported.
echo rmfail >"$T/mode"
req PATCH "$API/containers/fake" '{"command":["sleep","601"]}'
expect "recreate when the old container cannot be removed: the new one answers" 200
echo ok >"$T/mode"
check "the leftover old container is logged, not hidden" \
	bash -c 'grep -q recreate_leftover "$(readlink "/proc/$1/fd/2")"' _ "$(sup_pid "$PID_f")"

# A recreate that cannot lock the name does nothing (it used to carry on unlocked).
fnv() { # fnv STRING: berth's b_hash32 (FNV-1a), as 8 hex digits
	local h=2166136261 c i
	for ((i = 0; i < ${#1}; i++)); do
		printf -v c '%d' "'${1:i:1}"
		h=$(( ((h ^ c) * 16777619) & 0xffffffff ))
	done
	printf '%08x' "$h"
}
# The name locked is the Docker name the recreate gives it, in its owner's namespace.
FAKE_DN="fake.anonymous.$(fnv "$INST"$'\n'anonymous$'\n')"
rm -f "$STATE_F/locks/name-$(fnv "$FAKE_DN").lock"
mkdir "$STATE_F/locks/name-$(fnv "$FAKE_DN").lock"
req PATCH "$API/containers/fake" '{"command":["sleep","602"]}'
expect "recreate that cannot take the name's lock: 500, nothing done" 500 .error.code internal
rmdir "$STATE_F/locks/name-$(fnv "$FAKE_DN").lock"

# Logs: a whole stream, then one cut mid-frame (headers already sent: the body just ends).
req GET "$API/containers/fake/logs"
check "logs demultiplexed from the fake stream" test "$BODY" = "$(printf 'hello\nerr')"
echo logclose >"$T/mode"
req GET "$API/containers/fake/logs"
check "log stream cut mid-frame: what came is passed on ($STATUS)" test "$BODY" = hello
echo ok >"$T/mode"
req GET "$API/containers/fake"
expect "after the cut stream: next request served" 200 .id fake
check "after the cut stream: same worker" test "$(worker_pids "$PID_f" | xargs)" = "$W0"

# The socket gone (dockerd stopped), then back.
kill "$FAKE_PID"
wait "$FAKE_PID" 2>/dev/null
rm -f "$T/docker.sock"
req GET "$API/containers/fake"
expect "socket gone: 503" 503 .error.code docker_unavailable
req GET "$API/health"
expect "socket gone: health 503" 503 .error.code docker_unavailable
"$FAKE" "$T/docker.sock" "$T/mode" "$INST" >/dev/null 2>>"$T/fake.err" &
FAKE_PID=$!
wait_for 5 test -S "$T/docker.sock"
req GET "$API/health"
expect "fake dockerd back: recovered at once" 200 .docker ok
check "the one worker served everything ($(worker_pids "$PID_f" | xargs))" \
	test "$(worker_pids "$PID_f" | xargs)" = "$W0"
check "no worker_died in the log" bash -c '! grep -h worker_died /tmp/berth-up.*/berth.log 2>/dev/null | grep -q "$1"' _ "$W0"

stop_berth "$PID_f"
kill "$FAKE_PID" 2>/dev/null
wait "$FAKE_PID" 2>/dev/null
finish
