/* edit.h - the sed-style edit engine: pure, buffer in -> buffer out.
 *
 * Every edit works line by line: a line is the text up to, and excluding,
 * a '\n' (a '\r' is part of the line: no CRLF handling); the last line may
 * lack its '\n'.  Regexes are POSIX EREs (REG_EXTENDED) matched against
 * one line at a time, so ^ and $ anchor to the line and no match spans two
 * lines.  Lines may contain NUL bytes where the C library has REG_STARTEND
 * (glibc); elsewhere matching a line stops at its first NUL.  An empty
 * regex is refused everywhere.
 *
 *   subst   "s/ERE/replacement/[g]" applied to every line, as sed does.
 *           Any delimiter after 's' but backslash and newline; "\<delim>"
 *           in the ERE or the replacement is that character, literally
 *           (POSIX; GNU sed -E would read s|a\|b|| as an alternation).  In
 *           the replacement, & and \0 are the whole match, \1..\9 the
 *           groups (a group that did not match is empty, naming a group
 *           the ERE lacks is an error), \n a newline, \t a tab, and any
 *           other \c is c (so \& and \\ are a literal & and backslash).
 *           Without g the first match of each line is replaced; with g
 *           every non-overlapping match, an empty match right after the
 *           previous match being skipped (s/x*\/-/g: "abc" -> "-a-b-c-").
 *           The only flag is g.  A last line without '\n' keeps lacking it.
 *   line    ensure a line is present: if `match` (ERE) matches lines, the last
 *           matching line is replaced by `line`, in place, keeping its '\n'
 *           or lack of one (even if `line` is also present elsewhere); else
 *           if the exact line (byte for byte, not a regex) is already present
 *           anywhere, nothing changes; else it is inserted after the last
 *           line matching `after` (ERE), or before the last line matching
 *           `before` (ERE), or first when `before` is BOF, if there is one;
 *           else appended.
 *           Inserted and appended lines end with '\n', and a '\n' is added
 *           first when the line before them lacked one; an empty file
 *           becomes "line\n".  A line containing a newline is refused.
 *   absent  remove every line matching an ERE, with its '\n'.
 *
 * In a CRLF file a line's "\r\n" is its ending: every kind matches lines
 * without the '\r', a line replaced keeps its ending, and a line edit adds
 * lines with the file's ending (that of its first line).  A line edit's
 * line may not contain '\r'.
 *
 * Any kind may be confined to a region (lc_edit_set_between): the lines
 * after the first line matching `from`, up to and excluding the first line
 * after it matching `to` (or to the end of the file).  The edit sees the
 * region as its whole input: a line edit's "present", match, after and
 * before look only there, and its line is added at the end of the region
 * (BOF: at its start).  Without a line matching `from` a subst or absent
 * edit changes nothing and a line edit is an error (add the region's first
 * line with a line edit before it).  The idempotency proof of a region
 * edit is a second pass: the region is found again in the result.
 *
 * Regexes work on UTF-8 characters (compiled and run under C.UTF-8, for
 * the calling thread only); text that is not UTF-8 is left as it is.
 *
 * Parse errors are LC_EPARSE and name the expression and, for a bad
 * regex, regerror's words.  Nothing here touches a file or prints. */
#ifndef LC_EDIT_H
#define LC_EDIT_H

#include <stddef.h>

#include "buf.h"
#include "error.h"

enum lc_edit_kind {
	LC_EDIT_SUBST,
	LC_EDIT_LINE,
	LC_EDIT_ABSENT,
};

struct lc_edit_impl;  /* compiled regexes, private to edit.c */

struct lc_edit {
	enum lc_edit_kind kind;
	char *pattern;      /* subst: ERE; line: `match` ERE or NULL; absent: ERE */
	char *replacement;  /* subst: replacement text; line: the line */
	char *after;        /* line: insert-after anchor ERE or NULL */
	char *before;       /* line: insert-before anchor ERE, "BOF", or NULL */
	char *from, *to;    /* between: the region's start and end EREs, or NULL */
	int global;         /* subst: g flag */
	struct lc_edit_impl *impl;
};

#define LC_EDIT_INIT { LC_EDIT_SUBST, NULL, NULL, NULL, NULL, NULL, NULL, 0, NULL }

/* Parse "s/ERE/repl/flags" into a compiled subst edit.  pattern is set
 * to the ERE as compiled (escaped delimiters resolved), replacement to the
 * text between the delimiters as written.
 *
 * For the three constructors: out must be LC_EDIT_INIT or released; on
 * error it is left as LC_EDIT_INIT (releasable). */
int lc_edit_parse_subst(struct lc_edit *out, const char *expr, struct lc_error *err);
/* Fill and compile a line / absent edit (strings are copied; match and
 * after may be NULL, but not ""). */
int lc_edit_init_line(struct lc_edit *out, const char *line, const char *match,
		      const char *after, struct lc_error *err);
int lc_edit_init_absent(struct lc_edit *out, const char *pattern, struct lc_error *err);
/* A line edit's insert-before anchor: an ERE, or "BOF" (the start of the
 * file); not with `after`.  On error e is unchanged. */
int lc_edit_set_before(struct lc_edit *e, const char *before, struct lc_error *err);
/* Confine any edit to the region between the EREs from and to (neither
 * empty).  On error e is unchanged. */
int lc_edit_set_between(struct lc_edit *e, const char *from, const char *to,
			struct lc_error *err);

/* Apply one edit to in[0..len); on success the result replaces out's
 * contents (in may point into out) and *changed is set to whether the
 * result differs from the input, byte for byte.  On error out is left as
 * it was and *changed is 0.  A compiled edit may be applied from several
 * threads at once. */
int lc_edit_apply(struct lc_buf *out, const struct lc_edit *e, const char *in,
		  size_t len, int *changed, struct lc_error *err);
/* lc_edit_apply, and *again set to whether applying e once more, to its
 * own result, would change that result: the idempotency proof, worked out
 * from what the edit did instead of by a second pass over the file (a
 * subst re-checks only the lines it replaced; an absent edit's result is
 * a fixed point; a line edit checks its line against its match and the
 * lines before it).  Same as lc_edit_changes on the result. */
int lc_edit_apply_proven(struct lc_buf *out, const struct lc_edit *e, const char *in,
			 size_t len, int *changed, int *again, struct lc_error *err);
/* lc_edit_apply_proven for a caller that keeps its buffers: the result is
 * appended to out only when it differs from the input (out is untouched
 * otherwise, and on error it may hold part of it); in must not point into
 * out.  again may be NULL. */
int lc_edit_apply_into(struct lc_buf *out, const struct lc_edit *e, const char *in,
		       size_t len, int *changed, int *again, struct lc_error *err);
/* Whether applying e to in[0..len) would change it (*changed), without
 * making the result: what an idempotency proof needs. */
int lc_edit_changes(const struct lc_edit *e, const char *in, size_t len, int *changed,
		    struct lc_error *err);

/* Free everything e holds and leave it as LC_EDIT_INIT; e may be NULL. */
void lc_edit_release(struct lc_edit *e);

#endif
