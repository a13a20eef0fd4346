/* test_transport_ssh.c - the SSH transport against a real, throwaway sshd.
 *
 * Skipped unless LC_TEST_SSHD is set to ADDR:PORT (an address in
 * 127.0.0.0/8, e.g. 127.0.0.1:22222).  The test then needs root and
 * openssh-server: it generates host and user keys in a temporary directory,
 * starts /usr/sbin/sshd -D on ADDR:PORT with its own config (nothing in
 * /etc/ssh or ~/.ssh is touched), runs against it, and kills it at the end.
 * Results are checked with independent tools where it matters (OpenSSH's
 * ssh for known_hosts lines, sha256sum for uploads). */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <fcntl.h>
#include <pthread.h>

#include "buf.h"
#include "error.h"
#include "transport.h"

static const char rsa_advice[] =
	"RSA keys cannot log in to OpenSSH 8.8 or later with libssh2 1.10 "
	"(no rsa-sha2 signatures); use an ed25519 or ECDSA key";

struct fixture {
	char *dir;
	char *addr;
	int port;
	char *user;
	pid_t sshd;
};

static struct fixture *fx;

/* ---- helpers -------------------------------------------------------- */

static char *path_in(const char *name)
{
	return lc_xasprintf("%s/%s", fx->dir, name);
}

/* Run a shell command; returns its exit status (-1 if it did not exit). */
static int shf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static int shf(const char *fmt, ...)
{
	struct lc_buf cmd = LC_BUF_INIT;
	va_list ap;
	int st;

	va_start(ap, fmt);
	lc_buf_vaddf(&cmd, fmt, ap);
	va_end(ap);
	st = system(cmd.buf);
	lc_buf_release(&cmd);
	return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

/* The output of a shell command. */
static char *capture(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static char *capture(const char *fmt, ...)
{
	struct lc_buf cmd = LC_BUF_INIT, out = LC_BUF_INIT;
	char chunk[4096];
	va_list ap;
	size_t n;
	FILE *p;

	va_start(ap, fmt);
	lc_buf_vaddf(&cmd, fmt, ap);
	va_end(ap);
	p = popen(cmd.buf, "r");
	assert_non_null(p);
	while ((n = fread(chunk, 1, sizeof(chunk), p)) > 0)
		lc_buf_add(&out, chunk, n);
	pclose(p);
	lc_buf_release(&cmd);
	return lc_buf_detach(&out, NULL);
}

static void write_file(const char *path, const void *data, size_t len)
{
	FILE *f = fopen(path, "wb");

	assert_non_null(f);
	assert_int_equal(fwrite(data, 1, len, f), len);
	assert_int_equal(fclose(f), 0);
}

static int64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void default_opts(struct lc_ssh_opts *o, char **identity, char **known)
{
	*identity = path_in("user_ed25519");
	*known = path_in("known_hosts.good");
	memset(o, 0, sizeof(*o));
	o->name = "testhost";
	o->address = fx->addr;
	o->port = fx->port;
	o->user = fx->user;
	o->identity_file = *identity;
	o->known_hosts = *known;
	o->connect_timeout_ms = 5000;
	o->command_timeout_ms = 20000;
}

static struct lc_transport *open_ok(const struct lc_ssh_opts *o)
{
	struct lc_error err = LC_ERROR_INIT;
	struct lc_transport *t = NULL;
	int rc = lc_transport_ssh_open(&t, o, &err);

	if (rc)
		fail_msg("open failed (%d): %s", rc, err.msg);
	assert_non_null(t);
	assert_int_equal(t->stats.connections, 1);
	return t;
}

/* Open, expecting failure with code; returns the message (malloc'd). */
static char *open_fails(const struct lc_ssh_opts *o, int code)
{
	struct lc_error err = LC_ERROR_INIT;
	struct lc_transport *t = NULL;
	int rc = lc_transport_ssh_open(&t, o, &err);

	if (rc != code)
		fail_msg("expected %d, got %d: %s", code, rc, err.msg);
	assert_null(t);
	return lc_xstrdup(err.msg);
}

static void run_ok(struct lc_transport *t, const char *script, struct lc_buf *out,
		   int want_status)
{
	struct lc_error err = LC_ERROR_INIT;
	int status = -2;
	int rc = t->ops->run(t, script, strlen(script), out, &status, &err);

	if (rc)
		fail_msg("run failed (%d): %s", rc, err.msg);
	assert_int_equal(status, want_status);
}

#define SKIP_UNLESS_SSHD() do { if (!fx) skip(); } while (0)

/* ---- fixture: keys, sshd -------------------------------------------- */

static int wait_for_port(const char *addr, int port, int ms)
{
	int64_t end = now_ms() + ms;

	while (now_ms() < end) {
		struct sockaddr_in sa;
		int fd = socket(AF_INET, SOCK_STREAM, 0), ok;
		memset(&sa, 0, sizeof(sa));
		sa.sin_family = AF_INET;
		sa.sin_port = htons((uint16_t)port);
		inet_pton(AF_INET, addr, &sa.sin_addr);
		ok = connect(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0;
		close(fd);
		if (ok)
			return 0;
		usleep(50 * 1000);
	}
	return -1;
}

static int group_setup(void **state)
{
	const char *spec = getenv("LC_TEST_SSHD");
	struct lc_buf cfg = LC_BUF_INIT;
	char tmpl[] = "/tmp/lc-test-ssh-XXXXXX";
	const char *colon;
	char *path, *end;
	struct passwd *pw;
	long port;
	int rc;

	(void)state;
	if (!spec || !*spec)
		return 0;
	colon = strrchr(spec, ':');
	if (!colon || strncmp(spec, "127.", 4)) {
		fprintf(stderr, "LC_TEST_SSHD must be ADDR:PORT with ADDR in 127.0.0.0/8\n");
		return -1;
	}
	port = strtol(colon + 1, &end, 10);
	if (*end || port <= 0 || port > 65535)
		return -1;
	if (!mkdtemp(tmpl))
		return -1;
	fx = lc_xcalloc(1, sizeof(*fx));
	fx->dir = lc_xstrdup(tmpl);
	fx->addr = lc_xstrndup(spec, (size_t)(colon - spec));
	fx->port = (int)port;
	pw = getpwuid(getuid());
	fx->user = lc_xstrdup(pw ? pw->pw_name : "root");

	rc = shf("cd %s && "
		 "ssh-keygen -q -t ed25519 -N '' -f host_ed25519 && "
		 "ssh-keygen -q -t ecdsa -N '' -f host_ecdsa && "
		 "ssh-keygen -q -t ed25519 -N '' -C user -f user_ed25519 && "
		 "ssh-keygen -q -t ecdsa -N '' -f user_ecdsa && "
		 "ssh-keygen -q -t rsa -b 2048 -N '' -f user_rsa && "
		 "ssh-keygen -q -t rsa -b 2048 -m PEM -N '' -f user_rsa_pem && "
		 "ssh-keygen -q -t ed25519 -N secret -f user_encrypted && "
		 "ssh-keygen -q -t ed25519 -N '' -f other_ed25519 && "
		 "cp user_rsa rsa_nopub && cp user_ed25519 ed25519_nopub && "
		 "cat user_ed25519.pub user_ecdsa.pub user_rsa.pub user_rsa_pem.pub "
		 "user_encrypted.pub > authorized_keys",
		 fx->dir);
	if (rc)
		return -1;
	lc_buf_addf(&cfg,
		    "ListenAddress %s:%d\n"
		    "HostKey %s/host_ed25519\n"
		    "HostKey %s/host_ecdsa\n"
		    "PidFile %s/sshd.pid\n"
		    "AuthorizedKeysFile %s/authorized_keys\n"
		    "UsePAM no\n"
		    "PermitRootLogin prohibit-password\n"
		    "StrictModes no\n"
		    "PasswordAuthentication no\n"
		    "KbdInteractiveAuthentication no\n"
		    "Subsystem sftp /usr/lib/openssh/sftp-server\n"
		    "LogLevel VERBOSE\n",
		    fx->addr, fx->port, fx->dir, fx->dir, fx->dir, fx->dir);
	path = path_in("sshd_config");
	write_file(path, cfg.buf, cfg.len);
	if (getuid() == 0)
		mkdir("/run/sshd", 0755); /* sshd's privilege separation dir */

	fx->sshd = fork();
	if (fx->sshd == 0) {
		char *log = path_in("sshd.log");
		int fd = open(log, O_WRONLY | O_CREAT | O_TRUNC, 0600);
		if (fd >= 0) {
			dup2(fd, 2);
			close(fd);
		}
		execl("/usr/sbin/sshd", "/usr/sbin/sshd", "-D", "-e", "-f", path, (char *)NULL);
		_exit(127);
	}
	free(path);
	lc_buf_release(&cfg);
	if (fx->sshd < 0 || wait_for_port(fx->addr, fx->port, 5000)) {
		fprintf(stderr, "sshd did not start on %s:%d (see %s/sshd.log)\n",
			fx->addr, fx->port, fx->dir);
		return -1;
	}
	/* The reference known_hosts, written by OpenSSH itself. */
	if (shf("ssh-keyscan -p %d %s > %s/known_hosts.good 2>/dev/null",
		fx->port, fx->addr, fx->dir))
		return -1;
	signal(SIGPIPE, SIG_IGN);
	return lc_transport_ssh_global_init(NULL) ? -1 : 0;
}

static int group_teardown(void **state)
{
	(void)state;
	if (!fx)
		return 0;
	if (fx->sshd > 0) {
		kill(fx->sshd, SIGTERM);
		waitpid(fx->sshd, NULL, 0);
	}
	if (!getenv("LC_TEST_KEEP"))
		shf("rm -rf '%s'", fx->dir);
	lc_transport_ssh_global_release();
	free(fx->dir);
	free(fx->addr);
	free(fx->user);
	free(fx);
	fx = NULL;
	return 0;
}

/* ---- run ------------------------------------------------------------ */

static void test_run_basic(void **state)
{
	struct lc_ssh_opts o;
	struct lc_buf out = LC_BUF_INIT;
	struct lc_transport *t;
	char *id, *kh;

	(void)state;
	SKIP_UNLESS_SSHD();
	default_opts(&o, &id, &kh);
	t = open_ok(&o);
	run_ok(t, "echo hello; exit 3", &out, 3);
	assert_string_equal(out.buf, "hello\n");
	run_ok(t, "printf abc", &out, 0);
	assert_string_equal(out.buf, "abc");
	run_ok(t, "", &out, 0);
	assert_string_equal(out.buf, "");
	/* quotes of every kind survive the framing */
	run_ok(t, "echo 'it'\\''s'; printf '%s\\n' \"a'b\" \"c\\\"d\"", &out, 0);
	assert_string_equal(out.buf, "it's\na'b\nc\"d\n");
	/* text that looks like a marker is just text */
	run_ok(t, "echo __LC_END_0123456789abcdef 0; echo __LC_BEGIN_x", &out, 0);
	assert_string_equal(out.buf, "__LC_END_0123456789abcdef 0\n__LC_BEGIN_x\n");
	/* a batch is a subshell: no state leaks into the next one */
	run_ok(t, "x=1; cd /; echo $x", &out, 0);
	assert_string_equal(out.buf, "1\n");
	run_ok(t, "echo ${x:-unset}", &out, 0);
	assert_string_equal(out.buf, "unset\n");
	/* stdin of a batch is /dev/null, not the rest of the framing */
	run_ok(t, "cat; echo after", &out, 0);
	assert_string_equal(out.buf, "after\n");
	/* a syntax error is a failed batch, not a dead shell */
	run_ok(t, "if then fi", &out, 2);
	run_ok(t, "echo still here", &out, 0);
	assert_string_equal(out.buf, "still here\n");

	assert_int_equal(t->stats.exec_channels, 1);
	assert_int_equal(t->stats.round_trips, 10);
	assert_int_equal(t->stats.connections, 1);
	t->ops->close(t);
	lc_buf_release(&out);
	free(id);
	free(kh);
}

static void test_run_big_streams(void **state)
{
	struct lc_ssh_opts o;
	struct lc_buf out = LC_BUF_INIT, script = LC_BUF_INIT, body = LC_BUF_INIT;
	struct lc_transport *t;
	char *id, *kh;
	size_t i;

	(void)state;
	SKIP_UNLESS_SSHD();
	default_opts(&o, &id, &kh);
	t = open_ok(&o);
	/* 8 MiB on stderr (4x the channel window) must not stall stdout */
	run_ok(t, "head -c 8388608 /dev/zero >&2; echo done", &out, 0);
	assert_string_equal(out.buf, "done\n");
	/* 20 MB of stdout */
	run_ok(t, "head -c 20000000 /dev/zero | tr '\\000' x", &out, 0);
	assert_int_equal(out.len, 20000000);
	for (i = 0; i < out.len; i++)
		if (out.buf[i] != 'x')
			fail_msg("byte %zu is %d", i, out.buf[i]);
	/* a 3 MiB script whose output is as big: writing and reading must
	 * interleave or both sides block */
	for (i = 0; body.len < (3u << 20); i++)
		lc_buf_addf(&body, "line %zu with 'quotes' and \"more\" $HOME\n", i);
	lc_buf_addf(&script, "cat <<'EOF'\n%sEOF\n", body.buf);
	run_ok(t, script.buf, &out, 0);
	assert_int_equal(out.len, body.len);
	assert_memory_equal(out.buf, body.buf, body.len);
	assert_int_equal(t->stats.exec_channels, 1);
	t->ops->close(t);
	lc_buf_release(&out);
	lc_buf_release(&script);
	lc_buf_release(&body);
	free(id);
	free(kh);
}

static void test_run_background_output_dropped(void **state)
{
	struct lc_ssh_opts o;
	struct lc_buf out = LC_BUF_INIT;
	struct lc_transport *t;
	char *id, *kh;

	(void)state;
	SKIP_UNLESS_SSHD();
	default_opts(&o, &id, &kh);
	t = open_ok(&o);
	run_ok(t, "(sleep 0.3; echo junk) & echo first", &out, 0);
	assert_string_equal(out.buf, "first\n");
	usleep(600 * 1000);
	run_ok(t, "echo second", &out, 0);
	assert_string_equal(out.buf, "second\n");
	t->ops->close(t);
	lc_buf_release(&out);
	free(id);
	free(kh);
}

static void test_run_shell_dies(void **state)
{
	struct lc_ssh_opts o;
	struct lc_error err = LC_ERROR_INIT;
	struct lc_buf out = LC_BUF_INIT;
	struct lc_transport *t;
	const char *script = "echo about to die >&2; kill -9 $$";
	char *id, *kh;
	int status = 0, rc;

	(void)state;
	SKIP_UNLESS_SSHD();
	default_opts(&o, &id, &kh);
	t = open_ok(&o);
	rc = t->ops->run(t, script, strlen(script), &out, &status, &err);
	assert_int_equal(rc, LC_EREMOTE);
	assert_non_null(strstr(err.msg, "testhost"));
	assert_non_null(strstr(err.msg, "signal KILL"));
	assert_non_null(strstr(err.msg, "about to die"));
	/* the next batch gets a new shell */
	run_ok(t, "echo alive", &out, 0);
	assert_string_equal(out.buf, "alive\n");
	assert_int_equal(t->stats.exec_channels, 2);
	t->ops->close(t);
	lc_buf_release(&out);
	free(id);
	free(kh);
}

static void test_run_timeout(void **state)
{
	struct lc_ssh_opts o;
	struct lc_error err = LC_ERROR_INIT;
	struct lc_buf out = LC_BUF_INIT;
	struct lc_transport *t;
	const char *script = "echo partial; sleep 60";
	char *id, *kh;
	int status = 0, rc;
	int64_t start;

	(void)state;
	SKIP_UNLESS_SSHD();
	default_opts(&o, &id, &kh);
	/* long enough for a quick batch on a loaded machine, short for sleep */
	o.command_timeout_ms = 3000;
	t = open_ok(&o);
	start = now_ms();
	rc = t->ops->run(t, script, strlen(script), &out, &status, &err);
	assert_int_equal(rc, LC_ETIMEOUT);
	assert_non_null(strstr(err.msg, "testhost"));
	/* not a timing benchmark: only that it did not wait for sleep 60 */
	assert_true(now_ms() - start < 30000);
	run_ok(t, "echo after timeout", &out, 0);
	assert_string_equal(out.buf, "after timeout\n");
	assert_int_equal(t->stats.exec_channels, 2);
	t->ops->close(t);
	lc_buf_release(&out);
	free(id);
	free(kh);
}

/* shell_prelude runs in the long-lived shell once per shell: what it
 * defines is in every batch, and a new shell (after a timeout) gets it
 * again.  The counter lives in the parent shell, so a prelude sent twice
 * to one shell would show 2. */
static void test_run_prelude(void **state)
{
	struct lc_ssh_opts o;
	struct lc_error err = LC_ERROR_INIT;
	struct lc_buf out = LC_BUF_INIT;
	struct lc_transport *t;
	const char *slow = "sleep 30";
	char *id, *kh;
	int status = 0;

	(void)state;
	SKIP_UNLESS_SSHD();
	default_opts(&o, &id, &kh);
	o.shell_prelude = "lc_n=$((${lc_n:-0} + 1))\nhi() { printf 'hi %s %s\\n' \"$1\" \"$lc_n\"; }";
	/* long enough for a quick batch on a loaded machine, short for sleep */
	o.command_timeout_ms = 3000;
	t = open_ok(&o);
	run_ok(t, "hi one", &out, 0);
	assert_string_equal(out.buf, "hi one 1\n");
	run_ok(t, "hi two; lc_n=7", &out, 0);
	assert_string_equal(out.buf, "hi two 1\n");
	run_ok(t, "hi three", &out, 0);
	assert_string_equal(out.buf, "hi three 1\n");
	assert_int_equal(t->ops->run(t, slow, strlen(slow), &out, &status, &err), LC_ETIMEOUT);
	run_ok(t, "hi four", &out, 0);
	assert_string_equal(out.buf, "hi four 1\n");
	assert_int_equal(t->stats.exec_channels, 2);
	t->ops->close(t);
	lc_buf_release(&out);
	free(id);
	free(kh);
}

/* ---- put ------------------------------------------------------------ */

/* len bytes that do not compress, the same for the same seed. */
static unsigned char *random_bytes(size_t len, uint32_t seed)
{
	unsigned char *data = lc_xmalloc(len);
	size_t i;

	for (i = 0; i < len; i++) {
		seed = seed * 1103515245u + 12345u;
		data[i] = (unsigned char)(seed >> 16);
	}
	return data;
}

static void test_put(void **state)
{
	struct lc_ssh_opts o;
	struct lc_error err = LC_ERROR_INIT;
	struct lc_buf out = LC_BUF_INIT, cmd = LC_BUF_INIT;
	struct lc_transport *t;
	char *id, *kh, *big, *local, *deep, *want, *existing, *bad, *empty;
	unsigned char *data;
	size_t len = 8u << 20;
	int rc;

	(void)state;
	SKIP_UNLESS_SSHD();
	default_opts(&o, &id, &kh);
	t = open_ok(&o);
	data = random_bytes(len, 12345);
	local = path_in("big.local");
	write_file(local, data, len);
	big = path_in("up/big.bin");
	rc = t->ops->put(t, big, data, len, 0640, -1, &err);
	if (rc)
		fail_msg("put: %s", err.msg);
	want = capture("sha256sum < %s", local);
	lc_buf_addf(&cmd, "sha256sum < %s; stat -c %%a %s %s/up", big, big, fx->dir);
	run_ok(t, cmd.buf, &out, 0);
	lc_buf_reset(&cmd);
	lc_buf_addf(&cmd, "%s640\n755\n", want);
	assert_string_equal(out.buf, cmd.buf);
	assert_int_equal(t->stats.sftp_files, 1);
	assert_int_equal(t->stats.bytes_sent, len);

	/* the same 8 MiB read from the local file through put()'s window */
	{
		int fd = open(local, O_RDONLY);
		char *viafd = path_in("up/viafd.bin");

		assert_true(fd >= 0);
		rc = t->ops->put(t, viafd, NULL, len, 0600, fd, &err);
		if (rc)
			fail_msg("put from fd: %s", err.msg);
		lc_buf_reset(&cmd);
		lc_buf_addf(&cmd, "sha256sum < %s", viafd);
		run_ok(t, cmd.buf, &out, 0);
		assert_string_equal(out.buf, want);
		/* a file shorter than said: an error naming it, nothing left */
		rc = t->ops->put(t, viafd, NULL, len + 1, 0600, fd, &err);
		assert_int_equal(rc, LC_EIO);
		assert_non_null(strstr(err.msg, "reading the local file: it became shorter"));
		lc_buf_reset(&cmd);
		lc_buf_addf(&cmd, "test -e %s && echo left || echo gone", viafd);
		run_ok(t, cmd.buf, &out, 0);
		assert_string_equal(out.buf, "gone\n");
		close(fd);
		free(viafd);
		lc_buf_reset(&cmd);
	}

	/* several missing levels; mode exactly as asked despite the umask */
	deep = path_in("new/a/b/c.txt");
	rc = t->ops->put(t, deep, "hi\n", 3, 0777, -1, &err);
	if (rc)
		fail_msg("put: %s", err.msg);
	lc_buf_reset(&cmd);
	lc_buf_addf(&cmd, "cat %s; stat -c %%a %s %s/new %s/new/a %s/new/a/b",
		    deep, deep, fx->dir, fx->dir, fx->dir);
	run_ok(t, cmd.buf, &out, 0);
	assert_string_equal(out.buf, "hi\n777\n755\n755\n755\n");

	/* an existing file is replaced and gets the new mode */
	existing = path_in("existing");
	write_file(existing, "old content, longer\n", 20);
	chmod(existing, 0644);
	rc = t->ops->put(t, existing, "new\n", 4, 0600, -1, &err);
	assert_int_equal(rc, 0);
	lc_buf_reset(&cmd);
	lc_buf_addf(&cmd, "cat %s; stat -c %%a %s", existing, existing);
	run_ok(t, cmd.buf, &out, 0);
	assert_string_equal(out.buf, "new\n600\n");

	/* an empty file */
	empty = path_in("new/empty");
	assert_int_equal(t->ops->put(t, empty, "", 0, 0644, -1, &err), 0);
	lc_buf_reset(&cmd);
	lc_buf_addf(&cmd, "stat -c %%s %s", empty);
	run_ok(t, cmd.buf, &out, 0);
	assert_string_equal(out.buf, "0\n");

	/* a regular file where a directory should be */
	bad = path_in("existing/sub/file");
	rc = t->ops->put(t, bad, "x", 1, 0644, -1, &err);
	assert_int_equal(rc, LC_EREMOTE);
	assert_non_null(strstr(err.msg, bad));
	assert_non_null(strstr(err.msg, "existing is not a directory"));
	/* an SFTP status is named: a directory cannot be opened for writing */
	free(bad);
	bad = path_in("new/a");
	rc = t->ops->put(t, bad, "x", 1, 0644, -1, &err);
	assert_int_equal(rc, LC_EREMOTE);
	if (!strstr(err.msg, bad) || !strstr(err.msg, "SFTP FAILURE"))
		fail_msg("%s", err.msg);
	/* the transport still works */
	run_ok(t, "echo ok", &out, 0);
	assert_string_equal(out.buf, "ok\n");
	assert_int_equal(t->stats.sftp_files, 5);  /* big, viafd, deep, existing, empty */
	assert_int_equal(t->stats.exec_channels, 1);

	t->ops->close(t);
	free(data);
	free(local);
	free(big);
	free(want);
	free(deep);
	free(existing);
	free(empty);
	free(bad);
	lc_buf_release(&out);
	lc_buf_release(&cmd);
	free(id);
	free(kh);
}

/* ---- the budget of a run's uploads ---------------------------------- */

static void test_upload_budget_shares(void **state)
{
	struct lc_upload_budget *b;
	int i;

	(void)state;
	assert_int_equal(lc_upload_budget_share(NULL, 0), 32 * LC_UPLOAD_PACKET);
	/* 2 MiB between 50 hosts: 41943 bytes each, one whole request */
	b = lc_upload_budget_new(2u << 20, 50, 50);
	assert_int_equal(lc_upload_budget_share(b, 0), LC_UPLOAD_PACKET);
	for (i = 0; i < 45; i++)
		lc_upload_budget_done(b);
	/* 5 left: 419430 each, rounded down to 8 requests */
	assert_int_equal(lc_upload_budget_share(b, 0), 8 * LC_UPLOAD_PACKET);
	for (i = 0; i < 5; i++)
		lc_upload_budget_done(b);
	assert_int_equal(lc_upload_budget_share(b, 0), 32 * LC_UPLOAD_PACKET);
	lc_upload_budget_free(b);
	/* -j5: at most 5 at a time, however many hosts wait */
	b = lc_upload_budget_new(2u << 20, 50, 5);
	assert_int_equal(lc_upload_budget_share(b, 0), 8 * LC_UPLOAD_PACKET);
	lc_upload_budget_free(b);
	/* one host: capped */
	b = lc_upload_budget_new(2u << 20, 1, 1);
	assert_int_equal(lc_upload_budget_share(b, 0), 32 * LC_UPLOAD_PACKET);
	lc_upload_budget_free(b);
	/* many hosts: never less than one request */
	b = lc_upload_budget_new(2u << 20, 1000, 1000);
	assert_int_equal(lc_upload_budget_share(b, 0), LC_UPLOAD_PACKET);
	lc_upload_budget_free(b);
	/* a long link: the bytes grow with the round trip beyond 10 ms */
	b = lc_upload_budget_new(2u << 20, 50, 50);
	assert_int_equal(lc_upload_budget_share(b, 10000), LC_UPLOAD_PACKET);
	/* 20 ms: 4 MiB, 83886 each: 2 requests */
	assert_int_equal(lc_upload_budget_share(b, 20000), 2 * LC_UPLOAD_PACKET);
	/* 100 ms: 20 MiB, capped at 16 MiB: 335544 each, 8 requests */
	assert_int_equal(lc_upload_budget_share(b, 100000), 8 * LC_UPLOAD_PACKET);
	/* 10 s: still 16 MiB */
	assert_int_equal(lc_upload_budget_share(b, 10000000), 8 * LC_UPLOAD_PACKET);
	lc_upload_budget_free(b);
}

static void *finish_others(void *arg)
{
	struct lc_upload_budget *b = arg;
	struct timespec ms = { 0, 1000000 };
	int i;

	for (i = 0; i < 63; i++) {
		nanosleep(&ms, NULL);
		lc_upload_budget_done(b);
	}
	return NULL;
}

/* An upload whose share grows from one request to 32 while it runs (the
 * other hosts finish): the window is replaced on the way, the file arrives
 * whole. */
static void test_put_share_grows(void **state)
{
	struct lc_ssh_opts o;
	struct lc_error err = LC_ERROR_INIT;
	struct lc_buf out = LC_BUF_INIT, cmd = LC_BUF_INIT;
	struct lc_transport *t;
	struct lc_upload_budget *b;
	pthread_t others;
	char *id, *kh, *local, *remote, *want;
	unsigned char *data;
	size_t len = (6u << 20) + 12345;
	int fd, rc;

	(void)state;
	SKIP_UNLESS_SSHD();
	default_opts(&o, &id, &kh);
	b = lc_upload_budget_new(2u << 20, 64, 64);
	o.uploads = b;
	t = open_ok(&o);
	data = random_bytes(len, 777);
	local = path_in("grow.local");
	write_file(local, data, len);
	remote = path_in("up/grow.bin");
	fd = open(local, O_RDONLY);
	assert_true(fd >= 0);
	assert_int_equal(lc_upload_budget_share(b, 0), LC_UPLOAD_PACKET);
	assert_int_equal(pthread_create(&others, NULL, finish_others, b), 0);
	rc = t->ops->put(t, remote, NULL, len, 0600, fd, &err);
	pthread_join(others, NULL);
	if (rc)
		fail_msg("put: %s", err.msg);
	assert_int_equal(lc_upload_budget_share(b, 0), 32 * LC_UPLOAD_PACKET);
	want = capture("sha256sum < %s", local);
	lc_buf_addf(&cmd, "sha256sum < %s", remote);
	run_ok(t, cmd.buf, &out, 0);
	assert_string_equal(out.buf, want);
	close(fd);
	t->ops->close(t);
	lc_upload_budget_free(b);
	free(data);
	free(local);
	free(remote);
	free(want);
	lc_buf_release(&out);
	lc_buf_release(&cmd);
	free(id);
	free(kh);
}

/* ---- host keys ------------------------------------------------------ */

static char *known_name(void)
{
	return lc_xasprintf("[%s]:%d", fx->addr, fx->port);
}

static void test_hostkey_mismatch(void **state)
{
	struct lc_ssh_opts o;
	char *id, *kh, *bad, *name, *msg, *before, *after;

	(void)state;
	SKIP_UNLESS_SSHD();
	default_opts(&o, &id, &kh);
	bad = path_in("known_hosts.bad");
	name = known_name();
	assert_int_equal(shf("printf '%%s %%s\\n' '%s' "
			     "\"$(cut -d' ' -f1,2 %s/other_ed25519.pub)\" > %s",
			     name, fx->dir, bad), 0);
	o.known_hosts = bad;
	o.accept_new_hostkeys = 1; /* must not matter for a changed key */
	before = capture("cat %s", bad);
	msg = open_fails(&o, LC_EHOSTKEY);
	after = capture("cat %s", bad);
	assert_string_equal(before, after);
	assert_non_null(strstr(msg, "testhost ("));
	assert_non_null(strstr(msg, "does not match the one in"));
	assert_non_null(strstr(msg, bad));
	assert_non_null(strstr(msg, "man-in-the-middle"));
	assert_non_null(strstr(msg, "refused"));
	free(msg);
	free(before);
	free(after);

	/* known only with a key type the server no longer offers */
	assert_int_equal(shf("printf '%%s %%s\\n' '%s' "
			     "\"$(cut -d' ' -f1,2 %s/user_rsa.pub)\" > %s",
			     name, fx->dir, bad), 0);
	msg = open_fails(&o, LC_EHOSTKEY);
	assert_non_null(strstr(msg, "man-in-the-middle"));
	free(msg);

	/* @revoked */
	assert_int_equal(shf("cp %s %s && printf '@revoked %%s %%s\\n' '%s' "
			     "\"$(cut -d' ' -f1,2 %s/host_ed25519.pub)\" >> %s",
			     kh, bad, name, fx->dir, bad), 0);
	msg = open_fails(&o, LC_EHOSTKEY);
	assert_non_null(strstr(msg, "revoked"));
	free(msg);
	free(bad);
	free(name);
	free(id);
	free(kh);
}

static void test_hostkey_unknown_and_accept_new(void **state)
{
	struct lc_ssh_opts o;
	struct lc_transport *t;
	char *id, *kh, *fresh, *msg, *content, *name;
	struct stat st;

	(void)state;
	SKIP_UNLESS_SSHD();
	default_opts(&o, &id, &kh);
	fresh = path_in("known_hosts.fresh");
	name = known_name();
	unlink(fresh);
	o.known_hosts = fresh;
	msg = open_fails(&o, LC_EHOSTKEY);
	assert_non_null(strstr(msg, "host key of testhost ("));
	assert_non_null(strstr(msg, "is not in"));
	assert_non_null(strstr(msg, "--accept-new-hostkeys"));
	assert_int_equal(stat(fresh, &st), -1); /* refused: nothing written */
	free(msg);

	/* an existing file without a final newline keeps its last line */
	write_file(fresh, "# a comment, no newline", 23);
	o.accept_new_hostkeys = 1;
	t = open_ok(&o);
	t->ops->close(t);
	content = capture("cat %s", fresh);
	assert_true(!strncmp(content, "# a comment, no newline\n", 24));
	assert_non_null(strstr(content, name));
	assert_int_equal(shf("grep -c . %s | grep -qx 2", fresh), 0);
	free(content);
	/* OpenSSH accepts the line we wrote, strictly */
	assert_int_equal(shf("ssh -o BatchMode=yes -o UserKnownHostsFile=%s "
			     "-o StrictHostKeyChecking=yes -o GlobalKnownHostsFile=/dev/null "
			     "-i %s -p %d %s@%s true 2>/dev/null",
			     fresh, id, fx->port, fx->user, fx->addr), 0);
	/* and so do we, without accept_new; nothing more is appended */
	o.accept_new_hostkeys = 0;
	t = open_ok(&o);
	t->ops->close(t);
	assert_int_equal(shf("grep -c . %s | grep -qx 2", fresh), 0);
	free(fresh);
	free(name);
	free(id);
	free(kh);
}

static void test_hostkey_file_variants(void **state)
{
	struct lc_ssh_opts o;
	struct lc_transport *t;
	char *id, *kh, *alt;

	(void)state;
	SKIP_UNLESS_SSHD();
	default_opts(&o, &id, &kh);
	alt = path_in("known_hosts.alt");
	o.known_hosts = alt;

	/* hashed entries (ssh-keygen -H) */
	assert_int_equal(shf("cp %s %s && ssh-keygen -q -H -f %s >/dev/null 2>&1 && "
			     "! grep -q '127\\.' %s", kh, alt, alt, alt), 0);
	t = open_ok(&o);
	t->ops->close(t);

	/* unparsable lines before the good ones are skipped */
	assert_int_equal(shf("{ echo garbage; echo 'x ssh-ed25519 AAAA'; "
			     "echo '|1|bad|hash ssh-ed25519'; cat %s; } > %s", kh, alt), 0);
	t = open_ok(&o);
	t->ops->close(t);

	/* known only by its ECDSA key: we must ask for that one */
	assert_int_equal(shf("grep ecdsa %s > %s", kh, alt), 0);
	t = open_ok(&o);
	t->ops->close(t);
	free(alt);
	free(id);
	free(kh);
}

/* ---- authentication ------------------------------------------------- */

static void test_auth_keys(void **state)
{
	static const char *rsa_keys[] = { "user_rsa", "rsa_nopub", "user_rsa_pem" };
	struct lc_ssh_opts o;
	struct lc_transport *t;
	char *id, *kh, *key, *msg;
	size_t i;

	(void)state;
	SKIP_UNLESS_SSHD();
	default_opts(&o, &id, &kh);

	/* ed25519 without a .pub file next to it; ECDSA */
	key = path_in("ed25519_nopub");
	o.identity_file = key;
	t = open_ok(&o);
	t->ops->close(t);
	free(key);
	key = path_in("user_ecdsa");
	o.identity_file = key;
	t = open_ok(&o);
	t->ops->close(t);
	free(key);

	/* RSA: authorized, but cannot sign with rsa-sha2 */
	for (i = 0; i < sizeof(rsa_keys) / sizeof(rsa_keys[0]); i++) {
		key = path_in(rsa_keys[i]);
		o.identity_file = key;
		msg = open_fails(&o, LC_EAUTH);
		assert_non_null(strstr(msg, "testhost: authentication as "));
		assert_non_null(strstr(msg, key));
		assert_non_null(strstr(msg, rsa_advice));
		free(msg);
		free(key);
	}

	/* not authorized */
	key = path_in("other_ed25519");
	o.identity_file = key;
	msg = open_fails(&o, LC_EAUTH);
	assert_non_null(strstr(msg, "authentication as "));
	assert_non_null(strstr(msg, "failed with key"));
	assert_null(strstr(msg, "RSA"));
	free(msg);
	free(key);

	/* encrypted: no prompt, no crash, a hint */
	key = path_in("user_encrypted");
	o.identity_file = key;
	msg = open_fails(&o, LC_EAUTH);
	assert_non_null(strstr(msg, "encrypted"));
	free(msg);
	free(key);
	free(id);
	free(kh);
}

static void test_auth_agent(void **state)
{
	struct lc_ssh_opts o;
	struct lc_transport *t;
	char *id, *kh, *sock, *msg, *old = NULL;
	pid_t agent;

	(void)state;
	SKIP_UNLESS_SSHD();
	if (getenv("SSH_AUTH_SOCK"))
		old = lc_xstrdup(getenv("SSH_AUTH_SOCK"));
	default_opts(&o, &id, &kh);
	o.identity_file = NULL;
	sock = path_in("agent.sock");

	unsetenv("SSH_AUTH_SOCK");
	msg = open_fails(&o, LC_EAUTH);
	assert_non_null(strstr(msg, "ssh-agent"));
	free(msg);

	agent = fork();
	if (agent == 0) {
		int null = open("/dev/null", O_WRONLY);
		if (null >= 0)
			dup2(null, 1);
		execlp("ssh-agent", "ssh-agent", "-D", "-a", sock, (char *)NULL);
		_exit(127);
	}
	assert_true(agent > 0);
	for (int i = 0; i < 100 && access(sock, F_OK); i++)
		usleep(20 * 1000);
	setenv("SSH_AUTH_SOCK", sock, 1);
	assert_int_equal(shf("ssh-add -q %s/user_rsa 2>/dev/null", fx->dir), 0);
	msg = open_fails(&o, LC_EAUTH);
	assert_non_null(strstr(msg, rsa_advice));
	free(msg);
	assert_int_equal(shf("ssh-add -q %s 2>/dev/null", id), 0);
	t = open_ok(&o);
	t->ops->close(t);

	kill(agent, SIGTERM);
	waitpid(agent, NULL, 0);
	if (old)
		setenv("SSH_AUTH_SOCK", old, 1);
	else
		unsetenv("SSH_AUTH_SOCK");
	free(old);
	free(sock);
	free(id);
	free(kh);
}

/* ---- connecting ----------------------------------------------------- */

/* A listening socket on ADDR that never accepts nor speaks: the kernel
 * completes the TCP handshake, no SSH banner ever comes. */
static int silent_listener(int *port)
{
	struct sockaddr_in sa;
	socklen_t len = sizeof(sa);
	int fd = socket(AF_INET, SOCK_STREAM, 0);

	memset(&sa, 0, sizeof(sa));
	sa.sin_family = AF_INET;
	inet_pton(AF_INET, fx->addr, &sa.sin_addr);
	assert_int_equal(bind(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	assert_int_equal(listen(fd, 4), 0);
	assert_int_equal(getsockname(fd, (struct sockaddr *)&sa, &len), 0);
	*port = ntohs(sa.sin_port);
	return fd;
}

static void test_connect_failures(void **state)
{
	struct lc_ssh_opts o;
	char *id, *kh, *msg;
	int64_t start;
	int fd, port;

	(void)state;
	SKIP_UNLESS_SSHD();
	default_opts(&o, &id, &kh);

	fd = silent_listener(&port);
	o.port = port;
	o.connect_timeout_ms = 1000;
	start = now_ms();
	msg = open_fails(&o, LC_ETIMEOUT);
	assert_true(now_ms() - start < 3000); /* bounded, not a benchmark */
	assert_non_null(strstr(msg, "testhost ("));
	assert_non_null(strstr(msg, "handshake"));
	free(msg);

	/* nothing listening any more on that port */
	close(fd);
	msg = open_fails(&o, LC_ECONNECT);
	assert_non_null(strstr(msg, "connection refused"));
	free(msg);
	free(id);
	free(kh);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_run_basic),
		cmocka_unit_test(test_run_big_streams),
		cmocka_unit_test(test_run_background_output_dropped),
		cmocka_unit_test(test_run_shell_dies),
		cmocka_unit_test(test_run_timeout),
		cmocka_unit_test(test_run_prelude),
		cmocka_unit_test(test_put),
		cmocka_unit_test(test_upload_budget_shares),
		cmocka_unit_test(test_put_share_grows),
		cmocka_unit_test(test_hostkey_mismatch),
		cmocka_unit_test(test_hostkey_unknown_and_accept_new),
		cmocka_unit_test(test_hostkey_file_variants),
		cmocka_unit_test(test_auth_keys),
		cmocka_unit_test(test_auth_agent),
		cmocka_unit_test(test_connect_failures),
	};

	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
