/* diag.c: see diag.h. */
#include "profiles/diag.h"
#include "profiles/util.h"

#include <stdlib.h>
#include <string.h>

void
diag_add(struct diags *d, enum sev sev, const char *file, int line, const char *fmt, ...)
{
	va_list ap;
	struct diag *g;

	xgrow(&d->v, &d->cap, d->n + 1, sizeof *d->v);
	g = &d->v[d->n++];
	g->sev = sev;
	g->file = xstrdup(file != NULL ? file : "-");
	g->line = line;
	va_start(ap, fmt);
	g->msg = xvasprintf(fmt, ap);
	va_end(ap);
	if (sev == SEV_ERROR)
		d->nerrors++;
	else
		d->nwarnings++;
}

void
diags_print(const struct diags *d, FILE *f)
{
	for (size_t i = 0; i < d->n; i++) {
		const struct diag *g = &d->v[i];
		const char *kind = g->sev == SEV_ERROR ? "error" : "warning";

		if (g->line > 0)
			fprintf_safe(f, "%s:%d: %s: %s\n", g->file, g->line, kind, g->msg);
		else
			fprintf_safe(f, "%s: %s: %s\n", g->file, kind, g->msg);
	}
}

void
diags_sort(struct diags *d)
{
	/* Insertion sort: stable, and finding lists are short. */
	for (size_t i = 1; i < d->n; i++) {
		struct diag t = d->v[i];
		size_t j = i;

		while (j > 0) {
			const struct diag *p = &d->v[j - 1];
			int c = strcmp(p->file, t.file);

			if (c < 0 || (c == 0 && (p->line < t.line ||
			    (p->line == t.line && !(p->sev == SEV_WARNING && t.sev == SEV_ERROR)))))
				break;
			d->v[j] = d->v[j - 1];
			j--;
		}
		d->v[j] = t;
	}
}

void
diags_free(struct diags *d)
{
	for (size_t i = 0; i < d->n; i++) {
		free(d->v[i].file);
		free(d->v[i].msg);
	}
	free(d->v);
	memset(d, 0, sizeof *d);
}
