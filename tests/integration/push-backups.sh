#!/bin/bash
# push-backups.sh: keep_backups. With keep_backups = 2, after 4 applies that each change
# something exactly the 2 newest backups remain (the ones the last 2 journal entries
# name); the newest holds the pre-apply content and mxdeck's own recovery of an
# interrupted transaction restores it; plan and a failed apply prune nothing; a symlink or a foreign directory in the backup
# directory, and what a symlink inside an old backup points to, are never touched;
# bad values are lint errors with FILE:LINE.
set -eu
. "$(dirname "$0")/../lab/push-lib.sh"

"$labtools/lab-hosts.sh" start "$lab" 1
h=$lab/h1
bk=$h/state/backup
light_profile | sed 's|^state_dir = .*|&\nkeep_backups = 2|' >"$lab/site.ini"
grep -q '^keep_backups = 2$' "$lab/site.ini" || die "test setup: keep_backups not added"

# Lint: out of range and non-integer values are errors at their line.
for bad in 0 1001 two 2.5 -1 ''; do
	sed "s|^keep_backups = 2\$|keep_backups = $bad|" "$lab/site.ini" >"$lab/bad.ini"
	line=$(grep -n '^keep_backups =' "$lab/bad.ini" | cut -d: -f1)
	rc=0
	"$MXDECK" lint "$lab/bad.ini" >"$lab/lint.out" 2>&1 || rc=$?
	[ $rc -ne 0 ] || die "lint accepts keep_backups = '$bad'"
	grep -q "bad.ini:$line:.*keep_backups" "$lab/lint.out" ||
		{ cat "$lab/lint.out"; die "lint: no FILE:LINE error for keep_backups = '$bad'"; }
done
sed 's|^keep_backups = 2$|keep_backups = 1000|' "$lab/site.ini" >"$lab/max.ini"
"$MXDECK" lint "$lab/max.ini" >"$lab/lint.out" 2>&1 || { cat "$lab/lint.out"; die "lint rejects keep_backups = 1000"; }
ok "keep_backups: 0, 1001, two, 2.5, -1 and empty are lint errors at their line; 1000 is fine"

backups() { find "$bk" -mindepth 1 -maxdepth 1 -type d -name '[0-9]*Z-[0-9]*' -printf '%f\n' | sort; }
journal_backup() { sed -n "${1}s|.* backup=\([^ ]*\) .*|\1|p" "$h/state/journal"; }
map=$h/etc/postfix/mxdeck_always_accept

apply_ok() {	# N: the Nth successful apply
	local rc=0
	mx apply --yes "$lab/site.ini" >"$lab/apply$1" 2>&1 || rc=$?
	[ $rc -eq 0 ] || { cat "$lab/apply$1"; die "apply $1: exit $rc"; }
	grep -q "applied" "$lab/apply$1" || { cat "$lab/apply$1"; die "apply $1 changed nothing"; }
}

apply_ok 1
[ -f "$map" ] || die "test setup: $map not managed by the light profile"
# Things pruning must leave alone: a symlink named like a backup (the oldest name)
# pointing out of the backup directory, a directory that is not a backup, and a
# symlink inside the first backup (which will be pruned) to a directory outside.
mkdir -p "$lab/outside"
echo precious >"$lab/outside/file"
ln -s "$lab/outside" "$bk/20000101T000000Z-1"
mkdir "$bk/keepme"
echo mine >"$bk/keepme/file"
first=$(backups | head -n 1)
ln -s "$lab/outside" "$bk/$first/escape"
ok "apply 1 made backup $first"

for i in 2 3 4; do
	printf '# tampered before apply %d\n' "$i" >>"$map"
	if [ $i -eq 4 ]; then
		cp "$map" "$lab/map-before4"
		# plan never prunes
		n=$(backups | wc -l)
		rc=0
		mx plan "$lab/site.ini" >"$lab/plan" 2>&1 || rc=$?
		[ $rc -eq 1 ] || { cat "$lab/plan"; die "plan before apply 4: exit $rc, want 1"; }
		[ "$(backups | wc -l)" = "$n" ] || die "plan removed a backup"
		ok "plan prunes nothing"
	fi
	apply_ok $i
done

[ "$(wc -l <"$h/state/journal")" = 4 ] || die "journal: $(wc -l <"$h/state/journal") entries, want 4"
j3=$(journal_backup 3)
j4=$(journal_backup 4)
[ -n "$j3" ] && [ -n "$j4" ] || die "the journal does not name the backups"
want=$(printf '%s\n%s\n' "$(basename "$j3")" "$(basename "$j4")" | sort)
got=$(backups)
[ "$got" = "$want" ] || die "backups left: $(echo $got), want the journal's last two: $(echo $want)"
[ -d "$j3" ] && [ -d "$j4" ] || die "the journal's backups do not exist"
grep -q "removed 1 old backup from $bk (keep_backups = 2): $(basename "$(journal_backup 2)")" "$lab/apply4" ||
	{ cat "$lab/apply4"; die "apply 4 does not report what it pruned"; }
ok "after 4 applies with keep_backups = 2: exactly the 2 newest backups remain ($(echo $got)), the ones the journal names; apply 4 reports the pruning"

[ -L "$bk/20000101T000000Z-1" ] && [ "$(cat "$lab/outside/file")" = precious ] ||
	die "a symlink in the backup directory, or its target, was touched"
[ "$(cat "$bk/keepme/file")" = mine ] || die "a foreign directory was touched"
[ ! -e "$bk/$first" ] || die "the first backup was not pruned"
ok "pruning left a symlinked name, its target, a foreign directory and the target of a symlink inside a pruned backup alone"

# A failed apply (Postfix rejects a header rule) never prunes.
host_state "$h" >"$lab/after4"
sed 's|^rule = /^X-Mailer:/ IGNORE$|&\nrule = /(*LIMIT_HEAP=0)^X-Spam-Flag:/ IGNORE|' \
    "$lab/site.ini" >"$lab/bad-rule.ini"
grep -q LIMIT_HEAP "$lab/bad-rule.ini" || die "test setup: rule not added"
rc=0
mx apply --yes "$lab/bad-rule.ini" >"$lab/failed" 2>&1 || rc=$?
[ $rc -eq 4 ] || { cat "$lab/failed"; die "failing apply: exit $rc, want 4"; }
[ "$(backups | wc -l)" -ge 2 ] && [ -d "$j3" ] && [ -d "$j4" ] || die "a failed apply removed a backup"
grep -q "old backup" "$lab/failed" && die "a failed apply pruned backups"
host_state "$h" | diff -q - "$lab/after4" >/dev/null || die "the failed apply changed the host"
ok "a failed apply (exit 4) prunes nothing"

# The newest backup holds the pre-apply content of the changed file ...
line=$(grep " $(echo "$map" | sed 's|[.]|[.]|g') " "$j4/manifest") || die "manifest of $j4 does not list $map"
name=$(echo "$line" | cut -d' ' -f3)
cmp -s "$j4/$name" "$lab/map-before4" || die "backup $j4 does not hold the pre-apply content of $map"
# ... and restores it: through mxdeck's recovery of a transaction that was renaming.
# A run that died while renaming has no journal entry (it is committed after the
# reload; a transaction the journal records is complete and is never restored): drop
# apply 4's entry to fake one.
true &
dead=$!
wait $dead
sed -i "\| backup=$j4 |d" "$h/state/journal"
grep -q " backup=$j4 " "$h/state/journal" && die "test setup: the journal still records $j4"
mkdir "$h/state/lock"
printf 'pid=%s\ncontroller=%s\nhost=h1\ntime=x\n' "$dead" "$(hostname)" >"$h/state/lock/owner"
printf '%s\n' "$j4" >"$h/state/lock/txn"
rc=0
mx apply --yes "$lab/site.ini" >"$lab/recover" 2>&1 || rc=$?
[ $rc -eq 0 ] || { cat "$lab/recover"; die "apply after the fake interrupted run: exit $rc"; }
grep -q "backup $j4 restored" "$lab/recover" || { cat "$lab/recover"; die "backup $j4 was not restored"; }
grep -q "applied" "$lab/recover" || { cat "$lab/recover"; die "the restored host was not re-applied (was it restored?)"; }
[ "$(backups | wc -l)" = 2 ] || die "after the 5th apply: $(backups | wc -l) backups"
j5=$(journal_backup '$')
cmp -s "$j5/$(grep " $(echo "$map" | sed 's|[.]|[.]|g') " "$j5/manifest" | cut -d' ' -f3)" "$lab/map-before4" ||
	die "the restore did not put the pre-apply content back (the 5th apply backed up something else)"
ok "the newest backup holds the pre-apply content and mxdeck's recovery restores it (the next apply backs up exactly that content again)"

# A txn that points out of the backup directory is refused, not restored.
mkdir "$h/state/lock"
printf 'pid=%s\ncontroller=%s\nhost=h1\ntime=x\n' "$dead" "$(hostname)" >"$h/state/lock/owner"
printf '%s\n' "$lab/outside" >"$h/state/lock/txn"
rc=0
mx apply --yes "$lab/site.ini" >"$lab/evil" 2>&1 || rc=$?
[ $rc -ne 0 ] || die "a txn outside the backup directory was accepted"
grep -q "not a backup directory" "$lab/evil" || { cat "$lab/evil"; die "no message for a txn outside the backup directory"; }
rm -rf "$h/state/lock"
ok "a transaction mark naming a directory outside state_dir/backup is refused (exit $rc)"
