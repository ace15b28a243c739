#!/bin/bash
# sshd.sh: one private OpenSSH sshd on a loopback address, for the push tests.
#
#   sshd.sh start DIR ADDR PORT AUTHORIZED_KEYS [ro]   start; prints the pid
#   sshd.sh stop DIR                                   stop by the pid it recorded
#   sshd.sh hostkey DIR                                the host's public key line
#
# DIR holds the host key, sshd_config, pid file and log (DIR/sshd.log, LogLevel
# VERBOSE; the SFTP subsystem logs every open/rename/mkdir at -l VERBOSE). "ro" makes
# the SFTP subsystem read-only (internal-sftp -R), as for audit. LAB_SSHD_PATH=P gives
# the commands run over SSH the PATH P (e.g. /usr/bin:/bin: a login without sbin on its
# PATH, as an ordinary Debian user has).
set -eu

cmd=${1:?usage: sshd.sh start|stop|hostkey DIR ...}
dir=${2:?DIR}

case $cmd in
start)
	addr=${3:?ADDR}
	port=${4:?PORT}
	akeys=${5:?AUTHORIZED_KEYS}
	ro=${6:-}
	mkdir -p "$dir" /run/sshd
	[ -f "$dir/hostkey" ] || ssh-keygen -q -t ed25519 -N '' -C lab -f "$dir/hostkey"
	sftp="internal-sftp -l VERBOSE"
	[ "$ro" = ro ] && sftp="internal-sftp -R -l VERBOSE"
	cat >"$dir/sshd_config" <<CONF
Port $port
ListenAddress $addr
HostKey $dir/hostkey
PidFile $dir/sshd.pid
AuthorizedKeysFile $akeys
PasswordAuthentication no
KbdInteractiveAuthentication no
PermitRootLogin prohibit-password
UsePAM no
StrictModes no
LogLevel VERBOSE
MaxStartups 100:30:200
MaxSessions 50
Subsystem sftp $sftp
# bash sources ~/.bashrc for every command run over SSH unless SHLVL says it is
# nested; this machine's root .bashrc runs pyenv (0.2 s per command). A gateway's
# root account does not: keep the lab close to one.
SetEnv SHLVL=1${LAB_SSHD_PATH:+ PATH=$LAB_SSHD_PATH}
CONF
	rm -f "$dir/sshd.pid"
	/usr/sbin/sshd -f "$dir/sshd_config" -E "$dir/sshd.log"
	for _ in $(seq 100); do
		[ -s "$dir/sshd.pid" ] && break
		sleep 0.05
	done
	[ -s "$dir/sshd.pid" ] || { echo "sshd on $addr:$port did not start:" >&2; cat "$dir/sshd.log" >&2; exit 1; }
	cat "$dir/sshd.pid"
	;;
stop)
	if [ -s "$dir/sshd.pid" ]; then
		pid=$(cat "$dir/sshd.pid")
		# The per-connection children first (started by this sshd), then the listener.
		for c in $(ps -o pid= --ppid "$pid" 2>/dev/null); do
			for g in $(ps -o pid= --ppid "$c" 2>/dev/null); do kill "$g" 2>/dev/null || true; done
			kill "$c" 2>/dev/null || true
		done
		kill "$pid" 2>/dev/null || true
		for _ in $(seq 50); do
			kill -0 "$pid" 2>/dev/null || break
			sleep 0.05
		done
		rm -f "$dir/sshd.pid"
	fi
	;;
hostkey)
	cat "$dir/hostkey.pub"
	;;
*)
	echo "sshd.sh: unknown command $cmd" >&2
	exit 2
	;;
esac
