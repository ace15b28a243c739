/* test_site_users.c: removing users from the model (site_remove_users) and the line
 * ranges of the users CSV's records (users_csv_records), both in profiles/site.c.
 *
 * Removal must keep every remaining user findable with its own file, line and
 * protocols (the index is open addressing: a removal that cut a probe chain would lose
 * users behind it), and an absent address must change nothing. The records must be
 * exactly the loader's: each user record starts on the line the loader gives its user,
 * and cutting a record's lines out of the text removes that user and no other, for
 * quoted multi-line fields, CRLF, a byte order mark, UTF-16, ';' and tab separators
 * and the #TYPE line of Export-Csv. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "profiles/site.h"
#include "tests/unit/cases.h"

#define CSVPATH	"/p/users.csv"

static void
load_csv(struct site *s, const char *csv, size_t len, int want_rc)
{
	struct diags d;

	memset(s, 0, sizeof *s);
	memset(&d, 0, sizeof d);
	s->user_default = PROTO_ALL;
	if (users_csv_parse(s, CSVPATH, csv, len, &d) != want_rc) {
		diags_print(&d, stderr);
		fail_msg("users_csv_parse did not return %d", want_rc);
	}
	diags_free(&d);
}

/* n users u0000@example.org..., each with protocols i % 128, rows on lines 2.. */
static char *
many_users(size_t n)
{
	struct sbuf b;

	sb_init(&b);
	sb_add(&b, "email,imap,pop3,smtp,activesync,mapi,owa,ews\n");
	for (size_t i = 0; i < n; i++) {
		char row[80];

		snprintf(row, sizeof row, "u%04zu@example.org", i);
		sb_add(&b, row);
		for (int p = 0; p < PROTO_COUNT; p++)
			sb_add(&b, (i % 128) & (1u << p) ? ",1" : ",0");
		sb_addc(&b, '\n');
	}
	return sb_steal(&b);
}

/* Every user i of many_users() that is still there is found with its own data, every
 * one that is not is not found, and the order is kept; extra users follow them. */
static void
check_many(const struct site *s, size_t n, const unsigned char *gone, size_t extra)
{
	size_t k = 0;

	for (size_t i = 0; i < n; i++) {
		char email[40];
		const struct user *u;

		snprintf(email, sizeof email, "U%04zu@Example.ORG", i);	/* any case */
		u = site_find_user(s, email);
		if (gone[i]) {
			if (u != NULL)
				fail_msg("%s is still there", email);
			continue;
		}
		if (u == NULL)
			fail_msg("%s is lost", email);
		assert_ptr_equal(u, &s->users[k]);
		k++;
		assert_true(str_ieq(u->email, email));
		assert_int_equal(u->line, (int)i + 2);
		assert_string_equal(u->file, CSVPATH);
		assert_ptr_equal(u->file, s->users_path);
		assert_int_equal(u->protos, i % 128);
	}
	assert_int_equal(s->nusers, k + extra);
}

static void
test_remove_keeps_lookups(void **state)
{
	enum { N = 1500 };
	char *csv = many_users(N);
	unsigned char gone[N] = { 0 };
	const char *emails[N];
	char names[N][40];
	struct site s;
	size_t n = 0;

	(void)state;
	load_csv(&s, csv, strlen(csv), 0);
	assert_int_equal(s.nusers, N);
	check_many(&s, N, gone, 0);
	/* every third user, and a run of neighbours (long probe chains), in mixed case */
	for (size_t i = 0; i < N; i++)
		if (i % 3 == 1 || (i >= 700 && i < 760)) {
			snprintf(names[n], sizeof names[n], "%s%04zu@EXAMPLE.org",
			    i % 2 ? "U" : "u", i);
			emails[n] = names[n];
			n++;
			gone[i] = 1;
		}
	assert_int_equal(site_remove_users(&s, emails, n), n);
	check_many(&s, N, gone, 0);
	/* again, with addresses taken from the site's own users (as the console does) */
	n = 0;
	for (size_t i = 0, k = 0; i < N; i++)
		if (!gone[i] && k++ % 5 == 0) {
			char email[40];

			snprintf(email, sizeof email, "u%04zu@example.org", i);
			emails[n++] = site_find_user(&s, email)->email;
			gone[i] = 1;
		}
	assert_int_equal(site_remove_users(&s, emails, n), n);
	check_many(&s, N, gone, 0);
	/* the index still takes new users */
	{
		static const char more[] = "email,imap\nnew@example.org,0\n";
		struct diags d = { 0 };

		assert_int_equal(users_csv_parse(&s, CSVPATH, more, strlen(more), &d), 0);
		diags_free(&d);
		assert_non_null(site_find_user(&s, "NEW@example.org"));
		check_many(&s, N, gone, 1);
	}
	site_free(&s);
	free(csv);
}

static void
test_remove_absent_is_noop(void **state)
{
	enum { N = 200 };
	char *csv = many_users(N);
	unsigned char gone[N] = { 0 };
	const char *absent[] = { "nobody@example.org", "", "u0001@example", "u00010@example.org" };
	const char *twice[] = { "u0007@example.org", "U0007@EXAMPLE.ORG", "x@y" };
	struct site s, empty;

	(void)state;
	load_csv(&s, csv, strlen(csv), 0);
	assert_int_equal(site_remove_users(&s, absent, nitems(absent)), 0);
	check_many(&s, N, gone, 0);
	assert_int_equal(site_remove_users(&s, absent, 0), 0);
	assert_int_equal(site_remove_users(&s, NULL, 0), 0);
	check_many(&s, N, gone, 0);
	/* a repeated address counts once */
	gone[7] = 1;
	assert_int_equal(site_remove_users(&s, twice, nitems(twice)), 1);
	check_many(&s, N, gone, 0);
	assert_int_equal(site_remove_users(&s, twice, nitems(twice)), 0);
	check_many(&s, N, gone, 0);
	/* a site without users */
	memset(&empty, 0, sizeof empty);
	assert_int_equal(site_remove_users(&empty, absent, nitems(absent)), 0);
	assert_null(site_find_user(&empty, "nobody@example.org"));
	site_free(&empty);
	site_free(&s);
	free(csv);
}

static void
test_remove_all(void **state)
{
	static const char csv[] = "email,imap\na@example.org,1\nb@example.org,0\n";
	const char *all[] = { "b@example.org", "a@example.org" };
	struct site s;

	(void)state;
	load_csv(&s, csv, strlen(csv), 0);
	assert_int_equal(site_remove_users(&s, all, nitems(all)), 2);
	assert_int_equal(s.nusers, 0);
	assert_null(site_find_user(&s, "a@example.org"));
	assert_null(site_find_user(&s, "b@example.org"));
	site_free(&s);
}

/* ---- records ---------------------------------------------------------------- */

struct wrec {
	enum csv_rec_kind kind;
	const char	*email;
	int		 first, last;
};

enum enc { UTF8, UTF16LE, UTF16BE };

struct rcase {
	const char	*name;
	const char	*text;		/* ASCII; converted for UTF16LE/BE (with a BOM) */
	enum enc	 enc;
	int		 rc;		/* of users_csv_parse */
	char		 sep;
	bool		 native;
	struct wrec	 want[8];	/* up to kind 0 with first 0 */
};

#define NATIVE	"email,imap,pop3,smtp,activesync,mapi,owa,ews"
#define CAS	"\xef\xbb\xbf#TYPE Selected.Microsoft.Exchange.Data.Directory.Management." \
		"CASMailbox\r\n\"Name\",\"PrimarySmtpAddress\",\"PopEnabled\"\r\n" \
		"\"Ann\",\"ann@example.org\",\"True\"\r\n" \
		"\"Ben,\r\nJr.\",\"ben@example.org\",\"False\"\r\n" \
		"\"Cid\",\"cid@example.org\",\"True\"\r\n"
#define CAS_WANT { { CSVREC_SKIPPED, NULL, 1, 1 }, { CSVREC_HEADER, NULL, 2, 2 }, \
		{ CSVREC_USER, "ann@example.org", 3, 3 }, \
		{ CSVREC_USER, "ben@example.org", 4, 5 }, \
		{ CSVREC_USER, "cid@example.org", 6, 6 } }
#define CAS16	"#TYPE CASMailbox\r\n\"Name\";\"PrimarySmtpAddress\";\"PopEnabled\"\r\n" \
		"\"Ann\";\"ann@example.org\";\"True\"\r\n" \
		"\"Ben;\r\nJr.\";\"ben@example.org\";\"False\"\r\n" \
		"\"Cid\";\"cid@example.org\";\"True\"\r\n"

static const struct rcase rcases[] = {
	{ "records_native", NATIVE "\na@example.org,1,0,1,1,1,1,1\nb@example.org,0,0,0,0,0,0,0\n",
	    UTF8, 0, ',', true, { { CSVREC_HEADER, NULL, 1, 1 },
	    { CSVREC_USER, "a@example.org", 2, 2 }, { CSVREC_USER, "b@example.org", 3, 3 } } },
	{ "records_no_final_newline", "\"Email\" , IMAP,pop3,smtp,activesync,mapi,owa,ews\n"
	    "a@example.org,1,0,1,1,1,1,1\nb@example.org,0,0,0,0,0,0,0",
	    UTF8, 0, ',', true, { { CSVREC_HEADER, NULL, 1, 1 },
	    { CSVREC_USER, "a@example.org", 2, 2 }, { CSVREC_USER, "b@example.org", 3, 3 } } },
	{ "records_cas_bom_type_crlf_multiline", CAS, UTF8, 0, ',', false, CAS_WANT },
	{ "records_utf16le_semicolon", CAS16, UTF16LE, 0, ';', false, CAS_WANT },
	{ "records_utf16be_semicolon", CAS16, UTF16BE, 0, ';', false, CAS_WANT },
	{ "records_quoted_newlines", "name,email,imap\n\"two\nmore\nlines\",a@example.org,1\r\n"
	    "plain,b@example.org,0\r\n\"x\"\"\ny\",c@example.org,1\n",
	    UTF8, 0, ',', false, { { CSVREC_HEADER, NULL, 1, 1 },
	    { CSVREC_USER, "a@example.org", 2, 4 }, { CSVREC_USER, "b@example.org", 5, 5 },
	    { CSVREC_USER, "c@example.org", 6, 7 } } },
	{ "records_semicolon", "email;imap;pop3;smtp;activesync;mapi;owa;ews\r\n"
	    "a@example.org;1;0;1;1;1;1;1\r\n\"b;c@example.org\";0;0;0;0;0;0;0\r\n",
	    UTF8, 0, ';', true, { { CSVREC_HEADER, NULL, 1, 1 },
	    { CSVREC_USER, "a@example.org", 2, 2 }, { CSVREC_USER, "b;c@example.org", 3, 3 } } },
	{ "records_tab", "email\timap\tpop3\n\"a@example.org\"\t1\t0\nb@example.org\t0\t1\n",
	    UTF8, 0, '\t', false, { { CSVREC_HEADER, NULL, 1, 1 },
	    { CSVREC_USER, "a@example.org", 2, 2 }, { CSVREC_USER, "b@example.org", 3, 3 } } },
	{ "records_empty_and_comment_lines", "\n# exported by hand\n#TYPE x\nemail,imap\n\n"
	    "a@example.org,1\n\r\nb@example.org,0\n",
	    UTF8, 0, ',', false, { { CSVREC_SKIPPED, NULL, 1, 1 },
	    { CSVREC_SKIPPED, NULL, 2, 2 }, { CSVREC_SKIPPED, NULL, 3, 3 },
	    { CSVREC_HEADER, NULL, 4, 4 }, { CSVREC_SKIPPED, NULL, 5, 5 },
	    { CSVREC_USER, "a@example.org", 6, 6 }, { CSVREC_SKIPPED, NULL, 7, 7 },
	    { CSVREC_USER, "b@example.org", 8, 8 } } },
	{ "records_bad_rows", "email,imap\na@example.org,1,2\n,1\nb@example.org,1\n"
	    "B@example.org,0\n\"c@example.org\nx\",1\n",
	    UTF8, -1, ',', false, { { CSVREC_HEADER, NULL, 1, 1 },
	    { CSVREC_BAD, NULL, 2, 2 }, { CSVREC_BAD, NULL, 3, 3 },
	    { CSVREC_USER, "b@example.org", 4, 4 }, { CSVREC_BAD, NULL, 5, 5 },
	    { CSVREC_USER, "c@example.org\nx", 6, 7 } } },
	{ "records_unterminated_quote", "email,imap\na@example.org,1\n\"b@example.org,1\n"
	    "c@example.org,1\n",
	    UTF8, -1, ',', false, { { CSVREC_HEADER, NULL, 1, 1 },
	    { CSVREC_USER, "a@example.org", 2, 2 } } },
};

/* The text of a case in its encoding; *len its length. */
static char *
encode(const struct rcase *c, size_t *len)
{
	size_t n = strlen(c->text), o = 0;
	unsigned char *b;

	if (c->enc == UTF8) {
		*len = n;
		return xstrdup(c->text);
	}
	b = xcalloc(2 * n + 2, 1);
	b[o++] = c->enc == UTF16LE ? 0xff : 0xfe;
	b[o++] = c->enc == UTF16LE ? 0xfe : 0xff;
	for (size_t i = 0; i < n; i++, o += 2) {
		b[o + (c->enc == UTF16LE)] = 0;
		b[o + (c->enc != UTF16LE)] = (unsigned char)c->text[i];
	}
	*len = o;
	return (char *)b;
}

/* text less lines first..last (UTF-8 only): what the console writes on a delete */
static char *
cut_lines(const char *text, int first, int last, size_t *len)
{
	struct sbuf b;
	int line = 1;

	sb_init(&b);
	sb_addn(&b, "", 0);
	if (strncmp(text, "\xef\xbb\xbf", 3) == 0) {
		sb_add(&b, "\xef\xbb\xbf");
		text += 3;
	}
	for (const char *p = text; *p != '\0'; p++) {
		if (line < first || line > last)
			sb_addc(&b, *p);
		if (*p == '\n')
			line++;
	}
	*len = b.len;
	return sb_steal(&b);
}

static void
run_rcase(void **state)
{
	const struct rcase *c = *state;
	struct csv_records r;
	struct diags d = { 0 };
	struct site s;
	size_t len, nwant = 0, nusers = 0;
	char *text = encode(c, &len);

	assert_int_equal(users_csv_records(CSVPATH, text, len, &r, &d), c->rc);
	assert_int_equal(d.nerrors > 0, c->rc == -1);
	diags_free(&d);
	load_csv(&s, text, len, c->rc);
	while (nwant < nitems(c->want) && c->want[nwant].first != 0)
		nwant++;
	if (r.n != nwant) {
		for (size_t i = 0; i < r.n; i++)
			fprintf(stderr, "  record %zu: kind %d %s lines %d-%d\n", i, r.v[i].kind,
			    r.v[i].email ? r.v[i].email : "-", r.v[i].first, r.v[i].last);
		fail_msg("%zu records, want %zu", r.n, nwant);
	}
	assert_int_equal(r.sep, c->sep);
	assert_int_equal(r.native, c->native);
	assert_int_equal(r.utf16, c->enc != UTF8);
	for (size_t i = 0; i < nwant; i++) {
		const struct wrec *w = &c->want[i];

		assert_int_equal(r.v[i].kind, w->kind);
		assert_int_equal(r.v[i].first, w->first);
		assert_int_equal(r.v[i].last, w->last);
		if (w->email == NULL) {
			assert_null(r.v[i].email);
			continue;
		}
		assert_non_null(r.v[i].email);
		assert_string_equal(r.v[i].email, w->email);
		/* the line the loader gives the user */
		assert_int_equal(site_find_user(&s, w->email)->line, w->first);
		nusers++;
	}
	assert_int_equal(s.nusers, nusers);
	/* cutting a user's lines removes that user and no other */
	for (size_t i = 0; c->enc == UTF8 && c->rc == 0 && i < r.n; i++) {
		struct site after;
		size_t n;
		char *cut;

		if (r.v[i].kind != CSVREC_USER)
			continue;
		cut = cut_lines(text, r.v[i].first, r.v[i].last, &n);
		load_csv(&after, cut, n, 0);
		assert_int_equal(after.nusers, s.nusers - 1);
		assert_null(site_find_user(&after, r.v[i].email));
		for (size_t j = 0; j < s.nusers; j++)
			if (!str_ieq(s.users[j].email, r.v[i].email))
				assert_non_null(site_find_user(&after, s.users[j].email));
		site_free(&after);
		free(cut);
	}
	site_free(&s);
	csv_records_free(&r);
	assert_null(r.v);
	assert_int_equal(r.n, 0);
	free(text);
}

static void
test_records_nul(void **state)
{
	static const char text[] = "email,imap\na@example.org,1\n\0b@example.org,1\n";
	struct csv_records r;
	struct diags d = { 0 };

	(void)state;
	assert_int_equal(users_csv_records(CSVPATH, text, sizeof text - 1, &r, &d), -1);
	assert_int_equal(d.nerrors, 1);
	assert_int_equal(r.n, 0);
	diags_free(&d);
	csv_records_free(&r);
}

int
main(void)
{
	const struct CMUnitTest fixed[] = {
		cmocka_unit_test(test_remove_keeps_lookups),
		cmocka_unit_test(test_remove_absent_is_noop),
		cmocka_unit_test(test_remove_all),
		cmocka_unit_test(test_records_nul),
	};

	return run_cases("site_users", fixed, nitems(fixed), rcases, nitems(rcases),
	    sizeof rcases[0], run_rcase);
}
