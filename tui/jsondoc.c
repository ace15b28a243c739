/* jsondoc.c: the envelope of every --json document (see jsondoc.h). */
#include "tui/jsondoc.h"

#include <stdio.h>
#include <time.h>

static void
findings(struct sbuf *b, const char *name, const struct diags *d, enum sev want)
{
	bool first = true;

	sb_addf(b, ",\"%s\":[", name);
	for (size_t i = 0; d != NULL && i < d->n; i++) {
		if (d->v[i].sev != want)
			continue;
		sb_add(b, first ? "{\"file\":" : ",{\"file\":");
		sb_json_string(b, d->v[i].file);
		sb_addf(b, ",\"line\":%d,\"message\":", d->v[i].line);
		sb_json_string(b, d->v[i].msg);
		sb_addc(b, '}');
		first = false;
	}
	sb_addc(b, ']');
}

void
jsondoc_begin(struct sbuf *b, const struct cli *cli, const char *command,
    const struct diags *d)
{
	char ts[32];
	time_t now = time(NULL);
	struct tm tm;

	gmtime_r(&now, &tm);
	strftime(ts, sizeof ts, "%Y-%m-%dT%H:%M:%SZ", &tm);
	sb_init(b);
	sb_add(b, "{\"schema\":1,\"command\":");
	sb_json_string(b, command);
	sb_add(b, ",\"mxdeck\":\"" MXDECK_VERSION "\",\"time\":\"");
	sb_add(b, ts);
	sb_add(b, "\",\"profile\":");
	if (cli->profile != NULL)
		sb_json_string(b, cli->profile);
	else
		sb_add(b, "null");
	findings(b, "errors", d, SEV_ERROR);
	findings(b, "warnings", d, SEV_WARNING);
}

void
jsondoc_end(struct sbuf *b, int exit)
{
	sb_addf(b, ",\"exit\":%d}\n", exit);
	fputs(b->s, stdout);
	fflush(stdout);
	sb_free(b);
}

int
jsondoc_error(const struct cli *cli, const char *command, const struct diags *d,
    const char *why, int exit)
{
	struct sbuf b;

	if (d != NULL && d->nerrors > 0)
		jsondoc_begin(&b, cli, command, d);
	else {
		struct diags one = { 0 };

		diag_add(&one, SEV_ERROR, cli->profile != NULL ? cli->profile : "mxdeck", 0,
		    "%s", why);
		jsondoc_begin(&b, cli, command, &one);
		diags_free(&one);
	}
	jsondoc_end(&b, exit);
	return exit;
}
