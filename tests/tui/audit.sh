#!/bin/bash
# --audit: a read-only banner; edit, save and push keys are absent from the key line
# and the help screen and do nothing (the profile's hash does not change).
set -eu
. "$(dirname "$0")/lib/tmux.bash"

P=$(tui_demo_copy)
before=$(sha256sum "$P" "$TUI_DIR/demo-users.csv")

banner() {
	tui_start 100 30 --audit "$P"
	tui_wait 'READ-ONLY AUDIT' || return 1
	local last
	last=$(tui_screen | tail -1)
	grep -q 'q quit' <<<"$last" || return 1	# the key line is there: then check its keys
	! grep -Eq ' (e edit|a add|d delete|w save|P push)' <<<"$last"
}
check "--audit shows the read-only banner; no edit/save/push keys on the key line" banner

help_has_no_edit_keys() {
	tui_keys '?'
	tui_wait 'edit, save and push keys are absent' || return 1
	tui_lacks '^ +(e|a|d|w|P|x|X) +[a-z]' || return 1
	tui_keys Escape
	tui_wait_gone 'edit, save and push keys are absent'
}
check "--audit: the ? screen lists no edit, save or push key" help_has_no_edit_keys

keys_inert() {
	tui_keys 3 e
	tui_wait "'e' is not a key here" || return 1
	tui_keys Enter
	tui_wait 'read-only audit: nothing to edit' || return 1
	tui_keys a d
	tui_wait "'d' is not a key here" || return 1
	tui_keys 7 x X
	tui_wait "'X' is not a key here" || return 1
	tui_keys w
	tui_wait "'w' is not a key here" || return 1
	tui_keys u
	tui_wait "'u' is not a key here" || return 1
	tui_keys P
	tui_wait "'P' is not a key here" || return 1
	tui_lacks 'Edit \[|Push .* now\?|apply [0-9]+ change|planning before the push' || return 1
	# the plan is allowed: it runs the read-only audit path
	tui_keys p
	tui_wait 'Audit plan started' || return 1
	tui_wait 'plan done in' 30 || return 1
	tui_keys q
	tui_wait 'EXIT=0' || return 1
	[ "$(sha256sum "$P" "$TUI_DIR/demo-users.csv")" = "$before" ] || return 1
	[ ! -e "$P.bak.1" ]
}
check "--audit: e, Enter, a, d, x, X, w and P change nothing, p plans read-only (hashes unchanged)" keys_inert

tui_done
