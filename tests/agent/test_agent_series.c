/* test_agent_series.c - tags, host and the series JSON sent to the intake. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "json.h"
#include "metric.h"

static void tags_are(const struct lc_tags *t, const char *const *want)
{
	size_t i;

	for (i = 0; want[i]; i++) {
		if (i >= t->nr)
			fail_msg("only %zu tags, expected '%s' next", t->nr, want[i]);
		assert_string_equal(t->v[i], want[i]);
	}
	assert_int_equal(t->nr, i);
}

static void number_is(double v, const char *want)
{
	struct lc_buf b = LC_BUF_INIT;
	struct lc_node *n = lc_json_number(v);

	lc_json_write(&b, n, -1);
	lc_node_free(n);
	assert_string_equal(b.buf, want);
	lc_buf_release(&b);
}

static void test_numbers(void **state)
{
	(void)state;
	number_is(0, "0");
	number_is(42, "42");
	number_is(-1.5, "-1.5");
	number_is(0.1, "0.1");
	number_is(1.0 / 3, "0.3333333333333333");
	number_is(24105.1328125, "24105.1328125");
	number_is(1e21, "1e21");
	number_is(NAN, "null");
	number_is(INFINITY, "null");
}

static void test_base_tags(void **state)
{
	static const char *const with_env[] = { "project:lab", "role:api", "env:dev", NULL };
	static const char *const env_there[] = { "env:development:local", "project:lab", NULL };
	static const char *const no_env[] = { "project:lab", NULL };
	struct lc_metric_base b = LC_METRIC_BASE_INIT;
	struct lc_tags t = LC_TAGS_INIT;

	(void)state;
	lc_tags_adds(&t, "project:lab");
	lc_tags_adds(&t, "role:api");
	lc_metric_base_init(&b, "h1", &t, "dev");
	tags_are(&b.tags, with_env);
	assert_string_equal(b.host, "h1");
	lc_metric_base_release(&b);
	lc_tags_release(&t);

	/* env:<env> already among the tags (as labctl writes them): once. */
	lc_tags_adds(&t, "env:development:local");
	lc_tags_adds(&t, "project:lab");
	lc_tags_adds(&t, "env:development:local");
	lc_metric_base_init(&b, "h1", &t, "development:local");
	tags_are(&b.tags, env_there);
	lc_metric_base_release(&b);
	lc_tags_release(&t);

	/* No env: no env tag. */
	lc_tags_adds(&t, "project:lab");
	lc_metric_base_init(&b, "h1", &t, "");
	tags_are(&b.tags, no_env);
	lc_metric_base_release(&b);
	lc_tags_release(&t);
}

static void test_decorate(void **state)
{
	static const char *const all[] = { "project:lab", "env:dev", "inst:1", "db:x", NULL };
	static const char *const plain[] = { "project:lab", "env:dev", "inst:1", NULL };
	struct lc_metric_base b = LC_METRIC_BASE_INIT;
	struct lc_metrics l = LC_METRICS_INIT;
	struct lc_tags conf = LC_TAGS_INIT, inst = LC_TAGS_INIT;
	struct lc_metric *m;

	(void)state;
	lc_tags_adds(&conf, "project:lab");
	lc_metric_base_init(&b, "host-a", &conf, "dev");
	lc_tags_adds(&inst, "inst:1");
	lc_tags_adds(&inst, "env:dev");          /* duplicate of a base tag */

	m = lc_metrics_add(&l, "already.there", 1, LC_METRIC_GAUGE);
	m = lc_metrics_add(&l, "size", 5, LC_METRIC_GAUGE);
	lc_tags_adds(&m->tags, "db:x");
	lc_tags_adds(&m->tags, "project:lab");   /* duplicate again */
	m = lc_metrics_add(&l, "hits", 2, LC_METRIC_COUNT);

	/* Only from index 1 on. */
	lc_metrics_decorate(&l, 1, &b, &inst, 1700000000, 15);
	assert_null(l.v[0].host);
	assert_int_equal(l.v[0].ts, 0);

	assert_string_equal(l.v[1].host, "host-a");
	assert_int_equal(l.v[1].ts, 1700000000);
	tags_are(&l.v[1].tags, all);
	assert_string_equal(l.v[1].own, "db:x,project:lab");
	assert_int_equal(l.v[1].interval, 0);      /* gauges carry none */

	tags_are(&l.v[2].tags, plain);
	assert_null(l.v[2].own);
	assert_int_equal(l.v[2].interval, 15);     /* counts do */

	lc_metrics_release(&l);
	lc_metric_base_release(&b);
	lc_tags_release(&conf);
	lc_tags_release(&inst);
}

static void test_series_json(void **state)
{
	struct lc_metric_base b = LC_METRIC_BASE_INIT;
	struct lc_metrics l = LC_METRICS_INIT;
	struct lc_tags conf = LC_TAGS_INIT;
	struct lc_buf json = LC_BUF_INIT;
	struct lc_metric *m;

	(void)state;
	lc_tags_adds(&conf, "a:b");
	lc_metric_base_init(&b, "h", &conf, "prod");
	lc_metrics_add(&l, "m", 0.5, LC_METRIC_GAUGE);
	m = lc_metrics_add(&l, "c", 3, LC_METRIC_COUNT);
	lc_tags_adds(&m->tags, "q\"uo\\te\n\x01\xc3\xa9");
	lc_metrics_decorate(&l, 0, &b, NULL, 1700000000, 10);

	lc_series_json(&json, l.v, l.nr);
	assert_string_equal(json.buf,
		"{\"series\":["
		"{\"metric\":\"m\",\"points\":[[1700000000,0.5]],\"type\":\"gauge\","
		"\"host\":\"h\",\"tags\":[\"a:b\",\"env:prod\"]},"
		"{\"metric\":\"c\",\"points\":[[1700000000,3]],\"type\":\"count\","
		"\"interval\":10,\"host\":\"h\","
		"\"tags\":[\"a:b\",\"env:prod\",\"q\\\"uo\\\\te\\n\\u0001\xc3\xa9\"]}"
		"]}");

	lc_buf_reset(&json);
	lc_series_json(&json, NULL, 0);
	assert_string_equal(json.buf, "{\"series\":[]}");

	/* a service check goes to check_run, not to series */
	m = lc_metrics_add(&l, "db.up", 2, LC_METRIC_SERVICE_CHECK);
	m->message = lc_xstrdup("refused");
	lc_tags_adds(&m->tags, "db:lab");
	lc_metrics_decorate(&l, 2, &b, NULL, 1700000001, 10);
	lc_buf_reset(&json);
	lc_series_json(&json, l.v + 2, 1);
	assert_string_equal(json.buf, "{\"series\":[]}");
	lc_buf_reset(&json);
	lc_check_runs_json(&json, l.v, l.nr);
	assert_string_equal(json.buf,
		"[{\"check\":\"db.up\",\"host_name\":\"h\",\"timestamp\":1700000001,"
		"\"status\":2,\"message\":\"refused\",\"tags\":[\"a:b\",\"env:prod\",\"db:lab\"]}]");

	lc_buf_release(&json);
	lc_metrics_release(&l);
	lc_metric_base_release(&b);
	lc_tags_release(&conf);
}

static void test_take_and_drop(void **state)
{
	struct lc_metrics a = LC_METRICS_INIT, b = LC_METRICS_INIT;
	int i;

	(void)state;
	for (i = 0; i < 5; i++)
		lc_metrics_add(&a, "a", i, LC_METRIC_GAUGE);
	for (i = 0; i < 3; i++)
		lc_metrics_add(&b, "b", i, LC_METRIC_GAUGE);
	lc_metrics_take(&a, &b);
	assert_int_equal(a.nr, 8);
	assert_int_equal(b.nr, 0);
	lc_metrics_drop_front(&a, 6);
	assert_int_equal(a.nr, 2);
	assert_string_equal(a.v[0].name, "b");
	assert_true(a.v[0].value == 1);
	lc_metrics_drop_front(&a, 99);
	assert_int_equal(a.nr, 0);
	lc_metrics_release(&a);
	lc_metrics_release(&b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_numbers),
		cmocka_unit_test(test_base_tags),
		cmocka_unit_test(test_decorate),
		cmocka_unit_test(test_series_json),
		cmocka_unit_test(test_take_and_drop),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
