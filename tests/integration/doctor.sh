#!/bin/bash
# doctor.sh: `mxdeck doctor` against real sshd lab hosts, each with the right verdict
# and exit code (0 ready, warnings allowed; 1 something missing; 3 unreachable; 2 a
# profile error):
#   h1  a stock lab gateway after an apply (which enabled the modules the sites use): ready
#   h2  mod_proxy_http available but disabled after an apply: ready, "apply will enable it"
#   h3  a read-only SFTP server (internal-sftp -R): the same findings as h1, and not one
#       file or directory of the host touched
#   h4  a login whose PATH has no sbin (SetEnv PATH=/usr/bin:/bin, as a Debian user's):
#       postconf installed but not runnable by name: missing
#   h5  mod_ssl not installed (no mods-available/ssl.load) and a profile that renders
#       for a newer Postfix than the host's: missing, "apt-get install", postfix_version
#   loc address = local with postfix_dir absent: missing, postconf's own message
#   down nothing listens: unreachable
set -eu
. "$(dirname "$0")/../lab/push-lib.sh"
. "$labtools/checks.sh"
command -v python3 >/dev/null || { echo "python3 not installed"; exit 77; }

"$labtools/lab-hosts.sh" start "$lab" 5
net=$(cat "$lab/net")
restart() {	# host, extra sshd.sh args...: restart its sshd (same key) with a setting
	local h=$1 addr
	shift
	addr=$(awk -v h="$h" '$1 == h {print $2}' "$lab/hosts.list")
	"$labtools/sshd.sh" stop "$lab/$h/sshd"
	"$labtools/sshd.sh" start "$lab/$h/sshd" "$addr" 2222 "$lab/authorized_keys" "$@" >/dev/null
}
"$labtools/lab-hosts.sh" profile "$lab" "postfix dovecot apache autodiscover" |
	awk '{ print } /^\[host "h5"\]$/ { print "postfix_version = 3.99" }' >"$lab/site.ini"
cat >>"$lab/site.ini" <<INI

[host "loc"]
address = local
roles = postfix
postfix_dir = $lab/nothing-here/etc/postfix
state_dir = $lab/loc-state

[host "down"]
address = $net.250
port = 2222
user = root
identity = $lab/id_ed25519
roles = postfix
INI
echo "[$net.250]:2222 $(cut -d' ' -f1,2 "$lab/h1/sshd/hostkey.pub")" >>"$lab/known_hosts"
mx lint "$lab/site.ini" >"$lab/lint" 2>&1 || { cat "$lab/lint"; die "test setup: the profile does not lint"; }
# h1-h4 are gateways mxdeck has applied to (the lab starts from stock Debian, where
# Apache's ssl and proxy modules are off): the apply enables what the sites use.
mx apply --yes --host h1 --host h2 --host h3 --host h4 "$lab/site.ini" >"$lab/apply" 2>&1 ||
	{ cat "$lab/apply"; die "test setup: apply to h1-h4"; }
a=$lab/h2/etc/apache2
[ -e "$a/mods-enabled/proxy_http.load" ] || die "test setup: the apply did not enable proxy_http on h2"
rm "$a/mods-enabled/proxy_http.load"
restart h3 ro
grep -q 'internal-sftp -R' "$lab/h3/sshd/sshd_config" || die "test setup: h3's SFTP is not read-only"
LAB_SSHD_PATH=/usr/bin:/bin restart h4
grep -q 'SetEnv SHLVL=1 PATH=/usr/bin:/bin' "$lab/h4/sshd/sshd_config" || die "test setup: h4's PATH"
a=$lab/h5/etc/apache2
rm -f "$a/mods-enabled/ssl.load" "$a/mods-enabled/ssl.conf" "$a/mods-available/ssl.load" "$a/mods-available/ssl.conf"

doc() {	# out, args...: $rc
	local out=$1
	shift
	rc=0
	mx doctor "$@" "$lab/site.ini" >"$out" 2>"$out.err" || rc=$?
}

doc "$lab/d.h1" --host h1
check "h1 (stock lab gateway): exit 0" eq "$rc" 0
check "h1: ready" captured "$lab/d.h1" '^=== host h1 \(.*\): ready: ready'
check "h1: every command found" captured "$lab/d.h1" '^  ok    commands: found: .*postconf postfix postmap doveconf doveadm dovecot apache2 apache2ctl'
check "h1: Postfix version detected" captured "$lab/d.h1" '^  ok    postfix: Postfix 3\.[0-9]+'
check "h1: postfix user, group and set-permissions state" \
    sh -c "grep -q '^  ok    postfix user and group: postfix (uid' '$lab/d.h1' && grep -q '^  ok    postfix permissions: ' '$lab/d.h1'"
check "h1: the modules the rendered sites use are enabled (ssl)" captured "$lab/d.h1" '^  ok    apache modules: enabled: .*\bssl\b'
check "h1: ... and proxy_http" captured "$lab/d.h1" '^  ok    apache modules: enabled: .*\bproxy_http\b'
check "h1: free space told" captured "$lab/d.h1" '^  ok    free space: .* free$'
check "h1: no FAIL line" lacks "$lab/d.h1" '^  FAIL' '^  ok '

doc "$lab/d.h2" --host h2
check "h2 (proxy_http available, disabled): exit 0 (apply enables it)" eq "$rc" 0
check "h2: says mod_proxy_http is available but disabled, apply will enable it" \
    captured "$lab/d.h2" '^  warn  apache modules: mod_proxy_http is available but not enabled .*: apply will enable it'
check "h2: ready, with the warning" captured "$lab/d.h2" '^=== host h2 .*: ready: ready, [0-9]+ warnings?'

host_state "$lab/h3" >"$lab/h3.before"
host_mtimes "$lab/h3" >"$lab/h3.mtimes"
ls -la --time-style=full-iso "$lab/h3/etc" "$lab/h3/www" "$lab/h3/state" >"$lab/h3.ls"
doc "$lab/d.h3" --host h3
check "h3 (read-only SFTP): exit 0" eq "$rc" 0
check "h3: the same findings as h1" eq "$(sed '1d; s|/h3/|/hX/|g' "$lab/d.h3" | grep -v 'free space')" \
    "$(sed '1d; s|/h1/|/hX/|g' "$lab/d.h1" | grep -v 'free space')"
host_state "$lab/h3" >"$lab/h3.after"
check "h3: its files byte-identical afterwards (and there were files to compare)" \
    sh -c "[ \$(wc -l <'$lab/h3.before') -gt 50 ] && cmp '$lab/h3.before' '$lab/h3.after'"
check "h3: not one file touched, no directory changed" \
    eq "$(host_mtimes "$lab/h3"; ls -la --time-style=full-iso "$lab/h3/etc" "$lab/h3/www" "$lab/h3/state")" \
    "$(cat "$lab/h3.mtimes" "$lab/h3.ls")"

doc "$lab/d.h4" --host h4
check "h4 (PATH without sbin): exit 1" eq "$rc" 1
check "h4: postconf installed but not in the login's PATH" \
    captured "$lab/d.h4" '^  FAIL  postfix: postconf is installed \(/usr/sbin/postconf\) but not in the PATH root@'
check "h4: the fix says how (PATH with /usr/sbin)" captured "$lab/d.h4" '^        fix: .*SetEnv PATH=.*/usr/sbin'
check "h4: missing" captured "$lab/d.h4" '^=== host h4 .*: missing: '

doc "$lab/d.h5" --host h5
check "h5 (mod_ssl not installed, postfix_version newer than the host): exit 1" eq "$rc" 1
check "h5: mod_ssl not installed, with the apt-get to run" \
    sh -c "grep -q '^  FAIL  apache modules: mod_ssl is not installed' '$lab/d.h5' && grep -q '^        fix: apt-get install apache2 (mod_ssl' '$lab/d.h5'"
check "h5: the host's Postfix is older than the profile's syntax" \
    captured "$lab/d.h5" '^  FAIL  postfix: the host runs Postfix 3\.[0-9.]+, older than the 3\.99 syntax'
check "h5: the fix names postfix_version" captured "$lab/d.h5" '^        fix: set postfix_version = 3\.[0-9]+ in \[host "h5"\]'

doc "$lab/d.loc" --host loc
check "loc (address = local, postfix_dir absent): exit 1" eq "$rc" 1
check "loc: postconf's own message" captured "$lab/d.loc" "^  FAIL  postfix: postconf -c $lab/nothing-here/etc/postfix fails \(exit 1\): postconf: fatal: .*main\.cf"
check "loc: postfix_dir does not exist" captured "$lab/d.loc" "^  FAIL  directories: postfix_dir = $lab/nothing-here/etc/postfix does not exist"
check "loc: a local failure is never 'unreachable'" lacks "$lab/d.loc" 'unreachable' '^=== host loc'

doc "$lab/d.down" --host down
check "down (nothing listens): exit 3" eq "$rc" 3
check "down: unreachable with the reason" captured "$lab/d.down" '^=== host down .*: unreachable: .*(refused|connect)'

doc "$lab/d.all.json" --json
check "all hosts: exit 3 (one unreachable wins)" eq "$rc" 3
check "--json: one entry per host with status and findings" python3 - "$lab/d.all.json" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
st = {h["name"]: (h["status"], h["exit"]) for h in d["hosts"]}
want = {"h1": ("ready", 0), "h2": ("ready", 0), "h3": ("ready", 0), "h4": ("missing", 1),
        "h5": ("missing", 1), "loc": ("missing", 1), "down": ("unreachable", 3)}
assert st == want, st
assert d["exit"] == 3
h2 = [h for h in d["hosts"] if h["name"] == "h2"][0]
assert any(f["level"] == "warn" and "proxy_http" in f["what"] and f["fix"] for f in h2["findings"])
for h in d["hosts"]:
    for f in h["findings"]:
        assert f["level"] in ("ok", "warn", "fail")
        assert (f["fix"] is None) == (f["level"] == "ok"), f
PY
check "the summary line counts the verdicts" \
    captured "$lab/d.all.json.err" '^mxdeck: doctor: 7 hosts: 3 ready, 3 with something missing, 1 unreachable$'

doc "$lab/d.nohost" --host nosuch
check "--host of a host the profile lacks: exit 2" eq "$rc" 2
checks_done
