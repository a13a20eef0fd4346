/* test_buf.c - the one growable string: growth, formatting, shell quoting
 * (checked by a real /bin/sh), and handing over. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "buf.h"
#include "testutil.h"

/* The invariants every buffer keeps. */
static void assert_sane(const struct lc_buf *b)
{
	assert_non_null(b->buf);
	assert_int_equal(b->buf[b->len], '\0');
	if (b->alloc)
		assert_true(b->len < b->alloc);
	else
		assert_ptr_equal(b->buf, lc_buf_empty);
}

static void test_init_is_empty(void **state)
{
	struct lc_buf a = LC_BUF_INIT, b;

	(void)state;
	lc_buf_init(&b);
	assert_sane(&a);
	assert_sane(&b);
	assert_string_equal(a.buf, "");
	assert_int_equal(a.len, 0);
	/* releasing or resetting an empty buffer allocates nothing */
	lc_buf_reset(&a);
	lc_buf_release(&a);
	assert_ptr_equal(a.buf, lc_buf_empty);
	lc_buf_add(&a, "x", 0);
	assert_int_equal(a.alloc, 0);
	lc_buf_release(&b);
}

static void test_growth(void **state)
{
	struct lc_buf b = LC_BUF_INIT;
	size_t i;

	(void)state;
	for (i = 0; i < 100000; i++) {
		lc_buf_addc(&b, (char)('a' + i % 26));
		if (i % 9973 == 0)
			assert_sane(&b);
	}
	assert_sane(&b);
	assert_int_equal(b.len, 100000);
	for (i = 0; i < b.len; i++)
		if (b.buf[i] != (char)('a' + i % 26))
			fail_msg("byte %zu is %d", i, b.buf[i]);
	/* binary data, NULs included, and truncation */
	lc_buf_reset(&b);
	assert_sane(&b);
	assert_int_equal(b.len, 0);
	lc_buf_add(&b, "a\0b", 3);
	lc_buf_adds(&b, "cd");
	assert_int_equal(b.len, 5);
	assert_memory_equal(b.buf, "a\0bcd", 6);
	lc_buf_setlen(&b, 2);
	assert_sane(&b);
	assert_memory_equal(b.buf, "a\0", 3);
	/* grow reserves without changing the content */
	lc_buf_grow(&b, 1000);
	assert_true(b.alloc >= 1003);
	assert_int_equal(b.len, 2);
	assert_sane(&b);
	lc_buf_release(&b);
	assert_sane(&b);
	assert_int_equal(b.len, 0);
}

static void test_addf(void **state)
{
	struct lc_buf b = LC_BUF_INIT;
	char big[300];

	(void)state;
	lc_buf_addf(&b, "%d-%s-%c", 42, "x", 'y');
	assert_string_equal(b.buf, "42-x-y");
	assert_int_equal(b.len, 6);
	/* longer than the first guess: formatted again after growing */
	memset(big, 'z', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	lc_buf_addf(&b, "[%s]%zu", big, sizeof(big));
	assert_int_equal(b.len, 6 + 1 + 299 + 1 + 3);
	assert_memory_equal(b.buf, "42-x-y[zzz", 10);
	assert_string_equal(b.buf + b.len - 5, "z]300");
	assert_sane(&b);
	/* an empty format adds nothing */
	lc_buf_addf(&b, "%s", "");
	assert_int_equal(b.len, 310);
	lc_buf_release(&b);

	/* lc_xasprintf is addf into a fresh string */
	{
		char *s = lc_xasprintf("%s:%u:%u", "f.yaml", 3u, 14u);

		assert_string_equal(s, "f.yaml:3:14");
		free(s);
	}
}

static void test_detach(void **state)
{
	struct lc_buf b = LC_BUF_INIT;
	size_t len = 99;
	char *s;

	(void)state;
	lc_buf_adds(&b, "hello");
	s = lc_buf_detach(&b, &len);
	assert_string_equal(s, "hello");
	assert_int_equal(len, 5);
	/* b is empty and usable again */
	assert_sane(&b);
	assert_int_equal(b.len, 0);
	assert_int_equal(b.alloc, 0);
	lc_buf_adds(&b, "again");
	assert_string_equal(b.buf, "again");
	free(s);
	lc_buf_release(&b);

	/* an empty buffer hands over a string the caller can free */
	s = lc_buf_detach(&b, &len);
	assert_non_null(s);
	assert_ptr_not_equal(s, lc_buf_empty);
	assert_string_equal(s, "");
	assert_int_equal(len, 0);
	free(s);
	s = lc_buf_detach(&b, NULL);
	free(s);
}

/* printf '%s' QUOTED through /bin/sh must give back exactly s. */
static void shquote_round_trip(const char *s)
{
	struct lc_buf cmd = LC_BUF_INIT, out = LC_BUF_INIT;

	lc_buf_adds(&cmd, "printf '%s' ");
	lc_buf_add_shquote(&cmd, s);
	assert_int_equal(tu_sh_run(NULL, cmd.buf, cmd.len, &out), 0);
	if (out.len != strlen(s) || memcmp(out.buf, s, out.len))
		fail_msg("quoted %s gave back '%s' for '%s'", cmd.buf, out.buf, s);
	lc_buf_release(&cmd);
	lc_buf_release(&out);
}

static void test_shquote(void **state)
{
	static const char *const cases[] = {
		"", "plain", "it's", "''", "'", "a'b'c", "$(touch /tmp/MARK-lc-test-buf)",
		"`touch /tmp/MARK-lc-test-buf`", "${HOME} $HOME", "a;b&c|d", "new\nline",
		"tab\there", "back\\slash\\", "\"double\"", "-n", "*", "~root",
		"!event", "\xc3\xa9t\xc3\xa9 \xff", "# not a comment", "a\\'b",
	};
	struct lc_buf b = LC_BUF_INIT;
	size_t i;

	(void)state;
	lc_buf_add_shquote(&b, "it's");
	assert_string_equal(b.buf, "'it'\\''s'");
	lc_buf_reset(&b);
	lc_buf_add_shquote(&b, "");
	assert_string_equal(b.buf, "''");
	lc_buf_release(&b);
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		shquote_round_trip(cases[i]);
	assert_false(tu_exists("/tmp/MARK-lc-test-buf"));
}

static void test_x_alloc(void **state)
{
	char *s;
	void *p;

	(void)state;
	s = lc_xstrndup("abcdef", 3);
	assert_string_equal(s, "abc");
	free(s);
	s = lc_xstrdup("");
	assert_string_equal(s, "");
	free(s);
	/* zero sizes still give a pointer that can be freed */
	p = lc_xmalloc(0);
	assert_non_null(p);
	p = lc_xrealloc(p, 0);
	assert_non_null(p);
	free(p);
	p = lc_xcalloc(0, 0);
	assert_non_null(p);
	free(p);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_init_is_empty),
		cmocka_unit_test(test_growth),
		cmocka_unit_test(test_addf),
		cmocka_unit_test(test_detach),
		cmocka_unit_test(test_shquote),
		cmocka_unit_test(test_x_alloc),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
