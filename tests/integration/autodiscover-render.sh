#!/usr/bin/env bash
# autodiscover-render.sh: the Autodiscover responder, the autoconfig files and the web
# server sites that serve them, run for real. php -l on the responder; a private
# php-fpm; a private Apache and a private nginx with the rendered sites; Outlook (POX)
# requests in both response schemas over HTTPS in odd path case, with the right
# LoginName per section; a hostile address and a foreign domain get ErrorCode 600 with
# nothing of the input echoed; every answer is well-formed XML (xmllint).
set -eu
MXDECK=${MXDECK:?}
. "$(dirname "$0")/../lab/web-lab.sh"
web_init php php-fpm8.2 apache2 nginx curl
WEB_PIDFILES=("$T/srv/apache.pid" "$T/nginx.pid")
WEB_LOGS=("$T/srv/error.log" "$T/nginx-error.log" "$T/php/error.log")
TAIL=${TAIL:-10}
APORT=$(lab_port)	# Apache https
NPORT=$(lab_port)	# nginx https
HPORT=$(lab_port)	# nginx http (moved from 80 for the live run)
HAPORT=$(lab_port)	# Apache http (moved from 80 for the live run)

web_ca ca
web_cert autodiscover.lab.test "DNS:autodiscover.lab.test,DNS:autoconfig.lab.test,DNS:autodiscover.lab.example,DNS:autoconfig.lab.example,DNS:autodiscover.other.test"

profile() {	# roles https-port
	web_site autodiscover-lab "$1" "apache_dir = $T/apache" "nginx_dir = $T/nginx" \
	    "www_dir = $T/www" "php_fpm_socket = $T/php.sock" "probe_ports = https:$2"
	cat <<EOF

[autodiscover "lab.test"]
imap = imap.lab.test:993/ssl
pop3 = pop.lab.test:995/ssl
smtp = smtp.lab.test:587/starttls
activesync = https://mail.lab.test/Microsoft-Server-ActiveSync
login = email
also = lab.example

[autodiscover "other.test"]
imap = mail.other.test:143/starttls
smtp = mail.other.test:465/ssl
login = localpart

[tls]
certificate = $T/autodiscover.lab.test.pem
key = $T/autodiscover.lab.test.key
EOF
}
profile "apache autodiscover" "$APORT" >"$T/apache.ini"
profile "nginx autodiscover" "$NPORT" >"$T/nginx.ini"
"$MXDECK" render "$T/apache.ini" "$T/out-a" 2>"$T/render.err" || die "render: $(cat "$T/render.err")"
"$MXDECK" render "$T/nginx.ini" "$T/out-n" 2>"$T/render.err" || die "render: $(cat "$T/render.err")"
www="$T/out-a/lab$T/www"
[ -f "$www/autodiscover/autodiscover.php" ] || die "no responder rendered"
cmp -s "$www/autodiscover/autodiscover.php" "$T/out-n/lab$T/www/autodiscover/autodiscover.php" ||
    die "the responder differs between the Apache and nginx renders"
ok "render: responder, autoconfig files and both web server sites"

out=$(php -l "$www/autodiscover/autodiscover.php" 2>&1) || die "php -l: $out"
ok "php -l: $out"
# What apply installs: the rendered www tree in place.
mkdir -p "$T/www"
cp -r "$www/." "$T/www/"
if command -v xmllint >/dev/null; then
	for f in "$T/www/autoconfig/lab.test/mail/config-v1.1.xml" \
	    "$T/www/autoconfig/other.test/.well-known/autoconfig/mail/config-v1.1.xml"; do
		xmllint --noout "$f" || die "xmllint $f"
	done
	ok "xmllint: the autoconfig files are well-formed"
fi

lab_phpfpm || die "php-fpm start"

# Apache: a private server including the rendered sites-enabled.
mkdir -p "$T/srv"
{
	apache_conf "$T/srv" warn "$APORT" mpm_event authz_core mime dir alias socache_shmcb \
	    ssl proxy proxy_fcgi
	echo "Include \"$T/out-a/lab$T/apache/sites-enabled/*.conf\""
} >"$T/srv/apache2.conf"
out=$(apache2 -d "$T/srv" -f "$T/srv/apache2.conf" -t 2>&1) || die "apache2 -t: $out"
ok "apache2 -t: Syntax OK"
# Live run: the same site with its port-80 vhost moved to a free loopback port.
mkdir -p "$T/alive"
for l in "$T/out-a/lab$T/apache/sites-enabled"/*.conf; do
	sed "s/^<VirtualHost \*:80>/<VirtualHost *:$HAPORT>/" "$l" >"$T/alive/$(basename "$l")"
done
sed -e "s|^Include .*|Include \"$T/alive/*.conf\"|" -e "s|^Listen .*|&\nListen 127.0.0.1:$HAPORT|" \
    "$T/srv/apache2.conf" >"$T/srv/apache2-live.conf"
apache2 -d "$T/srv" -f "$T/srv/apache2-live.conf" -k start || die "apache2 -k start"

# nginx: a private server; port 80 moved to a free port in a copy of the site.
mkdir -p "$T/ntmp"
nconf() { nginx_conf "$T/nginx.pid" "$T/nginx-error.log" "$T/ntmp" /etc/nginx/mime.types "$1/*"; }
nen="$T/out-n/lab$T/nginx/sites-enabled"
nconf "$nen" >"$T/nginx.conf"
out=$(nginx -t -p "$T/" -c "$T/nginx.conf" 2>&1) || die "nginx -t: $out"
ok "nginx -t accepts the rendered site"
nginx_live "$nen" "$T/nlive" "$HPORT"
nconf "$T/nlive" >"$T/nginx-live.conf"
nginx -p "$T/" -c "$T/nginx-live.conf" || die "nginx start"

web_wait "$T/srv/apache.pid" "$APORT"
web_wait "$T/nginx.pid" "$NPORT"
[ -S "$T/php.sock" ] || die "php-fpm did not start"
ok "php-fpm, apache2 and nginx running"

OUTLOOK=http://schemas.microsoft.com/exchange/autodiscover/outlook/responseschema/2006a
MOBILE=http://schemas.microsoft.com/exchange/autodiscover/mobilesync/responseschema/2006
n=0
post() {	# port host path email schema -> the answer in the file $a
	n=$((n + 1))
	local f="$T/answer.$n"
	a=$f
	printf '<?xml version="1.0" encoding="utf-8"?>\n<Autodiscover xmlns="http://schemas.microsoft.com/exchange/autodiscover/outlook/requestschema/2006"><Request><EMailAddress>%s</EMailAddress><AcceptableResponseSchema>%s</AcceptableResponseSchema></Request></Autodiscover>\n' "$4" "$5" >"$T/request.$n"
	curl -s --max-time 20 --cacert "$T/ca.pem" --resolve "$2:$1:127.0.0.1" \
	    -H 'Content-Type: text/xml' --data-binary "@$T/request.$n" \
	    -o "$f" -w '%{http_code}' "https://$2:$1$3" >"$T/code.$n" || die "POST https://$2$3 failed"
	[ "$(cat "$T/code.$n")" = 200 ] || die "POST https://$2$3: HTTP $(cat "$T/code.$n"): $(head -c 300 "$f")"
	if command -v xmllint >/dev/null; then
		xmllint --noout "$f" 2>"$T/xmllint.err" || die "answer to $4 is not well-formed XML: $(cat "$T/xmllint.err")"
	fi
}
has() { grep -qF -- "$2" "$1" || die "$(basename "$1"): no '$2' in $(tr -d '\n' <"$1" | head -c 600)"; }
hasnt() { ! grep -qF -- "$2" "$1" || die "$(basename "$1"): unexpected '$2'"; }

for srv in "apache $APORT" "nginx $NPORT"; do
	set -- $srv
	name=$1 port=$2
	post "$port" autodiscover.lab.test /AutoDiscover/AutoDiscover.xml alice@lab.test "$OUTLOOK"
	has "$a" '<Response xmlns="http://schemas.microsoft.com/exchange/autodiscover/outlook/responseschema/2006a">'
	has "$a" '<LoginName>alice@lab.test</LoginName>'
	has "$a" '<Server>imap.lab.test</Server>'
	has "$a" '<Type>POP3</Type>'
	has "$a" '<SPA>off</SPA>'
	has "$a" '<Encryption>TLS</Encryption>'
	has "$a" '<UsePOPAuth>off</UsePOPAuth>'
	has "$a" '<SMTPLast>off</SMTPLast>'
	hasnt "$a" 'https://schemas'
	ok "$name: outlook 2006a answer for alice@lab.test, LoginName = the address"

	post "$port" autodiscover.other.test /autodiscover/autodiscover.xml Bob.Smith@Other.Test "$OUTLOOK"
	has "$a" '<LoginName>Bob.Smith</LoginName>'
	has "$a" '<Server>mail.other.test</Server>'
	hasnt "$a" '<Type>POP3</Type>'
	ok "$name: login = localpart section answers LoginName = the local part"

	post "$port" autodiscover.lab.example /Autodiscover/Autodiscover.xml "o'neil@lab.example" "$MOBILE"
	has "$a" '<Response xmlns="http://schemas.microsoft.com/exchange/autodiscover/mobilesync/responseschema/2006">'
	has "$a" '<EMailAddress>o&apos;neil@lab.example</EMailAddress>'
	has "$a" '<Type>MobileSync</Type>'
	has "$a" '<Url>https://mail.lab.test/Microsoft-Server-ActiveSync</Url>'
	ok "$name: mobilesync 2006 answer for an also domain, the address XML-escaped"

	post "$port" autodiscover.lab.test /autodiscover/autodiscover.xml '"><script>alert(1)</script>' "$OUTLOOK"
	has "$a" '<ErrorCode>600</ErrorCode>'
	has "$a" '<Message>Invalid Request</Message>'
	hasnt "$a" 'script'
	hasnt "$a" 'alert'
	post "$port" autodiscover.lab.test /autodiscover/autodiscover.xml '&quot;&gt;&lt;x&gt;@lab.test' "$OUTLOOK"
	has "$a" '<ErrorCode>600</ErrorCode>'
	hasnt "$a" '<x>'
	ok "$name: a hostile EMailAddress gets ErrorCode 600, nothing echoed"

	post "$port" autodiscover.lab.test /autodiscover/autodiscover.xml mallory@evil.test "$OUTLOOK"
	has "$a" '<ErrorCode>600</ErrorCode>'
	hasnt "$a" 'evil'
	post "$port" autodiscover.other.test /autodiscover/autodiscover.xml bob@other.test "$MOBILE"
	has "$a" '<ErrorCode>600</ErrorCode>'
	post "$port" autodiscover.lab.test /autodiscover/autodiscover.xml alice@lab.test http://example.org/schema
	has "$a" '<ErrorCode>600</ErrorCode>'
	ok "$name: foreign domain, no ActiveSync URL, unknown schema: ErrorCode 600"

	code=$(curl -s --cacert "$T/ca.pem" --resolve "autodiscover.lab.test:$port:127.0.0.1" \
	    -o "$T/get.xml" -w '%{http_code}' "https://autodiscover.lab.test:$port/autodiscover/autodiscover.xml")
	[ "$code" = 200 ] && grep -q '<ErrorCode>600</ErrorCode>' "$T/get.xml" || die "$name: GET: $code"
	ok "$name: GET gets ErrorCode 600"

	for p in /mail/config-v1.1.xml /.well-known/autoconfig/mail/config-v1.1.xml; do
		curl -s --cacert "$T/ca.pem" --resolve "autoconfig.lab.test:$port:127.0.0.1" \
		    -o "$T/ac.xml" "https://autoconfig.lab.test:$port$p" || die "$name: GET $p"
		has "$T/ac.xml" '<clientConfig version="1.1">'
		has "$T/ac.xml" '<hostname>imap.lab.test</hostname>'
		has "$T/ac.xml" '<username>%EMAILADDRESS%</username>'
	done
	curl -s --cacert "$T/ca.pem" --resolve "autoconfig.other.test:$port:127.0.0.1" -k \
	    -o "$T/ac.xml" "https://autoconfig.other.test:$port/mail/config-v1.1.xml"
	has "$T/ac.xml" '<username>%EMAILLOCALPART%</username>'
	has "$T/ac.xml" '<socketType>STARTTLS</socketType>'
	ok "$name: autoconfig served per section at both paths"
	code=$(curl -s --cacert "$T/ca.pem" --resolve "autodiscover.lab.test:$port:127.0.0.1" \
	    -o /dev/null -w '%{http_code}' "https://autodiscover.lab.test:$port/autodiscover/autodiscover.php")
	[ "$code" != 200 ] || die "$name: the responder is reachable under its own name"
done
for srv in "apache $HAPORT $APORT" "nginx $HPORT $NPORT"; do
	set -- $srv
	code=$(curl -s -o "$T/ac.xml" -w '%{http_code}' -H 'Host: autoconfig.lab.test' \
	    "http://127.0.0.1:$2/mail/config-v1.1.xml")
	[ "$code" = 200 ] && grep -q clientConfig "$T/ac.xml" || die "$1: autoconfig over http: $code"
	ok "$1: autoconfig over plain http (Thunderbird asks http first)"
	code=$(curl -s -o /dev/null -w '%{http_code} %{redirect_url}' -H 'Host: autodiscover.lab.example' \
	    "http://127.0.0.1:$2/AutoDiscover/AutoDiscover.xml")
	[ "$code" = "302 https://autodiscover.lab.test:$3/Autodiscover/Autodiscover.xml" ] ||
	    die "$1: http redirect method: $code"
	ok "$1: http GET for an also domain redirects to the section's HTTPS responder"
done
exit 0
