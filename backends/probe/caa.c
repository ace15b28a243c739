/* caa.c: the "caa" probe kind: the CAA records (RFC 8659) that govern each name the
 * gateway's certificates carry (vhost names, host names, the Autodiscover endpoints):
 * the first CAA RRset found climbing from the name towards the root. None anywhere
 * warns (any CA may issue); a set that lets no CA issue (only issue ";") or holds a
 * critical property CAs do not know fails: renewals of the certificate will be
 * refused. */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <ldns/ldns.h>

#include "backends/probe/probe-int.h"

void
probe_caa_run(struct probe *p, struct presult *r)
{
	struct strv caa = { 0 };
	const char *name = p->domain, *dot;
	char *cause = NULL, flags[8], tag[64];
	struct sbuf issuers;
	size_t i;
	int fl, n, nissue = 0, nopen = 0;
	bool bad = false;

	sb_init(&issuers);
	for (;;) {
		if (dns_records(p->ctx, name, LDNS_RR_TYPE_CAA, r->deadline, &caa, NULL,
		    &cause) != 0) {
			pr_note(r, PROBE_FAIL, "CAA %s: %s", name, cause);
			pr_summary(r, "lookup failed");
			free(cause);
			goto out;
		}
		if (caa.n > 0 || (dot = strchr(name, '.')) == NULL ||
		    strchr(dot + 1, '.') == NULL)
			break;
		name = dot + 1;
	}
	if (caa.n == 0) {
		pr_note(r, PROBE_WARN, "no CAA record for %s or a parent: any CA may issue a "
		    "certificate for it", p->domain);
		pr_summary(r, "no CAA (any CA may issue)");
		goto out;
	}
	for (i = 0; i < caa.n; i++) {
		const char *v;

		sb_addf(&r->details, "     CAA %s: %.300s\n", name, caa.v[i]);
		if (sscanf(caa.v[i], "%7s %63s %n", flags, tag, &n) != 2) {
			pr_note(r, PROBE_FAIL, "unreadable CAA record: %.100s", caa.v[i]);
			bad = true;
			continue;
		}
		v = caa.v[i] + n;
		fl = atoi(flags);
		if (strcasecmp(tag, "issue") == 0) {
			nissue++;
			if (*v != ';' && *v != '\0') {
				nopen++;
				sb_addf(&issuers, "%s%.*s", issuers.len > 0 ? " " : "",
				    (int)strcspn(v, "; "), v);
			}
		} else if (strcasecmp(tag, "issuewild") != 0 && strcasecmp(tag, "iodef") != 0 &&
		    (fl & 128) != 0) {
			pr_note(r, PROBE_FAIL, "critical CAA property \"%s\" that CAs do not "
			    "know: every CA must refuse to issue (RFC 8659 §4.1)", tag);
			pr_summary(r, "CAA BLOCKS ISSUANCE (critical %s)", tag);
			bad = true;
		}
	}
	if (bad)
		goto out;
	if (nissue > 0 && nopen == 0) {
		pr_note(r, PROBE_FAIL, "CAA at %s allows no CA to issue (issue \";\"): the "
		    "certificate for %s cannot be renewed", name, p->domain);
		pr_summary(r, "CAA FORBIDS EVERY CA");
	} else if (nissue == 0) {
		pr_note(r, PROBE_OK, "CAA at %s has no issue property: any CA may issue",
		    name);
		pr_summary(r, "CAA at %s (no issue restriction)", name);
	} else {
		pr_note(r, PROBE_OK, "CAA at %s: issuers %s", name, issuers.s);
		pr_summary(r, "CAA issuers %s", issuers.s);
	}
out:
	sb_free(&issuers);
	strv_free(&caa);
}

/* One probe per certificate name (site-wide): vhost names, host names, the Autodiscover
 * endpoints' hosts. */
void
caa_build(struct probe_build *b)
{
	const struct site *site = b->site;
	struct strv names = { 0 };
	struct probe *p;
	size_t i;

	if (b->host != NULL)
		return;
	for (i = 0; i < site->nvhosts; i++)
		if (!strv_has(&names, site->vhosts[i].name))
			strv_push(&names, site->vhosts[i].name);
	for (i = 0; i < site->nhosts; i++) {
		const struct host *h = &site->hosts[i];

		if (!h->local && h->address != NULL && !is_ip_literal(h->address) &&
		    !strv_has(&names, h->address))
			strv_push(&names, h->address);
	}
	for (i = 0; i < site->nads; i++) {
		const struct endpoint *eps[] = { &site->ads[i].imap, &site->ads[i].pop3,
		    &site->ads[i].smtp };

		for (size_t j = 0; j < nitems(eps); j++)
			if (eps[j]->host != NULL && !strv_has(&names, eps[j]->host))
				strv_push(&names, eps[j]->host);
	}
	for (i = 0; i < names.n; i++) {
		p = probe_add(b, xstrdup("caa"), xstrdup(names.v[i]));
		p->domain = xstrdup(names.v[i]);
	}
	strv_free(&names);
}
