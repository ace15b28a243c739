#!/usr/bin/env bash
# security-render.sh: hostile profile values never reach a config file, a PHP literal,
# a PowerShell literal, XML or a web-server directive as syntax.
#
# Claims (share/SECURITY.md):
#  1. A value or section name with a control character (a quoted "\n", "\r", ...) is a
#     profile error (exit 2, FILE:LINE, nothing rendered): it cannot start a new line,
#     i.e. a new directive, in any generated file.
#  2. Values in the PHP responder are single-quoted literals that read back byte for
#     byte; running the responder runs none of a value's code.
#  3. User addresses in the PowerShell script are single-quoted literals with every
#     quote PowerShell knows (' and U+2018..U+201B) doubled: each Set-MxdeckCas line is
#     one literal and six booleans.
#  4. A path with ", ;, $, braces or a backslash never reaches an nginx/Apache
#     directive (render refuses).
#  5. Every rendered XML file is well-formed.
set -eu
MXDECK=${MXDECK:?set MXDECK to the mxdeck binary}
for c in php xmllint python3; do
	command -v "$c" >/dev/null || { echo "skip: $c not installed"; exit 77; }
done
tmp=$(mktemp -d /tmp/mxdeck-sec-render.XXXXXX)
trap '[ -n "${KEEP:-}" ] || rm -rf "$tmp"' EXIT
fails=0
ok() { echo "ok - $*"; }
bad() { echo "not ok - $*"; fails=$((fails + 1)); }

cert=/etc/ssl/certs/ssl-cert-snakeoil.pem
key=/etc/ssl/private/ssl-cert-snakeoil.key
base() {	# the sections every case starts from
	cat <<EOF
[site]
name = sec
domain = example.org

[host "web1"]
address = web1.example.org
roles = nginx autodiscover postfix dovecot exchange

[autodiscover "example.org"]
imap = imap.example.org:993/ssl
smtp = smtp.example.org:465/ssl
activesync = https://mail.example.org/Microsoft-Server-ActiveSync

[tls]
certificate = $cert
key = $key
tlsa_ports =
EOF
}
base >"$tmp/ok.ini"
"$MXDECK" render "$tmp/ok.ini" "$tmp/ok" 2>"$tmp/ok.err" || { bad "the base profile does not render: $(cat "$tmp/ok.err")"; exit 1; }
ok "base profile renders"

# 1. control characters, through quoted-value escapes, in values and section names
rejects() {	# NAME: the profile is $tmp/NAME.ini
	local n=$1 rc
	set +e
	"$MXDECK" render "$tmp/$n.ini" "$tmp/out-$n" >/dev/null 2>"$tmp/$n.err"
	rc=$?
	set -e
	if [ "$rc" -eq 2 ] && grep -q "^$tmp/$n.ini:[0-9]*: error: " "$tmp/$n.err" &&
	    [ ! -e "$tmp/out-$n" ]; then
		ok "$n: rejected with FILE:LINE, nothing written"
	else
		bad "$n: exit $rc, expected 2 with a FILE:LINE error; $(head -c 300 "$tmp/$n.err")"
	fi
}
base | sed 's/^name = sec$/name = "sec\\nmyhostname = evil.example"/' >"$tmp/nl-site-name.ini"
rejects nl-site-name
base | sed 's/^name = sec$/name = "sec\\rmyhostname = evil"/' >"$tmp/cr-escape.ini"
rejects cr-escape
base | sed "s/^name = sec\$/name = sec$(printf '\r')myhostname = evil/" >"$tmp/raw-cr-site-name.ini"
rejects raw-cr-site-name
base | sed "s/^name = sec\$/name = sec$(printf '\033')]0;x$(printf '\007')/" >"$tmp/esc-site-name.ini"
rejects esc-site-name
base | sed 's/^\[host "web1"\]$/[host "web1\\nroles = x"]/' >"$tmp/nl-host-name.ini"
rejects nl-host-name
{ base; printf '[header-rules "h"]\nscope = outbound\nrule = "/^X-A:/ IGNORE\\n/^Subject:/ REDIRECT evil@example.net"\n'; } >"$tmp/nl-rule.ini"
rejects nl-rule
base | sed 's|^activesync = .*|activesync = "https://mail.example.org/Microsoft-Server-ActiveSync\\n'"');system('id');//"'"|' >"$tmp/nl-url.ini"
rejects nl-url
{ base; printf '[user "alice@example.org\\n[users]"]\npop3 = on\n'; } >"$tmp/nl-user.ini"
rejects nl-user

# 2. PHP literals: a URL full of PHP syntax renders to literals that read back as is
payload="https://mail.example.org/Microsoft-Server-ActiveSync?a='.touch('$tmp/PWNED').'&b=\\\\';touch('$tmp/PWNED2');//\\"
base | sed "s|^activesync = .*|activesync = $(printf '%s' "$payload" | sed 's/[&|\\]/\\&/g')|" >"$tmp/php.ini"
if "$MXDECK" render "$tmp/php.ini" "$tmp/php" >/dev/null 2>"$tmp/php.err"; then
	phpf=$(find "$tmp/php" -name autodiscover.php | head -n 1)
	php -l "$phpf" >/dev/null 2>&1 && ok "php: responder with PHP syntax in a value passes php -l" ||
	    bad "php: php -l fails: $(php -l "$phpf" 2>&1 | head -n 2)"
	php "$phpf" >/dev/null 2>&1 || true
	[ ! -e "$tmp/PWNED" ] && [ ! -e "$tmp/PWNED2" ] && ok "php: running the responder runs no value's code" ||
	    bad "php: a value's code ran (PWNED file created)"
	# Every single-quoted literal, evaluated alone; one of them is the URL as written.
	want=$(sed -n 's/^activesync = //p' "$tmp/php.ini")
	WANT=$want php -r '
		$want = getenv("WANT"); $found = false;
		foreach (token_get_all(file_get_contents($argv[1])) as $t)
			if (is_array($t) && $t[0] === T_CONSTANT_ENCAPSED_STRING && $t[1][0] === "\x27" &&
			    eval("return " . $t[1] . ";") === $want)
				$found = true;
		exit($found ? 0 : 1);' "$phpf" && ok "php: the URL reads back byte for byte from its literal" ||
	    bad "php: no PHP literal equals the profile URL"
else
	# Refusing the value is as good as escaping it.
	grep -q "$tmp/php.ini:[0-9]*: " "$tmp/php.err" && ok "php: hostile URL refused with FILE:LINE" ||
	    bad "php: render failed without a FILE:LINE error: $(head -c 300 "$tmp/php.err")"
fi

# 3. PowerShell literals
printf 'email,imap,pop3,smtp,activesync,mapi,owa,ews\n' >"$tmp/users.csv"
for local in "o'brien" "x\xe2\x80\x99|%%{Stop-Computer}#\xe2\x80\x99" "a\xe2\x80\x98b\xe2\x80\x9ac\xe2\x80\x9bd" \
    'x`whoami`$HOME' "q''''q" "z'+\$iex+'"; do
	printf "$local@example.org,1,0,1,1,1,1,1\n" >>"$tmp/users.csv"
done
{ base; printf '[users]\nfile = users.csv\n'; } >"$tmp/ps.ini"
set +e
"$MXDECK" render "$tmp/ps.ini" "$tmp/ps" >/dev/null 2>"$tmp/ps.err"
rc=$?
set -e
if [ "$rc" -ne 0 ]; then
	bad "ps: render failed (exit $rc): $(head -c 300 "$tmp/ps.err")"
else
	ps1=$(find "$tmp/ps" -name '*.ps1' | head -n 1)
	if python3 - "$ps1" "$tmp/users.csv" <<'PY'
import sys
Q = "'\u2018\u2019\u201a\u201b"
src = open(sys.argv[1], encoding="utf-8").read().splitlines()
want = [l.split(",")[0] for l in open(sys.argv[2], encoding="utf-8").read().splitlines()[1:]]
got = []
for line in src:
    if not line.startswith("Set-MxdeckCas "):
        continue
    s = line[len("Set-MxdeckCas "):]
    if not s or s[0] not in Q:
        sys.exit("not a single-quoted literal: " + line)
    i, lit = 1, ""
    while True:
        if i >= len(s):
            sys.exit("unterminated literal: " + line)
        if s[i] in Q:
            if i + 1 < len(s) and s[i + 1] in Q:
                lit += s[i]; i += 2; continue
            i += 1; break
        lit += s[i]; i += 1
    rest = s[i:].split()
    if len(rest) != 6 or any(r not in ("$true", "$false") for r in rest):
        sys.exit("after the literal: %r in %s" % (rest, line))
    got.append(lit)
missing = [w for w in want if w not in got]
if missing:
    sys.exit("addresses not found as literals: %r" % missing)
PY
	then
		ok "ps: every Set-MxdeckCas line is one literal + six booleans; all addresses read back"
	else
		bad "ps: PowerShell quoting broken (see above)"
	fi
fi

# 4. web-server directives: a certificate path with directive syntax
for p in '/etc/ssl/a";include /etc/passwd;#.pem' '/etc/ssl/a b;return 200 x.pem' '/etc/ssl/${x}.pem' '/etc/ssl/a\".pem'; do
	for srv in nginx apache; do
		n=cert-$srv-$(printf '%s' "$p" | md5sum | cut -c1-6)
		{ base | sed "s/roles = nginx /roles = $srv /"
		  printf '[vhost "mail.example.org"]\nserver = %s\nbackend = https://192.0.2.10\nservices = owa\ncertificate = %s\nkey = %s\n' "$srv" "$p" "$key"; } >"$tmp/$n.ini"
		set +e
		"$MXDECK" render "$tmp/$n.ini" "$tmp/out-$n" >/dev/null 2>"$tmp/$n.err"
		rc=$?
		set -e
		if [ "$rc" -eq 2 ] && grep -q "error\|must be" "$tmp/$n.err"; then
			ok "$srv certificate '$p': refused"
		elif [ "$rc" -eq 0 ] && grep -rqF "mail.example.org" "$tmp/out-$n" &&
		    ! grep -rqF "include /etc/passwd" "$tmp/out-$n" &&
		    ! grep -rqF "return 200" "$tmp/out-$n"; then
			ok "$srv certificate '$p': rendered without the directive"
		else
			bad "$srv certificate '$p': exit $rc; $(head -c 200 "$tmp/$n.err")"
		fi
	done
done

# 5. every XML file rendered in this test is well-formed
nx=0
while IFS= read -r -d '' f; do
	nx=$((nx + 1))
	xmllint --noout "$f" 2>/dev/null || bad "xml: $f is not well-formed"
done < <(find "$tmp" -name '*.xml' -print0)
[ "$nx" -gt 0 ] && ok "xml: $nx rendered XML files well-formed" || bad "xml: no XML file rendered"

echo "$fails failed"
[ "$fails" -eq 0 ]
