/* hdrtest.h: predict what Postfix's header_checks (pcre:) do to a header block.
 *
 * Semantics follow Postfix's cleanup(8) and pcre_table(5): folded lines are joined into
 * one logical header (the continuation lines keep their "\n" and leading white space),
 * the header section ends at the first empty or non-header line, every logical header
 * is matched against the rules in order and the first matching rule wins. Regex flags
 * toggle Postfix's defaults (i and s on): "/re/i" is case-SENSITIVE. The result text's
 * $1..$9, ${n}, $(n) are substituted (an unset group is empty, $$ is $). A rule Postfix
 * would skip (bad regex, bad flag, $n beyond the groups, $n with a negated pattern)
 * is skipped here too and reported in warnings. */
#ifndef MXDECK_HDRTEST_H
#define MXDECK_HDRTEST_H

#include <stddef.h>

#include "profiles/site.h"

struct hdrtest_header {
	char	*original;	/* the logical header, continuation lines joined by "\n" */
	int	 first_line;	/* 1-based line of the pasted block where it starts */
	int	 rule;		/* index of the matching rule, -1 when none matched */
	int	 rule_line;	/* its profile line (0 when none or unknown) */
	int	 action;	/* enum postfix_action, -1 when unknown or none */
	char	*result;	/* the table result after substitution, exactly as
				 * `postmap -hmq - pcre:FILE` prints it; NULL: no match */
	char	*text;		/* the action's text after substitution ("" if none) */
	char	*prepend;	/* PREPEND: the added header line, else NULL */
	char	*output;	/* what the header becomes; NULL when removed (IGNORE,
				 * STRIP); the original when the action keeps it */
};

struct hdrtest {
	struct hdrtest_header *v;
	size_t	 n;
	size_t	 cap;
	struct strv warnings;	/* "rule N (line L): ..." for rules Postfix skips */
};

/* Apply rules[0..nrules) to the header block (text, len bytes; \n or \r\n lines).
 * Rules need only their text (they are parsed here). Fills *t (free with
 * hdrtest_free). Always succeeds; skipped rules are listed in t->warnings. */
void hdrtest_run(const struct header_rule *rules, size_t nrules, const char *block,
    size_t len, struct hdrtest *t);
void hdrtest_free(struct hdrtest *t);

/* The header block after the rules: PREPENDed lines, replaced and kept headers, in
 * order; removed headers left out. One "\n" after every header. */
void hdrtest_output(const struct hdrtest *t, struct sbuf *b);
/* What `postmap -hmq - pcre:FILE` prints for the same block: "header\tresult\n" for
 * every header that matched. */
void hdrtest_postmap(const struct hdrtest *t, struct sbuf *b);

/* Check the $n references of a rule's result text against its capture count as
 * Postfix does when loading the table. 0, or -1 + *cause (Postfix skips the rule). */
int hdrtest_check_rule(const struct header_rule *r, char **cause);

#endif
