#!/bin/bash
# Start-up that tells the truth, and what berth-up leaves behind (issues 15, 16):
#  1. a busy port is a clear failure: non-zero exit, the port named, nothing
#     written to FILE, nothing left running (whether the port answers or is
#     only bound);
#  2. every error of a bad berth.conf, reported as config errors, before
#     dockerd is asked;
#  3. berth-up killed with SIGKILL: nginx, the supervisor and its workers end
#     and its containers are removed within seconds; with its watchdog killed
#     too, the supervisor still stops and one command removes the containers;
#  4. a state directory that cannot be turned against root: planted links
#     (metrics.shm, audit.log, a lock, the shutdown file, a record) stay
#     untouched, a group- or world-writable directory is refused;
#  5. only berth-up's own host names are served (DNS rebinding), and a 401
#     carries exactly one WWW-Authenticate.
. "$(dirname "$0")/../lib.sh"

INST="t-su-$$"
DOCKER_LABEL="label=berth.instance"
instance_procs() { pgrep -f -- "berth-fcgi.*--instance $1( |$)"; }
containers_of() { docker ps -aq --filter "$DOCKER_LABEL=$1"; }
port_answers() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
free_port() { "$BERTH_FCGI" --state-dir "$T/fp" free-port; }
one() { tr '\n' ' ' <<<"$1"; } # one TEXT: on one line, for a check's name
mkdir -p "$T/fp"

# --- 1. A busy port ----------------------------------------------------------------
P=$(free_port)
socat TCP-LISTEN:"$P",bind=127.0.0.1,reuseaddr,fork SYSTEM:'echo HTTP/1.0 200 OK; echo; echo someone else' 2>/dev/null &
OTHER=$!
wait_for 5 port_answers "$P"
out=$("$BERTH_UP" --instance "$INST-busy" "$T/busy.info:$P" 2>&1)
rc=$?
check "FILE:PORT with PORT answering: non-zero exit ($rc)" test "$rc" != 0
check "the message names the port: $out" grep -q "port $P on 127.0.0.1 is already in use" <<<"$out"
check "nothing written to FILE" test ! -e "$T/busy.info"
out=$(timeout 30 "$BERTH_UP" --instance "$INST-busy" ":$P" 2>&1)
rc=$?
check "foreground :PORT busy: non-zero exit ($rc), never says it is up" \
	bash -c '[ "$1" != 0 ] && ! grep -q "is up" <<<"$2" && grep -q "port $3 .* in use" <<<"$2"' _ "$rc" "$out" "$P"
check "another server on the port still answers" port_answers "$P"
kill "$OTHER"; wait "$OTHER" 2>/dev/null

# Bound but not listening: berth-up's connect check passes and nginx's bind fails.
P=$(free_port)
python3 -c 'import socket, sys, time
s = socket.socket(); s.bind(("127.0.0.1", int(sys.argv[1]))); print("bound", flush=True); time.sleep(60)' "$P" >"$T/bound" &
HOLDER=$!
wait_for 5 grep -q bound "$T/bound"
out=$("$BERTH_UP" --instance "$INST-busy" "$T/busy.info:$P" 2>&1)
rc=$?
check "port bound by another process: non-zero exit ($rc), port named: $(tail -1 <<<"$out")" \
	bash -c '[ "$1" != 0 ] && grep -q "port $2 on 127.0.0.1 is already in use" <<<"$3"' _ "$rc" "$P" "$out"
check "nothing written to FILE" test ! -e "$T/busy.info"
kill "$HOLDER"; wait "$HOLDER" 2>/dev/null
sleep 0.5
check "after the busy-port failures no berth-fcgi of the instance runs" test -z "$(instance_procs "$INST-busy")"
check "and no berth-up of it either" test -z "$(pgrep -f -- "berth-up.*--instance $INST-busy")"

# The readiness probe is this run's: a FILE start reports the port its own nginx serves.
start_berth probe --instance "$INST-probe" || exit 1
req GET "$URL/api/v1/health"
expect "a FILE start serves on the port it wrote" 200 .status ok
check "berth-up says which auth and config are in force" \
	grep -q '^  auth:     none: every caller is an admin' "$T/up-probe.out"
check "  ... and which config" grep -q '^  config:   built in' "$T/up-probe.out"
stop_berth "$PID_probe"

# --- 2. Config errors, all of them, before dockerd -----------------------------------
printf 'docker = { socket = "%s/nowhere.sock"; };\nusers = { bob = "operater"; };\nbogus = 1;\n' "$T" >"$T/bad.conf"
out=$("$BERTH_FCGI" --config "$T/bad.conf" --state-dir "$T/cc" check-config 2>&1)
rc=$?
check "check-config: non-zero exit ($rc)" test "$rc" != 0
check "check-config: every error, file:line each: $(one "$out")" \
	bash -c 'grep -q "bad.conf:2: users.bob" <<<"$1" && grep -q "bad.conf:3: unknown setting \"bogus\"" <<<"$1"' _ "$out"
out=$("$BERTH_UP" --config "$T/bad.conf" "$T/never.info" 2>&1)
rc=$?
check "berth-up with a bad config: non-zero exit ($rc)" test "$rc" != 0
check "berth-up reports both errors as config errors: $(one "$out")" \
	bash -c 'grep -q "^berth-up: .*bad.conf:2: users.bob" <<<"$1" && grep -q "^berth-up: .*bad.conf:3: unknown setting" <<<"$1"' _ "$out"
check "... and never asks dockerd about it" bash -c '! grep -q "dockerd is not answering" <<<"$1"' _ "$out"
printf 'docker = { socket = "%s/nowhere.sock"; };\n' "$T" >"$T/nodocker.conf"
out=$("$BERTH_UP" --config "$T/nodocker.conf" "$T/never.info" 2>&1)
check "a good config with no dockerd: dockerd is named" grep -q "dockerd is not answering" <<<"$out"

# --- 3. SIGKILL --------------------------------------------------------------------
# up_parts UP_PID: sets SUP (the supervisor), RUN (berth-up's runtime directory), NGX (nginx master).
up_parts() {
	SUP=$(sup_pid "$1")
	RUN=$(dirname "$(readlink "/proc/$SUP/fd/2")")
	NGX=$(pgrep -f -- "nginx: master process .* -c $RUN/nginx.conf" | head -1)
}
nothing_left() { # nothing_left INSTANCE PORT RUN
	[ -z "$(instance_procs "$1")" ] && [ -z "$(pgrep -f -- "-c $3/nginx.conf")" ] &&
		! port_answers "$2" && [ -z "$(containers_of "$1")" ] && [ ! -e "$3" ]
}
start_berth k9 --instance "$INST-k9" --workers 2 || exit 1
up_parts "$PID_k9"
K9_PORT=${URL##*:}
req POST "$URL/api/v1/containers" "{\"name\":\"$INST-k9\",\"image\":\"$TEST_IMAGE\",\"command\":[\"sleep\",\"600\"]}"
expect "a container through the berth-up about to be killed" 201
check "it runs: supervisor $SUP, nginx $NGX, $(worker_pids "$PID_k9" | wc -l) workers" \
	test -n "$SUP" -a -n "$NGX" -a "$(worker_pids "$PID_k9" | wc -l)" -ge 2
kill -9 "$PID_k9"
if wait_for 15 nothing_left "$INST-k9" "$K9_PORT" "$RUN"; then
	ok "kill -9 berth-up: nginx, supervisor, workers gone, port closed, containers and $RUN removed"
else
	not_ok "kill -9 berth-up left: procs '$(instance_procs "$INST-k9" | tr '\n' ' ')' nginx '$(pgrep -f -- "-c $RUN/nginx.conf" | tr '\n' ' ')' containers '$(containers_of "$INST-k9" | tr '\n' ' ')'"
fi

# Its watchdog killed too: the supervisor still sees berth-up gone (--parent-fd)
# and the one documented command removes the containers.
start_berth k9b --instance "$INST-k9b" --workers 2 || exit 1
up_parts "$PID_k9b"
req POST "$URL/api/v1/containers" "{\"name\":\"$INST-k9b\",\"image\":\"$TEST_IMAGE\",\"command\":[\"sleep\",\"600\"]}"
expect "a container through the second one" 201
watchdog=$(pgrep -P "$PID_k9b" -x berth-up | head -1)
check "berth-up runs a watchdog ($watchdog)" test -n "$watchdog"
kill -9 "$watchdog" "$PID_k9b"
wait_for 10 bash -c '[ -z "$(pgrep -f -- "berth-fcgi.*--instance $1( |$)")" ]' _ "$INST-k9b"
check "watchdog killed too: the supervisor and workers stop by themselves" test -z "$(instance_procs "$INST-k9b")"
check "its container is still there before cleanup" test -n "$(containers_of "$INST-k9b")"
out=$("$BERTH_FCGI" --instance "$INST-k9b" --state-dir "$T/fp" cleanup 2>&1)
check "berth-fcgi --instance NAME cleanup removes what it left ($out)" test -z "$(containers_of "$INST-k9b")"
# The test's own leftovers (this nginx has nobody left to stop it).
[ -n "$NGX" ] && kill -QUIT "$NGX" 2>/dev/null
wait_for 5 bash -c '! kill -0 "$1" 2>/dev/null' _ "$NGX"
rm -rf "$RUN"

# --- 4. The state directory ----------------------------------------------------------
echo "victim, do not touch" >"$T/victim"
chmod 0644 "$T/victim"
victim_ok() { [ "$(cat "$T/victim")" = "victim, do not touch" ] && [ "$(stat -c %s "$T/victim")" = 21 ]; }
for f in metrics.shm audit.log; do
	S="$T/state-$f"
	mkdir -m 0700 "$S"
	ln -s "$T/victim" "$S/$f"
	out=$("$BERTH_UP" --state-dir "$S" --instance "$INST-sd" "$T/sd.info" 2>&1)
	rc=$?
	check "$f -> victim: berth-up refuses to start (exit $rc): $(grep -o "[^/]*$f is a symbolic link" <<<"$out")" \
		bash -c '[ "$1" != 0 ] && grep -q "$2 is a symbolic link" <<<"$3"' _ "$rc" "$f" "$out"
	check "$f -> victim: the victim is untouched" victim_ok
	check "$f -> victim: the link is still a link to it" test "$(readlink "$S/$f")" = "$T/victim"
done
for mode in 0777 0770 0702; do
	S="$T/state-$mode"
	mkdir "$S"
	chmod "$mode" "$S"
	out=$("$BERTH_UP" --state-dir "$S" "$T/sd.info" 2>&1)
	rc=$?
	check "state dir mode $mode: berth-up refuses (exit $rc): $out" \
		bash -c '[ "$1" != 0 ] && grep -q "writable by group or others" <<<"$2"' _ "$rc" "$out"
	out=$("$BERTH_FCGI" --state-dir "$S" check-config 2>&1)
	check "state dir mode $mode: berth-fcgi refuses too: $out" grep -q "writable by group or others" <<<"$out"
done
S="$T/state-other"
mkdir -m 0700 "$S"
chown nobody "$S"
out=$("$BERTH_FCGI" --state-dir "$S" check-config 2>&1)
check "state dir of another user refused: $out" grep -q "owned by uid $(id -u nobody)" <<<"$out"
ln -s "$T/state-probe" "$T/state-link"
mkdir -m 0700 "$T/state-probe"
out=$("$BERTH_UP" --state-dir "$T/state-link" "$T/sd.info" 2>&1)
check "state dir that is a symbolic link refused: $out" grep -q "symbolic link" <<<"$out"
rm -f "$T/state-link"

# Links planted in a directory berth-up accepts: a lock, the shutdown file, a record.
S="$T/state-run"
mkdir -m 0700 "$S"
start_berth sd --state-dir "$S" --instance "$INST-sd" || exit 1
req POST "$URL/api/v1/containers" "{\"name\":\"$INST-sd1\",\"image\":\"$TEST_IMAGE\",\"command\":[\"sleep\",\"600\"]}"
expect "a container, so the owner's lock file exists" 201
ID1=$(jqb .id)
lock=$(ls "$S/locks" | grep '^owner-' | head -1)
check "the create made a lock file ($lock)" test -n "$lock"
ln -sf "$T/victim" "$S/locks/$lock"
req POST "$URL/api/v1/containers" "{\"name\":\"$INST-sd2\",\"image\":\"$TEST_IMAGE\",\"command\":[\"sleep\",\"600\"]}"
check "a lock file planted as a link is refused: no create ($STATUS)" test "$STATUS" -ge 500
check "lock -> victim: the victim is untouched" victim_ok
rm -f "$S/locks/$lock"
printf '{"owner": "mallory", "id": "%s"}\n' "$ID1" >"$T/victim-record"
mv "$S/containers/$ID1.json" "$T/real-record"
ln -s "$T/victim-record" "$S/containers/$ID1.json"
cp "$T/victim-record" "$T/victim-record.orig"
req GET "$URL/api/v1/containers/$INST-sd1"
check "a record planted as a link is not read as the record ($STATUS: owner $(jqb .owner))" \
	test "$(jqb .owner)" != mallory
# The supervisor's own periodic reconcile may get there first: either one counts.
out=$("$BERTH_FCGI" --state-dir "$S" --instance "$INST-sd" --allow-root reconcile 2>&1)
log=$(readlink "/proc/$(sup_pid "$PID_sd")/fd/2")
check "reconcile refuses to read the record through the link" \
	grep -q "state_refused path=\"$S/containers/$ID1.json\" error=\"a symbolic link\"" <(echo "$out") "$log"
check "... rewrites it as a file of its own, the link's target untouched" \
	bash -c '[ -f "$1" ] && [ ! -L "$1" ] && cmp -s "$2" "$3"' _ "$S/containers/$ID1.json" "$T/victim-record" "$T/victim-record.orig"
ln -sf "$T/victim" "$S/shutdown.$INST-sd"
req GET "$URL/shutdown"
check "GET /shutdown with shutdown.$INST-sd -> victim: answered ($STATUS)" test "$STATUS" = 200
check "shutdown -> victim: the victim is untouched" victim_ok
check "the planted shutdown link is not taken as a stop request" kill -0 "$PID_sd"
check "berth's log names the refused lock and shutdown links" \
	bash -c 'grep -q "state_refused path=\"$2/locks/$3\"" "$1" && grep -q "state_refused path=\"$2/shutdown.$4\"" "$1"' \
	_ "$log" "$S" "$lock" "$INST-sd"
stop_berth "$PID_sd"
check "metrics.shm and audit.log of that run are plain files" \
	test -f "$S/metrics.shm" -a ! -L "$S/metrics.shm" -a -f "$S/audit.log" -a ! -L "$S/audit.log"
check "berth-up left the state directory its caller's: mode $(stat -c %a "$S"), group $(stat -c %G "$S")" \
	test "$(stat -c %a:%g "$S")" = "700:0"
docker ps -aq --filter "name=^/$INST-sd[12]\." | xargs -r docker rm -f >/dev/null 2>&1

# --- 5. Host names and the 401 ---------------------------------------------------------
{ htpasswd_line alice apw; } >"$T/htpasswd"
printf 'users = { alice = "admin"; };\npolicy = { admin = { images = [ "*" ]; }; };\n' >"$T/auth.conf"
start_berth plain --instance "$INST-dns" || exit 1
PORT=${URL##*:}
body="{\"name\":\"$INST-rebind\",\"image\":\"$TEST_IMAGE\",\"command\":[\"sleep\",\"600\"]}"
req POST "$URL/api/v1/containers" "$body" -H 'Host: attacker.example' -H 'Origin: http://attacker.example'
expect "Host attacker.example with a matching Origin: refused" 421 .error.code misdirected_request
req POST "$URL/api/v1/containers" "$body" -H "Host: attacker.example:$PORT" -H "Origin: http://attacker.example:$PORT"
expect "... with the port in Host and Origin too" 421 .error.code misdirected_request
req POST "$URL/start_container" '{"image": "server"}' -H 'Host: attacker.example'
expect "... on the seed routes too" 421
check "nothing was created" test -z "$(DK_INST=$INST-dns dk "$INST-rebind")"
for h in "127.0.0.1:$PORT" "localhost:$PORT" "[::1]:$PORT"; do
	req GET "$URL/api/v1/whoami" "" -H "Host: $h"
	expect "Host $h is served" 200 .role admin
done
req GET "$URL/" "" -H "Host: rebind.example"
expect "the dashboard is refused under another name too" 421
stop_berth "$PID_plain"

start_berth auth --config "$T/auth.conf" --htpasswd "$T/htpasswd" --instance "$INST-auth" || exit 1
req GET "$URL/api/v1/whoami"
expect "no credentials: 401 JSON" 401 .error.code unauthenticated
check "exactly one WWW-Authenticate ($(grep -ci '^WWW-Authenticate:' <<<"$HDRS"))" \
	test "$(grep -ci '^WWW-Authenticate: Basic' <<<"$HDRS")" = 1
req GET "$URL/api/v1/whoami" "" -u alice:wrong
check "wrong password: exactly one WWW-Authenticate too" test "$(grep -ci '^WWW-Authenticate:' <<<"$HDRS")" = 1
req GET "$URL/api/v1/whoami" "" -u alice:apw
expect "right password: alice" 200 .user alice
check "berth-up says basic auth is on" grep -q "^  auth:     basic, users from $T/htpasswd" "$T/up-auth.out"
stop_berth "$PID_auth"

finish
