/* test_reach.c - inventory + ssh_config -> how each host is reached, for
 * the shipped example inventories (Vagrant, cloud behind a bastion). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "reach.h"
#include "testutil.h"

static char *source_path(const char *rel)
{
	const char *src = getenv("LC_SOURCE_DIR");

	assert_non_null(src);
	return lc_xasprintf("%s/%s", src, rel);
}

static void copy_file(const char *from, const char *dir, const char *rel)
{
	size_t len;
	char *data = tu_read(from, &len);

	free(tu_write_n(dir, rel, data, len));
	free(data);
}

static const struct lc_host *host(const struct lc_inventory *inv, const char *name)
{
	const struct lc_host *h = lc_inventory_host(inv, name);

	assert_non_null(h);
	return h;
}

/* inventory/vagrant.yaml with what `vagrant ssh-config` writes: each VM
 * through its forwarded port, its key, no known_hosts (keys accepted). */
static void test_vagrant_inventory(void **state)
{
	struct lc_error err = LC_ERROR_INIT;
	char *dir = tu_mkdtemp("reach"), *src = source_path("inventory/vagrant.yaml"), *inv_path;
	struct lc_inventory inv;
	struct lc_ssh_config *cfg;
	struct lc_reach *r;

	(void)state;
	copy_file(src, dir, "inventory/vagrant.yaml");
	tu_put(dir, ".lab/vagrant.ssh_config",
	       "Host postgresql\n  HostName 127.0.0.1\n  User vagrant\n  Port 2222\n"
	       "  UserKnownHostsFile /dev/null\n  StrictHostKeyChecking no\n"
	       "  PasswordAuthentication no\n"
	       "  IdentityFile /home/u/lab/.vagrant/machines/postgresql/virtualbox/private_key\n"
	       "  IdentitiesOnly yes\n  LogLevel FATAL\n  PubkeyAcceptedKeyTypes +ssh-rsa\n"
	       "  HostKeyAlgorithms +ssh-rsa\n\n"
	       "Host demo_api\n  HostName 127.0.0.1\n  User vagrant\n  Port 2201\n"
	       "  UserKnownHostsFile /dev/null\n  StrictHostKeyChecking no\n"
	       "  IdentityFile /home/u/lab/.vagrant/machines/demo_api/virtualbox/private_key\n"
	       "  IdentitiesOnly yes\n");
	inv_path = lc_xasprintf("%s/inventory/vagrant.yaml", dir);
	if (lc_inventory_load(&inv, inv_path, &err))
		fail_msg("%s", err.msg);
	if (lc_reach_load_config(&cfg, &inv, &err))
		fail_msg("%s", err.msg);
	assert_int_equal(lc_reach_resolve(&r, &inv, host(&inv, "demo_api"), cfg, 0, &err), 0);
	assert_string_equal(r->opts.address, "127.0.0.1");
	assert_int_equal(r->opts.port, 2201);
	assert_string_equal(r->opts.user, "vagrant");
	assert_string_equal(r->opts.known_hosts, "/dev/null");
	assert_int_equal(r->opts.accept_new_hostkeys, 1);
	assert_int_equal(r->opts.n_identity_files, 1);
	assert_non_null(strstr(r->opts.identity_files[0], "machines/demo_api/"));
	assert_int_equal(r->opts.agent_fallback, 0);
	assert_null(r->opts.jump);
	assert_string_equal(host(&inv, "demo_api")->become.method, "sudo");
	assert_string_equal(host(&inv, "demo_api")->address, "192.168.56.13");  /* services */
	lc_reach_free(r);
	lc_ssh_config_free(cfg);
	lc_inventory_release(&inv);
	free(inv_path);
	free(src);
	tu_rmrf(dir);
}

/* inventory/cloud.example.yaml: admin with sudo, every VM through the
 * bastion that inventory/cloud.ssh_config names. */
static void test_cloud_inventory(void **state)
{
	struct lc_error err = LC_ERROR_INIT;
	char *path = source_path("inventory/cloud.example.yaml");
	struct lc_inventory inv;
	struct lc_ssh_config *cfg;
	struct lc_reach *r;

	(void)state;
	setenv("HOME", "/home/tester", 1);
	setenv("DD_API_KEY", "k", 1);
	setenv("LAB_PG_DATADOG_PASSWORD", "p1", 1);
	setenv("LAB_PG_COLLECTOR_PASSWORD", "p2", 1);
	if (lc_inventory_load(&inv, path, &err))
		fail_msg("%s", err.msg);
	if (lc_reach_load_config(&cfg, &inv, &err))
		fail_msg("%s", err.msg);
	assert_int_equal(lc_reach_resolve(&r, &inv, host(&inv, "postgresql"), cfg, 0, &err), 0);
	assert_string_equal(r->opts.address, "10.0.1.11");
	assert_string_equal(r->opts.user, "admin");
	assert_string_equal(r->opts.identity_files[0], "/home/tester/.ssh/lab_ed25519");
	assert_string_equal(r->opts.known_hosts, "/home/tester/.ssh/known_hosts");
	assert_int_equal(r->opts.accept_new_hostkeys, 0);
	assert_non_null(r->opts.jump);
	assert_string_equal(r->opts.jump->address, "203.0.113.10");
	assert_string_equal(r->opts.jump->user, "admin");
	assert_string_equal(r->opts.jump->name, "jump host bastion");
	assert_null(r->opts.jump->jump);
	lc_reach_free(r);
	lc_ssh_config_free(cfg);
	lc_inventory_release(&inv);
	free(path);
}

/* A ProxyJump loop is an error naming the config line, not a hang. */
static void test_jump_loop(void **state)
{
	struct lc_error err = LC_ERROR_INIT;
	char *dir = tu_mkdtemp("reach"), *inv_path;
	struct lc_inventory inv;
	struct lc_ssh_config *cfg;
	struct lc_reach *r;

	(void)state;
	tu_put(dir, "ssh_config", "Host a\n  ProxyJump b\nHost b\n  ProxyJump a\n");
	tu_put(dir, "inv.yaml", "provider: ssh\nssh: { config_file: ssh_config }\n"
	       "hosts: { web: { address: a } }\n");
	inv_path = lc_xasprintf("%s/inv.yaml", dir);
	if (lc_inventory_load(&inv, inv_path, &err))
		fail_msg("%s", err.msg);
	if (lc_reach_load_config(&cfg, &inv, &err))
		fail_msg("%s", err.msg);
	assert_int_equal(lc_reach_resolve(&r, &inv, host(&inv, "web"), cfg, 0, &err), LC_EPARSE);
	tu_assert_contains(err.msg, "ProxyJump: more than 8 hops (a loop?)");
	tu_assert_contains(err.msg, "ssh_config:");
	lc_ssh_config_free(cfg);
	lc_inventory_release(&inv);
	free(inv_path);
	tu_rmrf(dir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_vagrant_inventory),
		cmocka_unit_test(test_cloud_inventory),
		cmocka_unit_test(test_jump_loop),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
