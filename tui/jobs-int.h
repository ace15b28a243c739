/* jobs-int.h: the job state shared by jobs.c (the worker threads and the event queue)
 * and view-jobs.c (the Plan and Tests views over its rows). Only those two include it. */
#ifndef MXDECK_JOBS_INT_H
#define MXDECK_JOBS_INT_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>

#include "backends/probe/probe.h"
#include "backends/ssh/push.h"
#include "tui/view.h"

enum jkind { J_NONE, J_PLAN, J_PUSH, J_TEST, J_DOCTOR };
struct hostrow {
	char	*name;
	char	*state;
	char	*summary;
	char	*diff;
	int	 exit;
	size_t	 nchanges;
	bool	 done;
	double	 t0;		/* when the host started */
};

struct testrow {
	char	*kind, *name, *target;
	int	 status;		/* enum probe_status, -1 while pending */
	char	*summary, *details, *host;
	double	 duration;
};

struct jev;

struct jobs {
	pthread_mutex_t	 mu;
	struct jev	*q;
	size_t		 nq, qcap;

	enum jkind	 kind;		/* running job, J_NONE when idle */
	pthread_t	 thr;
	struct site	*snap;
	char		*hash;
	struct push_opts popts;
	int		 maxpar;
	atomic_int	 cancel;
	double		 t0;

	enum jkind	 plan_kind;	/* what the Plan view shows: plan, push or doctor */
	enum push_mode	 plan_mode;	/* PUSH_AUDIT: drift is a finding */
	bool		 push_after;	/* P: this plan ends with the push question */
	unsigned long	 push_saves;	/* the console's save count when it started */
	char		*plan_title;
	struct hostrow	*hosts;
	size_t		 nhosts;

	char		*test_title;
	struct testrow	*tests;
	size_t		 ntests;
	size_t		 nok, nwarn, nfail;
	struct probe_list *pl;
	struct cli_routes routes;	/* where pl's host probes connect (ssh aliases) */
	char		 controller[256];
};

/* Seconds on the monotonic clock. */
double	jobs_now(void);

extern const struct view view_plan, view_tests;

#endif
