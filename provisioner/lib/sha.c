/* sha.c - SHA-256 digests as lowercase hex. */
#include "sha.h"

#include <errno.h>
#include <openssl/evp.h>
#include <stdlib.h>
#include <unistd.h>

static void to_hex(char out[LC_SHA256_HEX], const unsigned char *md, unsigned int mdlen)
{
	static const char hex[] = "0123456789abcdef";
	unsigned int i;

	for (i = 0; i < mdlen && i < 32; i++) {
		out[2 * i] = hex[md[i] >> 4];
		out[2 * i + 1] = hex[md[i] & 15];
	}
	out[64] = '\0';
}

void lc_sha256_hex(char out[LC_SHA256_HEX], const void *data, size_t len)
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int mdlen = 0;

	if (!EVP_Digest(data, len, md, &mdlen, EVP_sha256(), NULL))
		abort();  /* SHA-256 is always available in libcrypto */
	to_hex(out, md, mdlen);
}

struct lc_sha256 {
	EVP_MD_CTX *ctx;
};

struct lc_sha256 *lc_sha256_new(void)
{
	struct lc_sha256 *c = malloc(sizeof(*c));

	if (!c || !(c->ctx = EVP_MD_CTX_new()) || !EVP_DigestInit_ex(c->ctx, EVP_sha256(), NULL))
		abort();  /* out of memory */
	return c;
}

void lc_sha256_update(struct lc_sha256 *c, const void *data, size_t len)
{
	if (!EVP_DigestUpdate(c->ctx, data, len))
		abort();
}

void lc_sha256_final(struct lc_sha256 *c, char out[LC_SHA256_HEX])
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int mdlen = 0;

	if (!EVP_DigestFinal_ex(c->ctx, md, &mdlen))
		abort();
	to_hex(out, md, mdlen);
	EVP_MD_CTX_free(c->ctx);
	free(c);
}

int lc_sha256_fd(char out[LC_SHA256_HEX], int fd, size_t len)
{
	struct lc_sha256 *c = lc_sha256_new();
	char buf[65536];
	size_t off = 0;

	while (off < len) {
		ssize_t n = pread(fd, buf, len - off < sizeof(buf) ? len - off : sizeof(buf),
				  (off_t)off);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			int e = n < 0 ? errno : EIO;

			lc_sha256_final(c, out);
			return e;
		}
		lc_sha256_update(c, buf, (size_t)n);
		off += (size_t)n;
	}
	lc_sha256_final(c, out);
	return 0;
}
