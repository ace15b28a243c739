/* jobs.c: plan, push and live tests without freezing the screen.
 *
 * A job runs on a worker thread over its own snapshot of the profile (loaded from
 * the document when the job starts, so later edits cannot change it under the
 * thread). Workers never touch the console: they append events to a queue under a
 * mutex and wake the main loop through the tty self-pipe; jobs_drain() applies the
 * events on the main thread. Plan, push and doctor run the hosts through the fleet
 * runner (backends/ssh/fleet.c: a pool of at most --jobs or 16 threads); tests use the
 * probe engine, whose callback posts a copy of each result as it completes.
 *
 * The rows are two views, Plan and Tests (view-jobs.c); the state both files read is in
 * jobs-int.h. */
#include <curses.h>

#include <openssl/evp.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include "backends/probe/probe.h"
#include "backends/ssh/doctor.h"
#include "backends/ssh/fleet.h"
#include "backends/ssh/push.h"
#include "tui/doc.h"
#include "tui/jobs-int.h"
#include "tui/jobs.h"
#include "tui/view.h"

enum evkind { EV_STATE, EV_HOST, EV_PROBE, EV_DONE };

struct jev {
	enum evkind	 kind;
	size_t		 idx;
	char		*text;		/* state, or summary */
	char		*diff;
	int		 exit;
	size_t		 nchanges;	/* EV_HOST of a plan or push: files/settings */
	struct probe_result *pr;
};

double
jobs_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void
post(struct jobs *j, enum evkind k, size_t idx, const char *text, const char *diff,
    int exit, size_t nchanges, struct probe_result *pr)
{
	struct jev *e;

	pthread_mutex_lock(&j->mu);
	xgrow(&j->q, &j->qcap, j->nq + 1, sizeof *j->q);
	e = &j->q[j->nq++];
	e->kind = k;
	e->idx = idx;
	e->text = text != NULL ? xstrdup(text) : NULL;
	e->diff = diff != NULL ? xstrdup(diff) : NULL;
	e->exit = exit;
	e->nchanges = nchanges;
	e->pr = pr;
	pthread_mutex_unlock(&j->mu);
	tty_wakeup();
}

void
jobs_init(struct console *c)
{
	struct jobs *j = xcalloc(1, sizeof *j);

	pthread_mutex_init(&j->mu, NULL);
	atomic_init(&j->cancel, 0);
	c->jobs = j;
}

static void
free_hosts(struct jobs *j)
{
	for (size_t i = 0; i < j->nhosts; i++) {
		free(j->hosts[i].name);
		free(j->hosts[i].state);
		free(j->hosts[i].summary);
		free(j->hosts[i].diff);
	}
	free(j->hosts);
	j->hosts = NULL;
	j->nhosts = 0;
}

static void
free_tests(struct jobs *j)
{
	for (size_t i = 0; i < j->ntests; i++) {
		struct testrow *t = &j->tests[i];

		free(t->kind);
		free(t->name);
		free(t->target);
		free(t->summary);
		free(t->details);
		free(t->host);
	}
	free(j->tests);
	j->tests = NULL;
	j->ntests = 0;
}

static void
free_events(struct jobs *j)
{
	for (size_t i = 0; i < j->nq; i++) {
		free(j->q[i].text);
		free(j->q[i].diff);
		if (j->q[i].pr != NULL)
			probe_result_free(j->q[i].pr);
	}
	j->nq = 0;
}

static void
job_finish(struct jobs *j)
{
	if (j->kind == J_NONE)
		return;
	pthread_join(j->thr, NULL);
	if (j->pl != NULL) {
		probe_list_free(j->pl);
		j->pl = NULL;
	}
	cli_probe_routes_free(&j->routes);
	if (j->snap != NULL) {
		site_free(j->snap);
		free(j->snap);
		j->snap = NULL;
	}
	free(j->hash);
	j->hash = NULL;
	j->kind = J_NONE;
}

void
jobs_free(struct console *c)
{
	struct jobs *j = c->jobs;

	if (j == NULL)
		return;
	atomic_store(&j->cancel, 1);
	job_finish(j);
	free_events(j);
	free(j->q);
	free_hosts(j);
	free_tests(j);
	free(j->plan_title);
	free(j->test_title);
	pthread_mutex_destroy(&j->mu);
	free(j);
	c->jobs = NULL;
}

bool
jobs_running(const struct console *c)
{
	return c->jobs != NULL && c->jobs->kind != J_NONE;
}

bool
jobs_busy(const struct console *c)
{
	return c->jobs != NULL && (c->jobs->kind == J_PUSH || c->jobs->kind == J_PLAN ||
	    c->jobs->kind == J_DOCTOR);
}


/* A private copy of the current profile (with unsaved CSV deletions and toggles) for
 * a worker. */
static struct site *
snapshot(struct console *c, char **hash)
{
	struct site *s;
	struct diags d;
	size_t len;
	char *buf = ini_serialize(&c->site->ini, &len);
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int mdlen = 0;
	struct sbuf h;

	doc_check(c, buf, len, &s, &d);
	diags_free(&d);
	doc_apply_pending(c, s);
	sb_init(&h);
	sb_add(&h, "sha256:");
	if (EVP_Digest(buf, len, md, &mdlen, EVP_sha256(), NULL) == 1)
		for (unsigned i = 0; i < mdlen; i++)
			sb_addf(&h, "%02x", md[i]);
	*hash = sb_steal(&h);
	free(buf);
	return s;
}

/* push_opts.progress: one state line per stage (connecting, locked, uploading,
 * validating, reloading...), from the host's own thread. */
static void
host_stage(void *arg, const struct host *h, const char *stage)
{
	struct jobs *j = arg;

	post(j, EV_STATE, (size_t)(h - j->snap->hosts), stage, NULL, 0, 0, NULL);
}

/* fleet_run's task: one host of a plan, push or doctor, on a fleet worker thread. */
static void
host_task(struct fleet *f, void *arg, size_t idx)
{
	struct jobs *j = arg;
	const struct host *h = &j->snap->hosts[idx];
	struct push_result r;

	(void)f;
	if (j->plan_kind == J_DOCTOR) {	/* set before this thread started */
		struct doctor_opts o = { .known_hosts = j->popts.known_hosts,
		    .identity = j->popts.identity, .connect_timeout = 10, .timeout = 60 };
		struct doctor_result dr;
		struct sbuf b;

		doctor_result_init(&dr);
		doctor_host(j->snap, h, &o, &dr);
		sb_init(&b);
		doctor_report(&b, h, &dr);
		post(j, EV_HOST, idx, dr.summary != NULL ? dr.summary : "done", b.s, dr.exit,
		    0, NULL);
		sb_free(&b);
		doctor_result_free(&dr);
		return;
	}
	push_result_init(&r);
	push_host(j->snap, h, &j->popts, &r);
	{
		/* the detail view: summary, changes, notes, then the diffs */
		struct sbuf b;

		sb_init(&b);
		sb_addf(&b, "%s (%.1f s)\n", r.summary != NULL ? r.summary : "done", r.seconds);
		if (r.backup != NULL)
			sb_addf(&b, "backup: %s\n", r.backup);
		for (size_t i = 0; i < r.changes.n; i++)
			sb_addf(&b, "  change: %s\n", r.changes.v[i]);
		for (size_t i = 0; i < r.notes.n; i++)
			sb_addf(&b, "  note: %s\n", r.notes.v[i]);
		sb_add(&b, "\n");
		if (r.diff.len > 0)
			sb_addn(&b, r.diff.s, r.diff.len);
		else
			sb_add(&b, "(no diff)\n");
		/* a step that failed on a host that answered: -1, shown as "failed" */
		post(j, EV_HOST, idx, r.summary != NULL ? r.summary : "done", b.s,
		    r.failed ? -1 : (int)r.exit, r.changes.n, NULL);
		sb_free(&b);
	}
	push_result_free(&r);
}

/* The job's thread: the hosts through the fleet runner (backends/ssh/fleet.c), at most
 * --jobs (default 16) at a time. cancel (the console closing, a signal): no new host is
 * started; the hosts in flight finish. */
static void *
push_thread(void *arg)
{
	struct jobs *j = arg;
	size_t n = j->snap->nhosts;
	const struct host **hosts = xcalloc(n ? n : 1, sizeof *hosts);
	struct fleet_opts fo = { .jobs = j->maxpar, .cancel = &j->cancel };
	char *cause = NULL;

	for (size_t i = 0; i < n; i++)
		hosts[i] = &j->snap->hosts[i];
	if (fleet_run(hosts, n, &fo, host_task, NULL, j, &cause) == -1) {
		for (size_t i = 0; i < n; i++)
			post(j, EV_HOST, i, cause, cause, PUSH_UNREACHABLE, 0, NULL);
		free(cause);
	}
	free(hosts);
	post(j, EV_DONE, 0, NULL, NULL, 0, 0, NULL);
	return NULL;
}

/* A plan, a push, or (doctor) the read-only preflight of every host, in the Plan
 * section. */
static void
start_push(struct console *c, enum push_mode mode, bool doctor)
{
	struct jobs *j = c->jobs;
	const char *what = doctor ? "doctor" : mode == PUSH_APPLY ? "push" :
	    mode == PUSH_AUDIT ? "audit plan" : "plan";
	time_t now = time(NULL);
	struct tm tm;
	char ts[16];

	if (j->kind != J_NONE) {
		con_status(c, true, "%s: another job is still running (see Plan/Tests)", what);
		return;
	}
	if (c->diags.nerrors > 0) {
		con_status(c, true, "%s: the profile has %zu error(s): fix them first", what,
		    c->diags.nerrors);
		return;
	}
	j->snap = snapshot(c, &j->hash);
	free_hosts(j);
	j->nhosts = j->snap->nhosts;
	j->hosts = xcalloc(j->nhosts ? j->nhosts : 1, sizeof *j->hosts);
	for (size_t i = 0; i < j->nhosts; i++) {
		j->hosts[i].name = xstrdup(j->snap->hosts[i].name);
		j->hosts[i].state = xstrdup("waiting");
	}
	memset(&j->popts, 0, sizeof j->popts);
	j->popts.mode = mode;
	j->popts.known_hosts = c->cli->known_hosts;
	j->popts.identity = c->cli->identity;
	j->popts.ssh_config = c->cli->ssh_config;	/* no passphrase prompt under curses */
	j->popts.accept_new = c->cli->accept_new_host_keys;
	/* the TLSA gate refuses a host whose new key DNS does not publish (the console
	 * has no --force-tlsa: that takes the command line, on purpose) */
	j->popts.tlsa_lookup = cli_tlsa_lookup;
	j->popts.profile_hash = j->hash;
	j->popts.profile = c->cli->profile;
	if (gethostname(j->controller, sizeof j->controller - 1) != 0)
		snprintf(j->controller, sizeof j->controller, "localhost");
	j->popts.controller = j->controller;
	j->popts.pid = (long)getpid();
	j->popts.progress = host_stage;
	j->popts.progress_arg = j;
	atomic_store(&j->cancel, 0);
	j->maxpar = c->cli->jobs;	/* 0: FLEET_JOBS_DEFAULT */
	localtime_r(&now, &tm);
	strftime(ts, sizeof ts, "%H:%M:%S", &tm);
	free(j->plan_title);
	j->plan_title = xasprintf("%c%s started %s, %zu host%s", what[0] - 'a' + 'A',
	    what + 1, ts, j->nhosts, j->nhosts == 1 ? "" : "s");
	j->kind = doctor ? J_DOCTOR : mode == PUSH_APPLY ? J_PUSH : J_PLAN;
	j->plan_kind = j->kind;
	j->plan_mode = mode;
	j->t0 = jobs_now();
	c->cur[con_view_index(&view_plan)] = 0;
	if (pthread_create(&j->thr, NULL, push_thread, j) != 0) {
		j->kind = J_NONE;
		con_status(c, true, "%s: cannot start a thread", what);
		return;
	}
	con_log(c, "%s started (%zu hosts)", what, j->nhosts);
	con_status(c, false, "%s running in the background: the Plan section shows each "
	    "host", what);
	con_show_view(c, &view_plan);
}

void
jobs_plan(struct console *c)
{
	start_push(c, c->audit ? PUSH_AUDIT : PUSH_PLAN, false);
}

static void
answer_push(struct console *c, wint_t wc, int arg)
{
	(void)arg;
	if (wc == 'y')
		jobs_push(c);
	else
		con_status(c, false, wc == 27 ? "cancelled" : "push cancelled");
}

/* After the plan P started: "apply 14 changes on 3 hosts (gw1, gw2, gw3)?", from the
 * plan's own counts, unless the profile changed (or was saved) while it ran. */
static void
push_question(struct console *c)
{
	struct jobs *j = c->jobs;
	size_t nch = 0, nhosts = 0, nfail = 0;
	struct sbuf names, failed;

	if (c->dirty_ini || c->nuch > 0 || c->nudel > 0 || c->saves != j->push_saves) {
		con_status(c, true, "the profile changed while the plan ran: nothing pushed "
		    "(save, then P plans and asks again)");
		return;
	}
	sb_init(&names);
	sb_init(&failed);
	for (size_t i = 0; i < j->nhosts; i++) {
		const struct hostrow *h = &j->hosts[i];

		if (h->exit == 1 && h->nchanges > 0) {
			if (nhosts < 5)
				sb_addf(&names, "%s%s", nhosts ? ", " : "", h->name);
			else if (nhosts == 5)
				sb_add(&names, ", ...");
			nch += h->nchanges;
			nhosts++;
		} else if (h->exit != 0) {
			if (nfail < 5)
				sb_addf(&failed, "%s%s", nfail ? ", " : "", h->name);
			else if (nfail == 5)
				sb_add(&failed, ", ...");
			nfail++;
		}
	}
	if (c->confirm != NULL || c->prompting) {
		con_status(c, false, "plan done: %zu change%s on %zu host%s; P asks again",
		    nch, nch == 1 ? "" : "s", nhosts, nhosts == 1 ? "" : "s");
	} else {
		char *fail = nfail == 0 ? xstrdup("") : xasprintf("; the plan failed on %zu "
		    "(%s)", nfail, failed.s);

		if (nch == 0)	/* the admin decides: the push checks each host again */
			con_ask(c, answer_push, 0, "the plan found no change on %zu host%s%s: "
			    "push anyway? [y] push  [n/Esc] cancel", j->nhosts - nfail,
			    j->nhosts - nfail == 1 ? "" : "s", fail);
		else
			con_ask(c, answer_push, 0, "apply %zu change%s on %zu host%s (%s)%s? "
			    "[y] push  [n/Esc] cancel", nch, nch == 1 ? "" : "s", nhosts,
			    nhosts == 1 ? "" : "s", names.s, fail);
		free(fail);
	}
	sb_free(&names);
	sb_free(&failed);
}

/* P: a plan first; its end asks the push question with the counts (push_question). */
void
jobs_push_plan(struct console *c)
{
	struct jobs *j = c->jobs;

	if (c->audit)
		return;
	start_push(c, PUSH_PLAN, false);
	if (j->kind != J_PLAN)
		return;		/* start_push said why */
	j->push_after = true;
	j->push_saves = c->saves;
	con_status(c, false, "planning before the push: the question comes when the plan "
	    "is done");
}

void
jobs_push(struct console *c)
{
	if (c->audit)
		return;
	start_push(c, PUSH_APPLY, false);
}

/* Read-only, so allowed in --audit too. */
void
jobs_doctor(struct console *c)
{
	start_push(c, PUSH_AUDIT, true);
}

static void
probe_cb_post(const struct probe_result *r, void *arg)
{
	struct jobs *j = arg;

	post(j, EV_PROBE, r->index, NULL, NULL, 0, 0, probe_result_dup(r));
}

static void *
test_thread(void *arg)
{
	struct jobs *j = arg;
	struct probe_opts o;
	struct probe_summary sum;
	char *s;

	memset(&sum, 0, sizeof sum);
	o = j->popts_probe;
	o.cancel = &j->cancel;
	probe_run(j->pl, &o, probe_cb_post, j, &sum);
	s = xasprintf("%zu tests: %zu ok, %zu warn, %zu fail in %.1f s", sum.n, sum.nok,
	    sum.nwarn, sum.nfail, sum.wall);
	post(j, EV_DONE, 0, s, NULL, 0, 0, NULL);
	free(s);
	return NULL;
}

void
jobs_test(struct console *c)
{
	struct jobs *j = c->jobs;
	struct probe_opts o;
	char *cause = NULL;

	if (j->kind != J_NONE) {
		con_status(c, true, "tests: another job is still running");
		return;
	}
	if (c->diags.nerrors > 0) {
		con_status(c, true, "tests: the profile has %zu error(s): fix them first",
		    c->diags.nerrors);
		return;
	}
	memset(&o, 0, sizeof o);
	/* The environment's probe settings, as on the command line (mxdeck test). */
	if (probe_opts_from_env(&o, &cause) == -1) {
		con_status(c, true, "tests: %s", cause);
		free(cause);
		return;
	}
	j->snap = snapshot(c, &j->hash);
	if (c->cli->hosts.n > 0)
		o.hosts = &c->cli->hosts;
	cli_probe_routes_free(&j->routes);
	cli_probe_routes(c->cli, j->snap, &j->routes);
	o.addresses = (const char *const *)j->routes.addresses;
	if (probe_list_build(j->snap, &o, &j->pl, &cause) == -1) {
		con_status(c, true, "tests: %s", cause);
		free(cause);
		cli_probe_routes_free(&j->routes);
		site_free(j->snap);
		free(j->snap);
		j->snap = NULL;
		return;
	}
	o.hosts = NULL;		/* probe_list_build applied it; the run does not use it */
	j->popts_probe = o;
	free_tests(j);
	j->ntests = probe_list_count(j->pl);
	j->tests = xcalloc(j->ntests ? j->ntests : 1, sizeof *j->tests);
	for (size_t i = 0; i < j->ntests; i++) {
		const char *k = probe_list_kind(j->pl, i), *n = probe_list_name(j->pl, i),
		    *t = probe_list_target(j->pl, i);

		j->tests[i].kind = xstrdup(k ? k : "");
		j->tests[i].name = xstrdup(n ? n : "");
		j->tests[i].target = xstrdup(t ? t : "");
		j->tests[i].status = -1;
	}
	j->nok = j->nwarn = j->nfail = 0;
	free(j->test_title);
	j->test_title = xasprintf("Live tests: %zu running:", j->ntests);
	atomic_store(&j->cancel, 0);
	j->kind = J_TEST;
	j->t0 = jobs_now();
	c->cur[con_view_index(&view_tests)] = 0;
	if (pthread_create(&j->thr, NULL, test_thread, j) != 0) {
		j->kind = J_NONE;
		con_status(c, true, "tests: cannot start a thread");
		return;
	}
	con_log(c, "live tests started: %zu probes", j->ntests);
	for (size_t i = 0; i < j->routes.n; i++)
		if (j->routes.notes[i] != NULL)
			con_log(c, "%s", j->routes.notes[i]);
	con_status(c, false, "live tests running: results fill in as they arrive");
	con_show_view(c, &view_tests);
}

bool
jobs_drain(struct console *c)
{
	struct jobs *j = c->jobs;
	struct jev *ev;
	size_t n;

	if (j == NULL)
		return false;
	pthread_mutex_lock(&j->mu);
	ev = j->q;
	n = j->nq;
	j->q = NULL;
	j->nq = j->qcap = 0;
	pthread_mutex_unlock(&j->mu);
	if (n == 0)
		return false;
	for (size_t i = 0; i < n; i++) {
		struct jev *e = &ev[i];

		switch (e->kind) {
		case EV_STATE:
			if (e->idx < j->nhosts) {
				free(j->hosts[e->idx].state);
				j->hosts[e->idx].state = e->text;
				j->hosts[e->idx].t0 = jobs_now();
				e->text = NULL;
			}
			break;
		case EV_HOST:
			if (e->idx < j->nhosts) {
				struct hostrow *h = &j->hosts[e->idx];

				free(h->state);
				/* push.c words a host another run holds "host H: locked: ..." */
				if (j->plan_kind == J_DOCTOR)
					h->state = xstrdup(e->exit == 0 ? "ready" : e->exit == 3 ?
					    "unreachable" : "missing");
				else
					h->state = xstrdup(e->exit == 0 ? "done" : e->exit == 1 ?
					    "drift" : e->exit == 3 && e->text != NULL &&
					    strstr(e->text, ": locked: ") != NULL ? "locked" :
					    e->exit == 3 ? "unreachable" : e->exit == 4 ?
					    "rolled back" : e->exit == 5 ? "ROLLBACK FAILED" :
					    "failed");
				free(h->summary);
				h->summary = e->text;
				e->text = NULL;
				free(h->diff);
				h->diff = e->diff;
				e->diff = NULL;
				h->exit = e->exit;
				h->nchanges = e->nchanges;
				h->done = true;
				con_log(c, "%s %s: %s: %s", j->plan_kind == J_PUSH ? "push" :
				    "plan", h->name, h->state, h->summary);
			}
			break;
		case EV_PROBE:
			if (e->pr != NULL && e->pr->index < j->ntests) {
				struct testrow *t = &j->tests[e->pr->index];

				t->status = (int)e->pr->status;
				free(t->summary);
				t->summary = xstrdup(e->pr->summary ? e->pr->summary : "");
				free(t->details);
				t->details = xstrdup(e->pr->details ? e->pr->details : "");
				free(t->host);
				t->host = e->pr->host ? xstrdup(e->pr->host) : NULL;
				t->duration = e->pr->duration;
				if (t->status == PROBE_OK)
					j->nok++;
				else if (t->status == PROBE_WARN)
					j->nwarn++;
				else
					j->nfail++;
				con_log(c, "test %s %s: %s: %s", t->kind, t->name,
				    probe_status_names[t->status], t->summary);
			}
			break;
		case EV_DONE:
			if (j->kind == J_TEST) {
				free(j->test_title);
				j->test_title = xasprintf("Live tests done in %.1f s:",
				    jobs_now() - j->t0);
				con_log(c, "live tests done: %s", e->text ? e->text : "");
				con_status(c, j->nfail > 0, "live tests done: %s",
				    e->text ? e->text : "");
			} else {
				size_t bad = 0, drift = 0;
				char *m;

				for (size_t k = 0; k < j->nhosts; k++) {
					if (j->hosts[k].exit == 1 && j->kind == J_PLAN)
						drift++;
					else if (j->hosts[k].exit != 0)
						bad++;
				}
				if (j->kind == J_DOCTOR)
					m = xasprintf("doctor done in %.1f s: %zu of %zu host%s ready, "
					    "%zu not (Enter on a host shows its findings and fixes)",
					    jobs_now() - j->t0, j->nhosts - bad - drift, j->nhosts,
					    j->nhosts == 1 ? "" : "s", bad + drift);
				else if (j->kind == J_PLAN)
					m = xasprintf("plan done in %.1f s: %zu host%s with changes, "
					    "%zu without, %zu failed (Enter on a host shows its diff)",
					    jobs_now() - j->t0, drift, drift == 1 ? "" : "s",
					    j->nhosts - drift - bad, bad);
				else
					m = xasprintf("push done in %.1f s: %zu of %zu host%s ok, %zu "
					    "failed (Enter on a host shows what happened)",
					    jobs_now() - j->t0, j->nhosts - bad, j->nhosts,
					    j->nhosts == 1 ? "" : "s", bad);
				con_log(c, "%s", m);
				con_status(c, bad > 0, "%s", m);
				free(m);
			}
			if (j->kind == J_PLAN && j->push_after)
				push_question(c);
			j->push_after = false;
			job_finish(j);
			break;
		}
	}
	for (size_t i = 0; i < n; i++) {
		free(ev[i].text);
		free(ev[i].diff);
		if (ev[i].pr != NULL)
			probe_result_free(ev[i].pr);
	}
	free(ev);
	return true;
}

/* ---- what the Users view shows of the login probes ------------------------- */

int
jobs_login_status(const struct console *c, const char *email, int proto)
{
	const struct jobs *j = c->jobs;
	size_t el = strlen(email);
	int worst = -2;

	if (j == NULL)
		return -2;
	for (size_t i = 0; i < j->ntests; i++) {
		const struct testrow *t = &j->tests[i];
		const char *n = t->name;

		/* login probes are named "ADDRESS PROTOCOL" (one per host or vhost) */
		if (strcmp(t->kind, "login") != 0 || strncasecmp(n, email, el) != 0 ||
		    n[el] != ' ' || strcmp(n + el + 1, proto_names[proto]) != 0)
			continue;
		if (t->status == -1) {
			if (worst == -2)
				worst = -1;
		} else if (t->status > worst)
			worst = t->status;
	}
	return worst;
}

bool
jobs_have_logins(const struct console *c)
{
	const struct jobs *j = c->jobs;

	for (size_t i = 0; j != NULL && i < j->ntests; i++)
		if (strcmp(j->tests[i].kind, "login") == 0)
			return true;
	return false;
}
