/* mtasts.c: MTA-STS (RFC 8461) and TLS-RPT (RFC 8460) from [mta-sts] (share/doc/HACKING.md
 * §4.2, "add a render target": this file plus its row in renderers[]).
 *
 * Mail domains: [site] domain, every [autodiscover] domain and its `also` domains (the
 * zones the dns role renders). One policy serves them all:
 *     version: STSv1 / mode: M / mx: P (one line per pattern) / max_age: N
 * with CRLF line ends. The mx patterns are [mta-sts] mx, else the MX names the dns role
 * publishes (dns_mx_names). The policy id is the first 20 hex digits of the SHA-256 of
 * the policy text: it changes whenever the text does, so senders refetch (RFC 8461 §3.1).
 *
 * Files:
 *   web hosts (apache or nginx role):
 *     <www_dir>/mta-sts/.well-known/mta-sts.txt    the policy
 *     <apache_dir>/sites-available/mxdeck_mta-sts.conf, <nginx_dir>/sites-available/
 *       mxdeck_mta-sts (enabled through sites-enabled): one HTTPS server for mta-sts.D of
 *       every domain D, certificate and key of [mta-sts]; it serves the policy path as
 *       text/plain and 404 for everything else, never a redirect (RFC 8461 §3.3: senders
 *       do not follow redirects).
 *   dns hosts: <state_dir>/dns/<D>.mta-sts.zone (FK_SCRIPT), to $INCLUDE into the zone of
 *     D like <D>.zone, and <state_dir>/dns/mxdeck-mta-sts.nsupdate:
 *       _mta-sts.D   TXT "v=STSv1; id=ID"
 *       _smtp._tls.D TXT "v=TLSRPTv1; rua=URI,URI"   when [mta-sts] rua is set
 *       mta-sts.D    CNAME the first web host whose address is a DNS name (else a comment)
 * Refused (FILE:LINE of [mta-sts]): an mx pattern that is not a host name or *.name, a
 * pattern list that leaves one of the published MX names uncovered, mode enforce with a
 * [tls] certificate (when readable here) that is not valid for every MX name, an rua that
 * is not a mailto: or https: URI, no certificate or key while a web host serves the site. */
#include "backends/render/render.h"
#include "backends/render/web-common.h"

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "profiles/url.h"

#define MTA_STS_TTL	3600

static const char *const sts_mode_names[] = { "enforce", "testing", "none" };

bool
mta_sts_mx_match(const char *pattern, const char *name)
{
	size_t nl = strlen(name), pl;

	if (nl > 0 && name[nl - 1] == '.')
		nl--;
	if (strncmp(pattern, "*.", 2) == 0) {
		/* the wildcard stands for exactly one leftmost label (RFC 8461 §4.1) */
		const char *dot = memchr(name, '.', nl);

		if (dot == NULL || dot == name)
			return false;
		pattern += 2;
		pl = strlen(pattern);
		return (size_t)(name + nl - (dot + 1)) == pl &&
		    strncasecmp(dot + 1, pattern, pl) == 0;
	}
	pl = strlen(pattern);
	return pl == nl && strncasecmp(pattern, name, nl) == 0;
}

void
mta_sts_domains(const struct site *site, struct strv *out)
{
	struct strv all = { 0 };

	if (site->domain != NULL)
		strv_push(&all, site->domain);
	for (size_t i = 0; i < site->nads; i++) {
		strv_push(&all, site->ads[i].domain);
		for (size_t j = 0; j < site->ads[i].also.n; j++)
			strv_push(&all, site->ads[i].also.v[j]);
	}
	for (size_t i = 0; i < all.n; i++) {
		char *d = xstrdup(all.v[i]);

		for (char *c = d; *c != '\0'; c++)
			if (*c >= 'A' && *c <= 'Z')
				*c = (char)(*c - 'A' + 'a');
		if (strv_has(out, d))
			free(d);
		else
			strv_push_owned(out, d);
	}
	strv_free(&all);
}

/* A refusal of [mta-sts], at its line, through render_refuse (the findings channel). */
static int
sts_refuse(const struct render_ctx *ctx, char **cause, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static int
sts_refuse(const struct render_ctx *ctx, char **cause, const char *fmt, ...)
{
	va_list ap;
	char *m;

	va_start(ap, fmt);
	m = xvasprintf(fmt, ap);
	va_end(ap);
	(void)render_refuse(ctx, cause, web_file(ctx->site), ctx->site->mta_sts.line,
	    "[mta-sts] %s", m);
	free(m);
	return -1;
}

static int
sts_patterns(const struct render_ctx *ctx, struct strv *patterns, char **cause)
{
	const struct site *site = ctx->site;
	const struct mta_sts *s = &site->mta_sts;
	struct strv mx = { 0 };
	const char *why = "";
	int rc = -1;

	if (dns_mx_names(site, &mx, &why, cause) == -1)
		return -1;
	for (size_t i = 0; i < s->mx.n; i++) {
		const char *p = s->mx.v[i];
		const char *base = strncmp(p, "*.", 2) == 0 ? p + 2 : p;

		if (!hostname_ok(base, 0) || strchr(base, '.') == NULL) {
			sts_refuse(ctx, cause, "mx '%s' is not a host name or *.name pattern "
			    "(RFC 8461 §4.1: a wildcard covers exactly one leftmost label)", p);
			goto out;
		}
		strv_push(patterns, p);
	}
	if (s->mx.n == 0) {
		if (mx.n == 0) {
			sts_refuse(ctx, cause, "has no mx patterns and the profile publishes "
			    "no MX name (no postfix host with a DNS name as its address, no "
			    "[autodiscover] smtp host): set mx = HOST ...");
			goto out;
		}
		for (size_t i = 0; i < mx.n; i++)
			strv_push(patterns, mx.v[i]);
	}
	for (size_t i = 0; i < mx.n; i++) {
		bool covered = false;

		for (size_t j = 0; j < patterns->n && !covered; j++)
			covered = mta_sts_mx_match(patterns->v[j], mx.v[i]);
		if (!covered && s->mode != STS_NONE) {
			sts_refuse(ctx, cause, "mx patterns do not cover the MX name %s (%s): "
			    "senders that apply the policy would refuse to deliver to it; add "
			    "it to mx", mx.v[i], why);
			goto out;
		}
	}
	rc = 0;
out:
	strv_free(&mx);
	return rc;
}

int
mta_sts_patterns(const struct site *site, struct strv *patterns, char **cause)
{
	struct render_ctx ctx = { .site = site };

	return sts_patterns(&ctx, patterns, cause);
}

void
mta_sts_policy(const struct site *site, const struct strv *patterns, struct sbuf *out)
{
	const struct mta_sts *s = &site->mta_sts;

	sb_addf(out, "version: STSv1\r\nmode: %s\r\n", sts_mode_names[s->mode]);
	for (size_t i = 0; i < patterns->n; i++)
		sb_addf(out, "mx: %s\r\n", patterns->v[i]);
	sb_addf(out, "max_age: %d\r\n", s->max_age);
}

void
mta_sts_id(const char *text, size_t len, char id[21])
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int n = 0;

	if (EVP_Digest(text, len, md, &n, EVP_sha256(), NULL) != 1 || n < 10)
		fatal("SHA-256 failed");
	for (size_t i = 0; i < 10; i++)
		snprintf(id + 2 * i, 3, "%02x", md[i]);
}

/* A certificate file of the profile (relative: to the profile's directory), or NULL. */
static X509 *
load_cert(const struct site *site, const char *file, const char *fetched)
{
	char *path, *pem, *err = NULL;
	BIO *bio;
	X509 *x;

	if (fetched != NULL)
		pem = xstrdup(fetched);
	else {
		path = file[0] != '/' && site->dir != NULL ?
		    xasprintf("%s/%s", site->dir, file) : xstrdup(file);
		pem = read_input_file(path, IK_CERT, NULL, &err);
		free(path);
		free(err);
		if (pem == NULL)
			return NULL;
	}
	bio = BIO_new_mem_buf(pem, -1);
	x = bio != NULL ? PEM_read_bio_X509(bio, NULL, NULL, NULL) : NULL;
	BIO_free(bio);
	free(pem);
	return x;
}

static int
sts_check(const struct render_ctx *ctx, const struct strv *domains, char **cause)
{
	const struct site *site = ctx->site;
	const struct mta_sts *s = &site->mta_sts;
	struct strv mx = { 0 };
	const char *why = "";
	X509 *x;
	int rc = 0;

	for (size_t i = 0; i < s->rua.n; i++) {
		const char *u = s->rua.v[i];
		bool ok;

		if (strncasecmp(u, "mailto:", 7) == 0)
			ok = strchr(u + 7, '@') != NULL && strpbrk(u, ",; \t!\"\\") == NULL;
		else
		{
			struct url pu;
			char *uwhy = NULL;

			ok = strncasecmp(u, "https://", 8) == 0 && strpbrk(u, ",; \t\"\\") ==
			    NULL && url_parse(u, &pu, &uwhy) == 0;
			if (ok)
				url_free(&pu);
			free(uwhy);
		}
		if (!ok)
			return sts_refuse(ctx, cause, "rua '%s' must be a mailto:ADDRESS or "
			    "https:// URI without ',' ';' or blanks (RFC 8460 §3)", u);
	}
	for (size_t i = 0; i < domains->n; i++) {
		char *n = xasprintf("mta-sts.%s", domains->v[i]);
		bool ok = hostname_ok(n, 0);

		free(n);
		if (!ok)
			return sts_refuse(ctx, cause, "mta-sts.%s is not a valid host name",
			    domains->v[i]);
	}
	/* mode enforce: every MX must present a certificate valid for its name. */
	if (s->mode == STS_ENFORCE && site->tls.certificate != NULL &&
	    (x = load_cert(site, site->tls.certificate, ctx->tls_cert_pem)) != NULL) {
		if (dns_mx_names(site, &mx, &why, cause) == -1) {
			X509_free(x);
			return -1;
		}
		for (size_t i = 0; i < mx.n && rc == 0; i++)
			if (X509_check_host(x, mx.v[i], 0, 0, NULL) != 1)
				rc = sts_refuse(ctx, cause, "mode enforce, but [tls] certificate "
				    "%s is not valid for the MX name %s: senders that enforce "
				    "the policy would refuse to deliver; fix the certificate or "
				    "use mode testing", site->tls.certificate, mx.v[i]);
		strv_free(&mx);
		X509_free(x);
	}
	/* the policy site's certificate must name mta-sts.D for every domain */
	if (rc == 0 && s->certificate != NULL &&
	    (x = load_cert(site, s->certificate, NULL)) != NULL) {
		for (size_t i = 0; i < domains->n && rc == 0; i++) {
			char *n = xasprintf("mta-sts.%s", domains->v[i]);

			if (X509_check_host(x, n, 0, 0, NULL) != 1)
				rc = sts_refuse(ctx, cause, "certificate %s is not valid for %s: "
				    "senders fetch the policy over HTTPS with a strict name "
				    "check and would ignore it", s->certificate, n);
			free(n);
		}
		X509_free(x);
	}
	return rc;
}

static void
apache_site(const struct site *site, const struct strv *domains, const char *www, int port,
    struct sbuf *b)
{
	const struct mta_sts *s = &site->mta_sts;

	web_header(b, site, "#");
	sb_add(b, "# MTA-STS policy (RFC 8461): only /.well-known/mta-sts.txt, as text/plain;\n"
	    "# no redirects (senders do not follow them).\n");
	for (size_t i = 0; i < domains->n; i++) {
		sb_addf(b, "\n<VirtualHost *:%d>\n\tServerName mta-sts.%s\n", port,
		    domains->v[i]);
		sb_addf(b, "\tSSLEngine on\n\tSSLCertificateFile \"%s\"\n"
		    "\tSSLCertificateKeyFile \"%s\"\n", s->certificate, s->key);
		web_apache_protocols(b, false);
		sb_addf(b, "\tDocumentRoot \"%s/mta-sts\"\n", www);
		sb_addf(b, "\t<Directory \"%s/mta-sts\">\n\t\tOptions None\n"
		    "\t\tAllowOverride None\n\t\tRequire all denied\n\t</Directory>\n", www);
		sb_addf(b, "\t<Directory \"%s/mta-sts/.well-known\">\n"
		    "\t\t<Files \"mta-sts.txt\">\n\t\t\tRequire all granted\n"
		    "\t\t\tForceType text/plain\n\t\t</Files>\n\t</Directory>\n", www);
		sb_add(b, "</VirtualHost>\n");
	}
}

static void
nginx_site(const struct site *site, const struct strv *domains, const char *www, int port,
    struct sbuf *b)
{
	const struct mta_sts *s = &site->mta_sts;

	web_header(b, site, "#");
	sb_add(b, "# MTA-STS policy (RFC 8461): only /.well-known/mta-sts.txt, as text/plain;\n"
	    "# no redirects (senders do not follow them).\n");
	sb_addf(b, "\nserver {\n\tlisten %d ssl;\n\tlisten [::]:%d ssl;\n\tserver_name", port,
	    port);
	for (size_t i = 0; i < domains->n; i++)
		sb_addf(b, " mta-sts.%s", domains->v[i]);
	sb_addf(b, ";\n\tssl_certificate \"%s\";\n\tssl_certificate_key \"%s\";\n",
	    s->certificate, s->key);
	web_nginx_protocols(b, false);
	sb_addf(b, "\troot \"%s/mta-sts\";\n", www);
	sb_add(b, "\tlocation = /.well-known/mta-sts.txt {\n\t\tdefault_type text/plain;\n"
	    "\t\ttypes { }\n\t\ttry_files $uri =404;\n\t}\n"
	    "\tlocation / {\n\t\treturn 404;\n\t}\n}\n");
}

/* The first web host whose address is a DNS name: where mta-sts.D points. */
static const char *
web_target(const struct site *site)
{
	for (size_t i = 0; i < site->nhosts; i++) {
		const struct host *h = &site->hosts[i];

		if ((h->roles & (ROLE_APACHE | ROLE_NGINX)) != 0 && !h->local &&
		    h->address != NULL && hostname_ok(h->address, 0) &&
		    strspn(h->address, "0123456789.") != strlen(h->address))
			return h->address;
	}
	return NULL;
}

static void
dns_files(const struct render_ctx *ctx, const struct strv *domains, const char *id,
    struct fileset *fs)
{
	const struct site *site = ctx->site;
	const struct mta_sts *s = &site->mta_sts;
	const char *sdir = host_dir(ctx->host, ROLE_DNS), *target = web_target(site);
	struct sbuf rua, upd;
	struct rfile *f;

	sb_init(&rua);
	sb_init(&upd);
	for (size_t i = 0; i < s->rua.n; i++)
		sb_addf(&rua, "%s%s", i > 0 ? "," : "", s->rua.v[i]);
	for (size_t i = 0; i < domains->n; i++) {
		const char *d = domains->v[i];
		char *path = xasprintf("%s/dns/%s.mta-sts.zone", sdir, d);

		f = fileset_add(fs, "mta-sts", path, 0644, FK_SCRIPT);
		free(path);
		sb_addf(&f->data, "; Generated by mxdeck: MTA-STS (RFC 8461) and TLS-RPT (RFC "
		    "8460) for %s; do not edit.\n; $INCLUDE this file into the zone of %s "
		    "(fully-qualified names, TTL %d).\n", d, d, MTA_STS_TTL);
		sb_addf(&f->data, "_mta-sts.%s. %d IN TXT \"v=STSv1; id=%s\"\n", d, MTA_STS_TTL,
		    id);
		sb_addf(&upd, "; zone %s\nzone %s.\nupdate delete _mta-sts.%s. TXT\n"
		    "update add _mta-sts.%s. %d IN TXT \"v=STSv1; id=%s\"\n", d, d, d, d,
		    MTA_STS_TTL, id);
		if (rua.len > 0) {
			sb_addf(&f->data, "_smtp._tls.%s. %d IN TXT \"v=TLSRPTv1; rua=%s\"\n", d,
			    MTA_STS_TTL, rua.s);
			sb_addf(&upd, "update delete _smtp._tls.%s. TXT\nupdate add _smtp._tls.%s. "
			    "%d IN TXT \"v=TLSRPTv1; rua=%s\"\n", d, d, MTA_STS_TTL, rua.s);
		} else
			sb_add(&f->data, "; no TLS-RPT record: [mta-sts] rua is not set\n");
		if (target != NULL) {
			sb_addf(&f->data, "mta-sts.%s. %d IN CNAME %s.\n", d, MTA_STS_TTL, target);
			sb_addf(&upd, "update delete mta-sts.%s. CNAME\nupdate add mta-sts.%s. %d "
			    "IN CNAME %s.\n", d, d, MTA_STS_TTL, target);
		} else
			sb_addf(&f->data, "; mta-sts.%s: no web host has a DNS name as its "
			    "address: point it at the host that serves the policy\n", d);
		sb_add(&upd, "send\n");
	}
	{
		char *path = xasprintf("%s/dns/mxdeck-mta-sts.nsupdate", sdir);

		f = fileset_add(fs, "mta-sts", path, 0644, FK_SCRIPT);
		free(path);
	}
	sb_addf(&f->data, "; Generated by mxdeck; do not edit.\n; nsupdate script: one "
	    "transaction per zone. Run: nsupdate -k KEYFILE %s\n\n", f->path);
	sb_addn(&f->data, upd.s, upd.len);
	sb_free(&rua);
	sb_free(&upd);
}

static int
mtasts_render(const struct render_ctx *ctx, struct fileset *fs, char **cause)
{
	const struct site *site = ctx->site;
	const struct host *h = ctx->host;
	const struct mta_sts *s = &site->mta_sts;
	struct strv domains = { 0 }, patterns = { 0 };
	struct sbuf policy;
	char id[21];
	int rc = -1;

	if (s->line == 0)
		return 0;
	sb_init(&policy);
	mta_sts_domains(site, &domains);
	if (domains.n == 0) {
		sts_refuse(ctx, cause, "needs a mail domain: set [site] domain");
		goto out;
	}
	if (sts_patterns(ctx, &patterns, cause) == -1 ||
	    sts_check(ctx, &domains, cause) == -1)
		goto out;
	mta_sts_policy(site, &patterns, &policy);
	mta_sts_id(policy.s, policy.len, id);

	if (h->roles & (ROLE_APACHE | ROLE_NGINX)) {
		const char *www = host_dir(h, ROLE_AUTODISCOVER);
		char *path;
		struct rfile *f;
		struct sbuf b;

		if (s->certificate == NULL || s->key == NULL) {
			sts_refuse(ctx, cause, "the policy site https://mta-sts.%s needs a "
			    "certificate and key valid for that name: set certificate and key",
			    domains.v[0]);
			goto out;
		}
		if (web_check_path(ctx, site_key_line(site, s->line, "certificate"),
		    "certificate", s->certificate, cause) == -1 ||
		    web_check_path(ctx, site_key_line(site, s->line, "key"), "key", s->key,
		    cause) == -1 ||
		    web_check_dir(ctx, site_key_line(site, h->line,
		    role_by_bit(ROLE_AUTODISCOVER)->dir_key),
		    role_by_bit(ROLE_AUTODISCOVER)->dir_key, www, cause) == -1)
			goto out;
		path = xasprintf("%s/mta-sts/.well-known/mta-sts.txt", www);
		f = fileset_add(fs, "mta-sts", path, 0644, FK_FILE);
		free(path);
		sb_addn(&f->data, policy.s, policy.len);
		for (int server = SERVER_APACHE; server <= SERVER_NGINX; server++) {
			const char *dir;

			if ((h->roles & (server == SERVER_APACHE ? ROLE_APACHE : ROLE_NGINX)) == 0)
				continue;
			if ((dir = web_server_dir(ctx, h, server, cause)) == NULL)
				goto out;
			sb_init(&b);
			if (server == SERVER_APACHE)
				apache_site(site, &domains, www, web_https_port(h), &b);
			else
				nginx_site(site, &domains, www, web_https_port(h), &b);
			fileset_add_site(fs, "mta-sts", dir, server == SERVER_APACHE ?
			    "mxdeck_mta-sts.conf" : "mxdeck_mta-sts", &b);
			sb_free(&b);
		}
	}
	if (h->roles & ROLE_DNS)
		dns_files(ctx, &domains, id, fs);
	rc = 0;
out:
	strv_free(&domains);
	strv_free(&patterns);
	sb_free(&policy);
	return rc;
}

const struct renderer render_mtasts = {
	.name = "mta-sts",
	.role = ROLE_APACHE | ROLE_NGINX | ROLE_DNS,
	.service = "web",
	.render = mtasts_render,
};
