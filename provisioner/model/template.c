/* template.c - the template renderer: text with {{ expr }} tags.
 *
 * One pass over the source: text is copied, each tag is cut out (its end is
 * the first "}}" outside a string literal), parsed and evaluated at once.
 * Errors name "template:line" of the "{{" and the variable or filter, never a
 * value, since values may be secret. */
#include "template.h"

#include <stdint.h>
#include <string.h>

/* Show at most this many keys when a mapping is rendered without a key. */
#define TPL_MAX_KEYS_SHOWN 10

struct tpl {
	const char *name;
	unsigned line;                /* of the "{{" being evaluated */
	lc_template_lookup_fn lookup;
	void *data;
	int used_secret;
	int mask;                     /* write secrets as LC_TEMPLATE_MASK */
	struct lc_error *err;
};

/* The value of an expression while filters are applied to it. */
struct tval {
	int defined;
	int is_str;                   /* str holds the value, else node */
	const struct lc_node *node;
	struct lc_buf str;
	int secret;                   /* a secret node went into this value */
	struct lc_buf label;          /* the name as written, for errors */
	struct lc_buf why;            /* what was missing, when !defined */
};

struct cur {
	const char *p;
	const char *end;
};

static int tpl_error(struct tpl *t, int code, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static int tpl_error(struct tpl *t, int code, const char *fmt, ...)
{
	struct lc_buf b = LC_BUF_INIT;
	va_list ap;

	lc_buf_addf(&b, "%s:%u: ", t->name, t->line);
	va_start(ap, fmt);
	lc_buf_vaddf(&b, fmt, ap);
	va_end(ap);
	lc_error_set(t->err, code, "%s", b.buf);
	lc_buf_release(&b);
	return code;
}

static int is_ident(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	       (c >= '0' && c <= '9') || c == '_' || c == '-';
}

static int is_space(char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

static void skip_ws(struct cur *c)
{
	while (c->p < c->end && is_space(*c->p))
		c->p++;
}

/* Describe a source character for an error message. */
static void add_char_desc(struct lc_buf *b, char c)
{
	unsigned char u = (unsigned char)c;

	if (u > 0x20 && u < 0x7f && c != '\'')
		lc_buf_addf(b, "'%c'", c);
	else
		lc_buf_addf(b, "byte 0x%02x", u);
}

static unsigned count_lines(const char *s, size_t len)
{
	unsigned n = 0;
	size_t i;

	for (i = 0; i < len; i++)
		if (s[i] == '\n')
			n++;
	return n;
}

/* Append s as a YAML double-quoted scalar.  The escapes used are the ones
 * YAML and JSON share; besides ASCII controls, the C1 controls and U+2028/
 * U+2029 are escaped because YAML 1.1 parsers treat some of them as line
 * breaks.  Other bytes (UTF-8 text, or invalid UTF-8) pass through as-is. */
static void yaml_quote(struct lc_buf *b, const char *s, size_t len)
{
	size_t i;

	lc_buf_addc(b, '"');
	for (i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];

		switch (c) {
		case '"': lc_buf_adds(b, "\\\""); break;
		case '\\': lc_buf_adds(b, "\\\\"); break;
		case '\n': lc_buf_adds(b, "\\n"); break;
		case '\r': lc_buf_adds(b, "\\r"); break;
		case '\t': lc_buf_adds(b, "\\t"); break;
		default:
			if (c < 0x20 || c == 0x7f) {
				lc_buf_addf(b, "\\u%04x", c);
			} else if (c == 0xc2 && i + 1 < len &&
				   (unsigned char)s[i + 1] >= 0x80 &&
				   (unsigned char)s[i + 1] <= 0x9f) {
				lc_buf_addf(b, "\\u%04x", (unsigned char)s[i + 1]);
				i++;
			} else if (c == 0xe2 && i + 2 < len &&
				   (unsigned char)s[i + 1] == 0x80 &&
				   ((unsigned char)s[i + 2] == 0xa8 ||
				    (unsigned char)s[i + 2] == 0xa9)) {
				lc_buf_addf(b, "\\u%04x",
					    0x2000u + ((unsigned char)s[i + 2] - 0x80u));
				i += 2;
			} else {
				lc_buf_addc(b, (char)c);
			}
		}
	}
	lc_buf_addc(b, '"');
}

/* Append n in YAML flow style: "text", ["a", "b"], {"k": "v"}. */
static void yaml_flow(struct lc_buf *b, const struct lc_node *n)
{
	size_t i;

	if (!n) {
		lc_buf_adds(b, "null");
		return;
	}
	switch (n->kind) {
	case LC_NODE_SCALAR:
		yaml_quote(b, n->str, n->len);
		break;
	case LC_NODE_SEQ:
		lc_buf_addc(b, '[');
		for (i = 0; i < n->n_items; i++) {
			if (i)
				lc_buf_adds(b, ", ");
			yaml_flow(b, n->items[i]);
		}
		lc_buf_addc(b, ']');
		break;
	case LC_NODE_MAP:
		lc_buf_addc(b, '{');
		for (i = 0; i < n->n_pairs; i++) {
			if (i)
				lc_buf_adds(b, ", ");
			yaml_flow(b, n->pairs[i].key);
			lc_buf_adds(b, ": ");
			yaml_flow(b, n->pairs[i].value);
		}
		lc_buf_addc(b, '}');
		break;
	}
}

/* Whether n or anything below it is marked secret. */
static int node_secret(const struct lc_node *n)
{
	size_t i;

	if (!n)
		return 0;
	if (n->secret)
		return 1;
	for (i = 0; i < n->n_items; i++)
		if (node_secret(n->items[i]))
			return 1;
	for (i = 0; i < n->n_pairs; i++)
		if (node_secret(n->pairs[i].key) || node_secret(n->pairs[i].value))
			return 1;
	return 0;
}

static void tval_init(struct tval *v)
{
	memset(v, 0, sizeof(*v));
	lc_buf_init(&v->str);
	lc_buf_init(&v->label);
	lc_buf_init(&v->why);
}

static void tval_release(struct tval *v)
{
	lc_buf_release(&v->str);
	lc_buf_release(&v->label);
	lc_buf_release(&v->why);
}

/* Make v a string value holding the scalar's text. */
static void tval_set_str(struct tval *v, const char *s, size_t len, int secret)
{
	lc_buf_reset(&v->str);
	lc_buf_add(&v->str, s, len);
	v->is_str = 1;
	v->node = NULL;
	v->secret |= secret;
}

/* Parse a string literal at c->p (which is '"') into out. */
static int parse_string(struct tpl *t, struct cur *c, struct lc_buf *out)
{
	c->p++;
	while (c->p < c->end) {
		char ch = *c->p++;

		if (ch == '"')
			return 0;
		if (ch == '\n')
			break;
		if (ch != '\\') {
			lc_buf_addc(out, ch);
			continue;
		}
		if (c->p == c->end)
			break;
		ch = *c->p++;
		switch (ch) {
		case '"': lc_buf_addc(out, '"'); break;
		case '\\': lc_buf_addc(out, '\\'); break;
		case 'n': lc_buf_addc(out, '\n'); break;
		case 't': lc_buf_addc(out, '\t'); break;
		case 'r': lc_buf_addc(out, '\r'); break;
		default: {
			struct lc_buf d = LC_BUF_INIT;
			int rc;

			add_char_desc(&d, ch);
			rc = tpl_error(t, LC_EPARSE,
				       "unknown escape '\\' followed by %s in a string literal "
				       "(expected \\\", \\\\, \\n, \\t or \\r)", d.buf);
			lc_buf_release(&d);
			return rc;
		}
		}
	}
	return tpl_error(t, LC_EPARSE, "unterminated string literal in '{{'");
}

/* Resolve the dotted name at c->p into v. */
static int resolve_name(struct tpl *t, struct cur *c, struct tval *v)
{
	struct lc_buf part = LC_BUF_INIT;
	const struct lc_node *n = NULL;
	const char *name = c->p;
	int first = 1;
	int rc = 0;

	for (;;) {
		const char *s = c->p;
		size_t prefix_len = (size_t)(s - name);

		while (c->p < c->end && is_ident(*c->p))
			c->p++;
		if (c->p == s) {
			rc = tpl_error(t, LC_EPARSE,
				       "expected a name after '.' in '%.*s'",
				       (int)(c->p - name), name);
			goto out;
		}
		lc_buf_reset(&part);
		lc_buf_add(&part, s, (size_t)(c->p - s));

		if (v->defined || first) {
			const struct lc_node *next = NULL;

			if (first) {
				next = t->lookup ? t->lookup(t->data, part.buf) : NULL;
				if (!next)
					lc_buf_addf(&v->why, "'%s' is not defined", part.buf);
			} else if (n->kind == LC_NODE_MAP) {
				next = lc_node_get(n, part.buf);
				if (!next)
					lc_buf_addf(&v->why, "'%.*s' has no key '%s'",
						    (int)(prefix_len - 1), name, part.buf);
			} else if (n->kind == LC_NODE_SEQ) {
				size_t idx = 0, i;
				int digits = 1, big = 0;

				for (i = 0; i < part.len; i++) {
					unsigned d = (unsigned)(part.buf[i] - '0');

					if (d > 9) {
						digits = 0;
						break;
					}
					if (idx > (SIZE_MAX - d) / 10)
						big = 1;
					else
						idx = idx * 10 + d;
				}
				if (!digits)
					lc_buf_addf(&v->why,
						    "'%.*s' is a list; '%s' is not an index",
						    (int)(prefix_len - 1), name, part.buf);
				else if (big || idx >= n->n_items || !n->items[idx])
					lc_buf_addf(&v->why, "'%.*s' has no item %s",
						    (int)(prefix_len - 1), name, part.buf);
				else
					next = n->items[idx];
			} else {
				lc_buf_addf(&v->why,
					    "'%.*s' is a scalar; it has no key '%s'",
					    (int)(prefix_len - 1), name, part.buf);
			}
			v->defined = next != NULL;
			if (next) {
				n = next;
				/* A secret mapping or list makes all of its
				 * contents secret, marked or not. */
				v->secret |= n->secret;
			}
		}
		first = 0;
		if (c->p < c->end && *c->p == '.') {
			c->p++;
			continue;
		}
		break;
	}
	lc_buf_add(&v->label, name, (size_t)(c->p - name));
	if (v->defined) {
		v->node = n;
		lc_buf_reset(&v->why);
	}
	if (v->why.len > 0 && !memchr(v->label.buf, '.', v->label.len))
		lc_buf_reset(&v->why);   /* "undefined variable 'x'" says it all */
out:
	lc_buf_release(&part);
	return rc;
}

enum filter_kind {
	F_DEFAULT,
	F_JOIN,
	F_LOWER,
	F_UPPER,
	F_YAML,
};

static const struct {
	const char *name;
	enum filter_kind kind;
	int nargs;
	const char *usage;
} filters[] = {
	{ "default", F_DEFAULT, 1, "default(\"text\")" },
	{ "join", F_JOIN, 1, "join(\", \")" },
	{ "lower", F_LOWER, 0, "lower" },
	{ "upper", F_UPPER, 0, "upper" },
	{ "yaml", F_YAML, 0, "yaml" },
};

#define N_FILTERS (sizeof(filters) / sizeof(filters[0]))

/* A filter that needs a scalar (or a list, for join) got something else. */
static int kind_error(struct tpl *t, const struct tval *v, const char *filter,
		      const char *needs)
{
	return tpl_error(t, LC_EPARSE, "'%s' is %s; '%s' needs %s", v->label.buf,
			 lc_node_kind_name(v->node->kind), filter, needs);
}

static int apply_filter(struct tpl *t, struct tval *v, size_t f,
			const struct lc_buf *arg)
{
	struct lc_buf tmp = LC_BUF_INIT;
	const struct lc_node *n = v->node;
	size_t i;
	int rc = 0;

	if (filters[f].kind == F_DEFAULT) {
		if (!v->defined) {
			tval_set_str(v, arg->buf, arg->len, 0);
			v->defined = 1;
			lc_buf_reset(&v->why);
		}
		goto out;
	}
	/* Undefined passes through the other filters, so that a later
	 * default() can still catch it. */
	if (!v->defined)
		goto out;

	switch (filters[f].kind) {
	case F_DEFAULT:
		break;
	case F_JOIN:
		if (v->is_str || n->kind == LC_NODE_SCALAR)
			break;
		if (n->kind == LC_NODE_MAP) {
			rc = kind_error(t, v, "join", "a list");
			goto out;
		}
		for (i = 0; i < n->n_items; i++) {
			const struct lc_node *it = n->items[i];

			if (!it || it->kind != LC_NODE_SCALAR) {
				rc = tpl_error(t, LC_EPARSE,
					       "item %zu of '%s' is %s; 'join' needs a list of scalars",
					       i, v->label.buf,
					       it ? lc_node_kind_name(it->kind) : "empty");
				goto out;
			}
			if (i)
				lc_buf_add(&tmp, arg->buf, arg->len);
			lc_buf_add(&tmp, it->str, it->len);
		}
		tval_set_str(v, tmp.buf, tmp.len, node_secret(n));
		break;
	case F_LOWER:
	case F_UPPER:
		if (!v->is_str) {
			if (n->kind != LC_NODE_SCALAR) {
				rc = kind_error(t, v, filters[f].name, "a scalar");
				goto out;
			}
			tval_set_str(v, n->str, n->len, n->secret);
		}
		for (i = 0; i < v->str.len; i++) {
			char ch = v->str.buf[i];

			if (filters[f].kind == F_LOWER && ch >= 'A' && ch <= 'Z')
				v->str.buf[i] = (char)(ch - 'A' + 'a');
			else if (filters[f].kind == F_UPPER && ch >= 'a' && ch <= 'z')
				v->str.buf[i] = (char)(ch - 'a' + 'A');
		}
		break;
	case F_YAML:
		if (v->is_str) {
			yaml_quote(&tmp, v->str.buf, v->str.len);
			tval_set_str(v, tmp.buf, tmp.len, 0);
		} else {
			yaml_flow(&tmp, n);
			tval_set_str(v, tmp.buf, tmp.len, node_secret(n));
		}
		break;
	}
out:
	lc_buf_release(&tmp);
	return rc;
}

/* Parse "| name" or "| name(\"arg\")" at c->p (which is '|') and apply it. */
static int parse_filter(struct tpl *t, struct cur *c, struct tval *v)
{
	struct lc_buf arg = LC_BUF_INIT;
	const char *s;
	size_t f, flen;
	int nargs = 0;
	int rc = 0;

	c->p++;
	skip_ws(c);
	s = c->p;
	while (c->p < c->end && is_ident(*c->p))
		c->p++;
	flen = (size_t)(c->p - s);
	if (!flen) {
		rc = tpl_error(t, LC_EPARSE, "expected a filter name after '|'");
		goto out;
	}
	for (f = 0; f < N_FILTERS; f++)
		if (strlen(filters[f].name) == flen && !memcmp(filters[f].name, s, flen))
			break;
	if (f == N_FILTERS) {
		rc = tpl_error(t, LC_EPARSE,
			       "unknown filter '%.*s' (expected one of: default, join, lower, upper, yaml)",
			       (int)flen, s);
		goto out;
	}
	skip_ws(c);
	if (c->p < c->end && *c->p == '(') {
		c->p++;
		skip_ws(c);
		if (c->p < c->end && *c->p == '"') {
			rc = parse_string(t, c, &arg);
			if (rc)
				goto out;
			nargs = 1;
			skip_ws(c);
		}
		if (c->p == c->end || *c->p != ')') {
			rc = tpl_error(t, LC_EPARSE,
				       "filter '%s' takes %s: write %s", filters[f].name,
				       filters[f].nargs ? "one string argument" : "no arguments",
				       filters[f].usage);
			goto out;
		}
		c->p++;
	}
	if (nargs != filters[f].nargs) {
		rc = tpl_error(t, LC_EPARSE, "filter '%s' takes %s: write %s",
			       filters[f].name,
			       filters[f].nargs ? "one string argument" : "no arguments",
			       filters[f].usage);
		goto out;
	}
	rc = apply_filter(t, v, f, &arg);
	/* each '| yaml' may double the text (quotes and escapes): bound it */
	if (!rc && v->is_str && v->str.len > LC_TEMPLATE_MAX)
		rc = tpl_error(t, LC_EPARSE, "the value grows past %u MiB after filter '%s'",
			       (unsigned)(LC_TEMPLATE_MAX >> 20), filters[f].name);
out:
	lc_buf_release(&arg);
	return rc;
}

/* Write the final value of a tag to out. */
static int emit(struct tpl *t, struct lc_buf *out, const struct tval *v)
{
	const struct lc_node *n = v->node;
	struct lc_buf keys = LC_BUF_INIT;
	size_t i;
	int rc = 0;

	if (!v->defined) {
		if (v->why.len)
			rc = tpl_error(t, LC_EUNDEF, "undefined variable '%s' (%s)",
				       v->label.buf, v->why.buf);
		else
			rc = tpl_error(t, LC_EUNDEF, "undefined variable '%s'",
				       v->label.buf);
		goto out;
	}
	if (t->mask && (v->secret || (!v->is_str && node_secret(n)))) {
		lc_buf_adds(out, LC_TEMPLATE_MASK);
		t->used_secret = 1;
		goto out;
	}
	if (v->is_str) {
		lc_buf_add(out, v->str.buf, v->str.len);
		t->used_secret |= v->secret;
		goto out;
	}
	switch (n->kind) {
	case LC_NODE_SCALAR:
		lc_buf_add(out, n->str, n->len);
		break;
	case LC_NODE_SEQ:
		yaml_flow(out, n);
		break;
	case LC_NODE_MAP:
		/* Key names are not values: they may be shown. */
		for (i = 0; i < n->n_pairs && i < TPL_MAX_KEYS_SHOWN; i++)
			lc_buf_addf(&keys, "%s%s", i ? ", " : "", n->pairs[i].key->str);
		if (n->n_pairs > TPL_MAX_KEYS_SHOWN)
			lc_buf_adds(&keys, ", ...");
		if (n->n_pairs)
			rc = tpl_error(t, LC_EPARSE,
				       "'%s' is a mapping; name one of its keys (%s) "
				       "or render it with '| yaml'", v->label.buf, keys.buf);
		else
			rc = tpl_error(t, LC_EPARSE,
				       "'%s' is an empty mapping; render it with '| yaml'",
				       v->label.buf);
		goto out;
	}
	t->used_secret |= v->secret | node_secret(n);
out:
	lc_buf_release(&keys);
	return rc;
}

/* Evaluate the tag between "{{" and "}}" (exclusive) and append its value. */
static int render_tag(struct tpl *t, struct lc_buf *out, const char *s,
		      const char *end)
{
	struct cur c = { s, end };
	struct lc_buf d = LC_BUF_INIT;
	struct tval v;
	int rc = 0;

	tval_init(&v);
	skip_ws(&c);
	if (c.p == c.end) {
		rc = tpl_error(t, LC_EPARSE,
			       "empty '{{ }}' (expected a variable name or a string literal)");
		goto out;
	}
	if (*c.p == '"') {
		rc = parse_string(t, &c, &v.str);
		if (rc)
			goto out;
		v.defined = 1;
		v.is_str = 1;
		lc_buf_adds(&v.label, "string literal");
	} else if (is_ident(*c.p)) {
		rc = resolve_name(t, &c, &v);
		if (rc)
			goto out;
	} else {
		add_char_desc(&d, *c.p);
		rc = tpl_error(t, LC_EPARSE,
			       "unexpected %s in '{{ }}' (expected a variable name or a string literal)",
			       d.buf);
		goto out;
	}
	for (;;) {
		skip_ws(&c);
		if (c.p == c.end)
			break;
		if (*c.p != '|') {
			add_char_desc(&d, *c.p);
			rc = tpl_error(t, LC_EPARSE,
				       "unexpected %s after '%s' (expected '|' or '}}')",
				       d.buf, v.label.buf);
			goto out;
		}
		rc = parse_filter(t, &c, &v);
		if (rc)
			goto out;
	}
	rc = emit(t, out, &v);
out:
	lc_buf_release(&d);
	tval_release(&v);
	return rc;
}

/* Find the "}}" closing the tag whose body starts at pos: the first one
 * outside a string literal.  *close is its offset. */
static int find_close(struct tpl *t, size_t *close, const char *src, size_t len,
		      size_t pos)
{
	int in_str = 0;
	size_t k;

	for (k = pos; k < len; k++) {
		char ch = src[k];

		if (in_str) {
			if (ch == '\\')
				k++;
			else if (ch == '"')
				in_str = 0;
			else if (ch == '\n')
				return tpl_error(t, LC_EPARSE,
						 "unterminated string literal in '{{'");
		} else if (ch == '"') {
			in_str = 1;
		} else if (ch == '}' && k + 1 < len && src[k + 1] == '}') {
			*close = k;
			return 0;
		}
	}
	return tpl_error(t, LC_EPARSE, "unterminated '{{'%s",
			 in_str ? " (a string literal is still open)" : "");
}

static int render(struct lc_buf *out, const char *name, const char *src, size_t len,
		  lc_template_lookup_fn lookup, void *data, int *used_secret, int mask,
		  struct lc_error *err)
{
	struct tpl t;
	size_t start = out->len;
	size_t i = 0;
	int rc = 0;

	if (used_secret)
		*used_secret = 0;
	t.name = name ? name : "(template)";
	t.line = 1;
	t.lookup = lookup;
	t.data = data;
	t.used_secret = 0;
	t.mask = mask;
	t.err = err;

	while (i < len) {
		size_t open = i, close = 0;

		if (out->len - start > LC_TEMPLATE_MAX) {
			rc = tpl_error(&t, LC_EPARSE, "the rendered text grows past %u MiB",
				       (unsigned)(LC_TEMPLATE_MAX >> 20));
			goto out;
		}

		while (open + 1 < len && !(src[open] == '{' && src[open + 1] == '{'))
			open++;
		if (open + 1 >= len)
			open = len;
		lc_buf_add(out, src + i, open - i);
		t.line += count_lines(src + i, open - i);
		if (open == len)
			break;
		rc = find_close(&t, &close, src, len, open + 2);
		if (rc)
			goto out;
		rc = render_tag(&t, out, src + open + 2, src + close);
		if (rc)
			goto out;
		t.line += count_lines(src + open, close + 2 - open);
		i = close + 2;
	}
	if (used_secret)
		*used_secret = t.used_secret;
out:
	if (rc)
		lc_buf_setlen(out, start);
	return rc;
}

int lc_template_render(struct lc_buf *out, const char *name, const char *src,
		       size_t len, lc_template_lookup_fn lookup, void *data,
		       int *used_secret, struct lc_error *err)
{
	return render(out, name, src, len, lookup, data, used_secret, 0, err);
}

int lc_template_render_masked(struct lc_buf *out, const char *name, const char *src,
			      size_t len, lc_template_lookup_fn lookup, void *data,
			      struct lc_error *err)
{
	return render(out, name, src, len, lookup, data, NULL, 1, err);
}
