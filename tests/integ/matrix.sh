#!/bin/bash
# The role x route x owner matrix, generated: every route of GET
# /api/v1/openapi.json (seed routes too) gets its refusals without anyone
# writing them.  Routes that need a role (x-berth-role): anonymous gets 401
# (through nginx's basic auth and from berth itself, on a berth-up without
# basic auth), a viewer 403 where an operator is needed, an operator 403
# where an admin is.  Routes whose path names an object (the path
# parameter's description names its kind: "container (...)"): an object of
# that kind made by oscar is 404 to olga (by every name it has) and to a
# viewer, never in their lists, a name that names nothing is 404 to oscar,
# and oscar (and, reading, alice) gets neither 401, 403, 404 nor a 5xx.
# A path argument of a kind this suite cannot make an object for fails
# the suite until the kind gets a row in KINDS (and, when owned, oscar's
# object in make_objects) or an exception with a reason.
. "$(dirname "$0")/../lib.sh"

INST="t-mx-$$"
IMG=berth-test/busybox:1
cat >"$T/berth.conf" <<CONF
$(cast_users)
jobs = { sweep_interval = 3600; };
policy = {
  operator = { images = [ "berth-test/*", "berth-cat-$INST/*" ]; };
  admin = { images = [ "*" ]; };
};
catalog = {
  mx = { tag = "berth-cat-$INST/mx:1"; commands = ( "FROM $IMG", "CMD sleep 600" ); };
};
CONF
cast_htpasswd "$T/htpasswd"
# The same config without basic auth: anonymous reaches berth, which must
# refuse it.  It starts while the main one does, a few seconds less.
start_berth open --config "$T/berth.conf" --instance "$INST-open" >"$T/open.out" 2>&1 &
opening=$!
start_berth main --config "$T/berth.conf" --htpasswd "$T/htpasswd" --instance "$INST" || exit 1
wait "$opening"
cat "$T/open.out"
# start_berth ran in a subshell: what it would have set, from its info file.
PID_open=$(sed -n 2p "$T/up-open.info" 2>/dev/null)
[ -n "$PID_open" ] || { not_ok "berth-up open starts"; finish; exit 1; }
URL_open="http://127.0.0.1:$(sed -n 1p "$T/up-open.info")"
UP_PIDS+=("$PID_open")
API="$URL_main/api/v1"
cast_arrays

# ---- the kinds of object a path argument names -----------------------------------
# kind (the start of the argument's description) | how the suite gets one | a name that names nothing
#   owned REFS  oscar made it (the table below); REFS: every name it answers to
#   shared N    N is in berth.conf, every operator's (no owner to hide it from)
#   public N    N exists, anyone may read it
KINDS='
container      | owned $INST-ct $CT_ID | $INST-nosuch
service        | owned $INST-svc       | $INST-nosuch
job            | owned $JOB_ID         | 00000000deadbeef
network        | owned $INST-net       | $INST-nosuch
volume         | owned $INST-vol       | $INST-nosuch
stack          | owned $INST-stk       | $INST-nosuch
catalog entry  | shared mx             | nosuch
schema         | public container      | nosuch
'
# Routes whose argument names no object: METHOD PATH | the value to call it with | why.
EXCEPTIONS='
GET /sleep/{n} | 1 | seed 001: n is a number of seconds to sleep, it names nothing
POST /hooks/{token} | 0000000000000000000000000000000000000000000000000000000000000000 | a redeploy webhook: the token is its only credential (anonymous by design), a made-up one is 404
'

# oscar's objects of the owned kinds, made all at once.
make_objects() {
	cases --parallel <<'EOF'
oscar's container for the matrix | oscar | POST | $API/containers | @matrix/container.json | 201 | -> CT_ID=.id
oscar's service for the matrix   | oscar | POST | $API/services   | @matrix/service.json   | 201
oscar's job for the matrix       | oscar | POST | $API/jobs       | @matrix/job.json       | 202 | -> JOB_ID=.id
oscar's network for the matrix   | oscar | POST | $API/networks   | @matrix/network.json   | 201
oscar's volume for the matrix    | oscar | POST | $API/volumes    | @matrix/volume.json    | 201
oscar's stack for the matrix     | oscar | POST | $API/stacks     | @matrix/stack.json     | 201
oscar's container to connect     | oscar | POST | $API/containers | @matrix/member.json    | 201
EOF
}

# row_of TABLE KEY: sets FIELDS to the row of TABLE (KINDS, EXCEPTIONS)
# whose first column is KEY; false when there is none.  (Variables, not
# output: the plan asks for every route, and a $(...) per route is a fork
# per route.)
row_of() {
	local line
	while IFS= read -r line; do
		[ -n "$line" ] || continue
		split_row "$line"
		[ "${FIELDS[0]}" = "$2" ] && return 0
	done <<<"$1"
	return 1
}
rank() { case "$1" in viewer) RANK=1 ;; operator) RANK=2 ;; admin) RANK=3 ;; *) RANK=0 ;; esac; }

# The operations of an OpenAPI document, one a line: METHOD PATH ROLE SCHEMA
# ARG KIND (tab-separated, - for none; ARG and KIND - for a path without arguments,
# KIND "?" for an argument the document does not describe, and one line per
# argument beyond the first, which the matrix refuses).
operations() {
	jq -r '.paths | to_entries[] | .key as $p | .value | to_entries[] |
		(.value.parameters // [] | map(select(.in == "path")) |
			map({key: .name, value: (.description // "?" | split(" (")[0])}) | from_entries) as $args |
		([$p | scan("\\{([^}]+)\\}")[0]] | if length == 0 then [""] else . end)[] as $a |
		[(.key | ascii_upcase), $p, (.value["x-berth-role"] // "none"),
		 (.value.requestBody.content["application/json"].schema["$ref"] // "" | sub(".*/"; "")),
		 $a, (if $a == "" then "" else ($args[$a] // "?") end)] | map(if . == "" then "-" else . end) |
		@tsv' "$1"
}

# plan DOC: the matrix's rows for DOC, as case-table rows on stdout:
# refusals, lists and admin reads, which change nothing and may run at
# once, then the owner's calls on each kind (its removals last) as lines
# led by "@@KIND ", sequences that may run side by side as they touch
# different objects.  A route it
# cannot handle is a "PROBLEM ..." line.
plan() {
	local method path role schema arg kind r how missing body url seen=" " o list anon
	local refuse=() lists=() admin=() k
	local -A owner=() last=()
	while IFS=$'\t' read -r method path role schema arg kind; do
		[ "$schema" = - ] && schema=
		[ "$arg" = - ] && arg=
		rank "$role"
		r=$RANK
		body=-
		if [ -n "$schema" ]; then
			if [ -f "$CASES_DATA/matrix/$schema.json" ]; then
				body=@matrix/$schema.json
			else
				echo "PROBLEM $method $path: no body for schema $schema (tests/data/matrix/$schema.json)"
				continue
			fi
		fi
		[[ $seen == *" $method $path "* ]] && {
			echo "PROBLEM $method $path: more than one path argument ($arg too); the matrix takes one"
			continue
		}
		seen+="$method $path "
		how= missing= REFS=
		if [ -n "$arg" ]; then
			if row_of "$EXCEPTIONS" "$method $path"; then
				how="exception" REFS=${FIELDS[1]}
			elif row_of "$KINDS" "$kind"; then
				how=${FIELDS[1]} missing=${FIELDS[2]}
				case "$how" in
				owned\ *) REFS=${OBJ_REFS[$kind]-} ;;
				*) REFS=${how#* } ;;
				esac
				[ -n "$REFS" ] || { echo "PROBLEM $method $path: no $kind was made"; continue; }
			else
				echo "PROBLEM $method $path: {$arg} names a \"$kind\", a kind the matrix cannot make (add it to KINDS or EXCEPTIONS)"
				continue
			fi
		fi
		o=${REFS%% *}
		url=$URL_main${path/\{$arg\}/$o}
		anon=$URL_open${path/\{$arg\}/$o}
		# Refusals by role: nothing runs, whatever the object.
		if [ "$r" -ge 1 ]; then
			refuse+=("anonymous, $method $path: 401 | anonymous | $method | $url | $body | 401")
			refuse+=("anonymous without basic auth, $method $path: 401 | anonymous | $method | $anon | $body | 401")
		elif [ "$method" = GET ]; then
			refuse+=("anonymous, public $method $path: not refused | anonymous | GET | $anon | - | !401,403,5xx")
		fi
		[ "$r" -ge 2 ] && refuse+=("vic, $method $path: 403 | vic | $method | $url | $body | 403")
		[ "$r" -ge 3 ] && refuse+=("oscar, $method $path: 403 | oscar | $method | $url | $body | 403")
		[ -n "$arg" ] && [ "$how" != exception ] || continue
		if [ "$r" -le 2 ] && [ -n "$missing" ]; then
			subst "$missing"
			if [ "$r" = 0 ]; then
				refuse+=("nothing named $REPLY, $method $path: 404 | anonymous | $method | $URL_open${path/\{$arg\}/$REPLY} | $body | 404")
			else
				refuse+=("nothing named $REPLY, $method $path: 404 | oscar | $method | $URL_main${path/\{$arg\}/$REPLY} | $body | 404")
			fi
		fi
		case "$how" in
		public\ *)
			refuse+=("anyone reads $kind $o, $method $path | anonymous | $method | $anon | $body | 200")
			;;
		shared\ *)
			[ "$r" -le 2 ] && owner[$kind]+="any operator, $method $path on $kind $o: not refused | oscar | $method | $url | $body | !401,403,404,5xx"$'\n'
			;;
		owned\ *)
			[ "$r" -le 2 ] || continue
			for o in $REFS; do
				refuse+=("olga, $method $path on oscar's $kind $o: 404 | olga | $method | $URL_main${path/\{$arg\}/$o} | $body | 404")
				[ "$r" -le 1 ] &&
					refuse+=("vic, $method $path on oscar's $kind $o: 404 | vic | $method | $URL_main${path/\{$arg\}/$o} | $body | 404")
			done
			o="oscar, $method $path on his $kind: not refused | oscar | $method | $url | $body | !401,403,404,5xx"
			# Removals last; a sub-resource's (a hook's) before its object's own.
			if [ "$method" = DELETE ] && [[ $path == *\} ]]; then last[$kind]+=$o$'\n'
			elif [ "$method" = DELETE ]; then last[$kind]=$o$'\n'${last[$kind]-}
			else owner[$kind]+=$o$'\n'; fi
			[ "$method" = GET ] &&
				admin+=("alice, $method $path on oscar's $kind | alice | GET | $url | - | !401,403,404,5xx")
			# The list is the GET of the path before the argument, when there is one.
			list=${path%%/\{*}
			[[ $seen_lists == *" $kind $list "* ]] && continue
			seen_lists+=" $kind $list "
			grep -q "^GET"$'\t'"$list"$'\t' "$PLAN_OPS" || continue
			for o in $REFS; do
				lists+=("olga's GET $list hides oscar's $kind $o | olga | GET | $URL_main$list | - | 200 | body !~ $o")
				lists+=("vic's GET $list hides oscar's $kind $o | vic | GET | $URL_main$list | - | 200 | body !~ $o")
			done
			lists+=("oscar's GET $list has his $kind ${REFS%% *} | oscar | GET | $URL_main$list | - | 200 | body ~ ${REFS%% *}")
			lists+=("alice's GET $list has oscar's $kind ${REFS%% *} | alice | GET | $URL_main$list | - | 200 | body ~ ${REFS%% *}")
			;;
		esac
	done <"$PLAN_OPS"
	printf '%s\n' "${refuse[@]}" "${lists[@]}" "${admin[@]}"
	# Each kind's own calls are a sequence of their own, led by @@KIND.
	for k in "${!owner[@]}" "${!last[@]}"; do
		[ -n "${owner[$k]-}${last[$k]-}" ] || continue
		printf '%s' "${owner[$k]-}${last[$k]-}" | sed "s/^/@@${k// /_} /"
		owner[$k]= last[$k]=
	done
}

# ---- the document, the objects, the matrix --------------------------------------------
req GET "$API/openapi.json" "" "${V[@]}"
expect "the OpenAPI document" 200 .openapi 3.1.0
printf '%s' "$BODY" >"$T/openapi.json"
PLAN_OPS="$T/operations"
operations "$T/openapi.json" >"$PLAN_OPS"
check "the document has operations ($(wc -l <"$PLAN_OPS"))" test "$(wc -l <"$PLAN_OPS")" -gt 20

make_objects
declare -A OBJ_REFS=()
while IFS= read -r line; do
	[ -n "$line" ] || continue
	split_row "$line"
	kind=${FIELDS[0]} how=${FIELDS[1]}
	check "kind \"$kind\" is named by a route (else drop it from KINDS)" \
		grep -q $'\t'"$kind\$" "$PLAN_OPS"
	case "$how" in
	owned\ *)
		CASE_ERR=
		subst "${how#owned }"
		[ -z "$CASE_ERR" ] || not_ok "kind $kind: $CASE_ERR"
		OBJ_REFS[$kind]=$REPLY
		;;
	esac
done <<<"$KINDS"

seen_lists=" "
plan "$T/openapi.json" >"$T/plan"
while IFS= read -r line; do not_ok "${line#PROBLEM }"; done < <(grep '^PROBLEM ' "$T/plan")
check "every route is planned: $(grep -vc '^PROBLEM ' "$T/plan") cases" test -z "$(grep '^PROBLEM ' "$T/plan")"
# Refusals, lists and reads change nothing: their requests go all at once.
cases --parallel < <(grep -v '^PROBLEM \|^@@' "$T/plan")
# The owner's calls, a sequence per kind, the sequences side by side.
chains=()
for k in $(sed -n 's/^@@\([^ ]*\) .*/\1/p' "$T/plan" | sort -u); do
	sed -n "s/^@@$k //p" "$T/plan" >"$T/chain-$k"
	chains+=("$T/chain-$k")
done
cases_concurrently "${chains[@]}"

# ---- the guard itself --------------------------------------------------------------------
# A route of a kind nobody handled fails the matrix; so does one whose body it lacks.
jq '.paths["/api/v1/widgets/{wid}"] = {"get": {"parameters": [{"name": "wid", "in": "path",
	"description": "widget (a name)"}], "x-berth-role": "viewer"}} |
	.paths["/api/v1/gadgets"] = {"post": {"x-berth-role": "operator", "requestBody": {"content":
	{"application/json": {"schema": {"$ref": "#/components/schemas/gadget"}}}}}}' \
	"$T/openapi.json" >"$T/doctored.json"
operations "$T/doctored.json" >"$PLAN_OPS"
seen_lists=" "
plan "$T/doctored.json" >"$T/plan2"
check "a new route naming an unknown kind fails the matrix" grep -q '^PROBLEM GET /api/v1/widgets/{wid}: {wid} names a "widget"' "$T/plan2"
check "a new route with a body the matrix has no data for fails it" grep -q '^PROBLEM POST /api/v1/gadgets: no body for schema gadget' "$T/plan2"

# The tables' own guard, which the generated rows rely on (an object that
# was not made must not turn into a request on its list): a row naming an
# unset variable fails and makes no request.  In a subshell, so its
# failure is only looked at.
out=$(cases <<'EOF'
unset | oscar | POST | $API/containers | {"name":"$INST-guard$MX_NOT_SET","image":"$IMG"} | 201
EOF
)
check "a row with an unset variable fails" grep -q '^not ok .*unset (case table: \$MX_NOT_SET is not set)' <<<"$out"
cases <<'EOF'
the row with an unset variable made no request | oscar | GET | $API/containers/$INST-guard | - | 404
EOF

# All at once: each berth-up waits for its watchdog to remove what it made.
stop_berth "$PID_main" &
stop_berth "$PID_open" &
docker rmi -f "berth-cat-$INST/mx:1" >/dev/null 2>&1 &
wait
finish
