/* test_render_exchange.c: the Exchange PowerShell script: one Set-CASMailbox line per user
 * with $true/$false from the effective protocol set, PowerShell quoting (including the
 * typographic quotes PowerShell also ends strings with), refusals, error handling, the
 * UTF-8 BOM, 100k users in well under a second, and golden files from the demo. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <dirent.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "backends/render/render.h"

extern const struct renderer render_exchange;

#define GOLDEN_DIR "tests/data/golden/exchange"

struct fx {
	char		 dir[64];
	struct site	 site;
	struct diags	 d;
	struct fileset	 fs;
};

/* Time budgets stretch under sanitizers and valgrind (MXDECK_TIME_SCALE=N). */
static double
time_scale(void)
{
	const char *s = getenv("MXDECK_TIME_SCALE");
	double f = s != NULL && atof(s) > 0 ? atof(s) : 1.0;

#if defined(__SANITIZE_ADDRESS__)
	f *= 10;
#endif
	return f;
}

static void
write_text(const char *path, const char *text)
{
	char *cause = NULL;

	if (write_file_atomic(path, text, strlen(text), 0644, &cause) == -1)
		fail_msg("%s", cause);
}

static void
load(struct fx *fx, const char *profile, const char *csv)
{
	char *p;

	memset(fx, 0, sizeof *fx);
	snprintf(fx->dir, sizeof fx->dir, "/tmp/mxdeck-tex.XXXXXX");
	assert_non_null(mkdtemp(fx->dir));
	p = xasprintf("%s/users.csv", fx->dir);
	write_text(p, csv);
	free(p);
	p = xasprintf("%s/site.ini", fx->dir);
	write_text(p, profile);
	if (site_load(&fx->site, p, &fx->d) == -1) {
		diags_print(&fx->d, stderr);
		fail_msg("profile does not load");
	}
	free(p);
}

static int
render(struct fx *fx, char **cause)
{
	struct render_ctx ctx = { .site = &fx->site, .host = &fx->site.hosts[0] };

	return render_exchange.render(&ctx, &fx->fs, cause);
}

static void
fx_free(struct fx *fx)
{
	char *cmd = xasprintf("rm -rf '%s'", fx->dir);

	fileset_free(&fx->fs);
	site_free(&fx->site);
	diags_free(&fx->d);
	if (system(cmd) != 0)
		fprintf(stderr, "cannot remove %s\n", fx->dir);
	free(cmd);
}

static bool
has_line(const char *text, const char *line)
{
	size_t n = strlen(line);

	for (const char *p = text; p != NULL && *p != '\0'; ) {
		const char *e = strchr(p, '\n');
		size_t len = e != NULL ? (size_t)(e - p) : strlen(p);

		if (len == n && strncmp(p, line, n) == 0)
			return true;
		p = e != NULL ? e + 1 : NULL;
	}
	return false;
}

static size_t
count(const char *hay, const char *needle)
{
	size_t n = 0;

	for (const char *p = hay; (p = strstr(p, needle)) != NULL; p++)
		n++;
	return n;
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
	assert_int_equal(render(&fx, &cause), 0);
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
	assert_int_equal(render(&fx, &cause), 0);
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
	assert_int_equal(render(&fx, &cause), -1);
	assert_non_null(strstr(cause, "users.csv:4: "));
	free(cause);
	cause = NULL;
	free(fx.site.users[2].email);
	fx.site.users[2].email = xstrdup("dave@example.org\xe2\x80\xa8x");	/* U+2028 */
	fileset_free(&fx.fs);
	assert_int_equal(render(&fx, &cause), -1);
	free(cause);
	fx_free(&fx);
}

static void
test_scale(void **state)
{
	struct fx fx;
	struct sbuf big;
	char *cause = NULL;
	struct timespec t0, t1;
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
	assert_int_equal(render(&fx, &cause), 0);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	secs = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
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

static char *
normalize(const char *s, const char *dir)
{
	struct sbuf b;
	size_t n = strlen(dir);
	const char *p;

	sb_init(&b);
	while ((p = strstr(s, dir)) != NULL) {
		sb_addn(&b, s, (size_t)(p - s));
		sb_add(&b, "@DIR@");
		s = p + n;
	}
	sb_add(&b, s);
	return sb_steal(&b);
}

static void
test_golden_demo(void **state)
{
	struct site site;
	struct diags d = { 0 };
	struct fileset fs = { 0 };
	char *cause = NULL, abs[PATH_MAX];
	bool update = getenv("MXDECK_UPDATE_GOLDEN") != NULL;
	size_t ngolden = 0;
	DIR *dp;
	struct dirent *de;

	if (realpath("share/examples/demo.ini", abs) == NULL)
		fail_msg("run from the source tree: share/examples/demo.ini not found");
	assert_int_equal(site_load(&site, abs, &d), 0);
	{
		struct render_ctx ctx = { .site = &site, .host = site_find_host(&site, "demo") };

		assert_non_null(ctx.host);
		assert_int_equal(render_exchange.render(&ctx, &fs, &cause), 0);
	}
	for (size_t i = 0; i < fs.n; i++) {
		char *gpath = xasprintf("%s/%s", GOLDEN_DIR, strrchr(fs.v[i].path, '/') + 1);
		char *got = normalize(fs.v[i].data.s, site.dir), *want;

		if (update) {
			assert_int_equal(mkdir_p(GOLDEN_DIR, 0755, &cause), 0);
			write_text(gpath, got);
		}
		want = read_file(gpath, NULL, &cause);
		if (want == NULL)
			fail_msg("%s (MXDECK_UPDATE_GOLDEN=1 writes it)", cause);
		if (strcmp(got, want) != 0)
			fail_msg("%s differs from the rendered %s", gpath, fs.v[i].path);
		free(want);
		free(got);
		free(gpath);
	}
	assert_non_null(dp = opendir(GOLDEN_DIR));
	while ((de = readdir(dp)) != NULL)
		if (de->d_name[0] != '.')
			ngolden++;
	closedir(dp);
	assert_int_equal(ngolden, fs.n);
	fileset_free(&fs);
	site_free(&site);
	diags_free(&d);
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
