#!/bin/bash
# Console start-up, help, resize, terminal restore, refusal without a terminal.
set -eu
. "$(dirname "$0")/lib/tmux.bash"

P=$(tui_demo_copy)

startup() {
	tui_start 100 30 "$P"
	tui_wait 'mxdeck .*demo\.ini' || return 1
	local s
	s=$(tui_screen)
	for sec in Site Hosts Vhosts Autodiscover 'Header rules' TLS Users Plan Tests Log; do
		grep -q "[0-9] $sec " <<<"$s" || { echo "  section $sec missing" >&2; return 1; }
	done
	grep -q '? help' <<<"$s" && grep -q 'q quit' <<<"$s"
}
check "start-up on the demo shows every section and the key line" startup

help_screen() {
	tui_keys '?'
	tui_wait 'Keys' || return 1
	tui_wait 'switch a protocol on/off for every filtered user' || return 1
	# the rest of the table and the notes: G goes to the end of the help
	tui_keys G
	tui_wait 'header-rule tester' || return 1
	tui_wait 'mouse +click selects a section or a row' || return 1
	tui_wait 'hold Shift while dragging' || return 1
	tui_keys Escape
	tui_wait_gone 'this help: every key'
}
check "? lists every key (from the key table) and Esc closes it" help_screen

navigate() {
	tui_keys 3
	tui_wait 'vhost legacy\.example\.org' || return 1
	tui_keys j
	tui_wait 'legacy_tls = yes' || return 1
	tui_keys 7
	tui_wait 'Users: 4 of 4 shown' || return 1
	tui_keys Down Down
	tui_wait 'carol@example\.org'
}
check "digits, vi keys and arrows move between sections and entries" navigate

resize_small() {
	tui_resize 80 24
	tui_wait 'Users: 4 of 4 shown' || return 1
	# a whole frame: title on the first row, every section, keys on the last row
	tui_screen | head -1 | grep -q 'mxdeck' || { echo "  no title row" >&2; return 1; }
	tui_screen | grep -q '^0 Log' || { echo "  no Log section" >&2; return 1; }
	tui_screen | sed -n 24p | grep -q 'q quit' || { echo "  no key line on row 24" >&2; return 1; }
	tui_resize 60 20
	tui_wait 'This terminal is 60x20' || return 1
	tui_wait 'enlarge the terminal' || return 1
	tui_resize 100 30
	tui_wait 'Users: 4 of 4 shown'
}
check "resize to 80x24 redraws; 60x20 asks to enlarge; back to 100x30" resize_small

small_start() {
	tui_start 70 20 "$P"
	tui_wait 'This terminal is 70x20' || return 1
	tui_resize 80 24
	tui_wait '1 Site' || return 1
	tui_wait 'q quit' || return 1
	tui_keys q
	tui_wait 'EXIT=0' || return 1
	tui_start 100 30 "$P"
	tui_wait '1 Site'
}
check "started below 80x24: the enlarge screen, then the console once it is big enough" small_start

quit_sane() {
	tui_keys q
	tui_wait 'EXIT=0' || return 1
	tui_wait 'TTY=sane' || return 1
	tui_wait 'PROMPT\$' || return 1
	tui_lacks 'Header rules'
}
check "q exits 0 and leaves the terminal sane (stty unchanged, screen restored)" quit_sane

sigterm() {
	tui_start 100 30 "$P"
	tui_wait '1 Site' || return 1
	local pid
	pid=$(pgrep -n -f "^$MXDECK $P\$" || true)
	[ -n "$pid" ] || { echo "  no mxdeck process found" >&2; return 1; }
	kill -TERM "$pid"
	tui_wait 'EXIT=143' || return 1
	tui_wait 'TTY=sane'
}
check "SIGTERM restores the terminal (exit 143, stty unchanged)" sigterm

sigint() {
	tui_start 100 30 "$P"
	tui_wait '1 Site' || return 1
	tui_keys C-c
	tui_wait 'EXIT=130' || return 1
	tui_wait 'TTY=sane'
}
check "Ctrl-C (SIGINT) restores the terminal (exit 130)" sigint

sigsegv() {
	tui_start 100 30 "$P"
	tui_wait '1 Site' || return 1
	local pid
	pid=$(pgrep -n -f "^$MXDECK $P\$" || true)
	[ -n "$pid" ] || return 1
	kill -SEGV "$pid"
	tui_wait 'EXIT=139' || return 1
	tui_wait 'TTY=sane'
}
check "a crash (SIGSEGV) still restores the terminal" sigsegv

no_tty() {
	local out rc=0
	out=$("$MXDECK" "$P" </dev/null 2>&1 >/dev/null) || rc=$?
	[ "$rc" = 2 ] && grep -q 'needs a terminal' <<<"$out"
}
check "stdout not a terminal: clear error, exit 2" no_tty

bad_term() {
	tui_new_server
	tmux -S "$TUI_SOCK" -f /dev/null new-session -d -x 100 -y 30 \
	    "env TERM=dumb $MXDECK $P; echo EXIT=\$?; env TERM=no-such-term $MXDECK $P; echo EXIT2=\$?; sleep 30"
	tui_wait 'EXIT=2' || return 1
	tui_wait 'cannot move the cursor' || return 1
	tui_wait 'EXIT2=2' || return 1
	tui_wait 'unusable terminal TERM=no-such-term'
}
check "TERM=dumb and an unknown TERM: clear error, exit 2" bad_term

no_color() {
	TUI_ENV="NO_COLOR=1" tui_start 100 30 "$P"
	tui_wait '1 Site' || return 1
	# no colour escapes (38;5 / 3x / 4x) in the pane with NO_COLOR
	! tmux -S "$TUI_SOCK" capture-pane -p -e | grep -Eq $'\e\\[[0-9;]*(3[0-7]|4[0-7])m' || return 1
	tui_keys q
	tui_wait 'EXIT=0' || return 1
	tui_start 100 30 "$P"
	tui_wait '1 Site' || return 1
	tmux -S "$TUI_SOCK" capture-pane -p -e | grep -Eq $'\e\\[[0-9;]*(3[0-7]|4[0-7])m'
}
check "NO_COLOR: monochrome; without it: colours" no_color

tui_done
