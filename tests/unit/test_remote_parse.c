/* test_remote_parse.c: the parsers of what a host sends back to push
 * (backends/ssh/remote-parse.c): real Postfix 3.7 output (postconf NAME..., -M, -P,
 * -h mail_version, captured from Debian's postfix 3.7.11 with a submission service and
 * its -o options), the files push itself writes on the host (lock owner, temps, txn,
 * backup manifest), the reload status lines and the backup directory listing; then
 * hostile forms of each: embedded NULs, no newline at the end, 1 MB lines, CRLF, values
 * with '=', missing fields, non-numeric and huge numbers. Last, every input saved in
 * tests/fuzz/regress/remote/ and tests/fuzz/corpus/remote/ is replayed through the
 * checks of tests/fuzz/fuzz_remote.c (included below, so they are the same code). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "backends/ssh/remote-parse.h"
#include "profiles/site.h"

/* The fuzz target's property checks; LLVMFuzzerTestOneInput() aborts on a violation. */
#include "tests/fuzz/fuzz_remote.c"

#define S(lit)	(lit), (sizeof(lit) - 1)
#define MB	(1024 * 1024)

static const char *
kv_get(const struct rp_kvs *kv, const char *key)
{
	for (size_t i = 0; i < kv->n; i++)
		if (strcmp(kv->v[i].key, key) == 0)
			return kv->v[i].value;
	return NULL;
}

/* ---- real output of postconf 3.7.11 ---- */

static const char real_main[] =
    "smtpd_tls_protocols = >=TLSv1.2\n"
    "mydestination = $myhostname, vm, localhost.localdomain, , localhost\n"
    "smtpd_relay_restrictions = permit_mynetworks permit_sasl_authenticated "
    "defer_unauth_destination\n"
    "myhostname = vm\n";

static const char real_master[] =
    "smtp       inet  n       -       y       -       -       smtpd\n"
    "submission inet  n       -       y       -       -       smtpd -o syslog_name="
    "postfix/submission -o smtpd_tls_security_level=encrypt -o smtpd_client_restrictions="
    "permit_sasl_authenticated,reject -o cleanup_service_name=msa_cleanup\n"
    "msa_cleanup unix n       -       y       -       0       cleanup\n"
    "tlsmgr     unix  -       -       y       1000?   1       tlsmgr\n"
    "maildrop   unix  -       n       n       -       -       pipe flags=DRXhu "
    "user=vmail argv=/usr/bin/maildrop -d ${recipient}\n";

static const char real_param[] =
    "relay/unix/syslog_name = postfix/$service_name\n"
    "submission/inet/cleanup_service_name = msa_cleanup\n"
    "submission/inet/smtpd_client_restrictions = permit_sasl_authenticated,reject\n"
    "submission/inet/smtpd_tls_security_level = encrypt\n"
    "submission/inet/syslog_name = postfix/submission\n";

static void
test_postconf_real(void **state)
{
	struct rp_kvs kv = { 0 };

	assert_int_equal(rp_postconf_parse(RP_POSTCONF_MAIN, S(real_main), &kv), 4);
	assert_string_equal(kv_get(&kv, "smtpd_tls_protocols"), ">=TLSv1.2");
	assert_string_equal(kv_get(&kv, "mydestination"),
	    "$myhostname, vm, localhost.localdomain, , localhost");
	assert_string_equal(kv_get(&kv, "myhostname"), "vm");
	rp_kvs_free(&kv);

	assert_int_equal(rp_postconf_parse(RP_POSTCONF_MASTER, S(real_master), &kv), 5);
	assert_string_equal(kv_get(&kv, "smtp/inet"), "smtp inet n - y - - smtpd");
	/* -o options are the -P lines' business */
	assert_string_equal(kv_get(&kv, "submission/inet"), "submission inet n - y - - smtpd");
	assert_string_equal(kv_get(&kv, "msa_cleanup/unix"), "msa_cleanup unix n - y - 0 cleanup");
	assert_string_equal(kv_get(&kv, "tlsmgr/unix"), "tlsmgr unix - - y 1000? 1 tlsmgr");
	assert_string_equal(kv_get(&kv, "maildrop/unix"), "maildrop unix - n n - - pipe "
	    "flags=DRXhu user=vmail argv=/usr/bin/maildrop -d ${recipient}");
	rp_kvs_free(&kv);

	assert_int_equal(rp_postconf_parse(RP_POSTCONF_PARAM, S(real_param), &kv), 5);
	assert_string_equal(kv_get(&kv, "submission/inet/syslog_name"), "postfix/submission");
	assert_string_equal(kv_get(&kv, "submission/inet/smtpd_client_restrictions"),
	    "permit_sasl_authenticated,reject");
	assert_string_equal(kv_get(&kv, "relay/unix/syslog_name"), "postfix/$service_name");
	rp_kvs_free(&kv);
}

static void
test_postconf_hostile(void **state)
{
	struct rp_kvs kv = { 0 };
	char *big;

	/* No newline at the end, CRLF, a value holding '=' and " = ", an empty value. */
	assert_int_equal(rp_postconf_parse(RP_POSTCONF_MAIN, S("a = b = c\r\n"
	    "crlf = x\r\nempty =\ntabs = \t one \t two\t\nlast = 1"), &kv), 5);
	assert_string_equal(kv_get(&kv, "a"), "b = c");
	assert_string_equal(kv_get(&kv, "crlf"), "x");
	assert_string_equal(kv_get(&kv, "empty"), "");
	assert_string_equal(kv_get(&kv, "tabs"), "one two");
	assert_string_equal(kv_get(&kv, "last"), "1");
	rp_kvs_free(&kv);

	/* Missing fields: no " =", an empty key, "key=value" without blanks (postconf
	 * never prints it), blank lines. */
	assert_int_equal(rp_postconf_parse(RP_POSTCONF_MAIN, S("novalue\n = x\nk=v\n\n\n"
	    "postconf: warning: /etc/postfix/main.cf: unused parameter: x=y\n"), &kv), 0);
	rp_kvs_free(&kv);

	/* An embedded NUL skips its line, not the rest (strtok on a C string used to). */
	assert_int_equal(rp_postconf_parse(RP_POSTCONF_MAIN, S("a = 1\nb = x\0y\nc = 3\n"),
	    &kv), 2);
	assert_string_equal(kv_get(&kv, "a"), "1");
	assert_null(kv_get(&kv, "b"));
	assert_string_equal(kv_get(&kv, "c"), "3");
	rp_kvs_free(&kv);
	assert_int_equal(rp_postconf_parse(RP_POSTCONF_MASTER, S("smtp inet n\0 - smtpd\n"
	    "pickup unix n - y 60 1 pickup"), &kv), 1);
	assert_string_equal(kv_get(&kv, "pickup/unix"), "pickup unix n - y 60 1 pickup");
	rp_kvs_free(&kv);

	/* master.cf: fewer than three words, a '/' in the name or type. */
	assert_int_equal(rp_postconf_parse(RP_POSTCONF_MASTER, S("smtp inet\nsmtp\n"
	    "a/b inet n\nsmtp in/et n\n  \t\n"), &kv), 0);
	rp_kvs_free(&kv);
	assert_int_equal(rp_postconf_parse(RP_POSTCONF_MASTER, NULL, 0, &kv), 0);
	rp_kvs_free(&kv);

	/* A 1 MB value on a line with no newline at the end. */
	big = malloc(MB + 16);
	assert_non_null(big);
	memcpy(big, "huge = ", 7);
	memset(big + 7, 'x', MB);
	assert_int_equal(rp_postconf_parse(RP_POSTCONF_MAIN, big, MB + 7, &kv), 1);
	assert_int_equal(strlen(kv_get(&kv, "huge")), MB);
	rp_kvs_free(&kv);
	/* A 1 MB master.cf entry of "-o" words. */
	memcpy(big, "smtp inet n", 11);
	for (size_t i = 11; i + 3 <= MB; i += 3)
		memcpy(big + i, " -o", 3);
	assert_int_equal(rp_postconf_parse(RP_POSTCONF_MASTER, big, MB - (MB - 11) % 3, &kv), 1);
	assert_string_equal(kv_get(&kv, "smtp/inet"), "smtp inet n");
	rp_kvs_free(&kv);
	free(big);
}

static void
test_normalize_strip_o(void **state)
{
	char *s;

	s = rp_normalize(S(" \t a \r\n b\0c \v\f"));
	assert_string_equal(s, "a b c");
	free(s);
	s = rp_normalize(NULL, 0);
	assert_string_equal(s, "");
	free(s);
	s = rp_strip_o("smtpd -o a=b -oc=d -o");
	assert_string_equal(s, "smtpd");
	free(s);
	s = rp_strip_o("pipe flags=R -x -opt argv=/bin/o -o");
	assert_string_equal(s, "pipe flags=R -x argv=/bin/o");
	free(s);
}

static void
test_mail_version(void **state)
{
	static const char *const bad[] = { "", "\n", "postconf: fatal: open /x/main.cf: No "
	    "such file or directory\n", "3.7 3.8\n", "\x1b[31m3.7\n", "v3.7\n", "3.7;rm\n",
	    "-3.7\n" };
	char *v, *big;

	v = rp_mail_version(S("3.7.11\n"));
	assert_string_equal(v, "3.7.11");
	assert_true(postfix_version_cmp(v, "3.6") > 0);
	assert_true(postfix_version_cmp(v, "3.4") > 0);
	assert_true(postfix_version_cmp(v, "3.10") < 0);
	free(v);
	v = rp_mail_version(S("  3.8-20221006\r\n"));
	assert_string_equal(v, "3.8-20221006");
	assert_int_equal(postfix_version_cmp(v, "3.8"), 0);
	free(v);
	v = rp_mail_version(S("3.7\0"));	/* a trailing NUL is a blank */
	assert_string_equal(v, "3.7");
	free(v);
	assert_null(rp_mail_version(S("3.7\0evil\n")));
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
		if (rp_mail_version(bad[i], strlen(bad[i])) != NULL)
			fail_msg("mail_version '%s' accepted", bad[i]);
	big = malloc(MB);
	assert_non_null(big);
	memset(big, '3', MB);
	assert_null(rp_mail_version(big, MB));
	assert_non_null(v = rp_mail_version(big, 64));
	/* huge numeric components compare without overflow */
	assert_int_equal(postfix_version_cmp(v, v), 0);
	assert_true(postfix_version_cmp(v, "3.7") > 0);
	free(v);
	free(big);
}

static void
test_owner(void **state)
{
	static const char owner[] = "pid=4242\ncontroller=ctl.example.org\nhost=h1\n"
	    "time=2026-11-23T01:35:00Z\nepoch=1795397700\n";
	char *v;
	long pid = 0;

	v = rp_owner_field(S(owner), "pid");
	assert_string_equal(v, "4242");
	assert_int_equal(rp_parse_pid(v, &pid), 0);
	assert_int_equal(pid, 4242);
	free(v);
	v = rp_owner_field(S(owner), "controller");
	assert_string_equal(v, "ctl.example.org");
	free(v);
	assert_null(rp_owner_field(S(owner), "pi"));
	assert_null(rp_owner_field(S(owner), "user"));
	assert_null(rp_owner_field(NULL, 0, "pid"));
	/* CRLF, no newline at the end, a NUL line skipped for the next one, "key=" */
	v = rp_owner_field(S("time=x\r\npid=7"), "pid");
	assert_string_equal(v, "7");
	free(v);
	v = rp_owner_field(S("time=x\r\npid=7"), "time");
	assert_string_equal(v, "x");
	free(v);
	v = rp_owner_field(S("pid=6\0 6\npid=8\n"), "pid");
	assert_string_equal(v, "8");
	free(v);
	v = rp_owner_field(S("pid=\n"), "pid");
	assert_string_equal(v, "");
	assert_int_equal(rp_parse_pid(v, &pid), -1);
	free(v);

	pid = 5;
	assert_int_equal(rp_parse_pid("0", &pid), -1);
	assert_int_equal(rp_parse_pid("-1", &pid), -1);	/* kill(-1, 0) must never happen */
	assert_int_equal(rp_parse_pid("+1", &pid), -1);
	assert_int_equal(rp_parse_pid(" 1", &pid), -1);
	assert_int_equal(rp_parse_pid("12a", &pid), -1);
	assert_int_equal(rp_parse_pid("2147483648", &pid), -1);
	assert_int_equal(rp_parse_pid("99999999999999999999999", &pid), -1);
	assert_int_equal(pid, 5);
	assert_int_equal(rp_parse_pid("2147483647", &pid), 0);
	assert_int_equal(pid, 2147483647);
}

static void
test_pct(void **state)
{
	static const char *const rt[] = { "/etc/postfix/main.cf", "a b%c\n'\"$(x)", "\xff\x01",
	    "%", "%41", "" };
	struct strv l = { 0 };
	char *s;

	s = rp_pct_decode(S("/a%20b%2f%41"));
	assert_string_equal(s, "/a b/A");
	free(s);
	s = rp_pct_decode(S("%zz%4%"));	/* not escapes: kept (was decoded to NUL bytes) */
	assert_string_equal(s, "%zz%4%");
	free(s);
	s = rp_pct_decode(S("%4g"));
	assert_string_equal(s, "%4g");
	free(s);
	assert_null(rp_pct_decode(S("/etc/x%00y")));
	assert_null(rp_pct_decode(S("/etc/x\0y")));
	for (size_t i = 0; i < sizeof rt / sizeof rt[0]; i++) {
		struct sbuf b;

		sb_init(&b);
		sb_add(&b, "");
		rp_pct_encode(&b, rt[i]);
		assert_int_equal(strspn(b.s, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
		    "0123456789/._-%"), b.len);
		s = rp_pct_decode(b.s, b.len);
		assert_string_equal(s, rt[i]);
		free(s);
		sb_free(&b);
	}
	rp_pct_lines(S("/etc/a.tmp\r\n\n/etc/b%00\n/etc/c%20d.tmp"), &l);
	assert_int_equal(l.n, 2);
	assert_string_equal(l.v[0], "/etc/a.tmp");
	assert_string_equal(l.v[1], "/etc/c d.tmp");
	strv_free(&l);
}

static void
test_txn_journal(void **state)
{
	static const char h1[] = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";
	struct strv post = { 0 };
	struct sbuf b;
	char *bk;

	(void)state;
	/* as push writes it: each line percent-encoded */
	sb_init(&b);
	sb_add(&b, "");
	rp_pct_encode(&b, "/var/lib/mxdeck/backup/20261202T120000Z-42");
	sb_addc(&b, '\n');
	rp_pct_encode(&b, "POST 0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef "
	    "/etc/postfix/a b");
	sb_add(&b, "\r\n");
	/* hostile or broken lines: skipped */
	sb_add(&b, "POST%20XYZ%20/etc/x\n");				/* not hex */
	sb_add(&b, "POST%200123456789abcdef%20/etc/short\n");		/* short hash */
	sb_add(&b, "POST%200123456789ABCDEF0123456789abcdef0123456789abcdef0123456789abcdef%20/x\n");
	sb_add(&b, "POST%200123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef%20\n");
	sb_add(&b, "POST%20");
	sb_add(&b, h1);
	sb_add(&b, "%20/etc/nul%00\n");					/* NUL */
	rp_txn_parse(b.s, b.len, &bk, &post);
	assert_string_equal(bk, "/var/lib/mxdeck/backup/20261202T120000Z-42");
	assert_int_equal(post.n, 1);
	assert_memory_equal(post.v[0], h1, 64);
	assert_string_equal(post.v[0] + 65, "/etc/postfix/a b");
	free(bk);
	strv_free(&post);
	sb_free(&b);
	/* the old mark (one line) and an empty one */
	rp_txn_parse(S("/var/lib/mxdeck/backup/x\n"), &bk, &post);
	assert_string_equal(bk, "/var/lib/mxdeck/backup/x");
	assert_int_equal(post.n, 0);
	free(bk);
	rp_txn_parse(S(""), &bk, &post);
	assert_null(bk);
	rp_txn_parse(NULL, 0, &bk, &post);
	assert_null(bk);

	/* the journal: a whole " backup=WORD " field only */
	{
		static const char j[] = "2026-12-02T12:00:00Z apply host=gw1 profile=sha256:ab "
		    "backup=/s/backup/20261202T120000Z-42 changes=2 /etc/a post=aa,bb\n"
		    "2026-12-02T12:01:00Z apply host=gw1 profile=- backup=/s/backup/my%20dir "
		    "changes=0\n";

		assert_true(rp_journal_has_backup(S(j), "/s/backup/20261202T120000Z-42"));
		assert_true(rp_journal_has_backup(S(j), "/s/backup/my dir"));
		assert_false(rp_journal_has_backup(S(j), "/s/backup/20261202T120000Z-4"));
		assert_false(rp_journal_has_backup(S(j), "/s/backup/20261202T120000Z"));
		assert_false(rp_journal_has_backup(S(j), "/s/backup/my"));
		assert_false(rp_journal_has_backup(S(j), ""));
		assert_false(rp_journal_has_backup(NULL, 0, "/s/backup/x"));
		assert_false(rp_journal_has_backup(S("backup=/s/b "), "/s/b"));	/* no blank */
	}
}

static void
test_manifest(void **state)
{
	static const char real[] = "F 644 0 /etc/postfix/main.cf 0 0\n"
	    "F 640 1 /etc/postfix/mxdeck_always_accept 0 108\n"
	    "N /etc/postfix/mxdeck.postconf\n"
	    "NL /etc/apache2/sites-enabled/mxdeck-mail.example.org.conf\n"
	    "L ../sites-available/old.conf /etc/apache2/sites-enabled/x%20y.conf\n"
	    "D /etc/postfix/mxdeck\n"
	    "F 600 2 /old/format/without/owner\n";
	struct rp_manifest m = { 0 };

	assert_int_equal(rp_manifest_parse(S(real), &m), 0);
	assert_int_equal(m.n, 7);
	assert_int_equal(m.v[0].kind, RP_M_FILE);
	assert_int_equal(m.v[0].mode, 0644);
	assert_string_equal(m.v[0].name, "0");
	assert_string_equal(m.v[0].path, "/etc/postfix/main.cf");
	assert_int_equal(m.v[1].gid, 108);
	assert_int_equal(m.v[2].kind, RP_M_NEW);
	assert_int_equal(m.v[3].kind, RP_M_NEWLINK);
	assert_int_equal(m.v[4].kind, RP_M_LINK);
	assert_string_equal(m.v[4].target, "../sites-available/old.conf");
	assert_string_equal(m.v[4].path, "/etc/apache2/sites-enabled/x y.conf");
	assert_int_equal(m.v[5].kind, RP_M_DIR);
	assert_int_equal(m.v[6].uid, -1);
	assert_int_equal(m.v[6].gid, -1);
	rp_manifest_free(&m);

	/* Hostile: every malformed line of a known tag is reported with its number;
	 * other tags and blank lines are skipped; CRLF and no final newline are fine. */
	assert_int_equal(rp_manifest_parse(S("F 644 0 /a 0 0\r\n"
	    "F 99 0 /b\n"			/* 2: not octal */
	    "F 17777 0 /c\n"			/* 3: above 07777 */
	    "F 644 ../../etc/shadow /d\n"	/* 4: name is a path */
	    "F 644 0 /e 99999999999 0\n"	/* 5: huge uid */
	    "F 644 0 /f x 0\n"			/* 6: non-numeric uid */
	    "F 644 0\n"				/* 7: missing path */
	    "N /g%00\n"				/* 8: NUL in the path */
	    "N /h\0i\n"				/* 9: NUL byte */
	    "L /only\n"				/* 10: missing path */
	    "X whatever\n\n"
	    "D /j"), &m), 9);
	assert_int_equal(m.n, 11);
	assert_int_equal(m.v[0].kind, RP_M_FILE);
	assert_string_equal(m.v[0].path, "/a");
	for (size_t i = 1; i <= 9; i++) {
		assert_int_equal(m.v[i].kind, RP_M_BAD);
		assert_int_equal(m.v[i].line, i + 1);
		assert_non_null(m.v[i].why);
	}
	assert_int_equal(m.v[10].kind, RP_M_DIR);
	assert_int_equal(m.v[10].line, 13);
	assert_string_equal(m.v[10].path, "/j");
	rp_manifest_free(&m);
}

static void
test_reload(void **state)
{
	struct rp_reloads r = { 0 };
	char *big;

	/* As the reload script prints them (tr '\n' ' ' leaves a trailing blank). */
	assert_int_equal(rp_reload_parse(S("reload 1 0 \nreload 2 10 \n"
	    "reload 3 1 AH00526: Syntax error on line 3: Invalid command 'foo' \n"), &r), 3);
	assert_int_equal(r.v[0].daemon, 1);
	assert_int_equal(r.v[0].status, 0);
	assert_string_equal(r.v[0].out, "");
	assert_int_equal(r.v[1].status, 10);
	assert_int_equal(r.v[2].daemon, 3);
	assert_int_equal(r.v[2].status, 1);
	assert_string_equal(r.v[2].out, "AH00526: Syntax error on line 3: Invalid command 'foo'");
	rp_reloads_free(&r);

	/* Non-numeric, signed, huge or missing numbers; not at the start of the line. */
	assert_int_equal(rp_reload_parse(S("reload 1 x out\nreload x 0\nreload -1 0 \n"
	    "reload 1 -0 \nreload 1 99999999999 x\nreload 99999999999 0 \nreload 1\n"
	    "reload 1 \nreload  1 0\n reload 1 0\nreload 1 0x1 \nRELOAD 1 0\n"), &r), 0);
	rp_reloads_free(&r);

	/* A NUL in one daemon's output hides nothing after it; CRLF; no final newline. */
	assert_int_equal(rp_reload_parse(S("reload 1 1 bad\0byte \r\nreload 4 0"), &r), 2);
	assert_string_equal(r.v[0].out, "bad byte");
	assert_int_equal(r.v[1].daemon, 4);
	assert_int_equal(r.v[1].status, 0);
	rp_reloads_free(&r);

	/* The largest accepted numbers; the range check against the daemons is push's. */
	assert_int_equal(rp_reload_parse(S("reload 999 255 x\n"), &r), 1);
	assert_int_equal(r.v[0].daemon, 999);
	assert_int_equal(r.v[0].status, 255);
	rp_reloads_free(&r);

	/* 1 MB of output on one line. */
	big = malloc(MB + 16);
	assert_non_null(big);
	memcpy(big, "reload 2 1 ", 11);
	memset(big + 11, 'e', MB);
	assert_int_equal(rp_reload_parse(big, MB + 11, &r), 1);
	assert_int_equal(strlen(r.v[0].out), MB);
	rp_reloads_free(&r);
	free(big);
}

static void
test_backup_names(void **state)
{
	static const char find[] =
	    "/s/backup/20261123T013500Z-4242\0"
	    "/s/backup/20261123T013500Z-999\0"	/* same second: pid 999 < 4242 */
	    "/s/backup/20261122T230000Z-17\0"
	    "/s/backup/20261122T230000Z-17\0"	/* duplicate */
	    "/s/backup/notours\0"
	    "/s/backup/20261122T230000Z-017\0"	/* leading zero: not ours */
	    "/s/backup/20261122T230000Z-\0"
	    "/s/backup/20261122T230000Z-12345678901\0"
	    "/s/backup/20261122t230000Z-1\0"
	    "/s/backup/x/20261122T230000Z-2\0"
	    "/s/backupx/20261122T230000Z-3\0"
	    "/other/20261122T230000Z-4\0"
	    "/s/backup/20261121T000000Z-5\n/s/backup/20261121T000000Z-6\0"
	    "/s/backup/20250101T000000Z-1";		/* no final NUL */
	struct strv n = { 0 };

	rp_backup_names(S(find), "/s/backup/", &n);
	assert_int_equal(n.n, 4);
	assert_string_equal(n.v[0], "20250101T000000Z-1");
	assert_string_equal(n.v[1], "20261122T230000Z-17");
	assert_string_equal(n.v[2], "20261123T013500Z-999");
	assert_string_equal(n.v[3], "20261123T013500Z-4242");
	strv_free(&n);
	rp_backup_names(NULL, 0, "/s/backup", &n);
	assert_int_equal(n.n, 0);
	assert_true(rp_backup_name_ok("20261123T013500Z-1"));
	assert_false(rp_backup_name_ok("20261123T013500Z-1/.."));
	assert_false(rp_backup_name_ok(".."));
	assert_false(rp_backup_name_ok(""));
}

static void
test_version_cmp(void **state)
{
	assert_true(postfix_version_cmp("3.10", "3.9") > 0);
	assert_true(postfix_version_cmp("3.6", "3.6.0") == 0);
	assert_true(postfix_version_cmp("3.4.13", "3.6") < 0);
	assert_true(postfix_version_cmp("99999999999999999999.1", "99999999999999999999.2") < 0);
	assert_int_equal(postfix_version_cmp("", ""), 0);
	assert_int_equal(postfix_version_cmp(NULL, POSTFIX_VERSION_DEFAULT), 0);
}

/* Saved fuzz inputs: the target's own checks abort on a violation. */
static void
test_saved_inputs(void **state)
{
	static const char *const dirs[] = { "tests/fuzz/regress/remote",
	    "tests/fuzz/corpus/remote" };
	size_t total[2] = { 0, 0 };

	for (size_t i = 0; i < 2; i++) {
		DIR *dp = opendir(dirs[i]);
		struct dirent *de;

		if (dp == NULL)
			fail_msg("%s: cannot open (run from the source tree)", dirs[i]);
		while ((de = readdir(dp)) != NULL) {
			char *path, *buf, *cause = NULL;
			size_t len;

			if (de->d_name[0] == '.')
				continue;
			path = xasprintf("%s/%s", dirs[i], de->d_name);
			if ((buf = read_file(path, &len, &cause)) == NULL)
				fail_msg("%s", cause);
			LLVMFuzzerTestOneInput((const uint8_t *)buf, len);
			total[i]++;
			free(buf);
			free(path);
		}
		closedir(dp);
		if (total[i] == 0)
			fail_msg("no saved inputs in %s", dirs[i]);
	}
	print_message("replayed %zu regression and %zu seed inputs\n", total[0], total[1]);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_postconf_real),
		cmocka_unit_test(test_postconf_hostile),
		cmocka_unit_test(test_normalize_strip_o),
		cmocka_unit_test(test_mail_version),
		cmocka_unit_test(test_owner),
		cmocka_unit_test(test_pct),
		cmocka_unit_test(test_txn_journal),
		cmocka_unit_test(test_manifest),
		cmocka_unit_test(test_reload),
		cmocka_unit_test(test_backup_names),
		cmocka_unit_test(test_version_cmp),
		cmocka_unit_test(test_saved_inputs),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
