#!/bin/bash
# Privilege: berth-fcgi refuses to run as root unless told to, and with
# --user/--group drops to them after opening its socket: the supervisor and
# every worker run with that uid/gid (from /proc), the socket keeps root's
# 0660 and the web server's group, the state directory is usable, dockerd
# is reachable only through the docker group, and root cannot be regained.
# Needs root (it creates and removes a test user).
. "$(dirname "$0")/../lib.sh"

if [ "$(id -u)" != 0 ]; then
	echo "# SKIP privilege: needs root"
	ok "privilege suite skipped: not root"
	finish
	exit 0
fi
command -v cgi-fcgi >/dev/null || { not_ok "cgi-fcgi missing (apt-get install libfcgi-bin)"; finish; exit 1; }
TU="berth-t$$"
useradd --system --no-create-home --shell /usr/sbin/nologin -G docker "$TU" || { not_ok "useradd $TU"; finish; exit 1; }
cleanup_user() { userdel "$TU" 2>/dev/null; }
trap cleanup_user EXIT
INST="t-priv-$$"
cat >"$T/berth.conf" <<CONF
anonymous = "admin";
jobs = { sweep_interval = 3600; };
policy = { admin = { images = [ "*" ]; }; };
CONF
chmod 0644 "$T/berth.conf"
mkdir -p "$T/run" "$T/state"
chmod 0755 "$T/run"

# fcgi SOCKET METHOD URI [BODY]: one FastCGI request; sets STATUS and BODY.
fcgi() {
	local out body=${4-}
	out=$(printf '%s' "$body" | env -i REQUEST_METHOD="$2" REQUEST_URI="$3" SCRIPT_NAME="$3" \
		CONTENT_TYPE=application/json CONTENT_LENGTH="${#body}" cgi-fcgi -bind -connect "$1" \
		2>/dev/null | tr -d '\r')
	STATUS=$(sed -n 's/^Status: \([0-9]*\).*/\1/p' <<<"$out" | head -1)
	BODY=$(sed '1,/^$/d' <<<"$out")
}

# 1. As root with neither --user nor --allow-root: a clear refusal, nothing served.
out=$("$BERTH_FCGI" --config "$T/berth.conf" --state-dir "$T/state" --listen "$T/run/r.sock" --workers 1 2>&1)
rc=$?
check "root without --user/--allow-root refuses (exit $rc)" test "$rc" != 0
check "the refusal says what to do: $out" grep -q 'refusing to run as root; give --user' <<<"$out"

# 2. --user/--group: every process drops after the socket is open.
"$BERTH_FCGI" --config "$T/berth.conf" --state-dir "$T/state" --instance "$INST" --user "$TU" \
	--group docker --socket-group www-data --listen "$T/run/b.sock" --workers 2 2>"$T/berth.log" &
SUP=$!
wait_for 10 test -S "$T/run/b.sock"
wait_for 10 bash -c '[ "$(pgrep -c -P "$1")" -ge 2 ]' _ "$SUP"
uid=$(id -u "$TU")
gid=$(getent group docker | cut -d: -f3)
ids() { awk '/^Uid:/ { u = $2 " " $3 " " $4 " " $5 } /^Gid:/ { g = $2 " " $3 " " $4 " " $5 } END { print u "/" g }' "/proc/$1/status"; }
want="$uid $uid $uid $uid/$gid $gid $gid $gid"
check "supervisor runs as $TU:docker (real, effective, saved: $(ids "$SUP"))" test "$(ids "$SUP")" = "$want"
n=0
for w in $(pgrep -P "$SUP"); do
	n=$((n + 1))
	check "worker $w runs as $TU:docker ($(ids "$w"))" test "$(ids "$w")" = "$want"
	check "worker $w has no supplementary root group" bash -c '! grep -qE "^Groups:.*\b0\b" "/proc/$1/status"' _ "$w"
	check "worker $w has no capabilities" grep -q '^CapEff:\s*0000000000000000' "/proc/$w/status"
done
# The stream relay is a child too, and must have dropped just as far.
check "two workers and the stream relay checked" test "$n" = 3
check "socket: root-owned, group www-data, 0660 ($(stat -c '%U:%G %a' "$T/run/b.sock"))" \
	test "$(stat -c '%U:%G %a' "$T/run/b.sock")" = "root:www-data 660"
check "state dir handed to $TU ($(stat -c '%U' "$T/state"))" test "$(stat -c '%U' "$T/state")" = "$TU"

fcgi "$T/run/b.sock" GET /api/v1/health
check "dockerd reachable through the docker group ($STATUS $BODY)" test "$(jq -r .docker <<<"$BODY")" = ok
fcgi "$T/run/b.sock" POST /api/v1/containers "{\"name\":\"$INST-p\",\"image\":\"berth-test/busybox:1\",\"command\":[\"sleep\",\"30\"]}"
check "the dropped worker creates a container ($STATUS $(head -c 200 <<<"$BODY"))" test "$STATUS" = 201
id=$(jq -r .id <<<"$BODY")
check "its record is written by $TU" test "$(stat -c '%U' "$T/state/containers/$id.json" 2>/dev/null)" = "$TU"
check "audit line written by $TU" test "$(stat -c '%U' "$T/state/audit.log" 2>/dev/null)" = "$TU"
check "no 'privileges were not dropped' in the log" bash -c '! grep -q "not dropped" "$1"' _ "$T/berth.log"
fcgi "$T/run/b.sock" DELETE "/api/v1/containers/$INST-p?force=1"
check "and removes it ($STATUS)" test "$STATUS" = 204 -o "$STATUS" = 200
kill -TERM "$SUP"
wait_for 15 bash -c '! kill -0 "$1" 2>/dev/null' _ "$SUP"
check "drains and exits on SIGTERM" bash -c '! kill -0 "$1" 2>/dev/null' _ "$SUP"
# The container's owner got a default network with it; berth-up would remove it, here we do.
"$BERTH_FCGI" --config "$T/berth.conf" --state-dir "$T/state" --instance "$INST" --user "$TU" \
	cleanup >>"$T/berth.log" 2>&1
check "cleanup leaves no network of the instance" \
	test -z "$(docker network ls -q --filter "label=berth.instance=$INST")"

# 3. A user outside the docker group gets no dockerd: the drop is real.
"$BERTH_FCGI" --config "$T/berth.conf" --state-dir "$T/state2" --instance "$INST" --user nobody \
	--group nogroup --listen "$T/run/n.sock" --workers 1 2>"$T/berth2.log" &
SUP2=$!
wait_for 10 test -S "$T/run/n.sock"
sleep 0.5
fcgi "$T/run/n.sock" GET /api/v1/health
check "nobody:nogroup cannot reach dockerd: 503 ($STATUS)" test "$STATUS" = 503
kill -TERM "$SUP2"
wait "$SUP2" 2>/dev/null

# 4. --allow-root is the explicit way to stay root (berth-up as root uses it).
out=$("$BERTH_FCGI" --config "$T/berth.conf" --state-dir "$T/state3" --allow-root check-config 2>&1)
check "--allow-root accepted" test $? = 0
finish
