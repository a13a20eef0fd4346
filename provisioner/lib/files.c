/* files.c - whole-file reads, full writes. */
#include "files.h"

#include <errno.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

int lc_file_read(struct lc_buf *out, const char *path, size_t max)
{
	struct stat st;
	int fd, rc = 0;

	lc_buf_reset(out);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	if (fstat(fd, &st) < 0) {
		rc = -errno;
		goto out;
	}
	if (S_ISDIR(st.st_mode)) {
		rc = -EISDIR;
		goto out;
	}
	if (S_ISREG(st.st_mode) && (size_t)st.st_size > max) {
		rc = -EFBIG;
		goto out;
	}
	lc_buf_grow(out, (size_t)st.st_size);
	for (;;) {
		ssize_t n;

		lc_buf_grow(out, 65536);
		n = read(fd, out->buf + out->len, out->alloc - out->len - 1);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			rc = -errno;
			goto out;
		}
		if (n == 0)
			break;
		lc_buf_setlen(out, out->len + (size_t)n);
		if (out->len > max) {
			rc = -EFBIG;
			goto out;
		}
	}
out:
	close(fd);
	if (rc)
		lc_buf_reset(out);
	return rc;
}

int lc_file_write_all(int fd, const void *data, size_t len)
{
	const char *p = data;

	while (len) {
		ssize_t w = write(fd, p, len);

		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0)
			return -errno;
		p += w;
		len -= (size_t)w;
	}
	return 0;
}
