/* test_agent_status.c - the status file: exact keys, JSON escaping,
 * atomic write. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "testutil.h"

#include "status.h"

static void fill(struct lc_status *st)
{
	struct lc_metrics l = LC_METRICS_INIT;
	struct lc_metric_base base = LC_METRIC_BASE_INIT;
	struct lc_status_check *c;
	struct lc_metric *m;

	st->pid = 42;
	st->running_since = 1700000000;      /* 2023-11-14T22:13:20Z */
	st->dir = lc_xstrdup("/etc/datadog-agent");
	st->hostname = lc_xstrdup("demo_api");
	lc_tags_adds(&st->tags, "project:lab");
	lc_tags_adds(&st->tags, "quote\"d");
	st->env = lc_xstrdup("dev");
	st->dd_url = lc_xstrdup("http://127.0.0.1:9999");
	st->submission = 1;

	lc_metric_base_init(&base, "demo_api", NULL, NULL);
	lc_metrics_add(&l, "system.load.1", 0.25, LC_METRIC_GAUGE);
	m = lc_metrics_add(&l, "postgresql.database_size", 100, LC_METRIC_GAUGE);
	lc_tags_adds(&m->tags, "db:a");
	m = lc_metrics_add(&l, "postgresql.database_size", 200, LC_METRIC_GAUGE);
	lc_tags_adds(&m->tags, "db:b");
	lc_metrics_add(&l, "system.load.1", 0.5, LC_METRIC_GAUGE);   /* last wins */
	lc_metrics_decorate(&l, 0, &base, NULL, 1700000015, 15);

	/* Added out of order: the file lists checks by name. */
	c = lc_status_check(st, "system");
	lc_status_check_record(c, 1700000015, l.v, l.nr, NULL);
	c = lc_status_check(st, "my_metric");
	lc_status_check_record(c, 1700000030, NULL, 0, "line 1: bad\nthing");
	lc_status_check_record(c, 1700000045, NULL, 0, "line 1: bad\nthing");
	lc_status_check_set_error(lc_status_check(st, "broken"), "conf.d/broken.yaml:3:1: oops");
	assert_ptr_equal(lc_status_check(st, "system"), &st->checks[2]);

	st->intake.sent = 12;
	st->intake.failed = 1;
	st->intake.dropped = 0;
	st->intake.buffered = 3;
	st->intake.last_success = 1700000020;
	st->intake.last_error = lc_xstrdup("POST http://127.0.0.1:9999/api/v1/series: HTTP 503");
	lc_metrics_release(&l);
	lc_metric_base_release(&base);
}

static const char want[] =
	"{\n"
	"  \"version\": \"" LABCTL_VERSION "\",\n"
	"  \"pid\": 42,\n"
	"  \"running_since\": \"2023-11-14T22:13:20Z\",\n"
	"  \"config\": {\n"
	"    \"dir\": \"/etc/datadog-agent\",\n"
	"    \"hostname\": \"demo_api\",\n"
	"    \"tags\": [\n"
	"      \"project:lab\",\n"
	"      \"quote\\\"d\"\n"
	"    ],\n"
	"    \"env\": \"dev\",\n"
	"    \"dd_url\": \"http://127.0.0.1:9999\",\n"
	"    \"submission\": \"enabled\",\n"
	"    \"errors\": []\n"
	"  },\n"
	"  \"checks\": {\n"
	"    \"broken\": {\n"
	"      \"last_run\": null,\n"
	"      \"last_value\": {},\n"
	"      \"error\": \"conf.d/broken.yaml:3:1: oops\",\n"
	"      \"runs\": 0\n"
	"    },\n"
	"    \"my_metric\": {\n"
	"      \"last_run\": \"2023-11-14T22:14:05Z\",\n"
	"      \"last_value\": {},\n"
	"      \"error\": \"line 1: bad\\nthing\",\n"
	"      \"runs\": 2\n"
	"    },\n"
	"    \"system\": {\n"
	"      \"last_run\": \"2023-11-14T22:13:35Z\",\n"
	"      \"last_value\": {\n"
	"        \"system.load.1\": 0.5,\n"
	"        \"postgresql.database_size{db:a}\": 100,\n"
	"        \"postgresql.database_size{db:b}\": 200\n"
	"      },\n"
	"      \"error\": null,\n"
	"      \"runs\": 1\n"
	"    }\n"
	"  },\n"
	"  \"intake\": {\n"
	"    \"sent\": 12,\n"
	"    \"failed\": 1,\n"
	"    \"dropped\": 0,\n"
	"    \"buffered\": 3,\n"
	"    \"last_success\": \"2023-11-14T22:13:40Z\",\n"
	"    \"last_error\": \"POST http://127.0.0.1:9999/api/v1/series: HTTP 503\"\n"
	"  }\n"
	"}\n";

static void test_render(void **state)
{
	struct lc_status st = LC_STATUS_INIT;
	struct lc_buf out = LC_BUF_INIT;

	(void)state;
	fill(&st);
	lc_status_render(&out, &st);
	assert_string_equal(out.buf, want);
	lc_buf_release(&out);
	lc_status_release(&st);
}

static void test_empty(void **state)
{
	struct lc_status st = LC_STATUS_INIT;
	struct lc_buf out = LC_BUF_INIT;

	(void)state;
	lc_status_render(&out, &st);
	tu_assert_contains(out.buf, "\"submission\": \"disabled (no api_key)\"");
	tu_assert_contains(out.buf, "\"hostname\": null");
	tu_assert_contains(out.buf, "\"checks\": {},\n");
	tu_assert_contains(out.buf, "\"last_success\": null,\n    \"last_error\": null\n  }");
	lc_buf_release(&out);
}

static void test_keep_only(void **state)
{
	struct lc_status st = LC_STATUS_INIT;
	struct lc_tags keep = LC_TAGS_INIT;

	(void)state;
	fill(&st);
	lc_tags_adds(&keep, "system");
	lc_status_keep_only(&st, &keep);
	assert_int_equal(st.n_checks, 1);
	assert_string_equal(st.checks[0].name, "system");
	assert_int_equal(st.checks[0].runs, 1);
	lc_tags_release(&keep);
	lc_status_release(&st);
}

static void test_write(void **state)
{
	struct lc_status st = LC_STATUS_INIT;
	struct lc_error err = LC_ERROR_INIT;
	char *dir = tu_mkdtemp("agent-status");
	char *path = lc_xasprintf("%s/var/lib/lab-agent/status.json", dir);
	char *tmp = lc_xasprintf("%s.tmp.%ld", path, (long)getpid());
	char *text;

	(void)state;
	fill(&st);
	/* Creates the directories; leaves no temp file behind. */
	assert_int_equal(lc_status_write(path, &st, &err), 0);
	text = tu_read(path, NULL);
	assert_string_equal(text, want);
	free(text);
	assert_false(tu_exists(tmp));
	assert_int_equal(tu_mode(path), 0644);

	/* Rewritten in place. */
	st.pid = 43;
	assert_int_equal(lc_status_write(path, &st, &err), 0);
	text = tu_read(path, NULL);
	tu_assert_contains(text, "\"pid\": 43,");
	free(text);

	/* A directory in the way: an error naming the path. */
	free(path);
	path = lc_xasprintf("%s/var/lib/lab-agent/status.json/x", dir);
	assert_int_equal(lc_status_write(path, &st, &err), LC_EIO);
	tu_assert_contains(err.msg, "status.json");

	free(path);
	free(tmp);
	lc_status_release(&st);
	tu_rmrf(dir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_render),
		cmocka_unit_test(test_empty),
		cmocka_unit_test(test_keep_only),
		cmocka_unit_test(test_write),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
