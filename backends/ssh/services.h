/* services.h: the daemons push validates and reloads (share/doc/HACKING.md §3, §4.5).
 *
 * One row per service in services[] (services.c): which rendered paths it owns on a
 * host, the command that checks its configuration in place, how to find its running
 * master, the reload command, and how to tell that the reload took. push.c iterates the
 * table; adding a service is one row (and the renderer that writes its files names it
 * in struct renderer's service). */
#ifndef MXDECK_SERVICES_H
#define MXDECK_SERVICES_H

#include <stdbool.h>
#include <stddef.h>

#include "profiles/site.h"

/* How a reload is known to have taken (the post-apply smoke test). */
enum svc_liveness {
	/* The master reads the new configuration itself before the reload command returns
	 * (Postfix, Dovecot): it must still be alive 1.5 s later (a master that cannot bind
	 * a new listener exits within milliseconds). */
	SVC_MASTER_STAYS,
	/* The reload is a signal; the master starts new workers only if the configuration
	 * loads (Apache, nginx): a child it did not have before must appear within 10 s.
	 * Without pgrep on the host only the master-stays watch runs. */
	SVC_NEW_WORKER,
};

enum {
	/* Its configuration is also validated on a staged copy before anything is renamed
	 * (push.c: validate_postfix_staged), so the in-place check is skipped. */
	SVC_STAGED = 1 << 0,
	/* After a rollback it is reloaded only when its settings (postconf -e/-M/-P)
	 * changed: the tables it owns are re-read by its processes as they change. */
	SVC_ROLLBACK_RELOAD_SETTINGS = 1 << 1,
};

struct pushed_service {
	const char *name;	/* "postfix": notes ("postfix reloaded"), struct renderer */
	const char *prog;	/* a program in /usr/sbin etc. that says it is installed */
	const char *tool;	/* what to name when prog is missing ("cannot validate: X
				 * is not installed") */
	/* Does this service own path (a rendered file of host h)? By the host's roles and
	 * directories: a file is owned by at most one service. */
	bool	(*owns)(const struct host *h, const char *path);
	/* The $1 of check_sh and of the reload script (a directory, a main config file);
	 * the caller frees. */
	char	*(*arg)(const struct host *h);
	const char *check_what;	/* the step's name in errors ("postfix check") */
	const char *check_sh;	/* sh script, $1 = arg: exits non-zero with the reason
				 * on stderr when the configuration in place is bad */
	const char *pid_sh;	/* sh text, $1 = arg: sets $pid to the running master, or
				 * exits 10 (not running: nothing to reload); exit 3 when
				 * the configuration cannot be read. Ends in "; ". */
	const char *reload_sh;	/* sh command, $1 = arg: tells the master to reload */
	enum svc_liveness liveness;
	unsigned flags;		/* SVC_* */
};

#define SVC_MAX 8	/* room for services[] rows (a static assertion in services.c) */

extern const struct pushed_service services[];
extern const size_t nservices;

/* The index in services[] of the service that owns path on h, or -1 (a file no daemon
 * reads, such as a script for the admin). */
int service_of(const struct host *h, const char *path);
/* The index of the service called name, or -1. */
int service_find(const char *name);
/* The whole reload script of services[i] for sh -c SCRIPT sh ARG: exit 0 reloaded,
 * 10 not running, 11 the master is gone after the reload, 12 it still runs the old
 * configuration, other: the reload command's own failure. The caller frees. */
char *service_reload_script(size_t i);

#endif
