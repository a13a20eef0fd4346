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
 * is built before fork: the children only make system calls, no malloc.
 *
 * This file decides what to start and stop (check, is_running, up, down);
 * local_host.c prepares and starts hosts (the forked children, the init),
 * local_keys.c keeps the state directory (paths, lock, keys, known_hosts),
 * local_sys.c has the small helpers; provider_local_int.h joins them. */
#include "provider_local_int.h"

#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <ftw.h>
#include <limits.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <unistd.h>

#define STOP_TIMEOUT_MS 5000    /* SIGTERM to gone, then SIGKILL */

/* ---- is a host's init alive and ours? ----------------------------------- */

static int pid_is_zombie(pid_t pid)
{
	struct lc_buf path = LC_BUF_INIT, stat_line = LC_BUF_INIT;
	const char *p;
	int z = 0;

	lc_buf_addf(&path, "/proc/%d/stat", (int)pid);
	if (lc_file_read(&stat_line, path.buf, 4096) == 0 &&
	    (p = strrchr(stat_line.buf, ')')) != NULL && p[1] == ' ')
		z = p[2] == 'Z' || p[2] == 'X';
	lc_buf_release(&path);
	lc_buf_release(&stat_line);
	return z;
}

/* 1 if pid is alive and its root directory is this host's merged dir - so a
 * stale init.pid whose number was reused is never signalled. */
int lc_local_pid_is_host_init(pid_t pid, const struct host *h)
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
		if (errno || *end || v <= 1 || v > INT_MAX ||
		    !lc_local_pid_is_host_init((pid_t)v, h))
			continue;
		lc_buf_reset(&path);
		lc_buf_reset(&status);
		lc_buf_addf(&path, "/proc/%ld/status", v);
		if (lc_file_read(&status, path.buf, 65536) < 0 ||
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
pid_t lc_local_host_init_pid(const struct host *h)
{
	struct lc_buf b = LC_BUF_INIT;
	char *end;
	long v = 0;

	if (lc_file_read(&b, h->pidfile.buf, 64) == 0) {
		errno = 0;
		v = strtol(b.buf, &end, 10);
		if (errno || end == b.buf || v <= 1 || v > INT_MAX)
			v = 0;
	}
	lc_buf_release(&b);
	if (v && lc_local_pid_is_host_init((pid_t)v, h))
		return (pid_t)v;
	/* No valid init.pid (labctl killed while starting?) but the host may
	 * still run: never leave it unstoppable, nor delete a live upper dir. */
	return access(h->merged.buf, F_OK) == 0 ? scan_for_init(h) : 0;
}

/* Read STATE/hosts/NAME/endpoint: "ADDRESS PORT". */
int lc_local_read_endpoint(const struct host *h, struct lc_buf *addr, int *port)
{
	struct lc_buf b = LC_BUF_INIT;
	struct in_addr a;
	char *sp, *end;
	long v;
	int rc = -1;

	if (lc_file_read(&b, h->endpoint.buf, 256) < 0)
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

	if (lc_local_check_name(name, NULL) < 0 ||
	    lc_local_state_realpath(&state, state_dir, NULL) < 0) {
		lc_buf_release(&state);
		return 0;
	}
	lc_local_host_init(&h, state.buf, name);
	if (lc_local_host_init_pid(&h) && lc_local_read_endpoint(&h, &addr, &port) == 0)
		up = lc_local_tcp_accepts(addr.buf, port, 500);
	lc_local_host_release(&h);
	lc_buf_release(&addr);
	lc_buf_release(&state);
	return up;
}

/* ---- check ------------------------------------------------------------- */

static int overlay_available(void)
{
	struct lc_buf b = LC_BUF_INIT, path = LC_BUF_INIT;
	static const char *const ext[] = { "ko", "ko.xz", "ko.zst", "ko.gz" };
	struct utsname u;
	struct stat st;
	size_t i;
	int ok = 0;

	if (lc_file_read(&b, "/proc/filesystems", SMALL_FILE_MAX) == 0 &&
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

/* ---- stopping and removing ---------------------------------------------- */

/* SIGTERM every init, wait, SIGKILL stragglers, wait until all are gone.
 * pids[i] == 0 means nothing to stop for hosts[i]. */
static int stop_inits(pid_t *pids, struct host *hosts, size_t n, struct lc_error *err)
{
	int64_t deadline = lc_clock_ms() + STOP_TIMEOUT_MS;
	size_t i, left;
	int killed = 0, rc = 0;

	for (i = 0; i < n; i++)
		if (pids[i] && kill(pids[i], SIGTERM) < 0 && errno != ESRCH)
			rc = lc_error_set(err, LC_ERR, "stopping %s (pid %d): %s",
					  hosts[i].name, (int)pids[i], strerror(errno));
	for (;;) {
		for (i = 0, left = 0; i < n; i++) {
			if (pids[i] && !lc_local_pid_is_host_init(pids[i], &hosts[i]))
				pids[i] = 0;
			left += pids[i] != 0;
		}
		if (!left)
			break;
		if (lc_clock_ms() >= deadline) {
			if (killed)
				break;
			for (i = 0; i < n; i++)
				if (pids[i])
					kill(pids[i], SIGKILL);
			killed = 1;
			deadline = lc_clock_ms() + STOP_TIMEOUT_MS;
		}
		lc_clock_sleep_ms(20);
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
	if ((rc = lc_local_state_realpath(&state, state_dir, err)) < 0 ||
	    (rc = lc_local_lock_state(state.buf, &lockfd, err)) < 0)
		goto out;
	if (n == 0) {
		if ((rc = lc_local_list_hosts(state.buf, &names, &nh, err)) < 0)
			goto out;
	} else {
		names = lc_xcalloc(n, sizeof(*names));
		for (i = 0; i < n; i++) {
			if ((rc = lc_local_check_name(hosts[i].name, err)) < 0)
				goto out;
			names[nh++] = lc_xstrdup(hosts[i].name);
		}
	}
	hs = lc_xcalloc(nh ? nh : 1, sizeof(*hs));
	pids = lc_xcalloc(nh ? nh : 1, sizeof(*pids));
	for (i = 0; i < nh; i++) {
		lc_local_host_init(&hs[i], state.buf, names[i]);
		pids[i] = lc_local_host_init_pid(&hs[i]);
	}
	rc = stop_inits(pids, hs, nh, err);
	for (i = 0; i < nh; i++) {
		if (pids[i])
			continue;  /* still alive: keep its state */
		if (rm_tree(hs[i].dir.buf, &one) < 0 && !rc)
			rc = lc_error_set(err, one.code, "%s", one.msg);
	}
	if (lc_local_write_known_hosts(state.buf, &one) < 0 && !rc)
		rc = lc_error_set(err, one.code, "%s", one.msg);
out:
	for (i = 0; hs && i < nh; i++)
		lc_local_host_release(&hs[i]);
	free(hs);
	free(pids);
	lc_local_free_names(names, nh);
	if (lockfd >= 0)
		close(lockfd);
	lc_buf_release(&state);
	return rc;
}

/* ---- up ------------------------------------------------------------------ */

static int same_endpoint(const struct host *h, const struct lc_local_host *spec)
{
	struct lc_buf addr = LC_BUF_INIT;
	int port = 0, same;

	same = lc_local_read_endpoint(h, &addr, &port) == 0 && port == spec->port &&
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
	    (rc = lc_local_state_realpath(&state, state_dir, err)) < 0 ||
	    (rc = lc_local_lock_state(state.buf, &lockfd, err)) < 0)
		goto out;
	lc_local_key_path(&pubpath, state.buf);
	lc_buf_adds(&pubpath, ".pub");
	if ((rc = lc_file_read(&pub, pubpath.buf, 16384)) < 0) {
		rc = lc_error_set(err, LC_EIO, "reading %s: %s", pubpath.buf, strerror(-rc));
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
		if (lc_local_check_host(&hosts[i], &j->res->err) < 0) {
			lc_local_host_init(&j->h, state.buf, "");
			continue;
		}
		lc_local_host_init(&j->h, state.buf, hosts[i].name);
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
		pid = lc_local_host_init_pid(&j->h);
		if (pid && same_endpoint(&j->h, &hosts[i]) &&
		    lc_local_tcp_accepts(hosts[i].address, hosts[i].port, 500)) {
			j->res->state = LC_LOCAL_RUNNING;
			continue;
		}
		if (pid) {  /* alive but not answering where it should: restart */
			lc_local_host_init(&restart[nrestart], state.buf, hosts[i].name);
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
		if (lc_local_tcp_accepts(j->spec->address, j->spec->port, 200)) {
			j->active = 0;
			lc_error_set(&j->res->err, LC_ECONNECT,
				     "%s:%d is already in use by another process",
				     j->spec->address, j->spec->port);
		} else if (lc_local_prepare_host(&j->h, j->spec, &pub, &j->res->err) < 0) {
			j->active = 0;
			lc_error_prefix(&j->res->err, "preparing its state");
		} else {
			lc_local_job_build(j, state.buf);
		}
	}
	deadline = lc_clock_ms() + START_TIMEOUT_MS;
	for (i = 0; i < n; i++)
		if (jobs[i].active)
			lc_local_job_fork(&jobs[i]);
	for (i = 0; i < n; i++)
		if (jobs[i].active)
			lc_local_job_collect(&jobs[i], deadline);
	lc_local_jobs_wait_tcp(jobs, n, deadline);
	rc = lc_local_write_known_hosts(state.buf, err);

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
		lc_local_job_release(&jobs[i]);
	for (i = 0; i < nrestart; i++)
		lc_local_host_release(&restart[i]);
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
