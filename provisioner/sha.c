/* sha.c - SHA-256 digests as lowercase hex. */
#include "sha.h"

#include <openssl/evp.h>
#include <stdlib.h>

void lc_sha256_hex(char out[LC_SHA256_HEX], const void *data, size_t len)
{
	static const char hex[] = "0123456789abcdef";
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int mdlen = 0, i;

	if (!EVP_Digest(data, len, md, &mdlen, EVP_sha256(), NULL))
		abort();  /* SHA-256 is always available in libcrypto */
	for (i = 0; i < mdlen && i < 32; i++) {
		out[2 * i] = hex[md[i] >> 4];
		out[2 * i + 1] = hex[md[i] & 15];
	}
	out[64] = '\0';
}
