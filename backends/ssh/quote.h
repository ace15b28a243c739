/* quote.h: the one place where remote command lines are built.
 *
 * Every command mxdeck runs on a host is an argument vector; over SSH it becomes one
 * string in which each word is a POSIX sh single-quoted word, so no byte of a host
 * name, path or value can be taken as shell syntax. */
#ifndef MXDECK_QUOTE_H
#define MXDECK_QUOTE_H

#include "profiles/util.h"

/* Append s as one sh word: plain words of [A-Za-z0-9_@%+:,./-] that do not start
 * with '-' stay as they are, everything else is wrapped in '...' with ' written as '\''. */
void sh_quote(struct sbuf *b, const char *s);
/* The same for a path that is passed as an argument: a relative path starting with
 * '-' gets a "./" prefix so that no command takes it for an option. */
void sh_quote_path(struct sbuf *b, const char *path);
/* argv (NULL-terminated) -> one command line, each word through sh_quote. */
char *sh_join(const char *const *argv);

#endif
