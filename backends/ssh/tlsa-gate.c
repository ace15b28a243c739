/* tlsa-gate.c: refuse an apply that would serve a key DNS does not publish.
 *
 * The classic DANE outage: a renewed certificate (a new key) goes live while the
 * DNSSEC-signed TLSA records still name the old key, and every DANE-verifying sender
 * (RFC 7672) stops delivering. Before the apply changes the certificate or key Postfix
 * serves (smtpd_tls_cert_file / smtpd_tls_key_file), the published TLSA records of the
 * host's ports are looked up with DNSSEC validation and the new certificate chain is
 * verified against them with OpenSSL's DANE code, as a sender would. No match on a
 * port that publishes records, a bogus or unvalidated answer, or a failed lookup:
 * refused, nothing changed (RFC 7671 section 8.1: publish the next key first, then
 * switch). --force-tlsa goes on and says which names and ports will fail. */
#include "backends/ssh/tlsa-gate.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <openssl/x509_vfy.h>

#include "backends/ssh/xport.h"

void
push_tlsa_free(struct push_tlsa *t)
{
	for (size_t i = 0; i < t->n; i++)
		free(t->v[i].data);
	free(t->v);
	free(t->why);
	memset(t, 0, sizeof *t);
}

static bool
same(const char *a, const char *b)
{
	if (a == NULL || b == NULL)
		return a == b;
	return strcmp(a, b) == 0;
}

static bool
ip_literal(const char *s)
{
	unsigned char buf[16];

	return inet_pton(AF_INET, s, buf) == 1 || inet_pton(AF_INET6, s, buf) == 1;
}

static void
hex_of(const unsigned char *d, size_t n, struct sbuf *b)
{
	for (size_t i = 0; i < n; i++)
		sb_addf(b, "%02x", d[i]);
}

/* SHA-256 of DER bytes as 64 hex digits. */
static void
sha256_hex(const unsigned char *der, size_t n, char out[65])
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int mdlen = 0;

	if (EVP_Digest(der, n, md, &mdlen, EVP_sha256(), NULL) != 1 || mdlen != 32)
		fatal("SHA-256 failed");
	for (unsigned int i = 0; i < mdlen; i++)
		snprintf(out + 2 * i, 3, "%02x", md[i]);
}

/* The new certificate chain: leaf and the rest of the file (what Postfix sends). */
struct chain {
	X509	*leaf;
	STACK_OF(X509) *rest;
	char	 spki[65], full[65];	/* 3 1 1 and 3 0 1 of the leaf */
	char	*where;			/* "host h1:/etc/ssl/new.pem" */
};

static void
chain_free(struct chain *c)
{
	X509_free(c->leaf);
	sk_X509_pop_free(c->rest, X509_free);
	free(c->where);
	memset(c, 0, sizeof *c);
}

static int
chain_parse(struct chain *c, const char *pem, size_t len, char **cause)
{
	BIO *bio = BIO_new_mem_buf(pem, (int)len);
	unsigned char *der = NULL;
	X509 *x;
	int n;

	if (bio == NULL)
		fatal("BIO_new_mem_buf failed");
	c->rest = sk_X509_new_null();
	while ((x = PEM_read_bio_X509(bio, NULL, NULL, NULL)) != NULL) {
		if (c->leaf == NULL)
			c->leaf = x;
		else
			sk_X509_push(c->rest, x);
	}
	ERR_clear_error();
	BIO_free(bio);
	if (c->leaf == NULL) {
		*cause = xasprintf("%s: no PEM certificate in it", c->where);
		return -1;
	}
	if ((n = i2d_X509_PUBKEY(X509_get_X509_PUBKEY(c->leaf), &der)) <= 0) {
		*cause = xasprintf("%s: cannot encode the certificate's public key", c->where);
		return -1;
	}
	sha256_hex(der, (size_t)n, c->spki);
	OPENSSL_free(der);
	der = NULL;
	if ((n = i2d_X509(c->leaf, &der)) <= 0) {
		*cause = xasprintf("%s: cannot encode the certificate", c->where);
		return -1;
	}
	sha256_hex(der, (size_t)n, c->full);
	OPENSSL_free(der);
	return 0;
}

bool
push_tlsa_gate_armed(const struct site *site, const struct host *host)
{
	return site->tls.certificate != NULL && site->tls.ntlsa_ports > 0 &&
	    (host->roles & ROLE_POSTFIX) != 0 && !host->local && host->address != NULL &&
	    !ip_literal(host->address) && strcmp(host->address, "local") != 0 &&
	    strchr(host->address, '.') != NULL;
}

/* The certificate the apply makes Postfix serve: the host's file at that path (what
 * Postfix will read), else the local one (what the dns role computes TLSA from). */
static int
chain_load(struct xport *x, const struct host *host, const char *path, struct chain *c,
    char **cause)
{
	struct sbuf b;
	bool missing = false;
	char *e = NULL, *pem;
	size_t len;
	int rc;

	memset(c, 0, sizeof *c);
	sb_init(&b);
	if (path[0] == '/' && xport_read(x, path, &b, &missing, &e) == 0 && !missing) {
		c->where = xasprintf("host %s:%s", host->name, path);
		rc = chain_parse(c, b.s, b.len, cause);
		sb_free(&b);
		return rc;
	}
	sb_free(&b);
	free(e);
	e = NULL;
	if ((pem = read_input_file(path, IK_CERT, &len, &e)) == NULL) {
		c->where = xasprintf("%s", path);
		*cause = xasprintf("the new certificate %s is neither on host %s nor readable "
		    "here (%s)", path, host->name, e);
		free(e);
		return -1;
	}
	c->where = xasprintf("%s (local copy)", path);
	rc = chain_parse(c, pem, len, cause);
	free(pem);
	return rc;
}

/* Does the chain verify against the published records for name, as a DANE sender's
 * OpenSSL does it (RFC 7672: DANE-EE without name checks, DANE-TA with them; PKIX
 * usages unusable for SMTP)? 1 yes; 0 no, *why says OpenSSL's reason. */
static int
dane_matches(const struct chain *c, const char *name, const struct push_tlsa *t, bool smtp,
    char **why)
{
	SSL_CTX *sctx = NULL;
	SSL *ssl = NULL;
	X509_STORE *store = NULL;
	X509_STORE_CTX *xc = NULL;
	size_t usable = 0;
	int ok = 0;

	*why = NULL;
	if ((sctx = SSL_CTX_new(TLS_client_method())) == NULL ||
	    SSL_CTX_dane_enable(sctx) <= 0 || (ssl = SSL_new(sctx)) == NULL ||
	    SSL_dane_enable(ssl, name) <= 0)
		fatal("OpenSSL DANE setup failed");
	SSL_dane_set_flags(ssl, DANE_FLAG_NO_DANE_EE_NAMECHECKS);
	for (size_t i = 0; i < t->n; i++) {
		const struct push_tlsa_rr *rr = &t->v[i];

		if (smtp && (rr->usage == 0 || rr->usage == 1))
			continue;	/* RFC 7672 section 3.1.3 */
		if (SSL_dane_tlsa_add(ssl, (uint8_t)rr->usage, (uint8_t)rr->selector,
		    (uint8_t)rr->mtype, rr->data, rr->len) > 0)
			usable++;
		ERR_clear_error();
	}
	if (usable == 0) {
		*why = xstrdup(smtp ? "no usable record for SMTP (RFC 7672: only DANE-TA(2) "
		    "and DANE-EE(3))" : "no usable record");
		goto out;
	}
	if ((store = X509_STORE_new()) == NULL || (xc = X509_STORE_CTX_new()) == NULL ||
	    X509_STORE_CTX_init(xc, store, c->leaf, c->rest) != 1)
		fatal("X509_STORE_CTX setup failed");
	X509_STORE_CTX_set_default(xc, "ssl_server");
	X509_VERIFY_PARAM_set1(X509_STORE_CTX_get0_param(xc), SSL_get0_param(ssl));
	X509_STORE_CTX_set0_dane(xc, SSL_get0_dane(ssl));
	if (X509_verify_cert(xc) == 1)
		ok = 1;
	else
		*why = xstrdup(X509_verify_cert_error_string(X509_STORE_CTX_get_error(xc)));
	ERR_clear_error();
out:
	X509_STORE_CTX_free(xc);
	X509_STORE_free(store);
	SSL_free(ssl);
	SSL_CTX_free(sctx);
	return ok;
}

static void
records_fmt(const struct push_tlsa *t, struct sbuf *b)
{
	for (size_t i = 0; i < t->n; i++) {
		sb_addf(b, "%s%d %d %d ", i > 0 ? ", " : "", t->v[i].usage, t->v[i].selector,
		    t->v[i].mtype);
		hex_of(t->v[i].data, t->v[i].len > 64 ? 64 : t->v[i].len, b);
		if (t->v[i].len > 64)
			sb_add(b, "...");
	}
}

/* The service a mail port is, for the host's probe_ports ("smtp:off"). */
static const char *
port_service(int port)
{
	return port == 25 ? "smtp" : port == 465 ? "smtps" : port == 587 ? "submission" :
	    NULL;
}

int
tlsa_gate(struct xport *x, const struct site *site, const struct host *host,
    const struct push_opts *o, const struct tlsa_gate_in *in, struct push_result *r,
    char **cause)
{
	const struct tls_policy *tls = &site->tls;
	struct chain c;
	struct sbuf bad, names;
	const char *cert = in->cert_want != NULL ? in->cert_want : tls->certificate;
	char *e = NULL;
	size_t nbad = 0, nlooked = 0;
	int rc = 0;

	if (tls->certificate == NULL || tls->ntlsa_ports == 0 ||
	    (host->roles & ROLE_POSTFIX) == 0 || cert == NULL)
		return 0;
	if (same(in->cert_have, in->cert_want) && same(in->key_have, in->key_want))
		return 0;	/* the served certificate and key stay */
	if (host->local || host->address == NULL || ip_literal(host->address) ||
	    strcmp(host->address, "local") == 0) {
		strv_push_owned(&r->notes, xasprintf("TLSA gate: the certificate or key "
		    "changes, but host %s is addressed by %s, not by the DNS name its TLSA "
		    "records hang under: not checked (give it its MX name as address)",
		    host->name, host->address != NULL ? host->address : "nothing"));
		return 0;
	}
	if (strchr(host->address, '.') == NULL) {
		strv_push_owned(&r->notes, xasprintf("TLSA gate: the certificate or key "
		    "changes, but host %s is addressed by the single-label name %s (an SSH "
		    "alias, not an MX name senders look up): not checked", host->name,
		    host->address));
		return 0;
	}
	if (chain_load(x, host, cert, &c, &e) == -1) {
		char *msg = xasprintf("host %s: %s; the apply changes the certificate "
		    "Postfix serves and its key cannot be checked against the published TLSA "
		    "records", host->name, e);

		free(e);
		chain_free(&c);
		if (o->force_tlsa) {
			r->tlsa_forced = xasprintf("WARNING: --force-tlsa: %s", msg);
			strv_push_owned(&r->notes, xasprintf("TLSA gate OVERRIDDEN by "
			    "--force-tlsa: %s", msg));
		} else if (o->mode == PUSH_APPLY) {
			*cause = xasprintf("TLSA gate: %s: refused, nothing was changed", msg);
			r->tlsa_refused = xstrdup(*cause);
			rc = -1;
		} else {
			r->tlsa_refused = xasprintf("TLSA gate: %s", msg);
			strv_push_owned(&r->notes, xasprintf("TLSA gate: an apply would be "
			    "REFUSED: %s", msg));
		}
		free(msg);
		return rc;
	}
	sb_init(&bad);
	sb_init(&names);
	for (size_t j = 0; j < tls->ntlsa_ports; j++) {
		int port = tls->tlsa_ports[j];
		const char *svc = port_service(port);
		bool smtp = svc != NULL;
		struct push_tlsa t;
		char *q, *why = NULL;

		if (svc != NULL && host_port(host, svc, port) == 0)
			continue;	/* the host does not serve it (probe_ports svc:off) */
		q = xasprintf("_%d._tcp.%s", port, host->address);
		memset(&t, 0, sizeof t);
		nlooked++;
		if (o->tlsa_lookup == NULL)
			why = xstrdup("no DNS lookup is available to this run");
		else if (o->tlsa_lookup(site, q, &t, &e) != 0) {
			why = xasprintf("lookup failed: %s", e);
			free(e);
			e = NULL;
		} else if (t.n == 0) {
			if (!t.absent_proven)
				strv_push_owned(&r->notes, xasprintf("TLSA gate: %s: no TLSA record "
				    "(absence not DNSSEC-proven: %s): DANE senders do not "
				    "authenticate this port", q, t.why != NULL ? t.why : "?"));
		} else if (!t.secure) {
			why = xasprintf("%zu TLSA record%s NOT DNSSEC-validated: %s", t.n,
			    t.n == 1 ? "" : "s", t.why != NULL ? t.why : "unknown reason");
		} else if (dane_matches(&c, host->address, &t, smtp, &why) == 1) {
			strv_push_owned(&r->notes, xasprintf("TLSA gate: %s: the new key is "
			    "published (3 1 1 %s), DNSSEC-validated", q, c.spki));
		} else {
			char *w = why;

			why = xasprintf("the new certificate matches none of the published "
			    "records (OpenSSL: %s)", w);
			free(w);
		}
		if (why != NULL) {
			nbad++;
			sb_addf(&names, "%s%s", names.len > 0 ? ", " : "", q);
			sb_addf(&bad, "\n    %s (port %d): %s", q, port, why);
			if (t.n > 0) {
				sb_addf(&bad, "\n      published: ");
				records_fmt(&t, &bad);
			}
			free(why);
		}
		push_tlsa_free(&t);
		free(q);
	}
	if (nbad > 0) {
		char *msg = xasprintf("the apply changes the certificate Postfix serves on "
		    "host %s (smtpd_tls_cert_file %s -> %s) and its key is not published for "
		    "%s:%s\n    new key: 3 1 1 %s (3 0 1 %s, %s)\n  DANE senders (RFC 7672) "
		    "would refuse to deliver to %s. Publish the new key first: [tls] next_key "
		    "= (or next_certificate =) in the profile, apply the dns role, wait for "
		    "the TTL (RFC 7671 section 8.1), then change the certificate",
		    host->name, in->cert_have != NULL ? in->cert_have : "(not set)",
		    in->cert_want != NULL ? in->cert_want : "(not set)", names.s, bad.s,
		    c.spki, c.full, c.where, names.s);

		if (o->force_tlsa) {
			r->tlsa_forced = xasprintf("WARNING: --force-tlsa: %s", msg);
			strv_push_owned(&r->notes, xasprintf("TLSA gate OVERRIDDEN by "
			    "--force-tlsa: DANE WILL FAIL for senders at %s: %s", names.s, msg));
		} else if (o->mode == PUSH_APPLY) {
			*cause = xasprintf("TLSA gate: %s; or apply with --force-tlsa to break "
			    "DANE knowingly. Refused, nothing was changed", msg);
			rc = -1;
		} else {
			r->tlsa_refused = xasprintf("TLSA gate: %s", msg);
			strv_push_owned(&r->notes, xasprintf("TLSA gate: an apply would be "
			    "REFUSED: %s", msg));
		}
		free(msg);
	} else if (nlooked > 0)
		strv_push_owned(&r->notes, xasprintf("TLSA gate: the new certificate %s "
		    "matches the published TLSA records of host %s (or none are published)",
		    c.where, host->name));
	if (rc == -1)
		r->tlsa_refused = xstrdup(*cause);
	sb_free(&bad);
	sb_free(&names);
	chain_free(&c);
	return rc;
}
