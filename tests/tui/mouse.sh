#!/bin/bash
# The mouse in the real binary. tmux's own `send-keys -M` needs a real client, so the
# pane gets the raw bytes a terminal sends: xterm's SGR reports (TERM=xterm-256color,
# kmous=\E[<: press "\e[<B;X;YM", release "...m") and the X10 reports of
# TERM=tmux-256color (kmous=\E[M: "\e[M" then button+32, column+33, row+33). ncurses
# decodes them only after mxdeck switched mouse reporting on, which tmux shows in
# #{mouse_any_flag}. Clicks select sections and rows, a click on the selected row opens
# it, the wheel scrolls lists and viewers; nothing ever edits, saves or pushes.
set -eu
. "$(dirname "$0")/lib/tmux.bash"

tui_demo_keep

flag() { tmux -S "$TUI_SOCK" display -p "#{$1}"; }
# sgr_click X Y / sgr_wheel up|down X Y (1-based screen cells)
sgr_click() { tui_text $'\e'"[<0;$1;$2M"; tui_text $'\e'"[<0;$1;$2m"; }
sgr_wheel() { tui_text $'\e'"[<$([ "$1" = up ] && echo 64 || echo 65);$2;$3M"; }
# x10_click X Y: the 1-based cell as X10 bytes (button 0 = 32, then 33 + 0-based)
x10_click() {
	tui_text "$(printf '\033[M%b%b%b' '\040' "\\$(printf %03o $(($1 + 32)))" "\\$(printf %03o $(($2 + 32)))")"
	tui_text "$(printf '\033[M%b%b%b' '\043' "\\$(printf %03o $(($1 + 32)))" "\\$(printf %03o $(($2 + 32)))")"
}

click_select() {
	TUI_ENV="TERM=xterm-256color" tui_start 100 30 "$P"
	tui_wait '7 Users' || return 1
	[ "$(flag mouse_any_flag)" = 1 ] && [ "$(flag mouse_sgr_flag)" = 1 ] || {
		echo "  mouse reporting is not on (any=$(flag mouse_any_flag) sgr=$(flag mouse_sgr_flag))" >&2; return 1; }
	sgr_click 3 8				# "7 Users" on screen row 8
	tui_wait 'Users: 4 of 4 shown' || return 1
	sgr_click 40 6				# the third user: carol
	tui_keys x
	tui_wait 'Toggle which protocol of carol@example\.org' || return 1
	tui_keys Escape
	tui_wait 'cancelled' || return 1
	# one click acts once, on the release, whether press and release come in one read
	# or apart: it selects dave, then bob, and opens nothing
	tui_text $'\e[<0;40;7M\e[<0;40;7m'
	tui_keys x
	tui_wait 'Toggle which protocol of dave@example\.org' || return 1
	tui_keys Escape
	tui_text $'\e[<0;40;5M'
	sleep 0.3
	tui_lacks 'saved to the users CSV' || return 1
	tui_text $'\e[<0;40;5m'
	tui_keys x
	tui_wait 'Toggle which protocol of bob@example\.org' || return 1
	tui_keys Escape
	tui_lacks 'saved to the users CSV' || return 1
	# a click on the selected row opens it like Enter: the user's form
	sgr_click 40 6
	sgr_click 40 6
	tui_wait 'User carol@example\.org \(saved to the users CSV\)' || return 1
	tui_keys Escape
	tui_wait_gone 'saved to the users CSV' || return 1
	# a click on "? help" under the sections opens the help (its row follows the
	# number of views: found on the screen)
	row=$(tui_screen | grep -n '^ ? help' | cut -d: -f1)
	[ -n "$row" ] || { echo '  no "? help" under the sections' >&2; return 1; }
	sgr_click 3 "$row"
	tui_wait 'this help: every key' || return 1
	tui_keys G				# the end of the help
	tui_wait 'mouse +click selects' || return 1
	tui_wait 'hold Shift while dragging' || return 1
	tui_keys Escape
	tui_wait_gone 'hold Shift while dragging' || return 1
	cmp -s "$P" "$TUI_DIR/orig.ini" && cmp -s "$CSV" "$TUI_DIR/orig.csv"
}
check "SGR clicks: a section, a row; a click on the selected row opens it; ? help" click_select

no_click_in_question() {
	tui_keys d
	tui_wait 'Delete user carol@example\.org' || return 1
	sgr_click 3 4				# "3 Vhosts": ignored while asking
	sgr_click 40 4
	tui_wait 'Delete user carol@example\.org' || return 1
	tui_wait 'Users: 4 of 4 shown' || return 1
	tui_keys Escape
	tui_wait 'cancelled' || return 1
	tui_keys q
	tui_wait 'EXIT=0' || return 1
	tui_wait 'TTY=sane' || return 1
	# the mouse reporting went off with the console
	[ "$(flag mouse_any_flag)" = 0 ] || { echo "  mouse reporting still on after exit" >&2; return 1; }
	cmp -s "$CSV" "$TUI_DIR/orig.csv"
}
check "clicks do nothing while a question is open; reporting is off after q" no_click_in_question

wheel() {
	awk 'BEGIN { print "email,imap,pop3,smtp,activesync,mapi,owa,ews";
		for (i = 1; i <= 1000; i++) printf "user%04d@example.org,1,0,1,1,1,1,1\n", i }' >"$TUI_DIR/many.csv"
	sed 's/^file = demo-users.csv/file = many.csv/' "$TUI_DIR/orig.ini" >"$TUI_DIR/many.ini"
	TUI_ENV="TERM=xterm-256color" tui_start 100 30 "$TUI_DIR/many.ini"
	tui_wait '7 Users' || return 1
	sgr_click 3 8
	tui_wait 'Users: 1001 of 1001 shown' || return 1
	[ "$(tui_screen | sed -n 4p | grep -o 'user[0-9]*@')" = "user0001@" ] || return 1
	# 8 notches in one read (ncurses queues them under one KEY_MOUSE): 3 rows each
	tui_text "$(for _ in 1 2 3 4 5 6 7 8; do printf '\033[<65;40;10M'; done)"
	tui_keys x
	tui_wait 'Toggle which protocol of user0025@example\.org' || return 1
	tui_keys Escape
	tui_wait 'cancelled' || return 1
	[ "$(tui_screen | sed -n 4p | grep -o 'user[0-9]*@')" = "user0001@" ] || return 1
	# 25 rows show: one more notch moves the selection to the 28th user, the list
	# scrolls by 3
	sgr_wheel down 40 10
	tui_wait '^.{20}. user0004@example\.org' || return 1
	tui_keys x
	tui_wait 'Toggle which protocol of user0028@example\.org' || return 1
	tui_keys Escape
	for _ in 1 2 3 4 5 6 7 8 9 10; do sgr_wheel up 40 10; sleep 0.05; done
	tui_wait '^.{20}. user0001@example\.org' || return 1
	tui_keys x
	tui_wait 'Toggle which protocol of user0001@example\.org' || return 1
	tui_keys Escape
	# the wheel scrolls a viewer too: the help
	tui_keys '?'
	tui_wait '\[lines 1-26 of ' || return 1
	sgr_wheel down 50 10
	tui_wait '\[lines 4-29 of ' || return 1
	sgr_wheel up 50 10
	tui_wait '\[lines 1-26 of ' || return 1
	tui_keys Escape q
	tui_wait 'EXIT=0'
}
check "the wheel (SGR buttons 64/65) scrolls the users list and the help viewer" wheel

x10() {
	# TERM=tmux-256color: ncurses asks for X10 reports (kmous=\E[M)
	tui_start 100 30 "$P"
	tui_wait '7 Users' || return 1
	[ "$(flag mouse_any_flag)" = 1 ] || { echo "  mouse reporting is not on" >&2; return 1; }
	x10_click 3 4				# "3 Vhosts"
	tui_wait 'vhost legacy\.example\.org' || return 1
	tui_wait 'Vhosts: reverse-proxy' || return 1
	tui_keys q
	tui_wait 'EXIT=0'
}
check "X10 mouse reports (TERM=tmux-256color): a click selects a section" x10

audit_mouse() {
	TUI_ENV="TERM=xterm-256color" tui_start 100 30 --audit "$P"
	tui_wait 'READ-ONLY AUDIT' || return 1
	[ "$(flag mouse_any_flag)" = 1 ] || return 1
	sgr_click 3 8
	tui_wait 'Users: 4 of 4 shown' || return 1
	sgr_click 40 5				# bob, then bob again: "open" is inert
	sgr_click 40 5
	tui_wait 'read-only audit: nothing to edit' || return 1
	tui_lacks 'saved to the users CSV' || return 1
	sgr_click 3 3				# "2 Hosts", then its entry twice: the preview
	tui_wait 'Hosts: gateways' || return 1
	# a double click in one read: press, release, press, release
	tui_text $'\e[<0;40;3M\e[<0;40;3m\e[<0;40;3M\e[<0;40;3m'
	tui_wait '\[lines 1-' 20 || return 1	# rendering: slow under ASan
	tui_keys q q
	tui_wait 'EXIT=0' || return 1
	cmp -s "$P" "$TUI_DIR/orig.ini" && cmp -s "$CSV" "$TUI_DIR/orig.csv"
}
check "--audit: the mouse navigates, opening a user is inert, a host opens its preview" audit_mouse

no_mouse() {
	TUI_ENV="TERM=xterm-256color MXDECK_NO_MOUSE=1" tui_start 100 30 "$P"
	tui_wait '7 Users' || return 1
	[ "$(flag mouse_any_flag)" = 0 ] || { echo "  MXDECK_NO_MOUSE=1 and mouse reporting is on" >&2; return 1; }
	tui_keys '?'
	tui_wait 'Keys' || return 1
	tui_keys G
	tui_wait 'Mouse: off' || return 1
	tui_lacks 'Mouse: navigation only' || return 1
	tui_keys Escape q
	tui_wait 'EXIT=0'
}
check "MXDECK_NO_MOUSE=1 leaves the mouse to the terminal (text selection); help says so" no_mouse

tui_done
