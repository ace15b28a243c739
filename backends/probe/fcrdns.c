/* fcrdns.c: the "fcrdns" probe kind: the reverse DNS of each Postfix host's address
 * (the address it sends from: mxdeck takes the host's address) must name a host whose
 * addresses include it again (forward-confirmed reverse DNS), and that name must be
 * Postfix's myhostname, which the probe reads from the host's SMTP greeting and EHLO
 * reply (receivers compare them; many reject mail from an address without FCrDNS). */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <ldns/ldns.h>

#include "backends/probe/probe-int.h"

/* The name in the EHLO reply of the host's SMTP port (Postfix: myhostname). */
static char *
smtp_hostname(struct probe *p, struct presult *r, const struct addrs *a, char **cause)
{
	struct conn c;
	struct sbuf text;
	char *name = NULL, *e = NULL;
	int code;
	size_t n;

	conn_init(&c, r->deadline);
	sb_init(&text);
	if (conn_connect(&c, a, p->port, cause) != 0)
		goto out;
	if (smtp_read_reply(&c, &code, &text, cause) != 0)
		goto out;
	if (code != 220) {
		*cause = xasprintf("greeting is %d", code);
		goto out;
	}
	if (conn_printf(&c, cause, "EHLO probe.mxdeck.invalid\r\n") != 0 ||
	    smtp_read_reply(&c, &code, &text, cause) != 0)
		goto out;
	if (code != 250 || text.s == NULL) {
		*cause = xasprintf("EHLO answered %d", code);
		goto out;
	}
	n = strcspn(text.s, " \n");
	if (n == 0 || n > 253) {
		*cause = xstrdup("no host name in the EHLO reply");
		goto out;
	}
	name = xstrndup(text.s, n);
	if (conn_printf(&c, &e, "QUIT\r\n") != 0)
		free(e);
out:
	sb_free(&text);
	conn_close(&c);
	return name;
}

static bool
name_eq(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b);

	if (la > 0 && a[la - 1] == '.')
		la--;
	if (lb > 0 && b[lb - 1] == '.')
		lb--;
	return la == lb && strncasecmp(a, b, la) == 0;
}

void
probe_fcrdns_run(struct probe *p, struct presult *r)
{
	struct addrs a, back;
	struct strv ptr = { 0 };
	char *cause = NULL, *rev = NULL, *myhost = NULL, ab[64], bb[64];
	size_t i, k;
	bool confirmed = false, nx = false;
	const char *fcname = NULL;

	if (net_host_addrs(p->ctx, p->host, r->deadline, &a, &cause) != 0) {
		pr_reach(r, false);
		pr_note(r, PROBE_FAIL, "%s", cause);
		pr_summary(r, "address lookup failed");
		free(cause);
		return;
	}
	addr_fmt(&a.a[0], ab, sizeof ab);
	rev = dns_reverse_name(&a.a[0]);
	if (dns_records(p->ctx, rev, LDNS_RR_TYPE_PTR, r->deadline, &ptr, &nx,
	    &cause) != 0) {
		pr_note(r, PROBE_FAIL, "PTR %s: %s", rev, cause);
		pr_summary(r, "PTR lookup failed");
		goto out;
	}
	if (ptr.n == 0) {
		pr_note(r, PROBE_FAIL, "no PTR record for %s (%s%s): receivers see an address "
		    "without a name", ab, rev, nx ? ": NXDOMAIN" : "");
		pr_summary(r, "NO PTR for %s", ab);
		goto out;
	}
	for (i = 0; i < ptr.n && !confirmed; i++) {
		if (net_resolve(p->ctx, ptr.v[i], r->deadline, &back, &cause) != 0) {
			pr_note(r, PROBE_WARN, "PTR %s -> %s, which does not resolve: %s", ab,
			    ptr.v[i], cause);
			free(cause);
			cause = NULL;
			continue;
		}
		for (k = 0; k < back.n && !confirmed; k++) {
			addr_fmt(&back.a[k], bb, sizeof bb);
			if (strcmp(ab, bb) == 0) {
				confirmed = true;
				fcname = ptr.v[i];
			}
		}
	}
	if (!confirmed) {
		pr_note(r, PROBE_FAIL, "PTR %s -> %s, whose addresses do not include %s: not "
		    "forward-confirmed", ab, ptr.v[0], ab);
		pr_summary(r, "NO FCrDNS (%s -> %s)", ab, ptr.v[0]);
		goto out;
	}
	pr_note(r, PROBE_OK, "%s -> %s -> %s (forward-confirmed)", ab, fcname, ab);
	if (p->port <= 0) {
		pr_note(r, PROBE_WARN, "no smtp probe port: myhostname not compared");
		pr_summary(r, "FCrDNS %s (myhostname not read)", fcname);
		goto out;
	}
	if ((myhost = smtp_hostname(p, r, &a, &cause)) == NULL) {
		pr_reach(r, false);
		pr_note(r, PROBE_FAIL, "reading myhostname from port %d: %s", p->port, cause);
		pr_summary(r, "FCrDNS %s, myhostname unknown", fcname);
		goto out;
	}
	pr_reach(r, true);
	if (name_eq(myhost, fcname)) {
		pr_note(r, PROBE_OK, "myhostname (EHLO) %s matches", myhost);
		pr_summary(r, "FCrDNS %s = myhostname", fcname);
	} else {
		pr_note(r, PROBE_FAIL, "myhostname (EHLO) is %s, but %s's PTR is %s: receivers "
		    "that compare them distrust the mail (set Postfix myhostname or the PTR)",
		    myhost, ab, fcname);
		pr_summary(r, "MYHOSTNAME %s != PTR %s", myhost, fcname);
	}
out:
	free(cause);
	free(rev);
	free(myhost);
	strv_free(&ptr);
}

/* One probe per Postfix host with an address. */
void
fcrdns_build(struct probe_build *b)
{
	struct probe *p;

	if (b->host == NULL || b->host->local || (b->roles & ROLE_POSTFIX) == 0)
		return;
	p = probe_add(b, xstrdup("fcrdns"), xstrdup(b->addr));
	p->port = probe_build_port(b, SVCP_SMTP);
	p->svc = SVCP_SMTP;
}
