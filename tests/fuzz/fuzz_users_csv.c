/* fuzz_users_csv.c: the users CSV importer (mxdeck's columns and Get-CASMailbox |
 * Export-Csv files) on arbitrary bytes (libFuzzer).
 *
 * The bytes are parsed twice into one site: first as "users.csv", then as a second file
 * (a profile's [user] overrides work the same way), so both the add and the update
 * paths run. Invariants: every user has a non-empty email that site_find_user() finds
 * again (also in another letter case), its protocol set stays within PROTO_ALL, and
 * the second pass over the same bytes adds no user.
 *
 * Built by tests/fuzz/run.sh. */
#include <ctype.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "profiles/site.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
check(int cond, const char *what)
{
	if (!cond) {
		fprintf(stderr, "fuzz_users_csv: invariant violated: %s\n", what);
		abort();
	}
}

static void
check_users(const struct site *site)
{
	for (size_t i = 0; i < site->nusers; i++) {
		const struct user *u = &site->users[i];
		char *up;

		check(u->email != NULL && u->email[0] != '\0', "a user with an empty email");
		check(site_find_user(site, u->email) == u, "site_find_user misses a user");
		up = strdup(u->email);
		if (up == NULL)
			abort();
		for (char *p = up; *p != '\0'; p++)
			*p = (char)toupper((unsigned char)*p);
		check(site_find_user(site, up) == u, "site_find_user is case-sensitive");
		free(up);
		check((u->protos & ~PROTO_ALL) == 0, "protocol bits beyond PROTO_ALL");
		check(u->file != NULL, "a user without a file");
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct site site;
	struct diags d = { 0 };
	size_t n1;

	memset(&site, 0, sizeof site);
	site.user_default = size > 0 ? data[0] & PROTO_ALL : PROTO_ALL;
	(void)users_csv_parse(&site, "/nonexistent/users.csv", (const char *)data, size, &d);
	check_users(&site);
	n1 = site.nusers;
	(void)users_csv_parse(&site, "/nonexistent/more-users.csv", (const char *)data, size,
	    &d);
	check_users(&site);
	check(site.nusers == n1, "a second import of the same rows added users");
	site_free(&site);
	diags_free(&d);
	return 0;
}
