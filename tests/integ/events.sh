#!/bin/bash
# GET /api/v1/events (issue 19) through real nginx -> berth-fcgi -> relay ->
# dockerd: each caller's stream carries its own objects' events under their
# berth names and nothing of another tenant's, admins see everyone's, ?types=
# picks kinds, Last-Event-ID resumes after an id, bad input is a 400 naming
# the field, and streams outlast any worker (more streams than workers, held
# past a keepalive, while the API still answers).  About a minute.
. "$(dirname "$0")/../lib.sh"

INST="t-ev-$$"
IMG=$TEST_IMAGE
cat >"$T/berth.conf" <<CONF
users = { root = "admin"; alice = "operator"; bob = "operator"; carol = "viewer"; };
streams = { per_user = 6; };
policy = {
  operator = { images = [ "berth-test/*" ]; memory = "32m"; };
  admin = { images = [ "*" ]; };
};
CONF
for u in root alice bob carol; do htpasswd_line "$u" "$u"; done >"$T/htpasswd"
mkdir -p "$T/state"
start_berth main --workers 2 --config "$T/berth.conf" --htpasswd "$T/htpasswd" \
	--state-dir "$T/state" --instance "$INST" || exit 1
API="$URL/api/v1"
spec() { printf '{"name":"%s","image":"%s","command":["sleep","600"]}' "$1" "$IMG"; }
as() { local u=$1; shift; req "$1" "$2" "${3-}" -u "$u:$u"; }

# listen NAME USER SECONDS [QUERY] [curl args...]: a stream in the background into $T/ev.NAME.
listen() {
	local name=$1 u=$2 secs=$3 q=${4-}
	shift 3; [ $# -gt 0 ] && shift
	curl -sN -u "$u:$u" --max-time "$secs" -D "$T/ev.$name.hdrs" "$@" "$API/events$q" >"$T/ev.$name" 2>/dev/null &
}
opened() { grep -q '^retry: 2000' "$T/ev.$1" 2>/dev/null; }
# the data lines of stream NAME as one JSON array
events() { sed -n 's/^data: //p' "$T/ev.$1" | jq -s -c .; }
has() { # has NAME JQ-SELECT: stream NAME has an event matching
	[ "$(events "$1" | jq "[.[] | select($2)] | length")" -gt 0 ]
}
export -f events has
export T

# --- 1. who sees what -----------------------------------------------------------
echo "(section 1 at ${SECONDS}s)"
listen alice alice 90
listen bob bob 90
listen root root 90
listen avol alice 90 '?types=volume,network'
check "the four streams open (retry: 2000 first)" wait_for 10 bash -c \
	'for n in alice bob root avol; do grep -q "^retry: 2000" "$1/ev.$n" || exit 1; done' _ "$T"
check "the stream is text/event-stream" grep -qi '^content-type: text/event-stream' "$T/ev.alice.hdrs"
as alice POST "$API/containers" "$(spec evweb)"
expect "alice creates evweb" 201
AID=$(jqb .id)
as bob POST "$API/containers" "$(spec bobweb)"
expect "bob creates bobweb" 201
BID=$(jqb .id)
as alice POST "$API/containers/evweb/stop"
expect "alice stops evweb" 200 .running false
as alice DELETE "$API/containers/evweb?force=1"
check "alice removes evweb" test "${STATUS:0:1}" = 2
as alice POST "$API/volumes" '{"name":"evvol"}'
check "alice creates volume evvol ($STATUS)" test "${STATUS:0:1}" = 2
as alice POST "$API/networks" '{"name":"evnet"}'
check "alice creates network evnet ($STATUS)" test "${STATUS:0:1}" = 2
for a in create start die destroy; do
	check "alice's stream: evweb $a, by its berth name" wait_for 5 has alice \
		".type == \"container\" and .action == \"$a\" and .name == \"evweb\" and .id == \"$AID\""
done
check "alice's events come as event: container with an id: line" \
	grep -q '^event: container' "$T/ev.alice"
check "admin's stream: alice's evweb and bob's bobweb" wait_for 5 bash -c \
	'[ "$(sed -n "s/^data: //p" "$1" | jq -s "[.[] | select(.type == \"container\" and .action == \"create\") | .owner + \"/\" + .name] | unique | join(\",\")")" = "\"alice/evweb,bob/bobweb\"" ]' _ "$T/ev.root"
check "bob's stream: his bobweb" wait_for 5 has bob '.name == "bobweb" and .action == "create"'
check "bob's stream: nothing of alice's" test "$(events bob | jq '[.[] | select(.owner != "bob")] | length')" = 0
check "bob's stream never names alice's objects" bash -c '! grep -qE "alice|evweb|evvol|evnet|${1:0:12}" "$2"' _ "$AID" "$T/ev.bob"
check "alice's stream never names bob's" bash -c '! grep -qE "bob|${1:0:12}" "$2"' _ "$BID" "$T/ev.alice"
check "volume evvol by its berth name, to alice" wait_for 5 has alice '.type == "volume" and .name == "evvol" and .action == "create"'
check "network evnet by its berth name, to alice" wait_for 5 has alice '.type == "network" and .name == "evnet" and .action == "create"'
check "admin sees alice's volume too" wait_for 5 has root '.type == "volume" and .name == "evvol"'

# --- 2. types ---------------------------------------------------------------------
echo "(section 2 at ${SECONDS}s)"
check "?types=volume,network: the volume and the network" wait_for 5 bash -c \
	'has avol ".type == \"volume\" and .name == \"evvol\"" && has avol ".type == \"network\" and .name == \"evnet\""'

check "?types=volume,network: no container events" test "$(events avol | jq '[.[] | select(.type == "container")] | length')" = 0
as alice GET "$API/events?types=container,bogus"
expect "?types= naming no kind: 400" 400 .error.field types
as alice GET "$API/events?types=container,"
expect "?types= with an empty item: 400" 400 .error.field types
req GET "$API/events" '' -u alice:alice -H 'Last-Event-ID: 12ab'
expect "a Last-Event-ID that is no id: 400" 400 .error.field Last-Event-ID
as alice GET "$API/events?since_id=-1"
expect "since_id below 0: 400" 400 .error.field since_id
as alice GET "$API/events?types=container&bogus=1"
expect "an unknown parameter: 400" 400

# --- 3. resume ----------------------------------------------------------------------
echo "(section 3 at ${SECONDS}s)"
# the id of evweb's start: a resume after it gets die and destroy, not create or start
SID=$(grep -B2 "\"action\": *\"start\".*\"name\": *\"evweb\"" "$T/ev.alice" | sed -n 's/^id: //p' | head -1)
check "evweb's start has an id ($SID)" test -n "$SID"
curl -sN -u alice:alice --max-time 2 -H "Last-Event-ID: $SID" "$API/events?types=container" >"$T/ev.resume" 2>/dev/null
check "Last-Event-ID: evweb's die and destroy come again" bash -c \
	'grep -q "\"action\": *\"die\".*evweb" "$1" && grep -q "\"action\": *\"destroy\".*evweb" "$1"' _ "$T/ev.resume"
check "Last-Event-ID: not its create, nor the start itself" bash -c \
	'! grep -qE "\"action\": *\"(create|start)\".*evweb" "$1"' _ "$T/ev.resume"
check "every resumed id is after it" bash -c \
	'for i in $(sed -n "s/^id: //p" "$1"); do [ "$i" -gt "$2" ] || exit 1; done' _ "$T/ev.resume" "$SID"
curl -sN -u alice:alice --max-time 2 "$API/events?types=container&since_id=$SID" >"$T/ev.since" 2>/dev/null
check "?since_id= resumes the same way" bash -c \
	'grep -q "\"action\": *\"destroy\".*evweb" "$1" && ! grep -qE "\"action\": *\"(create|start)\".*evweb" "$1"' _ "$T/ev.since"
curl -sN -u bob:bob --max-time 2 -H "Last-Event-ID: $SID" "$API/events" >"$T/ev.bresume" 2>/dev/null
check "bob resuming from alice's id still sees none of hers" bash -c '! grep -qE "alice|evweb|evvol|evnet" "$1"' _ "$T/ev.bresume"

# --- 4. streams outlast workers -------------------------------------------------------
echo "(section 4 at ${SECONDS}s)"
# Two workers; seven streams held (the four above and three more): the API still answers.
listen x1 bob 30 '?types=job'
listen x2 bob 30 '?types=service'
listen x3 root 30 '?types=build'
check "three more streams open (7 held, 2 workers)" wait_for 10 bash -c \
	'for n in x1 x2 x3; do grep -q "^retry: 2000" "$1/ev.$n" || exit 1; done' _ "$T"
as bob GET "$API/health"
expect "health answers while 7 streams are held by 2 workers" 200
as bob GET "$API/containers"
expect "a list answers too" 200
# held past the 15 s keepalive (the first streams opened at the start): still live after
check "a keepalive comment on a quiet stream (every 15 s)" wait_for 20 grep -q '^: keepalive' "$T/ev.bob"
as bob DELETE "$API/containers/bobweb?force=1"
check "the first streams, ${SECONDS}s old, still carry new events" wait_for 5 has bob \
	'.name == "bobweb" and .action == "destroy"'
check "the volume filter, still open, carries the removal too" bash -c \
	'curl -s -o /dev/null -u alice:alice -XDELETE "$1/volumes/evvol"; sleep 1; grep -q "\"action\": *\"destroy\".*evvol" "$2"' _ "$API" "$T/ev.avol"
as alice DELETE "$API/networks/evnet"

# --- 5. a client that leaves frees its slot ------------------------------------------------
echo "(section 5 at ${SECONDS}s)"
for i in 1 2 3 4 5 6 7 8; do
	curl -sN -u carol:carol --max-time 1 "$API/events" >/dev/null 2>&1
done
for i in 1 2 3 4 5 6; do listen c$i carol 20; done
check "eight streams left, then six at once (per_user = 6): every slot was given back" wait_for 10 bash -c \
	'for n in 1 2 3 4 5 6; do grep -q "^retry: 2000" "$1/ev.c$n" || exit 1; done' _ "$T"
req GET "$API/events" '' -u carol:carol --max-time 3
expect "a seventh is refused: 429 naming the cap" 429 .error.field streams.per_user

echo "(clean-up at ${SECONDS}s)"
docker ps -aq --filter label=berth.instance="$INST" | xargs -r docker rm -f >/dev/null
stop_jobs
finish
