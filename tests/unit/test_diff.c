/* test_diff.c - the unified diff: exact output against GNU diff -u where
 * the edit script is unambiguous, `patch` round trips everywhere, and
 * minimality against an LCS table on random inputs. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "diff.h"
#include "testutil.h"

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

static void expect_str(const struct lc_buf *out, const char *want)
{
	expect_buf(out, want, strlen(want));
}

/* Diff a -> b with labels A and B; the texts must differ. */
static void diff_n(struct lc_buf *out, const char *a, size_t alen, const char *b,
		   size_t blen, int ctx)
{
	lc_buf_reset(out);
	assert_int_equal(lc_diff_unified(out, a, alen, b, blen, "A", "B", ctx), 1);
	assert_true(out->len > 0);
}

static void apply_diff(struct lc_buf *res, const char *a, size_t alen,
		       const struct lc_buf *d, size_t *edits);

/* Check that our diff applies strictly (in process); write a, b and the
 * diff into a temp dir, run `patch -F0 -o out a < d.diff` and check that
 * out is b too.  With gnu, also check that `diff -U ctx` prints
 * exactly our diff. */
static void roundtrip_n(const char *a, size_t alen, const char *b, size_t blen,
			int ctx, int gnu)
{
	struct lc_buf d = LC_BUF_INIT, sh = LC_BUF_INIT, got = LC_BUF_INIT;
	char *dir = tu_mkdtemp("diff");
	char *path, *res;
	size_t reslen, edits;

	diff_n(&d, a, alen, b, blen, ctx);
	apply_diff(&got, a, alen, &d, &edits);
	expect_buf(&got, b, blen);
	free(tu_write_n(dir, "a", a, alen));
	free(tu_write_n(dir, "b", b, blen));
	free(tu_write_n(dir, "d.diff", d.buf, d.len));

	lc_buf_adds(&sh, "patch -s -F0 -o out a < d.diff >/dev/null 2>&1\n");
	if (tu_sh_run(dir, sh.buf, sh.len, &got) != 0)
		fail_msg("patch refused:\n%s", d.buf);
	path = lc_xasprintf("%s/out", dir);
	res = tu_read(path, &reslen);
	if (!res) {
		/* Some patch versions leave no file for an empty result. */
		assert_int_equal(blen, 0);
	} else {
		if (reslen != blen || memcmp(res, b, blen) != 0)
			fail_msg("patch gave a different result for:\n%s", d.buf);
	}
	free(res);
	free(path);

	if (gnu) {
		lc_buf_reset(&sh);
		lc_buf_addf(&sh, "diff -U %d --label A --label B a b\n",
			    ctx < 0 ? LC_DIFF_CONTEXT_DEFAULT : ctx);
		assert_int_equal(tu_sh_run(dir, sh.buf, sh.len, &got), 1);
		if (got.len != d.len || memcmp(got.buf, d.buf, d.len) != 0)
			fail_msg("GNU diff:\n%s\nours:\n%s", got.buf, d.buf);
	}
	lc_buf_release(&d);
	lc_buf_release(&sh);
	lc_buf_release(&got);
	tu_rmrf(dir);
}

static void roundtrip(const char *a, const char *b, int ctx, int gnu)
{
	roundtrip_n(a, strlen(a), b, strlen(b), ctx, gnu);
}

/* Our diff of a -> b (context 3) is exactly want, and applies. */
static void check_exact(const char *a, const char *b, const char *want)
{
	struct lc_buf d = LC_BUF_INIT;

	diff_n(&d, a, strlen(a), b, strlen(b), -1);
	expect_buf(&d, want, strlen(want));
	lc_buf_release(&d);
	roundtrip(a, b, -1, 1);
}

/* "line 1\n" .. "line n\n" */
static void numbered(struct lc_buf *out, size_t n)
{
	size_t i;

	for (i = 1; i <= n; i++)
		lc_buf_addf(out, "line %zu\n", i);
}

/* Lines 1..n, with the lines listed in `changed` (ascending, 0-ended)
 * replaced by "CHANGED k\n". */
static void numbered_changed(struct lc_buf *out, size_t n, const size_t *changed)
{
	size_t i;

	for (i = 1; i <= n; i++) {
		if (*changed == i) {
			lc_buf_addf(out, "CHANGED %zu\n", i);
			changed++;
		} else {
			lc_buf_addf(out, "line %zu\n", i);
		}
	}
}

static size_t count_str(const char *hay, const char *needle)
{
	size_t n = 0;

	for (hay = strstr(hay, needle); hay; hay = strstr(hay + 1, needle))
		n++;
	return n;
}

/* ---- an in-process `patch`, for many random cases ---------------------- */

static size_t next_line_len(const char *p, size_t len, size_t off)
{
	const char *nl = memchr(p + off, '\n', len - off);

	return nl ? (size_t)(nl - (p + off)) + 1 : len - off;
}

static size_t count_lines(const char *p, size_t len)
{
	size_t n = 0, off = 0;

	while (off < len) {
		off += next_line_len(p, len, off);
		n++;
	}
	return n;
}

static size_t parse_num(const char **p)
{
	char *end;
	unsigned long v = strtoul(*p, &end, 10);

	assert_true(end != *p);
	*p = end;
	return v;
}

/* "l" or "l,s" */
static void parse_range(const char **p, size_t *start, size_t *count)
{
	*start = parse_num(p);
	*count = 1;
	if (**p == ',') {
		(*p)++;
		*count = parse_num(p);
	}
}

/* Apply the unified diff d (strictly: context must match) to a; count the
 * removed and added lines in *edits. */
static void apply_diff(struct lc_buf *res, const char *a, size_t alen,
		       const struct lc_buf *d, size_t *edits)
{
	size_t off = 0, apos = 0, aline = 0, dl, al, as, ac, bs, bc, seen_a, seen_b;
	const char *p, *body;
	size_t bodylen;

	*edits = 0;
	lc_buf_reset(res);
	assert_true(d->len > 0);
	/* Headers. */
	dl = next_line_len(d->buf, d->len, off);
	assert_memory_equal(d->buf, "--- ", 4);
	off += dl;
	dl = next_line_len(d->buf, d->len, off);
	assert_memory_equal(d->buf + off, "+++ ", 4);
	off += dl;
	while (off < d->len) {
		p = d->buf + off;
		assert_memory_equal(p, "@@ -", 4);
		p += 4;
		parse_range(&p, &as, &ac);
		assert_memory_equal(p, " +", 2);
		p += 2;
		parse_range(&p, &bs, &bc);
		assert_memory_equal(p, " @@\n", 4);
		off = (size_t)(p + 4 - d->buf);
		/* Copy unchanged lines up to the hunk. */
		if (ac)
			as--;
		assert_true(as >= aline);
		while (aline < as) {
			al = next_line_len(a, alen, apos);
			lc_buf_add(res, a + apos, al);
			apos += al;
			aline++;
		}
		if (!bc)
			bs++;
		assert_int_equal(bs - 1, count_lines(res->buf, res->len));
		seen_a = seen_b = 0;
		while (off < d->len && d->buf[off] != '@') {
			char kind = d->buf[off];

			dl = next_line_len(d->buf, d->len, off);
			assert_int_equal(d->buf[off + dl - 1], '\n');
			body = d->buf + off + 1;
			bodylen = dl - 1;
			off += dl;
			if (off < d->len && d->buf[off] == '\\') {
				dl = next_line_len(d->buf, d->len, off);
				assert_int_equal(dl, strlen("\\ No newline at end of file\n"));
				assert_memory_equal(d->buf + off, "\\ No newline at end of file\n", dl);
				off += dl;
				bodylen--;
			}
			if (kind == ' ' || kind == '-') {
				assert_true(apos < alen);
				al = next_line_len(a, alen, apos);
				assert_int_equal(al, bodylen);
				assert_memory_equal(a + apos, body, al);
				apos += al;
				aline++;
				seen_a++;
			}
			if (kind == ' ' || kind == '+') {
				lc_buf_add(res, body, bodylen);
				seen_b++;
			}
			if (kind == '-' || kind == '+')
				(*edits)++;
			else
				assert_int_equal(kind, ' ');
		}
		assert_int_equal(seen_a, ac);
		assert_int_equal(seen_b, bc);
	}
	lc_buf_add(res, a + apos, alen - apos);
}

struct tline {
	const char *p;
	size_t len;
};

static size_t split_lines(struct tline **out, const char *p, size_t len)
{
	size_t n = 0, alloc = 0, off = 0, l;

	*out = NULL;
	while (off < len) {
		l = next_line_len(p, len, off);
		LC_ALLOC_GROW(*out, n + 1, alloc);
		(*out)[n].p = p + off;
		(*out)[n].len = l;
		n++;
		off += l;
	}
	return n;
}

/* Length of a longest common subsequence of lines, by the O(NM) table. */
static size_t lcs_lines(const char *a, size_t alen, const char *b, size_t blen)
{
	struct tline *x, *y;
	size_t n = split_lines(&x, a, alen), m = split_lines(&y, b, blen);
	size_t *t = lc_xcalloc((n + 1) * (m + 1), sizeof(*t));
	size_t i, j, r;

	for (i = 1; i <= n; i++)
		for (j = 1; j <= m; j++) {
			size_t *c = &t[i * (m + 1) + j];

			if (x[i - 1].len == y[j - 1].len &&
			    memcmp(x[i - 1].p, y[j - 1].p, x[i - 1].len) == 0)
				*c = t[(i - 1) * (m + 1) + j - 1] + 1;
			else if (t[(i - 1) * (m + 1) + j] > t[i * (m + 1) + j - 1])
				*c = t[(i - 1) * (m + 1) + j];
			else
				*c = t[i * (m + 1) + j - 1];
		}
	r = t[n * (m + 1) + m];
	free(t);
	free(x);
	free(y);
	return r;
}

static uint32_t rnd(uint32_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 17;
	*s ^= *s << 5;
	return *s;
}

/* Up to maxlines lines drawn from a few, so that many lines repeat; the
 * last line sometimes lacks its '\n'. */
static void random_text(struct lc_buf *out, uint32_t *s, size_t maxlines,
			unsigned nwords)
{
	static const char *const words[] = { "a", "b", "c", "d", "e", "", "a\r" };
	size_t i, n = rnd(s) % (maxlines + 1);

	lc_buf_reset(out);
	for (i = 0; i < n; i++) {
		lc_buf_adds(out, words[rnd(s) % nwords]);
		lc_buf_addc(out, '\n');
	}
	if (n && rnd(s) % 4 == 0)
		lc_buf_setlen(out, out->len - 1);
}

/* Our diff applies (checked strictly, in process) and is minimal. */
static void check_minimal(const char *a, size_t alen, const char *b, size_t blen,
			  int ctx)
{
	struct lc_buf d = LC_BUF_INIT, res = LC_BUF_INIT;
	size_t edits, na, nb, lcs;

	if (alen == blen && memcmp(a, b, alen) == 0) {
		assert_int_equal(lc_diff_unified(&d, a, alen, b, blen, "A", "B", ctx), 0);
		assert_int_equal(d.len, 0);
		lc_buf_release(&d);
		return;
	}
	diff_n(&d, a, alen, b, blen, ctx);
	apply_diff(&res, a, alen, &d, &edits);
	if (res.len != blen || memcmp(res.buf, b, blen) != 0)
		fail_msg("diff does not apply:\n%s", d.buf);
	lcs = lcs_lines(a, alen, b, blen);
	na = count_lines(a, alen);
	nb = count_lines(b, blen);
	if (edits != na + nb - 2 * lcs)
		fail_msg("%zu edits, %zu is minimal:\n%s", edits, na + nb - 2 * lcs, d.buf);
	lc_buf_release(&d);
	lc_buf_release(&res);
}

/* ---- fixed cases ------------------------------------------------------- */

static void test_identical(void **state)
{
	struct lc_buf out = LC_BUF_INIT;

	(void)state;
	lc_buf_adds(&out, "keep\n");
	assert_int_equal(lc_diff_unified(&out, "x\ny\n", 4, "x\ny\n", 4, "A", "B", 3), 0);
	assert_int_equal(lc_diff_unified(&out, "x", 1, "x", 1, "A", "B", -1), 0);
	assert_int_equal(lc_diff_unified(&out, "", 0, "", 0, "A", "B", 3), 0);
	assert_int_equal(lc_diff_unified(&out, NULL, 0, NULL, 0, NULL, NULL, 0), 0);
	expect_buf(&out, "keep\n", 5);
	lc_buf_release(&out);
}

static void test_insert_at_start(void **state)
{
	(void)state;
	check_exact("b\nc\nd\ne\n", "a\nb\nc\nd\ne\n",
		    "--- A\n+++ B\n@@ -1,3 +1,4 @@\n+a\n b\n c\n d\n");
}

static void test_delete_at_end(void **state)
{
	(void)state;
	check_exact("a\nb\nc\nd\ne\n", "a\nb\nc\nd\n",
		    "--- A\n+++ B\n@@ -2,4 +2,3 @@\n b\n c\n d\n-e\n");
}

static void test_change_in_middle(void **state)
{
	(void)state;
	check_exact("1\n2\n3\n4\n5\n6\n7\n8\n9\n", "1\n2\n3\n4\nfive\n6\n7\n8\n9\n",
		    "--- A\n+++ B\n@@ -2,7 +2,7 @@\n 2\n 3\n 4\n-5\n+five\n 6\n 7\n 8\n");
	/* Several lines replaced by a different number of lines. */
	check_exact("1\n2\n3\n4\n5\n6\n7\n8\n9\n", "1\n2\n3\nx\ny\nz\nw\n8\n9\n",
		    "--- A\n+++ B\n@@ -1,9 +1,9 @@\n 1\n 2\n 3\n-4\n-5\n-6\n-7\n"
		    "+x\n+y\n+z\n+w\n 8\n 9\n");
	check_exact("1\n2\n3\n4\n5\n6\n7\n", "1\n2\n3\nnew\n4\n5\n6\n7\n",
		    "--- A\n+++ B\n@@ -1,6 +1,7 @@\n 1\n 2\n 3\n+new\n 4\n 5\n 6\n");
}

static void test_two_hunks(void **state)
{
	struct lc_buf a = LC_BUF_INIT, b = LC_BUF_INIT, d = LC_BUF_INIT;
	const size_t ch[] = { 3, 25, 0 };

	(void)state;
	numbered(&a, 30);
	numbered_changed(&b, 30, ch);
	diff_n(&d, a.buf, a.len, b.buf, b.len, -1);
	assert_int_equal(count_str(d.buf, "\n@@ "), 2);
	tu_assert_contains(d.buf, "@@ -1,6 +1,6 @@\n");
	tu_assert_contains(d.buf, "@@ -22,7 +22,7 @@\n");
	roundtrip_n(a.buf, a.len, b.buf, b.len, -1, 1);
	lc_buf_release(&a);
	lc_buf_release(&b);
	lc_buf_release(&d);
}

/* Changes share a hunk when at most 2 * context lines lie between them. */
static void hunks_case(size_t first, size_t second, int ctx, size_t want_hunks)
{
	struct lc_buf a = LC_BUF_INIT, b = LC_BUF_INIT, d = LC_BUF_INIT;
	size_t ch[3];

	ch[0] = first;
	ch[1] = second;
	ch[2] = 0;
	numbered(&a, 40);
	numbered_changed(&b, 40, ch);
	diff_n(&d, a.buf, a.len, b.buf, b.len, ctx);
	assert_int_equal(count_str(d.buf, "\n@@ "), want_hunks);
	roundtrip_n(a.buf, a.len, b.buf, b.len, ctx, 1);
	lc_buf_release(&a);
	lc_buf_release(&b);
	lc_buf_release(&d);
}

static void test_hunk_merging(void **state)
{
	(void)state;
	hunks_case(10, 17, -1, 1);      /* 6 lines between: one hunk */
	hunks_case(10, 18, -1, 2);      /* 7 lines between: two */
	hunks_case(10, 11, -1, 1);      /* adjacent: one change */
	hunks_case(10, 13, 1, 1);
	hunks_case(10, 14, 1, 2);
	hunks_case(10, 11, 0, 1);
	hunks_case(10, 12, 0, 2);
	hunks_case(2, 39, 20, 1);
	hunks_case(1, 40, 3, 2);        /* first and last lines */
}

static void test_context_sizes(void **state)
{
	struct lc_buf a = LC_BUF_INIT, b = LC_BUF_INIT;
	const size_t ch[] = { 5, 9, 15, 0 };
	const int ctxs[] = { 0, 1, 2, 3, 5, 100, -1 };
	size_t i;

	(void)state;
	numbered(&a, 20);
	numbered_changed(&b, 20, ch);
	for (i = 0; i < sizeof(ctxs) / sizeof(ctxs[0]); i++)
		roundtrip_n(a.buf, a.len, b.buf, b.len, ctxs[i], 1);
	/* Pure insertions and deletions with no context. */
	roundtrip("1\n2\n3\n4\n", "1\n2\nnew\n3\n4\n", 0, 1);
	roundtrip("1\n2\n3\n4\n", "1\n2\n4\n", 0, 1);
	roundtrip("1\n2\n", "new\n1\n2\n", 0, 1);
	roundtrip("1\n2\n", "1\n2\nnew\n", 0, 1);
	lc_buf_release(&a);
	lc_buf_release(&b);
}

static void test_empty_sides(void **state)
{
	struct lc_buf d = LC_BUF_INIT;

	(void)state;
	check_exact("", "x\ny\n", "--- A\n+++ B\n@@ -0,0 +1,2 @@\n+x\n+y\n");
	check_exact("x\ny\n", "", "--- A\n+++ B\n@@ -1,2 +0,0 @@\n-x\n-y\n");
	check_exact("", "x\n", "--- A\n+++ B\n@@ -0,0 +1 @@\n+x\n");
	check_exact("x\n", "", "--- A\n+++ B\n@@ -1 +0,0 @@\n-x\n");
	check_exact("", "x", "--- A\n+++ B\n@@ -0,0 +1 @@\n+x\n"
		    "\\ No newline at end of file\n");
	check_exact("x", "", "--- A\n+++ B\n@@ -1 +0,0 @@\n-x\n"
		    "\\ No newline at end of file\n");
	check_exact("\n", "", "--- A\n+++ B\n@@ -1 +0,0 @@\n-\n");
	/* NULL with length 0 is an empty text. */
	assert_int_equal(lc_diff_unified(&d, NULL, 0, "x\n", 2, "A", "B", 3), 1);
	expect_str(&d, "--- A\n+++ B\n@@ -0,0 +1 @@\n+x\n");
	lc_buf_reset(&d);
	assert_int_equal(lc_diff_unified(&d, "x\n", 2, NULL, 0, "A", "B", 3), 1);
	expect_str(&d, "--- A\n+++ B\n@@ -1 +0,0 @@\n-x\n");
	lc_buf_release(&d);
}

static void test_no_newline_at_end(void **state)
{
	(void)state;
	check_exact("a\nb", "a\nb\n",
		    "--- A\n+++ B\n@@ -1,2 +1,2 @@\n a\n-b\n"
		    "\\ No newline at end of file\n+b\n");
	check_exact("a\nb\n", "a\nb",
		    "--- A\n+++ B\n@@ -1,2 +1,2 @@\n a\n-b\n+b\n"
		    "\\ No newline at end of file\n");
	check_exact("a\nb", "a\nc",
		    "--- A\n+++ B\n@@ -1,2 +1,2 @@\n a\n-b\n"
		    "\\ No newline at end of file\n+c\n"
		    "\\ No newline at end of file\n");
	/* An unchanged last line without '\n' in the context. */
	check_exact("1\n2\n3\n4", "1\ntwo\n3\n4",
		    "--- A\n+++ B\n@@ -1,4 +1,4 @@\n 1\n-2\n+two\n 3\n 4\n"
		    "\\ No newline at end of file\n");
	/* ... and out of it. */
	check_exact("1\n2\n3\n4\n5\n6", "one\n2\n3\n4\n5\n6",
		    "--- A\n+++ B\n@@ -1,4 +1,4 @@\n-1\n+one\n 2\n 3\n 4\n");
	check_exact("1\n2", "1\n2\n3",
		    "--- A\n+++ B\n@@ -1,2 +1,3 @@\n 1\n-2\n"
		    "\\ No newline at end of file\n+2\n+3\n"
		    "\\ No newline at end of file\n");
	roundtrip("x", "y", -1, 1);
	roundtrip("a\nb\nc", "a\nb\nc\nd\n", -1, 1);
	roundtrip("a\nb\nc\nd\n", "a\nb\nc", -1, 1);
}

static void test_big_file_three_changes(void **state)
{
	struct lc_buf a = LC_BUF_INIT, b = LC_BUF_INIT, d = LC_BUF_INIT;
	const size_t ch[] = { 2, 2500, 4999, 0 };

	(void)state;
	numbered(&a, 5000);
	numbered_changed(&b, 5000, ch);
	diff_n(&d, a.buf, a.len, b.buf, b.len, -1);
	assert_int_equal(count_str(d.buf, "\n@@ "), 3);
	tu_assert_contains(d.buf, "@@ -1,5 +1,5 @@\n line 1\n-line 2\n+CHANGED 2\n");
	tu_assert_contains(d.buf, "@@ -2497,7 +2497,7 @@\n");
	tu_assert_contains(d.buf, "@@ -4996,5 +4996,5 @@\n");
	roundtrip_n(a.buf, a.len, b.buf, b.len, -1, 1);
	/* Lines inserted and removed, in a file with no repeated lines. */
	lc_buf_reset(&b);
	lc_buf_add(&b, a.buf + 7, a.len - 7);           /* "line 1\n" gone */
	lc_buf_adds(&b, "the end\n");
	roundtrip_n(a.buf, a.len, b.buf, b.len, -1, 1);
	lc_buf_release(&a);
	lc_buf_release(&b);
	lc_buf_release(&d);
}

static void test_crlf(void **state)
{
	(void)state;
	check_exact("one\r\ntwo\r\nthree\r\n", "one\r\nTWO\r\nthree\r\n",
		    "--- A\n+++ B\n@@ -1,3 +1,3 @@\n one\r\n-two\r\n+TWO\r\n three\r\n");
	/* Only the line ending changes. */
	check_exact("one\r\ntwo\r\nthree\r\n", "one\r\ntwo\nthree\r\n",
		    "--- A\n+++ B\n@@ -1,3 +1,3 @@\n one\r\n-two\r\n+two\n three\r\n");
	roundtrip("a\r\nb\r\nc\r\n", "a\nb\nc\n", -1, 1);
	roundtrip("a\r\nb\r\nc", "a\r\nb\r\nc\r\n", -1, 1);
	roundtrip("a\rb\rc\n", "a\rB\rc\n", -1, 1);     /* lone CRs are no line ends */
}

static void test_labels_and_appending(void **state)
{
	struct lc_buf d = LC_BUF_INIT;

	(void)state;
	lc_buf_adds(&d, "before\n");
	assert_int_equal(lc_diff_unified(&d, "x\n", 2, "y\n", 2, NULL, NULL, -1), 1);
	expect_str(&d, "before\n--- a\n+++ b\n@@ -1 +1 @@\n-x\n+y\n");
	lc_buf_reset(&d);
	assert_int_equal(lc_diff_unified(&d, "x\n", 2, "y\n", 2, "/etc/x.conf (host)",
					 "/etc/x.conf (wanted)", -1), 1);
	expect_str(&d, "--- /etc/x.conf (host)\n+++ /etc/x.conf (wanted)\n"
		   "@@ -1 +1 @@\n-x\n+y\n");
	lc_buf_release(&d);
}

static void test_nul_bytes(void **state)
{
	static const char a[] = "x\n\0y\nz\n", b[] = "x\n\0Y\nz\n";
	static const char want[] = "--- A\n+++ B\n@@ -1,3 +1,3 @@\n x\n-\0y\n+\0Y\n z\n";
	struct lc_buf d = LC_BUF_INIT;

	(void)state;
	diff_n(&d, a, sizeof(a) - 1, b, sizeof(b) - 1, -1);
	expect_buf(&d, want, sizeof(want) - 1);
	check_minimal(a, sizeof(a) - 1, b, sizeof(b) - 1, 3);
	lc_buf_release(&d);
}

/* Repeated lines: several minimal scripts exist, GNU diff may pick another
 * one, but ours must apply and be minimal. */
static void test_ambiguous(void **state)
{
	static const char *const cases[][2] = {
		{ "x\nx\n", "x\nx\nx\n" },
		{ "x\nx\nx\n", "x\n" },
		{ "a\nb\na\nb\n", "b\na\nb\na\n" },
		{ "a\nb\nc\na\nb\nc\n", "a\nb\nc\n" },
		{ "}\n\n}\n\n}\n", "}\n\nfoo\n}\n\n}\n" },
		{ "\n\n\n", "\n\n\n\n\n" },
		{ "a\nb\nc\nd\n", "d\nc\nb\na\n" },
		{ "a\na\nb\nb\n", "b\nb\na\na\n" },
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		roundtrip(cases[i][0], cases[i][1], -1, 0);
		roundtrip(cases[i][1], cases[i][0], 1, 0);
		check_minimal(cases[i][0], strlen(cases[i][0]), cases[i][1],
			      strlen(cases[i][1]), 3);
	}
}

/* Thousands of small random pairs: minimal, and applying strictly; some
 * of them through the real patch too. */
static void test_random_minimal(void **state)
{
	struct lc_buf a = LC_BUF_INIT, b = LC_BUF_INIT;
	uint32_t seed = 2463534242u;
	int i, ctx;

	(void)state;
	for (i = 0; i < 3000; i++) {
		random_text(&a, &seed, 14, 2 + (unsigned)(i % 6));
		if (rnd(&seed) % 3 == 0) {
			lc_buf_reset(&b);       /* a lightly edited copy */
			lc_buf_add(&b, a.buf, a.len);
			if (b.len)
				b.buf[rnd(&seed) % b.len] = 'Q';
		} else {
			random_text(&b, &seed, 14, 2 + (unsigned)(i % 6));
		}
		ctx = (int)(rnd(&seed) % 5) - 1;
		check_minimal(a.buf, a.len, b.buf, b.len, ctx);
		if (i % 100 == 0 && (a.len != b.len || memcmp(a.buf, b.buf, a.len)))
			roundtrip_n(a.buf, a.len, b.buf, b.len, ctx, 0);
	}
	lc_buf_release(&a);
	lc_buf_release(&b);
}

/* Larger random pairs, with long runs of equal lines between changes. */
static void test_random_edits(void **state)
{
	struct lc_buf a = LC_BUF_INIT, b = LC_BUF_INIT;
	uint32_t seed = 88172645u;
	size_t n, i;
	int round;

	(void)state;
	for (round = 0; round < 30; round++) {
		lc_buf_reset(&a);
		lc_buf_reset(&b);
		n = 50 + rnd(&seed) % 300;
		for (i = 0; i < n; i++) {
			uint32_t r = rnd(&seed) % 40;
			const char *line = (rnd(&seed) % 5) ? "same" : "{";

			lc_buf_addf(&a, "%s %zu\n", line, i % 17);
			if (r == 0)
				continue;                       /* deleted */
			if (r == 1)
				lc_buf_addf(&b, "new %u\n", (unsigned)rnd(&seed) % 5);
			if (r == 2)
				lc_buf_adds(&b, "changed\n");
			else
				lc_buf_addf(&b, "%s %zu\n", line, i % 17);
		}
		check_minimal(a.buf, a.len, b.buf, b.len, round % 4);
		if (round % 5 == 0 && (a.len != b.len || memcmp(a.buf, b.buf, a.len)))
			roundtrip_n(a.buf, a.len, b.buf, b.len, round % 4, 0);
	}
	lc_buf_release(&a);
	lc_buf_release(&b);
}

/* Past LC_DIFF_MAX_LINES the middle is one replaced block. */
static void test_too_many_lines(void **state)
{
	struct lc_buf a = LC_BUF_INIT, b = LC_BUF_INIT, d = LC_BUF_INIT, res = LC_BUF_INIT;
	const size_t n = LC_DIFF_MAX_LINES + 100;
	size_t ch[3], edits;

	(void)state;
	ch[0] = 10;
	ch[1] = n - 10;
	ch[2] = 0;
	numbered(&a, n);
	numbered_changed(&b, n, ch);
	diff_n(&d, a.buf, a.len, b.buf, b.len, -1);
	assert_int_equal(count_str(d.buf, "\n@@ "), 1);
	tu_assert_contains(d.buf, "\n@@ -7,");
	apply_diff(&res, a.buf, a.len, &d, &edits);
	expect_buf(&res, b.buf, b.len);
	assert_int_equal(edits, 2 * (n - 19));
	roundtrip_n(a.buf, a.len, b.buf, b.len, -1, 0);

	/* With only the first change, Myers is not needed at all. */
	ch[1] = 0;
	lc_buf_reset(&b);
	numbered_changed(&b, n, ch);
	diff_n(&d, a.buf, a.len, b.buf, b.len, -1);
	expect_str(&d, "--- A\n+++ B\n@@ -7,7 +7,7 @@\n line 7\n line 8\n line 9\n"
		   "-line 10\n+CHANGED 10\n line 11\n line 12\n line 13\n");
	lc_buf_release(&a);
	lc_buf_release(&b);
	lc_buf_release(&d);
	lc_buf_release(&res);
}

/* Two long texts with almost nothing in common and no common first or last
 * line: the search gives up and still produces a diff that applies. */
static void test_cost_limit(void **state)
{
	struct lc_buf a = LC_BUF_INIT, b = LC_BUF_INIT, d = LC_BUF_INIT, res = LC_BUF_INIT;
	size_t i, edits;

	(void)state;
	for (i = 0; i < 20000; i++) {
		lc_buf_addf(&a, "a %zu\n", i);
		lc_buf_addf(&b, "%s %zu\n", i % 3 ? "b" : "a", i);
	}
	diff_n(&d, a.buf, a.len, b.buf, b.len, -1);
	apply_diff(&res, a.buf, a.len, &d, &edits);
	expect_buf(&res, b.buf, b.len);
	/* 13334 lines in common: a minimal script has 2 * 13333 edits, but
	 * finding it costs more than LC_DIFF_MAX_COST, so the search gave up. */
	assert_true(edits > 2 * 13333);
	lc_buf_release(&a);
	lc_buf_release(&b);
	lc_buf_release(&d);
	lc_buf_release(&res);
}

/* ---- lc_diff_is_binary ------------------------------------------------- */

static void test_is_binary(void **state)
{
	static const char utf8[] = "h\xc3\xa9llo \xe2\x82\xac \xf0\x9d\x84\x9e";
	struct lc_buf big = LC_BUF_INIT;

	(void)state;
	assert_int_equal(lc_diff_is_binary("", 0), 0);
	assert_int_equal(lc_diff_is_binary(NULL, 0), 0);
	assert_int_equal(lc_diff_is_binary("plain text\n", 11), 0);
	assert_int_equal(lc_diff_is_binary("a\0b", 3), 1);
	assert_int_equal(lc_diff_is_binary("\0", 1), 1);
	/* Valid UTF-8: 2, 3 and 4 byte forms, the highest code point. */
	assert_int_equal(lc_diff_is_binary(utf8, sizeof(utf8) - 1), 0);
	assert_int_equal(lc_diff_is_binary("\xf4\x8f\xbf\xbf", 4), 0);
	assert_int_equal(lc_diff_is_binary("\xef\xbb\xbf" "bom", 6), 0);
	/* Invalid UTF-8. */
	assert_int_equal(lc_diff_is_binary("caf\xe9\n", 5), 1);          /* Latin-1 */
	assert_int_equal(lc_diff_is_binary("\xff", 1), 1);
	assert_int_equal(lc_diff_is_binary("\x80", 1), 1);               /* lone continuation */
	assert_int_equal(lc_diff_is_binary("\xc0\x80", 2), 1);           /* overlong */
	assert_int_equal(lc_diff_is_binary("\xe0\x80\xaf", 3), 1);       /* overlong */
	assert_int_equal(lc_diff_is_binary("\xf0\x80\x80\xaf", 4), 1);   /* overlong */
	assert_int_equal(lc_diff_is_binary("\xed\xa0\x80", 3), 1);       /* surrogate */
	assert_int_equal(lc_diff_is_binary("\xf4\x90\x80\x80", 4), 1);   /* > U+10FFFF */
	assert_int_equal(lc_diff_is_binary("\xe2\x82", 2), 1);           /* cut short */
	assert_int_equal(lc_diff_is_binary("\xe2\x82x", 3), 1);
	/* A NUL counts only among the first LC_DIFF_BINARY_SCAN bytes... */
	lc_buf_grow(&big, LC_DIFF_BINARY_SCAN + 10);
	memset(big.buf, 'x', LC_DIFF_BINARY_SCAN + 10);
	lc_buf_setlen(&big, LC_DIFF_BINARY_SCAN + 10);
	big.buf[LC_DIFF_BINARY_SCAN - 1] = '\0';
	assert_int_equal(lc_diff_is_binary(big.buf, big.len), 1);
	big.buf[LC_DIFF_BINARY_SCAN - 1] = 'x';
	big.buf[LC_DIFF_BINARY_SCAN] = '\0';
	assert_int_equal(lc_diff_is_binary(big.buf, big.len), 0);
	/* ... but bad UTF-8 counts anywhere. */
	big.buf[LC_DIFF_BINARY_SCAN + 5] = '\xfe';
	assert_int_equal(lc_diff_is_binary(big.buf, big.len), 1);
	lc_buf_release(&big);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_identical),
		cmocka_unit_test(test_insert_at_start),
		cmocka_unit_test(test_delete_at_end),
		cmocka_unit_test(test_change_in_middle),
		cmocka_unit_test(test_two_hunks),
		cmocka_unit_test(test_hunk_merging),
		cmocka_unit_test(test_context_sizes),
		cmocka_unit_test(test_empty_sides),
		cmocka_unit_test(test_no_newline_at_end),
		cmocka_unit_test(test_big_file_three_changes),
		cmocka_unit_test(test_crlf),
		cmocka_unit_test(test_labels_and_appending),
		cmocka_unit_test(test_nul_bytes),
		cmocka_unit_test(test_ambiguous),
		cmocka_unit_test(test_random_minimal),
		cmocka_unit_test(test_random_edits),
		cmocka_unit_test(test_too_many_lines),
		cmocka_unit_test(test_cost_limit),
		cmocka_unit_test(test_is_binary),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
