/* ini.c: see ini.h. git-config style: [section] or [section "sub"], key = value,
 * # and ; comments on their own line or after whitespace, "double quoted" values with
 * \" \\ \n \t escapes (for values that contain ' ;' or ' #' or edge spaces). */
#include "profiles/ini.h"
#include "profiles/util.h"

#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

static bool
is_name_char(int c)
{
	return isalnum(c) || c == '_' || c == '-' || c == '.';
}

static void
line_clear(struct ini_line *l)
{
	free(l->section);
	free(l->sub);
	free(l->key);
	free(l->value);
	l->section = l->sub = l->key = l->value = NULL;
	l->comment_off = -1;
}

/* Parse a "quoted string" starting at *pp (on the quote). Returns the unescaped
 * string and moves *pp past the closing quote, or NULL when unterminated. */
static char *
parse_quoted(const char **pp, const char **err)
{
	const char *p = *pp + 1;
	struct sbuf b;

	sb_init(&b);
	sb_addn(&b, "", 0);
	for (; *p != '\0' && *p != '"'; p++) {
		if (*p == '\\') {
			p++;
			switch (*p) {
			case '"':	sb_addc(&b, '"'); break;
			case '\\':	sb_addc(&b, '\\'); break;
			case 'n':	sb_addc(&b, '\n'); break;
			case 't':	sb_addc(&b, '\t'); break;
			case '\0':
				*err = "unterminated quoted string";
				sb_free(&b);
				return NULL;
			default:
				*err = "unknown escape in quoted string (use \\\" \\\\ \\n \\t)";
				sb_free(&b);
				return NULL;
			}
		} else
			sb_addc(&b, *p);
	}
	if (*p != '"') {
		*err = "unterminated quoted string";
		sb_free(&b);
		return NULL;
	}
	*pp = p + 1;
	return sb_steal(&b);
}

/* After a value or header: only whitespace and an optional comment may follow. */
static bool
only_comment_follows(const char *p)
{
	while (*p == ' ' || *p == '\t')
		p++;
	return *p == '\0' || *p == '#' || *p == ';';
}

/* Values and names are one line of printable text: no newline, carriage return,
 * escape or other control character (tab is allowed) can reach a rendered file. */
static bool
has_control(const char *s)
{
	for (; s != NULL && *s != '\0'; s++)
		if (((unsigned char)*s < 0x20 && *s != '\t') || *s == 0x7f)
			return true;
	return false;
}

/* Classify one line; cur_section/cur_sub are the enclosing section (may be NULL).
 * On a malformed line, sets kind INI_BAD and *err. */
static void
classify(struct ini_line *l, const char *cur_section, const char *cur_sub, const char **err)
{
	const char *p = l->raw, *start;

	line_clear(l);
	*err = NULL;
	while (*p == ' ' || *p == '\t')
		p++;
	if (*p == '\0') {
		l->kind = INI_BLANK;
		return;
	}
	if (*p == '#' || *p == ';') {
		l->kind = INI_COMMENT;
		return;
	}
	if (*p == '[') {
		p++;
		while (*p == ' ' || *p == '\t')
			p++;
		start = p;
		while (is_name_char((unsigned char)*p))
			p++;
		if (p == start) {
			*err = "section header needs a name, e.g. [host \"gw1\"]";
			goto bad;
		}
		l->section = xstrndup(start, (size_t)(p - start));
		for (char *s = l->section; *s != '\0'; s++)
			*s = (char)tolower((unsigned char)*s);
		while (*p == ' ' || *p == '\t')
			p++;
		if (*p == '"') {
			if ((l->sub = parse_quoted(&p, err)) == NULL) {
				if (strcmp(*err, "unterminated quoted string") == 0)
					*err = "unterminated quoted name in section header";
				goto bad;
			}
			while (*p == ' ' || *p == '\t')
				p++;
		}
		if (*p != ']') {
			*err = *p == '\0' ? "unterminated section header (missing ']')" :
			    "unexpected text in section header; names with spaces need quotes: [host \"name\"]";
			goto bad;
		}
		if (!only_comment_follows(p + 1)) {
			*err = "unexpected text after section header";
			goto bad;
		}
		if (has_control(l->sub)) {
			*err = "a control character (newline, carriage return, escape...) is not "
			    "allowed in a section name";
			goto bad;
		}
		l->kind = INI_SECTION;
		return;
	}
	start = p;
	while (is_name_char((unsigned char)*p))
		p++;
	if (p == start) {
		*err = "expected 'key = value', a [section] or a comment";
		goto bad;
	}
	l->key = xstrndup(start, (size_t)(p - start));
	for (char *s = l->key; *s != '\0'; s++)
		*s = (char)tolower((unsigned char)*s);
	while (*p == ' ' || *p == '\t')
		p++;
	if (*p != '=') {
		*err = "expected '=' after the key name";
		goto bad;
	}
	p++;
	while (*p == ' ' || *p == '\t')
		p++;
	if (*p == '"') {
		const char *after;

		if ((l->value = parse_quoted(&p, err)) == NULL)
			goto bad;
		after = p;
		if (!only_comment_follows(after)) {
			*err = "unexpected text after quoted value";
			goto bad;
		}
		while (*after == ' ' || *after == '\t')
			after++;
		if (*after != '\0')
			l->comment_off = (int)(p - l->raw);
	} else {
		const char *v = p, *end = p;

		if (*p == ';' || *p == '#') {
			l->comment_off = (int)(p - l->raw);
			end = p;
		} else {
			for (; *end != '\0'; end++) {
				if ((end[0] == ' ' || end[0] == '\t') &&
				    (end[1] == ';' || end[1] == '#')) {
					l->comment_off = (int)(end - l->raw);
					break;
				}
			}
		}
		while (end > v && (end[-1] == ' ' || end[-1] == '\t'))
			end--;
		l->value = xstrndup(v, (size_t)(end - v));
	}
	if (has_control(l->value)) {
		*err = "a control character (newline, carriage return, escape...) is not "
		    "allowed in a value";
		goto bad;
	}
	if (cur_section == NULL) {
		*err = "key outside of any section; put it under a [section] header";
		goto bad;
	}
	l->section = xstrdup(cur_section);
	l->sub = cur_sub != NULL ? xstrdup(cur_sub) : NULL;
	l->kind = INI_KEY;
	return;
bad:
	line_clear(l);
	l->kind = INI_BAD;
}

/* Recompute sect_index and the section context of every key line. */
static void
reindex(struct ini *ini)
{
	long sect = -1;

	for (size_t i = 0; i < ini->n; i++) {
		struct ini_line *l = &ini->line[i];

		if (l->kind == INI_SECTION)
			sect = (long)i;
		l->sect_index = (int)sect;
	}
}

/* Returns false when the line has a NUL byte (raw then stops at it). */
static bool
push_line(struct ini *ini, const char *s, size_t n)
{
	struct ini_line *l;

	xgrow(&ini->line, &ini->cap, ini->n + 1, sizeof *ini->line);
	l = &ini->line[ini->n++];
	memset(l, 0, sizeof *l);
	if (n > 0 && s[n - 1] == '\r') {
		n--;
		l->cr = true;
	}
	l->raw = xstrndup(s, n);
	l->comment_off = -1;
	return memchr(s, '\0', n) == NULL;
}

void
ini_parse(struct ini *ini, const char *path, const char *buf, size_t len, struct diags *d)
{
	const char *cur_section = NULL, *cur_sub = NULL;
	size_t start = 0;
	struct { size_t *v; size_t n, cap; } nul = { NULL, 0, 0 };

	memset(ini, 0, sizeof *ini);
	ini->path = xstrdup(path);
	/* A UTF-8 byte order mark is accepted and dropped. */
	if (len >= 3 && memcmp(buf, "\xef\xbb\xbf", 3) == 0) {
		start = 3;
		ini->bom = true;
	}
	ini->final_newline = true;
	for (size_t i = start; i <= len; i++) {
		if (i == len && i == start)
			break;
		if (i == len || buf[i] == '\n') {
			if (!push_line(ini, buf + start, i - start)) {
				xgrow(&nul.v, &nul.cap, nul.n + 1, sizeof *nul.v);
				nul.v[nul.n++] = ini->n - 1;
			}
			if (i == len)
				ini->final_newline = false;
			start = i + 1;
		}
	}
	for (size_t i = 0, k = 0; i < ini->n; i++) {
		struct ini_line *l = &ini->line[i];
		const char *err;

		if (k < nul.n && nul.v[k] == i) {
			k++;
			line_clear(l);
			l->kind = INI_BAD;
			diag_add(d, SEV_ERROR, path, (int)i + 1,
			    "line contains a NUL byte; is this a text file?");
			continue;
		}
		classify(l, cur_section, cur_sub, &err);
		if (l->kind == INI_BAD) {
			diag_add(d, SEV_ERROR, path, (int)i + 1, "%s", err);
			continue;
		}
		if (l->kind == INI_SECTION) {
			cur_section = l->section;
			cur_sub = l->sub;
		}
	}
	free(nul.v);
	reindex(ini);
}

int
ini_load(struct ini *ini, const char *path, struct diags *d, char **cause)
{
	size_t len;
	char *buf = read_input_file(path, IK_PROFILE, &len, cause);

	if (buf == NULL) {
		memset(ini, 0, sizeof *ini);
		return -1;
	}
	ini_parse(ini, path, buf, len, d);
	free(buf);
	return 0;
}

void
ini_free(struct ini *ini)
{
	for (size_t i = 0; i < ini->n; i++) {
		line_clear(&ini->line[i]);
		free(ini->line[i].raw);
	}
	free(ini->line);
	free(ini->path);
	memset(ini, 0, sizeof *ini);
}

char *
ini_serialize(const struct ini *ini, size_t *lenp)
{
	struct sbuf b;

	sb_init(&b);
	sb_addn(&b, "", 0);
	if (ini->bom)
		sb_add(&b, "\xef\xbb\xbf");
	for (size_t i = 0; i < ini->n; i++) {
		sb_add(&b, ini->line[i].raw);
		if (ini->line[i].cr)
			sb_addc(&b, '\r');
		if (i + 1 < ini->n || ini->final_newline)
			sb_addc(&b, '\n');
	}
	if (lenp != NULL)
		*lenp = b.len;
	return sb_steal(&b);
}

static bool
sub_eq(const char *a, const char *b)
{
	if (a == NULL || b == NULL)
		return a == b;
	return strcmp(a, b) == 0;
}

long
ini_find_section(const struct ini *ini, const char *section, const char *sub)
{
	for (size_t i = 0; i < ini->n; i++) {
		const struct ini_line *l = &ini->line[i];

		if (l->kind == INI_SECTION && strcmp(l->section, section) == 0 &&
		    sub_eq(l->sub, sub))
			return (long)i;
	}
	return -1;
}

long
ini_find_key(const struct ini *ini, long sect, const char *key)
{
	if (sect < 0)
		return -1;
	for (size_t i = (size_t)sect + 1; i < ini->n; i++) {
		const struct ini_line *l = &ini->line[i];

		if (l->kind == INI_SECTION)
			break;
		if (l->kind == INI_KEY && strcmp(l->key, key) == 0)
			return (long)i;
	}
	return -1;
}

char *
ini_quote_value(const char *v)
{
	size_t n = strlen(v);
	/* A trailing \r too: the line reader would take it for a CRLF line end. */
	bool need = n > 0 && (v[0] == ' ' || v[0] == '\t' || v[n - 1] == ' ' ||
	    v[n - 1] == '\t' || v[n - 1] == '\r' || v[0] == '"' || v[0] == ';' ||
	    v[0] == '#');
	struct sbuf b;

	for (const char *p = v; *p != '\0' && !need; p++)
		if (*p == '\n' || ((p[0] == ' ' || p[0] == '\t') && (p[1] == ';' || p[1] == '#')))
			need = true;
	if (!need)
		return xstrdup(v);
	sb_init(&b);
	sb_addc(&b, '"');
	for (const char *p = v; *p != '\0'; p++) {
		switch (*p) {
		case '"':	sb_add(&b, "\\\""); break;
		case '\\':	sb_add(&b, "\\\\"); break;
		case '\n':	sb_add(&b, "\\n"); break;
		case '\t':	sb_add(&b, "\\t"); break;
		default:	sb_addc(&b, *p); break;
		}
	}
	sb_addc(&b, '"');
	return sb_steal(&b);
}

static char *
quote_sub(const char *sub)
{
	struct sbuf b;

	sb_init(&b);
	sb_addc(&b, '"');
	for (const char *p = sub; *p != '\0'; p++) {
		if (*p == '"' || *p == '\\')
			sb_addc(&b, '\\');
		if (*p == '\n')
			sb_add(&b, "\\n");
		else
			sb_addc(&b, *p);
	}
	sb_addc(&b, '"');
	return sb_steal(&b);
}

static void
insert_line(struct ini *ini, size_t at, char *raw)
{
	xgrow(&ini->line, &ini->cap, ini->n + 1, sizeof *ini->line);
	memmove(&ini->line[at + 1], &ini->line[at], (ini->n - at) * sizeof *ini->line);
	ini->n++;
	memset(&ini->line[at], 0, sizeof ini->line[at]);
	ini->line[at].raw = raw;
	ini->line[at].comment_off = -1;
	/* A new line ends like its neighbours (CRLF files stay CRLF). */
	if (at > 0)
		ini->line[at].cr = ini->line[at - 1].cr;
	else if (ini->n > 1)
		ini->line[at].cr = ini->line[1].cr;
}

/* Re-classify line idx in its section context. */
static void
reclassify(struct ini *ini, size_t idx)
{
	const char *sec = NULL, *sub = NULL, *err;

	for (size_t j = idx; j-- > 0;)
		if (ini->line[j].kind == INI_SECTION) {
			sec = ini->line[j].section;
			sub = ini->line[j].sub;
			break;
		}
	classify(&ini->line[idx], sec, sub, &err);
}

static long
ensure_section(struct ini *ini, const char *section, const char *sub)
{
	long s = ini_find_section(ini, section, sub);
	char *raw;

	if (s >= 0)
		return s;
	if (ini->n > 0 && ini->line[ini->n - 1].kind != INI_BLANK)
		insert_line(ini, ini->n, xstrdup(""));
	if (sub != NULL) {
		char *q = quote_sub(sub);

		raw = xasprintf("[%s %s]", section, q);
		free(q);
	} else
		raw = xasprintf("[%s]", section);
	insert_line(ini, ini->n, raw);
	ini->final_newline = true;
	reclassify(ini, ini->n - 1);
	reindex(ini);
	return (long)ini->n - 1;
}

/* Index after the section's last key (or its header). */
static size_t
section_insert_point(const struct ini *ini, long sect)
{
	size_t at = (size_t)sect + 1;

	for (size_t i = (size_t)sect + 1; i < ini->n; i++) {
		if (ini->line[i].kind == INI_SECTION)
			break;
		if (ini->line[i].kind == INI_KEY || ini->line[i].kind == INI_BAD)
			at = i + 1;
	}
	return at;
}

long
ini_add(struct ini *ini, const char *section, const char *sub, const char *key,
    const char *value)
{
	long sect = ensure_section(ini, section, sub);
	size_t at = section_insert_point(ini, sect);
	char *q = ini_quote_value(value);

	insert_line(ini, at, xasprintf("%s = %s", key, q));
	free(q);
	reclassify(ini, at);
	reindex(ini);
	return (long)at;
}

long
ini_set(struct ini *ini, const char *section, const char *sub, const char *key,
    const char *value)
{
	long sect = ensure_section(ini, section, sub);
	long k = ini_find_key(ini, sect, key);
	struct ini_line *l;
	const char *p;
	char *q, *raw;

	if (k < 0)
		return ini_add(ini, section, sub, key, value);
	l = &ini->line[k];
	p = l->raw;
	while (*p == ' ' || *p == '\t')
		p++;
	q = ini_quote_value(value);
	if (l->comment_off >= 0) {
		const char *c = l->raw + l->comment_off;
		bool sp = *c == ' ' || *c == '\t';

		raw = xasprintf("%.*s%s = %s%s%s", (int)(p - l->raw), l->raw, key, q,
		    sp || *q == '\0' ? "" : " ", c);
	} else
		raw = xasprintf("%.*s%s = %s", (int)(p - l->raw), l->raw, key, q);
	free(q);
	free(l->raw);
	l->raw = raw;
	reclassify(ini, (size_t)k);
	return k;
}

void
ini_delete_line(struct ini *ini, size_t idx)
{
	if (idx >= ini->n)
		return;
	line_clear(&ini->line[idx]);
	free(ini->line[idx].raw);
	memmove(&ini->line[idx], &ini->line[idx + 1],
	    (ini->n - idx - 1) * sizeof *ini->line);
	ini->n--;
	reindex(ini);
}

void
ini_delete_section(struct ini *ini, const char *section, const char *sub)
{
	long sect = ini_find_section(ini, section, sub);
	size_t end;

	if (sect < 0)
		return;
	end = section_insert_point(ini, sect);
	if (end < ini->n && ini->line[end].kind == INI_BLANK)
		end++;
	for (size_t i = (size_t)sect; i < end; i++) {
		line_clear(&ini->line[i]);
		free(ini->line[i].raw);
	}
	memmove(&ini->line[sect], &ini->line[end], (ini->n - end) * sizeof *ini->line);
	ini->n -= end - (size_t)sect;
	reindex(ini);
}

int
ini_save(const struct ini *ini, const char *path, char **cause)
{
	struct stat st;
	unsigned mode = 0644;
	size_t len;
	char *data;
	int rc;

	if (stat(path, &st) == 0) {
		size_t olen;
		char *old = read_input_file(path, IK_PROFILE, &olen, cause);

		if (old == NULL)
			return -1;
		mode = st.st_mode & 07777;
		rc = backup_rotate(path, old, olen, mode, BACKUP_KEEP, cause);
		free(old);
		if (rc == -1)
			return -1;
	} else if (errno != ENOENT) {
		*cause = xasprintf("%s: %s", path, strerror(errno));
		return -1;
	}
	data = ini_serialize(ini, &len);
	rc = write_file_through(path, data, len, mode, cause);
	free(data);
	return rc;
}
