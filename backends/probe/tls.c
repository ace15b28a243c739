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

/* Every certificate verification error OpenSSL meets, not only the first: the verify
 * callback records each (depth, error) and lets the verification go on. */
struct verrs {
	int	 n;
	struct {
		int	 depth, err;
	} v[16];
};

static int
collect_verify(int ok, X509_STORE_CTX *xs)
{
	SSL *ssl = X509_STORE_CTX_get_ex_data(xs, SSL_get_ex_data_X509_STORE_CTX_idx());
	struct verrs *ve = ssl != NULL ? SSL_get_app_data(ssl) : NULL;
	int i, depth = X509_STORE_CTX_get_error_depth(xs), err;

	if (ok || ve == NULL)
		return (1);
	err = X509_STORE_CTX_get_error(xs);
	for (i = 0; i < ve->n; i++)
		if (ve->v[i].depth == depth && ve->v[i].err == err)
			return (1);
	if (ve->n < (int)nitems(ve->v)) {
		ve->v[ve->n].depth = depth;
		ve->v[ve->n].err = err;
		ve->n++;
	}
	return (1);	/* the verdict is read afterwards, never enforced here */
}

/* DANE for one session (RFC 6698; RFC 7672 on SMTP ports), verified by OpenSSL. */
struct dane_cfg {
	const char *base;	/* TLSA base domain: SNI and reference name */
	const char *nexthop;	/* SMTP: the next-hop domain, a second reference name */
	const struct tlsa_set *ts;
	bool	 smtp;
	int	*added;		/* per record: 1 added, 0 skipped (unusable), -1 error */
	int	 nadded;
};

static void
dane_setup(SSL *ssl, struct dane_cfg *d)
{
	const struct tlsa_rec *t;
	size_t i;

	if (SSL_dane_enable(ssl, d->base) <= 0)
		fatal("SSL_dane_enable failed");
	if (d->smtp) {
		/* RFC 7672 section 3.2.3: no name checks for DANE-EE(3). */
		SSL_dane_set_flags(ssl, DANE_FLAG_NO_DANE_EE_NAMECHECKS);
		if (d->nexthop != NULL && !str_ieq(d->nexthop, d->base))
			SSL_add1_host(ssl, d->nexthop);
	}
	d->nadded = 0;
	for (i = 0; i < d->ts->n; i++) {
		t = &d->ts->v[i];
		if (dane_unusable(t->usage, t->selector, t->mtype, t->len, d->smtp) != NULL) {
			d->added[i] = 0;
			continue;
		}
		ERR_clear_error();
		d->added[i] = SSL_dane_tlsa_add(ssl, (uint8_t)t->usage, (uint8_t)t->selector,
		    (uint8_t)t->mtype, t->data, t->len) > 0 ? 1 : -1;
		ERR_clear_error();
		if (d->added[i] == 1)
			d->nadded++;
	}
}

/* Connect to the probe's endpoint, run the STARTTLS prelude, handshake. minv/maxv 0:
 * OpenSSL's defaults; sni NULL: no SNI (with DANE: the TLSA base domain); ve collects
 * the verification errors (may be NULL). On failure *stage says how far it got. */
static int
tls_session(struct probe *p, struct presult *r, const struct addrs *a, int minv,
    int maxv, const char *sni, struct dane_cfg *dane, struct verrs *ve, struct conn *c,
    enum stage *stage, char **cause)
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
	if (starttls_prelude(c, svc_wraps[p->svc], &log, &e) != 0) {
		*cause = xasprintf("%s before TLS: %s", host_services[p->svc].name, e);
		free(e);
		sb_free(&log);
		return (-1);
	}
	sb_free(&log);
	*stage = ST_TLS;
	if ((ssl = SSL_new(p->ctx->ssl)) == NULL)
		fatal("SSL_new failed");
	if (ve != NULL) {
		memset(ve, 0, sizeof *ve);
		SSL_set_app_data(ssl, ve);
		SSL_set_verify(ssl, SSL_VERIFY_NONE, collect_verify);
	}
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
	if (dane != NULL)
		dane_setup(ssl, dane);
	{
		double t0 = mono_now();

		if (conn_tls(c, ssl, cause) != 0)
			return (-1);
		if (!r->has_handshake) {
			r->has_handshake = true;
			r->handshake_ms = (mono_now() - t0) * 1000;
		}
	}
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

/* "CN=mx1.lab.test (DNS:mx1.lab.test, DNS:lab.test)" */
static char *
cert_names(X509 *x)
{
	GENERAL_NAMES *gens = X509_get_ext_d2i(x, NID_subject_alt_name, NULL, NULL);
	struct sbuf b;
	char cn[256];
	int i, k = 0;

	sb_init(&b);
	if (X509_NAME_get_text_by_NID(X509_get_subject_name(x), NID_commonName, cn,
	    sizeof cn) > 0)
		sb_addf(&b, "CN=%s", cn);
	else
		sb_add(&b, "no CN");
	for (i = 0; gens != NULL && i < sk_GENERAL_NAME_num(gens); i++) {
		const GENERAL_NAME *g = sk_GENERAL_NAME_value(gens, i);

		if (g->type != GEN_DNS || k >= 6)
			continue;
		sb_addf(&b, "%s%.*s", k++ == 0 ? " (DNS:" : ", DNS:",
		    ASN1_STRING_length(g->d.dNSName) > 100 ? 100 :
		    ASN1_STRING_length(g->d.dNSName),
		    (const char *)ASN1_STRING_get0_data(g->d.dNSName));
	}
	if (k > 0)
		sb_add(&b, ")");
	GENERAL_NAMES_free(gens);
	return (sb_steal(&b));
}

/* Errors the weakness checks below report per certificate. */
static bool
verr_is_weakness(int err)
{
	return (err == X509_V_ERR_EE_KEY_TOO_SMALL || err == X509_V_ERR_CA_KEY_TOO_SMALL ||
	    err == X509_V_ERR_CA_MD_TOO_WEAK);
}

/* Key type/size and signature algorithm of every certificate sent, and each weakness
 * on its own (112 security bits: OpenSSL's level 2, RSA >= 2048, no SHA-1). */
static void
chain_report(struct presult *r, SSL *ssl)
{
	STACK_OF(X509) *ch = SSL_get_peer_cert_chain(ssl);
	int i, bits, sec, mdnid = 0, pknid = 0, sigsec = -1;
	uint32_t flags = 0;
	char grp[64], *nm;
	const char *kt, *sig;
	EVP_PKEY *k;
	X509 *x;
	bool self;
	struct probe_cert pc;

	for (i = 0; ch != NULL && i < sk_X509_num(ch); i++) {
		x = sk_X509_value(ch, i);
		k = X509_get0_pubkey(x);
		kt = k != NULL ? EVP_PKEY_get0_type_name(k) : NULL;
		bits = k != NULL ? EVP_PKEY_get_bits(k) : 0;
		sec = k != NULL ? EVP_PKEY_get_security_bits(k) : 0;
		grp[0] = '\0';
		if (k != NULL && EVP_PKEY_get_group_name(k, grp, sizeof grp, NULL) != 1)
			grp[0] = '\0';
		sig = OBJ_nid2ln(X509_get_signature_nid(x));
		sigsec = -1;
		if (X509_get_signature_info(x, &mdnid, &pknid, &sigsec, &flags) != 1)
			sigsec = -1;
		self = X509_self_signed(x, 0) == 1;
		nm = cert_names(x);
		pc.depth = i;
		pc.subject = nm;
		pc.key_type = kt;
		pc.key_group = grp;
		pc.key_bits = bits;
		pc.security_bits = sec;
		pc.signature = sig;
		pc.signature_security_bits = sigsec;
		pc.self_signed = self;
		pr_cert(r, &pc);
		sb_addf(&r->details, "     chain[%d] %s: key=%s%s%s bits=%d security_bits=%d "
		    "signature=%s%s\n", i, nm, kt != NULL ? kt : "unknown",
		    grp[0] != '\0' ? "/" : "", grp, bits, sec, sig != NULL ? sig : "unknown",
		    self ? " (self-signed)" : "");
		if (k == NULL || sec < 112) {
			pr_note(r, PROBE_FAIL, "chain[%d] %s: %s key of %d bits is too weak "
			    "(%d security bits, 112 needed: RSA/DSA >= 2048, EC >= 224)", i, nm,
			    kt != NULL ? kt : "unknown", bits, sec);
			pr_sumadd(r, "WEAK KEY %s-%d (chain[%d])", kt != NULL ? kt : "?", bits, i);
		}
		/* A self-signed root's own signature is never checked. */
		if (!self && sigsec >= 0 && sigsec < 112) {
			pr_note(r, PROBE_FAIL, "chain[%d] %s is signed with %s: %s signatures "
			    "are forgeable (%d security bits, 112 needed)", i, nm,
			    sig != NULL ? sig : "?", OBJ_nid2sn(mdnid) != NULL ?
			    OBJ_nid2sn(mdnid) : "its digest", sigsec);
			pr_sumadd(r, "WEAK SIGNATURE %s (chain[%d])", OBJ_nid2sn(mdnid) != NULL ?
			    OBJ_nid2sn(mdnid) : "?", i);
		}
		free(nm);
	}
}

static void
cert_report(struct probe *p, struct presult *r, SSL *ssl, const struct verrs *ve,
    bool *name_ok)
{
	X509 *cert = SSL_get0_peer_certificate(ssl);
	long vr = SSL_get_verify_result(ssl);
	const ASN1_TIME *na;
	int days = 0, secs = 0, nerr = 0, j;
	struct strv cands = { 0 };
	char buf[256];
	size_t i;
	bool matched = false, seen = false;

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
	chain_report(r, ssl);
	/* Every verification error, each on its own (key and digest strength: above). */
	for (j = 0; j < ve->n; j++) {
		if (ve->v[j].err == vr)
			seen = true;
		if (verr_is_weakness(ve->v[j].err))
			continue;
		pr_note(r, PROBE_FAIL, "chain does not verify: %s (error %d, at depth %d)",
		    X509_verify_cert_error_string(ve->v[j].err), ve->v[j].err,
		    ve->v[j].depth);
		if (nerr++ == 0)
			pr_sumadd(r, "chain: %s", X509_verify_cert_error_string(ve->v[j].err));
	}
	if (vr != X509_V_OK && !seen && !verr_is_weakness((int)vr)) {
		pr_note(r, PROBE_FAIL, "chain does not verify: %s (error %ld)",
		    X509_verify_cert_error_string(vr), vr);
		if (nerr++ == 0)
			pr_sumadd(r, "chain: %s", X509_verify_cert_error_string(vr));
	}
	if (nerr == 0 && vr == X509_V_OK) {
		pr_note(r, PROBE_OK, "chain verifies against the CA store%s%s",
		    p->ctx->site->tests_ca != NULL ? " and [tests] ca" : "",
		    getenv("SSL_CERT_FILE") != NULL ? " (SSL_CERT_FILE)" : "");
		pr_sumadd(r, "chain ok");
	} else if (nerr == 0)
		pr_note(r, PROBE_OK, "chain verifies against the CA store%s apart from the "
		    "weak keys or signatures above", getenv("SSL_CERT_FILE") != NULL ?
		    " (SSL_CERT_FILE)" : "");
	na = X509_get0_notAfter(cert);
	if (na != NULL && ASN1_TIME_diff(&days, &secs, NULL, na) == 1) {
		/* Whole days left, -1 from the first second after notAfter; the smallest
		 * over the probe's handshakes is what the result carries. */
		int left = days - (days <= 0 && secs < 0 ? 1 : 0);

		if (!r->has_cert_days || left < r->cert_days)
			r->cert_days = left;
		r->has_cert_days = true;
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
	    (p->host->local || is_ip_literal(probe_host_address(p->ctx->site,
	    p->ctx->addresses, p->host)))) {
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
	int rc;

	if ((rc = net_host_addrs(p->ctx, p->host, r->deadline, a, &cause)) == 0)
		return 0;
	/* DNSSEC-bogus data is a failed test of the zone, not an unreachable host. */
	if (rc != -2)
		pr_reach(r, false);
	pr_note(r, PROBE_FAIL, "%s", cause);
	pr_summary(r, "%s", rc == -2 ? "DNSSEC BOGUS (address lookup)" :
	    "address lookup failed");
	free(cause);
	return -1;
}

/* SMTP servers: Postfix's SMTP client sends no SNI (smtp_tls_servername is empty
 * unless DANE), so a server that picks its certificate by SNI shows senders another one
 * than the name-based handshake saw. Handshake again without SNI and compare. */
static void
sni_compare(struct probe *p, struct presult *r, const struct addrs *a, X509 *x1,
    int minv, int maxv)
{
	X509 *x2;
	struct conn c;
	enum stage st;
	char *cause = NULL, *n1, *n2;
	size_t i;
	bool ok = false;

	if (tls_session(p, r, a, minv, maxv, NULL, NULL, NULL, &c, &st, &cause) != 0) {
		pr_note(r, PROBE_WARN, "a handshake without SNI (as Postfix's SMTP client "
		    "makes) fails: %s", cause);
		pr_sumadd(r, "NO-SNI HANDSHAKE FAILS");
		free(cause);
		conn_close(&c);
		return;
	}
	x2 = SSL_get0_peer_certificate(c.ssl);
	if (x2 != NULL && X509_cmp(x1, x2) == 0) {
		pr_note(r, PROBE_OK, "the same certificate with and without SNI (Postfix's "
		    "SMTP client sends none)");
		conn_close(&c);
		return;
	}
	n1 = cert_names(x1);
	n2 = x2 != NULL ? cert_names(x2) : xstrdup("no certificate");
	for (i = 0; x2 != NULL && i < p->names.n && !ok; i++)
		ok = X509_check_host(x2, p->names.v[i], 0, 0, NULL) == 1;
	pr_note(r, PROBE_WARN, "the certificate depends on SNI: with SNI %s the server "
	    "presents %s; without SNI (Postfix's SMTP client and most MTAs) it presents "
	    "%s%s", p->sni, n1, n2, ok ? ", which also matches" :
	    ", which does NOT match the service's names");
	pr_sumadd(r, "NO-SNI CERT DIFFERS (%s)", n2);
	free(n1);
	free(n2);
	conn_close(&c);
}

void
probe_tls_run(struct probe *p, struct presult *r)
{
	struct addrs a;
	struct verrs ve;
	struct conn c;
	enum stage st;
	char *cause = NULL, *legacy = NULL;
	bool name_ok;
	int bits = 0, lminv = 0, lmaxv = 0;
	X509 *x1;

	if (host_addrs(p, r, &a) != 0)
		return;
	if (tls_session(p, r, &a, 0, 0, p->sni, NULL, &ve, &c, &st, &cause) != 0 &&
	    st == ST_TLS &&
	    !pr_expired(r)) {
		/* Maybe only a legacy handshake works (TLS 1.0, SHA-1): say so, go on. */
		conn_close(&c);
		if (tls_session(p, r, &a, TLS1_VERSION, TLS1_3_VERSION, p->sni, NULL, &ve,
		    &c, &st, &legacy) == 0) {
			pr_note(r, PROBE_WARN, "a default handshake fails (%s); only one at "
			    "security level 0 (legacy protocol or signature) succeeds", cause);
			lminv = TLS1_VERSION;
			lmaxv = TLS1_3_VERSION;
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
	snprintf(r->protocol, sizeof r->protocol, "%s", SSL_get_version(c.ssl));
	snprintf(r->cipher, sizeof r->cipher, "%s", SSL_get_cipher_name(c.ssl));
	cert_report(p, r, c.ssl, &ve, &name_ok);
	x1 = SSL_get1_peer_certificate(c.ssl);
	/* Closed first: a server may take one connection at a time (s_server). */
	conn_close(&c);
	if (x1 != NULL && svc_is_smtp(p->svc) && p->sni != NULL && !is_ip_literal(p->sni))
		sni_compare(p, r, &a, x1, lminv, lmaxv);
	X509_free(x1);
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
		if (tls_session(p, r, &a, versions[i].ossl, versions[i].ossl, p->sni, NULL,
		    NULL, &c, &st, &cause) == 0) {
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
	r->has_protocols = true;
	r->tls_accepted = accepted;
	r->tls_allowed = p->policy & (TLSP_BIT(TLSP_TLSV1) | TLSP_BIT(TLSP_TLSV1_1) |
	    TLSP_BIT(TLSP_TLSV1_2) | TLSP_BIT(TLSP_TLSV1_3));
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

const char *
dane_unusable(int usage, int selector, int mtype, size_t len, bool smtp)
{
	if (usage < 0 || usage > 3)
		return ("unknown certificate usage (RFC 6698: 0-3)");
	if (smtp && usage == 0)
		return ("PKIX-TA(0) is unusable for SMTP (RFC 7672 section 3.1.3: an SMTP "
		    "client has no trusted CAs for DANE; Postfix: \"unsupported TLSA "
		    "certificate usage: 0\")");
	if (smtp && usage == 1)
		return ("PKIX-EE(1) is unusable for SMTP (RFC 7672 section 3.1.3: an SMTP "
		    "client has no trusted CAs for DANE; Postfix: \"unsupported TLSA "
		    "certificate usage: 1\")");
	if (selector != 0 && selector != 1)
		return ("unknown selector (RFC 6698: 0 full certificate, 1 public key)");
	if (mtype < 0 || mtype > 2)
		return ("unknown matching type (RFC 6698: 0 full, 1 SHA2-256, 2 SHA2-512)");
	if (mtype == 1 && len != 32)
		return ("a SHA2-256 digest is 32 bytes long, this one is not");
	if (mtype == 2 && len != 64)
		return ("a SHA2-512 digest is 64 bytes long, this one is not");
	if (len == 0)
		return ("empty certificate association data");
	return (NULL);
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

/* Does TLSA record t (usage 3) name leaf: its certificate (selector 0) or public key
 * (selector 1), in full (matching type 0) or as SHA-256/512 (1/2)? */
static bool
ee_names(const struct tlsa_rec *t, X509 *leaf)
{
	unsigned char *der = NULL, md[EVP_MAX_MD_SIZE];
	unsigned int mdlen = 0;
	const unsigned char *d;
	size_t dl;
	int n;
	bool ok = false;

	n = t->selector == 0 ? i2d_X509(leaf, &der) :
	    i2d_X509_PUBKEY(X509_get_X509_PUBKEY(leaf), &der);
	if (n <= 0)
		return false;
	d = der;
	dl = (size_t)n;
	if (t->mtype == 1 || t->mtype == 2) {
		if (EVP_Digest(der, dl, md, &mdlen, t->mtype == 1 ? EVP_sha256() :
		    EVP_sha512(), NULL) != 1)
			fatal("digest failed");
		d = md;
		dl = mdlen;
	}
	ok = (t->mtype == 0 || t->mtype == 1 || t->mtype == 2) && t->len == dl &&
	    memcmp(t->data, d, dl) == 0;
	OPENSSL_free(der);
	return ok;
}

/* RFC 7671 section 8.1: a DANE-EE server should publish its next key before it
 * switches. Another usable DANE-EE record beside the served key's: a warning that the
 * rollover is ready and waits for its second half (switch the key, then drop the old
 * record); none while the certificate expires within 30 days: warn. */
static void
rollover_check(struct presult *r, const char *qname, const struct tlsa_set *ts,
    const struct dane_cfg *dc, X509 *leaf)
{
	size_t other = 0, first = 0;
	int days = 0, secs = 0;
	char *h;

	if (leaf == NULL)
		return;
	for (size_t i = 0; i < ts->n; i++) {
		if (ts->v[i].usage != 3 || dc->added[i] <= 0 || ee_names(&ts->v[i], leaf))
			continue;
		if (other++ == 0)
			first = i;
	}
	if (other > 0) {
		h = hex(ts->v[first].data, ts->v[first].len);
		pr_note(r, PROBE_WARN, "%s: next key published, rollover ready: TLSA %d %d %d "
		    "%.16s... names a key other than the served one (RFC 7671 section 8.1)%s; "
		    "finish it: point [tls] certificate/key at the next key, apply, then drop "
		    "next_key so the old record goes", qname, ts->v[first].usage, ts->v[first].selector, ts->v[first].mtype, h,
		    other > 1 ? " (and more)" : "");
		free(h);
		pr_sumadd(r, "next key published, rollover ready");
		return;
	}
	if (ASN1_TIME_diff(&days, &secs, NULL, X509_get0_notAfter(leaf)) != 1)
		return;
	if (days < 30) {
		pr_note(r, PROBE_WARN, "%s: only one key published, and the certificate "
		    "expires in %d day%s: publish the next key now ([tls] next_key, apply the "
		    "dns role) and wait for the TTL before the new certificate goes live, or "
		    "DANE senders will refuse mail (RFC 7671 section 8.1)", qname, days,
		    days == 1 ? "" : "s");
		pr_sumadd(r, "only one key published (certificate expires in %d days)", days);
	}
}

static void
dane_one(struct probe *p, struct presult *r, const struct addrs *a, const char *base)
{
	struct tlsa_set ts;
	struct dane_cfg dc;
	struct verrs ve;
	struct conn c;
	enum stage st;
	char *qname = xasprintf("_%d._tcp.%s", p->stdport, base), *cause = NULL, *h;
	char buf[256];
	const unsigned char *mdata = NULL;
	uint8_t mu = 0, ms = 0, mm = 0;
	size_t i, mlen = 0;
	const char *why;
	X509 *mcert = NULL;
	EVP_PKEY *mspki = NULL;
	long vr;
	int depth;

	memset(&ts, 0, sizeof ts);
	memset(&dc, 0, sizeof dc);
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
	dc.base = base;
	dc.nexthop = p->ctx->site->domain;
	dc.ts = &ts;
	dc.smtp = svc_is_smtp(p->svc);
	dc.added = xcalloc(ts.n, sizeof *dc.added);
	/* SNI: the TLSA base domain (SSL_dane_enable), as a DANE SMTP client sends. */
	if (tls_session(p, r, a, 0, 0, NULL, &dc, &ve, &c, &st, &cause) != 0) {
		pr_note(r, PROBE_FAIL, "%s", cause);
		pr_sumadd(r, "%s: no TLS session", qname);
		conn_close(&c);
		goto out;
	}
	vr = SSL_get_verify_result(c.ssl);
	depth = SSL_get0_dane_authority(c.ssl, &mcert, &mspki);
	if (depth >= 0)
		SSL_get0_dane_tlsa(c.ssl, &mu, &ms, &mm, &mdata, &mlen);
	for (i = 0; i < ts.n; i++) {
		h = hex(ts.v[i].data, ts.v[i].len);
		why = dane_unusable(ts.v[i].usage, ts.v[i].selector, ts.v[i].mtype,
		    ts.v[i].len, dc.smtp);
		sb_addf(&r->details, "     %s TLSA %d %d %d %.64s%s: %s%s\n", qname,
		    ts.v[i].usage, ts.v[i].selector, ts.v[i].mtype, h,
		    ts.v[i].len * 2 > 64 ? "..." : "",
		    why != NULL ? "UNUSABLE: " : dc.added[i] < 0 ? "UNUSABLE: " :
		    depth >= 0 && mu == ts.v[i].usage && ms == ts.v[i].selector &&
		    mm == ts.v[i].mtype && mlen == ts.v[i].len &&
		    memcmp(mdata, ts.v[i].data, mlen) == 0 ? "matches" : "usable",
		    why != NULL ? why : dc.added[i] < 0 ? "OpenSSL rejected the record "
		    "(malformed certificate or key)" : "");
		if (why != NULL || dc.added[i] < 0)
			pr_note(r, PROBE_WARN, "%s TLSA %d %d %d unusable: %s", qname,
			    ts.v[i].usage, ts.v[i].selector, ts.v[i].mtype, why != NULL ? why :
			    "OpenSSL rejected the record data");
		free(h);
	}
	if (dc.nadded == 0) {
		pr_note(r, PROBE_FAIL, "%s: none of the %zu TLSA records is usable%s: a DANE "
		    "client does not authenticate this server (Postfix falls back to "
		    "unauthenticated mandatory TLS)", qname, ts.n, dc.smtp ? " for SMTP "
		    "(RFC 7672)" : "");
		pr_sumadd(r, "%s: NO USABLE TLSA", qname);
	} else if (vr == X509_V_OK && depth >= 0) {
		X509_NAME_oneline(X509_get_subject_name(mcert != NULL ? mcert :
		    SSL_get0_peer_certificate(c.ssl)), buf, sizeof buf);
		h = hex(mdata, mlen);
		pr_note(r, PROBE_OK, "%s: OpenSSL DANE verification ok: TLSA %u %u %u "
		    "%.16s... matches %s at depth %d (%s)%s", qname, mu, ms, mm, h,
		    ms == 0 ? "the certificate" : "the public key", depth, buf,
		    mu == 2 ? ", the trust anchor of the chain that issued the leaf" : "");
		free(h);
		pr_sumadd(r, "%s: TLSA match (%s)", qname, mu == 3 ? "DANE-EE" : mu == 2 ?
		    "DANE-TA" : mu == 1 ? "PKIX-EE" : "PKIX-TA");
		if (mu == 3)
			rollover_check(r, qname, &ts, &dc, SSL_get0_peer_certificate(c.ssl));
	} else {
		/* The headline: no TLSA match when OpenSSL found none, else its verdict. */
		for (i = 0; i < (size_t)ve.n; i++)
			if (ve.v[i].err == X509_V_ERR_DANE_NO_MATCH)
				vr = X509_V_ERR_DANE_NO_MATCH;
		pr_note(r, PROBE_FAIL, "%s: OpenSSL DANE verification failed: %s (error %ld; "
		    "%d usable TLSA records)", qname, X509_verify_cert_error_string(vr), vr,
		    dc.nadded);
		for (i = 0; i < (size_t)ve.n; i++) {
			if (ve.v[i].err != vr)
				sb_addf(&r->details, "     also: %s at depth %d\n",
				    X509_verify_cert_error_string(ve.v[i].err), ve.v[i].depth);
		}
		pr_sumadd(r, "%s: TLSA MISMATCH", qname);
	}
	conn_close(&c);
out:
	free(dc.added);
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
	if (!p->host->local && !is_ip_literal(probe_host_address(p->ctx->site,
	    p->ctx->addresses, p->host)))
		strv_push(&bases, probe_host_address(p->ctx->site, p->ctx->addresses,
		    p->host));
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

/* ---- building the tls, tlsver and dane probes ---- */

static unsigned
tls_versions_only(unsigned mask)
{
	return (mask & (TLSP_BIT(TLSP_TLSV1) | TLSP_BIT(TLSP_TLSV1_1) |
	    TLSP_BIT(TLSP_TLSV1_2) | TLSP_BIT(TLSP_TLSV1_3)));
}

/* The TLS versions the profile allows on a service, and where that comes from. */
static void
svc_policy(const struct site *site, int svc, const struct vhost *vh, unsigned *mask,
    char **src)
{
	char *cause = NULL;
	unsigned m = 0;
	int i;

	switch (svc) {
	case SVCP_SMTP:
	case SVCP_SUBMISSION:
	case SVCP_SMTPS:
		if (site->tls.smtpd_protocols != NULL &&
		    tls_protocols_parse(site->tls.smtpd_protocols, &m, &cause) == 0) {
			*src = xasprintf("[tls] smtpd_protocols = %s",
			    site->tls.smtpd_protocols);
			break;
		}
		free(cause);
		m = TLSP_BIT(TLSP_TLSV1_2) | TLSP_BIT(TLSP_TLSV1_3);
		*src = xstrdup("default >=TLSv1.2");
		break;
	case SVCP_HTTPS:
		if (vh != NULL && vh->legacy_tls) {
			m = TLSP_BIT(TLSP_TLSV1) | TLSP_BIT(TLSP_TLSV1_1) |
			    TLSP_BIT(TLSP_TLSV1_2) | TLSP_BIT(TLSP_TLSV1_3);
			*src = xasprintf("[vhost \"%s\"] legacy_tls = yes", vh->name);
		} else {
			m = TLSP_BIT(TLSP_TLSV1_2) | TLSP_BIT(TLSP_TLSV1_3);
			*src = vh != NULL ?
			    xasprintf("[vhost \"%s\"] legacy_tls = no", vh->name) :
			    xstrdup("default >=TLSv1.2");
		}
		break;
	default:
		if (site->tls.dovecot_min_protocol != NULL) {
			const char *v = site->tls.dovecot_min_protocol;

			if (strcmp(v, "ANY") == 0)
				m = TLSP_ALL;
			for (i = 0; i < TLSP_COUNT; i++) {
				if (strcmp(v, tls_proto_names[i]) == 0)
					m = TLSP_ALL & ~(TLSP_BIT(i) - 1);
			}
			if (m != 0) {
				*src = xasprintf("[tls] dovecot_min_protocol = %s", v);
				break;
			}
		}
		m = TLSP_BIT(TLSP_TLSV1_2) | TLSP_BIT(TLSP_TLSV1_3);
		*src = xstrdup("default TLSv1.2 (Dovecot >= 2.3.15)");
		break;
	}
	*mask = tls_versions_only(m);
}

void
tls_build(struct probe_build *b)
{
	struct probe *p;
	size_t i;

	for (i = 0; b->host != NULL && i < b->neps; i++) {
		p = probe_add_svc(b, "tls", &b->eps[i]);
		svc_policy(b->site, p->svc, p->vh, &p->policy, &p->policy_src);
	}
}

void
tlsver_build(struct probe_build *b)
{
	struct probe *p;
	size_t i;

	for (i = 0; b->host != NULL && i < b->neps; i++) {
		p = probe_add_svc(b, "protocols", &b->eps[i]);
		svc_policy(b->site, p->svc, p->vh, &p->policy, &p->policy_src);
	}
}

void
dane_build(struct probe_build *b)
{
	size_t i, j;

	if (b->host == NULL || !b->site->tls.dane)
		return;
	for (i = 0; i < b->nports; i++) {
		for (j = 0; j < b->site->tls.ntlsa_ports; j++) {
			if (b->site->tls.tlsa_ports[j] == host_services[b->ports[i].svc].port)
				probe_add_svc(b, "dane", &b->ports[i]);
		}
	}
}
