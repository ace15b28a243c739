#!/bin/bash
# push-knownhosts.sh: known_hosts markers against a real sshd. A line "@revoked ... KEY"
# for the host's real key makes plan and apply exit 3 with the file, line, key type and
# fingerprint, even when another line (hashed, [addr]:port) accepts that key, even when
# the @revoked line names another host, and even with --accept-new-host-keys; nothing is
# written on the host and known_hosts is left as it was. A host whose only entry is
# @cert-authority is refused (host certificates are not supported) with what to do.
set -eu
. "$(dirname "$0")/../lab/push-lib.sh"

"$labtools/lab-hosts.sh" start "$lab" 1
light_profile >"$lab/site.ini"
addr=$(awk '{print $2}' "$lab/hosts.list")
key=$(cut -d' ' -f1,2 "$lab/h1/sshd/hostkey.pub")
fp=$(ssh-keygen -l -E sha256 -f "$lab/h1/sshd/hostkey.pub" | awk '{print $2}')
grep -q '^|1|' "$lab/known_hosts" || die "test setup: the lab known_hosts is not hashed"

# The lab's known_hosts accepts the key (hashed [addr]:port line): the host is reachable.
rc=0
mx plan "$lab/site.ini" >"$lab/out" 2>&1 || rc=$?
[ $rc -eq 1 ] || { cat "$lab/out"; die "plan with the plain known_hosts: exit $rc, want 1"; }
ok "plan with the key accepted: exit 1 (drift), the host is reachable"

# refused KH ARGS...: plan and apply (with ARGS) exit 3 and change nothing.
refused() {
	local kh=$1 want=$2 sum
	shift 2
	sum=$(sha256sum <"$kh")
	host_state "$lab/h1" >"$lab/before"
	for cmd in plan "apply --yes"; do
		rc=0
		# shellcheck disable=SC2086
		"$MXDECK" --known-hosts "$kh" "$@" $cmd "$lab/site.ini" >"$lab/out" 2>&1 || rc=$?
		[ $rc -eq 3 ] || { cat "$lab/out"; die "$cmd $*: exit $rc, want 3"; }
		grep -qF -- "$want" "$lab/out" || { cat "$lab/out"; die "$cmd $*: no '$want' in the report"; }
	done
	[ "$(sha256sum <"$kh")" = "$sum" ] || die "$kh was changed"
	host_state "$lab/h1" | diff -q "$lab/before" - >/dev/null || die "a file was written on the host"
	[ -z "$(ls -A "$lab/h1/state")" ] || die "state written: $(ls -A "$lab/h1/state")"
}

# 1. Revoked, while the hashed line before it still accepts the key.
kh=$lab/kh-revoked
{ cat "$lab/known_hosts"; echo "# the old key leaked"; echo "@revoked [$addr]:2222 $key"; } >"$kh"
refused "$kh" "REVOKED HOST KEY for [$addr]:2222"
grep -qF "$kh line 3 marks @revoked" "$lab/out" && grep -qF "ssh-ed25519 $fp" "$lab/out" ||
	{ cat "$lab/out"; die "the message does not name the file, line 3, the key type and $fp"; }
refused "$kh" "REVOKED HOST KEY" --accept-new-host-keys
ok "@revoked + an accepting hashed line: plan and apply exit 3 with file:line, type and $fp; nothing written, known_hosts unchanged, also with --accept-new-host-keys"

# 2. Revoked under another host pattern, no other line: not "unknown", and never recorded
# by --accept-new-host-keys.
kh=$lab/kh-revoked-other
echo "@revoked old-gateway.example.org $key" >"$kh"
refused "$kh" "REVOKED HOST KEY for [$addr]:2222" --accept-new-host-keys
grep -qF "$kh line 1 marks @revoked" "$lab/out" || { cat "$lab/out"; die "no file:line"; }
ok "@revoked for another host name: refused (exit 3) even with --accept-new-host-keys, not recorded"

# 3. Revoked with a hashed host name and CRLF line ends.
kh=$lab/kh-revoked-crlf
hashed=$(awk '/^\|1\|/ {print $1; exit}' "$lab/known_hosts")
printf '%s %s\r\n@revoked %s %s\r\n' "$hashed" "$key" "$hashed" "$key" >"$kh"
refused "$kh" "REVOKED HOST KEY for [$addr]:2222"
ok "@revoked with a hashed name in a CRLF file: refused (exit 3)"

# The refusal really is the @revoked line: the same file without it connects.
grep -v '^@revoked' "$lab/kh-revoked" >"$lab/kh-accepted"
rc=0
"$MXDECK" --known-hosts "$lab/kh-accepted" plan "$lab/site.ini" >"$lab/out" 2>&1 || rc=$?
[ $rc -eq 1 ] || { cat "$lab/out"; die "without the @revoked line: exit $rc, want 1"; }
ok "the same known_hosts without the @revoked line: plan reaches the host (exit 1)"

# 4. Only a @cert-authority line for the host: refused with what to do, never recorded.
kh=$lab/kh-ca
ssh-keygen -q -t ed25519 -N '' -C lab-ca -f "$lab/ca"
echo "@cert-authority [$addr]:*,*.example.org $(cut -d' ' -f1,2 "$lab/ca.pub")" >"$kh"
refused "$kh" "does not support SSH host certificates" --accept-new-host-keys
grep -qF "$kh line 1 trusts a certificate authority (@cert-authority) for [$addr]:2222" "$lab/out" &&
	grep -qF "$fp" "$lab/out" && grep -qF "ssh-keyscan -p 2222 -t ssh-ed25519 $addr >> $kh" "$lab/out" ||
	{ cat "$lab/out"; die "the @cert-authority message does not say what to do"; }
# What it says to do works: ssh-keyscan's line (verified by fingerprint) lets plan in.
ssh-keyscan -p 2222 -t ssh-ed25519 "$addr" 2>/dev/null >"$lab/scanned"
[ "$(ssh-keygen -l -E sha256 -f "$lab/scanned" | awk '{print $2}')" = "$fp" ] ||
	die "ssh-keyscan got another key"
cat "$lab/scanned" >>"$kh"
rc=0
"$MXDECK" --known-hosts "$kh" plan "$lab/site.ini" >"$lab/out" 2>&1 || rc=$?
[ $rc -eq 1 ] || { cat "$lab/out"; die "after ssh-keyscan >> known_hosts: exit $rc, want 1"; }
ok "@cert-authority only: refused (exit 3), message names the line, $fp and the ssh-keyscan command, which then works"
