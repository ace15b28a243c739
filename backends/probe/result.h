/* result.h: the result a probe fills, and the clock every wait is measured against.
 * Depends on nothing else in backends/probe/ (probe.h only for the public result
 * types), so the engine, the network helpers and every probe kind can use it without
 * seeing each other. */
#ifndef MXDECK_PROBE_RESULT_H
#define MXDECK_PROBE_RESULT_H

#include <stdatomic.h>
#include <stdbool.h>

#include "backends/probe/probe.h"
#include "profiles/util.h"

/* Monotonic seconds: every deadline in the probes is on this clock. */
double mono_now(void);

struct probe_ctx;

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
	bool	 has_handshake;	/* probe_result.handshake_ms */
	double	 handshake_ms;
	char	 protocol[16];	/* probe_result.protocol, cipher */
	char	 cipher[64];
	bool	 has_protocols;	/* probe_result.tls_accepted, tls_allowed */
	unsigned tls_accepted, tls_allowed;
	double	 deadline;	/* monotonic seconds: min(probe timeout, run deadline) */
	atomic_int *cancel;	/* the run's cancel flag, or NULL */
	struct probe_ctx *ctx;	/* the run (backends/probe/net.h), for the probe's use */
	struct probe_cert *certs;	/* owned (pr_cert) */
	size_t	 ncerts;
};
/* An empty result with its deadline; pr_free releases what it collected. */
void pr_init(struct presult *r, double deadline, atomic_int *cancel,
    struct probe_ctx *ctx);
void pr_free(struct presult *r);
void pr_note(struct presult *r, enum probe_status st, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
void pr_summary(struct presult *r, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* Append to the summary, separated by ", ". */
void pr_sumadd(struct presult *r, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* The probe's deadline has come or the run was cancelled. */
bool pr_expired(const struct presult *r);
/* Add a certificate's fields (strings copied; server text made printable). */
void pr_cert(struct presult *r, const struct probe_cert *c);
/* Record whether a connection to the probe's host worked (probe_result.reach). */
void pr_reach(struct presult *r, bool ok);
/* Make summary and details printable (server text reaches a terminal only so). */
void pr_sanitize(struct presult *r);

#endif
