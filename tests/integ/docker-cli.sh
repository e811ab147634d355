#!/bin/bash
# The Docker door's containers (issue 20) with the real docker CLI (Debian's
# 20.10, /usr/bin/docker) through real nginx -> berth-fcgi -> dockerd: run
# -d -p, run --rm (its output printed through attach), logs -f, exec, stop,
# rm -f, inspect, ps; two operators side by side, each seeing only their own
# and both running --name db at once; every dangerous flag refused with its
# reason in the CLI's own output; another tenant's id is "No such container".
. "$(dirname "$0")/../lib.sh"

groups <<'EOF'
# name      tags
system      cli          # version, info
lifecycle   cli          # run -d -p, ps, inspect, logs -f, exec, stop, start, rm -f
runrm       cli stream   # run --rm: the output through attach, the container gone after
tenants     cli tenancy  # two users: --name db at once, each sees only their own
refused     cli policy   # --privileged, -v /:/host, --pid host, ... refused with the reason
api         http         # what the CLI does not show: filters, wait, exec inspect, audit
EOF

INST="t-dcli-$$"
IMG=berth-test/busybox:1
cat >"$T/berth.conf" <<CONF
users = { root = "admin"; alice = "operator"; bob = "operator"; vic = "viewer"; };
policy = {
  operator = { images = [ "berth-test/*" ]; memory = "32m"; memory_max = "1g"; volumes = true; };
  admin = { images = [ "*" ]; };
};
CONF
for u in root alice bob vic; do htpasswd_line "$u" "$u"; done >"$T/htpasswd"
mkdir -p "$T/state"
start_berth main --config "$T/berth.conf" --htpasswd "$T/htpasswd" --state-dir "$T/state" \
	--instance "$INST" --docker-port 0 || exit 1

# dk USER ARGS...: the docker CLI as USER (password = name); output in $T/out, status in RC.
dk() {
	local u=$1; shift
	docker_as "$u" "$u" -- "$@" >"$T/out" 2>&1
	RC=$?
	OUT=$(cat "$T/out")
}
# dreq USER METHOD PATH [BODY]: an Engine API request to the door as USER.
dreq() {
	local u=$1 m=$2 p=$3; shift 3
	req "$m" "$DOCKER_URL$p" "${1-}" -u "$u:$u"
}
has() { grep -qE -- "$1" "$T/out"; }
if group system; then
	echo "# (system at ${SECONDS}s)"
	dk alice version
	check "version: the door's API and berth named ($RC)" has 'API version: *1\.41'
	check "version names berth" has 'berth'
	dk alice info
	check "info: the caller's counts ($RC)" test "$RC" = 0
	check "info: no daemon paths" sh -c "! grep -q 'Docker Root Dir: /' '$T/out'"
fi

if group lifecycle; then
	echo "# (lifecycle at ${SECONDS}s)"
	dk alice run -d -p 8080 --name web $IMG httpd -f -p 8080
	WEB=$OUT
	check "run -d -p: an id ($RC: $(printf '%.200s' "$OUT"))" test "$RC" = 0 -a ${#WEB} = 64
	dk alice ps -a
	check "ps -a shows web as /web's name ($(printf '%.300s' "$OUT"))" has ' web$'
	check "ps -a: the published port" has '0\.0\.0\.0:[0-9]+->8080/tcp'
	check "ps: no namespaced Docker name" sh -c "! grep -q 'web\.alice' '$T/out'"
	dk alice inspect web
	check "inspect: Name is /web ($RC)" test "$(jq -r '.[0].Name' "$T/out")" = /web
	check "inspect: no berth labels" test "$(jq -r '.[0].Config.Labels | keys | map(select(startswith("berth."))) | length' "$T/out")" = 0
	check "inspect: no host paths" test "$(jq -r '.[0].LogPath + .[0].HostsPath' "$T/out")" = ""
	dk alice run -d --name tick $IMG sh -c 'i=0; while :; do echo tick $i; i=$((i+1)); sleep 0.2; done'
	DOCKER_TIMEOUT=3 dk alice logs -f tick
	check "logs -f streams until stopped (rc $RC)" test "$RC" = 124
	check "logs -f: the lines ($(wc -l <"$T/out"))" test "$(grep -c '^tick ' "$T/out")" -ge 5
	dk alice logs --tail 2 tick
	check "logs --tail 2: two lines" test "$(grep -c '^tick' "$T/out")" = 2
	dk alice exec web sh -c 'echo out; echo err >&2; exit 3'
	check "exec: exit code 3 ($RC: $(printf "%.300s" "$OUT"))" test "$RC" = 3
	check "exec: stdout and stderr" sh -c "grep -q '^out$' '$T/out' && grep -q '^err$' '$T/out'"
	# A docker CLI of 25 or later insists on the 101: its exec's 101 waits for the output.
	NEWCLI=$(command -v /usr/local/bin/docker docker 2>/dev/null | while read -r c; do
		v=$("$c" version --format '{{.Client.Version}}' 2>/dev/null); [ "${v%%.*}" -ge 25 ] 2>/dev/null && echo "$c" && break; done)
	if [ -n "$NEWCLI" ]; then
		DOCKER_CLI=$NEWCLI dk alice exec web sh -c 'echo new out; exit 3'
		check "exec with a docker CLI >= 25 ($NEWCLI): output and exit code ($RC: $OUT)" sh -c "[ $RC = 3 ] && grep -q '^new out$' '$T/out'"
	else
		echo "# no docker CLI >= 25 here: its exec is not checked"
	fi
	(echo ping; sleep 5) | docker_as alice alice -- exec -i web sh -c 'read x; echo "pong $x"' >"$T/out" 2>&1
	RC=$? OUT=$(cat "$T/out")
	check "exec -i: stdin reaches it, its answer printed ($RC: $(printf '%.200s' "$OUT"))" has '^pong ping$'
	# A terminal: script(1) gives the CLI one, as a user at a shell has.
	(sleep 2; printf '%s\n' 'echo "tty says $((6*7))"' 'exit 5'; sleep 5) | (
		export DOCKER_CONFIG=$T/docker-config-alice DOCKER_HOST=${DOCKER_URL/http:/tcp:}
		timeout 30 script -qec "$DOCKER_CLI exec -it web sh" /dev/null
	) >"$T/out" 2>&1
	RC=$? OUT=$(tr -d '\r' <"$T/out")
	check "exec -it: a shell on a terminal answers ($RC: $(printf '%.200s' "$OUT" | tr -cd '[:print:]\n'))" grep -q 'tty says 42' "$T/out"
	check "exec -it: its exit code ($RC)" test "$RC" = 5
	dk alice stop -t 1 tick
	check "stop ($RC)" test "$RC" = 0
	check "stopped" test "$(docker inspect -f '{{.State.Running}}' "$(dk alice inspect -f '{{.Id}}' tick; echo "$OUT")" 2>/dev/null)" = false
	dk alice start tick
	check "start again ($RC)" test "$RC" = 0
	dk alice restart -t 1 tick
	check "restart ($RC)" test "$RC" = 0
	dk alice rm tick
	check "rm of a running one: refused, naming -f ($RC)" has 'force'
	dk alice rm -f tick web
	check "rm -f ($RC)" test "$RC" = 0
	dk alice ps -a -q
	check "nothing left" test -z "$OUT"
fi

if group runrm; then
	echo "# (runrm at ${SECONDS}s)"
	dk alice run --rm $IMG sh -c 'echo hello from berth; exit 4'
	check "run --rm: exit code 4 ($RC)" test "$RC" = 4
	check "run --rm: its output printed ($(printf '%.200s' "$OUT"))" has '^hello from berth$'
	dk alice ps -a -q
	check "run --rm: the container is gone" test -z "$OUT"
	dk alice run $IMG echo plain
	check "run (attached, kept): its output ($RC)" has '^plain$'
	dk alice run --rm -v /scratch $IMG true
	check "run --rm -v /scratch: done ($RC: $OUT)" test "$RC" = 0
	dk alice run --rm -t $IMG echo on a terminal
	check "run -t (a terminal, no stdin): its output ($RC)" has 'on a terminal'
	# -i: stdin is spliced over the 101 while it stays open (the end of a
	# piped stdin ends the connection in nginx: docs/docker-api.md).
	(echo piped in; sleep 5) | docker_as alice alice -- run --rm -i $IMG sh -c 'read x; echo "got $x"; exit 6' >"$T/out" 2>&1
	RC=$? OUT=$(cat "$T/out")
	check "run -i: stdin reaches it, its answer printed ($RC: $(printf '%.200s' "$OUT"))" has '^got piped in$'
	check "run -i: its exit code ($RC)" test "$RC" = 6
	dk alice rm -f "$(dk alice ps -a -q; echo "$OUT")"
fi

if group tenants; then
	echo "# (tenants at ${SECONDS}s)"
	docker_as alice alice -- run -d --name db $IMG sleep 600 >"$T/a.out" 2>&1 &
	docker_as bob bob -- run -d --name db $IMG sleep 600 >"$T/b.out" 2>&1 &
	wait
	AID=$(cat "$T/a.out") BID=$(cat "$T/b.out")
	check "alice and bob run --name db at once: two ids" test ${#AID} = 64 -a ${#BID} = 64 -a "$AID" != "$BID"
	dk alice ps -q --no-trunc
	check "alice sees her db only" test "$OUT" = "$AID"
	dk bob ps -a --format '{{.Names}}'
	check "bob's db is db" test "$OUT" = db
	dk bob inspect "$AID"
	check "alice's id is no container of bob's" has 'No such (container|object)'
	dk bob logs "$AID"
	check "... nor can he read its logs" has 'No such container'
	dk bob stop "${AID:0:12}"
	check "... nor stop it by a prefix" has 'No such container'
	dk bob exec "$AID" true
	check "... nor exec in it" has 'No such container'
	dk alice run -d --name db $IMG sleep 1
	check "a second db of alice's: Docker's conflict" has 'Conflict\. The container name "/db" is already in use'
	dk root ps -a --format '{{.Names}}'
	check "the admin sees both" test "$(grep -c '^db$' "$T/out")" = 2
	dk alice rm -f db
	dk bob rm -f db
fi

# flag | what the CLI must print
refusals() {
	cat <<'EOF'
--privileged|Privileged.*root on the host
-v /:/host|HostConfig.Binds\[0\]
--pid host|HostConfig.PidMode
--network host|HostConfig.NetworkMode
--cap-add SYS_ADMIN|HostConfig.CapAdd.*adding capabilities
--device /dev/sda|HostConfig.Devices.*host device
--security-opt seccomp=unconfined|HostConfig.SecurityOpt\[0\].*confinement
EOF
}
if group refused; then
	echo "# (refused at ${SECONDS}s)"
	while IFS='|' read -r flag why; do
		# shellcheck disable=SC2086 # the flag is two words
		dk alice run -d $flag $IMG true
		check "run $flag refused ($(printf '%.160s' "$OUT"))" sh -c "[ $RC != 0 ] && grep -qE -- '$why' '$T/out'"
	done < <(refusals)
	dk alice ps -a -q
	check "nothing was made" test -z "$OUT"
	dk vic run -d $IMG true
	check "a viewer's run: refused by role" has 'operator role'
fi

if group api; then
	echo "# (api at ${SECONDS}s)"
	dk alice run -d --name f1 --label tier=web $IMG sleep 600
	F1=$OUT
	dk alice create --name f2 --label tier=db $IMG true
	dreq alice GET '/v1.41/containers/json?all=1&filters=%7B%22label%22%3A%5B%22tier%3Dweb%22%5D%7D'
	expect "filters, the list form: label" 200 '.[0].Names[0]' /f1
	dreq alice GET '/containers/json?all=1&filters=%7B%22label%22%3A%7B%22tier%3Ddb%22%3Atrue%7D%7D'
	expect "filters, the map form" 200 '.[0].Names[0]' /f2
	dreq alice GET '/containers/json?all=1&filters=%7B%22status%22%3A%5B%22created%22%5D%7D'
	expect "filters: status" 200 'length' 1
	dreq alice GET '/containers/json?filters=%7B%22name%22%3A%5B%22%5E%2Ff1%24%22%5D%7D'
	expect "filters: name ^/f1$" 200 '.[0].Id' "$F1"
	dreq alice GET "/containers/json?filters=%7B%22ancestor%22%3A%5B%22$IMG%22%5D%7D"
	expect "filters: ancestor" 200 'length' 1
	dreq alice GET '/containers/json?filters=%7B%22volume%22%3A%5B%22x%22%5D%7D'
	expect "an unknown filter is a 400" 400 '.message' "filters: Invalid filter 'volume'"
	dreq alice GET '/containers/json?all=1&limit=1'
	expect "limit=1: the newest" 200 '.[0].Names[0]' /f2
	dreq bob GET '/containers/json?all=1'
	expect "bob's list is empty" 200 'length' 0
	dreq alice GET "/containers/$F1/top"
	expect "top" 200 '.Processes | length' 1
	dreq alice GET "/containers/f1/stats?stream=0"
	expect "stats, one sample, named as given" 200 '.name' /f1
	dreq alice POST "/containers/f1/pause"
	expect "pause" 204
	dreq alice POST "/containers/f1/unpause"
	expect "unpause" 204
	dreq alice POST "/containers/f1/rename?name=g1"
	expect "rename refused" 400 '.message | test("renaming")' true
	dreq alice POST "/containers/f1/exec" '{"Cmd":["true"],"Privileged":true}'
	expect "exec Privileged refused" 403 '.message | test("Privileged")' true
	dreq alice POST "/containers/f1/exec" '{"Cmd":["true"],"Bogus":1}'
	expect "exec: an unknown field named" 400 '.message | test("Bogus")' true
	dreq alice POST "/containers/f1/exec" '{"Cmd":["sh","-c","echo hi"],"AttachStdout":true}'
	expect "exec create" 201
	EID=$(jqb .Id)
	dreq bob GET "/exec/$EID/json"
	expect "bob cannot inspect alice's exec" 404 '.message' "No such exec instance: $EID"
	dreq bob POST "/exec/$EID/start" '{}'
	expect "... nor start it" 404
	# dockerode's start: no upgrade, 200 and dockerd's raw stream (8-byte frame header, then hi)
	req POST "$DOCKER_URL/exec/$EID/start" '{"Detach":false,"Tty":false}' -u alice:alice
	check "exec start without Upgrade: 200 raw stream ($STATUS)" sh -c "[ $STATUS = 200 ] && printf '%s' \"\$1\" | grep -qi 'vnd.docker.raw-stream' && grep -q hi '$T/body'" _ "$HDRS"
	dreq alice GET "/exec/$EID/json"
	expect "exec inspect: its exit code" 200 '.ExitCode' 0
	# attach_as NAME QUERY STATUS [USER-AGENT]: a container NAME echoing NAME attached
	# with the upgrade asked for, started once STATUS is in; the answer in $T/att.
	attach_as() {
		dreq alice POST "/containers/create?name=$1" '{"Image":"'$IMG'","Cmd":["echo","said '$1'"]}'
		curl -s -i -N -u alice:alice -XPOST -H 'Connection: Upgrade' -H 'Upgrade: tcp' --max-time 40 \
			-A "${4:-curl}" \
			"$DOCKER_URL/containers/$1/attach?stream=1&stdout=1&stderr=1$2" >"$T/att" 2>&1 &
		wait_for 30 grep -q "^HTTP/1.1 $3" "$T/att"
		dreq alice POST "/containers/$1/start"
		wait
	}
	# The hijack itself: with stdin, 101, then the output, spliced both ways.
	attach_as att "&stdin=1" 101
	check "attach with stdin: 101 and the output spliced" sh -c "grep -q '^HTTP/1.1 101' '$T/att' && grep -qa 'said att' '$T/att'"
	# Without stdin, the CLI half-closes at once: to a CLI before 25, 200,
	# close-delimited, the raw stream; to a later one (and anyone else) the 101.
	attach_as att2 "" 200 "Docker-Client/20.10.24+dfsg1 (linux)"
	check "attach without stdin, CLI 20.10: 200, Connection: close, the output" sh -c "grep -qi '^Connection: close' '$T/att' && ! grep -qi '^Transfer-Encoding' '$T/att' && grep -qa 'said att2' '$T/att'"
	attach_as att3 "" 101 "Docker-Client/28.2.2 (linux)"
	check "attach without stdin, CLI 28: the 101 it insists on, then the output" sh -c "grep -q '^HTTP/1.1 101' '$T/att' && grep -qa 'said att3' '$T/att'"
	dreq bob POST "/containers/att/attach?stream=1&stdout=1"
	expect "bob cannot attach to alice's" 404 '.message' 'No such container: att'
	dreq alice POST "/containers/f2/wait?condition=bogus"
	expect "wait: a condition checked" 400
	dreq alice POST "/containers/create?name=x" '{"Image":"berth-test/nothere:1"}'
	expect "a missing image: Docker's 404" 404 '.message' 'No such image: berth-test/nothere:1'
	dreq alice POST "/containers/create" '{"Image":"'$IMG'","Tty":true,"Hostname":"h1","Entrypoint":["sh"],"Cmd":["-c","hostname"],"StopSignal":"SIGINT","StopTimeout":3,"HostConfig":{"Init":true,"ReadonlyRootfs":true,"CapDrop":["NET_RAW"]},"ExposedPorts":{"9000/tcp":{}},"Healthcheck":{"Test":["CMD","true"],"Interval":1000000000}}'
	expect "create with the fields berth's spec gained" 201
	NID=$(jqb .Id)
	docker inspect "$NID" >"$T/in.json" 2>/dev/null
	check "they reach dockerd" test "$(jq -r '.[0] | [.Config.Tty, .Config.Hostname, .Config.Entrypoint[0], .Config.StopSignal, .Config.StopTimeout, .HostConfig.Init, .HostConfig.ReadonlyRootfs, .HostConfig.CapDrop[0], (.Config.ExposedPorts | has("9000/tcp")), .Config.Healthcheck.Test[1]] | map(tostring) | join(",")' "$T/in.json")" = "true,h1,sh,SIGINT,3,true,true,NET_RAW,true,true"
	req GET "$URL/api/v1/audit?limit=1000" "" -u root:root
	check "audit: the door's create, as alice, naming f1" test "$(jqb '[.entries[] | select(.user=="alice" and .action=="POST /containers/create" and .target=="f1" and .result=="ok")] | length')" = 1
	check "audit: pause, naming f1" test "$(jqb '[.entries[] | select(.action=="POST /containers/{id}/pause" and .target=="f1")] | length')" = 1
	dk alice rm -f f1 f2 att att2 att3 "$NID"
fi

check "no container of this instance left" test -z "$(docker ps -aq --filter "label=berth.instance=$INST")"
if group runrm; then
	# run --rm -v: dockerd removed the container, berth's periodic sweep its volume.
	wait_for 60 sh -c "[ -z \"\$(docker volume ls -q --filter label=berth.instance=$INST --filter label=berth.anonymous=1)\" ]"
	check "run --rm -v: its anonymous volume swept after" test -z "$(docker volume ls -q --filter "label=berth.instance=$INST" --filter label=berth.anonymous=1)"
fi
finish
