/* test_fleet.c: the fleet runner (backends/ssh/fleet.c): every host runs exactly once,
 * never more than jobs at a time (16 by default), the progress callback is serialised
 * and counts to the end, cancellation skips the hosts not started, and a worker thread
 * that cannot be created (pthread_create wrapped to fail) leaves its hosts to the others
 * or to the calling thread. */
// LDFLAGS: -Wl,--wrap=pthread_create
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "backends/ssh/fleet.h"
#include "profiles/diag.h"
#include "profiles/site.h"

/* pthread_create fails once `creatable` threads were made (-1: never fails). */
static atomic_int creatable = -1;
int __real_pthread_create(pthread_t *t, const pthread_attr_t *a, void *(*f)(void *), void *arg);
int
__wrap_pthread_create(pthread_t *t, const pthread_attr_t *a, void *(*f)(void *), void *arg)
{
	if (atomic_load(&creatable) == 0)
		return 11;	/* EAGAIN */
	if (atomic_load(&creatable) > 0)
		atomic_fetch_sub(&creatable, 1);
	return __real_pthread_create(t, a, f, arg);
}

#define N 40

struct run {
	atomic_int ran[N];
	atomic_int skipped[N];
	atomic_int now, peak;
	atomic_int in_progress;		/* a progress call is under way */
	int	 overlap;		/* two progress calls at once (must stay 0) */
	size_t	 started, done_events, last_done;
	int	 cancel_after;		/* set *cancel when this many hosts ran (-1: never) */
	atomic_int *cancel;
	pthread_t caller;
	atomic_int on_caller;		/* tasks run on the calling thread */
	const struct host *hosts[N];
	struct host hostv[N];
};

static void
task(struct fleet *f, void *arg, size_t i)
{
	struct run *r = arg;
	int now = atomic_fetch_add(&r->now, 1) + 1, peak = atomic_load(&r->peak);
	struct timespec ts = { 0, 2 * 1000 * 1000 };	/* overlap the workers */

	while (now > peak && !atomic_compare_exchange_weak(&r->peak, &peak, now))
		;
	fleet_stage(f, i, "working");
	if (pthread_equal(pthread_self(), r->caller))
		atomic_fetch_add(&r->on_caller, 1);
	nanosleep(&ts, NULL);
	atomic_fetch_add(&r->ran[i], 1);
	if (r->cancel_after >= 0) {
		int total = 0;

		for (size_t k = 0; k < N; k++)
			total += atomic_load(&r->ran[k]);
		if (total >= r->cancel_after)
			atomic_store(r->cancel, 1);
	}
	atomic_fetch_sub(&r->now, 1);
}

static void
on_skip(void *arg, size_t i)
{
	struct run *r = arg;

	atomic_fetch_add(&r->skipped[i], 1);
}

static void
progress(void *arg, const struct fleet_progress *p)
{
	struct run *r = arg;

	if (atomic_fetch_add(&r->in_progress, 1) != 0)
		r->overlap++;
	assert_int_equal(p->total, N);
	assert_true(p->index < N);
	assert_ptr_equal(p->host, r->hosts[p->index]);
	assert_true(p->done >= r->last_done);	/* never goes back */
	r->last_done = p->done;
	if (strcmp(p->stage, "started") == 0)
		r->started++;
	else if (strcmp(p->stage, "done") == 0 || strcmp(p->stage, "skipped") == 0)
		r->done_events++;
	else
		assert_string_equal(p->stage, "working");
	atomic_fetch_sub(&r->in_progress, 1);
}

static struct run *
run_new(void)
{
	struct run *r = calloc(1, sizeof *r);

	for (size_t i = 0; i < N; i++) {
		r->hostv[i].name = (char *)"h";
		r->hosts[i] = &r->hostv[i];
	}
	r->cancel_after = -1;
	r->caller = pthread_self();
	return r;
}

static void
go(struct run *r, int jobs, atomic_int *cancel)
{
	struct fleet_opts o = { .jobs = jobs, .cancel = cancel, .progress = progress,
	    .progress_arg = r };
	char *cause = NULL;

	r->cancel = cancel;
	assert_int_equal(fleet_run(r->hosts, N, &o, task, on_skip, r, &cause), 0);
	assert_null(cause);
	assert_int_equal(r->overlap, 0);
	assert_int_equal(r->done_events, N);
	assert_int_equal(r->last_done, N);
}

static void
test_bounded(void **state)
{
	struct run *r = run_new();

	(void)state;
	go(r, 4, NULL);
	for (size_t i = 0; i < N; i++)
		assert_int_equal(atomic_load(&r->ran[i]), 1);
	assert_int_equal(r->started, N);
	assert_true(atomic_load(&r->peak) <= 4);
	assert_true(atomic_load(&r->peak) >= 1);
	assert_int_equal(atomic_load(&r->on_caller), 0);	/* on the workers */
	free(r);
}

static void
test_default_jobs(void **state)
{
	struct run *r = run_new();

	(void)state;
	go(r, 0, NULL);
	for (size_t i = 0; i < N; i++)
		assert_int_equal(atomic_load(&r->ran[i]), 1);
	assert_true(atomic_load(&r->peak) <= FLEET_JOBS_DEFAULT);
	free(r);
}

static void
test_cancel(void **state)
{
	struct run *r = run_new();
	atomic_int cancel = 0;
	int ran = 0, skipped = 0;

	(void)state;
	r->cancel_after = 5;
	go(r, 1, &cancel);
	for (size_t i = 0; i < N; i++) {
		assert_int_equal(atomic_load(&r->ran[i]) + atomic_load(&r->skipped[i]), 1);
		ran += atomic_load(&r->ran[i]);
		skipped += atomic_load(&r->skipped[i]);
	}
	assert_int_equal(ran, 5);	/* one worker: nothing starts after the fifth */
	assert_int_equal(skipped, N - 5);
	free(r);
}

static void
test_no_thread(void **state)
{
	struct run *r = run_new();

	(void)state;
	atomic_store(&creatable, 0);
	go(r, 8, NULL);
	atomic_store(&creatable, -1);
	for (size_t i = 0; i < N; i++)
		assert_int_equal(atomic_load(&r->ran[i]), 1);
	assert_int_equal(atomic_load(&r->on_caller), N);	/* all on the caller */
	assert_int_equal(atomic_load(&r->peak), 1);
	free(r);
}

static void
test_some_threads(void **state)
{
	struct run *r = run_new();

	(void)state;
	atomic_store(&creatable, 2);
	go(r, 8, NULL);
	atomic_store(&creatable, -1);
	for (size_t i = 0; i < N; i++)
		assert_int_equal(atomic_load(&r->ran[i]), 1);
	assert_true(atomic_load(&r->peak) <= 2);
	assert_int_equal(atomic_load(&r->on_caller), 0);
	free(r);
}

/* fleet_push with the cancel flag already set: no host is contacted, each one is
 * "interrupted, nothing changed", and the outcome is PUSH_ROLLEDBACK. */
static void
test_push_cancelled(void **state)
{
	static const char ini[] =
	    "[site]\nname = unit\ndomain = example.org\n"
	    "[host \"a\"]\naddress = 192.0.2.1\nroles = postfix\n"
	    "[host \"b\"]\naddress = 192.0.2.2\nroles = postfix\n";
	struct site site;
	struct diags d = { 0 };
	const struct host *hosts[2];
	struct push_result res[2];
	struct push_opts po = { .mode = PUSH_APPLY };
	atomic_int cancel = 1;
	struct fleet_opts fo = { .cancel = &cancel };

	(void)state;
	assert_int_equal(site_load_buf(&site, "/unit/site.ini", ini, strlen(ini), &d), 0);
	diags_free(&d);
	hosts[0] = &site.hosts[0];
	hosts[1] = &site.hosts[1];
	assert_int_equal(fleet_push(&site, hosts, 2, &po, &fo, res), PUSH_ROLLEDBACK);
	for (size_t i = 0; i < 2; i++) {
		assert_true(res[i].interrupted);
		assert_int_equal(res[i].exit, PUSH_ROLLEDBACK);
		assert_non_null(strstr(res[i].summary, "nothing was changed"));
		push_result_free(&res[i]);
	}
	site_free(&site);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_bounded),
		cmocka_unit_test(test_default_jobs),
		cmocka_unit_test(test_cancel),
		cmocka_unit_test(test_no_thread),
		cmocka_unit_test(test_some_threads),
		cmocka_unit_test(test_push_cancelled),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
