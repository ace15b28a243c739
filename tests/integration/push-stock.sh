#!/bin/bash
# push-stock.sh: the demo profile (every role, nothing stripped) pushed over real sshd to
# a host whose configuration is a copy of a freshly installed Debian's: Apache with
# mod_ssl, mod_proxy, mod_proxy_http, mod_proxy_fcgi and the php-fpm conf disabled.
# mxdeck enables what the rendered sites use, the way a2enmod/a2enconf do: the plan
# lists the enables, a validation failure restores mods-enabled and conf-enabled byte
# for byte (absent stays absent, a link keeps its own target), the apply exits 0,
# `apache2 -t` passes on the result and a second apply has no changes.
set -eu
. "$(dirname "$0")/../lab/push-lib.sh"

"$labtools/lab-hosts.sh" start "$lab" 1
"$labtools/lab-hosts.sh" profile "$lab" "$roles_all" >"$lab/site.ini"
a=$lab/h1/etc/apache2

# The module state of a freshly installed Debian 12 apache2 (whatever this machine has
# enabled since): none of the gateway's modules, no php-fpm conf.
for m in ssl socache_shmcb proxy proxy_http proxy_fcgi headers rewrite; do
	rm -f "$a/mods-enabled/$m.load" "$a/mods-enabled/$m.conf"
done
rm -f "$a"/conf-enabled/php*-fpm.conf
[ -f "$a/mods-available/ssl.load" ] && [ -f "$a/mods-available/proxy_fcgi.load" ] &&
	[ -f "$a/conf-available/php8.2-fpm.conf" ] || die "test setup: apache2 or php8.2-fpm not installed (run tests/deps.sh)"
[ -L "$a/mods-enabled/mime.load" ] && [ -L "$a/mods-enabled/setenvif.load" ] ||
	die "test setup: the copy is not a stock apache2 (mime, setenvif are enabled there)"

apache_t() {	# apache2 -t on the host's tree, as the push validates it
	(set +u; . "$a/envvars" && mkdir -p "$APACHE_RUN_DIR" && apache2 -d "$a" -f "$a/apache2.conf" -t) 2>&1
}
mods_state() {	# every entry of mods-enabled and conf-enabled: link target or content hash
	(cd "$a" && for f in mods-enabled/* conf-enabled/*; do
		if [ -L "$f" ]; then printf 'L %s -> %s\n' "$f" "$(readlink "$f")"
		else printf 'F %s %s %s\n' "$f" "$(stat -c %a "$f")" "$(sha256sum <"$f" | cut -c1-64)"; fi
	done)
}

# Without mxdeck's enables this is the reported failure: a site with SSLEngine on a stock
# apache2. (Checked on a scratch copy, so that the host itself stays stock.)
cp -a "$a" "$lab/scratch-apache2"
"$MXDECK" render "$lab/site.ini" "$lab/render" 2>/dev/null
cp "$lab/render/h1$a/sites-available/mxdeck-mail.example.org.conf" "$lab/scratch-apache2/sites-enabled/"
out=$(set +u; . "$lab/scratch-apache2/envvars" && mkdir -p "$APACHE_RUN_DIR" && apache2 -d "$lab/scratch-apache2" -f "$lab/scratch-apache2/apache2.conf" -t 2>&1) &&
	die "test setup: a stock apache2 accepts the site without mod_ssl"
case $out in *"Invalid command 'SSLEngine'"*) ;; *) die "test setup: unexpected apache2 -t error: $out" ;; esac
ok "a stock apache2 refuses the rendered site as reported (Invalid command 'SSLEngine')"

# One link of the gateway's set already there, with another (absolute) target: a
# rollback must give it back as it was.
ln -s "$a/mods-available/proxy.load" "$a/mods-enabled/proxy.load"

rc=0
mx plan "$lab/site.ini" >"$lab/plan" 2>&1 || rc=$?
[ $rc -eq 1 ] || { cat "$lab/plan"; die "plan on the stock host: exit $rc, want 1"; }
for m in "module ssl" "module socache_shmcb" "module headers" "module proxy_http" "module proxy_fcgi" "conf php8.2-fpm"; do
	grep -q "change: enable $m: symlink " "$lab/plan" || { cat "$lab/plan"; die "plan does not list 'enable $m'"; }
	grep -q "^# enable $m$" "$lab/plan" || die "the diff does not show 'enable $m'"
done
grep -q "change: re-enable module proxy: symlink $a/mods-enabled/proxy.load -> ../mods-available/proxy.load (pointed to $a/mods-available/proxy.load)" "$lab/plan" ||
	{ cat "$lab/plan"; die "plan does not show the retargeted proxy.load"; }
grep -q "enable module mime:" "$lab/plan" && die "plan enables mime, which the stock host has"
ok "plan lists the module and conf enables (ssl, socache_shmcb, proxy_http, proxy_fcgi, php8.2-fpm; proxy retargeted)"

# Forced validation failure after the renames (a vhost certificate the host lacks):
# exit 4, and mods-enabled/conf-enabled are back byte for byte, like every other file.
host_state "$lab/h1" >"$lab/before"
mods_state >"$lab/mods.before"
grep -q '^L mods-enabled/proxy.load -> /' "$lab/mods.before" || die "test setup: proxy.load"
sed -e '0,/^certificate = /s|^certificate = .*|certificate = /etc/ssl/certs/mxdeck-no-such-cert.pem|' \
    "$lab/site.ini" >"$lab/bad-cert.ini"
rc=0
mx apply --yes "$lab/bad-cert.ini" >"$lab/out" 2>&1 || rc=$?
[ $rc -eq 4 ] || { cat "$lab/out"; die "forced validation failure: exit $rc, want 4"; }
grep -q "rolled back" "$lab/out" && grep -q "apache2 -t" "$lab/out" || { cat "$lab/out"; die "no rollback message"; }
b=$(ls "$lab/h1/state/backup")
grep -q '^NL .*/mods-enabled/ssl.load$' "$lab/h1/state/backup/$b/manifest" &&
	grep -q '^L /.*/mods-available/proxy.load .*/mods-enabled/proxy.load$' "$lab/h1/state/backup/$b/manifest" ||
	{ cat "$lab/h1/state/backup/$b/manifest"; die "the manifest does not record the links as links"; }
mods_state | diff -u "$lab/mods.before" - || die "mods-enabled/conf-enabled not restored byte for byte"
host_state "$lab/h1" | diff -u "$lab/before" - || die "host not byte-identical after the rollback"
[ ! -e "$lab/h1/state/lock" ] || die "lock left"
ok "forced apache2 -t failure: exit 4, links recorded as links (NL, L), mods-enabled and conf-enabled restored byte for byte"

rc=0
mx apply --yes "$lab/site.ini" >"$lab/out" 2>&1 || rc=$?
[ $rc -eq 0 ] || { cat "$lab/out"; die "apply to the stock host: exit $rc"; }
for l in mods-enabled/ssl.load mods-enabled/ssl.conf mods-enabled/socache_shmcb.load \
    mods-enabled/proxy.load mods-enabled/proxy.conf mods-enabled/proxy_http.load \
    mods-enabled/proxy_fcgi.load; do
	[ "$(readlink "$a/$l")" = "../mods-available/${l#mods-enabled/}" ] || die "$l: $(readlink "$a/$l")"
done
[ "$(readlink "$a/conf-enabled/php8.2-fpm.conf")" = ../conf-available/php8.2-fpm.conf ] || die "php8.2-fpm conf"
out=$(apache_t) || die "apache2 -t on the applied host: $out"
case $out in *"Syntax OK"*) ;; *) die "apache2 -t said: $out" ;; esac
ok "apply to the stock host: exit 0, modules enabled a2enmod's way, apache2 -t: Syntax OK"

host_mtimes "$lab/h1" >"$lab/mtimes"
rc=0
mx apply --yes "$lab/site.ini" >"$lab/again" 2>&1 || rc=$?
[ $rc -eq 0 ] && grep -q ': ok: no changes' "$lab/again" || { cat "$lab/again"; die "second apply: exit $rc"; }
host_mtimes "$lab/h1" | diff - "$lab/mtimes" || die "second apply touched files"
ok "second apply: no changes"
