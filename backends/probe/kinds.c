/* kinds.c: the probe kinds. One row per kind; its bit is 1 << the row, its name is
 * what MXDECK_PROBES and the JSON "kind" say, build adds its probes (engine.c calls it
 * for the site and for each host), run is what a probe_add()ed probe runs. A new kind
 * is one file defining NAME_build and its run function, plus one row here: the macro
 * declares both functions (share/doc/HACKING.md §4.3). */
#include <stdlib.h>
#include <string.h>

#include "backends/probe/kinds.h"

/*	  name		build		run			what it checks */
#define PROBE_KINDS(X) \
	X(dns,		dns_build,	probe_dns_mx_run,	"MX, SRV, Autodiscover CNAME/A, TLSA with DNSSEC") \
	X(tls,		tls_build,	probe_tls_run,		"one handshake per endpoint: protocol, cipher, chain, expiry, name") \
	X(tlsver,	tlsver_build,	probe_tlsver_run,	"one handshake per TLS version against the policy; renegotiation") \
	X(dane,		dane_build,	probe_dane_run,		"published TLSA (validated) against the certificate served") \
	X(smtp,		smtp_build,	probe_smtp_relay_run,	"open relay, AUTH before STARTTLS, postmaster@") \
	X(http,		http_build,	probe_http_owa_run,	"Autodiscover, ActiveSync OPTIONS, OWA") \
	X(mtasts,	mta_sts_build,	probe_mta_sts_run,	"MTA-STS policy over HTTPS, its TXT id, MX coverage, TLS-RPT") \
	X(ocsp,		ocsp_build,	probe_ocsp_run,		"OCSP stapling on the vhosts: response verified, good, fresh; must-staple") \
	X(login,	login_build,	probe_login_run,	"each [tests] credentials user logs in over every protocol: as declared?")

#define DECLARE(name, build, run, what) \
	void build(struct probe_build *); \
	void run(struct probe *, struct presult *);
PROBE_KINDS(DECLARE)

#define INDEX(name, build, run, what) KIND_INDEX_##name,
enum { PROBE_KINDS(INDEX) KIND_COUNT };

#define ROW(name, build, run, what) { #name, 1u << KIND_INDEX_##name, build, run, what },
const struct probe_kind probe_kinds[] = { PROBE_KINDS(ROW) };
const size_t nprobe_kinds = KIND_COUNT;

_Static_assert(KIND_COUNT < 32, "probe_opts.kinds is an unsigned bit mask");

unsigned
probe_kinds_all(void)
{
	return ((1u << KIND_COUNT) - 1);
}

const char *
probe_kind_name(size_t i)
{
	return (i < nprobe_kinds ? probe_kinds[i].name : NULL);
}

const char *
probe_kind_what(size_t i)
{
	return (i < nprobe_kinds ? probe_kinds[i].what : NULL);
}

unsigned
probe_kind_bit(const char *name)
{
	size_t i;

	for (i = 0; i < nprobe_kinds; i++) {
		if (strcmp(probe_kinds[i].name, name) == 0)
			return (probe_kinds[i].bit);
	}
	return (strcmp(name, "all") == 0 ? probe_kinds_all() : 0);
}

int
probe_kinds_parse(const char *s, unsigned *kinds, char **cause)
{
	struct strv w = { 0 };
	struct sbuf names;
	size_t i, j;
	unsigned bit;

	*kinds = 0;
	strv_split_words(&w, s);
	for (i = 0; i < w.n; i++) {
		if ((bit = probe_kind_bit(w.v[i])) != 0) {
			*kinds |= bit;
			continue;
		}
		sb_init(&names);
		for (j = 0; j < nprobe_kinds; j++)
			sb_addf(&names, "%s ", probe_kinds[j].name);
		*cause = xasprintf("unknown probe kind \"%s\" (%sall)", w.v[i], names.s);
		sb_free(&names);
		strv_free(&w);
		return (-1);
	}
	strv_free(&w);
	if (*kinds == 0) {
		*cause = xstrdup("no probe kinds given");
		return (-1);
	}
	return (0);
}
