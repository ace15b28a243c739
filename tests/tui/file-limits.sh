#!/bin/bash
# The console and the local files it reads (issue 14 item 5): started on /dev/zero, a
# FIFO or a directory it refuses the profile at once (exit 2, the file named); the
# header tester's ^O refuses /dev/zero, a FIFO, a directory and a file over the
# message cap with the reason in the status line, and keeps running. Before the fix
# /dev/zero grew until the OOM killer and a FIFO hung the console.
set -eu
. "$(dirname "$0")/lib/tmux.bash"

P=$(tui_demo_copy)
mkfifo "$TUI_DIR/fifo"
mkdir "$TUI_DIR/adir"
truncate -s $((64 * 1024 * 1024 + 1)) "$TUI_DIR/big.eml"

profile_refused() {
	local f
	for f in /dev/zero "$TUI_DIR/fifo" "$TUI_DIR/adir"; do
		tui_start 200 30 "$f"
		tui_wait 'EXIT=2' 10 || return 1
		tui_wait "$f: the profile is a (character device|FIFO|directory), not a regular file" || return 1
	done
}
check "console on /dev/zero, a FIFO, a directory: refused at once, exit 2" profile_refused

load_refused() {
	local spec f what
	tui_start 200 40 "$P"
	tui_wait '1 Site' || return 1
	tui_keys 5 T
	tui_wait 'Header-rule tester' || return 1
	for spec in "/dev/zero|a character device" "$TUI_DIR/fifo|a FIFO" \
	    "$TUI_DIR/adir|a directory" "$TUI_DIR/big.eml|67108865 bytes, over mxdeck's limit of 64 MiB"; do
		f=${spec%%|*} what=${spec#*|}
		tui_keys C-o
		tui_wait 'load header block from file' || return 1
		tui_text "$f"
		tui_keys Enter
		tui_wait "cannot load the header block: $f: the message is $what" 10 || return 1
	done
	# still alive and usable
	tui_keys C-o
	tui_wait 'load header block from file' || return 1
	printf 'Subject: hi\n' >"$TUI_DIR/ok.eml"
	tui_text "$TUI_DIR/ok.eml"
	tui_keys Enter
	tui_wait 'loaded 12 bytes'
}
check "header tester ^O: /dev/zero, FIFO, directory, 64 MiB + 1 refused with the reason; the console goes on" load_refused

tui_done
