/* doc.h: the profile document the console edits (doc.c): copies, checked commits,
 * the save, the entries of an ini-backed view, pending users-CSV changes. */
#ifndef MXDECK_DOC_H
#define MXDECK_DOC_H

#include "tui/view.h"

/* Copy the current document (serialize + parse). */
void	doc_copy(const struct console *c, struct ini *out);
/* Load buf as the new document into *out and lint it; returns findings in *d. */
int	doc_check(const struct console *c, const char *buf, size_t len, struct site **out,
	    struct diags *d);
/* Install a checked site as the current one (frees the old one). */
void	doc_install(struct console *c, struct site *s, struct diags *d);
/* Commit an edited copy: check, install, mark dirty. Returns the error count in the
 * line range [lo, hi] (1-based lines of the new document) and fills *d with the
 * findings when refused (errors in range): then nothing changes. */
int	doc_commit(struct console *c, struct ini *edited, long lo, long hi,
	    struct diags *d, bool force);
int	doc_save(struct console *c, char **cause);
/* The unified diff of what doc_save would write (profile, then users CSV) into out;
 * -1 and *cause when the CSV cannot be edited as the console wants. */
int	doc_save_diff(struct console *c, struct sbuf *out, char **cause);
/* Undo: the state before the first edit of each key is kept (the document text and
 * the pending CSV deletions and toggles); doc_undo puts the last one back and says
 * what it undid in *what (the caller frees it). A save clears the stack. */
void	doc_undo_start(struct console *c);	/* after loading: the saved state */
void	doc_undo_label(struct console *c);	/* after a key: name the step it made */
int	doc_undo(struct console *c, char **what);	/* 0: nothing to undo */
void	doc_undo_clear(struct console *c);
void	doc_undo_free(struct console *c);
/* Delete a section; one that was last in the file takes the blank line before it. */
void	doc_delete_section(struct ini *ini, const char *section, const char *sub);
/* Is ini_section one of the NULL-terminated list secs? */
bool	doc_section_in(const char *const *secs, const char *ini_section);
/* The headers of the sections of the document listed in secs (NULL: none). */
void	doc_entries(const struct console *c, const char *const *secs, struct entries *e);
/* Last line index (inclusive) of the section starting at hdr. */
long	doc_section_end(const struct ini *ini, long hdr);
/* Findings of the document on 1-based line (file = the profile). */
size_t	doc_findings(const struct console *c, int line, const struct diag **out,
	    size_t max);
void	doc_user_set(struct console *c, struct user *u, unsigned protos);
/* Apply the unsaved user changes (CSV deletions, CSV protocol toggles) to s, a site
 * freshly loaded from the document and the CSV on disk. */
void	doc_apply_pending(const struct console *c, struct site *s);
bool	doc_user_in_csv(const struct site *s, const struct user *u);
/* Remove the CSV users flagged in drop[] (one flag per user of c->site) from the
 * model; their records go on the next save. Refreshes the users filter. */
/* Filter the users by text: words of the address and proto:on/off; c->uf gets the
 * indices of the matching users (text NULL: every user). */
void	users_filter(struct console *c, const char *text);
void	doc_delete_csv_users(struct console *c, const unsigned char *drop);

#endif
