/* provider_local.h - the local lab hosts: each a process tree in its own
 * mount, UTS and PID namespace whose root is an overlayfs over / with a
 * per-host upper dir, running its own sshd on its loopback address.
 *
 * State directory layout (created as needed):
 *   STATE/id_ed25519, id_ed25519.pub   the user key labctl logs in with
 *   STATE/known_hosts                  written by labctl, one line per host
 *   STATE/hosts/NAME/                  upper/ work/ merged/ init.pid ssh keys
 * Nothing here prints. */
#ifndef LC_PROVIDER_LOCAL_H
#define LC_PROVIDER_LOCAL_H

#include "error.h"

struct lc_local_host {
	const char *name;      /* also the hostname inside */
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

/* Ensure the user key exists; returns paths through the fixed layout. */
int lc_local_ensure_keys(const char *state_dir, struct lc_error *err);

/* Start every host not running; results[i] for hosts[i].  Returns 0 when all
 * are up, else LC_ERR (see results). Waits until each sshd accepts TCP. */
int lc_local_up(const char *state_dir, const struct lc_local_host *hosts,
		size_t n, struct lc_local_result *results, struct lc_error *err);

/* Stop the hosts and remove their state. n == 0 means every host in STATE. */
int lc_local_down(const char *state_dir, const struct lc_local_host *hosts,
		  size_t n, struct lc_error *err);

/* 1 if the host's init is alive, 0 if not. */
int lc_local_is_running(const char *state_dir, const char *name);

#endif
