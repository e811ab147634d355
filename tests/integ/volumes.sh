#!/bin/bash
# Volumes as owned resources through real nginx -> berth-fcgi -> dockerd:
# another owner's volume by name is your own empty one, lists and lookups
# never show another's, attacks (driver options, path-like names, absurd
# tmpfs, 200 mounts) are refused with nothing created, the count quota holds
# under 20 concurrent creates, anonymous volumes go with their container,
# prune takes only the caller's unused ones, reconcile restores records.
. "$(dirname "$0")/../lib.sh"

INST="t-vol-$$"
cat >"$T/berth.conf" <<CONF
users = { root = "admin"; alice = "operator"; bob = "operator"; vic = "viewer"; };
policy = {
  operator = { images = [ "berth-test/*" ]; volumes = true; memory = "64m"; memory_max = "256m";
               quota = { containers = 10; volumes = 4; }; };
  admin = { images = [ "*" ]; volumes = true; };
};
CONF
{ htpasswd_line root r; htpasswd_line alice a; htpasswd_line bob b; htpasswd_line vic v; } >"$T/htpasswd"
mkdir -p "$T/state"
start_berth main --config "$T/berth.conf" --htpasswd "$T/htpasswd" --state-dir "$T/state" \
	--instance "$INST" || exit 1
API="$URL/api/v1"
R=(-u root:r) A=(-u alice:a) B=(-u bob:b) V=(-u vic:v)
IMG=berth-test/busybox:1

# vols [LABEL=VALUE...]: how many of this instance's volumes carry every label given.
vols() {
	local f=(--filter "label=berth.instance=$INST") l
	for l in "$@"; do f+=(--filter "label=$l"); done
	docker volume ls -q "${f[@]}" | wc -l
}
# ct BODY-MEMBERS USER...: creates a container of IMG with the extra spec members.
ct() {
	local members=$1; shift
	req POST "$API/containers" "{\"image\":\"$IMG\",$members}" "$@"
}

# --- another owner's volume by name is your own, empty one ----------------------
ct '"name":"w","command":["sh","-c","echo secret >/data/f; sleep 600"],"mounts":[{"type":"volume","source":"data","target":"/data"}]' "${A[@]}"
expect "alice mounts volume data: 201" 201
check "alice's data was made labelled as hers" test "$(vols berth.name=data berth.owner=alice berth.managed=1)" = 1
ADN=$(docker volume ls -q --filter "label=berth.instance=$INST" --filter label=berth.owner=alice --filter label=berth.name=data)
check "its Docker name is derived, not the name given" test -n "$ADN" -a "$ADN" != data
wait_for 10 bash -c 'docker exec "$1" cat /data/f 2>/dev/null | grep -q secret' _ "$(dk w alice)"
ct '"name":"r","command":["sleep","600"],"mounts":[{"type":"volume","source":"data","target":"/data"}]' "${B[@]}"
expect "bob mounts volume data too: 201" 201
check "bob got a volume of his own" test "$(vols berth.name=data berth.owner=bob)" = 1
req POST "$API/containers/r/exec" '{"command":["cat","/data/f"]}' "${B[@]}"
expect "bob cannot read alice's file: his data is empty" 200 '.exit_code != 0 and (.stdout | contains("secret") | not)' true
req POST "$API/containers/r/exec" '{"command":["sh","-c","ls -A /data | wc -l"]}' "${B[@]}"
expect "bob's data holds nothing" 200 '.stdout | tonumber' 0
check "dockerd made no unlabelled volume named data" test -z "$(docker volume ls -q --filter name='^data$')"

# --- lookups and lists never cross owners ----------------------------------------
req GET "$API/volumes/data" "" "${B[@]}"
expect "bob's data is his" 200 .owner bob
check "bob's view lists his container r" test "$(jqb '[.containers[].name] == ["r"] and .in_use')" = true
req GET "$API/volumes/data" "" "${A[@]}"
expect "alice's data is hers, with a size" 200 '(.owner + " " + (.size | type) + " " + (.containers[0].name))' "alice number w"
req GET "$API/volumes/$ADN" "" "${B[@]}"
expect "alice's volume by Docker name: 404 for bob" 404 .error.code not_found
req DELETE "$API/volumes/$ADN" "" "${B[@]}"
expect "bob cannot delete alice's: 404" 404
req DELETE "$API/volumes/$ADN?force=1" "" "${B[@]}"
expect "nor forced: 404" 404
check "alice's volume is still there" docker volume inspect "$ADN" -f .
req GET "$API/volumes" "" "${B[@]}"
expect "bob's list: his own only" 200 '[.volumes[].owner] | unique | join(",")' bob
req GET "$API/volumes?owner=alice" "" "${B[@]}"
expect "bob cannot list alice's (?owner=)" 403 .error.field owner
req GET "$API/volumes" "" "${V[@]}"
expect "a viewer lists none of theirs" 200 '.volumes | length' 0
req GET "$API/volumes/data" "" "${V[@]}"
expect "a viewer cannot see others' volumes" 404
req POST "$API/volumes" '{"name":"v"}' "${V[@]}"
expect "a viewer cannot create" 403
req GET "$API/volumes?owner=alice" "" "${R[@]}"
expect "an admin lists alice's" 200 '[.volumes[] | select(.name == "data")][0].docker_name' "$ADN"
req GET "$API/volumes/$ADN" "" "${R[@]}"
expect "an admin finds one by Docker name" 200 .owner alice

# --- attacks: refused, nothing created -------------------------------------------
n0=$(vols)
req POST "$API/volumes" '{"name":"etc","driver_opts":{"type":"none","o":"bind","device":"/etc"}}' "${A[@]}"
expect "driver options refused" 403 .error.field driver_opts
req POST "$API/volumes" '{"name":"nfs","driver":"nfs"}' "${A[@]}"
expect "another driver refused" 403 .error.field driver
req POST "$API/volumes" '{"name":"x","driver":"local","driver_opts":{}}' "${R[@]}"
expect "local and no options is fine (admin)" 201 .owner root
req DELETE "$API/volumes/x" "" "${R[@]}"
expect "and removed" 204
req POST "$API/volumes" '{"name":"a..b"}' "${A[@]}"
expect "a name with .. refused" 422 .error.field name
req POST "$API/volumes" '{"name":"../etc"}' "${A[@]}"
expect "a path for a name refused" 422 .error.field name
req POST "$API/volumes" '{"name":"l","labels":{"berth.owner":"bob"}}' "${A[@]}"
expect "berth labels refused" 422 .error.field labels
ct '"mounts":[{"type":"volume","source":"etc/passwd","target":"/x"}]' "${A[@]}"
expect "a mount source with / refused" 422 .error.field 'mounts[0].source'
ct '"mounts":[{"type":"volume","source":"../../etc","target":"/x"}]' "${A[@]}"
expect "a mount source with .. refused" 422 .error.field 'mounts[0].source'
ct '"mounts":[{"type":"volume","source":"ok","target":"/ok"},{"type":"volume","source":"x..y","target":"/x"}]' "${A[@]}"
expect "the second mount's source is named" 422 .error.field 'mounts[1].source'
ct '"mounts":[{"type":"tmpfs","target":"/t","size":"999999g"}]' "${A[@]}"
expect "an absurd tmpfs refused" 422 .error.field 'mounts[0].size'
ct '"memory":"32m","mounts":[{"type":"tmpfs","target":"/t","size":"20m"},{"type":"tmpfs","target":"/u","size":"20m"}]' "${A[@]}"
expect "tmpfs sizes add up within the memory limit" 422 .error.field 'mounts[1].size'
ct '"mounts":[{"type":"tmpfs","source":"data","target":"/t"}]' "${A[@]}"
expect "a tmpfs has no source" 422 .error.field 'mounts[0].source'
ct '"mounts":[{"type":"volume","source":"data","target":"/t","size":"1m"}]' "${A[@]}"
expect "only a tmpfs takes a size" 422 .error.field 'mounts[0].size'
many=$(jq -nc '[range(1; 201) | {type: "volume", source: "m\(.)", target: "/m\(.)"}]')
ct "\"mounts\":$many" "${A[@]}"
expect "200 mounts refused" 422 .error.field mounts
check "nothing was created by any of them" test "$(vols)" = "$n0"
check "no container either" test "$(docker ps -aq --filter "label=berth.instance=$INST" --filter label=berth.owner=alice | wc -l)" = 1

# --- tmpfs --------------------------------------------------------------------------
ct '"name":"tm","command":["sleep","600"],"memory":"64m","mounts":[{"type":"tmpfs","target":"/t","size":"16m"},{"type":"tmpfs","target":"/u","size":8388608}]' "${B[@]}"
expect "bob's tmpfs mounts: 201" 201
check "tmpfs sized as asked" test "$(docker inspect -f '{{range .HostConfig.Mounts}}{{.TmpfsOptions.SizeBytes}} {{end}}' "$(dk tm bob)")" = "16777216 8388608 "
ct '"name":"tm2","command":["sleep","600"],"mounts":[{"type":"tmpfs","target":"/t"}]' "${B[@]}"
expect "a tmpfs without a size: 201" 201
check "is the memory limit's size (64m)" test "$(docker inspect -f '{{range .HostConfig.Mounts}}{{.TmpfsOptions.SizeBytes}}{{end}}' "$(dk tm2 bob)")" = 67108864
req POST "$API/containers/tm2/exec" '{"command":["sh","-c","grep \" /t \" /proc/mounts"]}' "${B[@]}"
expect "mounted as tmpfs" 200 '.stdout | startswith("tmpfs /t tmpfs")' true
for c in tm tm2; do
	req DELETE "$API/containers/$c?force=1" "" "${B[@]}"
	expect "$c removed" 204
done

# --- the count quota, under 20 concurrent creates ---------------------------------
req POST "$API/volumes" '{"name":"v2","labels":{"app":"web"}}' "${A[@]}"
expect "alice creates v2" 201 .labels.app web
check "v2 has a record" test -f "$T/state/volumes/$(jqb .docker_name).json"
req POST "$API/volumes" '{"name":"v2"}' "${A[@]}"
expect "again: 200, the same one" 200 .just_created false
req POST "$API/volumes" '{"name":"v3"}' "${A[@]}"
expect "alice creates v3 (3 of 4)" 201
for i in $(seq 1 20); do
	curl -s -o /dev/null -w '%{http_code}\n' -u alice:a -H 'Content-Type: application/json' \
		--data-binary "{\"name\":\"c$i\"}" "$API/volumes" &
done >"$T/race" 2>&1
wait
check "20 concurrent creates on the last slot: exactly one 201 ($(sort "$T/race" | uniq -c | tr -s ' \n' ' '))" test "$(grep -c '^201$' "$T/race")" = 1 -a "$(grep -c '^403$' "$T/race")" = 19
check "alice holds 4 volumes" test "$(vols berth.owner=alice)" = 4
req POST "$API/volumes" '{"name":"c99"}' "${A[@]}"
expect "the fifth: 403 quota" 403 .error.code forbidden
ct '"mounts":[{"type":"volume","source":"fresh","target":"/f"}]' "${A[@]}"
expect "a container that would make a fifth: 403" 403
check "and nothing was made for it" test "$(vols berth.owner=alice berth.name=fresh)" = 0

# --- anonymous volumes go with their container --------------------------------------
ct '"name":"anon","command":["sleep","600"],"mounts":[{"type":"volume","target":"/scratch"}]' "${B[@]}"
expect "bob: a mount without source: 201" 201
check "an anonymous volume of bob's" test "$(vols berth.owner=bob berth.anonymous=1)" = 1
req GET "$API/volumes" "" "${B[@]}"
expect "listed as anonymous, used by anon" 200 '[.volumes[] | select(.anonymous)][0].containers[0].name' anon
req DELETE "$API/containers/anon?force=1" "" "${B[@]}"
expect "container removed" 204
check "its anonymous volume went with it" test "$(vols berth.owner=bob berth.anonymous=1)" = 0

# --- in use: 409, forced: its containers go first ------------------------------------
req DELETE "$API/volumes/data" "" "${A[@]}"
expect "alice's data is in use: 409 naming w" 409 '.error.message | contains("w")' true
req DELETE "$API/volumes/data?force=1" "" "${A[@]}"
expect "forced: removed" 204
check "with the container using it" test -z "$(dk w alice)"
check "bob's data untouched" test "$(vols berth.owner=bob berth.name=data)" = 1

# --- prune: only the caller's own unused ---------------------------------------------
req POST "$API/volumes" '{"name":"idle"}' "${B[@]}"
expect "bob creates idle" 201
req POST "$API/volumes/prune" "" "${B[@]}"
expect "bob prunes: idle only (data is in use)" 200 '.removed | join(",")' idle
check "alice's unused volumes are still there" test "$(vols berth.owner=alice)" = 3
check "bob's data is still there" test "$(vols berth.owner=bob berth.name=data)" = 1

# --- reconcile restores a lost record -----------------------------------------------
req GET "$API/volumes/v2" "" "${A[@]}"
rec="$T/state/volumes/$(jqb .docker_name).json"
rm -f "$rec"
out=$("$BERTH_FCGI" --config "$T/berth.conf" --state-dir "$T/state" --instance "$INST" --allow-root reconcile 2>&1)
check "reconcile restores the volume record ($(grep volumes <<<"$out"))" test -f "$rec"
check "with its owner" test "$(jq -r .owner "$rec" 2>/dev/null)" = alice
echo '{"name":"ghost"}' >"$T/state/volumes/ghost.json"
wait_for 8 bash -c '! test -e "$1"' _ "$T/state/volumes/ghost.json"
check "periodic reconcile drops a ghost record" test ! -e "$T/state/volumes/ghost.json"

# --- cleanup on exit ---------------------------------------------------------------
stop_berth "$PID_main"
check "berth-up removed every container it started" test -z "$(docker ps -aq --filter "label=berth.instance=$INST")"
check "and every volume" test "$(vols)" = 0
# Whatever a failed run left behind (this instance's label only).
docker ps -aq --filter "label=berth.instance=$INST" | xargs -r docker rm -f >/dev/null 2>&1
docker volume ls -q --filter "label=berth.instance=$INST" | xargs -r docker volume rm -f >/dev/null 2>&1

finish
