#!/usr/bin/env bash
# make bench: run every benchmark in tests/bench (each prints its own table).
set -u
cd "$(dirname "$0")/../.."
rc=0
for b in tests/bench/*.sh; do
	case $(basename "$b") in run.sh|gen-*.sh) continue ;; esac
	[ -x "$b" ] || continue
	echo "== $(basename "$b" .sh)"
	"$b" || { echo "bench $(basename "$b") failed"; rc=1; }
	echo
done
exit $rc
