# tests/cases.sh - case tables, the standard cast of users, and keyword
# groups for the integration suites (sourced by tests/lib.sh).  A suite
# states its cases as rows instead of building JSON inside shell strings,
# and a group of cases can run alone: TEST_KEYWORDS, or tests/run
# SUITE:KEYWORD[,KEYWORD...].  tests/README.md describes the format.

# ---- the cast -------------------------------------------------------------
# The standard users every suite may use: NAME:ROLE:PASSWORD.
CAST=(alice:admin:a oscar:operator:o olga:operator:g vic:viewer:v)

# cast_users [NAME...]: berth.conf's users block for the cast (or only NAMEs).
cast_users() {
	local c out="users = {"
	for c in "${CAST[@]}"; do
		[ $# -eq 0 ] || [[ " $* " == *" ${c%%:*} "* ]] || continue
		out+=" ${c%%:*} = \"$(cut -d: -f2 <<<"$c")\";"
	done
	printf '%s };\n' "$out"
}

# cast_htpasswd FILE [USER:PASSWORD...]: nginx basic auth for the cast and
# the extra users given (who have no role unless the config names them).
cast_htpasswd() {
	local file=$1 c
	shift
	: >"$file"
	for c in "${CAST[@]}"; do htpasswd_line "${c%%:*}" "${c##*:}" >>"$file"; done
	for c in "$@"; do htpasswd_line "${c%%:*}" "${c#*:}" >>"$file"; done
}

# who_args WHO: sets WHO_ARGS, the curl arguments that make a request WHO's.
# WHO is a cast name, anonymous (no credentials), or USER:PASSWORD.
who_args() {
	local c
	WHO_ARGS=()
	case "$1" in
	anonymous) return 0 ;;
	*:*) WHO_ARGS=(-u "$1"); return 0 ;;
	esac
	for c in "${CAST[@]}"; do
		[ "${c%%:*}" = "$1" ] && { WHO_ARGS=(-u "$1:${c##*:}"); return 0; }
	done
	return 1
}

# cast_arrays: A O G V, the cast's curl arguments for procedural parts.
cast_arrays() {
	who_args alice; A=("${WHO_ARGS[@]}")
	who_args oscar; O=("${WHO_ARGS[@]}")
	who_args olga; G=("${WHO_ARGS[@]}")
	who_args vic; V=("${WHO_ARGS[@]}")
}

# ---- groups and keywords -----------------------------------------------------
# A suite declares its groups once, one a line on stdin:
#   NAME [TAG...] [needs: NAME...]
# TEST_KEYWORDS (words split by commas or spaces) selects the groups whose
# name or a tag is one of its words; !WORD leaves out those that match; a
# selected group brings the groups it needs, even left-out ones.  No
# TEST_KEYWORDS: every group runs.
declare -A GROUP_ON=() GROUP_DECLARED=()
GROUPS_DECLARED= GROUP_LIST=()
groups() {
	local line name tags needs w words want=() skip=() known=" " changed n
	local -A need_of=() tags_of=()
	GROUPS_DECLARED=1
	while IFS= read -r line; do
		line=${line%%#*}
		read -r name tags <<<"$line"
		[ -n "$name" ] || continue
		needs=
		[[ $tags == *needs:* ]] && { needs=${tags#*needs:}; tags=${tags%%needs:*}; }
		GROUP_DECLARED[$name]=1
		GROUP_LIST+=("$name")
		tags_of[$name]=" $name $tags "
		need_of[$name]=$needs
		known+="$name $tags "
	done
	words=${TEST_KEYWORDS:-}
	for w in ${words//,/ }; do
		case "$w" in
		!*) skip+=("${w#!}") ;;
		*) want+=("$w") ;;
		esac
		[[ $known == *" ${w#!} "* ]] ||
			not_ok "TEST_KEYWORDS: '${w#!}' names no group of $SUITE (groups: ${GROUP_LIST[*]})"
	done
	for name in "${GROUP_LIST[@]}"; do
		n=${#want[@]}
		for w in "${want[@]}"; do [[ ${tags_of[$name]} == *" $w "* ]] && n=0; done
		for w in "${skip[@]}"; do [[ ${tags_of[$name]} == *" $w "* ]] && n=1; done
		[ "$n" = 0 ] && GROUP_ON[$name]=1
	done
	changed=1
	while [ -n "$changed" ]; do
		changed=
		for name in "${!GROUP_ON[@]}"; do
			for w in ${need_of[$name]}; do
				[ -n "${GROUP_ON[$w]-}" ] && continue
				GROUP_ON[$w]=1
				changed=1
			done
		done
	done
	if [ -n "${TEST_KEYWORDS:-}" ]; then
		words=
		for name in "${GROUP_LIST[@]}"; do [ -n "${GROUP_ON[$name]-}" ] && words+=" $name"; done
		echo "# $SUITE: TEST_KEYWORDS=$TEST_KEYWORDS runs only:$words"
	fi
}

# group NAME: true when group NAME runs (see groups).
group() {
	if [ -z "$GROUPS_DECLARED" ]; then
		[ -z "${TEST_KEYWORDS:-}" ] && return 0
		not_ok "group $1: $SUITE declares no groups, TEST_KEYWORDS cannot select"
		return 1
	fi
	[ -n "${GROUP_DECLARED[$1]-}" ] || { not_ok "group $1 is not declared"; return 1; }
	[ -n "${GROUP_ON[$1]-}" ]
}

# Keywords given to a suite that declares no groups (no line starting
# "groups <<") would run all of it: refused before anything runs.
if [ -n "${TEST_KEYWORDS:-}" ] && ! grep -q '^groups <<' "$0" 2>/dev/null; then
	not_ok "TEST_KEYWORDS=$TEST_KEYWORDS but $SUITE declares no groups"
	finish
	exit 1
fi

# ---- case tables ---------------------------------------------------------------
CASES_DATA=${CASES_DATA:-$TESTS_DIR/data}

# subst TEXT: sets REPLY to TEXT with $NAME and ${NAME} (shell variables whose
# name starts with an upper-case letter) replaced by their values and \$ by a
# plain $.  Only those names, so the shell snippets a body carries ($i,
# $((i+1))) stay as they are.  An unset variable is an error (CASE_ERR),
# never an empty string.
subst() {
	local s=$1 out= pre name
	while [[ $s == *'$'* ]]; do
		pre=${s%%'$'*}
		s=${s#*'$'}
		if [[ $pre == *'\' ]]; then
			out+=${pre%'\'}'$'
			continue
		fi
		out+=$pre
		if [[ $s =~ ^\{([A-Z][A-Za-z0-9_]*)\}(.*)$ ]] || [[ $s =~ ^([A-Z][A-Za-z0-9_]*)(.*)$ ]]; then
			name=${BASH_REMATCH[1]}
			s=${BASH_REMATCH[2]}
			[ -n "${!name+x}" ] || CASE_ERR="\$$name is not set"
			out+=${!name-}
		else
			out+='$'
		fi
	done
	REPLY=$out$s
}

# status_is GOT SPEC: SPEC is NNN[,NNN...], optionally led by ! (none of
# them); an x stands for any digit (4xx).
status_is() {
	local got=$1 spec=$2 neg=0 s
	[[ $spec == '!'* ]] && { neg=1; spec=${spec#!}; }
	for s in ${spec//,/ }; do
		if [[ $got == ${s//x/[0-9]} ]]; then return $neg; fi
	done
	return $((1 - neg))
}

# run_words TEXT: runs TEXT, split on blanks after subst (REPLY is the
# command as run).
run_words() {
	local w
	subst "$1"
	read -r -a w <<<"$REPLY"
	"${w[@]}"
}

# case_value ASSERTION: evaluates one assertion on the last reply; sets
# CASE_WHY when it does not hold.  Forms: FILTER = EXPECTED, FILTER !=
# EXPECTED (jq -r on the body), body ~ ERE, body !~ ERE, headers ~ ERE,
# run COMMAND ARG... (split on blanks, after substitution), time < SECONDS
# (the whole request, whole seconds).
case_value() {
	local a=$1 f want got op
	CASE_WHY=
	case "$a" in
	'run '*)
		run_words "${a#run }" || CASE_WHY="failed: $REPLY"
		return
		;;
	'time < '*)
		# curl's time_total, in whole seconds as $SECONDS would count them
		[ "${CASE_TIME%.*}" -lt "${a#time < }" ] || CASE_WHY="took $CASE_TIME s"
		return
		;;
	'body ~ '* | 'body !~ '* | 'headers ~ '* | 'headers !~ '*)
		subst "${a#* * }"
		want=$REPLY
		got=$BODY
		[[ $a == headers* ]] && got=$HDRS
		if grep -Eqi -- "$want" <<<"$got"; then op=1; else op=0; fi
		[[ $a == *' !~ '* ]] && op=$((1 - op))
		[ "$op" = 1 ] || CASE_WHY="${a%% *} does not match: $(printf '%.200s' "$got")"
		return
		;;
	esac
	# The last " = " or " != " splits: jq's own != may sit in the filter.
	if [[ $a =~ ^(.*)\ (!?=)\ (.*)$ ]]; then
		f=${BASH_REMATCH[1]} op=${BASH_REMATCH[2]} want=${BASH_REMATCH[3]}
	else
		CASE_WHY="not an assertion: $a"
		return
	fi
	subst "$f"
	f=$REPLY
	subst "$want"
	want=$REPLY
	got=$(jqb "$f")
	if [ "$op" = = ] && [ "$got" != "$want" ]; then
		CASE_WHY="$f = '$got', wanted '$want'"
	elif [ "$op" = '!=' ] && [ "$got" = "$want" ]; then
		CASE_WHY="$f = '$got', wanted anything else"
	fi
}

# split_row LINE: sets FIELDS to LINE's columns (split on " | ", trimmed).
split_row() {
	local rest=$1 x
	FIELDS=()
	while [[ $rest == *' | '* ]]; do
		FIELDS+=("${rest%% | *}")
		rest=${rest#* | }
	done
	FIELDS+=("$rest")
	for x in "${!FIELDS[@]}"; do
		FIELDS[x]=${FIELDS[x]#"${FIELDS[x]%%[![:space:]]*}"}
		FIELDS[x]=${FIELDS[x]%"${FIELDS[x]##*[![:space:]]}"}
	done
}

# A table's rows run in batches: one curl process makes every request of a
# batch, in order, over kept-alive connections, and the replies are judged
# afterwards.  Forking a curl and a few cats per row made a table of
# hundreds of rows (the generated matrix) cost minutes on a loaded
# machine.  A row that captures (->) or runs a command ends its batch, so
# later rows see what it set and its command sees the state right after
# its request; a row that does something first (do) starts one.
CASE_N=0 CASE_REQS=0 CASE_DO_ERR=
CASE_NAME=() CASE_STATUS=() CASE_CHECKS=() CASE_ERRS=() CASE_CODE=() CASE_TIMES=()

# slurp FILE: sets REPLY to FILE's contents without their last line breaks
# (as $(cat FILE) would, without the fork); empty when there is no FILE.
slurp() {
	REPLY=
	[ -f "$1" ] && IFS= read -r -d '' REPLY <"$1"
	REPLY=${REPLY%"${REPLY##*[!$'\n']}"}
	return 0
}

# cfg_line OPTION VALUE: appends one line of curl config to CASE_CFG,
# VALUE quoted as curl -K wants it.
cfg_line() {
	local v=${2//\\/\\\\}
	CASE_CFG+="$1 = \"${v//\"/\\\"}\""$'\n'
}

# case_parse LINE: adds one row of a table (see cases) to the batch; sets
# CASE_FLUSH when the batch must run right after it.  A row with an error
# (an unset variable, an unknown user) makes no request.
case_parse() {
	local line=$1 f name who method body n checks=() ct=1 a req= dos=()
	split_row "$line"
	f=("${FIELDS[@]}")
	for a in "${f[@]:6}"; do [[ $a == 'do '* ]] && dos+=("${a#do }"); done
	# A row that does something first: what came before it is asked first.
	if [ ${#dos[@]} -gt 0 ]; then
		[ -n "$CASE_PARALLEL" ] || case_flush
		for a in "${dos[@]}"; do
			run_words "$a" || CASE_DO_ERR="do $REPLY failed"
		done
	fi
	n=$CASE_N
	CASE_NAME[n]=$line CASE_STATUS[n]= CASE_CHECKS[n]= CASE_ERRS[n]=
	CASE_N=$((n + 1))
	if [ ${#f[@]} -lt 6 ]; then
		CASE_ERRS[n]="fewer than 6 columns" CASE_DO_ERR=
		return
	fi
	CASE_ERR=$CASE_DO_ERR CASE_DO_ERR=
	subst "${f[0]}"; name=$REPLY
	subst "${f[1]}"; who=$REPLY
	method=${f[2]}
	CASE_NAME[n]=$name CASE_STATUS[n]=${f[5]}
	CASE_CFG=$'silent\nshow-error\nmax-time = 60\n'
	subst "${f[3]}"; cfg_line url "$REPLY"
	cfg_line request "$method"
	cfg_line output "$CASE_DIR/$n.body"
	cfg_line dump-header "$CASE_DIR/$n.hdrs"
	cfg_line write-out "$n %{http_code} %{time_total}\n"
	[ "$method" = HEAD ] && CASE_CFG+=$'head\n'
	who_args "$who" || CASE_ERR="no such user: $who"
	[ ${#WHO_ARGS[@]} = 2 ] && cfg_line user "${WHO_ARGS[1]}"
	for a in "${f[@]:6}"; do
		case "$a" in
		'hdr '*)
			subst "${a#hdr }"
			cfg_line header "$REPLY"
			[[ ${REPLY,,} == content-type:* ]] && ct=0
			;;
		'-> '* | 'run '*) CASE_FLUSH=1; checks+=("$a") ;;
		'do '*) ;;
		*) checks+=("$a") ;;
		esac
	done
	[ ${#checks[@]} = 0 ] || printf -v 'CASE_CHECKS[n]' '%s\x1f' "${checks[@]}"
	body=${f[4]}
	case "$body" in
	-) ;;
	"''") req=$CASE_DIR/$n.req; : >"$req" ;;
	@*)
		subst "${body#@}"
		if [[ $REPLY == /* ]]; then # a file the suite made: sent as it is
			req=$REPLY
		elif [ -f "$CASES_DATA/$REPLY" ]; then
			slurp "$CASES_DATA/$REPLY"
			subst "$REPLY"
			req=$CASE_DIR/$n.req
			printf '%s' "$REPLY" >"$req"
		else
			CASE_ERR="no data file $CASES_DATA/$REPLY"
		fi
		;;
	*)
		subst "$body"
		req=$CASE_DIR/$n.req
		printf '%s' "$REPLY" >"$req"
		;;
	esac
	if [ -n "$req" ]; then
		cfg_line data-binary "@$req"
		[ $ct = 1 ] && cfg_line header 'Content-Type: application/json'
	fi
	CASE_ERRS[n]=$CASE_ERR
	[ -z "$CASE_ERR" ] || return 0
	[ "$CASE_REQS" = 0 ] || CASE_CFG="next"$'\n'$CASE_CFG
	printf '%s' "$CASE_CFG" >>"$CASE_DIR/batch.cfg"
	CASE_REQS=$((CASE_REQS + 1))
}

# case_judge N: the lines of row N of the batch, from its reply (STATUS,
# BODY and HDRS are set to it, as req sets them).
case_judge() {
	local n=$1 name=${CASE_NAME[$1]} status=${CASE_STATUS[$1]} checks=() a x first=
	if [ -n "${CASE_ERRS[n]}" ]; then
		not_ok "$name (case table: ${CASE_ERRS[n]})"
		return
	fi
	STATUS=${CASE_CODE[n]:-000} CASE_TIME=${CASE_TIMES[n]:-0}
	slurp "$CASE_DIR/$n.body"; BODY=$REPLY
	slurp "$CASE_DIR/$n.hdrs"; HDRS=$REPLY
	IFS=$'\x1f' read -r -a checks <<<"${CASE_CHECKS[n]}"
	# Captures first: they read the reply, and later columns may use them.
	for a in "${checks[@]}"; do
		[[ $a == '-> '* ]] || continue
		x=${a#-> }
		printf -v "${x%%=*}" '%s' "$(jqb "${x#*=}")"
	done
	# The first line covers the status and the first assertion, as expect
	# does: a wrong status is that line's failure, whatever the assertion.
	if ! status_is "$STATUS" "$status"; then
		not_ok "$name (status $STATUS, wanted $status: $(printf '%.300s' "$BODY"))"
		first=status
	fi
	for a in "${checks[@]}"; do
		[[ $a == '-> '* ]] && continue
		if [ "$first" = status ]; then
			first=done
			continue
		fi
		case_value "$a"
		if [ -z "$first" ]; then
			first=done
			if [ -n "$CASE_WHY" ]; then not_ok "$name ($CASE_WHY)"; else ok "$name"; fi
		elif [ -n "$CASE_WHY" ]; then
			not_ok "$name: $a ($CASE_WHY)"
		else
			ok "$name: $a"
		fi
	done
	[ -n "$first" ] || ok "$name"
}

# case_flush: makes the batch's requests, one curl for all, and judges them.
case_flush() {
	local n code t
	CASE_CODE=() CASE_TIMES=()
	[ "$CASE_N" -gt 0 ] || return 0
	if [ "$CASE_REQS" -gt 0 ]; then
		curl ${CASE_PARALLEL:+--parallel --parallel-max 8} -K "$CASE_DIR/batch.cfg" >"$CASE_DIR/codes" 2>"$T/curl.err"
		while read -r n code t; do CASE_CODE[n]=$code CASE_TIMES[n]=$t; done <"$CASE_DIR/codes"
	fi
	for ((n = 0; n < CASE_N; n++)); do case_judge "$n"; done
	CASE_N=0 CASE_REQS=0
	CASE_NAME=() CASE_STATUS=() CASE_CHECKS=() CASE_ERRS=()
	rm -rf "$CASE_DIR"
	mkdir -p "$CASE_DIR"
}

# cases [--parallel] [GROUP] <<'EOF': runs a table of cases, one a line
# (only when GROUP runs, if one is named).  Columns, split on " | " (a blank, a bar,
# a blank: write jq's pipe without blanks, .a|length):
#   NAME | WHO | METHOD | URL | BODY | STATUS [| ASSERTION...]
# WHO: a cast name, anonymous or USER:PASSWORD.  BODY: - (none), '' (empty),
# inline JSON, @FILE (tests/data/FILE, variables filled in) or @/PATH (sent
# as it is).  STATUS: 200, 200,201, !404, 4xx.  Each further column is an
# assertion (see case_value), "-> NAME=FILTER" (sets NAME from the reply,
# jq -r), "hdr Name: value" (a request header) or "do COMMAND ARG..." (run
# before the request, split on blanks; the row fails when it fails).  $NAME/${NAME} are
# filled in from shell variables in every column (see subst).  A line ending
# in " \" continues on the next; blank lines and lines starting with #
# are skipped.  The first line a row prints covers the status and the first
# assertion, like expect; every further assertion prints its own.  Rows
# run in order; afterwards STATUS, BODY and HDRS are the last row's reply.
# --parallel makes the table's requests at once (curl --parallel, 8 at a time)
# and judges them in order afterwards: rows that do not depend on each
# other, whose captures only later tables use.
cases() {
	local line row=
	CASE_PARALLEL=
	[ "${1-}" = --parallel ] && { CASE_PARALLEL=1; shift; }
	if [ $# -gt 0 ] && ! group "$1"; then
		cat >/dev/null
		return 0
	fi
	CASE_DIR=$T/${CASE_DIR_NAME:-cases} CASE_N=0 CASE_REQS=0
	rm -rf "$CASE_DIR"
	mkdir -p "$CASE_DIR"
	while IFS= read -r line; do
		[ -n "$row" ] && line=${line#"${line%%[![:space:]]*}"}
		if [[ $line == *' \' ]]; then
			row+="${line%\\}"
			continue
		fi
		row+=$line
		line=$row
		row=
		[[ $line =~ ^[[:space:]]*(#|$) ]] && continue
		CASE_FLUSH=
		case_parse "$line"
		[ -n "$CASE_FLUSH" ] && [ -z "$CASE_PARALLEL" ] && case_flush
	done
	case_flush
}

# cases_concurrently FILE...: runs each FILE as a table (see cases), all at
# once, each in a subshell of its own; their lines come out file by file
# and count as the suite's.  For sequences that touch different objects
# (the matrix's calls on each kind), so that the slowest, not their sum,
# is what they cost.
cases_concurrently() {
	local i pids=() line
	for ((i = 1; i <= $#; i++)); do
		(CASE_DIR_NAME=cases-$i cases <"${!i}") >"$T/concurrent-$i.out" 2>&1 &
		pids+=($!)
	done
	for ((i = 1; i <= $#; i++)); do
		wait "${pids[i - 1]}"
		while IFS= read -r line; do
			echo "$line"
			case "$line" in
			"ok - "*) PASSED=$((PASSED + 1)) ;;
			"not ok - "*) FAILED=$((FAILED + 1)) ;;
			esac
		done <"$T/concurrent-$i.out"
	done
}
