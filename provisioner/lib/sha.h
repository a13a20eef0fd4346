/* sha.h - SHA-256 digests as lowercase hex (the only OpenSSL user). */
#ifndef LC_SHA_H
#define LC_SHA_H

#include <stddef.h>

#include "error.h"

#define LC_SHA256_HEX 65  /* 64 hex digits and a NUL */

void lc_sha256_hex(char out[LC_SHA256_HEX], const void *data, size_t len);

/* Streaming: new, update as data arrives, final (frees the context). */
struct lc_sha256;
struct lc_sha256 *lc_sha256_new(void);
void lc_sha256_update(struct lc_sha256 *c, const void *data, size_t len);
void lc_sha256_final(struct lc_sha256 *c, char out[LC_SHA256_HEX]);

/* The digest of the first len bytes of a file, read a buffer at a time
 * (never all in memory).  0, or an errno value (EIO: the file is shorter). */
int lc_sha256_fd(char out[LC_SHA256_HEX], int fd, size_t len);

#endif
