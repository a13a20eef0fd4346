/* edit.h - the sed-style edit engine: pure, buffer in -> buffer out.
 *
 *   subst   "s/ERE/replacement/[g]" applied to every line (sed semantics:
 *           & and \1..\9 in the replacement; any delimiter after 's').
 *   line    ensure a line is present: if `match` (ERE) matches lines, the last
 *           matching line is replaced by `line`; else if the exact line is
 *           already present anywhere, nothing changes; else it is inserted
 *           after the last line matching `after` (ERE) if there is one, else
 *           appended.  A line containing a newline is refused.
 *   absent  remove every line matching an ERE.
 *
 * The output always ends with a newline when a line was added to a file
 * that lacked one.  Nothing here touches a file or prints. */
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
	int global;         /* subst: g flag */
	struct lc_edit_impl *impl;
};

#define LC_EDIT_INIT { LC_EDIT_SUBST, NULL, NULL, NULL, 0, NULL }

/* Parse "s/ERE/repl/flags" into a compiled subst edit. */
int lc_edit_parse_subst(struct lc_edit *out, const char *expr, struct lc_error *err);
/* Fill and compile a line / absent edit (strings are copied). */
int lc_edit_init_line(struct lc_edit *out, const char *line, const char *match,
		      const char *after, struct lc_error *err);
int lc_edit_init_absent(struct lc_edit *out, const char *pattern, struct lc_error *err);

/* Apply one edit to in[0..len); the result goes to out (reset first).
 * *changed is set to whether the result differs from the input. */
int lc_edit_apply(struct lc_buf *out, const struct lc_edit *e, const char *in,
		  size_t len, int *changed, struct lc_error *err);

void lc_edit_release(struct lc_edit *e);

#endif
