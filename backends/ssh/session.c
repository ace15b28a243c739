/* session.c: the libssh2 transport: one TCP connection and one SSH session per host,
 * exec channels for commands, SFTP for files. */
#include "xport.h"

#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <poll.h>
#include <pwd.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <libssh2.h>
#include <libssh2_sftp.h>

#include "profiles/site.h"
#include "knownhosts.h"
#include "quote.h"

struct ssh {
	int	 sock;
	LIBSSH2_SESSION *s;
	LIBSSH2_SFTP *sftp;
	bool	 readonly;
};

static char *
ssh_error(struct ssh *h)
{
	char *msg = NULL;

	libssh2_session_last_error(h->s, &msg, NULL, 0);
	return xstrdup(msg != NULL && *msg != '\0' ? msg : "unknown SSH error");
}

static int
fail(struct xport *x, char **cause, const char *what, const char *path)
{
	struct ssh *h = x->impl;
	char *e = ssh_error(h);

	*cause = xasprintf("host %s: %s%s%s: %s", x->name, what, path ? " " : "",
	    path ? path : "", e);
	free(e);
	return -1;
}

static const char *
sftp_errstr(unsigned long e)
{
	switch (e) {
	case LIBSSH2_FX_NO_SUCH_FILE:		return "no such file";
	case LIBSSH2_FX_PERMISSION_DENIED:	return "permission denied";
	case LIBSSH2_FX_FAILURE:		return "failure";
	case LIBSSH2_FX_NO_SPACE_ON_FILESYSTEM:	return "no space left";
	case LIBSSH2_FX_QUOTA_EXCEEDED:		return "quota exceeded";
	case LIBSSH2_FX_OP_UNSUPPORTED:		return "operation unsupported";
	case LIBSSH2_FX_NO_SUCH_PATH:		return "no such path";
	case LIBSSH2_FX_FILE_ALREADY_EXISTS:	return "file exists";
	case LIBSSH2_FX_WRITE_PROTECT:		return "write protected";
	}
	return "SFTP error";
}

static int
sftp_fail(struct xport *x, char **cause, const char *what, const char *path)
{
	struct ssh *h = x->impl;
	int le = libssh2_session_last_errno(h->s);

	if (le == LIBSSH2_ERROR_SFTP_PROTOCOL) {
		*cause = xasprintf("host %s: %s %s: %s", x->name, what, path,
		    sftp_errstr(libssh2_sftp_last_error(h->sftp)));
		return -1;
	}
	return fail(x, cause, what, path);
}

static int
sftp_ready(struct xport *x, char **cause)
{
	struct ssh *h = x->impl;

	if (h->sftp != NULL)
		return 0;
	libssh2_keepalive_send(h->s, NULL);
	h->sftp = libssh2_sftp_init(h->s);
	if (h->sftp == NULL)
		return fail(x, cause, "cannot start SFTP", NULL);
	return 0;
}

static bool
sftp_nofile(struct ssh *h)
{
	unsigned long e;

	if (libssh2_session_last_errno(h->s) != LIBSSH2_ERROR_SFTP_PROTOCOL)
		return false;
	e = libssh2_sftp_last_error(h->sftp);
	return e == LIBSSH2_FX_NO_SUCH_FILE || e == LIBSSH2_FX_NO_SUCH_PATH;
}

static int
ssh_exec(struct xport *x, const char *const *argv, const char *in, size_t inlen,
    struct xres *r, char **cause)
{
	struct ssh *h = x->impl;
	LIBSSH2_CHANNEL *ch;
	char *cmd, buf[16384], *sig = NULL;
	ssize_t n;
	size_t off = 0;

	libssh2_keepalive_send(h->s, NULL);
	ch = libssh2_channel_open_session(h->s);
	if (ch == NULL)
		return fail(x, cause, "cannot open a channel for", argv[0]);
	cmd = sh_join(argv);
	if (libssh2_channel_exec(ch, cmd) != 0) {
		free(cmd);
		libssh2_channel_free(ch);
		return fail(x, cause, "cannot run", argv[0]);
	}
	free(cmd);
	while (off < inlen) {
		n = libssh2_channel_write(ch, in + off, inlen - off);
		if (n < 0)
			goto err;
		off += (size_t)n;
	}
	if (libssh2_channel_send_eof(ch) != 0)
		goto err;
	/* libssh2 queues stderr data while stdout is read, so read them in turn. */
	while ((n = libssh2_channel_read(ch, buf, sizeof buf)) > 0)
		sb_addn(&r->out, buf, (size_t)n);
	if (n < 0)
		goto err;
	while ((n = libssh2_channel_read_stderr(ch, buf, sizeof buf)) > 0)
		sb_addn(&r->err, buf, (size_t)n);
	if (n < 0)
		goto err;
	libssh2_channel_close(ch);
	libssh2_channel_wait_closed(ch);
	r->status = libssh2_channel_get_exit_status(ch);
	if (libssh2_channel_get_exit_signal(ch, &sig, NULL, NULL, NULL, NULL, NULL) == 0 &&
	    sig != NULL) {
		r->status = -1;
		libssh2_free(h->s, sig);
	}
	libssh2_channel_free(ch);
	return 0;
err:
	fail(x, cause, "running", argv[0]);
	libssh2_channel_free(ch);
	return -1;
}

static int
ssh_read(struct xport *x, const char *path, struct sbuf *out, bool *missing,
    char **cause)
{
	struct ssh *h = x->impl;
	LIBSSH2_SFTP_HANDLE *fh;
	char buf[32768];
	ssize_t n;

	if (sftp_ready(x, cause) == -1)
		return -1;
	fh = libssh2_sftp_open(h->sftp, path, LIBSSH2_FXF_READ, 0);
	if (fh == NULL) {
		if (sftp_nofile(h)) {
			*missing = true;
			return 0;
		}
		return sftp_fail(x, cause, "cannot read", path);
	}
	sb_reset(out);
	sb_add(out, "");
	while ((n = libssh2_sftp_read(fh, buf, sizeof buf)) > 0)
		sb_addn(out, buf, (size_t)n);
	libssh2_sftp_close(fh);
	if (n < 0)
		return sftp_fail(x, cause, "cannot read", path);
	return 0;
}

static int
ssh_lstat(struct xport *x, const char *path, struct xstat *st, char **cause)
{
	struct ssh *h = x->impl;
	LIBSSH2_SFTP_ATTRIBUTES a;

	if (sftp_ready(x, cause) == -1)
		return -1;
	if (libssh2_sftp_stat_ex(h->sftp, path, (unsigned)strlen(path), LIBSSH2_SFTP_LSTAT,
	    &a) != 0) {
		if (sftp_nofile(h))
			return 0;
		return sftp_fail(x, cause, "cannot stat", path);
	}
	st->exists = true;
	st->is_dir = LIBSSH2_SFTP_S_ISDIR(a.permissions);
	st->is_link = LIBSSH2_SFTP_S_ISLNK(a.permissions);
	st->mode = (unsigned)(a.permissions & 07777);
	st->size = a.filesize;
	st->mtime = (long long)a.mtime;
	if (a.flags & LIBSSH2_SFTP_ATTR_UIDGID) {
		st->uid = (long)a.uid;
		st->gid = (long)a.gid;
	}
	return 0;
}

static int
ssh_readlink(struct xport *x, const char *path, char **target, char **cause)
{
	struct ssh *h = x->impl;
	char buf[4096];
	int n;

	if (sftp_ready(x, cause) == -1)
		return -1;
	n = libssh2_sftp_readlink(h->sftp, path, buf, sizeof buf - 1);
	if (n < 0)
		return sftp_fail(x, cause, "cannot read symlink", path);
	buf[n] = '\0';
	*target = xstrdup(buf);
	return 0;
}

/*
 * SFTP v3 reports ENOSPC as a plain "failure": after a failed write, ask the server
 * (statvfs@openssh.com) whether the file system is full and say so. Returns -1.
 */
static int
full_disk(struct xport *x, const char *path, size_t len, char **cause)
{
	struct ssh *h = x->impl;
	LIBSSH2_SFTP_STATVFS vfs;
	char *dir = xstrdup(path), *slash = strrchr(dir, '/');

	if (slash != NULL)
		*(slash == dir ? slash + 1 : slash) = '\0';
	if (libssh2_sftp_statvfs(h->sftp, dir, strlen(dir), &vfs) == 0 &&
	    (unsigned long long)vfs.f_bavail * vfs.f_frsize < (unsigned long long)len + 65536) {
		char *c = *cause;

		*cause = xasprintf("%s (no space left on the device: %llu bytes free in %s)", c,
		    (unsigned long long)vfs.f_bavail * vfs.f_frsize, dir);
		free(c);
	}
	free(dir);
	return -1;
}

static int
ssh_write(struct xport *x, const char *path, const char *data, size_t len,
    unsigned mode, char **cause)
{
	struct ssh *h = x->impl;
	LIBSSH2_SFTP_HANDLE *fh;
	LIBSSH2_SFTP_ATTRIBUTES a;
	size_t off = 0;

	if (h->readonly)
		fatal("write through a read-only SSH session");
	if (sftp_ready(x, cause) == -1)
		return -1;
	fh = libssh2_sftp_open(h->sftp, path,
	    LIBSSH2_FXF_WRITE | LIBSSH2_FXF_CREAT | LIBSSH2_FXF_TRUNC, (long)mode);
	if (fh == NULL)
		return sftp_fail(x, cause, "cannot create", path);
	while (off < len) {
		ssize_t n = libssh2_sftp_write(fh, data + off, len - off);

		if (n < 0) {
			sftp_fail(x, cause, "cannot write", path);
			libssh2_sftp_close(fh);
			return full_disk(x, path, len, cause);
		}
		off += (size_t)n;
	}
	/* The server's umask applies at open: set the mode explicitly. */
	memset(&a, 0, sizeof a);
	a.flags = LIBSSH2_SFTP_ATTR_PERMISSIONS;
	a.permissions = mode;
	if (libssh2_sftp_fsetstat(fh, &a) != 0) {
		libssh2_sftp_close(fh);
		return sftp_fail(x, cause, "cannot set the mode of", path);
	}
	if (libssh2_sftp_fsync(fh) != 0) {
		sftp_fail(x, cause, "cannot fsync (fsync@openssh.com)", path);
		libssh2_sftp_close(fh);
		return full_disk(x, path, len, cause);
	}
	if (libssh2_sftp_close(fh) != 0) {
		sftp_fail(x, cause, "cannot close", path);
		return full_disk(x, path, len, cause);
	}
	return 0;
}

/* Run argv on the host; a non-zero exit is an error "host NAME: WHAT: its stderr",
 * WHAT formatted from fmt. */
static int __attribute__((format(printf, 4, 5)))
ssh_run(struct xport *x, const char *const *argv, char **cause, const char *fmt, ...)
{
	struct xres r;
	va_list ap;
	char *what;
	int rc;

	xres_init(&r);
	rc = ssh_exec(x, argv, NULL, 0, &r, cause);
	if (rc == 0 && r.status != 0) {
		va_start(ap, fmt);
		what = xvasprintf(fmt, ap);
		va_end(ap);
		*cause = xasprintf("host %s: %s: %s", x->name, what, r.err.s);
		free(what);
		rc = -1;
	}
	xres_free(&r);
	return rc;
}

/* SFTP v3 rename refuses an existing target and libssh2 1.10 has no posix-rename:
 * rename(2) through mv -T, which replaces the target atomically. */
static int
ssh_rename(struct xport *x, const char *from, const char *to, char **cause)
{
	const char *argv[] = { "mv", "-fT", "--", from, to, NULL };

	return ssh_run(x, argv, cause, "cannot rename %s to %s", from, to);
}

static int
ssh_mkdir(struct xport *x, const char *path, unsigned mode, bool *existed, char **cause)
{
	struct ssh *h = x->impl;
	struct xstat st;

	if (sftp_ready(x, cause) == -1)
		return -1;
	if (libssh2_sftp_mkdir(h->sftp, path, (long)mode) == 0)
		return 0;
	/* OpenSSH reports EEXIST as a plain failure: look. */
	memset(&st, 0, sizeof st);
	if (ssh_lstat(x, path, &st, cause) == 0 && st.exists) {
		*existed = true;
		return 0;
	}
	if (*cause != NULL) {
		free(*cause);
		*cause = NULL;
	}
	return sftp_fail(x, cause, "cannot create directory", path);
}

/* SFTP remove or rmdir; what is already gone is not an error. */
static int
ssh_remove(struct xport *x, const char *path, bool dir, char **cause)
{
	struct ssh *h = x->impl;
	int rc;

	if (sftp_ready(x, cause) == -1)
		return -1;
	rc = dir ? libssh2_sftp_rmdir(h->sftp, path) : libssh2_sftp_unlink(h->sftp, path);
	if (rc != 0 && !sftp_nofile(h))
		return sftp_fail(x, cause, dir ? "cannot remove directory" : "cannot remove",
		    path);
	return 0;
}

static int
ssh_unlink(struct xport *x, const char *path, char **cause)
{
	return ssh_remove(x, path, false, cause);
}

static int
ssh_rmdir(struct xport *x, const char *path, char **cause)
{
	return ssh_remove(x, path, true, cause);
}

static int
ssh_symlink(struct xport *x, const char *target, const char *path, char **cause)
{
	const char *argv[] = { "ln", "-sfn", "--", target, path, NULL };

	return ssh_run(x, argv, cause, "cannot create symlink %s", path);
}

static int
ssh_chown(struct xport *x, const char *path, long uid, long gid, char **cause)
{
	struct ssh *h = x->impl;
	LIBSSH2_SFTP_ATTRIBUTES a;

	if (sftp_ready(x, cause) == -1)
		return -1;
	memset(&a, 0, sizeof a);
	a.flags = LIBSSH2_SFTP_ATTR_UIDGID;
	a.uid = (unsigned long)uid;
	a.gid = (unsigned long)gid;
	if (libssh2_sftp_stat_ex(h->sftp, path, (unsigned)strlen(path), LIBSSH2_SFTP_SETSTAT,
	    &a) != 0)
		return sftp_fail(x, cause, "cannot change the owner of", path);
	return 0;
}

static void
ssh_close(struct xport *x)
{
	struct ssh *h = x->impl;

	if (h->sftp != NULL)
		libssh2_sftp_shutdown(h->sftp);
	if (h->s != NULL) {
		libssh2_session_disconnect(h->s, "mxdeck done");
		libssh2_session_free(h->s);
	}
	if (h->sock != -1)
		close(h->sock);
	free(h);
}

static int
ssh_statvfs(struct xport *x, const char *path, struct xstatvfs *vfs, char **cause)
{
	struct ssh *h = x->impl;
	LIBSSH2_SFTP_STATVFS sv;

	if (sftp_ready(x, cause) == -1)
		return -1;
	if (libssh2_sftp_statvfs(h->sftp, path, strlen(path), &sv) != 0)
		return sftp_fail(x, cause, "cannot statvfs", path);
	vfs->avail = (unsigned long long)sv.f_bavail * sv.f_frsize;
	vfs->total = (unsigned long long)sv.f_blocks * sv.f_frsize;
	vfs->readonly = (sv.f_flag & LIBSSH2_SFTP_ST_RDONLY) != 0;
	return 0;
}

static const struct xport_ops ssh_ops = {
	.name = "ssh",
	.exec = ssh_exec,
	.read = ssh_read,
	.lstat = ssh_lstat,
	.readlink = ssh_readlink,
	.statvfs = ssh_statvfs,
	.write = ssh_write,
	.rename = ssh_rename,
	.mkdir = ssh_mkdir,
	.unlink = ssh_unlink,
	.rmdir = ssh_rmdir,
	.symlink = ssh_symlink,
	.chown = ssh_chown,
	.close = ssh_close,
};

/* TCP connect with a deadline; -1 + *cause. */
static int
tcp_connect(const char *name, const char *addr, int port, int timeout, char **cause)
{
	struct addrinfo hints, *res = NULL, *ai;
	char portstr[16];
	int rc, fd = -1, err = 0;

	memset(&hints, 0, sizeof hints);
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	snprintf(portstr, sizeof portstr, "%d", port);
	rc = getaddrinfo(addr, portstr, &hints, &res);
	if (rc != 0) {
		*cause = xasprintf("host %s: cannot resolve %s: %s", name, addr,
		    gai_strerror(rc));
		return -1;
	}
	for (ai = res; ai != NULL; ai = ai->ai_next) {
		struct pollfd pfd;
		socklen_t sl = sizeof err;
		int flags;

		fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC, ai->ai_protocol);
		if (fd == -1) {
			err = errno;
			continue;
		}
		flags = fcntl(fd, F_GETFL);
		fcntl(fd, F_SETFL, flags | O_NONBLOCK);
		if (connect(fd, ai->ai_addr, ai->ai_addrlen) == -1) {
			if (errno != EINPROGRESS) {
				err = errno;
				close(fd);
				fd = -1;
				continue;
			}
			pfd.fd = fd;
			pfd.events = POLLOUT;
			rc = poll(&pfd, 1, timeout * 1000);
			if (rc <= 0) {
				err = rc == 0 ? ETIMEDOUT : errno;
				close(fd);
				fd = -1;
				continue;
			}
			if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &sl) == -1 || err != 0) {
				if (err == 0)
					err = errno;
				close(fd);
				fd = -1;
				continue;
			}
		}
		fcntl(fd, F_SETFL, flags);
		break;
	}
	freeaddrinfo(res);
	if (fd == -1) {
		*cause = xasprintf("host %s: cannot connect to %s port %d: %s", name, addr,
		    port, err == ETIMEDOUT ? "timed out" : strerror(err));
		return -1;
	}
	return fd;
}

static char *
expand_home(const char *path)
{
	const char *home = getenv("HOME");

	if (path[0] == '~' && path[1] == '/') {
		if (home == NULL) {
			struct passwd *pw = getpwuid(getuid());

			home = pw != NULL ? pw->pw_dir : "";
		}
		return xasprintf("%s%s", home, path + 1);
	}
	return xstrdup(path);
}

static int
try_agent(struct ssh *h, const char *user)
{
	LIBSSH2_AGENT *agent;
	struct libssh2_agent_publickey *id = NULL, *prev = NULL;
	int ok = 0;

	if (getenv("SSH_AUTH_SOCK") == NULL)
		return 0;
	agent = libssh2_agent_init(h->s);
	if (agent == NULL)
		return 0;
	if (libssh2_agent_connect(agent) == 0 && libssh2_agent_list_identities(agent) == 0) {
		while (libssh2_agent_get_identity(agent, &id, prev) == 0) {
			if (libssh2_agent_userauth(agent, user, id) == 0) {
				ok = 1;
				break;
			}
			prev = id;
		}
		libssh2_agent_disconnect(agent);
	}
	libssh2_agent_free(agent);
	return ok;
}

static int
authenticate(struct xport *x, const struct host *host, const struct xport_ssh_opts *o,
    char **cause)
{
	struct ssh *h = x->impl;
	const char *user = host->user != NULL ? host->user : "root";
	const char *defaults[] = { "~/.ssh/id_ed25519", "~/.ssh/id_ecdsa", "~/.ssh/id_rsa" };
	struct strv tried = { 0 };
	char *methods;
	int ok = 0;

	methods = libssh2_userauth_list(h->s, user, (unsigned)strlen(user));
	if (methods == NULL) {
		if (libssh2_userauth_authenticated(h->s))
			return 0;
		return fail(x, cause, "cannot list authentication methods for user", user);
	}
	if (strstr(methods, "publickey") == NULL) {
		*cause = xasprintf("host %s: the server offers no public key authentication "
		    "for %s (it offers: %s); mxdeck never uses passwords", x->name, user,
		    methods);
		return -1;
	}
	ok = try_agent(h, user);
	if (!ok) {
		const char *explicit[2] = { o->identity, host->identity };
		bool any = false;

		for (size_t i = 0; i < 2 && !ok; i++) {
			char *path;

			if (explicit[i] == NULL)
				continue;
			any = true;
			path = expand_home(explicit[i]);
			strv_push(&tried, path);
			if (libssh2_userauth_publickey_fromfile(h->s, user, NULL, path,
			    NULL) == 0)
				ok = 1;
			free(path);
		}
		for (size_t i = 0; !any && i < nitems(defaults) && !ok; i++) {
			char *path = expand_home(defaults[i]);

			if (access(path, R_OK) == 0) {
				strv_push(&tried, path);
				if (libssh2_userauth_publickey_fromfile(h->s, user, NULL, path,
				    NULL) == 0)
					ok = 1;
			}
			free(path);
		}
	}
	if (!ok) {
		struct sbuf b;

		sb_init(&b);
		sb_add(&b, "");
		for (size_t i = 0; i < tried.n; i++)
			sb_addf(&b, "%s%s", i ? ", " : "", tried.v[i]);
		*cause = xasprintf("host %s: authentication as %s failed (ssh-agent%s%s%s); "
		    "load the key into ssh-agent or set identity = FILE / --identity FILE",
		    x->name, user, getenv("SSH_AUTH_SOCK") ? "" : " not running",
		    tried.n ? ", keys: " : ", no key file", b.s);
		sb_free(&b);
	}
	strv_free(&tried);
	return ok ? 0 : -1;
}

struct xport *
xport_ssh_open(const struct host *host, const struct xport_ssh_opts *o, char **cause)
{
	struct xport *x = xcalloc(1, sizeof *x);
	struct ssh *h = xcalloc(1, sizeof *h);
	const char *key;
	size_t keylen;
	int type, port = host->port > 0 ? host->port : 22;
	char *khfile = o->known_hosts != NULL ? xstrdup(o->known_hosts) : kh_default_file();
	enum kh_result khr;
	size_t khline;

	x->ops = &ssh_ops;
	x->impl = h;
	x->name = xstrdup(host->name);
	x->readonly = o->readonly;
	h->readonly = o->readonly;
	h->sock = tcp_connect(host->name, host->address, port,
	    o->connect_timeout > 0 ? o->connect_timeout : 10, cause);
	if (h->sock == -1)
		goto err;
	h->s = libssh2_session_init();
	if (h->s == NULL)
		fatal("libssh2_session_init failed");
	libssh2_session_set_blocking(h->s, 1);
	/* Handshake and authentication within the connect timeout; then per operation. */
	libssh2_session_set_timeout(h->s,
	    (long)(o->connect_timeout > 0 ? o->connect_timeout : 10) * 1000);
	if (libssh2_session_handshake(h->s, h->sock) != 0) {
		fail(x, cause, "SSH handshake failed with", host->address);
		goto err;
	}
	libssh2_keepalive_config(h->s, 1, 15);

	key = libssh2_session_hostkey(h->s, &keylen, &type);
	if (key == NULL) {
		fail(x, cause, "no host key from", host->address);
		goto err;
	}
	if (kh_check(h->s, khfile, host->address, port, key, keylen, type, &khr, &khline,
	    cause) == -1)
		goto err;
	if (khr != KH_MATCH && (khr != KH_UNKNOWN || !o->accept_new)) {
		char *fp = kh_fingerprint(key, keylen), *name = kh_name(host->address, port);
		const char *tname = kh_type_name(type) ? kh_type_name(type) : "key";

		switch (khr) {
		case KH_REVOKED:
			*cause = xasprintf("host %s: REVOKED HOST KEY for %s: the server "
			    "presents %s %s, which %s line %zu marks @revoked; refusing to "
			    "connect (a revoked key is never accepted nor recorded, whatever "
			    "other line lists it; if the host was re-keyed, record its new key)",
			    x->name, name, tname, fp, khfile, khline);
			break;
		case KH_CERT_AUTHORITY:
			*cause = xasprintf("host %s: %s line %zu trusts a certificate "
			    "authority (@cert-authority) for %s, but mxdeck does not support "
			    "SSH host certificates; the server presents %s %s; verify that "
			    "fingerprint, then add the host key itself: ssh-keyscan -p %d -t %s "
			    "%s >> %s", x->name, khfile, khline, name, tname, fp, port, tname,
			    host->address, khfile);
			break;
		case KH_CHANGED:
			*cause = xasprintf("host %s: HOST KEY CHANGED for %s: the server now "
			    "presents %s %s, which does not match %s; refusing to connect (if "
			    "the change is expected, remove the old entry with ssh-keygen -R "
			    "'%s' -f %s)", x->name, name, tname, fp, khfile, name, khfile);
			break;
		default:
			*cause = xasprintf("host %s: unknown host key for %s (%s %s) in %s; "
			    "verify the fingerprint, then run again with "
			    "--accept-new-host-keys to record it", x->name, name, tname, fp,
			    khfile);
			break;
		}
		free(fp);
		free(name);
		goto err;
	}
	if (khr == KH_UNKNOWN &&
	    kh_add(khfile, host->address, port, key, keylen, type, cause) == -1)
		goto err;
	if (authenticate(x, host, o, cause) == -1)
		goto err;
	libssh2_session_set_timeout(h->s, (long)(o->timeout > 0 ? o->timeout : 60) * 1000);
	free(khfile);
	return x;
err:
	free(khfile);
	xport_close(x);
	return NULL;
}
