#!/bin/bash
# Console save through symbolic links (issue 14 item 9): a profile and a users CSV that
# are symlinks (a relative and an absolute link, into another directory) stay links;
# the save writes the link targets, atomically (a temporary beside the target, then a
# rename: the target's inode changes, a hard link to the old file keeps the old
# content), with the targets' mode and owner. Before the fix the save replaced each
# link with a regular file and left the target as it was.
set -eu
. "$(dirname "$0")/lib/tmux.bash"

REAL=$TUI_DIR/real
mkdir "$REAL"
cp "$TUI_SRC/share/examples/demo.ini" "$REAL/site.ini"
cp "$TUI_SRC/share/examples/demo-users.csv" "$REAL/users.csv"
sed -i 's/^file = demo-users.csv/file = users.csv/' "$REAL/site.ini"
# the profile is a relative link, the CSV (found beside the link) an absolute one
ln -s real/site.ini "$TUI_DIR/site.ini"
ln -s "$REAL/users.csv" "$TUI_DIR/users.csv"
chmod 0640 "$REAL/site.ini"
chmod 0604 "$REAL/users.csv"
chown nobody:nogroup "$REAL/site.ini" "$REAL/users.csv"
cp "$REAL/site.ini" "$TUI_DIR/orig.ini"
cp "$REAL/users.csv" "$TUI_DIR/orig.csv"
ln "$REAL/site.ini" "$TUI_DIR/hard.ini"		# a hard link: the old file
P=$TUI_DIR/site.ini

# still_link PATH TARGET MODE: PATH is a symlink reading TARGET, the target a regular
# file with MODE and owner nobody:nogroup
still_link() {
	[ -L "$1" ] || { echo "  $1 is no longer a symlink" >&2; return 1; }
	[ "$(readlink "$1")" = "$2" ] || { echo "  $1 -> $(readlink "$1"), want $2" >&2; return 1; }
	local t
	t=$(readlink -f "$1")
	[ -f "$t" ] && [ ! -L "$t" ] || { echo "  target $t is not a regular file" >&2; return 1; }
	[ "$(stat -c '%a %U:%G' "$t")" = "$3 nobody:nogroup" ] ||
		{ echo "  target $t: $(stat -c '%a %U:%G' "$t"), want $3 nobody:nogroup" >&2; return 1; }
}

profile_save() {
	tui_start 100 30 "$P"
	tui_wait '1 Site' || return 1
	tui_keys 3
	tui_wait 'vhost mail\.example\.org' || return 1
	tui_keys e
	tui_wait 'Edit \[vhost "mail\.example\.org"\]' || return 1
	tui_keys Down
	tui_wait '>backend' || return 1
	tui_keys C-e C-u
	tui_text 'https://exchange2.lan.example.org'
	tui_keys Enter
	tui_wait 'modified: w saves' || return 1
	tui_save || return 1
	tui_wait 'saved .*site\.ini \(previous version' || return 1
	still_link "$P" real/site.ini 640 || return 1
	grep -q '^backend = https://exchange2\.lan\.example\.org$' "$REAL/site.ini" ||
		{ echo "  the link's target was not written" >&2; return 1; }
	[ "$(diff "$TUI_DIR/orig.ini" "$REAL/site.ini" | grep -c '^[<>]')" -eq 2 ] ||
		{ echo "  more than the one line changed" >&2; return 1; }
	cmp -s "$TUI_DIR/hard.ini" "$TUI_DIR/orig.ini" ||
		{ echo "  the old inode was written in place (not a rename)" >&2; return 1; }
	cmp -s "$TUI_DIR/site.ini.bak.1" "$TUI_DIR/orig.ini" ||
		{ echo "  site.ini.bak is not the previous version" >&2; return 1; }
	# the numbered backup sits beside the link, a regular file no wider than the target
	[ -f "$TUI_DIR/site.ini.bak.1" ] && [ ! -L "$TUI_DIR/site.ini.bak.1" ] &&
	    [ "$(stat -c %a "$TUI_DIR/site.ini.bak.1")" = 640 ] && [ ! -e "$REAL/site.ini.bak.1" ] ||
		{ echo "  site.ini.bak.1: $(stat -c %a "$TUI_DIR/site.ini.bak.1" 2>&1)" >&2; return 1; }
	[ -z "$(find "$TUI_DIR" "$REAL" -name '*.mxdeck-tmp.*')" ] ||
		{ echo "  a temporary file was left" >&2; return 1; }
}
check "profile symlink: w writes the target atomically, the link stays, mode and owner kept" profile_save

csv_save() {
	tui_keys 7
	tui_wait 'Users: ' || return 1
	tui_keys /
	tui_wait 'filter users' || return 1
	tui_text 'bob'
	tui_keys Enter
	tui_wait 'Users: 1 of' || return 1
	tui_keys x
	tui_wait 'Toggle which protocol of bob@' || return 1
	tui_keys p
	tui_wait 'bob@[^ ]*: pop3 (on|off)' || return 1
	tui_save || return 1
	tui_wait 'saved .*users\.csv \(previous version' || return 1
	still_link "$TUI_DIR/users.csv" "$REAL/users.csv" 604 || return 1
	cmp -s "$REAL/users.csv" "$TUI_DIR/orig.csv" &&
		{ echo "  the CSV's target was not written" >&2; return 1; }
	[ "$(diff "$TUI_DIR/orig.csv" "$REAL/users.csv" | grep -c '^[<>] bob@')" -eq 2 ] ||
		{ echo "  bob's line did not change (or more did)" >&2; return 1; }
	cmp -s "$TUI_DIR/users.csv.bak.1" "$TUI_DIR/orig.csv" &&
	    [ "$(stat -c %a "$TUI_DIR/users.csv.bak.1")" = 604 ] && [ ! -e "$REAL/users.csv.bak.1" ]
}
check "users CSV symlink: the toggle is saved into the target, the link stays, mode and owner kept" csv_save

tui_keys q
tui_wait 'EXIT=0' || true
tui_done
