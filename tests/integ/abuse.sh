#!/bin/bash
# Hostile input through real nginx -> berth-fcgi: huge and deeply nested
# bodies, invalid UTF-8, NUL bytes, path tricks, overlong query strings,
# slow (slowloris) clients and a burst of garbage requests.  Each must get a
# clear 4xx (JSON from berth, or nginx's own limit), nothing may be created,
# no worker may die, and the refusals must be in the audit log.  A flood of
# refusals from one user must not flood the audit log: beyond the user's
# budget they are counted in a summary line, while every success is written,
# and the log is rotated at its max_size, keeping `keep` files.  Last, bind
# mounts and devices: every path trick, link and race that once reached the
# host through an allowed bind source or device path is refused.
. "$(dirname "$0")/../lib.sh"

INST="t-abuse-$$"
cat >"$T/berth.conf" <<CONF
users = { alice = "admin"; oscar = "operator"; };
policy = { operator = { images = [ "berth-test/*" ]; ports = [ 20000, 30000 ]; }; };
audit = { max_size = "64k"; keep = 20; rate = 20; burst = 200; };
CONF
{ htpasswd_line alice a; htpasswd_line oscar o; } >"$T/htpasswd"
mkdir -p "$T/state"
start_berth a --config "$T/berth.conf" --htpasswd "$T/htpasswd" --state-dir "$T/state" \
	--instance "$INST" || exit 1
API="$URL/api/v1"
O=(-u oscar:o) A=(-u alice:a)
W0=$(worker_pids "$PID_a" | sort | xargs)
IMG=berth-test/busybox:1

audit_all() { # audit_all DIR: every audit line kept in DIR, oldest file first
	local i
	for i in $(seq 100 -1 1); do [ -f "$1/audit.log.$i" ] && cat "$1/audit.log.$i"; done
	cat "$1/audit.log" 2>/dev/null
}
export -f audit_all
# summaries DIR USER T0: what USER's summary lines since T0 say was not written
summaries() { audit_all "$1" | jq -s "[.[] | select(.result == \"suppressed\" and .user == \"$2\" and .from >= $3)]"; }
export -f summaries
flood() { # flood URL N USER:PW OUT: N POSTs to URL<i>/<2 KB>, 16 at a time; statuses in OUT
	local pad i
	pad=$(head -c 2000 /dev/zero | tr '\0' a)
	for i in $(seq 1 "$2"); do printf 'url = "%s%d/%s"\noutput = "/dev/null"\n' "$1" "$i" "$pad"; done >"$T/flood.cfg"
	curl -s --no-progress-meter -Z --parallel-max 16 -X POST -u "$3" -w '%{http_code}\n' \
		-K "$T/flood.cfg" >"$4" 2>/dev/null
}

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
STATUS=$(curl -s --path-as-is -o "$T/body" -w '%{http_code}' "${O[@]}" "$API/containers/..%2f..%2f..%2fmetrics"); BODY=$(cat "$T/body")
check "an encoded ../ that nginx routed to /metrics is /metrics to berth too, not a container route ($STATUS)" \
	bash -c '[ "$1" = 200 ] && grep -q "^# HELP berth_requests_total" "$2"' _ "$STATUS" "$T/body"
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
check "32 stalled clients: no stalled body reached a worker" test "$(audit_all "$T/state" | grep -c '"name":"s')" = 0
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
	g0=$(date +%s)
	WRK_STATUS="$SRC_DIR/tests/wrk-status.lua" wrk -t2 -c8 -d3s -s "$T/garbage.lua" "$URL" >"$T/wrk.out" 2>&1 || cat "$T/wrk.out"
	cat "$T/wrk.out" | sed 's/^/# wrk: /' | grep -E 'status|requests|Requests/sec'
	total=$(sed -n 's/^requests //p' "$T/wrk.out")
	other=$(awk '/^status/ && ($2 < 400 || $2 > 499) { n += $3 } END { print n + 0 }' "$T/wrk.out")
	counted=$(awk '/^status/ { n += $3 } END { print n + 0 }' "$T/wrk.out")
	rate=$(sed -n 's/^Requests\/sec: *//p' "$T/wrk.out")
	check "garbage burst: $total requests (${rate}/s)" test "${total:-0}" -gt 1000
	check "garbage burst: every answer counted ($counted of $total)" test "$counted" -ge $((total * 9 / 10))
	check "garbage burst: every answer 4xx ($other not)" test "$other" = 0
	# Past oscar's budget refusals are counted, then summed up once the burst pauses.
	check "garbage burst: a summary line for what was not written" \
		wait_for 30 bash -c '[ "$(summaries "$1" oscar "$2" | jq length)" -gt 0 ]' _ "$T/state" "$g0"
	written=$(audit_all "$T/state" | jq -r "select(.time >= $g0 and .status >= 400 and .status < 500) | .status" | wc -l)
	held=$(summaries "$T/state" oscar "$g0" | jq '[.[].suppressed] | add // 0')
	check "garbage burst: refusals audited ($written lines, $held in summaries)" test $((written + held)) -gt $((total / 3))
else
	not_ok "wrk missing for the garbage burst (apt-get install wrk)"
fi

# --- a flood of refusals from one user ---------------------------------------------------
# 5,000 404 POSTs with 2 KB paths used to add 2.3 KB each to audit.log.  In the middle,
# the flooding user's own success and another user's must be written all the same.
f0=$(date +%s)
flood "$API/flood-$$/" 5000 oscar:o "$T/flood.codes" &
FLOOD=$!
wait_for 60 bash -c '[ "$(cat "$1" 2>/dev/null | wc -l)" -ge 1000 ]' _ "$T/flood.codes"
req POST "$API/services" "{\"name\":\"$INST-mid\",\"image\":\"$IMG\"}" "${O[@]}"
expect "mid-flood: the flooding user defines a service" 201
req DELETE "$API/services/$INST-mid" "" "${A[@]}"
expect "mid-flood: another user deletes it" 204
check "those two ran while the flood did" kill -0 "$FLOOD"
wait "$FLOOD"
check "flood: 5000 refusals ($(grep -c '^404$' "$T/flood.codes") 404s)" test "$(grep -c '^404$' "$T/flood.codes")" = 5000
check "flood: a summary line once it ended" \
	wait_for 30 bash -c '[ "$(summaries "$1" oscar "$2" | jq length)" -gt 0 ]' _ "$T/state" "$f0"
audit_all "$T/state" | jq -c "select(.user == \"oscar\" and .status == 404 and (.target | startswith(\"/api/v1/flood-$$/\")))" >"$T/flood.lines"
written=$(wc -l <"$T/flood.lines")
held=$(summaries "$T/state" oscar "$f0" | jq '[.[].suppressed] | add // 0')
sums=$(summaries "$T/state" oscar "$f0" | jq length)
check "flood: every refusal written or counted ($written + $held = 5000)" test $((written + held)) = 5000
check "flood: most were not written one by one ($written written)" test "$written" -lt 2500
check "flood: one or a few summary lines ($sums)" test "$sums" -ge 1 -a "$sums" -le 3
check "flood: the summary names the user and the count" bash -c 'summaries "$1" oscar "$2" | jq -e ".[0].message | test(\"^user oscar: [0-9]+ refused requests suppressed between \")" >/dev/null' _ "$T/state" "$f0"
check "flood: lines written stay short ($(wc -c <"$T/flood.lines") bytes for $written)" test "$(wc -c <"$T/flood.lines")" -lt $((written * 700))
check "flood: paths cut to 256 bytes" test "$(jq -r '.target | length' "$T/flood.lines" | sort -n | tail -1)" -le 257
check "flood: the flooding user's success is in the log" test "$(audit_all "$T/state" | jq -s "[.[] | select(.user == \"oscar\" and .action == \"POST /api/v1/services\" and .status == 201 and .time >= $f0)] | length")" = 1
check "flood: the other user's success is in the log" test "$(audit_all "$T/state" | jq -s "[.[] | select(.user == \"alice\" and .status == 204 and .time >= $f0)] | length")" = 1
check "rotation: audit.log.1 exists" test -f "$T/state/audit.log.1"
big=$(for f in "$T"/state/audit.log*; do stat -c %s "$f"; done | sort -n | tail -1)
check "rotation: every file near max_size at most ($big bytes)" test "$big" -le $((65536 + 2048))
check "rotation: at most keep rotated files" test ! -e "$T/state/audit.log.21"
# Reading from the end: the newest line, then the page before it through ?before=.
audit_all "$T/state" | jq -r '.request_id // "summary"' | tail -4 >"$T/newest"
req GET "$API/audit?limit=1" "" "${A[@]}"
expect "audit ?limit=1 after the flood: the newest line" 200 '.entries[0].request_id // "summary"' "$(tail -1 "$T/newest")"
NEXT=$(jqb .next)
check "audit ?limit=1: a cursor to page back" test -n "$NEXT" -a "$NEXT" != null
req GET "$API/audit?limit=3&before=$NEXT" "" "${A[@]}"
expect "audit ?before=: the three lines before it, oldest first" 200 '[.entries[] | .request_id // "summary"] | join(",")' "$(head -3 "$T/newest" | paste -sd,)"
req GET "$API/audit?before=x-y" "" "${A[@]}"
expect "audit ?before= not a cursor: 400" 400 .error.field before

# --- afterwards ---------------------------------------------------------------------------
check "no worker died (workers $W0)" test "$(worker_pids "$PID_a" | sort | xargs)" = "$W0"
check "nothing created in dockerd" test -z "$(docker ps -aq --filter "label=berth.instance=$INST")"
check "no record in the state dir" test -z "$(ls "$T/state/containers")"
check "audit: oversize/nested/NUL refusals recorded" test "$(audit_all "$T/state" | jq -r 'select(.status==422 or .status==400) | .status' | wc -l)" -ge 8
check "audit lines are all JSON" bash -c 'audit_all "$1" | jq -e . >/dev/null' _ "$T/state"
req GET "$API/containers" "" "${O[@]}"
expect "still serving" 200

# --- rotation drops what is past keep; rate = 0 writes every line --------------------------
cat >"$T/keep.conf" <<CONF
users = { oscar = "operator"; };
audit = { max_size = "64k"; keep = 2; rate = 0; };
CONF
mkdir -p "$T/state-k"
if start_berth k --config "$T/keep.conf" --htpasswd "$T/htpasswd" --state-dir "$T/state-k" --instance "$INST-k"; then
	flood "$URL_k/api/v1/flood-$$/" 600 oscar:o "$T/keep.codes"
	check "keep = 2: audit.log, .1 and .2" test -f "$T/state-k/audit.log" -a -f "$T/state-k/audit.log.1" -a -f "$T/state-k/audit.log.2"
	check "keep = 2: the oldest dropped (no .3)" test ! -e "$T/state-k/audit.log.3"
	kept=$(audit_all "$T/state-k" | jq -c 'select(.status == 404)' | wc -l)
	check "keep = 2: the newest lines kept ($kept of 600)" test "$kept" -gt 100 -a "$kept" -lt 600
	check "rate = 0: no line held back" test "$(audit_all "$T/state-k" | grep -c suppressed)" = 0
	stop_berth "$PID_k"
fi

# --- bind mounts and devices (issue 15): only what the policy names ----------------------
# A second berth whose operator may bind two directories and use some devices.  Every
# trick that once reached the host (a trailing .., //, a sub-path, links made by anyone,
# a container racing berth's check) must be refused with the field named and nothing
# created; the exact directory and the named devices still work.
HP="t-abuse-hp-$$"
S="$T/srv"
DV="/dev/berth-t$$" # devices can only be named under /dev: a private corner of it
trap 'rm -rf "$DV"' EXIT
mkdir -p "$S/share/sub" "$S/loose/d" "$S/real/etc" "$DV"
chmod 0755 "$S" "$S/share" "$S/share/sub" "$S/loose/d" "$S/real" "$S/real/etc" "$DV"
chmod 0777 "$S/loose"
echo hello >"$S/share/hello"
ln -s / "$S/lnk"                 # a bind source that is itself a link
ln -s / "$S/mid"                 # one reached through a link: $S/mid/etc is the host's /etc
ln -s /dev/loop0 "$DV/disk"      # a device that is a link
ln -s /dev/net "$DV/dir"         # a device reached through a link
cat >"$T/hp.conf" <<CONF
users = { hanna = "operator"; };
policy = { operator = { images = [ "berth-test/*" ]; bind_mounts = true; devices = true;
  bind_sources = [ "$S/share", "$S/lnk", "$S/mid/etc", "$S/loose/d", "$S/gone",
                   "/run/docker.sock", "/var/run/docker.sock" ];
  device_paths = [ "/dev/net", "/dev/null", "$DV" ]; }; };
CONF
htpasswd_line hanna h >"$T/hp.htpasswd"
mkdir -p "$T/hp-state"
start_berth hp --config "$T/hp.conf" --htpasswd "$T/hp.htpasswd" --state-dir "$T/hp-state" \
	--instance "$HP" || exit 1
HAPI="$URL_hp/api/v1"
H=(-u hanna:h)
gone_ct() { [ -z "$(DK_INST=$HP dk "$1")" ]; }
bind_of() { printf ',"mounts":[{"type":"bind","source":"%s","target":"/s"}]' "$1"; }
dev_of() { printf ',"devices":["%s"]' "$1"; }
refused() { # refused NAME STATUS FIELD BODY-EXTRA [MESSAGE-PART]
	local cname="$HP-r$RANDOM"
	req POST "$HAPI/containers" "{\"name\":\"$cname\",\"image\":\"$IMG\",\"command\":[\"sleep\",\"60\"]$4}" "${H[@]}"
	if [ "$STATUS" = "$2" ] && [ "$(jqb .error.field)" = "$3" ] && gone_ct "$cname" &&
		grep -qF -- "${5-}" <<<"$(jqb .error.message)"; then
		ok "refused: $1 ($2 $3: $(jqb .error.message))"
	else
		not_ok "refused: $1 (status $STATUS, field $(jqb .error.field), wanted $2 $3 ${5-}; $BODY)"
	fi
}
refused "bind with a trailing .. (dockerd would clean it to $S)" 422 'mounts[0]' "$(bind_of "$S/share/..")" '.. component'
refused "bind with a . component" 422 'mounts[0]' "$(bind_of "$S/share/.")" '. component'
refused "bind with //" 422 'mounts[0]' "$(bind_of "$S//share")" '//'
refused "bind with a trailing slash" 422 'mounts[0]' "$(bind_of "$S/share/")" 'ends with /'
refused "relative bind source" 422 'mounts[0]' "$(bind_of "srv/share")" 'not an absolute path'
refused "a sub-path of an allowed directory" 403 'mounts[0]' "$(bind_of "$S/share/sub")" 'sub-paths are not allowed'
refused "an allowed entry that is a link to /" 403 'mounts[0]' "$(bind_of "$S/lnk")" "$S/lnk is a symbolic link"
refused "an allowed entry reached through a link (host /etc)" 403 'mounts[0]' "$(bind_of "$S/mid/etc")" "$S/mid is a symbolic link"
refused "an allowed entry under a directory anyone may write" 403 'mounts[0]' "$(bind_of "$S/loose/d")" "$S/loose is writable by group or others"
refused "an allowed entry that does not exist" 422 'mounts[0]' "$(bind_of "$S/gone")" 'does not exist'
refused "dockerd's socket, even when listed" 403 'mounts[0]' "$(bind_of /run/docker.sock)" '/run/docker.sock is not a directory'
refused "dockerd's socket through /var/run (a link)" 403 'mounts[0]' "$(bind_of /var/run/docker.sock)" '/var/run is a symbolic link'
refused "a path outside bind_sources" 403 'mounts[0]' "$(bind_of "$S")" 'outside'
refused "the second mount is named" 422 'mounts[1]' \
	",\"mounts\":[{\"type\":\"bind\",\"source\":\"$S/share\",\"target\":\"/a\"},{\"type\":\"bind\",\"source\":\"$S/share/..\",\"target\":\"/b\"}]" '..'
refused "device with a trailing .. (would be every device under /dev)" 422 'devices[0]' "$(dev_of /dev/net/..)" '.. component'
refused "device with a . component" 422 'devices[0]' "$(dev_of /dev/net/./tun)" '. component'
refused "device with //" 422 'devices[0]' "$(dev_of /dev//net/tun)" '//'
refused "device with a trailing slash" 422 'devices[0]' "$(dev_of /dev/net/tun/)" 'ends with /'
refused "a device given as a directory" 403 'devices[0]' "$(dev_of /dev/net)" 'a directory, not a device node'
refused "a device that is a link (to a disk)" 403 'devices[0]' "$(dev_of "$DV/disk")" "$DV/disk is a symbolic link"
refused "a device reached through a link" 403 'devices[0]' "$(dev_of "$DV/dir/tun")" "$DV/dir is a symbolic link"
refused "a device outside device_paths" 403 'devices[0]' "$(dev_of /dev/kmsg)" 'not allowed'
refused "the second device is named" 422 'devices[1]' ',"devices":["/dev/null","/dev/net/.."]' '..'

# What the policy names still works: the exact directory (read a file in it), the devices.
req POST "$HAPI/containers" "{\"name\":\"$HP-ro\",\"image\":\"$IMG\",\"command\":[\"sleep\",\"60\"],\"mounts\":[{\"type\":\"bind\",\"source\":\"$S/share\",\"target\":\"/s\",\"read_only\":true}]}" "${H[@]}"
expect "the allowed directory itself: 201" 201
req POST "$HAPI/containers/$HP-ro/exec" '{"command":["cat","/s/hello"]}' "${H[@]}"
check "a container reads a file in it ($(jqb .stdout))" test "$(jqb .stdout)" = hello
req POST "$HAPI/containers" "{\"name\":\"$HP-dev\",\"image\":\"$IMG\",\"command\":[\"sleep\",\"60\"],\"devices\":[\"/dev/net/tun\",\"/dev/null:/dev/n:rw\"]}" "${H[@]}"
expect "a device beneath an allowed directory and an allowed node: 201" 201
check "exactly those two device rules ($(docker inspect -f '{{json .HostConfig.Devices}}' "$(DK_INST=$HP dk "$HP-dev")" | jq -c '[.[].PathOnHost]'))" \
	test "$(docker inspect -f '{{json .HostConfig.Devices}}' "$(DK_INST=$HP dk "$HP-dev")" | jq -c '[.[].PathOnHost]')" = '["/dev/net/tun","/dev/null"]'

# A container with the directory bound writable makes a link to / in it: binding the link
# (the old escape: inspect showed Source "/") is a sub-path, refused.
req POST "$HAPI/containers" "{\"name\":\"$HP-w\",\"image\":\"$IMG\",\"command\":[\"sh\",\"-c\",\"ln -s / /s/root; while :; do ln -sfn / /s/x; rm -f /s/x; mkdir /s/x; rmdir /s/x; done\"],\"mounts\":[{\"type\":\"bind\",\"source\":\"$S/share\",\"target\":\"/s\"}]}" "${H[@]}"
expect "a writer container with the directory bound writable" 201
wait_for 10 test -L "$S/share/root"
check "the writer made $S/share/root -> /" test "$(readlink "$S/share/root")" = /
refused "binding a link a container made" 403 'mounts[0]' "$(bind_of "$S/share/root")" 'sub-paths are not allowed'

# The race: while the writer flips $S/share/x between a link to / and a directory, two
# clients ask for it and a third for the directory itself, for a few seconds.
race() { # race TAG SOURCE SECONDS: creates for SECONDS (and 8 times at least, if a slow
	# machine allows within 10 s more); one status per line in $T/race-TAG
	local end=$((SECONDS + $3)) i=0
	while [ $SECONDS -lt $end ] || { [ $i -lt 8 ] && [ $SECONDS -lt $((end + 10)) ]; }; do
		i=$((i + 1))
		curl -s -o /dev/null -w '%{http_code}\n' -X POST -H 'Content-Type: application/json' "${H[@]}" \
			--data-binary "{\"name\":\"$HP-$1-$i\",\"image\":\"$IMG\",\"command\":[\"sleep\",\"60\"]$(bind_of "$2")}" \
			"$HAPI/containers"
	done >"$T/race-$1"
}
race sub1 "$S/share/x" 4 & race sub2 "$S/share/x" 4 & race whole "$S/share" 4 &
wait
check "the writer was still flipping ($(docker inspect -f '{{.State.Status}}' "$(DK_INST=$HP dk "$HP-w")"))" \
	test "$(docker inspect -f '{{.State.Status}}' "$(DK_INST=$HP dk "$HP-w")")" = running
subs=$(cat "$T/race-sub1" "$T/race-sub2" | wc -l)
sub_bad=$(cat "$T/race-sub1" "$T/race-sub2" | grep -vc '^403$')
check "race: $subs binds of the flipping sub-path, every one 403 ($sub_bad not)" \
	test "$subs" -ge 16 -a "$sub_bad" = 0
check "race: no container made for the sub-path ($(docker ps -a --format '{{.Names}}' --filter "name=^/$HP-sub" | xargs))" \
	test -z "$(docker ps -aq --filter "name=^/$HP-sub")"
host_root=0 sources=""
names=$(docker ps -a --format '{{.Names}}' --filter "name=^/$HP-whole-")
for c in $names; do
	src=$(docker inspect -f '{{range .Mounts}}{{.Source}} {{end}}' "$c" 2>/dev/null)
	sources="$sources $src"
	if [ "$src" != "$S/share " ] || docker exec "$c" test -r /s/etc/shadow 2>/dev/null; then
		host_root=$((host_root + 1))
	fi
done
check "race: $(wc -w <<<"$names") containers of the whole directory, each binds $S/share and none sees /etc/shadow ($host_root did:$(printf '%.200s' "$sources"))" \
	test "$host_root" = 0 -a "$(grep -c '^201$' "$T/race-whole")" -ge 1 -a "$(wc -w <<<"$names")" = "$(grep -c '^201$' "$T/race-whole")"
check "every container of this berth binds $S/share or nothing ($(docker ps -aq --filter "label=berth.instance=$HP" | xargs -r docker inspect -f '{{range .Mounts}}{{.Source}} {{end}}' | sort -u | xargs))" \
	bash -c '! docker ps -aq --filter "label=berth.instance=$1" |
		xargs -r docker inspect -f "{{range .Mounts}}{{.Source}}{{println}}{{end}}" |
		grep -v "^\$" | grep -qxv "$2"' _ "$HP" "$S/share"
stop_berth "$PID_hp"
check "berth-up removed every container of the bind test" test -z "$(docker ps -aq --filter "label=berth.instance=$HP")"

finish
