/* provider_local.h - the local lab hosts: each a process tree in its own
 * mount, UTS and PID namespace whose root is an overlayfs over / with a
 * per-host upper dir, running its own sshd on its loopback address.
 *
 * State directory layout (created as needed; STATE is resolved with
 * realpath(), and must not contain ',', ':' or '\\' - overlayfs options):
 *   STATE/id_ed25519, id_ed25519.pub   the user key labctl logs in with
 *   STATE/known_hosts                  written by labctl, one line per
 *                                      running host ("A" or "[A]:P")
 *   STATE/lock                         flock()ed by up and down
 *   STATE/hosts/NAME/upper/            the host's private changes to /
 *                                      (its sshd_config and host key live in
 *                                      upper/etc/ssh/labctl/, its sshd log in
 *                                      upper/var/log/lab/sshd.log)
 *   STATE/hosts/NAME/work/ merged/     overlayfs work dir and mount point
 *   STATE/hosts/NAME/init.pid          the host's init, as seen from here
 *   STATE/hosts/NAME/init.log          the init's stdout/stderr
 *   STATE/hosts/NAME/endpoint          "ADDRESS PORT"
 * A host that is not running but has state (e.g. after a reboot) is started
 * again on its old upper dir, like a VM powered back on; down removes it all.
 *
 * Needs root. Nothing here prints. */
#ifndef LC_PROVIDER_LOCAL_H
#define LC_PROVIDER_LOCAL_H

#include <stddef.h>

#include "error.h"

struct lc_buf;

struct lc_local_host {
	const char *name;      /* also the hostname inside: [A-Za-z0-9][A-Za-z0-9_.-]*, <= 63 */
	const char *address;   /* must be in 127.0.0.0/8 */
	int port;
};

enum lc_local_state {
	LC_LOCAL_STARTED,      /* was not running, now is */
	LC_LOCAL_RUNNING,      /* was already running, reused */
	LC_LOCAL_FAILED,
};

struct lc_local_result {
	enum lc_local_state state;
	struct lc_error err;
};

/* Check we can run local hosts at all (root, sshd, ssh-keygen, overlayfs);
 * the error says what to install. */
int lc_local_check(struct lc_error *err);

/* Ensure STATE (0700) and the user key STATE/id_ed25519{,.pub} exist. */
int lc_local_ensure_keys(const char *state_dir, struct lc_error *err);

/* Start every host not running; results[i] for hosts[i].  Returns 0 when all
 * are up, else LC_ERR (see results; err names the first failure).  Waits
 * until each sshd accepts TCP, then rewrites STATE/known_hosts.  A host whose
 * init is alive but does not answer on its address (or was moved to another
 * address) is restarted on its existing upper dir. */
int lc_local_up(const char *state_dir, const struct lc_local_host *hosts,
		size_t n, struct lc_local_result *results, struct lc_error *err);

/* Stop the hosts and remove their state and known_hosts lines.
 * n == 0 means every host in STATE.  Stopping a host that is not running
 * just removes its state. */
int lc_local_down(const char *state_dir, const struct lc_local_host *hosts,
		  size_t n, struct lc_error *err);

/* 1 if the host's init is alive (and is ours) and its sshd accepts TCP on
 * its endpoint, 0 if not. */
int lc_local_is_running(const char *state_dir, const char *name);

/* Paths in the fixed layout, appended to out. */
void lc_local_key_path(struct lc_buf *out, const char *state_dir);
void lc_local_known_hosts_path(struct lc_buf *out, const char *state_dir);

#endif
