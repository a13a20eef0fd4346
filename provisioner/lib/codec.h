/* codec.h - small encodings used on the wire to the host shell. */
#ifndef LC_CODEC_H
#define LC_CODEC_H

#include <stddef.h>

#include "buf.h"

/* Decode standard base64 (whitespace ignored) and append to out.
 * Returns 0, or -1 on a character outside the alphabet. */
int lc_base64_decode(struct lc_buf *out, const char *in, size_t len);

/* Read a whole local file into out (reset first). Returns 0 or -errno. */
int lc_read_file(struct lc_buf *out, const char *path, size_t max);

#endif
