/* xport.h: how mxdeck talks to a host: commands and file operations.
 *
 * Two implementations behind one table of operations: libssh2 (session.c: exec channels
 * and SFTP) and this machine (local.c: fork/exec without a shell, POSIX file calls).
 * Every caller goes through the xport_*() functions below, which are the single
 * chokepoint for the read-only mode of audit: a read-only handle refuses every write
 * operation there, before any implementation is called, and runs only commands that
 * xport_cmd_readonly() accepts. */
#ifndef MXDECK_XPORT_H
#define MXDECK_XPORT_H

#include <stdbool.h>
#include <stddef.h>

#include "profiles/util.h"

struct xport;

struct xres {
	int	 status;	/* exit status; -1 when killed by a signal or unknown */
	struct sbuf out;
	struct sbuf err;
};
void xres_init(struct xres *r);
void xres_free(struct xres *r);

struct xstat {
	bool	 exists;
	bool	 is_dir;
	bool	 is_link;
	unsigned mode;		/* permission bits */
	unsigned long long size;
	long long mtime;
	long	 uid, gid;	/* -1 when the server does not say */
};

/* The file system a path is on (statvfs). */
struct xstatvfs {
	unsigned long long avail;	/* bytes an unprivileged writer may still use */
	unsigned long long total;	/* bytes */
	bool	 readonly;		/* mounted read-only */
};

struct xport_ops {
	const char *name;
	/* Run argv (argv[0] looked up in PATH); in/inlen is its stdin. 0 when the
	 * command ran (whatever its status), -1 + *cause when it could not be run. */
	int	(*exec)(struct xport *, const char *const *argv, const char *in,
		    size_t inlen, struct xres *, char **cause);
	/* Whole file into out; *missing set (and 0 returned) when it does not exist. */
	int	(*read)(struct xport *, const char *path, struct sbuf *out, bool *missing,
		    char **cause);
	int	(*lstat)(struct xport *, const char *path, struct xstat *, char **cause);
	int	(*readlink)(struct xport *, const char *path, char **target, char **cause);
	int	(*statvfs)(struct xport *, const char *path, struct xstatvfs *, char **cause);
	/* Write operations: never reached through a read-only handle. */
	int	(*write)(struct xport *, const char *path, const char *data, size_t len,
		    unsigned mode, char **cause);	/* create/truncate, write, fsync */
	/* The same for a name that must not exist yet (O_CREAT | O_EXCL): anything
	 * there, a symlink included, fails the call and is never followed. */
	int	(*write_new)(struct xport *, const char *path, const char *data, size_t len,
		    unsigned mode, char **cause);
	int	(*rename)(struct xport *, const char *from, const char *to, char **cause);
	int	(*mkdir)(struct xport *, const char *path, unsigned mode, bool *existed,
		    char **cause);
	int	(*unlink)(struct xport *, const char *path, char **cause);
	int	(*rmdir)(struct xport *, const char *path, char **cause);
	int	(*symlink)(struct xport *, const char *target, const char *path,
		    char **cause);
	int	(*chown)(struct xport *, const char *path, long uid, long gid, char **cause);
	void	(*close)(struct xport *);
};

struct xport {
	const struct xport_ops *ops;
	bool	 readonly;
	char	*name;		/* host name for messages */
	void	*impl;
	int	 nwrites;	/* write operations done (tests, reports) */
};

struct xport_ssh_opts {
	const char *ssh_config;		/* -F FILE; NULL: ~/.ssh/config, /etc/ssh/ssh_config */
	const char *known_hosts;	/* NULL: ssh_config's UserKnownHostsFile, else
					 * ~/.ssh/known_hosts (the system files are read too) */
	const char *identity;		/* NULL: the host's identity key, ssh_config, defaults */
	bool	 accept_new;		/* record an unknown host key */
	bool	 readonly;		/* audit: SFTP opened for reading only */
	bool	 may_prompt;		/* may ask for a key's passphrase on /dev/tty */
	int	 connect_timeout;	/* seconds, unless ssh_config's ConnectTimeout says */
	int	 timeout;		/* seconds per operation */
};

/* Connect to host->address as ssh_config resolves it (an alias, HostName, Port, User,
 * IdentityFile, ProxyJump, known hosts files; the profile's port, user and identity
 * when written win). Failures (refused, timeout, host key unknown or changed,
 * authentication, on the target or a jump host) return NULL with *cause. */
struct host;
struct xport *xport_ssh_open(const struct host *host, const struct xport_ssh_opts *o,
    char **cause);
/* This machine; relative paths are taken relative to base (NULL: the cwd). */
struct xport *xport_local_open(const char *name, const char *base, bool readonly);
void xport_close(struct xport *x);

/* The chokepoint. */
int xport_exec(struct xport *x, const char *const *argv, const char *in, size_t inlen,
    struct xres *r, char **cause);
int xport_read(struct xport *x, const char *path, struct sbuf *out, bool *missing,
    char **cause);
int xport_lstat(struct xport *x, const char *path, struct xstat *st, char **cause);
int xport_readlink(struct xport *x, const char *path, char **target, char **cause);
/* Free and total space and the read-only flag of the file system path is on (reads
 * only: allowed on a read-only handle). */
int xport_statvfs(struct xport *x, const char *path, struct xstatvfs *vfs, char **cause);
int xport_write(struct xport *x, const char *path, const char *data, size_t len,
    unsigned mode, char **cause);
int xport_write_new(struct xport *x, const char *path, const char *data, size_t len,
    unsigned mode, char **cause);
int xport_rename(struct xport *x, const char *from, const char *to, char **cause);
int xport_mkdir(struct xport *x, const char *path, unsigned mode, bool *existed,
    char **cause);
int xport_mkdir_p(struct xport *x, const char *path, unsigned mode, struct strv *created,
    char **cause);
int xport_unlink(struct xport *x, const char *path, char **cause);
int xport_rmdir(struct xport *x, const char *path, char **cause);
int xport_symlink(struct xport *x, const char *target, const char *path, char **cause);
/* Give path (not following a symlink) this owner and group. */
int xport_chown(struct xport *x, const char *path, long uid, long gid, char **cause);

/* Run argv and require exit status 0: -1 + *cause (with its stderr) otherwise. */
int xport_run(struct xport *x, const char *const *argv, struct xres *r, char **cause);

/* Is argv a command that only reads? (audit allows nothing else) */
bool xport_cmd_readonly(const char *const *argv);

#endif
