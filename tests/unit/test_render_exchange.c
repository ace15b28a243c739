/* test_render_exchange.c: the Exchange PowerShell script: one Set-CASMailbox line per user
 * with $true/$false from the effective protocol set, PowerShell quoting (including the
 * typographic quotes PowerShell also ends strings with), refusals, error handling, the
 * UTF-8 BOM, 100k users in well under a second, and golden files from the demo. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "backends/render/render.h"
#include "tests/unit/render-fx.h"

extern const struct renderer render_exchange;

#define GOLDEN_DIR "tests/data/golden/exchange"

static void
load(struct fx *fx, const char *profile, const char *csv)
{
	fx_init(fx, "tex");
	if (fx_load(fx, profile, csv) == -1)
		fail_msg("profile does not load");
}

static const char profile[] =
    "[site]\n"
    "name = t\n"
    "domain = example.org\n"
    "[host \"ex\"]\n"
    "address = exchange1.lan.example.org\n"
    "roles = exchange\n"
    "state_dir = /C:/ProgramData/mxdeck\n"
    "[users]\n"
    "default = imap pop3:off smtp activesync mapi owa ews\n"
    "file = users.csv\n";

static const char csv[] =
    "email,imap,pop3,smtp,activesync,mapi,owa,ews\n"
    "alice@example.org,1,0,1,1,1,1,1\n"
    "bob@example.org,1,1,1,0,1,1,1\n"
    "dave@example.org,false,false,true,true,false,true,false\n";

/* The expected line for a user, built from the model independently of the renderer. */
static char *
expect_line(const struct user *u)
{
	static const int order[] = { PROTO_IMAP, PROTO_POP3, PROTO_MAPI, PROTO_ACTIVESYNC,
	    PROTO_OWA, PROTO_EWS };
	struct sbuf b;

	sb_init(&b);
	sb_addf(&b, "Set-MxdeckCas '%s'", u->email);
	for (size_t i = 0; i < nitems(order); i++)
		sb_add(&b, (u->protos & PROTO_BIT(order[i])) ? " $true" : " $false");
	return sb_steal(&b);
}

static void
test_script(void **state)
{
	struct fx fx;
	char *cause = NULL;
	const struct rfile *f;
	const char *s;

	load(&fx, profile, csv);
	assert_int_equal(fx_render(&fx, &render_exchange, NULL, &cause), 0);
	assert_int_equal(fx.fs.n, 1);
	f = &fx.fs.v[0];
	assert_string_equal(f->path, "/C:/ProgramData/mxdeck/exchange/mxdeck-cas.ps1");
	assert_int_equal(f->kind, FK_SCRIPT);
	assert_string_equal(f->role, "exchange");
	s = f->data.s;
	/* UTF-8 BOM first: Windows PowerShell 5.1 would read the file as ANSI otherwise */
	assert_memory_equal(s, "\xef\xbb\xbf#", 4);
	assert_true(has_line(s, "$ErrorActionPreference = 'Stop'"));
	assert_true(has_line(s, "$LoginType = 'PlainTextLogin'"));
	assert_true(has_line(s,
	    "Invoke-MxdeckStep 'Set-PopSettings' { Set-PopSettings -LoginType $LoginType }"));
	assert_true(has_line(s,
	    "Invoke-MxdeckStep 'Set-ImapSettings' { Set-ImapSettings -LoginType $LoginType }"));
	assert_non_null(strstr(s, "Set-CASMailbox -Identity $Identity -ImapEnabled $Imap "
	    "-PopEnabled $Pop `\n            -MAPIEnabled $Mapi -ActiveSyncEnabled $ActiveSync "
	    "-OWAEnabled $Owa `\n            -EwsEnabled $Ews -Confirm:$false"));
	assert_non_null(strstr(s, "'MSExchangePOP3', 'MSExchangePOP3BE', 'MSExchangeIMAP4'"));
	assert_non_null(strstr(s, "Restart-Service -Name $svc"));
	assert_non_null(strstr(s, "if ($script:failed -ne 0) {\n    exit 1\n}\nexit 0\n"));
	/* the restarts come after the login type and the mailboxes */
	assert_true(strstr(s, "Restart-Service") > strstr(s, "Set-MxdeckCas 'dave@"));
	/* one line per user, values from the model; the explicit ones too */
	assert_int_equal(count(s, "\nSet-MxdeckCas '"), fx.site.nusers);
	for (size_t i = 0; i < fx.site.nusers; i++) {
		char *want = expect_line(&fx.site.users[i]);

		assert_true(has_line(s, want));
		free(want);
	}
	assert_true(has_line(s,
	    "Set-MxdeckCas 'dave@example.org' $false $false $false $true $true $false"));
	assert_true(has_line(s,
	    "Set-MxdeckCas 'bob@example.org' $true $true $true $false $true $true"));
	/* balanced braces and parentheses outside quoted strings */
	{
		int br = 0, pa = 0;
		bool q = false;

		for (const char *p = s; *p != '\0'; p++) {
			if (*p == '\'')
				q = !q;
			if (q)
				continue;
			br += (*p == '{') - (*p == '}');
			pa += (*p == '(') - (*p == ')');
			assert_true(br >= 0 && pa >= 0);
		}
		assert_false(q);
		assert_int_equal(br, 0);
		assert_int_equal(pa, 0);
	}
	fx_free(&fx);
}

static void
test_quoting(void **state)
{
	struct fx fx;
	char *cause = NULL;
	const char *s;

	load(&fx, profile, csv);
	free(fx.site.users[0].email);
	fx.site.users[0].email = xstrdup("o'brien@example.org");
	free(fx.site.users[1].email);
	/* U+2019 RIGHT SINGLE QUOTATION MARK, then "; Remove-Mailbox" */
	fx.site.users[1].email = xstrdup("x\xe2\x80\x99; Remove-Mailbox x; '@example.org");
	assert_int_equal(fx_render(&fx, &render_exchange, NULL, &cause), 0);
	s = fx.fs.v[0].data.s;
	assert_true(has_line(s,
	    "Set-MxdeckCas 'o''brien@example.org' $true $false $true $true $true $true"));
	assert_true(has_line(s, "Set-MxdeckCas 'x\xe2\x80\x99\xe2\x80\x99; Remove-Mailbox x; "
	    "''@example.org' $true $true $true $false $true $true"));
	fx_free(&fx);

	/* control characters and PowerShell line breaks are refused with FILE:LINE */
	load(&fx, profile, csv);
	free(fx.site.users[2].email);
	fx.site.users[2].email = xstrdup("dave@example.org\nRemove-Mailbox");
	assert_int_equal(fx_render(&fx, &render_exchange, NULL, &cause), -1);
	assert_non_null(strstr(cause, "users.csv:4: "));
	free(cause);
	cause = NULL;
	free(fx.site.users[2].email);
	fx.site.users[2].email = xstrdup("dave@example.org\xe2\x80\xa8x");	/* U+2028 */
	fileset_free(&fx.fs);
	assert_int_equal(fx_render(&fx, &render_exchange, NULL, &cause), -1);
	free(cause);
	fx_free(&fx);
}

static void
test_scale(void **state)
{
	struct fx fx;
	struct sbuf big;
	char *cause = NULL;
	struct timespec t0;
	double secs;

	sb_init(&big);
	sb_add(&big, "email,imap,pop3,smtp,activesync,mapi,owa,ews\n");
	for (int i = 0; i < 100000; i++)
		sb_addf(&big, "user%06d@example.org,%d,%d,1,%d,1,1,%d\n", i, i % 2, i % 3 == 0,
		    i % 7 != 0, i % 5 != 0);
	load(&fx, profile, big.s);
	sb_free(&big);
	assert_int_equal(fx.site.nusers, 100000);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	assert_int_equal(fx_render(&fx, &render_exchange, NULL, &cause), 0);
	secs = secs_since(&t0);
	print_message("exchange: 100000 users rendered in %.3f s (%zu bytes)\n", secs,
	    fx.fs.v[0].data.len);
	assert_true(secs < 0.5 * time_scale());
	assert_int_equal(count(fx.fs.v[0].data.s, "\nSet-MxdeckCas '"), 100000);
	/* user000003: imap 1, pop3 1 (3 % 3 == 0), activesync 1, ews 1 */
	assert_true(has_line(fx.fs.v[0].data.s,
	    "Set-MxdeckCas 'user000003@example.org' $true $true $true $true $true $true"));
	/* user000014: imap 0, pop3 0, activesync 0 (14 % 7), ews 1 */
	assert_true(has_line(fx.fs.v[0].data.s,
	    "Set-MxdeckCas 'user000014@example.org' $false $false $true $false $true $true"));
	fx_free(&fx);
}

static void
test_golden_demo(void **state)
{
	struct fileset fs = { 0 };

	golden_demo(&render_exchange, NULL, GOLDEN_DIR, NULL, NULL, &fs);
	fileset_free(&fs);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_script),
		cmocka_unit_test(test_quoting),
		cmocka_unit_test(test_scale),
		cmocka_unit_test(test_golden_demo),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
