/* files.h - the one way to read a whole local file. */
#ifndef LC_FILES_H
#define LC_FILES_H

#include <stddef.h>

#include "buf.h"

/* Read the regular file path into out (reset first, NUL-terminated).
 * Returns 0 or -errno: -EFBIG when it is larger than max bytes, -EISDIR
 * for a directory.  /proc files and /dev/null are read as they are. */
int lc_file_read(struct lc_buf *out, const char *path, size_t max);

/* Write all of p to fd, resumed after signals.  0 or -errno. */
int lc_file_write_all(int fd, const void *p, size_t len);

#endif
