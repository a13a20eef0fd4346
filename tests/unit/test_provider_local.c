/* test_provider_local.c - the local lab hosts, for real: start two hosts,
 * check them with OpenSSH's ssh and sftp (never with labctl itself), reuse
 * them, stop them, and check nothing is left.  Needs root, sshd and the
 * loopback addresses 127.0.10.111/112; runs only with LC_TEST_LOCAL_LAB=1. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "buf.h"
#include "provider_local.h"

#define ADDR_ONE "127.0.10.111"
#define ADDR_TWO "127.0.10.112"

struct fixture {
	struct lc_buf state;     /* a fresh STATE under /tmp */
	struct lc_buf key, known_hosts;
};

static int lab_enabled(void)
{
	const char *v = getenv("LC_TEST_LOCAL_LAB");

	return v && !strcmp(v, "1");
}

static int rm_one(const char *path, const struct stat *st, int type, struct FTW *ftw)
{
	(void)st;
	(void)ftw;
	return type == FTW_DP ? rmdir(path) : unlink(path);
}

static int setup(void **state)
{
	struct fixture *f = lc_xcalloc(1, sizeof(*f));
	char tmpl[] = "/tmp/lc-test-local-XXXXXX";

	assert_non_null(mkdtemp(tmpl));
	lc_buf_init(&f->state);
	lc_buf_addf(&f->state, "%s/state", tmpl);
	lc_buf_init(&f->key);
	lc_local_key_path(&f->key, f->state.buf);
	lc_buf_init(&f->known_hosts);
	lc_local_known_hosts_path(&f->known_hosts, f->state.buf);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;
	struct lc_error err = LC_ERROR_INIT;
	char *dir = lc_xstrdup(f->state.buf);

	/* whatever happened in the test, leave no host behind */
	if (lab_enabled() && geteuid() == 0 && access(f->state.buf, F_OK) == 0)
		lc_local_down(f->state.buf, NULL, 0, &err);
	*strrchr(dir, '/') = '\0';
	nftw(dir, rm_one, 16, FTW_DEPTH | FTW_PHYS | FTW_MOUNT);
	free(dir);
	lc_buf_release(&f->state);
	lc_buf_release(&f->key);
	lc_buf_release(&f->known_hosts);
	free(f);
	return 0;
}

/* Run argv (no shell) with stdin from in_path (or /dev/null); stdout and
 * stderr into out.  Returns the exit status, or -1. */
static int run(struct lc_buf *out, const char *in_path, const char *const *argv)
{
	char tmp[4096];
	int fds[2], status, in;
	ssize_t r;
	pid_t pid;

	lc_buf_reset(out);
	if (pipe(fds) < 0)
		return -1;
	pid = fork();
	if (pid < 0)
		return -1;
	if (pid == 0) {
		in = open(in_path ? in_path : "/dev/null", O_RDONLY);
		if (in < 0 || dup2(in, 0) < 0 || dup2(fds[1], 1) < 0 || dup2(fds[1], 2) < 0)
			_exit(126);
		close(fds[0]);
		close(fds[1]);
		close(in);
		execv(argv[0], (char *const *)argv);
		_exit(127);
	}
	close(fds[1]);
	while ((r = read(fds[0], tmp, sizeof(tmp))) > 0 || (r < 0 && errno == EINTR))
		if (r > 0)
			lc_buf_add(out, tmp, (size_t)r);
	close(fds[0]);
	if (waitpid(pid, &status, 0) < 0)
		return -1;
	return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

/* ssh root@addr cmd, strictly checking the host key labctl wrote. */
static int ssh_run(const struct fixture *f, struct lc_buf *out, const char *addr,
		   const char *cmd)
{
	struct lc_buf khopt = LC_BUF_INIT, dest = LC_BUF_INIT;
	int rc;

	lc_buf_addf(&khopt, "UserKnownHostsFile=%s", f->known_hosts.buf);
	lc_buf_addf(&dest, "root@%s", addr);
	{
		const char *argv[] = { "/usr/bin/ssh", "-F", "/dev/null", "-i", f->key.buf,
				       "-o", khopt.buf, "-o", "StrictHostKeyChecking=yes",
				       "-o", "BatchMode=yes", "-o", "ConnectTimeout=5",
				       dest.buf, cmd, NULL };
		rc = run(out, NULL, argv);
	}
	lc_buf_release(&khopt);
	lc_buf_release(&dest);
	return rc;
}

static pid_t read_pid(const struct fixture *f, const char *name)
{
	struct lc_buf path = LC_BUF_INIT;
	char text[32] = { 0 };
	ssize_t r = -1;
	int fd;

	lc_buf_addf(&path, "%s/hosts/%s/init.pid", f->state.buf, name);
	fd = open(path.buf, O_RDONLY);
	if (fd >= 0) {
		r = read(fd, text, sizeof(text) - 1);
		close(fd);
	}
	lc_buf_release(&path);
	return r > 0 ? (pid_t)strtol(text, NULL, 10) : 0;
}

static int pid_gone(pid_t pid)
{
	struct lc_buf path = LC_BUF_INIT;
	char tmp[512];
	ssize_t r;
	int fd, gone = 1;

	if (kill(pid, 0) < 0)
		return errno == ESRCH;
	/* a zombie waiting for its reaper is gone as far as we care */
	lc_buf_addf(&path, "/proc/%d/stat", (int)pid);
	fd = open(path.buf, O_RDONLY);
	if (fd >= 0) {
		r = read(fd, tmp, sizeof(tmp) - 1);
		if (r > 0) {
			tmp[r] = '\0';
			gone = strrchr(tmp, ')') && strrchr(tmp, ')')[2] == 'Z';
		}
		close(fd);
	}
	lc_buf_release(&path);
	return gone;
}

static void read_text(struct lc_buf *out, const char *path)
{
	char tmp[4096];
	ssize_t r;
	int fd = open(path, O_RDONLY);

	lc_buf_reset(out);
	if (fd < 0)
		return;
	while ((r = read(fd, tmp, sizeof(tmp))) > 0)
		lc_buf_add(out, tmp, (size_t)r);
	close(fd);
}

static void test_nothing_to_do(void **state)
{
	struct fixture *f = *state;
	struct lc_error err = LC_ERROR_INIT;

	/* no state dir: nothing runs, nothing to stop */
	assert_int_equal(lc_local_is_running(f->state.buf, "t_one"), 0);
	assert_int_equal(lc_local_down(f->state.buf, NULL, 0, &err), 0);
	if (geteuid() != 0) {
		assert_int_not_equal(lc_local_check(&err), 0);
		assert_non_null(strstr(err.msg, "needs root"));
	}
}

static void test_lifecycle(void **state)
{
	struct fixture *f = *state;
	struct lc_error err = LC_ERROR_INIT;
	struct lc_local_host hosts[] = {
		{ "t_one", ADDR_ONE, 22 },
		{ "t_two", ADDR_TWO, 22 },
	};
	struct lc_local_host bad[] = { { "t_bad", "10.0.0.1", 22 } };
	struct lc_local_result res[2];
	struct lc_buf out = LC_BUF_INIT, tmp = LC_BUF_INIT, batch = LC_BUF_INIT;
	struct lc_buf path = LC_BUF_INIT;
	pid_t pid_one, pid_two;
	int marker_before, fd;

	if (!lab_enabled() || geteuid() != 0)
		skip();
	if (lc_local_check(&err) != 0 || lc_local_ensure_keys(f->state.buf, &err) != 0)
		fail_msg("%s", err.msg);
	assert_int_equal(access(f->key.buf, R_OK), 0);

	/* anything outside 127.0.0.0/8 is refused */
	assert_int_not_equal(lc_local_up(f->state.buf, bad, 1, res, &err), 0);
	assert_int_equal(res[0].state, LC_LOCAL_FAILED);
	assert_non_null(strstr(res[0].err.msg, "127.0.0.0/8"));

	if (lc_local_up(f->state.buf, hosts, 2, res, &err) != 0)
		fail_msg("lc_local_up: %s", err.msg);
	assert_int_equal(res[0].state, LC_LOCAL_STARTED);
	assert_int_equal(res[1].state, LC_LOCAL_STARTED);
	assert_int_equal(lc_local_is_running(f->state.buf, "t_one"), 1);
	assert_int_equal(lc_local_is_running(f->state.buf, "t_two"), 1);
	read_text(&out, f->known_hosts.buf);
	assert_non_null(strstr(out.buf, ADDR_ONE " ssh-ed25519 "));
	assert_non_null(strstr(out.buf, ADDR_TWO " ssh-ed25519 "));

	/* a host of its own: hostname, init as PID 1, a clean /root */
	marker_before = access("/etc/marker", F_OK) == 0;
	assert_int_equal(ssh_run(f, &out, ADDR_ONE,
				 "hostname; cat /proc/1/comm; ls -A /root; touch /etc/marker"), 0);
	assert_string_equal(out.buf, "t_one\nlc-init\n.ssh\n");
	assert_int_equal(ssh_run(f, &out, ADDR_TWO,
				 "hostname; test -e /etc/marker && echo marker || echo clean"), 0);
	assert_string_equal(out.buf, "t_two\nclean\n");
	assert_int_equal(access("/etc/marker", F_OK) == 0, marker_before);

	/* SFTP */
	lc_buf_addf(&tmp, "%s/upload.txt", f->state.buf);
	fd = open(tmp.buf, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, "over sftp\n", 10), 10);
	close(fd);
	lc_buf_addf(&batch, "%s/batch", f->state.buf);
	fd = open(batch.buf, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	assert_true(fd >= 0);
	lc_buf_reset(&out);
	lc_buf_addf(&out, "put %s /root/upload.txt\n", tmp.buf);
	assert_int_equal(write(fd, out.buf, out.len), (ssize_t)out.len);
	close(fd);
	lc_buf_reset(&path);
	lc_buf_addf(&path, "UserKnownHostsFile=%s", f->known_hosts.buf);
	{
		const char *argv[] = { "/usr/bin/sftp", "-F", "/dev/null", "-i", f->key.buf,
				       "-o", path.buf, "-o", "StrictHostKeyChecking=yes",
				       "-o", "BatchMode=yes", "-b", batch.buf,
				       "root@" ADDR_ONE, NULL };
		assert_int_equal(run(&out, NULL, argv), 0);
	}
	assert_int_equal(ssh_run(f, &out, ADDR_ONE, "cat /root/upload.txt"), 0);
	assert_string_equal(out.buf, "over sftp\n");

	/* a second up reuses both, same processes */
	pid_one = read_pid(f, "t_one");
	pid_two = read_pid(f, "t_two");
	assert_true(pid_one > 1 && pid_two > 1);
	assert_int_equal(lc_local_up(f->state.buf, hosts, 2, res, &err), 0);
	assert_int_equal(res[0].state, LC_LOCAL_RUNNING);
	assert_int_equal(res[1].state, LC_LOCAL_RUNNING);
	assert_int_equal(read_pid(f, "t_one"), pid_one);
	assert_int_equal(read_pid(f, "t_two"), pid_two);

	/* down: no process, no mount, no state, no known_hosts line */
	assert_int_equal(lc_local_down(f->state.buf, hosts, 2, &err), 0);
	assert_true(pid_gone(pid_one));
	assert_true(pid_gone(pid_two));
	read_text(&out, "/proc/mounts");
	assert_null(strstr(out.buf, f->state.buf));
	lc_buf_reset(&path);
	lc_buf_addf(&path, "%s/hosts/t_one", f->state.buf);
	assert_int_not_equal(access(path.buf, F_OK), 0);
	read_text(&out, f->known_hosts.buf);
	assert_int_equal(out.len, 0);
	assert_int_equal(lc_local_is_running(f->state.buf, "t_one"), 0);
	assert_int_not_equal(ssh_run(f, &out, ADDR_ONE, "true"), 0);

	lc_buf_release(&out);
	lc_buf_release(&tmp);
	lc_buf_release(&batch);
	lc_buf_release(&path);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_nothing_to_do, setup, teardown),
		cmocka_unit_test_setup_teardown(test_lifecycle, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
