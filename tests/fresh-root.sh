#!/usr/bin/env bash
# tests/fresh-root.sh [COMMAND]: the README's first two commands on a brand-new Debian 12,
# like a distcheck: a minbase root made by debootstrap, a clone of the committed HEAD in
# it, and COMMAND (default: ./tests/deps.sh && make -j2 check) run there as root. A
# green run here means the install steps are complete, not that this machine happens to
# have a package installed by hand. `make distcheck` and .ci/run call it. Needs root and
# debootstrap (installed when missing) and the Debian archive apt uses here.
#
# The pristine root is built once and cached in $FRESH_ROOT_CACHE (default
# /var/tmp/mxdeck-fresh-root/pristine); every run works on a copy of it. When COMMAND ends,
# every process still running inside the copy is stopped by pid, the mounts are undone
# and the copy is removed (FRESH_ROOT_KEEP=1 keeps it to look inside).
set -euo pipefail
cmd=${1:-./tests/deps.sh && make -j2 check}
cache=${FRESH_ROOT_CACHE:-/var/tmp/mxdeck-fresh-root}
src=$(cd "$(dirname "$0")/.." && pwd)
say() { echo "fresh-root: $*"; }
[ "$(id -u)" = 0 ] || { say "needs root (debootstrap, chroot, mounts)" >&2; exit 2; }
git -C "$src" rev-parse --verify -q HEAD >/dev/null || { say "$src: no commit to clone" >&2; exit 2; }
git -C "$src" diff --quiet HEAD -- 2>/dev/null ||
	say "note: uncommitted changes in $src are not part of the run (committed HEAD only)"

archive() {	# the Debian archive apt already uses on this machine
	local f u
	for f in /etc/apt/sources.list.d/debian.sources /etc/apt/sources.list; do
		[ -f "$f" ] || continue
		u=$(grep -E '^[[:space:]]*(URIs:|deb )' "$f" | grep -Eo 'https?://[^ ]+/debian/?' |
			grep -v security | head -n 1) || true
		[ -n "$u" ] && { echo "${u%/}"; return 0; }
	done
	say "no Debian archive in apt's sources here; cannot debootstrap" >&2
	return 1
}

mkdir -p "$cache"
if [ ! -x "$cache/pristine/bin/bash" ]; then
	if ! command -v debootstrap >/dev/null; then
		say "installing debootstrap"
		DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
		    debootstrap >/dev/null
	fi
	mirror=$(archive)
	rm -rf "$cache/pristine.new"
	say "building a pristine Debian 12 minbase root from $mirror (once, cached in $cache)"
	if ! debootstrap --variant=minbase bookworm "$cache/pristine.new" "$mirror" \
	    >"$cache/debootstrap.log" 2>&1; then
		tail -n 5 "$cache/debootstrap.log" >&2
		say "debootstrap failed (log: $cache/debootstrap.log)" >&2
		exit 2
	fi
	mv "$cache/pristine.new" "$cache/pristine"
fi

root=$(mktemp -d "$cache/run.XXXXXX")
mounted=()
inside() {	# pids of the processes whose root is the copy
	local p
	for p in /proc/[0-9]*; do
		[ "$(readlink "$p/root" 2>/dev/null)" = "$root" ] && echo "${p#/proc/}"
	done
	return 0
}
cleanup() {
	local pids n i
	for n in 1 2 3 4 5; do
		pids=$(inside)
		[ -z "$pids" ] && break
		[ "$n" = 1 ] && say "stopping what is left inside: $(echo $pids)"
		# shellcheck disable=SC2086
		kill -TERM $pids 2>/dev/null || true
		sleep 1
	done
	pids=$(inside)
	# shellcheck disable=SC2086
	[ -n "$pids" ] && kill -KILL $pids 2>/dev/null
	# what the run mounted inside (a network namespace's /run/netns, say), deepest first
	grep -o " $root/[^ ]*" /proc/self/mounts | sort -r | while read -r m; do
		umount -l "$m" 2>/dev/null || true
	done
	for ((i = ${#mounted[@]} - 1; i >= 0; i--)); do
		mountpoint -q "${mounted[i]}" || continue	# already undone above
		umount "${mounted[i]}" 2>/dev/null || umount -l "${mounted[i]}"
	done
	if [ -n "${FRESH_ROOT_KEEP:-}" ]; then
		say "kept $root"
	else
		rm -rf --one-file-system "$root"
	fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM
cp -a "$cache/pristine/." "$root/"
mnt() {	# mount args... target
	mount "$@"
	mounted+=("${*: -1}")
}
# The copy is a mount point of its own, as / is on a real machine: `unshare -m` and
# `ip netns add` (which change the propagation of /) work inside, so the tests that need
# a private mount or network namespace run here as they do on the host.
mnt --bind "$root" "$root"
mount --make-private "$root"
mnt -t proc proc "$root/proc"
mnt --bind /sys "$root/sys"
mnt --bind /dev "$root/dev"
mnt --bind /dev/pts "$root/dev/pts"
cp -L /etc/resolv.conf "$root/etc/resolv.conf" 2>/dev/null || true
git clone -q --no-hardlinks "$src" "$root/src"
say "$(git -C "$root/src" log --oneline -1) on a new Debian 12 minbase; running: $cmd"
start=$(date +%s)
set +e
chroot "$root" /usr/bin/env -i HOME=/root TERM=xterm-256color LANG=C.UTF-8 CI=true \
    PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
    bash -c 'cd /src && { '"$cmd"'; }'
rc=$?
set -e
say "exit $rc after $(( $(date +%s) - start )) s"
exit "$rc"
