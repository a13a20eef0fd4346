/* transport_ssh.c - the SSH transport: the session, connecting, run(),
 * close() and the ops table.  The libssh2 code is this file, ssh_hostkey.c
 * (known_hosts, the host key check), ssh_auth.c (key file, ssh-agent) and
 * ssh_sftp.c (put), sharing ssh_int.h; nothing else includes libssh2.
 *
 * One TCP connection and one SSH session per host (one host per thread).
 * The session is non-blocking from the first byte: every wait goes through
 * lc_ssh_wait_socket(), which polls in the directions libssh2 says it is
 * blocked on and enforces a deadline, so a silent peer can never hang us.
 *
 * run() feeds batches to one long-lived `sh` on an exec channel.  A batch
 * goes over the shell's stdin framed as
 *
 *	printf '\n__LC_BEGIN_<nonce>\n'
 *	( eval '<script, quoted>' ) </dev/null
 *	printf '\n__LC_END_<nonce> %d\n' "$?"
 *
 * and its stdout is what arrives between the two markers.  The nonce is
 * random per connection.  The begin marker lets us drop anything the login
 * shell's rc files or a previous batch's background jobs printed; eval in a
 * subshell turns a syntax error into an exit status instead of killing the
 * shell; </dev/null keeps a command that reads stdin from eating the rest
 * of the batch.
 *
 * put() uses one SFTP session, opened on first use (ssh_sftp.c). */
#include "ssh_int.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "clock.h"
#include "rand.h"

#define OUT_MAX ((size_t)256 << 20)       /* stdout of one batch */
#define ERR_TAIL 4096                     /* shell stderr kept for messages */
#define ERR_IN_MSG 512                    /* ... of which goes in a message */
#define EXEC_MAX 32000                    /* an exec request in one SSH packet */
#define READ_CHUNK ((size_t)8 << 10)      /* one read: a batch that prints little
					  * keeps a small stream (a host each) */
#define CONNECT_TIMEOUT_DEFAULT_MS 10000
#define CANCEL_POLL_MS 100

/* ---- time, waiting, libssh2 errors ---------------------------------- */

/* 0 means no deadline. */
int64_t lc_ssh_deadline_in(int ms)
{
	return ms > 0 ? lc_clock_ms() + ms : 0;
}

/* Wait until the socket is ready in the directions libssh2 is blocked on,
 * plus `extra` poll events.  Returns 0 to try again, or NB_TIMEOUT once the
 * deadline has passed. */
int lc_ssh_wait_socket(struct ssh_transport *t, int64_t deadline, short extra)
{
	struct pollfd pfd = { .fd = t->sock, .events = extra };
	int dirs = libssh2_session_block_directions(t->session);
	int timeout = -1;

	if (dirs & LIBSSH2_SESSION_BLOCK_INBOUND)
		pfd.events |= POLLIN;
	if (dirs & LIBSSH2_SESSION_BLOCK_OUTBOUND)
		pfd.events |= POLLOUT;
	if (!pfd.events)
		pfd.events = POLLIN;
	if (t->cancel && *t->cancel)
		return NB_TIMEOUT;  /* interrupted: callers report it as such */
	if (deadline) {
		int64_t left = deadline - lc_clock_ms();
		if (left <= 0)
			return NB_TIMEOUT;
		timeout = left > INT_MAX ? INT_MAX : (int)left;
	}
	/* wake up now and then to notice an interrupt */
	if (t->cancel && (timeout < 0 || timeout > CANCEL_POLL_MS))
		timeout = CANCEL_POLL_MS;
	if (poll(&pfd, 1, timeout) < 0 && errno != EINTR && errno != EAGAIN)
		return NB_TIMEOUT; /* cannot happen with one valid fd: stop, don't spin */
	return 0;
}

/* libssh2's socket I/O, counting wire round trips: after a write, the
 * first read that finds nothing to read waits for the host's answer.  A
 * read whose data is there already (the host sent it unasked, or with an
 * earlier answer) waits for nothing.  On a slow link the count is exact;
 * on loopback an answer may beat the read and go uncounted. */
static ssize_t wire_send(libssh2_socket_t fd, const void *buf, size_t len, int flags,
			 void **abstract)
{
	struct ssh_transport *t = *abstract;
	ssize_t n = send(fd, buf, len, flags | MSG_NOSIGNAL);

	if (n < 0)
		return -errno;
	if (n > 0)
		t->wrote = 1;
	return n;
}

static ssize_t wire_recv(libssh2_socket_t fd, void *buf, size_t len, int flags,
			 void **abstract)
{
	struct ssh_transport *t = *abstract;
	ssize_t n = recv(fd, buf, len, flags);

	if (n < 0) {
		int e = errno;

		if ((e == EAGAIN || e == EWOULDBLOCK) && t->wrote) {
			t->pub.stats.wire_round_trips++;
			t->wrote = 0;
		}
		return -e;
	}
	return n;
}

const char *lc_ssh_errmsg(struct ssh_transport *t)
{
	char *msg = NULL;

	libssh2_session_last_error(t->session, &msg, NULL, 0);
	return msg && *msg ? msg : "unknown error";
}

/* Errors after which the SSH connection itself is unusable. */
int lc_ssh_is_connection_error(int rc)
{
	switch (rc) {
	case LIBSSH2_ERROR_SOCKET_NONE:
	case LIBSSH2_ERROR_BANNER_RECV:
	case LIBSSH2_ERROR_BANNER_SEND:
	case LIBSSH2_ERROR_INVALID_MAC:
	case LIBSSH2_ERROR_KEX_FAILURE:
	case LIBSSH2_ERROR_SOCKET_SEND:
	case LIBSSH2_ERROR_KEY_EXCHANGE_FAILURE:
	case LIBSSH2_ERROR_TIMEOUT:
	case LIBSSH2_ERROR_DECRYPT:
	case LIBSSH2_ERROR_SOCKET_DISCONNECT:
	case LIBSSH2_ERROR_PROTO:
	case LIBSSH2_ERROR_SOCKET_TIMEOUT:
	case LIBSSH2_ERROR_SOCKET_RECV:
	case LIBSSH2_ERROR_ENCRYPT:
	case LIBSSH2_ERROR_BAD_SOCKET:
	case LIBSSH2_ERROR_METHOD_NONE:
	case LIBSSH2_ERROR_HOSTKEY_INIT:
	case LIBSSH2_ERROR_HOSTKEY_SIGN:
		return 1;
	}
	return 0;
}

/* Report a failed libssh2 call (rc) made `what` ("while reading output"),
 * with who as the message prefix.  Connection errors poison the
 * transport: later calls fail at once. */
int lc_ssh_fail(struct ssh_transport *t, const char *who, int rc,
		int timeout_ms, const char *what, struct lc_error *err)
{
	const char *problem;

	if (rc == NB_TIMEOUT && t->cancel && *t->cancel) {
		t->dead = 1;
		return lc_error_set(err, LC_ECANCELED, "%s: interrupted %s", who, what);
	}
	if (rc == NB_TIMEOUT)
		return lc_error_set(err, LC_ETIMEOUT, "%s: timed out after %d ms %s",
				    who, timeout_ms, what);
	if (!lc_ssh_is_connection_error(rc))
		return lc_error_set(err, LC_EREMOTE, "%s: failed %s (libssh2: %s)",
				    who, what, lc_ssh_errmsg(t));
	switch (rc) {
	case LIBSSH2_ERROR_SOCKET_DISCONNECT:
		problem = "the host closed the connection";
		break;
	case LIBSSH2_ERROR_BANNER_RECV:
	case LIBSSH2_ERROR_BANNER_SEND:
		problem = "no SSH banner came (is it an SSH server?)";
		break;
	case LIBSSH2_ERROR_KEX_FAILURE:
	case LIBSSH2_ERROR_KEY_EXCHANGE_FAILURE:
	case LIBSSH2_ERROR_METHOD_NONE:
		problem = "key exchange failed (no algorithms in common?)";
		break;
	case LIBSSH2_ERROR_SOCKET_SEND:
	case LIBSSH2_ERROR_SOCKET_RECV:
	case LIBSSH2_ERROR_SOCKET_NONE:
	case LIBSSH2_ERROR_BAD_SOCKET:
		problem = "the connection broke";
		break;
	default:
		problem = "SSH protocol error";
		break;
	}
	t->dead = 1;
	return lc_error_set(err, LC_ECONNECT, "%s: %s %s (libssh2: %s)", who, problem,
			    what, lc_ssh_errmsg(t));
}

/* ---- connecting ----------------------------------------------------- */

static int tcp_connect(struct ssh_transport *t, const struct lc_ssh_opts *o,
		       int64_t deadline, int timeout_ms, struct lc_error *err)
{
	struct addrinfo hints, *res = NULL, *ai;
	struct lc_buf port = LC_BUF_INIT;
	int fd = -1, soerr = 0, gai, one = 1, rc = 0;

	memset(&hints, 0, sizeof(hints));
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_NUMERICSERV;
	lc_buf_addf(&port, "%d", o->port);
	gai = getaddrinfo(o->address, port.buf, &hints, &res);
	if (gai) {
		rc = lc_error_set(err, LC_ECONNECT, "%s: cannot resolve '%s': %s",
				  t->where, o->address, gai_strerror(gai));
		goto out;
	}
	for (ai = res; ai; ai = ai->ai_next) {
		socklen_t len = sizeof(soerr);
		fd = socket(ai->ai_family, ai->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC,
			    ai->ai_protocol);
		if (fd < 0) {
			soerr = errno;
			continue;
		}
		if (connect(fd, ai->ai_addr, ai->ai_addrlen) == 0)
			break;
		soerr = errno;
		while (soerr == EINPROGRESS) {
			struct pollfd pfd = { .fd = fd, .events = POLLOUT };
			int64_t left = deadline - lc_clock_ms();
			int n = left > 0 ? poll(&pfd, 1, (int)left) : 0;
			if (n < 0 && errno == EINTR)
				continue;
			if (n == 0) {
				rc = lc_error_set(err, LC_ETIMEOUT,
						  "%s: connection timed out after %d ms",
						  t->where, timeout_ms);
				goto out;
			}
			if (n < 0 || getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr, &len) < 0)
				soerr = errno;
		}
		if (!soerr)
			break;
		close(fd);
		fd = -1;
	}
	if (fd < 0) {
		if (soerr == ECONNREFUSED)
			rc = lc_error_set(err, LC_ECONNECT, "%s: connection refused", t->where);
		else
			rc = lc_error_set(err, LC_ECONNECT, "%s: cannot connect: %s",
					  t->where, strerror(soerr));
		goto out;
	}
	/* Batches are small request/response exchanges: no Nagle delays. */
	if (setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one)) < 0) {
		rc = lc_error_set(err, LC_ECONNECT, "%s: setsockopt(TCP_NODELAY): %s",
				  t->where, strerror(errno));
		goto out;
	}
	t->sock = fd;
	fd = -1;
out:
	if (fd >= 0)
		close(fd);
	if (res)
		freeaddrinfo(res);
	lc_buf_release(&port);
	return rc;
}

/* ---- run: the long-lived shell -------------------------------------- */

/* Let go of the shell channel; the next run() opens a new one.  A shell
 * that ended is freed.  One still running a batch (timeout, too much
 * output) is only sent EOF and left to the session: freeing it would wait
 * for the server's CLOSE, and sshd sends that only once the batch's
 * processes have exited.  Its pending output is bounded by the channel
 * window; close() cuts the socket before freeing such leftovers. */
static void drop_shell(struct ssh_transport *t, int ended)
{
	int64_t grace = lc_clock_ms() + GRACE_MS;
	int rc;

	if (!t->shell)
		return;
	if (ended)
		NB_LOOP(rc, t, grace, libssh2_channel_free(t->shell));
	else
		NB_LOOP(rc, t, grace, libssh2_channel_send_eof(t->shell));
	if (rc == NB_TIMEOUT || lc_ssh_is_connection_error(rc))
		t->dead = 1;
	t->shell = NULL;
	lc_buf_reset(&t->stream);
}

/* Open the session channel and start command in it (shell_command, or
 * the feed command with the first input in it). */
static int open_shell(struct ssh_transport *t, const char *command, int64_t deadline,
		      struct lc_error *err)
{
	LIBSSH2_CHANNEL *ch;
	int rc;

	NB_LOOP_PTR(ch, rc, t, deadline, libssh2_channel_open_session(t->session));
	if (!ch)
		return lc_ssh_fail(t, t->name, rc, t->command_timeout_ms,
				   "while opening a session channel", err);
	t->shell = ch;
	NB_LOOP(rc, t, deadline, libssh2_channel_exec(ch, command));
	if (rc) {
		rc = lc_ssh_fail(t, t->name, rc, t->command_timeout_ms, "while starting sh", err);
		drop_shell(t, 1);
		return rc;
	}
	t->pub.stats.exec_channels++;
	lc_buf_reset(&t->stream);
	lc_buf_reset(&t->noise);
	t->fresh = 1;
	return 0;
}

#define NOISE_MAX 300

/* What came before the first batch's begin marker of a new shell. */
static void keep_noise(struct ssh_transport *t, const char *s, size_t len)
{
	while (len && (*s == '\n' || *s == '\r' || *s == ' '))
		s++, len--;
	while (len && (s[len - 1] == '\n' || s[len - 1] == '\r' || s[len - 1] == ' '))
		len--;
	lc_buf_reset(&t->noise);
	if (len > NOISE_MAX)
		len = NOISE_MAX;
	for (; len; s++, len--) {
		unsigned char c = (unsigned char)*s;

		if (c == '\n')
			lc_buf_adds(&t->noise, " / ");
		else
			lc_buf_addc(&t->noise, c < 0x20 || c == 0x7f ? '?' : (char)c);
	}
}

const char *lc_ssh_noise_hint(struct ssh_transport *t)
{
	return t->noise.len ? t->noise.buf : "";
}

static void frame_batch(struct lc_buf *b, const char *nonce, const char *script, size_t len)
{
	const char *end = script + len;

	lc_buf_addf(b, "printf '\\n__LC_BEGIN_%s\\n'\n( eval '", nonce);
	while (script < end) {
		const char *q = memchr(script, '\'', (size_t)(end - script));
		const char *stop = q ? q : end;
		lc_buf_add(b, script, (size_t)(stop - script));
		if (q)
			lc_buf_adds(b, "'\\''");
		script = q ? q + 1 : end;
	}
	lc_buf_addf(b, "\n' ) </dev/null\nprintf '\\n__LC_END_%s %%d\\n' \"$?\"\n", nonce);
}

/* Read what the shell has on stderr into errtail, keeping its last bytes. */
static int read_stderr(struct ssh_transport *t)
{
	ssize_t n;

	lc_buf_grow(&t->errtail, ERR_TAIL);
	n = libssh2_channel_read_stderr(t->shell, t->errtail.buf + t->errtail.len, ERR_TAIL);
	if (n <= 0)
		return (int)n;
	lc_buf_setlen(&t->errtail, t->errtail.len + (size_t)n);
	if (t->errtail.len > 2 * ERR_TAIL) {
		memmove(t->errtail.buf, t->errtail.buf + t->errtail.len - ERR_TAIL, ERR_TAIL);
		lc_buf_setlen(&t->errtail, ERR_TAIL);
	}
	return 1;
}

/* The shell's stdout hit EOF before the end marker: report how it ended. */
static int shell_died(struct ssh_transport *t, struct lc_error *err)
{
	int64_t grace = lc_clock_ms() + GRACE_MS;
	struct lc_buf how = LC_BUF_INIT;
	char *sig = NULL;
	size_t siglen = 0, start;
	int rc, status;

	while (read_stderr(t) > 0)
		;
	NB_LOOP(rc, t, grace, libssh2_channel_close(t->shell));
	if (!rc)
		NB_LOOP(rc, t, grace, libssh2_channel_wait_closed(t->shell));
	status = libssh2_channel_get_exit_status(t->shell);
	libssh2_channel_get_exit_signal(t->shell, &sig, &siglen, NULL, NULL, NULL, NULL);
	if (sig && siglen)
		lc_buf_addf(&how, "killed by signal %.*s", (int)siglen, sig);
	else
		lc_buf_addf(&how, "exit status %d", status);
	if (sig)
		libssh2_free(t->session, sig);

	start = t->errtail.len > ERR_IN_MSG ? t->errtail.len - ERR_IN_MSG : 0;
	while (t->errtail.len > start && (t->errtail.buf[t->errtail.len - 1] == '\n'))
		lc_buf_setlen(&t->errtail, t->errtail.len - 1);
	if (t->fresh)  /* nothing of ours ran: all it printed is the login's */
		keep_noise(t, t->stream.buf, t->stream.len);
	rc = lc_error_set(err, LC_EREMOTE,
			  "%s: the remote shell ended before the batch finished (%s)%s%s%s%s%s",
			  t->name, how.buf, t->errtail.len > start ? ": " : "",
			  t->errtail.buf + start, t->noise.len ? "; the login printed: '" : "",
			  t->noise.buf ? t->noise.buf : "", t->noise.len ? "'" : "");
	drop_shell(t, 1);
	lc_buf_release(&how);
	return rc;
}

/* Look for the markers in t->stream.  *phase 0: skip to the begin marker;
 * 1: wait for the end marker.  Returns 1 when the batch is complete (out
 * and *exit_status filled), 0 to read more. */
static int find_markers(struct ssh_transport *t, int *phase, size_t *scan,
			struct lc_buf *out, int *exit_status)
{
	struct lc_buf mark = LC_BUF_INIT;
	char *p, *nl;
	size_t after;
	int found = 0, status = 0;

	if (*phase == 0) {
		lc_buf_addf(&mark, "__LC_BEGIN_%s\n", t->nonce);
		p = memmem(t->stream.buf + *scan, t->stream.len - *scan, mark.buf, mark.len);
		if (!p) {
			*scan = t->stream.len > mark.len ? t->stream.len - mark.len : 0;
			goto out;
		}
		after = (size_t)(p - t->stream.buf) + mark.len;
		if (t->fresh) {
			/* the frame starts with "\n" + marker */
			keep_noise(t, t->stream.buf, (size_t)(p - t->stream.buf));
			t->fresh = 0;
		}
		memmove(t->stream.buf, t->stream.buf + after, t->stream.len - after);
		lc_buf_setlen(&t->stream, t->stream.len - after);
		*phase = 1;
		*scan = 0;
		lc_buf_reset(&mark);
	}
	lc_buf_addf(&mark, "\n__LC_END_%s ", t->nonce);
	p = memmem(t->stream.buf + *scan, t->stream.len - *scan, mark.buf, mark.len);
	if (!p) {
		*scan = t->stream.len > mark.len ? t->stream.len - mark.len : 0;
		goto out;
	}
	*scan = (size_t)(p - t->stream.buf);
	after = *scan + mark.len;
	nl = memchr(t->stream.buf + after, '\n', t->stream.len - after);
	if (!nl)
		goto out;
	for (; t->stream.buf + after < nl; after++) {
		char c = t->stream.buf[after];
		if (c >= '0' && c <= '9' && status < 1000)
			status = status * 10 + (c - '0');
	}
	*exit_status = status;
	/* Hand the buffer over instead of copying up to 256 MiB; what
	 * follows the end marker stays in the stream. */
	lc_buf_reset(out);
	{
		struct lc_buf tmp = *out;
		size_t rest = t->stream.len - (size_t)(nl + 1 - t->stream.buf);
		*out = t->stream;
		t->stream = tmp;
		lc_buf_add(&t->stream, nl + 1, rest);
		lc_buf_setlen(out, *scan);
	}
	found = 1;
out:
	lc_buf_release(&mark);
	return found;
}

/* Whether feed.sh said it could make no FIFO (the shell then reads the
 * first input on stdin); its line is taken out of the stream. */
static int refused_feed(struct ssh_transport *t)
{
	struct lc_buf mark = LC_BUF_INIT;
	char *p;
	int found = 0;

	lc_buf_addf(&mark, "__LC_NOFEED_%s\n", t->nonce);
	p = memmem(t->stream.buf, t->stream.len, mark.buf, mark.len);
	if (p) {
		size_t at = (size_t)(p - t->stream.buf);

		memmove(p, p + mark.len, t->stream.len - at - mark.len);
		lc_buf_setlen(&t->stream, t->stream.len - mark.len);
		found = 1;
	}
	lc_buf_release(&mark);
	return found;
}

static int ssh_run(struct lc_transport *tp, const char *script, size_t len,
		   struct lc_buf *out, int *exit_status, struct lc_error *err)
{
	struct ssh_transport *t = (struct ssh_transport *)tp;
	int64_t deadline = lc_ssh_deadline_in(t->command_timeout_ms);
	struct lc_buf batch = LC_BUF_INIT;
	size_t sent = 0, scan = 0;
	int rc = 0, phase = 0, zeros = 0, fed = 0;

	*exit_status = -1;
	lc_buf_reset(out);
	t->pub.stats.round_trips++;
	if (t->dead)
		return lc_error_set(err, LC_ECONNECT, "%s: the connection failed earlier",
				    t->name);
	if (memchr(script, '\0', len))
		return lc_error_set(err, LC_EUSAGE, "%s: a batch cannot contain NUL bytes",
				    t->name);
	lc_buf_reset(&t->errtail);
	/* a new shell reads the password line and the prelude first (a shell
	 * is dropped unless its first batch found its markers) */
	if (!t->shell && t->stdin_first)
		lc_buf_adds(&batch, t->stdin_first);
	if (!t->shell && t->prelude) {
		lc_buf_adds(&batch, t->prelude);
		lc_buf_addc(&batch, '\n');
	}
	frame_batch(&batch, t->nonce, script, len);
	if (!t->shell) {
		struct lc_buf feed = LC_BUF_INIT;
		const char *command = t->shell_command;

		if (t->feed_command) {
			/* the first input inside the command: sent at once */
			lc_buf_adds(&feed, t->feed_command);
			lc_buf_addc(&feed, ' ');
			lc_buf_add_shquote(&feed, batch.buf);
			lc_buf_addc(&feed, ' ');
			lc_buf_add_shquote(&feed, t->shell_command);
			lc_buf_addf(&feed, " %s", t->nonce);
			if (feed.len <= EXEC_MAX) {
				command = feed.buf;
				sent = batch.len;
				fed = 1;
			}
			/* the first shell only: a later one may run any batch */
			free(t->feed_command);
			t->feed_command = NULL;
		}
		rc = open_shell(t, command, deadline, err);
		lc_buf_release(&feed);
		if (rc)
			goto out;
	}

	for (;;) {
		int progress = 0;
		short want = 0;
		ssize_t n;

		if (sent < batch.len) {
			n = libssh2_channel_write(t->shell, batch.buf + sent, batch.len - sent);
			if (n > 0) {
				sent += (size_t)n;
				progress = 1;
			} else if (n == LIBSSH2_ERROR_EAGAIN) {
				if (libssh2_session_block_directions(t->session) &
				    LIBSSH2_SESSION_BLOCK_OUTBOUND)
					want = POLLOUT;
			} else if (n < 0 && !libssh2_channel_eof(t->shell)) {
				rc = lc_ssh_fail(t, t->name, (int)n, 0, "while sending a batch",
						 err);
				goto fail;
			}
		}

		lc_buf_grow(&t->stream, READ_CHUNK);
		n = libssh2_channel_read(t->shell, t->stream.buf + t->stream.len, READ_CHUNK);
		if (n > 0) {
			lc_buf_setlen(&t->stream, t->stream.len + (size_t)n);
			progress = 1;
			zeros = 0;
			if (fed && phase == 0 && refused_feed(t)) {
				sent = 0;  /* no FIFO on the host: stdin after all */
				fed = 0;
			}
			if (find_markers(t, &phase, &scan, out, exit_status))
				break;
			if (t->stream.len > OUT_MAX) {
				rc = lc_error_set(err, LC_EREMOTE,
						  "%s: a batch printed more than %zu MiB",
						  t->name, OUT_MAX >> 20);
				goto fail;
			}
		} else if (n == 0) {
			if (libssh2_channel_eof(t->shell)) {
				rc = shell_died(t, err);
				goto out;
			}
			/* libssh2 handled a packet that was not our data: try
			 * again at once, but never spin. */
			if (++zeros < 8)
				progress = 1;
		} else if (n != LIBSSH2_ERROR_EAGAIN) {
			rc = lc_ssh_fail(t, t->name, (int)n, 0, "while reading output", err);
			goto fail;
		}

		n = read_stderr(t);
		if (n > 0) {
			progress = 1;
		} else if (n < 0 && n != LIBSSH2_ERROR_EAGAIN) {
			rc = lc_ssh_fail(t, t->name, (int)n, 0, "while reading errors", err);
			goto fail;
		}

		if (!progress && lc_ssh_wait_socket(t, deadline, want) == NB_TIMEOUT) {
			if (t->cancel && *t->cancel) {
				rc = lc_error_set(err, LC_ECANCELED, "%s: interrupted during a "
						  "batch (the host's watchdog ends what it still "
						  "runs)", t->name);
				goto fail;
			}
			rc = lc_error_set(err, LC_ETIMEOUT,
					  "%s: batch timed out after %d ms (its commands may "
					  "still be running on the host)",
					  t->name, t->command_timeout_ms);
			goto fail;
		}
	}
	goto out;
fail:
	/* The stream is out of step with the batches: start a new shell. */
	lc_buf_reset(out);
	if (!t->dead)
		drop_shell(t, 0);
out:
	if (batch.buf)  /* it may hold a password */
		explicit_bzero(batch.buf, batch.len);
	lc_buf_release(&batch);
	return rc;
}

/* ---- open, close ---------------------------------------------------- */

static void ssh_close(struct lc_transport *tp)
{
	struct ssh_transport *t = (struct ssh_transport *)tp;
	int64_t grace = lc_clock_ms() + GRACE_MS;
	int rc, tries = 0;

	if (!t)
		return;
	if (t->session && !t->dead) {
		/* No channel is closed one by one: each close waits for the
		 * server's (a round trip).  The disconnect ends the session, and
		 * with it the shell (its stdin closes) and the SFTP server. */
		NB_LOOP(rc, t, grace, libssh2_session_disconnect(t->session, "labctl done"));
	}
	if (t->session) {
		/* Channels left (a shell still running a timed-out batch, or
		 * anything a timeout interrupted) would each wait for the
		 * server's CLOSE: cut the socket first, so that freeing them
		 * fails fast instead of waiting. */
		if (t->sock >= 0)
			shutdown(t->sock, SHUT_RDWR);
		while (libssh2_session_free(t->session) == LIBSSH2_ERROR_EAGAIN &&
		       ++tries < 100)
			;
	}
	if (t->sock >= 0)
		close(t->sock);
	lc_ssh_jump_close(t);
	lc_buf_release(&t->stream);
	lc_buf_release(&t->errtail);
	free(t->name);
	free(t->shell_command);
	if (t->stdin_first)
		explicit_bzero(t->stdin_first, strlen(t->stdin_first));
	free(t->stdin_first);
	free(t->prelude);
	free(t->feed_command);
	lc_buf_release(&t->noise);
	free(t->where);
	free(t);
}

static const struct lc_transport_ops ssh_ops = {
	.run = ssh_run,
	.put = lc_ssh_put,
	.close = ssh_close,
};

static int make_nonce(struct ssh_transport *t, struct lc_error *err)
{
	int e = lc_rand_hex(t->nonce, 8);

	return e ? lc_error_set(err, LC_ERR, "getrandom: %s", strerror(-e)) : 0;
}

int lc_transport_ssh_global_init(struct lc_error *err)
{
	int rc = libssh2_init(0);

	if (rc)
		return lc_error_set(err, LC_ERR, "libssh2_init failed (%d)", rc);
	return 0;
}

void lc_transport_ssh_global_release(void)
{
	libssh2_exit();
}

/* The key files in turn (the first that logs in wins), then ssh-agent
 * when allowed; or the one identity_file; or ssh-agent. */
static int authenticate(struct ssh_transport *t, const struct lc_ssh_opts *o, int64_t deadline,
			int timeout_ms, struct lc_error *err)
{
	struct lc_ssh_opts one;
	size_t i;
	int rc = LC_EAUTH;

	if (!o->n_identity_files)
		return o->identity_file ? lc_ssh_auth_key_file(t, o, deadline, timeout_ms, err) :
		       lc_ssh_auth_agent(t, o, deadline, timeout_ms, err);
	one = *o;
	for (i = 0; i < o->n_identity_files && rc == LC_EAUTH; i++) {
		if (access(o->identity_files[i], R_OK) < 0)
			continue;  /* as OpenSSH: a listed key that is not there */
		one.identity_file = o->identity_files[i];
		rc = lc_ssh_auth_key_file(t, &one, deadline, timeout_ms, err);
	}
	if (rc == LC_EAUTH && !err->msg[0])
		lc_error_set(err, LC_EAUTH, "%s: none of the IdentityFiles for %s can be read "
			     "(first: %s)", t->where, o->user, o->identity_files[0]);
	if (rc == LC_EAUTH && o->agent_fallback && getenv("SSH_AUTH_SOCK"))
		rc = lc_ssh_auth_agent(t, o, deadline, timeout_ms, err);
	return rc;
}

int lc_transport_ssh_open(struct lc_transport **out, const struct lc_ssh_opts *o,
			  struct lc_error *err)
{
	struct ssh_transport *t;
	LIBSSH2_KNOWNHOSTS *kh = NULL, *revoked = NULL;
	struct lc_buf name = LC_BUF_INIT;
	int timeout_ms = o->connect_timeout_ms > 0 ? o->connect_timeout_ms
						  : CONNECT_TIMEOUT_DEFAULT_MS;
	int64_t deadline = lc_clock_ms() + timeout_ms;
	int rc;

	*out = NULL;
	t = lc_xcalloc(1, sizeof(*t));
	t->pub.ops = &ssh_ops;
	t->sock = -1;
	t->pump_fd = -1;
	lc_buf_init(&t->stream);
	lc_buf_init(&t->errtail);
	t->command_timeout_ms = o->command_timeout_ms;
	t->shell_command = lc_xstrdup(o->shell_command ? o->shell_command : "sh");
	t->stdin_first = o->stdin_first ? lc_xstrdup(o->stdin_first) : NULL;
	t->prelude = o->shell_prelude ? lc_xstrdup(o->shell_prelude) : NULL;
	if (o->feed_command && o->first_batch_public && !o->stdin_first)
		t->feed_command = lc_xstrdup(o->feed_command);
	lc_buf_init(&t->noise);
	t->cancel = o->cancel;
	t->uploads = o->uploads;
	t->name = lc_xstrdup(o->name ? o->name : o->address ? o->address : "?");
	if (o->address && strchr(o->address, ':'))
		t->where = lc_xasprintf("%s ([%s]:%d)", t->name, o->address, o->port);
	else
		t->where = lc_xasprintf("%s (%s:%d)", t->name, o->address ? o->address : "?",
					o->port);
	if (!o->address || !o->user || !o->known_hosts || o->port <= 0 || o->port > 65535) {
		rc = lc_error_set(err, LC_EUSAGE,
				  "%s: address, port, user and known_hosts are required", t->where);
		goto out;
	}
	if ((rc = make_nonce(t, err)))
		goto out;
	if (o->jump)
		rc = lc_ssh_jump_connect(t, o, deadline, timeout_ms, err);
	else
		rc = tcp_connect(t, o, deadline, timeout_ms, err);
	if (rc)
		goto out;

	t->session = libssh2_session_init_ex(NULL, NULL, NULL, t);
	if (!t->session) {
		rc = lc_error_set(err, LC_ERR, "%s: cannot create an SSH session", t->where);
		goto out;
	}
	libssh2_session_set_blocking(t->session, 0);
	libssh2_session_callback_set(t->session, LIBSSH2_CALLBACK_SEND, (void *)wire_send);
	libssh2_session_callback_set(t->session, LIBSSH2_CALLBACK_RECV, (void *)wire_recv);
	t->pub.stats.wire_round_trips++;  /* the TCP connect */
	kh = libssh2_knownhost_init(t->session);
	revoked = libssh2_knownhost_init(t->session);
	if (!kh || !revoked) {
		rc = lc_error_set(err, LC_ERR, "%s: libssh2_knownhost_init failed", t->where);
		goto out;
	}
	lc_ssh_known_hosts_name(&name, o);
	if ((rc = lc_ssh_load_known_hosts(t, o->known_hosts, kh, revoked, err)) ||
	    (rc = lc_ssh_set_hostkey_prefs(t, kh, name.buf, err)))
		goto out;

	NB_LOOP(rc, t, deadline, libssh2_session_handshake(t->session, t->sock));
	if (rc) {
		rc = lc_ssh_fail(t, t->where, rc, timeout_ms, "during the SSH handshake", err);
		goto out;
	}
	if ((rc = lc_ssh_check_host_key(t, o, kh, revoked, name.buf, err)))
		goto out;
	if ((rc = authenticate(t, o, deadline, timeout_ms, err)))
		goto out;

	t->pub.stats.connections = 1;
	*out = &t->pub;
	t = NULL;
out:
	/* Known-host collections live in the session: free them first. */
	if (kh)
		libssh2_knownhost_free(kh);
	if (revoked)
		libssh2_knownhost_free(revoked);
	if (t) {
		t->dead = 1; /* no polite goodbye on a half-open session */
		ssh_close(&t->pub);
	}
	lc_buf_release(&name);
	return rc;
}
