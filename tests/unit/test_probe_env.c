/* test_probe_env.c: probe_opts_from_env (backends/probe/env.c), the one reader of the
 * probe settings in the environment for `mxdeck test`, `audit` and the console. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "backends/probe/probe.h"

static const char *const vars[] = { "MXDECK_PROBES", "MXDECK_PROBE_TIMEOUT",
    "MXDECK_PROBE_DEADLINE", "MXDECK_PROBE_HTTP_PORT" };

static int
clear(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof vars / sizeof vars[0]; i++)
		unsetenv(vars[i]);
	return 0;
}

static void
test_unset_keeps_fields(void **state)
{
	struct probe_opts o = { .timeout = 7, .deadline = 9, .http_port = 8080, .kinds = 0 };
	char *cause = NULL;

	(void)state;
	setenv("MXDECK_PROBE_TIMEOUT", "", 1);		/* empty: as unset */
	assert_int_equal(probe_opts_from_env(&o, &cause), 0);
	assert_true(o.timeout == 7 && o.deadline == 9);
	assert_int_equal(o.http_port, 8080);
	assert_int_equal(o.kinds, 0);
	assert_null(cause);
}

static void
test_values(void **state)
{
	struct probe_opts o = { 0 }, all = { 0 };
	char *cause = NULL;

	(void)state;
	setenv("MXDECK_PROBE_TIMEOUT", "2.5", 1);
	setenv("MXDECK_PROBE_DEADLINE", "30", 1);
	setenv("MXDECK_PROBE_HTTP_PORT", "8080", 1);
	setenv("MXDECK_PROBES", "tls dns", 1);
	assert_int_equal(probe_opts_from_env(&o, &cause), 0);
	assert_true(o.timeout == 2.5 && o.deadline == 30);
	assert_int_equal(o.http_port, 8080);
	assert_int_equal(probe_kinds_parse("tls dns", &all.kinds, &cause), 0);
	assert_int_equal(o.kinds, all.kinds);
	assert_int_not_equal(o.kinds, 0);
}

/* Each bad value is refused with the variable's name and its value. */
static void
test_refusals(void **state)
{
	static const struct {
		const char *var, *val;
	} bad[] = {
		{ "MXDECK_PROBE_TIMEOUT", "soon" }, { "MXDECK_PROBE_TIMEOUT", "0" },
		{ "MXDECK_PROBE_TIMEOUT", "-1" }, { "MXDECK_PROBE_TIMEOUT", "3601" },
		{ "MXDECK_PROBE_TIMEOUT", "nan" }, { "MXDECK_PROBE_DEADLINE", "5s" },
		{ "MXDECK_PROBE_HTTP_PORT", "0" }, { "MXDECK_PROBE_HTTP_PORT", "65536" },
		{ "MXDECK_PROBE_HTTP_PORT", "80x" }, { "MXDECK_PROBES", "tls bogus" },
	};

	(void)state;
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		struct probe_opts o = { 0 };
		char *cause = NULL;

		clear(NULL);
		setenv(bad[i].var, bad[i].val, 1);
		assert_int_equal(probe_opts_from_env(&o, &cause), -1);
		assert_non_null(cause);
		assert_non_null(strstr(cause, bad[i].var));
		if (strcmp(bad[i].var, "MXDECK_PROBES") != 0)
			assert_non_null(strstr(cause, bad[i].val));
		else
			assert_non_null(strstr(cause, "bogus"));
		free(cause);
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup(test_unset_keeps_fields, clear),
		cmocka_unit_test_setup(test_values, clear),
		cmocka_unit_test_setup(test_refusals, clear),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
