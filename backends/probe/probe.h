/* probe.h: live connectivity tests (mxdeck(1) test; share/doc/HACKING.md §4.3).
 *
 * Build the list of probes a profile implies (optionally only for some hosts), then run
 * them all concurrently in this process with a per-probe timeout and an overall
 * deadline. Each result is handed to a callback the moment its probe finishes.
 *
 * Engine: a bounded pool of worker threads (opts.jobs, default 32). Each probe is plain
 * sequential code over non-blocking sockets: every connect, read, write and TLS
 * handshake step waits in poll() for at most min(probe deadline, run deadline), so a
 * silent or half-dead server can never hold a worker past its timeout. Why threads and
 * not one poll loop: a handshake costs ~0.7-1 ms of OpenSSL 3 CPU in the client and
 * about as much in the server, and 98% of the client's time is inside libcrypto/libc
 * (perf), so an event loop would save thread stacks, not time; sequential code keeps
 * the STARTTLS/SMTP/IMAP dialogues readable. On 2 cores 8-32 workers sweep fastest
 * (tests/bench/probe.sh prints the curve); 32 also overlaps real network latency.
 *
 * Usage:
 *	struct probe_list *pl;
 *	if (probe_list_build(site, &opts, &pl, &cause) != 0) ...
 *	probe_run(pl, &opts, on_result, arg, &sum);
 *	probe_list_free(pl);
 */
#ifndef MXDECK_PROBE_H
#define MXDECK_PROBE_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>

#include "profiles/site.h"

enum probe_status { PROBE_OK, PROBE_WARN, PROBE_FAIL };
extern const char *const probe_status_names[3];	/* "ok", "warn", "fail" */

/* Probe kinds, to run a subset (opts.kinds): the rows of probe_kinds[] in
 * backends/probe/kinds.c (dns tls tlsver dane smtp http ...), each a bit of the mask. */
/* Parse "tls,dns" (kind names, "default" or "all"); -1 + *cause naming the known kinds. */
int probe_kinds_parse(const char *s, unsigned *kinds, char **cause);
/* The bit of the kind called name ("all": every kind), 0 if there is none. */
unsigned probe_kind_bit(const char *name);
unsigned probe_kinds_all(void);
/* The kinds that run when neither opts.kinds nor [tests] probes choose: those of the
 * table marked so (the peers' checks are asked for by name, or with "all"). */
unsigned probe_kinds_default(void);
/* Row i of the table (NULL past the end): its name and one line on what it checks. */
const char *probe_kind_name(size_t i);
const char *probe_kind_what(size_t i);

/* A certificate the server sent (tls probes), as fields; leaf first. */
struct probe_cert {
	int	 depth;		/* 0: the leaf */
	const char *subject;	/* "CN=smtp.lab.test (DNS:smtp.lab.test, ...)" */
	const char *key_type;	/* "RSA", "EC", "ED25519", ... */
	const char *key_group;	/* EC: the curve ("prime256v1"); else "" */
	int	 key_bits;
	int	 security_bits;	/* of the key (OpenSSL: RSA-2048 112, RSA-1024 80) */
	const char *signature;	/* "sha256WithRSAEncryption" */
	int	 signature_security_bits;	/* SHA-1 63, SHA-256 128; -1 unknown */
	bool	 self_signed;
};

struct probe_result {
	size_t	 index;		/* position in the probe list */
	enum probe_status status;
	const char *kind;	/* the kind's name: "dns" "tls" ... (static) */
	const char *name;	/* what is tested: "tls smtp", "mx", "open-relay" ... */
	const char *host;	/* profile host name, or NULL for site-wide probes */
	const char *target;	/* where: "127.0.0.1:25", "_25._tcp.mx.example.org" */
	const char *summary;	/* one line, no newline */
	const char *details;	/* several lines, each ending in '\n'; may be "" */
	double	 duration;	/* seconds the probe took */
	int	 handshakes;	/* TLS handshakes this probe completed (libcurl's not
				 * counted; refused version probes not counted) */
	const struct probe_cert *certs;	/* tls probes: the chain sent, as fields */
	size_t	 ncerts;
	int	 reach;		/* host probes: 1 connected to the host at least once,
				 * -1 tried and never could (address lookup or TCP
				 * connect failed), 0 made no attempt or stopped at
				 * DNSSEC-bogus address records (a failed test, not
				 * an unreachable host) */
	bool	 has_cert_days;	/* a server certificate was read: */
	int	 cert_days;	/* whole days until its notAfter (negative: expired) */
	bool	 has_handshake;	/* a TLS handshake completed (tls, tlsver, dane): */
	double	 handshake_ms;	/* how long the probe's first one took */
	char	 protocol[16];	/* tls: the version negotiated ("TLSv1.3"); "" none */
	char	 cipher[64];	/* tls: the cipher negotiated; "" none */
	bool	 has_protocols;	/* tlsver tested every version: */
	unsigned tls_accepted;	/* TLSP_BIT (profiles/tlsproto.h) of the versions the
				 * server accepted, */
	unsigned tls_allowed;	/* and of those the profile allows */
};

struct probe_opts {
	double	 timeout;	/* per probe, seconds (0: 10) */
	double	 deadline;	/* the whole run, seconds (0: 120) */
	int	 http_port;	/* plain-http port for the Autodiscover redirect step,
				 * over the hosts' probe_ports http
				 * (0: 80; a lab on loopback sets another) */
	int	 jobs;		/* worker threads (0: 32; capped at the number of probes) */
	const struct strv *hosts;	/* only these hosts (NULL or empty: all) */
	unsigned kinds;		/* probe_kinds_parse() bits (0: [tests] probes, else
				 * probe_kinds_default()) */
	atomic_int *cancel;	/* optional: set non-zero to stop early (remaining probes
				 * fail with "cancelled") */
	/* Where each host's probes connect, by index in site->hosts: the ssh_config
	 * HostName when the profile's address is an ssh alias (the front end resolves
	 * it). NULL, or a NULL entry: the address as written. Kept by the probe list:
	 * keep it alive as long as the list. */
	const char *const *addresses;
};

struct probe_summary {
	size_t	 n, nok, nwarn, nfail;
	int	 handshakes;	/* sum of probe_result.handshakes */
	double	 wall;		/* seconds */
};
/* ,"summary":{...} for a --json document: the counts and the wall time. */
struct sbuf;
void probe_summary_json(struct sbuf *b, const struct probe_summary *s);

/* Trust: certificate chains are verified against OpenSSL's default store; the
 * environment variables SSL_CERT_FILE / SSL_CERT_DIR replace it (and SSL_CERT_FILE is
 * handed to libcurl as its CA file), which is how the lab trusts its own CA; [tests] ca
 * is added to that store (and is libcurl's CA file when set). DNSSEC is
 * validated against [site] trust_anchor (DNSKEY or DS lines; default
 * /usr/share/dns/root.key). Names are resolved by ldns through [site] resolver (or
 * /etc/resolv.conf); libcurl connects to the address ldns found (CURLOPT_CONNECT_TO,
 * which also maps port 443 to the https port in the host's probe_ports). */

struct probe_list;

/* [tests] credentials: the test users' passwords (backends/probe/login.c). The file
 * must be a regular file owned by the invoking user with no group/other permission
 * bits (0600 or 0400); lines are "address:password" (blank lines and lines starting
 * with '#' skipped), every address a user of the profile. The passwords stay in this
 * memory only (wiped by login_creds_free); no message ever quotes a line. */
struct login_cred {
	char	*address;
	char	*password;
	int	 line;
};
struct login_creds {
	char	*path;
	struct login_cred *v;
	size_t	 n;
};
/* 0 with *out filled; -1 + *cause (one "FILE: ..." or "FILE:LINE: ..." line per
 * problem, each saying what to do), *out then empty. */
int login_creds_load(const char *path, const struct site *site, struct login_creds *out,
    char **cause);
void login_creds_free(struct login_creds *c);

/* Build the probes for site. Fails (-1, *cause) when a --host filter names a host the
 * profile does not have, or a kind's build refuses (login: [tests] credentials is
 * refused, login_creds_load): then nothing may be contacted. The list keeps pointers into site: keep site alive. */
int probe_list_build(const struct site *site, const struct probe_opts *opts,
    struct probe_list **plp, char **cause);
size_t probe_list_count(const struct probe_list *pl);
/* "kind name host target" of probe i, e.g. for the console to show pending rows. */
const char *probe_list_kind(const struct probe_list *pl, size_t i);
const char *probe_list_name(const struct probe_list *pl, size_t i);
const char *probe_list_target(const struct probe_list *pl, size_t i);
void probe_list_free(struct probe_list *pl);

/* The result callback. It is called once per probe, from a WORKER THREAD, never from
 * two threads at once (the engine serialises calls with a lock), in completion order.
 * The result and its strings are valid only during the call: copy what you keep
 * (probe_result_dup). Keep it short: workers wait while it runs. The console should
 * post a copy to its own queue and wake its loop. */
typedef void (*probe_cb)(const struct probe_result *r, void *arg);

/* Run every probe; blocks the calling thread until all are done. Every wait a probe
 * makes (connect, read, handshake, DNS query, HTTP request) is bounded by
 * min(its own timeout, the run deadline), so probe_run returns shortly after the
 * deadline at the latest; probes not started by then fail with "overall deadline
 * reached". Worker threads block SIGPIPE; libcurl is initialised (and released) here,
 * so do not call it while another thread in the process is in the middle of
 * curl_global_init. */
void probe_run(struct probe_list *pl, const struct probe_opts *opts, probe_cb cb,
    void *arg, struct probe_summary *sum);

/* A TLSA RRset as looked up by the DANE probes and push's TLSA gate. */
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
void tlsa_set_free(struct tlsa_set *s);
/* The TLSA RRset at qname ("_25._tcp.mx.example.org") through [site] resolver (or
 * /etc/resolv.conf), DNSSEC-validated against [site] trust_anchor by the same code as
 * the dane probes; every wait bounded by timeout seconds (0: 10). 0 with *out filled
 * (n may be 0), -1 + *cause when no usable answer came (no resolver, a timeout, a
 * SERVFAIL: with the DNSSEC reason when the data does not validate here). */
int probe_tlsa_lookup(const struct site *site, const char *qname, double timeout,
    struct tlsa_set *out, char **cause);

struct probe_result *probe_result_dup(const struct probe_result *r);
void probe_result_free(struct probe_result *r);

/* One result as a JSON object (no trailing newline), caller frees. The certificates, if
 * any, are a "certs" array of objects (depth, subject, key_type, key_group, key_bits,
 * security_bits, signature, signature_security_bits, self_signed). */
char *probe_result_json(const struct probe_result *r);

#endif
