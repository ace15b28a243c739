# checks.sh: the verdict helpers of the probe tests (tests/integration/probe-*.sh),
# sourced after probe-lab.sh. Every check prints one "ok   - " or "FAIL - " line and
# the script goes on; checks_done ends it, exit 1 when any check failed.
#
#   check "what is checked" eq "$got" "$want"
#   check "what is checked" has "$text" "$part"
#   checks_done

fails=0

check() {	# description, condition...
	local d=$1
	shift
	if "$@"; then
		echo "ok   - $d"
	else
		echo "FAIL - $d"
		fails=$((fails + 1))
	fi
}

eq() { [ "$1" = "$2" ] || { echo "     got '$1', want '$2'" >&2; return 1; }; }
has() { case $1 in *"$2"*) return 0 ;; esac; echo "     '$1' lacks '$2'" >&2; return 1; }

checks_done() {
	if [ "$fails" -gt 0 ]; then
		echo "$fails check(s) failed"
		exit 1
	fi
	echo "all checks passed"
}
