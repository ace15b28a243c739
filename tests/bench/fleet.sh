#!/bin/bash
# fleet.sh: `mxdeck plan` and `mxdeck audit` of 50, 100 and 200 hosts with the default
# worker count (--jobs not given: 16 at a time, backends/ssh/fleet.c). One loopback
# sshd serves every [host] entry (same address and port), each host with its own copy
# of the stock Postfix and Dovecot configuration and its own state directory, so each
# entry is a full plan: connect, authenticate, detect, render, read and diff every
# file, query the Postfix settings. Audit is the same plan over the read-only transport
# plus the live tests (here MXDECK_PROBES="smtp tls": nothing listens on the lab
# address's mail ports, so the probes end at once and the numbers are the fleet's).
# Prints wall time, mxdeck's own CPU (user+system) and peak RSS (GNU time), the
# per-host figures and how each grows from 50 to 200 hosts. Measures, asserts nothing
# about speed; it fails only when a run does not do its work (a host unreachable).
# Usage: MXDECK=build/mxdeck tests/bench/fleet.sh [N...]
set -eu
. "$(dirname "$0")/../lab/push-lib.sh"

counts=${*:-50 100 200}
max=0
for n in $counts; do [ "$n" -gt "$max" ] && max=$n; done
roles="postfix dovecot"
"$labtools/lab-hosts.sh" start "$lab" 1
read -r _ addr port _ <"$lab/hosts.list"
for i in $(seq "$max"); do
	d=$lab/f$i
	mkdir -p "$d/etc" "$d/www" "$d/state"
	cp -a "$lab/h1/etc/postfix" "$lab/h1/etc/dovecot" "$d/etc/"
done
# The demo profile's site sections (lab-hosts.sh; no web server roles, so without
# its [vhost] and [autodiscover]) and one [host] per directory.
site_profile() {	# N
	"$labtools/lab-hosts.sh" profile "$lab" "$roles" 1 1 |
		awk '/^\[(host|vhost|autodiscover) /{skip=1; next} /^\[/{skip=0} !skip'
	for i in $(seq "$1"); do
		d=$lab/f$i
		cat <<INI

[host "f$i"]
address = $addr
port = $port
user = root
identity = $lab/id_ed25519
roles = $roles
postfix_dir = $d/etc/postfix
dovecot_dir = $d/etc/dovecot
www_dir = $d/www
state_dir = $d/state
INI
	done
}

echo "# mxdeck fleet bench: $(nproc) CPUs, load $(cut -d' ' -f1-3 /proc/loadavg), roles: $roles, default --jobs"
printf '%-6s %-6s %8s %8s %8s %10s %12s\n' cmd hosts wall_s cpu_s peak_MB ms/host cpu_ms/host
declare -A W C M
for cmd in plan audit; do
	for n in $counts; do
		site_profile "$n" >"$lab/site$n.ini"
		rc=0
		MXDECK_PROBES="smtp tls" MXDECK_PROBE_TIMEOUT=2 /usr/bin/time -f '%e %U %S %M' \
		    -o "$lab/time" "$MXDECK" --known-hosts "$lab/known_hosts" $cmd --json \
		    "$lab/site$n.ini" >"$lab/out.json" 2>"$lab/err" || rc=$?
		# Every host was planned (drift: exit 1 per host), none unreachable.
		python3 - "$lab/out.json" "$n" <<'PY' || { tail -5 "$lab/err"; die "$cmd of $n hosts (exit $rc)"; }
import json, sys
d = json.load(open(sys.argv[1]))
hosts = d["hosts"]
assert len(hosts) == int(sys.argv[2]), len(hosts)
bad = [h["name"] + ": " + h["summary"] for h in hosts if h["exit"] not in (0, 1)]
assert not bad, bad[:3]
PY
		read -r w u s m < <(tail -n 1 "$lab/time")
		c=$(echo "$u + $s" | bc -l)
		W[$cmd$n]=$w C[$cmd$n]=$c M[$cmd$n]=$m
		printf '%-6s %-6s %8.2f %8.2f %8.1f %10.1f %12.1f\n' "$cmd" "$n" "$w" "$c" \
		    "$(echo "$m / 1024" | bc -l)" "$(echo "$w * 1000 / $n" | bc -l)" \
		    "$(echo "$c * 1000 / $n" | bc -l)"
	done
done
set -- $counts
first=$1
last=${!#}
if [ "$first" != "$last" ]; then
	for cmd in plan audit; do
		printf '# %s growth %s->%s hosts (x%.0f): wall x%.2f, cpu x%.2f, peak RSS x%.2f\n' \
		    "$cmd" "$first" "$last" "$(echo "$last / $first" | bc -l)" \
		    "$(echo "${W[$cmd$last]} / ${W[$cmd$first]}" | bc -l)" \
		    "$(echo "${C[$cmd$last]} / ${C[$cmd$first]}" | bc -l)" \
		    "$(echo "${M[$cmd$last]} / ${M[$cmd$first]}" | bc -l)"
	done
fi
