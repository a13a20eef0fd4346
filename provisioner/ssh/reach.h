/* reach.h - how to reach a host: the inventory's ssh settings and the
 * ssh_config file (ssh.config_file) resolved into the transport's options,
 * with one hop per ProxyJump host.  Resolved when the inventory loads, so
 * that a bad config is an error naming file:line before any connection.
 *
 * Precedence, as with `ssh -o`: what the inventory sets for the host (or
 * lab-wide under ssh:) wins over ssh_config, which wins over the defaults
 * (user root, port 22).  The name looked up in ssh_config is the host's
 * `ssh_alias` if it has one, else its `address`, as `ssh ADDRESS` would;
 * without a HostName there, the connection goes to `address`. */
#ifndef LC_REACH_H
#define LC_REACH_H

#include "error.h"
#include "inventory.h"
#include "ssh_config.h"
#include "transport.h"

struct lc_reach {
	struct lc_ssh_opts opts;       /* points into this struct and into jump */
	char *name, *address, *user, *known_hosts, *hostkey_alias;
	char **identity_files;
	size_t n_identity_files;
	struct lc_reach *jump;         /* the hop before this one, or NULL */
};

/* Load the inventory's ssh_config (NULL in *out when there is none to read:
 * provider local without ssh.config_file). */
int lc_reach_load_config(struct lc_ssh_config **out, const struct lc_inventory *inv,
			 struct lc_error *err);

/* accept_new: --accept-new-hostkeys. */
int lc_reach_resolve(struct lc_reach **out, const struct lc_inventory *inv,
		     const struct lc_host *h, const struct lc_ssh_config *cfg, int accept_new,
		     struct lc_error *err);
void lc_reach_free(struct lc_reach *r);

#endif
