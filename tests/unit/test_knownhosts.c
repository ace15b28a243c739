/* test_knownhosts.c: strict host-key checking against real ssh-keygen output: plain,
 * [host]:port and hashed entries, changed keys, unknown hosts, junk lines, recording a
 * new key, and the SHA256 fingerprint as ssh-keygen prints it. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/evp.h>

#include "backends/ssh/knownhosts.h"
#include "profiles/util.h"

struct fx {
	char	 dir[64];
	char	*pub1, *pub2;		/* "ssh-ed25519 BASE64" */
	unsigned char blob1[256], blob2[256];
	size_t	 len1, len2;
	LIBSSH2_SESSION *s;
};

static char *
slurp(const char *path)
{
	char *cause = NULL, *s = read_file(path, NULL, &cause);

	assert_non_null(s);
	s[strcspn(s, "\n")] = '\0';
	return s;
}

/* "ssh-ed25519 BASE64 comment" -> "ssh-ed25519 BASE64" and the decoded blob. */
static char *
keyline(const char *path, unsigned char *blob, size_t *len)
{
	char *s = slurp(path), *sp1 = strchr(s, ' '), *sp2;
	int n;

	assert_non_null(sp1);
	sp2 = strchr(sp1 + 1, ' ');
	if (sp2 != NULL)
		*sp2 = '\0';
	n = EVP_DecodeBlock(blob, (const unsigned char *)sp1 + 1, (int)strlen(sp1 + 1));
	assert_true(n > 0);
	/* EVP_DecodeBlock counts the padding bytes as data. */
	for (const char *p = sp1 + strlen(sp1) - 1; *p == '='; p--)
		n--;
	*len = (size_t)n;
	return s;
}

static int
setup(void **state)
{
	struct fx *f = calloc(1, sizeof *f);
	char cmd[512], path[128];

	strcpy(f->dir, "/tmp/mxdeck-kh-XXXXXX");
	assert_non_null(mkdtemp(f->dir));
	snprintf(cmd, sizeof cmd, "ssh-keygen -q -t ed25519 -N '' -f %s/k1 && "
	    "ssh-keygen -q -t ed25519 -N '' -f %s/k2", f->dir, f->dir);
	assert_int_equal(system(cmd), 0);
	snprintf(path, sizeof path, "%s/k1.pub", f->dir);
	f->pub1 = keyline(path, f->blob1, &f->len1);
	snprintf(path, sizeof path, "%s/k2.pub", f->dir);
	f->pub2 = keyline(path, f->blob2, &f->len2);
	assert_int_equal(libssh2_init(0), 0);
	f->s = libssh2_session_init();
	assert_non_null(f->s);
	*state = f;
	return 0;
}

static int
teardown(void **state)
{
	struct fx *f = *state;
	char cmd[128];

	libssh2_session_free(f->s);
	libssh2_exit();
	snprintf(cmd, sizeof cmd, "rm -rf %s", f->dir);
	assert_int_equal(system(cmd), 0);
	free(f->pub1);
	free(f->pub2);
	free(f);
	return 0;
}

static char *
write_kh(struct fx *f, const char *name, const char *content)
{
	char *path = xasprintf("%s/%s", f->dir, name), *cause = NULL;

	assert_int_equal(write_file_atomic(path, content, strlen(content), 0600, &cause), 0);
	return path;
}

static enum kh_result
check(struct fx *f, const char *file, const char *host, int port, int which)
{
	enum kh_result r;
	char *cause = NULL;

	assert_int_equal(kh_check(f->s, file, host, port,
	    (const char *)(which == 1 ? f->blob1 : f->blob2), which == 1 ? f->len1 : f->len2,
	    LIBSSH2_HOSTKEY_TYPE_ED25519, &r, &cause), 0);
	return r;
}

static void
test_missing_file(void **state)
{
	struct fx *f = *state;
	char *path = xasprintf("%s/none", f->dir);

	assert_int_equal(check(f, path, "gw1", 22, 1), KH_UNKNOWN);
	free(path);
}

static void
test_plain_and_port(void **state)
{
	struct fx *f = *state;
	char *content = xasprintf("# comment\n\ngw1.example.org %s\n[10.0.0.5]:2222 %s\n"
	    "@cert-authority *.example.org %s\nbroken line\n"
	    "other ssh-foo AAAAB3NzaC1yc2EAAAADAQABAAABAQ\n", f->pub1, f->pub1, f->pub2);
	char *path = write_kh(f, "plain", content);

	assert_int_equal(check(f, path, "gw1.example.org", 22, 1), KH_MATCH);
	assert_int_equal(check(f, path, "gw1.example.org", 22, 2), KH_CHANGED);
	assert_int_equal(check(f, path, "10.0.0.5", 2222, 1), KH_MATCH);
	/* [host]:port is its own entry: port 22 of the same address is unknown. */
	assert_int_equal(check(f, path, "10.0.0.5", 22, 1), KH_UNKNOWN);
	assert_int_equal(check(f, path, "10.0.0.5", 2223, 1), KH_UNKNOWN);
	assert_int_equal(check(f, path, "gw2.example.org", 22, 1), KH_UNKNOWN);
	free(path);
	free(content);
}

static void
test_hashed(void **state)
{
	struct fx *f = *state;
	char *content = xasprintf("[127.0.0.9]:2222 %s\ngw1 %s\n", f->pub1, f->pub2);
	char *path = write_kh(f, "hashed", content), *cmd, *after, *cause = NULL;

	cmd = xasprintf("ssh-keygen -q -H -f %s >/dev/null 2>&1", path);
	assert_int_equal(system(cmd), 0);
	after = read_file(path, NULL, &cause);
	assert_non_null(after);
	assert_null(strstr(after, "127.0.0.9"));	/* really hashed */
	assert_non_null(strstr(after, "|1|"));
	assert_int_equal(check(f, path, "127.0.0.9", 2222, 1), KH_MATCH);
	assert_int_equal(check(f, path, "127.0.0.9", 2222, 2), KH_CHANGED);
	assert_int_equal(check(f, path, "gw1", 22, 2), KH_MATCH);
	assert_int_equal(check(f, path, "gw1", 22, 1), KH_CHANGED);
	assert_int_equal(check(f, path, "127.0.0.9", 22, 1), KH_UNKNOWN);
	free(after);
	free(cmd);
	free(path);
	free(content);
}

static void
test_add(void **state)
{
	struct fx *f = *state;
	char *path = xasprintf("%s/sub/dir/known_hosts", f->dir), *cause = NULL, *s, *want;

	assert_int_equal(check(f, path, "192.0.2.1", 2022, 1), KH_UNKNOWN);
	assert_int_equal(kh_add(path, "192.0.2.1", 2022, (const char *)f->blob1, f->len1,
	    LIBSSH2_HOSTKEY_TYPE_ED25519, &cause), 0);
	assert_int_equal(kh_add(path, "gw9", 22, (const char *)f->blob2, f->len2,
	    LIBSSH2_HOSTKEY_TYPE_ED25519, &cause), 0);
	assert_int_equal(check(f, path, "192.0.2.1", 2022, 1), KH_MATCH);
	assert_int_equal(check(f, path, "gw9", 22, 2), KH_MATCH);
	s = read_file(path, NULL, &cause);
	want = xasprintf("[192.0.2.1]:2022 %s\ngw9 %s\n", f->pub1, f->pub2);
	assert_string_equal(s, want);
	free(want);
	free(s);
	free(path);
}

static void
test_fingerprint(void **state)
{
	struct fx *f = *state;
	char *cmd = xasprintf("ssh-keygen -l -E sha256 -f %s/k1.pub > %s/fp", f->dir, f->dir);
	char *path = xasprintf("%s/fp", f->dir), *out, *fp = kh_fingerprint((const char *)f->blob1,
	    f->len1);
	char *sp;

	assert_int_equal(system(cmd), 0);
	out = slurp(path);
	sp = strchr(out, ' ');
	assert_non_null(sp);
	sp = strchr(sp + 1, ' ');
	assert_non_null(sp);
	*sp = '\0';
	assert_string_equal(strchr(out, ' ') + 1, fp);
	assert_true(strncmp(fp, "SHA256:", 7) == 0);
	free(out);
	free(fp);
	free(path);
	free(cmd);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_missing_file),
		cmocka_unit_test(test_plain_and_port),
		cmocka_unit_test(test_hashed),
		cmocka_unit_test(test_add),
		cmocka_unit_test(test_fingerprint),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
