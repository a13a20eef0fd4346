/* json.c - a small strict JSON parser into lc_node trees, and the writer. */
#include "json.h"

#include <stdlib.h>
#include <string.h>

struct parser {
	const char *p, *start, *end;
	const char *file;
	struct lc_json_limits lim;
	size_t nodes;
	struct lc_error *err;
};

static void position(const struct parser *ps, const char *at, unsigned *line, unsigned *col)
{
	const char *s;

	*line = 1;
	*col = 1;
	for (s = ps->start; s < at && s < ps->end; s++) {
		if (*s == '\n') {
			(*line)++;
			*col = 1;
		} else if (((unsigned char)*s & 0xc0) != 0x80) {
			(*col)++;
		}
	}
}

static int fail(struct parser *ps, const char *at, const char *what)
{
	unsigned line, col;

	position(ps, at, &line, &col);
	if (at >= ps->end)
		return lc_error_set(ps->err, LC_EPARSE, "%s:%u:%u: %s (the text ends here)",
				    ps->file, line, col, what);
	return lc_error_set(ps->err, LC_EPARSE, "%s:%u:%u: %s", ps->file, line, col, what);
}

static void skip_ws(struct parser *ps)
{
	while (ps->p < ps->end &&
	       (*ps->p == ' ' || *ps->p == '\t' || *ps->p == '\n' || *ps->p == '\r'))
		ps->p++;
}

static struct lc_node *new_node(struct parser *ps, enum lc_node_kind kind, const char *at)
{
	unsigned line, col;

	position(ps, at, &line, &col);
	return lc_node_new(kind, ps->file, line, col);
}

static int hex4(const char *s, unsigned *out)
{
	unsigned v = 0;
	int i;

	for (i = 0; i < 4; i++) {
		char c = s[i];

		v <<= 4;
		if (c >= '0' && c <= '9')
			v |= (unsigned)(c - '0');
		else if (c >= 'a' && c <= 'f')
			v |= (unsigned)(c - 'a' + 10);
		else if (c >= 'A' && c <= 'F')
			v |= (unsigned)(c - 'A' + 10);
		else
			return -1;
	}
	*out = v;
	return 0;
}

static void add_utf8(struct lc_buf *b, unsigned cp)
{
	if (cp < 0x80) {
		lc_buf_addc(b, (char)cp);
	} else if (cp < 0x800) {
		lc_buf_addc(b, (char)(0xc0 | (cp >> 6)));
		lc_buf_addc(b, (char)(0x80 | (cp & 0x3f)));
	} else if (cp < 0x10000) {
		lc_buf_addc(b, (char)(0xe0 | (cp >> 12)));
		lc_buf_addc(b, (char)(0x80 | ((cp >> 6) & 0x3f)));
		lc_buf_addc(b, (char)(0x80 | (cp & 0x3f)));
	} else {
		lc_buf_addc(b, (char)(0xf0 | (cp >> 18)));
		lc_buf_addc(b, (char)(0x80 | ((cp >> 12) & 0x3f)));
		lc_buf_addc(b, (char)(0x80 | ((cp >> 6) & 0x3f)));
		lc_buf_addc(b, (char)(0x80 | (cp & 0x3f)));
	}
}

/* At a '"': decode the string into out. */
static int parse_string(struct parser *ps, struct lc_buf *out)
{
	const char *open = ps->p++;

	while (ps->p < ps->end && *ps->p != '"') {
		unsigned char c = (unsigned char)*ps->p;
		unsigned cp, lo;

		if (c < 0x20)
			return fail(ps, ps->p, "a control character inside a string (write it escaped)");
		if (c != '\\') {
			lc_buf_addc(out, (char)c);
			ps->p++;
			continue;
		}
		if (ps->p + 1 >= ps->end)
			break;
		switch (ps->p[1]) {
		case '"': lc_buf_addc(out, '"'); break;
		case '\\': lc_buf_addc(out, '\\'); break;
		case '/': lc_buf_addc(out, '/'); break;
		case 'b': lc_buf_addc(out, '\b'); break;
		case 'f': lc_buf_addc(out, '\f'); break;
		case 'n': lc_buf_addc(out, '\n'); break;
		case 'r': lc_buf_addc(out, '\r'); break;
		case 't': lc_buf_addc(out, '\t'); break;
		case 'u':
			if (ps->end - ps->p < 6 || hex4(ps->p + 2, &cp))
				return fail(ps, ps->p, "expected 4 hex digits after \\u");
			ps->p += 6;
			if (cp >= 0xd800 && cp <= 0xdbff && ps->end - ps->p >= 6 &&
			    ps->p[0] == '\\' && ps->p[1] == 'u' && !hex4(ps->p + 2, &lo) &&
			    lo >= 0xdc00 && lo <= 0xdfff) {
				cp = 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00);
				ps->p += 6;
			} else if (cp >= 0xd800 && cp <= 0xdfff) {
				cp = 0xfffd;
			}
			add_utf8(out, cp);
			continue;
		default:
			return fail(ps, ps->p, "unknown escape in a string");
		}
		ps->p += 2;
	}
	if (ps->p >= ps->end)
		return fail(ps, open, "a string is not closed");
	ps->p++;
	return 0;
}

static int parse_value(struct parser *ps, struct lc_node **out, unsigned depth);

static int parse_number(struct parser *ps, struct lc_node **out)
{
	const char *s = ps->p;
	struct lc_node *n;

	if (ps->p < ps->end && *ps->p == '-')
		ps->p++;
	if (ps->p < ps->end && *ps->p == '0') {
		ps->p++;
	} else if (ps->p < ps->end && *ps->p >= '1' && *ps->p <= '9') {
		while (ps->p < ps->end && *ps->p >= '0' && *ps->p <= '9')
			ps->p++;
	} else {
		return fail(ps, s, "expected a value");
	}
	if (ps->p < ps->end && *ps->p == '.') {
		ps->p++;
		if (ps->p >= ps->end || *ps->p < '0' || *ps->p > '9')
			return fail(ps, ps->p, "expected a digit after '.'");
		while (ps->p < ps->end && *ps->p >= '0' && *ps->p <= '9')
			ps->p++;
	}
	if (ps->p < ps->end && (*ps->p == 'e' || *ps->p == 'E')) {
		ps->p++;
		if (ps->p < ps->end && (*ps->p == '+' || *ps->p == '-'))
			ps->p++;
		if (ps->p >= ps->end || *ps->p < '0' || *ps->p > '9')
			return fail(ps, ps->p, "expected a digit in the exponent");
		while (ps->p < ps->end && *ps->p >= '0' && *ps->p <= '9')
			ps->p++;
	}
	n = new_node(ps, LC_NODE_SCALAR, s);
	free(n->str);
	n->str = lc_xstrndup(s, (size_t)(ps->p - s));
	n->len = (size_t)(ps->p - s);
	*out = n;
	return 0;
}

static int parse_container(struct parser *ps, struct lc_node **out, unsigned depth)
{
	const char *open = ps->p;
	int is_map = *ps->p == '{';
	char close = is_map ? '}' : ']';
	struct lc_node *n = new_node(ps, is_map ? LC_NODE_MAP : LC_NODE_SEQ, open);
	struct lc_buf key = LC_BUF_INIT;
	int rc = 0, first = 1;

	if (depth >= ps->lim.max_depth) {
		rc = fail(ps, open, "nested too deeply");
		goto out;
	}
	ps->p++;
	for (;;) {
		struct lc_node *v = NULL, *k;
		const char *kat;

		skip_ws(ps);
		if (ps->p < ps->end && *ps->p == close && first) {
			ps->p++;
			break;
		}
		if (is_map) {
			kat = ps->p;
			if (ps->p >= ps->end || *ps->p != '"') {
				rc = fail(ps, ps->p, "expected a string key");
				goto out;
			}
			lc_buf_reset(&key);
			if ((rc = parse_string(ps, &key)))
				goto out;
			if (lc_node_get(n, key.buf) && strlen(key.buf) == key.len) {
				rc = fail(ps, kat, "duplicate key");
				goto out;
			}
			skip_ws(ps);
			if (ps->p >= ps->end || *ps->p != ':') {
				rc = fail(ps, ps->p, "expected ':' after a key");
				goto out;
			}
			ps->p++;
			if ((rc = parse_value(ps, &v, depth + 1)))
				goto out;
			k = new_node(ps, LC_NODE_SCALAR, kat);
			free(k->str);
			k->len = key.len;
			k->str = lc_buf_detach(&key, NULL);
			k->plain = 0;
			lc_node_map_set(n, k, v);
		} else {
			if ((rc = parse_value(ps, &v, depth + 1)))
				goto out;
			lc_node_seq_add(n, v);
		}
		first = 0;
		skip_ws(ps);
		if (ps->p < ps->end && *ps->p == ',') {
			ps->p++;
			continue;
		}
		if (ps->p < ps->end && *ps->p == close) {
			ps->p++;
			break;
		}
		rc = fail(ps, ps->p, is_map ? "expected ',' or '}'" : "expected ',' or ']'");
		goto out;
	}
	*out = n;
	n = NULL;
out:
	lc_buf_release(&key);
	lc_node_free(n);
	return rc;
}

static int parse_value(struct parser *ps, struct lc_node **out, unsigned depth)
{
	static const char *const words[] = { "true", "false", "null", NULL };
	size_t i;

	*out = NULL;
	skip_ws(ps);
	if (++ps->nodes > ps->lim.max_nodes)
		return fail(ps, ps->p, "too many values");
	if (ps->p >= ps->end)
		return fail(ps, ps->p, "expected a value");
	if (*ps->p == '{' || *ps->p == '[')
		return parse_container(ps, out, depth);
	if (*ps->p == '"') {
		struct lc_buf s = LC_BUF_INIT;
		struct lc_node *n;
		const char *at = ps->p;
		int rc = parse_string(ps, &s);

		if (rc) {
			lc_buf_release(&s);
			return rc;
		}
		n = new_node(ps, LC_NODE_SCALAR, at);
		free(n->str);
		n->len = s.len;
		n->str = lc_buf_detach(&s, NULL);
		n->plain = 0;
		*out = n;
		return 0;
	}
	for (i = 0; words[i]; i++) {
		size_t wl = strlen(words[i]);

		if ((size_t)(ps->end - ps->p) >= wl && !memcmp(ps->p, words[i], wl)) {
			struct lc_node *n = new_node(ps, LC_NODE_SCALAR, ps->p);

			free(n->str);
			n->str = lc_xstrdup(words[i]);
			n->len = wl;
			ps->p += wl;
			*out = n;
			return 0;
		}
	}
	return parse_number(ps, out);
}

int lc_json_parse(struct lc_doc *out, const char *name, const char *text, size_t len,
		  const struct lc_json_limits *limits, struct lc_error *err)
{
	static const struct lc_json_limits defaults = LC_JSON_LIMITS_DEFAULT;
	struct parser ps;
	struct lc_node *root = NULL;
	char *file = lc_xstrdup(name);
	int rc;

	out->file = NULL;
	out->root = NULL;
	memset(&ps, 0, sizeof(ps));
	ps.lim = limits ? *limits : defaults;
	ps.start = ps.p = text;
	ps.end = text + len;
	ps.file = file;
	ps.err = err;
	if (len > ps.lim.max_bytes) {
		rc = lc_error_set(err, LC_EPARSE, "%s: %zu bytes, more than the %zu allowed", name,
				  len, ps.lim.max_bytes);
		goto fail;
	}
	if ((rc = parse_value(&ps, &root, 0)))
		goto fail;
	skip_ws(&ps);
	if (ps.p < ps.end) {
		rc = fail(&ps, ps.p, "unexpected text after the value");
		goto fail;
	}
	out->file = file;
	out->root = root;
	return 0;
fail:
	lc_node_free(root);
	free(file);
	return rc;
}

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

static void newline(struct lc_buf *out, int indent, unsigned depth)
{
	lc_buf_addc(out, '\n');
	lc_buf_addf(out, "%*s", (int)(depth * (unsigned)indent), "");
}

static void write_node(struct lc_buf *out, const struct lc_node *n, int indent, unsigned depth)
{
	size_t i;

	switch (lc_json_type(n)) {
	case LC_JSON_NULL:
		lc_buf_adds(out, "null");
		break;
	case LC_JSON_BOOL:
		lc_buf_adds(out, n->str[0] == 't' || n->str[0] == 'T' ? "true" : "false");
		break;
	case LC_JSON_NUMBER:
		lc_buf_add(out, n->str, n->len);
		break;
	case LC_JSON_STRING:
		lc_buf_add_json(out, n->str, n->len);
		break;
	case LC_JSON_ARRAY:
		lc_buf_addc(out, '[');
		for (i = 0; i < n->n_items; i++) {
			if (i)
				lc_buf_addc(out, ',');
			if (indent >= 0)
				newline(out, indent, depth + 1);
			write_node(out, n->items[i], indent, depth + 1);
		}
		if (indent >= 0 && n->n_items)
			newline(out, indent, depth);
		lc_buf_addc(out, ']');
		break;
	case LC_JSON_OBJECT:
		lc_buf_addc(out, '{');
		for (i = 0; i < n->n_pairs; i++) {
			if (i)
				lc_buf_addc(out, ',');
			if (indent >= 0)
				newline(out, indent, depth + 1);
			lc_buf_add_json(out, n->pairs[i].key->str, n->pairs[i].key->len);
			lc_buf_adds(out, indent >= 0 ? ": " : ":");
			write_node(out, n->pairs[i].value, indent, depth + 1);
		}
		if (indent >= 0 && n->n_pairs)
			newline(out, indent, depth);
		lc_buf_addc(out, '}');
		break;
	}
}

void lc_json_write(struct lc_buf *out, const struct lc_node *n, int indent)
{
	write_node(out, n, indent, 0);
}
