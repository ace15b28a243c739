/* test_roles.c: the host roles table (profiles/roles.c) drives the roles key, the
 * messages that list the roles, host_dir() and lint's "needs" check. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "profiles/site.h"

static void
test_table(void **state)
{
	(void)state;
	for (size_t i = 0; i < ROLE_COUNT; i++) {
		assert_int_equal(roles[i].bit, 1u << i);
		assert_non_null(roles[i].name);
		assert_non_null(roles[i].dir_key);
		assert_non_null(roles[i].dir_default);
		assert_true(roles[i].dir_default[0] == '/');
		assert_ptr_equal(role_by_name(roles[i].name), &roles[i]);
		assert_ptr_equal(role_by_bit(roles[i].bit), &roles[i]);
		assert_true((roles[i].needs == 0) == (roles[i].needs_what == NULL));
		for (size_t j = 0; j < i; j++)
			assert_string_not_equal(roles[i].name, roles[j].name);
	}
	assert_ptr_equal(role_by_name("PostFix"), &roles[0]);
	assert_null(role_by_name("sendmail"));
	assert_null(role_by_name(""));
	assert_null(role_by_bit(0));
	assert_null(role_by_bit(ROLE_POSTFIX | ROLE_DOVECOT));
	assert_null(role_by_bit(1u << ROLE_COUNT));
}

static void
load(struct site *s, struct diags *d, const char *text)
{
	memset(d, 0, sizeof *d);
	(void)site_load_buf(s, "/p/site.ini", text, strlen(text), d);
}

static bool
has_diag(const struct diags *d, int line, const char *needle)
{
	for (size_t i = 0; i < d->n; i++)
		if (d->v[i].line == line && strstr(d->v[i].msg, needle) != NULL)
			return true;
	return false;
}

/* Every role's directory: its default, then the key of its row when it is set. */
static void
test_host_dir(void **state)
{
	struct site s;
	struct diags d;

	(void)state;
	load(&s, &d, "[site]\ndomain = example.org\n[host \"gw\"]\naddress = gw.example.org\n"
	    "roles = postfix\n");
	assert_int_equal(d.nerrors, 0);
	assert_int_equal(s.nhosts, 1);
	for (size_t i = 0; i < ROLE_COUNT; i++)
		assert_string_equal(host_dir(&s.hosts[0], roles[i].bit), roles[i].dir_default);
	assert_null(host_dir(&s.hosts[0], 0));
	site_free(&s);
	diags_free(&d);

	for (size_t i = 0; i < ROLE_COUNT; i++) {
		char *text = xasprintf("[site]\ndomain = example.org\n[host \"gw\"]\n"
		    "address = gw.example.org\nroles = %s\n%s = /srv/%s\n", roles[i].name,
		    roles[i].dir_key, roles[i].name);
		char *want = xasprintf("/srv/%s", roles[i].name);

		load(&s, &d, text);
		assert_int_equal(d.nerrors, 0);
		assert_true(s.hosts[0].roles == roles[i].bit);
		assert_string_equal(host_dir(&s.hosts[0], roles[i].bit), want);
		site_free(&s);
		diags_free(&d);
		free(text);
		free(want);
	}
}

/* The refusals name every role, from the table, at the roles line or the host line. */
static void
test_role_messages(void **state)
{
	struct site s;
	struct diags d;
	struct sbuf list;
	char *unknown, *none;

	(void)state;
	sb_init(&list);
	role_list(&list);
	assert_string_equal(list.s, "postfix dovecot apache nginx autodiscover dns exchange");
	unknown = xasprintf("unknown role 'sendmail'; roles are %s", list.s);
	none = xasprintf("needs roles = (%s)", list.s);

	load(&s, &d, "[site]\ndomain = example.org\n[host \"gw\"]\naddress = gw.example.org\n"
	    "roles = postfix sendmail\n");
	assert_int_equal(d.nerrors, 1);
	assert_true(has_diag(&d, 5, unknown));
	assert_true(s.hosts[0].roles == ROLE_POSTFIX);
	site_free(&s);
	diags_free(&d);

	load(&s, &d, "[site]\ndomain = example.org\n[host \"gw\"]\naddress = gw.example.org\n"
	    "roles =\n");
	assert_true(has_diag(&d, 5, "'roles' needs at least one of: postfix dovecot"));
	assert_true(has_diag(&d, 3, none));
	site_free(&s);
	diags_free(&d);

	/* autodiscover needs a web server on the same host: lint warns at the roles line */
	load(&s, &d, "[site]\ndomain = example.org\n[host \"gw\"]\naddress = gw.example.org\n"
	    "roles = postfix autodiscover\n");
	assert_int_equal(d.nerrors, 0);
	site_lint(&s, &d);
	assert_true(has_diag(&d, 5, "host gw has role autodiscover but no web server role "
	    "(apache or nginx) to serve the responder"));
	site_free(&s);
	diags_free(&d);

	load(&s, &d, "[site]\ndomain = example.org\n[host \"gw\"]\naddress = gw.example.org\n"
	    "roles = nginx autodiscover\n");
	site_lint(&s, &d);
	assert_false(has_diag(&d, 5, "has role autodiscover but no"));
	site_free(&s);
	diags_free(&d);
	free(unknown);
	free(none);
	sb_free(&list);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_table),
		cmocka_unit_test(test_host_dir),
		cmocka_unit_test(test_role_messages),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
