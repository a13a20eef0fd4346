/* rand.c - random tokens. */
#include "rand.h"

#include <errno.h>
#include <sys/random.h>

int lc_rand_hex(char *out, size_t bytes)
{
	static const char hex[] = "0123456789abcdef";
	unsigned char r[64];
	size_t got = 0, i;

	if (bytes > sizeof(r))
		return -EINVAL;
	while (got < bytes) {
		ssize_t n = getrandom(r + got, bytes - got, 0);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		got += (size_t)n;
	}
	for (i = 0; i < bytes; i++) {
		out[2 * i] = hex[r[i] >> 4];
		out[2 * i + 1] = hex[r[i] & 15];
	}
	out[2 * bytes] = '\0';
	return 0;
}
