/* hdrtest.c: a header_checks tester with Postfix's semantics (see hdrtest.h). */
#include "profiles/hdrtest.h"

#define PCRE2_CODE_UNIT_WIDTH 8
#include <ctype.h>
#include <pcre2.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

struct crule {
	pcre2_code *re;		/* NULL: Postfix skips this rule */
	bool	 negate;
	const char *result;	/* raw result text inside the rule's text */
	int	 line;
};

/* Where the result ("ACTION text") starts in a rule that hdr_rule_parse accepted. */
static const char *
result_start(const char *p)
{
	char delim;

	while (*p == ' ' || *p == '\t')
		p++;
	if (*p == '!') {
		p++;
		while (*p == ' ' || *p == '\t')
			p++;
	}
	delim = *p++;
	while (*p != '\0' && *p != delim) {
		if (*p == '\\' && p[1] != '\0')
			p++;
		p++;
	}
	if (*p == delim)
		p++;
	while (*p != '\0' && !isspace((unsigned char)*p))
		p++;
	while (isspace((unsigned char)*p))
		p++;
	return p;
}

/* One pass over a result text the way Postfix's mac_parse() reads it. With out == NULL
 * it only validates (ncap = capture groups, negate = negated pattern); otherwise it
 * substitutes from the match data. 0 or -1 + *cause. */
static int
subst(const char *s, int ncap, bool negate, const char *subject, PCRE2_SIZE *ov, int nset,
    struct sbuf *out, char **cause)
{
	while (*s != '\0') {
		const char *name;
		size_t len;
		long idx = 0;

		if (*s != '$') {
			if (out != NULL)
				sb_addc(out, *s);
			s++;
			continue;
		}
		s++;
		if (*s == '$') {
			if (out != NULL)
				sb_addc(out, '$');
			s++;
			continue;
		}
		if (*s == '{' || *s == '(') {
			char close = *s == '{' ? '}' : ')';
			const char *e = strchr(s + 1, close);

			if (e == NULL) {
				*cause = xasprintf("truncated $%c reference", *s);
				return -1;
			}
			name = s + 1;
			len = (size_t)(e - name);
			s = e + 1;
		} else {
			name = s;
			while (isalnum((unsigned char)*s) || *s == '_')
				s++;
			len = (size_t)(s - name);
		}
		if (len == 0) {
			*cause = xstrdup("empty $ reference (write $$ for a literal $)");
			return -1;
		}
		for (size_t i = 0; i < len; i++) {
			if (!isdigit((unsigned char)name[i])) {
				*cause = xasprintf("non-numeric replacement index \"%.*s\"",
				    (int)len, name);
				return -1;
			}
			if (idx < 1000)
				idx = idx * 10 + (name[i] - '0');
		}
		if (negate) {
			*cause = xasprintf("$%.*s in the text of a negated (!) rule", (int)len,
			    name);
			return -1;
		}
		if (idx < 1 || idx > ncap) {
			*cause = xasprintf("replacement index $%ld out of range (the regex has "
			    "%d group%s)", idx, ncap, ncap == 1 ? "" : "s");
			return -1;
		}
		if (out != NULL && idx < nset && ov[2 * idx] != PCRE2_UNSET)
			sb_addn(out, subject + ov[2 * idx], ov[2 * idx + 1] - ov[2 * idx]);
	}
	return 0;
}

static uint32_t
pcre_options(const char *flags)
{
	uint32_t o = PCRE2_CASELESS | PCRE2_DOTALL;

	for (; *flags != '\0'; flags++) {
		switch (*flags) {
		case 'i':	o ^= PCRE2_CASELESS; break;
		case 'm':	o ^= PCRE2_MULTILINE; break;
		case 's':	o ^= PCRE2_DOTALL; break;
		case 'x':	o ^= PCRE2_EXTENDED; break;
		case 'A':	o ^= PCRE2_ANCHORED; break;
		case 'E':	o ^= PCRE2_DOLLAR_ENDONLY; break;
		case 'U':	o ^= PCRE2_UNGREEDY; break;
		default:	break;	/* X: obsolete, ignored by Postfix */
		}
	}
	return o;
}

/* Compile one rule; NULL code + *cause when Postfix would skip it. */
static pcre2_code *
compile_rule(const struct header_rule *in, bool *negate, char **cause)
{
	struct header_rule r = { .text = in->text, .line = in->line };
	pcre2_code *re = NULL;
	int err;
	PCRE2_SIZE off;
	uint32_t ncap = 0;
	char *why = NULL;

	if (hdr_rule_parse(&r, cause) == -1)
		goto out;
	re = pcre2_compile((PCRE2_SPTR)r.regex, PCRE2_ZERO_TERMINATED,
	    pcre_options(r.flags), &err, &off, NULL);
	if (re == NULL) {
		PCRE2_UCHAR msg[256];

		pcre2_get_error_message(err, msg, sizeof msg);
		*cause = xasprintf("error in regex at offset %zu: %s", (size_t)off,
		    (char *)msg);
		goto out;
	}
	pcre2_pattern_info(re, PCRE2_INFO_CAPTURECOUNT, &ncap);
	if (subst(result_start(r.text), (int)ncap, r.negate, NULL, NULL, 0, NULL,
	    &why) == -1) {
		*cause = why;
		pcre2_code_free(re);
		re = NULL;
		goto out;
	}
	*negate = r.negate;
out:
	free(r.regex);
	free(r.flags);
	free(r.action_name);
	free(r.arg);
	return re;
}

int
hdrtest_check_rule(const struct header_rule *r, char **cause)
{
	bool negate = false;
	pcre2_code *re = compile_rule(r, &negate, cause);

	if (re == NULL)
		return -1;
	pcre2_code_free(re);
	return 0;
}

/* Postfix is_header(): a name of printable non-space ASCII without ':', optional
 * blanks, then ':'. */
static bool
is_header(const char *s, size_t len)
{
	size_t i = 0;

	while (i < len && s[i] > ' ' && s[i] < 0x7f && s[i] != ':')
		i++;
	if (i == 0)
		return false;
	while (i < len && (s[i] == ' ' || s[i] == '\t'))
		i++;
	return i < len && s[i] == ':';
}

static void
add_header(struct hdrtest *t, struct sbuf *cur, int line)
{
	struct hdrtest_header *h;

	xgrow(&t->v, &t->cap, t->n + 1, sizeof *t->v);
	h = &t->v[t->n++];
	memset(h, 0, sizeof *h);
	h->original = sb_steal(cur);
	h->first_line = line;
	h->rule = -1;
	h->action = -1;
}

static void
split_headers(const char *block, size_t len, struct hdrtest *t)
{
	struct sbuf cur;
	const char *p = block, *end = block + len;
	int lineno = 0, cur_line = 0;
	bool have = false;

	sb_init(&cur);
	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		size_t l = nl != NULL ? (size_t)(nl - p) : (size_t)(end - p);

		lineno++;
		if (l > 0 && p[l - 1] == '\r')
			l--;
		if (l == 0)
			break;			/* end of the header section */
		if ((p[0] == ' ' || p[0] == '\t') && have) {
			sb_addc(&cur, '\n');
			sb_addn(&cur, p, l);
		} else if (is_header(p, l)) {
			if (have)
				add_header(t, &cur, cur_line);
			sb_addn(&cur, p, l);
			cur_line = lineno;
			have = true;
		} else
			break;			/* not a header: the body starts */
		p = nl != NULL ? nl + 1 : end;
	}
	if (have)
		add_header(t, &cur, cur_line);
	sb_free(&cur);
}

static void
apply(struct hdrtest_header *h, const struct crule *c, int idx, pcre2_match_data *md,
    int nset)
{
	struct sbuf b;
	const char *p, *sp;
	size_t alen;
	char *cause = NULL;
	PCRE2_SIZE *ov = md != NULL ? pcre2_get_ovector_pointer(md) : NULL;

	sb_init(&b);
	sb_addn(&b, "", 0);
	if (subst(c->result, INT32_MAX, c->negate, h->original, ov, nset, &b, &cause) == -1)
		free(cause);	/* validated at compile time; cannot happen */
	h->rule = idx;
	h->rule_line = c->line;
	h->result = sb_steal(&b);
	p = h->result;
	alen = strcspn(p, " \t");
	for (int i = 0; i < PFA_COUNT; i++)
		if (strlen(postfix_action_names[i]) == alen &&
		    strncasecmp(p, postfix_action_names[i], alen) == 0)
			h->action = i;
	sp = p + alen;
	while (*sp == ' ' || *sp == '\t')
		sp++;
	h->text = xstrdup(sp);
	switch (h->action) {
	case PFA_IGNORE:
	case PFA_STRIP:
		h->output = NULL;
		break;
	case PFA_REPLACE:
		h->output = xstrdup(*h->text != '\0' ? h->text : h->original);
		break;
	case PFA_PREPEND:
		h->prepend = xstrdup(h->text);
		h->output = xstrdup(h->original);
		break;
	default:
		h->output = xstrdup(h->original);
		break;
	}
}

void
hdrtest_run(const struct header_rule *rules, size_t nrules, const char *block, size_t len,
    struct hdrtest *t)
{
	struct crule *c = xcalloc(nrules > 0 ? nrules : 1, sizeof *c);
	pcre2_match_data *md = NULL;

	memset(t, 0, sizeof *t);
	for (size_t i = 0; i < nrules; i++) {
		char *cause = NULL;

		c[i].line = rules[i].line;
		c[i].re = compile_rule(&rules[i], &c[i].negate, &cause);
		if (c[i].re == NULL) {
			strv_push_owned(&t->warnings, xasprintf("rule %zu (line %d): %s: "
			    "Postfix skips this rule", i + 1, rules[i].line, cause));
			free(cause);
			continue;
		}
		c[i].result = result_start(rules[i].text);
	}
	split_headers(block, len, t);
	for (size_t h = 0; h < t->n; h++) {
		const char *subj = t->v[h].original;

		for (size_t i = 0; i < nrules; i++) {
			int rc;

			if (c[i].re == NULL)
				continue;
			md = pcre2_match_data_create_from_pattern(c[i].re, NULL);
			rc = pcre2_match(c[i].re, (PCRE2_SPTR)subj, strlen(subj), 0, 0, md,
			    NULL);
			if (rc < PCRE2_ERROR_NOMATCH) {
				strv_push_owned(&t->warnings, xasprintf("rule %zu (line %d): "
				    "matching error %d on header %zu", i + 1, c[i].line, rc,
				    h + 1));
				rc = PCRE2_ERROR_NOMATCH;
			}
			if ((rc >= 0) != c[i].negate) {
				apply(&t->v[h], &c[i], (int)i, rc >= 0 ? md : NULL,
				    rc > 0 ? rc : 0);
				pcre2_match_data_free(md);
				break;
			}
			pcre2_match_data_free(md);
		}
		if (t->v[h].rule == -1)
			t->v[h].output = xstrdup(subj);
	}
	for (size_t i = 0; i < nrules; i++)
		pcre2_code_free(c[i].re);
	free(c);
}

void
hdrtest_free(struct hdrtest *t)
{
	for (size_t i = 0; i < t->n; i++) {
		free(t->v[i].original);
		free(t->v[i].result);
		free(t->v[i].text);
		free(t->v[i].prepend);
		free(t->v[i].output);
	}
	free(t->v);
	strv_free(&t->warnings);
	memset(t, 0, sizeof *t);
}

void
hdrtest_output(const struct hdrtest *t, struct sbuf *b)
{
	for (size_t i = 0; i < t->n; i++) {
		if (t->v[i].prepend != NULL) {
			sb_add(b, t->v[i].prepend);
			sb_addc(b, '\n');
		}
		if (t->v[i].output != NULL) {
			sb_add(b, t->v[i].output);
			sb_addc(b, '\n');
		}
	}
}

void
hdrtest_postmap(const struct hdrtest *t, struct sbuf *b)
{
	for (size_t i = 0; i < t->n; i++)
		if (t->v[i].result != NULL)
			sb_addf(b, "%s\t%s\n", t->v[i].original, t->v[i].result);
}
