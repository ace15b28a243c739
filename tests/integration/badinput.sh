#!/bin/bash
# badinput.sh: `mxdeck lint` on many broken variants of every shipped profile and users
# CSV. Variants come from tests/fuzz/mutate.c (deterministic: same seeds, same bytes):
# truncation at evenly spaced lengths, random byte flips, binary garbage, NUL bytes,
# huge lines, deeply nested quotes and brackets, deleted/duplicated/swapped lines,
# printable junk. Every run must exit 0 or 2 (never a signal, a timeout, or a
# sanitizer report), and an exit 2 must come with a FILE:LINE: error finding about
# the profile or its CSV.
#
# env: MXDECK (the binary), FUZZ_SCALE (variants per mode multiplier, default 1),
#      FUZZ_JOBS (parallel runs, default nproc).
set -eu

: "${MXDECK:?set MXDECK to the mxdeck binary}"
root=$(cd "$(dirname "$0")/../.." && pwd)
examples=$root/share/examples
scale=${FUZZ_SCALE:-1}
jobs=${FUZZ_JOBS:-$(nproc 2>/dev/null || echo 4)}

tmp=$(mktemp -d /tmp/mxdeck-badinput.XXXXXX)
trap 'rm -rf "$tmp"' EXIT
work=$tmp/w
mkdir -p "$work"

cc -std=c17 -O2 -Wall -Wextra -o "$tmp/mutate" "$root/tests/fuzz/mutate.c"

# check PROFILE [CSV]: one lint run; prints nothing when fine, else one FAIL line.
check() {
	local prof=$1 csv=${2:-} out rc=0
	out=$(cd "$work" && ASAN_OPTIONS=${ASAN_OPTIONS:-abort_on_error=0} \
	    timeout 20 "$MXDECK" lint "$prof" 2>&1 >/dev/null) || rc=$?
	if grep -qE 'AddressSanitizer|LeakSanitizer|runtime error:' <<<"$out"; then
		echo "FAIL $prof${csv:+ ($csv)}: sanitizer report: $(grep -m1 -E 'Sanitizer|runtime error' <<<"$out")"
		return
	fi
	case $rc in
	0) return ;;
	2) ;;
	124) echo "FAIL $prof${csv:+ ($csv)}: timed out (20 s)"; return ;;
	*) echo "FAIL $prof${csv:+ ($csv)}: exit $rc: $(head -c 300 <<<"$out")"; return ;;
	esac
	# exit 2: a FILE:LINE: error about the profile or a file it names
	if ! grep -qaE "^(\./)?[^ :]+:[0-9]+: error: " <<<"$out"; then
		echo "FAIL $prof${csv:+ ($csv)}: exit 2 without a FILE:LINE: error finding: $(head -c 300 <<<"$out")"
	fi
}
export -f check
export MXDECK work

# mode and count (times FUZZ_SCALE)
modes="trunc:36 flip:24 garbage:10 nul:6 huge:4 quotes:9 lines:9 ascii:12"

fails=0
total=0
cp "$examples"/*.csv "$work"/
report() {	# report NAME MODE LISTFILE RESULTFILE
	local n nf
	n=$(wc -l <"$3")
	nf=$(grep -c '^FAIL' "$4" || true)
	total=$((total + n))
	if [ "$nf" -eq 0 ]; then
		echo "ok   $1 $2: $n variants, exit 0/2 with FILE:LINE findings"
	else
		echo "FAIL $1 $2: $nf of $n variants"
		head -5 "$4" | sed 's/^/     /'
		fails=$((fails + nf))
	fi
}

seed=1
for ini in "$examples"/*.ini; do
	name=$(basename "$ini")
	cp "$ini" "$work/$name"
	check "$name" >"$tmp/res" || true
	report "$name" "original" <(echo "$name") "$tmp/res"
	for m in $modes; do
		mode=${m%%:*}
		count=$(( ${m#*:} * scale ))
		"$tmp/mutate" "$mode" "$count" "$seed" "$ini" "$work/$name"
		seed=$((seed + 1))
		ls "$work" | grep -F -- "$name-$mode-" >"$tmp/list"
		xargs -a "$tmp/list" -P "$jobs" -I{} bash -c 'check "$1"' _ {} >"$tmp/res" || true
		report "$name" "$mode" "$tmp/list" "$tmp/res"
		xargs -a "$tmp/list" -I{} rm -f "$work/{}"
	done
done

# CSV variants: each CSV through the example profile that names it.
for csv in "$examples"/*.csv; do
	cname=$(basename "$csv")
	prof=$(grep -l -E "^file *= *$cname" "$examples"/*.ini | head -1 || true)
	if [ -z "$prof" ]; then
		echo "skip $cname: no example profile uses it"
		continue
	fi
	for m in $modes; do
		mode=${m%%:*}
		count=$(( ${m#*:} * scale ))
		"$tmp/mutate" "$mode" "$count" "$seed" "$csv" "$work/v-$cname"
		seed=$((seed + 1))
		: >"$tmp/list"
		for v in "$work"/v-"$cname"-"$mode"-*; do
			vb=$(basename "$v")
			sed "s|^file *= *$cname|file = $vb|" "$prof" >"$work/$vb.ini"
			echo "$vb.ini $vb" >>"$tmp/list"
		done
		xargs -a "$tmp/list" -P "$jobs" -L1 bash -c 'check "$1" "$2"' _ >"$tmp/res" || true
		report "$cname" "$mode" "$tmp/list" "$tmp/res"
		rm -f "$work"/v-"$cname"-"$mode"-*
	done
done

# Hand-made inputs the mutator does not reach.
hand() {	# hand NAME CONTENT-GENERATOR...
	local name=$1
	shift
	"$@" >"$work/$name"
	check "$name" >"$tmp/res" || true
	report "hand" "$name" <(echo "$name") "$tmp/res"
}
rep() {	# rep N STRING: STRING N times
	local i
	for ((i = 0; i < $1; i++)); do printf '%s' "$2"; done
}
site() { printf '[site]\ndomain = example.org\n'; }
g_long_section() { printf '[host "'; head -c 2000000 /dev/zero | tr '\0' a; printf '"]\n'; }
g_many_sections() {
	site
	for i in $(seq 1 3000); do printf '[host "h%d"]\naddress = local\nroles = postfix\n' "$i"; done
}
g_many_rules() {
	site
	printf '[header-rules "x"]\n'
	for i in $(seq 1 3000); do
		printf 'rule = /^X-%d:(((((a)))))/ REPLACE X-%d: $%d\n' "$i" "$i" $((i % 7))
	done
}
g_nested_parens() {
	site
	printf '[header-rules "x"]\nrule = /'
	head -c 50000 /dev/zero | tr '\0' '('
	printf '/ IGNORE\n'
}
g_nested_dollar() {
	site
	printf '[header-rules "x"]\nrule = /^(X)/ REPLACE X: '
	rep 20000 '${'
	printf '\n'
}
g_backslashes() { printf '[site]\ndomain = "'; head -c 100000 /dev/zero | tr '\0' '\\'; printf '\n'; }
g_quotes_in_name() { printf '[host "'; rep 20000 '\"'; printf '"]\n'; }
g_csv_header_only() { printf 'email\n' >"$work/h.csv"; site; printf '[users]\nfile = h.csv\n'; }
g_csv_dir() { mkdir -p "$work/d.csv"; site; printf '[users]\nfile = d.csv\n'; }
g_csv_self() { site; printf '[users]\nfile = csv-self.ini\n'; }
g_csv_quotes() {
	rep 30000 '"' >"$work/q.csv"
	site
	printf '[users]\nfile = q.csv\n'
}

hand empty.ini printf ''
hand bom-only.ini printf '\357\273\277'
hand bracket.ini printf '['
hand crlf-only.ini printf '\r\n\r\n\r'
hand quote-only.ini printf '"'
hand nul-only.ini printf '\0\0\0\0'
hand long-section.ini g_long_section
hand many-sections.ini g_many_sections
hand many-rules.ini g_many_rules
hand nested-parens.ini g_nested_parens
hand nested-dollar.ini g_nested_dollar
hand backslashes.ini g_backslashes
hand quotes-in-name.ini g_quotes_in_name
hand csv-header-only.ini g_csv_header_only
hand csv-dir.ini g_csv_dir
hand csv-self.ini g_csv_self
hand csv-quotes.ini g_csv_quotes

# A profile that is a directory, and one that does not exist: exit 2 and a finding
# about the file as a whole (there is no line).
for p in "$work" "$work/does-not-exist.ini"; do
	rc=0
	out=$("$MXDECK" lint "$p" 2>&1 >/dev/null) || rc=$?
	total=$((total + 1))
	if [ "$rc" -eq 2 ] && grep -qF "$p" <<<"$out"; then
		echo "ok   unreadable $(basename "$p"): exit 2, names the file"
	else
		echo "FAIL unreadable $(basename "$p"): exit $rc: $out"
		fails=$((fails + 1))
	fi
done

echo "badinput: $total runs, $fails failures"
[ "$fails" -eq 0 ]
