/* fleet.c: one host pool for every multi-host run (fleet.h). */
#include "backends/ssh/fleet.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include <libssh2.h>

#include "profiles/util.h"

/* ---- the SSH library, once per process ----
 * libssh2 initialises itself lazily on first use when libssh2_init() was not called, and
 * that lazy path is not thread-safe: with up to FLEET_JOBS_DEFAULT workers opening their
 * first session at the same moment it could run twice. The once-flag and its result
 * are the only process-wide state of the backends; they are written once, under
 * pthread_once, before any worker exists. */
static pthread_once_t lib_once = PTHREAD_ONCE_INIT;
static int lib_rc;

static void
lib_exit(void)
{
	libssh2_exit();
}

static void
lib_init_once(void)
{
	lib_rc = libssh2_init(0);
	if (lib_rc == 0)
		atexit(lib_exit);
}

int
fleet_lib_init(char **cause)
{
	pthread_once(&lib_once, lib_init_once);
	if (lib_rc != 0) {
		*cause = xasprintf("the SSH library (libssh2) cannot be initialised (error %d): "
		    "is its crypto backend (OpenSSL) working?", lib_rc);
		return -1;
	}
	return 0;
}

/* ---- the pool ---- */

struct fleet {
	const struct host *const *hosts;
	size_t	 n, next, done, running;
	const struct fleet_opts *o;
	void	(*task)(struct fleet *f, void *arg, size_t i);
	void	(*skip)(void *arg, size_t i);
	void	*arg;
	pthread_mutex_t mu;	/* next, done, running, and the progress calls */
};

/* With f->mu held. */
static void
tell(struct fleet *f, size_t i, const char *stage)
{
	struct fleet_progress p = {
		.total = f->n, .done = f->done, .running = f->running, .index = i,
		.host = f->hosts[i], .stage = stage,
	};

	if (f->o->progress != NULL)
		f->o->progress(f->o->progress_arg, &p);
}

void
fleet_stage(struct fleet *f, size_t i, const char *stage)
{
	pthread_mutex_lock(&f->mu);
	tell(f, i, stage);
	pthread_mutex_unlock(&f->mu);
}

static void *
worker(void *arg)
{
	struct fleet *f = arg;

	for (;;) {
		size_t i;
		bool stop;

		pthread_mutex_lock(&f->mu);
		if (f->next >= f->n) {
			pthread_mutex_unlock(&f->mu);
			return NULL;
		}
		i = f->next++;
		stop = f->o->cancel != NULL && atomic_load(f->o->cancel) != 0;
		if (stop) {
			f->done++;
			tell(f, i, "skipped");
		} else {
			f->running++;
			tell(f, i, "started");
		}
		pthread_mutex_unlock(&f->mu);
		if (stop) {
			if (f->skip != NULL)
				f->skip(f->arg, i);
			continue;
		}
		f->task(f, f->arg, i);
		pthread_mutex_lock(&f->mu);
		f->running--;
		f->done++;
		tell(f, i, "done");
		pthread_mutex_unlock(&f->mu);
	}
}

int
fleet_run(const struct host *const *hosts, size_t n, const struct fleet_opts *o,
    void (*task)(struct fleet *f, void *arg, size_t i),
    void (*skip)(void *arg, size_t i), void *arg, char **cause)
{
	struct fleet f = { .hosts = hosts, .n = n, .o = o, .task = task, .skip = skip,
	    .arg = arg };
	size_t nth = o->jobs > 0 ? (size_t)o->jobs : FLEET_JOBS_DEFAULT, started = 0;
	pthread_t *th;

	if (fleet_lib_init(cause) == -1)
		return -1;
	if (nth > n)
		nth = n;
	pthread_mutex_init(&f.mu, NULL);
	if (nth > 1) {
		th = xcalloc(nth, sizeof *th);
		/* A thread that cannot be created (EAGAIN: a process or memory limit)
		 * leaves its hosts to the others. */
		while (started < nth && pthread_create(&th[started], NULL, worker, &f) == 0)
			started++;
		if (started == 0)
			worker(&f);
		for (size_t i = 0; i < started; i++)
			pthread_join(th[i], NULL);
		free(th);
	} else
		worker(&f);
	pthread_mutex_destroy(&f.mu);
	return 0;
}

/* ---- push ---- */

struct push_run {
	const struct site *site;
	const struct host *const *hosts;
	const struct push_opts *po;
	struct push_result *res;
};

struct push_stage {
	struct fleet *f;
	size_t	 i;
	const struct push_opts *po;
};

static void
push_stage_fwd(void *arg, const struct host *host, const char *stage)
{
	struct push_stage *s = arg;

	fleet_stage(s->f, s->i, stage);
	if (s->po->progress != NULL)
		s->po->progress(s->po->progress_arg, host, stage);
}

static void
push_task(struct fleet *f, void *arg, size_t i)
{
	struct push_run *r = arg;
	struct push_stage st = { .f = f, .i = i, .po = r->po };
	struct push_opts o = *r->po;

	o.progress = push_stage_fwd;
	o.progress_arg = &st;
	push_host(r->site, r->hosts[i], &o, &r->res[i]);
}

static void
push_skip(void *arg, size_t i)
{
	struct push_run *r = arg;

	r->res[i].exit = PUSH_ROLLEDBACK;
	r->res[i].interrupted = true;
	r->res[i].summary = xstrdup("not started (interrupted): nothing was changed");
}

enum push_outcome
fleet_push(const struct site *site, const struct host *const *hosts, size_t n,
    const struct push_opts *po, const struct fleet_opts *fo, struct push_result *results)
{
	struct push_run r = { .site = site, .hosts = hosts, .po = po, .res = results };
	enum push_outcome worst = PUSH_OK;
	char *cause = NULL;

	for (size_t i = 0; i < n; i++)
		push_result_init(&results[i]);
	if (fleet_run(hosts, n, fo, push_task, push_skip, &r, &cause) == -1) {
		for (size_t i = 0; i < n; i++) {
			results[i].exit = PUSH_UNREACHABLE;
			results[i].summary = xasprintf("host %s: not contacted: %s",
			    hosts[i]->name, cause);
		}
		free(cause);
	}
	for (size_t i = 0; i < n; i++)
		if (results[i].exit > worst)
			worst = results[i].exit;
	return worst;
}

/* ---- doctor ---- */

struct doctor_run {
	const struct site *site;
	const struct host *const *hosts;
	const struct doctor_opts *o;
	struct doctor_result *res;
};

static void
doctor_task(struct fleet *f, void *arg, size_t i)
{
	struct doctor_run *r = arg;

	(void)f;
	doctor_host(r->site, r->hosts[i], r->o, &r->res[i]);
}

void
fleet_doctor(const struct site *site, const struct host *const *hosts, size_t n,
    const struct doctor_opts *dopts, const struct fleet_opts *fo,
    struct doctor_result *results)
{
	struct doctor_run r = { .site = site, .hosts = hosts, .o = dopts, .res = results };
	char *cause = NULL;

	for (size_t i = 0; i < n; i++)
		doctor_result_init(&results[i]);
	if (fleet_run(hosts, n, fo, doctor_task, NULL, &r, &cause) == -1) {
		for (size_t i = 0; i < n; i++) {
			results[i].exit = 3;
			results[i].summary = xasprintf("not contacted: %s", cause);
		}
		free(cause);
	}
}
