/* fleet.h: run one task on many hosts (share/doc/HACKING.md §3 "fleet runner").
 *
 * One pool of worker threads, at most jobs at a time (FLEET_JOBS_DEFAULT when the caller
 * does not say), each taking the next host until none is left; the SSH library is
 * initialised once per process (pthread_once) before the first worker starts; a progress
 * callback hears every host start, change stage and finish, one call at a time; setting
 * *cancel stops new hosts from starting (hosts in flight finish). A worker thread that
 * cannot be created leaves its share to the others (and to the caller's thread when
 * none can). plan, apply, audit, unlock and doctor, on the command line and in the
 * console, all run through here. */
#ifndef MXDECK_FLEET_H
#define MXDECK_FLEET_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>

#include "backends/ssh/doctor.h"
#include "backends/ssh/push.h"
#include "profiles/site.h"

#define FLEET_JOBS_DEFAULT	16	/* mxdeck(1) --jobs */

/* What the progress callback is told. */
struct fleet_progress {
	size_t	 total;		/* hosts in the run */
	size_t	 done;		/* finished (or skipped) so far, this one included */
	size_t	 running;	/* started and not finished */
	size_t	 index;		/* the host this call is about */
	const struct host *host;
	const char *stage;	/* "started", a push stage ("connecting", "validating",
				 * ...), "done", or "skipped" (not started: cancelled) */
};

struct fleet_opts {
	int	 jobs;		/* at most this many hosts at once; <= 0: FLEET_JOBS_DEFAULT */
	atomic_int *cancel;	/* non-zero: no new host starts; may be NULL */
	/* Called from worker threads, never two at once; keep it short. May be NULL. */
	void	(*progress)(void *arg, const struct fleet_progress *p);
	void	*progress_arg;
};

/* The SSH library, initialised once per process (thread-safe; later calls return the
 * first call's result). 0, or -1 with *cause. fleet_run calls it; call it yourself only
 * to use a session outside a fleet run. */
int fleet_lib_init(char **cause);

struct fleet;
/* Run task(f, arg, i) for each host i (from a worker thread). Within the task,
 * fleet_stage() reports a stage of host i. Hosts not started because of the cancel flag
 * get skip(arg, i) (may be NULL). 0, or -1 with *cause when the SSH library cannot be
 * initialised (no task ran). */
int fleet_run(const struct host *const *hosts, size_t n, const struct fleet_opts *o,
    void (*task)(struct fleet *f, void *arg, size_t i),
    void (*skip)(void *arg, size_t i), void *arg, char **cause);
void fleet_stage(struct fleet *f, size_t i, const char *stage);

/* Push: opts->mode on every host, results[i] for hosts[i] (initialised here; the caller
 * frees each with push_result_free). The stages of push_host reach fo->progress (and
 * po->progress too, if set). A host not started because of fo->cancel is "interrupted"
 * with nothing changed (PUSH_ROLLEDBACK). Returns the worst outcome of all hosts. */
enum push_outcome fleet_push(const struct site *site, const struct host *const *hosts,
    size_t n, const struct push_opts *po, const struct fleet_opts *fo,
    struct push_result *results);

/* Doctor: the read-only preflight on every host, results[i] for hosts[i] (initialised
 * here; the caller frees each with doctor_result_free). */
void fleet_doctor(const struct site *site, const struct host *const *hosts, size_t n,
    const struct doctor_opts *dopts, const struct fleet_opts *fo,
    struct doctor_result *results);

#endif
