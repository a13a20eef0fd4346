/* test_plan.c - a host's desired state: variables, resources composed from
 * templates, files and edits, decisions against facts, and what role.yaml
 * refuses. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "plan.h"
#include "op.h"
#include "source.h"
#include "testutil.h"
#include "tu_plan.h"

/* ---- helpers ----------------------------------------------------------- */

struct fx {
	char *dir;                  /* DIR/inventory/lab.yaml, DIR/roles/... */
	struct lc_inventory inv;
	struct lc_roles roles;
	struct lc_blobs blobs;
	struct lc_host_plan plans[2];
	int n_plans;
	int loaded;
};

/* Two hosts; web sets `a`, db sets nothing.  The lab sets a, b and c. */
static const char inventory[] =
	"provider: local\n"
	"tags: [env:test]\n"
	"vars:\n"
	"  a: lab\n"
	"  b: lab\n"
	"  c: lab\n"
	"  api_key: { from_env: LC_PLAN_KEY, default: nokey }\n"
	"hosts:\n"
	"  web:\n"
	"    address: 127.0.0.2\n"
	"    roles: [app]\n"
	"    tags: [role:web]\n"
	"    vars: { a: host }\n"
	"  db:\n"
	"    address: 127.0.0.3\n"
	"    port: 2222\n"
	"    roles: [app]\n";

static int setup(void **state)
{
	struct fx *f = lc_xcalloc(1, sizeof(*f));

	f->dir = tu_mkdtemp("plan");
	tu_put(f->dir, "inventory/lab.yaml", inventory);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fx *f = *state;
	int i;

	for (i = 0; i < f->n_plans; i++)
		lc_host_plan_release(&f->plans[i]);
	lc_blobs_release(&f->blobs);
	if (f->loaded) {
		lc_roles_release(&f->roles);
		lc_inventory_release(&f->inv);
	}
	tu_rmrf(f->dir);
	free(f);
	unsetenv("LC_PLAN_KEY");
	return 0;
}

/* Load DIR/inventory/lab.yaml and the roles it names. */
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

static void load_ok(struct fx *f)
{
	struct lc_error err = LC_ERROR_INIT;

	if (load_all(f, &err))
		fail_msg("loading: %s", err.msg);
}

static int plan_for(struct fx *f, const char *host, struct lc_host_plan **out,
		    struct lc_error *err)
{
	const struct lc_host *h = lc_inventory_host(&f->inv, host);
	struct lc_host_plan *p = &f->plans[f->n_plans];
	int rc;

	assert_non_null(h);
	assert_true(f->n_plans < 2);
	rc = tu_plan_host(p, &f->inv, &f->roles, &f->blobs, h, err);
	if (!rc)
		f->n_plans++;
	*out = rc ? NULL : p;
	return rc;
}

static struct lc_host_plan *plan_ok(struct fx *f, const char *host)
{
	struct lc_error err = LC_ERROR_INIT;
	struct lc_host_plan *p;

	if (plan_for(f, host, &p, &err))
		fail_msg("planning %s: %s", host, err.msg);
	return p;
}

/* Planning host (everything loaded) must fail with code and msg. */
static void plan_fails(struct fx *f, const char *host, int code, const char *msg)
{
	struct lc_error err = LC_ERROR_INIT;
	struct lc_host_plan *p;
	int rc = plan_for(f, host, &p, &err);

	if (rc != code)
		fail_msg("planning %s returned %d (%s), expected %d: %s", host, rc,
			 rc ? err.msg : "no error", code, msg);
	assert_int_equal(err.code, code);
	assert_string_equal(err.msg, msg);
}

static struct lc_res *res(struct lc_host_plan *p, const char *path)
{
	struct lc_res *found = NULL;
	size_t i;

	for (i = 0; i < p->n_res; i++) {
		if (p->res[i].type == &lc_res_command || strcmp(p->res[i].path, path))
			continue;
		if (found)
			fail_msg("%s is more than one resource", path);
		found = &p->res[i];
	}
	if (!found)
		fail_msg("no resource for %s", path);
	return found;
}

/* The resource's known content must be exactly want, with a matching sha. */
static void assert_content(const struct lc_res *r, const char *want)
{
	char sha[LC_SHA256_HEX];

	assert_ptr_equal(r->type, &lc_res_file);
	assert_int_equal(r->has_content, 1);
	assert_int_equal(r->len, strlen(want));
	assert_memory_equal(r->data, want, r->len);
	lc_sha256_hex(sha, want, strlen(want));
	assert_string_equal(r->sha, sha);
}

/* The host's side of a file, as the facts batch would report it. */
static void set_fact(struct lc_res *r, int exists, int mode, const char *content)
{
	r->fact.known = 1;
	r->fact.exists = exists;
	r->fact.mode = mode;
	lc_buf_reset(&r->fact.content);
	lc_buf_adds(&r->fact.content, content);
	lc_sha256_hex(r->fact.sha, content, strlen(content));
}

static char *role_yaml_path(struct fx *f, const char *role)
{
	return lc_xasprintf("%s/%s/role.yaml", f->inv.roles_dir, role);
}

/* roles_dir as the inventory resolves it (malloc'd), without f->inv. */
static char *roles_dir(struct fx *f)
{
	struct lc_error err = LC_ERROR_INIT;
	struct lc_inventory inv;
	char *path = lc_xasprintf("%s/inventory/lab.yaml", f->dir);
	char *dir;

	assert_int_equal(lc_inventory_load(&inv, path, &err), 0);
	dir = lc_xstrdup(inv.roles_dir);
	lc_inventory_release(&inv);
	free(path);
	return dir;
}

/* ---- variables ---------------------------------------------------------- */

static void test_precedence(void **state)
{
	struct fx *f = *state;
	struct lc_host_plan *web, *db;

	tu_put(f->dir, "roles/app/role.yaml",
	       "defaults: { a: def, b: def }\n"
	       "ops:\n"
	       "  - template: { src: t.conf, dest: /etc/app/t.conf }\n");
	tu_put(f->dir, "roles/app/templates/t.conf", "a={{ a }} b={{ b }} c={{ c }}\n");
	/* base comes first and sees only its own defaults */
	tu_put(f->dir, "roles/base/role.yaml",
	       "defaults: { c: base }\n"
	       "ops:\n"
	       "  - template: { src: b.conf, dest: /etc/base.conf }\n");
	tu_put(f->dir, "roles/base/templates/b.conf", "a={{ a }} b={{ b }} c={{ c }}\n");
	load_ok(f);
	web = plan_ok(f, "web");
	db = plan_ok(f, "db");
	/* host > role defaults > lab */
	assert_content(res(web, "/etc/app/t.conf"), "a=host b=def c=lab\n");
	assert_content(res(db, "/etc/app/t.conf"), "a=def b=def c=lab\n");
	/* base's defaults do not leak into app, nor app's into base */
	assert_content(res(web, "/etc/base.conf"), "a=host b=lab c=base\n");
	assert_content(res(db, "/etc/base.conf"), "a=lab b=lab c=base\n");
	/* base's ops come first */
	assert_int_equal(web->n_res, 2);
	assert_string_equal(web->res[0].path, "/etc/base.conf");
	assert_string_equal(web->res[1].path, "/etc/app/t.conf");
}

static void test_host_and_hosts(void **state)
{
	struct fx *f = *state;
	struct lc_host_plan *web;

	tu_put(f->dir, "roles/app/role.yaml",
	       "ops:\n"
	       "  - template: { src: t.conf, dest: \"/etc/{{ inventory_hostname }}.conf\" }\n");
	tu_put(f->dir, "roles/app/templates/t.conf",
	       "me={{ host.address }}:{{ host.port }} user={{ host.user }}\n"
	       "db={{ hosts.db.address }}:{{ hosts.db.port }} a={{ hosts.db.a }}"
	       " web.a={{ hosts.web.a }}\n"
	       "roles={{ roles }} db.roles={{ hosts.db.roles }}\n");
	load_ok(f);
	web = plan_ok(f, "web");
	assert_content(res(web, "/etc/web.conf"),
		       "me=127.0.0.2:22 user=root\n"
		       "db=127.0.0.3:2222 a=lab web.a=host\n"
		       "roles=[\"base\", \"app\"] db.roles=[\"app\"]\n");
}

static void test_tags_flow_list(void **state)
{
	struct fx *f = *state;
	struct lc_host_plan *web, *db;

	tu_put(f->dir, "roles/app/role.yaml",
	       "ops:\n"
	       "  - template: { src: t.conf, dest: /etc/tags }\n");
	tu_put(f->dir, "roles/app/templates/t.conf",
	       "tags: {{ tags }}\nfirst={{ tags.0 }} host={{ host.tags }}\n");
	load_ok(f);
	web = plan_ok(f, "web");
	db = plan_ok(f, "db");
	assert_content(res(web, "/etc/tags"),
		       "tags: [\"env:test\", \"role:web\"]\n"
		       "first=env:test host=[\"env:test\", \"role:web\"]\n");
	assert_content(res(db, "/etc/tags"),
		       "tags: [\"env:test\"]\nfirst=env:test host=[\"env:test\"]\n");
}

/* ---- files, templates and edits ----------------------------------------- */

static void test_template_and_edits_are_one_resource(void **state)
{
	struct fx *f = *state;
	struct lc_host_plan *web;
	struct lc_res *r;
	char *blob_path;
	size_t i, len;
	char *on_disk;

	tu_put(f->dir, "roles/app/role.yaml",
	       "ops:\n"
	       "  - template: { src: t.conf, dest: /etc/app.conf, mode: \"0600\" }\n"
	       "  - edit:\n"
	       "      path: /etc/app.conf\n"
	       "      edits:\n"
	       "        - \"s/^x=1$/x=9/\"\n"
	       "        - { line: \"z={{ a }}\", after: \"^x=\" }\n"
	       "        - { absent: \"^drop\" }\n"
	       /* the edit first, then what writes the file */
	       "  - edit: { path: /etc/rev.conf, edits: [ \"s/1/one/\" ] }\n"
	       "  - template: { src: t.conf, dest: /etc/rev.conf }\n"
	       /* a plain file edited */
	       "  - file: { src: plain.txt, dest: /etc/plain.txt }\n"
	       "  - edit: { path: /etc/plain.txt, edits: [ \"s/k=1/k=2/\" ] }\n");
	tu_put(f->dir, "roles/app/templates/t.conf", "x=1\ndrop me\ny=2\n");
	blob_path = tu_write(f->dir, "roles/app/files/plain.txt", "k=1\n");
	load_ok(f);
	web = plan_ok(f, "web");
	assert_int_equal(web->n_res, 3);

	r = res(web, "/etc/app.conf");
	assert_content(r, "x=9\nz=host\ny=2\n");
	assert_string_equal(r->op->type->name, "template");
	assert_int_equal(r->mode, 0600);
	/* content known here: the edits were applied and freed with the plan */
	assert_int_equal(r->n_edits, 0);
	assert_null(r->edits);
	/* the composed content is a fixed point of every edit (the role's
	 * three, made again here) */
	{
		struct lc_edit e[3];
		struct lc_error err = LC_ERROR_INIT;

		memset(e, 0, sizeof(e));
		assert_int_equal(lc_edit_parse_subst(&e[0], "s/^x=1$/x=9/", &err), 0);
		assert_int_equal(lc_edit_init_line(&e[1], "z=host", NULL, "^x=", &err), 0);
		assert_int_equal(lc_edit_init_absent(&e[2], "^drop", &err), 0);
		for (i = 0; i < 3; i++) {
			struct lc_buf again = LC_BUF_INIT;
			int changed = -1;

			assert_int_equal(lc_edit_apply(&again, &e[i], r->data, r->len,
						       &changed, &err), 0);
			assert_int_equal(changed, 0);
			assert_int_equal(again.len, r->len);
			assert_memory_equal(again.buf, r->data, r->len);
			lc_buf_release(&again);
			lc_edit_release(&e[i]);
		}
	}

	r = res(web, "/etc/rev.conf");
	assert_content(r, "x=one\ndrop me\ny=2\n");
	assert_string_equal(r->op->type->name, "template");
	assert_int_equal(r->mode, 0644);

	r = res(web, "/etc/plain.txt");
	assert_content(r, "k=2\n");
	assert_string_equal(r->op->type->name, "file");
	/* the role's file itself is untouched */
	on_disk = tu_read(blob_path, &len);
	assert_string_equal(on_disk, "k=1\n");
	free(on_disk);
	free(blob_path);
}

static const char edit_only_role[] =
	"ops:\n"
	"  - edit:\n"
	"      path: /etc/x.conf\n"
	"      edits: [ \"s/^a=.*/a=2/\", { line: \"k={{ a }}\" } ]\n"
	"  - edit: { path: /etc/y.conf, mode: \"0644\", edits: [ { line: \"k=v\" } ] }\n"
	"  - edit: { path: /etc/new.conf, create: true, edits: [ { line: \"k=v\" } ] }\n";

static void test_edit_only_resource(void **state)
{
	struct fx *f = *state;
	struct lc_error err = LC_ERROR_INIT;
	struct lc_host_plan *web;
	struct lc_res *r;

	tu_put(f->dir, "roles/app/role.yaml", edit_only_role);
	load_ok(f);
	web = plan_ok(f, "web");
	r = res(web, "/etc/x.conf");
	assert_ptr_equal(r->type, &lc_res_file);
	assert_int_equal(r->has_content, 0);
	assert_int_equal(r->n_edits, 2);
	assert_int_equal(r->mode, -1);
	assert_int_equal(r->create, 0);

	/* the host's content differs from the edited result: push it */
	set_fact(r, 1, 0600, "a=1\nb=1\n");
	assert_int_equal(lc_res_decide(web, r, &err), 0);
	assert_content(r, "a=2\nb=1\nk=host\n");
	assert_int_equal(r->mode, 0600);  /* unmanaged: kept */
	assert_int_equal(r->need_content, 1);
	assert_int_equal(r->need_meta, 0);
	assert_int_equal(r->status, LC_RES_CHANGED);

	/* the host already has the result: nothing to do */
	r = res(web, "/etc/y.conf");
	set_fact(r, 1, 0644, "q=1\nk=v\n");
	assert_int_equal(lc_res_decide(web, r, &err), 0);
	assert_content(r, "q=1\nk=v\n");
	assert_int_equal(r->need_content, 0);
	assert_int_equal(r->need_meta, 0);
	assert_int_equal(r->status, LC_RES_OK);
}

static void test_edit_only_meta_and_create(void **state)
{
	struct fx *f = *state;
	struct lc_error err = LC_ERROR_INIT;
	struct lc_host_plan *web;
	struct lc_res *r;

	tu_put(f->dir, "roles/app/role.yaml", edit_only_role);
	load_ok(f);
	web = plan_ok(f, "web");

	/* the content is right, the mode is not */
	r = res(web, "/etc/y.conf");
	set_fact(r, 1, 0600, "k=v\n");
	assert_int_equal(lc_res_decide(web, r, &err), 0);
	assert_int_equal(r->need_content, 0);
	assert_int_equal(r->need_meta, 1);
	assert_int_equal(r->mode, 0644);
	assert_int_equal(r->status, LC_RES_CHANGED);

	/* create: true starts from an empty file */
	r = res(web, "/etc/new.conf");
	set_fact(r, 0, 0, "");
	assert_int_equal(lc_res_decide(web, r, &err), 0);
	assert_content(r, "k=v\n");
	assert_int_equal(r->mode, 0644);
	assert_int_equal(r->need_content, 1);
	assert_int_equal(r->status, LC_RES_CHANGED);
}

static void test_edit_missing_file(void **state)
{
	struct fx *f = *state;
	struct lc_error err = LC_ERROR_INIT;
	struct lc_host_plan *web;
	struct lc_res *r;

	tu_put(f->dir, "roles/app/role.yaml", edit_only_role);
	load_ok(f);
	web = plan_ok(f, "web");
	r = res(web, "/etc/x.conf");
	set_fact(r, 0, 0, "");
	assert_int_equal(lc_res_decide(web, r, &err), LC_EREMOTE);
	assert_int_equal(err.code, LC_EREMOTE);
	assert_string_equal(err.msg, "/etc/x.conf does not exist on web "
			    "(set create: true to create it)");
	assert_int_equal(r->need_content, 0);
}

/* Edits that only remove lines have nothing to do in a missing file: ok,
 * and no file created, even with create: true.  One more kind of edit and
 * the missing file is an error (or created) again. */
static void test_absent_on_missing_file(void **state)
{
	struct fx *f = *state;
	struct lc_error err = LC_ERROR_INIT;
	struct lc_host_plan *web;
	struct lc_res *r;

	tu_put(f->dir, "roles/app/role.yaml",
	       "ops:\n"
	       "  - edit: { path: /etc/x.conf, create: true, mode: \"0600\","
	       " edits: [ { absent: \"^obsolete\" }, { absent: \"^old=\" } ] }\n"
	       "  - edit: { path: /etc/y.conf, edits: [ { absent: \"^a\" }, \"s/b/c/\" ] }\n");
	load_ok(f);
	web = plan_ok(f, "web");
	r = res(web, "/etc/x.conf");
	set_fact(r, 0, 0, "");
	assert_int_equal(lc_res_decide(web, r, &err), 0);
	assert_int_equal(r->need_content, 0);
	assert_int_equal(r->need_meta, 0);
	r = res(web, "/etc/y.conf");
	set_fact(r, 0, 0, "");
	assert_int_equal(lc_res_decide(web, r, &err), LC_EREMOTE);
	tu_assert_contains(err.msg, "/etc/y.conf does not exist on web");
}

static void test_file_tree(void **state)
{
	static const struct {
		const struct lc_res_type *kind;
		const char *path;
		int mode;
		const char *content;
	} want[] = {
		{ &lc_res_dir, "/opt/tree", 0755, NULL },
		{ &lc_res_file, "/opt/tree/a.txt", 0600, "A\n" },
		{ &lc_res_file, "/opt/tree/b.txt", 0644, "B\n" },
		{ &lc_res_file, "/opt/tree/empty", 0644, "" },
		{ &lc_res_dir, "/opt/tree/sub", 0755, NULL },
		{ &lc_res_file, "/opt/tree/sub/c.txt", 0755, "C\n" },
		{ &lc_res_file, "/opt/one.txt", 0640, "A\n" },
	};
	struct fx *f = *state;
	struct lc_host_plan *web, *db;
	char *p;
	size_t i;

	tu_put(f->dir, "roles/app/role.yaml",
	       "ops:\n"
	       "  - file: { src: tree/, dest: /opt/tree }\n"
	       "  - file: { src: tree/a.txt, dest: /opt/one.txt, mode: \"0640\" }\n");
	/* written out of order: the plan sorts by name */
	p = tu_write(f->dir, "roles/app/files/tree/sub/c.txt", "C\n");
	chmod(p, 0755);
	free(p);
	p = tu_write(f->dir, "roles/app/files/tree/b.txt", "B\n");
	chmod(p, 0644);
	free(p);
	p = tu_write(f->dir, "roles/app/files/tree/a.txt", "A\n");
	chmod(p, 0600);
	free(p);
	p = tu_write(f->dir, "roles/app/files/tree/empty", "");
	chmod(p, 0644);
	free(p);
	load_ok(f);
	web = plan_ok(f, "web");
	assert_int_equal(web->n_res, sizeof(want) / sizeof(want[0]));
	for (i = 0; i < web->n_res; i++) {
		const struct lc_res *r = &web->res[i];

		assert_ptr_equal(r->type, want[i].kind);
		assert_string_equal(r->path, want[i].path);
		assert_int_equal(r->mode, want[i].mode);
		assert_string_equal(r->op->type->name, "file");
		if (want[i].content)
			assert_content(r, want[i].content);
	}
	/* local files are read once and shared by every host's plan */
	db = plan_ok(f, "db");
	assert_int_equal(f->blobs.n, 4);
	assert_ptr_equal(db->res[1].data, web->res[1].data);
	assert_ptr_equal(web->res[6].data, web->res[1].data);
}

static void test_tree_symlink_refused(void **state)
{
	struct fx *f = *state;
	char *target, *link, *rp, *want;

	tu_put(f->dir, "roles/app/role.yaml",
	       "ops:\n"
	       "  - file: { src: tree, dest: /opt/tree }\n");
	tu_put(f->dir, "roles/app/files/tree/a.txt", "A\n");
	target = tu_write(f->dir, "outside.txt", "secret\n");
	link = lc_xasprintf("%s/roles/app/files/tree/link", f->dir);
	assert_int_equal(symlink(target, link), 0);
	load_ok(f);
	rp = role_yaml_path(f, "app");
	want = lc_xasprintf("%s:2:5: %s/app/files/tree/link is a symbolic link; role files "
			    "must be regular files", rp, f->inv.roles_dir);
	plan_fails(f, "web", LC_EPARSE, want);
	free(want);
	free(rp);
	free(link);
	free(target);
}

/* ---- secrets ------------------------------------------------------------ */

static void test_secret_template(void **state)
{
	struct fx *f = *state;
	struct lc_host_plan *web;
	struct lc_res *r;

	setenv("LC_PLAN_KEY", "s3cret", 1);
	tu_put(f->dir, "roles/app/role.yaml",
	       "ops:\n"
	       "  - template: { src: key.conf, dest: /etc/key.conf }\n"
	       "  - template: { src: key.conf, dest: /etc/key600.conf, mode: \"0600\" }\n"
	       "  - template: { src: plain.conf, dest: /etc/plain.conf }\n");
	tu_put(f->dir, "roles/app/templates/key.conf", "key={{ api_key }}\n");
	tu_put(f->dir, "roles/app/templates/plain.conf", "a={{ a }}\n");
	load_ok(f);
	web = plan_ok(f, "web");
	r = res(web, "/etc/key.conf");
	assert_content(r, "key=s3cret\n");
	assert_int_equal(r->secret, 1);
	assert_int_equal(r->mode, 0640);
	r = res(web, "/etc/key600.conf");
	assert_int_equal(r->secret, 1);
	assert_int_equal(r->mode, 0600);
	r = res(web, "/etc/plain.conf");
	assert_int_equal(r->secret, 0);
	assert_int_equal(r->mode, 0644);
}

/* Regression: a secret that reaches a file through an edit marks the
 * resource secret, so the file gets the secret default mode 0640, not
 * 0644. */
static void test_secret_through_edit(void **state)
{
	struct fx *f = *state;
	struct lc_host_plan *web;
	struct lc_res *r;

	setenv("LC_PLAN_KEY", "s3cret", 1);
	tu_put(f->dir, "roles/app/role.yaml",
	       "ops:\n"
	       "  - template: { src: plain.conf, dest: /etc/agent.conf }\n"
	       "  - edit: { path: /etc/agent.conf, edits: [ { line: \"key={{ api_key }}\" } ] }\n");
	tu_put(f->dir, "roles/app/templates/plain.conf", "a={{ a }}\n");
	load_ok(f);
	web = plan_ok(f, "web");
	r = res(web, "/etc/agent.conf");
	assert_content(r, "a=host\nkey=s3cret\n");
	assert_int_equal(r->secret, 1);   /* fails: edits are not checked */
	assert_int_equal(r->mode, 0640);
}

/* Regression: any env value that holds a secret makes the command secret,
 * not only the last one rendered. */
static void test_secret_through_env(void **state)
{
	struct fx *f = *state;
	struct lc_host_plan *web;
	const struct lc_res *r;

	setenv("LC_PLAN_KEY", "s3cret", 1);
	tu_put(f->dir, "roles/app/role.yaml",
	       "ops:\n"
	       "  - command:\n"
	       "      run: ./register\n"
	       "      creates: \"/etc/{{ a }}.registered\"\n"
	       "      env: { TOKEN: \"{{ api_key }}\", MODE: plain }\n");
	load_ok(f);
	web = plan_ok(f, "web");
	assert_int_equal(web->n_res, 1);
	r = &web->res[0];
	assert_ptr_equal(r->type, &lc_res_command);
	assert_string_equal(r->run, "./register");
	assert_string_equal(r->path, "./register");
	assert_string_equal(r->creates, "/etc/host.registered");
	assert_int_equal(r->n_env, 2);
	assert_string_equal(r->env[0], "TOKEN=s3cret");
	assert_string_equal(r->env[1], "MODE=plain");
	assert_int_equal(r->secret, 1);   /* fails: the last env value wins */
}

/* ---- what role.yaml refuses --------------------------------------------- */

/* Loading must fail with code and "ROLES_DIR/ROLE/role.yaml:WHERE_MSG". */
static void load_fails(struct fx *f, int code, const char *role, const char *where_msg)
{
	struct lc_error err = LC_ERROR_INIT;
	char *want, *dir;
	int rc = load_all(f, &err);

	if (rc != code)
		fail_msg("loading returned %d (%s), expected %d: %s", rc,
			 rc ? err.msg : "no error", code, where_msg);
	assert_int_equal(err.code, code);
	dir = roles_dir(f);
	want = lc_xasprintf("%s/%s/role.yaml:%s", dir, role, where_msg);
	assert_string_equal(err.msg, want);
	free(want);
	free(dir);
}

static int has_res(const struct lc_host_plan *p, const char *path)
{
	size_t i;

	for (i = 0; i < p->n_res; i++)
		if (p->res[i].path && !strcmp(p->res[i].path, path))
			return 1;
	return 0;
}

/* The lineinfile/replace keys: a subst in a region, follow, validate
 * (rendered, one per file); a link on the host refused when not followed;
 * then what role.yaml refuses. */
static void test_edit_keys(void **state)
{
	struct fx *f = *state;
	struct lc_error err = LC_ERROR_INIT;
	struct lc_host_plan *web;
	struct lc_res *r;

	tu_put(f->dir, "roles/base/role.yaml", "ops: []\n");
	tu_put(f->dir, "roles/app/role.yaml",
	       "ops:\n"
	       "  - edit:\n"
	       "      path: /etc/x.ini\n"
	       "      follow: true\n"
	       "      validate: \"check --{{ a }} %s\"\n"
	       "      edits:\n"
	       "        - { subst: \"s/^p=.*/p=2/\", between: [\"^\\\\[b\\\\]\", \"^\\\\[\"] }\n"
	       "        - { line: \"k={{ a }}\", between: [\"^\\\\[{{ a }}\\\\]\", \"^\\\\[\"] }\n"
	       "  - edit: { path: /etc/x.ini, validate: \"check --{{ a }} %s\", edits: [ \"s/q/r/\" ] }\n"
	       "  - edit: { path: /etc/link.conf, edits: [ { line: \"k=v\" } ] }\n");
	load_ok(f);
	web = plan_ok(f, "web");
	r = res(web, "/etc/x.ini");
	assert_int_equal(r->follow, 1);
	assert_string_equal(r->validate, "check --host %s");
	assert_int_equal(r->n_edits, 3);
	assert_string_equal(r->edits[0].from, "^\\[b\\]");
	assert_string_equal(r->edits[1].from, "^\\[host\\]");
	assert_string_equal(r->edits[1].to, "^\\[");
	set_fact(r, 1, 0644, "[host]\np=1\n[b]\np=1\nq\n");
	assert_int_equal(lc_res_decide(web, r, &err), 0);
	assert_content(r, "[host]\np=1\nk=host\n[b]\np=2\nr\n");

	/* a link where the file should be: refused, naming the way out */
	r = res(web, "/etc/link.conf");
	assert_int_equal(r->follow, 0);
	assert_null(r->validate);
	set_fact(r, 1, 0777, "");
	r->fact.is_link = 1;
	assert_int_equal(lc_res_decide(web, r, &err), LC_EREMOTE);
	assert_string_equal(err.msg, "/etc/link.conf is a symbolic link on web; labctl does not "
			    "write through a link (set follow: true on an edit op to edit the "
			    "file it points to)");
}

static void test_edit_keys_refused(void **state)
{
	struct fx *f = *state;

	tu_put(f->dir, "roles/base/role.yaml", "ops: []\n");
	tu_put(f->dir, "roles/app/role.yaml",
	       "ops:\n"
	       "  - edit: { path: /x, validate: \"visudo -c\", edits: [ \"s/a/b/\" ] }\n");
	load_fails(f, LC_EPARSE, "app", "2:33: 'validate' needs %s where the staged file's "
		   "path goes (e.g. \"visudo -cf %s\")");
	tu_put(f->dir, "roles/app/role.yaml",
	       "ops:\n"
	       "  - edit: { path: /x, edits: [ { absent: a, between: [ \"^a\" ] } ] }\n");
	load_fails(f, LC_EPARSE, "app", "2:54: 'between' is a list of two regexes: [START, END]");
	tu_put(f->dir, "roles/app/role.yaml",
	       "ops:\n"
	       "  - edit: { path: /x, edits: [ { subst: \"s/a/b/\", before: x } ] }\n");
	load_fails(f, LC_EPARSE, "app", "2:51: unknown key 'before' in a subst edit "
		   "(expected one of: subst, between)");
	tu_put(f->dir, "roles/app/role.yaml",
	       "ops:\n"
	       "  - edit: { path: /x, validate: \"a %s\", edits: [ \"s/a/b/\" ] }\n"
	       "  - edit: { path: /x, validate: \"b %s\", edits: [ \"s/c/d/\" ] }\n");
	load_ok(f);
	{
		char *want = lc_xasprintf("%s/roles/app/role.yaml:3:5: /x has two different "
					  "'validate' commands; give it one", f->dir);

		plan_fails(f, "web", LC_EPARSE, want);
		free(want);
	}
}

/* when: an op only on the hosts where its condition holds; the agent's
 * flavor (lab by default) is the variable the base role asks. */
static void test_when(void **state)
{
	struct fx *f = *state;
	struct lc_host_plan *web, *db;

	tu_put(f->dir, "roles/app/role.yaml",
	       "ops:\n"
	       "  - dir: { path: /opt/all }\n"
	       "  - dir: { path: /opt/web-a }\n"
	       "    when: a == host\n"
	       "  - when: \"a != host\"\n"
	       "    dir: { path: /opt/not-web }\n"
	       "  - dir: { path: /opt/lab-agent }\n"
	       "    when: agent.flavor == lab\n"
	       "  - dir: { path: /opt/datadog-agent }\n"
	       "    when: agent.flavor == 'datadog'\n");
	tu_put(f->dir, "roles/base/role.yaml", "ops: []\n");
	load_ok(f);
	web = plan_ok(f, "web");
	db = plan_ok(f, "db");
	assert_true(has_res(web, "/opt/all"));
	assert_true(has_res(web, "/opt/web-a"));
	assert_false(has_res(db, "/opt/web-a"));
	assert_false(has_res(web, "/opt/not-web"));
	assert_true(has_res(db, "/opt/not-web"));
	assert_true(has_res(web, "/opt/lab-agent"));
	assert_false(has_res(web, "/opt/datadog-agent"));
	assert_int_equal(web->n_res, 3);
	assert_int_equal(db->n_res, 3);
}

static void test_when_errors(void **state)
{
	struct fx *f = *state;

	tu_put(f->dir, "roles/base/role.yaml", "ops: []\n");
	tu_put(f->dir, "roles/app/role.yaml",
	       "ops:\n"
	       "  - dir: { path: /x }\n"
	       "    when: a = host\n");
	load_fails(f, LC_EPARSE, "app",
		   "3:11: 'when: a = host': expected VARIABLE == VALUE or VARIABLE != VALUE");
	tu_put(f->dir, "roles/app/role.yaml",
	       "ops:\n"
	       "  - dir: { path: /x }\n"
	       "    when: \"a ==\"\n");
	load_fails(f, LC_EPARSE, "app", "3:11: 'when: a ==': no value to compare with");
	tu_put(f->dir, "roles/app/role.yaml",
	       "ops:\n"
	       "  - dir: { path: /x }\n"
	       "    file: { src: f, dest: /y }\n");
	load_fails(f, LC_EPARSE, "app",
		   "2:5: an op has exactly one key, its kind (and maybe 'when'): dir, file, "
		   "template, edit, command, package or service");
	/* an undefined variable: an error when planning, at the op */
	tu_put(f->dir, "roles/app/role.yaml",
	       "ops:\n"
	       "  - dir: { path: /x }\n"
	       "    when: nosuch == 1\n");
	load_ok(f);
	{
		char *want = lc_xasprintf("%s/roles/app/role.yaml:3:11: 'when': undefined "
					  "variable 'nosuch'", f->dir);
		plan_fails(f, "web", LC_EUNDEF, want);
		free(want);
	}
}

/* package names: NAME or NAME=VERSION, templates rendered per host and
 * checked then. */
static void test_package_versions(void **state)
{
	struct fx *f = *state;
	struct lc_host_plan *web;

	tu_put(f->dir, "roles/base/role.yaml", "ops: []\n");
	tu_put(f->dir, "roles/app/role.yaml",
	       "defaults: { ver: \"1:7.52.1-1\" }\n"
	       "ops:\n"
	       "  - package: { names: [\"datadog-agent={{ ver }}\", python3] }\n");
	load_ok(f);
	web = plan_ok(f, "web");
	assert_true(has_res(web, "datadog-agent=1:7.52.1-1 python3"));
}

static void test_package_bad_version(void **state)
{
	struct fx *f = *state;
	char *want;

	tu_put(f->dir, "roles/base/role.yaml", "ops: []\n");
	tu_put(f->dir, "roles/app/role.yaml",
	       "ops:\n"
	       "  - package: { names: [\"pkg={{ a }}\"] }\n");
	load_ok(f);
	want = lc_xasprintf("%s/roles/app/role.yaml:2:24: 'pkg=host' is not a Debian package "
			    "name (NAME or NAME=VERSION)", f->dir);
	plan_fails(f, "web", LC_EPARSE, want);
	free(want);
	lc_roles_release(&f->roles);
	lc_inventory_release(&f->inv);
	f->loaded = 0;
	tu_put(f->dir, "roles/app/role.yaml",
	       "ops:\n"
	       "  - package: { names: [\"pkg=1.0;reboot\"] }\n");
	load_fails(f, LC_EPARSE, "app",
		   "2:24: 'pkg=1.0;reboot' is not a Debian package name (NAME or NAME=VERSION)");
}

static void test_command_needs_guard(void **state)
{
	struct fx *f = *state;

	tu_put(f->dir, "roles/app/role.yaml",
	       "ops:\n"
	       "  - command: { run: \"echo hi\" }\n");
	load_fails(f, LC_EPARSE, "app",
		   "2:14: a command op needs 'creates' or 'unless' so that a second "
		   "converge does not run it again");
	tu_put(f->dir, "roles/app/role.yaml",
	       "ops:\n"
	       "  - command:\n"
	       "      run: \"echo hi\"\n"
	       "      env: { \"BAD-NAME\": x }\n"
	       "      unless: \"true\"\n");
	load_fails(f, LC_EPARSE, "app",
		   "4:14: invalid environment variable name 'BAD-NAME'");
}

static void test_src_must_stay_in_role(void **state)
{
	struct fx *f = *state;
	char *target, *link, *want, *real, *rd;

	tu_put(f->dir, "roles/app/files/ok.txt", "ok\n");
	tu_put(f->dir, "roles/app/templates/ok.conf", "ok\n");
	target = tu_write(f->dir, "outside.txt", "secret\n");
	rd = roles_dir(f);

	tu_put(f->dir, "roles/app/role.yaml",
	       "ops:\n"
	       "  - file: { src: ../outside.txt, dest: /etc/x }\n");
	want = lc_xasprintf("2:18: src '../outside.txt' must be a relative path inside "
			    "%s/app/files", rd);
	load_fails(f, LC_EPARSE, "app", want);
	free(want);

	tu_put(f->dir, "roles/app/role.yaml",
	       "ops:\n"
	       "  - template: { src: \"sub/../../files/ok.txt\", dest: /etc/x }\n");
	want = lc_xasprintf("2:22: src 'sub/../../files/ok.txt' must be a relative path inside "
			    "%s/app/templates", rd);
	load_fails(f, LC_EPARSE, "app", want);
	free(want);

	tu_put(f->dir, "roles/app/role.yaml",
	       "ops:\n"
	       "  - file: { src: /etc/passwd, dest: /etc/x }\n");
	want = lc_xasprintf("2:18: src '/etc/passwd' must be a relative path inside "
			    "%s/app/files", rd);
	load_fails(f, LC_EPARSE, "app", want);
	free(want);

	/* a symlink out of the role */
	link = lc_xasprintf("%s/roles/app/files/link", f->dir);
	assert_int_equal(symlink(target, link), 0);
	tu_put(f->dir, "roles/app/role.yaml",
	       "ops:\n"
	       "  - file: { src: link, dest: /etc/x }\n");
	real = realpath(target, NULL);
	want = lc_xasprintf("2:18: src 'link' resolves to %s, outside the role's files "
			    "directory", real);
	load_fails(f, LC_EPARSE, "app", want);
	free(want);
	free(link);

	/* a symlink from templates/ into files/ is outside templates/ too */
	link = lc_xasprintf("%s/roles/app/templates/link.conf", f->dir);
	assert_int_equal(symlink("../files/ok.txt", link), 0);
	tu_put(f->dir, "roles/app/role.yaml",
	       "ops:\n"
	       "  - template: { src: link.conf, dest: /etc/x }\n");
	free(real);
	real = lc_xasprintf("%s/app/files/ok.txt", rd);
	want = lc_xasprintf("2:22: src 'link.conf' resolves to %s, outside the role's "
			    "templates directory", real);
	load_fails(f, LC_EPARSE, "app", want);
	free(want);
	free(real);
	free(link);
	free(target);
	free(rd);

	/* and the same role with honest srcs loads */
	tu_put(f->dir, "roles/app/role.yaml",
	       "ops:\n"
	       "  - file: { src: ok.txt, dest: /etc/x }\n"
	       "  - template: { src: ok.conf, dest: /etc/y }\n");
	load_ok(f);
	assert_int_equal(f->roles.n, 1);
	assert_int_equal(f->roles.roles[0].n_ops, 2);
}

static void test_two_templates_same_dest(void **state)
{
	struct fx *f = *state;
	char *rp, *want;

	tu_put(f->dir, "roles/app/role.yaml",
	       "ops:\n"
	       "  - template: { src: t.conf, dest: /etc/app.conf }\n"
	       "  - dir: { path: /etc/app.d }\n"
	       "  - template:\n"
	       "      src: t.conf\n"
	       "      dest: /etc/app.conf\n");
	tu_put(f->dir, "roles/app/templates/t.conf", "x\n");
	load_ok(f);
	rp = role_yaml_path(f, "app");
	want = lc_xasprintf("%s:4:5: /etc/app.conf is already managed by the template op "
			    "at %s:2", rp, rp);
	plan_fails(f, "web", LC_EPARSE, want);
	free(want);
	free(rp);
}

static void test_file_over_dir_refused(void **state)
{
	struct fx *f = *state;
	char *rp, *want;

	tu_put(f->dir, "roles/app/role.yaml",
	       "ops:\n"
	       "  - dir: { path: /etc/app }\n"
	       "  - template: { src: t.conf, dest: /etc/app }\n");
	tu_put(f->dir, "roles/app/templates/t.conf", "x\n");
	load_ok(f);
	rp = role_yaml_path(f, "app");
	want = lc_xasprintf("%s:3:5: /etc/app is already managed by the dir op at %s:2",
			    rp, rp);
	plan_fails(f, "web", LC_EPARSE, want);
	free(want);
	free(rp);
}

/* Regression (seen only under valgrind): a template whose rendering fails
 * leaks nothing, the rendered dest included. */
static void test_undefined_variable(void **state)
{
	struct fx *f = *state;

	tu_put(f->dir, "roles/app/role.yaml",
	       "ops:\n"
	       "  - template: { src: t.conf, dest: /etc/app.conf }\n");
	tu_put(f->dir, "roles/app/templates/t.conf",
	       "a={{ a }}\n"
	       "\n"
	       "b={{ nope }}\n");
	load_ok(f);
	plan_fails(f, "web", LC_EUNDEF, "roles/app/templates/t.conf:3: undefined variable 'nope'");
}

static void test_dest_must_be_absolute(void **state)
{
	struct fx *f = *state;
	char *rp, *want;

	tu_put(f->dir, "roles/app/role.yaml",
	       "ops:\n"
	       "  - dir: { path: \"{{ a }}/x\" }\n");
	load_ok(f);
	rp = role_yaml_path(f, "app");
	want = lc_xasprintf("%s:2:5: path 'host/x' on the host must be absolute", rp);
	plan_fails(f, "web", LC_EPARSE, want);
	free(want);
	free(rp);
}

/* Regression: a host path that ends in "/.." or "/." is refused like one
 * that contains them (dir { path: /etc/app/.. } would really be /etc). */
static void test_dest_must_be_normalized(void **state)
{
	struct fx *f = *state;
	char *rp, *want;

	tu_put(f->dir, "roles/app/role.yaml",
	       "ops:\n"
	       "  - dir: { path: /etc/app/x/../y }\n");
	load_ok(f);
	rp = role_yaml_path(f, "app");
	want = lc_xasprintf("%s:2:5: path '/etc/app/x/../y' on the host must be normalized "
			    "(no '..', '.', '//' or trailing '/')", rp);
	plan_fails(f, "web", LC_EPARSE, want);
	free(want);
	lc_roles_release(&f->roles);
	lc_inventory_release(&f->inv);
	f->loaded = 0;

	tu_put(f->dir, "roles/app/role.yaml",
	       "ops:\n"
	       "  - dir: { path: /etc/app/.. }\n");
	load_ok(f);
	want = lc_xasprintf("%s:2:5: path '/etc/app/..' on the host must be normalized "
			    "(no '..', '.', '//' or trailing '/')", rp);
	plan_fails(f, "web", LC_EPARSE, want);   /* fails: it is planned */
	free(want);
	free(rp);
}

/* Regression: a role's files/ (or templates/) directory that is itself a
 * symlink out of the role is refused, as a symlinked file is: src must
 * resolve below realpath(role dir)/files. */
static void test_files_dir_symlink_outside(void **state)
{
	struct fx *f = *state;
	char *outside, *link, *want;

	outside = lc_xasprintf("%s/outside", f->dir);
	tu_put(outside, "id_ed25519", "private key\n");
	tu_put(f->dir, "roles/app/role.yaml",
	       "ops:\n"
	       "  - file: { src: id_ed25519, dest: /etc/x }\n");
	link = lc_xasprintf("%s/roles/app/files", f->dir);
	assert_int_equal(symlink(outside, link), 0);
	want = lc_xasprintf("2:18: src 'id_ed25519' resolves to %s/id_ed25519, outside the "
			    "role's files directory", outside);
	load_fails(f, LC_EPARSE, "app", want);   /* fails: it loads */
	free(want);
	free(link);
	free(outside);
}

/* Regression: when an edit op that sets mode (or owner/group) comes before
 * the template or file op that writes the same path, the role's mode stays:
 * the writing op's default does not replace it. */
static void test_edit_mode_kept_when_template_follows(void **state)
{
	struct fx *f = *state;
	struct lc_host_plan *web;
	struct lc_res *r;

	tu_put(f->dir, "roles/app/role.yaml",
	       "ops:\n"
	       "  - edit: { path: /etc/app.conf, mode: \"0600\", owner: app,\n"
	       "            edits: [ { line: \"k=v\" } ] }\n"
	       "  - template: { src: t.conf, dest: /etc/app.conf }\n");
	tu_put(f->dir, "roles/app/templates/t.conf", "x=1\n");
	load_ok(f);
	web = plan_ok(f, "web");
	r = res(web, "/etc/app.conf");
	assert_content(r, "x=1\nk=v\n");
	assert_int_equal(r->mode, 0600);   /* fails: 0644 */
	assert_non_null(r->owner);
	assert_string_equal(r->owner, "app");
}

/* Regression: a missing role.yaml is LC_EPARSE both in the return value
 * and in the error. */
static void test_role_load_missing(void **state)
{
	struct fx *f = *state;
	struct lc_error err = LC_ERROR_INIT;
	struct lc_role r;
	char *dir = lc_xasprintf("%s/roles", f->dir), *want;
	int rc;

	assert_int_equal(mkdir(dir, 0755), 0);
	rc = lc_role_load(&r, dir, dir, "nope", NULL, &err);
	want = lc_xasprintf("role 'nope': %s/nope/role.yaml does not exist", dir);
	assert_string_equal(err.msg, want);
	assert_null(r.ops);
	assert_int_equal(err.code, LC_EPARSE);
	assert_int_equal(rc, err.code);   /* fails: LC_EIO */
	free(want);
	free(dir);
}

/* A role is dirty when a changed path is one of its paths or below one,
 * on a path-component boundary: roles/base2 is not under roles/base. */
static void test_repo_any_under(void **state)
{
	char *changes[] = { "/r/apps/demo.py", "/r/roles/base-x/a", "/r/roles/base2/role.yaml" };
	char *base[] = { "/r/roles/base" }, *app[] = { "/r/roles/x", "/r/apps/demo.py" };
	char *dir[] = { "/r/apps" }, *none[] = { "/r/apps/demo" };

	(void)state;
	assert_false(lc_repo_any_under(changes, 3, base, 1));
	assert_true(lc_repo_any_under(changes, 3, app, 2));
	assert_true(lc_repo_any_under(changes, 3, dir, 1));
	assert_false(lc_repo_any_under(changes, 3, none, 1));
	assert_false(lc_repo_any_under(NULL, 0, dir, 1));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_precedence, setup, teardown),
		cmocka_unit_test_setup_teardown(test_when, setup, teardown),
		cmocka_unit_test_setup_teardown(test_when_errors, setup, teardown),
		cmocka_unit_test_setup_teardown(test_package_versions, setup, teardown),
		cmocka_unit_test_setup_teardown(test_package_bad_version, setup, teardown),
		cmocka_unit_test_setup_teardown(test_host_and_hosts, setup, teardown),
		cmocka_unit_test_setup_teardown(test_tags_flow_list, setup, teardown),
		cmocka_unit_test_setup_teardown(test_template_and_edits_are_one_resource,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_edit_only_resource, setup, teardown),
		cmocka_unit_test_setup_teardown(test_edit_only_meta_and_create, setup, teardown),
		cmocka_unit_test_setup_teardown(test_edit_missing_file, setup, teardown),
		cmocka_unit_test_setup_teardown(test_absent_on_missing_file, setup, teardown),
		cmocka_unit_test_setup_teardown(test_edit_keys, setup, teardown),
		cmocka_unit_test_setup_teardown(test_edit_keys_refused, setup, teardown),
		cmocka_unit_test_setup_teardown(test_file_tree, setup, teardown),
		cmocka_unit_test_setup_teardown(test_tree_symlink_refused, setup, teardown),
		cmocka_unit_test_setup_teardown(test_secret_template, setup, teardown),
		cmocka_unit_test_setup_teardown(test_secret_through_edit, setup, teardown),
		cmocka_unit_test_setup_teardown(test_secret_through_env, setup, teardown),
		cmocka_unit_test_setup_teardown(test_command_needs_guard, setup, teardown),
		cmocka_unit_test_setup_teardown(test_src_must_stay_in_role, setup, teardown),
		cmocka_unit_test_setup_teardown(test_two_templates_same_dest, setup, teardown),
		cmocka_unit_test_setup_teardown(test_file_over_dir_refused, setup, teardown),
		cmocka_unit_test_setup_teardown(test_undefined_variable, setup, teardown),
		cmocka_unit_test_setup_teardown(test_dest_must_be_absolute, setup, teardown),
		cmocka_unit_test_setup_teardown(test_dest_must_be_normalized, setup, teardown),
		cmocka_unit_test_setup_teardown(test_files_dir_symlink_outside, setup, teardown),
		cmocka_unit_test_setup_teardown(test_edit_mode_kept_when_template_follows,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_role_load_missing, setup, teardown),
		cmocka_unit_test(test_repo_any_under),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
