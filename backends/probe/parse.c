/* parse.c: parsers for server replies (SMTP, IMAP, POP3, Autodiscover XML). */
#include <ctype.h>
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
		return (len >= PARSE_MAX_LINE ? -1 : 0);
	n = (size_t)(nl - buf);
	if (memchr(buf, '\0', n) != NULL)
		return (-1);
	*line = xstrndup(buf, (n > 0 && buf[n - 1] == '\r') ? n - 1 : n);
	return ((ssize_t)n + 1);
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
			return (-1);
		}
		if (n == 0) {
			/* Incomplete: but garbage already visible is garbage now. */
			if (len - off >= 1 && !isdigit((unsigned char)buf[off])) {
				/* buf need not be NUL-terminated: bound by its length */
				*cause = xasprintf("not an SMTP reply: \"%.*s\"",
				    (int)(len - off < 40 ? len - off : 40), buf + off);
				smtp_reply_free(r);
				return (-1);
			}
			smtp_reply_free(r);
			return (0);
		}
		off += (size_t)n;
		if (strlen(line) < 3 || !isdigit((unsigned char)line[0]) ||
		    !isdigit((unsigned char)line[1]) || !isdigit((unsigned char)line[2]) ||
		    line[0] < '2' || line[0] > '5' ||
		    (line[3] != '\0' && line[3] != ' ' && line[3] != '-')) {
			*cause = xasprintf("not an SMTP reply: \"%.40s\"", line);
			free(line);
			smtp_reply_free(r);
			return (-1);
		}
		code = (line[0] - '0') * 100 + (line[1] - '0') * 10 + (line[2] - '0');
		if (r->lines.n > 0 && code != r->code) {
			*cause = xasprintf("reply code changes within a reply (%d, then %d)",
			    r->code, code);
			free(line);
			smtp_reply_free(r);
			return (-1);
		}
		if (r->lines.n >= 1000) {
			*cause = xstrdup("reply has more than 1000 lines");
			free(line);
			smtp_reply_free(r);
			return (-1);
		}
		r->code = code;
		strv_push(&r->lines, line[3] == '\0' ? "" : line + 4);
		if (line[3] != '-') {
			free(line);
			return ((ssize_t)off);
		}
		free(line);
	}
}

static const char *
ehlo_match(const char *line, const char *keyword)
{
	size_t kl = strlen(keyword);

	if (strncasecmp(line, keyword, kl) != 0)
		return (NULL);
	if (line[kl] == '\0')
		return (line + kl);
	if (line[kl] == ' ' || line[kl] == '=')
		return (line + kl + 1);
	return (NULL);
}

bool
smtp_ehlo_has(const struct smtp_reply *r, const char *keyword)
{
	return (smtp_ehlo_param(r, keyword) != NULL);
}

const char *
smtp_ehlo_param(const struct smtp_reply *r, const char *keyword)
{
	const char *p;
	size_t i;

	for (i = 1; i < r->lines.n; i++) {
		if ((p = ehlo_match(r->lines.v[i], keyword)) != NULL)
			return (p);
	}
	return (NULL);
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
		return (-1);
	}
	for (i = 0; i < taglen; i++) {
		unsigned char c = (unsigned char)line[i];
		/* tag = 1*<any ASTRING-CHAR except "+">; "*" and "+" are special */
		if (c <= 0x20 || c >= 0x7f || c == '(' || c == ')' || c == '{' ||
		    c == '%' || c == '"' || c == '\\') {
			*cause = xasprintf("not an IMAP response: \"%.40s\"", line);
			return (-1);
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
			return (-1);
		}
	}
	l->text = xstrdup(rest);
	return (0);
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
			return (false);
	} else
		return (false);
	while (p < end) {
		while (p < end && *p == ' ')
			p++;
		if ((size_t)(end - p) >= cl && strncasecmp(p, cap, cl) == 0 &&
		    (p + cl == end || p[cl] == ' ' || p[cl] == ']'))
			return (true);
		while (p < end && *p != ' ')
			p++;
	}
	return (false);
}

int
pop3_status(const char *line, char **cause)
{
	if (strncmp(line, "+OK", 3) == 0 && (line[3] == '\0' || line[3] == ' '))
		return (1);
	if (strncmp(line, "-ERR", 4) == 0 && (line[4] == '\0' || line[4] == ' '))
		return (0);
	*cause = xasprintf("not a POP3 status line: \"%.40s\"", line);
	return (-1);
}

/* ---- XML ---- */

struct xp {
	const char *s;
	size_t	 len, off;
	char	*err;
	int	 depth;
};

struct nsdecl {
	char	*prefix;	/* "" for the default namespace */
	char	*uri;
	struct nsdecl *next;
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

static bool
xp_fail(struct xp *x, const char *what)
{
	if (x->err == NULL)
		x->err = xasprintf("not well-formed XML at byte %zu: %s", x->off, what);
	return (false);
}

static bool
xp_starts(struct xp *x, const char *p)
{
	size_t n = strlen(p);

	return (x->len - x->off >= n && memcmp(x->s + x->off, p, n) == 0);
}

static bool
is_name_start(unsigned char c)
{
	return (isalpha(c) || c == '_' || c == ':' || c >= 0x80);
}

static bool
is_name_char(unsigned char c)
{
	return (is_name_start(c) || isdigit(c) || c == '-' || c == '.');
}

static char *
xp_name(struct xp *x)
{
	size_t start = x->off;

	if (x->off >= x->len || !is_name_start((unsigned char)x->s[x->off])) {
		xp_fail(x, "expected a name");
		return (NULL);
	}
	while (x->off < x->len && is_name_char((unsigned char)x->s[x->off]))
		x->off++;
	return (xstrndup(x->s + start, x->off - start));
}

static void
xp_space(struct xp *x)
{
	while (x->off < x->len && isspace((unsigned char)x->s[x->off]))
		x->off++;
}

/* Decode character data [p, p+n) with entities into b. */
static bool
xp_decode(struct xp *x, const char *p, size_t n, struct sbuf *b)
{
	size_t i = 0, j;
	unsigned long cp;
	char *end;

	while (i < n) {
		if (p[i] == '<')
			return (xp_fail(x, "'<' in character data"));
		if (p[i] != '&') {
			sb_addc(b, p[i++]);
			continue;
		}
		for (j = i + 1; j < n && p[j] != ';' && j - i < 12; j++)
			;
		if (j >= n || p[j] != ';')
			return (xp_fail(x, "unterminated entity"));
		if (strncmp(p + i, "&lt;", 4) == 0)
			sb_addc(b, '<');
		else if (strncmp(p + i, "&gt;", 4) == 0)
			sb_addc(b, '>');
		else if (strncmp(p + i, "&amp;", 5) == 0)
			sb_addc(b, '&');
		else if (strncmp(p + i, "&quot;", 6) == 0)
			sb_addc(b, '"');
		else if (strncmp(p + i, "&apos;", 6) == 0)
			sb_addc(b, '\'');
		else if (p[i + 1] == '#') {
			char num[16];
			size_t nl = j - i - 2;

			if (nl == 0 || nl >= sizeof num)
				return (xp_fail(x, "bad character reference"));
			memcpy(num, p + i + 2, nl);
			num[nl] = '\0';
			if (num[0] == 'x')
				cp = strtoul(num + 1, &end, 16);
			else
				cp = strtoul(num, &end, 10);
			if (*end != '\0' || end == num || cp == 0 || cp > 0x10ffff)
				return (xp_fail(x, "bad character reference"));
			if (cp < 0x80)
				sb_addc(b, (char)cp);
			else if (cp < 0x800) {
				sb_addc(b, (char)(0xc0 | (cp >> 6)));
				sb_addc(b, (char)(0x80 | (cp & 0x3f)));
			} else if (cp < 0x10000) {
				sb_addc(b, (char)(0xe0 | (cp >> 12)));
				sb_addc(b, (char)(0x80 | ((cp >> 6) & 0x3f)));
				sb_addc(b, (char)(0x80 | (cp & 0x3f)));
			} else {
				sb_addc(b, (char)(0xf0 | (cp >> 18)));
				sb_addc(b, (char)(0x80 | ((cp >> 12) & 0x3f)));
				sb_addc(b, (char)(0x80 | ((cp >> 6) & 0x3f)));
				sb_addc(b, (char)(0x80 | (cp & 0x3f)));
			}
		} else
			return (xp_fail(x, "unknown entity"));
		i = j + 1;
	}
	return (true);
}

/* Skip <!-- -->, <? ?>, <!DOCTYPE >; returns false on error. */
static bool
xp_misc(struct xp *x, bool *skipped)
{
	const char *end;

	*skipped = false;
	if (xp_starts(x, "<!--")) {
		end = NULL;
		for (size_t i = x->off + 4; i + 3 <= x->len; i++) {
			if (memcmp(x->s + i, "-->", 3) == 0) {
				end = x->s + i;
				break;
			}
		}
		if (end == NULL)
			return (xp_fail(x, "unterminated comment"));
		x->off = (size_t)(end - x->s) + 3;
		*skipped = true;
	} else if (xp_starts(x, "<?")) {
		end = NULL;
		for (size_t i = x->off + 2; i + 2 <= x->len; i++) {
			if (memcmp(x->s + i, "?>", 2) == 0) {
				end = x->s + i;
				break;
			}
		}
		if (end == NULL)
			return (xp_fail(x, "unterminated processing instruction"));
		x->off = (size_t)(end - x->s) + 2;
		*skipped = true;
	} else if (xp_starts(x, "<!DOCTYPE")) {
		/* No internal subsets: an answer has no business carrying one. */
		while (x->off < x->len && x->s[x->off] != '>') {
			if (x->s[x->off] == '[')
				return (xp_fail(x, "DOCTYPE with an internal subset"));
			x->off++;
		}
		if (x->off >= x->len)
			return (xp_fail(x, "unterminated DOCTYPE"));
		x->off++;
		*skipped = true;
	}
	return (true);
}

static const char *
ns_lookup(const struct nsdecl *d, const char *prefix)
{
	for (; d != NULL; d = d->next) {
		if (strcmp(d->prefix, prefix) == 0)
			return (d->uri);
	}
	return (NULL);
}

static struct xml_node *xp_element(struct xp *x, struct xml_node *parent,
    struct nsdecl *scope);

static bool
xp_content(struct xp *x, struct xml_node *n, struct nsdecl *scope, const char *qname)
{
	struct sbuf text;
	struct xml_node *c, **tail = &n->child;
	size_t start;
	bool skipped;
	char *end;

	sb_init(&text);
	for (;;) {
		if (x->off >= x->len) {
			sb_free(&text);
			return (xp_fail(x, "unexpected end inside an element"));
		}
		if (xp_starts(x, "</")) {
			x->off += 2;
			if ((end = xp_name(x)) == NULL) {
				sb_free(&text);
				return (false);
			}
			if (strcmp(end, qname) != 0) {
				free(end);
				sb_free(&text);
				return (xp_fail(x, "mismatched end tag"));
			}
			free(end);
			xp_space(x);
			if (x->off >= x->len || x->s[x->off] != '>') {
				sb_free(&text);
				return (xp_fail(x, "expected '>'"));
			}
			x->off++;
			n->text = sb_steal(&text);
			return (true);
		}
		if (xp_starts(x, "<![CDATA[")) {
			start = x->off + 9;
			for (x->off = start; x->off + 3 <= x->len; x->off++) {
				if (memcmp(x->s + x->off, "]]>", 3) == 0)
					break;
			}
			if (x->off + 3 > x->len) {
				sb_free(&text);
				return (xp_fail(x, "unterminated CDATA"));
			}
			sb_addn(&text, x->s + start, x->off - start);
			x->off += 3;
			continue;
		}
		if (xp_starts(x, "<!--") || xp_starts(x, "<?")) {
			if (!xp_misc(x, &skipped)) {
				sb_free(&text);
				return (false);
			}
			continue;
		}
		if (x->s[x->off] == '<') {
			if ((c = xp_element(x, n, scope)) == NULL) {
				sb_free(&text);
				return (false);
			}
			*tail = c;
			tail = &c->next;
			continue;
		}
		start = x->off;
		while (x->off < x->len && x->s[x->off] != '<')
			x->off++;
		if (!xp_decode(x, x->s + start, x->off - start, &text)) {
			sb_free(&text);
			return (false);
		}
	}
}

static void
nsdecl_free(struct nsdecl *d, struct nsdecl *stop)
{
	struct nsdecl *next;

	for (; d != NULL && d != stop; d = next) {
		next = d->next;
		free(d->prefix);
		free(d->uri);
		free(d);
	}
}

static struct xml_node *
xp_element(struct xp *x, struct xml_node *parent, struct nsdecl *scope)
{
	struct xml_node *n;
	struct nsdecl *local = scope, *d;
	struct strv attrs = { 0 };
	char *qname, *aname, *colon;
	const char *uri;
	struct sbuf val;
	size_t start;
	char q;
	bool ok = false, empty = false;

	if (++x->depth > 64) {
		xp_fail(x, "elements nested too deep");
		x->depth--;
		return (NULL);
	}
	x->off++;	/* '<' */
	if ((qname = xp_name(x)) == NULL) {
		x->depth--;
		return (NULL);
	}
	n = xcalloc(1, sizeof *n);
	n->parent = parent;
	for (;;) {
		start = x->off;
		xp_space(x);
		if (x->off >= x->len) {
			xp_fail(x, "unterminated start tag");
			goto out;
		}
		if (xp_starts(x, "/>")) {
			x->off += 2;
			empty = true;
			break;
		}
		if (x->s[x->off] == '>') {
			x->off++;
			break;
		}
		if (x->off == start) {
			xp_fail(x, "expected space between attributes");
			goto out;
		}
		if ((aname = xp_name(x)) == NULL)
			goto out;
		if (strv_has(&attrs, aname)) {
			free(aname);
			xp_fail(x, "duplicate attribute");
			goto out;
		}
		xp_space(x);
		if (x->off >= x->len || x->s[x->off] != '=') {
			free(aname);
			xp_fail(x, "expected '=' after an attribute name");
			goto out;
		}
		x->off++;
		xp_space(x);
		if (x->off >= x->len || (x->s[x->off] != '"' && x->s[x->off] != '\'')) {
			free(aname);
			xp_fail(x, "attribute value not quoted");
			goto out;
		}
		q = x->s[x->off++];
		start = x->off;
		while (x->off < x->len && x->s[x->off] != q)
			x->off++;
		if (x->off >= x->len) {
			free(aname);
			xp_fail(x, "unterminated attribute value");
			goto out;
		}
		sb_init(&val);
		if (!xp_decode(x, x->s + start, x->off - start, &val)) {
			free(aname);
			sb_free(&val);
			goto out;
		}
		x->off++;
		if (strcmp(aname, "xmlns") == 0 || strncmp(aname, "xmlns:", 6) == 0) {
			d = xmalloc(sizeof *d);
			d->prefix = xstrdup(aname[5] == ':' ? aname + 6 : "");
			d->uri = sb_steal(&val);
			d->next = local;
			local = d;
		} else
			sb_free(&val);
		strv_push_owned(&attrs, aname);
	}
	if ((colon = strchr(qname, ':')) != NULL) {
		*colon = '\0';
		uri = ns_lookup(local, qname);
		if (uri == NULL) {
			*colon = ':';
			xp_fail(x, "undeclared namespace prefix");
			goto out;
		}
		n->ns = xstrdup(uri);
		n->name = xstrdup(colon + 1);
		*colon = ':';
	} else {
		uri = ns_lookup(local, "");
		n->ns = xstrdup(uri != NULL ? uri : "");
		n->name = xstrdup(qname);
	}
	if (empty) {
		n->text = xstrdup("");
		ok = true;
	} else
		ok = xp_content(x, n, local, qname);
out:
	nsdecl_free(local, scope);
	strv_free(&attrs);
	free(qname);
	x->depth--;
	if (!ok) {
		xml_free(n);
		return (NULL);
	}
	return (n);
}

struct xml_node *
xml_parse(const char *buf, size_t len, char **cause)
{
	struct xp x = { .s = buf, .len = len };
	struct xml_node *root = NULL;
	bool skipped;

	if (len >= 3 && memcmp(buf, "\xef\xbb\xbf", 3) == 0)
		x.off = 3;
	if (memchr(buf, '\0', len) != NULL) {
		*cause = xstrdup("not well-formed XML: contains a NUL byte");
		return (NULL);
	}
	for (;;) {
		xp_space(&x);
		if (x.off >= x.len)
			break;
		if (!xp_misc(&x, &skipped))
			goto fail;
		if (skipped)
			continue;
		if (x.s[x.off] != '<') {
			xp_fail(&x, root == NULL ? "text before the root element" :
			    "text after the root element");
			goto fail;
		}
		if (root != NULL) {
			xp_fail(&x, "more than one root element");
			goto fail;
		}
		if ((root = xp_element(&x, NULL, NULL)) == NULL)
			goto fail;
	}
	if (root == NULL) {
		xp_fail(&x, "no root element");
		goto fail;
	}
	return (root);
fail:
	xml_free(root);
	*cause = x.err != NULL ? x.err : xstrdup("not well-formed XML");
	return (NULL);
}

const struct xml_node *
xml_child(const struct xml_node *n, const char *name)
{
	const struct xml_node *c;

	if (n == NULL)
		return (NULL);
	for (c = n->child; c != NULL; c = c->next) {
		if (strcmp(c->name, name) == 0)
			return (c);
	}
	return (NULL);
}

const struct xml_node *
xml_path(const struct xml_node *n, const char *path)
{
	char *copy = xstrdup(path), *p = copy, *part;

	while (n != NULL && (part = strsep(&p, "/")) != NULL)
		n = xml_child(n, part);
	free(copy);
	return (n);
}

const char *
xml_child_text(const struct xml_node *n, const char *name)
{
	const struct xml_node *c = xml_child(n, name);
	char *t;
	size_t l;

	if (c == NULL)
		return (NULL);
	/* Trim in place: the tree is ours. */
	t = c->text;
	while (isspace((unsigned char)*t))
		memmove(t, t + 1, strlen(t));
	l = strlen(t);
	while (l > 0 && isspace((unsigned char)t[l - 1]))
		t[--l] = '\0';
	return (t);
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
	return (body);
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
	return (v != NULL && str_ieq(v, want));
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
		return (-1);
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
	return (n);
}
