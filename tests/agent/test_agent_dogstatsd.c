/* test_agent_dogstatsd.c - the DogStatsD lines custom checks print. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "dogstatsd.h"

/* line must parse into one sample: name, value, type and tags (a
 * NULL-terminated list). */
static void good(const char *line, const char *name, double value,
		 enum lc_metric_type type, const char *const *tags)
{
	struct lc_metrics out = LC_METRICS_INIT;
	struct lc_error err = LC_ERROR_INIT;
	size_t i;

	if (lc_dogstatsd_parse_line(&out, line, strlen(line), &err))
		fail_msg("'%s' refused: %s", line, err.msg);
	assert_int_equal(out.nr, 1);
	assert_string_equal(out.v[0].name, name);
	assert_true(out.v[0].value == value);
	assert_int_equal(out.v[0].type, type);
	for (i = 0; tags && tags[i]; i++) {
		assert_true(i < out.v[0].tags.nr);
		assert_string_equal(out.v[0].tags.v[i], tags[i]);
	}
	assert_int_equal(out.v[0].tags.nr, i);
	lc_metrics_release(&out);
}

/* line must be refused with a message containing msg, adding nothing. */
static void bad(const char *line, const char *msg)
{
	struct lc_metrics out = LC_METRICS_INIT;
	struct lc_error err = LC_ERROR_INIT;

	assert_int_equal(lc_dogstatsd_parse_line(&out, line, strlen(line), &err), LC_EPARSE);
	assert_int_equal(out.nr, 0);
	if (!strstr(err.msg, msg))
		fail_msg("'%s': error '%s' lacks '%s'", line, err.msg, msg);
	lc_metrics_release(&out);
}

static void test_gauge(void **state)
{
	(void)state;
	good("my_metric:42|g", "my_metric", 42, LC_METRIC_GAUGE, NULL);
	good("my_metric:0|g", "my_metric", 0, LC_METRIC_GAUGE, NULL);
	good("a.b_c.d9:-1.5|g", "a.b_c.d9", -1.5, LC_METRIC_GAUGE, NULL);
	good("x:1e3|g", "x", 1000, LC_METRIC_GAUGE, NULL);
	good("x:7|g\r", "x", 7, LC_METRIC_GAUGE, NULL);
}

static void test_count_and_rate(void **state)
{
	(void)state;
	good("hits:3|c", "hits", 3, LC_METRIC_COUNT, NULL);
	/* A sampled count stands for more events: value / rate. */
	good("hits:3|c|@0.5", "hits", 6, LC_METRIC_COUNT, NULL);
	/* The rate does not change a gauge. */
	good("temp:3|g|@0.5", "temp", 3, LC_METRIC_GAUGE, NULL);
}

static void test_tags(void **state)
{
	static const char *const two[] = { "tag1:x", "tag2", NULL };
	static const char *const one[] = { "env:prod", NULL };

	(void)state;
	good("m:1|g|#tag1:x,tag2", "m", 1, LC_METRIC_GAUGE, two);
	good("m:1|c|@0.25|#tag1:x,tag2", "m", 4, LC_METRIC_COUNT, two);
	/* Sections in either order; empty tags between commas are skipped. */
	good("m:1|c|#tag1:x,,tag2|@0.25", "m", 4, LC_METRIC_COUNT, two);
	good("m:2|g|#env:prod", "m", 2, LC_METRIC_GAUGE, one);
	/* A tag may hold ':' and spaces. */
	{
		static const char *const odd[] = { "role:demo:api", "a b", NULL };

		good("m:2|g|#role:demo:api,a b", "m", 2, LC_METRIC_GAUGE, odd);
	}
}

static void test_malformed(void **state)
{
	(void)state;
	bad("", "expected 'metric:value|type'");
	bad("my_metric", "expected 'metric:value|type'");
	bad("my_metric:42", "expected 'metric:value|type'");
	bad("my_metric|g:42", "expected 'metric:value|type'");
	bad(":42|g", "empty metric name");
	bad("9lives:1|g", "must start with a letter");
	bad("my metric:1|g", "may only hold letters");
	bad("my-metric:1|g", "may only hold letters");
	bad("m:|g", "bad value ''");
	bad("m:abc|g", "bad value 'abc'");
	bad("m:1:2|g", "bad value '1:2'");
	bad("m: 1|g", "bad value ' 1'");
	bad("m:nan|g", "bad value");
	bad("m:inf|g", "bad value");
	bad("m:0x10|g", "bad value");
	bad("m:1e999|g", "bad value");
	bad("m:1|h", "metric type 'h' is not supported (expected g or c)");
	bad("m:1|ms", "metric type 'ms'");
	bad("m:1|s", "metric type 's'");
	bad("m:1|", "metric type ''");
	bad("m:1|gauge", "metric type 'gauge'");
	bad("m:1|c|@0", "bad sample rate");
	bad("m:1|c|@1.5", "bad sample rate");
	bad("m:1|c|@x", "bad sample rate");
	bad("m:1|g|x", "unexpected section '|x'");
	bad("m:1|g|#a|#b", "unexpected section '|#b'");
	bad("m:1|g|", "unexpected section '|'");
	bad("m:1|g|#a\tb", "control character");
	bad("_e{5,4}:title|text", "events are not supported");
	bad("_sc|my.check|4", "bad status '4'");
	bad("_sc|my.check|ok", "bad status 'ok'");
	bad("_sc|my.check", "expected '_sc|name|status'");
	bad("_sc||0", "expected '_sc|name|status'");
	bad("_sc|my check|0", "may only hold letters");
	bad("_sc|my.check|0|x:1", "unexpected section '|x:1'");
}

/* Service checks, as DogStatsD and lab_check_runner.py write them. */
static void test_service_checks(void **state)
{
	static const char line[] = "_sc|lab.db.can_connect|2|d:1700000000|h:db1|#db:lab,port:5432"
				   "|m:connection refused\\nretrying|later";
	struct lc_metrics out = LC_METRICS_INIT;
	struct lc_error err = LC_ERROR_INIT;

	(void)state;
	assert_int_equal(lc_dogstatsd_parse_line(&out, line, strlen(line), &err), 0);
	assert_int_equal(out.nr, 1);
	assert_int_equal(out.v[0].type, LC_METRIC_SERVICE_CHECK);
	assert_string_equal(out.v[0].name, "lab.db.can_connect");
	assert_true(out.v[0].value == 2);
	assert_int_equal(out.v[0].tags.nr, 2);
	assert_string_equal(out.v[0].tags.v[1], "port:5432");
	/* the message is the rest of the line, '|' included; \\n a new line */
	assert_string_equal(out.v[0].message, "connection refused\nretrying|later");
	assert_int_equal(lc_dogstatsd_parse_line(&out, "_sc|up|0", 8, &err), 0);
	assert_true(out.v[1].value == 0);
	assert_string_equal(out.v[1].message, "");
	lc_metrics_release(&out);
}

static void test_name_limit(void **state)
{
	struct lc_buf name = LC_BUF_INIT, line = LC_BUF_INIT;
	size_t i;

	(void)state;
	for (i = 0; i < LC_DSD_NAME_MAX; i++)
		lc_buf_addc(&name, 'a');
	lc_buf_addf(&line, "%s:1|g", name.buf);
	good(line.buf, name.buf, 1, LC_METRIC_GAUGE, NULL);
	lc_buf_reset(&line);
	lc_buf_addf(&line, "%sa:1|g", name.buf);
	bad(line.buf, "longer than 200 characters");
	lc_buf_release(&name);
	lc_buf_release(&line);
}

static void test_text(void **state)
{
	static const char text[] =
		"my_metric:5|g\n"
		"\n"
		"   \n"
		"bad line\n"
		"other:2|c|#k:v\r\n"
		"m:x|g\n"
		"last:1|g";
	struct lc_metrics out = LC_METRICS_INIT;
	struct lc_error err = LC_ERROR_INIT;

	(void)state;
	assert_int_equal(lc_dogstatsd_parse_text(&out, text, strlen(text), &err), 2);
	assert_int_equal(out.nr, 3);
	assert_string_equal(out.v[0].name, "my_metric");
	assert_string_equal(out.v[1].name, "other");
	assert_string_equal(out.v[1].tags.v[0], "k:v");
	assert_string_equal(out.v[2].name, "last");
	/* The first malformed line, by number. */
	if (!strstr(err.msg, "line 4: expected 'metric:value|type'"))
		fail_msg("unexpected error '%s'", err.msg);
	lc_metrics_release(&out);

	/* A NUL byte is refused, not cut short. */
	assert_int_equal(lc_dogstatsd_parse_text(&out, "a:1|g\0x\n", 8, &err), 1);
	assert_int_equal(out.nr, 0);
	lc_metrics_release(&out);
	/* No output at all is no metric and no error. */
	assert_int_equal(lc_dogstatsd_parse_text(&out, "", 0, &err), 0);
	assert_int_equal(out.nr, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_gauge),
		cmocka_unit_test(test_count_and_rate),
		cmocka_unit_test(test_tags),
		cmocka_unit_test(test_malformed),
		cmocka_unit_test(test_service_checks),
		cmocka_unit_test(test_name_limit),
		cmocka_unit_test(test_text),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
