/* fuzz_tlsproto.c: the version and protocol-list parsers plan and lint rely on
 * (libFuzzer): postfix_version_cmp() on version strings as `postconf -h mail_version`
 * prints them (or anything a host sends), tls_protocols_parse() and
 * dovecot_protocol_check() on profile values.
 *
 * Input: up to three NUL-separated strings a, b, c. Invariants: postfix_version_cmp
 * is reflexive (a == a) and antisymmetric (sign(a,b) == -sign(b,a)) and transitive on
 * the three; a protocol list that parses yields a mask within TLSP_ALL; for every
 * non-empty mask, tls_protocols_format() for the version a (and for NULL) parses back to
 * the same mask.
 *
 * Built by tests/fuzz/run.sh. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "profiles/site.h"
#include "profiles/tlsproto.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
check(int cond, const char *what)
{
	if (!cond) {
		fprintf(stderr, "fuzz_tlsproto: invariant violated: %s\n", what);
		abort();
	}
}

static int
sign(int v)
{
	return v < 0 ? -1 : v > 0;
}

static void
roundtrip(unsigned mask, const char *version)
{
	char *s = tls_protocols_format(mask, version), *cause = NULL;
	unsigned back = 0;

	if (tls_protocols_parse(s, &back, &cause) != 0) {
		fprintf(stderr, "format(0x%x, %s) = \"%s\" does not parse: %s\n", mask,
		    version ? version : "NULL", s, cause);
		abort();
	}
	if (back != mask)
		fprintf(stderr, "format(0x%x, %s) = \"%s\" parses as 0x%x\n", mask,
		    version ? version : "NULL", s, back);
	check(back == mask, "tls_protocols_format does not parse back to its mask");
	free(s);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *copy = malloc(size + 1), *s[3] = { "", "", "" }, *cause = NULL;
	size_t n = 0;
	unsigned mask = 0;

	if (copy == NULL)
		abort();
	memcpy(copy, data, size);
	copy[size] = '\0';
	for (char *p = copy; n < 3 && p <= copy + size; p += strlen(p) + 1)
		s[n++] = p;

	check(postfix_version_cmp(s[0], s[0]) == 0, "version cmp not reflexive");
	check(sign(postfix_version_cmp(s[0], s[1])) == -sign(postfix_version_cmp(s[1], s[0])),
	    "version cmp not antisymmetric");
	if (postfix_version_cmp(s[0], s[1]) <= 0 && postfix_version_cmp(s[1], s[2]) <= 0)
		check(postfix_version_cmp(s[0], s[2]) <= 0, "version cmp not transitive");

	for (int i = 0; i < 3; i++) {
		if (tls_protocols_parse(s[i], &mask, &cause) == 0) {
			check((mask & ~TLSP_ALL) == 0, "mask beyond TLSP_ALL");
			check(mask != 0, "a list that enables nothing parsed");
		} else {
			check(cause != NULL, "tls_protocols_parse: -1 without a cause");
			free(cause);
			cause = NULL;
		}
		if (dovecot_protocol_check(s[i], &cause) != 0) {
			check(cause != NULL, "dovecot_protocol_check: -1 without a cause");
			free(cause);
			cause = NULL;
		}
	}
	mask = size > 0 ? data[0] & TLSP_ALL : 0;
	if (mask != 0) {
		roundtrip(mask, s[0]);
		roundtrip(mask, NULL);
	}
	free(copy);
	return 0;
}
