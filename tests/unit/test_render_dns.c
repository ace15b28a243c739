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

#include <dirent.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "backends/render/render.h"

extern const struct renderer render_dns;

#define GOLDEN_DIR "tests/data/golden/dns"
#define GOLDEN_CERT GOLDEN_DIR "/test-cert.pem"

struct fx {
	char		 dir[64];
	struct site	 site;
	struct diags	 d;
	struct fileset	 fs;
};

static void
write_text(const char *path, const char *text)
{
	char *cause = NULL;

	if (write_file_atomic(path, text, strlen(text), 0644, &cause) == -1)
		fail_msg("%s", cause);
}

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

static void
fx_dir(struct fx *fx)
{
	memset(fx, 0, sizeof *fx);
	snprintf(fx->dir, sizeof fx->dir, "/tmp/mxdeck-tdns.XXXXXX");
	assert_non_null(mkdtemp(fx->dir));
}

/* Write PROFILE (with @DIR@ replaced by the temp dir) and load it. */
static void
load(struct fx *fx, const char *profile)
{
	struct sbuf b;
	const char *s = profile, *at;
	char *p;

	sb_init(&b);
	while ((at = strstr(s, "@DIR@")) != NULL) {
		sb_addn(&b, s, (size_t)(at - s));
		sb_add(&b, fx->dir);
		s = at + 5;
	}
	sb_add(&b, s);
	p = xasprintf("%s/site.ini", fx->dir);
	write_text(p, b.s);
	sb_free(&b);
	if (site_load(&fx->site, p, &fx->d) == -1) {
		diags_print(&fx->d, stderr);
		fail_msg("profile does not load");
	}
	free(p);
}

static int
render(struct fx *fx, const char *pem, char **cause)
{
	struct render_ctx ctx = { .site = &fx->site, .host = &fx->site.hosts[0],
	    .tls_cert_pem = pem };

	return render_dns.render(&ctx, &fx->fs, cause);
}

static void
fx_free(struct fx *fx)
{
	fileset_free(&fx->fs);
	site_free(&fx->site);
	diags_free(&fx->d);
	run("rm -rf '%s'", fx->dir);
}

static const struct rfile *
find(const struct fx *fx, const char *suffix)
{
	for (size_t i = 0; i < fx->fs.n; i++)
		if (str_ends(fx->fs.v[i].path, suffix))
			return &fx->fs.v[i];
	fail_msg("no rendered file ends in %s", suffix);
	return NULL;
}

static bool
has_line(const struct rfile *f, const char *line)
{
	size_t n = strlen(line);

	for (const char *p = f->data.s; p != NULL && *p != '\0'; ) {
		const char *e = strchr(p, '\n');
		size_t len = e != NULL ? (size_t)(e - p) : strlen(p);

		if (len == n && strncmp(p, line, n) == 0)
			return true;
		p = e != NULL ? e + 1 : NULL;
	}
	return false;
}

static size_t
count(const char *hay, const char *needle)
{
	size_t n = 0;

	for (const char *p = hay; (p = strstr(p, needle)) != NULL; p++)
		n++;
	return n;
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
	const struct rfile *z;

	fx_dir(&fx);
	make_cert(fx.dir, "cert.pem", "smtp.example.org");
	pem = xasprintf("%s/cert.pem", fx.dir);
	want = openssl_tlsa(pem);
	load(&fx, profile);
	assert_int_equal(render(&fx, NULL, &cause), 0);
	z = find(&fx, "/srv/state/dns/example.org.zone");
	assert_int_equal(z->kind, FK_SCRIPT);
	line = xasprintf("_25._tcp.smtp.example.org. 3600 IN TLSA 3 1 1 %s", want);
	assert_true(has_line(z, line));
	free(line);
	line = xasprintf("_465._tcp.smtp.example.org. 3600 IN TLSA 3 1 1 %s", want);
	assert_true(has_line(z, line));
	free(line);
	assert_int_equal(count(z->data.s, " IN TLSA 3 1 1 "), 2);
	/* the nsupdate script replaces them */
	z = find(&fx, "/srv/state/dns/mxdeck.nsupdate");
	line = xasprintf("update add _25._tcp.smtp.example.org. 3600 IN TLSA 3 1 1 %s", want);
	assert_true(has_line(z, line));
	free(line);
	assert_true(has_line(z, "update delete _25._tcp.smtp.example.org. TLSA"));
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
	const struct rfile *z;

	fx_dir(&fx);
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
	load(&fx, profile);
	assert_int_equal(render(&fx, chain, &cause), 0);
	z = find(&fx, "/example.org.zone");
	line = xasprintf("_25._tcp.smtp.example.org. 3600 IN TLSA 3 1 1 %s", want2);
	assert_true(has_line(z, line));
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
	fx_dir(&fx);
	load(&fx, profile);
	assert_int_equal(render(&fx, NULL, &cause), -1);
	assert_non_null(strstr(cause, "site.ini:12: [tls] certificate"));
	assert_non_null(strstr(cause, "cert.pem"));
	assert_non_null(strstr(cause, "TLSA"));
	free(cause);
	cause = NULL;
	fx_free(&fx);

	/* garbage is always an error, even when fetched */
	fx_dir(&fx);
	load(&fx, profile);
	assert_int_equal(render(&fx, "not a certificate\n", &cause), -1);
	assert_non_null(strstr(cause, "no PEM certificate"));
	assert_non_null(strstr(cause, "as fetched from the host"));
	free(cause);
	cause = NULL;
	fx_free(&fx);

	/* no certificate: no TLSA records, a comment says why */
	fx_dir(&fx);
	p = xstrdup(profile);
	memcpy(strstr(p, "certificate = "), "#", 1);
	load(&fx, p);
	free(p);
	if (render(&fx, NULL, &cause) != 0)
		fail_msg("%s", cause);
	assert_non_null(strstr(find(&fx, "/example.org.zone")->data.s,
	    "; no TLSA records: [tls] certificate is not set"));
	assert_null(strstr(find(&fx, "/example.org.zone")->data.s, " TLSA 3"));
	fx_free(&fx);
}

static void
test_records(void **state)
{
	struct fx fx;
	char *cause = NULL;
	const struct rfile *org, *net, *upd;

	fx_dir(&fx);
	make_cert(fx.dir, "cert.pem", "smtp.example.org");
	load(&fx, profile);
	assert_int_equal(render(&fx, NULL, &cause), 0);
	assert_int_equal(fx.fs.n, 3);
	org = find(&fx, "/srv/state/dns/example.org.zone");
	net = find(&fx, "/srv/state/dns/example.net.zone");
	upd = find(&fx, "/srv/state/dns/mxdeck.nsupdate");
	/* The host address is an IP: the MX falls back to the smtp host, lower-cased. */
	assert_true(has_line(org, "example.org. 3600 IN MX 10 smtp.example.org."));
	assert_true(has_line(net, "example.net. 3600 IN MX 10 smtp.example.org."));
	/* No vhost proxies autodiscover: the target is autodiscover.<domain>, no CNAME
	 * pointing at itself, but one from the also domain. */
	assert_true(has_line(org,
	    "_autodiscover._tcp.example.org. 3600 IN SRV 0 0 443 autodiscover.example.org."));
	assert_null(strstr(org->data.s, "autodiscover.example.org. 3600 IN CNAME"));
	assert_true(has_line(net,
	    "autodiscover.example.net. 3600 IN CNAME autodiscover.example.org."));
	assert_true(has_line(net,
	    "_autodiscover._tcp.example.net. 3600 IN SRV 0 0 443 autodiscover.example.org."));
	/* STARTTLS imap: _imap gets the host, _imaps '.'; pop3 absent: both '.';
	 * submission on 587 STARTTLS, submissions '.' */
	assert_true(has_line(org, "_imap._tcp.example.org. 3600 IN SRV 0 1 143 imap.example.org."));
	assert_true(has_line(org, "_imaps._tcp.example.org. 3600 IN SRV 0 0 0 ."));
	assert_true(has_line(org, "_pop3._tcp.example.org. 3600 IN SRV 0 0 0 ."));
	assert_true(has_line(org, "_pop3s._tcp.example.org. 3600 IN SRV 0 0 0 ."));
	assert_true(has_line(org,
	    "_submission._tcp.example.org. 3600 IN SRV 0 1 587 smtp.example.org."));
	assert_true(has_line(org, "_submissions._tcp.example.org. 3600 IN SRV 0 0 0 ."));
	assert_true(has_line(net, "_pop3s._tcp.example.net. 3600 IN SRV 0 0 0 ."));
	/* TLSA only in the zone that holds the name */
	assert_null(strstr(net->data.s, "TLSA 3"));
	/* nsupdate: one block per zone, each ending in send */
	assert_int_equal(count(upd->data.s, "\nzone "), 2);
	assert_int_equal(count(upd->data.s, "\nsend\n"), 2);
	assert_true(has_line(upd, "zone example.org."));
	assert_true(has_line(upd, "zone example.net."));
	assert_true(has_line(upd, "update delete example.net. MX"));
	/* every record of the snippets is added by the script */
	for (const struct rfile *z = org; z != NULL; z = z == org ? net : NULL)
		for (const char *p = z->data.s; *p != '\0'; p = strchr(p, '\n') + 1) {
			char *line, *add;

			if (*p == ';')
				continue;
			line = xstrndup(p, (size_t)(strchr(p, '\n') - p));
			add = xasprintf("update add %s", line);
			assert_true(has_line(upd, add));
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

	fx_dir(&fx);
	make_cert(fx.dir, "cert.pem", "mx.provider.net");
	p = xstrdup(profile);
	{
		char *np = xasprintf("%.*saddress = mx.provider.net\n%s",
		    (int)(strstr(p, "address = ") - p), p, strstr(p, "roles = "));

		free(p);
		p = np;
	}
	load(&fx, p);
	free(p);
	assert_int_equal(render(&fx, NULL, &cause), 0);
	pem = xasprintf("%s/cert.pem", fx.dir);
	want = openssl_tlsa(pem);
	assert_true(has_line(find(&fx, "/example.org.zone"),
	    "example.org. 3600 IN MX 10 mx.provider.net."));
	assert_null(strstr(find(&fx, "/example.org.zone")->data.s, "_25._tcp.mx.provider.net"));
	upd = find(&fx, "/mxdeck.nsupdate");
	p = xasprintf("update add _25._tcp.mx.provider.net. 3600 IN TLSA 3 1 1 %s", want);
	assert_true(has_line(upd, p));
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

	fx_dir(&fx);
	p = xasprintf("%s[autodiscover \"example.net\"]\nimap = imap.example.net:993/ssl\n",
	    profile);
	memcpy(strstr(p, "certificate = "), "#", 1);
	load(&fx, p);
	free(p);
	assert_int_equal(render(&fx, NULL, &cause), 0);
	net = find(&fx, "/example.net.zone");
	assert_int_equal(count(net->data.s, "_imaps._tcp.example.net."), 1);
	assert_true(has_line(net, "_imaps._tcp.example.net. 3600 IN SRV 0 1 993 imap.example.net."));
	assert_int_equal(count(net->data.s, "\nautodiscover.example.net. 3600 IN CNAME"), 0);
	assert_int_equal(count(net->data.s, "_autodiscover._tcp.example.net."), 1);
	fx_free(&fx);
}

static void
test_bad_names(void **state)
{
	struct fx fx;
	char *cause = NULL;

	fx_dir(&fx);
	load(&fx, profile);
	free(fx.site.ads[0].also.v[0]);
	fx.site.ads[0].also.v[0] = xstrdup("exa mple.net");
	assert_int_equal(render(&fx, NULL, &cause), -1);
	assert_non_null(strstr(cause, "site.ini:8: [autodiscover] also domain \"exa mple.net\""));
	free(cause);
	fx_free(&fx);
}

/* ---- golden files from the demo profile, TLSA from a fixed certificate ---- */

static char *
normalize(const char *s, const char *dir)
{
	struct sbuf b;
	size_t n = strlen(dir);
	const char *p;

	sb_init(&b);
	while ((p = strstr(s, dir)) != NULL) {
		sb_addn(&b, s, (size_t)(p - s));
		sb_add(&b, "@DIR@");
		s = p + n;
	}
	sb_add(&b, s);
	return sb_steal(&b);
}

static void
test_golden_demo(void **state)
{
	struct site site;
	struct diags d = { 0 };
	struct fileset fs = { 0 };
	char *cause = NULL, *pem, abs[PATH_MAX];
	bool update = getenv("MXDECK_UPDATE_GOLDEN") != NULL;
	size_t ngolden = 0;
	DIR *dp;
	struct dirent *de;

	if (realpath("share/examples/demo.ini", abs) == NULL)
		fail_msg("run from the source tree: share/examples/demo.ini not found");
	pem = read_file(GOLDEN_CERT, NULL, &cause);
	if (pem == NULL)
		fail_msg("%s", cause);
	assert_int_equal(site_load(&site, abs, &d), 0);
	{
		struct render_ctx ctx = { .site = &site, .host = site_find_host(&site, "demo"),
		    .tls_cert_pem = pem };

		assert_non_null(ctx.host);
		assert_int_equal(render_dns.render(&ctx, &fs, &cause), 0);
	}
	fileset_sort(&fs);
	for (size_t i = 0; i < fs.n; i++) {
		const char *base = strrchr(fs.v[i].path, '/') + 1;
		char *gpath = xasprintf("%s/%s", GOLDEN_DIR, base);
		char *got = normalize(fs.v[i].data.s, site.dir), *want;

		if (update)
			write_text(gpath, got);
		want = read_file(gpath, NULL, &cause);
		if (want == NULL)
			fail_msg("%s (MXDECK_UPDATE_GOLDEN=1 writes it)", cause);
		if (strcmp(got, want) != 0)
			fail_msg("%s differs from the rendered %s", gpath, fs.v[i].path);
		free(want);
		free(got);
		free(gpath);
	}
	{
		/* the golden TLSA is the openssl one of the fixed certificate */
		char *want = openssl_tlsa(GOLDEN_CERT);
		const struct rfile *z = NULL;

		for (size_t i = 0; i < fs.n; i++)
			if (str_ends(fs.v[i].path, "/example.org.zone"))
				z = &fs.v[i];
		assert_non_null(z);
		assert_int_equal(count(z->data.s, want), 2);
		free(want);
	}
	assert_non_null(dp = opendir(GOLDEN_DIR));
	while ((de = readdir(dp)) != NULL)
		if (de->d_name[0] != '.' && !str_ends(de->d_name, ".pem"))
			ngolden++;
	closedir(dp);
	assert_int_equal(ngolden, fs.n);
	free(pem);
	fileset_free(&fs);
	site_free(&site);
	diags_free(&d);
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
