/* diag.h: findings about a profile, each with FILE:LINE. */
#ifndef MXDECK_DIAG_H
#define MXDECK_DIAG_H

#include <stddef.h>
#include <stdio.h>

enum sev { SEV_ERROR, SEV_WARNING };

struct diag {
	enum sev sev;
	char	*file;
	int	 line;		/* 0: the file as a whole */
	char	*msg;
};

struct diags {
	struct diag *v;
	size_t	 n;
	size_t	 cap;
	size_t	 nerrors;
	size_t	 nwarnings;
};

void diag_add(struct diags *d, enum sev sev, const char *file, int line,
    const char *fmt, ...) __attribute__((format(printf, 5, 6)));
/* "FILE:LINE: error: msg" / "FILE:LINE: warning: msg", one per line. */
void diags_print(const struct diags *d, FILE *f);
/* Stable sort by file, line (errors before warnings on one line). */
void diags_sort(struct diags *d);
void diags_free(struct diags *d);

#endif
