/* test_lib.c - the small pieces of lib/: base64 (RFC 4648's vectors,
 * binary data, white space, bad input), whole-file reads, random tokens,
 * the clock. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "codec.h"
#include "files.h"
#include "rand.h"
#include "testutil.h"

/* RFC 4648, section 10 */
static const char *const vectors[][2] = {
	{ "", "" }, { "f", "Zg==" }, { "fo", "Zm8=" }, { "foo", "Zm9v" },
	{ "foob", "Zm9vYg==" }, { "fooba", "Zm9vYmE=" }, { "foobar", "Zm9vYmFy" },
};

static void test_base64_vectors(void **state)
{
	struct lc_buf b = LC_BUF_INIT;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(vectors) / sizeof(vectors[0]); i++) {
		lc_buf_reset(&b);
		lc_base64_encode(&b, vectors[i][0], strlen(vectors[i][0]), 1);
		assert_string_equal(b.buf, vectors[i][1]);
		lc_buf_reset(&b);
		assert_int_equal(lc_base64_decode(&b, vectors[i][1], strlen(vectors[i][1])), 0);
		assert_string_equal(b.buf, vectors[i][0]);
	}
	/* unpadded, as in OpenSSH's SHA256 fingerprints, both ways */
	lc_buf_reset(&b);
	lc_base64_encode(&b, "fooba", 5, 0);
	assert_string_equal(b.buf, "Zm9vYmE");
	lc_buf_reset(&b);
	assert_int_equal(lc_base64_decode(&b, "Zm9vYmE", 7), 0);
	assert_string_equal(b.buf, "fooba");
	lc_buf_release(&b);
}

static void test_base64_binary_and_space(void **state)
{
	struct lc_buf enc = LC_BUF_INIT, dec = LC_BUF_INIT, spaced = LC_BUF_INIT;
	unsigned char all[256];
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(all); i++)
		all[i] = (unsigned char)i;
	lc_base64_encode(&enc, all, sizeof(all), 1);
	/* PEM-style: lines of 70 and a trailing newline */
	for (i = 0; i < enc.len; i++) {
		lc_buf_addc(&spaced, enc.buf[i]);
		if (i % 70 == 69)
			lc_buf_adds(&spaced, "\r\n");
	}
	lc_buf_adds(&spaced, " \n");
	lc_buf_adds(&dec, "kept:");
	assert_int_equal(lc_base64_decode(&dec, spaced.buf, spaced.len), 0);
	assert_int_equal(dec.len, 5 + sizeof(all));
	assert_memory_equal(dec.buf + 5, all, sizeof(all));
	lc_buf_release(&enc);
	lc_buf_release(&dec);
	lc_buf_release(&spaced);
}

static void test_base64_invalid(void **state)
{
	static const char *const bad[] = { "Zm9v!", "Z", "Zm=9v", "Zm9vY===", "Zm\0v" };
	static const size_t len[] = { 5, 1, 5, 8, 4 };
	struct lc_buf b = LC_BUF_INIT;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		lc_buf_reset(&b);
		lc_buf_adds(&b, "x");
		assert_int_equal(lc_base64_decode(&b, bad[i], len[i]), -1);
		assert_string_equal(b.buf, "x");  /* unchanged */
	}
	lc_buf_release(&b);
}

static void test_file_read(void **state)
{
	char *dir = tu_mkdtemp("lib"), *small, *sub;
	struct lc_buf b = LC_BUF_INIT;

	(void)state;
	small = tu_write(dir, "small.txt", "hello\n");
	assert_int_equal(lc_file_read(&b, small, 100), 0);
	assert_string_equal(b.buf, "hello\n");
	/* larger than max: nothing is kept */
	assert_int_equal(lc_file_read(&b, small, 5), -EFBIG);
	assert_int_equal(b.len, 0);
	assert_int_equal(lc_file_read(&b, "/nonexistent/x", 100), -ENOENT);
	sub = tu_write(dir, "sub/x", "");
	*strrchr(sub, '/') = '\0';
	assert_int_equal(lc_file_read(&b, sub, 100), -EISDIR);
	/* what vagrant ssh-config names as known_hosts, and /proc files */
	assert_int_equal(lc_file_read(&b, "/dev/null", 100), 0);
	assert_int_equal(b.len, 0);
	assert_int_equal(lc_file_read(&b, "/proc/self/stat", 4096), 0);
	assert_true(b.len > 10);
	free(small);
	free(sub);
	lc_buf_release(&b);
	tu_rmrf(dir);
}

static void test_rand_hex(void **state)
{
	char a[17], b[17];

	(void)state;
	assert_int_equal(lc_rand_hex(a, 8), 0);
	assert_int_equal(lc_rand_hex(b, 8), 0);
	assert_int_equal(strlen(a), 16);
	assert_int_equal(strspn(a, "0123456789abcdef"), 16);
	assert_string_not_equal(a, b);
}

static void test_clock(void **state)
{
	char iso[LC_CLOCK_ISO];
	int64_t ms = lc_clock_ms();
	double s = lc_clock_now();

	(void)state;
	lc_clock_sleep_ms(30);
	assert_true(lc_clock_ms() - ms >= 30);
	assert_true(lc_clock_now() - s >= 0.03);
	lc_clock_utc_iso(iso, 1700000000);
	assert_string_equal(iso, "2023-11-14T22:13:20Z");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_base64_vectors),
		cmocka_unit_test(test_base64_binary_and_space),
		cmocka_unit_test(test_base64_invalid),
		cmocka_unit_test(test_file_read),
		cmocka_unit_test(test_rand_hex),
		cmocka_unit_test(test_clock),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
