/* cases.h: run a cmocka group made of fixed tests and one test per row of a case table.
 * Header only (each tests/unit/test_*.c is its own binary). Include after <cmocka.h>.
 *
 *	static const struct mycase { const char *name; ... } cases[] = { ... };
 *	return run_cases("group", fixed, nitems(fixed), cases, nitems(cases),
 *	    sizeof cases[0], run_one);
 *
 * Every row's first member is its test name; run_one gets the row as *state. */
#ifndef MXDECK_TESTS_CASES_H
#define MXDECK_TESTS_CASES_H

#include <string.h>

static inline int
run_cases(const char *group, const struct CMUnitTest *fixed, size_t nfixed,
    const void *rows, size_t nrows, size_t rowsize, CMUnitTestFunction run_one)
{
	struct CMUnitTest *t = xcalloc(nfixed + nrows, sizeof *t);
	int rc;

	memcpy(t, fixed, nfixed * sizeof *t);
	for (size_t i = 0; i < nrows; i++) {
		const char *row = (const char *)rows + i * rowsize;

		memcpy(&t[nfixed + i].name, row, sizeof t[nfixed + i].name);
		t[nfixed + i].test_func = run_one;
		t[nfixed + i].initial_state = (void *)row;
	}
	rc = _cmocka_run_group_tests(group, t, nfixed + nrows, NULL, NULL);
	free(t);
	return rc;
}

#endif
