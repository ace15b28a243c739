/* monitor.c: Nagios plugin and Prometheus textfile outputs (see monitor.h). */
#include "tui/monitor.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "tui/cli.h"

int
out_format_parse(const char *s)
{
	static const char *const names[] = { "text", "json", "nagios", "prometheus" };

	for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
		if (strcmp(s, names[i]) == 0)
			return (int)i;
	return -1;
}

static char *
dup0(const char *s)
{
	return xstrdup(s != NULL ? s : "");
}

void
monitor_add_check(struct monitor *m, const struct probe_result *r)
{
	struct mon_check *c;

	if (m->nchecks == m->capchecks) {
		m->capchecks = m->capchecks ? m->capchecks * 2 : 64;
		m->checks = xrealloc(m->checks, m->capchecks * sizeof *m->checks);
	}
	c = &m->checks[m->nchecks++];
	c->kind = dup0(r->kind);
	c->name = dup0(r->name);
	c->host = dup0(r->host);
	c->target = dup0(r->target);
	c->summary = dup0(r->summary);
	c->status = r->status;
	c->has_cert_days = r->has_cert_days;
	c->cert_days = r->cert_days;
}

void
monitor_add_host(struct monitor *m, const char *name, int exit, int changes)
{
	m->hosts = xrealloc(m->hosts, (m->nhosts + 1) * sizeof *m->hosts);
	m->hosts[m->nhosts].name = xstrdup(name);
	m->hosts[m->nhosts].exit = exit;
	m->hosts[m->nhosts].changes = changes;
	m->nhosts++;
}

void
monitor_free(struct monitor *m)
{
	for (size_t i = 0; i < m->nchecks; i++) {
		free(m->checks[i].kind);
		free(m->checks[i].name);
		free(m->checks[i].host);
		free(m->checks[i].target);
		free(m->checks[i].summary);
	}
	free(m->checks);
	for (size_t i = 0; i < m->nhosts; i++)
		free(m->hosts[i].name);
	free(m->hosts);
	strv_free(&m->unreachable);
	memset(m, 0, sizeof *m);
}

/* Plugin text may not hold '|' (it starts the performance data) nor a newline. */
static void
plugin_text(FILE *f, const char *s)
{
	char *p = str_printable(s);

	for (char *q = p; *q != '\0'; q++)
		fputc(*q == '|' ? '/' : *q, f);
	free(p);
}

struct counts {
	size_t	 ok, warn, fail, drift, hostfail;
	bool	 has_days;
	int	 days_min;
};

static struct counts
count(const struct monitor *m)
{
	struct counts k = { 0 };

	for (size_t i = 0; i < m->nchecks; i++) {
		const struct mon_check *c = &m->checks[i];

		if (c->status == PROBE_OK)
			k.ok++;
		else if (c->status == PROBE_WARN)
			k.warn++;
		else
			k.fail++;
		if (c->has_cert_days && (!k.has_days || c->cert_days < k.days_min)) {
			k.days_min = c->cert_days;
			k.has_days = true;
		}
	}
	for (size_t i = 0; i < m->nhosts; i++) {
		if (m->hosts[i].exit == EXIT_DRIFT)
			k.drift++;
		else if (m->hosts[i].exit != EXIT_OK)
			k.hostfail++;
	}
	return k;
}

int
monitor_nagios(FILE *f, const struct monitor *m)
{
	static const char *const state[] = { "OK", "WARNING", "CRITICAL", "UNKNOWN" };
	struct counts k = count(m);
	int rc;

	rc = k.fail > 0 || k.hostfail > 0 || m->unreachable.n > 0 ? 2 :
	    k.warn > 0 || k.drift > 0 ? 1 : 0;
	fprintf(f, "MXDECK %s %s - %zu checks: %zu ok, %zu warn, %zu fail", m->command,
	    state[rc], m->nchecks, k.ok, k.warn, k.fail);
	if (m->nhosts > 0)
		fprintf(f, "; %zu host%s in drift", k.drift, k.drift == 1 ? "" : "s");
	if (k.hostfail > 0)
		fprintf(f, ", %zu host%s not checked", k.hostfail, k.hostfail == 1 ? "" : "s");
	for (size_t i = 0; i < m->unreachable.n; i++) {
		fputs(i == 0 ? "; unreachable: " : ", ", f);
		plugin_text(f, m->unreachable.v[i]);
	}
	/* Performance data: 'label'=value[UOM];[warn];[crit];[min];[max] */
	fprintf(f, " | fail=%zu;;0;0; warn=%zu;0;;0; drift=%zu;0;;0;", k.fail, k.warn, k.drift);
	if (k.has_days)
		fprintf(f, " cert_days_min=%dd;21:;1:;;", k.days_min);
	fprintf(f, " checks=%zu;;;0; time=%.3fs;;;0;\n", m->nchecks, m->wall);
	/* Long text: each check that is not ok, then each host that is not in sync. */
	for (int want = PROBE_FAIL; want >= PROBE_WARN; want--)
		for (size_t i = 0; i < m->nchecks; i++) {
			const struct mon_check *c = &m->checks[i];

			if ((int)c->status != want)
				continue;
			fprintf(f, "%s %s %s", want == PROBE_FAIL ? "FAIL" : "WARN", c->kind,
			    c->name);
			if (*c->host != '\0')
				fprintf(f, " %s", c->host);
			fputs(" ", f);
			plugin_text(f, c->target);
			fputs(": ", f);
			plugin_text(f, c->summary);
			fputc('\n', f);
		}
	for (size_t i = 0; i < m->nhosts; i++)
		if (m->hosts[i].exit != EXIT_OK) {
			fputs(m->hosts[i].exit == EXIT_DRIFT ? "DRIFT " : "HOST ", f);
			plugin_text(f, m->hosts[i].name);
			if (m->hosts[i].exit == EXIT_DRIFT)
				fprintf(f, ": %d change%s to apply\n", m->hosts[i].changes,
				    m->hosts[i].changes == 1 ? "" : "s");
			else
				fprintf(f, ": not checked (exit %d)\n", m->hosts[i].exit);
		}
	return rc;
}

int
monitor_nagios_unknown(FILE *f, const char *command, const char *why)
{
	fprintf(f, "MXDECK %s UNKNOWN - ", command);
	plugin_text(f, why);
	fputc('\n', f);
	return 3;
}

/* A label value: backslash, double quote and newline escaped. */
static void
label(FILE *f, const char *name, const char *v, bool first)
{
	fprintf(f, "%s%s=\"", first ? "" : ",", name);
	for (const char *p = v; *p != '\0'; p++) {
		if (*p == '\\' || *p == '"')
			fprintf(f, "\\%c", *p);
		else if (*p == '\n')
			fputs("\\n", f);
		else
			fputc(*p, f);
	}
	fputc('"', f);
}

/* A metric name part: [a-zA-Z0-9_] only. */
static void
metric_part(FILE *f, const char *s)
{
	for (const char *p = s; *p != '\0'; p++)
		fputc((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
		    (*p >= '0' && *p <= '9') ? *p : '_', f);
}

static void
check_labels(FILE *f, const struct mon_check *c)
{
	fputc('{', f);
	label(f, "host", c->host, true);
	label(f, "check", c->name, false);
	label(f, "target", c->target, false);
	fputc('}', f);
}

void
monitor_prometheus(FILE *f, const struct monitor *m, bool profile_ok)
{
	struct counts k = count(m);
	struct strv kinds = { 0 };

	fputs("# HELP mxdeck_profile_valid 1 when the profile loaded without errors.\n"
	    "# TYPE mxdeck_profile_valid gauge\n", f);
	fprintf(f, "mxdeck_profile_valid %d\n", profile_ok ? 1 : 0);
	fputs("# HELP mxdeck_last_run_timestamp_seconds When this run ended.\n"
	    "# TYPE mxdeck_last_run_timestamp_seconds gauge\n", f);
	fprintf(f, "mxdeck_last_run_timestamp_seconds %lld\n", (long long)time(NULL));
	if (!profile_ok)
		return;
	fputs("# HELP mxdeck_run_duration_seconds How long the run took.\n"
	    "# TYPE mxdeck_run_duration_seconds gauge\n", f);
	fprintf(f, "mxdeck_run_duration_seconds %.3f\n", m->wall);
	fputs("# HELP mxdeck_checks Live checks of the last run by result.\n"
	    "# TYPE mxdeck_checks gauge\n", f);
	fprintf(f, "mxdeck_checks{result=\"ok\"} %zu\nmxdeck_checks{result=\"warn\"} %zu\n"
	    "mxdeck_checks{result=\"fail\"} %zu\n", k.ok, k.warn, k.fail);
	/* One family per check kind, in the order the kinds first appear. */
	for (size_t i = 0; i < m->nchecks; i++)
		if (!strv_has(&kinds, m->checks[i].kind))
			strv_push(&kinds, m->checks[i].kind);
	for (size_t j = 0; j < kinds.n; j++) {
		fputs("# HELP mxdeck_", f);
		metric_part(f, kinds.v[j]);
		fprintf(f, "_check_status Result of each %s check: 0 ok, 1 warn, 2 fail.\n",
		    kinds.v[j]);
		fputs("# TYPE mxdeck_", f);
		metric_part(f, kinds.v[j]);
		fputs("_check_status gauge\n", f);
		for (size_t i = 0; i < m->nchecks; i++) {
			if (strcmp(m->checks[i].kind, kinds.v[j]) != 0)
				continue;
			fputs("mxdeck_", f);
			metric_part(f, kinds.v[j]);
			fputs("_check_status", f);
			check_labels(f, &m->checks[i]);
			fprintf(f, " %d\n", (int)m->checks[i].status);
		}
	}
	strv_free(&kinds);
	if (k.has_days) {
		fputs("# HELP mxdeck_cert_days_left Days until the served certificate expires "
		    "(negative: expired).\n# TYPE mxdeck_cert_days_left gauge\n", f);
		for (size_t i = 0; i < m->nchecks; i++) {
			if (!m->checks[i].has_cert_days)
				continue;
			fputs("mxdeck_cert_days_left", f);
			check_labels(f, &m->checks[i]);
			fprintf(f, " %d\n", m->checks[i].cert_days);
		}
	}
	if (m->unreachable.n > 0) {
		fputs("# HELP mxdeck_host_unreachable 1 for a host no check could connect "
		    "to.\n# TYPE mxdeck_host_unreachable gauge\n", f);
		for (size_t i = 0; i < m->unreachable.n; i++) {
			fputs("mxdeck_host_unreachable{", f);
			label(f, "host", m->unreachable.v[i], true);
			fputs("} 1\n", f);
		}
	}
	if (m->nhosts > 0) {
		fputs("# HELP mxdeck_drift_changes Changes an apply would make (audit).\n"
		    "# TYPE mxdeck_drift_changes gauge\n", f);
		for (size_t i = 0; i < m->nhosts; i++) {
			fputs("mxdeck_drift_changes{", f);
			label(f, "host", m->hosts[i].name, true);
			fprintf(f, "} %d\n", m->hosts[i].changes);
		}
		fputs("# HELP mxdeck_host_checked 1 when the host could be read (audit).\n"
		    "# TYPE mxdeck_host_checked gauge\n", f);
		for (size_t i = 0; i < m->nhosts; i++) {
			fputs("mxdeck_host_checked{", f);
			label(f, "host", m->hosts[i].name, true);
			fprintf(f, "} %d\n", m->hosts[i].exit == EXIT_OK ||
			    m->hosts[i].exit == EXIT_DRIFT ? 1 : 0);
		}
	}
}
