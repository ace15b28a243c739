#!/bin/bash
# push.sh: wall time of `mxdeck apply` of the demo profile (every role) to 1, 5 and 20
# lab hosts (real sshd on loopback, each with its own stock configuration), first apply
# (everything changes) and second apply (no changes), and the ratio to one host.
# Target: 20 hosts <= 2x one host. When ansible-playbook is installed (Debian's
# ansible-core), the same work is done by a playbook for comparison: copy every file
# mxdeck renders for the host (the pcre tables with validate= running postmap), postconf -e/-M/-P
# for the merge files, a handler running postfix check; forks = hosts.
# The ansible part takes minutes (about 7 at 20 hosts here); MXDECK_BENCH_ANSIBLE=0 skips it.
# Usage: MXDECK=build/mxdeck tests/bench/push.sh [N...]
set -eu
. "$(dirname "$0")/../lab/push-lib.sh"

counts=${*:-1 5 20}
max=0
for n in $counts; do [ "$n" -gt "$max" ] && max=$n; done
"$labtools/lab-hosts.sh" start "$lab" "$max"
echo "# mxdeck push bench: $(nproc) CPUs, load $(cut -d' ' -f1-3 /proc/loadavg)"
reset_hosts() {	# Every run starts from stock hosts: undo the previous run's apply.
	local n=$1 i d
	for i in $(seq "$n"); do
		d=$lab/h$i
		if [ -f "$d/state/journal" ] || [ -e "$d/etc/postfix/mxdeck.postconf" ]; then
			rm -rf "$d/etc" "$d/www" "$d/state"
			mkdir -p "$d/etc" "$d/www" "$d/state"
			cp -a /etc/postfix /etc/dovecot /etc/apache2 /etc/nginx "$d/etc/"
			sed -i -e 's|</etc/dovecot/private/dovecot.pem|</etc/ssl/certs/ssl-cert-snakeoil.pem|' \
			    -e 's|</etc/dovecot/private/dovecot.key|</etc/ssl/private/ssl-cert-snakeoil.key|' \
			    "$d/etc/dovecot/conf.d/10-ssl.conf"
		fi
	done
	return 0
}

# Busy CPU seconds of the whole machine (all cores) from /proc/stat: the lab hosts run
# their validators (postfix check, doveconf, apache2 -t, nginx -t) on this same machine,
# so at 20 hosts the wall time is bounded by the cores, not by mxdeck. mxdeck_cpu_s is
# the mxdeck process's own user+system time (GNU time).
busy_s() { awk '/^cpu / {print ($2 + $3 + $4 + $7 + $8) / 100}' /proc/stat; }
printf '%-6s %-12s %-12s %-10s %-8s %-12s %s\n' hosts first_s ratio again_s ratio mxdeck_cpu_s machine_busy_s
base1=
base2=
declare -A mxfirst
for n in $counts; do
	"$labtools/lab-hosts.sh" profile "$lab" "$roles_all" 1 "$n" >"$lab/site$n.ini"
	reset_hosts "$n"
	b0=$(busy_s)
	t0=$(date +%s.%N)
	/usr/bin/time -f '%U %S' -o "$lab/time$n" "$MXDECK" --known-hosts "$lab/known_hosts" \
	    apply --yes "$lab/site$n.ini" >"$lab/out$n" 2>&1 || { tail -5 "$lab/out$n"; die "apply to $n hosts"; }
	t1=$(date +%s.%N)
	b1=$(busy_s)
	mx apply --yes "$lab/site$n.ini" >"$lab/again$n" 2>&1 || die "second apply to $n hosts"
	t2=$(date +%s.%N)
	[ "$(grep -c ': ok: no changes' "$lab/again$n")" = "$n" ] || die "second apply changed something"
	first=$(echo "$t1 - $t0" | bc)
	again=$(echo "$t2 - $t1" | bc)
	[ -n "$base1" ] || { base1=$first; base2=$again; }
	mxfirst[$n]=$first
	printf '%-6s %-12.2f %-12.2f %-10.2f %-8.2f %-12.2f %.2f\n' "$n" "$first" "$(echo "$first / $base1" | bc -l)" \
	    "$again" "$(echo "$again / $base2" | bc -l)" "$(awk '{print $1 + $2}' "$lab/time$n")" \
	    "$(echo "$b1 - $b0" | bc -l)"
done

# The default --jobs is capped at 16 (mxdeck(1) --jobs), so 20 hosts run in two waves; the
# same first apply with every host at once shows what the cap costs.
if [ "$max" -gt 16 ]; then
	reset_hosts "$max"
	t0=$(date +%s.%N)
	mx apply --yes --jobs "$max" "$lab/site$max.ini" >"$lab/outj" 2>&1 || die "apply --jobs $max"
	t1=$(date +%s.%N)
	first=$(echo "$t1 - $t0" | bc)
	printf '# %s hosts with --jobs %s (one wave): first apply %.2f s, %.2f x one host\n' \
	    "$max" "$max" "$first" "$(echo "$first / $base1" | bc -l)"
fi

[ "${MXDECK_BENCH_ANSIBLE:-1}" != 0 ] || { echo "# MXDECK_BENCH_ANSIBLE=0: no ansible comparison"; exit 0; }
command -v ansible-playbook >/dev/null || { echo "# ansible-playbook not installed: no comparison"; exit 0; }

# The same first apply with ansible: inventory and per-host variables from what mxdeck
# renders for each host.
ansible_run() {	# ansible_run N -> seconds on stdout
	local n=$1 a=$lab/ansible$1
	mkdir -p "$a/host_vars"
	"$MXDECK" render "$lab/site$n.ini" "$a/render" >/dev/null 2>&1
	python3 - "$lab" "$a" "$n" <<'PY'
import json, os, sys
lab, a, n = sys.argv[1], sys.argv[2], int(sys.argv[3])
hosts = [l.split() for l in open(os.path.join(lab, "hosts.list"))][:n]
inv = ["[lab]"]
for name, addr, port, d in hosts:
    inv.append("%s ansible_host=%s ansible_port=%s" % (name, addr, port))
inv += ["[lab:vars]", "ansible_user=root", "ansible_python_interpreter=/usr/bin/python3",
        "ansible_ssh_private_key_file=%s/id_ed25519" % lab,
        "ansible_ssh_common_args='-o UserKnownHostsFile=%s/known_hosts'" % lab]
open(os.path.join(a, "inventory"), "w").write("\n".join(inv) + "\n")
for name, addr, port, d in hosts:
    root = os.path.join(a, "render", name)
    files, pcre, links, merge = [], [], [], {"e": [], "M": [], "P": []}
    for dp, dn, fn in os.walk(root):
        for f in fn:
            src = os.path.join(dp, f)
            dest = src[len(root):]
            if os.path.islink(src):
                links.append({"link": dest, "target": os.readlink(src)})
                continue
            item = {"src": src, "dest": dest, "mode": "%04o" % (os.stat(src).st_mode & 0o7777)}
            (pcre if dest.endswith(".pcre") else files).append(item)
            kind = {"mxdeck.postconf": "e", "mxdeck.master": "M", "mxdeck.master-params": "P"}.get(f)
            if kind:
                merge[kind] = [l.strip() for l in open(src) if l.strip() and not l.startswith("#")]
    hv = {"files": files, "pcre": pcre, "links": links, "pfdir": d + "/etc/postfix",
          "postconf_e": merge["e"], "postconf_M": merge["M"], "postconf_P": merge["P"]}
    json.dump(hv, open(os.path.join(a, "host_vars", name + ".json"), "w"))
PY
	cat >"$a/site.yml" <<'YML'
- hosts: lab
  gather_facts: false
  tasks:
    - name: directories
      file: path={{ item.dest | dirname }} state=directory
      loop: "{{ files + pcre }}"
    - name: configuration files
      template: src={{ item.src }} dest={{ item.dest }} mode={{ item.mode }}
      loop: "{{ files }}"
      notify: postfix check
    - name: header check tables
      template: src={{ item.src }} dest={{ item.dest }} mode={{ item.mode }} validate="sh -c 'postmap -q - pcre:%s </dev/null; test $? -le 1'"
      loop: "{{ pcre }}"
      notify: postfix check
    - name: sites-enabled links
      file: src={{ item.target }} dest={{ item.link }} state=link force=yes
      loop: "{{ links }}"
    - name: postconf -e
      command: postconf -c {{ pfdir }} -e "{{ item }}"
      loop: "{{ postconf_e }}"
      notify: postfix check
    - name: postconf -M
      command: postconf -c {{ pfdir }} -M -e "{{ item }}"
      loop: "{{ postconf_M }}"
      notify: postfix check
    - name: postconf -P
      command: postconf -c {{ pfdir }} -P -e "{{ item }}"
      loop: "{{ postconf_P }}"
      notify: postfix check
  handlers:
    - name: postfix check
      command: postfix -c {{ pfdir }} check
YML
	reset_hosts "$n"
	local t0 t1
	t0=$(date +%s.%N)
	ANSIBLE_LOCAL_TEMP=$a/tmp ANSIBLE_HOME=$a/home ANSIBLE_NOCOLOR=1 ANSIBLE_RETRY_FILES_ENABLED=0 \
	    ansible-playbook -i "$a/inventory" -f "$n" "$a/site.yml" >"$a/log" 2>&1 ||
	    { tail -20 "$a/log" >&2; return 1; }
	t1=$(date +%s.%N)
	grep -q "failed=0" "$a/log" || { tail -20 "$a/log" >&2; return 1; }
	echo "$t1 - $t0" | bc
}

echo "# ansible-playbook $(ansible-playbook --version 2>/dev/null | awk 'NR == 1 {v = $NF} END {print v}' | tr -d ']'), same files, postconf merge and postfix check"
printf '%-6s %-12s %-12s %s\n' hosts ansible_s mxdeck_s ansible/mxdeck
for n in $counts; do
	t=$(ansible_run "$n") || die "ansible-playbook for $n hosts"
	printf '%-6s %-12.2f %-12.2f %.1f\n' "$n" "$t" "${mxfirst[$n]}" "$(echo "$t / ${mxfirst[$n]}" | bc -l)"
done
