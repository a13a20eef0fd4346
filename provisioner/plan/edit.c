/* edit.c - the sed-style edit engine: pure, buffer in -> buffer out.
 *
 * Every edit works on lines: a line is the text up to, and excluding, a
 * '\n'; the last line may lack its '\n' and then keeps lacking it unless a
 * line is added after it.  Regexes are POSIX EREs (regcomp with
 * REG_EXTENDED) matched against one line at a time, so '^' and '$' anchor
 * to the line.  With REG_STARTEND (glibc, the BSDs) lines are matched in
 * place and may contain NUL bytes; without it each line is copied into a
 * NUL-terminated buffer and matching stops at the first NUL. */
#include "edit.h"

#include <ctype.h>
#include <limits.h>
#include <regex.h>
#include <stdlib.h>
#include <string.h>

/* Groups a replacement can name: & or \0, and \1..\9. */
#define LC_EDIT_NGROUPS 10

/* A piece of a compiled replacement: literal bytes or a group. */
struct repl_part {
	int group;      /* 0..9, or -1 for lit.buf[off..off+len) */
	size_t off;
	size_t len;
};

struct lc_edit_impl {
	regex_t re;             /* subst / absent pattern, line `match` */
	int has_re;
	regex_t after;          /* line: insert-after anchor */
	int has_after;
	struct repl_part *parts;
	size_t nr_parts, alloc_parts;
	struct lc_buf lit;
};

/* One line of the input: [start, end) without its '\n'; next is where
 * the following line starts (end + 1, or end when the '\n' is missing). */
struct line {
	size_t start, end, next;
};

static int next_line(struct line *out, const char *in, size_t len, size_t pos)
{
	const char *nl;

	if (pos >= len)
		return 0;
	nl = memchr(in + pos, '\n', len - pos);
	out->start = pos;
	out->end = nl ? (size_t)(nl - in) : len;
	out->next = nl ? out->end + 1 : len;
	return 1;
}

static int line_has_nl(const struct line *l)
{
	return l->next > l->end;
}

static int line_equals(const char *in, const struct line *l, const char *s,
		       size_t slen)
{
	return l->end - l->start == slen && !memcmp(in + l->start, s, slen);
}

#define ERE_MAX_REPEAT 1000   /* the product of nested interval bounds */

/* glibc's regcomp takes seconds and gigabytes for some patterns
 * ("x++++...", "((x{255}){255}){255}"): refuse those before compiling.
 * A quantifier right after a quantifier is undefined in POSIX EREs anyway;
 * nested intervals may not repeat more than ERE_MAX_REPEAT times. */
static int check_ere(const char *p, const char *what, struct lc_error *err)
{
	long inner[64];     /* per open group: the largest repetition inside it */
	long group = 0;     /* the group that just closed, or 0 */
	size_t depth = 0;
	int prev_quant = 0;
	const char *s;

	inner[0] = 1;
	for (s = p; *s; s++) {
		long factor = 0;  /* the repetition this character applies, if any */
		int quant = 0;

		switch (*s) {
		case '\\':
			if (s[1])
				s++;
			break;
		case '[':       /* a bracket expression: skip it whole */
			s++;
			if (*s == '^')
				s++;
			if (*s == ']')
				s++;
			while (*s && *s != ']')
				s++;
			if (!*s)
				return 0;  /* unterminated: regcomp will say */
			break;
		case '(':
			if (depth + 1 >= sizeof(inner) / sizeof(inner[0]))
				goto refuse;
			inner[++depth] = 1;
			break;
		case ')':
			if (depth)
				group = inner[depth--];
			break;
		case '*':
		case '+':
		case '?':
			quant = 1;
			factor = 1;
			break;
		case '{': {
			char *end;
			long lo = strtol(s + 1, &end, 10), hi = lo;

			if (*end == ',')
				hi = end[1] == '}' ? lo : strtol(end + 1, &end, 10);
			if (*end != '}' && !(end[0] == ',' && end[1] == '}'))
				break;  /* not an interval: regcomp will say */
			quant = 1;
			factor = hi > lo ? hi : lo;
			if (factor > 255)
				goto refuse;
			s = strchr(s, '}');
			break;
		}
		default:
			break;
		}
		if (quant && prev_quant)
			goto refuse;
		if (quant) {
			/* a quantifier after a group multiplies what is inside it */
			long total = (group ? group : 1) * factor;

			if (total > ERE_MAX_REPEAT)
				goto refuse;
			if (total > inner[depth])
				inner[depth] = total;
		} else if (group && *s != ')') {
			if (group > inner[depth])
				inner[depth] = group;
		}
		if (*s != ')')
			group = 0;
		prev_quant = quant;
	}
	return 0;
refuse:
	return lc_error_set(err, LC_EPARSE, "regex '%s' in %s is refused: repeated quantifiers "
			    "or intervals nesting to more than %d repetitions (they make the "
			    "regex engine explode)", p, what, ERE_MAX_REPEAT);
}

static int compile_re(regex_t *re, const char *pattern, const char *what,
		      struct lc_error *err)
{
	struct lc_buf msg = LC_BUF_INIT;
	size_t n;
	int rc;

	if ((rc = check_ere(pattern, what, err)))
		return rc;
	rc = regcomp(re, pattern, REG_EXTENDED);
	if (!rc)
		return 0;
	n = regerror(rc, re, NULL, 0);
	lc_buf_grow(&msg, n);
	regerror(rc, re, msg.buf, n);
	lc_buf_setlen(&msg, strlen(msg.buf));
	rc = lc_error_set(err, LC_EPARSE, "bad regex '%s' in %s: %s",
			  pattern, what, msg.buf);
	lc_buf_release(&msg);
	return rc;
}

/*
 * Search re in the line s[0..len) from offset start.  The offsets in pm
 * are relative to s.  Returns 1 on a match, 0 on none, or an error.
 * scratch is only used when the C library lacks REG_STARTEND.
 */
static int search(regmatch_t *pm, const regex_t *re, const char *s,
		  size_t start, size_t len, struct lc_buf *scratch,
		  struct lc_error *err)
{
	int rc;

#ifdef REG_STARTEND
	(void)scratch;
	pm[0].rm_so = (regoff_t)start;
	pm[0].rm_eo = (regoff_t)len;
	rc = regexec(re, s, LC_EDIT_NGROUPS, pm, REG_STARTEND);
#else
	size_t i;

	lc_buf_reset(scratch);
	lc_buf_add(scratch, s, len);
	rc = regexec(re, scratch->buf + start, LC_EDIT_NGROUPS, pm,
		     start ? REG_NOTBOL : 0);
	for (i = 0; !rc && i < LC_EDIT_NGROUPS; i++) {
		if (pm[i].rm_so < 0)
			continue;
		pm[i].rm_so += (regoff_t)start;
		pm[i].rm_eo += (regoff_t)start;
	}
#endif
	if (!rc)
		return 1;
	if (rc == REG_NOMATCH)
		return 0;
	return lc_error_set(err, LC_ERR, "regex matching failed (error %d)", rc);
}

static int line_matches(const regex_t *re, const char *in, const struct line *l,
			struct lc_buf *scratch, struct lc_error *err)
{
	regmatch_t pm[LC_EDIT_NGROUPS];

	return search(pm, re, in + l->start, 0, l->end - l->start, scratch, err);
}

/* ---- parsing "s/ERE/replacement/flags" -------------------------------- */

static int is_ere_special(int c)
{
	return c && strchr(".[]()*+?{}|^$", c) != NULL;
}

/*
 * Copy the pattern starting at *pp up to the unescaped delimiter into re.
 * "\<delim>" stands for the delimiter character itself, matched literally
 * (POSIX; GNU sed instead leaves it with its regex meaning, so "s|a\|b|"
 * is an alternation there and the literal "a|b" here).  To know whether
 * the literal needs a backslash, bracket expressions are tracked: inside
 * them backslash is an ordinary character.  An unescaped delimiter always
 * ends the pattern, even inside brackets, as in sed.
 */
static int scan_pattern(struct lc_buf *re, const char **pp, char delim)
{
	const char *p = *pp;
	int in_bracket = 0;

	for (;;) {
		char c = *p;

		if (!c)
			return -1;
		if (c == delim)
			break;
		if (c == '\\') {
			if (!p[1])
				return -1;
			if (p[1] == delim) {
				if (!in_bracket && is_ere_special(delim))
					lc_buf_addc(re, '\\');
				lc_buf_addc(re, delim);
				p += 2;
			} else if (in_bracket) {
				lc_buf_addc(re, c);
				p++;
			} else {
				lc_buf_add(re, p, 2);
				p += 2;
			}
			continue;
		}
		if (!in_bracket && c == '[') {
			in_bracket = 1;
			lc_buf_addc(re, c);
			p++;
			if (*p == '^' && delim != '^')
				lc_buf_addc(re, *p++);
			if (*p == ']' && delim != ']')
				lc_buf_addc(re, *p++);
			continue;
		}
		if (in_bracket && c == '[' && p[1] && strchr(":.=", p[1])) {
			/* [:class:], [.coll.], [=equiv=]: copy to the closer. */
			const char *q = p + 2;

			while (*q && *q != delim && !(q[0] == p[1] && q[1] == ']'))
				q++;
			if (*q && *q != delim) {
				lc_buf_add(re, p, (size_t)(q + 2 - p));
				p = q + 2;
				continue;
			}
		}
		if (in_bracket && c == ']')
			in_bracket = 0;
		lc_buf_addc(re, c);
		p++;
	}
	*pp = p;
	return 0;
}

static void add_part(struct lc_edit_impl *impl, int group, const char *lit,
		     size_t len)
{
	struct repl_part *last = impl->nr_parts ?
		&impl->parts[impl->nr_parts - 1] : NULL;

	if (group < 0 && last && last->group < 0 &&
	    last->off + last->len == impl->lit.len) {
		lc_buf_add(&impl->lit, lit, len);
		last->len += len;
		return;
	}
	LC_ALLOC_GROW(impl->parts, impl->nr_parts + 1, impl->alloc_parts);
	last = &impl->parts[impl->nr_parts++];
	last->group = group;
	last->off = impl->lit.len;
	last->len = group < 0 ? len : 0;
	if (group < 0)
		lc_buf_add(&impl->lit, lit, len);
}

/*
 * Compile the replacement at *pp (up to the unescaped delimiter) into
 * impl->parts.  & and \0 are the whole match, \1..\9 the groups, \n a
 * newline, \t a tab, \<delim> the delimiter; any other \c is c, so \& and
 * \\ are a literal & and backslash.  raw gets the text as written.
 */
static int scan_replacement(struct lc_edit_impl *impl, struct lc_buf *raw,
			    const char **pp, char delim, size_t nsub,
			    const char *expr, struct lc_error *err)
{
	const char *p = *pp;

	for (;;) {
		char c = *p;

		if (!c)
			return lc_error_set(err, LC_EPARSE,
					    "unterminated s command '%s'", expr);
		if (c == delim)
			break;
		if (c == '&') {
			add_part(impl, 0, NULL, 0);
			p++;
			continue;
		}
		if (c != '\\') {
			add_part(impl, -1, p++, 1);
			continue;
		}
		c = p[1];
		if (!c)
			return lc_error_set(err, LC_EPARSE,
					    "unterminated s command '%s'", expr);
		if (c == delim)
			add_part(impl, -1, &c, 1);
		else if (c >= '0' && c <= '9') {
			if ((size_t)(c - '0') > nsub)
				return lc_error_set(err, LC_EPARSE,
					"invalid reference \\%c in s command '%s': the regex has %zu group%s",
					c, expr, nsub, nsub == 1 ? "" : "s");
			add_part(impl, c - '0', NULL, 0);
		} else if (c == 'n')
			add_part(impl, -1, "\n", 1);
		else if (c == 't')
			add_part(impl, -1, "\t", 1);
		else
			add_part(impl, -1, &c, 1);
		p += 2;
	}
	lc_buf_add(raw, *pp, (size_t)(p - *pp));
	*pp = p;
	return 0;
}

int lc_edit_parse_subst(struct lc_edit *out, const char *expr, struct lc_error *err)
{
	struct lc_edit e = LC_EDIT_INIT;
	struct lc_buf re = LC_BUF_INIT;
	struct lc_buf raw = LC_BUF_INIT;
	struct lc_buf what = LC_BUF_INIT;
	const char *p = expr;
	char delim;
	int rc;

	*out = e;
	e.kind = LC_EDIT_SUBST;
	e.impl = lc_xcalloc(1, sizeof(*e.impl));
	lc_buf_init(&e.impl->lit);

	if (!p || p[0] != 's' || !p[1]) {
		rc = lc_error_set(err, LC_EPARSE,
				  "expected s/regex/replacement/[g], got '%s'",
				  p ? p : "(nothing)");
		goto out;
	}
	delim = p[1];
	if (delim == '\\' || delim == '\n') {
		rc = lc_error_set(err, LC_EPARSE,
				  "%s cannot be the delimiter in s command '%s'",
				  delim == '\n' ? "a newline" : "a backslash", expr);
		goto out;
	}
	p += 2;
	if (scan_pattern(&re, &p, delim)) {
		rc = lc_error_set(err, LC_EPARSE, "unterminated s command '%s'", expr);
		goto out;
	}
	if (!re.len) {
		rc = lc_error_set(err, LC_EPARSE,
				  "empty regex in s command '%s'", expr);
		goto out;
	}
	lc_buf_addf(&what, "s command '%s'", expr);
	rc = compile_re(&e.impl->re, re.buf, what.buf, err);
	if (rc)
		goto out;
	e.impl->has_re = 1;
	p++;
	rc = scan_replacement(e.impl, &raw, &p, delim, e.impl->re.re_nsub,
			      expr, err);
	if (rc)
		goto out;
	for (p++; *p; p++) {
		if (*p == 'g' && !e.global) {
			e.global = 1;
		} else if (*p == 'g') {
			rc = lc_error_set(err, LC_EPARSE,
					  "duplicate flag 'g' in s command '%s'", expr);
			goto out;
		} else if (isprint((unsigned char)*p)) {
			rc = lc_error_set(err, LC_EPARSE,
					  "unknown flag '%c' in s command '%s'", *p, expr);
			goto out;
		} else {
			rc = lc_error_set(err, LC_EPARSE,
					  "unknown flag '\\x%02x' in s command '%s'",
					  (unsigned char)*p, expr);
			goto out;
		}
	}
	e.pattern = lc_buf_detach(&re, NULL);
	e.replacement = lc_buf_detach(&raw, NULL);
	*out = e;
	e = (struct lc_edit)LC_EDIT_INIT;
	rc = 0;
out:
	lc_edit_release(&e);
	lc_buf_release(&re);
	lc_buf_release(&raw);
	lc_buf_release(&what);
	return rc;
}

int lc_edit_init_line(struct lc_edit *out, const char *line, const char *match,
		      const char *after, struct lc_error *err)
{
	struct lc_edit e = LC_EDIT_INIT;
	int rc;

	*out = e;
	e.kind = LC_EDIT_LINE;
	e.impl = lc_xcalloc(1, sizeof(*e.impl));
	lc_buf_init(&e.impl->lit);

	if (!line) {
		rc = lc_error_set(err, LC_EPARSE, "line edit: no line given");
		goto out;
	}
	if (strchr(line, '\n')) {
		rc = lc_error_set(err, LC_EPARSE,
				  "line edit: the line contains a newline; a multi-line value is not a line (use a template, or one line edit per line)");
		goto out;
	}
	if ((match && !*match) || (after && !*after)) {
		rc = lc_error_set(err, LC_EPARSE,
				  "line edit for '%s': empty %s regex (leave it out instead)",
				  line, match && !*match ? "match" : "after");
		goto out;
	}
	if (match) {
		rc = compile_re(&e.impl->re, match, "match of line edit", err);
		if (rc)
			goto out;
		e.impl->has_re = 1;
		e.pattern = lc_xstrdup(match);
	}
	if (after) {
		rc = compile_re(&e.impl->after, after, "after of line edit", err);
		if (rc)
			goto out;
		e.impl->has_after = 1;
		e.after = lc_xstrdup(after);
	}
	e.replacement = lc_xstrdup(line);
	*out = e;
	e = (struct lc_edit)LC_EDIT_INIT;
	rc = 0;
out:
	lc_edit_release(&e);
	return rc;
}

int lc_edit_init_absent(struct lc_edit *out, const char *pattern, struct lc_error *err)
{
	struct lc_edit e = LC_EDIT_INIT;
	int rc;

	*out = e;
	e.kind = LC_EDIT_ABSENT;
	e.impl = lc_xcalloc(1, sizeof(*e.impl));
	lc_buf_init(&e.impl->lit);

	if (!pattern || !*pattern) {
		rc = lc_error_set(err, LC_EPARSE,
				  "absent edit: empty regex (it would remove every line)");
		goto out;
	}
	rc = compile_re(&e.impl->re, pattern, "absent edit", err);
	if (rc)
		goto out;
	e.impl->has_re = 1;
	e.pattern = lc_xstrdup(pattern);
	*out = e;
	e = (struct lc_edit)LC_EDIT_INIT;
	rc = 0;
out:
	lc_edit_release(&e);
	return rc;
}

/* ---- applying ---------------------------------------------------------- */

static void add_replacement(struct lc_buf *out, const struct lc_edit_impl *impl,
			    const char *s, const regmatch_t *pm)
{
	size_t i;

	for (i = 0; i < impl->nr_parts; i++) {
		const struct repl_part *part = &impl->parts[i];
		const regmatch_t *g;

		if (part->group < 0) {
			lc_buf_add(out, impl->lit.buf + part->off, part->len);
			continue;
		}
		g = &pm[part->group];
		if (g->rm_so >= 0)   /* an unmatched group is empty */
			lc_buf_add(out, s + g->rm_so, (size_t)(g->rm_eo - g->rm_so));
	}
}

/*
 * Substitute in one line s[0..len), like sed: without g only the first
 * match; with g every non-overlapping match left to right, where an empty
 * match right where the previous match ended is skipped (s/x*\/-/g turns
 * "abc" into "-a-b-c-", s/a*\/x/g turns "baaac" into "xbxcx").
 */
static int subst_line(struct lc_buf *out, const struct lc_edit *e,
		      const char *s, size_t len, struct lc_buf *scratch,
		      struct lc_error *err)
{
	regmatch_t pm[LC_EDIT_NGROUPS];
	size_t pos = 0, so, eo;
	int have_prev = 0;
	size_t prev_end = 0;
	int rc;

	while (pos <= len) {
		rc = search(pm, &e->impl->re, s, pos, len, scratch, err);
		if (rc < 0)
			return rc;
		if (!rc)
			break;
		so = (size_t)pm[0].rm_so;
		eo = (size_t)pm[0].rm_eo;
		if (so == eo && have_prev && so == prev_end) {
			/* Empty match glued to the previous one: step over
			 * one character and look again. */
			if (so >= len)
				break;
			lc_buf_add(out, s + pos, so + 1 - pos);
			pos = so + 1;
			continue;
		}
		lc_buf_add(out, s + pos, so - pos);
		add_replacement(out, e->impl, s, pm);
		have_prev = 1;
		prev_end = eo;
		if (so == eo) {
			if (so < len)
				lc_buf_addc(out, s[so]);
			pos = so + 1;
		} else {
			pos = eo;
		}
		if (!e->global)
			break;
	}
	if (pos < len)
		lc_buf_add(out, s + pos, len - pos);
	return 0;
}

static int apply_subst(struct lc_buf *out, const struct lc_edit *e,
		       const char *in, size_t len, struct lc_buf *scratch,
		       struct lc_error *err)
{
	struct line l;
	size_t pos = 0;
	int rc;

	while (next_line(&l, in, len, pos)) {
		rc = subst_line(out, e, in + l.start, l.end - l.start, scratch, err);
		if (rc)
			return rc;
		if (line_has_nl(&l))
			lc_buf_addc(out, '\n');
		pos = l.next;
	}
	return 0;
}

static int apply_absent(struct lc_buf *out, const struct lc_edit *e,
			const char *in, size_t len, struct lc_buf *scratch,
			struct lc_error *err)
{
	struct line l;
	size_t pos = 0;
	int rc;

	while (next_line(&l, in, len, pos)) {
		rc = line_matches(&e->impl->re, in, &l, scratch, err);
		if (rc < 0)
			return rc;
		if (!rc)
			lc_buf_add(out, in + l.start, l.next - l.start);
		pos = l.next;
	}
	return 0;
}

static int apply_line(struct lc_buf *out, const struct lc_edit *e,
		      const char *in, size_t len, struct lc_buf *scratch,
		      struct lc_error *err)
{
	const char *value = e->replacement;
	size_t vlen = strlen(value);
	struct line l, last_match = { 0, 0, 0 }, last_after = { 0, 0, 0 };
	int have_match = 0, have_after = 0, present = 0;
	size_t pos = 0;
	int rc;

	while (next_line(&l, in, len, pos)) {
		if (e->impl->has_re) {
			rc = line_matches(&e->impl->re, in, &l, scratch, err);
			if (rc < 0)
				return rc;
			if (rc) {
				last_match = l;
				have_match = 1;
			}
		}
		if (line_equals(in, &l, value, vlen))
			present = 1;
		if (e->impl->has_after) {
			rc = line_matches(&e->impl->after, in, &l, scratch, err);
			if (rc < 0)
				return rc;
			if (rc) {
				last_after = l;
				have_after = 1;
			}
		}
		pos = l.next;
	}

	if (have_match) {
		/* Replace in place; the line keeps its '\n' or lack of one. */
		lc_buf_add(out, in, last_match.start);
		lc_buf_add(out, value, vlen);
		lc_buf_add(out, in + last_match.end, len - last_match.end);
	} else if (present) {
		lc_buf_add(out, in, len);
	} else if (have_after) {
		lc_buf_add(out, in, last_after.next);
		if (!line_has_nl(&last_after))
			lc_buf_addc(out, '\n');
		lc_buf_add(out, value, vlen);
		lc_buf_addc(out, '\n');
		lc_buf_add(out, in + last_after.next, len - last_after.next);
	} else {
		lc_buf_add(out, in, len);
		if (len && in[len - 1] != '\n')
			lc_buf_addc(out, '\n');
		lc_buf_add(out, value, vlen);
		lc_buf_addc(out, '\n');
	}
	return 0;
}

int lc_edit_apply(struct lc_buf *out, const struct lc_edit *e, const char *in,
		  size_t len, int *changed, struct lc_error *err)
{
	struct lc_buf res = LC_BUF_INIT;
	struct lc_buf scratch = LC_BUF_INIT;
	int rc;

	*changed = 0;
	if (!e->impl || (e->kind != LC_EDIT_LINE && !e->impl->has_re) ||
	    (e->kind == LC_EDIT_LINE && !e->replacement)) {
		rc = lc_error_set(err, LC_ERR, "edit applied before it was initialised");
		goto out;
	}
	if (len > INT_MAX) {
		/* regoff_t may be an int: keep every offset representable. */
		rc = lc_error_set(err, LC_ERR,
				  "input too large to edit (%zu bytes)", len);
		goto out;
	}
	if (!in)
		in = "";

	switch (e->kind) {
	case LC_EDIT_SUBST:
		rc = apply_subst(&res, e, in, len, &scratch, err);
		break;
	case LC_EDIT_LINE:
		rc = apply_line(&res, e, in, len, &scratch, err);
		break;
	case LC_EDIT_ABSENT:
		rc = apply_absent(&res, e, in, len, &scratch, err);
		break;
	default:
		rc = lc_error_set(err, LC_ERR, "unknown edit kind %d", (int)e->kind);
		break;
	}
	if (rc)
		goto out;

	*changed = res.len != len || memcmp(res.buf, in, len) != 0;
	/* in may point into out: it is only released now, after the last read. */
	lc_buf_release(out);
	*out = res;
	lc_buf_init(&res);
out:
	lc_buf_release(&res);
	lc_buf_release(&scratch);
	return rc;
}

void lc_edit_release(struct lc_edit *e)
{
	if (!e)
		return;
	if (e->impl) {
		if (e->impl->has_re)
			regfree(&e->impl->re);
		if (e->impl->has_after)
			regfree(&e->impl->after);
		free(e->impl->parts);
		lc_buf_release(&e->impl->lit);
		free(e->impl);
	}
	free(e->pattern);
	free(e->replacement);
	free(e->after);
	*e = (struct lc_edit)LC_EDIT_INIT;
}
