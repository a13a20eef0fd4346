/* test_agent_config.c - datadog.yaml and the checks of conf.d/checks.d:
 * values, defaults, ignored keys, and bad config with file:line:col. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <sys/utsname.h>

#include <cmocka.h>

#include "testutil.h"

#include "check.h"
#include "config.h"

/* ---- helpers ----------------------------------------------------------- */

/* A config dir holding only datadog.yaml = text; returns the dir. */
static char *dir_with(const char *text)
{
	char *dir = tu_mkdtemp("agent-conf");

	if (text)
		tu_put(dir, "datadog.yaml", text);
	return dir;
}

/* datadog.yaml = text must be refused with a message holding every one
 * of the NULL-terminated wants (the position first of all); the config
 * must then be the defaults. */
static void conf_refused(const char *text, const char *const *wants)
{
	struct lc_agent_conf c = LC_AGENT_CONF_INIT;
	struct lc_error err = LC_ERROR_INIT;
	char *dir = dir_with(text);
	size_t i;

	assert_int_equal(lc_agent_conf_load(&c, dir, &err), LC_EPARSE);
	for (i = 0; wants[i]; i++)
		tu_assert_contains(err.msg, wants[i]);
	assert_string_equal(c.api_key, "");
	assert_string_equal(c.intake, "https://api.datadoghq.com");
	lc_agent_conf_release(&c);
	tu_rmrf(dir);
}

#define REFUSED(text, ...)                                                     \
	do {                                                                   \
		const char *const w_[] = { __VA_ARGS__, NULL };                \
		conf_refused(text, w_);                                        \
	} while (0)

/* ---- datadog.yaml ------------------------------------------------------- */

/* What labctl's roles/base/templates/datadog.yaml renders to, after the
 * role's edits: flow-list tags, stock keys that must be ignored. */
static const char labctl_yaml[] =
	"# Datadog-Agent-style configuration, written by labctl (role base).\n"
	"\n"
	"api_key: \"0123456789abcdef\"\n"
	"site: datadoghq.com\n"
	"hostname: demo_api\n"
	"env: development:local\n"
	"tags: [\"env:development:local\", \"project:datadog-lab\", \"role:demo:api\"]\n"
	"\n"
	"log_level: debug\n"
	"\n"
	"## Logs\n"
	"logs_enabled: true\n"
	"\n"
	"## APM\n"
	"apm_config:\n"
	"  enabled: true\n"
	"\n"
	"## Processes\n"
	"process_config:\n"
	"  process_collection:\n"
	"    enabled: true\n"
	"dogstatsd_port: 8125\n"
	"some_list: [1, 2]\n";

static void test_labctl_config(void **state)
{
	struct lc_agent_conf c = LC_AGENT_CONF_INIT;
	struct lc_error err = LC_ERROR_INIT;
	char *dir = dir_with(labctl_yaml);

	(void)state;
	if (lc_agent_conf_load(&c, dir, &err))
		fail_msg("refused: %s", err.msg);
	assert_string_equal(c.api_key, "0123456789abcdef");
	assert_string_equal(c.site, "datadoghq.com");
	assert_null(c.dd_url);
	assert_string_equal(c.intake, "https://api.datadoghq.com");
	assert_string_equal(c.hostname, "demo_api");
	assert_string_equal(c.env, "development:local");
	assert_int_equal(c.tags.nr, 3);
	assert_string_equal(c.tags.v[0], "env:development:local");
	assert_string_equal(c.tags.v[1], "project:datadog-lab");
	assert_string_equal(c.tags.v[2], "role:demo:api");
	assert_int_equal(c.log_level, LC_LOG_DEBUG);
	lc_agent_conf_release(&c);
	tu_rmrf(dir);
}

static void test_dd_url_and_site(void **state)
{
	struct lc_agent_conf c = LC_AGENT_CONF_INIT;
	struct lc_error err = LC_ERROR_INIT;
	char *dir;

	(void)state;
	/* dd_url wins over site; a trailing slash goes. */
	dir = dir_with("site: datadoghq.eu\ndd_url: http://127.0.0.1:9999/\napi_key: k\n");
	assert_int_equal(lc_agent_conf_load(&c, dir, &err), 0);
	assert_string_equal(c.dd_url, "http://127.0.0.1:9999");
	assert_string_equal(c.intake, "http://127.0.0.1:9999");
	tu_rmrf(dir);

	dir = dir_with("site: datadoghq.eu\n");
	assert_int_equal(lc_agent_conf_load(&c, dir, &err), 0);
	assert_string_equal(c.intake, "https://api.datadoghq.eu");
	assert_string_equal(c.api_key, "");
	tu_rmrf(dir);

	/* Empty values are unset values. */
	dir = dir_with("dd_url: \"\"\napi_key:\nenv: ~\ntags:\nhostname: ''\n");
	assert_int_equal(lc_agent_conf_load(&c, dir, &err), 0);
	assert_null(c.dd_url);
	assert_string_equal(c.intake, "https://api.datadoghq.com");
	assert_string_equal(c.api_key, "");
	assert_string_equal(c.env, "");
	assert_int_equal(c.tags.nr, 0);
	tu_rmrf(dir);
	lc_agent_conf_release(&c);
}

static void test_defaults(void **state)
{
	struct lc_agent_conf c = LC_AGENT_CONF_INIT;
	struct lc_error err = LC_ERROR_INIT;
	struct utsname u;
	char *dir;

	(void)state;
	assert_int_equal(uname(&u), 0);
	/* An empty or comments-only file: everything by default. */
	dir = dir_with("# nothing here\n");
	assert_int_equal(lc_agent_conf_load(&c, dir, &err), 0);
	assert_string_equal(c.api_key, "");
	assert_string_equal(c.site, "datadoghq.com");
	assert_string_equal(c.hostname, u.nodename);
	assert_string_equal(c.env, "");
	assert_int_equal(c.log_level, LC_LOG_INFO);
	tu_rmrf(dir);

	/* No file at all is an error, and leaves the defaults. */
	dir = dir_with(NULL);
	assert_int_equal(lc_agent_conf_load(&c, dir, &err), LC_EIO);
	tu_assert_contains(err.msg, "datadog.yaml");
	assert_string_equal(c.api_key, "");
	assert_string_equal(c.hostname, u.nodename);
	tu_rmrf(dir);
	lc_agent_conf_release(&c);
}

static void test_bad_datadog_yaml(void **state)
{
	(void)state;
	REFUSED("api_key: k\ntags: project:lab\n",
		"datadog.yaml:2:7: ", "expected a list");
	REFUSED("tags: [a:b, [c]]\n", "datadog.yaml:1:13: ", "a tag must be a string");
	REFUSED("tags: [a:b, \"\"]\n", "datadog.yaml:1:13: ", "non-empty");
	REFUSED("dd_url: ftp://127.0.0.1/\n", "datadog.yaml:1:9: ",
		"dd_url must start with http:// or https://");
	REFUSED("log_level: loud\n", "datadog.yaml:1:12: ", "unknown log_level 'loud'");
	REFUSED("site: \"datadoghq.com/evil\"\n", "datadog.yaml:1:7: ", "site must be a domain");
	REFUSED("hostname: [a]\n", "datadog.yaml:1:11: ", "expected a scalar");
	REFUSED("env: dev\nenv: prod\n", "datadog.yaml:2:1: ", "duplicate key 'env'");
	REFUSED("api_key: k\ntags: [a:b\n", "datadog.yaml:3:1: ");
	REFUSED("- just\n- a list\n", "datadog.yaml:1:1: ", "expected a mapping");
}

/* A key with a line break would forge HTTP headers: refused, and the
 * message never shows the key. */
static void test_api_key_never_shown(void **state)
{
	struct lc_agent_conf c = LC_AGENT_CONF_INIT;
	struct lc_error err = LC_ERROR_INIT;
	char *dir = dir_with("api_key: \"secret-key-42\\r\\nX-Evil: 1\"\n");

	(void)state;
	assert_int_equal(lc_agent_conf_load(&c, dir, &err), LC_EPARSE);
	tu_assert_contains(err.msg, "datadog.yaml:1:10: ");
	tu_assert_contains(err.msg, "'api_key' must not contain control characters");
	assert_null(strstr(err.msg, "secret-key-42"));
	assert_string_equal(c.api_key, "");
	lc_agent_conf_release(&c);
	tu_rmrf(dir);
}

static void test_log_levels(void **state)
{
	enum lc_log_level l;

	(void)state;
	assert_int_equal(lc_log_level_parse(&l, "WARNING"), 0);
	assert_int_equal(l, LC_LOG_WARN);
	assert_int_equal(lc_log_level_parse(&l, "critical"), 0);
	assert_int_equal(l, LC_LOG_ERROR);
	assert_int_equal(lc_log_level_parse(&l, "off"), 0);
	assert_int_equal(l, LC_LOG_OFF);
	assert_int_equal(lc_log_level_parse(&l, "verbose"), -1);
}

static void test_url_redact(void **state)
{
	struct lc_buf b = LC_BUF_INIT;

	(void)state;
	lc_url_redact(&b, "https://user:pw@intake.example:443/x@y");
	assert_string_equal(b.buf, "https://***@intake.example:443/x@y");
	lc_buf_reset(&b);
	lc_url_redact(&b, "http://127.0.0.1:9999");
	assert_string_equal(b.buf, "http://127.0.0.1:9999");
	lc_buf_release(&b);
}

/* ---- conf.d and checks.d ------------------------------------------------ */

static const struct lc_check_conf *find(const struct lc_check_confs *cs,
					const char *name)
{
	const struct lc_check_conf *c = lc_check_confs_find(cs, name);

	if (!c)
		fail_msg("no check '%s'", name);
	return c;
}

static void no_error(const struct lc_check_conf *c)
{
	if (c->error)
		fail_msg("check %s: %s", c->name, c->error);
}

static void test_system_by_default(void **state)
{
	struct lc_check_confs cs = LC_CHECK_CONFS_INIT;
	const struct lc_check_conf *c;
	char *dir = dir_with("");

	(void)state;
	/* No conf.d at all: the system check, every 15 s. */
	lc_check_confs_load(&cs, dir);
	assert_int_equal(cs.nr, 1);
	c = find(&cs, "system");
	no_error(c);
	assert_int_equal(c->kind, LC_CHECK_SYSTEM);
	assert_null(c->file);
	assert_int_equal(c->n_instances, 1);
	assert_int_equal(c->instances[0].interval, 15);
	assert_int_equal(cs.errors.nr, 0);
	lc_check_confs_release(&cs);
	tu_rmrf(dir);
}

static void test_checks_found(void **state)
{
	struct lc_check_confs cs = LC_CHECK_CONFS_INIT;
	const struct lc_check_conf *c;
	char *dir = dir_with("");
	char *exe;

	(void)state;
	tu_put(dir, "conf.d/system.yaml",
	       "# built-in\ninit_config:\ninstances:\n  - min_collection_interval: 30\n"
	       "    tags: [\"disk:root\"]\n");
	tu_put(dir, "conf.d/postgres.d/conf.yaml",
	       "init_config:\ninstances:\n  - host: 127.0.0.1\n    port: 5432\n"
	       "    username: datadog\n    tags: [\"role:storage\"]\n"
	       "  - host: 127.0.0.2\n    username: datadog\n    min_collection_interval: 60\n");
	tu_put(dir, "conf.d/postgres.d/conf.yaml.example", "not: [yaml\n");
	tu_put(dir, "conf.d/cpu.d/conf.yaml.default", "init_config:\n");
	tu_put(dir, "conf.d/disk.yaml.example", "nope: [\n");
	tu_put(dir, "conf.d/README", "not a check\n");
	/* Both files of one custom check: the instances of both. */
	tu_put(dir, "conf.d/my_metric.yaml",
	       "init_config:\ninstances:\n  - min_collection_interval: 45\n");
	tu_put(dir, "conf.d/my_metric.d/conf.yaml", "init_config:\ninstances:\n  - {}\n");
	exe = tu_write(dir, "checks.d/my_metric.py", "#!/bin/sh\necho my_metric:1\\|g\n");
	chmod(exe, 0755);
	/* An executable nobody configured: a note, not a check. */
	tu_put(dir, "checks.d/lonely", "#!/bin/sh\n");

	lc_check_confs_load(&cs, dir);
	assert_int_equal(cs.nr, 3);
	/* Sorted by name. */
	assert_string_equal(cs.v[0].name, "my_metric");
	assert_string_equal(cs.v[1].name, "postgres");
	assert_string_equal(cs.v[2].name, "system");

	c = find(&cs, "system");
	no_error(c);
	assert_int_equal(c->kind, LC_CHECK_SYSTEM);
	assert_int_equal(c->instances[0].interval, 30);
	assert_int_equal(c->instances[0].tags.nr, 1);
	assert_string_equal(c->instances[0].tags.v[0], "disk:root");

	c = find(&cs, "postgres");
	no_error(c);
	assert_int_equal(c->kind, LC_CHECK_POSTGRES);
	assert_int_equal(c->n_instances, 2);
	assert_int_equal(c->instances[0].interval, 15);
	assert_string_equal(c->instances[0].tags.v[0], "role:storage");
	assert_int_equal(c->instances[1].interval, 60);
	tu_assert_contains(c->file, "conf.d/postgres.d/conf.yaml");

	c = find(&cs, "my_metric");
	no_error(c);
	assert_int_equal(c->kind, LC_CHECK_CUSTOM);
	assert_string_equal(c->exe, exe);
	assert_int_equal(c->n_instances, 2);
	assert_int_equal(c->instances[0].interval + c->instances[1].interval, 45 + 15);

	assert_int_equal(cs.notes.nr, 1);
	tu_assert_contains(cs.notes.v[0], "checks.d/lonely has no config");
	free(exe);
	lc_check_confs_release(&cs);
	tu_rmrf(dir);
}

/* conf.d/<name>.yaml holding text must give check name an error with all
 * of wants; the other checks still load. */
static void check_refused(const char *name, const char *text, const char *const *wants)
{
	struct lc_check_confs cs = LC_CHECK_CONFS_INIT;
	const struct lc_check_conf *c;
	char *dir = dir_with("");
	char *rel = lc_xasprintf("conf.d/%s.yaml", name);
	size_t i;

	tu_put(dir, rel, text);
	tu_put(dir, "conf.d/system.yaml", "init_config:\ninstances:\n  - {}\n");
	lc_check_confs_load(&cs, dir);
	c = find(&cs, name);
	if (!c->error)
		fail_msg("check %s has no error", name);
	for (i = 0; wants[i]; i++)
		tu_assert_contains(c->error, wants[i]);
	no_error(find(&cs, "system"));
	lc_check_confs_release(&cs);
	free(rel);
	tu_rmrf(dir);
}

#define CHECK_REFUSED(name, text, ...)                                         \
	do {                                                                   \
		const char *const w_[] = { __VA_ARGS__, NULL };                \
		check_refused(name, text, w_);                                 \
	} while (0)

static void test_bad_check_config(void **state)
{
	(void)state;
	/* Intervals: whole seconds from 1 to 86400, with the position. */
	CHECK_REFUSED("postgres", "init_config:\ninstances:\n  - min_collection_interval: abc\n",
		      "conf.d/postgres.yaml:3:30: ", "bad min_collection_interval 'abc'");
	CHECK_REFUSED("postgres", "instances:\n  - host: h\n    min_collection_interval: 0\n",
		      "conf.d/postgres.yaml:3:30: ", "bad min_collection_interval '0'");
	CHECK_REFUSED("postgres", "instances:\n  - min_collection_interval: 1.5\n",
		      "conf.d/postgres.yaml:2:30: ", "whole seconds from 1 to 86400");
	CHECK_REFUSED("postgres", "instances:\n  - min_collection_interval: 86401\n",
		      "conf.d/postgres.yaml:2:30: ");
	CHECK_REFUSED("postgres", "instances:\n  - min_collection_interval: [1]\n",
		      "conf.d/postgres.yaml:2:30: ", "bad min_collection_interval a list");
	/* YAML errors. */
	CHECK_REFUSED("postgres", "init_config:\ninstances: [\n", "conf.d/postgres.yaml:3:1: ");
	CHECK_REFUSED("postgres", "instances:\n  - a: 1\n    a: 2\n",
		      "conf.d/postgres.yaml:3:5: ", "duplicate key 'a'");
	/* Shape. */
	CHECK_REFUSED("postgres", "init_config:\n", "conf.d/postgres.yaml:1:1: ",
		      "no 'instances:' list");
	CHECK_REFUSED("postgres", "init_config:\ninstances:\n", "conf.d/postgres.yaml:2:11: ",
		      "'instances' is empty");
	CHECK_REFUSED("postgres", "instances: []\n", "'instances' is empty");
	CHECK_REFUSED("postgres", "", "conf.d/postgres.yaml: the file is empty");
	CHECK_REFUSED("postgres", "instances: {a: 1}\n", "conf.d/postgres.yaml:1:12: ",
		      "expected a list");
	CHECK_REFUSED("postgres", "instances:\n  - just a string\n",
		      "conf.d/postgres.yaml:2:5: ", "expected a mapping for an instance");
	CHECK_REFUSED("postgres", "instances:\n  - tags: role:x\n",
		      "conf.d/postgres.yaml:2:11: ", "expected a list");
	/* No such check. */
	CHECK_REFUSED("nosuch", "instances:\n  - {}\n", "unknown check 'nosuch'",
		      "checks.d/nosuch.py");
}

static void test_unknown_check_dir(void **state)
{
	struct lc_check_confs cs = LC_CHECK_CONFS_INIT;
	const struct lc_check_conf *c;
	char *dir = dir_with("");

	(void)state;
	tu_put(dir, "conf.d/mysql.d/conf.yaml", "init_config:\ninstances:\n  - host: x\n");
	lc_check_confs_load(&cs, dir);
	c = find(&cs, "mysql");
	tu_assert_contains(c->error, "conf.d/mysql.d/conf.yaml: unknown check 'mysql'");
	no_error(find(&cs, "system"));
	lc_check_confs_release(&cs);
	tu_rmrf(dir);
}

/* checks.d/NAME (lab-agent's own kind) must be executable; NAME.py is a
 * module the runner imports, as the real Agent does: no x bit needed, and
 * it wins over NAME. */
static void test_not_executable(void **state)
{
	struct lc_check_confs cs = LC_CHECK_CONFS_INIT;
	const struct lc_check_conf *c;
	char *dir = dir_with("");

	(void)state;
	tu_put(dir, "conf.d/mine.yaml", "instances:\n  - {}\n");
	tu_put(dir, "checks.d/mine", "#!/bin/sh\n");
	tu_put(dir, "conf.d/module.yaml", "instances:\n  - {}\n");
	tu_put(dir, "checks.d/module.py", "from datadog_checks.base import AgentCheck\n");
	tu_put(dir, "checks.d/module", "#!/bin/sh\n");
	lc_check_confs_load(&cs, dir);
	c = find(&cs, "mine");
	tu_assert_contains(c->error, "checks.d/mine is not executable");
	assert_false(c->python);
	c = find(&cs, "module");
	assert_null(c->error);
	assert_true(c->python);
	tu_assert_contains(c->exe, "checks.d/module.py");
	lc_check_confs_release(&cs);
	tu_rmrf(dir);
}

/* The checks' own keys are read when the checks are built. */
static void test_instance_keys(void **state)
{
	struct lc_check_confs cs = LC_CHECK_CONFS_INIT;
	struct lc_checks checks = LC_CHECKS_INIT;
	char *dir = dir_with("");
	char *exe;
	size_t i;

	(void)state;
	tu_put(dir, "conf.d/postgres.d/conf.yaml",
	       "init_config:\ninstances:\n  - host: 127.0.0.1\n    port: 99999\n    username: u\n");
	tu_put(dir, "conf.d/slow.yaml", "instances:\n  - timeout: forever\n");
	exe = tu_write(dir, "checks.d/slow", "#!/bin/sh\n");
	chmod(exe, 0755);
	lc_check_confs_load(&cs, dir);
	lc_checks_build(&checks, &cs, 0);
	assert_int_equal(checks.nr, 3);
	for (i = 0; i < checks.nr; i++) {
		const struct lc_check *c = &checks.v[i];

		if (!strcmp(c->conf->name, "postgres")) {
			tu_assert_contains(c->error, "conf.d/postgres.d/conf.yaml:4:11: ");
			tu_assert_contains(c->error, "from 1 to 65535");
			assert_null(c->ops);
			assert_int_equal(lc_check_due(c, 100), 0);
		} else if (!strcmp(c->conf->name, "slow")) {
			tu_assert_contains(c->error, "conf.d/slow.yaml:2:14: bad timeout");
		} else {
			assert_null(c->error);
			assert_true(lc_check_due(c, 0));
		}
	}
	lc_checks_release(&checks);
	lc_check_confs_release(&cs);

	tu_put(dir, "conf.d/postgres.d/conf.yaml", "instances:\n  - host: 127.0.0.1\n");
	lc_check_confs_load(&cs, dir);
	lc_checks_build(&checks, &cs, 0);
	tu_assert_contains(checks.v[0].error, "conf.d/postgres.d/conf.yaml:2:5: ");
	tu_assert_contains(checks.v[0].error, "postgres instance without 'username'");
	lc_checks_release(&checks);
	lc_check_confs_release(&cs);
	free(exe);
	tu_rmrf(dir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_labctl_config),
		cmocka_unit_test(test_dd_url_and_site),
		cmocka_unit_test(test_defaults),
		cmocka_unit_test(test_bad_datadog_yaml),
		cmocka_unit_test(test_api_key_never_shown),
		cmocka_unit_test(test_log_levels),
		cmocka_unit_test(test_url_redact),
		cmocka_unit_test(test_system_by_default),
		cmocka_unit_test(test_checks_found),
		cmocka_unit_test(test_bad_check_config),
		cmocka_unit_test(test_unknown_check_dir),
		cmocka_unit_test(test_not_executable),
		cmocka_unit_test(test_instance_keys),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
