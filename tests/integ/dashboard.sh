#!/bin/bash
# The browser dashboard in a real browser: Playwright (playwright-core from
# npm) drives Debian's Chromium against berth-up with basic auth, as an
# operator, a viewer and an admin. Screenshots land in tests/out/screenshots.
. "$(dirname "$0")/../lib.sh"

INST="t-dash-$$"
SHOTS="$OUT_DIR/screenshots"
NPM_DIR="$OUT_DIR/npm"

# --- what the browser needs ------------------------------------------------
need=()
command -v node >/dev/null || need+=(nodejs)
command -v npm >/dev/null || need+=(npm)
[ -x /usr/bin/chromium ] || need+=(chromium)
if [ ${#need[@]} -gt 0 ]; then
	echo "# installing ${need[*]}"
	DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need[@]}" >"$T/apt.log" 2>&1 ||
		{ cat "$T/apt.log"; not_ok "install ${need[*]}"; finish; exit 1; }
fi
if [ ! -f "$NPM_DIR/node_modules/playwright-core/package.json" ]; then
	echo "# npm install playwright-core"
	mkdir -p "$NPM_DIR"
	npm install --prefix "$NPM_DIR" --no-audit --no-fund --loglevel=error playwright-core >"$T/npm.log" 2>&1 ||
		{ cat "$T/npm.log"; not_ok "npm install playwright-core"; finish; exit 1; }
fi

# --- a berth with an admin, an operator and a viewer ---------------------------
# The suite's own catalog (tags of its own, removed at the end): "web" serves
# a known /index.html and logs each request; "broken" fails to build.
CAT="berth-dash-$INST"
cat >"$T/berth.conf" <<CONF
users = { ada = "admin"; otto = "operator"; vera = "viewer"; };
protected = [ "$INST-guarded" ];
jobs = { sweep_interval = 2; };
policy = {
  operator = { images = [ "berth-test/*", "berth-catalog/*" ]; ports = [ 20000, 60999 ]; quota = 10;
               memory = "64m"; memory_max = "512m"; cpus_max = 2.0; };
  admin = { images = [ "*" ]; ports = [ 1024, 65535 ]; };
};
catalog = {
  web = {
    description = "busybox httpd serving a greeting on port 8080";
    tag = "$CAT/web:1";
    commands = ( "FROM berth-test/busybox:1",
                 ("ADD", { dest = "/index.html"; content = "<h1>hello from the berth catalog</h1>"; }),
                 "CMD [\\"httpd\\", \\"-f\\", \\"-v\\", \\"-p\\", \\"8080\\", \\"-h\\", \\"/\\"]" );
    ports = [ 8080 ];
    env = { GREETING = "hello world"; };
  };
  broken = {
    description = "fails to build, on purpose";
    tag = "$CAT/broken:1";
    commands = ( "FROM berth-test/busybox:1", "RUN echo failing on purpose && exit 7" );
  };
};
CONF
# A tag the browser test moves from busybox:1 to :2, so a container goes
# outdated; and one too long for its column at 1280 px.
MOVING="berth-test/dash-moving-$$:1"
LONG="berth-test/dash-$$-an-image-name-long-enough-to-need-an-ellipsis-in-the-list:1.2.3-with-a-long-tag"
cleanup_images() {
	docker rmi "$MOVING" "$LONG" >/dev/null 2>&1
	docker images --format '{{.Repository}}:{{.Tag}}' | grep "^$CAT/" | xargs -r docker rmi -f >/dev/null 2>&1
}
cleanup_images
{ htpasswd_line ada a; htpasswd_line otto o; htpasswd_line vera v; } >"$T/htpasswd"
start_berth main --config "$T/berth.conf" --htpasswd "$T/htpasswd" --instance "$INST" || { finish; exit 1; }

req GET "$URL/" "" -u otto:o
check "the dashboard is served at /" bash -c '[ "$1" = 200 ] && grep -q "<title>berth</title>" <<<"$2"' _ "$STATUS" "$BODY"
check "with a strict Content-Security-Policy" bash -c 'grep -qi "^content-security-policy: default-src .self.; script-src .self.;" <<<"$1"' _ "$HDRS"
req GET "$URL/app.js" "" -u otto:o
check "modules are served as JavaScript" bash -c 'grep -qi "^content-type: application/javascript" <<<"$1"' _ "$HDRS"
req GET "$URL/" ""
check "the dashboard needs a login too" test "$STATUS" = 401
check "no inline script or style in the page" bash -c '! grep -Eiq "<script>|<script [^>]*>[^<]|style=|<style|\son[a-z]+=" "$1/dashboard/index.html"' _ "$SRC_DIR"

missing=$(cd "$SRC_DIR" && for f in dashboard/*; do grep -q "$f" Makefile.am || echo "$f"; done)
check "every dashboard file is installed by make install${missing:+ (missing: $missing)}" test -z "$missing"

# The views share code only through the shared modules, and each thing
# the views all need is done in one place.
shared="api|ui|spec|chart|console|events"
cross=$(cd "$SRC_DIR/dashboard" && grep -H "^import" $(ls *.js | grep -v '^app\.js$') | grep -Ev "from '\./($shared)\.js';$")
check "views and shared modules import only the shared modules ($shared)${cross:+: $cross}" test -z "$cross"
twice=$(cd "$SRC_DIR/dashboard" && grep -Hn "\.disabled = \|h('table" *.js | grep -v '^ui\.js:')
check "one busy() and one table helper (ui.js)${twice:+: $twice}" test -z "$twice"
# What the caller may do is berth's to say (whoami's can, each object's can):
# the client compares no roles and keeps no rules of its own about them.
rules=$(cd "$SRC_DIR/dashboard" && grep -HnE "\.role *[!=]==|[!=]== *[a-z.]*\.role\b|atLeast|canManage|'(viewer|operator|admin)'|data-role" *.js index.html)
check "the dashboard has no role rules of its own${rules:+: $rules}" test -z "$rules"

# GET /whoami carries the caller role's policy, for forms to check before sending.
req GET "$URL/api/v1/whoami" "" -u otto:o
expect "whoami: the operator's policy" 200 '.policy | tojson' \
	'{"images":["berth-test/*","berth-catalog/*"],"ports":[20000,60999],"memory_max":536870912,"memory_default":67108864,"cpus_max":2,"cpus_default":1,"pids_max":4096,"pids_default":256,"quota":10,"privileged":false,"host_network":false,"bind_mounts":false,"volumes":false,"cap_add":false,"devices":false,"exec_user":false}'
req GET "$URL/api/v1/whoami" "" -u vera:v
expect "whoami: a viewer's default policy (no host ports, the built-in limits, quota 20)" 200 '.policy | [.images, .ports, .memory_max, .cpus_max, .quota] | tojson' '[[],null,2147483648,2,20]'
req GET "$URL/api/v1/whoami" "" -u ada:a
expect "whoami: the admin's policy" 200 '.policy | [.images, .ports, .quota] | tojson' '[["*"],[1024,65535],100]'
# ... and what the role may do, read from the route rows' roles.
expect "whoami: an admin may do everything the dashboard offers" 200 '.can | tojson' \
	'{"create_containers":true,"manage_containers":true,"build":true,"pull":true,"define_services":true,"scale_services":true,"submit_jobs":true,"audit":true,"manage_volumes":true,"manage_networks":true,"manage_stacks":true}'
req GET "$URL/api/v1/whoami" "" -u otto:o
expect "whoami: an operator may do all but pull and read the audit log" 200 '.can | to_entries | map(select(.value | not).key) | join(",")' pull,audit
req GET "$URL/api/v1/whoami" "" -u vera:v
expect "whoami: a viewer may do none of it" 200 '[.can[]] | any' false

# --- the browser -------------------------------------------------------------------
mkdir -p "$SHOTS"
rm -f "$SHOTS"/*.png
docker tag berth-test/busybox:1 "$MOVING"
docker tag berth-test/busybox:1 "$LONG"
NPM_DIR="$NPM_DIR" BERTH_URL="$URL" INST="$INST" SHOTS="$SHOTS" CAT="$CAT" MOVING="$MOVING" LONG="$LONG" \
	timeout 600 node "$TESTS_DIR/browser/dashboard.mjs" >"$T/node.out" 2>&1
rc=$?
cat "$T/node.out"
# Out of time, Playwright closes the browser and every later step fails with "closed".
[ $rc -ne 124 ] || not_ok "the browser script finished within 600 s"
PASSED=$((PASSED + $(grep -c '^ok ' "$T/node.out")))
FAILED=$((FAILED + $(grep -c '^not ok ' "$T/node.out")))
[ $rc -eq 0 ] || grep -q '^not ok ' "$T/node.out" || not_ok "the browser script exited $rc"
check "screenshots written" test "$(ls "$SHOTS"/*.png 2>/dev/null | wc -l)" -ge 8

stop_berth "$PID_main"
check "berth-up removed what the dashboard created" test -z "$(docker ps -aq --filter "label=berth.instance=$INST")"
cleanup_images
finish
