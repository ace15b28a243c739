/* diff.h: unified diffs of configuration files (plan view, `mxdeck plan`). */
#ifndef MXDECK_DIFF_H
#define MXDECK_DIFF_H

#include <stddef.h>

#include "profiles/util.h"

/* Append to out a unified diff (3 lines of context, `--- a/PATH` / `+++ b/PATH`) that
 * turns a into b. a == NULL: the file does not exist yet (--- /dev/null); b == NULL: it
 * goes away (+++ /dev/null). Nothing is appended when the contents are equal.
 * Returns the number of added plus removed lines. */
size_t diff_unified(struct sbuf *out, const char *path, const char *a, size_t alen,
    const char *b, size_t blen);

#endif
