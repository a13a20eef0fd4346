/* transport.h - how labctl talks to a host: a small table of functions.
 *
 * run()  feeds a shell script to one long-lived remote `sh` (opened on first
 *        use: one exec channel per connection) and returns its stdout and the
 *        script's exit status.  A batch is one round trip.
 * put()  writes data to path on the host by SFTP with the given mode, creating
 *        missing parent directories (0755).  The caller picks a temp path next
 *        to the target and renames it in its next batch.
 * close() ends the connection and frees the transport. */
#ifndef LC_TRANSPORT_H
#define LC_TRANSPORT_H

#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "error.h"

struct lc_transport_stats {
	unsigned connections;
	unsigned exec_channels;
	unsigned round_trips;   /* run() calls */
	unsigned sftp_files;    /* put() calls */
	uint64_t bytes_sent;    /* payload bytes sent by put() */
};

struct lc_transport;

struct lc_transport_ops {
	int (*run)(struct lc_transport *t, const char *script, size_t len,
		   struct lc_buf *out, int *exit_status, struct lc_error *err);
	int (*put)(struct lc_transport *t, const char *path, const void *data,
		   size_t len, unsigned mode, struct lc_error *err);
	void (*close)(struct lc_transport *t);
};

struct lc_transport {
	const struct lc_transport_ops *ops;
	struct lc_transport_stats stats;
};

struct lc_ssh_opts {
	const char *name;           /* inventory host name, for messages */
	const char *address;
	int port;
	const char *user;
	const char *identity_file;  /* NULL: use ssh-agent ($SSH_AUTH_SOCK) */
	const char *known_hosts;    /* OpenSSH known_hosts file */
	int accept_new_hostkeys;    /* append unknown hosts instead of refusing */
	int connect_timeout_ms;
	int command_timeout_ms;     /* per run()/put(); 0 = none */
};

/* Call once before any thread starts. */
int lc_transport_ssh_global_init(struct lc_error *err);
void lc_transport_ssh_global_release(void);

/* Connect, check the host key, authenticate.  Error codes: LC_ECONNECT,
 * LC_ETIMEOUT, LC_EHOSTKEY, LC_EAUTH; messages name the host. */
int lc_transport_ssh_open(struct lc_transport **out, const struct lc_ssh_opts *opts,
			  struct lc_error *err);

#endif
