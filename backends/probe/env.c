/* env.c: the probe options the environment sets, read the same way for `mxdeck test`,
 * `mxdeck audit` and the console's live tests (probe.h: probe_opts_from_env). */
#include <stdlib.h>

#include "backends/probe/probe.h"
#include "profiles/util.h"

static int
env_seconds(const char *name, double *out, char **cause)
{
	const char *v = getenv(name);
	char *end;
	double d;

	if (v == NULL || *v == '\0')
		return 0;
	d = strtod(v, &end);
	if (*end != '\0' || !(d > 0) || d > 3600) {
		*cause = xasprintf("%s=%s: expected seconds (0 < n <= 3600)", name, v);
		return -1;
	}
	*out = d;
	return 0;
}

static int
env_port(const char *name, int *out, char **cause)
{
	const char *v = getenv(name);
	char *end;
	long l;

	if (v == NULL || *v == '\0')
		return 0;
	l = strtol(v, &end, 10);
	if (*end != '\0' || l < 1 || l > 65535) {
		*cause = xasprintf("%s=%s: expected a TCP port (1-65535)", name, v);
		return -1;
	}
	*out = (int)l;
	return 0;
}

int
probe_opts_from_env(struct probe_opts *o, char **cause)
{
	const char *kinds = getenv("MXDECK_PROBES");
	char *c = NULL;

	if (env_seconds("MXDECK_PROBE_TIMEOUT", &o->timeout, cause) == -1 ||
	    env_seconds("MXDECK_PROBE_DEADLINE", &o->deadline, cause) == -1 ||
	    env_port("MXDECK_PROBE_HTTP_PORT", &o->http_port, cause) == -1)
		return -1;
	if (kinds != NULL && *kinds != '\0' && probe_kinds_parse(kinds, &o->kinds, &c) != 0) {
		*cause = xasprintf("MXDECK_PROBES: %s", c);
		free(c);
		return -1;
	}
	return 0;
}
