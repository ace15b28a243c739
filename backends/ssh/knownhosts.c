/* knownhosts.c: known_hosts through libssh2_knownhost, one line at a time; the
 * @revoked and @cert-authority markers, which libssh2 does not know, are read here. */
#include "backends/ssh/knownhosts.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pwd.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>

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

/* The next field of a line (blank separated), NUL-terminated; NULL at the end. */
static char *
field(char **pp)
{
	char *p = *pp, *f;

	while (*p == ' ' || *p == '\t')
		p++;
	if (*p == '\0') {
		*pp = p;
		return NULL;
	}
	f = p;
	while (*p != '\0' && *p != ' ' && *p != '\t')
		p++;
	if (*p != '\0')
		*p++ = '\0';
	*pp = p;
	return f;
}

/* Base64 (with its padding) to bytes; NULL if it is not base64. */
static unsigned char *
b64_decode(const char *s, size_t *outlen)
{
	size_t n = strlen(s);
	unsigned char *out;
	int r;

	if (n == 0 || n % 4 != 0 || n > INT_MAX)
		return NULL;
	out = xmalloc(n / 4 * 3 + 1);
	r = EVP_DecodeBlock(out, (const unsigned char *)s, (int)n);
	if (r < 0) {
		free(out);
		return NULL;
	}
	/* EVP_DecodeBlock counts the padding as data. */
	for (size_t i = n; i > 0 && s[i - 1] == '='; i--)
		r--;
	*outlen = (size_t)r;
	return out;
}

/* A key blob starts with its type name as an SSH string: is it ktype? */
static bool
blob_is(const unsigned char *blob, size_t len, const char *ktype)
{
	size_t n;

	if (len < 4)
		return false;
	n = (size_t)blob[0] << 24 | (size_t)blob[1] << 16 | (size_t)blob[2] << 8 | blob[3];
	return n <= len - 4 && n == strlen(ktype) && memcmp(blob + 4, ktype, n) == 0;
}

/* "|1|SALT|HASH": HASH is HMAC-SHA1(SALT, name). */
static bool
hashed_match(const char *pat, const char *name)
{
	char *salt64 = xstrdup(pat + 3), *hash64 = strchr(salt64, '|');
	unsigned char *salt = NULL, *hash = NULL, md[EVP_MAX_MD_SIZE];
	unsigned int mdlen = 0;
	size_t saltlen, hashlen;
	bool ok = false;

	if (hash64 != NULL) {
		*hash64++ = '\0';
		salt = b64_decode(salt64, &saltlen);
		hash = b64_decode(hash64, &hashlen);
	}
	if (salt != NULL && hash != NULL && saltlen <= INT_MAX &&
	    HMAC(EVP_sha1(), salt, (int)saltlen, (const unsigned char *)name, strlen(name),
	    md, &mdlen) != NULL)
		ok = mdlen == hashlen && CRYPTO_memcmp(md, hash, mdlen) == 0;
	free(salt);
	free(hash);
	free(salt64);
	return ok;
}

/* Does the comma-separated pattern list match name ("host" or "[host]:port")? A
 * matching !pattern excludes the line whatever else matches. */
static bool
hosts_match(char *list, const char *name)
{
	char *save = NULL;
	bool yes = false;

	for (char *pat = strtok_r(list, ",", &save); pat != NULL;
	    pat = strtok_r(NULL, ",", &save)) {
		if (str_starts(pat, "|1|")) {
			if (hashed_match(pat, name))
				yes = true;
		} else if (*pat == '!') {
			if (wild_match(pat + 1, name, true))
				return false;
		} else if (wild_match(pat, name, true))
			yes = true;
	}
	return yes;
}

/*
 * A marker line "@MARKER HOSTS KEYTYPE BASE64 [COMMENT]": KH_REVOKED if it is an
 * @revoked line for key (whatever its hosts: a revoked key is never trusted),
 * KH_CERT_AUTHORITY if it is an @cert-authority line for name, KH_UNKNOWN for anything
 * else (another marker, key or host, a line missing a field or with bad base64).
 */
static enum kh_result
kh_marker(char *p, const char *name, const char *key, size_t keylen)
{
	char *marker = field(&p), *hosts = field(&p), *ktype = field(&p), *b64 = field(&p);
	unsigned char *blob;
	size_t len;
	enum kh_result r = KH_UNKNOWN;

	if (b64 == NULL || (blob = b64_decode(b64, &len)) == NULL)
		return KH_UNKNOWN;
	if (strcmp(marker, "@revoked") == 0) {
		if (len == keylen && memcmp(blob, key, len) == 0)
			r = KH_REVOKED;
	} else if (strcmp(marker, "@cert-authority") == 0) {
		if (blob_is(blob, len, ktype) && hosts_match(hosts, name))
			r = KH_CERT_AUTHORITY;
	}
	free(blob);
	return r;
}

int
kh_check(LIBSSH2_SESSION *s, const char *file, const char *host, int port,
    const char *key, size_t keylen, int type, enum kh_result *res, size_t *line,
    char **cause)
{
	LIBSSH2_KNOWNHOSTS *kh;
	struct libssh2_knownhost *found = NULL;
	char *buf, *name, *l, *next;
	size_t len, n, revoked = 0, ca = 0;
	int rc;

	*res = KH_UNKNOWN;
	*line = 0;
	buf = read_input_file(file, IK_KNOWN_HOSTS, &len, cause);
	if (buf == NULL) {
		if (access(file, F_OK) == -1 && errno == ENOENT) {
			free(*cause);
			*cause = NULL;
			return 0;
		}
		return -1;
	}
	name = kh_name(host, port);
	kh = libssh2_knownhost_init(s);
	if (kh == NULL)
		fatal("libssh2_knownhost_init failed");
	for (l = buf, n = 1; l != NULL && *l != '\0'; l = next, n++) {
		char *p, *e;

		next = strchr(l, '\n');
		if (next != NULL)
			*next++ = '\0';
		for (e = l + strlen(l); e > l && (e[-1] == '\r' || e[-1] == ' ' ||
		    e[-1] == '\t'); e--)
			;
		*e = '\0';
		for (p = l; *p == ' ' || *p == '\t'; p++)
			;
		if (*p == '\0' || *p == '#')
			continue;
		if (*p == '@') {
			switch (kh_marker(p, name, key, keylen)) {
			case KH_REVOKED:
				if (revoked == 0)
					revoked = n;
				break;
			case KH_CERT_AUTHORITY:
				if (ca == 0)
					ca = n;
				break;
			default:
				break;
			}
			continue;
		}
		/* A line libssh2 cannot parse (another key type) is skipped. */
		(void)libssh2_knownhost_readline(kh, p, strlen(p),
		    LIBSSH2_KNOWNHOST_FILE_OPENSSH);
	}
	free(buf);
	rc = libssh2_knownhost_checkp(kh, name, -1, key, keylen,
	    LIBSSH2_KNOWNHOST_TYPE_PLAIN | LIBSSH2_KNOWNHOST_KEYENC_RAW | kh_type_mask(type),
	    &found);
	free(name);
	libssh2_knownhost_free(kh);
	if (revoked != 0) {
		*res = KH_REVOKED;
		*line = revoked;
		return 0;
	}
	switch (rc) {
	case LIBSSH2_KNOWNHOST_CHECK_MATCH:
		*res = KH_MATCH;
		return 0;
	case LIBSSH2_KNOWNHOST_CHECK_MISMATCH:
		*res = KH_CHANGED;
		return 0;
	case LIBSSH2_KNOWNHOST_CHECK_NOTFOUND:
		*res = ca != 0 ? KH_CERT_AUTHORITY : KH_UNKNOWN;
		*line = ca;
		return 0;
	}
	*cause = xasprintf("%s: cannot check the host key of %s", file, host);
	return -1;
}

int
kh_check_files(LIBSSH2_SESSION *s, const char *const *files, size_t nfiles,
    const char *host, int port, const char *key, size_t keylen, int type,
    enum kh_result *res, size_t *which, size_t *line, char **cause)
{
	/* Strongest first: what a file says of this host in this order decides. */
	static const enum kh_result order[] = { KH_REVOKED, KH_MATCH, KH_CHANGED,
	    KH_CERT_AUTHORITY };
	enum kh_result *got = xcalloc(nfiles + 1, sizeof *got);
	size_t *lines = xcalloc(nfiles + 1, sizeof *lines);

	*res = KH_UNKNOWN;
	*which = 0;
	*line = 0;
	for (size_t i = 0; i < nfiles; i++)
		if (kh_check(s, files[i], host, port, key, keylen, type, &got[i], &lines[i],
		    cause) == -1) {
			free(got);
			free(lines);
			return -1;
		}
	for (size_t k = 0; k < nitems(order) && *res == KH_UNKNOWN; k++)
		for (size_t i = 0; i < nfiles; i++)
			if (got[i] == order[k]) {
				*res = got[i];
				*which = i;
				*line = lines[i];
				break;
			}
	free(got);
	free(lines);
	return 0;
}

/* "|1|SALT|HASH" for name, a fresh 20-byte salt as ssh-keygen -H uses. */
static char *
hashed_name(const char *name)
{
	unsigned char salt[20], md[EVP_MAX_MD_SIZE], s64[64], h64[64];
	unsigned int mdlen = 0;

	if (RAND_bytes(salt, sizeof salt) != 1)
		fatal("RAND_bytes failed");
	if (HMAC(EVP_sha1(), salt, (int)sizeof salt, (const unsigned char *)name,
	    strlen(name), md, &mdlen) == NULL)
		fatal("HMAC failed");
	EVP_EncodeBlock(s64, salt, (int)sizeof salt);
	EVP_EncodeBlock(h64, md, (int)mdlen);
	return xasprintf("|1|%s|%s", (char *)s64, (char *)h64);
}

int
kh_add(const char *file, const char *host, int port, const char *key, size_t keylen,
    int type, bool hashed, char **cause)
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
	if (hashed) {
		char *h = hashed_name(name);

		free(name);
		name = h;
	}
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
