/* knownhosts.h: strict host-key checking against an OpenSSH known_hosts file. */
#ifndef MXDECK_KNOWNHOSTS_H
#define MXDECK_KNOWNHOSTS_H

#include <stddef.h>

#include <libssh2.h>

enum kh_result { KH_MATCH, KH_UNKNOWN, KH_CHANGED };

/* The known_hosts name of host:port: "host", or "[host]:port" when port != 22. */
char *kh_name(const char *host, int port);
/* Check key (raw blob, LIBSSH2_HOSTKEY_TYPE_*) for host:port against file, which may
 * hold hashed (|1|salt|hash) and plain entries; lines libssh2 cannot parse (other key
 * types, markers) are skipped. A missing file means KH_UNKNOWN. s is any libssh2
 * session (it need not be connected). 0 with *res, or -1 with *cause. */
int kh_check(LIBSSH2_SESSION *s, const char *file, const char *host, int port,
    const char *key, size_t keylen, int type, enum kh_result *res, char **cause);
/* Append "NAME KEYTYPE BASE64" for host:port to file (created 0600, directory 0700). */
int kh_add(const char *file, const char *host, int port, const char *key, size_t keylen,
    int type, char **cause);
/* "SHA256:base64" of the key blob, as ssh-keygen -l shows it. */
char *kh_fingerprint(const char *key, size_t keylen);
/* "ssh-ed25519", ... or NULL for a type we do not know. */
const char *kh_type_name(int type);
/* ~/.ssh/known_hosts of the user running mxdeck. */
char *kh_default_file(void);

#endif
