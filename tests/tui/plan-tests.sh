#!/bin/bash
# The Plan and Tests views at 120 columns: every column as wide as its widest cell
# (a 36-character host name, a 20-character test name are whole), / searches their
# rows, f shows the failed rows only and toggles back; in --audit, f keeps the hosts
# with drift. `:` goes to a view by name.
set -eu
. "$(dirname "$0")/lib/tmux.bash"

P=$(tui_demo_copy)
# the demo host with the Postfix and Dovecot roles only, on this machine (its plan has
# changes), and a gateway with a long name on a loopback address where nothing listens
# (its plan fails: unreachable)
awk '/^\[/ { skip = ($0 ~ /^\[(vhost|autodiscover) /) } !skip' "$P" |
    sed 's/^roles = .*/roles = postfix dovecot/' > "$P.new" && mv "$P.new" "$P"
"$TUI_SRC/share/lab/demo-lab.sh" prepare "$TUI_DIR" >/dev/null
addr=127.$((RANDOM % 200 + 20)).$((RANDOM % 250 + 1)).$((RANDOM % 250 + 1))
port=$(python3 -c 'import socket, sys; s = socket.socket(); s.bind((sys.argv[1], 0)); print(s.getsockname()[1])' "$addr")
cat >>"$P" <<EOT

[host "gateway-frankfurt-dmz-01.example.org"]
address = $addr
port = $port
roles = postfix
EOT
"$MXDECK" lint "$P" >/dev/null 2>&1
GW='gateway-frankfurt-dmz-01\.example\.org'

plan_columns() {
	tui_start 120 30 "$P"
	tui_wait '1 Site' || return 1
	tui_keys p
	tui_wait 'plan done in' 30 || return 1
	# the whole host name (the old columns cut it at 16: "gateway-frankfur")
	tui_wait "│ $GW +unreachable +host $GW: c" || return 1
	tui_wait '│ demo +drift +[0-9]+ changes'
}
check "Plan at 120 columns: the host column fits a 36-character name" plan_columns

plan_search() {
	tui_keys /
	tui_text 'frankfurt'
	tui_keys Enter
	tui_wait '^/frankfurt' || return 1
	tui_keys Enter
	tui_wait "Plan of host $GW: host $GW" || return 1
	tui_wait "cannot connect to $addr port $port: Connection refused" || return 1
	tui_keys q
	tui_wait_gone 'Plan of host' || return 1
	tui_keys /
	tui_text 'drift'
	tui_keys Enter
	tui_wait '^/drift' || return 1
	tui_keys Enter
	tui_wait 'Plan of host demo: [0-9]+ changes' || return 1
	tui_keys q
	tui_wait_gone 'Plan of host' || return 1
	tui_keys /
	tui_text 'no-such-host'
	tui_keys Enter
	tui_wait 'not found: no-such-host'
}
check "/ in Plan finds hosts by name and state; Enter opens the found host" plan_search

plan_failures() {
	tui_keys f
	tui_wait 'failures only: 1 of 2 hosts \(f shows all\)' || return 1
	tui_wait "│ $GW +unreachable" || return 1
	tui_lacks '│ demo +drift' || return 1
	# the one row left is the one Enter opens
	tui_keys g Enter
	tui_wait "Plan of host $GW" || return 1
	tui_keys q
	tui_wait_gone 'Plan of host' || return 1
	tui_keys f
	tui_wait '│ demo +drift' || return 1
	tui_wait "│ $GW +unreachable" || return 1
	tui_wait_gone 'failures only:'
}
check "f in Plan shows the failed host only (a plan's changes are no failure); f shows all again" plan_failures

tests_columns() {
	tui_keys t
	tui_wait 'live tests done: [0-9]+ tests' 150 || return 1
	# "protocols submission" is 20 characters (the old column cut it at 16)
	tui_wait '│ FAIL +tlsver +protocols submission +127\.0\.0\.1:2587 +unreachable' || return 1
	tui_wait '│ ok +tls +tls imap +127\.0\.0\.1:143 +not offered'
}
check "Tests at 120 columns: name and target columns fit their widest cell" tests_columns

tests_search() {
	tui_keys /
	tui_text '2993'
	tui_keys Enter
	tui_wait '^/2993' || return 1
	tui_keys Enter
	tui_wait 'Test tls tls imaps -> 127\.0\.0\.1:2993: FAIL' || return 1
	tui_keys q
	tui_wait_gone 'Test tls tls imaps' || return 1
	# n: the next row that matches (the protocol test of the same port)
	tui_keys n Enter
	tui_wait 'Test tlsver protocols imaps -> 127\.0\.0\.1:2993: FAIL' || return 1
	tui_keys q
	tui_wait_gone 'Test tlsver' || return 1
	# the summary is row text too
	tui_keys /
	tui_text 'not offered'
	tui_keys Enter
	tui_wait '^/not offered' || return 1
	tui_keys Enter
	tui_wait 'Test [a-z]+ [a-z ]+ -> 127\.0\.0\.1:(143|110): ok' || return 1
	tui_keys q
	tui_wait_gone '^\[lines'
}
check "/ in Tests finds tests by target and by result; n goes on; Enter opens the found one" tests_search

tests_failures() {
	local all
	all=$(tui_screen | grep -oE 'ok [0-9]+ +warn [0-9]+ +fail [0-9]+')
	[ -n "$all" ] || { echo "  no counts on the screen" >&2; return 1; }
	tui_keys f
	tui_wait 'failures only: [0-9]+ of [0-9]+ tests \(f shows all\)' || return 1
	tui_wait '│ FAIL +tls +tls smtp' || return 1
	tui_lacks '│ ok +tls' || return 1
	# search works on the rows f left
	tui_keys /
	tui_text '2995'
	tui_keys Enter
	tui_keys Enter
	tui_wait 'Test tls tls pop3s -> 127\.0\.0\.1:2995: FAIL' || return 1
	tui_keys q
	tui_wait_gone '^\[lines' || return 1
	tui_keys f
	tui_wait '│ ok +tls' || return 1
	tui_wait_gone 'failures only:'
}
check "f in Tests hides the ok rows, search works on what is left, f shows all again" tests_failures

goto_view() {
	tui_keys :
	tui_wait '^:view' || return 1	# (capture-pane drops the trailing blank)
	tui_text 'head'
	tui_keys Enter
	tui_wait 'Header rules: Postfix header_checks' || return 1
	tui_keys :
	tui_text 'Tests'
	tui_keys Enter
	tui_wait 'live tests done in|Live tests done' || return 1
	tui_keys :
	tui_text 'nothing-like-this'
	tui_keys Enter
	tui_wait 'no view "nothing-like-this"' || return 1
	tui_keys q
	tui_wait 'EXIT=0'
}
check ": NAME goes to a view by its name or a prefix; an unknown name says so" goto_view

audit_failures() {
	tui_start 120 30 --audit "$P"
	tui_wait 'READ-ONLY AUDIT' || return 1
	tui_keys p
	tui_wait 'plan done in' 30 || return 1
	tui_keys f
	# in an audit, drift is a finding: both hosts stay
	tui_wait 'failures only: 2 of 2 hosts' || return 1
	tui_wait '│ demo +drift' || return 1
	tui_wait "│ $GW +unreachable" || return 1
	tui_keys q
	tui_wait 'EXIT=0'
}
check "--audit: f keeps the hosts with drift and the unreachable one" audit_failures

tui_done
