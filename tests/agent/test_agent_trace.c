/* test_agent_trace.c - tracer payloads (v0.4 msgpack built with
 * libmsgpack-c's packer, v0.3 JSON), what is refused, and the APM metrics
 * and status derived from them. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <msgpack.h>

#include "testutil.h"

#include "apm.h"
#include "json.h"
#include "trace.h"

struct sp {
	uint64_t trace, span, parent;
	const char *name, *service, *resource;
	int64_t duration;
	int error;
	const char *status;   /* meta http.status_code, or NULL */
};

static void pack_str(msgpack_packer *pk, const char *s)
{
	msgpack_pack_str(pk, strlen(s));
	msgpack_pack_str_body(pk, s, strlen(s));
}

/* One trace per call to add: the spans sp[0..n). */
static void pack_trace(msgpack_packer *pk, const struct sp *sp, size_t n)
{
	size_t i;

	msgpack_pack_array(pk, n);
	for (i = 0; i < n; i++) {
		msgpack_pack_map(pk, sp[i].status ? 11 : 10);
		pack_str(pk, "trace_id"); msgpack_pack_uint64(pk, sp[i].trace);
		pack_str(pk, "span_id"); msgpack_pack_uint64(pk, sp[i].span);
		pack_str(pk, "parent_id"); msgpack_pack_uint64(pk, sp[i].parent);
		pack_str(pk, "name"); pack_str(pk, sp[i].name);
		pack_str(pk, "service"); pack_str(pk, sp[i].service);
		pack_str(pk, "resource"); pack_str(pk, sp[i].resource);
		pack_str(pk, "start"); msgpack_pack_int64(pk, 1700000000000000000LL);
		pack_str(pk, "duration"); msgpack_pack_int64(pk, sp[i].duration);
		pack_str(pk, "error"); msgpack_pack_int32(pk, sp[i].error);
		pack_str(pk, "type"); pack_str(pk, "web");
		if (sp[i].status) {
			pack_str(pk, "meta");
			msgpack_pack_map(pk, 2);
			pack_str(pk, "http.status_code"); pack_str(pk, sp[i].status);
			pack_str(pk, "version"); pack_str(pk, "1.2");
		}
	}
}

/* The demo API's traffic: a 200 with a query under it, a 404, a 500, and
 * a second 200. */
static void demo_payload(msgpack_sbuffer *sb)
{
	static const struct sp ok[] = {
		{ 1, 10, 0, "flask.request", "demo-api", "GET /api/apm", 20000000, 0, "200" },
		{ 1, 11, 10, "flask.render", "demo-api", "render", 5000000, 0, NULL },
		{ 1, 12, 10, "postgres.query", "postgres", "SELECT 1", 2000000, 0, NULL },
	};
	static const struct sp nope[] = {
		{ 2, 20, 0, "flask.request", "demo-api", "GET /api/nope", 1000000, 0, "404" },
	};
	static const struct sp boom[] = {
		{ 3, 30, 0, "flask.request", "demo-api", "GET /api/boom", 3000000, 1, "500" },
	};
	static const struct sp ok2[] = {
		{ 4, 40, 0, "flask.request", "demo-api", "GET /api/apm", 40000000, 0, "200" },
	};
	msgpack_packer pk;

	msgpack_sbuffer_init(sb);
	msgpack_packer_init(&pk, sb, msgpack_sbuffer_write);
	msgpack_pack_array(&pk, 4);
	pack_trace(&pk, ok, 3);
	pack_trace(&pk, nope, 1);
	pack_trace(&pk, boom, 1);
	pack_trace(&pk, ok2, 1);
}

static void test_decode_msgpack(void **state)
{
	struct lc_traces t = LC_TRACES_INIT;
	struct lc_error err = LC_ERROR_INIT;
	msgpack_sbuffer sb;

	(void)state;
	demo_payload(&sb);
	if (lc_traces_decode_msgpack(&t, sb.data, sb.size, 1000, &err))
		fail_msg("%s", err.msg);
	assert_int_equal(t.n, 4);
	assert_int_equal(t.n_spans, 6);
	assert_int_equal(t.v[0].n, 3);
	assert_string_equal(t.v[0].spans[0].resource, "GET /api/apm");
	assert_int_equal(t.v[0].spans[0].http_status, 200);
	assert_string_equal(t.v[0].spans[0].version, "1.2");
	assert_true(t.v[0].spans[0].duration == 20000000);
	/* the root and the query (another service) enter a service; the
	 * render span does not */
	assert_true(t.v[0].spans[0].top_level);
	assert_false(t.v[0].spans[1].top_level);
	assert_true(t.v[0].spans[2].top_level);
	assert_true(t.v[2].spans[0].error);
	lc_traces_release(&t);
	msgpack_sbuffer_destroy(&sb);
}

static void test_decode_json(void **state)
{
	static const char json[] =
		"[[{\"trace_id\":7,\"span_id\":1,\"parent_id\":0,\"name\":\"flask.request\","
		"\"service\":\"collector\",\"resource\":\"GET /tweets/last/5\",\"start\":1,"
		"\"duration\":2500000,\"error\":0,\"meta\":{\"env\":\"lab\",\"http.status_code\":\"200\"},"
		"\"metrics\":{\"_sampling_priority_v1\":1}}]]";
	struct lc_traces t = LC_TRACES_INIT;
	struct lc_error err = LC_ERROR_INIT;

	(void)state;
	if (lc_traces_decode_json(&t, json, strlen(json), 1000, &err))
		fail_msg("%s", err.msg);
	assert_int_equal(t.n_spans, 1);
	assert_string_equal(t.v[0].spans[0].env, "lab");
	assert_string_equal(t.v[0].spans[0].service, "collector");
	lc_traces_release(&t);
}

static void refused(const char *buf, size_t len, int json, int code, const char *msg)
{
	struct lc_traces t = LC_TRACES_INIT;
	struct lc_error err = LC_ERROR_INIT;
	int rc = json ? lc_traces_decode_json(&t, buf, len, 100000, &err)
		      : lc_traces_decode_msgpack(&t, buf, len, 100000, &err);

	assert_int_equal(rc, code);
	tu_assert_contains(err.msg, msg);
	assert_int_equal(t.n, 0);
}

static void test_refused(void **state)
{
	msgpack_sbuffer sb;
	msgpack_packer pk;
	/* an array header claiming 2^32-1 items, and nothing after it */
	static const char huge[] = { (char)0xdd, (char)0xff, (char)0xff, (char)0xff, (char)0xff };
	static const char notmp[] = { (char)0xc1 };
	struct lc_traces t = LC_TRACES_INIT;
	struct lc_error err = LC_ERROR_INIT;
	size_t i;

	(void)state;
	demo_payload(&sb);
	refused(sb.data, sb.size - 5, 0, LC_EPARSE, "cut off");
	refused(sb.data, 1, 0, LC_EPARSE, "claims 4 items; the payload has 0 bytes left");
	refused(huge, sizeof(huge), 0, LC_EPARSE, "claims 4294967295 items");
	refused(notmp, sizeof(notmp), 0, LC_EPARSE, "is not msgpack");
	refused("", 0, 0, LC_EPARSE, "cut off");
	msgpack_sbuffer_destroy(&sb);

	/* wrong types */
	refused("{}", 2, 1, LC_EPARSE, "an array of traces");
	refused("[{}]", 4, 1, LC_EPARSE, "trace 1 must be an array of spans");
	refused("[[{\"name\":5,\"service\":\"s\"}]]", 28, 1, LC_EPARSE, "name must be a string");
	refused("[[{\"name\":\"n\",\"duration\":\"slow\"}]]", 34, 1, LC_EPARSE,
		"duration must be an integer");
	refused("[[{\"name\":\"n\",\"meta\":{\"a\":1}}]]", 31, 1, LC_EPARSE,
		"meta maps strings to strings");
	refused("[[{\"service\":\"s\"}]]", 19, 1, LC_EPARSE, "a span has no name");
	refused("[[{\"name\":\"n\",\"span_id\":-1}]]", 29, 1, LC_EPARSE, "unsigned integer");
	refused("[[", 2, 1, LC_EPARSE, "payload:");

	/* 100,000 spans: too many (LC_EUSAGE: the receiver answers 413) */
	msgpack_sbuffer_init(&sb);
	msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
	msgpack_pack_array(&pk, 1);
	msgpack_pack_array(&pk, 100000);
	for (i = 0; i < 100000; i++) {
		msgpack_pack_map(&pk, 1);
		pack_str(&pk, "name");
		pack_str(&pk, "x");
	}
	assert_int_equal(lc_traces_decode_msgpack(&t, sb.data, sb.size, 50000, &err), LC_EUSAGE);
	tu_assert_contains(err.msg, "more than 50000 spans");
	msgpack_sbuffer_destroy(&sb);
}

static const struct lc_metric *find(const struct lc_metrics *m, const char *name,
				    const char *tag)
{
	size_t i, j;

	for (i = 0; i < m->nr; i++) {
		if (strcmp(m->v[i].name, name))
			continue;
		for (j = 0; j < m->v[i].tags.nr; j++)
			if (!strcmp(m->v[i].tags.v[j], tag))
				return &m->v[i];
	}
	return NULL;
}

static void test_apm_metrics_and_status(void **state)
{
	struct lc_apm *a = lc_apm_new();
	struct lc_traces t = LC_TRACES_INIT;
	struct lc_metrics m = LC_METRICS_INIT;
	struct lc_error err = LC_ERROR_INIT;
	const struct lc_metric *x;
	struct lc_node *st;
	struct lc_buf json = LC_BUF_INIT;
	msgpack_sbuffer sb;

	(void)state;
	demo_payload(&sb);
	assert_int_equal(lc_traces_decode_msgpack(&t, sb.data, sb.size, 1000, &err), 0);
	lc_apm_add(a, &t, "development:local", 1000.0);
	assert_int_equal(t.n, 0);  /* taken */
	lc_apm_refused(a, "too_large", "payload over 8388608 bytes");

	lc_apm_take(a, &m);
	/* GET /api/apm: two hits, no error, 60 ms in all */
	x = find(&m, "trace.flask.request.hits", "resource_name:GET /api/apm");
	assert_non_null(x);
	assert_int_equal(x->type, LC_METRIC_COUNT);
	assert_true(x->value == 2);
	tu_assert_contains(x->tags.v[0], "env:development:local");
	assert_string_equal(x->tags.v[1], "service:demo-api");
	assert_string_equal(x->tags.v[3], "version:1.2");
	assert_string_equal(x->tags.v[4], "http.status_code:200");
	x = find(&m, "trace.flask.request.duration", "resource_name:GET /api/apm");
	assert_non_null(x);
	assert_true(x->value > 0.0599 && x->value < 0.0601);
	/* a 404 is a hit with its status code, not an error */
	x = find(&m, "trace.flask.request.hits", "http.status_code:404");
	assert_non_null(x);
	assert_true(x->value == 1);
	x = find(&m, "trace.flask.request.errors", "http.status_code:404");
	assert_non_null(x);
	assert_true(x->value == 0);
	/* a 500 with error set is an error */
	x = find(&m, "trace.flask.request.errors", "resource_name:GET /api/boom");
	assert_non_null(x);
	assert_true(x->value == 1);
	/* the query entered the postgres service: its own hits; the render
	 * span entered nothing */
	assert_non_null(find(&m, "trace.postgres.query.hits", "service:postgres"));
	assert_null(find(&m, "trace.flask.render.hits", "service:demo-api"));
	lc_metrics_release(&m);
	/* taken: nothing more until new traces */
	assert_int_equal(lc_apm_take(a, &m), 0);

	st = lc_apm_status(a, 1010.0);
	lc_json_write(&json, st, -1);
	tu_assert_contains(json.buf, "\"too_large\":1");
	tu_assert_contains(json.buf, "\"demo-api GET /api/apm\":{\"hits\":2,");
	/* p50 and p95 of 20 and 40 ms */
	tu_assert_contains(json.buf, "\"p50_ms\":20.0,\"p95_ms\":40.0");
	tu_assert_contains(json.buf, "\"demo-api\":{\"hits\":4,\"requests_per_s\":0.0666");
	tu_assert_contains(json.buf, "\"error_rate\":0.25");
	tu_assert_contains(json.buf, "\"last_traces\":[{\"trace_id\":\"4\"");
	lc_node_free(st);
	/* a minute later the window is empty, the totals stay */
	lc_buf_reset(&json);
	st = lc_apm_status(a, 1100.0);
	lc_json_write(&json, st, -1);
	tu_assert_contains(json.buf, "\"services\":{}");
	tu_assert_contains(json.buf, "\"spans\":6");
	lc_node_free(st);
	lc_buf_release(&json);
	msgpack_sbuffer_destroy(&sb);
	lc_apm_free(a);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_decode_msgpack),
		cmocka_unit_test(test_decode_json),
		cmocka_unit_test(test_refused),
		cmocka_unit_test(test_apm_metrics_and_status),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
