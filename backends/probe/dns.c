/* dns.c: DNS probes through ldns: MX, Autodiscover SRV/CNAME/A, RFC 6186 SRV, TLSA with
 * DNSSEC validation against [site] trust_anchor. */
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <ldns/ldns.h>

#include "backends/probe/probe-int.h"

#define DEFAULT_TRUST_ANCHOR "/usr/share/dns/root.key"

/* Trust anchors (DNSKEY or DS lines) into the resolver. */
static int
load_anchors(struct probe_ctx *ctx, ldns_resolver *res, char **cause)
{
	const char *path = ctx->site->trust_anchor != NULL ? ctx->site->trust_anchor :
	    DEFAULT_TRUST_ANCHOR;
	char *buf, *line, *p, *e = NULL;
	size_t len;
	ldns_rr *rr;
	ldns_status st;
	int n = 0, lineno = 0;

	if ((buf = read_input_file(path, IK_ANCHOR, &len, &e)) == NULL) {
		*cause = xasprintf("trust anchor: %s", e);
		free(e);
		return -1;
	}
	p = buf;
	while ((line = strsep(&p, "\n")) != NULL) {
		lineno++;
		line = str_trim(line);
		if (*line == '\0' || *line == ';' || *line == '#' || *line == '$')
			continue;
		rr = NULL;
		st = ldns_rr_new_frm_str(&rr, line, 3600, NULL, NULL);
		if (st != LDNS_STATUS_OK) {
			*cause = xasprintf("trust anchor %s:%d: %s", path, lineno,
			    ldns_get_errorstr_by_id(st));
			free(buf);
			return -1;
		}
		if (ldns_rr_get_type(rr) == LDNS_RR_TYPE_DNSKEY ||
		    ldns_rr_get_type(rr) == LDNS_RR_TYPE_DS) {
			ldns_resolver_push_dnssec_anchor(res, rr);
			n++;
		}
		ldns_rr_free(rr);
	}
	free(buf);
	if (n == 0) {
		*cause = xasprintf("trust anchor %s: no DNSKEY or DS record in it", path);
		return -1;
	}
	return 0;
}

/* One query: the answer's RRset of type t for name (possibly empty), its RRSIGs; the
 * whole packet in *keep when keep is not NULL (caller ldns_pkt_free()s it). */
static int
query_pkt(struct probe_ctx *ctx, ldns_resolver *res, const char *name, ldns_rr_type t,
    ldns_rr_list **rrset, ldns_rr_list **sigs, bool *nx, ldns_pkt **keep, char **cause)
{
	ldns_rdf *dname;
	ldns_pkt *pkt = NULL;
	ldns_pkt_rcode rc;

	*rrset = NULL;
	if (sigs != NULL)
		*sigs = NULL;
	*nx = false;
	if ((dname = ldns_dname_new_frm_str(name)) == NULL) {
		*cause = xasprintf("%s: not a valid DNS name", name);
		return -1;
	}
	if (net_query(ctx, res, name, dname, t, &pkt, cause) != 0) {
		ldns_rdf_deep_free(dname);
		return -1;
	}
	rc = ldns_pkt_get_rcode(pkt);
	if (rc != LDNS_RCODE_NOERROR && rc != LDNS_RCODE_NXDOMAIN) {
		ldns_lookup_table *lt = ldns_lookup_by_id(ldns_rcodes, (int)rc);

		*cause = xasprintf("%s: server answered %s", name, lt != NULL ? lt->name :
		    "an error");
		ldns_rdf_deep_free(dname);
		ldns_pkt_free(pkt);
		return -1;
	}
	*nx = rc == LDNS_RCODE_NXDOMAIN;
	*rrset = ldns_pkt_rr_list_by_name_and_type(pkt, dname, t, LDNS_SECTION_ANSWER);
	if (*rrset == NULL)
		*rrset = ldns_rr_list_new();
	if (sigs != NULL) {
		*sigs = ldns_dnssec_pkt_get_rrsigs_for_name_and_type(pkt, dname, t);
		if (*sigs == NULL)
			*sigs = ldns_rr_list_new();
	}
	ldns_rdf_deep_free(dname);
	if (keep != NULL)
		*keep = pkt;
	else
		ldns_pkt_free(pkt);
	return 0;
}

static int
query(struct probe_ctx *ctx, ldns_resolver *res, const char *name, ldns_rr_type t,
    ldns_rr_list **rrset, ldns_rr_list **sigs, bool *nx, char **cause)
{
	return query_pkt(ctx, res, name, t, rrset, sigs, nx, NULL, cause);
}

static char *rdf_str(const ldns_rdf *);
static int validate(struct probe_ctx *ctx, ldns_resolver *res, ldns_rr_list *rrset,
    ldns_rr_list *sigs, char **why);

/* "2026-12-01 10:00:00 UTC" */
static void
fmt_utc(time_t t, char *buf, size_t len)
{
	struct tm tm;

	gmtime_r(&t, &tm);
	strftime(buf, len, "%Y-%m-%d %H:%M:%S UTC", &tm);
}

/* When every RRSIG in sigs is outside its validity period now, say so (what: the
 * RRset they cover); else NULL. */
static char *
sig_time_problem(const ldns_rr_list *sigs, const char *what)
{
	time_t now = time(NULL), exp, inc;
	char buf[64];
	size_t i, n = ldns_rr_list_rr_count(sigs), bad = 0;
	ldns_rr *sig, *first = NULL;

	for (i = 0; i < n; i++) {
		sig = ldns_rr_list_rr(sigs, i);
		if (ldns_rr_rrsig_expiration(sig) == NULL || ldns_rr_rrsig_inception(sig) == NULL)
			continue;
		exp = ldns_rdf2native_time_t(ldns_rr_rrsig_expiration(sig));
		inc = ldns_rdf2native_time_t(ldns_rr_rrsig_inception(sig));
		if (exp < now || inc > now) {
			bad++;
			if (first == NULL)
				first = sig;
		}
	}
	if (n == 0 || bad < n || first == NULL)
		return NULL;
	exp = ldns_rdf2native_time_t(ldns_rr_rrsig_expiration(first));
	inc = ldns_rdf2native_time_t(ldns_rr_rrsig_inception(first));
	if (exp < now) {
		fmt_utc(exp, buf, sizeof buf);
		return xasprintf("the RRSIG over %s (key tag %u) EXPIRED at %s, %lld days "
		    "ago: the zone was not re-signed", what,
		    ldns_rdf2native_int16(ldns_rr_rrsig_keytag(first)), buf,
		    (long long)((now - exp) / 86400));
	}
	fmt_utc(inc, buf, sizeof buf);
	return xasprintf("the RRSIG over %s (key tag %u) is NOT YET VALID: its inception "
	    "is %s (a signer's clock ahead?)", what,
	    ldns_rdf2native_int16(ldns_rr_rrsig_keytag(first)), buf);
}

/* Why the keys of signer do not validate: expired signatures over its DNSKEY RRset, or
 * no DNSKEY matching a trust anchor for that name (a wrong DS or a stale anchor); NULL
 * when neither. */
static char *
dnskey_problem(struct probe_ctx *ctx, ldns_resolver *res, const ldns_rdf *signer)
{
	ldns_rr_list *keys = NULL, *ksigs = NULL, *anchors = ldns_resolver_dnssec_anchors(res);
	char *name = rdf_str(signer), *what, *out = NULL, *e = NULL;
	struct sbuf tags, atags;
	size_t i, j, nanch = 0;
	bool nx, match = false, saved = ldns_resolver_dnssec_cd(res);

	ldns_resolver_set_dnssec_cd(res, true);
	if (query(ctx, res, name, LDNS_RR_TYPE_DNSKEY, &keys, &ksigs, &nx, &e) != 0) {
		ldns_resolver_set_dnssec_cd(res, saved);
		free(e);
		free(name);
		return NULL;
	}
	ldns_resolver_set_dnssec_cd(res, saved);
	what = xasprintf("%s DNSKEY", name);
	out = sig_time_problem(ksigs, what);
	free(what);
	sb_init(&tags);
	sb_init(&atags);
	for (i = 0; out == NULL && anchors != NULL && i < ldns_rr_list_rr_count(anchors); i++) {
		ldns_rr *a = ldns_rr_list_rr(anchors, i);

		if (ldns_dname_compare(ldns_rr_owner(a), signer) != 0)
			continue;
		nanch++;
		sb_addf(&atags, "%s%u", atags.len > 0 ? ", " : "",
		    ldns_rr_get_type(a) == LDNS_RR_TYPE_DS ?
		    ldns_rdf2native_int16(ldns_rr_rdf(a, 0)) : ldns_calc_keytag(a));
		for (j = 0; j < ldns_rr_list_rr_count(keys); j++)
			if (ldns_rr_compare_ds(a, ldns_rr_list_rr(keys, j)))
				match = true;
	}
	if (out == NULL && nanch > 0 && !match && ldns_rr_list_rr_count(keys) > 0) {
		for (j = 0; j < ldns_rr_list_rr_count(keys); j++)
			sb_addf(&tags, "%s%u", j > 0 ? ", " : "",
			    ldns_calc_keytag(ldns_rr_list_rr(keys, j)));
		out = xasprintf("none of %s's DNSKEYs (key tags %s) matches its trust anchor "
		    "(key tag %s): a wrong DS at the parent, or a key rollover the anchor "
		    "missed", name, tags.s, atags.s);
	}
	sb_free(&tags);
	sb_free(&atags);
	ldns_rr_list_deep_free(keys);
	ldns_rr_list_deep_free(ksigs);
	free(name);
	return out;
}

/* The name of an Extended DNS Error code (RFC 8914 section 4). */
static const char *
ede_name(unsigned code, bool *dnssec)
{
	static const char *const names[] = {
		"Other Error", "Unsupported DNSKEY Algorithm", "Unsupported DS Digest Type",
		"Stale Answer", "Forged Answer", "DNSSEC Indeterminate", "DNSSEC Bogus",
		"Signature Expired", "Signature Not Yet Valid", "DNSKEY Missing",
		"RRSIGs Missing", "No Zone Key Bit Set", "NSEC Missing", "Cached Error",
		"Not Ready", "Blocked", "Censored", "Filtered", "Prohibited",
		"Stale NXDOMAIN Answer", "Not Authoritative", "Not Supported",
		"No Reachable Authority", "Network Error", "Invalid Data",
	};

	*dnssec = (code >= 1 && code <= 2) || (code >= 5 && code <= 12);
	return code < nitems(names) ? names[code] : "unknown code";
}

/* The Extended DNS Errors in pkt, "EDE 7 (Signature Expired): text; ..." or NULL. */
static char *
ede_text(ldns_pkt *pkt, bool *dnssec)
{
	ldns_edns_option_list *ol = ldns_pkt_edns_get_option_list(pkt);
	ldns_edns_option *o;
	struct sbuf b;
	const uint8_t *d;
	size_t i, k, sz;
	unsigned code;
	bool dn;

	*dnssec = false;
	if (ol == NULL)
		return NULL;
	sb_init(&b);
	for (i = 0; i < ldns_edns_option_list_get_count(ol); i++) {
		o = ldns_edns_option_list_get_option(ol, i);
		if (o == NULL || ldns_edns_get_code(o) != LDNS_EDNS_EDE ||
		    (sz = ldns_edns_get_size(o)) < 2)
			continue;
		d = ldns_edns_get_data(o);
		code = (unsigned)d[0] << 8 | d[1];
		sb_addf(&b, "%sEDE %u (%s)", b.len > 0 ? "; " : "", code, ede_name(code, &dn));
		*dnssec = *dnssec || dn;
		if (sz > 2) {
			sb_add(&b, ": ");
			/* the resolver's free text: printable ASCII only, at most 200 */
			for (k = 2; k < sz && k < 202; k++)
				sb_addf(&b, "%c", d[k] >= 0x20 && d[k] < 0x7f ? d[k] : '?');
		}
	}
	if (b.len == 0) {
		sb_free(&b);
		return NULL;
	}
	return sb_steal(&b);
}

int
dns_servfail_dnssec(struct probe_ctx *ctx, double deadline, const char *name, int type,
    struct ldns_struct_pkt *servfail, char **why)
{
	ldns_resolver *res;
	ldns_rr_list *rrset = NULL, *sigs = NULL;
	ldns_rr_type t = (ldns_rr_type)type;
	char *ede, *direct = NULL, *e = NULL;
	struct sbuf b;
	bool ede_dnssec, nx;
	int v, bogus;

	*why = NULL;
	ede = ede_text(servfail, &ede_dnssec);
	bogus = ede_dnssec;
	/* Ask again with CD (checking disabled): the data and its RRSIGs, validated here
	 * against the profile's trust anchor. */
	if ((res = net_resolver(ctx, deadline, true, &e)) != NULL) {
		ldns_resolver_set_dnssec_cd(res, true);
		if (query(ctx, res, name, t, &rrset, &sigs, &nx, &e) == 0 &&
		    ldns_rr_list_rr_count(rrset) > 0) {
			v = validate(ctx, res, rrset, sigs, &direct);
			/* -1 is also an unreadable trust anchor: only "BOGUS" is bogus */
			if (v == -1 && direct != NULL && strncmp(direct, "BOGUS", 5) == 0)
				bogus = 1;
			else if (v == 1) {
				free(direct);
				direct = xstrdup("the data validates here against the trust "
				    "anchor (the resolver's own anchor or clock may differ)");
			} else if (direct != NULL) {
				char *d = xasprintf("with checking disabled: %s", direct);

				free(direct);
				direct = d;
			}
		}
		ldns_rr_list_deep_free(rrset);
		ldns_rr_list_deep_free(sigs);
		ldns_resolver_deep_free(res);
	}
	free(e);
	sb_init(&b);
	if (direct != NULL)
		sb_add(&b, direct);
	if (ede != NULL)
		sb_addf(&b, "%sthe resolver says %s", b.len > 0 ? "; " : "", ede);
	if (b.len > 0)
		*why = sb_steal(&b);
	else
		sb_free(&b);
	free(direct);
	free(ede);
	return bogus;
}

/* Validate rrset with its signatures up to the trust anchor: 1 secure, 0 insecure (no
 * signatures), -1 bogus; *why says what (the real cause where ldns reports a symptom:
 * an expired signature, or no DNSKEY matching the anchor, shows in ldns as "No keys
 * with the keytag and algorithm from the RRSIG found"). */
static int
validate(struct probe_ctx *ctx, ldns_resolver *res, ldns_rr_list *rrset,
    ldns_rr_list *sigs, char **why)
{
	ldns_rr_list *keys;
	ldns_status st;
	char *e = NULL;

	if (ldns_rr_list_rr_count(rrset) == 0) {
		*why = xstrdup("empty RRset");
		return 0;
	}
	if (ldns_rr_list_rr_count(sigs) == 0) {
		*why = xstrdup("no RRSIG: the zone is not signed (insecure)");
		return 0;
	}
	if (ldns_resolver_dnssec_anchors(res) == NULL && load_anchors(ctx, res, &e) != 0) {
		*why = e;
		return -1;
	}
	keys = ldns_rr_list_new();
	st = ldns_verify_trusted(res, rrset, sigs, keys);
	ldns_rr_list_deep_free(keys);	/* clones of the validating keys */
	if (st == LDNS_STATUS_OK)
		return 1;
	/* ldns_verify_trusted reports its last attempt; when the signer's keys do
	 * validate, the signature itself is what is wrong: say that. */
	{
		ldns_rdf *signer = ldns_rr_rrsig_signame(ldns_rr_list_rr(sigs, 0));
		ldns_status kst = LDNS_STATUS_ERR, vst;
		ldns_rr_list *vkeys = NULL;
		char *o = rdf_str(ldns_rr_owner(ldns_rr_list_rr(rrset, 0))), *w, *cause;
		const ldns_rr_descriptor *dsc = ldns_rr_descript(
		    ldns_rr_get_type(ldns_rr_list_rr(rrset, 0)));

		w = xasprintf("%s %s", o, dsc != NULL && dsc->_name != NULL ? dsc->_name :
		    "RRset");
		free(o);
		cause = sig_time_problem(sigs, w);
		free(w);
		if (cause == NULL && signer != NULL)
			cause = dnskey_problem(ctx, res, signer);
		if (cause != NULL) {
			*why = xasprintf("BOGUS: %s (ldns: %s; trust anchor %s)", cause,
			    ldns_get_errorstr_by_id(st), ctx->site->trust_anchor != NULL ?
			    ctx->site->trust_anchor : DEFAULT_TRUST_ANCHOR);
			free(cause);
			return -1;
		}

		if (signer != NULL)
			vkeys = ldns_fetch_valid_domain_keys(res, signer,
			    ldns_resolver_dnssec_anchors(res), &kst);
		if (vkeys != NULL && kst == LDNS_STATUS_OK &&
		    (vst = ldns_verify(rrset, sigs, vkeys, NULL)) != LDNS_STATUS_OK)
			st = vst;
		ldns_rr_list_deep_free(vkeys);
	}
	*why = xasprintf("BOGUS: %s (trust anchor %s)", ldns_get_errorstr_by_id(st),
	    ctx->site->trust_anchor != NULL ? ctx->site->trust_anchor :
	    DEFAULT_TRUST_ANCHOR);
	return -1;
}

/* The RRSIGs in list that cover an RRset of type t owned by owner (new list). */
static ldns_rr_list *
sigs_for(ldns_rr_list *list, const ldns_rdf *owner, ldns_rr_type t)
{
	ldns_rr_list *out = ldns_rr_list_new();
	ldns_rr *sig;
	size_t i;

	for (i = 0; i < ldns_rr_list_rr_count(list); i++) {
		sig = ldns_rr_list_rr(list, i);
		if (ldns_rr_get_type(sig) != LDNS_RR_TYPE_RRSIG ||
		    ldns_dname_compare(ldns_rr_owner(sig), owner) != 0 ||
		    ldns_rdf2rr_type(ldns_rr_rrsig_typecovered(sig)) != t)
			continue;
		ldns_rr_list_push_rr(out, ldns_rr_clone(sig));
	}
	return out;
}

/* Is the absence of qname/type in pkt (NXDOMAIN or NODATA) proven by NSEC or NSEC3
 * records whose signatures validate up to the trust anchor? 1 proven; 0 not, with
 * *why. */
static int
prove_absence(struct probe_ctx *ctx, ldns_resolver *res, ldns_pkt *pkt, const char *qname,
    ldns_rr_type type, char **why)
{
	ldns_rr_list *auth = ldns_pkt_authority(pkt), *nsecs, *allsigs, *one, *sigs;
	ldns_rr_type nt = LDNS_RR_TYPE_NSEC;
	ldns_rr *q = NULL;
	ldns_rdf *dname = NULL;
	ldns_status st;
	char *e = NULL, *o;
	size_t i;
	int v, ret = 0;

	nsecs = ldns_pkt_rr_list_by_type(pkt, LDNS_RR_TYPE_NSEC, LDNS_SECTION_AUTHORITY);
	if (nsecs == NULL) {
		nt = LDNS_RR_TYPE_NSEC3;
		nsecs = ldns_pkt_rr_list_by_type(pkt, LDNS_RR_TYPE_NSEC3,
		    LDNS_SECTION_AUTHORITY);
	}
	if (nsecs == NULL || ldns_rr_list_rr_count(nsecs) == 0) {
		*why = xstrdup("no NSEC or NSEC3 record in the answer (the zone is not "
		    "signed, or the resolver dropped them)");
		ldns_rr_list_deep_free(nsecs);
		return 0;
	}
	allsigs = auth;
	/* Every NSEC/NSEC3 used must itself validate. */
	for (i = 0; i < ldns_rr_list_rr_count(nsecs); i++) {
		ldns_rr *rr = ldns_rr_list_rr(nsecs, i);

		one = ldns_rr_list_new();
		ldns_rr_list_push_rr(one, ldns_rr_clone(rr));
		sigs = allsigs != NULL ? sigs_for(allsigs, ldns_rr_owner(rr), nt) :
		    ldns_rr_list_new();
		v = validate(ctx, res, one, sigs, &e);
		ldns_rr_list_deep_free(one);
		ldns_rr_list_deep_free(sigs);
		if (v != 1) {
			o = rdf_str(ldns_rr_owner(rr));
			*why = xasprintf("%s %s: %s", nt == LDNS_RR_TYPE_NSEC ? "NSEC" :
			    "NSEC3", o, e);
			free(o);
			free(e);
			goto out;
		}
		free(e);
		e = NULL;
	}
	if ((dname = ldns_dname_new_frm_str(qname)) == NULL) {
		*why = xasprintf("%s: not a valid DNS name", qname);
		goto out;
	}
	q = ldns_rr_new();
	ldns_rr_set_owner(q, ldns_rdf_clone(dname));
	ldns_rr_set_type(q, type);
	ldns_rr_set_class(q, LDNS_RR_CLASS_IN);
	sigs = ldns_pkt_rr_list_by_type(pkt, LDNS_RR_TYPE_RRSIG, LDNS_SECTION_AUTHORITY);
	if (sigs == NULL)
		sigs = ldns_rr_list_new();
	if (nt == LDNS_RR_TYPE_NSEC)
		st = ldns_dnssec_verify_denial(q, nsecs, sigs);
	else
		st = ldns_dnssec_verify_denial_nsec3(q, nsecs, sigs,
		    ldns_pkt_get_rcode(pkt), type, ldns_pkt_ancount(pkt) == 0);
	ldns_rr_list_deep_free(sigs);
	if (st == LDNS_STATUS_OK)
		ret = 1;
	else
		*why = xasprintf("the validated %s records do not deny %s %s: %s",
		    nt == LDNS_RR_TYPE_NSEC ? "NSEC" : "NSEC3", qname,
		    type == LDNS_RR_TYPE_TLSA ? "TLSA" : "?", ldns_get_errorstr_by_id(st));
out:
	ldns_rr_free(q);
	ldns_rdf_deep_free(dname);
	ldns_rr_list_deep_free(nsecs);
	return ret;
}

void
tlsa_set_free(struct tlsa_set *s)
{
	size_t i;

	for (i = 0; i < s->n; i++)
		free(s->v[i].data);
	free(s->v);
	free(s->insecure_why);
	memset(s, 0, sizeof *s);
}

int
dns_tlsa(struct probe_ctx *ctx, const char *qname, double deadline, struct tlsa_set *out,
    char **cause)
{
	ldns_resolver *res;
	ldns_rr_list *rrset = NULL, *sigs = NULL;
	ldns_pkt *pkt = NULL;
	ldns_rr *rr;
	ldns_rdf *rd;
	size_t i;
	bool nx;
	int v;

	memset(out, 0, sizeof *out);
	if ((res = net_resolver(ctx, deadline, true, cause)) == NULL)
		return -1;
	if (query_pkt(ctx, res, qname, LDNS_RR_TYPE_TLSA, &rrset, &sigs, &nx, &pkt,
	    cause) != 0) {
		ldns_resolver_deep_free(res);
		return -1;
	}
	out->v = xcalloc(ldns_rr_list_rr_count(rrset) + 1, sizeof *out->v);
	for (i = 0; i < ldns_rr_list_rr_count(rrset); i++) {
		rr = ldns_rr_list_rr(rrset, i);
		if (ldns_rr_rd_count(rr) != 4)
			continue;
		out->v[out->n].usage = ldns_rdf2native_int8(ldns_rr_rdf(rr, 0));
		out->v[out->n].selector = ldns_rdf2native_int8(ldns_rr_rdf(rr, 1));
		out->v[out->n].mtype = ldns_rdf2native_int8(ldns_rr_rdf(rr, 2));
		rd = ldns_rr_rdf(rr, 3);
		out->v[out->n].len = ldns_rdf_size(rd);
		out->v[out->n].data = xmalloc(ldns_rdf_size(rd) + 1);
		memcpy(out->v[out->n].data, ldns_rdf_data(rd), ldns_rdf_size(rd));
		out->n++;
	}
	if (out->n > 0) {
		v = validate(ctx, res, rrset, sigs, &out->insecure_why);
		out->secure = v == 1;
	} else {
		out->nxdomain = nx;
		out->absent_proven = prove_absence(ctx, res, pkt, qname, LDNS_RR_TYPE_TLSA,
		    &out->insecure_why) == 1;
	}
	ldns_pkt_free(pkt);
	ldns_rr_list_deep_free(rrset);
	ldns_rr_list_deep_free(sigs);
	ldns_resolver_deep_free(res);
	return 0;
}

int
probe_tlsa_lookup(const struct site *site, const char *qname, double timeout,
    struct tlsa_set *out, char **cause)
{
	struct probe_ctx ctx;
	char *e = NULL, *why = NULL;
	int rc;

	memset(out, 0, sizeof *out);
	memset(&ctx, 0, sizeof ctx);
	ctx.site = site;
	ctx.timeout = timeout > 0 ? timeout : 10;
	ctx.run_deadline = mono_now() + ctx.timeout;
	if (site->resolver != NULL && net_resolver_parse(site->resolver, &ctx.resolver_host,
	    &ctx.resolver_port, &e) != 0) {
		*cause = xasprintf("[site] resolver %s: %s", site->resolver, e);
		free(e);
		return -1;
	}
	rc = dns_tlsa(&ctx, qname, ctx.run_deadline, out, cause);
	if (rc != 0 && *cause != NULL && strstr(*cause, "SERVFAIL") != NULL &&
	    !net_deadline_reached(ctx.run_deadline)) {
		/* A validating resolver's SERVFAIL: say whether it is DNSSEC, and why. */
		ldns_pkt *pkt = ldns_pkt_new();
		int bogus = dns_servfail_dnssec(&ctx, ctx.run_deadline, qname,
		    LDNS_RR_TYPE_TLSA, pkt, &why);

		ldns_pkt_free(pkt);
		if (bogus == 1 || why != NULL) {
			char *c = xasprintf("%s%s%s", *cause, bogus == 1 ? " (DNSSEC BOGUS: " :
			    " (", why != NULL ? why : "the resolver's validation failed");

			free(*cause);
			*cause = xasprintf("%s)", c);
			free(c);
		}
		free(why);
	}
	free(ctx.resolver_host);
	return rc;
}

static char *
rdf_str(const ldns_rdf *rd)
{
	char *s = ldns_rdf2str(rd), *r;
	size_t l;

	if (s == NULL)
		return xstrdup("?");
	l = strlen(s);
	if (l > 1 && s[l - 1] == '.')
		s[l - 1] = '\0';
	r = xstrdup(s);
	free(s);
	return r;
}

int
dns_mx_targets(struct probe_ctx *ctx, const char *domain, double deadline,
    struct strv *targets, char **cause)
{
	ldns_resolver *res;
	ldns_rr_list *rrset = NULL;
	size_t i;
	bool nx;

	if ((res = net_resolver(ctx, deadline, false, cause)) == NULL)
		return -1;
	if (query(ctx, res, domain, LDNS_RR_TYPE_MX, &rrset, NULL, &nx, cause) != 0) {
		ldns_resolver_deep_free(res);
		return -1;
	}
	for (i = 0; i < ldns_rr_list_rr_count(rrset); i++) {
		ldns_rr *rr = ldns_rr_list_rr(rrset, i);

		if (ldns_rr_rd_count(rr) == 2)
			strv_push_owned(targets, rdf_str(ldns_rr_rdf(rr, 1)));
	}
	ldns_rr_list_deep_free(rrset);
	ldns_resolver_deep_free(res);
	if (targets->n == 0) {
		*cause = xasprintf("%s has no MX record", domain);
		return -1;
	}
	return 0;
}

void
probe_dns_mx_run(struct probe *p, struct presult *r)
{
	ldns_resolver *res;
	ldns_rr_list *rrset = NULL, *sigs = NULL;
	struct addrs a;
	char *cause = NULL, *why = NULL, *t;
	size_t i, n;
	bool nx;
	int v;

	if ((res = net_resolver(p->ctx, r->deadline, true, &cause)) == NULL) {
		pr_note(r, PROBE_FAIL, "%s", cause);
		free(cause);
		return;
	}
	if (query(p->ctx, res, p->domain, LDNS_RR_TYPE_MX, &rrset, &sigs, &nx, &cause) != 0) {
		pr_note(r, PROBE_FAIL, "%s", cause);
		pr_summary(r, "MX lookup failed");
		free(cause);
		ldns_resolver_deep_free(res);
		return;
	}
	n = ldns_rr_list_rr_count(rrset);
	if (n == 0) {
		pr_note(r, PROBE_FAIL, "%s has no MX record%s", p->domain,
		    nx ? " (NXDOMAIN)" : "");
		pr_summary(r, "no MX");
		goto out;
	}
	pr_summary(r, "%zu MX", n);
	for (i = 0; i < n; i++) {
		ldns_rr *rr = ldns_rr_list_rr(rrset, i);

		/* The deadline is absolute: no lookup starts after it (each one gets
		 * what is left of it, net_resolver_arm). */
		if (net_deadline_reached(r->deadline)) {
			pr_note(r, PROBE_FAIL, "deadline reached after %zu of %zu MX hosts: "
			    "the other %zu were not looked up", i, n, n - i);
			pr_sumadd(r, "deadline reached after %zu of %zu MX hosts", i, n);
			break;
		}
		if (ldns_rr_rd_count(rr) != 2)
			continue;
		t = rdf_str(ldns_rr_rdf(rr, 1));
		if (strcmp(t, ".") == 0) {
			pr_note(r, PROBE_FAIL, "null MX (RFC 7505): the domain accepts no mail");
			free(t);
			continue;
		}
		if (net_resolve(p->ctx, t, r->deadline, &a, &cause) != 0) {
			pr_note(r, PROBE_FAIL, "MX %u %s: %s",
			    ldns_rdf2native_int16(ldns_rr_rdf(rr, 0)), t, cause);
			free(cause);
			cause = NULL;
		} else {
			char ab[64];

			addr_fmt(&a.a[0], ab, sizeof ab);
			pr_note(r, PROBE_OK, "MX %u %s -> %s%s",
			    ldns_rdf2native_int16(ldns_rr_rdf(rr, 0)), t, ab,
			    a.n > 1 ? " ..." : "");
		}
		/* the summary is one line: the first names, then how many more */
		if (i < 8)
			pr_sumadd(r, "%s", t);
		else if (i == 8)
			pr_sumadd(r, "and %zu more", n - 8);
		free(t);
	}
	if (net_resolver_arm(p->ctx, res, r->deadline) == -1) {
		pr_note(r, PROBE_FAIL, "MX RRset not DNSSEC-validated: the probe's deadline "
		    "was reached first");
		goto out;
	}
	v = validate(p->ctx, res, rrset, sigs, &why);
	if (v == 1) {
		pr_note(r, PROBE_OK, "MX RRset DNSSEC-validated");
		pr_sumadd(r, "DNSSEC ok");
	} else if (v == 0) {
		pr_note(r, p->ctx->site->tls.dane ? PROBE_WARN : PROBE_OK,
		    "MX RRset not signed: %s%s", why, p->ctx->site->tls.dane ?
		    " (DANE senders need a signed MX, RFC 7672)" : "");
		pr_sumadd(r, "unsigned");
	} else {
		pr_note(r, PROBE_FAIL, "MX RRset %s", why);
		pr_sumadd(r, "DNSSEC BOGUS");
	}
	free(why);
out:
	ldns_rr_list_deep_free(rrset);
	ldns_rr_list_deep_free(sigs);
	ldns_resolver_deep_free(res);
}

static void
probe_dns_tlsa_run(struct probe *p, struct presult *r)
{
	struct strv targets = { 0 };
	struct tlsa_set ts;
	char *cause = NULL, *q;
	size_t i, j, k;

	if (dns_mx_targets(p->ctx, p->domain, r->deadline, &targets, &cause) != 0) {
		pr_note(r, PROBE_FAIL, "%s", cause);
		pr_summary(r, "no MX to look up TLSA for");
		free(cause);
		return;
	}
	for (i = 0; i < targets.n && !pr_expired(r); i++) {
		for (j = 0; j < p->ctx->site->tls.ntlsa_ports; j++) {
			q = xasprintf("_%d._tcp.%s", p->ctx->site->tls.tlsa_ports[j],
			    targets.v[i]);
			if (dns_tlsa(p->ctx, q, r->deadline, &ts, &cause) != 0) {
				pr_note(r, PROBE_FAIL, "%s", cause);
				pr_sumadd(r, "%s lookup failed", q);
				free(cause);
				cause = NULL;
			} else if (ts.n == 0 && ts.absent_proven) {
				pr_note(r, PROBE_FAIL, "%s: no TLSA record, absence proven by "
				    "DNSSEC (%s) ([tls] dane = yes, tlsa_ports)", q,
				    ts.nxdomain ? "NXDOMAIN" : "NODATA");
				pr_sumadd(r, "%s no TLSA (proven absent)", q);
			} else if (ts.n == 0) {
				pr_note(r, PROBE_FAIL, "%s: no TLSA record, and its absence is "
				    "not DNSSEC-proven: %s", q, ts.insecure_why != NULL ?
				    ts.insecure_why : "unknown");
				pr_sumadd(r, "%s no TLSA (unproven)", q);
			} else if (!ts.secure) {
				pr_note(r, PROBE_FAIL, "%s: %zu TLSA records, not validated: %s",
				    q, ts.n, ts.insecure_why);
				pr_sumadd(r, "%s %s", q, ts.insecure_why != NULL &&
				    strncmp(ts.insecure_why, "BOGUS", 5) == 0 ? "BOGUS" :
				    "INSECURE");
			} else {
				int port = p->ctx->site->tls.tlsa_ports[j];
				bool smtp = port == 25 || port == 465 || port == 587;
				const char *why;
				size_t usable = 0;

				/* RFC 7672 on SMTP ports, RFC 6698 elsewhere. */
				for (k = 0; k < ts.n; k++) {
					why = dane_unusable(ts.v[k].usage, ts.v[k].selector,
					    ts.v[k].mtype, ts.v[k].len, smtp);
					if (why == NULL)
						usable++;
					else
						pr_note(r, PROBE_WARN, "%s: TLSA %d %d %d unusable: "
						    "%s", q, ts.v[k].usage, ts.v[k].selector,
						    ts.v[k].mtype, why);
				}
				if (usable == 0) {
					pr_note(r, PROBE_FAIL, "%s: %zu TLSA records, DNSSEC-"
					    "validated, none usable%s: DANE clients do not "
					    "authenticate this server", q, ts.n, smtp ?
					    " for SMTP (RFC 7672)" : "");
					pr_sumadd(r, "%s NO USABLE TLSA", q);
				} else {
					pr_note(r, PROBE_OK, "%s: %zu TLSA records (%zu usable), "
					    "DNSSEC-validated", q, ts.n, usable);
					pr_sumadd(r, "%s secure", q);
				}
			}
			tlsa_set_free(&ts);
			free(q);
		}
	}
	strv_free(&targets);
}

/* SRV records of name: each as "prio weight port target". */
int
dns_srv(struct probe_ctx *ctx, const char *name, double deadline, struct strv *out,
    char **cause)
{
	ldns_resolver *res;
	ldns_rr_list *rrset = NULL;
	size_t i;
	bool nx;
	char *t;

	if ((res = net_resolver(ctx, deadline, false, cause)) == NULL)
		return -1;
	if (query(ctx, res, name, LDNS_RR_TYPE_SRV, &rrset, NULL, &nx, cause) != 0) {
		ldns_resolver_deep_free(res);
		return -1;
	}
	for (i = 0; i < ldns_rr_list_rr_count(rrset); i++) {
		ldns_rr *rr = ldns_rr_list_rr(rrset, i);

		if (ldns_rr_rd_count(rr) != 4)
			continue;
		t = rdf_str(ldns_rr_rdf(rr, 3));
		strv_push_owned(out, xasprintf("%u %u %u %s",
		    ldns_rdf2native_int16(ldns_rr_rdf(rr, 0)),
		    ldns_rdf2native_int16(ldns_rr_rdf(rr, 1)),
		    ldns_rdf2native_int16(ldns_rr_rdf(rr, 2)), t));
		free(t);
	}
	ldns_rr_list_deep_free(rrset);
	ldns_resolver_deep_free(res);
	return 0;
}

static int
srv_lookup(struct probe *p, struct presult *r, const char *name, struct strv *out,
    char **cause)
{
	return dns_srv(p->ctx, name, r->deadline, out, cause);
}

static void
probe_dns_autodiscover_run(struct probe *p, struct presult *r)
{
	struct strv srv = { 0 };
	struct addrs a;
	char *name = xasprintf("_autodiscover._tcp.%s", p->domain), *cause = NULL;
	char *adname = xasprintf("autodiscover.%s", p->domain), tgt[256];
	unsigned prio, weight, port;
	bool have_srv = false, have_a = false;
	size_t i;

	if (srv_lookup(p, r, name, &srv, &cause) != 0) {
		pr_note(r, PROBE_FAIL, "%s", cause);
		free(cause);
		cause = NULL;
	}
	for (i = 0; i < srv.n; i++) {
		if (sscanf(srv.v[i], "%u %u %u %255s", &prio, &weight, &port, tgt) != 4)
			continue;
		if (strcmp(tgt, ".") == 0) {
			pr_note(r, PROBE_WARN, "%s SRV %s: target \".\" (not offered)", name,
			    srv.v[i]);
			continue;
		}
		have_srv = true;
		if (port != 443)
			pr_note(r, PROBE_WARN, "%s SRV %s: port %u (Outlook uses 443)", name,
			    srv.v[i], port);
		if (net_resolve(p->ctx, tgt, r->deadline, &a, &cause) != 0) {
			pr_note(r, PROBE_FAIL, "%s SRV target %s does not resolve: %s", name,
			    tgt, cause);
			free(cause);
			cause = NULL;
		} else
			pr_note(r, PROBE_OK, "%s SRV %s", name, srv.v[i]);
	}
	if (net_resolve(p->ctx, adname, r->deadline, &a, &cause) == 0) {
		char ab[64];

		addr_fmt(&a.a[0], ab, sizeof ab);
		have_a = true;
		pr_note(r, PROBE_OK, "%s resolves (%s)", adname, ab);
	} else {
		sb_addf(&r->details, "     %s\n", cause);
		free(cause);
	}
	if (have_srv)
		pr_sumadd(r, "SRV ok");
	if (have_a)
		pr_sumadd(r, "%s ok", adname);
	if (!have_srv && !have_a) {
		pr_note(r, PROBE_FAIL, "neither %s SRV nor %s exists: Outlook finds no "
		    "Autodiscover for %s", name, adname, p->domain);
		pr_summary(r, "NO autodiscover records");
	}
	strv_free(&srv);
	free(name);
	free(adname);
}

static void
srv6186_one(struct probe *p, struct presult *r, const char *tls, const char *plain,
    const struct endpoint *ep)
{
	const char *want_svc = NULL, *other = NULL;
	struct strv srv = { 0 };
	char *name, *cause = NULL, tgt[256];
	unsigned prio, weight, port;
	size_t i;
	bool found = false;
	int pass;

	if (ep->host != NULL && ep->enc != ENC_PLAIN) {
		want_svc = ep->enc == ENC_SSL ? tls : plain;
		other = ep->enc == ENC_SSL ? plain : tls;
	}
	for (pass = 0; pass < 2; pass++) {
		const char *svc = pass == 0 ? tls : plain;

		name = xasprintf("_%s._tcp.%s", svc, p->domain);
		strv_free(&srv);
		if (srv_lookup(p, r, name, &srv, &cause) != 0) {
			pr_note(r, PROBE_FAIL, "%s", cause);
			pr_sumadd(r, "_%s lookup failed", svc);
			free(cause);
			cause = NULL;
			free(name);
			continue;
		}
		found = false;
		for (i = 0; i < srv.n; i++) {
			if (sscanf(srv.v[i], "%u %u %u %255s", &prio, &weight, &port, tgt) != 4)
				continue;
			if (want_svc != NULL && strcmp(svc, want_svc) == 0) {
				if (str_ieq(tgt, ep->host) && (int)port == ep->port) {
					pr_note(r, PROBE_OK, "%s SRV %s", name, srv.v[i]);
					found = true;
				} else
					pr_note(r, PROBE_FAIL, "%s SRV %s, profile says %s:%d",
					    name, srv.v[i], ep->host, ep->port);
			} else if (strcmp(tgt, ".") != 0)
				pr_note(r, PROBE_FAIL, "%s SRV %s offers a service the profile "
				    "does not (expected none or \"0 0 0 .\")", name, srv.v[i]);
			else
				sb_addf(&r->details, "     %s SRV %s (not offered)\n", name,
				    srv.v[i]);
		}
		if (want_svc != NULL && strcmp(svc, want_svc) == 0 && !found) {
			pr_note(r, PROBE_FAIL, "%s: no SRV record pointing at %s:%d", name,
			    ep->host, ep->port);
			pr_sumadd(r, "_%s missing", svc);
		} else if (want_svc != NULL && strcmp(svc, want_svc) == 0)
			pr_sumadd(r, "_%s ok", svc);
		free(name);
	}
	(void)other;
	strv_free(&srv);
}

static void
probe_dns_srv6186_run(struct probe *p, struct presult *r)
{
	srv6186_one(p, r, "imaps", "imap", &p->ad->imap);
	srv6186_one(p, r, "pop3s", "pop3", &p->ad->pop3);
	srv6186_one(p, r, "submissions", "submission", &p->ad->smtp);
}

/* ---- building the dns probes (site-wide) ---- */

void
mail_domains(const struct site *site, struct strv *doms)
{
	size_t i;

	if (site->domain != NULL)
		strv_push(doms, site->domain);
	for (i = 0; i < site->nads; i++) {
		struct strv ad = { 0 };

		ad_domains(&site->ads[i], &ad);
		for (size_t j = 0; j < ad.n; j++)
			if (!strv_has(doms, ad.v[j]))
				strv_push(doms, ad.v[j]);
		strv_free(&ad);
	}
}


void
ad_domains(const struct autodiscover *ad, struct strv *doms)
{
	size_t j;

	strv_push(doms, ad->domain);
	for (j = 0; j < ad->also.n; j++)
		if (!strv_has(doms, ad->also.v[j]))
			strv_push(doms, ad->also.v[j]);
}

static struct probe *
add_domain_probe(struct probe_build *b, probe_fn run, const char *name, char *target,
    const char *domain, const struct autodiscover *ad)
{
	struct probe *p = probe_add(b, xstrdup(name), target);

	p->run = run;
	p->domain = xstrdup(domain);
	p->ad = ad;
	return p;
}

void
dns_build(struct probe_build *b)
{
	const struct site *site = b->site;
	const struct autodiscover *ad;
	struct strv doms = { 0 };
	size_t i, j;

	if (b->host != NULL)
		return;
	if (site->domain != NULL) {
		add_domain_probe(b, probe_dns_mx_run, "mx", xstrdup(site->domain),
		    site->domain, NULL);
		if (site->tls.dane && site->tls.ntlsa_ports > 0)
			add_domain_probe(b, probe_dns_tlsa_run, "tlsa",
			    xasprintf("MX of %s", site->domain), site->domain, NULL);
	}
	for (i = 0; i < site->nads; i++) {
		ad = &site->ads[i];
		ad_domains(ad, &doms);
		for (j = 0; j < doms.n; j++) {
			add_domain_probe(b, probe_dns_autodiscover_run, "autodiscover-dns",
			    xstrdup(doms.v[j]), doms.v[j], ad);
			add_domain_probe(b, probe_dns_srv6186_run, "srv-rfc6186",
			    xstrdup(doms.v[j]), doms.v[j], ad);
		}
		strv_free(&doms);
	}
}

/* ---- records for the mail-policy kinds (caa, spf, dmarc, fcrdns, dnsbl) ---- */

/* The bytes of a <character-string> rdf (a length byte, then the bytes). */
static void
add_charstr(struct sbuf *b, const ldns_rdf *rd)
{
	const uint8_t *d = ldns_rdf_data(rd);
	size_t n = ldns_rdf_size(rd);

	if (n < 1 || (size_t)d[0] + 1 > n)
		return;
	sb_addn(b, (const char *)d + 1, d[0]);
}

int
dns_records(struct probe_ctx *ctx, const char *name, int type, double deadline,
    struct strv *out, bool *nx, char **cause)
{
	ldns_resolver *res;
	ldns_rr_list *rrset = NULL;
	struct sbuf b;
	size_t i, j;
	bool nxd = false;
	char *t;

	if ((res = net_resolver(ctx, deadline, false, cause)) == NULL)
		return -1;
	if (query(ctx, res, name, (ldns_rr_type)type, &rrset, NULL, &nxd, cause) != 0) {
		ldns_resolver_deep_free(res);
		return -1;
	}
	if (nx != NULL)
		*nx = nxd;
	for (i = 0; i < ldns_rr_list_rr_count(rrset); i++) {
		ldns_rr *rr = ldns_rr_list_rr(rrset, i);

		sb_init(&b);
		for (j = 0; j < ldns_rr_rd_count(rr); j++) {
			const ldns_rdf *rd = ldns_rr_rdf(rr, j);

			if (type == LDNS_RR_TYPE_TXT) {
				add_charstr(&b, rd);
				continue;
			}
			if (type == LDNS_RR_TYPE_CAA && j == 2) {
				/* the value: raw bytes up to the end of the rdata */
				sb_addc(&b, ' ');
				sb_addn(&b, (const char *)ldns_rdf_data(rd), ldns_rdf_size(rd));
				continue;
			}
			if (type == LDNS_RR_TYPE_CAA && j == 1) {
				sb_addc(&b, ' ');
				add_charstr(&b, rd);
				continue;
			}
			t = rdf_str(rd);
			sb_addf(&b, "%s%s", j > 0 ? " " : "", t);
			free(t);
		}
		strv_push_owned(out, b.s != NULL ? sb_steal(&b) : xstrdup(""));
	}
	ldns_rr_list_deep_free(rrset);
	ldns_resolver_deep_free(res);
	return 0;
}

char *
dns_reverse_name(const struct sockaddr_storage *ss)
{
	struct sbuf b;
	int i;

	sb_init(&b);
	if (ss->ss_family == AF_INET) {
		const uint8_t *a = (const uint8_t *)&((const struct sockaddr_in *)ss)->sin_addr;

		sb_addf(&b, "%u.%u.%u.%u.in-addr.arpa", a[3], a[2], a[1], a[0]);
	} else {
		const uint8_t *a = (const uint8_t *)&((const struct sockaddr_in6 *)ss)->sin6_addr;

		for (i = 15; i >= 0; i--)
			sb_addf(&b, "%x.%x.", a[i] & 0xf, a[i] >> 4);
		sb_add(&b, "ip6.arpa");
	}
	return sb_steal(&b);
}

int
dns_txt(struct probe_ctx *ctx, const char *name, double deadline, struct strv *out,
    char **cause)
{
	return dns_records(ctx, name, LDNS_RR_TYPE_TXT, deadline, out, NULL, cause);
}
