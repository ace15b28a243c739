/* probe-int.h: what the probe files share (not for callers; they use probe.h). */
#ifndef MXDECK_PROBE_INT_H
#define MXDECK_PROBE_INT_H

#include <netinet/in.h>
#include <pthread.h>
#include <sys/socket.h>

#include <openssl/ssl.h>

#include "backends/probe/probe.h"

/* Mail services a host may expose (mxdeck(1) probe_ports). */
enum svc {
	SVCP_SMTP, SVCP_SUBMISSION, SVCP_SMTPS, SVCP_IMAPS, SVCP_POP3S, SVCP_IMAP,
	SVCP_POP3, SVCP_HTTPS, SVCP_COUNT
};
struct svc_info {
	const char *name;	/* as in probe_ports */
	int	 stdport;
	enum { WRAP_IMPLICIT, WRAP_SMTP, WRAP_IMAP, WRAP_POP3 } wrap;
	unsigned roles;		/* any of these roles implies the service */
};
extern const struct svc_info svc_infos[SVCP_COUNT];
int svc_from_name(const char *name);	/* -1 if unknown */
int svc_from_stdport(int port);		/* -1 if none */

/* A resolved address list. */
struct addrs {
	struct sockaddr_storage a[8];
	socklen_t len[8];
	size_t	 n;
};

struct probe_ctx;
struct probe;

/* The result being filled by a probe. The worst status of all notes wins. */
struct presult {
	enum probe_status status;
	struct sbuf summary;
	struct sbuf details;
	int	 handshakes;
	int	 nreached;	/* connections to the probe's host that worked */
	int	 nunreached;	/* attempts that could not (lookup or connect) */
	bool	 has_cert_days;	/* probe_result.cert_days */
	int	 cert_days;
	double	 deadline;	/* monotonic seconds: min(probe timeout, run deadline) */
	struct probe_ctx *ctx;
	struct probe_cert *certs;	/* owned (pr_cert) */
	size_t	 ncerts;
};
void pr_note(struct presult *r, enum probe_status st, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
void pr_summary(struct presult *r, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* Append to the summary, separated by ", ". */
void pr_sumadd(struct presult *r, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
bool pr_expired(const struct presult *r);
/* Add a certificate's fields (strings copied; server text made printable). */
void pr_cert(struct presult *r, const struct probe_cert *c);
/* Record whether a connection to the probe's host worked (probe_result.reach). */
void pr_reach(struct presult *r, bool ok);

typedef void (*probe_fn)(struct probe *p, struct presult *r);

struct probe {
	unsigned kind;		/* PROBE_K_* */
	const char *kindname;
	char	*name;
	char	*target;
	const struct host *host;	/* NULL: site-wide */
	probe_fn run;
	struct probe_ctx *ctx;		/* set by probe_run */

	/* Parameters (used by some kinds). */
	int	 svc;		/* enum svc */
	int	 port;		/* where to connect */
	int	 stdport;	/* the service's standard port (TLSA owner name) */
	char	*sni;		/* name for SNI and the hostname check, or NULL */
	struct strv names;	/* acceptable certificate names */
	unsigned policy;	/* TLS versions the profile allows (TLSP_BIT) */
	char	*policy_src;	/* "[tls] smtpd_protocols = >=TLSv1.2" */
	char	*domain;	/* DNS/HTTP: the domain in question */
	const struct autodiscover *ad;
	int	 variant;	/* http: which check (autodiscover: enum ad_step) */
	const struct login_cred *cred;	/* login: whose credentials */
	int	 proto;		/* login: enum proto */
	const struct vhost *vhost;	/* login over https: the vhost */
};

/* The Autodiscover lookup steps, in Outlook's order. */
enum ad_step {
	AD_STEP_DOMAIN,		/* POST https://DOMAIN/autodiscover/autodiscover.xml */
	AD_STEP_AUTODISCOVER,	/* POST https://autodiscover.DOMAIN/... */
	AD_STEP_REDIRECT,	/* GET http://autodiscover.DOMAIN/...: 302 to https */
	AD_STEP_SRV,		/* _autodiscover._tcp.DOMAIN SRV target */
	AD_STEP_COUNT
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
};

double mono_now(void);

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
/* One text line from the server (no line end; caller frees). */
int conn_read_line(struct conn *c, char **line, char **cause);
/* Start TLS on the connected socket; ssl configured by the caller. */
int conn_tls(struct conn *c, SSL *ssl, char **cause);
void conn_close(struct conn *c);
/* Describe the OpenSSL error queue (and clears it). */
char *ssl_errstr(void);

/* Per-service plain-text prelude up to the point where TLS starts (STARTTLS/STLS), and
 * the reply reading helpers. Return -1 + *cause. */
int smtp_read_reply(struct conn *c, int *code, struct sbuf *text, char **cause);
int starttls_prelude(struct conn *c, int wrap, struct sbuf *log, char **cause);

/* dns.c: TLSA with DNSSEC validation, MX targets. */
struct tlsa_rec {
	int	 usage, selector, mtype;
	unsigned char *data;
	size_t	 len;
};
struct tlsa_set {
	struct tlsa_rec *v;
	size_t	 n;
	bool	 secure;	/* the RRset validated against the trust anchor */
	bool	 absent_proven;	/* n == 0: validated NSEC/NSEC3 deny the TLSA RRset */
	bool	 nxdomain;	/* n == 0: the name does not exist (else NODATA) */
	char	*insecure_why;	/* why not, when !secure (or, n == 0, !absent_proven) */
};
/* 0 with out filled (n may be 0: no record), -1 + *cause when the lookup failed. */
int dns_tlsa(struct probe_ctx *ctx, const char *qname, double deadline,
    struct tlsa_set *out, char **cause);
void tlsa_set_free(struct tlsa_set *s);
/* A resolver's SERVFAIL for name/type: 1 when it is DNSSEC (the resolver's Extended DNS
 * Error, RFC 8914, says so, or the data asked for again with CD does not validate
 * against the trust anchor), 0 when not shown; *why (or NULL) says what was found. */
int dns_servfail_dnssec(struct probe_ctx *ctx, double deadline, const char *name,
    int type, struct ldns_struct_pkt *servfail, char **why);
/* SRV records of name, each as "prio weight port target" (none: 0 and empty out). */
int dns_srv(struct probe_ctx *ctx, const char *name, double deadline, struct strv *out,
    char **cause);
int dns_mx_targets(struct probe_ctx *ctx, const char *domain, double deadline,
    struct strv *targets, char **cause);

/* tls.c: why a TLSA record cannot be used (NULL: it can; OpenSSL's DANE verification
 * decides whether it matches). smtp: RFC 7672 (PKIX-TA/PKIX-EE unusable), else RFC
 * 6698. */
const char *dane_unusable(int usage, int selector, int mtype, size_t len, bool smtp);

/* engine.c: the names a certificate of host h on service svc may carry. */
void svc_names(const struct site *site, const struct host *h, int svc,
    struct strv *names);

/* http.c: one HTTPS request METHOD https://name/path (connected as the other HTTP
 * probes are) with HTTP Basic credentials, never following a redirect; libcurl verifies
 * the certificate and the name, so the credentials never leave unverified or in clear.
 * 0 with *status (the HTTP status), -1 + *cause when no answer came. */
int http_basic_request(struct probe *p, struct presult *r, const char *name,
    const char *method, const char *path, const char *user, const char *pass,
    long *status, char **cause);

/* engine.c: add a probe to the list (name and target are taken). */
struct probe *probe_list_add(struct probe_list *pl, unsigned kind, const char *kindname,
    probe_fn run, const struct host *h, char *name, char *target);

/* login.c: the login probes of [tests] credentials (none without it): one per user in
 * the file x protocol x host (imap pop3 smtp on each Dovecot/Postfix host in hosts, or
 * every host when hosts is NULL or empty) or vhost (activesync ews owa, without a host
 * filter). *creds (owned by the list) holds the passwords; -1 + *cause when the file
 * is refused. */
int login_build(struct probe_list *pl, const struct site *site, const struct strv *hosts,
    struct login_creds **creds, char **cause);

/* The probes. */
void probe_tls_run(struct probe *p, struct presult *r);
void probe_tlsver_run(struct probe *p, struct presult *r);
void probe_dane_run(struct probe *p, struct presult *r);
void probe_smtp_relay_run(struct probe *p, struct presult *r);
void probe_smtp_auth_run(struct probe *p, struct presult *r);
void probe_smtp_accept_run(struct probe *p, struct presult *r);
void probe_dns_mx_run(struct probe *p, struct presult *r);
void probe_dns_autodiscover_run(struct probe *p, struct presult *r);
void probe_dns_srv6186_run(struct probe *p, struct presult *r);
void probe_dns_tlsa_run(struct probe *p, struct presult *r);
void probe_http_autodiscover_run(struct probe *p, struct presult *r);
void probe_http_activesync_run(struct probe *p, struct presult *r);
void probe_http_owa_run(struct probe *p, struct presult *r);
void probe_login_run(struct probe *p, struct presult *r);

#endif
