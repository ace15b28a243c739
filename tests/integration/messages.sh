#!/usr/bin/env bash
# messages.sh: errors name what is actually wrong.
#  - a user address with '$' is refused for the '$' (Postfix would expand it), not as
#    "a space, comma or control character";
#  - an SMTP server whose greeting and EHLO reply have 200 CRLF-ended continuation
#    lines each (over 64 KiB in all) is read to the end: no "more than 64 KiB without
#    a line end", the probe gets as far as the server's 454 to STARTTLS.
set -eu
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
MXDECK=${MXDECK:-$ROOT/build/mxdeck}
. "$ROOT/tests/lab/probe-lab.sh"
. "$ROOT/tests/lab/checks.sh"
lab_need /usr/bin/python3
lab_init
trap lab_cleanup EXIT

cp "$ROOT/share/examples/demo.ini" "$ROOT/share/examples/demo-users.csv" "$LAB/"
echo 'pay$roll@example.org,1,0,0,1,1,1,1' >>"$LAB/demo-users.csv"
rc=0
"$MXDECK" render "$LAB/demo.ini" "$LAB/out" >"$LAB/render.txt" 2>&1 || rc=$?
check "an address with '\$': render refuses it (exit 2)" eq "$rc" 2
check "names the file and line of the address" has "$(cat "$LAB/render.txt")" "demo-users.csv:6: user \"pay\$roll@example.org\""
check "says the '\$' is the problem" has "$(cat "$LAB/render.txt")" "the address contains '\$'"
check "does not blame a space, comma or control character" sh -c "! grep -q 'space, comma or control' '$LAB/render.txt'"

P_LONG=$(lab_port)
lab_bad smtplong "$P_LONG"
lab_wait_port "$P_LONG"
cat >"$LAB/long.ini" <<EOF
[site]
name = lab
domain = lab.test

[host "long"]
address = 127.0.0.1
roles = postfix
probe_ports = smtp:$P_LONG submission:off smtps:off
EOF
rc=0
MXDECK_PROBES=tls MXDECK_PROBE_TIMEOUT=5 "$MXDECK" test "$LAB/long.ini" --json \
    >"$LAB/long.json" 2>"$LAB/long.txt" || rc=$?
st=$(lab_json_get "$LAB/long.json" long "tls smtp" status)
d=$(lab_json_get "$LAB/long.json" long "tls smtp" details)
s=$(lab_json_get "$LAB/long.json" long "tls smtp" summary)
check "long multi-line replies: the probe has a result" sh -c "[ '$st' != MISSING ]"
check "no 'more than 64 KiB without a line end' for CRLF-ended lines" sh -c "! grep -q '64 KiB' '$LAB/long.json' '$LAB/long.txt'"
check "the 454 to STARTTLS is reached and reported" has "$s $d" "454"
checks_done
