/* knownhosts.h: strict host-key checking against an OpenSSH known_hosts file. */
#ifndef MXDECK_KNOWNHOSTS_H
#define MXDECK_KNOWNHOSTS_H

#include <stdbool.h>
#include <stddef.h>

#include <libssh2.h>

/* KH_REVOKED: an @revoked line lists the key; KH_CERT_AUTHORITY: the only entry for
 * the host is an @cert-authority line (host certificates are not supported). */
enum kh_result { KH_MATCH, KH_UNKNOWN, KH_CHANGED, KH_REVOKED, KH_CERT_AUTHORITY };

/* The known_hosts name of host:port: "host", or "[host]:port" when port != 22. */
char *kh_name(const char *host, int port);
/* Check key (raw blob, LIBSSH2_HOSTKEY_TYPE_*) for host:port against file, which may
 * hold hashed (|1|salt|hash) and plain entries, LF or CRLF; lines that cannot be parsed
 * (other key types, junk) are skipped. A key listed on an @revoked line is KH_REVOKED
 * whatever that line's host pattern and whatever other line accepts it; a host with no
 * plain entry but a matching @cert-authority line is KH_CERT_AUTHORITY. *line is then
 * that line's number (1-based), else 0. A missing file means KH_UNKNOWN. s is any
 * libssh2 session (it need not be connected). 0 with *res, or -1 with *cause. */
int kh_check(LIBSSH2_SESSION *s, const char *file, const char *host, int port,
    const char *key, size_t keylen, int type, enum kh_result *res, size_t *line,
    char **cause);
/* kh_check over several files (the user's, then the system's), as ssh reads them: a
 * key @revoked in any file is KH_REVOKED; else a match in any file is KH_MATCH; else
 * a different key for the host in any file is KH_CHANGED; then KH_CERT_AUTHORITY, then
 * KH_UNKNOWN. *which is the index of the file that decided (0 when unknown) and *line
 * its line. Files that do not exist are skipped. */
int kh_check_files(LIBSSH2_SESSION *s, const char *const *files, size_t nfiles,
    const char *host, int port, const char *key, size_t keylen, int type,
    enum kh_result *res, size_t *which, size_t *line, char **cause);
/* Append "NAME KEYTYPE BASE64" for host:port to file (created 0600, directory 0700);
 * with hashed, NAME is "|1|SALT|HMAC-SHA1(SALT, NAME)" as ssh's HashKnownHosts writes. */
int kh_add(const char *file, const char *host, int port, const char *key, size_t keylen,
    int type, bool hashed, char **cause);
/* "SHA256:base64" of the key blob, as ssh-keygen -l shows it. */
char *kh_fingerprint(const char *key, size_t keylen);
/* "ssh-ed25519", ... or NULL for a type we do not know. */
const char *kh_type_name(int type);
/* ~/.ssh/known_hosts of the user running mxdeck. */
char *kh_default_file(void);

#endif
