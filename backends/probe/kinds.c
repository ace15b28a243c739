/* kinds.c: the probe kinds. One row per kind; its bit is 1 << the row, its name is
 * what MXDECK_PROBES and the JSON "kind" say, build adds its probes (engine.c calls it
 * for the site and for each host), run is what a probe_add()ed probe runs, and a 1 in
 * "by default" runs it when neither MXDECK_PROBES nor [tests] probes choose. A new kind
 * is one file defining NAME_build and its run function, plus one row here: the macro
 * declares both functions (share/doc/HACKING.md §4.3). */
#include <stdlib.h>
#include <string.h>

#include "backends/probe/kinds.h"

/*	  name		build		run			by default, what it checks */
#define PROBE_KINDS(X) \
	X(dns,		dns_build,	probe_dns_mx_run,	1, "MX, SRV, Autodiscover CNAME/A, TLSA with DNSSEC") \
	X(tls,		tls_build,	probe_tls_run,		1, "one handshake per endpoint: protocol, cipher, chain, expiry, name") \
	X(tlsver,	tlsver_build,	probe_tlsver_run,	1, "one handshake per TLS version against the policy; renegotiation") \
	X(dane,		dane_build,	probe_dane_run,		1, "published TLSA (validated) against the certificate served") \
	X(smtp,		smtp_build,	probe_smtp_relay_run,	1, "open relay, AUTH before STARTTLS, postmaster@") \
	X(http,		http_build,	probe_http_owa_run,	1, "Autodiscover, ActiveSync OPTIONS, OWA") \
	X(mtasts,	mta_sts_build,	probe_mta_sts_run,	1, "MTA-STS policy over HTTPS, its TXT id, MX coverage, TLS-RPT") \
	X(ocsp,		ocsp_build,	probe_ocsp_run,		1, "OCSP stapling on the vhosts: response verified, good, fresh; must-staple") \
	X(login,	login_build,	probe_login_run,	1, "each [tests] credentials user logs in over every protocol: as declared?") \
	X(vrfy,		vrfy_build,	probe_vrfy_run,		1, "VRFY and EXPN refused on every SMTP port") \
	X(cleartext,	cleartext_build, probe_cleartext_run,	1, "IMAP LOGINDISABLED, POP3 no USER/PASS before STARTTLS") \
	X(ciphers,	ciphers_build,	probe_ciphers_run,	1, "weak cipher suites refused: NULL, anon, EXPORT, RC4, 3DES, non-FS") \
	X(hsts,		hsts_build,	probe_hsts_run,		1, "Strict-Transport-Security on the OWA and ECP paths") \
	X(spf,		spf_build,	probe_spf_run,		1, "SPF of each mail domain passes every Postfix host's address") \
	X(dmarc,	dmarc_build,	probe_dmarc_run,	1, "a DMARC record for each mail domain") \
	X(fcrdns,	fcrdns_build,	probe_fcrdns_run,	0, "PTR of each Postfix host, forward-confirmed, = myhostname") \
	X(caa,		caa_build,	probe_caa_run,		1, "CAA records that let a CA issue for each certificate name") \
	X(dnsbl,	dnsbl_build,	probe_dnsbl_run,	1, "each Postfix host's address in the [tests] dnsbl lists")

#define DECLARE(name, build, run, dflt, what) \
	void build(struct probe_build *); \
	void run(struct probe *, struct presult *);
PROBE_KINDS(DECLARE)

#define INDEX(name, build, run, dflt, what) KIND_INDEX_##name,
enum { PROBE_KINDS(INDEX) KIND_COUNT };

#define ROW(name, build, run, dflt, what) \
	{ #name, 1u << KIND_INDEX_##name, build, run, dflt, what },
const struct probe_kind probe_kinds[] = { PROBE_KINDS(ROW) };
const size_t nprobe_kinds = KIND_COUNT;

_Static_assert(KIND_COUNT < 32, "probe_opts.kinds is an unsigned bit mask");

unsigned
probe_kinds_all(void)
{
	return (1u << KIND_COUNT) - 1;
}

unsigned
probe_kinds_default(void)
{
	unsigned bits = 0;
	size_t i;

	for (i = 0; i < nprobe_kinds; i++)
		if (probe_kinds[i].dflt)
			bits |= probe_kinds[i].bit;
	return bits;
}

const char *
probe_kind_name(size_t i)
{
	return i < nprobe_kinds ? probe_kinds[i].name : NULL;
}

const char *
probe_kind_what(size_t i)
{
	return i < nprobe_kinds ? probe_kinds[i].what : NULL;
}

unsigned
probe_kind_bit(const char *name)
{
	size_t i;

	for (i = 0; i < nprobe_kinds; i++) {
		if (strcmp(probe_kinds[i].name, name) == 0)
			return probe_kinds[i].bit;
	}
	if (strcmp(name, "default") == 0)
		return probe_kinds_default();
	return strcmp(name, "all") == 0 ? probe_kinds_all() : 0;
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
		*cause = xasprintf("unknown probe kind \"%s\" (%sdefault all)", w.v[i],
		    names.s);
		sb_free(&names);
		strv_free(&w);
		return -1;
	}
	strv_free(&w);
	if (*kinds == 0) {
		*cause = xstrdup("no probe kinds given");
		return -1;
	}
	return 0;
}
