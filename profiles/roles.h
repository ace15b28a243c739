/* roles.h: the host roles, one row each in roles[] (profiles/roles.c; share/doc/HACKING.md §3).
 *
 * A role is what a host does (roles = postfix dovecot ...). Its row drives the parser
 * of the roles key, every message that lists the roles, the directory a role's files
 * go to (host_dir) and the check that a role has what it needs on the same host. */
#ifndef MXDECK_ROLES_H
#define MXDECK_ROLES_H

#include <stddef.h>

#include "profiles/util.h"

enum role {
	ROLE_POSTFIX = 1 << 0, ROLE_DOVECOT = 1 << 1, ROLE_APACHE = 1 << 2,
	ROLE_NGINX = 1 << 3, ROLE_AUTODISCOVER = 1 << 4, ROLE_DNS = 1 << 5,
	ROLE_EXCHANGE = 1 << 6,
};
#define ROLE_COUNT 7

struct host;

struct role_def {
	const char *name;	/* as written in roles = */
	unsigned bit;		/* enum role */
	const char *dir_key;	/* the [host] key of the directory its files go to */
	size_t	 dir_off;	/* offsetof(struct host, <dir_key>) */
	const char *dir_default;	/* that directory when the key is not set */
	unsigned needs;		/* one of these roles must be on the same host (0: none) */
	const char *needs_what;	/* lint's words for it: "... but no <needs_what>" */
};

/* Row i has bit 1 << i, in the order of enum role. */
extern const struct role_def roles[ROLE_COUNT];

/* The row of a role by name (case-insensitive) or by bit; NULL when there is none. */
const struct role_def *role_by_name(const char *name);
const struct role_def *role_by_bit(unsigned bit);
/* Appends the role names, space-separated, in table order ("postfix dovecot ..."). */
void role_list(struct sbuf *b);
/* The directory where host h keeps the files of role (one bit): its dir_key when set,
 * else the row's default; NULL for an unknown role. */
const char *host_dir(const struct host *h, unsigned role);

#endif
