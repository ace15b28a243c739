/* hdrtest-driver.c: run mxdeck's header-rule tester (profiles/hdrtest.c) on a Postfix
 * pcre table and a message on stdin, for tests/integration/postfix-hdrtest.sh.
 *   hdrtest-driver postmap FILE < message   what `postmap -hmq - pcre:FILE` prints
 *   hdrtest-driver output FILE < message    the header block after the rules
 * Comment and empty lines of FILE are skipped; every other line is one rule whose line
 * number is its line in FILE. Skipped-rule warnings go to stderr. Built by the test
 * script against $BUILD/libmxdeck.a (not part of the Makefile's globs). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "profiles/hdrtest.h"

int
main(int argc, char **argv)
{
	struct header_rule *rules = NULL;
	size_t nrules = 0, cap = 0, len, inlen = 0, incap = 0;
	char *text, *cause = NULL, *line, *save = NULL, *in = NULL;
	struct hdrtest t;
	struct sbuf out;
	int lineno = 0;
	size_t n;
	char buf[65536];

	if (argc != 3 || (strcmp(argv[1], "postmap") != 0 && strcmp(argv[1], "output") != 0)) {
		fprintf(stderr, "usage: hdrtest-driver postmap|output FILE < message\n");
		return 2;
	}
	if ((text = read_file(argv[2], &len, &cause)) == NULL) {
		fprintf(stderr, "hdrtest-driver: %s\n", cause);
		free(cause);
		return 2;
	}
	for (line = text; line != NULL; line = save) {
		if ((save = strchr(line, '\n')) != NULL)
			*save++ = '\0';
		lineno++;
		if (line[0] == '#' || line[0] == '\0')
			continue;
		xgrow(&rules, &cap, nrules + 1, sizeof *rules);
		memset(&rules[nrules], 0, sizeof *rules);
		rules[nrules].text = line;
		rules[nrules].line = lineno;
		nrules++;
	}
	while ((n = fread(buf, 1, sizeof buf, stdin)) > 0) {
		xgrow(&in, &incap, inlen + n + 1, 1);
		memcpy(in + inlen, buf, n);
		inlen += n;
	}
	hdrtest_run(rules, nrules, in != NULL ? in : "", inlen, &t);
	for (size_t i = 0; i < t.warnings.n; i++)
		fprintf(stderr, "hdrtest-driver: warning: %s\n", t.warnings.v[i]);
	sb_init(&out);
	sb_addn(&out, "", 0);
	if (strcmp(argv[1], "postmap") == 0)
		hdrtest_postmap(&t, &out);
	else
		hdrtest_output(&t, &out);
	fwrite(out.s, 1, out.len, stdout);
	sb_free(&out);
	hdrtest_free(&t);
	free(rules);
	free(in);
	free(text);
	return 0;
}
