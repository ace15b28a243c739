/* util.c: see util.h. */
#include "profiles/util.h"

#include <arpa/inet.h>

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

void
fatal(const char *fmt, ...)
{
	va_list ap;

	fflush(stdout);
	fputs("mxdeck: fatal: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	abort();
}

void *
xmalloc(size_t n)
{
	void *p = malloc(n ? n : 1);

	if (p == NULL)
		fatal("out of memory (%zu bytes)", n);
	return p;
}

void *
xcalloc(size_t nmemb, size_t size)
{
	void *p;

	if (nmemb == 0 || size == 0)
		nmemb = size = 1;
	p = calloc(nmemb, size);
	if (p == NULL)
		fatal("out of memory (%zu x %zu bytes)", nmemb, size);
	return p;
}

void *
xrealloc(void *p, size_t n)
{
	void *q = realloc(p, n ? n : 1);

	if (q == NULL)
		fatal("out of memory (%zu bytes)", n);
	return q;
}

void
xgrow(void *pp, size_t *cap, size_t need, size_t sz)
{
	void **p = pp;
	size_t ncap;

	if (need <= *cap)
		return;
	ncap = *cap ? *cap : 8;
	while (ncap < need) {
		if (ncap > SIZE_MAX / 2 / sz)
			fatal("array too large");
		ncap *= 2;
	}
	*p = xrealloc(*p, ncap * sz);
	*cap = ncap;
}

char *
xstrdup(const char *s)
{
	return xstrndup(s, strlen(s));
}

char *
xstrndup(const char *s, size_t n)
{
	char *p = xmalloc(n + 1);

	memcpy(p, s, n);
	p[n] = '\0';
	return p;
}

char *
xvasprintf(const char *fmt, va_list ap)
{
	va_list ap2;
	int n;
	char *p;

	va_copy(ap2, ap);
	n = vsnprintf(NULL, 0, fmt, ap2);
	va_end(ap2);
	if (n < 0)
		fatal("bad format string: %s", fmt);
	p = xmalloc((size_t)n + 1);
	vsnprintf(p, (size_t)n + 1, fmt, ap);
	return p;
}

char *
xasprintf(const char *fmt, ...)
{
	va_list ap;
	char *p;

	va_start(ap, fmt);
	p = xvasprintf(fmt, ap);
	va_end(ap);
	return p;
}

void
sb_init(struct sbuf *b)
{
	b->s = NULL;
	b->len = b->cap = 0;
}

void
sb_free(struct sbuf *b)
{
	free(b->s);
	sb_init(b);
}

void
sb_reset(struct sbuf *b)
{
	b->len = 0;
	if (b->s != NULL)
		b->s[0] = '\0';
}

void
sb_addn(struct sbuf *b, const char *s, size_t n)
{
	xgrow(&b->s, &b->cap, b->len + n + 1, 1);
	memcpy(b->s + b->len, s, n);
	b->len += n;
	b->s[b->len] = '\0';
}

void
sb_add(struct sbuf *b, const char *s)
{
	sb_addn(b, s, strlen(s));
}

void
sb_addc(struct sbuf *b, char c)
{
	sb_addn(b, &c, 1);
}

void
sb_addf(struct sbuf *b, const char *fmt, ...)
{
	va_list ap, ap2;
	int n;

	va_start(ap, fmt);
	va_copy(ap2, ap);
	n = vsnprintf(NULL, 0, fmt, ap2);
	va_end(ap2);
	if (n < 0)
		fatal("bad format string: %s", fmt);
	xgrow(&b->s, &b->cap, b->len + (size_t)n + 1, 1);
	vsnprintf(b->s + b->len, (size_t)n + 1, fmt, ap);
	b->len += (size_t)n;
	va_end(ap);
}

char *
sb_steal(struct sbuf *b)
{
	char *s = b->s != NULL ? b->s : xstrdup("");

	sb_init(b);
	return s;
}

void
strv_push(struct strv *sv, const char *s)
{
	strv_push_owned(sv, xstrdup(s));
}

void
strv_push_owned(struct strv *sv, char *s)
{
	xgrow(&sv->v, &sv->cap, sv->n + 1, sizeof *sv->v);
	sv->v[sv->n++] = s;
}

bool
strv_has(const struct strv *sv, const char *s)
{
	for (size_t i = 0; i < sv->n; i++)
		if (strcmp(sv->v[i], s) == 0)
			return true;
	return false;
}

void
strv_free(struct strv *sv)
{
	for (size_t i = 0; i < sv->n; i++)
		free(sv->v[i]);
	free(sv->v);
	sv->v = NULL;
	sv->n = sv->cap = 0;
}

void
strv_split_words(struct strv *sv, const char *s)
{
	while (*s != '\0') {
		size_t n;

		while (*s == ' ' || *s == '\t' || *s == ',')
			s++;
		n = strcspn(s, " \t,");
		if (n > 0)
			strv_push_owned(sv, xstrndup(s, n));
		s += n;
	}
}

char *
str_trim(char *s)
{
	size_t n;

	while (isspace((unsigned char)*s))
		s++;
	n = strlen(s);
	while (n > 0 && isspace((unsigned char)s[n - 1]))
		s[--n] = '\0';
	return s;
}

bool
str_ieq(const char *a, const char *b)
{
	for (; *a != '\0' && *b != '\0'; a++, b++)
		if (tolower((unsigned char)*a) != tolower((unsigned char)*b))
			return false;
	return *a == *b;
}

bool
str_starts(const char *s, const char *prefix)
{
	return strncmp(s, prefix, strlen(prefix)) == 0;
}

bool
str_ends(const char *s, const char *suffix)
{
	size_t a = strlen(s), b = strlen(suffix);

	return a >= b && strcmp(s + a - b, suffix) == 0;
}

int
parse_bool(const char *s)
{
	static const char *const yes[] = { "yes", "on", "true", "1" };
	static const char *const no[] = { "no", "off", "false", "0" };

	for (size_t i = 0; i < nitems(yes); i++) {
		if (str_ieq(s, yes[i]))
			return 1;
		if (str_ieq(s, no[i]))
			return 0;
	}
	return -1;
}

int
parse_int(const char *s, long lo, long hi, long *out)
{
	char *end;
	long v;

	if (*s == '\0' || !(isdigit((unsigned char)*s) || *s == '-'))
		return -1;
	errno = 0;
	v = strtol(s, &end, 10);
	if (errno != 0 || *end != '\0' || v < lo || v > hi)
		return -1;
	*out = v;
	return 0;
}

#define KiB	((size_t)1024)
#define MiB	(1024 * KiB)

/* The caps: each far above any real file of its kind, low enough that a wrong path
 * (a log, a disk image) is refused before it eats the machine's memory. The users CSV
 * cap comes from a measurement: 2 million users are a 76 MB file that lint reads in
 * about 4 s at 380 MB peak memory (5 bytes per byte of CSV), so 512 MiB (some 14
 * million users) stays under 3 GB. */
const struct input_kind_info input_kinds[IK__COUNT] = {
	[IK_PROFILE] = { "the profile", 64 * MiB,
	    "check the path; keep users in a users CSV ([users] file =), not in the profile" },
	[IK_USERS] = { "the users CSV", 512 * MiB,
	    "check the path; a site with more users than that has to be split into several "
	    "profiles" },
	[IK_KNOWN_HOSTS] = { "the known_hosts file", 64 * MiB,
	    "check the path given to --known-hosts" },
	[IK_IDENTITY] = { "the SSH identity file", 1 * MiB,
	    "name the private key file itself (identity = in the profile or --identity)" },
	[IK_CERT] = { "the certificate", 16 * MiB,
	    "name the PEM certificate file itself ([tls] certificate =)" },
	[IK_ANCHOR] = { "the DNSSEC trust anchor", 16 * MiB,
	    "name a file of DNSKEY or DS records ([site] trust_anchor =)" },
	[IK_MESSAGE] = { "the message", 64 * MiB,
	    "load only the header block of the message" },
	[IK_OTHER] = { "the file", 64 * MiB, "check the path" },
};

static const char *
file_type_name(mode_t m)
{
	if (S_ISDIR(m))
		return "a directory";
	if (S_ISCHR(m))
		return "a character device";
	if (S_ISBLK(m))
		return "a block device";
	if (S_ISFIFO(m))
		return "a FIFO";
	if (S_ISSOCK(m))
		return "a socket";
	return "not a regular file";
}

static char *
size_str(size_t n)
{
	if (n >= MiB && n % MiB == 0)
		return xasprintf("%zu MiB", n / MiB);
	if (n >= MiB)
		return xasprintf("%.1f MiB", (double)n / (double)MiB);
	if (n >= KiB)
		return xasprintf("%.1f KiB", (double)n / (double)KiB);
	return xasprintf("%zu bytes", n);
}

static char *
not_regular(const char *path, enum input_kind k, mode_t m)
{
	return xasprintf("%s: %s is %s, not a regular file; name a regular file (mxdeck "
	    "refuses devices, FIFOs and directories where it reads a file)", path,
	    input_kinds[k].what, file_type_name(m));
}

static char *
too_big(const char *path, enum input_kind k, const char *size)
{
	char *lim = size_str(input_kinds[k].max), *s;

	s = xasprintf("%s: %s is %s, over mxdeck's limit of %s for it; %s", path,
	    input_kinds[k].what, size, lim, input_kinds[k].todo);
	free(lim);
	return s;
}

int
check_input_file(const char *path, enum input_kind k, char **cause)
{
	struct stat st;

	if (stat(path, &st) == -1) {
		int e = errno;

		*cause = xasprintf("%s: %s", path, strerror(e));
		errno = e;
		return -1;
	}
	if (!S_ISREG(st.st_mode)) {
		*cause = not_regular(path, k, st.st_mode);
		return -1;
	}
	if ((uintmax_t)st.st_size > input_kinds[k].max) {
		char *sz = xasprintf("%jd bytes", (intmax_t)st.st_size);

		*cause = too_big(path, k, sz);
		free(sz);
		return -1;
	}
	return 0;
}

char *
read_input_file(const char *path, enum input_kind k, size_t *lenp, char **cause)
{
	size_t max = input_kinds[k].max, cap, len = 0;
	struct stat st;
	char *buf;
	int fd;

	/* O_NONBLOCK: opening a FIFO must not wait for a writer before it is refused. */
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
	if (fd == -1) {
		int e = errno;

		*cause = xasprintf("%s: %s", path, strerror(e));
		errno = e;
		return NULL;
	}
	if (fstat(fd, &st) == -1) {
		*cause = xasprintf("%s: %s", path, strerror(errno));
		close(fd);
		return NULL;
	}
	if (!S_ISREG(st.st_mode)) {
		*cause = not_regular(path, k, st.st_mode);
		close(fd);
		return NULL;
	}
	if ((uintmax_t)st.st_size > max) {
		char *sz = xasprintf("%jd bytes", (intmax_t)st.st_size);

		*cause = too_big(path, k, sz);
		free(sz);
		close(fd);
		return NULL;
	}
	/* st_size is a hint (a file may grow, /proc files say 0): read until EOF, but
	 * never more than max bytes. */
	cap = (size_t)st.st_size + 1;
	buf = xmalloc(cap + 1);
	for (;;) {
		ssize_t n;

		if (len == cap) {
			if (len > max) {
				char *more = xasprintf("more than %zu bytes (it grew while "
				    "being read)", max);

				*cause = too_big(path, k, more);
				free(more);
				free(buf);
				close(fd);
				return NULL;
			}
			cap = cap < max / 2 ? cap * 2 + 4096 : max + 1;
			buf = xrealloc(buf, cap + 1);
		}
		n = read(fd, buf + len, cap - len);
		if (n == 0)
			break;
		if (n < 0) {
			if (errno == EINTR)
				continue;
			*cause = xasprintf("%s: read error: %s", path, strerror(errno));
			free(buf);
			close(fd);
			return NULL;
		}
		len += (size_t)n;
	}
	close(fd);
	if (len > max) {
		char *more = xasprintf("more than %zu bytes (it grew while being read)", max);

		*cause = too_big(path, k, more);
		free(more);
		free(buf);
		return NULL;
	}
	buf[len] = '\0';
	if (lenp != NULL)
		*lenp = len;
	return buf;
}

char *
read_file(const char *path, size_t *lenp, char **cause)
{
	return read_input_file(path, IK_OTHER, lenp, cause);
}

/* Write all of data; -1 with errno on failure. */
static int
write_all(int fd, const char *data, size_t len)
{
	size_t off = 0;

	while (off < len) {
		ssize_t w = write(fd, data + off, len - off);

		if (w < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		off += (size_t)w;
	}
	return 0;
}

int
write_file_atomic(const char *path, const char *data, size_t len, unsigned mode, char **cause)
{
	char *tmp = xasprintf("%s.mxdeck-tmp.%ld", path, (long)getpid());
	struct stat old;
	int fd;

	/* The temporary name is predictable: never write through something already
	 * there (a symlink planted in a shared directory); a stale one is removed. */
	(void)unlink(tmp);
	fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, (mode_t)mode);
	if (fd == -1) {
		*cause = xasprintf("%s: cannot create: %s", tmp, strerror(errno));
		free(tmp);
		return -1;
	}
	if (write_all(fd, data, len) == -1) {
		*cause = xasprintf("%s: write failed: %s", tmp, strerror(errno));
		goto fail;
	}
	/* the file it replaces keeps its owner and group (root saving a user's
	 * profile); a user who may not give the file away keeps it as the owner */
	if (lstat(path, &old) == 0 && S_ISREG(old.st_mode) &&
	    (old.st_uid != geteuid() || old.st_gid != getegid()) &&
	    fchown(fd, old.st_uid, old.st_gid) == -1 && errno != EPERM) {
		*cause = xasprintf("%s: cannot keep the owner of %s: %s", tmp, path,
		    strerror(errno));
		goto fail;
	}
	if (fchmod(fd, (mode_t)mode) == -1 || fsync(fd) == -1) {
		*cause = xasprintf("%s: %s", tmp, strerror(errno));
		goto fail;
	}
	if (close(fd) == -1) {
		fd = -1;
		*cause = xasprintf("%s: close failed: %s", tmp, strerror(errno));
		goto fail;
	}
	fd = -1;
	if (rename(tmp, path) == -1) {
		*cause = xasprintf("%s: cannot rename into place: %s", path, strerror(errno));
		goto fail;
	}
	free(tmp);
	return 0;
fail:
	if (fd != -1)
		close(fd);
	unlink(tmp);
	free(tmp);
	return -1;
}

int
backup_rotate(const char *path, const char *data, size_t len, unsigned mode, int keep,
    char **cause)
{
	char *from, *to;
	int rc;

	if (keep < 1)
		keep = 1;
	to = xasprintf("%s.bak.%d", path, keep);
	if (unlink(to) == -1 && errno != ENOENT) {
		*cause = xasprintf("%s: cannot remove the oldest backup: %s; nothing was "
		    "saved", to, strerror(errno));
		free(to);
		return -1;
	}
	for (int i = keep - 1; i >= 1; i--) {
		struct stat st;
		int fd;

		from = xasprintf("%s.bak.%d", path, i);
		if (rename(from, to) == -1 && errno != ENOENT) {
			*cause = xasprintf("%s: cannot rename to %s: %s; nothing was saved",
			    from, to, strerror(errno));
			free(from);
			free(to);
			return -1;
		}
		/* a backup no wider than the file now is (it may have been narrowed
		 * since); a symlink is not followed */
		fd = open(to, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
		if (fd != -1) {
			if (fstat(fd, &st) == 0 && S_ISREG(st.st_mode) &&
			    (st.st_mode & 07777 & ~(mode_t)mode) != 0 &&
			    fchmod(fd, st.st_mode & 07777 & (mode_t)mode) == -1) {
				*cause = xasprintf("%s: cannot narrow its mode: %s; nothing was "
				    "saved", to, strerror(errno));
				close(fd);
				free(from);
				free(to);
				return -1;
			}
			close(fd);
		}
		free(to);
		to = from;
	}
	rc = write_file_atomic(to, data, len, mode, cause);
	free(to);
	return rc;
}

int
write_file_through(const char *path, const char *data, size_t len, unsigned mode,
    char **cause)
{
	struct stat st;
	char *target;
	int rc;

	if (lstat(path, &st) == -1 || !S_ISLNK(st.st_mode))
		return write_file_atomic(path, data, len, mode, cause);
	/* the whole chain of links resolved: the rename replaces the real file */
	if ((target = realpath(path, NULL)) == NULL) {
		*cause = xasprintf("%s is a symbolic link whose target cannot be reached "
		    "(%s); nothing was saved: fix the link, or point it at an existing file",
		    path, strerror(errno));
		return -1;
	}
	if (stat(target, &st) == 0 && !S_ISREG(st.st_mode)) {
		*cause = xasprintf("%s is a symbolic link to %s, which is not a regular "
		    "file; nothing was saved", path, target);
		free(target);
		return -1;
	}
	rc = write_file_atomic(target, data, len, mode, cause);
	free(target);
	return rc;
}

int
write_file_replace(const char *path, const char *data, size_t len, unsigned mode,
    char **cause)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, (mode_t)mode);

	if (fd == -1) {
		*cause = xasprintf("%s: cannot create: %s", path, strerror(errno));
		return -1;
	}
	if (write_all(fd, data, len) == -1) {
		*cause = xasprintf("%s: write failed: %s", path, strerror(errno));
		close(fd);
		return -1;
	}
	if (fchmod(fd, (mode_t)mode) == -1 || close(fd) == -1) {
		*cause = xasprintf("%s: %s", path, strerror(errno));
		return -1;
	}
	return 0;
}

int
mkdir_p(const char *path, unsigned mode, char **cause)
{
	char *p = xstrdup(path);

	for (char *s = p + 1; ; s++) {
		if (*s == '/' || *s == '\0') {
			char c = *s;

			*s = '\0';
			if (mkdir(p, (mode_t)mode) == -1 && errno != EEXIST) {
				*cause = xasprintf("%s: cannot create directory: %s", p, strerror(errno));
				free(p);
				return -1;
			}
			*s = c;
			if (c == '\0')
				break;
		}
	}
	free(p);
	return 0;
}

/* Length of the valid UTF-8 sequence at p (shortest form, no surrogates, at most
 * U+10FFFF, within avail bytes) with its code point in *cp, or 0 when p does not
 * start one. */
static size_t
utf8_decode_n(const unsigned char *p, size_t avail, unsigned *cp)
{
	size_t n;
	unsigned min;

	if (p[0] < 0x80) {
		*cp = p[0];
		return 1;
	}
	if (p[0] >= 0xc2 && p[0] <= 0xdf) {
		n = 2; min = 0x80; *cp = p[0] & 0x1f;
	} else if (p[0] >= 0xe0 && p[0] <= 0xef) {
		n = 3; min = 0x800; *cp = p[0] & 0x0f;
	} else if (p[0] >= 0xf0 && p[0] <= 0xf4) {
		n = 4; min = 0x10000; *cp = p[0] & 0x07;
	} else
		return 0;
	if (n > avail)
		return 0;
	for (size_t i = 1; i < n; i++) {
		if ((p[i] & 0xc0) != 0x80)	/* also stops at the NUL */
			return 0;
		*cp = (*cp << 6) | (p[i] & 0x3f);
	}
	if (*cp < min || *cp > 0x10ffff || (*cp >= 0xd800 && *cp <= 0xdfff))
		return 0;
	return n;
}

void
sb_json_stringn(struct sbuf *b, const char *s, size_t len)
{
	const unsigned char *p = (const unsigned char *)s, *end = p + len;

	sb_addc(b, '"');
	for (; p < end; p++) {
		switch (*p) {
		case '"':	sb_add(b, "\\\""); break;
		case '\\':	sb_add(b, "\\\\"); break;
		case '\n':	sb_add(b, "\\n"); break;
		case '\r':	sb_add(b, "\\r"); break;
		case '\t':	sb_add(b, "\\t"); break;
		default:
			if (*p < 0x20 || *p == 0x7f)
				sb_addf(b, "\\u%04x", *p);
			else if (*p < 0x80)
				sb_addc(b, (char)*p);
			else {
				/* JSON is UTF-8: a byte that does not start a valid sequence
				 * (server text may be anything) becomes U+FFFD, and the C1
				 * controls U+0080..U+009F are escaped like the C0 ones. */
				unsigned cp;
				size_t n = utf8_decode_n(p, (size_t)(end - p), &cp);

				if (n == 0)
					sb_add(b, "\\ufffd");
				else if (text_cp_unsafe(cp))	/* C1, bidi, separators */
					sb_addf(b, "\\u%04x", cp);
				else
					sb_addn(b, (const char *)p, n);
				if (n > 1)
					p += n - 1;
			}
		}
	}
	sb_addc(b, '"');
}

void
sb_json_string(struct sbuf *b, const char *s)
{
	if (s == NULL)
		s = "";
	sb_json_stringn(b, s, strlen(s));
}

bool
text_cp_unsafe(unsigned cp)
{
	return cp < 0x20 || cp == 0x7f || (cp >= 0x80 && cp < 0xa0) ||
	    cp == 0x061c || cp == 0x200e || cp == 0x200f ||
	    (cp >= 0x2028 && cp <= 0x202e) || (cp >= 0x2066 && cp <= 0x2069);
}

void
sb_add_printable_n(struct sbuf *b, const char *s, size_t len, bool keep_nl)
{
	const unsigned char *p = (const unsigned char *)s, *end = p + len;

	sb_addn(b, "", 0);
	while (p < end) {
		unsigned cp;
		size_t n;

		if (*p < 0x80) {
			if (*p == '\t' || (keep_nl && *p == '\n') || !text_cp_unsafe(*p))
				sb_addc(b, (char)*p);
			else
				sb_addf(b, "\\x%02x", *p);
			p++;
			continue;
		}
		n = utf8_decode_n(p, (size_t)(end - p), &cp);
		if (n == 0 || cp < 0xa0) {
			/* invalid, or a C1 control: every byte visible */
			for (size_t i = 0; i < (n == 0 ? 1 : n); i++)
				sb_addf(b, "\\x%02x", p[i]);
		} else if (text_cp_unsafe(cp))
			sb_addf(b, "\\u{%04x}", cp);
		else
			sb_addn(b, (const char *)p, n);
		p += n == 0 ? 1 : n;
	}
}

void
sb_add_printable(struct sbuf *b, const char *s)
{
	sb_add_printable_n(b, s, strlen(s), false);
}

void
fprintf_safe(FILE *f, const char *fmt, ...)
{
	struct sbuf raw, out;
	va_list ap;

	sb_init(&raw);
	sb_init(&out);
	va_start(ap, fmt);
	{
		char *m = xvasprintf(fmt, ap);

		sb_add(&raw, m);
		free(m);
	}
	va_end(ap);
	sb_add_printable_n(&out, raw.s, raw.len, true);
	fputs(out.s, f);
	sb_free(&raw);
	sb_free(&out);
}

char *
str_printable(const char *s)
{
	struct sbuf b;

	sb_init(&b);
	sb_add_printable(&b, s);
	return sb_steal(&b);
}

void
json_string(FILE *f, const char *s)
{
	struct sbuf b;

	sb_init(&b);
	sb_json_string(&b, s);
	fputs(b.s, f);
	sb_free(&b);
}

char *
sha256_fingerprint(const char *s)
{
	static const char hex[] = "0123456789ABCDEF";
	struct sbuf b;
	int nd = 0;

	sb_init(&b);
	for (const char *p = s; *p != '\0'; p++) {
		if (*p == ':' && nd > 0 && nd % 2 == 0 && p[1] != '\0' && p[1] != ':')
			continue;
		if (!isxdigit((unsigned char)*p) || nd == 64) {
			sb_free(&b);
			return NULL;
		}
		if (nd > 0 && nd % 2 == 0)
			sb_addc(&b, ':');
		sb_addc(&b, hex[isdigit((unsigned char)*p) ? *p - '0' :
		    toupper((unsigned char)*p) - 'A' + 10]);
		nd++;
	}
	if (nd != 64) {
		sb_free(&b);
		return NULL;
	}
	return sb_steal(&b);
}

bool
wild_match(const char *pat, const char *s, bool nocase)
{
	const char *star = NULL, *resume = NULL;

	while (*s != '\0') {
		if (*pat == '*') {
			star = pat++;
			resume = s;
		} else if (*pat == '?' || (*pat != '\0' && (nocase ?
		    tolower((unsigned char)*pat) == tolower((unsigned char)*s) : *pat == *s))) {
			pat++;
			s++;
		} else if (star != NULL) {
			pat = star + 1;
			s = ++resume;
		} else
			return false;
	}
	while (*pat == '*')
		pat++;
	return *pat == '\0';
}

/* ---- names and addresses ---- */

bool
ipv4_ok(const char *s)
{
	struct in_addr a;

	return inet_pton(AF_INET, s, &a) == 1;
}

bool
ipv6_ok(const char *s)
{
	struct in6_addr a;

	return inet_pton(AF_INET6, s, &a) == 1;
}

bool
hostname_ok(const char *s, unsigned flags)
{
	size_t len = strlen(s), lab = 0;
	bool alldig = true;

	if ((flags & HN_DOT) && len > 0 && s[len - 1] == '.')
		len--;
	if (len == 0 || len > 253)
		return false;
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];
		bool digit = c >= '0' && c <= '9';

		if (c == '.') {
			if (lab == 0 || s[i - 1] == '-')
				return false;
			lab = 0;
			continue;
		}
		if (!digit && !(c >= 'a' && c <= 'z') && !(c >= 'A' && c <= 'Z') && c != '-' &&
		    !(c == '_' && (flags & HN_UNDERSCORE)))
			return false;
		if (c == '-' && lab == 0)
			return false;
		if (!digit)
			alldig = false;
		if (++lab > 63)
			return false;
	}
	if (lab == 0 || s[len - 1] == '-')
		return false;
	if (alldig) {
		char *v4 = xstrndup(s, len);
		bool ok = ipv4_ok(v4);

		free(v4);
		return ok;
	}
	return true;
}
