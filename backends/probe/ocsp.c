/* ocsp.c: the ocsp probe kind (share/doc/HACKING.md §4.3): OCSP stapling on every HTTPS
 * endpoint of a vhost (RFC 6066 status_request, RFC 6960 responses, RFC 7633
 * must-staple). One handshake asking for the certificate status; then:
 *   - a stapled response is decoded and checked with OpenSSL's OCSP code: signed by the
 *     issuer or its delegated responder (OCSP_basic_verify against the trust store the
 *     other probes use), about the served certificate, within its validity window
 *     (5 minutes of clock skew): good -> ok; revoked, unknown, stale, unverifiable -> fail;
 *   - no stapled response: a certificate with the TLS feature status_request
 *     (must-staple) -> fail, browsers refuse it; else ok, with a note that clients then
 *     ask the CA's responder themselves (slower, and it tells the CA who connects). */
#include <stdlib.h>
#include <string.h>

#include <openssl/err.h>
#include <openssl/ocsp.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include "backends/probe/probe-int.h"

#define OCSP_SKEW	300	/* seconds of clock skew allowed on thisUpdate/nextUpdate */

/* RFC 7633: the certificate's TLS feature extension lists status_request (5). */
static bool
must_staple(X509 *x)
{
	STACK_OF(ASN1_INTEGER) *feat;
	bool yes = false;

	if ((feat = X509_get_ext_d2i(x, NID_tlsfeature, NULL, NULL)) == NULL)
		return false;
	for (int i = 0; i < sk_ASN1_INTEGER_num(feat); i++)
		if (ASN1_INTEGER_get(sk_ASN1_INTEGER_value(feat, i)) == 5)
			yes = true;
	sk_ASN1_INTEGER_pop_free(feat, ASN1_INTEGER_free);
	return yes;
}

/* The issuer of leaf among the chain the server sent, or NULL. */
static X509 *
find_issuer(STACK_OF(X509) *chain, X509 *leaf)
{
	for (int i = 0; chain != NULL && i < sk_X509_num(chain); i++) {
		X509 *c = sk_X509_value(chain, i);

		if (X509_check_issued(c, leaf) == X509_V_OK)
			return c;
	}
	return NULL;
}

static void
asn1_time_str(const ASN1_GENERALIZEDTIME *t, char *buf, size_t len)
{
	BIO *b = BIO_new(BIO_s_mem());
	int n;

	buf[0] = '\0';
	if (b == NULL)
		return;
	if (ASN1_GENERALIZEDTIME_print(b, t) == 1 && (n = BIO_read(b, buf, (int)len - 1)) > 0)
		buf[n] = '\0';
	BIO_free(b);
}

/* Judge the stapled DER response for leaf. */
static void
judge(struct probe *p, struct presult *r, SSL *ssl, X509 *leaf, const unsigned char *der,
    long len)
{
	const unsigned char *q = der;
	OCSP_RESPONSE *resp = NULL;
	OCSP_BASICRESP *bs = NULL;
	OCSP_CERTID *id = NULL;
	STACK_OF(X509) *chain = SSL_get_peer_cert_chain(ssl);
	ASN1_GENERALIZEDTIME *rev = NULL, *thisu = NULL, *nextu = NULL;
	X509 *issuer;
	int st, status, reason;
	char when[64];

	if ((resp = d2i_OCSP_RESPONSE(NULL, &q, len)) == NULL) {
		pr_note(r, PROBE_FAIL, "the stapled OCSP response (%ld bytes) does not decode",
		    len);
		pr_summary(r, "stapled response UNREADABLE");
		goto out;
	}
	if ((st = OCSP_response_status(resp)) != OCSP_RESPONSE_STATUS_SUCCESSFUL) {
		pr_note(r, PROBE_FAIL, "the stapled OCSP response says %s",
		    OCSP_response_status_str(st));
		pr_summary(r, "stapled response: %s", OCSP_response_status_str(st));
		goto out;
	}
	if ((bs = OCSP_response_get1_basic(resp)) == NULL ||
	    OCSP_basic_verify(bs, chain, SSL_CTX_get_cert_store(p->ctx->ssl), 0) != 1) {
		char *e = ssl_errstr();

		pr_note(r, PROBE_FAIL, "the stapled OCSP response is not signed by the "
		    "certificate's issuer or its responder: %s", e);
		pr_summary(r, "stapled response NOT VERIFIED");
		free(e);
		goto out;
	}
	if ((issuer = find_issuer(chain, leaf)) == NULL) {
		pr_note(r, PROBE_FAIL, "the server sent no issuer certificate: the stapled "
		    "response cannot be matched to the certificate");
		pr_summary(r, "no issuer in the chain");
		goto out;
	}
	if ((id = OCSP_cert_to_id(NULL, leaf, issuer)) == NULL ||
	    OCSP_resp_find_status(bs, id, &status, &reason, &rev, &thisu, &nextu) != 1) {
		pr_note(r, PROBE_FAIL, "the stapled OCSP response is about another "
		    "certificate");
		pr_summary(r, "stapled response for ANOTHER certificate");
		goto out;
	}
	if (OCSP_check_validity(thisu, nextu, OCSP_SKEW, -1) != 1) {
		ERR_clear_error();
		asn1_time_str(nextu != NULL ? nextu : thisu, when, sizeof when);
		pr_note(r, PROBE_FAIL, "the stapled OCSP response is out of date (next "
		    "update %s): the server does not refresh it", when);
		pr_summary(r, "stapled response STALE");
		goto out;
	}
	asn1_time_str(nextu != NULL ? nextu : thisu, when, sizeof when);
	switch (status) {
	case V_OCSP_CERTSTATUS_GOOD:
		pr_note(r, PROBE_OK, "stapled OCSP response: good, signed by the issuer, "
		    "next update %s", when);
		pr_summary(r, "stapled: good%s", must_staple(leaf) ? " (must-staple)" : "");
		break;
	case V_OCSP_CERTSTATUS_REVOKED:
		asn1_time_str(rev, when, sizeof when);
		pr_note(r, PROBE_FAIL, "stapled OCSP response: the certificate is REVOKED "
		    "(since %s, reason %s): replace it", when,
		    OCSP_crl_reason_str(reason));
		pr_summary(r, "certificate REVOKED (stapled response)");
		break;
	default:
		pr_note(r, PROBE_FAIL, "stapled OCSP response: status unknown: the responder "
		    "does not know this certificate");
		pr_summary(r, "stapled status UNKNOWN");
	}
out:
	OCSP_CERTID_free(id);
	OCSP_BASICRESP_free(bs);
	OCSP_RESPONSE_free(resp);
}

void
probe_ocsp_run(struct probe *p, struct presult *r)
{
	struct addrs a;
	struct conn c;
	const unsigned char *der = NULL;
	char *cause = NULL;
	X509 *leaf;
	SSL *ssl;
	long len;
	int rc;

	conn_init(&c, r->deadline);
	if ((rc = net_host_addrs(p->ctx, p->host, r->deadline, &a, &cause)) != 0) {
		if (rc != -2)
			pr_reach(r, false);
		pr_note(r, PROBE_FAIL, "%s", cause);
		pr_summary(r, "address lookup failed");
		goto out;
	}
	if (conn_connect(&c, &a, p->port, &cause) != 0) {
		pr_reach(r, false);
		pr_note(r, PROBE_FAIL, "%s", cause);
		pr_summary(r, "no connection");
		goto out;
	}
	pr_reach(r, true);
	if ((ssl = SSL_new(p->ctx->ssl)) == NULL)
		fatal("SSL_new failed");
	if (p->sni != NULL && !is_ip_literal(p->sni))
		SSL_set_tlsext_host_name(ssl, p->sni);
	SSL_set_tlsext_status_type(ssl, TLSEXT_STATUSTYPE_ocsp);
	if (conn_tls(&c, ssl, &cause) != 0) {
		pr_note(r, PROBE_FAIL, "TLS: %s", cause);
		pr_summary(r, "TLS handshake failed");
		goto out;
	}
	r->handshakes++;
	if ((leaf = SSL_get0_peer_certificate(c.ssl)) == NULL) {
		pr_note(r, PROBE_FAIL, "the server sent no certificate");
		pr_summary(r, "no certificate");
		goto out;
	}
	len = SSL_get_tlsext_status_ocsp_resp(c.ssl, &der);
	if (der != NULL && len > 0)
		judge(p, r, c.ssl, leaf, der, len);
	else if (must_staple(leaf)) {
		pr_note(r, PROBE_FAIL, "the certificate says must-staple (TLS feature "
		    "status_request, RFC 7633) but the server staples no OCSP response: "
		    "browsers refuse the connection; turn stapling on (Apache SSLUseStapling, "
		    "nginx ssl_stapling)");
		pr_summary(r, "must-staple certificate, NOTHING STAPLED");
	} else {
		pr_note(r, PROBE_OK, "no OCSP response stapled: clients ask the CA's "
		    "responder themselves (slower, and it tells the CA who connects)");
		pr_summary(r, "not stapled (optional)");
	}
out:
	conn_close(&c);
	free(cause);
}

void
ocsp_build(struct probe_build *b)
{
	for (size_t i = 0; b->host != NULL && i < b->neps; i++)
		if (b->eps[i].svc == SVCP_HTTPS && b->eps[i].vh != NULL)
			probe_add_svc(b, "ocsp", &b->eps[i]);
}
