/* probe-int.h: what the probe kinds' files share (not for callers; they use probe.h):
 * results and the clock (result.h), the run and the network (net.h), the kind table
 * and the build helpers (kinds.h), and the DNS and DANE helpers below. */
#ifndef MXDECK_PROBE_INT_H
#define MXDECK_PROBE_INT_H

#include <curl/curl.h>

#include "backends/probe/kinds.h"
#include "backends/probe/net.h"
#include "backends/probe/result.h"

/* The Autodiscover lookup steps, in Outlook's order. */
enum ad_step {
	AD_STEP_DOMAIN,		/* POST https://DOMAIN/autodiscover/autodiscover.xml */
	AD_STEP_AUTODISCOVER,	/* POST https://autodiscover.DOMAIN/... */
	AD_STEP_REDIRECT,	/* GET http://autodiscover.DOMAIN/...: 302 to https */
	AD_STEP_SRV,		/* _autodiscover._tcp.DOMAIN SRV target */
	AD_STEP_COUNT
};

/* http.c: libcurl requests that connect where ldns resolved the name (https on 443:
 * the https probe port of the profile host at that address; bodies over 1 MB are cut;
 * redirects are not followed). */
struct http_body {
	struct sbuf b;		/* the body (at most 1 MiB) */
	struct sbuf hdr;	/* the header lines of every response (at most 64 KiB) */
};
/* An easy handle for SCHEME://name[:urlport]/path collecting into b (caller frees *sl
 * with curl_slist_free_all and the handle); NULL + *cause when name does not resolve. */
CURL *http_handle(struct probe *p, struct presult *r, const char *scheme,
    const char *name, int urlport, const char *path, struct http_body *b,
    struct curl_slist **sl, char **cause);
/* The value of the first header NAME in hdrs (trimmed, cut at len - 1). */
bool header_value(const char *hdrs, const char *name, char *out, size_t len);

/* An Autodiscover section's domain and its also domains, without repeats (appended). */
void ad_domains(const struct autodiscover *ad, struct strv *doms);

/* The site's mail domains: [site] domain, then each Autodiscover domain and its also
 * domains, without repeats (appended). */
void mail_domains(const struct site *site, struct strv *doms);

/* dns.c: TLSA with DNSSEC validation (struct tlsa_set: probe.h), MX targets. */
/* 0 with out filled (n may be 0: no record), -1 + *cause when the lookup failed. */
int dns_tlsa(struct probe_ctx *ctx, const char *qname, double deadline,
    struct tlsa_set *out, char **cause);
/* SRV records of name, each as "prio weight port target" (none: 0 and empty out). */
int dns_srv(struct probe_ctx *ctx, const char *name, double deadline, struct strv *out,
    char **cause);
/* The records of type (an ldns_rr_type: LDNS_RR_TYPE_TXT ...) at name, each as one
 * string: TXT its character-strings joined as they are; CAA "FLAGS TAG VALUE"; other
 * types the rdata fields in presentation form. 0 (out may stay empty; *nx, when not
 * NULL, says NXDOMAIN), -1 + *cause. No DNSSEC validation. */
int dns_records(struct probe_ctx *ctx, const char *name, int type, double deadline,
    struct strv *out, bool *nx, char **cause);
/* The reverse-lookup name of an address ("4.3.2.1.in-addr.arpa", "...ip6.arpa"). */
char *dns_reverse_name(const struct sockaddr_storage *ss);
int dns_mx_targets(struct probe_ctx *ctx, const char *domain, double deadline,
    struct strv *targets, char **cause);

/* The port of service (a probe_ports name: smtp, https, ...) of the profile host at
 * addr, else dflt. */
struct sockaddr_storage;
int host_svc_port(struct probe *p, struct presult *r, const struct sockaddr_storage *addr,
    const char *service, int dflt);
/* TXT records of name, each one's strings joined (none: 0 and empty out). */
int dns_txt(struct probe_ctx *ctx, const char *name, double deadline, struct strv *out,
    char **cause);

/* http.c: one HTTPS request METHOD https://name/path (connected as the other HTTP
 * probes are) with HTTP Basic credentials, never following a redirect; libcurl verifies
 * the certificate and the name, so the credentials never leave unverified or in clear.
 * 0 with *status (the HTTP status), -1 + *cause when no answer came. */
int http_basic_request(struct probe *p, struct presult *r, const char *name,
    const char *method, const char *path, const char *user, const char *pass,
    long *status, char **cause);

/* tls.c: why a TLSA record cannot be used (NULL: it can; OpenSSL's DANE verification
 * decides whether it matches). smtp: RFC 7672 (PKIX-TA/PKIX-EE unusable), else RFC
 * 6698. */
const char *dane_unusable(int usage, int selector, int mtype, size_t len, bool smtp);

#endif
