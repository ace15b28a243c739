#!/usr/bin/env bash
# tests/deps.sh [--check]: install every Debian package mxdeck needs to build, to run its
# demo and to run its whole test suite (real servers on loopback). Idempotent and quick
# when everything is already there.
#
#   tests/deps.sh           install what is missing (apt-get, --no-install-recommends),
#                           then verify everything as --check does
#   tests/deps.sh --check   install nothing: check each thing directly and print, for each
#                           one missing, what it is and the package that provides it;
#                           exit 1 when anything is missing (tests/run.sh calls this first)
#
# One table, one row per thing the build, the demo or a test uses:
#   package   how to check   thing
# how to check:
#   cmd      command -v THING
#   pc       pkg-config --exists THING (a library the build links)
#   header   THING compiles as #include <THING>
#   perl     perl -MTHING -e1
#   py       /usr/bin/python3 -c 'import THING'
#   php      THING is in php -m (a PHP extension)
#   apmod    /usr/lib/apache2/modules/mod_THING.so exists
#   file     THING exists (a glob is fine)
# A package installed by the table but with nothing to check of its own does not exist:
# every package is there because of at least one row.
set -eu
deps=(
	# build
	"build-essential	cmd	cc"
	"build-essential	cmd	make"
	"build-essential	cmd	ar"
	"pkg-config	cmd	pkg-config"
	"libncurses-dev	pc	ncursesw"
	"libncurses-dev	header	ncursesw/curses.h"
	"libssh2-1-dev	pc	libssh2"
	"libssh2-1-dev	header	libssh2_sftp.h"
	"libssl-dev	pc	openssl"
	"libssl-dev	header	openssl/ssl.h"
	"libcurl4-openssl-dev	pc	libcurl"
	"libcurl4-openssl-dev	header	curl/curl.h"
	"libldns-dev	pc	ldns"
	"libldns-dev	header	ldns/ldns.h"
	"libpcre2-dev	pc	libpcre2-8"
	"libpcre2-dev	header	pcre2.h"
	"libcmocka-dev	pc	cmocka"
	"libcmocka-dev	header	cmocka.h"
	"libexpat1-dev	pc	expat"
	"libexpat1-dev	header	expat.h"
	# console tests, sanitizers, fuzzing
	"tmux	cmd	tmux"
	"bsdutils	cmd	script"	# a pty for the coloured-diff test (plan-colour)
	"clang	cmd	clang"
	"libclang-rt-14-dev	file	/usr/lib/llvm-14/lib/clang/*/lib/linux/libclang_rt.fuzzer-x86_64.a"
	"valgrind	cmd	valgrind"
	# the lab: real daemons on loopback
	"openssh-server	cmd	sshd"
	"openssh-server	file	/usr/lib/openssh/sftp-server"
	"openssh-client	cmd	ssh-keygen"
	"openssh-client	cmd	ssh-keyscan"
	"postfix	cmd	postfix"
	"postfix	cmd	postconf"
	"postfix	cmd	postmap"
	"postfix	cmd	postcat"
	"postfix-pcre	file	/usr/lib/postfix/postfix-pcre.so"
	"dovecot-core	cmd	dovecot"
	"dovecot-core	cmd	doveconf"
	"dovecot-core	cmd	doveadm"
	"dovecot-imapd	file	/usr/lib/dovecot/imap"
	"dovecot-pop3d	file	/usr/lib/dovecot/pop3"
	"apache2	cmd	apache2ctl"
	"apache2	cmd	a2enmod"
	"apache2	cmd	apache2"
	"apache2	apmod	mpm_event"
	"apache2	apmod	authz_core"
	"apache2	apmod	mime"
	"apache2	apmod	dir"
	"apache2	apmod	alias"
	"apache2	apmod	ssl"
	"apache2	apmod	socache_shmcb"
	"apache2	apmod	proxy"
	"apache2	apmod	proxy_http"
	"apache2	apmod	proxy_fcgi"
	"apache2	apmod	setenvif"
	"apache2	apmod	headers"
	"apache2	apmod	rewrite"
	"nginx	cmd	nginx"
	"php8.2-fpm	cmd	php-fpm8.2"
	"php8.2-fpm	file	/etc/apache2/conf-available/php8.2-fpm.conf"
	"php8.2-cli	cmd	php"
	"php8.2-xml	php	dom"
	"php8.2-xml	php	xml"
	"unbound	cmd	unbound"
	"nsd	cmd	nsd"
	"nsd	cmd	nsd-checkzone"
	"ldnsutils	cmd	ldns-keygen"
	"ldnsutils	cmd	ldns-signzone"
	"ldnsutils	cmd	drill"
	"ldnsutils	cmd	ldns-dane"	# push-tlsa: cross-checks the TLSA gate's verdict
	"bind9	cmd	named"
	"bind9-utils	cmd	named-checkzone"
	"bind9-dnsutils	cmd	dig"
	"bind9-dnsutils	cmd	nsupdate"
	"swaks	cmd	swaks"
	# swaks' TLS (--tls, --tlsc): a Recommends that --no-install-recommends drops
	"libnet-ssleay-perl	perl	Net::SSLeay"
	"dns-root-data	file	/usr/share/dns/root.key"
	"ssl-cert	cmd	make-ssl-cert"
	"openssl	cmd	openssl"
	# the CA bundle libcurl and OpenSSL verify with (the probes' HTTPS, TLS checks): a
	# Recommends of libcurl4 and openssl that --no-install-recommends drops
	# and smtpd_tls_CAfile of a [connector] (the demo has one): without it smtpd has no TLS
	"ca-certificates	file	/etc/ssl/certs/ca-certificates.crt"
	"libxml2-utils	cmd	xmllint"
	"curl	cmd	curl"
	"procps	cmd	pgrep"
	"procps	cmd	ps"
	"iproute2	cmd	ss"
	"iproute2	cmd	ip"
	"util-linux	cmd	unshare"
	# the demo lab: does the postfix / www-data user reach the sandbox?
	"util-linux	cmd	runuser"
	"psmisc	cmd	fuser"
	"time	file	/usr/bin/time"
	"strace	cmd	strace"
	"python3	cmd	python3"
	"python3	py	json"
	"bc	cmd	bc"
	# monitoring outputs: the Prometheus text parser the monitor test checks with
	"python3-prometheus-client	py	prometheus_client.parser"
	# every --json document validated against share/schema
	"python3-jsonschema	py	jsonschema"
	# systemd-analyze verify for the shipped audit timer
	"systemd	cmd	systemd-analyze"
)

have() {	# kind thing: is it there?
	case $1 in
	cmd)	command -v "$2" >/dev/null 2>&1 ;;
	pc)	command -v pkg-config >/dev/null 2>&1 && pkg-config --exists "$2" ;;
	header)	# (pcre2.h wants the code unit width the sources define)
		command -v cc >/dev/null 2>&1 &&
		printf '#include <%s>\n' "$2" |
		cc -E -x c -DPCRE2_CODE_UNIT_WIDTH=8 - >/dev/null 2>&1 ;;
	perl)	perl -M"$2" -e1 >/dev/null 2>&1 ;;
	# Debian's python3, which the tests call as /usr/bin/python3: another python3 first
	# in PATH (pyenv, a venv) does not see the modules Debian packages install.
	py)	/usr/bin/python3 -c "import $2" >/dev/null 2>&1 ;;
	php)	command -v php >/dev/null 2>&1 && php -m 2>/dev/null | grep -qix -- "$2" ;;
	apmod)	[ -f "/usr/lib/apache2/modules/mod_$2.so" ] ;;
	file)	compgen -G "$2" >/dev/null ;;
	*)	echo "deps: unknown check '$1' in the table" >&2; return 2 ;;
	esac
}
what() {	# kind thing: the thing as a user reads it
	case $1 in
	cmd)	echo "command $2" ;;
	pc)	echo "library $2 (pkg-config)" ;;
	header)	echo "header <$2>" ;;
	perl)	echo "Perl module $2" ;;
	py)	echo "Python module $2" ;;
	php)	echo "PHP extension $2" ;;
	apmod)	echo "Apache module mod_$2 (/usr/lib/apache2/modules/mod_$2.so)" ;;
	file)	echo "file $2" ;;
	esac
}
check() {	# print every missing thing; 0 when none
	local row pkg kind thing n=0 pkgs=()
	for row in "${deps[@]}"; do
		IFS=$'\t' read -r pkg kind thing <<<"$row"
		have "$kind" "$thing" && continue
		n=$((n + 1))
		printf 'deps: missing %-60s package %s\n' "$(what "$kind" "$thing")" "$pkg"
		case " ${pkgs[*]-} " in *" $pkg "*) ;; *) pkgs+=("$pkg") ;; esac
	done
	if [ "$n" -gt 0 ]; then
		echo "deps: $n thing(s) missing; install them with tests/deps.sh" \
		    "(apt-get install --no-install-recommends ${pkgs[*]})"
		return 1
	fi
	echo "deps: all ${#deps[@]} things present"
}

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

# The demo's vhosts proxy to https://localhost:PORT (the certificate names localhost):
# a bare root (debootstrap, a container) may have no /etc/hosts, and then localhost
# resolves through DNS, or not at all. Debian's installer writes these lines.
fix_localhost() {
	getent ahostsv4 localhost 2>/dev/null | grep -q '^127\.0\.0\.1 ' && return 0
	echo "deps: localhost does not resolve to 127.0.0.1: adding it to /etc/hosts"
	printf '127.0.0.1\tlocalhost\n::1\t\tlocalhost ip6-localhost ip6-loopback\n' |
	    $SUDO tee -a /etc/hosts >/dev/null
}
localhost_ok() {
	getent ahostsv4 localhost 2>/dev/null | grep -q '^127\.0\.0\.1 ' && return 0
	echo "deps: missing localhost -> 127.0.0.1 (no /etc/hosts line?); tests/deps.sh adds it"
	return 1
}

case ${1-} in
--check)	rc=0; check || rc=1; localhost_ok || rc=1; exit $rc ;;
"")	;;
*)	echo "usage: tests/deps.sh [--check]" >&2; exit 2 ;;
esac

SUDO=
[ "$(id -u)" -eq 0 ] || SUDO=sudo
pkgs=() missing=()
for row in "${deps[@]}"; do
	IFS=$'\t' read -r pkg _ <<<"$row"
	case " ${pkgs[*]-} " in *" $pkg "*) ;; *) pkgs+=("$pkg") ;; esac
done
for p in "${pkgs[@]}"; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' ||
		missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
	echo "deps: installing ${missing[*]}"
	export DEBIAN_FRONTEND=noninteractive
	$SUDO apt-get update -qq
	$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
fix_stock_tls
fix_localhost
check && localhost_ok
