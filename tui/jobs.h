/* jobs.h: plan, push, doctor and live tests in the background (jobs.c); their rows are
 * the Plan and Tests views. */
#ifndef MXDECK_JOBS_H
#define MXDECK_JOBS_H

#include "tui/view.h"

void	jobs_init(struct console *c);
void	jobs_free(struct console *c);
void	jobs_plan(struct console *c);
void	jobs_push(struct console *c);
/* P: plan, then ask "apply N changes on H hosts (names)?"; y runs jobs_push. */
void	jobs_push_plan(struct console *c);
void	jobs_test(struct console *c);
void	jobs_doctor(struct console *c);	/* read-only preflight per host, in Plan */
bool	jobs_drain(struct console *c);		/* true: something changed */
bool	jobs_busy(const struct console *c);	/* a plan or push runs */
bool	jobs_running(const struct console *c);	/* any job runs */
/* The last test run's login verdict for user x protocol (the worst over its hosts):
 * -2 not tested, -1 pending, else enum probe_status. */
int	jobs_login_status(const struct console *c, const char *email, int proto);
bool	jobs_have_logins(const struct console *c);	/* the last run had login probes */

#endif
