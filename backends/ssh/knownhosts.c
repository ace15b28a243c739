/* knownhosts.c: known_hosts through libssh2_knownhost, one line at a time. */
#include "knownhosts.h"

#include <errno.h>
#include <fcntl.h>
#include <pwd.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/evp.h>

#include "profiles/util.h"

char *
kh_name(const char *host, int port)
{
	if (port == 22 || port <= 0)
		return xstrdup(host);
	return xasprintf("[%s]:%d", host, port);
}

const char *
kh_type_name(int type)
{
	switch (type) {
	case LIBSSH2_HOSTKEY_TYPE_RSA:		return "ssh-rsa";
	case LIBSSH2_HOSTKEY_TYPE_DSS:		return "ssh-dss";
	case LIBSSH2_HOSTKEY_TYPE_ECDSA_256:	return "ecdsa-sha2-nistp256";
	case LIBSSH2_HOSTKEY_TYPE_ECDSA_384:	return "ecdsa-sha2-nistp384";
	case LIBSSH2_HOSTKEY_TYPE_ECDSA_521:	return "ecdsa-sha2-nistp521";
	case LIBSSH2_HOSTKEY_TYPE_ED25519:	return "ssh-ed25519";
	}
	return NULL;
}

static int
kh_type_mask(int type)
{
	switch (type) {
	case LIBSSH2_HOSTKEY_TYPE_RSA:		return LIBSSH2_KNOWNHOST_KEY_SSHRSA;
	case LIBSSH2_HOSTKEY_TYPE_DSS:		return LIBSSH2_KNOWNHOST_KEY_SSHDSS;
	case LIBSSH2_HOSTKEY_TYPE_ECDSA_256:	return LIBSSH2_KNOWNHOST_KEY_ECDSA_256;
	case LIBSSH2_HOSTKEY_TYPE_ECDSA_384:	return LIBSSH2_KNOWNHOST_KEY_ECDSA_384;
	case LIBSSH2_HOSTKEY_TYPE_ECDSA_521:	return LIBSSH2_KNOWNHOST_KEY_ECDSA_521;
	case LIBSSH2_HOSTKEY_TYPE_ED25519:	return LIBSSH2_KNOWNHOST_KEY_ED25519;
	}
	return LIBSSH2_KNOWNHOST_KEY_UNKNOWN;
}

char *
kh_default_file(void)
{
	const char *home = getenv("HOME");
	struct passwd *pw;

	if (home == NULL || *home == '\0') {
		pw = getpwuid(getuid());
		home = pw != NULL ? pw->pw_dir : "/";
	}
	return xasprintf("%s/.ssh/known_hosts", home);
}

char *
kh_fingerprint(const char *key, size_t keylen)
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int mdlen = 0;
	unsigned char b64[EVP_MAX_MD_SIZE * 2];
	int n;

	if (EVP_Digest(key, keylen, md, &mdlen, EVP_sha256(), NULL) != 1)
		fatal("EVP_Digest failed");
	n = EVP_EncodeBlock(b64, md, (int)mdlen);
	while (n > 0 && b64[n - 1] == '=')
		n--;
	return xasprintf("SHA256:%.*s", n, (char *)b64);
}

int
kh_check(LIBSSH2_SESSION *s, const char *file, const char *host, int port,
    const char *key, size_t keylen, int type, enum kh_result *res, char **cause)
{
	LIBSSH2_KNOWNHOSTS *kh;
	struct libssh2_knownhost *found = NULL;
	char *buf, *name, *line, *next;
	size_t len;
	int rc;

	*res = KH_UNKNOWN;
	buf = read_file(file, &len, cause);
	if (buf == NULL) {
		if (access(file, F_OK) == -1 && errno == ENOENT) {
			free(*cause);
			*cause = NULL;
			return 0;
		}
		return -1;
	}
	kh = libssh2_knownhost_init(s);
	if (kh == NULL)
		fatal("libssh2_knownhost_init failed");
	for (line = buf; line != NULL && *line != '\0'; line = next) {
		char *p;

		next = strchr(line, '\n');
		if (next != NULL)
			*next++ = '\0';
		for (p = line; *p == ' ' || *p == '\t'; p++)
			;
		if (*p == '\0' || *p == '#' || *p == '@')
			continue;	/* markers (@cert-authority, @revoked) unsupported */
		/* A line libssh2 cannot parse (another key type) is skipped. */
		(void)libssh2_knownhost_readline(kh, p, strlen(p),
		    LIBSSH2_KNOWNHOST_FILE_OPENSSH);
	}
	free(buf);
	name = kh_name(host, port);
	rc = libssh2_knownhost_checkp(kh, name, -1, key, keylen,
	    LIBSSH2_KNOWNHOST_TYPE_PLAIN | LIBSSH2_KNOWNHOST_KEYENC_RAW | kh_type_mask(type),
	    &found);
	free(name);
	libssh2_knownhost_free(kh);
	switch (rc) {
	case LIBSSH2_KNOWNHOST_CHECK_MATCH:
		*res = KH_MATCH;
		return 0;
	case LIBSSH2_KNOWNHOST_CHECK_MISMATCH:
		*res = KH_CHANGED;
		return 0;
	case LIBSSH2_KNOWNHOST_CHECK_NOTFOUND:
		*res = KH_UNKNOWN;
		return 0;
	}
	*cause = xasprintf("%s: cannot check the host key of %s", file, host);
	return -1;
}

int
kh_add(const char *file, const char *host, int port, const char *key, size_t keylen,
    int type, char **cause)
{
	const char *tname = kh_type_name(type);
	unsigned char *b64;
	char *name, *line, *dir, *slash;
	size_t len;
	ssize_t n;
	int fd;

	if (tname == NULL) {
		*cause = xasprintf("cannot record a host key of unknown type %d", type);
		return -1;
	}
	dir = xstrdup(file);
	slash = strrchr(dir, '/');
	if (slash != NULL && slash != dir) {
		*slash = '\0';
		if (mkdir_p(dir, 0700, cause) == -1) {
			free(dir);
			return -1;
		}
	}
	free(dir);
	b64 = xmalloc(4 * ((keylen + 2) / 3) + 1);
	EVP_EncodeBlock(b64, (const unsigned char *)key, (int)keylen);
	name = kh_name(host, port);
	line = xasprintf("%s %s %s\n", name, tname, (char *)b64);
	free(name);
	free(b64);
	len = strlen(line);
	/* One write() with O_APPEND: parallel hosts never interleave lines. */
	fd = open(file, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
	if (fd == -1) {
		*cause = xasprintf("%s: cannot open: %s", file, strerror(errno));
		free(line);
		return -1;
	}
	n = write(fd, line, len);
	free(line);
	if (n != (ssize_t)len || close(fd) == -1) {
		*cause = xasprintf("%s: cannot append: %s", file, strerror(errno));
		if (n != (ssize_t)len)
			close(fd);
		return -1;
	}
	return 0;
}
