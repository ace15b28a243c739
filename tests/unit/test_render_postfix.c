/* test_render_postfix.c: the Postfix renderer: golden files from the demo profile,
 * version-dependent syntax (3.3, 3.4, 3.6, 3.7), scopes, errors, and 100k users.
 * UPDATE_GOLDEN=1 rewrites tests/data/golden/postfix/ (review the diff!). Run from the
 * repository root (tests/run.sh does). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "backends/render/render.h"
#include "profiles/site.h"

extern const struct renderer render_postfix;

#define GOLDEN_DIR "tests/data/golden/postfix"

static const char base_ini[] =
    "[site]\n"
    "name = unit\n"
    "domain = example.org\n"
    "[host \"gw\"]\n"
    "address = 192.0.2.1\n"
    "roles = postfix\n"
    "[tls]\n"
    "smtpd_protocols = >=TLSv1.2\n"
    "smtp_protocols = !SSLv2, !SSLv3, !TLSv1\n"
    "no_renegotiation = yes\n"
    "dane = yes\n"
    "certificate = /etc/ssl/certs/mx.pem\n"
    "key = /etc/ssl/private/mx.key\n"
    "[access]\n"
    "always_accept = postmaster abuse\n"
    "relay_networks = 192.0.2.10/32 2001:db8:1::/48\n";

struct out {
	struct site site;
	struct fileset fs;
	char *cause;
	int rc;
};

static void
render_buf(struct out *o, const char *ini, const char *version)
{
	struct diags d = { 0 };
	struct render_ctx ctx = { 0 };

	memset(o, 0, sizeof *o);
	if (site_load_buf(&o->site, "/unit/site.ini", ini, strlen(ini), &d) == -1) {
		diags_print(&d, stderr);
		fail_msg("profile did not load");
	}
	diags_free(&d);
	ctx.site = &o->site;
	ctx.host = &o->site.hosts[0];
	ctx.postfix_version = version;
	o->rc = render_postfix.render(&ctx, &o->fs, &o->cause);
}

static void
out_free(struct out *o)
{
	fileset_free(&o->fs);
	site_free(&o->site);
	free(o->cause);
}

static const char *
file_data(const struct out *o, const char *path)
{
	const struct rfile *f = fileset_find(&o->fs, path);

	if (f == NULL)
		fail_msg("%s was not rendered", path);
	return f->data.s;
}

static bool
has_line(const char *data, const char *line)
{
	size_t n = strlen(line);

	for (const char *p = data; (p = strstr(p, line)) != NULL; p++)
		if ((p == data || p[-1] == '\n') && (p[n] == '\n' || p[n] == '\0'))
			return true;
	return false;
}

#define assert_line(data, line) do {					\
	if (!has_line((data), (line)))					\
		fail_msg("missing line \"%s\" in:\n%s", (line), (data));	\
} while (0)
#define assert_no_line(data, line) do {					\
	if (has_line((data), (line)))					\
		fail_msg("unexpected line \"%s\"", (line));		\
} while (0)

/* The admin's own recipient restrictions follow mxdeck's always-accept check; a value
 * that is not a restriction or table reference is refused with FILE:LINE. */
static void
test_recipient_restrictions(void **state)
{
	struct out o;
	char *ini;

	(void)state;
	ini = xasprintf("%srecipient_restrictions = reject_rbl_client zen.spamhaus.org, "
	    "check_policy_service unix:private/policyd\n", base_ini);
	render_buf(&o, ini, "3.7");
	assert_int_equal(o.rc, 0);
	assert_line(file_data(&o, "/etc/postfix/mxdeck.postconf"),
	    "smtpd_recipient_restrictions = check_recipient_access "
	    "texthash:/etc/postfix/mxdeck_always_accept, reject_rbl_client, "
	    "zen.spamhaus.org, check_policy_service, unix:private/policyd");
	out_free(&o);
	free(ini);
	ini = xasprintf("%srecipient_restrictions = reject_rbl_client zen;rm -rf /\n",
	    base_ini);
	render_buf(&o, ini, "3.7");
	assert_int_equal(o.rc, -1);
	assert_non_null(strstr(o.cause, "/unit/site.ini:"));
	assert_non_null(strstr(o.cause, "recipient_restrictions"));
	out_free(&o);
	free(ini);
}

static void
test_golden_demo(void **state)
{
	struct site site;
	struct diags d = { 0 };
	struct fileset fs = { 0 };
	struct render_ctx ctx = { 0 };
	char *cause = NULL;
	bool update = getenv("UPDATE_GOLDEN") != NULL;
	struct host *h;

	if (site_load(&site, "share/examples/demo.ini", &d) == -1) {
		diags_print(&d, stderr);
		fail_msg("demo.ini did not load (run from the repository root)");
	}
	diags_free(&d);
	h = NULL;
	for (size_t i = 0; i < site.nhosts; i++)
		if (site.hosts[i].roles & ROLE_POSTFIX)
			h = &site.hosts[i];
	assert_non_null(h);
	/* The demo's sandbox and certificate paths depend on the checkout: pin them. */
	free(h->postfix_dir);
	h->postfix_dir = xstrdup("/etc/postfix");
	free(site.tls.certificate);
	site.tls.certificate = xstrdup("/srv/mxdeck/demo-sandbox/pki/mail.pem");
	free(site.tls.key);
	site.tls.key = xstrdup("/srv/mxdeck/demo-sandbox/pki/mail.key");
	for (size_t i = 0; i < site.nconnectors; i++) {
		free(site.connectors[i].client_ca);
		site.connectors[i].client_ca =
		    xstrdup("/srv/mxdeck/demo-sandbox/pki/connector/ca.pem");
	}
	ctx.site = &site;
	ctx.host = h;
	ctx.postfix_version = h->postfix_version != NULL ? h->postfix_version : "3.7";
	if (render_postfix.render(&ctx, &fs, &cause) == -1)
		fail_msg("render: %s", cause);
	fileset_sort(&fs);
	assert_int_equal(fs.n, 10);
	for (size_t i = 0; i < fs.n; i++) {
		const struct rfile *f = &fs.v[i];
		const char *base = strrchr(f->path, '/') + 1;
		char *gpath = xasprintf(GOLDEN_DIR "/%s", base), *want;
		size_t len;

		assert_true(str_starts(f->path, "/etc/postfix/"));
		assert_string_equal(f->role, "postfix");
		if (update) {
			if (mkdir_p(GOLDEN_DIR, 0755, &cause) == -1 ||
			    write_file_atomic(gpath, f->data.s, f->data.len, 0644, &cause) == -1)
				fail_msg("%s", cause);
		}
		if ((want = read_file(gpath, &len, &cause)) == NULL)
			fail_msg("%s (UPDATE_GOLDEN=1 creates it)", cause);
		if (len != f->data.len || memcmp(want, f->data.s, len) != 0)
			fail_msg("%s differs from %s; got:\n%s", f->path, gpath, f->data.s);
		free(want);
		free(gpath);
	}
	assert_int_equal(fileset_find(&fs, "/etc/postfix/mxdeck.postconf")->kind, FK_POSTCONF);
	assert_int_equal(fileset_find(&fs, "/etc/postfix/mxdeck.master")->kind, FK_POSTCONF_M);
	assert_int_equal(fileset_find(&fs, "/etc/postfix/mxdeck.master-params")->kind,
	    FK_POSTCONF_P);
	assert_int_equal(fileset_find(&fs, "/etc/postfix/mxdeck_transport")->kind, FK_FILE);
	fileset_free(&fs);
	site_free(&site);
}

static void
test_versions(void **state)
{
	struct {
		const char *ver, *smtpd, *smtp, *opts;
	} t[] = {
		{ "3.3", "!SSLv2, !SSLv3, !TLSv1, !TLSv1.1", "!SSLv2, !SSLv3, !TLSv1", "0x40000000" },
		{ "3.4", "!SSLv2, !SSLv3, !TLSv1, !TLSv1.1", "!SSLv2, !SSLv3, !TLSv1", "NO_RENEGOTIATION" },
		{ "3.5.9", "!SSLv2, !SSLv3, !TLSv1, !TLSv1.1", "!SSLv2, !SSLv3, !TLSv1", "NO_RENEGOTIATION" },
		{ "3.6", ">=TLSv1.2", ">=TLSv1.1", "NO_RENEGOTIATION" },
		{ "3.7", ">=TLSv1.2", ">=TLSv1.1", "NO_RENEGOTIATION" },
		{ "3.10.1", ">=TLSv1.2", ">=TLSv1.1", "NO_RENEGOTIATION" },
	};

	for (size_t i = 0; i < nitems(t); i++) {
		const struct {
			const char *key, *value;
		} want[] = {
			{ "smtpd_tls_protocols", t[i].smtpd },
			{ "smtpd_tls_mandatory_protocols", t[i].smtpd },
			{ "smtp_tls_protocols", t[i].smtp },
			{ "smtp_tls_mandatory_protocols", t[i].smtp },
			{ "tls_ssl_options", t[i].opts },
		};
		struct out o;
		const char *pc;

		render_buf(&o, base_ini, t[i].ver);
		if (o.rc != 0)
			fail_msg("%s: %s", t[i].ver, o.cause);
		pc = file_data(&o, "/etc/postfix/mxdeck.postconf");
		for (size_t k = 0; k < nitems(want); k++) {
			char *l = xasprintf("%s = %s", want[k].key, want[k].value);

			assert_line(pc, l);
			free(l);
		}
		assert_line(pc, "smtp_dns_support_level = dnssec");
		assert_line(pc, "smtp_tls_security_level = dane");
		assert_line(pc, "smtpd_tls_cert_file = /etc/ssl/certs/mx.pem");
		assert_line(pc, "smtpd_tls_key_file = /etc/ssl/private/mx.key");
		out_free(&o);
	}
}

static void
test_access(void **state)
{
	struct out o;
	const char *pc, *mp, *m;

	render_buf(&o, base_ini, "3.7");
	assert_int_equal(o.rc, 0);
	pc = file_data(&o, "/etc/postfix/mxdeck.postconf");
	m = file_data(&o, "/etc/postfix/mxdeck.master");
	mp = file_data(&o, "/etc/postfix/mxdeck.master-params");
	assert_line(pc, "mynetworks = 127.0.0.0/8 [::ffff:127.0.0.0]/104 [::1]/128 "
	    "192.0.2.10/32 [2001:db8:1::]/48");
	/* Relay decided before the always-accept OK; no connector lookup. */
	assert_line(pc, "smtpd_sasl_auth_enable = no");
	assert_line(pc, "smtpd_relay_restrictions = permit_mynetworks, "
	    "reject_unauth_destination");
	assert_line(pc, "mxdeck_msa_relay_restrictions = check_sasl_access "
	    "texthash:/etc/postfix/mxdeck_sasl_access, permit_mynetworks, "
	    "permit_sasl_authenticated, reject");
	assert_line(pc, "smtpd_recipient_restrictions = check_recipient_access "
	    "texthash:/etc/postfix/mxdeck_always_accept");
	assert_line(file_data(&o, "/etc/postfix/mxdeck_always_accept"), "postmaster@ OK");
	assert_line(file_data(&o, "/etc/postfix/mxdeck_always_accept"), "abuse@ OK");
	assert_no_line(pc, "smtpd_restriction_classes = mxdeck_connector");
	assert_null(fileset_find(&o.fs, "/etc/postfix/mxdeck_transport"));
	/* Standard ports: the stock service names; no header rules: stock cleanup. */
	assert_line(m, "submission/inet = submission inet n - y - - smtpd");
	assert_line(m, "smtps/inet = smtps inet n - y - - smtpd");
	assert_null(strstr(m, "msa_cleanup"));
	assert_line(mp, "submission/inet/smtpd_tls_security_level=encrypt");
	assert_line(mp, "submission/inet/smtpd_sasl_auth_enable=yes");
	assert_line(mp, "submission/inet/cleanup_service_name=cleanup");
	assert_line(mp, "smtps/inet/smtpd_tls_wrappermode=yes");
	/* -P values never contain white space (postconf -Pe refuses them). */
	for (const char *p = mp; *p != '\0'; p = strchr(p, '\n') + 1) {
		size_t n = strcspn(p, "\n");

		if (*p != '#' && (memchr(p, ' ', n) != NULL || memchr(p, '\t', n) != NULL))
			fail_msg("white space in -P line: %.*s", (int)n, p);
	}
	assert_line(file_data(&o, "/etc/postfix/mxdeck_sasl_access"),
	    "# check_sasl_access: users whose smtp (submission) access is off.");
	out_free(&o);
}

/* 60 hex digits (30 bytes) after a 2-byte prefix: a SHA-256 fingerprint. */
#define FP60	"00112233445566778899aabbccddeeff00112233445566778899aabbccdd"
#define FP60C	"00:11:22:33:44:55:66:77:88:99:AA:BB:CC:DD:EE:FF:00:11:22:33:44:55:66:77:" \
		"88:99:AA:BB:CC:DD"

static void
test_scopes_and_connector(void **state)
{
	char *ini = xasprintf("%s"
	    "[header-rules \"out\"]\n"
	    "scope = outbound\n"
	    "rule = /^X-Mailer:/ IGNORE\n"
	    "[header-rules \"auth\"]\n"
	    "scope = authenticated\n"
	    "rule = /^User-Agent:/ IGNORE\n"
	    "[header-rules \"auth2\"]\n"
	    "scope = authenticated\n"
	    "rule = /^X-Originating-IP:/ IGNORE\n"
	    "[connector \"fax.example.org\"]\n"
	    "smarthost = [fax-gw.example.org]:25\n"
	    "tenant_id = 0123abcd-0000-4000-8000-00000000beef\n"
	    "client_ca = /etc/postfix/ms-ca.pem\n"
	    "[connector \"sms.example.org\"]\n"
	    "smarthost = [sms-gw.example.org]:2525\n"
	    "tenant_id = 0123abcd-0000-4000-8000-00000000cafe\n"
	    "client_ca = /etc/postfix/ms-ca.pem\n"
	    "client_fingerprints = 0f:5e:" FP60 " 00112233445566778899aabbccddeeff"
	    "00112233445566778899AABBCCDDEEFF\n", base_ini);
	struct out o;
	const char *pc, *m, *mp, *msa;

	render_buf(&o, ini, "3.7");
	if (o.rc != 0)
		fail_msg("%s", o.cause);
	pc = file_data(&o, "/etc/postfix/mxdeck.postconf");
	m = file_data(&o, "/etc/postfix/mxdeck.master");
	mp = file_data(&o, "/etc/postfix/mxdeck.master-params");
	assert_line(pc, "smtp_header_checks = pcre:/etc/postfix/mxdeck_smtp_header_checks.pcre");
	assert_line(file_data(&o, "/etc/postfix/mxdeck_smtp_header_checks.pcre"),
	    "/^X-Mailer:/ IGNORE");
	msa = file_data(&o, "/etc/postfix/mxdeck_msa_header_checks.pcre");
	/* Both authenticated sections, in profile order. */
	assert_true(strstr(msa, "/^User-Agent:/ IGNORE") < strstr(msa, "/^X-Originating-IP:/ IGNORE"));
	assert_null(strstr(msa, "X-Mailer"));
	assert_line(m, "msa_cleanup/unix = msa_cleanup unix n - n - 0 cleanup");
	assert_line(mp, "msa_cleanup/unix/header_checks=pcre:/etc/postfix/mxdeck_msa_header_checks.pcre");
	assert_line(mp, "submission/inet/cleanup_service_name=msa_cleanup");
	assert_line(mp, "smtps/inet/cleanup_service_name=msa_cleanup");
	/* -M lines come before the -P lines that need them: msa_cleanup, 10041. */
	assert_line(m, "127.0.0.1:10041/inet = 127.0.0.1:10041 inet n - n - - smtpd");
	assert_line(mp, "127.0.0.1:10041/inet/cleanup_service_name=mxdeck_conn1_cleanup");
	/* Positive acceptance: only the right tenant id routes to the smarthost; another
	 * id anywhere in the header discards the message; without a FILTER, the domain's
	 * route discards it (no bounce). */
	assert_line(file_data(&o, "/etc/postfix/mxdeck_transport"),
	    "fax.example.org discard:no X-MS-Exchange-CrossTenant-Id of tenant "
	    "0123abcd-0000-4000-8000-00000000beef");
	assert_line(file_data(&o, "/etc/postfix/mxdeck_transport"),
	    ".fax.example.org discard:no X-MS-Exchange-CrossTenant-Id of tenant "
	    "0123abcd-0000-4000-8000-00000000beef");
	assert_null(strstr(file_data(&o, "/etc/postfix/mxdeck_transport"), "relay:"));
	assert_line(file_data(&o, "/etc/postfix/mxdeck_connectors"),
	    "fax.example.org mxdeck_connector_1");
	assert_line(file_data(&o, "/etc/postfix/mxdeck_connectors"),
	    ".sms.example.org mxdeck_connector_2");
	assert_line(file_data(&o, "/etc/postfix/mxdeck_connector_filter"),
	    "fax.example.org FILTER mxdeck_reinject:[127.0.0.1]:10041");
	assert_line(file_data(&o, "/etc/postfix/mxdeck_connector_filter"),
	    "sms.example.org FILTER mxdeck_reinject:[127.0.0.1]:10042");
	assert_line(file_data(&o, "/etc/postfix/mxdeck_connector_1.pcre"),
	    "/^X-MS-Exchange-CrossTenant-Id:\\s*0123abcd-0000-4000-8000-00000000beef\\s*$/ "
	    "FILTER mxdeck_smarthost:[fax-gw.example.org]:25");
	assert_line(file_data(&o, "/etc/postfix/mxdeck_connector_1.pcre"),
	    "/^X-MS-Exchange-CrossTenant-Id\\s*:/ DISCARD mail for fax.example.org is "
	    "accepted only from its Microsoft 365 tenant");
	assert_null(strstr(file_data(&o, "/etc/postfix/mxdeck_connector_1.pcre"), "REJECT"));
	assert_line(file_data(&o, "/etc/postfix/mxdeck_connector_2.pcre"),
	    "/^X-MS-Exchange-CrossTenant-Id:\\s*0123abcd-0000-4000-8000-00000000cafe\\s*$/ "
	    "FILTER mxdeck_smarthost:[sms-gw.example.org]:2525");
	assert_line(m, "mxdeck_smarthost/unix = mxdeck_smarthost unix - - n - - smtp");
	/* Connector domains pass their class first on every port: no mynetworks or
	 * SASL shortcut to the smarthost. */
	assert_line(pc, "smtpd_relay_restrictions = check_recipient_access "
	    "texthash:/etc/postfix/mxdeck_connectors, permit_mynetworks, "
	    "reject_unauth_destination");
	assert_line(pc, "mxdeck_msa_relay_restrictions = check_recipient_access "
	    "texthash:/etc/postfix/mxdeck_connectors, check_sasl_access "
	    "texthash:/etc/postfix/mxdeck_sasl_access, permit_mynetworks, "
	    "permit_sasl_authenticated, reject");
	assert_line(pc, "smtpd_restriction_classes = mxdeck_connector_ca mxdeck_connector_1 "
	    "mxdeck_connector_2");
	assert_line(pc, "mxdeck_connector_1 = reject_plaintext_session, check_recipient_access "
	    "texthash:/etc/postfix/mxdeck_connector_filter, permit_tls_all_clientcerts, reject");
	/* With fingerprints: the pinned certificate, and it must verify (client_ca). */
	assert_line(pc, "mxdeck_connector_2 = reject_plaintext_session, check_recipient_access "
	    "texthash:/etc/postfix/mxdeck_connector_filter, check_ccert_access "
	    "texthash:/etc/postfix/mxdeck_connector_2_certs, reject");
	assert_line(pc, "mxdeck_connector_ca = permit_tls_all_clientcerts, reject");
	assert_line(pc, "smtpd_tls_fingerprint_digest = sha256");
	assert_line(file_data(&o, "/etc/postfix/mxdeck_connector_2_certs"),
	    "0F:5E:" FP60C " mxdeck_connector_ca");
	assert_line(file_data(&o, "/etc/postfix/mxdeck_connector_2_certs"),
	    "00:11:22:33:44:55:66:77:88:99:AA:BB:CC:DD:EE:FF:"
	    "00:11:22:33:44:55:66:77:88:99:AA:BB:CC:DD:EE:FF mxdeck_connector_ca");
	assert_null(fileset_find(&o.fs, "/etc/postfix/mxdeck_connector_1_certs"));
	/* Only the CA named for Microsoft's certificate, never the system bundle. */
	assert_line(pc, "smtpd_tls_CAfile = /etc/postfix/ms-ca.pem");
	assert_null(strstr(pc, "ca-certificates.crt"));
	assert_line(pc, "smtpd_tls_ask_ccert = yes");
	assert_line(pc, "transport_maps = texthash:/etc/postfix/mxdeck_transport");
	out_free(&o);
	free(ini);
}

/* base_ini with one substring replaced (the first occurrence). */
static char *
ini_with(const char *old, const char *new)
{
	const char *p = strstr(base_ini, old);

	assert_non_null(p);
	return xasprintf("%.*s%s%s", (int)(p - base_ini), base_ini, new, p + strlen(old));
}

static void
test_errors(void **state)
{
	struct {
		const char *old, *new, *want;
	} t[] = {
		{ "smtpd_protocols = >=TLSv1.2\n", "smtpd_protocols = >= TLSv1.2\n",
		    "/unit/site.ini:8: [tls] smtpd_protocols" },	/* the key, not [tls] */
		{ "smtp_protocols = !SSLv2, !SSLv3, !TLSv1\n", "smtp_protocols = TLS1.2\n",
		    "did you mean TLSv1.2" },
		{ "[access]\n", "[connector \"fax.example.org\"]\nsmarthost = [gw]:25\n"
		    "tenant_id = nope\nclient_ca = /etc/postfix/ca.pem\n[access]\n", "tenant_id" },
		{ "[access]\n", "[connector \"fax.example.org\"]\nsmarthost = a b\n"
		    "tenant_id = 0123abcd-0000-4000-8000-00000000beef\n"
		    "client_ca = /etc/postfix/ca.pem\n[access]\n", "smarthost" },
		/* No client_ca, or the bundle of every public CA: any certificate. */
		{ "[access]\n", "[connector \"fax.example.org\"]\nsmarthost = [gw]:25\n"
		    "tenant_id = 0123abcd-0000-4000-8000-00000000beef\n[access]\n",
		    "client_ca must name" },
		{ "[access]\n", "[connector \"fax.example.org\"]\nsmarthost = [gw]:25\n"
		    "tenant_id = 0123abcd-0000-4000-8000-00000000beef\n"
		    "client_ca = /etc/ssl/certs/ca-certificates.crt\n[access]\n",
		    "not the system CA bundle" },
		{ "[access]\n", "[connector \"fax.example.org\"]\nsmarthost = [gw]:25\n"
		    "tenant_id = 0123abcd-0000-4000-8000-00000000beef\n"
		    "client_ca = /etc/postfix/a.pem\n[connector \"sms.example.org\"]\n"
		    "smarthost = [gw]:25\ntenant_id = 0123abcd-0000-4000-8000-00000000beef\n"
		    "client_ca = /etc/postfix/b.pem\n[access]\n", "one smtpd_tls_CAfile" },
		{ "[access]\n", "[connector \"fax.example.org\"]\nsmarthost = [gw]:25\n"
		    "tenant_id = 0123abcd-0000-4000-8000-00000000beef\n"
		    "client_ca = /etc/postfix/a.pem\nclient_fingerprints = 0f:5e\n[access]\n",
		    "not a SHA-256 fingerprint" },
		{ "[access]\n", "[header-rules \"x\"]\nscope = outbound\n"
		    "rule = /^X: (a)/ REPLACE X: $2\n[access]\n", "out of range" },
		{ "[access]\n", "[header-rules \"x\"]\nscope = outbound\n"
		    "rule = /^X: (a/ IGNORE\n[access]\n", "error in regex" },
		{ "192.0.2.10/32", "192.0.2.10/32;rm", "relay_networks" },
	};

	for (size_t i = 0; i < nitems(t); i++) {
		char *ini = ini_with(t[i].old, t[i].new);
		struct out o;

		render_buf(&o, ini, "3.7");
		if (o.rc != -1)
			fail_msg("case %zu rendered", i);
		assert_non_null(o.cause);
		if (strstr(o.cause, t[i].want) == NULL)
			fail_msg("case %zu: cause \"%s\" lacks \"%s\"", i, o.cause, t[i].want);
		out_free(&o);
		free(ini);
	}
}

/* 100k users, every third with smtp off: linear and fast, deterministic. */
static void
test_many_users(void **state)
{
	struct out o, o2;
	struct timespec t0, t1;
	const char *sa;
	size_t lines = 0;
	double secs;

	/* Build the site in memory: users via the CSV parser. */
	{
		struct diags d = { 0 };
		struct sbuf csv;
		struct render_ctx ctx = { 0 };

		memset(&o, 0, sizeof o);
		assert_int_equal(site_load_buf(&o.site, "/unit/site.ini", base_ini,
		    strlen(base_ini), &d), 0);
		sb_init(&csv);
		sb_add(&csv, "email,imap,pop3,smtp,activesync,mapi,owa,ews\n");
		for (int i = 0; i < 100000; i++)
			sb_addf(&csv, "User%06d@Example.org,1,0,%d,1,1,1,1\n", i, i % 3 != 0);
		if (users_csv_parse(&o.site, "/unit/users.csv", csv.s, csv.len, &d) == -1) {
			diags_print(&d, stderr);
			fail_msg("csv");
		}
		sb_free(&csv);
		diags_free(&d);
		assert_int_equal(o.site.nusers, 100000);
		ctx.site = &o.site;
		ctx.host = &o.site.hosts[0];
		ctx.postfix_version = "3.7";
		clock_gettime(CLOCK_MONOTONIC, &t0);
		o.rc = render_postfix.render(&ctx, &o.fs, &o.cause);
		clock_gettime(CLOCK_MONOTONIC, &t1);
		assert_int_equal(o.rc, 0);
		memset(&o2, 0, sizeof o2);
		o2.rc = render_postfix.render(&ctx, &o2.fs, &o2.cause);
		assert_int_equal(o2.rc, 0);
	}
	secs = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
	fprintf(stderr, "# render_postfix with 100000 users: %.3f s\n", secs);
	assert_true(secs < 1.0);
	sa = file_data(&o, "/etc/postfix/mxdeck_sasl_access");
	for (const char *p = sa; *p != '\0'; p++)
		lines += *p == '\n';
	assert_int_equal(lines, 2 + 33334);	/* header comments + i % 3 == 0 */
	assert_line(sa, "user000000@example.org REJECT 5.7.1 sending mail is disabled for this account");
	assert_no_line(sa, "user000001@example.org REJECT 5.7.1 sending mail is disabled for this account");
	assert_string_equal(sa, file_data(&o2, "/etc/postfix/mxdeck_sasl_access"));
	fileset_free(&o2.fs);
	out_free(&o);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_golden_demo),
		cmocka_unit_test(test_versions),
		cmocka_unit_test(test_access),
		cmocka_unit_test(test_recipient_restrictions),
		cmocka_unit_test(test_scopes_and_connector),
		cmocka_unit_test(test_errors),
		cmocka_unit_test(test_many_users),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
