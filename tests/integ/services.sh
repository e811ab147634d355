#!/bin/bash
# Services (seed 004) through real nginx -> berth-fcgi -> dockerd, in both
# modes: engine (replicas are containers <service>-<n>) and swarm (one Swarm
# service; this node is made a single-node swarm for the test if it is not
# one already, and leaves again afterwards).  Covers create, scale up/down,
# status, rolling PUT, policy and quota, ownership, a foreign container of
# the same image never counted or removed, concurrent scales converging on
# the last one, berth.conf services, and seed 004's own examples.
. "$(dirname "$0")/../lib.sh"

INST="t-svc-$$"
IMG1=berth-test/busybox:1 IMG2=berth-test/busybox:2
# Exits promptly on SIGTERM, so graceful removals stay fast.
CMD='["sh","-c","trap \"exit 0\" TERM; while :; do sleep 1; done"]'
S="$INST-web"   # the operator's service
C="${INST}-conf" # declared in berth.conf

write_conf() { # write_conf FILE MODE INSTANCE
	cat >"$1" <<CONF
mode = "$2";
users = { alice = "admin"; oscar = "operator"; olga = "operator"; vic = "viewer"; };
policy = {
  operator = { images = [ "berth-test/*" ]; quota = 6; memory_max = "256m"; };
  admin = { images = [ "*" ]; ports = [ 1024, 65535 ]; };
};
services = {
  $3-conf = { image = "$IMG1"; command = [ "sleep", "600" ]; environment = { FROM = "conf"; }; };
};
CONF
}

write_conf "$T/berth.conf" engine "$INST"
{ htpasswd_line alice a; htpasswd_line oscar o; htpasswd_line olga g; htpasswd_line vic v; } >"$T/htpasswd"
mkdir -p "$T/state"
start_berth main --config "$T/berth.conf" --htpasswd "$T/htpasswd" --state-dir "$T/state" \
	--instance "$INST" || exit 1
API="$URL/api/v1"
A=(-u alice:a) O=(-u oscar:o) G=(-u olga:g) V=(-u vic:v)

running() { # running SERVICE [curl auth...]: running_resources per berth
	local s=$1; shift
	req GET "$API/services/$s/status" "" "$@"
	jqb .running_resources
}
wait_running() { # wait_running SERVICE N SECONDS
	local s=$1 n=$2 secs=$3
	wait_for "$secs" bash -c '[ "$(curl -s -u alice:a "$1/services/$2/status" | jq -r .running_resources)" = "$3" ]' _ "$API" "$s" "$n"
}
race_scale() { # race_scale URL N1 N2: both scale requests at once; LAST = the one that finished last
	: >"$T/order"
	for n in "$2" "$3"; do
		(curl -s -o /dev/null -u oscar:o -H 'Content-Type: application/json' \
			-d "{\"number\":$n}" "$1" && echo "$n" >>"$T/order") &
	done
	wait
	LAST=$(tail -1 "$T/order")
}
docker_count() { # docker_count SERVICE: running containers labelled with SERVICE in this instance
	docker ps -q --filter "label=berth.service=$1" --filter "label=berth.instance=$2" | wc -l
}

# --- definitions ---------------------------------------------------------------------
req POST "$API/services" "{\"name\":\"$S\",\"image\":\"$IMG1\",\"command\":$CMD,\"environment\":{\"GREETING\":\"hi\"},\"ports\":[\"8080\"]}" "${O[@]}"
expect "operator defines a service: 201" 201 .owner oscar
check "new service wants 0" test "$(jqb .desired)" = 0
SKEY=$(jqb .key)
check "definition stored in services/<key>.json, the key namespaced ($SKEY)" \
	bash -c '[[ $1 == "$2".oscar.* ]] && test -f "$3/services/$1.json"' _ "$SKEY" "$S" "$T/state"
req POST "$API/services" "{\"name\":\"$S\",\"image\":\"$IMG1\"}" "${O[@]}"
expect "same name again: 409" 409 .error.code conflict
req POST "$API/services" "{\"name\":\"$S\",\"image\":\"$IMG2\"}" "${G[@]}"
expect "another owner, same name: 201, their own" 201 .owner olga
check "... under a key of their own" test "$(jqb .key)" != "$SKEY"
req GET "$API/services/$S" "" "${O[@]}"
expect "the first owner still reads theirs" 200 .image "$IMG1"
req GET "$API/services/$S" "" "${A[@]}"
expect "admin naming a service two owners have: 409 asks for the key" 409 .error.code conflict
req GET "$API/services/$SKEY" "" "${A[@]}"
expect "admin reads it by key" 200 .owner oscar
req DELETE "$API/services/$S" "" "${G[@]}"
expect "the second owner deletes theirs: 204" 204
req GET "$API/services/$S" "" "${O[@]}"
expect "the first owner's is untouched" 200 .image "$IMG1"
req POST "$API/services" "{\"name\":\"$INST-untagged\",\"image\":\"berth-test/busybox\"}" "${O[@]}"
expect "untagged image refused" 403 .error.field image
req GET "$API/services/$INST-untagged" "" "${O[@]}"
expect "nothing recorded for the refused one" 404
req POST "$API/services" "{\"name\":\"$INST-x\",\"image\":\"debian:12\"}" "${O[@]}"
expect "image outside the operator's allow-list refused" 403 .error.field image
req POST "$API/services" "{\"image\":\"$IMG1\"}" "${O[@]}"
expect "name is required (API: 422)" 422 .error.field name
req POST "$API/services" "{\"name\":\"$INST-x\",\"image\":\"$IMG1\",\"ports\":[\"99999\"]}" "${O[@]}"
expect "bad port refused" 422 .error.field 'ports[0]'
req POST "$API/services" "{\"name\":\"$INST-x\",\"image\":\"$IMG1\",\"labels\":{\"berth.owner\":\"x\"}}" "${O[@]}"
expect "reserved label refused" 422 .error.field labels
req POST "$API/services" "{\"name\":\"$INST-x\",\"image\":\"$IMG1\",\"privileged\":true}" "${O[@]}"
expect "unknown field refused" 422 .error.field privileged
req POST "$API/services" "{\"name\":\"$(printf 'a%.0s' $(seq 1 58))\",\"image\":\"$IMG1\"}" "${O[@]}"
expect "name too long for replica names refused" 422 .error.field name
req POST "$API/services" "{\"name\":\"$INST-v\",\"image\":\"$IMG1\"}" "${V[@]}"
expect "viewer cannot define services" 403
req GET "$API/services" "" "${O[@]}"
expect "owner lists it" 200 ".[\"$S\"].image" "$IMG1"
check "config services are visible to operators" test "$(jqb ".[\"$C\"].source")" = config
req GET "$API/services" "" "${G[@]}"
expect "other operator's list hides it" 200 ".[\"$S\"]" null
req GET "$API/services" "" "${V[@]}"
expect "viewer sees config services" 200 ".[\"$C\"].read_only" true
# can: what each service's view says its caller may do; the refusals under
# "berth.conf services" below are the same checks answering.
req GET "$API/services" "" "${O[@]}"
check "can: the owner may scale, edit and remove their service" test "$(jqb ".[\"$S\"].can | tojson")" = '{"scale":true,"edit":true,"remove":true}'
check "can: an operator may do nothing to a berth.conf service" test "$(jqb ".[\"$C\"].can | tojson")" = '{"scale":false,"edit":false,"remove":false}'
req GET "$API/services" "" "${A[@]}"
check "can: an admin may scale a berth.conf service, not change it" test "$(jqb ".[\"$C\"].can | tojson")" = '{"scale":true,"edit":false,"remove":false}'
req GET "$API/services" "" "${V[@]}"
check "can: a viewer may do nothing to any service" test "$(jqb '[.[].can[]] | any')" = false
req GET "$API/services/$S" "" "${O[@]}"
expect "can: one service's own view says it too" 200 '.can.scale' true
req GET "$URL/service/$S" "" "${O[@]}"
expect "seed 004's shape has no can" 200 'has("can")' false
req GET "$API/services/$S" "" "${G[@]}"
expect "other operator gets 404" 404
req GET "$API/services/$S" "" "${A[@]}"
expect "admin reads any service" 200 .environment.GREETING hi
req GET "$API/schemas/service" "" "${V[@]}"
expect "schema service published" 200 '.properties.name.type' string
req GET "$API/schemas/scale" "" "${V[@]}"
expect "schema scale published" 200 '.required[0]' number

# A container of the same image that berth did not make, and one berth made for the same owner.
docker run -d --name "$INST-foreign" --label "berth.service=$S" "$IMG1" sleep 600 >/dev/null
req POST "$API/containers" "{\"name\":\"$INST-own\",\"image\":\"$IMG1\",\"command\":$CMD}" "${O[@]}"
expect "a plain container of the same image and owner" 201

# --- scale (engine mode) ---------------------------------------------------------------
req POST "$API/services/$S/scale" '{"number":3}' "${O[@]}"
expect "scale to 3" 200 .running_resources 3
check "desired 3" test "$(jqb .desired)" = 3
check "replicas named <service>-<n>" test "$(jqb '[.containers[].name] | sort | join(",")')" = "$S-1,$S-2,$S-3"
check "replicas publish the port" test "$(jqb '[.containers[].ports["8080/tcp"] > 0] | all')" = true
check "status says 3" test "$(running "$S" "${O[@]}")" = 3
check "docker agrees: 3 labelled replicas" test "$(docker_count "$S" "$INST")" = 3
ID1=$(dk "$S-1" oscar)
check "replica has the environment" bash -c "docker inspect -f '{{.Config.Env}}' $ID1 | grep -q GREETING=hi"
check "replica owned by the service owner" test "$(docker inspect -f '{{index .Config.Labels "berth.owner"}}' "$ID1")" = oscar
check "replica's Docker name is namespaced, not the berth name" bash -c '[[ $(docker inspect -f "{{.Name}}" "$1") == /$2.oscar.* ]]' _ "$ID1" "$S-1"
check "a replica has memory, cpus, pids and log limits" \
	bash -c '[[ $1 =~ ^[1-9][0-9]*\ [1-9][0-9]*\ [1-9][0-9]*\ [1-9][0-9]*$ ]]' _ "$(docker inspect -f '{{.HostConfig.Memory}} {{.HostConfig.NanoCpus}} {{.HostConfig.PidsLimit}} {{index .HostConfig.LogConfig.Config "max-size"}}' "$ID1")"
req POST "$API/services/$S/scale" '{"number":1}' "${O[@]}"
expect "scale down to 1" 200 .running_resources 1
check "the oldest replica stays (newest removed first)" test "$(jqb '.containers[0].id')" = "$ID1"
req POST "$API/services/$S/scale" '{"number":0}' "${O[@]}"
expect "scale to 0" 200 .running_resources 0
check "foreign container of the same image still runs" test "$(docker inspect -f '{{.State.Running}}' "$INST-foreign")" = true
check "owner's plain container still runs" test "$(docker inspect -f '{{.State.Running}}' "$(dk "$INST-own" oscar)")" = true
# The audit lines of those three scales say which replicas they made and removed.
jq -c "select(.target == \"$S\" and .action == \"POST /api/v1/services/{name}/scale\" and .result == \"ok\")" "$T/state/audit.log" >"$T/scales"
check "audit: scale to 3 lists the replicas it created" test "$(sed -n 1p "$T/scales" | jq -r '.created | sort | join(",")')" = "$S-1,$S-2,$S-3"
check "audit: scale down to 1 lists the replicas it removed" test "$(sed -n 2p "$T/scales" | jq -r '.removed | sort | join(",")')" = "$S-2,$S-3"
check "audit: scale to 0 lists the last one" test "$(sed -n 3p "$T/scales" | jq -r '.removed | join(",")')" = "$S-1"
req POST "$API/services/$S/scale" '{"number":-1}' "${O[@]}"
expect "negative number: 422" 422 .error.field number
req POST "$API/services/$S/scale" '{"number":"x"}' "${O[@]}"
expect "non-numeric number: 422" 422 .error.field number
req POST "$API/services/$S/scale" '{"number":6}' "${O[@]}"
expect "quota: 6 replicas + 1 other container > 6" 403 .error.field number
check "quota refusal created nothing" test "$(docker_count "$S" "$INST")" = 0
req POST "$API/services/$S/scale" '{"number":1}' "${G[@]}"
expect "other operator cannot scale it (404)" 404
req POST "$API/services/$S/scale" '{"number":1}' "${V[@]}"
expect "viewer cannot scale" 403
req GET "$API/services/$S/status" "" "${V[@]}"
expect "viewer cannot see another's status" 404

# --- rolling PUT ----------------------------------------------------------------------
req POST "$API/services/$S/scale" '{"number":3}' "${O[@]}"
expect "back to 3" 200 .running_resources 3
OLD=$(docker ps -q --no-trunc --filter "label=berth.service=$S" --filter "label=berth.instance=$INST" | sort)
: >"$T/counts"
(while [ ! -e "$T/put-done" ]; do docker_count "$S" "$INST" >>"$T/counts"; sleep 0.1; done) &
WATCH=$!
req PUT "$API/services/$S" "{\"image\":\"$IMG2\",\"command\":$CMD,\"environment\":{\"GREETING\":\"v2\"}}" "${O[@]}"
touch "$T/put-done"; wait "$WATCH"
expect "PUT rolls to a new tag" 200 .image "$IMG2"
req GET "$API/services/$S/status" "" "${O[@]}"
expect "still 3 running after the roll" 200 .running_resources 3
check "every replica runs the new image" test "$(jqb '[.containers[] | select(.running) | .image] | unique | join(",")')" = "$IMG2"
NEW=$(docker ps -q --no-trunc --filter "label=berth.service=$S" --filter "label=berth.instance=$INST" | sort)
check "every old replica was replaced" test -z "$(comm -12 <(echo "$OLD") <(echo "$NEW"))"
check "never fewer than 3 running during the roll ($(sort -n "$T/counts" | head -1))" test "$(sort -n "$T/counts" | head -1)" -ge 3
req PUT "$API/services/$S" "{\"image\":\"$IMG2\",\"command\":$CMD,\"environment\":{\"GREETING\":\"v2\"}}" "${O[@]}"
expect "same definition again" 200
check "an unchanged definition replaces nothing" test "$(docker ps -q --no-trunc --filter "label=berth.service=$S" --filter "label=berth.instance=$INST" | sort)" = "$NEW"
req PUT "$API/services/$S" '{"image":"berth-test/busybox"}' "${O[@]}"
expect "PUT with an untagged image refused" 403 .error.field image
req GET "$API/services/$S" "" "${O[@]}"
expect "definition unchanged after the refusal" 200 .image "$IMG2"
req PUT "$API/services/$S" "{\"name\":\"other\",\"image\":\"$IMG2\"}" "${O[@]}"
expect "PUT naming another service refused" 422 .error.field name
req PUT "$API/services/$S" "{\"image\":\"$IMG2\"}" "${G[@]}"
expect "other operator cannot PUT (404)" 404

# --- concurrent scales converge on the last one ----------------------------------------
race_scale "$API/services/$S/scale?timeout=1" 5 2
req GET "$API/services/$S/status" "" "${O[@]}"
check "concurrent scales: desired is the last one's ($LAST)" test "$(jqb .desired)" = "$LAST"
check "concurrent scales: running = desired" test "$(jqb .running_resources)" = "$LAST"
check "concurrent scales: docker agrees" test "$(docker_count "$S" "$INST")" = "$LAST"

# --- berth.conf services ---------------------------------------------------------------
req PUT "$API/services/$C" "{\"image\":\"$IMG2\"}" "${A[@]}"
expect "config service is read-only (PUT 409)" 409 .error.code conflict
req DELETE "$API/services/$C" "" "${A[@]}"
expect "config service is read-only (DELETE 409)" 409
req POST "$API/services" "{\"name\":\"$C\",\"image\":\"$IMG1\"}" "${A[@]}"
expect "config service name cannot be redefined" 409
req POST "$API/services/$C/scale" '{"number":1}' "${O[@]}"
expect "operators cannot scale config services" 403
req POST "$API/services/$C/scale?timeout=0" '{"number":2}' "${A[@]}"
expect "admin scales a config service" 200 .running_resources 2
check "config replicas are owned by berth.conf" test "$(docker inspect -f '{{index .Config.Labels "berth.owner"}}' "$(dk "$C-1")")" = berth.conf
req GET "$API/services/$C/status" "" "${V[@]}"
expect "viewer reads a config service's status" 200 .desired 2
req POST "$API/services/$C/scale?timeout=0" '{"number":0}' "${A[@]}"
expect "admin scales it back to 0" 200 .running_resources 0
cat >"$T/bad.conf" <<'CONF'
services = {
  good = { image = "berth-test/busybox:1"; };
  bad = { image = "berth-test/busybox"; };
};
CONF
out=$("$BERTH_FCGI" --config "$T/bad.conf" --state-dir "$T/state" --allow-root check-config 2>&1)
rc=$?
check "an untagged berth.conf service fails at start with file:line ($out)" \
	bash -c '[ "$1" != 0 ] && grep -q "bad.conf:3" <<<"$2" && grep -q "tag" <<<"$2"' _ "$rc" "$out"

# --- seed 004's routes (exact shapes) on the same berth ---------------------------------
req POST "$URL/service" '{"number":1}' "${O[@]}"
expect "seed POST without name/image: 400" 400
req POST "$URL/service" "{\"name\":\"$INST-m\",\"image\":\"$IMG1\",\"memory\":\"1k\"}" "${O[@]}"
expect "seed POST with a bad memory size: 400" 400 .error.field memory
req POST "$API/services" "{\"name\":\"$INST-m\",\"image\":\"$IMG1\",\"memory\":\"1k\"}" "${O[@]}"
expect "API POST with a bad memory size: 422" 422 .error.field memory
req POST "$URL/service/$S/scale" '{"number":"x"}' "${O[@]}"
expect "seed scale with a bad number: 400" 400
req POST "$URL/service/$S/scale" '{"number":-3}' "${O[@]}"
expect "seed scale with a negative number: 400" 400
req POST "$URL/service/$S/scale" '{}' "${O[@]}"
expect "seed scale without number: 400" 400
req POST "$URL/service/$S/scale" '{"number":"5000"}' "${O[@]}"
expect "seed scale with a huge number: 400" 400
req GET "$URL/service/$S/status" "" "${O[@]}"
expect "seed status shape is exactly running_resources" 200 'keys | join(",")' running_resources

# --- DELETE ---------------------------------------------------------------------------
req DELETE "$API/services/$S?timeout=0" "" "${G[@]}"
expect "other operator cannot delete (404)" 404
req DELETE "$API/services/$S?timeout=0" "" "${O[@]}"
expect "owner deletes the service" 204
check "its replicas are gone" test "$(docker ps -aq --filter "label=berth.service=$S" --filter "label=berth.instance=$INST" | wc -l)" = 0
check "its record is gone" test ! -e "$T/state/services/$S.json"
check "the foreign container was never touched" test "$(docker inspect -f '{{.State.Running}}' "$INST-foreign")" = true
req GET "$API/services/$S" "" "${O[@]}"
expect "deleted service: 404" 404
docker rm -f "$INST-foreign" >/dev/null

# --- seed 004's examples against a zero-config berth-up ----------------------------------
start_berth seed --instance "$INST-seed" || exit 1
SEED=$URL
req POST "$SEED/service" '{"name":"helloworld","image":"tutum/hello-world:latest","ports":["8080","8081"],"environment":{"VAR_A":"value","VAR_B":"value"}}'
expect "seed: http POST :7051/service name=helloworld ..." 201 .name helloworld
req GET "$SEED/service"
expect "seed: GET /service is a map of definitions" 200 '.helloworld.ports | join(",")' 8080,8081
check "seed: absent command is null" test "$(jqb '.helloworld | has("command") and .command == null')" = true
req POST "$SEED/service" '{"name":"myServiceB","image":"berth-test/busybox:1"}'
req GET "$SEED/service/myServiceB"
expect "seed: GET /service/<name> has null for absent fields" 200 \
	'[.command, .environment, .ports] | map(. == null) | all' true
check "seed: GET /service/<name> has exactly the seed's fields" test "$(jqb 'keys | sort | join(",")')" = command,environment,image,name,ports
req PUT "$SEED/service/helloworld" '{"image":"panamax/hello-world-php:latest","command":"/run.sh","ports":["8080","8082"],"environment":{"VAR_A":"value","VAR_B":"value"}}'
expect "seed: http PUT :7051/service/helloworld ..." 200 .command /run.sh
req PUT "$SEED/service/helloworld" '{"image":"berth-test/busybox:1","command":"httpd -f -p 8080","ports":["8080","8082"],"environment":{"VAR_A":"value","VAR_B":"value"}}'
expect "seed: PUT to a local image" 200 .image berth-test/busybox:1
req POST "$SEED/service/helloworld/scale" '{"number":"3"}'
expect "seed: http POST :7051/service/helloworld/scale number=3 (a string)" 200 .running_resources 3
req GET "$SEED/service/helloworld/status"
expect "seed: GET /service/helloworld/status" 200 . '{
  "running_resources": 3
}'
req PUT "$SEED/service/helloworld" '{"image":"berth-test/busybox"}'
expect "seed: untagged image refused" 403 .error.field image
req POST "$SEED/service/helloworld/scale?timeout=0" '{"number":0}'
expect "seed: scale to 0" 200 .running_resources 0

# --- swarm mode ----------------------------------------------------------------------------
# mode = "swarm" says so explicitly: on a node that is not a manager that is a clear 503.
SX="$INST-sx"
write_conf "$T/swarmx.conf" swarm "$SX"
start_berth swx --config "$T/swarmx.conf" --htpasswd "$T/htpasswd" --state-dir "$T/state-sx" \
	--instance "$SX" || exit 1
SXURL=$URL
INITED=0
if [ "$(docker info -f '{{.Swarm.LocalNodeState}}')" != active ]; then
	req POST "$SXURL/api/v1/services/$SX-conf/scale" '{"number":1}' "${A[@]}"
	expect "mode swarm on a node outside any swarm: 503" 503 .error.code docker_unavailable
	if docker swarm init --advertise-addr 127.0.0.1 >"$T/swarm-init.out" 2>&1; then
		INITED=1
	else
		not_ok "docker swarm init ($(cat "$T/swarm-init.out"))"
	fi
fi
if [ "$(docker info -f '{{.Swarm.ControlAvailable}}')" = true ]; then
	SW="$INST-sw"
	write_conf "$T/swarm.conf" auto "$SW"
	mkdir -p "$T/state-sw"
	start_berth swarm --config "$T/swarm.conf" --htpasswd "$T/htpasswd" --state-dir "$T/state-sw" \
		--instance "$SW" || exit 1
	API="$URL/api/v1"
	SS="$SW-web"
	req POST "$API/services" "{\"name\":\"$SS\",\"image\":\"$IMG1\",\"command\":$CMD,\"environment\":{\"GREETING\":\"hi\"},\"ports\":[\"8080\"]}" "${O[@]}"
	expect "swarm: define a service" 201
	docker run -d --name "$SW-foreign" --label "berth.service=$SS" "$IMG1" sleep 600 >/dev/null
	req POST "$API/services/$SS/scale" '{"number":3}' "${O[@]}"
	expect "swarm: scale to 3 (mode auto on a manager)" 200 .desired 3
	check "swarm: a Swarm service exists with 3 replicas" \
		test "$(docker service inspect -f '{{.Spec.Mode.Replicated.Replicas}}' "$(dks "$SS" "$SW")" 2>&1)" = 3
	check "swarm: service labelled for this berth" \
		test "$(docker service inspect -f '{{index .Spec.Labels "berth.owner"}}/{{index .Spec.Labels "berth.instance"}}' "$(dks "$SS" "$SW")")" = "oscar/$SW"
	check "swarm: port published on the routing mesh" \
		test "$(docker service inspect -f '{{(index .Endpoint.Ports 0).TargetPort}}' "$(dks "$SS" "$SW")")" = 8080
	check "swarm: 3 tasks running" wait_running "$SS" 3 120
	req GET "$API/services/$SS/status" "" "${O[@]}"
	check "swarm: status lists the tasks" test "$(jqb '[.containers[] | select(.running)] | length')" = 3
	check "swarm: task containers carry berth's labels" \
		test "$(docker ps -q --filter "label=berth.service=$SS" --filter "label=berth.instance=$SW" | wc -l)" = 3
	check "swarm: tasks have memory, cpus, pids and log limits" \
		bash -c '[[ $1 =~ ^[1-9][0-9]*\ [1-9][0-9]*\ [1-9][0-9]*\ [1-9][0-9]*$ ]]' _ "$(docker service inspect -f '{{.Spec.TaskTemplate.Resources.Limits.MemoryBytes}} {{.Spec.TaskTemplate.Resources.Limits.NanoCPUs}} {{.Spec.TaskTemplate.Resources.Limits.Pids}} {{index .Spec.TaskTemplate.LogDriver.Options "max-size"}}' "$(dks "$SS" "$SW")")"
	# The quota counts what Swarm was told to run, not the tasks started so far.
	req POST "$API/services" "{\"name\":\"$SS-q\",\"image\":\"$IMG1\",\"command\":$CMD}" "${O[@]}"
	req POST "$API/services/$SS/scale" '{"number":5}' "${O[@]}"
	expect "swarm: scale to 5" 200 .desired 5
	req POST "$API/services/$SS-q/scale" '{"number":2}' "${O[@]}"
	expect "swarm: 5 + 2 replicas over a quota of 6, while tasks still start: 403" 403 .error.field number
	# Two services of one owner scaling at once for the last replica: one gets it.
	req POST "$API/services" "{\"name\":\"$SS-r\",\"image\":\"$IMG1\",\"command\":$CMD}" "${O[@]}"
	for s in "$SS-q" "$SS-r"; do
		curl -s -o /dev/null -w '%{http_code}\n' -u oscar:o -H 'Content-Type: application/json' \
			-d '{"number":1}' "$API/services/$s/scale" &
	done >"$T/sw-race"
	wait
	check "swarm: two services racing for the last replica: one 200, one 403 ($(sort "$T/sw-race" | paste -sd' '))" \
		test "$(sort "$T/sw-race" | paste -sd' ')" = "200 403"
	req DELETE "$API/services/$SS-r" "" "${O[@]}"
	expect "swarm: remove the racing one" 204
	req POST "$API/services/$SS-q/scale" '{"number":1}' "${O[@]}"
	expect "swarm: 5 + 1 fits" 200 .desired 1
	req DELETE "$API/services/$SS-q" "" "${O[@]}"
	expect "swarm: remove the second service" 204
	req POST "$API/services/$SS/scale" '{"number":3}' "${O[@]}"
	expect "swarm: back to 3" 200 .desired 3
	check "swarm: 3 tasks running again" wait_running "$SS" 3 120
	req POST "$API/services/$SS/scale" '{"number":1}' "${O[@]}"
	expect "swarm: scale to 1" 200 .desired 1
	check "swarm: 1 task running" wait_running "$SS" 1 120
	check "swarm: the audit lines say how the replica count changed" test "$(jq -r "select(.target == \"$SS\" and .action == \"POST /api/v1/services/{name}/scale\") | \"\(.replicas_from)->\(.replicas_to)\"" "$T/state-sw/audit.log" | paste -sd,)" = "0->3,3->5,5->3,3->1"
	check "swarm: the foreign container was never touched" test "$(docker inspect -f '{{.State.Running}}' "$SW-foreign")" = true
	req PUT "$API/services/$SS" "{\"image\":\"$IMG2\",\"command\":$CMD}" "${O[@]}"
	expect "swarm: PUT a new tag" 200 .image "$IMG2"
	check "swarm: the Swarm service now runs the new tag" \
		test "$(docker service inspect -f '{{.Spec.TaskTemplate.ContainerSpec.Image}}' "$(dks "$SS" "$SW")")" = "$IMG2"
	check "swarm: updates start the new task first" \
		test "$(docker service inspect -f '{{.Spec.UpdateConfig.Order}}' "$(dks "$SS" "$SW")")" = start-first
	check "swarm: the running task has the new image" wait_for 120 bash -c \
		'[ "$(curl -s -u alice:a "$1/services/$2/status" | jq -r "[.containers[] | select(.running) | .image] | unique | join(\",\")")" = "$3" ]' _ "$API" "$SS" "$IMG2"
	req PUT "$API/services/$SS" '{"image":"berth-test/busybox"}' "${O[@]}"
	expect "swarm: untagged image refused" 403 .error.field image
	race_scale "$API/services/$SS/scale" 2 0
	check "swarm: concurrent scales converge on the last one ($LAST)" \
		test "$(docker service inspect -f '{{.Spec.Mode.Replicated.Replicas}}' "$(dks "$SS" "$SW")")" = "$LAST"
	check "swarm: running tasks follow ($LAST)" wait_running "$SS" "$LAST" 120
	req POST "$URL/service/$SS/scale" '{"number":"2"}' "${O[@]}"
	expect "swarm: seed scale route" 200 'keys | join(",")' running_resources
	check "swarm: seed status reaches 2" wait_for 120 bash -c \
		'[ "$(curl -s -u oscar:o "$1/service/$2/status")" = "{\"running_resources\":2}" ]' _ "$URL" "$SS"
	req DELETE "$API/services/$SS" "" "${O[@]}"
	expect "swarm: delete" 204
	check "swarm: the Swarm service is gone" test -z "$(dks "$SS" "$SW")"
	check "swarm: the foreign container is still running" test "$(docker inspect -f '{{.State.Running}}' "$SW-foreign")" = true
	docker rm -f "$SW-foreign" >/dev/null
	req POST "$SXURL/api/v1/services/$SX-conf/scale" '{"number":1}' "${A[@]}"
	expect "mode swarm: scale makes a Swarm service" 200 .desired 1
	check "mode swarm: it exists" test "$(docker service inspect -f '{{.Spec.Mode.Replicated.Replicas}}' "$(dks "$SX-conf" "$SX")" 2>&1)" = 1
	req POST "$SXURL/api/v1/services/$SX-conf/scale" '{"number":0}' "${A[@]}"
	expect "mode swarm: scale to 0" 200 .desired 0
	stop_berth "$PID_swx"
	check "mode swarm: cleanup removed it" test -z "$(dks "$SX-conf" "$SX")"
	# A service left running is removed when its berth-up stops.
	req POST "$API/services/$SW-conf/scale" '{"number":1}' "${A[@]}"
	expect "swarm: config service scaled by an admin" 200 .desired 1
	stop_berth "$PID_swarm"
	check "swarm: berth-up's cleanup removed its Swarm services" \
		test -z "$(dks "$SW-conf" "$SW")"
else
	not_ok "swarm: this node is not a swarm manager"
fi
if [ "$INITED" = 1 ]; then
	docker swarm leave --force >/dev/null 2>&1 || not_ok "docker swarm leave"
fi

finish
