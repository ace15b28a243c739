/* test_csv.c: the users CSV (profiles/site.c users_csv_parse / users_csv_load).
 *
 * Both formats: mxdeck's own (email,imap,pop3,smtp,activesync,mapi,owa,ews with
 * 1/0 on/off True/False yes/no) and a `Get-CASMailbox | Export-Csv` file (#TYPE line,
 * every field quoted, "" inside quotes, commas in quoted fields, BOM, CRLF, the
 * Exchange column names, the identity columns). Errors carry FILE:LINE of the row. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "profiles/site.h"
#include "tests/unit/cases.h"

#define P(x)	PROTO_BIT(PROTO_##x)
#define DEFAULT	PROTO_ALL	/* no [users] default: everything on */

/* A site with the default user set, no users. */
static void
base_site(struct site *s, struct diags *d)
{
	static const char text[] = "[site]\ndomain = example.org\n";

	assert_int_equal(site_load_buf(s, "/p/site.ini", text, strlen(text), d), 0);
	assert_int_equal(s->user_default, DEFAULT);
}

/* The fixture of most tests: base_site's site and its diagnostics. */
struct base {
	struct site	 s;
	struct diags	 d;
};

static int
setup(void **state)
{
	struct base *b = xcalloc(1, sizeof *b);

	base_site(&b->s, &b->d);
	*state = b;
	return 0;
}

static int
teardown(void **state)
{
	struct base *b = *state;

	diags_free(&b->d);
	site_free(&b->s);
	free(b);
	return 0;
}

static int
parse(struct base *b, const char *csv)
{
	return users_csv_parse(&b->s, "/p/users.csv", csv, strlen(csv), &b->d);
}

static unsigned
protos(const struct site *s, const char *email)
{
	const struct user *u = site_find_user(s, email);

	if (u == NULL)
		fail_msg("no user %s", email);
	return u->protos;
}

static int
uline(const struct site *s, const char *email)
{
	const struct user *u = site_find_user(s, email);

	assert_non_null(u);
	return u->line;
}

/* Exactly one error, at line, containing msg, in /p/users.csv. */
static void
expect_error(const struct diags *d, int line, const char *msg)
{
	if (d->nerrors != 1 || d->n != 1 || d->v[0].line != line ||
	    strcmp(d->v[0].file, "/p/users.csv") != 0 ||
	    strstr(d->v[0].msg, msg) == NULL) {
		diags_print(d, stderr);
		fail_msg("want one error at /p/users.csv:%d with \"%s\"", line, msg);
	}
}

static void
test_mxdeck_format(void **state)
{
	struct base *b = *state;

	assert_int_equal(parse(b,
	    "email,imap,pop3,smtp,activesync,mapi,owa,ews\n"
	    "a@example.org,1,0,1,0,1,0,1\n"
	    "b@example.org,on,off,ON,Off,on,off,on\n"
	    "c@example.org,True,False,TRUE,false,True,False,True\n"
	    "d@example.org, yes , no ,Yes,NO,yes,no,yes\n"
	    "e@example.org,,1,,,,,\n"
	    "\n"
	    "f@example.org,0,0,0,0,0,0,0\n"), 0);
	if (b->d.n != 0)
		diags_print(&b->d, stderr);
	assert_int_equal(b->d.n, 0);
	assert_int_equal(b->s.nusers, 6);
	for (int i = 0; i < 4; i++) {
		char email[] = "a@example.org";

		email[0] = (char)('a' + i);
		assert_int_equal(protos(&b->s, email), P(IMAP) | P(SMTP) | P(MAPI) | P(EWS));
		assert_int_equal(uline(&b->s, email), i + 2);
		assert_string_equal(site_find_user(&b->s, email)->file, "/p/users.csv");
	}
	/* empty cells keep the [users] default */
	assert_int_equal(protos(&b->s, "e@example.org"), DEFAULT | P(POP3));
	assert_int_equal(protos(&b->s, "f@example.org"), 0);
	assert_int_equal(uline(&b->s, "f@example.org"), 8);
	assert_string_equal(b->s.users_path, "/p/users.csv");
}

/* Columns in any order; missing columns keep the default; header case-insensitive. */
static void
test_column_order(void **state)
{
	struct base *b = *state;

	assert_int_equal(parse(b, "EWS,Email,POP3\r\n0,x@example.org,1\r\n"), 0);
	assert_int_equal(b->d.n, 0);
	assert_int_equal(protos(&b->s, "x@example.org"), (DEFAULT & ~P(EWS)) | P(POP3));
}

/* The shipped Get-CASMailbox export: BOM, #TYPE, CRLF, quoted everything. */
static void
test_cas_export_file(void **state)
{
	static const char profile[] = "[site]\ndomain = example.org\n"
	    "[users]\ndefault = imap pop3:off smtp activesync mapi owa ews\n"
	    "file = cas-export.csv\n";
	struct site s;
	struct diags d = { 0 };
	const char *path = "share/examples/client-access.ini";

	(void)state;
	if (access(path, R_OK) != 0)
		path = "../../share/examples/client-access.ini";
	{
		/* the profile's directory is where cas-export.csv is looked up */
		char *p = xstrdup(path);

		assert_int_equal(site_load_buf(&s, p, profile, strlen(profile), &d), 0);
		free(p);
	}
	if (d.n != 0)
		diags_print(&d, stderr);
	assert_int_equal(d.n, 0);
	assert_true(str_ends(s.users_path, "/cas-export.csv"));
	assert_int_equal(s.nusers, 4);
	/* alice: PopEnabled False, everything else True */
	assert_int_equal(protos(&s, "alice@example.org"), PROTO_ALL & ~P(POP3));
	assert_int_equal(uline(&s, "alice@example.org"), 3);
	/* bob: ActiveSyncEnabled False, PopEnabled True, EwsEnabled False */
	assert_int_equal(protos(&s, "bob@example.org"),
	    PROTO_ALL & ~P(ACTIVESYNC) & ~P(EWS));
	assert_int_equal(uline(&s, "bob@example.org"), 4);
	/* carol: OWA off, POP off, IMAP off */
	assert_int_equal(protos(&s, "carol@example.org"),
	    P(SMTP) | P(ACTIVESYNC) | P(MAPI) | P(EWS));
	/* scanner: everything False in Exchange; SMTP has no column: default on */
	assert_int_equal(protos(&s, "scanner@example.org"), P(SMTP));
	assert_int_equal(uline(&s, "scanner@example.org"), 6);
	diags_free(&d);
	site_free(&s);
}

/* Export-Csv details inline: quoted quotes, commas and a newline inside a quoted
 * field (the next row's line number counts it), WindowsEmailAddress as identity. */
static void
test_cas_export_inline(void **state)
{
	struct base *b = *state;

	assert_int_equal(parse(b,
	    "#TYPE Microsoft.Exchange.Data.Directory.Management.CASMailbox\r\n"
	    "\"Name\",\"Identity\",\"WindowsEmailAddress\",\"DisplayName\",\"PopEnabled\","
	    "\"ImapEnabled\",\"MAPIEnabled\",\"ActiveSyncEnabled\",\"OWAEnabled\","
	    "\"EwsEnabled\"\r\n"
	    "\"Ann\",\"example.org/Users/Ann\",\"ann@example.org\",\"Ann \"\"A\"\", Sales\","
	    "\"True\",\"False\",\"True\",\"False\",\"True\",\"False\"\r\n"
	    "\"Ben\",\"example.org/Users/Ben\",\"ben@example.org\",\"Ben\r\nsecond line\","
	    "\"False\",\"True\",\"False\",\"True\",\"False\",\"True\"\r\n"
	    "\"Cy\",\"example.org/Users/Cy\",\"cy@example.org\",\"Cy\",\"False\",\"False\","
	    "\"False\",\"False\",\"False\",\"maybe\"\r\n"), -1);
	expect_error(&b->d, 6, "is not 1/0, on/off, yes/no or True/False");
	assert_non_null(strstr(b->d.v[0].msg, "'maybe'"));
	assert_int_equal(protos(&b->s, "ann@example.org"), P(POP3) | P(SMTP) | P(MAPI) |
	    P(OWA));
	assert_int_equal(uline(&b->s, "ann@example.org"), 3);
	assert_int_equal(protos(&b->s, "ben@example.org"), P(IMAP) | P(SMTP) |
	    P(ACTIVESYNC) | P(EWS));
	assert_int_equal(uline(&b->s, "ben@example.org"), 4);
}

/* PrimarySmtpAddress wins over WindowsEmailAddress and UserPrincipalName, whatever the
 * column order (the UPN is a login name, not always the address). */
static void
test_identity_preference(void **state)
{
	struct base *b = *state;

	assert_int_equal(parse(b,
	    "UserPrincipalName,WindowsEmailAddress,PrimarySmtpAddress,ImapEnabled\n"
	    "a.upn@corp.example,win@example.org,primary@example.org,False\n"), 0);
	assert_int_equal(b->d.n, 0);
	assert_int_equal(b->s.nusers, 1);
	assert_int_equal(protos(&b->s, "primary@example.org"), DEFAULT & ~P(IMAP));
	assert_null(site_find_user(&b->s, "win@example.org"));
}

/* A PowerShell 7 export (no #TYPE line) whose only identity columns are Name and
 * Identity: there is no address, which is an error naming the columns to export. */
static void
test_identity_only(void **state)
{
	struct base *b = *state;

	assert_int_equal(parse(b,
	    "\xef\xbb\xbf\"Name\",\"Identity\",\"PopEnabled\"\r\n"
	    "\"Ann\",\"example.org/Users/Ann\",\"True\"\r\n"), -1);
	expect_error(&b->d, 1, "no email column");
	assert_non_null(strstr(b->d.v[0].msg, "PrimarySmtpAddress"));
	assert_int_equal(b->s.nusers, 0);
}

struct ecase {
	const char *name;
	const char *csv;
	size_t	 len;		/* 0: strlen */
	int	 line;
	const char *msg;
};

#define NULCSV "email,imap\na@example.org,1\nb@exa\0mple.org,1\n"

static const struct ecase ecases[] = {
	{ "bad_bool", "email,imap,pop3\na@example.org,1,0\nb@example.org,1,nein\n", 0, 3,
	    "column pop3: 'nein' is not 1/0" },
	{ "no_email_column", "user,imap\nalice,1\n", 0, 1, "no email column" },
	{ "no_email_after_type", "#TYPE X\n\"Alias\",\"PopEnabled\"\n", 0, 2,
	    "no email column" },
	{ "duplicate_user", "email,imap\na@example.org,1\nb@example.org,1\n"
	    "A@Example.org,0\n", 0, 4, "duplicate user A@Example.org (first on line 2)" },
	{ "short_row", "email,imap,pop3\na@example.org,1,0\nb@example.org,1\n", 0, 3,
	    "this row has 2 fields, the header has 3" },
	{ "long_row", "email,imap\na@example.org,1,0\n", 0, 2,
	    "this row has 3 fields, the header has 2" },
	{ "empty_email", "email,imap\n,1\n", 0, 2, "empty email address" },
	{ "unterminated_quote", "email,imap\n\"a@example.org,1\nb@example.org,1\n", 0, 2,
	    "unterminated quoted field" },
	{ "no_header", "", 0, 1, "has no header row" },
	{ "nul_bytes", NULCSV, sizeof NULCSV - 1, 3,
	    "NUL bytes" },
};

static void
run_ecase(void **state)
{
	const struct ecase *c = *state;
	struct site s;
	struct diags d = { 0 };

	base_site(&s, &d);
	assert_int_equal(users_csv_parse(&s, "/p/users.csv", c->csv,
	    c->len ? c->len : strlen(c->csv), &d), -1);
	expect_error(&d, c->line, c->msg);
	diags_free(&d);
	site_free(&s);
}

/* Export-Csv -UseCulture on a German system (and Excel) separate with ';'; a tab
 * separated export works too. Commas inside fields stay data. */
static void
test_separators(void **state)
{
	struct base *b = *state;

	assert_int_equal(parse(b,
	    "#TYPE Microsoft.Exchange.Data.Directory.Management.CASMailbox\r\n"
	    "\"DistinguishedName\";\"PrimarySmtpAddress\";\"PopEnabled\";\"OWAEnabled\"\r\n"
	    "\"CN=Ann,OU=Users,DC=example,DC=org\";\"ann@example.org\";\"True\";\"False\"\r\n"),
	    0);
	assert_int_equal(b->d.n, 0);
	assert_int_equal(protos(&b->s, "ann@example.org"), (DEFAULT | P(POP3)) & ~P(OWA));
	assert_int_equal(parse(b, "email\timap\nbob@example.org\toff\n"), 0);
	assert_int_equal(b->d.n, 0);
	assert_int_equal(protos(&b->s, "bob@example.org"), DEFAULT & ~P(IMAP));
}

/* `Get-CASMailbox | ConvertTo-Csv > users.csv` in Windows PowerShell writes UTF-16LE
 * with a byte order mark; big-endian works too. Non-ASCII survives as UTF-8. */
static void
test_utf16(void **state)
{
	static const char text[] = "\"PrimarySmtpAddress\",\"PopEnabled\"\r\n"
	    "\"j\xc3\xb6rg@example.org\",\"True\"\r\n\"x@example.org\",\"nope\"\r\n";
	unsigned char le[512], be[512];
	size_t n = 2;
	struct site s;
	struct diags d = { 0 };

	(void)state;
	le[0] = 0xff, le[1] = 0xfe, be[0] = 0xfe, be[1] = 0xff;
	for (const unsigned char *p = (const unsigned char *)text; *p != '\0'; p++) {
		unsigned c = *p;

		if (c == 0xc3) {		/* the one 2-byte sequence: U+00F6 */
			c = 0xf6;
			p++;
		}
		le[n] = (unsigned char)c, le[n + 1] = 0;
		be[n] = 0, be[n + 1] = (unsigned char)c;
		n += 2;
	}
	for (int pass = 0; pass < 2; pass++) {
		base_site(&s, &d);
		assert_int_equal(users_csv_parse(&s, "/p/users.csv", (const char *)(pass ?
		    be : le), n, &d), -1);
		expect_error(&d, 3, "'nope'");
		assert_int_equal(protos(&s, "j\xc3\xb6rg@example.org"), DEFAULT | P(POP3));
		diags_free(&d);
		site_free(&s);
	}
}

/* users_csv_load on a missing file: an error, no crash. */
static void
test_load_missing(void **state)
{
	struct base *b = *state;

	assert_int_equal(users_csv_load(&b->s, "/nonexistent/users.csv", &b->d), -1);
	assert_int_equal(b->d.nerrors, 1);
	assert_non_null(strstr(b->d.v[0].msg, "users file"));
}

int
main(void)
{
	static const struct CMUnitTest fixed[] = {
		cmocka_unit_test_setup_teardown(test_mxdeck_format, setup, teardown),
		cmocka_unit_test_setup_teardown(test_column_order, setup, teardown),
		cmocka_unit_test(test_cas_export_file),
		cmocka_unit_test_setup_teardown(test_cas_export_inline, setup, teardown),
		cmocka_unit_test_setup_teardown(test_identity_preference, setup, teardown),
		cmocka_unit_test_setup_teardown(test_identity_only, setup, teardown),
		cmocka_unit_test_setup_teardown(test_separators, setup, teardown),
		cmocka_unit_test(test_utf16),
		cmocka_unit_test_setup_teardown(test_load_missing, setup, teardown),
	};

	return run_cases("csv", fixed, nitems(fixed), ecases, nitems(ecases), sizeof ecases[0],
	    run_ecase);
}
