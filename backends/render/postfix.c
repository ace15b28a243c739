/* postfix.c: the Postfix renderer (share/doc/HACKING.md §4.2).
 *
 * main.cf and master.cf are never replaced. Three merge files carry every setting, one
 * per line, in the argument syntax of postconf(1); the push code applies them in this
 * order (tests/lab/postfix-merge.sh is the reference):
 *   mxdeck.postconf       "name = value"              postconf -c DIR -e LINE...
 *   mxdeck.master         "service/type = entry"      postconf -c DIR -M -e LINE...
 *   mxdeck.master-params  "service/type/name=value"   postconf -c DIR -P -e LINE...
 * Lines starting with '#' and empty lines are comments. -M comes before -P because
 * Debian's stock master.cf has submission and smtps commented out: "postconf -P" fails
 * with "unmatched service_name/type" until the service exists. "postconf -P" refuses
 * white space in a value, so every list a service needs is a main.cf parameter named
 * mxdeck_* that the service references as $mxdeck_* (which also keeps "postconf -n"
 * from warning about an unused parameter). The applied merge files stay in postfix_dir:
 * on the next push, every left-hand side that the new files no longer have is removed
 * first with postconf -X / -PX / -MX (postfix-merge.sh DIR SRC OLD), so dropping a
 * connector or a header-rule section leaves no stale reference behind [tested].
 *
 * Maps are texthash: and pcre: (read when a daemon starts; `postfix reload` picks up a
 * change; no postmap step), all flat in postfix_dir with an mxdeck_ prefix:
 *   mxdeck_msa_header_checks.pcre   [header-rules] scope = authenticated: a dedicated
 *	cleanup service msa_cleanup, wired to submission and smtps with
 *	cleanup_service_name; runs before any signing milter, so DKIM stays intact.
 *   mxdeck_smtp_header_checks.pcre  scope = outbound: smtp_header_checks.
 *   mxdeck_always_accept            "postmaster@ OK": the user@ form matches every
 *	domain. Consulted first in smtpd_recipient_restrictions; relaying is decided
 *	earlier by smtpd_relay_restrictions (reject_unauth_destination), so an OK here
 *	can never open a relay (postmaster@foreign.example is rejected before it).
 *   mxdeck_sasl_access              "user@domain REJECT ...": users with smtp off.
 *	check_sasl_access runs before permit_sasl_authenticated in the relay
 *	restrictions of submission and smtps ($mxdeck_msa_relay_restrictions); port 25
 *	gets smtpd_sasl_auth_enable = no. Always rendered (maybe empty).
 *   mxdeck_transport                "D discard:..." and ".D discard:...": the default
 *	route of a connector domain, taken by any message the tenant check did not FILTER.
 *   mxdeck_connectors               "D mxdeck_connector_N" (a restriction class).
 *   mxdeck_connector_filter         "D FILTER mxdeck_reinject:[127.0.0.1]:PORT".
 *   mxdeck_connector_N_certs        "FINGERPRINT mxdeck_connector_ca": client_fingerprints.
 *   mxdeck_connector_N.pcre         the tenant check for connector N (1-based).
 *
 * Connector acceptance (the Office 365 fax connector). Mail for a connector domain D comes from Microsoft
 * 365; every tenant shares the same servers and certificate, so both the certificate
 * and the tenant header are checked, and only a positive match reaches the smarthost:
 *  1. RCPT time, in the session: smtpd_relay_restrictions (port 25) and
 *     $mxdeck_msa_relay_restrictions (submission, smtps) look D up in mxdeck_connectors
 *     first, before permit_mynetworks and permit_sasl_authenticated, so no local client
 *     skips the check. The class mxdeck_connector_N is "reject_plaintext_session,
 *     check_recipient_access texthash:mxdeck_connector_filter, permit_tls_all_clientcerts,
 *     reject": TLS, a client certificate that verifies against smtpd_tls_CAfile =
 *     client_ca (never the system bundle; Postfix verifies up to a self-signed root, so
 *     the file needs the root [tested]), and the FILTER. With client_fingerprints the
 *     certificate check is "check_ccert_access texthash:mxdeck_connector_N_certs, reject",
 *     and each pinned fingerprint leads to the class mxdeck_connector_ca
 *     ("permit_tls_all_clientcerts, reject"): the pin and the CA.
 *  2. Header time, after acceptance: smtpd cannot check a header per recipient, and
 *     header_checks cannot see a header that is absent (no milter here). The FILTER
 *     sends a message for D through mxdeck_reinject (an smtp client without TLS or
 *     header rewriting) to a loopback smtpd 127.0.0.1:PORT whose own cleanup
 *     (mxdeck_connN_cleanup) has header_checks
 *	 /^X-MS-Exchange-CrossTenant-Id:\s*<tenant>\s*$/  FILTER mxdeck_smarthost:<smarthost>
 *	 /^X-MS-Exchange-CrossTenant-Id\s*:/              DISCARD ...
 *     The smarthost route exists only as that FILTER: any other tenant id, also next to
 *     the right one (DISCARD is final whatever the order), discards the message; without
 *     the header there is no FILTER and mxdeck_transport discards it. Nothing is bounced
 *     (a bounce would go to a possibly forged sender). nested/mime_header_checks are
 *     emptied in that cleanup so that an attached message of another tenant is not
 *     mistaken for the sender. PORT = 10040 + N.
 * Other recipients of a message for D share its route (Postfix filters per message).
 * Tested end to end on Postfix 3.7 in tests/integration/postfix-live.sh (plaintext, no
 * or a foreign certificate, local clients refused at RCPT; own tenant delivered to a
 * smarthost sink; foreign, missing and duplicate tenant headers discarded, no bounce). */
#include "backends/render/render.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "profiles/hdrtest.h"
#include "profiles/tlsproto.h"

#define REINJECT_PORT_BASE	10040
#define CA_BUNDLE		"/etc/ssl/certs/ca-certificates.crt"
#define ROLE_NAME		"postfix"

struct pf {
	const struct render_ctx *ctx;
	const struct site *site;
	const char *dir;		/* postfix_dir without trailing '/' */
	struct fileset *fs;
	struct sbuf main, master, params;
};

static char *
pf_path(const struct pf *pf, const char *name)
{
	return xasprintf("%s/%s", pf->dir, name);
}

static struct rfile *
pf_add(struct pf *pf, const char *name, enum file_kind kind)
{
	char *path = pf_path(pf, name);
	struct rfile *f = fileset_add(pf->fs, ROLE_NAME, path, 0644, kind);

	free(path);
	sb_addf(&f->data, "# Generated by mxdeck from profile \"%s\"; do not edit: the next "
	    "push overwrites it.\n", pf->site->name != NULL ? pf->site->name : "");
	return f;
}

/* A word that can stand in a postconf value, a map key or a map value. */
static bool
word_ok(const char *s)
{
	if (s == NULL || *s == '\0')
		return false;
	for (; *s != '\0'; s++) {
		unsigned char c = (unsigned char)*s;

		if (c <= 0x20 || c >= 0x7f || c == ',' || c == '#' || c == '$' || c == '\\')
			return false;
	}
	return true;
}

/* Why s is not a word_ok() word, for a message ("'$' (...)", "a space"); NULL when it
 * is one. */
static char *
word_bad(const char *s)
{
	if (s == NULL || *s == '\0')
		return xstrdup("nothing (it is empty)");
	for (; *s != '\0'; s++) {
		unsigned char c = (unsigned char)*s;

		if (c == ' ')
			return xstrdup("a space");
		if (c < 0x20 || c == 0x7f)
			return xasprintf("a control character (byte 0x%02x)", c);
		if (c >= 0x80)
			return xasprintf("a non-ASCII byte (0x%02x)", c);
		if (c == ',')
			return xstrdup("a comma");
		if (c == '#')
			return xstrdup("'#' (Postfix would read the rest as a comment)");
		if (c == '$')
			return xstrdup("'$' (Postfix would expand it as a $parameter)");
		if (c == '\\')
			return xstrdup("a backslash");
	}
	return NULL;
}

static bool
domain_ok(const char *s)
{
	if (s == NULL || *s == '\0' || *s == '.' || *s == '-' || strlen(s) > 253)
		return false;
	for (; *s != '\0'; s++)
		if (!isalnum((unsigned char)*s) && *s != '.' && *s != '-')
			return false;
	return true;
}

static bool
guid_ok(const char *s)
{
	if (s == NULL || strlen(s) != 36)
		return false;
	for (int i = 0; i < 36; i++) {
		if (i == 8 || i == 13 || i == 18 || i == 23) {
			if (s[i] != '-')
				return false;
		} else if (!isxdigit((unsigned char)s[i]))
			return false;
	}
	return true;
}

static void
add_lower(struct sbuf *b, const char *s)
{
	for (; *s != '\0'; s++)
		sb_addc(b, (char)tolower((unsigned char)*s));
}

/* master.cf service name for a port: the well-known name at the default port. */
static char *
service_name(int port, int dflt, const char *name)
{
	if (port == dflt)
		return xstrdup(name);
	return xasprintf("%d", port);
}

/* mynetworks entry: IPv6 addresses go in brackets ("[2001:db8::]/32"). */
static int
add_network(const struct pf *pf, struct sbuf *b, const char *net, char **cause)
{
	const struct access_policy *ac = &pf->site->access;

	const char *slash = strchr(net, '/');
	size_t alen = slash != NULL ? (size_t)(slash - net) : strlen(net);

	for (const char *p = net; *p != '\0'; p++)
		if (!isxdigit((unsigned char)*p) && strchr(".:/[]", *p) == NULL) {
			return render_refuse(pf->ctx, cause, pf->site->path,
			    site_word_line(pf->site, ac->line, "relay_networks", net),
			    "[access] relay_networks: \"%s\" is not an address or CIDR network",
			    net);
		}
	if (memchr(net, ':', alen) != NULL && net[0] != '[')
		sb_addf(b, " [%.*s]%s", (int)alen, net, slash != NULL ? slash : "");
	else
		sb_addf(b, " %s", net);
	return 0;
}

static int
protocols(const struct pf *pf, const char *list, const char *key, char **out, char **cause)
{
	unsigned mask;
	char *why = NULL;

	if (tls_protocols_parse(list, &mask, &why) == -1) {
		(void)render_refuse(pf->ctx, cause, pf->site->path,
		    site_key_line(pf->site, pf->site->tls.line, key), "[tls] %s: %s", key, why);
		free(why);
		return -1;
	}
	*out = tls_protocols_format(mask, pf->ctx->postfix_version);
	return 0;
}

static int
render_tls(struct pf *pf, char **cause)
{
	const struct tls_policy *tls = &pf->site->tls;
	const char *ver = pf->ctx->postfix_version;
	char *smtpd = NULL, *smtp = NULL;
	int rc = 0;

	if (tls->certificate != NULL) {
		if (!word_ok(tls->certificate) || (tls->key != NULL && !word_ok(tls->key))) {
			bool cert = !word_ok(tls->certificate);
			char *why = word_bad(cert ? tls->certificate : tls->key);

			rc = render_refuse(pf->ctx, cause, pf->site->path,
			    site_key_line(pf->site, tls->line, cert ? "certificate" : "key"),
			    "[tls] the %s path contains %s: Postfix cannot use it",
			    cert ? "certificate" : "key", why);
			free(why);
		}
		sb_addf(&pf->main, "smtpd_tls_cert_file = %s\n", tls->certificate);
		sb_addf(&pf->main, "smtpd_tls_key_file = %s\n",
		    tls->key != NULL ? tls->key : "$smtpd_tls_cert_file");
		sb_add(&pf->main, "smtpd_tls_security_level = may\n");
	}
	if (protocols(pf, tls->smtpd_protocols != NULL ? tls->smtpd_protocols : ">=TLSv1.2",
	    "smtpd_protocols", &smtpd, cause) == -1)
		rc = -1;
	if (protocols(pf, tls->smtp_protocols != NULL ? tls->smtp_protocols : ">=TLSv1.2",
	    "smtp_protocols", &smtp, cause) == -1)
		rc = -1;
	if (rc == -1) {
		free(smtpd);
		free(smtp);
		return -1;
	}
	sb_addf(&pf->main, "smtpd_tls_protocols = %s\n", smtpd);
	sb_addf(&pf->main, "smtpd_tls_mandatory_protocols = %s\n", smtpd);
	sb_addf(&pf->main, "smtp_tls_protocols = %s\n", smtp);
	sb_addf(&pf->main, "smtp_tls_mandatory_protocols = %s\n", smtp);
	free(smtpd);
	free(smtp);
	/* The server's cipher policy (TLS 1.2; every TLS 1.3 suite is strong). On every
	 * port: no NULL, anonymous, EXPORT, RC4, DES/3DES (SWEET32), IDEA, SEED, MD5,
	 * PSK, SRP or DSS suites. Port 25 is opportunistic TLS (RFC 7435, RFC 7672):
	 * suites without forward secrecy stay there, because a sender whose only
	 * common suite is one of them would otherwise fall back to plain text (Postfix's
	 * TLS_README keeps them for the same reason). Mandatory TLS (submission with
	 * "encrypt", smtps in wrapper mode) takes the "high" grade without RSA or
	 * static (EC)DH key exchange: forward secrecy only. */
	sb_add(&pf->main, "smtpd_tls_exclude_ciphers = aNULL, eNULL, EXPORT, RC4, DES, 3DES, "
	    "IDEA, SEED, MD5, PSK, SRP, DSS\n");
	sb_add(&pf->main, "smtpd_tls_mandatory_ciphers = high\n");
	sb_add(&pf->main, "smtpd_tls_mandatory_exclude_ciphers = kRSA, kECDHr, kECDHe, kDHr, "
	    "kDHd\n");
	sb_add(&pf->main, "tls_preempt_cipherlist = yes\n");
	/* SSL_OP_NO_RENEGOTIATION has a name only from Postfix 3.4 on. */
	if (tls->no_renegotiation)
		sb_addf(&pf->main, "tls_ssl_options = %s\n",
		    postfix_version_cmp(ver, "3.4") >= 0 ? "NO_RENEGOTIATION" : "0x40000000");
	else
		sb_add(&pf->main, "tls_ssl_options =\n");
	if (tls->dane) {
		sb_add(&pf->main, "smtp_dns_support_level = dnssec\n");
		sb_add(&pf->main, "smtp_tls_security_level = dane\n");
	} else {
		sb_add(&pf->main, "smtp_dns_support_level =\n");
		sb_add(&pf->main, "smtp_tls_security_level = may\n");
	}
	return 0;
}

static int
render_header_rules(struct pf *pf, int scope, const char *file, char **cause, bool *any)
{
	const struct site *site = pf->site;
	struct rfile *f = NULL;
	int rc = 0;

	*any = false;
	for (size_t s = 0; s < site->nhrules; s++) {
		const struct header_rules *hr = &site->hrules[s];

		if ((int)hr->scope != scope)
			continue;
		for (size_t i = 0; i < hr->nrules; i++) {
			const struct header_rule *r = &hr->rules[i];
			const char *t = r->text;
			char *why = NULL;

			while (*t == ' ' || *t == '\t')
				t++;
			if (strchr(t, '\n') != NULL || hdrtest_check_rule(r, &why) == -1) {
				rc = render_refuse(pf->ctx, cause, site->path, r->line,
				    "[header-rules \"%s\"] rule: %s", hr->name,
				    why != NULL ? why : "contains a line break");
				free(why);
				continue;
			}
			if (f == NULL) {
				f = pf_add(pf, file, FK_FILE);
				sb_add(&f->data, "# Postfix pcre table (pcre_table(5)); the "
				    "first matching rule wins.\n");
			}
			if (i == 0)
				sb_addf(&f->data, "# [header-rules \"%s\"] (line %d)\n",
				    hr->name, hr->line);
			sb_addf(&f->data, "%s\n", t);
			*any = true;
		}
	}
	return rc;
}

static int
render_access(struct pf *pf, bool conn, char **cause)
{
	const struct site *site = pf->site;
	const struct access_policy *ac = &site->access;
	struct rfile *f;
	char *p, *conns;
	int rc = 0;

	/* VRFY tells anyone which addresses exist (Postfix answers 252 or 550 by
	 * default); refused with 502 on every port. Postfix has no EXPN at all. */
	sb_add(&pf->main, "disable_vrfy_command = yes\n");
	/* Relay only for mynetworks (loopback + relay_networks) and SASL users. */
	sb_add(&pf->main, "mynetworks = 127.0.0.0/8 [::ffff:127.0.0.0]/104 [::1]/128");
	for (size_t i = 0; i < ac->relay_networks.n; i++)
		if (add_network(pf, &pf->main, ac->relay_networks.v[i], cause) == -1)
			rc = -1;
	sb_add(&pf->main, "\n");

	/* Port 25 offers no AUTH (authenticated submission only on 587/465):
	 * check_sasl_access there would only log "ignored: no SASL support" [tested]. */
	sb_add(&pf->main, "smtpd_sasl_auth_enable = no\n");
	/* Mail for a connector domain passes its class on every port, before
	 * permit_mynetworks: only Microsoft 365 reaches the connector's smarthost. */
	conns = conn ? pf_path(pf, "mxdeck_connectors") : NULL;
	sb_add(&pf->main, "smtpd_relay_restrictions = ");
	if (conns != NULL)
		sb_addf(&pf->main, "check_recipient_access texthash:%s, ", conns);
	sb_add(&pf->main, "permit_mynetworks, reject_unauth_destination\n");
	/* Submission and smtps: authenticated users and relay_networks only; users with
	 * smtp off are refused before permit_sasl_authenticated. */
	p = pf_path(pf, "mxdeck_sasl_access");
	sb_add(&pf->main, "mxdeck_msa_relay_restrictions = ");
	if (conns != NULL)
		sb_addf(&pf->main, "check_recipient_access texthash:%s, ", conns);
	sb_addf(&pf->main, "check_sasl_access texthash:%s, permit_mynetworks, "
	    "permit_sasl_authenticated, reject\n", p);
	free(p);
	free(conns);

	f = pf_add(pf, "mxdeck_sasl_access", FK_FILE);
	sb_add(&f->data, "# check_sasl_access: users whose smtp (submission) access is "
	    "off.\n");
	for (size_t i = 0; i < site->nusers; i++) {
		const struct user *u = &site->users[i];

		if (u->protos & PROTO_BIT(PROTO_SMTP))
			continue;
		if (!word_ok(u->email)) {
			char *why = word_bad(u->email);

			rc = render_refuse(pf->ctx, cause, u->file != NULL ? u->file : site->path,
			    u->line, "user \"%s\": the address contains %s; it cannot be a "
			    "Postfix table key", u->email, why);
			free(why);
			continue;
		}
		add_lower(&f->data, u->email);
		sb_add(&f->data, " REJECT 5.7.1 sending mail is disabled for this "
		    "account\n");
	}

	if (ac->always_accept.n > 0) {
		f = pf_add(pf, "mxdeck_always_accept", FK_FILE);
		sb_add(&f->data, "# RFC 5321 / RFC 2142 role addresses of every domain, "
		    "accepted before any filter.\n");
		for (size_t i = 0; i < ac->always_accept.n; i++) {
			const char *lp = ac->always_accept.v[i];

			if (!word_ok(lp) || strchr(lp, '@') != NULL) {
				rc = render_refuse(pf->ctx, cause, site->path,
				    site_word_line(site, ac->line, "always_accept", lp),
				    "[access] always_accept: \"%s\" must be a local part such as "
				    "postmaster", lp);
				continue;
			}
			add_lower(&f->data, lp);
			sb_add(&f->data, "@ OK\n");
		}
	}
	/* mxdeck owns smtpd_recipient_restrictions: the always-accept check first, then
	 * the admin's own restrictions from [access] recipient_restrictions. */
	sb_add(&pf->main, "smtpd_recipient_restrictions =");
	if (ac->always_accept.n > 0) {
		p = pf_path(pf, "mxdeck_always_accept");
		sb_addf(&pf->main, " check_recipient_access texthash:%s", p);
		free(p);
	}
	for (size_t i = 0; i < ac->recipient_restrictions.n; i++) {
		const char *r = ac->recipient_restrictions.v[i];

		const char *c = r;

		while (*c != '\0' && (isalnum((unsigned char)*c) ||
		    strchr("_-.:/$[]", *c) != NULL))
			c++;
		if (*c != '\0') {
			rc = render_refuse(pf->ctx, cause, site->path,
			    site_word_line(site, ac->line, "recipient_restrictions", r),
			    "[access] recipient_restrictions: \"%s\" is not a Postfix "
			    "restriction or table reference", r);
			continue;
		}
		sb_addf(&pf->main, "%s %s", ac->always_accept.n > 0 || i > 0 ? "," : "", r);
	}
	sb_addc(&pf->main, '\n');
	return rc;
}

/* A CA file path for smtpd_tls_CAfile: absolute, one word, and not a bundle of every
 * public CA (any publicly trusted certificate would pass). */
static bool
client_ca_ok(const char *s)
{
	return word_ok(s) && s[0] == '/' && strcmp(s, CA_BUNDLE) != 0 &&
	    strcmp(s, "/etc/ssl/certs/ca-bundle.crt") != 0 &&
	    strcmp(s, "/etc/pki/tls/certs/ca-bundle.crt") != 0 &&
	    strcmp(s, "/etc/ssl/cert.pem") != 0;
}

static int
check_connector(const struct pf *pf, const struct connector *c, char **cause)
{
	const struct site *site = pf->site;
	const struct connector *c0 = &site->connectors[0];
	const char *file = site->path;
	int rc = 0;

	if (!domain_ok(c->domain))
		rc = render_refuse(pf->ctx, cause, file, c->line,
		    "[connector \"%s\"]: not a domain name", c->domain);
	if (!word_ok(c->smarthost))
		rc = render_refuse(pf->ctx, cause, file, site_key_line(site, c->line,
		    "smarthost"), "[connector \"%s\"] smarthost is missing or contains a "
		    "space: write [host]:port", c->domain);
	if (!guid_ok(c->tenant_id))
		rc = render_refuse(pf->ctx, cause, file, site_key_line(site, c->line,
		    "tenant_id"), "[connector \"%s\"] tenant_id must be the tenant's GUID "
		    "(8-4-4-4-12 hex digits)", c->domain);
	if (c->client_ca == NULL || !client_ca_ok(c->client_ca))
		rc = render_refuse(pf->ctx, cause, file, site_key_line(site, c->line,
		    "client_ca"), "[connector \"%s\"] client_ca must name a PEM file on the "
		    "gateway with only the CA that issues Microsoft 365's sending certificate "
		    "(an absolute path; not the system CA bundle, which would let any "
		    "publicly trusted certificate in)", c->domain);
	else if (strcmp(c->client_ca, c0->client_ca != NULL ? c0->client_ca : "") != 0)
		rc = render_refuse(pf->ctx, cause, file, site_key_line(site, c->line,
		    "client_ca"), "[connector \"%s\"] client_ca differs from [connector "
		    "\"%s\"]'s: port 25 has one smtpd_tls_CAfile; name the same file",
		    c->domain, c0->domain);
	for (size_t j = 0; j < c->client_fingerprints.n; j++) {
		const char *w = c->client_fingerprints.v[j];
		char *fp = sha256_fingerprint(w);

		if (fp == NULL)
			rc = render_refuse(pf->ctx, cause, file, site_word_line(site, c->line,
			    "client_fingerprints", w), "[connector \"%s\"] client_fingerprints: "
			    "\"%s\" is not a SHA-256 fingerprint (64 hex digits)", c->domain, w);
		free(fp);
	}
	return rc;
}

static int
render_connectors(struct pf *pf, char **cause)
{
	const struct site *site = pf->site;
	struct rfile *tr, *acc, *flt;
	struct sbuf classes;
	char *p;

	int rc = 0;

	for (size_t i = 0; i < site->nconnectors; i++)
		if (check_connector(pf, &site->connectors[i], cause) == -1)
			rc = -1;
	if (rc == -1)
		return -1;
	tr = pf_add(pf, "mxdeck_transport", FK_FILE);
	acc = pf_add(pf, "mxdeck_connectors", FK_FILE);
	flt = pf_add(pf, "mxdeck_connector_filter", FK_FILE);
	sb_add(&tr->data, "# transport_maps: mail for a connector domain that did not pass "
	    "its tenant check\n# (no FILTER to the smarthost) is discarded: no bounce to a "
	    "possibly forged sender.\n");
	sb_add(&acc->data, "# smtpd_relay_restrictions: mail for a connector domain must "
	    "pass its mxdeck_connector_N class.\n");
	sb_add(&flt->data, "# mxdeck_connector_N classes: route the message through the "
	    "tenant check of its connector.\n");
	sb_init(&classes);
	sb_addn(&classes, "", 0);
	for (size_t i = 0; i < site->nconnectors; i++) {
		const struct connector *c = &site->connectors[i];
		int port = REINJECT_PORT_BASE + (int)i + 1;
		char *svc = xasprintf("127.0.0.1:%d", port);
		char *cln = xasprintf("mxdeck_conn%zu_cleanup", i + 1);
		char *pcre = xasprintf("mxdeck_connector_%zu.pcre", i + 1);
		struct rfile *f;

		sb_addf(&tr->data, "%s discard:no X-MS-Exchange-CrossTenant-Id of tenant %s\n"
		    ".%s discard:no X-MS-Exchange-CrossTenant-Id of tenant %s\n", c->domain,
		    c->tenant_id, c->domain, c->tenant_id);
		sb_addf(&acc->data, "%s mxdeck_connector_%zu\n.%s mxdeck_connector_%zu\n",
		    c->domain, i + 1, c->domain, i + 1);
		sb_addf(&flt->data, "%s FILTER mxdeck_reinject:[127.0.0.1]:%d\n"
		    ".%s FILTER mxdeck_reinject:[127.0.0.1]:%d\n", c->domain, port, c->domain,
		    port);

		/* The class: TLS, a client certificate that verifies against client_ca
		 * (and, with client_fingerprints, is one of those), then the FILTER. */
		sb_addf(&classes, " mxdeck_connector_%zu", i + 1);
		p = pf_path(pf, "mxdeck_connector_filter");
		sb_addf(&pf->main, "mxdeck_connector_%zu = reject_plaintext_session, "
		    "check_recipient_access texthash:%s, ", i + 1, p);
		free(p);
		if (c->client_fingerprints.n > 0) {
			char *certs = xasprintf("mxdeck_connector_%zu_certs", i + 1);

			f = pf_add(pf, certs, FK_FILE);
			sb_addf(&f->data, "# check_ccert_access: the client certificates (SHA-256 "
			    "of the certificate or its public key) that may send to %s.\n",
			    c->domain);
			for (size_t j = 0; j < c->client_fingerprints.n; j++) {
				char *fp = sha256_fingerprint(c->client_fingerprints.v[j]);

				sb_addf(&f->data, "%s mxdeck_connector_ca\n", fp);
				free(fp);
			}
			p = pf_path(pf, certs);
			sb_addf(&pf->main, "check_ccert_access texthash:%s, reject\n", p);
			free(p);
			free(certs);
		} else
			sb_add(&pf->main, "permit_tls_all_clientcerts, reject\n");

		/* Hop 2: only the right tenant id routes the message to the smarthost;
		 * any other tenant id (also next to the right one) discards it, and a
		 * message without one falls through to mxdeck_transport (discard). */
		f = pf_add(pf, pcre, FK_FILE);
		sb_addf(&f->data, "# [connector \"%s\"] (line %d): only tenant %s may send "
		    "to %s.\n", c->domain, c->line, c->tenant_id, c->domain);
		sb_addf(&f->data, "/^X-MS-Exchange-CrossTenant-Id:\\s*%s\\s*$/ FILTER "
		    "mxdeck_smarthost:%s\n", c->tenant_id, c->smarthost);
		sb_addf(&f->data, "/^X-MS-Exchange-CrossTenant-Id\\s*:/ DISCARD mail for %s "
		    "is accepted only from its Microsoft 365 tenant\n", c->domain);

		sb_addf(&pf->master, "%s/inet = %s inet n - n - - smtpd\n", svc, svc);
		sb_addf(&pf->master, "%s/unix = %s unix n - n - 0 cleanup\n", cln, cln);
		sb_addf(&pf->params, "%s/inet/syslog_name=postfix/mxdeck-connector%zu\n", svc,
		    i + 1);
		sb_addf(&pf->params, "%s/inet/cleanup_service_name=%s\n", svc, cln);
		sb_addf(&pf->params, "%s/inet/content_filter=\n", svc);
		sb_addf(&pf->params, "%s/inet/receive_override_options=no_address_mappings\n",
		    svc);
		sb_addf(&pf->params, "%s/inet/mynetworks=127.0.0.0/8\n", svc);
		sb_addf(&pf->params, "%s/inet/smtpd_relay_restrictions="
		    "permit_mynetworks,reject\n", svc);
		sb_addf(&pf->params, "%s/inet/smtpd_recipient_restrictions=\n", svc);
		sb_addf(&pf->params, "%s/inet/smtpd_tls_security_level=none\n", svc);
		sb_addf(&pf->params, "%s/inet/smtpd_sasl_auth_enable=no\n", svc);
		p = pf_path(pf, pcre);
		sb_addf(&pf->params, "%s/unix/header_checks=pcre:%s\n", cln, p);
		free(p);
		sb_addf(&pf->params, "%s/unix/mime_header_checks=\n", cln);
		sb_addf(&pf->params, "%s/unix/nested_header_checks=\n", cln);
		sb_addf(&pf->params, "%s/unix/body_checks=\n", cln);
		free(svc);
		free(cln);
		free(pcre);
	}
	sb_add(&pf->master, "mxdeck_reinject/unix = mxdeck_reinject unix - - n - - smtp\n");
	sb_add(&pf->params, "mxdeck_reinject/unix/smtp_tls_security_level=none\n");
	sb_add(&pf->params, "mxdeck_reinject/unix/smtp_dns_support_level=disabled\n");
	sb_add(&pf->params, "mxdeck_reinject/unix/smtp_header_checks=\n");
	sb_add(&pf->params, "mxdeck_reinject/unix/syslog_name=postfix/mxdeck-reinject\n");
	sb_add(&pf->master, "mxdeck_smarthost/unix = mxdeck_smarthost unix - - n - - smtp\n");
	sb_add(&pf->params, "mxdeck_smarthost/unix/syslog_name=postfix/mxdeck-smarthost\n");

	p = pf_path(pf, "mxdeck_transport");
	sb_addf(&pf->main, "transport_maps = texthash:%s\n", p);
	free(p);
	sb_addf(&pf->main, "smtpd_restriction_classes = mxdeck_connector_ca%s\n", classes.s);
	sb_add(&pf->main, "mxdeck_connector_ca = permit_tls_all_clientcerts, reject\n");
	sb_add(&pf->main, "smtpd_tls_ask_ccert = yes\n");
	/* client_fingerprints are SHA-256: below compatibility_level 3.6 the default
	 * digest is md5, and no pin would ever match. */
	sb_add(&pf->main, "smtpd_tls_fingerprint_digest = sha256\n");
	sb_addf(&pf->main, "smtpd_tls_CAfile = %s\n", site->connectors[0].client_ca);
	sb_free(&classes);
	return 0;
}

/* submission and smtps: TLS, SASL through Dovecot, relay for users and relay_networks. */
static void
render_msa(struct pf *pf, const char *svc, bool wrapper, bool msa_cleanup)
{
	sb_addf(&pf->master, "%s/inet = %s inet n - y - - smtpd\n", svc, svc);
	sb_addf(&pf->params, "%s/inet/syslog_name=postfix/%s\n", svc,
	    wrapper ? "smtps" : "submission");
	if (wrapper)
		sb_addf(&pf->params, "%s/inet/smtpd_tls_wrappermode=yes\n", svc);
	else
		sb_addf(&pf->params, "%s/inet/smtpd_tls_security_level=encrypt\n", svc);
	sb_addf(&pf->params, "%s/inet/smtpd_sasl_auth_enable=yes\n", svc);
	sb_addf(&pf->params, "%s/inet/smtpd_tls_auth_only=yes\n", svc);
	sb_addf(&pf->params, "%s/inet/smtpd_sasl_type=dovecot\n", svc);
	sb_addf(&pf->params, "%s/inet/smtpd_sasl_path=private/auth\n", svc);
	sb_addf(&pf->params, "%s/inet/smtpd_relay_restrictions=$mxdeck_msa_relay_restrictions\n",
	    svc);
	sb_addf(&pf->params, "%s/inet/smtpd_recipient_restrictions=\n", svc);
	sb_addf(&pf->params, "%s/inet/milter_macro_daemon_name=ORIGINATING\n", svc);
	if (msa_cleanup)
		sb_addf(&pf->params, "%s/inet/cleanup_service_name=msa_cleanup\n", svc);
	else
		sb_addf(&pf->params, "%s/inet/cleanup_service_name=cleanup\n", svc);
}

static int
postfix_render(const struct render_ctx *ctx, struct fileset *fs, char **cause)
{
	const struct host *h = ctx->host;
	struct pf pf = { .ctx = ctx, .site = ctx->site, .fs = fs };
	char *dir, *sub, *smtps, *p;
	bool msa = false, outbound = false, refused = false;
	struct rfile *f;
	int rc = -1, smtp_port;

	dir = xstrdup(host_dir(h, ROLE_POSTFIX));
	while (strlen(dir) > 1 && dir[strlen(dir) - 1] == '/')
		dir[strlen(dir) - 1] = '\0';
	pf.dir = dir;
	if (!word_ok(dir) || dir[0] != '/') {
		(void)render_refuse(ctx, cause, ctx->site->path,
		    site_key_line(ctx->site, h->line, "postfix_dir"), "postfix_dir \"%s\" "
		    "must be an absolute path without spaces or commas (Postfix map paths are "
		    "absolute)", dir);
		free(dir);
		return -1;
	}
	sb_init(&pf.main);
	sb_init(&pf.master);
	sb_init(&pf.params);
	sb_addn(&pf.main, "", 0);
	sb_addn(&pf.master, "", 0);
	sb_addn(&pf.params, "", 0);

	/* Each part reports its refusals and the next part runs all the same. */
	if (render_header_rules(&pf, SCOPE_AUTHENTICATED, "mxdeck_msa_header_checks.pcre",
	    cause, &msa) == -1)
		refused = true;
	if (render_header_rules(&pf, SCOPE_OUTBOUND, "mxdeck_smtp_header_checks.pcre",
	    cause, &outbound) == -1)
		refused = true;
	if (render_tls(&pf, cause) == -1)
		refused = true;
	if (render_access(&pf, ctx->site->nconnectors > 0, cause) == -1)
		refused = true;
	if (outbound) {
		p = pf_path(&pf, "mxdeck_smtp_header_checks.pcre");
		sb_addf(&pf.main, "smtp_header_checks = pcre:%s\n", p);
		free(p);
	} else
		sb_add(&pf.main, "smtp_header_checks =\n");
	if (ctx->site->nconnectors > 0 && render_connectors(&pf, cause) == -1)
		refused = true;
	if (refused)
		goto out;

	if (msa) {
		sb_add(&pf.master, "msa_cleanup/unix = msa_cleanup unix n - n - 0 cleanup\n");
		p = pf_path(&pf, "mxdeck_msa_header_checks.pcre");
		sb_addf(&pf.params, "msa_cleanup/unix/header_checks=pcre:%s\n", p);
		free(p);
	}
	sub = service_name(host_port(h, "submission", 587), 587, "submission");
	smtps = service_name(host_port(h, "smtps", 465), 465, "smtps");
	render_msa(&pf, sub, false, msa);
	render_msa(&pf, smtps, true, msa);
	free(sub);
	free(smtps);
	/* A lab on loopback moves port 25: add a plain smtpd there. */
	smtp_port = host_port(h, "smtp", 25);
	if (smtp_port != 25)
		sb_addf(&pf.master, "%d/inet = %d inet n - y - - smtpd\n", smtp_port,
		    smtp_port);

	f = pf_add(&pf, "mxdeck.postconf", FK_POSTCONF);
	sb_add(&f->data, "# main.cf settings: postconf -c DIR -e LINE... (one per line).\n");
	sb_addn(&f->data, pf.main.s, pf.main.len);
	f = pf_add(&pf, "mxdeck.master", FK_POSTCONF_M);
	sb_add(&f->data, "# master.cf services: postconf -c DIR -M -e LINE... (before "
	    "mxdeck.master-params).\n");
	sb_addn(&f->data, pf.master.s, pf.master.len);
	f = pf_add(&pf, "mxdeck.master-params", FK_POSTCONF_P);
	sb_add(&f->data, "# master.cf service parameters: postconf -c DIR -P -e LINE... "
	    "(after mxdeck.master).\n");
	sb_addn(&f->data, pf.params.s, pf.params.len);
	rc = 0;
out:
	sb_free(&pf.main);
	sb_free(&pf.master);
	sb_free(&pf.params);
	free(dir);
	return rc;
}

const struct renderer render_postfix = {
	.name = "postfix",
	.role = ROLE_POSTFIX,
	.service = "postfix",
	.render = postfix_render,
};
