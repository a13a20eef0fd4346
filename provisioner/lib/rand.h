/* rand.h - random tokens from the kernel (getrandom). */
#ifndef LC_RAND_H
#define LC_RAND_H

#include <stddef.h>

/* 2 * bytes lowercase hex digits and a NUL in out: a nonce that marks a
 * run's output and files (unique, not secret).  0, or -errno when the
 * kernel has no randomness to give. */
int lc_rand_hex(char *out, size_t bytes);

#endif
