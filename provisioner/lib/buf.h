/* buf.h - the one growable string: never NULL after init, always
 * NUL-terminated, binary safe (len may include NUL bytes). */
#ifndef LC_BUF_H
#define LC_BUF_H

#include <stddef.h>
#include <stdarg.h>

struct lc_buf {
	char *buf;
	size_t len;
	size_t alloc;
};

extern char lc_buf_empty[];
#define LC_BUF_INIT { lc_buf_empty, 0, 0 }

void lc_buf_init(struct lc_buf *b);
void lc_buf_release(struct lc_buf *b);
void lc_buf_reset(struct lc_buf *b);
void lc_buf_grow(struct lc_buf *b, size_t extra);
void lc_buf_add(struct lc_buf *b, const void *data, size_t len);
void lc_buf_adds(struct lc_buf *b, const char *s);
void lc_buf_addc(struct lc_buf *b, char c);
void lc_buf_addf(struct lc_buf *b, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
void lc_buf_vaddf(struct lc_buf *b, const char *fmt, va_list ap);
void lc_buf_setlen(struct lc_buf *b, size_t len);
/* Hand the string over to the caller (malloc'd), leave b empty. */
char *lc_buf_detach(struct lc_buf *b, size_t *len);
/* Append s quoted for a POSIX shell: 'it'\''s' - safe for any bytes. */
void lc_buf_add_shquote(struct lc_buf *b, const char *s);

/* Out of memory is fatal; these never return NULL. */
void *lc_xmalloc(size_t n);
void *lc_xcalloc(size_t n, size_t size);
void *lc_xrealloc(void *p, size_t n);
char *lc_xstrdup(const char *s);
char *lc_xstrndup(const char *s, size_t n);
char *lc_xasprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Growable array of pointers-sized items: ALLOC_GROW(ptr, nr + 1, alloc). */
#define LC_ALLOC_GROW(x, nr, alloc)                                           \
	do {                                                                  \
		if ((nr) > (alloc)) {                                         \
			(alloc) = (alloc) ? (alloc) * 2 : 8;                  \
			if ((alloc) < (nr))                                   \
				(alloc) = (nr);                               \
			(x) = lc_xrealloc((x), (alloc) * sizeof(*(x)));       \
		}                                                             \
	} while (0)

#endif
