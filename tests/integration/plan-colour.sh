#!/bin/bash
# plan-colour.sh: `mxdeck plan` colours its diffs (removed lines red, added green, hunk
# headers cyan) when stdout is a terminal (a pty from script(1)) and NO_COLOR is unset,
# and never into a pipe, with NO_COLOR=1, with --no-color, TERM=dumb or with --json. The
# host's own escape bytes in a managed file never reach the terminal raw: every ESC in
# the coloured output starts one of our SGR sequences.
set -eu
. "$(dirname "$0")/../lab/push-lib.sh"
top=$(cd "$labtools/../.." && pwd)

cp "$top/share/examples/demo.ini" "$top/share/examples/demo-users.csv" "$lab/"
"$top/share/lab/demo-lab.sh" prepare "$lab" >/dev/null	# stock copies, the demo CA
dc=$lab/demo-sandbox/etc/dovecot/conf.d/99-mxdeck.conf
printf 'ssl = required\n# caf\xe9 \x1b]0;title\x07 \x1b[2J\n' >"$dc"

q=$(printf '%q' "$MXDECK")
ontty() {	# OUT ENV... -- ARGS...: run mxdeck on a pty, its output (and exit) in OUT
	local out=$1 envs=()
	shift
	while [ "$1" != -- ]; do envs+=("$1"); shift; done
	shift
	local cmd="$q $(printf '%q ' "$@")"
	env -u NO_COLOR TERM=xterm "${envs[@]}" script -qec "$cmd" /dev/null >"$out" 2>&1 </dev/null || true
	[ -s "$out" ] || die "$out: nothing captured from the pty"
	# stderr is the pty too: drop the progress line ("3/3 hosts; h1 done", rewritten in
	# place with carriage returns and blanks, tests/integration/progress-line.sh), i.e.
	# everything up to the last carriage return inside a line.
	sed -i -E 's/^.*\r([^\r])/\1/' "$out"
	grep -q '^=== host ' "$out" || grep -q '"hosts"' "$out" || { cat "$out"; die "$out: not a plan report"; }
}
esc=$(printf '\033')

# A terminal, NO_COLOR unset: the three colours, each line reset.
ontty "$lab/tty" -- plan "$lab/demo.ini"
grep -q "${esc}\[31m-# caf" "$lab/tty" || die "no red removed line on a terminal"
grep -q "${esc}\[32m+" "$lab/tty" || die "no green added line on a terminal"
grep -q "${esc}\[36m@@ " "$lab/tty" || die "no cyan hunk header on a terminal"
grep -q "^=== host .*${esc}" "$lab/tty" && die "the host line is coloured"
# Every ESC starts one of our SGR sequences: the file's ESC ] and ESC [2J are escaped text.
left=$(sed -E "s/${esc}\[(0|1|31|32|36)m//g" "$lab/tty" | tr -cd '\033' | wc -c)
[ "$left" -eq 0 ] || die "$left raw ESC bytes of the host's file reached the terminal"
grep -qF -- '-# caf\xe9 \x1b]0;title\x07 \x1b[2J' "$lab/tty" || die "the host's bytes are not shown escaped"
ok "plan on a terminal: removed red, added green, @@ cyan; the file's own ESC bytes stay escaped"

# NO_COLOR=1, --no-color, TERM=dumb on a terminal; --json on a terminal: not one ESC.
ontty "$lab/nocolor" NO_COLOR=1 -- plan "$lab/demo.ini"
ontty "$lab/noopt" -- --no-color plan "$lab/demo.ini"
ontty "$lab/dumb" TERM=dumb -- plan "$lab/demo.ini"
ontty "$lab/json" -- plan --json "$lab/demo.ini"
for f in nocolor noopt dumb json; do
	grep -q '^+++ b/\|+++ b/' "$lab/$f" || [ $f = json ] || die "$f: no diff at all"
	! grep -q "$esc" "$lab/$f" || die "$f: colour escapes in the output"
done
grep -q '"diff":"--- a/' "$lab/json" || die "json: no per-change diff"
ok "no colour with NO_COLOR=1, --no-color, TERM=dumb or --json, even on a terminal"

# A pipe (TERM set, NO_COLOR unset): plain text, the same diff as on the terminal.
rc=0; env -u NO_COLOR TERM=xterm "$MXDECK" plan "$lab/demo.ini" >"$lab/pipe" 2>&1 || rc=$?
[ $rc -eq 1 ] || die "plan into a pipe: exit $rc, want 1"
grep -q "^-# caf" "$lab/pipe" || die "pipe: no removed line"
! grep -q "$esc" "$lab/pipe" || die "pipe: colour escapes in piped output"
sed -E "s/${esc}\[(0|1|31|32|36)m//g; s/\r$//" "$lab/tty" | grep -v '^mxdeck: plan:' >"$lab/tty.plain"
grep -v '^mxdeck: plan:' "$lab/pipe" >"$lab/pipe.plain"
diff -u "$lab/pipe.plain" "$lab/tty.plain" >/dev/null || { diff -u "$lab/pipe.plain" "$lab/tty.plain" | head -20; die "the coloured report differs from the plain one in more than colour"; }
ok "into a pipe: no colour; the terminal's report is the same text plus colour"
