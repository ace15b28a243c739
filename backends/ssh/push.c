/* push.c: plan, apply and roll back one host (share/doc/HACKING.md §1; share/SECURITY.md).
 *
 *   connect -> lock (mkdir STATE/lock) -> detect versions -> render -> plan (diff files,
 *   compare postconf settings) -> [no changes: unlock, done] -> back up what changes
 *   (STATE/backup/STAMP/manifest) -> upload to .mxdeck.NAME.PID.tmp in the same
 *   directory (SFTP write + fsync) -> validate Postfix in a staged copy of its
 *   directory (postconf merge + postfix check + postmap on the new maps) -> mark the
 *   transaction (STATE/lock/txn) -> rename into place -> postconf -e/-M/-P -> validate
 *   in place (postfix check, doveconf -n, apache2 -t, nginx -t) -> reload -> journal ->
 *   unlock.
 * A failure before the first rename removes the temporary files: the host is byte-
 * identical. A failure after it restores the backup (exit 4); a failed restore is
 * exit 5 with the list of what could not be put back. A run that died leaves its lock:
 * the next run on the same controller sees the owner pid gone, removes the temporary
 * files, rolls back a transaction that was renaming, and goes on. */
#include "backends/ssh/push.h"

#include <errno.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <openssl/evp.h>

#include "backends/render/render.h"
#include "backends/ssh/diff.h"
#include "backends/ssh/quote.h"
#include "backends/ssh/remote-parse.h"
#include "backends/ssh/services.h"
#include "backends/ssh/tlsa-gate.h"
#include "backends/ssh/xport.h"

struct item {
	struct rfile *f;
	bool	 missing;
	struct sbuf cur;
	unsigned curmode;
	long	 curuid, curgid;	/* -1: unknown */
	bool	 changed;	/* content or mode */
	bool	 link_changed;
	bool	 link_missing;
	char	*link_old;
	char	*tmp;
	bool	 uploaded;
};

enum skind { S_MAIN, S_MASTER, S_PARAM };

struct setting {
	enum skind kind;
	char	*line;		/* as in the merge file */
	char	*key;
	char	*want;		/* normalized */
	char	*have;		/* normalized, NULL when absent */
};

struct push {
	const struct site *site;
	const struct host *host;
	const struct push_opts *o;
	struct push_result *r;
	struct xport *x;
	struct fileset fs;
	struct item *items;
	size_t	 nitems;
	struct setting *set;
	size_t	 nset, capset;
	bool	 settings_changed;
	char	*lockdir;
	bool	 locked;
	char	*stamp;
	char	*backupdir;
	struct sbuf manifest;
	struct strv created;	/* directories this run created */
	bool	 have[SVC_MAX];	/* services[i].prog is on the host */
	bool	 lock_held;	/* lock_take failed because another run holds it */
	char	*journal_tmp;	/* STATE/.journal.PID.tmp: the entry, written before renaming */
	bool	 refused;	/* plan refused the host's state (a link at a managed path) */
	struct {
		char	*path;
		struct sbuf data;
	}	 base[2];	/* main.cf, master.cf as backed up (postconf edits them) */
	size_t	 nbase;
};

/* ---- small helpers ---- */

static void
note(struct push *p, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void
note(struct push *p, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	strv_push_owned(&p->r->notes, xvasprintf(fmt, ap));
	va_end(ap);
}

static char *
dirname_of(const char *path)
{
	const char *s = strrchr(path, '/');

	if (s == NULL)
		return xstrdup(".");
	if (s == path)
		return xstrdup("/");
	return xstrndup(path, (size_t)(s - path));
}

static const char *
basename_of(const char *path)
{
	const char *s = strrchr(path, '/');

	return s != NULL ? s + 1 : path;
}

static bool
under(const char *path, const char *dir)
{
	size_t n = strlen(dir);

	while (n > 1 && dir[n - 1] == '/')
		n--;
	return strncmp(path, dir, n) == 0 && path[n] == '/';
}

/* A string from this side (a profile value, a rendered line), normalized. */
static char *
normalize(const char *s)
{
	return rp_normalize(s, strlen(s));
}

static uint32_t
random_u32(void)
{
	uint32_t v = 0;
	FILE *f = fopen("/dev/urandom", "re");

	if (f == NULL || fread(&v, sizeof v, 1, f) != 1)
		v = (uint32_t)time(NULL) ^ (uint32_t)getpid() ^ (uint32_t)clock();
	if (f != NULL)
		fclose(f);
	return v;
}

static char *
utc_stamp(const char *fmt)
{
	char buf[64];
	time_t t = time(NULL);
	struct tm tm;

	gmtime_r(&t, &tm);
	strftime(buf, sizeof buf, fmt, &tm);
	return xstrdup(buf);
}

/* Lines of a merge file: no comments, no blank lines. */
static void
merge_lines(const struct rfile *f, struct strv *out)
{
	char *copy = xstrndup(f->data.s != NULL ? f->data.s : "", f->data.len);
	char *line, *save = NULL;

	for (line = strtok_r(copy, "\n", &save); line != NULL;
	    line = strtok_r(NULL, "\n", &save)) {
		char *t = str_trim(line);
		size_t n = strlen(t);

		while (n > 0 && (t[n - 1] == ' ' || t[n - 1] == '\t' || t[n - 1] == '\r'))
			t[--n] = '\0';
		if (*t == '\0' || *t == '#')
			continue;
		strv_push(out, t);
	}
	free(copy);
}

/* ---- locking and recovery ----
 *
 * STATE/lock is a directory made by mkdir (atomic): its owner file names the run
 * (pid, controller, time), temps lists the run's temporary files, txn marks a
 * transaction that has started renaming (the backup directory, then the sha256 of
 * every file's new content). A lock whose owner is gone (same controller, pid not
 * running) is taken over; a lock from another controller is only taken over by
 * `mxdeck unlock`. The takeover is serialized by mkdir STATE/lock/takeover: the one
 * run whose mkdir succeeds re-reads the owner (it must still be the dead one), then
 * finishes or rolls back the dead run's transaction and writes itself in as the
 * owner, all while STATE/lock stays in place, so that no third run can start in
 * between. Everyone else sees a held lock. */

static int restore(struct push *p, const char *backupdir, const struct strv *post,
    char **cause);

static void
stage(const struct push *p, const char *what)
{
	if (p->o->progress != NULL)
		p->o->progress(p->o->progress_arg, p->host, what);
}

static bool
cancelled(const struct push *p)
{
	return p->o->cancel != NULL && atomic_load(p->o->cancel) != 0;
}

static char *
lock_file(struct push *p, const char *name)
{
	return xasprintf("%s/%s", p->lockdir, name);
}

/* "HEX" (64 digits) of the sha256 of n bytes. */
static void
sha256_hex(const char *s, size_t n, char out[65])
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int mdlen = 0;

	out[0] = '\0';
	if (EVP_Digest(s != NULL ? s : "", n, md, &mdlen, EVP_sha256(), NULL) != 1 ||
	    mdlen != 32)
		return;
	for (unsigned int i = 0; i < mdlen; i++)
		snprintf(out + 2 * i, 3, "%02x", md[i]);
}

/* A small file of the host: *out NULL when it does not exist, else its bytes (any,
 * NUL-terminated) and *lenp their number. */
static int
xread_small(struct xport *x, const char *path, char **out, size_t *lenp, char **cause)
{
	struct sbuf b;
	bool missing;

	*out = NULL;
	*lenp = 0;
	sb_init(&b);
	if (xport_read(x, path, &b, &missing, cause) == -1) {
		sb_free(&b);
		return -1;
	}
	if (missing) {
		sb_free(&b);
		return 0;
	}
	*lenp = b.len;
	*out = sb_steal(&b);
	return 0;
}

static int
read_small(struct push *p, const char *path, char **out, size_t *lenp, char **cause)
{
	return xread_small(p->x, path, out, lenp, cause);
}

/* Is path a backup directory of this host: STATE/backup/NAME with a NAME push makes? */
static bool
is_backup_dir(const struct push *p, const char *path)
{
	char *root = xasprintf("%s/backup", p->host->state_dir);
	bool ok = under(path, root) && rp_backup_name_ok(basename_of(path)) &&
	    strcmp(path + strlen(root) + 1, basename_of(path)) == 0;

	free(root);
	return ok;
}

/* Does the journal record the apply whose backup is bdir? The journal entry is
 * committed after the reload: that transaction completed. */
static int
journal_has(struct push *p, const char *bdir, bool *found, char **cause)
{
	char *path = xasprintf("%s/journal", p->host->state_dir), *j = NULL;
	size_t len;

	*found = false;
	if (read_small(p, path, &j, &len, cause) == -1) {
		free(path);
		return -1;
	}
	free(path);
	*found = rp_journal_has_backup(j, len, bdir);
	free(j);
	return 0;
}

/* Finish or roll back a dead run's transaction from the lock directory: remove its
 * temporary files; a transaction the journal records as complete stays as it is (files
 * changed since are someone's later work); one that had started renaming is rolled
 * back, file by file, except a file that is now neither that run's old nor its new
 * content (changed since: it is kept and named). */
static int
recover(struct push *p, char **cause)
{
	char *temps = NULL, *txn = NULL, *path, *bdir = NULL;
	struct strv tl = { 0 }, post = { 0 };
	size_t len;
	int rc = 0;

	path = lock_file(p, "temps");
	if (read_small(p, path, &temps, &len, cause) == -1) {
		free(path);
		return -1;
	}
	free(path);
	rp_pct_lines(temps, len, &tl);
	free(temps);
	for (size_t i = 0; i < tl.n && rc == 0; i++)
		rc = xport_unlink(p->x, tl.v[i], cause);
	strv_free(&tl);
	if (rc == -1)
		return -1;
	path = lock_file(p, "txn");
	if (read_small(p, path, &txn, &len, cause) == -1) {
		free(path);
		return -1;
	}
	free(path);
	/* The backup directory, then "HEX PATH": the new content of each file. */
	rp_txn_parse(txn, len, &bdir, &post);
	if (txn != NULL && bdir == NULL)
		/* The run died while writing the mark, before its first rename. */
		note(p, "the interrupted run's transaction mark %s/txn is empty: it had not "
		    "started renaming", p->lockdir);
	else if (txn != NULL && !is_backup_dir(p, bdir)) {
		*cause = xasprintf("host %s: the transaction mark %s/txn names '%s', which is "
		    "not a backup directory under %s/backup; look at the host by hand, then "
		    "run mxdeck unlock", p->host->name, p->lockdir, bdir,
		    p->host->state_dir);
		rc = -1;
	} else if (txn != NULL) {
		bool done = false;

		if (journal_has(p, bdir, &done, cause) == -1)
			rc = -1;
		else if (done)
			note(p, "the interrupted run had completed its transaction (the journal "
			    "records its backup %s): nothing is restored; changes made on the "
			    "host since then are kept", bdir);
		else {
			note(p, "the interrupted run had started renaming files: restoring its "
			    "backup %s", bdir);
			if (restore(p, bdir, &post, cause) == -1)
				rc = -1;
			else
				note(p, "backup %s restored: the host is back to its state before "
				    "that run", bdir);
		}
	}
	free(bdir);
	strv_free(&post);
	free(txn);
	return rc;
}

/* The owner file of a lock taken by this run. */
static int
lock_write_owner(struct push *p, const char *path, char **cause)
{
	char *now = utc_stamp("%Y-%m-%dT%H:%M:%SZ");
	char *owner = xasprintf("pid=%ld\ncontroller=%s\nhost=%s\ntime=%s\nepoch=%lld\n",
	    p->o->pid, p->o->controller, p->host->name, now, (long long)time(NULL));
	int rc = xport_write(p->x, path, owner, strlen(owner), 0600, cause);

	free(now);
	free(owner);
	return rc;
}

/* Read STATE/lock: who holds it and is that run alive. *ownerp (may be NULL) gets the
 * owner file's bytes for a later comparison. */
static int
lock_read(struct xport *x, const char *lockdir, const char *controller, long self,
    struct push_lock_state *st, char **ownerp, size_t *olenp, char **cause)
{
	struct xstat ls;
	char *owner = NULL, *path, *epoch;
	size_t olen = 0;
	long opid;

	memset(st, 0, sizeof *st);
	st->age = -1;
	if (ownerp != NULL)
		*ownerp = NULL;
	if (xport_lstat(x, lockdir, &ls, cause) == -1)
		return -1;
	if (!ls.exists)
		return 0;
	path = xasprintf("%s/owner", lockdir);
	if (xread_small(x, path, &owner, &olen, cause) == -1) {
		free(path);
		return -1;
	}
	free(path);
	st->pid = rp_owner_field(owner, olen, "pid");
	st->controller = rp_owner_field(owner, olen, "controller");
	st->since = rp_owner_field(owner, olen, "time");
	epoch = rp_owner_field(owner, olen, "epoch");
	if (epoch != NULL && epoch[0] >= '0' && epoch[0] <= '9')
		st->age = (long long)time(NULL) - strtoll(epoch, NULL, 10);
	else if (owner == NULL)
		st->age = (long long)time(NULL) - ls.mtime;
	free(epoch);
	if (st->age < -1)
		st->age = 0;
	{
		const char *names[] = { "txn", "takeover" };
		bool *flags[] = { &st->txn, &st->takeover };

		for (size_t i = 0; i < nitems(names); i++) {
			struct xstat fs;

			path = xasprintf("%s/%s", lockdir, names[i]);
			if (xport_lstat(x, path, &fs, cause) == -1) {
				free(path);
				free(owner);
				return -1;
			}
			free(path);
			*flags[i] = fs.exists;
		}
	}
	if (st->pid != NULL && rp_parse_pid(st->pid, &opid) == 0 && st->controller != NULL &&
	    controller != NULL && strcmp(st->controller, controller) == 0)
		st->owner = opid == self || kill((pid_t)opid, 0) == 0 || errno != ESRCH ?
		    PUSH_LOCK_ALIVE : PUSH_LOCK_DEAD;
	else
		st->owner = PUSH_LOCK_UNKNOWN;
	if (ownerp != NULL) {
		*ownerp = owner;
		*olenp = olen;
	} else
		free(owner);
	return 0;
}

void
push_lock_state_free(struct push_lock_state *st)
{
	free(st->pid);
	free(st->controller);
	free(st->since);
	memset(st, 0, sizeof *st);
}

int
push_lock_inspect(struct xport *x, const struct host *host, const char *controller,
    struct push_lock_state *st, char **cause)
{
	char *lockdir = xasprintf("%s/lock", host->state_dir);
	int rc = lock_read(x, lockdir, controller, (long)getpid(), st, NULL, NULL, cause);

	free(lockdir);
	return rc;
}

char *
push_lock_describe(const struct host *host, const struct push_lock_state *st,
    const char *profile)
{
	char age[48], *who, *what, *s;

	if (st->age >= 0)
		snprintf(age, sizeof age, "%lld s ago", st->age);
	else
		snprintf(age, sizeof age, "age unknown");
	if (st->pid == NULL && st->controller == NULL)
		who = xasprintf("an unfinished run (no owner file, %s)", age);
	else
		who = xasprintf("mxdeck pid %s on %s%s, since %s (%s)", st->pid ? st->pid : "?",
		    st->controller ? st->controller : "?", st->owner == PUSH_LOCK_UNKNOWN ?
		    " (another machine)" : "", st->since ? st->since : "?", age);
	what = xasprintf("%s%s", st->txn ? ", in the middle of a transaction (lock/txn: it "
	    "had started renaming files)" : "", st->takeover ? ", with a recovery of it "
	    "under way or interrupted (lock/takeover)" : "");
	switch (st->owner) {
	case PUSH_LOCK_NONE:
		s = NULL;
		break;
	case PUSH_LOCK_ALIVE:
		s = xasprintf("%s/lock: an apply is running: %s%s", host->state_dir, who, what);
		break;
	case PUSH_LOCK_DEAD:
		s = xasprintf("%s/lock: left behind by %s, which is no longer running%s: the "
		    "next apply finishes or rolls back its transaction first, or run `mxdeck "
		    "unlock %s --host %s`", host->state_dir, who, what,
		    profile ? profile : "PROFILE", host->name);
		break;
	default:
		s = xasprintf("%s/lock: held by %s%s: if that run is no longer running, run "
		    "`mxdeck unlock %s --host %s` (it finishes or rolls back the run's "
		    "transaction, then releases the lock; deleting the lock directory by "
		    "hand would drop that transaction)", host->state_dir, who, what,
		    profile ? profile : "PROFILE", host->name);
		break;
	}
	free(who);
	free(what);
	return s;
}

/* Remove STATE/lock/takeover (our own: its owner file first). */
static void
takeover_drop(struct push *p)
{
	char *tk = lock_file(p, "takeover"), *tko = xasprintf("%s/owner", tk), *c = NULL;

	if (xport_unlink(p->x, tko, &c) == -1 || xport_rmdir(p->x, tk, &c) == -1)
		free(c);
	free(tko);
	free(tk);
}

static int
lock_take(struct push *p, bool force, char **cause)
{
	char *tk = lock_file(p, "takeover");
	char *tko = xasprintf("%s/owner", tk);
	char *opath = lock_file(p, "owner");
	int rc = -1;

	if (xport_mkdir_p(p->x, p->host->state_dir, 0755, NULL, cause) == -1)
		goto out;
	for (int attempt = 0; attempt < 4; attempt++) {
		struct push_lock_state st;
		char *owner = NULL, *again = NULL;
		size_t olen = 0, alen = 0;
		bool existed = false, stale, same;

		if (xport_mkdir(p->x, p->lockdir, 0700, &existed, cause) == -1)
			goto out;
		if (!existed) {
			p->locked = true;
			if (lock_write_owner(p, opath, cause) == -1) {
				char *c = NULL;

				/* Disk full or the like: leave no lock without an owner. */
				if (xport_unlink(p->x, opath, &c) == -1 ||
				    xport_rmdir(p->x, p->lockdir, &c) == -1)
					free(c);
				else
					p->locked = false;
				goto out;
			}
			rc = 0;
			goto out;
		}
		if (lock_read(p->x, p->lockdir, p->o->controller, p->o->pid, &st, &owner, &olen,
		    cause) == -1)
			goto out;
		if (owner == NULL)
			/* A run that died between mkdir and writing its owner file. */
			stale = st.age > (force ? 10 : 120);
		else
			stale = st.owner == PUSH_LOCK_DEAD ||
			    (force && st.owner == PUSH_LOCK_UNKNOWN);
		if (!stale) {
			char *d = push_lock_describe(p->host, &st, p->o->profile);

			p->lock_held = true;
			if (st.owner == PUSH_LOCK_ALIVE)
				*cause = xasprintf("host %s: locked: another run holds %s (mxdeck "
				    "pid %s on %s since %s, %lld s ago); another apply is running: "
				    "wait for it to finish", p->host->name, p->lockdir,
				    st.pid ? st.pid : "?", st.controller ? st.controller : "?",
				    st.since ? st.since : "?", st.age);
			else
				*cause = xasprintf("host %s: locked: %s", p->host->name, d);
			free(d);
			free(owner);
			push_lock_state_free(&st);
			goto out;
		}
		if (xport_mkdir(p->x, tk, 0700, &existed, cause) == -1) {
			struct xstat ls;
			char *c = NULL;

			free(owner);
			push_lock_state_free(&st);
			/* The lock went away in between (its holder finished): start over. */
			if (xport_lstat(p->x, p->lockdir, &ls, &c) == 0 && !ls.exists) {
				free(*cause);
				*cause = NULL;
				continue;
			}
			free(c);
			goto out;
		}
		if (existed) {
			struct push_lock_state ts;
			char *tdir = NULL;

			memset(&ts, 0, sizeof ts);
			/* Someone else is recovering this lock, or died doing so. */
			if (lock_read(p->x, tk, p->o->controller, p->o->pid, &ts, NULL, NULL,
			    cause) == -1) {
				free(owner);
				push_lock_state_free(&st);
				goto out;
			}
			if (force && ts.owner != PUSH_LOCK_ALIVE) {
				/* unlock: the admin says that run is dead too. */
				note(p, "removing the interrupted takeover %s (mxdeck pid %s on %s)",
				    tk, ts.pid ? ts.pid : "?", ts.controller ? ts.controller : "?");
				takeover_drop(p);
				push_lock_state_free(&ts);
				free(owner);
				push_lock_state_free(&st);
				continue;
			}
			p->lock_held = true;
			tdir = xasprintf("mxdeck pid %s on %s", ts.pid ? ts.pid : "?",
			    ts.controller ? ts.controller : "?");
			*cause = xasprintf("host %s: locked: %s is taking over the stale lock %s "
			    "(left by mxdeck pid %s on %s)%s", p->host->name, tdir, p->lockdir,
			    st.pid ? st.pid : "?", st.controller ? st.controller : "?",
			    ts.owner == PUSH_LOCK_ALIVE ? "; try again when it is done" :
			    "; that takeover did not finish: run `mxdeck unlock PROFILE --host "
			    "HOST`");
			free(tdir);
			push_lock_state_free(&ts);
			free(owner);
			push_lock_state_free(&st);
			goto out;
		}
		/* The takeover is ours. Is the owner still the dead run we looked at? */
		if (lock_write_owner(p, tko, cause) == -1 ||
		    read_small(p, opath, &again, &alen, cause) == -1) {
			takeover_drop(p);
			free(owner);
			push_lock_state_free(&st);
			goto out;
		}
		same = (owner == NULL && again == NULL) || (owner != NULL && again != NULL &&
		    olen == alen && memcmp(owner, again, olen) == 0);
		free(owner);
		free(again);
		if (!same) {
			/* Another run took it over and owns it now: look again. */
			takeover_drop(p);
			push_lock_state_free(&st);
			continue;
		}
		note(p, "stale lock %s: mxdeck pid %s on %s (since %s) is no longer running; "
		    "recovering it", p->lockdir, st.pid ? st.pid : "?",
		    st.controller ? st.controller : "?", st.since ? st.since : "?");
		push_lock_state_free(&st);
		if (recover(p, cause) == -1) {
			char *c = *cause;

			/* The lock stays with the dead run's transaction mark; the next run
			 * (or unlock) tries again. */
			*cause = xasprintf("%s (while recovering the stale lock %s; it stays)", c,
			    p->lockdir);
			free(c);
			takeover_drop(p);
			goto out;
		}
		/* Make the lock ours: owner, then the dead run's marks, then the takeover. */
		{
			const char *names[] = { "txn", "temps" };
			int r2 = lock_write_owner(p, opath, cause);

			for (size_t i = 0; i < nitems(names) && r2 == 0; i++) {
				char *path = lock_file(p, names[i]);

				r2 = xport_unlink(p->x, path, cause);
				free(path);
			}
			if (r2 == -1) {
				takeover_drop(p);
				goto out;
			}
		}
		p->locked = true;
		takeover_drop(p);
		note(p, "stale lock recovered");
		rc = 0;
		goto out;
	}
	p->lock_held = true;
	*cause = xasprintf("host %s: locked: %s changed hands while this run looked at it "
	    "(several runs at once?); try again", p->host->name, p->lockdir);
out:
	free(opath);
	free(tko);
	free(tk);
	return rc;
}

static int
lock_release(struct push *p, char **cause)
{
	const char *names[] = { "txn", "temps", "owner" };

	if (!p->locked)
		return 0;
	for (size_t i = 0; i < nitems(names); i++) {
		char *path = lock_file(p, names[i]);
		int rc = xport_unlink(p->x, path, cause);

		free(path);
		if (rc == -1)
			return -1;
	}
	if (xport_rmdir(p->x, p->lockdir, cause) == -1) {
		/* A run that looked at an older owner may be inside it for a moment
		 * (STATE/lock/takeover, removed at once when it sees us): once more. */
		free(*cause);
		*cause = NULL;
		usleep(200000);
		if (xport_rmdir(p->x, p->lockdir, cause) == -1)
			return -1;
	}
	p->locked = false;
	return 0;
}

/* ---- detection ---- */

static bool
have_prog(struct push *p, const char *name)
{
	const char *dirs[] = { "/usr/sbin", "/usr/bin", "/sbin", "/bin", "/usr/local/sbin" };

	for (size_t i = 0; i < nitems(dirs); i++) {
		char *path = xasprintf("%s/%s", dirs[i], name), *cause = NULL;
		struct xstat st;
		int rc = xport_lstat(p->x, path, &st, &cause);

		free(path);
		free(cause);
		if (rc == 0 && st.exists)
			return true;
	}
	return false;
}

/* Is the program of the service called name installed on the host? */
static bool
have_svc(const struct push *p, const char *name)
{
	int i = service_find(name);

	return i >= 0 && p->have[i];
}

static int
detect(struct push *p, char **detected, char **cause)
{
	*detected = NULL;
	for (size_t i = 0; i < nservices; i++)
		p->have[i] = have_prog(p, services[i].prog);
	if ((p->host->roles & ROLE_POSTFIX) && have_svc(p, "postfix") &&
	    p->host->postfix_version == NULL) {
		const char *argv[] = { "postconf", "-c", p->host->postfix_dir, "-h",
		    "mail_version", NULL };
		struct xres r;

		xres_init(&r);
		if (xport_exec(p->x, argv, NULL, 0, &r, cause) == -1) {
			xres_free(&r);
			return -1;
		}
		if (r.status == 0) {
			*detected = rp_mail_version(r.out.s, r.out.len);
			if (*detected == NULL && r.out.len > 0) {
				char *shown = rp_normalize(r.out.s, r.out.len > 80 ? 80 : r.out.len);
				char *safe = str_printable(shown);

				note(p, "postconf -h mail_version printed '%s', not a version: "
				    "rendering for Postfix %s", safe, POSTFIX_VERSION_DEFAULT);
				free(safe);
				free(shown);
			}
		} else
			note(p, "postconf -h mail_version failed (exit %d): rendering for Postfix %s",
			    r.status, POSTFIX_VERSION_DEFAULT);
		xres_free(&r);
	}
	return 0;
}

/* ---- plan ---- */

const char *const push_change_kinds[PC_COUNT] = {
	[PC_CREATE] = "create", [PC_MODIFY] = "modify", [PC_MODE] = "mode",
	[PC_LINK] = "link", [PC_RELINK] = "relink", [PC_POSTCONF] = "postconf",
	[PC_LOCK] = "lock",
};

/* A new change object of the result; its lines go through change_say. */
static struct push_change *
change_new(struct push *p, enum push_change_kind kind, const char *path)
{
	struct push_result *r = p->r;
	struct push_change *c;

	xgrow(&r->items, &r->capitems, r->nitems + 1, sizeof *r->items);
	c = &r->items[r->nitems++];
	memset(c, 0, sizeof *c);
	c->kind = kind;
	c->path = xstrdup(path);
	c->old_mode = c->new_mode = -1;
	sb_init(&c->diff);
	sb_add(&c->diff, "");
	return c;
}

/* One line of the human report (push_result.changes), also the object's summary. */
static void
change_say(struct push *p, struct push_change *c, char *line)
{
	char *s = c->summary == NULL ? xstrdup(line) : xasprintf("%s; %s", c->summary, line);

	free(c->summary);
	c->summary = s;
	strv_push_owned(&p->r->changes, line);
}

/* The object's diff is also the host's diff, in the same order as before. */
static void
change_diff_done(struct push *p, struct push_change *c)
{
	sb_addn(&p->r->diff, c->diff.s, c->diff.len);
}

static void
add_setting(struct push *p, enum skind kind, const char *line)
{
	struct setting *s;
	const char *eq = strchr(line, '=');
	char *k;

	if (eq == NULL)
		return;
	xgrow(&p->set, &p->capset, p->nset + 1, sizeof *p->set);
	s = &p->set[p->nset++];
	memset(s, 0, sizeof *s);
	s->kind = kind;
	s->line = xstrdup(line);
	k = xstrndup(line, (size_t)(eq - line));
	s->key = normalize(k);
	free(k);
	s->want = normalize(eq + 1);
	if (kind == S_MASTER) {
		/* -o parameters are the -P lines' business: compare the service only. */
		char *w = rp_strip_o(s->want);

		free(s->want);
		s->want = w;
	}
}

static struct setting *
find_setting(struct push *p, enum skind kind, const char *key)
{
	for (size_t i = 0; i < p->nset; i++)
		if (p->set[i].kind == kind && strcmp(p->set[i].key, key) == 0)
			return &p->set[i];
	return NULL;
}

/* Query the current values of every setting of one kind with one postconf call. */
static int
query_settings(struct push *p, enum skind kind, char **cause)
{
	struct strv argv = { 0 };
	struct xres r;
	struct rp_kvs kv = { 0 };
	size_t n = 0;

	strv_push(&argv, "postconf");
	strv_push(&argv, "-c");
	strv_push(&argv, p->host->postfix_dir);
	if (kind == S_MASTER)
		strv_push(&argv, "-M");
	if (kind == S_PARAM)
		strv_push(&argv, "-P");
	for (size_t i = 0; i < p->nset; i++)
		if (p->set[i].kind == kind) {
			strv_push(&argv, p->set[i].key);
			n++;
		}
	if (n == 0) {
		strv_free(&argv);
		return 0;
	}
	strv_push_owned(&argv, NULL);
	argv.n--;
	xres_init(&r);
	if (xport_exec(p->x, (const char *const *)argv.v, NULL, 0, &r, cause) == -1) {
		strv_free(&argv);
		xres_free(&r);
		return -1;
	}
	strv_free(&argv);
	if (r.status != 0) {
		*cause = xasprintf("host %s: postconf -c %s failed (exit %d): %s", p->host->name,
		    p->host->postfix_dir, r.status, r.err.s);
		xres_free(&r);
		return -1;
	}
	rp_postconf_parse(kind == S_MAIN ? RP_POSTCONF_MAIN : kind == S_MASTER ?
	    RP_POSTCONF_MASTER : RP_POSTCONF_PARAM, r.out.s, r.out.len, &kv);
	for (size_t i = 0; i < kv.n; i++) {
		struct setting *s = find_setting(p, kind, kv.v[i].key);

		if (s != NULL && s->have == NULL) {
			s->have = kv.v[i].value;
			kv.v[i].value = NULL;
		}
	}
	rp_kvs_free(&kv);
	xres_free(&r);
	return 0;
}

static const char *
kind_file(enum skind k)
{
	return k == S_MAIN ? "main.cf" : "master.cf";
}

static void
settings_diff(struct push *p)
{
	for (enum skind k = S_MAIN; k <= S_PARAM; k++) {
		struct sbuf a, b;
		char *label;
		bool any = false;

		sb_init(&a);
		sb_init(&b);
		sb_add(&a, "");
		sb_add(&b, "");
		const char *opt = k == S_MAIN ? "-e" : k == S_MASTER ? "-M" : "-P";
		struct push_change *c = NULL;

		for (size_t i = 0; i < p->nset; i++) {
			struct setting *s = &p->set[i];
			struct push_setting *ps;

			if (s->kind != k)
				continue;
			if (s->have != NULL)
				sb_addf(&a, "%s = %s\n", s->key, s->have);
			sb_addf(&b, "%s = %s\n", s->key, s->want);
			if (s->have == NULL || strcmp(s->have, s->want) != 0) {
				any = true;
				if (c == NULL) {
					char *path = xasprintf("%s/%s", p->host->postfix_dir,
					    kind_file(k));

					c = change_new(p, PC_POSTCONF, path);
					free(path);
					c->option = opt;
					c->settings = xcalloc(p->nset, sizeof *c->settings);
				}
				ps = &c->settings[c->nsettings++];
				ps->key = xstrdup(s->key);
				ps->old = s->have != NULL ? xstrdup(s->have) : NULL;
				ps->new = xstrdup(s->want);
				change_say(p, c, xasprintf("postconf %s %s: %s -> %s",
				    opt, s->key, s->have ? s->have : "(not set)", s->want));
			}
		}
		if (any) {
			label = xasprintf("%s/%s (postconf %s)", p->host->postfix_dir,
			    kind_file(k), opt);
			diff_unified(&c->diff, label, a.s, a.len, b.s, b.len);
			change_diff_done(p, c);
			free(label);
			p->settings_changed = true;
		}
		sb_free(&a);
		sb_free(&b);
	}
}

/* A symlink where the profile wants a file: never read through it (its target may be a
 * root-only file, and the old code backed that content up and restored it in place of
 * the link, mode 0777). Refused with the link and its target named. */
static void
refuse_link(struct push *p, const char *path, char **cause)
{
	char *target = NULL, *c = NULL, *safe;

	if (xport_readlink(p->x, path, &target, &c) == -1) {
		free(c);
		target = xstrdup("?");
	}
	safe = str_printable(target);
	p->refused = true;
	*cause = xasprintf("host %s: %s is a symlink to %s; mxdeck manages this path as a "
	    "regular file and never reads or writes through a link there: remove the link "
	    "(or replace it with a regular file) and run again", p->host->name, path, safe);
	free(safe);
	free(target);
}

/* An FK_LINK entry (mods-enabled/ssl.load -> ../mods-available/ssl.load): a missing link
 * is created, a link with another target is retargeted, anything else at the path is
 * refused; the link's target must exist on the host (the module is installed). */
static int
plan_link(struct push *p, struct item *it, char **cause)
{
	const struct rfile *f = it->f;
	struct xstat st, ts;
	char *dir, *resolved, *label_owned = NULL;
	const char *label = rfile_link_label(f, &label_owned);

	if (xport_lstat(p->x, f->path, &st, cause) == -1)
		goto fail;
	if (st.exists && !st.is_link) {
		p->refused = true;
		*cause = xasprintf("host %s: %s is a %s, not a symlink; mxdeck enables %s with a "
		    "symlink to %s there (as a2enmod/a2enconf do): move it away and run again",
		    p->host->name, f->path, st.is_dir ? "directory" : "regular file", label,
		    f->target);
		goto fail;
	}
	dir = dirname_of(f->path);
	resolved = xasprintf("%s/%s", dir, f->target);
	free(dir);
	if (xport_lstat(p->x, resolved, &ts, cause) == -1) {
		free(resolved);
		goto fail;
	}
	if (!ts.exists) {
		p->refused = true;
		*cause = xasprintf("host %s: cannot enable %s: %s does not exist on the host (not "
		    "installed: Debian's apache2 package ships every module mxdeck uses, "
		    "php*-fpm the conf of the same name); install it and run again",
		    p->host->name, label, resolved);
		free(resolved);
		goto fail;
	}
	free(resolved);
	it->missing = !st.exists;
	it->curuid = it->curgid = -1;
	if (st.exists && xport_readlink(p->x, f->path, &it->link_old, cause) == -1)
		goto fail;
	if (it->missing || strcmp(it->link_old, f->target) != 0) {
		struct push_change *c = change_new(p, it->missing ? PC_LINK : PC_RELINK,
		    f->path);

		it->changed = true;
		c->old_target = it->link_old != NULL ? xstrdup(it->link_old) : NULL;
		c->new_target = xstrdup(f->target);
		sb_addf(&c->diff, "# %s %s\n", it->missing ? "enable" : "re-enable", label);
		diff_unified(&c->diff, f->path, it->link_old,
		    it->link_old != NULL ? strlen(it->link_old) : 0, f->target,
		    strlen(f->target));
		change_diff_done(p, c);
		if (it->missing)
			change_say(p, c, xasprintf("enable %s: symlink %s -> %s",
			    label, f->path, f->target));
		else
			change_say(p, c, xasprintf("re-enable %s: symlink %s -> %s "
			    "(pointed to %s)", label, f->path, f->target, it->link_old));
	}
	free(label_owned);
	return 0;
fail:
	free(label_owned);
	return -1;
}

/* What the rendered configuration needs from the host beyond the files: the Dovecot
 * protocol packages (a pop3 listener without dovecot-pop3d is silently not started),
 * and php-fpm for the Autodiscover responder (a note: the responder answers 503
 * until it runs, the rest of the configuration is fine). Apache modules are FK_LINK
 * entries (plan_link); nginx's rendered directives are all built into Debian's nginx. */
static int
plan_host_needs(struct push *p, char **cause)
{
	const struct host *h = p->host;
	const struct site *site = p->site;

	if ((h->roles & ROLE_DOVECOT) && have_svc(p, "dovecot")) {
		static const struct {
			enum proto proto;
			const char *login, *package;
		} need[] = {
			{ PROTO_IMAP, "/usr/lib/dovecot/imap-login", "dovecot-imapd" },
			{ PROTO_POP3, "/usr/lib/dovecot/pop3-login", "dovecot-pop3d" },
		};
		unsigned used = site->user_default;

		for (size_t i = 0; i < site->nusers; i++)
			used |= site->users[i].protos;
		for (size_t i = 0; i < nitems(need); i++) {
			struct xstat st;

			if ((used & PROTO_BIT(need[i].proto)) == 0)
				continue;
			if (xport_lstat(p->x, need[i].login, &st, cause) == -1)
				return -1;
			if (!st.exists) {
				p->refused = true;
				*cause = xasprintf("host %s: the profile gives users %s, but the "
				    "host's Dovecot has no %s server (%s is missing): install the "
				    "package %s and run again", h->name,
				    proto_names[need[i].proto], proto_names[need[i].proto],
				    need[i].login, need[i].package);
				return -1;
			}
		}
	}
	if ((h->roles & ROLE_AUTODISCOVER) && site->nads > 0 &&
	    (h->roles & (ROLE_APACHE | ROLE_NGINX))) {
		const char *sock = render_fpm_socket(h);
		struct xstat st;

		if (sock[0] == '/') {
			if (xport_lstat(p->x, sock, &st, cause) == -1)
				return -1;
			if (!st.exists)
				note(p, "php-fpm socket %s does not exist on the host: the "
				    "Autodiscover responder answers 503 until php-fpm runs there "
				    "(Debian: apt-get install php8.2-fpm, or set php_fpm_socket)",
				    sock);
		}
	}
	return 0;
}

static int
plan(struct push *p, char **cause)
{
	p->items = xcalloc(p->fs.n, sizeof *p->items);
	p->nitems = p->fs.n;
	for (size_t i = 0; i < p->fs.n; i++) {
		struct item *it = &p->items[i];
		struct rfile *f = &p->fs.v[i];
		struct xstat st;

		it->f = f;
		sb_init(&it->cur);
		if (f->kind == FK_LINK) {
			if (plan_link(p, it, cause) == -1)
				return -1;
			continue;
		}
		if (xport_lstat(p->x, f->path, &st, cause) == -1)
			return -1;
		if (st.exists && st.is_dir) {
			p->refused = true;
			*cause = xasprintf("host %s: %s is a directory; mxdeck wants to write a file "
			    "there", p->host->name, f->path);
			return -1;
		}
		if (st.exists && st.is_link) {
			refuse_link(p, f->path, cause);
			return -1;
		}
		if (!st.exists)
			it->missing = true;
		else if (xport_read(p->x, f->path, &it->cur, &it->missing, cause) == -1)
			return -1;
		it->curmode = st.mode;
		it->curuid = st.uid;
		it->curgid = st.gid;
		if (it->missing) {
			struct push_change *c = change_new(p, PC_CREATE, f->path);

			it->changed = true;
			c->new_mode = (int)f->mode;
			sha256_hex(f->data.s, f->data.len, c->new_sha256);
			diff_unified(&c->diff, f->path, NULL, 0, f->data.s, f->data.len);
			change_diff_done(p, c);
			change_say(p, c, xasprintf("%s: new file (%04o)", f->path, f->mode));
		} else {
			struct sbuf d;
			size_t n;
			bool content;

			sb_init(&d);
			sb_add(&d, "");
			n = diff_unified(&d, f->path, it->cur.s, it->cur.len, f->data.s,
			    f->data.len);
			sb_addn(&p->r->diff, d.s, d.len);
			content = n > 0 || it->cur.len != f->data.len ||
			    memcmp(it->cur.s != NULL ? it->cur.s : "", f->data.s != NULL ?
			    f->data.s : "", f->data.len) != 0;
			if (content || it->curmode != f->mode) {
				struct push_change *c = change_new(p, content ? PC_MODIFY :
				    PC_MODE, f->path);

				it->changed = true;
				c->old_mode = (int)it->curmode;
				c->new_mode = (int)f->mode;
				sha256_hex(it->cur.s, it->cur.len, c->old_sha256);
				sha256_hex(f->data.s, f->data.len, c->new_sha256);
				sb_free(&c->diff);
				c->diff = d;
				sb_init(&d);
				if (content)
					change_say(p, c, xasprintf("%s: %zu line%s changed",
					    f->path, n, n == 1 ? "" : "s"));
				if (it->curmode != f->mode)
					change_say(p, c, xasprintf("%s: mode %04o -> %04o",
					    f->path, it->curmode, f->mode));
			}
			sb_free(&d);
		}
		if (f->symlink != NULL) {
			struct xstat ls;

			if (xport_lstat(p->x, f->symlink, &ls, cause) == -1)
				return -1;
			if (!ls.exists)
				it->link_missing = true;
			else if (ls.is_link) {
				if (xport_readlink(p->x, f->symlink, &it->link_old, cause) == -1)
					return -1;
			} else {
				*cause = xasprintf("host %s: %s exists and is not a symlink; mxdeck "
				    "wants a symlink to %s there", p->host->name, f->symlink, f->path);
				return -1;
			}
			{
				char *target = rfile_link_target(f);

				if (it->link_missing || strcmp(it->link_old, target) != 0) {
					struct push_change *c = change_new(p, it->link_missing ?
					    PC_LINK : PC_RELINK, f->symlink);

					it->link_changed = true;
					c->old_target = it->link_old != NULL ?
					    xstrdup(it->link_old) : NULL;
					c->new_target = xstrdup(target);
					/* not in the host's diff (as before): the object's own */
					diff_unified(&c->diff, f->symlink, it->link_old,
					    it->link_old != NULL ? strlen(it->link_old) : 0, target,
					    strlen(target));
					change_say(p, c, xasprintf("%s -> %s: "
					    "symlink %s", f->symlink, target,
					    it->link_missing ? "created" : "retargeted"));
				}
				free(target);
			}
		}
		if (f->kind == FK_POSTCONF || f->kind == FK_POSTCONF_M ||
		    f->kind == FK_POSTCONF_P) {
			struct strv lines = { 0 };
			enum skind k = f->kind == FK_POSTCONF ? S_MAIN :
			    f->kind == FK_POSTCONF_M ? S_MASTER : S_PARAM;

			merge_lines(f, &lines);
			for (size_t j = 0; j < lines.n; j++)
				add_setting(p, k, lines.v[j]);
			strv_free(&lines);
		}
	}
	if (plan_host_needs(p, cause) == -1)
		return -1;
	if (p->nset > 0) {
		if (!have_svc(p, "postfix")) {
			*cause = xasprintf("host %s: has role postfix but no postconf: is Postfix "
			    "installed?", p->host->name);
			return -1;
		}
		for (enum skind k = S_MAIN; k <= S_PARAM; k++)
			if (query_settings(p, k, cause) == -1)
				return -1;
		settings_diff(p);
	}
	return 0;
}

static bool
any_change(struct push *p)
{
	for (size_t i = 0; i < p->nitems; i++)
		if (p->items[i].changed || p->items[i].link_changed)
			return true;
	return p->settings_changed;
}

/* Which services[] row owns each changed file (services.c); d[i] for services[i]. */
static void
services_changed(struct push *p, bool d[])
{
	int postfix = service_find("postfix");

	memset(d, 0, sizeof(bool) * nservices);
	for (size_t i = 0; i < p->nitems; i++) {
		int k;

		if (!p->items[i].changed && !p->items[i].link_changed)
			continue;
		if (p->items[i].f->kind != FK_SCRIPT &&
		    (k = service_of(p->host, p->items[i].f->path)) >= 0)
			d[k] = true;
	}
	if (p->settings_changed && postfix >= 0)
		d[postfix] = true;
}

/* ---- backup and restore ---- */

static int
backup(struct push *p, char **cause)
{
	char *path;
	size_t n = 0;
	int rc = -1;

	p->backupdir = xasprintf("%s/backup/%s", p->host->state_dir, p->stamp);
	if (xport_mkdir_p(p->x, p->backupdir, 0700, NULL, cause) == -1)
		goto out;
	sb_init(&p->manifest);
	sb_add(&p->manifest, "");
	for (size_t i = 0; i < p->nitems; i++) {
		struct item *it = &p->items[i];

		if (it->changed && it->f->kind == FK_LINK) {
			/* Links are backed up as links: restore recreates or removes them. */
			if (it->missing) {
				sb_add(&p->manifest, "NL ");
			} else {
				sb_add(&p->manifest, "L ");
				rp_pct_encode(&p->manifest, it->link_old);
				sb_addc(&p->manifest, ' ');
			}
			rp_pct_encode(&p->manifest, it->f->path);
			sb_addc(&p->manifest, '\n');
		} else if (it->changed) {
			if (it->missing) {
				sb_add(&p->manifest, "N ");
				rp_pct_encode(&p->manifest, it->f->path);
				sb_addc(&p->manifest, '\n');
			} else {
				char *name = xasprintf("%zu", n++);

				path = xasprintf("%s/%s", p->backupdir, name);
				if (xport_write(p->x, path, it->cur.s, it->cur.len, 0600,
				    cause) == -1) {
					free(path);
					free(name);
					goto out;
				}
				free(path);
				sb_addf(&p->manifest, "F %o %s ", it->curmode, name);
				rp_pct_encode(&p->manifest, it->f->path);
				sb_addf(&p->manifest, " %ld %ld\n", it->curuid, it->curgid);
				free(name);
			}
		}
		if (it->link_changed) {
			if (it->link_missing) {
				sb_add(&p->manifest, "NL ");
				rp_pct_encode(&p->manifest, it->f->symlink);
			} else {
				sb_add(&p->manifest, "L ");
				rp_pct_encode(&p->manifest, it->link_old);
				sb_addc(&p->manifest, ' ');
				rp_pct_encode(&p->manifest, it->f->symlink);
			}
			sb_addc(&p->manifest, '\n');
		}
	}
	if (p->settings_changed) {
		const char *names[] = { "main.cf", "master.cf" };

		for (size_t i = 0; i < nitems(names); i++) {
			struct sbuf cur;
			struct xstat st;
			bool missing;
			char *name, *src = xasprintf("%s/%s", p->host->postfix_dir, names[i]);

			sb_init(&cur);
			if (xport_lstat(p->x, src, &st, cause) == -1) {
				sb_free(&cur);
				free(src);
				goto out;
			}
			if (st.exists && st.is_link) {
				refuse_link(p, src, cause);
				sb_free(&cur);
				free(src);
				goto out;
			}
			if (xport_read(p->x, src, &cur, &missing, cause) == -1) {
				sb_free(&cur);
				free(src);
				goto out;
			}
			if (missing) {
				sb_add(&p->manifest, "N ");
				rp_pct_encode(&p->manifest, src);
				sb_addc(&p->manifest, '\n');
				sb_free(&cur);
				free(src);
				continue;
			}
			name = xasprintf("%zu", n++);
			path = xasprintf("%s/%s", p->backupdir, name);
			rc = xport_write(p->x, path, cur.s, cur.len, 0600, cause);
			free(path);
			p->base[p->nbase].path = xstrdup(src);
			p->base[p->nbase++].data = cur;	/* kept to detect edits */
			if (rc == -1) {
				free(name);
				free(src);
				goto out;
			}
			rc = -1;
			sb_addf(&p->manifest, "F %o %s ", st.mode, name);
			rp_pct_encode(&p->manifest, src);
			sb_addf(&p->manifest, " %ld %ld\n", st.uid, st.gid);
			free(name);
			free(src);
		}
	}
	path = xasprintf("%s/manifest", p->backupdir);
	rc = xport_write(p->x, path, p->manifest.s, p->manifest.len, 0600, cause);
	free(path);
out:
	return rc;
}

/* The new content's hash a transaction mark recorded for path ("HEX PATH" lines), or
 * NULL. */
static const char *
post_hash(const struct strv *post, const char *path)
{
	for (size_t i = 0; post != NULL && i < post->n; i++)
		if (strcmp(post->v[i] + 65, path) == 0)
			return post->v[i];
	return NULL;
}

/* Recovery of a dead run's transaction: may the backup go back over path? Only when
 * the file is that run's new content (post). A file that is the old content already
 * needs nothing; any other content is a change made since: kept, and said so. */
static bool
restore_wanted(struct push *p, const struct strv *post, const char *path,
    const struct sbuf *old)
{
	const char *want = post_hash(post, path);
	struct sbuf cur;
	bool missing, ok;
	char *c = NULL, hex[65];

	if (want == NULL)
		return true;	/* no hash recorded (main.cf edited by postconf): as before */
	sb_init(&cur);
	if (xport_read(p->x, path, &cur, &missing, &c) == -1) {
		free(c);
		sb_free(&cur);
		return true;	/* the restore itself will fail and say why */
	}
	if (missing) {
		sb_free(&cur);
		if (old == NULL)
			return false;	/* a new file that is gone already */
		note(p, "%s is gone since the interrupted run: not restored from its backup "
		    "(look at it by hand)", path);
		return false;
	}
	sha256_hex(cur.s, cur.len, hex);
	ok = strncmp(hex, want, 64) == 0;
	if (!ok && old != NULL && old->len == cur.len && memcmp(old->s, cur.s, cur.len) == 0) {
		sb_free(&cur);
		return false;	/* already the old content */
	}
	sb_free(&cur);
	if (!ok)
		note(p, "%s was changed since the interrupted run (it is neither that run's old "
		    "nor its new content): kept as it is, not restored from the backup", path);
	return ok;
}

/* Put every file of a backup back. Tries everything; -1 with the list of failures.
 * post: the recovery of a dead run's transaction (see restore_wanted), else NULL. */
static int
restore(struct push *p, const char *backupdir, const struct strv *post, char **cause)
{
	char *mpath = xasprintf("%s/manifest", backupdir), *man = NULL;
	struct rp_manifest m = { 0 };
	struct sbuf fails;
	struct strv dirs = { 0 };
	size_t mlen;
	int rc = 0;

	if (read_small(p, mpath, &man, &mlen, cause) == -1) {
		free(mpath);
		return -1;
	}
	if (man == NULL) {
		*cause = xasprintf("host %s: backup %s has no manifest", p->host->name,
		    backupdir);
		free(mpath);
		return -1;
	}
	sb_init(&fails);
	sb_add(&fails, "");
	(void)rp_manifest_parse(man, mlen, &m);
	free(man);
	for (size_t i = 0; i < m.n; i++) {
		const struct rp_mentry *e = &m.v[i];
		char *c = NULL;

		switch (e->kind) {
		case RP_M_BAD:
			sb_addf(&fails, "\n  NOT RESTORED: %s line %zu is unreadable (%s)", mpath,
			    e->line, e->why);
			rc = -1;
			break;
		case RP_M_FILE: {
			char *src = xasprintf("%s/%s", backupdir, e->name);
			char *dir = dirname_of(e->path);
			char *tmp = xasprintf("%s/.mxdeck.%s.%ld.restore", dir,
			    basename_of(e->path), p->o->pid);
			struct sbuf data;
			bool missing;

			sb_init(&data);
			if (xport_read(p->x, src, &data, &missing, &c) == -1 ||
			    (missing && (c = xasprintf("%s is missing", src)) != NULL)) {
				sb_addf(&fails, "\n  NOT RESTORED %s: %s", e->path, c);
				free(c);
				rc = -1;
			} else if (post != NULL && !restore_wanted(p, post, e->path, &data)) {
				/* kept (noted) */
			} else if (xport_unlink(p->x, tmp, &c) == -1 ||
			    xport_write_new(p->x, tmp, data.s, data.len, e->mode, &c) == -1 ||
			    (e->uid >= 0 && xport_chown(p->x, tmp, e->uid, e->gid, &c) == -1) ||
			    xport_rename(p->x, tmp, e->path, &c) == -1) {
				sb_addf(&fails, "\n  NOT RESTORED %s: %s", e->path, c);
				free(c);
				rc = -1;
			}
			sb_free(&data);
			free(tmp);
			free(dir);
			free(src);
			break;
		}
		case RP_M_NEW:
		case RP_M_NEWLINK:
			if (e->kind == RP_M_NEW && post != NULL &&
			    !restore_wanted(p, post, e->path, NULL))
				break;
			if (xport_unlink(p->x, e->path, &c) == -1) {
				sb_addf(&fails, "\n  NOT REMOVED (it is new) %s: %s", e->path, c);
				free(c);
				rc = -1;
			}
			break;
		case RP_M_LINK: {
			/* A link next to the path, renamed over it: whatever is there now (the
			 * new link, a file) is replaced in one step, never followed. */
			char *dir = dirname_of(e->path);
			char *tmp = xasprintf("%s/.mxdeck.%s.%ld.restore", dir,
			    basename_of(e->path), p->o->pid);
			char *c2 = NULL;

			if (xport_unlink(p->x, tmp, &c2) == -1)
				free(c2);
			if (xport_symlink(p->x, e->target, tmp, &c) == -1 ||
			    xport_rename(p->x, tmp, e->path, &c) == -1) {
				sb_addf(&fails, "\n  NOT RESTORED symlink %s -> %s: %s", e->path,
				    e->target, c);
				free(c);
				rc = -1;
			}
			free(tmp);
			free(dir);
			break;
		}
		case RP_M_DIR:
			strv_push(&dirs, e->path);
			break;
		}
	}
	rp_manifest_free(&m);
	free(mpath);
	for (size_t i = dirs.n; i > 0; i--) {
		char *c = NULL;

		if (xport_rmdir(p->x, dirs.v[i - 1], &c) == -1)
			free(c);	/* not empty: someone else's files; leave it */
	}
	strv_free(&dirs);
	if (rc == -1)
		*cause = xasprintf("host %s: restoring backup %s failed:%s", p->host->name,
		    backupdir, fails.s);
	sb_free(&fails);
	return rc;
}

/* ---- upload, validate, rename ---- */

static void
stall(const char *point)
{
	const char *s = getenv("MXDECK_TEST_STALL");
	size_t n = strlen(point);

	/* Test hook, MXDECK_TEST_STALL=POINT[:SECONDS]: tests/integration/push-interrupt.sh
	 * and push-lock.sh cut the connection or kill us while we wait here. */
	if (s != NULL && strncmp(s, point, n) == 0 && (s[n] == '\0' || s[n] == ':'))
		sleep(s[n] == ':' ? (unsigned)atoi(s + n + 1) : 30);
}

static int
write_temps_list(struct push *p, char **cause)
{
	struct sbuf b;
	char *path;
	int rc;

	sb_init(&b);
	sb_add(&b, "");
	for (size_t i = 0; i < p->nitems; i++)
		if (p->items[i].tmp != NULL) {
			rp_pct_encode(&b, p->items[i].tmp);
			sb_addc(&b, '\n');
		}
	if (p->journal_tmp != NULL) {
		rp_pct_encode(&b, p->journal_tmp);
		sb_addc(&b, '\n');
	}
	path = lock_file(p, "temps");
	rc = xport_write(p->x, path, b.s, b.len, 0600, cause);
	free(path);
	sb_free(&b);
	return rc;
}

static int
upload(struct push *p, char **cause)
{
	size_t done = 0;

	for (size_t i = 0; i < p->nitems; i++) {
		struct item *it = &p->items[i];

		if (!it->changed || it->f->kind == FK_LINK)
			continue;
		{
			char *dir = dirname_of(it->f->path);

			it->tmp = xasprintf("%s/.mxdeck.%s.%ld.tmp", dir, basename_of(it->f->path),
			    p->o->pid);
			free(dir);
		}
	}
	if (write_temps_list(p, cause) == -1)
		return -1;
	for (size_t i = 0; i < p->nitems; i++) {
		struct item *it = &p->items[i];
		char *dir;
		size_t before = p->created.n;

		if (!it->changed || it->f->kind == FK_LINK)
			continue;
		dir = dirname_of(it->f->path);
		if (xport_mkdir_p(p->x, dir, 0755, &p->created, cause) == -1) {
			free(dir);
			return -1;
		}
		free(dir);
		for (size_t j = before; j < p->created.n; j++) {
			sb_add(&p->manifest, "D ");
			rp_pct_encode(&p->manifest, p->created.v[j]);
			sb_addc(&p->manifest, '\n');
		}
		/* A fresh name: whatever is there (a link planted at the temporary name)
		 * is removed, never written through. */
		if (xport_unlink(p->x, it->tmp, cause) == -1 ||
		    xport_write_new(p->x, it->tmp, it->f->data.s, it->f->data.len, it->f->mode,
		    cause) == -1)
			return -1;
		it->uploaded = true;
		/* A replaced file keeps its owner and group (root:postfix 0640 and such). */
		if (!it->missing && it->curuid >= 0 &&
		    xport_chown(p->x, it->tmp, it->curuid, it->curgid, cause) == -1)
			return -1;
		if (++done == 1)
			stall("upload");
		if (cancelled(p)) {
			*cause = xstrdup("interrupted (a signal) during the upload");
			return -1;
		}
	}
	for (size_t i = 0; i < p->nitems; i++) {
		struct item *it = &p->items[i];
		char *dir;

		if (it->f->kind == FK_LINK && it->changed)
			dir = dirname_of(it->f->path);
		else if (it->f->symlink == NULL || !it->link_changed)
			continue;
		else
			dir = dirname_of(it->f->symlink);
		if (xport_mkdir_p(p->x, dir, 0755, &p->created, cause) == -1) {
			free(dir);
			return -1;
		}
		free(dir);
	}
	if (p->created.n > 0) {
		/* The manifest learned about created directories: rewrite it. */
		char *path = xasprintf("%s/manifest", p->backupdir);
		int rc = xport_write(p->x, path, p->manifest.s, p->manifest.len, 0600, cause);

		free(path);
		return rc;
	}
	return 0;
}

static void
remove_temps(struct push *p)
{
	for (size_t i = 0; i < p->nitems; i++) {
		char *c = NULL;

		/* Also a temp whose write failed half-way (disk full): unlink ignores
		 * a name that does not exist. */
		if (p->items[i].tmp == NULL)
			continue;
		if (xport_unlink(p->x, p->items[i].tmp, &c) == -1)
			free(c);
		else
			p->items[i].uploaded = false;
	}
	for (size_t i = p->created.n; i > 0; i--) {
		char *c = NULL;

		if (xport_rmdir(p->x, p->created.v[i - 1], &c) == -1)
			free(c);
	}
}

/*
 * A batch: several commands run by one `sh -c` on the host, so that a step costs one
 * round trip and one process start, not one per file. Every command line in it comes
 * from sh_join() (quote.c); the text around it is constant. Step i fails the batch
 * with exit status 100 + i, which names the step in the error.
 */
struct batch {
	struct sbuf script;
	struct strv what;
};

static void
batch_init(struct batch *b)
{
	sb_init(&b->script);
	sb_add(&b->script, "");
	memset(&b->what, 0, sizeof b->what);
}

static void
batch_free(struct batch *b)
{
	sb_free(&b->script);
	strv_free(&b->what);
}

/* pre + quoted argv + post: pre/post are constant shell text with %d for the status. */
static void
batch_add_wrapped(struct batch *b, const char *what, const char *pre,
    const char *const *argv, const char *post)
{
	char *cmd = sh_join(argv);
	int code = 100 + (int)b->what.n;

	if (code > 250)
		fatal("batch too long");
	sb_add(&b->script, pre);
	sb_add(&b->script, cmd);
	sb_addf(&b->script, post, code);
	sb_addc(&b->script, '\n');
	strv_push(&b->what, what);
	free(cmd);
}

static void
batch_add(struct batch *b, const char *what, const char *const *argv)
{
	batch_add_wrapped(b, what, "", argv, " || exit %d");
}

static int
batch_run(struct push *p, struct batch *b, struct xres *r, char **cause)
{
	const char *argv[] = { "sh", "-c", b->script.s, NULL };
	int rc;

	if (b->what.n == 0)
		return 0;
	rc = xport_exec(p->x, argv, NULL, 0, r, cause);
	if (rc == 0 && r->status != 0) {
		size_t l = r->err.len ? r->err.len : r->out.len;
		const char *s = r->err.len ? r->err.s : r->out.s;
		size_t step = r->status >= 100 && (size_t)(r->status - 100) < b->what.n ?
		    (size_t)(r->status - 100) : (size_t)-1;

		while (l > 0 && s[l - 1] == '\n')
			l--;
		*cause = xasprintf("host %s: %s failed: %.*s", p->host->name,
		    step != (size_t)-1 ? b->what.v[step] : "a remote command", (int)l, s);
		rc = -1;
	}
	return rc;
}

static bool
setting_changed(const struct setting *s)
{
	return s->have == NULL || strcmp(s->have, s->want) != 0;
}

/* Only what differs is merged; but `postconf -M -e` rewrites a whole service entry,
 * dropping its -o options, so after any -M every -P line goes in again. */
static void
postconf_merge_batch_x(struct push *p, struct batch *b, const char *dir, bool cleanup)
{
	bool master_changed = false;

	for (size_t i = 0; i < p->nset; i++)
		if (p->set[i].kind == S_MASTER && setting_changed(&p->set[i]))
			master_changed = true;
	for (enum skind k = S_MAIN; k <= S_PARAM; k++) {
		struct strv argv = { 0 };
		size_t n = 0;
		char *what;

		strv_push(&argv, "postconf");
		strv_push(&argv, "-c");
		strv_push(&argv, dir);
		if (k == S_MASTER)
			strv_push(&argv, "-M");
		if (k == S_PARAM)
			strv_push(&argv, "-P");
		strv_push(&argv, "-e");
		for (size_t i = 0; i < p->nset; i++)
			if (p->set[i].kind == k && (setting_changed(&p->set[i]) ||
			    (k == S_PARAM && master_changed))) {
				strv_push(&argv, p->set[i].line);
				n++;
			}
		strv_push_owned(&argv, NULL);
		argv.n--;
		what = xasprintf("postconf -c %s%s -e", dir,
		    k == S_MAIN ? "" : k == S_MASTER ? " -M" : " -P");
		if (n > 0)
			batch_add_wrapped(b, what, "", (const char *const *)argv.v, cleanup ?
			    " || { rm -rf -- \"$0\"; exit %d; }" : " || exit %d");
		free(what);
		strv_free(&argv);
	}
}

static void
postconf_merge_batch(struct push *p, struct batch *b, const char *dir)
{
	postconf_merge_batch_x(p, b, dir, false);
}

/* The same on the stage: a failure removes the stage ($0 of the script). */
static void
postconf_merge_batch_cleanup(struct push *p, struct batch *b, const char *dir)
{
	postconf_merge_batch_x(p, b, dir, true);
}

/* Is this file used as a pcre:/regexp:/texthash: table by the merge files? */
static const char *
map_type(struct push *p, const char *path)
{
	const char *types[] = { "pcre:", "regexp:", "texthash:" };

	for (size_t i = 0; i < p->nset; i++)
		for (size_t t = 0; t < nitems(types); t++) {
			char *ref = xasprintf("%s%s", types[t], path);
			const char *hit = strstr(p->set[i].want, ref);
			size_t rl = strlen(ref);

			free(ref);
			if (hit != NULL && (hit[rl] == '\0' || hit[rl] == ',' || hit[rl] == ' '))
				return types[t];
		}
	return NULL;
}

/* Replace every temporary name in s by the file's real name (for messages). */
static char *
untemp(struct push *p, const char *s)
{
	struct sbuf m;

	sb_init(&m);
	sb_add(&m, "");
	while (*s != '\0') {
		size_t best = 0;
		const struct item *bi = NULL;

		for (size_t i = 0; i < p->nitems; i++) {
			const char *t = p->items[i].tmp;

			if (t != NULL && strncmp(s, t, strlen(t)) == 0 && strlen(t) > best) {
				best = strlen(t);
				bi = &p->items[i];
			}
		}
		if (bi != NULL) {
			sb_add(&m, bi->f->path);
			s += best;
		} else
			sb_addc(&m, *s++);
	}
	return sb_steal(&m);
}

/*
 * Before anything is renamed, in one batch: the merge applied to a copy of the Postfix
 * directory and `postfix check` on that copy, then every new map through postmap (a
 * table Postfix cannot parse only warns, so any warning fails).
 *
 * Postfix pauses before it reads a file modified within the last second (it lets a
 * writer finish: dict_load_file, dict_thash), which cost ~2 s per apply on each of the
 * staged main.cf and the fresh tables. The staged main.cf and master.cf (a throwaway
 * copy) are dated two seconds back; the tables are checked last, when they have aged.
 */
static int
validate_postfix_staged(struct push *p, char **cause)
{
	/* postfix-script cannot cd to a directory with a space in its name, so the stage
	 * is not under state_dir (which may have any name) but a fresh /tmp directory
	 * whose name has only safe characters; mkdir (not -p) fails if it exists. */
	char *stagedir = xasprintf("/tmp/mxdeck-stage.%ld.%08lx", p->o->pid,
	    (unsigned long)random_u32());
	char *stage = xasprintf("%s/postfix", stagedir);
	const char *rm[] = { "rm", "-rf", "--", stagedir, NULL };
	const char *mk[] = { "mkdir", "-m", "0700", "--", stagedir, NULL };
	const char *cp[] = { "cp", "-a", "-T", "--", p->host->postfix_dir, stage, NULL };
	const char *check[] = { "postfix", "-c", stage, "check", NULL };
	char *maincf = xasprintf("%s/main.cf", stage), *mastercf = xasprintf("%s/master.cf",
	    stage);
	const char *back[] = { "touch", "-d", "2 seconds ago", "--", maincf, mastercf, NULL };
	struct batch b;
	struct xres r;
	int rc;

	batch_init(&b);
	batch_add(&b, "creating the stage directory", mk);
	batch_add_wrapped(&b, "copying the Postfix directory to the stage", "", cp,
	    " || { rm -rf -- \"$0\"; exit %d; }");
	postconf_merge_batch_cleanup(p, &b, stage);
	batch_add_wrapped(&b, "dating the staged main.cf and master.cf back", "", back,
	    " || { rm -rf -- \"$0\"; exit %d; }");
	batch_add_wrapped(&b, "postfix check (of the staged configuration)", "", check,
	    " || { rm -rf -- \"$0\"; exit %d; }");
	batch_add(&b, "removing the stage", rm);
	for (size_t i = 0; i < p->nitems; i++) {
		struct item *it = &p->items[i];
		const char *type;
		char *map, *what;

		if (!it->changed || it->f->kind == FK_SCRIPT ||
		    service_of(p->host, it->f->path) != service_find("postfix"))
			continue;
		if ((type = map_type(p, it->f->path)) == NULL)
			continue;
		map = xasprintf("%s%s", type, it->tmp);
		what = xasprintf("Postfix %.*s table %s", (int)strlen(type) - 1, type,
		    it->f->path);
		{
			const char *argv[] = { "postmap", "-c", p->host->postfix_dir, "-q",
			    "mxdeck-validate", map, NULL };

			batch_add_wrapped(&b, what, "out=$(", argv, " 2>&1 >/dev/null); "
			    "[ $? -le 1 ] && [ -z \"$out\" ] || { printf '%%s\\n' \"$out\" >&2; "
			    "exit %d; }");
		}
		free(what);
		free(map);
	}
	/* $0 of the script is the stage, for the cleanup on failure. */
	{
		const char *argv[] = { "sh", "-c", b.script.s, stagedir, NULL };

		xres_init(&r);
		rc = xport_exec(p->x, argv, NULL, 0, &r, cause);
	}
	if (rc == 0 && r.status != 0) {
		size_t step = r.status >= 100 && (size_t)(r.status - 100) < b.what.n ?
		    (size_t)(r.status - 100) : (size_t)-1;
		char *msg = untemp(p, r.err.len ? r.err.s : r.out.s);
		size_t l = strlen(msg);

		while (l > 0 && msg[l - 1] == '\n')
			msg[--l] = '\0';
		*cause = xasprintf("host %s: Postfix rejects the new configuration: %s: %s",
		    p->host->name, step != (size_t)-1 ? b.what.v[step] : "validation", msg);
		free(msg);
		rc = -1;
	}
	xres_free(&r);
	batch_free(&b);
	free(maincf);
	free(mastercf);
	free(stage);
	free(stagedir);
	return rc;
}

/* Every changed service's check_sh on the configuration in place, in one batch (a
 * service checked on a staged copy before the renames is not checked again). */
static int
validate_in_place(struct push *p, const bool d[], bool staged_ok, char **cause)
{
	struct batch b;
	struct xres r;
	int rc;

	batch_init(&b);
	for (size_t i = 0; i < nservices; i++) {
		char *arg;

		if (!d[i] || (staged_ok && (services[i].flags & SVC_STAGED)))
			continue;
		arg = services[i].arg(p->host);
		{
			const char *argv[] = { "sh", "-c", services[i].check_sh, "sh", arg,
			    NULL };

			batch_add(&b, services[i].check_what, argv);
		}
		free(arg);
	}
	xres_init(&r);
	rc = batch_run(p, &b, &r, cause);
	xres_free(&r);
	batch_free(&b);
	return rc;
}

static int
rename_all(struct push *p, char **cause)
{
	struct batch b;
	struct xres r;
	bool first = getenv("MXDECK_TEST_STALL") != NULL &&
	    strncmp(getenv("MXDECK_TEST_STALL"), "rename", 6) == 0;
	int rc;

	batch_init(&b);
	for (size_t i = 0; i < p->nitems; i++) {
		struct item *it = &p->items[i];
		char *what;

		if (!it->changed || !it->uploaded)
			continue;
		if (first) {
			/* Test hook: one rename, then wait to be cut off. */
			if (xport_rename(p->x, it->tmp, it->f->path, cause) == -1) {
				batch_free(&b);
				return -1;
			}
			it->uploaded = false;
			first = false;
			stall("rename");
			continue;
		}
		what = xasprintf("renaming into %s", it->f->path);
		{
			const char *argv[] = { "mv", "-fT", "--", it->tmp, it->f->path, NULL };

			batch_add(&b, what, argv);
		}
		free(what);
	}
	for (size_t i = 0; i < p->nitems; i++) {
		struct item *it = &p->items[i];
		char *what, *owned = NULL;

		if (it->f->kind != FK_LINK || !it->changed)
			continue;
		what = xasprintf("enabling %s (symlink %s)", rfile_link_label(it->f, &owned),
		    it->f->path);
		{
			const char *argv[] = { "ln", "-sfn", "--", it->f->target, it->f->path,
			    NULL };

			batch_add(&b, what, argv);
		}
		free(owned);
		free(what);
	}
	for (size_t i = 0; i < p->nitems; i++) {
		struct item *it = &p->items[i];
		char *what;

		if (!it->link_changed)
			continue;
		what = xasprintf("symlink %s", it->f->symlink);
		{
			char *target = rfile_link_target(it->f);
			const char *argv[] = { "ln", "-sfn", "--", target, it->f->symlink,
			    NULL };

			batch_add(&b, what, argv);
			free(target);
		}
		free(what);
	}
	if (p->settings_changed)
		postconf_merge_batch(p, &b, p->host->postfix_dir);
	xres_init(&r);
	rc = batch_run(p, &b, &r, cause);
	xres_free(&r);
	batch_free(&b);
	if (rc == 0)
		for (size_t i = 0; i < p->nitems; i++)
			p->items[i].uploaded = false;
	return rc;
}

/* ---- reload ----
 * Each service's reload script (services.c: service_reload_script) exits 10 when its
 * daemon is not running (nothing to reload), 11 when the daemon's main process is gone
 * after the reload, 12 when it still runs its old configuration: the post-apply smoke
 * test (a daemon that dies on, or ignores, the new configuration is a failed apply).
 * Every changed service is reloaded in one batch; a line "reload K STATUS OUTPUT" tells
 * each one's result, K being its services[] index + 1. A daemon that is not running is
 * noted, not an error. */
static int
reload(struct push *p, const bool d[], bool rollback, char **cause)
{
	const struct host *h = p->host;
	struct sbuf script;
	struct rp_reloads st = { 0 };
	struct xres r;
	int rc = 0;

	sb_init(&script);
	sb_add(&script, "");
	for (size_t k = 0; k < nservices; k++) {
		char *arg, *body, *cmd;

		if (!d[k])
			continue;
		arg = services[k].arg(h);
		body = service_reload_script(k);
		{
			const char *argv[] = { "sh", "-c", body, "sh", arg, NULL };

			cmd = sh_join(argv);
		}
		/* $? of an assignment is its command substitution's status. */
		sb_addf(&script, "out=$(%s 2>&1); echo \"reload %zu $? $out\" | tr '\\n' ' '; "
		    "echo\n", cmd, k + 1);
		free(cmd);
		free(body);
		free(arg);
	}
	if (script.len == 0) {
		sb_free(&script);
		return 0;
	}
	{
		const char *argv[] = { "sh", "-c", script.s, NULL };

		xres_init(&r);
		if (xport_exec(p->x, argv, NULL, 0, &r, cause) == -1) {
			xres_free(&r);
			sb_free(&script);
			return -1;
		}
	}
	sb_free(&script);
	rp_reload_parse(r.out.s, r.out.len, &st);
	for (size_t i = 0; i < st.n; i++) {
		int kk = st.v[i].daemon - 1;
		const char *name;

		if (kk < 0 || (size_t)kk >= nservices || !d[kk])
			continue;
		name = services[kk].name;
		if (st.v[i].status == 10)
			note(p, "%s is not running: %s, reload skipped", name,
			    rollback ? "old files restored; start it by hand if it should "
			    "run" : "files are in place");
		else if (st.v[i].status != 0) {
			if (rc == 0)
				*cause = xasprintf("host %s: %s reload failed (exit %d): %s",
				    h->name, name, st.v[i].status, st.v[i].out);
			rc = -1;
		} else
			note(p, "%s reloaded%s", name, rollback ? " (old files)" : "");
	}
	rp_reloads_free(&st);
	xres_free(&r);
	return rc;
}

/* ---- journal ----
 * STATE/journal gets one line per apply: time, host, profile hash, backup, the changed
 * files and the sha256 of each one's new content (post=, in the same order). The whole
 * new journal is written to STATE/.journal.PID.tmp before the first rename: a journal
 * that cannot be written (disk full) fails the apply while nothing has moved. The
 * rename over STATE/journal after the reload commits it, and marks the transaction
 * complete for a later recovery. */

static int
journal_prepare(struct push *p, char **cause)
{
	char *path = xasprintf("%s/journal", p->host->state_dir);
	char *now = utc_stamp("%Y-%m-%dT%H:%M:%SZ");
	struct sbuf b;
	bool missing, first = true;
	int rc = -1;

	sb_init(&b);
	if (xport_read(p->x, path, &b, &missing, cause) == -1)
		goto out;
	if (missing)
		sb_add(&b, "");
	if (b.len > 0 && b.s[b.len - 1] != '\n')
		sb_addc(&b, '\n');
	sb_addf(&b, "%s apply host=", now);
	rp_pct_encode(&b, p->host->name);
	sb_addf(&b, " profile=%s backup=", p->o->profile_hash ? p->o->profile_hash : "-");
	rp_pct_encode(&b, p->backupdir);
	sb_addf(&b, " changes=%zu", p->r->changes.n);
	for (size_t i = 0; i < p->nitems; i++)
		if (p->items[i].changed) {
			sb_addc(&b, ' ');
			rp_pct_encode(&b, p->items[i].f->path);
		}
	for (size_t i = 0; i < p->nitems; i++)
		if (p->items[i].changed) {
			char hex[65];

			sha256_hex(p->items[i].f->data.s, p->items[i].f->data.len, hex);
			sb_addf(&b, "%s%s", first ? " post=" : ",", hex);
			first = false;
		}
	sb_addc(&b, '\n');
	rc = xport_write(p->x, p->journal_tmp, b.s, b.len, 0600, cause);
out:
	sb_free(&b);
	free(now);
	free(path);
	return rc;
}

static int
journal_commit(struct push *p, char **cause)
{
	char *path = xasprintf("%s/journal", p->host->state_dir);
	int rc = xport_rename(p->x, p->journal_tmp, path, cause);

	free(path);
	return rc;
}

/* The transaction mark: the backup directory, then "POST HEX PATH" for every file
 * the transaction writes (its new content), for a recovery that must not restore
 * over later changes. */
static int
txn_mark(struct push *p, char **cause)
{
	struct sbuf b, line;
	char *path = lock_file(p, "txn");
	int rc;

	sb_init(&b);
	rp_pct_encode(&b, p->backupdir);
	sb_addc(&b, '\n');
	for (size_t i = 0; i < p->nitems; i++) {
		char hex[65];

		if (!p->items[i].changed)
			continue;
		sha256_hex(p->items[i].f->data.s, p->items[i].f->data.len, hex);
		sb_init(&line);
		sb_addf(&line, "POST %s %s", hex, p->items[i].f->path);
		rp_pct_encode(&b, line.s);
		sb_addc(&b, '\n');
		sb_free(&line);
	}
	rc = xport_write(p->x, path, b.s, b.len, 0600, cause);
	free(path);
	sb_free(&b);
	return rc;
}

/* ---- pruning old backups ----
 * After a successful apply: keep this run's backup and the newest keep_backups - 1 others
 * under STATE/backup, remove the rest. Only names push makes (STAMP-PID) are touched,
 * only real directories are listed (find -type d does not follow or list symlinks), a
 * backup root that is a symlink is left alone, and rm -rf removes a symlink inside a
 * backup, never what it points to. A failure here is a note: the apply stands. */

static void
prune_backups(struct push *p)
{
	char *root = xasprintf("%s/backup", p->host->state_dir), *cause = NULL;
	const char *list[] = { "find", root, "-mindepth", "1", "-maxdepth", "1", "-type", "d",
	    "-print0", NULL };
	size_t keep = p->host->keep_backups >= 1 ? (size_t)p->host->keep_backups : 10;
	struct strv names = { 0 }, old = { 0 };
	struct sbuf gone;
	struct batch b;
	struct xstat st;
	struct xres r;
	size_t drop;

	xres_init(&r);
	batch_init(&b);
	sb_init(&gone);
	sb_add(&gone, "");
	if (xport_lstat(p->x, root, &st, &cause) == -1) {
		note(p, "old backups not pruned: %s", cause);
		goto out;
	}
	if (!st.exists || !st.is_dir || st.is_link) {
		note(p, "old backups not pruned: %s is not a directory (a symlink?); look at "
		    "it by hand", root);
		goto out;
	}
	if (xport_run(p->x, list, &r, &cause) == -1) {
		note(p, "old backups not pruned: listing %s failed: %s", root, cause);
		goto out;
	}
	rp_backup_names(r.out.s, r.out.len, root, &names);
	for (size_t i = 0; i < names.n; i++)
		if (strcmp(names.v[i], p->stamp) != 0)
			strv_push(&old, names.v[i]);
	/* This run's backup is one of the kept ones. */
	drop = old.n + 1 > keep ? old.n + 1 - keep : 0;
	for (size_t i = 0; i < drop; i++) {
		char *path = xasprintf("%s/%s", root, old.v[i]);
		char *what = xasprintf("removing the old backup %s", path);
		const char *argv[] = { "rm", "-rf", "--", path, NULL };

		batch_add(&b, what, argv);
		sb_addf(&gone, "%s%s", i > 0 ? ", " : "", old.v[i]);
		free(what);
		free(path);
	}
	if (drop == 0)
		goto out;
	xres_free(&r);
	xres_init(&r);
	if (batch_run(p, &b, &r, &cause) == -1)
		note(p, "old backups not pruned (keep_backups = %zu): %s", keep, cause);
	else
		note(p, "removed %zu old backup%s from %s (keep_backups = %zu): %s", drop,
		    drop == 1 ? "" : "s", root, keep, gone.s);
out:
	free(cause);
	sb_free(&gone);
	batch_free(&b);
	xres_free(&r);
	strv_free(&old);
	strv_free(&names);
	free(root);
}

/* ---- the protocol ---- */

void
push_result_init(struct push_result *r)
{
	memset(r, 0, sizeof *r);
	sb_init(&r->diff);
	sb_add(&r->diff, "");
}

void
push_result_free(struct push_result *r)
{
	free(r->summary);
	sb_free(&r->diff);
	strv_free(&r->changes);
	for (size_t i = 0; i < r->nitems; i++) {
		struct push_change *c = &r->items[i];

		free(c->path);
		free(c->summary);
		free(c->old_target);
		free(c->new_target);
		for (size_t j = 0; j < c->nsettings; j++) {
			free(c->settings[j].key);
			free(c->settings[j].old);
			free(c->settings[j].new);
		}
		free(c->settings);
		sb_free(&c->diff);
	}
	free(r->items);
	strv_free(&r->notes);
	free(r->postfix_version);
	free(r->backup);
	free(r->tlsa_refused);
	free(r->tlsa_forced);
	memset(r, 0, sizeof *r);
}

static void
finish(struct push *p, int exitcode, char *summary)
{
	free(p->r->summary);
	p->r->exit = exitcode;
	p->r->summary = summary;
}

/* After a failure past the first rename: put the backup back, reload what was
 * reloaded, and say exactly where the host stands. */
static void
roll_back(struct push *p, const bool d[], const char *why)
{
	char *c = NULL;
	bool again = p->settings_changed;

	if (restore(p, p->backupdir, NULL, &c) == -1) {
		finish(p, PUSH_ROLLBACK_FAILED, xasprintf("APPLY FAILED AND ROLLBACK FAILED: %s; "
		    "%s; the host has a MIX of old and new files: the files listed as NOT "
		    "RESTORED are the new version, every other changed file is back to its "
		    "old version; the backup is in %s (manifest lists every file); the lock "
		    "%s stays so that no other run touches the host", why, c, p->backupdir,
		    p->lockdir));
		free(c);
		p->locked = false;	/* keep the lock: a human must look */
		return;
	}
	for (size_t i = 0; i < nservices; i++)
		if (d[i] && !(services[i].flags & SVC_ROLLBACK_RELOAD_SETTINGS))
			again = true;
	if (again) {
		if (reload(p, d, true, &c) == -1) {
			finish(p, PUSH_ROLLBACK_FAILED, xasprintf("APPLY FAILED AND ROLLBACK "
			    "FAILED: %s; the old files are back in place (backup %s) but the "
			    "reload after restoring failed: %s", why, p->backupdir, c));
			free(c);
			return;
		}
	}
	finish(p, PUSH_ROLLEDBACK, xasprintf("apply failed and was rolled back: %s; every "
	    "changed file was restored from %s", why, p->backupdir));
}

/* Can we still talk to the host? */
static bool
alive(struct push *p)
{
	char *c = NULL;
	struct xstat st;
	bool ok = xport_lstat(p->x, p->host->state_dir, &st, &c) == 0;

	free(c);
	return ok;
}

/* A step before any change failed (detect, plan, reading the certificate): the host is
 * unreachable only when the transport is gone. A local host is always there, and a host
 * that still answers had a command or a file fail: say "failed" with its output. */
static void
fail_before_change(struct push *p, char *cause)
{
	if (!p->host->local && !alive(p)) {
		finish(p, PUSH_UNREACHABLE, cause);
		return;
	}
	p->r->failed = true;
	if (p->o->mode == PUSH_APPLY) {
		finish(p, PUSH_ROLLEDBACK, xasprintf("nothing was changed: %s", cause));
		free(cause);
	} else
		finish(p, PUSH_DRIFT, cause);
}

/* Before the rename: is every file we are about to replace still what the plan read?
 * An admin's edit made while this apply ran must not be overwritten. */
static int
unchanged_since_plan(struct push *p, char **cause)
{
	for (size_t i = 0; i < p->nitems; i++) {
		struct item *it = &p->items[i];
		struct sbuf now;
		bool missing, same;
		struct xstat st;

		if (!it->changed)
			continue;
		if (xport_lstat(p->x, it->f->path, &st, cause) == -1)
			return -1;
		if (it->f->kind == FK_LINK || (st.exists && st.is_link)) {
			char *t = NULL;

			if (st.exists && st.is_link &&
			    xport_readlink(p->x, it->f->path, &t, cause) == -1)
				return -1;
			same = it->f->kind == FK_LINK && st.exists == !it->missing &&
			    (!st.exists || (st.is_link && strcmp(t, it->link_old) == 0));
			free(t);
			if (!same) {
				*cause = xasprintf("host %s: %s was changed on the host while this "
				    "apply ran (by someone else?); it is left as it is: run plan "
				    "again", p->host->name, it->f->path);
				return -1;
			}
			continue;
		}
		sb_init(&now);
		if (xport_read(p->x, it->f->path, &now, &missing, cause) == -1) {
			sb_free(&now);
			return -1;
		}
		same = missing == it->missing && (missing || (now.len == it->cur.len &&
		    memcmp(now.s, it->cur.s, now.len) == 0));
		sb_free(&now);
		if (!same) {
			*cause = xasprintf("host %s: %s was changed on the host while this apply "
			    "ran (by someone else?); it is left as it is: run plan again",
			    p->host->name, it->f->path);
			return -1;
		}
	}
	for (size_t i = 0; i < p->nbase; i++) {
		struct sbuf now;
		bool missing, same;

		sb_init(&now);
		if (xport_read(p->x, p->base[i].path, &now, &missing, cause) == -1) {
			sb_free(&now);
			return -1;
		}
		same = !missing && now.len == p->base[i].data.len &&
		    memcmp(now.s, p->base[i].data.s, now.len) == 0;
		sb_free(&now);
		if (!same) {
			*cause = xasprintf("host %s: %s was changed on the host while this apply "
			    "ran (by someone else?); it is left as it is: run plan again",
			    p->host->name, p->base[i].path);
			return -1;
		}
	}
	return 0;
}

static void
apply(struct push *p)
{
	char *cause = NULL;
	bool d[SVC_MAX], staged = false;

	services_changed(p, d);
	for (size_t i = 0; i < nservices; i++) {
		if (d[i] && !p->have[i]) {
			finish(p, PUSH_ROLLEDBACK, xasprintf("host %s: cannot validate: %s is "
			    "not installed; nothing was changed", p->host->name,
			    services[i].tool));
			return;
		}
		if (d[i] && (services[i].flags & SVC_STAGED))
			staged = true;
	}
	p->stamp = utc_stamp("%Y%m%dT%H%M%SZ");
	{
		char *s = xasprintf("%s-%ld", p->stamp, p->o->pid);

		free(p->stamp);
		p->stamp = s;
	}
	p->journal_tmp = xasprintf("%s/.journal.%ld.tmp", p->host->state_dir, p->o->pid);
	stage(p, "backing up");
	if (backup(p, &cause) == -1)
		goto before_rename;
	if (cancelled(p)) {
		cause = xstrdup("interrupted (a signal) after the backup");
		goto before_rename;
	}
	stage(p, "uploading");
	if (upload(p, &cause) == -1)
		goto before_rename;
	stage(p, "validating");
	if (staged && validate_postfix_staged(p, &cause) == -1) {
		if (!alive(p))
			goto before_rename;
		remove_temps(p);
		finish(p, PUSH_ROLLEDBACK, xasprintf("validation failed, nothing was changed "
		    "(the new files were never put in place): %s", cause));
		free(cause);
		return;
	}
	if (unchanged_since_plan(p, &cause) == -1)
		goto before_rename;
	if (journal_prepare(p, &cause) == -1) {
		char *c = cause;

		cause = xasprintf("the journal entry cannot be written (%s): without it a "
		    "later recovery could not tell that this apply completed", c);
		free(c);
		goto before_rename;
	}
	stall("journal-ready");
	/* The last point where a signal stops this host with nothing changed. */
	if (cancelled(p)) {
		cause = xstrdup("interrupted (a signal) before the first rename");
		goto before_rename;
	}
	if (txn_mark(p, &cause) == -1)
		goto before_rename;
	p->r->backup = xstrdup(p->backupdir);
	stage(p, "renaming");
	if (rename_all(p, &cause) == -1) {
		roll_back(p, d, cause);
		free(cause);
		return;
	}
	if (validate_in_place(p, d, staged, &cause) == -1) {
		char *why = xasprintf("validation failed: %s", cause);

		free(cause);
		roll_back(p, d, why);
		free(why);
		return;
	}
	stage(p, "reloading");
	if (reload(p, d, false, &cause) == -1) {
		roll_back(p, d, cause);
		free(cause);
		return;
	}
	if (journal_commit(p, &cause) == -1) {
		if (!alive(p)) {
			p->locked = false;	/* cannot release; the next run recovers it */
			finish(p, PUSH_UNREACHABLE, xasprintf("the new files are in place and "
			    "reloaded, but the connection was lost while the journal entry was "
			    "committed (%s): the lock %s and its transaction mark remain; the "
			    "next apply (or mxdeck unlock) keeps the new files if the journal "
			    "has the entry, else rolls this transaction back from %s", cause,
			    p->lockdir, p->backupdir));
		} else {
			char *why = xasprintf("the journal entry could not be committed: %s",
			    cause);

			roll_back(p, d, why);
			free(why);
		}
		free(cause);
		return;
	}
	p->r->applied = true;
	stall("journal");
	{
		/* The transaction is complete: its mark goes first, and only then is it a
		 * success (a mark left behind would make a later run recover it). */
		char *path = lock_file(p, "txn");
		int rc = xport_unlink(p->x, path, &cause);

		free(path);
		if (rc == -1) {
			p->locked = false;
			finish(p, PUSH_UNREACHABLE, xasprintf("applied (the journal records it, backup %s), but the "
			    "transaction mark %s/txn could not be removed: %s; the lock %s "
			    "remains: the next apply or `mxdeck unlock %s --host %s` removes it "
			    "and restores nothing", p->backupdir, p->lockdir, cause, p->lockdir,
			    p->o->profile ? p->o->profile : "PROFILE", p->host->name));
			free(cause);
			return;
		}
	}
	prune_backups(p);
	finish(p, PUSH_OK, xasprintf("applied %zu change%s (backup %s)", p->r->changes.n,
	    p->r->changes.n == 1 ? "" : "s", p->backupdir));
	return;

before_rename:
	remove_temps(p);
	{
		/* Could we still talk to the host? If not, it is unreachable now. */
		if (!alive(p)) {
			p->locked = false;	/* cannot release; the next run recovers it */
			finish(p, PUSH_UNREACHABLE, xasprintf("connection lost before any file "
			    "was put in place: the host's files are unchanged; temporary files "
			    "and the lock %s remain and the next run removes them (%s)",
			    p->lockdir, cause));
		} else if (cancelled(p)) {
			p->r->interrupted = true;
			finish(p, PUSH_ROLLEDBACK, xasprintf("stopped before any file was put in "
			    "place; nothing was changed: %s", cause));
		} else
			finish(p, PUSH_ROLLEDBACK, xasprintf("apply failed before any file was put "
			    "in place; nothing was changed: %s", cause));
	}
	if (p->journal_tmp != NULL) {
		char *c = NULL;

		if (xport_unlink(p->x, p->journal_tmp, &c) == -1)
			free(c);
	}
	free(cause);
}

static void
push_free(struct push *p)
{
	for (size_t i = 0; i < p->nitems; i++) {
		sb_free(&p->items[i].cur);
		free(p->items[i].link_old);
		free(p->items[i].tmp);
	}
	free(p->items);
	for (size_t i = 0; i < p->nset; i++) {
		free(p->set[i].line);
		free(p->set[i].key);
		free(p->set[i].want);
		free(p->set[i].have);
	}
	free(p->set);
	fileset_free(&p->fs);
	free(p->lockdir);
	free(p->journal_tmp);
	free(p->stamp);
	free(p->backupdir);
	sb_free(&p->manifest);
	strv_free(&p->created);
	for (size_t i = 0; i < p->nbase; i++) {
		free(p->base[i].path);
		sb_free(&p->base[i].data);
	}
}

/* plan and audit: a lock or transaction mark left on the host is drift (with what to
 * do); a lock held by a running apply is a note. */
static void
lock_drift(struct push *p)
{
	struct push_lock_state st;
	char *cause = NULL, *d;

	if (lock_read(p->x, p->lockdir, p->o->controller, p->o->pid, &st, NULL, NULL,
	    &cause) == -1) {
		note(p, "cannot look at the lock %s: %s", p->lockdir, cause);
		free(cause);
		return;
	}
	d = push_lock_describe(p->host, &st, p->o->profile);
	if (d != NULL && st.owner == PUSH_LOCK_ALIVE)
		note(p, "%s", d);
	else if (d != NULL)
		change_say(p, change_new(p, PC_LOCK, p->lockdir),
		    xasprintf("lock left behind: %s", d));
	free(d);
	push_lock_state_free(&st);
}

/* `mxdeck unlock`: take over the lock of a dead run (from any machine, but never from
 * a run alive on this one), finish or roll back its transaction, release the lock. */
static void
unlock(struct push *p)
{
	struct push_lock_state st;
	char *cause = NULL, *d;

	if (lock_read(p->x, p->lockdir, p->o->controller, p->o->pid, &st, NULL, NULL,
	    &cause) == -1) {
		finish(p, PUSH_UNREACHABLE, cause);
		return;
	}
	if (st.owner == PUSH_LOCK_NONE) {
		finish(p, PUSH_OK, xasprintf("not locked (%s does not exist): nothing to do",
		    p->lockdir));
		push_lock_state_free(&st);
		return;
	}
	if (st.owner == PUSH_LOCK_ALIVE) {
		d = push_lock_describe(p->host, &st, p->o->profile);
		p->r->locked = true;
		finish(p, PUSH_UNREACHABLE, xasprintf("refused: %s; that run is alive on this "
		    "machine: let it finish (or stop it with SIGTERM, which finishes or rolls "
		    "back its hosts and releases the lock)", d));
		free(d);
		push_lock_state_free(&st);
		return;
	}
	push_lock_state_free(&st);
	stage(p, "recovering");
	if (lock_take(p, true, &cause) == -1) {
		p->r->locked = p->lock_held;
		finish(p, p->lock_held || !alive(p) ? PUSH_UNREACHABLE : PUSH_ROLLBACK_FAILED,
		    cause);
		return;
	}
	if (lock_release(p, &cause) == -1) {
		finish(p, PUSH_UNREACHABLE, xasprintf("the dead run's transaction was dealt "
		    "with, but the lock could not be released: %s", cause));
		free(cause);
		return;
	}
	finish(p, PUSH_OK, xasprintf("unlocked: %s removed after its transaction was "
	    "finished or rolled back (see the notes)", p->lockdir));
}

void
push_host(const struct site *site, const struct host *host, const struct push_opts *o,
    struct push_result *r)
{
	struct push p;
	struct render_ctx ctx;
	char *cause = NULL, *detected = NULL, *pem = NULL;
	struct timespec t0, t1;
	bool readonly = o->mode == PUSH_AUDIT;

	clock_gettime(CLOCK_MONOTONIC, &t0);
	memset(&p, 0, sizeof p);
	p.site = site;
	p.host = host;
	p.o = o;
	p.r = r;
	sb_init(&p.manifest);
	p.lockdir = xasprintf("%s/lock", host->state_dir);

	stage(&p, "connecting");
	if (host->local)
		p.x = xport_local_open(host->name, NULL, readonly);
	else {
		struct xport_ssh_opts so = {
			.known_hosts = o->known_hosts,
			.identity = o->identity,
			.ssh_config = o->ssh_config,
			.may_prompt = o->may_prompt,
			.accept_new = o->accept_new,
			.readonly = readonly,
			.connect_timeout = o->connect_timeout,
			.timeout = o->timeout,
		};

		p.x = xport_ssh_open(host, &so, &cause);
		if (p.x == NULL) {
			finish(&p, PUSH_UNREACHABLE, cause);
			goto out;
		}
	}
	if (cancelled(&p)) {
		r->interrupted = true;
		finish(&p, PUSH_ROLLEDBACK, xstrdup("stopped before the lock was taken; nothing "
		    "was changed"));
		goto out;
	}
	if (o->mode == PUSH_UNLOCK) {
		unlock(&p);
		goto out;
	}
	if (o->mode == PUSH_APPLY && lock_take(&p, false, &cause) == -1) {
		r->locked = p.lock_held;
		if (p.lock_held || !alive(&p))
			finish(&p, PUSH_UNREACHABLE, cause);
		else {
			finish(&p, PUSH_ROLLEDBACK, xasprintf("cannot take the lock, nothing was "
			    "changed: %s", cause));
			free(cause);
		}
		goto out;
	}
	if (o->mode == PUSH_APPLY) {
		stage(&p, "locked");
		stall("locked");
	}
	if (detect(&p, &detected, &cause) == -1) {
		fail_before_change(&p, cause);
		goto out;
	}
	stage(&p, "planning");
	memset(&ctx, 0, sizeof ctx);
	ctx.site = site;
	ctx.host = host;
	ctx.postfix_version = host->postfix_version != NULL ? host->postfix_version :
	    detected != NULL ? detected : POSTFIX_VERSION_DEFAULT;
	r->postfix_version = xstrdup(ctx.postfix_version);
	if (site->tls.certificate != NULL && access(site->tls.certificate, R_OK) == -1) {
		struct sbuf b;
		bool missing;

		sb_init(&b);
		if (xport_read(p.x, site->tls.certificate, &b, &missing, &cause) == -1) {
			sb_free(&b);
			fail_before_change(&p, cause);
			goto out;
		}
		if (!missing)
			pem = sb_steal(&b);
		sb_free(&b);
	}
	ctx.tls_cert_pem = pem;
	if (render_host(&ctx, &p.fs, &cause) == -1) {
		finish(&p, PUSH_BADPROFILE, cause);
		goto out;
	}
	if (plan(&p, &cause) == -1) {
		if (p.refused)	/* the host answered: a step failed, not the connection */
			p.r->failed = true;
		if (p.refused && o->mode == PUSH_APPLY) {
			finish(&p, PUSH_ROLLEDBACK, xasprintf("refused, nothing was changed: %s",
			    cause));
			free(cause);
		} else if (p.refused) {
			finish(&p, PUSH_DRIFT, xasprintf("cannot plan: %s", cause));
			free(cause);
		} else
			fail_before_change(&p, cause);
		goto out;
	}
	{
		/* The TLSA gate: a new certificate or key only when DNS publishes it. */
		const struct setting *sc = find_setting(&p, S_MAIN, "smtpd_tls_cert_file");
		const struct setting *sk = find_setting(&p, S_MAIN, "smtpd_tls_key_file");
		struct tlsa_gate_in gi = {
			.cert_have = sc != NULL ? sc->have : NULL,
			.cert_want = sc != NULL ? sc->want : NULL,
			.key_have = sk != NULL ? sk->have : NULL,
			.key_want = sk != NULL ? sk->want : NULL,
		};

		if (tlsa_gate(p.x, site, host, o, &gi, r, &cause) == -1) {
			r->failed = true;
			finish(&p, PUSH_DRIFT, cause);
			goto out;
		}
	}
	if (o->mode != PUSH_APPLY)
		lock_drift(&p);
	if (o->mode == PUSH_APPLY && cancelled(&p)) {
		r->interrupted = true;
		finish(&p, PUSH_ROLLEDBACK, xstrdup("stopped after planning, before any change; "
		    "nothing was changed"));
	} else if (!any_change(&p) && r->changes.n == 0)
		finish(&p, PUSH_OK, xstrdup("no changes"));
	else if (o->mode != PUSH_APPLY)
		finish(&p, PUSH_DRIFT, xasprintf("%zu change%s", r->changes.n,
		    r->changes.n == 1 ? "" : "s"));
	else
		apply(&p);
out:
	if (p.x != NULL) {
		if (p.locked && lock_release(&p, &cause) == -1) {
			/* Success is only what leaves no lock behind. */
			if (r->exit == PUSH_OK || r->exit == PUSH_ROLLEDBACK)
				finish(&p, PUSH_UNREACHABLE, xasprintf("%s; but the lock %s could not "
				    "be released: %s; no transaction is pending in it: the next "
				    "apply or `mxdeck unlock %s --host %s` removes it",
				    r->summary ? r->summary : "done", p.lockdir, cause,
				    o->profile ? o->profile : "PROFILE", host->name));
			else
				note(&p, "the lock %s could not be released: %s", p.lockdir, cause);
			free(cause);
		}
		xport_close(p.x);
	}
	free(detected);
	free(pem);
	push_free(&p);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	r->seconds = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
}
