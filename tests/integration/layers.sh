#!/usr/bin/env bash
# layers.sh: the include rules of share/doc/HACKING.md §2, checked over every
# '#include "…"' line of the product sources, and no include cycle between files.
#   profiles/          includes only profiles/
#   backends/render/   includes profiles/ and backends/render/
#   backends/ssh/      never tui/ nor backends/probe/
#   backends/probe/    never tui/ nor backends/ssh/
#   curses             only in tui/
#   tui/view.h         only tui/cli.h, tui/tty.h and profiles/ (the one header views use)
#   tui/tty.h          nothing of tui/ or backends/
#   tui/jobs-int.h     only in tui/jobs.c and tui/view-jobs.c
set -u
cd "$(dirname "$0")/../.."
fail=0
edges=$(mktemp)
trap 'rm -f "$edges"' EXIT

resolve() {	# FILE INCLUDED -> repository path of the included file
	local from=$1 inc=$2 d
	d=$(dirname "$from")
	if [ -f "$d/$inc" ]; then
		realpath --relative-to=. "$d/$inc"
	elif [ -f "$inc" ]; then
		echo "$inc"
	fi
}

files=$(find profiles backends tui -name '*.[ch]' | sort)	# git may not be installed
[ -n "$files" ] || { echo "not ok - no source files found"; exit 1; }
n=0
for f in $files; do
	while IFS= read -r inc; do
		to=$(resolve "$f" "$inc")
		if [ -z "$to" ]; then	# a header the Makefile generates under $(BUILD)/gen is fine
			grep -q "/gen/$inc" Makefile && continue
			echo "not ok - $f includes \"$inc\", which is not in the tree"; fail=1; continue
		fi
		n=$((n + 1))
		echo "$f $to" >>"$edges"
		bad=
		case $f in
		profiles/*)		case $to in profiles/*) ;; *) bad=1 ;; esac ;;
		backends/render/*)	case $to in profiles/* | backends/render/*) ;; *) bad=1 ;; esac ;;
		backends/ssh/*)		case $to in tui/* | backends/probe/*) bad=1 ;; esac ;;
		backends/probe/*)	case $to in tui/* | backends/ssh/*) bad=1 ;; esac ;;
		# the console's narrow headers: a view includes tui/view.h and gets no other view
		tui/view.h)		case $to in tui/cli.h | tui/tty.h | profiles/*) ;; *) bad=1 ;; esac ;;
		tui/tty.h)		case $to in tui/* | backends/*) bad=1 ;; esac ;;
		esac
		# the job state is private to the jobs and their two views
		if [ "$to" = tui/jobs-int.h ]; then
			case $f in tui/jobs.c | tui/view-jobs.c) ;; *) bad=1 ;; esac
		fi
		if [ -n "$bad" ]; then
			echo "not ok - layer: $f includes $to (see share/doc/HACKING.md §2)"
			fail=1
		fi
	done < <(sed -n 's/^[[:space:]]*#[[:space:]]*include[[:space:]]*"\([^"]*\)".*/\1/p' "$f")
	if grep -qE '^[[:space:]]*#[[:space:]]*include[[:space:]]*<n?curses(w)?/?[a-z]*\.h>' "$f"; then
		case $f in tui/*) ;; *) echo "not ok - layer: $f includes curses outside tui/"; fail=1 ;; esac
	fi
done
[ "$n" -gt 50 ] || { echo "not ok - only $n include lines read"; exit 1; }
[ "$fail" -eq 0 ] && echo "ok - $n include lines of $(echo "$files" | wc -w) files follow the layer rules"

# Cycles: tsort reports a cycle on stderr; a header that includes itself is one too.
if cyc=$(tsort "$edges" 2>&1 >/dev/null) && [ -z "$cyc" ]; then
	echo "ok - no include cycle"
else
	echo "not ok - include cycle:"; echo "$cyc" | sed 's/^/    /'
	fail=1
fi
exit $fail
