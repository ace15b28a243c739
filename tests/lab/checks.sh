# checks.sh: the verdict helpers of the probe tests (tests/integration/probe-*.sh),
# sourced after probe-lab.sh. Every check prints one "ok   - " or "FAIL - " line and
# the script goes on; checks_done ends it, exit 1 when any check failed.
#
#   check "what is checked" eq "$got" "$want"
#   check "what is checked" has "$text" "$part"
#   check "what is checked" lacks FILE REGEX
#   checks_done
#
# A check that passes on the absence of something (no warning in a log, no header left in
# a message) passes on an empty or missing capture too: it calls captured first, which
# fails unless there is something to check. captured and lacks also work alone (sourced
# by tests that keep their own ok/bad lines).

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
# captured FILE [ERE]: FILE exists and is not empty (and has a line matching ERE: the
# capture is the one meant, e.g. the message's own Subject: line).
captured() {
	[ -s "$1" ] || { echo "     $1: missing or empty: nothing to check" >&2; return 1; }
	[ $# -lt 2 ] || grep -qE -- "$2" "$1" ||
		{ echo "     $1: no line matching /$2/: not the capture meant" >&2; return 1; }
}
# lacks FILE ERE [ERE-that-must-be-there]: captured, and no line matches ERE.
lacks() {
	captured "$1" ${3:+"$3"} || return 1
	! grep -qE -- "$2" "$1" || { echo "     $1 has /$2/: $(grep -m 3 -E -- "$2" "$1" | tr '\n' '|')" >&2; return 1; }
}
has() { case $1 in *"$2"*) return 0 ;; esac; echo "     '$1' lacks '$2'" >&2; return 1; }

checks_done() {
	if [ "$fails" -gt 0 ]; then
		echo "$fails check(s) failed"
		exit 1
	fi
	echo "all checks passed"
}
