/* remote-parse.c: pure parsers for what a host sends back (see remote-parse.h). */
#include "backends/ssh/remote-parse.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* One line of buf: [*s, *s + *n); returns false at the end. *pos is the cursor. */
static bool
next_line(const char *buf, size_t len, size_t *pos, const char **s, size_t *n)
{
	const char *nl;

	if (*pos >= len)
		return false;
	*s = buf + *pos;
	nl = memchr(*s, '\n', len - *pos);
	*n = nl != NULL ? (size_t)(nl - *s) : len - *pos;
	*pos += *n + 1;
	return true;
}

static bool
blank(char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f' ||
	    c == '\0';
}

static bool
digit(char c)
{
	return c >= '0' && c <= '9';
}

char *
rp_normalize(const char *buf, size_t len)
{
	struct sbuf b;
	bool sp = false;
	size_t i = 0;

	sb_init(&b);
	sb_add(&b, "");
	while (i < len && blank(buf[i]))
		i++;
	for (; i < len; i++) {
		if (blank(buf[i])) {
			sp = true;
			continue;
		}
		if (sp)
			sb_addc(&b, ' ');
		sp = false;
		sb_addc(&b, buf[i]);
	}
	return sb_steal(&b);
}

char *
rp_strip_o(const char *entry)
{
	struct strv w = { 0 };
	struct sbuf b;
	char *copy = xstrdup(entry), *word, *save = NULL;

	/* Words are split on blanks only: a value may contain commas. */
	for (word = strtok_r(copy, " \t", &save); word != NULL;
	    word = strtok_r(NULL, " \t", &save))
		strv_push(&w, word);
	free(copy);
	sb_init(&b);
	sb_add(&b, "");
	for (size_t i = 0; i < w.n; i++) {
		if (strcmp(w.v[i], "-o") == 0) {
			i++;	/* and its value; a last "-o" has none */
			continue;
		}
		if (strncmp(w.v[i], "-o", 2) == 0 && w.v[i][2] != '\0')
			continue;
		sb_addf(&b, "%s%s", b.len ? " " : "", w.v[i]);
	}
	strv_free(&w);
	return sb_steal(&b);
}

/* ---- postconf ---- */

static void
kvs_add(struct rp_kvs *kvs, char *key, char *value)
{
	xgrow(&kvs->v, &kvs->cap, kvs->n + 1, sizeof *kvs->v);
	kvs->v[kvs->n].key = key;
	kvs->v[kvs->n++].value = value;
}

static size_t
postconf_master_line(const char *s, size_t n, struct rp_kvs *out)
{
	char *w = rp_normalize(s, n), *sp1, *sp2, *key;

	/* "name type private ..." -> key name/type, value the whole entry */
	sp1 = strchr(w, ' ');
	sp2 = sp1 != NULL ? strchr(sp1 + 1, ' ') : NULL;
	/* A '/' in the name or type would make "name/type" ambiguous. */
	if (sp2 == NULL || memchr(w, '/', (size_t)(sp2 - w)) != NULL) {
		free(w);
		return 0;
	}
	key = xasprintf("%.*s/%.*s", (int)(sp1 - w), w, (int)(sp2 - sp1 - 1), sp1 + 1);
	kvs_add(out, key, rp_strip_o(w));
	free(w);
	return 1;
}

static size_t
postconf_kv_line(const char *s, size_t n, struct rp_kvs *out)
{
	size_t eq;

	for (eq = 0; eq + 1 < n; eq++)
		if (s[eq] == ' ' && s[eq + 1] == '=')
			break;
	if (eq + 1 >= n || eq == 0)
		return 0;
	kvs_add(out, xstrndup(s, eq), rp_normalize(s + eq + 2, n - eq - 2));
	return 1;
}

size_t
rp_postconf_parse(enum rp_postconf kind, const char *buf, size_t len, struct rp_kvs *out)
{
	size_t pos = 0, n, added = 0;
	const char *s;

	while (next_line(buf, len, &pos, &s, &n)) {
		if (n == 0 || memchr(s, '\0', n) != NULL)
			continue;
		if (kind == RP_POSTCONF_MASTER)
			added += postconf_master_line(s, n, out);
		else
			added += postconf_kv_line(s, n, out);
	}
	return added;
}

void
rp_kvs_free(struct rp_kvs *kvs)
{
	for (size_t i = 0; i < kvs->n; i++) {
		free(kvs->v[i].key);
		free(kvs->v[i].value);
	}
	free(kvs->v);
	memset(kvs, 0, sizeof *kvs);
}

char *
rp_mail_version(const char *buf, size_t len)
{
	char *v = rp_normalize(buf, len);
	size_t n = strlen(v);

	if (n == 0 || n > 64 || !digit(v[0]))
		goto bad;
	for (size_t i = 0; i < n; i++)
		if (!(digit(v[i]) || (v[i] >= 'a' && v[i] <= 'z') ||
		    (v[i] >= 'A' && v[i] <= 'Z') || strchr(".+_-", v[i]) != NULL))
			goto bad;
	return v;
bad:
	free(v);
	return NULL;
}

/* ---- lock directory ---- */

char *
rp_owner_field(const char *buf, size_t len, const char *key)
{
	size_t kl = strlen(key), pos = 0, n;
	const char *s;

	while (next_line(buf, len, &pos, &s, &n)) {
		if (n > 0 && s[n - 1] == '\r')
			n--;
		if (n <= kl || memcmp(s, key, kl) != 0 || s[kl] != '=' ||
		    memchr(s, '\0', n) != NULL)
			continue;
		return xstrndup(s + kl + 1, n - kl - 1);
	}
	return NULL;
}

int
rp_parse_pid(const char *s, long *pid)
{
	long v = 0;
	size_t i;

	for (i = 0; digit(s[i]); i++) {
		if (i == 10)
			return -1;
		v = v * 10 + (s[i] - '0');
	}
	if (i == 0 || s[i] != '\0' || v < 1 || v > INT32_MAX)
		return -1;
	*pid = v;
	return 0;
}

void
rp_pct_encode(struct sbuf *b, const char *s)
{
	for (; *s != '\0'; s++) {
		unsigned char c = (unsigned char)*s;

		if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		    (c >= '0' && c <= '9') || strchr("/._-", c) != NULL)
			sb_addc(b, (char)c);
		else
			sb_addf(b, "%%%02X", c);
	}
}

static int
hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

char *
rp_pct_decode(const char *s, size_t n)
{
	struct sbuf b;

	sb_init(&b);
	sb_add(&b, "");
	for (size_t i = 0; i < n; i++) {
		char c = s[i];

		if (c == '%' && i + 2 < n && hexval(s[i + 1]) >= 0 && hexval(s[i + 2]) >= 0) {
			c = (char)(hexval(s[i + 1]) * 16 + hexval(s[i + 2]));
			i += 2;
		}
		if (c == '\0') {
			sb_free(&b);
			return NULL;
		}
		sb_addc(&b, c);
	}
	return sb_steal(&b);
}

void
rp_pct_lines(const char *buf, size_t len, struct strv *out)
{
	size_t pos = 0, n;
	const char *s;

	while (next_line(buf, len, &pos, &s, &n)) {
		char *d;

		if (n > 0 && s[n - 1] == '\r')
			n--;
		if (n == 0 || (d = rp_pct_decode(s, n)) == NULL)
			continue;
		strv_push_owned(out, d);
	}
}

/* ---- the transaction mark and the journal ---- */

void
rp_txn_parse(const char *buf, size_t len, char **backup, struct strv *post)
{
	struct strv l = { 0 };

	*backup = NULL;
	rp_pct_lines(buf, len, &l);
	if (l.n > 0)
		*backup = xstrdup(l.v[0]);
	for (size_t i = 1; i < l.n; i++) {
		const char *s = l.v[i];

		if (strncmp(s, "POST ", 5) == 0 && strlen(s) > 5 + 64 + 1 && s[5 + 64] == ' ' &&
		    strspn(s + 5, "0123456789abcdef") == 64)
			strv_push(post, s + 5);
	}
	strv_free(&l);
}

bool
rp_journal_has_backup(const char *buf, size_t len, const char *backup)
{
	struct sbuf needle;
	bool found = false;

	if (buf == NULL || backup == NULL || *backup == '\0')
		return false;
	sb_init(&needle);
	sb_add(&needle, " backup=");
	rp_pct_encode(&needle, backup);
	sb_addc(&needle, ' ');
	for (size_t i = 0; i + needle.len <= len && !found; i++)
		found = buf[i] == ' ' && memcmp(buf + i, needle.s, needle.len) == 0;
	sb_free(&needle);
	return found;
}

/* ---- manifests ---- */

/* Split [s, s + n) on blanks into at most max words (pointers into s, lengths). */
static size_t
words(const char *s, size_t n, const char **w, size_t *wl, size_t max)
{
	size_t k = 0, i = 0;

	for (;;) {
		size_t start;

		while (i < n && (s[i] == ' ' || s[i] == '\t' || s[i] == '\r'))
			i++;
		if (i == n)
			return k;
		if (k == max)
			return max + 1;
		start = i;
		while (i < n && !(s[i] == ' ' || s[i] == '\t' || s[i] == '\r'))
			i++;
		w[k] = s + start;
		wl[k++] = i - start;
	}
}

static bool
word_is(const char *w, size_t wl, const char *s)
{
	return wl == strlen(s) && memcmp(w, s, wl) == 0;
}

/* -1, or 0..2147483647 */
static bool
parse_id(const char *w, size_t wl, long *out)
{
	long v = 0;

	if (word_is(w, wl, "-1")) {
		*out = -1;
		return true;
	}
	if (wl == 0 || wl > 10)
		return false;
	for (size_t i = 0; i < wl; i++) {
		if (!digit(w[i]))
			return false;
		v = v * 10 + (w[i] - '0');
	}
	if (v > INT32_MAX)
		return false;
	*out = v;
	return true;
}

static bool
parse_mode(const char *w, size_t wl, unsigned *out)
{
	unsigned v = 0;

	if (wl == 0 || wl > 5)
		return false;
	for (size_t i = 0; i < wl; i++) {
		if (w[i] < '0' || w[i] > '7')
			return false;
		v = v * 8 + (unsigned)(w[i] - '0');
	}
	if (v > 07777)
		return false;
	*out = v;
	return true;
}

static const char *
manifest_line(const char *s, size_t n, struct rp_mentry *e)
{
	const char *w[6];
	size_t wl[6], k = words(s, n, w, wl, 6);

	if (word_is(w[0], wl[0], "F")) {
		e->kind = RP_M_FILE;
		if (k != 4 && k != 6)
			return "F wants MODE NAME PATH [UID GID]";
		if (!parse_mode(w[1], wl[1], &e->mode))
			return "the mode is not octal 0..7777";
		for (size_t i = 0; i < wl[2]; i++)
			if (!digit(w[2][i]))
				return "the saved file's name is not a number";
		if (wl[2] == 0 || wl[2] > 20)
			return "the saved file's name is not a number";
		e->name = xstrndup(w[2], wl[2]);
		if ((e->path = rp_pct_decode(w[3], wl[3])) == NULL)
			return "the path holds a NUL byte";
		e->uid = e->gid = -1;
		if (k == 6 && (!parse_id(w[4], wl[4], &e->uid) || !parse_id(w[5], wl[5], &e->gid)))
			return "the owner is not a number";
		return NULL;
	}
	if (word_is(w[0], wl[0], "N") || word_is(w[0], wl[0], "NL") ||
	    word_is(w[0], wl[0], "D")) {
		e->kind = wl[0] == 2 ? RP_M_NEWLINK : w[0][0] == 'N' ? RP_M_NEW : RP_M_DIR;
		if (k != 2)
			return "wants one PATH";
		if ((e->path = rp_pct_decode(w[1], wl[1])) == NULL)
			return "the path holds a NUL byte";
		return NULL;
	}
	/* "L": checked by the caller. */
	e->kind = RP_M_LINK;
	if (k != 3)
		return "L wants TARGET PATH";
	if ((e->target = rp_pct_decode(w[1], wl[1])) == NULL ||
	    (e->path = rp_pct_decode(w[2], wl[2])) == NULL)
		return "a path holds a NUL byte";
	return NULL;
}

static void
mentry_clear(struct rp_mentry *e)
{
	free(e->name);
	free(e->path);
	free(e->target);
	free(e->why);
	e->name = e->path = e->target = e->why = NULL;
}

size_t
rp_manifest_parse(const char *buf, size_t len, struct rp_manifest *m)
{
	size_t pos = 0, n, line = 0, bad = 0;
	const char *s;

	while (next_line(buf, len, &pos, &s, &n)) {
		const char *w[1], *why;
		size_t wl[1], k;
		struct rp_mentry e;

		line++;
		k = words(s, n, w, wl, 1);
		if (k == 0 || !(word_is(w[0], wl[0], "F") || word_is(w[0], wl[0], "N") ||
		    word_is(w[0], wl[0], "NL") || word_is(w[0], wl[0], "L") ||
		    word_is(w[0], wl[0], "D")))
			continue;
		memset(&e, 0, sizeof e);
		e.line = line;
		e.uid = e.gid = -1;
		if (memchr(s, '\0', n) != NULL)
			why = "the line holds a NUL byte";
		else
			why = manifest_line(s, n, &e);
		if (why != NULL) {
			mentry_clear(&e);
			e.kind = RP_M_BAD;
			e.why = xstrdup(why);
			bad++;
		}
		xgrow(&m->v, &m->cap, m->n + 1, sizeof *m->v);
		m->v[m->n++] = e;
	}
	return bad;
}

void
rp_manifest_free(struct rp_manifest *m)
{
	for (size_t i = 0; i < m->n; i++)
		mentry_clear(&m->v[i]);
	free(m->v);
	memset(m, 0, sizeof *m);
}

/* ---- reload status ---- */

/* 1-3 digits at s[*i] (followed by a space or the end); false otherwise. */
static bool
small_num(const char *s, size_t n, size_t *i, int *out)
{
	int v = 0;
	size_t start = *i;

	while (*i < n && digit(s[*i]) && *i - start < 3)
		v = v * 10 + (s[(*i)++] - '0');
	if (*i == start || (*i < n && s[*i] != ' '))
		return false;
	*out = v;
	return true;
}

size_t
rp_reload_parse(const char *buf, size_t len, struct rp_reloads *out)
{
	size_t pos = 0, n, added = 0;
	const char *s;

	while (next_line(buf, len, &pos, &s, &n)) {
		size_t i = 7, ol;
		int k, st;
		char *o;

		if (n < 8 || memcmp(s, "reload ", 7) != 0 || !small_num(s, n, &i, &k) ||
		    i == n || (i++, !small_num(s, n, &i, &st)))
			continue;
		if (i < n)
			i++;
		ol = n - i;
		while (ol > 0 && (s[i + ol - 1] == ' ' || s[i + ol - 1] == '\t' ||
		    s[i + ol - 1] == '\r' || s[i + ol - 1] == '\0'))
			ol--;
		o = xcalloc(ol + 1, 1);
		for (size_t j = 0; j < ol; j++)
			o[j] = s[i + j] == '\0' ? ' ' : s[i + j];
		xgrow(&out->v, &out->cap, out->n + 1, sizeof *out->v);
		out->v[out->n].daemon = k;
		out->v[out->n].status = st;
		out->v[out->n++].out = o;
		added++;
	}
	return added;
}

void
rp_reloads_free(struct rp_reloads *r)
{
	for (size_t i = 0; i < r->n; i++)
		free(r->v[i].out);
	free(r->v);
	memset(r, 0, sizeof *r);
}

/* ---- the backup directory ---- */

bool
rp_backup_name_ok(const char *name)
{
	/* YYYYMMDDTHHMMSSZ-PID */
	static const char shape[] = "ddddddddTddddddZ-";
	size_t i;

	for (i = 0; shape[i] != '\0'; i++)
		if (shape[i] == 'd' ? !digit(name[i]) : name[i] != shape[i])
			return false;
	if (!digit(name[i]) || name[i] == '0')
		return false;
	for (size_t j = i; name[j] != '\0'; j++)
		if (!digit(name[j]) || j - i >= 10)
			return false;
	return true;
}

static int
backup_cmp(const void *a, const void *b)
{
	const char *x = *(const char *const *)a, *y = *(const char *const *)b;
	int c = memcmp(x, y, 16);
	size_t xl, yl;

	if (c != 0)
		return c;
	/* Same second: by pid, as a number (rp_backup_name_ok() refuses leading zeros). */
	x += 17;
	y += 17;
	xl = strlen(x);
	yl = strlen(y);
	if (xl != yl)
		return xl < yl ? -1 : 1;
	return strcmp(x, y);
}

void
rp_backup_names(const char *buf, size_t len, const char *root, struct strv *out)
{
	struct strv got = { 0 };
	size_t rl = strlen(root), pos = 0;

	while (rl > 1 && root[rl - 1] == '/')
		rl--;
	while (pos < len) {
		const char *s = buf + pos, *end = memchr(s, '\0', len - pos);
		size_t n = end != NULL ? (size_t)(end - s) : len - pos;
		char *name;

		pos += n + 1;
		if (n <= rl + 1 || memcmp(s, root, rl) != 0 || s[rl] != '/')
			continue;
		name = xstrndup(s + rl + 1, n - rl - 1);
		if (!rp_backup_name_ok(name)) {
			free(name);
			continue;
		}
		strv_push_owned(&got, name);
	}
	if (got.n > 1)
		qsort(got.v, got.n, sizeof *got.v, backup_cmp);
	for (size_t i = 0; i < got.n; i++) {
		if (i > 0 && backup_cmp(&got.v[i], &got.v[i - 1]) == 0) {
			/* a duplicate: keep the first, still in got.v[i - 1] */
			char *dup = got.v[i];

			got.v[i] = got.v[i - 1];
			free(dup);
			continue;
		}
		strv_push_owned(out, got.v[i]);
	}
	free(got.v);
}
