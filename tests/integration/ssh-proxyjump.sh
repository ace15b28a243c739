#!/bin/bash
# ssh-proxyjump.sh: a gateway behind a bastion, the usual DMZ set-up, with real sshd.
#
# Two network namespaces made here and removed on exit: "dmz" holds the target sshd,
# listening only on the namespace's own loopback (127.0.0.1), and the bastion sshd on
# a veth address; "ctl" holds mxdeck, linked to "dmz" by that veth pair (a /30 that
# exists only inside these two namespaces). From ctl the target is reachable only
# through the bastion. Checked: a direct connection fails; plan and apply work through
# ProxyJump (one hop, then two); a wrong or unknown bastion host key is refused naming
# the bastion, nothing written; a bastion that cannot reach the target is named.
set -eu
. "$(dirname "$0")/../lab/push-lib.sh"

[ "$(id -u)" -eq 0 ] || { echo "needs root for ip netns"; exit 77; }
# ip netns changes the mount propagation of /: a chroot whose / is not a mount point
# (a container, the shared fresh-machine tool) cannot; tests/fresh-root.sh can.
unshare -m --propagation private true 2>/dev/null && unshare -n true 2>/dev/null ||
	{ echo "this kernel/container allows no private mount or network namespace (unshare -m -n)"; exit 77; }
ctl=mxdk-c-$$
dmz=mxdk-t-$$
net=10.77.$((RANDOM % 250 + 1))
cip=$net.1	# ctl's end
bip=$net.2	# dmz's end: the bastion listens here
extra_cleanup='"$labtools/sshd.sh" stop "$lab/bastion" 2>/dev/null; "$labtools/sshd.sh" stop "$lab/h1/sshd" 2>/dev/null; ip netns del '"$ctl"' 2>/dev/null; ip netns del '"$dmz"' 2>/dev/null'

ip netns add "$ctl"
ip netns add "$dmz"
ip link add "mxc$$" netns "$ctl" type veth peer name "mxt$$" netns "$dmz"
ip -n "$ctl" addr add "$cip/30" dev "mxc$$"
ip -n "$dmz" addr add "$bip/30" dev "mxt$$"
for ns in "$ctl" "$dmz"; do ip -n "$ns" link set lo up; done
ip -n "$ctl" link set "mxc$$" up
ip -n "$dmz" link set "mxt$$" up

# The lab host h1 (its config tree and keys), its sshd moved into dmz's loopback.
"$labtools/lab-hosts.sh" start "$lab" 1
"$labtools/sshd.sh" stop "$lab/h1/sshd"
ip netns exec "$dmz" "$labtools/sshd.sh" start "$lab/h1/sshd" 127.0.0.1 2222 "$lab/authorized_keys" >/dev/null
ip netns exec "$dmz" "$labtools/sshd.sh" start "$lab/bastion" "$bip" 2222 "$lab/authorized_keys" >/dev/null
tkey=$(cut -d' ' -f1,2 "$lab/h1/sshd/hostkey.pub")
bkey=$(cut -d' ' -f1,2 "$lab/bastion/hostkey.pub")
bfp=$(ssh-keygen -l -E sha256 -f "$lab/bastion/hostkey.pub" | awk '{print $2}')
printf '[127.0.0.1]:2222 %s\n[%s]:2222 %s\n' "$tkey" "$bip" "$bkey" >"$lab/kh"

# The profile names the gateway by its ssh_config alias only.
light_profile | sed -e 's/^address = .*/address = gw-dmz/' -e '/^port = /d' -e '/^user = /d' \
	-e '/^identity = /d' >"$lab/site.ini"
grep -q '^address = gw-dmz$' "$lab/site.ini" || die "profile not rewritten"
config() {	# FILE PROXYJUMP [TARGET-PORT] [KNOWN_HOSTS]
	cat >"$1" <<CFG
Host gw-dmz
    HostName 127.0.0.1
    Port ${3:-2222}
    ProxyJump $2
Host bastion bastion-again
    HostName $bip
    Port 2222
Host *
    User root
    IdentityFile $lab/id_ed25519
    IdentitiesOnly yes
    UserKnownHostsFile ${4:-$lab/kh}
    GlobalKnownHostsFile none
    HashKnownHosts no
CFG
}
inctl() { ip netns exec "$ctl" env -u SSH_AUTH_SOCK "$@"; }

# 1. No way around the bastion: a direct connection from ctl fails.
config "$lab/direct.cfg" none
rc=0
inctl "$MXDECK" -F "$lab/direct.cfg" plan "$lab/site.ini" >"$lab/out" 2>&1 || rc=$?
[ $rc -eq 3 ] && grep -q "host h1: cannot connect to 127.0.0.1 port 2222" "$lab/out" ||
	{ cat "$lab/out"; die "direct: exit $rc, want 3 (cannot connect)"; }
ok "the target is not reachable from ctl without the bastion"

# 2. Through the bastion: plan sees drift, apply changes the host, plan is then clean.
config "$lab/jump.cfg" bastion
host_state "$lab/h1" >"$lab/before"
rc=0
inctl "$MXDECK" -F "$lab/jump.cfg" plan "$lab/site.ini" >"$lab/out" 2>&1 || rc=$?
[ $rc -eq 1 ] && grep -q 'main.cf' "$lab/out" || { cat "$lab/out"; die "plan via bastion: exit $rc, want 1"; }
ok "plan through ProxyJump bastion: exit 1 with the main.cf diff"
rc=0
inctl "$MXDECK" -F "$lab/jump.cfg" apply --yes "$lab/site.ini" >"$lab/out" 2>&1 || rc=$?
[ $rc -eq 0 ] || { cat "$lab/out"; die "apply via bastion: exit $rc"; }
host_state "$lab/h1" | diff -q "$lab/before" - >/dev/null && die "apply via bastion changed nothing"
rc=0
inctl "$MXDECK" -F "$lab/jump.cfg" plan "$lab/site.ini" >"$lab/out" 2>&1 || rc=$?
[ $rc -eq 0 ] || { cat "$lab/out"; die "plan after apply: exit $rc, want 0"; }
grep -q "Accepted publickey for root from 127.0.0.1" "$lab/h1/sshd/sshd.log" ||
	die "the target's sshd saw no login from its own loopback (the bastion)"
grep -q "Accepted publickey for root from $cip" "$lab/bastion/sshd.log" ||
	die "the bastion's sshd saw no login from ctl"
ok "apply through the bastion: host changed, then in sync; the target saw logins from the bastion only"

# 3. Two hops (the bastion, then the bastion again through itself).
config "$lab/jump2.cfg" "bastion,bastion-again"
n0=$(grep -c "Accepted publickey for root from $bip" "$lab/bastion/sshd.log" || true)
rc=0
inctl "$MXDECK" -F "$lab/jump2.cfg" plan "$lab/site.ini" >"$lab/out" 2>&1 || rc=$?
[ $rc -eq 0 ] || { cat "$lab/out"; die "two hops: exit $rc, want 0"; }
n1=$(grep -c "Accepted publickey for root from $bip" "$lab/bastion/sshd.log" || true)
[ "$n1" -gt "$n0" ] || die "the second hop did not log in through the first"
ok "ProxyJump bastion,bastion-again: plan through two hops"

# 4. The bastion presents another key than known_hosts says: refused, naming it.
other=$(ssh-keygen -q -t ed25519 -N '' -f "$lab/otherkey" && cut -d' ' -f1,2 "$lab/otherkey.pub")
printf '[127.0.0.1]:2222 %s\n[%s]:2222 %s\n' "$tkey" "$bip" "$other" >"$lab/kh-wrong"
config "$lab/wrong.cfg" bastion 2222 "$lab/kh-wrong"
host_state "$lab/h1" >"$lab/before"
cp "$lab/kh-wrong" "$lab/kh-wrong.before"
for args in "plan" "--accept-new-host-keys apply --yes"; do
	rc=0
	# shellcheck disable=SC2086
	inctl "$MXDECK" -F "$lab/wrong.cfg" $args "$lab/site.ini" >"$lab/out" 2>&1 || rc=$?
	[ $rc -eq 3 ] && grep -q "host h1: jump host bastion: HOST KEY CHANGED for \[$bip\]:2222" "$lab/out" &&
		grep -qF "$bfp" "$lab/out" || { cat "$lab/out"; die "wrong bastion key ($args): exit $rc"; }
done
host_state "$lab/h1" | diff -q "$lab/before" - >/dev/null || die "a file was written"
cmp -s "$lab/kh-wrong" "$lab/kh-wrong.before" || die "known_hosts changed"
ok "a wrong bastion host key: exit 3 naming the jump host bastion and $bfp, also with --accept-new-host-keys; nothing written"

# 5. The bastion unknown: refused naming it; --accept-new-host-keys records it.
printf '[127.0.0.1]:2222 %s\n' "$tkey" >"$lab/kh-nobastion"
config "$lab/unknown.cfg" bastion 2222 "$lab/kh-nobastion"
rc=0
inctl "$MXDECK" -F "$lab/unknown.cfg" plan "$lab/site.ini" >"$lab/out" 2>&1 || rc=$?
[ $rc -eq 3 ] && grep -q "host h1: jump host bastion: unknown host key for \[$bip\]:2222" "$lab/out" ||
	{ cat "$lab/out"; die "unknown bastion key: exit $rc"; }
rc=0
inctl "$MXDECK" -F "$lab/unknown.cfg" --accept-new-host-keys plan "$lab/site.ini" >"$lab/out" 2>&1 || rc=$?
[ $rc -eq 0 ] && grep -qF "[$bip]:2222 $bkey" "$lab/kh-nobastion" ||
	{ cat "$lab/out" "$lab/kh-nobastion"; die "--accept-new-host-keys: exit $rc or bastion key not recorded"; }
ok "an unknown bastion key: refused naming it, recorded with --accept-new-host-keys"

# 6. The bastion cannot reach the target (wrong port): the bastion is named.
config "$lab/noroute.cfg" bastion 2999
rc=0
inctl "$MXDECK" -F "$lab/noroute.cfg" plan "$lab/site.ini" >"$lab/out" 2>&1 || rc=$?
[ $rc -eq 3 ] && grep -q "host h1: jump host bastion: cannot open a connection through it to 127.0.0.1 port 2999" "$lab/out" ||
	{ cat "$lab/out"; die "no route through the bastion: exit $rc"; }
ok "the bastion cannot reach 127.0.0.1:2999: exit 3 naming the bastion"

# 7. mxdeck test on the gateway named by its alias: the probes connect to the alias's
#    HostName (not "cannot resolve gw-dmz"), straight from here, and say so: from ctl the
#    gateway's mail ports are not reachable, and the report names the bastion the push
#    goes through and that the live tests do not.
rc=0
MXDECK_PROBES=tls MXDECK_PROBE_TIMEOUT=2 inctl "$MXDECK" -F "$lab/jump.cfg" test "$lab/site.ini" >"$lab/out" 2>&1 || rc=$?
[ -s "$lab/out" ] || die "test via the alias printed nothing"
grep -qF "host h1: gw-dmz (ssh_config alias of 127.0.0.1) is behind ProxyJump bastion bastion: push goes through the bastion, the live tests run from here straight against 127.0.0.1" "$lab/out" ||
	{ cat "$lab/out"; die "test: no line about the alias and the bastion"; }
grep -q ' h1 127\.0\.0\.1:[0-9]*: ' "$lab/out" || { cat "$lab/out"; die "test: the probes did not target the HostName"; }
grep -q 'gw-dmz:[0-9]' "$lab/out" && { cat "$lab/out"; die "test: a probe targets the alias itself"; }
grep -qi 'address lookup failed\|cannot resolve' "$lab/out" && { cat "$lab/out"; die "test: the alias was looked up in DNS"; }
[ $rc -eq 3 ] && grep -q "host h1 could not be reached from here: .*push reaches it through ProxyJump bastion bastion, the live tests do not" "$lab/out" ||
	{ cat "$lab/out"; die "test behind the bastion: exit $rc, want 3 naming the bastion"; }
rc=0
MXDECK_PROBES=tls MXDECK_PROBE_TIMEOUT=2 inctl "$MXDECK" -F "$lab/jump.cfg" test --json "$lab/site.ini" >"$lab/out.json" 2>/dev/null || rc=$?
python3 - "$lab/out.json" <<'PY' || die "test --json behind the bastion"
import json, sys
d = json.load(open(sys.argv[1]))
assert d["exit"] == 3 and d["unreachable"] == ["h1"], (d["exit"], d["unreachable"])
assert len(d["notes"]) == 1 and "ProxyJump bastion bastion" in d["notes"][0], d["notes"]
assert d["results"] and all(r["target"].startswith("127.0.0.1:") for r in d["results"]), [r["target"] for r in d["results"]]
PY
ok "test on a gateway named by its ssh alias behind a bastion: probes go to its HostName from here, the report names the bastion (exit 3, unreachable from here)"
