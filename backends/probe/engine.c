/* engine.c: the probe list a profile implies (each row of probe_kinds[], kinds.c,
 * builds its probes for the site and for each host), and the engine that runs it: a
 * bounded pool of worker threads, per-probe timeouts, an overall deadline, results
 * streamed through a callback as each probe completes. */
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

#include "backends/probe/kinds.h"
#include "backends/probe/net.h"
#include "backends/probe/result.h"

/* How each probed service starts TLS; names, standard ports and roles are the profile's
 * one service table (host_services, profiles/site.c). */
const enum wrap svc_wraps[SVCP_COUNT] = {
	[SVCP_SMTP] = WRAP_SMTP, [SVCP_SUBMISSION] = WRAP_SMTP, [SVCP_SMTPS] = WRAP_IMPLICIT,
	[SVCP_IMAPS] = WRAP_IMPLICIT, [SVCP_POP3S] = WRAP_IMPLICIT, [SVCP_IMAP] = WRAP_IMAP,
	[SVCP_POP3] = WRAP_POP3, [SVCP_HTTPS] = WRAP_IMPLICIT,
};

int
svc_from_name(const char *name)
{
	int i;

	for (i = 0; i < SVCP_COUNT; i++) {
		if (strcmp(host_services[i].name, name) == 0)
			return (i);
	}
	return (-1);
}

int
svc_from_stdport(int port)
{
	int i;

	for (i = 0; i < SVCP_COUNT; i++) {
		if (host_services[i].port == port)
			return (i);
	}
	return (-1);
}

/* ---- the probe list ---- */

struct probe_list {
	const struct site *site;
	const char *const *addresses;	/* probe_opts.addresses */
	struct probe **v;
	size_t	 n, cap;
};

struct probe *
probe_add(struct probe_build *b, char *name, char *target)
{
	struct probe_list *pl = b->pl;
	struct probe *p = xcalloc(1, sizeof *p);

	p->kind = b->kind;
	p->run = b->kind->run;
	p->host = b->host;
	p->name = name;
	p->target = target;
	p->svc = -1;
	xgrow(&pl->v, &pl->cap, pl->n + 1, sizeof *pl->v);
	pl->v[pl->n++] = p;
	return (p);
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
	if (p->data_free != NULL)
		p->data_free(p->data);
	free(p);
}

/* Names a certificate on this service may carry (addr: where the probes connect). */
void
svc_names(const struct site *site, const struct host *h, const char *addr, int svc,
    struct strv *names)
{
	const struct endpoint *ep;
	size_t i;

	if (!h->local && addr != NULL && !is_ip_literal(addr))
		strv_push(names, addr);
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

struct probe *
probe_add_svc(struct probe_build *b, const char *what, const struct probe_ep *ep)
{
	struct probe *p;

	p = probe_add(b, xasprintf("%s %s", what, host_services[ep->svc].name),
	    ep->vh != NULL ? xasprintf("%s:%d (%s)", b->addr, ep->port, ep->vh->name) :
	    xasprintf("%s:%d", b->addr, ep->port));
	p->svc = ep->svc;
	p->port = ep->port;
	p->stdport = host_services[ep->svc].port;
	p->vh = ep->vh;
	if (ep->vh != NULL)
		strv_push(&p->names, ep->vh->name);
	else
		svc_names(b->site, b->host, b->addr, ep->svc, &p->names);
	p->sni = p->names.n > 0 ? xstrdup(p->names.v[0]) : NULL;
	return (p);
}

int
probe_build_port(const struct probe_build *b, int svc)
{
	size_t i;
	int port = 0;

	for (i = 0; i < b->nports; i++) {
		if (b->ports[i].svc == svc)
			port = b->ports[i].port;
	}
	return (port);
}

/* The host's endpoints: probe_ports entries with a known service its roles serve on a
 * port not "off"; eps repeats an https port once per vhost the host's web server
 * serves (an nginx vhost only on an nginx host when the host names its server). */
static void
host_endpoints(const struct site *site, const struct host *h, unsigned hroles,
    struct probe_ep **portsp, size_t *nports, struct probe_ep **epsp, size_t *neps)
{
	struct probe_ep *ports = NULL, *eps = NULL;
	size_t i, j, np = 0, ne = 0, capp = 0, cape = 0;
	const struct vhost *vh;
	int svc, port;

	for (i = 0; i < h->nprobe_ports; i++) {
		if ((svc = svc_from_name(h->probe_ports[i].service)) < 0)
			continue;
		if ((host_services[svc].roles & hroles) == 0)
			continue;
		if ((port = h->probe_ports[i].port) <= 0)
			continue;	/* service:off */
		xgrow(&ports, &capp, np + 1, sizeof *ports);
		ports[np++] = (struct probe_ep){ svc, port, NULL };
		for (j = 0; j < (svc == SVCP_HTTPS && site->nvhosts > 0 ? site->nvhosts : 1);
		    j++) {
			vh = svc == SVCP_HTTPS && site->nvhosts > 0 ? &site->vhosts[j] : NULL;
			if (vh != NULL && (hroles & (ROLE_APACHE | ROLE_NGINX)) != 0 &&
			    (hroles & (vh->server == SERVER_NGINX ? ROLE_NGINX :
			    ROLE_APACHE)) == 0)
				continue;
			xgrow(&eps, &cape, ne + 1, sizeof *eps);
			eps[ne++] = (struct probe_ep){ svc, port, vh };
		}
	}
	*portsp = ports;
	*nports = np;
	*epsp = eps;
	*neps = ne;
}

/* Every wanted kind's build for one host (h) or the site (h NULL); -1 + *cause when
 * a build refused (the first refusal; the list is then not used). */
static int
build(struct probe_list *pl, const struct site *site, const struct host *h,
    unsigned kinds, char **cause)
{
	struct probe_build b;
	struct probe_ep *ports = NULL, *eps = NULL;
	size_t i, nports = 0, neps = 0;

	memset(&b, 0, sizeof b);
	b.site = site;
	b.pl = pl;
	b.host = h;
	if (h != NULL) {
		if ((b.addr = probe_host_address(site, pl->addresses, h)) == NULL)
			return (0);
		b.roles = h->roles != 0 ? h->roles : ~0u;
		host_endpoints(site, h, b.roles, &ports, &nports, &eps, &neps);
		b.ports = ports;
		b.nports = nports;
		b.eps = eps;
		b.neps = neps;
	}
	for (i = 0; i < nprobe_kinds; i++) {
		if ((kinds & probe_kinds[i].bit) == 0)
			continue;
		b.kind = &probe_kinds[i];
		probe_kinds[i].build(&b);
		if (b.cause != NULL)
			break;
	}
	free(ports);
	free(eps);
	if (b.cause != NULL) {
		*cause = b.cause;
		return (-1);
	}
	return (0);
}

int
probe_list_build(const struct site *site, const struct probe_opts *opts,
    struct probe_list **plp, char **cause)
{
	struct probe_list *pl;
	unsigned kinds = opts != NULL && opts->kinds != 0 ? opts->kinds : probe_kinds_default();
	size_t i;

	if ((opts == NULL || opts->kinds == 0) && site->tests_probes.n > 0) {
		struct sbuf w;
		char *words, *e = NULL;

		sb_init(&w);
		for (i = 0; i < site->tests_probes.n; i++)
			sb_addf(&w, "%s%s", i > 0 ? " " : "", site->tests_probes.v[i]);
		words = sb_steal(&w);

		if (probe_kinds_parse(words, &kinds, &e) != 0) {
			*cause = xasprintf("%s: [tests] probes: %s", site->path != NULL ?
			    site->path : "profile", e);
			free(e);
			free(words);
			return (-1);
		}
		free(words);
	}

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
	pl->addresses = opts != NULL ? opts->addresses : NULL;
	/* Site-wide probes only when no host filter is given. */
	if ((opts == NULL || opts->hosts == NULL || opts->hosts->n == 0) &&
	    build(pl, site, NULL, kinds, cause) != 0)
		goto refused;
	for (i = 0; i < site->nhosts; i++) {
		if (host_wanted(&site->hosts[i], opts) &&
		    build(pl, site, &site->hosts[i], kinds, cause) != 0)
			goto refused;
	}
	*plp = pl;
	return (0);
refused:
	probe_list_free(pl);
	return (-1);
}

size_t
probe_list_count(const struct probe_list *pl)
{
	return (pl->n);
}

const char *
probe_list_kind(const struct probe_list *pl, size_t i)
{
	return (i < pl->n ? pl->v[i]->kind->name : NULL);
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

static void
run_one(struct run *rn, struct probe *p, size_t idx)
{
	struct presult r;
	struct probe_result out;
	double t0 = mono_now(), dl;

	dl = t0 + rn->ctx->timeout;
	pr_init(&r, dl < rn->ctx->run_deadline ? dl : rn->ctx->run_deadline,
	    rn->ctx->cancel, rn->ctx);
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
	pr_sanitize(&r);
	memset(&out, 0, sizeof out);
	out.index = idx;
	out.status = r.status;
	out.kind = p->kind->name;
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
	out.has_handshake = r.has_handshake;
	out.handshake_ms = r.handshake_ms;
	memcpy(out.protocol, r.protocol, sizeof out.protocol);
	memcpy(out.cipher, r.cipher, sizeof out.cipher);
	out.has_protocols = r.has_protocols;
	out.tls_accepted = r.tls_accepted;
	out.tls_allowed = r.tls_allowed;
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
	pr_free(&r);
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
	ctx.addresses = pl->addresses;
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
