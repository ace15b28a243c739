#!/usr/bin/env bash
# demo-lab.sh: the live demo lab. Real Postfix, Dovecot, Apache with php-fpm, an
# authoritative nsd with DNSSEC-signed zones and a validating unbound, on loopback and
# under the demo's sandbox, with certificates from a demo CA; mxdeck pushes the demo
# profile to it through the real push path (address = local).
#
#   demo-lab.sh run DIR MXDECK      start the lab, open the console, stop the lab when the
#                                   console exits (make demo, mxdeck demo)
#   demo-lab.sh check DIR MXDECK    start, run the live tests without the console, print
#                                   the counts, stop; exit 1 below 90 % ok or on a result
#                                   the demo does not show on purpose (make demo-check)
#   demo-lab.sh start DIR MXDECK    start the lab and push (it keeps running)
#   demo-lab.sh stop DIR            stop every daemon the lab started, by pid
#   demo-lab.sh prepare DIR         only the sandbox: stock configuration + demo PKI
#   demo-lab.sh pki DIR             only the demo PKI (tests that render a copy of the
#                                   demo profile need the certificates it names)
#
# DIR holds demo.ini and demo-users.csv (copied there from the shipped examples when
# missing); the sandbox is DIR/demo-sandbox, rebuilt from this machine's stock /etc on
# every start. The ports are the profile's: probe_ports and [site] resolver.
set -eu
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
. "$here/lab-lib.sh"

usage() {
	echo "usage: demo-lab.sh run|check|start DIR MXDECK | stop|prepare|pki DIR" >&2
	exit 2
}
[ $# -ge 2 ] || usage
cmd=$1
DIR=$2
MXDECK=${3:-}
case $cmd in run|check|start) [ -n "$MXDECK" ] || usage ;; stop|prepare|pki) ;; *) usage ;; esac
mkdir -p "$DIR"
DIR=$(cd "$DIR" && pwd)
case $MXDECK in ""|/*) ;; *) MXDECK=$(cd "$(dirname "$MXDECK")" && pwd)/$(basename "$MXDECK") ;; esac
PROFILE=$DIR/demo.ini
SB=$DIR/demo-sandbox
RUN=$SB/run
LOGS=$SB/log
PIDS=$RUN/lab.pids
PF=$SB/etc/postfix
DOVE=$SB/etc/dovecot
AP=$SB/etc/apache2
ROOT=0
[ "$(id -u)" -eq 0 ] && ROOT=1

say() { printf 'demo: %s\n' "$*"; }
die() { printf 'demo: %s\n' "$*" >&2; exit 1; }

# The shipped profile next to this script (installed: DATADIR/lab and DATADIR/examples;
# in the source tree: share/lab and share/examples).
examples=$here/../examples
if [ ! -f "$PROFILE" ]; then
	[ -f "$examples/demo.ini" ] || die "no demo profile in $DIR and none shipped in $examples"
	cp "$examples/demo.ini" "$examples/demo-users.csv" "$DIR/"
	say "copied the demo profile to $PROFILE"
fi

# A value of the profile: KEY's first occurrence, inline comment stripped.
ini_value() {
	sed -n "s/^[[:space:]]*$1[[:space:]]*=[[:space:]]*//p" "$PROFILE" | head -n 1 |
	    sed 's/[[:space:]][;#].*//; s/[[:space:]]*$//'
}
# The port of a probe_ports service (default when not listed).
port_of() {
	local w
	for w in $(ini_value probe_ports); do
		case $w in "$1":*) echo "${w#*:}"; return ;; esac
	done
	echo "$2"
}
SMTP=$(port_of smtp 25)
SUB=$(port_of submission 587)
SMTPS=$(port_of smtps 465)
IMAPS=$(port_of imaps 993)
POP3S=$(port_of pop3s 995)
HTTPS=$(port_of https 443)
HTTP=$(port_of http 80)
resolver=$(ini_value resolver)
RESOLVER_IP= RESOLVER_PORT=
case $resolver in
127.*:*) RESOLVER_IP=${resolver%:*}; RESOLVER_PORT=${resolver##*:} ;;
esac
PHP_SOCK=$(ini_value php_fpm_socket)
case $PHP_SOCK in
/*|"") ;;
*) PHP_SOCK=$DIR/$PHP_SOCK ;;
esac
# What starting the lab needs from the profile.
demo_profile_ok() {
	[ -n "$RESOLVER_PORT" ] ||
	    die "$PROFILE: [site] resolver must be a loopback IP:PORT for the demo lab (it is '$resolver')"
	[ -n "$PHP_SOCK" ] ||
	    die "$PROFILE: the demo host needs php_fpm_socket (the lab's php-fpm listens there)"
	[ -n "$(backend_port)" ] ||
	    die "$PROFILE: the demo's vhosts proxy to https://localhost:PORT (the lab's Exchange stand-in); backend is '$(ini_value backend)'"
}
DOMAINS=$(sed -n 's/^\[autodiscover "\(.*\)"\]/\1/p' "$PROFILE")
DOMAINS="$DOMAINS $(sed -n 's/^also[[:space:]]*=[[:space:]]*//p' "$PROFILE" | sed 's/[[:space:]][;#].*//')"

# ---- stop ----

# descendants PID: PID's children, recursively
descendants() {
	local c
	for c in $(pgrep -P "$1" 2>/dev/null); do
		echo "$c"
		descendants "$c"
	done
}

# The EXIT trap: stop the lab only if this invocation started it (not another terminal's).
LAB_OWNED=
owned_stop() {
	[ -z "$LAB_OWNED" ] || demo_stop
}

demo_stop() {
	local name pid all= p left= _
	[ -f "$PIDS" ] || return 0
	trap '' INT TERM HUP	# a second signal must not cut the stop short
	while read -r name pid; do
		[ -n "$pid" ] || continue
		all="$all $pid $(descendants "$pid" | tr '\n' ' ')"
	done < "$PIDS"
	[ -d "$PF" ] && [ "$ROOT" -eq 1 ] && postfix -c "$PF" stop >/dev/null 2>&1 || true
	[ -f "$DOVE/dovecot.conf" ] && doveadm -c "$DOVE/dovecot.conf" stop >/dev/null 2>&1 || true
	while read -r name pid; do
		[ -n "$pid" ] && kill "$pid" 2>/dev/null || true
	done < "$PIDS"
	for _ in $(seq 100); do
		left=
		for p in $all; do
			kill -0 "$p" 2>/dev/null && left="$left $p"
		done
		[ -z "$left" ] && break
		sleep 0.1
	done
	for p in $left; do
		kill -9 "$p" 2>/dev/null || true
	done
	[ "$ROOT" -eq 1 ] && command -v postconf >/dev/null && lab_postfix_unregister "$PF"
	sleep 0.2
	left=
	for p in $all; do
		kill -0 "$p" 2>/dev/null && left="$left $p"
	done
	rm -f "$PIDS"
	if [ -n "$left" ]; then
		say "processes still running after stop:$left" >&2
		return 1
	fi
	say "lab stopped ($(echo $all | wc -w) processes gone)"
}

# ---- prepare ----

demo_prepare() {
	local d name pid alive=
	# a lab from this directory still running (another terminal): leave it alone
	if [ -f "$PIDS" ]; then
		while read -r name pid; do
			[ -n "$pid" ] && kill -0 "$pid" 2>/dev/null && alive="$alive $name ($pid)"
		done < "$PIDS"
		[ -z "$alive" ] || die "a demo lab from $DIR is running:$alive; quit its console (q) or stop it: $here/demo-lab.sh stop $DIR"
		rm -f "$PIDS"	# left by a lab that was killed: nothing of it runs
	fi
	LAB_OWNED=1	# from here on, what runs under $SB is this invocation's to stop
	rm -rf "$SB"
	mkdir -p "$SB/etc" "$SB/var/www/mxdeck" "$SB/var/lib/mxdeck" "$SB/var/lib/postfix" \
	    "$SB/var/lib/dovecot" "$SB/var/spool/postfix" "$RUN/apache2" "$RUN/dovecot" \
	    "$LOGS/apache2" "$SB/dns" "$SB/pki"
	for d in postfix dovecot apache2 nginx; do
		if [ -d "/etc/$d" ]; then
			# as an ordinary user, what only root may read stays behind
			cp -a "/etc/$d" "$SB/etc/$d" 2>"$LOGS/copy-$d.err" || [ "$ROOT" -ne 1 ] ||
			    die "copying /etc/$d: $(head -n 3 "$LOGS/copy-$d.err")"
		else
			mkdir -p "$SB/etc/$d"
		fi
	done
	# The demo CA and one certificate for every name the demo serves.
	lab_demo_pki "$DIR" $DOMAINS
	# What mxdeck does not manage, set for a private instance on loopback.
	if [ "$ROOT" -eq 1 ] && { [ -f "$PF/main.cf" ] || [ -f /usr/share/postfix/main.cf.debian ]; }; then
		[ -f "$PF/main.cf" ] || cp /usr/share/postfix/main.cf.debian "$PF/main.cf"
		sed -i '/^smtp[[:space:]]\+inet/d; s/^#\(postlog[[:space:]].*\)/\1/' "$PF/master.cf"
		postconf -c "$PF" -e "queue_directory = $SB/var/spool/postfix" \
		    "data_directory = $SB/var/lib/postfix" "inet_interfaces = loopback-only" \
		    "inet_protocols = ipv4" "myhostname = smtp.example.org" \
		    "mydomain = example.org" "myorigin = example.org" "mydestination =" \
		    "relay_domains = $DOMAINS" "alias_maps =" "alias_database =" \
		    "maillog_file = $LOGS/postfix.log" \
		    "maillog_file_prefixes = /var /dev/stdout $LOGS" \
		    "smtpd_banner = \$myhostname ESMTP mxdeck demo" "relayhost ="
	fi
	cat > "$DOVE/local.conf" <<EOF
# mxdeck demo lab: a private instance on loopback (read last: these win).
base_dir = $RUN/dovecot
state_dir = $SB/var/lib/dovecot
log_path = $LOGS/dovecot.log
listen = 127.0.0.1
instance_name = mxdeck-demo
EOF
	if [ "$ROOT" -ne 1 ]; then
		# doveconf -x opens every ssl_cert it reads, the stock one (root's) too
		[ ! -f "$DOVE/conf.d/10-ssl.conf" ] || sed -i \
		    -e "s|^ssl_cert = <.*|ssl_cert = <$SB/pki/mail.pem|" \
		    -e "s|^ssl_key = <.*|ssl_key = <$SB/pki/mail.key|" "$DOVE/conf.d/10-ssl.conf"
		# Dovecot as an ordinary user: every process runs as that user, no chroot
		cat >> "$DOVE/local.conf" <<EOF
default_internal_user = $(id -un)
default_internal_group = $(id -gn)
default_login_user = $(id -un)
service imap-login {
  chroot =
}
service pop3-login {
  chroot =
}
service auth-worker {
  user = \$default_internal_user
}
EOF
	fi
	if [ -f "$AP/envvars" ]; then
		cat >> "$AP/envvars" <<EOF
# mxdeck demo lab: a private instance under the sandbox
export APACHE_RUN_DIR=$RUN/apache2
export APACHE_PID_FILE=$RUN/apache2/apache2.pid
export APACHE_LOCK_DIR=$RUN/apache2
export APACHE_LOG_DIR=$LOGS/apache2
EOF
		printf '# mxdeck demo lab: loopback only, the profile'"'"'s http and https ports\nListen 127.0.0.1:%s\nListen 127.0.0.1:%s\n' \
		    "$HTTP" "$HTTPS" > "$AP/ports.conf"
	fi
	chmod -R a+rX "$SB/var/www" "$SB/dns"
}

# ---- start ----

record() {	# NAME PIDFILE
	local i pid
	for i in $(seq 100); do
		pid=$(tr -dc 0-9 2>/dev/null < "$2" || true)
		if [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null; then
			echo "$1 $pid" >> "$PIDS"
			return 0
		fi
		sleep 0.05
	done
	return 1
}

fail_start() {	# WHAT LOG
	say "$1 did not start; the end of $2:" >&2
	tail -n 15 "$2" >&2 2>/dev/null || true
	demo_stop >&2 || true
	exit 1
}

# The zones: SOA, NS and an A record (127.0.0.1) for every name the rendered records
# point at, then the records mxdeck rendered (state_dir/dns/DOMAIN.zone), signed.
demo_zones() {
	local frag=$SB/var/lib/mxdeck/dns z names n ksk zsk
	names=$( { sed -n 's/^\[vhost "\(.*\)"\]/\1./p' "$PROFILE"
		cat "$frag"/*.zone 2>/dev/null | awk '!/^;/ && ($4 == "MX" || $4 == "SRV" || $4 == "CNAME") { print $NF }'
	} | grep -v '^\.$' | sort -u)
	: > "$SB/dns/trust-anchors.key"
	for z in $DOMAINS; do
		[ -f "$frag/$z.zone" ] || die "mxdeck rendered no zone records for $z ($frag/$z.zone)"
		{
			printf '$ORIGIN %s.\n$TTL 300\n' "$z"
			printf '@ IN SOA ns.%s. hostmaster.%s. %s 3600 600 86400 300\n' "$z" "$z" "$(date +%s)"
			printf '@ IN NS ns.%s.\nns IN A 127.0.0.1\n' "$z"
			for n in $names; do
				case $n in *."$z".) ;; *) continue ;; esac
				grep -q "^$n[[:space:]].*IN[[:space:]]\+CNAME" "$frag"/*.zone && continue
				printf '%s IN A 127.0.0.1\n' "$n"
			done
			grep -v '^;' "$frag/$z.zone"
		} > "$SB/dns/$z"
		(
			cd "$SB/dns"
			ksk=$(ldns-keygen -a RSASHA256 -b 2048 -k "$z")
			zsk=$(ldns-keygen -a RSASHA256 -b 1024 "$z")
			ldns-signzone -n -f "$z.signed" "$z" "$zsk" "$ksk" >/dev/null
			cat "$ksk.key" >> trust-anchors.key
			rm -f "$ksk.private" "$zsk.private" "$ksk.ds" "$zsk.ds"
		) || die "signing the zone $z failed"
		nsd-checkzone "$z" "$SB/dns/$z.signed" >/dev/null || die "nsd-checkzone $z failed"
	done
	chmod -R a+rX "$SB/dns"
}

demo_dns() {
	local nsdport=$((RESOLVER_PORT + 1)) args=() z
	while lab_port_busy "$nsdport"; do nsdport=$((nsdport + 1)); done
	for z in $DOMAINS; do
		args+=("$z" "$SB/dns/$z.signed")
	done
	mkdir -p "$SB/dns/nsd"
	lab_nsd_conf "$SB/dns/nsd" "$nsdport" "${args[@]}"
	nsd -c "$SB/dns/nsd/nsd.conf" >"$LOGS/nsd.out" 2>&1 || fail_start nsd "$SB/dns/nsd/nsd.log"
	record nsd "$SB/dns/nsd/nsd.pid" || fail_start nsd "$SB/dns/nsd/nsd.log"
	lab_wait_port "$nsdport" || fail_start nsd "$SB/dns/nsd/nsd.log"
	{
		cat <<EOF
server:
  interface: $RESOLVER_IP@$RESOLVER_PORT
  port: $RESOLVER_PORT
  do-ip6: no
  username: ""
  chroot: ""
  directory: "$SB/dns"
  pidfile: "$RUN/unbound.pid"
  logfile: "$LOGS/unbound.log"
  use-syslog: no
  do-daemonize: yes
  access-control: 127.0.0.0/8 allow
  do-not-query-localhost: no
  module-config: "validator iterator"
  trust-anchor-file: "$SB/dns/trust-anchors.key"
  qname-minimisation: no
  val-log-level: 2
remote-control:
  control-enable: no
EOF
		for z in $DOMAINS; do
			printf 'stub-zone:\n  name: "%s"\n  stub-addr: 127.0.0.1@%s\n' "$z" "$nsdport"
		done
	} > "$SB/dns/unbound.conf"
	unbound -c "$SB/dns/unbound.conf" >"$LOGS/unbound.out" 2>&1 ||
	    fail_start unbound "$LOGS/unbound.out"
	record unbound "$RUN/unbound.pid" || fail_start unbound "$LOGS/unbound.log"
	lab_wait_port "$RESOLVER_PORT" || fail_start unbound "$LOGS/unbound.log"
}

demo_phpfpm() {
	local sock=$PHP_SOCK
	mkdir -p "$(dirname "$sock")"
	lab_phpfpm_conf "$RUN/php-fpm.conf" "$sock" "$RUN/php-fpm.pid" "$LOGS/php-fpm.log" yes
	php-fpm8.2 -y "$RUN/php-fpm.conf" >"$LOGS/php-fpm.out" 2>&1 ||
	    fail_start php-fpm "$LOGS/php-fpm.log"
	record php-fpm "$RUN/php-fpm.pid" || fail_start php-fpm "$LOGS/php-fpm.log"
}

demo_postfix() {
	lab_postfix_register "$PF"
	chown postfix "$SB/var/lib/postfix"
	postfix -c "$PF" set-permissions >/dev/null 2>&1 || true
	postfix -c "$PF" start >"$LOGS/postfix.out" 2>&1 || fail_start Postfix "$LOGS/postfix.log"
	record postfix "$SB/var/spool/postfix/pid/master.pid" || fail_start Postfix "$LOGS/postfix.log"
	lab_wait_port "$SMTP" && lab_wait_port "$SUB" && lab_wait_port "$SMTPS" ||
	    fail_start Postfix "$LOGS/postfix.log"
}

demo_dovecot() {
	dovecot -c "$DOVE/dovecot.conf" >"$LOGS/dovecot.out" 2>&1 ||
	    fail_start Dovecot "$LOGS/dovecot.out"
	record dovecot "$RUN/dovecot/master.pid" || fail_start Dovecot "$LOGS/dovecot.log"
	lab_wait_port "$IMAPS" && lab_wait_port "$POP3S" || fail_start Dovecot "$LOGS/dovecot.log"
}

demo_apache() {
	( set +u; . "$AP/envvars" && apache2 -d "$AP" -f "$AP/apache2.conf" -k start ) \
	    >"$LOGS/apache2.out" 2>&1 || fail_start Apache "$LOGS/apache2.out"
	record apache2 "$RUN/apache2/apache2.pid" || fail_start Apache "$LOGS/apache2/error.log"
	lab_wait_port "$HTTPS" && lab_wait_port "$EXCHANGE_PORT" ||
	    fail_start Apache "$LOGS/apache2/error.log"
}

backend_port() {
	ini_value backend | sed -n 's|^https://localhost:\([0-9]*\).*|\1|p'
}

# The Exchange the vhosts proxy to: a stand-in site of the lab's Apache (not managed by
# mxdeck) on the profile's backend port. ActiveSync asks for credentials (401), OWA
# shows a page, Autodiscover is answered by the responder mxdeck rendered.
demo_exchange() {
	local www=$SB/var/www/exchange
	EXCHANGE_PORT=$(backend_port)
	[ -n "$EXCHANGE_PORT" ] || die "$PROFILE: the demo's vhosts proxy to https://localhost:PORT (the lab's Exchange stand-in); backend is '$(ini_value backend)'"
	mkdir -p "$www"
	{
		echo '<?php'
		echo '// mxdeck demo lab: a stand-in for the Exchange server behind the reverse proxy.'
		printf '$responder = %s;\n' "'$SB/var/www/mxdeck/autodiscover/autodiscover.php'"
		cat <<'PHP'
$path = (string)parse_url((string)($_SERVER['REQUEST_URI'] ?? '/'), PHP_URL_PATH);
if (preg_match('~^/autodiscover/autodiscover\.xml$~i', $path)) {
	require $responder;
} elseif (preg_match('~^/Microsoft-Server-ActiveSync~i', $path)) {
	header('WWW-Authenticate: Basic realm="mxdeck demo Exchange"');
	http_response_code(401);
} elseif (preg_match('~^/(owa|ecp|ews|oab|mapi|oma)(/|$)~i', $path)) {
	header('Content-Type: text/html; charset=utf-8');
	echo '<!doctype html><title>Outlook (mxdeck demo)</title><p>The demo lab\'s Exchange ',
	    'stand-in answered ', htmlspecialchars($path), "\n";
} else {
	http_response_code(404);
}
PHP
	} > "$www/exchange.php"
	cat > "$AP/sites-available/demo-exchange.conf" <<EOF
# mxdeck demo lab: the Exchange stand-in the vhosts proxy to (not managed by mxdeck).
Listen 127.0.0.1:$EXCHANGE_PORT
<VirtualHost 127.0.0.1:$EXCHANGE_PORT>
	ServerName localhost
	SSLEngine on
	SSLCertificateFile "$SB/pki/mail.pem"
	SSLCertificateKeyFile "$SB/pki/mail.key"
	DocumentRoot "$www"
	AliasMatch "^/" "$www/exchange.php"
	<Directory "$www">
		Require all granted
		<Files "exchange.php">
			SetHandler "proxy:unix:$PHP_SOCK|fcgi://localhost"
		</Files>
	</Directory>
</VirtualHost>
EOF
	ln -sf ../sites-available/demo-exchange.conf "$AP/sites-enabled/demo-exchange.conf"
	chmod -R a+rX "$www"
}

demo_need() {
	local c missing=
	for c in "$@"; do
		command -v "$c" >/dev/null 2>&1 || missing="$missing $c"
	done
	[ -z "$missing" ] || die "missing:$missing (run ./tests/deps.sh, or install the Debian packages it lists)"
}

# Postfix, Apache and php-fpm read the sandbox as the postfix and www-data users: every
# directory above it must let them through (a home directory of mode 700 does not).
demo_reachable() {
	local u
	for u in postfix www-data; do
		if ! runuser -u "$u" -- test -r "$SB/pki/ca.pem" 2>/dev/null; then
			die "the $u user cannot reach $SB (a directory above it is not searchable by others, e.g. a home directory of mode 700), and the daemons read the sandbox as $u: for make demo, use a source tree outside such a directory; for mxdeck demo, a state directory outside it, e.g. sudo XDG_STATE_HOME=/var/tmp/mxdeck-state mxdeck demo"
		fi
	done
}

# The vhosts proxy to the stand-in by name (https://localhost:PORT): Apache resolves it.
demo_localhost() {
	getent ahostsv4 localhost 2>/dev/null | grep -q '^127\.0\.0\.1 ' ||
	    die "localhost does not resolve to 127.0.0.1 on this machine (no /etc/hosts line?), and the demo's vhosts proxy to https://localhost:$(backend_port): ./tests/deps.sh adds the standard line"
}

# Postfix's re-injection listeners of the profile's connectors: 127.0.0.1:10040+N.
connector_ports() {
	local n
	n=$(grep -c '^\[connector ' "$PROFILE" || true)
	[ "$n" -gt 0 ] && seq 10041 $((10040 + n))
	return 0
}

demo_busy() {
	local p busy=
	for p in "$SMTP" "$SUB" "$SMTPS" "$IMAPS" "$POP3S" "$HTTPS" "$HTTP" "$RESOLVER_PORT" \
	    $(backend_port) $(connector_ports); do
		lab_port_busy "$p" && busy="$busy $p"
	done
	[ -z "$busy" ] || die "port(s)$busy on this machine are in use (another demo lab? 'demo-lab.sh stop $DIR' stops one started from $DIR)"
}

demo_start() {
	local rc=0
	demo_need openssl ss pgrep runuser ldns-keygen ldns-signzone nsd nsd-checkzone unbound \
	    php-fpm8.2 apache2 dovecot doveadm doveconf postfix postconf
	local push=$PROFILE
	demo_profile_ok
	if [ "$ROOT" -ne 1 ]; then
		cat >&2 <<EOF
demo: not root: Postfix needs root (its master runs as root and starts its daemons as
demo: the postfix user), so the mail ports $SMTP, $SUB and $SMTPS stay closed and the push
demo: leaves out the postfix role. Dovecot, Apache, php-fpm, nsd and unbound run as
demo: $(id -un) on their high ports; the live tests of those three ports fail, and a
demo: push of the whole profile from the console (P) fails at Postfix's check. Everything,
demo: Postfix included: sudo make demo (installed: sudo mxdeck demo).
EOF
		# the demo profile without the postfix role, next to it (same relative paths)
		push=$DIR/.demo-without-postfix.ini
		sed 's/^roles = .*/roles = dovecot apache autodiscover dns exchange/' "$PROFILE" > "$push"
	fi
	demo_prepare
	[ "$ROOT" -ne 1 ] || demo_reachable
	demo_localhost
	demo_busy
	say "sandbox $SB (stock /etc/{postfix,dovecot,apache2,nginx}, demo CA in $SB/pki)"
	say "pushing $push through the real push path (log: $LOGS/push.log)"
	"$MXDECK" apply "$push" --yes >"$LOGS/push.log" 2>&1 || rc=$?
	if [ $rc -ne 0 ]; then
		say "the push failed (exit $rc):" >&2
		tail -n 20 "$LOGS/push.log" >&2
		exit 1
	fi
	grep -E '^(mxdeck: )?(demo|push)' "$LOGS/push.log" | tail -n 3 | sed 's/^/demo:   /' || true
	demo_zones
	demo_exchange
	: > "$PIDS"
	demo_dns
	demo_phpfpm
	[ "$ROOT" -ne 1 ] || demo_postfix
	demo_dovecot
	demo_apache
	say "running: $(awk '{ printf "%s%s (pid %s)", sep, $1, $2; sep = ", " }' "$PIDS")"
	say "resolver $resolver (unbound, validating), smtp $SMTP, submission $SUB, smtps $SMTPS, imaps $IMAPS, pop3s $POP3S, https $HTTPS, http $HTTP"
}

# ---- check ----

# Results the demo shows on purpose (DEMO.md explains each): "status kind name target".
EXPECTED_NONOK='
warn smtp open-relay 127.0.0.1:
'

demo_check() {
	local json=$RUN/test.json rc=0
	"$MXDECK" test "$PROFILE" --json >"$json" 2>"$LOGS/test.txt" || rc=$?
	cat "$LOGS/test.txt"
	python3 - "$json" "$EXPECTED_NONOK" <<'PY'
import json, sys
doc = json.load(open(sys.argv[1]))
res = doc["results"]
if not res:
    print("demo-check: no results"); sys.exit(1)
expected = [l.split(None, 3) for l in sys.argv[2].splitlines() if l.strip()]
n = len(res)
ok = sum(1 for r in res if r["status"] == "ok")
warn = sum(1 for r in res if r["status"] == "warn")
fail = n - ok - warn
print("demo-check: %d tests: %d ok, %d warn, %d fail (%.0f %% ok)" % (n, ok, warn, fail, 100.0 * ok / n))
bad = 0
for r in res:
    if r["status"] == "ok":
        continue
    key = [r["status"], r["kind"], r["name"], r["target"]]
    if any(e[0] == key[0] and e[1] == key[1] and e[2] == key[2] and key[3].startswith(e[3]) for e in expected if len(e) == 4):
        print("demo-check: on purpose: %s %s %s %s" % tuple(key))
    else:
        print("demo-check: UNEXPECTED: %s %s %s %s: %s" % (key[0], key[1], key[2], key[3], r["summary"]))
        bad += 1
if ok * 10 < n * 9:
    print("demo-check: below 90 % ok"); sys.exit(1)
sys.exit(1 if bad else 0)
PY
}

case $cmd in
pki)
	[ -f "$SB/pki/mail.pem" ] || lab_demo_pki "$DIR" $DOMAINS
	;;
prepare)
	demo_prepare
	;;
stop)
	demo_stop
	;;
start)
	demo_start
	;;
run)
	trap 'owned_stop' EXIT
	trap 'exit 130' INT TERM HUP
	demo_start
	say "opening the console; q stops the lab (walk-through: $(cd "$examples" && pwd)/DEMO.md)"
	rc=0
	"$MXDECK" "$PROFILE" || rc=$?
	exit $rc
	;;
check)
	[ "$ROOT" -eq 1 ] || die "make demo-check needs root: without it Postfix cannot run and its 11 live tests fail; run: sudo make demo-check"
	trap 'owned_stop' EXIT
	trap 'exit 130' INT TERM HUP
	demo_start
	demo_check
	;;
esac
