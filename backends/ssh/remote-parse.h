/* remote-parse.h: pure parsers for the bytes push.c reads back from a host.
 *
 * Everything a managed host sends is untrusted: the output of postconf (settings,
 * master.cf entries, -P parameters, mail_version), the lock owner file, the temps and
 * txn lists, a backup manifest, the reload status lines and the backup directory
 * listing. Each is parsed here, by functions that do no I/O and keep no state, so that
 * tests/unit/test_remote_parse.c and tests/fuzz/fuzz_remote.c can feed them anything.
 *
 * Contracts common to every function below:
 *  - the input is (buf, len): any bytes, NULs included, no newline needed at the end;
 *    buf may be NULL when len is 0;
 *  - a line ends at '\n'; a '\r' before it is a blank where blanks are allowed;
 *  - every string returned or stored in a result is owned by the caller (or by the
 *    result, freed by its _free function), NUL-terminated and free of NUL bytes;
 *  - malformed input is skipped or reported in the result, never a crash; memory and
 *    time are linear in len. */
#ifndef MXDECK_REMOTE_PARSE_H
#define MXDECK_REMOTE_PARSE_H

#include <stdbool.h>
#include <stddef.h>

#include "profiles/util.h"

/* Blanks (space, tab, CR, LF, VT, FF and NUL) collapsed to one space; none leading or
 * trailing. Idempotent: rp_normalize(out) == out. */
char *rp_normalize(const char *buf, size_t len);

/* A normalized master.cf entry without its "-o name=value" and "-oname=value" words
 * (a last "-o" without a value goes too). */
char *rp_strip_o(const char *entry);

/* ---- postconf output ---- */

enum rp_postconf {
	RP_POSTCONF_MAIN,	/* `postconf NAME...`: "name = value" */
	RP_POSTCONF_MASTER,	/* `postconf -M NAME/TYPE...`: "name type private ... cmd" */
	RP_POSTCONF_PARAM,	/* `postconf -P S/T/P...`: "service/type/name = value" */
};

struct rp_kv {
	char	*key;
	char	*value;
};

struct rp_kvs {
	struct rp_kv *v;
	size_t	 n, cap;
};

/* Append the entries of one postconf output to out; returns how many were added.
 * MAIN and PARAM: the key is the line up to the first " =" as printed, the value what
 * follows it, normalized (so "a = b = c" is key "a", value "b = c"). MASTER: the key
 * is "name/type" (the first two words), the value the normalized entry without its -o
 * options; an entry of fewer than three words, or whose name or type holds a '/', is
 * skipped. Lines that hold a NUL byte,
 * have no " =" (MAIN, PARAM) or an empty key are skipped. */
size_t rp_postconf_parse(enum rp_postconf kind, const char *buf, size_t len,
    struct rp_kvs *out);
void rp_kvs_free(struct rp_kvs *kvs);

/* The output of `postconf -h mail_version`: the version ("3.7.11", "3.9-20240105"), or
 * NULL when the output, blanks trimmed, is not one word of at most 64 bytes that starts
 * with a digit and holds only [0-9A-Za-z.+_-]. */
char *rp_mail_version(const char *buf, size_t len);

/* ---- the lock directory ---- */

/* The value of the first line "KEY=value" of a lock owner file (a trailing '\r' is
 * dropped); NULL when there is none. A line holding a NUL byte is skipped. */
char *rp_owner_field(const char *buf, size_t len, const char *key);

/* A pid as the owner file writes it: 1-10 decimal digits, 1..2147483647. 0 and *pid set,
 * or -1. */
int rp_parse_pid(const char *s, long *pid);

/* The percent encoding of names in the temps, txn, manifest and journal files: bytes
 * other than [A-Za-z0-9/._-] become %XX (upper-case hex). */
void rp_pct_encode(struct sbuf *b, const char *s);

/* The reverse for n bytes of s: %XX with two hex digits is that byte, any other '%'
 * stays as it is. NULL when the result would hold a NUL byte (a literal one or %00).
 * rp_pct_decode(rp_pct_encode(s)) == s for every NUL-free s. */
char *rp_pct_decode(const char *s, size_t n);

/* Each non-empty line (trailing '\r' dropped), decoded; lines that do not decode are
 * skipped. Appended to out. */
void rp_pct_lines(const char *buf, size_t len, struct strv *out);

/* ---- the transaction mark (STATE/lock/txn) and the journal ----
 *
 *	BACKUPDIR			first line: the backup directory of the transaction
 *	POST HEX PATH			the sha256 (64 lower-case hex digits) of PATH's new
 *					content (each whole line percent-encoded)
 *
 * rp_txn_parse: *backup gets the first line decoded (NULL when there is none: an empty
 * mark); every valid POST line appends "HEX PATH" (HEX at [0, 64), PATH from 65) to
 * post; other lines are skipped. */
void rp_txn_parse(const char *buf, size_t len, char **backup, struct strv *post);

/* Does the journal (one line per apply: "... backup=PCT(BACKUP) ...") hold an entry for
 * backup? Only a whole " backup=WORD " field counts. */
bool rp_journal_has_backup(const char *buf, size_t len, const char *backup);

/* ---- backup manifests (STATE/backup/STAMP/manifest, written by backup() in push.c) ----
 *
 *	F MODE NAME PATH [UID GID]	file PATH was saved as NAME in the backup directory
 *	N PATH				file PATH was new (restore removes it)
 *	NL PATH				symlink PATH was new
 *	L TARGET PATH			symlink PATH pointed to TARGET
 *	D PATH				directory PATH was created by the apply
 *
 * Words are separated by blanks; PATH and TARGET are percent-encoded. */
enum rp_mkind { RP_M_FILE, RP_M_NEW, RP_M_NEWLINK, RP_M_LINK, RP_M_DIR, RP_M_BAD };

struct rp_mentry {
	enum rp_mkind kind;
	size_t	 line;		/* 1-based */
	unsigned mode;		/* F: 0..07777 */
	char	*name;		/* F: decimal digits only (never a path) */
	char	*path;		/* F N NL L D */
	char	*target;	/* L */
	long	 uid, gid;	/* F: -1 when not recorded */
	char	*why;		/* BAD: what is wrong with the line */
};

struct rp_manifest {
	struct rp_mentry *v;
	size_t	 n, cap;
};

/* Parse a manifest into m (initialized by the caller to zeros). A line whose first word
 * is one of the tags above but whose other words are not as shown (count, octal mode
 * above 07777, NAME not all digits, a path that does not decode, UID/GID not -1 or
 * 0..2147483647, a NUL byte) becomes a RP_M_BAD entry; empty lines and other tags are
 * skipped. Returns the number of RP_M_BAD entries. */
size_t rp_manifest_parse(const char *buf, size_t len, struct rp_manifest *m);
void rp_manifest_free(struct rp_manifest *m);

/* ---- reload status ---- */

/* Lines "reload K STATUS OUTPUT" printed by the reload script of push.c: K and STATUS
 * 1-3 decimal digits (0..999), then OUTPUT (the rest of the line: NUL bytes become
 * spaces, trailing blanks dropped). Other lines are skipped. */
struct rp_reload {
	int	 daemon;
	int	 status;
	char	*out;
};

struct rp_reloads {
	struct rp_reload *v;
	size_t	 n, cap;
};

size_t rp_reload_parse(const char *buf, size_t len, struct rp_reloads *out);
void rp_reloads_free(struct rp_reloads *r);

/* ---- the backup directory ---- */

/* Is name a backup directory name push.c makes, STAMP-PID: YYYYMMDDTHHMMSSZ-PID with
 * PID 1-10 decimal digits, no leading zero? */
bool rp_backup_name_ok(const char *name);

/* The output of `find ROOT -mindepth 1 -maxdepth 1 -type d -print0`: the base names of
 * the entries that are ROOT/NAME with a NAME that rp_backup_name_ok() accepts, without
 * duplicates, oldest first (by stamp, then by pid as a number). Appended to out. */
void rp_backup_names(const char *buf, size_t len, const char *root, struct strv *out);

#endif
