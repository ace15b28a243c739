/* net.h: the run context the probes share, DNS through ldns, and connections with
 * deadlines (net.c). Knows nothing of the probe list or the kinds (engine.c, kinds.h). */
#ifndef MXDECK_PROBE_NET_H
#define MXDECK_PROBE_NET_H

#include <netinet/in.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <sys/socket.h>

#include <openssl/ssl.h>

#include "profiles/site.h"
#include "profiles/util.h"

/* A resolved address list. */
struct addrs {
	struct sockaddr_storage a[8];
	socklen_t len[8];
	size_t	 n;
};

struct hostaddr {
	const struct host *host;
	pthread_mutex_t lock;
	bool	 done;
	int	 error;		/* 0 ok, -1 failed, -2 DNSSEC bogus */
	bool	 bogus;		/* the address lookup met DNSSEC-bogus data */
	char	*cause;
	struct addrs addrs;
};

/* One run (set up by probe_run): what every probe may consult. */
struct probe_ctx {
	const struct site *site;
	SSL_CTX	*ssl;
	double	 timeout;
	double	 run_deadline;
	int	 http_port;	/* opts.http_port, or 0: the http port in the probe_ports
				 * of the host at the address (80) */
	atomic_int *cancel;
	struct hostaddr *haddrs;
	size_t	 nhaddrs;
	char	*resolver_host;	/* from site->resolver, or NULL: /etc/resolv.conf */
	int	 resolver_port;
	atomic_int dns_dead;	/* the resolver did not answer: do not wait on it again */
	const char *const *addresses;	/* probe_opts.addresses */
};

/* Where h's probes connect: "127.0.0.1" for address = local, the resolved ssh_config
 * HostName (probe_opts.addresses, by index in site->hosts), else the profile's address
 * (NULL: none). */
const char *probe_host_address(const struct site *site, const char *const *addresses,
    const struct host *h);

/* How a service starts TLS (starttls_prelude). */
enum wrap { WRAP_IMPLICIT, WRAP_SMTP, WRAP_IMAP, WRAP_POP3 };

/* net.c: DNS through ldns, connections with deadlines, TLS. */
struct ldns_struct_resolver;
int net_resolver_parse(const char *spec, char **host, int *port, char **cause);
/* A fresh ldns resolver for ctx (caller ldns_resolver_deep_free()s it). */
struct ldns_struct_resolver *net_resolver(struct probe_ctx *ctx, double deadline,
    bool dnssec, char **cause);
/* Is deadline (monotonic seconds) too close for another DNS query to be worth it? */
bool net_deadline_reached(double deadline);
/* Set res's timeout for its next query to min(timeout, deadline - now) (halved for
 * the TCP fallback); -1 when the deadline has come (do not start a query). */
int net_resolver_arm(struct probe_ctx *ctx, struct ldns_struct_resolver *res,
    double deadline);
/* Name or literal address -> addresses (A then AAAA) via the profile's resolver. */
int net_resolve(struct probe_ctx *ctx, const char *name, double deadline,
    struct addrs *out, char **cause);
/* The addresses of a profile host (cached per run; "local" = 127.0.0.1). -1 + *cause;
 * -2 + *cause when the answer is DNSSEC-bogus (net_resolve the same). */
int net_host_addrs(struct probe_ctx *ctx, const struct host *h, double deadline,
    struct addrs *out, char **cause);
/* Did the address lookup of h meet DNSSEC-bogus data (then h is not "unreachable")? */
bool net_host_bogus(struct probe_ctx *ctx, const struct host *h);
bool is_ip_literal(const char *s);
/* One query (RD set) whose answer must carry the query's id and question (RFC 5452);
 * 0 with *answer (caller ldns_pkt_free()s it), -1 + *cause. */
struct ldns_struct_rdf;
struct ldns_struct_pkt;
int net_query(struct probe_ctx *ctx, struct ldns_struct_resolver *res, const char *name,
    const struct ldns_struct_rdf *dname, int type, struct ldns_struct_pkt **answer,
    char **cause);
/* The message for a failed query of name (status: an ldns_status); marks the resolver
 * dead on a network error so later lookups in the run fail at once. */
char *net_dns_error(struct probe_ctx *ctx, const char *name, int status);
void addr_fmt(const struct sockaddr_storage *ss, char *buf, size_t len);

struct conn {
	int	 fd;
	SSL	*ssl;
	double	 deadline;
	struct sbuf in;		/* bytes read and not consumed yet */
	bool	 refused;	/* connect: ECONNREFUSED */
	bool	 eof;
};
void conn_init(struct conn *c, double deadline);
int conn_connect(struct conn *c, const struct addrs *a, int port, char **cause);
/* Read more bytes into c->in (plain or TLS); 0 on progress, -1 + cause on EOF/error/
 * timeout. */
int conn_fill(struct conn *c, char **cause);
/* Wait until the socket is readable (or writable); -1 + cause at the deadline. */
int conn_wait(struct conn *c, bool write, const char *what, char **cause);
int conn_write(struct conn *c, const char *s, size_t n, char **cause);
int conn_printf(struct conn *c, char **cause, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* One line the server sent (without its CR LF), a fresh string; -1 + *cause. */
int conn_read_line(struct conn *c, char **line, char **cause);
/* Start TLS on the connected socket; ssl configured by the caller. */
int conn_tls(struct conn *c, SSL *ssl, char **cause);
/* One text line from the server (no line end; caller frees). */
int conn_read_line(struct conn *c, char **line, char **cause);
void conn_close(struct conn *c);
/* Describe the OpenSSL error queue (and clears it). */
char *ssl_errstr(void);

/* Per-service plain-text prelude up to the point where TLS starts (STARTTLS/STLS), and
 * the reply reading helpers. Return -1 + *cause. */
int smtp_read_reply(struct conn *c, int *code, struct sbuf *text, char **cause);
int starttls_prelude(struct conn *c, int wrap, struct sbuf *log, char **cause);

/* dns.c: */
/* A resolver's SERVFAIL for name/type: 1 when it is DNSSEC (the resolver's Extended DNS
 * Error, RFC 8914, says so, or the data asked for again with CD does not validate
 * against the trust anchor), 0 when not shown; *why (or NULL) says what was found. */
int dns_servfail_dnssec(struct probe_ctx *ctx, double deadline, const char *name,
    int type, struct ldns_struct_pkt *servfail, char **why);

#endif
