#!/bin/bash
# Tenancy (issue 18) through real nginx -> berth-fcgi -> dockerd: two
# operators with the same names at once (containers, services, seed 000's
# server and its leases), two berth-up instances on one dockerd, id-prefix
# oracles, groups, quotas that add up (counts, memory sums, replicas, a race
# for the last slot) and whoami's usage, and that nothing bob is shown names
# alice's objects.  tests/integ/matrix.sh covers every route x role x owner.
. "$(dirname "$0")/../lib.sh"

INST="t-ten-$$"
IMG=berth-test/busybox:1
# The same spec for everybody; the hostname (the id's first 12 digits) says whose it is.
SPEC="{\"name\":\"web\",\"image\":\"$IMG\",\"command\":[\"sh\",\"-c\",\"hostname; exec sleep 600\"]}"
SVC_CMD='["sh","-c","trap \"exit 0\" TERM; while :; do sleep 1; done"]'
cat >"$T/berth.conf" <<CONF
users = { root = "admin"; alice = "operator"; bob = "operator"; carol = "operator";
          quinn = "operator"; vic = "viewer"; };
groups = { devs = { members = [ "alice", "carol" ]; quota = { containers = 2; }; }; };
policy = {
  operator = { images = [ "berth-test/*" ]; memory = "32m"; memory_max = "1g";
               quota = { containers = 5; memory = "1536m"; replicas = 1; }; };
  admin = { images = [ "*" ]; };
};
@include "$SRC_DIR/conf/default-catalog.conf"
CONF
for u in root alice bob carol quinn vic; do htpasswd_line "$u" "$u"; done >"$T/htpasswd"
mkdir -p "$T/state" "$T/state-b"
start_berth main --config "$T/berth.conf" --htpasswd "$T/htpasswd" --state-dir "$T/state" \
	--instance "$INST" || exit 1
API="$URL/api/v1" SEED="$URL"

# as USER METHOD URL [BODY]: req as USER (password = name); every answer is kept
# in $T/seen.USER, so the end of the suite can look for what leaked into it.
as() {
	local u=$1; shift
	req "$1" "$2" "${3-}" -u "$u:$u"
	printf '%s\n%s\n' "$HDRS" "$BODY" >>"$T/seen.$u"
}
# at_once URL BODY USER...: one POST per user, all at once; codes in $T/once.USER, bodies in $T/once.USER.body.
at_once() {
	local url=$1 body=$2 u; shift 2
	for u in "$@"; do
		curl -s -o "$T/once.$u.body" -w '%{http_code}' -u "$u:$u" -XPOST \
			-H 'Content-Type: application/json' --data-binary "$body" "$url" >"$T/once.$u" &
	done
	wait
	for u in "$@"; do cat "$T/once.$u.body" >>"$T/seen.$u"; done
}
once() { cat "$T/once.$1"; }           # once USER: the status at_once got
onceq() { jq -r "$2" "$T/once.$1.body"; } # onceq USER FILTER
running_of() { docker inspect -f '{{.State.Running}}' "$1" 2>/dev/null; }

# --- 1. the same container name, two owners, at once ----------------------------
echo "(section 1 at ${SECONDS}s)"
at_once "$API/containers" "$SPEC" alice bob
check "alice and bob create web at once: both 201 ($(once alice) $(once bob))" test "$(once alice)$(once bob)" = 201201
AW=$(onceq alice .id) BW=$(onceq bob .id)
check "two containers, each its creator's" test -n "$AW" -a -n "$BW" -a "$AW" != "$BW" -a \
	"$(onceq alice .owner)$(onceq bob .owner)" = alicebob
check "both show the name given" test "$(onceq alice .name)$(onceq bob .name)" = webweb
check "Docker names differ and neither is the bare name" bash -c \
	'[ "$1" != "$2" ] && [ "$1" != /web ] && [ "$2" != /web ]' _ \
	"$(docker inspect -f '{{.Name}}' "$AW")" "$(docker inspect -f '{{.Name}}' "$BW")"
for u in alice bob; do
	[ $u = alice ] && mine=$AW || mine=$BW
	as $u GET "$API/containers/web"
	expect "$u GET web: their own" 200 .id "$mine"
	as $u GET "$API/containers"
	expect "$u's list: only theirs" 200 '[.containers[].id] | join(" ")' "$mine"
	wait_for 10 bash -c '[ -n "$(curl -s -u "$1:$1" "$2/containers/web/logs")" ]' _ $u "$API"
	as $u GET "$API/containers/web/logs"
	check "$u's logs are their container's (hostname ${mine:0:12})" test "$(printf '%s' "$BODY" | tr -d '\r')" = "${mine:0:12}"
	as $u POST "$API/containers/web/exec" '{"command":["hostname"]}'
	expect "$u's exec runs in their own" 200 .stdout "${mine:0:12}"
done
as bob POST "$API/containers" "$SPEC"
expect "bob creates web again: 200, his own again (no 409)" 200 .id "$BW"
as root GET "$API/containers"
expect "admin sees both webs" 200 '[.containers[] | select(.name == "web") | .owner] | sort | join(",")' alice,bob
check "admin sees two Docker names" test "$(jqb '[.containers[] | select(.name == "web") | .docker_name] | unique | length')" = 2
AW_DN=$(jqb '.containers[] | select(.id == "'"$AW"'") | .docker_name')
as root GET "$API/containers/web"
expect "admin GET by the bare name: 409 asking for an id" 409 '.error.message | test("id")' true
as root GET "$API/containers/$AW_DN"
expect "admin GET by the Docker name" 200 .owner alice
as bob POST "$API/containers/web/stop?timeout=1"
expect "bob stops web: his own" 200 .id "$BW"
check "alice's web still runs" test "$(running_of "$AW")" = true
as bob DELETE "$API/containers/web?force=1"
expect "bob deletes web: his own" 204
check "alice's web is still there" test "$(running_of "$AW")" = true
as alice GET "$API/containers/web"
expect "alice still reads hers" 200 .id "$AW"

# --- 2. existence oracles --------------------------------------------------------
echo "(section 2 at ${SECONDS}s)"
P4=${AW:0:4}
as bob POST "$API/containers" "{\"name\":\"$P4\",\"image\":\"$IMG\",\"command\":[\"sleep\",\"600\"],\"start\":false}"
expect "bob names a container like the start of alice's id: 201, his own" 201 .owner bob
BP=$(jqb .id)
as bob GET "$API/containers/$P4"
expect "... and that name finds his" 200 .id "$BP"
# Bob's probes of alice's id, id prefix and Docker name answer as a made-up one
# would: the message only echoes what he asked (so they stay out of $T/seen.bob).
for ref in "$AW" "${AW:0:12}" "$AW_DN"; do
	req GET "$API/containers/$ref" "" -u bob:bob
	expect "bob GET alice's ${ref:0:16}...: 404 saying only 'no such container'" 404 .error.message "no such container: $ref"
done
as bob DELETE "$API/containers/$P4"
expect "bob removes his" 204

# --- 3. the same service name, two owners ---------------------------------------
echo "(section 3 at ${SECONDS}s)"
SVC="{\"name\":\"api\",\"image\":\"$IMG\",\"command\":$SVC_CMD}"
at_once "$API/services" "$SVC" alice bob
check "alice and bob define api at once: both 201 ($(once alice) $(once bob))" test "$(once alice)$(once bob)" = 201201
check "each their own key" test "$(onceq alice .key)" != "$(onceq bob .key)" -a "$(onceq alice .owner)$(onceq bob .owner)" = alicebob
AKEY=$(onceq alice .key)
at_once "$API/services/api/scale" '{"number":1}' alice bob
check "both scale api to 1 ($(once alice) $(once bob))" test "$(once alice)$(once bob)" = 200200
check "... each running one" test "$(onceq alice .running_resources)$(onceq bob .running_resources)" = 11
for u in alice bob; do
	as $u GET "$API/services"
	expect "$u's services list: api, theirs" 200 '[to_entries[] | select(.value.source != "config") | "\(.key)=\(.value.owner)"] | join(" ")' "api=$u"
	as $u GET "$API/services/api/status"
	expect "$u's api status: one running" 200 .running_resources 1
done
as root GET "$API/services/api"
expect "admin naming api: 409 asks for the key" 409 .error.code conflict
as root GET "$API/services/$AKEY"
expect "admin reads alice's by key" 200 .owner alice
as bob DELETE "$API/services/api"
expect "bob deletes his api" 204
as alice GET "$API/services/api/status"
expect "alice's api still runs" 200 .running_resources 1
as alice DELETE "$API/services/api"
expect "alice deletes hers" 204

# --- 4. seed 000's server, two owners, and their leases -------------------------
echo "(section 4 at ${SECONDS}s)"
at_once "$SEED/start_container" '{"image":"server","lock":true}' alice bob
check "alice and bob start server (locked) at once: both 200 ($(once alice) $(once bob))" test "$(once alice)$(once bob)" = 200200
AS=$(onceq alice .container_id) BS=$(onceq bob .container_id)
check "two server containers" test -n "$AS" -a -n "$BS" -a "$AS" != "$BS"
check "each holds its own lease (bob did not wait for alice's)" test "$(onceq alice .just_created)$(onceq bob .just_created)" = truetrue
as bob POST "$SEED/unlock_container" '{"image":"server"}'
expect "bob unlocks server: 204" 204
curl -s -o "$T/alice2" -w '%{http_code}' -u alice:alice -XPOST -H 'Content-Type: application/json' \
	-d '{"image":"server","lock":true}' "$SEED/start_container" >"$T/alice2.code" &
waiter=$!
sleep 2
check "bob's unlock did not release alice's lease (her next locked start waits)" kill -0 "$waiter"
as bob POST "$SEED/start_container" '{"image":"server","lock":true}'
expect "bob's own lease was released: his locked start answers at once" 200 .container_id "$BS"
as alice POST "$SEED/unlock_container" '{"image":"server"}'
expect "alice unlocks" 204
wait_for 10 bash -c "! kill -0 $waiter 2>/dev/null"
check "... and her waiting start gets her container" test "$(cat "$T/alice2.code")|$(jq -r .container_id "$T/alice2")" = "200|$AS"

# Lease waits hold no worker (issue 19): more locked starts than berth-up's 4
# workers queue behind alice's lease (her waiting start above holds it now) in
# the relay; health and her own unlock are served meanwhile, each unlock lets
# the next waiter in, in queue order, and a waiter that hangs up gives its
# place up.  Each waiter is bounded in time (curl --max-time).
q_start() { # q_start N MAX_TIME: alice's locked start N in the background
	curl -s -o "$T/q$1" -w '%{http_code}' -u alice:alice -XPOST --max-time "$2" \
		-H 'Content-Type: application/json' -d '{"image":"server","lock":true}' \
		"$SEED/start_container" >"$T/q$1.code" &
	QPID[$1]=$!
	sleep 0.3 # so the queue order is the order of N
}
q_waiting() { for n in "$@"; do kill -0 "${QPID[$n]}" 2>/dev/null || return 1; done; }
q_next() { # q_next N STILL...: alice unlocks; waiter N gets her server, STILL go on waiting
	local n=$1; shift
	as alice POST "$SEED/unlock_container" '{"image":"server"}'
	expect "alice unlocks while waiters hold the relay: 204" 204
	wait_for 10 bash -c "! kill -0 ${QPID[$n]} 2>/dev/null"
	check "... waiter $n gets the lease next: her server ($(cat "$T/q$n.code"))" \
		test "$(cat "$T/q$n.code")|$(jq -r .container_id "$T/q$n" 2>/dev/null)" = "200|$AS"
	[ $# -eq 0 ] || check "... waiters $* still wait" q_waiting "$@"
}
QPID=()
for n in 1 2 3; do q_start $n 60; done
q_start 4 3 # hangs up after 3 s, still queued
for n in 5 6; do q_start $n 60; done
check "six locked starts wait behind alice's lease (more than the 4 workers)" q_waiting 1 2 3 4 5 6
t0=$(date +%s%N)
as alice GET "$API/health"
expect "health answers while they wait" 200
check "... at once ($((($(date +%s%N) - t0) / 1000000)) ms)" test $(($(date +%s%N) - t0)) -lt 2000000000
q_next 1 2 3 5 6
wait "${QPID[4]}"
check "waiter 4 hung up while queued (curl gave up: $(cat "$T/q4.code"))" test "$(cat "$T/q4.code")" = 000
q_next 2 3 5 6
q_next 3 5 6
q_next 5 6 # 4 left: its place was given up
q_next 6
as alice POST "$SEED/unlock_container" '{"image":"server"}'
check "nothing is left queued or held in alice's lease" \
	jq -se 'length == 1 and all(.[]; .held == false and .serving == .next)' "$T"/state/leases/server.alice.*.json
check "the six starts that queued (her earlier one too) are audited as resumed, the one that left is not" \
	wait_for 5 bash -c '[ "$(jq -s "[.[] | select(.user == \"alice\" and .lease == \"resumed\" and .result == \"ok\")] | length" "$1")" = 6 ]' _ "$T/state/audit.log"
check "no saved start is left over" bash -c '! ls "$1"/state/resumes/*.json 2>/dev/null | grep -q .' _ "$T"
as alice POST "$SEED/start_container" '{"image":"server","lock":true}'
expect "her next locked start answers at once" 200 .container_id "$AS"
as alice GET "$SEED/.berth-resume/0123456789abcdef0123456789abcdef"
expect "the resume location is internal: asked for from outside it is a 404" 404
as alice POST "$SEED/unlock_container" '{"image":"server"}'
as bob POST "$SEED/unlock_container" '{"image":"server"}'
as bob POST "$SEED/stop_container" '{"image":"server"}'
expect "bob stops server: 204" 204
check "bob's server gone, alice's still runs" test -z "$(docker ps -aq --filter id="$BS")" -a "$(running_of "$AS")" = true

# --- 5. two berth-up instances on one dockerd both serve seed 000 ---------------
echo "(section 5 at ${SECONDS}s)"
start_berth second --config "$T/berth.conf" --htpasswd "$T/htpasswd" --state-dir "$T/state-b" \
	--instance "$INST-b" || exit 1
at_once "$URL_second/start_container" '{"image":"server"}' alice
check "the second instance serves alice's server ($(once alice))" test "$(once alice)" = 200
AS2=$(onceq alice .container_id)
check "... its own container beside the first instance's" test -n "$AS2" -a "$AS2" != "$AS" -a \
	"$(running_of "$AS")$(running_of "$AS2")" = truetrue
stop_berth "$PID_second"
wait_for 20 test -z "$(docker ps -aq --filter id="$AS2")"
check "stopping the second instance removed its container and left the first's" \
	test -z "$(docker ps -aq --filter id="$AS2")" -a "$(running_of "$AS")" = true
as alice POST "$SEED/stop_container" '{"image":"server"}'

# --- 6. groups -------------------------------------------------------------------
echo "(section 6 at ${SECONDS}s)"
G1="{\"name\":\"shared\",\"image\":\"$IMG\",\"command\":[\"sleep\",\"600\"],\"owner\":\"@devs\"}"
as alice POST "$API/containers" "$G1"
expect "alice creates shared for @devs" 201 .owner @devs
GS=$(jqb .id)
as carol GET "$API/containers/shared"
expect "carol (a member) sees it by name" 200 .id "$GS"
as carol GET "$API/containers"
expect "carol's list has it" 200 "[.containers[].id] | index(\"$GS\") != null" true
as vic GET "$API/containers"
expect "the viewer's list is empty" 200 '.containers | length' 0
as bob GET "$API/containers/shared"
expect "bob (not a member) gets 404" 404
req GET "$API/containers/$GS" "" -u bob:bob
expect "... by id too, as for an id that names nothing" 404 .error.message "no such container: $GS"
as bob POST "$API/containers" "${G1/shared/bobs}"
expect "bob creating for @devs: 403" 403 .error.field owner
check "... nothing created" test -z "$(dk bobs)"
as carol POST "$API/containers/shared/stop?timeout=1"
expect "carol stops it" 200 .running false
G2=${G1/\}/,\"start\":false\}}
as carol POST "$API/containers" "${G2/shared/shared2}"
expect "carol creates a second @devs container" 201 .owner @devs
as alice POST "$API/containers" "${G2/shared/shared3}"
expect "the group's quota (2 containers): the third 403" 403 '.error.message | test("quota.*containers")' true
check "... nothing created" test -z "$(dk shared3)"
as alice GET "$API/whoami"
expect "whoami: alice's groups with their usage" 200 \
	'.groups[] | select(.name == "@devs") | "\(.usage.containers.used)/\(.usage.containers.limit)"' 2/2
check "whoami: alice's own usage (web)" test "$(jqb .usage.containers.used)" = 1
as alice DELETE "$API/containers/shared?force=1"
expect "alice removes shared" 204
as carol DELETE "$API/containers/shared2?force=1"
expect "carol removes shared2" 204

# --- 7. quotas that add up (quinn: 5 containers, 1536m memory, 1 replica) --------
echo "(section 7 at ${SECONDS}s)"
Q=()
for i in 1 2 3 4 5; do
	as quinn POST "$API/containers" "{\"name\":\"q$i\",\"image\":\"$IMG\",\"command\":[\"sleep\",\"600\"],\"start\":false}"
	Q+=("$STATUS")
done
check "quota of 5 containers: five 201 (${Q[*]})" test "${Q[*]}" = "201 201 201 201 201"
as quinn POST "$API/containers" "{\"name\":\"q6\",\"image\":\"$IMG\",\"command\":[\"sleep\",\"600\"],\"start\":false}"
expect "the sixth: 403" 403 .error.code forbidden
check "... its message names the quota" bash -c 'grep -q "^quota: .*containers.*quota is 5" <<<"$1"' _ "$(jqb .error.message)"
as quinn GET "$API/whoami"
expect "whoami: 5 of 5 containers" 200 '"\(.usage.containers.used)/\(.usage.containers.limit)"' 5/5
check "whoami: memory summed (5 x 32m)" test "$(jqb .usage.memory.used)" = $((5 * 32 << 20))
as quinn DELETE "$API/containers/q5?force=1"
expect "quinn frees one slot" 204
for i in $(seq 1 20); do
	curl -s -o /dev/null -w '%{http_code}\n' -u quinn:quinn -XPOST -H 'Content-Type: application/json' \
		-d "{\"name\":\"race$i\",\"image\":\"$IMG\",\"command\":[\"sleep\",\"600\"],\"start\":false}" \
		"$API/containers" >"$T/race$i" &
done
wait
codes=$(cat "$T"/race* | sort | uniq -c | awk '{print $2 "x" $1}' | tr '\n' ' ')
check "20 concurrent creates for the last slot: exactly one 201, the rest 403 ($codes)" \
	test "$(cat "$T"/race* | grep -c '^201$')|$(cat "$T"/race* | grep -c '^403$')" = "1|19"
check "... and dockerd holds exactly 5 of quinn's containers" \
	test "$(docker ps -aq --filter label=berth.instance="$INST" --filter label=berth.owner=quinn | wc -l)" = 5
as quinn GET "$API/whoami"
expect "whoami agrees: 5 of 5" 200 .usage.containers.used 5
for id in $(docker ps -aq --filter label=berth.instance="$INST" --filter label=berth.owner=quinn); do
	curl -s -o /dev/null -u quinn:quinn -XDELETE "$API/containers/$id?force=1" &
done
wait
as quinn GET "$API/whoami"
expect "whoami after removing them: 0" 200 .usage.containers.used 0
as quinn POST "$API/containers" "{\"name\":\"m1\",\"image\":\"$IMG\",\"command\":[\"sleep\",\"600\"],\"memory\":\"1g\",\"start\":false}"
expect "memory: the first 1g container under a 1536m quota" 201
as quinn POST "$API/containers" "{\"name\":\"m2\",\"image\":\"$IMG\",\"command\":[\"sleep\",\"600\"],\"memory\":\"1g\",\"start\":false}"
expect "memory: the second 1g: 403" 403 '.error.message | test("quota.*memory")' true
check "... nothing created" test -z "$(dk m2)"
as quinn DELETE "$API/containers/m1"
expect "quinn removes m1" 204
as quinn POST "$API/services" "{\"name\":\"r1\",\"image\":\"$IMG\",\"command\":$SVC_CMD}"
as quinn POST "$API/services" "{\"name\":\"r2\",\"image\":\"$IMG\",\"command\":$SVC_CMD}"
as quinn POST "$API/services/r1/scale" '{"number":2}'
expect "replicas: 2 of a quota of 1: 403" 403 '.error.message | test("quota.*replicas")' true
as quinn POST "$API/services/r1/scale" '{"number":1}'
expect "replicas: 1 fits" 200 .running_resources 1
as quinn POST "$API/services/r2/scale" '{"number":1}'
expect "replicas add up over services: one for r2 is 403" 403 '.error.message | test("quota.*replicas")' true
as quinn GET "$API/whoami"
expect "whoami: 1 of 1 replicas" 200 '"\(.usage.replicas.used)/\(.usage.replicas.limit)"' 1/1
as quinn POST "$API/services/r1/scale" '{"number":0}'
as quinn POST "$API/services/r2/scale" '{"number":1}'
expect "after r1 scales down, r2 gets its replica" 200 .running_resources 1
for s in r1 r2; do as quinn DELETE "$API/services/$s"; done

# --- 8. audit and metrics name no other tenant's objects ------------------------
echo "(section 8 at ${SECONDS}s)"
as bob GET "$API/audit"
expect "bob may not read the audit log" 403
as root GET "$API/audit?limit=1000"
expect "the admin's audit log has alice's actions" 200 '[.entries[] | tostring | test("alice")] | any' true
as bob GET "$URL_main/metrics"
check "metrics answer ($STATUS)" test "$STATUS" = 200
check "metrics name nobody's objects (no user, name or id)" bash -c \
	'! grep -qiE "alice|bob|quinn|shared|race|$1|$2" <<<"$3"' _ "${AW:0:12}" "$AW_DN" "$BODY"
# leak NAME PATTERN FILE: no line of FILE matches PATTERN (the first few that do are shown).
leak() {
	if grep -qiE "$2" "$3"; then
		not_ok "$1"
		grep -iE "$2" "$3" | head -3 | cut -c1-300 | sed 's/^/# leak: /'
	else
		ok "$1"
	fi
}
leak "nothing bob was shown names alice or her objects" "alice|${AW:0:12}|${AS:0:12}|${GS:0:12}" "$T/seen.bob"
leak "nothing alice was shown names bob or his objects" "bob|${BW:0:12}|${BS:0:12}" "$T/seen.alice"
leak "nothing the viewer was shown names anyone else" "alice|bob|carol" "$T/seen.vic"

echo "(clean-up at ${SECONDS}s)"
# --- clean up: everything of both instances, by their labels ---------------------
as alice DELETE "$API/containers/web?force=1"
for i in "$INST" "$INST-b"; do
	docker ps -aq --filter label=berth.instance="$i" | xargs -r docker rm -f >/dev/null
done
finish
