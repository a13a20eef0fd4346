/* transport_ssh.c - the SSH transport, and the only libssh2 user.
 *
 * One TCP connection and one SSH session per host (one host per thread).
 * The session is non-blocking from the first byte: every wait goes through
 * wait_socket(), which polls in the directions libssh2 says it is blocked on
 * and enforces a deadline, so a silent peer can never hang us.
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
 * put() uses one SFTP session, opened on first use. */
#include "transport.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <libssh2.h>
#include <libssh2_sftp.h>

#define OUT_MAX ((size_t)256 << 20)       /* stdout of one batch */
#define ERR_TAIL 4096                     /* shell stderr kept for messages */
#define ERR_IN_MSG 512                    /* ... of which goes in a message */
#define READ_CHUNK ((size_t)128 << 10)
#define SFTP_CHUNK ((size_t)1 << 20)      /* 1 MiB writes: 3x faster than 4 KiB */
#define FILE_MAX ((size_t)16 << 20)       /* known_hosts and key files */
#define CONNECT_TIMEOUT_DEFAULT_MS 10000
#define GRACE_MS 2000                     /* for cleaning up after an error */
#define NB_TIMEOUT (-1000)                /* ours, next to LIBSSH2_ERROR_* */
#define CANCEL_POLL_MS 100

static const char rsa_advice[] =
	"RSA keys cannot log in to OpenSSH 8.8 or later with libssh2 1.10 "
	"(no rsa-sha2 signatures); use an ed25519 or ECDSA key";

struct ssh_transport {
	struct lc_transport pub;   /* first: an lc_transport * points here */
	char *name;                /* inventory name */
	char *where;               /* "NAME (addr:port)" */
	int command_timeout_ms;
	char *shell_command;
	const volatile sig_atomic_t *cancel;  /* set by a signal: stop waiting */
	int sock;
	int dead;                  /* the connection failed; refuse further use */
	LIBSSH2_SESSION *session;
	LIBSSH2_CHANNEL *shell;
	LIBSSH2_SFTP *sftp;
	char nonce[17];
	struct lc_buf stream;      /* shell stdout received, not handed out yet */
	struct lc_buf errtail;     /* the last bytes of the shell's stderr */
};

/* Host key algorithms in order of preference (DESIGN §4: ed25519 first,
 * so we get the key OpenSSH wrote) with their known_hosts key-type bit.
 * libssh2 1.10 has no rsa-sha2-* host key algorithms; method_pref would
 * silently drop them (with an overlapping memcpy), we filter first. */
static const struct {
	const char *alg;
	int kh_bit;
} hostkey_algs[] = {
	{ "ssh-ed25519", LIBSSH2_KNOWNHOST_KEY_ED25519 },
	{ "ecdsa-sha2-nistp256", LIBSSH2_KNOWNHOST_KEY_ECDSA_256 },
	{ "ecdsa-sha2-nistp384", LIBSSH2_KNOWNHOST_KEY_ECDSA_384 },
	{ "ecdsa-sha2-nistp521", LIBSSH2_KNOWNHOST_KEY_ECDSA_521 },
	{ "rsa-sha2-512", LIBSSH2_KNOWNHOST_KEY_SSHRSA },
	{ "rsa-sha2-256", LIBSSH2_KNOWNHOST_KEY_SSHRSA },
	{ "ssh-rsa", LIBSSH2_KNOWNHOST_KEY_SSHRSA },
};

static const struct keytype {
	int hostkey_type;          /* LIBSSH2_HOSTKEY_TYPE_* */
	int kh_bit;                /* LIBSSH2_KNOWNHOST_KEY_* */
	const char *name;          /* as written in known_hosts */
} keytypes[] = {
	{ LIBSSH2_HOSTKEY_TYPE_ED25519, LIBSSH2_KNOWNHOST_KEY_ED25519, "ssh-ed25519" },
	{ LIBSSH2_HOSTKEY_TYPE_ECDSA_256, LIBSSH2_KNOWNHOST_KEY_ECDSA_256, "ecdsa-sha2-nistp256" },
	{ LIBSSH2_HOSTKEY_TYPE_ECDSA_384, LIBSSH2_KNOWNHOST_KEY_ECDSA_384, "ecdsa-sha2-nistp384" },
	{ LIBSSH2_HOSTKEY_TYPE_ECDSA_521, LIBSSH2_KNOWNHOST_KEY_ECDSA_521, "ecdsa-sha2-nistp521" },
	{ LIBSSH2_HOSTKEY_TYPE_RSA, LIBSSH2_KNOWNHOST_KEY_SSHRSA, "ssh-rsa" },
	{ LIBSSH2_HOSTKEY_TYPE_DSS, LIBSSH2_KNOWNHOST_KEY_SSHDSS, "ssh-dss" },
};

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

/* ---- time, waiting, libssh2 errors ---------------------------------- */

static int64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* 0 means no deadline. */
static int64_t deadline_in(int ms)
{
	return ms > 0 ? now_ms() + ms : 0;
}

/* Wait until the socket is ready in the directions libssh2 is blocked on,
 * plus `extra` poll events.  Returns 0 to try again, or NB_TIMEOUT once the
 * deadline has passed. */
static int wait_socket(struct ssh_transport *t, int64_t deadline, short extra)
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
		int64_t left = deadline - now_ms();
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

/* Repeat a libssh2 call while it says EAGAIN; rc gets its result, or
 * NB_TIMEOUT. */
#define NB_LOOP(rc, t, deadline, call)                                       \
	do {                                                                 \
		while (((rc) = (call)) == LIBSSH2_ERROR_EAGAIN &&            \
		       ((rc) = wait_socket((t), (deadline), 0)) == 0)        \
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
		       ((rc) = wait_socket((t), (deadline), 0)) == 0)        \
			;                                                    \
		if (!(p) && !(rc))                                           \
			(rc) = LIBSSH2_ERROR_SOCKET_NONE;                    \
	} while (0)

static const char *ssh_errmsg(struct ssh_transport *t)
{
	char *msg = NULL;

	libssh2_session_last_error(t->session, &msg, NULL, 0);
	return msg && *msg ? msg : "unknown error";
}

/* Errors after which the SSH connection itself is unusable. */
static int is_connection_error(int rc)
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
static int ssh_fail(struct ssh_transport *t, const char *who, int rc,
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
	if (!is_connection_error(rc))
		return lc_error_set(err, LC_EREMOTE, "%s: failed %s (libssh2: %s)",
				    who, what, ssh_errmsg(t));
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
			    what, ssh_errmsg(t));
}

/* ---- small helpers: base64, local files ----------------------------- */

static const char b64chars[] =
	"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

static void b64_encode(struct lc_buf *b, const unsigned char *p, size_t len, int pad)
{
	size_t i;

	for (i = 0; i + 2 < len; i += 3) {
		lc_buf_addc(b, b64chars[p[i] >> 2]);
		lc_buf_addc(b, b64chars[(p[i] & 3) << 4 | p[i + 1] >> 4]);
		lc_buf_addc(b, b64chars[(p[i + 1] & 15) << 2 | p[i + 2] >> 6]);
		lc_buf_addc(b, b64chars[p[i + 2] & 63]);
	}
	if (len - i == 1) {
		lc_buf_addc(b, b64chars[p[i] >> 2]);
		lc_buf_addc(b, b64chars[(p[i] & 3) << 4]);
		if (pad)
			lc_buf_adds(b, "==");
	} else if (len - i == 2) {
		lc_buf_addc(b, b64chars[p[i] >> 2]);
		lc_buf_addc(b, b64chars[(p[i] & 3) << 4 | p[i + 1] >> 4]);
		lc_buf_addc(b, b64chars[(p[i + 1] & 15) << 2]);
		if (pad)
			lc_buf_addc(b, '=');
	}
}

/* Decode base64 (whitespace skipped) until '=', a non-base64 byte or end. */
static void b64_decode(struct lc_buf *b, const char *s, size_t len)
{
	unsigned acc = 0;
	int bits = 0;
	size_t i;

	for (i = 0; i < len; i++) {
		const char *c;
		if (s[i] == '\n' || s[i] == '\r' || s[i] == ' ' || s[i] == '\t')
			continue;
		c = s[i] ? strchr(b64chars, s[i]) : NULL;
		if (!c)
			break;
		acc = (acc << 6 | (unsigned)(c - b64chars)) & 0xffffff;
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			lc_buf_addc(b, (char)(acc >> bits & 0xff));
		}
	}
}

/* Read a local file into b, at most max bytes.  Returns 0 or an errno
 * value (EFBIG when larger than max). */
static int read_local_file(struct lc_buf *b, const char *path, size_t max)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	int ret = 0;

	if (fd < 0)
		return errno;
	for (;;) {
		ssize_t n;
		lc_buf_grow(b, 8192);
		n = read(fd, b->buf + b->len, b->alloc - b->len - 1);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			ret = errno;
			break;
		}
		if (n == 0)
			break;
		lc_buf_setlen(b, b->len + (size_t)n);
		if (b->len > max) {
			ret = EFBIG;
			break;
		}
	}
	close(fd);
	return ret;
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
			int64_t left = deadline - now_ms();
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

/* ---- host keys ------------------------------------------------------ */

/* The name OpenSSH uses in known_hosts: "host", or "[host]:port". */
static void known_hosts_name(struct lc_buf *b, const struct lc_ssh_opts *o)
{
	if (o->port == 22)
		lc_buf_adds(b, o->address);
	else
		lc_buf_addf(b, "[%s]:%d", o->address, o->port);
}

/* Read known_hosts line by line: libssh2_knownhost_readfile stops at the
 * first line it cannot parse, we skip such lines as OpenSSH does.
 * "@revoked" entries go to `revoked`; "@cert-authority" ones are ignored
 * (no certificates here).  A missing file is an empty one. */
static int load_known_hosts(struct ssh_transport *t, const char *file,
			    LIBSSH2_KNOWNHOSTS *kh, LIBSSH2_KNOWNHOSTS *revoked,
			    struct lc_error *err)
{
	struct lc_buf data = LC_BUF_INIT, line = LC_BUF_INIT;
	const char *p, *end;
	int e, rc = 0;

	e = read_local_file(&data, file, FILE_MAX);
	if (e && e != ENOENT) {
		rc = lc_error_set(err, LC_EIO, "%s: cannot read known hosts file %s: %s",
				  t->where, file, strerror(e));
		goto out;
	}
	for (p = data.buf, end = data.buf + data.len; p < end; ) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		const char *eol = nl ? nl : end;
		LIBSSH2_KNOWNHOSTS *into = kh;

		while (p < eol && (*p == ' ' || *p == '\t'))
			p++;
		if (p < eol && *p == '@') {
			static const char marker[] = "@revoked";
			size_t n = sizeof(marker) - 1;
			if ((size_t)(eol - p) > n && !memcmp(p, marker, n) &&
			    (p[n] == ' ' || p[n] == '\t')) {
				into = revoked;
				p += n;
			} else {
				into = NULL;
			}
		}
		if (into) {
			lc_buf_reset(&line);
			lc_buf_add(&line, p, (size_t)(eol - p));
			/* An unparsable line is skipped, not fatal. */
			(void)libssh2_knownhost_readline(into, line.buf, line.len,
							 LIBSSH2_KNOWNHOST_FILE_OPENSSH);
		}
		p = nl ? nl + 1 : end;
	}
out:
	lc_buf_release(&data);
	lc_buf_release(&line);
	return rc;
}

/* Does kh list a key of type kh_bit for name?  Checking a key nobody has
 * answers MISMATCH exactly when it does (hashed entries included). */
static int has_key_type(LIBSSH2_KNOWNHOSTS *kh, const char *name, int kh_bit)
{
	static const char probe[] = "labctl: no host has this key";

	return libssh2_knownhost_checkp(kh, name, -1, probe, sizeof(probe) - 1,
					LIBSSH2_KNOWNHOST_TYPE_PLAIN |
					LIBSSH2_KNOWNHOST_KEYENC_RAW | kh_bit,
					NULL) == LIBSSH2_KNOWNHOST_CHECK_MISMATCH;
}

/* The host key algorithms to offer: our preference order, restricted to
 * what this libssh2 supports, with the types known_hosts already lists for
 * this host first (as OpenSSH does), so a host known by its ECDSA key is
 * not asked for its ed25519 key and then refused as unknown. */
static int set_hostkey_prefs(struct ssh_transport *t, LIBSSH2_KNOWNHOSTS *kh,
			     const char *name, struct lc_error *err)
{
	struct lc_buf prefs = LC_BUF_INIT;
	const char **algs = NULL;
	int nalgs, pass, rc = 0;
	size_t i;

	nalgs = libssh2_session_supported_algs(t->session, LIBSSH2_METHOD_HOSTKEY, &algs);
	for (pass = 0; pass < 2; pass++) {
		for (i = 0; i < ARRAY_SIZE(hostkey_algs); i++) {
			int j, ok = nalgs < 0; /* cannot tell: offer it */
			if (has_key_type(kh, name, hostkey_algs[i].kh_bit) != !pass)
				continue;
			for (j = 0; j < nalgs && !ok; j++)
				ok = !strcmp(algs[j], hostkey_algs[i].alg);
			if (!ok)
				continue;
			if (prefs.len)
				lc_buf_addc(&prefs, ',');
			lc_buf_adds(&prefs, hostkey_algs[i].alg);
		}
	}
	if (nalgs > 0)
		libssh2_free(t->session, algs);
	if (prefs.len &&
	    libssh2_session_method_pref(t->session, LIBSSH2_METHOD_HOSTKEY, prefs.buf))
		rc = lc_error_set(err, LC_ERR, "%s: cannot set host key algorithms '%s': %s",
				  t->where, prefs.buf, ssh_errmsg(t));
	lc_buf_release(&prefs);
	return rc;
}

/* Append "name keytype base64" to known_hosts in one write (O_APPEND), so
 * concurrent threads adding different hosts do not interleave.  Never
 * libssh2_knownhost_writefile: it drops comments and lines it skipped. */
static int append_known_host(struct ssh_transport *t, const char *file,
			     const char *name, const struct keytype *kt,
			     const char *key, size_t keylen, struct lc_error *err)
{
	struct lc_buf line = LC_BUF_INIT;
	struct stat st;
	size_t off = 0;
	int fd, rc = 0;
	char last;

	fd = open(file, O_RDWR | O_APPEND | O_CREAT | O_CLOEXEC, 0600);
	if (fd < 0) {
		rc = lc_error_set(err, LC_EIO, "%s: cannot add host key to %s: %s",
				  t->where, file, strerror(errno));
		goto out;
	}
	/* A last line without newline must not swallow ours. */
	if (fstat(fd, &st) == 0 && st.st_size > 0 &&
	    pread(fd, &last, 1, st.st_size - 1) == 1 && last != '\n')
		lc_buf_addc(&line, '\n');
	lc_buf_addf(&line, "%s %s ", name, kt->name);
	b64_encode(&line, (const unsigned char *)key, keylen, 1);
	lc_buf_addc(&line, '\n');
	while (off < line.len) {
		ssize_t n = write(fd, line.buf + off, line.len - off);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			rc = lc_error_set(err, LC_EIO, "%s: cannot add host key to %s: %s",
					  t->where, file, strerror(errno));
			goto out;
		}
		off += (size_t)n;
	}
out:
	if (fd >= 0 && close(fd) < 0 && !rc)
		rc = lc_error_set(err, LC_EIO, "%s: cannot add host key to %s: %s",
				  t->where, file, strerror(errno));
	lc_buf_release(&line);
	return rc;
}

static int check_host_key(struct ssh_transport *t, const struct lc_ssh_opts *o,
			  LIBSSH2_KNOWNHOSTS *kh, LIBSSH2_KNOWNHOSTS *revoked,
			  const char *name, struct lc_error *err)
{
	struct lc_buf fp = LC_BUF_INIT;
	const struct keytype *kt = NULL;
	const char *key, *hash;
	size_t keylen = 0, i;
	int type = 0, mask, other = 0, rc = 0;

	key = libssh2_session_hostkey(t->session, &keylen, &type);
	for (i = 0; i < ARRAY_SIZE(keytypes); i++)
		if (keytypes[i].hostkey_type == type)
			kt = &keytypes[i];
	if (!key || !kt) {
		rc = lc_error_set(err, LC_EHOSTKEY, "%s: the host key has an unsupported type",
				  t->where);
		goto out;
	}
	hash = libssh2_hostkey_hash(t->session, LIBSSH2_HOSTKEY_HASH_SHA256);
	lc_buf_addf(&fp, "%s key SHA256:", kt->name);
	if (hash)
		b64_encode(&fp, (const unsigned char *)hash, 32, 0);

	mask = LIBSSH2_KNOWNHOST_TYPE_PLAIN | LIBSSH2_KNOWNHOST_KEYENC_RAW | kt->kh_bit;
	if (libssh2_knownhost_checkp(revoked, name, -1, key, keylen, mask, NULL) ==
	    LIBSSH2_KNOWNHOST_CHECK_MATCH) {
		rc = lc_error_set(err, LC_EHOSTKEY,
				  "host key of %s is marked @revoked in %s; connection "
				  "refused, no command was run (%s)",
				  t->where, o->known_hosts, fp.buf);
		goto out;
	}
	switch (libssh2_knownhost_checkp(kh, name, -1, key, keylen, mask, NULL)) {
	case LIBSSH2_KNOWNHOST_CHECK_MATCH:
		break;
	case LIBSSH2_KNOWNHOST_CHECK_MISMATCH:
		rc = lc_error_set(err, LC_EHOSTKEY,
				  "host key of %s does not match the one in %s: this may be "
				  "a man-in-the-middle attack; connection refused, no command "
				  "was run (offered %s; if the host was reinstalled, remove "
				  "the old key with: ssh-keygen -R '%s' -f %s)",
				  t->where, o->known_hosts, fp.buf, name, o->known_hosts);
		break;
	case LIBSSH2_KNOWNHOST_CHECK_NOTFOUND:
		/* We offered the known types first, so a host listed only with
		 * other key types no longer has them: that is a changed key,
		 * not a new host, even with accept_new_hostkeys. */
		for (i = 0; i < ARRAY_SIZE(keytypes); i++)
			if (keytypes[i].kh_bit != kt->kh_bit &&
			    has_key_type(kh, name, keytypes[i].kh_bit))
				other = 1;
		if (other)
			rc = lc_error_set(err, LC_EHOSTKEY,
					  "host key of %s does not match the one in %s (it "
					  "lists keys of other types only): this may be a "
					  "man-in-the-middle attack; connection refused, no "
					  "command was run (offered %s)",
					  t->where, o->known_hosts, fp.buf);
		else if (!o->accept_new_hostkeys)
			rc = lc_error_set(err, LC_EHOSTKEY,
					  "host key of %s is not in %s; run with "
					  "--accept-new-hostkeys to trust it (%s)",
					  t->where, o->known_hosts, fp.buf);
		else
			rc = append_known_host(t, o->known_hosts, name, kt, key, keylen, err);
		break;
	default:
		rc = lc_error_set(err, LC_EHOSTKEY, "%s: cannot check the host key: %s",
				  t->where, ssh_errmsg(t));
		break;
	}
out:
	lc_buf_release(&fp);
	return rc;
}

/* ---- authentication ------------------------------------------------- */

static uint32_t get_u32(const unsigned char *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

/* Take one SSH wire string from *p (left bytes remaining). */
static int get_string(const unsigned char **p, size_t *left,
		      const unsigned char **s, size_t *len)
{
	uint32_t n;

	if (*left < 4)
		return -1;
	n = get_u32(*p);
	if (*left - 4 < n)
		return -1;
	*s = *p + 4;
	*len = n;
	*p += 4 + (size_t)n;
	*left -= 4 + (size_t)n;
	return 0;
}

static int is_string(const unsigned char *s, size_t len, const char *want)
{
	return len == strlen(want) && !memcmp(s, want, len);
}

/* What went wrong with a key file, for the message: is it RSA (from the
 * .pub file, a PEM RSA header, or the public half of an OpenSSH-format
 * private key) and is it encrypted? */
static void key_file_info(const char *priv, const char *pub, int *rsa, int *encrypted)
{
	static const char begin[] = "-----BEGIN OPENSSH PRIVATE KEY-----";
	static const char magic[] = "openssh-key-v1";
	struct lc_buf data = LC_BUF_INIT, bin = LC_BUF_INIT;
	const unsigned char *p, *s;
	size_t left, len;
	const char *b, *e;

	*rsa = *encrypted = 0;
	if (pub && !read_local_file(&data, pub, FILE_MAX))
		*rsa = !strncmp(data.buf, "ssh-rsa ", 8);
	lc_buf_reset(&data);
	if (read_local_file(&data, priv, FILE_MAX))
		goto out;
	if (strstr(data.buf, "BEGIN RSA PRIVATE KEY"))
		*rsa = 1;
	if (strstr(data.buf, "Proc-Type: 4,ENCRYPTED") ||
	    strstr(data.buf, "BEGIN ENCRYPTED PRIVATE KEY"))
		*encrypted = 1;
	b = strstr(data.buf, begin);
	if (!b)
		goto out;
	b += sizeof(begin) - 1;
	e = strstr(b, "-----END");
	b64_decode(&bin, b, e ? (size_t)(e - b) : strlen(b));
	/* magic\0, string cipher, string kdf, string kdfopts, u32 n, string pub */
	p = (const unsigned char *)bin.buf;
	left = bin.len;
	if (left < sizeof(magic) || memcmp(p, magic, sizeof(magic)))
		goto out;
	p += sizeof(magic);
	left -= sizeof(magic);
	if (get_string(&p, &left, &s, &len))
		goto out;
	if (!is_string(s, len, "none"))
		*encrypted = 1;
	if (get_string(&p, &left, &s, &len) || get_string(&p, &left, &s, &len) ||
	    left < 4)
		goto out;
	p += 4;
	left -= 4;
	if (get_string(&p, &left, &s, &len))
		goto out;
	p = s;
	left = len;
	if (!get_string(&p, &left, &s, &len) && is_string(s, len, "ssh-rsa"))
		*rsa = 1;
out:
	lc_buf_release(&data);
	lc_buf_release(&bin);
}

static int auth_key_file(struct ssh_transport *t, const struct lc_ssh_opts *o,
			 int64_t deadline, int timeout_ms, struct lc_error *err)
{
	struct lc_buf pub = LC_BUF_INIT;
	const char *pubpath;
	int rc, rsa, encrypted;

	lc_buf_addf(&pub, "%s.pub", o->identity_file);
	pubpath = access(pub.buf, R_OK) == 0 ? pub.buf : NULL;
	/* Passphrase "" and not NULL: with NULL, libssh2 1.10 (OpenSSL)
	 * calls strlen(NULL) on an encrypted PEM key. */
	NB_LOOP(rc, t, deadline,
		libssh2_userauth_publickey_fromfile_ex(t->session, o->user,
						       (unsigned)strlen(o->user),
						       pubpath, o->identity_file, ""));
	if (!rc)
		goto out;
	if (rc == NB_TIMEOUT || is_connection_error(rc)) {
		rc = ssh_fail(t, t->where, rc, timeout_ms, "during authentication", err);
		goto out;
	}
	key_file_info(o->identity_file, pubpath, &rsa, &encrypted);
	if (rsa)
		rc = lc_error_set(err, LC_EAUTH, "%s: authentication as %s failed with key %s: %s",
				  t->name, o->user, o->identity_file, rsa_advice);
	else if (encrypted)
		rc = lc_error_set(err, LC_EAUTH,
				  "%s: authentication as %s failed with key %s: the key is "
				  "encrypted and labctl cannot ask for its passphrase; load "
				  "it into ssh-agent and leave identity_file unset",
				  t->name, o->user, o->identity_file);
	else
		rc = lc_error_set(err, LC_EAUTH, "%s: authentication as %s failed with key %s (%s)",
				  t->name, o->user, o->identity_file, ssh_errmsg(t));
out:
	lc_buf_release(&pub);
	return rc;
}

static int auth_agent(struct ssh_transport *t, const struct lc_ssh_opts *o,
		      int64_t deadline, int timeout_ms, struct lc_error *err)
{
	struct libssh2_agent_publickey *id = NULL, *prev = NULL;
	LIBSSH2_AGENT *agent;
	int rc, tried = 0, rsa = 0, connected = 0;

	agent = libssh2_agent_init(t->session);
	if (!agent) {
		rc = lc_error_set(err, LC_EAUTH, "%s: cannot use ssh-agent: %s",
				  t->name, ssh_errmsg(t));
		goto out;
	}
	if (libssh2_agent_connect(agent)) {
		const char *sock = getenv("SSH_AUTH_SOCK");
		rc = lc_error_set(err, LC_EAUTH,
				  "%s: authentication as %s failed: no identity file is set "
				  "and ssh-agent is not reachable (SSH_AUTH_SOCK=%s)",
				  t->name, o->user, sock ? sock : "(unset)");
		goto out;
	}
	connected = 1;
	if (libssh2_agent_list_identities(agent)) {
		rc = lc_error_set(err, LC_EAUTH, "%s: cannot list ssh-agent keys: %s",
				  t->name, ssh_errmsg(t));
		goto out;
	}
	rc = LIBSSH2_ERROR_AUTHENTICATION_FAILED;
	while (rc && libssh2_agent_get_identity(agent, &id, prev) == 0) {
		const unsigned char *p = id->blob, *s;
		size_t left = id->blob_len, len;
		prev = id;
		tried++;
		if (!get_string(&p, &left, &s, &len) && is_string(s, len, "ssh-rsa"))
			rsa++;
		NB_LOOP(rc, t, deadline, libssh2_agent_userauth(agent, o->user, id));
		if (rc == LIBSSH2_ERROR_SOCKET_DISCONNECT && tried > 1) {
			t->dead = 1;
			rc = lc_error_set(err, LC_EAUTH,
					  "%s: authentication as %s failed: the host hung up "
					  "after %d ssh-agent keys (MaxAuthTries?)%s%s",
					  t->name, o->user, tried, rsa ? "; " : "",
					  rsa ? rsa_advice : "");
			goto out;
		}
		if (rc == NB_TIMEOUT || is_connection_error(rc)) {
			rc = ssh_fail(t, t->where, rc, timeout_ms, "during authentication", err);
			goto out;
		}
	}
	if (rc)
		rc = lc_error_set(err, LC_EAUTH,
				  "%s: authentication as %s failed with every ssh-agent key "
				  "(%d tried)%s%s", t->name, o->user, tried,
				  rsa ? "; " : "", rsa ? rsa_advice : "");
out:
	if (agent) {
		if (connected)
			libssh2_agent_disconnect(agent);
		libssh2_agent_free(agent);
	}
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
	int64_t grace = now_ms() + GRACE_MS;
	int rc;

	if (!t->shell)
		return;
	if (ended)
		NB_LOOP(rc, t, grace, libssh2_channel_free(t->shell));
	else
		NB_LOOP(rc, t, grace, libssh2_channel_send_eof(t->shell));
	if (rc == NB_TIMEOUT || is_connection_error(rc))
		t->dead = 1;
	t->shell = NULL;
	lc_buf_reset(&t->stream);
}

static int open_shell(struct ssh_transport *t, int64_t deadline, struct lc_error *err)
{
	LIBSSH2_CHANNEL *ch;
	int rc;

	NB_LOOP_PTR(ch, rc, t, deadline, libssh2_channel_open_session(t->session));
	if (!ch)
		return ssh_fail(t, t->name, rc, t->command_timeout_ms,
				"while opening a session channel", err);
	t->shell = ch;
	NB_LOOP(rc, t, deadline, libssh2_channel_exec(ch, t->shell_command));
	if (rc) {
		rc = ssh_fail(t, t->name, rc, t->command_timeout_ms, "while starting sh", err);
		drop_shell(t, 1);
		return rc;
	}
	t->pub.stats.exec_channels++;
	lc_buf_reset(&t->stream);
	return 0;
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

	lc_buf_grow(&t->errtail, READ_CHUNK);
	n = libssh2_channel_read_stderr(t->shell, t->errtail.buf + t->errtail.len, READ_CHUNK);
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
	int64_t grace = now_ms() + GRACE_MS;
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
	rc = lc_error_set(err, LC_EREMOTE,
			  "%s: the remote shell ended before the batch finished (%s)%s%s",
			  t->name, how.buf, t->errtail.len > start ? ": " : "",
			  t->errtail.buf + start);
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

static int ssh_run(struct lc_transport *tp, const char *script, size_t len,
		   struct lc_buf *out, int *exit_status, struct lc_error *err)
{
	struct ssh_transport *t = (struct ssh_transport *)tp;
	int64_t deadline = deadline_in(t->command_timeout_ms);
	struct lc_buf batch = LC_BUF_INIT;
	size_t sent = 0, scan = 0;
	int rc = 0, phase = 0, zeros = 0;

	*exit_status = -1;
	lc_buf_reset(out);
	t->pub.stats.round_trips++;
	if (t->dead)
		return lc_error_set(err, LC_ECONNECT, "%s: the connection failed earlier",
				    t->name);
	if (memchr(script, '\0', len))
		return lc_error_set(err, LC_EUSAGE, "%s: a batch cannot contain NUL bytes",
				    t->name);
	if (!t->shell && (rc = open_shell(t, deadline, err)))
		return rc;
	lc_buf_reset(&t->errtail);
	frame_batch(&batch, t->nonce, script, len);

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
				rc = ssh_fail(t, t->name, (int)n, 0, "while sending a batch", err);
				goto fail;
			}
		}

		lc_buf_grow(&t->stream, READ_CHUNK);
		n = libssh2_channel_read(t->shell, t->stream.buf + t->stream.len, READ_CHUNK);
		if (n > 0) {
			lc_buf_setlen(&t->stream, t->stream.len + (size_t)n);
			progress = 1;
			zeros = 0;
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
			rc = ssh_fail(t, t->name, (int)n, 0, "while reading output", err);
			goto fail;
		}

		n = read_stderr(t);
		if (n > 0) {
			progress = 1;
		} else if (n < 0 && n != LIBSSH2_ERROR_EAGAIN) {
			rc = ssh_fail(t, t->name, (int)n, 0, "while reading errors", err);
			goto fail;
		}

		if (!progress && wait_socket(t, deadline, want) == NB_TIMEOUT) {
			if (t->cancel && *t->cancel) {
				rc = lc_error_set(err, LC_ECANCELED, "%s: interrupted during a "
						  "batch (its commands may still be running on "
						  "the host)", t->name);
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
	lc_buf_release(&batch);
	return rc;
}

/* ---- put: SFTP ------------------------------------------------------ */

static const char *sftp_status_name(unsigned long fx)
{
	static const char *const names[] = {
		"OK", "EOF", "NO_SUCH_FILE", "PERMISSION_DENIED", "FAILURE",
		"BAD_MESSAGE", "NO_CONNECTION", "CONNECTION_LOST", "OP_UNSUPPORTED",
		"INVALID_HANDLE", "NO_SUCH_PATH", "FILE_ALREADY_EXISTS",
		"WRITE_PROTECT", "NO_MEDIA", "NO_SPACE_ON_FILESYSTEM",
		"QUOTA_EXCEEDED", "UNKNOWN_PRINCIPAL", "LOCK_CONFLICT",
		"DIR_NOT_EMPTY", "NOT_A_DIRECTORY", "INVALID_FILENAME", "LINK_LOOP",
	};
	return fx < ARRAY_SIZE(names) ? names[fx] : "unknown SFTP status";
}

/* The SFTP status behind rc, or -1 when rc is not an SFTP status error. */
static long sftp_status(struct ssh_transport *t, int rc)
{
	if (rc != LIBSSH2_ERROR_SFTP_PROTOCOL || !t->sftp)
		return -1;
	return (long)libssh2_sftp_last_error(t->sftp);
}

static int sftp_put_fail(struct ssh_transport *t, int rc, const char *what,
			 const char *path, struct lc_error *err)
{
	long fx = sftp_status(t, rc);

	if (fx >= 0)
		return lc_error_set(err, LC_EREMOTE, "%s: cannot %s %s: SFTP %s",
				    t->name, what, path, sftp_status_name((unsigned long)fx));
	if (rc == NB_TIMEOUT || is_connection_error(rc)) {
		struct lc_buf doing = LC_BUF_INIT;
		lc_buf_addf(&doing, "while trying to %s %s", what, path);
		rc = ssh_fail(t, t->name, rc, t->command_timeout_ms, doing.buf, err);
		lc_buf_release(&doing);
		return rc;
	}
	return lc_error_set(err, LC_EREMOTE, "%s: cannot %s %s (libssh2: %s)",
			    t->name, what, path, ssh_errmsg(t));
}

/* Length of the parent directory of path[0..len), without trailing
 * slashes; 0 when there is none to create ("file", "/file"). */
static size_t parent_len(const char *path, size_t len)
{
	while (len > 1 && path[len - 1] == '/')
		len--;
	while (len > 0 && path[len - 1] != '/')
		len--;
	while (len > 0 && path[len - 1] == '/')
		len--;
	return len;
}

/* mkdir -p the parent of path (0755): walk up until a mkdir works or finds
 * the directory there, then back down. */
static int sftp_mkdirs(struct ssh_transport *t, const char *path, int64_t deadline,
		       struct lc_error *err)
{
	static const char what[] = "create the parent directories of";
	size_t *todo = NULL, nr = 0, alloc = 0, len = parent_len(path, strlen(path));
	int rc = 0;

	while (len > 0) {
		LIBSSH2_SFTP_ATTRIBUTES st;
		NB_LOOP(rc, t, deadline,
			libssh2_sftp_mkdir_ex(t->sftp, path, (unsigned)len, 0755));
		if (!rc)
			break;
		if (sftp_status(t, rc) == LIBSSH2_FX_NO_SUCH_FILE) {
			LC_ALLOC_GROW(todo, nr + 1, alloc);
			todo[nr++] = len;
			len = parent_len(path, len);
			continue;
		}
		/* OpenSSH says FAILURE for EEXIST: is a directory there? */
		NB_LOOP(rc, t, deadline, libssh2_sftp_stat_ex(t->sftp, path, (unsigned)len,
							     LIBSSH2_SFTP_STAT, &st));
		if (rc) {
			rc = sftp_put_fail(t, rc, what, path, err);
			goto out;
		}
		if (!(st.flags & LIBSSH2_SFTP_ATTR_PERMISSIONS) ||
		    !LIBSSH2_SFTP_S_ISDIR(st.permissions)) {
			rc = lc_error_set(err, LC_EREMOTE,
					  "%s: cannot %s %s: %.*s is not a directory",
					  t->name, what, path, (int)len, path);
			goto out;
		}
		break;
	}
	while (nr > 0) {
		len = todo[--nr];
		NB_LOOP(rc, t, deadline,
			libssh2_sftp_mkdir_ex(t->sftp, path, (unsigned)len, 0755));
		if (rc) {
			rc = sftp_put_fail(t, rc, what, path, err);
			goto out;
		}
	}
	rc = 0;
out:
	free(todo);
	return rc;
}

static LIBSSH2_SFTP_HANDLE *sftp_create(struct ssh_transport *t, const char *path,
					unsigned mode, int64_t deadline, int *rc)
{
	LIBSSH2_SFTP_HANDLE *h;

	NB_LOOP_PTR(h, *rc, t, deadline,
		    libssh2_sftp_open_ex(t->sftp, path, (unsigned)strlen(path),
					 LIBSSH2_FXF_WRITE | LIBSSH2_FXF_CREAT |
						 LIBSSH2_FXF_TRUNC,
					 (long)(mode & 07777), LIBSSH2_SFTP_OPENFILE));
	return h;
}

static int ssh_put(struct lc_transport *tp, const char *path, const void *data,
		   size_t len, unsigned mode, struct lc_error *err)
{
	struct ssh_transport *t = (struct ssh_transport *)tp;
	int64_t deadline = deadline_in(t->command_timeout_ms), grace;
	LIBSSH2_SFTP_HANDLE *h = NULL;
	LIBSSH2_SFTP_ATTRIBUTES attrs;
	const char *what = "create";
	size_t off = 0;
	int rc, zeros = 0;

	if (t->dead)
		return lc_error_set(err, LC_ECONNECT, "%s: the connection failed earlier",
				    t->name);
	if (!t->sftp) {
		NB_LOOP_PTR(t->sftp, rc, t, deadline, libssh2_sftp_init(t->session));
		if (!t->sftp)
			return ssh_fail(t, t->name, rc, t->command_timeout_ms,
					"while starting SFTP", err);
	}
	h = sftp_create(t, path, mode, deadline, &rc);
	if (!h && sftp_status(t, rc) == LIBSSH2_FX_NO_SUCH_FILE) {
		if ((rc = sftp_mkdirs(t, path, deadline, err)))
			return rc;
		h = sftp_create(t, path, mode, deadline, &rc);
	}
	if (!h)
		return sftp_put_fail(t, rc, what, path, err);

	what = "write";
	while (off < len) {
		size_t chunk = len - off < SFTP_CHUNK ? len - off : SFTP_CHUNK;
		/* libssh2 queues the whole chunk and returns what the server
		 * acknowledged; called again with the rest, it skips what it
		 * already queued.  0 means it handled another packet. */
		ssize_t n = libssh2_sftp_write(h, (const char *)data + off, chunk);
		if (n > 0)
			off += (size_t)n;
		else if (n < 0 && n != LIBSSH2_ERROR_EAGAIN)
			rc = (int)n;
		else if (n == LIBSSH2_ERROR_EAGAIN || ++zeros > 8) {
			rc = wait_socket(t, deadline, 0);
			zeros = 0;
		}
		if (rc)
			goto fail;
	}
	/* The mode given to open is filtered by the server's umask and
	 * ignored for an existing file: set it explicitly. */
	what = "set the mode of";
	memset(&attrs, 0, sizeof(attrs));
	attrs.flags = LIBSSH2_SFTP_ATTR_PERMISSIONS;
	attrs.permissions = mode & 07777;
	NB_LOOP(rc, t, deadline, libssh2_sftp_fsetstat(h, &attrs));
	if (rc)
		goto fail;
	what = "close";
	NB_LOOP(rc, t, deadline, libssh2_sftp_close_handle(h));
	h = NULL;
	if (rc)
		goto fail;
	t->pub.stats.sftp_files++;
	t->pub.stats.bytes_sent += len;
	return 0;
fail:
	rc = sftp_put_fail(t, rc, what, path, err);
	if (!t->dead) {
		int ignored;
		grace = now_ms() + GRACE_MS;
		if (h)
			NB_LOOP(ignored, t, grace, libssh2_sftp_close_handle(h));
		NB_LOOP(ignored, t, grace, libssh2_sftp_unlink_ex(t->sftp, path,
								 (unsigned)strlen(path)));
		if (ignored == NB_TIMEOUT || is_connection_error(ignored))
			t->dead = 1;
	}
	return rc;
}

/* ---- open, close ---------------------------------------------------- */

static void ssh_close(struct lc_transport *tp)
{
	struct ssh_transport *t = (struct ssh_transport *)tp;
	int64_t grace = now_ms() + GRACE_MS;
	int rc, tries = 0;

	if (!t)
		return;
	if (t->session && !t->dead) {
		if (t->shell) {
			/* EOF on its stdin: sh exits, the server closes. */
			NB_LOOP(rc, t, grace, libssh2_channel_send_eof(t->shell));
			NB_LOOP(rc, t, grace, libssh2_channel_free(t->shell));
		}
		if (t->sftp)
			NB_LOOP(rc, t, grace, libssh2_sftp_shutdown(t->sftp));
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
	lc_buf_release(&t->stream);
	lc_buf_release(&t->errtail);
	free(t->name);
	free(t->shell_command);
	free(t->where);
	free(t);
}

static const struct lc_transport_ops ssh_ops = {
	.run = ssh_run,
	.put = ssh_put,
	.close = ssh_close,
};

static int make_nonce(struct ssh_transport *t, struct lc_error *err)
{
	unsigned char r[8];
	size_t got = 0, i;

	while (got < sizeof(r)) {
		ssize_t n = getrandom(r + got, sizeof(r) - got, 0);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return lc_error_set(err, LC_ERR, "getrandom: %s", strerror(errno));
		got += (size_t)n;
	}
	for (i = 0; i < sizeof(r); i++) {
		t->nonce[2 * i] = "0123456789abcdef"[r[i] >> 4];
		t->nonce[2 * i + 1] = "0123456789abcdef"[r[i] & 15];
	}
	t->nonce[2 * sizeof(r)] = '\0';
	return 0;
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

int lc_transport_ssh_open(struct lc_transport **out, const struct lc_ssh_opts *o,
			  struct lc_error *err)
{
	struct ssh_transport *t;
	LIBSSH2_KNOWNHOSTS *kh = NULL, *revoked = NULL;
	struct lc_buf name = LC_BUF_INIT;
	int timeout_ms = o->connect_timeout_ms > 0 ? o->connect_timeout_ms
						  : CONNECT_TIMEOUT_DEFAULT_MS;
	int64_t deadline = now_ms() + timeout_ms;
	int rc;

	*out = NULL;
	t = lc_xcalloc(1, sizeof(*t));
	t->pub.ops = &ssh_ops;
	t->sock = -1;
	lc_buf_init(&t->stream);
	lc_buf_init(&t->errtail);
	t->command_timeout_ms = o->command_timeout_ms;
	t->shell_command = lc_xstrdup(o->shell_command ? o->shell_command : "sh");
	t->cancel = o->cancel;
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
	if ((rc = make_nonce(t, err)) || (rc = tcp_connect(t, o, deadline, timeout_ms, err)))
		goto out;

	t->session = libssh2_session_init();
	if (!t->session) {
		rc = lc_error_set(err, LC_ERR, "%s: cannot create an SSH session", t->where);
		goto out;
	}
	libssh2_session_set_blocking(t->session, 0);
	kh = libssh2_knownhost_init(t->session);
	revoked = libssh2_knownhost_init(t->session);
	if (!kh || !revoked) {
		rc = lc_error_set(err, LC_ERR, "%s: libssh2_knownhost_init failed", t->where);
		goto out;
	}
	known_hosts_name(&name, o);
	if ((rc = load_known_hosts(t, o->known_hosts, kh, revoked, err)) ||
	    (rc = set_hostkey_prefs(t, kh, name.buf, err)))
		goto out;

	NB_LOOP(rc, t, deadline, libssh2_session_handshake(t->session, t->sock));
	if (rc) {
		rc = ssh_fail(t, t->where, rc, timeout_ms, "during the SSH handshake", err);
		goto out;
	}
	if ((rc = check_host_key(t, o, kh, revoked, name.buf, err)))
		goto out;
	if (o->identity_file)
		rc = auth_key_file(t, o, deadline, timeout_ms, err);
	else
		rc = auth_agent(t, o, deadline, timeout_ms, err);
	if (rc)
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
