/* tlsa-gate.h: the TLSA gate of plan/apply (tlsa-gate.c). */
#ifndef MXDECK_TLSA_GATE_H
#define MXDECK_TLSA_GATE_H

#include "backends/ssh/push.h"

struct xport;

/* What the plan of one host changes about the certificate Postfix serves: the
 * smtpd_tls_cert_file / smtpd_tls_key_file values on the host now (NULL: not set) and
 * what the apply sets (NULL: not managed). */
struct tlsa_gate_in {
	const char *cert_have, *cert_want;
	const char *key_have, *key_want;
};

/* Run the gate for one host after its plan. When the served certificate or key
 * changes on a host with the postfix role whose address is a DNS name, the published
 * TLSA records at _PORT._tcp.ADDRESS for [tls] tlsa_ports (the ports the host serves)
 * are looked up with DNSSEC validation (o->tlsa_lookup); the new certificate must match
 * one of them (OpenSSL's DANE verification: 3 1 1, 3 0 1, 2 x x, ...) wherever records
 * are published. Bogus, unvalidated or failed lookups count as not matching.
 * Returns 0 to go on (notes in r; in plan mode r->tlsa_refused says what an apply
 * would refuse; with o->force_tlsa r->tlsa_forced says what breaks), -1 with *cause
 * when an apply must stop before changing anything. */
int tlsa_gate(struct xport *x, const struct site *site, const struct host *host,
    const struct push_opts *o, const struct tlsa_gate_in *in, struct push_result *r,
    char **cause);

#endif
