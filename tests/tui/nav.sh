#!/bin/bash
# Search, the rendered-file preview, UTF-8 (wide characters) in the profile and in a
# form, and the Log section.
set -eu
. "$(dirname "$0")/lib/tmux.bash"

P=$(tui_demo_copy)
wide=$(printf '日本語%.0s' $(seq 1 40))
sed -i "s|^dkim = no\$|# Grüße aus Köln: $wide\ndkim = no|" "$P"
grep -q '^# Grüße aus Köln' "$P"
"$MXDECK" lint "$P" >/dev/null 2>&1

search() {
	tui_start 100 30 "$P"
	tui_wait '1 Site' || return 1
	tui_keys 3 /
	tui_text 'legacy_tls = yes'
	tui_keys Enter
	tui_wait '/legacy_tls = yes' || return 1
	tui_wait '\[vhost "legacy\.example\.org"\]' || return 1
	tui_keys 1 /
	tui_text 'fax-gw'
	tui_keys Enter
	tui_wait 'smarthost = \[fax-gw\.example\.org\]:25' || return 1
	tui_keys /
	tui_text 'no-such-thing'
	tui_keys Enter
	tui_wait 'not found: no-such-thing'
}
check "/ searches the entries of a section and selects the match" search

wide_chars() {
	tui_keys g
	tui_wait 'Grüße aus Köln: 日本語日本語' || return 1
	# the wide comment is clipped at the right edge, not wrapped onto the next row
	local row next
	row=$(tui_screen | grep -n 'Grüße aus Köln' | cut -d: -f1)
	next=$(tui_screen | sed -n "$((row + 1))p")
	grep -Eq '^[ 0-9A-Za-z?]{20}│' <<<"$next" || { echo "  next row: $next" >&2; return 1; }
}
check "UTF-8: wide characters are shown and clipped by display width" wide_chars

utf8_edit() {
	tui_keys e
	tui_wait 'Edit \[site\]' || return 1
	tui_keys C-u
	tui_text 'Démo Ünïcødé 東京'
	tui_keys Enter
	tui_wait 'changed' || return 1
	tui_save || return 1
	tui_wait 'previous version' || return 1
	grep -qx 'name = Démo Ünïcødé 東京' "$P" || return 1
	tui_wait 'mxdeck .* Démo Ünïcødé 東京'
}
check "UTF-8 typed into a form is saved byte for byte" utf8_edit

preview() {
	tui_keys 2 v
	tui_wait 'Preview of host demo: [0-9]+ files' || return 1
	tui_wait '^==== .*demo-sandbox/etc/' || return 1
	local first
	first=$(tui_screen | grep -m1 '^====')
	tui_keys ']'
	tui_wait_gone "^$(sed 's/[][\.*^$()+?{}|/]/\\&/g' <<<"$first")" || return 1
	tui_keys l
	tui_wait 'of [0-9]+, from column 21\] Preview' || return 1
	tui_keys h
	tui_wait_gone 'from column' || return 1
	tui_keys G
	tui_wait '\[lines [0-9]+-([0-9]+) of \1\]' || return 1
	tui_keys q
	tui_wait_gone 'Preview of host'
}
check "v previews the rendered files of a host; ] jumps to the next file" preview

log() {
	tui_keys 0
	tui_wait 'opened .*demo\.ini' || return 1
	tui_wait 'edited \[site\]' || return 1
	tui_wait 'previewed the rendered files of demo' || return 1
	tui_keys q
	tui_wait 'EXIT=0'
}
check "the Log section lists the session's events" log

tui_done
