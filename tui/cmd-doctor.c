/* cmd-doctor.c: `mxdeck doctor PROFILE [--host H] [--json]`: the read-only preflight of
 * backends/ssh/doctor.c on every selected host, in parallel, then one report. Exit 0
 * every host ready (warnings allowed), 1 something missing, 3 a host unreachable,
 * 2 a profile error (nothing contacted). */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "backends/ssh/doctor.h"
#include "backends/ssh/fleet.h"
#include "profiles/site.h"
#include "tui/cli.h"

static const char *
status_word(const struct doctor_result *r)
{
	return r->exit == 3 ? "unreachable" : r->exit == 1 ? "missing" : "ready";
}

void
doctor_report(struct sbuf *b, const struct host *h, const struct doctor_result *r)
{
	sb_addf(b, "=== host %s (%s): %s: %s\n", h->name, h->local ? "local" : h->address,
	    status_word(r), r->summary != NULL ? r->summary : "");
	for (size_t k = 0; k < r->n; k++) {
		const struct dr_finding *f = &r->v[k];

		sb_addf(b, "  %-4s  %s: %s\n", dr_level_word(f->level), f->check, f->what);
		if (f->fix != NULL)
			sb_addf(b, "        fix: %s\n", f->fix);
	}
}

static void
report_json(const struct host **hosts, const struct doctor_result *res, size_t n, int rc)
{
	struct sbuf b;

	sb_init(&b);
	sb_addf(&b, "{\"command\":\"doctor\",\"exit\":%d,\"hosts\":[", rc);
	for (size_t i = 0; i < n; i++) {
		const struct doctor_result *r = &res[i];

		sb_add(&b, i > 0 ? ",\n{\"name\":" : "\n{\"name\":");
		sb_json_string(&b, hosts[i]->name);
		sb_add(&b, ",\"address\":");
		sb_json_string(&b, hosts[i]->local ? "local" : hosts[i]->address);
		sb_addf(&b, ",\"exit\":%d,\"status\":", r->exit);
		sb_json_string(&b, status_word(r));
		sb_add(&b, ",\"summary\":");
		sb_json_string(&b, r->summary != NULL ? r->summary : "");
		sb_add(&b, ",\"findings\":[");
		for (size_t k = 0; k < r->n; k++) {
			const struct dr_finding *f = &r->v[k];

			sb_add(&b, k > 0 ? ",{\"level\":" : "{\"level\":");
			sb_json_string(&b, f->level == DR_OK ? "ok" : f->level == DR_WARN ?
			    "warn" : "fail");
			sb_add(&b, ",\"check\":");
			sb_json_string(&b, f->check);
			sb_add(&b, ",\"what\":");
			sb_json_string(&b, f->what);
			sb_add(&b, ",\"fix\":");
			if (f->fix != NULL)
				sb_json_string(&b, f->fix);
			else
				sb_add(&b, "null");
			sb_addc(&b, '}');
		}
		sb_add(&b, "]}");
	}
	sb_add(&b, "\n]}\n");
	fputs(b.s, stdout);
	sb_free(&b);
}

int
cmd_doctor(struct cli *cli)
{
	struct site *site;
	const struct host **hosts;
	struct doctor_result *res;
	struct doctor_opts o = { 0 };
	size_t n = 0, nready = 0, nmissing = 0, nunreach = 0;
	int rc = EXIT_OK;

	if ((site = cli_load_site(cli)) == NULL)
		return EXIT_USAGE;
	hosts = xcalloc(site->nhosts + 1, sizeof *hosts);
	for (size_t i = 0; i < cli->hosts.n; i++)
		if (site_find_host(site, cli->hosts.v[i]) == NULL) {
			fprintf(stderr, "mxdeck: --host %s: no [host \"%s\"] in %s\n",
			    cli->hosts.v[i], cli->hosts.v[i], cli->profile);
			free(hosts);
			site_free(site);
			free(site);
			return EXIT_USAGE;
		}
	for (size_t i = 0; i < site->nhosts; i++)
		if (cli->hosts.n == 0 || strv_has(&cli->hosts, site->hosts[i].name))
			hosts[n++] = &site->hosts[i];
	if (n == 0) {
		fprintf(stderr, "mxdeck: %s: the profile has no [host] to check\n", cli->profile);
		free(hosts);
		site_free(site);
		free(site);
		return EXIT_USAGE;
	}
	signal(SIGPIPE, SIG_IGN);
	o.known_hosts = cli->known_hosts;
	o.identity = cli->identity;
	o.connect_timeout = 10;
	o.timeout = 60;
	res = xcalloc(n, sizeof *res);
	{
		struct fleet_opts fo = { .jobs = cli->jobs };

		fleet_doctor(site, hosts, n, &o, &fo, res);
	}
	for (size_t i = 0; i < n; i++) {
		if (res[i].exit == 3)
			nunreach++;
		else if (res[i].exit == 1)
			nmissing++;
		else
			nready++;
	}
	rc = nunreach > 0 ? EXIT_UNREACHABLE : nmissing > 0 ? EXIT_DRIFT : EXIT_OK;
	if (cli->json)
		report_json(hosts, res, n, rc);
	else {
		struct sbuf b;

		sb_init(&b);
		for (size_t i = 0; i < n; i++)
			doctor_report(&b, hosts[i], &res[i]);
		fputs(b.s, stdout);
		sb_free(&b);
	}
	fprintf(stderr, "mxdeck: doctor: %zu host%s: %zu ready, %zu with something missing, "
	    "%zu unreachable\n", n, n == 1 ? "" : "s", nready, nmissing, nunreach);
	for (size_t i = 0; i < n; i++)
		doctor_result_free(&res[i]);
	free(res);
	free(hosts);
	site_free(site);
	free(site);
	return rc;
}
