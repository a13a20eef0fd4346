/* yamlx.c - the only libyaml user: YAML text in, a tree of lc_node out.
 *
 * We use the event API (yaml_parser_parse) rather than the document loader so
 * that every limit is enforced while parsing, before anything is built:
 *
 *   - size: input over max_bytes is refused before libyaml sees it (files are
 *     stat'ed first and never read past the limit);
 *   - depth: counted on SEQUENCE_START/MAPPING_START; the first collection
 *     past max_depth fails, so "[[[[..." costs O(max_depth) memory (libyaml
 *     itself has no limit);
 *   - nodes: every scalar, sequence and mapping counts against max_nodes;
 *   - anchors and aliases are refused, which ends alias bombs at once;
 *   - duplicate keys (libyaml accepts them silently) are found with a hash set
 *     over (mapping, key), so a wide mapping costs O(n), not O(n^2).
 *
 * Containers under construction live on an explicit stack (not the C stack)
 * and are attached to their parent only when they end, so on any error the
 * cleanup frees the root plus whatever is still on the stack. */
#include "yamlx.h"

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <yaml.h>

#define READ_CHUNK 65536
#define KEY_SHOW_MAX 64

struct frame {
	struct lc_node *node;   /* the open sequence or mapping (not yet attached) */
	struct lc_node *key;    /* mapping: key waiting for its value, or NULL */
};

struct key_slot {
	const struct lc_node *map;
	const struct lc_node *key;
	uint64_t hash;
};

/* Open-addressing set of (mapping, key bytes) for the whole document. */
struct key_set {
	struct key_slot *slots;
	size_t cap;             /* 0 or a power of two */
	size_t n;
};

struct loader {
	const struct lc_yaml_limits *lim;
	char *file;             /* becomes doc->file: what positions name */
	const char *data;
	size_t len;
	int bom;                /* input starts with a UTF-8 BOM (libyaml counts it as a column) */
	struct frame *stack;
	size_t depth, alloc;
	size_t n_nodes;
	int n_docs;
	struct key_set keys;
	struct lc_node *root;
};

__attribute__((format(printf, 6, 7)))
static int pos_error(struct lc_error *err, int code, const char *file,
		     unsigned line, unsigned col, const char *fmt, ...)
{
	/* where a node would be: lc_node_where writes file:line:col for it */
	struct lc_node at = { .file = file, .line = line, .col = col };
	va_list ap;

	va_start(ap, fmt);
	lc_node_verror(err, code, &at, fmt, ap);
	va_end(ap);
	return code;
}

/* libyaml marks are 0-based and count the BOM as a column of line 0. */
static void mark_pos(const struct loader *ld, const yaml_mark_t *m,
		     unsigned *line, unsigned *col)
{
	size_t c = m->column;

	if (ld->bom && m->line == 0 && c > 0)
		c--;
	*line = (unsigned)m->line + 1;
	*col = (unsigned)c + 1;
}

__attribute__((format(printf, 4, 5)))
static int mark_error(struct loader *ld, struct lc_error *err,
		      const yaml_mark_t *m, const char *fmt, ...)
{
	struct lc_buf b = LC_BUF_INIT;
	unsigned line, col;
	va_list ap;

	mark_pos(ld, m, &line, &col);
	va_start(ap, fmt);
	lc_buf_vaddf(&b, fmt, ap);
	va_end(ap);
	pos_error(err, LC_EPARSE, ld->file, line, col, "%s", b.buf);
	lc_buf_release(&b);
	return LC_EPARSE;
}

/* Width of the UTF-8 line break at p (CR LF, LF, CR, NEL, LS, PS), or 0. */
static size_t break_width(const unsigned char *p, size_t left)
{
	if (p[0] == '\r')
		return left > 1 && p[1] == '\n' ? 2 : 1;
	if (p[0] == '\n')
		return 1;
	if (left > 1 && p[0] == 0xc2 && p[1] == 0x85)
		return 2;
	if (left > 2 && p[0] == 0xe2 && p[1] == 0x80 && (p[2] == 0xa8 || p[2] == 0xa9))
		return 3;
	return 0;
}

/* Position of byte offset off, counted the way libyaml counts: lines by
 * YAML line breaks, columns in characters.  Everything before a reader error
 * has been decoded, so it is valid UTF-8. */
static void offset_pos(const struct loader *ld, size_t off, unsigned *line,
		       unsigned *col)
{
	const unsigned char *p = (const unsigned char *)ld->data;
	size_t i = ld->bom ? 3 : 0;
	unsigned l = 1, c = 1;

	if (off > ld->len)
		off = ld->len;
	while (i < off) {
		size_t w = break_width(p + i, ld->len - i);

		if (w) {
			l++;
			c = 1;
			i += w;
			continue;
		}
		if ((p[i] & 0xc0) != 0x80)
			c++;
		i++;
	}
	*line = l;
	*col = c;
}

/* Byte at a mark (mark.index counts characters), or -1 past the end. */
static int byte_at_mark(const struct loader *ld, const yaml_mark_t *m)
{
	const unsigned char *p = (const unsigned char *)ld->data;
	size_t i = 0, chars = 0;

	while (i < ld->len) {
		if ((p[i] & 0xc0) != 0x80) {
			if (chars == m->index)
				return p[i];
			chars++;
		}
		i++;
	}
	return -1;
}

static int syntax_error(struct loader *ld, const yaml_parser_t *p,
			struct lc_error *err)
{
	struct lc_buf b = LC_BUF_INIT;
	unsigned line, col, cline, ccol;
	const char *problem = p->problem ? p->problem : "invalid YAML";
	int rc;

	switch (p->error) {
	case YAML_MEMORY_ERROR:
		return lc_error_set(err, LC_ENOMEM, "%s: out of memory while parsing YAML",
				    ld->file);
	case YAML_READER_ERROR:
		offset_pos(ld, p->problem_offset, &line, &col);
		if (p->problem_value < 0)
			return pos_error(err, LC_EPARSE, ld->file, line, col,
					 "%s (expected UTF-8 text)", problem);
		if (strstr(problem, "octet"))
			return pos_error(err, LC_EPARSE, ld->file, line, col,
					 "%s (byte 0x%02x; expected UTF-8 text)",
					 problem, (unsigned)p->problem_value);
		return pos_error(err, LC_EPARSE, ld->file, line, col, "%s (U+%04X)",
				 problem, (unsigned)p->problem_value);
	default:
		break;
	}

	/* Scanner and parser errors: the problem at problem_mark, and what
	 * libyaml was reading at context_mark (what it expected to complete). */
	mark_pos(ld, &p->problem_mark, &line, &col);
	if (!strcmp(problem, "found character that cannot start any token") &&
	    byte_at_mark(ld, &p->problem_mark) == '\t')
		lc_buf_adds(&b, "found a tab character that cannot start any token");
	else
		lc_buf_adds(&b, problem);
	if (p->context) {
		mark_pos(ld, &p->context_mark, &cline, &ccol);
		if (cline == line && ccol == col)
			lc_buf_addf(&b, " (%s)", p->context);
		else
			lc_buf_addf(&b, " (%s started at line %u, column %u)",
				    p->context, cline, ccol);
	}
	if (strstr(b.buf, "tab character"))
		lc_buf_adds(&b, "; indent with spaces, not tabs");
	else if (p->context && strstr(p->context, "quoted scalar") &&
		 strstr(problem, "end of stream"))
		lc_buf_adds(&b, "; the closing quote is missing");
	rc = pos_error(err, LC_EPARSE, ld->file, line, col, "%s", b.buf);
	lc_buf_release(&b);
	return rc;
}

/* Append a key for a message: at most KEY_SHOW_MAX bytes, control bytes
 * escaped, so one odd key cannot garble a one-line error. */
static void add_key_text(struct lc_buf *b, const struct lc_node *k)
{
	size_t n = k->len, i;

	if (n > KEY_SHOW_MAX) {
		n = KEY_SHOW_MAX;
		while (n > 0 && ((unsigned char)k->str[n] & 0xc0) == 0x80)
			n--;
	}
	for (i = 0; i < n; i++) {
		unsigned char c = (unsigned char)k->str[i];

		if (c < 0x20 || c == 0x7f)
			lc_buf_addf(b, "\\x%02x", c);
		else
			lc_buf_addc(b, (char)c);
	}
	if (n < k->len)
		lc_buf_adds(b, "...");
}

static uint64_t key_hash(const struct lc_node *map, const struct lc_node *key)
{
	uint64_t h = 0xcbf29ce484222325ull;  /* FNV-1a */
	size_t i;

	for (i = 0; i < key->len; i++) {
		h ^= (unsigned char)key->str[i];
		h *= 0x100000001b3ull;
	}
	h ^= (uint64_t)(uintptr_t)map * 0x9e3779b97f4a7c15ull;
	return h ^ (h >> 29);
}

static int key_eq(const struct key_slot *s, const struct lc_node *map,
		  const struct lc_node *key, uint64_t h)
{
	return s->hash == h && s->map == map && s->key->len == key->len &&
	       !memcmp(s->key->str, key->str, key->len);
}

static void key_set_grow(struct key_set *ks)
{
	struct key_slot *old = ks->slots;
	size_t old_cap = ks->cap, i;

	ks->cap = old_cap ? old_cap * 2 : 64;
	ks->slots = lc_xcalloc(ks->cap, sizeof(*ks->slots));
	for (i = 0; i < old_cap; i++) {
		size_t j;

		if (!old[i].map)
			continue;
		j = old[i].hash & (ks->cap - 1);
		while (ks->slots[j].map)
			j = (j + 1) & (ks->cap - 1);
		ks->slots[j] = old[i];
	}
	free(old);
}

/* Return the key already in map equal to key, or add key and return NULL. */
static const struct lc_node *key_set_add(struct key_set *ks,
					 const struct lc_node *map,
					 const struct lc_node *key)
{
	uint64_t h = key_hash(map, key);
	size_t j;

	if ((ks->n + 1) * 2 > ks->cap)
		key_set_grow(ks);
	j = h & (ks->cap - 1);
	while (ks->slots[j].map) {
		if (key_eq(&ks->slots[j], map, key, h))
			return ks->slots[j].key;
		j = (j + 1) & (ks->cap - 1);
	}
	ks->slots[j].map = map;
	ks->slots[j].key = key;
	ks->slots[j].hash = h;
	ks->n++;
	return NULL;
}

/* Duplicates were refused in attach(); appending directly keeps loading a
 * wide mapping linear (lc_node_map_set scans the mapping for each key). */
static void map_append(struct lc_node *map, struct lc_node *key,
		       struct lc_node *value)
{
	LC_ALLOC_GROW(map->pairs, map->n_pairs + 1, map->alloc);
	map->pairs[map->n_pairs].key = key;
	map->pairs[map->n_pairs].value = value;
	map->n_pairs++;
}

/* Hand a finished node to its parent (or make it the root).  Takes
 * ownership of n on every path. */
static int attach(struct loader *ld, struct lc_node *n, struct lc_error *err)
{
	struct frame *top;
	const struct lc_node *first;
	struct lc_buf b = LC_BUF_INIT;
	int rc;

	if (!ld->depth) {
		if (n->kind == LC_NODE_SCALAR && n->plain && !n->len) {
			lc_node_free(n);    /* "---" alone: an empty document */
			return 0;
		}
		ld->root = n;
		return 0;
	}
	top = &ld->stack[ld->depth - 1];
	if (top->node->kind == LC_NODE_SEQ) {
		lc_node_seq_add(top->node, n);
		return 0;
	}
	if (top->key) {
		map_append(top->node, top->key, n);
		top->key = NULL;
		return 0;
	}
	/* n is a key; collections were refused in start_collection(). */
	if (n->plain && !n->len)
		rc = lc_node_error(err, LC_EPARSE, n,
				   "mapping keys must be plain strings (found an empty key)");
	else if (memchr(n->str, '\0', n->len))
		rc = lc_node_error(err, LC_EPARSE, n,
				   "mapping keys must be plain strings (found a NUL byte)");
	else if ((first = key_set_add(&ld->keys, top->node, n))) {
		add_key_text(&b, n);
		rc = lc_node_error(err, LC_EPARSE, n,
				   "duplicate key '%s' (first defined at line %u)",
				   b.buf, first->line);
		lc_buf_release(&b);
	} else {
		top->key = n;
		return 0;
	}
	lc_node_free(n);
	return rc;
}

static const char *tag_name(const yaml_char_t *tag, struct lc_buf *b)
{
	static const char core[] = "tag:yaml.org,2002:";
	const char *t = (const char *)tag;

	if (!strncmp(t, core, sizeof(core) - 1))
		lc_buf_addf(b, "!!%s", t + sizeof(core) - 1);
	else
		lc_buf_adds(b, t);
	return b->buf;
}

/* Anchors, aliases and tags are all refused: we have no use for them, and
 * refusing the anchor names the problem before any alias can expand. */
static int check_props(struct loader *ld, const yaml_event_t *ev,
		       const yaml_char_t *anchor, const yaml_char_t *tag,
		       struct lc_error *err)
{
	struct lc_buf b = LC_BUF_INIT;
	int rc;

	if (anchor)
		return mark_error(ld, err, &ev->start_mark,
				  "YAML anchors (&%s) are not supported", (const char *)anchor);
	if (!tag)
		return 0;
	rc = mark_error(ld, err, &ev->start_mark,
			"YAML tags (%s) are not supported%s", tag_name(tag, &b),
			ev->type == YAML_SCALAR_EVENT ? "; quote the value to make it a string" : "");
	lc_buf_release(&b);
	return rc;
}

static int count_node(struct loader *ld, const yaml_event_t *ev,
		      struct lc_error *err)
{
	if (++ld->n_nodes > ld->lim->max_nodes)
		return mark_error(ld, err, &ev->start_mark,
				  "too many YAML nodes (the limit is %zu)",
				  ld->lim->max_nodes);
	return 0;
}

static int on_scalar(struct loader *ld, const yaml_event_t *ev,
		     struct lc_error *err)
{
	struct lc_node *n;
	unsigned line, col;
	int rc;

	if ((rc = check_props(ld, ev, ev->data.scalar.anchor, ev->data.scalar.tag, err)) ||
	    (rc = count_node(ld, ev, err)))
		return rc;
	mark_pos(ld, &ev->start_mark, &line, &col);
	n = lc_node_new(LC_NODE_SCALAR, ld->file, line, col);
	free(n->str);
	n->str = lc_xstrndup((const char *)ev->data.scalar.value, ev->data.scalar.length);
	n->len = ev->data.scalar.length;
	n->plain = ev->data.scalar.style == YAML_PLAIN_SCALAR_STYLE;
	return attach(ld, n, err);
}

static int start_collection(struct loader *ld, const yaml_event_t *ev,
			    enum lc_node_kind kind, struct lc_error *err)
{
	const yaml_char_t *anchor, *tag;
	struct frame *top = ld->depth ? &ld->stack[ld->depth - 1] : NULL;
	unsigned line, col;
	int rc;

	if (kind == LC_NODE_SEQ) {
		anchor = ev->data.sequence_start.anchor;
		tag = ev->data.sequence_start.tag;
	} else {
		anchor = ev->data.mapping_start.anchor;
		tag = ev->data.mapping_start.tag;
	}
	if ((rc = check_props(ld, ev, anchor, tag, err)))
		return rc;
	if (top && top->node->kind == LC_NODE_MAP && !top->key)
		return mark_error(ld, err, &ev->start_mark,
				  "mapping keys must be plain strings (found %s)",
				  lc_node_kind_name(kind));
	if (ld->depth >= ld->lim->max_depth)
		return mark_error(ld, err, &ev->start_mark,
				  "nesting is deeper than the limit of %u levels",
				  ld->lim->max_depth);
	if ((rc = count_node(ld, ev, err)))
		return rc;
	mark_pos(ld, &ev->start_mark, &line, &col);
	LC_ALLOC_GROW(ld->stack, ld->depth + 1, ld->alloc);
	ld->stack[ld->depth].node = lc_node_new(kind, ld->file, line, col);
	ld->stack[ld->depth].key = NULL;
	ld->depth++;
	return 0;
}

static int end_collection(struct loader *ld, struct lc_error *err)
{
	struct lc_node *n;

	/* libyaml pairs every start with an end and gives every key a value. */
	n = ld->stack[--ld->depth].node;
	return attach(ld, n, err);
}

static int on_event(struct loader *ld, const yaml_event_t *ev,
		    struct lc_error *err)
{
	switch (ev->type) {
	case YAML_DOCUMENT_START_EVENT:
		if (ld->n_docs++)
			return mark_error(ld, err, &ev->start_mark,
					  "only one YAML document is allowed (a second one starts here)");
		return 0;
	case YAML_ALIAS_EVENT:
		return mark_error(ld, err, &ev->start_mark,
				  "YAML aliases (*%s) are not supported",
				  (const char *)ev->data.alias.anchor);
	case YAML_SCALAR_EVENT:
		return on_scalar(ld, ev, err);
	case YAML_SEQUENCE_START_EVENT:
		return start_collection(ld, ev, LC_NODE_SEQ, err);
	case YAML_MAPPING_START_EVENT:
		return start_collection(ld, ev, LC_NODE_MAP, err);
	case YAML_SEQUENCE_END_EVENT:
	case YAML_MAPPING_END_EVENT:
		return end_collection(ld, err);
	default:
		return 0;   /* stream start/end, document end, no event */
	}
}

int lc_yaml_load_buf(struct lc_doc *out, const char *name, const char *data,
		     size_t len, const struct lc_yaml_limits *limits,
		     struct lc_error *err)
{
	static const struct lc_yaml_limits defaults = LC_YAML_LIMITS_DEFAULT;
	struct loader ld;
	yaml_parser_t parser;
	yaml_event_t ev;
	int parser_ok = 0, rc = 0, done = 0;
	size_t i;

	out->file = NULL;
	out->root = NULL;
	memset(&ld, 0, sizeof(ld));
	ld.lim = limits ? limits : &defaults;
	ld.file = lc_xstrdup(name);
	ld.data = data ? data : "";
	ld.len = data ? len : 0;
	ld.bom = ld.len >= 3 && !memcmp(ld.data, "\xef\xbb\xbf", 3);

	if (ld.len > ld.lim->max_bytes) {
		rc = lc_error_set(err, LC_EPARSE,
				  "%s: file is %zu bytes, larger than the limit of %zu",
				  ld.file, ld.len, ld.lim->max_bytes);
		goto out;
	}
	if (!yaml_parser_initialize(&parser)) {
		rc = lc_error_set(err, LC_ENOMEM, "%s: out of memory while parsing YAML",
				  ld.file);
		goto out;
	}
	parser_ok = 1;
	yaml_parser_set_input_string(&parser, (const unsigned char *)ld.data, ld.len);
	/* No guessing UTF-16 from a BOM: labctl's YAML is UTF-8, and our
	 * byte offsets for reader errors assume it. */
	yaml_parser_set_encoding(&parser, YAML_UTF8_ENCODING);

	while (!done) {
		if (!yaml_parser_parse(&parser, &ev)) {
			rc = syntax_error(&ld, &parser, err);
			goto out;
		}
		done = ev.type == YAML_STREAM_END_EVENT;
		rc = on_event(&ld, &ev, err);
		yaml_event_delete(&ev);
		if (rc)
			goto out;
	}

	out->file = ld.file;
	out->root = ld.root;
	ld.file = NULL;
	ld.root = NULL;
out:
	if (parser_ok)
		yaml_parser_delete(&parser);
	for (i = 0; i < ld.depth; i++) {
		lc_node_free(ld.stack[i].key);
		lc_node_free(ld.stack[i].node);
	}
	free(ld.stack);
	free(ld.keys.slots);
	lc_node_free(ld.root);
	free(ld.file);
	return rc;
}

int lc_yaml_load_file(struct lc_doc *out, const char *path,
		      const struct lc_yaml_limits *limits, struct lc_error *err)
{
	static const struct lc_yaml_limits defaults = LC_YAML_LIMITS_DEFAULT;
	const struct lc_yaml_limits *lim = limits ? limits : &defaults;
	struct lc_buf b = LC_BUF_INIT;
	struct stat st;
	int fd, rc = 0;

	out->file = NULL;
	out->root = NULL;
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		rc = lc_error_set(err, LC_EIO, "%s: %s", path, strerror(errno));
		goto out;
	}
	if (fstat(fd, &st) < 0) {
		rc = lc_error_set(err, LC_EIO, "%s: %s", path, strerror(errno));
		goto out;
	}
	if (S_ISDIR(st.st_mode)) {
		rc = lc_error_set(err, LC_EIO, "%s: %s", path, strerror(EISDIR));
		goto out;
	}
	if (S_ISREG(st.st_mode) && (uintmax_t)st.st_size > lim->max_bytes) {
		rc = lc_error_set(err, LC_EPARSE,
				  "%s: file is %jd bytes, larger than the limit of %zu",
				  path, (intmax_t)st.st_size, lim->max_bytes);
		goto out;
	}
	/* st_size may be stale or 0 (pipes, /proc): read to EOF, but never
	 * more than one byte past the limit. */
	for (;;) {
		size_t want = READ_CHUNK;
		ssize_t n;

		if (b.len > lim->max_bytes) {
			rc = lc_error_set(err, LC_EPARSE,
					  "%s: file is larger than the limit of %zu bytes",
					  path, lim->max_bytes);
			goto out;
		}
		if (want > lim->max_bytes - b.len + 1)
			want = lim->max_bytes - b.len + 1;
		lc_buf_grow(&b, want);
		n = read(fd, b.buf + b.len, want);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			rc = lc_error_set(err, LC_EIO, "%s: %s", path, strerror(errno));
			goto out;
		}
		if (n == 0)
			break;
		lc_buf_setlen(&b, b.len + (size_t)n);
	}
	rc = lc_yaml_load_buf(out, path, b.buf, b.len, lim, err);
out:
	if (fd >= 0)
		close(fd);
	lc_buf_release(&b);
	return rc;
}

void lc_doc_release(struct lc_doc *doc)
{
	if (!doc)
		return;
	lc_node_free(doc->root);
	free(doc->file);
	doc->root = NULL;
	doc->file = NULL;
}
