/* diff.c - a pure, line-based unified diff.
 *
 * The steps:
 *   1. equal texts: nothing to do;
 *   2. set aside the common leading and trailing lines (byte for byte, so
 *      they are as many bytes on both sides);
 *   3. number each line of the rest by its content (a hash table, a hash
 *      first and the bytes when hashes agree), so the search compares ints;
 *   4. Myers' O(ND) search in linear space, as GNU diffseq.h does it: find
 *      the middle snake of a shortest edit script, recurse on both halves,
 *      marking deleted lines of a and inserted lines of b;
 *   5. turn the marks into changes (a0, ndel, b0, nins) and print them,
 *      grouped into hunks, reading lines again straight from the texts.
 * Steps 3 and 4 are skipped (one replaced block) when the rest is too long,
 * and the search gives up on whatever is left when its budget runs out. */
#include "diff.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* A run of changed lines: a[a0, a0 + adel) became b[b0, b0 + bins). */
struct change {
	size_t a0, adel;
	size_t b0, bins;
};

struct changes {
	struct change *v;
	size_t nr, alloc;
};

/* One line: p[0..len), with its '\n' if it has one. */
struct span {
	const char *p;
	size_t len;
};

/* Lines numbered by content: equal lines, equal class. */
struct classifier {
	struct slot {
		uint64_t hash;
		size_t cls;     /* class + 1; 0 is an empty slot */
	} *slots;
	size_t mask;
	struct span *reps;      /* the first line seen of each class */
	size_t nr;
};

struct myers {
	const size_t *x, *y;    /* classes of the lines of a and b */
	ptrdiff_t *fd, *bd;     /* furthest x on each diagonal, both ways */
	char *del, *ins;        /* the edit script: a lines gone, b lines new */
	long budget;            /* steps left before giving up */
};

/* Reads lines one after the other, counting them. */
struct cursor {
	const char *p;
	size_t len, off, line;
};

/* ---- lines ------------------------------------------------------------- */

/* Length of the line starting at p[off] (through its '\n', if any). */
static size_t line_len(const char *p, size_t len, size_t off)
{
	const char *nl = memchr(p + off, '\n', len - off);

	return nl ? (size_t)(nl - (p + off)) + 1 : len - off;
}

/* Start of the last line of p[off..end), end > off and at a line end. */
static size_t last_line_start(const char *p, size_t off, size_t end)
{
	size_t i = end - 1;

	while (i > off && p[i - 1] != '\n')
		i--;
	return i;
}

static size_t count_lines(const char *p, size_t len)
{
	size_t n = 0, off = 0;

	while (off < len) {
		off += line_len(p, len, off);
		n++;
	}
	return n;
}

static uint64_t hash_line(const char *p, size_t len)
{
	uint64_t h = 0xcbf29ce484222325ULL;     /* FNV-1a */
	size_t i;

	for (i = 0; i < len; i++) {
		h ^= (unsigned char)p[i];
		h *= 0x100000001b3ULL;
	}
	return h ^ (h >> 29);
}

/* ---- step 3: classes --------------------------------------------------- */

static void classifier_init(struct classifier *c, size_t nlines)
{
	size_t size = 16;

	while (size < 2 * nlines)
		size *= 2;
	c->slots = lc_xcalloc(size, sizeof(*c->slots));
	c->mask = size - 1;
	c->reps = lc_xmalloc((nlines ? nlines : 1) * sizeof(*c->reps));
	c->nr = 0;
}

static void classifier_release(struct classifier *c)
{
	free(c->slots);
	free(c->reps);
}

static size_t classify(struct classifier *c, const char *p, size_t len)
{
	uint64_t h = hash_line(p, len);
	size_t i = (size_t)h & c->mask;
	struct slot *s;

	for (;; i = (i + 1) & c->mask) {
		s = &c->slots[i];
		if (!s->cls)
			break;
		if (s->hash == h && c->reps[s->cls - 1].len == len &&
		    memcmp(c->reps[s->cls - 1].p, p, len) == 0)
			return s->cls - 1;
	}
	c->reps[c->nr].p = p;
	c->reps[c->nr].len = len;
	s->hash = h;
	s->cls = ++c->nr;
	return c->nr - 1;
}

/* Classes of the n lines of p[0..len) into ids[0..n). */
static void classify_all(struct classifier *c, size_t *ids, const char *p, size_t len)
{
	size_t off = 0, n = 0, l;

	while (off < len) {
		l = line_len(p, len, off);
		ids[n++] = classify(c, p + off, l);
		off += l;
	}
}

/* ---- step 4: Myers ----------------------------------------------------- */

/* Find the middle snake of x[xoff, xlim) -> y[yoff, ylim) (both not
 * empty, first and last lines different): a point (*xmid, *ymid) on a
 * shortest edit script.  Returns -1 when the budget ran out. */
static int diag(struct myers *m, ptrdiff_t xoff, ptrdiff_t xlim, ptrdiff_t yoff,
		ptrdiff_t ylim, ptrdiff_t *xmid, ptrdiff_t *ymid)
{
	ptrdiff_t *const fd = m->fd, *const bd = m->bd;
	const size_t *const x = m->x, *const y = m->y;
	const ptrdiff_t dmin = xoff - ylim, dmax = xlim - yoff;
	const ptrdiff_t fmid = xoff - yoff, bmid = xlim - ylim;
	ptrdiff_t fmin = fmid, fmax = fmid, bmin = bmid, bmax = bmid;
	const int odd = (int)((fmid - bmid) & 1);
	ptrdiff_t d, px, py, x0, tlo, thi;

	fd[fmid] = xoff;
	bd[bmid] = xlim;
	for (;;) {
		/* One more edit step down and right from the top left. */
		if (fmin > dmin)
			fd[--fmin - 1] = -1;
		else
			++fmin;
		if (fmax < dmax)
			fd[++fmax + 1] = -1;
		else
			--fmax;
		m->budget -= (long)((fmax - fmin) / 2 + 1);
		for (d = fmax; d >= fmin; d -= 2) {
			tlo = fd[d - 1];
			thi = fd[d + 1];
			x0 = tlo < thi ? thi : tlo + 1;
			for (px = x0, py = x0 - d;
			     px < xlim && py < ylim && x[px] == y[py]; px++, py++)
				;
			m->budget -= (long)(px - x0);
			fd[d] = px;
			if (odd && bmin <= d && d <= bmax && bd[d] <= px) {
				*xmid = px;
				*ymid = py;
				return 0;
			}
		}

		/* And one up and left from the bottom right. */
		if (bmin > dmin)
			bd[--bmin - 1] = PTRDIFF_MAX;
		else
			++bmin;
		if (bmax < dmax)
			bd[++bmax + 1] = PTRDIFF_MAX;
		else
			--bmax;
		m->budget -= (long)((bmax - bmin) / 2 + 1);
		for (d = bmax; d >= bmin; d -= 2) {
			tlo = bd[d - 1];
			thi = bd[d + 1];
			x0 = tlo < thi ? tlo : thi - 1;
			for (px = x0, py = x0 - d;
			     xoff < px && yoff < py && x[px - 1] == y[py - 1];
			     px--, py--)
				;
			m->budget -= (long)(x0 - px);
			bd[d] = px;
			if (!odd && fmin <= d && d <= fmax && px <= fd[d]) {
				*xmid = px;
				*ymid = py;
				return 0;
			}
		}
		if (m->budget < 0)
			return -1;
	}
}

/* Mark a shortest edit script of x[xoff, xlim) -> y[yoff, ylim). */
static void compareseq(struct myers *m, ptrdiff_t xoff, ptrdiff_t xlim,
		       ptrdiff_t yoff, ptrdiff_t ylim)
{
	ptrdiff_t xmid, ymid;

	while (xoff < xlim && yoff < ylim && m->x[xoff] == m->y[yoff]) {
		xoff++;
		yoff++;
	}
	while (xoff < xlim && yoff < ylim && m->x[xlim - 1] == m->y[ylim - 1]) {
		xlim--;
		ylim--;
	}
	if (xoff == xlim || yoff == ylim ||
	    m->budget < 0 || diag(m, xoff, xlim, yoff, ylim, &xmid, &ymid) < 0) {
		/* Simple, or too costly: all of x out, all of y in. */
		memset(m->del + xoff, 1, (size_t)(xlim - xoff));
		memset(m->ins + yoff, 1, (size_t)(ylim - yoff));
		return;
	}
	compareseq(m, xoff, xmid, yoff, ymid);
	compareseq(m, xmid, xlim, ymid, ylim);
}

static void add_change(struct changes *ch, size_t a0, size_t adel, size_t b0,
		       size_t bins)
{
	LC_ALLOC_GROW(ch->v, ch->nr + 1, ch->alloc);
	ch->v[ch->nr].a0 = a0;
	ch->v[ch->nr].adel = adel;
	ch->v[ch->nr].b0 = b0;
	ch->v[ch->nr].bins = bins;
	ch->nr++;
}

/* The changes from a[0..alen) (na lines) to b[0..blen) (nb lines), both
 * starting at line `first` of their files. */
static void myers_changes(struct changes *ch, const char *a, size_t alen, size_t na,
			  const char *b, size_t blen, size_t nb, size_t first)
{
	struct classifier c;
	struct myers m;
	size_t *ids = lc_xmalloc((na + nb) * sizeof(*ids));
	ptrdiff_t *fd = lc_xmalloc((na + nb + 3) * sizeof(*fd));
	ptrdiff_t *bd = lc_xmalloc((na + nb + 3) * sizeof(*bd));
	size_t i = 0, j = 0, i0, j0;

	classifier_init(&c, na + nb);
	classify_all(&c, ids, a, alen);
	classify_all(&c, ids + na, b, blen);
	classifier_release(&c);

	m.x = ids;
	m.y = ids + na;
	m.fd = fd + nb + 1;     /* diagonals run from -nb - 1 to na + 1 */
	m.bd = bd + nb + 1;
	m.del = lc_xcalloc(na + nb, 1);
	m.ins = m.del + na;
	m.budget = LC_DIFF_MAX_COST;
	compareseq(&m, 0, (ptrdiff_t)na, 0, (ptrdiff_t)nb);

	while (i < na || j < nb) {
		if ((i >= na || !m.del[i]) && (j >= nb || !m.ins[j])) {
			i++;
			j++;
			continue;
		}
		i0 = i;
		j0 = j;
		while (i < na && m.del[i])
			i++;
		while (j < nb && m.ins[j])
			j++;
		add_change(ch, first + i0, i - i0, first + j0, j - j0);
	}
	free(m.del);
	free(bd);
	free(fd);
	free(ids);
}

/* ---- step 5: output ---------------------------------------------------- */

static void cursor_next(struct cursor *c, const char **s, size_t *n)
{
	*s = c->p + c->off;
	*n = c->off < c->len ? line_len(c->p, c->len, c->off) : 0;
	c->off += *n;
	c->line++;
}

static void cursor_seek(struct cursor *c, size_t line)
{
	const char *s;
	size_t n;

	while (c->line < line)
		cursor_next(c, &s, &n);
}

static void emit_line(struct lc_buf *out, char prefix, struct cursor *c)
{
	const char *s;
	size_t n;

	cursor_next(c, &s, &n);
	lc_buf_addc(out, prefix);
	lc_buf_add(out, s, n);
	if (n == 0 || s[n - 1] != '\n')
		lc_buf_adds(out, "\n\\ No newline at end of file\n");
}

/* "l,s" as diff -u writes it: an empty range names the line before it. */
static void add_range(struct lc_buf *out, size_t start, size_t count)
{
	if (count == 0)
		lc_buf_addf(out, "%zu,0", start);
	else if (count == 1)
		lc_buf_addf(out, "%zu", start + 1);
	else
		lc_buf_addf(out, "%zu,%zu", start + 1, count);
}

static size_t min_size(size_t x, size_t y)
{
	return x < y ? x : y;
}

static void emit_hunks(struct lc_buf *out, struct cursor *ca, struct cursor *cb,
		       size_t na, size_t nb, const struct changes *ch, size_t ctx)
{
	size_t k = 0, first, last, lead, trail, as, bs, ae, be, i;
	const struct change *c;

	while (k < ch->nr) {
		first = last = k;
		while (last + 1 < ch->nr &&
		       ch->v[last + 1].a0 - (ch->v[last].a0 + ch->v[last].adel) <= 2 * ctx)
			last++;
		c = &ch->v[first];
		lead = min_size(ctx, first ? c->a0 - (c[-1].a0 + c[-1].adel) : c->a0);
		as = c->a0 - lead;
		bs = c->b0 - lead;
		c = &ch->v[last];
		ae = c->a0 + c->adel;
		be = c->b0 + c->bins;
		trail = last + 1 < ch->nr ? ch->v[last + 1].a0 - ae : na - ae;
		trail = min_size(min_size(ctx, trail), nb - be);
		ae += trail;
		be += trail;

		lc_buf_adds(out, "@@ -");
		add_range(out, as, ae - as);
		lc_buf_adds(out, " +");
		add_range(out, bs, be - bs);
		lc_buf_adds(out, " @@\n");

		cursor_seek(ca, as);
		cursor_seek(cb, bs);
		for (k = first; k <= last; k++) {
			c = &ch->v[k];
			while (ca->line < c->a0) {
				emit_line(out, ' ', ca);
				cursor_seek(cb, cb->line + 1);
			}
			for (i = 0; i < c->adel; i++)
				emit_line(out, '-', ca);
			for (i = 0; i < c->bins; i++)
				emit_line(out, '+', cb);
		}
		for (i = 0; i < trail; i++) {
			emit_line(out, ' ', ca);
			cursor_seek(cb, cb->line + 1);
		}
	}
}

/* ---- the API ----------------------------------------------------------- */

int lc_diff_unified(struct lc_buf *out, const char *a, size_t alen,
		    const char *b, size_t blen, const char *label_a,
		    const char *label_b, int context)
{
	struct changes ch = { NULL, 0, 0 };
	struct cursor ca, cb;
	size_t ctx = context < 0 ? LC_DIFF_CONTEXT_DEFAULT : (size_t)context;
	size_t pre = 0, npre = 0, ea, eb, nsuf = 0, sa, sb, l, ma, mb;

	if (alen == blen && (alen == 0 || memcmp(a, b, alen) == 0))
		return 0;
	if (!a)
		a = "";
	if (!b)
		b = "";

	/* Common leading lines: the same bytes, so `pre` holds for both. */
	while (pre < alen && pre < blen) {
		l = line_len(a, alen, pre);
		if (l != line_len(b, blen, pre) || memcmp(a + pre, b + pre, l) != 0)
			break;
		pre += l;
		npre++;
	}
	/* Common trailing lines, not reaching into the leading ones. */
	ea = alen;
	eb = blen;
	while (ea > pre && eb > pre) {
		sa = last_line_start(a, pre, ea);
		sb = last_line_start(b, pre, eb);
		if (ea - sa != eb - sb || memcmp(a + sa, b + sb, ea - sa) != 0)
			break;
		ea = sa;
		eb = sb;
		nsuf++;
	}

	ma = count_lines(a + pre, ea - pre);
	mb = count_lines(b + pre, eb - pre);
	if (ma == 0 || mb == 0 || ma > LC_DIFF_MAX_LINES || mb > LC_DIFF_MAX_LINES)
		add_change(&ch, npre, ma, npre, mb);
	else
		myers_changes(&ch, a + pre, ea - pre, ma, b + pre, eb - pre, mb, npre);

	lc_buf_adds(out, "--- ");
	lc_buf_adds(out, label_a ? label_a : "a");
	lc_buf_adds(out, "\n+++ ");
	lc_buf_adds(out, label_b ? label_b : "b");
	lc_buf_addc(out, '\n');
	ca.p = a;
	ca.len = alen;
	cb.p = b;
	cb.len = blen;
	ca.off = cb.off = ca.line = cb.line = 0;
	emit_hunks(out, &ca, &cb, npre + ma + nsuf, npre + mb + nsuf, &ch, ctx);
	free(ch.v);
	return 1;
}

/* Length of the valid UTF-8 sequence at p[0..len), 0 if invalid. */
static size_t utf8_seq(const unsigned char *p, size_t len)
{
	unsigned char c = p[0], lo = 0x80, hi = 0xbf;
	size_t n, i;

	if (c < 0x80)
		return 1;
	if (c >= 0xc2 && c <= 0xdf)
		n = 2;
	else if (c >= 0xe0 && c <= 0xef)
		n = 3;
	else if (c >= 0xf0 && c <= 0xf4)
		n = 4;
	else
		return 0;               /* continuation, C0/C1 overlong, > F4 */
	if (c == 0xe0)
		lo = 0xa0;              /* overlong */
	else if (c == 0xed)
		hi = 0x9f;              /* surrogates */
	else if (c == 0xf0)
		lo = 0x90;              /* overlong */
	else if (c == 0xf4)
		hi = 0x8f;              /* past U+10FFFF */
	if (len < n || p[1] < lo || p[1] > hi)
		return 0;
	for (i = 2; i < n; i++)
		if (p[i] < 0x80 || p[i] > 0xbf)
			return 0;
	return n;
}

int lc_diff_is_binary(const char *data, size_t len)
{
	const unsigned char *p = (const unsigned char *)data;
	size_t off = 0, n;

	if (len && memchr(data, '\0', min_size(len, LC_DIFF_BINARY_SCAN)))
		return 1;
	while (off < len) {
		n = utf8_seq(p + off, len - off);
		if (!n)
			return 1;
		off += n;
	}
	return 0;
}
