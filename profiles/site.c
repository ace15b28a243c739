/* site.c: build struct site from the ini document (mxdeck(1) PROFILE FORMAT).
 *
 * The parser checks what one key can tell: unknown sections and keys, values of the
 * wrong type, ports out of range, duplicate singleton keys, missing required keys.
 * Checks across entries (duplicate hosts, unserved vhosts, regexes, addresses) are
 * lint's (profiles/lint.c). */
#include "site.h"

#include <ctype.h>
#include <libgen.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

const char *const proto_names[PROTO_COUNT] = {
	"imap", "pop3", "smtp", "activesync", "mapi", "owa", "ews",
};
const char *const role_names[ROLE_COUNT] = {
	"postfix", "dovecot", "apache", "nginx", "autodiscover", "dns", "exchange",
};
const char *const service_names[SVC_COUNT] = {
	"owa", "oma", "ecp", "ews", "oab", "autodiscover", "activesync", "rpc", "mapi",
};

static const struct probe_port default_probe_ports[] = {
	{ "smtp", 25 }, { "submission", 587 }, { "smtps", 465 }, { "imaps", 993 },
	{ "pop3s", 995 }, { "imap", 143 }, { "pop3", 110 }, { "https", 443 }, { "http", 80 },
};

#define USER_DEFAULT_PROTOS PROTO_ALL	/* mxdeck can only deny the users it lists */

int
proto_from_name(const char *name)
{
	for (int i = 0; i < PROTO_COUNT; i++)
		if (str_ieq(name, proto_names[i]))
			return i;
	return -1;
}

/* ---- user index: open addressing over lower-cased email, FNV-1a ---- */

static uint32_t
hash_email(const char *s)
{
	uint32_t h = 2166136261u;

	for (; *s != '\0'; s++) {
		h ^= (uint32_t)tolower((unsigned char)*s);
		h *= 16777619u;
	}
	return h;
}

static void
uidx_rebuild(struct site *site, size_t cap)
{
	free(site->uidx);
	site->uidx_cap = cap;
	site->uidx = xcalloc(cap, sizeof *site->uidx);	/* 0 = empty, else index + 1 */
	for (size_t i = 0; i < site->nusers; i++) {
		size_t j = hash_email(site->users[i].email) & (cap - 1);

		while (site->uidx[j] != 0)
			j = (j + 1) & (cap - 1);
		site->uidx[j] = (uint32_t)i + 1;
	}
}

struct user *
site_find_user(const struct site *site, const char *email)
{
	size_t j;

	if (site->uidx_cap == 0)
		return NULL;
	j = hash_email(email) & (site->uidx_cap - 1);
	while (site->uidx[j] != 0) {
		struct user *u = &site->users[site->uidx[j] - 1];

		if (str_ieq(u->email, email))
			return u;
		j = (j + 1) & (site->uidx_cap - 1);
	}
	return NULL;
}

static struct user *
add_user(struct site *site, const char *email, const char *file, int line)
{
	struct user *u;
	size_t j;

	xgrow(&site->users, &site->users_cap, site->nusers + 1, sizeof *site->users);
	u = &site->users[site->nusers++];
	u->email = xstrdup(email);
	u->protos = site->user_default;
	u->file = file;
	u->line = line;
	if ((site->nusers + 1) * 2 > site->uidx_cap) {
		uidx_rebuild(site, site->uidx_cap ? site->uidx_cap * 2 : 64);
		return u;
	}
	j = hash_email(email) & (site->uidx_cap - 1);
	while (site->uidx[j] != 0)
		j = (j + 1) & (site->uidx_cap - 1);
	site->uidx[j] = (uint32_t)site->nusers;
	return u;
}

size_t
site_remove_users(struct site *site, const char *const *emails, size_t n)
{
	unsigned char *drop;
	size_t k = 0, ndrop = 0;

	if (n == 0 || site->nusers == 0)
		return 0;
	/* Mark first, free after: emails[] may point into site->users itself. */
	drop = xcalloc(site->nusers, 1);
	for (size_t i = 0; i < n; i++) {
		struct user *u = site_find_user(site, emails[i]);

		if (u != NULL && !drop[u - site->users]) {
			drop[u - site->users] = 1;
			ndrop++;
		}
	}
	if (ndrop > 0) {
		for (size_t i = 0; i < site->nusers; i++) {
			if (drop[i])
				free(site->users[i].email);
			else
				site->users[k++] = site->users[i];
		}
		site->nusers = k;
		/* Same capacity, fewer users: the table stays at most half full. */
		uidx_rebuild(site, site->uidx_cap);
	}
	free(drop);
	return ndrop;
}

/* ---- sections and their keys ---- */

enum sect {
	S_NONE, S_UNKNOWN, S_SITE, S_HOST, S_VHOST, S_AUTODISCOVER, S_HRULES, S_TLS,
	S_ACCESS, S_USERS, S_USER, S_CONNECTOR, S_TESTS,
};

static const char *const keys_site[] = { "name", "domain", "resolver", "trust_anchor",
	"dkim", NULL };
static const char *const keys_host[] = { "address", "port", "user", "identity", "roles",
	"postfix_dir", "dovecot_dir", "apache_dir", "nginx_dir", "www_dir", "state_dir",
	"postfix_version", "probe_ports", "php_fpm_socket", "postfix_queue_dir",
	"keep_backups", NULL };
static const char *const keys_vhost[] = { "server", "backend", "backend_ca", "services",
	"certificate", "key", "activesync_timeout", "legacy_tls", NULL };
static const char *const keys_ad[] = { "imap", "pop3", "smtp", "activesync", "login",
	"also", NULL };
static const char *const keys_hrules[] = { "scope", "rule", NULL };
static const char *const keys_tls[] = { "smtpd_protocols", "smtp_protocols",
	"no_renegotiation", "dovecot_min_protocol", "dane", "tlsa_ports", "certificate", "key",
	NULL };
static const char *const keys_access[] = { "always_accept", "relay_networks",
	"recipient_restrictions", NULL };
static const char *const keys_users[] = { "default", "file", NULL };
static const char *const keys_user[] = { "imap", "pop3", "smtp", "activesync", "mapi",
	"owa", "ews", NULL };
static const char *const keys_connector[] = { "smarthost", "tenant_id", "client_ca",
	"client_fingerprints", NULL };
static const char *const keys_tests[] = { "ca", "dnsbl", NULL };

static const struct {
	const char *name;
	enum sect sect;
	bool named;
	const char *const *keys;
} sections[] = {
	{ "site", S_SITE, false, keys_site },
	{ "host", S_HOST, true, keys_host },
	{ "vhost", S_VHOST, true, keys_vhost },
	{ "autodiscover", S_AUTODISCOVER, true, keys_ad },
	{ "header-rules", S_HRULES, true, keys_hrules },
	{ "tls", S_TLS, false, keys_tls },
	{ "access", S_ACCESS, false, keys_access },
	{ "users", S_USERS, false, keys_users },
	{ "user", S_USER, true, keys_user },
	{ "connector", S_CONNECTOR, true, keys_connector },
	{ "tests", S_TESTS, false, keys_tests },
};

const char *const *
site_section_keys(const char *section)
{
	for (size_t i = 0; i < nitems(sections); i++)
		if (strcmp(sections[i].name, section) == 0)
			return sections[i].keys;
	return NULL;
}

bool
site_section_has_name(const char *section)
{
	for (size_t i = 0; i < nitems(sections); i++)
		if (strcmp(sections[i].name, section) == 0)
			return sections[i].named;
	return false;
}

/* Keys seen in the current section instance, for duplicate detection. */
struct seen {
	struct { const char *key; int line; } *v;
	size_t n, cap;
};

struct override {		/* a [user "x"] section, applied after the CSV */
	char	*email;
	int	 line;
	unsigned set, val;
};

struct parser {
	struct site *site;
	struct diags *d;
	const char *file;
	enum sect sect;
	int	 sect_line;
	struct seen *seen;		/* points at one of the below */
	struct seen local;		/* per named section instance */
	struct seen singles[S_TESTS + 1];	/* per unnamed section kind */
	struct host *host;
	struct vhost *vhost;
	struct autodiscover *ad;
	struct header_rules *hr;
	struct connector *conn;
	struct override *ov;
	struct override *ovs;
	size_t	 novs, ovs_cap;
	bool	 have_site, have_users_default;
	int	 domain_line, users_file_line, site_line;
	char	*users_file;
};

static void
err(struct parser *P, int line, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void
err(struct parser *P, int line, const char *fmt, ...)
{
	va_list ap;
	char *m;

	va_start(ap, fmt);
	m = xvasprintf(fmt, ap);
	va_end(ap);
	diag_add(P->d, SEV_ERROR, P->file, line, "%s", m);
	free(m);
}

/* False (and an error) when key was already set in this section. */
static bool
first_time(struct parser *P, const char *key, int line)
{
	struct seen *s = P->seen;

	for (size_t i = 0; i < s->n; i++)
		if (strcmp(s->v[i].key, key) == 0) {
			err(P, line, "duplicate key '%s' (first set on line %d); "
			    "remove one of them", key, s->v[i].line);
			return false;
		}
	xgrow(&s->v, &s->cap, s->n + 1, sizeof *s->v);
	s->v[s->n].key = key;		/* points into the ini document: stable */
	s->v[s->n].line = line;
	s->n++;
	return true;
}

static bool
nonempty(struct parser *P, const char *key, const char *value, int line)
{
	if (*value != '\0')
		return true;
	err(P, line, "'%s' needs a value", key);
	return false;
}

static void
set_str(char **dst, const char *value)
{
	free(*dst);
	*dst = xstrdup(value);
}

static int
get_bool(struct parser *P, const char *key, const char *value, int line, bool *out)
{
	int b = parse_bool(value);

	if (b == -1) {
		err(P, line, "'%s' must be yes or no, not '%s'", key, value);
		return -1;
	}
	*out = b == 1;
	return 0;
}

static int
get_port(struct parser *P, const char *what, const char *value, int line, int *out)
{
	long n;

	if (parse_int(value, 1, 65535, &n) == -1) {
		err(P, line, "%s: '%s' is not a port number (1-65535)", what, value);
		return -1;
	}
	*out = (int)n;
	return 0;
}

/* "host:port/ssl" (also [v6]:port). */
static int
get_endpoint(struct parser *P, const char *key, const char *value, int line,
    struct endpoint *ep)
{
	char *v = xstrdup(value), *slash, *colon, *hostpart;
	int rc = -1;

	slash = strrchr(v, '/');
	if (slash != NULL) {
		*slash++ = '\0';
		if (str_ieq(slash, "ssl") || str_ieq(slash, "tls"))
			ep->enc = ENC_SSL;
		else if (str_ieq(slash, "starttls"))
			ep->enc = ENC_STARTTLS;
		else if (str_ieq(slash, "plain") || str_ieq(slash, "none"))
			ep->enc = ENC_PLAIN;
		else {
			err(P, line, "'%s': encryption must be ssl, starttls or plain, not '%s'",
			    key, slash);
			goto out;
		}
	}
	hostpart = v;
	if (*v == '[') {
		char *rb = strchr(v, ']');

		if (rb == NULL || rb[1] != ':') {
			err(P, line, "'%s': expected [IPv6]:port/ssl, got '%s'", key, value);
			goto out;
		}
		*rb = '\0';
		hostpart = v + 1;
		colon = rb + 1;
	} else
		colon = strrchr(v, ':');
	if (colon == NULL || colon == hostpart) {
		err(P, line, "'%s': expected host:port/ssl (e.g. imap.example.org:993/ssl), "
		    "got '%s'", key, value);
		goto out;
	}
	*colon = '\0';
	if (*hostpart == '\0') {
		err(P, line, "'%s': the host name is missing in '%s'", key, value);
		goto out;
	}
	if (get_port(P, key, colon + 1, line, &ep->port) == -1)
		goto out;
	if (slash == NULL) {
		ep->enc = (ep->port == 993 || ep->port == 995 || ep->port == 465) ?
		    ENC_SSL : ENC_STARTTLS;
	}
	set_str(&ep->host, hostpart);
	ep->line = line;
	rc = 0;
out:
	free(v);
	return rc;
}

static void
host_defaults(struct host *h)
{
	h->port = 22;
	h->user = xstrdup("root");
	h->postfix_dir = xstrdup("/etc/postfix");
	h->dovecot_dir = xstrdup("/etc/dovecot");
	h->apache_dir = xstrdup("/etc/apache2");
	h->nginx_dir = xstrdup("/etc/nginx");
	h->www_dir = xstrdup("/var/www/mxdeck");
	h->state_dir = xstrdup("/var/lib/mxdeck");
	h->keep_backups = 10;
	h->php_fpm_socket = xstrdup("/run/php/php8.2-fpm.sock");
	h->postfix_queue_dir = xstrdup("/var/spool/postfix");
	h->nprobe_ports = nitems(default_probe_ports);
	h->probe_ports = xcalloc(h->nprobe_ports, sizeof *h->probe_ports);
	for (size_t i = 0; i < h->nprobe_ports; i++) {
		h->probe_ports[i].service = xstrdup(default_probe_ports[i].service);
		h->probe_ports[i].port = default_probe_ports[i].port;
	}
}

/* A file the profile names (certificate, key, CA, trust anchor): a relative path is
 * relative to the profile's directory, like a local host's directories. */
static void
set_path(struct parser *P, char **dst, const char *value)
{
	free(*dst);
	if (value[0] != '/' && P->site->dir != NULL)
		*dst = xasprintf("%s/%s", P->site->dir, value);
	else
		*dst = xstrdup(value);
}

static void
key_site(struct parser *P, const char *key, const char *value, int line)
{
	struct site *site = P->site;

	if (strcmp(key, "dkim") == 0) {
		(void)get_bool(P, key, value, line, &site->dkim);
		return;
	}
	if (!nonempty(P, key, value, line))
		return;
	if (strcmp(key, "name") == 0)
		set_str(&site->name, value);
	else if (strcmp(key, "domain") == 0) {
		set_str(&site->domain, value);
		P->domain_line = line;
	} else if (strcmp(key, "resolver") == 0)
		set_str(&site->resolver, value);
	else if (strcmp(key, "trust_anchor") == 0)
		set_path(P, &site->trust_anchor, value);
}

static void
set_dir(struct parser *P, struct host *h, char **dst, const char *key, const char *value,
    int line)
{
	if (!nonempty(P, key, value, line))
		return;
	if (value[0] == '/' || h->local) {
		if (value[0] != '/' && P->site->dir != NULL) {
			free(*dst);
			*dst = xasprintf("%s/%s", P->site->dir, value);
		} else
			set_str(dst, value);
		return;
	}
	/* address may come after the directory keys: remember and check at the end */
	set_str(dst, value);
}

static void
key_host(struct parser *P, const char *key, const char *value, int line)
{
	struct host *h = P->host;

	if (strcmp(key, "address") == 0) {
		if (!nonempty(P, key, value, line))
			return;
		set_str(&h->address, value);
		h->local = strcmp(value, "local") == 0;
	} else if (strcmp(key, "port") == 0)
		h->port_set = get_port(P, "port", value, line, &h->port) == 0;
	else if (strcmp(key, "user") == 0) {
		if ((h->user_set = nonempty(P, key, value, line)))
			set_str(&h->user, value);
	} else if (strcmp(key, "identity") == 0) {
		if (nonempty(P, key, value, line))
			set_str(&h->identity, value);
	} else if (strcmp(key, "roles") == 0) {
		struct strv w = { 0 };

		strv_split_words(&w, value);
		if (w.n == 0)
			err(P, line, "'roles' needs at least one of: postfix dovecot apache "
			    "nginx autodiscover dns exchange");
		for (size_t i = 0; i < w.n; i++) {
			int r = -1;

			for (int j = 0; j < ROLE_COUNT; j++)
				if (str_ieq(w.v[i], role_names[j]))
					r = j;
			if (r == -1)
				err(P, line, "unknown role '%s'; roles are postfix dovecot apache "
				    "nginx autodiscover dns exchange", w.v[i]);
			else
				h->roles |= 1u << r;
		}
		strv_free(&w);
	} else if (strcmp(key, "postfix_dir") == 0)
		set_dir(P, h, &h->postfix_dir, key, value, line);
	else if (strcmp(key, "dovecot_dir") == 0)
		set_dir(P, h, &h->dovecot_dir, key, value, line);
	else if (strcmp(key, "apache_dir") == 0)
		set_dir(P, h, &h->apache_dir, key, value, line);
	else if (strcmp(key, "nginx_dir") == 0)
		set_dir(P, h, &h->nginx_dir, key, value, line);
	else if (strcmp(key, "www_dir") == 0)
		set_dir(P, h, &h->www_dir, key, value, line);
	else if (strcmp(key, "state_dir") == 0)
		set_dir(P, h, &h->state_dir, key, value, line);
	else if (strcmp(key, "php_fpm_socket") == 0)
		set_dir(P, h, &h->php_fpm_socket, key, value, line);
	else if (strcmp(key, "postfix_queue_dir") == 0)
		set_dir(P, h, &h->postfix_queue_dir, key, value, line);
	else if (strcmp(key, "keep_backups") == 0) {
		long n;

		if (parse_int(value, 1, 1000, &n) == -1)
			err(P, line, "keep_backups: '%s' is not a number of backups to keep "
			    "(1-1000)", value);
		else
			h->keep_backups = (int)n;
	} else if (strcmp(key, "postfix_version") == 0) {
		const char *p = value;

		if (!nonempty(P, key, value, line))
			return;
		while (isdigit((unsigned char)*p) || (*p == '.' && p != value && p[1] != '\0'))
			p++;
		if (*p != '\0' || !isdigit((unsigned char)value[0])) {
			err(P, line, "postfix_version: '%s' is not a version like 3.7 or 3.4.13",
			    value);
			return;
		}
		set_str(&h->postfix_version, value);
	} else if (strcmp(key, "probe_ports") == 0) {
		struct strv w = { 0 };

		strv_split_words(&w, value);
		for (size_t i = 0; i < w.n; i++) {
			char *colon = strchr(w.v[i], ':');
			size_t j;
			int port = 0;

			if (colon == NULL) {
				err(P, line, "probe_ports: '%s' should be service:port, e.g. smtp:25",
				    w.v[i]);
				continue;
			}
			*colon = '\0';
			for (j = 0; j < nitems(default_probe_ports); j++)
				if (strcmp(w.v[i], default_probe_ports[j].service) == 0)
					break;
			if (j == nitems(default_probe_ports)) {
				err(P, line, "probe_ports: unknown service '%s'; services are smtp "
				    "submission smtps imaps pop3s imap pop3 https http", w.v[i]);
				continue;
			}
			if (strcmp(colon + 1, "off") != 0 && strcmp(colon + 1, "0") != 0 &&
			    get_port(P, "probe_ports", colon + 1, line, &port) == -1)
				continue;
			for (size_t k = 0; k < h->nprobe_ports; k++)
				if (strcmp(h->probe_ports[k].service, w.v[i]) == 0)
					h->probe_ports[k].port = port;
		}
		strv_free(&w);
	}
}

static void
key_vhost(struct parser *P, const char *key, const char *value, int line)
{
	struct vhost *v = P->vhost;

	if (strcmp(key, "server") == 0) {
		if (str_ieq(value, "apache"))
			v->server = SERVER_APACHE;
		else if (str_ieq(value, "nginx"))
			v->server = SERVER_NGINX;
		else
			err(P, line, "server must be apache or nginx, not '%s'", value);
	} else if (strcmp(key, "services") == 0) {
		struct strv w = { 0 };

		v->services = 0;
		strv_split_words(&w, value);
		for (size_t i = 0; i < w.n; i++) {
			int s = -1;

			for (int j = 0; j < SVC_COUNT; j++)
				if (str_ieq(w.v[i], service_names[j]))
					s = j;
			if (s == -1)
				err(P, line, "unknown service '%s'; services are owa oma ecp ews oab "
				    "autodiscover activesync rpc mapi", w.v[i]);
			else
				v->services |= SVC_BIT(s);
		}
		if (w.n == 0)
			err(P, line, "'services' needs at least one service");
		strv_free(&w);
	} else if (strcmp(key, "activesync_timeout") == 0) {
		long n;

		if (parse_int(value, 1, 86400, &n) == -1)
			err(P, line, "activesync_timeout: '%s' is not a number of seconds "
			    "(1-86400)", value);
		else {
			v->activesync_timeout = (int)n;
			v->activesync_timeout_line = line;
		}
	} else if (strcmp(key, "legacy_tls") == 0) {
		if (get_bool(P, key, value, line, &v->legacy_tls) == 0)
			v->legacy_tls_line = line;
	} else if (!nonempty(P, key, value, line))
		return;
	else if (strcmp(key, "backend") == 0)
		set_str(&v->backend, value);
	else if (strcmp(key, "backend_ca") == 0)
		set_path(P, &v->backend_ca, value);
	else if (strcmp(key, "certificate") == 0)
		set_path(P, &v->certificate, value);
	else if (strcmp(key, "key") == 0)
		set_path(P, &v->key, value);
}

static void
key_ad(struct parser *P, const char *key, const char *value, int line)
{
	struct autodiscover *a = P->ad;

	if (strcmp(key, "also") == 0) {
		strv_split_words(&a->also, value);
		return;
	}
	if (!nonempty(P, key, value, line))
		return;
	if (strcmp(key, "imap") == 0)
		(void)get_endpoint(P, key, value, line, &a->imap);
	else if (strcmp(key, "pop3") == 0)
		(void)get_endpoint(P, key, value, line, &a->pop3);
	else if (strcmp(key, "smtp") == 0)
		(void)get_endpoint(P, key, value, line, &a->smtp);
	else if (strcmp(key, "activesync") == 0)
		set_str(&a->activesync, value);
	else if (strcmp(key, "login") == 0) {
		if (str_ieq(value, "email"))
			a->login = LOGIN_EMAIL;
		else if (str_ieq(value, "localpart"))
			a->login = LOGIN_LOCALPART;
		else
			err(P, line, "login must be email or localpart, not '%s'", value);
	}
}

static void
key_hrules(struct parser *P, const char *key, const char *value, int line)
{
	struct header_rules *hr = P->hr;

	if (strcmp(key, "scope") == 0) {
		if (str_ieq(value, "authenticated"))
			hr->scope = SCOPE_AUTHENTICATED;
		else if (str_ieq(value, "outbound"))
			hr->scope = SCOPE_OUTBOUND;
		else
			err(P, line, "scope must be authenticated or outbound, not '%s'", value);
	} else if (strcmp(key, "rule") == 0) {
		struct header_rule *r;
		char *cause = NULL;

		if (!nonempty(P, key, value, line))
			return;
		hr->rules = xrealloc(hr->rules, (hr->nrules + 1) * sizeof *hr->rules);
		r = &hr->rules[hr->nrules++];
		memset(r, 0, sizeof *r);
		r->text = xstrdup(value);
		r->line = line;
		r->action = -1;
		if (hdr_rule_parse(r, &cause) == -1) {
			err(P, line, "header rule: %s", cause);
			free(cause);
		}
	}
}

static int
get_ports(struct parser *P, const char *key, const char *value, int line, int **v, size_t *n)
{
	struct strv w = { 0 };
	int rc = 0;

	free(*v);
	*v = NULL;
	*n = 0;
	strv_split_words(&w, value);
	*v = xcalloc(w.n + 1, sizeof **v);
	for (size_t i = 0; i < w.n; i++) {
		int port;

		if (get_port(P, key, w.v[i], line, &port) == -1)
			rc = -1;
		else
			(*v)[(*n)++] = port;
	}
	strv_free(&w);
	return rc;
}

static void
key_tls(struct parser *P, const char *key, const char *value, int line)
{
	struct tls_policy *t = &P->site->tls;

	if (strcmp(key, "no_renegotiation") == 0)
		(void)get_bool(P, key, value, line, &t->no_renegotiation);
	else if (strcmp(key, "dane") == 0)
		(void)get_bool(P, key, value, line, &t->dane);
	else if (strcmp(key, "tlsa_ports") == 0)
		(void)get_ports(P, key, value, line, &t->tlsa_ports, &t->ntlsa_ports);
	else if (!nonempty(P, key, value, line))
		return;
	else if (strcmp(key, "smtpd_protocols") == 0)
		set_str(&t->smtpd_protocols, value);
	else if (strcmp(key, "smtp_protocols") == 0)
		set_str(&t->smtp_protocols, value);
	else if (strcmp(key, "dovecot_min_protocol") == 0)
		set_str(&t->dovecot_min_protocol, value);
	else if (strcmp(key, "certificate") == 0)
		set_path(P, &t->certificate, value);
	else if (strcmp(key, "key") == 0)
		set_path(P, &t->key, value);
}

static void
key_tests(struct parser *P, const char *key, const char *value, int line)
{
	if (!nonempty(P, key, value, line))
		return;
	if (strcmp(key, "ca") == 0)
		set_path(P, &P->site->tests_ca, value);
	else if (strcmp(key, "dnsbl") == 0) {
		strv_free(&P->site->tests_dnsbl);
		strv_split_words(&P->site->tests_dnsbl, value);
	}
}

static void
key_access(struct parser *P, const char *key, const char *value, int line)
{
	struct access_policy *a = &P->site->access;

	(void)line;
	if (strcmp(key, "always_accept") == 0) {
		strv_free(&a->always_accept);
		strv_split_words(&a->always_accept, value);
	} else if (strcmp(key, "relay_networks") == 0) {
		strv_free(&a->relay_networks);
		strv_split_words(&a->relay_networks, value);
	} else if (strcmp(key, "recipient_restrictions") == 0) {
		strv_free(&a->recipient_restrictions);
		strv_split_words(&a->recipient_restrictions, value);
	}
}

/* "imap pop3:off smtp" -> bits; unlisted protocols are off. */
static int
parse_proto_set(struct parser *P, const char *value, int line, unsigned *out)
{
	struct strv w = { 0 };
	unsigned set = 0;
	int rc = 0;

	strv_split_words(&w, value);
	for (size_t i = 0; i < w.n; i++) {
		char *colon = strchr(w.v[i], ':');
		int p, on = 1;

		if (colon != NULL) {
			*colon = '\0';
			if ((on = parse_bool(colon + 1)) == -1) {
				err(P, line, "default: '%s:%s' should be %s:on or %s:off", w.v[i],
				    colon + 1, w.v[i], w.v[i]);
				rc = -1;
				continue;
			}
		}
		if ((p = proto_from_name(w.v[i])) == -1) {
			err(P, line, "unknown protocol '%s'; protocols are imap pop3 smtp "
			    "activesync mapi owa ews", w.v[i]);
			rc = -1;
			continue;
		}
		if (on)
			set |= PROTO_BIT(p);
		else
			set &= ~PROTO_BIT(p);
	}
	strv_free(&w);
	*out = set;
	return rc;
}

static void
key_users(struct parser *P, const char *key, const char *value, int line)
{
	if (strcmp(key, "default") == 0) {
		if (parse_proto_set(P, value, line, &P->site->user_default) == 0)
			P->have_users_default = true;
	} else if (strcmp(key, "file") == 0) {
		if (!nonempty(P, key, value, line))
			return;
		set_str(&P->users_file, value);
		P->users_file_line = line;
	}
}

static void
key_user(struct parser *P, const char *key, const char *value, int line)
{
	int p = proto_from_name(key);
	bool on;

	if (get_bool(P, key, value, line, &on) == -1)
		return;
	P->ov->set |= PROTO_BIT(p);
	if (on)
		P->ov->val |= PROTO_BIT(p);
	else
		P->ov->val &= ~PROTO_BIT(p);
}

static void
key_connector(struct parser *P, const char *key, const char *value, int line)
{
	struct connector *c = P->conn;

	if (!nonempty(P, key, value, line))
		return;
	if (strcmp(key, "smarthost") == 0)
		set_str(&c->smarthost, value);
	else if (strcmp(key, "tenant_id") == 0)
		set_str(&c->tenant_id, value);
	else if (strcmp(key, "client_ca") == 0)
		set_path(P, &c->client_ca, value);
	else if (strcmp(key, "client_fingerprints") == 0) {
		strv_free(&c->client_fingerprints);
		strv_split_words(&c->client_fingerprints, value);
	}
}

/* Grow-by-one for the small per-kind arrays. */
#define PUSH(arr, n) (arr = xrealloc(arr, ((n) + 1) * sizeof *(arr)), \
	memset(&(arr)[n], 0, sizeof *(arr)), &(arr)[(n)++])

/* A value or name with a byte that would end or garble a line in a generated file
 * (quoted values may hold \n): every C0 control but tab, and DEL. */
static bool
has_control(const char *s)
{
	for (; *s != '\0'; s++)
		if (((unsigned char)*s < 0x20 && *s != '\t') || *s == 0x7f)
			return true;
	return false;
}

static void
begin_section(struct parser *P, const struct ini_line *l, int line)
{
	struct site *site = P->site;
	size_t i;

	for (i = 0; i < nitems(sections); i++)
		if (strcmp(sections[i].name, l->section) == 0)
			break;
	P->local.n = 0;
	P->seen = &P->local;
	P->sect_line = line;
	if (i == nitems(sections)) {
		err(P, line, "unknown section [%s]; sections are site host vhost autodiscover "
		    "header-rules tls access users user connector", l->section);
		P->sect = S_UNKNOWN;
		return;
	}
	if (sections[i].named && (l->sub == NULL || *l->sub == '\0')) {
		err(P, line, "[%s] needs a name, e.g. [%s \"%s\"]", l->section, l->section,
		    strcmp(l->section, "user") == 0 ? "alice@example.org" :
		    strcmp(l->section, "host") == 0 ? "gw1" : "example.org");
		P->sect = S_UNKNOWN;
		return;
	}
	if (sections[i].named && has_control(l->sub)) {
		err(P, line, "the name of [%s] contains a control character (a \\n, \\r or "
		    "similar): it would start a new line in the generated files; remove it",
		    l->section);
		P->sect = S_UNKNOWN;
		return;
	}
	if (!sections[i].named && l->sub != NULL) {
		err(P, line, "[%s] takes no name; write [%s]", l->section, l->section);
		P->sect = S_UNKNOWN;
		return;
	}
	P->sect = sections[i].sect;
	if (!sections[i].named)
		P->seen = &P->singles[P->sect];
	switch (P->sect) {
	case S_SITE:
		P->have_site = true;
		if (P->site_line == 0)
			P->site_line = line;
		break;
	case S_HOST:
		P->host = PUSH(site->hosts, site->nhosts);
		P->host->name = xstrdup(l->sub);
		P->host->line = line;
		host_defaults(P->host);
		break;
	case S_VHOST:
		P->vhost = PUSH(site->vhosts, site->nvhosts);
		P->vhost->name = xstrdup(l->sub);
		P->vhost->line = line;
		P->vhost->server = SERVER_APACHE;
		P->vhost->activesync_timeout = 1800;
		P->vhost->services = (1u << SVC_COUNT) - 1;
		break;
	case S_AUTODISCOVER:
		P->ad = PUSH(site->ads, site->nads);
		P->ad->domain = xstrdup(l->sub);
		P->ad->line = line;
		break;
	case S_HRULES:
		P->hr = PUSH(site->hrules, site->nhrules);
		P->hr->name = xstrdup(l->sub);
		P->hr->line = line;
		break;
	case S_TLS:
		if (site->tls.line == 0)
			site->tls.line = line;
		break;
	case S_ACCESS:
		if (site->access.line == 0)
			site->access.line = line;
		break;
	case S_USER:
		xgrow(&P->ovs, &P->ovs_cap, P->novs + 1, sizeof *P->ovs);
		P->ov = &P->ovs[P->novs++];
		P->ov->email = xstrdup(l->sub);
		P->ov->line = line;
		P->ov->set = P->ov->val = 0;
		break;
	case S_CONNECTOR:
		P->conn = PUSH(site->connectors, site->nconnectors);
		P->conn->domain = xstrdup(l->sub);
		P->conn->line = line;
		break;
	default:
		break;
	}
}

static void
handle_key(struct parser *P, const struct ini_line *l, int line)
{
	const char *const *keys = NULL;

	if (P->sect == S_UNKNOWN || P->sect == S_NONE)
		return;
	if (has_control(l->value)) {
		err(P, line, "the value of '%s' contains a control character (a \\n, \\r or "
		    "similar from a quoted value): every generated file is line-based, so it "
		    "would start a new line there; remove it", l->key);
		return;
	}
	for (size_t i = 0; i < nitems(sections); i++)
		if (sections[i].sect == P->sect)
			keys = sections[i].keys;
	for (size_t i = 0; keys[i] != NULL; i++) {
		if (strcmp(keys[i], l->key) != 0)
			continue;
		if (!(P->sect == S_HRULES && strcmp(l->key, "rule") == 0) &&
		    !first_time(P, l->key, line))
			return;
		switch (P->sect) {
		case S_SITE:		key_site(P, l->key, l->value, line); break;
		case S_HOST:		key_host(P, l->key, l->value, line); break;
		case S_VHOST:		key_vhost(P, l->key, l->value, line); break;
		case S_AUTODISCOVER:	key_ad(P, l->key, l->value, line); break;
		case S_HRULES:		key_hrules(P, l->key, l->value, line); break;
		case S_TLS:		key_tls(P, l->key, l->value, line); break;
		case S_ACCESS:		key_access(P, l->key, l->value, line); break;
		case S_USERS:		key_users(P, l->key, l->value, line); break;
		case S_USER:		key_user(P, l->key, l->value, line); break;
		case S_CONNECTOR:	key_connector(P, l->key, l->value, line); break;
		case S_TESTS:		key_tests(P, l->key, l->value, line); break;
		default:		break;
		}
		return;
	}
	{
		struct sbuf b;

		sb_init(&b);
		for (size_t i = 0; keys[i] != NULL; i++)
			sb_addf(&b, "%s%s", i ? " " : "", keys[i]);
		err(P, line, "unknown key '%s' in [%s]; known keys: %s", l->key, l->section,
		    b.s);
		sb_free(&b);
	}
}

static bool
seen_has(const struct seen *s, const char *key)
{
	for (size_t i = 0; i < s->n; i++)
		if (strcmp(s->v[i].key, key) == 0)
			return true;
	return false;
}

/* Required keys and defaults, once every line is read. */
static void
finish(struct parser *P)
{
	struct site *site = P->site;

	if (!P->have_site || site->domain == NULL)
		err(P, P->have_site ? P->site_line : 1,
		    "the profile needs [site] with domain = (the mail domain, e.g. example.org)");
	if (site->name == NULL)
		site->name = xstrdup(site->domain != NULL ? site->domain : "site");
	if (site->trust_anchor == NULL)
		site->trust_anchor = xstrdup("/usr/share/dns/root.key");
	for (size_t i = 0; i < site->nhosts; i++) {
		struct host *h = &site->hosts[i];
		char **dirs[] = { &h->postfix_dir, &h->dovecot_dir, &h->apache_dir,
		    &h->nginx_dir, &h->www_dir, &h->state_dir, &h->php_fpm_socket,
		    &h->postfix_queue_dir };

		if (h->address == NULL)
			err(P, h->line, "[host \"%s\"] needs address = (a name, an IP, or local)",
			    h->name);
		if (h->roles == 0)
			err(P, h->line, "[host \"%s\"] needs roles = (postfix dovecot apache "
			    "nginx autodiscover dns exchange)", h->name);
		for (size_t j = 0; j < nitems(dirs); j++) {
			if ((*dirs[j])[0] == '/')
				continue;
			if (h->local && site->dir != NULL) {
				char *abs = xasprintf("%s/%s", site->dir, *dirs[j]);

				free(*dirs[j]);
				*dirs[j] = abs;
			} else
				err(P, h->line, "[host \"%s\"]: '%s' must be an absolute path on a "
				    "remote host", h->name, *dirs[j]);
		}
	}
	for (size_t i = 0; i < site->nvhosts; i++) {
		struct vhost *v = &site->vhosts[i];

		if (v->backend == NULL)
			err(P, v->line, "[vhost \"%s\"] needs backend = (the Exchange URL, e.g. "
			    "https://exchange1.lan.example.org)", v->name);
		if (v->certificate == NULL || v->key == NULL)
			err(P, v->line, "[vhost \"%s\"] needs certificate = and key = (paths on "
			    "the gateway)", v->name);
	}
	for (size_t i = 0; i < site->nconnectors; i++) {
		struct connector *c = &site->connectors[i];

		if (c->smarthost == NULL)
			err(P, c->line, "[connector \"%s\"] needs smarthost = (e.g. "
			    "[fax-gw.example.org]:25)", c->domain);
	}
	if (site->tls.smtpd_protocols == NULL)
		site->tls.smtpd_protocols = xstrdup(">=TLSv1.2");
	if (site->tls.smtp_protocols == NULL)
		site->tls.smtp_protocols = xstrdup(">=TLSv1.2");
	if (site->tls.dovecot_min_protocol == NULL)
		site->tls.dovecot_min_protocol = xstrdup("TLSv1.2");
	if (P->singles[S_TLS].n == 0 || !seen_has(&P->singles[S_TLS], "no_renegotiation"))
		site->tls.no_renegotiation = true;
	if (site->tls.tlsa_ports == NULL) {
		site->tls.tlsa_ports = xcalloc(2, sizeof *site->tls.tlsa_ports);
		site->tls.tlsa_ports[0] = 25;
		site->tls.tlsa_ports[1] = 465;
		site->tls.ntlsa_ports = 2;
	}
	if (site->access.always_accept.n == 0 &&
	    !seen_has(&P->singles[S_ACCESS], "always_accept")) {
		strv_push(&site->access.always_accept, "postmaster");
		strv_push(&site->access.always_accept, "abuse");
	}
}

/* ---- users CSV ---- */

struct csvrec {
	char	**f;
	size_t	 n, cap;
	struct sbuf buf;	/* field bytes, NUL-separated */
	size_t	*off;		/* offsets into buf */
	size_t	 offcap;
};

/* Read one record starting at *pos; handles "quoted ""fields""" spanning lines.
 * Returns 0, 1 at end of input, -1 on an unterminated quote. *line advances. */
static int
csv_next(const char *buf, size_t len, size_t *pos, int *line, struct csvrec *r, char sep)
{
	size_t p = *pos;
	bool quoted = false, field_start = true, any = false;

	if (p >= len)
		return 1;
	sb_reset(&r->buf);
	r->n = 0;
	xgrow(&r->off, &r->offcap, 1, sizeof *r->off);
	r->off[r->n++] = 0;
	for (; p < len; p++) {
		char c = buf[p];

		any = true;
		if (quoted) {
			if (c == '"') {
				if (p + 1 < len && buf[p + 1] == '"') {
					sb_addc(&r->buf, '"');
					p++;
				} else
					quoted = false;
			} else {
				if (c == '\n')
					(*line)++;
				sb_addc(&r->buf, c);
			}
			continue;
		}
		if (c == '"' && field_start) {
			quoted = true;
			field_start = false;
			continue;
		}
		if (c == sep) {
			sb_addc(&r->buf, '\0');
			xgrow(&r->off, &r->offcap, r->n + 1, sizeof *r->off);
			r->off[r->n++] = r->buf.len;
			field_start = true;
			continue;
		}
		if (c == '\r' && p + 1 < len && buf[p + 1] == '\n')
			continue;
		if (c == '\n') {
			p++;
			break;
		}
		field_start = false;
		sb_addc(&r->buf, c);
	}
	*pos = p;
	if (quoted)
		return -1;
	sb_addc(&r->buf, '\0');
	xgrow(&r->f, &r->cap, r->n, sizeof *r->f);
	for (size_t i = 0; i < r->n; i++)
		r->f[i] = r->buf.s + r->off[i];
	(void)any;
	return 0;
}

/* The field separator of the line at buf: ',' unless the line has more unquoted ';'
 * or tabs (Export-Csv -UseCulture and Excel write ';' in German locales). */
static char
csv_separator(const char *buf, size_t len)
{
	size_t comma = 0, semi = 0, tab = 0;
	bool quoted = false;

	for (size_t i = 0; i < len && (quoted || buf[i] != '\n'); i++) {
		if (buf[i] == '"')
			quoted = !quoted;
		else if (!quoted && buf[i] == ',')
			comma++;
		else if (!quoted && buf[i] == ';')
			semi++;
		else if (!quoted && buf[i] == '\t')
			tab++;
	}
	if (semi > comma && semi >= tab)
		return ';';
	if (tab > comma && tab > semi)
		return '\t';
	return ',';
}

static const struct {
	const char *name;
	int col;	/* -1: email, else enum proto */
} csv_columns[] = {
	{ "email", -1 }, { "primarysmtpaddress", -1 }, { "windowsemailaddress", -1 },
	{ "emailaddress", -1 }, { "userprincipalname", -1 }, { "mail", -1 },
	{ "imap", PROTO_IMAP }, { "imapenabled", PROTO_IMAP },
	{ "pop3", PROTO_POP3 }, { "pop", PROTO_POP3 }, { "popenabled", PROTO_POP3 },
	{ "pop3enabled", PROTO_POP3 },
	{ "smtp", PROTO_SMTP }, { "smtpenabled", PROTO_SMTP }, { "submission", PROTO_SMTP },
	{ "activesync", PROTO_ACTIVESYNC }, { "activesyncenabled", PROTO_ACTIVESYNC },
	{ "mapi", PROTO_MAPI }, { "mapienabled", PROTO_MAPI },
	{ "owa", PROTO_OWA }, { "owaenabled", PROTO_OWA },
	{ "ews", PROTO_EWS }, { "ewsenabled", PROTO_EWS },
};

/* UTF-16 with a byte order mark (PowerShell's > redirection and Out-File write
 * UTF-16LE) to UTF-8; unpaired surrogates become U+FFFD. */
static char *
utf16_to_utf8(const unsigned char *b, size_t len, size_t *outlen)
{
	bool be = b[0] == 0xfe;
	struct sbuf o;

	sb_init(&o);
	sb_addn(&o, "", 0);
	for (size_t i = 2; i + 1 < len; i += 2) {
		uint32_t c = be ? (uint32_t)(b[i] << 8 | b[i + 1]) :
		    (uint32_t)(b[i + 1] << 8 | b[i]);

		if (c >= 0xd800 && c <= 0xdbff && i + 3 < len) {
			uint32_t c2 = be ? (uint32_t)(b[i + 2] << 8 | b[i + 3]) :
			    (uint32_t)(b[i + 3] << 8 | b[i + 2]);

			if (c2 >= 0xdc00 && c2 <= 0xdfff) {
				c = 0x10000 + ((c - 0xd800) << 10) + (c2 - 0xdc00);
				i += 2;
			} else
				c = 0xfffd;
		} else if (c >= 0xd800 && c <= 0xdfff)
			c = 0xfffd;
		if (c < 0x80)
			sb_addc(&o, (char)c);
		else if (c < 0x800) {
			sb_addc(&o, (char)(0xc0 | c >> 6));
			sb_addc(&o, (char)(0x80 | (c & 0x3f)));
		} else if (c < 0x10000) {
			sb_addc(&o, (char)(0xe0 | c >> 12));
			sb_addc(&o, (char)(0x80 | ((c >> 6) & 0x3f)));
			sb_addc(&o, (char)(0x80 | (c & 0x3f)));
		} else {
			sb_addc(&o, (char)(0xf0 | c >> 18));
			sb_addc(&o, (char)(0x80 | ((c >> 12) & 0x3f)));
			sb_addc(&o, (char)(0x80 | ((c >> 6) & 0x3f)));
			sb_addc(&o, (char)(0x80 | (c & 0x3f)));
		}
	}
	*outlen = o.len;
	return sb_steal(&o);
}

/* mxdeck's own columns, in their order: the header the console rewrites rows under. */
static const char *const native_columns[] = {
	"email", "imap", "pop3", "smtp", "activesync", "mapi", "owa", "ews",
};

static bool
csv_native_header(const struct csvrec *r)
{
	if (r->n != nitems(native_columns))
		return false;
	for (size_t i = 0; i < r->n; i++)
		if (!str_ieq(str_trim(r->f[i]), native_columns[i]))
			return false;
	return true;
}

static void
rec_add(struct csv_records *recs, enum csv_rec_kind kind, const char *email, int first,
    int last)
{
	struct csv_record *rec;

	if (recs == NULL)
		return;
	xgrow(&recs->v, &recs->cap, recs->n + 1, sizeof *recs->v);
	rec = &recs->v[recs->n++];
	rec->kind = kind;
	rec->email = email != NULL ? xstrdup(email) : NULL;
	rec->first = first;
	rec->last = last;
}

/* The one reader of users CSV text: users_csv_parse() fills site; recs, when not NULL,
 * also gets every record it read, with what it made of it. */
static int
csv_parse(struct site *site, const char *path, const char *buf, size_t len,
    struct diags *d, struct csv_records *recs)
{
	struct csvrec r = { 0 };
	size_t pos = 0;
	int line = 1, email_col = -1, email_rank = 99, cols[PROTO_COUNT];
	const char *colname[PROTO_COUNT];
	size_t ncols = 0, errors0 = d->nerrors;
	bool header = false;
	char sep = ',';
	const char *file, *nul;

	/* Users keep a pointer to their file name: make it owned by the site. */
	if (site->users_path == NULL || strcmp(site->users_path, path) != 0) {
		free(site->users_path);
		site->users_path = xstrdup(path);
	}
	file = site->users_path;
	if (len >= 2 && (((unsigned char)buf[0] == 0xff && (unsigned char)buf[1] == 0xfe) ||
	    ((unsigned char)buf[0] == 0xfe && (unsigned char)buf[1] == 0xff))) {
		size_t n;
		char *u8 = utf16_to_utf8((const unsigned char *)buf, len, &n);
		int rc = csv_parse(site, file, u8, n, d, recs);

		free(u8);
		if (recs != NULL)
			recs->utf16 = true;
		return rc;
	}
	for (int i = 0; i < PROTO_COUNT; i++) {
		cols[i] = -1;
		colname[i] = NULL;
	}
	if (len >= 3 && memcmp(buf, "\xef\xbb\xbf", 3) == 0)
		pos = 3;
	if ((nul = memchr(buf, '\0', len)) != NULL) {
		int nline = 1;

		for (const char *q = buf; q < nul; q++)
			if (*q == '\n')
				nline++;
		diag_add(d, SEV_ERROR, file, nline, "the users file contains NUL bytes; "
		    "export it as CSV text (UTF-8)");
		return -1;
	}
	for (;;) {
		int start = line, rc;

		if (!header)
			sep = csv_separator(buf + pos, len - pos);
		rc = csv_next(buf, len, &pos, &line, &r, sep);

		if (rc == 1)
			break;
		line++;
		if (rc == -1) {
			diag_add(d, SEV_ERROR, file, start, "unterminated quoted field");
			break;
		}
		if ((r.n == 1 && r.f[0][0] == '\0') ||	/* empty line */
		    (!header && r.f[0][0] == '#')) {	/* "#TYPE" line of Export-Csv */
			rec_add(recs, CSVREC_SKIPPED, NULL, start, line - 1);
			continue;
		}
		if (!header) {
			header = true;
			ncols = r.n;
			rec_add(recs, CSVREC_HEADER, NULL, start, line - 1);
			if (recs != NULL) {
				recs->sep = sep;
				recs->native = csv_native_header(&r);
			}
			for (size_t i = 0; i < r.n; i++) {
				char *name = str_trim(r.f[i]);

				for (size_t j = 0; j < nitems(csv_columns); j++) {
					if (!str_ieq(name, csv_columns[j].name))
						continue;
					if (csv_columns[j].col == -1) {
						if ((int)j < email_rank) {
							email_rank = (int)j;
							email_col = (int)i;
						}
					} else if (cols[csv_columns[j].col] == -1) {
						cols[csv_columns[j].col] = (int)i;
						colname[csv_columns[j].col] = csv_columns[j].name;
					}
				}
			}
			if (email_col == -1) {
				diag_add(d, SEV_ERROR, file, start, "no email column in the header; "
				    "name one of: email, PrimarySmtpAddress, WindowsEmailAddress, "
				    "UserPrincipalName");
				break;
			}
			continue;
		}
		if (r.n != ncols) {
			diag_add(d, SEV_ERROR, file, start, "this row has %zu fields, the header "
			    "has %zu", r.n, ncols);
			rec_add(recs, CSVREC_BAD, NULL, start, line - 1);
			continue;
		}
		{
			char *email = str_trim(r.f[email_col]);
			struct user *u;

			if (*email == '\0') {
				diag_add(d, SEV_ERROR, file, start, "empty email address");
				rec_add(recs, CSVREC_BAD, NULL, start, line - 1);
				continue;
			}
			if ((u = site_find_user(site, email)) != NULL) {
				if (u->file == file) {
					diag_add(d, SEV_ERROR, file, start, "duplicate user %s (first on "
					    "line %d); keep one row per user", email, u->line);
					rec_add(recs, CSVREC_BAD, NULL, start, line - 1);
					continue;
				}
				u->file = file;
				u->line = start;
			} else
				u = add_user(site, email, file, start);
			rec_add(recs, CSVREC_USER, u->email, start, line - 1);
			for (int p = 0; p < PROTO_COUNT; p++) {
				char *v;
				int b;

				if (cols[p] == -1)
					continue;
				v = str_trim(r.f[cols[p]]);
				if (*v == '\0')
					continue;
				if ((b = parse_bool(v)) == -1) {
					diag_add(d, SEV_ERROR, file, start, "column %s: '%s' is not "
					    "1/0, on/off, yes/no or True/False", colname[p], v);
					continue;
				}
				if (b)
					u->protos |= PROTO_BIT(p);
				else
					u->protos &= ~PROTO_BIT(p);
			}
		}
	}
	if (!header && d->nerrors == errors0)
		diag_add(d, SEV_ERROR, file, 1, "the users file has no header row (e.g. "
		    "email,imap,pop3,smtp,activesync,mapi,owa,ews)");
	sb_free(&r.buf);
	free(r.f);
	free(r.off);
	return d->nerrors > errors0 ? -1 : 0;
}

int
users_csv_parse(struct site *site, const char *path, const char *buf, size_t len,
    struct diags *d)
{
	return csv_parse(site, path, buf, len, d, NULL);
}

int
users_csv_records(const char *path, const char *buf, size_t len, struct csv_records *out,
    struct diags *d)
{
	struct site tmp;
	int rc;

	memset(&tmp, 0, sizeof tmp);
	memset(out, 0, sizeof *out);
	out->sep = ',';
	rc = csv_parse(&tmp, path, buf, len, d, out);
	site_free(&tmp);
	return rc;
}

void
csv_records_free(struct csv_records *recs)
{
	for (size_t i = 0; i < recs->n; i++)
		free(recs->v[i].email);
	free(recs->v);
	memset(recs, 0, sizeof *recs);
}

int
users_csv_load(struct site *site, const char *path, struct diags *d)
{
	char *cause = NULL, *buf;
	size_t len;
	int rc;

	if ((buf = read_input_file(path, IK_USERS, &len, &cause)) == NULL) {
		diag_add(d, SEV_ERROR, site->path, 0, "users file: %s", cause);
		free(cause);
		return -1;
	}
	rc = users_csv_parse(site, path, buf, len, d);
	free(buf);
	return rc;
}

/* ---- load / free ---- */

static char *
dir_of(const char *path)
{
	char *copy = xstrdup(path), *dir, *abs, cwd[4096];

	dir = xstrdup(dirname(copy));
	free(copy);
	if (dir[0] == '/')
		return dir;
	if (getcwd(cwd, sizeof cwd) == NULL) {
		return dir;
	}
	abs = strcmp(dir, ".") == 0 ? xstrdup(cwd) : xasprintf("%s/%s", cwd, dir);
	free(dir);
	return abs;
}

static int
build(struct site *site, struct diags *d)
{
	struct parser P;
	size_t errors0 = d->nerrors;

	memset(&P, 0, sizeof P);
	P.site = site;
	P.d = d;
	P.file = site->path;
	P.sect = S_NONE;
	P.seen = &P.local;
	site->user_default = USER_DEFAULT_PROTOS;
	for (size_t i = 0; i < site->ini.n; i++) {
		const struct ini_line *l = &site->ini.line[i];

		if (l->kind == INI_SECTION)
			begin_section(&P, l, (int)i + 1);
		else if (l->kind == INI_KEY)
			handle_key(&P, l, (int)i + 1);
		else if (l->kind == INI_BAD && l->raw != NULL &&
		    l->raw[strspn(l->raw, " \t")] == '[')
			P.sect = S_UNKNOWN;	/* its keys belong to no known section */
	}
	finish(&P);
	if (P.users_file != NULL) {
		char *path = P.users_file[0] == '/' ? xstrdup(P.users_file) :
		    xasprintf("%s/%s", site->dir, P.users_file);
		char *cause = NULL, *buf;
		size_t len;

		if ((buf = read_input_file(path, IK_USERS, &len, &cause)) == NULL) {
			err(&P, P.users_file_line, "users file: %s", cause);
			free(cause);
		} else {
			(void)users_csv_parse(site, path, buf, len, d);
			free(buf);
		}
		free(path);
	}
	for (size_t i = 0; i < P.novs; i++) {
		struct override *o = &P.ovs[i];
		struct user *u = site_find_user(site, o->email);

		if (u == NULL)
			u = add_user(site, o->email, site->path, o->line);
		else {
			u->file = site->path;
			u->line = o->line;
		}
		u->protos = (u->protos & ~o->set) | (o->val & o->set);
		free(o->email);
	}
	free(P.ovs);
	free(P.users_file);
	free(P.local.v);
	for (size_t i = 0; i < nitems(P.singles); i++)
		free(P.singles[i].v);
	return d->nerrors > errors0 ? -1 : 0;
}

int
site_load_buf(struct site *site, const char *path, const char *buf, size_t len,
    struct diags *d)
{
	size_t errors0 = d->nerrors;

	memset(site, 0, sizeof *site);
	site->path = xstrdup(path);
	site->dir = dir_of(path);
	ini_parse(&site->ini, path, buf, len, d);
	(void)build(site, d);
	return d->nerrors > errors0 ? -1 : 0;
}

int
site_load(struct site *site, const char *path, struct diags *d)
{
	char *cause = NULL, *buf;
	size_t len;
	int rc;

	if ((buf = read_input_file(path, IK_PROFILE, &len, &cause)) == NULL) {
		memset(site, 0, sizeof *site);
		diag_add(d, SEV_ERROR, path, 0, "cannot read the profile: %s", cause);
		free(cause);
		return -1;
	}
	rc = site_load_buf(site, path, buf, len, d);
	free(buf);
	return rc;
}

const struct host *
site_find_host(const struct site *site, const char *name)
{
	for (size_t i = 0; i < site->nhosts; i++)
		if (strcmp(site->hosts[i].name, name) == 0)
			return &site->hosts[i];
	return NULL;
}

int
host_port(const struct host *h, const char *service, int dflt)
{
	for (size_t i = 0; i < h->nprobe_ports; i++)
		if (strcmp(h->probe_ports[i].service, service) == 0)
			return h->probe_ports[i].port;
	return dflt;
}

static void
endpoint_free(struct endpoint *e)
{
	free(e->host);
}

void
site_free(struct site *site)
{
	free(site->path);
	free(site->dir);
	free(site->users_path);
	ini_free(&site->ini);
	free(site->name);
	free(site->domain);
	free(site->resolver);
	free(site->trust_anchor);
	free(site->tests_ca);
	strv_free(&site->tests_dnsbl);
	for (size_t i = 0; i < site->nhosts; i++) {
		struct host *h = &site->hosts[i];

		free(h->name);
		free(h->address);
		free(h->user);
		free(h->identity);
		free(h->postfix_dir);
		free(h->dovecot_dir);
		free(h->apache_dir);
		free(h->nginx_dir);
		free(h->www_dir);
		free(h->state_dir);
		free(h->postfix_version);
		free(h->php_fpm_socket);
		free(h->postfix_queue_dir);
		for (size_t j = 0; j < h->nprobe_ports; j++)
			free(h->probe_ports[j].service);
		free(h->probe_ports);
	}
	free(site->hosts);
	for (size_t i = 0; i < site->nvhosts; i++) {
		struct vhost *v = &site->vhosts[i];

		free(v->name);
		free(v->backend);
		free(v->backend_ca);
		free(v->certificate);
		free(v->key);
	}
	free(site->vhosts);
	for (size_t i = 0; i < site->nads; i++) {
		struct autodiscover *a = &site->ads[i];

		free(a->domain);
		endpoint_free(&a->imap);
		endpoint_free(&a->pop3);
		endpoint_free(&a->smtp);
		free(a->activesync);
		strv_free(&a->also);
	}
	free(site->ads);
	for (size_t i = 0; i < site->nhrules; i++) {
		struct header_rules *hr = &site->hrules[i];

		for (size_t j = 0; j < hr->nrules; j++) {
			struct header_rule *r = &hr->rules[j];

			free(r->text);
			free(r->regex);
			free(r->flags);
			free(r->action_name);
			free(r->arg);
		}
		free(hr->rules);
		free(hr->name);
	}
	free(site->hrules);
	for (size_t i = 0; i < site->nconnectors; i++) {
		free(site->connectors[i].domain);
		free(site->connectors[i].smarthost);
		free(site->connectors[i].tenant_id);
		free(site->connectors[i].client_ca);
		strv_free(&site->connectors[i].client_fingerprints);
	}
	free(site->connectors);
	free(site->tls.smtpd_protocols);
	free(site->tls.smtp_protocols);
	free(site->tls.dovecot_min_protocol);
	free(site->tls.tlsa_ports);
	free(site->tls.certificate);
	free(site->tls.key);
	strv_free(&site->access.always_accept);
	strv_free(&site->access.relay_networks);
	strv_free(&site->access.recipient_restrictions);
	for (size_t i = 0; i < site->nusers; i++)
		free(site->users[i].email);
	free(site->users);
	free(site->uidx);
	memset(site, 0, sizeof *site);
}
