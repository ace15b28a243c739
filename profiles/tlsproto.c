/* tlsproto.c: TLS protocol lists for Postfix and Dovecot, and Postfix version order.
 *
 * Postfix (tls_misc.c, tls_protocol_mask / tls_proto_mask_lims) splits the list on
 * comma, space and colon; "!NAME" excludes, "NAME" includes (a non-empty include set
 * excludes every other known protocol), and since 3.6 ">=V" / "<=V" set the floor and
 * ceiling. Names are matched case-sensitively; an unknown name or a bound without a
 * version makes the whole list invalid, which Postfix only notices when a TLS session
 * starts ("disabling TLS support"). */
#include "profiles/tlsproto.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "profiles/site.h"

const char *const tls_proto_names[TLSP_COUNT] = {
	[TLSP_SSLV2] = "SSLv2",
	[TLSP_SSLV3] = "SSLv3",
	[TLSP_TLSV1] = "TLSv1",
	[TLSP_TLSV1_1] = "TLSv1.1",
	[TLSP_TLSV1_2] = "TLSv1.2",
	[TLSP_TLSV1_3] = "TLSv1.3",
};

static int
proto_lookup(const char *name, size_t len)
{
	for (int i = 0; i < TLSP_COUNT; i++)
		if (strlen(tls_proto_names[i]) == len &&
		    strncmp(tls_proto_names[i], name, len) == 0)
			return i;
	return -1;
}

/* Suggest the right spelling for near misses (case, "TLS1.2", "TLSv1_2"). */
static const char *
proto_hint(const char *name, size_t len)
{
	char buf[32];
	size_t j = 0;

	for (size_t i = 0; i < len && j < sizeof buf - 1; i++) {
		char c = (char)tolower((unsigned char)name[i]);

		if (c == 'v' || c == '_' || c == '-' || c == '.')
			continue;
		buf[j++] = c;
	}
	buf[j] = '\0';
	if (strcmp(buf, "ssl2") == 0)	return "SSLv2";
	if (strcmp(buf, "ssl3") == 0)	return "SSLv3";
	if (strcmp(buf, "tls1") == 0 || strcmp(buf, "tls10") == 0) return "TLSv1";
	if (strcmp(buf, "tls11") == 0)	return "TLSv1.1";
	if (strcmp(buf, "tls12") == 0)	return "TLSv1.2";
	if (strcmp(buf, "tls13") == 0)	return "TLSv1.3";
	return NULL;
}

static void
unknown_cause(char **cause, const char *list, const char *tok, size_t len)
{
	const char *hint = proto_hint(tok, len);

	if (hint != NULL)
		*cause = xasprintf("TLS protocol list \"%s\": unknown protocol \"%.*s\" "
		    "(did you mean %s?); Postfix would disable TLS", list, (int)len, tok, hint);
	else
		*cause = xasprintf("TLS protocol list \"%s\": unknown protocol \"%.*s\"; "
		    "known: SSLv2 SSLv3 TLSv1 TLSv1.1 TLSv1.2 TLSv1.3", list, (int)len, tok);
}

int
tls_protocols_parse(const char *list, unsigned *mask, char **cause)
{
	unsigned include = 0, exclude = 0, enabled;
	int floor = -1, ceiling = -1;
	const char *p = list, *tok;
	size_t len;

	if (list == NULL)
		list = p = "";
	for (;;) {
		while (*p == ',' || *p == ' ' || *p == '\t' || *p == ':')
			p++;
		if (*p == '\0')
			break;
		tok = p;
		while (*p != '\0' && *p != ',' && *p != ' ' && *p != '\t' && *p != ':')
			p++;
		len = (size_t)(p - tok);
		if (tok[0] == '!') {
			int i = proto_lookup(tok + 1, len - 1);

			if (i == -1) {
				unknown_cause(cause, list, tok + 1, len - 1);
				return -1;
			}
			exclude |= TLSP_BIT(i);
		} else if (len >= 2 && (strncmp(tok, ">=", 2) == 0 ||
		    strncmp(tok, "<=", 2) == 0)) {
			int i = proto_lookup(tok + 2, len - 2);

			if (len == 2) {
				*cause = xasprintf("TLS protocol list \"%s\": \"%.2s\" without "
				    "a version (write \"%.2sTLSv1.2\" without a space); Postfix "
				    "would disable TLS", list, tok, tok);
				return -1;
			}
			if (i == -1 || i == TLSP_SSLV2) {
				if (i == TLSP_SSLV2)
					*cause = xasprintf("TLS protocol list \"%s\": SSLv2 "
					    "cannot be a version bound", list);
				else
					unknown_cause(cause, list, tok + 2, len - 2);
				return -1;
			}
			if (tok[0] == '>')
				floor = i;
			else
				ceiling = i;
		} else {
			int i = proto_lookup(tok, len);

			if (i == -1) {
				unknown_cause(cause, list, tok, len);
				return -1;
			}
			include |= TLSP_BIT(i);
		}
	}
	if (include != 0)
		exclude |= TLSP_ALL & ~include;
	enabled = TLSP_ALL & ~exclude;
	for (int i = 0; i < TLSP_COUNT; i++) {
		if (floor != -1 && i < floor)
			enabled &= ~TLSP_BIT(i);
		if (ceiling != -1 && i > ceiling)
			enabled &= ~TLSP_BIT(i);
	}
	if (enabled == 0) {
		*cause = xasprintf("TLS protocol list \"%s\" enables no protocol", list);
		return -1;
	}
	*mask = enabled;
	return 0;
}

char *
tls_protocols_format(unsigned mask, const char *postfix_version)
{
	struct sbuf b;
	int lo = -1, hi = -1;
	bool contiguous = true;

	if (postfix_version == NULL)
		postfix_version = POSTFIX_VERSION_DEFAULT;
	mask &= TLSP_ALL;
	sb_init(&b);
	sb_addn(&b, "", 0);
	/* Bounds cover SSLv3..TLSv1.3; SSLv2 is below every floor. */
	for (int i = TLSP_SSLV3; i < TLSP_COUNT; i++) {
		if ((mask & TLSP_BIT(i)) == 0)
			continue;
		if (lo == -1)
			lo = i;
		else if (hi != i - 1)
			contiguous = false;
		hi = i;
	}
	if (lo == -1 || ((mask & TLSP_BIT(TLSP_SSLV2)) && lo != TLSP_SSLV3))
		contiguous = false;
	if (postfix_version_cmp(postfix_version, "3.6") >= 0 && contiguous &&
	    (mask & TLSP_BIT(TLSP_SSLV2)) == 0) {
		/* Without a floor SSLv2 would be in the set: always write it. */
		sb_addf(&b, ">=%s", tls_proto_names[lo]);
		if (hi < TLSP_TLSV1_3)
			sb_addf(&b, ", <=%s", tls_proto_names[hi]);
		return sb_steal(&b);
	}
	for (int i = 0; i < TLSP_COUNT; i++)
		if ((mask & TLSP_BIT(i)) == 0)
			sb_addf(&b, "%s!%s", b.len > 0 ? ", " : "", tls_proto_names[i]);
	return sb_steal(&b);
}

int
dovecot_protocol_check(const char *v, char **cause)
{
	static const char *const ok[] = {
		"ANY", "SSLv3", "TLSv1", "TLSv1.1", "TLSv1.2", "TLSv1.3",
	};
	const char *hint;

	if (v == NULL)
		v = "";
	for (size_t i = 0; i < nitems(ok); i++)
		if (strcmp(v, ok[i]) == 0)
			return 0;
	hint = proto_hint(v, strlen(v));
	if (hint != NULL && strcmp(hint, "SSLv2") != 0)
		*cause = xasprintf("ssl_min_protocol \"%s\" is not valid (did you mean %s?); "
		    "doveconf does not notice, TLS would fail at runtime", v, hint);
	else
		*cause = xasprintf("ssl_min_protocol \"%s\" is not valid; use one of ANY "
		    "SSLv3 TLSv1 TLSv1.1 TLSv1.2 TLSv1.3", v);
	return -1;
}

/* Next numeric component of a version string; stops at the first character that is
 * neither a digit nor a dot (e.g. "-RC1", "-20230101"). */
static unsigned long
version_next(const char **pp)
{
	const char *p = *pp;
	unsigned long n = 0;

	if (!isdigit((unsigned char)*p)) {
		*pp = p;
		return 0;
	}
	while (isdigit((unsigned char)*p)) {
		if (n < 100000000ul)
			n = n * 10 + (unsigned long)(*p - '0');
		p++;
	}
	if (*p == '.' && isdigit((unsigned char)p[1]))
		p++;
	*pp = p;
	return n;
}

int
postfix_version_cmp(const char *a, const char *b)
{
	if (a == NULL)
		a = POSTFIX_VERSION_DEFAULT;
	if (b == NULL)
		b = POSTFIX_VERSION_DEFAULT;
	while (isdigit((unsigned char)*a) || isdigit((unsigned char)*b)) {
		unsigned long x = version_next(&a), y = version_next(&b);

		if (x != y)
			return x < y ? -1 : 1;
	}
	return 0;
}
