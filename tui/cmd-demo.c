/* cmd-demo.c: `mxdeck demo`: the live demo lab of the installed copy. Runs the shipped
 * lab script (DATADIR/lab/demo-lab.sh, share/lab in a build tree) on a sandbox under
 * $XDG_STATE_HOME/mxdeck/demo (default ~/.local/state/mxdeck/demo): it starts the lab's
 * daemons on loopback, pushes the demo profile (copied there on first use), opens the
 * console on it and stops every daemon when the console exits. Nothing is written
 * under the data directory. */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "tui/cli.h"

/* mkdir -p; the directories it creates get mode 0711: the lab's daemons (postfix,
 * www-data) must pass through them to the sandbox, nobody needs to list them. */
static int
mkdirs(const char *path)
{
	char *p = xstrdup(path), *s;
	int rc = 0;

	for (s = p + 1; rc == 0; s++) {
		if (*s != '/' && *s != '\0')
			continue;
		char c = *s;

		*s = '\0';
		if (mkdir(p, 0711) != 0 && errno != EEXIST)
			rc = -1;
		*s = c;
		if (c == '\0')
			break;
	}
	free(p);
	return rc;
}

/* $XDG_STATE_HOME/mxdeck/demo, else ~/.local/state/mxdeck/demo; NULL without either. */
static char *
demo_dir(void)
{
	const char *xdg = getenv("XDG_STATE_HOME"), *home = getenv("HOME");

	/* XDG: a relative XDG_STATE_HOME is invalid and ignored */
	if (xdg != NULL && xdg[0] == '/')
		return xasprintf("%s/mxdeck/demo", xdg);
	if (home != NULL && *home != '\0')
		return xasprintf("%s/.local/state/mxdeck/demo", home);
	return NULL;
}

int
cmd_demo(struct cli *cli)
{
	char *ex = cli_examples_dir(), *lab, *dir, exe[PATH_MAX];
	ssize_t n;

	(void)cli;
	lab = xasprintf("%s/../lab/demo-lab.sh", ex);
	free(ex);
	if (access(lab, X_OK) != 0) {
		fprintf(stderr, "mxdeck: demo: the demo lab script %s: %s (reinstall mxdeck: "
		    "make install)\n", lab, strerror(errno));
		free(lab);
		return EXIT_USAGE;
	}
	if ((dir = demo_dir()) == NULL) {
		fprintf(stderr, "mxdeck: demo: neither XDG_STATE_HOME nor HOME is set: no "
		    "place for the demo's sandbox\n");
		free(lab);
		return EXIT_USAGE;
	}
	if (mkdirs(dir) != 0) {
		fprintf(stderr, "mxdeck: demo: cannot create %s: %s\n", dir, strerror(errno));
		free(lab);
		free(dir);
		return EXIT_USAGE;
	}
	if ((n = readlink("/proc/self/exe", exe, sizeof exe - 1)) <= 0) {
		fprintf(stderr, "mxdeck: demo: /proc/self/exe: %s\n", strerror(errno));
		free(lab);
		free(dir);
		return EXIT_USAGE;
	}
	exe[n] = '\0';
	fflush(NULL);
	execl(lab, lab, "run", dir, exe, (char *)NULL);
	fprintf(stderr, "mxdeck: demo: cannot run %s: %s\n", lab, strerror(errno));
	free(lab);
	free(dir);
	return EXIT_USAGE;
}
