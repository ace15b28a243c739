/* tls.c: TLS on every mail endpoint: protocol, cipher, chain, expiry, hostname,
 * renegotiation; the protocol versions accepted versus the profile's policy; DANE. */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/x509v3.h>

#include "backends/probe/parse.h"
#include "backends/probe/probe-int.h"
#include "profiles/tlsproto.h"

static const struct {
	int	 ossl;
	int	 tlsp;
	const char *name;
} versions[] = {
	{ TLS1_VERSION, TLSP_TLSV1, "TLSv1" },
	{ TLS1_1_VERSION, TLSP_TLSV1_1, "TLSv1.1" },
	{ TLS1_2_VERSION, TLSP_TLSV1_2, "TLSv1.2" },
	{ TLS1_3_VERSION, TLSP_TLSV1_3, "TLSv1.3" },
};

enum stage { ST_TCP, ST_PRELUDE, ST_TLS, ST_DONE };

/* Connect to the probe's endpoint, run the STARTTLS prelude, handshake. minv/maxv 0:
 * OpenSSL's defaults. On failure *stage says how far it got. */
static int
tls_session(struct probe *p, struct presult *r, const struct addrs *a, int minv,
    int maxv, const char *sni, struct conn *c, enum stage *stage, char **cause)
{
	struct sbuf log;
	SSL *ssl;
	char *e = NULL;

	*stage = ST_TCP;
	conn_init(c, r->deadline);
	if (conn_connect(c, a, p->port, cause) != 0) {
		pr_reach(r, false);
		return (-1);
	}
	pr_reach(r, true);
	*stage = ST_PRELUDE;
	sb_init(&log);
	if (starttls_prelude(c, svc_infos[p->svc].wrap, &log, &e) != 0) {
		*cause = xasprintf("%s before TLS: %s", svc_infos[p->svc].name, e);
		free(e);
		sb_free(&log);
		return (-1);
	}
	sb_free(&log);
	*stage = ST_TLS;
	if ((ssl = SSL_new(p->ctx->ssl)) == NULL)
		fatal("SSL_new failed");
	if (minv != 0) {
		SSL_set_min_proto_version(ssl, minv);
		SSL_set_max_proto_version(ssl, maxv);
		if (minv < TLS1_2_VERSION) {
			/* OpenSSL 3 refuses SHA-1 and TLS < 1.2 above level 0. */
			SSL_set_security_level(ssl, 0);
			SSL_set_cipher_list(ssl, "DEFAULT:@SECLEVEL=0");
		}
	} else if (maxv != 0)
		SSL_set_max_proto_version(ssl, maxv);
	if (sni != NULL && !is_ip_literal(sni))
		SSL_set_tlsext_host_name(ssl, sni);
	if (conn_tls(c, ssl, cause) != 0)
		return (-1);
	r->handshakes++;
	*stage = ST_DONE;
	return (0);
}

/* Read what an implicit-TLS mail server says first (so renegotiation does not meet
 * application data). */
static void
read_greeting(struct probe *p, struct conn *c)
{
	double saved = c->deadline, now = mono_now();
	char *e = NULL;
	int code;

	/* A real server greets at once; a TLS-only stand-in never does. */
	if (c->deadline > now + 1.5)
		c->deadline = now + 1.5;
	if (p->svc == SVCP_SMTPS) {
		if (smtp_read_reply(c, &code, NULL, &e) != 0)
			free(e);
	} else if (p->svc == SVCP_IMAPS || p->svc == SVCP_POP3S) {
		while (memchr(c->in.s != NULL ? c->in.s : "", '\n', c->in.len) == NULL) {
			if (conn_fill(c, &e) != 0) {
				free(e);
				break;
			}
		}
	}
	c->deadline = saved;
}

static bool
svc_is_smtp(int svc)
{
	return (svc == SVCP_SMTP || svc == SVCP_SUBMISSION || svc == SVCP_SMTPS);
}

/* Client-initiated renegotiation on an established session: 1 accepted, 0 refused,
 * -1 could not tell. */
static int
try_renegotiate(struct conn *c, struct sbuf *why)
{
	double saved = c->deadline, now = mono_now();
	char *e = NULL;
	int ret, rc = -1;

	if (c->deadline > now + 3)
		c->deadline = now + 3;
	ERR_clear_error();
	if (SSL_renegotiate(c->ssl) != 1) {
		e = ssl_errstr();
		sb_addf(why, "OpenSSL would not start a renegotiation: %s", e);
		free(e);
		goto out;
	}
	for (;;) {
		ret = SSL_do_handshake(c->ssl);
		if (ret == 1) {
			rc = SSL_renegotiate_pending(c->ssl) ? -1 : 1;
			if (rc == -1)
				sb_add(why, "renegotiation still pending");
			break;
		}
		switch (SSL_get_error(c->ssl, ret)) {
		case SSL_ERROR_WANT_READ:
		case SSL_ERROR_WANT_WRITE:
			if (conn_wait(c, SSL_get_error(c->ssl, ret) == SSL_ERROR_WANT_WRITE,
			    "during renegotiation", &e) != 0) {
				sb_add(why, e);
				free(e);
				e = NULL;
				rc = 0;
				goto out;
			}
			continue;
		default:
			e = ssl_errstr();
			sb_add(why, e);
			free(e);
			rc = 0;
			goto out;
		}
	}
out:
	c->deadline = saved;
	return (rc);
}

static void
strv_init_copy(struct strv *to, const struct strv *from)
{
	size_t i;

	memset(to, 0, sizeof *to);
	for (i = 0; i < from->n; i++)
		strv_push(to, from->v[i]);
}

static void
cert_report(struct probe *p, struct presult *r, SSL *ssl, bool *name_ok)
{
	X509 *cert = SSL_get0_peer_certificate(ssl);
	long vr = SSL_get_verify_result(ssl);
	const ASN1_TIME *na;
	int days = 0, secs = 0;
	struct strv cands = { 0 };
	char buf[256];
	size_t i;
	bool matched = false;

	*name_ok = false;
	if (cert == NULL) {
		pr_note(r, PROBE_FAIL, "no server certificate");
		pr_sumadd(r, "no certificate");
		return;
	}
	X509_NAME_oneline(X509_get_subject_name(cert), buf, sizeof buf);
	sb_addf(&r->details, "     subject %s\n", buf);
	X509_NAME_oneline(X509_get_issuer_name(cert), buf, sizeof buf);
	sb_addf(&r->details, "     issuer  %s\n", buf);
	if (vr == X509_V_OK) {
		pr_note(r, PROBE_OK, "chain verifies against the CA store%s%s",
		    p->ctx->site->tests_ca != NULL ? " and [tests] ca" : "",
		    getenv("SSL_CERT_FILE") != NULL ? " (SSL_CERT_FILE)" : "");
		pr_sumadd(r, "chain ok");
	} else {
		pr_note(r, PROBE_FAIL, "chain does not verify: %s (error %ld)",
		    X509_verify_cert_error_string(vr), vr);
		pr_sumadd(r, "chain: %s", X509_verify_cert_error_string(vr));
	}
	na = X509_get0_notAfter(cert);
	if (na != NULL && ASN1_TIME_diff(&days, &secs, NULL, na) == 1) {
		if (days < 0 || (days == 0 && secs < 0)) {
			pr_note(r, PROBE_FAIL, "certificate expired %d days ago", -days);
			pr_sumadd(r, "EXPIRED %d days ago", -days);
		} else if (days < 21) {
			pr_note(r, PROBE_WARN, "certificate expires in %d days (< 21)", days);
			pr_sumadd(r, "expires in %d days", days);
		} else {
			pr_note(r, PROBE_OK, "certificate valid for %d more days", days);
			pr_sumadd(r, "%d days left", days);
		}
	} else
		pr_note(r, PROBE_WARN, "cannot read the certificate's notAfter");
	strv_init_copy(&cands, &p->names);
	/* Port 25 of a host given by IP: its name is whatever the MX says. */
	if (p->svc == SVCP_SMTP && p->ctx->site->domain != NULL &&
	    (p->host->local || is_ip_literal(p->host->address))) {
		for (i = 0; i < cands.n; i++) {
			if (X509_check_host(cert, cands.v[i], 0, 0, NULL) == 1)
				break;
		}
		if (i == cands.n) {
			struct strv mx = { 0 };
			char *e = NULL;

			if (dns_mx_targets(p->ctx, p->ctx->site->domain, r->deadline, &mx,
			    &e) == 0) {
				for (i = 0; i < mx.n; i++)
					if (!strv_has(&cands, mx.v[i]))
						strv_push(&cands, mx.v[i]);
			} else
				sb_addf(&r->details, "     (no MX names to check: %s)\n", e);
			free(e);
			strv_free(&mx);
		}
	}
	if (cands.n == 0) {
		pr_note(r, PROBE_WARN, "no host name to check the certificate against (the "
		    "host address is an IP and no [autodiscover] or MX names this service)");
		pr_sumadd(r, "name not checked");
		strv_free(&cands);
		return;
	}
	for (i = 0; i < cands.n; i++) {
		if (X509_check_host(cert, cands.v[i], 0, 0, NULL) == 1) {
			pr_note(r, PROBE_OK, "certificate matches %s", cands.v[i]);
			pr_sumadd(r, "name ok (%s)", cands.v[i]);
			matched = true;
			break;
		}
	}
	if (!matched) {
		struct sbuf n;

		sb_init(&n);
		for (i = 0; i < cands.n; i++)
			sb_addf(&n, "%s%s", i > 0 ? ", " : "", cands.v[i]);
		pr_note(r, PROBE_FAIL, "certificate matches none of: %s", n.s);
		pr_sumadd(r, "WRONG NAME (want %s)", cands.v[0]);
		sb_free(&n);
	}
	strv_free(&cands);
	*name_ok = matched;
}

/* Renegotiation checks on an established TLS <= 1.2 session; returns a few words for
 * the summary. */
static const char *
reneg_report(struct probe *p, struct presult *r, struct conn *c)
{
	struct sbuf why;
	const char *word = "reneg inconclusive";
	int acc;
	bool enforce = svc_is_smtp(p->svc) && p->ctx->site->tls.no_renegotiation;

	if (SSL_get_secure_renegotiation_support(c->ssl))
		pr_note(r, PROBE_OK, "secure renegotiation (RFC 5746) supported");
	else {
		pr_note(r, PROBE_FAIL, "secure renegotiation (RFC 5746) NOT supported "
		    "(CVE-2009-3555)");
		return ("NO secure renegotiation");
	}
	read_greeting(p, c);
	sb_init(&why);
	acc = try_renegotiate(c, &why);
	if (acc == 1) {
		r->handshakes++;
		if (enforce) {
			pr_note(r, PROBE_FAIL, "client-initiated renegotiation ACCEPTED, but "
			    "[tls] no_renegotiation = yes (tls_ssl_options = NO_RENEGOTIATION "
			    "missing on the server?)");
			word = "client reneg ACCEPTED";
		} else {
			pr_note(r, svc_is_smtp(p->svc) ? PROBE_OK : PROBE_WARN,
			    "client-initiated renegotiation accepted%s",
			    svc_is_smtp(p->svc) ? " (allowed: [tls] no_renegotiation = no)" :
			    " (a CPU exhaustion vector)");
			word = "client reneg accepted";
		}
	} else if (acc == 0) {
		pr_note(r, PROBE_OK, "client-initiated renegotiation refused (%s)", why.s);
		word = "client reneg refused";
	} else
		pr_note(r, PROBE_WARN, "renegotiation test inconclusive: %s", why.s);
	sb_free(&why);
	return (word);
}

/* The host's addresses; on failure the result says so (unreachable, fail). */
static int
host_addrs(struct probe *p, struct presult *r, struct addrs *a)
{
	char *cause = NULL;

	if (net_host_addrs(p->ctx, p->host, r->deadline, a, &cause) == 0)
		return 0;
	pr_reach(r, false);
	pr_note(r, PROBE_FAIL, "%s", cause);
	pr_summary(r, "address lookup failed");
	free(cause);
	return -1;
}

void
probe_tls_run(struct probe *p, struct presult *r)
{
	struct addrs a;
	struct conn c;
	enum stage st;
	char *cause = NULL, *legacy = NULL;
	bool name_ok;
	int bits = 0;

	if (host_addrs(p, r, &a) != 0)
		return;
	if (tls_session(p, r, &a, 0, 0, p->sni, &c, &st, &cause) != 0 && st == ST_TLS &&
	    !pr_expired(r)) {
		/* Maybe only a legacy handshake works (TLS 1.0, SHA-1): say so, go on. */
		conn_close(&c);
		if (tls_session(p, r, &a, TLS1_VERSION, TLS1_3_VERSION, p->sni, &c, &st,
		    &legacy) == 0) {
			pr_note(r, PROBE_WARN, "a default handshake fails (%s); only one at "
			    "security level 0 (legacy protocol or signature) succeeds", cause);
			free(cause);
			cause = NULL;
		} else {
			free(legacy);
			legacy = NULL;
			st = ST_TLS;	/* report the first, default handshake */
		}
	}
	if (cause != NULL) {
		if (st == ST_TCP && c.refused &&
		    (p->svc == SVCP_IMAP || p->svc == SVCP_POP3)) {
			pr_note(r, PROBE_OK, "%s (port closed: clients use implicit TLS on "
			    "%s)", cause, p->svc == SVCP_IMAP ? "993" : "995");
			pr_summary(r, "not offered (port closed)");
		} else {
			pr_note(r, PROBE_FAIL, "%s", cause);
			pr_summary(r, "%s", st == ST_TCP ? "unreachable" : st == ST_PRELUDE ?
			    "STARTTLS dialogue failed" : "TLS handshake failed");
			pr_sumadd(r, "%s", cause);
		}
		free(cause);
		conn_close(&c);
		return;
	}
	SSL_get_cipher_bits(c.ssl, &bits);
	pr_note(r, PROBE_OK, "negotiated %s with %s (%d bits)", SSL_get_version(c.ssl),
	    SSL_get_cipher_name(c.ssl), bits);
	pr_summary(r, "%s %s", SSL_get_version(c.ssl), SSL_get_cipher_name(c.ssl));
	cert_report(p, r, c.ssl, &name_ok);
	conn_close(&c);
}

void
probe_tlsver_run(struct probe *p, struct presult *r)
{
	struct addrs a;
	struct conn c;
	enum stage st;
	struct sbuf acc;
	char *cause = NULL;
	unsigned accepted = 0, tested = 0, extra, missing;
	size_t i;
	const char *reneg = NULL;

	if (host_addrs(p, r, &a) != 0)
		return;
	sb_init(&acc);
	for (i = 0; i < nitems(versions); i++) {
		if (tls_session(p, r, &a, versions[i].ossl, versions[i].ossl, p->sni, &c, &st,
		    &cause) == 0) {
			accepted |= TLSP_BIT(versions[i].tlsp);
			tested |= TLSP_BIT(versions[i].tlsp);
			pr_note(r, PROBE_OK, "%s accepted (%s)", versions[i].name,
			    SSL_get_cipher_name(c.ssl));
			sb_addf(&acc, "%s%s", acc.len > 0 ? " " : "", versions[i].name);
			/* Renegotiation on the TLS 1.2 session (TLS 1.3 has none). */
			if (versions[i].ossl == TLS1_2_VERSION) {
				reneg = reneg_report(p, r, &c);
			}
		} else if (st == ST_TLS && !pr_expired(r)) {
			tested |= TLSP_BIT(versions[i].tlsp);
			sb_addf(&r->details, "     %s refused: %s\n", versions[i].name, cause);
		} else if (st == ST_TCP && c.refused && tested == 0 &&
		    (p->svc == SVCP_IMAP || p->svc == SVCP_POP3)) {
			pr_note(r, PROBE_OK, "%s (port closed: clients use implicit TLS on "
			    "%s)", cause, p->svc == SVCP_IMAP ? "993" : "995");
			pr_summary(r, "not offered (port closed)");
			free(cause);
			conn_close(&c);
			sb_free(&acc);
			return;
		} else {
			/* Not a TLS verdict: the server is unreachable or broken. */
			pr_note(r, PROBE_FAIL, "%s not testable: %s", versions[i].name, cause);
			pr_summary(r, "%s: %s", st == ST_TCP ? "unreachable" : st == ST_PRELUDE ?
			    "STARTTLS dialogue failed" : "timed out", cause);
			free(cause);
			conn_close(&c);
			sb_free(&acc);
			return;
		}
		free(cause);
		cause = NULL;
		conn_close(&c);
	}
	if (tested != (TLSP_BIT(TLSP_TLSV1) | TLSP_BIT(TLSP_TLSV1_1) |
	    TLSP_BIT(TLSP_TLSV1_2) | TLSP_BIT(TLSP_TLSV1_3))) {
		pr_summary(r, "could not test every version");
		sb_free(&acc);
		return;
	}
	if (reneg == NULL)
		pr_note(r, PROBE_OK, "renegotiation not tested: no TLS 1.2 session (TLS 1.3 "
		    "has no renegotiation)");
	pr_summary(r, "accepts %s", acc.len > 0 ? acc.s : "nothing");
	if (accepted == 0)
		pr_note(r, PROBE_FAIL, "no TLS version accepted");
	extra = accepted & ~p->policy;
	missing = p->policy & ~accepted;
	for (i = 0; i < nitems(versions); i++) {
		if (extra & TLSP_BIT(versions[i].tlsp)) {
			pr_note(r, PROBE_FAIL, "%s accepted but the profile disables it (%s)",
			    versions[i].name, p->policy_src);
			pr_sumadd(r, "%s NOT ALLOWED", versions[i].name);
		}
		if (missing & TLSP_BIT(versions[i].tlsp)) {
			pr_note(r, PROBE_WARN, "%s refused but the profile enables it (%s)",
			    versions[i].name, p->policy_src);
			pr_sumadd(r, "%s missing", versions[i].name);
		}
	}
	if (extra == 0 && missing == 0)
		pr_sumadd(r, "as %s", p->policy_src);
	if (reneg != NULL)
		pr_sumadd(r, "%s", reneg);
	sb_free(&acc);
}

/* ---- DANE ---- */

int
dane_match(STACK_OF(X509) *chain, const struct tlsa_rec *rec)
{
	unsigned char *der = NULL, md[EVP_MAX_MD_SIZE];
	unsigned int mdlen = 0;
	const EVP_MD *alg;
	X509 *x;
	int i, n, len, first, last, match = 0;

	if (chain == NULL || (n = sk_X509_num(chain)) == 0)
		return (0);
	switch (rec->usage) {
	case 3:	/* DANE-EE: the leaf */
	case 1:	/* PKIX-EE */
		first = last = 0;
		break;
	case 2:	/* DANE-TA: any certificate above the leaf */
	case 0:
		first = n > 1 ? 1 : 0;
		last = n - 1;
		break;
	default:
		return (-1);
	}
	if (rec->selector != 0 && rec->selector != 1)
		return (-1);
	switch (rec->mtype) {
	case 0:
		alg = NULL;
		break;
	case 1:
		alg = EVP_sha256();
		break;
	case 2:
		alg = EVP_sha512();
		break;
	default:
		return (-1);
	}
	for (i = first; i <= last && !match; i++) {
		x = sk_X509_value(chain, i);
		der = NULL;
		if (rec->selector == 0)
			len = i2d_X509(x, &der);
		else
			len = i2d_X509_PUBKEY(X509_get_X509_PUBKEY(x), &der);
		if (len <= 0)
			continue;
		if (alg == NULL)
			match = (size_t)len == rec->len && memcmp(der, rec->data, rec->len) == 0;
		else if (EVP_Digest(der, (size_t)len, md, &mdlen, alg, NULL) == 1)
			match = mdlen == rec->len && memcmp(md, rec->data, mdlen) == 0;
		OPENSSL_free(der);
	}
	return (match);
}

static char *
hex(const unsigned char *d, size_t n)
{
	char *s = xmalloc(n * 2 + 1);
	size_t i;

	for (i = 0; i < n; i++)
		snprintf(s + i * 2, 3, "%02x", d[i]);
	s[n * 2] = '\0';
	return (s);
}

static void
dane_one(struct probe *p, struct presult *r, const struct addrs *a, const char *base)
{
	struct tlsa_set ts;
	struct conn c;
	enum stage st;
	char *qname = xasprintf("_%d._tcp.%s", p->stdport, base), *cause = NULL, *h;
	size_t i;
	int m, matched = 0, usable = 0;

	memset(&ts, 0, sizeof ts);
	if (dns_tlsa(p->ctx, qname, r->deadline, &ts, &cause) != 0) {
		pr_note(r, PROBE_FAIL, "%s: %s", qname, cause);
		pr_sumadd(r, "%s: TLSA lookup failed", qname);
		goto out;
	}
	if (ts.n == 0 && ts.absent_proven) {
		pr_note(r, PROBE_FAIL, "%s: no TLSA record, absence proven by DNSSEC (%s), "
		    "but [tls] dane = yes", qname, ts.nxdomain ? "NXDOMAIN" : "NODATA");
		pr_sumadd(r, "%s: no TLSA (proven absent)", qname);
		goto out;
	}
	if (ts.n == 0) {
		pr_note(r, PROBE_FAIL, "%s: no TLSA record, absence not DNSSEC-proven: %s",
		    qname, ts.insecure_why != NULL ? ts.insecure_why : "unknown");
		pr_sumadd(r, "%s: no TLSA (unproven)", qname);
		goto out;
	}
	if (!ts.secure) {
		pr_note(r, PROBE_FAIL, "%s: TLSA not DNSSEC-validated: %s", qname,
		    ts.insecure_why != NULL ? ts.insecure_why : "unknown");
		pr_sumadd(r, "%s: DNSSEC %s", qname, ts.insecure_why != NULL &&
		    strncmp(ts.insecure_why, "BOGUS", 5) == 0 ? "BOGUS" : "insecure");
		goto out;
	}
	if (tls_session(p, r, a, 0, 0, base, &c, &st, &cause) != 0) {
		pr_note(r, PROBE_FAIL, "%s", cause);
		pr_sumadd(r, "%s: no TLS session", qname);
		conn_close(&c);
		goto out;
	}
	for (i = 0; i < ts.n; i++) {
		h = hex(ts.v[i].data, ts.v[i].len);
		m = dane_match(SSL_get_peer_cert_chain(c.ssl), &ts.v[i]);
		if (m >= 0)
			usable++;
		if (m == 1)
			matched++;
		sb_addf(&r->details, "     %s TLSA %d %d %d %.64s%s: %s\n", qname,
		    ts.v[i].usage, ts.v[i].selector, ts.v[i].mtype, h,
		    ts.v[i].len * 2 > 64 ? "..." : "",
		    m == 1 ? "matches" : m == 0 ? "does not match" : "unsupported");
		free(h);
	}
	conn_close(&c);
	if (matched > 0) {
		pr_note(r, PROBE_OK, "%s: %d of %zu TLSA records match the certificate "
		    "served (DNSSEC validated)", qname, matched, ts.n);
		pr_sumadd(r, "%s: TLSA match", qname);
	} else {
		pr_note(r, PROBE_FAIL, "%s: no TLSA record matches the certificate served "
		    "(%d usable records)", qname, usable);
		pr_sumadd(r, "%s: TLSA MISMATCH", qname);
	}
out:
	free(cause);
	free(qname);
	tlsa_set_free(&ts);
}

void
probe_dane_run(struct probe *p, struct presult *r)
{
	struct addrs a;
	struct strv bases = { 0 };
	char *cause = NULL;
	size_t i;

	if (host_addrs(p, r, &a) != 0)
		return;
	if (!p->host->local && !is_ip_literal(p->host->address))
		strv_push(&bases, p->host->address);
	else if (p->ctx->site->domain != NULL &&
	    dns_mx_targets(p->ctx, p->ctx->site->domain, r->deadline, &bases, &cause) != 0) {
		pr_note(r, PROBE_FAIL, "host address is an IP, and the MX lookup for the TLSA "
		    "name failed: %s", cause);
		pr_summary(r, "no TLSA name");
		free(cause);
		return;
	}
	if (bases.n == 0) {
		pr_note(r, PROBE_FAIL, "no name to look up TLSA records for");
		pr_summary(r, "no TLSA name");
	}
	for (i = 0; i < bases.n && !pr_expired(r); i++)
		dane_one(p, r, &a, bases.v[i]);
	strv_free(&bases);
}
