/* doctor.h: `mxdeck doctor`: a read-only preflight of one host. Is everything mxdeck
 * needs there (commands each role runs, the Postfix version the profile renders for,
 * Apache modules the rendered sites use, directories, free space, the Postfix user,
 * group and queue permissions)? Each finding says what to run to fix it.
 *
 * The host is opened read-only, always (the transport's read-only handle: no write,
 * and no command but `postconf` in its reading forms), so doctor works where audit
 * works, over a read-only SFTP server too. The checks are one table in doctor.c. */
#ifndef MXDECK_DOCTOR_H
#define MXDECK_DOCTOR_H

#include <stdbool.h>
#include <stddef.h>

#include "profiles/site.h"

enum dr_level { DR_OK, DR_WARN, DR_FAIL };

struct dr_finding {
	enum dr_level level;
	char	*check;		/* the table row: "commands", "apache modules", ... */
	char	*what;		/* what was found, naming the thing */
	char	*fix;		/* what to run or change; NULL for ok */
};

struct doctor_opts {
	const char *known_hosts;	/* NULL: ~/.ssh/known_hosts */
	const char *identity;
	int	 connect_timeout;	/* seconds; 0: 10 */
	int	 timeout;		/* seconds per operation; 0: 60 */
};

struct doctor_result {
	int	 exit;		/* 0 ready (warnings allowed), 1 something missing, 3 unreachable */
	char	*summary;	/* "ready", "3 problems", the connection error */
	struct dr_finding *v;
	size_t	 n, cap;
	int	 nwarn, nfail;
};

void doctor_result_init(struct doctor_result *r);
void doctor_result_free(struct doctor_result *r);
const char *dr_level_word(enum dr_level l);	/* "ok", "warn", "FAIL" */

/* Run every check of the table on one host. Never fails as a function: unreachable is
 * in r. Thread-safe for different hosts (after fleet_lib_init; fleet_doctor runs many). */
void doctor_host(const struct site *site, const struct host *host,
    const struct doctor_opts *o, struct doctor_result *r);


#endif
