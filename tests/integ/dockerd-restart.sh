#!/bin/bash
# dockerd stopped under load, then started again: while it is gone every
# request that needs it gets 503 docker_unavailable (JSON), the workers live
# on, and once it answers /_ping again berth serves within a second, with no
# berth restart.
# With BERTH_TEST_STOP_DOCKERD=1 (tests/run's full run, last) this stops the
# machine's real dockerd; otherwise a socat proxy in front of it stands in,
# so the suite can run while others use the machine's dockerd.
. "$(dirname "$0")/../lib.sh"

REAL=${BERTH_TEST_STOP_DOCKERD:-0}
INST="t-dkrestart-$$"
ping_ok() { curl -s --max-time 2 --unix-socket "$1" http://d/_ping 2>/dev/null | grep -q OK; }
if [ "$REAL" = 1 ]; then
	SOCK=/var/run/docker.sock
	echo "# stopping the machine's real dockerd (BERTH_TEST_STOP_DOCKERD=1)"
	dk_stop() {
		if command -v systemctl >/dev/null && systemctl is-active -q docker 2>/dev/null; then
			systemctl stop docker.socket docker 2>/dev/null
		else
			local p
			p=$(pidof dockerd) && kill -TERM $p
			wait_for 60 bash -c '! pidof dockerd >/dev/null'
		fi
	}
	dk_start() {
		if command -v systemctl >/dev/null && systemctl start docker 2>/dev/null; then :; else
			(setsid dockerd >>/var/log/dockerd.log 2>&1 &)
		fi
	}
else
	SOCK="$T/docker.sock"
	echo "# socat proxy stands in for dockerd (BERTH_TEST_STOP_DOCKERD=1 stops the real one)"
	dk_start() {
		socat UNIX-LISTEN:"$SOCK",fork,mode=666 UNIX-CONNECT:/var/run/docker.sock >/dev/null 2>&1 &
		PROXY=$!
	}
	dk_stop() {
		pkill -KILL -P "$PROXY" 2>/dev/null
		kill "$PROXY" 2>/dev/null
		wait "$PROXY" 2>/dev/null
		rm -f "$SOCK"
	}
	dk_start
	wait_for 5 ping_ok "$SOCK"
fi
cat >"$T/berth.conf" <<CONF
anonymous = "admin";
docker = { socket = "$SOCK"; connect_timeout_ms = 1000; timeout_ms = 5000; };
policy = { admin = { images = [ "*" ]; }; };
CONF
start_berth d --config "$T/berth.conf" --workers 4 --instance "$INST" || exit 1
API="$URL/api/v1"
req GET "$API/health"
expect "health before" 200 .docker ok
W0=$(worker_pids "$PID_d" | sort | xargs)

# Load: two clients in a loop, each line "epoch-ms status code".
loader() {
	while [ ! -e "$T/stop" ]; do
		local s t0
		t0=$(date +%s%3N)
		s=$(curl -s -o "$T/l$1" -w '%{http_code}' --max-time 10 "$API/$2") || s=000
		# Keyed by when the request started: one sent before the outage may end in it.
		echo "$t0 $s $(jq -r '.error.code // "-"' "$T/l$1" 2>/dev/null)" >>"$T/load$1"
	done
}
loader 1 containers &
# (load1: containers, load2: health)
L1=$!
loader 2 health &
L2=$!
sleep 2
dk_stop
# dockerd keeps answering while it shuts down: the outage starts once it is gone.
t_stop=$(date +%s%3N)
check "dockerd is down" bash -c '! curl -s --max-time 2 --unix-socket "$1" http://d/_ping | grep -q OK' _ "$SOCK"
sleep 3
req GET "$API/containers"
expect "dockerd down: 503 docker_unavailable" 503 .error.code docker_unavailable
req GET "$API/health"
expect "dockerd down: health 503" 503 .error.code docker_unavailable
check "dockerd down: the workers live on" test "$(worker_pids "$PID_d" | sort | xargs)" = "$W0"
# The outage ends when dockerd is started again (it may answer before we notice).
t_start=$(date +%s%3N)
dk_start
wait_for 60 ping_ok "$SOCK"
t_up=$(date +%s%3N)
until req GET "$API/health"; [ "$STATUS" = 200 ] || [ $(($(date +%s%3N) - t_up)) -gt 10000 ]; do sleep 0.02; done
t_ok=$(date +%s%3N)
echo "# dockerd answered /_ping again; berth served after $((t_ok - t_up)) ms"
check "recovered within a second of dockerd answering ($((t_ok - t_up)) ms)" test $((t_ok - t_up)) -le 1000
sleep 1
touch "$T/stop"
wait $L1 $L2
check "no berth restart: same berth-up, same workers" test "$(worker_pids "$PID_d" | sort | xargs)" = "$W0"
{ sed 's/$/ containers/' "$T/load1"; sed 's/$/ health/' "$T/load2"; } >"$T/load"
during=$(awk -v a="$t_stop" -v b="$t_start" '$1 > a + 500 && $1 < b' "$T/load")
n503=$(awk '$2 == 503 && $3 == "docker_unavailable"' <<<"$during" | wc -l)
odd=$(awk '$2 != 503' <<<"$during" | wc -l)
awk '$2 != 503 { print "# odd answer during the outage: " $0 }' <<<"$during"
echo "# under load: $(wc -l <"$T/load") requests, $n503 answered 503 during the outage, $odd other"
check "under load, the outage answered 503 docker_unavailable ($n503)" test "$n503" -gt 0
check "under load, nothing but 503 while dockerd was gone ($odd other: $(awk '$2 != 503 { print $2 }' <<<"$during" | sort | uniq -c | xargs))" test "$odd" = 0
after=$(awk -v b="$t_ok" '$1 > b + 200 && $2 != 200' "$T/load" | wc -l)
check "under load, all 200 after recovery ($after not)" test "$after" = 0
stop_berth "$PID_d"
[ "$REAL" = 1 ] || dk_stop
finish
