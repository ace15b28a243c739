#!/bin/bash
# Plan, push and live tests from the console, on a local sandbox host: the plan shows
# per-host diffs, a push (after a user toggle saved with w) changes the files on the
# host, a second plan finds nothing to do, and the live tests fill in as they arrive.
set -eu
. "$(dirname "$0")/lib/tmux.bash"

P=$(tui_demo_copy)
# a host with the Postfix and Dovecot roles only (their checkers run on this machine)
awk '/^\[/ { skip = ($0 ~ /^\[(vhost|autodiscover) /) } !skip' "$P" |
    sed 's/^roles = .*/roles = postfix dovecot/' > "$P.new" && mv "$P.new" "$P"
"$MXDECK" lint "$P" >/dev/null 2>&1
SB=$TUI_DIR/demo-sandbox
# the demo lab's sandbox (stock configuration, the demo CA's certificates), no daemons
"$TUI_SRC/share/lab/demo-lab.sh" prepare "$TUI_DIR" >/dev/null
tree_sum() { (cd "$SB/etc" && find . -type f -print0 | sort -z | xargs -0 sha256sum | sha256sum); }
before=$(tree_sum)

plan() {
	tui_start 100 30 "$P"
	tui_wait '1 Site' || return 1
	tui_keys p
	tui_wait 'Plan started' || return 1
	tui_wait 'demo +drift +[0-9]+ changes' 30 || return 1
	tui_keys Enter
	tui_wait 'Plan of host demo' || return 1
	tui_wait "change: $SB/etc/dovecot/mxdeck/deny.pop3: new file" || return 1
	tui_keys /
	tui_text '+++ b'
	tui_keys Enter
	tui_wait "^\+\+\+ b$SB/etc/" || return 1
	tui_keys q
	tui_wait_gone 'Plan of host demo' || return 1
	[ "$(tree_sum)" = "$before" ]
}
check "p: per-host plan with a diff viewer; the host is untouched" plan

push() {
	# bob: pop3 on -> off, saved to the CSV, then pushed to the Dovecot deny file
	tui_keys 7 j
	tui_wait 'bob@example\.org' || return 1
	tui_keys x p
	tui_wait 'bob@example\.org: pop3 off' || return 1
	tui_keys P
	tui_wait 'unsaved changes: save with w before pushing' || return 1
	tui_save || return 1
	tui_wait 'previous version' || return 1
	tui_keys P
	# a plan runs first; its status line may be gone already when the plan is fast (the
	# question replaces it), and the question's count is that plan's (checked below)
	tui_wait 'planning before the push|apply [0-9]+ changes? on 1 host' 30 || return 1
	tui_wait 'apply [0-9]+ changes? on 1 host \(demo\)\? \[y\] push' 30 || return 1
	# the count is the plan's own, shown in its row
	local n m
	n=$(tui_screen | sed -n 's/.*apply \([0-9]*\) changes\{0,1\} on 1 host (demo)?.*/\1/p')
	m=$(tui_screen | sed -n 's/.* demo  *drift  *\([0-9]*\) changes.*/\1/p')
	[ -n "$n" ] && [ "$n" = "$m" ] || { echo "  asked for $n changes, the plan row says $m" >&2; return 1; }
	tui_keys y
	tui_wait 'Push started' || return 1
	# the screen keeps answering while the push runs
	tui_keys '?'
	tui_wait 'this help: every key' || return 1
	tui_keys Escape
	tui_wait 'demo +done +applied [0-9]+ changes' 60 || return 1
	grep -qx 'bob@example.org' "$SB/etc/dovecot/mxdeck/deny.pop3" || return 1
	grep -q 'mxdeck' "$SB/etc/postfix/main.cf" || return 1
	[ "$(tree_sum)" != "$before" ]
}
check "P asks, pushes (screen stays live) and the host gets the files (bob in deny.pop3)" push

replan() {
	tui_keys p
	tui_wait 'demo +done +no changes' 30
}
check "a second plan finds no changes" replan

locked() {
	# a lock another machine left: the host row says locked, not unreachable
	mkdir -m 0700 "$SB/var/lib/mxdeck/lock"
	printf 'pid=4242\ncontroller=elsewhere.example\nhost=demo\ntime=x\nepoch=1\n' \
	    >"$SB/var/lib/mxdeck/lock/owner"
	tui_keys P
	# P plans first (a plan takes no lock), then asks
	tui_wait '(apply [0-9]+ changes? on 1 host \(demo\)\?|the plan found no change on 1 host: push anyway\?) \[y\] push' 30 || return 1
	tui_keys y
	tui_wait 'demo +locked +host demo: locked: ' 60 || return 1
	[ -f "$SB/var/lib/mxdeck/lock/owner" ] || return 1
	rm -rf "$SB/var/lib/mxdeck/lock"
}
check "a host with another machine's lock is shown as locked (not unreachable)" locked

logged() {
	tui_keys 0
	tui_wait 'push demo: done: applied' || return 1
	tui_wait 'saved [^ ]*demo-users\.csv'
}
check "the Log section keeps the session's events" logged

live_tests() {
	tui_keys t
	tui_wait 'Live tests: [0-9]+ running' || return 1
	tui_wait '(ok|warn|FAIL) +(dns|tls|tlsver|smtp|http|dane) ' 30 || return 1
	tui_wait 'live tests done: [0-9]+ tests: [0-9]+ ok, [0-9]+ warn, [0-9]+ fail' 150 || return 1
	tui_wait 'pending 0' || return 1
	# nothing listens on the demo's ports: the TLS probe of smtp says so
	tui_wait 'FAIL +tls +tls smtp +127\.0\.0\.1:2525' || return 1
	tui_keys g Enter
	tui_wait '^\[lines [0-9-]+ of [0-9]+\] Test ' || return 1
	tui_keys q
	tui_keys q
	tui_wait 'EXIT=0' || return 1
	tui_wait 'TTY=sane'
}
check "t runs the live tests; results arrive one by one, Enter shows details" live_tests

tui_done
