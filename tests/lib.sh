# tests/lib.sh - shared helpers for the integration suites (sourced).
# Every suite talks to a real nginx -> berth-fcgi -> dockerd started by
# berth-up on its own port and state dir, and prints TAP-style lines.
set -u
TESTS_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
SRC_DIR=$(cd "$TESTS_DIR/.." && pwd)
BUILD_DIR=${BUILD_DIR:-$SRC_DIR/tests/out/build}
OUT_DIR=${OUT_DIR:-$SRC_DIR/tests/out}
BERTH_UP=${BERTH_UP:-$BUILD_DIR/berth-up}
BERTH_FCGI=${BERTH_FCGI:-$BUILD_DIR/berth-fcgi}
TEST_IMAGE=${TEST_IMAGE:-berth-test/busybox:1}
SUITE=${SUITE:-$(basename "$0" .sh)}
T=$(mktemp -d "/tmp/berth-$SUITE.XXXXXX")
chmod 0755 "$T"
PASSED=0 FAILED=0
UP_PIDS=()

ok() { PASSED=$((PASSED + 1)); echo "ok - $SUITE: $*"; }
not_ok() { FAILED=$((FAILED + 1)); echo "not ok - $SUITE: $*"; }
check() { # check NAME COMMAND...
	local name=$1; shift
	if "$@"; then ok "$name"; else not_ok "$name"; fi
}

# start_berth NAME [berth-up options...]: sets URL_<NAME>, PID_<NAME>; also URL/STATE for the last.
start_berth() {
	local name=$1; shift
	local info="$T/up-$name.info"
	if ! "$BERTH_UP" "$@" "$info" >"$T/up-$name.out" 2>&1; then
		cat "$T/up-$name.out" >&2
		not_ok "berth-up $name starts"
		return 1
	fi
	local port pid
	port=$(sed -n 1p "$info"); pid=$(sed -n 2p "$info")
	printf -v "URL_$name" 'http://127.0.0.1:%s' "$port"
	printf -v "PID_$name" '%s' "$pid"
	URL="http://127.0.0.1:$port"
	UP_PIDS+=("$pid")
	# --docker-port: the Docker door's port is the info file's third line.
	local dport
	dport=$(sed -n 3p "$info")
	if [ -n "$dport" ]; then
		printf -v "DOCKER_$name" 'tcp://127.0.0.1:%s' "$dport"
		DOCKER_URL="http://127.0.0.1:$dport"
	fi
	return 0
}

# The Docker CLI the issue names: Debian's docker.io (20.10), not a newer one on PATH.
DOCKER_CLI=${DOCKER_CLI:-/usr/bin/docker}
# docker_as USER PASSWORD -- ARGS...: the docker CLI as USER through the Docker
# door of the last start_berth (DOCKER_HOST), its basic auth sent the way a
# user configures it: HttpHeaders in that user's own config.json.
docker_as() {
	local user=$1 pass=$2 dir="$T/docker-config-$1"
	shift 3
	if [ ! -f "$dir/config.json" ]; then
		mkdir -p "$dir"
		printf '{"HttpHeaders":{"Authorization":"Basic %s"}}\n' \
			"$(printf '%s:%s' "$user" "$pass" | base64 -w0)" >"$dir/config.json"
	fi
	DOCKER_CONFIG=$dir DOCKER_HOST=${DOCKER_HOST_AS:-${DOCKER_URL/http:/tcp:}} DOCKER_BUILDKIT=0 \
		timeout "${DOCKER_TIMEOUT:-60}" "$DOCKER_CLI" "$@"
}

# stop_berth PID: SIGTERM, wait for it to exit.  berth-up exits once its
# watchdog has stopped nginx and the workers and removed its containers,
# which under valgrind takes a while; a SIGKILL after a minute still leaves
# that to the watchdog.
stop_berth() {
	local pid=$1
	kill -TERM "$pid" 2>/dev/null || return 0
	for _ in $(seq 1 600); do kill -0 "$pid" 2>/dev/null || return 0; sleep 0.1; done
	kill -KILL "$pid" 2>/dev/null
}

# Ends what the suite left running in the background (socat proxies, hand-started
# supervisors): tests/run fails a run that leaves any process behind.
stop_jobs() {
	local j
	for j in $(jobs -p); do kill -TERM "$j" 2>/dev/null; done
	for j in $(jobs -p); do
		for _ in $(seq 1 100); do kill -0 "$j" 2>/dev/null || break; sleep 0.1; done
		kill -KILL "$j" 2>/dev/null
	done
}

finish() {
	for p in "${UP_PIDS[@]}"; do stop_berth "$p"; done
	stop_jobs
	rm -rf "$T"
	echo "# $SUITE: $PASSED passed, $FAILED failed"
	[ "$FAILED" = 0 ]
}

# req METHOD URL [BODY] [curl args...]: sets STATUS, BODY, HDRS.
req() {
	local method=$1 url=$2 body=${3-}
	shift 2; [ $# -gt 0 ] && shift
	local args=(-s -S -o "$T/body" -D "$T/hdrs" -w '%{http_code}' -X "$method" --max-time 60)
	if [ -n "$body" ]; then
		args+=(-H 'Content-Type: application/json' --data-binary "$body")
	fi
	STATUS=$(curl "${args[@]}" "$@" "$url" 2>"$T/curl.err") || STATUS=000
	BODY=$(cat "$T/body" 2>/dev/null)
	HDRS=$(cat "$T/hdrs" 2>/dev/null)
}

# jqb FILTER: evaluates FILTER on the last BODY (prints the raw result).
jqb() { printf '%s' "$BODY" | jq -r "$1" 2>/dev/null; }

# expect NAME STATUS [JQ-FILTER EXPECTED]
expect() {
	local name=$1 want=$2
	if [ "$STATUS" != "$want" ]; then
		not_ok "$name (status $STATUS, wanted $want: $(printf '%.300s' "$BODY"))"
		return 1
	fi
	if [ $# -ge 4 ]; then
		local got; got=$(jqb "$3")
		if [ "$got" != "$4" ]; then
			not_ok "$name ($3 = '$got', wanted '$4')"
			return 1
		fi
	fi
	ok "$name"
}

# htpasswd_line USER PASS
htpasswd_line() { printf '%s:%s\n' "$1" "$(openssl passwd -apr1 "$2")"; }

# wait_for SECONDS COMMAND...: retries COMMAND until it succeeds.
wait_for() {
	local s=$1; shift
	local end=$((SECONDS + s))
	while [ $SECONDS -le $end ]; do "$@" && return 0; sleep 0.2; done
	return 1
}

# dk NAME [OWNER]: the id of the container berth made under NAME (the name its owner
# gave; Docker's name is derived) in instance $INST (or $DK_INST), of OWNER when given.
dk() {
	local f=(--filter "label=berth.name=$1" --filter "label=berth.instance=${DK_INST:-$INST}")
	[ -n "${2:-}" ] && f+=(--filter "label=berth.owner=$2")
	docker ps -aq --no-trunc "${f[@]}" | head -1
}

# dks NAME INSTANCE: the id of the Swarm service berth made for service NAME.
dks() { docker service ls -q --filter "label=berth.service=$1" --filter "label=berth.instance=$2" | head -1; }

docker_api() { # docker_api METHOD PATH [BODY]
	curl -s --unix-socket /var/run/docker.sock -X "$1" ${3:+-H 'Content-Type: application/json' -d "$3"} "http://d/v1.41$2"
}

# --- hardening helpers (issue 9) ---
# sup_pid UP_PID: the berth-fcgi supervisor under berth-up UP_PID.
sup_pid() { pgrep -P "$1" -f 'berth-fcgi.*--listen' | head -1; }
# worker_pids UP_PID: its forked workers (and a periodic sweeper while one runs).
# worker_pids BERTH-UP-PID: the supervisor's workers (its stream relay, named berth-relay, is none).
worker_pids() {
	local s p
	s=$(sup_pid "$1") && [ -n "$s" ] || return 1
	for p in $(pgrep -P "$s"); do
		[ "$(cat "/proc/$p/comm" 2>/dev/null)" = berth-relay ] || echo "$p"
	done
}

# Case tables, the standard cast of users, keyword groups.
. "$TESTS_DIR/cases.sh"
