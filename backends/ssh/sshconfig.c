/* sshconfig.c: ssh_config(5) for one host, read the way OpenSSH's readconf.c reads it
 * (see sshconfig.h). Files are untrusted input: bounded in size, depth and count, and
 * every error names FILE:LINE. */
#include "backends/ssh/sshconfig.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <glob.h>
#include <limits.h>
#include <pwd.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#define SYSTEM_DIR	"/etc/ssh"
#define SYSTEM_CONFIG	SYSTEM_DIR "/ssh_config"

struct parse {
	const char *host;	/* lowercased */
	struct sshcfg *c;
	bool	 userconf;	/* relative Include paths are under ~/.ssh, else /etc/ssh */
	size_t	 nfiles;
	char	**cause;
};

void
sshcfg_init(struct sshcfg *c)
{
	memset(c, 0, sizeof *c);
	c->identities_only = -1;
	c->hash_known_hosts = -1;
	c->connect_timeout = -1;
	c->server_alive_interval = -1;
}

void
sshcfg_free(struct sshcfg *c)
{
	free(c->host);
	free(c->hostname);
	free(c->user);
	strv_free(&c->identity_files);
	strv_free(&c->user_known_hosts);
	strv_free(&c->global_known_hosts);
	free(c->proxy_jump);
	free(c->proxy_command);
	strv_free(&c->files);
	sshcfg_init(c);
}

char *
sshcfg_home(void)
{
	const char *home = getenv("HOME");
	struct passwd *pw;

	if (home != NULL && *home != '\0')
		return xstrdup(home);
	pw = getpwuid(getuid());
	return xstrdup(pw != NULL && pw->pw_dir != NULL ? pw->pw_dir : "/");
}

static char *
local_user(void)
{
	struct passwd *pw = getpwuid(getuid());

	if (pw != NULL && pw->pw_name != NULL)
		return xstrdup(pw->pw_name);
	return xasprintf("%lu", (unsigned long)getuid());
}

/* "~" or "~/..." to the home directory; anything else copied. */
static char *
tilde(const char *path)
{
	char *home, *r;

	if (path[0] != '~' || (path[1] != '/' && path[1] != '\0'))
		return xstrdup(path);
	home = sshcfg_home();
	r = xasprintf("%s%s", strcmp(home, "/") == 0 && path[1] == '/' ? "" : home,
	    path + 1);
	free(home);
	return r;
}

char *
sshcfg_expand(const char *path, const char *host, const char *hostname, int port,
    const char *ruser, char **cause)
{
	struct sbuf b;
	char *t = tilde(path), *home = NULL, *user = NULL, lhost[256];

	sb_init(&b);
	sb_add(&b, "");
	for (const char *p = t; *p != '\0'; p++) {
		if (*p != '%') {
			sb_addc(&b, *p);
			continue;
		}
		switch (*++p) {
		case '%':
			sb_addc(&b, '%');
			break;
		case 'd':
			if (home == NULL)
				home = sshcfg_home();
			sb_add(&b, home);
			break;
		case 'h':
			sb_add(&b, hostname);
			break;
		case 'i':
			sb_addf(&b, "%lu", (unsigned long)getuid());
			break;
		case 'L':
		case 'l':
			if (gethostname(lhost, sizeof lhost) == -1)
				strcpy(lhost, "localhost");
			lhost[sizeof lhost - 1] = '\0';
			if (*p == 'L')
				lhost[strcspn(lhost, ".")] = '\0';
			sb_add(&b, lhost);
			break;
		case 'n':
			sb_add(&b, host);
			break;
		case 'p':
			sb_addf(&b, "%d", port);
			break;
		case 'r':
			sb_add(&b, ruser);
			break;
		case 'u':
			if (user == NULL)
				user = local_user();
			sb_add(&b, user);
			break;
		default:
			*cause = xasprintf("'%s': unknown %%-token '%%%.1s' (mxdeck expands "
			    "%%%% %%d %%h %%i %%L %%l %%n %%p %%r %%u)", path, *p ? p : "");
			free(t);
			free(home);
			free(user);
			sb_free(&b);
			return NULL;
		}
	}
	free(t);
	free(home);
	free(user);
	return sb_steal(&b);
}

/*
 * Split a line's arguments as OpenSSH's argv_split does: separated by blanks (space,
 * tab), double or single quotes group, a backslash escapes a quote or a backslash (and
 * a space outside quotes), an argument starting with '#' ends the line. -1 on
 * unbalanced quotes.
 */
static int
split_args(const char *s, struct strv *av)
{
	struct sbuf b;

	sb_init(&b);
	for (;;) {
		char q = 0;

		while (*s == ' ' || *s == '\t')
			s++;
		if (*s == '\0' || *s == '#')
			break;
		sb_reset(&b);
		sb_add(&b, "");
		for (; *s != '\0'; s++) {
			if (*s == '\\') {
				if (s[1] == '\'' || s[1] == '"' || s[1] == '\\' ||
				    (q == 0 && s[1] == ' '))
					s++;
				sb_addc(&b, *s);
			} else if (q == 0 && (*s == ' ' || *s == '\t'))
				break;
			else if (q == 0 && (*s == '"' || *s == '\''))
				q = *s;
			else if (q != 0 && *s == q)
				q = 0;
			else
				sb_addc(&b, *s);
		}
		if (q != 0) {
			sb_free(&b);
			return -1;
		}
		strv_push(av, b.s);
	}
	sb_free(&b);
	return 0;
}

static int __attribute__((format(printf, 4, 5)))
perr(struct parse *P, const char *file, int line, const char *fmt, ...)
{
	va_list ap;
	char *m;

	va_start(ap, fmt);
	m = xvasprintf(fmt, ap);
	va_end(ap);
	if (line > 0)
		*P->cause = xasprintf("%s:%d: %s", file, line, m);
	else
		*P->cause = xasprintf("%s: %s", file, m);
	free(m);
	return -1;
}

static int read_config(struct parse *P, const char *file, int depth, bool checkperm,
    bool must_exist, bool *active);

static int
do_include(struct parse *P, const char *file, int line, const struct strv *av,
    int depth, bool *active)
{
	for (size_t i = 1; i < av->n; i++) {
		const char *arg = av->v[i];
		char *path;
		glob_t gl;
		int r;

		if (arg[0] == '~' && !P->userconf)
			return perr(P, file, line, "Include %s: '~' is not allowed in the "
			    "system configuration", arg);
		if (arg[0] == '/' || arg[0] == '~')
			path = tilde(arg);
		else if (P->userconf) {
			char *home = sshcfg_home();

			path = xasprintf("%s/.ssh/%s", home, arg);
			free(home);
		} else
			path = xasprintf("%s/%s", SYSTEM_DIR, arg);
		memset(&gl, 0, sizeof gl);
		r = glob(path, 0, NULL, &gl);
		if (r == GLOB_NOMATCH) {
			free(path);
			continue;
		}
		if (r != 0) {
			globfree(&gl);
			perr(P, file, line, "Include %s: cannot expand %s", arg, path);
			free(path);
			return -1;
		}
		free(path);
		for (size_t k = 0; k < gl.gl_pathc; k++) {
			/* An included file's Match/Host state does not leak into ours. */
			bool sub = *active;

			if (read_config(P, gl.gl_pathv[k], depth + 1, true, false, &sub) == -1) {
				char *c = *P->cause;

				if (strstr(c, " (included from ") == NULL) {
					*P->cause = xasprintf("%s (included from %s:%d)", c, file,
					    line);
					free(c);
				}
				globfree(&gl);
				return -1;
			}
		}
		globfree(&gl);
	}
	return 0;
}

static int
yesno(struct parse *P, const char *file, int line, const char *kw, const char *v,
    int *out)
{
	int b;

	if (strcasecmp(v, "yes") == 0 || strcasecmp(v, "true") == 0)
		b = 1;
	else if (strcasecmp(v, "no") == 0 || strcasecmp(v, "false") == 0)
		b = 0;
	else
		return perr(P, file, line, "%s: expected yes or no, got '%s'", kw, v);
	if (*out == -1)
		*out = b;
	return 0;
}

static int
set_once(char **dst, const char *v)
{
	if (*dst == NULL)
		*dst = xstrdup(v);
	return 0;
}

/* One "keyword args" line; *active says whether the current Host block applies. */
static int
process_line(struct parse *P, const char *file, int line, char *s, int depth,
    bool *active)
{
	struct sshcfg *c = P->c;
	struct strv av = { 0 };
	char *kw, *rest;
	long n;
	int rc = 0;

	while (*s == ' ' || *s == '\t' || *s == '\f' || *s == '\v')
		s++;
	if (*s == '\0' || *s == '#')
		return 0;
	/* The keyword ends at a blank or an '='; "Key = value", "Key=value" and
	 * "Key value" are the same. */
	kw = s;
	while (*s != '\0' && *s != ' ' && *s != '\t' && *s != '=')
		s++;
	rest = s;
	if (*rest != '\0') {
		bool eq = *rest == '=';

		*rest++ = '\0';
		while (*rest == ' ' || *rest == '\t')
			rest++;
		if (!eq && *rest == '=') {
			rest++;
			while (*rest == ' ' || *rest == '\t')
				rest++;
		}
	}
	strv_push(&av, kw);
	if (split_args(rest, &av) == -1) {
		strv_free(&av);
		return perr(P, file, line, "%s: unbalanced quotes", kw);
	}
	if (av.n < 2) {
		strv_free(&av);
		return perr(P, file, line, "no argument after keyword '%s'", kw);
	}
#define IS(k) (strcasecmp(kw, (k)) == 0)
	if (av.n > 2 && (IS("HostName") || IS("Port") || IS("User") || IS("IdentityFile") ||
	    IS("IdentitiesOnly") || IS("HashKnownHosts") || IS("ConnectTimeout") ||
	    IS("ServerAliveInterval"))) {
		rc = perr(P, file, line, "%s: extra arguments at end of line (quote a value "
		    "with blanks)", kw);
		goto out;
	}
	if (IS("Host")) {
		bool yes = false;

		for (size_t i = 1; i < av.n; i++) {
			const char *p = av.v[i];
			bool neg = *p == '!';

			if (neg)
				p++;
			if (wild_match(p, P->host, false)) {
				if (neg) {
					yes = false;
					break;
				}
				yes = true;
			}
		}
		*active = yes;
	} else if (IS("Match")) {
		/* Only "Match all" is understood; any other Match block is skipped. */
		*active = av.n == 2 && strcasecmp(av.v[1], "all") == 0;
	} else if (IS("Include")) {
		rc = do_include(P, file, line, &av, depth, active);
	} else if (IS("HostName")) {
		if (*active && c->hostname == NULL) {
			struct sbuf b;

			sb_init(&b);
			sb_add(&b, "");
			for (const char *p = av.v[1]; *p != '\0'; p++) {
				if (*p != '%')
					sb_addc(&b, *p);
				else if (p[1] == 'h')
					sb_add(&b, P->host), p++;
				else if (p[1] == '%')
					sb_addc(&b, '%'), p++;
				else {
					sb_free(&b);
					rc = perr(P, file, line, "HostName %s: only %%h and %%%% "
					    "may be used", av.v[1]);
					goto out;
				}
			}
			c->hostname = sb_steal(&b);
		}
	} else if (IS("Port")) {
		if (parse_int(av.v[1], 1, 65535, &n) == -1)
			rc = perr(P, file, line, "Port: '%s' is not a port number (1-65535)",
			    av.v[1]);
		else if (*active && c->port == 0)
			c->port = (int)n;
	} else if (IS("User")) {
		if (*active)
			set_once(&c->user, av.v[1]);
	} else if (IS("IdentityFile")) {
		if (*active) {
			if (c->identity_files.n >= 100)
				rc = perr(P, file, line, "IdentityFile: more than 100 files");
			else if (!strv_has(&c->identity_files, av.v[1]))	/* as ssh */
				strv_push(&c->identity_files, av.v[1]);
		}
	} else if (IS("IdentitiesOnly")) {
		rc = yesno(P, file, line, "IdentitiesOnly", av.v[1],
		    *active ? &c->identities_only : &(int){ -1 });
	} else if (IS("HashKnownHosts")) {
		rc = yesno(P, file, line, "HashKnownHosts", av.v[1],
		    *active ? &c->hash_known_hosts : &(int){ -1 });
	} else if (IS("UserKnownHostsFile") || IS("GlobalKnownHostsFile")) {
		struct strv *dst = IS("UserKnownHostsFile") ? &c->user_known_hosts :
		    &c->global_known_hosts;

		for (size_t i = 1; i < av.n; i++)
			if (strcasecmp(av.v[i], "none") == 0 && av.n > 2) {
				rc = perr(P, file, line, "%s: \"none\" must appear alone", kw);
				goto out;
			}
		if (av.n - 1 > 16)
			rc = perr(P, file, line, "%s: more than 16 files", kw);
		else if (*active && dst->n == 0)
			for (size_t i = 1; i < av.n; i++)
				strv_push(dst, av.v[i]);
	} else if (IS("ProxyJump")) {
		struct sshcfg_hop *hops = NULL;
		size_t nh = 0;
		char *cause = NULL;
		struct sbuf b;

		/* The value is the rest of the line (minus a comment), joined. */
		sb_init(&b);
		sb_add(&b, "");
		for (size_t i = 1; i < av.n; i++)
			sb_add(&b, av.v[i]);
		if (strcasecmp(b.s, "none") != 0 &&
		    sshcfg_parse_jump(b.s, &hops, &nh, &cause) == -1) {
			rc = perr(P, file, line, "ProxyJump: %s", cause);
			free(cause);
		} else if (*active && c->proxy_jump == NULL && c->proxy_command == NULL)
			c->proxy_jump = xstrdup(b.s);
		sshcfg_hops_free(hops, nh);
		sb_free(&b);
	} else if (IS("ProxyCommand")) {
		/* First of ProxyJump and ProxyCommand wins, as in ssh. */
		if (*active && c->proxy_jump == NULL && c->proxy_command == NULL) {
			struct sbuf b;

			sb_init(&b);
			sb_add(&b, "");
			for (size_t i = 1; i < av.n; i++)
				sb_addf(&b, "%s%s", i > 1 ? " " : "", av.v[i]);
			if (strcasecmp(b.s, "none") == 0)
				c->proxy_jump = xstrdup("none");
			else
				c->proxy_command = xstrdup(b.s);
			sb_free(&b);
		}
	} else if (IS("ConnectTimeout")) {
		if (strcasecmp(av.v[1], "none") == 0)
			n = 0;
		else if (parse_int(av.v[1], 0, 86400, &n) == -1) {
			rc = perr(P, file, line, "ConnectTimeout: '%s' is not a number of "
			    "seconds (0-86400) or none", av.v[1]);
			goto out;
		}
		if (*active && c->connect_timeout == -1)
			c->connect_timeout = (int)n;
	} else if (IS("ServerAliveInterval")) {
		if (parse_int(av.v[1], 0, 86400, &n) == -1)
			rc = perr(P, file, line, "ServerAliveInterval: '%s' is not a number of "
			    "seconds (0-86400)", av.v[1]);
		else if (*active && c->server_alive_interval == -1)
			c->server_alive_interval = (int)n;
	}
	/* Other keywords are OpenSSH's business: ignored. */
#undef IS
out:
	strv_free(&av);
	return rc;
}

static int
read_config(struct parse *P, const char *file, int depth, bool checkperm,
    bool must_exist, bool *active)
{
	struct stat st;
	char *buf, *l, *next;
	ssize_t got;
	size_t len = 0;
	int fd, lineno, rc = 0;

	if (depth > SSHCFG_MAX_DEPTH)
		return perr(P, file, 0, "Include nested more than %d deep", SSHCFG_MAX_DEPTH);
	if (++P->nfiles > SSHCFG_MAX_FILES)
		return perr(P, file, 0, "more than %d ssh_config files for one host",
		    SSHCFG_MAX_FILES);
	fd = open(file, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
	if (fd == -1) {
		if (errno == ENOENT && !must_exist)
			return 0;
		return perr(P, file, 0, "cannot open: %s", strerror(errno));
	}
	if (fstat(fd, &st) == -1 || !S_ISREG(st.st_mode)) {
		close(fd);
		return perr(P, file, 0, "not a regular file");
	}
	if (checkperm && ((st.st_uid != 0 && st.st_uid != getuid()) ||
	    (st.st_mode & 022) != 0)) {
		close(fd);
		return perr(P, file, 0, "bad owner or permissions (it must be owned by you or "
		    "root and writable by nobody else, as ssh requires)");
	}
	if (st.st_size > SSHCFG_MAX_BYTES) {
		close(fd);
		return perr(P, file, 0, "larger than %d bytes", SSHCFG_MAX_BYTES);
	}
	buf = xmalloc((size_t)st.st_size + 2);
	while (len <= (size_t)st.st_size &&
	    (got = read(fd, buf + len, (size_t)st.st_size + 1 - len)) > 0)
		len += (size_t)got;
	close(fd);
	if (len > (size_t)st.st_size) {
		free(buf);
		return perr(P, file, 0, "grew while being read");
	}
	buf[len] = '\0';
	strv_push(&P->c->files, file);
	for (l = buf, lineno = 1; l < buf + len && rc == 0; l = next, lineno++) {
		char *nl = memchr(l, '\n', (size_t)(buf + len - l));

		next = nl != NULL ? nl + 1 : buf + len;
		if (nl != NULL)
			*nl = '\0';
		if (strlen(l) != (size_t)((nl != NULL ? nl : buf + len) - l)) {
			rc = perr(P, file, lineno, "NUL byte in the line");
			break;
		}
		for (char *e = l + strlen(l); e > l && (e[-1] == '\r' || e[-1] == ' ' ||
		    e[-1] == '\t' || e[-1] == '\f'); )
			*--e = '\0';
		rc = process_line(P, file, lineno, l, depth, active);
	}
	free(buf);
	return rc;
}

int
sshcfg_resolve(const char *file, const char *host, struct sshcfg *c, char **cause)
{
	struct parse P;
	bool active = true;
	int rc;

	sshcfg_init(c);
	/* As ssh: Host patterns are matched against the name as given, case-sensitively
	 * (a host name without HostName is lowercased after). */
	c->host = xstrdup(host);
	memset(&P, 0, sizeof P);
	P.host = c->host;
	P.c = c;
	P.cause = cause;
	P.userconf = true;
	if (file != NULL)
		rc = read_config(&P, file, 0, false, true, &active);
	else {
		char *home = sshcfg_home(), *user = xasprintf("%s/.ssh/config", home);

		rc = read_config(&P, user, 0, true, false, &active);
		free(user);
		free(home);
		if (rc == 0) {
			P.userconf = false;
			active = true;
			rc = read_config(&P, SYSTEM_CONFIG, 0, false, false, &active);
		}
	}
	if (rc == -1)
		sshcfg_free(c);
	return rc;
}

static int
parse_hop(const char *s, struct sshcfg_hop *h, char **cause)
{
	const char *at, *hp, *colon = NULL;
	char *end;
	long port;

	if (str_starts(s, "ssh://"))
		s += 6;
	at = strrchr(s, '@');
	if (at != NULL) {
		if (at == s) {
			*cause = xasprintf("'%s': empty user name", s);
			return -1;
		}
		h->user = xstrndup(s, (size_t)(at - s));
		hp = at + 1;
	} else
		hp = s;
	if (*hp == '[') {
		const char *close = strchr(hp, ']');

		if (close == NULL || close == hp + 1 || (close[1] != '\0' && close[1] != ':')) {
			*cause = xasprintf("'%s': bad [address]", s);
			return -1;
		}
		h->host = xstrndup(hp + 1, (size_t)(close - hp - 1));
		if (close[1] == ':')
			colon = close + 1;
	} else {
		colon = strchr(hp, ':');
		if (colon != NULL && strchr(colon + 1, ':') != NULL)
			colon = NULL;	/* a bare IPv6 address */
		h->host = colon != NULL ? xstrndup(hp, (size_t)(colon - hp)) : xstrdup(hp);
	}
	if (*h->host == '\0') {
		*cause = xasprintf("'%s': empty host name", s);
		return -1;
	}
	for (const char *p = h->host; *p != '\0'; p++)
		if (!isalnum((unsigned char)*p) && strchr("-._:%", *p) == NULL) {
			*cause = xasprintf("'%s': '%s' is not a host name", s, h->host);
			return -1;
		}
	if (h->user != NULL)
		for (const char *p = h->user; *p != '\0'; p++)
			if (!isalnum((unsigned char)*p) && strchr("-._$", *p) == NULL) {
				*cause = xasprintf("'%s': '%s' is not a user name", s, h->user);
				return -1;
			}
	if (colon != NULL) {
		errno = 0;
		port = strtol(colon + 1, &end, 10);
		if (colon[1] == '\0' || *end != '\0' || errno != 0 || port < 1 ||
		    port > 65535) {
			*cause = xasprintf("'%s': bad port", s);
			return -1;
		}
		h->port = (int)port;
	}
	return 0;
}

int
sshcfg_parse_jump(const char *spec, struct sshcfg_hop **hops, size_t *n, char **cause)
{
	char *dup = xstrdup(spec), *save = NULL;
	size_t cap = 0;

	*hops = NULL;
	*n = 0;
	if (*spec == '\0' || spec[strlen(spec) - 1] == ',' || *spec == ',' ||
	    strstr(spec, ",,") != NULL) {
		*cause = xasprintf("'%s': empty hop", spec);
		free(dup);
		return -1;
	}
	for (char *t = strtok_r(dup, ",", &save); t != NULL; t = strtok_r(NULL, ",", &save)) {
		if (*n >= SSHCFG_MAX_HOPS) {
			*cause = xasprintf("'%s': more than %d hops", spec, SSHCFG_MAX_HOPS);
			goto err;
		}
		xgrow(hops, &cap, *n + 1, sizeof **hops);
		memset(&(*hops)[*n], 0, sizeof **hops);
		(*n)++;
		if (parse_hop(t, &(*hops)[*n - 1], cause) == -1)
			goto err;
	}
	free(dup);
	return 0;
err:
	free(dup);
	sshcfg_hops_free(*hops, *n);
	*hops = NULL;
	*n = 0;
	return -1;
}

void
sshcfg_hops_free(struct sshcfg_hop *hops, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		free(hops[i].user);
		free(hops[i].host);
	}
	free(hops);
}
