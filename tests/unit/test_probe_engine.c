/* test_probe_engine.c: which probes a profile implies (roles, probe_ports, "off",
 * --host, kinds), the engine's callback contract (once per probe, serialised,
 * totals), cancellation and the run deadline, JSON escaping, the resolver setting, and
 * DANE matching of TLSA records against a certificate chain built here. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>
#include <openssl/x509.h>

#include "backends/probe/probe-int.h"
#include "profiles/tlsproto.h"
#include "profiles/site.h"

static const char profile[] =
	"[site]\n"
	"name = t\n"
	"domain = lab.test\n"
	"resolver = 127.0.0.1:1\n"
	"\n"
	"[host \"gw1\"]\n"
	"address = 127.0.0.1\n"
	"roles = postfix dovecot\n"
	"probe_ports = smtp:1 submission:1 smtps:1 imaps:1 pop3s:1 imap:off pop3:1\n"
	"\n"
	"[host \"web\"]\n"
	"address = 127.0.0.1\n"
	"roles = nginx autodiscover\n"
	"probe_ports = https:1\n"
	"\n"
	"[vhost \"mail.lab.test\"]\n"
	"server = nginx\n"
	"backend = https://127.0.0.1:9\n"
	"services = owa activesync\n"
	"certificate = /nonexistent.pem\n"
	"key = /nonexistent.key\n"
	"\n"
	"[autodiscover \"lab.test\"]\n"
	"imap = imap.lab.test:993/ssl\n"
	"smtp = smtp.lab.test:587/starttls\n"
	"also = lab2.test\n"
	"\n"
	"[tls]\n"
	"smtpd_protocols = >=TLSv1.2\n"
	"dane = yes\n"
	"tlsa_ports = 25 465\n";

static struct site *
load(void)
{
	struct site *s = calloc(1, sizeof *s);
	struct diags d = { 0 };

	assert_int_equal(site_load_buf(s, "/t/p.ini", profile, strlen(profile), &d), 0);
	diags_free(&d);
	return s;
}

static size_t
count(const struct probe_list *pl, const char *kind, const char *name)
{
	size_t i, n = 0;

	for (i = 0; i < probe_list_count(pl); i++) {
		if ((kind == NULL || strcmp(probe_list_kind(pl, i), kind) == 0) &&
		    (name == NULL || strcmp(probe_list_name(pl, i), name) == 0))
			n++;
	}
	return n;
}

static void
t_build_all(void **state)
{
	struct site *s = load();
	struct probe_list *pl;
	char *cause = NULL;

	assert_int_equal(probe_list_build(s, NULL, &pl, &cause), 0);
	/* gw1: smtp submission smtps imaps pop3s pop3 (imap is off); web: https */
	assert_int_equal(count(pl, "tls", NULL), 7);
	assert_int_equal(count(pl, "tlsver", NULL), 7);
	assert_int_equal(count(pl, "tls", "tls imap"), 0);
	assert_int_equal(count(pl, "tls", "tls pop3"), 1);
	assert_int_equal(count(pl, "tls", "tls https"), 1);
	/* dane: ports 25 and 465 of the postfix host */
	assert_int_equal(count(pl, "dane", NULL), 2);
	assert_int_equal(count(pl, "smtp", NULL), 3);
	/* dns: mx, tlsa, and autodiscover + rfc6186 for lab.test and lab2.test */
	assert_int_equal(count(pl, "dns", NULL), 6);
	/* http: Outlook's four steps for lab.test and for lab2.test (https://D/,
	 * https://autodiscover.D/, the http redirect, the SRV target), activesync, owa */
	assert_int_equal(count(pl, "http", NULL), 10);
	assert_int_equal(count(pl, "http", "autodiscover"), 4);
	assert_int_equal(count(pl, "http", "autodiscover-redirect"), 2);
	assert_int_equal(count(pl, "http", "autodiscover-srv"), 2);
	/* the peers' mail checks are default kinds: vrfy per SMTP port, ciphers per TLS
	 * endpoint, cleartext on the plain pop3 port (imap is off) */
	assert_int_equal(count(pl, "vrfy", NULL), 3);
	assert_int_equal(count(pl, "ciphers", NULL), 7);
	assert_int_equal(count(pl, "cleartext", NULL), 1);
	probe_list_free(pl);
	{
		struct probe_opts o = { .kinds = probe_kind_bit("all") };

		assert_int_equal(probe_list_build(s, &o, &pl, &cause), 0);
	}
	/* the peers' checks: VRFY on gw1's three SMTP ports; cleartext on pop3 only (imap
	 * is off); ciphers on every TLS endpoint (gw1: 6 without imap, web: 1 vhost);
	 * hsts on the owa vhost; spf and dmarc per mail domain; caa for the vhost and
	 * the Autodiscover endpoints (the hosts' addresses are IPs); fcrdns for gw1;
	 * dnsbl only with [tests] dnsbl */
	assert_int_equal(count(pl, "vrfy", NULL), 3);
	assert_int_equal(count(pl, "cleartext", "cleartext pop3"), 1);
	assert_int_equal(count(pl, "cleartext", NULL), 1);
	assert_int_equal(count(pl, "ciphers", NULL), 7);
	assert_int_equal(count(pl, "hsts", "hsts owa"), 1);
	assert_int_equal(count(pl, "hsts", NULL), 1);
	assert_int_equal(count(pl, "spf", NULL), 2);
	assert_int_equal(count(pl, "dmarc", NULL), 2);
	assert_int_equal(count(pl, "caa", NULL), 3);
	assert_int_equal(count(pl, "fcrdns", NULL), 1);
	assert_int_equal(count(pl, "dnsbl", NULL), 0);
	probe_list_free(pl);
	site_free(s);
	free(s);
}

static void
t_build_filter(void **state)
{
	struct site *s = load();
	struct probe_list *pl;
	struct probe_opts o = { 0 };
	struct strv hosts = { 0 };
	char *cause = NULL;
	unsigned k;

	strv_push(&hosts, "web");
	o.hosts = &hosts;
	o.kinds = probe_kind_bit("tls") | probe_kind_bit("tlsver") | probe_kind_bit("ocsp");
	assert_int_equal(probe_list_build(s, &o, &pl, &cause), 0);
	/* only web's endpoints (tls, tlsver, ocsp of its vhost); no site-wide DNS/HTTP
	 * probes under --host */
	assert_int_equal(probe_list_count(pl), 3);
	assert_string_equal(probe_list_name(pl, 0), "tls https");
	assert_string_equal(probe_list_target(pl, 0), "127.0.0.1:1 (mail.lab.test)");
	assert_string_equal(probe_list_name(pl, 2), "ocsp https");
	assert_string_equal(probe_list_target(pl, 2), "127.0.0.1:1 (mail.lab.test)");
	probe_list_free(pl);

	strv_push(&hosts, "nosuch");
	assert_int_equal(probe_list_build(s, &o, &pl, &cause), -1);
	assert_non_null(strstr(cause, "no host \"nosuch\""));
	free(cause);
	cause = NULL;
	strv_free(&hosts);

	assert_int_equal(probe_kinds_parse("tls, dns", &k, &cause), 0);
	assert_int_equal(k, probe_kind_bit("tls") | probe_kind_bit("dns"));
	o.hosts = NULL;
	o.kinds = k;
	assert_int_equal(probe_list_build(s, &o, &pl, &cause), 0);
	assert_int_equal(probe_list_count(pl), 7 + 6);
	probe_list_free(pl);
	assert_int_equal(probe_kinds_parse("tls,bogus", &k, &cause), -1);
	assert_non_null(strstr(cause, "bogus"));
	free(cause);
	cause = NULL;
	assert_int_equal(probe_kinds_parse("", &k, &cause), -1);
	free(cause);
	cause = NULL;
	/* The error names every row of the table. */
	assert_int_equal(probe_kinds_parse("nosuch", &k, &cause), -1);
	for (size_t i = 0; probe_kind_name(i) != NULL; i++)
		assert_non_null(strstr(cause, probe_kind_name(i)));
	free(cause);
	site_free(s);
	free(s);
}

struct seen {
	pthread_mutex_t lock;
	int	 inside;	/* callbacks running now */
	int	 overlap;	/* ever two at once */
	size_t	 n;
	size_t	 nfail;
	bool	 idx[64];
};

static void
on_result(const struct probe_result *r, void *arg)
{
	struct seen *s = arg;
	int now;

	pthread_mutex_lock(&s->lock);
	now = ++s->inside;
	if (now > 1)
		s->overlap = 1;
	pthread_mutex_unlock(&s->lock);
	/* the result is complete and in range */
	assert_true(r->index < 64);
	assert_false(s->idx[r->index]);
	s->idx[r->index] = true;
	assert_non_null(r->summary);
	assert_non_null(r->details);
	assert_true(strchr(r->summary, '\n') == NULL);
	s->n++;
	if (r->status == PROBE_FAIL)
		s->nfail++;
	pthread_mutex_lock(&s->lock);
	s->inside--;
	pthread_mutex_unlock(&s->lock);
}

/* The kind table: unique names, bit i for row i, a build and a run each, and "all"
 * is every bit. */
static void
t_kind_table(void **state)
{
	unsigned all = 0, k = 0;
	char *cause = NULL;
	size_t i, j;

	assert_true(nprobe_kinds >= 6);
	for (i = 0; i < nprobe_kinds; i++) {
		assert_int_equal(probe_kinds[i].bit, 1u << i);
		assert_non_null(probe_kinds[i].build);
		assert_non_null(probe_kinds[i].run);
		assert_non_null(probe_kinds[i].what);
		assert_int_equal(probe_kind_bit(probe_kinds[i].name), probe_kinds[i].bit);
		for (j = 0; j < i; j++)
			assert_string_not_equal(probe_kinds[i].name, probe_kinds[j].name);
		all |= probe_kinds[i].bit;
	}
	assert_null(probe_kind_name(nprobe_kinds));
	assert_int_equal(probe_kinds_all(), all);
	assert_int_equal(probe_kinds_parse("all", &k, &cause), 0);
	assert_int_equal(k, all);
	assert_int_equal(probe_kind_bit("nosuch"), 0);
	/* the default kinds: the profile-driven ones; the peers' checks by name */
	assert_true(probe_kinds_default() & probe_kind_bit("tls"));
	assert_true(probe_kinds_default() & probe_kind_bit("dns"));
	assert_true(probe_kinds_default() & probe_kind_bit("ciphers"));
	assert_true(probe_kinds_default() & probe_kind_bit("vrfy"));
	assert_true(probe_kinds_default() & probe_kind_bit("cleartext"));
	assert_int_equal(probe_kinds_parse("default", &k, &cause), 0);
	assert_int_equal(k, probe_kinds_default());
}

/* [tests] probes chooses the kinds when opts.kinds does not; an unknown name is an
 * error naming the profile and the known kinds. */
static void
t_tests_probes(void **state)
{
	struct site *s = load();
	struct probe_list *pl;
	char *cause = NULL;

	strv_push(&s->tests_probes, "vrfy");
	strv_push(&s->tests_probes, "caa");
	assert_int_equal(probe_list_build(s, NULL, &pl, &cause), 0);
	assert_int_equal(count(pl, "vrfy", NULL), 3);
	assert_int_equal(count(pl, "caa", NULL), 3);
	assert_int_equal(count(pl, "tls", NULL), 0);
	probe_list_free(pl);
	{
		struct probe_opts o = { .kinds = probe_kind_bit("tls") };

		assert_int_equal(probe_list_build(s, &o, &pl, &cause), 0);
		assert_int_equal(count(pl, "vrfy", NULL), 0);	/* MXDECK_PROBES wins */
		assert_int_equal(count(pl, "tls", NULL), 7);
		probe_list_free(pl);
	}
	strv_push(&s->tests_probes, "tsl");
	assert_int_equal(probe_list_build(s, NULL, &pl, &cause), -1);
	assert_non_null(strstr(cause, "/t/p.ini: [tests] probes: unknown probe kind \"tsl\""));
	assert_non_null(strstr(cause, "ciphers"));
	free(cause);
	site_free(s);
	free(s);
}

/* Every endpoint is 127.0.0.1:1 (refused): each probe fails fast, the engine reports
 * each exactly once, never two callbacks at a time. */
static void
t_run_refused(void **state)
{
	struct site *s = load();
	struct probe_list *pl;
	struct probe_opts o = { .timeout = 2, .jobs = 8, .kinds = probe_kind_bit("tls") |
	    probe_kind_bit("tlsver") | probe_kind_bit("smtp") };
	struct probe_summary sum;
	struct seen seen = { .lock = PTHREAD_MUTEX_INITIALIZER };
	char *cause = NULL;

	assert_int_equal(probe_list_build(s, &o, &pl, &cause), 0);
	probe_run(pl, &o, on_result, &seen, &sum);
	assert_int_equal(sum.n, probe_list_count(pl));
	assert_int_equal(seen.n, probe_list_count(pl));
	assert_int_equal(seen.overlap, 0);
	/* pop3 (plain, refused) is "not offered": tls and protocols ok; the rest fail */
	assert_int_equal(sum.nfail, probe_list_count(pl) - 2);
	assert_int_equal(sum.nok, 2);
	assert_true(sum.wall < 2);
	probe_list_free(pl);
	site_free(s);
	free(s);
}

static void
t_run_cancelled(void **state)
{
	struct site *s = load();
	struct probe_list *pl;
	atomic_int cancel = 1;
	struct probe_opts o = { .kinds = probe_kind_bit("tls"), .cancel = &cancel };
	struct probe_summary sum;
	struct seen seen = { .lock = PTHREAD_MUTEX_INITIALIZER };
	char *cause = NULL;

	assert_int_equal(probe_list_build(s, &o, &pl, &cause), 0);
	probe_run(pl, &o, on_result, &seen, &sum);
	assert_int_equal(sum.nfail, probe_list_count(pl));
	probe_list_free(pl);
	site_free(s);
	free(s);
}

static void
t_json(void **state)
{
	struct probe_result r = {
		.status = PROBE_WARN, .kind = "tls", .name = "tls \"smtp\"", .host = NULL,
		.target = "a\\b", .summary = "x\ty", .details = "l1\nl2\x01\n",
		.duration = 1.5, .handshakes = 3, .reach = -1,
	};
	char *j = probe_result_json(&r), *rest;
	struct probe_result *d;

	/* The id (spaces made dashes, host "site" for a site-wide probe), then the time
	 * of the result, then the rest. */
	static const char pre[] = "{\"id\":\"tls/tls-\\\"smtp\\\"/site/a\\\\b\",\"time\":\"";

	assert_true(strncmp(j, pre, sizeof pre - 1) == 0);
	rest = strstr(j, "Z\",\"status\"");
	assert_non_null(rest);
	assert_int_equal(rest - j, sizeof pre - 1 + 19);	/* YYYY-MM-DDTHH:MM:SS */
	assert_string_equal(rest + 3, "\"status\":\"warn\",\"kind\":\"tls\",\"name\":\"tls "
	    "\\\"smtp\\\"\",\"host\":null,\"target\":\"a\\\\b\",\"summary\":\"x\\ty\","
	    "\"details\":\"l1\\nl2\\u0001\\n\",\"duration\":1.500,\"duration_ms\":1500,"
	    "\"handshakes\":3,\"reach\":-1}");
	free(j);
	d = probe_result_dup(&r);
	assert_string_equal(d->details, r.details);
	assert_ptr_not_equal(d->details, r.details);
	probe_result_free(d);
}

/* The certificate fields of a tls result: JSON and a deep copy. */
static void
t_json_certs(void **state)
{
	const struct probe_cert certs[2] = {
		{ 0, "CN=mx \"a\"", "RSA", "", 1024, 80, "sha1WithRSAEncryption", 63, false },
		{ 1, "CN=CA", "EC", "prime256v1", 256, 128, "ecdsa-with-SHA256", 128, true },
	};
	struct probe_result r = {
		.status = PROBE_FAIL, .kind = "tls", .name = "tls smtp", .host = "h",
		.target = "t", .summary = "s", .details = "", .certs = certs, .ncerts = 2,
	};
	char *j = probe_result_json(&r);
	struct probe_result *d;

	(void)state;
	assert_non_null(strstr(j, ",\"certs\":[{\"depth\":0,\"subject\":\"CN=mx \\\"a\\\"\","
	    "\"key_type\":\"RSA\",\"key_group\":\"\",\"key_bits\":1024,\"security_bits\":80,"
	    "\"signature\":\"sha1WithRSAEncryption\",\"signature_security_bits\":63,"
	    "\"self_signed\":false},{\"depth\":1,\"subject\":\"CN=CA\",\"key_type\":\"EC\","
	    "\"key_group\":\"prime256v1\",\"key_bits\":256,\"security_bits\":128,"
	    "\"signature\":\"ecdsa-with-SHA256\",\"signature_security_bits\":128,"
	    "\"self_signed\":true}],\"duration\""));
	free(j);
	d = probe_result_dup(&r);
	assert_int_equal(d->ncerts, 2);
	assert_ptr_not_equal(d->certs, r.certs);
	assert_string_equal(d->certs[1].key_group, "prime256v1");
	assert_ptr_not_equal(d->certs[1].key_group, certs[1].key_group);
	assert_true(d->certs[1].self_signed);
	probe_result_free(d);
}

/* Numbers and sets as JSON values: handshake time, protocol and cipher, the TLS
 * version sets of a tlsver result (arrays of names, oldest first). */
static void
t_json_tls_numbers(void **state)
{
	struct probe_result r = {
		.status = PROBE_FAIL, .kind = "tlsver", .name = "protocols smtp", .host = "h",
		.target = "t", .summary = "s", .details = "", .has_handshake = true,
		.handshake_ms = 2.25, .protocol = "TLSv1.3", .cipher = "TLS_AES_256_GCM_SHA384",
		.has_protocols = true,
		.tls_accepted = TLSP_BIT(TLSP_TLSV1) | TLSP_BIT(TLSP_TLSV1_3),
		.tls_allowed = TLSP_BIT(TLSP_TLSV1_2) | TLSP_BIT(TLSP_TLSV1_3),
	};
	char *j = probe_result_json(&r);
	struct probe_result *d;

	(void)state;
	assert_non_null(strstr(j, ",\"handshake_ms\":2.250,\"protocol\":\"TLSv1.3\","
	    "\"cipher\":\"TLS_AES_256_GCM_SHA384\",\"protocols\":{\"accepted\":[\"TLSv1\","
	    "\"TLSv1.3\"],\"refused\":[\"TLSv1.1\",\"TLSv1.2\"],\"allowed\":[\"TLSv1.2\","
	    "\"TLSv1.3\"]}}"));
	free(j);
	r.has_handshake = r.has_protocols = false;
	r.protocol[0] = r.cipher[0] = '\0';
	j = probe_result_json(&r);
	assert_null(strstr(j, "handshake_ms"));
	assert_null(strstr(j, "\"protocol\":"));
	assert_null(strstr(j, "\"protocols\":"));
	free(j);
	d = probe_result_dup(&r);
	assert_int_equal(d->tls_accepted, r.tls_accepted);
	probe_result_free(d);
}

static void
t_resolver(void **state)
{
	char *h = NULL, *cause = NULL;
	int port;

	assert_int_equal(net_resolver_parse("127.0.0.1:5353", &h, &port, &cause), 0);
	assert_string_equal(h, "127.0.0.1");
	assert_int_equal(port, 5353);
	free(h);
	assert_int_equal(net_resolver_parse("192.0.2.1", &h, &port, &cause), 0);
	assert_int_equal(port, 53);
	free(h);
	assert_int_equal(net_resolver_parse("[::1]:53", &h, &port, &cause), 0);
	assert_string_equal(h, "::1");
	free(h);
	assert_int_equal(net_resolver_parse("::1", &h, &port, &cause), 0);
	assert_string_equal(h, "::1");
	free(h);
	assert_int_equal(net_resolver_parse("ns.example.org:53", &h, &port, &cause), -1);
	assert_non_null(strstr(cause, "expected IP"));
	free(cause);
	cause = NULL;
	assert_int_equal(net_resolver_parse("127.0.0.1:99999", &h, &port, &cause), -1);
	free(cause);
}

/* Which TLSA records an SMTP client (RFC 7672) and any other client (RFC 6698) may use;
 * whether a usable one matches is OpenSSL's DANE verification (tests/integration). */
static void
t_dane_unusable(void **state)
{
	int u;

	(void)state;
	for (u = 2; u <= 3; u++) {
		assert_null(dane_unusable(u, 1, 1, 32, true));
		assert_null(dane_unusable(u, 0, 2, 64, true));
		assert_null(dane_unusable(u, 0, 0, 700, false));
	}
	/* PKIX-TA and PKIX-EE: unusable on SMTP ports, usable elsewhere */
	assert_non_null(strstr(dane_unusable(1, 1, 1, 32, true), "PKIX-EE(1) is unusable"));
	assert_non_null(strstr(dane_unusable(0, 1, 1, 32, true), "PKIX-TA(0) is unusable"));
	assert_null(dane_unusable(1, 1, 1, 32, false));
	assert_null(dane_unusable(0, 0, 1, 32, false));
	assert_non_null(dane_unusable(4, 1, 1, 32, false));
	assert_non_null(dane_unusable(-1, 1, 1, 32, false));
	assert_non_null(dane_unusable(3, 2, 1, 32, true));
	assert_non_null(dane_unusable(3, 1, 3, 32, true));
	/* digest lengths */
	assert_non_null(dane_unusable(3, 1, 1, 31, true));
	assert_non_null(dane_unusable(3, 1, 2, 32, true));
	assert_non_null(dane_unusable(3, 0, 0, 0, true));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(t_build_all),
		cmocka_unit_test(t_build_filter),
		cmocka_unit_test(t_run_refused),
		cmocka_unit_test(t_run_cancelled),
		cmocka_unit_test(t_json),
		cmocka_unit_test(t_json_certs),
		cmocka_unit_test(t_json_tls_numbers),
		cmocka_unit_test(t_resolver),
		cmocka_unit_test(t_dane_unusable),
		cmocka_unit_test(t_kind_table),
		cmocka_unit_test(t_tests_probes),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
