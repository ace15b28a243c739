#!/bin/bash
# first-run.sh: what a new user meets first.
#   mxdeck init [EXAMPLE] copies an example (and the users CSV it names) to
#   $XDG_CONFIG_HOME/mxdeck/site.ini (else ~/.config), byte for byte, never over an
#   existing file, says what it wrote and what to do next; `mxdeck` alone then opens it;
#   an unknown first word that is no file says "unknown command" with the list, `mxdeck
#   help` is the usage; a local command that fails is "failed" with its output, never
#   "unreachable", and an apply then changes nothing; the data directory follows PREFIX
#   (`make install PREFIX=/usr` after a plain `make`), `make uninstall` removes the install.
set -eu
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
BUILD=${BUILD:-build}
case $BUILD in /*) ;; *) BUILD=$ROOT/$BUILD ;; esac
MXDECK=${MXDECK:-$BUILD/mxdeck}
[ -x "$MXDECK" ] || { echo "FAIL $MXDECK not built"; exit 1; }
command -v tmux >/dev/null || { echo "tmux not installed"; exit 77; }
export MXDECK
. "$ROOT/tests/tui/lib/tmux.bash"	# TUI_DIR (removed on exit), tui_start, tui_wait
. "$ROOT/tests/lab/checks.sh"		# check, eq, has, captured, lacks, checks_done
T=$TUI_DIR
EX=$ROOT/share/examples
unset XDG_CONFIG_HOME
run() {	# out-file, command...: $rc, stdout+stderr in the file
	local out=$1
	shift
	rc=0
	"$@" >"$out" 2>&1 </dev/null || rc=$?
}

# --- init ---
run "$T/init1" env XDG_CONFIG_HOME="$T/cfg" "$MXDECK" init
check "init: exit 0" eq "$rc" 0
check "init: the client-access profile copied byte for byte" cmp "$EX/client-access.ini" "$T/cfg/mxdeck/site.ini"
check "init: the users CSV it names copied beside it" cmp "$EX/cas-export.csv" "$T/cfg/mxdeck/cas-export.csv"
check "init: says what it wrote" has "$(cat "$T/init1")" "wrote $T/cfg/mxdeck/site.ini"
check "init: says what to do next (lint, doctor, plan)" \
    captured "$T/init1" "mxdeck doctor $T/cfg/mxdeck/site.ini"
check "init: the profile is 0600 in a 0700 directory" \
    eq "$(stat -c %a "$T/cfg/mxdeck/site.ini" "$T/cfg/mxdeck")" "$(printf '600\n700')"
check "init: the copy lints (its CSV found)" "$MXDECK" lint "$T/cfg/mxdeck/site.ini"

echo "; my edits" >>"$T/cfg/mxdeck/site.ini"
cp "$T/cfg/mxdeck/site.ini" "$T/edited.ini"
run "$T/init2" env XDG_CONFIG_HOME="$T/cfg" "$MXDECK" init connector
check "init over an existing profile: refused (exit 2)" eq "$rc" 2
check "init over an existing profile: says it exists and is not overwritten" \
    captured "$T/init2" "site.ini already exists; not overwriting it"
check "init over an existing profile: the profile is untouched" cmp "$T/edited.ini" "$T/cfg/mxdeck/site.ini"

# the CSV alone in the way: nothing written at all (no half-done init)
mkdir -p "$T/cfg2/mxdeck"
echo "mine" >"$T/cfg2/mxdeck/demo-users.csv"
run "$T/init3" env XDG_CONFIG_HOME="$T/cfg2" "$MXDECK" init demo
check "init with the users CSV in the way: refused, no profile written" \
    sh -c "[ $rc = 2 ] && [ ! -e '$T/cfg2/mxdeck/site.ini' ] && [ \"\$(cat '$T/cfg2/mxdeck/demo-users.csv')\" = mine ]"

run "$T/init4" env XDG_CONFIG_HOME="$T/cfg3" "$MXDECK" init nosuch
check "init of an unknown example: exit 2" eq "$rc" 2
check "init of an unknown example: lists the examples" captured "$T/init4" '^examples in .*: .*connector.*demo'
check "init of an unknown example: writes nothing" sh -c "[ ! -e '$T/cfg3/mxdeck/site.ini' ]"

mkdir -p "$T/home"
run "$T/init5" env -u XDG_CONFIG_HOME HOME="$T/home" "$MXDECK" init connector.ini
check "init without XDG_CONFIG_HOME: ~/.config/mxdeck/site.ini" \
    cmp "$EX/connector.ini" "$T/home/.config/mxdeck/site.ini"
check "init of a profile without a users CSV copies only the profile" \
    sh -c "[ $(ls "$T/home/.config/mxdeck" | wc -l) = 1 ]"

# `mxdeck` alone opens the profile init wrote
TUI_ENV="HOME=$T/home" tui_start 120 30
check "mxdeck with no profile opens \$XDG_CONFIG_HOME/mxdeck/site.ini" \
    tui_wait "connector \| $T/home/\.config/mxdeck/site\.ini" 10
tui_keys q
check "... and quits cleanly" tui_wait 'EXIT=0'

# --- commands ---
run "$T/unk" "$MXDECK" pln "$T/home/.config/mxdeck/site.ini"
check "an unknown command: exit 2" eq "$rc" 2
check "an unknown command: says so" captured "$T/unk" "^mxdeck: unknown command 'pln'"
check "an unknown command: lists the commands" captured "$T/unk" '^commands: render lint plan apply audit test .*init .*help'
run "$T/unk1" "$MXDECK" pln
check "an unknown command alone (no profile after it) is one too" captured "$T/unk1" "unknown command 'pln'"
run "$T/help" "$MXDECK" help
check "mxdeck help: exit 0 with the usage" sh -c "[ $rc = 0 ] && grep -q '^usage: mxdeck' '$T/help' && grep -q 'mxdeck init' '$T/help'"
(cd "$T" && cp "$EX/connector.ini" plan-profile && run "$T/asfile" "$MXDECK" --batch --dry-run plan-profile)
check "a word that is a file is a profile, not an unknown command" lacks "$T/asfile" 'unknown command' '.'

# --- a local command that fails: "failed" with its output, never "unreachable" ---
mkdir -p "$T/nosb"	# a local Postfix host whose postfix_dir is not there: postconf fails
cat >"$T/nosb/demo.ini" <<INI
[site]
name = nosb
domain = example.org

[host "demo"]
address = local
roles = postfix
postfix_dir = $T/nosb/demo-sandbox/etc/postfix
state_dir = $T/nosb/demo-sandbox/var/lib/mxdeck
INI
run "$T/plan" "$MXDECK" plan "$T/nosb/demo.ini"
check "plan, local postconf failing: exit 1, not 3" eq "$rc" 1
check "plan: the host is 'failed' with postconf's own message" \
    captured "$T/plan" '^=== host demo \(local\): failed: .*postconf .*failed \(exit 1\): postconf: fatal: .*main\.cf'
check "plan: the word unreachable appears nowhere" lacks "$T/plan" 'unreachable' '^=== host demo'
run "$T/plan.json" "$MXDECK" plan --json "$T/nosb/demo.ini"
check "plan --json: status failed" captured "$T/plan.json" '"status": ?"failed"'
run "$T/apply" "$MXDECK" apply --yes "$T/nosb/demo.ini"
check "apply, local postconf failing: exit 4 (nothing changed), not 3" eq "$rc" 4
check "apply: 'failed: nothing was changed' with the output" \
    captured "$T/apply" '^=== host demo \(local\): failed: nothing was changed: .*postconf: fatal'
find "$T/nosb/demo-sandbox" >"$T/after-apply" 2>&1 || true
check "apply: no file written, no lock left (only the state directory for the lock)" \
    eq "$(sed "s|^$T/nosb/||" "$T/after-apply" | tr '\n' ' ')" "demo-sandbox demo-sandbox/var demo-sandbox/var/lib demo-sandbox/var/lib/mxdeck "

# --- the data directory follows PREFIX; make uninstall ---
mk() { env -u MAKEFLAGS -u MAKELEVEL -u MFLAGS make -s -C "$ROOT" BUILD="$T/b" OPT=-O0 "$@"; }
if mk -j2 >"$T/make1" 2>&1; then
	cp -p "$T/b/mxdeck" "$T/mxdeck.plain"
	mk >"$T/make2" 2>&1
	check "a second plain make rebuilds nothing" cmp "$T/mxdeck.plain" "$T/b/mxdeck"
	check "... and keeps its date" eq "$(stat -c %Y "$T/b/mxdeck")" "$(stat -c %Y "$T/mxdeck.plain")"
	mk install PREFIX=/usr DESTDIR="$T/dest" >"$T/make3" 2>&1 || cat "$T/make3"
	check "make install PREFIX=/usr: binary, man page, examples" sh -c \
	    "[ -x '$T/dest/usr/bin/mxdeck' ] && [ -f '$T/dest/usr/share/man/man1/mxdeck.1' ] && [ -f '$T/dest/usr/share/mxdeck/examples/demo.ini' ]"
	# the binary alone (no share/ beside it): its built-in data directory shows
	mkdir -p "$T/alone"
	cp "$T/dest/usr/bin/mxdeck" "$T/alone/mxdeck"
	run "$T/datadir" env XDG_CONFIG_HOME="$T/cfg4" "$T/alone/mxdeck" init nosuch
	check "after make then make install PREFIX=/usr: the data path is /usr/share/mxdeck" \
	    captured "$T/datadir" '^examples in /usr/share/mxdeck/examples:'
	check "... not /usr/local" lacks "$T/datadir" '/usr/local' 'examples in'
	mk >"$T/make4" 2>&1
	cp "$T/b/mxdeck" "$T/alone/mxdeck"
	run "$T/datadir2" env XDG_CONFIG_HOME="$T/cfg4" "$T/alone/mxdeck" init nosuch
	check "a plain make afterwards: back to /usr/local/share/mxdeck" \
	    captured "$T/datadir2" '^examples in /usr/local/share/mxdeck/examples:'
	# the installed binary finds its installed examples (DESTDIR tree: next to it)
	run "$T/inst" env XDG_CONFIG_HOME="$T/cfg5" "$T/dest/usr/bin/mxdeck" init
	check "the installed binary's init copies the installed default example" \
	    cmp "$T/dest/usr/share/mxdeck/examples/client-access.ini" "$T/cfg5/mxdeck/site.ini"
	mk uninstall PREFIX=/usr DESTDIR="$T/dest" >"$T/make5" 2>&1 || cat "$T/make5"
	check "make uninstall removes binary, man page and data" sh -c \
	    "[ ! -e '$T/dest/usr/bin/mxdeck' ] && [ ! -e '$T/dest/usr/share/man/man1/mxdeck.1' ] && [ ! -e '$T/dest/usr/share/mxdeck' ]"
else
	cat "$T/make1"
	check "a plain make in a fresh build directory" false
fi
checks_done
