/* dns.c: the DNS renderer (share/doc/HACKING.md §4.2).
 *
 * Files, under the host's state_dir (default /var/lib/mxdeck), both FK_SCRIPT: mxdeck does
 * not own the zones, it hands the admin the records to publish.
 *   dns/<domain>.zone   one snippet per mail domain, fully-qualified names only, explicit
 *                       TTLs and no $ORIGIN/$TTL, so it can be $INCLUDEd into any zone file
 *                       of that domain (the integration test runs named-checkzone on it)
 *   dns/mxdeck.nsupdate the same records as an nsupdate(1) script, one transaction per zone
 *                       (each type at each name is deleted, then re-added: a rerun converges)
 *
 * Domains: [site] domain, every [autodiscover] domain and its `also` domains, each once.
 * Records:
 *   MX          every domain -> the MX names (below), preference 10, 20, ...
 *   autodiscover for an [autodiscover] domain and each `also` domain: the Outlook redirect
 *               `_autodiscover._tcp SRV 0 0 443 TARGET` and the CNAMEs autodiscover.D and
 *               autoconfig.D -> TARGET (no CNAME when it would point at itself). TARGET is
 *               the first [vhost] proxying `autodiscover`, else autodiscover.<domain>.
 *   RFC 6186/8314 from the [autodiscover] endpoints: `_imaps`/`_imap`, `_pop3s`/`_pop3`,
 *               `_submissions`/`_submission` (._tcp); the flavour a protocol is not offered
 *               in gets `0 0 0 .` (RFC 6186: "not available"), so clients do not guess
 *               plaintext ports.
 *   TLSA        `3 1 1` (SHA-256 of the SubjectPublicKeyInfo DER) of [tls] certificate for
 *               each [tls] tlsa_ports port, at every MX name and every [autodiscover] smtp
 *               host (the same Postfix serves submission with the same certificate).
 *   SPF         TXT at every domain: [site] spf as written, else `v=spf1 mx -all` plus
 *               ip4:/ip6: for a postfix host whose address is an IP literal (the hosts
 *               that send are the postfix hosts, and the MX names are theirs); `none`
 *               publishes none. The nsupdate script adds it without deleting the apex's
 *               TXT set, which holds other records (site verifications): a changed SPF
 *               leaves the old one to delete by hand (two are a permerror, which the spf
 *               probe reports).
 *   DMARC       TXT at _dmarc.DOMAIN: [site] dmarc, else `v=DMARC1; p=none` (monitoring
 *               only: receivers enforce nothing, the dmarc probe warns); `none`: none.
 *   CAA         `0 issue "CA"` at every domain for each [tls] caa issuer; without the
 *               key none (no issuer can be guessed; the caa probe warns "any CA may
 *               issue"). Names under the domain inherit it (RFC 8659 tree climbing).
 * MX names: the address of every host with the postfix role when it is a DNS name; when
 * none is (address = local or an IP), the smtp host of the site domain's [autodiscover]
 * (else of the first one). The choice is written into the snippet.
 *
 * The certificate: the copy the push code fetched from the host (ctx->tls_cert_pem) wins;
 * otherwise the file is read here (a relative path is taken from the profile directory).
 * Without [tls] certificate there are no TLSA records (a comment says so). When a
 * certificate is configured, tlsa_ports is not empty and neither copy is available, render
 * fails. Publishing a zone without them is not a safe default: the nsupdate script would
 * either delete the live TLSA records (DANE senders fall back to unauthenticated TLS) or,
 * leaving them alone, keep stale ones after a key change, and DANE senders then defer all
 * mail to us. A certificate that cannot be parsed is always an error. */
#include "render.h"

#include <stdlib.h>
#include <string.h>

#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#define DNS_TTL			3600

/* One zone snippet and its nsupdate transaction. */
struct zone {
	char		*domain;	/* lower case, no trailing dot */
	struct sbuf	 rr;		/* the zone snippet's records */
	struct sbuf	 upd;		/* "update delete/add" lines */
};

struct zones {
	struct zone	*v;
	size_t		 n, cap;
	struct sbuf	 foreign;	/* TLSA records that belong to none of our zones */
};

static char *
lower_dup(const char *s)
{
	char *t = xstrdup(s);
	size_t n;

	for (char *p = t; *p != '\0'; p++)
		if (*p >= 'A' && *p <= 'Z')
			*p = (char)(*p - 'A' + 'a');
	n = strlen(t);
	if (n > 1 && t[n - 1] == '.')
		t[n - 1] = '\0';
	return t;
}

/* Looks like an IPv4 or IPv6 literal rather than a name. */
static bool
is_ip_literal(const char *s)
{
	if (strchr(s, ':') != NULL)
		return true;
	for (; *s != '\0'; s++)
		if (!((*s >= '0' && *s <= '9') || *s == '.'))
			return false;
	return true;
}

static struct zone *
zone_find(struct zones *zs, const char *domain)
{
	for (size_t i = 0; i < zs->n; i++)
		if (strcmp(zs->v[i].domain, domain) == 0)
			return &zs->v[i];
	return NULL;
}

static void
zone_add(struct zones *zs, const char *domain)
{
	struct zone *z;
	char *d = lower_dup(domain);

	if (zone_find(zs, d) != NULL) {
		free(d);
		return;
	}
	xgrow(&zs->v, &zs->cap, zs->n + 1, sizeof *zs->v);
	z = &zs->v[zs->n++];
	z->domain = d;
	sb_init(&z->rr);
	sb_init(&z->upd);
}

static void
zones_free(struct zones *zs)
{
	for (size_t i = 0; i < zs->n; i++) {
		free(zs->v[i].domain);
		sb_free(&zs->v[i].rr);
		sb_free(&zs->v[i].upd);
	}
	free(zs->v);
	sb_free(&zs->foreign);
}

/* The zone a name belongs in: the longest of our domains it is equal to or under. */
static struct zone *
zone_for(struct zones *zs, const char *name)
{
	struct zone *best = NULL;
	size_t nl = strlen(name), bl = 0;

	for (size_t i = 0; i < zs->n; i++) {
		const char *d = zs->v[i].domain;
		size_t dl = strlen(d);

		if (dl > nl || dl <= bl)
			continue;
		if (strcmp(name + nl - dl, d) == 0 && (dl == nl || name[nl - dl - 1] == '.')) {
			best = &zs->v[i];
			bl = dl;
		}
	}
	return best;
}

/* One record: into the snippet, and as a delete (once per name/type) + add. */
static void
rr(struct zone *z, struct strv *deleted, const char *name, const char *type,
    const char *fmt, ...) __attribute__((format(printf, 5, 6)));

static void
rr(struct zone *z, struct strv *deleted, const char *name, const char *type,
    const char *fmt, ...)
{
	va_list ap;
	char *rdata, *key;

	va_start(ap, fmt);
	rdata = xvasprintf(fmt, ap);
	va_end(ap);
	sb_addf(&z->rr, "%s. %d IN %s %s\n", name, DNS_TTL, type, rdata);
	key = xasprintf("%s %s", name, type);
	if (!strv_has(deleted, key)) {
		sb_addf(&z->upd, "update delete %s. %s\n", name, type);
		strv_push_owned(deleted, key);
	} else
		free(key);
	sb_addf(&z->upd, "update add %s. %d IN %s %s\n", name, DNS_TTL, type, rdata);
	free(rdata);
}

static void
comment(struct zone *z, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void
comment(struct zone *z, const char *fmt, ...)
{
	va_list ap;
	char *s;

	va_start(ap, fmt);
	s = xvasprintf(fmt, ap);
	va_end(ap);
	sb_addf(&z->rr, "; %s\n", s);
	sb_addf(&z->upd, "; %s\n", s);
	free(s);
}

/* SHA-256 of the leaf certificate's SubjectPublicKeyInfo, as 64 hex digits, plus a
 * one-line description (subject, expiry) for the comment. */
static int
tlsa_311(const char *pem, char hex[65], char **desc, char **why)
{
	BIO *bio = BIO_new_mem_buf(pem, -1), *mem = NULL;
	X509 *x = NULL;
	unsigned char *der = NULL, md[EVP_MAX_MD_SIZE];
	unsigned int mdlen = 0;
	int derlen, rc = -1;
	char *s;
	long n;

	if (bio == NULL)
		fatal("BIO_new_mem_buf failed");
	x = PEM_read_bio_X509(bio, NULL, NULL, NULL);
	if (x == NULL) {
		*why = xstrdup("no PEM certificate could be read (a TLSA record is "
		    "computed from it); check [tls] certificate");
		goto out;
	}
	derlen = i2d_X509_PUBKEY(X509_get_X509_PUBKEY(x), &der);
	if (derlen <= 0) {
		*why = xstrdup("cannot encode the certificate's public key");
		goto out;
	}
	if (EVP_Digest(der, (size_t)derlen, md, &mdlen, EVP_sha256(), NULL) != 1 ||
	    mdlen != 32)
		fatal("SHA-256 failed");
	for (unsigned int i = 0; i < mdlen; i++)
		snprintf(hex + 2 * i, 3, "%02x", md[i]);
	if ((mem = BIO_new(BIO_s_mem())) == NULL)
		fatal("BIO_new failed");
	BIO_puts(mem, "subject ");
	X509_NAME_print_ex(mem, X509_get_subject_name(x), 0, XN_FLAG_RFC2253);
	BIO_puts(mem, ", not after ");
	ASN1_TIME_print(mem, X509_get0_notAfter(x));
	n = BIO_get_mem_data(mem, &s);
	*desc = xstrndup(s, (size_t)n);
	for (char *p = *desc; *p != '\0'; p++)
		if ((unsigned char)*p < 0x20)
			*p = ' ';
	rc = 0;
out:
	OPENSSL_free(der);
	X509_free(x);
	BIO_free(bio);
	BIO_free(mem);
	return rc;
}

/* Refuse a passphrase prompt: a next key with a passphrase cannot be read here. */
static int
no_passphrase(char *buf, int size, int rwflag, void *u)
{
	(void)buf;
	(void)size;
	(void)rwflag;
	(void)u;
	return 0;
}

/* The 3 1 1 digest of [tls] next_key (a PEM public key or private key; only its
 * public half is used, nothing of it is ever printed) or next_certificate, read on
 * this machine. */
static int
next_311(const struct render_ctx *ctx, const char *path, bool is_cert, char hex[65],
    char **desc, char **cause)
{
	const struct site *site = ctx->site;
	const char *key = is_cert ? "next_certificate" : "next_key";
	int line = site_key_line(site, site->tls.line, key);
	char *pem, *e = NULL;
	BIO *bio;
	EVP_PKEY *k = NULL;
	unsigned char *der = NULL, md[EVP_MAX_MD_SIZE];
	unsigned int mdlen = 0;
	int derlen, rc;
	size_t len;

	if ((pem = read_input_file(path, IK_CERT, &len, &e)) == NULL) {
		(void)render_refuse(ctx, cause, site->path, line, "[tls] %s %s: %s (the "
		    "rollover's TLSA record is computed from it)", key, path, e);
		free(e);
		return -1;
	}
	if (is_cert) {
		rc = tlsa_311(pem, hex, desc, &e);
		free(pem);
		if (rc == -1) {
			(void)render_refuse(ctx, cause, site->path, line, "[tls] %s %s: %s", key,
			    path, e);
			free(e);
		}
		return rc;
	}
	if ((bio = BIO_new_mem_buf(pem, (int)len)) == NULL)
		fatal("BIO_new_mem_buf failed");
	k = PEM_read_bio_PUBKEY(bio, NULL, no_passphrase, NULL);
	if (k == NULL) {
		ERR_clear_error();
		(void)BIO_reset(bio);
		k = PEM_read_bio_PrivateKey(bio, NULL, no_passphrase, NULL);
	}
	ERR_clear_error();
	BIO_free(bio);
	explicit_bzero(pem, len);
	free(pem);
	if (k == NULL)
		return render_refuse(ctx, cause, site->path, line, "[tls] %s %s: no PEM "
		    "public key or unencrypted private key could be read (give the next key's "
		    "public half: openssl pkey -pubout)", key, path);
	derlen = i2d_PUBKEY(k, &der);
	EVP_PKEY_free(k);
	if (derlen <= 0)
		return render_refuse(ctx, cause, site->path, line, "[tls] %s %s: cannot encode "
		    "the public key", key, path);
	if (EVP_Digest(der, (size_t)derlen, md, &mdlen, EVP_sha256(), NULL) != 1 ||
	    mdlen != 32)
		fatal("SHA-256 failed");
	OPENSSL_free(der);
	for (unsigned int i = 0; i < mdlen; i++)
		snprintf(hex + 2 * i, 3, "%02x", md[i]);
	*desc = xasprintf("the next key %s", path);
	return 0;
}

/* Get the PEM of [tls] certificate: the host's copy, else the local file. NULL + *why
 * when neither is there. */
static char *
cert_pem(const struct render_ctx *ctx, char **why)
{
	const struct site *site = ctx->site;
	const char *cert = site->tls.certificate;
	char *path, *pem, *err = NULL;

	if (ctx->tls_cert_pem != NULL)
		return xstrdup(ctx->tls_cert_pem);
	if (cert[0] != '/' && site->dir != NULL)
		path = xasprintf("%s/%s", site->dir, cert);
	else
		path = xstrdup(cert);
	pem = read_input_file(path, IK_CERT, NULL, &err);
	if (pem == NULL) {
		*why = err;
		free(path);
		return NULL;
	}
	free(path);
	return pem;
}

static void
name_push(struct strv *sv, const char *name)
{
	char *n = lower_dup(name);

	if (strv_has(sv, n))
		free(n);
	else
		strv_push_owned(sv, n);
}

static int
check_name(const struct render_ctx *ctx, int line, const char *what, const char *name,
    char **cause)
{
	if (hostname_ok(name, HN_UNDERSCORE))
		return 0;
	return render_refuse(ctx, cause, ctx->site->path, line > 0 ? line : -1,
	    "%s \"%s\" is not a valid DNS host name", what, name);
}

/* The RFC 6186/8314 pair for one protocol: the offered flavour gets the endpoint, the
 * other one `0 0 0 .`. */
static void
srv_pair(struct zone *z, struct strv *del, const char *dom, const struct endpoint *ep,
    const char *plain, const char *tls)
{
	char *n_plain = xasprintf("_%s._tcp.%s", plain, dom);
	char *n_tls = xasprintf("_%s._tcp.%s", tls, dom);
	char *host = ep->host != NULL ? lower_dup(ep->host) : NULL;

	if (host == NULL) {
		rr(z, del, n_tls, "SRV", "0 0 0 .");
		rr(z, del, n_plain, "SRV", "0 0 0 .");
	} else if (ep->enc == ENC_SSL) {
		rr(z, del, n_tls, "SRV", "0 1 %d %s.", ep->port, host);
		rr(z, del, n_plain, "SRV", "0 0 0 .");
	} else {
		rr(z, del, n_tls, "SRV", "0 0 0 .");
		rr(z, del, n_plain, "SRV", "0 1 %d %s.", ep->port, host);
	}
	free(host);
	free(n_plain);
	free(n_tls);
}

static const char *
ad_target(const struct site *site, const struct autodiscover *ad, char **owned)
{
	for (size_t i = 0; i < site->nvhosts; i++)
		if (site->vhosts[i].services & SVC_BIT(SVC_AUTODISCOVER))
			return *owned = lower_dup(site->vhosts[i].name);
	*owned = xasprintf("autodiscover.%s", ad->domain);
	for (char *p = *owned; *p != '\0'; p++)
		if (*p >= 'A' && *p <= 'Z')
			*p = (char)(*p - 'A' + 'a');
	return *owned;
}

static void
autodiscover_records(const char *spath, const struct autodiscover *ad,
    struct zone *z, struct strv *del, const char *target)
{
	const char *dom = z->domain;
	char *n;

	comment(z, "Autodiscover and autoconfig for %s, from [autodiscover \"%s\"] "
	    "(%s:%d)", dom, ad->domain, spath, ad->line);
	n = xasprintf("_autodiscover._tcp.%s", dom);
	rr(z, del, n, "SRV", "0 0 443 %s.", target);
	free(n);
	n = xasprintf("autodiscover.%s", dom);
	if (strcmp(n, target) != 0)
		rr(z, del, n, "CNAME", "%s.", target);
	free(n);
	n = xasprintf("autoconfig.%s", dom);
	if (strcmp(n, target) != 0)
		rr(z, del, n, "CNAME", "%s.", target);
	free(n);
	comment(z, "RFC 6186 / RFC 8314 mail service records ('.' = not offered)");
	srv_pair(z, del, dom, &ad->imap, "imap", "imaps");
	srv_pair(z, del, dom, &ad->pop3, "pop3", "pop3s");
	srv_pair(z, del, dom, &ad->smtp, "submission", "submissions");
}

/* A TXT value as zone-file character strings of at most 255 bytes each ([site] spf and
 * dmarc hold no quote or backslash: profiles/site.c refuses them). */
static char *
txt_rdata(const char *v)
{
	struct sbuf b;
	size_t n = strlen(v), off = 0;

	sb_init(&b);
	do {
		size_t k = n - off > 255 ? 255 : n - off;

		sb_addf(&b, "%s\"%.*s\"", off > 0 ? " " : "", (int)k, v + off);
		off += k;
	} while (off < n);
	return b.s != NULL ? b.s : xstrdup("\"\"");
}

/* The default SPF record: the MX names (the postfix hosts' names) and the postfix hosts
 * whose address is an IP literal; NULL when neither is known. */
static char *
spf_default(const struct site *site, const struct strv *mx)
{
	struct sbuf b;
	bool any = mx->n != 0;

	sb_init(&b);
	sb_add(&b, "v=spf1");
	if (mx->n != 0)
		sb_add(&b, " mx");
	for (size_t i = 0; i < site->nhosts; i++) {
		const struct host *h = &site->hosts[i];

		if ((h->roles & ROLE_POSTFIX) == 0 || h->local || h->address == NULL ||
		    !is_ip_literal(h->address))
			continue;
		sb_addf(&b, " %s:%s", strchr(h->address, ':') != NULL ? "ip6" : "ip4",
		    h->address);
		any = true;
	}
	sb_add(&b, " -all");
	if (!any) {
		sb_free(&b);
		return NULL;
	}
	return b.s;
}

/* SPF, DMARC and CAA of one zone (see the top of this file). */
static void
policy_records(const struct site *site, const char *spath, struct zone *z,
    struct strv *del, const char *spf_dflt)
{
	const char *spf = site->spf != NULL ? site->spf : spf_dflt;
	const char *dmarc = site->dmarc != NULL ? site->dmarc : "v=DMARC1; p=none";
	long sx = ini_find_section(&site->ini, "site", NULL);
	int sl = site_key_line(site, (int)sx + 1, "spf");
	int dl = site_key_line(site, (int)sx + 1, "dmarc");
	char *n, *rd;

	if (spf == NULL || strcmp(spf, "none") == 0)
		comment(z, "no SPF record: %s", spf == NULL ? "no postfix host name or "
		    "address is known (set [site] spf)" : "[site] spf = none");
	else {
		if (site->spf != NULL)
			comment(z, "SPF from [site] spf (%s:%d)", spath, sl);
		else
			comment(z, "SPF: the postfix hosts send (MX names, IP addresses); set "
			    "[site] spf when others send in this domain's name");
		rd = txt_rdata(spf);
		sb_addf(&z->rr, "%s. %d IN TXT %s\n", z->domain, DNS_TTL, rd);
		sb_addf(&z->upd, "; the apex TXT set holds other records: SPF is added, not "
		    "replaced (delete an older v=spf1 by hand)\nupdate add %s. %d IN TXT %s\n",
		    z->domain, DNS_TTL, rd);
		free(rd);
	}
	if (strcmp(dmarc, "none") == 0)
		comment(z, "no DMARC record: [site] dmarc = none");
	else {
		if (site->dmarc != NULL)
			comment(z, "DMARC from [site] dmarc (%s:%d)", spath, dl);
		else
			comment(z, "DMARC: monitoring only (p=none, receivers enforce nothing); "
			    "set [site] dmarc to enforce");
		n = xasprintf("_dmarc.%s", z->domain);
		rd = txt_rdata(dmarc);
		rr(z, del, n, "TXT", "%s", rd);
		free(rd);
		free(n);
	}
	if (site->tls.caa.n == 0)
		comment(z, "no CAA record: [tls] caa is not set (any CA may issue)");
	else {
		comment(z, "CAA from [tls] caa (%s:%d): only these CAs may issue", spath,
		    site_key_line(site, site->tls.line, "caa"));
		for (size_t i = 0; i < site->tls.caa.n; i++) {
			char *ca = lower_dup(site->tls.caa.v[i]);

			rr(z, del, z->domain, "CAA", "0 issue \"%s\"", ca);
			free(ca);
		}
	}
}

static int
collect_names(const struct render_ctx *ctx, struct strv *mx, const char **mx_why,
    char **cause)
{
	const struct site *site = ctx->site;
	int rc = 0;

	for (size_t i = 0; i < site->nhosts; i++) {
		const struct host *h = &site->hosts[i];

		if ((h->roles & ROLE_POSTFIX) == 0 || h->local || h->address == NULL ||
		    is_ip_literal(h->address) || strcmp(h->address, "local") == 0)
			continue;
		if (check_name(ctx, site_key_line(site, h->line, "address"), "host address",
		    h->address, cause) == -1) {
			rc = -1;
			continue;
		}
		name_push(mx, h->address);
	}
	*mx_why = "the addresses of the hosts with the postfix role";
	if (rc == -1 || mx->n != 0)
		return rc;
	for (int pass = 0; pass < 2 && mx->n == 0; pass++)
		for (size_t i = 0; i < site->nads && mx->n == 0; i++) {
			const struct autodiscover *ad = &site->ads[i];

			if (ad->smtp.host == NULL || (pass == 0 && (site->domain == NULL ||
			    !str_ieq(ad->domain, site->domain))))
				continue;
			name_push(mx, ad->smtp.host);
			*mx_why = "no postfix host has a DNS name as its address: the "
			    "[autodiscover] smtp host";
		}
	return 0;
}

/* For callers outside a render (mtasts.c's checks): the refusal only in *cause. */
int
dns_mx_names(const struct site *site, struct strv *mx, const char **mx_why, char **cause)
{
	struct render_ctx ctx = { .site = site };

	return collect_names(&ctx, mx, mx_why, cause);
}

static int
dns_render(const struct render_ctx *ctx, struct fileset *fs, char **cause)
{
	const struct site *site = ctx->site;
	const struct tls_policy *tls = &site->tls;
	const char *sdir = host_dir(ctx->host, ROLE_DNS);
	struct zones zs;
	struct strv mx, tlsa_names, del, done, next_hex = { 0 }, next_desc = { 0 };
	const char *mx_why = "";
	char hex[65] = "", *desc = NULL, *pem = NULL, *why = NULL, *spath, *spf_dflt = NULL;
	struct rfile *f;
	int rc = -1;
	bool bad = false;

	memset(&zs, 0, sizeof zs);
	sb_init(&zs.foreign);
	memset(&mx, 0, sizeof mx);
	memset(&tlsa_names, 0, sizeof tlsa_names);
	memset(&del, 0, sizeof del);
	memset(&done, 0, sizeof done);
	/* the profile path goes into comments: no line breaks there */
	spath = xstrdup(site->path != NULL ? site->path : "the profile");
	for (char *c = spath; *c != '\0'; c++)
		if ((unsigned char)*c < 0x20 || *c == 0x7f)
			*c = '?';

	/* Validate every name that goes into a zone, each at its profile line; every bad
	 * one is reported, then nothing is rendered. */
	if (site->domain != NULL &&
	    check_name(ctx, 0, "[site] domain", site->domain, cause) == -1)
		bad = true;
	for (size_t i = 0; i < site->nads; i++) {
		const struct autodiscover *ad = &site->ads[i];
		const struct endpoint *eps[] = { &ad->imap, &ad->pop3, &ad->smtp };

		if (check_name(ctx, ad->line, "[autodiscover] domain", ad->domain,
		    cause) == -1)
			bad = true;
		for (size_t j = 0; j < ad->also.n; j++)
			if (check_name(ctx, site_word_line(site, ad->line, "also", ad->also.v[j]),
			    "[autodiscover] also domain", ad->also.v[j], cause) == -1)
				bad = true;
		for (size_t j = 0; j < nitems(eps); j++)
			if (eps[j]->host != NULL && check_name(ctx, eps[j]->line != 0 ?
			    eps[j]->line : ad->line, "[autodiscover] server", eps[j]->host,
			    cause) == -1)
				bad = true;
	}
	for (size_t i = 0; i < site->nvhosts; i++)
		if ((site->vhosts[i].services & SVC_BIT(SVC_AUTODISCOVER)) && check_name(ctx,
		    site->vhosts[i].line, "[vhost]", site->vhosts[i].name, cause) == -1)
			bad = true;
	if (bad)
		goto out;

	if (site->domain != NULL)
		zone_add(&zs, site->domain);
	for (size_t i = 0; i < site->nads; i++) {
		zone_add(&zs, site->ads[i].domain);
		for (size_t j = 0; j < site->ads[i].also.n; j++)
			zone_add(&zs, site->ads[i].also.v[j]);
	}
	if (zs.n == 0) {
		(void)render_refuse(ctx, cause, site->path, -1, "no [site] domain and no "
		    "[autodiscover] domain: there is no zone to render DNS records for");
		goto out;
	}
	if (collect_names(ctx, &mx, &mx_why, cause) == -1)
		goto out;

	spf_dflt = spf_default(site, &mx);

	/* TLSA names: the MX names and the submission hosts. */
	for (size_t i = 0; i < mx.n; i++)
		name_push(&tlsa_names, mx.v[i]);
	for (size_t i = 0; i < site->nads; i++)
		if (site->ads[i].smtp.host != NULL)
			name_push(&tlsa_names, site->ads[i].smtp.host);
	if (tls->ntlsa_ports != 0 && tlsa_names.n != 0 && tls->certificate != NULL) {
		int cline = site_key_line(site, tls->line, "certificate");

		if ((pem = cert_pem(ctx, &why)) == NULL) {
			(void)render_refuse(ctx, cause, site->path, cline, "[tls] certificate %s: "
			    "%s; it was not fetched from host %s either, so the TLSA records for "
			    "[tls] tlsa_ports cannot be computed (publishing without them would "
			    "remove or leave stale TLSA records): run plan/apply, which fetch it "
			    "from the host, or make the file readable here", tls->certificate,
			    why, ctx->host->name);
			goto out;
		}
		if (tlsa_311(pem, hex, &desc, &why) == -1) {
			(void)render_refuse(ctx, cause, site->path, cline, "[tls] certificate "
			    "%s%s: %s", tls->certificate, ctx->tls_cert_pem != NULL ?
			    " (as fetched from the host)" : "", why);
			goto out;
		}
		/* RFC 7671 section 8.1: the next key beside the current one. */
		for (int k = 0; k < 2; k++) {
			const char *np = k == 0 ? tls->next_key : tls->next_certificate;
			char nhex[65] = "", *ndesc = NULL;

			if (np == NULL)
				continue;
			if (next_311(ctx, np, k == 1, nhex, &ndesc, cause) == -1)
				goto out;
			if (strcmp(nhex, hex) != 0 && !strv_has(&next_hex, nhex)) {
				strv_push(&next_hex, nhex);
				strv_push_owned(&next_desc, xasprintf("%s (%s)", ndesc,
				    k == 0 ? "[tls] next_key" : "[tls] next_certificate"));
			}
			free(ndesc);
		}
	}

	for (size_t i = 0; i < zs.n; i++) {
		struct zone *z = &zs.v[i];

		sb_addf(&z->rr, "; Generated by mxdeck from %s for %s; do not edit.\n"
		    "; $INCLUDE this file into the zone of %s. (fully-qualified names, TTL %d).\n",
		    spath, z->domain, z->domain, DNS_TTL);
		sb_addf(&z->upd, "; zone %s\nzone %s.\n", z->domain, z->domain);
		if (mx.n == 0)
			comment(z, "no MX record: no postfix host has a DNS name as its "
			    "address and no [autodiscover] smtp host is set");
		else {
			comment(z, "MX: %s", mx_why);
			for (size_t j = 0; j < mx.n; j++)
				rr(z, &del, z->domain, "MX", "%zu %s.", 10 * (j + 1), mx.v[j]);
		}
		policy_records(site, spath, z, &del, spf_dflt);
	}
	for (size_t i = 0; i < site->nads; i++) {
		const struct autodiscover *ad = &site->ads[i];
		char *target, *d;

		ad_target(site, ad, &target);
		d = lower_dup(ad->domain);
		if (!strv_has(&done, d)) {
			autodiscover_records(spath, ad, zone_find(&zs, d), &del, target);
			strv_push_owned(&done, d);
		} else
			free(d);
		free(target);
	}
	/* Then the also domains, once each, unless they have their own [autodiscover]. */
	for (size_t i = 0; i < site->nads; i++) {
		const struct autodiscover *ad = &site->ads[i];
		char *target, *d;

		ad_target(site, ad, &target);
		for (size_t j = 0; j < ad->also.n; j++) {
			d = lower_dup(ad->also.v[j]);
			if (strv_has(&done, d)) {
				free(d);
				continue;
			}
			autodiscover_records(spath, ad, zone_find(&zs, d), &del, target);
			strv_push_owned(&done, d);
		}
		free(target);
	}
	if (tls->ntlsa_ports != 0 && tls->certificate != NULL) {
		for (size_t i = 0; i < tlsa_names.n; i++) {
			const char *name = tlsa_names.v[i];
			struct zone *z = zone_for(&zs, name);

			if (z == NULL) {
				sb_addf(&zs.foreign, "; %s is in none of the rendered zones: "
				    "publish its TLSA records in its own zone.\n", name);
				for (size_t j = 0; j < tls->ntlsa_ports; j++) {
					sb_addf(&zs.foreign, "update delete _%d._tcp.%s. TLSA\n"
					    "update add _%d._tcp.%s. %d IN TLSA 3 1 1 %s\n",
					    tls->tlsa_ports[j], name, tls->tlsa_ports[j], name,
					    DNS_TTL, hex);
					for (size_t k = 0; k < next_hex.n; k++)
						sb_addf(&zs.foreign, "update add _%d._tcp.%s. %d IN "
						    "TLSA 3 1 1 %s\n", tls->tlsa_ports[j], name,
						    DNS_TTL, next_hex.v[k]);
				}
				continue;
			}
			comment(z, "TLSA 3 1 1 (SHA-256 of the public key) of %s%s: %s",
			    tls->certificate, ctx->tls_cert_pem != NULL ?
			    " (as fetched from the host)" : "", desc);
			for (size_t k = 0; k < next_desc.n; k++)
				comment(z, "TLSA 3 1 1 of %s: published beside the current key "
				    "for the rollover (RFC 7671 section 8.1)", next_desc.v[k]);
			for (size_t j = 0; j < tls->ntlsa_ports; j++) {
				char *n = xasprintf("_%d._tcp.%s", tls->tlsa_ports[j], name);

				rr(z, &del, n, "TLSA", "3 1 1 %s", hex);
				for (size_t k = 0; k < next_hex.n; k++)
					rr(z, &del, n, "TLSA", "3 1 1 %s", next_hex.v[k]);
				free(n);
			}
		}
	}
	if (tls->ntlsa_ports == 0 || tls->certificate == NULL || tlsa_names.n == 0)
		for (size_t i = 0; i < zs.n; i++)
			comment(&zs.v[i], "no TLSA records: %s",
			    tls->ntlsa_ports == 0 ? "[tls] tlsa_ports is empty" :
			    tls->certificate == NULL ? "[tls] certificate is not set" :
			    "no MX or [autodiscover] smtp host name is known");

	/* Write the files. */
	for (size_t i = 0; i < zs.n; i++) {
		char *path = xasprintf("%s/dns/%s.zone", sdir, zs.v[i].domain);

		f = fileset_add(fs, "dns", path, 0644, FK_SCRIPT);
		free(path);
		sb_addn(&f->data, zs.v[i].rr.s, zs.v[i].rr.len);
	}
	{
		char *path = xasprintf("%s/dns/mxdeck.nsupdate", sdir);

		f = fileset_add(fs, "dns", path, 0644, FK_SCRIPT);
		free(path);
	}
	sb_addf(&f->data, "; Generated by mxdeck from %s; do not edit.\n"
	    "; nsupdate script: one transaction per zone. Run: nsupdate -k KEYFILE %s\n"
	    "; (add a `server HOST [PORT]` line first to choose the primary).\n",
	    spath, f->path);
	for (size_t i = 0; i < zs.n; i++) {
		sb_addc(&f->data, '\n');
		sb_addn(&f->data, zs.v[i].upd.s, zs.v[i].upd.len);
		sb_add(&f->data, "send\n");
	}
	if (zs.foreign.len != 0) {
		sb_add(&f->data, "\n; TLSA records outside the rendered zones (nsupdate finds "
		    "the zone itself)\n");
		sb_addn(&f->data, zs.foreign.s, zs.foreign.len);
		sb_add(&f->data, "send\n");
	}
	rc = 0;
out:
	zones_free(&zs);
	strv_free(&mx);
	strv_free(&tlsa_names);
	strv_free(&del);
	strv_free(&done);
	strv_free(&next_hex);
	strv_free(&next_desc);
	free(spath);
	free(spf_dflt);
	free(desc);
	free(pem);
	free(why);
	return rc;
}

const struct renderer render_dns = {
	.name = "dns",
	.role = ROLE_DNS,
	.service = NULL,
	.render = dns_render,
};
