/* spf.c: the "spf" probe kind: the SPF record (RFC 7208) of each mail domain of the
 * profile must pass every Postfix host's address (the address the gateway sends from:
 * mxdeck takes the host's address). The record is evaluated here, through the profile's
 * resolver, with the RFC's limit of 10 DNS-querying terms; macros are not expanded
 * (a term with one cannot be judged and says so). */
#include <arpa/inet.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <ldns/ldns.h>

#include "backends/probe/parse.h"
#include "backends/probe/probe-int.h"

enum spf_result { SPF_PASS, SPF_FAIL, SPF_SOFTFAIL, SPF_NEUTRAL, SPF_NONE, SPF_PERMERROR,
    SPF_TEMPERROR };
static const char *const spf_names[] = { "pass", "fail", "softfail", "neutral", "none",
    "permerror", "temperror" };

struct spf_eval {
	struct probe *p;
	struct presult *r;
	const struct sockaddr_storage *ip;
	int	 lookups;
	struct sbuf why;	/* the terms that decided, for the details */
};

/* Does ip lie in addr/prefix (addr a literal of the same family)? */
static bool
in_cidr(const struct sockaddr_storage *ip, const char *addr, int prefix)
{
	unsigned char want[16], have[16];
	int bits, i, len;

	if (ip->ss_family == AF_INET) {
		if (inet_pton(AF_INET, addr, want) != 1)
			return false;
		memcpy(have, &((const struct sockaddr_in *)ip)->sin_addr, 4);
		len = 4;
	} else {
		if (inet_pton(AF_INET6, addr, want) != 1)
			return false;
		memcpy(have, &((const struct sockaddr_in6 *)ip)->sin6_addr, 16);
		len = 16;
	}
	bits = prefix < 0 || prefix > len * 8 ? len * 8 : prefix;
	for (i = 0; i < len && bits > 0; i++, bits -= 8) {
		unsigned char mask = bits >= 8 ? 0xff : (unsigned char)(0xff << (8 - bits));

		if ((want[i] & mask) != (have[i] & mask))
			return false;
	}
	return true;
}

/* "domain/24//64" -> domain (or dflt), the prefix for the ip's family (-1: none). */
static char *
split_cidr(const char *v, const char *dflt, int family, int *prefix)
{
	const char *sl = strchr(v, '/');
	const char *d6 = strstr(v, "//");
	char *dom;

	*prefix = -1;
	if (family == AF_INET && sl != NULL && sl != d6)
		*prefix = atoi(sl + 1);
	if (family == AF_INET6 && d6 != NULL)
		*prefix = atoi(d6 + 2);
	dom = sl != NULL ? xstrndup(v, (size_t)(sl - v)) : xstrdup(v);
	if (*dom == '\0') {
		free(dom);
		dom = xstrdup(dflt);
	}
	return dom;
}

/* Do the A/AAAA records of name hold the ip (within prefix)? -1 on a lookup error. */
static int
addr_match(struct spf_eval *ev, const char *name, int prefix)
{
	struct strv v = { 0 };
	char *cause = NULL;
	size_t i;
	int type = ev->ip->ss_family == AF_INET ? LDNS_RR_TYPE_A : LDNS_RR_TYPE_AAAA, rc = 0;

	if (dns_records(ev->p->ctx, name, type, ev->r->deadline, &v, NULL, &cause) != 0) {
		sb_addf(&ev->why, "     %s: %s\n", name, cause);
		free(cause);
		return -1;
	}
	for (i = 0; i < v.n && rc == 0; i++)
		rc = in_cidr(ev->ip, v.v[i], prefix) ? 1 : 0;
	strv_free(&v);
	return rc;
}

static enum spf_result check_host(struct spf_eval *ev, const char *domain, int depth);

/* One mechanism: 1 match, 0 no match, -1 permerror, -2 temperror. */
static int
mechanism(struct spf_eval *ev, const struct spf_term *t, const char *domain, int depth)
{
	struct strv mx = { 0 };
	char *dom, *cause = NULL;
	const char *sl;
	int prefix, rc = 0, fam = ev->ip->ss_family;
	size_t i;
	enum spf_result sub;

	if (strchr(t->value, '%') != NULL) {
		sb_addf(&ev->why, "     %s:%s: macros are not expanded by mxdeck\n", t->name,
		    t->value);
		return -2;
	}
	if (strcmp(t->name, "all") == 0)
		return 1;
	if (strcmp(t->name, "ip4") == 0 || strcmp(t->name, "ip6") == 0) {
		if ((fam == AF_INET) != (strcmp(t->name, "ip4") == 0))
			return 0;
		sl = strchr(t->value, '/');
		dom = sl != NULL ? xstrndup(t->value, (size_t)(sl - t->value)) :
		    xstrdup(t->value);
		rc = in_cidr(ev->ip, dom, sl != NULL ? atoi(sl + 1) : -1) ? 1 : 0;
		free(dom);
		return rc;
	}
	if (++ev->lookups > 10) {
		sb_addf(&ev->why, "     more than 10 DNS-querying terms (RFC 7208 §4.6.4)\n");
		return -1;
	}
	if (strcmp(t->name, "a") == 0 || strcmp(t->name, "exists") == 0) {
		dom = split_cidr(t->value, domain, fam, &prefix);
		rc = addr_match(ev, dom, strcmp(t->name, "exists") == 0 ? 0 : prefix);
		free(dom);
		return rc == -1 ? -2 : rc;
	}
	if (strcmp(t->name, "mx") == 0) {
		dom = split_cidr(t->value, domain, fam, &prefix);
		if (dns_mx_targets(ev->p->ctx, dom, ev->r->deadline, &mx, &cause) != 0) {
			sb_addf(&ev->why, "     mx %s: %s\n", dom, cause);
			free(cause);
			free(dom);
			return -2;
		}
		free(dom);
		for (i = 0; i < mx.n && i < 10 && rc == 0; i++)
			rc = addr_match(ev, mx.v[i], prefix);
		strv_free(&mx);
		return rc == -1 ? -2 : rc;
	}
	if (strcmp(t->name, "include") == 0) {
		if (*t->value == '\0')
			return -1;
		sub = check_host(ev, t->value, depth + 1);
		if (sub == SPF_PASS)
			return 1;
		if (sub == SPF_FAIL || sub == SPF_SOFTFAIL || sub == SPF_NEUTRAL)
			return 0;
		if (sub == SPF_TEMPERROR)
			return -2;
		return -1;	/* none or permerror below an include */
	}
	/* ptr: deprecated (RFC 7208 §5.5); not evaluated */
	sb_addf(&ev->why, "     ptr: deprecated, not evaluated (counts as no match)\n");
	return 0;
}

static enum spf_result
check_host(struct spf_eval *ev, const char *domain, int depth)
{
	struct strv txt = { 0 };
	struct spf_record rec;
	const char *found = NULL, *redirect = NULL;
	char *cause = NULL;
	size_t i, nspf = 0;
	int m;
	enum spf_result res = SPF_NEUTRAL;

	if (depth > 10)
		return SPF_PERMERROR;
	if (dns_records(ev->p->ctx, domain, LDNS_RR_TYPE_TXT, ev->r->deadline, &txt, NULL,
	    &cause) != 0) {
		sb_addf(&ev->why, "     TXT %s: %s\n", domain, cause);
		free(cause);
		return SPF_TEMPERROR;
	}
	for (i = 0; i < txt.n; i++) {
		if (spf_is_record(txt.v[i])) {
			found = txt.v[i];
			nspf++;
		}
	}
	if (nspf == 0) {
		strv_free(&txt);
		return SPF_NONE;
	}
	sb_addf(&ev->why, "     %s: \"%.400s\"\n", domain, found);
	if (nspf > 1) {
		sb_addf(&ev->why, "     %s has %zu SPF records (RFC 7208 §4.5: permerror)\n",
		    domain, nspf);
		strv_free(&txt);
		return SPF_PERMERROR;
	}
	if (spf_parse(found, &rec, &cause) != 0) {
		sb_addf(&ev->why, "     %s: %s\n", domain, cause);
		free(cause);
		strv_free(&txt);
		return SPF_PERMERROR;
	}
	for (i = 0; i < rec.n; i++) {
		const struct spf_term *t = &rec.v[i];

		if (t->qual == 0) {
			if (strcmp(t->name, "redirect") == 0)
				redirect = t->value;
			continue;
		}
		m = mechanism(ev, t, domain, depth);
		if (m == -1) {
			res = SPF_PERMERROR;
			goto done;
		}
		if (m == -2) {
			res = SPF_TEMPERROR;
			goto done;
		}
		if (m == 1) {
			res = t->qual == '+' ? SPF_PASS : t->qual == '-' ? SPF_FAIL :
			    t->qual == '~' ? SPF_SOFTFAIL : SPF_NEUTRAL;
			sb_addf(&ev->why, "     %s: %c%s%s%s matches\n", domain, t->qual,
			    t->name, *t->value != '\0' && t->value[0] != '/' ? ":" : "",
			    t->value);
			goto done;
		}
	}
	if (redirect != NULL) {
		if (++ev->lookups > 10) {
			res = SPF_PERMERROR;
			goto done;
		}
		res = check_host(ev, redirect, depth + 1);
		if (res == SPF_NONE)
			res = SPF_PERMERROR;
		goto done;
	}
	sb_addf(&ev->why, "     %s: no term matches (neutral)\n", domain);
done:
	spf_record_free(&rec);
	strv_free(&txt);
	return res;
}

void
probe_spf_run(struct probe *p, struct presult *r)
{
	const struct site *site = p->ctx->site;
	struct spf_eval ev;
	struct addrs a;
	char *cause = NULL, ab[64];
	size_t i, k, nchecked = 0, nbad = 0;
	enum spf_result res;

	for (i = 0; i < site->nhosts; i++) {
		const struct host *h = &site->hosts[i];

		if ((h->roles != 0 && (h->roles & ROLE_POSTFIX) == 0) || h->local ||
		    h->address == NULL)
			continue;
		if (net_host_addrs(p->ctx, h, r->deadline, &a, &cause) != 0) {
			pr_note(r, PROBE_FAIL, "host %s: %s", h->name, cause);
			free(cause);
			cause = NULL;
			nbad++;
			continue;
		}
		for (k = 0; k < a.n; k++) {
			memset(&ev, 0, sizeof ev);
			ev.p = p;
			ev.r = r;
			ev.ip = &a.a[k];
			sb_init(&ev.why);
			addr_fmt(&a.a[k], ab, sizeof ab);
			res = check_host(&ev, p->domain, 0);
			nchecked++;
			if (res == SPF_PASS)
				pr_note(r, PROBE_OK, "%s (host %s): pass", ab, h->name);
			else {
				nbad++;
				pr_note(r, res == SPF_TEMPERROR ? PROBE_WARN : PROBE_FAIL,
				    "%s (host %s): %s%s", ab, h->name, spf_names[res],
				    res == SPF_NONE ? ": the domain publishes no SPF record" :
				    res == SPF_TEMPERROR ? ": could not be evaluated" :
				    ": receivers may reject or junk the gateway's mail");
				if (nbad == 1)
					pr_summary(r, "%s %s", ab, res == SPF_NONE ? "NO SPF RECORD" :
					    res == SPF_TEMPERROR ? "SPF not evaluated" :
					    res == SPF_PERMERROR ? "SPF PERMERROR" : "NOT COVERED");
				pr_sumadd(r, "%s", spf_names[res]);
			}
			sb_add(&r->details, ev.why.s != NULL ? ev.why.s : "");
			sb_free(&ev.why);
		}
	}
	if (nchecked == 0 && nbad == 0) {
		pr_note(r, PROBE_WARN, "no postfix host with an address to check");
		pr_summary(r, "no sending host");
	} else if (nbad == 0)
		pr_summary(r, "pass for %zu address%s", nchecked, nchecked == 1 ? "" : "es");
}

/* One probe per mail domain (site-wide), when a Postfix host has an address other
 * than "local". */
void
spf_build(struct probe_build *b)
{
	struct strv doms = { 0 };
	struct probe *p;
	size_t i;

	if (b->host != NULL)
		return;
	for (i = 0; i < b->site->nhosts; i++) {
		const struct host *h = &b->site->hosts[i];

		if ((h->roles == 0 || (h->roles & ROLE_POSTFIX) != 0) && !h->local &&
		    h->address != NULL)
			break;
	}
	if (i == b->site->nhosts)
		return;		/* no sending host whose address could be judged */
	mail_domains(b->site, &doms);
	for (i = 0; i < doms.n; i++) {
		p = probe_add(b, xstrdup("spf"), xstrdup(doms.v[i]));
		p->domain = xstrdup(doms.v[i]);
	}
	strv_free(&doms);
}
