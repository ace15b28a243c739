#!/usr/bin/env bash
# tests/fuzz/run.sh: build the libFuzzer targets (tests/fuzz/fuzz_*.c) with
# clang -fsanitize=fuzzer,address,undefined and run each for N seconds.
#
#	tests/fuzz/run.sh [-s SECONDS] [-b] [-r] [TARGET...]
#
#	-s N	seconds per target (default $FUZZ_SECONDS, else 60)
#	-b	build only
#	-r	regression only: run every target once over its seed corpus and the inputs
#		in tests/fuzz/regress/<target>/ (no fuzzing; seconds, not minutes)
#	TARGET	fuzz_profile, profile, ... (default: every tests/fuzz/fuzz_*.c)
#
# Environment: FUZZ_BUILD (default build-fuzz) holds objects, binaries, the growing
# corpus (FUZZ_BUILD/corpus/TARGET; the checked-in seeds in tests/fuzz/corpus/TARGET
# are only read), logs and crash artifacts. FUZZ_JOBS (default 1) parallel fuzzers.
# FUZZ_NICE (default 10). Fuzzers run under `nice`; the machine is shared.
#
# One summary line per target: runs, exec/s, coverage (edges) and features, corpus
# size, peak RSS, and the verdict. Exit 0 when no target crashed, leaked, hit UB, timed
# out or ran out of memory; 1 otherwise (the artifact path and log tail are printed).
set -eu
cd "$(dirname "$0")/../.."
root=$PWD

seconds=${FUZZ_SECONDS:-60}
build_only=0
regress=0
while getopts "s:br" opt; do
	case $opt in
	s)	seconds=$OPTARG ;;
	b)	build_only=1 ;;
	r)	regress=1 ;;
	*)	echo "usage: $0 [-s SECONDS] [-b] [-r] [TARGET...]" >&2; exit 2 ;;
	esac
done
shift $((OPTIND - 1))

B=${FUZZ_BUILD:-build-fuzz}
mkdir -p "$B/obj" "$B/corpus" "$B/logs" "$B/artifacts"
B=$(cd "$B" && pwd)
CC=${FUZZ_CC:-clang}
NICE=${FUZZ_NICE:-10}

command -v "$CC" >/dev/null || { echo "fuzz: $CC not found (apt-get install clang)" >&2; exit 2; }

PKGS="ncursesw libssh2 openssl libcurl ldns libpcre2-8 expat"
pkg_cflags=$(pkg-config --cflags $PKGS)
pkg_libs=$(pkg-config --libs $PKGS)
SAN="-fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer"
CFLAGS="-std=c17 -D_POSIX_C_SOURCE=200809L -D_DEFAULT_SOURCE -g -O1 $SAN
	-Wall -Wextra -Werror -Wshadow -Wformat=2 -Wno-format-nonliteral
	$pkg_cflags -I. -DMXDECK_DATADIR=\"/usr/local/share/mxdeck\""

# --- build: every core source (as the Makefile's CORE_SRC) with fuzzer coverage ---
core_src=$(ls profiles/*.c backends/render/*.c backends/ssh/*.c backends/probe/*.c 2>/dev/null | sort)
newest_h=$(ls -t profiles/*.h backends/*/*.h 2>/dev/null | head -n 1)
objs=()
for src in $core_src; do
	obj=$B/obj/${src//\//_}
	obj=${obj%.c}.o
	if [ ! -e "$obj" ] || [ "$src" -nt "$obj" ] || [ "$newest_h" -nt "$obj" ]; then
		# shellcheck disable=SC2086
		if ! nice -n "$NICE" $CC $CFLAGS -fsanitize=fuzzer-no-link -c -o "$obj" "$src" \
		    2>"$B/logs/build-${src//\//_}.log"; then
			# Another engineer's file may be mid-edit: skip it; a target that
			# needs it then fails to link and says so.
			echo "fuzz: warning: $src does not compile, skipped (see $B/logs)" >&2
			rm -f "$obj"
			continue
		fi
	fi
	objs+=("$obj")
done
rm -f "$B/libmxdeck-fuzz.a"
ar rcs "$B/libmxdeck-fuzz.a" "${objs[@]}"

all_targets=()
for h in tests/fuzz/fuzz_*.c; do
	t=$(basename "$h" .c)
	all_targets+=("$t")
done
targets=()
if [ $# -eq 0 ]; then
	targets=("${all_targets[@]}")
else
	for t in "$@"; do
		case $t in fuzz_*) ;; *) t=fuzz_$t ;; esac
		[ -f "tests/fuzz/$t.c" ] || { echo "fuzz: no target $t" >&2; exit 2; }
		targets+=("$t")
	done
fi

build_fail=0
for t in "${targets[@]}"; do
	bin=$B/$t
	if [ ! -e "$bin" ] || [ "tests/fuzz/$t.c" -nt "$bin" ] || [ "$B/libmxdeck-fuzz.a" -nt "$bin" ]; then
		# shellcheck disable=SC2086
		if ! nice -n "$NICE" $CC $CFLAGS -fsanitize=fuzzer -o "$bin" "tests/fuzz/$t.c" \
		    "$B/libmxdeck-fuzz.a" $pkg_libs -lpthread -lm 2>"$B/logs/build-$t.log"; then
			echo "fuzz: $t does not build:" >&2
			tail -n 20 "$B/logs/build-$t.log" >&2
			build_fail=1
		fi
	fi
done
[ "$build_fail" -eq 0 ] || exit 1
[ "$build_only" -eq 0 ] || { echo "fuzz: built ${targets[*]} in $B"; exit 0; }

# --- run ---
# Per-target options: input size caps keep a run's time in parsing, not in pcre2 or
# in copying megabytes (the parsers' long-line limits are tested by the unit tests).
opts_for() {
	case $1 in
	fuzz_hdrrule)	echo "-max_len=2048" ;;
	fuzz_render)	echo "-max_len=8192" ;;
	*)		echo "-max_len=16384" ;;
	esac
}

status=0
for t in "${targets[@]}"; do
	seeds=tests/fuzz/corpus/${t#fuzz_}
	regdir=tests/fuzz/regress/${t#fuzz_}
	work=$B/corpus/${t#fuzz_}
	log=$B/logs/$t.log
	mkdir -p "$work"
	dict=()
	[ -f "tests/fuzz/${t#fuzz_}.dict" ] && dict=(-dict="tests/fuzz/${t#fuzz_}.dict")
	inputs=()
	[ -d "$seeds" ] && inputs+=("$seeds")
	[ -d "$regdir" ] && inputs+=("$regdir")
	set +e
	if [ "$regress" -eq 1 ]; then
		files=()
		for d in "${inputs[@]}"; do
			for f in "$d"/*; do [ -f "$f" ] && files+=("$f"); done
		done
		# shellcheck disable=SC2046
		nice -n "$NICE" "$B/$t" -runs=0 -timeout=10 -rss_limit_mb=2048 $(opts_for "$t") \
		    "${files[@]}" >"$log" 2>&1
		rc=$?
		set -e
		if [ $rc -eq 0 ]; then
			printf '%-22s regress: %d inputs, ok\n' "$t" "${#files[@]}"
		else
			printf '%-22s regress: FAILED (exit %d)\n' "$t" "$rc"
			grep -E 'ERROR|invariant|SUMMARY|Running:' "$log" | tail -n 8 | sed 's/^/    /'
			status=1
		fi
		continue
	fi
	# shellcheck disable=SC2046
	nice -n "$NICE" "$B/$t" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 \
	    -print_final_stats=1 -artifact_prefix="$B/artifacts/$t-" "${dict[@]}" \
	    $(opts_for "$t") "$work" "${inputs[@]}" >"$log" 2>&1
	rc=$?
	set -e
	runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -n 1)
	eps=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log" | tail -n 1)
	rss=$(sed -n 's/^stat::peak_rss_mb: *//p' "$log" | tail -n 1)
	last=$(grep -E '^#[0-9]+' "$log" | tail -n 1)
	cov=$(sed -n 's/.* cov: \([0-9]*\).*/\1/p' <<<"$last")
	ft=$(sed -n 's/.* ft: \([0-9]*\).*/\1/p' <<<"$last")
	corp=$(sed -n 's/.* corp: \([0-9]*\).*/\1/p' <<<"$last")
	if [ $rc -eq 0 ]; then
		verdict=ok
	else
		verdict="FAILED (exit $rc)"
		status=1
	fi
	printf '%-22s %4ss  runs %-9s %6s exec/s  cov %-5s ft %-6s corpus %-5s rss %sMB  %s\n' \
	    "$t" "$seconds" "${runs:-?}" "${eps:-?}" "${cov:-?}" "${ft:-?}" "${corp:-?}" "${rss:-?}" "$verdict"
	if [ $rc -ne 0 ]; then
		grep -E 'ERROR|invariant|SUMMARY|artifact|Test unit written' "$log" | tail -n 8 | sed 's/^/    /'
		echo "    log: $log"
	fi
done
exit $status
