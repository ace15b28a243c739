/* parse.h: parsers for what servers send the probes. Pure functions over bytes, no I/O,
 * unit-tested in tests/unit/test_probe_parse.c and meant to be fuzzed. */
#ifndef MXDECK_PROBE_PARSE_H
#define MXDECK_PROBE_PARSE_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "profiles/site.h"
#include "profiles/util.h"

#define PARSE_MAX_LINE	4096	/* longer lines are garbage, not a reply */

/* One line at the start of buf ending in "\n" (a preceding "\r" is dropped). Returns
 * the bytes consumed including the newline, 0 when no newline yet (and buf is shorter
 * than PARSE_MAX_LINE), -1 when the line is too long or contains a NUL. *line is a
 * fresh heap string. */
ssize_t line_take(const char *buf, size_t len, char **line);

/* SMTP reply (RFC 5321 4.2): "ddd-text" lines ending with "ddd text" or "ddd". */
struct smtp_reply {
	int	 code;		/* 200..599 */
	struct strv lines;	/* the text of each line, without code and separator */
};
/* Returns bytes consumed (> 0) for one complete reply, 0 when more bytes are needed,
 * -1 + *cause when the bytes are not an SMTP reply. */
ssize_t smtp_reply_parse(const char *buf, size_t len, struct smtp_reply *r, char **cause);
void smtp_reply_free(struct smtp_reply *r);
/* Does an EHLO reply advertise KEYWORD (case-insensitive; lines after the first)? */
bool smtp_ehlo_has(const struct smtp_reply *r, const char *keyword);
/* The parameters of an EHLO keyword ("AUTH" -> "PLAIN LOGIN"), NULL if absent. Also
 * understands the old "AUTH=PLAIN" form. Points into r. */
const char *smtp_ehlo_param(const struct smtp_reply *r, const char *keyword);
/* Enhanced status code ("5.7.1") at the start of the first line, or "" (static buffer
 * in out, at least 16 bytes). */
void smtp_enhanced(const struct smtp_reply *r, char *out, size_t len);

/* How an SMTP server answered VRFY (or EXPN) for an address that exists
 * (postmaster@) and one that cannot: */
enum vrfy_verdict {
	VRFY_REFUSED,		/* 500 502 504 (not implemented / disabled), 530 554 */
	VRFY_NO_ORACLE,		/* the same 252 "cannot verify" for both: nothing learnt */
	VRFY_ANSWERS,		/* 250/251, or different answers: an address oracle */
	VRFY_UNCLEAR,		/* 4xx, 501 and the like */
};
enum vrfy_verdict smtp_vrfy_verdict(int code_known, int code_unknown);

/* IMAP response line (RFC 9051): tag ("*", "+" or the client's tag), status word
 * (OK NO BAD BYE PREAUTH, or "" for other untagged data), and the rest. */
struct imap_line {
	char	*tag;
	char	*status;
	char	*text;
};
/* Parse one complete line (no newline). -1 + *cause when it is not IMAP. */
int imap_line_parse(const char *line, struct imap_line *l, char **cause);
void imap_line_free(struct imap_line *l);
/* Does an untagged CAPABILITY line or a [CAPABILITY ...] response code list CAP? */
bool imap_has_capability(const char *text, const char *cap);

/* POP3 status line: 1 for "+OK", 0 for "-ERR", -1 + *cause otherwise. */
int pop3_status(const char *line, char **cause);

/* POP3 CAPA (RFC 2449): does the capability list (one capability per line, lines
 * joined by '\n', without the terminating ".") name CAP (case-insensitive, the first
 * word of a line)? When args is not NULL it points at the rest of that line. */
bool pop3_capa_has(const char *capa, const char *cap, const char **args);
/* Is WORD one of the space-separated words at the start of s (up to a newline)? */
bool word_in_line(const char *s, const char *word);

/* A TLS 1.2 ClientHello record (RFC 5246 §7.4.1.2) offering exactly the n cipher
 * suites (plus the renegotiation SCSV), with SNI when sni is a host name, the usual
 * groups, point formats and signature algorithms, and the caller's 32 random bytes;
 * for asking a server whether it accepts suites this machine's libssl cannot offer.
 * Returns its length, 0 when out (cap bytes) is too small. */
size_t tls_client_hello(unsigned char *out, size_t cap, const unsigned short *suites,
    size_t n, const char *sni, const unsigned char random[32]);
/* The first TLS record a server answers a ClientHello with. */
struct tls_answer {
	enum { TLS_ANS_HELLO, TLS_ANS_ALERT } kind;
	unsigned version;	/* HELLO: the version chosen (0x0303: TLS 1.2) */
	unsigned suite;		/* HELLO: the cipher suite chosen */
	int	 alert_level, alert_desc;	/* ALERT */
};
/* 1 with *a filled, 0 when more bytes are needed, -1 + *cause when the bytes are not a
 * ServerHello or an alert. */
int tls_answer_parse(const unsigned char *b, size_t n, struct tls_answer *a,
    char **cause);

/* A Strict-Transport-Security header value (RFC 6797 §6.1): 0 with *max_age and
 * *subdomains, -1 + *cause when it is not valid (no max-age, a directive twice, a
 * max-age that is not a number). */
int hsts_parse(const char *value, long long *max_age, bool *subdomains, char **cause);

/* An SPF record (RFC 7208 §4.6): "v=spf1" then terms. A mechanism has a qualifier
 * ('+' '-' '~' '?'), a lower-case name (all include a mx ptr ip4 ip6 exists) and the
 * text after ':' or '/' ("" when none, the '/' kept: "example.org/24", "/24");
 * a modifier (redirect exp, or any other name) has qualifier 0 and the text after '='. */
struct spf_term {
	char	 qual;
	char	*name;
	char	*value;
};
struct spf_record {
	struct spf_term *v;
	size_t	 n;
};
/* 0, or -1 + *cause (not "v=spf1", an unknown mechanism, a modifier twice, a term
 * that is not a mechanism or name=value). */
int spf_parse(const char *txt, struct spf_record *rec, char **cause);
void spf_record_free(struct spf_record *rec);
/* "v=spf1" followed by a space or the end (case-insensitive): an SPF record. */
bool spf_is_record(const char *txt);
/* A DMARC record (RFC 7489 §6.3): tag=value pairs separated by ';', first v=DMARC1.
 * 0 with *policy (a fresh copy of p=: none quarantine reject), -1 + *cause. */
int dmarc_parse(const char *txt, char **policy, char **cause);

/* A small XML parser: enough to decide well-formedness (one root, matched tags,
 * quoted attributes, entities, comments, PIs, CDATA) and walk the elements. */
struct xml_node {
	char	*name;		/* local name (prefix removed) */
	char	*ns;		/* namespace URI in scope, "" when none */
	char	*text;		/* concatenated character data, entities decoded */
	struct xml_node *parent, *child, *next;
};
struct xml_node *xml_parse(const char *buf, size_t len, char **cause);
void xml_free(struct xml_node *n);
const struct xml_node *xml_child(const struct xml_node *n, const char *name);
/* "Response/Account/Action" below n; NULL if missing. */
const struct xml_node *xml_path(const struct xml_node *n, const char *path);
/* The trimmed text of a child element, or NULL. */
const char *xml_child_text(const struct xml_node *n, const char *name);

#define AD_NS_RESPONSE	"http://schemas.microsoft.com/exchange/autodiscover/responseschema/2006"
#define AD_NS_OUTLOOK	"http://schemas.microsoft.com/exchange/autodiscover/outlook/responseschema/2006a"
#define AD_NS_MOBILE	"http://schemas.microsoft.com/exchange/autodiscover/mobilesync/responseschema/2006"
#define AD_NS_REQ_OUTLOOK	"http://schemas.microsoft.com/exchange/autodiscover/outlook/requestschema/2006"
#define AD_NS_REQ_MOBILE	"http://schemas.microsoft.com/exchange/autodiscover/mobilesync/requestschema/2006"

/* Check an Autodiscover answer against the profile: well-formed XML, the right
 * namespaces, each configured protocol with its server, port, encryption, SPA off,
 * AuthRequired on, LoginName (the posted address, or its local part for
 * login = localpart); for mobilesync the user's address and the ActiveSync URL.
 * Returns the number of problems (each one line added to *problems), or -1 when the
 * body is not well-formed XML (the reason in *problems). */
int ad_check_answer(const char *body, size_t len, const struct autodiscover *ad,
    const char *email, bool mobilesync, struct sbuf *problems);

/* The POX request body for EMAIL and the chosen schema (caller frees). */
char *ad_request_body(const char *email, bool mobilesync);

#endif
