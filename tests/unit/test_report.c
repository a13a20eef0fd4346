/* test_report.c - what people and scripts read: secrets masked, the recap,
 * --json lines that a JSON parser accepts with the documented keys. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <signal.h>

#include "report.h"
#include "op.h"
#include "testutil.h"

/* ---- helpers ----------------------------------------------------------- */

struct fx {
	struct lc_report rep;
	char *text;            /* what was written */
	size_t len;
	FILE *out;
	char *dir;             /* a temp dir, when a test needs one */
};

static int setup(void **state)
{
	struct fx *f = lc_xcalloc(1, sizeof(*f));

	f->out = open_memstream(&f->text, &f->len);
	assert_non_null(f->out);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fx *f = *state;

	lc_report_release(&f->rep);
	if (f->out)
		fclose(f->out);
	free(f->text);
	tu_rmrf(f->dir);
	free(f);
	return 0;
}

/* Close the stream: f->text holds everything written. */
static const char *written(struct fx *f)
{
	fclose(f->out);
	f->out = NULL;
	return f->text;
}

static void add_secret(struct lc_report *r, const char *s)
{
	r->secrets = lc_xrealloc(r->secrets, (r->n_secrets + 1) * sizeof(*r->secrets));
	r->secrets[r->n_secrets++] = lc_xstrdup(s);
}

static void mask_case(const struct lc_report *r, const char *in, const char *want)
{
	char *got = lc_report_mask(r, in);

	assert_string_equal(got, want);
	free(got);
}

/* Feed text to python3 running check (a program that reads sys.stdin and
 * exits non-zero when unhappy); returns its exit status. */
static int python(const char *text, const char *check)
{
	char *cmd = lc_xasprintf("python3 -c '%s'", check);
	FILE *py = popen(cmd, "w");
	int st;

	assert_non_null(py);
	assert_int_equal(fwrite(text, 1, strlen(text), py), strlen(text));
	st = pclose(py);
	free(cmd);
	return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

/* Every line of the text is one JSON object. */
static const char json_lines[] =
	"import json,sys\n"
	"n = 0\n"
	"for line in sys.stdin.buffer:   # bytes: JSON text must be UTF-8\n"
	"    assert line.endswith(b\"\\n\")\n"
	"    assert isinstance(json.loads(line), dict)\n"
	"    n += 1\n"
	"sys.exit(0 if n else 2)\n";

/* ---- masking ------------------------------------------------------------ */

static void test_mask_from_inventory(void **state)
{
	struct fx *f = *state;
	struct lc_error err = LC_ERROR_INIT;
	struct lc_inventory inv;
	char *path;

	setenv("LC_REP_A", "hunter2", 1);
	setenv("LC_REP_B", "tok-XYZ", 1);
	setenv("LC_REP_EMPTY", "", 1);
	f->dir = tu_mkdtemp("report");
	path = tu_write(f->dir, "lab.yaml",
			"provider: local\n"
			"vars:\n"
			"  a: { from_env: LC_REP_A }\n"
			"  shown: { from_env: LC_REP_A, secret: false }\n"
			"  empty: { from_env: LC_REP_EMPTY }\n"
			"  public: visible\n"
			"hosts:\n"
			"  web:\n"
			"    address: 127.0.0.2\n"
			"    vars: { b: { from_env: LC_REP_B }, c: [ { from_env: LC_REP_B } ] }\n");
	if (lc_inventory_load(&inv, path, &err))
		fail_msg("%s", err.msg);
	lc_report_init(&f->rep, f->out, 0, 0, &inv);
	lc_inventory_release(&inv);
	/* the secrets are copies: they outlive the inventory */
	assert_int_equal(f->rep.n_secrets, 3);
	assert_string_equal(f->rep.secrets[0], "hunter2");
	assert_string_equal(f->rep.secrets[1], "tok-XYZ");
	assert_string_equal(f->rep.secrets[2], "tok-XYZ");

	mask_case(&f->rep, "hunter2 and hunter2, tok-XYZhunter2 visible",
		  "******** and ********, **************** visible");
	mask_case(&f->rep, "hunter", "hunter");
	mask_case(&f->rep, "", "");
	mask_case(&f->rep, NULL, "");
	mask_case(&f->rep, "nothing secret", "nothing secret");

	unsetenv("LC_REP_A");
	unsetenv("LC_REP_B");
	unsetenv("LC_REP_EMPTY");
	free(path);
}

/* Regression: a secret that contains another one is masked whole
 * ("password123" is not shown as "********word123" when "pass" is a secret
 * too): at each position the longest secret that matches is replaced. */
static void test_mask_secret_inside_secret(void **state)
{
	struct fx *f = *state;

	lc_report_init(&f->rep, f->out, 0, 0, NULL);
	add_secret(&f->rep, "pass");
	add_secret(&f->rep, "password123");
	mask_case(&f->rep, "x password123 y pass", "x ******** y ********");
}

/* Regression: a secret made of stars ("**") is masked once, not found
 * again inside "********" forever.  The test runs in a child with an
 * alarm, so that a hang is a failure, not a stuck test. */
static void test_mask_secret_made_of_stars(void **state)
{
	struct fx *f = *state;
	int status;
	pid_t pid;

	lc_report_init(&f->rep, f->out, 0, 0, NULL);
	add_secret(&f->rep, "**");
	fflush(NULL);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		char *got;
		int bad;

		alarm(3);
		got = lc_report_mask(&f->rep, "a**b");
		bad = strcmp(got, "a********b") != 0;
		free(got);
		_exit(bad);
	}
	assert_int_equal(waitpid(pid, &status, 0), pid);
	if (WIFSIGNALED(status))
		fail_msg("lc_report_mask did not return (signal %d)", WTERMSIG(status));
	assert_int_equal(WEXITSTATUS(status), 0);
}

/* ---- per-host lines ------------------------------------------------------- */

struct host_fixture {
	struct lc_host host;
	struct lc_op op[4];
	struct lc_res res[4];
	struct lc_host_run run;
};

static void host_fixture(struct host_fixture *h)
{
	memset(h, 0, sizeof(*h));
	h->host.name = "web";
	h->op[0].type = lc_op_type_find("template");
	h->op[1].type = lc_op_type_find("file");
	h->op[2].type = lc_op_type_find("command");
	h->op[3].type = lc_op_type_find("dir");
	h->res[0].type = &lc_res_file;
	h->res[0].path = "/etc/a.conf";
	h->res[0].status = LC_RES_CHANGED;
	h->res[1].type = &lc_res_file;
	h->res[1].path = "/etc/b.conf";
	h->res[1].status = LC_RES_OK;
	h->res[2].type = &lc_res_command;
	h->res[2].path = "register --token \"$TOKEN\"\nsecond line";
	h->res[2].status = LC_RES_FAILED;
	h->res[2].msg = "denied for hunter2 (\"pa\"ss\")";
	h->res[3].type = &lc_res_dir;
	h->res[3].path = "/var/lib/x";
	h->res[3].status = LC_RES_SKIPPED;
	for (size_t i = 0; i < 4; i++) {
		h->op[i].role = "app";
		h->res[i].op = &h->op[i];
	}
	h->run.plan.host = &h->host;
	h->run.plan.res = h->res;
	h->run.plan.n_res = 4;
	h->run.status = LC_HOST_DONE;
}

static void test_host_json(void **state)
{
	struct fx *f = *state;
	struct host_fixture h;

	host_fixture(&h);
	lc_report_init(&f->rep, f->out, 1, 0, NULL);
	add_secret(&f->rep, "hunter2");
	add_secret(&f->rep, "\"pa\"ss\"");
	lc_report_host(&f->rep, &h.run);
	h.run.status = LC_HOST_UNREACHABLE;
	lc_error_set(&h.run.err, LC_ECONNECT, "web: connect to hunter2:22: refused");
	h.res[0].status = h.res[2].status = LC_RES_PENDING;
	lc_report_host(&f->rep, &h.run);
	assert_string_equal(written(f),
		"{\"event\":\"op\",\"host\":\"web\",\"status\":\"changed\",\"op\":\"template\","
		"\"role\":\"app\",\"path\":\"/etc/a.conf\"}\n"
		"{\"event\":\"op\",\"host\":\"web\",\"status\":\"failed\",\"op\":\"command\","
		"\"role\":\"app\",\"path\":\"register --token \\\"$TOKEN\\\"\","
		"\"error\":\"denied for ******** (********)\"}\n"
		"{\"event\":\"host\",\"host\":\"web\",\"status\":\"unreachable\","
		"\"error\":\"web: connect to ********:22: refused\"}\n");
	assert_int_equal(python(f->text, json_lines), 0);
}

static void test_host_human(void **state)
{
	struct fx *f = *state;
	struct host_fixture h;

	host_fixture(&h);
	h.res[2].path = "a command whose first line is much longer than sixty characters, "
			"so it is cut";
	lc_report_init(&f->rep, f->out, 0, 1, NULL);   /* verbose: ok ops too */
	add_secret(&f->rep, "hunter2");
	lc_report_host(&f->rep, &h.run);
	h.run.status = LC_HOST_FAILED;
	lc_error_set(&h.run.err, LC_EREMOTE, "web: reading facts failed: hunter2");
	h.res[0].status = h.res[1].status = h.res[2].status = h.res[3].status = LC_RES_PENDING;
	lc_report_host(&f->rep, &h.run);
	assert_string_equal(written(f),
		"web                changed  template /etc/a.conf\n"
		"web                ok       file /etc/b.conf\n"
		"web                failed   command a command whose first line is much longer "
		"than sixty char...: denied for ******** (\"pa\"ss\")\n"
		"web                skipped  dir /var/lib/x\n"
		"web                failed   web: reading facts failed: ********\n");
}

/* Regression: a message that is not valid UTF-8 (a command's output tail
 * cut in the middle of a character, binary output) still makes a valid
 * --json line: invalid bytes become U+FFFD. */
static void test_host_json_invalid_utf8(void **state)
{
	struct fx *f = *state;
	struct host_fixture h;

	host_fixture(&h);
	h.res[2].msg = "price: 5 \xe2\x82";   /* a euro sign cut in two */
	lc_report_init(&f->rep, f->out, 1, 0, NULL);
	lc_report_host(&f->rep, &h.run);
	assert_int_equal(python(written(f), json_lines), 0);   /* fails */
}

/* ---- recap ---------------------------------------------------------------- */

static void recap_runs(struct lc_host_run runs[4], struct lc_host hosts[3])
{
	memset(runs, 0, 4 * sizeof(*runs));
	memset(hosts, 0, 3 * sizeof(*hosts));
	hosts[0].name = "demo_api";
	hosts[1].name = "web";
	hosts[2].name = "db";
	runs[0].plan.host = &hosts[0];
	runs[0].status = LC_HOST_DONE;
	runs[0].ok = 7;
	runs[0].changed = 1;
	runs[0].stats.connections = 1;
	runs[0].stats.exec_channels = 1;
	runs[0].stats.round_trips = 2;
	runs[0].stats.wire_round_trips = 11;
	runs[0].stats.sftp_files = 1;
	runs[0].seconds = 0.2;
	runs[1].plan.host = &hosts[1];
	runs[1].status = LC_HOST_UNREACHABLE;
	/* runs[2]: not selected */
	runs[3].plan.host = &hosts[2];
	runs[3].status = LC_HOST_FAILED;
	runs[3].ok = 3;
	runs[3].failed = 1;
	runs[3].stats.connections = 1;
	runs[3].stats.exec_channels = 1;
	runs[3].stats.round_trips = 1;
	runs[3].stats.wire_round_trips = 9;
	runs[3].seconds = 1.5;
}

static const char summary_keys[] =
	"import json,sys\n"
	"d = json.load(sys.stdin)\n"
	"assert set(d) == {\"event\", \"hosts\", \"seconds\"}, d\n"
	"assert d[\"event\"] == \"summary\"\n"
	"assert list(d[\"hosts\"]) == [\"demo_api\", \"web\", \"db\"]\n"
	"keys = {\"ok\", \"changed\", \"restarts\", \"failed\", \"unreachable\", \"connections\",\n"
	"        \"exec_channels\", \"round_trips\", \"wire_round_trips\", \"sftp_files\",\n"
	"        \"seconds\"}\n"
	"for h in d[\"hosts\"].values():\n"
	"    assert set(h) == keys, h\n"
	"    assert isinstance(h[\"unreachable\"], bool)\n"
	"assert d[\"hosts\"][\"web\"][\"unreachable\"] is True\n"
	"assert d[\"hosts\"][\"db\"][\"failed\"] == 2\n"
	"assert abs(d[\"seconds\"] - 0.21) < 1e-9\n";

static void test_recap_json(void **state)
{
	struct fx *f = *state;
	struct lc_host_run runs[4];
	struct lc_host hosts[3];

	recap_runs(runs, hosts);
	lc_report_init(&f->rep, f->out, 1, 0, NULL);
	lc_report_recap(&f->rep, runs, 4, 0.21);
	assert_string_equal(written(f),
		"{\"event\":\"summary\",\"hosts\":{"
		"\"demo_api\":{\"ok\":7,\"changed\":1,\"restarts\":0,\"failed\":0,\"unreachable\":false,"
		"\"connections\":1,\"exec_channels\":1,\"round_trips\":2,\"wire_round_trips\":11,\"sftp_files\":1,"
		"\"seconds\":0.2},"
		"\"web\":{\"ok\":0,\"changed\":0,\"restarts\":0,\"failed\":0,\"unreachable\":true,"
		"\"connections\":0,\"exec_channels\":0,\"round_trips\":0,\"wire_round_trips\":0,\"sftp_files\":0,"
		"\"seconds\":0.0},"
		"\"db\":{\"ok\":3,\"changed\":0,\"restarts\":0,\"failed\":2,\"unreachable\":false,"
		"\"connections\":1,\"exec_channels\":1,\"round_trips\":1,\"wire_round_trips\":9,\"sftp_files\":0,"
		"\"seconds\":1.5}},"
		"\"seconds\":0.21}\n");
	assert_int_equal(python(f->text, summary_keys), 0);
	assert_int_equal(python(f->text, json_lines), 0);
}

static void test_recap_json_no_hosts(void **state)
{
	struct fx *f = *state;

	lc_report_init(&f->rep, f->out, 1, 0, NULL);
	lc_report_recap(&f->rep, NULL, 0, 0.0);
	assert_string_equal(written(f), "{\"event\":\"summary\",\"hosts\":{},\"seconds\":0.0}\n");
	assert_int_equal(python(f->text, json_lines), 0);
}

static void test_recap_human(void **state)
{
	struct fx *f = *state;
	struct lc_host_run runs[4];
	struct lc_host hosts[3];

	recap_runs(runs, hosts);
	lc_report_init(&f->rep, f->out, 0, 0, NULL);
	lc_report_recap(&f->rep, runs, 4, 0.21);
	lc_report_recap(&f->rep, runs, 1, 2.0);
	assert_string_equal(written(f),
		"\nRECAP\n"
		"demo_api           ok=7    changed=1    restarts=0   failed=0    unreachable=0\n"
		"web                ok=0    changed=0    restarts=0   failed=0    unreachable=1\n"
		"db                 ok=3    changed=0    restarts=0   failed=2    unreachable=0\n"
		"3 hosts: 1 changed, 0 restarts, 2 failed, 1 unreachable in 0.21 s\n"
		"\nRECAP\n"
		"demo_api           ok=7    changed=1    restarts=0   failed=0    unreachable=0\n"
		"1 host: 1 changed, 0 restarts, 0 failed, 0 unreachable in 2.00 s\n");
}

static void test_note(void **state)
{
	struct fx *f = *state;
	FILE *human;
	char *text = NULL;
	size_t len = 0;

	lc_report_init(&f->rep, f->out, 1, 0, NULL);
	add_secret(&f->rep, "hunter2");
	lc_report_note(&f->rep, "start", "web", "starting %d hosts with \"%s\"", 5, "hunter2");
	lc_report_note(&f->rep, "start", NULL, "done");
	assert_string_equal(written(f),
		"{\"event\":\"start\",\"host\":\"web\",\"message\":"
		"\"starting 5 hosts with \\\"********\\\"\"}\n"
		"{\"event\":\"start\",\"message\":\"done\"}\n");
	assert_int_equal(python(f->text, json_lines), 0);

	human = open_memstream(&text, &len);
	f->rep.out = human;
	f->rep.json = 0;
	lc_report_note(&f->rep, "start", "web", "key %s", "hunter2");
	lc_report_note(&f->rep, "start", NULL, "all done");
	fclose(human);
	assert_string_equal(text, "web                key ********\nall done\n");
	free(text);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_mask_from_inventory, setup, teardown),
		cmocka_unit_test_setup_teardown(test_mask_secret_inside_secret, setup, teardown),
		cmocka_unit_test_setup_teardown(test_mask_secret_made_of_stars, setup, teardown),
		cmocka_unit_test_setup_teardown(test_host_json, setup, teardown),
		cmocka_unit_test_setup_teardown(test_host_human, setup, teardown),
		cmocka_unit_test_setup_teardown(test_host_json_invalid_utf8, setup, teardown),
		cmocka_unit_test_setup_teardown(test_recap_json, setup, teardown),
		cmocka_unit_test_setup_teardown(test_recap_json_no_hosts, setup, teardown),
		cmocka_unit_test_setup_teardown(test_recap_human, setup, teardown),
		cmocka_unit_test_setup_teardown(test_note, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
