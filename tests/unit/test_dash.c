/* test_dash.c - dashboards, monitors and downtimes as code: loading and
 * rendering definitions, markers, comparing with what the API answers
 * (normalization), the JSON changes and the create/update/delete decision. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "dash.h"
#include "json.h"
#include "testutil.h"

static const char inventory[] =
	"provider: ssh\n"
	"tags: [env:test, project:lab]\n"
	"vars:\n"
	"  env: test:unit\n"
	"  token: { from_env: LC_DASH_TEST_TOKEN, default: hush-hush }\n"
	"hosts:\n"
	"  chaos_engine:\n"
	"    address: 127.0.0.2\n"
	"    vars: { service: chaos }\n"
	"  postgresql:\n"
	"    address: 127.0.0.3\n";

static const char monitor_yaml[] =
	"name: \"my_metric on {{ hosts.chaos_engine.name }}\"\n"
	"type: metric alert\n"
	"query: \"avg(last_5m):avg:my_metric{host:{{ hosts.chaos_engine.name }}} > 800\"\n"
	"message: |\n"
	"  {{ \"{{#is_alert}}\" }}high on {{ hosts.chaos_engine.address }}{{ \"{{/is_alert}}\" }}\n"
	"tags: [\"env:{{ env }}\", \"service:{{ hosts.chaos_engine.service }}\"]\n"
	"options:\n"
	"  thresholds: { warning: 500, critical: 800 }\n"
	"  notify_no_data: true\n"
	"  no_data_timeframe: 10\n"
	"  label: \"800\"\n";

struct fx {
	char *dir;
	struct lc_inventory inv;
	struct lc_dash_defs defs;
	struct lc_dash_remotes remotes;
	struct lc_dash_plan plan;
};

static int setup(void **state)
{
	struct fx *f = lc_xcalloc(1, sizeof(*f));
	struct lc_error err = LC_ERROR_INIT;
	char *path;

	f->dir = tu_mkdtemp("dash");
	path = tu_write(f->dir, "inventory/lab.yaml", inventory);
	if (lc_inventory_load(&f->inv, path, &err))
		fail_msg("%s", err.msg);
	free(path);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fx *f = *state;

	lc_dash_plan_release(&f->plan);
	lc_dash_remotes_release(&f->remotes);
	lc_dash_defs_release(&f->defs);
	lc_inventory_release(&f->inv);
	tu_rmrf(f->dir);
	free(f);
	return 0;
}

static struct lc_node *json(const char *text)
{
	struct lc_doc doc = LC_DOC_INIT;
	struct lc_error err = LC_ERROR_INIT;
	struct lc_node *n;

	if (lc_json_parse(&doc, "test", text, strlen(text), NULL, &err))
		fail_msg("%s: %s", text, err.msg);
	n = doc.root;
	doc.root = NULL;
	lc_doc_release(&doc);
	return n;
}

static char *to_json(const struct lc_node *n)
{
	struct lc_buf b = LC_BUF_INIT;

	lc_json_write(&b, n, -1);
	return lc_buf_detach(&b, NULL);
}

static int load(struct fx *f, const char *file, const char *text, struct lc_error *err)
{
	return lc_dash_load_buf(&f->defs, file, text, strlen(text), &f->inv, err);
}

static const struct lc_dash_def *def(struct fx *f, const char *name)
{
	size_t i;

	for (i = 0; i < f->defs.n; i++)
		if (!strcmp(f->defs.items[i].name, name))
			return &f->defs.items[i];
	fail_msg("no definition %s", name);
	return NULL;
}

/* ---- loading ------------------------------------------------------------- */

static void test_load_renders_and_marks(void **state)
{
	struct fx *f = *state;
	struct lc_error err = LC_ERROR_INIT;
	char *j;

	if (load(f, "defs/my-metric.monitor.yaml", monitor_yaml, &err))
		fail_msg("%s", err.msg);
	assert_int_equal(f->defs.n, 1);
	assert_int_equal(f->defs.items[0].kind, LC_DASH_MONITOR);
	assert_string_equal(f->defs.items[0].name, "my-metric");
	j = to_json(f->defs.items[0].body);
	assert_string_equal(j,
		"{\"name\":\"my_metric on chaos_engine\",\"type\":\"metric alert\","
		"\"query\":\"avg(last_5m):avg:my_metric{host:chaos_engine} > 800\","
		"\"message\":\"{{#is_alert}}high on 127.0.0.2{{/is_alert}}\\n\","
		"\"tags\":[\"env:test:unit\",\"service:chaos\",\"labctl:my-metric\"],"
		"\"options\":{\"thresholds\":{\"warning\":500,\"critical\":800},"
		"\"notify_no_data\":true,\"no_data_timeframe\":10,\"label\":\"800\"}}");
	free(j);
}

static void test_load_dashboard_and_downtime_markers(void **state)
{
	struct fx *f = *state;
	struct lc_error err = LC_ERROR_INIT;
	char *id;

	if (load(f, "d/board.dashboard.yaml",
		 "title: \"Lab {{ env }}\"\nlayout_type: ordered\nwidgets: []\n", &err) ||
	    load(f, "d/board2.dashboard.json",
		 "{\"title\": \"x \\ud83d\\ude00\", \"layout_type\": \"ordered\", \"widgets\": [],"
		 " \"description\": \"Two lines.\\n\\n\"}", &err) ||
	    load(f, "d/nights.downtime.yml",
		 "scope: \"*\"\nmessage: \"Nights on {{ hosts.postgresql.address }}\"\n", &err))
		fail_msg("%s", err.msg);
	assert_string_equal(lc_node_get(def(f, "board")->body, "description")->str,
			    "[labctl:board]");
	assert_string_equal(lc_node_get(def(f, "board2")->body, "description")->str,
			    "Two lines.\n\n[labctl:board2]");
	assert_string_equal(lc_node_get(def(f, "board2")->body, "title")->str,
			    "x \xf0\x9f\x98\x80");
	assert_string_equal(lc_node_get(def(f, "nights")->body, "message")->str,
			    "Nights on 127.0.0.3\n\n[labctl:nights]");
	/* sorted by kind, then name */
	assert_int_equal(f->defs.items[0].kind, LC_DASH_DASHBOARD);
	assert_int_equal(f->defs.items[2].kind, LC_DASH_DOWNTIME);
	id = lc_dash_identity(LC_DASH_DOWNTIME, def(f, "nights")->body);
	assert_non_null(id);
	assert_string_equal(id, "nights");
	free(id);
}

static void expect_load_error(struct fx *f, const char *file, const char *text,
			      const char *needle)
{
	struct lc_error err = LC_ERROR_INIT;
	size_t n = f->defs.n;

	assert_int_not_equal(load(f, file, text, &err), 0);
	tu_assert_contains(err.msg, needle);
	assert_int_equal(f->defs.n, n);
}

static void test_load_errors(void **state)
{
	struct fx *f = *state;

	expect_load_error(f, "d/x.board.yaml", "title: x\n", "cannot tell what this defines");
	expect_load_error(f, "d/Big.monitor.yaml", "type: x\n", "'Big' is not a valid name");
	expect_load_error(f, "d/m.monitor.yaml", "type: metric alert\n",
			  "d/m.monitor.yaml:1:1: a monitor needs 'query'");
	expect_load_error(f, "d/m.monitor.yaml", "type: metric alert\nquery: \"{{ nope }}\"\n",
			  "d/m.monitor.yaml:2:8 'query':1: undefined variable 'nope'");
	expect_load_error(f, "d/m.monitor.yaml", "type: a\nquery: \"{{ token }}\"\n",
			  "'query' uses a secret variable");
	expect_load_error(f, "d/m.monitor.yaml", "id: 3\ntype: a\nquery: q\n",
			  "d/m.monitor.yaml:1:5: 'id' is the API's");
	expect_load_error(f, "d/m.monitor.yaml", "type: a\nquery: q\ntags: [labctl:other]\n",
			  "labctl adds its own");
	expect_load_error(f, "d/m.monitor.json", "{\"type\": \"a\", \"query\": \"q\",}",
			  "d/m.monitor.json:1:28: string or '}' expected near '}'");
	expect_load_error(f, "d/b.dashboard.yaml", "title: t\nlayout_type: ordered\nwidgets: {}\n",
			  "expected a list");
	expect_load_error(f, "d/n.downtime.yaml", "message: hi\n", "a downtime needs 'scope'");
	/* the message's API variables must be written as literals */
	expect_load_error(f, "d/m.monitor.yaml", "type: a\nquery: q\nmessage: \"{{#is_alert}}\"\n",
			  "'message'");
}

static void test_load_dir_and_cross_check(void **state)
{
	struct fx *f = *state;
	struct lc_error err = LC_ERROR_INIT;
	char *dir = lc_xasprintf("%s/apps/dashboards", f->dir);

	tu_put(dir, "README.md", "not a definition {{ at all");
	tu_put(dir, "m.monitor.yaml", "type: metric alert\nquery: \"a > 1\"\n");
	tu_put(dir, "d.downtime.yaml", "scope: \"*\"\nmonitor_tags: [\"labctl:mm\"]\n");
	assert_int_equal(lc_dash_load(&f->defs, dir, &f->inv, &err), LC_EPARSE);
	tu_assert_contains(err.msg, "d.downtime.yaml:2:16: 'monitor_tags' names 'labctl:mm' but "
			   "no monitor 'mm' is defined");
	assert_int_equal(f->defs.n, 0);
	tu_put(dir, "d.downtime.yaml", "scope: \"*\"\nmonitor_tags: [\"labctl:m\"]\n");
	if (lc_dash_load(&f->defs, dir, &f->inv, &err))
		fail_msg("%s", err.msg);
	assert_int_equal(f->defs.n, 2);
	assert_int_equal(f->defs.items[0].kind, LC_DASH_MONITOR);
	tu_put(dir, "m.monitor.json", "{\"type\": \"metric alert\", \"query\": \"b > 1\"}");
	lc_dash_defs_release(&f->defs);
	assert_int_equal(lc_dash_load(&f->defs, dir, &f->inv, &err), LC_EPARSE);
	tu_assert_contains(err.msg, "monitor 'm' is already defined by");
	free(dir);
	dir = lc_xasprintf("%s/nowhere", f->dir);
	assert_int_equal(lc_dash_load(&f->defs, dir, &f->inv, &err), LC_EIO);
	free(dir);
}

/* ---- identity ------------------------------------------------------------ */

static void test_identity(void **state)
{
	struct lc_node *n;
	char *s;

	(void)state;
	n = json("{\"tags\": [\"env:x\", \"labctl:my-metric\"]}");
	s = lc_dash_identity(LC_DASH_MONITOR, n);
	assert_string_equal(s, "my-metric");
	free(s);
	assert_null(lc_dash_identity(LC_DASH_DASHBOARD, n));
	lc_node_free(n);
	n = json("{\"description\": \"[labctl:old] text\\n\\n[labctl:board]\"}");
	s = lc_dash_identity(LC_DASH_DASHBOARD, n);
	assert_string_equal(s, "board");
	free(s);
	lc_node_free(n);
	n = json("{\"message\": \"[labctl:Not Valid]\", \"tags\": [\"labctl:\"]}");
	assert_null(lc_dash_identity(LC_DASH_DOWNTIME, n));
	assert_null(lc_dash_identity(LC_DASH_MONITOR, n));
	lc_node_free(n);
	n = json("{\"message\": null}");
	assert_null(lc_dash_identity(LC_DASH_DOWNTIME, n));
	lc_node_free(n);
}

/* ---- comparing ----------------------------------------------------------- */

static void test_same_ignores_what_labctl_does_not_set(void **state)
{
	struct lc_node *d, *e;

	(void)state;
	d = json("{\"name\": \"n\", \"type\": \"metric alert\", \"query\": \"q > 800\","
		 " \"message\": \"hi\\n\", \"tags\": [\"b:1\", \"a:2\", \"labctl:m\"],"
		 " \"options\": {\"thresholds\": {\"warning\": 500, \"critical\": 800},"
		 " \"notify_no_data\": true, \"timeout_h\": null}}");
	/* what the API answers: ids, defaults, floats, sorted tags, query alert */
	e = json("{\"id\": 7, \"name\": \"n\", \"type\": \"query alert\", \"query\": \"q > 800\","
		 " \"message\": \"hi\", \"tags\": [\"a:2\", \"b:1\", \"labctl:m\"],"
		 " \"options\": {\"notify_audit\": false, \"thresholds\": {\"critical\": 800.0,"
		 " \"warning\": 5e2}, \"notify_no_data\": true, \"silenced\": {}},"
		 " \"created\": \"2024\"}");
	assert_true(lc_dash_same(LC_DASH_MONITOR, d, e));
	/* "metric alert" = "query alert" only for a monitor's type */
	assert_false(lc_dash_same(LC_DASH_DASHBOARD, d, e));
	lc_node_free(e);
	/* a changed threshold, a tag less, a type that is not the same */
	e = json("{\"name\": \"n\", \"type\": \"query alert\", \"query\": \"q > 800\","
		 " \"message\": \"hi\", \"tags\": [\"a:2\", \"b:1\", \"labctl:m\"],"
		 " \"options\": {\"thresholds\": {\"critical\": 800.0, \"warning\": 600.0},"
		 " \"notify_no_data\": true}}");
	assert_false(lc_dash_same(LC_DASH_MONITOR, d, e));
	lc_node_free(e);
	e = json("{\"name\": \"n\", \"type\": \"query alert\", \"query\": \"q > 800\","
		 " \"message\": \"hi\", \"tags\": [\"a:2\", \"labctl:m\"],"
		 " \"options\": {\"thresholds\": {\"critical\": 800, \"warning\": 500},"
		 " \"notify_no_data\": true}}");
	assert_false(lc_dash_same(LC_DASH_MONITOR, d, e));
	lc_node_free(e);
	e = json("{\"name\": \"n\", \"type\": \"query alert\", \"query\": \"q > 800\","
		 " \"message\": \"hi\", \"tags\": [\"a:2\", \"b:1\", \"labctl:m\"],"
		 " \"options\": {\"thresholds\": {\"critical\": 800, \"warning\": \"500\"},"
		 " \"notify_no_data\": true}}");
	assert_false(lc_dash_same(LC_DASH_MONITOR, d, e));   /* a string is not a number */
	lc_node_free(e);
	assert_false(lc_dash_same(LC_DASH_MONITOR, d, NULL));
	lc_node_free(d);
}

static void test_same_lists_and_widgets(void **state)
{
	struct lc_node *d, *e;

	(void)state;
	d = json("{\"title\": \"t\", \"widgets\": [{\"definition\": {\"type\": \"timeseries\","
		 " \"requests\": [{\"q\": \"a\"}]}}, {\"definition\": {\"type\": \"note\"}}]}");
	e = json("{\"title\": \"t\", \"widgets\": [{\"id\": 1, \"definition\": {\"type\":"
		 " \"timeseries\", \"requests\": [{\"q\": \"a\", \"style\": {}}]}},"
		 " {\"id\": 2, \"definition\": {\"type\": \"note\"}}]}");
	assert_true(lc_dash_same(LC_DASH_DASHBOARD, d, e));
	lc_node_free(e);
	/* widgets keep their order; one more on the API side is a change */
	e = json("{\"title\": \"t\", \"widgets\": [{\"definition\": {\"type\": \"note\"}},"
		 " {\"definition\": {\"type\": \"timeseries\", \"requests\": [{\"q\": \"a\"}]}}]}");
	assert_false(lc_dash_same(LC_DASH_DASHBOARD, d, e));
	lc_node_free(e);
	e = json("{\"title\": \"t\", \"widgets\": [{\"definition\": {\"type\": \"timeseries\","
		 " \"requests\": [{\"q\": \"a\"}]}}, {\"definition\": {\"type\": \"note\"}},"
		 " {\"definition\": {\"type\": \"note\"}}]}");
	assert_false(lc_dash_same(LC_DASH_DASHBOARD, d, e));
	lc_node_free(e);
	lc_node_free(d);
	/* a downtime's scope string is the API's one-item list */
	d = json("{\"scope\": \"*\", \"recurrence\": null}");
	e = json("{\"scope\": [\"*\"]}");
	assert_true(lc_dash_same(LC_DASH_DOWNTIME, d, e));
	lc_node_free(e);
	e = json("{\"scope\": [\"*\", \"env:x\"]}");
	assert_false(lc_dash_same(LC_DASH_DOWNTIME, d, e));
	lc_node_free(e);
	lc_node_free(d);
}

static void test_same_recurring_downtime_window(void **state)
{
	struct lc_node *d, *e;

	(void)state;
	/* Monday 19:00 for 14 hours, weekly */
	d = json("{\"scope\": [\"*\"], \"start\": 1704135600, \"end\": 1704186000,"
		 " \"recurrence\": {\"type\": \"weeks\", \"period\": 1,"
		 " \"week_days\": [\"Mon\", \"Tue\"]}}");
	/* the API moved it to a later occurrence, with its own extras */
	e = json("{\"scope\": [\"*\"], \"start\": 1706209200, \"end\": 1706259600,"
		 " \"recurrence\": {\"type\": \"weeks\", \"period\": 1, \"until_date\": null,"
		 " \"week_days\": [\"Tue\", \"Mon\"]}, \"canceled\": null}");
	assert_true(lc_dash_same(LC_DASH_DOWNTIME, d, e));
	lc_node_free(e);
	/* an hour later is another window */
	e = json("{\"scope\": [\"*\"], \"start\": 1704139200, \"end\": 1704189600,"
		 " \"recurrence\": {\"type\": \"weeks\", \"period\": 1,"
		 " \"week_days\": [\"Mon\", \"Tue\"]}}");
	assert_false(lc_dash_same(LC_DASH_DOWNTIME, d, e));
	lc_node_free(e);
	/* a longer one too */
	e = json("{\"scope\": [\"*\"], \"start\": 1704135600, \"end\": 1704189600,"
		 " \"recurrence\": {\"type\": \"weeks\", \"period\": 1,"
		 " \"week_days\": [\"Mon\", \"Tue\"]}}");
	assert_false(lc_dash_same(LC_DASH_DOWNTIME, d, e));
	lc_node_free(e);
	lc_node_free(d);
	/* a one-time downtime compares its dates exactly */
	d = json("{\"scope\": [\"*\"], \"start\": 1704135600, \"end\": 1704186000}");
	e = json("{\"scope\": [\"*\"], \"start\": 1704222000, \"end\": 1704272400}");
	assert_false(lc_dash_same(LC_DASH_DOWNTIME, d, e));
	lc_node_free(e);
	lc_node_free(d);
}

static void test_changes_json(void **state)
{
	struct lc_node *d, *e, *v, *c;
	struct lc_buf b = LC_BUF_INIT;

	(void)state;
	d = json("{\"type\": \"metric alert\", \"options\": {\"thresholds\": {\"warning\": 600,"
		 " \"critical\": 800}, \"renotify_interval\": 60}, \"tags\": [\"a\", \"b\"],"
		 " \"widgets\": [{\"q\": \"x\"}]}");
	e = json("{\"type\": \"query alert\", \"options\": {\"thresholds\": {\"warning\": 500.0,"
		 " \"critical\": 800.0}}, \"tags\": [\"b\"], \"widgets\": [{\"q\": \"y\", \"id\": 1}]}");
	v = lc_dash_view(LC_DASH_MONITOR, d, e);
	c = lc_dash_changes(v, d);
	lc_json_write(&b, c, -1);
	lc_node_free(c);
	assert_string_equal(b.buf,
		"[{\"path\":\"options.thresholds.warning\",\"old\":500.0,\"new\":600},"
		"{\"path\":\"options.renotify_interval\",\"new\":60},"
		"{\"path\":\"tags\",\"old\":[\"b\"],\"new\":[\"a\",\"b\"]},"
		"{\"path\":\"widgets[0].q\",\"old\":\"y\",\"new\":\"x\"}]");
	lc_buf_release(&b);
	lc_node_free(v);
	lc_node_free(e);
	lc_node_free(d);
}

/* ---- what the API lists, and deciding ------------------------------------ */

static void add_list(struct fx *f, enum lc_dash_kind kind, const char *text)
{
	struct lc_error err = LC_ERROR_INIT;

	if (lc_dash_remotes_add_list(&f->remotes, kind, json(text), &err))
		fail_msg("%s", err.msg);
}

static void test_remotes_list(void **state)
{
	struct fx *f = *state;
	struct lc_error err = LC_ERROR_INIT;

	add_list(f, LC_DASH_DASHBOARD, "{\"dashboards\": [{\"id\": \"abc-def-ghi\", \"title\": \"T\","
		 " \"description\": \"x\\n\\n[labctl:board]\"}, {\"id\": \"xyz-xyz-xyz\","
		 " \"title\": \"hand made\", \"description\": null}]}");
	add_list(f, LC_DASH_DOWNTIME, "[{\"id\": 1, \"message\": \"[labctl:n]\", \"canceled\": 1704},"
		 " {\"id\": 2, \"message\": \"[labctl:n]\", \"disabled\": true},"
		 " {\"id\": 3, \"message\": \"[labctl:n]\", \"canceled\": null, \"disabled\": false}]");
	assert_int_equal(f->remotes.n, 3);
	assert_string_equal(f->remotes.items[0].id, "abc-def-ghi");
	assert_string_equal(f->remotes.items[0].name, "board");
	assert_string_equal(f->remotes.items[0].title, "T");
	assert_null(f->remotes.items[1].name);
	assert_string_equal(f->remotes.items[2].id, "3");
	assert_int_equal(lc_dash_remotes_add_list(&f->remotes, LC_DASH_MONITOR,
						  json("{\"monitors\": []}"), &err), LC_EREMOTE);
	assert_int_equal(lc_dash_remotes_add_list(&f->remotes, LC_DASH_MONITOR,
						  json("[{\"id\": \"../x\"}]"), &err), LC_EREMOTE);
	tu_assert_contains(err.msg, "whose id is not");
	assert_int_equal(f->remotes.n, 3);
}

static void test_decide(void **state)
{
	struct fx *f = *state;
	struct lc_error err = LC_ERROR_INIT;
	const struct lc_dash_step *s;

	if (load(f, "d/board.dashboard.yaml", "title: T\nlayout_type: ordered\nwidgets: []\n",
		 &err) ||
	    load(f, "d/m.monitor.yaml", "type: metric alert\nquery: \"q > 1\"\noptions: {thresholds: "
		 "{critical: 1}}\n", &err) ||
	    load(f, "d/late.downtime.yaml", "scope: \"*\"\n", &err) ||
	    load(f, "d/new.downtime.yaml", "scope: \"*\"\n", &err))
		fail_msg("%s", err.msg);
	add_list(f, LC_DASH_DASHBOARD, "{\"dashboards\": [{\"id\": \"a-b-c\", \"title\": \"T\","
		 " \"layout_type\": \"ordered\", \"widgets\": [], \"description\": \"[labctl:board]\"},"
		 " {\"id\": \"old-old-old\", \"title\": \"gone\", \"description\": \"[labctl:gone]\"},"
		 " {\"id\": \"man-ual-one\", \"title\": \"T\", \"description\": \"by hand\"}]}");
	add_list(f, LC_DASH_MONITOR, "[{\"id\": 10, \"type\": \"query alert\", \"query\": \"q > 1\","
		 " \"tags\": [\"labctl:m\"], \"options\": {\"thresholds\": {\"critical\": 2.0}}},"
		 " {\"id\": 11, \"type\": \"query alert\", \"query\": \"z > 1\", \"tags\": []}]");
	add_list(f, LC_DASH_DOWNTIME, "[{\"id\": 20, \"scope\": [\"*\"], \"message\": \"[labctl:late]\"},"
		 " {\"id\": 21, \"scope\": [\"*\"], \"message\": \"copy\\n\\n[labctl:late]\"},"
		 " {\"id\": 22, \"scope\": [\"*\"], \"message\": \"[labctl:stale]\"},"
		 " {\"id\": 23, \"scope\": [\"*\"], \"message\": \"by hand\"}]");

	lc_dash_decide(&f->plan, &f->defs, &f->remotes, 0);
	assert_int_equal(f->plan.n, 6);
	s = &f->plan.steps[0];
	assert_int_equal(s->action, LC_DASH_NOOP);
	assert_string_equal(s->name, "board");
	assert_string_equal(s->remote->id, "a-b-c");
	s = &f->plan.steps[1];
	assert_int_equal(s->action, LC_DASH_UPDATE);
	assert_string_equal(s->remote->id, "10");
	assert_non_null(s->view);
	s = &f->plan.steps[2];
	assert_int_equal(s->action, LC_DASH_CONFLICT);
	assert_string_equal(s->name, "late");
	tu_assert_contains(s->why, "2 downtimes carry the marker labctl:late (ids 20, 21)");
	s = &f->plan.steps[3];
	assert_int_equal(s->action, LC_DASH_CREATE);
	assert_string_equal(s->name, "new");
	assert_null(s->remote);
	/* labctl's objects gone from the repo: downtimes first, dashboards last */
	s = &f->plan.steps[4];
	assert_int_equal(s->action, LC_DASH_KEEP);
	assert_string_equal(s->remote->id, "22");
	s = &f->plan.steps[5];
	assert_int_equal(s->action, LC_DASH_KEEP);
	assert_string_equal(s->remote->id, "old-old-old");
	lc_dash_plan_release(&f->plan);

	lc_dash_decide(&f->plan, &f->defs, &f->remotes, 1);
	assert_int_equal(f->plan.n, 6);
	assert_int_equal(f->plan.steps[4].action, LC_DASH_DELETE);
	assert_int_equal(f->plan.steps[5].action, LC_DASH_DELETE);
	/* objects without a marker (11, 23, man-ual-one) are never in the plan */
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_load_renders_and_marks, setup, teardown),
		cmocka_unit_test_setup_teardown(test_load_dashboard_and_downtime_markers, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_load_errors, setup, teardown),
		cmocka_unit_test_setup_teardown(test_load_dir_and_cross_check, setup, teardown),
		cmocka_unit_test(test_identity),
		cmocka_unit_test(test_same_ignores_what_labctl_does_not_set),
		cmocka_unit_test(test_same_lists_and_widgets),
		cmocka_unit_test(test_same_recurring_downtime_window),
		cmocka_unit_test(test_changes_json),
		cmocka_unit_test_setup_teardown(test_remotes_list, setup, teardown),
		cmocka_unit_test_setup_teardown(test_decide, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
