#!/bin/bash
# deps-check.sh: `tests/deps.sh --check` finds what is missing by checking each thing
# itself (not by asking dpkg) and names its package; tests/run.sh stops first with that
# list. Here: swaks taken off the PATH and Net::SSLeay hidden from Perl (swaks' TLS, the
# Recommends that --no-install-recommends used to drop).
set -eu
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
. "$ROOT/tests/lab/checks.sh"
T=$(mktemp -d /tmp/mxdeck-depscheck.XXXXXX)
trap 'rm -rf "$T"' EXIT

rc=0
"$ROOT/tests/deps.sh" --check >"$T/all" 2>&1 || rc=$?
check "--check on this machine (set up by deps.sh): exit 0" eq "$rc" 0
check "--check: says every thing is present" captured "$T/all" '^deps: all [0-9]+ things present$'

# a PATH with everything but swaks; a Perl that cannot load Net::SSLeay
mkdir -p "$T/bin" "$T/perl/Net"
for d in /usr/local/sbin /usr/local/bin /usr/sbin /usr/bin /sbin /bin; do
	for f in "$d"/*; do
		b=${f##*/}
		[ -x "$f" ] && [ "$b" != swaks ] && [ ! -e "$T/bin/$b" ] && ln -s "$f" "$T/bin/$b"
	done
done
echo 'die "hidden by deps-check.sh\n";' >"$T/perl/Net/SSLeay.pm"
rc=0
PATH=$T/bin PERL5LIB=$T/perl "$ROOT/tests/deps.sh" --check >"$T/missing" 2>&1 || rc=$?
check "--check with swaks and Net::SSLeay missing: exit 1" eq "$rc" 1
check "names the missing command and its package" \
    captured "$T/missing" '^deps: missing command swaks +package swaks$'
check "names the missing Perl module and its package" \
    captured "$T/missing" '^deps: missing Perl module Net::SSLeay +package libnet-ssleay-perl$'
check "says how to install them" \
    captured "$T/missing" '^deps: 2 thing\(s\) missing; .*apt-get install --no-install-recommends swaks libnet-ssleay-perl\)$'
check "nothing else reported missing" eq "$(grep -c '^deps: missing ' "$T/missing")" 2

rc=0
PATH=$T/bin PERL5LIB=$T/perl BUILD=$T/build "$ROOT/tests/run.sh" unit >"$T/run" 2>&1 || rc=$?
check "tests/run.sh stops first (exit 2) with the list" sh -c "[ $rc = 2 ] &&
    grep -q 'missing Perl module Net::SSLeay' '$T/run' &&
    grep -q '^tests/run.sh: not running the tests' '$T/run'"
check "... and runs no test" lacks "$T/run" '^(PASS|FAIL|SKIP) ' 'not running the tests'
checks_done
