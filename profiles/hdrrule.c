/* hdrrule.c: parse one Postfix pcre table line of a [header-rules] section.
 *
 * The grammar is Postfix's pcre_table(5) for one rule (dict_pcre.c):
 *	[!] DELIM regex DELIM [flags] WHITESPACE result
 * DELIM is any character that is not alphanumeric, white space, '!' or '#' (Postfix
 * reads an alphanumeric start as a keyword such as "if", and '#' starts a comment).
 * A backslash escapes the next character inside the regex (the backslash is kept, so
 * "\/" reaches pcre as "\/"). The flags are toggles of Postfix's defaults: i m s x A E
 * U X (X is obsolete and ignored by Postfix). The result is ACTION [text]; Postfix
 * compares action names case-insensitively (cleanup_message.c). */
#include "profiles/site.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>

const char *const postfix_action_names[PFA_COUNT] = {
	[PFA_REPLACE] = "REPLACE",
	[PFA_IGNORE] = "IGNORE",
	[PFA_PREPEND] = "PREPEND",
	[PFA_WARN] = "WARN",
	[PFA_STRIP] = "STRIP",
	[PFA_INFO] = "INFO",
	[PFA_DUNNO] = "DUNNO",
	[PFA_REJECT] = "REJECT",
	[PFA_HOLD] = "HOLD",
	[PFA_DISCARD] = "DISCARD",
	[PFA_REDIRECT] = "REDIRECT",
	[PFA_FILTER] = "FILTER",
	[PFA_BCC] = "BCC",
	[PFA_PASS] = "PASS",
	[PFA_OK] = "OK",
};

static void
hdr_rule_clear(struct header_rule *r)
{
	free(r->regex);
	free(r->flags);
	free(r->action_name);
	free(r->arg);
	r->regex = r->flags = r->action_name = r->arg = NULL;
	r->negate = false;
	r->action = -1;
}

int
hdr_rule_parse(struct header_rule *r, char **cause)
{
	const char *p, *re, *fl, *act, *end;
	char delim;
	size_t n;

	hdr_rule_clear(r);
	if (r->text == NULL) {
		*cause = xstrdup("empty header rule");
		return -1;
	}
	p = r->text;
	while (*p == ' ' || *p == '\t')
		p++;
	if (*p == '\0') {
		*cause = xstrdup("empty header rule: expected /regex/ ACTION");
		return -1;
	}
	if (*p == '!') {
		r->negate = true;
		p++;
		while (*p == ' ' || *p == '\t')
			p++;
	}
	delim = *p;
	if (delim == '\0' || delim == '#' || delim == '!' || isalnum((unsigned char)delim) ||
	    isspace((unsigned char)delim) || delim == '\\') {
		if (strncmp(p, "if", 2) == 0 || strncmp(p, "endif", 5) == 0)
			*cause = xasprintf("\"%s\": if/endif blocks are not supported in a "
			    "rule; write one /regex/ ACTION per rule", r->text);
		else
			*cause = xasprintf("\"%s\": a rule must start with a regex delimiter "
			    "such as /: /regex/ ACTION", r->text);
		r->negate = false;
		return -1;
	}
	p++;
	re = p;
	while (*p != '\0' && *p != delim) {
		if (*p == '\\' && p[1] != '\0')
			p++;
		p++;
	}
	if (*p != delim) {
		*cause = xasprintf("\"%s\": no closing regex delimiter \"%c\"", r->text,
		    delim);
		r->negate = false;
		return -1;
	}
	r->regex = xstrndup(re, (size_t)(p - re));
	p++;
	fl = p;
	while (*p != '\0' && !isspace((unsigned char)*p)) {
		if (strchr("imsxAEUX", *p) == NULL) {
			*cause = xasprintf("\"%s\": unknown regex flag \"%c\" (Postfix "
			    "skips this rule); flags are i m s x A E U", r->text, *p);
			hdr_rule_clear(r);
			return -1;
		}
		p++;
	}
	r->flags = xstrndup(fl, (size_t)(p - fl));
	while (isspace((unsigned char)*p))
		p++;
	if (*p == '\0') {
		*cause = xasprintf("\"%s\": missing action after the regex (e.g. IGNORE)",
		    r->text);
		hdr_rule_clear(r);
		return -1;
	}
	act = p;
	while (*p != '\0' && *p != ' ' && *p != '\t')
		p++;
	r->action_name = xstrndup(act, (size_t)(p - act));
	while (*p == ' ' || *p == '\t')
		p++;
	/* Trailing white space of the line is not part of the text. */
	end = p + strlen(p);
	while (end > p && isspace((unsigned char)end[-1]))
		end--;
	n = (size_t)(end - p);
	r->arg = xstrndup(p, n);
	r->action = -1;
	for (int i = 0; i < PFA_COUNT; i++)
		if (str_ieq(r->action_name, postfix_action_names[i])) {
			r->action = i;
			break;
		}
	return 0;
}
