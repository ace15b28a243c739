/* test_knownhosts.c: strict host-key checking against real ssh-keygen output: plain,
 * [host]:port and hashed entries, changed keys, unknown hosts, junk lines, recording a
 * new key, the SHA256 fingerprint as ssh-keygen prints it, the @revoked and
 * @cert-authority markers (with their line numbers), malformed markers, CRLF files. */
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

/* The result for key 1 or 2 of host:port; *line (if not NULL) the deciding line. */
static enum kh_result
check_line(struct fx *f, const char *file, const char *host, int port, int which,
    size_t *line)
{
	enum kh_result r;
	size_t l = 99;
	char *cause = NULL;

	assert_int_equal(kh_check(f->s, file, host, port,
	    (const char *)(which == 1 ? f->blob1 : f->blob2), which == 1 ? f->len1 : f->len2,
	    LIBSSH2_HOSTKEY_TYPE_ED25519, &r, &l, &cause), 0);
	assert_null(cause);
	if (r != KH_REVOKED && r != KH_CERT_AUTHORITY)
		assert_int_equal(l, 0);
	if (line != NULL)
		*line = l;
	return r;
}

static enum kh_result
check(struct fx *f, const char *file, const char *host, int port, int which)
{
	return check_line(f, file, host, port, which, NULL);
}

/* The hashed name field ssh-keygen -H writes for name. */
static char *
hashed_name(struct fx *f, const char *name)
{
	char *content = xasprintf("%s %s\n", name, f->pub1);
	char *path = write_kh(f, "tohash", content), *cmd, *s, *cause = NULL;

	cmd = xasprintf("ssh-keygen -q -H -f %s >/dev/null 2>&1", path);
	assert_int_equal(system(cmd), 0);
	s = read_file(path, NULL, &cause);
	assert_non_null(s);
	assert_true(str_starts(s, "|1|"));
	s[strcspn(s, " ")] = '\0';
	free(cmd);
	free(path);
	free(content);
	return s;
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
	/* gw2 has no entry but the @cert-authority line's pattern covers it. */
	assert_int_equal(check(f, path, "gw2.example.org", 22, 1), KH_CERT_AUTHORITY);
	assert_int_equal(check(f, path, "gw2.example.net", 22, 1), KH_UNKNOWN);
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
	    LIBSSH2_HOSTKEY_TYPE_ED25519, false, &cause), 0);
	assert_int_equal(kh_add(path, "gw9", 22, (const char *)f->blob2, f->len2,
	    LIBSSH2_HOSTKEY_TYPE_ED25519, false, &cause), 0);
	assert_int_equal(check(f, path, "192.0.2.1", 2022, 1), KH_MATCH);
	assert_int_equal(check(f, path, "gw9", 22, 2), KH_MATCH);
	s = read_file(path, NULL, &cause);
	want = xasprintf("[192.0.2.1]:2022 %s\ngw9 %s\n", f->pub1, f->pub2);
	assert_string_equal(s, want);
	free(want);
	free(s);
	free(path);
}

/* HashKnownHosts: the name is written as |1|SALT|HASH, which we and ssh-keygen -F find
 * and which does not contain the name. */
static void
test_add_hashed(void **state)
{
	struct fx *f = *state;
	char *path = xasprintf("%s/hashed-add/known_hosts", f->dir), *cause = NULL, *s, *cmd;

	assert_int_equal(kh_add(path, "192.0.2.1", 2022, (const char *)f->blob1, f->len1,
	    LIBSSH2_HOSTKEY_TYPE_ED25519, true, &cause), 0);
	assert_int_equal(kh_add(path, "gw9", 22, (const char *)f->blob2, f->len2,
	    LIBSSH2_HOSTKEY_TYPE_ED25519, true, &cause), 0);
	s = read_file(path, NULL, &cause);
	assert_non_null(s);
	assert_true(strncmp(s, "|1|", 3) == 0);
	assert_non_null(strstr(s, "\n|1|"));
	assert_null(strstr(s, "192.0.2.1"));
	assert_null(strstr(s, "gw9"));
	assert_non_null(strstr(s, f->pub1));
	assert_non_null(strstr(s, f->pub2));
	assert_int_equal(check(f, path, "192.0.2.1", 2022, 1), KH_MATCH);
	assert_int_equal(check(f, path, "gw9", 22, 2), KH_MATCH);
	assert_int_equal(check(f, path, "gw9", 22, 1), KH_CHANGED);
	/* OpenSSH reads what we wrote. */
	cmd = xasprintf("ssh-keygen -F '[192.0.2.1]:2022' -f %s | grep -q '^|1|' && "
	    "ssh-keygen -F gw9 -f %s | grep -q '^|1|' && "
	    "! ssh-keygen -F gw8 -f %s >/dev/null", path, path, path);
	assert_int_equal(system(cmd), 0);
	free(cmd);
	free(s);
	free(path);
}

/* The user's file, then the system's: a match in either, a changed key in either. */
static void
test_check_files(void **state)
{
	struct fx *f = *state;
	char *c1 = xasprintf("gw1 %s\n", f->pub1), *c2 = xasprintf("gw2 %s\n", f->pub2);
	char *user = write_kh(f, "user_kh", c1), *sys = write_kh(f, "sys_kh", c2);
	char *missing = xasprintf("%s/nothing", f->dir), *cause = NULL;
	const char *files[] = { missing, user, sys };
	enum kh_result r;
	size_t which, line;

	assert_int_equal(kh_check_files(f->s, files, 3, "gw2", 22, (const char *)f->blob2,
	    f->len2, LIBSSH2_HOSTKEY_TYPE_ED25519, &r, &which, &line, &cause), 0);
	assert_int_equal(r, KH_MATCH);
	assert_int_equal(which, 2);
	assert_int_equal(kh_check_files(f->s, files, 3, "gw2", 22, (const char *)f->blob1,
	    f->len1, LIBSSH2_HOSTKEY_TYPE_ED25519, &r, &which, &line, &cause), 0);
	assert_int_equal(r, KH_CHANGED);
	assert_int_equal(which, 2);
	assert_int_equal(kh_check_files(f->s, files, 3, "gw3", 22, (const char *)f->blob1,
	    f->len1, LIBSSH2_HOSTKEY_TYPE_ED25519, &r, &which, &line, &cause), 0);
	assert_int_equal(r, KH_UNKNOWN);
	/* Only the system file knows gw2: without it, unknown. */
	assert_int_equal(kh_check_files(f->s, files, 2, "gw2", 22, (const char *)f->blob2,
	    f->len2, LIBSSH2_HOSTKEY_TYPE_ED25519, &r, &which, &line, &cause), 0);
	assert_int_equal(r, KH_UNKNOWN);
	assert_null(cause);
	free(c1);
	free(c2);
	free(user);
	free(sys);
	free(missing);
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

static void
test_revoked_alone(void **state)
{
	struct fx *f = *state;
	char *content = xasprintf("# revoked after the break-in\n@revoked gw1 %s\n", f->pub1);
	char *path = write_kh(f, "rev1", content);
	size_t line;

	assert_int_equal(check_line(f, path, "gw1", 22, 1, &line), KH_REVOKED);
	assert_int_equal(line, 2);
	/* Another key of the same host is simply unknown. */
	assert_int_equal(check(f, path, "gw1", 22, 2), KH_UNKNOWN);
	free(path);
	free(content);
}

static void
test_revoked_and_accepted(void **state)
{
	struct fx *f = *state;
	char *content = xasprintf("gw1 %s\n[10.0.0.5]:2222 %s\n\n@revoked gw1 %s\n"
	    "gw2 %s\n", f->pub1, f->pub1, f->pub1, f->pub2);
	char *path = write_kh(f, "rev2", content), *first;
	size_t line;

	assert_int_equal(check_line(f, path, "gw1", 22, 1, &line), KH_REVOKED);
	assert_int_equal(line, 4);
	/* The revocation is of the key, not of the name gw1. */
	assert_int_equal(check_line(f, path, "10.0.0.5", 2222, 1, &line), KH_REVOKED);
	assert_int_equal(line, 4);
	assert_int_equal(check(f, path, "gw2", 22, 2), KH_MATCH);
	/* The @revoked line first, the accepting line after it: the same. */
	first = xasprintf("@revoked * %s\ngw1 %s\n", f->pub2, f->pub2);
	free(path);
	path = write_kh(f, "rev3", first);
	assert_int_equal(check_line(f, path, "gw1", 22, 2, &line), KH_REVOKED);
	assert_int_equal(line, 1);
	free(first);
	free(path);
	free(content);
}

static void
test_revoked_other_pattern(void **state)
{
	struct fx *f = *state;
	char *h = hashed_name(f, "[192.0.2.7]:2200");
	char *content = xasprintf("[10.0.0.5]:2222 %s\n@revoked old-gw.example.org %s\n"
	    "%s %s\n@revoked %s %s\n", f->pub1, f->pub1, h, f->pub2, h, f->pub2);
	char *path = write_kh(f, "rev4", content);
	size_t line;

	/* Listed as revoked for another name: still refused. */
	assert_int_equal(check_line(f, path, "10.0.0.5", 2222, 1, &line), KH_REVOKED);
	assert_int_equal(line, 2);
	/* Hashed host names on @revoked lines, and for a name no line lists. */
	assert_int_equal(check_line(f, path, "192.0.2.7", 2200, 2, &line), KH_REVOKED);
	assert_int_equal(line, 4);
	assert_int_equal(check_line(f, path, "gw9", 22, 2, &line), KH_REVOKED);
	assert_int_equal(line, 4);
	free(path);
	free(content);
	free(h);
}

static void
test_cert_authority(void **state)
{
	struct fx *f = *state;
	char *h = hashed_name(f, "[192.0.2.7]:2200");
	char *content = xasprintf("@cert-authority *.example.org,!gw3.example.org %s\n"
	    "@cert-authority [*.lab]:2222 %s\n# hashed\n@cert-authority %s %s\n"
	    "gw1.example.org %s\n", f->pub2, f->pub2, h, f->pub2, f->pub1);
	char *path = write_kh(f, "ca", content);
	size_t line;

	assert_int_equal(check_line(f, path, "gw2.example.org", 22, 1, &line),
	    KH_CERT_AUTHORITY);
	assert_int_equal(line, 1);
	assert_int_equal(check(f, path, "GW2.Example.ORG", 22, 1), KH_CERT_AUTHORITY);
	/* A negated pattern takes the line away from that host. */
	assert_int_equal(check(f, path, "gw3.example.org", 22, 1), KH_UNKNOWN);
	assert_int_equal(check(f, path, "example.org", 22, 1), KH_UNKNOWN);
	assert_int_equal(check_line(f, path, "m.lab", 2222, 1, &line), KH_CERT_AUTHORITY);
	assert_int_equal(line, 2);
	assert_int_equal(check(f, path, "m.lab", 22, 1), KH_UNKNOWN);
	assert_int_equal(check_line(f, path, "192.0.2.7", 2200, 1, &line), KH_CERT_AUTHORITY);
	assert_int_equal(line, 4);
	assert_int_equal(check(f, path, "192.0.2.7", 22, 1), KH_UNKNOWN);
	/* A host with its own key entry is checked against that entry. */
	assert_int_equal(check(f, path, "gw1.example.org", 22, 1), KH_MATCH);
	assert_int_equal(check(f, path, "gw1.example.org", 22, 2), KH_CHANGED);
	free(path);
	free(content);
	free(h);
}

static void
test_marker_garbage(void **state)
{
	struct fx *f = *state;
	char *b64 = strchr(f->pub1, ' ') + 1;
	char *content = xasprintf("@revoked gw1 ssh-ed25519 !!not*base64!!\n"
	    "@revoked gw1 ssh-ed25519 %.20s\n@revokedx gw1 %s\n@REVOKED gw1 %s\n"
	    "@bogus gw1 %s\n@cert-authority gw2 ssh-rsa %s\n@cert-authority gw2 %s junk "
	    "after the key\n@ revoked gw1 %s\ngw1 %s\n", b64, f->pub1, f->pub1, f->pub1, b64,
	    f->pub1, f->pub1, f->pub1);
	char *path = write_kh(f, "garbage", content);

	/* No line here revokes key 1: bad base64, a cut key, unknown markers. */
	assert_int_equal(check(f, path, "gw1", 22, 1), KH_MATCH);
	/* A CA line whose type does not match its key is not a CA line; trailing
	 * words are a comment. */
	assert_int_equal(check(f, path, "gw2", 22, 1), KH_CERT_AUTHORITY);
	free(content);
	free(path);
	content = xasprintf("@cert-authority gw2 ssh-rsa %s\n", b64);
	path = write_kh(f, "garbage2", content);
	assert_int_equal(check(f, path, "gw2", 22, 1), KH_UNKNOWN);
	free(content);
	free(path);
}

static void
test_marker_no_key(void **state)
{
	struct fx *f = *state;
	char *content = xasprintf("@revoked\n@revoked gw1\n@revoked gw1 ssh-ed25519\n"
	    "@cert-authority\n@cert-authority gw2\n@cert-authority gw2 ssh-ed25519 \n"
	    "   @revoked   \ngw1 %s\n", f->pub1);
	char *path = write_kh(f, "nokey", content);

	assert_int_equal(check(f, path, "gw1", 22, 1), KH_MATCH);
	assert_int_equal(check(f, path, "gw2", 22, 1), KH_UNKNOWN);
	free(path);
	free(content);
}

static void
test_crlf(void **state)
{
	struct fx *f = *state;
	char *content = xasprintf("# written on Windows\r\ngw1 %s\r\n@revoked * %s\r\n"
	    "[10.0.0.5]:2222 %s \r\n@cert-authority *.lab %s\r\n", f->pub1, f->pub2, f->pub1,
	    f->pub2);
	char *path = write_kh(f, "crlf", content);
	size_t line;

	assert_int_equal(check(f, path, "gw1", 22, 1), KH_MATCH);
	assert_int_equal(check_line(f, path, "gw1", 22, 2, &line), KH_REVOKED);
	assert_int_equal(line, 3);
	assert_int_equal(check(f, path, "10.0.0.5", 2222, 1), KH_MATCH);
	assert_int_equal(check_line(f, path, "x.lab", 22, 1, &line), KH_CERT_AUTHORITY);
	assert_int_equal(line, 5);
	free(path);
	free(content);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_missing_file),
		cmocka_unit_test(test_plain_and_port),
		cmocka_unit_test(test_hashed),
		cmocka_unit_test(test_add),
		cmocka_unit_test(test_add_hashed),
		cmocka_unit_test(test_check_files),
		cmocka_unit_test(test_fingerprint),
		cmocka_unit_test(test_revoked_alone),
		cmocka_unit_test(test_revoked_and_accepted),
		cmocka_unit_test(test_revoked_other_pattern),
		cmocka_unit_test(test_cert_authority),
		cmocka_unit_test(test_marker_garbage),
		cmocka_unit_test(test_marker_no_key),
		cmocka_unit_test(test_crlf),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
