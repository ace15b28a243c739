#!/bin/bash
# d deletes a user, also one from the users CSV: it asks first, the model loses the user
# at once, and w cuts exactly that user's record out of the CSV (every other byte kept:
# header, #TYPE line, quotes, CRLF, byte order marks, UTF-16, ';' separators), with a
# .bak. Several deletions, delete then add again, quit without saving, D for every
# filtered user (only with a filter, the count in the question), and --audit (inert).
set -eu
. "$(dirname "$0")/lib/tmux.bash"

tui_demo_keep

# users_row EMAIL: the row of EMAIL in the Users list (address and protocol columns)
users_row() { tui_screen | grep -o "$1 .*" | sed 's/ *[a-z]*:[0-9]*$//;s/  */ /g'; }

delete_csv_user() {
	tui_start 100 30 "$P"
	tui_wait '7 Users' || return 1
	tui_keys 7
	tui_wait 'Users: 4 of 4 shown' || return 1
	tui_keys Down Down			# alice, bob, carol
	tui_keys d
	tui_wait 'Delete user carol@example\.org: its row, line 4 of demo-users\.csv\? \[y\]' || return 1
	tui_keys n
	tui_wait 'nothing deleted' || return 1
	tui_wait 'carol@example\.org' || return 1
	tui_keys d
	tui_wait 'Delete user carol@example\.org' || return 1
	tui_keys y
	tui_wait 'Users: 3 of 3 shown' || return 1
	tui_wait 'deleted user carol@example\.org \(not saved yet' || return 1
	tui_wait 'modified: w saves' || return 1
	tui_lacks 'carol@example\.org +(on|-) ' || { echo "  carol still listed" >&2; return 1; }
	cmp -s "$CSV" "$TUI_DIR/orig.csv" || { echo "  the CSV changed before w" >&2; return 1; }
	tui_save || return 1
	tui_wait 'saved [^ ]*demo-users\.csv \(previous version' || return 1
	local d
	d=$(diff "$TUI_DIR/orig.csv" "$CSV" || true)
	[ "$d" = "4d3
< carol@example.org,on,off,off,on,on,on,on" ] || { echo "  csv diff: $d" >&2; return 1; }
	cmp -s "$P" "$TUI_DIR/orig.ini" || { echo "  the profile changed" >&2; return 1; }
	cmp -s "$CSV.bak.1" "$TUI_DIR/orig.csv" || { echo "  no .bak of the CSV" >&2; return 1; }
	# after the save the rows below moved up: the sources say so, and a toggle of
	# dave (now on line 4) still lands on his own line
	tui_wait 'csv:4' || return 1
	tui_keys G x
	tui_wait 'Toggle which protocol of dave@example\.org' || return 1
	tui_keys o
	tui_wait 'dave@example\.org: owa off' || return 1
	tui_save || return 1
	tui_wait 'previous version' || return 1
	d=$(diff "$TUI_DIR/orig.csv" "$CSV" || true)
	[ "$d" = "4,5c4
< carol@example.org,on,off,off,on,on,on,on
< dave@example.org,true,false,true,true,false,true,false
---
> dave@example.org,1,0,1,1,0,0,0" ] || { echo "  csv diff after the toggle: $d" >&2; return 1; }
	"$MXDECK" lint "$P" >/dev/null 2>&1
}
check "d on a CSV user asks, removes it; w cuts exactly its line (profile unchanged)" delete_csv_user

delete_section_and_row() {
	# alice has a row in the CSV and a [user] section on top of it: d removes both
	local l
	cp "$CSV" "$TUI_DIR/before.csv"
	l=$(grep -n '^\[user "alice@example\.org"\]' "$P" | cut -d: -f1)
	[ -n "$l" ] || return 1
	tui_keys g d
	tui_wait "Delete user alice@example\\.org: its \\[user\\] section \\(line $l of the profile\\) and its row" || return 1
	tui_keys y
	tui_wait 'Users: 2 of 2 shown' || return 1
	tui_save || return 1
	tui_wait 'previous version' || return 1
	[ "$(diff "$TUI_DIR/before.csv" "$CSV" | grep '^[<>]')" = "< alice@example.org,1,0,1,1,1,1,1" ] || return 1
	[ "$(diff "$TUI_DIR/orig.ini" "$P" | grep '^[<>]' | tr '\n' '|')" = '< [user "alice@example.org"]|< pop3 = on|< |' ] || {
		echo "  profile diff: $(diff "$TUI_DIR/orig.ini" "$P")" >&2; return 1; }
	tui_keys q
	tui_wait 'EXIT=0'
}
check "d on a CSV user with a [user] section removes the section and the row" delete_section_and_row

several_then_discard() {
	tui_demo_restore
	rm -f "$CSV".bak.* "$P".bak.*
	tui_start 100 30 "$P"
	tui_wait '7 Users' || return 1
	tui_keys 7 Down d
	tui_wait 'Delete user bob@example\.org' || return 1
	tui_keys y
	tui_wait 'Users: 3 of 3 shown' || return 1
	tui_keys G d
	tui_wait 'Delete user dave@example\.org' || return 1
	tui_keys y
	tui_wait 'Users: 2 of 2 shown' || return 1
	tui_keys q
	tui_wait 'Unsaved changes' || return 1
	tui_keys y
	tui_wait 'EXIT=0' || return 1
	cmp -s "$CSV" "$TUI_DIR/orig.csv" && cmp -s "$P" "$TUI_DIR/orig.ini" && [ ! -e "$CSV.bak.1" ] &&
	    [ ! -e "$P.bak.1" ]
}
check "two deletions, q asks, y discards: both files unchanged, no .bak" several_then_discard

delete_then_add() {
	tui_start 100 30 "$P"
	tui_wait '7 Users' || return 1
	tui_keys 7 Down d
	tui_wait 'Delete user bob@example\.org' || return 1
	tui_keys y
	tui_wait 'Users: 3 of 3 shown' || return 1
	tui_keys a
	tui_wait 'Add \[user' || return 1
	tui_text 'bob@example.org'
	tui_keys Down
	tui_text 'off'				# imap; the rest come from the default
	tui_keys Enter
	tui_wait 'added' || return 1
	tui_wait 'Users: 4 of 4 shown' || return 1
	local before after
	before=$(users_row 'bob@example\.org')
	[ "$before" = "bob@example.org - - on on on on on" ] || { echo "  row before w: $before" >&2; return 1; }
	tui_save || return 1
	tui_wait 'previous version' || return 1
	[ "$(diff "$TUI_DIR/orig.csv" "$CSV" | grep '^[<>]')" = "< bob@example.org,1,1,1,0,1,1,1" ] || return 1
	grep -q '^\[user "bob@example.org"\]$' "$P" || return 1
	"$MXDECK" lint "$P" >/dev/null 2>&1 || return 1
	# what the console showed before the save is what a fresh load shows
	tui_keys q
	tui_wait 'EXIT=0' || return 1
	tui_start 100 30 "$P"
	tui_wait '7 Users' || return 1
	tui_keys 7
	tui_wait 'Users: 4 of 4 shown' || return 1
	after=$(users_row 'bob@example\.org')
	[ "$after" = "$before" ] || { echo "  after reopening: $after" >&2; return 1; }
	tui_keys q
	tui_wait 'EXIT=0'
}
check "delete a CSV user, add it again: the row goes, the [user] section stays" delete_then_add

# A Get-CASMailbox | Export-Csv file: BOM, #TYPE line, quoted fields (one with a line
# break: its record spans two lines), CRLF, True/False.
casmailbox() {
	local name=$1 conv=$2 want
	printf '\xef\xbb\xbf#TYPE Selected.Microsoft.Exchange.Data.Directory.Management.CASMailbox\r\n"Name","PrimarySmtpAddress","ActiveSyncEnabled","OWAEnabled","PopEnabled","ImapEnabled","MAPIEnabled","EwsEnabled"\r\n"Ann","ann@example.org","True","True","False","True","True","True"\r\n"Ben,\r\nJr.","ben@example.org","False","True","True","True","True","False"\r\n"Cid","cid@example.org","True","False","False","True","True","True"\r\n' |
	    $conv >"$TUI_DIR/$name"
	cp "$TUI_DIR/$name" "$TUI_DIR/$name.orig"
	cp "$TUI_DIR/orig.ini" "$P"
	sed -i "s/^file = demo-users.csv/file = $name/" "$P"
	"$MXDECK" lint "$P" >/dev/null 2>&1 || { echo "  $name does not load" >&2; return 1; }
	tui_start 100 30 "$P"
	tui_wait '7 Users' || return 1
	tui_keys 7
	tui_wait 'Users: 4 of 4 shown' || return 1
	tui_keys Down				# ann, ben (the CSV's users come first)
	tui_keys d
	tui_wait "Delete user ben@example\\.org: its row, line 4 of $name" || return 1
	tui_keys y
	tui_wait 'Users: 3 of 3 shown' || return 1
	tui_save || return 1
	tui_wait 'previous version' || return 1
	want=$(printf '\xef\xbb\xbf#TYPE Selected.Microsoft.Exchange.Data.Directory.Management.CASMailbox\r\n"Name","PrimarySmtpAddress","ActiveSyncEnabled","OWAEnabled","PopEnabled","ImapEnabled","MAPIEnabled","EwsEnabled"\r\n"Ann","ann@example.org","True","True","False","True","True","True"\r\n"Cid","cid@example.org","True","False","False","True","True","True"\r\n' | $conv | od -An -tx1 | tr -d ' \n')
	[ "$(od -An -tx1 <"$TUI_DIR/$name" | tr -d ' \n')" = "$want" ] || {
		echo "  $name after the save:" >&2; od -c "$TUI_DIR/$name" | head -20 >&2; return 1; }
	cmp -s "$TUI_DIR/$name.bak.1" "$TUI_DIR/$name.orig" || return 1
	"$MXDECK" lint "$P" >/dev/null 2>&1 || return 1
	tui_keys q
	tui_wait 'EXIT=0'
}
check "a Get-CASMailbox export (BOM, #TYPE, quotes, CRLF): w cuts exactly one record" casmailbox cas.csv cat
utf16le() { { printf '\xff\xfe'; tail -c +4 | sed 's/,/;/g' | iconv -f UTF-8 -t UTF-16LE; }; }
check "the same export as UTF-16LE with ';' separators: still exactly one record" casmailbox cas16.csv utf16le

bulk_delete() {
	awk 'BEGIN { print "email,imap,pop3,smtp,activesync,mapi,owa,ews";
		for (i = 1; i <= 200; i++) printf "user%03d@example.org,1,0,1,1,1,1,1\n", i }' >"$TUI_DIR/bulk.csv"
	cp "$TUI_DIR/bulk.csv" "$TUI_DIR/bulk.orig.csv"
	cp "$TUI_DIR/orig.ini" "$P"
	sed -i 's/^file = demo-users.csv/file = bulk.csv/' "$P"
	tui_start 100 30 "$P"
	tui_wait '7 Users' || return 1
	tui_keys 7
	tui_wait 'Users: 201 of 201 shown' || return 1
	tui_keys D
	tui_wait 'D deletes the filtered users: set a filter with / first' || return 1
	tui_keys /
	tui_text 'user1'
	tui_keys Enter
	tui_wait 'Users: 100 of 201 shown' || return 1
	tui_keys D
	tui_wait 'Delete 100 users\? \[y\] delete 100  \[n/Esc\] keep: all matching "user1" \(100 rows of bulk\.csv' || return 1
	tui_keys Escape
	tui_wait 'cancelled' || return 1
	tui_keys D
	tui_wait 'Delete 100 users\?' || return 1
	tui_keys y
	tui_wait 'deleted 100 users: 0 \[user\] sections, 100 rows of bulk\.csv' || return 1
	tui_wait 'Users: 0 of 101 shown' || return 1
	tui_save || return 1
	tui_wait 'previous version' || return 1
	[ "$(diff "$TUI_DIR/bulk.orig.csv" "$TUI_DIR/bulk.csv" | grep -c '^<')" = 100 ] || return 1
	! diff "$TUI_DIR/bulk.orig.csv" "$TUI_DIR/bulk.csv" | grep -q '^>' || return 1
	! grep -q '^user1' "$TUI_DIR/bulk.csv" || return 1
	[ "$(grep -c '^user' "$TUI_DIR/bulk.csv")" = 100 ] || return 1
	tui_keys q
	tui_wait 'EXIT=0'
}
check "D with a filter deletes every filtered user (count asked); w removes those 100 lines" bulk_delete

changed_on_disk() {
	tui_demo_restore
	tui_start 100 30 "$P"
	tui_wait '7 Users' || return 1
	tui_keys 7 Down Down d
	tui_wait 'Delete user carol@example\.org: its row, line 4' || return 1
	tui_keys y
	tui_wait 'Users: 3 of 3 shown' || return 1
	# someone adds a row above carol's meanwhile: the save must not cut the wrong one
	sed -i '2i eve@example.org,1,1,1,1,1,1,1' "$CSV"
	cp "$CSV" "$TUI_DIR/edited.csv"
	tui_keys w
	tui_wait 'demo-users\.csv:4: expected the row of carol@example\.org there' || return 1
	tui_keys 0 G Enter
	tui_wait 'it is on line 5 now: the file changed on disk' || return 1
	tui_keys q
	cmp -s "$CSV" "$TUI_DIR/edited.csv" || return 1
	tui_keys q
	tui_wait 'Unsaved changes' || return 1
	tui_keys y
	tui_wait 'EXIT=0'
}
check "the CSV changed on disk before w: the save refuses and writes nothing" changed_on_disk

audit_inert() {
	tui_demo_restore
	rm -f "$CSV".bak.*
	tui_start 100 30 --audit "$P"
	tui_wait 'READ-ONLY AUDIT' || return 1
	tui_keys 7 Down d
	tui_wait "'d' is not a key here" || return 1
	tui_keys D
	tui_wait "'D' is not a key here" || return 1
	tui_wait 'Users: 4 of 4 shown' || return 1
	tui_keys w q
	tui_wait 'EXIT=0' || return 1
	cmp -s "$CSV" "$TUI_DIR/orig.csv" && cmp -s "$P" "$TUI_DIR/orig.ini" && [ ! -e "$CSV.bak.1" ]
}
check "--audit: d and D do nothing, the files stay as they were" audit_inert

tui_done
