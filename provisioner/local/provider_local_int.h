/* provider_local_int.h - what the local lab files share, private to them:
 * provider_local.c (check, is_running, up, down: deciding what to start
 * and stop), local_host.c (preparing a host's upper dir and starting it:
 * the forked children, the tiny init, sshd), local_keys.c (the state
 * directory: names, paths, lock, keys, known_hosts) and local_sys.c (small
 * system helpers). */
#ifndef LC_PROVIDER_LOCAL_INT_H
#define LC_PROVIDER_LOCAL_INT_H

#include <sys/types.h>

#include "buf.h"
#include "clock.h"
#include "files.h"
#include "provider_local.h"

#define SSHD_PATH "/usr/sbin/sshd"
#define SSH_KEYGEN_PATH "/usr/bin/ssh-keygen"
#define HOST_KEY "/etc/ssh/labctl/ssh_host_ed25519_key"
#define SSHD_CONFIG "/etc/ssh/labctl/sshd_config"
#define SSHD_LOG "/var/log/lab/sshd.log"

#define START_TIMEOUT_MS 10000  /* fork to "accepts TCP" */
#define SMALL_FILE_MAX (1 << 20)

struct host {
	const char *name;
	struct lc_buf dir, upper, work, merged, pidfile, logfile, endpoint;
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

/* local_sys.c: small helpers */
/* Write path (truncating) with exactly this mode, whatever the umask. */
int lc_local_write_file(const char *path, const char *data, size_t len,
			mode_t mode, struct lc_error *err);
/* mkdir that tolerates an existing directory and then forces mode. */
int lc_local_make_dir(const char *path, mode_t mode, struct lc_error *err);
/* Create dir in an upper layer with the mode and owner of its lower twin. */
int lc_local_make_dir_like(const char *path, const char *lower, struct lc_error *err);
int lc_local_mkdir_parents(const char *path, struct lc_error *err);
void lc_local_close_from(int lowfd);
/* Run argv (no shell) with stdout and stderr captured into out (capped). */
int lc_local_run_cmd(const char *const *argv, struct lc_buf *out, struct lc_error *err);
/* 1 if something accepts TCP on address:port within timeout_ms. */
int lc_local_tcp_accepts(const char *address, int port, int timeout_ms);
/* The last bytes of a log file, on one line, for an error message. */
void lc_local_add_log_tail(struct lc_buf *out, const char *label, const char *path);

/* local_keys.c: names, paths, the lock, keys, known_hosts */
int lc_local_check_name(const char *name, struct lc_error *err);
int lc_local_check_host(const struct lc_local_host *h, struct lc_error *err);
/* STATE resolved to an absolute path that is safe in overlayfs options. */
int lc_local_state_realpath(struct lc_buf *out, const char *state_dir, struct lc_error *err);
void lc_local_host_init(struct host *h, const char *state, const char *name);
void lc_local_host_release(struct host *h);
/* flock(STATE/lock): one up or down at a time per state dir. */
int lc_local_lock_state(const char *state, int *fd_out, struct lc_error *err);
/* ssh-keygen -t ed25519 into path (removing a half-made pair first). */
int lc_local_make_keypair(const char *path, const char *comment, struct lc_error *err);
/* Names of every directory in STATE/hosts. */
int lc_local_list_hosts(const char *state, char ***out, size_t *nr, struct lc_error *err);
void lc_local_free_names(char **names, size_t n);
/* Regenerate STATE/known_hosts from the host key of every running host. */
int lc_local_write_known_hosts(const char *state, struct lc_error *err);

/* provider_local.c: is a host's init alive and ours? */
/* 1 if pid is alive and its root directory is this host's merged dir. */
int lc_local_pid_is_host_init(pid_t pid, const struct host *h);
/* The init's pid if it is running and ours, else 0. */
pid_t lc_local_host_init_pid(const struct host *h);
/* Read STATE/hosts/NAME/endpoint: "ADDRESS PORT". */
int lc_local_read_endpoint(const struct host *h, struct lc_buf *addr, int *port);

/* local_host.c: preparing and starting hosts */
int lc_local_prepare_host(const struct host *h, const struct lc_local_host *spec,
			  const struct lc_buf *user_pub, struct lc_error *err);
/* Build everything the children need, before fork. */
void lc_local_job_build(struct job *j, const char *state);
void lc_local_job_release(struct job *j);
/* Fork the namespace setup; on failure the job fails (j->res). */
void lc_local_job_fork(struct job *j);
/* Read the children's reports until both have closed the pipe. */
void lc_local_job_collect(struct job *j, long long deadline);
/* Wait until every started host's sshd accepts TCP, or its init died. */
void lc_local_jobs_wait_tcp(struct job *jobs, size_t n, long long deadline);

#endif
