/* kinds.h: the probe kinds (probe_kinds[] in kinds.c) and what a kind's build
 * function uses to add its probes to the list (engine.c). A new kind is one new file
 * with a build and a run function plus one row in kinds.c (share/doc/HACKING.md §4.3). */
#ifndef MXDECK_PROBE_KINDS_H
#define MXDECK_PROBE_KINDS_H

#include "backends/probe/net.h"
#include "backends/probe/result.h"

/* The services a probe may test: the TLS ones of the profile's service table
 * (host_services in profiles/site.c gives their names, standard ports and roles), in its
 * order; how each starts TLS is svc_wraps[]. */
enum svc {
	SVCP_SMTP = HS_SMTP, SVCP_SUBMISSION = HS_SUBMISSION, SVCP_SMTPS = HS_SMTPS,
	SVCP_IMAPS = HS_IMAPS, SVCP_POP3S = HS_POP3S, SVCP_IMAP = HS_IMAP, SVCP_POP3 = HS_POP3,
	SVCP_HTTPS = HS_HTTPS, SVCP_COUNT
};
extern const enum wrap svc_wraps[SVCP_COUNT];
int svc_from_name(const char *name);	/* -1 if unknown */
int svc_from_stdport(int port);		/* -1 if none */

struct probe;
struct probe_build;
typedef void (*probe_fn)(struct probe *p, struct presult *r);

/* One row of probe_kinds[]. */
struct probe_kind {
	const char *name;	/* in MXDECK_PROBES, the result's "kind", the JSON id */
	unsigned bit;		/* 1 << its row: probe_opts.kinds */
	/* Add the kind's probes: called once for the site-wide pass (b->host NULL) and
	 * once per host (--host filters hosts; the site pass runs only without it). */
	void	(*build)(struct probe_build *b);
	probe_fn run;		/* what probe_add gives a probe (the build may set another) */
	bool	 dflt;		/* runs when nothing chooses the kinds */
	const char *what;	/* one line: what the kind checks */
};
extern const struct probe_kind probe_kinds[];
extern const size_t nprobe_kinds;

/* One probe in the list. Parameters a kind of its own needs go in data (owned,
 * freed with data_free); the common ones below are shared by the endpoint kinds. */
struct probe {
	const struct probe_kind *kind;
	char	*name;		/* what is tested: "tls smtp", "mx", "open-relay" */
	char	*target;	/* where: "127.0.0.1:25", "_25._tcp.mx.example.org" */
	const struct host *host;	/* NULL: site-wide */
	probe_fn run;
	struct probe_ctx *ctx;		/* set by probe_run */

	int	 svc;		/* enum svc, or -1 */
	int	 port;		/* where to connect */
	int	 stdport;	/* the service's standard port (TLSA owner name) */
	char	*sni;		/* name for SNI and the hostname check, or NULL */
	struct strv names;	/* acceptable certificate names */
	unsigned policy;	/* TLS versions the profile allows (TLSP_BIT) */
	char	*policy_src;	/* "[tls] smtpd_protocols = >=TLSv1.2" */
	char	*domain;	/* DNS/HTTP: the domain in question */
	const struct vhost *vh;	/* https endpoints: the vhost, else NULL */
	const struct autodiscover *ad;
	int	 variant;	/* which check of the kind (http autodiscover: enum ad_step) */
	void	*data;
	void	(*data_free)(void *);
};

/* An endpoint of a host: a probe_ports service its roles serve, on a port not "off". */
struct probe_ep {
	int	 svc;
	int	 port;
	const struct vhost *vh;	/* eps[] only: the vhost of an https port, or NULL */
};

/* What a build function gets. */
struct probe_build {
	const struct site *site;
	const struct probe_kind *kind;
	const struct host *host;	/* NULL: the site-wide pass */
	const char *addr;		/* the host's address ("local": 127.0.0.1) */
	unsigned roles;			/* the host's roles (none given: all) */
	const struct probe_ep *ports;	/* one per probe_ports entry, in order */
	size_t	 nports;
	const struct probe_ep *eps;	/* the same with https once per vhost it serves */
	size_t	 neps;
	struct probe_list *pl;
	char	*cause;		/* a build that refuses sets it (the run does not start:
				 * probe_list_build fails with it) */
};
/* Add a probe of b->kind (run: the kind's run) on b->host; takes name and target. */
struct probe *probe_add(struct probe_build *b, char *name, char *target);
/* A probe of the TLS service on ep: name "WHAT SERVICE", target "ADDR:PORT" (with
 * " (VHOST)"), the names its certificate may carry and the SNI to send. */
struct probe *probe_add_svc(struct probe_build *b, const char *what,
    const struct probe_ep *ep);
/* The names a certificate of host h (reached at addr) on service svc may carry. */
void svc_names(const struct site *site, const struct host *h, const char *addr, int svc,
    struct strv *names);
/* The port of service svc on the host (the last probe_ports entry), 0: none. */
int probe_build_port(const struct probe_build *b, int svc);

#endif
