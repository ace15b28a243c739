/* render.h: every renderer is a pure function from (site, host) to a file set.
 *
 * One file per target in backends/render/, each exporting one const struct renderer,
 * all listed in renderers[] (render.c). Adding a target = one file + one entry.
 * Renderers never touch the network and never write files: they fill a fileset. */
#ifndef MXDECK_RENDER_H
#define MXDECK_RENDER_H

#include <stddef.h>

#include "profiles/site.h"

/* What the push protocol does with a file after it is in place. */
enum file_kind {
	FK_FILE,		/* a plain config file or map, uploaded as is */
	FK_POSTMAP,		/* a Postfix lookup table that needs `postmap` (hash:) */
	FK_POSTCONF,		/* <postfix_dir>/mxdeck.postconf   -> postconf -c DIR -e  */
	FK_POSTCONF_M,		/* <postfix_dir>/mxdeck.master     -> postconf -c DIR -M  */
	FK_POSTCONF_P,		/* <postfix_dir>/mxdeck.master-params -> postconf -c DIR -P */
	FK_SCRIPT,		/* not installed config: a script for the admin (nsupdate, ps1) */
	FK_LINK,		/* a symlink to target (a2enmod's mods-enabled/ssl.load), no data */
};

struct rfile {
	char	*path;		/* absolute remote path, e.g. /etc/postfix/mxdeck_header_checks */
	char	*role;		/* the renderer that produced it ("postfix") */
	unsigned mode;		/* 0644, 0640, 0755; 0 for FK_LINK */
	enum file_kind kind;
	struct sbuf data;
	char	*symlink;	/* if set, also make this path a symlink to path (sites-enabled) */
	char	*target;	/* FK_LINK: what the link at path points to, as written */
};

struct fileset {
	struct rfile *v;
	size_t	 n;
	size_t	 cap;
};

/* Add a file (path is copied); returns it for the caller to fill data. */
struct rfile *fileset_add(struct fileset *fs, const char *role, const char *path,
    unsigned mode, enum file_kind kind);
/* A web server site DIR/sites-available/NAME enabled the Debian way through the link
 * DIR/sites-enabled/NAME; takes the bytes of *data (left empty). */
struct rfile *fileset_add_site(struct fileset *fs, const char *role, const char *dir,
    const char *name, struct sbuf *data);
struct rfile *fileset_find(const struct fileset *fs, const char *path);
void fileset_sort(struct fileset *fs);		/* by path: deterministic order */
void fileset_free(struct fileset *fs);

/* Extra inputs a renderer may use; everything else comes from the site. */
struct render_ctx {
	const struct site *site;
	const struct host *host;
	const char *postfix_version;	/* host's key, detected version, or default */
	/* PEM of [tls] certificate fetched from the host at plan time when it is not
	 * readable locally; NULL at plain render time. */
	const char *tls_cert_pem;
	/* Findings: when set, every refusal is also a finding here, at the FILE:LINE of
	 * the key (or users-CSV row) it is about, and render_host goes on past it to
	 * the other renderers (`mxdeck lint`: render_lint). */
	struct diags *diags;
	/* The renderer render_host is running (its name prefixes the findings). */
	const char *renderer;
};

/* A renderer refuses the profile: value V of the key on LINE of FILE (the profile, or a
 * users CSV for one of its rows) cannot be rendered. Adds the finding
 * "host H: RENDERER: message" at FILE:LINE to ctx->diags when set, and puts
 * "FILE:LINE: message" in *cause unless *cause already holds an earlier refusal
 * (line < 0: no line, "FILE: message"; line 0 is kept as written). Returns -1.
 * A renderer keeps going after a refusal with what it can still render (skipping the
 * refused item) so that one lint run shows every refusal, and returns -1 at its end. */
int render_refuse(const struct render_ctx *ctx, char **cause, const char *file, int line,
    const char *fmt, ...) __attribute__((format(printf, 5, 6)));

/* Render every host of site in memory and add every renderer's refusal to d as a
 * finding (see render_refuse): what `mxdeck lint` runs after the profile checks. */
void render_lint(const struct site *site, struct diags *d);

/* The context of a plain render of one host: its postfix_version key or the default
 * (plan uses the version it detects on the host instead). */
struct render_ctx render_ctx_for(const struct site *site, const struct host *host);

struct renderer {
	const char *name;		/* "postfix" */
	unsigned role;			/* ROLE_POSTFIX: the host role that enables it */
	/* The service (backends/ssh/services.c) that validates and reloads what it
	 * writes: "postfix", "dovecot", "apache2", "nginx"; "web" for whichever web
	 * server of the host owns the directory; NULL when no daemon reads its files
	 * (scripts for the admin). */
	const char *service;
	/* Fill fs with this role's files for ctx->host. 0, or -1 with *cause. */
	int (*render)(const struct render_ctx *ctx, struct fileset *fs, char **cause);
};

extern const struct renderer *const renderers[];	/* NULL-terminated */

/* The Apache modules and configuration snippets the rendered sites of ctx->host need
 * (apache-mods.c: one table, directive or feature -> module, plus a2enmod's
 * dependencies), added to fs as FK_LINK entries DIR/mods-enabled/M.load ->
 * ../mods-available/M.load (and M.conf), DIR/conf-enabled/C.conf. render_host calls it
 * after the renderers. 0, or -1 with *cause. */
int render_apache_modules(const struct render_ctx *ctx, struct fileset *fs, char **cause);
/* "module ssl", "conf php8.2-fpm": what an FK_LINK entry enables, for plans and
 * previews; *owned is the string to free. */
const char *rfile_link_label(const struct rfile *f, char **owned);

/* The php-fpm the Autodiscover responder of host h talks to: a socket path or
 * HOST:PORT (its php_fpm_socket, else Debian 12's php8.2-fpm socket). */
const char *render_fpm_socket(const struct host *h);

/* Render every role of one host into fs (sorted). */
int render_host(const struct render_ctx *ctx, struct fileset *fs, char **cause);
/* Write fs under DIR/<host>/<remote path>; -1 with *cause. */
int fileset_write(const struct fileset *fs, const char *dir, const char *hostname,
    char **cause);

/* The target to give f->symlink: a relative path from the link's directory to f->path
 * (as Debian's a2ensite does: ../sites-available/x.conf). Caller frees. */
char *rfile_link_target(const struct rfile *f);

/* The MX names the dns role publishes (dns.c, documented there) and why those; 0, or
 * -1 with *cause (a host address that is not a valid DNS name). */
int dns_mx_names(const struct site *site, struct strv *mx, const char **why, char **cause);

/* MTA-STS (mtasts.c): the mail domains, the effective mx patterns (refusing patterns
 * that leave a published MX name uncovered), the policy text, its id, and RFC 8461
 * §4.1 matching of an MX name against a pattern. The live test reads them too. */
void mta_sts_domains(const struct site *site, struct strv *out);
int mta_sts_patterns(const struct site *site, struct strv *patterns, char **cause);
void mta_sts_policy(const struct site *site, const struct strv *patterns, struct sbuf *out);
void mta_sts_id(const char *text, size_t len, char id[21]);
bool mta_sts_mx_match(const char *pattern, const char *name);

/* Escaping helpers shared by renderers. */
void xml_escape(struct sbuf *b, const char *s);
void php_sq_escape(struct sbuf *b, const char *s);	/* for '...' PHP literals */

#endif
