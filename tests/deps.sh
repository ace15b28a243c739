#!/usr/bin/env bash
# tests/deps.sh: install every Debian package mxdeck needs to build, to run its demo
# and to run its whole test suite (real servers on loopback). Idempotent and quick
# when everything is already there.
set -eu
pkgs=(
	# build
	build-essential pkg-config libncurses-dev libssh2-1-dev libssl-dev
	libcurl4-openssl-dev libldns-dev libpcre2-dev libcmocka-dev libexpat1-dev
	# console tests, sanitizers, fuzzing
	tmux clang libclang-rt-14-dev valgrind
	# the lab: real daemons on loopback
	openssh-server openssh-client postfix postfix-pcre dovecot-core dovecot-imapd
	dovecot-pop3d apache2 nginx php8.2-fpm php8.2-cli php8.2-xml unbound nsd ldnsutils
	bind9 bind9-utils bind9-dnsutils swaks dns-root-data ssl-cert openssl libxml2-utils curl procps
	iproute2 psmisc time strace python3 bc
	# monitoring outputs: the Prometheus text parser the monitor test checks with
	python3-prometheus-client
	# every --json document validated against share/schema
	python3-jsonschema
	# systemd-analyze verify for the shipped audit timer
	systemd
	# swaks --tls / --tls-cert (connector client-certificate tests)
	libnet-ssleay-perl
)
# Debian's dovecot-core postinst links its certificate to the snakeoil pair, but only when
# that pair exists at install time; the stock 10-ssl.conf is unusable without it.
fix_stock_tls() {
	[ -f /etc/ssl/certs/ssl-cert-snakeoil.pem ] || $SUDO make-ssl-cert generate-default-snakeoil
	if [ -d /etc/dovecot/private ]; then
		[ -e /etc/dovecot/private/dovecot.pem ] ||
			$SUDO ln -s /etc/ssl/certs/ssl-cert-snakeoil.pem /etc/dovecot/private/dovecot.pem
		[ -e /etc/dovecot/private/dovecot.key ] ||
			$SUDO ln -s /etc/ssl/private/ssl-cert-snakeoil.key /etc/dovecot/private/dovecot.key
	fi
	return 0
}
SUDO=
[ "$(id -u)" -eq 0 ] || SUDO=sudo
missing=()
for p in "${pkgs[@]}"; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' ||
		missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
	fix_stock_tls
	echo "deps: all ${#pkgs[@]} packages present"
	exit 0
fi
echo "deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fix_stock_tls
echo "deps: done"
