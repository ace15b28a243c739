/* cmd-push.c: `mxdeck plan`, `apply`, `--batch [--dry-run]` and `audit`: run the push
 * protocol (backends/ssh/push.c) on every selected host in parallel and report. */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <libssh2.h>
#include <openssl/evp.h>

#include "backends/probe/probe.h"
#include "backends/ssh/push.h"
#include "profiles/site.h"
#include "tui/cli.h"
#include "tui/jsondoc.h"
#include "tui/monitor.h"

#define JOBS_MAX	16

struct job {
	const struct site *site;
	const struct host **hosts;
	struct push_result *results;
	size_t	 n;
	size_t	 next;
	const struct push_opts *opts;
	pthread_mutex_t mu;
	FILE	*progress;	/* per-host "done" lines as they finish, or NULL */
};


/* A host's push outcome is its exit code: the mapping is one to one. */
_Static_assert((int)PUSH_OK == (int)EXIT_OK && (int)PUSH_DRIFT == (int)EXIT_DRIFT &&
    (int)PUSH_BADPROFILE == (int)EXIT_USAGE &&
    (int)PUSH_UNREACHABLE == (int)EXIT_UNREACHABLE &&
    (int)PUSH_ROLLEDBACK == (int)EXIT_ROLLEDBACK &&
    (int)PUSH_ROLLBACK_FAILED == (int)EXIT_ROLLBACK_FAILED,
    "push outcomes are the command line's exit codes");

static void *
worker(void *arg)
{
	struct job *j = arg;

	for (;;) {
		size_t i;

		pthread_mutex_lock(&j->mu);
		i = j->next++;
		pthread_mutex_unlock(&j->mu);
		if (i >= j->n)
			break;
		if (j->opts->cancel != NULL && atomic_load(j->opts->cancel) != 0) {
			/* A signal came: no new host is started. */
			j->results[i].exit = EXIT_ROLLEDBACK;
			j->results[i].interrupted = true;
			j->results[i].summary = xstrdup("not started (interrupted): nothing was "
			    "changed");
			continue;
		}
		push_host(j->site, j->hosts[i], j->opts, &j->results[i]);
		if (j->progress != NULL) {
			pthread_mutex_lock(&j->mu);
			fprintf_safe(j->progress, "mxdeck: %s: %s (%.2fs)\n", j->hosts[i]->name,
			    j->results[i].summary ? j->results[i].summary : "?",
			    j->results[i].seconds);
			fflush(j->progress);
			pthread_mutex_unlock(&j->mu);
		}
	}
	return NULL;
}

/* Run opts->mode on every host, at most jobs at a time. */
static void
run_hosts(const struct site *site, const struct host **hosts, size_t n, int jobs,
    const struct push_opts *opts, struct push_result *results, FILE *progress)
{
	struct job j;
	pthread_t *th;
	size_t nth;

	memset(&j, 0, sizeof j);
	j.site = site;
	j.hosts = hosts;
	j.results = results;
	j.n = n;
	j.opts = opts;
	j.progress = progress;
	pthread_mutex_init(&j.mu, NULL);
	for (size_t i = 0; i < n; i++)
		push_result_init(&results[i]);
	nth = jobs > 0 ? (size_t)jobs : n;
	if (nth > JOBS_MAX && jobs <= 0)
		nth = JOBS_MAX;
	if (nth > n)
		nth = n;
	if (nth <= 1) {
		worker(&j);
	} else {
		th = xcalloc(nth, sizeof *th);
		for (size_t i = 0; i < nth; i++)
			if (pthread_create(&th[i], NULL, worker, &j) != 0)
				fatal("pthread_create: %s", strerror(errno));
		for (size_t i = 0; i < nth; i++)
			pthread_join(th[i], NULL);
		free(th);
	}
	pthread_mutex_destroy(&j.mu);
}

/* SIGINT, SIGTERM and SIGHUP during an apply (or unlock): blocked in every thread and
 * taken by one watcher thread, which sets the push's cancel flag and says what
 * happens. No new host starts; a host in flight stops before its first rename with
 * nothing changed, or, past it, finishes or rolls back as usual; every lock is
 * released; the report says where each host stands; the exit status is then
 * 128 + the signal number. */
struct sigwatch {
	pthread_t thr;
	sigset_t set, old;
	atomic_int cancel;	/* the first signal's number, 0 before */
	atomic_int done;
	bool	 running;
};

static const char *
sig_name(int sig)
{
	return sig == SIGINT ? "SIGINT" : sig == SIGTERM ? "SIGTERM" : sig == SIGHUP ?
	    "SIGHUP" : "a signal";
}

static void *
sigwatch_thread(void *arg)
{
	struct sigwatch *w = arg;

	while (atomic_load(&w->done) == 0) {
		struct timespec ts = { 0, 100 * 1000 * 1000 };
		int sig = sigtimedwait(&w->set, NULL, &ts);

		if (sig <= 0)
			continue;
		if (atomic_load(&w->cancel) == 0) {
			atomic_store(&w->cancel, sig);
			fprintf(stderr, "mxdeck: %s: stopping: no new host is started; a host "
			    "that has not started renaming stops with nothing changed, a host "
			    "past that finishes or rolls back; every lock is released; wait for "
			    "the report\n", sig_name(sig));
		} else
			fprintf(stderr, "mxdeck: %s: still finishing the hosts in flight (kill "
			    "-9 now would leave their locks and transactions for the next run "
			    "to recover)\n", sig_name(sig));
		fflush(stderr);
	}
	return NULL;
}

static void
sigwatch_start(struct sigwatch *w)
{
	memset(w, 0, sizeof *w);
	atomic_init(&w->cancel, 0);
	atomic_init(&w->done, 0);
	sigemptyset(&w->set);
	sigaddset(&w->set, SIGINT);
	sigaddset(&w->set, SIGTERM);
	sigaddset(&w->set, SIGHUP);
	/* Before any worker thread exists: they inherit the mask. */
	pthread_sigmask(SIG_BLOCK, &w->set, &w->old);
	w->running = pthread_create(&w->thr, NULL, sigwatch_thread, w) == 0;
	if (!w->running)
		pthread_sigmask(SIG_SETMASK, &w->old, NULL);
}

/* The signal that came, or 0. */
static int
sigwatch_stop(struct sigwatch *w)
{
	if (!w->running)
		return 0;
	atomic_store(&w->done, 1);
	pthread_join(w->thr, NULL);
	w->running = false;
	pthread_sigmask(SIG_SETMASK, &w->old, NULL);
	return atomic_load(&w->cancel);
}

static char *
profile_hash(const char *path)
{
	char *cause = NULL, *buf;
	size_t len;
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int mdlen = 0;
	struct sbuf b;

	buf = read_input_file(path, IK_PROFILE, &len, &cause);
	if (buf == NULL) {
		free(cause);
		return xstrdup("-");
	}
	EVP_Digest(buf, len, md, &mdlen, EVP_sha256(), NULL);
	free(buf);
	sb_init(&b);
	sb_add(&b, "sha256:");
	for (unsigned int i = 0; i < mdlen; i++)
		sb_addf(&b, "%02x", md[i]);
	return sb_steal(&b);
}

static void
json_strv(struct sbuf *b, const struct strv *sv)
{
	sb_addc(b, '[');
	for (size_t i = 0; i < sv->n; i++) {
		if (i > 0)
			sb_addc(b, ',');
		sb_json_string(b, sv->v[i]);
	}
	sb_addc(b, ']');
}

static const char *
exit_word(const struct push_result *r)
{
	if (r->interrupted)
		return "interrupted";
	if (r->locked)
		return "locked";
	if (r->failed)
		return "failed";
	switch (r->exit) {
	case EXIT_OK:			return "ok";
	case EXIT_DRIFT:		return "drift";
	case EXIT_USAGE:		return "profile-error";
	case EXIT_UNREACHABLE:		return "unreachable";
	case EXIT_ROLLEDBACK:		return "rolled-back";
	case EXIT_ROLLBACK_FAILED:	return "ROLLBACK-FAILED";
	}
	return "?";
}

/* Colour the diffs of a report that goes to a terminal: never into a pipe or a file,
 * never with --json (stdout is the document; the -v report goes to stderr), never with
 * --no-color, NO_COLOR or TERM=dumb. */
static bool
diff_colour(const struct cli *cli, FILE *f)
{
	const char *term = getenv("TERM");

	return f != NULL && !cli->json && cli->format == FMT_TEXT && !cli->no_color &&
	    isatty(fileno(f)) && term != NULL && *term != '\0' && strcmp(term, "dumb") != 0;
}

/* s: a diff already made printable (no ESC of the host's left in it). Headers bold,
 * removed lines red, added green, hunk headers cyan. */
static void
put_diff(FILE *f, const char *s, bool colour)
{
	if (!colour) {
		fputs(s, f);
		return;
	}
	while (*s != '\0') {
		const char *nl = strchr(s, '\n');
		size_t len = nl != NULL ? (size_t)(nl - s) : strlen(s);
		const char *on = NULL;

		if (strncmp(s, "--- ", 4) == 0 || strncmp(s, "+++ ", 4) == 0)
			on = "\033[1m";
		else if (strncmp(s, "@@", 2) == 0)
			on = "\033[36m";
		else if (*s == '-')
			on = "\033[31m";
		else if (*s == '+')
			on = "\033[32m";
		if (on != NULL)
			fprintf(f, "%s%.*s\033[0m", on, (int)len, s);
		else
			fprintf(f, "%.*s", (int)len, s);
		if (nl == NULL)
			break;
		fputc('\n', f);
		s = nl + 1;
	}
}

static void
report_human(FILE *f, const char *verb, const struct host **hosts,
    const struct push_result *res, size_t n, bool show_diff, bool quiet, bool colour)
{
	bool all_ok = true;

	if (f == NULL)
		return;
	for (size_t i = 0; i < n; i++) {
		const struct push_result *r = &res[i];

		if (r->exit != EXIT_OK || r->applied)
			all_ok = false;
		if (quiet && r->exit == EXIT_OK && !r->applied)
			continue;	/* -q: only hosts with something to say */

		fprintf_safe(f, "=== host %s (%s): %s: %s\n", hosts[i]->name,
		    hosts[i]->local ? "local" : hosts[i]->address, exit_word(r),
		    r->summary ? r->summary : "");
		if (r->exit == EXIT_ROLLBACK_FAILED)
			fprintf_safe(f, "!!! host %s: THE ROLLBACK FAILED: the host is in a mixed state; "
			    "see above\n", hosts[i]->name);
		for (size_t k = 0; k < r->notes.n; k++)
			fprintf_safe(f, "    note: %s\n", r->notes.v[k]);
		for (size_t k = 0; k < r->changes.n; k++)
			fprintf_safe(f, "    %s %s\n", r->exit == EXIT_OK && r->applied ? "changed:" :
			    "change:", r->changes.v[k]);
		if (show_diff && r->diff.len > 0) {
			/* a diff shows the host's files: their bytes are not ours */
			struct sbuf safe;

			sb_init(&safe);
			sb_add_printable_n(&safe, r->diff.s, r->diff.len, true);
			put_diff(f, safe.s, colour);
			sb_free(&safe);
		}
	}
	if (quiet && all_ok)
		return;
	{
		size_t nok = 0, ndrift = 0, nbad = 0, napplied = 0;

		for (size_t i = 0; i < n; i++) {
			if (res[i].exit == EXIT_OK) {
				nok++;
				if (res[i].applied)
					napplied++;
			} else if (res[i].exit == EXIT_DRIFT)
				ndrift++;
			else
				nbad++;
		}
		if (strcmp(verb, "unlock") == 0)
			fprintf(f, "mxdeck: %s: %zu host%s: %zu unlocked or not locked, %zu "
			    "failed\n", verb, n, n == 1 ? "" : "s", nok, nbad);
		else if (strcmp(verb, "apply") == 0)
			/* An applied host exits 0: "with changes" would always read 0. */
			fprintf_safe(f, "mxdeck: %s: %zu host%s: %zu applied, %zu already in sync, "
			    "%zu failed\n", verb, n, n == 1 ? "" : "s", napplied, nok - napplied,
			    nbad);
		else
			fprintf_safe(f, "mxdeck: %s: %zu host%s: %zu in sync, %zu with changes, "
			    "%zu failed\n", verb, n, n == 1 ? "" : "s", nok, ndrift, nbad);
	}
}

static void
json_nullable(struct sbuf *b, const char *s)
{
	if (s != NULL && *s != '\0')
		sb_json_string(b, s);
	else
		sb_add(b, "null");
}

static void
json_mode(struct sbuf *b, int mode)
{
	if (mode >= 0)
		sb_addf(b, "\"%04o\"", (unsigned)mode);
	else
		sb_add(b, "null");
}

/* One planned change: {host, path, kind, summary, mode:{old,new}, old_sha256,
 * new_sha256, diff} and, by kind, target:{old,new} or option + settings. The diff is
 * the host's bytes: sb_json_stringn keeps the document UTF-8 whatever they are. */
static void
change_json(struct sbuf *b, const struct host *h, const struct push_change *c, bool comma)
{
	sb_add(b, comma ? ",\n{\"host\":" : "\n{\"host\":");
	sb_json_string(b, h->name);
	sb_add(b, ",\"path\":");
	sb_json_string(b, c->path);
	sb_add(b, ",\"kind\":");
	sb_json_string(b, push_change_kinds[c->kind]);
	sb_add(b, ",\"summary\":");
	sb_json_string(b, c->summary);
	sb_add(b, ",\"mode\":{\"old\":");
	json_mode(b, c->old_mode);
	sb_add(b, ",\"new\":");
	json_mode(b, c->new_mode);
	sb_add(b, "},\"old_sha256\":");
	json_nullable(b, c->old_sha256);
	sb_add(b, ",\"new_sha256\":");
	json_nullable(b, c->new_sha256);
	if (c->kind == PC_LINK || c->kind == PC_RELINK) {
		sb_add(b, ",\"target\":{\"old\":");
		json_nullable(b, c->old_target);
		sb_add(b, ",\"new\":");
		json_nullable(b, c->new_target);
		sb_addc(b, '}');
	}
	if (c->kind == PC_POSTCONF) {
		sb_add(b, ",\"option\":");
		sb_json_string(b, c->option);
		sb_add(b, ",\"settings\":[");
		for (size_t i = 0; i < c->nsettings; i++) {
			sb_add(b, i > 0 ? ",{\"key\":" : "{\"key\":");
			sb_json_string(b, c->settings[i].key);
			sb_add(b, ",\"old\":");
			if (c->settings[i].old != NULL)
				sb_json_string(b, c->settings[i].old);
			else
				sb_add(b, "null");
			sb_add(b, ",\"new\":");
			sb_json_string(b, c->settings[i].new);
			sb_addc(b, '}');
		}
		sb_addc(b, ']');
	}
	sb_add(b, ",\"diff\":");
	sb_json_stringn(b, c->diff.s, c->diff.len);
	sb_addc(b, '}');
}

static void
report_json(struct sbuf *b, const struct host **hosts, const struct push_result *res,
    size_t n)
{
	sb_add(b, "\"hosts\":[");
	for (size_t i = 0; i < n; i++) {
		const struct push_result *r = &res[i];

		if (i > 0)
			sb_add(b, ",\n");
		sb_add(b, "{\"name\":");
		sb_json_string(b, hosts[i]->name);
		sb_add(b, ",\"address\":");
		sb_json_string(b, hosts[i]->local ? "local" : hosts[i]->address);
		sb_addf(b, ",\"exit\":%d,\"status\":", r->exit);
		sb_json_string(b, exit_word(r));
		sb_add(b, ",\"summary\":");
		sb_json_string(b, r->summary);
		sb_addf(b, ",\"applied\":%s,\"seconds\":%.3f,\"postfix_version\":",
		    r->applied ? "true" : "false", r->seconds);
		sb_json_string(b, r->postfix_version);
		sb_add(b, ",\"backup\":");
		if (r->backup != NULL)
			sb_json_string(b, r->backup);
		else
			sb_add(b, "null");
		sb_add(b, ",\"changes\":[");
		for (size_t k = 0; k < r->nitems; k++)
			change_json(b, hosts[i], &r->items[k], k > 0);
		sb_add(b, "],\"notes\":");
		json_strv(b, &r->notes);
		if (r->tlsa_refused != NULL || r->tlsa_forced != NULL) {
			sb_add(b, ",\"tlsa_gate\":{");
			if (r->tlsa_refused != NULL) {
				sb_add(b, "\"refused\":");
				sb_json_string(b, r->tlsa_refused);
			}
			if (r->tlsa_forced != NULL) {
				sb_add(b, r->tlsa_refused != NULL ? ",\"forced\":" : "\"forced\":");
				sb_json_string(b, r->tlsa_forced);
			}
			sb_addc(b, '}');
		}
		sb_addc(b, '}');
	}
	sb_add(b, "]");
}

static int
worst(const struct push_result *res, size_t n)
{
	int rc = EXIT_OK;

	for (size_t i = 0; i < n; i++)
		if (res[i].exit > rc)
			rc = res[i].exit;
	return rc;
}

int
cli_tlsa_lookup(const struct site *site, const char *qname, struct push_tlsa *out,
    char **cause)
{
	struct tlsa_set ts;

	memset(out, 0, sizeof *out);
	if (probe_tlsa_lookup(site, qname, 10, &ts, cause) != 0)
		return -1;
	out->v = xcalloc(ts.n + 1, sizeof *out->v);
	for (size_t i = 0; i < ts.n; i++) {
		out->v[i].usage = ts.v[i].usage;
		out->v[i].selector = ts.v[i].selector;
		out->v[i].mtype = ts.v[i].mtype;
		out->v[i].len = ts.v[i].len;
		out->v[i].data = ts.v[i].data;	/* moved */
		ts.v[i].data = NULL;
	}
	out->n = ts.n;
	out->secure = ts.secure;
	out->absent_proven = ts.absent_proven;
	out->why = ts.insecure_why;
	ts.insecure_why = NULL;
	tlsa_set_free(&ts);
	return 0;
}

/* After a plan over every host: did the TLSA gate refuse one? Then the apply stops
 * for all of them (nothing is changed on any host), each result says why, and the
 * count of refused hosts is returned. */
static size_t
tlsa_gate_stop(const struct host **hosts, struct push_result *res, size_t n)
{
	size_t nref = 0, first = n;

	for (size_t i = 0; i < n; i++)
		if (res[i].tlsa_refused != NULL) {
			nref++;
			if (first == n)
				first = i;
		}
	if (nref == 0)
		return 0;
	for (size_t i = 0; i < n; i++) {
		struct push_result *r = &res[i];
		struct strv keep = { 0 };

		/* the plan's "an apply would be REFUSED" note is the summary now */
		for (size_t k = 0; k < r->notes.n; k++)
			if (strncmp(r->notes.v[k], "TLSA gate: an apply would be REFUSED", 36) != 0)
				strv_push(&keep, r->notes.v[k]);
		strv_free(&r->notes);
		r->notes = keep;
		free(r->summary);
		if (r->tlsa_refused != NULL) {
			r->summary = xasprintf("%s; or apply with --force-tlsa to break DANE "
			    "knowingly. Refused, nothing was changed", r->tlsa_refused);
			free(r->tlsa_refused);
			r->tlsa_refused = xstrdup(r->summary);
		} else
			r->summary = xasprintf("not applied: the TLSA gate refused the apply on "
			    "host %s; nothing was changed on any host", hosts[first]->name);
		r->exit = EXIT_DRIFT;
		r->failed = true;
	}
	return nref;
}

/* Select hosts by --host; prints and returns -1 for a name the profile lacks. */
static int
select_hosts(const struct cli *cli, const struct site *site, const struct host ***out,
    size_t *np)
{
	const struct host **v = xcalloc(site->nhosts + 1, sizeof *v);
	size_t n = 0;

	for (size_t i = 0; i < cli->hosts.n; i++)
		if (site_find_host(site, cli->hosts.v[i]) == NULL) {
			fprintf_safe(stderr, "mxdeck: --host %s: no [host \"%s\"] in %s\n",
			    cli->hosts.v[i], cli->hosts.v[i], cli->profile);
			free(v);
			return -1;
		}
	for (size_t i = 0; i < site->nhosts; i++)
		if (cli->hosts.n == 0 || strv_has(&cli->hosts, site->hosts[i].name))
			v[n++] = &site->hosts[i];
	if (n == 0) {
		fprintf_safe(stderr, "mxdeck: %s: the profile has no [host] to push to\n",
		    cli->profile);
		free(v);
		return -1;
	}
	*out = v;
	*np = n;
	return 0;
}

struct audit_cb {
	struct strv *objs;
	FILE	*human;
	bool	 quiet;
	struct monitor *mon;
};

static void
probe_cb_human(const struct probe_result *r, void *arg)
{
	struct audit_cb *a = arg;

	if (a->human != NULL && !(a->quiet && r->status == PROBE_OK))
		fprintf_safe(a->human, "  %-4s %-6s %-24s %s%s%s\n", probe_status_names[r->status],
		    r->kind, r->name, r->host ? r->host : "", r->host ? ": " : "", r->summary);
	strv_push_owned(a->objs, probe_result_json(r));
	monitor_add_check(a->mon, r);
}

enum mode { M_PLAN, M_APPLY, M_BATCH, M_DRY, M_AUDIT, M_UNLOCK };

static int
run(struct cli *cli, enum mode mode)
{
	struct site *site;
	const struct host **hosts = NULL;
	struct push_result *res = NULL;
	struct push_opts o;
	char ctl[256], *hash;
	size_t n = 0;
	int rc;
	/* With --json (and the monitoring formats) stdout holds the document and stderr one
	 * summary line; the human report goes to stderr only with -v. */
	FILE *human = cli->format == FMT_TEXT ? stdout : cli->verbose > 0 ? stderr : NULL;
	struct diags diags = { 0 };
	struct monitor mon = { .command = "audit" };
	const char *verb = mode == M_PLAN || mode == M_DRY ? "plan" :
	    mode == M_AUDIT ? "audit" : mode == M_UNLOCK ? "unlock" : "apply";
	struct sigwatch sw;
	int sig = 0;
	struct sbuf json;
	struct probe_summary psum;
	bool probed = false, gated = false;
	struct strv pobjs = { 0 };
	struct cli_routes routes = { 0 };

	if (mode == M_APPLY && !cli->yes && (!isatty(0) || !isatty(2))) {
		fprintf(stderr, "mxdeck: apply: not on a terminal, so nobody can confirm; add "
		    "--yes (or use --batch) to apply without asking\n");
		if (cli->json)
			jsondoc_error(cli, verb, NULL, "not on a terminal, so nobody can confirm; "
			    "add --yes (or use --batch) to apply without asking", EXIT_USAGE);
		return EXIT_USAGE;
	}
	if (mode == M_UNLOCK && cli->hosts.n == 0) {
		fprintf(stderr, "mxdeck: unlock: name the host: mxdeck unlock %s --host NAME\n",
		    cli->profile);
		return EXIT_USAGE;
	}
	if ((site = cli_load_site_diags(cli, &diags)) == NULL ||
	    select_hosts(cli, site, &hosts, &n) == -1) {
		if (site != NULL) {
			site_free(site);
			free(site);
		}
		if (cli->json)
			jsondoc_error(cli, mode == M_BATCH ? "batch" : verb, &diags,
			    "no such --host in the profile, or it has no [host] (stderr says "
			    "which)", EXIT_USAGE);
		diags_free(&diags);
		if (mode == M_AUDIT && cli->format == FMT_NAGIOS)
			return monitor_nagios_unknown(stdout, "audit", "the profile has errors "
			    "or names no such host (mxdeck lint shows them)");
		if (mode == M_AUDIT && cli->format == FMT_PROMETHEUS)
			monitor_prometheus(stdout, &mon, false);
		return EXIT_USAGE;
	}
	signal(SIGPIPE, SIG_IGN);
	if (libssh2_init(0) != 0)
		fatal("libssh2_init failed");
	if (gethostname(ctl, sizeof ctl) == -1)
		strcpy(ctl, "localhost");
	ctl[sizeof ctl - 1] = '\0';
	hash = profile_hash(cli->profile);
	memset(&o, 0, sizeof o);
	o.known_hosts = cli->known_hosts;
	o.identity = cli->identity;
	o.ssh_config = cli->ssh_config;
	o.may_prompt = mode != M_BATCH && mode != M_DRY;	/* never in --batch */
	o.accept_new = cli->accept_new_host_keys;
	o.profile_hash = hash;
	o.profile = cli->profile;
	o.controller = ctl;
	o.pid = (long)getpid();
	o.connect_timeout = 10;
	o.timeout = 60;
	o.tlsa_lookup = cli_tlsa_lookup;
	o.force_tlsa = cli->force_tlsa;
	res = xcalloc(n, sizeof *res);

	if (mode == M_APPLY && !cli->yes) {
		/* Show the plan, ask, then apply (the apply plans again under the lock). */
		char answer[16];
		bool any = false;

		o.mode = PUSH_PLAN;
		run_hosts(site, hosts, n, cli->jobs, &o, res, NULL);
		report_human(stderr, "plan", hosts, res, n, true, false,
		    diff_colour(cli, stderr));
		for (size_t i = 0; i < n; i++)
			if (res[i].exit == EXIT_DRIFT)
				any = true;
		rc = worst(res, n);
		if (tlsa_gate_stop(hosts, res, n) > 0) {
			gated = true;
			goto report;
		}
		for (size_t i = 0; i < n; i++)
			push_result_free(&res[i]);
		if (!any) {
			fprintf(stderr, "mxdeck: nothing to apply\n");
			goto out;
		}
		fprintf(stderr, "Apply these changes? [y/N] ");
		fflush(stderr);
		if (fgets(answer, sizeof answer, stdin) == NULL ||
		    (answer[0] != 'y' && answer[0] != 'Y')) {
			fprintf(stderr, "mxdeck: not applied\n");
			rc = EXIT_OK;
			goto out;
		}
	}
	o.mode = mode == M_PLAN || mode == M_DRY ? PUSH_PLAN :
	    mode == M_AUDIT ? PUSH_AUDIT : mode == M_UNLOCK ? PUSH_UNLOCK : PUSH_APPLY;
	if (o.mode == PUSH_APPLY || o.mode == PUSH_UNLOCK) {
		sigwatch_start(&sw);
		o.cancel = &sw.cancel;
	}
	if (o.mode == PUSH_APPLY && !o.force_tlsa) {
		/* The TLSA gate refuses for every host or none: where it can engage, plan
		 * every host first, and apply only when no host's plan was refused. */
		bool armed = false;

		for (size_t i = 0; i < n; i++)
			armed = armed || push_tlsa_gate_armed(site, hosts[i]);
		if (armed && !gated) {
			o.mode = PUSH_PLAN;
			run_hosts(site, hosts, n, cli->jobs, &o, res, NULL);
			o.mode = PUSH_APPLY;
			if (tlsa_gate_stop(hosts, res, n) > 0)
				gated = true;
			else
				for (size_t i = 0; i < n; i++)
					push_result_free(&res[i]);
		}
	}
	if (!gated)
		run_hosts(site, hosts, n, cli->jobs, &o, res, cli->verbose ? stderr : NULL);
	if (o.cancel != NULL)
		sig = sigwatch_stop(&sw);
report:
	for (size_t i = 0; i < n; i++)
		if (res[i].tlsa_forced != NULL)
			fprintf_safe(stderr, "mxdeck: host %s: %s\n", hosts[i]->name,
			    res[i].tlsa_forced);
	if (gated)
		fprintf(stderr, "mxdeck: apply REFUSED by the TLSA gate: the new certificate's "
		    "key is not published for the ports named above; nothing was changed on "
		    "any host\n");
	report_human(human, verb, hosts, res, n, mode != M_APPLY && mode != M_BATCH ?
	    true : cli->verbose > 0, cli->quiet, diff_colour(cli, human));
	rc = worst(res, n);
	for (size_t i = 0; mode == M_AUDIT && i < n; i++)
		monitor_add_host(&mon, hosts[i]->name, res[i].exit, (int)res[i].changes.n);
	if (sig != 0) {
		size_t nstopped = 0;

		for (size_t i = 0; i < n; i++)
			if (res[i].interrupted)
				nstopped++;
		fprintf(human != NULL ? human : stderr, "mxdeck: %s interrupted by %s: %zu "
		    "host%s stopped or not started with nothing changed, %zu finished (see "
		    "each host above); no lock is left by this run unless a host above says "
		    "so\n", verb, sig_name(sig), nstopped, nstopped == 1 ? "" : "s",
		    n - nstopped);
		rc = 128 + sig;
	}

	if (mode == M_AUDIT) {
		struct probe_opts po;
		struct probe_list *pl = NULL;
		char *cause = NULL;
		struct audit_cb cbarg = { &pobjs, human, cli->quiet, &mon };

		const char *kinds = getenv("MXDECK_PROBES");
		const char *pt = getenv("MXDECK_PROBE_TIMEOUT");

		memset(&po, 0, sizeof po);
		po.hosts = &cli->hosts;
		po.jobs = cli->jobs;
		/* The same knobs as `mxdeck test`. */
		if (pt != NULL && *pt != '\0')
			po.timeout = atof(pt);
		if (kinds != NULL && *kinds != '\0' &&
		    probe_kinds_parse(kinds, &po.kinds, &cause) != 0) {
			fprintf_safe(stderr, "mxdeck: MXDECK_PROBES: %s\n", cause);
			free(cause);
			cause = NULL;
			po.kinds = 0;
		}
		cli_probe_routes(cli, site, &routes);
		po.addresses = (const char *const *)routes.addresses;
		if (probe_list_build(site, &po, &pl, &cause) != 0) {
			fprintf_safe(stderr, "mxdeck: audit: live tests: %s\n", cause);
			free(cause);
		} else {
			if (human != NULL && !cli->quiet)
				fprintf(human, "mxdeck: audit: live tests (%zu probes)\n",
				    probe_list_count(pl));
			for (size_t i = 0; human != NULL && i < routes.n; i++)
				if (routes.notes[i] != NULL)
					fprintf_safe(human, "mxdeck: audit: %s\n", routes.notes[i]);
			probe_run(pl, &po, probe_cb_human, &cbarg, &psum);
			mon.wall = psum.wall;
			probed = true;
			if (human != NULL && (!cli->quiet || psum.nok < psum.n))
				fprintf(human, "mxdeck: audit: %zu probes: %zu ok, %zu warn, "
				    "%zu fail\n", psum.n, psum.nok, psum.nwarn, psum.nfail);
			if (psum.nfail > 0 && rc < EXIT_DRIFT)
				rc = EXIT_DRIFT;
			probe_list_free(pl);
		}
	}
	if (mode == M_AUDIT && rc == EXIT_OK && cli->warn_exit && probed && psum.nwarn > 0)
		rc = EXIT_DRIFT;
	if (mode == M_AUDIT && cli->format == FMT_NAGIOS)
		rc = monitor_nagios(stdout, &mon);
	else if (mode == M_AUDIT && cli->format == FMT_PROMETHEUS)
		monitor_prometheus(stdout, &mon, true);
	monitor_free(&mon);
	if (cli->json) {
		jsondoc_begin(&json, cli, mode == M_BATCH ? "batch" : verb, &diags);
		sb_add(&json, ",\"profile_hash\":");
		sb_json_string(&json, hash);
		sb_add(&json, ",\n");
		report_json(&json, hosts, res, n);
		if (probed) {
			/* The same result objects and summary as `mxdeck test --json`. */
			sb_add(&json, ",\n\"results\":[");
			for (size_t i = 0; i < pobjs.n; i++)
				sb_addf(&json, "%s%s", i ? ",\n" : "", pobjs.v[i]);
			sb_add(&json, "],\"notes\":[");
			for (size_t i = 0, k = 0; i < routes.n; i++)
				if (routes.notes[i] != NULL) {
					if (k++ > 0)
						sb_addc(&json, ',');
					sb_json_string(&json, routes.notes[i]);
				}
			sb_add(&json, "],");
			probe_summary_json(&json, &psum);
		}
		jsondoc_end(&json, rc);
		if (cli->verbose == 0) {
			size_t ndrift = 0, nbad = 0;

			for (size_t i = 0; i < n; i++)
				if (res[i].exit == EXIT_DRIFT)
					ndrift++;
				else if (res[i].exit != EXIT_OK)
					nbad++;
			fprintf(stderr, "mxdeck: %s: %zu host%s: %zu with changes, %zu failed",
			    verb, n, n == 1 ? "" : "s", ndrift, nbad);
			if (probed)
				fprintf(stderr, "; %zu probes: %zu ok, %zu warn, %zu fail", psum.n,
				    psum.nok, psum.nwarn, psum.nfail);
			fprintf(stderr, "; exit %d\n", rc);
		}
	}
	for (size_t i = 0; i < n; i++)
		push_result_free(&res[i]);
out:
	cli_probe_routes_free(&routes);
	diags_free(&diags);
	strv_free(&pobjs);
	free(res);
	free(hash);
	free(hosts);
	libssh2_exit();
	site_free(site);
	free(site);
	return rc;
}

int
cmd_plan(struct cli *cli)
{
	return run(cli, M_PLAN);
}

int
cmd_apply(struct cli *cli)
{
	return run(cli, M_APPLY);
}

int
cmd_batch(struct cli *cli)
{
	return run(cli, cli->dry_run ? M_DRY : M_BATCH);
}

int
cmd_audit(struct cli *cli)
{
	return run(cli, M_AUDIT);
}

int
cmd_unlock(struct cli *cli)
{
	return run(cli, M_UNLOCK);
}
