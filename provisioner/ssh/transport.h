/* transport.h - how labctl talks to a host: a small table of functions.
 *
 * run()  feeds a shell script to one long-lived remote `sh` (opened on first
 *        use: one exec channel per connection) and returns its stdout and the
 *        script's exit status.  A batch is one round trip.
 *        - out is replaced (not appended to) by the batch's stdout, exactly
 *          as printed (capped at 256 MiB); *exit_status gets the script's
 *          status 0..255, or -1 when run() fails.
 *        - Each batch runs in a subshell with stdin from /dev/null: shell
 *          variables and `cd` do not carry over to the next batch, and a
 *          syntax error is just a failed batch (status 2).  What
 *          shell_prelude defines is there in every batch.
 *        - stderr is not returned (use 2>&1 in the script to get it); its
 *          tail only goes into the error message if the remote shell dies.
 *        - Output of the login shell before the first batch (a ~/.bashrc
 *          that prints, a forced command) is not returned either: it is
 *          named in the error when the shell dies or SFTP cannot start.
 *        - Errors: LC_ETIMEOUT (command_timeout_ms passed: the commands
 *          may still be running on the host, the next run() starts a new
 *          shell), LC_EREMOTE (the shell died, or too much output),
 *          LC_ECONNECT (connection lost: only close() is left to do),
 *          LC_EUSAGE (the script contains a NUL byte).
 * put()  writes data to path on the host by SFTP with the given mode, creating
 *        missing parent directories (0755).  The caller picks a temp path next
 *        to the target and renames it in its next batch.
 *        - The mode is set exactly (not filtered by the server's umask), also
 *          on an existing file, which is truncated and rewritten.
 *        - On failure the partial file is removed.  Errors: LC_EREMOTE
 *          (naming the SFTP status and the path), LC_ETIMEOUT, LC_ECONNECT.
 *        - fd >= 0: the content is the first len bytes of that local file,
 *          read a window at a time (data is ignored), so that pushing a
 *          large file costs its window, not the file.
 *        - What an upload keeps in flight (its window, held twice: here and
 *          in libssh2's queue) is its share of opts.uploads.
 * close() ends the connection and frees the transport.  Safe after any
 *        failure of run() or put().
 *
 * One transport is used by one thread at a time. */
#ifndef LC_TRANSPORT_H
#define LC_TRANSPORT_H

#include <signal.h>
#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "error.h"

struct lc_transport_stats {
	unsigned connections;
	unsigned exec_channels;
	unsigned round_trips;   /* run() calls */
	unsigned wire_round_trips;  /* times labctl waited for the host's answer to what
				     * it sent: the TCP connect, then each read after a
				     * write that found nothing to read yet (the SSH
				     * handshake, authentication, channels, batches,
				     * SFTP) */
	unsigned sftp_files;    /* put() calls */
	uint64_t bytes_sent;    /* payload bytes sent by put() */
};

struct lc_transport;

struct lc_transport_ops {
	int (*run)(struct lc_transport *t, const char *script, size_t len,
		   struct lc_buf *out, int *exit_status, struct lc_error *err);
	int (*put)(struct lc_transport *t, const char *path, const void *data,
		   size_t len, unsigned mode, int fd, struct lc_error *err);
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
	const char *const *identity_files;  /* when n_identity_files: tried in
					     * order instead of identity_file */
	size_t n_identity_files;
	int agent_fallback;         /* then ssh-agent, when it runs */
	const char *hostkey_alias;  /* known_hosts name instead of the address */
	const struct lc_ssh_opts *jump;  /* ProxyJump: connect to that host first
					  * and reach this one through it (a
					  * direct-tcpip channel) */
	const char *known_hosts;    /* OpenSSH known_hosts file */
	int accept_new_hostkeys;    /* append unknown hosts instead of refusing */
	int connect_timeout_ms;     /* TCP connect + SSH handshake + auth;
				       <= 0: 10 s */
	int command_timeout_ms;     /* per run()/put(); 0 = none */
	const char *shell_command;  /* what the exec channel runs; NULL: "sh".  It
				     * must end by exec'ing a POSIX sh reading
				     * its stdin (e.g. to hold a lock fd). */
	const char *stdin_first;    /* written to a new shell's stdin before its
				     * first batch (a become password line); a
				     * secret: never in a message */
	const char *feed_command;   /* when set: what the exec channel runs instead
				     * of shell_command for the connection's first
				     * shell, with the shell's first input (prelude
				     * and first batch) and shell_command as two
				     * more words (run/sh/feed.sh): that input then
				     * costs no round trip of its own.  Used only
				     * when first_batch_public, without stdin_first,
				     * and when the command stays under 32000 bytes. */
	int first_batch_public;     /* the first batch holds no secret: it may be
				     * seen in the host's process list for a moment */
	const char *shell_prelude;  /* run by each new shell itself, not in a
				     * batch's subshell, before its first batch:
				     * the variables and functions every batch
				     * uses, sent once per shell instead of in
				     * every batch.  It must print nothing and
				     * not read stdin. */
	const volatile sig_atomic_t *cancel;  /* when it becomes non-zero, every
					       * wait ends with LC_ECANCELED */
	struct lc_upload_budget *uploads;  /* shared by the transports of a run;
					    * NULL: each upload as if alone */
};

/* What the uploads of a run's transports keep in flight together.  At
 * RTT r they send up to bytes/r a second between them and hold about
 * twice that in memory, however many hosts upload: each upload's share is
 * bytes split evenly between the hosts that may still upload (at most
 * `concurrency` at a time), rounded down to whole SFTP write requests of
 * libssh2 (LC_UPLOAD_PACKET bytes), a power of two of them from 1 to 32.
 * On a long link the same bytes send less: an upload whose connection's
 * round trip takes longer than LC_UPLOAD_RTT_REF_US counts on bytes grown
 * in proportion to it, up to LC_UPLOAD_BUDGET_MAX (at 100 ms, 50 hosts
 * get 8 requests each instead of 1).  Shares only grow: a host that is
 * done (uploaded, found nothing to upload, or failed) says so with
 * lc_upload_budget_done(), once, and the others' shares grow.
 * Thread-safe. */
#define LC_UPLOAD_BUDGET ((size_t)2 << 20)
#define LC_UPLOAD_BUDGET_MAX ((size_t)16 << 20)
#define LC_UPLOAD_RTT_REF_US 10000u
#define LC_UPLOAD_PACKET ((size_t)30000)
#define LC_UPLOAD_SHARE_MIN LC_UPLOAD_PACKET
#define LC_UPLOAD_SHARE_MAX (32 * LC_UPLOAD_PACKET)
struct lc_upload_budget;
struct lc_upload_budget *lc_upload_budget_new(size_t bytes, size_t hosts, size_t concurrency);
void lc_upload_budget_done(struct lc_upload_budget *b);
/* What one upload over a connection whose round trip takes rtt_us may
 * keep in flight now (b NULL: LC_UPLOAD_SHARE_MAX). */
size_t lc_upload_budget_share(struct lc_upload_budget *b, unsigned rtt_us);
void lc_upload_budget_free(struct lc_upload_budget *b);

/* Call once before any thread starts (libssh2_init), release at the end. */
int lc_transport_ssh_global_init(struct lc_error *err);
void lc_transport_ssh_global_release(void);

/* Connect, check the host key, authenticate.  Error codes: LC_ECONNECT
 * (refused, closed, not SSH), LC_ETIMEOUT (connect_timeout_ms passed, also
 * when the port accepts TCP but never speaks SSH), LC_EHOSTKEY, LC_EAUTH;
 * messages name the host.
 *
 * Host keys are checked strictly against the OpenSSH known_hosts file under
 * the name OpenSSH uses: the address (or hostkey_alias) for port 22,
 * "[address]:port" otherwise; through a jump host too, for every hop.
 * Hashed (|1|) entries work, lines that cannot be parsed are skipped,
 * "@revoked" entries refuse a key, a missing file is empty.  An unknown
 * host is refused unless accept_new_hostkeys, which appends one
 * line to the file (the file is never rewritten).  A host listed only with
 * keys of other types than the one it offers counts as changed, not new. */
int lc_transport_ssh_open(struct lc_transport **out, const struct lc_ssh_opts *opts,
			  struct lc_error *err);

#endif
