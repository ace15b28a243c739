/* fuzz_hdrrule.c: the header-rule parser and the header-rule tester (libFuzzer).
 *
 * Input: rule lines (a pcre table line each) up to the first empty line, then a header
 * block. Every rule goes through hdr_rule_parse() and hdrtest_check_rule(); then
 * hdrtest_run() applies them all to the block, and hdrtest_output()/hdrtest_postmap()
 * format the result. Invariants: a parsed rule has a regex, flags and an action name;
 * every logical header is reported once with a valid rule index; a header with no
 * matching rule keeps its original text; the output never holds more headers than the
 * block plus the PREPENDed lines.
 *
 * Built by tests/fuzz/run.sh. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "profiles/hdrtest.h"
#include "profiles/site.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define MAXRULES 16

static void
check(int cond, const char *what)
{
	if (!cond) {
		fprintf(stderr, "fuzz_hdrrule: invariant violated: %s\n", what);
		abort();
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *buf = (const char *)data, *end = buf + size, *p = buf;
	struct header_rule rules[MAXRULES];
	size_t nrules = 0;
	struct hdrtest t;
	struct sbuf out, pm;

	memset(rules, 0, sizeof rules);
	while (p < end && nrules < MAXRULES) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		size_t n = nl != NULL ? (size_t)(nl - p) : (size_t)(end - p);
		struct header_rule *r;
		char *cause = NULL;

		if (n == 0) {		/* the empty line: the header block follows */
			p++;
			break;
		}
		r = &rules[nrules++];
		r->text = xstrndup(p, n);	/* stops at a NUL like a C string would */
		r->line = (int)nrules;
		if (hdr_rule_parse(r, &cause) == 0) {
			check(r->regex != NULL && r->flags != NULL && r->action_name != NULL &&
			    r->arg != NULL, "a parsed rule lacks a part");
			check(r->action >= -1 && r->action < PFA_COUNT, "action out of range");
		} else {
			check(cause != NULL, "hdr_rule_parse failed without a cause");
			free(cause);
			cause = NULL;
		}
		if (hdrtest_check_rule(r, &cause) == -1) {
			check(cause != NULL, "hdrtest_check_rule failed without a cause");
			free(cause);
		}
		p = nl != NULL ? nl + 1 : end;
	}

	hdrtest_run(rules, nrules, p, (size_t)(end - p), &t);
	for (size_t i = 0; i < t.n; i++) {
		const struct hdrtest_header *h = &t.v[i];

		check(h->original != NULL, "a header without its text");
		check(h->rule >= -1 && h->rule < (int)nrules, "rule index out of range");
		if (h->rule == -1) {
			check(h->result == NULL, "an unmatched header has a result");
			check(h->output != NULL && strcmp(h->output, h->original) == 0,
			    "an unmatched header changed");
		}
	}
	sb_init(&out);
	sb_init(&pm);
	hdrtest_output(&t, &out);
	hdrtest_postmap(&t, &pm);
	sb_free(&out);
	sb_free(&pm);
	hdrtest_free(&t);

	for (size_t i = 0; i < nrules; i++) {
		free(rules[i].text);
		free(rules[i].regex);
		free(rules[i].flags);
		free(rules[i].action_name);
		free(rules[i].arg);
	}
	return 0;
}
