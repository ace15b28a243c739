/* main.c: the command line of DESIGN.md §2. Parses options once and dispatches. */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "profiles/site.h"
#include "tui/cli.h"
#include "tui/monitor.h"

#ifndef MXDECK_DATADIR
#define MXDECK_DATADIR "/usr/local/share/mxdeck"
#endif

static const struct command {
	const char *name;
	int (*run)(struct cli *);
	bool needs_dir;
} commands[] = {
	{ "render", cmd_render, true },
	{ "lint", cmd_lint, false },
	{ "plan", cmd_plan, false },
	{ "apply", cmd_apply, false },
	{ "audit", cmd_audit, false },
	{ "test", cmd_test, false },
	{ "unlock", cmd_unlock, false },
};

static void
usage(FILE *f)
{
	fputs(
"usage: mxdeck [PROFILE]                    interactive console\n"
"       mxdeck --audit [PROFILE]            interactive console, read-only\n"
"       mxdeck --batch [--dry-run] PROFILE  apply to every host, no prompts\n"
"       mxdeck render PROFILE DIR           write every generated file under DIR/<host>/<path>\n"
"       mxdeck lint PROFILE                 parse and check the profile, print findings\n"
"       mxdeck plan PROFILE                 what apply would change, per host, as a unified diff\n"
"       mxdeck apply PROFILE [--yes]        apply (asks unless --yes)\n"
"       mxdeck audit PROFILE                drift + live tests, read-only\n"
"       mxdeck test PROFILE                 live connectivity tests\n"
"       mxdeck unlock PROFILE --host NAME   finish or roll back a dead run's transaction, release its lock\n"
"options: --host NAME (repeatable)  --jobs N  --json  --known-hosts FILE  --identity FILE\n"
"         -F FILE (ssh_config instead of ~/.ssh/config and /etc/ssh/ssh_config)\n"
"         --accept-new-host-keys  --yes  --dry-run  --no-color  -v  --version  --help\n"
"         test/audit: --format text|json|nagios|prometheus  --warn-exit  -q\n"
"PROFILE defaults to $XDG_CONFIG_HOME/mxdeck/site.ini, then the shipped demo profile.\n"
"exit codes: 0 ok/no drift, 1 drift or failed test, 2 usage or profile error,\n"
"            3 host unreachable, 4 apply rolled back, 5 rollback failed\n", f);
}

/* The default profile: $XDG_CONFIG_HOME/mxdeck/site.ini, else the shipped demo (next to
 * the binary when run from a build tree, else the installed data directory). */
static char *
default_profile(void)
{
	const char *xdg = getenv("XDG_CONFIG_HOME"), *home = getenv("HOME");
	char *p, exe[PATH_MAX];
	ssize_t n;

	if (xdg != NULL && *xdg != '\0')
		p = xasprintf("%s/mxdeck/site.ini", xdg);
	else if (home != NULL && *home != '\0')
		p = xasprintf("%s/.config/mxdeck/site.ini", home);
	else
		p = NULL;
	if (p != NULL && access(p, R_OK) == 0)
		return p;
	free(p);
	n = readlink("/proc/self/exe", exe, sizeof exe - 1);
	if (n > 0) {
		char *slash;

		exe[n] = '\0';
		if ((slash = strrchr(exe, '/')) != NULL) {
			*slash = '\0';
			/* a build tree (build/mxdeck), then an installed tree (bin/mxdeck) */
			p = xasprintf("%s/../share/examples/demo.ini", exe);
			if (access(p, R_OK) == 0)
				return p;
			free(p);
			p = xasprintf("%s/../share/mxdeck/examples/demo.ini", exe);
			if (access(p, R_OK) == 0)
				return p;
			free(p);
		}
	}
	return xstrdup(MXDECK_DATADIR "/examples/demo.ini");
}

int
main(int argc, char **argv)
{
	enum { O_KNOWN = 256, O_IDENT, O_ACCEPT, O_NOCOLOR, O_VERSION, O_DRY, O_BATCH, O_AUDIT,
	    O_JSON, O_YES, O_FORMAT, O_WARNEXIT };
	static const struct option longopts[] = {
		{ "host", required_argument, NULL, 'H' },
		{ "jobs", required_argument, NULL, 'j' },
		{ "json", no_argument, NULL, O_JSON },
		{ "known-hosts", required_argument, NULL, O_KNOWN },
		{ "identity", required_argument, NULL, O_IDENT },
		{ "accept-new-host-keys", no_argument, NULL, O_ACCEPT },
		{ "no-color", no_argument, NULL, O_NOCOLOR },
		{ "version", no_argument, NULL, O_VERSION },
		{ "help", no_argument, NULL, 'h' },
		{ "dry-run", no_argument, NULL, O_DRY },
		{ "batch", no_argument, NULL, O_BATCH },
		{ "audit", no_argument, NULL, O_AUDIT },
		{ "yes", no_argument, NULL, O_YES },
		{ "verbose", no_argument, NULL, 'v' },
		{ "format", required_argument, NULL, O_FORMAT },
		{ "warn-exit", no_argument, NULL, O_WARNEXIT },
		{ "quiet", no_argument, NULL, 'q' },
		{ NULL, 0, NULL, 0 },
	};
	struct cli cli;
	const struct command *cmd = NULL;
	char *profile = NULL;
	bool batch = false;
	int c, rc, nargs;
	char **args;

	memset(&cli, 0, sizeof cli);
	while ((c = getopt_long(argc, argv, "F:H:j:hqvy", longopts, NULL)) != -1) {
		long n;

		switch (c) {
		case 'H':
			strv_push(&cli.hosts, optarg);
			break;
		case 'j':
			if (parse_int(optarg, 1, 1024, &n) == -1) {
				fprintf_safe(stderr, "mxdeck: --jobs: '%s' is not a number from 1 to 1024\n",
				    optarg);
				return EXIT_USAGE;
			}
			cli.jobs = (int)n;
			break;
		case O_JSON:	cli.json = true; cli.format = FMT_JSON; break;
		case O_FORMAT:
			if ((cli.format = out_format_parse(optarg)) < 0) {
				fprintf(stderr, "mxdeck: --format: '%s' is not one of text, json, "
				    "nagios, prometheus\n", optarg);
				return EXIT_USAGE;
			}
			cli.json = cli.format == FMT_JSON;
			break;
		case O_WARNEXIT: cli.warn_exit = true; break;
		case 'q':	cli.quiet = true; break;
		case O_KNOWN:	cli.known_hosts = optarg; break;
		case O_IDENT:	cli.identity = optarg; break;
		case 'F':
			if (access(optarg, R_OK) == -1) {
				fprintf(stderr, "mxdeck: -F %s: cannot read: %s\n", optarg,
				    strerror(errno));
				return EXIT_USAGE;
			}
			cli.ssh_config = optarg;
			break;
		case O_ACCEPT:	cli.accept_new_host_keys = true; break;
		case O_NOCOLOR:	cli.no_color = true; break;
		case O_DRY:	cli.dry_run = true; break;
		case O_BATCH:	batch = true; break;
		case O_AUDIT:	cli.audit = true; break;
		case 'y':
		case O_YES:	cli.yes = true; break;
		case 'v':	cli.verbose++; break;
		case O_VERSION:
			printf("mxdeck %s\n", MXDECK_VERSION);
			return EXIT_OK;
		case 'h':
			usage(stdout);
			return EXIT_OK;
		default:
			usage(stderr);
			return EXIT_USAGE;
		}
	}
	args = argv + optind;
	nargs = argc - optind;
	if (nargs > 0) {
		for (size_t i = 0; i < nitems(commands); i++)
			if (strcmp(args[0], commands[i].name) == 0)
				cmd = &commands[i];
	}
	if (cmd != NULL) {
		if (batch || cli.audit) {
			fprintf_safe(stderr, "mxdeck: --batch and --audit do not go with '%s'\n",
			    cmd->name);
			return EXIT_USAGE;
		}
		args++;
		nargs--;
		if (nargs < 1 || nargs > (cmd->needs_dir ? 2 : 1) ||
		    (cmd->needs_dir && nargs != 2)) {
			fprintf_safe(stderr, "mxdeck: %s: expected %s\n", cmd->name,
			    cmd->needs_dir ? "PROFILE DIR" : "PROFILE");
			usage(stderr);
			return EXIT_USAGE;
		}
		cli.command = cmd->name;
		cli.profile = args[0];
		if (cmd->needs_dir)
			cli.outdir = args[1];
	} else {
		if (nargs > 1) {
			fprintf_safe(stderr, "mxdeck: unknown command '%s'\n", args[0]);
			usage(stderr);
			return EXIT_USAGE;
		}
		if (batch && nargs != 1) {
			fprintf(stderr, "mxdeck: --batch needs a PROFILE\n");
			return EXIT_USAGE;
		}
		if (batch && cli.audit) {
			fprintf(stderr, "mxdeck: --batch and --audit exclude each other\n");
			return EXIT_USAGE;
		}
		if (nargs == 1)
			cli.profile = args[0];
		else
			cli.profile = profile = default_profile();
		cli.command = batch ? "batch" : "console";
	}
	if (cli.dry_run && !batch) {
		fprintf(stderr, "mxdeck: --dry-run goes with --batch\n");
		free(profile);
		strv_free(&cli.hosts);
		return EXIT_USAGE;
	}
	if (getenv("NO_COLOR") != NULL && *getenv("NO_COLOR") != '\0')
		cli.no_color = true;
	if (cmd != NULL)
		rc = cmd->run(&cli);
	else if (batch)
		rc = cmd_batch(&cli);
	else
		rc = cmd_console(&cli);
	free(profile);
	strv_free(&cli.hosts);
	return rc;
}
