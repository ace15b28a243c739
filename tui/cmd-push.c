/* cmd-push.c: plan, apply, --batch and audit. Placeholder until the push back end lands. */
#include <stdio.h>

#include "tui/cli.h"

static int
not_built(const char *what)
{
	fprintf(stderr, "mxdeck: %s: not built yet in this version\n", what);
	return EXIT_USAGE;
}

int cmd_plan(struct cli *cli) { (void)cli; return not_built("plan"); }
int cmd_apply(struct cli *cli) { (void)cli; return not_built("apply"); }
int cmd_batch(struct cli *cli) { (void)cli; return not_built("--batch"); }
int cmd_audit(struct cli *cli) { (void)cli; return not_built("audit"); }
