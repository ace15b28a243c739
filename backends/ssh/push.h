/* push.h: the push protocol of DESIGN.md §6 for one host: plan, apply with rollback,
 * and the read-only audit. Each call is independent; hosts run in parallel threads. */
#ifndef MXDECK_PUSH_H
#define MXDECK_PUSH_H

#include <stdbool.h>

#include "profiles/site.h"
#include "profiles/util.h"

enum push_mode {
	PUSH_PLAN,		/* read, diff, change nothing (no lock) */
	PUSH_APPLY,		/* lock, plan, back up, upload, validate, rename, reload */
	PUSH_AUDIT,		/* PUSH_PLAN over a read-only transport */
};

struct push_opts {
	enum push_mode mode;
	const char *known_hosts;	/* NULL: ~/.ssh/known_hosts */
	const char *identity;		/* --identity */
	bool	 accept_new;		/* --accept-new-host-keys */
	int	 connect_timeout;	/* seconds; 0: 10 */
	int	 timeout;		/* seconds per remote operation; 0: 60 */
	const char *profile_hash;	/* "sha256:HEX" of the profile, for the journal */
	const char *controller;		/* this machine's name, for the lock owner */
	long	 pid;			/* this process, for the lock owner */
	/* Called at each stage ("connecting", "locked", "planning", "backing up",
	 * "uploading", "validating", "renaming", "reloading") from the thread running
	 * push_host(); may be NULL. */
	void	(*progress)(void *arg, const struct host *host, const char *stage);
	void	*progress_arg;
};

struct push_result {
	int	 exit;		/* EXIT_* of tui/cli.h for this host */
	char	*summary;	/* one line: "3 files changed, applied", "no changes", the error */
	struct sbuf diff;	/* unified diffs of every change */
	struct strv changes;	/* one line per changed file or setting */
	struct strv notes;	/* stale lock recovered, reload skipped, ... */
	char	*postfix_version;	/* used for rendering */
	char	*backup;	/* remote backup directory of this apply, or NULL */
	bool	 applied;	/* files were changed on the host and kept */
	bool	 failed;	/* the host answered but a step failed (a command's exit,
				 * a file it refused): the summary has its output; exit is
				 * EXIT_DRIFT for plan/audit, EXIT_ROLLEDBACK for apply (nothing
				 * was changed), never EXIT_UNREACHABLE */
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

#endif
