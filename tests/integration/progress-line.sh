#!/bin/bash
# progress-line.sh: plan, apply and audit on the command line draw one updating line
# ("2/3 hosts; h2 validating") on stderr when stderr is a terminal (a real pty from
# script(1)); nothing when stderr is a pipe or a file, with --json, or with -q.
set -eu
. "$(dirname "$0")/../lab/push-lib.sh"

"$labtools/lab-hosts.sh" start "$lab" 3
light_profile >"$lab/site.ini"

# on_pty OUT CMD...: run CMD on a pty, its terminal output (stdout and stderr) in OUT;
# returns CMD's exit status.
on_pty() {
	local out=$1
	shift
	script -qefc "$(printf '%q ' "$@")" /dev/null >"$out" </dev/null
}
# The progress line: a carriage return, "N/3 hosts; hX STAGE", blanks over the rest.
has_line() { grep -qaP '\r[0-9]+/3 hosts; h[0-9] [a-z ]+' "$1"; }
no_trace() { ! grep -qaP 'hosts; h[0-9]' "$1"; }

rc=0
on_pty "$lab/plan.tty" "$MXDECK" --known-hosts "$lab/known_hosts" plan "$lab/site.ini" || rc=$?
[ $rc -eq 1 ] || { cat -v "$lab/plan.tty" | tail; die "plan on a pty: exit $rc, want 1 (drift)"; }
[ -s "$lab/plan.tty" ] || die "plan on a pty printed nothing"
has_line "$lab/plan.tty" || { cat -v "$lab/plan.tty" | head; die "plan on a pty: no progress line"; }
grep -qaP '\r3/3 hosts; h[0-9] done' "$lab/plan.tty" || die "plan: the line never reached 3/3"
grep -qaP 'hosts; h[0-9] (connecting|planning)' "$lab/plan.tty" || die "plan: no push stage in the line"
# The line is erased before the report: the report's lines are clean.
grep -qaP '(^|\r)=== host h1 \(.*\): drift: ' "$lab/plan.tty" || { cat -v "$lab/plan.tty" | head; die "plan report"; }
ok "plan on a terminal: one updating progress line, erased before the report"

# The line uses no escape sequence (a dumb terminal shows it as well): with NO_COLOR
# (no coloured diff) not one ESC byte reaches the terminal.
rc=0
on_pty "$lab/plain.tty" env NO_COLOR=1 TERM=dumb "$MXDECK" --known-hosts "$lab/known_hosts" plan \
    "$lab/site.ini" || rc=$?
[ $rc -eq 1 ] && has_line "$lab/plain.tty" || die "plan with TERM=dumb: exit $rc or no progress line"
! grep -qaP '\x1b' "$lab/plain.tty" || die "the progress line wrote an escape sequence"
ok "the line is carriage returns and blanks only (TERM=dumb, NO_COLOR)"

rc=0
mx plan "$lab/site.ini" 2>"$lab/plan.err" | cat >"$lab/plan.out" || rc=$?
[ -s "$lab/plan.out" ] || die "plan into a pipe printed nothing"
grep -q '^=== host h1' "$lab/plan.out" || die "plan into a pipe: no report"
no_trace "$lab/plan.out" && no_trace "$lab/plan.err" || die "plan into a pipe: progress line"
ok "plan into a pipe: no progress line"

# stdout a terminal, stderr a file: stderr is what counts.
rc=0
on_pty "$lab/plan2.tty" bash -c '"$1" --known-hosts "$2" plan "$3" 2>"$4"' sh "$MXDECK" \
    "$lab/known_hosts" "$lab/site.ini" "$lab/plan2.err" || rc=$?
[ $rc -eq 1 ] && [ -s "$lab/plan2.tty" ] || die "plan with stderr in a file: exit $rc"
no_trace "$lab/plan2.tty" && no_trace "$lab/plan2.err" || die "progress line with stderr in a file"
ok "stdout a terminal, stderr a file: no progress line"

for opt in --json -q; do
	rc=0
	on_pty "$lab/o.tty" "$MXDECK" --known-hosts "$lab/known_hosts" audit $opt "$lab/site.ini" ||
	    rc=$?
	[ -s "$lab/o.tty" ] || die "audit $opt on a pty printed nothing"
	no_trace "$lab/o.tty" || { cat -v "$lab/o.tty" | head; die "audit $opt on a pty: progress line"; }
done
ok "--json and -q on a terminal: no progress line"

rc=0
on_pty "$lab/apply.tty" "$MXDECK" --known-hosts "$lab/known_hosts" apply --yes "$lab/site.ini" ||
    rc=$?
[ $rc -eq 0 ] || { cat -v "$lab/apply.tty" | tail; die "apply on a pty: exit $rc"; }
has_line "$lab/apply.tty" || die "apply on a pty: no progress line"
grep -qaP 'hosts; h[0-9] validating' "$lab/apply.tty" || die "apply: no 'validating' stage"
ok "apply on a terminal: the line shows each host's stage (validating)"

# test: the same line over the probes (nothing listens on the lab hosts' SMTP port, so
# each probe fails fast; what matters is the line).
rc=0
MXDECK_PROBES=smtp MXDECK_PROBE_TIMEOUT=5 on_pty "$lab/test.tty" "$MXDECK" test "$lab/site.ini" ||
    rc=$?
[ -s "$lab/test.tty" ] || die "test on a pty printed nothing"
grep -qaP '\r[0-9]+/[0-9]+ probes; smtp ' "$lab/test.tty" ||
	{ cat -v "$lab/test.tty" | head; die "test on a pty: no progress line (exit $rc)"; }
rc=0
MXDECK_PROBES=smtp MXDECK_PROBE_TIMEOUT=5 "$MXDECK" test "$lab/site.ini" >"$lab/test.out" 2>&1 || rc=$?
[ -s "$lab/test.out" ] && ! grep -qaP 'probes; smtp' "$lab/test.out" ||
	die "test into a file: progress line or no output"
ok "test on a terminal: N/M probes line; into a file: none"
