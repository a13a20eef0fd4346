/* node.c - building, walking and checking lc_node trees (no libyaml here:
 * yamlx.c parses, this file is the plain data structure). */
#include "yamlx.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static struct lc_node *node_new(enum lc_node_kind kind, const char *file, unsigned line,
				unsigned col)
{
	struct lc_node *n = lc_xcalloc(1, sizeof(*n));

	n->kind = kind;
	n->file = file;
	n->line = line;
	n->col = col;
	n->plain = 1;
	return n;
}

struct lc_node *lc_node_new(enum lc_node_kind kind, const char *file,
			    unsigned line, unsigned col)
{
	struct lc_node *n = node_new(kind, file, line, col);

	if (kind == LC_NODE_SCALAR)
		n->str = lc_xstrdup("");
	return n;
}

struct lc_node *lc_node_new_scalar(const char *s, size_t len)
{
	struct lc_node *n = node_new(LC_NODE_SCALAR, NULL, 0, 0);

	n->str = lc_xstrndup(s, len);
	n->len = len;
	return n;
}

struct lc_node *lc_node_dup(const struct lc_node *n)
{
	struct lc_node *c;
	size_t i;

	if (!n)
		return NULL;
	c = lc_node_new(n->kind, n->file, n->line, n->col);
	c->plain = n->plain;
	c->secret = n->secret;
	switch (n->kind) {
	case LC_NODE_SCALAR:
		free(c->str);
		c->str = lc_xstrndup(n->str, n->len);
		c->len = n->len;
		break;
	case LC_NODE_SEQ:
		for (i = 0; i < n->n_items; i++)
			lc_node_seq_add(c, lc_node_dup(n->items[i]));
		break;
	case LC_NODE_MAP:
		/* Keys of n are already unique: append instead of
		 * lc_node_map_set, which would scan (O(n^2) on wide maps). */
		if (n->n_pairs) {
			c->pairs = lc_xcalloc(n->n_pairs, sizeof(*c->pairs));
			c->alloc = n->n_pairs;
		}
		for (i = 0; i < n->n_pairs; i++) {
			c->pairs[i].key = lc_node_dup(n->pairs[i].key);
			c->pairs[i].value = lc_node_dup(n->pairs[i].value);
		}
		c->n_pairs = n->n_pairs;
		break;
	}
	return c;
}

void lc_node_seq_add(struct lc_node *seq, struct lc_node *item)
{
	LC_ALLOC_GROW(seq->items, seq->n_items + 1, seq->alloc);
	seq->items[seq->n_items++] = item;
}

void lc_node_map_set(struct lc_node *map, struct lc_node *key, struct lc_node *value)
{
	size_t i;

	for (i = 0; i < map->n_pairs; i++) {
		if (!strcmp(map->pairs[i].key->str, key->str)) {
			lc_node_free(map->pairs[i].value);
			lc_node_free(key);
			map->pairs[i].value = value;
			return;
		}
	}
	LC_ALLOC_GROW(map->pairs, map->n_pairs + 1, map->alloc);
	map->pairs[map->n_pairs].key = key;
	map->pairs[map->n_pairs].value = value;
	map->n_pairs++;
}

void lc_node_free(struct lc_node *n)
{
	size_t i;

	if (!n)
		return;
	free(n->str);
	for (i = 0; i < n->n_items; i++)
		lc_node_free(n->items[i]);
	free(n->items);
	for (i = 0; i < n->n_pairs; i++) {
		lc_node_free(n->pairs[i].key);
		lc_node_free(n->pairs[i].value);
	}
	free(n->pairs);
	free(n);
}

const struct lc_node *lc_node_get(const struct lc_node *map, const char *key)
{
	size_t i;

	if (!map || map->kind != LC_NODE_MAP)
		return NULL;
	for (i = 0; i < map->n_pairs; i++)
		if (!strcmp(map->pairs[i].key->str, key))
			return map->pairs[i].value;
	return NULL;
}

void lc_node_where(struct lc_buf *out, const struct lc_node *n)
{
	if (!n || !n->file) {
		lc_buf_adds(out, "(built-in)");
		return;
	}
	if (n->line)
		lc_buf_addf(out, "%s:%u:%u", n->file, n->line, n->col);
	else
		lc_buf_adds(out, n->file);
}

int lc_node_verror(struct lc_error *err, int code, const struct lc_node *n,
		   const char *fmt, va_list ap)
{
	struct lc_buf b = LC_BUF_INIT;

	lc_node_where(&b, n);
	lc_buf_adds(&b, ": ");
	lc_buf_vaddf(&b, fmt, ap);
	lc_error_set(err, code, "%s", b.buf);
	lc_buf_release(&b);
	return code;
}

int lc_node_error(struct lc_error *err, int code, const struct lc_node *n,
		  const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	lc_node_verror(err, code, n, fmt, ap);
	va_end(ap);
	return code;
}

const char *lc_node_kind_name(enum lc_node_kind kind)
{
	switch (kind) {
	case LC_NODE_SCALAR: return "a scalar";
	case LC_NODE_SEQ: return "a list";
	case LC_NODE_MAP: return "a mapping";
	}
	return "?";
}

/* What a message may say about n: its text, unless it is secret. */
static void add_found(struct lc_buf *b, const struct lc_node *n)
{
	if (n->kind != LC_NODE_SCALAR)
		lc_buf_adds(b, lc_node_kind_name(n->kind));
	else if (n->secret)
		lc_buf_adds(b, "a secret value");
	else if (!n->len)
		lc_buf_adds(b, n->plain ? "an empty value" : "an empty string");
	else
		lc_buf_addf(b, "'%s'%s", n->str, n->plain ? "" : " (quoted)");
}

int lc_node_expect(const struct lc_node *n, enum lc_node_kind kind,
		   const char *what, struct lc_error *err)
{
	if (!n)
		return lc_error_set(err, LC_EPARSE, "missing %s (expected %s)", what,
				    lc_node_kind_name(kind));
	if (n->kind == kind)
		return 0;
	return lc_node_error(err, LC_EPARSE, n, "expected %s for %s, found %s",
			     lc_node_kind_name(kind), what, lc_node_kind_name(n->kind));
}

int lc_node_check_keys(const struct lc_node *map, const char *const *allowed,
		       const char *what, struct lc_error *err)
{
	size_t i, j;

	for (i = 0; i < map->n_pairs; i++) {
		const char *k = map->pairs[i].key->str;
		int ok = 0;

		for (j = 0; allowed[j]; j++)
			if (!strcmp(allowed[j], k))
				ok = 1;
		if (!ok) {
			struct lc_buf list = LC_BUF_INIT;
			int rc;

			for (j = 0; allowed[j]; j++)
				lc_buf_addf(&list, "%s%s", j ? ", " : "", allowed[j]);
			rc = lc_node_error(err, LC_EPARSE, map->pairs[i].key,
					   "unknown key '%s' in %s (expected one of: %s)",
					   k, what, list.buf);
			lc_buf_release(&list);
			return rc;
		}
	}
	return 0;
}

int lc_node_int(long *out, const struct lc_node *n, long min, long max,
		struct lc_error *err)
{
	struct lc_buf found = LC_BUF_INIT;
	char *end = NULL;
	long v = 0;
	int rc;

	if (n->kind == LC_NODE_SCALAR && n->len &&
	    !isspace((unsigned char)n->str[0])) {
		errno = 0;
		v = strtol(n->str, &end, 0);
		/* end must reach len: a quoted "5\0x" is not 5. */
		if (!errno && end == n->str + n->len && v >= min && v <= max) {
			*out = v;
			return 0;
		}
	}
	add_found(&found, n);
	rc = lc_node_error(err, LC_EPARSE, n,
			   "expected an integer from %ld to %ld, found %s",
			   min, max, found.buf);
	lc_buf_release(&found);
	return rc;
}

int lc_node_bool(int *out, const struct lc_node *n, struct lc_error *err)
{
	static const char *const yes[] = { "true", "True", "TRUE", "yes", "Yes", "on", NULL };
	static const char *const no[] = { "false", "False", "FALSE", "no", "No", "off", NULL };
	struct lc_buf found = LC_BUF_INIT;
	size_t i;
	int rc;

	if (n->kind == LC_NODE_SCALAR && n->plain) {
		for (i = 0; yes[i]; i++)
			if (!strcmp(n->str, yes[i])) {
				*out = 1;
				return 0;
			}
		for (i = 0; no[i]; i++)
			if (!strcmp(n->str, no[i])) {
				*out = 0;
				return 0;
			}
	}
	add_found(&found, n);
	rc = lc_node_error(err, LC_EPARSE, n, "expected true or false, found %s",
			   found.buf);
	lc_buf_release(&found);
	return rc;
}
