/* test_script.c - the facts and apply batches, run for real with /bin/sh in
 * a temp dir, and what their parsers make of the output. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <grp.h>
#include <pwd.h>

#include "script.h"
#include "json.h"
#include "op.h"
#include "testutil.h"

/* ---- helpers ----------------------------------------------------------- */

struct fx {
	char *dir;
	struct lc_host_plan plan;
	struct lc_buf script, out;
};

static int setup(void **state)
{
	struct fx *f = lc_xcalloc(1, sizeof(*f));

	f->dir = tu_mkdtemp("script");
	lc_buf_init(&f->script);
	lc_buf_init(&f->out);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fx *f = *state;

	lc_host_plan_release(&f->plan);
	lc_buf_release(&f->script);
	lc_buf_release(&f->out);
	tu_rmrf(f->dir);
	free(f);
	return 0;
}

/* A resource as lc_plan_host would leave it; path is relative to f->dir
 * unless it starts with '/'.  The pointer is valid until the next add. */
static struct lc_res *add(struct fx *f, const struct lc_res_type *kind, const char *path)
{
	struct lc_host_plan *p = &f->plan;
	struct lc_res *r;

	p->res = lc_xrealloc(p->res, (p->n_res + 1) * sizeof(*p->res));
	r = &p->res[p->n_res++];
	memset(r, 0, sizeof(*r));
	r->type = kind;
	r->path = path[0] == '/' || kind == &lc_res_command ? lc_xstrdup(path) :
		  lc_xasprintf("%s/%s", f->dir, path);
	r->mode = -1;
	lc_buf_init(&r->own);
	lc_buf_init(&r->fact.content);
	return r;
}

static struct lc_res *add_cmd(struct fx *f, const char *run, const char *creates,
			      const char *unless)
{
	struct lc_res *r = add(f, &lc_res_command, run);

	r->run = run;
	r->unless = unless;
	if (creates)
		r->creates = creates[0] == '/' ? lc_xstrdup(creates) :
			     lc_xasprintf("%s/%s", f->dir, creates);
	return r;
}

static void add_env(struct lc_res *r, const char *kv)
{
	r->env = lc_xrealloc(r->env, (r->n_env + 1) * sizeof(*r->env));
	r->env[r->n_env++] = lc_xstrdup(kv);
}

/* Content to push: set it as the plan would, and upload it (as SFTP put
 * would, with the mode the engine gives it) to the temp path it picks. */
static void push(struct lc_res *r, const char *content, int mode)
{
	r->has_content = 1;
	lc_buf_adds(&r->own, content);
	r->data = r->own.buf;
	r->len = r->own.len;
	lc_sha256_hex(r->sha, r->data, r->len);
	r->mode = mode;
	r->status = LC_RES_CHANGED;
	r->need_content = 1;
	r->tmp_path = lc_script_tmp_path(r, 0, "t0");
	free(tu_write(NULL, r->tmp_path, content));
	assert_int_equal(chmod(r->tmp_path, lc_script_upload_mode(r)), 0);
}

/* The host's file as the facts batch reported it. */
static void fact_file(struct lc_res *r, const char *content, int mode)
{
	r->fact.known = 1;
	r->fact.exists = 1;
	r->fact.mode = mode;
	lc_sha256_hex(r->fact.sha, content, strlen(content));
}

static char *in_dir(struct fx *f, const char *rel)
{
	return lc_xasprintf("%s/%s", f->dir, rel);
}

static void assert_file(struct fx *f, const char *rel, const char *content, int mode)
{
	char *path = in_dir(f, rel);
	char *got = tu_read(path, NULL);

	if (!got)
		fail_msg("%s is missing", path);
	assert_string_equal(got, content);
	assert_int_equal(tu_mode(path), mode);
	free(got);
	free(path);
}

static void assert_absent(struct fx *f, const char *rel)
{
	char *path = in_dir(f, rel);

	if (tu_exists(path))
		fail_msg("%s exists", path);
	free(path);
}

/* The prelude of every batch, with labctl's own paths (state record,
 * lock, digest cache, ...) moved into the test's directory: a test never
 * writes this machine's /var/lib/labctl. */
static void prelude(struct fx *f)
{
	static const char *const vars[][2] = {
		{ "LC_STATE_DIR", "state" }, { "LC_STATE_FILE", "state/state.json" },
		{ "LC_LOCK_FILE", "state/lock" }, { "LC_RESTARTS_FILE", "state/restarts" },
		{ "LC_SUMS_FILE", "state/sums" }, { "LC_CLOCK_FILE", "state/clock" },
		{ "LC_STAGE_DIR", "state/stage" }, { "LC_TEMPS_FILE", "state/temps" },
		{ "LC_STATE_NEW", "state/.new" }, { "LC_SERVICES_DIR", "services" },
		{ "LC_AGENT_STATUS", "agent-status.json" },
	};
	size_t i;

	lc_script_prelude(&f->script);
	for (i = 0; i < sizeof(vars) / sizeof(vars[0]); i++)
		lc_buf_addf(&f->script, "%s='%s/%s'\n", vars[i][0], f->dir, vars[i][1]);
}

static int run_facts(struct fx *f, struct lc_error *err)
{
	lc_buf_reset(&f->script);
	prelude(f);
	lc_script_facts(&f->script, &f->plan);
	assert_int_equal(tu_sh_syntax(f->script.buf, f->script.len), 0);
	assert_int_equal(tu_sh_run(f->dir, f->script.buf, f->script.len, &f->out), 0);
	return lc_script_parse_facts(&f->plan, f->out.buf, f->out.len, err);
}

/* Run the apply batch; returns its exit status. */
static int run_apply(struct fx *f)
{
	lc_buf_reset(&f->script);
	prelude(f);
	lc_script_apply(&f->script, &f->plan, NULL);
	assert_int_equal(tu_sh_syntax(f->script.buf, f->script.len), 0);
	return tu_sh_run(f->dir, f->script.buf, f->script.len, &f->out);
}

static const char *user_name(void)
{
	struct passwd *pw = getpwuid(geteuid());

	assert_non_null(pw);
	return pw->pw_name;
}

static const char *group_name(void)
{
	struct group *gr = getgrgid(getegid());

	assert_non_null(gr);
	return gr->gr_name;
}

/* Names no shell may expand: quotes, substitutions, separators, newlines. */
static const char *const hostile[] = {
	"it's",
	"$(touch MARK)",
	"`touch MARK`",
	"a;touch MARK;b",
	"new\nline $(touch MARK)",
	"sp ace & touch MARK |",
	"back\\slash \"dq\" ${HOME} $HOME",
	"'$(touch MARK)'\"`touch MARK`\"",
};
#define N_HOSTILE (sizeof(hostile) / sizeof(hostile[0]))

/* ---- facts ---------------------------------------------------------------- */

static void test_facts_quote_every_path(void **state)
{
	struct fx *f = *state;
	struct lc_buf q = LC_BUF_INIT;
	size_t i;

	for (i = 0; i < N_HOSTILE; i++) {
		struct lc_res *r;

		add(f, &lc_res_dir, hostile[i]);
		add(f, &lc_res_file, hostile[i])->has_content = 1;
		add(f, &lc_res_file, hostile[i]);
		r = add_cmd(f, "true", hostile[i], hostile[i]);
		r->chdir = hostile[i];
		add_env(r, hostile[i]);
	}
	lc_script_facts(&f->script, &f->plan);
	assert_int_equal(tu_sh_syntax(f->script.buf, f->script.len), 0);
	for (i = 0; i < N_HOSTILE; i++) {
		char *path = in_dir(f, hostile[i]);

		lc_buf_reset(&q);
		lc_buf_add_shquote(&q, path);
		tu_assert_contains(f->script.buf, q.buf);
		lc_buf_reset(&q);
		lc_buf_add_shquote(&q, hostile[i]);
		tu_assert_contains(f->script.buf, q.buf);
		free(path);
	}
	/* one stat for every file and dir, every path quoted; the content of
	 * an edit-only file is read, of a file with content not */
	tu_assert_contains(f->script.buf, "|%n' -- '/");
	assert_null(strstr(f->script.buf, "|%n' -- /"));
	assert_null(strstr(f->script.buf, "> \"$LC_CLOCK_FILE\""));  /* not a converge: no write */
	{
		const char *s = f->script.buf;
		size_t n = 0;

		while ((s = strstr(s, "\nlc_content ")))
			n++, s++;
		assert_int_equal(n, N_HOSTILE);
	}
	lc_buf_release(&q);
}

static void test_facts_run(void **state)
{
	static const char bin[] = "a=1\nb=\xff\x00 binary\n";
	struct fx *f = *state;
	struct lc_error err = LC_ERROR_INIT;
	char sha[LC_SHA256_HEX];
	struct lc_res *r;
	char *p;
	size_t i;

	p = tu_write(f->dir, "f.txt", "hello\n");
	assert_int_equal(chmod(p, 0640), 0);
	free(p);
	p = in_dir(f, "sub");
	assert_int_equal(mkdir(p, 0750), 0);
	assert_int_equal(chmod(p, 0750), 0);
	free(p);
	free(tu_write_n(f->dir, "e.conf", bin, sizeof(bin) - 1));
	tu_put(f->dir, "empty", "");

	add(f, &lc_res_file, "f.txt")->has_content = 1;             /* 0 */
	add(f, &lc_res_dir, "sub");                                  /* 1 */
	add(f, &lc_res_file, "missing")->has_content = 1;           /* 2 */
	add(f, &lc_res_dir, "missing.d");                            /* 3 */
	add(f, &lc_res_file, "e.conf");                              /* 4: edit only */
	add(f, &lc_res_file, "empty");                               /* 5: edit only */
	add_cmd(f, "true", "f.txt", NULL);                          /* 6: created: 0 */
	add_cmd(f, "true", "nothere", NULL);                        /* 7: 1 */
	add_env(add_cmd(f, "true", NULL, "test \"$FOO\" = 'b a r'"), "FOO=b a r");  /* 8: 0 */
	add_cmd(f, "true", NULL, "exit 1");                         /* 9: 1 */
	add_cmd(f, "true", NULL, "test -f f.txt")->chdir = f->dir;  /* 10: 0 */
	add_cmd(f, "true", "nothere", "true");                      /* 11: 0 */
	add_cmd(f, "true", "nothere", "false");                     /* 12: 1 */
	add_cmd(f, "true", NULL, "cat");                            /* 13: stdin is empty: 0 */

	if (run_facts(f, &err))
		fail_msg("%s\n--- output:\n%s", err.msg, f->out.buf);

	for (i = 0; i < f->plan.n_res; i++)
		assert_int_equal(f->plan.res[i].fact.known, 1);

	r = &f->plan.res[0];
	lc_sha256_hex(sha, "hello\n", 6);
	assert_int_equal(r->fact.exists, 1);
	assert_int_equal(r->fact.mode, 0640);
	assert_string_equal(r->fact.owner, user_name());
	assert_string_equal(r->fact.group, group_name());
	assert_string_equal(r->fact.sha, sha);
	assert_int_equal(r->fact.content.len, 0);  /* not asked for */

	r = &f->plan.res[1];
	assert_int_equal(r->fact.exists, 1);
	assert_int_equal(r->fact.mode, 0750);
	assert_string_equal(r->fact.owner, user_name());
	assert_string_equal(r->fact.group, group_name());

	assert_int_equal(f->plan.res[2].fact.exists, 0);
	assert_int_equal(f->plan.res[3].fact.exists, 0);

	r = &f->plan.res[4];
	assert_int_equal(r->fact.exists, 1);
	assert_int_equal(r->fact.content.len, sizeof(bin) - 1);
	assert_memory_equal(r->fact.content.buf, bin, sizeof(bin) - 1);
	lc_sha256_hex(sha, bin, sizeof(bin) - 1);
	assert_string_equal(r->fact.sha, sha);

	r = &f->plan.res[5];
	assert_int_equal(r->fact.exists, 1);
	assert_int_equal(r->fact.content.len, 0);
	lc_sha256_hex(sha, "", 0);
	assert_string_equal(r->fact.sha, sha);

	assert_int_equal(f->plan.res[6].fact.guard_run, 0);
	assert_int_equal(f->plan.res[7].fact.guard_run, 1);
	assert_int_equal(f->plan.res[8].fact.guard_run, 0);
	assert_int_equal(f->plan.res[9].fact.guard_run, 1);
	assert_int_equal(f->plan.res[10].fact.guard_run, 0);
	assert_int_equal(f->plan.res[11].fact.guard_run, 0);
	assert_int_equal(f->plan.res[12].fact.guard_run, 1);
	assert_int_equal(f->plan.res[13].fact.guard_run, 0);
}

static void test_facts_wrong_type(void **state)
{
	struct fx *f = *state;
	struct lc_error err = LC_ERROR_INIT;
	char *p = in_dir(f, "sub"), *want;

	assert_int_equal(mkdir(p, 0755), 0);
	add(f, &lc_res_file, "sub")->has_content = 1;
	assert_int_equal(run_facts(f, &err), LC_EREMOTE);
	want = lc_xasprintf("%s exists on the host but is not a regular file", p);
	assert_string_equal(err.msg, want);
	free(want);
	free(p);
}

#define SHA_A "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"

static void parse_fails(struct fx *f, const char *out, const char *want)
{
	struct lc_error err = LC_ERROR_INIT;

	assert_int_equal(lc_script_parse_facts(&f->plan, out, strlen(out), &err), LC_EREMOTE);
	assert_int_equal(err.code, LC_EREMOTE);
	assert_string_equal(err.msg, want);
}

static void test_parse_facts_errors(void **state)
{
	struct fx *f = *state;
	struct lc_error err = LC_ERROR_INIT;

	add(f, &lc_res_dir, "/d");
	add(f, &lc_res_file, "/f");
	parse_fails(f, "X|/d\n", "/d exists on the host but is not a directory");
	parse_fails(f, "D|755|a|b|/f\n", "/f exists on the host but is not a regular file");
	parse_fails(f, "F|644|a|b|3|" SHA_A "|1:2:3:4.0:5.0|1|/d\n",
		    "/d exists on the host but is not a directory");
	parse_fails(f, "E|/f\n", "/f cannot be read on the host");
	parse_fails(f, "2 -\n", "unexpected output from the host: '2'");
	parse_fails(f, "x -\n", "unexpected output from the host: 'x'");
	parse_fails(f, "0\n", "unexpected output from the host: '0'");
	parse_fails(f, "0 Q\n", "unexpected output from the host: 'Q'");
	parse_fails(f, "D|7777x|root|root|/d\n", "unexpected facts for /d");
	parse_fails(f, "D|755|root|/d\n", "unexpected output from the host: 'D|755|root|/d'");
	parse_fails(f, "D|755|a|b|/elsewhere\n",
		    "unexpected output from the host: 'D|755|a|b|/elsewhere'");
	parse_fails(f, "F|644|root|root|3|abc|1:2:3:4.0:5.0|1|/f\n", "bad digest for /f");
	parse_fails(f, "N|soon\n", "unexpected output from the host: 'N|soon'");
	parse_fails(f, "1 C !!!\n", "bad content for /f");
	/* empty lines are ignored; a missing last newline is fine; a path may
	 * hold '|' */
	{
		static const char ok[] = "\nN|1700000000\nD|755|a|b|/d\n\n1 -";

		assert_int_equal(lc_script_parse_facts(&f->plan, ok, strlen(ok), &err), 0);
	}
	assert_int_equal(f->plan.host_now, 1700000000);
	assert_int_equal(f->plan.res[0].fact.exists, 1);
	assert_int_equal(f->plan.res[0].fact.mode, 0755);
	assert_string_equal(f->plan.res[0].fact.owner, "a");
	assert_string_equal(f->plan.res[0].fact.group, "b");
	assert_int_equal(f->plan.res[1].fact.known, 1);
	assert_int_equal(f->plan.res[1].fact.exists, 0);
	add(f, &lc_res_file, "/a|b");
	{
		static const char ok[] = "F|600|a|b|9|" SHA_A "|1:2:9:4.5:6.7|c|/a|b\n";

		assert_int_equal(lc_script_parse_facts(&f->plan, ok, strlen(ok), &err), 0);
	}
	assert_string_equal(f->plan.res[2].fact.sha, SHA_A);
	assert_string_equal(f->plan.res[2].fact.sig, "1:2:9:4.5:6.7");
	assert_int_equal(f->plan.res[2].fact.sum_ok, 1);
	assert_int_equal(f->plan.res[2].fact.size, 9);
}

/* Regression: a facts line of spaces is "unexpected output from the host"
 * naming the line, not a read of an uninitialised word. */
static void test_parse_facts_blank_line(void **state)
{
	struct fx *f = *state;

	struct lc_error err = LC_ERROR_INIT;

	add(f, &lc_res_dir, "/d");
	assert_int_equal(lc_script_parse_facts(&f->plan, "   \n", 4, &err), LC_EREMOTE);
	tu_assert_contains(err.msg, "unexpected output from the host");
}

/* ---- apply ---------------------------------------------------------------- */

static void test_apply_run(void **state)
{
	struct fx *f = *state;
	struct lc_error err = LC_ERROR_INIT;
	struct lc_res *r;
	char *p;
	size_t i;

	tu_put(f->dir, "f.txt", "old\n");
	p = tu_write(f->dir, "meta.txt", "m\n");
	chmod(p, 0644);
	free(p);
	p = tu_write(f->dir, "ok.txt", "ok\n");
	chmod(p, 0644);
	free(p);

	r = add(f, &lc_res_dir, "newdir/deep");                      /* 0 */
	r->mode = 0750;
	r->status = LC_RES_CHANGED;
	r->need_meta = 1;
	r = add(f, &lc_res_file, "f.txt");                           /* 1: replaced */
	fact_file(r, "old\n", 0644);
	push(r, "new\n", 0600);
	r = add(f, &lc_res_file, "newdir/created.txt");              /* 2: new */
	push(r, "created\n", 0640);
	r = add(f, &lc_res_file, "meta.txt");                        /* 3: mode only */
	fact_file(r, "m\n", 0644);
	r->has_content = 1;
	r->mode = 0600;
	r->status = LC_RES_CHANGED;
	r->need_meta = 1;
	r = add(f, &lc_res_file, "ok.txt");                          /* 4: ok: untouched */
	r->mode = 0600;
	r->status = LC_RES_OK;
	r = add_cmd(f, "echo ran > cmd.out; echo \"hello $X\"", "cmd.out", NULL);  /* 5 */
	r->chdir = f->dir;
	add_env(r, "X=w o r l d");
	r->status = LC_RES_CHANGED;
	r = add_cmd(f, "touch notrun", "newdir", NULL);            /* 6: satisfied by 0 */
	r->chdir = f->dir;
	r->status = LC_RES_CHANGED;
	r = add_cmd(f, "touch notrun2", NULL, "test -d newdir");    /* 7: likewise */
	r->chdir = f->dir;
	r->status = LC_RES_CHANGED;
	r = add_cmd(f, "echo boom; echo more >&2; exit 3", "never", NULL);  /* 8: fails */
	r->status = LC_RES_CHANGED;
	r = add(f, &lc_res_dir, "after");                            /* 9: skipped */
	r->mode = 0755;
	r->status = LC_RES_CHANGED;
	r = add(f, &lc_res_file, "later.txt");                       /* 10: skipped */
	push(r, "later\n", 0644);

	assert_int_equal(run_apply(f), 1);
	assert_int_equal(lc_script_parse_apply(&f->plan, f->out.buf, f->out.len, &err), 1);

	/* what the batch did */
	p = in_dir(f, "newdir/deep");
	assert_int_equal(tu_mode(p), 0750);
	free(p);
	assert_file(f, "f.txt", "new\n", 0600);
	assert_file(f, "newdir/created.txt", "created\n", 0640);
	assert_file(f, "meta.txt", "m\n", 0600);
	assert_file(f, "ok.txt", "ok\n", 0644);
	assert_file(f, "cmd.out", "ran\n", 0644);
	assert_absent(f, "notrun");
	assert_absent(f, "notrun2");
	assert_absent(f, "after");
	assert_absent(f, "later.txt");
	/* no temp file is left, whether its op ran or not */
	for (i = 0; i < f->plan.n_res; i++)
		if (f->plan.res[i].tmp_path && tu_exists(f->plan.res[i].tmp_path))
			fail_msg("%s is left behind", f->plan.res[i].tmp_path);

	/* what the parser made of it */
	assert_int_equal(f->plan.res[0].status, LC_RES_CHANGED);
	assert_int_equal(f->plan.res[1].status, LC_RES_CHANGED);
	assert_int_equal(f->plan.res[2].status, LC_RES_CHANGED);
	assert_int_equal(f->plan.res[3].status, LC_RES_CHANGED);
	assert_int_equal(f->plan.res[4].status, LC_RES_OK);
	assert_int_equal(f->plan.res[5].status, LC_RES_CHANGED);
	assert_string_equal(f->plan.res[5].msg, "hello w o r l d");
	assert_int_equal(f->plan.res[6].status, LC_RES_OK);
	assert_null(f->plan.res[6].msg);
	assert_int_equal(f->plan.res[7].status, LC_RES_OK);
	assert_null(f->plan.res[7].msg);
	assert_int_equal(f->plan.res[8].status, LC_RES_FAILED);
	assert_string_equal(f->plan.res[8].msg, "boom\nmore");
	assert_int_equal(f->plan.res[9].status, LC_RES_SKIPPED);
	assert_int_equal(f->plan.res[10].status, LC_RES_SKIPPED);
	assert_null(f->plan.res[0].msg);
}

/* A new file with no owner to set is pushed with its final mode and only
 * renamed; one with an owner, or replacing a file, is pushed 0600 and gets
 * its mode and owner in the apply batch. */
static void test_push_modes(void **state)
{
	struct fx *f = *state;
	struct lc_error err = LC_ERROR_INIT;
	struct lc_res *plain, *owned, *replaced;
	char *p;

	tu_put(f->dir, "old.txt", "old\n");
	add(f, &lc_res_file, "plain.txt");
	add(f, &lc_res_file, "owned.txt");
	add(f, &lc_res_file, "old.txt");
	plain = &f->plan.res[0];   /* (add() moves the array: pointers after it) */
	owned = &f->plan.res[1];
	replaced = &f->plan.res[2];
	push(plain, "plain\n", 0644);
	owned->owner = lc_xstrdup(user_name());
	owned->group = lc_xstrdup(group_name());
	push(owned, "owned\n", 0600);
	fact_file(replaced, "old\n", 0600);
	push(replaced, "new\n", 0644);
	assert_int_equal(lc_script_upload_mode(plain), 0644);
	assert_int_equal(lc_script_upload_mode(owned), 0600);
	assert_int_equal(lc_script_upload_mode(replaced), 0600);

	/* the file replaced keeps its owner and group (as root: a foreign one) */
	p = in_dir(f, "old.txt");
	if (geteuid() == 0)
		assert_int_equal(chown(p, 1234, 2345), 0);
	assert_int_equal(run_apply(f), 0);
	{
		struct stat st;

		assert_int_equal(stat(p, &st), 0);
		assert_int_equal(st.st_uid, geteuid() == 0 ? 1234 : geteuid());
		assert_int_equal(st.st_gid, geteuid() == 0 ? 2345 : getegid());
	}
	free(p);
	assert_int_equal(lc_script_parse_apply(&f->plan, f->out.buf, f->out.len, &err), 0);
	assert_file(f, "plain.txt", "plain\n", 0644);
	assert_file(f, "owned.txt", "owned\n", 0600);
	assert_file(f, "old.txt", "new\n", 0644);
}

/* package: apt-get update only when the lists are missing or stale,
 * non-interactive, waiting for the dpkg lock (a fake apt-get logs). */
static void test_apt(void **state)
{
	struct fx *f = *state;
	char *log, *got;
	int i;

	tu_put(f->dir, "bin/apt-get", "#!/bin/sh\necho \"$DEBIAN_FRONTEND $*\" >> \"$APT_LOG\"\n");
	log = in_dir(f, "bin/apt-get");
	assert_int_equal(chmod(log, 0755), 0);
	free(log);
	log = in_dir(f, "apt.log");
	for (i = 0; i < 5; i++) {
		lc_buf_reset(&f->script);
		prelude(f);
		lc_buf_addf(&f->script, "PATH=\"%s/bin:$PATH\" LC_APT_LISTS=\"%s/lists\" APT_LOG=\"%s\"\n"
			    "LC_APT_SOURCES=\"%s/apt\"\n"
			    "export APT_LOG\n", f->dir, f->dir, log, f->dir);
		if (i == 1)  /* fresh lists */
			lc_buf_adds(&f->script, "mkdir -p \"$LC_APT_LISTS\" && "
				    ": > \"$LC_APT_LISTS/deb.debian.org_dists_bookworm_main_binary-amd64_Packages\"\n");
		if (i == 2)  /* two hours old */
			lc_buf_adds(&f->script, "touch -d '2 hours ago' "
				    "\"$LC_APT_LISTS/deb.debian.org_dists_bookworm_main_binary-amd64_Packages\"\n");
		if (i == 3)  /* fresh again, an old source */
			lc_buf_adds(&f->script, "mkdir -p \"$LC_APT_SOURCES/sources.list.d\" && "
				    "touch -d '1 hour ago' \"$LC_APT_SOURCES/sources.list.d/debian.list\" && "
				    "touch \"$LC_APT_LISTS/deb.debian.org_dists_bookworm_main_binary-amd64_Packages\"\n");
		if (i == 4)  /* a repository added after the lists were fetched */
			lc_buf_adds(&f->script, "touch -d '1 minute ago' "
				    "\"$LC_APT_LISTS/deb.debian.org_dists_bookworm_main_binary-amd64_Packages\" && "
				    ": > \"$LC_APT_SOURCES/sources.list.d/datadog.list\"\n");
		lc_buf_adds(&f->script, "lc_apt 3600 'curl jq'\n");
		assert_int_equal(tu_sh_run(f->dir, f->script.buf, f->script.len, &f->out), 0);
	}
	got = tu_read(log, NULL);
#define INSTALL "noninteractive install -y -q -o DPkg::Lock::Timeout=120 --no-install-recommends " \
	"--allow-downgrades -- curl jq\n"
#define UPDATE "noninteractive -q -o DPkg::Lock::Timeout=120 update\n"
	/* no lists; fresh; stale; fresh, older source; a newer source */
	assert_string_equal(got, UPDATE INSTALL INSTALL UPDATE INSTALL INSTALL UPDATE INSTALL);
#undef INSTALL
#undef UPDATE
	free(got);
	free(log);
}

/* package facts: NAME is there at any version, NAME=VERSION at that one
 * (a fake dpkg-query answers). */
static void test_pkgs_versions(void **state)
{
	struct fx *f = *state;
	char *q;

	tu_put(f->dir, "bin/dpkg-query",
	       "#!/bin/sh\n"
	       "printf 'curl install ok installed 7.88.1-10\\njq install ok installed 1.6-2.1\\n"
	       "old deinstall ok config-files 1.0\\n'\n");
	q = in_dir(f, "bin/dpkg-query");
	assert_int_equal(chmod(q, 0755), 0);
	free(q);
	lc_buf_reset(&f->script);
	prelude(f);
	lc_buf_addf(&f->script, "PATH=\"%s/bin:$PATH\"\n", f->dir);
	lc_buf_adds(&f->script, "lc_pkgs 3 'curl jq=1.6-2.1 datadog-agent=1:7.52.1-1 curl=8.0 old jq'\n");
	assert_int_equal(tu_sh_run(f->dir, f->script.buf, f->script.len, &f->out), 0);
	assert_string_equal(f->out.buf, "3 K datadog-agent=1:7.52.1-1 curl=8.0 old\n");
}

static void test_apply_all_ok(void **state)
{
	struct fx *f = *state;
	struct lc_error err = LC_ERROR_INIT;
	struct lc_res *r;

	r = add(f, &lc_res_dir, "d");
	r->mode = 0700;
	r->status = LC_RES_CHANGED;
	assert_int_equal(run_apply(f), 0);
	assert_int_equal(lc_script_parse_apply(&f->plan, f->out.buf, f->out.len, &err), 0);
	assert_int_equal(f->plan.res[0].status, LC_RES_CHANGED);
	assert_string_equal(f->out.buf, "0 R 0 \n");
}

/* A file whose new content was computed from the host's (an edit) and
 * that changed on the host after the facts were read is not overwritten,
 * and the upload is removed. */
static void test_apply_refuses_changed_file(void **state)
{
	struct fx *f = *state;
	struct lc_error err = LC_ERROR_INIT;
	struct lc_res *r;

	tu_put(f->dir, "f.txt", "changed meanwhile\n");
	tu_put(f->dir, "appeared.txt", "someone else's\n");
	r = add(f, &lc_res_file, "f.txt");
	fact_file(r, "as read\n", 0644);
	push(r, "new\n", 0644);
	r->from_host = 1;
	r = add(f, &lc_res_file, "appeared.txt");   /* was missing when read */
	push(r, "new\n", 0644);
	r->from_host = 1;

	assert_int_equal(run_apply(f), 1);
	assert_int_equal(lc_script_parse_apply(&f->plan, f->out.buf, f->out.len, &err), 1);
	assert_int_equal(f->plan.res[0].status, LC_RES_FAILED);
	assert_string_equal(f->plan.res[0].msg,
			    "changed on the host since it was read; not overwritten");
	assert_int_equal(f->plan.res[1].status, LC_RES_SKIPPED);
	assert_file(f, "f.txt", "changed meanwhile\n", 0644);
	assert_file(f, "appeared.txt", "someone else's\n", 0644);
	assert_false(tu_exists(f->plan.res[0].tmp_path));
	assert_false(tu_exists(f->plan.res[1].tmp_path));

	/* and alone, the appeared file is refused the same way */
	f->plan.res[0].status = LC_RES_OK;
	f->plan.res[1].status = LC_RES_CHANGED;
	free(tu_write(NULL, f->plan.res[1].tmp_path, "new\n"));
	assert_int_equal(run_apply(f), 1);
	assert_int_equal(lc_script_parse_apply(&f->plan, f->out.buf, f->out.len, &err), 1);
	assert_int_equal(f->plan.res[1].status, LC_RES_FAILED);
	assert_file(f, "appeared.txt", "someone else's\n", 0644);
	assert_false(tu_exists(f->plan.res[1].tmp_path));
}

static void test_tmp_path(void **state)
{
	struct lc_res r;
	char *p;

	(void)state;
	memset(&r, 0, sizeof(r));
	r.path = "/etc/app/x.conf";
	p = lc_script_tmp_path(&r, 3, "abc");
	assert_string_equal(p, "/etc/app/.labctl.x.conf.abc");
	free(p);
	r.path = "/x";
	p = lc_script_tmp_path(&r, 3, "n");
	assert_string_equal(p, "/.labctl.x.n");
	free(p);
	/* its directory does not exist yet: staged in labctl's own */
	r.path = "/new/dir/x.conf";
	r.fact.no_parent = 1;
	p = lc_script_tmp_path(&r, 7, "n");
	assert_string_equal(p, LC_STAGE_DIR "/n.7");
	free(p);
}

/* ---- hostile values ------------------------------------------------------- */

static void test_hostile_values_stay_literal(void **state)
{
	struct fx *f = *state;
	struct lc_error err = LC_ERROR_INIT;
	struct lc_buf name = LC_BUF_INIT;
	struct lc_res *r;
	size_t i;

	/* facts and apply for a dir, a pushed file, an edit-only file and a
	 * command with each hostile value as name, guard, env value and dir
	 * (a path on the host has no newline: the plan refuses one, so the
	 * resources' names have a space instead; the command's dir keeps it) */
	for (i = 0; i < N_HOSTILE; i++) {
		char *d;

		lc_buf_reset(&name);
		lc_buf_addf(&name, "d%zu %s", i, hostile[i]);
		d = in_dir(f, name.buf);
		assert_int_equal(mkdir(d, 0755), 0);
		free(d);
		if (strchr(name.buf, '\n')) {
			*strchr(name.buf, '\n') = ' ';
			d = in_dir(f, name.buf);
			assert_int_equal(mkdir(d, 0755), 0);
			free(d);
		}
	}
	assert_int_equal(run_facts(f, &err), 0);  /* nothing planned yet */
	for (i = 0; i < N_HOSTILE; i++) {
		lc_buf_reset(&name);
		lc_buf_addf(&name, "d%zu %s", i, hostile[i]);
		while (strchr(name.buf, '\n'))
			*strchr(name.buf, '\n') = ' ';
		r = add(f, &lc_res_dir, name.buf);                      /* 4i + 0 */
		r->mode = 0700;
		lc_buf_addf(&name, "/f %s", hostile[i]);
		add(f, &lc_res_file, name.buf)->has_content = 1;       /* 4i + 1 */
		lc_buf_adds(&name, ".edit");
		add(f, &lc_res_file, name.buf);                         /* 4i + 2 */
		/* run and unless are the role author's shell text, by design */
		r = add_cmd(f, "printf '%s' \"$V\" > out", hostile[i], "false");  /* 4i + 3 */
		lc_buf_reset(&name);
		lc_buf_addf(&name, "V=%s", hostile[i]);
		add_env(r, name.buf);
		lc_buf_reset(&name);
		lc_buf_addf(&name, "%s/d%zu %s", f->dir, i, hostile[i]);
		r->chdir = lc_xstrdup(name.buf);   /* freed below */
	}
	assert_int_equal(run_facts(f, &err), 0);
	for (i = 0; i < f->plan.n_res; i++) {
		r = &f->plan.res[i];
		assert_int_equal(r->fact.known, 1);
		switch (i % 4) {
		case 0: assert_int_equal(r->fact.exists, 1); break;
		case 1: case 2: assert_int_equal(r->fact.exists, 0); break;
		case 3: assert_int_equal(r->fact.guard_run, 1); break;
		}
	}
	/* apply: create the dirs (with a chmod), push files, run commands */
	for (i = 0; i < f->plan.n_res; i++) {
		r = &f->plan.res[i];
		switch (i % 4) {
		case 0: r->status = LC_RES_CHANGED; r->need_meta = 1; break;
		case 1: push(r, "pushed\n", 0640); break;
		case 2: break;
		case 3: r->status = LC_RES_CHANGED; break;
		}
	}
	assert_int_equal(run_apply(f), 0);
	assert_int_equal(lc_script_parse_apply(&f->plan, f->out.buf, f->out.len, &err), 0);
	for (i = 0; i < f->plan.n_res; i++) {
		char *got, *out;

		r = &f->plan.res[i];
		switch (i % 4) {
		case 0:
			assert_int_equal(r->status, LC_RES_CHANGED);
			assert_int_equal(tu_mode(r->path), 0700);
			break;
		case 1:
			assert_int_equal(r->status, LC_RES_CHANGED);
			got = tu_read(r->path, NULL);
			assert_non_null(got);
			assert_string_equal(got, "pushed\n");
			free(got);
			break;
		case 3:
			assert_int_equal(r->status, LC_RES_CHANGED);
			out = lc_xasprintf("%s/out", r->chdir);
			got = tu_read(out, NULL);
			assert_non_null(got);
			assert_string_equal(got, hostile[i / 4]);
			free(got);
			free(out);
			free((char *)r->chdir);
			r->chdir = NULL;
			break;
		}
	}
	lc_buf_release(&name);
	/* nothing was expanded anywhere: no MARK in the dir or in / */
	assert_absent(f, "MARK");
	for (i = 0; i < N_HOSTILE; i++) {
		char *m = lc_xasprintf("%s/d%zu %s/MARK", f->dir, i, hostile[i]);

		assert_false(tu_exists(m));
		free(m);
	}
	assert_false(tu_exists("/MARK"));
}

/* owner and group go through the shell too */
static void test_hostile_owner(void **state)
{
	struct fx *f = *state;
	struct lc_error err = LC_ERROR_INIT;
	struct lc_res *r;

	r = add(f, &lc_res_dir, "d");
	r->mode = 0755;
	r->owner = lc_xstrdup("root$(touch MARK)");
	r->group = lc_xstrdup("`touch MARK`");
	r->status = LC_RES_CHANGED;
	assert_int_equal(run_apply(f), 1);
	assert_int_equal(lc_script_parse_apply(&f->plan, f->out.buf, f->out.len, &err), 1);
	assert_int_equal(f->plan.res[0].status, LC_RES_FAILED);
	tu_assert_contains(f->plan.res[0].msg, "invalid user");
	assert_absent(f, "MARK");
	/* the owner and group that exist are applied */
	free(r->owner);
	free(r->group);
	r->owner = lc_xstrdup(user_name());
	r->group = lc_xstrdup(group_name());
	r->status = LC_RES_CHANGED;
	assert_int_equal(run_apply(f), 0);
	assert_int_equal(lc_script_parse_apply(&f->plan, f->out.buf, f->out.len, &err), 0);
	assert_int_equal(f->plan.res[0].status, LC_RES_CHANGED);
}

/* The state record: written by the apply batch when every op succeeded;
 * when one failed, by lc_script_state afterwards, with what did happen: a
 * file written before the failure has its new digest, one skipped keeps
 * the host's, and the role keeps its last recorded input digest. */
static void state_check(struct fx *f, const char *want_a, const char *want_b,
			const char *want_input)
{
	struct lc_doc doc = LC_DOC_INIT;
	struct lc_error err = LC_ERROR_INIT;
	char *path = in_dir(f, "state/state.json"), *text = tu_read(path, NULL), *a, *b;
	const struct lc_node *files;

	if (!text)
		fail_msg("no state record");
	if (lc_json_parse(&doc, "state.json", text, strlen(text), NULL, &err))
		fail_msg("%s", err.msg);
	files = lc_node_get(doc.root, "files");
	a = in_dir(f, "a.txt");
	b = in_dir(f, "b.txt");
	assert_string_equal(lc_node_get(files, a)->str, want_a);
	assert_string_equal(lc_node_get(files, b)->str, want_b);
	assert_string_equal(lc_node_get(lc_node_get(doc.root, "inputs"), "web")->str, want_input);
	assert_string_equal(lc_node_get(doc.root, "roles")->items[0]->str, "web");
	lc_doc_release(&doc);
	free(a);
	free(b);
	free(text);
	free(path);
}

static void state_fixture(struct fx *f, struct lc_op *op, int fail)
{
	static const char old[] = "{\"inputs\": {\"web\": \"old-digest\"}}";
	struct lc_error err = LC_ERROR_INIT;
	struct lc_res *r;

	op->role = "web";
	r = add(f, &lc_res_file, "a.txt");
	push(r, "A\n", 0644);
	r = add_cmd(f, fail ? "exit 3" : "true", "never-there", NULL);
	r->status = LC_RES_CHANGED;
	r = add(f, &lc_res_file, "b.txt");
	fact_file(r, "old B\n", 0644);
	free(tu_write(f->dir, "b.txt", "old B\n"));
	push(r, "B\n", 0644);
	for (size_t i = 0; i < f->plan.n_res; i++)
		f->plan.res[i].op = op;
	f->plan.roles = lc_xcalloc(2, sizeof(char *));
	f->plan.roles[f->plan.n_roles++] = lc_xstrdup("web");
	f->plan.role_digest = lc_xcalloc(2, sizeof(char *));
	f->plan.role_digest[0] = lc_xstrdup("new-digest");
	assert_int_equal(lc_plan_read_state(&f->plan, old, strlen(old), &err), 0);
}

static void test_state_record(void **state)
{
	struct fx *f = *state;
	struct lc_error err = LC_ERROR_INIT;
	struct lc_op op = { 0 };
	char sha_a[LC_SHA256_HEX], sha_b[LC_SHA256_HEX];

	state_fixture(f, &op, 0);
	lc_sha256_hex(sha_a, "A\n", 2);
	lc_sha256_hex(sha_b, "B\n", 2);
	assert_int_equal(run_apply(f), 0);
	assert_int_equal(lc_script_parse_apply(&f->plan, f->out.buf, f->out.len, &err), 0);
	state_check(f, sha_a, sha_b, "new-digest");
}

static void test_state_record_after_failure(void **state)
{
	struct fx *f = *state;
	struct lc_error err = LC_ERROR_INIT;
	struct lc_op op = { 0 };
	char sha_a[LC_SHA256_HEX], *rec;

	state_fixture(f, &op, 1);
	lc_sha256_hex(sha_a, "A\n", 2);
	assert_int_equal(run_apply(f), 1);
	rec = in_dir(f, "state/state.json");
	assert_false(tu_exists(rec));   /* left to labctl */
	free(rec);
	assert_int_equal(lc_script_parse_apply(&f->plan, f->out.buf, f->out.len, &err), 1);
	assert_int_equal(f->plan.res[2].status, LC_RES_SKIPPED);
	lc_buf_reset(&f->script);
	prelude(f);
	lc_script_state(&f->script, &f->plan);
	assert_int_equal(tu_sh_run(f->dir, f->script.buf, f->script.len, &f->out), 0);
	state_check(f, sha_a, f->plan.res[2].fact.sha, "old-digest");
}

/* A symbolic link where a file is managed: reported, refused later for
 * that resource alone (no error for the batch); followed, the file it
 * points to is what the facts describe. */
static void test_facts_link(void **state)
{
	struct fx *f = *state;
	struct lc_error err = LC_ERROR_INIT;
	char *target = in_dir(f, "target.conf"), *l1 = in_dir(f, "l1"), *l2 = in_dir(f, "l2");
	struct lc_res *r;

	free(tu_write(NULL, target, "x=1\n"));
	assert_int_equal(symlink(target, l1), 0);
	assert_int_equal(symlink(target, l2), 0);
	add(f, &lc_res_file, "l1");
	r = add(f, &lc_res_file, "l2");
	r->follow = 1;
	assert_int_equal(run_facts(f, &err), 0);
	assert_int_equal(f->plan.res[0].fact.is_link, 1);
	assert_int_equal(f->plan.res[0].fact.exists, 1);
	assert_int_equal(f->plan.res[1].fact.is_link, 0);
	assert_int_equal(f->plan.res[1].fact.exists, 1);
	assert_int_equal(f->plan.res[1].fact.size, 4);
	free(target);
	free(l1);
	free(l2);
}

/* Content small enough travels in the apply batch: no upload, the file
 * written with its mode, no temp file left. */
static void test_apply_inline(void **state)
{
	struct fx *f = *state;
	struct lc_error err = LC_ERROR_INIT;
	char *path = in_dir(f, "sub/inline.txt"), *got, *tmps;
	struct lc_res *r = add(f, &lc_res_file, "sub/inline.txt");
	struct stat st;

	r->has_content = 1;
	lc_buf_adds(&r->own, "it's \"inline\"\n\001\377");
	r->data = r->own.buf;
	r->len = r->own.len;
	r->mode = 0640;
	r->status = LC_RES_CHANGED;
	r->need_content = 1;
	r->inline_put = 1;
	r->tmp_path = lc_script_tmp_path(r, 0, "t0");
	assert_int_equal(run_apply(f), 0);
	assert_int_equal(lc_script_parse_apply(&f->plan, f->out.buf, f->out.len, &err), 0);
	assert_int_equal(f->plan.res[0].status, LC_RES_CHANGED);
	got = tu_read(path, NULL);
	assert_memory_equal(got, "it's \"inline\"\n\001\377", 16);
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0640);
	assert_int_equal(st.st_size, 16);
	tmps = in_dir(f, "sub/.labctl.inline.txt.t0");
	assert_false(tu_exists(tmps));
	free(tmps);
	free(got);
	free(path);
}

/* A converge that changes nothing sends no apply batch when the state
 * record would say the same (but for its time) and no digest is new. */
static void test_nothing_to_write(void **state)
{
	struct fx *f = *state;
	struct lc_error err = LC_ERROR_INIT;
	struct lc_op op = { 0 };
	struct lc_res *r;
	char *path, *text;

	op.role = "web";
	r = add(f, &lc_res_file, "a.txt");
	fact_file(r, "A\n", 0644);
	r->status = LC_RES_OK;
	r->op = &op;
	f->plan.roles = lc_xcalloc(2, sizeof(char *));
	f->plan.roles[f->plan.n_roles++] = lc_xstrdup("web");
	f->plan.role_digest = lc_xcalloc(2, sizeof(char *));
	f->plan.role_digest[0] = lc_xstrdup("d1");
	/* never converged: the record must be written */
	assert_false(lc_script_nothing_to_write(&f->plan));
	assert_int_equal(run_apply(f), 0);
	path = in_dir(f, "state/state.json");
	text = tu_read(path, NULL);
	assert_int_equal(lc_plan_read_state(&f->plan, text, strlen(text), &err), 0);
	assert_true(lc_script_nothing_to_write(&f->plan));
	/* a digest to remember, another input digest, a change: write */
	r = &f->plan.res[0];
	r->fact.sum_ok = 1;
	assert_false(lc_script_nothing_to_write(&f->plan));
	r->fact.sum_cached = 1;
	assert_true(lc_script_nothing_to_write(&f->plan));
	free(f->plan.role_digest[0]);
	f->plan.role_digest[0] = lc_xstrdup("d2");
	assert_false(lc_script_nothing_to_write(&f->plan));
	free(f->plan.role_digest[0]);
	f->plan.role_digest[0] = lc_xstrdup("d1");
	r->status = LC_RES_CHANGED;
	assert_false(lc_script_nothing_to_write(&f->plan));
	free(text);
	free(path);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_facts_quote_every_path, setup, teardown),
		cmocka_unit_test_setup_teardown(test_facts_run, setup, teardown),
		cmocka_unit_test_setup_teardown(test_facts_wrong_type, setup, teardown),
		cmocka_unit_test_setup_teardown(test_facts_link, setup, teardown),
		cmocka_unit_test_setup_teardown(test_apply_inline, setup, teardown),
		cmocka_unit_test_setup_teardown(test_nothing_to_write, setup, teardown),
		cmocka_unit_test_setup_teardown(test_parse_facts_errors, setup, teardown),
		cmocka_unit_test_setup_teardown(test_parse_facts_blank_line, setup, teardown),
		cmocka_unit_test_setup_teardown(test_apply_run, setup, teardown),
		cmocka_unit_test_setup_teardown(test_push_modes, setup, teardown),
		cmocka_unit_test_setup_teardown(test_apply_all_ok, setup, teardown),
		cmocka_unit_test_setup_teardown(test_state_record, setup, teardown),
		cmocka_unit_test_setup_teardown(test_state_record_after_failure, setup, teardown),
		cmocka_unit_test_setup_teardown(test_apt, setup, teardown),
		cmocka_unit_test_setup_teardown(test_pkgs_versions, setup, teardown),
		cmocka_unit_test_setup_teardown(test_apply_refuses_changed_file, setup, teardown),
		cmocka_unit_test(test_tmp_path),
		cmocka_unit_test_setup_teardown(test_hostile_values_stay_literal, setup, teardown),
		cmocka_unit_test_setup_teardown(test_hostile_owner, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
