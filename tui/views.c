/* views.c: THE list of console views, in the order of the list on the left (the first
 * ten also get the digit keys 1..9, 0; every view is reachable with `:` NAME). A new
 * view is one file that defines a `const struct view` (tui/view.h) plus one row here
 * (share/doc/HACKING.md §4.4). */
#include "tui/view.h"

extern const struct view view_site, view_hosts, view_vhosts, view_autodiscover,
    view_hrules, view_tls, view_users, view_plan, view_tests, view_log, view_findings;

const struct view *const views[] = {
	&view_site,		/* view-ini.c: rows of the generic profile-section view */
	&view_hosts,
	&view_vhosts,
	&view_autodiscover,
	&view_hrules,
	&view_tls,
	&view_users,		/* view-users.c */
	&view_plan,		/* view-jobs.c */
	&view_tests,		/* view-jobs.c */
	&view_log,		/* view-log.c */
	&view_findings,		/* view-findings.c (no digit: `:findings`) */
};
const size_t nviews = nitems(views);

_Static_assert(nitems(views) <= VIEWS_MAX, "views[]: raise VIEWS_MAX in tui/view.h");
