/* engine.c: the probe list a profile implies, and the engine that runs it: a bounded
 * pool of worker threads, per-probe timeouts, an overall deadline, results streamed
 * through a callback as each probe completes. */
#include <errno.h>
#include <math.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <curl/curl.h>
#include <openssl/err.h>
#include <openssl/ssl.h>

#include "backends/probe/probe-int.h"
#include "profiles/tlsproto.h"

const char *const probe_status_names[3] = { "ok", "warn", "fail" };

const struct svc_info svc_infos[SVCP_COUNT] = {
	[SVCP_SMTP] = { "smtp", 25, WRAP_SMTP, ROLE_POSTFIX },
	[SVCP_SUBMISSION] = { "submission", 587, WRAP_SMTP, ROLE_POSTFIX },
	[SVCP_SMTPS] = { "smtps", 465, WRAP_IMPLICIT, ROLE_POSTFIX },
	[SVCP_IMAPS] = { "imaps", 993, WRAP_IMPLICIT, ROLE_DOVECOT },
	[SVCP_POP3S] = { "pop3s", 995, WRAP_IMPLICIT, ROLE_DOVECOT },
	[SVCP_IMAP] = { "imap", 143, WRAP_IMAP, ROLE_DOVECOT },
	[SVCP_POP3] = { "pop3", 110, WRAP_POP3, ROLE_DOVECOT },
	[SVCP_HTTPS] = { "https", 443, WRAP_IMPLICIT,
	    ROLE_APACHE | ROLE_NGINX | ROLE_AUTODISCOVER },
};

static const struct {
	const char *name;
	unsigned bit;
} kind_names[] = {
	{ "dns", PROBE_K_DNS }, { "tls", PROBE_K_TLS }, { "tlsver", PROBE_K_TLSVER },
	{ "dane", PROBE_K_DANE }, { "smtp", PROBE_K_SMTP }, { "http", PROBE_K_HTTP },
	{ "login", PROBE_K_LOGIN }, { "all", PROBE_K_ALL },
};

int
probe_kinds_parse(const char *s, unsigned *kinds, char **cause)
{
	struct strv w = { 0 };
	size_t i, j;

	*kinds = 0;
	strv_split_words(&w, s);
	for (i = 0; i < w.n; i++) {
		for (j = 0; j < nitems(kind_names); j++) {
			if (strcmp(w.v[i], kind_names[j].name) == 0)
				break;
		}
		if (j == nitems(kind_names)) {
			*cause = xasprintf("unknown probe kind \"%s\" (dns tls tlsver dane "
			    "smtp http login all)", w.v[i]);
			strv_free(&w);
			return (-1);
		}
		*kinds |= kind_names[j].bit;
	}
	strv_free(&w);
	if (*kinds == 0) {
		*cause = xstrdup("no probe kinds given");
		return (-1);
	}
	return (0);
}

int
svc_from_name(const char *name)
{
	int i;

	for (i = 0; i < SVCP_COUNT; i++) {
		if (strcmp(svc_infos[i].name, name) == 0)
			return (i);
	}
	return (-1);
}

int
svc_from_stdport(int port)
{
	int i;

	for (i = 0; i < SVCP_COUNT; i++) {
		if (svc_infos[i].stdport == port)
			return (i);
	}
	return (-1);
}

double
mono_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ((double)ts.tv_sec + (double)ts.tv_nsec / 1e9);
}

/* ---- results ---- */

static void
raise_status(struct presult *r, enum probe_status st)
{
	if (st > r->status)
		r->status = st;
}

void
pr_note(struct presult *r, enum probe_status st, const char *fmt, ...)
{
	va_list ap;
	char *s;

	va_start(ap, fmt);
	s = xvasprintf(fmt, ap);
	va_end(ap);
	raise_status(r, st);
	/* One line per line of the message; continuation lines indented. */
	{
		char *line, *p = s;
		bool first = true;

		while ((line = strsep(&p, "\n")) != NULL) {
			if (*line == '\0' && !first)
				continue;
			sb_addf(&r->details, "%-4s %s\n", first ?
			    probe_status_names[st] : "", line);
			first = false;
		}
	}
	free(s);
}

void
pr_summary(struct presult *r, const char *fmt, ...)
{
	va_list ap;
	char *s;

	va_start(ap, fmt);
	s = xvasprintf(fmt, ap);
	va_end(ap);
	sb_reset(&r->summary);
	sb_add(&r->summary, s);
	free(s);
}

void
pr_sumadd(struct presult *r, const char *fmt, ...)
{
	va_list ap;
	char *s;

	va_start(ap, fmt);
	s = xvasprintf(fmt, ap);
	va_end(ap);
	if (r->summary.len > 0)
		sb_add(&r->summary, ", ");
	sb_add(&r->summary, s);
	free(s);
}

void
pr_reach(struct presult *r, bool ok)
{
	if (ok)
		r->nreached++;
	else
		r->nunreached++;
}

bool
pr_expired(const struct presult *r)
{
	return (mono_now() >= r->deadline ||
	    (r->ctx->cancel != NULL && atomic_load(r->ctx->cancel) != 0));
}

static void sanitize(struct sbuf *b, bool newlines);

static void
cert_copy(struct probe_cert *d, const struct probe_cert *c, bool clean)
{
	struct sbuf b;

	*d = *c;
	sb_init(&b);
	sb_add(&b, c->subject != NULL ? c->subject : "");
	if (clean)
		sanitize(&b, false);
	d->subject = b.s != NULL ? sb_steal(&b) : xstrdup("");
	d->key_type = xstrdup(c->key_type != NULL ? c->key_type : "unknown");
	d->key_group = xstrdup(c->key_group != NULL ? c->key_group : "");
	d->signature = xstrdup(c->signature != NULL ? c->signature : "unknown");
}

static void
certs_free(struct probe_cert *v, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		free((char *)v[i].subject);
		free((char *)v[i].key_type);
		free((char *)v[i].key_group);
		free((char *)v[i].signature);
	}
	free(v);
}

void
pr_cert(struct presult *r, const struct probe_cert *c)
{
	r->certs = xrealloc(r->certs, (r->ncerts + 1) * sizeof *r->certs);
	cert_copy(&r->certs[r->ncerts++], c, true);
}

struct probe_result *
probe_result_dup(const struct probe_result *r)
{
	struct probe_result *d = xmalloc(sizeof *d);
	struct probe_cert *certs = NULL;
	size_t i;

	*d = *r;
	d->name = xstrdup(r->name);
	d->host = r->host != NULL ? xstrdup(r->host) : NULL;
	d->target = xstrdup(r->target);
	d->summary = xstrdup(r->summary);
	d->details = xstrdup(r->details);
	if (r->ncerts > 0) {
		certs = xcalloc(r->ncerts, sizeof *certs);
		for (i = 0; i < r->ncerts; i++)
			cert_copy(&certs[i], &r->certs[i], false);
	}
	d->certs = certs;
	return (d);
}

void
probe_result_free(struct probe_result *r)
{
	if (r == NULL)
		return;
	free((char *)r->name);
	free((char *)r->host);
	free((char *)r->target);
	free((char *)r->summary);
	free((char *)r->details);
	certs_free((struct probe_cert *)r->certs, r->ncerts);
	free(r);
}

void
probe_summary_json(struct sbuf *b, const struct probe_summary *s)
{
	sb_addf(b, "\"summary\":{\"probes\":%zu,\"ok\":%zu,\"warn\":%zu,\"fail\":%zu,"
	    "\"handshakes\":%d,\"wall\":%.3f}", s->n, s->nok, s->nwarn, s->nfail,
	    s->handshakes, s->wall);
}

char *
probe_result_json(const struct probe_result *r)
{
	struct sbuf b;

	struct sbuf id;
	char ts[32];
	time_t now = time(NULL);
	struct tm tm;

	/* A stable check id: the same check of the same profile has the same id in every
	 * run and in test and audit alike. */
	sb_init(&id);
	if (strcmp(r->kind, "login") == 0) {
		/* login/USER/PROTO/WHERE: the host, or the vhost for the web protocols */
		const char *where = r->host != NULL ? r->host : r->target;

		if (strncmp(where, "https://", 8) == 0)
			where += 8;
		sb_addf(&id, "login/%s/%s", r->name, where);
		for (char *p = id.s; *p != '\0'; p++)
			if (*p == ' ')
				*p = '/';
	} else {
		sb_addf(&id, "%s/%s/%s/%s", r->kind, r->name, r->host != NULL ? r->host :
		    "site", r->target);
		for (char *p = id.s; *p != '\0'; p++)
			if (*p == ' ')
				*p = '-';
	}
	gmtime_r(&now, &tm);
	strftime(ts, sizeof ts, "%Y-%m-%dT%H:%M:%SZ", &tm);
	sb_init(&b);
	sb_add(&b, "{\"id\":");
	sb_json_string(&b, id.s);
	sb_free(&id);
	sb_addf(&b, ",\"time\":\"%s\",\"status\":", ts);
	sb_json_string(&b, probe_status_names[r->status]);
	sb_add(&b, ",\"kind\":");
	sb_json_string(&b, r->kind);
	sb_add(&b, ",\"name\":");
	sb_json_string(&b, r->name);
	sb_add(&b, ",\"host\":");
	if (r->host != NULL)
		sb_json_string(&b, r->host);
	else
		sb_add(&b, "null");
	sb_add(&b, ",\"target\":");
	sb_json_string(&b, r->target);
	sb_add(&b, ",\"summary\":");
	sb_json_string(&b, r->summary);
	sb_add(&b, ",\"details\":");
	sb_json_string(&b, r->details);
	if (r->ncerts > 0) {
		size_t i;

		sb_add(&b, ",\"certs\":[");
		for (i = 0; i < r->ncerts; i++) {
			const struct probe_cert *c = &r->certs[i];

			sb_addf(&b, "%s{\"depth\":%d,\"subject\":", i > 0 ? "," : "",
			    c->depth);
			sb_json_string(&b, c->subject);
			sb_add(&b, ",\"key_type\":");
			sb_json_string(&b, c->key_type);
			sb_add(&b, ",\"key_group\":");
			sb_json_string(&b, c->key_group);
			sb_addf(&b, ",\"key_bits\":%d,\"security_bits\":%d,\"signature\":",
			    c->key_bits, c->security_bits);
			sb_json_string(&b, c->signature);
			sb_addf(&b, ",\"signature_security_bits\":%d,\"self_signed\":%s}",
			    c->signature_security_bits, c->self_signed ? "true" : "false");
		}
		sb_add(&b, "]");
	}
	sb_addf(&b, ",\"duration\":%.3f,\"duration_ms\":%.0f,\"handshakes\":%d,\"reach\":%d",
	    r->duration, r->duration * 1000, r->handshakes, r->reach);
	if (r->has_cert_days)
		sb_addf(&b, ",\"cert_days\":%d", r->cert_days);
	sb_addc(&b, '}');
	return (sb_steal(&b));
}

/* ---- the probe list ---- */

struct probe_list {
	const struct site *site;
	struct probe **v;
	size_t	 n, cap;
	struct login_creds *creds;	/* the login probes' passwords (login.c) */
};

static struct probe *
add_probe(struct probe_list *pl, unsigned kind, const char *kindname, probe_fn run,
    const struct host *h, char *name, char *target)
{
	struct probe *p = xcalloc(1, sizeof *p);

	p->kind = kind;
	p->kindname = kindname;
	p->run = run;
	p->host = h;
	p->name = name;
	p->target = target;
	p->svc = -1;
	xgrow(&pl->v, &pl->cap, pl->n + 1, sizeof *pl->v);
	pl->v[pl->n++] = p;
	return (p);
}

struct probe *
probe_list_add(struct probe_list *pl, unsigned kind, const char *kindname, probe_fn run,
    const struct host *h, char *name, char *target)
{
	return (add_probe(pl, kind, kindname, run, h, name, target));
}

static void
probe_free(struct probe *p)
{
	free(p->name);
	free(p->target);
	free(p->sni);
	strv_free(&p->names);
	free(p->policy_src);
	free(p->domain);
	free(p);
}

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

/* Names a certificate on this service may carry. */
void
svc_names(const struct site *site, const struct host *h, int svc, struct strv *names)
{
	const struct endpoint *ep;
	size_t i;

	if (!h->local && h->address != NULL && !is_ip_literal(h->address))
		strv_push(names, h->address);
	for (i = 0; i < site->nads; i++) {
		switch (svc) {
		case SVCP_IMAP:
		case SVCP_IMAPS:
			ep = &site->ads[i].imap;
			break;
		case SVCP_POP3:
		case SVCP_POP3S:
			ep = &site->ads[i].pop3;
			break;
		case SVCP_SMTP:
		case SVCP_SUBMISSION:
		case SVCP_SMTPS:
			ep = &site->ads[i].smtp;
			break;
		default:
			ep = NULL;
		}
		if (ep != NULL && ep->host != NULL && !strv_has(names, ep->host))
			strv_push(names, ep->host);
	}
}

static bool
host_wanted(const struct host *h, const struct probe_opts *o)
{
	if (o == NULL || o->hosts == NULL || o->hosts->n == 0)
		return (true);
	return (strv_has(o->hosts, h->name));
}

/* A probe of the TLS service svc on addr:port, for vhost vh of an https port (else
 * NULL): the names its certificate may carry and the SNI to send. */
static struct probe *
add_svc_probe(struct probe_list *pl, unsigned kind, const char *kindname, probe_fn run,
    const char *what, const struct site *site, const struct host *h, const char *addr,
    int svc, int port, const struct vhost *vh)
{
	struct probe *p;

	p = add_probe(pl, kind, kindname, run, h,
	    xasprintf("%s %s", what, svc_infos[svc].name),
	    vh != NULL ? xasprintf("%s:%d (%s)", addr, port, vh->name) :
	    xasprintf("%s:%d", addr, port));
	p->svc = svc;
	p->port = port;
	p->stdport = svc_infos[svc].stdport;
	if (vh != NULL)
		strv_push(&p->names, vh->name);
	else
		svc_names(site, h, svc, &p->names);
	p->sni = p->names.n > 0 ? xstrdup(p->names.v[0]) : NULL;
	return (p);
}

static void
build_host(struct probe_list *pl, const struct site *site, const struct host *h,
    unsigned kinds)
{
	const char *addr = h->local ? "127.0.0.1" : h->address;
	const struct vhost *vh;
	struct probe *p;
	size_t i, j;
	int svc, port, smtp_port = 0, sub_port = 0;
	unsigned roles = h->roles != 0 ? h->roles : ~0u;

	if (addr == NULL)
		return;
	for (i = 0; i < h->nprobe_ports; i++) {
		if ((svc = svc_from_name(h->probe_ports[i].service)) < 0)
			continue;
		if ((svc_infos[svc].roles & roles) == 0)
			continue;
		if ((port = h->probe_ports[i].port) <= 0)
			continue;	/* service:off */
		if (svc == SVCP_SMTP)
			smtp_port = port;
		if (svc == SVCP_SUBMISSION)
			sub_port = port;
		for (j = 0; j < (svc == SVCP_HTTPS ? (site->nvhosts > 0 ? site->nvhosts : 1) : 1);
		    j++) {
			vh = svc == SVCP_HTTPS && site->nvhosts > 0 ? &site->vhosts[j] : NULL;
			if (vh != NULL && (roles & (ROLE_APACHE | ROLE_NGINX)) != 0 &&
			    (roles & (vh->server == SERVER_NGINX ? ROLE_NGINX :
			    ROLE_APACHE)) == 0)
				continue;
			if (kinds & PROBE_K_TLS) {
				p = add_svc_probe(pl, PROBE_K_TLS, "tls", probe_tls_run, "tls",
				    site, h, addr, svc, port, vh);
				svc_policy(site, svc, vh, &p->policy, &p->policy_src);
			}
			if (kinds & PROBE_K_TLSVER) {
				p = add_svc_probe(pl, PROBE_K_TLSVER, "tlsver", probe_tlsver_run,
				    "protocols", site, h, addr, svc, port, vh);
				svc_policy(site, svc, vh, &p->policy, &p->policy_src);
			}
		}
		if ((kinds & PROBE_K_DANE) && site->tls.dane) {
			for (j = 0; j < site->tls.ntlsa_ports; j++) {
				if (site->tls.tlsa_ports[j] == svc_infos[svc].stdport)
					add_svc_probe(pl, PROBE_K_DANE, "dane", probe_dane_run,
					    "dane", site, h, addr, svc, port, NULL);
			}
		}
	}
	if ((kinds & PROBE_K_SMTP) && (roles & ROLE_POSTFIX)) {
		if (smtp_port != 0) {
			p = add_probe(pl, PROBE_K_SMTP, "smtp", probe_smtp_relay_run, h,
			    xstrdup("open-relay"), xasprintf("%s:%d", addr, smtp_port));
			p->port = smtp_port;
			p->svc = SVCP_SMTP;
			p = add_probe(pl, PROBE_K_SMTP, "smtp", probe_smtp_accept_run, h,
			    xstrdup("always-accept"), xasprintf("%s:%d", addr, smtp_port));
			p->port = smtp_port;
			p->svc = SVCP_SMTP;
		}
		if (sub_port != 0) {
			p = add_probe(pl, PROBE_K_SMTP, "smtp", probe_smtp_auth_run, h,
			    xstrdup("auth-after-starttls"), xasprintf("%s:%d", addr, sub_port));
			p->port = sub_port;
			p->svc = SVCP_SUBMISSION;
		}
	}
}

static void
build_site(struct probe_list *pl, const struct site *site, unsigned kinds)
{
	const struct autodiscover *ad;
	struct probe *p;
	size_t i, j, k;
	struct strv doms = { 0 };

	if ((kinds & PROBE_K_DNS) && site->domain != NULL) {
		p = add_probe(pl, PROBE_K_DNS, "dns", probe_dns_mx_run, NULL, xstrdup("mx"),
		    xstrdup(site->domain));
		p->domain = xstrdup(site->domain);
		if (site->tls.dane && site->tls.ntlsa_ports > 0) {
			p = add_probe(pl, PROBE_K_DNS, "dns", probe_dns_tlsa_run, NULL,
			    xstrdup("tlsa"), xasprintf("MX of %s", site->domain));
			p->domain = xstrdup(site->domain);
		}
	}
	for (i = 0; i < site->nads; i++) {
		ad = &site->ads[i];
		strv_free(&doms);
		strv_push(&doms, ad->domain);
		for (j = 0; j < ad->also.n; j++)
			if (!strv_has(&doms, ad->also.v[j]))
				strv_push(&doms, ad->also.v[j]);
		for (j = 0; j < doms.n && (kinds & PROBE_K_DNS); j++) {
			p = add_probe(pl, PROBE_K_DNS, "dns", probe_dns_autodiscover_run, NULL,
			    xstrdup("autodiscover-dns"), xstrdup(doms.v[j]));
			p->domain = xstrdup(doms.v[j]);
			p->ad = ad;
			p = add_probe(pl, PROBE_K_DNS, "dns", probe_dns_srv6186_run, NULL,
			    xstrdup("srv-rfc6186"), xstrdup(doms.v[j]));
			p->domain = xstrdup(doms.v[j]);
			p->ad = ad;
		}
		if (!(kinds & PROBE_K_HTTP))
			continue;
		/* Outlook's lookup order, for the domain and every also domain, each
		 * with an address in that domain. */
		for (j = 0; j < doms.n; j++) {
			for (k = 0; k < AD_STEP_COUNT; k++) {
				p = add_probe(pl, PROBE_K_HTTP, "http",
				    probe_http_autodiscover_run, NULL,
				    xstrdup(k == AD_STEP_REDIRECT ? "autodiscover-redirect" :
				    k == AD_STEP_SRV ? "autodiscover-srv" : "autodiscover"),
				    k == AD_STEP_DOMAIN ?
				    xasprintf("https://%s/autodiscover/autodiscover.xml",
				    doms.v[j]) : k == AD_STEP_AUTODISCOVER ?
				    xasprintf("https://autodiscover.%s/autodiscover/"
				    "autodiscover.xml", doms.v[j]) : k == AD_STEP_REDIRECT ?
				    xasprintf("http://autodiscover.%s/autodiscover/"
				    "autodiscover.xml", doms.v[j]) :
				    xasprintf("_autodiscover._tcp.%s SRV", doms.v[j]));
				p->domain = xstrdup(doms.v[j]);
				p->variant = (int)k;
				p->ad = ad;
			}
		}
	}
	strv_free(&doms);
	if (kinds & PROBE_K_HTTP) {
		for (i = 0; i < site->nvhosts; i++) {
			const struct vhost *vh = &site->vhosts[i];

			if (vh->services & SVC_BIT(SVC_ACTIVESYNC)) {
				p = add_probe(pl, PROBE_K_HTTP, "http", probe_http_activesync_run,
				    NULL, xstrdup("activesync"),
				    xasprintf("https://%s/Microsoft-Server-ActiveSync", vh->name));
				p->domain = xstrdup(vh->name);
			}
			if (vh->services & SVC_BIT(SVC_OWA)) {
				p = add_probe(pl, PROBE_K_HTTP, "http", probe_http_owa_run, NULL,
				    xstrdup("owa"), xasprintf("https://%s/owa/", vh->name));
				p->domain = xstrdup(vh->name);
			}
		}
	}
}

int
probe_list_build(const struct site *site, const struct probe_opts *opts,
    struct probe_list **plp, char **cause)
{
	struct probe_list *pl;
	unsigned kinds = opts != NULL && opts->kinds != 0 ? opts->kinds : PROBE_K_ALL;
	size_t i;

	if (opts != NULL && opts->hosts != NULL) {
		for (i = 0; i < opts->hosts->n; i++) {
			if (site_find_host(site, opts->hosts->v[i]) == NULL) {
				*cause = xasprintf("%s: no host \"%s\" in the profile (see its "
				    "[host \"...\"] sections)", site->path != NULL ? site->path :
				    "profile", opts->hosts->v[i]);
				return (-1);
			}
		}
	}
	pl = xcalloc(1, sizeof *pl);
	pl->site = site;
	/* Site-wide probes only when no host filter is given. */
	if (opts == NULL || opts->hosts == NULL || opts->hosts->n == 0)
		build_site(pl, site, kinds);
	for (i = 0; i < site->nhosts; i++) {
		if (host_wanted(&site->hosts[i], opts))
			build_host(pl, site, &site->hosts[i], kinds);
	}
	if ((kinds & PROBE_K_LOGIN) && login_build(pl, site, opts != NULL ? opts->hosts :
	    NULL, &pl->creds, cause) != 0) {
		probe_list_free(pl);
		return (-1);
	}
	*plp = pl;
	return (0);
}

size_t
probe_list_count(const struct probe_list *pl)
{
	return (pl->n);
}

const char *
probe_list_kind(const struct probe_list *pl, size_t i)
{
	return (i < pl->n ? pl->v[i]->kindname : NULL);
}

const char *
probe_list_name(const struct probe_list *pl, size_t i)
{
	return (i < pl->n ? pl->v[i]->name : NULL);
}

const char *
probe_list_target(const struct probe_list *pl, size_t i)
{
	return (i < pl->n ? pl->v[i]->target : NULL);
}

void
probe_list_free(struct probe_list *pl)
{
	size_t i;

	if (pl == NULL)
		return;
	for (i = 0; i < pl->n; i++)
		probe_free(pl->v[i]);
	free(pl->v);
	login_creds_free(pl->creds);
	free(pl->creds);
	free(pl);
}

/* ---- the run ---- */

struct run {
	struct probe_list *pl;
	struct probe_ctx *ctx;
	probe_cb cb;
	void	*arg;
	pthread_mutex_t lock;	/* next, summary, and the callback */
	size_t	 next;
	struct probe_summary *sum;
};

/* Text a server sent reaches the result only as printable text, through the one
 * terminal sanitizer (util.h sb_add_printable_n: controls, C1, bytes that are not
 * UTF-8, bidi controls and line separators made visible), so no reply can drive or
 * reorder the admin's terminal. */
static void
sanitize(struct sbuf *b, bool newlines)
{
	struct sbuf o;

	if (b->s == NULL)
		return;
	sb_init(&o);
	sb_add_printable_n(&o, b->s, b->len, newlines);
	sb_free(b);
	*b = o;
}

static void
run_one(struct run *rn, struct probe *p, size_t idx)
{
	struct presult r;
	struct probe_result out;
	double t0 = mono_now(), dl;

	memset(&r, 0, sizeof r);
	sb_init(&r.summary);
	sb_init(&r.details);
	r.ctx = rn->ctx;
	dl = t0 + rn->ctx->timeout;
	r.deadline = dl < rn->ctx->run_deadline ? dl : rn->ctx->run_deadline;
	if (rn->ctx->cancel != NULL && atomic_load(rn->ctx->cancel) != 0) {
		pr_note(&r, PROBE_FAIL, "cancelled before it started");
		pr_summary(&r, "cancelled");
	} else if (t0 >= rn->ctx->run_deadline) {
		pr_note(&r, PROBE_FAIL, "the run's overall deadline passed before this "
		    "probe started");
		pr_summary(&r, "not run: overall deadline reached");
	} else {
		p->ctx = rn->ctx;
		p->run(p, &r);
		ERR_clear_error();
		if (r.summary.len == 0)
			pr_summary(&r, "%s", probe_status_names[r.status]);
	}
	sanitize(&r.summary, false);
	sanitize(&r.details, true);
	memset(&out, 0, sizeof out);
	out.index = idx;
	out.status = r.status;
	out.kind = p->kindname;
	out.name = p->name;
	out.host = p->host != NULL ? p->host->name : NULL;
	out.target = p->target;
	out.summary = r.summary.s != NULL ? r.summary.s : "";
	out.details = r.details.s != NULL ? r.details.s : "";
	out.duration = mono_now() - t0;
	out.handshakes = r.handshakes;
	out.certs = r.certs;
	out.ncerts = r.ncerts;
	out.reach = r.nreached > 0 ? 1 : r.nunreached > 0 ? -1 : 0;
	out.has_cert_days = r.has_cert_days;
	out.cert_days = r.cert_days;
	/* Stopped by DNSSEC-bogus address records: a failed test, not "unreachable". */
	if (out.reach == -1 && p->host != NULL && net_host_bogus(rn->ctx, p->host))
		out.reach = 0;

	pthread_mutex_lock(&rn->lock);
	rn->sum->n++;
	if (r.status == PROBE_OK)
		rn->sum->nok++;
	else if (r.status == PROBE_WARN)
		rn->sum->nwarn++;
	else
		rn->sum->nfail++;
	rn->sum->handshakes += r.handshakes;
	if (rn->cb != NULL)
		rn->cb(&out, rn->arg);
	pthread_mutex_unlock(&rn->lock);
	sb_free(&r.summary);
	sb_free(&r.details);
	certs_free(r.certs, r.ncerts);
}

static void *
worker(void *arg)
{
	struct run *rn = arg;
	sigset_t ss;
	size_t idx;

	/* OpenSSL writes with write(2): a peer that hung up must not kill the process
	 * with SIGPIPE. Blocked in this thread only; a pending one dies with it. */
	sigemptyset(&ss);
	sigaddset(&ss, SIGPIPE);
	pthread_sigmask(SIG_BLOCK, &ss, NULL);

	for (;;) {
		pthread_mutex_lock(&rn->lock);
		idx = rn->next++;
		pthread_mutex_unlock(&rn->lock);
		if (idx >= rn->pl->n)
			break;
		run_one(rn, rn->pl->v[idx], idx);
	}
	return (NULL);
}

static SSL_CTX *
client_ctx(const char *ca)
{
	SSL_CTX *c;

	if ((c = SSL_CTX_new(TLS_client_method())) == NULL)
		fatal("SSL_CTX_new failed");
	/* System store; SSL_CERT_FILE / SSL_CERT_DIR in the environment override it
	 * (how the lab points the probes at its own CA); [tests] ca is trusted as well
	 * (lint warns when it cannot be read; the chain verdicts then say why). */
	SSL_CTX_set_default_verify_paths(c);
	if (ca != NULL && SSL_CTX_load_verify_locations(c, ca, NULL) != 1)
		ERR_clear_error();
	SSL_CTX_set_verify(c, SSL_VERIFY_NONE, NULL);	/* verdict read, not enforced */
	if (SSL_CTX_dane_enable(c) <= 0)	/* DANE per connection (SSL_dane_enable) */
		fatal("SSL_CTX_dane_enable failed");
	SSL_CTX_set_min_proto_version(c, TLS1_VERSION);
	SSL_CTX_set_session_cache_mode(c, SSL_SESS_CACHE_OFF);
	/* Allow the legacy handshake so we can report a server without RFC 5746. */
	SSL_CTX_set_options(c, SSL_OP_LEGACY_SERVER_CONNECT);
	return (c);
}

void
probe_run(struct probe_list *pl, const struct probe_opts *opts, probe_cb cb, void *arg,
    struct probe_summary *sum)
{
	struct probe_ctx ctx;
	struct run rn;
	pthread_t *th;
	pthread_attr_t attr;
	size_t i, nth;
	int jobs = opts != NULL && opts->jobs > 0 ? opts->jobs : 32;
	double t0 = mono_now();
	char *cause = NULL;

	memset(sum, 0, sizeof *sum);
	memset(&ctx, 0, sizeof ctx);
	ctx.site = pl->site;
	ctx.timeout = opts != NULL && opts->timeout > 0 ? opts->timeout : 10;
	ctx.run_deadline = t0 + (opts != NULL && opts->deadline > 0 ? opts->deadline : 120);
	ctx.cancel = opts != NULL ? opts->cancel : NULL;
	ctx.http_port = opts != NULL && opts->http_port > 0 ? opts->http_port : 0;
	ctx.ssl = client_ctx(pl->site->tests_ca);
	if (pl->site->resolver != NULL && net_resolver_parse(pl->site->resolver,
	    &ctx.resolver_host, &ctx.resolver_port, &cause) != 0) {
		/* Lint reports it with FILE:LINE; probes that need DNS will fail. */
		free(cause);
		cause = NULL;
	}
	ctx.nhaddrs = pl->site->nhosts;
	ctx.haddrs = xcalloc(ctx.nhaddrs + 1, sizeof *ctx.haddrs);
	for (i = 0; i < ctx.nhaddrs; i++) {
		ctx.haddrs[i].host = &pl->site->hosts[i];
		pthread_mutex_init(&ctx.haddrs[i].lock, NULL);
	}
	curl_global_init(CURL_GLOBAL_DEFAULT);

	memset(&rn, 0, sizeof rn);
	rn.pl = pl;
	rn.ctx = &ctx;
	rn.cb = cb;
	rn.arg = arg;
	rn.sum = sum;
	pthread_mutex_init(&rn.lock, NULL);

	nth = pl->n < (size_t)jobs ? pl->n : (size_t)jobs;
	th = xcalloc(nth + 1, sizeof *th);
	pthread_attr_init(&attr);
	pthread_attr_setstacksize(&attr, 512 * 1024);
	for (i = 0; i < nth; i++) {
		if (pthread_create(&th[i], &attr, worker, &rn) != 0)
			break;
	}
	nth = i;
	if (nth == 0) {
		/* No thread could start: run here, SIGPIPE ignored meanwhile. */
		struct sigaction sa, old;

		memset(&sa, 0, sizeof sa);
		sa.sa_handler = SIG_IGN;
		sigaction(SIGPIPE, &sa, &old);
		worker(&rn);
		sigaction(SIGPIPE, &old, NULL);
	}
	for (i = 0; i < nth; i++)
		pthread_join(th[i], NULL);
	pthread_attr_destroy(&attr);
	free(th);

	pthread_mutex_destroy(&rn.lock);
	for (i = 0; i < ctx.nhaddrs; i++) {
		pthread_mutex_destroy(&ctx.haddrs[i].lock);
		free(ctx.haddrs[i].cause);
	}
	free(ctx.haddrs);
	free(ctx.resolver_host);
	SSL_CTX_free(ctx.ssl);
	curl_global_cleanup();
	sum->wall = mono_now() - t0;
}
