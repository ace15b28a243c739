/* ini.h: the profile file as lines, for parsing and for in-place editing.
 *
 * The document keeps every physical line verbatim. Parsing classifies each line
 * (blank, comment, section header, key = value) and extracts the parts; editing
 * replaces, inserts or deletes whole lines and never touches the others, so
 * comments and ordering survive a save. */
#ifndef MXDECK_INI_H
#define MXDECK_INI_H

#include <stdbool.h>
#include <stddef.h>

#include "profiles/diag.h"

enum ini_kind { INI_BLANK, INI_COMMENT, INI_SECTION, INI_KEY, INI_BAD };

struct ini_line {
	char	*raw;		/* the physical line, no newline */
	enum ini_kind kind;
	char	*section;	/* INI_SECTION: "host"; INI_KEY: the enclosing section */
	char	*sub;		/* INI_SECTION: "gw1" or NULL; INI_KEY: the enclosing one */
	char	*key;		/* INI_KEY */
	char	*value;		/* INI_KEY: unquoted, inline comment removed */
	int	 sect_index;	/* INI_KEY: line index of its section header, -1 before any */
	int	 comment_off;	/* INI_KEY: offset in raw of a trailing comment (with the
				 * whitespace before it), -1 if none */
	bool	 cr;		/* the line ended in "\r\n" (written back the same way) */
};

struct ini {
	char	*path;
	struct ini_line *line;	/* not "lines": curses <term.h> defines that */
	size_t	 n;
	size_t	 cap;
	bool	 final_newline;
	bool	 bom;		/* the file started with a UTF-8 byte order mark (kept) */
};

/* Parse a buffer. Malformed lines become INI_BAD and a diagnostic. Never fails. */
void ini_parse(struct ini *ini, const char *path, const char *buf, size_t len,
    struct diags *d);
/* Read and parse a file; -1 with *cause when the file cannot be read. */
int ini_load(struct ini *ini, const char *path, struct diags *d, char **cause);
void ini_free(struct ini *ini);
/* The whole document as bytes (caller frees). */
char *ini_serialize(const struct ini *ini, size_t *lenp);

/* Find a section header line: returns its index or -1. sub may be NULL. */
long ini_find_section(const struct ini *ini, const char *section, const char *sub);
/* Find the first key line within the section that starts at index sect; -1 if none. */
long ini_find_key(const struct ini *ini, long sect, const char *key);
/* Set a key in a section (creating the section at the end if needed): rewrites the
 * existing line keeping its indentation and any inline comment, or inserts a new
 * line after the section's last key. Returns the line index. */
long ini_set(struct ini *ini, const char *section, const char *sub, const char *key,
    const char *value);
/* Append a repeated key (e.g. rule =) after the section's last key. */
long ini_add(struct ini *ini, const char *section, const char *sub, const char *key,
    const char *value);
/* Delete one line, or a whole section with its keys (and trailing blank line). */
void ini_delete_line(struct ini *ini, size_t idx);
void ini_delete_section(struct ini *ini, const char *section, const char *sub);
/* Save atomically, keeping the previous version as PATH.bak.1 (older ones up to
 * PATH.bak.10, see backup_rotate); mode of the old file kept. */
int ini_save(const struct ini *ini, const char *path, char **cause);

/* Quote a value for writing when it needs it (leading/trailing space, ; or #). */
char *ini_quote_value(const char *v);

#endif
