/* quote.c: POSIX sh quoting for every remote command (see quote.h). */
#include "backends/ssh/quote.h"

#include <stdlib.h>
#include <string.h>

static int
plain_char(char c)
{
	if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9'))
		return 1;
	return c != '\0' && strchr("_@%+:,./-", c) != NULL;
}

void
sh_quote(struct sbuf *b, const char *s)
{
	const char *p;
	int plain = s[0] != '\0' && s[0] != '-';

	for (p = s; plain && *p != '\0'; p++)
		if (!plain_char(*p))
			plain = 0;
	if (plain) {
		sb_add(b, s);
		return;
	}
	sb_addc(b, '\'');
	for (p = s; *p != '\0'; p++) {
		if (*p == '\'')
			sb_add(b, "'\\''");
		else
			sb_addc(b, *p);
	}
	sb_addc(b, '\'');
}

void
sh_quote_path(struct sbuf *b, const char *path)
{
	if (path[0] == '-') {
		char *p = xasprintf("./%s", path);

		sh_quote(b, p);
		free(p);
		return;
	}
	sh_quote(b, path);
}

char *
sh_join(const char *const *argv)
{
	struct sbuf b;

	sb_init(&b);
	for (size_t i = 0; argv[i] != NULL; i++) {
		if (i > 0)
			sb_addc(&b, ' ');
		sh_quote(&b, argv[i]);
	}
	return sb_steal(&b);
}
