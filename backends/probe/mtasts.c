/* mtasts.c: the mta-sts probe kind (share/doc/HACKING.md §4.3): for every mail domain D
 * of a profile with [mta-sts], what a sending MTA does (RFC 8461 §3, RFC 8460 §3):
 *   - _mta-sts.D TXT: exactly one "v=STSv1" record with an id of 1-32 letters/digits,
 *     and that id is the one of the policy served (mxdeck's id is a digest of the
 *     policy text, so another id is a stale record: senders with a cached policy would
 *     not refetch);
 *   - GET https://mta-sts.D/.well-known/mta-sts.txt, the name resolved through the
 *     profile's resolver: a certificate valid for mta-sts.D (chain, name, expiry), 200
 *     (a redirect fails: senders do not follow them), Content-Type text/plain, at most
 *     64 KB, the strict syntax (version STSv1 first, mode, max_age 0..31557600, mx
 *     lines unless mode none), and the text the profile renders (else a warning: not
 *     applied yet);
 *   - every MX record of D matches an mx pattern of the served policy;
 *   - _smtp._tls.D TXT "v=TLSRPTv1; rua=..." when [mta-sts] rua is set, with those URIs.
 *   - every MX presents, after STARTTLS on port 25 (the smtp probe port of the profile
 *     host at its address), a certificate that verifies for the MX name (mode enforce:
 *     senders refuse otherwise; testing: a warning). */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <curl/curl.h>
#include <openssl/ssl.h>
#include <openssl/x509_vfy.h>

#include "backends/probe/probe-int.h"
#include "backends/render/render.h"

#define POLICY_MAX	(64 * 1024)

struct sts_policy {
	char	*version, *mode;
	long	 max_age;
	bool	 has_max_age;
	struct strv mx;
};

static void
policy_free(struct sts_policy *pol)
{
	free(pol->version);
	free(pol->mode);
	strv_free(&pol->mx);
}

/* RFC 8461 §3.2: lines "key: value" ended by LF or CRLF; unknown keys are ignored. 0, or
 * -1 with *why. */
static int
policy_parse(const char *s, size_t len, struct sts_policy *pol, char **why)
{
	size_t i = 0, lineno = 0;

	memset(pol, 0, sizeof *pol);
	if (memchr(s, '\0', len) != NULL) {
		*why = xstrdup("the policy contains a NUL byte");
		return -1;
	}
	while (i < len) {
		size_t e = i, n;
		const char *colon, *v;
		char *key, *val;

		while (e < len && s[e] != '\n')
			e++;
		n = e - i;
		if (n > 0 && s[i + n - 1] == '\r')
			n--;
		lineno++;
		if (n == 0 && e >= len - 1)
			break;	/* the last line end */
		if ((colon = memchr(s + i, ':', n)) == NULL) {
			*why = xasprintf("line %zu is not \"key: value\"", lineno);
			return -1;
		}
		key = xstrndup(s + i, (size_t)(colon - (s + i)));
		v = colon + 1;
		while (v < s + i + n && (*v == ' ' || *v == '\t'))
			v++;
		val = xstrndup(v, (size_t)(s + i + n - v));
		for (size_t k = strlen(val); k > 0 && (val[k - 1] == ' ' || val[k - 1] == '\t'); k--)
			val[k - 1] = '\0';
		if (lineno == 1 && strcmp(key, "version") != 0) {
			*why = xasprintf("the first field is \"%s\", not version", key);
			free(key);
			free(val);
			return -1;
		}
		if (strcmp(key, "version") == 0 && pol->version == NULL)
			pol->version = xstrdup(val);
		else if (strcmp(key, "mode") == 0 && pol->mode == NULL)
			pol->mode = xstrdup(val);
		else if (strcmp(key, "mx") == 0)
			strv_push(&pol->mx, val);
		else if (strcmp(key, "max_age") == 0 && !pol->has_max_age) {
			char *end;

			pol->has_max_age = true;
			if (val[0] < '0' || val[0] > '9' || strlen(val) > 10 ||
			    (pol->max_age = strtol(val, &end, 10), *end != '\0') ||
			    pol->max_age > 31557600) {
				*why = xasprintf("max_age \"%s\" is not a number of seconds up "
				    "to 31557600", val);
				free(key);
				free(val);
				return -1;
			}
		}
		free(key);
		free(val);
		i = e + 1;
	}
	if (pol->version == NULL || strcmp(pol->version, "STSv1") != 0) {
		*why = xstrdup("no \"version: STSv1\"");
		return -1;
	}
	if (pol->mode == NULL || (strcmp(pol->mode, "enforce") != 0 &&
	    strcmp(pol->mode, "testing") != 0 && strcmp(pol->mode, "none") != 0)) {
		*why = xasprintf("mode \"%s\" is not enforce, testing or none",
		    pol->mode != NULL ? pol->mode : "");
		return -1;
	}
	if (!pol->has_max_age) {
		*why = xstrdup("no max_age");
		return -1;
	}
	if (pol->mx.n == 0 && strcmp(pol->mode, "none") != 0) {
		*why = xstrdup("no mx line (only mode none may have none)");
		return -1;
	}
	return 0;
}

/* STARTTLS to the MX and verify its certificate for the MX name: NULL when it does,
 * else why not (caller frees). */
static char *
mx_cert(struct probe *p, struct presult *r, const char *mx)
{
	struct addrs a;
	struct conn c;
	struct sbuf log;
	char *cause = NULL, *why = NULL;
	SSL *ssl;
	long v;
	int port;

	if (net_resolve(p->ctx, mx, r->deadline, &a, &cause) != 0)
		return cause;
	port = host_svc_port(p, r, &a.a[0], "smtp", 25);
	conn_init(&c, r->deadline);
	sb_init(&log);
	if (conn_connect(&c, &a, port, &cause) != 0 ||
	    starttls_prelude(&c, WRAP_SMTP, &log, &cause) != 0) {
		why = xasprintf("port %d: %s", port, cause);
		goto out;
	}
	if ((ssl = SSL_new(p->ctx->ssl)) == NULL)
		fatal("SSL_new failed");
	SSL_set_tlsext_host_name(ssl, mx);
	SSL_set1_host(ssl, mx);
	SSL_set_verify(ssl, SSL_VERIFY_NONE, NULL);	/* the verdict is read below */
	if (conn_tls(&c, ssl, &cause) != 0) {
		why = xasprintf("port %d: TLS: %s", port, cause);
		goto out;
	}
	r->handshakes++;
	if ((v = SSL_get_verify_result(c.ssl)) != X509_V_OK)
		why = xasprintf("port %d: the certificate does not verify for %s: %s", port,
		    mx, X509_verify_cert_error_string(v));
out:
	conn_close(&c);
	sb_free(&log);
	free(cause);
	return why;
}

static bool
header_is(const char *hdrs, const char *name, const char *want)
{
	size_t n = strlen(name);

	/* the last response's headers: curl gives every response of the transfer */
	for (const char *p = hdrs; p != NULL && *p != '\0'; ) {
		const char *nl = strchr(p, '\n');

		if (strncasecmp(p, name, n) == 0 && p[n] == ':') {
			const char *v = p + n + 1;

			while (*v == ' ')
				v++;
			return strncasecmp(v, want, strlen(want)) == 0 &&
			    strchr("; \r\n", v[strlen(want)]) != NULL;
		}
		p = nl != NULL ? nl + 1 : NULL;
	}
	return false;
}

/* _mta-sts.D: the id of the one v=STSv1 record, or NULL (a note says why). */
static char *
txt_id(struct probe *p, struct presult *r, const char *d)
{
	struct strv txt = { 0 };
	char *name = xasprintf("_mta-sts.%s", d), *cause = NULL, *id = NULL;
	size_t nsts = 0;
	const char *rec = NULL;

	if (dns_txt(p->ctx, name, r->deadline, &txt, &cause) != 0) {
		pr_note(r, PROBE_FAIL, "%s TXT: %s", name, cause);
		free(cause);
		goto out;
	}
	for (size_t i = 0; i < txt.n; i++)
		if (strncmp(txt.v[i], "v=STSv1", 7) == 0 && strchr("; ", txt.v[i][7]) != NULL) {
			nsts++;
			rec = txt.v[i];
		}
	if (nsts != 1) {
		pr_note(r, PROBE_FAIL, "%s TXT: %zu \"v=STSv1\" records: senders see no "
		    "policy unless there is exactly one (RFC 8461 §3.1)", name, nsts);
		goto out;
	}
	for (const char *f = strstr(rec, "id="); f != NULL; f = NULL) {
		size_t n = strspn(f + 3, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
		    "0123456789");

		if (n >= 1 && n <= 32 && strchr("; ", f[3 + n]) != NULL)
			id = xstrndup(f + 3, n);
	}
	if (id == NULL)
		pr_note(r, PROBE_FAIL, "%s TXT \"%s\": no id of 1 to 32 letters and digits",
		    name, rec);
	else
		pr_note(r, PROBE_OK, "%s TXT: id=%s", name, id);
out:
	strv_free(&txt);
	free(name);
	return id;
}

static void
check_tlsrpt(struct probe *p, struct presult *r, const char *d)
{
	const struct mta_sts *s = &p->ctx->site->mta_sts;
	struct strv txt = { 0 };
	struct sbuf want;
	char *name = xasprintf("_smtp._tls.%s", d), *cause = NULL;
	size_t n = 0;
	const char *rec = NULL;

	sb_init(&want);
	for (size_t i = 0; i < s->rua.n; i++)
		sb_addf(&want, "%s%s", i > 0 ? "," : "", s->rua.v[i]);
	if (dns_txt(p->ctx, name, r->deadline, &txt, &cause) != 0) {
		pr_note(r, PROBE_FAIL, "%s TXT: %s", name, cause);
		free(cause);
		goto out;
	}
	for (size_t i = 0; i < txt.n; i++)
		if (strncmp(txt.v[i], "v=TLSRPTv1", 10) == 0) {
			n++;
			rec = txt.v[i];
		}
	if (n != 1)
		pr_note(r, PROBE_FAIL, "%s TXT: %zu \"v=TLSRPTv1\" records, want exactly one "
		    "with rua=%s (RFC 8460 §3)", name, n, want.s);
	else if (strstr(rec, "rua=") == NULL || strcmp(strstr(rec, "rua=") + 4, want.s) != 0)
		pr_note(r, PROBE_FAIL, "%s TXT \"%s\": the profile says rua=%s", name, rec,
		    want.s);
	else
		pr_note(r, PROBE_OK, "%s TXT: reports go to %s", name, want.s);
out:
	sb_free(&want);
	strv_free(&txt);
	free(name);
}

void
probe_mta_sts_run(struct probe *p, struct presult *r)
{
	const struct site *site = p->ctx->site;
	const char *d = p->domain;
	struct strv patterns = { 0 }, mx = { 0 };
	struct sbuf want;
	struct http_body b;
	struct curl_slist *sl = NULL;
	struct sts_policy pol;
	char *name = xasprintf("mta-sts.%s", d), *cause = NULL, *why = NULL, *id, served[21];
	char errbuf[CURL_ERROR_SIZE] = "";
	long status = 0;
	CURLcode cc;
	CURL *h;
	bool parsed = false;

	memset(&pol, 0, sizeof pol);
	sb_init(&want);
	sb_init(&b.b);
	sb_init(&b.hdr);
	if (mta_sts_patterns(site, &patterns, &cause) == -1) {
		pr_note(r, PROBE_FAIL, "%s", cause);
		pr_summary(r, "the profile's [mta-sts] is refused");
		goto out;
	}
	mta_sts_policy(site, &patterns, &want);
	id = txt_id(p, r, d);

	if ((h = http_handle(p, r, "https", name, 0, "/.well-known/mta-sts.txt", &b, &sl,
	    &cause)) == NULL) {
		pr_note(r, PROBE_FAIL, "%s: %s", name, cause);
		pr_summary(r, "%s does not resolve", name);
		free(id);
		goto out;
	}
	curl_easy_setopt(h, CURLOPT_ERRORBUFFER, errbuf);
	cc = curl_easy_perform(h);
	curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &status);
	pr_reach(r, cc == CURLE_OK);
	if (cc != CURLE_OK)
		pr_note(r, PROBE_FAIL, "GET https://%s/.well-known/mta-sts.txt: %s (senders "
		    "need a certificate valid for %s)", name, errbuf[0] != '\0' ? errbuf :
		    curl_easy_strerror(cc), name);
	else if (status >= 300 && status < 400) {
		char *loc = NULL;

		curl_easy_getinfo(h, CURLINFO_REDIRECT_URL, &loc);
		pr_note(r, PROBE_FAIL, "HTTP %ld redirect to %s: senders do not follow "
		    "redirects (RFC 8461 §3.3) and see no policy", status,
		    loc != NULL ? loc : "?");
	} else if (status != 200)
		pr_note(r, PROBE_FAIL, "HTTP %ld: senders see no policy", status);
	else if (!header_is(b.hdr.s != NULL ? b.hdr.s : "", "Content-Type", "text/plain"))
		pr_note(r, PROBE_FAIL, "Content-Type is not text/plain (RFC 8461 §3.2): "
		    "senders ignore the policy");
	else if (b.b.len > POLICY_MAX)
		pr_note(r, PROBE_FAIL, "the policy is %zu bytes; senders read at most 64 KB",
		    b.b.len);
	else if (policy_parse(b.b.s != NULL ? b.b.s : "", b.b.len, &pol, &why) != 0) {
		pr_note(r, PROBE_FAIL, "the policy is not valid: %s", why);
		free(why);
	} else {
		parsed = true;
		pr_note(r, PROBE_OK, "policy: mode %s, max_age %ld, %zu mx pattern(s), "
		    "text/plain over a valid certificate", pol.mode, pol.max_age, pol.mx.n);
		if (b.b.len != want.len || memcmp(b.b.s, want.s, want.len) != 0)
			pr_note(r, PROBE_WARN, "the policy served is not the one the profile "
			    "renders: apply the profile");
		mta_sts_id(b.b.s, b.b.len, served);
		if (id != NULL && strcmp(id, served) != 0)
			pr_note(r, PROBE_FAIL, "_mta-sts.%s TXT id=%s is not the id of the "
			    "policy served (%s): the record is stale, senders with a cached "
			    "policy will not refetch; publish the dns role's records", d, id,
			    served);
	}
	curl_easy_cleanup(h);
	free(id);

	/* every MX of the domain matches a pattern of the served policy */
	if (parsed && strcmp(pol.mode, "none") != 0) {
		if (dns_mx_targets(p->ctx, d, r->deadline, &mx, &cause) != 0) {
			pr_note(r, PROBE_FAIL, "MX of %s: %s", d, cause);
			free(cause);
			cause = NULL;
		}
		for (size_t i = 0; i < mx.n; i++) {
			bool ok = false;

			for (size_t j = 0; j < pol.mx.n && !ok; j++)
				ok = mta_sts_mx_match(pol.mx.v[j], mx.v[i]);
			if (ok) {
				char *bad = mx_cert(p, r, mx.v[i]);

				pr_note(r, PROBE_OK, "MX %s matches the policy", mx.v[i]);
				if (bad == NULL)
					pr_note(r, PROBE_OK, "MX %s: STARTTLS, certificate valid "
					    "for the name", mx.v[i]);
				else
					pr_note(r, strcmp(pol.mode, "enforce") == 0 ? PROBE_FAIL :
					    PROBE_WARN, "MX %s: %s: senders that enforce the "
					    "policy refuse to deliver there", mx.v[i], bad);
				free(bad);
			} else
				pr_note(r, PROBE_FAIL, "MX %s matches no mx pattern of the "
				    "policy: senders that enforce it refuse to deliver there",
				    mx.v[i]);
		}
	}
	if (site->mta_sts.rua.n > 0)
		check_tlsrpt(p, r, d);
	if (r->status == PROBE_OK)
		pr_summary(r, "policy %s; id, MX and certificate as published", pol.mode);
	else
		pr_summary(r, "policy %s: not what senders need (details)",
		    parsed ? pol.mode : "not usable");
out:
	policy_free(&pol);
	curl_slist_free_all(sl);
	strv_free(&patterns);
	strv_free(&mx);
	sb_free(&want);
	sb_free(&b.b);
	sb_free(&b.hdr);
	free(name);
	free(cause);
}

void
mta_sts_build(struct probe_build *b)
{
	struct strv doms = { 0 };

	if (b->host != NULL || b->site->mta_sts.line == 0)
		return;
	mta_sts_domains(b->site, &doms);
	for (size_t i = 0; i < doms.n; i++) {
		struct probe *p = probe_add(b, xstrdup("mta-sts"),
		    xasprintf("https://mta-sts.%s/.well-known/mta-sts.txt", doms.v[i]));

		p->domain = xstrdup(doms.v[i]);
	}
	strv_free(&doms);
}
