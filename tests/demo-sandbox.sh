#!/usr/bin/env bash
# tests/demo-sandbox.sh MXDECK: prepare the demo's sandbox (the directories the demo
# profile's "local" host points at, with a copy of this machine's stock Postfix,
# Dovecot, Apache and nginx configuration) and open the console on the demo.
set -eu
mxdeck=$1
here=$(cd "$(dirname "$0")/.." && pwd)
sb=$here/share/examples/demo-sandbox
mkdir -p "$sb/etc" "$sb/var/www/mxdeck" "$sb/var/lib/mxdeck"
for d in postfix dovecot apache2 nginx; do
	if [ ! -d "$sb/etc/$d" ]; then
		if [ -d "/etc/$d" ]; then
			cp -a "/etc/$d" "$sb/etc/$d"
		else
			mkdir -p "$sb/etc/$d"
		fi
	fi
done
exec "$mxdeck" "$here/share/examples/demo.ini"
