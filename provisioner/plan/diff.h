/* diff.h - a pure, line-based unified diff (what `diff -u` prints), for
 * showing what converging a file would change.
 *
 * A line is the text up to and including its '\n'; the last line may lack
 * the '\n', and then differs from the same text with one (as in GNU diff).
 * Lines are compared byte for byte: a '\r' is part of the line, NUL bytes
 * are allowed, nothing is ignored.
 *
 * The output is what `diff -u --label LABEL_A --label LABEL_B` prints and
 * `patch` accepts:
 *
 *   --- LABEL_A
 *   +++ LABEL_B
 *   @@ -l,s +l,s @@        ",s" left out when s is 1; an empty range is
 *    context                "l,0" with l the line before it (0 at the top)
 *   -removed
 *   +added
 *   \ No newline at end of file     after a line that lacks its '\n'
 *
 * Within a hunk each run of changed lines shows its removed lines first,
 * then its added ones.  Two changes share a hunk when at most 2 * context
 * unchanged lines lie between them.  Hunks come from a minimal edit script
 * (Myers' O(ND) algorithm, linear space, after the common first and last
 * lines are set aside), so where several minimal scripts exist the hunks
 * may differ from GNU diff's, which shifts changes around; both apply.
 *
 * Bounded cost: when, after setting aside the common first and last lines,
 * either side still has more than LC_DIFF_MAX_LINES lines, the rest is shown
 * as one replaced block (all its old lines removed, all its new lines added)
 * without searching.  Otherwise the search gives up after LC_DIFF_MAX_COST
 * steps, and whatever part of the texts it was still working on is shown
 * the same way.  Memory stays in O(min(lines, LC_DIFF_MAX_LINES)) besides
 * the output; the output still applies, it is just not minimal. */
#ifndef LC_DIFF_H
#define LC_DIFF_H

#include <stddef.h>

#include "buf.h"

#define LC_DIFF_CONTEXT_DEFAULT 3
#define LC_DIFF_MAX_LINES 50000
#define LC_DIFF_MAX_COST 20000000L
/* lc_diff_is_binary looks for a NUL byte in this many leading bytes. */
#define LC_DIFF_BINARY_SCAN 8000

/* Append a unified diff of a[0..alen) -> b[0..blen) to out.  label_a and
 * label_b name the two sides in the "---" / "+++" lines (NULL: "a", "b");
 * context < 0 means LC_DIFF_CONTEXT_DEFAULT.  a or b may be NULL when its
 * length is 0.  Returns 1 if the texts differ, 0 if they are equal (then
 * nothing is appended).  Never fails: out of memory is fatal. */
int lc_diff_unified(struct lc_buf *out, const char *a, size_t alen,
		    const char *b, size_t blen, const char *label_a,
		    const char *label_b, int context);

/* 1 if data looks binary: a NUL byte among the first LC_DIFF_BINARY_SCAN
 * bytes, or anywhere not valid UTF-8 (overlong forms, surrogates, code
 * points past U+10FFFF and a sequence cut short at the end all count as
 * invalid); else 0.  Empty data is text. */
int lc_diff_is_binary(const char *data, size_t len);

#endif
