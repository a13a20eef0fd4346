/* test_ssh_config.c - reading OpenSSH client configuration files. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "ssh_config.h"
#include "testutil.h"

struct fx {
	char *dir;
	struct lc_ssh_config *cfg;
	struct lc_ssh_host_cfg h;
};

static int setup(void **state)
{
	struct fx *f = lc_xcalloc(1, sizeof(*f));

	f->dir = tu_mkdtemp("sshcfg");
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fx *f = *state;

	lc_ssh_host_cfg_release(&f->h);
	lc_ssh_config_free(f->cfg);
	tu_rmrf(f->dir);
	free(f);
	return 0;
}

static char *write_cfg(struct fx *f, const char *name, const char *text)
{
	return tu_write(f->dir, name, text);
}

static void load_ok(struct fx *f, const char *text)
{
	struct lc_error err = LC_ERROR_INIT;
	char *p = write_cfg(f, "config", text);

	if (lc_ssh_config_load(&f->cfg, p, 0, &err))
		fail_msg("load: %s", err.msg);
	free(p);
}

static void lookup(struct fx *f, const char *name)
{
	lc_ssh_host_cfg_release(&f->h);
	lc_ssh_config_lookup(&f->h, f->cfg, name);
}

/* Host patterns, negation, the first value wins, several IdentityFiles,
 * Key=value and quotes, keywords in any case. */
static void test_hosts_and_first_value(void **state)
{
	struct fx *f = *state;

	load_ok(f,
		"# a comment\n"
		"\n"
		"Host web1 web-?\n"
		"  HostName 10.0.0.5\n"
		"  user=admin\n"
		"  IdentityFile ~/.ssh/web_key\n"
		"Host *.internal !db.internal\n"
		"  ProxyJump bastion\n"
		"Host *\n"
		"  User nobody\n"
		"  PORT 2222\n"
		"  IdentityFile \"/keys/with space\"\n"
		"  IdentitiesOnly yes\n"
		"  StrictHostKeyChecking accept-new\n"
		"  ConnectTimeout = 7\n");
	lookup(f, "web1");
	assert_string_equal(f->h.hostname, "10.0.0.5");
	assert_string_equal(f->h.user, "admin");
	assert_int_equal(f->h.port, 2222);
	assert_int_equal(f->h.n_identity_files, 2);
	assert_string_equal(f->h.identity_files[0], "~/.ssh/web_key");
	assert_string_equal(f->h.identity_files[1], "/keys/with space");
	assert_int_equal(f->h.identities_only, 1);
	assert_int_equal(f->h.strict, 0);
	assert_int_equal(f->h.connect_timeout, 7);
	assert_null(f->h.proxy_jump);
	lookup(f, "WEB-2");  /* host names match without regard to case */
	assert_string_equal(f->h.hostname, "10.0.0.5");
	lookup(f, "app.internal");
	assert_string_equal(f->h.proxy_jump, "bastion");
	assert_non_null(strstr(f->h.proxy_jump_where, "config:8"));
	assert_null(f->h.hostname);
	assert_string_equal(f->h.user, "nobody");
	lookup(f, "db.internal");
	assert_null(f->h.proxy_jump);
}

/* What `vagrant ssh-config` writes is a valid file. */
static void test_vagrant_ssh_config(void **state)
{
	struct fx *f = *state;

	load_ok(f,
		"Host default\n"
		"  HostName 127.0.0.1\n"
		"  User vagrant\n"
		"  Port 2222\n"
		"  UserKnownHostsFile /dev/null\n"
		"  StrictHostKeyChecking no\n"
		"  PasswordAuthentication no\n"
		"  IdentityFile /home/u/lab/.vagrant/machines/default/virtualbox/private_key\n"
		"  IdentitiesOnly yes\n"
		"  LogLevel FATAL\n"
		"  PubkeyAcceptedKeyTypes +ssh-rsa\n"
		"  HostKeyAlgorithms +ssh-rsa\n"
		"\n");
	lookup(f, "default");
	assert_string_equal(f->h.hostname, "127.0.0.1");
	assert_string_equal(f->h.user, "vagrant");
	assert_int_equal(f->h.port, 2222);
	assert_string_equal(f->h.known_hosts, "/dev/null");
	assert_int_equal(f->h.strict, 0);
	assert_int_equal(f->h.identities_only, 1);
	assert_int_equal(f->h.n_identity_files, 1);
	lookup(f, "other");
	assert_null(f->h.hostname);
	assert_int_equal(f->h.strict, -1);
	assert_int_equal(f->h.identities_only, -1);
}

static void test_include_and_match_all(void **state)
{
	struct fx *f = *state;
	char *inc = write_cfg(f, "conf.d/lab.conf", "Host lab1\n  HostName 10.9.9.9\n");
	char *text = lc_xasprintf("Include %s/conf.d/*.conf\nMatch all\n  User ops\n", f->dir);

	load_ok(f, text);
	lookup(f, "lab1");
	assert_string_equal(f->h.hostname, "10.9.9.9");
	assert_string_equal(f->h.user, "ops");
	free(text);
	free(inc);
}

/* file:line for what labctl cannot follow, and for bad values. */
static void test_errors_name_file_and_line(void **state)
{
	static const struct { const char *text, *msg; } cases[] = {
		{ "Host a\n  ProxyCommand ssh -W %h:%p b\n",
		  "config:2: ProxyCommand is not supported (labctl speaks SSH itself): use "
		  "ProxyJump for a bastion" },
		{ "Match exec \"true\"\n  User x\n",
		  "config:1: Match exec is not supported (only Match all): write Host blocks "
		  "instead" },
		{ "Host a\n\n  CertificateFile ~/.ssh/cert\n",
		  "config:3: labctl does not follow the ssh_config directive CertificateFile "
		  "(it would change how the host is reached)" },
		{ "Port 22x\n", "config:1: Port: expected a number, found '22x'" },
		{ "HostName\n", "config:1: HostName needs a value" },
		{ "User \"unbalanced\n", "config:1: unbalanced quotes" },
	};
	struct fx *f = *state;
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct lc_error err = LC_ERROR_INIT;
		char *p = write_cfg(f, "config", cases[i].text);
		char *want = lc_xasprintf("%s:%s", p, cases[i].msg + strlen("config:"));

		assert_int_equal(lc_ssh_config_load(&f->cfg, p, 0, &err), LC_EPARSE);
		assert_null(f->cfg);
		assert_string_equal(err.msg, want);
		free(want);
		free(p);
	}
	/* an unknown directive listed in IgnoreUnknown is ignored */
	load_ok(f, "IgnoreUnknown UseKeychain,Frobnicate*\nFrobnicateHard yes\nHost x\n  User y\n");
	lookup(f, "x");
	assert_string_equal(f->h.user, "y");
}

static void test_missing_file(void **state)
{
	struct fx *f = *state;
	struct lc_error err = LC_ERROR_INIT;
	char *p = lc_xasprintf("%s/nope", f->dir);

	assert_int_equal(lc_ssh_config_load(&f->cfg, p, 1, &err), 0);
	lookup(f, "anything");
	assert_null(f->h.hostname);
	lc_ssh_config_free(f->cfg);
	f->cfg = NULL;
	assert_int_equal(lc_ssh_config_load(&f->cfg, p, 0, &err), LC_EPARSE);
	tu_assert_contains(err.msg, "cannot read this ssh_config file");
	free(p);
}

static void test_expand(void **state)
{
	char *s;

	(void)state;
	setenv("HOME", "/home/tester", 1);
	s = lc_ssh_config_expand("~/.ssh/%h-%r-%p_%%", "web1", 2222, "admin");
	assert_string_equal(s, "/home/tester/.ssh/web1-admin-2222_%");
	free(s);
	s = lc_ssh_config_expand("/k/~x", "h", 22, "u");
	assert_string_equal(s, "/k/~x");
	free(s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_hosts_and_first_value, setup, teardown),
		cmocka_unit_test_setup_teardown(test_vagrant_ssh_config, setup, teardown),
		cmocka_unit_test_setup_teardown(test_include_and_match_all, setup, teardown),
		cmocka_unit_test_setup_teardown(test_errors_name_file_and_line, setup, teardown),
		cmocka_unit_test_setup_teardown(test_missing_file, setup, teardown),
		cmocka_unit_test_setup_teardown(test_expand, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
