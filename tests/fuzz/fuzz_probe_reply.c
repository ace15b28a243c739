/* fuzz_probe_reply.c: the parsers for what a (hostile) mail server sends the probes:
 * SMTP replies, IMAP response lines, POP3 status lines (libFuzzer).
 *
 * The bytes are read as a stream the way the probes read a socket:
 *  - smtp_reply_parse() repeatedly; each complete reply consumes > 0 and <= the bytes
 *    left, has a code in 200..599 and at least one line, and every strict prefix of
 *    those bytes answers "need more" (0) -- a reply never depends on bytes after it;
 *    the EHLO helpers run over every reply;
 *  - line_take() line by line, each line through imap_line_parse(), imap_has_capability()
 *    and pop3_status();
 *  - the whole input as a server's first TLS record (tls_answer_parse: every prefix of
 *    a parsed answer but the last needs more), as a POP3 CAPA list (pop3_capa_has,
 *    word_in_line), as a Strict-Transport-Security value (hsts_parse), an SPF record
 *    (spf_parse: every term has a name; -1 leaves nothing allocated) and a DMARC record
 *    (dmarc_parse: 0 gives one of the three policies).
 * The stream buffer is size bytes plus a NUL, as in the engine (an sbuf): a parser
 * that reads further is caught by ASan. The reply copies of the prefix check have no
 * NUL after them. OPEN: smtp_reply_parse formats its error with "%.40s" on the raw
 * buffer (parse.c:52), which reads up to 40 bytes past len when no NUL follows; the
 * input is tests/fuzz/regress-open/probe_reply/.
 *
 * Built by tests/fuzz/run.sh. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "backends/probe/parse.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
check(int cond, const char *what)
{
	if (!cond) {
		fprintf(stderr, "fuzz_probe_reply: invariant violated: %s\n", what);
		abort();
	}
}

/* A copy of exactly n bytes in its own allocation, so ASan sees reads past n. */
static char *
exact(const char *p, size_t n)
{
	char *c = malloc(n > 0 ? n : 1);

	if (c == NULL)
		abort();
	memcpy(c, p, n);
	return c;
}

static void
smtp_stream(const char *buf, size_t len)
{
	size_t off = 0;

	while (off < len) {
		struct smtp_reply r;
		char *cause = NULL, enh[16];
		ssize_t n = smtp_reply_parse(buf + off, len - off, &r, &cause);

		if (n <= 0) {
			check(n == 0 || cause != NULL, "smtp_reply_parse: -1 without a cause");
			free(cause);
			break;
		}
		check((size_t)n <= len - off, "smtp_reply_parse consumed more than given");
		check(r.code >= 200 && r.code <= 599, "SMTP code out of range");
		check(r.lines.n >= 1, "SMTP reply without lines");
		(void)smtp_ehlo_has(&r, "STARTTLS");
		(void)smtp_ehlo_has(&r, "");
		(void)smtp_ehlo_param(&r, "AUTH");
		(void)smtp_ehlo_param(&r, "SIZE");
		smtp_enhanced(&r, enh, sizeof enh);
		check(strlen(enh) < sizeof enh, "enhanced status overflow");
		/* Prefixes: the last byte missing, and half of it. */
		for (size_t k = (size_t)n - 1, i = 0; i < 2; k = (size_t)n / 2, i++) {
			struct smtp_reply r2;
			char *c2 = NULL, *pre = exact(buf + off, k);
			ssize_t n2 = smtp_reply_parse(pre, k, &r2, &c2);

			check(n2 == 0, "a prefix of a complete SMTP reply is not \"need more\"");
			smtp_reply_free(&r2);
			free(c2);
			free(pre);
		}
		smtp_reply_free(&r);
		off += (size_t)n;
	}
}

static void
line_stream(const char *buf, size_t len)
{
	size_t off = 0;

	while (off < len) {
		char *line, *cause = NULL;
		ssize_t n = line_take(buf + off, len - off, &line);
		struct imap_line il;

		if (n <= 0) {
			check(line == NULL, "line_take returned a line on failure");
			break;
		}
		check((size_t)n <= len - off, "line_take consumed more than given");
		check(strlen(line) < (size_t)n, "line longer than the bytes consumed");
		if (imap_line_parse(line, &il, &cause) == 0) {
			check(il.tag != NULL && il.status != NULL && il.text != NULL,
			    "imap_line_parse: a part missing");
			(void)imap_has_capability(il.text, "STARTTLS");
			(void)imap_has_capability(il.text, "");
			imap_line_free(&il);
		} else {
			check(cause != NULL, "imap_line_parse: -1 without a cause");
			free(cause);
			cause = NULL;
		}
		(void)imap_has_capability(line, "AUTH=PLAIN");
		if (pop3_status(line, &cause) == -1) {
			check(cause != NULL, "pop3_status: -1 without a cause");
			free(cause);
		}
		free(line);
		off += (size_t)n;
	}
}

static void
tls_stream(const unsigned char *data, size_t size)
{
	unsigned char *c = malloc(size > 0 ? size : 1);
	struct tls_answer a;
	char *cause = NULL;
	int rc;

	if (c == NULL)
		abort();
	memcpy(c, data, size);
	rc = tls_answer_parse(c, size, &a, &cause);
	check(rc != -1 || cause != NULL, "tls_answer_parse: -1 without a cause");
	free(cause);
	cause = NULL;
	if (rc == 1 && size > 0) {
		/* one byte less: never a different verdict than "need more" or the same */
		int r2 = tls_answer_parse(c, size - 1, &a, &cause);

		check(r2 != -1, "tls_answer_parse: a prefix of a good answer is garbage");
		free(cause);
	}
	free(c);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *buf = malloc(size + 1);

	if (buf == NULL)
		abort();
	memcpy(buf, data, size);
	buf[size] = '\0';

	smtp_stream(buf, size);
	line_stream(buf, size);
	tls_stream((const unsigned char *)data, size);
	{
		const char *args = NULL;
		long long age;
		bool sub;
		char *cause = NULL;

		if (pop3_capa_has(buf, "SASL", &args))
			(void)word_in_line(args, "PLAIN");
		(void)pop3_capa_has(buf, "USER", NULL);
		struct spf_record rec;
		char *pol = NULL;

		if (spf_parse(buf, &rec, &cause) == 0) {
			for (size_t i = 0; i < rec.n; i++)
				check(rec.v[i].name[0] != '\0', "spf_parse: a term without a name");
			spf_record_free(&rec);
		} else {
			check(cause != NULL && rec.n == 0 && rec.v == NULL,
			    "spf_parse: -1 without a cause or with terms left");
		}
		free(cause);
		cause = NULL;
		if (dmarc_parse(buf, &pol, &cause) == 0) {
			check(pol != NULL && (strcasecmp(pol, "none") == 0 ||
			    strcasecmp(pol, "quarantine") == 0 || strcasecmp(pol, "reject") == 0),
			    "dmarc_parse: 0 with an unknown policy");
			free(pol);
		} else {
			check(cause != NULL && pol == NULL, "dmarc_parse: -1 without a cause");
		}
		free(cause);
		cause = NULL;
		if (hsts_parse(buf, &age, &sub, &cause) == 0)
			check(age >= 0, "hsts_parse: a negative max-age accepted");
		else
			check(cause != NULL, "hsts_parse: -1 without a cause");
		free(cause);
	}
	free(buf);
	return 0;
}
