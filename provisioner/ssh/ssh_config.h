/* ssh_config.h - OpenSSH client configuration files (ssh_config(5)), the
 * part labctl follows: Host blocks (patterns, `!` negation), Include,
 * HostName, User, Port, IdentityFile (several), IdentitiesOnly, ProxyJump,
 * UserKnownHostsFile, HostKeyAlias, StrictHostKeyChecking, ConnectTimeout.
 * As in OpenSSH the first value found for a keyword wins.  Directives that
 * would change how a host is reached in a way labctl cannot follow
 * (ProxyCommand, Match, CertificateFile, ...) are an error naming file:line;
 * those that change nothing for labctl (LogLevel, ServerAliveInterval,
 * ForwardAgent, ...) are accepted and ignored.  `vagrant ssh-config` output
 * is a valid file. */
#ifndef LC_SSH_CONFIG_H
#define LC_SSH_CONFIG_H

#include <stddef.h>

#include "error.h"

struct lc_ssh_config;

/* Load path (and what it includes).  A missing file is an empty config
 * when missing_ok. */
int lc_ssh_config_load(struct lc_ssh_config **out, const char *path, int missing_ok,
		       struct lc_error *err);
void lc_ssh_config_free(struct lc_ssh_config *c);

/* What the config says for one host name; unset: NULL, 0 or -1. */
struct lc_ssh_host_cfg {
	char *hostname;
	int port;                  /* 0: unset */
	char *user;
	char **identity_files;     /* as written: ~ and %-tokens not expanded */
	size_t n_identity_files;
	int identities_only;       /* -1 unset, 0, 1 */
	char *proxy_jump;          /* "[user@]host[:port][,...]", or "none" */
	char *proxy_jump_where;    /* file:line of it, for messages */
	char *known_hosts;         /* UserKnownHostsFile's first file */
	char *hostkey_alias;
	int strict;                /* StrictHostKeyChecking: -1 unset, 1 yes/ask,
				    * 0 accept-new or no (unknown keys are added) */
	int connect_timeout;       /* seconds, 0: unset */
};

/* c may be NULL (no config). */
void lc_ssh_config_lookup(struct lc_ssh_host_cfg *out, const struct lc_ssh_config *c,
			  const char *name);
void lc_ssh_host_cfg_release(struct lc_ssh_host_cfg *h);

/* Expand ~ (at the start) and the tokens %h %p %r %u %d %% of a path. */
char *lc_ssh_config_expand(const char *path, const char *host, int port,
			   const char *remote_user);

#endif
