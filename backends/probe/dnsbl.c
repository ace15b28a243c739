/* dnsbl.c: the "dnsbl" probe kind, optional: each Postfix host's address looked up in
 * every DNS block list zone of [tests] dnsbl (RFC 5782: the address's octets reversed,
 * or its IPv6 nibbles, under the zone). An A record in 127.0.0.0/8 means listed (fail,
 * with the list's TXT reason); NXDOMAIN means not listed. 127.255.255.0/24 is a list's
 * refusal to answer this resolver (public resolvers, over quota: warn), and an answer
 * outside 127/8 a list that wildcards or is gone (warn). No zone is configured by
 * default: asking a list is a use of its service, with its own terms. */
#include <arpa/inet.h>
#include <stdlib.h>
#include <string.h>

#include <ldns/ldns.h>

#include "backends/probe/probe-int.h"

/* "2.0.0.127" of 127.0.0.2; IPv6: the 32 nibbles. */
static char *
reversed(const struct sockaddr_storage *ss)
{
	char *rev = dns_reverse_name(ss), *dot;

	/* drop ".in-addr.arpa" / ".ip6.arpa" */
	if ((dot = strstr(rev, ss->ss_family == AF_INET ? ".in-addr.arpa" :
	    ".ip6.arpa")) != NULL)
		*dot = '\0';
	return rev;
}

void
probe_dnsbl_run(struct probe *p, struct presult *r)
{
	const struct strv *zones = &p->ctx->site->tests_dnsbl;
	struct strv a = { 0 }, txt = { 0 };
	struct addrs addrs;
	char *cause = NULL, *rev, *name, ab[64];
	size_t i, nlisted = 0, nclean = 0;
	bool nx;

	if (net_host_addrs(p->ctx, p->host, r->deadline, &addrs, &cause) != 0) {
		pr_note(r, PROBE_FAIL, "%s", cause);
		pr_summary(r, "address lookup failed");
		free(cause);
		return;
	}
	addr_fmt(&addrs.a[0], ab, sizeof ab);
	rev = reversed(&addrs.a[0]);
	for (i = 0; i < zones->n; i++) {
		name = xasprintf("%s.%s", rev, zones->v[i]);
		nx = false;
		if (dns_records(p->ctx, name, LDNS_RR_TYPE_A, r->deadline, &a, &nx,
		    &cause) != 0) {
			pr_note(r, PROBE_WARN, "%s: %s", zones->v[i], cause);
			pr_sumadd(r, "%s not asked", zones->v[i]);
			free(cause);
			cause = NULL;
		} else if (a.n == 0) {
			pr_note(r, PROBE_OK, "%s: not listed (%s)", zones->v[i], nx ? "NXDOMAIN" :
			    "no A record");
			nclean++;
		} else if (strncmp(a.v[0], "127.255.255.", 12) == 0) {
			pr_note(r, PROBE_WARN, "%s answered %s: the list refuses to answer this "
			    "resolver (a public resolver, or over its free quota); ask it "
			    "through your own", zones->v[i], a.v[0]);
			pr_sumadd(r, "%s refused the query", zones->v[i]);
		} else if (strncmp(a.v[0], "127.", 4) != 0) {
			pr_note(r, PROBE_WARN, "%s answered %s, outside 127.0.0.0/8: not a block "
			    "list answer (a defunct list that wildcards?)", zones->v[i], a.v[0]);
			pr_sumadd(r, "%s answer unclear", zones->v[i]);
		} else {
			if (dns_records(p->ctx, name, LDNS_RR_TYPE_TXT, r->deadline, &txt, NULL,
			    &cause) != 0) {
				free(cause);
				cause = NULL;
			}
			pr_note(r, PROBE_FAIL, "%s LISTED in %s (%s)%s%.300s", ab, zones->v[i],
			    a.v[0], txt.n > 0 ? ": " : "", txt.n > 0 ? txt.v[0] : "");
			if (nlisted == 0)
				pr_summary(r, "%s LISTED in %s", ab, zones->v[i]);
			else
				pr_sumadd(r, "%s", zones->v[i]);
			nlisted++;
			strv_free(&txt);
		}
		strv_free(&a);
		free(name);
	}
	if (nlisted == 0 && r->summary.len == 0)
		pr_summary(r, "not listed in %zu list%s", nclean, nclean == 1 ? "" : "s");
	free(rev);
}

/* One probe per Postfix host with an address, when [tests] dnsbl names lists. */
void
dnsbl_build(struct probe_build *b)
{
	if (b->host == NULL || b->host->local || (b->roles & ROLE_POSTFIX) == 0 ||
	    b->site->tests_dnsbl.n == 0)
		return;
	probe_add(b, xstrdup("dnsbl"), xstrdup(b->addr));
}
