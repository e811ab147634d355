#!/bin/bash
# Walking skeleton: nginx -> berth-fcgi -> dockerd through berth-up.
# Index, versions, health, 404/405/413/415/400, identity (401, spoofed
# headers ignored, basic auth), dockerd going away and coming back.
. "$(dirname "$0")/../lib.sh"

groups <<'EOF'
# name      tags
errors                 # zero-config berth-up: index, versions, 404/405/413/415/400
roles       identity   # roles from a config, berth's body cap, anonymous refused
basicauth   identity   # nginx basic auth: identity from nginx only
dockerd                # dockerd gone and back
supervisor             # a killed worker, SIGHUP, SIGTERM draining, the log line
fd0                    # spawn-fcgi, a client that never hangs up
berthup                # berth-up names what is wrong
docs                   # docs/api.md is this build's
config                 # config errors with file:line
EOF

# 1. Zero-config berth-up in the background (seed 000's FILE mode).
if group errors; then
	start_berth plain || exit 1
	head -c 2000000 /dev/zero | tr '\0' 'a' >"$T/big"
	cases <<'EOF'
# name                                  | who       | method | url                        | body        | status | assertions...
health ok through the real dockerd      | anonymous | GET    | $URL/api/v1/health         | -           | 200 | .docker = ok | headers ~ ^X-Request-Id: [0-9a-f]{16}
index lists itself                      | anonymous | GET    | $URL/api/v1                | -           | 200 | ."GET /api/v1/health"|type = string
version names dockerd                   | anonymous | GET    | $URL/api/v1/version        | -           | 200 | .docker.api_version = 1.41
seed 000 /version is text               | anonymous | GET    | $URL/version               | -           | 200 | body ~ ^berth [0-9]
unknown path 404 JSON                   | anonymous | GET    | $URL/api/v1/nope           | -           | 404 | .error.code = not_found
wrong method 405 JSON                   | anonymous | DELETE | $URL/api/v1/health         | -           | 405 | .error.code = method_not_allowed | headers ~ ^Allow: GET
non-JSON body 415                       | anonymous | GET    | $URL/api/v1/whoami         | not json    | 415 | .error.code = unsupported_media_type | hdr Content-Type: text/plain
bad JSON 400 with position              | anonymous | GET    | $URL/api/v1/whoami         | {"a":1,}    | 400 | .error.message|test("byte [0-9]+") = true
2 MB body refused by nginx as JSON 413  | anonymous | POST   | $URL/api/v1/whoami         | @$T/big     | 413 | .error.code = payload_too_large
no auth configured: local admin         | anonymous | GET    | $URL/api/v1/whoami         | -           | 200 | .role = admin
audit readable by admin                 | anonymous | GET    | $URL/api/v1/audit          | -           | 200 | .entries|type = array
openapi document                        | anonymous | GET    | $URL/api/v1/openapi.json   | -           | 200 | .openapi = 3.1.0
EOF
	stop_berth "$PID_plain"
	check "berth-up stops on SIGTERM" bash -c "! kill -0 $PID_plain 2>/dev/null"
fi

# 2. Roles from a config, berth's own body cap, anonymous refused.
cat >"$T/berth.conf" <<CONF
$(cast_users alice vic)
max_body = 4096;
CONF
if group roles; then
	start_berth roles --config "$T/berth.conf" || exit 1
	head -c 5000 /dev/zero | tr '\0' ' ' >"$T/mid"
	cases <<'EOF'
no REMOTE_USER: 401                     | anonymous      | GET | $URL/api/v1/whoami | -       | 401 | .error.code = unauthenticated
spoofed identity headers ignored        | anonymous      | GET | $URL/api/v1/whoami | -       | 401 | .error.code = unauthenticated \
| hdr Remote-User: alice | hdr X-Remote-User: alice | hdr X-User: alice
Basic credentials without nginx auth are not identity \
                                        | alice:whatever | GET | $URL/api/v1/whoami | -       | 401 | .error.code = unauthenticated
health needs no identity                | anonymous      | GET | $URL/api/v1/health | -       | 200 | .status = ok
body over berth's max_body: 413         | anonymous      | GET | $URL/api/v1/health | @$T/mid | 413 | .error.code = payload_too_large
EOF
	stop_berth "$PID_roles"
fi

# 3. nginx basic auth: identity from nginx only.
if group basicauth; then
	cast_htpasswd "$T/htpasswd" eve:e
	start_berth auth --config "$T/berth.conf" --htpasswd "$T/htpasswd" || exit 1
	cases <<'EOF'
basic auth: no credentials 401 JSON     | anonymous   | GET | $URL/api/v1/whoami | - | 401 | .error.code = unauthenticated
basic auth: viewer                      | vic         | GET | $URL/api/v1/whoami | - | 200 | .role = viewer
basic auth: spoofed header cannot become admin \
                                        | vic         | GET | $URL/api/v1/whoami | - | 200 | .user = vic | hdr Remote-User: alice | hdr X-Remote-User: alice
viewer cannot read audit                | vic         | GET | $URL/api/v1/audit  | - | 403 | .error.code = forbidden
authenticated but no role: 403          | eve:e       | GET | $URL/api/v1/whoami | - | 403 | .error.code = forbidden
wrong password 401                      | alice:wrong | GET | $URL/api/v1/whoami | - | 401
EOF
	stop_berth "$PID_auth"
fi

# 4. dockerd goes away and comes back: berth answers 503, then recovers by itself.
if group dockerd; then
	if command -v socat >/dev/null; then
		cat >"$T/proxy.conf" <<CONF
anonymous = "admin";
docker = { socket = "$T/docker.sock"; connect_timeout_ms = 1000; };
CONF
		socat UNIX-LISTEN:"$T/docker.sock",fork,mode=666 UNIX-CONNECT:/var/run/docker.sock &
		proxy=$!
		wait_for 5 test -S "$T/docker.sock"
		start_berth proxy --config "$T/proxy.conf" || exit 1
		req GET "$URL/api/v1/health"
		expect "health through the socket proxy" 200 .docker ok
		pkill -TERM -P "$proxy" 2>/dev/null; kill "$proxy"; wait "$proxy" 2>/dev/null; rm -f "$T/docker.sock"
		bad=0
		for _ in 1 2 3 4 5 6; do req GET "$URL/api/v1/health"; [ "$STATUS" = 503 ] || bad=1; done
		[ $bad = 0 ] && [ "$(jqb .error.code)" = docker_unavailable ] && ok "dockerd gone: 503 docker_unavailable on every worker" || not_ok "dockerd gone: 503 ($STATUS $BODY)"
		socat UNIX-LISTEN:"$T/docker.sock",fork,mode=666 UNIX-CONNECT:/var/run/docker.sock &
		proxy=$!
		wait_for 5 test -S "$T/docker.sock"
		good=0
		for _ in 1 2 3 4 5 6; do req GET "$URL/api/v1/health"; [ "$STATUS" = 200 ] && good=$((good + 1)); done
		[ $good = 6 ] && ok "dockerd back: recovered without restarting berth" || not_ok "recovery ($good/6)"
		# Stopped while dockerd still answers through the proxy, so its cleanup can run.
		stop_berth "$PID_proxy"
		kill "$proxy" 2>/dev/null
	else
		not_ok "socat missing for the dockerd-down test"
	fi
fi

# 5. The supervisor: a killed worker is replaced, SIGHUP reloads, SIGTERM drains.
if group supervisor; then
	cat >"$T/sup.conf" <<CONF
anonymous = "admin";
policy = { admin = { images = [ "*" ]; }; };
CONF
	INST="t-sk-$$"
	start_berth sup --config "$T/sup.conf" --instance "$INST" --workers 2 || exit 1
	sup=$(pgrep -f -- "berth-fcgi.*--instance $INST .*--listen" | head -1)
	# Its children but the stream relay (named berth-relay).
	workers() {
		local p
		for p in $(pgrep -P "$sup" -f berth-fcgi); do
			[ "$(cat "/proc/$p/comm" 2>/dev/null)" = berth-relay ] || echo "$p"
		done | sort
	}
	before=$(workers)
	check "supervisor runs 2 workers" test "$(wc -l <<<"$before")" = 2
	check "and one stream relay" test "$(pgrep -P "$sup" -x berth-relay | wc -l)" = 1
	kill -9 $(head -1 <<<"$before")
	wait_for 5 bash -c '[ "$(pgrep -P "$1" -f berth-fcgi | wc -l)" = 3 ]' _ "$sup"
	check "a killed worker is replaced" test "$(workers | wc -l)" = 2 -a "$(workers)" != "$before"
	req GET "$URL/api/v1/health"
	expect "serving after a worker died" 200
	# Logs: one line per request with level, request id, user, route, status and duration.
	log=$(readlink "/proc/$sup/fd/2")
	req GET "$URL/api/v1/nope%22%0aforged=1"
	rid=$(jqb .error.request_id)
	line=$(grep "id=$rid" "$log")
	# nginx decodes the path it routes on (DOCUMENT_URI): the newline is refused there, with a 400.
	check "one log line per request, with its fields" bash -c '[ "$(wc -l <<<"$1")" = 1 ] && grep -q "level=info .* request id=$2 method=GET path=.* route=\"-\" user=\"-\" role=admin status=400 dur_ms=[0-9]*\.[0-9][0-9][0-9]" <<<"$1"' _ "$line" "$rid"
	check "client-supplied path cannot forge log fields" bash -c '! grep -q "^forged=1" "$1"' _ "$log"
	echo 'users = { alice = "admin"; };' >>"$T/sup.conf"
	kill -HUP "$sup"; sleep 1
	req GET "$URL/api/v1/whoami"
	expect "SIGHUP reloaded the config (anonymous is still admin)" 200 .role admin
	echo 'this is not valid' >>"$T/sup.conf"
	kill -HUP "$sup"; sleep 1
	req GET "$URL/api/v1/health"
	expect "a bad config on SIGHUP is refused and the old one kept" 200
	check "supervisor survived the bad reload" kill -0 "$sup"
	cases <<'EOF'
a container to exec in | anonymous | POST | $URL/api/v1/containers | {"name":"$INST-drain","image":"$TEST_IMAGE","command":["sleep","600"]} | 201
EOF
	curl -s -o "$T/drain" -w '%{http_code}' -XPOST -H 'Content-Type: application/json' \
		-d '{"command":["sh","-c","sleep 2; echo drained"]}' "$URL/api/v1/containers/$INST-drain/exec" >"$T/drain.code" &
	slow=$!
	sleep 0.7
	kill -TERM "$sup"
	wait "$slow"
	check "SIGTERM lets the in-flight request finish" test "$(cat "$T/drain.code")|$(jq -r .stdout "$T/drain")" = "200|drained"
	wait_for 10 bash -c '! kill -0 "$1" 2>/dev/null' _ "$sup"
	check "the supervisor exits after draining" bash -c '! kill -0 "$1" 2>/dev/null' _ "$sup"
	stop_berth "$PID_sup"
	docker ps -aq --filter "name=^/$INST-drain\\." | xargs -r docker rm -f >/dev/null 2>&1
fi

# 6. fd 0 (spawn-fcgi): one worker on an inherited socket.
if group fd0; then
	mkdir -p "$T/fd0"
	printf 'anonymous = "viewer";\n' >"$T/sup.conf.ok"
	spawn-fcgi -s "$T/fd0/sock" -P "$T/fd0/pid" -- "$BERTH_FCGI" --config "$T/sup.conf.ok" --allow-root \
		--state-dir "$T/fd0/state" >/dev/null 2>&1
	wait_for 5 test -S "$T/fd0/sock"
	out=$(cd /tmp && REQUEST_METHOD=GET REQUEST_URI=/api/v1/whoami cgi-fcgi -bind -connect "$T/fd0/sock" 2>&1)
	check "berth-fcgi serves a socket on fd 0 (spawn-fcgi)" grep -q '"role":"viewer"' <<<"$out"
	# One worker, a client that answers nothing and never hangs up: the worker is
	# free for the next request at once (libfcgi's lingering close would hold it
	# 2 s); a refused body is drained, and one too big to drain still gets its answer.
	if cc -O1 -Wall -Wextra -Werror -o "$T/fcgi-hold" "$SRC_DIR/tests/fcgi-hold.c" 2>"$T/hold.err"; then
		out=$("$T/fcgi-hold" "$T/fd0/sock" GET /api/v1/whoami 0 1)
		check "a worker is free once it has answered, client still connected ($out)" \
			grep -Eq '^status=200 complete=1 next_ms=[0-9]{1,3}$' <<<"$out"
		out=$("$T/fcgi-hold" "$T/fd0/sock" POST /api/v1/containers 10000 1)
		check "a refused 10 kB body is drained: answered, worker free ($out)" \
			grep -Eq '^status=403 complete=1 next_ms=[0-9]{1,3}$' <<<"$out"
		out=$("$T/fcgi-hold" "$T/fd0/sock" POST /api/v1/containers 300000 0)
		check "a refused 300 kB body still gets its whole answer ($out)" grep -q "status=403 complete=1" <<<"$out"
	else
		cat "$T/hold.err" >&2
		not_ok "tests/fcgi-hold.c builds"
	fi
	kill "$(cat "$T/fd0/pid")" 2>/dev/null
	out=$("$BERTH_FCGI" --config "$T/sup.conf.ok" --allow-root --state-dir "$T/fd0/state" </dev/null 2>&1)
	check "no socket on fd 0 and no --listen: a clear refusal" grep -q "no listening socket" <<<"$out"
	out=$("$BERTH_FCGI" --config "$T/sup.conf.ok" --state-dir "$T/fd0/state" --listen "$T/fd0/x.sock" 2>&1)
	check "root without --user or --allow-root: refused" grep -q "refusing to run as root" <<<"$out"
fi

# 7. berth-up says what is wrong.
if group berthup; then
	printf 'docker = { socket = "%s/no-docker.sock"; };\n' "$T" >"$T/nodocker.conf"
	out=$("$BERTH_UP" --config "$T/nodocker.conf" "$T/never.info" 2>&1)
	check "berth-up: dockerd not answering is named" grep -q "dockerd is not answering" <<<"$out"
	out=$(BERTH_NGINX=/nonexistent/nginx "$BERTH_UP" "$T/never.info" 2>&1)
	check "berth-up: missing nginx is named" grep -q "nginx is not installed" <<<"$out"

	check "berth-up --version names a real version" bash -c '"$1" --version | grep -q "^berth-up [0-9]"' _ "$BERTH_UP"
fi

# 8. The API reference in docs/ is the one this build produces.
if group docs; then
	"$SRC_DIR/docs/gen-api.sh" "$BERTH_FCGI" >"$T/api.md" 2>&1
	check "docs/api.md matches the route table (regenerate with docs/gen-api.sh)" diff -q "$T/api.md" "$SRC_DIR/docs/api.md"
	# One style: every C file as .clang-format has it (clang-format -i to fix).
	if command -v clang-format >/dev/null; then
		check "the C sources are clang-formatted" bash -c 'cd "$1" && clang-format --dry-run -Werror src/*.c src/*.h src/*/*.c src/*/*.h tests/*.c tests/fuzz/*.c tests/fuzz/*.h 2>&1 | grep -m5 "error:" >&2; [ "${PIPESTATUS[0]}" = 0 ]' _ "$SRC_DIR"
	fi
fi

# 9. Config errors fail at start with file:line.
if group config; then
	printf 'users = { bob = "operater"; };\n' >"$T/bad.conf"
	out=$("$BERTH_FCGI" --config "$T/bad.conf" check-config 2>&1)
	check "bad config names file:line" grep -q "bad.conf:1: users.bob" <<<"$out"
	out=$("$BERTH_UP" --config "$T/bad.conf" "$T/never.info" 2>&1)
	check "berth-up with a bad config fails clearly" grep -q "bad.conf:1" <<<"$out"
fi

finish
