/* ssh_sftp.c - put() for the SSH transport: one SFTP session per
 * connection, opened on first use; missing parent directories are created,
 * the mode is set exactly, a partial file is removed on failure. */
#include "ssh_int.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* What one libssh2_sftp_write call queues: 128 KiB sends an 8 MiB file as
 * fast as 1 MiB does, for an eighth of the memory per connection.  A local
 * file is read through a window of twice that. */
#define SFTP_CHUNK ((size_t)128 << 10)
#define WINDOW (2 * SFTP_CHUNK)

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

/* Reading a local file for put(): win holds file[start, start + have). */
struct window {
	int fd;
	char *buf;
	size_t start, have;
};

/* Make win hold file[off, off + need) (need <= SFTP_CHUNK): keep what it
 * has from off on, read up to WINDOW bytes.  0, or an errno value. */
static int window_at(struct window *w, size_t off, size_t need)
{
	size_t keep;

	if (off + need <= w->start + w->have)
		return 0;
	keep = w->start + w->have > off ? w->start + w->have - off : 0;
	if (!w->buf)
		w->buf = lc_xmalloc(WINDOW);
	memmove(w->buf, w->buf + (off - w->start), keep);
	w->start = off;
	w->have = keep;
	while (w->have < need) {
		ssize_t n = pread(w->fd, w->buf + w->have, WINDOW - w->have,
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
	struct window win = { fd, NULL, 0, 0 };
	size_t off = 0;
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
		const char *p = (const char *)data + off;
		ssize_t n;

		if (fd >= 0) {
			if ((local = window_at(&win, off, chunk)))
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
