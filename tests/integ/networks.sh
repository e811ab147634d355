#!/bin/bash
# Networks and isolation by default (issue 18) through real nginx -> berth-fcgi
# -> dockerd: each owner's containers on the owner's own network, so another
# tenant's container cannot reach their unpublished ports while their own
# containers reach each other by name; /api/v1/networks owned like
# containers (404 for another's, endpoints filtered), bridge driver only,
# subnets from the pool, quota, one default network under concurrent creates.
. "$(dirname "$0")/../lib.sh"

INST="t-net-$$"
SHARED="$INST-shared"
cat >"$T/berth.conf" <<CONF
mode = "engine";
users = { alice = "operator"; bob = "operator"; carol = "operator"; root = "admin"; };
network_pool = { subnet = "10.213.0.0/16"; size = 24; };
policy = {
  operator = { images = [ "berth-test/*" ]; ports = [ 20000, 30000 ];
               quota = { containers = 30; networks = 3; }; networks = [ "$SHARED" ]; };
  admin = { images = [ "*" ]; ports = [ 1024, 65535 ]; };
};
CONF
{ htpasswd_line alice a; htpasswd_line bob b; htpasswd_line carol c; htpasswd_line root r; } >"$T/htpasswd"
mkdir -p "$T/state"
# An admin's network made outside berth, listed as shared in the policy.
docker network create --label "berth.test=$INST" "$SHARED" >/dev/null
cleanup_shared() {
	docker ps -aq --filter "network=$SHARED" | xargs -r docker rm -f >/dev/null 2>&1
	docker network rm "$SHARED" >/dev/null 2>&1
}
trap cleanup_shared EXIT
start_berth main --config "$T/berth.conf" --htpasswd "$T/htpasswd" --state-dir "$T/state" \
	--instance "$INST" || exit 1
API="$URL/api/v1"
A=(-u alice:a) B=(-u bob:b) C=(-u carol:c) R=(-u root:r)
IMG=$TEST_IMAGE
SERVE='"command":["nc","-ll","-p","8080","-e","echo","hi"]'
SLEEP='"command":["sleep","600"]'

# net_of ID: the network a container was created on (its NetworkMode).
net_of() { docker inspect -f '{{.HostConfig.NetworkMode}}' "$1"; }
# ip_of ID: its address on that network.
ip_of() { docker inspect -f '{{range .NetworkSettings.Networks}}{{.IPAddress}}{{end}}' "$1"; }
# reach FROM-ID HOST: what HOST:8080 answers inside container FROM-ID.
reach() { docker exec "$1" nc -w 2 "$2" 8080 </dev/null 2>/dev/null; }
# nets OWNER: how many networks of OWNER this instance holds in dockerd.
nets() { docker network ls -q --filter "label=berth.instance=$INST" --filter "label=berth.owner=$1" | wc -l; }

# --- isolation by default --------------------------------------------------------------------
req POST "$API/containers" "{\"name\":\"srv\",\"image\":\"$IMG\",$SERVE}" "${A[@]}"
expect "alice runs a server on an unpublished port" 201
req POST "$API/containers" "{\"name\":\"cli\",\"image\":\"$IMG\",$SLEEP}" "${A[@]}"
expect "alice runs a second container" 201
req POST "$API/containers" "{\"name\":\"pub\",\"image\":\"$IMG\",$SERVE,\"ports\":[{\"container\":8080}]}" "${A[@]}"
expect "alice publishes a port" 201
HP=$(jqb '.ports["8080/tcp"]')
req POST "$API/containers" "{\"name\":\"srv\",\"image\":\"$IMG\",$SERVE}" "${B[@]}"
expect "bob runs his own srv" 201
SRV_A=$(dk srv alice) CLI_A=$(dk cli alice) PUB_A=$(dk pub alice) SRV_B=$(dk srv bob)
NET_A=$(net_of "$SRV_A") NET_B=$(net_of "$SRV_B")
check "alice's containers sit on her own network ($NET_A)" test "$(docker network inspect -f '{{index .Labels "berth.owner"}}/{{index .Labels "berth.name"}}' "$NET_A")" = alice/default
check "all three of hers on the same one" test "$(net_of "$CLI_A")/$(net_of "$PUB_A")" = "$NET_A/$NET_A"
check "bob's on another, his own" test "$NET_B" != "$NET_A" -a "$(docker network inspect -f '{{index .Labels "berth.owner"}}' "$NET_B")" = bob
check "not on Docker's default bridge" test "$NET_A" != bridge -a "$NET_A" != default
SUB_A=$(docker network inspect -f '{{range .IPAM.Config}}{{.Subnet}}{{end}}' "$NET_A")
SUB_B=$(docker network inspect -f '{{range .IPAM.Config}}{{.Subnet}}{{end}}' "$NET_B")
check "subnets from the pool, distinct ($SUB_A, $SUB_B)" test "${SUB_A#10.213.}" != "$SUB_A" -a "${SUB_B#10.213.}" != "$SUB_B" -a "$SUB_A" != "$SUB_B"
IP_A=$(ip_of "$SRV_A")
check "alice's second container reaches her server by its berth name" test "$(reach "$CLI_A" srv)" = hi
check "and by its address" test "$(reach "$CLI_A" "$IP_A")" = hi
check "bob's container cannot reach alice's unpublished port ($IP_A:8080)" test -z "$(reach "$SRV_B" "$IP_A")"
check "nor resolve her container's name" bash -c '! docker exec "$1" nslookup cli >/dev/null 2>&1' _ "$SRV_B"
# published HOST PORT: what a connection from the host to HOST:PORT reads.
published() { timeout 3 bash -c 'exec 3<>"/dev/tcp/$1/$2" && cat <&3' _ "$1" "$2" 2>/dev/null; }
check "her published port still answers from the host" test "$(published 127.0.0.1 "$HP")" = hi
GW_B=$(docker inspect -f '{{range .NetworkSettings.Networks}}{{.Gateway}}{{end}}' "$SRV_B")
check "and from bob's container through the host ($GW_B:$HP)" test "$(docker exec "$SRV_B" nc -w 2 "$GW_B" "$HP" </dev/null 2>/dev/null)" = hi

# --- the owner's network in the API ----------------------------------------------------------
req GET "$API/networks" "" "${A[@]}"
expect "alice lists her networks" 200 '[.networks[].name] | join(",")' default
check "with her containers on it, and only hers" test "$(jqb '[.networks[0].containers[].name] | sort | join(",")')" = cli,pub,srv
check "the shared networks are named" test "$(jqb '.shared | join(",")')" = "$SHARED"
req GET "$API/networks/default" "" "${B[@]}"
expect "bob's default is his own" 200 '[.containers[].name] | join(",")' srv
check "with his own subnet" test "$(jqb .subnet)" = "$SUB_B"

# --- making networks -------------------------------------------------------------------------
req POST "$API/networks" '{"name":"mv","driver":"macvlan"}' "${A[@]}"
expect "macvlan refused" 403 .error.field driver
req POST "$API/networks" '{"name":"iv","driver":"ipvlan"}' "${A[@]}"
expect "ipvlan refused" 403 .error.field driver
req POST "$API/networks" '{"name":"op","options":{"parent":"eth0"}}' "${A[@]}"
expect "driver options refused" 403 .error.field options
req POST "$API/networks" '{"name":"ip","ipam":{"Config":[{"Subnet":"10.0.0.0/8"}]}}' "${A[@]}"
expect "an IPAM config refused" 403 .error.field ipam
req POST "$API/networks" '{"name":"host"}' "${A[@]}"
expect "Docker's own names refused" 422 .error.field name
req POST "$API/networks" '{"name":"x","labels":{"berth.owner":"bob"}}' "${A[@]}"
expect "berth labels refused" 422 .error.field labels
check "nothing made by the refused ones" test "$(nets alice)" = 1
req POST "$API/networks" '{"name":"back","labels":{"tier":"db"}}' "${A[@]}"
expect "alice makes a network" 201 .name back
BACK_A=$(jqb .id) BACK_A_SUB=$(jqb .subnet) BACK_A_DN=$(jqb .docker_name)
check "its subnet from the pool, not her default's" test "${BACK_A_SUB#10.213.}" != "$BACK_A_SUB" -a "$BACK_A_SUB" != "$SUB_A"
check "a record in the state dir" test -f "$T/state/networks/$BACK_A.json"
check "bridge driver, labelled" test "$(docker network inspect -f '{{.Driver}} {{index .Labels "berth.owner"}} {{index .Labels "tier"}}' "$BACK_A")" = "bridge alice db"
req POST "$API/networks" '{"name":"back"}' "${A[@]}"
expect "the same name again: 409" 409 .error.field name
req POST "$API/networks" '{"name":"back"}' "${B[@]}"
expect "bob's back is his own (201)" 201 .owner bob
BACK_B=$(jqb .id)
check "two networks, two subnets" test "$BACK_B" != "$BACK_A" -a "$(jqb .subnet)" != "$BACK_A_SUB"

# --- another's network -----------------------------------------------------------------------
req GET "$API/networks" "" "${B[@]}"
check "bob's list has none of alice's" test "$(jqb '[.networks[] | select(.owner != "bob")] | length')" = 0
for ref in "$BACK_A" "$BACK_A_DN" "${BACK_A:0:12}"; do
	req GET "$API/networks/$ref" "" "${B[@]}"
	expect "bob inspects alice's network by ${ref:0:20}: 404" 404
done
req DELETE "$API/networks/$BACK_A_DN" "" "${B[@]}"
expect "bob removes alice's: 404" 404
req POST "$API/networks/$BACK_A_DN/connect" '{"container":"srv"}' "${B[@]}"
expect "bob connects to alice's: 404" 404
req POST "$API/networks/back/connect" "{\"container\":\"$CLI_A\"}" "${B[@]}"
expect "bob connects alice's container to his own network: 404" 404
check "alice's network untouched" test "$(docker network inspect -f '{{len .Containers}}' "$BACK_A")" = 0
req POST "$API/containers" "{\"name\":\"sneak\",\"image\":\"$IMG\",$SLEEP,\"network\":\"$BACK_A_DN\"}" "${B[@]}"
expect "bob's spec naming alice's network by Docker name: 403" 403 .error.field network
req POST "$API/containers" "{\"name\":\"sneak\",\"image\":\"$IMG\",$SLEEP,\"network\":\"nowhere\"}" "${B[@]}"
expect "a network nobody has: 403" 403 .error.field network
req POST "$API/containers" "{\"name\":\"sneak\",\"image\":\"$IMG\",$SLEEP,\"network\":\"bridge\"}" "${B[@]}"
expect "Docker's default bridge for an operator: 403" 403 .error.field network
check "nothing created by the refused specs" test -z "$(dk sneak bob)"

# --- connect, disconnect, endpoints ----------------------------------------------------------
req POST "$API/networks/back/connect" '{"container":"cli"}' "${A[@]}"
expect "alice connects her container" 200 '[.containers[].name] | join(",")' cli
req POST "$API/networks/back/connect" '{"container":"srv"}' "${A[@]}"
expect "and another" 200
check "they meet by name on it too" test "$(reach "$CLI_A" srv)" = hi
# An admin can put bob's container on alice's network; her inspect still shows only hers.
req POST "$API/networks/$BACK_A_DN/connect" "{\"container\":\"$SRV_B\"}" "${R[@]}"
expect "an admin connects bob's container to it" 200
req GET "$API/networks/back" "" "${A[@]}"
expect "alice inspects it" 200 '[.containers[].name] | sort | join(",")' cli,srv
check "never another owner's endpoint" test "$(jqb '[.containers[] | select(.owner != "alice")] | length')" = 0 -a "$(printf '%s' "$BODY" | grep -c "$SRV_B")" = 0
req GET "$API/networks/$BACK_A_DN" "" "${R[@]}"
check "the admin sees all three" test "$(jqb '.containers | length')" = 3
req POST "$API/networks/$BACK_A_DN/disconnect" "{\"container\":\"$SRV_B\"}" "${R[@]}"
expect "the admin disconnects it again" 200
req DELETE "$API/networks/back" "" "${A[@]}"
expect "remove with containers attached: 409" 409
req POST "$API/networks/back/disconnect" '{"container":"cli"}' "${A[@]}"
expect "disconnect" 200 '[.containers[].name] | join(",")' srv
req POST "$API/networks/back/disconnect" '{"container":"srv"}' "${A[@]}"
expect "disconnect the other" 200 '.containers | length' 0
req DELETE "$API/networks/back" "" "${A[@]}"
expect "remove an empty one: 204" 204
check "gone from dockerd and the state dir" test -z "$(docker network ls -q --filter "id=$BACK_A")" -a ! -e "$T/state/networks/$BACK_A.json"
req GET "$API/networks/back" "" "${A[@]}"
expect "then 404" 404

# --- a spec names a network ------------------------------------------------------------------
req POST "$API/networks" '{"name":"app"}' "${A[@]}"
expect "alice makes network app" 201
req POST "$API/containers" "{\"name\":\"web\",\"image\":\"$IMG\",$SERVE,\"network\":\"app\"}" "${A[@]}"
expect "a container on it by its name" 201
req POST "$API/containers" "{\"name\":\"probe\",\"image\":\"$IMG\",$SLEEP,\"network\":\"app\"}" "${A[@]}"
expect "and another" 201
check "on the owner's app network" test "$(net_of "$(dk web alice)")" = "$(docker network ls -q --no-trunc --filter "label=berth.instance=$INST" --filter label=berth.owner=alice --filter label=berth.name=app | xargs docker network inspect -f '{{.Name}}')"
check "reached by its name there" test "$(reach "$(dk probe alice)" web)" = hi
check "but not from her default network" test -z "$(reach "$CLI_A" "$(ip_of "$(dk web alice)")")"
req POST "$API/containers" "{\"name\":\"joiner\",\"image\":\"$IMG\",$SLEEP,\"network\":\"$SHARED\"}" "${A[@]}"
expect "a shared network (policy) by its name" 201
check "on it, with no berth-name alias" test "$(net_of "$(dk joiner alice)")/$(docker inspect -f "{{json (index .NetworkSettings.Networks \"$SHARED\").Aliases}}" "$(dk joiner alice)" | grep -c '"joiner"')" = "$SHARED/0"
req POST "$API/containers" "{\"name\":\"none\",\"image\":\"$IMG\",$SLEEP,\"network\":\"none\"}" "${A[@]}"
expect "network none" 201
check "none means none" test "$(net_of "$(dk none alice)")" = none

# --- quota -----------------------------------------------------------------------------------
# alice holds default and app; the operators' quota is 3 networks.
req POST "$API/networks" '{"name":"q1"}' "${A[@]}"
expect "the third network" 201
req POST "$API/networks" '{"name":"q2"}' "${A[@]}"
expect "a fourth passes the quota: 403" 403
check "the error names the quota" test "$(jqb .error.message | grep -c quota)" = 1
req GET "$API/whoami" "" "${A[@]}"
check "whoami counts her networks" test "$(printf '%s' "$BODY" | jq -r '.. | objects | select(has("networks")) | .networks | if type == "object" then .used else . end' 2>/dev/null | head -1)" = 3

# --- services' replicas and jobs land on the owner's network --------------------------------
req POST "$API/services" "{\"name\":\"api\",\"image\":\"$IMG\",$SERVE}" "${A[@]}"
expect "alice defines a service" 201
req POST "$API/services/api/scale" '{"number":2}' "${A[@]}"
expect "scaled to 2" 200
REP=$(docker ps -q --no-trunc --filter "label=berth.service=api" --filter "label=berth.instance=$INST" | head -1)
check "a replica on her default network" test -n "$REP" -a "$(net_of "$REP")" = "$NET_A"
check "the service's name resolves there" test "$(reach "$CLI_A" api)" = hi
req POST "$API/jobs" "{\"image\":\"$IMG\",\"command\":[\"sleep\",\"30\"]}" "${A[@]}"
expect "alice submits a job" 202
JOBC=$(docker ps -aq --no-trunc --filter "label=berth.job=$(jqb .id)" --filter "label=berth.instance=$INST" | head -1)
check "its container on her default network" test -n "$JOBC" -a "$(net_of "$JOBC")" = "$NET_A"

# --- one default network under concurrent first creates -------------------------------------
for i in $(seq 1 10); do
	curl -s -o /dev/null -w '%{http_code}\n' -u carol:c -H 'Content-Type: application/json' \
		-d "{\"name\":\"c$i\",\"image\":\"$IMG\",$SLEEP,\"start\":false}" "$API/containers" >>"$T/race" &
done
wait
check "10 concurrent first creates all succeed" test "$(grep -c '^201$' "$T/race")" = 10
check "and make one default network" test "$(nets carol)" = 1
check "every one of carol's containers on it" test "$(docker ps -aq --filter "label=berth.owner=carol" --filter "label=berth.instance=$INST" | xargs docker inspect -f '{{.HostConfig.NetworkMode}}' | sort -u | wc -l)" = 1

# --- reconcile -------------------------------------------------------------------------------
n_before=$(ls "$T/state/networks" | wc -l)
rm -f "$T/state/networks/"*.json
echo '{}' >"$T/state/networks/0000ghost.json"
out=$("$BERTH_FCGI" --config "$T/berth.conf" --state-dir "$T/state" --instance "$INST" --allow-root reconcile 2>&1)
check "reconcile restores the network records from labels ($n_before)" test "$(ls "$T/state/networks" | wc -l)" = "$n_before"
check "and drops a ghost" test ! -e "$T/state/networks/0000ghost.json"

# --- cleanup ---------------------------------------------------------------------------------
stop_berth "$PID_main"
UP_PIDS=()
# Under load berth-up may leave the last of it to its watchdog (stop_berth).
check "berth-up's exit removes the instance's containers" wait_for 120 test -z "$(docker ps -aq --filter "label=berth.instance=$INST")"
check "and its networks" wait_for 120 bash -c '[ -z "$(docker network ls -q --filter "label=berth.instance=$1")" ]' _ "$INST"
finish
