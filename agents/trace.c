/* trace.c - decoding tracer payloads (trace.h). */
#include "trace.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <msgpack.h>

#include "buf.h"
#include "json.h"
#include "yamlx.h"

#define MAX_DEPTH 16   /* traces > spans > meta: 4 deep; room for odd tracers */

/* ---- a generic value: msgpack or JSON ------------------------------------ */

/* The decoders turn either payload into spans through the same checks:
 * a small view of "a value" that both can fill. */
enum kind { K_NIL, K_INT, K_UINT, K_FLOAT, K_STR, K_BOOL, K_ARRAY, K_MAP, K_OTHER };

struct val {
	enum kind kind;
	int64_t i;
	uint64_t u;
	double f;
	const char *s;
	size_t len;
	/* the container, and how to reach its items */
	const void *c;
	int json;
};

static void from_msgpack(struct val *v, const msgpack_object *o)
{
	memset(v, 0, sizeof(*v));
	switch (o->type) {
	case MSGPACK_OBJECT_NIL: v->kind = K_NIL; break;
	case MSGPACK_OBJECT_BOOLEAN: v->kind = K_BOOL; v->i = o->via.boolean; break;
	case MSGPACK_OBJECT_POSITIVE_INTEGER: v->kind = K_UINT; v->u = o->via.u64; break;
	case MSGPACK_OBJECT_NEGATIVE_INTEGER: v->kind = K_INT; v->i = o->via.i64; break;
	case MSGPACK_OBJECT_FLOAT32:
	case MSGPACK_OBJECT_FLOAT64: v->kind = K_FLOAT; v->f = o->via.f64; break;
	case MSGPACK_OBJECT_STR: v->kind = K_STR; v->s = o->via.str.ptr; v->len = o->via.str.size; break;
	case MSGPACK_OBJECT_ARRAY: v->kind = K_ARRAY; v->c = o; v->len = o->via.array.size; break;
	case MSGPACK_OBJECT_MAP: v->kind = K_MAP; v->c = o; v->len = o->via.map.size; break;
	default: v->kind = K_OTHER; break;
	}
}

static void from_node(struct val *v, const struct lc_node *n)
{
	char *end;

	memset(v, 0, sizeof(*v));
	v->json = 1;
	if (n->kind == LC_NODE_SEQ) {
		v->kind = K_ARRAY;
		v->c = n;
		v->len = n->n_items;
		return;
	}
	if (n->kind == LC_NODE_MAP) {
		v->kind = K_MAP;
		v->c = n;
		v->len = n->n_pairs;
		return;
	}
	v->s = n->str;
	v->len = n->len;
	if (!n->plain) {
		v->kind = K_STR;
	} else if (!strcmp(n->str, "null")) {
		v->kind = K_NIL;
	} else if (!strcmp(n->str, "true") || !strcmp(n->str, "false")) {
		v->kind = K_BOOL;
		v->i = n->str[0] == 't';
	} else if (!strpbrk(n->str, ".eE")) {
		errno = 0;
		if (n->str[0] == '-') {
			v->i = strtoll(n->str, &end, 10);
			v->kind = errno || *end ? K_OTHER : K_INT;
		} else {
			v->u = strtoull(n->str, &end, 10);
			v->kind = errno || *end ? K_OTHER : K_UINT;
		}
	} else {
		v->f = strtod(n->str, &end);
		v->kind = *end ? K_OTHER : K_FLOAT;
	}
}

static void item(struct val *out, const struct val *c, size_t i)
{
	if (c->json)
		from_node(out, ((const struct lc_node *)c->c)->items[i]);
	else
		from_msgpack(out, &((const msgpack_object *)c->c)->via.array.ptr[i]);
}

static void pair(struct val *key, struct val *value, const struct val *c, size_t i)
{
	if (c->json) {
		const struct lc_pair *p = &((const struct lc_node *)c->c)->pairs[i];

		from_node(key, p->key);
		key->kind = K_STR;  /* JSON keys are strings */
		from_node(value, p->value);
	} else {
		const msgpack_object_kv *p = &((const msgpack_object *)c->c)->via.map.ptr[i];

		from_msgpack(key, &p->key);
		from_msgpack(value, &p->val);
	}
}

static int is_key(const struct val *k, const char *name)
{
	return k->kind == K_STR && k->len == strlen(name) && !memcmp(k->s, name, k->len);
}

/* ---- spans ------------------------------------------------------------------ */

static const char *kind_name(enum kind k)
{
	static const char *const names[] = { "nil", "an integer", "an integer", "a float",
					     "a string", "a boolean", "an array", "a map",
					     "another type" };
	return names[k];
}

static int want_u64(uint64_t *out, const struct val *v, const char *what, struct lc_error *err)
{
	if (v->kind == K_UINT)
		*out = v->u;
	else if (v->kind == K_INT && v->i >= 0)
		*out = (uint64_t)v->i;
	else if (v->kind == K_NIL)
		*out = 0;
	else
		return lc_error_set(err, LC_EPARSE, "%s must be an unsigned integer, not %s", what,
				    kind_name(v->kind));
	return 0;
}

static int want_i64(int64_t *out, const struct val *v, const char *what, struct lc_error *err)
{
	if (v->kind == K_INT)
		*out = v->i;
	else if (v->kind == K_UINT && v->u <= INT64_MAX)
		*out = (int64_t)v->u;
	else if (v->kind == K_FLOAT && v->f >= -9.2e18 && v->f <= 9.2e18)
		*out = (int64_t)v->f;   /* some tracers send float nanoseconds */
	else if (v->kind == K_NIL)
		*out = 0;
	else
		return lc_error_set(err, LC_EPARSE, "%s must be an integer, not %s", what,
				    kind_name(v->kind));
	return 0;
}

static int want_str(char **out, const struct val *v, const char *what, struct lc_error *err)
{
	if (v->kind == K_NIL)
		return 0;
	if (v->kind != K_STR)
		return lc_error_set(err, LC_EPARSE, "%s must be a string, not %s", what,
				    kind_name(v->kind));
	if (memchr(v->s, '\0', v->len))
		return lc_error_set(err, LC_EPARSE, "%s holds a NUL byte", what);
	free(*out);
	*out = lc_xstrndup(v->s, v->len);
	return 0;
}

static int read_meta(struct lc_span *s, const struct val *m, struct lc_error *err)
{
	struct val k, v;
	size_t i;
	int rc;

	if (m->kind == K_NIL)
		return 0;
	if (m->kind != K_MAP)
		return lc_error_set(err, LC_EPARSE, "meta must be a map, not %s", kind_name(m->kind));
	for (i = 0; i < m->len; i++) {
		pair(&k, &v, m, i);
		if (k.kind != K_STR || v.kind != K_STR)
			return lc_error_set(err, LC_EPARSE, "meta maps strings to strings");
		if (is_key(&k, "env") && (rc = want_str(&s->env, &v, "meta env", err)))
			return rc;
		if (is_key(&k, "version") && (rc = want_str(&s->version, &v, "meta version", err)))
			return rc;
		if (is_key(&k, "http.status_code")) {
			char code[8];

			if (v.len == 0 || v.len >= sizeof(code))
				continue;
			memcpy(code, v.s, v.len);
			code[v.len] = '\0';
			s->http_status = atoi(code);
			if (s->http_status < 100 || s->http_status > 599)
				s->http_status = 0;
		}
	}
	return 0;
}

static int read_metrics(struct lc_span *s, const struct val *m, struct lc_error *err)
{
	struct val k, v;
	size_t i;

	if (m->kind == K_NIL)
		return 0;
	if (m->kind != K_MAP)
		return lc_error_set(err, LC_EPARSE, "metrics must be a map, not %s",
				    kind_name(m->kind));
	for (i = 0; i < m->len; i++) {
		pair(&k, &v, m, i);
		if (k.kind != K_STR || (v.kind != K_FLOAT && v.kind != K_INT && v.kind != K_UINT))
			return lc_error_set(err, LC_EPARSE, "metrics map strings to numbers");
		/* the tracer says the span is a service entry, or measured */
		if ((is_key(&k, "_top_level") || is_key(&k, "_dd.measured")) &&
		    (v.kind == K_FLOAT ? v.f == 1 : v.kind == K_UINT ? v.u == 1 : v.i == 1))
			s->top_level = 1;
	}
	return 0;
}

static void span_release(struct lc_span *s)
{
	free(s->name);
	free(s->service);
	free(s->resource);
	free(s->type);
	free(s->env);
	free(s->version);
}

static int read_span(struct lc_span *s, const struct val *m, struct lc_error *err)
{
	struct val k, v;
	size_t i;
	int64_t e = 0;
	int rc = 0;

	if (m->kind != K_MAP)
		return lc_error_set(err, LC_EPARSE, "a span must be a map, not %s", kind_name(m->kind));
	for (i = 0; i < m->len && !rc; i++) {
		pair(&k, &v, m, i);
		if (is_key(&k, "trace_id"))
			rc = want_u64(&s->trace_id, &v, "trace_id", err);
		else if (is_key(&k, "span_id"))
			rc = want_u64(&s->span_id, &v, "span_id", err);
		else if (is_key(&k, "parent_id"))
			rc = want_u64(&s->parent_id, &v, "parent_id", err);
		else if (is_key(&k, "name"))
			rc = want_str(&s->name, &v, "name", err);
		else if (is_key(&k, "service"))
			rc = want_str(&s->service, &v, "service", err);
		else if (is_key(&k, "resource"))
			rc = want_str(&s->resource, &v, "resource", err);
		else if (is_key(&k, "type"))
			rc = want_str(&s->type, &v, "type", err);
		else if (is_key(&k, "start"))
			rc = want_i64(&s->start, &v, "start", err);
		else if (is_key(&k, "duration"))
			rc = want_i64(&s->duration, &v, "duration", err);
		else if (is_key(&k, "error") && !(rc = want_i64(&e, &v, "error", err)))
			s->error = e != 0;
		else if (is_key(&k, "meta"))
			rc = read_meta(s, &v, err);
		else if (is_key(&k, "metrics"))
			rc = read_metrics(s, &v, err);
	}
	if (rc)
		return rc;
	if (!s->name || !*s->name)
		return lc_error_set(err, LC_EPARSE, "a span has no name");
	if (!s->service || !*s->service) {
		free(s->service);
		s->service = lc_xstrdup("unnamed-service");  /* as the real agent names it */
	}
	if (!s->resource || !*s->resource) {
		free(s->resource);
		s->resource = lc_xstrdup(s->name);
	}
	if (s->duration < 0)
		return lc_error_set(err, LC_EPARSE, "span %s has a negative duration", s->name);
	return 0;
}

/* Top-level spans: the tracer said so, or the span has no parent in its
 * trace, or its parent belongs to another service. */
static void mark_top_level(struct lc_trace *t)
{
	size_t i, j;

	for (i = 0; i < t->n; i++) {
		struct lc_span *s = &t->spans[i];
		const struct lc_span *parent = NULL;

		if (s->top_level)
			continue;
		for (j = 0; s->parent_id && j < t->n && !parent; j++)
			if (t->spans[j].span_id == s->parent_id && j != i)
				parent = &t->spans[j];
		s->top_level = !parent || strcmp(parent->service, s->service) != 0;
	}
}

static int read_traces(struct lc_traces *out, const struct val *root, size_t max_spans,
		       struct lc_error *err)
{
	struct val tv, sv;
	size_t i, j;
	int rc;

	if (root->kind != K_ARRAY)
		return lc_error_set(err, LC_EPARSE, "the payload must be an array of traces, not %s",
				    kind_name(root->kind));
	out->v = lc_xcalloc(root->len + 1, sizeof(*out->v));
	for (i = 0; i < root->len; i++) {
		struct lc_trace *t = &out->v[out->n];

		item(&tv, root, i);
		if (tv.kind != K_ARRAY)
			return lc_error_set(err, LC_EPARSE, "trace %zu must be an array of spans, not %s",
					    i + 1, kind_name(tv.kind));
		if (out->n_spans + tv.len > max_spans)
			return lc_error_set(err, LC_EUSAGE, "more than %zu spans in one payload",
					    max_spans);
		out->n++;
		t->spans = lc_xcalloc(tv.len + 1, sizeof(*t->spans));
		for (j = 0; j < tv.len; j++) {
			item(&sv, &tv, j);
			t->n++;
			out->n_spans++;
			if ((rc = read_span(&t->spans[j], &sv, err)))
				return lc_error_prefix(err, "trace %zu, span %zu", i + 1, j + 1);
		}
		mark_top_level(t);
	}
	return 0;
}

/* ---- msgpack ------------------------------------------------------------------ */

/* Walk the msgpack text without building anything: every container's count
 * must fit in the bytes left (each item takes at least one), nesting stays
 * under MAX_DEPTH, and nothing is cut off.  libmsgpack-c allocates a
 * container's items from its header: a 20-byte payload must not make it
 * ask for gigabytes. */
static int msgpack_sane(const unsigned char *p, size_t len, struct lc_error *err)
{
	size_t pos = 0, stack[MAX_DEPTH + 1], depth = 0;
	uint64_t n;

	stack[0] = 1;  /* one value at the top */
	while (depth || stack[0]) {
		unsigned char b;
		size_t skip = 0, hdr = 1;
		int container = 0;  /* 1 array, 2 map */

		if (!stack[depth]) {
			depth--;
			continue;
		}
		stack[depth]--;
		if (pos >= len)
			return lc_error_set(err, LC_EPARSE, "the msgpack payload is cut off at byte %zu",
					    pos);
		b = p[pos];
#define NEED(k) do { if (len - pos < (k)) return lc_error_set(err, LC_EPARSE, \
		"the msgpack payload is cut off at byte %zu", pos); } while (0)
#define BE(k) (k == 1 ? (uint64_t)p[pos + 1] : k == 2 ? ((uint64_t)p[pos + 1] << 8 | p[pos + 2]) : \
		((uint64_t)p[pos + 1] << 24 | (uint64_t)p[pos + 2] << 16 | \
		 (uint64_t)p[pos + 3] << 8 | p[pos + 4]))
		if (b <= 0x7f || b >= 0xe0 || b == 0xc0 || b == 0xc2 || b == 0xc3) {
			skip = 0;
		} else if (b >= 0x80 && b <= 0x8f) {
			container = 2; n = b & 0x0f;
		} else if (b >= 0x90 && b <= 0x9f) {
			container = 1; n = b & 0x0f;
		} else if (b >= 0xa0 && b <= 0xbf) {
			skip = b & 0x1f;
		} else if (b == 0xc4 || b == 0xd9) {
			NEED(2); hdr = 2; skip = BE(1);
		} else if (b == 0xc5 || b == 0xda) {
			NEED(3); hdr = 3; skip = BE(2);
		} else if (b == 0xc6 || b == 0xdb) {
			NEED(5); hdr = 5; skip = BE(4);
		} else if (b == 0xc7 || b == 0xc8 || b == 0xc9) {   /* ext 8/16/32 */
			size_t k = b == 0xc7 ? 1 : b == 0xc8 ? 2 : 4;

			NEED(k + 2); hdr = k + 2; skip = BE(k);
		} else if (b == 0xca || b == 0xce || b == 0xd2) {
			skip = 4;
		} else if (b == 0xcb || b == 0xcf || b == 0xd3) {
			skip = 8;
		} else if (b == 0xcc || b == 0xd0) {
			skip = 1;
		} else if (b == 0xcd || b == 0xd1) {
			skip = 2;
		} else if (b >= 0xd4 && b <= 0xd8) {                  /* fixext */
			skip = 1 + ((size_t)1 << (b - 0xd4));
		} else if (b == 0xdc || b == 0xde) {
			NEED(3); hdr = 3; n = BE(2); container = b == 0xdc ? 1 : 2;
		} else if (b == 0xdd || b == 0xdf) {
			NEED(5); hdr = 5; n = BE(4); container = b == 0xdd ? 1 : 2;
		} else {
			return lc_error_set(err, LC_EPARSE, "byte 0x%02x at %zu is not msgpack", b, pos);
		}
#undef BE
		NEED(hdr + skip);
		pos += hdr + skip;
		if (container) {
			if (container == 2)
				n *= 2;
			if (n > len - pos)
				return lc_error_set(err, LC_EPARSE, "a container at byte %zu claims %llu "
						    "items; the payload has %zu bytes left",
						    pos - hdr, (unsigned long long)n, len - pos);
			if (depth == MAX_DEPTH)
				return lc_error_set(err, LC_EPARSE, "msgpack nested deeper than %d",
						    MAX_DEPTH);
			stack[++depth] = (size_t)n;
		}
#undef NEED
	}
	if (pos != len)
		return lc_error_set(err, LC_EPARSE, "%zu bytes after the payload", len - pos);
	return 0;
}

int lc_traces_decode_msgpack(struct lc_traces *out, const char *buf, size_t len,
			     size_t max_spans, struct lc_error *err)
{
	msgpack_unpacked up;
	struct val root;
	size_t off = 0;
	int rc;

	memset(out, 0, sizeof(*out));
	if ((rc = msgpack_sane((const unsigned char *)buf, len, err)))
		return rc;
	msgpack_unpacked_init(&up);
	if (msgpack_unpack_next(&up, buf, len, &off) != MSGPACK_UNPACK_SUCCESS) {
		msgpack_unpacked_destroy(&up);
		return lc_error_set(err, LC_EPARSE, "the payload is not msgpack");
	}
	from_msgpack(&root, &up.data);
	rc = read_traces(out, &root, max_spans, err);
	msgpack_unpacked_destroy(&up);
	if (rc)
		lc_traces_release(out);
	return rc;
}

int lc_traces_decode_json(struct lc_traces *out, const char *buf, size_t len,
			  size_t max_spans, struct lc_error *err)
{
	struct lc_json_limits lim = LC_JSON_LIMITS_DEFAULT;
	struct lc_doc doc = LC_DOC_INIT;
	struct val root;
	int rc;

	memset(out, 0, sizeof(*out));
	lim.max_depth = MAX_DEPTH;
	if ((rc = lc_json_parse(&doc, "payload", buf, len, &lim, err)))
		return LC_EPARSE;
	if (!doc.root) {
		lc_doc_release(&doc);
		return lc_error_set(err, LC_EPARSE, "the payload is empty");
	}
	from_node(&root, doc.root);
	rc = read_traces(out, &root, max_spans, err);
	lc_doc_release(&doc);
	if (rc)
		lc_traces_release(out);
	return rc;
}

void lc_traces_release(struct lc_traces *t)
{
	size_t i, j;

	for (i = 0; i < t->n; i++) {
		for (j = 0; j < t->v[i].n; j++)
			span_release(&t->v[i].spans[j]);
		free(t->v[i].spans);
	}
	free(t->v);
	memset(t, 0, sizeof(*t));
}
