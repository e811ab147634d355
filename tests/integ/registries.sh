#!/bin/bash
# Images from registries (docs/registries.md), against Debian's docker-registry
# (CNCF distribution 2.8) run here on loopback: one plain, one with htpasswd
# auth behind TLS (a CA made with openssl; dockerd trusts it through
# /etc/docker/certs.d).  CI's side is the host's docker CLI pushing as root.
# Pulls with and without credentials, pull-on-create, update detection by
# digest, updates, the failure cases, redeploy webhooks, image housekeeping,
# and that the password shows up nowhere.
. "$(dirname "$0")/../lib.sh"

groups <<'EOF'
# name      tags
pull                    # pulls with and without auth, allow-list, progress, pull-on-create
detect      needs: pull # a new digest pushed: update_available in lists, details, /metrics
update      needs: detect # the update recreates on the new digest
failures    needs: pull # wrong password, unreachable, slow, vanished tag: old container runs on
hooks       needs: detect # webhook: bare curl -X POST, rotation, rate limit, deletion, audit
services    needs: pull # a service marked, its hook rolls the replicas
images      needs: pull # used_by and prune
secrets     needs: pull # the password in no answer, log or audit line
EOF

command -v docker-registry >/dev/null || { not_ok "docker-registry is installed (deploy/debian-setup.sh)"; finish; exit 1; }
INST="t-reg-$$"
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
P1=$(free_port) P2=$(free_port) PS=$(free_port) PD=$(free_port)
R1="127.0.0.1:$P1" R2="127.0.0.1:$P2" RS="127.0.0.1:$PS" RD="127.0.0.1:$PD"
PASS="reg-Secret-$$-x9"
REG_PIDS=()
CERTS_D="/etc/docker/certs.d/$R2"
export DOCKER_CONFIG="$T/ci-docker" # CI's docker login stays out of root's own config
mkdir -p "$DOCKER_CONFIG" "$T/state"

# --- the registries ------------------------------------------------------------
openssl req -x509 -newkey rsa:2048 -nodes -days 1 -subj "/CN=berth test CA" \
	-keyout "$T/ca.key" -out "$T/ca.crt" 2>/dev/null
openssl req -newkey rsa:2048 -nodes -subj "/CN=127.0.0.1" -keyout "$T/reg.key" -out "$T/reg.csr" 2>/dev/null
printf 'subjectAltName=IP:127.0.0.1\n' >"$T/san.ext"
openssl x509 -req -in "$T/reg.csr" -CA "$T/ca.crt" -CAkey "$T/ca.key" -CAcreateserial -days 1 \
	-extfile "$T/san.ext" -out "$T/reg.crt" 2>/dev/null
python3 -c 'import crypt,sys; print("ci:" + crypt.crypt(sys.argv[1], crypt.mksalt(crypt.METHOD_BLOWFISH)))' \
	"$PASS" >"$T/reg.htpasswd" 2>/dev/null
printf '%s\n' "$PASS" >"$T/pw"
chmod 0644 "$T/pw"
mkdir -p "$CERTS_D" && cp "$T/ca.crt" "$CERTS_D/ca.crt"

reg_conf() { # reg_conf NAME PORT [tls]
	cat <<YML
version: 0.1
log: { level: error }
storage:
  filesystem: { rootdirectory: $T/$1-data }
  delete: { enabled: true }
http:
  addr: 127.0.0.1:$2
YML
	[ "${3-}" = tls ] && cat <<YML
  tls: { certificate: $T/reg.crt, key: $T/reg.key }
auth:
  htpasswd: { realm: berth-test, path: $T/reg.htpasswd }
YML
}
reg_conf plain "$P1" >"$T/plain.yml"
reg_conf secure "$P2" tls >"$T/secure.yml"
docker-registry serve "$T/plain.yml" >"$T/plain.log" 2>&1 &
REG_PIDS+=($!)
docker-registry serve "$T/secure.yml" >"$T/secure.log" 2>&1 &
REG_PIDS+=($!)
# A registry that accepts connections and never answers.
python3 -c 'import socket,sys,time
s=socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("127.0.0.1", int(sys.argv[1]))); s.listen(16); c=[]
while True: c.append(s.accept()[0])' "$PS" &
REG_PIDS+=($!)
check "the plain registry answers" wait_for 15 curl -sf "http://$R1/v2/"
check "the TLS registry asks for credentials" wait_for 15 bash -c \
	'[ "$(curl -s -o /dev/null -w "%{http_code}" --cacert "$1" "https://$2/v2/")" = 401 ]' _ "$T/ca.crt" "$R2"

cleanup_registries() {
	for p in "${REG_PIDS[@]}"; do kill "$p" 2>/dev/null; wait "$p" 2>/dev/null; done
	rm -rf "$CERTS_D"
	docker images --format '{{.Repository}}:{{.Tag}}' | grep -E "^127\.0\.0\.1:($P1|$P2|$PS|$PD)/" |
		xargs -r docker rmi -f >/dev/null 2>&1
	[ -n "${JUNK_ID-}" ] && docker rmi -f "$JUNK_ID" >/dev/null 2>&1
	[ -n "${INUSE_ID-}" ] && docker rmi -f "$INUSE_ID" >/dev/null 2>&1
	return 0
}

# CI pushes: IMAGE to REF, and the host forgets REF (pulled later through berth).
push() { # push IMAGE REF
	docker tag "$1" "$2" && docker push "$2" >"$T/push.log" 2>&1 && docker rmi "$2" >/dev/null
}
IMG1=berth-test/busybox:1 IMG2=berth-test/busybox:2
ID1=$(docker image inspect -f '{{.Id}}' $IMG1) ID2=$(docker image inspect -f '{{.Id}}' $IMG2)
echo "$PASS" | docker login -u ci --password-stdin "$R2" >/dev/null 2>&1
check "CI pushes to the plain registry" push $IMG1 "$R1/team/app:1"
check "CI pushes to the TLS registry with credentials" push $IMG1 "$R2/team/app:1"
push $IMG1 "$R1/tutum/hello-world:latest"
push $IMG1 "$R1/team/svc:1"
push $IMG1 "$R1/team/gone:1"
push $IMG1 "$R2/team/web:1"
# Images that exist only locally, "from" registries that fail.
docker tag $IMG1 "$RS/team/slow:1"
docker tag $IMG1 "$RD/team/dead:1"

cat >"$T/berth.conf" <<CONF
users = { alice = "admin"; oscar = "operator"; olga = "operator"; vic = "viewer"; };
policy = {
  operator = { images = [ "berth-test/*", "$R1/team/*", "$R2/team/*", "$RS/*", "$RD/*",
                          "$R1/tutum/*" ]; pull = true; };
  admin = { images = [ "*" ]; };
};
jobs = { sweep_interval = 1; };
update_check = 1;
registries = {
  plain = { url = "$R1"; insecure = true; };
  secure = { url = "$R2"; username = "ci"; password_file = "$T/pw"; ca_file = "$T/ca.crt"; };
  slow = { url = "$RS"; insecure = true; timeout_ms = 1500; };
  dead = { url = "$RD"; insecure = true; timeout_ms = 1500; };
};
CONF
cast_htpasswd "$T/htpasswd"

# berth.conf's checks name the key.
bad_conf() { # bad_conf ENTRY -> berth-fcgi check's message
	printf 'registries = { r1 = { %s }; };\n' "$1" >"$T/bad.conf"
	mkdir -p "$T/chkstate"
	"$BERTH_FCGI" --config "$T/bad.conf" --state-dir "$T/chkstate" check-config 2>&1
}
check "berth.conf: a registry without url is refused naming url" \
	grep -q 'url' <<<"$(bad_conf 'insecure = true;')"
check "berth.conf: an unknown key is refused naming it" \
	grep -q 'passwd' <<<"$(bad_conf "url = \"$R1\"; passwd = \"x\";")"
check "berth.conf: an unreadable password_file is refused" \
	grep -q 'password_file' <<<"$(bad_conf "url = \"$R1\"; username = \"ci\"; password_file = \"/nonexistent\";")"

start_berth main --config "$T/berth.conf" --htpasswd "$T/htpasswd" --state-dir "$T/state" \
	--instance "$INST" || { cleanup_registries; finish; exit 1; }
API="$URL/api/v1"
A=(-u alice:a) O=(-u oscar:o) G=(-u olga:g) V=(-u vic:v)
CMD='"command": ["sh", "-c", "trap \"exit 0\" TERM; while :; do sleep 1; done"]'
ANSWERS="$T/answers"
keep() { printf '%s\n%s\n' "$HDRS" "$BODY" >>"$ANSWERS"; } # every answer, for the secrets check
id_of() { docker inspect -f '{{.Id}}' "$1" 2>/dev/null; }
image_of() { docker inspect -f '{{.Image}}' "$1" 2>/dev/null; }
dname() { # the Docker name of oscar's container NAME
	curl -s -u oscar:o "$API/containers/$1" | jq -r .docker_name
}

# --- pull -----------------------------------------------------------------------
if group pull; then
	req POST "$API/images/pull" "{\"ref\":\"$R1/team/app:1\"}" "${A[@]}"; keep
	expect "admin pulls from the plain registry" 200 .image_id "$ID1"
	req POST "$API/images/pull" "{\"ref\":\"$R2/team/app:1\"}" "${O[@]}"; keep
	expect "an operator whose policy says pull pulls from the TLS registry (credentials from berth.conf)" 200 .image_id "$ID1"
	req POST "$API/images/pull" "{\"ref\":\"$R1/other/app:1\"}" "${O[@]}"; keep
	expect "a pull outside the operator's allow-list is refused" 403 .error.field ref
	req POST "$API/images/pull" "{\"ref\":\"$R1/team/app:1\"}" "${V[@]}"; keep
	expect "a viewer may not pull" 403
	req POST "$API/images/pull?progress=true" "{\"ref\":\"$R2/team/web:1\"}" "${A[@]}"; keep
	check "?progress=true streams dockerd's progress (through the relay)" \
		bash -c '[ "$1" = 200 ] && grep -q "\"status\"" <<<"$2"' _ "$STATUS" "$BODY"
	check "the streamed pull left the image" bash -c 'docker image inspect "$1" >/dev/null' _ "$R2/team/web:1"
	req POST "$API/containers" "{\"name\":\"hello\",\"image\":\"$R1/tutum/hello-world:latest\",$CMD}" "${O[@]}"; keep
	expect "create with an image missing here pulls it first (seed 004's tutum/hello-world from the local registry)" 201 .running true
	req POST "$API/containers" "{\"name\":\"app\",\"image\":\"$R1/team/app:1\",$CMD}" "${O[@]}"; keep
	expect "oscar runs app from the plain registry" 201 .update_available false
	req POST "$API/containers" "{\"name\":\"sec\",\"image\":\"$R2/team/app:1\",$CMD}" "${O[@]}"; keep
	expect "oscar runs sec from the TLS registry" 201
	APP=$(dname app) SEC=$(dname sec)
fi

# --- detect ---------------------------------------------------------------------
wait_marked() { # wait_marked NAME VALUE: oscar's list shows NAME's update_available as VALUE
	wait_for 15 bash -c '[ "$(curl -s -u oscar:o "$1/containers" | jq -r --arg n "$2" ".containers[] | select(.name==\$n) | .update_available")" = "$3" ]' _ "$API" "$1" "$2"
}
if group detect; then
	check "before a push nothing is marked (the check ran)" wait_for 15 bash -c \
		'curl -s -u oscar:o "$1/containers/app" | jq -e ".update_checked > 0 and .update_available == false" >/dev/null' _ "$API"
	# CI pushes a new image under the same tags; the host's tags stay where they were.
	push $IMG2 "$R1/team/app:1"
	push $IMG2 "$R2/team/app:1"
	docker tag $IMG1 "$R1/team/app:1"
	docker tag $IMG1 "$R2/team/app:1"
	check "a new digest on the plain registry marks app within a check interval" wait_marked app true
	check "... and on the TLS registry (basic auth over TLS) marks sec" wait_marked sec true
	req GET "$API/containers/app" "" "${O[@]}"; keep
	expect "details show update_available and the registry's digest" 200 '.registry_digest|startswith("sha256:")' true
	check "the check cost no pull: the host's tag still names the old image" \
		test "$(docker image inspect -f '{{.Id}}' "$R1/team/app:1")" = "$ID1"
	req GET "$URL/metrics" "" "${A[@]}"
	check "/metrics: berth_update_available for app" grep -q "berth_update_available{kind=\"container\",owner=\"oscar\",name=\"app\"} 1" <<<"$BODY"
	req GET "$API/containers" "" "${G[@]}"
	check "olga's list shows none of oscar's marks" test "$(jqb '[.containers[]|select(.name=="app")]|length')" = 0
fi

# --- update ---------------------------------------------------------------------
if group update; then
	OLD=$(id_of "$APP")
	req POST "$API/containers/app/update" "" "${O[@]}"; keep
	expect "update pulls the new digest and recreates app" 200 .image_id "$ID2"
	check "app: same name, new container on the new image, running" \
		test "$(image_of "$APP")|$(docker inspect -f '{{.State.Running}}' "$APP")" = "$ID2|true"
	check "the old container is gone" test -z "$(docker ps -aq --filter id="$OLD")"
	check "after the update app is no longer marked" wait_marked app false
fi

# --- failures -------------------------------------------------------------------
still_runs() { # still_runs DOCKERNAME ID
	test "$(docker inspect -f '{{.Id}} {{.State.Running}}' "$1")" = "$2 true"
}
if group failures; then
	SECID=$(id_of "$SEC")
	printf 'wrong\n' >"$T/pw"
	req POST "$API/containers/sec/update" "" "${O[@]}"; keep
	expect "a wrong password: a clear error naming the registry" 502 '.error.message|test("registry secure refused")' true
	check "... and the old container still runs" still_runs "$SEC" "$SECID"
	printf '%s\n' "$PASS" >"$T/pw"
	req POST "$API/containers" "{\"name\":\"slow\",\"image\":\"$RS/team/slow:1\",$CMD}" "${O[@]}"; keep
	expect "a container from the slow registry's image (already here: no pull)" 201
	SLOW=$(dname slow) SLOWID=$(id_of "$(dname slow)")
	req POST "$API/containers/slow/update" "" "${O[@]}" --max-time 20; keep
	expect "a registry that does not answer: 504 within its timeout_ms" 504 '.error.message|test("did not answer")' true
	check "... in bounded time, the old container still running" still_runs "$SLOW" "$SLOWID"
	req POST "$API/containers" "{\"name\":\"dead\",\"image\":\"$RD/team/dead:1\",$CMD}" "${O[@]}"; keep
	DEAD=$(dname dead) DEADID=$(id_of "$(dname dead)")
	req POST "$API/containers/dead/update" "" "${O[@]}"; keep
	expect "an unreachable registry: 503 naming it" 503 '.error.message|test("registry dead .* unreachable")' true
	check "... the old container still running" still_runs "$DEAD" "$DEADID"
	req POST "$API/containers" "{\"name\":\"gone\",\"image\":\"$R1/team/gone:1\",$CMD}" "${O[@]}"; keep
	expect "a container from a tag about to vanish" 201
	GONE=$(dname gone) GONEID=$(id_of "$(dname gone)")
	dg=$(curl -sI -H 'Accept: application/vnd.docker.distribution.manifest.v2+json' "http://$R1/v2/team/gone/manifests/1" | tr -d '\r' | awk -F': ' 'tolower($1)=="docker-content-digest"{print $2}')
	curl -s -X DELETE "http://$R1/v2/team/gone/manifests/$dg" >/dev/null
	req POST "$API/containers/gone/update" "" "${O[@]}"; keep
	expect "a vanished tag: 404 saying so" 404 '.error.message|test("tag is gone")' true
	check "... the old container still running" still_runs "$GONE" "$GONEID"
	req POST "$API/containers" "{\"name\":\"nope\",\"image\":\"$R1/team/never:1\",$CMD}" "${O[@]}"; keep
	expect "pull-on-create of a tag the registry lacks: a clear error" 502 '.error.message|test("registry plain")' true
fi

# --- hooks ----------------------------------------------------------------------
if group hooks; then
	req POST "$API/containers/sec/hooks" "" "${O[@]}"; keep
	expect "oscar makes a hook for sec: the token shown once" 201 '.url|startswith("/hooks/")' true
	TOKEN=$(jqb .token) HOOK=$(jqb .id)
	req GET "$API/containers/sec/hooks" "" "${O[@]}"; keep
	expect "the hook's details never show the token" 200 '[.exists, has("token")]|tostring' '[true,false]' 
	check "the state directory keeps only the token's hash" bash -c '! grep -rq "$1" "$2"' _ "$TOKEN" "$T/state"
	req POST "$API/containers/sec/hooks" "" "${G[@]}"
	expect "olga cannot make a hook on oscar's container" 404
	SECID=$(id_of "$SEC")
	STATUS=$(curl -s -o "$T/body" -w '%{http_code}' -X POST "$URL/hooks/$TOKEN"); BODY=$(cat "$T/body"); keep
	expect "a bare curl -X POST on the hook updates sec" 200 .image_id "$ID2"
	check "sec runs on the new digest, a new container" \
		test "$(image_of "$SEC")|$(id_of "$SEC")" != "$ID2|$SECID" -a "$(image_of "$SEC")" = "$ID2"
	HRUN=$(dirname "$(grep -l "127.0.0.1:${URL##*:};" /tmp/berth-up.*/nginx.conf 2>/dev/null | head -1)")
	check "nginx logged the hook's call without its token" \
		bash -c 'grep -q "POST /hooks/<token>" "$2/nginx-access.log" && ! grep -qF "$1" "$2/nginx-access.log"' _ "$TOKEN" "$HRUN"
	check "the hook is audited as oscar with the hook's id" \
		bash -c 'curl -s -u alice:a "$1/audit?limit=50" | jq -e --arg h "$2" "[.entries[]|select(.hook==\$h and .user==\"oscar\" and (.action|test(\"hooks\")))]|length > 0" >/dev/null' _ "$API" "$HOOK"
	req POST "$API/containers/sec/hooks" "" "${O[@]}"; keep
	expect "POST again rotates the token" 200 .rotated true
	NEW=$(jqb .token)
	STATUS=$(curl -s -o /dev/null -w '%{http_code}' -X POST "$URL/hooks/$TOKEN")
	check "the old token no longer works" test "$STATUS" = 404
	codes=$(curl -s --parallel --parallel-immediate -o /dev/null -o /dev/null -o /dev/null -o /dev/null \
		-o /dev/null -o /dev/null -w '%{http_code} ' -X POST "$URL/hooks/$NEW" "$URL/hooks/$NEW" \
		"$URL/hooks/$NEW" "$URL/hooks/$NEW" "$URL/hooks/$NEW" "$URL/hooks/$NEW" 2>/dev/null)
	check "the new token works, and calls in a burst are rate-limited ($codes)" \
		bash -c '[[ $1 == *200* && $1 == *429* ]]' _ "$codes"
	STATUS=$(curl -s -o /dev/null -w '%{http_code}' -X POST "$URL/hooks/$(printf '%064d' 0)")
	check "a made-up token: 404" test "$STATUS" = 404
	STATUS=$(curl -s -o /dev/null -w '%{http_code}' -X POST "$URL/hooks/short")
	check "a malformed token: refused before any lookup ($STATUS)" test "$STATUS" = 404
	req DELETE "$API/containers/sec/hooks" "" "${O[@]}"
	expect "the hook is deleted" 204
	sleep 1
	STATUS=$(curl -s -o /dev/null -w '%{http_code}' -X POST "$URL/hooks/$NEW")
	check "a deleted hook's token: 404" test "$STATUS" = 404
fi

# --- services -------------------------------------------------------------------
if group services; then
	req POST "$API/services" "{\"name\":\"svc\",\"image\":\"$R1/team/svc:1\",$CMD}" "${O[@]}"; keep
	expect "a service from the plain registry" 201
	req POST "$API/services/svc/scale" '{"number":2}' "${O[@]}"; keep
	expect "scaled to two replicas (the image pulled on create)" 200
	wait_for 20 bash -c '[ "$(curl -s -u oscar:o "$1/services/svc/status" | jq -r .running_resources)" = 2 ]' _ "$API"
	push $IMG2 "$R1/team/svc:1"
	docker tag $IMG1 "$R1/team/svc:1"
	check "a new digest marks the service" wait_for 15 bash -c \
		'curl -s -u oscar:o "$1/services/svc" | jq -e ".update_available == true" >/dev/null' _ "$API"
	req POST "$API/services/svc/hooks" "" "${O[@]}"; keep
	expect "a hook for the service" 201
	STOK=$(jqb .token)
	STATUS=$(curl -s -o "$T/body" -w '%{http_code}' -X POST "$URL/hooks/$STOK"); BODY=$(cat "$T/body"); keep
	check "the service hook rolls the replicas onto the new digest" test "$STATUS" = 200
	imgs=$(docker ps --filter "label=berth.instance=$INST" --filter label=berth.service=svc --format '{{.ID}}' | xargs -r docker inspect -f '{{.Image}}' | sort -u)
	check "both replicas run the new image ($imgs)" test "$imgs" = "$ID2" -a \
		"$(docker ps -q --filter "label=berth.instance=$INST" --filter label=berth.service=svc | wc -l)" = 2
fi

# --- images ---------------------------------------------------------------------
if group images; then
	JUNK_ID=$(printf 'FROM %s\nLABEL berth.test.junk=%s\n' $IMG1 $$ | docker build -q -t "$R1/team/junk:1" - 2>/dev/null)
	INUSE_ID=$(printf 'FROM %s\nLABEL berth.test.inuse=%s\n' $IMG1 $$ | docker build -q -t "$R1/team/inuse:1" - 2>/dev/null)
	req POST "$API/containers" "{\"name\":\"inuse\",\"image\":\"$R1/team/inuse:1\",$CMD}" "${O[@]}"; keep
	expect "a container on a registry-only image" 201
	req GET "$API/images" "" "${A[@]}"
	expect "admins see what uses each image" 200 "[.images[]|select(.id==\"$INUSE_ID\")|.used_by[]]|index(\"inuse\") != null" true
	req POST "$API/images/prune" "" "${O[@]}"
	expect "prune is for admins" 403
	req POST "$API/images/prune" "" "${A[@]}"; keep
	expect "prune removes the unused registry image" 200 "(.removed|index(\"$JUNK_ID\")) != null" true
	check "... and never the one a container uses" bash -c 'docker image inspect "$1" >/dev/null' _ "$INUSE_ID"
	check "... nor images from elsewhere" bash -c 'docker image inspect "$1" >/dev/null' _ $IMG1
fi

# --- secrets --------------------------------------------------------------------
if group secrets; then
	RUNDIR=$(dirname "$(grep -l "127.0.0.1:${URL##*:};" /tmp/berth-up.*/nginx.conf 2>/dev/null | head -1)")
	check "the password is in no answer" bash -c '! grep -qF "$1" "$2"' _ "$PASS" "$ANSWERS"
	check "... nor in berth's log, nginx's logs or the audit log" bash -c \
		'[ -d "$3" ] && ! grep -rqF "$1" "$2/state" "$3" "$2"/up-*.out' _ "$PASS" "$T" "$RUNDIR"
	b64=$(printf '"password":"%s"' "$PASS" | base64 -w0 | cut -c1-16)
	check "... nor its X-Registry-Auth encoding" bash -c '! grep -rqF "$1" "$2/state" "$3" "$4"' _ "$b64" "$T" "$RUNDIR" "$ANSWERS"
fi

stop_berth "$PID_main"
check "berth-up's stop removed the suite's containers" test -z "$(docker ps -aq --filter "label=berth.instance=$INST")"
cleanup_registries
check "no registry left running" bash -c '! kill -0 "$@" 2>/dev/null' _ "${REG_PIDS[@]}"
check "the certs.d entry is gone" test ! -e "$CERTS_D"
finish
