/* jsondoc.h: the one shape of every `--json` document (schema 1; the JSON Schemas are
 * in share/schema/): {"schema":1,"command":...,"mxdeck":VERSION,"time":RFC 3339 UTC,
 * "profile":...,"errors":[{file,line,message}],"warnings":[...], the command's own
 * members, "exit":N}. Exactly one document goes to stdout, also when the profile has
 * errors (then "exit":2 and the errors say where). */
#ifndef MXDECK_JSONDOC_H
#define MXDECK_JSONDOC_H

#include "profiles/diag.h"
#include "profiles/util.h"
#include "tui/cli.h"

/* Open the document: b gets everything up to and including the findings of d (d may
 * be NULL: no findings). The caller appends ",\"member\":..." pairs. */
void jsondoc_begin(struct sbuf *b, const struct cli *cli, const char *command,
    const struct diags *d);
/* Close it with the exit code and print it on stdout; b is freed. */
void jsondoc_end(struct sbuf *b, int exit);
/* A whole document for a command that stopped before doing anything (a profile or
 * usage error): the findings of d, or one error with message why. Returns exit. */
int jsondoc_error(const struct cli *cli, const char *command, const struct diags *d,
    const char *why, int exit);

#endif
