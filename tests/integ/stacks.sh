#!/bin/bash
# Stacks (compose files as owned applications) through real nginx ->
# berth-fcgi -> dockerd: a three-service file (web on a published port, a
# database keeping data on a named volume, a worker gated on its health)
# deploys and answers; PUT recreates only the changed service (container ids
# compared); data survives PUT and DELETE + redeploy, not DELETE ?volumes=1;
# two owners deploy the same name at once and never see each other's;
# hostile files (privileged, network_mode, pid, a bind of /, unknown keys, a
# billion laughs, 10 MB) are refused naming the key path with nothing made;
# depends_on waits for healthy and for completed, and gives up on unhealthy;
# compose's labels are written and compose projects berth has no record of
# are listed.
. "$(dirname "$0")/../lib.sh"

groups <<'EOF'
# name      tags
refuse      hostile    # hostile and broken files: 4xx naming the key path, nothing made
deploy                 # the three-service stack: deploy, serve, PUT, logs, down, volumes
tenants     tenancy    # two owners, one stack name, at once
depends                # completed_successfully, an unhealthy dependency
compose                # compose projects berth holds no record of are listed
EOF

INST="t-stk-$$"
cat >"$T/berth.conf" <<CONF
$(cast_users)
policy = {
  operator = { images = [ "berth-test/*" ]; volumes = true; memory = "32m";
               quota = { containers = 8; }; };
  admin = { images = [ "*" ]; volumes = true; };
};
CONF
cast_htpasswd "$T/htpasswd"
mkdir -p "$T/state"
start_berth main --config "$T/berth.conf" --htpasswd "$T/htpasswd" --state-dir "$T/state" \
	--instance "$INST" || exit 1
API="$URL/api/v1"
IMG=$TEST_IMAGE
cast_arrays

# made [LABEL=VALUE...]: how many containers, volumes and networks of this instance carry the labels.
made() {
	local f=(--filter "label=berth.instance=$INST") l
	for l in "$@"; do f+=(--filter "label=$l"); done
	echo $(($(docker ps -aq "${f[@]}" | wc -l) + $(docker volume ls -q "${f[@]}" | wc -l) +
		$(docker network ls -q "${f[@]}" | wc -l)))
}
# body FILE NAME [VARIABLES-JSON]: a POST body for compose file FILE ($T) as stack NAME.
body() {
	jq -cn --rawfile f "$T/$1" --arg n "$2" --argjson v "${3:-{\}}" '{name:$n,file:$f,variables:$v}'
}
# update FILE [VARIABLES-JSON]: a PUT body.
update() { jq -cn --rawfile f "$T/$1" --argjson v "${2:-{\}}" '{file:$f,variables:$v}'; }
# cid STACK SERVICE [OWNER]: the id of replica 1 of SERVICE.
cid() {
	docker ps -aq --no-trunc --filter "label=berth.instance=$INST" --filter "label=berth.owner=${3:-oscar}" \
		--filter "label=com.docker.compose.project=$1" --filter "label=com.docker.compose.service=$2" | head -1
}

# The three services.  db writes its first-boot stamp once and is healthy only
# after a second; worker waits for that; web serves a page with ${GREETING}.
cat >"$T/shop.yml" <<'YML'
x-shell: &sh [sh, -c]
services:
  web:
    image: berth-test/busybox:1
    entrypoint: *sh
    command: ["mkdir -p /www; echo hello-${GREETING:-nobody} > /www/index.html; trap 'exit 0' TERM; httpd -f -p 8080 -h /www & wait"]
    ports: ["8080"]
    depends_on: [db]
    labels: {tier: front}
  db:
    image: berth-test/busybox:1
    command: [sh, -c, "trap 'exit 0' TERM; [ -f /data/stamp ] || date +%s%N > /data/stamp; sleep 1; touch /ready; while :; do sleep 1 & wait; done"]
    volumes: ["data:/data"]
    healthcheck:
      test: [CMD, test, -f, /ready]
      interval: 1s
      retries: 5
    mem_limit: 24m
  worker:
    image: berth-test/busybox:1
    command: [sh, -c, "trap 'exit 0' TERM; while :; do echo working; sleep 1 & wait; done"]
    environment:
      DB: db
      PRICE: $$5
    depends_on:
      db: {condition: service_healthy}
volumes:
  data: {}
YML
sed 's/hello-/welcome-/' "$T/shop.yml" >"$T/shop2.yml"

# --- hostile and broken files: refused at the key, nothing made -------------------
cases refuse <<'EOF'
# name                              | who   | method | url          | body                     | status | assertions...
privileged: true                    | oscar | POST   | $API/stacks  | @stacks/privileged.json  | 422 | .error.field = services.web.privileged \
	| .error.line = 4
network_mode: host                  | oscar | POST   | $API/stacks  | @stacks/network_mode.json | 422 | .error.field = services.web.network_mode
pid: host                           | oscar | POST   | $API/stacks  | @stacks/pid.json         | 422 | .error.field = services.web.pid | .error.line = 6
a bind of / (policy)                | oscar | POST   | $API/stacks  | @stacks/bind_root.json   | 403 | .error.field = services.web.volumes[1] \
	| .error.line = 6
unknown deploy key                  | oscar | POST   | $API/stacks  | @stacks/unknown.json     | 422 | .error.field = services.web.deploy.placement
unknown top-level key               | oscar | POST   | $API/stacks  | @stacks/toplevel.json    | 422 | .error.field = secrets
depends_on cycle                    | oscar | POST   | $API/stacks  | @stacks/cycle.json       | 422 | .error.field|test("^services[.][ab][.]depends_on$") = true
service_healthy without healthcheck | oscar | POST   | $API/stacks  | @stacks/nohealth.json    | 422 | .error.field = services.a.depends_on.b
undeclared volume                   | oscar | POST   | $API/stacks  | @stacks/undeclared.json  | 422 | .error.field = services.a.volumes[0]
relative bind                       | oscar | POST   | $API/stacks  | @stacks/relative.json    | 422 | body ~ project directory
image off the allow-list            | oscar | POST   | $API/stacks  | @stacks/image.json       | 403 | .error.field = services.a.image
a required variable unset         | oscar | POST   | $API/stacks  | @stacks/required.json    | 422 | .error.field = services.a.environment.PW \
	| body ~ set a password
broken YAML: line given             | oscar | POST   | $API/stacks  | @stacks/badyaml.json     | 422 | .error.field = file | .error.line = 5
two documents                       | oscar | POST   | $API/stacks  | @stacks/twodocs.json     | 422 | body ~ one YAML document
port range                          | oscar | POST   | $API/stacks  | @stacks/ports.json       | 422 | .error.field = services.a.ports[0]
file and compose                    | oscar | POST   | $API/stacks  | @stacks/both.json        | 422 | .error.field = compose
a bad stack name                    | oscar | POST   | $API/stacks  | @stacks/badname.json     | 422 | .error.field = name
a viewer cannot deploy              | vic   | POST   | $API/stacks  | @stacks/privileged.json  | 403
EOF
if group refuse; then
	# A billion laughs: ten levels of ten aliases (10^10 strings if expanded).
	{
		echo 'a: &a ["lol"]'
		prev=a
		for l in b c d e f g h i j k; do
			printf '%s: &%s [' $l $l
			for n in 1 2 3 4 5 6 7 8 9; do printf '*%s,' $prev; done
			printf '*%s]\n' $prev
			prev=$l
		done
	} >"$T/bomb.yml"
	start=$SECONDS
	req POST "$API/stacks" "$(body bomb.yml bomb)" "${O[@]}"
	expect "a billion-laughs file is refused by its node count" 422 '.error.message | test("more than [0-9]+ nodes")' true
	check "and fast ($((SECONDS - start)) s)" test $((SECONDS - start)) -le 5
	head -c 10485760 /dev/zero | tr '\0' 'a' | sed 's/^/x: /' >"$T/big.yml"
	jq -cn --rawfile f "$T/big.yml" '{name:"big",file:$f}' >"$T/big.json"
	req POST "$API/stacks" "@$T/big.json" "${O[@]}"
	expect "a 10 MB file is refused (nginx's body limit)" 413
	check "no refusal made anything" test "$(made)" = 0
fi

# --- the three-service stack --------------------------------------------------------
if group deploy; then
	start=$SECONDS
	req POST "$API/stacks" "$(body shop.yml shop '{"GREETING":"world"}')" "${O[@]}"
	expect "oscar deploys shop: 201" 201 .status running
	check "dependencies first: db before web and worker" \
		test "$(jqb '.changes.created[0]')" = shop-db-1
	check "worker was made once db was healthy" \
		test "$(docker inspect -f '{{.State.Health.Status}}' "$(cid shop db)")" = healthy
	check "deploy took $((SECONDS - start)) s" test $((SECONDS - start)) -le 30
	PORT=$(jqb '.services.web.containers[0].ports["8080/tcp"]')
	wait_for 10 bash -c "curl -sf http://127.0.0.1:$PORT/ | grep -qx hello-world"
	check "web answers on its published port, variables interpolated" \
		test "$(curl -s "http://127.0.0.1:$PORT/")" = hello-world
	WEB=$(cid shop web) DB=$(cid shop db) WORKER=$(cid shop worker)
	check "compose's labels on the containers" test "$(docker inspect -f \
		'{{index .Config.Labels "com.docker.compose.project"}} {{index .Config.Labels "com.docker.compose.service"}} {{index .Config.Labels "com.docker.compose.container-number"}} {{index .Config.Labels "com.docker.compose.oneoff"}} {{index .Config.Labels "tier"}}' "$WEB")" = "shop web 1 False front"
	check "a config hash on each" test -n "$(docker inspect -f '{{index .Config.Labels "com.docker.compose.config-hash"}}' "$DB")"
	check "\$\$ is a dollar" docker exec "$WORKER" sh -c 'test "$PRICE" = "\$5"'
	check "worker reaches db by its service name" docker exec "$WORKER" sh -c "ping -c1 -W2 db >/dev/null"
	check "db's memory limit from mem_limit" test "$(docker inspect -f '{{.HostConfig.Memory}}' "$DB")" = $((24 << 20))
	STAMP=$(docker exec "$DB" cat /data/stamp)
	req GET "$API/stacks" "" "${O[@]}"
	expect "oscar's list shows shop running" 200 '[.stacks[] | select(.name == "shop") | .status + " " + (.services.db.running | tostring)] | join(",")' "running 1"
	req GET "$API/stacks/shop" "" "${O[@]}"
	expect "GET shows the file as deployed" 200 '.file | contains("hello-${GREETING")' true
	check "and each service's containers" test "$(jqb '[.services[].containers | length] | add')" = 3
	check "variables by name only" test "$(jqb '.variables | join(",")')" = GREETING
	req GET "$API/stacks/shop/logs?tail=5" "" "${O[@]}"
	expect "merged logs" 200
	check "merged logs: worker's lines are prefixed with its replica" grep -q '^worker-1 | working' <<<"$BODY"
	req GET "$API/stacks/shop/logs?follow=1" "" "${O[@]}"
	expect "follow is refused, saying so" 400 .error.field follow
	start=$SECONDS
	req PUT "$API/stacks/shop?timeout=2" "$(update shop2.yml '{"GREETING":"world"}')" "${O[@]}"
	expect "PUT a changed web: 200" 200 '.changes.created | join(",")' shop-web-1
	check "only web was recreated" test "$(cid shop web)" != "$WEB" -a "$(cid shop db)" = "$DB" -a "$(cid shop worker)" = "$WORKER"
	check "PUT took $((SECONDS - start)) s" test $((SECONDS - start)) -le 15
	PORT=$(jqb '.services.web.containers[0].ports["8080/tcp"]')
	wait_for 10 bash -c "curl -sf http://127.0.0.1:$PORT/ | grep -qx welcome-world"
	check "the new web answers" test "$(curl -s "http://127.0.0.1:$PORT/")" = welcome-world
	req PUT "$API/stacks/shop?timeout=2" "$(update shop2.yml '{"GREETING":"world"}')" "${O[@]}"
	expect "the same file again changes nothing" 200 '.changes.created // [] | length' 0
	req DELETE "$API/stacks/shop?timeout=2" "" "${O[@]}"
	expect "DELETE takes it down" 200 '.removed | length' 3
	check "no container or network left, the volume kept" \
		test "$(made com.docker.compose.project=shop)" = 0 -a "$(made berth.name=shop_data)" = 1
	req POST "$API/stacks" "$(body shop.yml shop '{"GREETING":"again"}')" "${O[@]}"
	expect "redeployed" 201 .status running
	check "db's data survived DELETE + redeploy" test "$(docker exec "$(cid shop db)" cat /data/stamp)" = "$STAMP"
	req DELETE "$API/stacks/shop?volumes=1&timeout=2" "" "${O[@]}"
	expect "DELETE ?volumes=1" 200 '.volumes_removed | join(",")' shop_data
	check "and the volume is gone too" test "$(made berth.name=shop_data)" = 0
	req GET "$API/stacks/shop" "" "${O[@]}"
	expect "gone: 404" 404
fi

# --- two owners, one name, at once ------------------------------------------------------
if group tenants; then
	cat >"$T/t.yml" <<'YML'
services:
  app:
    image: berth-test/busybox:1
    command: [sh, -c, "trap 'exit 0' TERM; echo $$OWNER_IS > /who; while :; do sleep 1 & wait; done"]
    environment: {OWNER_IS: "${WHO}"}
    volumes: [keep:/keep]
volumes:
  keep:
YML
	body t.yml same '{"WHO":"oscar"}' >"$T/t-oscar.json"
	body t.yml same '{"WHO":"olga"}' >"$T/t-olga.json"
	curl -s -o "$T/r-oscar" -w '%{http_code}' "${O[@]}" -H 'Content-Type: application/json' \
		--data-binary "@$T/t-oscar.json" "$API/stacks" >"$T/s-oscar" &
	curl -s -o "$T/r-olga" -w '%{http_code}' "${G[@]}" -H 'Content-Type: application/json' \
		--data-binary "@$T/t-olga.json" "$API/stacks" >"$T/s-olga" &
	wait
	check "both deploy 'same' at once: 201 and 201" test "$(cat "$T/s-oscar") $(cat "$T/s-olga")" = "201 201"
	check "each runs their own" test "$(docker exec "$(cid same app oscar)" sh -c 'echo $OWNER_IS') $(docker exec "$(cid same app olga)" sh -c 'echo $OWNER_IS')" = "oscar olga"
	check "on volumes of their own" test "$(made berth.name=same_keep)" = 2
	req GET "$API/stacks" "" "${G[@]}"
	expect "olga's list: her stack only" 200 '[.stacks[].owner] | unique | join(",")' olga
	req GET "$API/stacks/same" "" "${G[@]}"
	expect "olga's same is hers" 200 '.owner' olga
	req GET "$API/stacks?owner=oscar" "" "${G[@]}"
	expect "olga cannot list oscar's" 403
	req GET "$API/stacks" "" "${V[@]}"
	expect "a viewer sees none" 200 '.stacks | length' 0
	req DELETE "$API/stacks/same?timeout=1&volumes=1" "" "${G[@]}"
	expect "olga takes hers down" 200
	check "oscar's is untouched" test "$(docker inspect -f '{{.State.Running}}' "$(cid same app oscar)")" = true
	req GET "$API/stacks/same" "" "${O[@]}"
	expect "oscar's is still there" 200 .owner oscar
	req GET "$API/stacks" "" "${A[@]}"
	expect "an admin sees oscar's" 200 '[.stacks[] | select(.name == "same") | .owner] | join(",")' oscar
	req DELETE "$API/stacks/same?timeout=1&volumes=1" "" "${O[@]}"
	expect "oscar takes his down" 200
fi

# --- dependency conditions ------------------------------------------------------------------
if group depends; then
	cat >"$T/dep.yml" <<'YML'
services:
  migrate:
    image: berth-test/busybox:1
    command: [sh, -c, "sleep 1; echo migrated"]
  app:
    image: berth-test/busybox:1
    command: [sh, -c, "trap 'exit 0' TERM; while :; do sleep 1 & wait; done"]
    depends_on:
      migrate: {condition: service_completed_successfully}
YML
	req POST "$API/stacks" "$(body dep.yml dep)" "${O[@]}"
	expect "app waits for migrate to complete" 201 '.changes.created | join(",")' "dep-migrate-1,dep-app-1"
	check "migrate exited 0 before app began" test "$(docker inspect -f '{{.State.ExitCode}} {{.State.Status}}' "$(cid dep migrate)")" = "0 exited"
	check "a stack with a finished one-shot is partial" test "$(jqb .status)" = partial
	req DELETE "$API/stacks/dep?timeout=1" "" "${O[@]}"
	expect "dep down" 200
	cat >"$T/sick.yml" <<'YML'
services:
  db:
    image: berth-test/busybox:1
    command: [sh, -c, "trap 'exit 0' TERM; while :; do sleep 1 & wait; done"]
    healthcheck: {test: "exit 1", interval: 1s, retries: 1}
  app:
    image: berth-test/busybox:1
    depends_on: {db: {condition: service_healthy}}
YML
	req POST "$API/stacks" "$(body sick.yml sick)" "${O[@]}"
	expect "an unhealthy dependency stops the deploy" 409 .error.field services.app.depends_on.db
	check "and what it made was taken down" test "$(made com.docker.compose.project=sick)" = 0
fi

# --- compose projects berth holds no record of --------------------------------------------------
if group compose; then
	req POST "$API/containers" "{\"name\":\"legacy-web-1\",\"image\":\"$IMG\",\"command\":[\"sh\",\"-c\",\"trap 'exit 0' TERM; sleep 600 & wait\"],\"labels\":{\"com.docker.compose.project\":\"legacy\",\"com.docker.compose.service\":\"web\"}}" "${O[@]}"
	expect "a container labelled as compose's project legacy" 201
	req GET "$API/stacks" "" "${O[@]}"
	expect "is listed as a stack berth does not manage" 200 '[.stacks[] | select(.name == "legacy") | "\(.managed) \(.source) \(.services.web.running)"] | join(",")' "false compose 1"
	req GET "$API/stacks" "" "${G[@]}"
	expect "not in olga's list" 200 '[.stacks[] | select(.name == "legacy")] | length' 0
	req DELETE "$API/containers/legacy-web-1?force=1" "" "${O[@]}"
	expect "removed" 204
fi

check "nothing of the suite's stacks is left" test "$(made com.docker.compose.project)" = 0
finish
