/* test_probe_parse.c: the parsers of server replies the probes rely on
 * (backends/probe/parse.c): SMTP replies and EHLO keywords, IMAP and POP3 lines, the
 * small XML parser, and the Autodiscover answer check against a profile. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "backends/probe/parse.h"

static void
t_line_take(void **state)
{
	char *l;
	char big[PARSE_MAX_LINE + 10];

	assert_int_equal(line_take("abc\r\nxyz", 8, &l), 5);
	assert_string_equal(l, "abc");
	free(l);
	assert_int_equal(line_take("abc\nx", 5, &l), 4);
	assert_string_equal(l, "abc");
	free(l);
	assert_int_equal(line_take("abc", 3, &l), 0);
	assert_null(l);
	assert_int_equal(line_take("a\0c\n", 4, &l), -1);
	memset(big, 'a', sizeof big);
	assert_int_equal(line_take(big, sizeof big, &l), -1);
}

static void
t_smtp_single(void **state)
{
	struct smtp_reply r;
	char *cause = NULL;
	const char *s = "220 smtp.lab.test ESMTP lab\r\n";

	assert_int_equal(smtp_reply_parse(s, strlen(s), &r, &cause), (ssize_t)strlen(s));
	assert_int_equal(r.code, 220);
	assert_int_equal(r.lines.n, 1);
	assert_string_equal(r.lines.v[0], "smtp.lab.test ESMTP lab");
	smtp_reply_free(&r);
	/* bare code, no text */
	assert_int_equal(smtp_reply_parse("250\r\n", 5, &r, &cause), 5);
	assert_int_equal(r.code, 250);
	assert_string_equal(r.lines.v[0], "");
	smtp_reply_free(&r);
}

static void
t_smtp_multi(void **state)
{
	struct smtp_reply r;
	char *cause = NULL, enh[16];
	const char *s = "250-smtp.lab.test\r\n250-PIPELINING\r\n250-AUTH PLAIN LOGIN\r\n"
	    "250-AUTH=PLAIN\r\n250-STARTTLS\r\n250 8BITMIME\r\n220 next";
	ssize_t n;

	n = smtp_reply_parse(s, strlen(s), &r, &cause);
	assert_int_equal(n, (ssize_t)(strstr(s, "220 next") - s));
	assert_int_equal(r.code, 250);
	assert_int_equal(r.lines.n, 6);
	assert_true(smtp_ehlo_has(&r, "STARTTLS"));
	assert_true(smtp_ehlo_has(&r, "starttls"));
	assert_true(smtp_ehlo_has(&r, "AUTH"));
	assert_false(smtp_ehlo_has(&r, "SMTPUTF8"));
	/* the greeting line is not a keyword */
	assert_false(smtp_ehlo_has(&r, "smtp.lab.test"));
	/* "PIPE" is not "PIPELINING" */
	assert_false(smtp_ehlo_has(&r, "PIPE"));
	assert_string_equal(smtp_ehlo_param(&r, "AUTH"), "PLAIN LOGIN");
	smtp_enhanced(&r, enh, sizeof enh);
	assert_string_equal(enh, "");
	smtp_reply_free(&r);

	s = "554 5.7.1 <x@example.net>: Relay access denied\r\n";
	assert_true(smtp_reply_parse(s, strlen(s), &r, &cause) > 0);
	smtp_enhanced(&r, enh, sizeof enh);
	assert_string_equal(enh, "5.7.1");
	smtp_reply_free(&r);
}

static void
t_smtp_incomplete(void **state)
{
	struct smtp_reply r;
	char *cause = NULL;
	const char *s = "250-first\r\n250-second\r\n250 la";

	assert_int_equal(smtp_reply_parse(s, strlen(s), &r, &cause), 0);
	assert_null(cause);
	assert_int_equal(smtp_reply_parse("", 0, &r, &cause), 0);
	assert_int_equal(smtp_reply_parse("2", 1, &r, &cause), 0);
}

static void
t_smtp_garbage(void **state)
{
	static const char *const bad[] = {
		"HTTP/1.1 400 Bad Request\r\n",
		"* OK IMAP ready\r\n",
		"+OK POP3\r\n",
		"22 short\r\n",
		"2200 four digits\r\n",
		"620 out of range\r\n",
		"250-a\r\n251 changes code\r\n",
		"\x16\x03\x01\x02\x00",	/* a TLS record: not a line */
	};
	struct smtp_reply r;
	char *cause;
	size_t i;

	for (i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		cause = NULL;
		assert_int_equal(smtp_reply_parse(bad[i], strlen(bad[i]), &r, &cause), -1);
		assert_non_null(cause);
		free(cause);
	}
}

static void
t_imap(void **state)
{
	struct imap_line l;
	char *cause = NULL;

	assert_int_equal(imap_line_parse("* OK [CAPABILITY IMAP4rev1 SASL-IR STARTTLS "
	    "AUTH=PLAIN] Dovecot ready.", &l, &cause), 0);
	assert_string_equal(l.tag, "*");
	assert_string_equal(l.status, "OK");
	assert_true(imap_has_capability(l.text, "STARTTLS"));
	assert_true(imap_has_capability(l.text, "AUTH=PLAIN"));
	assert_false(imap_has_capability(l.text, "LOGINDISABLED"));
	assert_false(imap_has_capability(l.text, "START"));
	imap_line_free(&l);

	assert_int_equal(imap_line_parse("a1 OK Begin TLS negotiation now.", &l, &cause),
	    0);
	assert_string_equal(l.tag, "a1");
	assert_string_equal(l.status, "OK");
	assert_string_equal(l.text, "Begin TLS negotiation now.");
	imap_line_free(&l);

	assert_int_equal(imap_line_parse("a1 bad command", &l, &cause), 0);
	assert_string_equal(l.status, "BAD");
	imap_line_free(&l);

	assert_int_equal(imap_line_parse("* CAPABILITY IMAP4rev1 STARTTLS", &l, &cause), 0);
	assert_string_equal(l.status, "");
	assert_true(imap_has_capability(l.text, "starttls"));
	imap_line_free(&l);

	assert_int_equal(imap_line_parse("a1 whatever", &l, &cause), -1);
	free(cause);
	cause = NULL;
	assert_int_equal(imap_line_parse("", &l, &cause), -1);
	free(cause);
	cause = NULL;
	assert_int_equal(imap_line_parse("(weird) OK", &l, &cause), -1);
	free(cause);
}

static void
t_pop3(void **state)
{
	char *cause = NULL;

	assert_int_equal(pop3_status("+OK Dovecot ready.", &cause), 1);
	assert_int_equal(pop3_status("+OK", &cause), 1);
	assert_int_equal(pop3_status("-ERR no", &cause), 0);
	assert_int_equal(pop3_status("+OKAY", &cause), -1);
	free(cause);
	cause = NULL;
	assert_int_equal(pop3_status("220 smtp", &cause), -1);
	free(cause);
}

static void
t_xml_ok(void **state)
{
	const char *s = "\xef\xbb\xbf<?xml version=\"1.0\"?>\n<!-- c -->\n"
	    "<a:root xmlns:a=\"urn:a\" xmlns=\"urn:d\"><x k='v'>1 &lt; 2 &#x41;&#66;</x>"
	    "<y/><![CDATA[<raw>]]><a:z>t</a:z></a:root>\n";
	struct xml_node *n;
	char *cause = NULL;

	n = xml_parse(s, strlen(s), &cause);
	assert_non_null(n);
	assert_string_equal(n->name, "root");
	assert_string_equal(n->ns, "urn:a");
	assert_string_equal(xml_child(n, "x")->ns, "urn:d");
	assert_string_equal(xml_child_text(n, "x"), "1 < 2 AB");
	assert_non_null(xml_child(n, "y"));
	assert_string_equal(xml_child(n, "z")->ns, "urn:a");
	assert_string_equal(n->text, "<raw>");
	assert_null(xml_path(n, "x/nothing"));
	xml_free(n);
}

static void
t_xml_bad(void **state)
{
	static const char *const bad[] = {
		"",
		"just text",
		"<a>",
		"<a></b>",
		"<a><b></a></b>",
		"<a x=1/>",
		"<a x='1' x='2'/>",
		"<a>&bogus;</a>",
		"<a>&#0;</a>",
		"<a/><b/>",
		"<a/>trailing",
		"<p:a/>",
		"<!DOCTYPE a [<!ENTITY e \"x\">]><a>&e;</a>",
		"<a><!-- unterminated </a>",
		"<a>1 < 2</a>",
	};
	struct xml_node *n;
	char *cause;
	size_t i;

	for (i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		cause = NULL;
		n = xml_parse(bad[i], strlen(bad[i]), &cause);
		if (n != NULL)
			fail_msg("accepted as well-formed: %s", bad[i]);
		assert_non_null(cause);
		free(cause);
	}
}

/* Encodings expat reads for us: a UTF-16 answer (with BOM) and a Latin-1 one come out
 * as UTF-8; entity definitions of any kind (billion laughs, external) are refused. */
static void
t_xml_encodings(void **state)
{
	static const char u16[] = "\xff\xfe<\0a\0>\0\xe9\0<\0/\0a\0>\0";
	static const char l1[] = "<?xml version=\"1.0\" encoding=\"ISO-8859-1\"?><a>\xe9</a>";
	static const char *const bombs[] = {
		"<!DOCTYPE a [<!ENTITY l0 \"x\"><!ENTITY l1 \"&l0;&l0;&l0;&l0;\">]><a>&l1;</a>",
		"<!DOCTYPE a SYSTEM \"file:///etc/passwd\"><a/>",
		"<!DOCTYPE a [<!ENTITY % p SYSTEM \"http://127.0.0.1/\"> %p;]><a/>",
	};
	struct xml_node *n;
	char *cause = NULL;

	n = xml_parse(u16, sizeof u16 - 1, &cause);
	assert_non_null(n);
	assert_string_equal(n->name, "a");
	assert_string_equal(n->text, "\xc3\xa9");
	xml_free(n);
	n = xml_parse(l1, strlen(l1), &cause);
	assert_non_null(n);
	assert_string_equal(n->text, "\xc3\xa9");
	xml_free(n);
	for (size_t i = 0; i < sizeof bombs / sizeof bombs[0]; i++) {
		cause = NULL;
		n = xml_parse(bombs[i], strlen(bombs[i]), &cause);
		if (n != NULL)
			fail_msg("accepted: %s", bombs[i]);
		assert_non_null(strstr(cause, "document type declaration"));
		free(cause);
	}
}

static void
t_xml_deep(void **state)
{
	struct sbuf b;
	struct xml_node *n;
	char *cause = NULL;
	int i;

	sb_init(&b);
	for (i = 0; i < 10000; i++)
		sb_add(&b, "<a>");
	n = xml_parse(b.s, b.len, &cause);
	assert_null(n);
	assert_non_null(cause);
	free(cause);
	sb_free(&b);
}

/* An Outlook answer as the rendered responder writes it (the responder's own shape). */
static char *
outlook_answer(const char *login, const char *spa, const char *imapport)
{
	return xasprintf(
	    "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n"
	    "<Autodiscover xmlns=\"" AD_NS_RESPONSE "\">\n"
	    " <Response xmlns=\"" AD_NS_OUTLOOK "\">\n"
	    "  <Account><AccountType>email</AccountType><Action>settings</Action>\n"
	    "   <Protocol><Type>IMAP</Type><Server>imap.lab.test</Server><Port>%s</Port>"
	    "<DomainRequired>off</DomainRequired><LoginName>%s</LoginName><SPA>%s</SPA>"
	    "<SSL>on</SSL><AuthRequired>on</AuthRequired></Protocol>\n"
	    "   <Protocol><Type>SMTP</Type><Server>smtp.lab.test</Server><Port>587</Port>"
	    "<LoginName>%s</LoginName><SPA>off</SPA><SSL>off</SSL>"
	    "<Encryption>TLS</Encryption><AuthRequired>on</AuthRequired>"
	    "<UsePOPAuth>off</UsePOPAuth><SMTPLast>off</SMTPLast></Protocol>\n"
	    "  </Account>\n </Response>\n</Autodiscover>\n", imapport, login, spa, login);
}

static void
lab_ad(struct autodiscover *ad)
{
	memset(ad, 0, sizeof *ad);
	ad->domain = "lab.test";
	ad->imap.host = "imap.lab.test";
	ad->imap.port = 993;
	ad->imap.enc = ENC_SSL;
	ad->smtp.host = "smtp.lab.test";
	ad->smtp.port = 587;
	ad->smtp.enc = ENC_STARTTLS;
	ad->activesync = "https://mail.lab.test/Microsoft-Server-ActiveSync";
	ad->login = LOGIN_EMAIL;
}

static void
t_ad_outlook(void **state)
{
	struct autodiscover ad;
	struct sbuf p;
	char *a;

	lab_ad(&ad);
	sb_init(&p);
	a = outlook_answer("alice@lab.test", "off", "993");
	assert_int_equal(ad_check_answer(a, strlen(a), &ad, "alice@lab.test", false, &p), 0);
	free(a);

	/* the wrong LoginName: the classic responder bug */
	a = outlook_answer("alice", "off", "993");
	assert_int_equal(ad_check_answer(a, strlen(a), &ad, "alice@lab.test", false, &p), 2);
	assert_non_null(strstr(p.s, "LoginName is \"alice\""));
	free(a);
	/* ... which is right for login = localpart */
	ad.login = LOGIN_LOCALPART;
	sb_reset(&p);
	a = outlook_answer("alice", "off", "993");
	assert_int_equal(ad_check_answer(a, strlen(a), &ad, "alice@lab.test", false, &p), 0);
	free(a);
	ad.login = LOGIN_EMAIL;

	sb_reset(&p);
	a = outlook_answer("alice@lab.test", "on", "143");
	assert_int_equal(ad_check_answer(a, strlen(a), &ad, "alice@lab.test", false, &p), 2);
	assert_non_null(strstr(p.s, "SPA"));
	assert_non_null(strstr(p.s, "Port"));
	free(a);

	/* POP3 in the profile but not in the answer */
	ad.pop3.host = "pop.lab.test";
	ad.pop3.port = 995;
	sb_reset(&p);
	a = outlook_answer("alice@lab.test", "off", "993");
	assert_int_equal(ad_check_answer(a, strlen(a), &ad, "alice@lab.test", false, &p), 1);
	assert_non_null(strstr(p.s, "POP3: missing"));
	free(a);

	/* not XML */
	sb_reset(&p);
	assert_int_equal(ad_check_answer("<html><body>It works", 20, &ad, "a@lab.test",
	    false, &p), -1);
	/* an error answer */
	sb_reset(&p);
	a = xasprintf("<Autodiscover xmlns=\"%s\"><Response><Error><ErrorCode>600"
	    "</ErrorCode><Message>Invalid Request</Message></Error></Response>"
	    "</Autodiscover>", AD_NS_RESPONSE);
	assert_int_equal(ad_check_answer(a, strlen(a), &ad, "a@lab.test", false, &p), 1);
	assert_non_null(strstr(p.s, "600"));
	free(a);
	/* the https namespace Microsoft's docs show after their link rewrite */
	sb_reset(&p);
	a = xasprintf("<Autodiscover xmlns=\"https://schemas.microsoft.com/exchange/"
	    "autodiscover/responseschema/2006\"/>");
	assert_int_equal(ad_check_answer(a, strlen(a), &ad, "a@lab.test", false, &p), 1);
	free(a);
	sb_free(&p);
}

static void
t_ad_mobile(void **state)
{
	struct autodiscover ad;
	struct sbuf p;
	char *a;
	const char *fmt = "<?xml version=\"1.0\"?><Autodiscover xmlns=\"" AD_NS_RESPONSE "\">"
	    "<Response xmlns=\"" AD_NS_MOBILE "\"><Culture>en:en</Culture><User>"
	    "<DisplayName>%s</DisplayName><EMailAddress>%s</EMailAddress></User><Action>"
	    "<Settings><Server><Type>MobileSync</Type><Url>%s</Url><Name>%s</Name></Server>"
	    "</Settings></Action></Response></Autodiscover>";

	lab_ad(&ad);
	sb_init(&p);
	a = xasprintf(fmt, "alice@lab.test", "alice@lab.test", ad.activesync, ad.activesync);
	assert_int_equal(ad_check_answer(a, strlen(a), &ad, "alice@lab.test", true, &p), 0);
	/* checked as outlook, the same answer is wrong */
	assert_true(ad_check_answer(a, strlen(a), &ad, "alice@lab.test", false, &p) > 0);
	free(a);
	sb_reset(&p);
	a = xasprintf(fmt, "bob@lab.test", "bob@lab.test", "https://other/x", "x");
	assert_int_equal(ad_check_answer(a, strlen(a), &ad, "alice@lab.test", true, &p), 2);
	free(a);
	sb_free(&p);
}

static void
t_ad_request(void **state)
{
	char *r = ad_request_body("alice@lab.test", false), *cause = NULL;
	struct xml_node *n = xml_parse(r, strlen(r), &cause);

	assert_non_null(n);
	assert_string_equal(xml_child_text(xml_child(n, "Request"), "EMailAddress"),
	    "alice@lab.test");
	assert_string_equal(xml_child_text(xml_child(n, "Request"),
	    "AcceptableResponseSchema"), AD_NS_OUTLOOK);
	xml_free(n);
	free(r);
}

/* VRFY verdicts: refused, no oracle (252 for both), an oracle, unclear. */
static void
t_vrfy_verdict(void **state)
{
	assert_int_equal(smtp_vrfy_verdict(502, 502), VRFY_REFUSED);
	assert_int_equal(smtp_vrfy_verdict(500, 500), VRFY_REFUSED);
	assert_int_equal(smtp_vrfy_verdict(530, 530), VRFY_REFUSED);
	assert_int_equal(smtp_vrfy_verdict(252, 252), VRFY_NO_ORACLE);
	assert_int_equal(smtp_vrfy_verdict(252, 550), VRFY_ANSWERS);
	assert_int_equal(smtp_vrfy_verdict(250, 250), VRFY_ANSWERS);
	assert_int_equal(smtp_vrfy_verdict(251, 502), VRFY_ANSWERS);
	assert_int_equal(smtp_vrfy_verdict(550, 550), VRFY_ANSWERS);
	assert_int_equal(smtp_vrfy_verdict(502, 252), VRFY_ANSWERS);	/* differs */
	assert_int_equal(smtp_vrfy_verdict(421, 421), VRFY_UNCLEAR);
	assert_int_equal(smtp_vrfy_verdict(501, 501), VRFY_UNCLEAR);
}

static void
t_pop3_capa(void **state)
{
	const char *capa = "TOP\nUIDL\nSTLS\nUSER\nSASL PLAIN LOGIN\n", *args = NULL;

	assert_true(pop3_capa_has(capa, "stls", NULL));
	assert_true(pop3_capa_has(capa, "USER", NULL));
	assert_false(pop3_capa_has(capa, "US", NULL));
	assert_false(pop3_capa_has(capa, "PIPELINING", NULL));
	assert_true(pop3_capa_has(capa, "SASL", &args));
	assert_true(word_in_line(args, "PLAIN"));
	assert_true(word_in_line(args, "login"));
	assert_false(word_in_line(args, "CRAM-MD5"));
	assert_false(word_in_line("PLAINX\nPLAIN", "PLAIN"));	/* one line only */
	assert_true(pop3_capa_has("SASL\n", "SASL", &args));
	assert_false(word_in_line(args, "PLAIN"));
	assert_false(pop3_capa_has("", "USER", NULL));
}

/* A ClientHello whose lengths add up, the suites offered in order, SNI only for a name;
 * ServerHello, alert, short and foreign answers. */
static void
t_tls_hello(void **state)
{
	static const unsigned short suites[] = { 0x000a, 0x002f };
	unsigned char out[512], rnd[32], sh[96];
	struct tls_answer a;
	char *cause = NULL;
	size_t n, n2, i;

	memset(rnd, 7, sizeof rnd);
	n = tls_client_hello(out, sizeof out, suites, 2, "mail.lab.test", rnd);
	assert_true(n > 60);
	assert_int_equal(out[0], 22);
	assert_int_equal((size_t)(out[3] << 8 | out[4]), n - 5);
	assert_int_equal(out[5], 1);
	assert_int_equal((size_t)(out[6] << 16 | out[7] << 8 | out[8]), n - 9);
	assert_int_equal(out[9] << 8 | out[10], 0x0303);
	assert_memory_equal(out + 11, rnd, 32);
	assert_int_equal(out[43], 0);				/* session id */
	assert_int_equal(out[44] << 8 | out[45], 6);		/* 2 suites + SCSV */
	assert_int_equal(out[46] << 8 | out[47], 0x000a);
	assert_int_equal(out[48] << 8 | out[49], 0x002f);
	assert_int_equal(out[50] << 8 | out[51], 0x00ff);
	for (i = 0; i + 13 <= n && memcmp(out + i, "mail.lab.test", 13) != 0; i++)
		;
	assert_true(i + 13 <= n);				/* the SNI is in it */
	n2 = tls_client_hello(out, sizeof out, suites, 2, "127.0.0.1", rnd);
	assert_int_equal(n2, n - 9 - 13);			/* no SNI for an address */
	assert_int_equal(tls_client_hello(out, 40, suites, 2, NULL, rnd), 0);

	/* ServerHello choosing 0x000a with a 32-byte session id */
	memset(sh, 0, sizeof sh);
	sh[0] = 22; sh[1] = 3; sh[2] = 3; sh[3] = 0; sh[4] = 4 + 2 + 32 + 1 + 32 + 2 + 1;
	sh[5] = 2; sh[8] = 2 + 32 + 1 + 32 + 2 + 1;
	sh[9] = 3; sh[10] = 3; sh[43] = 32; sh[76] = 0x00; sh[77] = 0x0a;
	assert_int_equal(tls_answer_parse(sh, 79, &a, &cause), 1);
	assert_int_equal(a.kind, TLS_ANS_HELLO);
	assert_int_equal(a.suite, 0x000a);
	assert_int_equal(a.version, 0x0303);
	for (i = 0; i < 78; i++)	/* every strict prefix: need more */
		assert_int_equal(tls_answer_parse(sh, i, &a, &cause), 0);
	sh[43] = 33;			/* session id too long */
	assert_int_equal(tls_answer_parse(sh, 79, &a, &cause), -1);
	free(cause);
	cause = NULL;
	assert_int_equal(tls_answer_parse((const unsigned char *)"\x15\x03\x03\x00\x02\x02\x28",
	    7, &a, &cause), 1);
	assert_int_equal(a.kind, TLS_ANS_ALERT);
	assert_int_equal(a.alert_desc, 40);
	assert_int_equal(tls_answer_parse((const unsigned char *)"220 smtp ESMTP\r\n", 16, &a,
	    &cause), -1);
	assert_non_null(strstr(cause, "not a TLS record"));
	free(cause);
	cause = NULL;
	/* a handshake message that is not a ServerHello */
	assert_int_equal(tls_answer_parse((const unsigned char *)"\x16\x03\x03\x00\x04\x0b\x00\x00\x00",
	    9, &a, &cause), -1);
	free(cause);
}

static void
t_hsts(void **state)
{
	long long age;
	bool sub;
	char *cause = NULL;

	assert_int_equal(hsts_parse("max-age=31536000; includeSubDomains", &age, &sub,
	    &cause), 0);
	assert_true(age == 31536000);
	assert_true(sub);
	assert_int_equal(hsts_parse(" MAX-AGE = \"300\" ;preload", &age, &sub, &cause), 0);
	assert_true(age == 300);
	assert_false(sub);
	assert_int_equal(hsts_parse("max-age=0", &age, &sub, &cause), 0);
	assert_true(age == 0);
	assert_int_equal(hsts_parse("includeSubDomains", &age, &sub, &cause), -1);
	assert_non_null(strstr(cause, "no max-age"));
	free(cause);
	cause = NULL;
	assert_int_equal(hsts_parse("max-age=1; max-age=2", &age, &sub, &cause), -1);
	free(cause);
	cause = NULL;
	assert_int_equal(hsts_parse("max-age=abc", &age, &sub, &cause), -1);
	free(cause);
	cause = NULL;
	assert_int_equal(hsts_parse("max-age=-5", &age, &sub, &cause), -1);
	free(cause);
	cause = NULL;
	assert_int_equal(hsts_parse("max-age", &age, &sub, &cause), -1);
	free(cause);
	cause = NULL;
	assert_int_equal(hsts_parse("max-age=99999999999999999999999", &age, &sub, &cause),
	    -1);
	free(cause);
}

static void
t_spf(void **state)
{
	struct spf_record rec;
	char *cause = NULL;

	assert_true(spf_is_record("v=spf1 -all"));
	assert_true(spf_is_record("V=SPF1"));
	assert_false(spf_is_record("v=spf10 -all"));
	assert_false(spf_is_record("spf2.0/pra"));
	assert_int_equal(spf_parse("v=spf1 a:smtp.lab.test/24 mx ip4:192.0.2.0/24 "
	    "include:_spf.lab.test ~all redirect=other.test", &rec, &cause), 0);
	assert_int_equal(rec.n, 6);
	assert_int_equal(rec.v[0].qual, '+');
	assert_string_equal(rec.v[0].name, "a");
	assert_string_equal(rec.v[0].value, "smtp.lab.test/24");
	assert_string_equal(rec.v[1].name, "mx");
	assert_string_equal(rec.v[1].value, "");
	assert_string_equal(rec.v[2].value, "192.0.2.0/24");
	assert_string_equal(rec.v[3].name, "include");
	assert_int_equal(rec.v[4].qual, '~');
	assert_string_equal(rec.v[4].name, "all");
	assert_int_equal(rec.v[5].qual, 0);
	assert_string_equal(rec.v[5].name, "redirect");
	assert_string_equal(rec.v[5].value, "other.test");
	spf_record_free(&rec);
	assert_int_equal(spf_parse("v=spf1 A/24 -ALL", &rec, &cause), 0);
	assert_string_equal(rec.v[0].name, "a");		/* names fold */
	assert_string_equal(rec.v[0].value, "/24");
	assert_int_equal(rec.v[1].qual, '-');
	spf_record_free(&rec);
	assert_int_equal(spf_parse("v=spf1 bogus:x -all", &rec, &cause), -1);
	assert_non_null(strstr(cause, "unknown mechanism"));
	free(cause);
	cause = NULL;
	assert_int_equal(spf_parse("v=spf1 redirect=a.test redirect=b.test", &rec, &cause),
	    -1);
	assert_non_null(strstr(cause, "twice"));
	free(cause);
	cause = NULL;
	assert_int_equal(spf_parse("v=spf1 -redirect=a.test", &rec, &cause), -1);
	free(cause);
	cause = NULL;
	assert_int_equal(spf_parse("v=spf1 :x", &rec, &cause), -1);
	free(cause);
	cause = NULL;
	assert_int_equal(spf_parse("hello", &rec, &cause), -1);
	free(cause);
	cause = NULL;
	assert_int_equal(spf_parse("v=spf1", &rec, &cause), 0);	/* no terms: neutral */
	assert_int_equal(rec.n, 0);
	spf_record_free(&rec);
}

static void
t_dmarc(void **state)
{
	char *pol = NULL, *cause = NULL;

	assert_int_equal(dmarc_parse("v=DMARC1; p=reject; rua=mailto:d@lab.test", &pol,
	    &cause), 0);
	assert_string_equal(pol, "reject");
	free(pol);
	assert_int_equal(dmarc_parse("v=DMARC1;p=none", &pol, &cause), 0);
	assert_string_equal(pol, "none");
	free(pol);
	assert_int_equal(dmarc_parse(" v = DMARC1 ; pct=50; p = quarantine ;", &pol, &cause),
	    0);
	assert_string_equal(pol, "quarantine");
	free(pol);
	assert_int_equal(dmarc_parse("v=DMARC1; rua=mailto:d@lab.test", &pol, &cause), -1);
	assert_non_null(strstr(cause, "no p="));
	free(cause);
	cause = NULL;
	assert_int_equal(dmarc_parse("v=DMARC1; p=maybe", &pol, &cause), -1);
	assert_non_null(strstr(cause, "p=maybe"));
	assert_null(pol);
	free(cause);
	cause = NULL;
	assert_int_equal(dmarc_parse("p=reject; v=DMARC1", &pol, &cause), -1);
	free(cause);
	cause = NULL;
	assert_int_equal(dmarc_parse("", &pol, &cause), -1);
	free(cause);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(t_line_take),
		cmocka_unit_test(t_smtp_single),
		cmocka_unit_test(t_smtp_multi),
		cmocka_unit_test(t_smtp_incomplete),
		cmocka_unit_test(t_smtp_garbage),
		cmocka_unit_test(t_imap),
		cmocka_unit_test(t_pop3),
		cmocka_unit_test(t_xml_ok),
		cmocka_unit_test(t_xml_bad),
		cmocka_unit_test(t_xml_deep),
		cmocka_unit_test(t_xml_encodings),
		cmocka_unit_test(t_ad_outlook),
		cmocka_unit_test(t_ad_mobile),
		cmocka_unit_test(t_ad_request),
		cmocka_unit_test(t_vrfy_verdict),
		cmocka_unit_test(t_pop3_capa),
		cmocka_unit_test(t_tls_hello),
		cmocka_unit_test(t_hsts),
		cmocka_unit_test(t_spf),
		cmocka_unit_test(t_dmarc),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
