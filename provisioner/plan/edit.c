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
#include <locale.h>
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
	struct lc_buf re_lit;   /* a literal every match of re contains ("": none known) */
	regex_t after;          /* line: insert-after anchor */
	int has_after;
	struct lc_buf after_lit;
	regex_t before;         /* line: insert-before anchor */
	int has_before, before_bof;
	struct lc_buf before_lit;
	regex_t from, to;       /* between: the region's first line before, its end */
	int has_between;
	struct lc_buf from_lit, to_lit;
	locale_t utf8;          /* C.UTF-8 for regcomp and regexec ((locale_t)0: bytes) */
	struct repl_part *parts;
	size_t nr_parts, alloc_parts;
	struct lc_buf lit;
};

/* One line of the input: [start, end) without its '\n'; next is where
 * the following line starts (end + 1, or end when the '\n' is missing). */
struct line {
	size_t start, end, next;
};

/* A line ending "\r\n" (a CRLF file) is not part of the line either:
 * patterns and exact lines match without the '\r', and a line replaced in
 * place keeps its ending. */
static int next_line(struct line *out, const char *in, size_t len, size_t pos)
{
	const char *nl;

	if (pos >= len)
		return 0;
	nl = memchr(in + pos, '\n', len - pos);
	out->start = pos;
	out->end = nl ? (size_t)(nl - in) : len;
	out->next = nl ? out->end + 1 : len;
	if (nl && out->end > pos && in[out->end - 1] == '\r')
		out->end--;
	return 1;
}

/* The line ending a line edit writes: the file's own ("\r\n" when its
 * first line ends so), else "\n". */
static const char *eol_of(const char *in, size_t len)
{
	const char *nl = memchr(in, '\n', len);

	return nl && nl > in && nl[-1] == '\r' ? "\r\n" : "\n";
}

static int line_has_nl(const struct line *l)
{
	return l->next > l->end;
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

/* Drop the last character of run (a whole UTF-8 sequence). */
static void pop_char(struct lc_buf *run)
{
	size_t n = run->len;

	while (n && ((unsigned char)run->buf[n - 1] & 0xc0) == 0x80)
		n--;
	lc_buf_setlen(run, n ? n - 1 : 0);
}

/*
 * The longest run of literal bytes that every match of the ERE p contains,
 * into lit ("" when none is known: alternations, or nothing but classes,
 * groups and optional characters).  The engine looks for it with memmem
 * and runs regexec only on the lines that contain it, so a pass over a
 * large file costs a memory scan, not a regexec per line.
 */
static void required_literal(struct lc_buf *lit, const char *p)
{
	struct lc_buf run = LC_BUF_INIT;
	int depth = 0;

	lc_buf_reset(lit);
	for (; *p; p++) {
		int brk = 0;

		switch (*p) {
		case '|':
			if (!depth) {  /* an alternation: no literal is required */
				lc_buf_reset(lit);
				lc_buf_release(&run);
				return;
			}
			break;
		case '\\':
			/* \. is a literal '.'; \w, \<, \` ... (GNU) and \1 are not */
			if (p[1] && !isalnum((unsigned char)p[1]) && !strchr("<>`'", p[1])) {
				if (!depth)
					lc_buf_addc(&run, *++p);
				else
					p++;
			} else {
				if (p[1])
					p++;
				brk = 1;
			}
			break;
		case '[':
			p++;
			if (*p == '^')
				p++;
			if (*p == ']')
				p++;
			while (*p && *p != ']') {
				if (*p == '[' && p[1] && strchr(":.=", p[1])) {
					const char *q = strchr(p + 2, p[1]);

					if (q && q[1] == ']')
						p = q + 1;
				}
				p++;
			}
			if (!*p)
				p--;
			brk = 1;
			break;
		case '(':
			depth++;
			brk = 1;
			break;
		case ')':
			if (depth)
				depth--;
			brk = 1;
			break;
		case '*':
		case '?':
		case '{':
			if (!depth && run.len)
				pop_char(&run);  /* the character before is optional */
			if (*p == '{' && strchr(p, '}'))
				p = strchr(p, '}');
			brk = 1;
			break;
		case '+':     /* required, but repeated: the run ends with it */
		case '.':
		case '^':
		case '$':
			brk = 1;
			break;
		default:
			if (!depth)
				lc_buf_addc(&run, *p);
			break;
		}
		if (depth)
			brk = 1;
		if (brk) {
			if (run.len > lit->len) {
				lc_buf_reset(lit);
				lc_buf_add(lit, run.buf, run.len);
			}
			lc_buf_reset(&run);
		}
	}
	if (run.len > lit->len) {
		lc_buf_reset(lit);
		lc_buf_add(lit, run.buf, run.len);
	}
	lc_buf_release(&run);
}

/* Regexes work on characters, not bytes: compiled and run under C.UTF-8
 * (a bracket expression [éè] is two characters, not four bytes), switched
 * for the calling thread only (uselocale).  Text that is not UTF-8 stays
 * byte for byte what it was: it just does not match such expressions. */
static int compile_re(regex_t *re, locale_t loc, const char *pattern, const char *what,
		      struct lc_error *err)
{
	struct lc_buf msg = LC_BUF_INIT;
	locale_t old = (locale_t)0;
	size_t n;
	int rc;

	if ((rc = check_ere(pattern, what, err)))
		return rc;
	if (loc)
		old = uselocale(loc);
	rc = regcomp(re, pattern, REG_EXTENDED);
	if (loc)
		uselocale(old);
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

static struct lc_edit_impl *impl_new(void)
{
	struct lc_edit_impl *impl = lc_xcalloc(1, sizeof(*impl));

	lc_buf_init(&impl->lit);
	lc_buf_init(&impl->re_lit);
	lc_buf_init(&impl->after_lit);
	lc_buf_init(&impl->before_lit);
	lc_buf_init(&impl->from_lit);
	lc_buf_init(&impl->to_lit);
	impl->utf8 = newlocale(LC_CTYPE_MASK, "C.UTF-8", (locale_t)0);
	return impl;
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
	e.impl = impl_new();

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
	rc = compile_re(&e.impl->re, e.impl->utf8, re.buf, what.buf, err);
	if (rc)
		goto out;
	e.impl->has_re = 1;
	required_literal(&e.impl->re_lit, re.buf);
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
	e.impl = impl_new();

	if (!line) {
		rc = lc_error_set(err, LC_EPARSE, "line edit: no line given");
		goto out;
	}
	if (strchr(line, '\n')) {
		rc = lc_error_set(err, LC_EPARSE,
				  "line edit: the line contains a newline; a multi-line value is not a line (use a template, or one line edit per line)");
		goto out;
	}
	if (strchr(line, '\r')) {
		rc = lc_error_set(err, LC_EPARSE,
				  "line edit: the line contains a carriage return; a line's ending "
				  "is the file's (\\r\\n in a CRLF file), not part of the line");
		goto out;
	}
	if ((match && !*match) || (after && !*after)) {
		rc = lc_error_set(err, LC_EPARSE,
				  "line edit for '%s': empty %s regex (leave it out instead)",
				  line, match && !*match ? "match" : "after");
		goto out;
	}
	if (match) {
		rc = compile_re(&e.impl->re, e.impl->utf8, match, "match of line edit", err);
		if (rc)
			goto out;
		e.impl->has_re = 1;
		required_literal(&e.impl->re_lit, match);
		e.pattern = lc_xstrdup(match);
	}
	if (after) {
		rc = compile_re(&e.impl->after, e.impl->utf8, after, "after of line edit", err);
		if (rc)
			goto out;
		e.impl->has_after = 1;
		required_literal(&e.impl->after_lit, after);
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

int lc_edit_set_before(struct lc_edit *e, const char *before, struct lc_error *err)
{
	int rc;

	if (e->kind != LC_EDIT_LINE || !e->impl)
		return lc_error_set(err, LC_EPARSE, "'before' goes with a line edit");
	if (e->after)
		return lc_error_set(err, LC_EPARSE, "line edit for '%s': 'after' or 'before', not both",
				    e->replacement);
	if (!before || !*before)
		return lc_error_set(err, LC_EPARSE, "line edit for '%s': empty before regex "
				    "(leave it out instead)", e->replacement);
	if (!strcmp(before, "BOF")) {
		e->impl->before_bof = 1;
	} else {
		if ((rc = compile_re(&e->impl->before, e->impl->utf8, before, "before of line edit", err)))
			return rc;
		e->impl->has_before = 1;
		required_literal(&e->impl->before_lit, before);
	}
	e->before = lc_xstrdup(before);
	return 0;
}

int lc_edit_set_between(struct lc_edit *e, const char *from, const char *to,
			struct lc_error *err)
{
	int rc;

	if (!e->impl)
		return lc_error_set(err, LC_EPARSE, "'between' on an edit not initialised");
	if (e->impl->has_between)
		return lc_error_set(err, LC_EPARSE, "'between' given twice");
	if (!from || !*from || !to || !*to)
		return lc_error_set(err, LC_EPARSE, "'between': empty %s regex",
				    !from || !*from ? "start" : "end");
	if ((rc = compile_re(&e->impl->from, e->impl->utf8, from, "between's start", err)))
		return rc;
	if ((rc = compile_re(&e->impl->to, e->impl->utf8, to, "between's end", err))) {
		regfree(&e->impl->from);
		return rc;
	}
	e->impl->has_between = 1;
	required_literal(&e->impl->from_lit, from);
	required_literal(&e->impl->to_lit, to);
	e->from = lc_xstrdup(from);
	e->to = lc_xstrdup(to);
	return 0;
}

int lc_edit_init_absent(struct lc_edit *out, const char *pattern, struct lc_error *err)
{
	struct lc_edit e = LC_EDIT_INIT;
	int rc;

	*out = e;
	e.kind = LC_EDIT_ABSENT;
	e.impl = impl_new();

	if (!pattern || !*pattern) {
		rc = lc_error_set(err, LC_EPARSE,
				  "absent edit: empty regex (it would remove every line)");
		goto out;
	}
	rc = compile_re(&e.impl->re, e.impl->utf8, pattern, "absent edit", err);
	if (rc)
		goto out;
	e.impl->has_re = 1;
	required_literal(&e.impl->re_lit, pattern);
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

/* The next line at or after pos that may match: one containing lit (all
 * lines when lit is empty).  0 when there is none. */
static int next_candidate(struct line *out, const char *in, size_t len, size_t pos,
			  const struct lc_buf *lit)
{
	const char *hit, *nl;

	if (!lit->len)
		return next_line(out, in, len, pos);
	if (pos >= len || !(hit = memmem(in + pos, len - pos, lit->buf, lit->len)))
		return 0;
	nl = memrchr(in + pos, '\n', (size_t)(hit - (in + pos)));
	return next_line(out, in, len, nl ? (size_t)(nl - in) + 1 : pos);
}

/* The result of an edit, built only once it differs from the input:
 * out NULL (a dry run) stops at the first difference. */
struct result {
	struct lc_buf *out;
	const char *in;
	size_t copied;      /* in[0..copied) is in out */
	int changed;
	int prove;          /* find out whether the edit changes its own result */
	int again;          /* ... it does (-1: the result has to say) */
	const char *eol;    /* the file's line ending, for lines a line edit adds */
};

/* Replace in[from..to) by the bytes rep[0..n). */
static void replace(struct result *r, size_t from, size_t to, const char *rep, size_t n)
{
	if (r->out) {
		lc_buf_add(r->out, r->in + r->copied, from - r->copied);
		lc_buf_add(r->out, rep, n);
	}
	r->copied = to;
	r->changed = 1;
}

static void finish(struct result *r, size_t len)
{
	if (r->out && r->changed)
		lc_buf_add(r->out, r->in + r->copied, len - r->copied);
}

/*
 * Whether subst e changes the text rep that replaced one line (and that
 * was followed by a '\n' when nl): the lines of the result the edit has
 * not touched are lines it left alone, and a subst works line by line, so
 * these lines are the only place applying it again could change.
 */
static int subst_again(int *again, const struct lc_edit *e, const struct lc_buf *rep, int nl,
		       struct lc_buf *scratch, struct lc_error *err)
{
	struct lc_buf line = LC_BUF_INIT;
	const char *nlp;
	size_t start = 0, end;
	int rc = 0;

	for (;;) {
		nlp = memchr(rep->buf + start, '\n', rep->len - start);
		end = nlp ? (size_t)(nlp - rep->buf) : rep->len;
		if (!nlp && end == start && !nl)
			break;  /* empty text at the end of the file: no line */
		lc_buf_reset(&line);
		if ((rc = subst_line(&line, e, rep->buf + start, end - start, scratch, err)))
			break;
		if (line.len != end - start || memcmp(line.buf, rep->buf + start, line.len)) {
			*again = 1;
			break;
		}
		if (!nlp)
			break;
		start = end + 1;
	}
	lc_buf_release(&line);
	return rc;
}

static int apply_subst(struct result *res, const struct lc_edit *e, const char *in,
		       size_t len, struct lc_buf *scratch, struct lc_error *err)
{
	struct lc_buf line = LC_BUF_INIT;
	struct line l;
	size_t pos = 0;
	int rc = 0;

	while (next_candidate(&l, in, len, pos, &e->impl->re_lit)) {
		lc_buf_reset(&line);
		if ((rc = subst_line(&line, e, in + l.start, l.end - l.start, scratch, err)))
			break;
		if (line.len != l.end - l.start || memcmp(line.buf, in + l.start, line.len)) {
			replace(res, l.start, l.end, line.buf, line.len);
			if (!res->out)
				break;
			if (res->prove && !res->again &&
			    (rc = subst_again(&res->again, e, &line, l.next > l.end, scratch, err)))
				break;
		}
		pos = l.next;
	}
	lc_buf_release(&line);
	return rc;
}

static int apply_absent(struct result *res, const struct lc_edit *e, const char *in,
			size_t len, struct lc_buf *scratch, struct lc_error *err)
{
	struct line l;
	size_t pos = 0;
	int rc;

	while (next_candidate(&l, in, len, pos, &e->impl->re_lit)) {
		if ((rc = line_matches(&e->impl->re, in, &l, scratch, err)) < 0)
			return rc;
		if (rc) {
			replace(res, l.start, l.next, "", 0);
			if (!res->out)
				break;
		}
		pos = l.next;
	}
	return 0;
}

/* The last line that re matches (with its literal lit): *found 1 and *out.
 * Candidates are gathered front to back by memmem, then tried back to
 * front, so a pattern that matches many lines costs one regexec.  With
 * value (which contains lit), *has says whether a line is value, exactly:
 * such a line is a candidate, so that costs no second pass. */
static int last_match(struct line *out, int *found, const regex_t *re, const struct lc_buf *lit,
		      const char *in, size_t len, const char *value, int *has,
		      struct lc_buf *scratch, struct lc_error *err)
{
	struct line *cand = NULL, l;
	size_t n = 0, alloc = 0, pos = 0, vlen = value ? strlen(value) : 0;
	int rc = 0;

	*found = 0;
	if (value)
		*has = 0;
	while (next_candidate(&l, in, len, pos, lit)) {
		LC_ALLOC_GROW(cand, n + 1, alloc);
		cand[n++] = l;
		pos = l.next;
		if (value && l.end - l.start == vlen && !memcmp(in + l.start, value, vlen))
			*has = 1;
	}
	while (n && !*found) {
		n--;
		if ((rc = line_matches(re, in, &cand[n], scratch, err)) < 0)
			break;
		if (rc) {
			*out = cand[n];
			*found = 1;
		}
		rc = 0;
	}
	free(cand);
	return rc;
}

/* Whether value is one of the lines of in, exactly. */
static int has_line(const char *in, size_t len, const char *value, size_t vlen)
{
	const char *p = in, *end = in + len, *hit;

	if (!vlen) {  /* an empty line: "\n\n", or "\n" at the start (or "\r\n") */
		if ((len && in[0] == '\n') || (len > 1 && in[0] == '\r' && in[1] == '\n'))
			return 1;
		return memmem(in, len, "\n\n", 2) != NULL || memmem(in, len, "\n\r\n", 3) != NULL;
	}
	while (p < end && (hit = memmem(p, (size_t)(end - p), value, vlen))) {
		if ((hit == in || hit[-1] == '\n') &&
		    (hit + vlen == end || hit[vlen] == '\n' ||
		     (hit[vlen] == '\r' && hit + vlen + 1 < end && hit[vlen + 1] == '\n')))
			return 1;
		p = hit + 1;
	}
	return 0;
}

/*
 * A line edit that put its line where the last match was changes its own
 * result again only when the line does not match (so the last match is
 * now an earlier one) and an earlier line, in[0..before), matches.
 */
static int line_again(int *again, const struct lc_edit *e, const char *in, size_t before,
		      struct lc_buf *scratch, struct lc_error *err)
{
	regmatch_t pm[LC_EDIT_NGROUPS];
	struct line prev;
	int rc;

	if ((rc = search(pm, &e->impl->re, e->replacement, 0, strlen(e->replacement), scratch,
			 err)))
		return rc < 0 ? rc : 0;
	return last_match(&prev, again, &e->impl->re, &e->impl->re_lit, in, before, NULL, NULL,
			  scratch, err);
}

static int apply_line(struct result *res, const struct lc_edit *e, const char *in, size_t len,
		      struct lc_buf *scratch, struct lc_error *err)
{
	const char *value = e->replacement, *eol = res->eol;
	size_t vlen = strlen(value);
	const struct lc_buf *lit = &e->impl->re_lit;
	struct line m, a;
	int have_match = 0, have_after = 0, rc, present = 0;
	/* the usual `match: ^#?key =` for `line: key = value`: the lines
	 * the match looks at include the line itself */
	int fused = e->impl->has_re && lit->len && memmem(value, vlen, lit->buf, lit->len);

	if (e->impl->has_re &&
	    (rc = last_match(&m, &have_match, &e->impl->re, lit, in, len, fused ? value : NULL,
			     &present, scratch, err)))
		return rc;
	if (have_match) {
		/* Replace in place; the line keeps its '\n' or lack of one. */
		if (m.end - m.start != vlen || memcmp(in + m.start, value, vlen))
			replace(res, m.start, m.end, value, vlen);
		if (!res->prove)
			return 0;
		if (!vlen && m.next == m.end) {
			/* an empty line at the very end is no line at all: the
			 * line is not in the result, so let the result say */
			res->again = -1;
			return 0;
		}
		return line_again(&res->again, e, in, m.start, scratch, err);
	}
	/* From here on the result is a fixed point: no line of in matches,
	 * and the line is either there already or added, so applying the
	 * edit again finds it (matching or not). */
	if (fused ? present : has_line(in, len, value, vlen))
		return 0;
	if (e->impl->before_bof || e->impl->has_before) {
		struct line b;
		int have_before = e->impl->before_bof;

		b.start = 0;
		if (e->impl->has_before &&
		    (rc = last_match(&b, &have_before, &e->impl->before, &e->impl->before_lit, in,
				     len, NULL, NULL, scratch, err)))
			return rc;
		if (have_before) {
			/* value and its line ending go where line b starts */
			if (res->out) {
				lc_buf_add(res->out, in, b.start);
				lc_buf_add(res->out, value, vlen);
				lc_buf_adds(res->out, eol);
			}
			res->copied = b.start;
			res->changed = 1;
			return 0;
		}
	}
	if (e->impl->has_after &&
	    (rc = last_match(&a, &have_after, &e->impl->after, &e->impl->after_lit, in, len,
			     NULL, NULL, scratch, err)))
		return rc;
	if (have_after) {
		if (res->out) {
			lc_buf_add(res->out, in, a.next);
			if (!line_has_nl(&a))
				lc_buf_adds(res->out, eol);
			lc_buf_add(res->out, value, vlen);
			lc_buf_adds(res->out, eol);
		}
		res->copied = a.next;
		res->changed = 1;
		return 0;
	}
	if (res->out) {
		lc_buf_add(res->out, in, len);
		if (len && in[len - 1] != '\n')
			lc_buf_adds(res->out, eol);
		lc_buf_add(res->out, value, vlen);
		lc_buf_adds(res->out, eol);
	}
	res->copied = len;
	res->changed = 1;
	return 0;
}

static int apply_kind(struct result *res, const struct lc_edit *e, const char *in, size_t len,
		      struct lc_buf *scratch, struct lc_error *err)
{
	switch (e->kind) {
	case LC_EDIT_SUBST:
		return apply_subst(res, e, in, len, scratch, err);
	case LC_EDIT_LINE:
		return apply_line(res, e, in, len, scratch, err);
	case LC_EDIT_ABSENT:
		return apply_absent(res, e, in, len, scratch, err);
	}
	return lc_error_set(err, LC_ERR, "unknown edit kind %d", (int)e->kind);
}

/* The first line matching re at or after pos (*found), in *out. */
static int first_match(struct line *out, int *found, const regex_t *re, const struct lc_buf *lit,
		       const char *in, size_t len, size_t pos, struct lc_buf *scratch,
		       struct lc_error *err)
{
	int rc;

	*found = 0;
	while (next_candidate(out, in, len, pos, lit)) {
		if ((rc = line_matches(re, in, out, scratch, err)) < 0)
			return rc;
		if (rc) {
			*found = 1;
			return 0;
		}
		pos = out->next;
	}
	return 0;
}

/* An edit confined to its region: applied to in[from..to) as if that were
 * the whole input, and the result spliced back. */
static int apply_between(struct result *res, const struct lc_edit *e, const char *in,
			 size_t len, struct lc_buf *scratch, struct lc_error *err)
{
	const struct lc_edit_impl *impl = e->impl;
	struct lc_buf sub = LC_BUF_INIT;
	struct result r;
	struct line l;
	size_t from, to = len;
	int found, rc;

	if ((rc = first_match(&l, &found, &impl->from, &impl->from_lit, in, len, 0, scratch, err)))
		return rc;
	if (!found)
		return e->kind != LC_EDIT_LINE ? 0 :
		       lc_error_set(err, LC_EPARSE, "line edit for '%s': no line matches between's "
				    "start '%s', so there is no region to put it in (add that line "
				    "with a line edit first)", e->replacement, e->from);
	from = l.next;
	if ((rc = first_match(&l, &found, &impl->to, &impl->to_lit, in, len, from, scratch, err)))
		return rc;
	if (found)
		to = l.start;
	r = (struct result){ res->out ? &sub : NULL, in + from, 0, 0, 0, 0, res->eol };
	if (!(rc = apply_kind(&r, e, in + from, to - from, scratch, err)) && r.changed) {
		finish(&r, to - from);
		if (res->out) {
			lc_buf_add(res->out, in, from);
			/* the region starts after a last line without its '\n' */
			if (from && in[from - 1] != '\n' && sub.len)
				lc_buf_adds(res->out, res->eol);
			lc_buf_add(res->out, sub.buf, sub.len);
			lc_buf_add(res->out, in + to, len - to);
		}
		res->copied = len;
		res->changed = 1;
	}
	lc_buf_release(&sub);
	return rc;
}

/* Apply e to in; out NULL: only find out whether it would change it. */
static int run(struct lc_buf *out, const struct lc_edit *e, const char *in, size_t len,
	       int *changed, int *again, struct lc_error *err)
{
	struct lc_buf scratch = LC_BUF_INIT;
	struct result res = { out, in ? in : "", 0, 0, again != NULL, 0, NULL };
	size_t start = out ? out->len : 0;
	locale_t old = (locale_t)0;
	int rc;

	*changed = 0;
	if (again)
		*again = 0;
	if (!e->impl || (e->kind != LC_EDIT_LINE && !e->impl->has_re) ||
	    (e->kind == LC_EDIT_LINE && !e->replacement))
		return lc_error_set(err, LC_ERR, "edit applied before it was initialised");
	if (len > INT_MAX)  /* regoff_t may be an int: keep every offset representable */
		return lc_error_set(err, LC_ERR, "input too large to edit (%zu bytes)", len);
	res.eol = eol_of(res.in, len);
	if (e->impl->utf8)
		old = uselocale(e->impl->utf8);
	if (e->impl->has_between) {
		rc = apply_between(&res, e, res.in, len, &scratch, err);
		res.again = -1;  /* the region may move: find it again */
	} else {
		rc = apply_kind(&res, e, res.in, len, &scratch, err);
	}
	if (e->impl->utf8)
		uselocale(old);
	lc_buf_release(&scratch);
	if (!rc) {
		finish(&res, len);
		*changed = res.changed;
		if (again && res.again < 0)  /* worked out the slow way */
			rc = res.changed ? run(NULL, e, out->buf + start, out->len - start, again, NULL,
					       err)
					 : run(NULL, e, res.in, len, again, NULL, err);
		else if (again)
			*again = res.again;
	}
	return rc;
}

int lc_edit_apply_into(struct lc_buf *out, const struct lc_edit *e, const char *in,
		       size_t len, int *changed, int *again, struct lc_error *err)
{
	if (out->len + len + 1 > out->alloc)  /* the result is about the input's size */
		lc_buf_grow(out, len + 1);
	return run(out, e, in, len, changed, again, err);
}

int lc_edit_apply_proven(struct lc_buf *out, const struct lc_edit *e, const char *in,
			 size_t len, int *changed, int *again, struct lc_error *err)
{
	struct lc_buf res = LC_BUF_INIT;
	int rc;

	if ((rc = lc_edit_apply_into(&res, e, in, len, changed, again, err))) {
		lc_buf_release(&res);
		return rc;
	}
	if (!*changed) {
		/* the input as it is: nothing to do when it is out's own */
		if (in && in == out->buf && len == out->len) {
			lc_buf_release(&res);
			return 0;
		}
		lc_buf_add(&res, in ? in : "", len);
	}
	/* in may point into out: it is only released now, after the last read */
	lc_buf_release(out);
	*out = res;
	return 0;
}

int lc_edit_apply(struct lc_buf *out, const struct lc_edit *e, const char *in,
		  size_t len, int *changed, struct lc_error *err)
{
	return lc_edit_apply_proven(out, e, in, len, changed, NULL, err);
}

int lc_edit_changes(const struct lc_edit *e, const char *in, size_t len, int *changed,
		    struct lc_error *err)
{
	return run(NULL, e, in, len, changed, NULL, err);
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
		if (e->impl->has_before)
			regfree(&e->impl->before);
		if (e->impl->has_between) {
			regfree(&e->impl->from);
			regfree(&e->impl->to);
		}
		free(e->impl->parts);
		lc_buf_release(&e->impl->lit);
		lc_buf_release(&e->impl->re_lit);
		lc_buf_release(&e->impl->after_lit);
		lc_buf_release(&e->impl->before_lit);
		lc_buf_release(&e->impl->from_lit);
		lc_buf_release(&e->impl->to_lit);
		if (e->impl->utf8)
			freelocale(e->impl->utf8);
		free(e->impl);
	}
	free(e->pattern);
	free(e->replacement);
	free(e->after);
	free(e->before);
	free(e->from);
	free(e->to);
	*e = (struct lc_edit)LC_EDIT_INIT;
}
