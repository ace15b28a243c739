/* tlsproto.h: Postfix and Dovecot TLS protocol settings, parsed the way the daemons
 * parse them at runtime (Postfix only reports a bad list when a TLS session starts:
 * "disabling TLS support"), and formatted in the syntax of the remote version. */
#ifndef MXDECK_TLSPROTO_H
#define MXDECK_TLSPROTO_H

/* Protocol bits, oldest first. */
enum tls_proto {
	TLSP_SSLV2, TLSP_SSLV3, TLSP_TLSV1, TLSP_TLSV1_1, TLSP_TLSV1_2, TLSP_TLSV1_3,
	TLSP_COUNT
};
#define TLSP_BIT(p)	(1u << (p))
#define TLSP_ALL	((1u << TLSP_COUNT) - 1)
extern const char *const tls_proto_names[TLSP_COUNT];	/* "SSLv2" ... "TLSv1.3" */

/* Parse a Postfix smtp(d)_tls_(mandatory_)protocols value, either syntax:
 * ">=TLSv1.2", "<=TLSv1.3", ">=TLSv1, <=TLSv1.2", "!SSLv2, !SSLv3", "TLSv1.2 TLSv1.3",
 * separators comma, space, colon. Names are case-sensitive as in Postfix. *mask gets
 * the set of ENABLED protocols (TLSP_BIT). An empty list enables every protocol.
 * -1 + *cause on anything Postfix would reject (unknown name, ">=" without a version,
 * a list that enables nothing). */
int tls_protocols_parse(const char *list, unsigned *mask, char **cause);

/* Format an enabled set for a Postfix version: ">=TLSv1.2" (with "<=X" when capped)
 * for >= 3.6 when the set is a contiguous range, otherwise the exclusion list
 * "!SSLv2, !SSLv3, !TLSv1, !TLSv1.1". postfix_version NULL means
 * POSTFIX_VERSION_DEFAULT. The result is heap-allocated. */
char *tls_protocols_format(unsigned mask, const char *postfix_version);

/* Dovecot 2.3 ssl_min_protocol: SSLv3 TLSv1 TLSv1.1 TLSv1.2 TLSv1.3 ANY. doveconf does
 * not reject a bad value (e.g. "TLS1.2"); 0 when valid, else -1 + *cause. */
int dovecot_protocol_check(const char *v, char **cause);

#endif
