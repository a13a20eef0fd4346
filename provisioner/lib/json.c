/* json.c - JSON through libjansson, to and from lc_node trees. */
#include "json.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

/* ---- numbers as text ---------------------------------------------------- */

/* The fewest significant digits (1..17) that read back as v. */
static int shortest_digits(double v)
{
	char buf[40];
	int p;

	for (p = 1; p < 17; p++) {
		snprintf(buf, sizeof(buf), "%.*g", p, v);
		if (strtod(buf, NULL) == v)
			return p;
	}
	return 17;
}

/* The digits %g needs for v: the shortest that read back, and enough that
 * a number >= 1 is not written with an exponent. */
static int real_digits(double v)
{
	int p = shortest_digits(v), e;

	if (fabs(v) >= 1) {
		e = (int)floor(log10(fabs(v))) + 1;
		if (e > p)
			p = e > 17 ? 17 : e;
	}
	return p;
}

/* A real as text that stays a real: 1000.0, not 1000. */
static struct lc_node *number_node(double v)
{
	char buf[48];
	int n = snprintf(buf, sizeof(buf) - 2, "%.*g", real_digits(v), v);

	if (!strpbrk(buf, ".eE"))
		memcpy(buf + n, ".0", 3);
	return lc_node_new_scalar(buf, strlen(buf));
}

/* ---- reading ------------------------------------------------------------ */

struct reader {
	const char *file;
	const struct lc_json_limits *lim;
	size_t nodes;
	struct lc_error *err;
};

static int too_many(struct reader *rd, unsigned depth)
{
	if (depth > rd->lim->max_depth)
		return lc_error_set(rd->err, LC_EPARSE, "%s: nested too deeply (more than %u levels)",
				    rd->file, rd->lim->max_depth);
	if (++rd->nodes > rd->lim->max_nodes)
		return lc_error_set(rd->err, LC_EPARSE, "%s: more than %zu values", rd->file,
				    rd->lim->max_nodes);
	return 0;
}

static int convert(struct reader *rd, const json_t *j, unsigned depth, struct lc_node **out)
{
	struct lc_node *n = NULL;
	int rc;

	*out = NULL;
	if ((rc = too_many(rd, depth)))
		return rc;
	switch (json_typeof(j)) {
	case JSON_OBJECT: {
		const char *key;
		json_t *v;
		size_t i = 0;

		n = lc_node_new(LC_NODE_MAP, rd->file, 0, 0);
		if (json_object_size(j)) {
			n->pairs = lc_xcalloc(json_object_size(j), sizeof(*n->pairs));
			n->alloc = json_object_size(j);
		}
		/* jansson refused duplicate keys: append, in document order */
		json_object_foreach((json_t *)j, key, v) {
			struct lc_node *k = lc_node_new_scalar(key, strlen(key));

			k->file = rd->file;
			k->plain = 0;
			n->pairs[i].key = k;
			n->n_pairs = ++i;
			if ((rc = convert(rd, v, depth + 1, &n->pairs[i - 1].value)))
				goto fail;
		}
		break;
	}
	case JSON_ARRAY: {
		size_t i;

		n = lc_node_new(LC_NODE_SEQ, rd->file, 0, 0);
		if (json_array_size(j)) {
			n->items = lc_xcalloc(json_array_size(j), sizeof(*n->items));
			n->alloc = json_array_size(j);
		}
		for (i = 0; i < json_array_size(j); i++) {
			struct lc_node *item;

			if ((rc = convert(rd, json_array_get(j, i), depth + 1, &item)))
				goto fail;
			lc_node_seq_add(n, item);
		}
		break;
	}
	case JSON_STRING:
		n = lc_node_new_scalar(json_string_value(j), json_string_length(j));
		n->plain = 0;
		break;
	case JSON_INTEGER: {
		char buf[32];

		snprintf(buf, sizeof(buf), "%" JSON_INTEGER_FORMAT, json_integer_value(j));
		n = lc_node_new_scalar(buf, strlen(buf));
		break;
	}
	case JSON_REAL:
		n = number_node(json_real_value(j));
		break;
	case JSON_TRUE:
		n = lc_node_new_scalar("true", 4);
		break;
	case JSON_FALSE:
		n = lc_node_new_scalar("false", 5);
		break;
	case JSON_NULL:
		n = lc_node_new_scalar("null", 4);
		break;
	}
	n->file = rd->file;
	*out = n;
	return 0;
fail:
	lc_node_free(n);
	return rc;
}

int lc_json_parse(struct lc_doc *out, const char *name, const char *text, size_t len,
		  const struct lc_json_limits *limits, struct lc_error *err)
{
	static const struct lc_json_limits defaults = LC_JSON_LIMITS_DEFAULT;
	struct reader rd;
	json_error_t je;
	json_t *j;
	char *file = lc_xstrdup(name ? name : "(json)");
	struct lc_node *root = NULL;
	int rc;

	out->file = NULL;
	out->root = NULL;
	rd.file = file;
	rd.lim = limits ? limits : &defaults;
	rd.nodes = 0;
	rd.err = err;
	if (len > rd.lim->max_bytes) {
		rc = lc_error_set(err, LC_EPARSE, "%s: %zu bytes, more than the %zu allowed", file,
				  len, rd.lim->max_bytes);
		goto fail;
	}
	j = json_loadb(text, len, JSON_DECODE_ANY | JSON_REJECT_DUPLICATES | JSON_ALLOW_NUL, &je);
	if (!j) {
		rc = lc_error_set(err, LC_EPARSE, "%s:%d:%d: %s", file, je.line > 0 ? je.line : 1,
				  je.column > 0 ? je.column : 1, je.text);
		goto fail;
	}
	rc = convert(&rd, j, 1, &root);
	json_decref(j);
	if (rc)
		goto fail;
	out->file = file;
	out->root = root;
	return 0;
fail:
	free(file);
	return rc;
}

/* ---- types -------------------------------------------------------------- */

int lc_json_is_number(const char *s)
{
	if (*s == '-')
		s++;
	if (*s == '0')
		s++;
	else if (*s >= '1' && *s <= '9')
		while (*s >= '0' && *s <= '9')
			s++;
	else
		return 0;
	if (*s == '.') {
		s++;
		if (*s < '0' || *s > '9')
			return 0;
		while (*s >= '0' && *s <= '9')
			s++;
	}
	if (*s == 'e' || *s == 'E') {
		s++;
		if (*s == '+' || *s == '-')
			s++;
		if (*s < '0' || *s > '9')
			return 0;
		while (*s >= '0' && *s <= '9')
			s++;
	}
	return *s == '\0';
}

static int is_word(const char *s, const char *const *words)
{
	size_t i;

	for (i = 0; words[i]; i++)
		if (!strcmp(s, words[i]))
			return 1;
	return 0;
}

enum lc_json_type lc_json_type(const struct lc_node *n)
{
	static const char *const nulls[] = { "null", "Null", "NULL", "~", "", NULL };
	static const char *const bools[] = { "true", "True", "TRUE", "false", "False", "FALSE",
		NULL };

	if (!n)
		return LC_JSON_NULL;
	if (n->kind == LC_NODE_MAP)
		return LC_JSON_OBJECT;
	if (n->kind == LC_NODE_SEQ)
		return LC_JSON_ARRAY;
	if (!n->plain || strlen(n->str) != n->len)
		return LC_JSON_STRING;
	if (is_word(n->str, nulls))
		return LC_JSON_NULL;
	if (is_word(n->str, bools))
		return LC_JSON_BOOL;
	if (lc_json_is_number(n->str))
		return LC_JSON_NUMBER;
	return LC_JSON_STRING;
}

/* ---- writing ------------------------------------------------------------ */

/* s as UTF-8: each byte that does not start a well-formed sequence (and
 * each surrogate) becomes U+FFFD.  NULL when s is valid as it is. */
static char *utf8_clean(const char *s, size_t len, size_t *out_len)
{
	struct lc_buf b = LC_BUF_INIT;
	size_t i = 0, k, n;
	int bad = 0;

	while (i < len) {
		unsigned char c = (unsigned char)s[i];
		unsigned cp;

		if (c < 0x80) {
			lc_buf_addc(&b, (char)c);
			i++;
			continue;
		}
		n = c >= 0xc2 && c <= 0xdf ? 2 : c >= 0xe0 && c <= 0xef ? 3 :
		    c >= 0xf0 && c <= 0xf4 ? 4 : 0;
		cp = n == 2 ? c & 0x1f : n == 3 ? c & 0x0f : c & 0x07;
		for (k = 1; n && k < n; k++) {
			if (i + k >= len || ((unsigned char)s[i + k] & 0xc0) != 0x80)
				n = 0;
			else
				cp = cp << 6 | ((unsigned char)s[i + k] & 0x3f);
		}
		if (n && ((n == 3 && (cp < 0x800 || (cp >= 0xd800 && cp <= 0xdfff))) ||
			  (n == 4 && (cp < 0x10000 || cp > 0x10ffff))))
			n = 0;  /* overlong, a surrogate, or beyond Unicode */
		if (n) {
			lc_buf_add(&b, s + i, n);
			i += n;
		} else {
			lc_buf_adds(&b, "\xef\xbf\xbd");
			i++;
			bad = 1;
		}
	}
	if (!bad) {
		lc_buf_release(&b);
		return NULL;
	}
	return lc_buf_detach(&b, out_len);
}

static json_t *json_str_of(const char *s, size_t len)
{
	size_t cl;
	char *clean = utf8_clean(s, len, &cl);
	json_t *j = clean ? json_stringn_nocheck(clean, cl) : json_stringn_nocheck(s, len);

	free(clean);
	return j;
}

static int is_integer_text(const char *s)
{
	return !strpbrk(s, ".eE");
}

/* n as a jansson value; *digits grows to what its reals need. */
static json_t *to_json(const struct lc_node *n, int *digits)
{
	json_t *j = NULL;
	size_t i;

	switch (lc_json_type(n)) {
	case LC_JSON_NULL:
		return json_null();
	case LC_JSON_BOOL:
		return json_boolean(n->str[0] == 't' || n->str[0] == 'T');
	case LC_JSON_NUMBER: {
		char *end;
		long long v;
		double d;
		int p;

		if (is_integer_text(n->str)) {
			errno = 0;
			v = strtoll(n->str, &end, 10);
			if (!errno && !*end)
				return json_integer(v);
		}
		d = strtod(n->str, NULL);
		p = real_digits(d);
		if (p > *digits)
			*digits = p;
		return isfinite(d) ? json_real(d) : json_null();
	}
	case LC_JSON_STRING:
		return json_str_of(n->str, n->len);
	case LC_JSON_ARRAY:
		j = json_array();
		for (i = 0; i < n->n_items; i++)
			json_array_append_new(j, to_json(n->items[i], digits));
		return j;
	case LC_JSON_OBJECT:
		j = json_object();
		for (i = 0; i < n->n_pairs; i++) {
			const struct lc_node *k = n->pairs[i].key;
			size_t cl;
			char *clean = utf8_clean(k->str, k->len, &cl);

			json_object_setn_new_nocheck(j, clean ? clean : k->str, clean ? cl : k->len,
						     to_json(n->pairs[i].value, digits));
			free(clean);
		}
		return j;
	}
	return json_null();
}

void lc_json_write(struct lc_buf *out, const struct lc_node *n, int indent)
{
	int digits = 1;
	json_t *j = to_json(n, &digits);
	size_t flags = JSON_ENCODE_ANY | JSON_REAL_PRECISION(digits) |
		       (indent < 0 ? JSON_COMPACT : JSON_INDENT(indent > 31 ? 31 : indent));
	size_t need = json_dumpb(j, NULL, 0, flags);

	lc_buf_grow(out, need);
	json_dumpb(j, out->buf + out->len, need, flags);
	lc_buf_setlen(out, out->len + need);
	json_decref(j);
}

/* ---- building ----------------------------------------------------------- */

struct lc_node *lc_json_object(void)
{
	return lc_node_new(LC_NODE_MAP, NULL, 0, 0);
}

struct lc_node *lc_json_array(void)
{
	return lc_node_new(LC_NODE_SEQ, NULL, 0, 0);
}

struct lc_node *lc_json_strn(const char *s, size_t len)
{
	struct lc_node *n = lc_node_new_scalar(s, len);

	n->plain = 0;
	return n;
}

struct lc_node *lc_json_str(const char *s)
{
	return s ? lc_json_strn(s, strlen(s)) : lc_json_null();
}

struct lc_node *lc_json_int(long long v)
{
	char buf[32];

	snprintf(buf, sizeof(buf), "%lld", v);
	return lc_node_new_scalar(buf, strlen(buf));
}

struct lc_node *lc_json_real(double v)
{
	return isfinite(v) ? number_node(v) : lc_json_null();
}

struct lc_node *lc_json_number(double v)
{
	if (isfinite(v) && v == floor(v) && fabs(v) < 9007199254740992.0)
		return lc_json_int((long long)v);
	return lc_json_real(v);
}

struct lc_node *lc_json_bool(int v)
{
	return v ? lc_node_new_scalar("true", 4) : lc_node_new_scalar("false", 5);
}

struct lc_node *lc_json_null(void)
{
	return lc_node_new_scalar("null", 4);
}

struct lc_node *lc_json_set(struct lc_node *obj, const char *key, struct lc_node *v)
{
	LC_ALLOC_GROW(obj->pairs, obj->n_pairs + 1, obj->alloc);
	obj->pairs[obj->n_pairs].key = lc_json_str(key);
	obj->pairs[obj->n_pairs].value = v;
	obj->n_pairs++;
	return v;
}

struct lc_node *lc_json_push(struct lc_node *arr, struct lc_node *v)
{
	lc_node_seq_add(arr, v);
	return v;
}

void lc_json_line(struct lc_buf *out, struct lc_node *n)
{
	lc_json_write(out, n, -1);
	lc_buf_addc(out, '\n');
	lc_node_free(n);
}
