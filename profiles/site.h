/* site.h: the one in-memory model of a profile (mxdeck(1) PROFILE FORMAT; share/doc/HACKING.md §1).
 *
 * site_load() reads the profile (and its users CSV), fills a struct site and reports
 * every problem as FILE:LINE diagnostics. After loading, the model is read-only for
 * everything but the console's editor, which edits the ini document and reloads. */
#ifndef MXDECK_SITE_H
#define MXDECK_SITE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "diag.h"
#include "ini.h"
#include "roles.h"
#include "util.h"

/* Per-user protocols, in the column order of the users CSV. */
enum proto {
	PROTO_IMAP, PROTO_POP3, PROTO_SMTP, PROTO_ACTIVESYNC, PROTO_MAPI, PROTO_OWA,
	PROTO_EWS, PROTO_COUNT
};
#define PROTO_BIT(p)	(1u << (p))
#define PROTO_ALL	((1u << PROTO_COUNT) - 1)
extern const char *const proto_names[PROTO_COUNT];	/* "imap", "pop3", ... */
int proto_from_name(const char *name);			/* -1 if unknown */

/* Exchange services proxied by a vhost. */
enum service {
	SVC_OWA, SVC_OMA, SVC_ECP, SVC_EWS, SVC_OAB, SVC_AUTODISCOVER, SVC_ACTIVESYNC,
	SVC_RPC, SVC_MAPI, SVC_COUNT
};
#define SVC_BIT(s)	(1u << (s))
extern const char *const service_names[SVC_COUNT];

/* THE service/port table: the services a host serves, their probe_ports names and
 * standard ports, and the roles that serve them (profiles/site.c). probe_ports' defaults
 * and the live tests' endpoints (backends/probe) read it. */
enum host_service {
	HS_SMTP, HS_SUBMISSION, HS_SMTPS, HS_IMAPS, HS_POP3S, HS_IMAP, HS_POP3, HS_HTTPS,
	HS_HTTP, HS_COUNT
};
struct host_service_info {
	const char *name;	/* as in probe_ports */
	int	 port;		/* the standard port, probe_ports' default */
	unsigned roles;		/* any of these roles serves it (enum role) */
};
extern const struct host_service_info host_services[HS_COUNT];

struct probe_port {
	char	*service;	/* smtp submission smtps imaps pop3s imap pop3 https */
	int	 port;
};

struct host {
	char	*name;
	int	 line;		/* of the [host "..."] header */
	char	*address;	/* name, IP, or "local" */
	bool	 local;		/* address = local */
	int	 port;		/* 22 */
	char	*user;		/* "root" */
	char	*identity;	/* NULL: agent only */
	bool	 port_set, user_set;	/* written in the profile (they win over ssh_config) */
	unsigned roles;		/* enum role bits */
	char	*postfix_dir, *dovecot_dir, *apache_dir, *nginx_dir, *www_dir, *state_dir;
	char	*postfix_version;	/* NULL: detect over SSH; render assumes DEFAULT */
	char	*php_fpm_socket;	/* "/run/php/php8.2-fpm.sock" */
	char	*postfix_queue_dir;	/* "/var/spool/postfix": where Dovecot puts the
					 * SASL socket private/auth for Postfix */
	int	 keep_backups;	/* backups kept under state_dir/backup: 1..1000, 10 */
	struct probe_port *probe_ports;	/* the effective list: defaults, then overrides */
	size_t	 nprobe_ports;
};
#define POSTFIX_VERSION_DEFAULT "3.7"

enum encryption { ENC_SSL, ENC_STARTTLS, ENC_PLAIN };

struct endpoint {
	char	*host;		/* NULL: not configured */
	int	 port;
	enum encryption enc;
	int	 line;
};

struct vhost {
	char	*name;		/* the public host name */
	int	 line;
	enum { SERVER_APACHE, SERVER_NGINX } server;
	char	*backend;	/* https://exchange1.lan.example.org */
	char	*backend_ca;	/* optional CA file to verify the backend */
	unsigned services;	/* SVC_BIT() */
	char	*certificate;
	char	*key;
	int	 activesync_timeout;	/* seconds, default 1800 */
	int	 activesync_timeout_line;	/* 0 when defaulted */
	bool	 legacy_tls;
	int	 legacy_tls_line;
};

struct autodiscover {
	char	*domain;
	int	 line;
	struct endpoint imap, pop3, smtp;
	char	*activesync;	/* URL or NULL */
	enum { LOGIN_EMAIL, LOGIN_LOCALPART } login;
	struct strv also;	/* extra domains that get SRV/CNAME records */
};

enum postfix_action {
	PFA_REPLACE, PFA_IGNORE, PFA_PREPEND, PFA_WARN, PFA_STRIP, PFA_INFO, PFA_DUNNO,
	PFA_REJECT, PFA_HOLD, PFA_DISCARD, PFA_REDIRECT, PFA_FILTER, PFA_BCC, PFA_PASS,
	PFA_OK, PFA_COUNT
};
extern const char *const postfix_action_names[PFA_COUNT];

struct header_rule {
	char	*text;		/* the rule exactly as written, e.g. /^X-Mailer:/ IGNORE */
	int	 line;
	/* Parsed by hdr_rule_parse() (profiles/hdrrule.c) at load time: */
	bool	 negate;	/* !/re/ */
	char	*regex;
	char	*flags;		/* postfix flag toggles as written ("" if none) */
	int	 action;	/* enum postfix_action, -1 when unknown */
	char	*action_name;	/* as written */
	char	*arg;		/* the text after the action, "" if none */
};

struct header_rules {
	char	*name;
	int	 line;
	enum { SCOPE_AUTHENTICATED, SCOPE_OUTBOUND } scope;
	struct header_rule *rules;
	size_t	 nrules;
};

struct tls_policy {
	int	 line;		/* of [tls], 0 when absent */
	char	*smtpd_protocols;	/* as written in the profile, modern syntax preferred */
	char	*smtp_protocols;
	bool	 no_renegotiation;
	char	*dovecot_min_protocol;
	bool	 dane;
	int	*tlsa_ports;
	size_t	 ntlsa_ports;
	char	*certificate;	/* of the MX / SMTP service; TLSA records come from it */
	char	*key;
	/* The key (PEM private or public key) and/or certificate of the next rollover
	 * (RFC 7671 section 8.1): the dns role publishes its 3 1 1 TLSA record beside
	 * the current one; NULL when not set. */
	char	*next_key;
	char	*next_certificate;
	struct strv caa;	/* issuer domains of the CAs that may issue (CAA) */
};

struct access_policy {
	int	 line;
	struct strv always_accept;	/* local parts: postmaster abuse */
	struct strv relay_networks;	/* CIDRs */
	/* The admin's own smtpd_recipient_restrictions (RBLs, policy services...), kept
	 * after mxdeck's always-accept check; mxdeck owns that main.cf parameter. */
	struct strv recipient_restrictions;
};

/* [mta-sts]: MTA-STS (RFC 8461) and TLS-RPT (RFC 8460) for every mail domain the dns
 * role publishes (backends/render/mtasts.c renders the policy, its web site and its TXT
 * records; lint checks the patterns cover the MX names). */
enum sts_mode { STS_ENFORCE, STS_TESTING, STS_NONE };
struct mta_sts {
	int	 line;		/* of [mta-sts], 0 when absent */
	int	 mode;		/* enum sts_mode (PK_ENUM stores an int) */
	int	 max_age;	/* seconds, 0..31557600 */
	struct strv mx;		/* mx patterns; empty: the MX names the dns role publishes */
	struct strv rua;	/* TLS-RPT report URIs (mailto: or https:); empty: no TLS-RPT */
	char	*certificate;	/* of the https://mta-sts.DOMAIN site */
	char	*key;
};

struct user {
	char	*email;
	unsigned protos;	/* effective enabled set (PROTO_BIT) */
	const char *file;	/* where it was last set: profile or CSV path (owned by site) */
	int	 line;
};

struct connector {
	char	*domain;	/* fax.example.org */
	int	 line;
	char	*smarthost;	/* [fax-gw.example.org]:25 */
	char	*tenant_id;
	char	*client_ca;	/* CAfile naming only the CA of Microsoft 365's certificate */
	struct strv client_fingerprints;	/* SHA-256 of its certificate or public key */
};

struct site {
	char	*path;		/* the profile file */
	char	*dir;		/* its directory, for relative paths */
	char	*users_path;	/* the CSV, resolved, or NULL */
	struct ini ini;		/* the document, for the console's in-place editor */

	char	*name;
	char	*domain;
	char	*resolver;	/* host[:port] or NULL */
	char	*trust_anchor;
	bool	 dkim;		/* [site] dkim = yes: outgoing mail is DKIM-signed (lint) */
	char	*spf;		/* [site] spf: the SPF record the dns role publishes
				 * ("none": none; NULL: the default, see dns.c) */
	char	*dmarc;		/* [site] dmarc: the DMARC record ("none": none;
				 * NULL: v=DMARC1; p=none) */
	char	*tests_ca;	/* [tests] ca: the CA file the live tests trust (NULL:
				 * the system store, or SSL_CERT_FILE) */
	struct strv tests_probes;	/* [tests] probes: the live test kinds to run
					 * (empty: the default kinds) */
	struct strv tests_dnsbl;	/* [tests] dnsbl: DNS block list zones the live
					 * tests look the Postfix hosts' addresses up in */
	char	*tests_credentials;	/* [tests] credentials: address:password lines for
					 * the per-user login tests (resolved path; read
					 * only by the login probes, never copied) */

	struct host *hosts;		size_t nhosts;
	struct vhost *vhosts;		size_t nvhosts;
	struct autodiscover *ads;	size_t nads;
	struct header_rules *hrules;	size_t nhrules;
	struct connector *connectors;	size_t nconnectors;
	struct tls_policy tls;
	struct access_policy access;
	struct mta_sts mta_sts;

	unsigned user_default;		/* PROTO_BIT set from [users] default */
	struct user *users;		size_t nusers;
	/* private: users array capacity, open-addressing index by lower-case email */
	size_t	 users_cap;
	uint32_t *uidx;			size_t uidx_cap;
};

/* Load PATH. Returns 0 when the profile could be used (warnings allowed), -1 when it
 * has errors; every problem is in *d either way. *site is always safe to free. */
int site_load(struct site *site, const char *path, struct diags *d);
/* Build from an in-memory buffer (tests, fuzzing, the console after an edit). dir is
 * where a relative users file is looked up. */
int site_load_buf(struct site *site, const char *path, const char *buf, size_t len,
    struct diags *d);
void site_free(struct site *site);

/* The key tables (profiles/site.c, share/doc/HACKING.md §3): one row per key of a
 * section, in the manner of Postfix's CONFIG_*_TABLE. The type says how a value is
 * parsed, stored in the section's struct at off, and freed; dflt is the default as it
 * would be written in the profile (applied when the section starts, or before the
 * first line for [site] [tls] [access] [tests]). */
enum pk_type {
	PK_STR,		/* char *: as written */
	PK_PATH,	/* char *: a local file; relative to the profile's directory */
	PK_DIR,		/* char *: a [host] directory; relative only on a local host */
	PK_BOOL,	/* bool: yes/no, on/off, 1/0, true/false */
	PK_INT,		/* int: min..max; what names the unit ("a number of seconds") */
	PK_PORT,	/* int: 1..65535 */
	PK_PORTS,	/* int *: space-separated ports; their count (size_t) at aux */
	PK_WORDS,	/* struct strv: space-separated words */
	PK_ENUM,	/* int: the index of the value among what's "a|b" (any case) */
	PK_ENDPOINT,	/* struct endpoint: host:port/ssl|starttls|plain */
	PK_CUSTOM,	/* handler parses and stores; what it allocates the section frees */
};
#define PK_NONEMPTY	0x1u	/* an empty value is refused ("'KEY' needs a value") */
#define PK_REPEAT	0x2u	/* may be given more than once in a section (rule =) */
#define PK_LINE		0x4u	/* a value that was taken stores its line (int) at aux */
#define PK_FLAG		0x8u	/* a value that was taken sets the bool at aux */

struct parser;
struct profile_key;
/* PK_CUSTOM: parse value (of the key on line) into obj, report errors. */
typedef void pkey_fn(struct parser *P, const struct profile_key *k, void *obj, const char *value,
    int line);
/* Any type: refuse value (report why, return false) before it is stored. */
typedef bool pkey_check(struct parser *P, const struct profile_key *k, const char *value, int line);

struct profile_key {
	const char *name;	/* NULL ends a table */
	enum pk_type type;
	size_t	 off;		/* the field in the section's struct */
	const char *dflt;	/* the default, as written in a profile; NULL: none */
	long	 min, max;	/* PK_INT bounds */
	const char *what;	/* PK_INT: the unit; PK_ENUM: the values, '|'-separated */
	pkey_fn	*handler;	/* PK_CUSTOM */
	pkey_check *check;	/* optional */
	unsigned flags;		/* KF_* */
	size_t	 aux;		/* PK_LINE, PK_FLAG, PK_PORTS: that other field */
};

/* The key table of a section (ends with a NULL name), or NULL for an unknown section.
 * Sections: site host vhost autodiscover header-rules tls access users user connector
 * tests. */
const struct profile_key *site_section_keys(const char *section);
/* Whether the section takes a "name" ([host "gw1"]). */
bool site_section_has_name(const char *section);

/* The port of one of a host's services (probe_ports: smtp submission smtps imaps pop3s
 * imap pop3 https); 0 when switched off, dflt when the service is not listed. */
int host_port(const struct host *h, const char *service, int dflt);

/* The line (1-based) of key in the section whose header is on sect_line; else of the
 * key in another instance of the same unnamed section (a second [tls]); else
 * sect_line (the key is not written: a default). For findings at the exact key. */
int site_key_line(const struct site *s, int sect_line, const char *key);
/* The line of the first key line of that section whose value has word among its
 * space-separated words (one relay network of a list); else site_key_line(). */
int site_word_line(const struct site *s, int sect_line, const char *key, const char *word);

const struct host *site_find_host(const struct site *site, const char *name);
struct user *site_find_user(const struct site *site, const char *email);
/* Remove the users whose address is in emails[0..n) (case-insensitive, as
 * site_find_user) from the model; an address that is not there is skipped, so is a
 * repeated one. The other users keep their order, address, protocols, file and line,
 * and site_find_user finds each of them as before. emails[] may point into
 * site->users itself. Pointers to users are invalid afterwards. Returns the number of
 * users removed. (The ini document is not touched: this is for users that come from
 * the users CSV, which the console edits apart from the profile.) */
size_t site_remove_users(struct site *site, const char *const *emails, size_t n);

/* Users CSV: both mxdeck's own columns and a Get-CASMailbox | Export-Csv file.
 * Adds or updates users starting from site->user_default. */
int users_csv_load(struct site *site, const char *path, struct diags *d);
int users_csv_parse(struct site *site, const char *path, const char *buf, size_t len,
    struct diags *d);

/* The records of users CSV text as users_csv_parse() reads them, with the lines each
 * one takes up, so that a record can be cut out of (or rewritten in) the file as it is
 * on disk. Records always take whole lines: a record ends at the first newline outside
 * quotes, and the next one starts on the line after it. Line numbers are those of
 * diagnostics and of struct user: 1-based, after a UTF-8 byte order mark; a UTF-16
 * text (with a byte order mark) is read as the UTF-8 text it converts to, which has
 * the same lines. Records the parser did not get to (after an unterminated quote or a
 * header without an email column) are not listed. */
enum csv_rec_kind {
	CSVREC_SKIPPED,		/* an empty line, or a "#TYPE" / "#..." line before the header */
	CSVREC_HEADER,		/* the header row */
	CSVREC_USER,		/* a row that sets a user: email */
	CSVREC_BAD,		/* a row the parser reported as an error and ignored */
};

struct csv_record {
	enum csv_rec_kind kind;
	char	*email;		/* CSVREC_USER: the user's address; else NULL */
	int	 first, last;	/* its lines; last > first when a quoted field holds newlines */
};

struct csv_records {
	struct csv_record *v;	/* in file order */
	size_t	 n, cap;
	char	 sep;		/* the header's separator: ',' ';' or '\t' (',' without one) */
	bool	 native;	/* the header is mxdeck's own email,imap,pop3,smtp,activesync,
				 * mapi,owa,ews (in that order, any case, quoted or not) */
	bool	 utf16;		/* the text is UTF-16LE/BE with a byte order mark */
};

/* Fills *out (always safe to free with csv_records_free) and reports the file's
 * problems in *d exactly as users_csv_parse() does; returns its result. path is only
 * for the diagnostics. */
int users_csv_records(const char *path, const char *buf, size_t len,
    struct csv_records *out, struct diags *d);
void csv_records_free(struct csv_records *recs);

/* Semantic checks beyond the parser (profiles/lint.c). Adds to *d. */
void site_lint(const struct site *site, struct diags *d);

/* Postfix version compare: "3.6" vs "3.10.1"; <0, 0, >0. */
int postfix_version_cmp(const char *a, const char *b);

/* Parse one header rule (pcre table line) into r's parsed fields. -1 + *cause when the
 * line is not of the form [!]/regex/flags ACTION [text]. Regex compilation and the
 * action check are lint's job. */
int hdr_rule_parse(struct header_rule *r, char **cause);

#endif
