/* test_inventory.c - loading inventory/lab.yaml: the repo's own lab, the
 * positioned errors, from_env variables and host selection. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <limits.h>
#include <libgen.h>

#include "inventory.h"
#include "testutil.h"

/* ---- helpers ----------------------------------------------------------- */

struct fx {
	char *dir;    /* temp dir */
	char *path;   /* dir/inventory/lab.yaml */
	struct lc_inventory inv;
	int loaded;
};

static int setup(void **state)
{
	struct fx *f = lc_xcalloc(1, sizeof(*f));

	f->dir = tu_mkdtemp("inv");
	f->path = lc_xasprintf("%s/inventory/lab.yaml", f->dir);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fx *f = *state;

	if (f->loaded)
		lc_inventory_release(&f->inv);
	tu_rmrf(f->dir);
	free(f->path);
	free(f);
	return 0;
}

/* Write yaml as the inventory and load it; a successful load is released
 * by teardown. */
static int load(struct fx *f, const char *yaml, struct lc_error *err)
{
	int rc;

	if (f->loaded)
		lc_inventory_release(&f->inv);
	f->loaded = 0;
	free(tu_write(NULL, f->path, yaml));
	rc = lc_inventory_load(&f->inv, f->path, err);
	f->loaded = rc == 0;
	return rc;
}

static void load_ok(struct fx *f, const char *yaml)
{
	struct lc_error err = LC_ERROR_INIT;

	if (load(f, yaml, &err))
		fail_msg("loading failed: %s", err.msg);
}

/* Loading yaml must fail with code and exactly "PATH:<where_msg>". */
static void load_fails(struct fx *f, const char *yaml, int code, const char *where_msg)
{
	struct lc_error err = LC_ERROR_INIT;
	char *want = lc_xasprintf("%s:%s", f->path, where_msg);
	int rc = load(f, yaml, &err);

	assert_int_equal(rc, code);
	assert_int_equal(err.code, code);
	assert_string_equal(err.msg, want);
	/* a failed load leaves nothing to release */
	assert_null(f->inv.hosts);
	assert_int_equal(f->inv.n_hosts, 0);
	free(want);
}

static void assert_tags(const struct lc_host *h, const char *const *want, size_t n)
{
	size_t i;

	assert_int_equal(h->tags->kind, LC_NODE_SEQ);
	assert_int_equal(h->tags->n_items, n);
	for (i = 0; i < n; i++)
		assert_string_equal(h->tags->items[i]->str, want[i]);
}

static const struct lc_node *var(const struct lc_node *vars, const char *name)
{
	const struct lc_node *v = lc_node_get(vars, name);

	if (!v)
		fail_msg("no variable '%s'", name);
	assert_int_equal(v->kind, LC_NODE_SCALAR);
	return v;
}

/* The repository root: LC_FIXTURES/../.. (CMake sets it to tests/fixtures,
 * which may not exist in a fresh checkout), else this file's ../.. */
static char *repo_root(void)
{
	const char *fx = getenv("LC_FIXTURES");
	char *p, *real = NULL, *tmp;

	if (fx && *fx) {
		tmp = lc_xstrdup(fx);
		p = lc_xstrdup(dirname(dirname(tmp)));   /* FIXTURES/../.. as text */
		free(tmp);
		real = realpath(p, NULL);
		free(p);
	}
	if (!real) {
		tmp = lc_xstrdup(__FILE__);
		p = lc_xasprintf("%s/../..", dirname(tmp));
		free(tmp);
		real = realpath(p, NULL);
		free(p);
	}
	assert_non_null(real);
	return real;
}

/* ---- the repo's own lab ------------------------------------------------ */

static void test_repo_lab(void **state)
{
	static const char *const names[] = { "postgresql", "chaos_engine", "demo_api",
		"twitter_collector", "frontend" };
	static const char *const demo_tags[] = { "env:development:local",
		"project:datadog-lab", "role:demo:api" };
	static const char *const pg_tags[] = { "env:development:local",
		"project:datadog-lab", "role:storage" };
	struct fx *f = *state;
	struct lc_error err = LC_ERROR_INIT;
	char *root = repo_root();
	char *path = lc_xasprintf("%s/inventory/lab.yaml", root);
	char *want, *parent;
	const struct lc_host *h;
	const struct lc_node *v;
	size_t i;

	setenv("DD_API_KEY", "dd-key-for-test", 1);
	if (lc_inventory_load(&f->inv, path, &err))
		fail_msg("%s: %s", path, err.msg);
	f->loaded = 1;
	assert_string_equal(f->inv.provider, "local");
	assert_int_equal(f->inv.n_hosts, 5);
	for (i = 0; i < 5; i++) {
		char addr[32];

		h = &f->inv.hosts[i];
		snprintf(addr, sizeof(addr), "127.0.10.%zu", i + 1);
		assert_string_equal(h->name, names[i]);
		assert_string_equal(h->address, addr);
		assert_int_equal(h->port, 22);
		assert_string_equal(h->user, "root");
		/* every host has its own role; base is implicit */
		assert_int_equal(h->n_roles, 1);
		assert_string_equal(h->roles[0], names[i]);
		assert_true(lc_host_has_role(h, "base"));
		assert_true(lc_host_has_role(h, names[i]));
		assert_false(lc_host_has_role(h, "nope"));
		assert_ptr_equal(lc_inventory_host(&f->inv, names[i]), h);
	}
	assert_null(lc_inventory_host(&f->inv, "nope"));

	/* lab tags first, then the host's */
	assert_tags(lc_inventory_host(&f->inv, "demo_api"), demo_tags, 3);
	assert_tags(lc_inventory_host(&f->inv, "postgresql"), pg_tags, 3);

	/* identity and known_hosts live in the state dir, next to the repo */
	want = lc_xasprintf("%s/.lab", root);
	if (access(want, F_OK) == 0) {
		assert_string_equal(f->inv.state_dir, want);
	} else {
		/* not created yet: ROOT/inventory/../.lab, unnormalized */
		char *tmp = lc_xstrdup(f->inv.state_dir);
		char *real;

		assert_string_equal(strrchr(f->inv.state_dir, '/'), "/.lab");
		parent = dirname(tmp);
		real = realpath(parent, NULL);
		assert_non_null(real);
		assert_string_equal(real, root);
		free(real);
		free(tmp);
	}
	free(want);
	want = lc_xasprintf("%s/id_ed25519", f->inv.state_dir);
	assert_string_equal(f->inv.identity_file, want);
	free(want);
	want = lc_xasprintf("%s/known_hosts", f->inv.state_dir);
	assert_string_equal(f->inv.known_hosts, want);
	free(want);
	want = lc_xasprintf("%s/roles", root);
	assert_string_equal(f->inv.roles_dir, want);
	free(want);
	assert_int_equal(f->inv.connect_timeout_ms, 10000);
	assert_int_equal(f->inv.command_timeout_ms, 600000);

	/* lab vars; dd_api_key comes from the environment and is secret */
	assert_string_equal(var(f->inv.vars, "env")->str, "development:local");
	assert_int_equal(var(f->inv.vars, "env")->secret, 0);
	assert_string_equal(var(f->inv.vars, "postgres_port")->str, "5432");
	v = var(f->inv.vars, "dd_api_key");
	assert_string_equal(v->str, "dd-key-for-test");
	assert_int_equal(v->secret, 1);
	h = lc_inventory_host(&f->inv, "demo_api");
	assert_string_equal(var(h->vars, "service")->str, "demo-api");
	assert_string_equal(var(h->vars, "app_port")->str, "8081");
	assert_null(lc_node_get(lc_inventory_host(&f->inv, "frontend")->vars, "app_port"));

	unsetenv("DD_API_KEY");
	free(path);
	free(root);
}

/* A small inventory: defaults that are not the lab's. */
static void test_defaults_and_overrides(void **state)
{
	struct fx *f = *state;
	const struct lc_host *h;

	load_ok(f,
		"provider: ssh\n"
		"ssh: { user: deploy, port: 2222, connect_timeout: 3, command_timeout: 60,\n"
		"       identity_file: keys/id, known_hosts: kh }\n"
		"hosts:\n"
		"  a: { address: 10.1.2.3 }\n"
		"  b: { address: 10.1.2.4, port: 22, user: admin, service_manager: daemon }\n");
	assert_string_equal(f->inv.provider, "ssh");
	assert_int_equal(f->inv.connect_timeout_ms, 3000);
	assert_int_equal(f->inv.command_timeout_ms, 60000);
	h = &f->inv.hosts[0];
	assert_string_equal(h->user, "deploy");
	assert_int_equal(h->port, 2222);
	assert_null(h->service_manager);
	assert_int_equal(h->n_roles, 0);
	assert_int_equal(h->tags->n_items, 0);
	assert_int_equal(h->vars->n_pairs, 0);
	h = &f->inv.hosts[1];
	assert_string_equal(h->user, "admin");
	assert_int_equal(h->port, 22);
	assert_string_equal(h->service_manager, "daemon");
	/* relative paths are relative to the inventory's directory */
	assert_non_null(strstr(f->inv.identity_file, "/inventory/keys/id"));
	assert_non_null(strstr(f->inv.known_hosts, "/inventory/kh"));
}

/* become: lab-wide in ssh, per host overrides; the password only from the
 * environment; lock: true unless the inventory or the host says not. */
static void test_become_and_lock(void **state)
{
	struct fx *f = *state;
	const struct lc_host *h;

	setenv("LC_TEST_SUDO_PW", "pw 1", 1);
	load_ok(f,
		"provider: ssh\n"
		"ssh: { user: admin, become: sudo, become_password: { from_env: LC_TEST_SUDO_PW } }\n"
		"hosts:\n"
		"  a: { address: 10.1.2.3 }\n"
		"  b: { address: 10.1.2.4, become: none, lock: false }\n"
		"  c: { address: 10.1.2.5, become_user: postgres }\n");
	h = &f->inv.hosts[0];
	assert_string_equal(h->become.method, "sudo");
	assert_null(h->become.user);
	assert_string_equal(h->become.password, "pw 1");
	assert_int_equal(h->lock, 1);
	h = &f->inv.hosts[1];
	assert_null(h->become.method);
	assert_int_equal(h->lock, 0);
	h = &f->inv.hosts[2];
	assert_string_equal(h->become.method, "sudo");
	assert_string_equal(h->become.user, "postgres");
	unsetenv("LC_TEST_SUDO_PW");
}

static void test_become_errors(void **state)
{
	struct fx *f = *state;

	load_fails(f,
		"ssh: { become: su }\n"
		"hosts: { web: { address: 10.0.0.1 } }\n", LC_EPARSE,
		"1:16: expected 'sudo' (or none) for become");
	load_fails(f,
		"hosts: { web: { address: 10.0.0.1, become: sudo, become_password: hunter2 } }\n",
		LC_EPARSE, "1:67: become_password must be { from_env: NAME }: a password is never "
		"written in an inventory");
	load_fails(f,
		"hosts: { web: { address: 10.0.0.1, become_user: 'a b' } }\n", LC_EPARSE,
		"1:49: invalid become_user 'a b'");
}

/* ---- positioned errors -------------------------------------------------- */

static void test_unknown_key(void **state)
{
	struct fx *f = *state;

	load_fails(f,
		"provider: local\n"
		"hosts:\n"
		"  web:\n"
		"    adress: 127.0.0.2\n", LC_EPARSE,
		"4:5: unknown key 'adress' in a host (expected one of: address, port, user, "
		"roles, tags, vars, service_manager, become, become_user, become_password, lock, "
		"identity_file, ssh_alias)");
	load_fails(f,
		"provider: local\n"
		"host:\n"
		"  web: { address: 127.0.0.2 }\n", LC_EPARSE,
		"2:1: unknown key 'host' in the inventory (expected one of: name, provider, "
		"state_dir, roles_dir, project_dir, ssh, tags, vars, hosts, lock, agent)");
	load_fails(f,
		"ssh: { user: root, prot: 22 }\n"
		"hosts: { web: { address: 10.0.0.1 } }\n", LC_EPARSE,
		"1:20: unknown key 'prot' in ssh (expected one of: user, port, identity_file, "
		"known_hosts, connect_timeout, command_timeout, become, become_user, become_password, "
		"config_file)");
}

/* agent: the flavor the hosts run, as the variable `agent` roles see. */
static void test_agent(void **state)
{
	struct fx *f = *state;
	const struct lc_node *a;
	char *key;

	load_ok(f, "hosts: { web: { address: 127.0.0.2 } }\n");
	a = lc_node_get(f->inv.vars, "agent");
	assert_non_null(a);
	assert_string_equal(lc_node_get(a, "flavor")->str, "lab");
	assert_string_equal(lc_node_get(a, "version")->str, "");
	assert_string_equal(lc_node_get(a, "apt_url")->str, "https://apt.datadoghq.com/");
	assert_string_equal(lc_node_get(a, "apt_dist")->str, "stable");
	assert_string_equal(lc_node_get(a, "apt_component")->str, "7");

	key = tu_write(f->dir, "inventory/keys/mirror.asc",
		       "-----BEGIN PGP PUBLIC KEY BLOCK-----\nabc\n-----END PGP PUBLIC KEY BLOCK-----\n");
	free(key);
	load_ok(f, "agent: { flavor: datadog, version: \"7.52.1-1\", apt_url: \"http://127.0.0.1:8080/dd/\", "
		   "apt_dist: lab, key_file: keys/mirror.asc }\n"
		   "hosts: { web: { address: 127.0.0.2 } }\n");
	a = lc_node_get(f->inv.vars, "agent");
	assert_string_equal(lc_node_get(a, "flavor")->str, "datadog");
	assert_string_equal(lc_node_get(a, "version")->str, "7.52.1-1");
	assert_string_equal(lc_node_get(a, "package_version")->str, "7.52.1-1");
	assert_string_equal(lc_node_get(a, "apt_url")->str, "http://127.0.0.1:8080/dd/");
	assert_string_equal(lc_node_get(a, "apt_dist")->str, "lab");
	tu_assert_contains(lc_node_get(a, "key")->str, "BEGIN PGP PUBLIC KEY BLOCK");

	load_fails(f, "agent: { flavor: real }\nhosts: { web: { address: 127.0.0.2 } }\n",
		   LC_EPARSE, "1:18: agent flavor must be 'lab' (lab-agent, offline) or 'datadog' "
		   "(the Datadog Agent package)");
	load_fails(f, "agent: { flavor: datadog, key_file: keys/mirror.asc }\n"
		   "hosts: { web: { address: 127.0.0.2 } }\n",
		   LC_EPARSE, "1:8: agent flavor 'datadog' needs 'version' (the datadog-agent package "
		   "version to pin, e.g. \"7.52.1-1\")");
	load_fails(f, "agent: { flavor: datadog, version: 7.52.1 }\n"
		   "hosts: { web: { address: 127.0.0.2 } }\n",
		   LC_EPARSE, "1:8: agent flavor 'datadog' needs 'key_file': the repository's signing "
		   "key, ASCII-armored (Datadog's: "
		   "https://keys.datadoghq.com/DATADOG_APT_KEY_CURRENT.public)");
	load_fails(f, "agent: { version: \"7; rm -rf /\" }\nhosts: { web: { address: 127.0.0.2 } }\n",
		   LC_EPARSE, "1:19: agent version must be a package version such as 7.52.1-1");
	load_fails(f, "agent: { apt_url: \"http://x y\" }\nhosts: { web: { address: 127.0.0.2 } }\n",
		   LC_EPARSE, "1:19: agent apt_url must be one word");
	load_fails(f, "agent: { flav: lab }\nhosts: { web: { address: 127.0.0.2 } }\n",
		   LC_EPARSE, "1:10: unknown key 'flav' in 'agent' (expected one of: flavor, version, "
		   "apt_url, apt_dist, apt_component, key_file)");
	load_fails(f, "vars: { agent: x }\nhosts: { web: { address: 127.0.0.2 } }\n",
		   LC_EPARSE, "1:9: 'agent' is reserved and cannot be set as a variable");
}

static void test_duplicate_key(void **state)
{
	struct fx *f = *state;

	load_fails(f,
		"provider: local\n"
		"hosts:\n"
		"  web:\n"
		"    address: 127.0.0.2\n"
		"    port: 22\n"
		"    address: 127.0.0.3\n", LC_EPARSE,
		"6:5: duplicate key 'address' (first defined at line 4)");
	load_fails(f,
		"provider: local\n"
		"hosts:\n"
		"  web: { address: 127.0.0.2 }\n"
		"  web: { address: 127.0.0.3 }\n", LC_EPARSE,
		"4:3: duplicate key 'web' (first defined at line 3)");
}

static void test_wrong_types(void **state)
{
	struct fx *f = *state;

	load_fails(f,
		"provider: local\n"
		"hosts:\n"
		"  web:\n"
		"    address: 127.0.0.2\n"
		"    port: \"x\"\n", LC_EPARSE,
		"5:11: expected an integer from 1 to 65535, found 'x' (quoted)");
	load_fails(f,
		"provider: local\n"
		"hosts:\n"
		"  web:\n"
		"    address: 127.0.0.2\n"
		"    port: 70000\n", LC_EPARSE,
		"5:11: expected an integer from 1 to 65535, found '70000'");
	load_fails(f,
		"provider: local\n"
		"hosts:\n"
		"  web:\n"
		"    address: 127.0.0.2\n"
		"    roles: demo_api\n", LC_EPARSE,
		"5:12: expected a list for 'roles', found a scalar");
	load_fails(f,
		"provider: local\n"
		"hosts:\n"
		"  web:\n"
		"    address: [127.0.0.2]\n", LC_EPARSE,
		"4:14: expected a scalar for address, found a list");
	load_fails(f,
		"provider: local\n"
		"hosts: [web]\n", LC_EPARSE,
		"2:8: expected a mapping for 'hosts', found a list");
	load_fails(f,
		"provider: docker\n"
		"hosts: { web: { address: 127.0.0.2 } }\n", LC_EPARSE,
		"1:11: unknown provider 'docker' (expected local or ssh)");
	load_fails(f,
		"provider: local\n"
		"hosts: { web: { address: 127.0.0.2, service_manager: upstart } }\n", LC_EPARSE,
		"2:54: expected 'daemon' or 'systemd' for service_manager");
}

static void test_missing_address(void **state)
{
	struct fx *f = *state;

	load_fails(f,
		"provider: local\n"
		"hosts:\n"
		"  db: { address: 127.0.0.2 }\n"
		"  web:\n"
		"    roles: [demo_api]\n", LC_EPARSE,
		"4:3: host 'web' has no 'address'");
}

static void test_empty_and_no_hosts(void **state)
{
	struct fx *f = *state;
	struct lc_error err = LC_ERROR_INIT;
	char *want;

	assert_int_equal(load(f, "# nothing here\n", &err), LC_EPARSE);
	want = lc_xasprintf("%s: the inventory is empty (expected a mapping with 'hosts')",
			    f->path);
	assert_string_equal(err.msg, want);
	free(want);
	assert_int_equal(load(f, "provider: local\n", &err), LC_EPARSE);
	want = lc_xasprintf("%s: the inventory has no 'hosts'", f->path);
	assert_string_equal(err.msg, want);
	free(want);
	load_fails(f, "hosts: {}\n", LC_EPARSE, "1:8: 'hosts' is empty");
}

static void test_local_address_outside_loopback(void **state)
{
	struct fx *f = *state;

	load_fails(f,
		"provider: local\n"
		"hosts:\n"
		"  web: { address: 10.0.0.1 }\n", LC_EPARSE,
		"3:19: local lab hosts must have an address in 127.0.0.0/8, found '10.0.0.1'");
	load_fails(f,
		"provider: local\n"
		"hosts:\n"
		"  web: { address: localhost }\n", LC_EPARSE,
		"3:19: local lab hosts must have an address in 127.0.0.0/8, found 'localhost'");
	load_fails(f,
		"provider: local\n"
		"hosts:\n"
		"  web: { address: 128.0.0.1 }\n", LC_EPARSE,
		"3:19: local lab hosts must have an address in 127.0.0.0/8, found '128.0.0.1'");
	/* the edges of 127/8 are in */
	load_ok(f,
		"provider: local\n"
		"hosts:\n"
		"  a: { address: 127.0.0.1 }\n"
		"  b: { address: 127.255.255.254 }\n");
	assert_int_equal(f->inv.n_hosts, 2);
	/* the ssh provider takes any address */
	load_ok(f,
		"provider: ssh\n"
		"hosts:\n"
		"  web: { address: 10.0.0.1 }\n");
	assert_string_equal(f->inv.hosts[0].address, "10.0.0.1");
}

static void test_reserved_vars(void **state)
{
	struct fx *f = *state;

	load_fails(f,
		"provider: local\n"
		"vars:\n"
		"  tags: [a]\n"
		"hosts: { web: { address: 127.0.0.2 } }\n", LC_EPARSE,
		"3:3: 'tags' is reserved and cannot be set as a variable (use the 'tags' key "
		"of the lab or the host)");
	load_fails(f,
		"provider: local\n"
		"hosts:\n"
		"  web:\n"
		"    address: 127.0.0.2\n"
		"    vars:\n"
		"      hosts: x\n", LC_EPARSE,
		"6:7: 'hosts' is reserved and cannot be set as a variable");
	load_fails(f,
		"provider: local\n"
		"vars: { inventory_hostname: x }\n"
		"hosts: { web: { address: 127.0.0.2 } }\n", LC_EPARSE,
		"2:9: 'inventory_hostname' is reserved and cannot be set as a variable");
	load_fails(f,
		"provider: local\n"
		"vars: { \"a b\": x }\n"
		"hosts: { web: { address: 127.0.0.2 } }\n", LC_EPARSE,
		"2:9: invalid variable name 'a b' (letters, digits, '_' and '-')");
}

/* ---- from_env ----------------------------------------------------------- */

static void test_from_env(void **state)
{
	struct fx *f = *state;
	const struct lc_node *v;
	const struct lc_host *h;

	setenv("LC_TEST_TOKEN", "t0k3n $(x)", 1);
	unsetenv("LC_TEST_UNSET");
	load_ok(f,
		"provider: local\n"
		"vars:\n"
		"  token: { from_env: LC_TEST_TOKEN }\n"
		"  fallback: { from_env: LC_TEST_UNSET, default: \"dflt\" }\n"
		"  shown: { from_env: LC_TEST_TOKEN, secret: false }\n"
		"  nested: { list: [ { from_env: LC_TEST_TOKEN } ] }\n"
		"hosts:\n"
		"  web:\n"
		"    address: 127.0.0.2\n"
		"    vars: { mine: { from_env: LC_TEST_TOKEN, default: unused } }\n");
	v = var(f->inv.vars, "token");
	assert_string_equal(v->str, "t0k3n $(x)");
	assert_int_equal(v->len, strlen("t0k3n $(x)"));
	assert_int_equal(v->secret, 1);
	/* a resolved value keeps the position of what it replaced */
	assert_int_equal(v->line, 3);
	v = var(f->inv.vars, "fallback");
	assert_string_equal(v->str, "dflt");
	assert_int_equal(v->secret, 1);
	v = var(f->inv.vars, "shown");
	assert_string_equal(v->str, "t0k3n $(x)");
	assert_int_equal(v->secret, 0);
	v = lc_node_get(lc_node_get(f->inv.vars, "nested"), "list");
	assert_non_null(v);
	assert_int_equal(v->kind, LC_NODE_SEQ);
	assert_int_equal(v->n_items, 1);
	assert_string_equal(v->items[0]->str, "t0k3n $(x)");
	assert_int_equal(v->items[0]->secret, 1);
	h = &f->inv.hosts[0];
	v = var(h->vars, "mine");
	assert_string_equal(v->str, "t0k3n $(x)");
	assert_int_equal(v->secret, 1);
	/* an empty environment value is a value, not "unset" */
	setenv("LC_TEST_UNSET", "", 1);
	load_ok(f,
		"provider: local\n"
		"vars: { e: { from_env: LC_TEST_UNSET, default: dflt } }\n"
		"hosts: { web: { address: 127.0.0.2 } }\n");
	assert_string_equal(var(f->inv.vars, "e")->str, "");
	unsetenv("LC_TEST_UNSET");
	unsetenv("LC_TEST_TOKEN");
}

static void test_from_env_errors(void **state)
{
	struct fx *f = *state;

	unsetenv("LC_TEST_UNSET");
	load_fails(f,
		"provider: local\n"
		"vars:\n"
		"  token: { from_env: LC_TEST_UNSET }\n"
		"hosts: { web: { address: 127.0.0.2 } }\n", LC_EUNDEF,
		"3:22: environment variable LC_TEST_UNSET is not set and has no default");
	load_fails(f,
		"provider: local\n"
		"hosts:\n"
		"  web:\n"
		"    address: 127.0.0.2\n"
		"    vars: { t: { from_env: LC_TEST_UNSET, secret: maybe } }\n", LC_EPARSE,
		"5:51: expected true or false, found 'maybe'");
	load_fails(f,
		"provider: local\n"
		"vars: { t: { from_env: \"A B\" } }\n"
		"hosts: { web: { address: 127.0.0.2 } }\n", LC_EPARSE,
		"2:24: expected an environment variable name for from_env");
	load_fails(f,
		"provider: local\n"
		"vars: { t: { from_env: HOME, dfault: x } }\n"
		"hosts: { web: { address: 127.0.0.2 } }\n", LC_EPARSE,
		"2:30: unknown key 'dfault' in a from_env value (expected one of: from_env, "
		"secret, default)");
}

/* ---- selection ---------------------------------------------------------- */

static const char lab3[] =
	"provider: local\n"
	"hosts:\n"
	"  db:   { address: 127.0.0.2, roles: [postgresql] }\n"
	"  api:  { address: 127.0.0.3, roles: [demo_api, frontend] }\n"
	"  web:  { address: 127.0.0.4, roles: [frontend] }\n";

static void check_select(struct fx *f, char *const *targets, size_t n, const char *want)
{
	struct lc_error err = LC_ERROR_INIT;
	unsigned char mask[3];
	char got[4];
	size_t i;

	memset(mask, 7, sizeof(mask));
	if (lc_inventory_select(mask, &f->inv, targets, n, &err))
		fail_msg("select: %s", err.msg);
	for (i = 0; i < 3; i++)
		got[i] = mask[i] == 1 ? '1' : mask[i] == 0 ? '0' : '?';
	got[3] = '\0';
	assert_string_equal(got, want);
}

static void test_select(void **state)
{
	struct fx *f = *state;
	char *by_host[] = { "web" };
	char *by_role[] = { "frontend" };
	char *mixed[] = { "db", "demo_api" };
	char *base[] = { "base" };
	char *unknown[] = { "db", "nope" };
	struct lc_error err = LC_ERROR_INIT;
	unsigned char mask[3];
	char *want;

	load_ok(f, lab3);
	check_select(f, NULL, 0, "111");
	check_select(f, by_host, 1, "001");
	check_select(f, by_role, 1, "011");
	check_select(f, mixed, 2, "110");
	check_select(f, base, 1, "111");
	assert_int_equal(lc_inventory_select(mask, &f->inv, unknown, 2, &err), LC_EUSAGE);
	assert_int_equal(err.code, LC_EUSAGE);
	want = lc_xasprintf("'nope' is neither a host nor a role of any host in %s", f->path);
	assert_string_equal(err.msg, want);
	free(want);
}

static void test_same_address_and_port(void **state)
{
	struct fx *f = *state;

	load_fails(f,
		"provider: local\n"
		"hosts:\n"
		"  a: { address: 127.0.0.2 }\n"
		"  b: { address: 127.0.0.3 }\n"
		"  c: { address: 127.0.0.2, port: 22 }\n", LC_EPARSE,
		"5:3: host 'c' has the same address and port as 'a'");
	/* the same address on another port is another host */
	load_ok(f,
		"provider: local\n"
		"hosts:\n"
		"  a: { address: 127.0.0.2 }\n"
		"  b: { address: 127.0.0.2, port: 2222 }\n");
	assert_int_equal(f->inv.n_hosts, 2);
	assert_int_equal(f->inv.hosts[1].port, 2222);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_repo_lab, setup, teardown),
		cmocka_unit_test_setup_teardown(test_defaults_and_overrides, setup, teardown),
		cmocka_unit_test_setup_teardown(test_unknown_key, setup, teardown),
		cmocka_unit_test_setup_teardown(test_agent, setup, teardown),
		cmocka_unit_test_setup_teardown(test_duplicate_key, setup, teardown),
		cmocka_unit_test_setup_teardown(test_wrong_types, setup, teardown),
		cmocka_unit_test_setup_teardown(test_missing_address, setup, teardown),
		cmocka_unit_test_setup_teardown(test_empty_and_no_hosts, setup, teardown),
		cmocka_unit_test_setup_teardown(test_local_address_outside_loopback, setup, teardown),
		cmocka_unit_test_setup_teardown(test_reserved_vars, setup, teardown),
		cmocka_unit_test_setup_teardown(test_from_env, setup, teardown),
		cmocka_unit_test_setup_teardown(test_from_env_errors, setup, teardown),
		cmocka_unit_test_setup_teardown(test_select, setup, teardown),
		cmocka_unit_test_setup_teardown(test_become_and_lock, setup, teardown),
		cmocka_unit_test_setup_teardown(test_become_errors, setup, teardown),
		cmocka_unit_test_setup_teardown(test_same_address_and_port, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
