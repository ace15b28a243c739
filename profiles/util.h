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

/* JSON string literal with quotes and escapes (control characters as \u00XX). */
void json_string(FILE *f, const char *s);
void sb_json_string(struct sbuf *b, const char *s);

/* Text from outside (a server's reply, a file) made safe to print on a terminal:
 * C0 controls but tab, DEL, the C1 controls U+0080..U+009F and bytes that are not
 * valid UTF-8 become a visible "\xNN"; everything else (UTF-8 text) is kept. */
char *str_printable(const char *s);
void sb_add_printable(struct sbuf *b, const char *s);

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

/* Read a whole file; returns NULL and sets *cause on failure. */
char *read_file(const char *path, size_t *lenp, char **cause);
/* Write a file atomically (temp + fsync + rename) with the given mode. */
int write_file_atomic(const char *path, const char *data, size_t len, unsigned mode, char **cause);
/* Plain write in place (create/truncate), no temp file, no fsync: for output trees
 * such as `mxdeck render DIR`, where speed matters and a crash leaves a file to redo. */
int write_file_replace(const char *path, const char *data, size_t len, unsigned mode,
    char **cause);
/* mkdir -p */
int mkdir_p(const char *path, unsigned mode, char **cause);

#endif
