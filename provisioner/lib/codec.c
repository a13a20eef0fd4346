/* codec.c - base64 decoding and whole-file reads. */
#include "codec.h"

#include <errno.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

static int b64val(unsigned char c)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	if (c == '+')
		return 62;
	if (c == '/')
		return 63;
	return -1;
}

int lc_base64_decode(struct lc_buf *out, const char *in, size_t len)
{
	unsigned acc = 0;
	int bits = 0;
	size_t i;

	lc_buf_grow(out, len / 4 * 3 + 3);
	for (i = 0; i < len; i++) {
		unsigned char c = (unsigned char)in[i];
		int v;

		if (c == '=' )
			break;
		if (c == '\n' || c == '\r' || c == ' ' || c == '\t')
			continue;
		v = b64val(c);
		if (v < 0)
			return -1;
		acc = (acc << 6) | (unsigned)v;
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			lc_buf_addc(out, (char)((acc >> bits) & 0xff));
		}
	}
	return 0;
}

int lc_read_file(struct lc_buf *out, const char *path, size_t max)
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
	if (!S_ISREG(st.st_mode)) {
		rc = -EISDIR;
		goto out;
	}
	if ((size_t)st.st_size > max) {
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
		out->len += (size_t)n;
		if (out->len > max) {
			rc = -EFBIG;
			goto out;
		}
	}
	out->buf[out->len] = '\0';
out:
	close(fd);
	return rc;
}
