/* test_edit.c - the sed-style edit engine, and the lineinfile pitfalls. */
#include <regex.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "edit.h"

/* ---- helpers ----------------------------------------------------------- */

/* out must hold exactly want[0..wantlen). */
static void expect_buf(const struct lc_buf *out, const char *want, size_t wantlen)
{
	if (!memchr(want, '\0', wantlen))
		assert_string_equal(out->buf, want);
	assert_int_equal(out->len, wantlen);
	assert_memory_equal(out->buf, want, wantlen);
	assert_int_equal(out->buf[out->len], '\0');
}

/* Apply e to in[0..inlen) and check the result; with idem, apply it again
 * to its own output and check that nothing changes the second time. */
static void check_apply_n(const struct lc_edit *e, const char *in, size_t inlen,
			  const char *want, size_t wantlen, int want_changed,
			  int idem)
{
	struct lc_buf out = LC_BUF_INIT;
	struct lc_buf again = LC_BUF_INIT;
	struct lc_error err = LC_ERROR_INIT;
	int changed = -1;

	assert_int_equal(lc_edit_apply(&out, e, in, inlen, &changed, &err), 0);
	expect_buf(&out, want, wantlen);
	assert_int_equal(changed, want_changed);
	if (idem) {
		changed = -1;
		assert_int_equal(lc_edit_apply(&again, e, out.buf, out.len,
					       &changed, &err), 0);
		expect_buf(&again, want, wantlen);
		assert_int_equal(changed, 0);
	}
	lc_buf_release(&out);
	lc_buf_release(&again);
}

static void check_apply(const struct lc_edit *e, const char *in, const char *want,
			int want_changed, int idem)
{
	check_apply_n(e, in, strlen(in), want, strlen(want), want_changed, idem);
}

static void subst_case(const char *expr, const char *in, const char *want,
		       int want_changed)
{
	struct lc_edit e = LC_EDIT_INIT;
	struct lc_error err = LC_ERROR_INIT;

	assert_int_equal(lc_edit_parse_subst(&e, expr, &err), 0);
	check_apply(&e, in, want, want_changed, 0);
	lc_edit_release(&e);
}

/* Every line case is also checked for idempotency: a second run of the
 * same edit on its own output must change nothing. */
static void line_case(const char *in, const char *line, const char *match,
		      const char *after, const char *want, int want_changed)
{
	struct lc_edit e = LC_EDIT_INIT;
	struct lc_error err = LC_ERROR_INIT;

	assert_int_equal(lc_edit_init_line(&e, line, match, after, &err), 0);
	check_apply(&e, in, want, want_changed, 1);
	lc_edit_release(&e);
}

static void absent_case(const char *in, const char *pattern, const char *want,
			int want_changed)
{
	struct lc_edit e = LC_EDIT_INIT;
	struct lc_error err = LC_ERROR_INIT;

	assert_int_equal(lc_edit_init_absent(&e, pattern, &err), 0);
	check_apply(&e, in, want, want_changed, 1);
	lc_edit_release(&e);
}

/* The edit must be refused with LC_EPARSE, a message containing msg, and
 * leave e releasable and empty. */
static void check_refused(int rc, struct lc_edit *e, const struct lc_error *err,
			  const char *msg)
{
	assert_int_equal(rc, LC_EPARSE);
	assert_int_equal(err->code, LC_EPARSE);
	if (!strstr(err->msg, msg))
		fail_msg("error '%s' lacks '%s'", err->msg, msg);
	assert_null(e->impl);
	assert_null(e->pattern);
	assert_null(e->replacement);
	assert_null(e->after);
	lc_edit_release(e);
}

static void subst_refused(const char *expr, const char *msg)
{
	struct lc_edit e = LC_EDIT_INIT;
	struct lc_error err = LC_ERROR_INIT;

	check_refused(lc_edit_parse_subst(&e, expr, &err), &e, &err, msg);
}

static void line_refused(const char *line, const char *match, const char *after,
			 const char *msg)
{
	struct lc_edit e = LC_EDIT_INIT;
	struct lc_error err = LC_ERROR_INIT;

	check_refused(lc_edit_init_line(&e, line, match, after, &err), &e, &err, msg);
}

/* ---- subst ------------------------------------------------------------- */

static void test_subst_first_per_line(void **state)
{
	(void)state;
	subst_case("s/a/b/", "aaa\naa\nxyz\n", "baa\nba\nxyz\n", 1);
	subst_case("s/a/b/g", "aaa\naa\nxyz\n", "bbb\nbb\nxyz\n", 1);
	/* A match that leaves the text as it was is no change. */
	subst_case("s/a/a/g", "aaa\n", "aaa\n", 0);
	subst_case("s/q/b/", "aaa\n", "aaa\n", 0);
	subst_case("s/a/b/", "", "", 0);
}

static void test_subst_ampersand_and_groups(void **state)
{
	(void)state;
	subst_case("s/[0-9]+/<&>/g", "a1b22", "a<1>b<22>", 1);
	subst_case("s/([a-z]+)=([a-z]+)/\\2=\\1/", "key=val\n", "val=key\n", 1);
	subst_case("s/(o)(.)?/[\\2\\1&]/g", "hello world\n",
		   "hell[ oo ]w[roor]ld\n", 1);
	/* \0 is the whole match; a group that did not take part is empty. */
	subst_case("s/b+/(\\0)/", "abbc\n", "a(bb)c\n", 1);
	subst_case("s/(a)|(b)/[\\1\\2]/g", "ab\n", "[a][b]\n", 1);
	subst_case("s/(((((((((x)))))))))/\\9\\9/", "x\n", "xx\n", 1);
}

static void test_subst_escapes(void **state)
{
	(void)state;
	subst_case("s/x/\\&\\\\/", "x\n", "&\\\n", 1);
	subst_case("s/ /\\n/g", "a b c\n", "a\nb\nc\n", 1);
	subst_case("s/,/\\t/", "a,b\n", "a\tb\n", 1);
	subst_case("s/a/\\q/", "a\n", "q\n", 1);
	/* A backslash in the pattern keeps its regex meaning. */
	subst_case("s/a\\.b/X/", "a.b axb\n", "X axb\n", 1);
	subst_case("s/a\\\\/X/", "a\\b\n", "Xb\n", 1);
}

/* Empty matches with g behave like GNU sed: an empty match right where
 * the previous match ended is skipped, and there is no endless loop. */
static void test_subst_empty_matches(void **state)
{
	(void)state;
	subst_case("s/x*/-/g", "abc", "-a-b-c-", 1);
	subst_case("s/x*/-/g", "abc\n", "-a-b-c-\n", 1);
	subst_case("s/a*/x/g", "baaac\n", "xbxcx\n", 1);
	subst_case("s/b*/X/g", "abc\n", "XaXcX\n", 1);
	subst_case("s/l*/<&>/g", "hello\n", "<>h<>e<ll>o<>\n", 1);
	subst_case("s/x*/-/", "abc\n", "-abc\n", 1);
	subst_case("s/$/!/g", "abc\n\n", "abc!\n!\n", 1);
	subst_case("s/c*$/!/g", "abc\n", "ab!\n", 1);
	subst_case("s/^/> /", "a\nb\n", "> a\n> b\n", 1);
	subst_case("s/x*/-/g", "\n\n", "-\n-\n", 1);
}

/* '^' and word starts refer to the line, not to where g resumed. */
static void test_subst_anchors_per_line(void **state)
{
	(void)state;
	subst_case("s/^a/X/g", "aaa\naa\n", "Xaa\nXa\n", 1);
	subst_case("s/a$/X/g", "aaa\n", "aaX\n", 1);
	/* A regex never spans two lines. */
	subst_case("s/a.b/X/", "a\nb\n", "a\nb\n", 0);
#ifdef REG_STARTEND
	subst_case("s/\\<a/X/g", "aa a\n", "Xa X\n", 1);
#endif
}

static void test_subst_no_trailing_newline(void **state)
{
	(void)state;
	subst_case("s/b/B/", "a\nb", "a\nB", 1);
	subst_case("s/c/C/", "a\nb", "a\nb", 0);
	subst_case("s/$/;/", "a\nb", "a;\nb;", 1);
	subst_case("s/x/y/", "x", "y", 1);
}

static void test_subst_custom_delimiter(void **state)
{
	(void)state;
	subst_case("s|/usr/local|/opt|", "/usr/local/bin\n", "/opt/bin\n", 1);
	subst_case("s,a,b,g", "aa\n", "bb\n", 1);
	subst_case("s#^#// #", "x\n", "// x\n", 1);
	/* & as the delimiter: \& is then the literal & either way. */
	subst_case("s&a&[\\&]&", "a\n", "[&]\n", 1);
	/* A replacement may contain a newline of its own. */
	subst_case("s/a/1\n2/", "a\n", "1\n2\n", 1);
}

/* An escaped delimiter is the delimiter character, literally (POSIX);
 * GNU sed -E would read s|a\|b|X| as an alternation. */
static void test_subst_escaped_delimiter(void **state)
{
	struct lc_edit e = LC_EDIT_INIT;
	struct lc_error err = LC_ERROR_INIT;

	(void)state;
	subst_case("s/\\/usr\\/local/\\/opt/", "/usr/local/bin\n", "/opt/bin\n", 1);
	subst_case("s|a\\|b|X|", "a|b ab\n", "X ab\n", 1);
	subst_case("s|x|a\\|b|", "x\n", "a|b\n", 1);
	subst_case("s.a\\.b.X.", "a.b axb\n", "X axb\n", 1);
	subst_case("s/[\\/]/_/g", "a/b\n", "a_b\n", 1);
	subst_case("s|[\\|]|_|g", "a|b\n", "a_b\n", 1);
	subst_case("s/[[:digit:]\\/]+/#/", "ab1/2c\n", "ab#c\n", 1);
	/* A digit delimiter escaped in the replacement is that digit. */
	subst_case("s1a1\\11", "a\n", "1\n", 1);

	assert_int_equal(lc_edit_parse_subst(&e, "s|a\\|b|X\\|Y|g", &err), 0);
	assert_int_equal(e.kind, LC_EDIT_SUBST);
	assert_string_equal(e.pattern, "a\\|b");
	assert_string_equal(e.replacement, "X\\|Y");
	assert_int_equal(e.global, 1);
	assert_null(e.after);
	lc_edit_release(&e);
	assert_null(e.impl);
	assert_null(e.pattern);
}

static void test_subst_parse_errors(void **state)
{
	(void)state;
	subst_refused("s/a/b/x", "unknown flag 'x' in s command");
	subst_refused("s/a/b/gi", "unknown flag 'i' in s command 's/a/b/gi'");
	subst_refused("s/a/b/g ", "unknown flag ' ' in s command");
	subst_refused("s/a/b/gg", "duplicate flag 'g'");
	subst_refused("s/a/b", "unterminated s command 's/a/b'");
	subst_refused("s/a", "unterminated s command 's/a'");
	subst_refused("s/a/b\\/", "unterminated s command 's/a/b\\/'");
	subst_refused("s/a/b\\", "unterminated s command");
	subst_refused("s/a\\", "unterminated s command");
	subst_refused("s", "expected s/regex/replacement/[g], got 's'");
	subst_refused("", "expected s/regex/replacement/[g]");
	subst_refused("y/a/b/", "expected s/regex/replacement/[g], got 'y/a/b/'");
	subst_refused("s\\a\\b\\", "backslash cannot be the delimiter");
	subst_refused("s\na\nb\n", "newline cannot be the delimiter");
	subst_refused("s//x/", "empty regex in s command 's//x/'");
	subst_refused("s/a/\\1/", "invalid reference \\1 in s command 's/a/\\1/'");
	subst_refused("s/(a)/\\2/", "the regex has 1 group");
	/* Bad regexes: the expression, the regex and regerror's words. */
	subst_refused("s/a(/b/", "bad regex 'a(' in s command 's/a(/b/': ");
	subst_refused("s/a(/b/", "Unmatched ( or \\(");
	subst_refused("s/[a/b/", "bad regex '[a' in s command 's/[a/b/'");
	subst_refused("s/[/]/x/", "bad regex '['");
	subst_refused("s/a{2,1}/b/", "bad regex 'a{2,1}'");
}

#ifdef REG_STARTEND
static void test_subst_nul_bytes(void **state)
{
	struct lc_edit e = LC_EDIT_INIT;
	struct lc_error err = LC_ERROR_INIT;
	static const char in[] = "a\0b\nb\0b\n";
	static const char want[] = "a\0X\nX\0X\n";

	(void)state;
	assert_int_equal(lc_edit_parse_subst(&e, "s/b/X/g", &err), 0);
	check_apply_n(&e, in, sizeof(in) - 1, want, sizeof(want) - 1, 1, 1);
	lc_edit_release(&e);
}
#endif

/* ---- line -------------------------------------------------------------- */

static void test_line_empty_file(void **state)
{
	(void)state;
	line_case("", "port=80", NULL, NULL, "port=80\n", 1);
	line_case("", "port=80", "^port=", "^\\[server\\]", "port=80\n", 1);
	line_case("", "", NULL, NULL, "\n", 1);
}

static void test_line_append(void **state)
{
	(void)state;
	line_case("a\nb\n", "c", NULL, NULL, "a\nb\nc\n", 1);
	line_case("a\nb\n", "c", "^c=", NULL, "a\nb\nc\n", 1);
	/* A file without its last newline gets one before the new line. */
	line_case("a\nb", "c", NULL, NULL, "a\nb\nc\n", 1);
	line_case("\n", "c", NULL, NULL, "\nc\n", 1);
}

/* The line already present elsewhere: nothing changes, it is not moved
 * to the anchor and not appended twice. */
static void test_line_already_present(void **state)
{
	(void)state;
	line_case("a\nport=80\nb\n", "port=80", NULL, NULL, "a\nport=80\nb\n", 0);
	line_case("port=80\n[server]\nb\n", "port=80", NULL, "^\\[server\\]",
		  "port=80\n[server]\nb\n", 0);
	line_case("port=80\n[server]\n", "port=80", "^#port=", "^\\[server\\]",
		  "port=80\n[server]\n", 0);
	/* Present as the last line without a newline: still no change. */
	line_case("a\nport=80", "port=80", NULL, NULL, "a\nport=80", 0);
	line_case("a\n\nb\n", "", NULL, NULL, "a\n\nb\n", 0);
	line_case("a\n", "", NULL, NULL, "a\n\n", 1);
}

/* `line` is compared as a whole line, byte for byte: not as a regex, not
 * as a prefix, not ignoring blanks. */
static void test_line_present_is_exact(void **state)
{
	(void)state;
	line_case("axb\n", "a.b", NULL, NULL, "axb\na.b\n", 1);
	line_case("port=8080\n", "port=80", NULL, NULL, "port=8080\nport=80\n", 1);
	line_case("xport=80\n", "port=80", NULL, NULL, "xport=80\nport=80\n", 1);
	line_case("  port=80\n", "port=80", NULL, NULL, "  port=80\nport=80\n", 1);
	line_case("port=80 \n", "port=80", NULL, NULL, "port=80 \nport=80\n", 1);
}

static void test_line_match_replaces(void **state)
{
	(void)state;
	/* The regex still matches the replaced line: the second run finds
	 * the very line it would write and changes nothing. */
	line_case("a\n#port = 22\nb\n", "port = 8080", "^#?port[[:space:]]*=", NULL,
		  "a\nport = 8080\nb\n", 1);
	line_case("port=80\n", "port=80", "^port=", NULL, "port=80\n", 0);
#ifdef __GLIBC__
	line_case("#port=22\n", "port=8080", "^#?port\\s*=", NULL, "port=8080\n", 1);
#endif
}

/* The classic: the regex no longer matches once the line is replaced.
 * The second run must not append the line again. */
static void test_line_match_no_longer_matches(void **state)
{
	(void)state;
	line_case("x\n#port=22\ny\n", "port=80", "^#port=", NULL,
		  "x\nport=80\ny\n", 1);
	line_case("PermitRootLogin yes\n", "PermitRootLogin no",
		  "^PermitRootLogin yes$", NULL, "PermitRootLogin no\n", 1);
	line_case("x\n#port=22\ny\n", "port=80", "^#port=", "^x$",
		  "x\nport=80\ny\n", 1);
	/* Nothing matches the regex and the line is new: appended once. */
	line_case("x\n", "Port 80", "^port=", NULL, "x\nPort 80\n", 1);
}

/* Several lines match: the last one is replaced, the others stay. */
static void test_line_multiple_matches(void **state)
{
	(void)state;
	line_case("port=1\nx\nport=2\ny\n", "port=3", "^port=", NULL,
		  "port=1\nx\nport=3\ny\n", 1);
	line_case("port=1\nport=3\n", "port=3", "^port=", NULL,
		  "port=1\nport=3\n", 0);
	/* The last match is replaced even when the exact line is present
	 * above it (as Ansible's lineinfile does): two equal lines result. */
	line_case("port=80\n#port=22\n", "port=80", "^#?port=", NULL,
		  "port=80\nport=80\n", 1);
}

/* The anchor matches before (or after) the regex: the regex match wins
 * and the line is replaced where it is, not moved to the anchor. */
static void test_line_match_wins_over_after(void **state)
{
	(void)state;
	line_case("[server]\nhost=a\nport=22\n[client]\n", "port=80", "^port=",
		  "^\\[server\\]", "[server]\nhost=a\nport=80\n[client]\n", 1);
	line_case("port=22\n[server]\nhost=a\n", "port=80", "^port=",
		  "^\\[server\\]", "port=80\n[server]\nhost=a\n", 1);
	line_case("[server]\nport=80\n", "port=80", "^port=", "^\\[server\\]",
		  "[server]\nport=80\n", 0);
}

static void test_line_insert_after(void **state)
{
	(void)state;
	line_case("[server]\nhost=a\n[client]\n", "port=80", "^port=",
		  "^\\[server\\]", "[server]\nport=80\nhost=a\n[client]\n", 1);
	/* After the last line matching the anchor. */
	line_case("#a\nx\n#b\ny\n", "z", NULL, "^#", "#a\nx\n#b\nz\ny\n", 1);
	/* The anchor is the last line and lacks its newline. */
	line_case("a\n[s]", "p=1", NULL, "^\\[s\\]$", "a\n[s]\np=1\n", 1);
	/* No anchor in the file: appended at the end. */
	line_case("a\nb", "p=1", NULL, "^\\[nope\\]", "a\nb\np=1\n", 1);
	/* An inserted line that the regex does not match is still found
	 * by the second run as an exact line. */
	line_case("[s]\nx\n", "Port 80", "^port", "^\\[s\\]", "[s]\nPort 80\nx\n", 1);
}

/* A replaced last line keeps lacking its newline, like subst. */
static void test_line_no_trailing_newline(void **state)
{
	(void)state;
	line_case("a\nport=1", "port=2", "^port=", NULL, "a\nport=2", 1);
	line_case("port=1", "port=2", "^port=", NULL, "port=2", 1);
	line_case("port=1\nb", "port=2", "^port=", NULL, "port=2\nb", 1);
	line_case("a", "b", NULL, NULL, "a\nb\n", 1);
}

static void test_line_refused(void **state)
{
	(void)state;
	line_refused("a\nb", NULL, NULL, "contains a newline");
	line_refused("a\n", "^a", NULL, "multi-line value is not a line");
	line_refused("\n", NULL, NULL, "contains a newline");
	line_refused(NULL, NULL, NULL, "no line given");
	line_refused("x", "(", NULL, "bad regex '(' in match of line edit: ");
	line_refused("x", "^x", "[", "bad regex '[' in after of line edit: ");
	line_refused("x", "", NULL, "empty match regex");
	line_refused("x", NULL, "", "empty after regex");
}

static void test_line_fields(void **state)
{
	struct lc_edit e = LC_EDIT_INIT;
	struct lc_error err = LC_ERROR_INIT;

	(void)state;
	assert_int_equal(lc_edit_init_line(&e, "p=1", "^p=", "^\\[s\\]", &err), 0);
	assert_int_equal(e.kind, LC_EDIT_LINE);
	assert_string_equal(e.replacement, "p=1");
	assert_string_equal(e.pattern, "^p=");
	assert_string_equal(e.after, "^\\[s\\]");
	lc_edit_release(&e);
	assert_int_equal(lc_edit_init_line(&e, "p=1", NULL, NULL, &err), 0);
	assert_null(e.pattern);
	assert_null(e.after);
	lc_edit_release(&e);
}

static void test_line_nul_bytes(void **state)
{
	struct lc_edit e = LC_EDIT_INIT;
	struct lc_error err = LC_ERROR_INIT;
	static const char in1[] = "x\0y\nc\n";
	static const char in2[] = "x\0y\n";
	static const char want2[] = "x\0y\nx\n";

	(void)state;
	assert_int_equal(lc_edit_init_line(&e, "c", NULL, NULL, &err), 0);
	check_apply_n(&e, in1, sizeof(in1) - 1, in1, sizeof(in1) - 1, 0, 1);
	lc_edit_release(&e);
	/* "x\0y" is not the line "x". */
	assert_int_equal(lc_edit_init_line(&e, "x", NULL, NULL, &err), 0);
	check_apply_n(&e, in2, sizeof(in2) - 1, want2, sizeof(want2) - 1, 1, 1);
	lc_edit_release(&e);
#ifdef REG_STARTEND
	{
		static const char in3[] = "x\0port=1\n";
		static const char want3[] = "port=2\n";

		assert_int_equal(lc_edit_init_line(&e, "port=2", "port=", NULL,
						   &err), 0);
		check_apply_n(&e, in3, sizeof(in3) - 1, want3, sizeof(want3) - 1,
			      1, 1);
		lc_edit_release(&e);
	}
#endif
}

/* ---- absent ------------------------------------------------------------ */

static void test_absent_several(void **state)
{
	(void)state;
	absent_case("a=1\nb=2\na=3\nc\na=4\n", "^a=", "b=2\nc\n", 1);
	absent_case("a\n\nb\n\n\n", "^$", "a\nb\n", 1);
	absent_case("a\nb\n", "^c", "a\nb\n", 0);
	absent_case("a\na\n", "a", "", 1);
	absent_case("", "a", "", 0);
}

static void test_absent_no_trailing_newline(void **state)
{
	(void)state;
	absent_case("a\nb", "^b", "a\n", 1);
	absent_case("a\nb", "^a", "b", 1);
	absent_case("b", "b", "", 1);
}

static void test_absent_refused(void **state)
{
	struct lc_edit e = LC_EDIT_INIT;
	struct lc_error err = LC_ERROR_INIT;

	(void)state;
	check_refused(lc_edit_init_absent(&e, "", &err), &e, &err, "empty regex");
	check_refused(lc_edit_init_absent(&e, NULL, &err), &e, &err, "empty regex");
	check_refused(lc_edit_init_absent(&e, "a(", &err), &e, &err,
		      "bad regex 'a(' in absent edit: ");
}

#ifdef REG_STARTEND
static void test_absent_nul_bytes(void **state)
{
	struct lc_edit e = LC_EDIT_INIT;
	struct lc_error err = LC_ERROR_INIT;
	static const char in[] = "keep\0me\ndrop\0me\nx\0drop\n";
	static const char want[] = "keep\0me\n";

	(void)state;
	assert_int_equal(lc_edit_init_absent(&e, "drop", &err), 0);
	check_apply_n(&e, in, sizeof(in) - 1, want, sizeof(want) - 1, 1, 1);
	lc_edit_release(&e);
}
#endif

/* ---- lifecycle and apply contract -------------------------------------- */

static void test_release(void **state)
{
	struct lc_edit e = LC_EDIT_INIT;
	struct lc_error err = LC_ERROR_INIT;

	(void)state;
	lc_edit_release(&e);
	lc_edit_release(&e);
	lc_edit_release(NULL);
	assert_int_equal(lc_edit_parse_subst(&e, "s/(a)/\\1\\1/g", &err), 0);
	lc_edit_release(&e);
	lc_edit_release(&e);
	assert_null(e.impl);
}

static void test_apply_uninitialised(void **state)
{
	struct lc_edit e = LC_EDIT_INIT;
	struct lc_error err = LC_ERROR_INIT;
	struct lc_buf out = LC_BUF_INIT;
	int changed = -1;

	(void)state;
	assert_int_not_equal(lc_edit_apply(&out, &e, "a\n", 2, &changed, &err), 0);
	assert_int_not_equal(err.code, 0);
	assert_int_equal(changed, 0);
	assert_int_equal(out.len, 0);
	lc_buf_release(&out);
}

/* out's old contents are replaced, and in may point into out. */
static void test_apply_into_out(void **state)
{
	struct lc_edit e = LC_EDIT_INIT;
	struct lc_error err = LC_ERROR_INIT;
	struct lc_buf out = LC_BUF_INIT;
	int changed = -1;

	(void)state;
	assert_int_equal(lc_edit_init_line(&e, "c", NULL, NULL, &err), 0);
	lc_buf_adds(&out, "old contents, much longer than the result\n");
	assert_int_equal(lc_edit_apply(&out, &e, "a\n", 2, &changed, &err), 0);
	expect_buf(&out, "a\nc\n", 4);
	assert_int_equal(changed, 1);
	lc_edit_release(&e);

	assert_int_equal(lc_edit_parse_subst(&e, "s/a/xyz/g", &err), 0);
	assert_int_equal(lc_edit_apply(&out, &e, out.buf, out.len, &changed, &err), 0);
	expect_buf(&out, "xyz\nc\n", 6);
	assert_int_equal(changed, 1);
	assert_int_equal(lc_edit_apply(&out, &e, out.buf, out.len, &changed, &err), 0);
	expect_buf(&out, "xyz\nc\n", 6);
	assert_int_equal(changed, 0);
	lc_edit_release(&e);
	lc_buf_release(&out);
}

/* Edits compose: a template-like file through several edits. */
static void test_compose(void **state)
{
	struct lc_edit s = LC_EDIT_INIT, l = LC_EDIT_INIT, a = LC_EDIT_INIT;
	struct lc_error err = LC_ERROR_INIT;
	struct lc_buf buf = LC_BUF_INIT;
	int changed, round;

	(void)state;
	assert_int_equal(lc_edit_parse_subst(&s, "s/^#(ListenAddress) .*/\\1 0.0.0.0/", &err), 0);
	assert_int_equal(lc_edit_init_line(&l, "PermitRootLogin no",
					   "^#?PermitRootLogin[[:space:]]", NULL, &err), 0);
	assert_int_equal(lc_edit_init_absent(&a, "^X11", &err), 0);
	for (round = 0; round < 2; round++) {
		if (!round)
			lc_buf_adds(&buf, "#ListenAddress ::\n#PermitRootLogin yes\nX11Forwarding yes\nX11UseLocalhost no\nUsePAM yes");
		assert_int_equal(lc_edit_apply(&buf, &s, buf.buf, buf.len, &changed, &err), 0);
		assert_int_equal(changed, !round);
		assert_int_equal(lc_edit_apply(&buf, &l, buf.buf, buf.len, &changed, &err), 0);
		assert_int_equal(changed, !round);
		assert_int_equal(lc_edit_apply(&buf, &a, buf.buf, buf.len, &changed, &err), 0);
		assert_int_equal(changed, !round);
		assert_string_equal(buf.buf, "ListenAddress 0.0.0.0\nPermitRootLogin no\nUsePAM yes");
	}
	lc_buf_release(&buf);
	lc_edit_release(&s);
	lc_edit_release(&l);
	lc_edit_release(&a);
}

/* Patterns that make glibc's regcomp explode are refused before it runs;
 * ordinary ones, brackets holding quantifier characters included, pass. */
/* The proof lc_edit_apply_proven works out from what it did agrees with
 * applying the edit to its own result, for every edit here on every file
 * here: idempotent and not, line by line and whole file, lines with and
 * without their '\n'. */
static void test_proof_matches_second_pass(void **state)
{
	static const char *const files[] = {
		"", "\n", "a\n", "a", "x = 1\n#x = 2\nx = 3\n", "#x = 1\n# x = 2\ny\n",
		"aaa\nbab\n\nb", "a\nb\n", "key = v\n[s]\nkey = w", "\n\n\n", "ab\nab\n",
		"x = 1\r\n#x = 2\r\nx = 3\r\n", "a\r\n\r\nb", "key = v\r\n[s]\r\n", "\r\n",
	};
	static const char *const substs[] = {
		"s/a/aa/", "s/a/b/", "s/a/b/g", "s/^$/x/", "s/x/y\\nx/", "s/b$/&\\n/",
		"s/x = [0-9]/x = 9/", "s/^#?x = .*/x = 1/", "s/a*/-/g", "s/.*/&/", "s/^/#/",
		"s/b/\\n/g", "s/^key = .*/key = v/", "s/^a?$/z\\n/",
	};
	static const char *const lines[][3] = {
		{ "x = 1", "^#? ?x =", NULL }, { "x = 1", "^#", NULL }, { "x = 9", "^x", NULL },
		{ "new", NULL, "^#" }, { "b", "^a", "^b" }, { "", NULL, NULL },
		{ "key = v", "^key =", "^\\[s\\]" }, { "ab", "b$", NULL }, { "y", "y", NULL },
		{ "", "b", NULL },
	};
	static const char *const absents[] = { "^#", "^$", "a", "=", "^x = [13]$" };
	struct lc_edit e[sizeof(substs) / sizeof(*substs) + sizeof(lines) / sizeof(*lines) +
			 sizeof(absents) / sizeof(*absents)];
	struct lc_error err = LC_ERROR_INIT;
	size_t n = 0, i, f;
	int seen_again = 0, seen_fixed = 0;

	(void)state;
	for (i = 0; i < sizeof(substs) / sizeof(*substs); i++)
		assert_int_equal(lc_edit_parse_subst(&e[n++], substs[i], &err), 0);
	for (i = 0; i < sizeof(lines) / sizeof(*lines); i++)
		assert_int_equal(lc_edit_init_line(&e[n++], lines[i][0], lines[i][1], lines[i][2],
						   &err), 0);
	for (i = 0; i < sizeof(absents) / sizeof(*absents); i++)
		assert_int_equal(lc_edit_init_absent(&e[n++], absents[i], &err), 0);
	for (i = 0; i < n; i++) {
		for (f = 0; f < sizeof(files) / sizeof(*files); f++) {
			struct lc_buf out = LC_BUF_INIT;
			int changed, again, twice;

			assert_int_equal(lc_edit_apply_proven(&out, &e[i], files[f], strlen(files[f]),
							      &changed, &again, &err), 0);
			assert_int_equal(lc_edit_changes(&e[i], out.buf, out.len, &twice, &err), 0);
			if (again != twice)
				fail_msg("edit %zu on file %zu: proof says %d, second pass %d", i, f,
					 again, twice);
			seen_again |= again;
			seen_fixed |= changed && !again;
			lc_buf_release(&out);
		}
	}
	/* the table has both kinds, or the test proves little */
	assert_true(seen_again);
	assert_true(seen_fixed);
	for (i = 0; i < n; i++)
		lc_edit_release(&e[i]);
}

/* before: the line goes before the last line matching `before`, or first
 * with BOF (a line that must precede sshd's Match blocks, or a header). */
static void before_case(const char *in, const char *line, const char *match,
			const char *before, const char *want, int want_changed)
{
	struct lc_edit e = LC_EDIT_INIT;
	struct lc_error err = LC_ERROR_INIT;
	struct lc_buf out = LC_BUF_INIT;
	int changed, again, twice;

	assert_int_equal(lc_edit_init_line(&e, line, match, NULL, &err), 0);
	if (lc_edit_set_before(&e, before, &err))
		fail_msg("%s", err.msg);
	check_apply(&e, in, want, want_changed, 1);
	/* the proof worked out while applying agrees with a second pass */
	assert_int_equal(lc_edit_apply_proven(&out, &e, in, strlen(in), &changed, &again, &err), 0);
	assert_int_equal(lc_edit_changes(&e, out.buf, out.len, &twice, &err), 0);
	assert_int_equal(again, twice);
	lc_buf_release(&out);
	lc_edit_release(&e);
}

static void test_line_before(void **state)
{
	struct lc_edit e = LC_EDIT_INIT;
	struct lc_error err = LC_ERROR_INIT;

	(void)state;
	before_case("Port 22\nMatch User x\n  X11Forwarding no\n", "PermitRootLogin no", NULL,
		    "^Match", "Port 22\nPermitRootLogin no\nMatch User x\n  X11Forwarding no\n", 1);
	/* the last match */
	before_case("a\nMatch 1\nb\nMatch 2\n", "x", NULL, "^Match",
		    "a\nMatch 1\nb\nx\nMatch 2\n", 1);
	before_case("a\nb\n", "first", NULL, "BOF", "first\na\nb\n", 1);
	before_case("", "first", NULL, "BOF", "first\n", 1);
	before_case("a", "first", NULL, "BOF", "first\na", 1);
	/* no match: appended; present already: nothing */
	before_case("a\n", "x", NULL, "^nope", "a\nx\n", 1);
	before_case("x\nMatch\n", "x", NULL, "^Match", "x\nMatch\n", 0);
	/* match wins over before */
	before_case("#x=1\nMatch\n", "x=2", "^#?x=", "^Match", "x=2\nMatch\n", 1);

	assert_int_equal(lc_edit_init_line(&e, "x", NULL, "^a", &err), 0);
	assert_int_equal(lc_edit_set_before(&e, "^b", &err), LC_EPARSE);
	assert_non_null(strstr(err.msg, "'after' or 'before', not both"));
	lc_edit_release(&e);
	assert_int_equal(lc_edit_init_line(&e, "x", NULL, NULL, &err), 0);
	assert_int_equal(lc_edit_set_before(&e, "", &err), LC_EPARSE);
	assert_int_equal(lc_edit_set_before(&e, "(", &err), LC_EPARSE);
	lc_edit_release(&e);
	assert_int_equal(lc_edit_parse_subst(&e, "s/a/b/", &err), 0);
	assert_int_equal(lc_edit_set_before(&e, "BOF", &err), LC_EPARSE);
	lc_edit_release(&e);
}

/* between: e confined to the region after the first line matching from,
 * up to the next line matching to.  want NULL: the edit must fail with an
 * error containing msg. */
static void between_case(struct lc_edit *e, const char *from, const char *to, const char *in,
			 const char *want, int want_changed)
{
	struct lc_error err = LC_ERROR_INIT;
	struct lc_buf out = LC_BUF_INIT;
	int changed, again, twice;

	if (lc_edit_set_between(e, from, to, &err))
		fail_msg("%s", err.msg);
	check_apply(e, in, want, want_changed, 1);
	/* the proof agrees with a second pass */
	assert_int_equal(lc_edit_apply_proven(&out, e, in, strlen(in), &changed, &again, &err), 0);
	assert_int_equal(lc_edit_changes(e, out.buf, out.len, &twice, &err), 0);
	assert_int_equal(again, twice);
	assert_int_equal(again, 0);
	lc_buf_release(&out);
	lc_edit_release(e);
}

static void test_between(void **state)
{
	static const char ini[] = "[a]\nport=1\nhost=x\n[b]\nport=1\nhost=y\n";
	struct lc_edit e = LC_EDIT_INIT;
	struct lc_error err = LC_ERROR_INIT;
	struct lc_buf out = LC_BUF_INIT;
	int changed, again;

	(void)state;
	/* a replacement inside one ini section (replace's after/before) */
	assert_int_equal(lc_edit_parse_subst(&e, "s/^port=.*/port=2/", &err), 0);
	between_case(&e, "^\\[b\\]", "^\\[", ini,
		     "[a]\nport=1\nhost=x\n[b]\nport=2\nhost=y\n", 1);
	/* the last section runs to the end of the file; the first to the next header */
	assert_int_equal(lc_edit_parse_subst(&e, "s/^host=.*/host=z/", &err), 0);
	between_case(&e, "^\\[a\\]", "^\\[", ini,
		     "[a]\nport=1\nhost=z\n[b]\nport=1\nhost=y\n", 1);
	/* a line edit: present elsewhere does not count; added at the end of the region */
	assert_int_equal(lc_edit_init_line(&e, "user=u", NULL, NULL, &err), 0);
	between_case(&e, "^\\[a\\]", "^\\[", "[a]\nport=1\n[b]\nuser=u\n",
		     "[a]\nport=1\nuser=u\n[b]\nuser=u\n", 1);
	/* ... its match only looks in the region */
	assert_int_equal(lc_edit_init_line(&e, "port=3", "^port=", NULL, &err), 0);
	between_case(&e, "^\\[a\\]", "^\\[", ini,
		     "[a]\nport=3\nhost=x\n[b]\nport=1\nhost=y\n", 1);
	/* ... present in the region: nothing */
	assert_int_equal(lc_edit_init_line(&e, "host=y", NULL, NULL, &err), 0);
	between_case(&e, "^\\[b\\]", "^\\[", ini, ini, 0);
	/* ... BOF is the region's start; an empty region; a region at the end of a
	 * file whose last line lacks its '\n' */
	assert_int_equal(lc_edit_init_line(&e, "first=1", NULL, NULL, &err), 0);
	assert_int_equal(lc_edit_set_before(&e, "BOF", &err), 0);
	between_case(&e, "^\\[b\\]", "^\\[", ini,
		     "[a]\nport=1\nhost=x\n[b]\nfirst=1\nport=1\nhost=y\n", 1);
	assert_int_equal(lc_edit_init_line(&e, "k=v", NULL, NULL, &err), 0);
	between_case(&e, "^\\[a\\]", "^\\[", "[a]\n[b]\n", "[a]\nk=v\n[b]\n", 1);
	assert_int_equal(lc_edit_init_line(&e, "k=v", NULL, NULL, &err), 0);
	between_case(&e, "^\\[a\\]", "^\\[", "x\n[a]", "x\n[a]\nk=v\n", 1);
	/* CRLF: the file's ending, even for an empty region */
	assert_int_equal(lc_edit_init_line(&e, "k=v", NULL, NULL, &err), 0);
	between_case(&e, "^\\[a\\]$", "^\\[", "[a]\r\n[b]\r\n", "[a]\r\nk=v\r\n[b]\r\n", 1);
	/* absent in a region only */
	assert_int_equal(lc_edit_init_absent(&e, "^port=", &err), 0);
	between_case(&e, "^\\[a\\]", "^\\[", ini, "[a]\nhost=x\n[b]\nport=1\nhost=y\n", 1);
	/* the first line matching from starts the region */
	assert_int_equal(lc_edit_parse_subst(&e, "s/1/9/", &err), 0);
	between_case(&e, "^\\[", "^\\[", ini, "[a]\nport=9\nhost=x\n[b]\nport=1\nhost=y\n", 1);
	/* no region: a subst or absent edit changes nothing */
	assert_int_equal(lc_edit_parse_subst(&e, "s/1/9/", &err), 0);
	between_case(&e, "^\\[c\\]", "^\\[", ini, ini, 0);
	assert_int_equal(lc_edit_init_absent(&e, "port", &err), 0);
	between_case(&e, "^\\[c\\]", "^\\[", ini, ini, 0);

	/* ... and a line edit says there is no region */
	assert_int_equal(lc_edit_init_line(&e, "k=v", NULL, NULL, &err), 0);
	assert_int_equal(lc_edit_set_between(&e, "^\\[c\\]", "^\\[", &err), 0);
	assert_int_equal(lc_edit_apply(&out, &e, ini, strlen(ini), &changed, &err), LC_EPARSE);
	assert_non_null(strstr(err.msg, "no line matches between's start '^\\[c\\]'"));
	assert_int_equal(changed, 0);
	lc_edit_release(&e);

	/* the proof is a second pass: an edit that makes its region move */
	assert_int_equal(lc_edit_init_line(&e, "[x]", NULL, NULL, &err), 0);
	assert_int_equal(lc_edit_set_between(&e, "^\\[a\\]", "^\\[b\\]", &err), 0);
	assert_int_equal(lc_edit_apply_proven(&out, &e, "[a]\n[b]\n", 8, &changed, &again, &err),
			 0);
	assert_string_equal(out.buf, "[a]\n[x]\n[b]\n");
	assert_int_equal(again, 0);
	lc_edit_release(&e);
	assert_int_equal(lc_edit_parse_subst(&e, "s/^y$/y\\n[a]/", &err), 0);
	assert_int_equal(lc_edit_set_between(&e, "^\\[a\\]", "^\\[b\\]", &err), 0);
	assert_int_equal(lc_edit_apply_proven(&out, &e, "[a]\ny\n[b]\n", 10, &changed, &again,
					      &err), 0);
	assert_string_equal(out.buf, "[a]\ny\n[a]\n[b]\n");
	assert_int_equal(changed, 1);
	/* the region is still "y": the edit adds another [a] every time */
	assert_int_equal(again, 1);
	lc_edit_release(&e);

	/* refused: empty or bad regexes, twice */
	assert_int_equal(lc_edit_init_absent(&e, "x", &err), 0);
	assert_int_equal(lc_edit_set_between(&e, "", "^\\[", &err), LC_EPARSE);
	assert_int_equal(lc_edit_set_between(&e, "^a", NULL, &err), LC_EPARSE);
	assert_int_equal(lc_edit_set_between(&e, "(", "^\\[", &err), LC_EPARSE);
	assert_non_null(strstr(err.msg, "between's start"));
	assert_int_equal(lc_edit_set_between(&e, "^a", "(", &err), LC_EPARSE);
	assert_non_null(strstr(err.msg, "between's end"));
	assert_null(e.from);
	assert_int_equal(lc_edit_set_between(&e, "^a", "^b", &err), 0);
	assert_int_equal(lc_edit_set_between(&e, "^a", "^b", &err), LC_EPARSE);
	lc_edit_release(&e);
	lc_buf_release(&out);
}

/* CRLF files: lines match without their '\r', keep their ending when
 * replaced, and lines added get the file's ending. */
static void test_crlf(void **state)
{
	(void)state;
	/* present as key=1\r\n: not appended again */
	line_case("a=0\r\nkey=1\r\n", "key=1", NULL, NULL, "a=0\r\nkey=1\r\n", 0);
	/* replaced in place, ending kept */
	line_case("#key=0\r\nb\r\n", "key=1", "^#?key=0$", NULL, "key=1\r\nb\r\n", 1);
	/* inserted after a line, appended: CRLF */
	line_case("[main]\r\nb=1\r\n", "a=1", NULL, "^\\[main\\]$", "[main]\r\na=1\r\nb=1\r\n", 1);
	line_case("a\r\n", "x", NULL, NULL, "a\r\nx\r\n", 1);
	line_case("a\r\nb", "x", NULL, NULL, "a\r\nb\r\nx\r\n", 1);
	/* $ sees the end of the line, not the '\r' */
	absent_case("a\r\nkey=1\r\nb\r\n", "^key=1$", "a\r\nb\r\n", 1);
	subst_case("s/1$/2/", "k=1\r\nj=1\r\n", "k=2\r\nj=2\r\n", 1);
	/* an LF file stays LF; a lone \r inside a line is text */
	line_case("a\n", "x", NULL, NULL, "a\nx\n", 1);
	subst_case("s/a\r$/b/", "a\r\n", "a\r\n", 0);
	/* an empty line in a CRLF file is present */
	line_case("a\r\n\r\nb\r\n", "", NULL, NULL, "a\r\n\r\nb\r\n", 0);
}

/* Regexes work on UTF-8 characters: a bracket expression of accented
 * letters replaces letters, not bytes; '.' is one character; text that is
 * not UTF-8 stays byte for byte. */
static void test_utf8(void **state)
{
	struct lc_edit e = LC_EDIT_INIT;
	struct lc_error err = LC_ERROR_INIT;

	(void)state;
	/* (CRLF) a line's '\r' is its ending, not its text */
	assert_int_equal(lc_edit_init_line(&e, "key=1\r", NULL, NULL, &err), LC_EPARSE);
	assert_non_null(strstr(err.msg, "carriage return"));
	lc_edit_release(&e);
	subst_case("s/[\xc3\xa9\xc3\xa8]/e/g", "caf\xc3\xa9 cr\xc3\xa8me\n", "cafe creme\n", 1);
	subst_case("s/^caf.$/X/", "caf\xc3\xa9\n", "X\n", 1);
	subst_case("s/[\xc3\xa9\xc3\xa8]/e/g", "caf\xe9 latin-1\n", "caf\xe9 latin-1\n", 0);
	line_case("# na\xc3\xafve=0\n", "na\xc3\xafve=1", "^# ?na.ve=", NULL, "na\xc3\xafve=1\n", 1);
	absent_case("\xc3\xa9t\xc3\xa9\nhiver\n", "^.t.$", "hiver\n", 1);
}

static void test_regex_bounds(void **state)
{
	static const char *const ok[] = {
		"^# ?apm_config:$", "a{2,3}b", "(ab){3}", "[+*?]+x", "(a|b){255}",
		"((a){10}){100}", "x{0,255}", "\\++", NULL,
	};
	static const char *const bad[] = {
		"x++", "a*+", "x{256}", "((x{255}){255}){255}", "(a{100}){11}", "a{2}{3}", NULL,
	};
	struct lc_edit e = LC_EDIT_INIT;
	struct lc_error err = LC_ERROR_INIT;
	size_t i;

	(void)state;
	for (i = 0; ok[i]; i++) {
		assert_int_equal(lc_edit_init_absent(&e, ok[i], &err), 0);
		lc_edit_release(&e);
	}
	for (i = 0; bad[i]; i++) {
		assert_int_equal(lc_edit_init_absent(&e, bad[i], &err), LC_EPARSE);
		assert_non_null(strstr(err.msg, "is refused"));
		lc_edit_release(&e);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_subst_first_per_line),
		cmocka_unit_test(test_subst_ampersand_and_groups),
		cmocka_unit_test(test_subst_escapes),
		cmocka_unit_test(test_subst_empty_matches),
		cmocka_unit_test(test_subst_anchors_per_line),
		cmocka_unit_test(test_subst_no_trailing_newline),
		cmocka_unit_test(test_subst_custom_delimiter),
		cmocka_unit_test(test_subst_escaped_delimiter),
		cmocka_unit_test(test_subst_parse_errors),
#ifdef REG_STARTEND
		cmocka_unit_test(test_subst_nul_bytes),
#endif
		cmocka_unit_test(test_proof_matches_second_pass),
		cmocka_unit_test(test_line_empty_file),
		cmocka_unit_test(test_line_append),
		cmocka_unit_test(test_line_already_present),
		cmocka_unit_test(test_line_present_is_exact),
		cmocka_unit_test(test_line_match_replaces),
		cmocka_unit_test(test_line_match_no_longer_matches),
		cmocka_unit_test(test_line_multiple_matches),
		cmocka_unit_test(test_line_match_wins_over_after),
		cmocka_unit_test(test_line_insert_after),
		cmocka_unit_test(test_line_before),
		cmocka_unit_test(test_between),
		cmocka_unit_test(test_crlf),
		cmocka_unit_test(test_utf8),
		cmocka_unit_test(test_line_no_trailing_newline),
		cmocka_unit_test(test_line_refused),
		cmocka_unit_test(test_line_fields),
		cmocka_unit_test(test_line_nul_bytes),
		cmocka_unit_test(test_absent_several),
		cmocka_unit_test(test_absent_no_trailing_newline),
		cmocka_unit_test(test_absent_refused),
#ifdef REG_STARTEND
		cmocka_unit_test(test_absent_nul_bytes),
#endif
		cmocka_unit_test(test_release),
		cmocka_unit_test(test_apply_uninitialised),
		cmocka_unit_test(test_apply_into_out),
		cmocka_unit_test(test_compose),
		cmocka_unit_test(test_regex_bounds),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
