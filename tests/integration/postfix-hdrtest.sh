#!/bin/bash
# postfix-hdrtest.sh: mxdeck's header-rule tester (profiles/hdrtest.c) must predict
# exactly what Postfix does with the rendered header_checks file. The oracle is the real
# `postmap -hmq - pcre:FILE < message` (whole logical headers, folded lines included;
# plain `postmap -q -` would test physical lines only). Also checks the outcome that
# the header-privacy scenario shows: the "Received: from" line rewritten with its continuation lines kept,
# X-Originating-IP / User-Agent / X-Mailer gone, everything else untouched.
set -eu

ROOT=$(cd "$(dirname "$0")/../.." && pwd)
BUILD=${BUILD:-build}
case $BUILD in /*) ;; *) BUILD=$ROOT/$BUILD ;; esac
MXDECK=${MXDECK:-$BUILD/mxdeck}
T=$(mktemp -d /tmp/mxdeck-pfhdr.XXXXXX)
trap 'rm -rf "$T"' EXIT
fails=0
ok() { echo "ok   $*"; }
bad() { echo "FAIL $*"; fails=$((fails + 1)); }

command -v postmap >/dev/null || { echo "postmap not installed"; exit 77; }
postconf -m | grep -qx pcre || { echo "postfix-pcre not installed"; exit 77; }
[ -x "$MXDECK" ] || { echo "FAIL $MXDECK not built"; exit 1; }
[ -f "$BUILD/libmxdeck.a" ] || { echo "FAIL $BUILD/libmxdeck.a not built"; exit 1; }

# The tester, as a small driver linked against the library (with the sanitizers the
# library was built with, for make check-asan).
san=
if nm "$BUILD/libmxdeck.a" 2>/dev/null | grep -q __asan_init; then
	san="-fsanitize=address,undefined"
fi
cc -std=c17 -D_POSIX_C_SOURCE=200809L -D_DEFAULT_SOURCE $san -I"$ROOT" -o "$T/drv" \
    "$ROOT/tests/lab/hdrtest-driver.c" "$BUILD/libmxdeck.a" \
    $(pkg-config --libs libpcre2-8 ncursesw libssh2 openssl libcurl ldns) -lpthread -lm
ok "built the hdrtest driver"

# Render the demo profile's header rules into a private postfix_dir.
D=$T/etc/postfix
mkdir -p "$D"
sed -e "s|^postfix_dir = .*|postfix_dir = $D|" "$ROOT/share/examples/demo.ini" > "$T/demo.ini"
cp "$ROOT/share/examples/demo-users.csv" "$T/"
"$ROOT/share/lab/demo-lab.sh" pki "$T"	# the demo CA's certificates the profile names
"$MXDECK" render "$T/demo.ini" "$T/out" 2>"$T/render.err" || { cat "$T/render.err"; echo "FAIL render"; exit 1; }
PCRE=$T/out/demo$D/mxdeck_msa_header_checks.pcre
[ -s "$PCRE" ] && ok "rendered $(basename "$PCRE")" || { echo "FAIL no header_checks file"; exit 1; }

# the scenario's own rules, quirks included ("User-Agent*" = "User-Agen" + "t"*).
cat > "$T/seed.pcre" <<'RULES'
/^(Received: from)[^\n]*(.*)/ REPLACE $1 ::88 (YOUR MOM [::88])$2
/^X-Originating-IP/ IGNORE
/^User-Agent*(.*)/ REPLACE User-Agent: YOUR MOMS MAILER
/^X-Mailer*(.*)/ REPLACE X-Mailer: YOUR MOMS MAILER
RULES
# Flag toggles and substitution forms.
cat > "$T/flags.pcre" <<'RULES'
/^subject: (.*)/i REPLACE Subject: case-sensitive rule matched $1
/^subject: (\S+)/ PREPEND X-Subject-First: ${1}
!/^(Subject|From|To|Date|Message-ID|Received|MIME-Version|Content-Type):/ WARN unexpected header $$
/^Received: from (\S+).*?by (\S+)/ REPLACE Received: from $(1) via $2
RULES

cat > "$T/msg1" <<'MSG'
Received: from client.example.net (client.example.net [198.51.100.7])
	(using TLSv1.2 with cipher ECDHE-RSA-AES128-GCM-SHA256 (128/128 bits))
	(No client certificate requested)
	by smtp.kernel-error.de (Postfix) with ESMTPSA id 7458E7B802
	for <wurst@example.com>; Wed, 27 Mar 2019 21:44:10 +0100 (CET)
Received: from [192.168.1.20] (unknown [192.168.1.20]) by client.example.net
 with ESMTP id 1; Wed, 27 Mar 2019 21:44:09 +0100
From: Wurst <wurst@example.org>
To: <wurst@example.com>
Subject: Test with a
  folded subject
Date: Wed, 27 Mar 2019 21:44:08 +0100
Message-ID: <1@example.org>
X-Originating-IP: [198.51.100.7]
User-Agent: Mozilla/5.0 (X11; Linux x86_64; rv:60.0) Gecko/20100101
 Thunderbird/60.6.1
x-mailer: PHPMailer 5.2.1 (https://github.com/PHPMailer/PHPMailer)
X-Mailer-Info: kept
MIME-Version: 1.0
Content-Type: text/plain; charset=utf-8

Body text.
Received: from body.example (not a header) by nobody
X-Originating-IP: [203.0.113.1]
MSG
printf 'Subject: lower\r\nsubject: UPPER\r\nX-Thing: 1\r\n\r\nbody\r\n' > "$T/msg2"

n=0
for rules in "$PCRE" "$T/seed.pcre" "$T/flags.pcre"; do
	for msg in "$T/msg1" "$T/msg2"; do
		n=$((n + 1))
		# smtpd turns CRLF into LF before cleanup sees a header; postmap reading
		# a file does not, so it gets LF lines; the tester gets the raw CRLF text.
		tr -d '\r' < "$msg" | postmap -hmq - "pcre:$rules" > "$T/pm.$n" 2>"$T/pm.$n.err" || true
		if grep -q warning "$T/pm.$n.err"; then
			bad "postmap warned on $(basename "$rules"): $(cat "$T/pm.$n.err")"
		fi
		"$T/drv" postmap "$rules" < "$msg" > "$T/drv.$n" 2>"$T/drv.$n.err"
		if [ -s "$T/drv.$n.err" ]; then
			bad "tester warned on $(basename "$rules"): $(cat "$T/drv.$n.err")"
		fi
		if cmp -s "$T/pm.$n" "$T/drv.$n"; then
			ok "tester == postmap -hmq for $(basename "$rules") on $(basename "$msg") ($(grep -c . "$T/pm.$n") lines)"
		else
			bad "tester != postmap for $(basename "$rules") on $(basename "$msg")"
			diff "$T/pm.$n" "$T/drv.$n" | sed 's/^/     /' || true
		fi
	done
done
# The comparison must not be vacuous: postmap matched the folded Received header.
grep -q $'^\t(No client certificate requested)$' "$T/pm.1" \
    && ok "postmap saw the Received continuation lines" || bad "postmap output lacks continuation lines"

# What the demo rules do to the message (the expected result).
"$T/drv" output "$PCRE" < "$T/msg1" > "$T/out1"
expect_line() {	# description, exact line
	if grep -qxF -- "$2" "$T/out1"; then ok "$1"; else bad "$1: no line '$2'"; fi
}
reject_re() {	# description, regex
	if grep -qE -- "$2" "$T/out1"; then bad "$1: found $2"; else ok "$1"; fi
}
expect_line "Received: from line rewritten" "Received: from [127.0.0.1] (localhost [127.0.0.1])"
expect_line "continuation lines kept (using ...)" $'\t(using TLSv1.2 with cipher ECDHE-RSA-AES128-GCM-SHA256 (128/128 bits))'
expect_line "continuation lines kept (by ...)" $'\tby smtp.kernel-error.de (Postfix) with ESMTPSA id 7458E7B802'
reject_re "client address gone" '198\.51\.100\.7|192\.168\.1\.20'
reject_re "X-Originating-IP removed" '^X-Originating-IP'
reject_re "User-Agent removed (and its continuation)" '^User-Agent|Thunderbird'
reject_re "x-mailer removed (case-insensitive by default)" '^[Xx]-[Mm]ailer:'
expect_line "X-Mailer-Info kept" "X-Mailer-Info: kept"
expect_line "folded Subject kept" "  folded subject"
[ "$(grep -c '^Received: from \[127.0.0.1\]' "$T/out1")" = 2 ] \
    && ok "both Received headers rewritten" || bad "expected 2 rewritten Received headers"
# The predicted result has exactly what postmap's replacement says for Received.
want=$(awk -F'\t' '/REPLACE Received: from \[127.0.0.1\]/ { sub(/^REPLACE /, "", $NF); print $NF; exit }' "$T/pm.1")
[ "$want" = "Received: from [127.0.0.1] (localhost [127.0.0.1])" ] \
    && ok "postmap's REPLACE text is the rewritten first line" || bad "postmap REPLACE text: '$want'"

echo "$fails failure(s)"
[ "$fails" -eq 0 ]
