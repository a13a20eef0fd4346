/* test_dd_api.c - the API client's refusals: base URLs, missing or bad
 * keys, and masking of the keys in messages.  (Requests themselves are
 * tested end to end against a local stand-in: tests/integration/t11_dash.sh.) */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "dd_api.h"
#include "testutil.h"

static void expect_url(const char *url, int ok, const char *needle)
{
	struct lc_error err = LC_ERROR_INIT;
	int rc = lc_dd_api_check_url(url, &err);

	if (ok) {
		if (rc)
			fail_msg("%s: %s", url, err.msg);
		return;
	}
	assert_int_equal(rc, LC_EUSAGE);
	tu_assert_contains(err.msg, needle);
}

static void test_urls(void **state)
{
	(void)state;
	expect_url("https://api.datadoghq.com", 1, NULL);
	expect_url("https://api.datadoghq.eu/", 1, NULL);
	expect_url("http://127.0.0.1:8126", 1, NULL);
	expect_url("http://127.3.4.5/base", 1, NULL);
	expect_url("http://localhost:9", 1, NULL);
	expect_url("http://[::1]:80", 1, NULL);
	expect_url("ftp://api.datadoghq.com", 0, "is not http:// or https://");
	expect_url("file:///etc/passwd", 0, "is not http:// or https://");
	expect_url("api.datadoghq.com", 0, "is not http:// or https://");
	expect_url("http://api.datadoghq.com", 0, "the keys would travel in clear");
	expect_url("http://127.0.0.1.example.com", 0, "the keys would travel in clear");
	expect_url("https://user:pw@api.datadoghq.com", 0, "must not hold credentials");
	expect_url("https://", 0, "has no host");
	expect_url("https://api.datadoghq.com?x=1", 0, "must not have a query");
	expect_url("https://api.datadoghq.com/\nx", 0, "control character");
}

static void test_keys(void **state)
{
	struct lc_dd_api api;
	struct lc_error err = LC_ERROR_INIT;
	char *m;

	(void)state;
	unsetenv("DD_API_KEY");
	unsetenv("DD_APPLICATION_KEY");
	unsetenv("DD_APP_KEY");
	assert_int_equal(lc_dd_api_init(&api, "https://api.datadoghq.com", &err), LC_EUSAGE);
	tu_assert_contains(err.msg, "DD_API_KEY is not set");
	setenv("DD_API_KEY", "apikey-0123456789", 1);
	assert_int_equal(lc_dd_api_init(&api, "https://api.datadoghq.com", &err), LC_EUSAGE);
	tu_assert_contains(err.msg, "DD_APPLICATION_KEY is not set");
	setenv("DD_APP_KEY", "bad key\r\nX-Evil: 1", 1);
	assert_int_equal(lc_dd_api_init(&api, "https://api.datadoghq.com", &err), LC_EUSAGE);
	tu_assert_contains(err.msg, "DD_APP_KEY holds a character that cannot go");
	assert_null(strstr(err.msg, "Evil"));
	setenv("DD_APPLICATION_KEY", "appkey-9876543210", 1);
	assert_int_equal(lc_dd_api_init(&api, "ftp://x", &err), LC_EUSAGE);
	if (lc_dd_api_init(&api, "https://api.datadoghq.com///", &err))
		fail_msg("%s", err.msg);
	assert_string_equal(api.base, "https://api.datadoghq.com");
	m = lc_dd_api_mask(&api, "a apikey-0123456789 b appkey-9876543210appkey-9876543210");
	assert_string_equal(m, "a ******** b ****************");
	free(m);
	lc_dd_api_release(&api);
	unsetenv("DD_API_KEY");
	unsetenv("DD_APPLICATION_KEY");
	unsetenv("DD_APP_KEY");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_urls),
		cmocka_unit_test(test_keys),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
