#!/bin/bash
# lab-hosts.sh: N lab "gateways" for the push tests, each a real OpenSSH sshd on its
# own loopback address with its own copies of the stock Postfix, Dovecot, nginx and
# Apache configuration.
#
#   lab-hosts.sh start LAB N [ro]     make LAB/h1..hN and start their sshd
#   lab-hosts.sh stop LAB             stop every sshd of LAB (by the pids they recorded)
#   lab-hosts.sh profile LAB ROLES [FIRST LAST]
#                                     print a profile: the demo profile's site sections
#                                     and one [host "hI"] per lab host with ROLES and
#                                     its directories under LAB/hI
#
# LAB/id_ed25519 is the user key (authorized for root through LAB/authorized_keys),
# LAB/known_hosts has every host key, hashed ([addr]:port form), LAB/hosts.list has
# "name address port dir" per host. The loopback network 127.A.B.0/24 is picked at
# random per lab so that parallel test runs do not collide.
set -eu

here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../.." && pwd)
cmd=${1:?usage: lab-hosts.sh start|stop|profile LAB ...}
lab=${2:?LAB}
port=2222

copy_host_config() {
	local d=$1
	mkdir -p "$d/etc" "$d/www" "$d/state"
	cp -a /etc/postfix "$d/etc/postfix"
	cp -a /etc/dovecot "$d/etc/dovecot"
	cp -a /etc/apache2 "$d/etc/apache2"
	cp -a /etc/nginx "$d/etc/nginx"
	# Debian's dovecot postinst points dovecot.pem at the snakeoil pair; this machine's
	# install has no such file, so the copy points there itself.
	sed -i -e 's|</etc/dovecot/private/dovecot.pem|</etc/ssl/certs/ssl-cert-snakeoil.pem|' \
	    -e 's|</etc/dovecot/private/dovecot.key|</etc/ssl/private/ssl-cert-snakeoil.key|' \
	    "$d/etc/dovecot/conf.d/10-ssl.conf"
	# nginx's stock config includes absolute /etc/nginx paths: point them here.
	sed -i "s|/etc/nginx/|$d/etc/nginx/|g" "$d/etc/nginx/nginx.conf"
}

case $cmd in
start)
	n=${3:?N}
	ro=${4:-}
	mkdir -p "$lab"
	[ -f "$lab/id_ed25519" ] || ssh-keygen -q -t ed25519 -N '' -C mxdeck-lab -f "$lab/id_ed25519"
	cp "$lab/id_ed25519.pub" "$lab/authorized_keys"
	if [ ! -f "$lab/net" ]; then
		echo "127.$((RANDOM % 200 + 20)).$((RANDOM % 250 + 1))" >"$lab/net"
	fi
	net=$(cat "$lab/net")
	: >"$lab/hosts.list"
	: >"$lab/known_hosts"
	for i in $(seq "$n"); do
		d=$lab/h$i
		addr=$net.$i
		[ -d "$d/etc/postfix" ] || copy_host_config "$d"
		"$here/sshd.sh" start "$d/sshd" "$addr" "$port" "$lab/authorized_keys" $ro >/dev/null
		echo "h$i $addr $port $d" >>"$lab/hosts.list"
		echo "[$addr]:$port $(cut -d' ' -f1,2 "$d/sshd/hostkey.pub")" >>"$lab/known_hosts"
	done
	ssh-keygen -q -H -f "$lab/known_hosts" >/dev/null 2>&1
	rm -f "$lab/known_hosts.old"
	;;
stop)
	for s in "$lab"/h*/sshd; do
		[ -d "$s" ] && "$here/sshd.sh" stop "$s"
	done
	;;
profile)
	roles=${3:?ROLES}
	first=${4:-1}
	last=${5:-$(wc -l <"$lab/hosts.list")}
	cp "$top/share/examples/demo-users.csv" "$lab/demo-users.csv"
	# the certificates and anchors the demo profile names (relative to $lab)
	[ -f "$lab/demo-sandbox/pki/mail.pem" ] ||
		(. "$top/share/lab/lab-lib.sh" && lab_demo_pki "$lab" example.org example.com example.net)
	# The demo profile without its [host] section.
	awk '/^\[host /{skip=1; next} /^\[/{skip=0} !skip' "$top/share/examples/demo.ini"
	sed -n "${first},${last}p" "$lab/hosts.list" | while read -r name addr p d; do
		cat <<INI

[host "$name"]
address = $addr
port = $p
user = root
identity = $lab/id_ed25519
roles = $roles
postfix_dir = $d/etc/postfix
dovecot_dir = $d/etc/dovecot
apache_dir = $d/etc/apache2
nginx_dir = $d/etc/nginx
www_dir = $d/www
state_dir = $d/state
INI
	done
	;;
*)
	echo "lab-hosts.sh: unknown command $cmd" >&2
	exit 2
	;;
esac
