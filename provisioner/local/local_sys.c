/* local_sys.c - small system helpers for the local lab files (see
 * provider_local_int.h): writing files, directories, running a
 * command, a TCP probe, a log tail for messages.  lc_file_write_all()
 * and lc_local_close_from() are also called by the forked children. */
#include "provider_local_int.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define LOG_TAIL 400

/* ---- small helpers ------------------------------------------------------ */

/* Write path (truncating) with exactly this mode, whatever the umask. */
int lc_local_write_file(const char *path, const char *data, size_t len,
			mode_t mode, struct lc_error *err)
{
	int fd, rc = 0;

	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, mode);
	if (fd < 0)
		return lc_error_set(err, LC_EIO, "writing %s: %s", path, strerror(errno));
	if (fchmod(fd, mode) < 0 || lc_file_write_all(fd, data, len) < 0)
		rc = lc_error_set(err, LC_EIO, "writing %s: %s", path, strerror(errno));
	if (close(fd) < 0 && !rc)
		rc = lc_error_set(err, LC_EIO, "writing %s: %s", path, strerror(errno));
	return rc;
}

/* mkdir that tolerates an existing directory and then forces mode. */
int lc_local_make_dir(const char *path, mode_t mode, struct lc_error *err)
{
	struct stat st;

	if (mkdir(path, mode) < 0 && errno != EEXIST)
		return lc_error_set(err, LC_EIO, "creating %s: %s", path, strerror(errno));
	if (lstat(path, &st) < 0 || !S_ISDIR(st.st_mode))
		return lc_error_set(err, LC_EIO, "%s is not a directory", path);
	if (chmod(path, mode) < 0)
		return lc_error_set(err, LC_EIO, "chmod %s: %s", path, strerror(errno));
	return 0;
}

/* Create dir in an upper layer with the mode and owner of its lower twin,
 * so the merged directory looks exactly like the machine's. */
int lc_local_make_dir_like(const char *path, const char *lower, struct lc_error *err)
{
	struct stat st;

	if (stat(lower, &st) < 0)
		return lc_error_set(err, LC_EIO, "stat %s: %s", lower, strerror(errno));
	if (lc_local_make_dir(path, st.st_mode & 07777, err) < 0)
		return err ? err->code : LC_EIO;
	if (lchown(path, st.st_uid, st.st_gid) < 0)
		return lc_error_set(err, LC_EIO, "chown %s: %s", path, strerror(errno));
	return 0;
}

int lc_local_mkdir_parents(const char *path, struct lc_error *err)
{
	struct lc_buf b = LC_BUF_INIT;
	size_t i;
	int rc = 0;

	lc_buf_adds(&b, path);
	for (i = 1; i < b.len; i++) {
		if (b.buf[i] != '/')
			continue;
		b.buf[i] = '\0';
		if (mkdir(b.buf, 0755) < 0 && errno != EEXIST) {
			rc = lc_error_set(err, LC_EIO, "creating %s: %s", b.buf, strerror(errno));
			goto out;
		}
		b.buf[i] = '/';
	}
out:
	lc_buf_release(&b);
	return rc;
}

void lc_local_close_from(int lowfd)
{
	struct rlimit rl;
	int fd, max = 65536;

	if (close_range((unsigned)lowfd, ~0U, 0) == 0)
		return;
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < (rlim_t)max)
		max = (int)rl.rlim_cur;
	for (fd = lowfd; fd < max; fd++)
		close(fd);
}

/* Run argv (no shell) with stdout and stderr captured into out (capped). */
int lc_local_run_cmd(const char *const *argv, struct lc_buf *out, struct lc_error *err)
{
	char tmp[1024];
	int fds[2], status, nullfd;
	ssize_t r;
	pid_t pid;

	if (pipe2(fds, O_CLOEXEC) < 0)
		return lc_error_set(err, LC_ERR, "pipe: %s", strerror(errno));
	pid = fork();
	if (pid < 0) {
		close(fds[0]);
		close(fds[1]);
		return lc_error_set(err, LC_ERR, "fork: %s", strerror(errno));
	}
	if (pid == 0) {
		nullfd = open("/dev/null", O_RDONLY);
		if (nullfd < 0 || dup2(nullfd, 0) < 0 || dup2(fds[1], 1) < 0 ||
		    dup2(fds[1], 2) < 0)
			_exit(126);
		lc_local_close_from(3);
		execv(argv[0], (char *const *)argv);
		_exit(127);
	}
	close(fds[1]);
	for (;;) {
		r = read(fds[0], tmp, sizeof(tmp));
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			break;
		if (out->len < 4096)
			lc_buf_add(out, tmp, (size_t)r);
	}
	close(fds[0]);
	while (waitpid(pid, &status, 0) < 0) {
		if (errno != EINTR)
			return lc_error_set(err, LC_ERR, "waiting for %s: %s",
					    argv[0], strerror(errno));
	}
	if (WIFEXITED(status) && WEXITSTATUS(status) == 0)
		return 0;
	while (out->len && (out->buf[out->len - 1] == '\n'))
		lc_buf_setlen(out, out->len - 1);
	if (WIFEXITED(status) && WEXITSTATUS(status) == 127)
		return lc_error_set(err, LC_ERR, "cannot run %s", argv[0]);
	return lc_error_set(err, LC_ERR, "%s failed (%s %d): %s", argv[0],
			    WIFEXITED(status) ? "exit" : "signal",
			    WIFEXITED(status) ? WEXITSTATUS(status) : WTERMSIG(status),
			    out->len ? out->buf : "no output");
}

/* 1 if something accepts TCP on address:port within timeout_ms. */
int lc_local_tcp_accepts(const char *address, int port, int timeout_ms)
{
	struct sockaddr_in sa;
	struct pollfd pfd;
	socklen_t len = sizeof(int);
	int fd, so_err = 0, ok = 0;

	memset(&sa, 0, sizeof(sa));
	sa.sin_family = AF_INET;
	sa.sin_port = htons((unsigned short)port);
	if (inet_pton(AF_INET, address, &sa.sin_addr) != 1)
		return 0;
	fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return 0;
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0) {
		ok = 1;
	} else if (errno == EINPROGRESS) {
		pfd.fd = fd;
		pfd.events = POLLOUT;
		if (poll(&pfd, 1, timeout_ms) == 1 &&
		    getsockopt(fd, SOL_SOCKET, SO_ERROR, &so_err, &len) == 0 && !so_err)
			ok = 1;
	}
	close(fd);
	return ok;
}

/* The last bytes of a log file, on one line, for an error message. */
void lc_local_add_log_tail(struct lc_buf *out, const char *label, const char *path)
{
	struct lc_buf b = LC_BUF_INIT;
	size_t start = 0, i;

	if (lc_file_read(&b, path, SMALL_FILE_MAX) < 0 || !b.len)
		goto out;
	while (b.len && (b.buf[b.len - 1] == '\n' || b.buf[b.len - 1] == ' '))
		lc_buf_setlen(&b, b.len - 1);
	if (b.len > LOG_TAIL)
		start = b.len - LOG_TAIL;
	for (i = start; i < b.len; i++)
		if (b.buf[i] == '\n')
			b.buf[i] = '|';
	lc_buf_addf(out, "; %s: %s%s", label, start ? "..." : "", b.buf + start);
out:
	lc_buf_release(&b);
}
