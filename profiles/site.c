/* site.c: build struct site from the ini document (mxdeck(1) PROFILE FORMAT).
 *
 * The parser checks what one key can tell: unknown sections and keys, values of the
 * wrong type, ports out of range, duplicate singleton keys, missing required keys.
 * Checks across entries (duplicate hosts, unserved vhosts, regexes, addresses) are
 * lint's (profiles/lint.c). */
#include "profiles/site.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <libgen.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

const char *const proto_names[PROTO_COUNT] = {
	"imap", "pop3", "smtp", "activesync", "mapi", "owa", "ews",
};
const char *const service_names[SVC_COUNT] = {
	"owa", "oma", "ecp", "ews", "oab", "autodiscover", "activesync", "rpc", "mapi",
};

const struct host_service_info host_services[HS_COUNT] = {
	[HS_SMTP] = { "smtp", 25, ROLE_POSTFIX },
	[HS_SUBMISSION] = { "submission", 587, ROLE_POSTFIX },
	[HS_SMTPS] = { "smtps", 465, ROLE_POSTFIX },
	[HS_IMAPS] = { "imaps", 993, ROLE_DOVECOT },
	[HS_POP3S] = { "pop3s", 995, ROLE_DOVECOT },
	[HS_IMAP] = { "imap", 143, ROLE_DOVECOT },
	[HS_POP3] = { "pop3", 110, ROLE_DOVECOT },
	[HS_HTTPS] = { "https", 443, ROLE_APACHE | ROLE_NGINX | ROLE_AUTODISCOVER },
	[HS_HTTP] = { "http", 80, ROLE_APACHE | ROLE_NGINX | ROLE_AUTODISCOVER },
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

/* ---- sections and their keys ----
 *
 * Every section is a row of sections[] and every key a row of its section's key table
 * (name, type, field, default, bounds, check or handler), in the manner of Postfix's
 * CONFIG_*_TABLE: the parser, the defaults, the "known keys" message, the console's
 * forms (site_section_keys) and site_free all read these tables. Adding a key is one
 * row here (and its field in site.h); see share/doc/HACKING.md §4.2. */

enum sect {
	S_NONE, S_UNKNOWN, S_SITE, S_HOST, S_VHOST, S_AUTODISCOVER, S_HRULES, S_TLS,
	S_ACCESS, S_USERS, S_USER, S_CONNECTOR, S_MTA_STS, S_TESTS,
};

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
	const struct sectdef *sd;	/* of the current section, NULL: none or unknown */
	void	*obj;			/* what its keys fill (see struct sectdef) */
	int	 sect_line;
	struct seen *seen;		/* points at one of the below */
	struct seen local;		/* per named section instance */
	struct seen singles[S_TESTS + 1];	/* per unnamed section kind */
	struct override *ovs;
	size_t	 novs, ovs_cap;
	bool	 have_site;
	int	 users_file_line, site_line;
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

/* A host directory: relative to the profile's directory on a local host; a remote
 * host's relative directory is refused in finish() (address may come after it). */
static void
set_dir(struct parser *P, const struct host *h, char **dst, const char *value)
{
	if (value[0] != '/' && h->local && P->site->dir != NULL) {
		free(*dst);
		*dst = xasprintf("%s/%s", P->site->dir, value);
	} else
		set_str(dst, value);
}

/* Space-separated port numbers into an array and its count. */
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

/* The index of value among k->what's '|'-separated words (case-insensitive), or -1. */
static int
enum_index(const char *what, const char *value)
{
	size_t vlen = strlen(value);
	int i = 0;

	for (const char *p = what; ; i++) {
		size_t n = strcspn(p, "|");

		if (n == vlen && strncasecmp(p, value, n) == 0)
			return i;
		if (p[n] == '\0')
			return -1;
		p += n + 1;
	}
}

#define FIELD(obj, off)	((void *)((char *)(obj) + (off)))

/* Set one key of obj from value. dflt: a default being applied (no line, no "set"
 * flag). False when the value was refused (the error is reported). */
static bool
key_apply(struct parser *P, const struct profile_key *k, void *obj, const char *value, int line,
    bool dflt)
{
	/* A parser section ([users], ...) has no object: its rows are PK_CUSTOM. */
	void *f = obj != NULL ? FIELD(obj, k->off) : NULL;
	bool ok = true;
	long n;

	if ((k->flags & PK_NONEMPTY) && !nonempty(P, k->name, value, line))
		return false;
	if (k->check != NULL && !k->check(P, k, value, line))
		return false;
	switch (k->type) {
	case PK_STR:
		set_str(f, value);
		break;
	case PK_PATH:
		set_path(P, f, value);
		break;
	case PK_DIR:
		set_dir(P, obj, f, value);
		break;
	case PK_BOOL:
		ok = get_bool(P, k->name, value, line, f) == 0;
		break;
	case PK_INT:
		if ((ok = parse_int(value, k->min, k->max, &n) == 0))
			*(int *)f = (int)n;
		else
			err(P, line, "%s: '%s' is not %s (%ld-%ld)", k->name, value, k->what,
			    k->min, k->max);
		break;
	case PK_PORT:
		ok = get_port(P, k->name, value, line, f) == 0;
		break;
	case PK_PORTS:
		ok = get_ports(P, k->name, value, line, f, FIELD(obj, k->aux)) == 0;
		break;
	case PK_WORDS:
		strv_free(f);
		strv_split_words(f, value);
		break;
	case PK_ENUM: {
		int i = enum_index(k->what, value);

		if ((ok = i != -1))
			*(int *)f = i;
		else {
			/* "a|b|c" reads "a, b or c" */
			const char *bar = strrchr(k->what, '|');
			struct sbuf head;

			sb_init(&head);
			for (const char *c = k->what; c < bar; c++)
				sb_add(&head, *c == '|' ? ", " : (char[]){ *c, '\0' });
			err(P, line, "%s must be %s or %s, not '%s'", k->name,
			    head.s, bar + 1, value);
			sb_free(&head);
		}
		break;
	}
	case PK_ENDPOINT:
		ok = get_endpoint(P, k->name, value, line, f) == 0;
		break;
	case PK_CUSTOM:
		k->handler(P, k, obj, value, line);
		return true;
	}
	if (ok && !dflt && (k->flags & PK_LINE))
		*(int *)FIELD(obj, k->aux) = line;
	if (ok && !dflt && (k->flags & PK_FLAG))
		*(bool *)FIELD(obj, k->aux) = true;
	return ok;
}

/* What a key row owns in obj. */
static void
key_free(const struct profile_key *k, void *obj)
{
	/* A parser section ([users], ...) has no object: its rows are PK_CUSTOM. */
	void *f = obj != NULL ? FIELD(obj, k->off) : NULL;

	switch (k->type) {
	case PK_STR:
	case PK_PATH:
	case PK_DIR:
	case PK_PORTS:
		free(*(void **)f);
		break;
	case PK_WORDS:
		strv_free(f);
		break;
	case PK_ENDPOINT:
		free(((struct endpoint *)f)->host);
		break;
	default:
		break;
	}
}

/* ---- key checks and handlers: what a type alone cannot say ---- */

static bool
check_postfix_version(struct parser *P, const struct profile_key *k, const char *value,
    int line)
{
	const char *p = value;

	while (isdigit((unsigned char)*p) || (*p == '.' && p != value && p[1] != '\0'))
		p++;
	if (*p != '\0' || !isdigit((unsigned char)value[0])) {
		err(P, line, "%s: '%s' is not a version like 3.7 or 3.4.13", k->name, value);
		return false;
	}
	return true;
}

/* A TXT value mxdeck publishes: printable ASCII, no quote or backslash (the zone and
 * nsupdate syntax would need escapes, SPF and DMARC never do). */
static bool
txt_chars_ok(struct parser *P, const struct profile_key *k, const char *value, int line)
{
	for (const unsigned char *c = (const unsigned char *)value; *c != '\0'; c++)
		if (*c < 0x20 || *c > 0x7e || *c == '"' || *c == '\\') {
			err(P, line, "%s: character '%s%c' is not allowed in the published "
			    "record (printable ASCII without \" and \\)", k->name,
			    *c < 0x20 || *c > 0x7e ? "\\x" : "", *c < 0x20 || *c > 0x7e ?
			    '?' : *c);
			return false;
		}
	if (strlen(value) > 450) {
		err(P, line, "%s: %zu characters; keep the record under 450 so that the "
		    "answer fits one DNS packet (use include:)", k->name, strlen(value));
		return false;
	}
	return true;
}

/* [site] spf: "none" (publish nothing) or an SPF record (RFC 7208 §4.6, §12): v=spf1,
 * then known mechanisms with an optional qualifier, or name=value modifiers; at most 10
 * DNS-querying terms (§4.6.4). */
static bool
check_spf(struct parser *P, const struct profile_key *k, const char *value, int line)
{
	static const char *const mech[] = { "all", "include", "a", "mx", "ptr", "ip4",
	    "ip6", "exists" };
	struct strv w = { 0 };
	int lookups = 0;
	bool ok = true;

	if (strcmp(value, "none") == 0)
		return true;
	if (!txt_chars_ok(P, k, value, line))
		return false;
	strv_split_words(&w, value);
	if (w.n == 0 || strcasecmp(w.v[0], "v=spf1") != 0) {
		err(P, line, "%s: '%s' does not start with v=spf1 (or say none to publish "
		    "no SPF record)", k->name, value);
		strv_free(&w);
		return false;
	}
	for (size_t i = 1; i < w.n && ok; i++) {
		const char *t = w.v[i], *arg;
		size_t nl, j;

		if (strchr("+-~?", *t) != NULL)
			t++;
		nl = strcspn(t, ":/=");
		if (t[nl] == '=' && nl > 0 && t != w.v[i] + 1) {
			if ((nl == 8 && strncasecmp(t, "redirect", 8) == 0))
				lookups++;
			if (t[nl + 1] == '\0') {
				err(P, line, "%s: modifier '%s' has no value", k->name, w.v[i]);
				ok = false;
			}
			continue;
		}
		for (j = 0; j < nitems(mech); j++)
			if (strlen(mech[j]) == nl && strncasecmp(t, mech[j], nl) == 0)
				break;
		if (j == nitems(mech)) {
			err(P, line, "%s: '%s' is no SPF mechanism (all include a mx ptr ip4 "
			    "ip6 exists) nor a name=value modifier", k->name, w.v[i]);
			ok = false;
			break;
		}
		arg = t[nl] == ':' ? t + nl + 1 : NULL;
		if (j == 0 && t[nl] != '\0') {
			err(P, line, "%s: '%s': all takes no argument", k->name, w.v[i]);
			ok = false;
		} else if ((j == 1 || j == 7) && (arg == NULL || *arg == '\0')) {
			err(P, line, "%s: '%s' needs :DOMAIN", k->name, w.v[i]);
			ok = false;
		} else if (j == 5 || j == 6) {
			char ip[64];
			unsigned char buf[16];
			size_t al = arg != NULL ? strcspn(arg, "/") : 0;
			long pfx = -1;

			if (arg != NULL && arg[al] == '/' && parse_int(arg + al + 1, 0,
			    j == 5 ? 32 : 128, &pfx) != 0)
				pfx = -2;
			if (arg == NULL || al == 0 || al >= sizeof ip || pfx == -2 ||
			    (memcpy(ip, arg, al), ip[al] = '\0',
			    inet_pton(j == 5 ? AF_INET : AF_INET6, ip, buf) != 1)) {
				err(P, line, "%s: '%s' is not %s:ADDRESS[/PREFIX]", k->name,
				    w.v[i], mech[j]);
				ok = false;
			}
		}
		if (j == 1 || j == 2 || j == 3 || j == 4 || j == 7)
			lookups++;
	}
	if (ok && lookups > 10) {
		err(P, line, "%s: %d DNS-querying terms; SPF allows 10 (RFC 7208 §4.6.4), "
		    "receivers return permerror", k->name, lookups);
		ok = false;
	}
	strv_free(&w);
	return ok;
}

/* [site] dmarc: "none" (publish nothing) or a DMARC record (RFC 7489 §6.3-6.4):
 * v=DMARC1 first, p= second, known tags, mailto: report URIs. */
static bool
check_dmarc(struct parser *P, const struct profile_key *k, const char *value, int line)
{
	static const char *const tags[] = { "v", "p", "sp", "rua", "ruf", "adkim", "aspf",
	    "pct", "fo", "rf", "ri" };
	char *copy, *tag, *save = NULL;
	int n = 0;
	bool ok = true;

	if (strcmp(value, "none") == 0)
		return true;
	if (!txt_chars_ok(P, k, value, line))
		return false;
	copy = xstrdup(value);
	for (tag = strtok_r(copy, ";", &save); tag != NULL && ok;
	    tag = strtok_r(NULL, ";", &save)) {
		char *eq, *v, *e;
		size_t j;

		while (*tag == ' ' || *tag == '\t')
			tag++;
		for (e = tag + strlen(tag); e > tag && (e[-1] == ' ' || e[-1] == '\t'); e--)
			*(e - 1) = '\0';
		if (*tag == '\0')
			continue;	/* a trailing ';' */
		n++;
		if ((eq = strchr(tag, '=')) == NULL) {
			err(P, line, "%s: '%s' is not TAG=VALUE", k->name, tag);
			ok = false;
			break;
		}
		*eq = '\0';
		for (e = eq; e > tag && (e[-1] == ' ' || e[-1] == '\t'); e--)
			*(e - 1) = '\0';
		for (v = eq + 1; *v == ' ' || *v == '\t'; v++)
			;
		for (j = 0; j < nitems(tags); j++)
			if (strcasecmp(tag, tags[j]) == 0)
				break;
		if (j == nitems(tags)) {
			err(P, line, "%s: unknown DMARC tag '%s' (v p sp rua ruf adkim aspf pct "
			    "fo rf ri)", k->name, tag);
			ok = false;
		} else if (n == 1 && (j != 0 || strcmp(v, "DMARC1") != 0)) {
			err(P, line, "%s: a DMARC record starts with v=DMARC1 (or say none to "
			    "publish none)", k->name);
			ok = false;
		} else if (n == 2 && j != 1) {
			err(P, line, "%s: p= must follow v=DMARC1 (RFC 7489 §6.4)", k->name);
			ok = false;
		} else if ((j == 1 || j == 2) && strcasecmp(v, "none") != 0 &&
		    strcasecmp(v, "quarantine") != 0 && strcasecmp(v, "reject") != 0) {
			err(P, line, "%s: %s=%s should be none, quarantine or reject", k->name,
			    tag, v);
			ok = false;
		} else if (j == 3 || j == 4) {
			char *uri, *s2 = NULL;

			for (uri = strtok_r(v, ",", &s2); uri != NULL && ok;
			    uri = strtok_r(NULL, ",", &s2)) {
				while (*uri == ' ')
					uri++;
				if (strncasecmp(uri, "mailto:", 7) != 0 ||
				    strchr(uri + 7, '@') == NULL) {
					err(P, line, "%s: %s '%s' is not a mailto:ADDRESS", k->name,
					    tag, uri);
					ok = false;
				}
			}
		} else if ((j == 5 || j == 6) && strcasecmp(v, "r") != 0 &&
		    strcasecmp(v, "s") != 0) {
			err(P, line, "%s: %s=%s should be r or s", k->name, tag, v);
			ok = false;
		} else if (j == 7 && parse_int(v, 0, 100, &(long){ 0 }) != 0) {
			err(P, line, "%s: pct=%s should be 0-100", k->name, v);
			ok = false;
		}
	}
	if (ok && n < 2) {
		err(P, line, "%s: '%s' lacks %s", k->name, value, n == 0 ? "v=DMARC1; p=" :
		    "p=none|quarantine|reject");
		ok = false;
	}
	free(copy);
	return ok;
}

/* [tls] caa: the CAs allowed to issue, by their CAA issuer domain (letsencrypt.org). */
static bool
check_caa(struct parser *P, const struct profile_key *k, const char *value, int line)
{
	struct strv w = { 0 };
	bool ok = true;

	strv_split_words(&w, value);
	for (size_t i = 0; i < w.n && ok; i++) {
		const char *c = w.v[i];

		ok = strchr(c, '.') != NULL && c[0] != '.' && c[0] != '-';
		for (; *c != '\0' && ok; c++)
			ok = isalnum((unsigned char)*c) || *c == '.' || *c == '-';
		if (!ok)
			err(P, line, "%s: '%s' is not a CA's issuer domain name (as the CA "
			    "documents it for CAA: letsencrypt.org, sectigo.com, ...)", k->name,
			    w.v[i]);
	}
	strv_free(&w);
	return ok;
}

static void
key_address(struct parser *P, const struct profile_key *k, void *obj, const char *value,
    int line)
{
	struct host *h = obj;

	if (!nonempty(P, k->name, value, line))
		return;
	set_str(&h->address, value);
	h->local = strcmp(value, "local") == 0;
}

static void
key_roles(struct parser *P, const struct profile_key *k, void *obj, const char *value, int line)
{
	struct host *h = obj;
	struct strv w = { 0 };
	struct sbuf list;

	sb_init(&list);
	role_list(&list);
	strv_split_words(&w, value);
	if (w.n == 0)
		err(P, line, "'%s' needs at least one of: %s", k->name, list.s);
	for (size_t i = 0; i < w.n; i++) {
		const struct role_def *r = role_by_name(w.v[i]);

		if (r == NULL)
			err(P, line, "unknown role '%s'; roles are %s", w.v[i], list.s);
		else
			h->roles |= r->bit;
	}
	strv_free(&w);
	sb_free(&list);
}

static void
key_probe_ports(struct parser *P, const struct profile_key *k, void *obj, const char *value,
    int line)
{
	struct host *h = obj;
	struct strv w = { 0 };

	strv_split_words(&w, value);
	for (size_t i = 0; i < w.n; i++) {
		char *colon = strchr(w.v[i], ':');
		size_t j;
		int port = 0;

		if (colon == NULL) {
			err(P, line, "%s: '%s' should be service:port, e.g. smtp:25", k->name,
			    w.v[i]);
			continue;
		}
		*colon = '\0';
		for (j = 0; j < nitems(host_services); j++)
			if (strcmp(w.v[i], host_services[j].name) == 0)
				break;
		if (j == nitems(host_services)) {
			err(P, line, "%s: unknown service '%s'; services are smtp submission "
			    "smtps imaps pop3s imap pop3 https http", k->name, w.v[i]);
			continue;
		}
		if (strcmp(colon + 1, "off") != 0 && strcmp(colon + 1, "0") != 0 &&
		    get_port(P, k->name, colon + 1, line, &port) == -1)
			continue;
		for (size_t m = 0; m < h->nprobe_ports; m++)
			if (strcmp(h->probe_ports[m].service, w.v[i]) == 0)
				h->probe_ports[m].port = port;
	}
	strv_free(&w);
}

static void
key_services(struct parser *P, const struct profile_key *k, void *obj, const char *value,
    int line)
{
	struct vhost *v = obj;
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
		err(P, line, "'%s' needs at least one service", k->name);
	strv_free(&w);
}

static void
key_rule(struct parser *P, const struct profile_key *k, void *obj, const char *value, int line)
{
	struct header_rules *hr = obj;
	struct header_rule *r;
	char *cause = NULL;

	if (!nonempty(P, k->name, value, line))
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
key_users_default(struct parser *P, const struct profile_key *k, void *obj, const char *value,
    int line)
{
	(void)k;
	(void)obj;
	(void)parse_proto_set(P, value, line, &P->site->user_default);
}

static void
key_users_file(struct parser *P, const struct profile_key *k, void *obj, const char *value,
    int line)
{
	(void)obj;
	if (!nonempty(P, k->name, value, line))
		return;
	set_str(&P->users_file, value);
	P->users_file_line = line;
}

/* [user "x"] imap = yes: one protocol of one user, over the CSV and [users] default. */
static void
key_user_proto(struct parser *P, const struct profile_key *k, void *obj, const char *value,
    int line)
{
	struct override *ov = obj;
	int p = proto_from_name(k->name);
	bool on;

	if (get_bool(P, k->name, value, line, &on) == -1)
		return;
	ov->set |= PROTO_BIT(p);
	if (on)
		ov->val |= PROTO_BIT(p);
	else
		ov->val &= ~PROTO_BIT(p);
}

/* ---- the key tables, one per section ---- */

#define F(type, field)	offsetof(type, field)
/* A row: name, type, the struct and field it fills, then the optional columns .dflt,
 * .min/.max, .what, .check, .flags, .aux by name; a handler's row has no field. */
#define KEY(n, t, S, field, ...) { .name = n, .type = t, .off = F(S, field), __VA_ARGS__ }
#define HANDLER(n, fn, ...) { .name = n, .type = PK_CUSTOM, .handler = fn, __VA_ARGS__ }
#define END { .name = NULL, .type = PK_STR }
#define NE .flags = PK_NONEMPTY

static const struct profile_key keys_site[] = {
	KEY("name", PK_STR, struct site, name, NE),
	KEY("domain", PK_STR, struct site, domain, NE),
	KEY("resolver", PK_STR, struct site, resolver, NE),
	KEY("trust_anchor", PK_PATH, struct site, trust_anchor, NE,
	    .dflt = "/usr/share/dns/root.key"),
	KEY("dkim", PK_BOOL, struct site, dkim),
	KEY("spf", PK_STR, struct site, spf, NE, .check = check_spf),
	KEY("dmarc", PK_STR, struct site, dmarc, NE, .check = check_dmarc),
	END
};

/* The directories of the roles take their defaults from roles[] (profiles/roles.c). */
#define H(n, t, field, ...) KEY(n, t, struct host, field, __VA_ARGS__)
static const struct profile_key keys_host[] = {
	HANDLER("address", key_address),
	H("port", PK_PORT, port, .dflt = "22", .flags = PK_FLAG,
	    .aux = F(struct host, port_set)),
	H("user", PK_STR, user, .dflt = "root", .flags = PK_NONEMPTY | PK_FLAG,
	    .aux = F(struct host, user_set)),
	H("identity", PK_STR, identity, NE),
	HANDLER("roles", key_roles),
	H("postfix_dir", PK_DIR, postfix_dir, NE),
	H("dovecot_dir", PK_DIR, dovecot_dir, NE),
	H("apache_dir", PK_DIR, apache_dir, NE),
	H("nginx_dir", PK_DIR, nginx_dir, NE),
	H("www_dir", PK_DIR, www_dir, NE),
	H("state_dir", PK_DIR, state_dir, NE),
	H("postfix_version", PK_STR, postfix_version, NE, .check = check_postfix_version),
	HANDLER("probe_ports", key_probe_ports),
	H("php_fpm_socket", PK_DIR, php_fpm_socket, NE, .dflt = "/run/php/php8.2-fpm.sock"),
	H("postfix_queue_dir", PK_DIR, postfix_queue_dir, NE, .dflt = "/var/spool/postfix"),
	H("keep_backups", PK_INT, keep_backups, .dflt = "10", .min = 1, .max = 1000,
	    .what = "a number of backups to keep"),
	END
};
#undef H

#define V(n, t, field, ...) KEY(n, t, struct vhost, field, __VA_ARGS__)
static const struct profile_key keys_vhost[] = {
	V("server", PK_ENUM, server, .dflt = "apache", .what = "apache|nginx"),
	V("backend", PK_STR, backend, NE),
	V("backend_ca", PK_PATH, backend_ca, NE),
	HANDLER("services", key_services,
	    .dflt = "owa oma ecp ews oab autodiscover activesync rpc mapi"),
	V("certificate", PK_PATH, certificate, NE),
	V("key", PK_PATH, key, NE),
	V("activesync_timeout", PK_INT, activesync_timeout, .dflt = "1800", .min = 1,
	    .max = 86400, .what = "a number of seconds", .flags = PK_LINE,
	    .aux = F(struct vhost, activesync_timeout_line)),
	V("legacy_tls", PK_BOOL, legacy_tls, .flags = PK_LINE,
	    .aux = F(struct vhost, legacy_tls_line)),
	END
};
#undef V

#define A(n, t, field, ...) KEY(n, t, struct autodiscover, field, __VA_ARGS__)
static const struct profile_key keys_ad[] = {
	A("imap", PK_ENDPOINT, imap, NE),
	A("pop3", PK_ENDPOINT, pop3, NE),
	A("smtp", PK_ENDPOINT, smtp, NE),
	A("activesync", PK_STR, activesync, NE),
	A("login", PK_ENUM, login, NE, .what = "email|localpart"),
	A("also", PK_WORDS, also),
	END
};
#undef A

static const struct profile_key keys_hrules[] = {
	KEY("scope", PK_ENUM, struct header_rules, scope, .what = "authenticated|outbound"),
	HANDLER("rule", key_rule, .flags = PK_REPEAT),
	END
};

#define T(n, t, field, ...) KEY(n, t, struct tls_policy, field, __VA_ARGS__)
static const struct profile_key keys_tls[] = {
	T("smtpd_protocols", PK_STR, smtpd_protocols, NE, .dflt = ">=TLSv1.2"),
	T("smtp_protocols", PK_STR, smtp_protocols, NE, .dflt = ">=TLSv1.2"),
	T("no_renegotiation", PK_BOOL, no_renegotiation, .dflt = "yes"),
	T("dovecot_min_protocol", PK_STR, dovecot_min_protocol, NE, .dflt = "TLSv1.2"),
	T("dane", PK_BOOL, dane),
	T("tlsa_ports", PK_PORTS, tlsa_ports, .dflt = "25 465",
	    .aux = F(struct tls_policy, ntlsa_ports)),
	T("certificate", PK_PATH, certificate, NE),
	T("key", PK_PATH, key, NE),
	T("next_key", PK_PATH, next_key, NE),
	T("next_certificate", PK_PATH, next_certificate, NE),
	T("caa", PK_WORDS, caa, .check = check_caa),
	END
};
#undef T

static const struct profile_key keys_access[] = {
	KEY("always_accept", PK_WORDS, struct access_policy, always_accept,
	    .dflt = "postmaster abuse"),
	KEY("relay_networks", PK_WORDS, struct access_policy, relay_networks),
	KEY("recipient_restrictions", PK_WORDS, struct access_policy, recipient_restrictions),
	END
};

static const struct profile_key keys_users[] = {
	HANDLER("default", key_users_default),
	HANDLER("file", key_users_file),
	END
};

static const struct profile_key keys_user[] = {
	HANDLER("imap", key_user_proto),
	HANDLER("pop3", key_user_proto),
	HANDLER("smtp", key_user_proto),
	HANDLER("activesync", key_user_proto),
	HANDLER("mapi", key_user_proto),
	HANDLER("owa", key_user_proto),
	HANDLER("ews", key_user_proto),
	END
};

#define C(n, t, field, ...) KEY(n, t, struct connector, field, __VA_ARGS__)
static const struct profile_key keys_connector[] = {
	C("smarthost", PK_STR, smarthost, NE),
	C("tenant_id", PK_STR, tenant_id, NE),
	C("client_ca", PK_PATH, client_ca, NE),
	C("client_fingerprints", PK_WORDS, client_fingerprints, NE),
	END
};
#undef C

#define M(n, t, field, ...) KEY(n, t, struct mta_sts, field, __VA_ARGS__)
static const struct profile_key keys_mta_sts[] = {
	M("mode", PK_ENUM, mode, .dflt = "testing", .what = "enforce|testing|none"),
	M("max_age", PK_INT, max_age, .dflt = "604800", .min = 0, .max = 31557600,
	    .what = "a number of seconds (RFC 8461: at most 31557600)"),
	M("mx", PK_WORDS, mx),
	M("rua", PK_WORDS, rua),
	M("certificate", PK_PATH, certificate, NE),
	M("key", PK_PATH, key, NE),
	END
};
#undef M

static const struct profile_key keys_tests[] = {
	KEY("ca", PK_PATH, struct site, tests_ca, NE),
	KEY("dnsbl", PK_WORDS, struct site, tests_dnsbl),
	KEY("probes", PK_WORDS, struct site, tests_probes),
	KEY("credentials", PK_PATH, struct site, tests_credentials, NE),
	END
};

/* PK_ENUM stores an int into these. */
_Static_assert(sizeof(((struct vhost *)0)->server) == sizeof(int), "server is an int");
_Static_assert(sizeof(((struct autodiscover *)0)->login) == sizeof(int), "login is an int");
_Static_assert(sizeof(((struct header_rules *)0)->scope) == sizeof(int), "scope is an int");
_Static_assert(sizeof(((struct mta_sts *)0)->mode) == sizeof(int), "mode is an int");

/* ---- the sections ---- */

/* What a section does beyond its keys: a new [host]'s probe port list, a header-rules
 * section's rules. */
static void
host_init(struct parser *P, void *obj)
{
	struct host *h = obj;

	(void)P;
	for (size_t i = 0; i < ROLE_COUNT; i++) {
		char **dir = FIELD(h, roles[i].dir_off);

		if (*dir == NULL)
			*dir = xstrdup(roles[i].dir_default);
	}
	h->nprobe_ports = nitems(host_services);
	h->probe_ports = xcalloc(h->nprobe_ports, sizeof *h->probe_ports);
	for (size_t i = 0; i < h->nprobe_ports; i++) {
		h->probe_ports[i].service = xstrdup(host_services[i].name);
		h->probe_ports[i].port = host_services[i].port;
	}
}

static void
host_fini(void *obj)
{
	struct host *h = obj;

	for (size_t j = 0; j < h->nprobe_ports; j++)
		free(h->probe_ports[j].service);
	free(h->probe_ports);
	free(h->address);		/* the one [host] field a handler sets */
}

static void
hrules_fini(void *obj)
{
	struct header_rules *hr = obj;

	for (size_t j = 0; j < hr->nrules; j++) {
		struct header_rule *r = &hr->rules[j];

		free(r->text);
		free(r->regex);
		free(r->flags);
		free(r->action_name);
		free(r->arg);
	}
	free(hr->rules);
}

static void
site_begin(struct parser *P, void *obj)
{
	(void)obj;
	P->have_site = true;
	if (P->site_line == 0)
		P->site_line = P->sect_line;
}

/* Where a section's keys go:
 *   SK_ARRAY:  each [name "sub"] adds an element to the site's array at arr (count at
 *              cnt, element size size), whose name (char *) and header line (int) are
 *              at name_off and line_off;
 *   SK_SINGLE: every [name] fills the one struct at obj in the site; line_off, when
 *              set, gets the line of the first [name];
 *   SK_OVERRIDE: [user "x"], collected by the parser and applied after the CSV;
 *   SK_PARSER: keys whose handlers fill the parser ([users]). */
enum sect_kind { SK_ARRAY, SK_SINGLE, SK_OVERRIDE, SK_PARSER };
#define NO_LINE ((size_t)-1)

struct sectdef {
	const char *name;
	enum sect sect;
	enum sect_kind kind;
	const struct profile_key *keys;	/* ends with a NULL name */
	size_t	 arr, cnt, size;	/* SK_ARRAY */
	size_t	 obj;			/* SK_SINGLE */
	size_t	 name_off, line_off;
	const char *example;		/* a name for "[x] needs a name, e.g." */
	void	(*begin)(struct parser *P, void *obj);	/* after the defaults */
	void	(*fini)(void *obj);	/* frees what no key row owns */
};

/* Row helpers: a section whose instances are the array a (count n) of type in struct
 * site, named by their field nm; a section filling the one struct at offset o. */
#define ARRAY(sname, s, k, type, a, n, nm) .name = sname, .sect = s, .kind = SK_ARRAY, \
	.keys = k, .arr = F(struct site, a), .cnt = F(struct site, n), .size = sizeof(type), \
	.name_off = F(type, nm), .line_off = F(type, line)
#define SINGLE(sname, s, k, o, l) .name = sname, .sect = s, .kind = SK_SINGLE, .keys = k, \
	.obj = o, .line_off = l

static const struct sectdef sections[] = {
	{ SINGLE("site", S_SITE, keys_site, 0, NO_LINE), .begin = site_begin },
	{ ARRAY("host", S_HOST, keys_host, struct host, hosts, nhosts, name),
	    .example = "gw1", .begin = host_init, .fini = host_fini },
	{ ARRAY("vhost", S_VHOST, keys_vhost, struct vhost, vhosts, nvhosts, name),
	    .example = "example.org" },
	{ ARRAY("autodiscover", S_AUTODISCOVER, keys_ad, struct autodiscover, ads, nads,
	    domain), .example = "example.org" },
	{ ARRAY("header-rules", S_HRULES, keys_hrules, struct header_rules, hrules, nhrules,
	    name), .example = "example.org", .fini = hrules_fini },
	{ SINGLE("tls", S_TLS, keys_tls, F(struct site, tls), F(struct site, tls.line)) },
	{ SINGLE("access", S_ACCESS, keys_access, F(struct site, access),
	    F(struct site, access.line)) },
	{ .name = "users", .sect = S_USERS, .kind = SK_PARSER, .keys = keys_users },
	{ .name = "user", .sect = S_USER, .kind = SK_OVERRIDE, .keys = keys_user,
	    .example = "alice@example.org" },
	{ ARRAY("connector", S_CONNECTOR, keys_connector, struct connector, connectors,
	    nconnectors, domain), .example = "example.org" },
	{ SINGLE("mta-sts", S_MTA_STS, keys_mta_sts, F(struct site, mta_sts),
	    F(struct site, mta_sts.line)) },
	{ SINGLE("tests", S_TESTS, keys_tests, 0, NO_LINE) },
};

static const struct sectdef *
sect_find(const char *name)
{
	for (size_t i = 0; i < nitems(sections); i++)
		if (strcmp(sections[i].name, name) == 0)
			return &sections[i];
	return NULL;
}

const struct profile_key *
site_section_keys(const char *section)
{
	const struct sectdef *sd = sect_find(section);

	return sd != NULL ? sd->keys : NULL;
}

bool
site_section_has_name(const char *section)
{
	const struct sectdef *sd = sect_find(section);

	return sd != NULL && sd->kind != SK_SINGLE && sd->kind != SK_PARSER;
}

static void
apply_defaults(struct parser *P, const struct profile_key *keys, void *obj)
{
	for (size_t i = 0; keys[i].name != NULL; i++)
		if (keys[i].dflt != NULL)
			(void)key_apply(P, &keys[i], obj, keys[i].dflt, 0, true);
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

static void *
sect_object(struct parser *P, const struct sectdef *sd, const char *sub, int line)
{
	struct site *site = P->site;
	void *obj = NULL;

	switch (sd->kind) {
	case SK_ARRAY: {
		void **arr = FIELD(site, sd->arr);
		size_t *n = FIELD(site, sd->cnt);

		*arr = xrealloc(*arr, (*n + 1) * sd->size);
		obj = (char *)*arr + *n * sd->size;
		(*n)++;
		memset(obj, 0, sd->size);
		*(char **)FIELD(obj, sd->name_off) = xstrdup(sub);
		*(int *)FIELD(obj, sd->line_off) = line;
		apply_defaults(P, sd->keys, obj);
		break;
	}
	case SK_SINGLE:
		obj = FIELD(site, sd->obj);
		if (sd->line_off != NO_LINE && *(int *)FIELD(site, sd->line_off) == 0)
			*(int *)FIELD(site, sd->line_off) = line;
		break;
	case SK_OVERRIDE: {
		struct override *ov;

		xgrow(&P->ovs, &P->ovs_cap, P->novs + 1, sizeof *P->ovs);
		ov = &P->ovs[P->novs++];
		ov->email = xstrdup(sub);
		ov->line = line;
		ov->set = ov->val = 0;
		obj = ov;
		break;
	}
	case SK_PARSER:
		break;
	}
	if (sd->begin != NULL)
		sd->begin(P, obj);
	return obj;
}

static void
begin_section(struct parser *P, const struct ini_line *l, int line)
{
	const struct sectdef *sd = sect_find(l->section);
	bool named;

	P->local.n = 0;
	P->seen = &P->local;
	P->sect_line = line;
	P->sd = NULL;
	if (sd == NULL) {
		err(P, line, "unknown section [%s]; sections are site host vhost autodiscover "
		    "header-rules tls access users user connector", l->section);
		P->sect = S_UNKNOWN;
		return;
	}
	named = site_section_has_name(sd->name);
	if (named && (l->sub == NULL || *l->sub == '\0')) {
		err(P, line, "[%s] needs a name, e.g. [%s \"%s\"]", l->section, l->section,
		    sd->example);
		P->sect = S_UNKNOWN;
		return;
	}
	if (named && has_control(l->sub)) {
		err(P, line, "the name of [%s] contains a control character (a \\n, \\r or "
		    "similar): it would start a new line in the generated files; remove it",
		    l->section);
		P->sect = S_UNKNOWN;
		return;
	}
	if (!named && l->sub != NULL) {
		err(P, line, "[%s] takes no name; write [%s]", l->section, l->section);
		P->sect = S_UNKNOWN;
		return;
	}
	P->sect = sd->sect;
	P->sd = sd;
	if (!named)
		P->seen = &P->singles[P->sect];
	P->obj = sect_object(P, sd, l->sub, line);
}

static void
handle_key(struct parser *P, const struct ini_line *l, int line)
{
	const struct profile_key *keys;

	if (P->sd == NULL)
		return;
	if (has_control(l->value)) {
		err(P, line, "the value of '%s' contains a control character (a \\n, \\r or "
		    "similar from a quoted value): every generated file is line-based, so it "
		    "would start a new line there; remove it", l->key);
		return;
	}
	keys = P->sd->keys;
	for (size_t i = 0; keys[i].name != NULL; i++) {
		if (strcmp(keys[i].name, l->key) != 0)
			continue;
		if (!(keys[i].flags & PK_REPEAT) && !first_time(P, l->key, line))
			return;
		(void)key_apply(P, &keys[i], P->obj, l->value, line, false);
		return;
	}
	{
		struct sbuf b;

		sb_init(&b);
		for (size_t i = 0; keys[i].name != NULL; i++)
			sb_addf(&b, "%s%s", i ? " " : "", keys[i].name);
		err(P, line, "unknown key '%s' in [%s]; known keys: %s", l->key, l->section,
		    b.s);
		sb_free(&b);
	}
}

/* Required keys and computed defaults, once every line is read. */
static void
finish(struct parser *P)
{
	struct site *site = P->site;

	if (!P->have_site || site->domain == NULL)
		err(P, P->have_site ? P->site_line : 1,
		    "the profile needs [site] with domain = (the mail domain, e.g. example.org)");
	if (site->name == NULL)
		site->name = xstrdup(site->domain != NULL ? site->domain : "site");
	for (size_t i = 0; i < site->nhosts; i++) {
		struct host *h = &site->hosts[i];

		if (h->address == NULL)
			err(P, h->line, "[host \"%s\"] needs address = (a name, an IP, or local)",
			    h->name);
		if (h->roles == 0) {
			struct sbuf list;

			sb_init(&list);
			role_list(&list);
			err(P, h->line, "[host \"%s\"] needs roles = (%s)", h->name, list.s);
			sb_free(&list);
		}
		for (size_t j = 0; keys_host[j].name != NULL; j++) {
			char **dir = FIELD(h, keys_host[j].off);

			if (keys_host[j].type != PK_DIR || (*dir)[0] == '/')
				continue;
			if (h->local && site->dir != NULL) {
				char *abs = xasprintf("%s/%s", site->dir, *dir);

				free(*dir);
				*dir = abs;
			} else
				err(P, h->line, "[host \"%s\"]: '%s' must be an absolute path on a "
				    "remote host", h->name, *dir);
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
	for (size_t i = 0; i < nitems(sections); i++)
		if (sections[i].kind == SK_SINGLE)
			apply_defaults(&P, sections[i].keys, FIELD(site, sections[i].obj));
	for (size_t i = 0; i < site->ini.n; i++) {
		const struct ini_line *l = &site->ini.line[i];

		if (l->kind == INI_SECTION)
			begin_section(&P, l, (int)i + 1);
		else if (l->kind == INI_KEY)
			handle_key(&P, l, (int)i + 1);
		else if (l->kind == INI_BAD && l->raw != NULL &&
		    l->raw[strspn(l->raw, " \t")] == '[') {
			P.sect = S_UNKNOWN;	/* its keys belong to no known section */
			P.sd = NULL;
		}
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

/* ---- where keys are: for findings at the exact line ---- */

/* Index of the section header at line sect_line (1-based), or -1. */
static long
sect_index(const struct site *s, int sect_line)
{
	if (sect_line <= 0 || (size_t)sect_line > s->ini.n)
		return -1;
	if (s->ini.line[sect_line - 1].kind != INI_SECTION)
		return -1;
	return sect_line - 1;
}

static bool
same_sub(const char *a, const char *b)
{
	return (a == NULL || b == NULL) ? a == b : strcmp(a, b) == 0;
}

/* The line of key in the section whose header is at sect_line; else in another
 * instance of the same section (a second [tls] block); else the section's line when
 * the key is not written (a default). */
int
site_key_line(const struct site *s, int sect_line, const char *key)
{
	long sect = sect_index(s, sect_line), idx;
	const struct ini_line *h;
	const struct sectdef *sd;

	if (sect < 0)
		return sect_line;
	if ((idx = ini_find_key(&s->ini, sect, key)) >= 0)
		return (int)idx + 1;
	h = &s->ini.line[sect];
	/* Each block of an array section ([vhost "x"], [host "x"]) is an object of its own
	 * (a second one with the same name is a duplicate): nothing to look for elsewhere.
	 * This keeps the lookup of an unwritten key per vhost from scanning the profile. */
	if (h->section != NULL && (sd = sect_find(h->section)) != NULL && sd->kind == SK_ARRAY)
		return sect_line;
	for (size_t i = 0; i < s->ini.n; i++) {
		const struct ini_line *l = &s->ini.line[i];

		if (l->kind == INI_KEY && l->section != NULL && l->key != NULL &&
		    strcmp(l->section, h->section) == 0 && same_sub(l->sub, h->sub) &&
		    strcmp(l->key, key) == 0)
			return (int)i + 1;
	}
	return sect_line;
}

/* The line of the first key line in the section whose value contains word
 * (a list entry such as one relay network); falls back to key_line. */
int
site_word_line(const struct site *s, int sect_line, const char *key, const char *word)
{
	long sect = sect_index(s, sect_line);

	if (sect < 0)
		return sect_line;
	for (size_t i = (size_t)sect + 1; i < s->ini.n; i++) {
		const struct ini_line *l = &s->ini.line[i];
		struct strv w = { 0 };
		bool found;

		if (l->kind == INI_SECTION)
			break;
		if (l->kind != INI_KEY || strcmp(l->key, key) != 0 || l->value == NULL)
			continue;
		strv_split_words(&w, l->value);
		found = strv_has(&w, word);
		strv_free(&w);
		if (found)
			return (int)i + 1;
	}
	return site_key_line(s, sect_line, key);
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

void
site_free(struct site *site)
{
	free(site->path);
	free(site->dir);
	free(site->users_path);
	ini_free(&site->ini);
	for (size_t i = 0; i < nitems(sections); i++) {
		const struct sectdef *sd = &sections[i];

		if (sd->kind == SK_SINGLE) {
			for (size_t k = 0; sd->keys[k].name != NULL; k++)
				key_free(&sd->keys[k], FIELD(site, sd->obj));
		} else if (sd->kind == SK_ARRAY) {
			char *arr = *(void **)FIELD(site, sd->arr);
			size_t n = *(size_t *)FIELD(site, sd->cnt);

			for (size_t j = 0; j < n; j++) {
				void *obj = arr + j * sd->size;

				free(*(char **)FIELD(obj, sd->name_off));
				for (size_t k = 0; sd->keys[k].name != NULL; k++)
					key_free(&sd->keys[k], obj);
				if (sd->fini != NULL)
					sd->fini(obj);
			}
			free(arr);
		}
	}
	for (size_t i = 0; i < site->nusers; i++)
		free(site->users[i].email);
	free(site->users);
	free(site->uidx);
	memset(site, 0, sizeof *site);
}
