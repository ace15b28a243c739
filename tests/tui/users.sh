#!/bin/bash
# Users section with 100k users from a CSV: filter by text and protocol state, toggle a
# protocol for one user and for every filtered user, save only the changed CSV lines.
set -eu
. "$(dirname "$0")/lib/tmux.bash"

P=$(tui_demo_copy)
awk 'BEGIN { print "email,imap,pop3,smtp,activesync,mapi,owa,ews";
	for (i = 1; i <= 100000; i++)
		printf "user%06d@example.org,1,%d,1,%d,1,1,%d\n", i, i % 2, (i % 3) ? 1 : 0, (i % 5) ? 1 : 0 }' \
	> "$TUI_DIR/big.csv"
sed -i 's/^file = demo-users.csv/file = big.csv/' "$P"
cp "$TUI_DIR/big.csv" "$TUI_DIR/big.orig.csv"
cp "$P" "$TUI_DIR/orig.ini"

filter_text() {
	tui_start 100 30 "$P"
	tui_wait '7 Users +100k' 10 || return 1
	tui_keys 7
	tui_wait 'Users: 100001 of 100001 shown' || return 1
	tui_keys /
	tui_wait 'filter users' || return 1
	tui_text 'user054321'
	tui_keys Enter
	tui_wait 'Users: 1 of 100001 shown' || return 1
	tui_wait 'user054321@example\.org' || return 1
	# the filter applies as it is typed; Esc goes back to the previous one
	tui_keys /
	tui_text 'zz'
	tui_wait 'Users: 0 of 100001 shown' || return 1
	tui_keys Escape
	tui_wait 'Users: 1 of 100001 shown'
}
check "the users filter finds one user among 100k" filter_text

toggle_one() {
	# user054321: pop3 on (odd), activesync off (divisible by 3), ews on
	tui_keys x
	tui_wait 'Toggle which protocol of user054321@example\.org' || return 1
	tui_keys p
	tui_wait 'user054321@example\.org: pop3 off' || return 1
	tui_save || return 1
	tui_wait 'previous version' || return 1
	local d
	d=$(diff "$TUI_DIR/big.orig.csv" "$TUI_DIR/big.csv" || true)
	[ "$d" = "54322c54322
< user054321@example.org,1,1,1,0,1,1,1
---
> user054321@example.org,1,0,1,0,1,1,1" ] || { echo "  csv diff: $d" >&2; return 1; }
	cmp -s "$P" "$TUI_DIR/orig.ini" || return 1
	cmp -s "$TUI_DIR/big.csv.bak.1" "$TUI_DIR/big.orig.csv"
}
check "x toggles one protocol; w rewrites only that CSV line (.bak kept)" toggle_one

filter_proto() {
	cp "$TUI_DIR/big.csv" "$TUI_DIR/big.before.csv"
	tui_keys /
	tui_wait 'filter users' || return 1
	tui_keys C-u
	tui_text 'user000 activesync:off pop3:on'
	tui_keys Enter
	# users 1..999 with i%3==0 and i odd: 3, 9, 15, ... 999 -> 167
	tui_wait 'Users: 167 of 100001 shown' || return 1
	tui_keys X
	tui_wait 'Set which protocol for all 167 filtered users' || return 1
	tui_keys a
	tui_wait 'activesync for all 167 filtered users' || return 1
	tui_keys +
	tui_wait 'activesync on for 167 users' || return 1
	# they no longer match activesync:off
	tui_wait 'Users: 0 of 100001 shown' || return 1
	tui_save || return 1
	tui_wait 'previous version' || return 1
	[ "$(diff "$TUI_DIR/big.before.csv" "$TUI_DIR/big.csv" | grep -c '^>')" = 167 ] || return 1
	grep -q '^user000003@example.org,1,1,1,1,1,1,1$' "$TUI_DIR/big.csv" || return 1
	"$MXDECK" lint "$P" >/dev/null 2>&1
}
check "filter by text + protocol state; X sets a protocol for all 167 filtered users" filter_proto

profile_user() {
	# alice lives in a [user] section: a toggle edits the profile, not the CSV
	cp "$TUI_DIR/big.csv" "$TUI_DIR/big.before.csv"
	tui_keys /
	tui_wait 'filter users' || return 1
	tui_keys C-u
	tui_text 'alice'
	tui_keys Enter
	tui_wait 'Users: 1 of 100001 shown' || return 1
	tui_keys x
	tui_wait 'Toggle which protocol of alice' || return 1
	tui_keys m
	tui_wait 'alice@example\.org: mapi off .*the profile' || return 1
	tui_save || return 1
	tui_wait 'previous version' || return 1
	cmp -s "$TUI_DIR/big.csv" "$TUI_DIR/big.before.csv" || return 1
	[ "$(diff "$TUI_DIR/orig.ini" "$P" | grep '^[<>]')" = "> mapi = off" ] || return 1
	tui_keys q
	tui_wait 'EXIT=0'
}
check "a user from a [user] section is toggled in the profile (one line added)" profile_user

tui_done
