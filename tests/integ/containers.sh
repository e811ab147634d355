#!/bin/bash
# Containers through real nginx (basic auth) -> berth-fcgi -> dockerd:
# the role x route x owner matrix, hostile specs refused with nothing
# created, concurrency, logs/stats/exec, PATCH, protection, audit, reconcile.
. "$(dirname "$0")/../lib.sh"

INST="t-ct-$$"
cat >"$T/berth.conf" <<CONF
users = { alice = "admin"; oscar = "operator"; olga = "operator"; vic = "viewer"; };
protected = [ "$INST-guarded" ];
jobs = { sweep_interval = 2; };
policy = {
  operator = { images = [ "berth-test/*" ]; quota = 6; ports = [ 20000, 30000 ];
               memory_max = "256m"; memory = "128m"; };
  admin = { images = [ "*" ]; ports = [ 1024, 65535 ]; };
};
CONF
{ htpasswd_line alice a; htpasswd_line oscar o; htpasswd_line olga g; htpasswd_line vic v; } >"$T/htpasswd"
mkdir -p "$T/state"
start_berth main --config "$T/berth.conf" --htpasswd "$T/htpasswd" --state-dir "$T/state" \
	--instance "$INST" || exit 1
API="$URL/api/v1"
A=(-u alice:a) O=(-u oscar:o) G=(-u olga:g) V=(-u vic:v)
IMG=berth-test/busybox:1
SLEEPER='"command":["sleep","600"]'

gone() { [ -z "$(dk "$1")" ]; }

# The `can` flags a container's details give WHO, the true ones in order.
can_of() { # can_of WHO NAME
	req GET "$API/containers/$2" "" -u "$1"
	jqb '.can | to_entries | map(select(.value).key) | join(",")'
}
# agrees WHO NAME FLAG METHOD PATH [BODY]: the container's can.FLAG, read
# from its details just before, is true exactly when berth then does it (2xx).
agrees() {
	local who=$1 name=$2 flag=$3 m=$4 p=$5 body=${6-} can did=false
	req GET "$API/containers/$name" "" -u "$who"
	can=$(jqb ".can.$flag")
	req "$m" "$API/containers/$name$p" "$body" -u "$who"
	[ "${STATUS:0:1}" = 2 ] && did=true
	check "can.$flag for ${who%%:*} on ${name#"$INST"-} is $can, and $m …$p answers $STATUS" test "$can" = "$did"
}

# --- create, idempotence, ownership --------------------------------------
req POST "$API/containers" "{\"name\":\"$INST-a\",\"image\":\"$IMG\",$SLEEPER,\"ports\":[{\"container\":8080}]}" "${O[@]}"
expect "operator creates: 201" 201 .just_created true
ID_A=$(jqb .id)
check "owner recorded" test "$(jqb .owner)" = oscar
check "port mapped" test "$(jqb '.ports["8080/tcp"] > 0')" = true
check "record written in the state dir" test -f "$T/state/containers/$ID_A.json"
req POST "$API/containers" "{\"name\":\"$INST-a\",\"image\":\"$IMG\",$SLEEPER,\"ports\":[{\"container\":8080}]}" "${O[@]}"
expect "same owner, same name: 200 and the same container" 200 .just_created false
check "same id on reuse" test "$(jqb .id)" = "$ID_A"
# Names live in their owner's namespace: olga's $INST-a is hers, beside oscar's.
req POST "$API/containers" "{\"name\":\"$INST-a\",\"image\":\"$IMG\",$SLEEPER,\"start\":false}" "${G[@]}"
expect "another owner's name: their own container (201)" 201 .owner olga
ID_G=$(jqb .id)
check "two owners' $INST-a are two containers" test -n "$ID_G" -a "$ID_G" != "$ID_A"
check "with two Docker names, neither the name given" test "$(docker inspect -f '{{.Name}}' "$ID_A" "$ID_G" | sort -u | grep -vc "^/$INST-a\$")" = 2
req GET "$API/containers/$INST-a" "" "${G[@]}"
expect "the name finds the caller's own" 200 .id "$ID_G"
req GET "$API/containers/$ID_A" "" "${G[@]}"
expect "other operator cannot see it by id (404)" 404 .error.code not_found
req GET "$API/containers/${ID_A:0:12}" "" "${G[@]}"
expect "not by id prefix either" 404
req GET "$API/containers/$(docker inspect -f '{{.Name}}' "$ID_A" | tr -d /)" "" "${G[@]}"
expect "nor by its Docker name" 404
for verb in stop start restart kill; do
	req POST "$API/containers/$ID_A/$verb" "" "${G[@]}"
	expect "other operator $verb: 404" 404
done
req DELETE "$API/containers/$ID_A?force=1" "" "${G[@]}"
expect "other operator delete: 404" 404
req GET "$API/containers/$ID_A/logs" "" "${G[@]}"
expect "other operator logs: 404" 404
req PATCH "$API/containers/$ID_A" '{"command":["true"]}' "${G[@]}"
expect "other operator patch: 404" 404
req DELETE "$API/containers/$INST-a" "" "${G[@]}"
expect "olga removes her own $INST-a" 204
req GET "$API/containers/$INST-a" "" "${O[@]}"
expect "oscar's is untouched" 200 .id "$ID_A"
req GET "$API/containers" "" "${G[@]}"
expect "other operator's list is empty" 200 '.containers | length' 0
req GET "$API/containers/${ID_A:0:12}" "" "${O[@]}"
expect "owner finds it by id prefix" 200 .name "$INST-a"
req GET "$API/containers" "" "${O[@]}"
expect "owner's list" 200 '.containers | map(.name) | index("'"$INST-a"'") != null' true
req POST "$API/containers" "{\"image\":\"$IMG\"}" "${V[@]}"
expect "viewer cannot create" 403 .error.code forbidden
req GET "$API/containers/$INST-a" "" "${V[@]}"
expect "viewer cannot see others' containers" 404
req GET "$API/containers" "" "${V[@]}"
expect "viewer lists (own, none)" 200 '.containers | length' 0
req GET "$API/containers" "" "${A[@]}"
expect "admin sees every managed container" 200 '[.containers[] | select(.owner == "oscar")] | length > 0' true
req GET "$API/containers?owner=olga" "" "${A[@]}"
expect "admin filters by owner" 200 '.containers | length' 0
req GET "$API/containers?owner=olga" "" "${O[@]}"
expect "operator cannot filter by owner" 403 .error.field owner
req POST "$API/containers" "{\"name\":\"$INST-v\",\"image\":\"$IMG\",$SLEEPER,\"owner\":\"vic\"}" "${A[@]}"
expect "admin creates for a viewer" 201 .owner vic
req GET "$API/containers/$INST-v" "" "${V[@]}"
expect "viewer reads their own" 200 .owner vic
req POST "$API/containers/$INST-v/stop?timeout=1" "" "${V[@]}"
expect "viewer cannot stop their own" 403

req POST "$API/containers" "{\"name\":\"$INST-mem\",\"image\":\"$IMG\",$SLEEPER,\"memory\":67108864,\"start\":false}" "${O[@]}"
expect "memory as a byte count" 201
req GET "$API/containers/$INST-mem" "" "${O[@]}"
expect "memory limit applied" 200 .memory 67108864
req POST "$API/containers" "{\"name\":\"$INST-mem2\",\"image\":\"$IMG\",$SLEEPER,\"start\":false}" "${O[@]}"
expect "no memory given: the role's default applies" 201
req GET "$API/containers/$INST-mem2" "" "${O[@]}"
expect "role default memory (128m)" 200 .memory 134217728
curl -s -o /dev/null "${O[@]}" -XDELETE "$API/containers/$INST-mem"
curl -s -o /dev/null "${O[@]}" -XDELETE "$API/containers/$INST-mem2"

# Unmanaged containers: admins read them, nobody changes them.
docker run -d --name "$INST-unmanaged" "$IMG" sleep 600 >/dev/null
req GET "$API/containers/$INST-unmanaged" "" "${A[@]}"
expect "admin reads an unmanaged container" 200 .managed false
req POST "$API/containers/$INST-unmanaged/stop" "" "${A[@]}"
expect "admin cannot stop an unmanaged container" 403
check "can: an admin may only read an unmanaged container's logs" test "$(can_of alice:a "$INST-unmanaged")" = logs
agrees alice:a "$INST-unmanaged" kill POST /kill
agrees alice:a "$INST-unmanaged" exec POST /exec '{"command":["true"]}'
agrees alice:a "$INST-unmanaged" logs GET /logs
req GET "$API/containers/$INST-unmanaged" "" "${O[@]}"
expect "operator cannot see unmanaged containers" 404
req GET "$API/containers" "" "${A[@]}"
expect "unmanaged not in the list" 200 "[.containers[].name] | index(\"$INST-unmanaged\")" null
docker rm -f "$INST-unmanaged" >/dev/null

# --- hostile specs: refused, named, nothing created ------------------------
hostile() { # hostile NAME STATUS FIELD BODY-EXTRA
	local name=$1 want=$2 field=$3 extra=$4 cname="$INST-h$RANDOM"
	req POST "$API/containers" "{\"name\":\"$cname\",\"image\":\"$IMG\"$extra}" "${O[@]}"
	if [ "$STATUS" = "$want" ] && [ "$(jqb .error.field)" = "$field" ] && gone "$cname"; then
		ok "refused: $name ($want, field $field)"
	else
		not_ok "refused: $name (status $STATUS field $(jqb .error.field): $BODY)"
	fi
}
hostile "privileged" 403 privileged ',"privileged":true'
hostile "host network" 403 network ',"network":"host"'
hostile "other network" 403 network ',"network":"secret"'
hostile "host pid" 403 pid ',"pid":"host"'
hostile "host ipc" 403 ipc ',"ipc":"host"'
hostile "bind mount" 403 'mounts[0]' ',"mounts":[{"type":"bind","source":"/etc","target":"/x"}]'
hostile "volume" 403 'mounts[0]' ',"mounts":[{"type":"volume","source":"data","target":"/x"}]'
hostile "cap_add" 403 cap_add ',"cap_add":["SYS_ADMIN"]'
hostile "device" 403 devices ',"devices":["/dev/kmsg"]'
hostile "host port outside range" 403 'ports[0].host' ',"ports":[{"container":80,"host":80}]'
hostile "memory over the role limit" 403 memory ',"memory":"1g"'
hostile "protected by a non-admin" 403 protected ',"protected":true'
hostile "reserved label" 422 labels ',"labels":{"berth.owner":"alice"}'
hostile "unknown field" 422 domainname ',"domainname":"x"'
hostile "misspelt field" 422 comand ',"comand":["x"]'
hostile "wrong type" 422 'ports[0].container' ',"ports":[{"container":"eighty"}]'
hostile "NUL in a string" 422 'env.A' ',"env":{"A":"x\u0000y"}'
req POST "$API/containers" '{"name":"../etc","image":"'"$IMG"'"}' "${O[@]}"
expect "name with ../ refused" 422 .error.field name
req POST "$API/containers" '{"name":"x","image":"alpine"}' "${O[@]}"
expect "untagged image refused" 403 .error.field image
req POST "$API/containers" '{"name":"x","image":"debian:12"}' "${O[@]}"
expect "image outside the allow-list refused" 403 .error.field image
req POST "$API/containers" "{\"name\":\"$INST-noimg\",\"image\":\"berth-test/absent:1\"}" "${O[@]}"
expect "image not on the host: 422 naming image" 422 .error.field image
check "nothing left by the absent image" gone "$INST-noimg"
req POST "$API/containers" '{"name":"x","image":5}' "${O[@]}"
expect "type error names the field" 422 .error.field image
STATUS=$(curl -s -o "$T/body" -w '%{http_code}' "${O[@]}" -XPOST -H 'Content-Type: text/plain' --data-binary '{"image":"x:1"}' "$API/containers"); BODY=$(cat "$T/body")
expect "text/plain body: 415" 415
req POST "$API/containers" "{\"name\":\"$INST-x\",\"image\":\"$IMG\"}" "${O[@]}" -H 'Origin: http://evil.example'
expect "cross-site Origin refused" 403
req POST "$API/containers" "{\"name\":\"$INST-x\",\"image\":\"$IMG\"}" "${O[@]}" -H 'Sec-Fetch-Site: cross-site'
expect "cross-site Sec-Fetch-Site refused" 403
check "nothing created by cross-site requests" gone "$INST-x"
STATUS=$(curl -s -o "$T/body" -w '%{http_code}' "${O[@]}" -XPOST -H 'Content-Type: application/x-www-form-urlencoded' --data-binary '' "$API/containers/$INST-a/stop"); BODY=$(cat "$T/body")
expect "an empty form post to a mutation: 415" 415
req POST "$API/containers" "{\"name\":\"$INST-x\",\"image\":\"$IMG\",\"ports\":[{\"container\":80,\"host\":1}]}" "${O[@]}"
expect "port 1 is outside the range" 403

# --- quota -------------------------------------------------------------------
for i in 1 2 3 4 5 6; do
	req POST "$API/containers" "{\"name\":\"$INST-q$i\",\"image\":\"$IMG\",$SLEEPER,\"start\":false}" "${O[@]}"
done
expect "quota: a seventh container over a quota of six is refused" 403 '.error.message | test("quota")' true
for i in 1 2 3 4 5 6; do curl -s -o /dev/null "${O[@]}" -XDELETE "$API/containers/$INST-q$i?force=1"; done

# --- 50 concurrent creates of one name -> one container ----------------------
for i in $(seq 1 50); do
	curl -s -o /dev/null -w '%{http_code}\n' "${G[@]}" -XPOST -H 'Content-Type: application/json' \
		-d "{\"name\":\"$INST-race\",\"image\":\"$IMG\",$SLEEPER}" "$API/containers" &
done >"$T/race" 2>&1
wait
check "50 concurrent creates: exactly one container" test "$(docker ps -aq --filter "label=berth.name=$INST-race" | wc -l)" = 1
check "50 concurrent creates: one 201" test "$(grep -c '^201$' "$T/race")" = 1
check "50 concurrent creates: 49 reuses (200)" test "$(grep -c '^200$' "$T/race")" = 49

# --- logs ----------------------------------------------------------------------
req POST "$API/containers" "{\"name\":\"$INST-talk\",\"image\":\"$IMG\",\"command\":[\"sh\",\"-c\",\"echo to-out; echo to-err >&2; i=0; while true; do echo tick \$i; i=\$((i+1)); sleep 0.2; done\"]}" "${O[@]}"
expect "chatty container" 201
sleep 1
req GET "$API/containers/$INST-talk/logs?stderr=0" "" "${O[@]}"
check "logs: stdout only" bash -c 'grep -q to-out <<<"$1" && ! grep -q to-err <<<"$1"' _ "$BODY"
req GET "$API/containers/$INST-talk/logs?stdout=0" "" "${O[@]}"
check "logs: stderr only" bash -c 'grep -q to-err <<<"$1" && ! grep -q to-out <<<"$1"' _ "$BODY"
req GET "$API/containers/$INST-talk/logs?tail=1&timestamps=1" "" "${O[@]}"
check "logs: tail and timestamps" bash -c '[ "$(wc -l <<<"$1")" = 1 ] && grep -q "^20[0-9-]*T" <<<"$1"' _ "$BODY"
req GET "$API/containers/$INST-talk/logs?tail=x" "" "${O[@]}"
expect "logs: bad tail is 400 naming it" 400 .error.field tail
timeout 2 curl -sN "${O[@]}" "$API/containers/$INST-talk/logs?follow=1&tail=0" >"$T/follow"
check "follow streams new lines live" test "$(grep -c tick "$T/follow")" -ge 3

# A departed follower frees its worker: with one worker, the next request is answered.
start_berth one --config "$T/berth.conf" --htpasswd "$T/htpasswd" --instance "$INST-one" \
	--workers 1 || exit 1
req POST "$URL_one/api/v1/containers" "{\"name\":\"$INST-one-talk\",\"image\":\"$IMG\",\"command\":[\"sh\",\"-c\",\"while true; do echo x; sleep 0.2; done\"]}" "${O[@]}"
expect "a chatty container on a one-worker berth" 201
timeout 1.5 curl -sN "${O[@]}" "$URL_one/api/v1/containers/$INST-one-talk/logs?follow=1" >/dev/null
STATUS=$(curl -s -o /dev/null -w "%{http_code}" --max-time 4 "${O[@]}" "$URL_one/api/v1/health")
check "client gone: the only worker serves the next request" test "$STATUS" = 200
stop_berth "$PID_one"

req POST "$API/containers" "{\"name\":\"$INST-brief\",\"image\":\"$IMG\",\"command\":[\"sh\",\"-c\",\"echo a; sleep 1; echo b\"]}" "${O[@]}"
STATUS=$(curl -sN -o "$T/f2" -w '%{http_code}' --max-time 10 "${O[@]}" "$API/containers/$INST-brief/logs?follow=1")
check "follow ends when the container stops" bash -c '[ "$1" = 200 ] && grep -q b "$2"' _ "$STATUS" "$T/f2"

# --- stats and exec ---------------------------------------------------------------
req GET "$API/containers/$INST-talk/stats" "" "${O[@]}"
expect "stats sample" 200 '(.cpu_percent | type) + " " + ((.memory_limit > 0) | tostring)' "number true"
req POST "$API/containers/$INST-talk/exec" '{"command":["sh","-c","echo hi; echo oops >&2; exit 3"]}' "${O[@]}"
expect "exec exit code" 200 .exit_code 3
check "exec stdout and stderr" test "$(jqb .stdout)|$(jqb .stderr)" = "hi|oops"
req POST "$API/containers/$INST-talk/exec" '{"command":["sleep","5"],"timeout":1}' "${O[@]}"
expect "exec timeout reported" 200 .timed_out true
req POST "$API/containers/$INST-v/exec" '{"command":["true"]}' "${V[@]}"
expect "viewer cannot exec" 403
req POST "$API/containers/$INST-talk/exec" '{"cmd":["true"]}' "${O[@]}"
expect "exec body validated" 422 .error.field cmd

# --- lifecycle: already-in-that-state is success --------------------------------------
req POST "$API/containers/$INST-a/stop?timeout=1" "" "${O[@]}"
expect "stop" 200 .state exited
req POST "$API/containers/$INST-a/stop?timeout=1" "" "${O[@]}"
expect "stop again: still success" 200 .state exited
req POST "$API/containers/$INST-a/kill" "" "${O[@]}"
expect "kill a stopped container: success" 200
req POST "$API/containers/$INST-a/start" "" "${O[@]}"
expect "start" 200 .state running
req POST "$API/containers/$INST-a/start" "" "${O[@]}"
expect "start again: success" 200 .state running
req POST "$API/containers/$INST-a/kill?signal=bad;rm" "" "${O[@]}"
expect "bad signal refused" 400 .error.field signal
req POST "$API/containers/$INST-a/stop?timeout=-1" "" "${O[@]}"
expect "bad timeout refused" 400 .error.field timeout
req DELETE "$API/containers/$INST-a" "" "${O[@]}"
expect "delete a running container without force: 409" 409

# --- PATCH: recreate with the same name and owner ------------------------------------
req PATCH "$API/containers/$INST-a" '{"command":["sleep","601"],"env":{"MODE":"x"},"ports":[{"container":9090}]}' "${O[@]}"
expect "patch recreates" 200 '.command | join(" ")' "sleep 601"
check "patch keeps the name" test "$(jqb .name)" = "$INST-a"
check "patch keeps the owner" test "$(jqb .owner)" = oscar
check "patch: new env" test "$(jqb '.env | index("MODE=x") != null')" = true
check "patch: new port" test "$(jqb '.ports["9090/tcp"] > 0')" = true
HP=$(jqb '.ports["9090/tcp"]')
check "details: env is the container's own, the image's apart" \
	test "$(jqb '(.env | join(",")) + " " + (.image_env | map(select(startswith("PATH="))) | length | tostring)')" = "MODE=x 1"
req PATCH "$API/containers/$INST-a" '{"env":{"MODE":"y"}}' "${O[@]}"
expect "patch env only" 200 '.env | join(",")' "MODE=y"
check "patch keeps the host port it had ($HP)" test "$(jqb '.ports["9090/tcp"]')" = "$HP"
check "patch: running as before" test "$(jqb .state)" = running
check "patch: old container gone" test "$(jqb .id)" != "$ID_A"
check "patch: no leftover aside" test -z "$(docker ps -aq --filter "name=$INST-a.*-old")"
req PATCH "$API/containers/$INST-a" '{"image":"berth-test/busybox:2"}' "${O[@]}"
expect "patch refuses other fields" 422 .error.field image
req PATCH "$API/containers/$INST-a" '{"ports":[{"container":80,"host":80}]}' "${O[@]}"
expect "patch applies policy" 403 '.error.field' 'ports[0].host'
req GET "$API/containers/$INST-a" "" "${O[@]}"
expect "refused patch left the container as it was" 200 '.command | join(" ")' "sleep 601"

# --- protection ---------------------------------------------------------------------
req POST "$API/containers" "{\"name\":\"$INST-prot\",\"image\":\"$IMG\",$SLEEPER,\"protected\":true}" "${A[@]}"
expect "admin creates a protected container" 201 .protected true
for verb in stop restart kill; do
	req POST "$API/containers/$INST-prot/$verb" "" "${A[@]}"
	expect "protected: $verb refused" 403 '.error.message | test("protected")' true
done
req DELETE "$API/containers/$INST-prot" "" "${A[@]}"
expect "protected: remove refused" 403
req PATCH "$API/containers/$INST-prot" '{"command":["true"]}' "${A[@]}"
expect "protected: recreate refused" 403

# --- issue 15: what an attack found ------------------------------------------------------
# Labels an image carries are never believed: only what berth stamped on create counts.
printf 'FROM %s\nLABEL berth.protected=true berth.service=%s-svc berth.job=0123456789abcdef berth.catalog=server\n' \
	"$IMG" "$INST" | docker build -q -t "berth-test/labelled-$INST:1" - >/dev/null
req POST "$API/containers" "{\"name\":\"$INST-lbl\",\"image\":\"berth-test/labelled-$INST:1\",$SLEEPER}" "${O[@]}"
expect "image with berth.* labels: created" 201 .protected false
check "image labels do not make it a service's, a job's or a catalog's" \
	test "$(jqb '[.service, .job, .catalog] | map(select(. != null)) | length')" = 0
req GET "$API/containers" "" "${O[@]}"
check "it is listed as a plain container" test "$(jqb "[.containers[] | select(.name == \"$INST-lbl\")] | length")" = 1
req DELETE "$API/containers/$INST-lbl?force=1" "" "${O[@]}"
expect "its owner removes it: the image cannot protect it" 204
docker rmi "berth-test/labelled-$INST:1" >/dev/null

# Exec runs as the container's user unless the role may choose (policy exec_user).
req POST "$API/containers" "{\"name\":\"$INST-nobody\",\"image\":\"$IMG\",$SLEEPER,\"user\":\"65534:65534\"}" "${O[@]}"
expect "container running as nobody" 201
req POST "$API/containers/$INST-nobody/exec" '{"command":["id","-u"]}' "${O[@]}"
check "exec without a user runs as the container's" test "$(jqb .stdout | tr -d '\n')" = 65534
req POST "$API/containers/$INST-nobody/exec" '{"command":["id","-u"],"user":"0:0"}' "${O[@]}"
expect "exec as root in a nobody container: refused" 403 .error.field user
req POST "$API/containers/$INST-nobody/exec" '{"command":["id","-u"],"user":"0:0"}' "${A[@]}"
expect "admin's policy has no exec_user either" 403 .error.field user
curl -s -o /dev/null "${O[@]}" -XDELETE "$API/containers/$INST-nobody?force=1"

# Every container gets memory, CPU, pids and log limits; meaningless numbers are refused.
req POST "$API/containers" "{\"name\":\"$INST-floor\",\"image\":\"$IMG\",$SLEEPER,\"start\":false}" "${O[@]}"
expect "no limits asked for" 201
check "memory: the role's default" test "$(docker inspect -f '{{.HostConfig.Memory}}' "$(dk "$INST-floor")")" = 134217728
check "cpus: the built-in default (1)" test "$(docker inspect -f '{{.HostConfig.NanoCpus}}' "$(dk "$INST-floor")")" = 1000000000
check "pids: the built-in default (256)" test "$(docker inspect -f '{{.HostConfig.PidsLimit}}' "$(dk "$INST-floor")")" = 256
check "logs: json-file capped" test "$(docker inspect -f '{{.HostConfig.LogConfig.Type}} {{index .HostConfig.LogConfig.Config "max-size"}} {{index .HostConfig.LogConfig.Config "max-file"}}' "$(dk "$INST-floor")")" = "json-file 10485760 3"
curl -s -o /dev/null "${O[@]}" -XDELETE "$API/containers/$INST-floor?force=1"
hostile "cpus too small to be a limit (would be NanoCpus 0)" 422 cpus ',"cpus":1e-10'
hostile "pids under 8" 422 pids ',"pids":2'
hostile "pids over the role's maximum" 403 pids ',"pids":100000'
hostile "cpus over the role's maximum" 403 cpus ',"cpus":64'
req POST "$API/containers" "{\"name\":\"$INST-fork\",\"image\":\"$IMG\",$SLEEPER,\"pids\":16}" "${O[@]}"
expect "a container with pids 16" 201
req POST "$API/containers/$INST-fork/exec" '{"command":["sh","-c","i=0; while [ $i -lt 100 ]; do sleep 30 & i=$((i+1)); done 2>/dev/null; echo done"],"timeout":20}' "${O[@]}"
req GET "$API/containers/$INST-fork/stats" "" "${O[@]}"
check "a fork loop is stopped by the pids limit ($(jqb .pids) processes)" \
	bash -c '[ "$1" -ge 2 ] && [ "$1" -le 16 ]' _ "$(jqb .pids)"
curl -s -o /dev/null "${O[@]}" -XDELETE "$API/containers/$INST-fork?force=1"

# A protected name is taken by admins only; an admin's forced remove always works.
req POST "$API/containers" "{\"name\":\"$INST-guarded\",\"image\":\"$IMG\",$SLEEPER,\"restart\":\"always\"}" "${O[@]}"
expect "operator cannot take a name on the protected list" 403 .error.field name
check "nothing made under the protected name" gone "$INST-guarded"
req POST "$API/containers" "{\"name\":\"$INST-guarded\",\"image\":\"$IMG\",$SLEEPER}" "${A[@]}"
expect "admin may" 201 .protected true
req POST "$API/containers/$INST-guarded/stop" "" "${A[@]}"
expect "config-protected: stop refused" 403
req DELETE "$API/containers/$INST-guarded" "" "${A[@]}"
expect "admin remove without force: refused (protected)" 403
req DELETE "$API/containers/$INST-guarded?force=1" "" "${A[@]}"
expect "admin's forced remove of a protected container" 204
req DELETE "$API/containers/$INST-prot?force=1" "" "${A[@]}"
expect "admin's forced remove of a label-protected container" 204

# A recreate holds the name for its owner: another user's creates of that name in a
# loop make (and reuse) her own container, never touch oscar's.
(for _ in $(seq 1 60); do
	curl -s -o /dev/null -w '%{http_code}\n' "${G[@]}" -XPOST -H 'Content-Type: application/json' \
		-d "{\"name\":\"$INST-a\",\"image\":\"$IMG\",$SLEEPER}" "$API/containers"
done) >"$T/hijack" 2>&1 &
HIJACK=$!
pfail=0
for i in 1 2 3 4 5; do
	req PATCH "$API/containers/$INST-a" "{\"command\":[\"sleep\",\"60$i\"]}" "${O[@]}"
	[ "$STATUS" = 200 ] || pfail=1
done
wait "$HIJACK"
check "five PATCHes during another user's create loop all succeed" test "$pfail" = 0
check "the name still belongs to its owner" test "$(docker inspect -f '{{index .Config.Labels "berth.owner"}}' "$(dk "$INST-a" oscar)")" = oscar
check "the other user got her own, once made and then reused" test "$(grep -c '^201$' "$T/hijack") $(grep -c '^200$' "$T/hijack")" = "1 59"
check "no container left aside by the recreates" test -z "$(docker ps -aq --filter "name=$INST-a.*-old")"
curl -s -o /dev/null "${G[@]}" -XDELETE "$API/containers/$INST-a?force=1"

# A lost race gets a real answer: never 200 with nothing in it.
bad=0
for i in $(seq 1 15); do
	curl -s -o /dev/null "${G[@]}" -XPOST -H 'Content-Type: application/json' \
		-d "{\"name\":\"$INST-lr\",\"image\":\"$IMG\",$SLEEPER,\"start\":false}" "$API/containers"
	curl -s -o /dev/null "${G[@]}" -XDELETE "$API/containers/$INST-lr?force=1" &
	out=$(curl -s -w '\n%{http_code}' "${A[@]}" -XPOST -H 'Content-Type: application/json' \
		-d "{\"name\":\"$INST-lr\",\"image\":\"$IMG\",$SLEEPER,\"start\":false}" "$API/containers")
	wait
	code=$(tail -1 <<<"$out")
	case "$code" in
	200 | 201) [ "$(head -1 <<<"$out" | jq -r .id)" != null ] || bad=$((bad + 1)) ;;
	409) ;;
	*) bad=$((bad + 1)) ;;
	esac
	curl -s -o /dev/null "${A[@]}" -XDELETE "$API/containers/$INST-lr?force=1"
done
check "a create racing a remove answers 201 with the container or 409 ($bad odd)" test "$bad" = 0

# A job's container is the job's: not listed, not changed, not counted once finished.
req POST "$API/jobs" "{\"image\":\"$IMG\",\"command\":[\"sleep\",\"30\"]}" "${G[@]}"
expect "a long job" 202
JOBC="job-$(jqb .id)"
wait_for 20 bash -c '[ -n "$(docker ps -q --filter "label=berth.name=$1" --filter status=running)" ]' _ "$JOBC"
req GET "$API/containers?all=1" "" "${G[@]}"
check "job containers are not in the container list" test "$(jqb "[.containers[] | select(.name == \"$JOBC\")] | length")" = 0
for how in "PATCH /" "POST /restart" "POST /stop" "POST /start" "POST /update" "DELETE /"; do
	m=${how%% *}; p=${how#* }; p=${p#/}
	req "$m" "$API/containers/$JOBC${p:+/$p}" "$([ "$m" = PATCH ] && echo '{"restart":"always"}')" "${G[@]}"
	expect "job container: $m /containers/job-…/$p refused (409)" 409 '.error.message | test("/api/v1/jobs")' true
done
check "can: a job's container offers its owner exec, console and logs alone" test "$(can_of olga:g "$JOBC")" = exec,console,logs
agrees olga:g "$JOBC" start POST /start
agrees olga:g "$JOBC" edit PATCH "" '{"restart":"always"}'
agrees olga:g "$JOBC" exec POST /exec '{"command":["true"]}'

# --- can: what a container's view says its caller may do is what berth does -----------
req POST "$API/containers" "{\"name\":\"$INST-can\",\"image\":\"$IMG\",$SLEEPER,\"owner\":\"oscar\"}" "${A[@]}"
expect "a container of oscar's to try can on" 201 '.can | [.[]] | all' true
req GET "$API/containers?all=1" "" "${O[@]}"
LISTED=$(jqb ".containers[] | select(.name == \"$INST-can\") | .can | tojson")
req GET "$API/containers/$INST-can" "" "${O[@]}"
expect "can: the owner may do everything to a plain container" 200 '.can | [.[]] | all' true
check "can: the list item says what the details say" test "$LISTED" = "$(jqb '.can | tojson')"
check "can: another operator cannot even see it" test "$(can_of olga:g "$INST-can")" = ""
check "can: the viewer's own container offers it logs alone" test "$(can_of vic:v "$INST-v")" = logs
agrees vic:v "$INST-v" stop POST "/stop?timeout=1"
agrees vic:v "$INST-v" exec POST /exec '{"command":["true"]}'
agrees vic:v "$INST-v" logs GET /logs
agrees oscar:o "$INST-can" stop POST "/stop?timeout=1"
agrees oscar:o "$INST-can" start POST /start
agrees oscar:o "$INST-can" restart POST "/restart?timeout=1"
agrees oscar:o "$INST-can" kill POST "/kill?signal=SIGCONT"
agrees oscar:o "$INST-can" update POST /update
agrees oscar:o "$INST-can" edit PATCH "" '{"restart":"no"}'
agrees oscar:o "$INST-can" exec POST /exec '{"command":["true"]}'
agrees oscar:o "$INST-can" remove DELETE "?force=1"
req POST "$API/containers" "{\"name\":\"$INST-canp\",\"image\":\"$IMG\",$SLEEPER,\"owner\":\"oscar\",\"protected\":true}" "${A[@]}"
expect "a protected container of oscar's" 201 .protected true
check "can: the owner of a protected one may start it, exec, open a console and read logs" test "$(can_of oscar:o "$INST-canp")" = start,exec,console,logs
check "can: an admin may also remove it (with force)" test "$(can_of alice:a "$INST-canp")" = start,remove,exec,console,logs
agrees oscar:o "$INST-canp" stop POST "/stop?timeout=1"
agrees oscar:o "$INST-canp" edit PATCH "" '{"restart":"no"}'
agrees oscar:o "$INST-canp" remove DELETE "?force=1"
agrees alice:a "$INST-canp" restart POST "/restart?timeout=1"
agrees alice:a "$INST-canp" start POST /start
agrees alice:a "$INST-canp" remove DELETE "?force=1"
for i in 1 2 3 4 5 6; do
	curl -s -o /dev/null "${G[@]}" -XPOST -H 'Content-Type: application/json' \
		-d "{\"image\":\"$IMG\",\"command\":[\"true\"]}" "$API/jobs"
done
wait_for 30 bash -c '[ "$(curl -s -u olga:g "$1/jobs?status=succeeded" | jq ".jobs | length")" -ge 6 ]' _ "$API"
made=0
for i in 1 2 3 4; do
	req POST "$API/containers" "{\"name\":\"$INST-jq$i\",\"image\":\"$IMG\",$SLEEPER,\"start\":false}" "${G[@]}"
	[ "$STATUS" = 201 ] && made=$((made + 1))
done
check "finished jobs' containers hold no quota (4 of 4 made)" test "$made" = 4
for i in 1 2 3 4; do curl -s -o /dev/null "${G[@]}" -XDELETE "$API/containers/$INST-jq$i?force=1"; done

# Every recreate re-checks the policy as it is now.
docker tag "$IMG" "berth-test/upd-$INST:1"
req POST "$API/containers" "{\"name\":\"$INST-upd\",\"image\":\"berth-test/upd-$INST:1\",$SLEEPER,\"memory\":\"200m\",\"start\":false}" "${O[@]}"
expect "a container at 200m under a 256m maximum" 201
cp "$T/berth.conf" "$T/berth.conf.orig"
sed -i 's/memory_max = "256m"/memory_max = "150m"/' "$T/berth.conf"
kill -HUP "$(sup_pid "$PID_main")"
sleep 1
docker tag berth-test/busybox:2 "berth-test/upd-$INST:1"
req POST "$API/containers/$INST-upd/update" "" "${O[@]}"
expect "update under a tightened policy: refused" 403 .error.field memory
check "the refused update left it on the old image" test "$(docker inspect -f '{{.Image}}' "$(dk "$INST-upd")")" = "$(docker image inspect -f '{{.Id}}' "$IMG")"
cp "$T/berth.conf.orig" "$T/berth.conf"
kill -HUP "$(sup_pid "$PID_main")"
sleep 1
curl -s -o /dev/null "${O[@]}" -XDELETE "$API/containers/$INST-upd?force=1"
docker rmi "berth-test/upd-$INST:1" >/dev/null

# HEAD never changes anything.
STATUS=$(curl -s -o /dev/null -w "%{http_code}" -I "${A[@]}" "$URL_main/shutdown")
check "HEAD /shutdown is refused (405)" test "$STATUS" = 405
check "and berth-up is still up" kill -0 "$PID_main"


# --- audit -----------------------------------------------------------------------------
req GET "$API/audit?limit=1000" "" "${A[@]}"
expect "audit readable" 200
check "audit: allowed create recorded" test "$(jqb '[.entries[] | select(.user=="oscar" and .action=="POST /api/v1/containers" and .result=="ok")] | length > 0')" = true
check "audit: refused create recorded" test "$(jqb '[.entries[] | select(.user=="oscar" and .action=="POST /api/v1/containers" and .result=="forbidden")] | length > 0')" = true
check "audit: viewer refusal recorded" test "$(jqb '[.entries[] | select(.user=="vic" and .status==403)] | length > 0')" = true
# What was done, not just "ok": the command and exit code of an exec, created vs reused.
# The request line has the command; the relay's "exec end" line (same request id) how it ended.
check "audit: exec line has the command, its end line the exit code" test "$(jqb '. as $a | [$a.entries[] | select(.action == "POST /api/v1/containers/{ref}/exec" and .target == "'"$INST-talk"'" and (.command | join(" ")) == "sh -c echo hi; echo oops >&2; exit 3")][0].request_id as $r | [$a.entries[] | select(.action == "exec end" and .request_id == $r)][0] | "\(.target) \(.exit_code)"')" = "$INST-talk 3"
check "audit: an exec that timed out ends with no exit code" test "$(jqb '. as $a | [$a.entries[] | select(.action == "POST /api/v1/containers/{ref}/exec" and .command == ["sleep","5"])][0].request_id as $r | [$a.entries[] | select(.action == "exec end" and .request_id == $r)][0] | .result == "timed_out" and has("exit_code") and .exit_code == null')" = true
check "audit: 50 concurrent creates: one created, 49 reused" test "$(jqb '[.entries[] | select(.target == "'"$INST-race"'" and .action == "POST /api/v1/containers") | .outcome] | group_by(.) | map("\(.[0])=\(length)") | join(",")')" = "created=1,reused=49"
check "audit: another owner's same name is her own create" test "$(jqb '[.entries[] | select(.user == "olga" and .target == "'"$INST-a"'" and .action == "POST /api/v1/containers")][0].result')" = ok
req GET "$API/audit?limit=2" "" "${A[@]}"
expect "audit ?limit=2: two lines and a cursor" 200 '(.entries | length | tostring) + " " + (.next | type)' "2 string"
N1=$(jqb '.entries[0].request_id')
req GET "$API/audit?limit=2&before=$(jqb .next)" "" "${A[@]}"
expect "audit ?before=: the page before, older" 200 '[.entries[].request_id] | index("'"$N1"'")' null
check "audit lines are one JSON object each" bash -c 'jq -c . "$1" >/dev/null' _ "$T/state/audit.log"

# --- reconcile after losing the records ----------------------------------------------------
n_before=$(ls "$T/state/containers" | wc -l)
rm -rf "$T/state/containers"
out=$("$BERTH_FCGI" --config "$T/berth.conf" --state-dir "$T/state" --instance "$INST" --allow-root reconcile 2>&1)
check "reconcile restores every record ($out)" test "$(ls "$T/state/containers" | wc -l)" = "$n_before"
check "restored record keeps the owner" test "$(jq -r .owner "$T/state/containers/$(dk "$INST-race").json")" = olga
echo '{"id":"ghost","owner":"nobody"}' >"$T/state/containers/0000ghost.json"
wait_for 8 bash -c '! test -e "$1"' _ "$T/state/containers/0000ghost.json"
check "periodic reconcile drops a ghost record" test ! -e "$T/state/containers/0000ghost.json"
req GET "$API/containers/$INST-race" "" "${G[@]}"
expect "ownership intact after reconcile" 200 .owner olga

# --- metrics ------------------------------------------------------------------------------
req GET "$URL_main/metrics"
check "metrics: requests by route and status" grep -q 'berth_requests_total{route="/api/v1/containers",status="201"}' <<<"$BODY"
check "metrics: latency histogram" grep -q 'berth_request_duration_ms_bucket{route="/api/v1/containers",status="201",le="+Inf"}' <<<"$BODY"
check "metrics: containers by state" grep -q 'berth_containers{state="running"} [1-9]' <<<"$BODY"

# --- cleanup on exit ------------------------------------------------------------------------
stop_berth "$PID_main"
check "berth-up removed every container it started" test -z "$(docker ps -aq --filter "label=berth.instance=$INST")"

finish
