/* test_hdrrule.c: header rule parsing, TLS protocol lists, Postfix versions. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "profiles/site.h"
#include "profiles/hdrtest.h"
#include "profiles/tlsproto.h"

static void
rule_free(struct header_rule *r)
{
	free(r->regex);
	free(r->flags);
	free(r->action_name);
	free(r->arg);
}

static void
test_rule_basic(void **state)
{
	struct header_rule r = { .text = (char *)
	    "/^(Received: from)[^\\n]*(.*)/ REPLACE $1 [127.0.0.1] (localhost [127.0.0.1])$2" };
	char *cause = NULL;

	assert_int_equal(hdr_rule_parse(&r, &cause), 0);
	assert_false(r.negate);
	assert_string_equal(r.regex, "^(Received: from)[^\\n]*(.*)");
	assert_string_equal(r.flags, "");
	assert_int_equal(r.action, PFA_REPLACE);
	assert_string_equal(r.action_name, "REPLACE");
	assert_string_equal(r.arg, "$1 [127.0.0.1] (localhost [127.0.0.1])$2");
	rule_free(&r);
}

static void
test_rule_forms(void **state)
{
	struct {
		const char *text;
		bool negate;
		const char *regex, *flags, *action_name, *arg;
		int action;
	} ok[] = {
		{ "/^X-Originating-IP:/ IGNORE", false, "^X-Originating-IP:", "", "IGNORE", "", PFA_IGNORE },
		{ "!/^X:/ DUNNO", true, "^X:", "", "DUNNO", "", PFA_DUNNO },
		{ "! /^X:/ DUNNO", true, "^X:", "", "DUNNO", "", PFA_DUNNO },
		{ "|^a/b| ignore", false, "^a/b", "", "ignore", "", PFA_IGNORE },
		{ "\"^X\" PREPEND X-Seen: yes", false, "^X", "", "PREPEND", "X-Seen: yes", PFA_PREPEND },
		{ "/a\\/b/ix\tWARN  spaced   text  ", false, "a\\/b", "ix", "WARN", "spaced   text", PFA_WARN },
		{ "/^X/AEUmsX REJECT no", false, "^X", "AEUmsX", "REJECT", "no", PFA_REJECT },
		{ "/^X/ FOOBAR arg", false, "^X", "", "FOOBAR", "arg", -1 },
		{ "/^X/ ok", false, "^X", "", "ok", "", PFA_OK },
		{ "/^X/ PASS", false, "^X", "", "PASS", "", PFA_PASS },
	};
	const char *bad[] = {
		"", "   ", "^X: IGNORE", "a^Xa IGNORE", "#^X# IGNORE", "/^X: IGNORE",
		"/^X/q IGNORE", "/^X/", "/^X/i   ", "if /^X/", "!", "\\^X\\ IGNORE",
	};

	for (size_t i = 0; i < nitems(ok); i++) {
		struct header_rule r = { .text = (char *)ok[i].text };
		char *cause = NULL;

		if (hdr_rule_parse(&r, &cause) != 0)
			fail_msg("%s: %s", ok[i].text, cause);
		assert_int_equal(r.negate, ok[i].negate);
		assert_string_equal(r.regex, ok[i].regex);
		assert_string_equal(r.flags, ok[i].flags);
		assert_string_equal(r.action_name, ok[i].action_name);
		assert_string_equal(r.arg, ok[i].arg);
		assert_int_equal(r.action, ok[i].action);
		rule_free(&r);
	}
	for (size_t i = 0; i < nitems(bad); i++) {
		struct header_rule r = { .text = (char *)bad[i] };
		char *cause = NULL;

		if (hdr_rule_parse(&r, &cause) == 0)
			fail_msg("accepted bad rule \"%s\"", bad[i]);
		assert_non_null(cause);
		assert_null(r.regex);
		assert_null(r.action_name);
		free(cause);
		rule_free(&r);
	}
}

static void
test_action_names(void **state)
{
	assert_string_equal(postfix_action_names[PFA_REPLACE], "REPLACE");
	assert_string_equal(postfix_action_names[PFA_PASS], "PASS");
	assert_string_equal(postfix_action_names[PFA_OK], "OK");
	for (int i = 0; i < PFA_COUNT; i++)
		assert_non_null(postfix_action_names[i]);
}

#define B(p) TLSP_BIT(TLSP_##p)

static void
test_tls_parse(void **state)
{
	struct { const char *list; unsigned mask; } ok[] = {
		{ ">=TLSv1.2", B(TLSV1_2) | B(TLSV1_3) },
		{ "<=TLSv1.2", TLSP_ALL & ~B(TLSV1_3) },
		{ ">=TLSv1, <=TLSv1.2", B(TLSV1) | B(TLSV1_1) | B(TLSV1_2) },
		{ ">=TLSv1.3", B(TLSV1_3) },
		{ "!SSLv2, !SSLv3, !TLSv1, !TLSv1.1", B(TLSV1_2) | B(TLSV1_3) },
		{ "!SSLv2:!SSLv3 !TLSv1,!TLSv1.1", B(TLSV1_2) | B(TLSV1_3) },
		{ "TLSv1.2 TLSv1.3", B(TLSV1_2) | B(TLSV1_3) },
		{ "TLSv1.3, TLSv1.2, !TLSv1.1, !TLSv1, !SSLv2, !SSLv3", B(TLSV1_2) | B(TLSV1_3) },
		{ "", TLSP_ALL },
		{ "!SSLv2", TLSP_ALL & ~B(SSLV2) },
	};
	const char *bad[] = {
		">= TLSv1.2", ">=", "TLS1.2", "tlsv1.2", ">=TLSv1.4", "!TLSv1.5", ">=SSLv2",
		">=TLSv1.3, <=TLSv1.2", "!SSLv2 !SSLv3 !TLSv1 !TLSv1.1 !TLSv1.2 !TLSv1.3",
		"TLSv1.2;TLSv1.3",
	};

	for (size_t i = 0; i < nitems(ok); i++) {
		unsigned mask = 0;
		char *cause = NULL;

		if (tls_protocols_parse(ok[i].list, &mask, &cause) != 0)
			fail_msg("%s: %s", ok[i].list, cause);
		assert_int_equal(mask, ok[i].mask);
	}
	for (size_t i = 0; i < nitems(bad); i++) {
		unsigned mask = 12345;
		char *cause = NULL;

		if (tls_protocols_parse(bad[i], &mask, &cause) == 0)
			fail_msg("accepted bad list \"%s\"", bad[i]);
		assert_non_null(cause);
		assert_int_equal(mask, 12345);
		free(cause);
	}
}

static void
test_tls_hint(void **state)
{
	unsigned mask;
	char *cause = NULL;

	assert_int_equal(tls_protocols_parse("TLS1.2", &mask, &cause), -1);
	assert_non_null(strstr(cause, "did you mean TLSv1.2"));
	free(cause);
}

static void
test_tls_format(void **state)
{
	struct { unsigned mask; const char *ver, *out; } t[] = {
		{ B(TLSV1_2) | B(TLSV1_3), "3.7", ">=TLSv1.2" },
		{ B(TLSV1_2) | B(TLSV1_3), "3.6", ">=TLSv1.2" },
		{ B(TLSV1_2) | B(TLSV1_3), "3.6.0", ">=TLSv1.2" },
		{ B(TLSV1_2) | B(TLSV1_3), "3.5.9", "!SSLv2, !SSLv3, !TLSv1, !TLSv1.1" },
		{ B(TLSV1_2) | B(TLSV1_3), "3.4", "!SSLv2, !SSLv3, !TLSv1, !TLSv1.1" },
		{ B(TLSV1_2) | B(TLSV1_3), "3.3", "!SSLv2, !SSLv3, !TLSv1, !TLSv1.1" },
		{ B(TLSV1_2), "3.7", ">=TLSv1.2, <=TLSv1.2" },
		{ B(SSLV3), "3.7", ">=SSLv3, <=SSLv3" },
		{ B(TLSV1) | B(TLSV1_1) | B(TLSV1_2), "3.7", ">=TLSv1, <=TLSv1.2" },
		{ B(TLSV1) | B(TLSV1_2) | B(TLSV1_3), "3.7", "!SSLv2, !SSLv3, !TLSv1.1" },
		{ TLSP_ALL & ~B(SSLV2), "3.7", ">=SSLv3" },
		{ TLSP_ALL, "3.7", "" },
		{ B(TLSV1_3), "3.10.1", ">=TLSv1.3" },
		{ B(TLSV1_3), NULL, ">=TLSv1.3" },
	};

	for (size_t i = 0; i < nitems(t); i++) {
		char *s = tls_protocols_format(t[i].mask, t[i].ver);

		assert_string_equal(s, t[i].out);
		free(s);
	}
}

/* format() and parse() agree on every set Postfix can express. */
static void
test_tls_roundtrip(void **state)
{
	const char *versions[] = { "3.3", "3.4", "3.6", "3.7" };

	for (size_t v = 0; v < nitems(versions); v++)
		for (unsigned m = 1; m <= TLSP_ALL; m++) {
			char *s = tls_protocols_format(m, versions[v]), *cause = NULL;
			unsigned back = 0;

			if (tls_protocols_parse(s, &back, &cause) != 0)
				fail_msg("%s: %s", s, cause);
			if (back != m)
				fail_msg("mask %#x -> \"%s\" -> %#x (%s)", m, s, back, versions[v]);
			if (postfix_version_cmp(versions[v], "3.6") < 0)
				assert_null(strchr(s, '>'));
			free(s);
		}
}

static void
test_dovecot(void **state)
{
	const char *ok[] = { "ANY", "SSLv3", "TLSv1", "TLSv1.1", "TLSv1.2", "TLSv1.3" };
	const char *bad[] = { "TLS1.2", "tlsv1.2", "", "TLSv1.4", "SSLv2", "any", " TLSv1.2" };
	char *cause = NULL;

	for (size_t i = 0; i < nitems(ok); i++)
		assert_int_equal(dovecot_protocol_check(ok[i], &cause), 0);
	for (size_t i = 0; i < nitems(bad); i++) {
		cause = NULL;
		if (dovecot_protocol_check(bad[i], &cause) == 0)
			fail_msg("accepted \"%s\"", bad[i]);
		assert_non_null(cause);
		free(cause);
	}
	assert_int_equal(dovecot_protocol_check("TLS1.2", &cause), -1);
	assert_non_null(strstr(cause, "TLSv1.2"));
	free(cause);
}

static void
test_version_cmp(void **state)
{
	assert_true(postfix_version_cmp("3.6", "3.10.1") < 0);
	assert_true(postfix_version_cmp("3.10.1", "3.6") > 0);
	assert_int_equal(postfix_version_cmp("3.6", "3.6.0"), 0);
	assert_int_equal(postfix_version_cmp("3.7.11", "3.7.11"), 0);
	assert_true(postfix_version_cmp("3.3.0", "3.4") < 0);
	assert_true(postfix_version_cmp("3.4", "3.3.99") > 0);
	assert_true(postfix_version_cmp("2.11.0", "3.0") < 0);
	assert_true(postfix_version_cmp("3.8-20230101", "3.7.11") > 0);
	assert_true(postfix_version_cmp("3.5.9", "3.6") < 0);
}

static const char sample[] =
    "Received: from client.example.net (client.example.net [198.51.100.7])\n"
    "\t(using TLSv1.3 with cipher TLS_AES_256_GCM_SHA384 (256/256 bits))\n"
    "\tby smtp.example.org (Postfix) with ESMTPSA id 7458E7B802\n"
    "\tfor <wurst@example.com>; Wed, 27 Mar 2019 21:44:10 +0100 (CET)\n"
    "X-Originating-IP: [198.51.100.7]\n"
    "User-Agent: Mozilla/5.0 Thunderbird/115.0\n"
    "x-mailer: PHPMailer 5.2.1\n"
    "Subject: hello\n"
    "  continued subject\n"
    "\n"
    "Received: from body (not a header)\n";

static struct header_rule privacy[] = {
	{ .text = (char *)"/^(Received: from)[^\\n]*(.*)/ REPLACE $1 [127.0.0.1] (localhost [127.0.0.1])$2", .line = 10 },
	{ .text = (char *)"/^X-Originating-IP:/ IGNORE", .line = 11 },
	{ .text = (char *)"/^User-Agent:/ IGNORE", .line = 12 },
	{ .text = (char *)"/^X-Mailer:/ IGNORE", .line = 13 },
};

static void
test_hdrtest_privacy(void **state)
{
	struct hdrtest t;
	struct sbuf b;

	hdrtest_run(privacy, nitems(privacy), sample, strlen(sample), &t);
	assert_int_equal(t.warnings.n, 0);
	assert_int_equal(t.n, 5);	/* the body's Received is not a header */
	assert_int_equal(t.v[0].rule, 0);
	assert_int_equal(t.v[0].rule_line, 10);
	assert_int_equal(t.v[0].action, PFA_REPLACE);
	assert_string_equal(t.v[0].output,
	    "Received: from [127.0.0.1] (localhost [127.0.0.1])\n"
	    "\t(using TLSv1.3 with cipher TLS_AES_256_GCM_SHA384 (256/256 bits))\n"
	    "\tby smtp.example.org (Postfix) with ESMTPSA id 7458E7B802\n"
	    "\tfor <wurst@example.com>; Wed, 27 Mar 2019 21:44:10 +0100 (CET)");
	assert_int_equal(t.v[1].action, PFA_IGNORE);
	assert_null(t.v[1].output);
	assert_int_equal(t.v[2].rule, 2);
	assert_int_equal(t.v[3].rule, 3);	/* case-insensitive by default */
	assert_int_equal(t.v[4].rule, -1);
	assert_null(t.v[4].result);
	assert_string_equal(t.v[4].original, "Subject: hello\n  continued subject");
	assert_string_equal(t.v[4].output, t.v[4].original);
	assert_int_equal(t.v[4].first_line, 8);

	sb_init(&b);
	sb_addn(&b, "", 0);
	hdrtest_output(&t, &b);
	assert_string_equal(b.s,
	    "Received: from [127.0.0.1] (localhost [127.0.0.1])\n"
	    "\t(using TLSv1.3 with cipher TLS_AES_256_GCM_SHA384 (256/256 bits))\n"
	    "\tby smtp.example.org (Postfix) with ESMTPSA id 7458E7B802\n"
	    "\tfor <wurst@example.com>; Wed, 27 Mar 2019 21:44:10 +0100 (CET)\n"
	    "Subject: hello\n  continued subject\n");
	sb_reset(&b);
	hdrtest_postmap(&t, &b);
	assert_non_null(strstr(b.s, "X-Originating-IP: [198.51.100.7]\tIGNORE\n"));
	assert_non_null(strstr(b.s, "CET)\tREPLACE Received: from [127.0.0.1]"));
	sb_free(&b);
	hdrtest_free(&t);
}

static void
test_hdrtest_flags(void **state)
{
	struct header_rule r[] = {
		{ .text = (char *)"/^x-a: (.*)/i REPLACE X-A: $1", .line = 1 },	/* case-sensitive */
		{ .text = (char *)"/^X-A: (\\S+)/ PREPEND X-Seen: ${1}", .line = 2 },
		{ .text = (char *)"!/^(Subject|X-A):/ WARN not allowed", .line = 3 },
		{ .text = (char *)"/^Subject: a.b$/ REPLACE Subject: dot", .line = 4 },
	};
	const char in[] = "X-A: one\r\nx-a: two\r\nSubject: a\n b\nDate: now\n";
	struct hdrtest t;
	struct sbuf b;

	hdrtest_run(r, nitems(r), in, strlen(in), &t);
	assert_int_equal(t.warnings.n, 0);
	assert_int_equal(t.n, 4);
	assert_int_equal(t.v[0].rule, 1);
	assert_string_equal(t.v[0].prepend, "X-Seen: one");
	assert_int_equal(t.v[1].rule, 0);
	assert_string_equal(t.v[1].output, "X-A: two");
	/* s is on by default: . matches the folded line's "\n"; but "a\n b" has two */
	assert_int_equal(t.v[2].rule, -1);
	assert_int_equal(t.v[3].rule, 2);
	assert_int_equal(t.v[3].action, PFA_WARN);
	assert_string_equal(t.v[3].text, "not allowed");
	sb_init(&b);
	sb_addn(&b, "", 0);
	hdrtest_output(&t, &b);
	assert_string_equal(b.s, "X-Seen: one\nX-A: one\nX-A: two\nSubject: a\n b\nDate: now\n");
	sb_free(&b);
	hdrtest_free(&t);
}

static void
test_hdrtest_skipped(void **state)
{
	struct header_rule r[] = {
		{ .text = (char *)"/^X: (a/ IGNORE", .line = 1 },
		{ .text = (char *)"/^X: (a)/ REPLACE X: $2", .line = 2 },
		{ .text = (char *)"!/^X: (a)/ REPLACE X: $1", .line = 3 },
		{ .text = (char *)"/^X: (a)/ REPLACE X: $1x", .line = 4 },
		{ .text = (char *)"/^X/q IGNORE", .line = 5 },
		{ .text = (char *)"/^X: (a)|(b)/ REPLACE X: [$2] $$ $(1)", .line = 6 },
	};
	const char in[] = "X: a\n";
	struct hdrtest t;
	char *cause = NULL;

	hdrtest_run(r, nitems(r), in, strlen(in), &t);
	assert_int_equal(t.warnings.n, 5);
	assert_non_null(strstr(t.warnings.v[1], "out of range"));
	assert_non_null(strstr(t.warnings.v[2], "negated"));
	assert_non_null(strstr(t.warnings.v[3], "non-numeric"));
	assert_int_equal(t.n, 1);
	assert_int_equal(t.v[0].rule, 5);
	assert_string_equal(t.v[0].result, "REPLACE X: [] $ a");
	hdrtest_free(&t);

	assert_int_equal(hdrtest_check_rule(&r[5], &cause), 0);
	assert_int_equal(hdrtest_check_rule(&r[1], &cause), -1);
	free(cause);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_rule_basic),
		cmocka_unit_test(test_rule_forms),
		cmocka_unit_test(test_action_names),
		cmocka_unit_test(test_tls_parse),
		cmocka_unit_test(test_tls_hint),
		cmocka_unit_test(test_tls_format),
		cmocka_unit_test(test_tls_roundtrip),
		cmocka_unit_test(test_dovecot),
		cmocka_unit_test(test_version_cmp),
		cmocka_unit_test(test_hdrtest_privacy),
		cmocka_unit_test(test_hdrtest_flags),
		cmocka_unit_test(test_hdrtest_skipped),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
