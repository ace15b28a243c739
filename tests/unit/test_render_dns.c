/* test_render_dns.c: the DNS renderer: TLSA 3 1 1 against the openssl command line,
 * the fetched certificate winning over the local file, a chain's leaf, refusals, the
 * records (MX choice, autodiscover, RFC 6186/8314 with '.'), nsupdate blocks, and golden
 * files from share/examples/demo.ini with a fixed certificate (MXDECK_UPDATE_GOLDEN=1
 * rewrites them). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "backends/render/render.h"
#include "tests/unit/render-fx.h"

extern const struct renderer render_dns;

#define GOLDEN_DIR "tests/data/golden/dns"
#define GOLDEN_CERT GOLDEN_DIR "/test-cert.pem"

static void
run(const char *fmt, ...)
{
	va_list ap;
	char *cmd;

	va_start(ap, fmt);
	cmd = xvasprintf(fmt, ap);
	va_end(ap);
	if (system(cmd) != 0)
		fail_msg("command failed: %s", cmd);
	free(cmd);
}

/* The openssl command line's TLSA 3 1 1 for a PEM file. */
static char *
openssl_tlsa(const char *pem)
{
	char *cmd = xasprintf("openssl x509 -in '%s' -pubkey -noout | "
	    "openssl pkey -pubin -outform DER | sha256sum", pem);
	FILE *p = popen(cmd, "r");
	char buf[128] = "";

	assert_non_null(p);
	assert_non_null(fgets(buf, sizeof buf, p));
	assert_int_equal(pclose(p), 0);
	free(cmd);
	assert_true(strlen(buf) > 64);
	buf[64] = '\0';
	return xstrdup(buf);
}

static const char profile[] =
    "[site]\n"
    "name = t\n"
    "domain = example.org\n"
    "[host \"gw\"]\n"
    "address = 192.0.2.25\n"
    "roles = postfix dns\n"
    "state_dir = /srv/state\n"
    "[autodiscover \"example.org\"]\n"
    "imap = imap.example.org:143/starttls\n"
    "smtp = Smtp.Example.org:587/starttls\n"
    "also = example.net\n"
    "[tls]\n"
    "tlsa_ports = 25 465\n"
    "certificate = @DIR@/cert.pem\n";

static void
make_cert(const char *dir, const char *name, const char *cn)
{
	run("openssl req -x509 -newkey rsa:2048 -nodes -days 30 -subj /CN=%s "
	    "-keyout /dev/null -out '%s/%s' 2>/dev/null", cn, dir, name);
}

static void
test_tlsa_matches_openssl(void **state)
{
	struct fx fx;
	char *cause = NULL, *pem, *want, *line;
	const struct rfile *z = NULL;

	fx_init(&fx, "tdns");
	make_cert(fx.dir, "cert.pem", "smtp.example.org");
	pem = xasprintf("%s/cert.pem", fx.dir);
	want = openssl_tlsa(pem);
	assert_int_equal(fx_load(&fx, profile, NULL), 0);
	assert_int_equal(fx_render(&fx, &render_dns, NULL, &cause), 0);
	z = fx_find(&fx, "/srv/state/dns/example.org.zone");
	assert_int_equal(z->kind, FK_SCRIPT);
	line = xasprintf("_25._tcp.smtp.example.org. 3600 IN TLSA 3 1 1 %s", want);
	assert_true(file_has_line(z, line));
	free(line);
	line = xasprintf("_465._tcp.smtp.example.org. 3600 IN TLSA 3 1 1 %s", want);
	assert_true(file_has_line(z, line));
	free(line);
	assert_int_equal(count(z->data.s, " IN TLSA 3 1 1 "), 2);
	/* the nsupdate script replaces them */
	z = fx_find(&fx, "/srv/state/dns/mxdeck.nsupdate");
	line = xasprintf("update add _25._tcp.smtp.example.org. 3600 IN TLSA 3 1 1 %s", want);
	assert_true(file_has_line(z, line));
	free(line);
	assert_true(file_has_line(z, "update delete _25._tcp.smtp.example.org. TLSA"));
	free(want);
	free(pem);
	fx_free(&fx);
}

/* The copy fetched from the host wins over a local file at the same path; a chain's
 * first certificate (the leaf) is the one hashed. */
static void
test_fetched_pem_and_chain(void **state)
{
	struct fx fx;
	char *cause = NULL, *p1, *p2, *want2, *want1, *chain, *a, *b, *line;
	const struct rfile *z = NULL;

	fx_init(&fx, "tdns");
	make_cert(fx.dir, "cert.pem", "local.example.org");
	make_cert(fx.dir, "other.pem", "remote.example.org");
	p1 = xasprintf("%s/cert.pem", fx.dir);
	p2 = xasprintf("%s/other.pem", fx.dir);
	want1 = openssl_tlsa(p1);
	want2 = openssl_tlsa(p2);
	assert_string_not_equal(want1, want2);
	a = read_file(p2, NULL, &cause);
	b = read_file(p1, NULL, &cause);
	assert_non_null(a);
	assert_non_null(b);
	chain = xasprintf("%s%s", a, b);	/* leaf = other.pem, then cert.pem */
	assert_int_equal(fx_load(&fx, profile, NULL), 0);
	assert_int_equal(fx_render(&fx, &render_dns, chain, &cause), 0);
	z = fx_find(&fx, "/example.org.zone");
	line = xasprintf("_25._tcp.smtp.example.org. 3600 IN TLSA 3 1 1 %s", want2);
	assert_true(file_has_line(z, line));
	free(line);
	assert_null(strstr(z->data.s, want1));
	assert_non_null(strstr(z->data.s, "subject CN=remote.example.org"));
	free(a);
	free(b);
	free(chain);
	free(want1);
	free(want2);
	free(p1);
	free(p2);
	fx_free(&fx);
}

static void
test_certificate_refusals(void **state)
{
	struct fx fx;
	char *cause = NULL, *p;

	/* tlsa_ports set, file missing, nothing fetched: error naming file and line */
	fx_init(&fx, "tdns");
	assert_int_equal(fx_load(&fx, profile, NULL), 0);
	assert_int_equal(fx_render(&fx, &render_dns, NULL, &cause), -1);
	assert_non_null(strstr(cause, "site.ini:14: [tls] certificate"));
	assert_non_null(strstr(cause, "cert.pem"));
	assert_non_null(strstr(cause, "TLSA"));
	free(cause);
	cause = NULL;
	fx_free(&fx);

	/* garbage is always an error, even when fetched */
	fx_init(&fx, "tdns");
	assert_int_equal(fx_load(&fx, profile, NULL), 0);
	assert_int_equal(fx_render(&fx, &render_dns, "not a certificate\n", &cause), -1);
	assert_non_null(strstr(cause, "no PEM certificate"));
	assert_non_null(strstr(cause, "as fetched from the host"));
	free(cause);
	cause = NULL;
	fx_free(&fx);

	/* no certificate: no TLSA records, a comment says why */
	fx_init(&fx, "tdns");
	p = xstrdup(profile);
	memcpy(strstr(p, "certificate = "), "#", 1);
	assert_int_equal(fx_load(&fx, p, NULL), 0);
	free(p);
	if (fx_render(&fx, &render_dns, NULL, &cause) != 0)
		fail_msg("%s", cause);
	assert_non_null(strstr(fx_find(&fx, "/example.org.zone")->data.s,
	    "; no TLSA records: [tls] certificate is not set"));
	assert_null(strstr(fx_find(&fx, "/example.org.zone")->data.s, " TLSA 3"));
	fx_free(&fx);
}

static void
test_records(void **state)
{
	struct fx fx;
	char *cause = NULL;
	const struct rfile *org, *net, *upd;

	fx_init(&fx, "tdns");
	make_cert(fx.dir, "cert.pem", "smtp.example.org");
	assert_int_equal(fx_load(&fx, profile, NULL), 0);
	assert_int_equal(fx_render(&fx, &render_dns, NULL, &cause), 0);
	assert_int_equal(fx.fs.n, 3);
	org = fx_find(&fx, "/srv/state/dns/example.org.zone");
	net = fx_find(&fx, "/srv/state/dns/example.net.zone");
	upd = fx_find(&fx, "/srv/state/dns/mxdeck.nsupdate");
	/* The host address is an IP: the MX falls back to the smtp host, lower-cased. */
	assert_true(file_has_line(org, "example.org. 3600 IN MX 10 smtp.example.org."));
	assert_true(file_has_line(net, "example.net. 3600 IN MX 10 smtp.example.org."));
	/* No vhost proxies autodiscover: the target is autodiscover.<domain>, no CNAME
	 * pointing at itself, but one from the also domain. */
	assert_true(file_has_line(org,
	    "_autodiscover._tcp.example.org. 3600 IN SRV 0 0 443 autodiscover.example.org."));
	assert_null(strstr(org->data.s, "autodiscover.example.org. 3600 IN CNAME"));
	assert_true(file_has_line(net,
	    "autodiscover.example.net. 3600 IN CNAME autodiscover.example.org."));
	assert_true(file_has_line(net,
	    "_autodiscover._tcp.example.net. 3600 IN SRV 0 0 443 autodiscover.example.org."));
	/* STARTTLS imap: _imap gets the host, _imaps '.'; pop3 absent: both '.';
	 * submission on 587 STARTTLS, submissions '.' */
	assert_true(file_has_line(org, "_imap._tcp.example.org. 3600 IN SRV 0 1 143 imap.example.org."));
	assert_true(file_has_line(org, "_imaps._tcp.example.org. 3600 IN SRV 0 0 0 ."));
	assert_true(file_has_line(org, "_pop3._tcp.example.org. 3600 IN SRV 0 0 0 ."));
	assert_true(file_has_line(org, "_pop3s._tcp.example.org. 3600 IN SRV 0 0 0 ."));
	assert_true(file_has_line(org,
	    "_submission._tcp.example.org. 3600 IN SRV 0 1 587 smtp.example.org."));
	assert_true(file_has_line(org, "_submissions._tcp.example.org. 3600 IN SRV 0 0 0 ."));
	assert_true(file_has_line(net, "_pop3s._tcp.example.net. 3600 IN SRV 0 0 0 ."));
	/* TLSA only in the zone that holds the name */
	assert_null(strstr(net->data.s, "TLSA 3"));
	/* nsupdate: one block per zone, each ending in send */
	assert_int_equal(count(upd->data.s, "\nzone "), 2);
	assert_int_equal(count(upd->data.s, "\nsend\n"), 2);
	assert_true(file_has_line(upd, "zone example.org."));
	assert_true(file_has_line(upd, "zone example.net."));
	assert_true(file_has_line(upd, "update delete example.net. MX"));
	/* every record of the snippets is added by the script */
	for (const struct rfile *z = org; z != NULL; z = z == org ? net : NULL)
		for (const char *p = z->data.s; *p != '\0'; p = strchr(p, '\n') + 1) {
			char *line, *add;

			if (*p == ';')
				continue;
			line = xstrndup(p, (size_t)(strchr(p, '\n') - p));
			add = xasprintf("update add %s", line);
			assert_true(file_has_line(upd, add));
			free(add);
			free(line);
		}
	fx_free(&fx);
}

/* An MX outside every rendered zone: its TLSA records go to a separate nsupdate block
 * (no zone line), never into a zone snippet where they would be out of zone. */
static void
test_foreign_mx(void **state)
{
	struct fx fx;
	char *cause = NULL, *p, *want, *pem;
	const struct rfile *upd;

	fx_init(&fx, "tdns");
	make_cert(fx.dir, "cert.pem", "mx.provider.net");
	p = xstrdup(profile);
	{
		char *np = xasprintf("%.*saddress = mx.provider.net\n%s",
		    (int)(strstr(p, "address = ") - p), p, strstr(p, "roles = "));

		free(p);
		p = np;
	}
	assert_int_equal(fx_load(&fx, p, NULL), 0);
	free(p);
	assert_int_equal(fx_render(&fx, &render_dns, NULL, &cause), 0);
	pem = xasprintf("%s/cert.pem", fx.dir);
	want = openssl_tlsa(pem);
	assert_true(file_has_line(fx_find(&fx, "/example.org.zone"),
	    "example.org. 3600 IN MX 10 mx.provider.net."));
	assert_null(strstr(fx_find(&fx, "/example.org.zone")->data.s, "_25._tcp.mx.provider.net"));
	upd = fx_find(&fx, "/mxdeck.nsupdate");
	p = xasprintf("update add _25._tcp.mx.provider.net. 3600 IN TLSA 3 1 1 %s", want);
	assert_true(file_has_line(upd, p));
	free(p);
	assert_int_equal(count(upd->data.s, "\nsend\n"), 3);
	free(want);
	free(pem);
	fx_free(&fx);
}

/* A domain that is both an `also` domain and has its own [autodiscover]: its own wins,
 * and its records appear once. */
static void
test_also_overlap(void **state)
{
	struct fx fx;
	char *cause = NULL, *p;
	const struct rfile *net;

	fx_init(&fx, "tdns");
	p = xasprintf("%s[autodiscover \"example.net\"]\nimap = imap.example.net:993/ssl\n",
	    profile);
	memcpy(strstr(p, "certificate = "), "#", 1);
	assert_int_equal(fx_load(&fx, p, NULL), 0);
	free(p);
	assert_int_equal(fx_render(&fx, &render_dns, NULL, &cause), 0);
	net = fx_find(&fx, "/example.net.zone");
	assert_int_equal(count(net->data.s, "_imaps._tcp.example.net."), 1);
	assert_true(file_has_line(net, "_imaps._tcp.example.net. 3600 IN SRV 0 1 993 imap.example.net."));
	assert_int_equal(count(net->data.s, "\nautodiscover.example.net. 3600 IN CNAME"), 0);
	assert_int_equal(count(net->data.s, "_autodiscover._tcp.example.net."), 1);
	fx_free(&fx);
}

static void
test_bad_names(void **state)
{
	struct fx fx;
	char *cause = NULL;

	fx_init(&fx, "tdns");
	assert_int_equal(fx_load(&fx, profile, NULL), 0);
	free(fx.site.ads[0].also.v[0]);
	fx.site.ads[0].also.v[0] = xstrdup("exa mple.net");
	assert_int_equal(fx_render(&fx, &render_dns, NULL, &cause), -1);
	assert_non_null(strstr(cause, "site.ini:11: [autodiscover] also domain \"exa mple.net\""));
	free(cause);
	fx_free(&fx);
}

/* ---- golden files from the demo profile, TLSA from a fixed certificate ---- */

static void
test_golden_demo(void **state)
{
	struct fileset fs = { 0 };
	char *cause = NULL, *pem, *want;
	const struct rfile *z = NULL;

	pem = read_file(GOLDEN_CERT, NULL, &cause);
	if (pem == NULL)
		fail_msg("%s", cause);
	golden_demo(&render_dns, pem, GOLDEN_DIR, NULL, ".pem", &fs);
	/* the golden TLSA is the openssl one of the fixed certificate */
	want = openssl_tlsa(GOLDEN_CERT);
	for (size_t i = 0; i < fs.n; i++)
		if (str_ends(fs.v[i].path, "/example.org.zone"))
			z = &fs.v[i];
	assert_non_null(z);
	assert_int_equal(count(z->data.s, want), 2);
	free(want);
	free(pem);
	fileset_free(&fs);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_tlsa_matches_openssl),
		cmocka_unit_test(test_fetched_pem_and_chain),
		cmocka_unit_test(test_certificate_refusals),
		cmocka_unit_test(test_records),
		cmocka_unit_test(test_foreign_mx),
		cmocka_unit_test(test_also_overlap),
		cmocka_unit_test(test_bad_names),
		cmocka_unit_test(test_golden_demo),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
