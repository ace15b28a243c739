/* fuzz_profile.c: the profile parser on arbitrary bytes (libFuzzer).
 *
 * For every input:
 *  1. site_load_buf() + site_lint() + diags_sort/print must not crash, leak or hit UB.
 *  2. Round trip: ini_serialize(ini_parse(x)) == x byte for byte (the console's in-place
 *     editor rewrites only what it changes). Inputs holding a NUL byte are excluded:
 *     such a line is a profile error ("is this a text file?") and is kept up to the NUL.
 *  3. Editing: ini_set() of the first key found (and of a new key in a new section) with
 *     a value taken from the input, then serialize and reparse: the key reads back as
 *     the value that was set (a value with a control character reads back as a
 *     "control character" error instead), and every line the edit did not touch is
 *     unchanged.
 *
 * Built by tests/fuzz/run.sh. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "profiles/ini.h"
#include "profiles/site.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
check(int cond, const char *what)
{
	if (!cond) {
		fprintf(stderr, "fuzz_profile: invariant violated: %s\n", what);
		abort();
	}
}

/* The lines of a serialized document (split on \n). */
struct lines {
	const char **p;
	size_t	*len;
	size_t	 n;
};

static void
split(const char *s, size_t len, struct lines *L)
{
	size_t start = 0;

	L->n = 0;
	L->p = calloc(len + 1, sizeof *L->p);
	L->len = calloc(len + 1, sizeof *L->len);
	if (L->p == NULL || L->len == NULL)
		abort();
	for (size_t i = 0; i <= len; i++) {
		if (i == len || s[i] == '\n') {
			if (i == len && i == start)
				break;
			L->p[L->n] = s + start;
			L->len[L->n] = i - start;
			L->n++;
			start = i + 1;
		}
	}
}

static int
line_eq(const struct lines *a, size_t i, const struct lines *b, size_t j)
{
	return a->len[i] == b->len[j] && memcmp(a->p[i], b->p[j], a->len[i]) == 0;
}

/* Every line of old is in new, except that new may have up to `grown` more lines and
 * one changed line: the common prefix and the common suffix cover all but that. */
static void
check_local_edit(const char *old, size_t oldlen, const char *new, size_t newlen,
    size_t maxchanged)
{
	struct lines a, b;
	size_t pre = 0, suf = 0;

	split(old, oldlen, &a);
	split(new, newlen, &b);
	while (pre < a.n && pre < b.n && line_eq(&a, pre, &b, pre))
		pre++;
	while (suf < a.n - pre && suf < b.n - pre &&
	    line_eq(&a, a.n - 1 - suf, &b, b.n - 1 - suf))
		suf++;
	if (a.n - pre - suf > 1 || b.n - pre - suf > maxchanged)
		fprintf(stderr, "--- before ini_set:\n%.*s\n--- after:\n%.*s\n---\n",
		    (int)oldlen, old, (int)newlen, new);
	/* Old lines not in the common prefix/suffix were rewritten: at most one. */
	check(a.n - pre - suf <= 1, "ini_set rewrote more than one existing line");
	check(b.n - pre - suf <= maxchanged, "ini_set added too many lines");
	free(a.p);
	free(a.len);
	free(b.p);
	free(b.len);
}

static int
has_ctl(const char *v)
{
	for (; *v != '\0'; v++)
		if (((unsigned char)*v < 0x20 && *v != '\t') || *v == 0x7f)
			return 1;
	return 0;
}

/* After ini_set(section, sub, key, value): serialize, reparse, read back. */
static void
check_set(struct ini *ini, const char *section, const char *sub, const char *key,
    const char *value, int strict)
{
	size_t oldlen, newlen;
	char *old = ini_serialize(ini, &oldlen), *new;
	struct ini re;
	struct diags d = { 0 };
	long s, k;

	(void)ini_set(ini, section, sub, key, value);
	new = ini_serialize(ini, &newlen);
	/* A line cut at a NUL serializes shorter and reparses as another line (the NUL
	 * made it bad): the line count and read-back hold only for NUL-free input. */
	if (strict) {
		check_local_edit(old, oldlen, new, newlen, 3);
		ini_parse(&re, "fuzz.ini", new, newlen, &d);
		s = ini_find_section(&re, section, sub);
		check(s >= 0, "the section of a set key is not found after reparse");
		if (has_ctl(value)) {
			/* A value with a control character cannot be written (every
			 * generated file is line-based): the line reads back as an error. */
			int found = 0;

			for (size_t i = 0; i < d.n; i++)
				found |= strstr(d.v[i].msg, "control character") != NULL;
			check(found, "a value with a control character reparses without error");
		} else {
			k = ini_find_key(&re, s, key);
			if (k < 0)
				fprintf(stderr, "set [%s \"%s\"] %s = \"%s\"; the document is "
				    "now:\n%.*s\n", section, sub ? sub : "", key, value,
				    (int)newlen, new);
			check(k >= 0, "a set key is not found after reparse");
			check(re.line[k].kind == INI_KEY, "a set key reparses as a bad line");
			if (strcmp(re.line[k].value, value) != 0)
				fprintf(stderr, "set [%s \"%s\"] %s to \"%s\", the line is \"%s\", "
				    "reads back \"%s\"\n", section, sub ? sub : "", key, value,
				    re.line[k].raw, re.line[k].value);
			check(strcmp(re.line[k].value, value) == 0,
			    "a set value reads back different");
		}
		ini_free(&re);
	}
	diags_free(&d);
	free(old);
	free(new);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static FILE *devnull;
	const char *buf = (const char *)data;
	struct site site;
	struct diags d = { 0 };
	char value[64];
	size_t vlen = 0;
	int strict;

	if (devnull == NULL && (devnull = fopen("/dev/null", "w")) == NULL)
		abort();
	/* A directory that does not exist: a relative users file is never found. */
	(void)site_load_buf(&site, "/nonexistent/mxdeck-fuzz/profile.ini", buf, size, &d);
	site_lint(&site, &d);
	diags_sort(&d);
	diags_print(&d, devnull);

	strict = memchr(data, '\0', size) == NULL;
	if (strict) {
		size_t len;
		char *out = ini_serialize(&site.ini, &len);

		check(len == size && memcmp(out, data, size) == 0,
		    "ini_serialize(ini_parse(x)) != x");
		free(out);
	}

	/* A value from the tail of the input: any bytes but NUL. */
	for (size_t i = size > 48 ? size - 48 : 0; i < size && vlen < sizeof value - 1; i++)
		if (data[i] != '\0')
			value[vlen++] = (char)data[i];
	value[vlen] = '\0';

	for (size_t i = 0; i < site.ini.n; i++) {
		const struct ini_line *l = &site.ini.line[i];

		if (l->kind == INI_KEY) {
			char *sec = strdup(l->section), *sub = l->sub ? strdup(l->sub) : NULL;
			char *key = strdup(l->key);

			check_set(&site.ini, sec, sub, key, value, strict);
			free(sec);
			free(sub);
			free(key);
			break;
		}
	}
	check_set(&site.ini, "user", "fuzz\"\\ ]@example.org", "pop3", value, strict);
	check_set(&site.ini, "site", NULL, "name", value, strict);

	site_free(&site);
	diags_free(&d);
	return 0;
}
