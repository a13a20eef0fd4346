/* buf.c - the one growable string. */
#include "buf.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

char lc_buf_empty[1];

static void die_oom(void)
{
	/* The only place that ends the process on behalf of library code:
	 * running out of memory is not an error we can report usefully. */
	static const char msg[] = "labctl: out of memory\n";
	fwrite(msg, 1, sizeof(msg) - 1, stderr);
	abort();
}

void *lc_xmalloc(size_t n)
{
	void *p = malloc(n ? n : 1);
	if (!p)
		die_oom();
	return p;
}

void *lc_xcalloc(size_t n, size_t size)
{
	void *p = calloc(n ? n : 1, size ? size : 1);
	if (!p)
		die_oom();
	return p;
}

void *lc_xrealloc(void *p, size_t n)
{
	void *q = realloc(p, n ? n : 1);
	if (!q)
		die_oom();
	return q;
}

char *lc_xstrdup(const char *s)
{
	return lc_xstrndup(s, strlen(s));
}

char *lc_xstrndup(const char *s, size_t n)
{
	char *p = lc_xmalloc(n + 1);
	memcpy(p, s, n);
	p[n] = '\0';
	return p;
}

char *lc_xasprintf(const char *fmt, ...)
{
	struct lc_buf b = LC_BUF_INIT;
	va_list ap;

	va_start(ap, fmt);
	lc_buf_vaddf(&b, fmt, ap);
	va_end(ap);
	return lc_buf_detach(&b, NULL);
}

void lc_buf_init(struct lc_buf *b)
{
	b->buf = lc_buf_empty;
	b->len = 0;
	b->alloc = 0;
}

void lc_buf_release(struct lc_buf *b)
{
	if (b->alloc)
		free(b->buf);
	lc_buf_init(b);
}

void lc_buf_reset(struct lc_buf *b)
{
	lc_buf_setlen(b, 0);
}

void lc_buf_grow(struct lc_buf *b, size_t extra)
{
	size_t need = b->len + extra + 1;

	if (need < b->len)
		die_oom();
	if (need <= b->alloc)
		return;
	if (!b->alloc)
		b->buf = NULL;
	b->alloc = b->alloc ? b->alloc : 64;
	while (b->alloc < need)
		b->alloc *= 2;
	b->buf = lc_xrealloc(b->buf, b->alloc);
	if (b->len == 0)
		b->buf[0] = '\0';
}

void lc_buf_setlen(struct lc_buf *b, size_t len)
{
	if (!b->alloc) {
		if (len == 0)
			return;
		lc_buf_grow(b, len);
	}
	b->len = len;
	b->buf[len] = '\0';
}

void lc_buf_add(struct lc_buf *b, const void *data, size_t len)
{
	if (!len)
		return;
	lc_buf_grow(b, len);
	memcpy(b->buf + b->len, data, len);
	b->len += len;
	b->buf[b->len] = '\0';
}

void lc_buf_adds(struct lc_buf *b, const char *s)
{
	lc_buf_add(b, s, strlen(s));
}

void lc_buf_addc(struct lc_buf *b, char c)
{
	lc_buf_add(b, &c, 1);
}

void lc_buf_vaddf(struct lc_buf *b, const char *fmt, va_list ap)
{
	va_list cp;
	int n;

	lc_buf_grow(b, 64);
	va_copy(cp, ap);
	n = vsnprintf(b->buf + b->len, b->alloc - b->len, fmt, cp);
	va_end(cp);
	if (n < 0)
		return;
	if ((size_t)n >= b->alloc - b->len) {
		lc_buf_grow(b, (size_t)n);
		va_copy(cp, ap);
		n = vsnprintf(b->buf + b->len, b->alloc - b->len, fmt, cp);
		va_end(cp);
	}
	b->len += (size_t)n;
}

void lc_buf_addf(struct lc_buf *b, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	lc_buf_vaddf(b, fmt, ap);
	va_end(ap);
}

char *lc_buf_detach(struct lc_buf *b, size_t *len)
{
	char *p;

	if (len)
		*len = b->len;
	if (!b->alloc)
		p = lc_xstrdup("");
	else
		p = b->buf;
	lc_buf_init(b);
	return p;
}

void lc_buf_add_shquote(struct lc_buf *b, const char *s)
{
	lc_buf_addc(b, '\'');
	for (; *s; s++) {
		if (*s == '\'')
			lc_buf_adds(b, "'\\''");
		else
			lc_buf_addc(b, *s);
	}
	lc_buf_addc(b, '\'');
}
