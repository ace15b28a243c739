#!/bin/bash
# completions.sh: the bash completion (share/completions/mxdeck.bash) offers every
# command and every option `mxdeck help` lists, the [host] names of the profile on the
# command line after --host, and the formats after --format; the zsh one names every
# command too.
set -eu
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
MXDECK=${MXDECK:-$ROOT/build/mxdeck}
. "$ROOT/tests/lab/checks.sh"
T=$(mktemp -d /tmp/mxdeck-compl.XXXXXX)
trap 'rm -rf "$T"' EXIT

"$MXDECK" help >"$T/help"
cmds=$(sed -n 's/^ *\(usage: \)\{0,1\}mxdeck \([a-z][a-z]*\)\b.*/\2/p' "$T/help" | sort -u)
opts=$(grep -o -- '--[a-z][a-z-]*\| -[A-Za-z]\b' "$T/help" | tr -d ' ' | sort -u)
check "mxdeck help lists at least ten commands" sh -c "[ $(echo "$cmds" | wc -l) -ge 10 ]"
check "mxdeck help lists at least fifteen options" sh -c "[ $(echo "$opts" | wc -l) -ge 15 ]"

complete_words() {	# the words after "mxdeck", the last one being completed
	bash -c '
		complete() { :; }
		. "$1"; shift
		COMP_WORDS=(mxdeck "$@"); COMP_CWORD=$#
		_mxdeck
		printf "%s\n" "${COMPREPLY[@]}"' _ "$ROOT/share/completions/mxdeck.bash" "$@"
}
got=$(cd "$T" && complete_words "")
missing=
for c in $cmds; do echo "$got" | grep -qx -- "$c" || missing="$missing $c"; done
check "every command of mxdeck help is completed as the first word" eq "$missing" ""
got=$(complete_words plan -)
missing=
for o in $opts; do echo "$got" | grep -qx -- "$o" || missing="$missing $o"; done
check "every option of mxdeck help is completed" eq "$missing" ""
printf '[site]\ndomain = example.org\n\n[host "gw-one"]\naddress = a\n\n[host "gw-two"]\naddress = b\n' >"$T/p.ini"
check "--host completes the profile's [host] names" eq "$(complete_words plan "$T/p.ini" --host gw | tr '\n' ' ')" "gw-one gw-two "
check "--format completes the formats" eq "$(complete_words test --format n)" "nagios"
missing=
for c in $cmds; do grep -q "'$c:" "$ROOT/share/completions/_mxdeck" || missing="$missing $c"; done
check "the zsh completion names every command" eq "$missing" ""
checks_done
