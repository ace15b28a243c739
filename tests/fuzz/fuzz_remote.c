/* fuzz_remote.c: the parsers of what a host sends back to push (libFuzzer):
 * backends/ssh/remote-parse.c and postfix_version_cmp() (profiles/tlsproto.c), which
 * orders the detected mail_version against the versions that change Postfix syntax.
 *
 * The first byte picks the parser, the rest is the host's output:
 *	a  rp_normalize + rp_strip_o	g  percent decoding (temps/txn lists,
 *					   the txn mark, the journal)
 *	b  postconf NAME...		h  backup manifest
 *	c  postconf -M			i  reload status lines
 *	d  postconf -P			j  find -print0 of the backup directory
 *	e  postconf -h mail_version	k  postfix_version_cmp(A, B), A NUL B
 *	f  lock owner file
 * Every result must keep the contract of remote-parse.h: NUL-free, normalized where it
 * says so, within the documented ranges; and the round trips it promises must hold
 * (normalize and strip_o idempotent, decode(encode(s)) == s, cmp antisymmetric).
 * Violations abort with "invariant violated".
 *
 * Built by tests/fuzz/run.sh; tests/unit/test_remote_parse.c includes this file to
 * replay tests/fuzz/regress/remote/ through the same checks. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "backends/ssh/remote-parse.h"
#include "profiles/site.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define FUZZ_ROOT "/var/lib/mxdeck/backup"

static void
check(int cond, const char *what)
{
	if (!cond) {
		fprintf(stderr, "fuzz_remote: invariant violated: %s\n", what);
		abort();
	}
}

/* Bytes of a C string: no NUL by construction; no line break unless allowed. */
static void
check_line(const char *s, const char *what)
{
	check(s != NULL, what);
	check(strchr(s, '\n') == NULL, what);
}

static void
check_normalized(const char *s, const char *what)
{
	size_t n = strlen(s);
	char *again = rp_normalize(s, n);

	check(strcmp(again, s) == 0, what);
	check(n == 0 || (s[0] != ' ' && s[n - 1] != ' '), what);
	check(strstr(s, "  ") == NULL && strpbrk(s, "\t\r\n\v\f") == NULL, what);
	free(again);
}

static void
fuzz_normalize(const char *buf, size_t len)
{
	char *n = rp_normalize(buf, len), *o, *o2;

	check_normalized(n, "rp_normalize output not normalized");
	o = rp_strip_o(n);
	check_normalized(o, "rp_strip_o output not normalized");
	check(strncmp(o, "-o ", 3) != 0 && strstr(o, " -o") == NULL,
	    "rp_strip_o left an -o option");
	o2 = rp_strip_o(o);
	check(strcmp(o, o2) == 0, "rp_strip_o not idempotent");
	free(o2);
	free(o);
	free(n);
}

static void
fuzz_postconf(enum rp_postconf kind, const char *buf, size_t len)
{
	struct rp_kvs kv = { 0 };
	size_t n = rp_postconf_parse(kind, buf, len, &kv);

	check(n == kv.n, "rp_postconf_parse count");
	for (size_t i = 0; i < kv.n; i++) {
		check_line(kv.v[i].key, "a postconf key spans lines");
		check(kv.v[i].key[0] != '\0', "an empty postconf key");
		check_line(kv.v[i].value, "a postconf value spans lines");
		check_normalized(kv.v[i].value, "a postconf value not normalized");
		if (kind == RP_POSTCONF_MASTER) {
			const char *sl = strchr(kv.v[i].key, '/');

			check(sl != NULL && strchr(sl + 1, '/') == NULL && sl != kv.v[i].key &&
			    sl[1] != '\0', "a master.cf key is not name/type");
			check(strchr(kv.v[i].key, ' ') == NULL, "a master.cf key with a blank");
		} else
			check(strstr(kv.v[i].key, " =") == NULL, "a key holds \" =\"");
	}
	rp_kvs_free(&kv);
}

static void
check_cmp(const char *a, const char *b)
{
	int x = postfix_version_cmp(a, b), y = postfix_version_cmp(b, a);

	check((x > 0) == (y < 0) && (x == 0) == (y == 0), "postfix_version_cmp not antisymmetric");
	check(postfix_version_cmp(a, a) == 0, "postfix_version_cmp(a, a) != 0");
}

static void
fuzz_version(const char *buf, size_t len)
{
	char *v = rp_mail_version(buf, len);

	if (v == NULL)
		return;
	check(v[0] >= '0' && v[0] <= '9' && strlen(v) <= 64, "mail_version shape");
	check(strspn(v, "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ.+_-") ==
	    strlen(v), "mail_version charset");
	check_cmp(v, "3.6");
	check_cmp(v, "3.4");
	free(v);
}

static void
fuzz_owner(const char *buf, size_t len)
{
	static const char *const keys[] = { "pid", "controller", "time", "host", "epoch" };

	for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++) {
		char *v = rp_owner_field(buf, len, keys[i]);
		long pid = 0;

		if (v == NULL)
			continue;
		check_line(v, "an owner field spans lines");
		if (rp_parse_pid(v, &pid) == 0)
			check(pid >= 1 && pid <= INT32_MAX && strspn(v, "0123456789") == strlen(v),
			    "rp_parse_pid accepted a bad pid");
		free(v);
	}
}

static void
fuzz_pct(const char *buf, size_t len)
{
	struct strv l = { 0 };
	char *d = rp_pct_decode(buf, len);

	if (d != NULL) {
		struct sbuf b;
		char *back;

		/* decode(encode(s)) == s, and the encoding is plain bytes only */
		sb_init(&b);
		sb_add(&b, "");
		rp_pct_encode(&b, d);
		check(strspn(b.s, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"
		    "/._-%") == b.len, "rp_pct_encode emitted a special byte");
		back = rp_pct_decode(b.s, b.len);
		check(back != NULL && strcmp(back, d) == 0, "decode(encode(s)) != s");
		free(back);
		sb_free(&b);
		free(d);
	}
	rp_pct_lines(buf, len, &l);
	for (size_t i = 0; i < l.n; i++) {
		check(l.v[i][0] != '\0', "an empty decoded line");
	}
	strv_free(&l);
	{
		/* the same bytes as a transaction mark and as a journal */
		struct strv post = { 0 };
		char *bk = NULL;

		rp_txn_parse(buf, len, &bk, &post);
		check(bk == NULL || bk[0] != '\0', "rp_txn_parse: an empty backup name");
		for (size_t i = 0; i < post.n; i++)
			check(strlen(post.v[i]) > 65 && post.v[i][64] == ' ' &&
			    strspn(post.v[i], "0123456789abcdef") == 64,
			    "rp_txn_parse: a POST entry that is not HEX PATH");
		check(!rp_journal_has_backup(buf, len, ""), "rp_journal_has_backup: empty name");
		if (bk != NULL)
			(void)rp_journal_has_backup(buf, len, bk);
		free(bk);
		strv_free(&post);
	}
}

static void
fuzz_manifest(const char *buf, size_t len)
{
	struct rp_manifest m = { 0 };
	size_t bad = rp_manifest_parse(buf, len, &m), nbad = 0, last = 0;

	for (size_t i = 0; i < m.n; i++) {
		const struct rp_mentry *e = &m.v[i];

		check(e->line > last, "manifest lines out of order");
		last = e->line;
		switch (e->kind) {
		case RP_M_BAD:
			nbad++;
			check(e->why != NULL && e->path == NULL && e->name == NULL,
			    "a bad manifest entry with fields");
			break;
		case RP_M_FILE:
			check(e->mode <= 07777, "manifest mode out of range");
			check(e->name != NULL && e->name[0] != '\0' &&
			    strspn(e->name, "0123456789") == strlen(e->name),
			    "a manifest file name that is not a number");
			check(e->uid >= -1 && e->uid <= INT32_MAX && e->gid >= -1 &&
			    e->gid <= INT32_MAX, "manifest owner out of range");
			check(e->path != NULL, "a manifest F line without a path");
			break;
		case RP_M_LINK:
			check(e->target != NULL && e->path != NULL, "an L line without paths");
			break;
		default:
			check(e->path != NULL, "a manifest line without its path");
			break;
		}
	}
	check(bad == nbad, "rp_manifest_parse bad count");
	rp_manifest_free(&m);
}

static void
fuzz_reload(const char *buf, size_t len)
{
	struct rp_reloads r = { 0 };
	size_t n = rp_reload_parse(buf, len, &r);

	check(n == r.n, "rp_reload_parse count");
	for (size_t i = 0; i < r.n; i++) {
		size_t ol = strlen(r.v[i].out);

		check(r.v[i].daemon >= 0 && r.v[i].daemon <= 999 && r.v[i].status >= 0 &&
		    r.v[i].status <= 999, "reload numbers out of range");
		check_line(r.v[i].out, "reload output spans lines");
		check(ol == 0 || r.v[i].out[ol - 1] != ' ', "reload output ends in a blank");
	}
	rp_reloads_free(&r);
}

static void
fuzz_backups(const char *buf, size_t len)
{
	struct strv names = { 0 };

	rp_backup_names(buf, len, FUZZ_ROOT, &names);
	for (size_t i = 0; i < names.n; i++) {
		check(rp_backup_name_ok(names.v[i]), "a backup name of the wrong shape");
		check(strchr(names.v[i], '/') == NULL, "a backup name with a slash");
		if (i > 0) {
			int c = memcmp(names.v[i - 1], names.v[i], 16);

			check(c < 0 || (c == 0 && (strlen(names.v[i - 1]) < strlen(names.v[i]) ||
			    (strlen(names.v[i - 1]) == strlen(names.v[i]) &&
			    strcmp(names.v[i - 1], names.v[i]) < 0))),
			    "backup names not strictly oldest first");
		}
	}
	strv_free(&names);
}

static void
fuzz_cmp(const char *buf, size_t len)
{
	const char *nul = memchr(buf, '\0', len);
	char *a = strndup(buf, nul != NULL ? (size_t)(nul - buf) : len);
	char *b = nul != NULL ? strndup(nul + 1, len - (size_t)(nul - buf) - 1) : strdup("3.7");

	if (a == NULL || b == NULL)
		abort();
	check_cmp(a, b);
	free(a);
	free(b);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *buf;
	char *copy;
	size_t len;

	if (size == 0)
		return 0;
	/* An exact-size copy, not NUL-terminated: ASan sees any read past len. */
	len = size - 1;
	copy = malloc(len > 0 ? len : 1);
	if (copy == NULL)
		abort();
	memcpy(copy, data + 1, len);
	buf = copy;
	switch ((uint8_t)(data[0] - 'a') % 11) {
	case 0:	fuzz_normalize(buf, len); break;
	case 1:	fuzz_postconf(RP_POSTCONF_MAIN, buf, len); break;
	case 2:	fuzz_postconf(RP_POSTCONF_MASTER, buf, len); break;
	case 3:	fuzz_postconf(RP_POSTCONF_PARAM, buf, len); break;
	case 4:	fuzz_version(buf, len); break;
	case 5:	fuzz_owner(buf, len); break;
	case 6:	fuzz_pct(buf, len); break;
	case 7:	fuzz_manifest(buf, len); break;
	case 8:	fuzz_reload(buf, len); break;
	case 9:	fuzz_backups(buf, len); break;
	case 10: fuzz_cmp(buf, len); break;
	}
	free(copy);
	return 0;
}
