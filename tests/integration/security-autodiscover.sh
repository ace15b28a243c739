#!/usr/bin/env bash
# security-autodiscover.sh: the rendered Autodiscover responder (PHP) against hostile
# POST bodies, served by php-cli's built-in web server on loopback.
#
# Claims (share/SECURITY.md): every request the responder cannot use is answered with
# ErrorCode 600 and well-formed XML; no request reads a file (XXE), runs code, or gets
# markup of its own into the answer; an address that is valid but holds XML specials
# comes back escaped; the body is read up to 64 KiB only.
set -eu
MXDECK=${MXDECK:?set MXDECK to the mxdeck binary}
here=$(cd "$(dirname "$0")/../.." && pwd)
for c in php curl xmllint python3; do
	command -v "$c" >/dev/null || { echo "skip: $c not installed"; exit 77; }
done
tmp=$(mktemp -d /tmp/mxdeck-sec-ad.XXXXXX)
srv=""
cleanup() {
	if [ -n "$srv" ]; then
		kill "$srv" 2>/dev/null || true
		wait "$srv" 2>/dev/null || true
	fi
	rm -rf "$tmp"
}
trap cleanup EXIT
fails=0
ok() { echo "ok - $*"; }
bad() { echo "not ok - $*"; fails=$((fails + 1)); }

cat >"$tmp/p.ini" <<'EOF'
[site]
name = sec
domain = example.org

[host "web1"]
address = web1.example.org
roles = nginx autodiscover

[autodiscover "example.org"]
imap = imap.example.org:993/ssl
smtp = smtp.example.org:587/starttls
activesync = https://mail.example.org/Microsoft-Server-ActiveSync
login = email

[tls]
certificate = /etc/ssl/certs/ssl-cert-snakeoil.pem
key = /etc/ssl/private/ssl-cert-snakeoil.key
EOF
"$MXDECK" render "$tmp/p.ini" "$tmp/out" 2>"$tmp/render.err" || { cat "$tmp/render.err"; exit 1; }
php=$(find "$tmp/out" -name autodiscover.php | head -n 1)
[ -n "$php" ] || { echo "not ok - no autodiscover.php rendered"; exit 1; }
php -l "$php" >/dev/null || { echo "not ok - php -l $php"; exit 1; }
ok "responder rendered and php -l clean"

docroot=$(dirname "$php")
echo "SECRET-FILE-CONTENT-$$" >"$tmp/secret.txt"
port=0
for _ in $(seq 20); do
	p=$(( (RANDOM % 20000) + 30000 ))
	ss -Hltn "sport = :$p" | grep -q . && continue
	php -S "127.0.0.1:$p" -t "$docroot" >"$tmp/php-server.log" 2>&1 &
	srv=$!
	for _ in $(seq 50); do
		ss -Hltn "sport = :$p" | grep -q . && break
		sleep 0.1
	done
	if ss -Hltn "sport = :$p" | grep -q .; then port=$p; break; fi
	kill "$srv" 2>/dev/null; wait "$srv" 2>/dev/null; srv=""
done
[ "$port" -ne 0 ] || { echo "not ok - php -S did not start"; exit 1; }
url="http://127.0.0.1:$port/autodiscover.php"

NS_REQ='http://schemas.microsoft.com/exchange/autodiscover/outlook/requestschema/2006'
NS_OL='http://schemas.microsoft.com/exchange/autodiscover/outlook/responseschema/2006a'
NS_MS='http://schemas.microsoft.com/exchange/autodiscover/mobilesync/responseschema/2006'
req() {	# EMAIL-XML-TEXT SCHEMA
	printf '<?xml version="1.0" encoding="utf-8"?><Autodiscover xmlns="%s"><Request><EMailAddress>%s</EMailAddress><AcceptableResponseSchema>%s</AcceptableResponseSchema></Request></Autodiscover>' "$NS_REQ" "$1" "$2"
}

# post NAME FILE [curl args]: POST the file; the answer must be well-formed XML with
# no trace of the secret file and no markup the request injected.
post() {
	local name=$1 body=$2
	shift 2
	curl -s -o "$tmp/ans-$name.xml" -w '%{http_code}' -X POST --data-binary "@$body" \
	    -H 'Content-Type: text/xml' "$@" "$url" >"$tmp/code-$name" || true
	if ! xmllint --noout "$tmp/ans-$name.xml" 2>"$tmp/xmllint-$name.err"; then
		bad "$name: answer is not well-formed XML ($(head -c 200 "$tmp/xmllint-$name.err"))"
		return 1
	fi
	if grep -q "SECRET-FILE-CONTENT\|root:x:0:0\|<injected" "$tmp/ans-$name.xml"; then
		bad "$name: the answer carries file content or injected markup"
		return 1
	fi
	return 0
}
expect600() {	# NAME FILE [curl args]
	local name=$1
	post "$@" || return 0
	if [ "$(xmllint --xpath 'string(//*[local-name()="ErrorCode"])' "$tmp/ans-$name.xml")" = 600 ] &&
	    ! grep -q '<Protocol>\|<Server>' "$tmp/ans-$name.xml"; then
		ok "$name: ErrorCode 600, well-formed"
	else
		bad "$name: expected ErrorCode 600, got: $(head -c 300 "$tmp/ans-$name.xml")"
	fi
}

# Hostile and broken requests: each must get ErrorCode 600.
: >"$tmp/empty"; expect600 empty-body "$tmp/empty"
head -c 5000 /dev/urandom >"$tmp/random"; expect600 random-bytes "$tmp/random"
echo 'not xml at all' >"$tmp/text"; expect600 plain-text "$tmp/text"
req 'alice@example.org' 'http://example.invalid/schema' >"$tmp/b1"; expect600 unknown-schema "$tmp/b1"
req 'alice@evil.example' "$NS_OL" >"$tmp/b2"; expect600 foreign-domain "$tmp/b2"
req '<injected/>alice@example.org' "$NS_OL" >"$tmp/b3"; expect600 markup-in-address "$tmp/b3"
req '&lt;injected/&gt;@example.org' "$NS_OL" >"$tmp/b4"; expect600 escaped-markup-in-address "$tmp/b4"
req "alice'; system('id'); '@example.org" "$NS_OL" >"$tmp/b6"; expect600 php-in-address "$tmp/b6"
req 'alice"@example.org' "$NS_OL" >"$tmp/b7"; expect600 quote-in-address "$tmp/b7"
req 'al ice@example.org' "$NS_OL" >"$tmp/b8"; expect600 space-in-address "$tmp/b8"
req 'alice@example.org.' "$NS_OL" >"$tmp/b9"; expect600 trailing-dot "$tmp/b9"
req "$(printf 'alice\001@example.org')" "$NS_OL" >"$tmp/b10"; expect600 control-byte "$tmp/b10"
req "$(printf 'al\xffice@example.org')" "$NS_OL" >"$tmp/b11"; expect600 invalid-utf8 "$tmp/b11"
req "$(printf 'a%.0s' $(seq 65))@example.org" "$NS_OL" >"$tmp/b12"; expect600 local-part-65 "$tmp/b12"
req "$(printf 'a%.0s' $(seq 300))@example.org" "$NS_OL" >"$tmp/b13"; expect600 address-300 "$tmp/b13"
cat >"$tmp/xxe" <<EOF
<?xml version="1.0"?>
<!DOCTYPE a [<!ENTITY e SYSTEM "file://$tmp/secret.txt"><!ENTITY p SYSTEM "file:///etc/passwd">]>
<Autodiscover xmlns="$NS_REQ"><Request><EMailAddress>&e;&p;</EMailAddress><AcceptableResponseSchema>$NS_OL</AcceptableResponseSchema></Request></Autodiscover>
EOF
expect600 xxe-file-entity "$tmp/xxe"
cat >"$tmp/lol" <<EOF
<?xml version="1.0"?>
<!DOCTYPE l [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;"><!ENTITY c "&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;"><!ENTITY d "&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;">]>
<Autodiscover xmlns="$NS_REQ"><Request><EMailAddress>&d;@example.org</EMailAddress><AcceptableResponseSchema>$NS_OL</AcceptableResponseSchema></Request></Autodiscover>
EOF
expect600 entity-expansion "$tmp/lol"
{ req 'alice@example.org' "$NS_OL" | head -c 100; head -c 200000 /dev/zero | tr '\0' 'x'; } >"$tmp/huge"
expect600 huge-body "$tmp/huge"
printf '<a><b><c>' >"$tmp/deep"; for _ in $(seq 5000); do printf '<x>' >>"$tmp/deep"; done
expect600 deep-nesting "$tmp/deep"
# Not a POST at all
code=$(curl -s -o "$tmp/ans-get.xml" -w '%{http_code}' "$url?EMailAddress=alice@example.org" || true)
if xmllint --noout "$tmp/ans-get.xml" 2>/dev/null &&
    [ "$(xmllint --xpath 'string(//*[local-name()="ErrorCode"])' "$tmp/ans-get.xml")" = 600 ]; then
	ok "get-request: ErrorCode 600, well-formed"
else
	bad "get-request: expected ErrorCode 600 (HTTP $code)"
fi

# Valid requests whose address holds XML and shell specials: answered, and escaped.
check_login() {	# NAME ADDRESS-AS-XML-TEXT EXPECTED-DECODED
	local name=$1
	req "$2" "$NS_OL" >"$tmp/v-$name"
	post "$name" "$tmp/v-$name" || return 0
	got=$(xmllint --xpath 'string((//*[local-name()="LoginName"])[1])' "$tmp/ans-$name.xml" 2>/dev/null || true)
	if [ "$got" = "$3" ]; then
		ok "$name: answered, LoginName reads back as \"$3\""
	else
		bad "$name: LoginName \"$got\", expected \"$3\": $(head -c 300 "$tmp/ans-$name.xml")"
	fi
}
check_login plain 'alice@example.org' 'alice@example.org'
check_login ampersand-apostrophe "o'brien&amp;co@example.org" "o'brien&co@example.org"
check_login shell-specials 'x`id`$HOME{}|~@example.org' 'x`id`$HOME{}|~@example.org'
# Extra elements after the address are ignored: the first address is answered and the
# request's markup does not reach the answer (post() checks for it).
check_login extra-elements 'alice@example.org</EMailAddress><injected/><EMailAddress>x' 'alice@example.org'
check_login upper-domain 'Bob@EXAMPLE.ORG' 'Bob@EXAMPLE.ORG'
# The literal text of the answer has the specials escaped, not raw.
if grep -q "<LoginName>o&apos;brien&amp;co@example.org</LoginName>\|<LoginName>o'brien&amp;co@example.org</LoginName>" "$tmp/ans-ampersand-apostrophe.xml"; then
	ok "ampersand is escaped in the answer text"
else
	bad "ampersand not escaped: $(grep LoginName "$tmp/ans-ampersand-apostrophe.xml" | head -n 1)"
fi
# mobilesync schema echoes the address in two places
req "o'brien&amp;co@example.org" "$NS_MS" >"$tmp/ms"
if post mobilesync "$tmp/ms"; then
	got=$(xmllint --xpath 'string(//*[local-name()="EMailAddress"])' "$tmp/ans-mobilesync.xml")
	[ "$got" = "o'brien&co@example.org" ] && ok "mobilesync: EMailAddress escaped and read back" ||
	    bad "mobilesync: EMailAddress \"$got\""
fi

[ -s "$tmp/php-server.log" ] && grep -qi "fatal\|warning\|notice\|deprecated" "$tmp/php-server.log" &&
    bad "PHP printed warnings: $(grep -i 'fatal\|warning\|notice\|deprecated' "$tmp/php-server.log" | head -n 3)"
echo "$fails failed"
[ "$fails" -eq 0 ]
