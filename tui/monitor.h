/* monitor.h: the outputs for monitoring systems of `mxdeck test` and `mxdeck audit`:
 * a Nagios/Icinga plugin status line (--format nagios) and a Prometheus
 * textfile-collector file (--format prometheus). Results are gathered as they arrive,
 * printed once at the end. */
#ifndef MXDECK_MONITOR_H
#define MXDECK_MONITOR_H

#include <stdbool.h>
#include <stdio.h>

#include "backends/probe/probe.h"

enum out_format { FMT_TEXT, FMT_JSON, FMT_NAGIOS, FMT_PROMETHEUS };

/* "text" "json" "nagios" "prometheus"; -1 for anything else. */
int out_format_parse(const char *s);

struct mon_check {
	char	*kind, *name, *host, *target, *summary;
	enum probe_status status;
	bool	 has_cert_days;
	int	 cert_days;
};

struct mon_host {
	char	*name;
	int	 exit;		/* the push outcome as an exit code (audit) */
	int	 changes;	/* drift: files/settings that differ */
};

struct monitor {
	const char *command;	/* "test", "audit" */
	struct mon_check *checks;
	size_t	 nchecks, capchecks;
	struct mon_host *hosts;
	size_t	 nhosts;
	struct strv unreachable;	/* hosts no probe could connect to */
	double	 wall;		/* seconds the run took */
};

void monitor_add_check(struct monitor *m, const struct probe_result *r);
void monitor_add_host(struct monitor *m, const char *name, int exit, int changes);
void monitor_free(struct monitor *m);

/* Nagios plugin output on f; returns the plugin exit code: 0 OK, 1 WARNING (warnings,
 * drift), 2 CRITICAL (a failed check, an unreachable host, a failed apply state), 3
 * UNKNOWN. */
int monitor_nagios(FILE *f, const struct monitor *m);
/* The same verdict for a run that could not start (profile or usage error). */
int monitor_nagios_unknown(FILE *f, const char *command, const char *why);
/* Prometheus text exposition format on f. */
void monitor_prometheus(FILE *f, const struct monitor *m, bool profile_ok);

#endif
