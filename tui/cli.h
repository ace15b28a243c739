/* cli.h: the command line (README "Command line", mxdeck(1)), parsed once in main.c and handed to the
 * command that runs. Each command lives in its own tui/cmd-*.c file. */
#ifndef MXDECK_CLI_H
#define MXDECK_CLI_H

#include <stdbool.h>

#include "profiles/util.h"

/* Exit codes (mxdeck(1) EXIT STATUS). */
enum {
	EXIT_OK = 0,		/* success, no drift */
	EXIT_DRIFT = 1,		/* drift found or a live test failed */
	EXIT_USAGE = 2,		/* usage or profile error; nothing was contacted */
	EXIT_UNREACHABLE = 3,	/* a host could not be reached or authenticated */
	EXIT_ROLLEDBACK = 4,	/* apply failed and was rolled back */
	EXIT_ROLLBACK_FAILED = 5,	/* apply failed and the rollback failed too */
};

struct cli {
	const char *command;	/* "console", "render", "lint", "plan", "apply", "audit", "test", "batch",
				 * "unlock", "doctor", "init" */
	const char *profile;	/* resolved profile path (init: the EXAMPLE or NULL) */
	const char *outdir;	/* render DIR */
	struct strv hosts;	/* --host, repeatable; empty = all */
	int	 jobs;		/* --jobs N; 0 = default */
	bool	 json;
	const char *known_hosts;	/* --known-hosts FILE or NULL (ssh_config's, ~/.ssh/known_hosts) */
	const char *identity;	/* --identity FILE or NULL */
	const char *ssh_config;	/* -F FILE or NULL (~/.ssh/config, /etc/ssh/ssh_config) */
	bool	 accept_new_host_keys;
	bool	 yes;		/* apply --yes */
	bool	 force_tlsa;	/* apply --force-tlsa: override the TLSA gate */
	bool	 dry_run;	/* --batch --dry-run */
	bool	 audit;		/* --audit (console) */
	bool	 no_color;
	int	 verbose;	/* -v count */
	int	 format;	/* enum out_format (tui/monitor.h); --json = FMT_JSON */
	bool	 warn_exit;	/* --warn-exit: warnings exit 1 (test, audit) */
	bool	 quiet;		/* -q: only what is not ok (test, audit) */
};

/* The TLSA lookup push's TLSA gate uses (tui/cmd-push.c: the probe code's, DNSSEC-
 * validated through [site] resolver and trust_anchor). */
struct push_tlsa;
struct site;
int cli_tlsa_lookup(const struct site *site, const char *qname, struct push_tlsa *out,
    char **cause);

int cmd_render(struct cli *cli);
int cmd_lint(struct cli *cli);
int cmd_plan(struct cli *cli);		/* tui/cmd-push.c */
int cmd_apply(struct cli *cli);		/* tui/cmd-push.c */
int cmd_batch(struct cli *cli);		/* tui/cmd-push.c */
int cmd_audit(struct cli *cli);		/* tui/cmd-push.c: drift + live tests, read-only */
int cmd_test(struct cli *cli);		/* tui/cmd-test.c */
int cmd_unlock(struct cli *cli);	/* tui/cmd-push.c: recover a dead run's lock */
int cmd_demo(struct cli *cli);		/* tui/cmd-demo.c: the live demo lab */
int cmd_console(struct cli *cli);	/* tui/console.c: the ncurses console (and --audit) */
int cmd_init(struct cli *cli);		/* tui/cmd-init.c: copy an example to the default profile */
int cmd_doctor(struct cli *cli);	/* tui/cmd-doctor.c: read-only preflight per host */

/* The doctor's run and report, shared by the command and the console (tui/jobs.c). */
struct host;
struct site;
struct doctor_opts;
struct doctor_result;
void doctor_hosts(const struct site *site, const struct host **hosts, size_t n, int jobs,
    const struct doctor_opts *o, struct doctor_result *res);
void doctor_report(struct sbuf *b, const struct host *h, const struct doctor_result *r);

/* The live tests of hosts named by an ssh_config alias (tui/cmd-test.c, for test and
 * audit): for each host of site (index as in site->hosts), where its probes connect
 * (addresses[i]: the alias's HostName; NULL: the address as written), the ProxyJump
 * its pushes go through (jumps[i], NULL: none) and one line for the admin (notes[i],
 * NULL: nothing to say). Only hosts selected by --host are looked at. */
struct cli_routes {
	char	**addresses;
	char	**jumps;
	char	**notes;
	size_t	 n;
};
void cli_probe_routes(const struct cli *cli, const struct site *site, struct cli_routes *r);
void cli_probe_routes_free(struct cli_routes *r);

/* $XDG_CONFIG_HOME/mxdeck/site.ini (or ~/.config/...): the profile mxdeck opens by
 * default and mxdeck init writes; NULL without HOME. The shipped examples' directory:
 * next to the binary in a build or installed tree, else the PREFIX's data directory.
 * Both allocated. */
char *cli_config_profile(void);
char *cli_examples_dir(void);

/* Load the profile for a command: prints findings to stderr; returns NULL (after
 * printing) when it has errors. The caller frees with site_free + free. */
struct site *cli_load_site(const struct cli *cli);
/* The same, handing the findings to the caller (who frees d): with --json they are not
 * printed but go into the document (tui/jsondoc.h). */
struct diags;
struct site *cli_load_site_diags(const struct cli *cli, struct diags *d);

#endif
