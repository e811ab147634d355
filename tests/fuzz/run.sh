#!/bin/bash
# tests/fuzz/run.sh - builds berth's libFuzzer harnesses (clang,
# -fsanitize=fuzzer,address,undefined) against the library sources and runs
# each one: first over its regression cases, then for SECONDS seconds from
# its seed corpus.  `make fuzz` calls it with the build's flags; tests/run
# runs it for a short time.  Prints TAP lines and a figures table.
#
# usage: run.sh [SECONDS] [HARNESS...]       (env: see the variables below)
#   FUZZ_SRCDIR    source tree (default: this script's ../..)
#   FUZZ_BUILDDIR  configured build tree holding config.h (default: tests/out/build)
#   FUZZ_OUT       where objects, binaries, work corpora and crashes go
#                  (default: $FUZZ_BUILDDIR/tests/fuzz)
#   FUZZ_CC        clang (default: clang)
#   FUZZ_SOURCES   the library's sources (default: every src/*/*.c)
#   FUZZ_CFLAGS, FUZZ_LIBS  library flags (default: from pkg-config)
# Exit: 0 all clean, 1 a harness crashed or did not build, 77 no usable clang.
set -u
[ -d /dev/shm ] && [ -w /dev/shm ] && export TMPDIR=${TMPDIR:-/dev/shm}
HERE=$(cd "$(dirname "$0")" && pwd)
SRC=${FUZZ_SRCDIR:-$(cd "$HERE/../.." && pwd)}
BUILD=${FUZZ_BUILDDIR:-$SRC/tests/out/build}
OUT=${FUZZ_OUT:-$BUILD/tests/fuzz}
CC=${FUZZ_CC:-clang}
SECONDS_EACH=${1:-${FUZZ_SECONDS:-60}}
[ $# -gt 0 ] && shift
PKGS="fcgi libcurl json-c libconfig libarchive libevent_core libcrypto yaml-0.1"
CFLAGS_LIBS=${FUZZ_CFLAGS:-$(pkg-config --cflags $PKGS 2>/dev/null)}
LIBS=${FUZZ_LIBS:-$(pkg-config --libs $PKGS 2>/dev/null || echo -lfcgi -lcurl -ljson-c -lconfig -larchive -levent_core -lcrypto -lyaml)}
SAN="-fsanitize=address,undefined -fno-sanitize-recover=undefined"
FLAGS="-g -O1 -fno-omit-frame-pointer -std=gnu11 -Wall -Wextra -Werror -I$BUILD -I$SRC/src $CFLAGS_LIBS"

mkdir -p "$OUT/obj" "$OUT/work" "$OUT/crashes"
[ -f "$BUILD/config.h" ] || { echo "fuzz: $BUILD/config.h missing: configure first" >&2; exit 1; }

# 1. A clang whose libFuzzer runtime links.
printf '#include <stdint.h>\n#include <stddef.h>\nint LLVMFuzzerTestOneInput(const uint8_t *d, size_t n) { (void)d; (void)n; return 0; }\n' >"$OUT/probe.c"
if ! "$CC" -fsanitize=fuzzer,address "$OUT/probe.c" -o "$OUT/probe" >"$OUT/probe.log" 2>&1; then
	echo "# SKIP fuzz: $CC cannot build libFuzzer programs (apt-get install clang)"
	exit 77
fi

# 2. The library, instrumented; rebuilt when a source or any header is newer.
if [ -n "${FUZZ_SOURCES:-}" ]; then
	sources=()
	for f in $FUZZ_SOURCES; do case "$f" in *.c) sources+=("$SRC/$f") ;; esac; done
else
	sources=()
	# modules.c holds the module table fz_setup registers; main.c stays out (libFuzzer has main).
	for f in "$SRC"/src/*/*.c "$SRC"/src/modules.c; do sources+=("$f"); done
fi
newest_h=$(ls -t "$SRC"/src/*.h "$SRC"/src/*/*.h "$BUILD/config.h" | head -1)
objs=()
for s in "${sources[@]}"; do
	o=${s#"$SRC"/src/}
	o="$OUT/obj/${o//\//_}"
	o=${o%.c}.o
	objs+=("$o")
	if [ ! "$o" -nt "$s" ] || [ ! "$o" -nt "$newest_h" ]; then
		echo "  CC-FUZZ $(basename "$s")"
		$CC $FLAGS $SAN -fsanitize=fuzzer-no-link -c "$s" -o "$o" || exit 1
	fi
done

# An archive, like libberth.a: a harness pulls in only the objects it needs.
lib="$OUT/libberth-fuzz.a"
if [ ! -f "$lib" ] || [ -n "$(find "${objs[@]}" -newer "$lib")" ]; then
	rm -f "$lib"
	ar rcs "$lib" "${objs[@]}" || exit 1
fi

harnesses=("$@")
if [ ${#harnesses[@]} -eq 0 ]; then
	for h in "$HERE"/fuzz-*.c; do harnesses+=("$(basename "$h" .c)"); done
fi

# Leaks inside third-party libraries that berth cannot fix are listed there.
export LSAN_OPTIONS="suppressions=$SRC/tests/lsan.supp:print_suppressions=0${LSAN_OPTIONS:+:$LSAN_OPTIONS}"
export UBSAN_OPTIONS="print_stacktrace=1${UBSAN_OPTIONS:+:$UBSAN_OPTIONS}"

rc=0
summary="$OUT/figures.txt"
printf '%-12s %10s %8s %10s %8s\n' harness execs seconds execs/s corpus >"$summary"
for h in "${harnesses[@]}"; do
	h=${h%.c}
	bin="$OUT/$h"
	if [ ! "$bin" -nt "$HERE/$h.c" ] || [ ! "$bin" -nt "$lib" ] || [ ! "$bin" -nt "$HERE/fuzz.h" ]; then
		echo "  LD-FUZZ $h"
		if ! $CC $FLAGS $SAN -fsanitize=fuzzer "$HERE/$h.c" "$lib" $LIBS -o "$bin"; then
			echo "not ok - fuzz: $h does not build"
			rc=1
			continue
		fi
	fi
	name=${h#fuzz-}
	# Regression cases: every crash ever found, run once each.
	regs=("$SRC/tests/fuzz/regressions/$name"/*)
	if [ -e "${regs[0]}" ]; then
		if "$bin" -runs=1 "${regs[@]}" >"$OUT/$h.regress.log" 2>&1; then
			echo "ok - fuzz: $h regressions (${#regs[@]} cases)"
		else
			echo "not ok - fuzz: $h regressions (see $OUT/$h.regress.log)"
			tail -30 "$OUT/$h.regress.log"
			rc=1
		fi
	fi
	mkdir -p "$OUT/work/$name"
	log="$OUT/$h.log"
	start=$(date +%s.%N)
	"$bin" -max_total_time="$SECONDS_EACH" -timeout=10 -rss_limit_mb=2048 -max_len=65536 \
		-print_final_stats=1 -artifact_prefix="$OUT/crashes/$name-" \
		"$OUT/work/$name" "$SRC/tests/fuzz/corpus/$name" >"$log" 2>&1
	hrc=$?
	took=$(awk -v a="$start" -v b="$(date +%s.%N)" 'BEGIN { printf "%.1f", b - a }')
	execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
	corpus=$(ls "$OUT/work/$name" | wc -l)
	execs=${execs:-0}
	rate=$(awk -v e="$execs" -v t="$took" 'BEGIN { printf "%d", (t > 0 ? e / t : 0) }')
	printf '%-12s %10s %8.0f %10s %8s\n' "$name" "$execs" "$took" "$rate" "$corpus" >>"$summary"
	if [ $hrc -eq 0 ] && [ "$execs" -gt 0 ]; then
		echo "ok - fuzz: $h ran $execs inputs in ${SECONDS_EACH} s without a finding"
	else
		echo "not ok - fuzz: $h exited $hrc after $execs inputs (log $log, crashes in $OUT/crashes)"
		grep -E 'ERROR|SUMMARY|runtime error|Test unit written' "$log" | head -10
		rc=1
	fi
done
echo "# fuzz figures ($SECONDS_EACH s each):"
sed 's/^/#   /' "$summary"
exit $rc
