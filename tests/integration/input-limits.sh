#!/bin/bash
# input-limits.sh: every local file mxdeck reads whole is a regular file within a size
# cap (issue 14 item 5). For each input kind -- the profile (lint, render, plan, the
# console), the users CSV, --known-hosts, --identity, the [tls] certificate read for
# TLSA records -- /dev/zero, a FIFO without a writer, a directory and a sparse file one
# byte over the cap are refused at once with exit 2 (3 for a host's SSH files), a
# message that names the file, what it is, the limit and what to do; nothing is
# written on the lab host (a real sshd). Before the fix /dev/zero grew until the OOM
# killer, a FIFO blocked forever. Every run is bounded (timeout, and an address-space
# limit when the binary is not an ASan build) so that a regression fails instead of
# eating the machine.
set -eu
. "$(dirname "$0")/../lab/push-lib.sh"

"$labtools/lab-hosts.sh" start "$lab" 1
light_profile >"$lab/site.ini"
cp "$lab/demo-users.csv" "$lab/users.csv" 2>/dev/null || true
grep -q '^file = demo-users.csv' "$lab/site.ini" || die "test setup: the profile has no users file"

mkfifo "$lab/fifo"
mkdir "$lab/adir"
MiB=$((1024 * 1024))
asan=0
ldd "$MXDECK" 2>/dev/null | grep -q libasan && asan=1

# run OUT CMD...: mxdeck bounded in time and (without ASan) in memory; exit code in $rc
run() {
	local out=$1
	shift
	rc=0
	(
		[ $asan -eq 1 ] || ulimit -v 2000000
		exec timeout 30 "$@"
	) >"$out" 2>&1 </dev/null || rc=$?
}

# refused WHAT RC OUT NEEDLE...: exit RC, every NEEDLE in the output
refused() {
	local what=$1 want=$2 out=$3 n
	shift 3
	[ "$rc" -eq "$want" ] || { cat "$out"; die "$what: exit $rc, want $want"; }
	for n in "$@"; do
		grep -qF -- "$n" "$out" || { cat "$out"; die "$what: no '$n' in the output"; }
	done
	if grep -qE 'Sanitizer|runtime error' "$out"; then cat "$out"; die "$what: sanitizer report"; fi
}

# bad_inputs CAP_BYTES: the four bad files of a kind (the oversized one sparse) in
# bads[], each "FILE|what mxdeck says it is"
bad_inputs() {
	truncate -s $(($1 + 1)) "$lab/big"
	bads=("/dev/zero|a character device" "$lab/fifo|a FIFO" "$lab/adir|a directory"
	    "$lab/big|$(($1 + 1)) bytes, over mxdeck's limit of $(($1 / MiB)) MiB")
}

host_state "$lab/h1" >"$lab/before"

# 1. The profile: lint, render, plan, and the console (which loads it first).
bad_inputs $((64 * MiB))
for spec in "${bads[@]}"; do
	f=${spec%%|*} kind=${spec#*|}
	for cmd in lint render plan --audit; do
		out=
		[ $cmd = render ] && out=$lab/out
		# shellcheck disable=SC2086
		run "$lab/o" "$MXDECK" --known-hosts "$lab/known_hosts" $cmd "$f" $out
		refused "profile $f, ${cmd%% *}" 2 "$lab/o" "$f: the profile is $kind"
	done
done
grep -qF "limit of 64 MiB for it; check the path" "$lab/o" ||
	{ cat "$lab/o"; die "the oversized profile's message does not say the limit and what to do"; }
[ ! -e "$lab/out" ] || die "render wrote $lab/out for a refused profile"
ok "profile: /dev/zero, FIFO, directory, 64 MiB + 1: lint, render, plan and the console exit 2 naming the file, its kind and the limit"

# 2. The users CSV (lint, render, plan read it with the profile).
bad_inputs $((512 * MiB))
for spec in "${bads[@]}"; do
	f=${spec%%|*} kind=${spec#*|}
	sed "s|^file = demo-users.csv|file = $f|" "$lab/site.ini" >"$lab/csv.ini"
	for cmd in lint plan; do
		run "$lab/o" "$MXDECK" --known-hosts "$lab/known_hosts" $cmd "$lab/csv.ini"
		refused "users CSV $f, $cmd" 2 "$lab/o" "users file: $f: the users CSV is $kind"
	done
done
grep -qF "limit of 512 MiB for it" "$lab/o" || { cat "$lab/o"; die "no limit in the CSV message"; }
ok "users CSV: /dev/zero, FIFO, directory, 512 MiB + 1: lint and plan exit 2 naming the CSV"

# 3. --known-hosts and --identity: read when the host is contacted; the host fails
# (exit 3) with the file named, nothing is written on it.
bad_inputs $((64 * MiB))
for spec in "${bads[@]}"; do
	f=${spec%%|*} kind=${spec#*|}
	run "$lab/o" "$MXDECK" --known-hosts "$f" plan "$lab/site.ini"
	refused "--known-hosts $f" 3 "$lab/o" "$f: the known_hosts file is $kind"
done
bad_inputs $MiB
for spec in "${bads[@]}"; do
	f=${spec%%|*} kind=${spec#*|}
	run "$lab/o" env -u SSH_AUTH_SOCK "$MXDECK" --known-hosts "$lab/known_hosts" \
	    --identity "$f" plan "$lab/site.ini"
	refused "--identity $f" 3 "$lab/o" "$f: the SSH identity file is $kind"
done
grep -qF "limit of 1 MiB for it; name the private key file itself" "$lab/o" ||
	{ cat "$lab/o"; die "no limit in the identity message"; }
host_state "$lab/h1" | diff -q "$lab/before" - >/dev/null || die "a file was written on the host"
[ -z "$(ls -A "$lab/h1/state")" ] || die "state written on the host: $(ls -A "$lab/h1/state")"
ok "--known-hosts and --identity: /dev/zero, FIFO, directory, over the cap: exit 3 naming the file, host untouched"

# 4. The certificate TLSA records are computed from (role dns, render and lint).
bad_inputs $((16 * MiB))
for spec in "${bads[@]}"; do
	f=${spec%%|*} kind=${spec#*|}
	cat >"$lab/cert.ini" <<EOF
[site]
name = t
domain = example.org

[host "gw1"]
address = mx1.example.org
roles = postfix dns

[tls]
certificate = $f
key = /etc/ssl/private/ssl-cert-snakeoil.key
EOF
	run "$lab/o" "$MXDECK" render "$lab/cert.ini" "$lab/out"
	refused "certificate $f, render" 2 "$lab/o" "$f: the certificate is $kind"
	run "$lab/o" "$MXDECK" lint "$lab/cert.ini"
	refused "certificate $f, lint" 2 "$lab/o" "$f: the certificate is $kind"
done
ok "certificate: /dev/zero, FIFO, directory, 16 MiB + 1: render and lint exit 2 naming it"

# 5. The good files still work: a profile with a users CSV of 200,000 users lints.
"$labtools/../bench/gen-profile.sh" "$lab/many" 200000 2 >/dev/null
run "$lab/o" "$MXDECK" lint "$lab/many/site.ini"
[ "$rc" -eq 0 ] || { tail "$lab/o"; die "lint of 200,000 users: exit $rc"; }
ok "a users CSV of 200,000 users still lints (exit 0)"
echo "all checks passed"
