#!/bin/bash
# Console editing safety (issue 12 item 4): u undoes the last edit, one step per key
# (form edits, toggles of CSV and [user] users, deletions of sections and CSV rows),
# back to the last save, and says what it undid; w shows the unified diff of what it
# would write and asks (n writes nothing); every save keeps numbered backups
# PROFILE.bak.1 (newest) .. PROFILE.bak.10, no wider than the profile, never written
# through a planted symlink.
set -eu
. "$(dirname "$0")/lib/tmux.bash"

tui_demo_keep

# edit_backend URL: the backend of the first vhost (mail.example.org), through the form
edit_backend() {
	tui_keys 3
	tui_wait 'vhost mail\.example\.org' || return 1
	tui_keys g e
	tui_wait 'Edit \[vhost "mail\.example\.org"\]' || return 1
	tui_keys Down
	tui_wait '>backend' || return 1
	tui_keys C-e C-u
	tui_text "$1"
	tui_keys Enter
	tui_wait '\[vhost "mail\.example\.org"\] changed' || return 1
}

undo_stack() {
	local l
	l=$(grep -n '^backend = ' "$TUI_DIR/orig.ini" | head -n 1 | cut -d: -f1)
	[ -n "$l" ] || return 1
	sed "${l}s|.*|backend = https://kept.lan.example.org|" "$TUI_DIR/orig.ini" > "$TUI_DIR/kept.ini"
	cmp -s "$TUI_DIR/kept.ini" "$TUI_DIR/orig.ini" && return 1	# the edit changes a line
	tui_start 100 30 "$P"
	tui_wait '1 Site' || return 1
	tui_keys u
	tui_wait 'nothing to undo' || return 1
	# 1. the edit that stays; then five more, each undone
	edit_backend 'https://kept.lan.example.org' || return 1
	edit_backend 'https://undone.lan.example.org' || return 1
	tui_keys 7
	tui_wait 'Users: 4 of 4 shown' || return 1
	tui_keys g x			# alice: a [user] section in the profile
	tui_wait 'Toggle which protocol of alice@example\.org' || return 1
	tui_keys p
	tui_wait 'alice@example\.org: pop3 off' || return 1
	tui_keys j x			# bob: a row of the CSV
	tui_wait 'Toggle which protocol of bob@example\.org' || return 1
	tui_keys i
	tui_wait 'bob@example\.org: imap off' || return 1
	tui_keys j d			# carol: her CSV row goes
	tui_wait 'Delete user carol@example\.org' || return 1
	tui_keys y
	tui_wait 'Users: 3 of 3 shown' || return 1
	tui_keys 3 G d			# a whole section
	tui_wait 'Delete vhost legacy\.example\.org' || return 1
	tui_keys y
	tui_wait 'deleted \[vhost legacy\.example\.org\]' || return 1
	tui_wait '3 Vhosts +1 ' || return 1
	# undo, newest first; each says what it undid
	tui_keys u
	tui_wait 'undid: deleted \[vhost legacy\.example\.org\] \(5 more to undo\)' || return 1
	tui_wait '3 Vhosts +2 ' || return 1
	tui_wait 'vhost legacy\.example\.org +[0-9]+ error' || return 1
	tui_keys u
	tui_wait 'undid: deleted user carol@example\.org \(4 more' || return 1
	tui_keys 7
	tui_wait 'Users: 4 of 4 shown' || return 1
	tui_wait 'carol@example\.org' || return 1
	tui_keys u
	tui_wait 'undid: bob@example\.org: imap off \(3 more' || return 1
	tui_keys u
	tui_wait 'undid: alice@example\.org: pop3 off \(2 more' || return 1
	tui_keys u
	tui_wait 'undid: \[vhost "mail\.example\.org"\] changed \(1 more' || return 1
	tui_wait 'modified: w saves' || return 1
	# the diff of the save shows the one edit left, and only the profile
	tui_keys w
	tui_wait 'Write these changes\? \[y\] save' || return 1
	tui_wait '^\+backend = https://kept\.lan\.example\.org' || return 1
	tui_wait '^-backend = https://localhost:2444' || return 1
	tui_lacks 'undone\.lan|^[-+]pop3|demo-users\.csv' || return 1
	tui_keys y
	tui_wait 'saved [^ ]*demo\.ini \(previous version in \.bak\.1' || return 1
	cmp -s "$P" "$TUI_DIR/kept.ini" || { diff "$TUI_DIR/kept.ini" "$P" >&2; return 1; }
	cmp -s "$CSV" "$TUI_DIR/orig.csv" || { echo "  the CSV changed" >&2; return 1; }
	[ ! -e "$CSV.bak.1" ] || { echo "  the CSV was written" >&2; return 1; }
	cmp -s "$P.bak.1" "$TUI_DIR/orig.ini" || return 1
	# a save ends the stack
	tui_keys u
	tui_wait 'nothing to undo \(the profile is as saved\)' || return 1
	tui_keys q
	tui_wait 'EXIT=0'
}
check "u undoes edit, toggles, deletes one by one; the save then writes exactly the edit kept" undo_stack

undo_all_bytes() {
	# edit, toggle, delete, then u three times: nothing left to save, both files as
	# they were byte for byte (also after w and q); then a header-rule edit and a
	# set-all, undone the same way
	tui_demo_restore
	rm -f "$P".bak.* "$CSV".bak.*
	tui_start 100 30 "$P"
	tui_wait '1 Site' || return 1
	edit_backend 'https://gone.lan.example.org' || return 1
	tui_keys 7
	tui_wait 'Users: 4 of 4 shown' || return 1
	tui_keys j x
	tui_wait 'Toggle which protocol of bob@example\.org' || return 1
	tui_keys s
	tui_wait 'bob@example\.org: smtp off' || return 1
	tui_keys G d
	tui_wait 'Delete user dave@example\.org' || return 1
	tui_keys y
	tui_wait 'Users: 3 of 3 shown' || return 1
	tui_keys u u u
	tui_wait 'undid: \[vhost "mail\.example\.org"\] changed \(0 more to undo; the profile is as saved\)' || return 1
	tui_wait 'Users: 4 of 4 shown' || return 1
	tui_lacks 'modified: w saves' || return 1
	tui_keys 5 e
	tui_wait 'Edit \[header-rules "privacy"\]' || return 1
	tui_keys Down Down Down Down C-u
	tui_text '/^X-Mailer:/ REPLACE X-Mailer: none'
	tui_keys Enter
	tui_wait '\[header-rules "privacy"\] changed' || return 1
	tui_keys 7 X
	tui_wait 'Set which protocol for all 4 filtered users' || return 1
	tui_keys e
	tui_wait 'ews for all 4 filtered users' || return 1
	tui_keys -
	tui_wait 'ews off for [0-9]+ users?' || return 1
	tui_keys u
	tui_wait 'undid: ews off for [0-9]+ users? \([0-9]+ already were\) \(1 more to undo\)' || return 1
	tui_keys u
	tui_wait 'undid: \[header-rules "privacy"\] changed \(0 more to undo; the profile is as saved\)' || return 1
	tui_wait 'Users: 4 of 4 shown' || return 1
	tui_lacks 'modified: w saves' || return 1
	tui_keys u
	tui_wait 'nothing to undo' || return 1
	tui_keys w
	tui_wait 'no changes to save' || return 1
	tui_keys q
	tui_wait 'EXIT=0' || return 1
	cmp -s "$P" "$TUI_DIR/orig.ini" && cmp -s "$CSV" "$TUI_DIR/orig.csv" &&
	    [ ! -e "$P.bak.1" ] && [ ! -e "$CSV.bak.1" ]
}
check "edit, toggle, delete, u x3 (and a header-rule edit, a set-all): files byte-identical, nothing to save" undo_all_bytes

save_refused() {
	tui_demo_restore
	rm -f "$P".bak.* "$CSV".bak.*
	tui_start 100 30 "$P"
	tui_wait '1 Site' || return 1
	edit_backend 'https://refused.lan.example.org' || return 1
	tui_keys 7 j x
	tui_wait 'Toggle which protocol of bob@example\.org' || return 1
	tui_keys o
	tui_wait 'bob@example\.org: owa off' || return 1
	tui_keys w
	tui_wait 'Save: what w writes to .*demo\.ini and' || return 1
	tui_wait '^\+\+\+ b/.*demo\.ini' || return 1
	tui_wait '^\+backend = https://refused\.lan\.example\.org' || return 1
	tui_wait '^-bob@example\.org,1,1,1,0,1,1,1' || return 1
	tui_wait '^\+bob@example\.org,1,1,1,0,1,0,1' || return 1
	# keys other than y/n scroll the diff; the question stays
	tui_keys j
	tui_wait 'Write these changes\?' || return 1
	tui_keys n
	tui_wait 'not saved: .*demo\.ini is unchanged' || return 1
	tui_wait 'modified: w saves' || return 1
	cmp -s "$P" "$TUI_DIR/orig.ini" && cmp -s "$CSV" "$TUI_DIR/orig.csv" &&
	    [ ! -e "$P.bak.1" ] && [ ! -e "$CSV.bak.1" ] ||
		{ echo "  n wrote something" >&2; return 1; }
	# Esc refuses too; then q's [w] answer shows the same question
	tui_keys w
	tui_wait 'Write these changes\?' || return 1
	tui_keys Escape
	tui_wait 'not saved' || return 1
	cmp -s "$P" "$TUI_DIR/orig.ini" || return 1
	tui_keys q
	tui_wait 'Unsaved changes' || return 1
	tui_keys w
	tui_wait 'Write these changes and quit\?' || return 1
	tui_keys y
	tui_wait 'EXIT=0' || return 1
	grep -q '^backend = https://refused\.lan\.example\.org$' "$P" || return 1
	grep -qx 'bob@example.org,1,1,1,0,1,0,1' "$CSV" || return 1
	cmp -s "$P.bak.1" "$TUI_DIR/orig.ini" && cmp -s "$CSV.bak.1" "$TUI_DIR/orig.csv"
}
check "w shows the unified diff of the profile and the CSV; n and Esc write nothing; y saves" save_refused

set_all_big() {
	# 100k CSV users: three set-alls undone one by one; two undone leave the first,
	# which the save writes (exactly the users whose owa was on), the rest undone
	# leaves nothing to save
	local big=$TUI_DIR/big.csv n
	tui_demo_restore
	rm -f "$P".bak.* "$CSV".bak.*
	awk 'BEGIN { print "email,imap,pop3,smtp,activesync,mapi,owa,ews";
		for (i = 1; i <= 100000; i++) printf "user%06d@example.org,1,1,1,1,1,%d,1\n", i, i % 2 }' > "$big"
	cp "$big" "$TUI_DIR/big.orig.csv"
	sed -i 's/^file = demo-users.csv/file = big.csv/' "$P"
	cp "$P" "$TUI_DIR/big.ini"
	tui_start 100 30 "$P"
	tui_wait '7 Users +100k' 20 || return 1
	tui_keys 7 /
	tui_wait 'filter users' || return 1
	tui_text 'user'
	tui_keys Enter
	tui_wait 'Users: 100000 of 100001 shown' 10 || return 1
	tui_keys X o -
	tui_wait 'owa off for 50000 users \(50000 already were\)' 20 || return 1
	tui_keys X o +
	tui_wait 'owa on for 100000 users' 20 || return 1
	tui_keys X o -
	tui_wait 'owa off for 100000 users' 20 || return 1
	tui_keys u
	tui_wait 'undid: owa off for 100000 users \(0 already were\) \(2 more' 20 || return 1
	tui_keys u
	tui_wait 'undid: owa on for 100000 users \(0 already were\) \(1 more' 20 || return 1
	tui_save || return 1
	tui_wait 'saved [^ ]*big\.csv \(previous version' 20 || return 1
	n=$(diff "$TUI_DIR/big.orig.csv" "$big" | grep -c '^> ' || true)
	[ "$n" = 50000 ] || { echo "  $n lines changed, want 50000" >&2; return 1; }
	[ -z "$(diff "$TUI_DIR/big.orig.csv" "$big" | grep '^> ' | grep -v ',1,1,1,1,1,0,1$')" ] || return 1
	cmp -s "$P" "$TUI_DIR/big.ini" && cmp -s "$big.bak.1" "$TUI_DIR/big.orig.csv" || return 1
	tui_keys q
	tui_wait 'EXIT=0'
}
check "100k CSV users: three set-alls, u twice, w writes exactly the first one" set_all_big

backups() {
	local i m
	tui_demo_restore
	rm -f "$P".bak.* "$CSV".bak.*
	chmod 0640 "$P"
	# an old backup wider than the profile, and a symlink planted at .bak.1
	echo 'an older backup' > "$P.bak.3"
	chmod 0666 "$P.bak.3"
	echo 'not a backup' > "$TUI_DIR/victim"
	ln -s "$TUI_DIR/victim" "$P.bak.1"
	cp "$P" "$TUI_DIR/v0"
	tui_start 100 30 "$P"
	tui_wait '1 Site' || return 1
	for i in $(seq 1 11); do
		edit_backend "https://exchange$i.lan.example.org" || return 1
		tui_save || return 1
		tui_wait "saved [^ ]*demo\\.ini \\(previous version" || return 1
		tui_wait_gone 'modified: w saves' || return 1
		cp "$P" "$TUI_DIR/v$i"
		if [ "$i" = 1 ]; then
			[ "$(stat -c %a "$P.bak.4")" = 640 ] && [ "$(cat "$P.bak.4")" = 'an older backup' ] ||
				{ echo "  .bak.3 did not become .bak.4 with mode 640: $(stat -c %a "$P.bak.4")" >&2; return 1; }
			[ -L "$P.bak.2" ] && [ ! -L "$P.bak.1" ] ||
				{ echo "  the planted link was not moved aside" >&2; return 1; }
		fi
	done
	tui_keys q
	tui_wait 'EXIT=0' || return 1
	[ "$(cat "$TUI_DIR/victim")" = 'not a backup' ] || { echo "  written through the link" >&2; return 1; }
	# .bak.k holds the version before save 12-k; the 11th is gone
	for i in $(seq 1 10); do
		cmp -s "$P.bak.$i" "$TUI_DIR/v$((11 - i))" ||
			{ echo "  $P.bak.$i is not v$((11 - i))" >&2; return 1; }
		m=$(stat -c %a "$P.bak.$i")
		[ "$m" = 640 ] || { echo "  .bak.$i has mode $m" >&2; return 1; }
	done
	[ ! -e "$P.bak.11" ] && [ ! -L "$P.bak.11" ] || { echo "  an 11th backup" >&2; return 1; }
	# the original, the planted link and the old .bak.3 rotated out
	for i in $(seq 1 10); do
		! cmp -s "$P.bak.$i" "$TUI_DIR/v0" || { echo "  the original is still kept" >&2; return 1; }
	done
	[ -z "$(find "$TUI_DIR" -name '*.mxdeck-tmp.*')" ] &&
	    [ "$(ls "$P".bak.* | wc -l)" = 10 ]
}
check "11 saves: PROFILE.bak.1..10 newest first, the oldest gone, modes no wider, links not followed" backups

tui_done
