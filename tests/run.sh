#!/usr/bin/env bash
# tests/run.sh [unit|integration|tui|NAME...]: run the test suites and print one
# summary line "N passed, N failed, N skipped". Every test's output goes to
# $BUILD/test-logs/NAME.log; a failing test's log tail is printed.
set -u
cd "$(dirname "$0")/.."
BUILD=${BUILD:-build}
case $BUILD in /*) ;; *) BUILD=$PWD/$BUILD ;; esac	# BUILD may be relative or absolute
MXDECK=${MXDECK:-$BUILD/mxdeck}
export BUILD MXDECK
# Everything the tests use is installed: else stop here with the list of what is missing
# and its package, instead of tests failing later for an unclear reason.
if ! deps=$(tests/deps.sh --check 2>&1); then
	printf '%s\n' "$deps"
	echo "tests/run.sh: not running the tests: install what is missing first (tests/deps.sh)"
	exit 2
fi
logs=$BUILD/test-logs
mkdir -p "$logs"
pass=0 fail=0 skip=0
failed=()

run_one() {	# name, command...
	local name=$1 log="$logs/${1//\//-}.log" start end rc
	shift
	start=$(date +%s.%N)
	timeout --kill-after=10 "${TEST_TIMEOUT:-900}" "$@" >"$log" 2>&1 </dev/null
	rc=$?
	end=$(date +%s.%N)
	local secs
	secs=$(awk -v a="$start" -v b="$end" 'BEGIN { printf "%.1f", b - a }')
	case $rc in
	0)	pass=$((pass + 1)); printf 'PASS  %-40s %6ss\n' "$name" "$secs" ;;
	77)	skip=$((skip + 1)); printf 'SKIP  %-40s %6ss  (%s)\n' "$name" "$secs" "$(tail -n 1 "$log")" ;;
	*)	fail=$((fail + 1)); failed+=("$name")
		printf 'FAIL  %-40s %6ss  exit %d\n' "$name" "$secs" "$rc"
		tail -n 25 "$log" | sed 's/^/      | /' ;;
	esac
}

want() {	# is suite $1 or test $2 selected?
	local s
	for s in "${sel[@]}"; do
		[ "$s" = "$1" ] || [ "$s" = "$2" ] && return 0
	done
	return 1
}
sel=("$@")
[ ${#sel[@]} -eq 0 ] && sel=(unit integration tui)

for t in "$BUILD"/tests/test_*; do
	[ -x "$t" ] || continue
	want unit "$(basename "$t")" || continue
	run_one "unit/$(basename "$t")" "$t"
done
for suite in integration tui; do
	for t in tests/$suite/*.sh; do
		[ -x "$t" ] || continue
		name=$(basename "$t" .sh)
		want "$suite" "$name" || continue
		run_one "$suite/$name" "$t"
	done
done

echo
[ ${#failed[@]} -gt 0 ] && echo "failed: ${failed[*]}"
echo "$pass passed, $fail failed, $skip skipped"
[ "$fail" -eq 0 ]
