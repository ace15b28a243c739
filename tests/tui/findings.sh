#!/bin/bash
# The Findings view, the eleventh view: no digit key, reached with `:` NAME; it lists
# every lint finding of the document, / searches them, Enter goes to the profile section
# the finding is about, f keeps the errors only.
set -eu
. "$(dirname "$0")/lib/tmux.bash"

P=$(tui_demo_copy)
n=$("$MXDECK" lint "$P" 2>&1 | grep -c ': warning: ')
[ "$n" -gt 1 ] || { echo "the demo has $n warnings: the test needs some"; exit 1; }

listed() {
	tui_start 100 30 "$P"
	tui_wait '1 Site' || return 1
	# the eleventh row of the list has no digit
	tui_wait '^  Findings +'"$n"' │' || return 1
	tui_keys :
	tui_text 'find'
	tui_keys Enter
	tui_wait "Findings of mxdeck lint: 0 errors, $n warnings" || return 1
	[ "$(tui_screen | grep -c '│ warning demo\.ini:[0-9]*: ')" -eq "$n" ]
}
check "every lint finding is a row of the Findings view (reached by name)" listed

goto_line() {
	tui_keys /
	tui_text 'legacy_tls'
	tui_keys Enter
	tui_wait '^/legacy_tls' || return 1
	tui_keys Enter
	tui_wait 'Vhosts: reverse-proxy virtual hosts' || return 1
	tui_wait 'legacy_tls = yes' || return 1
	tui_wait '! warning: vhost legacy\.example\.org: legacy_tls = yes'
}
check "/ finds a finding; Enter goes to its section in the view that lists it" goto_line

errors_only() {
	tui_keys :
	tui_text 'Findings'
	tui_keys Enter f
	tui_wait '0 errors, [0-9]+ warnings \(errors only: f shows all\)' || return 1
	tui_wait 'nothing to report' || return 1
	tui_keys f
	tui_wait_gone 'errors only' || return 1
	tui_wait '│ warning demo\.ini:' || return 1
	# the key table's needs column: f is for views with failures, not for Site
	tui_keys 1 f
	tui_wait 'f does nothing in Site' || return 1
	tui_keys q
	tui_wait 'EXIT=0'
}
check "f keeps the errors only (none in the demo), f again shows all; f does nothing in Site" errors_only

tui_done
