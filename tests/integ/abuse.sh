#!/bin/bash
# Hostile input through real nginx -> berth-fcgi: huge and deeply nested
# bodies, invalid UTF-8, NUL bytes, path tricks, overlong query strings,
# slow (slowloris) clients and a burst of garbage requests.  Each must get a
# clear 4xx (JSON from berth, or nginx's own limit), nothing may be created,
# no worker may die, and the refusals must be in the audit log.
. "$(dirname "$0")/../lib.sh"

INST="t-abuse-$$"
cat >"$T/berth.conf" <<CONF
users = { alice = "admin"; oscar = "operator"; };
policy = { operator = { images = [ "berth-test/*" ]; ports = [ 20000, 30000 ]; }; };
CONF
{ htpasswd_line alice a; htpasswd_line oscar o; } >"$T/htpasswd"
mkdir -p "$T/state"
start_berth a --config "$T/berth.conf" --htpasswd "$T/htpasswd" --state-dir "$T/state" \
	--instance "$INST" || exit 1
API="$URL/api/v1"
O=(-u oscar:o)
W0=$(worker_pids "$PID_a" | sort | xargs)
IMG=berth-test/busybox:1

post_file() { # post_file NAME FILE STATUS CODE: POST /containers with FILE as the body
	STATUS=$(curl -s -o "$T/body" -w '%{http_code}' -X POST -H 'Content-Type: application/json' \
		--data-binary @"$2" "${O[@]}" "$API/containers") || STATUS=000
	BODY=$(cat "$T/body")
	expect "$1" "$3" .error.code "$4"
}

# --- bodies -------------------------------------------------------------------------------
head -c $((10 * 1024 * 1024)) /dev/zero | tr '\0' '{' >"$T/10mb"
post_file "10 MB body: 413 JSON (nginx)" "$T/10mb" 413 payload_too_large
{ printf '{"name":"x","image":"%s","env":{"A":' "$IMG"; head -c 10000 /dev/zero | tr '\0' '['; head -c 10000 /dev/zero | tr '\0' ']'; printf '}}'; } >"$T/deep"
post_file "JSON nested 10,000 deep: 400" "$T/deep" 400 bad_request
check "nesting refusal says why" grep -q 'byte' <<<"$(jqb .error.message)"
printf '{"name":"%s-u","image":"%s","env":{"A":"\xff\xfe"}}' "$INST" "$IMG" >"$T/utf8"
post_file "invalid UTF-8: 400" "$T/utf8" 400 bad_request
printf '{"name":"%s-u","image":"%s","env":{"A":"\xc0\xaf"}}' "$INST" "$IMG" >"$T/overlong"
post_file "overlong UTF-8 encoding of /: 400" "$T/overlong" 400 bad_request
printf '{"name":"%s-n","image":"%s","env":{"A":"x\\u0000y"}}' "$INST" "$IMG" >"$T/nul"
post_file "NUL escape in a string: 422" "$T/nul" 422 invalid
check "NUL refusal names the field" test "$(jqb .error.field)" = env.A
printf '{"name":"%s-n","image":"%s","command":["sh","-c","a\\u0000b"]}' "$INST" "$IMG" >"$T/nul2"
post_file "NUL escape in a command: 422" "$T/nul2" 422 invalid
printf '{"name":"%s-r","image":"%s\0"}' "$INST" "$IMG" >"$T/rawnul"
post_file "raw NUL byte in the body: 400" "$T/rawnul" 400 bad_request
printf 'null' >"$T/null"
post_file "a body of JSON null: 400" "$T/null" 400 bad_request
check "null refusal has a real message" test "$(jqb .error.message)" = "invalid JSON at byte 0: null is not a usable value here"
printf '{"name":"../%s","image":"%s"}' "$INST" "$IMG" >"$T/dots"
post_file "name with ../: 422" "$T/dots" 422 invalid
printf '{"name":"%%2e%%2e","image":"%s"}' "$IMG" >"$T/pct"
post_file "name %2e%2e: 422" "$T/pct" 422 invalid
printf '{"name":"%s-x","image":"%s","binds":["/:/host"],"privileged":true}' "$INST" "$IMG" >"$T/risky"
post_file "unknown field smuggled next to a risky one: 422" "$T/risky" 422 invalid

# --- paths and queries --------------------------------------------------------------------
for p in "/containers/%2e%2e" "/containers/..%2f..%2fetc%2fpasswd" "/containers/%2e%2e/stop" \
	"/containers/a%00b" "/containers/%zz" "/containers/.hidden"; do
	STATUS=$(curl -s --path-as-is -o "$T/body" -w '%{http_code}' -X POST "${O[@]}" "$API$p/stop")
	BODY=$(cat "$T/body")
	check "POST $p/stop: 4xx JSON ($STATUS)" bash -c '[[ $1 == 4?? ]] && jq -e .error.code <<<"$2" >/dev/null' _ "$STATUS" "$BODY"
done
STATUS=$(curl -s --path-as-is -o "$T/body" -w '%{http_code}' "${O[@]}" "$API/containers/x/../../../etc/passwd"); BODY=$(cat "$T/body")
check "literal ../ in an API path: 4xx JSON ($STATUS)" bash -c '[[ $1 == 4?? ]] && jq -e .error.code <<<"$2" >/dev/null' _ "$STATUS" "$BODY"
STATUS=$(curl -s --path-as-is -o "$T/body" -w '%{http_code}' "${O[@]}" "$URL/api/v1/../../../../etc/passwd"); BODY=$(cat "$T/body")
check "../ out of the API never serves a host file ($STATUS)" bash -c '! grep -q "root:.*:0:0:" "$1"' _ "$T/body"
STATUS=$(curl -s --path-as-is -o "$T/body" -w '%{http_code}' -X DELETE "${O[@]}" "$API/containers/x/../../containers"); BODY=$(cat "$T/body")
check "DELETE through ../ reaches no collection route ($STATUS)" bash -c '[[ $1 == 4?? ]]' _ "$STATUS"
q=$(for i in $(seq 1 40); do printf 'k%d=v&' "$i"; done)
req GET "$API/containers?$q" "" "${O[@]}"
expect "40 query parameters: 400" 400 .error.code bad_request
q=$(head -c 6000 /dev/zero | tr '\0' 'a')
req GET "$API/containers?tail=$q" "" "${O[@]}"
check "6 KB query value: 4xx ($STATUS)" bash -c '[[ $1 == 4?? || $1 == 200 ]] && jq -e . <<<"$2" >/dev/null' _ "$STATUS" "$BODY"
q=$(head -c 20000 /dev/zero | tr '\0' 'a')
req GET "$API/containers?x=$q" "" "${O[@]}"
expect "20 KB query string: 414 JSON from nginx" 414 .error.code uri_too_long
req GET "$API/containers/x/logs?tail=%zz" "" "${O[@]}"
expect "bad escape in a query: 400" 400 .error.code bad_request
req GET "$API/containers/x/logs?tail=99999999999999999999999" "" "${O[@]}"
check "out-of-range number: 4xx ($STATUS)" bash -c '[[ $1 == 4?? ]]' _ "$STATUS"

# --- slow clients (slowloris): nginx holds them, berth's workers stay free ---------------
slow() { # slow N: open a connection that sends headers and 10 of 100 body bytes, then stalls
	exec {fd}<>"/dev/tcp/127.0.0.1/${URL##*:}" || return 1
	printf 'POST /api/v1/containers HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Basic %s\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{"name":"s' \
		"$(printf oscar:o | base64)" >&$fd
	SLOW_FDS+=("$fd")
}
slow_headers() { # headers that never end
	exec {fd}<>"/dev/tcp/127.0.0.1/${URL##*:}" || return 1
	printf 'GET /api/v1/health HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: ' >&$fd
	SLOW_FDS+=("$fd")
}
SLOW_FDS=()
for _ in $(seq 1 16); do slow; slow_headers; done
t0=$(date +%s%N)
good=0
for _ in $(seq 1 10); do req GET "$API/containers" "" "${O[@]}"; [ "$STATUS" = 200 ] && good=$((good + 1)); done
ms=$((($(date +%s%N) - t0) / 1000000))
check "32 stalled clients: berth still answers (10/10: $good, ${ms} ms)" test "$good" = 10
check "32 stalled clients: no stalled body reached a worker" test "$(grep -c '"name":"s' "$T/state/audit.log")" = 0
sleep 11 # nginx client_body_timeout / client_header_timeout are 10 s
closed=0
for fd in "${SLOW_FDS[@]}"; do
	if timeout 2 cat <&$fd >/dev/null 2>&1; then closed=$((closed + 1)); fi
	exec {fd}>&-
done
check "nginx dropped the stalled clients after its timeout ($closed/32)" test "$closed" = 32

# --- a burst of garbage: ~1000+ requests/s for 3 s ----------------------------------------
cat >"$T/garbage.lua" <<'LUA'
dofile(os.getenv("WRK_STATUS"))
local paths = { "/api/v1/containers", "/api/v1/containers/%2e%2e", "/api/v1/containers/..%2f..",
  "/api/v1/nope", "/api/v1/containers/a%00b", "/api/v1/containers?tail=%zz",
  "/api/v1/containers/x/stop?timeout=-1", "/api/v1/containers/%2e%2e/exec", "/start_container",
  "/api/v1/schemas/../../etc", "/api/v1/containers/" .. string.rep("a", 300) }
local bodies = { "{", "[1,2", '{"name":"../x","image":"berth-test/busybox:1"}',
  '{"image":"\255\254"}', '{"name":"x\\u0000y","image":"berth-test/busybox:1"}',
  string.rep("[", 5000), "null", '{"image":"berth-test/busybox:1","privileged":true,"nope":1}',
  '{"image":"evil/image:1"}', '{"image":"berth-test/busybox"}', "\0\0\0" }
local methods = { "POST", "PUT", "PATCH", "DELETE", "PROPFIND", "OPTIONS", "POST", "POST" }
local auth = "Basic b3NjYXI6bw==" -- oscar:o
function init(args) math.randomseed(os.time() + id * 7919) end
function request()
  return wrk.format(methods[math.random(#methods)], paths[math.random(#paths)],
    { ["Content-Type"] = "application/json", ["Authorization"] = auth }, bodies[math.random(#bodies)])
end
LUA
if command -v wrk >/dev/null; then
	audit_before=$(wc -l <"$T/state/audit.log")
	WRK_STATUS="$SRC_DIR/tests/wrk-status.lua" wrk -t2 -c8 -d3s -s "$T/garbage.lua" "$URL" >"$T/wrk.out" 2>&1 || cat "$T/wrk.out"
	cat "$T/wrk.out" | sed 's/^/# wrk: /' | grep -E 'status|requests|Requests/sec'
	total=$(sed -n 's/^requests //p' "$T/wrk.out")
	other=$(awk '/^status/ && ($2 < 400 || $2 > 499) { n += $3 } END { print n + 0 }' "$T/wrk.out")
	counted=$(awk '/^status/ { n += $3 } END { print n + 0 }' "$T/wrk.out")
	rate=$(sed -n 's/^Requests\/sec: *//p' "$T/wrk.out")
	check "garbage burst: $total requests (${rate}/s)" test "${total:-0}" -gt 1000
	check "garbage burst: every answer counted ($counted of $total)" test "$counted" -ge $((total * 9 / 10))
	check "garbage burst: every answer 4xx ($other not)" test "$other" = 0
	audit_after=$(wc -l <"$T/state/audit.log")
	refused=$(tail -n +$((audit_before + 1)) "$T/state/audit.log" | jq -r 'select(.status >= 400 and .status < 500) | .status' | wc -l)
	check "garbage burst: refusals audited ($refused lines)" test "$refused" -gt $((total / 3))
else
	not_ok "wrk missing for the garbage burst (apt-get install wrk)"
fi

# --- afterwards ---------------------------------------------------------------------------
check "no worker died (workers $W0)" test "$(worker_pids "$PID_a" | sort | xargs)" = "$W0"
check "nothing created in dockerd" test -z "$(docker ps -aq --filter "label=berth.instance=$INST")"
check "no record in the state dir" test -z "$(ls "$T/state/containers")"
check "audit: oversize/nested/NUL refusals recorded" test "$(jq -r 'select(.status==422 or .status==400) | .status' "$T/state/audit.log" | wc -l)" -ge 8
check "audit lines are all JSON" jq -e . "$T/state/audit.log" >/dev/null
req GET "$API/containers" "" "${O[@]}"
expect "still serving" 200

finish
