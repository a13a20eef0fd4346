/* provider_local.c - the local lab hosts (namespaces + overlay + sshd).
 *
 * Starting a host (see DESIGN.md section 5):
 *
 *   labctl ── fork ──► child: setsid, unshare(NEWNS|NEWUTS|NEWPID),
 *     │                 make / private, sethostname, mount the overlay and
 *     │                 /dev /sys /run /tmp, a private /dev/shm, an empty
 *     │                 tmpfs over STATE (hides the user key), then fork:
 *     │                   └─► init (PID 1 inside): mount /proc, chroot,
 *     │                       stdio to init.log, close every other fd,
 *     │                       fork sshd -D, reap, stop all on SIGTERM
 *     │                 ...and write init.pid
 *     │◄── pipe: the init's PID, then READY or the failed step + errno
 *     └─ waits until ADDRESS:PORT accepts TCP (or the init dies).
 *
 * The init is fully detached (own session, stdio on init.log, no inherited
 * fds), so labctl may exit and its caller's pipes see EOF.  A host's init
 * is recognised by /proc/PID/root == STATE/hosts/NAME/merged, so a reused
 * pid is never signalled.  Everything a child needs (paths, mount options)
 * is built before fork: the children only make system calls, no malloc. */
#include "provider_local.h"
#include "buf.h"

#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <netinet/in.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <sys/xattr.h>
#include <time.h>
#include <unistd.h>

#define SSHD_PATH "/usr/sbin/sshd"
#define SSH_KEYGEN_PATH "/usr/bin/ssh-keygen"
#define HOST_KEY "/etc/ssh/labctl/ssh_host_ed25519_key"
#define SSHD_CONFIG "/etc/ssh/labctl/sshd_config"
#define SSHD_LOG "/var/log/lab/sshd.log"

#define START_TIMEOUT_MS 10000  /* fork to "accepts TCP" */
#define STOP_TIMEOUT_MS 5000    /* SIGTERM to gone, then SIGKILL */
#define INIT_GRACE_MS 2000      /* init: SIGTERM to everything, then exit */
#define SMALL_FILE_MAX (1 << 20)
#define LOG_TAIL 400

/* ---- small helpers ------------------------------------------------------ */

static long long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void sleep_ms(long ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };

	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
}

/* Read a whole (small) file into out; -1 with errno on failure. */
static int read_file(struct lc_buf *out, const char *path, size_t max)
{
	char tmp[4096];
	ssize_t r;
	int fd, saved;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	for (;;) {
		r = read(fd, tmp, sizeof(tmp));
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			break;
		if (out->len + (size_t)r > max) {
			errno = EFBIG;
			r = -1;
			break;
		}
		lc_buf_add(out, tmp, (size_t)r);
	}
	saved = errno;
	close(fd);
	errno = saved;
	return r < 0 ? -1 : 0;
}

static int write_all(int fd, const char *p, size_t len)
{
	while (len) {
		ssize_t w = write(fd, p, len);
		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0)
			return -1;
		p += w;
		len -= (size_t)w;
	}
	return 0;
}

/* Write path (truncating) with exactly this mode, whatever the umask. */
static int write_file(const char *path, const char *data, size_t len,
		      mode_t mode, struct lc_error *err)
{
	int fd, rc = 0;

	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, mode);
	if (fd < 0)
		return lc_error_set(err, LC_EIO, "writing %s: %s", path, strerror(errno));
	if (fchmod(fd, mode) < 0 || write_all(fd, data, len) < 0)
		rc = lc_error_set(err, LC_EIO, "writing %s: %s", path, strerror(errno));
	if (close(fd) < 0 && !rc)
		rc = lc_error_set(err, LC_EIO, "writing %s: %s", path, strerror(errno));
	return rc;
}

/* mkdir that tolerates an existing directory and then forces mode. */
static int make_dir(const char *path, mode_t mode, struct lc_error *err)
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
static int make_dir_like(const char *path, const char *lower, struct lc_error *err)
{
	struct stat st;

	if (stat(lower, &st) < 0)
		return lc_error_set(err, LC_EIO, "stat %s: %s", lower, strerror(errno));
	if (make_dir(path, st.st_mode & 07777, err) < 0)
		return err ? err->code : LC_EIO;
	if (lchown(path, st.st_uid, st.st_gid) < 0)
		return lc_error_set(err, LC_EIO, "chown %s: %s", path, strerror(errno));
	return 0;
}

static int mkdir_parents(const char *path, struct lc_error *err)
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

static void close_from(int lowfd)
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
static int run_cmd(const char *const *argv, struct lc_buf *out, struct lc_error *err)
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
		close_from(3);
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
static int tcp_accepts(const char *address, int port, int timeout_ms)
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
static void add_log_tail(struct lc_buf *out, const char *label, const char *path)
{
	struct lc_buf b = LC_BUF_INIT;
	size_t start = 0, i;

	if (read_file(&b, path, SMALL_FILE_MAX) < 0 || !b.len)
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

/* ---- names, addresses, paths -------------------------------------------- */

static int check_name(const char *name, struct lc_error *err)
{
	size_t i, len = name ? strlen(name) : 0;

	if (!len || len > 63)
		return lc_error_set(err, LC_EUSAGE, "local host name '%s' must be 1 to 63 characters",
				    name ? name : "");
	for (i = 0; i < len; i++) {
		unsigned char c = (unsigned char)name[i];
		int alnum = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
			    (c >= '0' && c <= '9');
		if (!alnum && (i == 0 || (c != '_' && c != '-' && c != '.')))
			return lc_error_set(err, LC_EUSAGE,
					    "local host name '%s': use letters, digits, '_', '-' and '.', "
					    "starting with a letter or digit", name);
	}
	return 0;
}

static int check_host(const struct lc_local_host *h, struct lc_error *err)
{
	struct in_addr a;

	if (check_name(h->name, err) < 0)
		return err ? err->code : LC_EUSAGE;
	if (!h->address || inet_pton(AF_INET, h->address, &a) != 1)
		return lc_error_set(err, LC_EUSAGE, "'%s' is not an IPv4 address",
				    h->address ? h->address : "");
	if ((ntohl(a.s_addr) >> 24) != 127)
		return lc_error_set(err, LC_EUSAGE,
				    "address %s is not in 127.0.0.0/8; "
				    "local lab hosts only listen on loopback addresses",
				    h->address);
	if (h->port < 1 || h->port > 65535)
		return lc_error_set(err, LC_EUSAGE, "port %d is out of range", h->port);
	return 0;
}

/* STATE resolved to an absolute path that is safe in overlayfs options. */
static int state_realpath(struct lc_buf *out, const char *state_dir, struct lc_error *err)
{
	char *rp = realpath(state_dir, NULL);

	if (!rp)
		return lc_error_set(err, LC_EIO, "state directory %s: %s", state_dir,
				    strerror(errno));
	lc_buf_adds(out, rp);
	free(rp);
	if (strpbrk(out->buf, ",:\\\n"))
		return lc_error_set(err, LC_EUSAGE,
				    "state directory %s: its path must not contain ',', ':' or '\\' "
				    "(overlayfs mount options)", out->buf);
	return 0;
}

struct host {
	const char *name;
	struct lc_buf dir, upper, work, merged, pidfile, logfile, endpoint;
};

static void host_init(struct host *h, const char *state, const char *name)
{
	h->name = name;
	lc_buf_init(&h->dir);
	lc_buf_addf(&h->dir, "%s/hosts/%s", state, name);
	lc_buf_init(&h->upper);
	lc_buf_addf(&h->upper, "%s/upper", h->dir.buf);
	lc_buf_init(&h->work);
	lc_buf_addf(&h->work, "%s/work", h->dir.buf);
	lc_buf_init(&h->merged);
	lc_buf_addf(&h->merged, "%s/merged", h->dir.buf);
	lc_buf_init(&h->pidfile);
	lc_buf_addf(&h->pidfile, "%s/init.pid", h->dir.buf);
	lc_buf_init(&h->logfile);
	lc_buf_addf(&h->logfile, "%s/init.log", h->dir.buf);
	lc_buf_init(&h->endpoint);
	lc_buf_addf(&h->endpoint, "%s/endpoint", h->dir.buf);
}

static void host_release(struct host *h)
{
	lc_buf_release(&h->dir);
	lc_buf_release(&h->upper);
	lc_buf_release(&h->work);
	lc_buf_release(&h->merged);
	lc_buf_release(&h->pidfile);
	lc_buf_release(&h->logfile);
	lc_buf_release(&h->endpoint);
}

void lc_local_key_path(struct lc_buf *out, const char *state_dir)
{
	lc_buf_addf(out, "%s/id_ed25519", state_dir);
}

void lc_local_known_hosts_path(struct lc_buf *out, const char *state_dir)
{
	lc_buf_addf(out, "%s/known_hosts", state_dir);
}

/* ---- is a host's init alive and ours? ----------------------------------- */

static int pid_is_zombie(pid_t pid)
{
	struct lc_buf path = LC_BUF_INIT, stat_line = LC_BUF_INIT;
	const char *p;
	int z = 0;

	lc_buf_addf(&path, "/proc/%d/stat", (int)pid);
	if (read_file(&stat_line, path.buf, 4096) == 0 &&
	    (p = strrchr(stat_line.buf, ')')) != NULL && p[1] == ' ')
		z = p[2] == 'Z' || p[2] == 'X';
	lc_buf_release(&path);
	lc_buf_release(&stat_line);
	return z;
}

/* 1 if pid is alive and its root directory is this host's merged dir - so a
 * stale init.pid whose number was reused is never signalled. */
static int pid_is_host_init(pid_t pid, const struct host *h)
{
	struct lc_buf link = LC_BUF_INIT, target = LC_BUF_INIT;
	ssize_t r;
	int ours = 0;

	if (pid <= 1 || (kill(pid, 0) < 0 && errno == ESRCH) || pid_is_zombie(pid))
		return 0;
	lc_buf_addf(&link, "/proc/%d/root", (int)pid);
	lc_buf_grow(&target, PATH_MAX);
	r = readlink(link.buf, target.buf, target.alloc - 1);
	if (r > 0) {
		lc_buf_setlen(&target, (size_t)r);
		ours = strcmp(target.buf, h->merged.buf) == 0;
	}
	lc_buf_release(&link);
	lc_buf_release(&target);
	return ours;
}

/* Search /proc for the host's init: root is merged/, and it is PID 1 of
 * its PID namespace (the last NSpid field is 1). */
static pid_t scan_for_init(const struct host *h)
{
	struct lc_buf path = LC_BUF_INIT, status = LC_BUF_INIT;
	struct dirent *de;
	const char *ns, *nl;
	pid_t found = 0;
	long v;
	char *end;
	DIR *d = opendir("/proc");

	while (d && !found && (de = readdir(d)) != NULL) {
		errno = 0;
		v = strtol(de->d_name, &end, 10);
		if (errno || *end || v <= 1 || v > INT_MAX || !pid_is_host_init((pid_t)v, h))
			continue;
		lc_buf_reset(&path);
		lc_buf_reset(&status);
		lc_buf_addf(&path, "/proc/%ld/status", v);
		if (read_file(&status, path.buf, 65536) < 0 ||
		    !(ns = strstr(status.buf, "\nNSpid:")))
			continue;
		nl = strchr(ns + 1, '\n');
		if (nl && nl - ns > 2 && nl[-1] == '1' && (nl[-2] == ' ' || nl[-2] == '\t'))
			found = (pid_t)v;
	}
	if (d)
		closedir(d);
	lc_buf_release(&path);
	lc_buf_release(&status);
	return found;
}

/* The init's pid if it is running and ours, else 0. */
static pid_t host_init_pid(const struct host *h)
{
	struct lc_buf b = LC_BUF_INIT;
	char *end;
	long v = 0;

	if (read_file(&b, h->pidfile.buf, 64) == 0) {
		errno = 0;
		v = strtol(b.buf, &end, 10);
		if (errno || end == b.buf || v <= 1 || v > INT_MAX)
			v = 0;
	}
	lc_buf_release(&b);
	if (v && pid_is_host_init((pid_t)v, h))
		return (pid_t)v;
	/* No valid init.pid (labctl killed while starting?) but the host may
	 * still run: never leave it unstoppable, nor delete a live upper dir. */
	return access(h->merged.buf, F_OK) == 0 ? scan_for_init(h) : 0;
}

/* Read STATE/hosts/NAME/endpoint: "ADDRESS PORT". */
static int read_endpoint(const struct host *h, struct lc_buf *addr, int *port)
{
	struct lc_buf b = LC_BUF_INIT;
	struct in_addr a;
	char *sp, *end;
	long v;
	int rc = -1;

	if (read_file(&b, h->endpoint.buf, 256) < 0)
		goto out;
	sp = strchr(b.buf, ' ');
	if (!sp)
		goto out;
	*sp = '\0';
	errno = 0;
	v = strtol(sp + 1, &end, 10);
	if (errno || end == sp + 1 || v < 1 || v > 65535 ||
	    inet_pton(AF_INET, b.buf, &a) != 1)
		goto out;
	lc_buf_adds(addr, b.buf);
	*port = (int)v;
	rc = 0;
out:
	lc_buf_release(&b);
	return rc;
}

int lc_local_is_running(const char *state_dir, const char *name)
{
	struct lc_buf state = LC_BUF_INIT, addr = LC_BUF_INIT;
	struct host h;
	int port = 0, up = 0;

	if (check_name(name, NULL) < 0 || state_realpath(&state, state_dir, NULL) < 0) {
		lc_buf_release(&state);
		return 0;
	}
	host_init(&h, state.buf, name);
	if (host_init_pid(&h) && read_endpoint(&h, &addr, &port) == 0)
		up = tcp_accepts(addr.buf, port, 500);
	host_release(&h);
	lc_buf_release(&addr);
	lc_buf_release(&state);
	return up;
}

/* ---- check, keys, known_hosts ------------------------------------------- */

static int overlay_available(void)
{
	struct lc_buf b = LC_BUF_INIT, path = LC_BUF_INIT;
	static const char *const ext[] = { "ko", "ko.xz", "ko.zst", "ko.gz" };
	struct utsname u;
	struct stat st;
	size_t i;
	int ok = 0;

	if (read_file(&b, "/proc/filesystems", SMALL_FILE_MAX) == 0 &&
	    strstr(b.buf, "\toverlay\n"))
		ok = 1;
	/* Not loaded yet: mount(2) loads the module on demand if it exists. */
	for (i = 0; !ok && uname(&u) == 0 && i < sizeof(ext) / sizeof(ext[0]); i++) {
		lc_buf_reset(&path);
		lc_buf_addf(&path, "/lib/modules/%s/kernel/fs/overlayfs/overlay.%s",
			    u.release, ext[i]);
		ok = stat(path.buf, &st) == 0;
	}
	lc_buf_release(&b);
	lc_buf_release(&path);
	return ok;
}

int lc_local_check(struct lc_error *err)
{
	if (geteuid() != 0)
		return lc_error_set(err, LC_EUSAGE,
				    "the local lab needs root (namespaces, mounts, sshd): run as root");
	if (access(SSHD_PATH, X_OK) < 0)
		return lc_error_set(err, LC_EUSAGE,
				    "the local lab needs OpenSSH's server (%s): apt-get install openssh-server",
				    SSHD_PATH);
	if (access(SSH_KEYGEN_PATH, X_OK) < 0)
		return lc_error_set(err, LC_EUSAGE,
				    "the local lab needs %s: apt-get install openssh-client",
				    SSH_KEYGEN_PATH);
	if (!overlay_available())
		return lc_error_set(err, LC_EUSAGE,
				    "the local lab needs the overlay filesystem, which this kernel lacks "
				    "(try: modprobe overlay)");
	return 0;
}

/* flock(STATE/lock): one up or down at a time per state dir. */
static int lock_state(const char *state, int *fd_out, struct lc_error *err)
{
	struct lc_buf path = LC_BUF_INIT;
	int fd, rc = 0;

	*fd_out = -1;
	lc_buf_addf(&path, "%s/lock", state);
	fd = open(path.buf, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (fd < 0) {
		rc = lc_error_set(err, LC_EIO, "opening %s: %s", path.buf, strerror(errno));
		goto out;
	}
	while (flock(fd, LOCK_EX) < 0) {
		if (errno != EINTR) {
			rc = lc_error_set(err, LC_EIO, "locking %s: %s", path.buf, strerror(errno));
			close(fd);
			goto out;
		}
	}
	*fd_out = fd;
out:
	lc_buf_release(&path);
	return rc;
}

/* ssh-keygen -t ed25519 into path (removing a half-made pair first). */
static int make_keypair(const char *path, const char *comment, struct lc_error *err)
{
	struct lc_buf pub = LC_BUF_INIT, out = LC_BUF_INIT;
	const char *argv[] = { SSH_KEYGEN_PATH, "-q", "-t", "ed25519", "-N", "",
			       "-C", comment, "-f", path, NULL };
	int rc;

	lc_buf_addf(&pub, "%s.pub", path);
	if ((unlink(path) < 0 && errno != ENOENT) || (unlink(pub.buf) < 0 && errno != ENOENT)) {
		rc = lc_error_set(err, LC_EIO, "removing %s: %s", path, strerror(errno));
		goto out;
	}
	rc = run_cmd(argv, &out, err);
	if (rc < 0)
		lc_error_prefix(err, "generating %s", path);
out:
	lc_buf_release(&pub);
	lc_buf_release(&out);
	return rc;
}

int lc_local_ensure_keys(const char *state_dir, struct lc_error *err)
{
	struct lc_buf key = LC_BUF_INIT, pub = LC_BUF_INIT, hosts = LC_BUF_INIT;
	struct lc_buf out = LC_BUF_INIT;
	struct stat st;
	int rc, lockfd = -1;

	if (stat(state_dir, &st) < 0) {
		if ((rc = mkdir_parents(state_dir, err)) < 0)
			goto out;
		if (mkdir(state_dir, 0700) < 0 && errno != EEXIST) {
			rc = lc_error_set(err, LC_EIO, "creating %s: %s", state_dir, strerror(errno));
			goto out;
		}
	}
	if ((rc = make_dir(state_dir, 0700, err)) < 0)
		goto out;
	lc_buf_addf(&hosts, "%s/hosts", state_dir);
	if ((rc = make_dir(hosts.buf, 0700, err)) < 0)
		goto out;
	if ((rc = lock_state(state_dir, &lockfd, err)) < 0)
		goto out;
	lc_local_key_path(&key, state_dir);
	lc_buf_addf(&pub, "%s.pub", key.buf);
	if (access(key.buf, F_OK) < 0) {
		rc = make_keypair(key.buf, "labctl-lab", err);
	} else if (access(pub.buf, F_OK) < 0) {
		const char *argv[] = { SSH_KEYGEN_PATH, "-y", "-f", key.buf, NULL };
		rc = run_cmd(argv, &out, err);
		if (rc < 0)
			lc_error_prefix(err, "reading the public half of %s", key.buf);
		else
			rc = write_file(pub.buf, out.buf, out.len, 0644, err);
	}
out:
	lc_buf_release(&key);
	lc_buf_release(&pub);
	lc_buf_release(&hosts);
	lc_buf_release(&out);
	if (lockfd >= 0)
		close(lockfd);
	return rc;
}

/* Names of every directory in STATE/hosts. */
static int list_hosts(const char *state, char ***out, size_t *nr, struct lc_error *err)
{
	struct lc_buf path = LC_BUF_INIT;
	struct dirent *de;
	char **names = NULL;
	size_t n = 0, alloc = 0;
	DIR *d;
	int rc = 0;

	*out = NULL;
	*nr = 0;
	lc_buf_addf(&path, "%s/hosts", state);
	d = opendir(path.buf);
	if (!d) {
		if (errno != ENOENT)
			rc = lc_error_set(err, LC_EIO, "reading %s: %s", path.buf, strerror(errno));
		goto out;
	}
	while ((de = readdir(d)) != NULL) {
		if (check_name(de->d_name, NULL) < 0 || de->d_type != DT_DIR)
			continue;
		LC_ALLOC_GROW(names, n + 1, alloc);
		names[n++] = lc_xstrdup(de->d_name);
	}
	closedir(d);
	*out = names;
	*nr = n;
	names = NULL;
out:
	lc_buf_release(&path);
	return rc;
}

static void free_names(char **names, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		free(names[i]);
	free(names);
}

/* Regenerate STATE/known_hosts from the host key of every running host. */
static int write_known_hosts(const char *state, struct lc_error *err)
{
	struct lc_buf text = LC_BUF_INIT, path = LC_BUF_INIT, tmp = LC_BUF_INIT;
	struct lc_buf pub = LC_BUF_INIT, addr = LC_BUF_INIT, key = LC_BUF_INIT;
	char **names = NULL, *sp;
	size_t i, n = 0;
	int port, rc;

	if ((rc = list_hosts(state, &names, &n, err)) < 0)
		goto out;
	for (i = 0; i < n; i++) {
		struct host h;

		host_init(&h, state, names[i]);
		lc_buf_reset(&pub);
		lc_buf_reset(&addr);
		lc_buf_reset(&key);
		lc_buf_addf(&key, "%s" HOST_KEY ".pub", h.upper.buf);
		if (host_init_pid(&h) && read_endpoint(&h, &addr, &port) == 0 &&
		    read_file(&pub, key.buf, 4096) == 0 &&
		    !strncmp(pub.buf, "ssh-ed25519 ", 12)) {
			/* keep "ssh-ed25519 BASE64", drop the comment */
			sp = strpbrk(pub.buf + 12, " \n");
			if (sp)
				lc_buf_setlen(&pub, (size_t)(sp - pub.buf));
			if (port == 22)
				lc_buf_addf(&text, "%s %s\n", addr.buf, pub.buf);
			else
				lc_buf_addf(&text, "[%s]:%d %s\n", addr.buf, port, pub.buf);
		}
		host_release(&h);
	}
	lc_local_known_hosts_path(&path, state);
	lc_buf_addf(&tmp, "%s.tmp.%d", path.buf, (int)getpid());
	if ((rc = write_file(tmp.buf, text.buf, text.len, 0644, err)) < 0)
		goto out;
	if (rename(tmp.buf, path.buf) < 0) {
		rc = lc_error_set(err, LC_EIO, "renaming %s: %s", tmp.buf, strerror(errno));
		unlink(tmp.buf);
	}
out:
	free_names(names, n);
	lc_buf_release(&text);
	lc_buf_release(&path);
	lc_buf_release(&tmp);
	lc_buf_release(&pub);
	lc_buf_release(&addr);
	lc_buf_release(&key);
	return rc;
}

/* ---- stopping and removing ---------------------------------------------- */

/* SIGTERM every init, wait, SIGKILL stragglers, wait until all are gone.
 * pids[i] == 0 means nothing to stop for hosts[i]. */
static int stop_inits(pid_t *pids, struct host *hosts, size_t n, struct lc_error *err)
{
	long long deadline = now_ms() + STOP_TIMEOUT_MS;
	size_t i, left;
	int killed = 0, rc = 0;

	for (i = 0; i < n; i++)
		if (pids[i] && kill(pids[i], SIGTERM) < 0 && errno != ESRCH)
			rc = lc_error_set(err, LC_ERR, "stopping %s (pid %d): %s",
					  hosts[i].name, (int)pids[i], strerror(errno));
	for (;;) {
		for (i = 0, left = 0; i < n; i++) {
			if (pids[i] && !pid_is_host_init(pids[i], &hosts[i]))
				pids[i] = 0;
			left += pids[i] != 0;
		}
		if (!left)
			break;
		if (now_ms() >= deadline) {
			if (killed)
				break;
			for (i = 0; i < n; i++)
				if (pids[i])
					kill(pids[i], SIGKILL);
			killed = 1;
			deadline = now_ms() + STOP_TIMEOUT_MS;
		}
		sleep_ms(20);
	}
	for (i = 0; i < n; i++)
		if (pids[i])
			rc = lc_error_set(err, LC_ETIMEOUT,
					  "host %s (init pid %d) did not stop even after SIGKILL",
					  hosts[i].name, (int)pids[i]);
	return rc;
}

static int rm_one(const char *path, const struct stat *st, int type, struct FTW *ftw)
{
	(void)st;
	(void)ftw;
	if (type == FTW_DP)
		return rmdir(path) < 0 ? -1 : 0;
	return unlink(path) < 0 ? -1 : 0;
}

/* rm -rf that never crosses into another mounted file system. */
static int rm_tree(const char *path, struct lc_error *err)
{
	struct stat st;

	if (lstat(path, &st) < 0)
		return errno == ENOENT ? 0 :
			lc_error_set(err, LC_EIO, "removing %s: %s", path, strerror(errno));
	if (nftw(path, rm_one, 32, FTW_DEPTH | FTW_PHYS | FTW_MOUNT) != 0)
		return lc_error_set(err, LC_EIO, "removing %s: %s", path,
				    errno ? strerror(errno) : "not empty (a mount inside?)");
	return 0;
}

int lc_local_down(const char *state_dir, const struct lc_local_host *hosts,
		  size_t n, struct lc_error *err)
{
	struct lc_buf state = LC_BUF_INIT;
	struct lc_error one = LC_ERROR_INIT;
	struct host *hs = NULL;
	pid_t *pids = NULL;
	char **names = NULL;
	size_t i, nh = 0;
	int rc = 0, lockfd = -1;

	if (access(state_dir, F_OK) < 0 && errno == ENOENT)
		goto out;  /* nothing was ever started here */
	if ((rc = state_realpath(&state, state_dir, err)) < 0 ||
	    (rc = lock_state(state.buf, &lockfd, err)) < 0)
		goto out;
	if (n == 0) {
		if ((rc = list_hosts(state.buf, &names, &nh, err)) < 0)
			goto out;
	} else {
		names = lc_xcalloc(n, sizeof(*names));
		for (i = 0; i < n; i++) {
			if ((rc = check_name(hosts[i].name, err)) < 0)
				goto out;
			names[nh++] = lc_xstrdup(hosts[i].name);
		}
	}
	hs = lc_xcalloc(nh ? nh : 1, sizeof(*hs));
	pids = lc_xcalloc(nh ? nh : 1, sizeof(*pids));
	for (i = 0; i < nh; i++) {
		host_init(&hs[i], state.buf, names[i]);
		pids[i] = host_init_pid(&hs[i]);
	}
	rc = stop_inits(pids, hs, nh, err);
	for (i = 0; i < nh; i++) {
		if (pids[i])
			continue;  /* still alive: keep its state */
		if (rm_tree(hs[i].dir.buf, &one) < 0 && !rc)
			rc = lc_error_set(err, one.code, "%s", one.msg);
	}
	if (write_known_hosts(state.buf, &one) < 0 && !rc)
		rc = lc_error_set(err, one.code, "%s", one.msg);
out:
	for (i = 0; hs && i < nh; i++)
		host_release(&hs[i]);
	free(hs);
	free(pids);
	free_names(names, nh);
	if (lockfd >= 0)
		close(lockfd);
	lc_buf_release(&state);
	return rc;
}

/* ---- preparing a host's upper dir ---------------------------------------- */

/* The user's key may log in as root only if root's password is not locked
 * ("!..." in /etc/shadow) when sshd runs without PAM: give the host a copy
 * of /etc/shadow with root's password "*" (no password, not locked). */
static int unlock_root(const char *upper, struct lc_error *err)
{
	struct lc_buf in = LC_BUF_INIT, out = LC_BUF_INIT, path = LC_BUF_INIT;
	struct stat st;
	char *line, *field, *colon;
	int rc = 0;

	lc_buf_addf(&path, "%s/etc/shadow", upper);
	if (access(path.buf, F_OK) == 0 || stat("/etc/shadow", &st) < 0 ||
	    read_file(&in, "/etc/shadow", SMALL_FILE_MAX) < 0)
		goto out;  /* the host has its own already, or there is none */
	line = !strncmp(in.buf, "root:", 5) ? in.buf : strstr(in.buf, "\nroot:");
	if (!line)
		goto out;
	field = line + (*line == '\n' ? 6 : 5);
	if (*field != '!' || !(colon = strchr(field, ':')))
		goto out;
	lc_buf_add(&out, in.buf, (size_t)(field - in.buf));
	lc_buf_addc(&out, '*');
	lc_buf_adds(&out, colon);
	if ((rc = write_file(path.buf, out.buf, out.len, st.st_mode & 07777, err)) < 0)
		goto out;
	if (chown(path.buf, st.st_uid, st.st_gid) < 0)
		rc = lc_error_set(err, LC_EIO, "chown %s: %s", path.buf, strerror(errno));
out:
	lc_buf_release(&in);
	lc_buf_release(&out);
	lc_buf_release(&path);
	return rc;
}

/* Rewrite the upper /etc/hosts with this host's own line. */
static int update_hosts_file(const char *path, const struct lc_local_host *spec,
			     struct lc_error *err)
{
	struct lc_buf in = LC_BUF_INIT, out = LC_BUF_INIT, ours = LC_BUF_INIT;
	const char *line, *nl;
	size_t len;
	int rc = 0;

	if (read_file(&in, path, SMALL_FILE_MAX) < 0 &&
	    read_file(&in, "/etc/hosts", SMALL_FILE_MAX) < 0 && errno != ENOENT) {
		rc = lc_error_set(err, LC_EIO, "reading /etc/hosts: %s", strerror(errno));
		goto out;
	}
	lc_buf_addf(&ours, "\t%s", spec->name);
	for (line = in.buf; *line; line = nl ? nl + 1 : line + len) {
		nl = strchr(line, '\n');
		len = nl ? (size_t)(nl - line) : strlen(line);
		if (len >= ours.len && !memcmp(line + len - ours.len, ours.buf, ours.len) &&
		    !memchr(line, ' ', len - ours.len) && !memchr(line, '\t', len - ours.len))
			continue;  /* "ADDRESS<TAB>NAME": the line we wrote last time */
		lc_buf_add(&out, line, len);
		lc_buf_addc(&out, '\n');
		if (!nl)
			break;
	}
	lc_buf_addf(&out, "%s\t%s\n", spec->address, spec->name);
	rc = write_file(path, out.buf, out.len, 0644, err);
out:
	lc_buf_release(&in);
	lc_buf_release(&out);
	lc_buf_release(&ours);
	return rc;
}

static int prepare_host(const struct host *h, const struct lc_local_host *spec,
			const struct lc_buf *user_pub, struct lc_error *err)
{
	struct lc_buf p = LC_BUF_INIT, text = LC_BUF_INIT;
	int rc;

#define UPPER(sub) (lc_buf_reset(&p), lc_buf_addf(&p, "%s%s", h->upper.buf, sub), p.buf)
	if ((rc = make_dir(h->dir.buf, 0700, err)) < 0 ||
	    (rc = make_dir_like(h->upper.buf, "/", err)) < 0 ||
	    (rc = make_dir(h->work.buf, 0700, err)) < 0 ||
	    (rc = make_dir(h->merged.buf, 0755, err)) < 0)
		goto out;

	/* A clean /root: opaque, so nothing of the machine's /root shows. */
	if (access(UPPER("/root"), F_OK) < 0) {
		if ((rc = make_dir(p.buf, 0700, err)) < 0)
			goto out;
		if (lsetxattr(p.buf, "trusted.overlay.opaque", "y", 1, 0) < 0) {
			rc = lc_error_set(err, LC_EIO, "setting trusted.overlay.opaque on %s: %s",
					  p.buf, strerror(errno));
			goto out;
		}
	}
	if ((rc = make_dir(UPPER("/root/.ssh"), 0700, err)) < 0 ||
	    (rc = write_file(UPPER("/root/.ssh/authorized_keys"), user_pub->buf,
			     user_pub->len, 0600, err)) < 0)
		goto out;

	if ((rc = make_dir_like(UPPER("/etc"), "/etc", err)) < 0 ||
	    (rc = make_dir_like(UPPER("/etc/ssh"), "/etc/ssh", err)) < 0 ||
	    (rc = make_dir(UPPER("/etc/ssh/labctl"), 0755, err)) < 0)
		goto out;
	lc_buf_reset(&text);
	lc_buf_addf(&text, "%s.pub", UPPER(HOST_KEY));
	if ((access(p.buf, F_OK) < 0 || access(text.buf, F_OK) < 0) &&
	    (rc = make_keypair(p.buf, spec->name, err)) < 0)
		goto out;

	lc_buf_reset(&text);
	lc_buf_addf(&text,
		    "# written by labctl for the local lab host %s\n"
		    "ListenAddress %s:%d\n"
		    "HostKey " HOST_KEY "\n"
		    "PermitRootLogin prohibit-password\n"
		    "PubkeyAuthentication yes\n"
		    "PasswordAuthentication no\n"
		    "KbdInteractiveAuthentication no\n"
		    "UsePAM no\n"
		    "AuthorizedKeysFile .ssh/authorized_keys\n"
		    "Subsystem sftp internal-sftp\n"
		    "PidFile /run/sshd.pid\n"
		    "PrintMotd no\n"
		    "PrintLastLog no\n"
		    "UseDNS no\n"
		    "X11Forwarding no\n"
		    "AcceptEnv LANG LC_*\n"
		    "MaxStartups 100:30:200\n"
		    "MaxSessions 50\n"
		    "LogLevel ERROR\n",
		    spec->name, spec->address, spec->port);
	if ((rc = write_file(UPPER(SSHD_CONFIG), text.buf, text.len, 0644, err)) < 0)
		goto out;

	lc_buf_reset(&text);
	lc_buf_addf(&text, "%s\n", spec->name);
	if ((rc = write_file(UPPER("/etc/hostname"), text.buf, text.len, 0644, err)) < 0)
		goto out;
	/* /etc/hosts: the host's own (else the machine's) without our old line
	 * for NAME, plus "ADDRESS<TAB>NAME"; other edits made on the host stay. */
	if ((rc = update_hosts_file(UPPER("/etc/hosts"), spec, err)) < 0)
		goto out;
	if ((rc = unlock_root(h->upper.buf, err)) < 0)
		goto out;
	/* A fresh sshd log per start, so an error shows this start's lines. */
	if (truncate(UPPER(SSHD_LOG), 0) < 0 && errno != ENOENT) {
		rc = lc_error_set(err, LC_EIO, "truncating %s: %s", p.buf, strerror(errno));
		goto out;
	}

	lc_buf_reset(&text);
	lc_buf_addf(&text, "%s %d\n", spec->address, spec->port);
	rc = write_file(h->endpoint.buf, text.buf, text.len, 0644, err);
#undef UPPER
out:
	lc_buf_release(&p);
	lc_buf_release(&text);
	return rc;
}

/* ---- starting: the two forked children ----------------------------------- */

enum step {
	STEP_OPEN, STEP_SETSID, STEP_UNSHARE, STEP_PRIVATE, STEP_HOSTNAME,
	STEP_OVERLAY, STEP_DEV, STEP_SYS, STEP_RUN, STEP_TMP, STEP_SHM, STEP_HIDE,
	STEP_FORK, STEP_PIDFILE, STEP_PROC, STEP_CHROOT, STEP_DIRS, STEP_STDIO, STEP_SSHD,
};

static const char *step_name(int step)
{
	static const char *const names[] = {
		"opening init.log and /dev/null", "setsid", "unshare(NEWNS|NEWUTS|NEWPID)",
		"making mounts private", "sethostname", "mounting the overlay",
		"bind-mounting /dev", "bind-mounting /sys", "mounting tmpfs on /run",
		"mounting tmpfs on /tmp", "mounting tmpfs on /dev/shm",
		"hiding the state directory", "forking the init", "writing init.pid",
		"mounting /proc",
		"chroot", "creating /run/sshd, /run/lab, /var/log/lab",
		"redirecting stdio", "forking sshd",
	};
	return step >= 0 && (size_t)step < sizeof(names) / sizeof(names[0]) ?
		names[step] : "?";
}

enum { REPORT_PID = 1, REPORT_READY, REPORT_FAIL };

struct report {
	int kind, step, err, pid;
};

struct job {
	const struct lc_local_host *spec;
	struct lc_local_result *res;
	struct host h;
	/* built before fork: */
	struct lc_buf opts, dev, sys, run, tmp, shm, hide, proc, title;
	pid_t child, init;
	int fd, active, ready;
};

static void send_report(int fd, int kind, int step, int e, int pid)
{
	struct report r = { kind, step, e, pid };

	/* one write below PIPE_BUF is atomic; nothing to do if it fails */
	if (write(fd, &r, sizeof(r)) < 0)
		return;
}

static void __attribute__((noreturn)) fail_child(int fd, int step)
{
	send_report(fd, REPORT_FAIL, step, errno, 0);
	_exit(1);
}

/* Decimal digits of v into buf (no NUL); for the children, which must not
 * call printf. */
static size_t fmt_uint(char *buf, unsigned v)
{
	char tmp[16];
	size_t n = 0, i;

	do {
		tmp[n++] = (char)('0' + v % 10);
		v /= 10;
	} while (v);
	for (i = 0; i < n; i++)
		buf[i] = tmp[n - 1 - i];
	return n;
}

static void log_line(const char *a, const char *b, int num)
{
	char digits[16];
	size_t n = 0;

	if (num < 0)
		digits[n++] = '-';
	n += fmt_uint(digits + n, num < 0 ? 0U - (unsigned)num : (unsigned)num);
	digits[n++] = '\n';
	if (write_all(2, a, strlen(a)) < 0 || write_all(2, b, strlen(b)) < 0)
		return;
	(void)write_all(2, digits, n);
}

static void noop_handler(int sig)
{
	(void)sig;
}

/* The host's PID 1: run sshd, reap orphans, stop everything on SIGTERM. */
static void __attribute__((noreturn)) init_main(const struct job *j, int rfd,
						int logfd, int nullfd)
{
	static char *const sshd_argv[] = { SSHD_PATH, "-D", "-f", SSHD_CONFIG,
					   "-E", SSHD_LOG, NULL };
	static char *const sshd_env[] = {
		"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
		"HOME=/root", "LANG=C.UTF-8", NULL };
	struct sigaction sa;
	struct timespec ts;
	sigset_t set, chld, none;
	siginfo_t si;
	long long deadline;
	pid_t sshd, p;
	int sig, status;

	if (mount("proc", j->proc.buf, "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL) < 0)
		fail_child(rfd, STEP_PROC);
	if (chroot(j->h.merged.buf) < 0 || chdir("/") < 0)
		fail_child(rfd, STEP_CHROOT);
	umask(022);
	if ((mkdir("/run/sshd", 0755) < 0 && errno != EEXIST) ||
	    (mkdir("/run/lab", 0755) < 0 && errno != EEXIST) ||
	    (mkdir("/var/log/lab", 0755) < 0 && errno != EEXIST))
		fail_child(rfd, STEP_DIRS);
	if (setsid() < 0)
		fail_child(rfd, STEP_SETSID);
	if (dup2(nullfd, 0) < 0 || dup2(logfd, 1) < 0 || dup2(logfd, 2) < 0)
		fail_child(rfd, STEP_STDIO);
	/* Show as "lc-init NAME" in ps (and /proc/1/cmdline inside) rather than
	 * as a copy of labctl's command line; cosmetic, so failures are fine. */
	prctl(PR_SET_NAME, "lc-init", 0, 0, 0);
	prctl(PR_SET_MM, PR_SET_MM_ARG_START, (unsigned long)j->title.buf, 0, 0);
	prctl(PR_SET_MM, PR_SET_MM_ARG_END, (unsigned long)(j->title.buf + j->title.len + 1), 0, 0);

	/* Whatever labctl ignored or blocked must not reach sshd's sessions. */
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = SIG_DFL;
	for (sig = 1; sig < NSIG; sig++)
		if (sig != SIGKILL && sig != SIGSTOP)
			sigaction(sig, &sa, NULL);  /* fails harmlessly for RT signals glibc reserves */
	sa.sa_handler = noop_handler;  /* PID 1 gets only signals it handles */
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
	sigaction(SIGCHLD, &sa, NULL);
	sigemptyset(&none);
	sigemptyset(&set);
	sigaddset(&set, SIGCHLD);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGHUP);
	sigprocmask(SIG_SETMASK, &set, NULL);

	sshd = fork();
	if (sshd == 0) {
		sigprocmask(SIG_SETMASK, &none, NULL);
		close_from(3);
		execve(SSHD_PATH, sshd_argv, sshd_env);
		log_line("lc-init: exec " SSHD_PATH " failed", ", errno ", errno);
		_exit(127);
	}
	if (sshd < 0)
		fail_child(rfd, STEP_SSHD);
	send_report(rfd, REPORT_READY, 0, 0, 0);
	close_from(3);

	for (;;) {
		sig = sigwaitinfo(&set, &si);
		if (sig < 0)
			continue;
		if (sig != SIGCHLD) {
			log_line("lc-init: stopping on signal", " ", sig);
			break;
		}
		while ((p = waitpid(-1, &status, WNOHANG)) > 0) {
			if (p != sshd)
				continue;
			log_line("lc-init: sshd exited, ",
				 WIFEXITED(status) ? "status " : "signal ",
				 WIFEXITED(status) ? WEXITSTATUS(status) : WTERMSIG(status));
			sshd = 0;
		}
		if (!sshd)
			break;
	}
	kill(-1, SIGTERM);
	sigemptyset(&chld);
	sigaddset(&chld, SIGCHLD);
	clock_gettime(CLOCK_MONOTONIC, &ts);
	deadline = (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000 + INIT_GRACE_MS;
	for (;;) {
		while ((p = waitpid(-1, NULL, WNOHANG)) > 0)
			;
		if (p < 0 && errno == ECHILD)
			break;
		clock_gettime(CLOCK_MONOTONIC, &ts);
		if ((long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000 >= deadline)
			break;
		ts.tv_sec = 0;
		ts.tv_nsec = 50 * 1000000L;
		sigtimedwait(&chld, NULL, &ts);
	}
	_exit(0);  /* the kernel kills whatever is left in the namespace */
}

/* The intermediate child: new namespaces, mounts, then fork the init. */
static void __attribute__((noreturn)) start_child(const struct job *j, int rfd)
{
	char digits[24];
	size_t len;
	int nullfd, logfd, pidfd;
	pid_t pid;

	nullfd = open("/dev/null", O_RDWR | O_CLOEXEC);
	logfd = open(j->h.logfile.buf, O_WRONLY | O_CREAT | O_TRUNC | O_APPEND | O_CLOEXEC, 0600);
	if (nullfd < 0 || logfd < 0)
		fail_child(rfd, STEP_OPEN);
	if (setsid() < 0)
		fail_child(rfd, STEP_SETSID);
	if (unshare(CLONE_NEWNS | CLONE_NEWUTS | CLONE_NEWPID) < 0)
		fail_child(rfd, STEP_UNSHARE);
	if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0)
		fail_child(rfd, STEP_PRIVATE);
	if (sethostname(j->spec->name, strlen(j->spec->name)) < 0)
		fail_child(rfd, STEP_HOSTNAME);
	if (mount("overlay", j->h.merged.buf, "overlay", 0, j->opts.buf) < 0)
		fail_child(rfd, STEP_OVERLAY);
	if (mount("/dev", j->dev.buf, NULL, MS_BIND | MS_REC, NULL) < 0)
		fail_child(rfd, STEP_DEV);
	if (mount("/sys", j->sys.buf, NULL, MS_BIND | MS_REC, NULL) < 0)
		fail_child(rfd, STEP_SYS);
	if (mount("tmpfs", j->run.buf, "tmpfs", MS_NOSUID | MS_NODEV, "mode=0755") < 0)
		fail_child(rfd, STEP_RUN);
	if (mount("tmpfs", j->tmp.buf, "tmpfs", MS_NOSUID | MS_NODEV, "mode=1777") < 0)
		fail_child(rfd, STEP_TMP);
	/* Private shared memory (PostgreSQL uses it); skipped if /dev has none. */
	if (mount("tmpfs", j->shm.buf, "tmpfs", MS_NOSUID | MS_NODEV, "mode=1777") < 0 &&
	    errno != ENOENT)
		fail_child(rfd, STEP_SHM);
	/* Cover STATE (labctl's private key, other hosts' layers) with an empty
	 * read-only tmpfs; ENOENT: not visible in the lower layer anyway. */
	if (mount("tmpfs", j->hide.buf, "tmpfs", MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC,
		  "mode=0755,size=4k") < 0 && errno != ENOENT)
		fail_child(rfd, STEP_HIDE);
	pid = fork();  /* the first child in the new PID namespace: its PID 1 */
	if (pid < 0)
		fail_child(rfd, STEP_FORK);
	if (pid == 0)
		init_main(j, rfd, logfd, nullfd);
	/* init.pid first, so the host can be stopped even if labctl dies now */
	len = fmt_uint(digits, (unsigned)pid);
	digits[len++] = '\n';
	pidfd = open(j->h.pidfile.buf, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (pidfd < 0 || write_all(pidfd, digits, len) < 0 || close(pidfd) < 0) {
		kill(pid, SIGKILL);
		fail_child(rfd, STEP_PIDFILE);
	}
	send_report(rfd, REPORT_PID, 0, 0, (int)pid);
	_exit(0);
}

static void job_build(struct job *j, const char *state)
{
	const char *m = j->h.merged.buf;

	lc_buf_addf(&j->opts, "lowerdir=/,upperdir=%s,workdir=%s", j->h.upper.buf, j->h.work.buf);
	lc_buf_addf(&j->dev, "%s/dev", m);
	lc_buf_addf(&j->sys, "%s/sys", m);
	lc_buf_addf(&j->run, "%s/run", m);
	lc_buf_addf(&j->tmp, "%s/tmp", m);
	lc_buf_addf(&j->shm, "%s/dev/shm", m);
	lc_buf_addf(&j->hide, "%s%s", m, state);
	lc_buf_addf(&j->proc, "%s/proc", m);
	lc_buf_adds(&j->title, "lc-init");
	lc_buf_addc(&j->title, '\0');
	lc_buf_adds(&j->title, j->spec->name);
}

static void job_release(struct job *j)
{
	host_release(&j->h);
	lc_buf_release(&j->opts);
	lc_buf_release(&j->dev);
	lc_buf_release(&j->sys);
	lc_buf_release(&j->run);
	lc_buf_release(&j->tmp);
	lc_buf_release(&j->shm);
	lc_buf_release(&j->hide);
	lc_buf_release(&j->proc);
	lc_buf_release(&j->title);
	if (j->fd >= 0)
		close(j->fd);
}

static void job_fail(struct job *j, int code, const char *what)
{
	struct lc_buf msg = LC_BUF_INIT, sshd_log = LC_BUF_INIT;

	lc_buf_adds(&msg, what);
	lc_buf_addf(&sshd_log, "%s" SSHD_LOG, j->h.upper.buf);
	add_log_tail(&msg, "init.log", j->h.logfile.buf);
	add_log_tail(&msg, "sshd.log", sshd_log.buf);
	lc_error_set(&j->res->err, code, "%s", msg.buf);
	j->res->state = LC_LOCAL_FAILED;
	j->active = 0;
	lc_buf_release(&msg);
	lc_buf_release(&sshd_log);
}

static void job_fork(struct job *j)
{
	int fds[2];

	if (pipe2(fds, O_CLOEXEC) < 0) {
		job_fail(j, LC_ERR, strerror(errno));
		return;
	}
	j->child = fork();
	if (j->child == 0) {
		close(fds[0]);
		start_child(j, fds[1]);
	}
	close(fds[1]);
	if (j->child < 0) {
		close(fds[0]);
		job_fail(j, LC_ERR, strerror(errno));
		return;
	}
	j->fd = fds[0];
}

/* Read the children's reports until both have closed the pipe. */
static void job_collect(struct job *j, long long deadline)
{
	struct lc_buf msg = LC_BUF_INIT;
	struct report r;
	struct pollfd pfd;
	int status, failed = 0, timeout;
	ssize_t got;

	for (;;) {
		timeout = (int)(deadline - now_ms());
		pfd.fd = j->fd;
		pfd.events = POLLIN;
		if (timeout > 0 && (got = poll(&pfd, 1, timeout)) < 0 && errno == EINTR)
			continue;
		if (timeout <= 0 || got == 0) {
			lc_buf_adds(&msg, "timed out setting up namespaces and mounts");
			failed = LC_ETIMEOUT;
			break;
		}
		got = read(j->fd, &r, sizeof(r));
		if (got < 0 && errno == EINTR)
			continue;
		if (got != (ssize_t)sizeof(r))
			break;  /* EOF: both children are done with the pipe */
		if (r.kind == REPORT_PID)
			j->init = r.pid;
		else if (r.kind == REPORT_READY)
			j->ready = 1;
		else if (!failed) {
			lc_buf_addf(&msg, "%s: %s", step_name(r.step), strerror(r.err));
			failed = LC_ERR;
		}
	}
	close(j->fd);
	j->fd = -1;
	if (failed == LC_ETIMEOUT)
		kill(j->child, SIGKILL);
	while (waitpid(j->child, &status, 0) < 0 && errno == EINTR)
		;
	if (!failed && (!j->init || !j->ready)) {
		lc_buf_adds(&msg, "the namespace setup died without a report");
		failed = LC_ERR;
	}
	if (failed) {
		if (j->init > 1)
			kill(j->init, SIGKILL);
		job_fail(j, failed, msg.buf);
	}
	lc_buf_release(&msg);
}

/* Wait until every started host's sshd accepts TCP, or its init died. */
static void jobs_wait_tcp(struct job *jobs, size_t n, long long deadline)
{
	struct lc_buf msg = LC_BUF_INIT;
	size_t i, left;

	for (;;) {
		for (i = 0, left = 0; i < n; i++) {
			struct job *j = &jobs[i];
			if (!j->active)
				continue;
			if (!pid_is_host_init(j->init, &j->h)) {
				job_fail(j, LC_ERR, "its init exited");
			} else if (tcp_accepts(j->spec->address, j->spec->port, 100)) {
				j->res->state = LC_LOCAL_STARTED;
				j->active = 0;
			} else {
				left++;
			}
		}
		if (!left)
			goto out;
		if (now_ms() >= deadline)
			break;
		sleep_ms(20);
	}
	for (i = 0; i < n; i++) {
		struct job *j = &jobs[i];
		if (!j->active)
			continue;
		kill(j->init, SIGKILL);
		lc_buf_reset(&msg);
		lc_buf_addf(&msg, "sshd did not accept connections on %s:%d within %d s",
			    j->spec->address, j->spec->port, START_TIMEOUT_MS / 1000);
		job_fail(j, LC_ETIMEOUT, msg.buf);
	}
out:
	lc_buf_release(&msg);
}

/* ---- up ------------------------------------------------------------------ */

static int same_endpoint(const struct host *h, const struct lc_local_host *spec)
{
	struct lc_buf addr = LC_BUF_INIT;
	int port = 0, same;

	same = read_endpoint(h, &addr, &port) == 0 && port == spec->port &&
	       !strcmp(addr.buf, spec->address);
	lc_buf_release(&addr);
	return same;
}

int lc_local_up(const char *state_dir, const struct lc_local_host *hosts,
		size_t n, struct lc_local_result *results, struct lc_error *err)
{
	struct lc_buf state = LC_BUF_INIT, pub = LC_BUF_INIT, pubpath = LC_BUF_INIT;
	struct job *jobs = NULL;
	struct host *restart = NULL;
	pid_t *restart_pids = NULL;
	size_t i, k, nrestart = 0, nfail = 0, first_fail = 0;
	long long deadline;
	int rc, lockfd = -1;

	for (i = 0; i < n; i++) {
		results[i].state = LC_LOCAL_FAILED;
		lc_error_clear(&results[i].err);
	}
	if ((rc = lc_local_check(err)) < 0 || (rc = lc_local_ensure_keys(state_dir, err)) < 0 ||
	    (rc = state_realpath(&state, state_dir, err)) < 0 ||
	    (rc = lock_state(state.buf, &lockfd, err)) < 0)
		goto out;
	lc_local_key_path(&pubpath, state.buf);
	lc_buf_adds(&pubpath, ".pub");
	if (read_file(&pub, pubpath.buf, 16384) < 0) {
		rc = lc_error_set(err, LC_EIO, "reading %s: %s", pubpath.buf, strerror(errno));
		goto out;
	}

	jobs = lc_xcalloc(n ? n : 1, sizeof(*jobs));
	restart = lc_xcalloc(n ? n : 1, sizeof(*restart));
	restart_pids = lc_xcalloc(n ? n : 1, sizeof(*restart_pids));
	for (i = 0; i < n; i++) {
		struct job *j = &jobs[i];
		pid_t pid;

		j->spec = &hosts[i];
		j->res = &results[i];
		j->fd = -1;
		lc_buf_init(&j->opts); lc_buf_init(&j->dev); lc_buf_init(&j->sys);
		lc_buf_init(&j->run); lc_buf_init(&j->tmp); lc_buf_init(&j->shm);
		lc_buf_init(&j->hide); lc_buf_init(&j->proc); lc_buf_init(&j->title);
		if (check_host(&hosts[i], &j->res->err) < 0) {
			host_init(&j->h, state.buf, "");
			continue;
		}
		host_init(&j->h, state.buf, hosts[i].name);
		for (k = 0; k < i; k++) {
			if (!hosts[k].name || !hosts[k].address)
				continue;
			if (!strcmp(hosts[k].name, hosts[i].name))
				lc_error_set(&j->res->err, LC_EUSAGE, "the host is listed twice");
			else if (!strcmp(hosts[k].address, hosts[i].address) &&
				 hosts[k].port == hosts[i].port)
				lc_error_set(&j->res->err, LC_EUSAGE,
					     "%s:%d is also the address of host %s",
					     hosts[i].address, hosts[i].port, hosts[k].name);
		}
		if (j->res->err.code)
			continue;
		pid = host_init_pid(&j->h);
		if (pid && same_endpoint(&j->h, &hosts[i]) &&
		    tcp_accepts(hosts[i].address, hosts[i].port, 500)) {
			j->res->state = LC_LOCAL_RUNNING;
			continue;
		}
		if (pid) {  /* alive but not answering where it should: restart */
			host_init(&restart[nrestart], state.buf, hosts[i].name);
			restart_pids[nrestart++] = pid;
		}
		j->active = 1;
	}
	if (nrestart && stop_inits(restart_pids, restart, nrestart, err) < 0) {
		lc_error_prefix(err, "restarting hosts that stopped answering");
		goto tally;
	}

	for (i = 0; i < n; i++) {
		struct job *j = &jobs[i];
		if (!j->active)
			continue;
		if (tcp_accepts(j->spec->address, j->spec->port, 200)) {
			j->active = 0;
			lc_error_set(&j->res->err, LC_ECONNECT,
				     "%s:%d is already in use by another process",
				     j->spec->address, j->spec->port);
		} else if (prepare_host(&j->h, j->spec, &pub, &j->res->err) < 0) {
			j->active = 0;
			lc_error_prefix(&j->res->err, "preparing its state");
		} else {
			job_build(j, state.buf);
		}
	}
	deadline = now_ms() + START_TIMEOUT_MS;
	for (i = 0; i < n; i++)
		if (jobs[i].active)
			job_fork(&jobs[i]);
	for (i = 0; i < n; i++)
		if (jobs[i].active)
			job_collect(&jobs[i], deadline);
	jobs_wait_tcp(jobs, n, deadline);
	rc = write_known_hosts(state.buf, err);

tally:
	for (i = 0; i < n; i++) {
		if (results[i].state != LC_LOCAL_FAILED)
			continue;
		if (!results[i].err.code)
			lc_error_set(&results[i].err, LC_ERR, "not started");
		if (!nfail++)
			first_fail = i;
	}
	if (nfail && rc >= 0)
		rc = lc_error_set(err, LC_ERR, "%zu of %zu local hosts failed to start; %s: %s",
				  nfail, n, hosts[first_fail].name ? hosts[first_fail].name : "?",
				  results[first_fail].err.msg);
	else if (nfail)
		rc = LC_ERR;
out:
	for (i = 0; jobs && i < n; i++)
		job_release(&jobs[i]);
	for (i = 0; i < nrestart; i++)
		host_release(&restart[i]);
	free(jobs);
	free(restart);
	free(restart_pids);
	if (lockfd >= 0)
		close(lockfd);
	lc_buf_release(&state);
	lc_buf_release(&pub);
	lc_buf_release(&pubpath);
	return rc;
}
