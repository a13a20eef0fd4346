/* test_hostile.c - hostile input through the real loaders and planner:
 * values that a shell would expand reach what labctl writes literally,
 * role sources cannot escape their role, an inventory or role full of YAML
 * bombs fails within bounded time and memory, and what the fuzzers found
 * stays fixed.
 *
 * Heavy cases run in a forked child with an address-space limit and an
 * alarm, and report their peak RSS and time: a regression shows up as a
 * failed bound, not as a machine brought down. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <signal.h>
#include <pthread.h>
#include <sys/resource.h>
#include <sys/time.h>

#include "edit.h"
#include "plan.h"
#include "template.h"
#include "op.h"
#include "testutil.h"
#include "tu_plan.h"
#include "yamlx.h"

/* ---- helpers ----------------------------------------------------------- */

struct fx {
	char *dir;                  /* DIR/inventory/lab.yaml, DIR/roles/... */
	struct lc_inventory inv;
	struct lc_roles roles;
	struct lc_blobs blobs;
	struct lc_host_plan plan;
	int loaded, planned;
};

static int setup(void **state)
{
	struct fx *f = lc_xcalloc(1, sizeof(*f));

	f->dir = tu_mkdtemp("hostile");
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fx *f = *state;

	if (f->planned)
		lc_host_plan_release(&f->plan);
	lc_blobs_release(&f->blobs);
	if (f->loaded) {
		lc_roles_release(&f->roles);
		lc_inventory_release(&f->inv);
	}
	tu_rmrf(f->dir);
	free(f);
	return 0;
}

static int load_all(struct fx *f, struct lc_error *err)
{
	char *path = lc_xasprintf("%s/inventory/lab.yaml", f->dir);
	int rc = lc_inventory_load(&f->inv, path, err);

	free(path);
	if (rc)
		return rc;
	if ((rc = lc_roles_load(&f->roles, &f->inv, err))) {
		lc_inventory_release(&f->inv);
		return rc;
	}
	f->loaded = 1;
	return 0;
}

static struct lc_host_plan *plan_ok(struct fx *f, const char *host)
{
	struct lc_error err = LC_ERROR_INIT;
	const struct lc_host *h;

	if (load_all(f, &err))
		fail_msg("loading: %s", err.msg);
	h = lc_inventory_host(&f->inv, host);
	assert_non_null(h);
	if (tu_plan_host(&f->plan, &f->inv, &f->roles, &f->blobs, h, &err))
		fail_msg("planning %s: %s", host, err.msg);
	f->planned = 1;
	return &f->plan;
}

/* Loading must fail with code, and the message must contain want. */
static void load_fails(struct fx *f, int code, const char *want)
{
	struct lc_error err = LC_ERROR_INIT;
	int rc = load_all(f, &err);

	if (rc != code)
		fail_msg("loading returned %d (%s), expected %d with '%s'", rc,
			 rc ? err.msg : "no error", code, want);
	tu_assert_contains(err.msg, want);
}

static struct lc_res *find_res(struct lc_host_plan *p, const char *suffix)
{
	size_t i, sl = strlen(suffix);

	for (i = 0; i < p->n_res; i++) {
		const char *path = p->res[i].path;
		size_t pl = strlen(path);

		if (p->res[i].type != &lc_res_command && pl >= sl &&
		    !strcmp(path + pl - sl, suffix))
			return &p->res[i];
	}
	fail_msg("no resource ending with %s", suffix);
	return NULL;
}

/* A one-host inventory; host vars and tags as YAML text. */
static void put_inventory(struct fx *f, const char *extra_top, const char *host_tags,
			  const char *host_vars)
{
	char *inv = lc_xasprintf("provider: local\n%s"
				 "hosts:\n"
				 "  web:\n"
				 "    address: 127.0.0.2\n"
				 "    roles: [app]\n"
				 "    tags: %s\n"
				 "    vars:\n%s",
				 extra_top, host_tags, host_vars);

	tu_put(f->dir, "inventory/lab.yaml", inv);
	free(inv);
}

/* Values a shell would expand: each $(...) and `...` would create MARK in
 * the current directory. */
#define NASTY "it's \"q\" $(touch MARK1) `touch MARK2`; touch MARK3 & | > < * ? ~ \\ é 日本 -e"
#define NASTY_YAML "\"it's \\\"q\\\" $(touch MARK1) `touch MARK2`; touch MARK3 & | > < * ? ~ \\\\ é 日本 -e\""
#define NASTY_NL "first line\nsecond; $(touch MARK4)\n`touch MARK5`\n"
#define NASTY_NL_YAML "\"first line\\nsecond; $(touch MARK4)\\n`touch MARK5`\\n\""

static void assert_no_marks(const char *dir)
{
	int i;

	for (i = 1; i <= 5; i++) {
		char *p = lc_xasprintf("%s/MARK%d", dir, i);

		if (tu_exists(p))
			fail_msg("%s exists: a value was expanded by a shell", p);
		free(p);
	}
}

/* In a bounded child: a thread that ends the child (exit 137) once its RSS
 * passes the limit.  (RLIMIT_AS would do, but not under ASan, whose shadow
 * reservation alone exceeds any limit.) */
static long rss_limit_kb;

static void *rss_watchdog(void *arg)
{
	long page_kb = sysconf(_SC_PAGESIZE) / 1024;

	(void)arg;
	for (;;) {
		FILE *st = fopen("/proc/self/statm", "r");
		long size = 0, rss = 0;

		if (st) {
			if (fscanf(st, "%ld %ld", &size, &rss) != 2)
				rss = 0;
			fclose(st);
		}
		if (rss * page_kb > rss_limit_kb)
			_exit(137);
		usleep(5000);
	}
	return NULL;
}

/* Run fn(arg) in a child that may use up to limit_mb of RSS and secs
 * seconds; returns its exit status (137: over the memory limit, 128 +
 * SIGALRM: out of time) and fills its peak RSS (KiB) and elapsed time. */
static int bounded(void (*fn)(void *), void *arg, long limit_mb, int secs, long *rss_kb,
		   double *elapsed)
{
	struct timeval t0, t1;
	struct rusage ru;
	int status;
	pid_t pid;

	gettimeofday(&t0, NULL);
	fflush(NULL);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		pthread_t th;

		rss_limit_kb = limit_mb * 1024;
		if (pthread_create(&th, NULL, rss_watchdog, NULL))
			_exit(126);
		alarm((unsigned)secs);
		fn(arg);
		_exit(0);
	}
	assert_int_equal(wait4(pid, &status, 0, &ru), pid);
	gettimeofday(&t1, NULL);
	*rss_kb = ru.ru_maxrss;
	*elapsed = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_usec - t0.tv_usec) / 1e6;
	return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

/* ---- values reach what labctl writes literally ---------------------------- */

static void test_plan_keeps_hostile_values_literal(void **state)
{
	struct fx *f = *state;
	struct lc_host_plan *p;
	struct lc_res *r;
	char *vars = lc_xasprintf("      nasty: %s\n      nasty_nl: %s\n"
				  "      curly: \"{{ secret_thing }}\"\n"
				  "      secret_thing: { from_env: LC_HOSTILE_SECRET, default: s3cr3t }\n",
				  NASTY_YAML, NASTY_NL_YAML);

	put_inventory(f, "", "[\"tag \\\"q\\\" $(touch MARK1)\", \"two\\nlines\"]", vars);
	free(vars);
	tu_put(f->dir, "roles/app/templates/t.conf",
	       "v={{ nasty }}\nw={{ nasty_nl }}\nc={{ curly }}\ntags={{ tags }}\n");
	tu_put(f->dir, "roles/app/role.yaml",
	       "ops:\n"
	       "  - template: { src: t.conf, dest: \"/opt/x/{{ nasty }}\" }\n"
	       "  - edit:\n"
	       "      path: /opt/x/edited\n"
	       "      create: true\n"
	       "      edits: [ { line: \"v={{ nasty }}\", match: \"^v=\" } ]\n"
	       "  - command:\n"
	       "      run: 'printf %s \"$V\"'\n"
	       "      creates: \"/opt/x/done {{ nasty }}\"\n"
	       "      env: { V: \"{{ nasty }}\", W: \"{{ nasty_nl }}\" }\n");
	p = plan_ok(f, "web");

	/* The template: values as they are, a value holding "{{ }}" not
	 * rendered again (no secret through the back door), tags as a YAML
	 * flow list a YAML parser reads back to the same strings. */
	r = find_res(p, "/opt/x/" NASTY);
	assert_int_equal(r->has_content, 1);
	{
		static const char want[] = "v=" NASTY "\nw=" NASTY_NL "\nc={{ secret_thing }}\ntags=";
		struct lc_doc doc = LC_DOC_INIT;
		struct lc_error err = LC_ERROR_INIT;
		const struct lc_node *seq;
		const char *tags;

		if (r->len < sizeof(want) - 1 || memcmp(r->data, want, sizeof(want) - 1))
			fail_msg("rendered:\n%.*s\nwanted it to start with:\n%s", (int)r->len,
				 r->data, want);
		assert_null(memmem(r->data, r->len, "s3cr3t", 6));
		tags = r->data + sizeof(want) - 1;
		if (lc_yaml_load_buf(&doc, "tags", tags, strlen(tags), NULL, &err))
			fail_msg("the rendered tags are not YAML: %s: %s", err.msg, tags);
		seq = doc.root;
		assert_non_null(seq);
		assert_int_equal(seq->kind, LC_NODE_SEQ);
		assert_int_equal(seq->n_items, 2);
		assert_string_equal(seq->items[0]->str, "tag \"q\" $(touch MARK1)");
		assert_string_equal(seq->items[1]->str, "two\nlines");
		lc_doc_release(&doc);
	}
	/* The command: env values and creates as they are. */
	{
		size_t i;
		int seen = 0;

		for (i = 0; i < p->n_res; i++) {
			struct lc_res *c = &p->res[i];
			size_t j;

			if (c->type != &lc_res_command)
				continue;
			assert_string_equal(c->creates, "/opt/x/done " NASTY);
			for (j = 0; j < c->n_env; j++) {
				if (!strncmp(c->env[j], "V=", 2))
					assert_string_equal(c->env[j] + 2, NASTY), seen |= 1;
				if (!strncmp(c->env[j], "W=", 2))
					assert_string_equal(c->env[j] + 2, NASTY_NL), seen |= 2;
			}
		}
		assert_int_equal(seen, 3);
	}
}

/* The daemon backend's launcher and env file, run with /bin/sh: both
 * commands of a two-command `run` happen, and each env value arrives as
 * it is - quotes, $(), backticks, newlines. */
static void test_service_launcher_runs_whole_run_text(void **state)
{
	struct fx *f = *state;
	struct lc_host_plan *p;
	struct lc_res *env, *run;
	struct lc_buf script = LC_BUF_INIT, out = LC_BUF_INIT;
	char *vars = lc_xasprintf("      nasty: %s\n      nasty_nl: %s\n", NASTY_YAML,
				  NASTY_NL_YAML);
	char *envpath, *launcher, *got, *path1, *path2;
	const char *at;
	size_t len;

	put_inventory(f, "", "[]", vars);
	free(vars);
	tu_put(f->dir, "roles/app/role.yaml",
	       "ops:\n"
	       "  - service:\n"
	       "      name: hostile\n"
	       "      run: 'printf \"%s\" \"$V\" > out1; printf \"%s\" \"$W\" > out2'\n"
	       "      env: { V: \"{{ nasty }}\", W: \"{{ nasty_nl }}\" }\n");
	p = plan_ok(f, "web");
	env = find_res(p, "/hostile.env");
	run = find_res(p, "/hostile.run");
	envpath = tu_write_n(f->dir, "hostile.env", env->data, env->len);
	/* The launcher sources the env file from LC_SERVICES_DIR: here, ours. */
	at = strstr(run->data, LC_SERVICES_DIR "/hostile.env");
	assert_non_null(at);
	lc_buf_add(&script, run->data, (size_t)(at - run->data));
	lc_buf_adds(&script, envpath);
	lc_buf_adds(&script, at + strlen(LC_SERVICES_DIR "/hostile.env"));
	launcher = tu_write_n(f->dir, "hostile.run", script.buf, script.len);
	assert_int_equal(tu_sh_run(f->dir, script.buf, script.len, &out), 0);
	assert_no_marks(f->dir);

	path1 = lc_xasprintf("%s/out1", f->dir);
	path2 = lc_xasprintf("%s/out2", f->dir);
	got = tu_read(path1, &len);
	assert_non_null(got);
	assert_string_equal(got, NASTY);
	free(got);
	/* labctl writes "exec RUN": exec applies to the first command only,
	 * so the rest of a multi-command run never happens. */
	got = tu_read(path2, &len);
	if (!got)
		fail_msg("the second command of the service's run did not run: the "
			 "launcher is:\n%s", run->data);
	assert_string_equal(got, NASTY_NL);
	free(got);
	free(envpath);
	free(launcher);
	free(path1);
	free(path2);
	lc_buf_release(&script);
	lc_buf_release(&out);
}

/* The systemd backend's unit: in Environment=, "$" has no special meaning
 * (systemd.exec(5)), so it must not be doubled; % is a specifier and is. */
static void test_systemd_unit_env_literal(void **state)
{
	struct fx *f = *state;
	struct lc_host_plan *p;
	struct lc_res *unit;

	put_inventory(f, "", "[]", "      price: \"cost $5 or 100%\"\n");
	tu_put(f->dir, "roles/app/role.yaml",
	       "ops:\n"
	       "  - service:\n"
	       "      name: hostile\n"
	       "      run: /bin/sleep 1000\n"
	       "      env: { PRICE: \"{{ price }}\" }\n");
	p = plan_ok(f, "web");
	unit = find_res(p, "/hostile.service");
	if (!strstr(unit->data, "Environment=\"PRICE=cost $5 or 100%%\"\n"))
		fail_msg("Environment= does not carry the value literally (a '$' in "
			 "Environment= is not special, '$$' reaches the service as "
			 "two): %s", unit->data);
}

/* ---- role sources stay inside the role ------------------------------------ */

static void role_with_src(struct fx *f, const char *op)
{
	char *role = lc_xasprintf("ops:\n  - %s\n", op);

	put_inventory(f, "", "[]", "      x: y\n");
	tu_put(f->dir, "roles/app/role.yaml", role);
	free(role);
}

static void test_src_escapes_refused(void **state)
{
	struct fx *f = *state;
	struct {
		const char *op, *want;
	} cases[] = {
		{ "file: { src: ../../app/role.yaml, dest: /x }", "must be a relative path inside" },
		{ "file: { src: /etc/passwd, dest: /x }", "must be a relative path inside" },
		{ "file: { src: a/../../role.yaml, dest: /x }", "must be a relative path inside" },
		{ "file: { src: \"@apps/../inventory/lab.yaml\", dest: /x }", "must be a relative path inside" },
		{ "file: { src: \"@build/../inventory/lab.yaml\", dest: /x }", "must be a relative path inside" },
		{ "template: { src: ../role.yaml, dest: /x }", "must be a relative path inside" },
		{ "file: { src: link-file, dest: /x }", "outside the role's files directory" },
		{ "file: { src: link-dir/passwd, dest: /x }", "outside the role's files directory" },
		{ "file: { src: link-rel, dest: /x }", "outside the role's files directory" },
		{ "template: { src: link-tmpl, dest: /x }", "outside the role's" },
	};
	size_t i;
	char *p;

	tu_put(f->dir, "outside/secret", "secret\n");
	tu_put(f->dir, "roles/app/files/tree/ok.txt", "ok\n");
	tu_put(f->dir, "roles/app/templates/t", "t\n");
	p = lc_xasprintf("%s/roles/app/files/link-file", f->dir);
	assert_int_equal(symlink("/etc/passwd", p), 0);
	free(p);
	p = lc_xasprintf("%s/roles/app/files/link-dir", f->dir);
	assert_int_equal(symlink("/etc", p), 0);
	free(p);
	p = lc_xasprintf("%s/roles/app/files/link-rel", f->dir);
	assert_int_equal(symlink("../../../outside/secret", p), 0);
	free(p);
	p = lc_xasprintf("%s/roles/app/templates/link-tmpl", f->dir);
	assert_int_equal(symlink("/etc/passwd", p), 0);
	free(p);

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		role_with_src(f, cases[i].op);
		print_message("  %s\n", cases[i].op);
		load_fails(f, LC_EPARSE, cases[i].want);
	}
}

/* A tree holding a symlink out of the role: refused when loading or when
 * planning, never pushed. */
static void test_tree_symlink_refused(void **state)
{
	struct fx *f = *state;
	struct lc_error err = LC_ERROR_INIT;
	const char *targets[] = { "/etc/passwd", "/etc", "../../../../outside/secret" };
	size_t i;

	tu_put(f->dir, "outside/secret", "secret\n");
	for (i = 0; i < sizeof(targets) / sizeof(targets[0]); i++) {
		char *p = lc_xasprintf("%s/roles/app/files/tree%zu/sub/link", f->dir, i);
		char *op = lc_xasprintf("file: { src: tree%zu/, dest: /x }", i);
		int rc;

		char *okf = lc_xasprintf("roles/app/files/tree%zu/sub/ok.txt", i);

		tu_put(f->dir, okf, "ok\n");
		free(okf);
		assert_int_equal(symlink(targets[i], p), 0);
		role_with_src(f, op);
		lc_error_clear(&err);
		rc = load_all(f, &err);
		if (rc == 0) {
			const struct lc_host *h = lc_inventory_host(&f->inv, "web");

			rc = tu_plan_host(&f->plan, &f->inv, &f->roles, &f->blobs, h, &err);
			if (rc == 0) {
				size_t j;

				for (j = 0; j < f->plan.n_res; j++)
					print_message("    %s\n", f->plan.res[j].path);
				lc_host_plan_release(&f->plan);
			}
			lc_blobs_release(&f->blobs);
			memset(&f->blobs, 0, sizeof(f->blobs));
			lc_roles_release(&f->roles);
			lc_inventory_release(&f->inv);
			f->loaded = 0;
		}
		print_message("  tree with a link to %s: %s\n", targets[i], rc ? err.msg : "accepted");
		if (rc == 0)
			fail_msg("a tree holding a symlink to %s was accepted", targets[i]);
		tu_assert_contains(err.msg, "symbolic link");
		free(p);
		free(op);
	}
}

/* A FIFO (or device) in a role's files: labctl must not block reading it. */
static void load_fifo_role(void *arg)
{
	struct fx *f = arg;
	struct lc_error err = LC_ERROR_INIT;
	int rc = load_all(f, &err);

	if (rc == 0) {
		/* loaded: planning reads the file */
		const struct lc_host *h = lc_inventory_host(&f->inv, "web");
		struct lc_host_plan p;

		rc = tu_plan_host(&p, &f->inv, &f->roles, &f->blobs, h, &err);
		if (rc == 0)
			_exit(2);  /* a FIFO was accepted as a file */
	}
	_exit(strstr(err.msg, "fifo") || strstr(err.msg, "FIFO") || strstr(err.msg, "regular") ? 0 : 3);
}

static void test_src_fifo_does_not_block(void **state)
{
	struct fx *f = *state;
	char *p = lc_xasprintf("%s/roles/app/files/fifo", f->dir);
	long rss;
	double secs;
	int rc;

	tu_put(f->dir, "roles/app/files/keep", "x\n");
	assert_int_equal(mkfifo(p, 0644), 0);
	role_with_src(f, "file: { src: fifo, dest: /x }");
	rc = bounded(load_fifo_role, f, 512, 5, &rss, &secs);
	print_message("  a FIFO as src: exit %d in %.2f s\n", rc, secs);
	if (rc == 128 + SIGALRM)
		fail_msg("labctl blocks reading a FIFO in a role's files");
	assert_int_equal(rc, 0);
	free(p);
}

/* ---- the YAML loader under bombs: bounded time and memory ----------------- */

struct bomb {
	const char *name;
	char *data;
	size_t len;
	const char *want;
};

static void load_bomb(void *arg)
{
	struct bomb *b = arg;
	struct lc_doc doc = LC_DOC_INIT;
	struct lc_error err = LC_ERROR_INIT;
	int rc = lc_yaml_load_buf(&doc, "bomb.yaml", b->data, b->len, NULL, &err);

	if (rc == 0)
		_exit(2);
	_exit(strstr(err.msg, b->want) && !strncmp(err.msg, "bomb.yaml", 9) ? 0 : 3);
}

static char *repeat(const char *head, const char *unit, size_t n, const char *tail, size_t *len)
{
	struct lc_buf b = LC_BUF_INIT;
	size_t i;

	lc_buf_adds(&b, head);
	for (i = 0; i < n; i++)
		lc_buf_adds(&b, unit);
	lc_buf_adds(&b, tail);
	return lc_buf_detach(&b, len);
}

static void test_yaml_bombs_bounded(void **state)
{
	struct bomb bombs[8];
	size_t i, n = 0;
	struct lc_buf b = LC_BUF_INIT;

	(void)state;
	lc_buf_adds(&b, "a: &a [lol, lol, lol, lol, lol, lol, lol, lol, lol]\n");
	for (i = 1; i < 9; i++)
		lc_buf_addf(&b, "%c: &%c [*%c, *%c, *%c, *%c, *%c, *%c, *%c, *%c, *%c]\n",
			    (int)('a' + i), (int)('a' + i), (int)('a' + i - 1), (int)('a' + i - 1),
			    (int)('a' + i - 1), (int)('a' + i - 1), (int)('a' + i - 1),
			    (int)('a' + i - 1), (int)('a' + i - 1), (int)('a' + i - 1),
			    (int)('a' + i - 1));
	bombs[n].name = "billion laughs";
	bombs[n].data = lc_buf_detach(&b, &bombs[n].len);
	bombs[n++].want = "anchors";
	bombs[n].name = "100,000-deep flow sequences";
	{
		size_t l1, l2;
		char *open = repeat("k: ", "[", 100000, "", &l1);
		char *close = repeat("", "]", 100000, "\n", &l2);

		lc_buf_add(&b, open, l1);
		lc_buf_add(&b, close, l2);
		free(open);
		free(close);
		bombs[n].data = lc_buf_detach(&b, &bombs[n].len);
	}
	bombs[n++].want = "deeper than the limit";
	bombs[n].name = "100,000-deep block sequences";
	bombs[n].data = repeat("k:\n  ", "- ", 100000, "x\n", &bombs[n].len);
	bombs[n++].want = "deeper than the limit";
	bombs[n].name = "100,000-deep flow mappings";
	bombs[n].data = repeat("k: ", "{a: ", 100000, "x", &bombs[n].len);
	bombs[n++].want = "deeper than the limit";
	bombs[n].name = "a 50 MiB document";
	bombs[n].data = repeat("k: [", "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx,",
			       50 * 1024 * 1024 / 64, "]\n", &bombs[n].len);
	bombs[n++].want = "larger than the limit";
	bombs[n].name = "250,000 nodes";
	bombs[n].data = repeat("k: [", "1,", 250000, "1]\n", &bombs[n].len);
	bombs[n++].want = "too many YAML nodes";
	bombs[n].name = "invalid UTF-8";
	bombs[n].data = lc_xstrdup("k: \"\xed\xa0\x80\"\n");
	bombs[n].len = strlen(bombs[n].data);
	bombs[n++].want = "U+D800";
	bombs[n].name = "tab indentation";
	bombs[n].data = lc_xstrdup("k:\n\ta: 1\n");
	bombs[n].len = strlen(bombs[n].data);
	bombs[n++].want = "tab";

	for (i = 0; i < n; i++) {
		long rss;
		double secs;
		int rc = bounded(load_bomb, &bombs[i], 1024, 10, &rss, &secs);

		print_message("  %-30s exit %d, %.2f s, max RSS %ld MiB\n", bombs[i].name, rc,
			      secs, rss / 1024);
		if (rc)
			fail_msg("%s: the child exited %d (2: loaded, 3: wrong message, "
				 "%d: timed out)", bombs[i].name, rc, 128 + SIGALRM);
		/* the parent's own pages count too: generous, but far below
		 * what an expanded bomb would take */
		if (secs > 3.0)
			fail_msg("%s: %.2f s", bombs[i].name, secs);
		free(bombs[i].data);
	}
}

/* ---- edits: regexes that cost exponential memory -------------------------- */

struct ere {
	const char *re;
};

static void compile_ere(void *arg)
{
	struct ere *e = arg;
	struct lc_edit ed = LC_EDIT_INIT;
	struct lc_error err = LC_ERROR_INIT;
	int rc = lc_edit_init_absent(&ed, e->re, &err);

	lc_edit_release(&ed);
	_exit(rc ? 1 : 0);  /* refused or compiled: both fine, if bounded */
}

/* Found by fuzz_edit: glibc's regcomp takes memory exponential in stacked
 * quantifiers and nested bounded repeats (24 '+' about 3 GiB, 30 would be
 * hundreds).  A role's edit is compiled while loading every role, before
 * any host is touched: labctl must refuse such an ERE (POSIX leaves
 * stacked quantifiers undefined) or bound it, not take the machine's
 * memory. */
static void test_edit_regex_blowup(void **state)
{
	static struct ere cases[] = {
		{ "x++++++++++++++++++++++++++++++" },
		{ "/++++++++++++++++++++++++++++++++++++`" },
		{ "x{1000}{1000}{1000}" },
		{ "((x{255}){255}){255}" },
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		long rss;
		double secs;
		int rc = bounded(compile_ere, &cases[i], 512, 10, &rss, &secs);

		print_message("  absent: \"%s\": exit %d in %.2f s, max RSS %ld MiB\n",
			      cases[i].re, rc, secs, rss / 1024);
		if (rc > 1)
			fail_msg("compiling \"%s\" was stopped (%s): it must be refused or "
				 "bounded", cases[i].re, rc == 137 ? "over 512 MiB" :
				 rc == 128 + SIGALRM ? "over 10 s" : "crashed");
		if (rss > 256 * 1024 || secs > 2.0)
			fail_msg("compiling \"%s\" took %.2f s and %ld MiB: it must be refused "
				 "or bounded", cases[i].re, secs, rss / 1024);
	}
}

/* ---- templates: output that grows exponentially --------------------------- */

static const struct lc_node *tmpl_lookup(void *data, const char *name)
{
	return lc_node_get(data, name);
}

static void render_yaml_chain(void *arg)
{
	struct lc_node *vars = lc_node_new(LC_NODE_MAP, NULL, 0, 0);
	struct lc_buf src = LC_BUF_INIT, out = LC_BUF_INIT;
	struct lc_error err = LC_ERROR_INIT;
	int i, rc;

	(void)arg;
	lc_node_map_set(vars, lc_node_new_scalar("name", 4), lc_node_new_scalar("web1", 4));
	lc_buf_adds(&src, "{{ name");
	for (i = 0; i < 40; i++)
		lc_buf_adds(&src, " | yaml");
	lc_buf_adds(&src, " }}\n");
	rc = lc_template_render(&out, "t.conf", src.buf, src.len, tmpl_lookup, vars, NULL, &err);
	_exit(rc ? 1 : 0);  /* refused or rendered: both fine, if bounded */
}

/* Found by fuzz_template: each `| yaml` quotes and escapes the value
 * before, doubling it; forty of them in a 300-byte template would need
 * terabytes.  The renderer must refuse output beyond a bound (as files over
 * 4 MiB are refused) instead of exhausting memory. */
static void test_template_yaml_chain_bounded(void **state)
{
	long rss;
	double secs;
	int rc;

	(void)state;
	rc = bounded(render_yaml_chain, NULL, 512, 10, &rss, &secs);
	print_message("  {{ name | yaml x 40 }}: exit %d in %.2f s, max RSS %ld MiB\n", rc, secs,
		      rss / 1024);
	if (rc > 1)
		fail_msg("rendering forty '| yaml' filters was stopped (%s): the output "
			 "must be bounded", rc == 137 ? "over 512 MiB" :
			 rc == 128 + SIGALRM ? "over 10 s" : "crashed");
}

/* ---- regressions of what the fuzzers found -------------------------------- */

/* fuzz_yaml: an inventory setting roles_dir freed project_dir, then used it
 * and freed it again (fixed in 0bb9fb5; ASan/valgrind in CI see a return). */
static void test_inventory_roles_dir(void **state)
{
	struct fx *f = *state;
	struct lc_inventory inv;
	struct lc_error err = LC_ERROR_INIT;
	char *path;

	tu_put(f->dir, "inventory/lab.yaml",
	       "roles_dir: ../r\nproject_dir: ..\nstate_dir: ../s\n"
	       "hosts:\n  a: { address: 127.0.0.2, roles: [] }\n");
	path = lc_xasprintf("%s/inventory/lab.yaml", f->dir);
	if (lc_inventory_load(&inv, path, &err))
		fail_msg("%s", err.msg);
	assert_non_null(strstr(inv.roles_dir, "/r"));
	assert_non_null(inv.project_dir);
	assert_int_equal(inv.project_dir[0], '/');
	lc_inventory_release(&inv);
	/* roles_dir alone, and an empty roles_dir (the fuzzer's input) */
	tu_put(f->dir, "inventory/lab.yaml", "roles_dir: ../r\nhosts:\n  a: { address: 127.0.0.2 }\n");
	if (lc_inventory_load(&inv, path, &err) == 0)
		lc_inventory_release(&inv);
	tu_put(f->dir, "inventory/lab.yaml", "roles_dir:\nhosts:\n  a: { address: 127.0.0.2 }\n");
	if (lc_inventory_load(&inv, path, &err) == 0)
		lc_inventory_release(&inv);
	free(path);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_plan_keeps_hostile_values_literal, setup, teardown),
		cmocka_unit_test_setup_teardown(test_service_launcher_runs_whole_run_text, setup, teardown),
		cmocka_unit_test_setup_teardown(test_systemd_unit_env_literal, setup, teardown),
		cmocka_unit_test_setup_teardown(test_src_escapes_refused, setup, teardown),
		cmocka_unit_test_setup_teardown(test_tree_symlink_refused, setup, teardown),
		cmocka_unit_test_setup_teardown(test_src_fifo_does_not_block, setup, teardown),
		cmocka_unit_test(test_yaml_bombs_bounded),
		cmocka_unit_test(test_edit_regex_blowup),
		cmocka_unit_test(test_template_yaml_chain_bounded),
		cmocka_unit_test_setup_teardown(test_inventory_roles_dir, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
