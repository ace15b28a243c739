/* util.h: allocation that never returns NULL, growable strings, small helpers.
 * Shared by every layer; no global mutable state here. */
#ifndef MXDECK_UTIL_H
#define MXDECK_UTIL_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#define MXDECK_VERSION "0.1.0"

#define nitems(a) (sizeof(a) / sizeof((a)[0]))

/* fatal: for bugs and out-of-memory only. */
_Noreturn void fatal(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

void *xmalloc(size_t n);
void *xcalloc(size_t nmemb, size_t size);
void *xrealloc(void *p, size_t n);
/* Grow an array *pp of *cap elements of size sz so that need elements fit. */
void xgrow(void *pp, size_t *cap, size_t need, size_t sz);
char *xstrdup(const char *s);
char *xstrndup(const char *s, size_t n);
char *xasprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
char *xvasprintf(const char *fmt, va_list ap);

/* Growable byte buffer, always NUL-terminated. */
struct sbuf {
	char	*s;
	size_t	 len;
	size_t	 cap;
};
void sb_init(struct sbuf *b);
void sb_free(struct sbuf *b);
void sb_reset(struct sbuf *b);
void sb_addn(struct sbuf *b, const char *s, size_t n);
void sb_add(struct sbuf *b, const char *s);
void sb_addc(struct sbuf *b, char c);
void sb_addf(struct sbuf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Transfer ownership of the bytes to the caller; b is reset. */
char *sb_steal(struct sbuf *b);

/* A vector of owned strings. */
struct strv {
	char	**v;
	size_t	  n;
	size_t	  cap;
};
void strv_push(struct strv *sv, const char *s);       /* copies s */
void strv_push_owned(struct strv *sv, char *s);       /* takes s */
bool strv_has(const struct strv *sv, const char *s);
void strv_free(struct strv *sv);
/* Split on spaces, tabs and commas; empty words are dropped. */
void strv_split_words(struct strv *sv, const char *s);

/* OpenSSH's wildcard match (match_pattern): '*' any run, '?' one character; nocase
 * for host names (known_hosts), case-sensitive for ssh_config's Host patterns. */
bool wild_match(const char *pat, const char *s, bool nocase);

/* JSON string literal with quotes and escapes (control characters as \u00XX). */
void json_string(FILE *f, const char *s);
/* The one JSON string writer: UTF-8 out whatever comes in (an invalid byte becomes
 * U+FFFD), C0/C1 controls escaped; NULL writes "". */
void sb_json_string(struct sbuf *b, const char *s);
/* The same for len bytes that may hold NULs (written as \u0000). */
void sb_json_stringn(struct sbuf *b, const char *s, size_t len);

/* The one terminal sanitizer. Everything mxdeck shows on a terminal that it did not
 * write itself (a server's reply, a profile or CSV value, a remote file in a diff, a
 * host's message) goes through it, the console included (tty.c asks
 * text_cp_unsafe()):
 * - C0 controls but tab (and newline where the caller allows lines), DEL, the C1
 *   controls U+0080..U+009F (raw or UTF-8) and bytes that are not valid UTF-8 become
 *   a visible "\xNN" per byte;
 * - the bidirectional controls U+061C, U+200E, U+200F, U+202A..U+202E and
 *   U+2066..U+2069 (which reorder what follows them: "Trojan Source") and the line
 *   and paragraph separators U+2028, U+2029 become a visible "\u{XXXX}";
 * - everything else (UTF-8 text) is kept. */
bool text_cp_unsafe(unsigned cp);
char *str_printable(const char *s);
void sb_add_printable(struct sbuf *b, const char *s);
/* The same over len bytes (NULs shown as \x00); newlines kept when keep_nl is true. */
void sb_add_printable_n(struct sbuf *b, const char *s, size_t len, bool keep_nl);
/* fprintf, then the whole text through the sanitizer (newlines kept): for every
 * message and report line that holds text from outside. */
void fprintf_safe(FILE *f, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* String helpers. */
char *str_trim(char *s);                 /* in place, returns s moved past leading space */
bool str_ieq(const char *a, const char *b);
bool str_starts(const char *s, const char *prefix);
bool str_ends(const char *s, const char *suffix);
/* A SHA-256 fingerprint (64 hex digits, with or without ':' between byte pairs) in
 * Postfix's form "AB:CD:...", or NULL when s is not one. */
char *sha256_fingerprint(const char *s);
/* Parse "yes/no/on/off/true/false/1/0"; returns -1 when it is none of them. */
int parse_bool(const char *s);
/* Parse a decimal integer in [lo, hi]; returns -1 (and leaves *out) on error. */
int parse_int(const char *s, long lo, long hi, long *out);

/* Local files mxdeck reads whole, each with a size cap (the one table of them). Every
 * read refuses what is not a regular file (a device such as /dev/zero, a FIFO, a
 * directory, a socket) and a file over its cap, with a message that says what the
 * file is, which file, the limit and what to do. */
enum input_kind {
	IK_PROFILE,		/* the INI profile */
	IK_USERS,		/* the users CSV (millions of lines must work) */
	IK_KNOWN_HOSTS,		/* an OpenSSH known_hosts file */
	IK_IDENTITY,		/* an SSH private key (libssh2 reads it; checked first) */
	IK_CERT,		/* a PEM certificate (chain) read for TLSA records */
	IK_ANCHOR,		/* the DNSSEC trust anchor */
	IK_MESSAGE,		/* a message or header block for the header tester */
	IK_OTHER,		/* anything else: read_file() */
	IK__COUNT
};
struct input_kind_info {
	const char	*what;		/* "the users CSV" */
	size_t		 max;		/* bytes */
	const char	*todo;		/* what to do when the file is over max */
};
extern const struct input_kind_info input_kinds[IK__COUNT];

/* Read a whole regular file of kind k (at most its cap); NUL-terminated, length in
 * *lenp. NULL and *cause (the caller frees it) on failure. */
char *read_input_file(const char *path, enum input_kind k, size_t *lenp, char **cause);
/* The same checks without reading, for files another library opens (identity files):
 * 0 when path is a regular file within the cap of k; -1 and *cause otherwise. An
 * ENOENT leaves errno set. */
int check_input_file(const char *path, enum input_kind k, char **cause);
/* read_input_file(path, IK_OTHER, ...). */
char *read_file(const char *path, size_t *lenp, char **cause);
/* Write a file atomically (temp + fsync + rename) with the given mode; an existing
 * file's owner and group are kept (as far as the user may). A symlink at path is
 * replaced by a regular file, never written through (for backups and other files
 * whose name may be planted). */
int write_file_atomic(const char *path, const char *data, size_t len, unsigned mode, char **cause);
/* Numbered backups of a file the user edits: PATH.bak.1 (newest) .. PATH.bak.KEEP.
 * The older ones move up one number (renames: a backup that is a symlink moves as a
 * link, nothing is written through it), PATH.bak.KEEP is dropped, each kept backup's
 * mode is narrowed to at most mode, and data goes to PATH.bak.1 with mode
 * (write_file_atomic: a symlink planted there is replaced). -1 and *cause on failure:
 * then the backups are as they were or moved up, never lost, and nothing else is
 * written. */
#define BACKUP_KEEP	10
int backup_rotate(const char *path, const char *data, size_t len, unsigned mode, int keep,
    char **cause);
/* The same for a file the user edits (the profile, the users CSV): when path is a
 * symlink, the link stays and its target is replaced atomically (temporary in the
 * target's directory, then rename), keeping the target's owner and group; mode is
 * the target's (the caller stats through the link). */
int write_file_through(const char *path, const char *data, size_t len, unsigned mode,
    char **cause);
/* Plain write in place (create/truncate), no temp file, no fsync: for output trees
 * such as `mxdeck render DIR`, where speed matters and a crash leaves a file to redo. */
int write_file_replace(const char *path, const char *data, size_t len, unsigned mode,
    char **cause);
/* mkdir -p */
int mkdir_p(const char *path, unsigned mode, char **cause);

/* ---- names and addresses: the one host name validator ----
 *
 * hostname_ok(s, flags): a host name in the RFC 1123 sense: labels of 1..63 ASCII
 * letters, digits and '-', not starting or ending with '-', separated by single dots,
 * at most 253 bytes; a name made only of digits and dots must be a dotted-quad IPv4
 * address (so "300.1.1.1" or "1.2.3" is neither). Two switches:
 *   HN_DOT         one trailing dot is allowed (an absolute name). For names mxdeck
 *                  only resolves (a [host] address, a resolver): a resolver takes
 *                  them. Never for names written into generated files (Postfix maps,
 *                  Apache ServerName, nginx server_name, autodiscover XML, zone files),
 *                  where "example.org." is another string than "example.org".
 *   HN_UNDERSCORE  '_' is allowed in a label. For DNS owner and target names in a
 *                  zone (RFC 2181 section 11: any octet is legal in DNS; "_tcp",
 *                  "_mta-sts" are service labels). Never for host names a client
 *                  connects to or a certificate names (hostnames are LDH only).
 * ipv4_ok(), ipv6_ok(): inet_pton's literal forms. */
#define HN_DOT		0x1u
#define HN_UNDERSCORE	0x2u
bool hostname_ok(const char *s, unsigned flags);
bool ipv4_ok(const char *s);
bool ipv6_ok(const char *s);

#endif
