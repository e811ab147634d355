#!/bin/bash
# Catalog, builds and seed 000 (Harpoon's container manager) end to end:
# seed 000's own example and background script, concurrent first starts
# building once, a Dockerfile error as a failed build, leases, update
# detection after a rebuild and after a tag moves, images and pull.
. "$(dirname "$0")/../lib.sh"

# --- 1. Seed 000's example, exactly as its documentation runs it ----------------
info=$(mktemp)
if "$BERTH_UP" "$info" --non-interactive; then ok "berth-up FILE --non-interactive starts in the background"; else not_ok "berth-up FILE"; fi
PORT=$(head -n1 "$info"); UPPID=$(sed -n 2p "$info")
UP_PIDS+=("$UPPID")
check "FILE holds port and pid" test -n "$PORT" -a -n "$UPPID"
M="http://localhost:$PORT"
req POST "$M/start_container" '{"image": "server", "ports": [[0, 4545]]}'
expect "start_container builds and starts the catalog image" 200 .just_created true
HP=$(jqb '.ports["4545"]'); CID=$(jqb .container_id)
check "container_id is a full id" test ${#CID} = 64
check "the seed's container is limited like every other (memory, cpus, pids, logs)" \
	bash -c '[[ $1 =~ ^[1-9][0-9]*\ [1-9][0-9]*\ [1-9][0-9]*\ [1-9][0-9]*$ ]]' _ "$(docker inspect -f '{{.HostConfig.Memory}} {{.HostConfig.NanoCpus}} {{.HostConfig.PidsLimit}} {{index .HostConfig.LogConfig.Config "max-size"}}' "$CID")"
check "the mapped port serves /example_file" test "$(curl -s "http://localhost:$HP/example_file")" = "hello there"
req POST "$M/start_container" '{"image": "server", "ports": [[0, 4545]]}'
expect "again: the same container" 200 .just_created false
check "again: same id and port" test "$(jqb .container_id)|$(jqb '.ports["4545"]')" = "$CID|$HP"
req GET "$M/version"
check "GET /version" grep -q '^berth ' <<<"$BODY"
req POST "$M/stop_container" '{"image": "server"}'
check "stop_container: 204, container gone" test "$STATUS" = 204 -a -z "$(docker ps -aq --filter id="$CID")"
req POST "$M/start_container" '{"image": "server", "ports": [["4545/tcp"]]}'
expect "port item [\"4545/tcp\"] form" 200 .just_created true
req POST "$M/start_container" ''
expect "missing body: 400" 400
STATUS=$(curl -s -o "$T/body" -w '%{http_code}' -XPOST -d 'image=server' "$M/start_container"); BODY=$(cat "$T/body")
expect "non-JSON body: 400" 400
req POST "$M/start_container" '{"image": "nosuch"}'
expect "unknown image: 404 naming the available ones" 404 '.error.available | index("server") != null' true
req POST "$M/start_container" '{"image": "server", "ports": [[1, 2, 3, 4]]}'
expect "malformed port item: 400" 400
STATUS=$(curl -s -o /dev/null -w '%{http_code}' -I "$M/shutdown")
check "HEAD /shutdown: 405, and it shut nothing down" bash -c '[ "$1" = 405 ] && kill -0 "$2"' _ "$STATUS" "$UPPID"
req GET "$M/shutdown"
expect "shutdown: 200 saying what it removed and that berth-up stops" 200 \
	'[(.removed | join(",")), .stopping] | map(tostring) | join(" ")' "cm-server true"
check "shutdown: no container left behind" test -z "$(docker ps -aq --filter label=berth.seed=000 --filter label=berth.instance | xargs -r docker inspect -f '{{index .Config.Labels "berth.instance"}}' | grep "^up-$UPPID-")"
wait_for 10 bash -c "! kill -0 $UPPID 2>/dev/null"
check "shutdown: berth-up ended" bash -c "! kill -0 $UPPID 2>/dev/null"
check "shutdown: info file removed" test ! -e "$info"
rm -f "$info"

# --- 1b. Two berth-ups on one host (two CI jobs on one runner) both serve seed 000 -------
start_berth two1 --instance "t-cat2a-$$" || exit 1
start_berth two2 --instance "t-cat2b-$$" || exit 1
req POST "$URL_two1/start_container" '{"image": "server", "ports": [[0, 4545]]}'
expect "first berth-up: start_container server" 200 .just_created true
C1=$(jqb .container_id)
req POST "$URL_two2/start_container" '{"image": "server", "ports": [[0, 4545]]}'
expect "second berth-up, same host, same image: its own container" 200 .just_created true
check "two containers, one per berth-up" test -n "$C1" -a "$(jqb .container_id)" != "$C1"
stop_berth "$PID_two1"
stop_berth "$PID_two2"

# --- 2. A catalog of our own --------------------------------------------------------
INST="t-cat-$$"
mkdir -p "$T/ctx" "$T/state"
printf 'FROM berth-test/busybox:1\nCOPY greeting /greeting\nCMD ["sleep", "600"]\n' >"$T/ctx/Dockerfile"
echo "from a context dir" >"$T/ctx/greeting"
# A build that takes seconds every time: a new stamp defeats dockerd's cache.
mkdir -p "$T/slowctx"
printf 'FROM berth-test/busybox:1\nCOPY stamp /stamp\nRUN sleep 4 && echo slept\n' >"$T/slowctx/Dockerfile"
restamp() { date +%s%N >"$T/slowctx/stamp"; }
restamp
write_conf() { # write_conf GREETING
	cat >"$T/berth.conf" <<CONF
users = { alice = "admin"; oscar = "operator"; vic = "viewer"; };
policy = { operator = { images = [ "berth-test/*" ]; }; admin = { images = [ "*" ]; }; };
catalog = {
  hello = {
    tag = "berth-cat-$INST/hello:1";
    commands = ( "FROM berth-test/busybox:1",
                 ("ADD", { dest = "/greeting"; content = "$1"; }),
                 ("COPY", { dest = "/bin/hi"; content = "#!/bin/sh\\necho hi\\n"; mode = 0755; }),
                 "CMD [\\"httpd\\", \\"-f\\", \\"-p\\", \\"8080\\", \\"-h\\", \\"/\\"]" );
    ports = [ 8080 ];
    env = { GREETING = "yes"; };
  };
  slow = {
    tag = "berth-cat-$INST/slow:1";
    commands = ( "FROM berth-test/busybox:1", "RUN sleep 3 && echo $INST > /built", "CMD [\\"sleep\\", \\"600\\"]" );
  };
  broken = {
    tag = "berth-cat-$INST/broken:1";
    commands = ( "FROM berth-test/busybox:1", "RUN echo failing on purpose && exit 7" );
  };
  ctx = { tag = "berth-cat-$INST/ctx:1"; context = "$T/ctx"; };
  slowctx = { tag = "berth-cat-$INST/slowctx:1"; context = "$T/slowctx"; };
};
CONF
}
write_conf "hello one"
{ htpasswd_line alice a; htpasswd_line oscar o; htpasswd_line vic v; } >"$T/htpasswd"
start_berth cat --config "$T/berth.conf" --htpasswd "$T/htpasswd" --state-dir "$T/state" --instance "$INST" || exit 1
API="$URL/api/v1"; A=(-u alice:a) O=(-u oscar:o) V=(-u vic:v)
cleanup_images() { docker images --format '{{.Repository}}:{{.Tag}}' | grep "^berth-cat-$INST/" | xargs -r docker rmi -f >/dev/null 2>&1; }
cleanup_images

req GET "$API/catalog" "" "${V[@]}"
expect "catalog lists entries, not built yet" 200 '[.entries[] | select(.name=="hello")][0].built' false

# Concurrent first starts of an unbuilt image build it once.
for i in 1 2 3 4; do
	curl -s -o "$T/slow$i" -w '%{http_code}\n' "${O[@]}" -XPOST -H 'Content-Type: application/json' \
		-d '{"image":"slow"}' "$URL/start_container" &
done >"$T/slow-codes"
wait
check "4 concurrent first starts: all 200" test "$(grep -c '^200$' "$T/slow-codes")" = 4
check "4 concurrent first starts: one container" test "$(cat "$T"/slow[1-4] | jq -r .container_id | sort -u | wc -l)" = 1
check "4 concurrent first starts: one created" test "$(cat "$T"/slow[1-4] | jq -r .just_created | grep -c true)" = 1
check "4 concurrent first starts: built once" test "$(jq .builds "$T/state/builds/slow.json")" = 1

# Concurrent explicit builds share one build too.
for i in 1 2 3; do
	curl -sN "${O[@]}" -XPOST -H 'Content-Type: application/json' "$API/catalog/hello/build" >"$T/b$i" &
done
wait
check "3 concurrent builds: all end built" test "$(cat "$T"/b[1-3] | jq -r 'select(.status=="built") | .image_id' | sort -u | wc -l)" = 1
check "3 concurrent builds: one ran dockerd's build" test "$(jq .builds "$T/state/builds/hello.json")" = 1
check "build progress streamed as NDJSON" bash -c 'cat "$1"/b[1-3] | jq -s -e "[.[] | select(.stream) | .stream | test(\"Step\")] | any" >/dev/null' _ "$T"
# The answer's shape, line by line, as before the relay held it.
check "each answer begins {\"status\":\"building\",\"name\"}" test "$(for i in 1 2 3; do head -1 "$T/b$i" | jq -c .; done | sort -u)" = '{"status":"building","name":"hello"}'
check "each answer ends {\"status\":\"built\",\"image_id\"} and nothing else" test "$(for i in 1 2 3; do tail -1 "$T/b$i" | jq -c 'keys'; done | sort -u)" = '["image_id","status"]'
check "the lines between are {\"stream\"} or {\"error\"} objects only" bash -c 'for f in "$1"/b[1-3]; do sed "1d;\$d" "$f" | jq -e -s "all(.[]; type == \"object\" and (keys == [\"stream\"] or keys == [\"error\"]))" >/dev/null || exit 1; done' _ "$T"
H=$(curl -s -D - -o /dev/null "${O[@]}" -XPOST "$API/catalog/hello/build" | tr -d '\r')
check "build answer: 200 application/x-ndjson" bash -c 'grep -q "^HTTP/1.1 200" <<<"$1" && grep -qi "^content-type: application/x-ndjson" <<<"$1"' _ "$H"

# More concurrent builds than workers (4): the relay holds them, berth answers meanwhile.
restamp
before=$(jq .builds "$T/state/builds/slowctx.json" 2>/dev/null || echo 0)
for i in 1 2 3 4 5 6; do
	curl -sN "${O[@]}" -XPOST "$API/catalog/slowctx/build" >"$T/s$i" &
done
sleep 1.5
t0=$(date +%s%N)
req GET "$API/health" "" "${O[@]}"
ms=$(( ($(date +%s%N) - t0) / 1000000 ))
expect "health answers while 6 builds (4 workers) run" 200
check "... and quickly (${ms} ms)" test "$ms" -lt 1500
check "... while the builds were still running" bash -c '! grep -q "\"status\":\"built\"" "$1"/s[1-6]' _ "$T"
wait
check "6 concurrent builds: all end built, one image" test "$(cat "$T"/s[1-6] | jq -r 'select(.status=="built") | .image_id' | sort -u | wc -l)|$(cat "$T"/s[1-6] | jq -r 'select(.status) | .status' | grep -c built)" = "1|6"
check "6 concurrent builds: dockerd built once" test "$(jq .builds "$T/state/builds/slowctx.json")" = $((before + 1))
check "6 concurrent builds: 6 end lines in the audit, 5 shared" test "$(jq -r 'select(.action == "catalog build end" and .target == "slowctx") | "\(.result) \(.shared)"' "$T/state/audit.log" | sort | uniq -c | awk '{print $1 $2 $3}' | tr '\n' ' ')" = "1okfalse 5oktrue "

# A client that leaves mid-build: the build finishes and is recorded all the same.
restamp
before=$(jq .builds "$T/state/builds/slowctx.json")
curl -sN --max-time 2 "${O[@]}" -XPOST "$API/catalog/slowctx/build" >"$T/left" 2>/dev/null
check "the leaving client got the build's first line" test "$(head -1 "$T/left" | jq -r .status)" = building
wait_for 30 bash -c '[ "$(jq .builds "$1")" = "$2" ]' _ "$T/state/builds/slowctx.json" $((before + 1))
check "client left mid-build: the build was recorded" test "$(jq -r '"\(.builds) \(.status)"' "$T/state/builds/slowctx.json")" = "$((before + 1)) built"
check "... its image is the recorded one" test "$(docker image inspect -f '{{.Id}}' "berth-cat-$INST/slowctx:1")" = "$(jq -r .image_id "$T/state/builds/slowctx.json")"
check "... and its end audited ok, client_left" test "$(jq -r 'select(.action == "catalog build end" and .target == "slowctx")' "$T/state/audit.log" | jq -s -r '.[-1] | "\(.result) \(.client_left)"')" = "ok true"
check "no build context left in the spool" test -z "$(ls -A "$T/state/spool")"

# A Dockerfile error is a failed build, not a success.
curl -sN "${O[@]}" -XPOST -H 'Content-Type: application/json' "$API/catalog/broken/build" >"$T/broken"
check "failed build reported in the stream" test "$(tail -1 "$T/broken" | jq -r .status)" = failed
check "failed build carries dockerd's error" bash -c 'tail -1 "$1" | jq -r .error | grep -q "non-zero\|returned"' _ "$T/broken"
# The request's line says who asked (handed to the relay: ok); the build's end says how it went.
check "the build request is audited" test "$(jq -r 'select(.action == "POST /api/v1/catalog/{name}/build" and .target == "broken") | .result' "$T/state/audit.log")" = ok
jq -c 'select(.action == "catalog build end" and .target == "broken")' "$T/state/audit.log" >"$T/broken.audit"
check "failed build audited as an error, not ok ($(jq -r .result "$T/broken.audit"))" test "$(jq -r .result "$T/broken.audit")" = error
check "failed build's audit line says why" bash -c 'jq -r .message "$1" | grep -q "^build failed: .*\(non-zero\|returned\)"' _ "$T/broken.audit"
check "failed build's audit line: user, role, request id" test "$(jq -r '"\(.user) \(.role) \(.request_id | length > 0)"' "$T/broken.audit")" = "oscar operator true"
check "failed build recorded as failed" test "$(jq -r .status "$T/state/builds/broken.json")" = failed
check "good builds audited ok" test "$(jq -r 'select(.action == "catalog build end" and .target == "hello") | .result' "$T/state/audit.log" | sort -u)" = ok
req POST "$URL/start_container" '{"image":"broken"}' "${O[@]}"
expect "start of a broken entry: 400 with the build error" 400 '.error.message | test("build")' true
req POST "$API/containers" "{\"name\":\"$INST-b\",\"image\":\"berth-cat-$INST/broken:1\"}" "${O[@]}"
expect "create from a broken entry: 422" 422 .error.field image
check "broken: nothing created" test -z "$(docker ps -aq --filter "name=$INST-b")"
req GET "$API/catalog" "" "${O[@]}"
expect "catalog shows the failed last build" 200 '[.entries[] | select(.name=="broken")][0].last_build.status' failed
req POST "$API/catalog/nosuch/build" "" "${O[@]}"
expect "build of an unknown entry: 404" 404
req POST "$API/catalog/hello/build" "" "${V[@]}"
expect "viewer cannot build" 403

# Context directories build too.
curl -sN "${O[@]}" -XPOST -H 'Content-Type: application/json' "$API/catalog/ctx/build" >"$T/ctx.out"
check "context-directory entry builds" test "$(tail -1 "$T/ctx.out" | jq -r .status)" = built
# Contexts are made in a child that alone opens libarchive: after all these
# builds, neither the supervisor nor any worker maps it (docs/benchmarks.md).
SUP=$(pgrep -P "$PID_cat" -x berth-fcgi | head -1)
mapped=$(for p in $SUP $(pgrep -P "${SUP:-0}"); do grep -l libarchive "/proc/$p/maps"; done 2>/dev/null)
check "after builds no berth-fcgi process maps libarchive" test -n "$SUP" -a -z "$mapped"

# Create from a catalog tag: defaults apply, the catalog image is allowed.
req POST "$API/containers" "{\"name\":\"$INST-h\",\"image\":\"berth-cat-$INST/hello:1\"}" "${O[@]}"
expect "create from a catalog entry" 201 .catalog hello
HP=$(jqb '.ports["8080/tcp"]')
check "entry defaults: port and file served" test "$(curl -s "http://127.0.0.1:$HP/greeting")" = "hello one"
req POST "$API/containers/$INST-h/exec" '{"command":["/bin/hi"]}' "${O[@]}"
expect "COPY with mode 0755 is executable" 200 .stdout "hi"
req GET "$API/containers/$INST-h" "" "${O[@]}"
expect "fresh container is not outdated" 200 .outdated false
OLD_IMG=$(jqb .image_id)

# Change the definition, reload, rebuild: the container is outdated until updated.
write_conf "hello two"
pkill -HUP -f -- "berth-fcgi.*--instance $INST .*--listen" ; sleep 1
req GET "$API/catalog" "" "${O[@]}"
expect "changed definition: entry outdated" 200 '[.entries[] | select(.name=="hello")][0].outdated' true
curl -sN "${O[@]}" -XPOST -H 'Content-Type: application/json' "$API/catalog/hello/build" >"$T/b4"
check "rebuild succeeds" test "$(tail -1 "$T/b4" | jq -r .status)" = built
req GET "$API/containers/$INST-h" "" "${O[@]}"
expect "after the rebuild the container is outdated" 200 .outdated true
req GET "$API/containers" "" "${O[@]}"
expect "outdated shows in the list too" 200 "[.containers[] | select(.name==\"$INST-h\")][0].outdated" true
req POST "$API/containers/$INST-h/update" "" "${O[@]}"
expect "update recreates on the current image" 200 .outdated false
check "update: new image, same name and owner" test "$(jqb .image_id)|$(jqb .name)|$(jqb .owner)" != "$OLD_IMG|$INST-h|oscar" -a "$(jqb .name)|$(jqb .owner)" = "$INST-h|oscar"
HP=$(jqb '.ports["8080/tcp"]')
check "updated container serves the new content" test "$(curl -s "http://127.0.0.1:$HP/greeting")" = "hello two"
req POST "$API/containers/$INST-h/update" "" "${O[@]}"
expect "update when current: nothing to do" 200 .outdated false

# A plain image whose tag moves.
docker tag berth-test/busybox:1 "berth-test/moving-$INST:1"
req POST "$API/containers" "{\"name\":\"$INST-m\",\"image\":\"berth-test/moving-$INST:1\",\"command\":[\"sleep\",\"600\"]}" "${O[@]}"
expect "container on a movable tag" 201 .outdated false
docker tag berth-test/busybox:2 "berth-test/moving-$INST:1"
req GET "$API/containers/$INST-m" "" "${O[@]}"
expect "tag moved: outdated" 200 .outdated true
req POST "$API/containers/$INST-m/update" "" "${O[@]}"
expect "update follows the tag" 200 .outdated false
check "update kept the command" test "$(jqb '.command | join(" ")')" = "sleep 600"
docker rmi "berth-test/moving-$INST:1" >/dev/null 2>&1

# Leases: a locked start holds the image; the next locked start waits for unlock.
req POST "$URL/start_container" '{"image":"hello","lock":true}' "${O[@]}"
expect "locked start" 200
curl -s -o "$T/second" -w '%{http_code}' "${O[@]}" -XPOST -H 'Content-Type: application/json' \
	-d '{"image":"hello","lock":true}' "$URL/start_container" >"$T/second.code" &
waiter=$!
sleep 2
check "second locked start waits" kill -0 "$waiter"
req POST "$URL/start_container" '{"image":"hello"}' "${O[@]}"
expect "an unlocked start does not wait" 200 .just_created false
req POST "$URL/unlock_container" '{"image":"hello"}' "${O[@]}"
expect "unlock: 204" 204
wait_for 10 bash -c "! kill -0 $waiter 2>/dev/null"
check "after unlock the waiter gets the container" test "$(cat "$T/second.code")" = 200
req POST "$URL/unlock_container" '{"image":"hello"}' "${O[@]}"
expect "unlock again: 204" 204

# /shutdown by an operator removes only their own seed containers; berth-up keeps running.
req POST "$URL/start_container" '{"image":"ctx"}' "${A[@]}"
expect "an admin's seed container" 200 .just_created true
ADMIN_CID=$(jqb .container_id)
req GET "$URL/shutdown" "" "${O[@]}"
expect "operator's /shutdown: 200, removed their own, not stopping" 200 \
	'[(.removed | sort | join(",")), .stopping] | map(tostring) | join(" ")' "cm-hello,cm-slow false"
check "operator's /shutdown: their seed containers are gone" test -z "$(docker ps -aq --filter label=berth.seed=000 --filter label=berth.owner=oscar --filter "label=berth.instance=$INST")"
check "operator's /shutdown: the admin's container stays" test -n "$(docker ps -q --filter "id=$ADMIN_CID")"
sleep 1
check "operator's /shutdown: berth-up keeps running" kill -0 "$PID_cat"
req GET "$API/health" "" "${O[@]}"
expect "operator's /shutdown: berth still answers" 200
req GET "$URL/shutdown" "" "${V[@]}"
expect "a viewer may not /shutdown" 403

# Images and pull.
req GET "$API/images" "" "${O[@]}"
expect "operator sees catalog images" 200 "[.images[] | select(.catalog==\"hello\")] | length > 0" true
check "operator does not see images outside the allow-list" test "$(jqb '[.images[].tags[]? | select(startswith("berth-up-probe"))] | length')" = 0
req POST "$API/images/pull" '{"ref":"debian:12"}' "${O[@]}"
expect "pull is admin only" 403
req POST "$API/images/pull" '{"ref":"debian"}' "${A[@]}"
expect "pull needs a tag" 422 .error.field ref
req POST "$API/images/pull" '{"ref":"berth-nonexistent.invalid/x:1"}' "${A[@]}"
expect "pull without a registry: a clear 502" 502 '.error.message | test("registry")' true

req GET "$URL/shutdown" "" "${A[@]}"
expect "admin's /shutdown: removes every seed container and stops berth-up" 200 \
	'[(.removed | join(",")), .stopping] | map(tostring) | join(" ")' "cm-ctx true"
check "admin's /shutdown: berth-up ends" wait_for 15 bash -c "! kill -0 $PID_cat 2>/dev/null"
stop_berth "$PID_cat"
check "berth-up stop removed the catalog containers" test -z "$(docker ps -aq --filter "label=berth.instance=$INST")"
cleanup_images
finish
