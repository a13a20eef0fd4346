/* local_host.c - preparing a local lab host's upper dir and starting it:
 * the two forked children (namespaces, mounts, chroot), the tiny init that
 * runs sshd, and the parent's side of their report pipe.  The picture is
 * in provider_local.c.  Everything a child needs is built before fork
 * (lc_local_job_build): the children only make system calls, no malloc. */
#include "provider_local_int.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <sys/xattr.h>
#include <time.h>
#include <unistd.h>

#define INIT_GRACE_MS 2000      /* init: SIGTERM to everything, then exit */

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
	    lc_file_read(&in, "/etc/shadow", SMALL_FILE_MAX) < 0)
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
	if ((rc = lc_local_write_file(path.buf, out.buf, out.len, st.st_mode & 07777, err)) < 0)
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
	int rc = 0, e;

	if (lc_file_read(&in, path, SMALL_FILE_MAX) < 0 &&
	    (e = lc_file_read(&in, "/etc/hosts", SMALL_FILE_MAX)) < 0 && e != -ENOENT) {
		rc = lc_error_set(err, LC_EIO, "reading /etc/hosts: %s", strerror(-e));
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
	rc = lc_local_write_file(path, out.buf, out.len, 0644, err);
out:
	lc_buf_release(&in);
	lc_buf_release(&out);
	lc_buf_release(&ours);
	return rc;
}

int lc_local_prepare_host(const struct host *h, const struct lc_local_host *spec,
			  const struct lc_buf *user_pub, struct lc_error *err)
{
	struct lc_buf p = LC_BUF_INIT, text = LC_BUF_INIT;
	int rc;

#define UPPER(sub) (lc_buf_reset(&p), lc_buf_addf(&p, "%s%s", h->upper.buf, sub), p.buf)
	if ((rc = lc_local_make_dir(h->dir.buf, 0700, err)) < 0 ||
	    (rc = lc_local_make_dir_like(h->upper.buf, "/", err)) < 0 ||
	    (rc = lc_local_make_dir(h->work.buf, 0700, err)) < 0 ||
	    (rc = lc_local_make_dir(h->merged.buf, 0755, err)) < 0)
		goto out;

	/* A clean /root: opaque, so nothing of the machine's /root shows. */
	if (access(UPPER("/root"), F_OK) < 0) {
		if ((rc = lc_local_make_dir(p.buf, 0700, err)) < 0)
			goto out;
		if (lsetxattr(p.buf, "trusted.overlay.opaque", "y", 1, 0) < 0) {
			rc = lc_error_set(err, LC_EIO, "setting trusted.overlay.opaque on %s: %s",
					  p.buf, strerror(errno));
			goto out;
		}
	}
	if ((rc = lc_local_make_dir(UPPER("/root/.ssh"), 0700, err)) < 0 ||
	    (rc = lc_local_write_file(UPPER("/root/.ssh/authorized_keys"), user_pub->buf,
				      user_pub->len, 0600, err)) < 0)
		goto out;

	if ((rc = lc_local_make_dir_like(UPPER("/etc"), "/etc", err)) < 0 ||
	    (rc = lc_local_make_dir_like(UPPER("/etc/ssh"), "/etc/ssh", err)) < 0 ||
	    (rc = lc_local_make_dir(UPPER("/etc/ssh/labctl"), 0755, err)) < 0)
		goto out;
	lc_buf_reset(&text);
	lc_buf_addf(&text, "%s.pub", UPPER(HOST_KEY));
	if ((access(p.buf, F_OK) < 0 || access(text.buf, F_OK) < 0) &&
	    (rc = lc_local_make_keypair(p.buf, spec->name, err)) < 0)
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
	if ((rc = lc_local_write_file(UPPER(SSHD_CONFIG), text.buf, text.len, 0644, err)) < 0)
		goto out;

	lc_buf_reset(&text);
	lc_buf_addf(&text, "%s\n", spec->name);
	if ((rc = lc_local_write_file(UPPER("/etc/hostname"), text.buf, text.len, 0644, err)) < 0)
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
	rc = lc_local_write_file(h->endpoint.buf, text.buf, text.len, 0644, err);
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
	if (lc_file_write_all(2, a, strlen(a)) < 0 || lc_file_write_all(2, b, strlen(b)) < 0)
		return;
	(void)lc_file_write_all(2, digits, n);
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
		lc_local_close_from(3);
		execve(SSHD_PATH, sshd_argv, sshd_env);
		log_line("lc-init: exec " SSHD_PATH " failed", ", errno ", errno);
		_exit(127);
	}
	if (sshd < 0)
		fail_child(rfd, STEP_SSHD);
	send_report(rfd, REPORT_READY, 0, 0, 0);
	lc_local_close_from(3);

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
	deadline = lc_clock_ms() + INIT_GRACE_MS;
	for (;;) {
		while ((p = waitpid(-1, NULL, WNOHANG)) > 0)
			;
		if (p < 0 && errno == ECHILD)
			break;
		if (lc_clock_ms() >= deadline)
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
	if (pidfd < 0 || lc_file_write_all(pidfd, digits, len) < 0 || close(pidfd) < 0) {
		kill(pid, SIGKILL);
		fail_child(rfd, STEP_PIDFILE);
	}
	send_report(rfd, REPORT_PID, 0, 0, (int)pid);
	_exit(0);
}

void lc_local_job_build(struct job *j, const char *state)
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

void lc_local_job_release(struct job *j)
{
	lc_local_host_release(&j->h);
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
	lc_local_add_log_tail(&msg, "init.log", j->h.logfile.buf);
	lc_local_add_log_tail(&msg, "sshd.log", sshd_log.buf);
	lc_error_set(&j->res->err, code, "%s", msg.buf);
	j->res->state = LC_LOCAL_FAILED;
	j->active = 0;
	lc_buf_release(&msg);
	lc_buf_release(&sshd_log);
}

void lc_local_job_fork(struct job *j)
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
void lc_local_job_collect(struct job *j, long long deadline)
{
	struct lc_buf msg = LC_BUF_INIT;
	struct report r;
	struct pollfd pfd;
	int status, failed = 0, timeout;
	ssize_t got;

	for (;;) {
		timeout = (int)(deadline - lc_clock_ms());
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
void lc_local_jobs_wait_tcp(struct job *jobs, size_t n, long long deadline)
{
	struct lc_buf msg = LC_BUF_INIT;
	size_t i, left;

	for (;;) {
		for (i = 0, left = 0; i < n; i++) {
			struct job *j = &jobs[i];
			if (!j->active)
				continue;
			if (!lc_local_pid_is_host_init(j->init, &j->h)) {
				job_fail(j, LC_ERR, "its init exited");
			} else if (lc_local_tcp_accepts(j->spec->address, j->spec->port, 100)) {
				j->res->state = LC_LOCAL_STARTED;
				j->active = 0;
			} else {
				left++;
			}
		}
		if (!left)
			goto out;
		if (lc_clock_ms() >= deadline)
			break;
		lc_clock_sleep_ms(20);
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

