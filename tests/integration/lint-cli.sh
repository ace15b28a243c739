#!/bin/bash
# lint-cli.sh: `mxdeck lint` as scripts see it: exit codes (0 clean or warnings only,
# 2 errors), findings as FILE:LINE: error|warning: message sorted by line, exactly the
# reviewed findings of tests/data/profiles/*.expected, --json, every shipped example
# clean.
set -eu

: "${MXDECK:?set MXDECK to the mxdeck binary}"
root=$(cd "$(dirname "$0")/../.." && pwd)
data=$root/tests/data/profiles
tmp=$(mktemp -d /tmp/mxdeck-lint-cli.XXXXXX)
trap 'rm -rf "$tmp"' EXIT
fails=0

ok() { echo "ok   $*"; }
bad() { echo "FAIL $*"; fails=$((fails + 1)); }

# Golden findings: run from the data directory so FILE is the bare name.
for prof in lint-errors lint-warnings parse-errors; do
	want_rc=2
	[ $prof = lint-warnings ] && want_rc=0
	rc=0
	(cd "$data" && "$MXDECK" lint "$prof.ini") 2>"$tmp/$prof.err" >"$tmp/$prof.out" || rc=$?
	if [ $rc -ne $want_rc ]; then
		bad "$prof: exit $rc, want $want_rc"
	elif ! diff -u "$data/$prof.expected" "$tmp/$prof.err" >"$tmp/diff"; then
		bad "$prof: findings differ from $prof.expected:"
		sed 's/^/     /' "$tmp/diff" | head -20
	elif [ -s "$tmp/$prof.out" ]; then
		bad "$prof: human output went to stdout"
	else
		ok "$prof: exit $rc, $(grep -c ': error: ' "$tmp/$prof.err" || true) errors and $(grep -c ': warning: ' "$tmp/$prof.err" || true) warnings as expected"
	fi
done

# Sorted by line, each finding has FILE:LINE.
if awk -F: '/: (error|warning): /{ if ($2 + 0 < prev) exit 1; prev = $2 + 0 }' "$tmp/lint-errors.err"; then
	ok "findings are sorted by line"
else
	bad "findings are not sorted by line"
fi

# --json: one document on stdout with the counts; human text stays on stderr.
rc=0
"$MXDECK" lint --json "$data/lint-errors.ini" >"$tmp/json" 2>"$tmp/json.err" || rc=$?
nerr=$(grep -c ': error: ' "$tmp/lint-errors.err")
if [ $rc -eq 2 ] && grep -q "\"counts\":{\"errors\":$nerr," "$tmp/json" &&
    grep -q '"line":44,"severity":"error"' "$tmp/json" && [ "$(wc -l <"$tmp/json")" -eq 1 ]; then
	ok "--json: exit 2, one line, errors:$nerr, per-finding line and severity"
else
	bad "--json: exit $rc: $(head -c 300 "$tmp/json")"
fi

# Every shipped example profile is free of errors (copies; the demo's with the demo CA's
# certificates it names, which the demo lab creates next to it).
mkdir -p "$tmp/ex"
cp "$root"/share/examples/*.ini "$root"/share/examples/*.csv "$tmp/ex/"
"$root/share/lab/demo-lab.sh" pki "$tmp/ex" >/dev/null
for ini in "$tmp"/ex/*.ini; do
	rc=0
	out=$("$MXDECK" lint "$ini" 2>&1) || rc=$?
	if [ $rc -eq 0 ] && ! grep -q ': error: ' <<<"$out"; then
		ok "$(basename "$ini"): exit 0 ($(grep -c ': warning: ' <<<"$out" || true) warnings)"
	else
		bad "$(basename "$ini"): exit $rc: $(grep -m3 ': error: ' <<<"$out")"
	fi
done

# A users CSV problem is reported in the CSV, at its row.
printf 'email,imap\nalice@example.org,1\nbob@example.org,maybe\n' >"$tmp/u.csv"
printf '[site]\ndomain = example.org\n[users]\nfile = u.csv\n' >"$tmp/p.ini"
rc=0
out=$("$MXDECK" lint "$tmp/p.ini" 2>&1) || rc=$?
if [ $rc -eq 2 ] && grep -q "^$tmp/u.csv:3: error: column imap: 'maybe'" <<<"$out"; then
	ok "users CSV error at u.csv:3"
else
	bad "users CSV error: exit $rc: $out"
fi

# What a renderer refuses, lint refuses too, at the line of the value (lint = render):
# every refusal of every renderer in one run, each at its key's line.
sed 's|^certificate = .*|certificate = /etc/ssl/x;y.pem|' "$root/share/examples/demo.ini" >"$tmp/r.ini"
cp "$root/share/examples/demo-users.csv" "$tmp/" 2>/dev/null || true
vlines=$(awk '/^\[/{s=$0} /^certificate = \/etc\/ssl\/x;y.pem/ && s ~ /^\[vhost /{print NR}' "$tmp/r.ini")
tline=$(awk '/^\[/{s=$0} /^certificate = \/etc\/ssl\/x;y.pem/ && s == "[tls]"{print NR}' "$tmp/r.ini")
rc=0
out=$("$MXDECK" lint "$tmp/r.ini" 2>&1) || rc=$?
rrc=0
"$MXDECK" render "$tmp/r.ini" "$tmp/rout" >/dev/null 2>&1 || rrc=$?
want=("$tmp/r.ini:$tline: error: host demo: autodiscover: certificate must be an absolute path"
    "$tmp/r.ini:$tline: error: host demo: dns: [tls] certificate /etc/ssl/x;y.pem:")
for l in $vlines; do
	want+=("$tmp/r.ini:$l: error: host demo: apache: vhost certificate must be an absolute path")
done
missing=
for w in "${want[@]}"; do
	grep -qF -- "$w" <<<"$out" || missing="$missing [$w]"
done
if [ -n "$vlines" ] && [ -n "$tline" ] && [ ${#want[@]} -ge 4 ] && [ $rc -eq 2 ] &&
    [ $rrc -eq 2 ] && [ -z "$missing" ]; then
	ok "the paths the renderers refuse: lint exit 2 with all ${#want[@]} refusals, each at its certificate line (vhosts: $(echo $vlines), [tls]: $tline), render exit 2"
else
	bad "renderer refusals not in lint: lint exit $rc, render exit $rrc, missing:$missing: $out"
fi

# A users-CSV row a renderer refuses: the finding is at the CSV's own FILE:LINE, and
# every such row is reported, not only the first.
mkdir -p "$tmp/csvref"
printf '[site]\ndomain = example.org\n[host "gw"]\naddress = gw.example.org\nroles = postfix dovecot\n[tls]\ncertificate = /etc/ssl/certs/mx.pem\nkey = /etc/ssl/private/mx.key\n[users]\nfile = users.csv\n' >"$tmp/csvref/site.ini"
printf 'email,imap,pop3,smtp,activesync,mapi,owa,ews\ngood@example.org,1,0,0,0,0,0,0\n#a@example.org,1,0,1,0,0,0,0\n#b@example.org,1,0,1,0,0,0,0\n' >"$tmp/csvref/users.csv"
rc=0
out=$("$MXDECK" lint "$tmp/csvref/site.ini" 2>&1) || rc=$?
n=$(grep -c ': error: ' <<<"$out" || true)
if [ $rc -eq 2 ] && [ "$n" -eq 2 ] &&
    grep -qF "$tmp/csvref/users.csv:3: error: host gw: dovecot: user \"#a@example.org\"" <<<"$out" &&
    grep -qF "$tmp/csvref/users.csv:4: error: host gw: dovecot: user \"#b@example.org\"" <<<"$out"; then
	ok "users-CSV rows a renderer refuses: both at users.csv:3 and :4, exit 2"
else
	bad "users-CSV refusals not at the CSV's FILE:LINE (exit $rc, $n errors): $out"
fi

echo "lint-cli: $fails failures"
[ "$fails" -eq 0 ]
