/* login.c: per-user access proven by logging in ([tests] credentials).
 *
 * For every user in the credentials file and every protocol, one probe logs in the way
 * a client does and compares the outcome with what the profile declares for that user:
 *   imap        LOGIN and AUTHENTICATE PLAIN over imaps, LOGIN after STARTTLS on imap
 *               (where the server offers STARTTLS)
 *   pop3        USER/PASS over pop3s
 *   smtp        AUTH PLAIN on submission (after STARTTLS) and on smtps
 *   activesync  OPTIONS /Microsoft-Server-ActiveSync with Basic, through the proxy
 *   ews         GET /EWS/Exchange.asmx with Basic, through the proxy
 *   owa         GET /owa/ with Basic, through the proxy
 * imap, pop3 and smtp are enforced by the gateway itself (Dovecot's deny passdb, which
 * Postfix's SASL goes through), so a mismatch is a failure of the gateway. ActiveSync,
 * EWS and OWA are enforced by Exchange alone (the proxy passes every login through), so
 * a mismatch there is reported as Exchange's (a warning), and a backend that does not
 * answer is reported as not tested.
 *
 * Passwords: read from the credentials file into memory only, wiped when the probe list
 * is freed. Every write that carries one goes through send_secret(), which refuses
 * unless the connection runs TLS whose certificate chain and name verified; libcurl is
 * held to the same (http_basic_request). The dialogue in the details shows a
 * placeholder, and any server text that would contain a password is masked. */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/x509v3.h>

#include "backends/probe/parse.h"
#include "backends/probe/probe-int.h"

#define CREDS_MAX_BYTES	(1024 * 1024)
#define PASS_MAX	512
#define HIDDEN		"<password not shown>"
/* Each login attempt gets the probe timeout, but at least this long: a refusal is
 * slow on purpose (Dovecot delays a failed login by 2 s, and its per-address penalty
 * grows to 15 s), and a refusal that timed out would prove nothing. */
#define LEG_MIN_SECONDS	20.0

/* What a login probe carries (struct probe data): its own copy of one credential,
 * wiped when the list is freed, the protocol, and the host's ports for it. */
struct login_probe {
	struct login_cred cred;
	int	 proto;			/* enum proto */
	int	 port[SVCP_COUNT];	/* 0: not served */
};

static struct login_probe *
ld(const struct probe *p)
{
	return (p->data);
}

/* ---- the credentials file ---- */

static void
cred_wipe(struct login_cred *c)
{
	if (c->password != NULL) {
		OPENSSL_cleanse(c->password, strlen(c->password));
		free(c->password);
	}
	free(c->address);
	c->password = c->address = NULL;
}

void
login_creds_free(struct login_creds *c)
{
	size_t i;

	if (c == NULL)
		return;
	for (i = 0; i < c->n; i++)
		cred_wipe(&c->v[i]);
	free(c->v);
	free(c->path);
	memset(c, 0, sizeof *c);
}

/* Read the whole file from an open descriptor into a buffer the caller wipes. */
static int
read_all(int fd, char **buf, size_t *len, char **err)
{
	size_t cap = 4096, n = 0;
	char *b = xmalloc(cap + 1);
	ssize_t k;

	for (;;) {
		if (n == cap) {
			char *nb;

			if (cap >= CREDS_MAX_BYTES) {
				OPENSSL_cleanse(b, n);
				free(b);
				*err = xasprintf("larger than %d bytes: not a credentials file",
				    CREDS_MAX_BYTES);
				return (-1);
			}
			/* grow without leaving a copy behind */
			nb = xmalloc(cap * 2 + 1);
			memcpy(nb, b, n);
			OPENSSL_cleanse(b, n);
			free(b);
			b = nb;
			cap *= 2;
		}
		k = read(fd, b + n, cap - n);
		if (k < 0 && errno == EINTR)
			continue;
		if (k < 0) {
			*err = xasprintf("read: %s", strerror(errno));
			OPENSSL_cleanse(b, n);
			free(b);
			return (-1);
		}
		if (k == 0)
			break;
		n += (size_t)k;
	}
	b[n] = '\0';
	*buf = b;
	*len = n;
	return (0);
}

int
login_creds_load(const char *path, const struct site *site, struct login_creds *out,
    char **cause)
{
	struct sbuf errs;
	struct stat st;
	char *buf = NULL, *err = NULL, *p, *end;
	size_t len = 0;
	int fd, lineno = 0;

	memset(out, 0, sizeof *out);
	sb_init(&errs);
	if ((fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK)) == -1) {
		*cause = xasprintf("%s: cannot open the [tests] credentials file: %s (fix "
		    "the path in [tests] credentials, or remove the key to skip the login "
		    "tests)", path, strerror(errno));
		return (-1);
	}
	/* The checks are on what was opened, not on the name (no race). */
	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
		*cause = xasprintf("%s: not a regular file: the [tests] credentials must be "
		    "a plain file of address:password lines", path);
		close(fd);
		return (-1);
	}
	if (st.st_uid != getuid()) {
		*cause = xasprintf("%s: owned by uid %u, not by you (uid %u): refused, "
		    "since someone else can change the passwords the tests send (chown "
		    "the file to yourself, or use your own copy)", path,
		    (unsigned)st.st_uid, (unsigned)getuid());
		close(fd);
		return (-1);
	}
	if ((st.st_mode & 077) != 0) {
		*cause = xasprintf("%s: mode %04o lets %s read the passwords: refused (chmod "
		    "600 %s)", path, (unsigned)(st.st_mode & 07777),
		    (st.st_mode & 070) != 0 && (st.st_mode & 07) != 0 ? "group and others" :
		    (st.st_mode & 070) != 0 ? "the group" : "others", path);
		close(fd);
		return (-1);
	}
	if (read_all(fd, &buf, &len, &err) != 0) {
		*cause = xasprintf("%s: %s", path, err);
		free(err);
		close(fd);
		return (-1);
	}
	close(fd);

	for (p = buf; p < buf + len; p = end + 1) {
		char *line = p, *colon, *addr, *pass;
		size_t ll;
		struct login_cred *c;
		bool bad = false;

		lineno++;
		if ((end = memchr(p, '\n', (size_t)(buf + len - p))) == NULL)
			end = buf + len;
		ll = (size_t)(end - line);
		if (ll > 0 && line[ll - 1] == '\r')
			ll--;
		if (ll == 0 || line[0] == '#')
			continue;
		/* Messages name the line, never quote it: it holds a password. */
		if (memchr(line, '\0', ll) != NULL) {
			sb_addf(&errs, "%s:%d: a NUL byte: lines are address:password text\n",
			    path, lineno);
			continue;
		}
		if ((colon = memchr(line, ':', ll)) == NULL) {
			sb_addf(&errs, "%s:%d: no ':' between the address and the password "
			    "(lines are address:password)\n", path, lineno);
			continue;
		}
		addr = xstrndup(line, (size_t)(colon - line));
		pass = xstrndup(colon + 1, ll - (size_t)(colon + 1 - line));
		if (*addr == '\0' || strchr(addr, '@') == NULL) {
			sb_addf(&errs, "%s:%d: the part before ':' is not an address "
			    "(lines are address:password)\n", path, lineno);
			bad = true;
		} else {
			for (const char *q = addr; *q != '\0'; q++)
				if ((unsigned char)*q <= 0x20 || *q == 0x7f || *q == '"' ||
				    *q == '\\') {
					sb_addf(&errs, "%s:%d: the address has a space, quote, "
					    "backslash or control character\n", path, lineno);
					bad = true;
					break;
				}
		}
		if (!bad && *pass == '\0') {
			sb_addf(&errs, "%s:%d: empty password for %s\n", path, lineno, addr);
			bad = true;
		} else if (!bad && strlen(pass) > PASS_MAX) {
			sb_addf(&errs, "%s:%d: the password of %s is longer than %d bytes\n",
			    path, lineno, addr, PASS_MAX);
			bad = true;
		}
		for (const char *q = pass; !bad && *q != '\0'; q++)
			if ((unsigned char)*q < 0x20 || *q == 0x7f) {
				sb_addf(&errs, "%s:%d: the password of %s has a control "
				    "character (no client could send it)\n", path, lineno, addr);
				bad = true;
			}
		if (!bad && site != NULL && site_find_user(site, addr) == NULL) {
			sb_addf(&errs, "%s:%d: %s is not a user of the profile (add it to "
			    "[users]/the users CSV, or remove the line)\n", path, lineno, addr);
			bad = true;
		}
		for (size_t i = 0; !bad && i < out->n; i++)
			if (str_ieq(out->v[i].address, addr)) {
				sb_addf(&errs, "%s:%d: %s is listed again (first on line %d)\n",
				    path, lineno, addr, out->v[i].line);
				bad = true;
			}
		if (bad) {
			OPENSSL_cleanse(pass, strlen(pass));
			free(pass);
			free(addr);
			continue;
		}
		out->v = xrealloc(out->v, (out->n + 1) * sizeof *out->v);
		c = &out->v[out->n++];
		c->address = addr;
		c->password = pass;
		c->line = lineno;
	}
	OPENSSL_cleanse(buf, len);
	free(buf);
	if (errs.len == 0 && out->n == 0)
		sb_addf(&errs, "%s: no address:password line: list the test users, or "
		    "remove [tests] credentials\n", path);
	if (errs.len > 0) {
		errs.s[--errs.len] = '\0';	/* the last newline */
		*cause = sb_steal(&errs);
		login_creds_free(out);
		return (-1);
	}
	sb_free(&errs);
	out->path = xstrdup(path);
	return (0);
}

/* ---- one login ---- */

enum outcome {
	OUT_ALLOWED,	/* the server let the user in */
	OUT_REFUSED,	/* the server said no to the credentials */
	OUT_SKIPPED,	/* not tried: the channel could not be secured where that is
			 * allowed (a port without STARTTLS), or the backend is down */
	OUT_ERROR,	/* could not find out */
};

struct leg {
	struct probe *p;
	struct presult *r;
	const char *what;	/* "imaps 127.0.0.1:993 LOGIN" */
	struct conn c;
	struct sbuf log;
	char	*b64;		/* the AUTH PLAIN blob (masked in server text too) */
	struct strv names;	/* the certificate must carry one of them */
};

static const char *
user_of(const struct leg *l)
{
	return (ld(l->p)->cred.address);
}

static const char *
pass_of(const struct leg *l)
{
	return (ld(l->p)->cred.password);
}

/* text with anything that would be a credential masked (caller frees with
 * free_masked). */
static char *
masked(const struct leg *l, const char *text)
{
	struct sbuf t;
	const char *secrets[2] = { pass_of(l), l->b64 };
	char *hit;

	sb_init(&t);
	sb_add(&t, text != NULL ? text : "");
	for (size_t i = 0; i < 2; i++) {
		size_t sl;

		if (secrets[i] == NULL || (sl = strlen(secrets[i])) == 0)
			continue;
		while ((hit = strstr(t.s, secrets[i])) != NULL) {
			struct sbuf o;

			sb_init(&o);
			sb_addn(&o, t.s, (size_t)(hit - t.s));
			sb_add(&o, "<masked>");
			sb_add(&o, hit + sl);
			OPENSSL_cleanse(t.s, t.len);
			sb_free(&t);
			t = o;
		}
	}
	return (sb_steal(&t));
}

static void
free_masked(char *s)
{
	OPENSSL_cleanse(s, strlen(s));
	free(s);
}

/* Server text into the log, masked. */
static void
log_server(struct leg *l, const char *prefix, const char *text)
{
	char *m = masked(l, text);

	sb_addf(&l->log, "     %s %.300s\n", prefix, m);
	free_masked(m);
}

/* A command without a credential. */
static int
say(struct leg *l, char **cause, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static int
say(struct leg *l, char **cause, const char *fmt, ...)
{
	va_list ap;
	char *s;
	int rc;

	va_start(ap, fmt);
	s = xvasprintf(fmt, ap);
	va_end(ap);
	sb_addf(&l->log, "     C: %s\n", s);
	rc = conn_printf(&l->c, cause, "%s\r\n", s);
	free(s);
	return (rc);
}

/* The one way a credential leaves: only inside TLS whose chain and name verified (the
 * handshake itself refuses otherwise: SSL_VERIFY_PEER in tls_start). shown is what the
 * log says instead. */
static int
send_secret(struct leg *l, const char *line, size_t n, const char *shown, char **cause)
{
	if (l->c.ssl == NULL || !SSL_is_init_finished(l->c.ssl) ||
	    SSL_get_verify_result(l->c.ssl) != X509_V_OK) {
		*cause = xstrdup("refused to send credentials over a connection without "
		    "verified TLS");
		return (-1);
	}
	sb_addf(&l->log, "     C: %s\n", shown);
	return (conn_write(&l->c, line, n, cause));
}

static int
leg_connect(struct leg *l, int port, char **cause)
{
	struct addrs a;

	conn_init(&l->c, l->r->deadline);
	if (net_host_addrs(l->p->ctx, l->p->host, l->r->deadline, &a, cause) != 0 ||
	    conn_connect(&l->c, &a, port, cause) != 0) {
		pr_reach(l->r, false);
		return (-1);
	}
	pr_reach(l->r, true);
	return (0);
}

/* TLS on the connection, the peer verified against the trust store and one of
 * l->names; without a name to check, no TLS worth a password. */
static int
tls_start(struct leg *l, char **cause)
{
	SSL *ssl;
	char *e;

	if (l->names.n == 0) {
		*cause = xasprintf("no name to check the certificate of %s against (give "
		    "the host a name as its address, or list the service in an "
		    "[autodiscover] section): no password sent", l->p->host->name);
		return (-1);
	}
	if ((ssl = SSL_new(l->p->ctx->ssl)) == NULL)
		fatal("SSL_new failed");
	SSL_set_verify(ssl, SSL_VERIFY_PEER, NULL);
	SSL_set_hostflags(ssl, X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS);
	for (size_t i = 0; i < l->names.n; i++) {
		if ((i == 0 ? SSL_set1_host(ssl, l->names.v[0]) :
		    SSL_add1_host(ssl, l->names.v[i])) != 1) {
			*cause = xasprintf("\"%s\" is not a name a certificate can be "
			    "checked against: no password sent", l->names.v[i]);
			SSL_free(ssl);
			return (-1);
		}
	}
	SSL_set_tlsext_host_name(ssl, l->names.v[0]);
	if (conn_tls(&l->c, ssl, &e) != 0) {
		long v = SSL_get_verify_result(ssl);

		if (v != X509_V_OK) {
			struct sbuf nb;

			sb_init(&nb);
			for (size_t i = 0; i < l->names.n; i++)
				sb_addf(&nb, "%s%s", i > 0 ? ", " : "", l->names.v[i]);
			*cause = xasprintf("the certificate does not verify (%s; names "
			    "checked: %s): no password sent", X509_verify_cert_error_string(v),
			    nb.s);
			sb_free(&nb);
		} else
			*cause = xasprintf("%s: no password sent", e);
		free(e);
		return (-1);
	}
	l->r->handshakes++;
	return (0);
}

/* Does an EHLO reply (its lines joined by '\n', the greeting first) offer keyword kw? */
static bool
ehlo_offers(const char *text, const char *kw)
{
	size_t kl = strlen(kw);

	for (const char *p = text != NULL ? strchr(text, '\n') : NULL; p != NULL;
	    p = strchr(p, '\n')) {
		p++;
		if (strncasecmp(p, kw, kl) == 0 &&
		    (p[kl] == '\0' || p[kl] == '\n' || p[kl] == ' ' || p[kl] == '='))
			return (true);
	}
	return (false);
}

/* The base64 of "\0user\0pass" (RFC 4616), into l->b64. */
static void
plain_blob(struct leg *l)
{
	const char *u = user_of(l), *pw = pass_of(l);
	size_t ul = strlen(u), pl = strlen(pw), n = ul + pl + 2;
	unsigned char raw[PASS_MAX + 1024];
	size_t olen = 4 * ((n + 2) / 3) + 1;

	if (n > sizeof raw)
		fatal("credential too long");
	raw[0] = '\0';
	memcpy(raw + 1, u, ul);
	raw[1 + ul] = '\0';
	memcpy(raw + 2 + ul, pw, pl);
	l->b64 = xmalloc(olen);
	EVP_EncodeBlock((unsigned char *)l->b64, raw, (int)n);
	OPENSSL_cleanse(raw, n);
}

/* Send line + CRLF as a secret; buffers wiped. */
static int
send_secret_line(struct leg *l, const char *line, const char *shown, char **cause)
{
	char buf[PASS_MAX * 2 + 2048];
	size_t n = strlen(line);
	int rc;

	if (n + 2 >= sizeof buf)
		fatal("credential line too long");
	memcpy(buf, line, n);
	buf[n++] = '\r';
	buf[n++] = '\n';
	rc = send_secret(l, buf, n, shown, cause);
	OPENSSL_cleanse(buf, n);
	return (rc);
}

/* ---- IMAP ---- */

/* Read until the tagged reply of tag: 1 OK, 0 NO, -1 + cause otherwise. */
static int
imap_tagged(struct leg *l, const char *tag, struct sbuf *caps, char **cause)
{
	struct imap_line il;
	char *line = NULL, *e = NULL;
	int rc;

	for (;;) {
		if (conn_read_line(&l->c, &line, cause) != 0)
			return (-1);
		log_server(l, "S:", line);
		if (imap_line_parse(line, &il, &e) != 0) {
			*cause = e;
			free(line);
			return (-1);
		}
		if (caps != NULL && (strcmp(il.tag, "*") == 0 || strcmp(il.tag, tag) == 0))
			sb_addf(caps, "%s\n", line);
		free(line);
		if (strcmp(il.tag, tag) == 0) {
			rc = strcmp(il.status, "OK") == 0 ? 1 : strcmp(il.status, "NO") == 0 ?
			    0 : -1;
			if (rc == -1)
				*cause = xasprintf("%s answered %s", tag, il.status);
			imap_line_free(&il);
			return (rc);
		}
		if (strcmp(il.tag, "*") == 0 && strcmp(il.status, "BYE") == 0) {
			*cause = xasprintf("the server said BYE %s", il.text);
			imap_line_free(&il);
			return (-1);
		}
		if (strcmp(il.tag, "+") == 0) {
			imap_line_free(&il);
			return (2);	/* continuation */
		}
		imap_line_free(&il);
	}
}

static int
imap_greeting(struct leg *l, struct sbuf *caps, char **cause)
{
	struct imap_line il;
	char *line = NULL, *e = NULL;

	if (conn_read_line(&l->c, &line, cause) != 0)
		return (-1);
	log_server(l, "S:", line);
	if (imap_line_parse(line, &il, &e) != 0 || strcmp(il.tag, "*") != 0 ||
	    strcmp(il.status, "OK") != 0) {
		*cause = e != NULL ? e : xstrdup("the greeting is not \"* OK\"");
		if (e == NULL)
			imap_line_free(&il);
		free(line);
		return (-1);
	}
	if (caps != NULL)
		sb_addf(caps, "%s\n", line);
	imap_line_free(&il);
	free(line);
	return (0);
}

/* A quoted IMAP string of s (RFC 9051: \ and " escaped). */
static void
imap_quote(char *out, size_t len, const char *s)
{
	size_t o = 0;

	out[o++] = '"';
	for (; *s != '\0' && o + 3 < len; s++) {
		if (*s == '"' || *s == '\\')
			out[o++] = '\\';
		out[o++] = *s;
	}
	out[o++] = '"';
	out[o] = '\0';
}

/* On a connection in TLS and past the greeting: LOGIN or AUTHENTICATE PLAIN. */
static enum outcome
imap_login(struct leg *l, bool plain, char **cause)
{
	char qu[600], qp[PASS_MAX * 2 + 4], line[sizeof qu + sizeof qp + 32];
	char *shown;
	int rc;

	if (!plain) {
		imap_quote(qu, sizeof qu, user_of(l));
		imap_quote(qp, sizeof qp, pass_of(l));
		snprintf(line, sizeof line, "a1 LOGIN %s %s", qu, qp);
		shown = xasprintf("a1 LOGIN %s %s", qu, HIDDEN);
		rc = send_secret_line(l, line, shown, cause);
		OPENSSL_cleanse(qp, sizeof qp);
		OPENSSL_cleanse(line, sizeof line);
		free(shown);
		if (rc != 0)
			return (OUT_ERROR);
	} else {
		if (say(l, cause, "a1 AUTHENTICATE PLAIN") != 0)
			return (OUT_ERROR);
		if ((rc = imap_tagged(l, "a1", NULL, cause)) != 2) {
			if (rc >= 0)
				*cause = xstrdup("AUTHENTICATE PLAIN was not taken (no \"+\")");
			return (OUT_ERROR);
		}
		plain_blob(l);
		if (send_secret_line(l, l->b64, HIDDEN, cause) != 0)
			return (OUT_ERROR);
	}
	rc = imap_tagged(l, "a1", NULL, cause);
	if (rc == 1) {
		char *e = NULL;

		if (say(l, &e, "a2 LOGOUT") != 0)
			free(e);
		return (OUT_ALLOWED);
	}
	return (rc == 0 ? OUT_REFUSED : OUT_ERROR);
}

static enum outcome
leg_imaps(struct leg *l, int port, bool plain, char **cause)
{
	if (leg_connect(l, port, cause) != 0 || tls_start(l, cause) != 0 ||
	    imap_greeting(l, NULL, cause) != 0)
		return (OUT_ERROR);
	return (imap_login(l, plain, cause));
}

static enum outcome
leg_imap_starttls(struct leg *l, int port, char **cause)
{
	struct sbuf caps;
	int rc;

	sb_init(&caps);
	if (leg_connect(l, port, cause) != 0 || imap_greeting(l, &caps, cause) != 0)
		goto err;
	if (!imap_has_capability(caps.s, "STARTTLS")) {
		if (say(l, cause, "a0 CAPABILITY") != 0 ||
		    imap_tagged(l, "a0", &caps, cause) != 1)
			goto err;
	}
	if (!imap_has_capability(caps.s, "STARTTLS")) {
		/* A capability line we cannot read in full is no STARTTLS either. */
		*cause = xstrdup("no STARTTLS offered: no password sent");
		sb_free(&caps);
		return (OUT_SKIPPED);
	}
	sb_free(&caps);
	if (say(l, cause, "a0 STARTTLS") != 0)
		return (OUT_ERROR);
	if ((rc = imap_tagged(l, "a0", NULL, cause)) != 1) {
		if (rc >= 0 && *cause == NULL)
			*cause = xstrdup("STARTTLS refused: no password sent");
		return (OUT_ERROR);
	}
	if (tls_start(l, cause) != 0)
		return (OUT_ERROR);
	return (imap_login(l, false, cause));
err:
	sb_free(&caps);
	return (OUT_ERROR);
}

/* ---- POP3 ---- */

static int
pop3_reply(struct leg *l, char **cause)
{
	char *line = NULL, *e = NULL;
	int st;

	if (conn_read_line(&l->c, &line, cause) != 0)
		return (-1);
	log_server(l, "S:", line);
	st = pop3_status(line, &e);
	free(line);
	if (st < 0)
		*cause = e;
	return (st);
}

static enum outcome
leg_pop3s(struct leg *l, int port, char **cause)
{
	char line[PASS_MAX + 16];
	int st, rc;

	if (leg_connect(l, port, cause) != 0 || tls_start(l, cause) != 0)
		return (OUT_ERROR);
	if ((st = pop3_reply(l, cause)) != 1) {
		if (st == 0)
			*cause = xstrdup("the greeting is -ERR");
		return (OUT_ERROR);
	}
	if (say(l, cause, "USER %s", user_of(l)) != 0 || (st = pop3_reply(l, cause)) < 0)
		return (OUT_ERROR);
	if (st == 0)
		return (OUT_REFUSED);
	snprintf(line, sizeof line, "PASS %s", pass_of(l));
	rc = send_secret_line(l, line, "PASS " HIDDEN, cause);
	OPENSSL_cleanse(line, sizeof line);
	if (rc != 0 || (st = pop3_reply(l, cause)) < 0)
		return (OUT_ERROR);
	if (st == 1) {
		char *e = NULL;

		if (say(l, &e, "QUIT") != 0)
			free(e);
		return (OUT_ALLOWED);
	}
	return (OUT_REFUSED);
}

/* ---- SMTP ---- */

static int
smtp_cmd(struct leg *l, int *code, struct sbuf *text, char **cause)
{
	if (smtp_read_reply(&l->c, code, text, cause) != 0)
		return (-1);
	{
		char *t = xasprintf("%d %s", *code, text->s != NULL ? text->s : "");
		char *nl;

		if ((nl = strchr(t, '\n')) != NULL)
			*nl = '\0';	/* the first line is enough */
		log_server(l, "S:", t);
		free(t);
	}
	return (0);
}

static enum outcome
leg_smtp(struct leg *l, int port, bool implicit, char **cause)
{
	struct sbuf text;
	int code;
	enum outcome o = OUT_ERROR;

	sb_init(&text);
	if (leg_connect(l, port, cause) != 0)
		goto out;
	if (implicit && tls_start(l, cause) != 0)
		goto out;
	if (smtp_cmd(l, &code, &text, cause) != 0)
		goto out;
	if (code != 220) {
		*cause = xasprintf("the greeting is %d", code);
		goto out;
	}
	if (say(l, cause, "EHLO probe.mxdeck.invalid") != 0 ||
	    smtp_cmd(l, &code, &text, cause) != 0)
		goto out;
	if (code != 250) {
		*cause = xasprintf("EHLO answered %d", code);
		goto out;
	}
	if (!implicit) {
		if (!ehlo_offers(text.s, "STARTTLS")) {
			*cause = xstrdup("no STARTTLS offered: no password sent");
			o = OUT_SKIPPED;
			goto out;
		}
		if (say(l, cause, "STARTTLS") != 0 || smtp_cmd(l, &code, &text, cause) != 0)
			goto out;
		if (code != 220) {
			*cause = xasprintf("STARTTLS answered %d: no password sent", code);
			goto out;
		}
		if (tls_start(l, cause) != 0)
			goto out;
		if (say(l, cause, "EHLO probe.mxdeck.invalid") != 0 ||
		    smtp_cmd(l, &code, &text, cause) != 0)
			goto out;
		if (code != 250) {
			*cause = xasprintf("EHLO after STARTTLS answered %d", code);
			goto out;
		}
	}
	{
		/* "AUTH PLAIN LOGIN" among the EHLO lines (after the first) */
		const char *t = text.s, *a = NULL;
		bool plain = false;

		for (const char *q = t; q != NULL && *q != '\0'; q = strchr(q, '\n'),
		    q = q != NULL ? q + 1 : NULL)
			if (q != t && strncasecmp(q, "AUTH", 4) == 0 &&
			    (q[4] == ' ' || q[4] == '='))
				a = q + 5;
		for (const char *q = a; q != NULL && *q != '\0' && *q != '\n'; q++)
			if (strncasecmp(q, "PLAIN", 5) == 0 && (q == a || q[-1] == ' ') &&
			    (q[5] == '\0' || q[5] == ' ' || q[5] == '\n'))
				plain = true;
		if (a == NULL || !plain) {
			*cause = xstrdup(a == NULL ? "no AUTH offered" :
			    "AUTH offered without PLAIN");
			goto out;
		}
	}
	if (say(l, cause, "AUTH PLAIN") != 0 || smtp_cmd(l, &code, &text, cause) != 0)
		goto out;
	if (code != 334) {
		*cause = xasprintf("AUTH PLAIN answered %d", code);
		goto out;
	}
	plain_blob(l);
	if (send_secret_line(l, l->b64, HIDDEN, cause) != 0 ||
	    smtp_cmd(l, &code, &text, cause) != 0)
		goto out;
	if (code == 235) {
		char *e = NULL;

		if (say(l, &e, "QUIT") != 0)
			free(e);
		o = OUT_ALLOWED;
	} else if (code == 535 || code == 534 || code == 454)
		o = code == 454 ? OUT_ERROR : OUT_REFUSED;
	else
		*cause = xasprintf("the credentials were answered %d", code);
	if (o == OUT_ERROR && *cause == NULL)
		*cause = xasprintf("the credentials were answered %d (temporary failure)",
		    code);
out:
	sb_free(&text);
	return (o);
}

/* ---- verdicts ---- */

static const char *const proto_words[PROTO_COUNT] = {
	[PROTO_IMAP] = "IMAP", [PROTO_POP3] = "POP3", [PROTO_SMTP] = "SMTP AUTH",
	[PROTO_ACTIVESYNC] = "ActiveSync", [PROTO_MAPI] = "MAPI", [PROTO_OWA] = "OWA",
	[PROTO_EWS] = "EWS",
};

static bool
exchange_only(int proto)
{
	return (proto == PROTO_ACTIVESYNC || proto == PROTO_MAPI || proto == PROTO_OWA ||
	    proto == PROTO_EWS);
}

struct tally {
	int	 allowed_ok, refused_ok, bad, skipped, errors;
};

/* Judge one attempt against the declaration, note it, and add the transcript. */
static void
judge(struct leg *l, struct tally *t, enum outcome o, const char *raw_cause)
{
	char *cause = raw_cause != NULL ? masked(l, raw_cause) : NULL;

	const struct user *u = site_find_user(l->p->ctx->site, user_of(l));
	bool on = u != NULL && (u->protos & PROTO_BIT(ld(l->p)->proto)) != 0;
	const char *pw = proto_words[ld(l->p)->proto];
	bool exch = exchange_only(ld(l->p)->proto);

	switch (o) {
	case OUT_ALLOWED:
		if (on) {
			t->allowed_ok++;
			pr_note(l->r, PROBE_OK, "%s: allowed as declared", l->what);
		} else {
			t->bad++;
			pr_note(l->r, exch ? PROBE_WARN : PROBE_FAIL, "%s: declared off but %s "
			    "let %s in over %s%s", l->what, exch ? "Exchange" : "the gateway",
			    user_of(l), pw, exch ? " (only Exchange enforces this: apply the "
			    "rendered Set-CASMailbox script)" : "");
		}
		break;
	case OUT_REFUSED:
		if (!on) {
			t->refused_ok++;
			pr_note(l->r, PROBE_OK, "%s: refused as declared", l->what);
		} else {
			t->bad++;
			pr_note(l->r, exch ? PROBE_WARN : PROBE_FAIL, "%s: declared on but %s "
			    "refused %s over %s (check the password on line %d of the "
			    "credentials file too)%s", l->what, exch ? "Exchange" : "the gateway",
			    user_of(l), pw, ld(l->p)->cred.line, exch ? "; only Exchange enforces "
			    "this" : "");
		}
		break;
	case OUT_SKIPPED:
		t->skipped++;
		pr_note(l->r, PROBE_OK, "%s: not tested: %s", l->what, cause);
		break;
	case OUT_ERROR:
		t->errors++;
		pr_note(l->r, exch ? PROBE_WARN : PROBE_FAIL, "%s: could not test: %s",
		    l->what, cause != NULL ? cause : "unknown error");
		break;
	}
	if (l->log.len > 0) {
		sb_add(&l->r->details, l->log.s);
		sb_reset(&l->log);
	}
	if (cause != NULL)
		free_masked(cause);
}

/* A fresh deadline for the next attempt, never past the run's. */
static void
leg_deadline(struct leg *l)
{
	const struct probe_ctx *ctx = l->p->ctx;
	double t = ctx->timeout > LEG_MIN_SECONDS ? ctx->timeout : LEG_MIN_SECONDS;
	double dl = mono_now() + t;

	l->r->deadline = dl < ctx->run_deadline ? dl : ctx->run_deadline;
}

static void
leg_init(struct leg *l, struct probe *p, struct presult *r)
{
	memset(l, 0, sizeof *l);
	l->p = p;
	l->r = r;
	sb_init(&l->log);
	conn_init(&l->c, r->deadline);
}

static void
leg_done(struct leg *l)
{
	conn_close(&l->c);
	if (l->b64 != NULL) {
		OPENSSL_cleanse(l->b64, strlen(l->b64));
		free(l->b64);
		l->b64 = NULL;
	}
	conn_init(&l->c, l->r->deadline);
}

static void
leg_free(struct leg *l)
{
	leg_done(l);
	sb_free(&l->log);
	strv_free(&l->names);
}

/* Run one mail attempt (fn) and judge it. */
enum mail_leg { ML_IMAPS_LOGIN, ML_IMAPS_PLAIN, ML_IMAP_STARTTLS, ML_POP3S, ML_SUB,
	ML_SMTPS };

static void
mail_leg(struct leg *l, struct tally *t, enum mail_leg which, int svc, int port)
{
	char *cause = NULL, *what;
	enum outcome o;
	static const char *const how[] = {
		[ML_IMAPS_LOGIN] = "LOGIN", [ML_IMAPS_PLAIN] = "AUTHENTICATE PLAIN",
		[ML_IMAP_STARTTLS] = "STARTTLS + LOGIN", [ML_POP3S] = "USER/PASS",
		[ML_SUB] = "STARTTLS + AUTH PLAIN", [ML_SMTPS] = "AUTH PLAIN",
	};

	leg_deadline(l);
	strv_free(&l->names);
	/* the probe's target is where the host is reached (b->addr) */
	svc_names(l->p->ctx->site, l->p->host, l->p->target, svc, &l->names);
	what = xasprintf("%s %s:%d %s", host_services[svc].name, l->p->target, port,
	    how[which]);
	l->what = what;
	switch (which) {
	case ML_IMAPS_LOGIN:
	case ML_IMAPS_PLAIN:
		o = leg_imaps(l, port, which == ML_IMAPS_PLAIN, &cause);
		break;
	case ML_IMAP_STARTTLS:
		o = leg_imap_starttls(l, port, &cause);
		break;
	case ML_POP3S:
		o = leg_pop3s(l, port, &cause);
		break;
	default:
		o = leg_smtp(l, port, which == ML_SMTPS, &cause);
		break;
	}
	judge(l, t, o, cause);
	free(cause);
	leg_done(l);
	l->what = NULL;
	free(what);
}

static void
http_leg(struct leg *l, struct tally *t)
{
	const struct vhost *vh = l->p->vh;
	const char *method, *path;
	char *cause = NULL, *what;
	long status = 0;
	enum outcome o;

	switch (ld(l->p)->proto) {
	case PROTO_ACTIVESYNC:
		method = "OPTIONS";
		path = "/Microsoft-Server-ActiveSync";
		break;
	case PROTO_EWS:
		method = "GET";
		path = "/EWS/Exchange.asmx";
		break;
	default:
		method = "GET";
		path = "/owa/";
		break;
	}
	leg_deadline(l);
	what = xasprintf("https://%s%s %s with Basic", vh->name, path, method);
	l->what = what;
	sb_addf(&l->log, "     C: %s %s (Authorization: Basic %s)\n", method, path, HIDDEN);
	if (http_basic_request(l->p, l->r, vh->name, method, path, user_of(l), pass_of(l),
	    &status, &cause) != 0)
		o = OUT_ERROR;
	else {
		sb_addf(&l->log, "     S: HTTP %ld\n", status);
		if (status >= 200 && status < 300)
			o = OUT_ALLOWED;
		else if (status == 401 || status == 403)
			o = OUT_REFUSED;
		else if (status == 502 || status == 503 || status == 504) {
			o = OUT_SKIPPED;
			cause = xasprintf("the backend %s does not answer (HTTP %ld from the "
			    "proxy): only Exchange can show this", vh->backend != NULL ?
			    vh->backend : "", status);
		} else if (ld(l->p)->proto == PROTO_OWA && status >= 300 && status < 400) {
			o = OUT_SKIPPED;
			cause = xasprintf("HTTP %ld: OWA signs in with a form here, which Basic "
			    "cannot prove", status);
		} else {
			o = OUT_ERROR;
			cause = xasprintf("HTTP %ld", status);
		}
	}
	judge(l, t, o, cause);
	free(cause);
	l->what = NULL;
	free(what);
}

void
probe_login_run(struct probe *p, struct presult *r)
{
	const struct user *u = site_find_user(p->ctx->site, ld(p)->cred.address);
	bool on = u != NULL && (u->protos & PROTO_BIT(ld(p)->proto)) != 0;
	struct tally t = { 0 };
	struct leg l;
	int port;

	leg_init(&l, p, r);
	switch (ld(p)->proto) {
	case PROTO_IMAP:
		if ((port = ld(p)->port[SVCP_IMAPS]) > 0) {
			mail_leg(&l, &t, ML_IMAPS_LOGIN, SVCP_IMAPS, port);
			mail_leg(&l, &t, ML_IMAPS_PLAIN, SVCP_IMAPS, port);
		}
		if ((port = ld(p)->port[SVCP_IMAP]) > 0)
			mail_leg(&l, &t, ML_IMAP_STARTTLS, SVCP_IMAP, port);
		break;
	case PROTO_POP3:
		if ((port = ld(p)->port[SVCP_POP3S]) > 0)
			mail_leg(&l, &t, ML_POP3S, SVCP_POP3S, port);
		break;
	case PROTO_SMTP:
		if ((port = ld(p)->port[SVCP_SUBMISSION]) > 0)
			mail_leg(&l, &t, ML_SUB, SVCP_SUBMISSION, port);
		if ((port = ld(p)->port[SVCP_SMTPS]) > 0)
			mail_leg(&l, &t, ML_SMTPS, SVCP_SMTPS, port);
		break;
	default:
		http_leg(&l, &t);
		break;
	}
	leg_free(&l);
	if (t.bad > 0)
		pr_summary(r, "%s %s: declared %s but %s %s %s%s (%d of %d attempts)%s",
		    ld(p)->cred.address, proto_words[ld(p)->proto], on ? "on" : "off",
		    exchange_only(ld(p)->proto) ? "Exchange" : "the gateway",
		    on ? "refused" : "let", ld(p)->cred.address, on ? "" : " in", t.bad,
		    t.bad + t.allowed_ok + t.refused_ok,
		    exchange_only(ld(p)->proto) ? "; only Exchange enforces this" : "");
	else if (t.errors > 0)
		pr_summary(r, "%s %s: could not test %d of %d attempts", ld(p)->cred.address,
		    proto_words[ld(p)->proto], t.errors, t.errors + t.allowed_ok + t.refused_ok +
		    t.skipped);
	else if (t.allowed_ok + t.refused_ok == 0)
		pr_summary(r, "%s %s: not tested (%s)", ld(p)->cred.address,
		    proto_words[ld(p)->proto], t.skipped > 0 ? "see the details" :
		    "no port of this service is open");
	else
		pr_summary(r, "%s %s: %s as declared (%d attempt%s%s)", ld(p)->cred.address,
		    proto_words[ld(p)->proto], on ? "allowed" : "refused",
		    t.allowed_ok + t.refused_ok, t.allowed_ok + t.refused_ok == 1 ? "" : "s",
		    exchange_only(ld(p)->proto) ? "; enforced by Exchange" : "");
}

/* ---- the probe list ---- */

static void
login_probe_free(void *v)
{
	struct login_probe *lp = v;

	cred_wipe(&lp->cred);
	free(lp);
}

static void
add_login(struct probe_build *b, const struct login_cred *c, int proto, char *target,
    const struct vhost *vh)
{
	struct login_probe *lp = xcalloc(1, sizeof *lp);
	struct probe *p;

	lp->cred.address = xstrdup(c->address);
	lp->cred.password = xstrdup(c->password);
	lp->cred.line = c->line;
	lp->proto = proto;
	for (int svc = 0; svc < SVCP_COUNT && b->host != NULL; svc++)
		lp->port[svc] = probe_build_port(b, svc);
	p = probe_add(b, xasprintf("%s %s", c->address, proto_names[proto]), target);
	p->data = lp;
	p->data_free = login_probe_free;
	p->vh = vh;
	if (vh != NULL)
		p->domain = xstrdup(vh->name);
}

/* The host pass adds imap and pop3 on a Dovecot host and smtp on a Postfix host (when
 * it serves one of the protocol's ports); the site pass adds activesync, ews and owa
 * per vhost that proxies them. Each pass reads the file again, and each probe keeps a
 * copy of its one credential only; a refused file stops the build (b->cause). */
void
login_build(struct probe_build *b)
{
	const struct site *site = b->site;
	struct login_creds creds;
	static const struct {
		int	 proto;
		unsigned role;
		int	 svcs[3];
	} mail[] = {
		{ PROTO_IMAP, ROLE_DOVECOT, { SVCP_IMAPS, SVCP_IMAP, -1 } },
		{ PROTO_POP3, ROLE_DOVECOT, { SVCP_POP3S, -1, -1 } },
		{ PROTO_SMTP, ROLE_POSTFIX, { SVCP_SUBMISSION, SVCP_SMTPS, -1 } },
	};
	static const struct {
		int	 proto;
		int	 svc;
	} web[] = {
		{ PROTO_ACTIVESYNC, SVC_ACTIVESYNC }, { PROTO_EWS, SVC_EWS },
		{ PROTO_OWA, SVC_OWA },
	};

	if (site->tests_credentials == NULL)
		return;
	if (login_creds_load(site->tests_credentials, site, &creds, &b->cause) != 0)
		return;
	for (size_t i = 0; i < creds.n; i++) {
		const struct login_cred *c = &creds.v[i];

		for (size_t k = 0; b->host != NULL && k < nitems(mail); k++) {
			bool served = false;

			if ((b->roles & mail[k].role) == 0)
				continue;
			for (size_t s = 0; s < 3 && mail[k].svcs[s] >= 0; s++)
				if (probe_build_port(b, mail[k].svcs[s]) > 0)
					served = true;
			if (served)
				add_login(b, c, mail[k].proto, xstrdup(b->addr), NULL);
		}
		for (size_t k = 0; b->host == NULL && k < nitems(web); k++) {
			for (size_t v = 0; v < site->nvhosts; v++) {
				const struct vhost *vh = &site->vhosts[v];

				if ((vh->services & SVC_BIT(web[k].svc)) != 0)
					add_login(b, c, web[k].proto,
					    xasprintf("https://%s", vh->name), vh);
			}
		}
	}
	login_creds_free(&creds);
}
