#!/usr/bin/env bash
# golden-profile.sh DIR SEED: write DIR/site.ini and DIR/users.csv, a profile whose
# shape (hosts, roles, directories, vhosts, autodiscover, header rules, TLS, access,
# users and their CSV, connectors) is drawn from SEED. About one in five profiles has a
# mistake somewhere (an unknown role, a bad port, a hostile name, a broken CSV row), so
# that the golden comparison (tests/golden.sh) covers refusals and messages as well as
# rendered files; some mistakes only a renderer refuses (a ";" in a certificate path,
# a space in postfix_dir, a CSV row starting with "#"). The same SEED always gives the
# same profile.
set -eu
dir=$1 seed=$2
cert=$(cd "$(dirname "$0")" && pwd)/data/golden/dns/test-cert.pem
mkdir -p "$dir"
awk -v seed="$seed" -v dir="$dir" -v cert="$cert" '
function r(n) { return int(rand() * n) }		# 0..n-1
function pick(s,   a, n) { n = split(s, a, "|"); return a[r(n) + 1] }
function chance(p) { return rand() < p }
function subset(s,   a, n, i, out) {
	n = split(s, a, " "); out = ""
	for (i = 1; i <= n; i++) if (chance(0.5)) out = out (out == "" ? "" : " ") a[i]
	return out == "" ? a[r(n) + 1] : out
}
BEGIN {
	srand(seed)
	ini = dir "/site.ini"; csv = dir "/users.csv"
	bad = chance(0.2)	# this profile may carry mistakes
	rbad = !bad && chance(0.15)	# or only mistakes lint leaves to the renderers
	dom = pick("example.org|example.org|mail.example.net|corp.example.com|xn--bcher-kva.example")
	if (bad && chance(0.2)) dom = pick("exa_mple.org|example.org.|example|-bad.example.org|a..b.org")
	print "; golden profile, seed " seed > ini
	print "[site]" > ini
	if (chance(0.7)) print "name = site" seed > ini
	print "domain = " dom > ini
	if (chance(0.3)) print "resolver = " pick("127.0.0.1|127.0.0.1:5353|[::1]:53|::1") > ini
	if (chance(0.3)) print "dkim = " pick("yes|no") > ini
	if (chance(0.2)) print "trust_anchor = /usr/share/dns/root.key" > ini

	nh = 1 + r(3)
	for (h = 1; h <= nh; h++) {
		printf "\n[host \"gw%d\"]\n", h > ini
		addr = pick("192.0.2." h "|gw" h ".example.org|local|2001:db8::" h "|mx" h "." dom)
		if (bad && chance(0.15)) addr = pick("bad_host.example.org|gw" h ".example.org.|-x.example.org|300.1.1.1")
		print "address = " addr > ini
		if (chance(0.3)) print "port = " pick("22|2222|65535") > ini
		if (chance(0.3)) print "user = " pick("root|deploy") > ini
		ws = pick("apache|nginx")	# one web server per host: both on one is an error
		roles = subset("postfix dovecot " ws " autodiscover dns exchange")
		if (h == 1 && chance(0.5)) roles = "postfix dovecot " ws " autodiscover dns"
		if (bad && chance(0.1)) roles = roles " apache nginx"
		if (roles ~ /apache/) have["apache"] = 1
		if (roles ~ /nginx/) have["nginx"] = 1
		if (roles ~ /dns/) have["dns"] = 1
		if (roles ~ /dovecot/) have["dovecot"] = 1
		if (bad && chance(0.15)) roles = roles " " pick("sendmail|Exim|")
		print "roles = " roles > ini
		split("postfix_dir dovecot_dir apache_dir nginx_dir www_dir state_dir postfix_queue_dir", dk, " ")
		for (k = 1; k <= 7; k++)
			if (chance(0.15))
				print dk[k] " = " (addr == "local" && chance(0.5) ? "sandbox/" : "/srv/h" h "/") dk[k] > ini
		if (rbad && chance(0.4)) print "postfix_dir = /etc/post fix" > ini	# render refuses
		if (chance(0.3)) print "postfix_version = " pick("3.4|3.5.9|3.6|3.7|3.8|3.10.1") > ini
		if (chance(0.2)) print "php_fpm_socket = " pick("/run/php/php8.2-fpm.sock|/run/php/fpm.sock") > ini
		if (chance(0.2)) print "keep_backups = " pick("1|5|1000") > ini
		if (chance(0.3)) print "probe_ports = " pick("smtp:2525 https:8443|imap:off pop3:off|submission:0 smtps:465|http:8080") > ini
		if (bad && chance(0.1)) print "probe_ports = smtp:99999" > ini
	}

	nv = ("apache" in have) || ("nginx" in have) || (bad && chance(0.3)) ? r(4) : 0
	for (v = 1; v <= nv; v++) {
		printf "\n[vhost \"%s\"]\n", pick("mail|owa|webmail|legacy") v "." dom > ini
		srv = ("apache" in have) && ("nginx" in have) ? pick("apache|nginx") : \
		    ("nginx" in have) ? "nginx" : "apache"
		if (bad && chance(0.1)) srv = pick("apache|nginx|lighttpd")
		print "server = " srv > ini
		be = pick("https://exch01.corp.example.org|https://exch01.corp.example.org:8443|https://exch02.lan.example.org/|http://exch02.lan.example.org")
		if (bad && chance(0.2)) be = pick("ftp://exch01|https://exch 01|https://|https://[2001:db8::5]|https://10.0.0.5")
		print "backend = " be > ini
		if (chance(0.2)) print "backend_ca = /etc/ssl/certs/corp-ca.pem" > ini
		if (chance(0.6)) print "services = " subset("owa oma ecp ews oab autodiscover activesync rpc mapi") > ini
		print "certificate = /etc/ssl/certs/" v (rbad && chance(0.5) ? ";x" : "") ".pem" > ini
		print "key = /etc/ssl/private/" v ".key" > ini
		if (chance(0.3)) print "activesync_timeout = " pick("300|1800|86400") > ini
		if (chance(0.3)) print "legacy_tls = " pick("yes|no") > ini
	}

	na = r(3)
	for (a = 1; a <= na; a++) {
		ad = a == 1 ? dom : "other" a ".example"
		printf "\n[autodiscover \"%s\"]\n", ad > ini
		if (chance(0.8)) print "imap = " pick("imap." dom ":993/ssl|imap." dom ":143/starttls|imap." dom ":993") > ini
		if (bad && chance(0.2)) print "imap = [2001:db8::1]:993" > ini
		if (chance(0.6)) print "pop3 = " pick("pop." dom ":995/ssl|pop." dom ":110/starttls") > ini
		if (!bad || chance(0.8)) print "smtp = " pick("smtp." dom ":465/ssl|smtp." dom ":587/starttls|smtp." dom ":587") > ini
		if (chance(0.5)) print "activesync = https://mail." dom "/Microsoft-Server-ActiveSync" > ini
		if (chance(0.4)) print "login = " pick("email|localpart") > ini
		if (chance(0.4)) print "also = " subset("example.com example.net example.info") > ini
		if (bad && chance(0.2)) print "smtp = smtp." dom ":0/ssl" > ini
	}

	nr = r(3)
	for (i = 1; i <= nr; i++) {
		printf "\n[header-rules \"rules%d\"]\n", i > ini
		if (chance(0.7)) print "scope = " pick("authenticated|outbound") > ini
		n = 1 + r(3)
		for (j = 0; j < n; j++)
			print "rule = " pick("/^X-Originating-IP:/ IGNORE|/^(Received: from)[^\\n]*(.*)/ REPLACE $1 [127.0.0.1] (localhost [127.0.0.1])$2|/^User-Agent:/ IGNORE|/^X-Mailer:/ REPLACE X-Mailer: mail|!/^From:/ DUNNO") > ini
		if (bad && chance(0.3)) print "rule = " pick("/^X-Bad:/ FROBNICATE|/^Subject:.*viagra/i REJECT spam|/(unclosed/ IGNORE") > ini
	}

	needtls = ("dns" in have) || ("dovecot" in have)
	if ((needtls && !(bad && chance(0.2))) || chance(0.7)) {
		print "\n[tls]" > ini
		if (chance(0.3)) print "smtpd_protocols = " pick(">=TLSv1.2|>=TLSv1.3|!SSLv2, !SSLv3") > ini
		if (chance(0.2)) print "smtp_protocols = " pick(">=TLSv1.2|>=TLSv1") > ini
		if (chance(0.2)) print "dovecot_min_protocol = " pick("TLSv1.2|TLSv1.3") > ini
		if (chance(0.2)) print "no_renegotiation = " pick("yes|no") > ini
		if (chance(0.5)) print "dane = " pick("yes|no") > ini
		if (chance(0.3)) print "tlsa_ports = " pick("25|25 465|25 465 587|") > ini
		if (needtls || chance(0.8)) { print "certificate = " cert > ini; print "key = /etc/ssl/private/mx.key" > ini }
	}
	if (chance(0.5)) {
		print "\n[access]" > ini
		if (chance(0.6)) print "always_accept = " subset("postmaster abuse hostmaster") > ini
		if (chance(0.6)) print "relay_networks = " subset("192.0.2.0/24 10.0.0.0/8 [2001:db8::]/32 127.0.0.1") > ini
		if (chance(0.4)) print "recipient_restrictions = " pick("reject_rbl_client zen.spamhaus.org|check_policy_service unix:private/policy|reject_unknown_recipient_domain") > ini
		if (bad && chance(0.3)) print "relay_networks = 10.0.0.0/33" > ini
	}

	nu = r(40)
	print "email,imap,pop3,smtp,activesync,mapi,owa,ews" > csv
	for (u = 0; u < nu; u++)
		printf "user%d@%s,%d,%d,%d,%d,%d,%d,%d\n", u, dom, r(2), r(2), r(2), r(2), r(2), r(2), r(2) > csv
	if (rbad && chance(0.6)) printf "#u%d@%s,1,0,1,0,0,0,0\n#v%d@%s,1,0,0,0,0,0,0\n", seed, dom, seed, dom > csv	# dovecot refuses
	if (bad && chance(0.5)) print pick("user0@" dom ",1,1,1,1,1,1,1|broken row,1|bad user@" dom ",1,1,1,1,1,1,1|u@" dom ",maybe,1,1,1,1,1,1") > csv
	if (chance(0.8)) {
		print "\n[users]" > ini
		if (chance(0.5)) print "default = " pick("imap pop3:off smtp activesync mapi owa ews|imap smtp|imap:on pop3:off") > ini
		print "file = users.csv" > ini
	}
	if (chance(0.3)) {
		printf "\n[user \"boss@%s\"]\n", dom > ini
		print "pop3 = " pick("yes|no") > ini
		print "activesync = " pick("yes|no") > ini
	}
	if (chance(0.3)) {
		print "\n[connector \"fax." dom "\"]" > ini
		print "smarthost = " pick("[fax-gw.example.org]:25|fax-gw.example.org|[192.0.2.9]:2525") > ini
		if (!bad || chance(0.6)) print "tenant_id = " pick("00000000-0000-0000-0000-000000000000|11111111-2222-3333-4444-555555555555") > ini
		if (!bad || chance(0.6)) print "client_ca = /etc/postfix/microsoft365-ca.pem" > ini
		if (chance(0.3)) print "client_fingerprints = " pick("AB:CD|00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff") > ini
	}
	if (chance(0.1)) print "\n[tests]\nca = /etc/ssl/certs/ca-certificates.crt" > ini
	if (bad && chance(0.2)) print "\n[nosuchsection]\nfoo = bar" > ini
}'
