/* parse.c: parsers for server replies (SMTP, IMAP, POP3, Autodiscover XML). */
#include <ctype.h>
#include <expat.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "backends/probe/parse.h"
#include "backends/render/render.h"

ssize_t
line_take(const char *buf, size_t len, char **line)
{
	const char *nl;
	size_t n;

	*line = NULL;
	nl = memchr(buf, '\n', len > PARSE_MAX_LINE ? PARSE_MAX_LINE : len);
	if (nl == NULL)
		return len >= PARSE_MAX_LINE ? -1 : 0;
	n = (size_t)(nl - buf);
	if (memchr(buf, '\0', n) != NULL)
		return -1;
	*line = xstrndup(buf, (n > 0 && buf[n - 1] == '\r') ? n - 1 : n);
	return (ssize_t)n + 1;
}

void
smtp_reply_free(struct smtp_reply *r)
{
	strv_free(&r->lines);
	r->code = 0;
}

ssize_t
smtp_reply_parse(const char *buf, size_t len, struct smtp_reply *r, char **cause)
{
	size_t off = 0;
	ssize_t n;
	char *line;
	int code;

	memset(r, 0, sizeof *r);
	for (;;) {
		if ((n = line_take(buf + off, len - off, &line)) < 0) {
			*cause = xstrdup("not an SMTP reply (binary data or a line over "
			    "4096 bytes)");
			smtp_reply_free(r);
			return -1;
		}
		if (n == 0) {
			/* Incomplete: but garbage already visible is garbage now. */
			if (len - off >= 1 && !isdigit((unsigned char)buf[off])) {
				/* buf need not be NUL-terminated: bound by its length */
				*cause = xasprintf("not an SMTP reply: \"%.*s\"",
				    (int)(len - off < 40 ? len - off : 40), buf + off);
				smtp_reply_free(r);
				return -1;
			}
			smtp_reply_free(r);
			return 0;
		}
		off += (size_t)n;
		if (strlen(line) < 3 || !isdigit((unsigned char)line[0]) ||
		    !isdigit((unsigned char)line[1]) || !isdigit((unsigned char)line[2]) ||
		    line[0] < '2' || line[0] > '5' ||
		    (line[3] != '\0' && line[3] != ' ' && line[3] != '-')) {
			*cause = xasprintf("not an SMTP reply: \"%.40s\"", line);
			free(line);
			smtp_reply_free(r);
			return -1;
		}
		code = (line[0] - '0') * 100 + (line[1] - '0') * 10 + (line[2] - '0');
		if (r->lines.n > 0 && code != r->code) {
			*cause = xasprintf("reply code changes within a reply (%d, then %d)",
			    r->code, code);
			free(line);
			smtp_reply_free(r);
			return -1;
		}
		if (r->lines.n >= 1000) {
			*cause = xstrdup("reply has more than 1000 lines");
			free(line);
			smtp_reply_free(r);
			return -1;
		}
		r->code = code;
		strv_push(&r->lines, line[3] == '\0' ? "" : line + 4);
		if (line[3] != '-') {
			free(line);
			return (ssize_t)off;
		}
		free(line);
	}
}

static const char *
ehlo_match(const char *line, const char *keyword)
{
	size_t kl = strlen(keyword);

	if (strncasecmp(line, keyword, kl) != 0)
		return NULL;
	if (line[kl] == '\0')
		return line + kl;
	if (line[kl] == ' ' || line[kl] == '=')
		return line + kl + 1;
	return NULL;
}

bool
smtp_ehlo_has(const struct smtp_reply *r, const char *keyword)
{
	return smtp_ehlo_param(r, keyword) != NULL;
}

const char *
smtp_ehlo_param(const struct smtp_reply *r, const char *keyword)
{
	const char *p;
	size_t i;

	for (i = 1; i < r->lines.n; i++) {
		if ((p = ehlo_match(r->lines.v[i], keyword)) != NULL)
			return p;
	}
	return NULL;
}

void
smtp_enhanced(const struct smtp_reply *r, char *out, size_t len)
{
	const char *s;
	size_t n = 0;
	int dots = 0;

	if (len == 0)
		return;
	out[0] = '\0';
	if (r->lines.n == 0)
		return;
	s = r->lines.v[0];
	if (s[0] < '2' || s[0] > '5' || s[1] != '.')
		return;
	while (s[n] != '\0' && (isdigit((unsigned char)s[n]) || s[n] == '.')) {
		if (s[n] == '.')
			dots++;
		n++;
	}
	if (dots != 2 || n >= len || s[n - 1] == '.')
		return;
	memcpy(out, s, n);
	out[n] = '\0';
}

void
imap_line_free(struct imap_line *l)
{
	free(l->tag);
	free(l->status);
	free(l->text);
	memset(l, 0, sizeof *l);
}

int
imap_line_parse(const char *line, struct imap_line *l, char **cause)
{
	static const char *const words[] = { "OK", "NO", "BAD", "BYE", "PREAUTH" };
	const char *sp, *rest, *w;
	size_t i, taglen, wl;

	memset(l, 0, sizeof *l);
	sp = strchr(line, ' ');
	taglen = sp != NULL ? (size_t)(sp - line) : strlen(line);
	if (taglen == 0 || taglen > 64) {
		*cause = xasprintf("not an IMAP response: \"%.40s\"", line);
		return -1;
	}
	for (i = 0; i < taglen; i++) {
		unsigned char c = (unsigned char)line[i];
		/* tag = 1*<any ASTRING-CHAR except "+">; "*" and "+" are special */
		if (c <= 0x20 || c >= 0x7f || c == '(' || c == ')' || c == '{' ||
		    c == '%' || c == '"' || c == '\\') {
			*cause = xasprintf("not an IMAP response: \"%.40s\"", line);
			return -1;
		}
	}
	l->tag = xstrndup(line, taglen);
	rest = sp != NULL ? sp + 1 : "";
	l->status = xstrdup("");
	if (strcmp(l->tag, "+") != 0) {
		for (i = 0; i < nitems(words); i++) {
			w = words[i];
			wl = strlen(w);
			if (strncasecmp(rest, w, wl) == 0 &&
			    (rest[wl] == ' ' || rest[wl] == '\0')) {
				free(l->status);
				l->status = xstrdup(w);
				rest += wl;
				if (*rest == ' ')
					rest++;
				break;
			}
		}
		if (*l->status == '\0' && strcmp(l->tag, "*") != 0) {
			*cause = xasprintf("tagged IMAP response without a status: \"%.40s\"",
			    line);
			imap_line_free(l);
			return -1;
		}
	}
	l->text = xstrdup(rest);
	return 0;
}

bool
imap_has_capability(const char *text, const char *cap)
{
	const char *p, *end;
	size_t cl = strlen(cap);

	if (strncasecmp(text, "CAPABILITY ", 11) == 0) {
		p = text + 11;
		end = p + strlen(p);
	} else if ((p = strstr(text, "[CAPABILITY ")) != NULL) {
		p += 12;
		if ((end = strchr(p, ']')) == NULL)
			return false;
	} else
		return false;
	while (p < end) {
		while (p < end && *p == ' ')
			p++;
		if ((size_t)(end - p) >= cl && strncasecmp(p, cap, cl) == 0 &&
		    (p + cl == end || p[cl] == ' ' || p[cl] == ']'))
			return true;
		while (p < end && *p != ' ')
			p++;
	}
	return false;
}

int
pop3_status(const char *line, char **cause)
{
	if (strncmp(line, "+OK", 3) == 0 && (line[3] == '\0' || line[3] == ' '))
		return 1;
	if (strncmp(line, "-ERR", 4) == 0 && (line[4] == '\0' || line[4] == ' '))
		return 0;
	*cause = xasprintf("not a POP3 status line: \"%.40s\"", line);
	return -1;
}

/* ---- XML ----
 * Well-formedness and namespaces are expat's: the reply comes from the network. No
 * document type declaration is accepted (an Autodiscover answer has none, and refusing
 * it refuses every entity expansion), and nesting is capped. Expat reads UTF-8, UTF-16
 * and ISO-8859-1 and hands back UTF-8; a NUL character is not well-formed in any. */

#define XML_MAX_DEPTH	64

struct xp {
	XML_Parser p;
	struct xml_node *root, *cur;
	struct sbuf text;	/* character data of cur so far */
	int	 depth;
	char	*err;
};

static void
xml_node_free1(struct xml_node *n)
{
	free(n->name);
	free(n->ns);
	free(n->text);
	free(n);
}

void
xml_free(struct xml_node *n)
{
	struct xml_node *c, *next;

	if (n == NULL)
		return;
	for (c = n->child; c != NULL; c = next) {
		next = c->next;
		xml_free(c);
	}
	xml_node_free1(n);
}

static void
xp_stop(struct xp *x, const char *what)
{
	if (x->err == NULL)
		x->err = xasprintf("not well-formed XML at line %lu, column %lu: %s",
		    (unsigned long)XML_GetCurrentLineNumber(x->p),
		    (unsigned long)XML_GetCurrentColumnNumber(x->p) + 1, what);
	XML_StopParser(x->p, XML_FALSE);
}

/* Close the text of the current element: what was gathered so far is its text. */
static void
xp_flush_text(struct xp *x)
{
	size_t had;

	if (x->cur == NULL || x->text.len == 0)
		return;
	had = strlen(x->cur->text);
	x->cur->text = xrealloc(x->cur->text, had + x->text.len + 1);
	memcpy(x->cur->text + had, x->text.s, x->text.len);
	x->cur->text[had + x->text.len] = '\0';
	sb_reset(&x->text);
}

static void XMLCALL
xp_start(void *arg, const XML_Char *name, const XML_Char **attrs)
{
	struct xp *x = arg;
	struct xml_node *n, **tail;
	const char *sep = strchr(name, '\n');

	(void)attrs;
	if (++x->depth > XML_MAX_DEPTH) {
		xp_stop(x, "elements nested more than 64 deep");
		return;
	}
	xp_flush_text(x);
	n = xcalloc(1, sizeof *n);
	n->ns = sep != NULL ? xstrndup(name, (size_t)(sep - name)) : xstrdup("");
	n->name = xstrdup(sep != NULL ? sep + 1 : name);
	n->text = xstrdup("");
	n->parent = x->cur;
	if (x->cur == NULL)
		x->root = n;
	else {
		for (tail = &x->cur->child; *tail != NULL; tail = &(*tail)->next)
			;
		*tail = n;
	}
	x->cur = n;
}

static void XMLCALL
xp_end(void *arg, const XML_Char *name)
{
	struct xp *x = arg;

	(void)name;
	xp_flush_text(x);
	x->depth--;
	if (x->cur != NULL)
		x->cur = x->cur->parent;
}

static void XMLCALL
xp_chars(void *arg, const XML_Char *s, int len)
{
	struct xp *x = arg;

	if (x->cur != NULL && len > 0)
		sb_addn(&x->text, s, (size_t)len);
}

static void XMLCALL
xp_doctype(void *arg, const XML_Char *name, const XML_Char *sysid,
    const XML_Char *pubid, int has_internal_subset)
{
	(void)name, (void)sysid, (void)pubid, (void)has_internal_subset;
	xp_stop(arg, "a document type declaration (not expected in a reply)");
}

struct xml_node *
xml_parse(const char *buf, size_t len, char **cause)
{
	struct xp x = { 0 };
	enum XML_Status st;

	if (len > INT_MAX) {
		*cause = xstrdup("not parsed: the XML reply is larger than 2 GiB");
		return NULL;
	}
	if ((x.p = XML_ParserCreateNS(NULL, '\n')) == NULL) {
		*cause = xstrdup("cannot create an XML parser: out of memory");
		return NULL;
	}
	sb_init(&x.text);
	XML_SetUserData(x.p, &x);
	XML_SetElementHandler(x.p, xp_start, xp_end);
	XML_SetCharacterDataHandler(x.p, xp_chars);
	XML_SetStartDoctypeDeclHandler(x.p, xp_doctype);
	XML_SetParamEntityParsing(x.p, XML_PARAM_ENTITY_PARSING_NEVER);
	st = XML_Parse(x.p, buf, (int)len, XML_TRUE);
	if (st != XML_STATUS_OK && x.err == NULL)
		x.err = xasprintf("not well-formed XML at line %lu, column %lu: %s",
		    (unsigned long)XML_GetCurrentLineNumber(x.p),
		    (unsigned long)XML_GetCurrentColumnNumber(x.p) + 1,
		    XML_ErrorString(XML_GetErrorCode(x.p)));
	XML_ParserFree(x.p);
	sb_free(&x.text);
	if (x.err == NULL && x.root == NULL)
		x.err = xstrdup("not well-formed XML: no root element");
	if (x.err != NULL) {
		xml_free(x.root);
		*cause = x.err;
		return NULL;
	}
	return x.root;
}

const struct xml_node *
xml_child(const struct xml_node *n, const char *name)
{
	const struct xml_node *c;

	if (n == NULL)
		return NULL;
	for (c = n->child; c != NULL; c = c->next) {
		if (strcmp(c->name, name) == 0)
			return c;
	}
	return NULL;
}

const struct xml_node *
xml_path(const struct xml_node *n, const char *path)
{
	char *copy = xstrdup(path), *p = copy, *part;

	while (n != NULL && (part = strsep(&p, "/")) != NULL)
		n = xml_child(n, part);
	free(copy);
	return n;
}

const char *
xml_child_text(const struct xml_node *n, const char *name)
{
	const struct xml_node *c = xml_child(n, name);
	char *t;
	size_t l;

	if (c == NULL)
		return NULL;
	/* Trim in place: the tree is ours. */
	t = c->text;
	while (isspace((unsigned char)*t))
		memmove(t, t + 1, strlen(t));
	l = strlen(t);
	while (l > 0 && isspace((unsigned char)t[l - 1]))
		t[--l] = '\0';
	return t;
}

/* ---- Autodiscover ---- */

char *
ad_request_body(const char *email, bool mobilesync)
{
	struct sbuf esc;
	char *body;

	/* The address comes from the profile and lint checks it; escape it anyway. */
	sb_init(&esc);
	sb_addn(&esc, "", 0);
	xml_escape(&esc, email);
	body = xasprintf("<?xml version=\"1.0\" encoding=\"utf-8\"?>\r\n"
	    "<Autodiscover xmlns=\"%s\">\r\n"
	    "  <Request>\r\n"
	    "    <EMailAddress>%s</EMailAddress>\r\n"
	    "    <AcceptableResponseSchema>%s</AcceptableResponseSchema>\r\n"
	    "  </Request>\r\n"
	    "</Autodiscover>\r\n",
	    mobilesync ? AD_NS_REQ_MOBILE : AD_NS_REQ_OUTLOOK, esc.s,
	    mobilesync ? AD_NS_MOBILE : AD_NS_OUTLOOK);
	sb_free(&esc);
	return body;
}

static void
problem(int *n, struct sbuf *p, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void
problem(int *n, struct sbuf *p, const char *fmt, ...)
{
	va_list ap;
	char *s;

	va_start(ap, fmt);
	s = xvasprintf(fmt, ap);
	va_end(ap);
	sb_add(p, s);
	sb_addc(p, '\n');
	free(s);
	(*n)++;
}

static bool
onoff_is(const char *v, const char *want)
{
	return v != NULL && str_ieq(v, want);
}

static void
ad_check_protocol(const struct xml_node *acct, const char *type,
    const struct endpoint *ep, const char *login, int *n, struct sbuf *p)
{
	const struct xml_node *c, *proto = NULL;
	const char *v, *ssl, *enc;
	long port;

	for (c = acct->child; c != NULL; c = c->next) {
		if (strcmp(c->name, "Protocol") == 0 &&
		    (v = xml_child_text(c, "Type")) != NULL && str_ieq(v, type)) {
			proto = c;
			break;
		}
	}
	if (ep->host == NULL) {
		if (proto != NULL)
			problem(n, p, "%s: offered in the answer but not configured in the "
			    "profile", type);
		return;
	}
	if (proto == NULL) {
		problem(n, p, "%s: missing (profile: %s:%d)", type, ep->host, ep->port);
		return;
	}
	v = xml_child_text(proto, "Server");
	if (v == NULL || !str_ieq(v, ep->host))
		problem(n, p, "%s: Server is \"%s\", profile says \"%s\"", type,
		    v != NULL ? v : "(missing)", ep->host);
	v = xml_child_text(proto, "Port");
	if (v == NULL || parse_int(v, 1, 65535, &port) != 0 || port != ep->port)
		problem(n, p, "%s: Port is \"%s\", profile says %d", type,
		    v != NULL ? v : "(missing)", ep->port);
	v = xml_child_text(proto, "LoginName");
	if (v == NULL || strcmp(v, login) != 0)
		problem(n, p, "%s: LoginName is \"%s\", expected \"%s\"", type,
		    v != NULL ? v : "(missing)", login);
	v = xml_child_text(proto, "SPA");
	if (!onoff_is(v, "off"))
		problem(n, p, "%s: SPA is %s (Outlook then tries NTLM): must be off",
		    type, v != NULL ? v : "absent, which means on");
	v = xml_child_text(proto, "AuthRequired");
	if (!onoff_is(v, "on"))
		problem(n, p, "%s: AuthRequired is \"%s\", must be on", type,
		    v != NULL ? v : "(missing)");
	ssl = xml_child_text(proto, "SSL");
	enc = xml_child_text(proto, "Encryption");
	switch (ep->enc) {
	case ENC_SSL:
		if (!(onoff_is(ssl, "on") && (enc == NULL || str_ieq(enc, "SSL"))) &&
		    !(enc != NULL && str_ieq(enc, "SSL")))
			problem(n, p, "%s: SSL is \"%s\", profile says implicit TLS (on)",
			    type, ssl != NULL ? ssl : "(missing)");
		break;
	case ENC_STARTTLS:
		if (enc == NULL || !str_ieq(enc, "TLS"))
			problem(n, p, "%s: Encryption is \"%s\", profile says STARTTLS (TLS)",
			    type, enc != NULL ? enc : "(missing)");
		if (ssl != NULL && !onoff_is(ssl, "on") && !onoff_is(ssl, "off"))
			problem(n, p, "%s: SSL must be on or off, not \"%s\"", type, ssl);
		break;
	case ENC_PLAIN:
		if (onoff_is(ssl, "on") || (enc != NULL && !str_ieq(enc, "None")))
			problem(n, p, "%s: answer encrypts, profile says plain", type);
		break;
	}
	if (strcmp(type, "SMTP") == 0) {
		v = xml_child_text(proto, "UsePOPAuth");
		if (v != NULL && !onoff_is(v, "off"))
			problem(n, p, "SMTP: UsePOPAuth is \"%s\", must be off", v);
		v = xml_child_text(proto, "SMTPLast");
		if (v != NULL && !onoff_is(v, "off"))
			problem(n, p, "SMTP: SMTPLast is \"%s\", must be off", v);
	}
}

int
ad_check_answer(const char *body, size_t len, const struct autodiscover *ad,
    const char *email, bool mobilesync, struct sbuf *problems)
{
	struct xml_node *root;
	const struct xml_node *resp, *acct, *srv, *c;
	const char *v, *at;
	char *cause = NULL, *login;
	int n = 0;
	bool found;

	if ((root = xml_parse(body, len, &cause)) == NULL) {
		sb_add(problems, cause);
		sb_addc(problems, '\n');
		free(cause);
		return -1;
	}
	if (strcmp(root->name, "Autodiscover") != 0 || strcmp(root->ns, AD_NS_RESPONSE) != 0) {
		problem(&n, problems, "root element is {%s}%s, expected {%s}Autodiscover",
		    root->ns, root->name, AD_NS_RESPONSE);
		goto out;
	}
	if ((resp = xml_child(root, "Response")) == NULL) {
		problem(&n, problems, "no Response element");
		goto out;
	}
	if ((c = xml_child(resp, "Error")) != NULL) {
		const char *msg = xml_child_text(c, "Message");

		v = xml_child_text(c, "ErrorCode");
		problem(&n, problems, "answer is an error (ErrorCode %s: %s)",
		    v != NULL ? v : "?", msg != NULL ? msg : "");
		goto out;
	}
	if (strcmp(resp->ns, mobilesync ? AD_NS_MOBILE : AD_NS_OUTLOOK) != 0)
		problem(&n, problems, "Response namespace is \"%s\", expected \"%s\"",
		    resp->ns, mobilesync ? AD_NS_MOBILE : AD_NS_OUTLOOK);
	if (mobilesync) {
		v = xml_child_text(xml_child(resp, "User"), "EMailAddress");
		if (v == NULL || !str_ieq(v, email))
			problem(&n, problems, "User/EMailAddress is \"%s\", expected \"%s\"",
			    v != NULL ? v : "(missing)", email);
		srv = xml_path(resp, "Action/Settings");
		found = false;
		for (c = srv != NULL ? srv->child : NULL; c != NULL; c = c->next) {
			if (strcmp(c->name, "Server") != 0)
				continue;
			v = xml_child_text(c, "Type");
			if (v == NULL || !str_ieq(v, "MobileSync"))
				continue;
			found = true;
			v = xml_child_text(c, "Url");
			if (ad->activesync != NULL && (v == NULL || !str_ieq(v, ad->activesync)))
				problem(&n, problems, "MobileSync Url is \"%s\", profile says "
				    "\"%s\"", v != NULL ? v : "(missing)", ad->activesync);
		}
		if (!found)
			problem(&n, problems, "no Action/Settings/Server of Type MobileSync");
		goto out;
	}
	if ((acct = xml_child(resp, "Account")) == NULL) {
		problem(&n, problems, "no Response/Account element");
		goto out;
	}
	v = xml_child_text(acct, "AccountType");
	if (v == NULL || !str_ieq(v, "email"))
		problem(&n, problems, "AccountType is \"%s\", expected email",
		    v != NULL ? v : "(missing)");
	v = xml_child_text(acct, "Action");
	if (v == NULL || !str_ieq(v, "settings"))
		problem(&n, problems, "Action is \"%s\", expected settings",
		    v != NULL ? v : "(missing)");
	if (ad->login == LOGIN_LOCALPART && (at = strchr(email, '@')) != NULL)
		login = xstrndup(email, (size_t)(at - email));
	else
		login = xstrdup(email);
	ad_check_protocol(acct, "IMAP", &ad->imap, login, &n, problems);
	ad_check_protocol(acct, "POP3", &ad->pop3, login, &n, problems);
	ad_check_protocol(acct, "SMTP", &ad->smtp, login, &n, problems);
	free(login);
out:
	xml_free(root);
	return n;
}

static bool
vrfy_refusal(int code)
{
	return code == 500 || code == 502 || code == 504 || code == 530 || code == 554;
}

enum vrfy_verdict
smtp_vrfy_verdict(int code_known, int code_unknown)
{
	if (vrfy_refusal(code_known) && (code_unknown == 0 || vrfy_refusal(code_unknown)))
		return VRFY_REFUSED;
	if (code_known == 250 || code_known == 251 || code_unknown == 250 ||
	    code_unknown == 251)
		return VRFY_ANSWERS;
	if (code_unknown != 0 && code_known / 100 != code_unknown / 100 &&
	    (code_known / 100 == 2 || code_unknown / 100 == 2))
		return VRFY_ANSWERS;
	if (code_known == 252 && (code_unknown == 0 || code_unknown == 252))
		return VRFY_NO_ORACLE;
	if (code_known == 550 || code_known == 551 || code_known == 553)
		return VRFY_ANSWERS;
	return VRFY_UNCLEAR;
}

bool
word_in_line(const char *s, const char *word)
{
	size_t n = strlen(word), k;

	while (*s != '\0' && *s != '\n') {
		while (*s == ' ' || *s == '\t')
			s++;
		k = strcspn(s, " \t\n");
		if (k == n && strncasecmp(s, word, n) == 0)
			return true;
		s += k;
	}
	return false;
}

bool
pop3_capa_has(const char *capa, const char *cap, const char **args)
{
	const char *p = capa;
	size_t n = strlen(cap);

	while (p != NULL && *p != '\0') {
		if (strncasecmp(p, cap, n) == 0 && (p[n] == '\0' || p[n] == '\n' ||
		    p[n] == ' ' || p[n] == '\t')) {
			if (args != NULL)
				*args = p + n + strspn(p + n, " \t");
			return true;
		}
		p = strchr(p, '\n');
		if (p != NULL)
			p++;
	}
	return false;
}

static size_t
put16(unsigned char *o, size_t i, unsigned v)
{
	o[i] = (unsigned char)(v >> 8);
	o[i + 1] = (unsigned char)v;
	return i + 2;
}

size_t
tls_client_hello(unsigned char *out, size_t cap, const unsigned short *suites, size_t n,
    const char *sni, const unsigned char random[32])
{
	static const unsigned short groups[] = { 0x001d, 0x0017, 0x0018, 0x0019, 0x0100,
	    0x0101 };
	static const unsigned short sigalgs[] = { 0x0403, 0x0503, 0x0603, 0x0804, 0x0805,
	    0x0806, 0x0401, 0x0501, 0x0601, 0x0203, 0x0201, 0x0402, 0x0202 };
	size_t snilen = sni != NULL ? strlen(sni) : 0, i, o, need, ext, body;

	if (snilen > 255 || (sni != NULL && (strspn(sni, "0123456789.") == snilen ||
	    strchr(sni, ':') != NULL)))
		snilen = 0;	/* no SNI for an address (RFC 6066 §3) */
	ext = (snilen > 0 ? 9 + snilen : 0) + 6 + 2 * nitems(groups) + 6 + 6 +
	    2 * nitems(sigalgs);
	body = 2 + 32 + 1 + 2 + 2 * (n + 1) + 2 + 2 + ext;
	need = 5 + 4 + body;
	if (need > cap || n > 1000)
		return 0;
	o = 0;
	out[o++] = 22;				/* handshake */
	o = put16(out, o, 0x0301);		/* record version, as every client */
	o = put16(out, o, (unsigned)(4 + body));
	out[o++] = 1;				/* client_hello */
	out[o++] = 0;
	o = put16(out, o, (unsigned)body);
	o = put16(out, o, 0x0303);		/* TLS 1.2 */
	memcpy(out + o, random, 32);
	o += 32;
	out[o++] = 0;				/* no session id */
	o = put16(out, o, (unsigned)(2 * (n + 1)));
	for (i = 0; i < n; i++)
		o = put16(out, o, suites[i]);
	o = put16(out, o, 0x00ff);		/* TLS_EMPTY_RENEGOTIATION_INFO_SCSV */
	out[o++] = 1;				/* compression: null only */
	out[o++] = 0;
	o = put16(out, o, (unsigned)ext);
	if (snilen > 0) {
		o = put16(out, o, 0x0000);	/* server_name */
		o = put16(out, o, (unsigned)(5 + snilen));
		o = put16(out, o, (unsigned)(3 + snilen));
		out[o++] = 0;			/* host_name */
		o = put16(out, o, (unsigned)snilen);
		memcpy(out + o, sni, snilen);
		o += snilen;
	}
	o = put16(out, o, 0x000a);		/* supported_groups */
	o = put16(out, o, (unsigned)(2 + 2 * nitems(groups)));
	o = put16(out, o, (unsigned)(2 * nitems(groups)));
	for (i = 0; i < nitems(groups); i++)
		o = put16(out, o, groups[i]);
	o = put16(out, o, 0x000b);		/* ec_point_formats: uncompressed */
	o = put16(out, o, 2);
	out[o++] = 1;
	out[o++] = 0;
	o = put16(out, o, 0x000d);		/* signature_algorithms */
	o = put16(out, o, (unsigned)(2 + 2 * nitems(sigalgs)));
	o = put16(out, o, (unsigned)(2 * nitems(sigalgs)));
	for (i = 0; i < nitems(sigalgs); i++)
		o = put16(out, o, sigalgs[i]);
	return o;
}

int
tls_answer_parse(const unsigned char *b, size_t n, struct tls_answer *a, char **cause)
{
	size_t rlen, hlen, sid;

	memset(a, 0, sizeof *a);
	if (n < 5)
		return 0;
	if ((b[0] != 21 && b[0] != 22) || b[1] != 3) {
		*cause = xasprintf("not a TLS record (first bytes %02x %02x %02x)", b[0],
		    b[1], b[2]);
		return -1;
	}
	rlen = (size_t)b[3] << 8 | b[4];
	if (rlen == 0 || rlen > 16384 + 2048) {
		*cause = xasprintf("TLS record length %zu", rlen);
		return -1;
	}
	if (b[0] == 21) {
		if (n < 7)
			return 0;
		if (rlen < 2) {
			*cause = xstrdup("short TLS alert");
			return -1;
		}
		a->kind = TLS_ANS_ALERT;
		a->alert_level = b[5];
		a->alert_desc = b[6];
		return 1;
	}
	/* handshake: type, length, then the ServerHello up to its cipher suite */
	if (n < 9)
		return 0;
	if (b[5] != 2) {
		*cause = xasprintf("first handshake message is type %d, not ServerHello",
		    b[5]);
		return -1;
	}
	hlen = (size_t)b[6] << 16 | (size_t)b[7] << 8 | b[8];
	if (rlen < 4 + 2 + 32 + 1 || hlen < 2 + 32 + 1 + 2) {
		*cause = xstrdup("ServerHello too short");
		return -1;
	}
	if (n < 5 + 4 + 2 + 32 + 1)
		return 0;
	sid = b[5 + 4 + 2 + 32];
	if (sid > 32 || rlen < 4 + 2 + 32 + 1 + sid + 2 || hlen < 2 + 32 + 1 + sid + 2) {
		*cause = xstrdup("ServerHello session id or length out of range");
		return -1;
	}
	if (n < 5 + 4 + 2 + 32 + 1 + sid + 2)
		return 0;
	a->kind = TLS_ANS_HELLO;
	a->version = (unsigned)b[9] << 8 | b[10];
	a->suite = (unsigned)b[5 + 4 + 2 + 32 + 1 + sid] << 8 | b[5 + 4 + 2 + 32 + 1 + sid + 1];
	return 1;
}

int
hsts_parse(const char *value, long long *max_age, bool *subdomains, char **cause)
{
	const char *p = value, *e, *eq, *v;
	size_t nlen, vlen;
	bool seen_age = false, seen_sub = false;
	char num[24], *end;

	*max_age = -1;
	*subdomains = false;
	while (*p != '\0') {
		while (*p == ' ' || *p == '\t' || *p == ';')
			p++;
		if (*p == '\0')
			break;
		e = p + strcspn(p, ";");
		eq = memchr(p, '=', (size_t)(e - p));
		nlen = (size_t)((eq != NULL ? eq : e) - p);
		while (nlen > 0 && (p[nlen - 1] == ' ' || p[nlen - 1] == '\t'))
			nlen--;
		if (nlen == 7 && strncasecmp(p, "max-age", 7) == 0) {
			if (seen_age) {
				*cause = xstrdup("max-age given twice");
				return -1;
			}
			seen_age = true;
			if (eq == NULL) {
				*cause = xstrdup("max-age without a value");
				return -1;
			}
			v = eq + 1;
			while (*v == ' ' || *v == '\t')
				v++;
			vlen = (size_t)(e - v);
			while (vlen > 0 && (v[vlen - 1] == ' ' || v[vlen - 1] == '\t'))
				vlen--;
			if (vlen >= 2 && v[0] == '"' && v[vlen - 1] == '"') {
				v++;
				vlen -= 2;
			}
			if (vlen > 18) {
				*cause = xstrdup("max-age has more than 18 digits");
				return -1;
			}
			if (vlen == 0 || strspn(v, "0123456789") < vlen) {
				*cause = xasprintf("max-age is not a number: %.*s", (int)(vlen < 40 ?
				    vlen : 40), v);
				return -1;
			}
			memcpy(num, v, vlen);
			num[vlen] = '\0';
			*max_age = strtoll(num, &end, 10);
		} else if (nlen == 17 && strncasecmp(p, "includeSubDomains", 17) == 0) {
			if (seen_sub) {
				*cause = xstrdup("includeSubDomains given twice");
				return -1;
			}
			seen_sub = true;
			*subdomains = true;
		}
		p = e;
	}
	if (!seen_age) {
		*cause = xstrdup("no max-age directive");
		return -1;
	}
	return 0;
}

bool
spf_is_record(const char *txt)
{
	return strncasecmp(txt, "v=spf1", 6) == 0 && (txt[6] == '\0' || txt[6] == ' ');
}

void
spf_record_free(struct spf_record *rec)
{
	size_t i;

	for (i = 0; i < rec->n; i++) {
		free(rec->v[i].name);
		free(rec->v[i].value);
	}
	free(rec->v);
	rec->v = NULL;
	rec->n = 0;
}

int
spf_parse(const char *txt, struct spf_record *rec, char **cause)
{
	static const char *const mechs[] = { "all", "include", "a", "mx", "ptr", "ip4",
	    "ip6", "exists" };
	const char *p = txt + 6, *e, *sep;
	size_t cap = 0, i, nlen;
	char q;
	bool redirect = false, exp = false;

	memset(rec, 0, sizeof *rec);
	if (!spf_is_record(txt)) {
		*cause = xstrdup("does not start with v=spf1");
		return -1;
	}
	for (;;) {
		while (*p == ' ')
			p++;
		if (*p == '\0')
			break;
		e = p + strcspn(p, " ");
		q = '+';
		if (*p == '+' || *p == '-' || *p == '~' || *p == '?')
			q = *p++;
		nlen = strcspn(p, ":/=");
		if (p + nlen > e)
			nlen = (size_t)(e - p);
		sep = p + nlen;
		if (nlen == 0 || nlen > 32) {
			*cause = xasprintf("bad term \"%.*s\"", (int)(e - p < 40 ? e - p : 40), p);
			spf_record_free(rec);
			return -1;
		}
		xgrow(&rec->v, &cap, rec->n + 1, sizeof *rec->v);
		rec->v[rec->n].name = xstrndup(p, nlen);
		for (char *c = rec->v[rec->n].name; *c != '\0'; c++)
			*c = (char)tolower((unsigned char)*c);
		if (sep < e && *sep == '=') {
			const char *nm = rec->v[rec->n].name;

			rec->v[rec->n].qual = 0;
			rec->v[rec->n].value = xstrndup(sep + 1, (size_t)(e - sep - 1));
			rec->n++;
			if (q != '+' || p[-1] == '+') {
				*cause = xasprintf("modifier %s with a qualifier", nm);
				spf_record_free(rec);
				return -1;
			}
			if ((strcmp(nm, "redirect") == 0 && redirect) ||
			    (strcmp(nm, "exp") == 0 && exp)) {
				*cause = xasprintf("modifier %s given twice", nm);
				spf_record_free(rec);
				return -1;
			}
			redirect = redirect || strcmp(nm, "redirect") == 0;
			exp = exp || strcmp(nm, "exp") == 0;
		} else {
			rec->v[rec->n].qual = q;
			rec->v[rec->n].value = xstrndup(sep < e && *sep == ':' ? sep + 1 : sep,
			    (size_t)(e - (sep < e && *sep == ':' ? sep + 1 : sep)));
			rec->n++;
			for (i = 0; i < nitems(mechs); i++)
				if (strcmp(rec->v[rec->n - 1].name, mechs[i]) == 0)
					break;
			if (i == nitems(mechs)) {
				*cause = xasprintf("unknown mechanism \"%s\"",
				    rec->v[rec->n - 1].name);
				spf_record_free(rec);
				return -1;
			}
		}
		p = e;
	}
	return 0;
}

int
dmarc_parse(const char *txt, char **policy, char **cause)
{
	const char *p = txt, *e, *eq;
	size_t n, k;
	bool first = true;

	*policy = NULL;
	while (*p != '\0') {
		while (*p == ' ' || *p == '\t')
			p++;
		if (*p == '\0')
			break;
		e = p + strcspn(p, ";");
		eq = memchr(p, '=', (size_t)(e - p));
		if (eq == NULL) {
			if (first)
				goto notdmarc;
			p = *e == ';' ? e + 1 : e;
			continue;
		}
		n = (size_t)(eq - p);
		while (n > 0 && (p[n - 1] == ' ' || p[n - 1] == '\t'))
			n--;
		eq++;
		while (*eq == ' ' || *eq == '\t')
			eq++;
		k = (size_t)(e - eq);
		while (k > 0 && (eq[k - 1] == ' ' || eq[k - 1] == '\t'))
			k--;
		if (first) {
			if (n != 1 || *p != 'v' || k != 6 || strncmp(eq, "DMARC1", 6) != 0)
				goto notdmarc;
			first = false;
		} else if (n == 1 && *p == 'p' && *policy == NULL) {
			*policy = xstrndup(eq, k);
			if (strcasecmp(*policy, "none") != 0 &&
			    strcasecmp(*policy, "quarantine") != 0 &&
			    strcasecmp(*policy, "reject") != 0) {
				*cause = xasprintf("p=%s is not none, quarantine or reject",
				    *policy);
				free(*policy);
				*policy = NULL;
				return -1;
			}
		}
		p = *e == ';' ? e + 1 : e;
	}
	if (first)
		goto notdmarc;
	if (*policy == NULL) {
		*cause = xstrdup("no p= tag");
		return -1;
	}
	return 0;
notdmarc:
	*cause = xstrdup("does not start with v=DMARC1");
	return -1;
}
