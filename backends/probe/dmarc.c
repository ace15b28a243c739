/* dmarc.c: the "dmarc" probe kind: a DMARC record (RFC 7489) for each mail domain of
 * the profile: exactly one TXT "v=DMARC1; p=..." at _dmarc.DOMAIN (or, when the domain
 * has none, at its parent, as receivers fall back to the organizational domain; mxdeck
 * takes the parent, not the Public Suffix List). None fails; p=none warns (reports
 * only, nothing is enforced). */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <ldns/ldns.h>

#include "backends/probe/parse.h"
#include "backends/probe/probe-int.h"

/* The DMARC records at _dmarc.dom: 0 with out (maybe empty), -1 + *cause. */
static int
dmarc_records(struct probe *p, struct presult *r, const char *dom, struct strv *out,
    char **cause)
{
	struct strv txt = { 0 };
	char *name = xasprintf("_dmarc.%s", dom);
	size_t i;
	int rc;

	rc = dns_records(p->ctx, name, LDNS_RR_TYPE_TXT, r->deadline, &txt, NULL, cause);
	free(name);
	for (i = 0; rc == 0 && i < txt.n; i++) {
		if (strncasecmp(txt.v[i], "v=DMARC1", 8) == 0)
			strv_push(out, txt.v[i]);
	}
	strv_free(&txt);
	return rc;
}

void
probe_dmarc_run(struct probe *p, struct presult *r)
{
	struct strv recs = { 0 };
	const char *dom = p->domain, *dot;
	char *cause = NULL, *policy = NULL;

	if (dmarc_records(p, r, dom, &recs, &cause) != 0)
		goto lookup;
	if (recs.n == 0 && (dot = strchr(dom, '.')) != NULL && strchr(dot + 1, '.') != NULL) {
		dom = dot + 1;
		pr_note(r, PROBE_OK, "no record at _dmarc.%s: the parent's applies", p->domain);
		if (dmarc_records(p, r, dom, &recs, &cause) != 0)
			goto lookup;
	}
	if (recs.n == 0) {
		pr_note(r, PROBE_FAIL, "no DMARC record at _dmarc.%s: receivers have no policy "
		    "for mail that fails SPF and DKIM in this domain's name", p->domain);
		pr_summary(r, "NO DMARC RECORD");
		goto out;
	}
	if (recs.n > 1) {
		pr_note(r, PROBE_FAIL, "%zu DMARC records at _dmarc.%s: receivers ignore all "
		    "of them (RFC 7489 §6.6.3)", recs.n, dom);
		pr_summary(r, "%zu DMARC RECORDS", recs.n);
		goto out;
	}
	sb_addf(&r->details, "     _dmarc.%s: \"%.400s\"\n", dom, recs.v[0]);
	if (dmarc_parse(recs.v[0], &policy, &cause) != 0) {
		pr_note(r, PROBE_FAIL, "_dmarc.%s: %s", dom, cause);
		pr_summary(r, "INVALID DMARC (%s)", cause);
		free(cause);
		goto out;
	}
	if (strcasecmp(policy, "none") == 0) {
		pr_note(r, PROBE_WARN, "p=none: reports only, nothing is enforced");
		pr_summary(r, "p=none (monitoring only)");
	} else {
		pr_note(r, PROBE_OK, "p=%s", policy);
		pr_summary(r, "p=%s", policy);
	}
	free(policy);
	goto out;
lookup:
	pr_note(r, PROBE_FAIL, "%s", cause);
	pr_summary(r, "lookup failed");
	free(cause);
out:
	strv_free(&recs);
}

/* One probe per mail domain (site-wide). */
void
dmarc_build(struct probe_build *b)
{
	struct strv doms = { 0 };
	struct probe *p;
	size_t i;

	if (b->host != NULL)
		return;
	mail_domains(b->site, &doms);
	for (i = 0; i < doms.n; i++) {
		p = probe_add(b, xstrdup("dmarc"), xasprintf("_dmarc.%s", doms.v[i]));
		p->domain = xstrdup(doms.v[i]);
	}
	strv_free(&doms);
}
