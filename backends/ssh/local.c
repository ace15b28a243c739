/* local.c: the transport for `address = local`: this machine, no SSH, no shell. */
#include "backends/ssh/xport.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/wait.h>
#include <unistd.h>

struct local {
	char	*base;		/* relative paths are relative to this; NULL: cwd */
};

static char *
lpath(struct xport *x, const char *path)
{
	struct local *l = x->impl;

	if (path[0] == '/' || l->base == NULL)
		return xstrdup(path);
	return xasprintf("%s/%s", l->base, path);
}

static int
errf(struct xport *x, char **cause, const char *what, const char *path, int err)
{
	*cause = xasprintf("host %s: %s %s: %s", x->name, what, path, strerror(err));
	return -1;
}

#define LOCAL_PATH "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

extern char **environ;

/* The environment of a command: ours, with sbin on PATH and the C locale. */
static void
build_env(struct strv *env)
{
	const char *path = getenv("PATH");

	for (char **e = environ; *e != NULL; e++)
		if (!str_starts(*e, "PATH=") && !str_starts(*e, "LC_ALL="))
			strv_push(env, *e);
	strv_push_owned(env, xasprintf("PATH=%s%s" LOCAL_PATH, path ? path : "",
	    path ? ":" : ""));
	strv_push(env, "LC_ALL=C");
	strv_push_owned(env, NULL);
	env->n--;
}

static char *
find_prog(const char *name)
{
	const char *path = getenv("PATH");
	char *all, *p, *dir, *save = NULL;

	if (strchr(name, '/') != NULL)
		return xstrdup(name);
	all = xasprintf("%s%s" LOCAL_PATH, path ? path : "", path ? ":" : "");
	for (p = all; (dir = strtok_r(p, ":", &save)) != NULL; p = NULL) {
		char *cand = xasprintf("%s/%s", dir[0] ? dir : ".", name);

		if (access(cand, X_OK) == 0) {
			free(all);
			return cand;
		}
		free(cand);
	}
	free(all);
	return NULL;
}

static int
local_exec(struct xport *x, const char *const *argv, const char *in, size_t inlen,
    struct xres *r, char **cause)
{
	struct local *l = x->impl;
	int pin[2], pout[2], perr[2], status;
	size_t off = 0;
	pid_t pid;
	struct pollfd pfd[3];
	struct strv env = { 0 };
	char *prog;

	/* Everything the child needs is built before fork: threads may hold malloc. */
	prog = find_prog(argv[0]);
	build_env(&env);
	if (prog == NULL)
		goto notfound;
	if (pipe(pin) == -1 || pipe(pout) == -1 || pipe(perr) == -1)
		fatal("pipe: %s", strerror(errno));
	pid = fork();
	if (pid == -1) {
		int e = errno;

		close(pin[0]); close(pin[1]); close(pout[0]); close(pout[1]);
		close(perr[0]); close(perr[1]);
		free(prog);
		strv_free(&env);
		return errf(x, cause, "cannot fork for", argv[0], e);
	}
	if (pid == 0) {
		dup2(pin[0], 0);
		dup2(pout[1], 1);
		dup2(perr[1], 2);
		close(pin[0]); close(pin[1]); close(pout[0]); close(pout[1]);
		close(perr[0]); close(perr[1]);
		if (l->base != NULL && chdir(l->base) == -1)
			_exit(126);
		if (prog != NULL)
			execve(prog, (char *const *)argv, env.v);
		_exit(127);
	}
	free(prog);
	strv_free(&env);
	if (false) {
notfound:
		/* As a shell would say it: status 127. */
		sb_addf(&r->err, "%s: command not found\n", argv[0]);
		r->status = 127;
		strv_free(&env);
		return 0;
	}
	close(pin[0]);
	close(pout[1]);
	close(perr[1]);
	if (inlen == 0) {
		close(pin[1]);
		pin[1] = -1;
	} else
		fcntl(pin[1], F_SETFL, O_NONBLOCK);
	pfd[0].fd = pout[0];
	pfd[1].fd = perr[0];
	pfd[2].fd = pin[1];
	for (;;) {
		int nopen = 0;

		pfd[0].events = pfd[1].events = POLLIN;
		pfd[2].events = POLLOUT;
		for (int i = 0; i < 3; i++)
			if (pfd[i].fd != -1)
				nopen++;
		if (nopen == 0)
			break;
		if (poll(pfd, 3, -1) == -1) {
			if (errno == EINTR)
				continue;
			fatal("poll: %s", strerror(errno));
		}
		for (int i = 0; i < 2; i++) {
			char buf[8192];
			ssize_t n;

			if (pfd[i].fd == -1 || pfd[i].revents == 0)
				continue;
			n = read(pfd[i].fd, buf, sizeof buf);
			if (n > 0)
				sb_addn(i == 0 ? &r->out : &r->err, buf, (size_t)n);
			else if (n == 0 || errno != EINTR) {
				close(pfd[i].fd);
				pfd[i].fd = -1;
			}
		}
		if (pfd[2].fd != -1 && pfd[2].revents != 0) {
			ssize_t n = write(pfd[2].fd, in + off, inlen - off);

			if (n > 0)
				off += (size_t)n;
			if ((n == -1 && errno != EAGAIN && errno != EINTR) || off == inlen) {
				close(pfd[2].fd);
				pfd[2].fd = -1;
			}
		}
	}
	while (waitpid(pid, &status, 0) == -1)
		if (errno != EINTR)
			return errf(x, cause, "waitpid for", argv[0], errno);
	r->status = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
	return 0;
}

static int
local_read(struct xport *x, const char *path, struct sbuf *out, bool *missing,
    char **cause)
{
	char *p = lpath(x, path), buf[16384];
	int fd = open(p, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	ssize_t n;

	if (fd == -1 && errno == ELOOP)
		fd = open(p, O_RDONLY | O_CLOEXEC);
	if (fd == -1) {
		int e = errno;

		free(p);
		if (e == ENOENT) {
			*missing = true;
			return 0;
		}
		return errf(x, cause, "cannot read", path, e);
	}
	sb_reset(out);
	sb_add(out, "");
	while ((n = read(fd, buf, sizeof buf)) != 0) {
		if (n == -1) {
			int e = errno;

			if (e == EINTR)
				continue;
			close(fd);
			free(p);
			return errf(x, cause, "cannot read", path, e);
		}
		sb_addn(out, buf, (size_t)n);
	}
	close(fd);
	free(p);
	return 0;
}

static int
local_lstat(struct xport *x, const char *path, struct xstat *st, char **cause)
{
	char *p = lpath(x, path);
	struct stat sb;

	if (lstat(p, &sb) == -1) {
		int e = errno;

		free(p);
		if (e == ENOENT || e == ENOTDIR)
			return 0;
		return errf(x, cause, "cannot stat", path, e);
	}
	free(p);
	st->exists = true;
	st->is_dir = S_ISDIR(sb.st_mode);
	st->is_link = S_ISLNK(sb.st_mode);
	st->mode = sb.st_mode & 07777;
	st->size = (unsigned long long)sb.st_size;
	st->mtime = (long long)sb.st_mtime;
	st->uid = (long)sb.st_uid;
	st->gid = (long)sb.st_gid;
	return 0;
}

static int
local_readlink(struct xport *x, const char *path, char **target, char **cause)
{
	char *p = lpath(x, path), buf[4096];
	ssize_t n = readlink(p, buf, sizeof buf - 1);

	free(p);
	if (n == -1)
		return errf(x, cause, "cannot read symlink", path, errno);
	buf[n] = '\0';
	*target = xstrdup(buf);
	return 0;
}

static int
local_write_flags(struct xport *x, const char *path, const char *data, size_t len,
    unsigned mode, int flags, char **cause)
{
	char *p = lpath(x, path);
	int fd = open(p, O_WRONLY | O_CREAT | O_NOFOLLOW | O_CLOEXEC | flags, mode);
	size_t off = 0;

	if (fd == -1) {
		int e = errno;

		free(p);
		return errf(x, cause, "cannot create", path, e);
	}
	while (off < len) {
		ssize_t n = write(fd, data + off, len - off);

		if (n == -1) {
			int e = errno;

			if (e == EINTR)
				continue;
			close(fd);
			free(p);
			return errf(x, cause, "cannot write", path, e);
		}
		off += (size_t)n;
	}
	if (fchmod(fd, mode) == -1 || fsync(fd) == -1) {
		int e = errno;

		close(fd);
		free(p);
		return errf(x, cause, "cannot sync", path, e);
	}
	free(p);
	if (close(fd) == -1)
		return errf(x, cause, "cannot close", path, errno);
	return 0;
}

static int
local_write(struct xport *x, const char *path, const char *data, size_t len,
    unsigned mode, char **cause)
{
	return local_write_flags(x, path, data, len, mode, O_TRUNC, cause);
}

static int
local_write_new(struct xport *x, const char *path, const char *data, size_t len,
    unsigned mode, char **cause)
{
	return local_write_flags(x, path, data, len, mode, O_EXCL, cause);
}

static int
local_rename(struct xport *x, const char *from, const char *to, char **cause)
{
	char *f = lpath(x, from), *t = lpath(x, to);
	int rc = rename(f, t);
	int e = errno;

	free(f);
	free(t);
	if (rc == -1) {
		*cause = xasprintf("host %s: cannot rename %s to %s: %s", x->name, from, to,
		    strerror(e));
		return -1;
	}
	return 0;
}

static int
local_mkdir(struct xport *x, const char *path, unsigned mode, bool *existed, char **cause)
{
	char *p = lpath(x, path);
	int rc = mkdir(p, mode), e = errno;

	free(p);
	if (rc == -1) {
		if (e == EEXIST) {
			*existed = true;
			return 0;
		}
		return errf(x, cause, "cannot create directory", path, e);
	}
	return 0;
}

/* unlink(2) or rmdir(2); what is already gone is not an error. */
static int
local_remove(struct xport *x, const char *path, bool dir, char **cause)
{
	char *p = lpath(x, path);
	int rc = dir ? rmdir(p) : unlink(p), e = errno;

	free(p);
	if (rc == -1 && e != ENOENT)
		return errf(x, cause, dir ? "cannot remove directory" : "cannot remove", path,
		    e);
	return 0;
}

static int
local_unlink(struct xport *x, const char *path, char **cause)
{
	return local_remove(x, path, false, cause);
}

static int
local_rmdir(struct xport *x, const char *path, char **cause)
{
	return local_remove(x, path, true, cause);
}

static int
local_symlink(struct xport *x, const char *target, const char *path, char **cause)
{
	char *p = lpath(x, path);
	int rc = symlink(target, p), e = errno;

	free(p);
	if (rc == -1)
		return errf(x, cause, "cannot create symlink", path, e);
	return 0;
}

static int
local_chown(struct xport *x, const char *path, long uid, long gid, char **cause)
{
	char *p = lpath(x, path);
	int rc = lchown(p, (uid_t)uid, (gid_t)gid), e = errno;

	free(p);
	if (rc == -1)
		return errf(x, cause, "cannot change the owner of", path, e);
	return 0;
}

static void
local_close(struct xport *x)
{
	struct local *l = x->impl;

	free(l->base);
	free(l);
}

static int
local_statvfs(struct xport *x, const char *path, struct xstatvfs *vfs, char **cause)
{
	char *p = lpath(x, path);
	struct statvfs sv;

	if (statvfs(p, &sv) == -1) {
		int e = errno;

		free(p);
		return errf(x, cause, "cannot statvfs", path, e);
	}
	free(p);
	vfs->avail = (unsigned long long)sv.f_bavail * sv.f_frsize;
	vfs->total = (unsigned long long)sv.f_blocks * sv.f_frsize;
	vfs->readonly = (sv.f_flag & ST_RDONLY) != 0;
	return 0;
}

static const struct xport_ops local_ops = {
	.name = "local",
	.exec = local_exec,
	.read = local_read,
	.lstat = local_lstat,
	.readlink = local_readlink,
	.statvfs = local_statvfs,
	.write = local_write,
	.rename = local_rename,
	.mkdir = local_mkdir,
	.unlink = local_unlink,
	.rmdir = local_rmdir,
	.symlink = local_symlink,
	.write_new = local_write_new,
	.chown = local_chown,
	.close = local_close,
};

struct xport *
xport_local_open(const char *name, const char *base, bool readonly)
{
	struct xport *x = xcalloc(1, sizeof *x);
	struct local *l = xcalloc(1, sizeof *l);

	l->base = base != NULL ? xstrdup(base) : NULL;
	x->ops = &local_ops;
	x->impl = l;
	x->name = xstrdup(name);
	x->readonly = readonly;
	return x;
}
