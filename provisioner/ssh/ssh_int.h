/* ssh_int.h - what the libssh2 files share, private to them:
 * transport_ssh.c (the session: connect, run, close, the ops table),
 * ssh_hostkey.c (known_hosts, the host key check; also base64 and reading
 * local files), ssh_auth.c (key file and ssh-agent authentication) and
 * ssh_sftp.c (put).  These files and this header are the only ones that
 * include libssh2: its types never leave them. */
#ifndef LC_SSH_INT_H
#define LC_SSH_INT_H

#include <pthread.h>
#include <signal.h>
#include <stdint.h>

#include <libssh2.h>
#include <libssh2_sftp.h>

#include "clock.h"
#include "transport.h"

#define FILE_MAX ((size_t)16 << 20)       /* known_hosts and key files */
#define GRACE_MS 2000                     /* for cleaning up after an error */
#define NB_TIMEOUT (-1000)                /* ours, next to LIBSSH2_ERROR_* */

struct ssh_transport {
	struct lc_transport pub;   /* first: an lc_transport * points here */
	char *name;                /* inventory name */
	char *where;               /* "NAME (addr:port)" */
	int command_timeout_ms;
	char *shell_command;
	const volatile sig_atomic_t *cancel;  /* set by a signal: stop waiting */
	int sock;
	int dead;                  /* the connection failed; refuse further use */
	int wrote;                 /* bytes were sent since data was last received */
	LIBSSH2_SESSION *session;
	LIBSSH2_CHANNEL *shell;
	LIBSSH2_SFTP *sftp;
	struct lc_upload_budget *uploads;  /* opts.uploads: not ours */
	unsigned rtt_us;           /* the quickest SFTP open's answer: the link's
				    * round trip (0: none yet) */
	char nonce[17];
	struct lc_buf stream;      /* shell stdout received, not handed out yet */
	struct lc_buf errtail;     /* the last bytes of the shell's stderr */
	char *stdin_first;         /* written ahead of a new shell's first batch (a
				    * secret: wiped after use and on close) */
	char *prelude;             /* opts.shell_prelude, sent after it */
	char *feed_command;        /* opts.feed_command while it may be used: the
				    * first shell, with a public first batch */
	int fresh;                 /* the shell has not run a batch yet */
	struct lc_buf noise;       /* what the login shell printed before our first
				    * batch's marker (rc files, a forced command) */
	/* ProxyJump (ssh_jump.c): the jump host's transport, the direct-tcpip
	 * channel on it, and the thread that copies between that channel and
	 * pump_fd, the other end of sock (a socketpair) */
	struct ssh_transport *jump;
	LIBSSH2_CHANNEL *tunnel;
	pthread_t pump_thread;
	int pumping, pump_fd;
	volatile int pump_stop;
};

/* ssh_jump.c: connect t->sock to o->address:o->port through o->jump. */
int lc_ssh_jump_connect(struct ssh_transport *t, const struct lc_ssh_opts *o, int64_t deadline,
			int timeout_ms, struct lc_error *err);
void lc_ssh_jump_close(struct ssh_transport *t);

/* The login shell's output, as a message part naming it, or "". */
const char *lc_ssh_noise_hint(struct ssh_transport *t);

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

/* transport_ssh.c: time, waiting, libssh2 errors */
/* 0 means no deadline. */
int64_t lc_ssh_deadline_in(int ms);
/* Wait until the socket is ready in the directions libssh2 is blocked on,
 * plus `extra` poll events.  Returns 0 to try again, or NB_TIMEOUT once the
 * deadline has passed. */
int lc_ssh_wait_socket(struct ssh_transport *t, int64_t deadline, short extra);

/* Repeat a libssh2 call while it says EAGAIN; rc gets its result, or
 * NB_TIMEOUT. */
#define NB_LOOP(rc, t, deadline, call)                                       \
	do {                                                                 \
		while (((rc) = (call)) == LIBSSH2_ERROR_EAGAIN &&            \
		       ((rc) = lc_ssh_wait_socket((t), (deadline), 0)) == 0) \
			;                                                    \
	} while (0)

/* The same for calls returning a pointer: p is NULL on failure and rc then
 * holds the libssh2 error (or NB_TIMEOUT). */
#define NB_LOOP_PTR(p, rc, t, deadline, call)                                \
	do {                                                                 \
		(rc) = 0;                                                    \
		while (!((p) = (call)) &&                                    \
		       ((rc) = libssh2_session_last_errno((t)->session)) ==  \
			       LIBSSH2_ERROR_EAGAIN &&                       \
		       ((rc) = lc_ssh_wait_socket((t), (deadline), 0)) == 0) \
			;                                                    \
		if (!(p) && !(rc))                                           \
			(rc) = LIBSSH2_ERROR_SOCKET_NONE;                    \
	} while (0)

const char *lc_ssh_errmsg(struct ssh_transport *t);
/* Errors after which the SSH connection itself is unusable. */
int lc_ssh_is_connection_error(int rc);
/* Report a failed libssh2 call (rc) made `what`, with who as the message
 * prefix; connection errors poison the transport. */
int lc_ssh_fail(struct ssh_transport *t, const char *who, int rc,
		int timeout_ms, const char *what, struct lc_error *err);

/* ssh_hostkey.c */
/* The name OpenSSH uses in known_hosts: "host", or "[host]:port". */
void lc_ssh_known_hosts_name(struct lc_buf *b, const struct lc_ssh_opts *o);
/* Read known_hosts into kh, "@revoked" entries into revoked. */
int lc_ssh_load_known_hosts(struct ssh_transport *t, const char *file,
			    LIBSSH2_KNOWNHOSTS *kh, LIBSSH2_KNOWNHOSTS *revoked,
			    struct lc_error *err);
/* Offer the host key algorithms known_hosts lists for name first. */
int lc_ssh_set_hostkey_prefs(struct ssh_transport *t, LIBSSH2_KNOWNHOSTS *kh,
			     const char *name, struct lc_error *err);
/* After the handshake: check (or, if allowed, add) the host's key. */
int lc_ssh_check_host_key(struct ssh_transport *t, const struct lc_ssh_opts *o,
			  LIBSSH2_KNOWNHOSTS *kh, LIBSSH2_KNOWNHOSTS *revoked,
			  const char *name, struct lc_error *err);

/* ssh_auth.c */
int lc_ssh_auth_key_file(struct ssh_transport *t, const struct lc_ssh_opts *o,
			 int64_t deadline, int timeout_ms, struct lc_error *err);
int lc_ssh_auth_agent(struct ssh_transport *t, const struct lc_ssh_opts *o,
		      int64_t deadline, int timeout_ms, struct lc_error *err);

/* ssh_sftp.c: the put() of the ops table */
int lc_ssh_put(struct lc_transport *tp, const char *path, const void *data,
	       size_t len, unsigned mode, int fd, struct lc_error *err);

#endif
