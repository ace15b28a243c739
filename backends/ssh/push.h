/* push.h: the push protocol for one host (share/doc/HACKING.md): plan, apply with rollback,
 * and the read-only audit. Each call is independent; hosts run in parallel threads. */
#ifndef MXDECK_PUSH_H
#define MXDECK_PUSH_H

#include <stdatomic.h>
#include <stdbool.h>

#include "profiles/site.h"
#include "profiles/util.h"

enum push_mode {
	PUSH_PLAN,		/* read, diff, change nothing (no lock) */
	PUSH_APPLY,		/* lock, plan, back up, upload, validate, rename, reload */
	PUSH_AUDIT,		/* PUSH_PLAN over a read-only transport */
	PUSH_UNLOCK,		/* take over a dead run's lock, finish or roll back its
				 * transaction, release the lock (`mxdeck unlock`) */
};

/* A published TLSA RRset, for the TLSA gate (tlsa-gate.c). */
struct push_tlsa_rr {
	int	 usage, selector, mtype;
	unsigned char *data;
	size_t	 len;
};
struct push_tlsa {
	struct push_tlsa_rr *v;
	size_t	 n;
	bool	 secure;	/* n > 0: DNSSEC-validated */
	bool	 absent_proven;	/* n == 0: DNSSEC proves there is none */
	char	*why;		/* why not secure (or not proven absent) */
};
void push_tlsa_free(struct push_tlsa *t);
/* Can the TLSA gate engage on host (tlsa-gate.c): [tls] certificate and tlsa_ports
 * set, the postfix role, an address that is a fully-qualified DNS name? */
bool push_tlsa_gate_armed(const struct site *site, const struct host *host);
/* Look up the TLSA RRset at qname with DNSSEC validation: 0 with *out, -1 + *cause
 * when no answer came. The front end passes the probe code's lookup (backends/ssh does
 * not include backends/probe). */
typedef int (*push_tlsa_lookup_fn)(const struct site *site, const char *qname,
    struct push_tlsa *out, char **cause);

struct push_opts {
	enum push_mode mode;
	const char *known_hosts;	/* NULL: ssh_config's, else ~/.ssh/known_hosts */
	const char *identity;		/* --identity */
	const char *ssh_config;		/* -F FILE; NULL: the user's and the system's */
	bool	 may_prompt;		/* may ask for a key passphrase on the terminal */
	bool	 accept_new;		/* --accept-new-host-keys */
	int	 connect_timeout;	/* seconds; 0: 10 */
	int	 timeout;		/* seconds per remote operation; 0: 60 */
	const char *profile_hash;	/* "sha256:HEX" of the profile, for the journal */
	const char *profile;		/* its path, for hints ("mxdeck unlock PROFILE") */
	const char *controller;		/* this machine's name, for the lock owner */
	long	 pid;			/* this process, for the lock owner */
	/* Called at each stage ("connecting", "locked", "planning", "backing up",
	 * "uploading", "validating", "renaming", "reloading") from the thread running
	 * push_host(); may be NULL. */
	void	(*progress)(void *arg, const struct host *host, const char *stage);
	void	*progress_arg;
	/* Set to non-zero (by a signal thread, the console) to stop: a host that has not
	 * started renaming stops there with nothing changed and its lock released; a host
	 * past its first rename finishes (or rolls back) as usual. May be NULL. */
	atomic_int *cancel;
	/* The TLSA gate: an apply that changes [tls] certificate or key on a host whose
	 * ports have TLSA records is refused unless the new key is published. NULL
	 * lookup: the gate refuses such a change (it cannot look). */
	push_tlsa_lookup_fn tlsa_lookup;
	bool	 force_tlsa;		/* --force-tlsa: apply anyway, warn what breaks */
};

/* The outcome of one host's run. The values are the command line's exit codes, which
 * the front ends (tui/cli.h) map them to; backends never include tui/. */
enum push_outcome {
	PUSH_OK = 0,		/* success, no drift */
	PUSH_DRIFT = 1,		/* drift found (plan, audit), or a step failed on a host that
				 * answered (see failed) */
	PUSH_BADPROFILE = 2,	/* the profile cannot be rendered for this host */
	PUSH_UNREACHABLE = 3,	/* not reached, not authenticated, or locked by another run */
	PUSH_ROLLEDBACK = 4,	/* apply failed; nothing changed, or rolled back */
	PUSH_ROLLBACK_FAILED = 5,	/* apply failed and so did the rollback */
};

/* One planned change, for machine output (`plan --json`): a managed file, a symlink,
 * or the postconf settings of one Postfix file. */
enum push_change_kind {
	PC_CREATE,		/* a new file */
	PC_MODIFY,		/* its content changes (and maybe its mode) */
	PC_MODE,		/* only its mode changes */
	PC_LINK,		/* a new symlink */
	PC_RELINK,		/* a symlink pointed elsewhere */
	PC_POSTCONF,		/* postconf -e/-M/-P settings of main.cf or master.cf */
	PC_LOCK,		/* a lock or transaction mark left behind (plan, audit) */
	PC_COUNT
};
extern const char *const push_change_kinds[PC_COUNT];	/* "create" "modify" ... */

struct push_setting {
	char	*key;
	char	*old;		/* normalized; NULL: not set */
	char	*new;
};

struct push_change {
	enum push_change_kind kind;
	char	*path;		/* the file, symlink or lock directory on the host */
	char	*summary;	/* the lines of push_result.changes it stands for, "; " */
	int	 old_mode, new_mode;	/* -1: none (absent, a symlink, settings) */
	char	 old_sha256[65], new_sha256[65];	/* hex; "": none */
	char	*old_target, *new_target;	/* symlinks; NULL: none */
	const char *option;	/* PC_POSTCONF: "-e", "-M" or "-P" */
	struct push_setting *settings;	/* PC_POSTCONF: what changes */
	size_t	 nsettings;
	struct sbuf diff;	/* its unified diff (the host's bytes: any) */
};

struct push_result {
	int	 exit;		/* enum push_outcome for this host */
	char	*summary;	/* one line: "3 files changed, applied", "no changes", the error */
	struct sbuf diff;	/* unified diffs of every change */
	struct strv changes;	/* one line per changed file or setting */
	struct push_change *items;	/* the same changes as objects */
	size_t	 nitems, capitems;
	struct strv notes;	/* stale lock recovered, reload skipped, ... */
	char	*postfix_version;	/* used for rendering */
	char	*backup;	/* remote backup directory of this apply, or NULL */
	bool	 applied;	/* files were changed on the host and kept */
	bool	 locked;	/* exit 3 because another run holds the host's lock */
	bool	 interrupted;	/* stopped by opts.cancel before any file moved */
	char	*tlsa_refused;	/* the TLSA gate's refusal (apply: refused; plan: an
				 * apply would be), or NULL */
	char	*tlsa_forced;	/* --force-tlsa overrode it: what breaks, or NULL */
	bool	 failed;	/* the host answered but a step failed (a command's exit,
				 * a file it refused): the summary has its output; exit is
				 * PUSH_DRIFT for plan/audit, PUSH_ROLLEDBACK for apply (nothing
				 * was changed), never PUSH_UNREACHABLE */
	double	 seconds;
};

void push_result_init(struct push_result *r);
void push_result_free(struct push_result *r);

/* Run the protocol for one host. Never fails as a function: the outcome (including
 * "unreachable") is in r. Thread-safe for different hosts, once the caller has run
 * libssh2_init(0) before starting threads (tui/cmd-push.c does; so must the console).
 * Blocks for the whole run: run it in a thread to keep a UI alive. */
void push_host(const struct site *site, const struct host *host,
    const struct push_opts *o, struct push_result *r);

/* ---- the lock directory STATE/lock, for plan, audit and doctor ----
 * A lock or transaction mark left behind is drift: the host may be half-way through
 * a dead run's transaction, and the next apply or `mxdeck unlock` has to finish or
 * roll it back. push_lock_inspect() only reads (it works on a read-only handle). */
enum push_lock_owner {
	PUSH_LOCK_NONE,		/* no lock */
	PUSH_LOCK_ALIVE,	/* held by a running mxdeck on this machine */
	PUSH_LOCK_DEAD,		/* its owner (this machine) is no longer running */
	PUSH_LOCK_UNKNOWN,	/* held from another machine, or no readable owner */
};

struct push_lock_state {
	enum push_lock_owner owner;
	bool	 txn;		/* lock/txn exists: the run had started renaming */
	bool	 takeover;	/* lock/takeover exists: a recovery is (or was) under way */
	char	*pid, *controller, *since;	/* from lock/owner; NULL when absent */
	long long age;		/* seconds since the lock was taken; -1 unknown */
};

struct xport;
int push_lock_inspect(struct xport *x, const struct host *host, const char *controller,
    struct push_lock_state *st, char **cause);
/* One line for a human: who holds the lock of host, since when, and what to do
 * (profile is the profile path for the `mxdeck unlock` hint). NULL for NONE. */
char *push_lock_describe(const struct host *host, const struct push_lock_state *st,
    const char *profile);
void push_lock_state_free(struct push_lock_state *st);

#endif
