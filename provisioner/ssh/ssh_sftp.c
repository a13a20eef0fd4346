/* ssh_sftp.c - put() for the SSH transport: one SFTP session per
 * connection, opened on first use; missing parent directories are created,
 * the mode is set exactly, a partial file is removed on failure. */
#include "ssh_int.h"

#include <errno.h>
#include <limits.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* An upload's window is its share of the budget plus a quarter: libssh2
 * is given [offset, offset + share) of the file and acknowledges about
 * 30000 bytes at a time, so the window slides by memmove at most once per
 * quarter share sent. */
#define WINDOW_OF(share) ((share) + (share) / 4)

/* ---- the budget of a run's uploads ------------------------------------ */

struct lc_upload_budget {
	size_t bytes, concurrency;
	atomic_size_t remaining;  /* hosts that may still upload */
};

struct lc_upload_budget *lc_upload_budget_new(size_t bytes, size_t hosts, size_t concurrency)
{
	struct lc_upload_budget *b = lc_xcalloc(1, sizeof(*b));

	b->bytes = bytes;
	b->concurrency = concurrency ? concurrency : 1;
	atomic_init(&b->remaining, hosts);
	return b;
}

void lc_upload_budget_done(struct lc_upload_budget *b)
{
	if (b)
		atomic_fetch_sub(&b->remaining, 1);
}

void lc_upload_budget_free(struct lc_upload_budget *b)
{
	free(b);
}

/* Whole requests, a power of two of them, so that a window grows a few
 * times as the others finish, not once per host. */
size_t lc_upload_budget_share(struct lc_upload_budget *b, unsigned rtt_us)
{
	size_t n, bytes, fair, share = LC_UPLOAD_SHARE_MIN;

	if (!b)
		return LC_UPLOAD_SHARE_MAX;
	bytes = b->bytes;
	if (rtt_us > LC_UPLOAD_RTT_REF_US && bytes < LC_UPLOAD_BUDGET_MAX) {
		uint64_t grown = (uint64_t)bytes * rtt_us / LC_UPLOAD_RTT_REF_US;

		bytes = grown < LC_UPLOAD_BUDGET_MAX ? (size_t)grown : LC_UPLOAD_BUDGET_MAX;
	}
	n = atomic_load(&b->remaining);
	if (n > b->concurrency)
		n = b->concurrency;
	fair = bytes / (n ? n : 1);
	while (share * 2 <= fair && share < LC_UPLOAD_SHARE_MAX)
		share *= 2;
	return share;
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
	if (rc == NB_TIMEOUT || lc_ssh_is_connection_error(rc)) {
		struct lc_buf doing = LC_BUF_INIT;
		lc_buf_addf(&doing, "while trying to %s %s", what, path);
		rc = lc_ssh_fail(t, t->name, rc, t->command_timeout_ms, doing.buf, err);
		lc_buf_release(&doing);
		return rc;
	}
	return lc_error_set(err, LC_EREMOTE, "%s: cannot %s %s (libssh2: %s)",
			    t->name, what, path, lc_ssh_errmsg(t));
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

/* Reading a local file for put(): win holds file[start, start + have) in
 * a buffer of cap bytes. */
struct window {
	int fd;
	char *buf;
	size_t cap, start, have;
};

/* Make win hold file[off, off + need) (need <= cap): keep what it has
 * from off on, read up to cap bytes.  A buffer of another cap is replaced
 * (the upload's share changed).  0, or an errno value. */
static int window_at(struct window *w, size_t off, size_t need, size_t cap)
{
	size_t keep;

	if (cap == w->cap && off + need <= w->start + w->have)
		return 0;
	keep = w->start + w->have > off ? w->start + w->have - off : 0;
	if (keep > cap)
		keep = cap;
	if (cap != w->cap) {
		char *nb = lc_xmalloc(cap);

		if (keep)
			memcpy(nb, w->buf + (off - w->start), keep);
		free(w->buf);
		w->buf = nb;
		w->cap = cap;
	} else if (keep) {
		memmove(w->buf, w->buf + (off - w->start), keep);
	}
	w->start = off;
	w->have = keep;
	while (w->have < need) {
		ssize_t n = pread(w->fd, w->buf + w->have, cap - w->have,
				  (off_t)(w->start + w->have));

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return n < 0 ? errno : EIO;  /* shorter than it was */
		w->have += (size_t)n;
	}
	return 0;
}

int lc_ssh_put(struct lc_transport *tp, const char *path, const void *data,
	       size_t len, unsigned mode, int fd, struct lc_error *err)
{
	struct ssh_transport *t = (struct ssh_transport *)tp;
	int64_t deadline = lc_ssh_deadline_in(t->command_timeout_ms), grace;
	LIBSSH2_SFTP_HANDLE *h = NULL;
	LIBSSH2_SFTP_ATTRIBUTES attrs;
	const char *what = "create";
	struct window win = { fd, NULL, 0, 0, 0 };
	size_t off = 0;
	double opened;
	int local = 0;  /* errno of reading fd */
	int rc, zeros = 0;

	if (t->dead)
		return lc_error_set(err, LC_ECONNECT, "%s: the connection failed earlier",
				    t->name);
	if (!t->sftp) {
		NB_LOOP_PTR(t->sftp, rc, t, deadline, libssh2_sftp_init(t->session));
		if (!t->sftp && *lc_ssh_noise_hint(t))
			return lc_error_set(err, LC_EREMOTE, "%s: ~/.bashrc on the host prints "
					    "output for non-interactive shells: '%s'; SFTP cannot "
					    "start with that (print only in interactive shells: "
					    "case $- in *i*)",
					    t->name, lc_ssh_noise_hint(t));
		if (!t->sftp)
			return lc_ssh_fail(t, t->name, rc, t->command_timeout_ms,
					   "while starting SFTP", err);
	}
	opened = lc_clock_now();
	h = sftp_create(t, path, mode, deadline, &rc);
	if (h) {
		/* one request, one answer: the link's round trip, or more */
		double us = (lc_clock_now() - opened) * 1e6;

		if (!t->rtt_us || us < t->rtt_us)
			t->rtt_us = us < UINT_MAX ? (unsigned)us : UINT_MAX;
	}
	if (!h && sftp_status(t, rc) == LIBSSH2_FX_NO_SUCH_FILE) {
		if ((rc = sftp_mkdirs(t, path, deadline, err)))
			return rc;
		h = sftp_create(t, path, mode, deadline, &rc);
	}
	if (!h)
		return sftp_put_fail(t, rc, what, path, err);

	what = "write";
	while (off < len) {
		size_t share = lc_upload_budget_share(t->uploads, t->rtt_us);
		size_t chunk = len - off < share ? len - off : share;
		const char *p = (const char *)data + off;
		ssize_t n;

		if (fd >= 0) {
			if ((local = window_at(&win, off, chunk, WINDOW_OF(share))))
				goto fail;
			p = win.buf + (off - win.start);
		}
		/* libssh2 queues the whole chunk and returns what the server
		 * acknowledged; called again with the rest, it skips what it
		 * already queued.  0 means it handled another packet. */
		n = libssh2_sftp_write(h, p, chunk);
		if (n > 0)
			off += (size_t)n;
		else if (n < 0 && n != LIBSSH2_ERROR_EAGAIN)
			rc = (int)n;
		else if (n == LIBSSH2_ERROR_EAGAIN || ++zeros > 8) {
			rc = lc_ssh_wait_socket(t, deadline, 0);
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
	free(win.buf);
	t->pub.stats.sftp_files++;
	t->pub.stats.bytes_sent += len;
	return 0;
fail:
	free(win.buf);
	if (local)
		rc = lc_error_set(err, LC_EIO, "%s: reading the local file: %s", path,
				  local == EIO ? "it became shorter" : strerror(local));
	else
		rc = sftp_put_fail(t, rc, what, path, err);
	if (!t->dead) {
		int ignored;
		grace = lc_clock_ms() + GRACE_MS;
		if (h)
			NB_LOOP(ignored, t, grace, libssh2_sftp_close_handle(h));
		NB_LOOP(ignored, t, grace, libssh2_sftp_unlink_ex(t->sftp, path,
								 (unsigned)strlen(path)));
		if (ignored == NB_TIMEOUT || lc_ssh_is_connection_error(ignored))
			t->dead = 1;
	}
	return rc;
}
