# tests/tui/lib/tmux.bash: drive the real mxdeck console in a private tmux server.
# Sourced by tests/tui/*.sh. Needs MXDECK (the built binary). Every wait polls
# capture-pane every 0.1 s with a timeout; no fixed sleeps.

: "${MXDECK:?set MXDECK to the mxdeck binary}"
TUI_DIR=$(mktemp -d /tmp/mxdeck-tui.XXXXXX)
TUI_N=0
TUI_SOCK="$TUI_DIR/tmux-0.sock"	# private sockets: removed with the directory
TUI_FAILS=0
TUI_SRC=${TUI_SRC:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../../.." && pwd)}

tui_cleanup() {
	local i
	for i in $(seq 0 "$TUI_N"); do
		tmux -S "$TUI_DIR/tmux-$i.sock" kill-server 2>/dev/null || true
	done
	rm -rf "$TUI_DIR"
}
trap tui_cleanup EXIT INT TERM

# A private copy of the demo profile (never the shipped one), with the demo CA's
# certificates it names (demo-sandbox/pki next to it).
tui_demo_copy() {
	cp "$TUI_SRC/share/examples/demo.ini" "$TUI_SRC/share/examples/demo-users.csv" "$TUI_DIR/"
	"$TUI_SRC/share/lab/demo-lab.sh" pki "$TUI_DIR" >/dev/null
	echo "$TUI_DIR/demo.ini"
}

# tui_demo_keep: a private demo copy with pristine copies beside it: sets P (the
# profile) and CSV (its users file); tui_demo_restore puts both back.
tui_demo_keep() {
	P=$(tui_demo_copy)
	CSV=$TUI_DIR/demo-users.csv
	cp "$P" "$TUI_DIR/orig.ini"
	cp "$CSV" "$TUI_DIR/orig.csv"
}
tui_demo_restore() {
	cp "$TUI_DIR/orig.ini" "$P"
	cp "$TUI_DIR/orig.csv" "$CSV"
}

# tui_start W H ARGS...: run mxdeck ARGS in a new W x H session. After mxdeck exits
# the pane prints EXIT=<code> and TTY=sane when the terminal modes were restored.
tui_start() {
	local w=$1 h=$2 args=
	shift 2
	[ $# -eq 0 ] || args=$(printf ' %q' "$@")
	tui_new_server
	tmux -S "$TUI_SOCK" -f /dev/null new-session -d -x "$w" -y "$h" \
	    "s=\$(stty -g); env TERM=tmux-256color LC_ALL=C.UTF-8 ${TUI_ENV:-} $MXDECK$args; echo EXIT=\$?; if [ \"\$(stty -g)\" = \"\$s\" ]; then echo TTY=sane; else echo TTY=broken; fi; printf 'PROMPT$ '; sleep 60"
	tmux -S "$TUI_SOCK" set-option -g status off >/dev/null
}

# Every session gets its own server: a killed server may linger for a moment.
tui_new_server() {
	tmux -S "$TUI_SOCK" kill-server 2>/dev/null || true
	TUI_N=$((TUI_N + 1))
	TUI_SOCK="$TUI_DIR/tmux-$TUI_N.sock"
}

tui_screen() { tmux -S "$TUI_SOCK" capture-pane -p; }
tui_keys() { tmux -S "$TUI_SOCK" send-keys "$@"; }
tui_text() { tmux -S "$TUI_SOCK" send-keys -l "$1"; }
tui_resize() { tmux -S "$TUI_SOCK" resize-window -x "$1" -y "$2"; }

# tui_wait REGEX [SECONDS]: wait until the screen matches (grep -E).
tui_wait() {
	local re=$1 t=${2:-5} i=0 n
	n=$((t * 10))
	while [ $i -lt $n ]; do
		if tui_screen | grep -Eq -- "$re"; then
			return 0
		fi
		sleep 0.1
		i=$((i + 1))
	done
	echo "  timed out after ${t}s waiting for /$re/; the screen was:" >&2
	tui_screen | sed 's/^/  | /' >&2
	return 1
}

# tui_wait_gone REGEX [SECONDS]: wait until the screen no longer matches.
tui_wait_gone() {
	local re=$1 t=${2:-5} i=0 n
	n=$((t * 10))
	local s
	while [ $i -lt $n ]; do
		# an empty capture (tmux or the console gone) is not "gone"
		s=$(tui_screen) && grep -q '[^[:space:]]' <<<"$s" && ! grep -Eq -- "$re" <<<"$s" &&
			return 0
		sleep 0.1
		i=$((i + 1))
	done
	echo "  timed out after ${t}s waiting for /$re/ to go away; the screen was:" >&2
	tui_screen | sed 's/^/  | /' >&2
	return 1
}

# tui_lacks REGEX: the screen shows something (not an empty capture) and no line of it
# matches REGEX (grep -E). Every "not on the screen" check goes through here.
tui_lacks() {
	local s
	s=$(tui_screen) || { echo "  no screen to check (tmux capture failed)" >&2; return 1; }
	grep -q '[^[:space:]]' <<<"$s" || { echo "  the screen is empty: nothing to check" >&2; return 1; }
	! grep -Eq -- "$1" <<<"$s" || { echo "  the screen has /$1/:" >&2; sed 's/^/  | /' <<<"$s" >&2; return 1; }
}

# tui_save: w shows the diff of what it would write and asks; y writes it.
tui_save() {
	tui_keys w
	tui_wait 'Write these changes.*\[y\] save' || return 1
	tui_keys y
}

# check NAME COMMAND...: one line per check.
check() {
	local name=$1
	shift
	if "$@"; then
		echo "ok   $name"
	else
		echo "FAIL $name"
		TUI_FAILS=$((TUI_FAILS + 1))
	fi
}

tui_done() {
	if [ "$TUI_FAILS" -ne 0 ]; then
		echo "$TUI_FAILS check(s) failed"
		exit 1
	fi
	exit 0
}
