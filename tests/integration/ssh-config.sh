#!/bin/bash
# ssh-config.sh: mxdeck reads ssh_config as ssh does, against a real sshd.
#   - a profile's address may be a Host alias (~/.ssh/config, or -F FILE);
#   - the profile's port/user, when written, win over ssh_config's;
#   - the system known_hosts (GlobalKnownHostsFile) is read;
#   - --accept-new-host-keys writes hashed names when HashKnownHosts yes, plain if no;
#   - an encrypted key asks for its passphrase on the terminal (tmux), echo off, ^C
#     restores the terminal; never
#     with --batch, never without a terminal: a clear error that says ssh-agent;
#   - a bad ssh_config is reported as FILE:LINE.
set -eu
. "$(dirname "$0")/../lab/push-lib.sh"

"$labtools/lab-hosts.sh" start "$lab" 1
addr=$(awk '{print $2}' "$lab/hosts.list")
key=$(cut -d' ' -f1,2 "$lab/h1/sshd/hostkey.pub")
light_profile | sed -e 's/^address = .*/address = gw-alias/' -e '/^port = /d' -e '/^user = /d' \
	-e '/^identity = /d' >"$lab/site.ini"
grep -q '^address = gw-alias$' "$lab/site.ini" || die "profile not rewritten"
unset SSH_AUTH_SOCK

config() {	# FILE [extra lines for Host gw-alias]
	local f=$1
	shift
	{
		echo "Host gw-alias"
		echo "    HostName $addr"
		for l in "$@"; do echo "    $l"; done
		cat <<CFG
Host *
    Port 2222
    User root
    IdentityFile $lab/id_ed25519
    UserKnownHostsFile $lab/kh_user
    GlobalKnownHostsFile $lab/kh_system
CFG
	} >"$f"
}

# 1. The alias through ~/.ssh/config (HOME), the key known from the system file only.
mkdir -p "$lab/home/.ssh"
config "$lab/home/.ssh/config"
chmod 600 "$lab/home/.ssh/config"
echo "[$addr]:2222 $key" >"$lab/kh_system"
: >"$lab/kh_user"
[ "$(ssh -G -F "$lab/home/.ssh/config" gw-alias 2>/dev/null </dev/null | awk '$1 == "hostname" {print $2}')" = "$addr" ] ||
	die "ssh -G does not resolve gw-alias to $addr"
rc=0
HOME=$lab/home "$MXDECK" plan "$lab/site.ini" >"$lab/out" 2>&1 || rc=$?
[ $rc -eq 1 ] || { cat "$lab/out"; die "alias in ~/.ssh/config: exit $rc, want 1 (drift)"; }
ok "address = gw-alias resolved through ~/.ssh/config; host key found in GlobalKnownHostsFile only"

# 2. Without the system file's line the key is unknown (the file really was read).
: >"$lab/kh_system"
rc=0
HOME=$lab/home "$MXDECK" plan "$lab/site.ini" >"$lab/out" 2>&1 || rc=$?
[ $rc -eq 3 ] && grep -q "unknown host key for \[$addr\]:2222" "$lab/out" ||
	{ cat "$lab/out"; die "empty system known_hosts: exit $rc, want 3"; }
ok "the same without the system known_hosts line: unknown host key (exit 3)"

# 3. --accept-new-host-keys with HashKnownHosts yes: recorded hashed in UserKnownHostsFile.
config "$lab/hash.cfg" "HashKnownHosts yes"
rc=0
"$MXDECK" -F "$lab/hash.cfg" --accept-new-host-keys plan "$lab/site.ini" >"$lab/out" 2>&1 || rc=$?
[ $rc -eq 1 ] || { cat "$lab/out"; die "-F hash.cfg --accept-new-host-keys: exit $rc"; }
[ "$(wc -l <"$lab/kh_user")" -eq 1 ] && grep -q '^|1|[^ ]* ssh-ed25519 ' "$lab/kh_user" &&
	! grep -qF "$addr" "$lab/kh_user" || { cat "$lab/kh_user"; die "not recorded hashed"; }
ssh-keygen -F "[$addr]:2222" -f "$lab/kh_user" | grep -qF "$key" || die "ssh-keygen -F does not find it"
rc=0
"$MXDECK" -F "$lab/hash.cfg" plan "$lab/site.ini" >"$lab/out" 2>&1 || rc=$?
[ $rc -eq 1 ] || { cat "$lab/out"; die "after recording: exit $rc"; }
ok "HashKnownHosts yes: the new key written as |1|salt|hash, found by ssh-keygen -F and by the next run"
: >"$lab/kh_user"
config "$lab/plain.cfg" "HashKnownHosts no"
"$MXDECK" -F "$lab/plain.cfg" --accept-new-host-keys plan "$lab/site.ini" >"$lab/out" 2>&1 || true
grep -qxF "[$addr]:2222 $key" "$lab/kh_user" || { cat "$lab/out" "$lab/kh_user"; die "not recorded plain"; }
ok "HashKnownHosts no: written as [$addr]:2222"

# 4. Precedence: the profile's port and user, when written, win over ssh_config.
config "$lab/prec.cfg" "Port 2999" "User nobody-such"
rc=0
"$MXDECK" -F "$lab/prec.cfg" plan "$lab/site.ini" >"$lab/out" 2>&1 || rc=$?
[ $rc -eq 3 ] && grep -q "cannot connect to $addr port 2999" "$lab/out" ||
	{ cat "$lab/out"; die "ssh_config Port 2999: exit $rc, want 3 (refused)"; }
sed 's/^address = gw-alias$/address = gw-alias\nport = 2222\nuser = root/' "$lab/site.ini" >"$lab/prec.ini"
rc=0
"$MXDECK" -F "$lab/prec.cfg" plan "$lab/prec.ini" >"$lab/out" 2>&1 || rc=$?
[ $rc -eq 1 ] || { cat "$lab/out"; die "profile port/user over ssh_config: exit $rc, want 1"; }
ok "ssh_config's Port/User apply when the profile has none; the profile's port = / user = win"

# 5. A bad ssh_config: FILE:LINE; a missing -F file: exit 2.
printf 'Host *\n  User root\n  Port twenty-two\n' >"$lab/bad.cfg"
rc=0
"$MXDECK" -F "$lab/bad.cfg" plan "$lab/site.ini" >"$lab/out" 2>&1 || rc=$?
[ $rc -eq 3 ] && grep -qF "$lab/bad.cfg:3: Port: 'twenty-two' is not a port number" "$lab/out" ||
	{ cat "$lab/out"; die "bad ssh_config: exit $rc"; }
rc=0
"$MXDECK" -F "$lab/none.cfg" plan "$lab/site.ini" >"$lab/out" 2>&1 || rc=$?
[ $rc -eq 2 ] && grep -qF -- "-F $lab/none.cfg: cannot read" "$lab/out" || { cat "$lab/out"; die "missing -F: exit $rc"; }
ok "bad ssh_config: FILE:3 named (exit 3); a missing -F FILE: exit 2"

# 6. An encrypted key, no agent.
cp "$lab/id_ed25519" "$lab/enc"
cp "$lab/id_ed25519.pub" "$lab/enc.pub"
ssh-keygen -q -p -P '' -N 'correct horse' -f "$lab/enc"
grep -q 'BEGIN OPENSSH PRIVATE KEY' "$lab/enc" || die "no encrypted key"
sed -i "s|IdentityFile .*|IdentityFile $lab/enc|" "$lab/plain.cfg"
locked() {	# exit, output file
	[ "$1" -eq 3 ] && grep -qF "the key $lab/enc is encrypted" "$2" && grep -qF "ssh-add $lab/enc" "$2" &&
		! grep -q 'Enter passphrase' "$2"
}
rc=0
"$MXDECK" -F "$lab/plain.cfg" --batch --dry-run "$lab/site.ini" >"$lab/out" 2>&1 || rc=$?
locked $rc "$lab/out" || { cat "$lab/out"; die "--batch with an encrypted key: exit $rc"; }
rc=0
setsid -w "$MXDECK" -F "$lab/plain.cfg" plan "$lab/site.ini" >"$lab/out" 2>&1 </dev/null || rc=$?
locked $rc "$lab/out" || { cat "$lab/out"; die "no terminal, encrypted key: exit $rc"; }
ok "encrypted key with --batch, and without a terminal: exit 3, says to use ssh-agent, no prompt"

# On a terminal (tmux): asked, echo off; a wrong passphrase is asked again.
sock=mxdk-ssh$$
extra_cleanup="tmux -L $sock kill-server 2>/dev/null"
tmux -L "$sock" -f /dev/null new-session -d -x 150 -y 40 \
	"'$MXDECK' -F '$lab/plain.cfg' plan '$lab/site.ini' >'$lab/tty.out' 2>'$lab/tty.err'; echo EXIT=\$? >'$lab/tty.rc'; sleep 60"
wait_pane() {	# TEXT COUNT
	for _ in $(seq 200); do
		[ "$(tmux -L "$sock" capture-pane -p | grep -c "$1")" -ge "$2" ] && return 0
		sleep 0.1
	done
	tmux -L "$sock" capture-pane -p
	die "no '$1' (x$2) on the terminal"
}
wait_pane "Enter passphrase for key '$lab/enc':" 1
tmux -L "$sock" send-keys "wrong horse" Enter
wait_pane "Enter passphrase for key '$lab/enc':" 2
tmux -L "$sock" send-keys "correct horse" Enter
for _ in $(seq 300); do [ -s "$lab/tty.rc" ] && break; sleep 0.1; done
pane=$(tmux -L "$sock" capture-pane -p)
[ "$(cat "$lab/tty.rc" 2>/dev/null)" = EXIT=1 ] || { echo "$pane"; cat "$lab/tty.err"; die "plan with the passphrase: $(cat "$lab/tty.rc" 2>/dev/null)"; }
grep -q 'horse' <<<"$pane" && { echo "$pane"; die "the passphrase was echoed"; }
grep -q 'horse' "$lab/tty.out" "$lab/tty.err" && die "the passphrase is in the output"
ok "encrypted key on a terminal: asked on /dev/tty, not echoed, asked again after a wrong one; plan exit 1"

# ^C at the prompt: mxdeck is interrupted and the terminal has its echo back.
rm -f "$lab/tty.rc"
tmux -L "$sock" kill-server 2>/dev/null || true
sock=mxdk-ssh$$-2
extra_cleanup="tmux -L mxdk-ssh$$ kill-server 2>/dev/null; tmux -L $sock kill-server 2>/dev/null"
tmux -L "$sock" -f /dev/null new-session -d -x 150 -y 40 \
	"'$MXDECK' -F '$lab/plain.cfg' plan '$lab/site.ini' >'$lab/tty.out' 2>'$lab/tty.err'; echo EXIT=\$? >'$lab/tty.rc.tmp'; stty -a >'$lab/stty'; mv '$lab/tty.rc.tmp' '$lab/tty.rc'; sleep 60"
wait_pane "Enter passphrase for key '$lab/enc':" 1
tmux -L "$sock" send-keys "half typed"
tmux -L "$sock" send-keys C-c
for _ in $(seq 300); do [ -s "$lab/tty.rc" ] && break; sleep 0.1; done
[ "$(cat "$lab/tty.rc" 2>/dev/null)" = EXIT=130 ] || { tmux -L "$sock" capture-pane -p; die "^C at the prompt: $(cat "$lab/tty.rc" 2>/dev/null), want EXIT=130"; }
grep -qw -- '-echo' "$lab/stty" && { cat "$lab/stty"; die "echo left off after ^C"; }
grep -qw 'echo' "$lab/stty" && grep -qw 'icanon' "$lab/stty" || { cat "$lab/stty"; die "no stty -a output"; }
ok "^C at the passphrase prompt: interrupted (exit 130), the terminal's echo and line mode restored"
