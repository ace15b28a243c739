/* net.c: name lookups through ldns (and the profile's resolver), connections whose every
 * wait is bounded by the probe's deadline, TLS on a non-blocking socket, and the plain
 * text preludes of STARTTLS / STLS. */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include <ldns/ldns.h>
#include <openssl/err.h>

#include "backends/probe/parse.h"
#include "backends/probe/net.h"
#include "backends/probe/result.h"

static int wait_fd(struct conn *c, short ev, const char *what, char **cause);

bool
is_ip_literal(const char *s)
{
	struct in6_addr a6;
	struct in_addr a4;

	return inet_pton(AF_INET, s, &a4) == 1 || inet_pton(AF_INET6, s, &a6) == 1;
}

void
addr_fmt(const struct sockaddr_storage *ss, char *buf, size_t len)
{
	if (ss->ss_family == AF_INET6)
		inet_ntop(AF_INET6, &((const struct sockaddr_in6 *)ss)->sin6_addr, buf,
		    (socklen_t)len);
	else
		inet_ntop(AF_INET, &((const struct sockaddr_in *)ss)->sin_addr, buf,
		    (socklen_t)len);
}

int
net_resolver_parse(const char *spec, char **host, int *port, char **cause)
{
	const char *colon, *end;
	long p = 53;

	*host = NULL;
	*port = 53;
	if (spec[0] == '[') {
		if ((end = strchr(spec, ']')) == NULL)
			goto bad;
		*host = xstrndup(spec + 1, (size_t)(end - spec - 1));
		if (end[1] == ':' && parse_int(end + 2, 1, 65535, &p) != 0)
			goto bad;
		else if (end[1] != ':' && end[1] != '\0')
			goto bad;
	} else if ((colon = strchr(spec, ':')) != NULL && strchr(colon + 1, ':') == NULL) {
		*host = xstrndup(spec, (size_t)(colon - spec));
		if (parse_int(colon + 1, 1, 65535, &p) != 0)
			goto bad;
	} else
		*host = xstrdup(spec);
	if (!is_ip_literal(*host))
		goto bad;
	*port = (int)p;
	return 0;
bad:
	free(*host);
	*host = NULL;
	*cause = xasprintf("resolver \"%s\": expected IP, IP:PORT or [IPv6]:PORT", spec);
	return -1;
}

static const char *
resolver_name(struct probe_ctx *ctx)
{
	return ctx->site->resolver != NULL ? ctx->site->resolver :
	    "of /etc/resolv.conf";
}

char *
net_dns_error(struct probe_ctx *ctx, const char *name, int status)
{
	if (status == LDNS_STATUS_NETWORK_ERR || status == LDNS_STATUS_SOCKET_ERROR ||
	    status == LDNS_STATUS_RES_NO_NS) {
		atomic_store(&ctx->dns_dead, 1);
		return xasprintf("%s: no answer from resolver %s (%s)%s", name,
		    resolver_name(ctx), ldns_get_errorstr_by_id((ldns_status)status),
		    ctx->site->resolver != NULL ? ": is [site] resolver right?" : "");
	}
	return xasprintf("%s: DNS query failed: %s", name,
	    ldns_get_errorstr_by_id((ldns_status)status));
}

/* The deadline is absolute: each query gets min(timeout, deadline - now), halved
 * because ldns may retry over TCP after a truncated UDP answer with the same
 * timeout; no query starts at or after the deadline. */
bool
net_deadline_reached(double deadline)
{
	return deadline - mono_now() < 0.005;	/* less than 5 ms: no use asking */
}

int
net_resolver_arm(struct probe_ctx *ctx, ldns_resolver *res, double deadline)
{
	double left = deadline - mono_now();
	struct timeval tv;

	if (net_deadline_reached(deadline))
		return -1;
	if (ctx->timeout > 0 && left > ctx->timeout)
		left = ctx->timeout;
	tv.tv_sec = (time_t)(left / 2);
	tv.tv_usec = (suseconds_t)((left / 2 - (double)tv.tv_sec) * 1e6);
	if (tv.tv_sec == 0 && tv.tv_usec == 0)
		tv.tv_usec = 1;
	ldns_resolver_set_timeout(res, tv);
	return 0;
}

/* Was res armed with less than the probe's full timeout (cut by a deadline)? A
 * query that then gets no answer says nothing about the resolver. */
static bool
armed_short(struct probe_ctx *ctx, ldns_resolver *res)
{
	struct timeval tv = ldns_resolver_timeout(res);
	double t = (double)tv.tv_sec + (double)tv.tv_usec / 1e6;

	return ctx->timeout > 0 && t * 2 < ctx->timeout * 0.99;
}

ldns_resolver *
net_resolver(struct probe_ctx *ctx, double deadline, bool dnssec, char **cause)
{
	ldns_resolver *res = NULL;
	ldns_rdf *ns;
	ldns_status st;

	if (atomic_load(&ctx->dns_dead)) {
		*cause = xasprintf("resolver %s did not answer earlier in this run (not "
		    "asked again)", resolver_name(ctx));
		return NULL;
	}

	if (ctx->site->resolver != NULL) {
		if (ctx->resolver_host == NULL) {
			*cause = xasprintf("resolver \"%s\" in the profile is not an IP[:PORT]",
			    ctx->site->resolver);
			return NULL;
		}
		res = ldns_resolver_new();
		ns = ldns_rdf_new_frm_str(strchr(ctx->resolver_host, ':') != NULL ?
		    LDNS_RDF_TYPE_AAAA : LDNS_RDF_TYPE_A, ctx->resolver_host);
		if (ns == NULL || ldns_resolver_push_nameserver(res, ns) != LDNS_STATUS_OK) {
			ldns_rdf_deep_free(ns);
			ldns_resolver_deep_free(res);
			*cause = xasprintf("resolver %s: bad address", ctx->resolver_host);
			return NULL;
		}
		ldns_rdf_deep_free(ns);
		ldns_resolver_set_port(res, (uint16_t)ctx->resolver_port);
		ldns_resolver_set_recursive(res, true);
	} else {
		st = ldns_resolver_new_frm_file(&res, NULL);
		if (st != LDNS_STATUS_OK) {
			*cause = xasprintf("/etc/resolv.conf: %s (or set [site] resolver)",
			    ldns_get_errorstr_by_id(st));
			return NULL;
		}
	}
	if (net_resolver_arm(ctx, res, deadline) == -1) {
		ldns_resolver_deep_free(res);
		*cause = xstrdup("the probe's deadline was reached before this DNS lookup "
		    "(not started)");
		return NULL;
	}
	ldns_resolver_set_retry(res, 1);
	ldns_resolver_set_retrans(res, 1);
	ldns_resolver_set_fallback(res, true);
	ldns_resolver_set_edns_udp_size(res, 4096);
	if (dnssec) {
		ldns_resolver_set_dnssec(res, true);
		ldns_resolver_set_dnssec_cd(res, false);
	}
	return res;
}

/* ldns_resolver_query_status(), but an answer whose id or question does not match the
 * query is not taken (RFC 5452 section 9.1): ldns itself does not compare them. On a
 * mismatch *cause says so and the packet is dropped. */
int
net_query(struct probe_ctx *ctx, ldns_resolver *res, const char *name,
    const ldns_rdf *dname, int type, ldns_pkt **answer, char **cause)
{
	ldns_rr_type t = (ldns_rr_type)type;
	ldns_pkt *q = NULL, *a = NULL;
	ldns_rr_list *qs;
	ldns_rr *qr;
	ldns_status st;

	*answer = NULL;
	st = ldns_resolver_prepare_query_pkt(&q, res, dname, t, LDNS_RR_CLASS_IN, LDNS_RD);
	if (st == LDNS_STATUS_OK)
		st = ldns_resolver_send_pkt(&a, res, q);
	if ((st == LDNS_STATUS_NETWORK_ERR || st == LDNS_STATUS_SOCKET_ERROR ||
	    st == LDNS_STATUS_RES_NO_NS || (st == LDNS_STATUS_OK && a == NULL)) &&
	    armed_short(ctx, res)) {
		*cause = xasprintf("%s: no answer from resolver %s before the probe's "
		    "deadline", name, resolver_name(ctx));
		ldns_pkt_free(q);
		ldns_pkt_free(a);
		return -1;
	}
	if (st != LDNS_STATUS_OK || a == NULL) {
		*cause = net_dns_error(ctx, name, st != LDNS_STATUS_OK ? (int)st :
		    LDNS_STATUS_NETWORK_ERR);
		ldns_pkt_free(q);
		ldns_pkt_free(a);
		return -1;
	}
	qs = ldns_pkt_question(a);
	qr = qs != NULL && ldns_rr_list_rr_count(qs) == 1 ? ldns_rr_list_rr(qs, 0) : NULL;
	if (ldns_pkt_id(a) != ldns_pkt_id(q) || qr == NULL ||
	    ldns_rr_get_type(qr) != t || ldns_dname_compare(ldns_rr_owner(qr), dname) != 0) {
		*cause = xasprintf("%s: the answer from %s does not match the query (id %u, "
		    "sent %u, or another question): not taken (RFC 5452; spoofed, or a "
		    "broken server)", name, resolver_name(ctx), ldns_pkt_id(a),
		    ldns_pkt_id(q));
		ldns_pkt_free(q);
		ldns_pkt_free(a);
		return -1;
	}
	ldns_pkt_free(q);
	*answer = a;
	return 0;
}

/* 0 with the addresses added to out; -1 + *cause; -2 + *cause when the answer is
 * DNSSEC-bogus (the validating resolver's SERVFAIL, explained). */
static int
lookup_type(struct probe_ctx *ctx, ldns_resolver *res, const char *name, ldns_rr_type t,
    double deadline, struct addrs *out, char **cause)
{
	ldns_rdf *dname;
	ldns_pkt *pkt = NULL;
	ldns_rr_list *rrs;
	size_t i;
	char *s;

	if ((dname = ldns_dname_new_frm_str(name)) == NULL) {
		*cause = xasprintf("%s: not a valid DNS name", name);
		return -1;
	}
	if (net_query(ctx, res, name, dname, t, &pkt, cause) != 0) {
		ldns_rdf_deep_free(dname);
		return -1;
	}
	ldns_rdf_deep_free(dname);
	if (ldns_pkt_get_rcode(pkt) != LDNS_RCODE_NOERROR &&
	    ldns_pkt_get_rcode(pkt) != LDNS_RCODE_NXDOMAIN) {
		ldns_lookup_table *lt = ldns_lookup_by_id(ldns_rcodes,
		    ldns_pkt_get_rcode(pkt));
		char *why = NULL;
		int bogus = 0;

		/* A validating resolver answers SERVFAIL for DNSSEC-bogus data: find out
		 * (its Extended DNS Error, a validation of our own) before anyone blames
		 * the network. */
		if (ldns_pkt_get_rcode(pkt) == LDNS_RCODE_SERVFAIL)
			bogus = dns_servfail_dnssec(ctx, deadline, name, t, pkt, &why);
		if (bogus)
			*cause = xasprintf("%s %s: DNSSEC BOGUS (resolver %s answered SERVFAIL): "
			    "%s. The zone's signatures or its DS are broken: re-sign the zone "
			    "or fix the DS at the parent (not a network problem)", name,
			    t == LDNS_RR_TYPE_A ? "A" : "AAAA", resolver_name(ctx),
			    why != NULL ? why : "no reason given");
		else
			*cause = xasprintf("%s: DNS answer %s%s%s%s", name, lt != NULL ?
			    lt->name : "error", why != NULL ? " (" : "", why != NULL ? why : "",
			    why != NULL ? ")" : "");
		free(why);
		ldns_pkt_free(pkt);
		return bogus ? -2 : -1;
	}
	rrs = ldns_pkt_rr_list_by_type(pkt, t, LDNS_SECTION_ANSWER);
	for (i = 0; rrs != NULL && i < ldns_rr_list_rr_count(rrs) && out->n < 8; i++) {
		ldns_rdf *rd = ldns_rr_rdf(ldns_rr_list_rr(rrs, i), 0);

		if (rd == NULL)
			continue;
		s = ldns_rdf2str(rd);
		if (s != NULL) {
			struct sockaddr_storage *ss = &out->a[out->n];

			memset(ss, 0, sizeof *ss);
			if (t == LDNS_RR_TYPE_A) {
				struct sockaddr_in *sin = (struct sockaddr_in *)ss;

				sin->sin_family = AF_INET;
				if (inet_pton(AF_INET, s, &sin->sin_addr) == 1)
					out->len[out->n++] = sizeof *sin;
			} else {
				struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)ss;

				sin6->sin6_family = AF_INET6;
				if (inet_pton(AF_INET6, s, &sin6->sin6_addr) == 1)
					out->len[out->n++] = sizeof *sin6;
			}
			free(s);
		}
	}
	ldns_rr_list_deep_free(rrs);
	ldns_pkt_free(pkt);
	return 0;
}

int
net_resolve(struct probe_ctx *ctx, const char *name, double deadline, struct addrs *out,
    char **cause)
{
	ldns_resolver *res;
	struct sockaddr_in *sin;
	struct sockaddr_in6 *sin6;
	char *c1 = NULL, *c2 = NULL;
	int r1, r2;

	memset(out, 0, sizeof *out);
	sin = (struct sockaddr_in *)&out->a[0];
	if (inet_pton(AF_INET, name, &sin->sin_addr) == 1) {
		sin->sin_family = AF_INET;
		out->len[0] = sizeof *sin;
		out->n = 1;
		return 0;
	}
	sin6 = (struct sockaddr_in6 *)&out->a[0];
	if (inet_pton(AF_INET6, name, &sin6->sin6_addr) == 1) {
		sin6->sin6_family = AF_INET6;
		out->len[0] = sizeof *sin6;
		out->n = 1;
		return 0;
	}
	if ((res = net_resolver(ctx, deadline, false, cause)) == NULL)
		return -1;
	r1 = lookup_type(ctx, res, name, LDNS_RR_TYPE_A, deadline, out, &c1);
	r2 = -1;
	/* AAAA only with time left (also after an A answer: the deadline is absolute),
	 * with what is left */
	if (!atomic_load(&ctx->dns_dead) && net_resolver_arm(ctx, res, deadline) == 0)
		r2 = lookup_type(ctx, res, name, LDNS_RR_TYPE_AAAA, deadline, out, &c2);
	ldns_resolver_deep_free(res);
	if (out->n > 0) {
		free(c1);
		free(c2);
		return 0;
	}
	if (r1 == -2 || r2 == -2) {
		/* DNSSEC bogus: that is the finding, whatever the other type said */
		*cause = r1 == -2 ? c1 : c2;
		free(r1 == -2 ? c2 : c1);
		return -2;
	}
	if (r1 != 0 || r2 != 0) {
		*cause = c1 != NULL ? c1 : c2;
		if (c1 != NULL)
			free(c2);
	} else
		*cause = xasprintf("%s: no A or AAAA record%s%s", name,
		    ctx->site->resolver != NULL ? " at resolver " : "",
		    ctx->site->resolver != NULL ? ctx->site->resolver : "");
	return -1;
}

const char *
probe_host_address(const struct site *site, const char *const *addresses,
    const struct host *h)
{
	size_t i = (size_t)(h - site->hosts);

	if (h->local)
		return "127.0.0.1";
	if (addresses != NULL && i < site->nhosts && addresses[i] != NULL)
		return addresses[i];
	return h->address;
}

int
net_host_addrs(struct probe_ctx *ctx, const struct host *h, double deadline,
    struct addrs *out, char **cause)
{
	struct hostaddr *ha = NULL;
	size_t i;
	int rc;

	for (i = 0; i < ctx->nhaddrs; i++) {
		if (ctx->haddrs[i].host == h)
			ha = &ctx->haddrs[i];
	}
	const char *addr = probe_host_address(ctx->site, ctx->addresses, h);

	if (h->local || addr == NULL)
		return net_resolve(ctx, "127.0.0.1", deadline, out, cause);
	if (ha == NULL)
		return net_resolve(ctx, addr, deadline, out, cause);
	pthread_mutex_lock(&ha->lock);
	if (!ha->done) {
		ha->error = net_resolve(ctx, addr, deadline, &ha->addrs, &ha->cause);
		ha->bogus = ha->error == -2;
		/* A timeout is this probe's, not the host's: let the next one retry. */
		ha->done = ha->error == 0 || mono_now() < deadline;
	}
	rc = ha->error;
	if (rc == 0)
		*out = ha->addrs;
	else
		*cause = xasprintf("host %s: %s", h->name, ha->cause != NULL ? ha->cause :
		    "address lookup failed");
	if (!ha->done) {
		free(ha->cause);
		ha->cause = NULL;
	}
	pthread_mutex_unlock(&ha->lock);
	return rc;
}

bool
net_host_bogus(struct probe_ctx *ctx, const struct host *h)
{
	size_t i;
	bool b = false;

	for (i = 0; i < ctx->nhaddrs; i++) {
		if (ctx->haddrs[i].host != h)
			continue;
		pthread_mutex_lock(&ctx->haddrs[i].lock);
		b = ctx->haddrs[i].bogus;
		pthread_mutex_unlock(&ctx->haddrs[i].lock);
	}
	return b;
}

/* ---- connections ---- */

void
conn_init(struct conn *c, double deadline)
{
	memset(c, 0, sizeof *c);
	c->fd = -1;
	c->deadline = deadline;
	sb_init(&c->in);
}

void
conn_close(struct conn *c)
{
	if (c->ssl != NULL) {
		/* One non-blocking close_notify, no waiting for the peer's. */
		if (SSL_is_init_finished(c->ssl) && !c->eof)
			SSL_shutdown(c->ssl);
		ERR_clear_error();
		SSL_free(c->ssl);
		c->ssl = NULL;
	}
	if (c->fd != -1)
		close(c->fd);
	c->fd = -1;
	sb_free(&c->in);
}

int
conn_wait(struct conn *c, bool write, const char *what, char **cause)
{
	return wait_fd(c, write ? POLLOUT : POLLIN, what, cause);
}

static int
wait_fd(struct conn *c, short ev, const char *what, char **cause)
{
	struct pollfd pfd;
	double left;
	int n;

	for (;;) {
		left = c->deadline - mono_now();
		if (left <= 0) {
			*cause = xasprintf("timed out %s", what);
			return -1;
		}
		pfd.fd = c->fd;
		pfd.events = ev;
		pfd.revents = 0;
		n = poll(&pfd, 1, (int)(left * 1000) + 1);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			*cause = xasprintf("poll: %s", strerror(errno));
			return -1;
		}
		if (n > 0)
			return 0;
	}
}

static int
connect_one(struct conn *c, const struct sockaddr_storage *ss, socklen_t len, int port,
    char **cause)
{
	struct sockaddr_storage a = *ss;
	char ab[INET6_ADDRSTRLEN];
	socklen_t el = sizeof(int);
	int err = 0;

	addr_fmt(ss, ab, sizeof ab);
	if (a.ss_family == AF_INET6)
		((struct sockaddr_in6 *)&a)->sin6_port = htons((uint16_t)port);
	else
		((struct sockaddr_in *)&a)->sin_port = htons((uint16_t)port);
	c->fd = socket(a.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (c->fd == -1) {
		*cause = xasprintf("socket: %s", strerror(errno));
		return -1;
	}
	if (connect(c->fd, (struct sockaddr *)&a, len) == 0)
		return 0;
	if (errno != EINPROGRESS) {
		err = errno;
		goto fail;
	}
	if (wait_fd(c, POLLOUT, "connecting", cause) != 0) {
		char *t = *cause;

		*cause = xasprintf("%s:%d: %s (no answer: filtered or host down)", ab, port, t);
		free(t);
		close(c->fd);
		c->fd = -1;
		return -1;
	}
	if (getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &err, &el) != 0)
		err = errno;
	if (err == 0)
		return 0;
fail:
	if (err == ECONNREFUSED)
		c->refused = true;
	*cause = xasprintf("%s:%d: connect: %s", ab, port, strerror(err));
	close(c->fd);
	c->fd = -1;
	return -1;
}

int
conn_connect(struct conn *c, const struct addrs *a, int port, char **cause)
{
	size_t i;
	char *last = NULL;

	for (i = 0; i < a->n; i++) {
		free(last);
		last = NULL;
		if (connect_one(c, &a->a[i], a->len[i], port, &last) == 0) {
			free(last);
			return 0;
		}
		if (mono_now() >= c->deadline)
			break;
	}
	*cause = last != NULL ? last : xstrdup("no address to connect to");
	return -1;
}

char *
ssl_errstr(void)
{
	struct sbuf b;
	unsigned long e;
	char buf[256];

	sb_init(&b);
	while ((e = ERR_get_error()) != 0) {
		ERR_error_string_n(e, buf, sizeof buf);
		if (b.len > 0)
			sb_add(&b, "; ");
		sb_add(&b, buf);
	}
	if (b.len == 0)
		sb_add(&b, "no OpenSSL error");
	return sb_steal(&b);
}

/* Wait for what SSL asked for; -1 + cause on a real error. */
static int
ssl_wait(struct conn *c, int ret, const char *what, char **cause)
{
	int e = SSL_get_error(c->ssl, ret);
	char *s;

	switch (e) {
	case SSL_ERROR_WANT_READ:
		return wait_fd(c, POLLIN, what, cause);
	case SSL_ERROR_WANT_WRITE:
		return wait_fd(c, POLLOUT, what, cause);
	case SSL_ERROR_ZERO_RETURN:
		*cause = xasprintf("peer closed the TLS connection %s", what);
		c->eof = true;
		return -1;
	case SSL_ERROR_SYSCALL:
		if (ERR_peek_error() != 0) {
			s = ssl_errstr();
			*cause = xasprintf("%s: %s", what, s);
			free(s);
		} else if (errno != 0 && ret < 0)
			*cause = xasprintf("%s: %s", what, strerror(errno));
		else
			*cause = xasprintf("connection closed by peer %s", what);
		c->eof = true;
		return -1;
	default:
		s = ssl_errstr();
		*cause = xasprintf("TLS error %s: %s", what, s);
		free(s);
		return -1;
	}
}

int
conn_tls(struct conn *c, SSL *ssl, char **cause)
{
	int ret;

	c->ssl = ssl;
	SSL_set_fd(ssl, c->fd);
	ERR_clear_error();
	for (;;) {
		errno = 0;
		ret = SSL_connect(ssl);
		if (ret == 1)
			return 0;
		if (ssl_wait(c, ret, "during the TLS handshake", cause) != 0)
			return -1;
	}
}

int
conn_fill(struct conn *c, char **cause)
{
	char buf[4096];
	ssize_t n;
	int ret;

	/* What is buffered is the unit being read (a multi-line reply may hold up to
	 * 1000 lines of 4 KiB, each with its line end): only the bytes after the last
	 * line end are "without a line end". */
	{
		size_t tail = c->in.len;

		while (tail > 0 && c->in.s[tail - 1] != '\n')
			tail--;
		if (c->in.len - tail > 64 * 1024) {
			*cause = xstrdup("server sent more than 64 KiB without a line end");
			return -1;
		}
		if (c->in.len > 8 * 1024 * 1024) {
			*cause = xstrdup("server sent more than 8 MiB without completing a reply");
			return -1;
		}
	}
	for (;;) {
		if (mono_now() >= c->deadline) {
			*cause = xstrdup("timed out waiting for the server");
			return -1;
		}
		if (c->ssl != NULL) {
			ERR_clear_error();
			errno = 0;
			ret = SSL_read(c->ssl, buf, sizeof buf);
			if (ret > 0) {
				sb_addn(&c->in, buf, (size_t)ret);
				return 0;
			}
			if (ssl_wait(c, ret, "waiting for the server", cause) != 0)
				return -1;
			continue;
		}
		n = read(c->fd, buf, sizeof buf);
		if (n > 0) {
			sb_addn(&c->in, buf, (size_t)n);
			return 0;
		}
		if (n == 0) {
			c->eof = true;
			*cause = xstrdup("server closed the connection");
			return -1;
		}
		if (errno == EINTR)
			continue;
		if (errno != EAGAIN && errno != EWOULDBLOCK) {
			*cause = xasprintf("read: %s", strerror(errno));
			return -1;
		}
		if (wait_fd(c, POLLIN, "waiting for the server", cause) != 0)
			return -1;
	}
}

int
conn_write(struct conn *c, const char *s, size_t len, char **cause)
{
	size_t off = 0;
	ssize_t n;
	int ret;

	while (off < len) {
		if (c->ssl != NULL) {
			ERR_clear_error();
			errno = 0;
			ret = SSL_write(c->ssl, s + off, (int)(len - off));
			if (ret > 0) {
				off += (size_t)ret;
				continue;
			}
			if (ssl_wait(c, ret, "sending", cause) != 0)
				return -1;
			continue;
		}
		n = send(c->fd, s + off, len - off, MSG_NOSIGNAL);
		if (n > 0) {
			off += (size_t)n;
			continue;
		}
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
			if (wait_fd(c, POLLOUT, "sending", cause) != 0)
				return -1;
			continue;
		}
		*cause = xasprintf("send: %s", strerror(errno));
		return -1;
	}
	return 0;
}

int
conn_printf(struct conn *c, char **cause, const char *fmt, ...)
{
	va_list ap;
	char *s;
	int rc;

	va_start(ap, fmt);
	s = xvasprintf(fmt, ap);
	va_end(ap);
	rc = conn_write(c, s, strlen(s), cause);
	free(s);
	return rc;
}

static void
consume(struct conn *c, size_t n)
{
	memmove(c->in.s, c->in.s + n, c->in.len - n + 1);
	c->in.len -= n;
}

/* A parser of the input: the bytes its unit took from the start of buf (> 0), 0 when
 * the unit is not all there yet, -1 with *cause when the bytes are not one. */
typedef ssize_t take_fn(const char *buf, size_t len, void *out, char **cause);

/* Parse one unit from the server into out, reading until it is complete. */
static int
conn_take(struct conn *c, take_fn *take, void *out, char **cause)
{
	ssize_t n;

	for (;;) {
		n = take(c->in.s != NULL ? c->in.s : "", c->in.len, out, cause);
		if (n < 0)
			return -1;
		if (n > 0) {
			consume(c, (size_t)n);
			return 0;
		}
		if (conn_fill(c, cause) != 0)
			return -1;
	}
}

static ssize_t
take_reply(const char *buf, size_t len, void *out, char **cause)
{
	return smtp_reply_parse(buf, len, out, cause);
}

static ssize_t
take_line(const char *buf, size_t len, void *out, char **cause)
{
	ssize_t n = line_take(buf, len, out);

	if (n < 0)
		*cause = xstrdup("server sent a line that is too long or not text");
	return n;
}

/* Read one SMTP reply; r owned by the caller (smtp_reply_free). */
static int
smtp_reply_read(struct conn *c, struct smtp_reply *r, char **cause)
{
	return conn_take(c, take_reply, r, cause);
}

int
smtp_read_reply(struct conn *c, int *code, struct sbuf *text, char **cause)
{
	struct smtp_reply r;
	size_t i;

	if (smtp_reply_read(c, &r, cause) != 0)
		return -1;
	*code = r.code;
	if (text != NULL) {
		sb_reset(text);
		for (i = 0; i < r.lines.n; i++) {
			if (i > 0)
				sb_addc(text, '\n');
			sb_add(text, r.lines.v[i]);
		}
	}
	smtp_reply_free(&r);
	return 0;
}

/* One text line from the server. */
static int
read_line(struct conn *c, char **line, char **cause)
{
	return conn_take(c, take_line, line, cause);
}

int
conn_read_line(struct conn *c, char **line, char **cause)
{
	return read_line(c, line, cause);
}

/* Send one command line of a prelude, and log it once sent. */
static int
prelude_say(struct conn *c, struct sbuf *log, const char *cmd, char **cause)
{
	if (conn_printf(c, cause, "%s\r\n", cmd) != 0)
		return -1;
	sb_addf(log, "C: %s\n", cmd);
	return 0;
}

/* The first line of a reply's text, "" when it has none. */
static const char *
reply_first(const struct smtp_reply *r)
{
	return r->lines.n > 0 ? r->lines.v[0] : "";
}

/* Read one SMTP reply (as smtp_reply_read) and log its first line. */
static int
smtp_reply_logged(struct conn *c, struct sbuf *log, struct smtp_reply *r, char **cause)
{
	if (smtp_reply_read(c, r, cause) != 0)
		return -1;
	sb_addf(log, "S: %d %s\n", r->code, reply_first(r));
	return 0;
}

static int
smtp_prelude(struct conn *c, struct sbuf *log, char **cause)
{
	struct smtp_reply r;

	if (smtp_reply_logged(c, log, &r, cause) != 0)
		return -1;
	if (r.code != 220) {
		*cause = xasprintf("greeting is %d %s, not 220", r.code, reply_first(&r));
		smtp_reply_free(&r);
		return -1;
	}
	smtp_reply_free(&r);
	if (prelude_say(c, log, "EHLO probe.mxdeck.invalid", cause) != 0 ||
	    smtp_reply_read(c, &r, cause) != 0)
		return -1;
	if (r.code != 250) {
		*cause = xasprintf("EHLO answered %d %s", r.code, reply_first(&r));
		smtp_reply_free(&r);
		return -1;
	}
	if (!smtp_ehlo_has(&r, "STARTTLS")) {
		*cause = xstrdup("EHLO does not offer STARTTLS");
		smtp_reply_free(&r);
		return -1;
	}
	smtp_reply_free(&r);
	if (prelude_say(c, log, "STARTTLS", cause) != 0 ||
	    smtp_reply_logged(c, log, &r, cause) != 0)
		return -1;
	if (r.code != 220) {
		*cause = xasprintf("STARTTLS answered %d %s", r.code, reply_first(&r));
		smtp_reply_free(&r);
		return -1;
	}
	smtp_reply_free(&r);
	return 0;
}

static int
imap_prelude(struct conn *c, struct sbuf *log, char **cause)
{
	struct imap_line l;
	char *line = NULL, *e = NULL;
	int rc = -1;

	if (read_line(c, &line, cause) != 0)
		return -1;
	sb_addf(log, "S: %s\n", line);
	if (imap_line_parse(line, &l, &e) != 0 || strcmp(l.tag, "*") != 0 ||
	    strcmp(l.status, "OK") != 0) {
		*cause = e != NULL ? e : xasprintf("greeting is not \"* OK\": %.60s", line);
		if (e == NULL)
			imap_line_free(&l);
		free(line);
		return -1;
	}
	imap_line_free(&l);
	free(line);
	if (prelude_say(c, log, "a1 STARTTLS", cause) != 0)
		return -1;
	for (;;) {
		if (read_line(c, &line, cause) != 0)
			return -1;
		sb_addf(log, "S: %s\n", line);
		if (imap_line_parse(line, &l, &e) != 0) {
			*cause = e;
			free(line);
			return -1;
		}
		free(line);
		if (strcmp(l.tag, "a1") == 0) {
			if (strcmp(l.status, "OK") == 0)
				rc = 0;
			else
				*cause = xasprintf("STARTTLS answered %s %s", l.status, l.text);
			imap_line_free(&l);
			return rc;
		}
		imap_line_free(&l);
	}
}

/* Read a POP3 status line into the log; anything but +OK is an error "WHAT line". */
static int
pop3_expect_ok(struct conn *c, struct sbuf *log, const char *what, char **cause)
{
	char *line = NULL, *e = NULL;

	if (read_line(c, &line, cause) != 0)
		return -1;
	sb_addf(log, "S: %s\n", line);
	if (pop3_status(line, &e) != 1) {
		*cause = e != NULL ? e : xasprintf("%s %.60s", what, line);
		free(line);
		return -1;
	}
	free(line);
	return 0;
}

static int
pop3_prelude(struct conn *c, struct sbuf *log, char **cause)
{
	if (pop3_expect_ok(c, log, "greeting is", cause) != 0)
		return -1;
	if (prelude_say(c, log, "STLS", cause) != 0)
		return -1;
	return pop3_expect_ok(c, log, "STLS answered", cause);
}

int
starttls_prelude(struct conn *c, int wrap, struct sbuf *log, char **cause)
{
	switch (wrap) {
	case WRAP_SMTP:
		return smtp_prelude(c, log, cause);
	case WRAP_IMAP:
		return imap_prelude(c, log, cause);
	case WRAP_POP3:
		return pop3_prelude(c, log, cause);
	default:
		return 0;
	}
}
