/* test_agent_custom.c - custom checks run from checks.d: output, exit
 * status, malformed lines, time out, and the tags their metrics get; Python
 * checks (checks.d/NAME.py, an AgentCheck) through lab_check_runner.py
 * ($LAB_AGENT_PYTHON_DIR: the source tree's agents/python). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/stat.h>

#include <cmocka.h>

#include "testutil.h"

#include "check.h"
#include "config.h"

struct run {
	char *dir;
	struct lc_check_confs confs;
	struct lc_checks checks;
	struct lc_metrics got;
	struct lc_buf errors;
	size_t ran;
};

/* A config dir with checks.d/<name><suffix> = script (mode) and
 * conf.d/<name>.yaml = conf; build the checks and run <name> once. */
static void run_check(struct run *r, const char *name, const char *suffix, int mode,
		      const char *script, const char *conf)
{
	struct lc_metric_base base = LC_METRIC_BASE_INIT;
	struct lc_tags tags = LC_TAGS_INIT;
	char *rel, *exe;
	size_t i;

	memset(r, 0, sizeof(*r));
	lc_buf_init(&r->errors);
	r->dir = tu_mkdtemp("agent-custom");
	rel = lc_xasprintf("checks.d/%s%s", name, suffix);
	exe = tu_write(r->dir, rel, script);
	assert_int_equal(chmod(exe, (mode_t)mode), 0);
	free(rel);
	free(exe);
	rel = lc_xasprintf("conf.d/%s.yaml", name);
	tu_put(r->dir, rel, conf);
	free(rel);

	lc_check_confs_load(&r->confs, r->dir);
	lc_checks_build(&r->checks, &r->confs, 0);
	lc_tags_adds(&tags, "project:lab");
	lc_metric_base_init(&base, "host-1", &tags, "test");
	for (i = 0; i < r->checks.nr; i++)
		if (!strcmp(r->checks.v[i].conf->name, name)) {
			if (r->checks.v[i].error)
				fail_msg("check %s: %s", name, r->checks.v[i].error);
			r->ran = lc_check_run_due(&r->checks.v[i], lc_clock_now(), &base,
						  &r->got, &r->errors, NULL);
		}
	lc_metric_base_release(&base);
	lc_tags_release(&tags);
}

/* checks.d/<name>, an executable printing DogStatsD lines */
static void run_custom(struct run *r, const char *name, const char *script,
		       const char *conf)
{
	run_check(r, name, "", 0755, script, conf);
}

/* Run the check name again, as if its interval had passed. */
static void run_again(struct run *r, const char *name)
{
	struct lc_metric_base base = LC_METRIC_BASE_INIT;
	struct lc_tags tags = LC_TAGS_INIT;
	size_t i;

	lc_metrics_release(&r->got);
	lc_buf_reset(&r->errors);
	lc_metric_base_init(&base, "host-1", &tags, "test");
	for (i = 0; i < r->checks.nr; i++)
		if (!strcmp(r->checks.v[i].conf->name, name))
			r->ran = lc_check_run_due(&r->checks.v[i], lc_clock_now() + 100000, &base,
						  &r->got, &r->errors, NULL);
	lc_metric_base_release(&base);
	lc_tags_release(&tags);
}

/* checks.d/<name>.py = module (mode 0644: imported, not run) */
static void run_python(struct run *r, const char *name, const char *module,
		       const char *conf)
{
	run_check(r, name, ".py", 0644, module, conf);
}

static const struct lc_metric *metric(const struct run *r, const char *name)
{
	size_t i;

	for (i = 0; i < r->got.nr; i++)
		if (!strcmp(r->got.v[i].name, name))
			return &r->got.v[i];
	return NULL;
}

static int has_tag(const struct lc_metric *m, const char *tag)
{
	size_t i;

	for (i = 0; i < m->tags.nr; i++)
		if (!strcmp(m->tags.v[i], tag))
			return 1;
	return 0;
}

static void run_release(struct run *r)
{
	lc_metrics_release(&r->got);
	lc_buf_release(&r->errors);
	lc_checks_release(&r->checks);
	lc_check_confs_release(&r->confs);
	tu_rmrf(r->dir);
}

/* The check of Datadog's docs ("Writing a custom Agent check"), as written
 * there: the instance's tags by hand, init_config read. */
static void test_python_docs_check(void **state)
{
	static const char module[] =
		"try:\n"
		"    from datadog_checks.base import AgentCheck\n"
		"except ImportError:\n"
		"    from checks import AgentCheck\n"
		"\n"
		"__version__ = \"1.0.0\"\n"
		"\n"
		"class HelloCheck(AgentCheck):\n"
		"    def check(self, instance):\n"
		"        self.gauge('hello.world', self.init_config.get('value', 1),\n"
		"                   tags=['TAG_KEY:TAG_VALUE'] + self.instance.get('tags', []))\n";
	const struct lc_metric *m;
	struct run r;

	(void)state;
	run_python(&r, "hello", module,
		   "init_config:\n  value: 7\ninstances:\n  - tags: [inst:a]\n");
	assert_int_equal(r.ran, 1);
	if (r.errors.len)
		fail_msg("errors: %s", r.errors.buf);
	assert_int_equal(r.got.nr, 1);
	m = metric(&r, "hello.world");
	assert_non_null(m);
	assert_true(m->value == 7);
	assert_int_equal(m->type, LC_METRIC_GAUGE);
	assert_true(has_tag(m, "TAG_KEY:TAG_VALUE"));
	assert_true(has_tag(m, "inst:a"));
	assert_true(has_tag(m, "project:lab"));
	run_release(&r);
}

/* rate and monotonic_count need the previous run's sample: nothing on the
 * first run, the per-second rate and the increase on the next. */
static void test_python_rates(void **state)
{
	static const char module[] =
		"import os\n"
		"from datadog_checks.base import AgentCheck\n"
		"\n"
		"class Counter(AgentCheck):\n"
		"    def check(self, instance):\n"
		"        path = instance['counter_file']\n"
		"        n = int(open(path).read()) if os.path.exists(path) else 10\n"
		"        open(path, 'w').write(str(n + 5))\n"
		"        self.monotonic_count('requests.total', n, tags=['kind:mono'])\n"
		"        self.rate('requests.rate', n)\n"
		"        self.count('runs', 1)\n"
		"        self.increment('incs')\n"
		"        self.histogram('latency', 0.25)\n"
		"        self.service_check('counter.up', AgentCheck.OK, message='fine')\n";
	const struct lc_metric *m;
	char *conf, *counter;
	struct run r;

	(void)state;
	counter = lc_xasprintf("/tmp/lc-counter-%ld", (long)getpid());
	unlink(counter);
	conf = lc_xasprintf("init_config:\ninstances:\n  - counter_file: %s\n", counter);
	run_python(&r, "counter", module, conf);
	if (r.errors.len)
		fail_msg("errors: %s", r.errors.buf);
	assert_null(metric(&r, "requests.total"));
	assert_null(metric(&r, "requests.rate"));
	assert_non_null(m = metric(&r, "runs"));
	assert_int_equal(m->type, LC_METRIC_COUNT);
	assert_non_null(m = metric(&r, "incs"));
	assert_true(m->value == 1);
	assert_non_null(m = metric(&r, "latency.95percentile"));
	assert_true(m->value == 0.25);
	assert_non_null(metric(&r, "latency.count"));
	assert_non_null(m = metric(&r, "counter.up"));
	assert_int_equal(m->type, LC_METRIC_SERVICE_CHECK);
	assert_true(m->value == 0);
	assert_string_equal(m->message, "fine");

	run_again(&r, "counter");
	if (r.errors.len)
		fail_msg("errors: %s", r.errors.buf);
	assert_int_equal(r.ran, 1);
	assert_non_null(m = metric(&r, "requests.total"));
	assert_int_equal(m->type, LC_METRIC_COUNT);
	assert_true(m->value == 5);
	assert_true(has_tag(m, "kind:mono"));
	assert_non_null(m = metric(&r, "requests.rate"));
	assert_int_equal(m->type, LC_METRIC_GAUGE);
	assert_true(m->value > 0);
	run_release(&r);
	unlink(counter);
	free(counter);
	free(conf);
}

/* An exception: what was reported before it is kept, the error is the
 * traceback's last line. */
static void test_python_exception(void **state)
{
	static const char module[] =
		"from datadog_checks.base import AgentCheck\n"
		"\n"
		"class Boom(AgentCheck):\n"
		"    def check(self, instance):\n"
		"        self.gauge('before', 1)\n"
		"        raise ValueError('the database is gone')\n";
	struct run r;

	(void)state;
	run_python(&r, "boom", module, "instances:\n  - {}\n");
	assert_int_equal(r.ran, 1);
	assert_non_null(metric(&r, "before"));
	tu_assert_contains(r.errors.buf, "ValueError: the database is gone");
	run_release(&r);
}

/* A module that defines no check, and one that does not import. */
static void test_python_not_a_check(void **state)
{
	struct run r;

	(void)state;
	run_python(&r, "plain", "print('my_metric:1|g')\n", "instances:\n  - {}\n");
	tu_assert_contains(r.errors.buf, "defines no subclass of AgentCheck");
	assert_int_equal(r.got.nr, 0);
	run_release(&r);
	run_python(&r, "broken", "from datadog_checks.base import Nope\n", "instances:\n  - {}\n");
	tu_assert_contains(r.errors.buf, "ImportError");
	run_release(&r);
}

static void test_metrics_and_tags(void **state)
{
	static const char script[] =
		"#!/bin/sh\n"
		"echo 'my_metric:517|g'\n"
		"echo 'hits:2|c|@0.5|#path:/x,project:lab'\n"
		"echo 'noise on stderr' >&2\n";
	struct run r;

	(void)state;
	run_custom(&r, "my_metric", script,
		   "init_config:\ninstances:\n  - min_collection_interval: 45\n    tags: [inst:a]\n");
	assert_int_equal(r.ran, 1);
	assert_int_equal(r.errors.len, 0);
	assert_int_equal(r.got.nr, 2);
	assert_string_equal(r.got.v[0].name, "my_metric");
	assert_true(r.got.v[0].value == 517);
	assert_string_equal(r.got.v[0].host, "host-1");
	assert_true(r.got.v[0].ts > 1600000000);
	/* datadog.yaml tags, env, instance tags, line tags; no duplicates. */
	assert_int_equal(r.got.v[0].tags.nr, 3);
	assert_string_equal(r.got.v[0].tags.v[0], "project:lab");
	assert_string_equal(r.got.v[0].tags.v[1], "env:test");
	assert_string_equal(r.got.v[0].tags.v[2], "inst:a");
	assert_int_equal(r.got.v[1].type, LC_METRIC_COUNT);
	assert_true(r.got.v[1].value == 4);
	assert_int_equal(r.got.v[1].interval, 45);
	assert_int_equal(r.got.v[1].tags.nr, 4);
	assert_string_equal(r.got.v[1].tags.v[3], "path:/x");
	/* Not due again before its interval. */
	assert_int_equal(lc_check_due(&r.checks.v[0], lc_clock_now()), 0);
	run_release(&r);
}

static void test_malformed_lines(void **state)
{
	static const char script[] =
		"#!/bin/sh\n"
		"echo 'good:1|g'\n"
		"echo 'bad line'\n"
		"echo 'worse:x|g'\n";
	struct run r;

	(void)state;
	run_custom(&r, "mixed", script, "instances:\n  - {}\n");
	/* The good line counts; the bad ones are the check's error. */
	assert_int_equal(r.got.nr, 1);
	assert_string_equal(r.got.v[0].name, "good");
	tu_assert_contains(r.errors.buf, "2 malformed lines in the output of");
	tu_assert_contains(r.errors.buf, "first: line 2: expected 'metric:value|type'");
	run_release(&r);
}

static void test_exit_status(void **state)
{
	static const char script[] =
		"#!/bin/sh\n"
		"echo 'partial:1|g'\n"
		"echo 'Traceback (most recent call last):' >&2\n"
		"echo 'ValueError: no database' >&2\n"
		"exit 3\n";
	struct run r;

	(void)state;
	run_custom(&r, "failing", script, "instances:\n  - {}\n");
	assert_int_equal(r.got.nr, 1);
	tu_assert_contains(r.errors.buf, "exited with status 3: ValueError: no database");
	run_release(&r);
}

static void test_bad_interpreter(void **state)
{
	const char *preload = getenv("LD_PRELOAD");
	struct run r;

	(void)state;
	/* Under valgrind a failed execve kills the child instead of
	 * returning (valgrind: "EXEC FAILED: I can't recover"). */
	if (preload && strstr(preload, "vgpreload"))
		skip();
	run_custom(&r, "nointerp", "#!/nonexistent/python9\nprint(1)\n", "instances:\n  - {}\n");
	assert_int_equal(r.got.nr, 0);
	tu_assert_contains(r.errors.buf, "cannot run ");
	tu_assert_contains(r.errors.buf, "No such file or directory");
	run_release(&r);
}

/* A script that hangs is killed at its timeout, with whatever it started
 * (its process group). */
static void test_timeout(void **state)
{
	static const char script[] =
		"#!/bin/sh\n"
		"echo 'early:1|g'\n"
		"sleep 30 &\n"
		"sleep 30\n";
	struct timespec t0, t1;
	struct run r;
	double took;

	(void)state;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	run_custom(&r, "hang", script, "instances:\n  - timeout: 1\n");
	clock_gettime(CLOCK_MONOTONIC, &t1);
	took = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
	assert_true(took < 5);
	assert_int_equal(r.got.nr, 0);
	tu_assert_contains(r.errors.buf, "timed out after 1 s and was killed");
	run_release(&r);
}

/* Two instances: each runs, errors say which one. */
static void test_instances(void **state)
{
	static const char script[] =
		"#!/bin/sh\n"
		"echo 'x:1|g'\n"
		"echo 'oops'\n";
	struct run r;

	(void)state;
	run_custom(&r, "twice", script,
		   "instances:\n  - tags: [n:1]\n  - tags: [n:2]\n");
	assert_int_equal(r.ran, 2);
	assert_int_equal(r.got.nr, 2);
	assert_string_equal(r.got.v[0].tags.v[2], "n:1");
	assert_string_equal(r.got.v[1].tags.v[2], "n:2");
	tu_assert_contains(r.errors.buf, "instance 1: ");
	tu_assert_contains(r.errors.buf, "; instance 2: ");
	run_release(&r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_metrics_and_tags),
		cmocka_unit_test(test_malformed_lines),
		cmocka_unit_test(test_exit_status),
		cmocka_unit_test(test_bad_interpreter),
		cmocka_unit_test(test_timeout),
		cmocka_unit_test(test_instances),
		cmocka_unit_test(test_python_docs_check),
		cmocka_unit_test(test_python_rates),
		cmocka_unit_test(test_python_exception),
		cmocka_unit_test(test_python_not_a_check),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
