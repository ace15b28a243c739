# probe-lab.sh: the live-test lab on loopback, sourced by tests/integration/probe-*.sh
# and tests/bench/probe.sh. Every server runs from $LAB (a private temp dir) and is
# stopped by the pid it was started with (lab_cleanup, from the caller's EXIT trap).
#
#   . tests/lab/probe-lab.sh
#   lab_init; trap lab_cleanup EXIT
#   lab_ca                      # CA + certificates (valid, expired, wrong name)
#   lab_s_server PORT CERT KEY [s_server options...]
#   lab_postfix NAME SMTP SUB SMTPS [main.cf assignments...]
#   lab_dovecot IMAP IMAPS POP3 POP3S
#   lab_nsd PORT ZONEFILE ZONE
# Functions print what they start on stderr; failures exit the caller non-zero.

. "$(cd "$(dirname "${BASH_SOURCE[0]}")/../../share/lab" && pwd)/lab-lib.sh"

LAB_PIDS=""
LAB_POSTFIX_DIRS=""
LAB_DOVECOT_CONFS=""

lab_init() {
	LAB=$(mktemp -d /tmp/mxdeck-lab.XXXXXX)
	chmod 755 "$LAB"
	export LAB
	# A stdin that never ends for openssl s_server: at EOF on stdin it stops
	# serving renegotiations. The shell holds the FIFO open read-write.
	mkfifo "$LAB/stdin.fifo"
	exec {LAB_FIFO_FD}<>"$LAB/stdin.fifo"
}

lab_cleanup() {
	local p d
	for d in $LAB_POSTFIX_DIRS; do
		postfix -c "$d" stop >/dev/null 2>&1 || true
		# take the directory out of alternate_config_directories again
		lab_postfix_unregister "$d"
	done
	for d in $LAB_DOVECOT_CONFS; do
		doveadm -c "$d" stop >/dev/null 2>&1 || true
	done
	for p in $LAB_PIDS; do
		kill "$p" 2>/dev/null || true
	done
	for p in $LAB_PIDS; do
		wait "$p" 2>/dev/null || true
	done
	if [ -n "${LAB:-}" ] && [ -d "$LAB" ] && [ -z "${LAB_KEEP:-}" ]; then
		rm -rf "$LAB"
	fi
}

# A free TCP port on 127.0.0.1: not in use now and not handed out before in this lab
# (lab_port runs in a subshell: the record is a file).
lab_port() {
	local p
	while :; do
		# below the ephemeral range (32768-60999 here): an outgoing connection's
		# local port would make bind() fail with "Address already in use"
		p=$(( (RANDOM % 22000) + 10000 ))
		if grep -qx "$p" "$LAB/ports" 2>/dev/null; then
			continue
		fi
		if ! ss -Htan "sport = :$p" 2>/dev/null | grep -q .; then
			echo "$p" >> "$LAB/ports"
			echo "$p"
			return
		fi
	done
}

# Certificates under $LAB/pki: ca.pem; good.{pem,key} (smtp/imap/mx names), expired,
# wrong (CN=wrong.other.test), each signed by the lab CA, RSA-2048.
lab_ca() {
	local d=$LAB/pki
	lab_make_ca "$d" "mxdeck lab CA"
	lab_pki_leaf good 90 "smtp.lab.test" \
	    "DNS:smtp.lab.test,DNS:imap.lab.test,DNS:pop.lab.test,DNS:mx1.lab.test,DNS:mx2.lab.test,DNS:mail.lab.test,DNS:autodiscover.lab.test,DNS:lab.test,DNS:autodiscover.lab2.test"
	lab_pki_leaf expired -1 "smtp.lab.test" "DNS:smtp.lab.test,DNS:mx1.lab.test"
	lab_pki_leaf wrong 30 "wrong.other.test" "DNS:wrong.other.test"
	lab_pki_leaf soon 5 "smtp.lab.test" "DNS:smtp.lab.test"
	cat "$d/good.pem" "$d/good.key" > "$d/good.both"
	chmod 644 "$d"/*
}

# lab_pki_leaf NAME DAYS CN SAN (share/lab/lab-lib.sh's lab_leaf under $LAB/pki)
lab_pki_leaf() {
	lab_leaf "$LAB/pki" "$@"
}

# lab_s_server PORT CERT KEY [options]: openssl s_server on 127.0.0.1:PORT, sending
# the lab CA as its chain (or the file $LAB_CHAIN).
lab_s_server() {
	local port=$1 cert=$2 key=$3
	shift 3
	openssl s_server -quiet -accept "127.0.0.1:$port" -cert "$cert" -key "$key" \
	    -cert_chain "${LAB_CHAIN:-$LAB/pki/ca.pem}" "$@" <"$LAB/stdin.fifo" >"$LAB/s_server-$port.log" 2>&1 &
	LAB_PIDS="$LAB_PIDS $!"
}

# lab_postfix NAME SMTP SUB SMTPS [main.cf "key = value" ...]
# A private Postfix instance (LAB-NOTES traps handled): smtpd on SMTP (STARTTLS), SUB
# (submission: STARTTLS, AUTH only after it, through the Dovecot SASL socket at
# $LAB/dovecot/auth-client when it exists) and SMTPS (implicit TLS).
lab_postfix() {
	local name=$1 smtp=$2 sub=$3 smtps=$4 d
	shift 4
	d=$LAB/postfix-$name
	mkdir -p "$d/queue" "$d/data"
	chown postfix "$d/data"
	cp /etc/postfix/master.cf "$d/master.cf"
	# trap 2: the postlog service must exist for maillog_file
	sed -i 's/^#\(postlog.*\)/\1/' "$d/master.cf"
	# Remove the stock inet smtp service; ours bind to loopback ports.
	sed -i '/^smtp[[:space:]]\+inet/d' "$d/master.cf"
	cat > "$d/main.cf" <<EOF
compatibility_level = 3.6
queue_directory = $d/queue
data_directory = $d/data
mail_owner = postfix
myhostname = smtp.lab.test
mydomain = lab.test
myorigin = lab.test
mydestination =
relay_domains = lab.test lab2.test
mynetworks = 192.0.2.10/32
inet_interfaces = loopback-only
inet_protocols = ipv4
maillog_file = $d/maillog
maillog_file_prefixes = /var /dev/stdout $d
smtpd_banner = \$myhostname ESMTP lab
smtpd_tls_cert_file = $LAB/pki/good.pem
smtpd_tls_key_file = $LAB/pki/good.key
smtpd_tls_security_level = may
smtpd_tls_auth_only = yes
submission_tls_level = encrypt
smtpd_tls_protocols = >=TLSv1.2
smtpd_tls_mandatory_protocols = >=TLSv1.2
tls_ssl_options = NO_RENEGOTIATION
smtpd_relay_restrictions = permit_mynetworks permit_sasl_authenticated reject_unauth_destination
smtpd_recipient_restrictions = check_recipient_access inline:{ postmaster@=OK, abuse@=OK }
smtp_dns_support_level = disabled
disable_vrfy_command = yes
master_service_disable =
shlib_directory = /usr/lib/postfix
EOF
	for kv in "$@"; do
		postconf -c "$d" -e "$kv"
	done
	# SASL on submission/smtps through the lab's Dovecot when it runs (as mxdeck renders
	# it). Without one, no SASL at all: Postfix's other backend, Cyrus, has no mechanism
	# on a machine without libsasl2-modules and smtpd then dies on every connection
	# ("no SASL authentication mechanisms").
	# (A caller may name its own Dovecot socket with "smtpd_sasl_type = dovecot".)
	local sasl=""
	if [ -S "$LAB/dovecot/auth-client" ]; then
		postconf -c "$d" -e "smtpd_sasl_type = dovecot" \
		    "smtpd_sasl_path = $LAB/dovecot/auth-client"
	fi
	[ "$(postconf -c "$d" -h smtpd_sasl_type)" = dovecot ] &&
	    sasl="-o smtpd_sasl_auth_enable=yes"
	postconf -c "$d" -M "127.0.0.1:$smtp/inet = 127.0.0.1:$smtp inet n - n - - smtpd"
	postconf -c "$d" -M "127.0.0.1:$sub/inet = 127.0.0.1:$sub inet n - n - - smtpd $sasl -o smtpd_tls_security_level=\$submission_tls_level"
	postconf -c "$d" -M "127.0.0.1:$smtps/inet = 127.0.0.1:$smtps inet n - n - - smtpd -o smtpd_tls_wrappermode=yes $sasl"
	# trap 1: the default main.cf must list the directory
	lab_postfix_register "$d"
	# trap 3
	postfix -c "$d" set-permissions >/dev/null 2>&1 || true
	if ! postfix -c "$d" check; then
		echo "lab: postfix $name: check failed" >&2
		return 1
	fi
	if ! postfix -c "$d" start >/dev/null 2>&1; then
		echo "lab: postfix $name: start failed:" >&2
		tail -5 "$d/maillog" >&2 2>/dev/null
		return 1
	fi
	LAB_POSTFIX_DIRS="$LAB_POSTFIX_DIRS $d"
	lab_wait_port "$smtp" && lab_wait_port "$sub" && lab_wait_port "$smtps"
}

# lab_dovecot IMAP IMAPS POP3 POP3S [NAME ["setting = value"...]]: Dovecot with STARTTLS
# on IMAP/POP3 and implicit TLS on IMAPS/POP3S, and a SASL socket for Postfix at
# $LAB/dovecot/auth-client (a NAMEd instance lives in $LAB/dovecot-NAME; the settings
# are appended, and the last assignment of a setting wins). It listens on 127.0.0.1, or
# on $LAB_DOVECOT_ADDR: Dovecot counts a client whose address is its own as secured
# (disable_plaintext_auth does not apply), so a test of what it allows before
# STARTTLS needs another address (lab_addr) than the probe's source, 127.0.0.1.
lab_dovecot() {
	local d=$LAB/dovecot${5:+-$5} kv addr=${LAB_DOVECOT_ADDR:-127.0.0.1}
	mkdir -p "$d/base" "$d/state"
	printf 'alice@lab.test:{PLAIN}secret::::::\n' > "$d/passwd"
	cat > "$d/dovecot.conf" <<EOF
protocols = imap pop3
listen = $addr
base_dir = $d/base
state_dir = $d/state
log_path = $d/log
ssl = yes
ssl_cert = <$LAB/pki/good.pem
ssl_key = <$LAB/pki/good.key
ssl_min_protocol = TLSv1.2
disable_plaintext_auth = yes
auth_mechanisms = plain login
default_internal_user = dovecot
default_login_user = dovenull
mail_location = maildir:$d/mail/%u
passdb {
  driver = passwd-file
  args = $d/passwd
}
userdb {
  driver = static
  args = uid=dovecot gid=dovecot home=$d/mail/%u
}
service imap-login {
  inet_listener imap {
    address = $addr
    port = $1
  }
  inet_listener imaps {
    address = $addr
    port = $2
    ssl = yes
  }
}
service pop3-login {
  inet_listener pop3 {
    address = $addr
    port = $3
  }
  inet_listener pop3s {
    address = $addr
    port = $4
    ssl = yes
  }
}
service auth {
  unix_listener $d/auth-client {
    mode = 0666
  }
}
EOF
	for kv in "${@:6}"; do
		printf '%s\n' "$kv" >> "$d/dovecot.conf"
	done
	if ! dovecot -c "$d/dovecot.conf"; then
		echo "lab: dovecot failed to start" >&2
		cat "$d/log" >&2 2>/dev/null
		return 1
	fi
	LAB_DOVECOT_CONFS="$LAB_DOVECOT_CONFS $d/dovecot.conf"
	lab_wait_port "$1" && lab_wait_port "$2" && lab_wait_port "$3" && lab_wait_port "$4"
}

# lab_nsd NAME PORT ZONE ZONEFILE [ZONE ZONEFILE...]: nsd serving the zones on
# 127.0.0.1:PORT.
lab_nsd() {
	local name=$1 port=$2 zone=$3 file=$4 d=$LAB/nsd-$1 n=1
	mkdir -p "$d"
	cp "$file" "$d/zone"
	chmod -R a+rX "$d"
	lab_nsd_conf "$d" "$port" "$zone" "$d/zone"
	shift 4
	while [ $# -ge 2 ]; do
		cp "$2" "$d/zone$n"
		printf 'zone:\n  name: "%s"\n  zonefile: "%s"\n' "$1" "$d/zone$n" \
		    >> "$d/nsd.conf"
		n=$((n + 1))
		shift 2
	done
	chmod -R a+rX "$d"
	nsd -d -c "$d/nsd.conf" >"$d/stdout" 2>&1 &
	LAB_PIDS="$LAB_PIDS $!"
	if ! lab_wait_port "$port"; then
		cat "$d/nsd.log" "$d/stdout" >&2 2>/dev/null
		return 1
	fi
}

# lab_addr: a free 127.x.y.z address (nothing bound to it), for a daemon that must sit
# on a fixed port, such as a resolver for glibc's stub (always port 53).
lab_addr() {
	local a
	while :; do
		a=127.$(( (RANDOM % 200) + 20 )).$(( (RANDOM % 250) + 1 )).$(( (RANDOM % 250) + 1 ))
		if ! ss -Hanu "src $a" 2>/dev/null | grep -q . &&
		    ! ss -Hant "src $a" 2>/dev/null | grep -q .; then
			echo "$a"
			return
		fi
	done
}

# lab_unbound NAME ADDR PORT ANCHOR ZONES NSDPORT: a validating unbound on ADDR:PORT
# whose only trust anchors are in ANCHOR (DNSKEY or DS lines), asking the lab nsd on
# 127.0.0.1:NSDPORT for each of ZONES (space-separated); Extended DNS Errors (RFC 8914)
# on.
lab_unbound() {
	local name=$1 addr=$2 port=$3 anchor=$4 zone=$5 nsd=$6 d=$LAB/unbound-$1 i
	mkdir -p "$d"
	cp "$anchor" "$d/anchor"
	cat > "$d/unbound.conf" <<EOF
server:
  interface: $addr
  port: $port
  do-ip6: no
  username: ""
  chroot: ""
  directory: "$d"
  pidfile: "$d/unbound.pid"
  use-syslog: no
  logfile: "$d/unbound.log"
  verbosity: 1
  val-log-level: 2
  num-threads: 1
  so-reuseport: no
  access-control: 127.0.0.0/8 allow
  do-not-query-localhost: no
  module-config: "validator iterator"
  trust-anchor-file: "$d/anchor"
  local-zone: "test." nodefault
  ede: yes
  val-bogus-ttl: 1
remote-control:
  control-enable: no
EOF
	for i in $zone; do
		printf 'stub-zone:\n  name: "%s"\n  stub-addr: 127.0.0.1@%s\n' "$i" "$nsd" \
		    >> "$d/unbound.conf"
	done
	chmod -R a+rX "$d"
	if ! unbound-checkconf "$d/unbound.conf" >"$d/check.log" 2>&1; then
		cat "$d/check.log" >&2
		return 1
	fi
	unbound -d -c "$d/unbound.conf" >"$d/stdout" 2>&1 &
	LAB_PIDS="$LAB_PIDS $!"
	for i in $(seq 1 100); do
		if ss -Hlnu "src $addr" 2>/dev/null | grep -q ":$port\\b"; then
			return 0
		fi
		sleep 0.05
	done
	echo "lab: unbound $name did not start" >&2
	cat "$d/stdout" "$d/unbound.log" >&2 2>/dev/null
	return 1
}

# lab_sign_zone DIR ZONE [ldns-signzone options]: sign DIR/ZONE (the zone file is named
# after the zone) with a fresh KSK (RSASHA256 2048) and ZSK (1024) into DIR/ZONE.signed;
# the KSK's DNSKEY goes to DIR/anchor.key, its DS to DIR/anchor.ds.
lab_sign_zone() {
	local dir=$1 zone=$2
	shift 2
	(
		cd "$dir"
		ksk=$(ldns-keygen -a RSASHA256 -b 2048 -k "$zone")
		zsk=$(ldns-keygen -a RSASHA256 -b 1024 "$zone")
		ldns-signzone -n "$@" -f "$zone.signed" "$zone" "$zsk" "$ksk" >/dev/null
		cp "$ksk.key" anchor.key
		cp "$ksk.ds" anchor.ds
	)
}

# lab_bad MODE PORT: a misbehaving server (tests/lab/probe-badserver.py).
lab_bad() {
	/usr/bin/python3 "$(dirname "${BASH_SOURCE[0]}")/probe-badserver.py" "$1" "$2" \
	    </dev/null >/dev/null 2>&1 &
	LAB_PIDS="$LAB_PIDS $!"
}

# lab_json_get FILE HOST NAME FIELD: a field of one result in `mxdeck test --json`.
lab_json_get() {
	/usr/bin/python3 - "$@" <<'PY'
import json, sys
doc = json.load(open(sys.argv[1]))
for r in doc["results"]:
    if (r["host"] or "") == sys.argv[2] and r["name"] == sys.argv[3]:
        print(r[sys.argv[4]])
        break
else:
    print("MISSING")
PY
}

# lab_json_target FILE TARGET FIELD: FIELD of the result whose target is TARGET in a
# `mxdeck test --json` document (MISSING when there is none).
lab_json_target() {
	/usr/bin/python3 - "$@" <<'PY'
import json, sys
for r in json.load(open(sys.argv[1]))["results"]:
    if r["target"] == sys.argv[2]:
        print(r[sys.argv[3]])
        break
else:
    print("MISSING")
PY
}

# lab_phpfpm: a private php-fpm pool listening on $LAB/php.sock.
lab_phpfpm() {
	local d=$LAB/php
	mkdir -p "$d"
	lab_phpfpm_conf "$d/php-fpm.conf" "$LAB/php.sock" "$d/php-fpm.pid" "$d/error.log" no
	php-fpm8.2 -F -y "$d/php-fpm.conf" >"$d/stdout" 2>&1 &
	LAB_PIDS="$LAB_PIDS $!"
	local i
	for i in $(seq 1 100); do
		[ -S "$LAB/php.sock" ] && return 0
		sleep 0.05
	done
	echo "lab: php-fpm did not start" >&2
	cat "$d/stdout" "$d/error.log" >&2 2>/dev/null
	return 1
}

# lab_nginx SITEFILE...: a private nginx (no daemon) including the given server files.
lab_nginx() {
	local d=$LAB/nginx f
	mkdir -p "$d/tmp" "$d/logs"
	{
		cat <<EOF2
worker_processes 1;
pid $d/nginx.pid;
error_log $d/logs/error.log;
events { worker_connections 256; }
http {
	access_log $d/logs/access.log;
	client_body_temp_path $d/tmp/body;
	fastcgi_temp_path $d/tmp/fastcgi;
	proxy_temp_path $d/tmp/proxy;
	uwsgi_temp_path $d/tmp/uwsgi;
	scgi_temp_path $d/tmp/scgi;
	default_type application/octet-stream;
EOF2
		for f in "$@"; do
			echo "	include $f;"
		done
		echo "}"
	} > "$d/nginx.conf"
	if ! nginx -t -p "$d" -c "$d/nginx.conf" >"$d/test.log" 2>&1; then
		echo "lab: nginx -t failed:" >&2
		cat "$d/test.log" >&2
		return 1
	fi
	nginx -p "$d" -c "$d/nginx.conf" -g 'daemon off;' >"$d/stdout" 2>&1 &
	LAB_PIDS="$LAB_PIDS $!"
}

# lab_need CMD...: skip the test (exit 77, tests/run.sh's SKIP) when a tool is missing.
lab_need() {
	local c
	for c in "$@"; do
		if ! command -v "$c" >/dev/null 2>&1; then
			echo "skipped: $c is not installed"
			exit 77
		fi
	done
}

# lab_s_client_reneg PORT [s_client options]: openssl's own verdict on client-initiated
# renegotiation (TLS 1.2 session, the interactive R command): prints accepted or refused.
lab_s_client_reneg() {
	local port=$1 out
	shift
	out=$( (sleep 0.5; echo R; sleep 1) | timeout 10 openssl s_client \
	    -connect "127.0.0.1:$port" -no_tls1_3 "$@" 2>&1 || true)
	case $out in
	*RENEGOTIATING*"no renegotiation"*|*RENEGOTIATING*"alert"*) echo refused ;;
	*RENEGOTIATING*) echo accepted ;;
	*) echo "unknown" ;;
	esac
}
