/* test_url.c: url_parse(), the one reading of a profile's http(s) URLs (libcurl's). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "profiles/url.h"
#include "profiles/util.h"

static void
t_good(void **state)
{
	static const struct {
		const char *in, *host, *path;
		bool https, ipv6, query;
		int port;
	} ok[] = {
		{ "https://ex1.lan", "ex1.lan", "/", true, false, false, 0 },
		{ "https://EX1.Lan:443/", "EX1.Lan", "/", true, false, false, 443 },
		{ "http://[2001:db8::1]:8080/x", "2001:db8::1", "/x", false, true, false, 8080 },
		{ "https://m.example.org/Microsoft-Server-ActiveSync?x=1",
		    "m.example.org", "/Microsoft-Server-ActiveSync", true, false, true, 0 },
		{ "HTTPS://h#frag", "h", "/", true, false, true, 0 },
	};
	struct url u;
	char *cause = NULL;

	for (size_t i = 0; i < sizeof ok / sizeof ok[0]; i++) {
		if (url_parse(ok[i].in, &u, &cause) != 0)
			fail_msg("%s refused: %s", ok[i].in, cause);
		assert_string_equal(u.host, ok[i].host);
		assert_string_equal(u.path, ok[i].path);
		assert_int_equal(u.https, ok[i].https);
		assert_int_equal(u.ipv6, ok[i].ipv6);
		assert_int_equal(u.has_query, ok[i].query);
		assert_int_equal(u.port, ok[i].port);
		url_free(&u);
	}
}

static void
t_bad(void **state)
{
	static const struct {
		const char *in, *why;
	} bad[] = {
		{ "ftp://h", "must start with" },
		{ "h.example.org", "must start with" },
		{ "https:///owa", "no host name" },
		{ "https://", "no host name" },
		{ "https://user:pw@h", "credentials" },
		{ "https://user@h", "credentials" },
		{ "https://h:0", "invalid port" },
		{ "https://h:65536", "invalid port" },
		{ "https://h:", "invalid port" },
		{ "https://h:80x", "invalid port" },
		{ "https://[::1", "not a valid URL" },
		{ "https://ex 1.lan", "not a valid URL" },
	};
	struct url u;
	char *cause;

	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		cause = NULL;
		if (url_parse(bad[i].in, &u, &cause) == 0)
			fail_msg("%s accepted (host %s)", bad[i].in, u.host);
		assert_non_null(cause);
		if (strstr(cause, bad[i].why) == NULL && !(strstr(bad[i].why, "not a valid") &&
		    strstr(cause, "IPv6") != NULL))
			fail_msg("%s: \"%s\" does not say \"%s\"", bad[i].in, cause, bad[i].why);
		free(cause);
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(t_good),
		cmocka_unit_test(t_bad),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
