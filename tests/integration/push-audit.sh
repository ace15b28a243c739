#!/bin/bash
# push-audit.sh: `mxdeck audit` against an sshd whose SFTP subsystem is read-only
# (internal-sftp -R): it reports drift (none, then a tampered file) and never writes.
# Proof: every process of that sshd runs under strace while the audit runs, and the
# only files opened for writing (or created, renamed, removed, chmod-ed) are sshd's own
# log, /proc/self/oom_score_adj and /dev/null|/dev/tty; the managed files were read.
set -eu
. "$(dirname "$0")/../lab/push-lib.sh"
command -v strace >/dev/null || { echo "strace not installed"; exit 77; }

"$labtools/lab-hosts.sh" start "$lab" 1
light_profile >"$lab/site.ini"
mx apply --yes "$lab/site.ini" >"$lab/out" 2>&1 || { cat "$lab/out"; die "apply"; }
addr=$(awk '{print $2}' "$lab/hosts.list")
s=$lab/h1/sshd
"$labtools/sshd.sh" stop "$s"
"$labtools/sshd.sh" start "$s" "$addr" 2222 "$lab/authorized_keys" ro >/dev/null
grep -q 'internal-sftp -R' "$s/sshd_config" || die "test setup: SFTP not read-only"

traced_audit() {	# traced_audit OUT.json STRACE
	local spid st rc=0
	spid=$(cat "$s/sshd.pid")
	strace -f -qq -o "$2" -p "$spid" -e trace=openat,open,creat,rename,renameat,renameat2,mkdir,mkdirat,unlink,unlinkat,rmdir,symlink,symlinkat,link,linkat,chmod,fchmod,fchmodat,truncate,ftruncate,utimensat &
	st=$!
	extra_cleanup="kill $st"
	sleep 0.5
	MXDECK_PROBES=dns MXDECK_PROBE_TIMEOUT=1 mx audit --json "$lab/site.ini" >"$1" 2>"$1.err" || rc=$?
	sleep 0.3
	kill $st
	wait $st 2>/dev/null || true
	extra_cleanup=:
	return $rc
}
no_writes() {	# no_writes STRACE
	local bad
	bad=$(grep -E 'O_WRONLY|O_RDWR|O_CREAT|O_TRUNC|rename|mkdir|unlink|rmdir|symlink|link(at)?\(|chmod|truncate|utimensat' "$1" |
		grep -v -e "\"$s/sshd.log\"" -e '"/proc/self/oom_score_adj"' -e '"/dev/null"' -e '"/dev/tty"' || true)
	[ -z "$bad" ] || { echo "$bad"; return 1; }
	grep -q "openat(AT_FDCWD, \"$lab/h1/etc/postfix/mxdeck.postconf\", O_RDONLY" "$1" || { echo "managed file not read through this sshd"; return 1; }
}

host_state "$lab/h1" >"$lab/before"
ls -la --time-style=full-iso "$lab/h1/state" >"$lab/before.state"
rc=0
traced_audit "$lab/a1.json" "$lab/strace1" || rc=$?
[ $rc -le 1 ] || { cat "$lab/a1.json.err"; die "audit: exit $rc"; }
python3 - "$lab/a1.json" <<'PY' || die "audit JSON (no drift)"
import json, sys
d = json.load(open(sys.argv[1]))
assert d["command"] == "audit"
h = d["hosts"][0]
assert h["exit"] == 0 and h["summary"] == "no changes", h
assert "results" in d and d["summary"]["probes"] > 0
PY
no_writes "$lab/strace1" || die "audit wrote on the host"
ok "audit over read-only SFTP: no drift, live tests ran, and no process of that sshd opened anything for writing"

echo "# tampered" >>"$lab/h1/etc/postfix/mxdeck_transport"
host_state "$lab/h1" >"$lab/before"
rc=0
traced_audit "$lab/a2.json" "$lab/strace2" || rc=$?
[ $rc -eq 1 ] || die "audit with drift: exit $rc, want 1"
python3 - "$lab/a2.json" <<'PY' || die "audit JSON (drift)"
import json, sys
d = json.load(open(sys.argv[1]))
h = d["hosts"][0]
assert h["exit"] == 1, h
tr = [c for c in h["changes"] if c["path"].endswith("/etc/postfix/mxdeck_transport")]
assert len(tr) == 1 and tr[0]["kind"] == "modify", h["changes"]
assert "-# tampered\n" in tr[0]["diff"], tr[0]["diff"]
PY
no_writes "$lab/strace2" || die "audit wrote on the host"
host_state "$lab/h1" | diff -u "$lab/before" - || die "audit changed a file"
ls -la --time-style=full-iso "$lab/h1/state" | diff -u "$lab/before.state" - || die "audit changed the state directory"
ok "audit finds the tampered file (exit 1, diff in JSON) and still writes nothing: no lock, no file"

# The same drift as a Nagios/Icinga plugin and as a Prometheus textfile.
rc=0
MXDECK_PROBES=dns MXDECK_PROBE_TIMEOUT=1 mx audit --format nagios "$lab/site.ini" >"$lab/nagios" 2>/dev/null || rc=$?
[ -s "$lab/nagios" ] || die "audit --format nagios printed nothing"
head -1 "$lab/nagios" | grep -Eq '^MXDECK audit (WARNING|CRITICAL) - .*1 host in drift.* \| .*drift=1;0;;0;' ||
	{ cat "$lab/nagios"; die "audit --format nagios: status line"; }
[ $rc -eq 1 ] || [ $rc -eq 2 ] || die "audit --format nagios with drift: exit $rc, want 1 or 2"
grep -Eq '^DRIFT h1: [0-9]+ changes? to apply$' "$lab/nagios" || { cat "$lab/nagios"; die "audit --format nagios: no DRIFT line for h1"; }
rc=0
MXDECK_PROBES=dns MXDECK_PROBE_TIMEOUT=1 mx audit --format prometheus "$lab/site.ini" >"$lab/prom" 2>/dev/null || rc=$?
grep -Eq '^mxdeck_drift_changes\{host="h1"\} [1-9][0-9]*$' "$lab/prom" || { cat "$lab/prom"; die "audit --format prometheus: no drift metric"; }
grep -qx 'mxdeck_host_checked{host="h1"} 1' "$lab/prom" || die "audit --format prometheus: host_checked"
ok "audit --format nagios says WARNING/CRITICAL with drift=1 and a DRIFT line; --format prometheus has mxdeck_drift_changes{host=\"h1\"}"

rc=0
mx apply --yes "$lab/site.ini" >"$lab/out" 2>&1 || rc=$?
[ $rc -ne 0 ] || die "apply through a read-only SFTP server succeeded?"
host_state "$lab/h1" | diff -q "$lab/before" - >/dev/null || die "apply through read-only SFTP changed a file"
ok "the server really is read-only: apply through it fails (exit $rc) and changes nothing"
