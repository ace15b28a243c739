/* vrfy.c: the "vrfy" probe kind: VRFY and EXPN refused on every SMTP port of a Postfix
 * host (a server that answers them tells a spammer which addresses exist). The
 * commands are asked after STARTTLS where it is offered (what anyone can do), on
 * smtps inside the implicit TLS. Never sends MAIL, RCPT or DATA. */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "backends/probe/parse.h"
#include "backends/probe/probe-int.h"

struct vsess {
	struct conn c;
	struct sbuf log;
	struct sbuf text;
	int	 code;
};

/* Send one command (NULL: only read) and read the reply. */
static int
vsay(struct vsess *s, const char *cmd, char **cause)
{
	if (cmd != NULL) {
		sb_addf(&s->log, "     C: %s\n", cmd);
		if (conn_printf(&s->c, cause, "%s\r\n", cmd) != 0)
			return (-1);
	}
	if (smtp_read_reply(&s->c, &s->code, &s->text, cause) != 0)
		return (-1);
	sb_addf(&s->log, "     S: %d %.*s\n", s->code, s->text.s != NULL ?
	    (int)strcspn(s->text.s, "\n") : 0, s->text.s != NULL ? s->text.s : "");
	return (0);
}

/* Does the EHLO reply text (lines joined by '\n', the first the greeting) list kw? */
static bool
ehlo_lists(const char *text, const char *kw)
{
	const char *p = text != NULL ? strchr(text, '\n') : NULL;
	size_t n = strlen(kw);

	while (p != NULL) {
		p++;
		if (strncasecmp(p, kw, n) == 0 && (p[n] == '\0' || p[n] == '\n' ||
		    p[n] == ' '))
			return (true);
		p = strchr(p, '\n');
	}
	return (false);
}

static int
start_tls(struct probe *p, struct presult *r, struct vsess *s, char **cause)
{
	SSL *ssl;

	if ((ssl = SSL_new(p->ctx->ssl)) == NULL)
		fatal("SSL_new failed");
	if (p->sni != NULL && !is_ip_literal(p->sni))
		SSL_set_tlsext_host_name(ssl, p->sni);
	if (conn_tls(&s->c, ssl, cause) != 0)
		return (-1);
	r->handshakes++;
	return (0);
}

/* Connect, greet, EHLO, STARTTLS (or implicit TLS), EHLO again. */
static int
vsess_open(struct probe *p, struct presult *r, struct vsess *s, char **cause)
{
	struct addrs a;

	if (net_host_addrs(p->ctx, p->host, r->deadline, &a, cause) != 0 ||
	    conn_connect(&s->c, &a, p->port, cause) != 0) {
		pr_reach(r, false);
		return (-1);
	}
	pr_reach(r, true);
	if (svc_wraps[p->svc] == WRAP_IMPLICIT && start_tls(p, r, s, cause) != 0)
		return (-1);
	if (vsay(s, NULL, cause) != 0)
		return (-1);
	if (s->code != 220) {
		*cause = xasprintf("greeting is %d, not 220", s->code);
		return (-1);
	}
	if (vsay(s, "EHLO probe.mxdeck.invalid", cause) != 0)
		return (-1);
	if (s->code != 250) {
		*cause = xasprintf("EHLO answered %d", s->code);
		return (-1);
	}
	if (svc_wraps[p->svc] == WRAP_IMPLICIT || !ehlo_lists(s->text.s, "STARTTLS")) {
		if (svc_wraps[p->svc] != WRAP_IMPLICIT)
			pr_note(r, PROBE_OK, "no STARTTLS offered: asking in clear");
		return (0);
	}
	if (vsay(s, "STARTTLS", cause) != 0)
		return (-1);
	if (s->code != 220) {
		*cause = xasprintf("STARTTLS answered %d", s->code);
		return (-1);
	}
	if (start_tls(p, r, s, cause) != 0 ||
	    vsay(s, "EHLO probe.mxdeck.invalid", cause) != 0)
		return (-1);
	return (0);
}

/* Ask CMD for the known and the unknown address and judge the two answers. */
static int
ask(struct presult *r, struct vsess *s, const char *cmd, const char *known,
    const char *unknown, bool *refused, char **cause)
{
	char *line;
	int ck, cu;

	line = xasprintf("%s %s", cmd, known);
	if (vsay(s, line, cause) != 0) {
		free(line);
		return (-1);
	}
	free(line);
	ck = s->code;
	line = xasprintf("%s %s", cmd, unknown);
	if (vsay(s, line, cause) != 0) {
		free(line);
		return (-1);
	}
	free(line);
	cu = s->code;
	*refused = false;
	switch (smtp_vrfy_verdict(ck, cu)) {
	case VRFY_REFUSED:
		pr_note(r, PROBE_OK, "%s refused (%d)", cmd, ck);
		*refused = true;
		break;
	case VRFY_NO_ORACLE:
		pr_note(r, PROBE_WARN, "%s not refused: it answers %d for %s and for %s "
		    "alike (no address is revealed, but disable it: Postfix "
		    "disable_vrfy_command = yes)", cmd, ck, known, unknown);
		pr_sumadd(r, "%s answered %d", cmd, ck);
		break;
	case VRFY_ANSWERS:
		pr_note(r, PROBE_FAIL, "%s ANSWERS: %d for %s, %d for %s: it tells which "
		    "addresses exist (Postfix: disable_vrfy_command = yes)", cmd, ck, known,
		    cu, unknown);
		pr_sumadd(r, "%s ANSWERS (%d/%d)", cmd, ck, cu);
		break;
	case VRFY_UNCLEAR:
		pr_note(r, PROBE_WARN, "%s: unexpected answers %d and %d", cmd, ck, cu);
		pr_sumadd(r, "%s unclear (%d/%d)", cmd, ck, cu);
		break;
	}
	return (0);
}

void
probe_vrfy_run(struct probe *p, struct presult *r)
{
	struct vsess s;
	const char *dom = p->domain != NULL ? p->domain : "invalid";
	char *cause = NULL, *known, *unknown;
	bool vrefused = false, erefused = false;

	memset(&s, 0, sizeof s);
	sb_init(&s.log);
	sb_init(&s.text);
	conn_init(&s.c, r->deadline);
	known = xasprintf("<postmaster@%s>", dom);
	unknown = xasprintf("<mxdeck-no-such-user-3f9c@%s>", dom);
	if (vsess_open(p, r, &s, &cause) != 0 ||
	    ask(r, &s, "VRFY", known, unknown, &vrefused, &cause) != 0 ||
	    ask(r, &s, "EXPN", known, unknown, &erefused, &cause) != 0) {
		pr_note(r, PROBE_FAIL, "%s", cause);
		pr_summary(r, "SMTP dialogue failed: %s", cause);
	} else if (vrefused && erefused)
		pr_summary(r, "VRFY and EXPN refused");
	free(cause);
	if (s.c.fd != -1 && !s.c.eof) {
		cause = NULL;
		if (conn_printf(&s.c, &cause, "QUIT\r\n") != 0)
			free(cause);
	}
	sb_add(&r->details, "     dialogue:\n");
	sb_add(&r->details, s.log.s != NULL ? s.log.s : "");
	conn_close(&s.c);
	sb_free(&s.log);
	sb_free(&s.text);
	free(known);
	free(unknown);
}

/* Every SMTP port of a Postfix host; the addresses asked for are in the site's domain. */
void
vrfy_build(struct probe_build *b)
{
	const char *dom = b->site->domain != NULL ? b->site->domain :
	    b->site->nads > 0 ? b->site->ads[0].domain : NULL;
	struct probe *p;
	size_t i;
	int svc;

	if (b->host == NULL || (b->roles & ROLE_POSTFIX) == 0)
		return;
	for (i = 0; i < b->nports; i++) {
		svc = b->ports[i].svc;
		if (svc != SVCP_SMTP && svc != SVCP_SUBMISSION && svc != SVCP_SMTPS)
			continue;
		p = probe_add_svc(b, "vrfy-expn", &b->ports[i]);
		p->domain = dom != NULL ? xstrdup(dom) : NULL;
	}
}
