# lab-lib.sh: helpers shared by the test lab (tests/lab/probe-lab.sh) and the demo lab
# (demo-lab.sh, installed next to this file): real daemons on loopback, each with its
# own files, none of them touching the system's instances. Sourced, not run.
#
#   lab_wait_port PORT                     wait (LAB_WAIT_STEPS x 0.05 s) for a listener
#   lab_port_busy PORT                     0 when something listens on 127.0.0.1:PORT
#   lab_make_ca DIR CN                     DIR/ca.pem, DIR/ca.key
#   lab_leaf DIR NAME DAYS CN SAN          DIR/NAME.pem/.key signed by DIR/ca.pem
#   lab_nsd_conf DIR PORT ZONE FILE...     DIR/nsd.conf serving the zones on PORT
#   lab_phpfpm_conf FILE SOCKET PIDFILE LOG DAEMONIZE   a php-fpm with one pool on SOCKET
#   lab_postfix_register DIR / lab_postfix_unregister DIR
#                                          list DIR in the default main.cf's
#                                          alternate_config_directories (postfix -c needs it)
#   lab_demo_pki DIR DOMAIN...             the demo profile's CA, certificate and anchors file
#   lab_tlsa_spki CERT                     the SHA-256 of CERT's public key (TLSA 3 1 1)

# Wait until something listens on 127.0.0.1:PORT (LAB_WAIT_STEPS steps of 0.05 s, 5 s).
lab_wait_port() {
	local i
	for i in $(seq 1 "${LAB_WAIT_STEPS:-100}"); do
		if ss -Hltn "sport = :$1" 2>/dev/null | grep -q .; then
			return 0
		fi
		sleep 0.05
	done
	echo "lab: nothing listens on port $1" >&2
	return 1
}

lab_port_busy() {
	ss -Htuln "sport = :$1" 2>/dev/null | grep -q .
}

lab_make_ca() {	# DIR CN
	mkdir -p "$1"
	openssl req -x509 -newkey rsa:2048 -nodes -keyout "$1/ca.key" -out "$1/ca.pem" \
	    -subj "/CN=$2" -days "${LAB_CA_DAYS:-30}" 2>/dev/null
}

lab_leaf() {	# DIR NAME DAYS CN SAN
	local d=$1
	openssl req -newkey rsa:2048 -nodes -keyout "$d/$2.key" -subj "/CN=$4" \
	    -out "$d/$2.csr" 2>/dev/null
	printf 'subjectAltName=%s\nbasicConstraints=CA:FALSE\n' "$5" > "$d/$2.ext"
	openssl x509 -req -in "$d/$2.csr" -CA "$d/ca.pem" -CAkey "$d/ca.key" \
	    -CAcreateserial -days "$3" -extfile "$d/$2.ext" -out "$d/$2.pem" 2>/dev/null
}

lab_nsd_conf() {	# DIR PORT ZONE FILE [ZONE FILE...]
	local d=$1 port=$2
	shift 2
	cat > "$d/nsd.conf" <<EOF
server:
  ip-address: 127.0.0.1@$port
  port: $port
  username: ""
  chroot: ""
  zonesdir: "$d"
  database: ""
  zonelistfile: "$d/zone.list"
  pidfile: "$d/nsd.pid"
  xfrdfile: "$d/xfrd.state"
  logfile: "$d/nsd.log"
  server-count: 1
  verbosity: 1
  # no response rate limiting: a test that sends a thousand queries a second from
  # 127.0.0.1 would otherwise get dropped and truncated answers afterwards
  rrl-ratelimit: 0
remote-control:
  control-enable: no
EOF
	while [ $# -ge 2 ]; do
		printf 'zone:\n  name: "%s"\n  zonefile: "%s"\n' "$1" "$2" >> "$d/nsd.conf"
		shift 2
	done
}

lab_phpfpm_conf() {	# FILE SOCKET PIDFILE LOG DAEMONIZE(yes|no)
	local user=
	# as root the pool runs as www-data; otherwise as whoever starts it
	[ "$(id -u)" -ne 0 ] || user=$'user = www-data\ngroup = www-data'
	cat > "$1" <<EOF
[global]
pid = $3
error_log = $4
daemonize = $5
[lab]
$user
listen = $2
listen.mode = 0666
pm = static
pm.max_children = 4
catch_workers_output = yes
EOF
}

lab_postfix_register() {	# DIR
	local alt
	alt=$(postconf -h alternate_config_directories)
	case " $alt " in
	*" $1 "*) ;;
	*) postconf -e "alternate_config_directories = $alt $1" ;;
	esac
}

lab_postfix_unregister() {	# DIR
	local alt new= w
	alt=$(postconf -h alternate_config_directories 2>/dev/null)
	for w in $alt; do
		[ "$w" = "$1" ] || new="$new $w"
	done
	postconf -e "alternate_config_directories =$new" 2>/dev/null || true
}

# The demo profile's certificates and DNSSEC anchors file (demo-sandbox/pki, .../dns
# under DIR, where the profile is): a demo CA and one certificate for every name the demo
# serves, mail.example.org first; the domains' autodiscover and autoconfig names.
lab_demo_pki() {	# DIR DOMAIN...
	local top=$1 d=$1/demo-sandbox/pki z
	local san="DNS:mail.example.org,DNS:legacy.example.org,DNS:smtp.example.org"
	shift
	san="$san,DNS:imap.example.org,DNS:pop.example.org,DNS:localhost,IP:127.0.0.1"
	for z in "$@"; do
		san="$san,DNS:autodiscover.$z,DNS:autoconfig.$z"
	done
	mkdir -p "$d" "$top/demo-sandbox/dns"
	LAB_CA_DAYS=3650 lab_make_ca "$d" "mxdeck demo CA"
	lab_leaf "$d" mail 825 mail.example.org "$san"
	rm -f "$d/mail.csr" "$d/mail.ext"
	chmod 600 "$d/ca.key" "$d/mail.key"
	chmod 644 "$d/ca.pem" "$d/mail.pem"
	# the [connector]'s client_ca: a root standing in for Microsoft 365's, which the
	# demo's Postfix loads as smtpd_tls_CAfile (without the file smtpd has no TLS)
	mkdir -p "$d/connector"
	LAB_CA_DAYS=3650 lab_make_ca "$d/connector" "mxdeck demo Microsoft 365 stand-in CA"
	chmod 600 "$d/connector/ca.key"
	chmod 644 "$d/connector/ca.pem"
	# the anchors the profile names exist before the demo lab signs its zones
	[ -e "$top/demo-sandbox/dns/trust-anchors.key" ] || : > "$top/demo-sandbox/dns/trust-anchors.key"
}

lab_tlsa_spki() {	# CERT
	openssl x509 -in "$1" -noout -pubkey | openssl pkey -pubin -outform DER |
	    openssl dgst -sha256 -binary | od -An -tx1 | tr -d ' \n'
}
