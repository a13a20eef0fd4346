/* ssh_jump.c - ProxyJump: reach a host through another one.  The jump
 * host's transport opens a direct-tcpip channel to the target; a thread
 * copies bytes between that channel and one end of a socketpair, and the
 * target's SSH session runs over the other end as over a TCP socket, so
 * its host key and authentication are checked as for any host.  Hops
 * chain: a jump host may itself be reached through another. */
#include "ssh_int.h"

#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define PUMP_CHUNK 32768
#define PUMP_POLL_MS 200

struct pump_buf {
	char data[PUMP_CHUNK];
	size_t off, len;
};

/* Copy both ways until either side ends or stop is set. */
static void *pump(void *arg)
{
	struct ssh_transport *t = arg;   /* the tunneled host's transport */
	struct ssh_transport *j = t->jump;
	struct pump_buf *in = lc_xcalloc(1, sizeof(*in)), *out = lc_xcalloc(1, sizeof(*out));
	int fd = t->pump_fd, fd_eof = 0;

	while (!t->pump_stop) {
		int progress = 0;
		ssize_t n;

		/* channel -> socket */
		if (!out->len) {
			n = libssh2_channel_read(t->tunnel, out->data, sizeof(out->data));
			if (n > 0) {
				out->off = 0;
				out->len = (size_t)n;
				progress = 1;
			} else if (n == 0 && libssh2_channel_eof(t->tunnel)) {
				break;
			} else if (n < 0 && n != LIBSSH2_ERROR_EAGAIN) {
				break;
			}
		}
		if (out->len) {
			n = write(fd, out->data + out->off, out->len);
			if (n > 0) {
				out->off += (size_t)n;
				out->len -= (size_t)n;
				progress = 1;
			} else if (n < 0 && errno != EAGAIN && errno != EINTR) {
				break;
			}
		}
		/* socket -> channel */
		if (!in->len && !fd_eof) {
			n = read(fd, in->data, sizeof(in->data));
			if (n > 0) {
				in->off = 0;
				in->len = (size_t)n;
				progress = 1;
			} else if (n == 0) {
				fd_eof = 1;
				libssh2_channel_send_eof(t->tunnel);
			} else if (errno != EAGAIN && errno != EINTR) {
				break;
			}
		}
		if (in->len) {
			n = libssh2_channel_write(t->tunnel, in->data + in->off, in->len);
			if (n > 0) {
				in->off += (size_t)n;
				in->len -= (size_t)n;
				progress = 1;
			} else if (n < 0 && n != LIBSSH2_ERROR_EAGAIN) {
				break;
			}
		}
		if (!progress) {
			struct pollfd p[2] = { { .fd = j->sock, .events = POLLIN },
					       { .fd = fd, .events = 0 } };

			if (libssh2_session_block_directions(j->session) &
			    LIBSSH2_SESSION_BLOCK_OUTBOUND)
				p[0].events |= POLLOUT;
			if (!in->len && !fd_eof)
				p[1].events |= POLLIN;
			if (out->len)
				p[1].events |= POLLOUT;
			poll(p, 2, PUMP_POLL_MS);
		}
	}
	/* the target's session sees the end of its "TCP connection" */
	shutdown(fd, SHUT_RDWR);
	free(in);
	free(out);
	return NULL;
}

int lc_ssh_jump_connect(struct ssh_transport *t, const struct lc_ssh_opts *o, int64_t deadline,
			int timeout_ms, struct lc_error *err)
{
	struct lc_transport *jt = NULL;
	struct ssh_transport *j;
	int sv[2], rc;

	if ((rc = lc_transport_ssh_open(&jt, o->jump, err)))
		return lc_error_prefix(err, "%s: through %s", t->where, o->jump->name ?
				       o->jump->name : o->jump->address);
	j = (struct ssh_transport *)jt;
	t->jump = j;
	NB_LOOP_PTR(t->tunnel, rc, j, deadline,
		    libssh2_channel_direct_tcpip_ex(j->session, o->address, o->port,
						    "127.0.0.1", 22));
	if (!t->tunnel)
		return lc_error_set(err, rc == NB_TIMEOUT ? LC_ETIMEOUT : LC_ECONNECT,
				    "%s: %s could not open a connection to %s:%d (%s)", t->where,
				    o->jump->name ? o->jump->name : o->jump->address, o->address,
				    o->port, rc == NB_TIMEOUT ? "timed out" : lc_ssh_errmsg(j));
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, sv) < 0)
		return lc_error_set(err, LC_EIO, "%s: socketpair: %s", t->where, strerror(errno));
	t->sock = sv[0];
	t->pump_fd = sv[1];
	if (pthread_create(&t->pump_thread, NULL, pump, t)) {
		close(sv[1]);
		t->pump_fd = -1;
		return lc_error_set(err, LC_EIO, "%s: cannot start a thread for the jump host",
				    t->where);
	}
	t->pumping = 1;
	(void)timeout_ms;
	return 0;
}

/* After the tunneled session is gone and its socket closed. */
void lc_ssh_jump_close(struct ssh_transport *t)
{
	int64_t grace = lc_clock_ms() + GRACE_MS;
	int rc;

	if (t->pumping) {
		t->pump_stop = 1;
		pthread_join(t->pump_thread, NULL);
		t->pumping = 0;
	}
	if (t->pump_fd >= 0)
		close(t->pump_fd);
	t->pump_fd = -1;
	if (t->tunnel) {
		NB_LOOP(rc, t->jump, grace, libssh2_channel_free(t->tunnel));
		t->tunnel = NULL;
	}
	if (t->jump)
		t->jump->pub.ops->close(&t->jump->pub);
	t->jump = NULL;
}
