#!/bin/bash
# push-hostile.sh: a host name and a state directory with spaces, quotes, $(...),
# backticks and ';' round-trip through every remote command and SFTP path (lock,
# backup, journal, uploaded scripts) without any command injection.
set -eu
. "$(dirname "$0")/../lab/push-lib.sh"

"$labtools/lab-hosts.sh" start "$lab" 1
"$labtools/lab-hosts.sh" profile "$lab" "postfix dns exchange" |
	awk '/^\[(vhost|autodiscover) /{skip=1; next} /^\[/{skip=0} !skip' >"$lab/plain.ini"
name="gw \"one\"; \$(touch $lab/pwned-name) \`touch $lab/pwned-tick\` it's"
sdir="$lab/h1/st ate \"q\" 'x' \$(touch $lab/pwned-dir); y \`touch $lab/pwned-dir2\`"
python3 - "$lab/plain.ini" "$lab/site.ini" "$name" "$sdir" <<'PY'
import sys
src, dst, name, sdir = sys.argv[1:]
q = lambda s: '"' + s.replace('\\', '\\\\').replace('"', '\\"') + '"'
out = []
for line in open(src):
    if line.startswith('[host "h1"]'):
        line = '[host %s]\n' % q(name)
    elif line.startswith('state_dir = '):
        line = 'state_dir = %s\n' % q(sdir)
    out.append(line)
open(dst, "w").write("".join(out))
PY
"$MXDECK" lint "$lab/site.ini" >/dev/null 2>&1 || { "$MXDECK" lint "$lab/site.ini"; die "test setup: lint"; }
"$MXDECK" render "$lab/site.ini" "$lab/render" 2>/dev/null

pwned() { ls "$lab"/pwned* >/dev/null 2>&1; }
rc=0
mx apply --yes --host "$name" "$lab/site.ini" >"$lab/out" 2>&1 || rc=$?
[ $rc -eq 0 ] || { cat "$lab/out"; die "apply with hostile names: exit $rc"; }
pwned && die "command injection: $(ls "$lab"/pwned*)"
grep -qF "=== host $name (" "$lab/out" || die "report does not show the host name verbatim"
for f in dns/mxdeck.nsupdate dns/example.org.zone exchange/mxdeck-cas.ps1; do
	[ -f "$sdir/$f" ] || die "missing $sdir/$f"
	rendered=$(find "$lab/render" -path "*/$f" -type f | head -n 1)
	cmp -s "$rendered" "$sdir/$f" || die "$f differs from the rendered file"
done
grep -q "apply host=gw%20%22one%22%3B%20%24%28touch" "$sdir/journal" || die "journal entry"
ls "$sdir"/backup/*/manifest >/dev/null || die "no backup in the hostile state_dir"
[ ! -e "$sdir/lock" ] || die "lock left"
ok "apply: host name and state_dir with spaces, quotes, \$(...), backticks and ';' round-trip; no injection"

echo 'update add evil.example.org. 60 IN A 192.0.2.66' >>"$sdir/dns/mxdeck.nsupdate"
rc=0
mx plan "$lab/site.ini" >"$lab/out" 2>&1 || rc=$?
[ $rc -eq 1 ] || die "plan after tampering: exit $rc"
grep -qF -- "-update add evil.example.org. 60 IN A 192.0.2.66" "$lab/out" || die "diff not shown"
grep -qF -- "--- a${sdir}/dns/mxdeck.nsupdate" "$lab/out" || die "diff header does not carry the path verbatim"
rc=0
mx apply --yes "$lab/site.ini" >"$lab/out" 2>&1 || rc=$?
[ $rc -eq 0 ] || die "re-apply: exit $rc"
rc=0
mx plan "$lab/site.ini" >"$lab/out" 2>&1 || rc=$?
[ $rc -eq 0 ] || die "plan after re-apply: exit $rc"
pwned && die "command injection: $(ls "$lab"/pwned*)"
ok "drift in a file under the hostile path: plan shows it, apply repairs it, still no injection"
