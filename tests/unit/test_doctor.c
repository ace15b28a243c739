/* test_doctor.c: the local read-only statvfs the doctor's free-space check uses (the
 * Apache modules it checks are the render's own mods-enabled links: test_render_web). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "backends/ssh/doctor.h"
#include "backends/ssh/xport.h"

static void
test_statvfs_readonly_handle(void **state)
{
	struct xport *x = xport_local_open("t", NULL, true);
	struct xstatvfs v;
	char *cause = NULL;

	(void)state;
	/* a read-only handle may ask: statvfs only reads */
	assert_int_equal(xport_statvfs(x, "/", &v, &cause), 0);
	assert_true(v.total > 0);
	assert_true(v.avail <= v.total);
	assert_int_equal(x->nwrites, 0);
	assert_int_equal(xport_statvfs(x, "/nonexistent/mxdeck/x", &v, &cause), -1);
	assert_non_null(cause);
	free(cause);
	xport_close(x);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_statvfs_readonly_handle),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
