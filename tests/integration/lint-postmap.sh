#!/bin/bash
# lint-postmap.sh: mxdeck lint and the real Postfix agree on header rules.
#
# For every rule below, the rule is written to a pcre table and opened with this
# machine's postmap (which prints a warning and skips a rule it cannot use), and put
# into a profile checked with `mxdeck lint`:
#   good  postmap silent, lint no error
#   bad   postmap warns (the rule would be skipped at runtime), lint reports an error
#   gap   postmap silent, but the rule is broken at runtime (cleanup rejects the
#         action or the text): lint must report the error postmap misses
#   warn  postmap warns but keeps the rule, lint warns
set -eu

: "${MXDECK:?set MXDECK to the mxdeck binary}"
command -v postmap >/dev/null || { echo "skip: postmap not installed"; exit 77; }
postconf -m 2>/dev/null | grep -qx pcre || { echo "skip: no pcre map support (postfix-pcre)"; exit 77; }

tmp=$(mktemp -d /tmp/mxdeck-lint-postmap.XXXXXX)
trap 'rm -rf "$tmp"' EXIT

fails=0
n=0
check() {	# check CLASS RULE
	local class=$1 rule=$2 pm lint_out lint_rc=0 pm_warn=no lint_err=no lint_warn=no ok=no
	n=$((n + 1))
	printf '%s\n' "$rule" >"$tmp/t.pcre"
	pm=$(postmap -q "X-Test: probe" "pcre:$tmp/t.pcre" 2>&1 >/dev/null || true)
	grep -q 'warning:' <<<"$pm" && pm_warn=yes
	printf '[site]\ndomain = example.org\n[host "gw"]\naddress = local\nroles = postfix\n[header-rules "t"]\nscope = authenticated\nrule = %s\n' \
	    "$rule" >"$tmp/p.ini"
	lint_out=$("$MXDECK" lint "$tmp/p.ini" 2>&1 >/dev/null) || lint_rc=$?
	grep -q "p.ini:8: error:" <<<"$lint_out" && lint_err=yes
	grep -q "p.ini:8: warning:" <<<"$lint_out" && lint_warn=yes
	case $class in
	good) [ $pm_warn = no ] && [ $lint_err = no ] && [ $lint_warn = no ] && [ $lint_rc -eq 0 ] && ok=yes ;;
	bad)  [ $pm_warn = yes ] && [ $lint_err = yes ] && [ $lint_rc -eq 2 ] && ok=yes ;;
	gap)  [ $pm_warn = no ] && [ $lint_err = yes ] && [ $lint_rc -eq 2 ] && ok=yes ;;
	warn) [ $pm_warn = yes ] && [ $lint_err = no ] && [ $lint_warn = yes ] && [ $lint_rc -eq 0 ] && ok=yes ;;
	esac
	if [ $ok = yes ]; then
		echo "ok   $class: $rule"
	else
		echo "FAIL $class: $rule (postmap warned: $pm_warn, lint error: $lint_err, warning: $lint_warn, exit $lint_rc)"
		[ -n "$pm" ] && echo "     postmap: $(head -1 <<<"$pm")"
		[ -n "$lint_out" ] && echo "     lint: $(head -1 <<<"$lint_out")"
		fails=$((fails + 1))
	fi
}

# The seeds' and the design's rules, and the substitution forms Postfix accepts.
check good '/^(Received: from)[^\n]*(.*)/ REPLACE $1 [127.0.0.1] (localhost [127.0.0.1])$2'
check good '/^X-Originating-IP:/ IGNORE'
check good '/^User-Agent*(.*)/ REPLACE User-Agent: YOUR MOMS MAILER'
check good '/^X-Mailer:(.*)/ REPLACE X-Mailer: ${1}x $(1) $$ $1'
check good '/^X-A:/i WARN case-sensitive match'
check good '!/^X-B:/ INFO no X-B'
check good '/^X-C:  (a b)/x DUNNO'
check good '/^X-D:(.*)/ PREPEND X-Seen: $1'
check good '|^X-E:/path| STRIP'
check good '/^X-F:/ REDIRECT archive@example.org'
check good '/^X-G:/ FILTER smtp:[127.0.0.1]:10025'

# Postfix skips these rules (and says so only as a warning when the table is opened).
check bad '/^X-A:(.*)/ REPLACE X-B: $2'
check bad '/^X-A:(.*)/ REPLACE X-B: $0'
check bad '/^X-A:(.*)/ REPLACE X-B: $1x'
check bad '/^X-A:(.*)/ REPLACE X-B: $foo'
check bad '/^X-A:(.*)/ REPLACE X-B: cost $'
check bad '/^X-A:(.*)/ REPLACE X-B: ${1'
check bad '/^X-A:(.*)/ REPLACE X-B: ${1?yes}'
check bad '!/^X-A:(.*)/ REPLACE X-B: $1'
check bad '/^X-A: (/ IGNORE'
check bad '/^X-A: [a-/ IGNORE'
check bad '/^X-A:/q IGNORE'
check bad '/^X-A: IGNORE'

# postmap accepts these; cleanup(8) does not do what they say.
check gap '/^X-A:/ FOOBAR'
check gap '/^X-A:/ REPLACE no header label'
check gap '/^X-A:/ PREPEND no header label'
check gap '/^X-A:/ REDIRECT nobody'
check gap '/^X-A:/ FILTER smtp'

# Postfix keeps the rule but warns.
check warn '/^X-A:/X IGNORE'

echo "lint-postmap: $n rules, $fails failures"
[ "$fails" -eq 0 ]
