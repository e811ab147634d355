#!/bin/bash
# Jobs through real nginx (basic auth) -> berth-fcgi -> dockerd: success,
# exit 3, a timeout enforced with nobody polling, cancel, status transitions
# with since, logs kept after the sweep, list filter and order, ownership,
# invalid bodies, records rebuilt from labels, seed 001's (Herc's) flow and
# endpoint index (GET / by Accept, /sleep/<n>, JSON 404s at the root), and
# every published schema, doc example and openapi.json checked with ajv.
. "$(dirname "$0")/../lib.sh"

INST="t-jobs-$$"
cat >"$T/berth.conf" <<CONF
users = { alice = "admin"; oscar = "operator"; olga = "operator"; vic = "viewer"; };
jobs = { sweep_interval = 1; retention = 1; default_timeout = 600; };
streams = { per_user = 6; };
policy = {
  operator = { images = [ "berth-test/*" ]; };
  admin = { images = [ "*" ]; };
};
CONF
{ htpasswd_line alice a; htpasswd_line oscar o; htpasswd_line olga g; htpasswd_line vic v; } >"$T/htpasswd"
mkdir -p "$T/state"
start_berth main --config "$T/berth.conf" --htpasswd "$T/htpasswd" --state-dir "$T/state" \
	--instance "$INST" --workers 3 || exit 1
API="$URL/api/v1"
A=(-u alice:a) O=(-u oscar:o) G=(-u olga:g) V=(-u vic:v)
IMG=berth-test/busybox:1

submit() { # submit BODY CURL-ARGS...: sets ID
	req POST "$API/jobs" "$@"
	ID=$(jqb .id)
}
# has_status ID WANT CURL-ARGS...: GET the job, true when its status is WANT.
has_status() {
	local id=$1 want=$2; shift 2
	req GET "$API/jobs/$id" "" "$@"
	[ "$STATUS" = 200 ] && [ "$(jqb .status)" = "$want" ]
}
record() { jq -r "$2" "$T/state/jobs/$1.json" 2>/dev/null; }
no_container() { [ -z "$(docker ps -aq --filter "label=berth.job=$1")" ]; }
not_running() { [ -z "$(docker ps -q --filter "label=berth.job=$1")" ]; }

# --- a timeout enforced with nobody polling (submitted first, checked later) ---
submit "{\"image\":\"$IMG\",\"command\":[\"sleep\",\"300\"],\"timeout\":2,\"name\":\"slow\"}" "${O[@]}"
expect "timeout job accepted: 202" 202
ID_TO=$ID

# --- success -----------------------------------------------------------------
submit "{\"image\":\"$IMG\",\"command\":[\"sh\",\"-c\",\"echo hello-\$WHO\"],\"environment\":{\"WHO\":\"jobs\"},\"name\":\"hello\"}" "${O[@]}"
expect "submit: 202" 202
ID_OK=$ID
check "the id is 16 hex characters" grep -qxE '[0-9a-f]{16}' <<<"$ID_OK"
check "record written" test -f "$T/state/jobs/$ID_OK.json"
has_container() { [ -n "$(docker ps -aq --filter "label=berth.job=$1")" ]; }
# A job is queued when submitted; its container comes when a worker takes it.
check "the container carries berth.job=<id>" wait_for 30 has_container "$ID_OK"
check "a job's container has memory, cpus, pids and log limits" \
	bash -c '[[ $1 =~ ^[1-9][0-9]*\ [1-9][0-9]*\ [1-9][0-9]*\ [1-9][0-9]*$ ]]' _ "$(docker ps -aq --filter "label=berth.job=$ID_OK" | xargs docker inspect -f '{{.HostConfig.Memory}} {{.HostConfig.NanoCpus}} {{.HostConfig.PidsLimit}} {{index .HostConfig.LogConfig.Config "max-size"}}')"
check "job succeeds" wait_for 60 has_status "$ID_OK" succeeded "${O[@]}"
check "exit_code 0" test "$(jqb .exit_code)" = 0
check "name, image, command kept" test "$(jqb '[.name, .image, .command[0]] | join(" ")')" = "hello $IMG sh"
check "started and finished are ISO 8601 UTC" \
	grep -qxE '[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9:]{8}\.[0-9]{3}Z [0-9-]{10}T[0-9:]{8}\.[0-9]{3}Z' <<<"$(jqb '.started + " " + .finished')"
check "since of succeeded is the finish time" test "$(jqb '.since == .finished')" = true

# --- exit 3 ----------------------------------------------------------------------
submit "{\"image\":\"$IMG\",\"command\":\"sh -c 'exit 3'\"}" "${O[@]}"
expect "submit exit-3 job (command as a string)" 202
ID_F=$ID
check "job that exits 3 fails" wait_for 60 has_status "$ID_F" failed "${O[@]}"
check "exit_code 3" test "$(jqb .exit_code)" = 3

# --- status transitions with since ----------------------------------------------
submit "{\"image\":\"$IMG\",\"command\":[\"sleep\",\"6\"]}" "${O[@]}"
ID_S=$ID
check "transition: running" wait_for 60 has_status "$ID_S" running "${O[@]}"
SINCE_RUN=$(jqb .since)
check "running: since is its start" test "$(jqb '.since == .started')" = true
check "running: no exit code, no finish" test "$(jqb '(has("exit_code") | not) and .finished == null')" = true
check "transition: succeeded" wait_for 60 has_status "$ID_S" succeeded "${O[@]}"
SINCE_DONE=$(jqb .since)
check "since moved forward ($SINCE_RUN -> $SINCE_DONE)" test "$SINCE_DONE" \> "$SINCE_RUN"

# --- cancel ------------------------------------------------------------------------
submit "{\"image\":\"$IMG\",\"command\":[\"sh\",\"-c\",\"echo started-\$\$; sleep 300\"]}" "${O[@]}"
ID_C=$ID
check "cancel target runs" wait_for 60 has_status "$ID_C" running "${O[@]}"
req GET "$API/jobs/$ID_C/logs" "" "${O[@]}"
check "logs of a running job" wait_for 20 eval 'req GET "$API/jobs/$ID_C/logs" "" "${O[@]}"; grep -q started- <<<"$BODY"'
req GET "$API/jobs/$ID_C" "" "${O[@]}"
expect "can: its owner may cancel a running job, not remove it" 200 '.can | tojson' '{"cancel":true,"remove":false}'
req GET "$API/jobs" "" "${A[@]}"
check "can: the list says what the job says" test "$(jqb ".jobs[] | select(.id == \"$ID_C\") | .can | tojson")" = '{"cancel":true,"remove":false}'
req DELETE "$API/jobs/$ID_C" "" "${G[@]}"
expect "another operator cannot cancel it (404)" 404
req DELETE "$API/jobs/$ID_C" "" "${V[@]}"
expect "a viewer cannot cancel (403)" 403
req DELETE "$API/jobs/$ID_C" "" "${O[@]}"
expect "DELETE a running job cancels it: 200" 200 .status canceled
check "the canceled job's container stops" wait_for 30 not_running "$ID_C"
check "stays canceled" has_status "$ID_C" canceled "${O[@]}"
check "canceled recorded before the kill" test "$(record "$ID_C" '.canceled_at > 0')" = true

# --- the timeout, checked without having polled it ---------------------------------
check "the sweeper marked the unattended job timed_out" \
	wait_for 60 eval 'test "$(record "$ID_TO" .status)" = timed_out'
check "its container no longer runs" wait_for 30 not_running "$ID_TO"
check "timed_out decided ~2 s after the start" \
	test "$(record "$ID_TO" '(.timed_out_at - .started) >= 2000 and (.timed_out_at - .started) < 60000')" = true
req GET "$API/jobs/$ID_TO" "" "${O[@]}"
expect "GET says timed_out" 200 .status timed_out

# --- logs after the container was swept (retention = 1 s) ---------------------------
check "finished job's container is swept" wait_for 60 no_container "$ID_OK"
req GET "$API/jobs/$ID_OK" "" "${O[@]}"
expect "swept job keeps its status" 200 .status succeeded
check "swept job has no container" test "$(jqb .container)" = null
req GET "$API/jobs/$ID_OK/logs" "" "${O[@]}"
expect "logs after the sweep: 200" 200
check "logs after the sweep hold the output" grep -qx hello-jobs <<<"$BODY"
check "failed job swept too, exit code kept" wait_for 60 no_container "$ID_F"
req GET "$API/jobs/$ID_F" "" "${O[@]}"
expect "swept failed job" 200 .exit_code 3
submit "{\"image\":\"$IMG\",\"command\":[\"sh\",\"-c\",\"for i in 1 2 3 4 5; do echo line\$i; done\"]}" "${O[@]}"
ID_L=$ID
check "five-line job swept" wait_for 60 eval 'has_status "$ID_L" succeeded "${O[@]}" && no_container "$ID_L"'
req GET "$API/jobs/$ID_L/logs?tail=2" "" "${O[@]}"
check "?tail=2 on kept logs" test "$(tr '\n' ' ' <<<"$BODY")" = "line4 line5 "

submit "{\"image\":\"$IMG\",\"command\":[\"sh\",\"-c\",\"printf 'a\\\\377b\\\\000c\\\\n'\"]}" "${O[@]}"
ID_B=$ID
check "binary output swept" wait_for 60 eval 'has_status "$ID_B" succeeded "${O[@]}" && no_container "$ID_B"'
req GET "$API/jobs/$ID_B/logs" "" "${O[@]}"
# dockerd's json-file driver already turns bad UTF-8 into U+FFFD; berth cleans what is left.
check "binary output kept as valid UTF-8, NUL as '?'" \
	eval 'printf %s "$BODY" | iconv -f UTF-8 -t UTF-8 >/dev/null && [[ "$BODY" == a*b\?c ]]'
req GET "$API/jobs/$ID_B" "" "${O[@]}"
expect "can: a finished job may be removed, not canceled" 200 '.can | tojson' '{"cancel":false,"remove":true}'
req DELETE "$API/jobs/$ID_B" "" "${O[@]}"
expect "DELETE a swept job: 204" 204

# --- list: own jobs, newest first, ?status= -------------------------------------------
req GET "$API/jobs" "" "${O[@]}"
expect "list" 200
check "newest first" test "$(jqb '[.jobs[].created] == ([.jobs[].created] | sort | reverse)')" = true
check "the last submitted is first" test "$(jqb '.jobs[0].id')" = "$ID_L"
check "all of the caller's jobs listed" test "$(jqb '.jobs | length')" = 6
req GET "$API/jobs?status=failed" "" "${O[@]}"
expect "?status=failed" 200 '[.jobs[].id] | join(",")' "$ID_F"
req GET "$API/jobs?status=timed_out" "" "${O[@]}"
expect "?status=timed_out" 200 '[.jobs[].id] | join(",")' "$ID_TO"
req GET "$API/jobs?status=done" "" "${O[@]}"
expect "?status= outside the enum: 400 naming it" 400 .error.field status

# --- ownership --------------------------------------------------------------------------
req GET "$API/jobs/$ID_OK" "" "${G[@]}"
expect "foreign job: 404" 404 .error.code not_found
req GET "$API/jobs/$ID_OK/logs" "" "${G[@]}"
expect "foreign job's logs: 404" 404
req GET "$API/jobs/$ID_OK" "" "${V[@]}"
expect "viewer, foreign job: 404" 404
req GET "$API/jobs/0123456789abcdef" "" "${O[@]}"
expect "unknown job: 404" 404
req GET "$API/jobs/..%2Fcontainers" "" "${O[@]}"
expect "hostile id ..%2F: routed where nginx routed it (the caller's container list), never as a job id" \
	200 'has("containers")' true
req GET "$API/jobs/..%252Fcontainers" "" "${O[@]}"
expect "hostile id ..%252F: 404" 404
req GET "$API/jobs" "" "${G[@]}"
expect "another operator's list is empty" 200 '.jobs | length' 0
req GET "$API/jobs/$ID_OK" "" "${A[@]}"
expect "admin reads any job" 200 .owner oscar
req GET "$API/jobs?owner=oscar" "" "${A[@]}"
expect "admin lists by owner" 200 '.jobs | length' 6
req GET "$API/jobs?owner=oscar" "" "${G[@]}"
expect "operators cannot list by owner" 403 .error.field owner
req POST "$API/jobs" "{\"image\":\"$IMG\",\"command\":[\"true\"]}" "${V[@]}"
expect "viewer cannot submit" 403
req POST "$API/jobs" "{\"image\":\"$IMG\",\"command\":[\"true\"]}"
expect "no identity: 401" 401

# --- invalid bodies name the field and the rule ----------------------------------------
bad() { # bad NAME BODY STATUS FIELD [MESSAGE-REGEX]
	req POST "$API/jobs" "$2" "${O[@]}"
	if [ "$STATUS" = "$3" ] && [ "$(jqb .error.field)" = "$4" ] &&
		{ [ -z "${5-}" ] || grep -qE "$5" <<<"$(jqb .error.message)"; }; then
		ok "$1"
	else
		not_ok "$1 (status $STATUS: $BODY)"
	fi
}
N0=$(ls "$T/state/jobs" | wc -l)
bad "missing image" "{\"command\":[\"true\"]}" 422 image "required"
bad "missing command" "{\"image\":\"$IMG\"}" 422 command "required"
bad "command of the wrong type" "{\"image\":\"$IMG\",\"command\":5}" 422 command "must be a string or a list"
bad "empty command list" "{\"image\":\"$IMG\",\"command\":[]}" 422 command "items"
bad "timeout 0" "{\"image\":\"$IMG\",\"command\":[\"true\"],\"timeout\":0}" 422 timeout "from 1 to"
bad "timeout as a string" "{\"image\":\"$IMG\",\"command\":[\"true\"],\"timeout\":\"5\"}" 422 timeout "integer"
bad "unknown field" "{\"image\":\"$IMG\",\"command\":[\"true\"],\"privileged\":true}" 422 privileged "unknown field"
bad "environment item without =" "{\"image\":\"$IMG\",\"command\":[\"true\"],\"environment\":[\"NOPE\"]}" 422 "environment[0]" "must match"
bad "environment value not a string" "{\"image\":\"$IMG\",\"command\":[\"true\"],\"environment\":{\"A\":1}}" 422 environment.A "string"
bad "name with a space" "{\"image\":\"$IMG\",\"command\":[\"true\"],\"name\":\"a b\"}" 422 name "must match"
bad "memory nonsense" "{\"image\":\"$IMG\",\"command\":[\"true\"],\"memory\":\"lots\"}" 422 memory "must match"
bad "memory too small (policy)" "{\"image\":\"$IMG\",\"command\":[\"true\"],\"memory\":\"1k\"}" 422 memory "at least"
bad "image without a tag (policy)" "{\"image\":\"berth-test/busybox\",\"command\":[\"true\"]}" 403 image "tag"
bad "image outside the allow-list" "{\"image\":\"other/thing:1\",\"command\":[\"true\"]}" 403 image "allow-list"
bad "image not on this host" "{\"image\":\"berth-test/nope:1\",\"command\":[\"true\"]}" 422 image "not on this host"
req POST "$API/jobs" '[1]' "${O[@]}"
expect "body not an object: 400" 400
req POST "$API/jobs" '{"image":' "${O[@]}"
expect "broken JSON: 400" 400
check "nothing half-created by refused submits" test "$(ls "$T/state/jobs" | wc -l)" = "$N0"

# --- a lost record comes back from the container's labels -----------------------------
submit "{\"image\":\"$IMG\",\"command\":[\"sleep\",\"300\"],\"name\":\"orphan\",\"timeout\":900}" "${O[@]}"
ID_R=$ID
check "orphan runs" wait_for 60 has_status "$ID_R" running "${O[@]}"
rm -f "$T/state/jobs/$ID_R.json"
"$BERTH_FCGI" --config "$T/berth.conf" --state-dir "$T/state" --instance "$INST" sweep >"$T/sweep.out" 2>&1
check "berth-fcgi sweep exits 0" test $? = 0
check "record rebuilt from labels" wait_for 20 test -f "$T/state/jobs/$ID_R.json"
req GET "$API/jobs/$ID_R" "" "${O[@]}"
expect "rebuilt job: owner, name, timeout, status" 200 '[.owner, .name, .timeout, .status] | join(" ")' "oscar orphan 900 running"
req DELETE "$API/jobs/$ID_R" "" "${O[@]}"
expect "cancel the rebuilt job" 200 .status canceled
req DELETE "$API/jobs/$ID_R" "" "${O[@]}"
expect "DELETE a finished job removes it: 204" 204
req GET "$API/jobs/$ID_R" "" "${O[@]}"
expect "removed job: 404" 404
check "removed job's container is gone" wait_for 20 no_container "$ID_R"

# --- seed 001 (Herc) ------------------------------------------------------------------------
HERC="{\"commandline\":\"echo Hello herc! > /baz; cat /baz\",\"docker\":\"$IMG\",\"resources\":{\"cpus\":1,\"mem\":64,\"memunit\":\"MB\",\"disk\":1,\"diskunit\":\"GB\"},\"inputs\":[{\"cloud\":\"gs://foo\",\"local\":\"/foo\"}],\"outputs\":[{\"cloud\":\"gs://baz\",\"local\":\"/baz\"}]}"
req POST "$URL/submit" "$HERC" "${O[@]}"
expect "POST /submit: 200, the job id as a JSON string (Herc's answer)" 200 type string
JID=$(jqb .)
check "the job id is 16 hex" grep -qxE '[0-9a-f]{16}' <<<"$JID"
seed_is() { req GET "$URL/status/$1" "" "${O[@]}"; [ "$STATUS" = 200 ] && [ "$(jqb .status)" = "$2" ]; }
check "GET /status/<jobid> reaches FINISHED" wait_for 60 seed_is "$JID" FINISHED
check "status has jobid, status, time (epoch ms)" \
	test "$(jqb "(.jobid == \"$JID\") and (.time | type == \"number\") and (.time > 1500000000000)")" = true
T_SEED=$(jqb .time)
req GET "$API/jobs/$JID" "" "${O[@]}"
check "time is when it entered FINISHED" test "$(jqb .finished)" = "$(date -u -d "@$((T_SEED / 1000))" +%Y-%m-%dT%H:%M:%S).$(printf %03d $((T_SEED % 1000)))Z"
check "the seed job ran through a shell" wait_for 30 eval 'req GET "$API/jobs/$JID/logs" "" "${O[@]}"; grep -qx "Hello herc!" <<<"$BODY"'
check "inputs and outputs recorded" test "$(record "$JID" '[.seed, .inputs[0].cloud, .outputs[0].local] | join(" ")')" = "001 gs://foo /baz"
check "mem 64 MB became the memory limit" test "$(record "$JID" .memory)" = $((64 << 20))
req POST "$URL/submit" "{\"commandline\":\"exit 3\",\"docker\":{\"image\":\"$IMG\"},\"name\":\"herc-fail\"}" "${O[@]}"
expect "docker as an object" 200
check "exit 3 is FAILED" wait_for 60 seed_is "$(jqb .)" FAILED
check "canceled is KILLED" seed_is "$ID_C" KILLED
check "timed out is FAILED with reason timed_out" \
	eval 'seed_is "$ID_TO" FAILED && test "$(jqb .reason)" = timed_out'
req GET "$URL/status/0123456789abcdef" "" "${O[@]}"
expect "unknown jobid: 404" 404
req GET "$URL/status/$JID" "" "${G[@]}"
expect "someone else's jobid: 404" 404
req POST "$URL/submit" "{\"docker\":\"$IMG\"}" "${O[@]}"
expect "seed body without commandline: 400 naming it" 400 .error.field commandline
req POST "$URL/submit" "{\"commandline\":\"true\",\"docker\":\"$IMG\",\"resources\":{\"mem\":64,\"memunit\":\"PB\"}}" "${O[@]}"
expect "bad memunit: 400 naming it" 400 .error.field resources.memunit
req POST "$URL/submit" "{\"commandline\":\"true\",\"docker\":\"$IMG\",\"resources\":{\"mem\":1,\"memunit\":\"KB\"}}" "${O[@]}"
expect "policy errors use the seed's field names" 400 .error.field resources.mem
req POST "$URL/submit" "{\"commandline\":\"true\",\"docker\":\"berth-test/busybox\"}" "${O[@]}"
expect "untagged image: 403 on docker" 403 .error.field docker
req GET "$URL/schema" "" "${V[@]}"
expect "GET /schema" 200 '.properties.commandline.type' string
check "GET /schema says which draft" test "$(jqb '."$schema"')" = "https://json-schema.org/draft/2020-12/schema"

# GET /: Herc's endpoint index for clients that ask for JSON, the dashboard for browsers.
HTTPIE=(-H 'Accept: application/json, */*;q=0.5') # what httpie sends, as in Herc's example
req GET "$URL/" "" "${V[@]}" "${HTTPIE[@]}"
expect "GET / asking for JSON: Herc's index" 200 'keys | join(",")' \
	"GET /,GET /schema,GET /sleep/<n>,GET /status/<jobid>,POST /submit"
check "the index is JSON and varies with Accept" \
	eval 'grep -qi "^content-type: application/json" <<<"$HDRS" && grep -qi "^vary: accept" <<<"$HDRS"'
check "each entry describes its endpoint" test "$(jqb '[.[] | select(length > 20)] | length')" = 5
# Every endpoint the index lists answers as it says (<n> = 0, <jobid> = the job above).
for k in $(jqb 'keys[] | @base64'); do
	k=$(base64 -d <<<"$k"); m=${k%% *} p=${k#* }
	p=${p//<n>/0}; p=${p//<jobid>/$JID}
	req "$m" "$URL$p" "$([ "$m" = POST ] && echo "$HERC")" "${O[@]}" "${HTTPIE[@]}"
	expect "index entry '$k' answers" 200
done
req GET "$URL/" "" "${V[@]}" -H 'Accept: text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8'
check "GET / from a browser: the dashboard" eval '[ "$STATUS" = 200 ] && grep -qi "^content-type: text/html" <<<"$HDRS" && grep -q "<html" <<<"$BODY"'
check "the dashboard's / varies with Accept too" grep -qi "^vary: accept" <<<"$HDRS"
req GET "$URL/" "" "${V[@]}"
check "GET / with curl's */*: the dashboard" grep -qi "^content-type: text/html" <<<"$HDRS"
req GET "$URL/" "" "${V[@]}" -H 'Accept: text/html, application/json'
check "text/html before application/json: the dashboard" grep -qi "^content-type: text/html" <<<"$HDRS"

# Paths that are neither a route nor a dashboard file: berth's JSON 404, not the dashboard.
for p in /nope /nope/ /containers/web /nope.js /index.htm; do
	req GET "$URL$p" "" "${V[@]}"
	check "GET $p: JSON 404" eval '[ "$STATUS" = 404 ] && grep -qi "^content-type: application/json" <<<"$HDRS" && [ "$(jqb .error.code)" = not_found ]'
done
for p in /index.html /app.js /style.css; do
	req GET "$URL$p" "" "${V[@]}"
	check "GET $p: the dashboard's file" test "$STATUS" = 200
done

# GET /sleep/<n>: bounded; the relay holds the sleep, not a worker (issue 19), so
# more sleep at once than there are workers (3), within streams.per_user (6),
# and a client that leaves frees its stream at once.
for n in 61 -1 x 1.5 007; do
	req GET "$URL/sleep/$n" "" "${V[@]}"
	expect "sleep/$n: 400 naming n" 400 .error.field n
done
t0=$(date +%s%N)
req GET "$URL/sleep/1" "" "${V[@]}"
expect "sleep/1 answers {\"slept\": 1}" 200 .slept 1
check "sleep/1 took at least a second" test $(($(date +%s%N) - t0)) -ge 1000000000
req GET "$URL/sleep/0" "" "${V[@]}"
expect "sleep/0 answers at once" 200 .slept 0
sleepers() { # sleepers N SECONDS MAX_TIME: vic's N sleeps at once; pids in SPIDS
	SPIDS=()
	for i in $(seq "$1"); do
		curl -s "${V[@]}" --max-time "$3" -o "$T/sleep.$i" "$URL/sleep/$2" &
		SPIDS+=($!)
	done
}
slept_all() { # slept_all N SECONDS: each of the N answered {"slept": SECONDS}
	for i in $(seq "$1"); do [ "$(jq -r .slept "$T/sleep.$i" 2>/dev/null)" = "$2" ] || return 1; done
}
t0=$(date +%s%N)
sleepers 6 4 20
sleep 1
t1=$(date +%s%N)
req GET "$API/health" "" "${O[@]}"
expect "six sleepers, three workers: health answers meanwhile" 200
check "... at once ($((($(date +%s%N) - t1) / 1000000)) ms)" test $(($(date +%s%N) - t1)) -lt 2000000000
req GET "$URL/sleep/1" "" "${V[@]}"
expect "a seventh sleep is past streams.per_user: 429 naming it" 429 .error.field streams.per_user
wait "${SPIDS[@]}"
check "all six slept 4 s" slept_all 6 4
# Held by three workers they would take two rounds, 8 s.
check "... at the same time ($((($(date +%s%N) - t0) / 1000000)) ms in all)" test $(($(date +%s%N) - t0)) -lt 7500000000
sleepers 6 30 1
wait "${SPIDS[@]}"
sleep 0.5 # nginx closes each relay connection as its client goes
rm -f "$T"/sleep.*
sleepers 6 1 10
wait "${SPIDS[@]}"
check "six clients that left hold no stream: six more sleep at once" slept_all 6 1

# --- schemas, doc examples and openapi.json through a real validator -------------------------
NPM_DIR="$OUT_DIR/npm"
if ! command -v node >/dev/null || ! command -v npm >/dev/null; then
	DEBIAN_FRONTEND=noninteractive apt-get install -y -qq nodejs npm >/dev/null 2>&1
fi
if [ ! -d "$NPM_DIR/node_modules/ajv" ]; then
	npm install --silent --no-audit --no-fund --prefix "$NPM_DIR" ajv@8 >"$T/npm.log" 2>&1 ||
		cat "$T/npm.log"
fi
if [ -d "$NPM_DIR/node_modules/ajv" ]; then
	NODE_PATH="$NPM_DIR/node_modules" node "$SRC_DIR/tests/integ/schemas.js" "$URL" \
		"Basic $(printf alice:a | base64)" "$SRC_DIR" >"$T/schemas.out" 2>&1
	while IFS= read -r line; do
		case "$line" in
		PASS\ *) ok "${line#PASS }" ;;
		FAIL\ *) not_ok "${line#FAIL }" ;;
		*) echo "# $line" ;;
		esac
	done <"$T/schemas.out"
	check "schema checks ran" grep -q '^PASS schema job compiles' "$T/schemas.out"
else
	not_ok "ajv installed from npm (see $T/npm.log)"
fi

req GET "$URL/metrics"
check "metrics: jobs by status" grep -q '^berth_jobs{status="succeeded"} [1-9]' <<<"$BODY"

# A stopping worker ends a sleep early (and answers) instead of waiting it out.
start_berth stop --workers 2 || exit 1
curl -s -o "$T/sleep60" "$URL_stop/sleep/60" &
sleeper=$!
sleep 1
t0=$SECONDS
kill -TERM "$(sup_pid "$PID_stop")"
wait "$sleeper"
check "SIGTERM ends a sleep/60 at once ($((SECONDS - t0)) s)" test $((SECONDS - t0)) -lt 10
check "the cut-short sleep says how long it slept" test "$(jq -r '.slept < 60' "$T/sleep60")" = true
stop_berth "$PID_stop"

finish
