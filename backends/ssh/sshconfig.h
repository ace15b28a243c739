/* sshconfig.h: the settings OpenSSH's ssh_config(5) gives one host, for the keys mxdeck
 * uses. Same reading as ssh(1): ~/.ssh/config then /etc/ssh/ssh_config (or one file
 * chosen with -F), Host blocks with '*', '?' and '!' patterns, Include with globs, the
 * first value obtained for a key wins (IdentityFile accumulates). Match blocks are
 * skipped (Match all applies). Keywords mxdeck does not use are ignored. */
#ifndef MXDECK_SSHCONFIG_H
#define MXDECK_SSHCONFIG_H

#include <stdbool.h>

#include "profiles/util.h"

#define SSHCFG_MAX_BYTES	(1024 * 1024)	/* per file */
#define SSHCFG_MAX_DEPTH	16		/* nested Include */
#define SSHCFG_MAX_FILES	256		/* files read for one host */
#define SSHCFG_MAX_HOPS		8		/* ProxyJump hops, nested ones included */

struct sshcfg {
	char	*host;		/* the name looked up, as given (ssh's %n) */
	char	*hostname;	/* HostName with %h expanded; NULL: not set */
	int	 port;		/* 0: not set */
	char	*user;		/* NULL: not set */
	struct strv identity_files;	/* as written: ~ and %-tokens not yet expanded */
	int	 identities_only;	/* -1: not set, else 0/1 */
	struct strv user_known_hosts;	/* as written; empty: not set; "none" */
	struct strv global_known_hosts;	/* as written; empty: not set; "none" */
	int	 hash_known_hosts;	/* -1: not set, else 0/1 */
	char	*proxy_jump;	/* "[user@]host[:port],..." or "none"; NULL: not set */
	char	*proxy_command;	/* NULL: not set */
	int	 connect_timeout;	/* seconds; -1: not set, 0: none */
	int	 server_alive_interval;	/* seconds; -1: not set */
	struct strv files;	/* every file read, for messages */
};

void sshcfg_init(struct sshcfg *c);
void sshcfg_free(struct sshcfg *c);

/* Resolve host. file: the -F FILE, or NULL for ~/.ssh/config (if it exists) and then
 * /etc/ssh/ssh_config (if it exists). ~ is $HOME (else the password entry). A file
 * that cannot be read, has bad permissions (the user's file and included ones: not
 * owned by the user or root, or writable by others), exceeds the limits above or has
 * a bad value for a key mxdeck uses is an error "FILE:LINE: ...". 0, or -1 + *cause
 * with c emptied (sshcfg_free is still allowed). */
int sshcfg_resolve(const char *file, const char *host, struct sshcfg *c, char **cause);

/* The home directory: $HOME, else the password entry, else "/". */
char *sshcfg_home(void);

/* Expand a path as ssh(1) does for IdentityFile and the known hosts files: a leading
 * "~/" (or "~" alone) to the home directory, and the tokens %% %d (home) %h (remote
 * host name) %i (uid) %L (local host name) %l (local host name) %n (host as given)
 * %p (port) %r (remote user) %u (local user). NULL + *cause for another token. */
char *sshcfg_expand(const char *path, const char *host, const char *hostname, int port,
    const char *ruser, char **cause);

/* One hop of a ProxyJump list. */
struct sshcfg_hop {
	char	*user;		/* NULL: not given */
	char	*host;
	int	 port;		/* 0: not given */
};
/* Split "[user@]host[:port],..." (also ssh://[user@]host[:port] and [v6]:port) into
 * hops, first hop first. 0 or -1 + *cause. */
int sshcfg_parse_jump(const char *spec, struct sshcfg_hop **hops, size_t *n, char **cause);
void sshcfg_hops_free(struct sshcfg_hop *hops, size_t n);

#endif
