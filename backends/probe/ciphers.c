/* ciphers.c: the "ciphers" probe kind: which weak cipher suites a TLS endpoint accepts.
 * For each class (NULL, anonymous, EXPORT, RC4, 64-bit block ciphers / SWEET32, no
 * forward secrecy) the probe sends a TLS 1.2 ClientHello offering only that class's
 * suites, after the service's STARTTLS prelude, and reads the first record: a
 * ServerHello choosing one of them means the server accepts it, an alert or a closed
 * connection that it refuses. The hello is built here (parse.c tls_client_hello), not
 * by libssl, because OpenSSL 3 as shipped cannot offer EXPORT, RC4 or 3DES suites at
 * all (not even at security level 0): a libssl handshake would test nothing for them.
 *
 * The policy: every class fails on submission, smtps, IMAP, POP3 and HTTPS (mandatory
 * TLS). On port 25 (opportunistic TLS, RFC 7435 and RFC 7672: any encryption beats the
 * plain text a sender falls back to when no suite is common) suites without forward
 * secrecy are accepted with a note, as Postfix's own documentation keeps them; NULL,
 * anonymous, EXPORT, RC4 and 64-bit block suites fail there too (no sender needs them:
 * every one that has them also has a certificate-based AES suite). An HTTPS vhost
 * whose profile declares legacy_tls = yes (old Outlook clients) keeps non-forward-secret
 * suites too, as declared: noted, not failed (the tlsver kind judges it the same way). */
#include <stdlib.h>
#include <string.h>

#include <openssl/rand.h>

#include "backends/probe/parse.h"
#include "backends/probe/probe-int.h"

struct suite {
	unsigned short id;
	const char *name;	/* OpenSSL's name */
};

static const struct suite null_suites[] = {
	{ 0x0001, "NULL-MD5" }, { 0x0002, "NULL-SHA" }, { 0x003b, "NULL-SHA256" },
	{ 0xc006, "ECDHE-ECDSA-NULL-SHA" }, { 0xc010, "ECDHE-RSA-NULL-SHA" },
	{ 0xc015, "AECDH-NULL-SHA" }, { 0xc001, "ECDH-ECDSA-NULL-SHA" },
	{ 0xc00b, "ECDH-RSA-NULL-SHA" },
};
static const struct suite anon_suites[] = {
	{ 0x0034, "ADH-AES128-SHA" }, { 0x003a, "ADH-AES256-SHA" },
	{ 0x006c, "ADH-AES128-SHA256" }, { 0x006d, "ADH-AES256-SHA256" },
	{ 0x00a6, "ADH-AES128-GCM-SHA256" }, { 0x00a7, "ADH-AES256-GCM-SHA384" },
	{ 0x0046, "ADH-CAMELLIA128-SHA" }, { 0x0089, "ADH-CAMELLIA256-SHA" },
	{ 0xc018, "AECDH-AES128-SHA" }, { 0xc019, "AECDH-AES256-SHA" },
	{ 0x001b, "ADH-DES-CBC3-SHA" }, { 0xc017, "AECDH-DES-CBC3-SHA" },
	{ 0x0018, "ADH-RC4-MD5" }, { 0xc016, "AECDH-RC4-SHA" },
};
static const struct suite export_suites[] = {
	{ 0x0003, "EXP-RC4-MD5" }, { 0x0006, "EXP-RC2-CBC-MD5" },
	{ 0x0008, "EXP-DES-CBC-SHA" }, { 0x000b, "EXP-DH-DSS-DES-CBC-SHA" },
	{ 0x000e, "EXP-DH-RSA-DES-CBC-SHA" }, { 0x0011, "EXP-EDH-DSS-DES-CBC-SHA" },
	{ 0x0014, "EXP-EDH-RSA-DES-CBC-SHA" }, { 0x0017, "EXP-ADH-RC4-MD5" },
	{ 0x0019, "EXP-ADH-DES-CBC-SHA" }, { 0x0062, "EXP1024-DES-CBC-SHA" },
	{ 0x0064, "EXP1024-RC4-SHA" },
};
static const struct suite rc4_suites[] = {
	{ 0x0004, "RC4-MD5" }, { 0x0005, "RC4-SHA" }, { 0xc007, "ECDHE-ECDSA-RC4-SHA" },
	{ 0xc011, "ECDHE-RSA-RC4-SHA" }, { 0xc002, "ECDH-ECDSA-RC4-SHA" },
	{ 0xc00c, "ECDH-RSA-RC4-SHA" }, { 0x0066, "DHE-DSS-RC4-SHA" },
};
static const struct suite block64_suites[] = {
	{ 0x000a, "DES-CBC3-SHA" }, { 0x0016, "EDH-RSA-DES-CBC3-SHA" },
	{ 0x0013, "EDH-DSS-DES-CBC3-SHA" }, { 0xc008, "ECDHE-ECDSA-DES-CBC3-SHA" },
	{ 0xc012, "ECDHE-RSA-DES-CBC3-SHA" }, { 0x0009, "DES-CBC-SHA" },
	{ 0x0015, "EDH-RSA-DES-CBC-SHA" }, { 0x0012, "EDH-DSS-DES-CBC-SHA" },
	{ 0x0007, "IDEA-CBC-SHA" },
};
static const struct suite nofs_suites[] = {
	{ 0x009c, "AES128-GCM-SHA256" }, { 0x009d, "AES256-GCM-SHA384" },
	{ 0x002f, "AES128-SHA" }, { 0x0035, "AES256-SHA" }, { 0x003c, "AES128-SHA256" },
	{ 0x003d, "AES256-SHA256" }, { 0xc09c, "AES128-CCM" }, { 0xc09d, "AES256-CCM" },
	{ 0xc0a0, "AES128-CCM8" }, { 0xc0a1, "AES256-CCM8" },
	{ 0x0041, "CAMELLIA128-SHA" }, { 0x0084, "CAMELLIA256-SHA" },
	{ 0x00ba, "CAMELLIA128-SHA256" }, { 0x00c0, "CAMELLIA256-SHA256" },
	{ 0xc050, "ARIA128-GCM-SHA256" }, { 0xc051, "ARIA256-GCM-SHA384" },
	{ 0xc004, "ECDH-ECDSA-AES128-SHA" }, { 0xc005, "ECDH-ECDSA-AES256-SHA" },
	{ 0xc00e, "ECDH-RSA-AES128-SHA" }, { 0xc00f, "ECDH-RSA-AES256-SHA" },
	{ 0xc02d, "ECDH-ECDSA-AES128-GCM-SHA256" }, { 0xc031, "ECDH-RSA-AES128-GCM-SHA256" },
};

static const struct class {
	const char *name;	/* in the summary */
	const char *why;
	bool	 lenient25;	/* accepted on port 25, with a note */
	const struct suite *v;
	size_t	 n;
} classes[] = {
	{ "NULL", "no encryption at all", false, null_suites, nitems(null_suites) },
	{ "anon", "no server authentication: anyone in the path can read it", false,
	    anon_suites, nitems(anon_suites) },
	{ "EXPORT", "40/56-bit keys (FREAK, Logjam)", false, export_suites,
	    nitems(export_suites) },
	{ "RC4", "biased keystream (RFC 7465 forbids it)", false, rc4_suites,
	    nitems(rc4_suites) },
	{ "3DES", "64-bit blocks: SWEET32 (CVE-2016-2183)", false, block64_suites,
	    nitems(block64_suites) },
	{ "non-FS", "no forward secrecy: a stolen key decrypts recorded sessions", true,
	    nofs_suites, nitems(nofs_suites) },
};

static const char *
suite_name(const struct class *cl, unsigned id)
{
	size_t i;

	for (i = 0; i < cl->n; i++) {
		if (cl->v[i].id == id)
			return cl->v[i].name;
	}
	return NULL;
}

/* Offer only cl's suites: 1 accepted (*chosen), 0 refused, -1 could not tell (*cause). */
static int
offer(struct probe *p, struct presult *r, const struct addrs *a, const struct class *cl,
    unsigned *chosen, bool *refused, char **cause)
{
	unsigned short ids[32];
	unsigned char hello[1024], rnd[32];
	struct tls_answer ans;
	struct sbuf log;
	struct conn c;
	size_t i, len;
	int rc = -1, pr;
	char *e = NULL;

	for (i = 0; i < cl->n && i < nitems(ids); i++)
		ids[i] = cl->v[i].id;
	if (RAND_bytes(rnd, sizeof rnd) != 1)
		fatal("RAND_bytes failed");
	len = tls_client_hello(hello, sizeof hello, ids, i, p->sni, rnd);
	if (len == 0)
		fatal("tls_client_hello: buffer too small");
	conn_init(&c, r->deadline);
	if (conn_connect(&c, a, p->port, cause) != 0) {
		pr_reach(r, false);
		*refused = c.refused;
		return -1;
	}
	pr_reach(r, true);
	sb_init(&log);
	if (starttls_prelude(&c, svc_wraps[p->svc], &log, &e) != 0) {
		*cause = xasprintf("%s before TLS: %s", host_services[p->svc].name, e);
		free(e);
		goto out;
	}
	sb_reset(&c.in);
	if (conn_write(&c, (const char *)hello, len, cause) != 0)
		goto out;
	for (;;) {
		pr = tls_answer_parse((const unsigned char *)(c.in.s != NULL ? c.in.s : ""),
		    c.in.len, &ans, &e);
		if (pr == 1)
			break;
		if (pr == -1) {
			*cause = xasprintf("the answer to the ClientHello: %s", e);
			free(e);
			goto out;
		}
		if (conn_fill(&c, &e) != 0) {
			if (c.eof) {	/* hung up on the hello: refused */
				free(e);
				rc = 0;
			} else
				*cause = e;
			goto out;
		}
	}
	if (ans.kind == TLS_ANS_ALERT) {
		rc = 0;
		goto out;
	}
	*chosen = ans.suite;
	rc = 1;
out:
	sb_free(&log);
	conn_close(&c);
	return rc;
}

void
probe_ciphers_run(struct probe *p, struct presult *r)
{
	struct addrs a;
	struct sbuf refused, bad, kept;
	char *cause = NULL;
	size_t i;
	unsigned chosen = 0;
	int rc;
	bool port25 = p->svc == SVCP_SMTP, refused_tcp = false;
	bool legacy = p->svc == SVCP_HTTPS && p->vh != NULL && p->vh->legacy_tls;
	const char *name = NULL;

	if (net_host_addrs(p->ctx, p->host, r->deadline, &a, &cause) != 0) {
		pr_reach(r, false);
		pr_note(r, PROBE_FAIL, "%s", cause);
		pr_summary(r, "address lookup failed");
		free(cause);
		return;
	}
	sb_init(&refused);
	sb_init(&bad);
	sb_init(&kept);
	for (i = 0; i < nitems(classes) && !pr_expired(r); i++) {
		const struct class *cl = &classes[i];

		rc = offer(p, r, &a, cl, &chosen, &refused_tcp, &cause);
		if (rc == 0) {
			pr_note(r, PROBE_OK, "%s suites refused", cl->name);
			sb_addf(&refused, "%s%s", refused.len > 0 ? " " : "", cl->name);
		} else if (rc == 1 && (name = suite_name(cl, chosen)) != NULL &&
		    (port25 || legacy) && cl->lenient25) {
			if (port25)
				pr_note(r, PROBE_OK, "%s accepted (the server chose %s when "
				    "offered only %s suites): %s, but port 25 is opportunistic "
				    "TLS (RFC 7435): a sender with no other common suite would "
				    "send in plain text instead", cl->name, name, cl->name,
				    cl->why);
			else
				pr_note(r, PROBE_OK, "%s accepted (the server chose %s when "
				    "offered only %s suites): %s, as declared: [vhost \"%s\"] "
				    "legacy_tls = yes keeps them for old clients", cl->name, name,
				    cl->name, cl->why, p->vh->name);
			sb_addf(&kept, "%s%s", kept.len > 0 ? " " : "", cl->name);
		} else if (rc == 1 && name != NULL) {
			pr_note(r, PROBE_FAIL, "%s ACCEPTED: the server chose %s when offered "
			    "only %s suites (%s)", cl->name, name, cl->name, cl->why);
			sb_addf(&bad, "%s%s (%s)", bad.len > 0 ? ", " : "", cl->name, name);
		} else if (rc == 1) {
			pr_note(r, PROBE_WARN, "offered only %s suites, the server chose "
			    "0x%04x, which was not offered (a broken TLS stack)", cl->name,
			    chosen);
			sb_addf(&bad, "%s%s (0x%04x not offered)", bad.len > 0 ? ", " : "",
			    cl->name, chosen);
		} else if (r->nreached == 0 && refused_tcp &&
		    (p->svc == SVCP_IMAP || p->svc == SVCP_POP3)) {
			pr_note(r, PROBE_OK, "%s (port closed: clients use implicit TLS on %s)",
			    cause, p->svc == SVCP_IMAP ? "993" : "995");
			free(cause);
			sb_free(&refused);
			sb_free(&bad);
			sb_free(&kept);
			pr_summary(r, "not offered (port closed)");
			return;
		} else if (r->nreached == 0) {
			/* not even a TCP connection: one failure, not six guesses */
			pr_note(r, PROBE_FAIL, "%s", cause);
			free(cause);
			cause = NULL;
			sb_free(&refused);
			sb_free(&bad);
			sb_free(&kept);
			pr_summary(r, "could not connect");
			return;
		} else {
			pr_note(r, PROBE_WARN, "%s suites: could not tell: %s", cl->name, cause);
			sb_addf(&bad, "%s%s unclear", bad.len > 0 ? ", " : "", cl->name);
			free(cause);
			cause = NULL;
		}
	}
	if (i < nitems(classes)) {
		pr_note(r, PROBE_FAIL, "the probe's time ran out after %zu of %zu classes", i,
		    nitems(classes));
		sb_addf(&bad, "%stimed out", bad.len > 0 ? ", " : "");
	}
	if (bad.len > 0)
		pr_summary(r, "ACCEPTS %s", bad.s);
	else if (kept.len > 0)
		pr_summary(r, "refuses %s; %s kept (%s)", refused.s != NULL ? refused.s :
		    "nothing", kept.s, port25 ? "opportunistic TLS" : "legacy_tls = yes");
	else
		pr_summary(r, "refuses %s", refused.s);
	sb_free(&refused);
	sb_free(&bad);
	sb_free(&kept);
}

/* Every TLS endpoint of a host (https once per vhost, for its SNI). */
void
ciphers_build(struct probe_build *b)
{
	size_t i;

	for (i = 0; b->host != NULL && i < b->neps; i++)
		probe_add_svc(b, "ciphers", &b->eps[i]);
}
