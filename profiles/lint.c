/* lint.c: semantic checks of a loaded profile, beyond what one key can tell.
 *
 * The parser (site.c) checks each key on its own; lint looks across keys and
 * sections and knows what the daemons accept at runtime but their own checkers miss
 * (what each daemon accepts that its own checker misses): Postfix pcre tables (postmap accepts unknown actions and only
 * warns about bad regexes and substitutions, then skips the rule), TLS protocol lists
 * (Postfix and Dovecot only fail when a session starts), the ActiveSync heartbeat,
 * legacy TLS on OpenSSL 3, DKIM and smtp_header_checks.
 *
 * Every finding carries the FILE:LINE of the offending key, or of its section when
 * the key is absent. Errors are what would break a daemon or silently not work;
 * warnings are what a careful admin wants to know before a push. */
#include "site.h"
#include "tlsproto.h"
#include "url.h"

#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>

#include <arpa/inet.h>
#include <ctype.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

struct lint {
	const struct site *site;
	struct diags	*d;
	const char	*file;
};

#define ERR(l, line, ...)	diag_add((l)->d, SEV_ERROR, (l)->file, (line), __VA_ARGS__)
#define WARN(l, line, ...)	diag_add((l)->d, SEV_WARNING, (l)->file, (line), __VA_ARGS__)

/* ---- where things are in the profile: site_key_line(), site_word_line() (site.c) ---- */

/* The line of a section without a struct line ([site], [users]): 0 if absent. */
static int
section_line(const struct site *s, const char *section)
{
	long idx = ini_find_section(&s->ini, section, NULL);

	return idx < 0 ? 0 : (int)idx + 1;
}

/* ---- names and addresses: one validator, hostname_ok() (util.c) ---- */

/* lint's rule: a host name as the profile may write it, absolute (one trailing dot)
 * or not. Checks of names that go into generated files use hostname_ok(s, 0) in the
 * renderers; see util.h for which rule applies where. */
static bool
valid_hostname(const char *s)
{
	return hostname_ok(s, HN_DOT);
}

static bool
valid_host_or_ip(const char *s)
{
	return ipv4_ok(s) || ipv6_ok(s) || hostname_ok(s, HN_DOT);
}

/* local@domain with a dot-atom local part (RFC 5322) and a host name domain. */
static bool
valid_local_part(const char *s, size_t n)
{
	static const char special[] = "!#$%&'*+/=?^_`{|}~-";

	if (n == 0 || n > 64 || s[0] == '.' || s[n - 1] == '.')
		return false;
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c == '.') {
			if (s[i + 1] == '.')
				return false;
			continue;
		}
		if (c >= 0x80)		/* UTF-8: SMTPUTF8 (RFC 6531), lint warns */
			continue;
		if (!isalnum(c) && (c == '\0' || strchr(special, c) == NULL))
			return false;
	}
	return true;
}

static bool
valid_email(const char *s)
{
	const char *at = strrchr(s, '@');

	if (at == NULL || strlen(s) > 254)
		return false;
	if (!valid_local_part(s, (size_t)(at - s)))
		return false;
	/* A mail domain needs a dot; and a trailing dot is not written in addresses. */
	return strchr(at + 1, '.') != NULL && at[1] != '\0' &&
	    at[strlen(at) - 1] != '.' && valid_hostname(at + 1);
}

static const char *
email_domain(const char *email)
{
	const char *at = strrchr(email, '@');

	return at != NULL ? at + 1 : "";
}

/* http(s)://host[:port][/path], read by url_parse() (libcurl's parser) and checked
 * for a valid host. Fills *hostp (heap) and *https; *pathp (heap) when not NULL. */
static int
parse_url(const char *s, char **hostp, bool *https, char **pathp, char **cause)
{
	struct url u;

	*hostp = NULL;
	if (url_parse(s, &u, cause) != 0)
		return -1;
	if (u.ipv6 ? !ipv6_ok(u.host) : !ipv4_ok(u.host) && !valid_hostname(u.host)) {
		*cause = xasprintf("has an invalid %shost name \"%s\"", u.ipv6 ? "IPv6 " : "",
		    u.host);
		url_free(&u);
		return -1;
	}
	*https = u.https;
	*hostp = u.host;
	u.host = NULL;
	if (pathp != NULL) {
		*pathp = u.path;
		u.path = NULL;
	}
	url_free(&u);
	return 0;
}

/* CIDR as Postfix reads it in mynetworks: a.b.c.d[/n] or ipv6[/n], the IPv6 form
 * optionally in brackets. Sets *bits (prefix length) and *v6. */
static int
parse_cidr(const char *s, int *bits, bool *v6, char **cause)
{
	char *addr = xstrdup(s), *slash, *a = addr;
	unsigned char buf[16];
	int max;
	long n;

	slash = strchr(addr, '/');
	if (slash != NULL)
		*slash++ = '\0';
	if (*a == '[') {
		size_t len = strlen(a);

		if (len < 2 || a[len - 1] != ']') {
			*cause = xasprintf("\"%s\": unbalanced [ ] around the address", s);
			free(addr);
			return -1;
		}
		a[len - 1] = '\0';
		a++;
	}
	if (inet_pton(AF_INET, a, buf) == 1) {
		*v6 = false;
		max = 32;
	} else if (inet_pton(AF_INET6, a, buf) == 1) {
		*v6 = true;
		max = 128;
	} else {
		*cause = xasprintf("\"%s\" is not an IPv4 or IPv6 network (a.b.c.d/n)", s);
		free(addr);
		return -1;
	}
	if (slash == NULL)
		n = max;
	else if (parse_int(slash, 0, max, &n) != 0) {
		*cause = xasprintf("\"%s\": prefix length must be 0-%d", s, max);
		free(addr);
		return -1;
	}
	/* Postfix skips a network with host bits set ("non-null host address bits"). */
	for (int bit = (int)n; bit < max; bit++) {
		if (buf[bit / 8] & (0x80 >> (bit % 8))) {
			*cause = xasprintf("\"%s\" has host bits set beyond /%ld; Postfix "
			    "skips it (\"non-null host address bits\"): write the network "
			    "address", s, n);
			free(addr);
			return -1;
		}
	}
	*bits = (int)n;
	free(addr);
	return 0;
}

/* [host]:port, host:port or host (a Postfix relay next hop). */
static int
check_nexthop(const char *s, char **cause)
{
	char *copy = xstrdup(s), *host = copy, *port = NULL;

	if (*host == '[') {
		char *close = strchr(host, ']');

		if (close == NULL) {
			*cause = xasprintf("\"%s\": unterminated [", s);
			free(copy);
			return -1;
		}
		*close = '\0';
		host++;
		if (close[1] == ':')
			port = close + 2;
		else if (close[1] != '\0') {
			*cause = xasprintf("\"%s\": junk after ]", s);
			free(copy);
			return -1;
		}
		if (str_starts(host, "ipv6:"))
			host += 5;
	} else {
		char *colon = strrchr(host, ':');

		if (colon != NULL) {
			*colon = '\0';
			port = colon + 1;
		}
	}
	if (!valid_host_or_ip(host)) {
		*cause = xasprintf("\"%s\": \"%s\" is not a host name or address", s, host);
		free(copy);
		return -1;
	}
	if (port != NULL) {
		long n;

		if (parse_int(port, 1, 65535, &n) != 0) {
			*cause = xasprintf("\"%s\": port must be 1-65535", s);
			free(copy);
			return -1;
		}
	}
	free(copy);
	return 0;
}

static bool
valid_guid(const char *s)
{
	static const int groups[] = { 8, 4, 4, 4, 12 };

	for (size_t g = 0; g < nitems(groups); g++) {
		for (int i = 0; i < groups[g]; i++, s++)
			if (!isxdigit((unsigned char)*s))
				return false;
		if (g + 1 < nitems(groups) && *s++ != '-')
			return false;
	}
	return *s == '\0';
}

/* IP, IP:PORT, IPv6, [IPv6] or [IPv6]:PORT: what the live tests' resolver takes. */
static bool
valid_resolver(const char *spec)
{
	char *host;
	const char *port = NULL, *colon;
	bool ok;
	long n;

	if (spec[0] == '[') {
		const char *end = strchr(spec, ']');

		if (end == NULL || (end[1] != '\0' && end[1] != ':'))
			return false;
		host = xstrndup(spec + 1, (size_t)(end - spec - 1));
		if (end[1] == ':')
			port = end + 2;
		ok = ipv6_ok(host);
	} else if ((colon = strchr(spec, ':')) != NULL && strchr(colon + 1, ':') == NULL) {
		host = xstrndup(spec, (size_t)(colon - spec));
		port = colon + 1;
		ok = ipv4_ok(host);
	} else {
		host = xstrdup(spec);
		ok = ipv4_ok(host) || ipv6_ok(host);
	}
	free(host);
	return ok && (port == NULL || parse_int(port, 1, 65535, &n) == 0);
}

/* ---- [site] ---- */

static void
lint_site(struct lint *l)
{
	const struct site *s = l->site;
	int sl = section_line(s, "site");

	if (s->domain != NULL && (!valid_hostname(s->domain) || strchr(s->domain, '.') == NULL))
		ERR(l, site_key_line(s, sl, "domain"), "[site] domain \"%s\" is not a mail "
		    "domain name (e.g. example.org)", s->domain);
	if (s->resolver != NULL && !valid_resolver(s->resolver))
		ERR(l, site_key_line(s, sl, "resolver"), "[site] resolver \"%s\" is not an IP "
		    "address: write IP, IP:PORT or [IPv6]:PORT (the live tests do not "
		    "look up the resolver's name)", s->resolver);
	if (s->trust_anchor != NULL && access(s->trust_anchor, R_OK) != 0)
		WARN(l, site_key_line(s, sl, "trust_anchor"), "[site] trust_anchor %s is not "
		    "readable here: the live tests cannot validate DNSSEC (install "
		    "dns-root-data or fix the path)", s->trust_anchor);
	if (s->tests_ca != NULL && access(s->tests_ca, R_OK) != 0)
		WARN(l, site_key_line(s, section_line(s, "tests"), "ca"), "[tests] ca %s is not "
		    "readable here: the live tests cannot verify certificates it issued "
		    "(fix the path or remove the key to use the system store)", s->tests_ca);
	for (size_t i = 0; i < s->tests_probes.n; i++) {
		const char *k = s->tests_probes.v[i];

		/* the names are the probe layer's (mxdeck test says which exist) */
		if (*k == '\0' || !islower((unsigned char)*k) ||
		    strspn(k, "abcdefghijklmnopqrstuvwxyz0123456789") != strlen(k))
			ERR(l, site_key_line(s, section_line(s, "tests"), "probes"), "[tests] probes "
			    "\"%s\" is not a probe kind name (e.g. default, all, ciphers: see "
			    "PROBE KINDS in mxdeck(1))", k);
	}
	for (size_t i = 0; i < s->tests_dnsbl.n; i++) {
		if (!valid_hostname(s->tests_dnsbl.v[i]))
			ERR(l, site_key_line(s, section_line(s, "tests"), "dnsbl"), "[tests] dnsbl "
			    "\"%s\" is not a DNS zone name (write the list's zone, e.g. "
			    "zen.example.org)", s->tests_dnsbl.v[i]);
	}
	if (s->tests_credentials != NULL) {
		struct stat st;
		int line = site_key_line(s, section_line(s, "tests"), "credentials");

		/* Only its metadata: the contents are read by the login tests alone. */
		if (stat(s->tests_credentials, &st) != 0)
			WARN(l, line, "[tests] credentials %s cannot be read here: the login "
			    "tests will refuse to run (fix the path)", s->tests_credentials);
		else if ((st.st_mode & 077) != 0 || st.st_uid != getuid())
			WARN(l, line, "[tests] credentials %s is %s: the login tests will "
			    "refuse it (chmod 600 / chown it to yourself)", s->tests_credentials,
			    (st.st_mode & 077) != 0 ? "readable by group or others" :
			    "owned by someone else");
	}
}

/* ---- [host] ---- */

static bool
any_host_role(const struct site *s, unsigned role)
{
	for (size_t i = 0; i < s->nhosts; i++)
		if (s->hosts[i].roles & role)
			return true;
	return false;
}

/* The longest '/'-separated component of path, in bytes. */
static size_t
longest_component(const char *path)
{
	size_t best = 0;

	while (*path != '\0') {
		size_t n = strcspn(path, "/");

		if (n > best)
			best = n;
		path += n;
		path += strspn(path, "/");
	}
	return best;
}

/* The file-system limits a host's names and directories have to keep, because render
 * and push create files with them: a file name (one path component) of at most
 * NAME_MAX bytes, a whole path under PATH_MAX. */
static void
lint_host_paths(struct lint *l, const struct host *h)
{
	const struct site *s = l->site;
	const struct profile_key *keys = site_section_keys("host");
	size_t n = strlen(h->name);

	if (n > NAME_MAX)
		ERR(l, h->line, "the host name is %zu bytes: `mxdeck render` writes each "
		    "host's files under DIR/NAME/, and a file name may be at most %d bytes "
		    "(NAME_MAX); shorten the name in [host \"...\"]", n, NAME_MAX);
	/* every directory key of [host]: the PK_DIR rows of its key table */
	for (size_t i = 0; keys[i].name != NULL; i++) {
		const char *val, *key = keys[i].name;
		size_t c;

		/* only a PK_DIR row's field is a char *: read no other */
		if (keys[i].type != PK_DIR)
			continue;
		if ((val = *(char *const *)(const void *)((const char *)h + keys[i].off)) == NULL)
			continue;
		if ((c = longest_component(val)) > NAME_MAX)
			ERR(l, site_key_line(s, h->line, key), "host %.64s%s: %s has a "
			    "path component of %zu bytes; a file name may be at most %d bytes "
			    "(NAME_MAX): shorten it", h->name, n > 64 ? "..." : "",
			    key, c, NAME_MAX);
		/* room for what mxdeck puts under the directory and render's DIR/NAME/ */
		else if (strlen(val) > PATH_MAX / 2)
			ERR(l, site_key_line(s, h->line, key), "host %.64s%s: %s is %zu "
			    "bytes long; the files mxdeck writes under it would pass the "
			    "system's path limit (PATH_MAX %d): keep it under %d bytes",
			    h->name, n > 64 ? "..." : "", key, strlen(val),
			    PATH_MAX, PATH_MAX / 2);
	}
}

static void
lint_hosts(struct lint *l)
{
	const struct site *s = l->site;

	for (size_t i = 0; i < s->nhosts; i++) {
		const struct host *h = &s->hosts[i];

		for (size_t j = 0; j < i; j++)
			if (str_ieq(s->hosts[j].name, h->name)) {
				ERR(l, h->line, "duplicate [host \"%s\"] (first at line %d): "
				    "rename or merge it", h->name, s->hosts[j].line);
				break;
			}
		for (size_t j = 0; j < i; j++) {
			const struct host *o = &s->hosts[j];

			if (h->address != NULL && o->address != NULL &&
			    str_ieq(h->address, o->address) && h->port == o->port &&
			    h->state_dir != NULL && o->state_dir != NULL &&
			    strcmp(h->state_dir, o->state_dir) == 0) {
				WARN(l, site_key_line(s, h->line, "address"), "hosts %s and %s are "
				    "the same machine (%s, state_dir %s): their pushes contend "
				    "for one lock and journal; merge them into one [host] with "
				    "both roles", o->name, h->name, h->address, h->state_dir);
				break;
			}
		}
		lint_host_paths(l, h);
		if (h->address != NULL && !h->local && !valid_host_or_ip(h->address))
			ERR(l, site_key_line(s, h->line, "address"), "host %s: address \"%s\" is "
			    "not a host name, an IPv4/IPv6 address or \"local\"", h->name,
			    h->address);
		if ((h->roles & ROLE_APACHE) && (h->roles & ROLE_NGINX))
			ERR(l, site_key_line(s, h->line, "roles"), "host %s has both apache and "
			    "nginx roles: both would listen on 443; choose one", h->name);
		for (size_t r = 0; r < ROLE_COUNT; r++)
			if ((h->roles & roles[r].bit) && roles[r].needs != 0 &&
			    !(h->roles & roles[r].needs))
				WARN(l, site_key_line(s, h->line, "roles"), "host %s has role %s but "
				    "no %s", h->name, roles[r].name, roles[r].needs_what);
		if (h->local && h->identity != NULL)
			WARN(l, site_key_line(s, h->line, "identity"), "host %s is local: identity "
			    "is not used", h->name);
		for (size_t j = 0; j < h->nprobe_ports; j++)
			for (size_t k = 0; k < j; k++)
				if (h->probe_ports[j].port != 0 &&
				    h->probe_ports[k].port == h->probe_ports[j].port &&
				    strcmp(h->probe_ports[k].service,
				    h->probe_ports[j].service) != 0)
					WARN(l, site_key_line(s, h->line, "probe_ports"), "host %s: "
					    "probe ports %s and %s are both %d", h->name,
					    h->probe_ports[k].service,
					    h->probe_ports[j].service, h->probe_ports[j].port);
	}
}

/* ---- [vhost] ---- */

static void
lint_vhosts(struct lint *l)
{
	const struct site *s = l->site;

	for (size_t i = 0; i < s->nvhosts; i++) {
		const struct vhost *v = &s->vhosts[i];
		bool apache = v->server == SERVER_APACHE;
		const char *srv = apache ? "apache" : "nginx";

		for (size_t j = 0; j < i; j++)
			if (str_ieq(s->vhosts[j].name, v->name)) {
				ERR(l, v->line, "duplicate [vhost \"%s\"] (first at line %d)",
				    v->name, s->vhosts[j].line);
				break;
			}
		if (!valid_hostname(v->name))
			ERR(l, v->line, "vhost \"%s\" is not a host name (it is the public "
			    "ServerName)", v->name);
		if (!any_host_role(s, apache ? ROLE_APACHE : ROLE_NGINX))
			ERR(l, site_key_line(s, v->line, "server"), "vhost %s uses server = %s but "
			    "no host has role %s: nothing would serve it", v->name, srv, srv);
		if (v->backend != NULL) {
			char *host = NULL, *cause = NULL;
			bool https;

			if (parse_url(v->backend, &host, &https, NULL, &cause) != 0) {
				ERR(l, site_key_line(s, v->line, "backend"), "vhost %s: backend "
				    "\"%s\" %s", v->name, v->backend, cause);
				free(cause);
			} else {
				if (!https)
					WARN(l, site_key_line(s, v->line, "backend"), "vhost %s: "
					    "backend is plain http: Exchange credentials cross "
					    "the LAN unencrypted; use https://", v->name);
				if (str_ieq(host, v->name))
					ERR(l, site_key_line(s, v->line, "backend"), "vhost %s: "
					    "backend points at the vhost itself (a proxy loop); "
					    "use the Exchange server's internal name", v->name);
				/* Apache's SSLProxyCheckPeerName ignores IP addresses in the
				 * backend certificate (AH02411): every request would fail. */
				if (https && v->server == SERVER_APACHE &&
				    (strchr(host, ':') != NULL ||
				    strspn(host, "0123456789.") == strlen(host)))
					ERR(l, site_key_line(s, v->line, "backend"), "vhost %s: "
					    "backend https://%s is an IP address: Apache checks the "
					    "backend certificate's name and ignores IP addresses in "
					    "it (AH02411), so every request would fail; use the "
					    "Exchange server's DNS name", v->name, host);
				free(host);
			}
		}
		/* The autodiscover role renders its own site for autodiscover.D and
		 * autoconfig.D: a vhost of the same name is a second server of that name. */
		for (size_t j = 0; j < s->nads; j++) {
			const struct autodiscover *a = &s->ads[j];
			const char *dot = strchr(v->name, '.');
			bool clash = false;

			if (dot == NULL || !any_host_role(s, ROLE_AUTODISCOVER) ||
			    !(str_starts(v->name, "autodiscover.") ||
			    str_starts(v->name, "autoconfig.")))
				continue;
			clash = str_ieq(dot + 1, a->domain);
			for (size_t k = 0; k < a->also.n && !clash; k++)
				clash = str_ieq(dot + 1, a->also.v[k]);
			if (clash)
				ERR(l, v->line, "vhost %s: the autodiscover role already serves "
				    "%s (for [autodiscover \"%s\"]); two sites would claim the "
				    "same name: remove this vhost or the autodiscover role",
				    v->name, v->name, a->domain);
		}
		if ((v->services & SVC_BIT(SVC_ACTIVESYNC)) && v->activesync_timeout < 900)
			WARN(l, v->activesync_timeout_line > 0 ? v->activesync_timeout_line :
			    v->line, "vhost %s: activesync_timeout = %d is below 900 s: "
			    "Direct Push holds requests up to the heartbeat (Exchange allows "
			    "2700 s; 15 min minimum recommended), shorter proxy timeouts cut "
			    "Ping requests into 504s", v->name, v->activesync_timeout);
		if (v->legacy_tls)
			WARN(l, v->legacy_tls_line > 0 ? v->legacy_tls_line : v->line,
			    "vhost %s: legacy_tls = yes allows TLS 1.0/1.1 and SHA-1 (for "
			    "Outlook 2013) for every client of this vhost; on OpenSSL 3 this "
			    "needs @SECLEVEL=0 in the cipher string, which mxdeck renders", v->name);
		if (!apache && (v->services & (SVC_BIT(SVC_RPC) | SVC_BIT(SVC_MAPI))))
			WARN(l, site_key_line(s, v->line, "services"), "vhost %s: %s%s%s through "
			    "nginx: Outlook Anywhere and MAPI over HTTP authenticate with NTLM, "
			    "which nginx can only proxy with a third-party module (stock "
			    "nginx breaks the connection-bound handshake); use server = apache "
			    "or Basic/Modern auth", v->name,
			    (v->services & SVC_BIT(SVC_RPC)) ? "rpc" : "",
			    (v->services & SVC_BIT(SVC_RPC)) &&
			    (v->services & SVC_BIT(SVC_MAPI)) ? " and " : "",
			    (v->services & SVC_BIT(SVC_MAPI)) ? "mapi" : "");
		if (apache && (v->services & SVC_BIT(SVC_RPC)))
			WARN(l, site_key_line(s, v->line, "services"), "vhost %s: rpc (Outlook "
			    "Anywhere) needs mod_proxy_msrpc, which Debian does not package; "
			    "its directives are rendered inside <IfModule> and Outlook "
			    "Anywhere fails until the module is installed", v->name);
	}
}

/* ---- [autodiscover] ---- */

static bool
proto_enabled_anywhere(const struct site *s, enum proto p, size_t *nusers)
{
	size_t n = 0;

	for (size_t i = 0; i < s->nusers; i++)
		if (s->users[i].protos & PROTO_BIT(p))
			n++;
	*nusers = n;
	return n > 0 || (s->user_default & PROTO_BIT(p));
}

static const char *
enc_name(enum encryption e)
{
	return e == ENC_SSL ? "ssl" : e == ENC_STARTTLS ? "starttls" : "plain";
}

static void
lint_endpoint(struct lint *l, const struct autodiscover *a, const struct endpoint *e,
    const char *what, enum proto p, int tls_port, int plain_port)
{
	const struct site *s = l->site;
	int line = e->line > 0 ? e->line : site_key_line(s, a->line, what);
	size_t nusers;
	bool enabled = proto_enabled_anywhere(s, p, &nusers);

	if (e->host == NULL)
		return;
	if (!valid_host_or_ip(e->host))
		ERR(l, line, "autodiscover %s: %s server \"%s\" is not a host name or "
		    "address", a->domain, what, e->host);
	if (e->enc == ENC_PLAIN) {
		if (p == PROTO_SMTP)
			WARN(l, line, "autodiscover %s: smtp %s:%d/plain sends SMTP AUTH "
			    "passwords in clear text; use 465/ssl or 587/starttls",
			    a->domain, e->host, e->port);
		else if (s->user_default & PROTO_BIT(p))
			WARN(l, line, "autodiscover %s: %s %s:%d/plain: %s is enabled (by "
			    "default) and clients would log in with clear-text passwords; "
			    "use %d/ssl", a->domain, what, e->host, e->port, what, tls_port);
		else if (enabled)
			WARN(l, line, "autodiscover %s: %s %s:%d/plain: %s is enabled (for "
			    "%zu user%s) and clients would log in with clear-text passwords; "
			    "use %d/ssl", a->domain, what, e->host, e->port, what, nusers,
			    nusers == 1 ? "" : "s", tls_port);
		else
			WARN(l, line, "autodiscover %s: %s %s:%d/plain is not encrypted; "
			    "use %d/ssl", a->domain, what, e->host, e->port, tls_port);
	}
	if (p != PROTO_SMTP) {
		if (e->enc == ENC_SSL && e->port == plain_port)
			WARN(l, line, "autodiscover %s: %s port %d is the STARTTLS/plain "
			    "port, but encryption is ssl (implicit TLS is on %d)", a->domain,
			    what, e->port, tls_port);
		else if (e->enc != ENC_SSL && e->port == tls_port)
			WARN(l, line, "autodiscover %s: %s port %d is implicit TLS, but "
			    "encryption is %s", a->domain, what, e->port, enc_name(e->enc));
	} else {
		if (e->port == 25)
			WARN(l, line, "autodiscover %s: smtp port 25 is for server-to-server "
			    "mail; clients submit on 587 (starttls) or 465 (ssl), RFC 8314",
			    a->domain);
		else if (e->port == 465 && e->enc != ENC_SSL)
			WARN(l, line, "autodiscover %s: smtp port 465 is implicit TLS, but "
			    "encryption is %s", a->domain, enc_name(e->enc));
		else if (e->port == 587 && e->enc == ENC_SSL)
			WARN(l, line, "autodiscover %s: smtp port 587 speaks STARTTLS, but "
			    "encryption is ssl (implicit TLS is on 465)", a->domain);
	}
	if (!enabled)
		WARN(l, line, "autodiscover %s advertises %s, but %s is disabled for "
		    "every user", a->domain, what, what);
}

static bool
domain_is_local(const struct site *s, const char *dom)
{
	if (s->domain != NULL && str_ieq(s->domain, dom))
		return true;
	for (size_t i = 0; i < s->nads; i++) {
		if (str_ieq(s->ads[i].domain, dom))
			return true;
		for (size_t j = 0; j < s->ads[i].also.n; j++)
			if (str_ieq(s->ads[i].also.v[j], dom))
				return true;
	}
	return false;
}

static bool
vhost_serves(const struct site *s, const char *host, unsigned svc)
{
	for (size_t i = 0; i < s->nvhosts; i++)
		if (str_ieq(s->vhosts[i].name, host) && (s->vhosts[i].services & svc))
			return true;
	return false;
}

/* login = localpart: users of this domain log in by local part alone, and the login
 * server is shared, so one local part in two domains collides. Sorting the users by
 * local part keeps this linear-logarithmic for large user lists. */
static int
lp_cmp(const void *a, const void *b)
{
	const char *e1 = *(const char *const *)a, *e2 = *(const char *const *)b;
	size_t n1 = strcspn(e1, "@"), n2 = strcspn(e2, "@");
	int c = strncasecmp(e1, e2, n1 < n2 ? n1 : n2);

	if (c != 0)
		return c;
	return n1 < n2 ? -1 : n1 > n2;
}

static void
lint_localpart_clash(struct lint *l, const struct autodiscover *a)
{
	const struct site *s = l->site;
	const char **v;

	if (s->nusers < 2)
		return;
	v = xcalloc(s->nusers, sizeof *v);
	for (size_t i = 0; i < s->nusers; i++)
		v[i] = s->users[i].email;
	qsort(v, s->nusers, sizeof *v, lp_cmp);
	for (size_t i = 0; i + 1 < s->nusers; i++) {
		size_t j = i + 1, k;
		bool ours = false;

		while (j < s->nusers && lp_cmp(&v[i], &v[j]) == 0)
			j++;
		for (k = i; k < j; k++)
			if (str_ieq(email_domain(v[k]), a->domain))
				ours = true;
		if (j - i > 1 && ours) {
			size_t o = str_ieq(email_domain(v[i]), a->domain) ? i + 1 : i;
			size_t m = o == i ? i + 1 : i;

			WARN(l, site_key_line(s, a->line, "login"), "autodiscover %s: login = "
			    "localpart, but %s and %s share the login name %.*s; use login "
			    "= email", a->domain, v[o], v[m], (int)strcspn(v[i], "@"), v[i]);
			break;
		}
		i = j - 1;
	}
	free(v);
}

static void
lint_autodiscover(struct lint *l)
{
	const struct site *s = l->site;

	if (s->nads > 0 && !any_host_role(s, ROLE_AUTODISCOVER))
		WARN(l, s->ads[0].line, "no host has role autodiscover: the autodiscover "
		    "responder and autoconfig files are not deployed anywhere");
	for (size_t i = 0; i < s->nads; i++) {
		const struct autodiscover *a = &s->ads[i];

		for (size_t j = 0; j < i; j++)
			if (str_ieq(s->ads[j].domain, a->domain)) {
				ERR(l, a->line, "duplicate [autodiscover \"%s\"] (first at line "
				    "%d)", a->domain, s->ads[j].line);
				break;
			}
		if (!valid_hostname(a->domain) || strchr(a->domain, '.') == NULL)
			ERR(l, a->line, "autodiscover \"%s\" is not a mail domain name",
			    a->domain);
		if (a->imap.host == NULL && a->pop3.host == NULL)
			ERR(l, a->line, "autodiscover %s has neither imap nor pop3: clients "
			    "get no incoming server (imap = host:993/ssl)", a->domain);
		if (a->smtp.host == NULL)
			ERR(l, a->line, "autodiscover %s has no smtp: clients get no "
			    "outgoing server (smtp = host:587/starttls)", a->domain);
		lint_endpoint(l, a, &a->imap, "imap", PROTO_IMAP, 993, 143);
		lint_endpoint(l, a, &a->pop3, "pop3", PROTO_POP3, 995, 110);
		lint_endpoint(l, a, &a->smtp, "smtp", PROTO_SMTP, 465, 587);
		if (a->activesync != NULL) {
			int line = site_key_line(s, a->line, "activesync");
			char *host = NULL, *path = NULL, *cause = NULL;
			bool https;

			if (parse_url(a->activesync, &host, &https, &path, &cause) != 0) {
				ERR(l, line, "autodiscover %s: activesync URL \"%s\" %s",
				    a->domain, a->activesync, cause);
				free(cause);
			} else {
				if (!https)
					ERR(l, line, "autodiscover %s: activesync URL must be "
					    "https (devices send passwords with Basic auth)",
					    a->domain);
				if (path == NULL || !str_ieq(path,
				    "/Microsoft-Server-ActiveSync"))
					WARN(l, line, "autodiscover %s: activesync URL path is "
					    "\"%s\", not /Microsoft-Server-ActiveSync", a->domain,
					    path != NULL ? path : "");
				if (s->nvhosts > 0 && !vhost_serves(s, host,
				    SVC_BIT(SVC_ACTIVESYNC)))
					WARN(l, line, "autodiscover %s: activesync URL host %s "
					    "is not a [vhost] that proxies activesync", a->domain,
					    host);
				free(host);
				free(path);
			}
		}
		if (a->also.n > 0 && !any_host_role(s, ROLE_DNS))
			WARN(l, site_key_line(s, a->line, "also"), "autodiscover %s: also asks for "
			    "SRV and CNAME records, but no host has role dns: mxdeck publishes "
			    "none, publish them by hand", a->domain);
		for (size_t j = 0; j < a->also.n; j++) {
			const char *dom = a->also.v[j];
			int line = site_word_line(s, a->line, "also", dom);

			if (!valid_hostname(dom) || strchr(dom, '.') == NULL)
				ERR(l, line, "autodiscover %s: also \"%s\" is not a domain name",
				    a->domain, dom);
			else if (str_ieq(dom, a->domain))
				WARN(l, line, "autodiscover %s: also lists the domain itself",
				    a->domain);
			for (size_t k = 0; k < s->nads; k++)
				if (k != i && str_ieq(s->ads[k].domain, dom))
					ERR(l, line, "autodiscover %s: also %s is its own "
					    "[autodiscover] section (line %d): its SRV records "
					    "would be published twice", a->domain, dom,
					    s->ads[k].line);
			for (size_t k = 0; k < j; k++)
				if (str_ieq(a->also.v[k], dom))
					WARN(l, line, "autodiscover %s: also lists %s twice",
					    a->domain, dom);
		}
		if (a->login == LOGIN_LOCALPART)
			lint_localpart_clash(l, a);
	}
}

/* ---- [header-rules] ---- */

static bool
action_changes_delivery(int action)
{
	switch (action) {
	case PFA_BCC: case PFA_DISCARD: case PFA_FILTER: case PFA_HOLD: case PFA_PASS:
	case PFA_REDIRECT: case PFA_REJECT:
		return true;
	default:
		return false;
	}
}

/* Actions that delete, rewrite or stop a message: wrong targets hurt. */
static bool
action_destroys(int action)
{
	return action == PFA_IGNORE || action == PFA_STRIP || action == PFA_REPLACE ||
	    action_changes_delivery(action);
}

/* Does the regex only match at the start of the header line? (^ first, possibly
 * after inline option settings such as (?i), or the A flag.) */
static bool
anchored(const char *re, uint32_t opts)
{
	if (opts & PCRE2_ANCHORED)
		return true;
	while (re[0] == '(' && re[1] == '?' && re[2] != '\0' && strchr(":=!<>|P'", re[2]) == NULL) {
		const char *close = strchr(re, ')');

		if (close == NULL)
			return false;
		re = close + 1;
	}
	return re[0] == '^' || (re[0] == '\\' && re[1] == 'A');
}

/* Postfix's substitution syntax in the result text (mac_parse + dict_pcre_prescan):
 * $$, $n, ${n}, $(n) with 1 <= n <= the number of capture groups. Returns the first
 * problem (heap) or NULL. */
static char *
check_substitutions(const char *text, uint32_t ncap, bool negate)
{
	for (const char *p = text; *p != '\0'; p++) {
		const char *name;
		size_t n;
		long idx;
		char *num;

		if (*p != '$')
			continue;
		if (p[1] == '$') {
			p++;
			continue;
		}
		if (p[1] == '{' || p[1] == '(') {
			char open = p[1], close = open == '{' ? '}' : ')';
			int depth = 1;
			const char *q = p + 2;

			for (; *q != '\0'; q++) {
				if (*q == open)
					depth++;
				else if (*q == close && --depth == 0)
					break;
			}
			if (*q == '\0')
				return xasprintf("truncated reference \"%s\": missing %c", p,
				    close);
			name = p + 2;
			n = (size_t)(q - name);
			p = q;
		} else {
			name = p + 1;
			n = 0;
			while (isalnum((unsigned char)name[n]) || name[n] == '_')
				n++;
			if (n == 0)
				return xstrdup("a lone $ (write $$ for a dollar sign)");
			p = name + n - 1;
		}
		if (n == 0)
			return xstrdup("an empty reference ${} (write $$ for a dollar sign)");
		num = xstrndup(name, n);
		if (parse_int(num, 0, 1000000, &idx) != 0 || num[0] == '-') {
			char *m = xasprintf("non-numeric replacement index \"%s\" (write "
			    "${1}text when a letter follows)", num);

			free(num);
			return m;
		}
		free(num);
		if (negate)
			return xstrdup("$number in the text of a negated !/regex/ rule "
			    "(there is no match to substitute)");
		if (idx < 1 || (uint32_t)idx > ncap)
			return xasprintf("replacement index $%ld is out of range: the regex "
			    "has %u capture group%s", idx, ncap, ncap == 1 ? "" : "s");
	}
	return NULL;
}

/* "Label:" at the start of text: printable ASCII except ':' then ':'. */
static bool
starts_with_label(const char *t)
{
	const char *p = t;

	while (*p >= 33 && *p <= 126 && *p != ':')
		p++;
	return p > t && *p == ':';
}

static void
lint_rule(struct lint *l, const struct header_rules *hr, const struct header_rule *r)
{
	uint32_t opts = PCRE2_CASELESS | PCRE2_DOTALL, ncap = 0;
	pcre2_code *code;
	PCRE2_SIZE off;
	int err;
	const char *arg = r->arg != NULL ? r->arg : "";
	const char *an;
	char *problem;

	if (r->regex == NULL)		/* the parser reported it */
		return;
	for (const char *f = r->flags != NULL ? r->flags : ""; *f != '\0'; f++) {
		switch (*f) {
		case 'i': opts ^= PCRE2_CASELESS; break;
		case 'm': opts ^= PCRE2_MULTILINE; break;
		case 's': opts ^= PCRE2_DOTALL; break;
		case 'x': opts ^= PCRE2_EXTENDED; break;
		case 'A': opts ^= PCRE2_ANCHORED; break;
		case 'E': opts ^= PCRE2_DOLLAR_ENDONLY; break;
		case 'U': opts ^= PCRE2_UNGREEDY; break;
		case 'X':
			WARN(l, r->line, "header rule: flag X is obsolete and ignored by "
			    "Postfix with PCRE2");
			break;
		default:
			ERR(l, r->line, "header rule: unknown regex flag \"%c\": Postfix "
			    "skips this rule", *f);
			return;
		}
	}
	code = pcre2_compile((PCRE2_SPTR)r->regex, PCRE2_ZERO_TERMINATED, opts, &err, &off,
	    NULL);
	if (code == NULL) {
		PCRE2_UCHAR msg[256];

		pcre2_get_error_message(err, msg, sizeof msg);
		ERR(l, r->line, "header rule: regex /%s/ does not compile at offset %zu: "
		    "%s (postmap only warns and Postfix skips the rule)", r->regex,
		    (size_t)off, (const char *)msg);
		return;
	}
	pcre2_pattern_info(code, PCRE2_INFO_CAPTURECOUNT, &ncap);
	pcre2_code_free(code);

	if (r->action < 0 || r->action >= PFA_COUNT) {
		ERR(l, r->line, "header rule: unknown action \"%s\" (postmap accepts it, "
		    "cleanup does not); actions: REPLACE IGNORE PREPEND WARN STRIP INFO "
		    "DUNNO REJECT HOLD DISCARD REDIRECT FILTER BCC PASS",
		    r->action_name != NULL ? r->action_name : "");
		return;
	}
	an = postfix_action_names[r->action];
	if ((problem = check_substitutions(arg, ncap, r->negate)) != NULL) {
		ERR(l, r->line, "header rule: %s; Postfix skips this rule", problem);
		free(problem);
	}
	switch (r->action) {
	case PFA_REPLACE:
	case PFA_PREPEND:
		if (*arg == '\0')
			ERR(l, r->line, "header rule: %s needs a header line as text "
			    "(e.g. %s X-Mailer: hidden)", an, an);
		else if (arg[0] != '$' && !starts_with_label(arg))
			ERR(l, r->line, "header rule: %s text \"%s\" does not start with a "
			    "header label (Name:)", an, arg);
		else if (arg[0] == '$' && arg[1] == '$')
			ERR(l, r->line, "header rule: %s text \"%s\" does not start with a "
			    "header label (Name:)", an, arg);
		break;
	case PFA_REDIRECT:
	case PFA_BCC:
		if (*arg == '\0')
			ERR(l, r->line, "header rule: %s needs an address (user@domain)", an);
		else if (strchr(arg, '$') == NULL && !valid_email(arg))
			ERR(l, r->line, "header rule: %s address \"%s\" is not user@domain",
			    an, arg);
		break;
	case PFA_FILTER:
		if (strchr(arg, ':') == NULL || arg[0] == ':')
			ERR(l, r->line, "header rule: FILTER needs transport:destination "
			    "(e.g. smtp:[127.0.0.1]:10025)");
		break;
	case PFA_IGNORE:
		if (*arg != '\0')
			WARN(l, r->line, "header rule: IGNORE takes no text; \"%s\" is "
			    "ignored (use STRIP to log)", arg);
		break;
	default:
		break;
	}
	if (!r->negate && !anchored(r->regex, opts) && action_destroys(r->action))
		WARN(l, r->line, "header rule: /%s/ is not anchored with ^: it also "
		    "matches inside other headers (a Subject: that mentions it), and %s "
		    "then hits that header; write /^Name:/", r->regex, an);
	if (hr->scope == SCOPE_OUTBOUND && action_changes_delivery(r->action))
		ERR(l, r->line, "header rule: %s is not supported in smtp_header_checks "
		    "(scope = outbound): the smtp client cannot change delivery; use "
		    "scope = authenticated", an);
}

static void
lint_header_rules(struct lint *l)
{
	const struct site *s = l->site;
	int sl = section_line(s, "site");

	if (s->nhrules > 0 && !any_host_role(s, ROLE_POSTFIX))
		WARN(l, s->hrules[0].line, "no host has role postfix: header rules are "
		    "not deployed anywhere");
	for (size_t i = 0; i < s->nhrules; i++) {
		const struct header_rules *hr = &s->hrules[i];

		for (size_t j = 0; j < i; j++)
			if (strcmp(s->hrules[j].name, hr->name) == 0) {
				ERR(l, hr->line, "duplicate [header-rules \"%s\"] (first at "
				    "line %d)", hr->name, s->hrules[j].line);
				break;
			}
		if (hr->nrules == 0)
			WARN(l, hr->line, "header-rules %s has no rule = lines", hr->name);
		if (hr->scope == SCOPE_OUTBOUND && s->dkim)
			WARN(l, site_key_line(s, hr->line, "scope"), "header-rules %s: scope = "
			    "outbound runs in smtp_header_checks, after DKIM signing ([site] "
			    "dkim = yes, line %d): IGNORE/REPLACE there break the signature; "
			    "use scope = authenticated", hr->name, site_key_line(s, sl, "dkim"));
		for (size_t j = 0; j < hr->nrules; j++)
			lint_rule(l, hr, &hr->rules[j]);
	}
}

/* ---- [tls] ---- */

/* The roles line of the first host with role dns (for findings about DNS records
 * when [tls] is absent). */
static int
dns_host_line(const struct site *s)
{
	for (size_t i = 0; i < s->nhosts; i++)
		if (s->hosts[i].roles & ROLE_DNS)
			return site_key_line(s, s->hosts[i].line, "roles");
	return 0;
}

static void
lint_tls(struct lint *l)
{
	const struct site *s = l->site;
	const struct tls_policy *t = &s->tls;
	const char *keys[] = { "smtpd_protocols", "smtp_protocols" };
	const char *vals[] = { t->smtpd_protocols, t->smtp_protocols };
	char *cause = NULL;

	for (size_t i = 0; i < nitems(keys); i++) {
		unsigned mask;

		if (vals[i] == NULL)
			continue;
		if (tls_protocols_parse(vals[i], &mask, &cause) != 0) {
			ERR(l, site_key_line(s, t->line, keys[i]), "[tls] %s: %s", keys[i], cause);
			free(cause);
			cause = NULL;
			continue;
		}
		if (mask & (TLSP_BIT(TLSP_SSLV2) | TLSP_BIT(TLSP_SSLV3)))
			WARN(l, site_key_line(s, t->line, keys[i]), "[tls] %s = %s enables SSLv2/"
			    "SSLv3 (broken since POODLE); exclude them", keys[i], vals[i]);
		else if (i == 0 && (mask & (TLSP_BIT(TLSP_TLSV1) | TLSP_BIT(TLSP_TLSV1_1))))
			WARN(l, site_key_line(s, t->line, keys[i]), "[tls] %s = %s accepts "
			    "TLS 1.0/1.1 (deprecated by RFC 8996)", keys[i], vals[i]);
	}
	if (t->dovecot_min_protocol != NULL &&
	    dovecot_protocol_check(t->dovecot_min_protocol, &cause) != 0) {
		const char *canon = NULL;
		char *cause2 = NULL;

		/* Dovecot compares the names case-insensitively (strcasecmp). */
		if (str_ieq(t->dovecot_min_protocol, "ANY"))
			canon = "ANY";
		for (int i = 0; i < TLSP_COUNT; i++)
			if (str_ieq(t->dovecot_min_protocol, tls_proto_names[i]))
				canon = tls_proto_names[i];
		if (canon != NULL && dovecot_protocol_check(canon, &cause2) == 0)
			WARN(l, site_key_line(s, t->line, "dovecot_min_protocol"), "[tls] "
			    "dovecot_min_protocol = %s: Dovecot accepts it in any case, "
			    "but write %s", t->dovecot_min_protocol, canon);
		else
			ERR(l, site_key_line(s, t->line, "dovecot_min_protocol"), "[tls] "
			    "dovecot_min_protocol: %s", cause);
		free(cause2);
		free(cause);
		cause = NULL;
	}
	if (t->dovecot_min_protocol != NULL &&
	    (str_ieq(t->dovecot_min_protocol, "ANY") ||
	    str_ieq(t->dovecot_min_protocol, "SSLv3") ||
	    str_ieq(t->dovecot_min_protocol, "TLSv1") ||
	    str_ieq(t->dovecot_min_protocol, "TLSv1.1")))
		WARN(l, site_key_line(s, t->line, "dovecot_min_protocol"), "[tls] "
		    "dovecot_min_protocol = %s lets IMAP/POP3 clients use TLS 1.0/1.1 "
		    "(deprecated by RFC 8996); TLSv1.2 is Dovecot's default",
		    t->dovecot_min_protocol);
	if (t->line > 0 && !t->no_renegotiation)
		WARN(l, site_key_line(s, t->line, "no_renegotiation"), "[tls] no_renegotiation "
		    "= no: client-initiated renegotiation lets one client burn the "
		    "server's CPU (DoS)");
	if ((t->next_key != NULL || t->next_certificate != NULL) && t->certificate == NULL)
		WARN(l, site_key_line(s, t->line, t->next_key != NULL ? "next_key" :
		    "next_certificate"), "[tls] %s is set but certificate is not: the dns role "
		    "publishes TLSA records only for a [tls] certificate, so the next key is "
		    "not published either", t->next_key != NULL ? "next_key" :
		    "next_certificate");
	if (t->dane) {
		int dl = site_key_line(s, t->line, "dane");

		if (t->ntlsa_ports == 0)
			WARN(l, dl, "[tls] dane = yes but no tlsa_ports: no TLSA records are "
			    "published for this gateway (tlsa_ports = 25 465)");
		if (t->certificate == NULL && t->ntlsa_ports > 0 && !any_host_role(s, ROLE_DNS))
			WARN(l, dl, "[tls] dane = yes but no [tls] certificate: no TLSA "
			    "records can be computed for this gateway, so senders cannot use "
			    "DANE towards it (outbound DANE checks still work)");
		if (s->resolver == NULL)
			WARN(l, dl, "[tls] dane = yes: smtp_dns_support_level = dnssec needs "
			    "a validating resolver on the gateway, and [site] has no resolver "
			    "for the live tests to check DNSSEC with");
	}
	if (t->ntlsa_ports > 0 && t->certificate == NULL && any_host_role(s, ROLE_DNS))
		ERR(l, t->line > 0 ? site_key_line(s, t->line, "tlsa_ports") : dns_host_line(s), "[tls] "
		    "tlsa_ports (default 25 465) but no [tls] certificate: a host has role "
		    "dns and its TLSA records are computed from the certificate; set "
		    "certificate = or tlsa_ports = (empty)");
	if (t->ntlsa_ports > 0 && t->certificate != NULL && any_host_role(s, ROLE_DNS)) {
		char *path = t->certificate[0] == '/' || s->dir == NULL ?
		    xstrdup(t->certificate) : xasprintf("%s/%s", s->dir, t->certificate);

		if (access(path, R_OK) != 0)
			WARN(l, site_key_line(s, t->line, "certificate"), "[tls] certificate %s "
			    "is not readable here: `mxdeck render` cannot compute the TLSA "
			    "records (plan and apply fetch the certificate from the host)",
			    t->certificate);
		free(path);
	}
	for (size_t i = 0; i < t->ntlsa_ports; i++) {
		int p = t->tlsa_ports[i];
		char word[16];

		snprintf(word, sizeof word, "%d", p);
		if (p != 25 && p != 465 && p != 587)
			WARN(l, site_word_line(s, t->line, "tlsa_ports", word), "[tls] tlsa_ports: "
			    "%d is not an SMTP port (25, 465, 587): is a TLSA record there "
			    "intended?", p);
		for (size_t j = 0; j < i; j++)
			if (t->tlsa_ports[j] == p)
				WARN(l, site_word_line(s, t->line, "tlsa_ports", word), "[tls] "
				    "tlsa_ports lists %d twice", p);
	}
	if (t->certificate != NULL && t->key == NULL)
		WARN(l, site_key_line(s, t->line, "certificate"), "[tls] certificate without "
		    "key: the daemons keep their current key");
}

/* ---- [access] ---- */

static void
lint_access(struct lint *l)
{
	const struct site *s = l->site;
	const struct access_policy *a = &s->access;
	bool has_postmaster = false;

	for (size_t i = 0; i < a->relay_networks.n; i++) {
		const char *net = a->relay_networks.v[i];
		int line = site_word_line(s, a->line, "relay_networks", net), bits;
		bool v6;
		char *cause = NULL;

		if (parse_cidr(net, &bits, &v6, &cause) != 0) {
			ERR(l, line, "[access] relay_networks: %s", cause);
			free(cause);
			continue;
		}
		if (bits == 0)
			ERR(l, line, "[access] relay_networks: %s lets every address relay "
			    "without authentication (an open relay)", net);
		else if (bits < (v6 ? 32 : 8))
			WARN(l, line, "[access] relay_networks: %s is wider than /%d: every "
			    "host in it may relay without authentication", net, v6 ? 32 : 8);
	}
	for (size_t i = 0; i < a->always_accept.n; i++) {
		const char *lp = a->always_accept.v[i];

		if (str_ieq(lp, "postmaster"))
			has_postmaster = true;
		if (strchr(lp, '@') != NULL || !valid_local_part(lp, strlen(lp)))
			ERR(l, site_word_line(s, a->line, "always_accept", lp), "[access] "
			    "always_accept: \"%s\" is not a local part (write postmaster, "
			    "not postmaster@domain: it applies to every domain)", lp);
	}
	if (any_host_role(s, ROLE_POSTFIX) && !has_postmaster)
		WARN(l, a->line > 0 ? site_key_line(s, a->line, "always_accept") : 0,
		    "[access] always_accept does not list postmaster: RFC 5321 requires "
		    "postmaster@ of every domain to accept mail");
}

/* ---- users ---- */

static bool
ascii(const char *s)
{
	for (; *s != '\0'; s++)
		if ((unsigned char)*s >= 0x80)
			return false;
	return true;
}

/* Two [user "x"] sections for one address: the later silently wins. Sorted by
 * address (then line), so a profile with many [user] sections stays fast. */
static int
usec_cmp(const void *a, const void *b)
{
	const struct ini_line *x = *(const struct ini_line *const *)a;
	const struct ini_line *y = *(const struct ini_line *const *)b;
	int c = strcasecmp(x->sub, y->sub);

	return c != 0 ? c : (x < y ? -1 : x > y);
}

static void
lint_user_sections(struct lint *l)
{
	const struct ini *ini = &l->site->ini;
	const struct ini_line **v;
	size_t n = 0;

	v = xcalloc(ini->n + 1, sizeof *v);
	for (size_t i = 0; i < ini->n; i++) {
		const struct ini_line *a = &ini->line[i];

		if (a->kind == INI_SECTION && strcmp(a->section, "user") == 0 &&
		    a->sub != NULL)
			v[n++] = a;
	}
	qsort(v, n, sizeof *v, usec_cmp);
	for (size_t i = 1; i < n; i++) {
		size_t first = i - 1;

		if (strcasecmp(v[i]->sub, v[i - 1]->sub) != 0)
			continue;
		while (first > 0 && strcasecmp(v[first - 1]->sub, v[i]->sub) == 0)
			first--;
		WARN(l, (int)(v[i] - ini->line) + 1, "duplicate [user \"%s\"] (first at "
		    "line %d): where both set a protocol, this one wins; merge them",
		    v[i]->sub, (int)(v[first] - ini->line) + 1);
	}
	free(v);
}

static void
lint_users(struct lint *l)
{
	const struct site *s = l->site;
	int sl = section_line(s, "users"), dl = sl > 0 ? site_key_line(s, sl, "default") : 0;

	/* Dovecot's deny files and Postfix's sasl access list only name the users the
	 * profile lists: a protocol switched off by default stays on for every other
	 * mailbox on the server. */
	for (int p = 0; p < PROTO_COUNT && dl != sl; p++) {
		if ((s->user_default & PROTO_BIT(p)) || !(p == PROTO_IMAP ||
		    p == PROTO_POP3 || p == PROTO_SMTP) || !any_host_role(s,
		    p == PROTO_SMTP ? ROLE_POSTFIX : ROLE_DOVECOT))
			continue;
		WARN(l, dl, "[users] default has %s off, but the "
		    "gateway can only deny the users this profile lists (%zu): any other "
		    "mailbox keeps %s; list every user (e.g. import Get-CASMailbox) or "
		    "turn %s off on the server itself", proto_names[p], s->nusers,
		    proto_names[p], proto_names[p]);
	}

	for (size_t i = 0; i < s->nusers; i++) {
		const struct user *u = &s->users[i];
		const char *file = u->file != NULL ? u->file : l->file;

		if (!ascii(email_domain(u->email))) {
			diag_add(l->d, SEV_ERROR, file, u->line, "user %s: the domain is not "
			    "ASCII; write it in punycode (xn--...)", u->email);
			continue;
		}
		if (!valid_email(u->email)) {
			diag_add(l->d, SEV_ERROR, file, u->line, "user \"%s\" is not an email "
			    "address (local@domain)", u->email);
			continue;
		}
		if (!ascii(u->email))
			diag_add(l->d, SEV_WARNING, file, u->line, "user %s: a non-ASCII "
			    "address needs SMTPUTF8 (RFC 6531) on every hop and client; "
			    "Exchange and many clients cannot log in with it", u->email);
		if (!domain_is_local(s, email_domain(u->email)))
			diag_add(l->d, SEV_WARNING, file, u->line, "user %s: domain %s is "
			    "neither the site domain nor an autodiscover domain", u->email,
			    email_domain(u->email));
	}
}

/* ---- [connector] ---- */

/* Files that hold every public CA: as smtpd_tls_CAfile any publicly trusted client
 * certificate would verify. */
static const char *const ca_bundles[] = {
	"/etc/ssl/certs/ca-certificates.crt", "/etc/ssl/certs/ca-bundle.crt",
	"/etc/pki/tls/certs/ca-bundle.crt", "/etc/ssl/cert.pem",
};

/* Who may present the client certificate: client_ca (smtpd_tls_CAfile, one per
 * port 25) and the optional client_fingerprints pins. */
static void
lint_connector_cert(struct lint *l, const struct connector *c)
{
	const struct site *s = l->site;
	const struct connector *c0 = &s->connectors[0];
	int cl = site_key_line(s, c->line, "client_ca");
	int fl = site_key_line(s, c->line, "client_fingerprints");
	bool bundle = false;

	if (c->client_ca == NULL) {
		ERR(l, c->line, "connector %s has no client_ca: name a PEM file on the "
		    "gateway with the CA certificates of Microsoft 365's sending certificate "
		    "(CN=mail.protection.outlook.com), so that no other client certificate "
		    "is accepted", c->domain);
		return;
	}
	for (size_t i = 0; i < nitems(ca_bundles); i++)
		if (strcmp(c->client_ca, ca_bundles[i]) == 0) {
			ERR(l, cl, "connector %s: client_ca %s is the bundle of every public "
			    "CA: any publicly trusted certificate would be accepted; name a "
			    "file with only the CAs of Microsoft 365's certificate", c->domain,
			    c->client_ca);
			bundle = true;
		}
	if (c->client_ca[0] != '/' || strcspn(c->client_ca, " \t,") != strlen(c->client_ca))
		ERR(l, cl, "connector %s: client_ca \"%s\" must be an absolute path on the "
		    "gateway without spaces or commas", c->domain, c->client_ca);
	if (c != c0 && c0->client_ca != NULL && strcmp(c->client_ca, c0->client_ca) != 0)
		ERR(l, cl, "connector %s: client_ca %s differs from connector %s's %s: port "
		    "25 has one smtpd_tls_CAfile; put both CAs in one file", c->domain,
		    c->client_ca, c0->domain, c0->client_ca);
	for (size_t i = 0; i < c->client_fingerprints.n; i++) {
		char *fp = sha256_fingerprint(c->client_fingerprints.v[i]);

		if (fp == NULL)
			ERR(l, fl, "connector %s: client_fingerprints: \"%s\" is not a SHA-256 "
			    "fingerprint (64 hex digits, ':' between bytes allowed)", c->domain,
			    c->client_fingerprints.v[i]);
		free(fp);
	}
	if (c->client_fingerprints.n == 0 && !bundle)
		WARN(l, cl, "connector %s: every certificate that chains to a root in %s "
		    "is accepted (Postfix verifies client certificates up to the root, so a "
		    "file with only the issuing CA accepts none); pin Microsoft 365's "
		    "certificate with client_fingerprints (SHA-256 of its public key), "
		    "listing the next one before Microsoft changes it", c->domain,
		    c->client_ca);
}

static void
lint_connectors(struct lint *l)
{
	const struct site *s = l->site;

	if (s->nconnectors > 0 && !any_host_role(s, ROLE_POSTFIX))
		WARN(l, s->connectors[0].line, "no host has role postfix: connectors are "
		    "not deployed anywhere");
	for (size_t i = 0; i < s->nconnectors; i++) {
		const struct connector *c = &s->connectors[i];
		char *cause = NULL;

		for (size_t j = 0; j < i; j++)
			if (str_ieq(s->connectors[j].domain, c->domain)) {
				ERR(l, c->line, "duplicate [connector \"%s\"] (first at line %d)",
				    c->domain, s->connectors[j].line);
				break;
			}
		if (!valid_hostname(c->domain) || strchr(c->domain, '.') == NULL)
			ERR(l, c->line, "connector \"%s\" is not a domain name", c->domain);
		else if (domain_is_local(s, c->domain))
			ERR(l, c->line, "connector %s is a mail domain of this site: all its "
			    "mail would go to the smarthost; use a subdomain such as fax.%s",
			    c->domain, c->domain);
		if (c->smarthost != NULL && check_nexthop(c->smarthost, &cause) != 0) {
			ERR(l, site_key_line(s, c->line, "smarthost"), "connector %s: smarthost %s",
			    c->domain, cause);
			free(cause);
		} else if (c->smarthost != NULL && c->smarthost[0] != '[')
			WARN(l, site_key_line(s, c->line, "smarthost"), "connector %s: smarthost "
			    "%s without [ ] makes Postfix look up MX records of it; write "
			    "[%.*s] to use the host itself", c->domain, c->smarthost,
			    (int)strcspn(c->smarthost, ":"), c->smarthost);
		if (c->tenant_id == NULL)
			ERR(l, c->line, "connector %s has no tenant_id: mail from any "
			    "Office 365 tenant would be accepted (X-MS-Exchange-CrossTenant-id)",
			    c->domain);
		else if (!valid_guid(c->tenant_id))
			ERR(l, site_key_line(s, c->line, "tenant_id"), "connector %s: tenant_id "
			    "\"%s\" is not a GUID (xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx)",
			    c->domain, c->tenant_id);
		lint_connector_cert(l, c);
	}
}

void
site_lint(const struct site *site, struct diags *d)
{
	struct lint l = {
		.site = site,
		.d = d,
		.file = site->path != NULL ? site->path : "-",
	};

	lint_site(&l);
	lint_hosts(&l);
	lint_vhosts(&l);
	lint_autodiscover(&l);
	lint_header_rules(&l);
	lint_tls(&l);
	lint_access(&l);
	lint_users(&l);
	lint_user_sections(&l);
	lint_connectors(&l);
}
