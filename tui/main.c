/* main.c: the command line (README "Command line", share/doc/HACKING.md §4.1). Parses options once and dispatches. */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "profiles/site.h"
#include "tui/cli.h"
#include "tui/monitor.h"


static int cmd_help(struct cli *);

/* One row per command: its arguments (after the command word) are PROFILE, then DIR. */
static const struct command {
	const char *name;
	int (*run)(struct cli *);
	int	 min_args, max_args;
	const char *args;	/* for "expected ..." */
} commands[] = {
	{ "render", cmd_render, 2, 2, "PROFILE DIR" },
	{ "lint", cmd_lint, 1, 1, "PROFILE" },
	{ "plan", cmd_plan, 1, 1, "PROFILE" },
	{ "apply", cmd_apply, 1, 1, "PROFILE" },
	{ "audit", cmd_audit, 1, 1, "PROFILE" },
	{ "test", cmd_test, 1, 1, "PROFILE" },
	{ "doctor", cmd_doctor, 1, 1, "PROFILE" },
	{ "unlock", cmd_unlock, 1, 1, "PROFILE" },
	{ "init", cmd_init, 0, 1, "[EXAMPLE]" },
	{ "help", cmd_help, 0, 0, "nothing" },
	{ "demo", cmd_demo, 0, 0, "nothing" },
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
"       mxdeck doctor PROFILE               read-only preflight: is each host ready?\n"
"       mxdeck init [EXAMPLE]               copy an example profile (default client-access) to\n"
"                                           $XDG_CONFIG_HOME/mxdeck/site.ini, never over one\n"
"       mxdeck help                         this text\n"
"       mxdeck demo                         the live demo lab (root): start, push, console,\n"
"                                           stop; sandbox in $XDG_STATE_HOME/mxdeck/demo\n"
"options: --host NAME (repeatable)  --jobs N  --json  --known-hosts FILE  --identity FILE\n"
"         -F FILE (ssh_config instead of ~/.ssh/config and /etc/ssh/ssh_config)\n"
"         --accept-new-host-keys  --yes  --dry-run  --no-color  -v  --version  --help\n"
"         test/audit: --format text|json|nagios|prometheus  --warn-exit  -q\n"
"         apply: --force-tlsa (change the certificate although DNS does not publish\n"
"         its key: DANE senders will refuse mail)\n"
"PROFILE defaults to $XDG_CONFIG_HOME/mxdeck/site.ini (see mxdeck init), then the\n"
"shipped demo profile.\n"
"exit codes: 0 ok/no drift, 1 drift or failed test, 2 usage or profile error,\n"
"            3 host unreachable, 4 apply rolled back, 5 rollback failed\n", f);
}

static int
cmd_help(struct cli *cli)
{
	(void)cli;
	usage(stdout);
	return EXIT_OK;
}

/* The default profile: $XDG_CONFIG_HOME/mxdeck/site.ini (what mxdeck init writes), else
 * the shipped demo. */
static char *
default_profile(void)
{
	char *p = cli_config_profile(), *ex;

	if (p != NULL && access(p, R_OK) == 0)
		return p;
	free(p);
	ex = cli_examples_dir();
	p = xasprintf("%s/demo.ini", ex);
	free(ex);
	return p;
}

/* A first word that is neither a command nor a file: say so, with the commands. */
static bool
unknown_command(const char *word)
{
	struct stat st;

	/* something that looks like a path or a file name is taken as a PROFILE (and its
	 * loader says what is wrong with it) */
	if (*word == '\0' || stat(word, &st) == 0 || strchr(word, '/') != NULL ||
	    strchr(word, '.') != NULL)
		return false;
	fprintf(stderr, "mxdeck: unknown command '%s' (and no file of that name)\ncommands:",
	    word);
	for (size_t i = 0; i < nitems(commands); i++)
		fprintf(stderr, " %s", commands[i].name);
	fprintf(stderr, "\n`mxdeck help` shows how each is used; `mxdeck PROFILE` opens the "
	    "console on a profile file.\n");
	return true;
}

int
main(int argc, char **argv)
{
	enum { O_KNOWN = 256, O_IDENT, O_ACCEPT, O_NOCOLOR, O_VERSION, O_DRY, O_BATCH, O_AUDIT,
	    O_JSON, O_YES, O_FORMAT, O_WARNEXIT, O_FORCETLSA };
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
		{ "force-tlsa", no_argument, NULL, O_FORCETLSA },
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
		case O_FORCETLSA: cli.force_tlsa = true; break;
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
		if (nargs < cmd->min_args || nargs > cmd->max_args) {
			fprintf_safe(stderr, "mxdeck: %s: expected %s\n", cmd->name, cmd->args);
			usage(stderr);
			strv_free(&cli.hosts);
			return EXIT_USAGE;
		}
		cli.command = cmd->name;
		cli.profile = nargs > 0 ? args[0] : NULL;
		if (nargs > 1)
			cli.outdir = args[1];
	} else {
		if (nargs >= 1 && unknown_command(args[0])) {
			strv_free(&cli.hosts);
			return EXIT_USAGE;
		}
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
