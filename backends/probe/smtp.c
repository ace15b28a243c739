/* smtp.c: SMTP policy probes: no open relay, AUTH only after STARTTLS on submission,
 * postmaster@ and abuse@ of every domain accepted. Never sends DATA. */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "backends/probe/parse.h"
#include "backends/probe/probe-int.h"

struct sess {
	struct conn c;
	struct sbuf log;
	struct sbuf text;
	int	 code;
};

static int
say(struct sess *s, struct presult *r, char **cause, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* Send a command and read the reply into s->code / s->text. */
static int
say(struct sess *s, struct presult *r, char **cause, const char *fmt, ...)
{
	va_list ap;
	char *cmd;
	int rc;

	(void)r;
	va_start(ap, fmt);
	cmd = xvasprintf(fmt, ap);
	va_end(ap);
	sb_addf(&s->log, "     C: %s\n", cmd);
	rc = conn_printf(&s->c, cause, "%s\r\n", cmd);
	free(cmd);
	if (rc != 0)
		return -1;
	if (smtp_read_reply(&s->c, &s->code, &s->text, cause) != 0)
		return -1;
	sb_addf(&s->log, "     S: %d %.200s\n", s->code, s->text.s);
	return 0;
}

static int
sess_open(struct probe *p, struct presult *r, struct sess *s, char **cause)
{
	struct addrs a;

	memset(s, 0, sizeof *s);
	sb_init(&s->log);
	sb_init(&s->text);
	conn_init(&s->c, r->deadline);
	if (net_host_addrs(p->ctx, p->host, r->deadline, &a, cause) != 0 ||
	    conn_connect(&s->c, &a, p->port, cause) != 0) {
		pr_reach(r, false);
		return -1;
	}
	pr_reach(r, true);
	if (smtp_read_reply(&s->c, &s->code, &s->text, cause) != 0)
		return -1;
	sb_addf(&s->log, "     S: %d %.200s\n", s->code, s->text.s);
	if (s->code != 220) {
		*cause = xasprintf("greeting is %d %s", s->code, s->text.s);
		return -1;
	}
	if (say(s, r, cause, "EHLO probe.mxdeck.invalid") != 0)
		return -1;
	if (s->code != 250) {
		*cause = xasprintf("EHLO answered %d %s", s->code, s->text.s);
		return -1;
	}
	return 0;
}

static void
sess_close(struct sess *s, struct presult *r)
{
	char *e = NULL;

	if (s->c.fd != -1 && !s->c.eof) {
		if (conn_printf(&s->c, &e, "QUIT\r\n") != 0)
			free(e);
	}
	sb_add(&r->details, "     dialogue:\n");
	sb_add(&r->details, s->log.s != NULL ? s->log.s : "");
	conn_close(&s->c);
	sb_free(&s->log);
	sb_free(&s->text);
}

static bool
ehlo_has(const char *text, const char *kw)
{
	const char *p = text, *nl;
	size_t kl = strlen(kw);
	bool first = true;

	/* text: the EHLO reply lines joined by '\n'; the first is the greeting. */
	while (p != NULL && *p != '\0') {
		nl = strchr(p, '\n');
		if (!first && strncasecmp(p, kw, kl) == 0 &&
		    (p[kl] == '\0' || p[kl] == '\n' || p[kl] == ' ' || p[kl] == '='))
			return true;
		first = false;
		p = nl != NULL ? nl + 1 : NULL;
	}
	return false;
}

static bool
contains_ci(const char *hay, const char *needle)
{
	size_t n = strlen(needle);

	for (; *hay != '\0'; hay++) {
		if (strncasecmp(hay, needle, n) == 0)
			return true;
	}
	return false;
}

static bool
domain_in_profile(const struct site *site, const char *d)
{
	size_t i;

	if (site->domain != NULL && str_ieq(site->domain, d))
		return true;
	for (i = 0; i < site->nads; i++) {
		if (str_ieq(site->ads[i].domain, d) || strv_has(&site->ads[i].also, d))
			return true;
	}
	return false;
}

/* A probe's dialogue on an open session: 0 when it got as far as it could judge (its
 * verdict noted in r), -1 with *cause when the dialogue itself failed. */
typedef int sess_fn(struct probe *p, struct presult *r, struct sess *s, char **cause);

/* Open a session, run the dialogue on it, report a failed dialogue, and close. */
static void
sess_run(struct probe *p, struct presult *r, sess_fn *dialogue)
{
	struct sess s;
	char *cause = NULL;

	if (sess_open(p, r, &s, &cause) != 0 || dialogue(p, r, &s, &cause) != 0) {
		pr_note(r, PROBE_FAIL, "%s", cause);
		pr_summary(r, "SMTP dialogue failed: %s", cause);
	}
	free(cause);
	sess_close(&s, r);
}

/* The enhanced status code (RFC 3463) at the start of a reply text, "" if none. */
static void
enhanced_of(const char *text, char *out, size_t len)
{
	struct smtp_reply rep = { 0 };

	strv_push(&rep.lines, text);
	smtp_enhanced(&rep, out, len);
	smtp_reply_free(&rep);
}

/* Profile domains for the relay probe's forged local senders, each once. */
static void
profile_domains(const struct site *site, struct strv *doms)
{
	size_t i, j;

	if (site->domain != NULL)
		strv_push(doms, site->domain);
	for (i = 0; i < site->nads; i++) {
		if (!strv_has(doms, site->ads[i].domain))
			strv_push(doms, site->ads[i].domain);
		for (j = 0; j < site->ads[i].also.n; j++)
			if (!strv_has(doms, site->ads[i].also.v[j]))
				strv_push(doms, site->ads[i].also.v[j]);
	}
	for (i = 0; i < site->nconnectors; i++)
		if (site->connectors[i].domain != NULL &&
		    !strv_has(doms, site->connectors[i].domain))
			strv_push(doms, site->connectors[i].domain);
}

/* At most this many senders per relay probe: one session, three commands each, so a
 * profile with many domains stays bounded in time and under Postfix's error limits
 * (smtpd_soft_error_limit 10 slows a client down after ten refusals). */
#define RELAY_MAX_SENDERS	8

/*
 * Open relay: RCPT to an outside domain, tried with several senders in one session
 * (RSET between tries), because a relay that trusts a sender address (Postfix
 * check_sender_access permitting a local domain) is open to anyone who forges it:
 * the null sender, an outside sender, a sender in each profile domain and
 * postmaster@ of the first local domain. Any 2xx to the outside recipient is an OPEN
 * RELAY, named with the sender that opened it.
 */
static int
relay_dialogue(struct probe *p, struct presult *r, struct sess *s, char **cause)
{
	static const char *const outside[] = { "example.net", "example.com", "example.edu" };
	const struct site *site = p->ctx->site;
	const char *dom = NULL;
	struct strv senders = { 0 }, doms = { 0 }, opened = { 0 };
	struct sbuf who;
	char enh[16], first_enh[16] = "";
	size_t i, ntried = 0, nrefused = 0, nuntestable = 0, nrelay = 0;
	int first_code = 0, rc = -1;
	bool local = p->host != NULL && p->host->local;

	sb_init(&who);
	for (i = 0; i < nitems(outside) && dom == NULL; i++)
		if (!domain_in_profile(site, outside[i]))
			dom = outside[i];
	if (dom == NULL)
		dom = "mxdeck-relay-test.invalid";
	profile_domains(site, &doms);
	strv_push(&senders, "");
	strv_push(&senders, "mxdeck-relay-test@mxdeck-sender.invalid");
	for (i = 0; i < doms.n; i++) {
		char *a = xasprintf("mxdeck-relay-test@%s", doms.v[i]);

		if (senders.n < RELAY_MAX_SENDERS - 1)
			strv_push(&senders, a);
		free(a);
	}
	if (doms.n > 0) {
		char *a = xasprintf("postmaster@%s", doms.v[0]);

		strv_push(&senders, a);
		free(a);
	}
	for (i = 0; i < senders.n; i++) {
		const char *from = senders.v[i];

		if (pr_expired(r)) {
			pr_note(r, PROBE_WARN, "time is up after %zu of %zu senders", i,
			    senders.n);
			break;
		}
		if (say(s, r, cause, "MAIL FROM:<%s>", from) != 0)
			break;
		if (s->code / 100 != 2) {
			nuntestable++;
			pr_note(r, PROBE_OK, "MAIL FROM:<%s> refused (%d %s): relay not "
			    "testable with this sender", from, s->code, s->text.s);
		} else {
			if (say(s, r, cause, "RCPT TO:<mxdeck-relay-test@%s>", dom) != 0)
				break;
			enhanced_of(s->text.s, enh, sizeof enh);
			if (s->code / 100 == 2) {
				nrelay++;
				strv_push(&opened, from);
				/* address = local: the probe connects from loopback, which the
				 * rendered mynetworks always trusts; the verdict needs a
				 * client from outside. */
				pr_note(r, local ? PROBE_WARN : PROBE_FAIL, "%s: with MAIL FROM:"
				    "<%s>, RCPT to %s accepted without AUTH (%d %s)%s", local ?
				    "accepted from loopback" : "OPEN RELAY", from, dom, s->code,
				    s->text.s, local ? ", but this host is address = local: the "
				    "test connects from 127.0.0.1, which mynetworks always trusts; "
				    "run `mxdeck test` from a machine outside relay_networks for the "
				    "open-relay verdict" : "");
			} else {
				nrefused++;
				if (first_code == 0) {
					first_code = s->code;
					memcpy(first_enh, enh, sizeof first_enh);
				}
				if (strcmp(enh, "5.7.1") == 0 || strcmp(enh, "4.7.1") == 0 ||
				    contains_ci(s->text.s, "relay"))
					pr_note(r, PROBE_OK, "MAIL FROM:<%s>: relay refused: %d "
					    "%s", from, s->code, s->text.s);
				else
					pr_note(r, PROBE_OK, "MAIL FROM:<%s>: RCPT to %s "
					    "refused, but not as a relay refusal: %d %s", from,
					    dom, s->code, s->text.s);
			}
		}
		ntried++;
		if (say(s, r, cause, "RSET") != 0)
			break;
		if (s->code / 100 != 2) {
			*cause = xasprintf("RSET answered %d %s", s->code, s->text.s);
			break;
		}
	}
	/* A session that ended early: what was tried still counts; nothing tried is a
	 * failed dialogue. */
	if (*cause != NULL) {
		if (ntried == 0)
			goto out;
		pr_note(r, PROBE_WARN, "the session ended after %zu of %zu senders: %s",
		    ntried, senders.n, *cause);
		free(*cause);
		*cause = NULL;
	}
	if (nrelay > 0 && local)
		pr_summary(r, "not testable from the host itself (loopback may relay)");
	else if (nrelay > 0) {
		for (i = 0; i < opened.n; i++)
			sb_addf(&who, "%s<%s>", i > 0 ? ", " : "", opened.v[i]);
		pr_note(r, PROBE_WARN, "tested from this machine: if it is in "
		    "relay_networks (mynetworks), run the test from outside");
		pr_summary(r, "OPEN RELAY (RCPT to %s accepted with MAIL FROM %s)", dom,
		    who.s);
	} else if (nrefused > 0)
		pr_summary(r, "relay refused (%d %s) for %zu of %zu senders", first_code,
		    first_enh, nrefused, senders.n);
	else if (ntried == 0) {
		pr_note(r, PROBE_WARN, "no sender tried before the deadline");
		pr_summary(r, "not testable: time is up");
	} else {
		pr_note(r, PROBE_WARN, "no sender got as far as RCPT: relay not testable");
		pr_summary(r, "not testable: %zu of %zu senders refused at MAIL FROM",
		    nuntestable, senders.n);
	}
	rc = 0;
out:
	sb_free(&who);
	strv_free(&senders);
	strv_free(&doms);
	strv_free(&opened);
	return rc;
}

void
probe_smtp_relay_run(struct probe *p, struct presult *r)
{
	sess_run(p, r, relay_dialogue);
}

static int
auth_dialogue(struct probe *p, struct presult *r, struct sess *s, char **cause)
{
	SSL *ssl;

	if (ehlo_has(s->text.s, "AUTH")) {
		pr_note(r, PROBE_FAIL, "AUTH offered before STARTTLS: passwords may cross in "
		    "clear (smtpd_tls_auth_only = yes)");
		pr_summary(r, "AUTH BEFORE STARTTLS");
	} else
		pr_note(r, PROBE_OK, "no AUTH before STARTTLS");
	if (!ehlo_has(s->text.s, "STARTTLS")) {
		pr_note(r, PROBE_FAIL, "no STARTTLS on submission");
		pr_sumadd(r, "no STARTTLS");
		return 0;
	}
	if (say(s, r, cause, "STARTTLS") != 0)
		return -1;
	if (s->code != 220) {
		pr_note(r, PROBE_FAIL, "STARTTLS answered %d %s", s->code, s->text.s);
		return 0;
	}
	if ((ssl = SSL_new(p->ctx->ssl)) == NULL)
		fatal("SSL_new failed");
	r->handshakes++;
	if (conn_tls(&s->c, ssl, cause) != 0)
		return -1;
	if (say(s, r, cause, "EHLO probe.mxdeck.invalid") != 0)
		return -1;
	if (s->code == 250 && ehlo_has(s->text.s, "AUTH")) {
		pr_note(r, PROBE_OK, "AUTH offered after STARTTLS");
		if (r->status == PROBE_OK)
			pr_summary(r, "AUTH only after STARTTLS");
	} else {
		pr_note(r, PROBE_FAIL, "no AUTH after STARTTLS: clients cannot log in on "
		    "submission");
		pr_sumadd(r, "NO AUTH after STARTTLS");
	}
	return 0;
}

static void
probe_smtp_auth_run(struct probe *p, struct presult *r)
{
	sess_run(p, r, auth_dialogue);
}

static int
accept_dialogue(struct probe *p, struct presult *r, struct sess *s, char **cause)
{
	const struct site *site = p->ctx->site;
	const struct strv *lp = &site->access.always_accept;
	static const char *const deflp[] = { "postmaster", "abuse" };
	struct strv doms = { 0 }, locals = { 0 };
	size_t i, j, nok = 0, nbad = 0;
	int rc = -1;

	if (site->domain != NULL)
		strv_push(&doms, site->domain);
	for (i = 0; i < site->nads; i++) {
		if (!strv_has(&doms, site->ads[i].domain))
			strv_push(&doms, site->ads[i].domain);
		for (j = 0; j < site->ads[i].also.n; j++)
			if (!strv_has(&doms, site->ads[i].also.v[j]))
				strv_push(&doms, site->ads[i].also.v[j]);
	}
	if (lp->n > 0)
		for (i = 0; i < lp->n; i++)
			strv_push(&locals, lp->v[i]);
	else
		for (i = 0; i < nitems(deflp); i++)
			strv_push(&locals, deflp[i]);
	for (i = 0; i < doms.n; i++) {
		for (j = 0; j < locals.n; j++) {
			if (say(s, r, cause, "MAIL FROM:<>") != 0)
				goto out;
			if (say(s, r, cause, "RCPT TO:<%s@%s>", locals.v[j], doms.v[i]) != 0)
				goto out;
			if (s->code / 100 == 2) {
				nok++;
				pr_note(r, PROBE_OK, "%s@%s accepted", locals.v[j], doms.v[i]);
			} else {
				nbad++;
				pr_note(r, PROBE_FAIL, "%s@%s refused: %d %s (RFC 5321/2142 "
				    "require it)", locals.v[j], doms.v[i], s->code, s->text.s);
			}
			if (say(s, r, cause, "RSET") != 0)
				goto out;
		}
	}
	if (nbad == 0)
		pr_summary(r, "%zu addresses accepted", nok);
	else
		pr_summary(r, "%zu of %zu REFUSED", nbad, nok + nbad);
	rc = 0;
out:
	strv_free(&doms);
	strv_free(&locals);
	return rc;
}

static void
probe_smtp_accept_run(struct probe *p, struct presult *r)
{
	sess_run(p, r, accept_dialogue);
}

void
smtp_build(struct probe_build *b)
{
	struct probe *p;
	int smtp_port, sub_port;

	if (b->host == NULL || (b->roles & ROLE_POSTFIX) == 0)
		return;
	if ((smtp_port = probe_build_port(b, SVCP_SMTP)) != 0) {
		p = probe_add(b, xstrdup("open-relay"), xasprintf("%s:%d", b->addr,
		    smtp_port));
		p->run = probe_smtp_relay_run;
		p->port = smtp_port;
		p->svc = SVCP_SMTP;
		p = probe_add(b, xstrdup("always-accept"), xasprintf("%s:%d", b->addr,
		    smtp_port));
		p->run = probe_smtp_accept_run;
		p->port = smtp_port;
		p->svc = SVCP_SMTP;
	}
	if ((sub_port = probe_build_port(b, SVCP_SUBMISSION)) != 0) {
		p = probe_add(b, xstrdup("auth-after-starttls"), xasprintf("%s:%d", b->addr,
		    sub_port));
		p->run = probe_smtp_auth_run;
		p->port = sub_port;
		p->svc = SVCP_SUBMISSION;
	}
}
