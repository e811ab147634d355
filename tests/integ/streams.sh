#!/bin/bash
# The stream relay under load (issue 19) through real nginx -> berth-fcgi ->
# relay -> dockerd (a socat proxy in front of it, so dockerd can "go away"):
# far more held streams than workers while short requests still answer,
# every line delivered, the per-user and global caps (429, the field named),
# slots freed when clients leave, hung execs that hold no worker, dockerd
# gone under held streams, the relay killed and restarted by its supervisor,
# tickets used once and the relay's location unreachable from outside.
# No timing assertions (bench/run --only streams has the figures); every
# wait is bounded.
. "$(dirname "$0")/../lib.sh"

INST="t-streams-$$"
IMG=berth-test/busybox:1
PER_USER=14 TOTAL=42
SOCK="$T/docker.sock"
ping_ok() { curl -s --max-time 2 --unix-socket "$SOCK" http://d/_ping 2>/dev/null | grep -q OK; }
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
wait_for 5 ping_ok || { not_ok "socat proxy for dockerd"; finish; exit 1; }

cat >"$T/berth.conf" <<CONF
users = { root = "admin"; alice = "operator"; bob = "operator"; carol = "operator";
          dave = "operator"; };
docker = { socket = "$SOCK"; connect_timeout_ms = 1000; timeout_ms = 60000; };
streams = { per_user = $PER_USER; total = $TOTAL; };
policy = {
  operator = { images = [ "berth-test/*" ]; memory = "32m"; };
  admin = { images = [ "*" ]; };
};
CONF
for u in root alice bob carol dave; do htpasswd_line "$u" "$u"; done >"$T/htpasswd"
mkdir -p "$T/state" "$T/s"
start_berth main --config "$T/berth.conf" --htpasswd "$T/htpasswd" --state-dir "$T/state" \
	--instance "$INST" --workers 4 || { finish; exit 1; }
API="$URL/api/v1"
SUP=$(sup_pid "$PID_main")
RUN=$(dirname "$(tr '\0' '\n' <"/proc/$SUP/cmdline" | sed -n '/^--listen$/{n;p}')")
# as USER METHOD URL [BODY [curl args...]]: req as USER (password = name)
as() { local u=$1; shift; req "$1" "$2" "${3-}" "${@:4}" -u "$u:$u"; }

# A container per user printing numbered lines, 20 a second.
# (PID 1 ignores SIGTERM without a trap: the trap lets berth-up's cleanup stop it at once.)
TICKER='["sh","-c","trap \"exit 0\" TERM; i=0; while :; do i=$((i+1)); echo $i; sleep 0.05; done"]'
for u in alice bob carol dave; do
	as $u POST "$API/containers" "{\"name\":\"tick\",\"image\":\"$IMG\",\"command\":$TICKER}"
	expect "$u's ticker starts" 201
done

# --- streams held in the background: open_stream USER NAME; its head in $T/s/NAME.h,
# its body in $T/s/NAME.b, curl's exit code in $T/s/NAME.rc once it ends.
open_stream() {
	local u=$1 n=$2
	rm -f "$T/s/$n".*
	(curl -s -N --max-time 120 -u "$u:$u" -D "$T/s/$n.h" -o "$T/s/$n.b" \
		"$API/containers/tick/logs?follow=1&tail=0" &
		echo $! >"$T/s/$n.pid"
		wait $!
		echo $? >"$T/s/$n.rc") 2>/dev/null &
}
code_of() { sed -n '1s/^HTTP\/[0-9.]* \([0-9]*\).*/\1/p' "$T/s/$1.h" 2>/dev/null; }
has_code() { [ -n "$(code_of "$1")" ]; }
# close_stream NAME: the client goes away (its curl killed)
close_stream() {
	local p
	wait_for 5 test -s "$T/s/$1.pid"
	p=$(cat "$T/s/$1.pid" 2>/dev/null) || return 0
	kill -KILL "$p" 2>/dev/null
}
# wait_codes NAME...: waits (bounded) until each has its status line; prints the codes
wait_codes() {
	local n
	for n in "$@"; do wait_for 20 has_code "$n"; done
	for n in "$@"; do code_of "$n"; done | sort | uniq -c | xargs
}

# --- a. far more streams than workers -----------------------------------------
echo "(a at ${SECONDS}s)"
HELD=()
for i in $(seq 1 14); do open_stream alice a$i; HELD+=(a$i); done
for i in $(seq 1 13); do open_stream bob b$i; HELD+=(b$i); done
for i in $(seq 1 13); do open_stream carol c$i; HELD+=(c$i); done
codes=$(wait_codes "${HELD[@]}")
check "40 follows from 3 users on 4 workers: all 200 ($codes)" test "$codes" = "40 200"
req GET "$API/health" "" --max-time 10 -u root:root
expect "40 streams held: health answers" 200
as dave GET "$API/containers" "" --max-time 10
expect "40 streams held: dave's container list answers" 200 '[.containers[].name] | join(",")' tick

# --- b. every line after the point it started, no gaps ---------------------------
echo "(b at ${SECONDS}s)"
as dave GET "$API/containers/tick/logs?tail=1"
check "non-follow logs still work (dave's last line $(printf '%s' "$BODY" | tr -d '\r\n'))" \
	test "$STATUS" = 200 -a -n "$BODY"
# Each user's ticker has its own count: where each stood a moment ago, from dockerd.
declare -A NOW
for u in alice bob carol; do NOW[${u:0:1}]=$(docker logs --tail 1 "$(dk tick $u)" 2>&1 | tr -d '\r\n'); done
# tally: "empty behind gapped" over the held streams (a*, b*, c*: alice's, bob's, carol's)
tally() {
	(cd "$T/s" && awk -v na="${NOW[a]}" -v nb="${NOW[b]}" -v nc="${NOW[c]}" '
		function done_file() { if (f == "") return; if (n == 0) e++; if (last < want) bh++; if (g) gp++ }
		FNR == 1 { done_file(); f = FILENAME; n = 0; g = 0; last = 0
			k = substr(f, 1, 1); want = k == "a" ? na : k == "b" ? nb : nc }
		{ sub(/\r$/, ""); if (n && $1 != last + 1) g++; last = $1; n++ }
		END { done_file(); print e + 0, bh + 0, gp + 0 }' $(printf '%s.b ' "${HELD[@]}"))
}
caught_up() { [ "$(tally | cut -d' ' -f2)" = 0 ]; }
wait_for 30 caught_up
read -r empty behind gapped <<<"$(tally)"
check "every stream received lines ($empty empty)" test "$empty" = 0
check "every stream reached its ticker's line of a moment ago (${NOW[a]}/${NOW[b]}/${NOW[c]}; $behind behind)" test "$behind" = 0
check "no stream missed a line ($gapped with gaps)" test "$gapped" = 0
as dave GET "$API/containers/tick/logs?tail=5"
check "non-follow tail=5: five numbered lines in order" test "$STATUS" = 200 -a \
	"$(printf '%s\n' "$BODY" | tr -d '\r' | awk 'NR > 1 && $1 != p + 1 {g++} {p = $1} END {print NR, g + 0}')" = "5 0"

# --- c. the per-user cap -----------------------------------------------------------
echo "(c at ${SECONDS}s)"
as alice GET "$API/containers/tick/logs?follow=1&tail=0" "" --max-time 10
expect "alice's 15th stream: 429" 429 .error.code too_many_requests
check "it names streams.per_user ($(jqb .error.field))" test "$(jqb .error.field)" = streams.per_user
open_stream dave d1
HELD+=(d1)
check "dave still gets a stream ($(wait_codes d1))" test "$(code_of d1)" = 200

# --- d. the global cap ------------------------------------------------------------
echo "(d at ${SECONDS}s)"
open_stream bob b14
HELD+=(b14)
check "the 42nd stream: 200 ($(wait_codes b14))" test "$(code_of b14)" = 200
as carol GET "$API/containers/tick/logs?follow=1&tail=0" "" --max-time 10
expect "carol's stream past the global cap: 429" 429 .error.code too_many_requests
check "it names streams.total ($(jqb .error.field))" test "$(jqb .error.field)" = streams.total
req GET "$API/health" "" --max-time 10 -u root:root
expect "at the global cap: health answers" 200

# --- e. a client that goes away frees its slot ------------------------------------
echo "(e at ${SECONDS}s)"
for i in $(seq 1 10); do close_stream a$i; done
sleep 1
NEW=()
for i in $(seq 1 10); do open_stream alice e$i; NEW+=(e$i); done
codes=$(wait_codes "${NEW[@]}")
check "10 streams closed, 1 s later 10 new ones: all 200 ($codes)" test "$codes" = "10 200"
HELD+=("${NEW[@]}")
for n in "${HELD[@]}"; do close_stream "$n"; done
sleep 1
open_stream carol free1
check "all closed: a new stream gets 200 ($(wait_codes free1))" test "$(code_of free1)" = 200
close_stream free1

# --- f. execs that hang, from more clients than workers ----------------------------
echo "(f at ${SECONDS}s)"
# Counted from berth's log: the worker's access line once it handed the exec off,
# the relay's relay_stream line once the stream is gone (and its slot free).
handed() { grep -c 'path="/api/v1/containers/tick/exec" .*user="dave" .*status=200' "$RUN/berth.log"; }
gone() { grep -c 'relay_stream .*mode=exec user="dave"' "$RUN/berth.log"; }
NX=6 H0=$(handed) G0=$(gone)
XP=()
HANG='{"command":["sleep","3600"],"timeout":3600}'
for i in $(seq 1 $NX); do
	curl -s -o /dev/null --max-time 60 -u dave:dave -XPOST -H 'Content-Type: application/json' \
		--data-binary "$HANG" "$API/containers/tick/exec" 2>/dev/null &
	XP+=($!)
done
all_handed() { [ "$(handed)" -ge $((H0 + NX)) ]; }
all_gone() { [ "$(gone)" -ge $((G0 + NX)) ]; }
wait_for 30 all_handed
sleep 2
check "$NX hung execs from one user, 4 workers: all handed to the relay ($(($(handed) - H0)))" \
	test "$(handed)" -ge $((H0 + NX))
check "none of them ended while held ($(($(gone) - G0)))" test "$(gone)" = "$G0"
req GET "$API/health" "" --max-time 10 -u root:root
expect "$NX hung execs: health answers" 200
as alice POST "$API/containers/tick/exec" '{"command":["echo","short"]}' --max-time 90
expect "$NX hung execs: another user's short exec answers" 200 .stdout short
kill -TERM "${XP[@]}" 2>/dev/null
wait "${XP[@]}" 2>/dev/null
wait_for 10 all_gone
check "their clients hung up: the relay let go of all $NX ($(($(gone) - G0)))" test "$(gone)" -ge $((G0 + NX))
check "and audited them client_left" test "$(grep -c 'client_left' "$T/state/audit.log" 2>/dev/null || echo 0)" -ge "$NX"
as dave POST "$API/containers/tick/exec" '{"command":["sh","-c","echo out; echo err >&2; exit 3"]}' --max-time 90
expect "dave's next exec finishes: exit_code 3" 200 .exit_code 3
check "stdout and stderr as before" test "$(jqb '.stdout + .stderr + (.timed_out | tostring)')" = "out
err
false"
as dave POST "$API/containers/tick/exec" '{"command":["sleep","30"],"timeout":1}' --max-time 90
expect "an exec past its timeout: timed_out true" 200 .timed_out true

# --- i. tickets once, the relay's location internal --------------------------------
echo "(i at ${SECONDS}s)"
out=$(env -i REQUEST_METHOD=GET REQUEST_URI=/api/v1/containers/tick/logs SCRIPT_NAME=/api/v1/containers/tick/logs \
	QUERY_STRING='tail=1' REMOTE_USER=alice cgi-fcgi -bind -connect "$RUN/berth.sock" 2>/dev/null | tr -d '\r')
loc=$(sed -n 's/^X-Accel-Redirect: //p' <<<"$out" | head -1)
check "a worker answers logs with a ticket redirect ($loc)" grep -Eq '^/\.berth-relay/[0-9a-f]{32}$' <<<"$loc"
first=$(curl -s -o "$T/tk1" -w '%{http_code}' --max-time 10 --unix-socket "$RUN/relay.sock" "http://relay$loc")
check "the relay takes the ticket once ($first)" test "$first" = 200
again=$(curl -s -o "$T/tk2" -w '%{http_code}' --max-time 10 --unix-socket "$RUN/relay.sock" "http://relay$loc")
check "a ticket cannot be replayed: 404 ($again, $(jq -r .error.code "$T/tk2" 2>/dev/null))" \
	test "$again" = 404 -a "$(jq -r .error.code "$T/tk2" 2>/dev/null)" = not_found
out=$(env -i REQUEST_METHOD=GET REQUEST_URI=/api/v1/containers/tick/logs SCRIPT_NAME=/api/v1/containers/tick/logs \
	QUERY_STRING='tail=1' REMOTE_USER=alice cgi-fcgi -bind -connect "$RUN/berth.sock" 2>/dev/null | tr -d '\r')
loc=$(sed -n 's/^X-Accel-Redirect: //p' <<<"$out" | head -1)
for p in "$loc" /.berth-relay/ /.berth-relay/x; do
	req GET "$URL$p" "" --max-time 10 -u root:root --path-as-is
	check "GET $p from outside: 404 from nginx" test "$STATUS" = 404
done
curl -s -o /dev/null --max-time 10 --unix-socket "$RUN/relay.sock" "http://relay$loc"

# --- h. the relay killed ------------------------------------------------------------
echo "(h at ${SECONDS}s)"
relay_pid() {
	grep -o 'pid=[0-9]* relay_started' "$RUN/berth.log" 2>/dev/null | tail -1 | grep -o '[0-9]*'
}
R1=$(relay_pid)
check "the relay is a child of the supervisor (pid $R1)" test -n "$R1" -a "$(ps -o ppid= -p "${R1:-0}" | xargs)" = "$SUP"
open_stream bob h1
check "a stream before the kill ($(wait_codes h1))" test "$(code_of h1)" = 200
kill -KILL "$R1"
new_relay() { R2=$(relay_pid); [ -n "$R2" ] && [ "$R2" != "$R1" ] && kill -0 "$R2" 2>/dev/null; }
wait_for 10 new_relay
check "the supervisor starts a new relay ($R1 -> ${R2:-none})" new_relay
wait_for 10 test -e "$T/s/h1.rc"
check "the stream held by the killed relay ended (curl $(cat "$T/s/h1.rc" 2>/dev/null))" test -e "$T/s/h1.rc"
got=""
try_stream() { open_stream bob h2; wait_for 10 has_code h2; got=$(code_of h2); [ "$got" = 200 ] || { close_stream h2; false; }; }
wait_for 10 try_stream
check "a new stream works after the restart ($got)" test "$got" = 200
wait_for 10 bash -c '[ -s "$1" ]' _ "$T/s/h2.b"
check "and carries lines" test -s "$T/s/h2.b"
close_stream h2
req GET "$API/health" "" --max-time 10 -u root:root
expect "health after the relay restart" 200

# --- g. dockerd goes away under held streams -----------------------------------------
echo "(g at ${SECONDS}s)"
G=()
for i in 1 2 3; do open_stream carol g$i; G+=(g$i); done
codes=$(wait_codes "${G[@]}")
check "3 streams held before dockerd goes ($codes)" test "$codes" = "3 200"
dk_stop
ended() { local n; for n in "${G[@]}"; do [ -e "$T/s/$n.rc" ] || return 1; done; }
wait_for 15 ended
rcs=$(for n in "${G[@]}"; do cat "$T/s/$n.rc" 2>/dev/null || echo none; done | sort | uniq -c | xargs)
check "dockerd gone: held streams end cleanly, curl exits 0 ($rcs)" test "$rcs" = "3 0"
check "and they ended chunked (a complete answer)" grep -qi '^transfer-encoding: chunked' "$T/s/g1.h"
as carol GET "$API/containers/tick/logs?follow=1&tail=0" "" --max-time 10
expect "dockerd gone: a new stream gets 503 docker_unavailable" 503 .error.code docker_unavailable
dk_start
wait_for 10 ping_ok
got=""
try_stream() { open_stream carol g4; wait_for 10 has_code g4; got=$(code_of g4); [ "$got" = 200 ] || { close_stream g4; false; }; }
wait_for 15 try_stream
check "dockerd back: streams work again ($got)" test "$got" = 200
close_stream g4

for n in "$T"/s/*.pid; do close_stream "$(basename "$n" .pid)"; done
cp "$RUN/berth.log" "$OUT_DIR/streams-berth.log" 2>/dev/null
stop_berth "$PID_main"
dk_stop
# berth-up removed its containers; any it could not are this instance's alone.
ids=$(docker ps -aq --filter "label=berth.instance=$INST")
[ -z "$ids" ] || docker rm -f $ids >/dev/null
finish
