#!/bin/bash
# The README's shell examples (and docs/'s marked ones), run as a reader runs
# them after ./run: against berth-up started the way ./run starts it (no
# --config: the built-in config, every caller a local admin, the default
# catalog), one fresh instance per document, with its port put in place of
# 4545.  Every ```sh block of README.md is marked: <!-- test: run --> blocks
# are run here, one bash -e each, with curl failing on any HTTP error;
# <!-- test: skip (why) --> blocks (installing, deploying) are not.  A
# trailing comment that starts with {, [ or " is the answer the line shows:
# it must appear in the block's output (whitespace aside; "..." is anything).
# Also: the policy refusal status every doc names is the one berth answers.
. "$(dirname "$0")/../lib.sh"

README="$SRC_DIR/README.md"

# --- ./run provides the images the examples name ------------------------------------
run_line=$(grep -n 'tests/images/build.sh' "$SRC_DIR/run" | head -1 | cut -d: -f1)
exec_line=$(grep -n '^exec .*berth-up' "$SRC_DIR/run" | head -1 | cut -d: -f1)
check "./run builds the local images (tests/images/build.sh) before it starts berth-up" \
	test -n "$run_line" -a -n "$exec_line" -a "${run_line:-0}" -lt "${exec_line:-0}"

# --- the blocks and their marks ----------------------------------------------------
# blocks FILE DIR: the file's runnable blocks as DIR/NN-lineL.sh; prints "unmarked L"
# for each shell block that carries no mark.
blocks() {
	mkdir -p "$2"
	awk -v dir="$2" '
		/^<!-- test: run -->$/ { mark = "run"; next }
		/^<!-- test: skip/ { mark = "skip"; next }
		/^```(sh|bash)$/ && !inblock {
			inblock = 1
			if (mark == "") print "unmarked " NR
			if (mark == "run") { n++; file = sprintf("%s/%02d-line%d.sh", dir, n, NR) } else file = ""
			mark = ""; next
		}
		/^```/ && !inblock { mark = ""; inblock = 2; next }
		/^```$/ && inblock { inblock = 0; next }
		inblock == 1 && file != "" { print > file }
		!/^[[:space:]]*$/ && !inblock { mark = "" }
	' "$1"
}

blocks "$README" "$T/README.md" >"$T/marks"
while read -r _ line; do
	not_ok "README.md:$line: a shell block without <!-- test: run --> or <!-- test: skip (why) -->"
done <"$T/marks"
check "every shell block of README.md is marked run or skip" test ! -s "$T/marks"
n_readme=$(ls "$T/README.md" | wc -l)
check "README.md has runnable examples ($n_readme)" test "$n_readme" -ge 5
# docs/: blocks marked run are run too (the rest are production how-tos).
for f in "$SRC_DIR"/docs/*.md; do blocks "$f" "$T/docs/${f##*/}" >/dev/null; done

# Images the runnable examples name are ones tests/images/build.sh makes.
for img in $(cat "$T"/README.md/*.sh "$T"/docs/*/*.sh 2>/dev/null |
	grep -oE 'berth-test/[a-z0-9._-]+:[A-Za-z0-9._-]+' | sort -u); do
	check "example image $img is built by ./run" \
		grep -qE -- "(-t |docker tag [^ ]+ )$img( |\$)" "$SRC_DIR/tests/images/build.sh"
done

# expect_in OUT WANT: WANT's pieces between "..." appear in order in OUT, whitespace aside.
expect_in() {
	local rest=${1//[[:space:]]/} want=${2//[[:space:]]/} piece
	while :; do
		piece=${want%%...*}
		[[ $rest == *"$piece"* ]] || return 1
		rest=${rest#*"$piece"}
		[[ $want == *...* ]] || return 0
		want=${want#*...}
	done
}

# curl as a script should call it: quiet, failing on HTTP errors, a newline after each answer.
PRELUDE='curl() { command curl -sS --fail-with-body --max-time 120 "$@" && echo; }'

# run_block DOC BLOCK: runs one block against $PORT and checks the answers it shows.
run_block() {
	local doc=$1 b=$2 name rc want info pid
	name="$doc:${b##*-line}"
	name=${name%.sh}
	sed -e "s/127\.0\.0\.1:4545/127.0.0.1:$PORT/g" -e "s/localhost:4545/127.0.0.1:$PORT/g" "$b" >"$b.run"
	PATH="$BUILD_DIR:$PATH" TMPDIR="$T/tmp" timeout 300 \
		bash -e -o pipefail -c "$PRELUDE"$'\n'"$(cat "$b.run")" >"$b.out" 2>&1
	rc=$?
	sed 's/^/  | /' "$b.out" # in the log only
	check "$name runs (exit $rc)" test "$rc" = 0
	while IFS= read -r want; do
		check "$name answers $want" expect_in "$(cat "$b.out")" "$want"
	done < <(sed -nE 's/^.*[[:space:]]#[[:space:]]+([{["].*)$/\1/p; s/^#[[:space:]]+([{["].*)$/\1/p' "$b")
	# A berth-up an example started in the background must end again (it
	# removes its FILE once it has cleaned up).
	for info in "$T"/tmp/tmp.*; do
		[ -e "$info" ] || continue
		pid=$(sed -n 2p "$info")
		if wait_for 30 test ! -e "$info"; then
			ok "$name: the berth-up it started ($pid) ends"
		else
			not_ok "$name: the berth-up it started ($pid) ends"
			[ -n "$pid" ] && UP_PIDS+=("$pid")
			rm -f "$info"
		fi
	done
}

# says FILE REGEX: FILE's text, whitespace folded to single spaces, matches REGEX.
says() { tr -s ' \n\t' '   ' <"$SRC_DIR/$1" | grep -qE -- "$2"; }

# The status berth answers a policy refusal with is the one every doc names.
policy_status_documented() {
	local s
	req POST "$URL/api/v1/containers" '{"image": "berth-test/busybox", "command": ["true"]}'
	s=$STATUS
	check "a policy refusal (an image without a tag) is $s forbidden" test "$(jqb .error.code)" = forbidden
	check "README.md: policy refusals are $s" says README.md "Policy refusals \([^)]*\) are $s"
	check "docs/configuration.md: outside the policy is $s" \
		says docs/configuration.md "requests outside the policy answer $s"
	check "docs/jobs.md: policy refusals are $s" says docs/jobs.md "Policy refusals are .$s."
	check "berth.conf(5): what the policy does not allow is $s" \
		says man/berth.conf.5 "Anything not allowed is refused with $s"
	check "no doc calls a policy refusal a 422" bash -c \
		"! cat '$SRC_DIR'/README.md '$SRC_DIR'/docs/*.md '$SRC_DIR'/man/* | tr -s ' \n' '  ' |
			grep -qiE '(outside the policy|not allowed|policy refusals?)[^.;]{0,40} 422'"
}

# --- run them, each document against its own berth-up started as ./run starts it ---
mkdir -p "$T/tmp"
k=0
for dir in "$T/README.md" "$T"/docs/*; do
	[ "$dir" = "$T/README.md" ] || [ -n "$(ls "$dir" 2>/dev/null)" ] || continue
	doc=${dir#"$T/"} k=$((k + 1))
	inst="t-readme-$$-$k"
	start_berth doc --instance "$inst" || exit 1
	PORT=${URL##*:}
	for b in "$dir"/*.sh; do [ -e "$b" ] && run_block "$doc" "$b"; done
	[ "$doc" = README.md ] && policy_status_documented
	req GET "$URL/api/v1/health"
	expect "$doc: berth-up still serves after its examples" 200
	stop_berth "$PID_doc"
	check "$doc: stopping berth-up removed what the examples made" \
		test -z "$(docker ps -aq --filter "label=berth.instance=$inst")"
done
finish
