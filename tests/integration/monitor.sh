#!/usr/bin/env bash
# monitor.sh: `mxdeck test --format nagios|prometheus`, `--warn-exit` and `-q` against
# real TLS servers on loopback (openssl s_server with a lab CA): a valid certificate,
# one that expires in 5 days (warn) and an expired one (fail). Nagios: the status line
# and exit code per the plugin guidelines (0 OK, 1 WARNING, 2 CRITICAL, 3 UNKNOWN for
# a profile error), perfdata in 'label'=value[UOM];warn;crit;min;max form with
# cert_days_min. Prometheus: the textfile parsed by prometheus_client's own parser and
# checked line by line against the exposition format.
set -eu
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
MXDECK=${MXDECK:-$ROOT/build/mxdeck}
. "$ROOT/tests/lab/probe-lab.sh"
. "$ROOT/tests/lab/checks.sh"
lab_need openssl ss /usr/bin/python3
lab_init
trap lab_cleanup EXIT
/usr/bin/python3 -c 'import prometheus_client.parser' ||
	{ echo "FAIL - python3-prometheus-client is missing (tests/deps.sh installs it)"; exit 1; }

lab_ca
K=$LAB/pki
P_GOOD=$(lab_port); lab_s_server "$P_GOOD" "$K/good.pem" "$K/good.key"
P_SOON=$(lab_port); lab_s_server "$P_SOON" "$K/soon.pem" "$K/soon.key"
P_EXP=$(lab_port); lab_s_server "$P_EXP" "$K/expired.pem" "$K/expired.key"
for p in $P_GOOD $P_SOON $P_EXP; do lab_wait_port "$p"; done

profile() {	# file, then "name port" pairs
	local f=$1
	shift
	printf '[site]\nname = lab\ndomain = lab.test\n\n[tls]\nsmtpd_protocols = >=TLSv1.2\n' >"$f"
	# The names the certificates are checked against.
	printf '\n[autodiscover "lab.test"]\nimap = imap.lab.test:993/ssl\nsmtp = smtp.lab.test:465/ssl\n' >>"$f"
	while [ $# -gt 0 ]; do
		printf '\n[host "%s"]\naddress = 127.0.0.1\nroles = postfix\nprobe_ports = smtp:off submission:off smtps:%s\n' \
		    "$1" "$2" >>"$f"
		shift 2
	done
}
profile "$LAB/ok.ini" good "$P_GOOD"
profile "$LAB/warn.ini" good "$P_GOOD" soon "$P_SOON"
profile "$LAB/fail.ini" good "$P_GOOD" soon "$P_SOON" expired "$P_EXP"
printf '[site]\nname = lab\nbogus key without equals\n' >"$LAB/bad.ini"
export SSL_CERT_FILE=$K/ca.pem MXDECK_PROBES=tls MXDECK_PROBE_TIMEOUT=5

run() {	# name, args...: stdout in $LAB/NAME.out, stderr in .err, exit in $rc
	local n=$1
	shift
	rc=0
	"$MXDECK" "$@" >"$LAB/$n.out" 2>"$LAB/$n.err" || rc=$?
}

# --- Nagios ---
perf_ok() {	# every perfdata item of the first line in the guidelines' form
	/usr/bin/python3 - "$1" <<'PY'
import re, sys
line = open(sys.argv[1]).readline().rstrip("\n")
assert line, "empty status line"
text, sep, perf = line.partition(" | ")
assert sep, "no performance data"
assert "|" not in text and "|" not in perf, "a second '|'"
item = re.compile(r"^'?[^'=]+'?=-?[0-9.]+(s|ms|us|%|B|KB|MB|TB|c|d)?"
                  r"(;[0-9.:~@-]*){0,4}$")
for p in perf.split():
    assert item.match(p), "bad perfdata item %r" % p
PY
}
run ok test --format nagios "$LAB/ok.ini"
check "nagios, all ok: exit 0" eq "$rc" 0
check "nagios, all ok: the status line says OK" has "$(head -1 "$LAB/ok.out")" "MXDECK test OK - "
check "nagios: one status line first, then nothing for ok checks" eq "$(wc -l <"$LAB/ok.out")" 1
check "nagios: perfdata in the plugin guidelines' form" perf_ok "$LAB/ok.out"
check "nagios: no probe report on stderr without -v" sh -c "! grep -q 'probes' '$LAB/ok.err'"
run warn test --format nagios "$LAB/warn.ini"
check "nagios, a certificate expiring in 5 days: exit 1 (WARNING)" eq "$rc" 1
check "nagios, warn: WARNING in the status line" has "$(head -1 "$LAB/warn.out")" "MXDECK test WARNING - "
check "nagios, warn: cert_days_min=4d or 5d" sh -c "head -1 '$LAB/warn.out' | grep -Eq 'cert_days_min=[45]d;21:;1:;;'"
check "nagios, warn: the long text names the check" sh -c "grep -q '^WARN tls tls smtps soon' '$LAB/warn.out'"
check "nagios, warn: perfdata form" perf_ok "$LAB/warn.out"
run fail test --format nagios "$LAB/fail.ini"
check "nagios, an expired certificate: exit 2 (CRITICAL)" eq "$rc" 2
check "nagios, fail: CRITICAL in the status line" has "$(head -1 "$LAB/fail.out")" "MXDECK test CRITICAL - "
check "nagios, fail: fail=1 in perfdata" has "$(head -1 "$LAB/fail.out")" " fail=1;;0;0;"
check "nagios, fail: cert_days_min is negative" sh -c "head -1 '$LAB/fail.out' | grep -Eq 'cert_days_min=-[0-9]+d'"
check "nagios, fail: FAIL lines before WARN lines" sh -c "sed -n '2p' '$LAB/fail.out' | grep -q '^FAIL tls tls smtps expired'"
run bad test --format nagios "$LAB/bad.ini"
check "nagios, a profile error: exit 3 (UNKNOWN), not CRITICAL" eq "$rc" 3
check "nagios, profile error: UNKNOWN status line" has "$(head -1 "$LAB/bad.out")" "MXDECK test UNKNOWN - "
run badfmt test --format xml "$LAB/ok.ini"
check "--format xml: usage error (exit 2) naming the formats" sh -c "[ $rc = 2 ] && grep -q 'text, json, nagios, prometheus' '$LAB/badfmt.err'"

# --- --warn-exit and -q ---
run warnplain test "$LAB/warn.ini"
check "plain test with a warning: exit 0" eq "$rc" 0
run warnexit test --warn-exit "$LAB/warn.ini"
check "--warn-exit with a warning: exit 1 (cron hears of it)" eq "$rc" 1
run okexit test --warn-exit "$LAB/ok.ini"
check "--warn-exit with nothing to warn about: exit 0" eq "$rc" 0
run quietok test -q "$LAB/ok.ini"
check "-q, all ok: prints nothing" sh -c "[ ! -s '$LAB/quietok.out' ] && [ ! -s '$LAB/quietok.err' ]"
run quietwarn test -q "$LAB/warn.ini"
check "-q with a warning: the WARN line and the summary only" sh -c "grep -q '^WARN  tls' '$LAB/quietwarn.out' && ! grep -q '^ok  ' '$LAB/quietwarn.out' && grep -q '1 warn' '$LAB/quietwarn.out'"

# --- Prometheus ---
run prom test --format prometheus "$LAB/fail.ini"
check "prometheus: exit as test (1, a check failed)" eq "$rc" 1
check "prometheus: something was written" test -s "$LAB/prom.out"
prom_ok() {
	/usr/bin/python3 - "$1" <<'PY'
import re, sys
from prometheus_client.parser import text_string_to_metric_families
text = open(sys.argv[1]).read()
assert text.endswith("\n")
fams = {f.name: f for f in text_string_to_metric_families(text)}
# The exposition format, line by line: HELP/TYPE comments, then samples.
name = r"[a-zA-Z_:][a-zA-Z0-9_:]*"
lab = r'[a-zA-Z_][a-zA-Z0-9_]*="(?:[^"\\\n]|\\[\\"n])*"'
sample = re.compile(r"^%s(\{%s(,%s)*\})? -?[0-9.e+-]+$" % (name, lab, lab))
for l in text.splitlines():
    if l.startswith("# HELP ") or l.startswith("# TYPE "):
        continue
    assert sample.match(l), "not a sample line: %r" % l
st = fams["mxdeck_tls_check_status"]
by = {s.labels["host"]: s.value for s in st.samples}
assert by == {"good": 0, "soon": 1, "expired": 2}, by
days = {s.labels["host"]: s.value for s in fams["mxdeck_cert_days_left"].samples}
assert days["good"] > 21 and 3 <= days["soon"] <= 5 and days["expired"] < 0, days
res = {s.labels["result"]: s.value for s in fams["mxdeck_checks"].samples}
assert res == {"ok": 1, "warn": 1, "fail": 1}, res
assert list(fams["mxdeck_profile_valid"].samples)[0].value == 1
PY
}
check "prometheus: parses, one family per check kind, labels host/check, cert days" prom_ok "$LAB/prom.out"
run prombad test --format prometheus "$LAB/bad.ini"
check "prometheus, a profile error: mxdeck_profile_valid 0 and exit 2" sh -c "[ $rc = 2 ] && grep -qx 'mxdeck_profile_valid 0' '$LAB/prombad.out'"

# --- the shipped systemd units ---
check "systemd-analyze verify accepts share/systemd/mxdeck-audit.{service,timer}" \
    sh -c "cd '$ROOT/share/systemd' && out=\$(systemd-analyze verify --man=no ./mxdeck-audit.service ./mxdeck-audit.timer 2>&1) && [ -z \"\$out\" ] || { echo \"\$out\"; false; }"
check "the service runs a read-only audit in prometheus format" \
    grep -q 'mxdeck audit --format prometheus' "$ROOT/share/systemd/mxdeck-audit.service"
checks_done
