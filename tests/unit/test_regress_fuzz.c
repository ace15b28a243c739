/* test_regress_fuzz.c: regressions found by the fuzzers (tests/fuzz/), each as a small
 * explicit test, plus every saved crashing input in tests/fuzz/regress/<target>/
 * replayed through the same checks the fuzz target makes (run from the source tree,
 * as tests/run.sh does). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "profiles/hdrtest.h"
#include "profiles/ini.h"
#include "profiles/site.h"

#define REGRESS_DIR "tests/fuzz/regress"

static char *
roundtrip(const char *in, size_t len, size_t *outlen)
{
	struct ini ini;
	struct diags d = { 0 };
	char *out;

	ini_parse(&ini, "t.ini", in, len, &d);
	out = ini_serialize(&ini, outlen);
	ini_free(&ini);
	diags_free(&d);
	return out;
}

/* fuzz_profile: a CRLF file lost its \r and a UTF-8 BOM was dropped on save. */
static void
test_crlf_bom_roundtrip(void **state)
{
	static const char in[] = "\xef\xbb\xbf[site]\r\nname = x ; c\r\n\r\n[tls]\r\ndane = yes\r";
	size_t len;
	char *out = roundtrip(in, sizeof in - 1, &len);

	assert_int_equal(len, sizeof in - 1);
	assert_memory_equal(out, in, len);
	free(out);
}

/* New lines in a CRLF file are CRLF too; only the edited line changes. */
static void
test_crlf_edit(void **state)
{
	static const char in[] = "[site]\r\nname = x ; c\r\n";
	struct ini ini;
	struct diags d = { 0 };
	size_t len;
	char *out;

	ini_parse(&ini, "t.ini", in, sizeof in - 1, &d);
	assert_int_equal(d.nerrors, 0);
	ini_set(&ini, "site", NULL, "name", "y");
	ini_set(&ini, "site", NULL, "domain", "example.org");
	out = ini_serialize(&ini, &len);
	assert_string_equal(out, "[site]\r\nname = y ; c\r\ndomain = example.org\r\n");
	free(out);
	ini_free(&ini);
	diags_free(&d);
}

/* fuzz_profile: ini_set() of a value ending in \r. Control characters are refused in
 * values, so the line reads back as a finding, never as a value silently changed. */
static void
test_value_trailing_cr(void **state)
{
	struct ini ini, re;
	struct diags d = { 0 }, d2 = { 0 };
	size_t len;
	char *out;
	long k;

	ini_parse(&ini, "t.ini", "[site]\n", 7, &d);
	k = ini_set(&ini, "site", NULL, "name", "e]\r");
	assert_int_equal(ini.line[k].kind, INI_BAD);
	out = ini_serialize(&ini, &len);
	ini_parse(&re, "t.ini", out, len, &d2);
	assert_int_equal(d2.nerrors, 1);
	assert_non_null(strstr(d2.v[0].msg, "control character"));
	free(out);
	ini_free(&ini);
	ini_free(&re);
	diags_free(&d);
	diags_free(&d2);
}

/* security-render.sh: a quoted value could carry "\n" into line-based output files. */
static void
test_control_in_value(void **state)
{
	static const char *const bad[] = {
		"[site]\nname = \"a\\nmyhostname = evil\"\n",
		"[site]\nname = a\rmyhostname = evil\n",
		"[site]\nname = a\033]0;x\007\n",
		"[host \"gw\\n1\"]\naddress = local\n",
	};

	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		struct site site;
		struct diags d = { 0 };
		int found = 0;

		assert_int_equal(site_load_buf(&site, "/nonexistent/t.ini", bad[i],
		    strlen(bad[i]), &d), -1);
		for (size_t j = 0; j < d.n; j++)
			found |= strstr(d.v[j].msg, "control character") != NULL;
		if (!found)
			fail_msg("case %zu: no control-character error", i);
		site_free(&site);
		diags_free(&d);
	}
}

/* security-hostile-reply.sh: JSON stays valid UTF-8 whatever a server sent. */
static void
test_json_utf8(void **state)
{
	struct sbuf b;

	sb_init(&b);
	sb_json_string(&b, "a\x9b" "1;1H\xc2\x9b" "b\xc3\xa4\xe2\x80\x99\xed\xa0\x80\xc0\xaf\x1b");
	assert_string_equal(b.s, "\"a\\ufffd1;1H\\u009bb\xc3\xa4\xe2\x80\x99"
	    "\\ufffd\\ufffd\\ufffd\\ufffd\\ufffd\\u001b\"");
	sb_free(&b);
}

static void
test_printable(void **state)
{
	char *s = str_printable("220 \x1b]0;x\x07 ok\r\x9b\xc2\x9b\tt\xc3\xa4\x7f");

	assert_string_equal(s, "220 \\x1b]0;x\\x07 ok\\x0d\\x9b\\xc2\\x9b\tt\xc3\xa4\\x7f");
	free(s);
}

/* security-modes: the profile save's temporary file never writes through a planted
 * symlink (its name, PATH.mxdeck-tmp.PID, is predictable). */
static void
test_atomic_write_symlink(void **state)
{
	char dir[] = "/tmp/mxdeck-regress.XXXXXX", *path, *tmp, *victim, *cause = NULL, *got;
	size_t len;

	assert_non_null(mkdtemp(dir));
	path = xasprintf("%s/site.ini", dir);
	victim = xasprintf("%s/victim", dir);
	tmp = xasprintf("%s.mxdeck-tmp.%ld", path, (long)getpid());
	assert_int_equal(write_file_atomic(victim, "keep", 4, 0600, &cause), 0);
	assert_int_equal(symlink(victim, tmp), 0);
	assert_int_equal(write_file_atomic(path, "[site]\n", 7, 0640, &cause), 0);
	got = read_file(victim, &len, &cause);
	assert_string_equal(got, "keep");
	free(got);
	got = read_file(path, &len, &cause);
	assert_string_equal(got, "[site]\n");
	free(got);
	unlink(path);
	unlink(victim);
	unlink(tmp);
	rmdir(dir);
	free(path);
	free(victim);
	free(tmp);
}

/* SECURITY.md §3: a saved profile and its backup (.bak.1) keep the file's mode. */
static void
test_save_modes(void **state)
{
	char dir[] = "/tmp/mxdeck-regress.XXXXXX", *path, *bak, *cause = NULL;
	struct ini ini;
	struct diags d = { 0 };
	struct stat st;

	assert_non_null(mkdtemp(dir));
	path = xasprintf("%s/site.ini", dir);
	bak = xasprintf("%s.bak.1", path);
	assert_int_equal(write_file_atomic(path, "[site]\nname = a\n", 16, 0640, &cause), 0);
	ini_parse(&ini, path, "[site]\nname = a\n", 16, &d);
	ini_set(&ini, "site", NULL, "name", "b");
	assert_int_equal(ini_save(&ini, path, &cause), 0);
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0640);
	assert_int_equal(stat(bak, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0640);
	ini_free(&ini);
	diags_free(&d);
	unlink(path);
	unlink(bak);
	rmdir(dir);
	free(path);
	free(bak);
}

/* The fuzz_profile checks, for one saved input. */
static void
replay_profile(const char *path, const char *buf, size_t len)
{
	struct site site;
	struct diags d = { 0 };
	FILE *devnull = fopen("/dev/null", "w");

	assert_non_null(devnull);
	(void)site_load_buf(&site, "/nonexistent/mxdeck-fuzz/profile.ini", buf, len, &d);
	site_lint(&site, &d);
	diags_sort(&d);
	diags_print(&d, devnull);
	fclose(devnull);
	if (memchr(buf, '\0', len) == NULL) {
		size_t olen;
		char *out = ini_serialize(&site.ini, &olen);

		if (olen != len || memcmp(out, buf, len) != 0)
			fail_msg("%s: ini_serialize(ini_parse(x)) != x", path);
		free(out);
	}
	site_free(&site);
	diags_free(&d);
}

static void
replay_users_csv(const char *path, const char *buf, size_t len)
{
	struct site site;
	struct diags d = { 0 };

	(void)path;
	memset(&site, 0, sizeof site);
	(void)users_csv_parse(&site, "/nonexistent/users.csv", buf, len, &d);
	for (size_t i = 0; i < site.nusers; i++)
		assert_ptr_equal(site_find_user(&site, site.users[i].email), &site.users[i]);
	site_free(&site);
	diags_free(&d);
}

static void
replay_hdrrule(const char *path, const char *buf, size_t len)
{
	const char *nl = memchr(buf, '\n', len);
	struct header_rule r = { 0 };
	struct hdrtest t;
	char *cause = NULL;

	(void)path;
	r.text = strndup(buf, nl != NULL ? (size_t)(nl - buf) : len);
	if (hdr_rule_parse(&r, &cause) == -1)
		free(cause);
	hdrtest_run(&r, 1, nl != NULL ? nl + 1 : buf + len,
	    nl != NULL ? len - (size_t)(nl - buf) - 1 : 0, &t);
	hdrtest_free(&t);
	free(r.text);
	free(r.regex);
	free(r.flags);
	free(r.action_name);
	free(r.arg);
}

static const struct {
	const char *target;
	void (*replay)(const char *, const char *, size_t);
} replays[] = {
	{ "profile", replay_profile },
	{ "users_csv", replay_users_csv },
	{ "hdrrule", replay_hdrrule },
};

static void
test_saved_inputs(void **state)
{
	size_t total = 0;

	for (size_t i = 0; i < sizeof replays / sizeof replays[0]; i++) {
		char *dir = xasprintf("%s/%s", REGRESS_DIR, replays[i].target);
		DIR *dp = opendir(dir);
		struct dirent *de;

		if (dp == NULL) {
			free(dir);
			continue;
		}
		while ((de = readdir(dp)) != NULL) {
			char *path, *buf, *cause = NULL;
			size_t len;

			if (de->d_name[0] == '.')
				continue;
			path = xasprintf("%s/%s", dir, de->d_name);
			if ((buf = read_file(path, &len, &cause)) == NULL)
				fail_msg("%s", cause);
			replays[i].replay(path, buf, len);
			total++;
			free(buf);
			free(path);
		}
		closedir(dp);
		free(dir);
	}
	/* Run from the source tree: the saved inputs must have been found. */
	if (total == 0)
		fail_msg("no saved fuzz inputs under %s (run from the source tree)",
		    REGRESS_DIR);
	print_message("replayed %zu saved fuzz inputs\n", total);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_crlf_bom_roundtrip),
		cmocka_unit_test(test_crlf_edit),
		cmocka_unit_test(test_value_trailing_cr),
		cmocka_unit_test(test_saved_inputs),
		cmocka_unit_test(test_control_in_value),
		cmocka_unit_test(test_json_utf8),
		cmocka_unit_test(test_printable),
		cmocka_unit_test(test_atomic_write_symlink),
		cmocka_unit_test(test_save_modes),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
