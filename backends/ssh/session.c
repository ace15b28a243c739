/* session.c: the libssh2 transport: one SSH session per host, exec channels for
 * commands, SFTP for files. Where to connect, as whom, with which keys and known_hosts
 * files comes from ssh_config (sshconfig.c) as ssh would read it; with ProxyJump the
 * session runs over direct-tcpip channels of one session per jump host, each fed by a
 * forwarding thread through a socketpair. */
#include "backends/ssh/xport.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <poll.h>
#include <pthread.h>
#include <pwd.h>
#include <signal.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#include <libssh2.h>
#include <libssh2_sftp.h>
#include <openssl/evp.h>

#include "profiles/site.h"
#include "backends/ssh/knownhosts.h"
#include "backends/ssh/quote.h"
#include "backends/ssh/sshconfig.h"

/* A jump host: its session, the channel to the next hop and the thread feeding it. */
struct hop {
	LIBSSH2_SESSION *s;
	LIBSSH2_CHANNEL *ch;
	int	 sock;		/* TCP (first hop) or the previous hop's pair[1] */
	int	 pair[2];	/* [0] pumped to ch; [1] the next session's socket */
	pthread_t thr;
	bool	 running;
	int	 alive;		/* keepalive interval, seconds; 0: none */
};

struct ssh {
	int	 sock;
	LIBSSH2_SESSION *s;
	LIBSSH2_SFTP *sftp;
	bool	 readonly;
	struct hop *hops;	/* ProxyJump, first hop first */
	size_t	 nhops;
};

static void hops_close(struct hop *hops, size_t n);

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
ssh_write_flags(struct xport *x, const char *path, const char *data, size_t len,
    unsigned mode, unsigned long flags, char **cause)
{
	struct ssh *h = x->impl;
	LIBSSH2_SFTP_HANDLE *fh;
	LIBSSH2_SFTP_ATTRIBUTES a;
	size_t off = 0;

	if (h->readonly)
		fatal("write through a read-only SSH session");
	if (sftp_ready(x, cause) == -1)
		return -1;
	fh = libssh2_sftp_open(h->sftp, path, flags, (long)mode);
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

static int
ssh_write(struct xport *x, const char *path, const char *data, size_t len,
    unsigned mode, char **cause)
{
	return ssh_write_flags(x, path, data, len, mode,
	    LIBSSH2_FXF_WRITE | LIBSSH2_FXF_CREAT | LIBSSH2_FXF_TRUNC, cause);
}

static int
ssh_write_new(struct xport *x, const char *path, const char *data, size_t len,
    unsigned mode, char **cause)
{
	/* sftp-server opens with O_CREAT | O_EXCL: a symlink at path fails, unfollowed. */
	return ssh_write_flags(x, path, data, len, mode,
	    LIBSSH2_FXF_WRITE | LIBSSH2_FXF_CREAT | LIBSSH2_FXF_EXCL, cause);
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
	if (h->hops != NULL)
		hops_close(h->hops, h->nhops);
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
	.write_new = ssh_write_new,
	.chown = ssh_chown,
	.close = ssh_close,
};

/* TCP connect with a deadline; -1 + *cause (prefixed with label). */
static int
tcp_connect(const char *label, const char *addr, int port, int timeout, const char *hint,
    char **cause)
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
		*cause = xasprintf("%s: cannot resolve %s: %s%s", label, addr, gai_strerror(rc),
		    hint);
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
		*cause = xasprintf("%s: cannot connect to %s port %d: %s", label, addr, port,
		    err == ETIMEDOUT ? "timed out" : strerror(err));
		return -1;
	}
	return fd;
}

/* One SSH endpoint: a jump host or the target, with what ssh_config says of it. */
struct ep {
	char	*label;		/* "host gw1" or "host gw1: jump host bast", for messages */
	char	*hostname;	/* to connect to, and its name in known_hosts */
	int	 port;
	char	*user;
	const char *profile_identity;	/* the target's identity = FILE */
	struct sshcfg cfg;
};

static void
ep_free(struct ep *e)
{
	free(e->label);
	free(e->hostname);
	free(e->user);
	sshcfg_free(&e->cfg);
}

static char *
local_user_name(void)
{
	struct passwd *pw = getpwuid(getuid());

	return xstrdup(pw != NULL && pw->pw_name != NULL ? pw->pw_name : "root");
}

/* An ssh_config path list to expanded paths; "none" gives none, an empty list the
 * defaults. -1 + *cause on a bad %-token. */
static int
ep_paths(const struct ep *e, const struct strv *list, const char *const *defaults,
    size_t ndefaults, struct strv *out, char **cause)
{
	char *c = NULL;

	if (list->n == 1 && strcasecmp(list->v[0], "none") == 0)
		return 0;
	for (size_t i = 0; i < (list->n ? list->n : ndefaults); i++) {
		const char *p = list->n ? list->v[i] : defaults[i];
		char *x = sshcfg_expand(p, e->cfg.host, e->hostname, e->port, e->user, &c);

		if (x == NULL) {
			*cause = xasprintf("%s: %s", e->label, c);
			free(c);
			return -1;
		}
		strv_push_owned(out, x);
	}
	return 0;
}

/* The known_hosts files of an endpoint: --known-hosts FILE or UserKnownHostsFile (the
 * first of them gets new keys), then GlobalKnownHostsFile. */
static int
ep_known_hosts(const struct ep *e, const struct xport_ssh_opts *o, struct strv *user,
    struct strv *global, char **cause)
{
	static const char *const udef[] = { "~/.ssh/known_hosts", "~/.ssh/known_hosts2" };
	static const char *const gdef[] = { "/etc/ssh/ssh_known_hosts",
	    "/etc/ssh/ssh_known_hosts2" };

	if (o->known_hosts != NULL)
		strv_push(user, o->known_hosts);
	else if (ep_paths(e, &e->cfg.user_known_hosts, udef, nitems(udef), user, cause) == -1)
		return -1;
	return ep_paths(e, &e->cfg.global_known_hosts, gdef, nitems(gdef), global, cause);
}

static void
sess_fail(LIBSSH2_SESSION *s, const char *label, char **cause, const char *what,
    const char *arg)
{
	char *msg = NULL;

	libssh2_session_last_error(s, &msg, NULL, 0);
	*cause = xasprintf("%s: %s%s%s: %s", label, what, arg ? " " : "", arg ? arg : "",
	    msg != NULL && *msg != '\0' ? msg : "unknown SSH error");
}

/* Strict host key check of endpoint e on session s; records an unknown key with
 * accept_new. */
static int
ep_hostkey(LIBSSH2_SESSION *s, const struct ep *e, const struct xport_ssh_opts *o,
    char **cause)
{
	struct strv user = { 0 }, global = { 0 }, all = { 0 };
	const char *key, *khfile, *tname;
	size_t keylen, which = 0, khline = 0;
	enum kh_result khr;
	char *fp, *name;
	int type, rc = -1;

	key = libssh2_session_hostkey(s, &keylen, &type);
	if (key == NULL) {
		sess_fail(s, e->label, cause, "no host key from", e->hostname);
		return -1;
	}
	if (ep_known_hosts(e, o, &user, &global, cause) == -1)
		goto out;
	for (size_t i = 0; i < user.n; i++)
		strv_push(&all, user.v[i]);
	for (size_t i = 0; i < global.n; i++)
		strv_push(&all, global.v[i]);
	if (kh_check_files(s, (const char *const *)all.v, all.n, e->hostname, e->port, key,
	    keylen, type, &khr, &which, &khline, cause) == -1)
		goto out;
	if (khr == KH_MATCH || (khr == KH_UNKNOWN && o->accept_new && user.n > 0)) {
		if (khr == KH_UNKNOWN && kh_add(user.v[0], e->hostname, e->port, key, keylen,
		    type, e->cfg.hash_known_hosts == 1, cause) == -1)
			goto out;
		rc = 0;
		goto out;
	}
	khfile = khr == KH_UNKNOWN ? (user.n > 0 ? user.v[0] : "(no UserKnownHostsFile)") :
	    all.v[which];
	fp = kh_fingerprint(key, keylen);
	name = kh_name(e->hostname, e->port);
	tname = kh_type_name(type) ? kh_type_name(type) : "key";
	switch (khr) {
	case KH_REVOKED:
		*cause = xasprintf("%s: REVOKED HOST KEY for %s: the server presents %s %s, "
		    "which %s line %zu marks @revoked; refusing to connect (a revoked key is "
		    "never accepted nor recorded, whatever other line lists it; if the host "
		    "was re-keyed, record its new key)", e->label, name, tname, fp, khfile,
		    khline);
		break;
	case KH_CERT_AUTHORITY:
		*cause = xasprintf("%s: %s line %zu trusts a certificate authority "
		    "(@cert-authority) for %s, but mxdeck does not support SSH host "
		    "certificates; the server presents %s %s; verify that fingerprint, then "
		    "add the host key itself: ssh-keyscan -p %d -t %s %s >> %s", e->label,
		    khfile, khline, name, tname, fp, e->port, tname, e->hostname,
		    user.n > 0 ? user.v[0] : khfile);
		break;
	case KH_CHANGED:
		*cause = xasprintf("%s: HOST KEY CHANGED for %s: the server now presents %s "
		    "%s, which does not match %s; refusing to connect (if the change is "
		    "expected, remove the old entry with ssh-keygen -R '%s' -f %s)", e->label,
		    name, tname, fp, khfile, name, khfile);
		break;
	default:
		*cause = xasprintf("%s: unknown host key for %s (%s %s) in %s%s%s; verify the "
		    "fingerprint, then run again with --accept-new-host-keys to record it",
		    e->label, name, tname, fp, khfile, global.n ? " and " : "",
		    global.n ? global.v[0] : "");
		break;
	}
	free(fp);
	free(name);
out:
	strv_free(&user);
	strv_free(&global);
	strv_free(&all);
	return rc;
}

/* The public key blob of FILE.pub, or NULL. */
static unsigned char *
pub_blob(const char *path, size_t *len)
{
	char *pub = xasprintf("%s.pub", path), *s, *cause = NULL, *b64, *end;
	unsigned char *blob = NULL;
	size_t n;
	int r;

	s = read_file(pub, NULL, &cause);
	free(pub);
	free(cause);
	if (s == NULL)
		return NULL;
	b64 = strchr(s, ' ');
	if (b64 != NULL) {
		b64++;
		end = b64 + strcspn(b64, " \t\r\n");
		*end = '\0';
		n = strlen(b64);
		if (n > 0 && n % 4 == 0 && n < 65536) {
			blob = xmalloc(n / 4 * 3 + 1);
			r = EVP_DecodeBlock(blob, (unsigned char *)b64, (int)n);
			if (r < 0) {
				free(blob);
				blob = NULL;
			} else {
				for (size_t i = n; i > 0 && b64[i - 1] == '='; i--)
					r--;
				*len = (size_t)r;
			}
		}
	}
	free(s);
	return blob;
}

/* Agent keys; with only (IdentitiesOnly), just those whose public key is one of ids'
 * FILE.pub. */
static int
try_agent(LIBSSH2_SESSION *s, const char *user, bool only, const struct strv *ids)
{
	LIBSSH2_AGENT *agent;
	struct libssh2_agent_publickey *id = NULL, *prev = NULL;
	int ok = 0;

	if (getenv("SSH_AUTH_SOCK") == NULL)
		return 0;
	agent = libssh2_agent_init(s);
	if (agent == NULL)
		return 0;
	if (libssh2_agent_connect(agent) == 0 && libssh2_agent_list_identities(agent) == 0) {
		while (libssh2_agent_get_identity(agent, &id, prev) == 0) {
			bool use = !only;

			for (size_t i = 0; only && !use && i < ids->n; i++) {
				size_t len = 0;
				unsigned char *b = pub_blob(ids->v[i], &len);

				use = b != NULL && len == id->blob_len &&
				    memcmp(b, id->blob, len) == 0;
				free(b);
			}
			if (use && libssh2_agent_userauth(agent, user, id) == 0) {
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

/* Is the private key file encrypted? (OpenSSH format: its cipher name is not "none";
 * PEM: an ENCRYPTED header.) A file we cannot read or parse: false (libssh2 says). */
static bool
key_encrypted(const char *path)
{
	static const char begin[] = "-----BEGIN OPENSSH PRIVATE KEY-----";
	char *s, *cause = NULL, *p;
	unsigned char raw[128];
	char b64[129];
	size_t len, n = 0;
	bool enc = false;

	s = read_file(path, &len, &cause);
	free(cause);
	if (s == NULL || len > 1024 * 1024) {
		free(s);
		return false;
	}
	if (strstr(s, "Proc-Type: 4,ENCRYPTED") != NULL ||
	    strstr(s, "-----BEGIN ENCRYPTED PRIVATE KEY-----") != NULL)
		enc = true;
	else if ((p = strstr(s, begin)) != NULL) {
		for (p += sizeof begin - 1; *p != '\0' && *p != '-' && n < sizeof b64 - 1; p++)
			if (*p != '\n' && *p != '\r' && *p != ' ')
				b64[n++] = *p;
		n -= n % 4;
		b64[n] = '\0';
		/* "openssh-key-v1\0", then the cipher name as an SSH string. */
		if (n >= 32 && EVP_DecodeBlock(raw, (unsigned char *)b64, (int)n) >= 23 &&
		    memcmp(raw, "openssh-key-v1", 15) == 0) {
			size_t cl = (size_t)raw[15] << 24 | (size_t)raw[16] << 16 |
			    (size_t)raw[17] << 8 | raw[18];

			enc = !(cl == 4 && memcmp(raw + 19, "none", 4) == 0);
		}
	}
	free(s);
	return enc;
}

/*
 * Ask for a passphrase on the controlling terminal, echo off. The line is read here,
 * a byte at a time with the terminal's own signals off, so that ^C restores the
 * terminal before the process is interrupted (as ssh's readpassphrase does); erase
 * and kill characters work. The terminal is one per process, so prompts from parallel
 * hosts take turns. 0, or -1 when there is no terminal.
 */
static pthread_mutex_t tty_lock = PTHREAD_MUTEX_INITIALIZER;

static int
ask_passphrase(const char *prompt, char *buf, size_t size)
{
	struct termios old, raw;
	size_t len = 0;
	int fd, rc = 0;
	bool intr = false;
	unsigned char c;

	pthread_mutex_lock(&tty_lock);
	fd = open("/dev/tty", O_RDWR | O_NOCTTY | O_CLOEXEC);
	if (fd == -1 || tcgetattr(fd, &old) == -1) {
		if (fd != -1)
			close(fd);
		pthread_mutex_unlock(&tty_lock);
		return -1;
	}
	raw = old;
	raw.c_lflag &= ~(tcflag_t)(ECHO | ECHONL | ICANON | ISIG);
	raw.c_cc[VMIN] = 1;
	raw.c_cc[VTIME] = 0;
	(void)tcsetattr(fd, TCSAFLUSH, &raw);
	(void)!write(fd, prompt, strlen(prompt));
	for (;;) {
		ssize_t n = read(fd, &c, 1);

		if (n == -1 && errno == EINTR)
			continue;
		if (n != 1) {
			rc = -1;
			break;
		}
		if (c == '\n' || c == '\r')
			break;
		if (c == old.c_cc[VINTR] || c == old.c_cc[VQUIT]) {
			intr = true;
			break;
		}
		if (c == old.c_cc[VEOF] && len == 0)
			break;
		if (c == old.c_cc[VERASE] || c == 0x7f || c == 0x08) {
			if (len > 0)
				len--;
		} else if (c == old.c_cc[VKILL])
			len = 0;
		else if (len < size - 1)
			buf[len++] = (char)c;
	}
	buf[len] = '\0';
	(void)tcsetattr(fd, TCSAFLUSH, &old);
	(void)!write(fd, "\n", 1);
	close(fd);
	pthread_mutex_unlock(&tty_lock);
	if (intr) {
		explicit_bzero(buf, size);
		/* What ^C would have done, now that the terminal is itself again. */
		raise(SIGINT);
		rc = -1;
	}
	return rc;
}

/* Public key authentication with one key file; an encrypted key asks for its
 * passphrase (three tries) when o->may_prompt. 1 authenticated, 0 not, and *locked set
 * when the key is encrypted and could not be used. */
static int
auth_file(LIBSSH2_SESSION *s, const char *user, const char *path,
    const struct xport_ssh_opts *o, bool *locked, bool *badpass)
{
	char pass[1024], *prompt;
	int ok = 0;

	if (!key_encrypted(path))
		return libssh2_userauth_publickey_fromfile(s, user, NULL, path, NULL) == 0;
	if (!o->may_prompt) {
		*locked = true;
		return 0;
	}
	prompt = xasprintf("Enter passphrase for key '%s': ", path);
	for (int i = 0; i < 3 && !ok; i++) {
		if (ask_passphrase(prompt, pass, sizeof pass) == -1) {
			*locked = true;
			break;
		}
		if (pass[0] == '\0') {	/* an empty answer gives up on this key, as ssh */
			break;
		}
		if (libssh2_userauth_publickey_fromfile(s, user, NULL, path, pass) == 0)
			ok = 1;
		else if (libssh2_session_last_errno(s) == LIBSSH2_ERROR_FILE)
			*badpass = true;
		else
			break;	/* the key decrypted but the server refused it */
	}
	explicit_bzero(pass, sizeof pass);
	free(prompt);
	return ok;
}

static int
ep_auth(LIBSSH2_SESSION *s, const struct ep *e, const struct xport_ssh_opts *o,
    char **cause)
{
	const char *user = e->user;
	const char *defaults[] = { "~/.ssh/id_ed25519", "~/.ssh/id_ecdsa", "~/.ssh/id_rsa" };
	const char *explicit[2] = { o->identity, e->profile_identity };
	struct strv ids = { 0 }, tried = { 0 }, locked = { 0 };
	bool only = e->cfg.identities_only == 1, any = false, badpass = false;
	size_t nexplicit = 0;	/* --identity and the profile's identity, first in ids */
	char *methods;
	int ok = 0;

	methods = libssh2_userauth_list(s, user, (unsigned)strlen(user));
	if (methods == NULL) {
		if (libssh2_userauth_authenticated(s))
			return 0;
		sess_fail(s, e->label, cause, "cannot list authentication methods for user",
		    user);
		return -1;
	}
	if (strstr(methods, "publickey") == NULL) {
		*cause = xasprintf("%s: the server offers no public key authentication for %s "
		    "(it offers: %s); mxdeck never uses passwords", e->label, user, methods);
		return -1;
	}
	/* --identity, the profile's identity, then ssh_config's IdentityFile lines (those
	 * that exist, as ssh); none of them: the default key files. */
	for (size_t i = 0; i < 2; i++)
		if (explicit[i] != NULL) {
			char *c = NULL, *p = sshcfg_expand(explicit[i], e->cfg.host, e->hostname,
			    e->port, user, &c);

			strv_push_owned(&ids, p != NULL ? p : xstrdup(explicit[i]));
			free(c);
			any = true;
			nexplicit++;
		}
	for (size_t i = 0; i < e->cfg.identity_files.n; i++) {
		char *c = NULL, *p = sshcfg_expand(e->cfg.identity_files.v[i], e->cfg.host,
		    e->hostname, e->port, user, &c);

		any = true;
		if (p == NULL) {
			*cause = xasprintf("%s: IdentityFile %s", e->label, c);
			free(c);
			strv_free(&ids);
			return -1;
		}
		if (access(p, R_OK) == 0 && !strv_has(&ids, p))
			strv_push(&ids, p);
		free(p);
	}
	for (size_t i = 0; !any && i < nitems(defaults); i++) {
		char *c = NULL, *p = sshcfg_expand(defaults[i], "", "", 0, "", &c);

		free(c);
		if (p != NULL && access(p, R_OK) == 0)
			strv_push(&ids, p);
		free(p);
	}
	ok = try_agent(s, user, only, &ids);
	for (size_t i = 0; !ok && i < ids.n; i++) {
		bool lk = false;
		char *ck = NULL;

		/* libssh2 reads a key file without a limit: a device, a FIFO or a huge
		 * file named by mistake is refused here first, naming the file. */
		if (check_input_file(ids.v[i], IK_IDENTITY, &ck) == -1) {
			if (errno == ENOENT) {	/* a missing key is tried no further */
				if (i < nexplicit)
					strv_push(&tried, ids.v[i]);
				free(ck);
				continue;
			}
			*cause = xasprintf("%s: %s", e->label, ck);
			free(ck);
			strv_free(&ids);
			strv_free(&tried);
			strv_free(&locked);
			return -1;
		}
		strv_push(&tried, ids.v[i]);
		ok = auth_file(s, user, ids.v[i], o, &lk, &badpass);
		if (lk)
			strv_push(&locked, ids.v[i]);
	}
	if (!ok) {
		struct sbuf b;

		sb_init(&b);
		sb_add(&b, "");
		for (size_t i = 0; i < tried.n; i++)
			sb_addf(&b, "%s%s", i ? ", " : "", tried.v[i]);
		if (locked.n > 0)
			*cause = xasprintf("%s: authentication as %s failed: the key %s is "
			    "encrypted (protected by a passphrase) and mxdeck asks for a "
			    "passphrase only on a terminal, never with --batch, in the console "
			    "or without a tty; load the key into ssh-agent (ssh-add %s) and run "
			    "again", e->label, user, locked.v[0], locked.v[0]);
		else
			*cause = xasprintf("%s: authentication as %s failed (ssh-agent%s%s%s%s); "
			    "load the key into ssh-agent or set identity = FILE / --identity "
			    "FILE", e->label, user, getenv("SSH_AUTH_SOCK") ? "" : " not running",
			    tried.n ? ", keys: " : ", no key file", b.s,
			    badpass ? ", wrong passphrase" : "");
		sb_free(&b);
	}
	strv_free(&ids);
	strv_free(&tried);
	strv_free(&locked);
	return ok ? 0 : -1;
}

static int
ep_timeout(const struct ep *e, const struct xport_ssh_opts *o)
{
	if (e->cfg.connect_timeout > 0)
		return e->cfg.connect_timeout;
	return o->connect_timeout > 0 ? o->connect_timeout : 10;
}

/* Handshake, host key, authentication of e over fd. NULL + *cause. */
static LIBSSH2_SESSION *
ep_session(const struct ep *e, int fd, const struct xport_ssh_opts *o, char **cause)
{
	LIBSSH2_SESSION *s = libssh2_session_init();
	int alive = e->cfg.server_alive_interval >= 0 ? e->cfg.server_alive_interval : 15;

	if (s == NULL)
		fatal("libssh2_session_init failed");
	libssh2_session_set_blocking(s, 1);
	/* Handshake and authentication within the connect timeout; then per operation. */
	libssh2_session_set_timeout(s, (long)ep_timeout(e, o) * 1000);
	if (libssh2_session_handshake(s, fd) != 0) {
		sess_fail(s, e->label, cause, "SSH handshake failed with", e->hostname);
		goto err;
	}
	if (alive > 0)
		libssh2_keepalive_config(s, 1, (unsigned)alive);
	if (ep_hostkey(s, e, o, cause) == -1 || ep_auth(s, e, o, cause) == -1)
		goto err;
	return s;
err:
	libssh2_session_disconnect(s, "mxdeck: giving up");
	libssh2_session_free(s);
	return NULL;
}

/*
 * A jump host's forwarding: the thread moves bytes between the direct-tcpip channel
 * (its session non-blocking, used by this thread only) and pair[0], whose other end
 * is the next session's socket. It ends when either side closes.
 */
static void *
pump(void *arg)
{
	struct hop *p = arg;
	char up[16384], down[16384];
	size_t uplen = 0, upoff = 0, downlen = 0, downoff = 0;
	bool ch_eof = false;

	for (;;) {
		bool moved = false;
		struct pollfd pfd[2];
		int dir, next = 0;
		ssize_t n;

		if (downlen == 0 && !ch_eof) {
			n = libssh2_channel_read(p->ch, down, sizeof down);
			if (n > 0) {
				downlen = (size_t)n;
				downoff = 0;
				moved = true;
			} else if (n == 0 || n == LIBSSH2_ERROR_EAGAIN) {
				/* 0 is end of file, or a packet for the session (a window
				 * adjustment, a keepalive reply) was read: read again. */
				if (libssh2_channel_eof(p->ch))
					ch_eof = true;
				else if (n == 0)
					moved = true;
			} else
				break;
		}
		if (downlen > 0) {
			n = send(p->pair[0], down + downoff, downlen - downoff, MSG_NOSIGNAL);
			if (n > 0) {
				downoff += (size_t)n;
				if (downoff == downlen)
					downlen = 0;
				moved = true;
			} else if (errno != EAGAIN && errno != EINTR)
				break;
		}
		if (ch_eof && downlen == 0)
			break;
		if (uplen == 0) {
			n = recv(p->pair[0], up, sizeof up, 0);
			if (n > 0) {
				uplen = (size_t)n;
				upoff = 0;
				moved = true;
			} else if (n == 0)
				break;
			else if (errno != EAGAIN && errno != EINTR)
				break;
		}
		if (uplen > 0) {
			n = libssh2_channel_write(p->ch, up + upoff, uplen - upoff);
			if (n > 0) {
				upoff += (size_t)n;
				if (upoff == uplen)
					uplen = 0;
				moved = true;
			} else if (n != LIBSSH2_ERROR_EAGAIN && n != 0)
				break;
		}
		if (p->alive > 0)
			libssh2_keepalive_send(p->s, &next);
		if (moved)
			continue;
		dir = libssh2_session_block_directions(p->s);
		pfd[0].fd = p->sock;
		pfd[0].events = (downlen == 0 || uplen > 0 ? POLLIN : 0) |
		    (dir & LIBSSH2_SESSION_BLOCK_OUTBOUND ? POLLOUT : 0);
		pfd[1].fd = p->pair[0];
		pfd[1].events = (uplen == 0 ? POLLIN : 0) | (downlen > 0 ? POLLOUT : 0);
		if (poll(pfd, 2, p->alive > 0 ? (next > 0 ? next : p->alive) * 1000 : -1) ==
		    -1 && errno != EINTR)
			break;
	}
	shutdown(p->pair[0], SHUT_RDWR);
	return NULL;
}

/* Undo hops [0, n) from the last: each one's thread ends when its pair closes. */
static void
hops_close(struct hop *hops, size_t n)
{
	for (size_t k = n; k-- > 0; ) {
		struct hop *p = &hops[k];

		if (p->pair[1] != -1)
			close(p->pair[1]);
		if (p->running) {
			shutdown(p->pair[0], SHUT_RDWR);
			pthread_join(p->thr, NULL);
		}
		if (p->s != NULL) {
			libssh2_session_set_blocking(p->s, 1);
			libssh2_session_set_timeout(p->s, 5000);
			if (p->ch != NULL)
				libssh2_channel_free(p->ch);
			libssh2_session_disconnect(p->s, "mxdeck done");
			libssh2_session_free(p->s);
		}
		if (p->pair[0] != -1)
			close(p->pair[0]);
		if (p->sock != -1)
			close(p->sock);
	}
	free(hops);
}

/*
 * The endpoints of a ProxyJump list, first hop first. As ssh does, the first hop's own
 * ssh_config ProxyJump is followed (ssh -J runs ssh for it), the later hops' are not.
 */
static int
add_hops(const struct xport_ssh_opts *o, const char *target, const char *spec, int depth,
    struct ep **eps, size_t *n, size_t *cap, char **cause)
{
	struct sshcfg_hop *hv = NULL;
	size_t nh = 0;
	char *c = NULL;
	int rc = 0;

	if (sshcfg_parse_jump(spec, &hv, &nh, &c) == -1) {
		*cause = xasprintf("host %s: ProxyJump %s", target, c);
		free(c);
		return -1;
	}
	for (size_t i = 0; i < nh && rc == 0; i++) {
		struct ep e;

		memset(&e, 0, sizeof e);
		if (sshcfg_resolve(o->ssh_config, hv[i].host, &e.cfg, cause) == -1) {
			rc = -1;
			break;
		}
		if (i == 0 && e.cfg.proxy_command != NULL) {
			*cause = xasprintf("host %s: jump host %s: ssh_config sets ProxyCommand, "
			    "which mxdeck does not run; use ProxyJump", target, hv[i].host);
			rc = -1;
		} else if (i == 0 && e.cfg.proxy_jump != NULL &&
		    strcasecmp(e.cfg.proxy_jump, "none") != 0) {
			if (depth >= SSHCFG_MAX_HOPS) {
				*cause = xasprintf("host %s: ProxyJump nests more than %d jump "
				    "hosts (a loop in ssh_config?)", target, SSHCFG_MAX_HOPS);
				rc = -1;
			} else
				rc = add_hops(o, target, e.cfg.proxy_jump, depth + 1, eps, n, cap,
				    cause);
		}
		if (rc == 0 && *n >= SSHCFG_MAX_HOPS) {
			*cause = xasprintf("host %s: more than %d jump hosts", target,
			    SSHCFG_MAX_HOPS);
			rc = -1;
		}
		if (rc == -1) {
			sshcfg_free(&e.cfg);
			break;
		}
		e.label = xasprintf("host %s: jump host %s", target, hv[i].host);
		e.hostname = xstrdup(e.cfg.hostname != NULL ? e.cfg.hostname : e.cfg.host);
		if (e.cfg.hostname == NULL)
			for (char *p = e.hostname; *p != '\0'; p++)
				*p = (char)tolower((unsigned char)*p);
		e.port = hv[i].port > 0 ? hv[i].port : e.cfg.port > 0 ? e.cfg.port : 22;
		e.user = hv[i].user != NULL ? xstrdup(hv[i].user) :
		    e.cfg.user != NULL ? xstrdup(e.cfg.user) : local_user_name();
		xgrow(eps, cap, *n + 1, sizeof **eps);
		(*eps)[(*n)++] = e;
	}
	sshcfg_hops_free(hv, nh);
	return rc;
}

struct xport *
xport_ssh_open(const struct host *host, const struct xport_ssh_opts *o, char **cause)
{
	struct xport *x = xcalloc(1, sizeof *x);
	struct ssh *h = xcalloc(1, sizeof *h);
	struct ep t, *eps = NULL;
	size_t neps = 0, cap = 0;
	int fd = -1;

	x->ops = &ssh_ops;
	x->impl = h;
	x->name = xstrdup(host->name);
	x->readonly = o->readonly;
	h->readonly = o->readonly;
	h->sock = -1;
	memset(&t, 0, sizeof t);
	if (sshcfg_resolve(o->ssh_config, host->address, &t.cfg, cause) == -1)
		goto err;
	/* The profile's port and user, when written, win; then ssh_config; then 22, root. */
	t.label = xasprintf("host %s", host->name);
	t.hostname = xstrdup(t.cfg.hostname != NULL ? t.cfg.hostname : host->address);
	if (t.cfg.hostname == NULL)	/* as ssh, which lowercases the name */
		for (char *p = t.hostname; *p != '\0'; p++)
			*p = (char)tolower((unsigned char)*p);
	t.port = host->port_set || t.cfg.port == 0 ? (host->port > 0 ? host->port : 22) :
	    t.cfg.port;
	t.user = xstrdup(host->user_set || t.cfg.user == NULL ?
	    (host->user != NULL ? host->user : "root") : t.cfg.user);
	t.profile_identity = host->identity;
	if (t.cfg.proxy_command != NULL) {
		*cause = xasprintf("host %s: ssh_config sets ProxyCommand for %s, which mxdeck "
		    "does not run; use ProxyJump", host->name, host->address);
		goto err;
	}
	if (t.cfg.proxy_jump != NULL && strcasecmp(t.cfg.proxy_jump, "none") != 0 &&
	    add_hops(o, host->name, t.cfg.proxy_jump, 1, &eps, &neps, &cap, cause) == -1)
		goto err;

	h->hops = xcalloc(neps + 1, sizeof *h->hops);
	for (size_t k = 0; k < neps; k++) {
		const struct ep *e = &eps[k], *nx = k + 1 < neps ? &eps[k + 1] : &t;
		struct hop *p = &h->hops[k];
		char *hint;

		p->sock = p->pair[0] = p->pair[1] = -1;
		h->nhops = k + 1;
		if (k == 0) {
			hint = e->cfg.hostname == NULL ? xasprintf(" (nor is it a Host with a "
			    "HostName in %s)", o->ssh_config != NULL ? o->ssh_config :
			    "~/.ssh/config or /etc/ssh/ssh_config") : xstrdup("");
			p->sock = tcp_connect(e->label, e->hostname, e->port, ep_timeout(e, o),
			    hint, cause);
			free(hint);
			if (p->sock == -1)
				goto err;
		} else {
			p->sock = h->hops[k - 1].pair[1];
			h->hops[k - 1].pair[1] = -1;
		}
		p->s = ep_session(e, p->sock, o, cause);
		if (p->s == NULL)
			goto err;
		p->ch = libssh2_channel_direct_tcpip_ex(p->s, nx->hostname, nx->port,
		    "127.0.0.1", 22);
		if (p->ch == NULL) {
			char *what = xasprintf("cannot open a connection through it to %s port "
			    "%d", nx->hostname, nx->port);

			sess_fail(p->s, e->label, cause, what, NULL);
			free(what);
			goto err;
		}
		if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, p->pair) == -1) {
			*cause = xasprintf("%s: socketpair: %s", e->label, strerror(errno));
			p->pair[0] = p->pair[1] = -1;
			goto err;
		}
		fcntl(p->pair[0], F_SETFL, fcntl(p->pair[0], F_GETFL) | O_NONBLOCK);
		p->alive = e->cfg.server_alive_interval >= 0 ? e->cfg.server_alive_interval :
		    15;
		libssh2_session_set_blocking(p->s, 0);
		if (pthread_create(&p->thr, NULL, pump, p) != 0)
			fatal("pthread_create failed");
		p->running = true;
	}
	if (neps == 0) {
		char *hint = t.cfg.hostname == NULL ? xasprintf(" (nor is it a Host with a "
		    "HostName in %s)", o->ssh_config != NULL ? o->ssh_config :
		    "~/.ssh/config or /etc/ssh/ssh_config") : xstrdup("");

		fd = tcp_connect(t.label, t.hostname, t.port, ep_timeout(&t, o), hint, cause);
		free(hint);
		if (fd == -1)
			goto err;
	} else {
		fd = h->hops[neps - 1].pair[1];
		h->hops[neps - 1].pair[1] = -1;
	}
	h->sock = fd;
	h->s = ep_session(&t, fd, o, cause);
	if (h->s == NULL)
		goto err;
	libssh2_session_set_timeout(h->s, (long)(o->timeout > 0 ? o->timeout : 60) * 1000);
	for (size_t k = 0; k < neps; k++)
		ep_free(&eps[k]);
	free(eps);
	ep_free(&t);
	return x;
err:
	for (size_t k = 0; k < neps; k++)
		ep_free(&eps[k]);
	free(eps);
	ep_free(&t);
	xport_close(x);
	return NULL;
}
