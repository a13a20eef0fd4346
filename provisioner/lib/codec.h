/* codec.h - base64 (OpenSSL's EVP_EncodeBlock / EVP_DecodeBlock). */
#ifndef LC_CODEC_H
#define LC_CODEC_H

#include <stddef.h>

#include "buf.h"

/* Append the standard base64 of data to out; pad 0 leaves out the
 * trailing '=' (as OpenSSH's fingerprints do). */
void lc_base64_encode(struct lc_buf *out, const void *data, size_t len, int pad);

/* Decode standard base64 (white space ignored; padding optional) and
 * append to out.  Returns 0, or -1 on a character outside the alphabet
 * or a truncated group; out is then unchanged. */
int lc_base64_decode(struct lc_buf *out, const char *in, size_t len);

#endif
