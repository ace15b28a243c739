/* xport.c: the chokepoint in front of both transports (see xport.h). */
#include "backends/ssh/xport.h"

#include <stdlib.h>
#include <string.h>

void
xres_init(struct xres *r)
{
	r->status = -1;
	sb_init(&r->out);
	sb_init(&r->err);
	sb_add(&r->out, "");
	sb_add(&r->err, "");
}

void
xres_free(struct xres *r)
{
	sb_free(&r->out);
	sb_free(&r->err);
}

void
xport_close(struct xport *x)
{
	if (x == NULL)
		return;
	x->ops->close(x);
	free(x->name);
	free(x);
}

/*
 * Audit runs only `postconf` in its reading forms: no -e, -X, -#, no edit of
 * master.cf (any NAME=VALUE argument), nothing else.
 */
bool
xport_cmd_readonly(const char *const *argv)
{
	if (argv[0] == NULL || strcmp(argv[0], "postconf") != 0)
		return false;
	for (size_t i = 1; argv[i] != NULL; i++) {
		const char *a = argv[i];

		if (strchr(a, '=') != NULL)
			return false;
		if (a[0] == '-' && strcmp(a, "-c") != 0 && strcmp(a, "-h") != 0 &&
		    strcmp(a, "-n") != 0 && strcmp(a, "-M") != 0 && strcmp(a, "-P") != 0 &&
		    strcmp(a, "-d") != 0)
			return false;
		if (strcmp(a, "-c") == 0 && argv[i + 1] != NULL)
			i++;	/* the directory */
	}
	return true;
}

static int
refuse(struct xport *x, const char *what, const char *path, char **cause)
{
	*cause = xasprintf("host %s: read-only (audit) connection refuses to %s %s",
	    x->name, what, path);
	return -1;
}

int
xport_exec(struct xport *x, const char *const *argv, const char *in, size_t inlen,
    struct xres *r, char **cause)
{
	if (x->readonly && !xport_cmd_readonly(argv))
		return refuse(x, "run", argv[0], cause);
	return x->ops->exec(x, argv, in, inlen, r, cause);
}

int
xport_run(struct xport *x, const char *const *argv, struct xres *r, char **cause)
{
	struct xres own;
	int rc;

	if (r == NULL) {
		xres_init(&own);
		r = &own;
	}
	rc = xport_exec(x, argv, NULL, 0, r, cause);
	if (rc == 0 && r->status != 0) {
		struct sbuf cmd;
		size_t l = r->err.len, i;

		while (l > 0 && (r->err.s[l - 1] == '\n' || r->err.s[l - 1] == ' '))
			l--;
		sb_init(&cmd);
		for (i = 0; argv[i] != NULL && i < 4; i++)	/* the first words say enough */
			sb_addf(&cmd, "%s%s", i ? " " : "", argv[i]);
		if (argv[i] != NULL)
			sb_add(&cmd, " ...");
		*cause = xasprintf("host %s: `%s` failed (exit %d)%s%.*s", x->name, cmd.s,
		    r->status, l ? ": " : "", (int)l, r->err.s);
		sb_free(&cmd);
		rc = -1;
	}
	if (r == &own)
		xres_free(&own);
	return rc;
}

int
xport_read(struct xport *x, const char *path, struct sbuf *out, bool *missing,
    char **cause)
{
	*missing = false;
	return x->ops->read(x, path, out, missing, cause);
}

int
xport_lstat(struct xport *x, const char *path, struct xstat *st, char **cause)
{
	memset(st, 0, sizeof *st);
	st->uid = st->gid = -1;
	return x->ops->lstat(x, path, st, cause);
}

int
xport_readlink(struct xport *x, const char *path, char **target, char **cause)
{
	*target = NULL;
	return x->ops->readlink(x, path, target, cause);
}

int
xport_statvfs(struct xport *x, const char *path, struct xstatvfs *vfs, char **cause)
{
	memset(vfs, 0, sizeof *vfs);
	return x->ops->statvfs(x, path, vfs, cause);
}

int
xport_write(struct xport *x, const char *path, const char *data, size_t len,
    unsigned mode, char **cause)
{
	if (x->readonly)
		return refuse(x, "write", path, cause);
	x->nwrites++;
	return x->ops->write(x, path, data, len, mode, cause);
}

int
xport_rename(struct xport *x, const char *from, const char *to, char **cause)
{
	if (x->readonly)
		return refuse(x, "rename", from, cause);
	x->nwrites++;
	return x->ops->rename(x, from, to, cause);
}

int
xport_write_new(struct xport *x, const char *path, const char *data, size_t len,
    unsigned mode, char **cause)
{
	if (x->readonly)
		return refuse(x, "write", path, cause);
	x->nwrites++;
	return x->ops->write_new(x, path, data, len, mode, cause);
}

int
xport_mkdir(struct xport *x, const char *path, unsigned mode, bool *existed, char **cause)
{
	*existed = false;
	if (x->readonly)
		return refuse(x, "create directory", path, cause);
	x->nwrites++;
	return x->ops->mkdir(x, path, mode, existed, cause);
}

int
xport_mkdir_p(struct xport *x, const char *path, unsigned mode, struct strv *created,
    char **cause)
{
	char *p = xstrdup(path);
	size_t len = strlen(p);
	int rc = 0;

	while (len > 1 && p[len - 1] == '/')
		p[--len] = '\0';
	for (size_t i = 1; i <= len && rc == 0; i++) {
		if (p[i] == '/' || p[i] == '\0') {
			char save = p[i];
			struct xstat st;
			bool existed;

			p[i] = '\0';
			if (xport_lstat(x, p, &st, cause) == -1)
				rc = -1;
			else if (!st.exists) {
				if (xport_mkdir(x, p, mode, &existed, cause) == -1)
					rc = -1;
				else if (!existed && created != NULL)
					strv_push(created, p);
			}
			p[i] = save;
		}
	}
	free(p);
	return rc;
}

int
xport_unlink(struct xport *x, const char *path, char **cause)
{
	if (x->readonly)
		return refuse(x, "remove", path, cause);
	x->nwrites++;
	return x->ops->unlink(x, path, cause);
}

int
xport_rmdir(struct xport *x, const char *path, char **cause)
{
	if (x->readonly)
		return refuse(x, "remove directory", path, cause);
	x->nwrites++;
	return x->ops->rmdir(x, path, cause);
}

int
xport_symlink(struct xport *x, const char *target, const char *path, char **cause)
{
	if (x->readonly)
		return refuse(x, "create symlink", path, cause);
	x->nwrites++;
	return x->ops->symlink(x, target, path, cause);
}

int
xport_chown(struct xport *x, const char *path, long uid, long gid, char **cause)
{
	if (x->readonly)
		return refuse(x, "change the owner of", path, cause);
	x->nwrites++;
	return x->ops->chown(x, path, uid, gid, cause);
}
