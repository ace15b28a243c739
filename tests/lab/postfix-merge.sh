#!/bin/bash
# postfix-merge.sh DIR [SRC [OLD]]: merge mxdeck's three Postfix merge files into DIR's
# main.cf and master.cf exactly the way the push code does it (backends/ssh mirrors
# this sequence; keep them in step).
#   SRC  where the new mxdeck.postconf / mxdeck.master / mxdeck.master-params are
#        (default DIR, where the push uploads them).
#   OLD  where the previously applied three files are (the copies the last push left in
#        postfix_dir); settings they have and SRC no longer has are removed first:
#          postconf -c DIR -X  NAME...              main.cf parameters
#          postconf -c DIR -PX SERVICE/TYPE/NAME... service parameters
#          postconf -c DIR -MX SERVICE/TYPE...      services
# Then, one postconf call per file, every line its own argument:
#   1. postconf -c DIR -e    LINE...   SRC/mxdeck.postconf       (main.cf)
#   2. postconf -c DIR -M -e LINE...   SRC/mxdeck.master         (services; before -P:
#      Debian's master.cf has submission/smtps commented out, and -P on a missing
#      service fails with "unmatched service_name/type")
#   3. postconf -c DIR -P -e LINE...   SRC/mxdeck.master-params  (service -o params)
# Lines starting with '#' and empty lines are skipped. Stops at the first failure.
set -eu

dir=${1:?usage: postfix-merge.sh DIR [SRC [OLD]]}
src=${2:-$dir}
old=${3:-}

lines() {	# file: the setting lines
	[ -f "$1" ] || { echo "postfix-merge: $1: missing" >&2; return 1; }
	grep -v -e '^[[:space:]]*#' -e '^[[:space:]]*$' "$1" || true
}
keys() {	# file: the left-hand sides ("name", "svc/type", "svc/type/name")
	lines "$1" | sed -e 's/[[:space:]]*=.*$//'
}
apply() {	# file, postconf flags...
	local file=$1
	shift
	local -a l=()

	mapfile -t l < <(lines "$src/$file")
	[ ${#l[@]} -gt 0 ] || return 0
	postconf -c "$dir" "$@" -e "${l[@]}"
}
remove() {	# file, postconf flag
	local -a gone=()

	[ -f "$old/$1" ] || return 0
	mapfile -t gone < <(comm -23 <(keys "$old/$1" | sort -u) <(keys "$src/$1" | sort -u))
	[ ${#gone[@]} -gt 0 ] || return 0
	postconf -c "$dir" "$2" "${gone[@]}"
}

if [ -n "$old" ]; then
	remove mxdeck.postconf -X
	remove mxdeck.master-params -PX
	remove mxdeck.master -MX
fi
apply mxdeck.postconf
apply mxdeck.master -M
apply mxdeck.master-params -P
