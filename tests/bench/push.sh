#!/bin/bash
# push.sh: wall time of `mxdeck apply` of the demo profile (every role) to 1, 5 and 20
# lab hosts (real sshd on loopback, each with its own stock configuration), first apply
# (everything changes) and second apply (no changes), and the ratio to one host.
# Target: 20 hosts <= 2x one host. Usage: MXDECK=build/mxdeck tests/bench/push.sh [N...]
set -eu
. "$(dirname "$0")/../lab/push-lib.sh"

counts=${*:-1 5 20}
max=0
for n in $counts; do [ "$n" -gt "$max" ] && max=$n; done
"$labtools/lab-hosts.sh" start "$lab" "$max"
echo "# mxdeck push bench: $(nproc) CPUs, load $(cut -d' ' -f1-3 /proc/loadavg)"
printf '%-6s %-12s %-12s %-10s %s\n' hosts first_s ratio again_s ratio
base1=
base2=
for n in $counts; do
	"$labtools/lab-hosts.sh" profile "$lab" "$roles_all" 1 "$n" >"$lab/site$n.ini"
	# Every run starts from stock hosts: undo the previous run's apply.
	for i in $(seq "$n"); do
		d=$lab/h$i
		if [ -f "$d/state/journal" ]; then
			rm -rf "$d/etc" "$d/www" "$d/state"
			mkdir -p "$d/etc" "$d/www" "$d/state"
			cp -a /etc/postfix /etc/dovecot /etc/apache2 /etc/nginx "$d/etc/"
			sed -i -e 's|</etc/dovecot/private/dovecot.pem|</etc/ssl/certs/ssl-cert-snakeoil.pem|' \
			    -e 's|</etc/dovecot/private/dovecot.key|</etc/ssl/private/ssl-cert-snakeoil.key|' \
			    "$d/etc/dovecot/conf.d/10-ssl.conf"
			for m in ssl socache_shmcb proxy proxy_http proxy_fcgi headers rewrite; do
				for f in "$d/etc/apache2/mods-available/$m".load "$d/etc/apache2/mods-available/$m".conf; do
					[ -f "$f" ] && ln -sf "../mods-available/${f##*/}" "$d/etc/apache2/mods-enabled/${f##*/}"
				done
			done
		fi
	done
	t0=$(date +%s.%N)
	mx apply --yes "$lab/site$n.ini" >"$lab/out$n" 2>&1 || { tail -5 "$lab/out$n"; die "apply to $n hosts"; }
	t1=$(date +%s.%N)
	mx apply --yes "$lab/site$n.ini" >"$lab/again$n" 2>&1 || die "second apply to $n hosts"
	t2=$(date +%s.%N)
	[ "$(grep -c ': ok: no changes' "$lab/again$n")" = "$n" ] || die "second apply changed something"
	first=$(echo "$t1 - $t0" | bc)
	again=$(echo "$t2 - $t1" | bc)
	[ -n "$base1" ] || { base1=$first; base2=$again; }
	printf '%-6s %-12.2f %-12.2f %-10.2f %.2f\n' "$n" "$first" "$(echo "$first / $base1" | bc -l)" \
	    "$again" "$(echo "$again / $base2" | bc -l)"
done
