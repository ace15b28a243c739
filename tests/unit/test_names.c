/* test_names.c: the one host name validator (hostname_ok, profiles/util.c) and its two
 * switches, on hostile and edge-case names. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include "profiles/util.h"

static void
test_hostname(void **state)
{
	static const struct {
		const char *name;
		bool host, dot, dns;	/* hostname_ok(name, 0 / HN_DOT / HN_UNDERSCORE) */
	} cases[] = {
		{ "mail.example.org", true, true, true },
		{ "localhost", true, true, true },
		{ "a", true, true, true },
		{ "xn--bcher-kva.example", true, true, true },
		{ "A-B.c0", true, true, true },
		{ "192.0.2.1", true, true, true },		/* a dotted quad */
		{ "mail.example.org.", false, true, false },	/* absolute name */
		{ "_25._tcp.mx.example.org", false, false, true },
		{ "exa_mple.org", false, false, true },
		{ "300.1.1.1", false, false, false },		/* digits, not an IPv4 */
		{ "1.2.3", false, false, false },
		{ "1.2.3.4.", false, true, false },
		{ "", false, false, false },
		{ ".", false, false, false },
		{ "..", false, false, false },
		{ "a..", false, false, false },
		{ ".example.org", false, false, false },
		{ "a..b", false, false, false },
		{ "-a.b", false, false, false },
		{ "a-.b", false, false, false },
		{ "a.b-", false, false, false },
		{ "a b", false, false, false },
		{ "a\tb", false, false, false },
		{ "a\nb", false, false, false },
		{ "a;b", false, false, false },
		{ "a/b", false, false, false },
		{ "a*b", false, false, false },
		{ "b\xc3\xbc" "cher.example", false, false, false },	/* UTF-8: use xn-- */
		{ "2001:db8::1", false, false, false },
		{ "[::1]", false, false, false },
	};

	(void)state;
	for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
		if (hostname_ok(cases[i].name, 0) != cases[i].host ||
		    hostname_ok(cases[i].name, HN_DOT) != cases[i].dot ||
		    hostname_ok(cases[i].name, HN_UNDERSCORE) != cases[i].dns)
			fail_msg("case %zu \"%s\": %d %d %d", i, cases[i].name,
			    hostname_ok(cases[i].name, 0),
			    hostname_ok(cases[i].name, HN_DOT),
			    hostname_ok(cases[i].name, HN_UNDERSCORE));
	}
	assert_true(hostname_ok("_x.", HN_DOT | HN_UNDERSCORE));
}

/* Lengths: a label of 63 bytes and a name of 253 bytes are the most there can be. */
static void
test_lengths(void **state)
{
	char name[300];

	(void)state;
	memset(name, 'a', 63);
	strcpy(name + 63, ".org");
	assert_true(hostname_ok(name, 0));
	memset(name, 'a', 64);
	strcpy(name + 64, ".org");
	assert_false(hostname_ok(name, 0));
	/* 4 labels of 61 + dots = 247, + ".abcde" = 253 */
	name[0] = '\0';
	for (int i = 0; i < 4; i++) {
		memset(name + i * 62, 'b', 61);
		name[i * 62 + 61] = '.';
	}
	strcpy(name + 4 * 62, "abcde");
	assert_int_equal(strlen(name), 253);
	assert_true(hostname_ok(name, 0));
	strcat(name, ".");
	assert_false(hostname_ok(name, 0));
	assert_true(hostname_ok(name, HN_DOT));	/* 253 without the root dot */
	name[253] = 'f';
	name[254] = '\0';
	assert_false(hostname_ok(name, HN_DOT));
}

static void
test_ip(void **state)
{
	(void)state;
	assert_true(ipv4_ok("127.0.0.1"));
	assert_false(ipv4_ok("127.0.0.256"));
	assert_false(ipv4_ok("127.1"));
	assert_true(ipv6_ok("2001:db8::1"));
	assert_false(ipv6_ok("[2001:db8::1]"));
	assert_false(ipv6_ok("2001:db8::g"));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_hostname),
		cmocka_unit_test(test_lengths),
		cmocka_unit_test(test_ip),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
