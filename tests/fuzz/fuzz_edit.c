/* fuzz_edit.c - libFuzzer target for the edit engine.
 *
 * The first line of the input says the edit, the rest is the file:
 *   s/ERE/repl/g          a subst expression (any delimiter)
 *   L<line>\t<match>\t<after>\t<before>   a line edit (an empty field is
 *                         NULL; before: an ERE or BOF, only without after)
 *   A<ERE>                an absent edit
 * any of them after "B<from>\t<to>\t": confined to that region.
 * The edit is applied to the file, then to its own result (what labctl's
 * idempotency proof does), and applying in place (in pointing into out)
 * must give the same result as applying from a copy; the proof that
 * lc_edit_apply_proven works out must agree with that second apply.
 *
 * Run under libFuzzer's -rss_limit_mb and -timeout: an expression that
 * makes glibc's regcomp explode (stacked quantifiers, nested intervals)
 * must be refused by edit.c before it reaches regcomp. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "edit.h"

static char *field(const char **p, const char *end)
{
	const char *s = *p, *t = memchr(s, '\t', (size_t)(end - s));
	char *r;

	if (!t)
		t = end;
	*p = t < end ? t + 1 : end;
	if (t == s)
		return NULL;
	r = lc_xstrndup(s, (size_t)(t - s));
	return r;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *in = (const char *)data, *nl, *body;
	struct lc_buf file = LC_BUF_INIT;
	struct lc_edit e = LC_EDIT_INIT;
	struct lc_error err = LC_ERROR_INIT;
	struct lc_buf out = LC_BUF_INIT, again = LC_BUF_INIT, inplace = LC_BUF_INIT;
	char *first, *from = NULL, *to = NULL;
	const char *spec;
	size_t flen, blen;
	int changed = -1, rc;

	if (size < 1)
		return 0;
	nl = memchr(in, '\n', size);
	flen = nl ? (size_t)(nl - in) : size;
	body = nl ? nl + 1 : in + size;
	blen = size - (size_t)(body - in);
	if (memchr(in, '\0', flen))
		return 0;  /* role strings are C strings */
	/* labctl always hands the engine an lc_buf, NUL-terminated after len
	 * bytes; so do we (ASan's regexec interceptor reads up to the first
	 * NUL even with REG_STARTEND, so an unterminated buffer would be a
	 * false report). */
	lc_buf_add(&file, body, blen);
	body = file.buf;
	first = lc_xstrndup(in, flen);
	spec = first;
	if (first[0] == 'B') {
		spec = first + 1;
		from = field(&spec, first + flen);
		to = field(&spec, first + flen);
	}

	switch (spec[0]) {
	case 'L': {
		const char *p = spec + 1, *end = first + flen;
		char *line = field(&p, end), *match = field(&p, end), *after = field(&p, end);
		char *before = field(&p, end);

		rc = lc_edit_init_line(&e, line ? line : "", match, after, &err);
		if (!rc && before && !after && (rc = lc_edit_set_before(&e, before, &err)))
			lc_edit_release(&e);
		free(line);
		free(match);
		free(after);
		free(before);
		break;
	}
	case 'A':
		rc = lc_edit_init_absent(&e, spec + 1, &err);
		break;
	default:
		rc = lc_edit_parse_subst(&e, spec, &err);
		break;
	}
	if (!rc && first[0] == 'B' && (rc = lc_edit_set_between(&e, from, to, &err)))
		lc_edit_release(&e);
	if (rc) {
		if (!err.msg[0])
			abort();
		goto out;
	}
	rc = lc_edit_apply(&out, &e, body, blen, &changed, &err);
	if (rc) {
		if (!err.msg[0] || changed != 0)
			abort();
		goto out;
	}
	if (changed != (out.len != blen || memcmp(out.buf, body, blen) != 0))
		abort();  /* *changed must say whether the bytes differ */
	/* The same, in place. */
	lc_buf_add(&inplace, body, blen);
	if (lc_edit_apply(&inplace, &e, inplace.buf, inplace.len, &changed, &err))
		abort();
	if (inplace.len != out.len || memcmp(inplace.buf, out.buf, out.len))
		abort();
	/* Once more on its own result.  An absent edit, and a line edit
	 * without `match` or region (a line it adds may end its region), are
	 * idempotent by construction: the second apply must change nothing.
	 * Others may change again (labctl refuses such edits before touching
	 * a host); here they just must not crash. */
	if (lc_edit_apply(&again, &e, out.buf, out.len, &changed, &err) == 0 &&
	    changed && (e.kind == LC_EDIT_ABSENT || (e.kind == LC_EDIT_LINE && !e.pattern &&
						     !e.from)))
		abort();
	/* The proof worked out while applying must say what that second
	 * apply found. */
	{
		struct lc_buf proven = LC_BUF_INIT;
		int c2, twice;

		if (lc_edit_apply_proven(&proven, &e, body, blen, &c2, &twice, &err) ||
		    lc_edit_changes(&e, out.buf, out.len, &changed, &err) || twice != changed)
			abort();
		lc_buf_release(&proven);
	}
out:
	lc_edit_release(&e);
	lc_buf_release(&out);
	lc_buf_release(&again);
	lc_buf_release(&inplace);
	lc_buf_release(&file);
	free(first);
	free(from);
	free(to);
	return 0;
}
