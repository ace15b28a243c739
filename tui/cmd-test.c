/* cmd-test.c: `mxdeck test PROFILE [--json] [--host NAME] [--jobs N]`: every live
 * probe of the profile, concurrently; one line per result as it arrives.
 *
 * Exit 0 when nothing failed (warnings allowed), 1 when a probe failed, 3 when some
 * host could not be reached at all (every probe of it that tried to connect failed at
 * the address lookup or the TCP connect; README "Command line"), 2 on a profile or usage error
 * (nothing contacted).
 *
 * Internal knobs (tests, bench): MXDECK_PROBES="tls,dns,..." runs only those kinds,
 * MXDECK_PROBE_TIMEOUT and MXDECK_PROBE_DEADLINE set the per-probe timeout and the
 * overall deadline in seconds, MXDECK_PROBE_HTTP_PORT the plain-http port of the
 * Autodiscover redirect step (default 80). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "backends/probe/probe.h"
#include "backends/ssh/sshconfig.h"
#include "profiles/site.h"
#include "tui/cli.h"
#include "tui/jsondoc.h"
#include "tui/monitor.h"
#include "tui/progress.h"

struct test_out {
	FILE	*human;		/* stdout, stderr with --json, NULL for nagios/prometheus */
	bool	 json;
	bool	 quiet;		/* -q: only what is not ok */
	int	 verbose;
	struct monitor mon;
	struct strv objs;	/* JSON objects, completion order */
	struct strv hosts;	/* hosts that probes tried to connect to */
	int	*reached;	/* per hosts entry: probes that connected */
	int	*unreached;	/* per hosts entry: probes that never could */
	struct progress_line line;	/* "7/40 probes; tls gw4" on a terminal */
	size_t	 done, total;
};

static void
count_reach(struct test_out *o, const struct probe_result *r)
{
	size_t i;

	if (r->host == NULL || r->reach == 0)
		return;
	for (i = 0; i < o->hosts.n; i++) {
		if (strcmp(o->hosts.v[i], r->host) == 0)
			break;
	}
	if (i == o->hosts.n) {
		strv_push(&o->hosts, r->host);
		o->reached = xrealloc(o->reached, o->hosts.n * sizeof *o->reached);
		o->unreached = xrealloc(o->unreached, o->hosts.n *
		    sizeof *o->unreached);
		o->reached[i] = o->unreached[i] = 0;
	}
	if (r->reach > 0)
		o->reached[i]++;
	else
		o->unreached[i]++;
}

static void
print_details(FILE *f, const char *details)
{
	const char *p = details, *nl;

	while (*p != '\0') {
		nl = strchr(p, '\n');
		fprintf_safe(f, "        %.*s\n", (int)(nl != NULL ? nl - p : (long)strlen(p)), p);
		if (nl == NULL)
			break;
		p = nl + 1;
	}
}

/* Called from probe worker threads, one at a time (see probe.h). */
static void
on_result(const struct probe_result *r, void *arg)
{
	struct test_out *o = arg;
	static const char *const words[] = { "ok  ", "WARN", "FAIL" };

	o->done++;
	if (o->human != NULL && !(o->quiet && r->status == PROBE_OK)) {
		progress_line_clear(&o->line);
		fprintf_safe(o->human, "%s  %-6s %-20s %s%s%s: %s (%.2fs)\n", words[r->status],
		    r->kind, r->name, r->host != NULL ? r->host : "",
		    r->host != NULL ? " " : "", r->target, r->summary, r->duration);
		if (o->verbose > 0 || r->status == PROBE_FAIL)
			print_details(o->human, r->details);
		fflush(o->human);
	}
	monitor_add_check(&o->mon, r);
	if (o->json)
		strv_push_owned(&o->objs, probe_result_json(r));
	count_reach(o, r);
	if (o->done < o->total)
		progress_line_show(&o->line, "%zu/%zu probes; %s %s%s%s", o->done, o->total,
		    r->kind, r->name, r->host != NULL ? " " : "", r->host != NULL ? r->host : "");
	else
		progress_line_clear(&o->line);
}

void
cli_probe_routes(const struct cli *cli, const struct site *site, struct cli_routes *r)
{
	r->n = site->nhosts;
	r->addresses = xcalloc(r->n + 1, sizeof *r->addresses);
	r->jumps = xcalloc(r->n + 1, sizeof *r->jumps);
	r->notes = xcalloc(r->n + 1, sizeof *r->notes);
	for (size_t i = 0; i < r->n; i++) {
		const struct host *h = &site->hosts[i];
		struct sshcfg c;
		char *cause = NULL;
		bool alias;

		if (h->local || h->address == NULL ||
		    (cli->hosts.n > 0 && !strv_has(&cli->hosts, h->name)))
			continue;
		if (sshcfg_resolve(cli->ssh_config, h->address, &c, &cause) == -1) {
			/* push would refuse the same file; the probes need no ssh */
			r->notes[i] = xasprintf("host %s: ssh_config not read (%s): the live "
			    "tests connect to %s as written", h->name, cause, h->address);
			free(cause);
			sshcfg_free(&c);
			continue;
		}
		alias = c.hostname != NULL && strcmp(c.hostname, h->address) != 0;
		if (alias)
			r->addresses[i] = xstrdup(c.hostname);
		if (c.proxy_jump != NULL && strcmp(c.proxy_jump, "none") != 0)
			r->jumps[i] = xstrdup(c.proxy_jump);
		if (r->jumps[i] != NULL) {
			char *who = alias ? xasprintf("%s (ssh_config alias of %s)", h->address,
			    c.hostname) : xstrdup(h->address);

			/* The probes test the services as a mail client sees them, from here;
			 * they are not tunnelled through the bastion. */
			r->notes[i] = xasprintf("host %s: %s is behind ProxyJump bastion %s: push "
			    "goes through the bastion, the live tests run from here straight "
			    "against %s", h->name, who, r->jumps[i], alias ? c.hostname :
			    h->address);
			free(who);
		} else if (alias)
			r->notes[i] = xasprintf("host %s: address %s is an ssh_config alias: the "
			    "live tests connect to its HostName %s", h->name, h->address,
			    c.hostname);
		sshcfg_free(&c);
	}
}

void
cli_probe_routes_free(struct cli_routes *r)
{
	for (size_t i = 0; i < r->n; i++) {
		free(r->addresses[i]);
		free(r->jumps[i]);
		free(r->notes[i]);
	}
	free(r->addresses);
	free(r->jumps);
	free(r->notes);
	memset(r, 0, sizeof *r);
}

int
cmd_test(struct cli *cli)
{
	struct test_out o = { 0 };
	struct probe_opts opts = { 0 };
	struct probe_summary sum;
	struct probe_list *pl = NULL;
	struct site *site;
	char *cause = NULL;
	size_t i;
	int rc, nunreach = 0;
	size_t nnotes;

	struct diags d = { 0 };
	struct cli_routes routes = { 0 };

	if ((site = cli_load_site_diags(cli, &d)) == NULL) {
		if (cli->json)
			jsondoc_error(cli, "test", &d, "the profile has errors", EXIT_USAGE);
		diags_free(&d);
		if (cli->format == FMT_NAGIOS)
			return monitor_nagios_unknown(stdout, "test", "the profile has errors "
			    "(mxdeck lint shows them)");
		if (cli->format == FMT_PROMETHEUS)
			monitor_prometheus(stdout, &o.mon, false);
		return EXIT_USAGE;
	}
	opts.hosts = &cli->hosts;
	opts.jobs = cli->jobs;
	if (probe_opts_from_env(&opts, &cause) == -1) {
		fprintf_safe(stderr, "mxdeck: %s\n", cause);
		free(cause);
		goto usage;
	}
	cli_probe_routes(cli, site, &routes);
	opts.addresses = (const char *const *)routes.addresses;
	if (probe_list_build(site, &opts, &pl, &cause) != 0) {
		/* an unknown --host, or a refused [tests] credentials file: nothing was
		 * contacted; the cause names the file and the fix (never its contents) */
		fprintf_safe(stderr, "mxdeck: test: %s\n", cause);
		if (cli->json && cli->format != FMT_NAGIOS) {
			cli_probe_routes_free(&routes);
			diags_free(&d);
			site_free(site);
			free(site);
			jsondoc_error(cli, "test", NULL, cause, EXIT_USAGE);
			free(cause);
			return EXIT_USAGE;
		}
		free(cause);
		goto usage;
	}
	o.json = cli->json;
	o.quiet = cli->quiet;
	o.mon.command = "test";
	/* Plugin and textfile outputs own stdout; the human report goes to stderr only
	 * when asked for (-v). */
	o.human = cli->format != FMT_TEXT ? (cli->verbose > 0 ? stderr : NULL) : stdout;
	o.verbose = cli->verbose;
	if (o.human != NULL && !o.quiet) {
		fprintf_safe(o.human, "mxdeck: test %s: %zu probes\n", cli->profile,
		    probe_list_count(pl));
		fflush(o.human);
	}
	for (i = 0; o.human != NULL && i < routes.n; i++)
		if (routes.notes[i] != NULL)
			fprintf_safe(o.human, "mxdeck: %s\n", routes.notes[i]);
	o.total = probe_list_count(pl);
	progress_line_init(&o.line, cli);
	probe_run(pl, &opts, on_result, &o, &sum);
	progress_line_clear(&o.line);
	o.mon.wall = sum.wall;
	if (o.human != NULL && (!o.quiet || sum.nok < sum.n))
		fprintf(o.human, "mxdeck: %zu probes: %zu ok, %zu warn, %zu fail; %d TLS "
		    "handshakes in %.2fs\n", sum.n, sum.nok, sum.nwarn, sum.nfail,
		    sum.handshakes, sum.wall);
	for (i = 0; i < o.hosts.n; i++) {
		if (o.reached[i] > 0 || o.unreached[i] == 0)
			continue;
		const struct host *uh = site_find_host(site, o.hosts.v[i]);
		size_t hi = uh != NULL ? (size_t)(uh - site->hosts) : routes.n;

		if (o.human != NULL && hi < routes.n && routes.jumps[hi] != NULL)
			fprintf_safe(o.human, "mxdeck: host %s could not be reached from here: all "
			    "%d of its probes that connect failed at the address lookup or the "
			    "TCP connect; push reaches it through ProxyJump bastion %s, the live "
			    "tests do not (run mxdeck test where the mail clients are, or on the "
			    "bastion)\n", o.hosts.v[i], o.unreached[i], routes.jumps[hi]);
		else if (o.human != NULL)
			fprintf_safe(o.human, "mxdeck: host %s could not be reached: all %d of its "
			    "probes that connect failed at the address lookup or the TCP "
			    "connect (check its address, the firewall and that the services "
			    "run)\n", o.hosts.v[i], o.unreached[i]);
		strv_push(&o.mon.unreachable, o.hosts.v[i]);
		nunreach++;
	}
	rc = nunreach > 0 ? EXIT_UNREACHABLE : sum.nfail > 0 ? EXIT_DRIFT : EXIT_OK;
	if (rc == EXIT_OK && cli->warn_exit && sum.nwarn > 0)
		rc = EXIT_DRIFT;
	if (o.json) {
		struct sbuf b;

		jsondoc_begin(&b, cli, "test", &d);
		sb_add(&b, ",\"results\":[");
		for (i = 0; i < o.objs.n; i++)
			sb_addf(&b, "%s%s", i > 0 ? ",\n" : "\n", o.objs.v[i]);
		sb_add(&b, "],\n");
		probe_summary_json(&b, &sum);
		sb_add(&b, ",\"unreachable\":[");
		for (i = 0; i < o.mon.unreachable.n; i++) {
			if (i > 0)
				sb_addc(&b, ',');
			sb_json_string(&b, o.mon.unreachable.v[i]);
		}
		sb_add(&b, "],\"notes\":[");
		for (i = 0, nnotes = 0; i < routes.n; i++)
			if (routes.notes[i] != NULL) {
				if (nnotes++ > 0)
					sb_addc(&b, ',');
				sb_json_string(&b, routes.notes[i]);
			}
		sb_addc(&b, ']');
		jsondoc_end(&b, rc);
		if (cli->verbose == 0)
			fprintf(stderr, "mxdeck: test: %zu probes: %zu ok, %zu warn, %zu fail; "
			    "exit %d\n", sum.n, sum.nok, sum.nwarn, sum.nfail, rc);
	}
	if (cli->format == FMT_NAGIOS)
		rc = monitor_nagios(stdout, &o.mon);
	else if (cli->format == FMT_PROMETHEUS)
		monitor_prometheus(stdout, &o.mon, true);
	monitor_free(&o.mon);
	diags_free(&d);
	strv_free(&o.objs);
	strv_free(&o.hosts);
	free(o.reached);
	free(o.unreached);
	probe_list_free(pl);
	cli_probe_routes_free(&routes);
	site_free(site);
	free(site);
	return rc;
usage:
	cli_probe_routes_free(&routes);
	diags_free(&d);
	site_free(site);
	free(site);
	if (cli->format == FMT_NAGIOS)
		return monitor_nagios_unknown(stdout, "test", "usage error (see stderr)");
	if (cli->json)
		jsondoc_error(cli, "test", NULL, "usage error: a probe setting in the environment "
		    "is wrong (stderr says which)", EXIT_USAGE);
	return EXIT_USAGE;
}
