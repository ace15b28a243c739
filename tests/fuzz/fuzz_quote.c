/* fuzz_quote.c: sh_join()/sh_quote_path(), the one place remote command lines are
 * built (libFuzzer).
 *
 * The input is split at NUL bytes into an argument vector. The joined command line is
 * read back with the POSIX sh rules for the only forms sh_quote() may produce (plain
 * words and '...' with '\'' for a quote): the words must come back byte for byte, and
 * no byte outside single quotes may be one that sh treats specially (so no $(...),
 * backquote, ;, |, &, <, >, glob, ~, # or white space can take effect).
 *
 * Built by tests/fuzz/run.sh. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "backends/ssh/quote.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define MAXARGS 16

static void
check(int cond, const char *what)
{
	if (!cond) {
		fprintf(stderr, "fuzz_quote: invariant violated: %s\n", what);
		abort();
	}
}

static int
safe_unquoted(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	    (c != '\0' && strchr("_@%+:,./-", c) != NULL);
}

/* Split a command line the way sh would, accepting only plain bytes, '...' and \'. */
static size_t
sh_split(const char *s, char **out, size_t max)
{
	size_t n = 0;

	while (*s != '\0') {
		struct sbuf w;

		check(*s != ' ' || n > 0, "leading space");
		if (*s == ' ')
			s++;
		sb_init(&w);
		sb_addn(&w, "", 0);
		check(*s != '\0' && *s != ' ', "an empty unquoted word");
		check(*s != '#' && *s != '~', "a word starts with # or ~");
		while (*s != '\0' && *s != ' ') {
			if (*s == '\'') {
				for (s++; *s != '\''; s++) {
					check(*s != '\0', "unterminated single quote");
					sb_addc(&w, *s);
				}
				s++;
			} else if (*s == '\\') {
				check(s[1] == '\'', "a backslash escapes something but a quote");
				sb_addc(&w, '\'');
				s += 2;
			} else {
				check(safe_unquoted(*s), "a shell-special byte outside quotes");
				sb_addc(&w, *s++);
			}
		}
		check(n < max, "more words than arguments");
		out[n++] = sb_steal(&w);
	}
	return n;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *copy = malloc(size + 1), *args[MAXARGS + 1], *words[MAXARGS];
	const char *argv[MAXARGS + 1];
	size_t n = 0, nw;
	char *line;
	struct sbuf b;

	if (copy == NULL)
		abort();
	memcpy(copy, data, size);
	copy[size] = '\0';
	for (char *p = copy; n < MAXARGS && p <= copy + size; p += strlen(p) + 1)
		args[n++] = p;
	for (size_t i = 0; i < n; i++)
		argv[i] = args[i];
	argv[n] = NULL;

	line = sh_join(argv);
	nw = sh_split(line, words, MAXARGS);
	check(nw == n, "word count differs from argument count");
	for (size_t i = 0; i < n; i++) {
		check(strcmp(words[i], argv[i]) == 0, "a word reads back different");
		free(words[i]);
	}
	free(line);

	/* A path never reads as an option. */
	sb_init(&b);
	sb_addn(&b, "", 0);
	sh_quote_path(&b, argv[0]);
	nw = sh_split(b.s, words, MAXARGS);
	check(nw == 1, "a quoted path is not one word");
	check(words[0][0] != '-', "a quoted path starts with '-'");
	free(words[0]);
	sb_free(&b);
	free(copy);
	return 0;
}
