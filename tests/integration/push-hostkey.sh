#!/bin/bash
# push-hostkey.sh: strict host keys. A changed key is refused (exit 3) with its SHA256
# fingerprint and nothing is written; an unknown key is refused unless
# --accept-new-host-keys, which records it ([addr]:port form) for the next run.
set -eu
. "$(dirname "$0")/../lab/push-lib.sh"

"$labtools/lab-hosts.sh" start "$lab" 1
light_profile >"$lab/site.ini"
addr=$(awk '{print $2}' "$lab/hosts.list")
s=$lab/h1/sshd

# The host gets a new key (reinstalled, or someone in the middle).
"$labtools/sshd.sh" stop "$s"
rm -f "$s/hostkey" "$s/hostkey.pub"
"$labtools/sshd.sh" start "$s" "$addr" 2222 "$lab/authorized_keys" >/dev/null
fp=$(ssh-keygen -l -E sha256 -f "$s/hostkey.pub" | awk '{print $2}')
host_state "$lab/h1" >"$lab/before"
rc=0
mx apply --yes "$lab/site.ini" >"$lab/out" 2>&1 || rc=$?
[ $rc -eq 3 ] || { cat "$lab/out"; die "changed host key: exit $rc, want 3"; }
grep -q "HOST KEY CHANGED for \[$addr\]:2222" "$lab/out" && grep -qF "$fp" "$lab/out" ||
	{ cat "$lab/out"; die "no clear message with the new fingerprint $fp"; }
host_state "$lab/h1" | diff -q "$lab/before" - >/dev/null || die "a file was written"
[ ! -e "$lab/h1/state/lock" ] && [ -z "$(ls -A "$lab/h1/state")" ] || die "state written"
rc=0
mx --accept-new-host-keys apply --yes "$lab/site.ini" >"$lab/out" 2>&1 || rc=$?
[ $rc -eq 3 ] || die "--accept-new-host-keys must not accept a CHANGED key (exit $rc)"
ok "changed host key: exit 3, fingerprint $fp shown, nothing written, even with --accept-new-host-keys"

# Unknown host: refused, then recorded with --accept-new-host-keys.
kh=$lab/kh-empty
: >"$kh"
rc=0
"$MXDECK" --known-hosts "$kh" plan "$lab/site.ini" >"$lab/out" 2>&1 || rc=$?
[ $rc -eq 3 ] && grep -q "unknown host key for \[$addr\]:2222" "$lab/out" && grep -qF "$fp" "$lab/out" ||
	{ cat "$lab/out"; die "unknown key: exit $rc"; }
rc=0
"$MXDECK" --known-hosts "$kh" --accept-new-host-keys apply --yes "$lab/site.ini" >"$lab/out" 2>&1 || rc=$?
[ $rc -eq 0 ] || { cat "$lab/out"; die "--accept-new-host-keys apply: exit $rc"; }
# Recorded as ssh_config says (Debian's /etc/ssh/ssh_config hashes names): ssh-keygen finds it.
ssh-keygen -F "[$addr]:2222" -f "$kh" | grep -q " ssh-ed25519 " || die "key not recorded"
ssh-keygen -F "[$addr]:2222" -f "$kh" >/dev/null || die "ssh-keygen does not find the recorded key"
rc=0
"$MXDECK" --known-hosts "$kh" plan "$lab/site.ini" >"$lab/out" 2>&1 || rc=$?
[ $rc -eq 0 ] || { cat "$lab/out"; die "plan with the recorded key: exit $rc"; }
ok "unknown key refused (exit 3) until --accept-new-host-keys records it; OpenSSH reads the entry; next run is silent"
