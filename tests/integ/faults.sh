#!/bin/bash
# Faults dockerd cannot be made to produce on demand, from a fake dockerd
# (tests/fakedocker.c) behind one berth-fcgi worker: 500s, a hang past
# docker.timeout_ms, a connection closed mid-reply, truncated, non-JSON and
# oversized (70 MiB) replies, an inspect without Name, a log stream cut
# mid-frame, the socket gone.  Each must give 502/503/504 with a JSON error,
# and the same worker (same pid) must serve the next request.  The fake's
# replies for each fault are data: tests/data/fakedocker/MODE.replies.
. "$(dirname "$0")/../lib.sh"

INST="t-faults-$$"
FAKE="$T/fakedocker"
REPLIES="$TESTS_DIR/data/fakedocker"
if ! cc -O1 -Wall -Wextra -Werror -D_GNU_SOURCE -o "$FAKE" "$SRC_DIR/tests/fakedocker.c" 2>"$T/cc.err"; then
	cat "$T/cc.err"
	not_ok "fakedocker builds"
	finish
	exit 1
fi
echo ok >"$T/mode"
"$FAKE" "$T/docker.sock" "$T/mode" "$INST" "$REPLIES" >/dev/null 2>"$T/fake.err" &
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

# mode FAULT: what the fake does from the next call on (data/fakedocker/FAULT.replies).
mode() { echo "$1" >"$T/mode"; }
# same_worker: the one worker is still the one that served the first request.
same_worker() { test "$(worker_pids "$PID_f" | xargs)" = "$W0"; }
# leftover_logged: the supervisor's log names a recreate's leftover container.
leftover_logged() { grep -q recreate_leftover "$(readlink "/proc/$(sup_pid "$PID_f")/fd/2")"; }

# Each fault: one faulty call (answered within 10 s), then a healthy one on
# the same worker.
cases <<'EOF'
# name                                                 | who       | method | url                          | body | status | assertions...
dockerd 500: 502 docker_error                          | anonymous | GET    | $API/containers/fake         | -    | 502 | do mode 500 \
	| .error.code = docker_error | time < 10
dockerd 500: next request served                       | anonymous | GET    | $API/containers/fake         | -    | 200 | do mode ok \
	| .id = fake | run same_worker
dockerd 500 on health: 503 docker_unavailable          | anonymous | GET    | $API/health                  | -    | 503 | do mode 500 \
	| .error.code = docker_unavailable | time < 10
dockerd 500 on health: next request served             | anonymous | GET    | $API/containers/fake         | -    | 200 | do mode ok \
	| .id = fake | run same_worker
dockerd hangs past timeout_ms: 504 docker_timeout      | anonymous | GET    | $API/containers/fake         | -    | 504 | do mode hang \
	| .error.code = docker_timeout | time < 10
dockerd hangs past timeout_ms: next request served     | anonymous | GET    | $API/containers/fake         | -    | 200 | do mode ok \
	| .id = fake | run same_worker
dockerd closes mid-reply: 502 docker_error             | anonymous | GET    | $API/containers              | -    | 502 | do mode close \
	| .error.code = docker_error | time < 10
dockerd closes mid-reply: next request served          | anonymous | GET    | $API/containers/fake         | -    | 200 | do mode ok \
	| .id = fake | run same_worker
truncated JSON: 502 docker_error                       | anonymous | GET    | $API/containers/fake         | -    | 502 | do mode truncated \
	| .error.code = docker_error | time < 10
truncated JSON: next request served                    | anonymous | GET    | $API/containers/fake         | -    | 200 | do mode ok \
	| .id = fake | run same_worker
HTML instead of JSON: 502 docker_error                 | anonymous | GET    | $API/containers/fake         | -    | 502 | do mode garbage \
	| .error.code = docker_error | time < 10
HTML instead of JSON: next request served              | anonymous | GET    | $API/containers/fake         | -    | 200 | do mode ok \
	| .id = fake | run same_worker
70 MiB reply over the 64 MiB cap: 502 docker_error     | anonymous | GET    | $API/containers              | -    | 502 | do mode huge \
	| .error.code = docker_error | time < 10
70 MiB reply over the 64 MiB cap: next request served  | anonymous | GET    | $API/containers/fake         | -    | 200 | do mode ok \
	| .id = fake | run same_worker
dockerd 500 on stop: 502 docker_error                  | anonymous | POST   | $API/containers/fake/stop    | -    | 502 | do mode 500 \
	| .error.code = docker_error | time < 10
dockerd 500 on stop: next request served               | anonymous | GET    | $API/containers/fake         | -    | 200 | do mode ok \
	| .id = fake | run same_worker
hang on a mutation: 504 docker_timeout                 | anonymous | POST   | $API/containers/fake/restart | -    | 504 | do mode hang \
	| .error.code = docker_timeout | time < 10
hang on a mutation: next request served                | anonymous | GET    | $API/containers/fake         | -    | 200 | do mode ok \
	| .id = fake | run same_worker

# Inspect without Name: the lifecycle handlers once printed NULL + 1, and an
# update of such a container once killed the worker.
inspect without Name: stop still answers               | anonymous | POST   | $API/containers/fake/stop    | -    | 200 | do mode noname \
	| .id = fake | run same_worker
inspect without Name: update answers with a JSON error, not a dead worker \
                                                       | anonymous | POST   | $API/containers/fake/update  | -    | 4xx,5xx \
	| .error.code|type = string | run same_worker

# A recreate whose old container will not go: the new one is up, the leftover is reported.
recreate when the old container cannot be removed: the new one answers \
                                                       | anonymous | PATCH  | $API/containers/fake | {"command":["sleep","601"]} | 200 \
	| do mode rmfail | .id != null | run leftover_logged
EOF
mode ok

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
cases <<'EOF'
recreate that cannot take the name's lock: 500, nothing done \
	| anonymous | PATCH | $API/containers/fake | {"command":["sleep","602"]} | 500 | .error.code = internal
EOF
rmdir "$STATE_F/locks/name-$(fnv "$FAKE_DN").lock"

# Logs: a whole stream, then one cut mid-frame (headers already sent: the body just ends).
req GET "$API/containers/fake/logs"
check "logs demultiplexed from the fake stream" test "$BODY" = "$(printf 'hello\nerr')"
mode logclose
req GET "$API/containers/fake/logs"
check "log stream cut mid-frame: what came is passed on ($STATUS)" test "$BODY" = hello
cases <<'EOF'
after the cut stream: next request served | anonymous | GET | $API/containers/fake | - | 200 | do mode ok \
	| .id = fake | run same_worker
EOF

# The socket gone (dockerd stopped), then back.
kill "$FAKE_PID"
wait "$FAKE_PID" 2>/dev/null
rm -f "$T/docker.sock"
cases <<'EOF'
socket gone: 503        | anonymous | GET | $API/containers/fake | - | 503 | .error.code = docker_unavailable
socket gone: health 503 | anonymous | GET | $API/health          | - | 503 | .error.code = docker_unavailable
EOF
"$FAKE" "$T/docker.sock" "$T/mode" "$INST" "$REPLIES" >/dev/null 2>>"$T/fake.err" &
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
