#!/bin/bash
# lint-dovecot.sh: the Dovecot gap lint closes. doveconf accepts any ssl_min_protocol
# value; a bad one only fails when a client connects ("Unknown ssl_min_protocol
# setting"). For each value this starts the real Dovecot on a loopback port with it,
# makes a TLS handshake, and checks that `mxdeck lint` reports an error exactly when
# Dovecot cannot serve TLS.
set -eu

: "${MXDECK:?set MXDECK to the mxdeck binary}"
command -v dovecot >/dev/null || { echo "skip: dovecot not installed"; exit 77; }
command -v openssl >/dev/null || { echo "skip: openssl not installed"; exit 77; }

tmp=$(mktemp -d /tmp/mxdeck-lint-dovecot.XXXXXX)
pid=
cleanup() {
	if [ -n "$pid" ]; then
		kill "$pid" 2>/dev/null || true
		for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
	fi
	rm -rf "$tmp"
}
trap cleanup EXIT

openssl req -x509 -newkey rsa:2048 -nodes -subj /CN=imap.lab.test -days 2 \
    -keyout "$tmp/key.pem" -out "$tmp/cert.pem" 2>/dev/null

free_port() {
	local p
	for _ in $(seq 50); do
		p=$((10000 + RANDOM % 22000))	# below the ephemeral range
		if ! (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; then
			echo "$p"
			return
		fi
	done
	return 1
}

fails=0
# run VALUE: 0 when Dovecot completed a TLS handshake with ssl_min_protocol = VALUE
handshake() {
	local value=$1 port dir rc=1
	port=$(free_port)
	dir=$tmp/d-$port
	mkdir -p "$dir/run" "$dir/state"
	cat >"$dir/dovecot.conf" <<EOF
base_dir = $dir/run
state_dir = $dir/state
log_path = $dir/dovecot.log
listen = 127.0.0.1
protocols = imap
ssl = required
ssl_cert = <$tmp/cert.pem
ssl_key = <$tmp/key.pem
ssl_min_protocol = $value
service imap-login {
  inet_listener imap {
    port = 0
  }
  inet_listener imaps {
    port = $port
    ssl = yes
  }
}
service anvil {
  chroot =
}
passdb {
  driver = static
  args = nopassword=y
}
userdb {
  driver = static
  args = uid=nobody gid=nogroup home=$dir
}
EOF
	doveconf -c "$dir/dovecot.conf" -n >/dev/null 2>"$dir/doveconf.err" ||
	    { echo "     doveconf rejected it: $(head -1 "$dir/doveconf.err")"; }
	dovecot -c "$dir/dovecot.conf"
	for _ in $(seq 50); do [ -s "$dir/run/master.pid" ] && break; sleep 0.1; done
	pid=$(cat "$dir/run/master.pid")
	for _ in $(seq 50); do (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null && break; sleep 0.1; done
	if { sleep 0.5; printf 'a LOGOUT\r\n'; } |
	    timeout 10 openssl s_client -connect "127.0.0.1:$port" -quiet -crlf 2>/dev/null |
	    grep -q '^\* OK'; then
		rc=0
	fi
	kill "$pid"
	for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
	pid=
	if [ $rc -ne 0 ]; then
		grep -m1 -o 'Unknown ssl_min_protocol[^:]*' "$dir/dovecot.log" | sed 's/^/     dovecot: /' || true
	fi
	return $rc
}

for value in TLSv1.2 TLSv1.3 TLSv1 ANY TLS1.2 tlsv1.2 TLSv1_2 SSLv2; do
	served=no
	handshake "$value" && served=yes
	printf '[site]\ndomain = example.org\n[host "gw"]\naddress = local\nroles = dovecot\n[tls]\ndovecot_min_protocol = %s\ncertificate = /etc/ssl/certs/ssl-cert-snakeoil.pem\nkey = /etc/ssl/private/ssl-cert-snakeoil.key\n' \
	    "$value" >"$tmp/p.ini"
	lint_rc=0
	out=$("$MXDECK" lint "$tmp/p.ini" 2>&1) || lint_rc=$?
	lint_err=no
	grep -q 'p.ini:7: error: \[tls\] dovecot_min_protocol' <<<"$out" && lint_err=yes
	if { [ $served = yes ] && [ $lint_err = no ] && [ $lint_rc -eq 0 ]; } ||
	    { [ $served = no ] && [ $lint_err = yes ] && [ $lint_rc -eq 2 ]; }; then
		echo "ok   ssl_min_protocol = $value: dovecot served TLS: $served, lint error: $lint_err"
	else
		echo "FAIL ssl_min_protocol = $value: dovecot served TLS: $served, lint error: $lint_err (exit $lint_rc)"
		fails=$((fails + 1))
	fi
done

echo "lint-dovecot: $fails failures"
[ "$fails" -eq 0 ]
