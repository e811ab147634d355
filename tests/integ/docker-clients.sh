#!/bin/bash
# The Docker door (issue 20) with the real clients it is for, beyond the
# docker CLI (docker-cli.sh): docker-compose 1.29 (Debian's) brings a
# two-service project up, lists it, reads its logs and takes it down, for two
# users with the same project name at once; Testcontainers (npm, dockerode
# underneath) over client certificates (the CN is the user) starts a
# GenericContainer, waits for its port, execs into it and stops it with Ryuk
# disabled; a test process killed mid-run leaves nothing behind once its
# session has been quiet for docker_door.session_idle (the reaper).
. "$(dirname "$0")/../lib.sh"

INST="t-dcl-$$"
IMG=$TEST_IMAGE
NPM_DIR="$OUT_DIR/npm"
export NPM_DIR

command -v docker-compose >/dev/null ||
	DEBIAN_FRONTEND=noninteractive apt-get install -y -qq docker-compose >"$T/apt.log" 2>&1
command -v node >/dev/null || DEBIAN_FRONTEND=noninteractive apt-get install -y -qq nodejs npm >"$T/apt.log" 2>&1
if [ ! -f "$NPM_DIR/node_modules/testcontainers/package.json" ]; then
	echo "# npm install testcontainers@11"
	mkdir -p "$NPM_DIR"
	npm install --prefix "$NPM_DIR" --no-audit --no-fund --loglevel=error testcontainers@11 >"$T/npm.log" 2>&1 ||
		{ cat "$T/npm.log"; not_ok "npm install testcontainers"; finish; exit 1; }
fi

cat >"$T/berth.conf" <<CONF
users = { alice = "operator"; bob = "operator"; root = "admin"; };
policy = { operator = { images = [ "berth-test/*" ]; ports = [1024, 65535]; volumes = true; };
           admin = { images = [ "*" ]; }; };
jobs = { sweep_interval = 1; };
docker_door = { session_idle = 20; };
CONF
for u in alice:a bob:b root:r; do htpasswd_line "${u%%:*}" "${u#*:}"; done >"$T/htpasswd"

# A CA, the door's server certificate (127.0.0.1) and a client certificate per user.
tls="$T/tls"
mkdir -p "$tls"
(
	cd "$tls" || exit 1
	openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj /CN=berth-test-ca \
		-keyout ca-key.pem -out ca.pem
	openssl req -newkey rsa:2048 -nodes -subj /CN=127.0.0.1 -keyout server-key.pem -out server.csr
	printf 'subjectAltName=IP:127.0.0.1,DNS:localhost\n' >server.ext
	openssl x509 -req -in server.csr -CA ca.pem -CAkey ca-key.pem -CAcreateserial -days 2 \
		-extfile server.ext -out server-cert.pem
	for u in alice bob; do
		mkdir -p "$u"
		openssl req -newkey rsa:2048 -nodes -subj "/CN=$u/O=berth-test" -keyout "$u/key.pem" -out "$u/c.csr"
		printf 'extendedKeyUsage=clientAuth\n' >"$u/c.ext"
		openssl x509 -req -in "$u/c.csr" -CA ca.pem -CAkey ca-key.pem -CAcreateserial -days 2 \
			-extfile "$u/c.ext" -out "$u/cert.pem"
		cp ca.pem "$u/ca.pem"
	done
) >"$T/openssl.log" 2>&1 || { cat "$T/openssl.log"; not_ok "test certificates"; finish; exit 1; }

mkdir -p "$T/state" "$T/state-tls"
start_berth basic --config "$T/berth.conf" --htpasswd "$T/htpasswd" --state-dir "$T/state" \
	--instance "$INST" --docker-port 0 || { finish; exit 1; }
DOCKER_BASIC=$DOCKER_URL
start_berth tls --config "$T/berth.conf" --state-dir "$T/state-tls" --instance "$INST-tls" \
	--docker-port 0 --docker-tls "$tls" || { finish; exit 1; }
DOCKER_TLS=$DOCKER_URL
check "berth-up prints the DOCKER_HOST to export" grep -q "export DOCKER_HOST=tcp://127.0.0.1:" "$T/up-basic.out"

# ---- docker-compose ----------------------------------------------------------
mkdir -p "$T/app"
cat >"$T/app/docker-compose.yml" <<YML
version: "2.4"
services:
  web:
    image: $IMG
    command: ["httpd", "-f", "-p", "80", "-h", "/"]
    ports: ["80"]
    volumes: ["data:/data"]
    networks: [back]
  worker:
    image: $IMG
    command: ["sh", "-c", "while true; do echo tick from worker; sleep 1; done"]
    networks: [back]
volumes:
  data: {}
networks:
  back: {}
YML
# compose_as USER PASS ARGS...: docker-compose as USER through the door (basic auth
# from the user's config.json HttpHeaders, as docker_as).
compose_as() {
	local user=$1 pass=$2 dir="$T/docker-config-$1"
	shift 2
	docker_as "$user" "$pass" -- version >/dev/null 2>&1 # writes the user's config.json
	(cd "$T/app" && DOCKER_CONFIG=$dir DOCKER_HOST=${DOCKER_BASIC/http:/tcp:} \
		COMPOSE_DOCKER_CLI_BUILD=0 DOCKER_BUILDKIT=0 timeout 120 docker-compose -p app "$@")
}
DOCKER_URL=$DOCKER_BASIC
compose_as alice a up -d >"$T/up-alice.log" 2>&1 &
ua=$!
compose_as bob b up -d >"$T/up-bob.log" 2>&1
ub=$?
wait "$ua"
ua=$?
check "compose up -d: alice (project app)" test "$ua" = 0
[ "$ua" = 0 ] || sed 's/^/#   /' "$T/up-alice.log"
check "compose up -d: bob, the same project name at once" test "$ub" = 0
[ "$ub" = 0 ] || sed 's/^/#   /' "$T/up-bob.log"
compose_as alice a ps >"$T/ps-alice.log" 2>&1
check "compose ps lists both services up" \
	bash -c "grep -c ' Up ' '$T/ps-alice.log' | grep -qx 2" || cat "$T/ps-alice.log"
check "compose ps names the project's containers" grep -q app_web_1 "$T/ps-alice.log"
logs_ok() { compose_as alice a logs --no-color worker 2>&1 | grep -q 'tick from worker'; }
check "compose logs shows the worker's output" wait_for 15 logs_ok
docker_as alice a -- ps -a --format '{{.Names}}' >"$T/alice-ps.txt" 2>&1
docker_as bob b -- ps -a --format '{{.Names}}' >"$T/bob-ps.txt" 2>&1
check "each user sees only their own project" \
	bash -c "[ \$(wc -l <'$T/alice-ps.txt') = 2 ] && [ \$(wc -l <'$T/bob-ps.txt') = 2 ]"
compose_as alice a down -v >"$T/down-alice.log" 2>&1
check "compose down (alice)" test $? = 0 || cat "$T/down-alice.log"
bob_left=$(docker ps -q --filter label=com.docker.compose.project=app --filter label=berth.owner=bob | wc -l)
check "bob's project survives alice's down" test "$bob_left" = 2
compose_as bob b down -v >"$T/down-bob.log" 2>&1
check "compose down (bob)" test $? = 0 || cat "$T/down-bob.log"
check "compose down left no container, network or volume" bash -c "
	[ -z \"\$(docker ps -aq --filter label=berth.instance=$INST)\" ] &&
	[ -z \"\$(docker network ls -q --filter label=berth.instance=$INST)\" ] &&
	[ -z \"\$(docker volume ls -q --filter label=berth.instance=$INST)\" ]"

# ---- Testcontainers over client certificates ----------------------------------
tc() { # tc USER MODE: the client as USER (its certificate)
	DOCKER_HOST=${DOCKER_TLS/http:/tcp:} DOCKER_TLS_VERIFY=1 DOCKER_CERT_PATH="$tls/$1" \
		TESTCONTAINERS_RYUK_DISABLED=true timeout 120 node "$TESTS_DIR/integ/tc-client.mjs" "$2" "$IMG"
}
TC=$(tc alice run 2>"$T/tc.err")
echo "# testcontainers: $TC"
check "testcontainers: GenericContainer started, port waited for" \
	bash -c "printf '%s' '$TC' | jq -e '.port > 0' >/dev/null" || cat "$T/tc.err"
check "testcontainers: exec into it" \
	bash -c "printf '%s' '$TC' | jq -e '.exec.exitCode == 0 and (.exec.output | test(\"hello from exec\"))' >/dev/null"
check "testcontainers: its port answers" bash -c "printf '%s' '$TC' | jq -e '.http | test(\"HTTP\")' >/dev/null"
check "testcontainers: stopped" bash -c "printf '%s' '$TC' | jq -e '.stopped' >/dev/null"
owner=$(docker ps -aq --filter "label=berth.instance=$INST-tls" --filter label=berth.owner=alice | wc -l)
check "the certificate's CN is the owner; stop removed it" test "$owner" = 0

# A test process killed mid-run: its session goes quiet and the reaper removes it.
tc bob hold >"$T/hold.out" 2>"$T/hold.err" &
hold=$!
wait_for 60 grep -q '"id"' "$T/hold.out"
id=$(jq -r .id "$T/hold.out" 2>/dev/null)
check "testcontainers (bob) holds a container" test -n "$id" -a "$id" != null || cat "$T/hold.err"
kill -KILL "$hold" 2>/dev/null
wait "$hold" 2>/dev/null
gone() { [ -z "$(docker ps -aq --filter "id=$id")" ]; }
check "a killed test run leaves nothing behind (reaped after session_idle)" wait_for 90 gone

finish
