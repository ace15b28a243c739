/* fuzz_autodiscover.c: the XML parser and the Autodiscover answer check the HTTP probe
 * runs on what a (hostile) web server answers (libFuzzer).
 *
 * Every input goes through xml_parse() (and a walk of the tree with xml_path(),
 * xml_child_text()) and ad_check_answer() for both schemas against a fixed profile
 * section. Invariants: xml_parse() returns a tree or a cause, never both or neither;
 * every node has a name and a namespace; ad_check_answer() returns -1 exactly when
 * xml_parse() fails, else the number of problem lines it wrote. Finally
 * ad_request_body() for an address taken from the input (printable ASCII without
 * XML specials) must parse back to that address.
 *
 * Built by tests/fuzz/run.sh. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "backends/probe/parse.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
check(int cond, const char *what)
{
	if (!cond) {
		fprintf(stderr, "fuzz_autodiscover: invariant violated: %s\n", what);
		abort();
	}
}

static size_t
walk(const struct xml_node *n, int depth)
{
	size_t count = 0;

	for (; n != NULL; n = n->next) {
		check(n->name != NULL && n->ns != NULL, "a node without name or namespace");
		check(depth < 10000, "tree deeper than 10000");
		(void)xml_child_text(n, "Type");
		(void)xml_path(n, "Response/Account/Protocol");
		count += 1 + walk(n->child, depth + 1);
	}
	return count;
}

static size_t
count_lines(const struct sbuf *b)
{
	size_t n = 0;

	for (size_t i = 0; i < b->len; i++)
		n += b->s[i] == '\n';
	return n;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *buf = malloc(size + 1), *cause = NULL;
	struct autodiscover ad;
	struct xml_node *root;
	int parsed;

	if (buf == NULL)
		abort();
	memcpy(buf, data, size);
	buf[size] = '\0';	/* as the HTTP probe's body buffer (an sbuf) */

	root = xml_parse(buf, size, &cause);
	check((root == NULL) != (cause == NULL), "xml_parse: tree and cause disagree");
	parsed = root != NULL;
	if (root != NULL) {
		(void)walk(root, 0);
		xml_free(root);
	}
	free(cause);

	memset(&ad, 0, sizeof ad);
	ad.domain = (char *)"example.org";
	ad.imap = (struct endpoint){ .host = (char *)"imap.example.org", .port = 993,
	    .enc = ENC_SSL };
	ad.pop3 = (struct endpoint){ .host = (char *)"pop.example.org", .port = 110,
	    .enc = ENC_STARTTLS };
	ad.smtp = (struct endpoint){ .host = (char *)"smtp.example.org", .port = 465,
	    .enc = ENC_SSL };
	ad.activesync = (char *)"https://mail.example.org/Microsoft-Server-ActiveSync";
	for (int mobile = 0; mobile < 2; mobile++) {
		struct sbuf problems;
		int n;

		sb_init(&problems);
		ad.login = mobile ? LOGIN_LOCALPART : LOGIN_EMAIL;
		n = ad_check_answer(buf, size, &ad, "alice@example.org", mobile, &problems);
		/* Not n == count_lines(): a problem line quotes the server's text, which
		 * may hold newlines and other control bytes (reported: the text should be
		 * made printable before it reaches a terminal). */
		if (parsed)
			check(n >= 0 && (n == 0) == (problems.len == 0) &&
			    count_lines(&problems) >= (size_t)n,
			    "ad_check_answer: count and problem lines disagree");
		else
			check(n == -1 && problems.len > 0, "ad_check_answer accepted bad XML");
		sb_free(&problems);
	}

	/* The request body for an address from the input. */
	{
		char email[65];
		size_t el = 0;
		char *body, *why = NULL;
		struct xml_node *req;

		for (size_t i = 0; i < size && el < sizeof email - 1; i++) {
			unsigned char c = data[i];

			if (c > 0x20 && c < 0x7f && c != '<' && c != '&' && c != '>')
				email[el++] = (char)c;
		}
		email[el] = '\0';
		body = ad_request_body(email, size % 2);
		req = xml_parse(body, strlen(body), &why);
		check(req != NULL, "ad_request_body is not well-formed XML");
		check(strcmp(xml_child_text(xml_child(req, "Request"), "EMailAddress") ?
		    xml_child_text(xml_child(req, "Request"), "EMailAddress") : "",
		    email) == 0 || el == 0, "ad_request_body does not carry the address");
		xml_free(req);
		free(body);
	}
	free(buf);
	return 0;
}
