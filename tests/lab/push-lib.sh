# push-lib.sh: shared setup for tests/integration/push-*.sh and tests/bench/push.sh
# (sourced, not run). Makes a private lab directory, stops every lab sshd and removes
# the directory on exit.
set -eu
: "${MXDECK:?set MXDECK to the mxdeck binary}"
labtools=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
lab=$(mktemp -d /tmp/mxdeck-push.XXXXXX)
extra_cleanup=${extra_cleanup:-:}
lab_cleanup() {
	eval "$extra_cleanup" || true
	"$labtools/lab-hosts.sh" stop "$lab" >/dev/null 2>&1 || true
	rm -rf "$lab"
}
trap lab_cleanup EXIT
mkdir -p /run/sshd
roles_all="postfix dovecot apache autodiscover dns exchange"

ok() { echo "ok - $*"; }
die() { echo "FAIL - $*"; exit 1; }

# mx ARGS...: mxdeck with the lab's known_hosts
mx() { "$MXDECK" --known-hosts "$lab/known_hosts" "$@"; }

# Every file and symlink a lab host has outside its state directory, with its content
# hash, mode, owner and group, and (for links) target: equal output = byte-identical host.
host_state() {
	local d=$1
	(cd "$d" && find etc www \( -type f -o -type l \) ! -name '.mxdeck.*' -print0 2>/dev/null |
		sort -z | while IFS= read -r -d '' f; do
			if [ -L "$f" ]; then
				printf 'L %s -> %s\n' "$f" "$(readlink "$f")"
			else
				printf 'F %s %s %s %s\n' "$(stat -c %a "$f")" "$(stat -c %U:%G "$f")" \
				    "$(sha256sum <"$f" | cut -c1-64)" "$f"
			fi
		done)
}
# The same with modification times (for "nothing was touched").
host_mtimes() {
	(cd "$1" && find etc www \( -type f -o -type l \) -print0 2>/dev/null | sort -z | xargs -0 stat -c '%Y.%y %n')
}

# A smaller profile for tests about hosts rather than files: the demo's site, header
# rules, TLS, access and users, no vhosts or autodiscover; role postfix only.
light_profile() {
	"$labtools/lab-hosts.sh" profile "$lab" postfix "$@" |
		awk '/^\[(vhost|autodiscover) /{skip=1; next} /^\[/{skip=0} !skip'
}
