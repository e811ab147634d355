#!/bin/bash
# Consoles (issue 19, GET /api/v1/containers/{ref}/console) through real
# nginx -> berth-fcgi -> relay -> dockerd: a WebSocket client (the `ws` npm
# package, tests/integ/console-client.mjs) types into a shell, resizes it
# and reads its exit code; an Upgrade: tcp client gets raw bytes; viewers,
# other tenants, other sites and plain GETs are refused; a client that
# drops its connection frees its stream slot (streams.per_user = 1 here).
. "$(dirname "$0")/../lib.sh"

INST="t-con-$$"
IMG=berth-test/busybox:1
NPM_DIR="$OUT_DIR/npm"
export NPM_DIR

command -v node >/dev/null || DEBIAN_FRONTEND=noninteractive apt-get install -y -qq nodejs npm >"$T/apt.log" 2>&1
if [ ! -f "$NPM_DIR/node_modules/ws/package.json" ]; then
	echo "# npm install ws"
	mkdir -p "$NPM_DIR"
	npm install --prefix "$NPM_DIR" --no-audit --no-fund --loglevel=error ws@8 >"$T/npm.log" 2>&1 ||
		{ cat "$T/npm.log"; not_ok "npm install ws"; finish; exit 1; }
fi

cat >"$T/berth.conf" <<CONF
users = { alice = "admin"; oscar = "operator"; olga = "operator"; vic = "viewer"; };
policy = { operator = { images = [ "berth-test/*" ]; }; admin = { images = [ "*" ]; }; };
streams = { per_user = 1; };
CONF
for u in alice:a oscar:o olga:g vic:v; do htpasswd_line "${u%%:*}" "${u#*:}"; done >"$T/htpasswd"
mkdir -p "$T/state"
start_berth main --config "$T/berth.conf" --htpasswd "$T/htpasswd" --state-dir "$T/state" \
	--instance "$INST" || exit 1
API="$URL/api/v1"
WS="ws://${URL#http://}/api/v1"

req POST "$API/containers" "{\"name\":\"$INST-sh\",\"image\":\"$IMG\",\"command\":[\"sleep\",\"600\"]}" -u oscar:o
expect "a container to open consoles in" 201

# con SCENARIO USER:PASS [QUERY]: runs the client, its JSON in $CON.
con() {
	CON=$(timeout 30 node "$TESTS_DIR/integ/console-client.mjs" "$1" \
		"$WS/containers/$INST-sh/console?${3:-command=sh}" "$2" 2>"$T/node.err")
	[ -n "$CON" ] || { cat "$T/node.err"; CON='{}'; }
}
cj() { printf '%s' "$CON" | jq -r "$1" 2>/dev/null; }

# --- a shell, typed into ----------------------------------------------------------
con talk oscar:o "command=sh&cols=100&rows=30"
check "console: the WebSocket opens" test "$(cj .open)" = true
check "console: echo hi comes back as hi" test "$(cj .hi)" = true
check "console: a resize out of 1..1000 is answered with an error message" test "$(cj .bad_resize)" = true
check "console: after a resize to 123x45, stty size says 45 123" test "$(cj .size)" = true
check "console: exit 3 ends it with {\"type\":\"exit\",\"code\":3}" \
	test "$(cj '[.texts[] | select(.type == "exit")][0].code')" = 3
check "console: then a normal close (1000)" test "$(cj .close)" = 1000
[ "$(cj .size)" = true ] || printf '# output: %s\n' "$(cj .out | head -c 600)"

con ping oscar:o
check "console: a ping gets its pong" test "$(cj .pong)" = berth

# --- Upgrade: tcp, as docker exec -it sends it ---------------------------------------
H=$(printf 'GET /api/v1/containers/%s/console?command=sh HTTP/1.1\r\nHost: %s\r\nAuthorization: Basic %s\r\nConnection: Upgrade\r\nUpgrade: tcp\r\n\r\n' \
	"$INST-sh" "${URL#http://}" "$(printf oscar:o | base64)")
OUT=$( (printf '%s\n' "$H"; sleep 1; printf 'echo r""aw\nexit 5\n'; sleep 2) |
	timeout 10 socat - "TCP:${URL#http://}" 2>/dev/null | tr -d '\r')
check "console: Upgrade: tcp answers 101 Upgrade: tcp" grep -qi '^upgrade: tcp' <<<"$OUT"
check "console: and splices raw bytes both ways" grep -qx 'raw' <<<"$OUT"

# --- refusals -------------------------------------------------------------------------
con refused vic:v
check "console: a viewer is refused 403" test "$(cj .status)" = 403
con refused olga:g
check "console: another tenant's container is 404" test "$(cj .status)" = 404
req GET "$API/containers/$INST-sh/console" "" -u oscar:o
expect "console: a plain GET (no upgrade) is 400 naming Upgrade" 400 .error.field Upgrade
req GET "$API/containers/$INST-sh/console?cols=0" "" -u oscar:o
expect "console: cols=0 is 400 naming cols" 400 .error.field cols
req GET "$API/containers/$INST-sh/console?rows=1001" "" -u oscar:o
expect "console: rows=1001 is 400 naming rows" 400 .error.field rows
req GET "$API/containers/$INST-sh/console?user=root" "" -u oscar:o
expect "console: another user than the container's is 403 (policy exec_user)" 403 .error.field user
req GET "$API/containers/$INST-sh/console" "" -u oscar:o -H "Origin: http://evil.example" \
	-H 'Connection: Upgrade' -H 'Upgrade: websocket' -H 'Sec-WebSocket-Version: 13' \
	-H 'Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ=='
expect "console: another site's page is refused 403" 403

# --- a client that leaves frees its slot ----------------------------------------------
con leave oscar:o
check "console: a client that drops the connection had it open" test "$(cj .left)" = true
sleep 0.5
con talk oscar:o
check "console: a later console opens (per_user = 1: the slot came back)" test "$(cj .hi)" = true
check "console: and ends with its own exit code" \
	test "$(cj '[.texts[] | select(.type == "exit")][0].code')" = 3

# --- audit ------------------------------------------------------------------------------
req GET "$API/audit?limit=1000" "" -u alice:a
expect "audit readable" 200
check "audit: each console's start (the request) names the command" \
	test "$(jqb "[.entries[] | select(.action == \"GET /api/v1/containers/{ref}/console\" and .user == \"oscar\" and .result == \"ok\" and .command == \"sh\")] | length >= 4")" = true
check "audit: the end says exit code 3" \
	test "$(jqb "[.entries[] | select(.action == \"console end\" and .user == \"oscar\" and .exit_code == 3 and .target == \"$INST-sh\")] | length >= 2")" = true
check "audit: the client that left is audited as such" \
	test "$(jqb '[.entries[] | select(.action == "console end" and .result == "client_left")] | length >= 1')" = true

req DELETE "$API/containers/$INST-sh?force=1" "" -u oscar:o
finish
