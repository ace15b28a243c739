/* cleartext.c: the "cleartext" probe kind: no password may be taken before STARTTLS on
 * the plain IMAP (143) and POP3 (110) ports of a Dovecot host. IMAP must advertise
 * LOGINDISABLED and no AUTH=PLAIN / AUTH=LOGIN before STARTTLS (RFC 9051 §6.2.3,
 * RFC 8314 §3.2); POP3 must list neither USER nor a PLAIN/LOGIN SASL mechanism in CAPA
 * before STLS (RFC 2449, RFC 2595 §4), and must refuse USER. No password is ever
 * sent: the probe stops at the capability lists and a USER without PASS. */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "backends/probe/parse.h"
#include "backends/probe/probe-int.h"

static int
say_line(struct conn *c, struct sbuf *log, const char *cmd, char **cause)
{
	sb_addf(log, "     C: %s\n", cmd);
	return (conn_printf(c, cause, "%s\r\n", cmd));
}

static int
get_line(struct conn *c, struct sbuf *log, char **line, char **cause)
{
	if (conn_read_line(c, line, cause) != 0)
		return (-1);
	sb_addf(log, "     S: %.300s\n", *line);
	return (0);
}

/* IMAP: the capabilities in clear (greeting's [CAPABILITY] or a CAPABILITY command). */
static int
imap_check(struct presult *r, struct conn *c, struct sbuf *log, char **cause)
{
	struct imap_line l;
	struct sbuf caps;
	char *line = NULL, *e = NULL;
	bool done = false, bad = false;

	sb_init(&caps);
	if (get_line(c, log, &line, cause) != 0)
		return (-1);
	if (imap_line_parse(line, &l, &e) != 0 || strcmp(l.tag, "*") != 0 ||
	    strcmp(l.status, "OK") != 0) {
		*cause = e != NULL ? e : xasprintf("greeting is not \"* OK\": %.60s", line);
		if (e == NULL)
			imap_line_free(&l);
		free(line);
		return (-1);
	}
	imap_line_free(&l);
	free(line);
	if (say_line(c, log, "a1 CAPABILITY", cause) != 0)
		return (-1);
	while (!done) {
		if (get_line(c, log, &line, cause) != 0) {
			sb_free(&caps);
			return (-1);
		}
		if (imap_line_parse(line, &l, &e) != 0) {
			*cause = e;
			free(line);
			sb_free(&caps);
			return (-1);
		}
		free(line);
		if (strcmp(l.tag, "*") == 0 && strncasecmp(l.text, "CAPABILITY ", 11) == 0) {
			sb_reset(&caps);
			sb_add(&caps, l.text);
		}
		if (strcmp(l.tag, "a1") == 0) {
			done = true;
			if (strcmp(l.status, "OK") != 0)
				*cause = xasprintf("CAPABILITY answered %s", l.status);
		}
		imap_line_free(&l);
	}
	if (*cause != NULL) {
		sb_free(&caps);
		return (-1);
	}
	if (caps.len == 0) {
		*cause = xstrdup("no CAPABILITY line in the answer to CAPABILITY");
		sb_free(&caps);
		return (-1);
	}
	if (!imap_has_capability(caps.s, "STARTTLS")) {
		pr_note(r, PROBE_FAIL, "no STARTTLS on the plain IMAP port: every login "
		    "here crosses in clear");
		pr_sumadd(r, "NO STARTTLS");
		bad = true;
	}
	if (imap_has_capability(caps.s, "LOGINDISABLED"))
		pr_note(r, PROBE_OK, "LOGINDISABLED before STARTTLS");
	else {
		pr_note(r, PROBE_FAIL, "LOGINDISABLED missing before STARTTLS: LOGIN is "
		    "taken in clear (Dovecot: disable_plaintext_auth = yes)");
		pr_sumadd(r, "LOGIN ALLOWED BEFORE STARTTLS");
		bad = true;
	}
	if (imap_has_capability(caps.s, "AUTH=PLAIN") ||
	    imap_has_capability(caps.s, "AUTH=LOGIN")) {
		pr_note(r, PROBE_FAIL, "AUTH=PLAIN or AUTH=LOGIN offered before STARTTLS");
		pr_sumadd(r, "AUTH=PLAIN/LOGIN BEFORE STARTTLS");
		bad = true;
	}
	if (!bad)
		pr_summary(r, "LOGINDISABLED before STARTTLS");
	sb_free(&caps);
	(void)say_line(c, log, "a2 LOGOUT", &e);
	free(e);
	return (0);
}

/* POP3: CAPA in clear, then USER (no PASS) must be refused. */
static int
pop3_check(struct presult *r, struct conn *c, struct sbuf *log, char **cause)
{
	struct sbuf capa;
	const char *sasl = NULL;
	char *line = NULL, *e = NULL;
	int st;
	bool bad = false;

	if (get_line(c, log, &line, cause) != 0)
		return (-1);
	if (pop3_status(line, &e) != 1) {
		*cause = e != NULL ? e : xasprintf("greeting is not +OK: %.60s", line);
		free(line);
		return (-1);
	}
	free(line);
	if (say_line(c, log, "CAPA", cause) != 0 || get_line(c, log, &line, cause) != 0)
		return (-1);
	st = pop3_status(line, &e);
	free(line);
	free(e);
	e = NULL;
	if (st != 1) {
		*cause = xstrdup("CAPA refused: the capabilities before STLS are unknown");
		return (-1);
	}
	sb_init(&capa);
	for (;;) {
		if (get_line(c, log, &line, cause) != 0) {
			sb_free(&capa);
			return (-1);
		}
		if (strcmp(line, ".") == 0) {
			free(line);
			break;
		}
		sb_addf(&capa, "%s\n", line);
		free(line);
		if (capa.len > 64 * 1024) {
			*cause = xstrdup("CAPA answer longer than 64 KiB");
			sb_free(&capa);
			return (-1);
		}
	}
	if (capa.len == 0) {
		*cause = xstrdup("CAPA listed nothing");
		sb_free(&capa);
		return (-1);
	}
	if (!pop3_capa_has(capa.s, "STLS", NULL)) {
		pr_note(r, PROBE_FAIL, "no STLS on the plain POP3 port: every login here "
		    "crosses in clear");
		pr_sumadd(r, "NO STLS");
		bad = true;
	}
	if (pop3_capa_has(capa.s, "USER", NULL)) {
		pr_note(r, PROBE_FAIL, "USER offered before STLS: USER/PASS is taken in "
		    "clear (Dovecot: disable_plaintext_auth = yes)");
		pr_sumadd(r, "USER/PASS BEFORE STLS");
		bad = true;
	} else
		pr_note(r, PROBE_OK, "no USER before STLS");
	if (pop3_capa_has(capa.s, "SASL", &sasl) && (word_in_line(sasl, "PLAIN") ||
	    word_in_line(sasl, "LOGIN"))) {
		pr_note(r, PROBE_FAIL, "SASL PLAIN or LOGIN offered before STLS");
		pr_sumadd(r, "SASL PLAIN/LOGIN BEFORE STLS");
		bad = true;
	}
	sb_free(&capa);
	/* What the server does, not only what it says: USER alone carries no secret. */
	if (say_line(c, log, "USER mxdeck-probe-nobody", cause) != 0 ||
	    get_line(c, log, &line, cause) != 0)
		return (-1);
	st = pop3_status(line, &e);
	free(line);
	free(e);
	if (st == 1) {
		pr_note(r, PROBE_FAIL, "USER accepted before STLS (the next line would be "
		    "the password, in clear; mxdeck sends none)");
		if (!bad)
			pr_sumadd(r, "USER ACCEPTED BEFORE STLS");
		bad = true;
	} else
		pr_note(r, PROBE_OK, "USER refused before STLS");
	if (!bad)
		pr_summary(r, "no USER/PASS before STLS");
	e = NULL;
	(void)say_line(c, log, "QUIT", &e);
	free(e);
	return (0);
}

void
probe_cleartext_run(struct probe *p, struct presult *r)
{
	struct conn c;
	struct addrs a;
	struct sbuf log;
	char *cause = NULL;
	int rc;

	sb_init(&log);
	conn_init(&c, r->deadline);
	if (net_host_addrs(p->ctx, p->host, r->deadline, &a, &cause) != 0 ||
	    conn_connect(&c, &a, p->port, &cause) != 0) {
		pr_reach(r, false);
		rc = -1;
		if (c.refused) {
			/* nothing listens: no login can be taken here, in clear or not */
			pr_note(r, PROBE_OK, "%s (port closed: clients use implicit TLS on %s)",
			    cause, p->svc == SVCP_IMAP ? "993" : "995");
			pr_summary(r, "not offered (port closed)");
			free(cause);
			cause = NULL;
			rc = 0;
		}
	} else {
		pr_reach(r, true);
		rc = p->svc == SVCP_IMAP ? imap_check(r, &c, &log, &cause) :
		    pop3_check(r, &c, &log, &cause);
	}
	if (rc != 0) {
		pr_note(r, PROBE_FAIL, "%s", cause);
		pr_summary(r, "%s dialogue failed: %s", host_services[p->svc].name, cause);
	}
	free(cause);
	sb_add(&r->details, "     dialogue:\n");
	sb_add(&r->details, log.s != NULL ? log.s : "");
	sb_free(&log);
	conn_close(&c);
}

/* The plain IMAP and POP3 ports (143, 110) of a host. */
void
cleartext_build(struct probe_build *b)
{
	struct probe *p;
	size_t i;

	for (i = 0; b->host != NULL && i < b->nports; i++) {
		if (b->ports[i].svc != SVCP_IMAP && b->ports[i].svc != SVCP_POP3)
			continue;
		p = probe_add(b, xasprintf("cleartext %s", host_services[b->ports[i].svc].name),
		    xasprintf("%s:%d", b->addr, b->ports[i].port));
		p->svc = b->ports[i].svc;
		p->port = b->ports[i].port;
	}
}
