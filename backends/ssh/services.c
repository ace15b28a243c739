/* services.c: the daemons push validates and reloads, one row each (services.h;
 * share/doc/HACKING.md §4.5 "A pushed daemon"). */
#include "backends/ssh/services.h"

#include <string.h>

#include "profiles/util.h"

/* path is strictly below dir (dir itself is not "under"). */
static bool
under(const char *path, const char *dir)
{
	size_t n;

	if (dir == NULL)
		return false;
	n = strlen(dir);
	while (n > 1 && dir[n - 1] == '/')
		n--;
	return strncmp(path, dir, n) == 0 && path[n] == '/';
}

static bool
postfix_owns(const struct host *h, const char *path)
{
	return (h->roles & ROLE_POSTFIX) && under(path, h->postfix_dir);
}

static bool
dovecot_owns(const struct host *h, const char *path)
{
	return (h->roles & ROLE_DOVECOT) && under(path, h->dovecot_dir);
}

static bool
apache_owns(const struct host *h, const char *path)
{
	return (h->roles & (ROLE_APACHE | ROLE_AUTODISCOVER)) && under(path, h->apache_dir);
}

static bool
nginx_owns(const struct host *h, const char *path)
{
	return (h->roles & (ROLE_NGINX | ROLE_AUTODISCOVER)) && under(path, h->nginx_dir);
}

static char *
postfix_arg(const struct host *h)
{
	return xstrdup(h->postfix_dir);
}

static char *
dovecot_arg(const struct host *h)
{
	return xasprintf("%s/dovecot.conf", h->dovecot_dir);
}

static char *
apache_arg(const struct host *h)
{
	return xstrdup(h->apache_dir);
}

static char *
nginx_arg(const struct host *h)
{
	return xasprintf("%s/nginx.conf", h->nginx_dir);
}

const struct pushed_service services[] = {
	{
		.name = "postfix", .prog = "postconf", .tool = "postfix",
		.owns = postfix_owns, .arg = postfix_arg,
		.check_what = "postfix check",
		.check_sh = "exec postfix -c \"$1\" check",
		.pid_sh = "d=$1; q=$(postconf -c \"$d\" -h queue_directory) || exit 3; "
		    "pid=$(tr -dc 0-9 <\"$q/pid/master.pid\" 2>/dev/null) && "
		    "kill -0 \"$pid\" 2>/dev/null || exit 10; ",
		.reload_sh = "postfix -c \"$d\" reload",
		.liveness = SVC_MASTER_STAYS,
		.flags = SVC_STAGED | SVC_ROLLBACK_RELOAD_SETTINGS,
	},
	{
		.name = "dovecot", .prog = "doveconf", .tool = "doveconf",
		.owns = dovecot_owns, .arg = dovecot_arg,
		.check_what = "doveconf -x -n",
		/* -x expands "<file" values as dovecot does at start: plain -n passes with
		 * an ssl_cert that cannot be opened, and dovecot then refuses to start. */
		.check_sh = "exec doveconf -c \"$1\" -x -n >/dev/null",
		.pid_sh = "conf=$1; base=$(doveconf -c \"$conf\" -h base_dir) || exit 3; "
		    "pid=$(cat \"$base/master.pid\" 2>/dev/null) && kill -0 \"$pid\" "
		    "2>/dev/null || exit 10; ",
		.reload_sh = "doveadm -c \"$conf\" reload",
		.liveness = SVC_MASTER_STAYS,
	},
	{
		.name = "apache2", .prog = "apache2", .tool = "apache2",
		.owns = apache_owns, .arg = apache_arg,
		.check_what = "apache2 -t",
		.check_sh = "d=$1; [ -f \"$d/envvars\" ] && . \"$d/envvars\"; "
		    "[ -n \"${APACHE_RUN_DIR:-}\" ] && mkdir -p \"$APACHE_RUN_DIR\"; "
		    "exec apache2 -d \"$d\" -f \"$d/apache2.conf\" -t",
		.pid_sh = "d=$1; [ -f \"$d/envvars\" ] && . \"$d/envvars\"; "
		    "pf=${APACHE_PID_FILE:-}; "
		    "[ -n \"$pf\" ] || pf=$(apache2 -d \"$d\" -f \"$d/apache2.conf\" -t "
		    "-D DUMP_RUN_CFG 2>/dev/null | sed -n "
		    "'s/^PidFile: \"\\(.*\\)\"$/\\1/p'); "
		    "[ -n \"$pf\" ] && pid=$(cat \"$pf\" 2>/dev/null) && kill -0 \"$pid\" "
		    "2>/dev/null || exit 10; ",
		.reload_sh = "apache2 -d \"$d\" -f \"$d/apache2.conf\" -k graceful",
		.liveness = SVC_NEW_WORKER,
	},
	{
		.name = "nginx", .prog = "nginx", .tool = "nginx",
		.owns = nginx_owns, .arg = nginx_arg,
		.check_what = "nginx -t",
		.check_sh = "exec nginx -t -q -c \"$1\"",
		.pid_sh = "c=$1; pf=$(nginx -T -q -c \"$c\" 2>/dev/null | sed -n "
		    "'s/^[[:space:]]*pid[[:space:]][[:space:]]*\\([^;]*\\);.*/\\1/p' | "
		    "head -n 1); [ -n \"$pf\" ] || pf=/run/nginx.pid; "
		    "pid=$(cat \"$pf\" 2>/dev/null) && kill -0 \"$pid\" 2>/dev/null || "
		    "exit 10; ",
		.reload_sh = "nginx -c \"$c\" -s reload",
		.liveness = SVC_NEW_WORKER,
	},
};
const size_t nservices = nitems(services);
_Static_assert(nitems(services) <= SVC_MAX, "raise SVC_MAX in services.h");

int
service_of(const struct host *h, const char *path)
{
	for (size_t i = 0; i < nservices; i++)
		if (services[i].owns(h, path))
			return (int)i;
	return -1;
}

int
service_find(const char *name)
{
	for (size_t i = 0; i < nservices; i++)
		if (strcmp(services[i].name, name) == 0)
			return (int)i;
	return -1;
}

/*
 * The liveness watches. The master is watched for 1.5 s (SVC_MASTER_STAYS); for
 * SVC_NEW_WORKER, CHILDREN_SH lists the master's children before the signal and
 * NEW_CHILD_SH waits up to 10 s for one that was not there: nginx keeps its old
 * configuration when it cannot bind a port, Apache exits on a key that does not match
 * its certificate, both only after -t passed.
 */
#define GONE_SH "{ echo \"the daemon (pid $pid) is gone after the reload\"; exit 11; }"
#define DEATH_WATCH_SH \
    "i=0; while [ $i -lt 15 ]; do sleep 0.1; kill -0 \"$pid\" 2>/dev/null || " GONE_SH \
    "; i=$((i + 1)); done"
#define CHILDREN_SH \
    "pg=; if command -v pgrep >/dev/null 2>&1; then pg=1; " \
    "old=\" $(pgrep -P \"$pid\" | tr '\\n' ' ')\"; fi; "
#define NEW_CHILD_SH \
    "if [ -z \"$pg\" ]; then " DEATH_WATCH_SH "; exit 0; fi; " \
    "i=0; while [ $i -lt 100 ]; do sleep 0.1; kill -0 \"$pid\" 2>/dev/null || " GONE_SH \
    "; for w in $(pgrep -P \"$pid\"); do case \"$old\" in *\" $w \"*) ;; *) exit 0;; " \
    "esac; done; i=$((i + 1)); done; echo \"the daemon (pid $pid) did not load the new " \
    "configuration and still runs the old one (no new worker after 10 s; its error log " \
    "says why)\"; exit 12"

char *
service_reload_script(size_t i)
{
	const struct pushed_service *s = &services[i];
	bool worker = s->liveness == SVC_NEW_WORKER;

	return xasprintf("%s%s%s || exit $?; %s", s->pid_sh, worker ? CHILDREN_SH : "",
	    s->reload_sh, worker ? NEW_CHILD_SH : DEATH_WATCH_SH);
}
