#!/bin/bash
# c in the console: the doctor's read-only preflight of each host, in the Plan section,
# as `mxdeck doctor` reports it. The demo copy first without its sandbox (postfix_dir
# absent: "missing", with postconf's message and the fix), then with the sandbox made
# ("ready"); also under --audit (the doctor only reads); the host is never touched.
set -eu
. "$(dirname "$0")/lib/tmux.bash"

P=$(tui_demo_copy)
# Postfix and Dovecot only: their commands run on this machine
awk '/^\[/ { skip = ($0 ~ /^\[(vhost|autodiscover) /) } !skip' "$P" |
    sed 's/^roles = .*/roles = postfix dovecot/' > "$P.new" && mv "$P.new" "$P"
SB=$TUI_DIR/demo-sandbox

missing() {
	tui_start 110 30 "$P"
	tui_wait '1 Site' || return 1
	tui_keys c
	tui_wait 'Doctor started' || return 1
	tui_wait 'doctor done in .*: 0 of 1 host ready, 1 not' 30 || return 1
	tui_wait 'demo +missing' || return 1
	tui_keys Enter
	tui_wait "FAIL  postfix: postconf -c $SB/etc/postfix fails \(exit 1\)" || return 1
	tui_wait "FAIL  directories: postfix_dir = $SB/etc/postfix does not exist" || return 1
	tui_wait 'fix: apt-get install postfix, or fix postfix_dir' || return 1
	tui_keys q
	tui_wait_gone 'FAIL  directories' || return 1
	tui_keys q
	tui_wait 'EXIT=0' || return 1
	[ ! -e "$SB/etc" ] && [ ! -e "$SB/var" ] || { echo "  the doctor created something in $SB" >&2; return 1; }
}
check "c without the sandbox: the host is missing, with postconf's message and the fix" missing

ready() {
	mkdir -p "$SB/etc"
	cp -a /etc/postfix /etc/dovecot "$SB/etc/"
	tui_start 110 30 --audit "$P"
	tui_wait 'READ-ONLY AUDIT' || return 1
	tui_keys c
	tui_wait 'doctor done in .*: 1 of 1 host ready, 0 not' 30 || return 1
	tui_wait 'demo +ready' || return 1
	tui_keys Enter
	tui_wait 'ok    postfix: Postfix 3\.' || return 1
	tui_wait 'ok    directories: state_dir = .*: missing, apply creates' || return 1
	tui_keys q
	tui_wait_gone 'ok    postfix: Postfix' || return 1
	tui_keys q
	tui_wait 'EXIT=0' || return 1
	[ ! -e "$SB/var" ] || { echo "  the doctor created $SB/var" >&2; return 1; }
}
check "c under --audit with the sandbox made: ready; nothing created" ready
tui_done
