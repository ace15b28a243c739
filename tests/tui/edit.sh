#!/bin/bash
# Console editing: inline lint errors refuse an edit, a valid edit saved with w changes
# exactly one line and keeps every comment, q asks when there are unsaved changes.
set -eu
. "$(dirname "$0")/lib/tmux.bash"

P=$(tui_demo_copy)
cp "$P" "$TUI_DIR/orig.ini"

open_vhost_form() {
	tui_keys 3
	tui_wait 'vhost mail\.example\.org' || return 1
	tui_keys e
	tui_wait 'Edit \[vhost "mail\.example\.org"\]' || return 1
	tui_keys Down		# server -> backend
	tui_wait '>backend'
}

invalid_url() {
	tui_start 100 30 "$P"
	tui_wait '1 Site' || return 1
	open_vhost_form || return 1
	tui_keys C-e C-u
	tui_text 'exchange1 not a url'
	tui_keys Enter
	# the same finding `mxdeck lint` prints, next to the field
	tui_wait 'error: vhost mail\.example\.org: backend' || return 1
	tui_wait 'must start( with)?$|must start with https://|with https:// \(or http://\)' || return 1
	tui_wait 'nothing was changed' || return 1
	tui_keys Escape
	tui_wait 'cancelled: nothing changed' || return 1
	tui_keys w
	tui_wait 'no changes to save' || return 1
	cmp -s "$P" "$TUI_DIR/orig.ini"
}
check "invalid backend URL: inline lint error, edit refused, file unchanged" invalid_url

valid_edit_asks_on_quit() {
	open_vhost_form || return 1
	tui_keys C-u
	tui_text 'https://exchange2.lan.example.org'
	tui_keys Enter
	tui_wait 'changed \(not saved yet: w saves\)|changed; [0-9]+ warning' || return 1
	tui_wait 'modified: w saves' || return 1
	tui_keys q
	tui_wait 'Unsaved changes to .*quit anyway\?' || return 1
	tui_keys n
	tui_wait 'not quitting' || return 1
	cmp -s "$P" "$TUI_DIR/orig.ini"
}
check "valid edit marks the profile modified; q asks and n stays" valid_edit_asks_on_quit

save_one_line() {
	tui_save || return 1
	tui_wait 'saved .*demo\.ini \(previous version' || return 1
	local d l
	l=$(grep -n '^backend = ' "$TUI_DIR/orig.ini" | head -n 1 | cut -d: -f1)
	d=$(diff "$TUI_DIR/orig.ini" "$P" || true)
	[ "$d" = "${l}c${l}
< $(sed -n "${l}p" "$TUI_DIR/orig.ini")
---
> backend = https://exchange2.lan.example.org" ] || { echo "  diff was: $d" >&2; return 1; }
	# every comment line survives, byte for byte
	[ "$(grep -E '^[[:space:]]*[#;]|;' "$TUI_DIR/orig.ini")" = "$(grep -E '^[[:space:]]*[#;]|;' "$P")" ] || return 1
	cmp -s "$P.bak.1" "$TUI_DIR/orig.ini"
}
check "w saves in place: exactly that line changes, comments kept, .bak written" save_one_line

quit_after_save() {
	tui_keys q
	tui_wait 'EXIT=0' || return 1
	tui_wait 'TTY=sane'
}
check "q after saving exits without asking" quit_after_save

add_and_delete() {
	cp "$TUI_DIR/orig.ini" "$P"
	tui_start 100 30 "$P"
	tui_wait '1 Site' || return 1
	tui_keys 3 a
	tui_wait 'Add \[vhost' || return 1
	tui_text 'owa.example.org'
	tui_keys Down Down		# name -> server -> backend
	tui_text 'https://exchange3.lan.example.org'
	tui_keys Down Down		# backend_ca -> services
	tui_text 'owa'
	tui_keys Enter
	# lint wants a certificate and key: shown in the form, nothing added
	tui_wait 'needs certificate = and key =' || return 1
	tui_keys Down
	tui_text '/etc/ssl/certs/ssl-cert-snakeoil.pem'
	tui_keys Down
	tui_text '/etc/ssl/private/ssl-cert-snakeoil.key'
	tui_keys Enter
	tui_wait 'vhost owa\.example\.org' || return 1
	tui_wait 'added' || return 1
	tui_save || return 1
	tui_wait 'previous version' || return 1
	grep -q '^\[vhost "owa.example.org"\]' "$P" || return 1
	grep -q '^backend = https://exchange3.lan.example.org' "$P" || return 1
	"$MXDECK" lint "$P" >/dev/null 2>&1 || return 1
	# delete it again: the file is back to the original
	tui_keys G d
	tui_wait 'Delete vhost owa\.example\.org' || return 1
	tui_keys y
	tui_wait 'deleted \[vhost owa\.example\.org\]' || return 1
	tui_save || return 1
	tui_wait 'previous version' || return 1
	cmp -s "$P" "$TUI_DIR/orig.ini" || { diff "$TUI_DIR/orig.ini" "$P" >&2; return 1; }
	tui_keys q
	tui_wait 'EXIT=0'
}
check "a adds a vhost through a form (lint inline), d deletes it; file round-trips" add_and_delete

header_rules() {
	cp "$TUI_DIR/orig.ini" "$P"
	tui_start 100 30 "$P"
	tui_wait '1 Site' || return 1
	tui_keys 5 e
	tui_wait 'Edit \[header-rules "privacy"\]' || return 1
	tui_keys Down Down Down Down C-u	# the fourth rule
	tui_text '/^X-Mailer:(/ IGNORE'
	tui_keys Enter
	tui_wait 'regex /\^X-Mailer:\(/ does not' || return 1
	tui_keys C-u
	tui_text '/^X-Mailer:/ REPLACE X-Mailer: none'
	tui_keys Down			# the empty rule adds one
	tui_text '/^X-Spam-Flag:/ IGNORE'
	tui_keys Enter
	tui_wait 'changed' || return 1
	tui_save || return 1
	tui_wait 'previous version' || return 1
	local d l
	l=$(grep -n '^rule = /^X-Mailer:/ IGNORE$' "$TUI_DIR/orig.ini" | cut -d: -f1)
	d=$(diff "$TUI_DIR/orig.ini" "$P" || true)
	[ "$d" = "${l}c${l},$((l + 1))
< rule = /^X-Mailer:/ IGNORE
---
> rule = /^X-Mailer:/ REPLACE X-Mailer: none
> rule = /^X-Spam-Flag:/ IGNORE" ] || { echo "  diff: $d" >&2; return 1; }
	tui_keys q
	tui_wait 'EXIT=0'
}
check "header rules: a bad regex is refused inline; a repeated rule is edited and one added" header_rules

refuse_errors() {
	sed 's|^backend = https://localhost:2444$|backend = ftp://nowhere|' \
	    "$TUI_DIR/orig.ini" > "$P"
	sed -i '0,/^backend = https/s||backend = https|' "$P"
	cp "$P" "$TUI_DIR/bad.ini"
	tui_start 100 30 "$P"
	tui_wait 'error' || return 1
	tui_keys 6 e
	tui_wait 'Edit \[tls\]' || return 1
	tui_keys Down Down Down
	tui_keys C-u
	tui_text 'TLSv1.3'
	tui_keys Enter
	tui_wait 'changed' || return 1
	tui_keys w
	tui_wait 'not saved: the profile has [0-9]+ error' || return 1
	cmp -s "$P" "$TUI_DIR/bad.ini" || return 1
	tui_keys q
	tui_wait 'Unsaved changes' || return 1
	tui_keys y
	tui_wait 'EXIT=0' || return 1
	cmp -s "$P" "$TUI_DIR/bad.ini"
}
check "w refuses to save a profile that has errors; q then y discards" refuse_errors

tui_done
