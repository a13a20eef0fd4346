/* dash.c - definitions -> desired API objects; desired vs existing ->
 * create, update, delete or nothing.  Pure: no network, no printing. */
#include "dash.h"

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "files.h"
#include "json.h"
#include "template.h"

#define DEF_MAX_BYTES (4u << 20)
#define NAME_MAX_LEN 100
#define DAY 86400LL

static const struct {
	const char *name;
	const char *path;
	const char *text_field;      /* where the marker goes; NULL: a tag */
	const char *title_field;
} kinds[LC_DASH_N_KINDS] = {
	[LC_DASH_DASHBOARD] = { "dashboard", "/api/v1/dashboard", "description", "title" },
	[LC_DASH_MONITOR] = { "monitor", "/api/v1/monitor", NULL, "name" },
	[LC_DASH_DOWNTIME] = { "downtime", "/api/v1/downtime", "message", NULL },
};

const char *lc_dash_kind_name(enum lc_dash_kind kind)
{
	return kinds[kind].name;
}

const char *lc_dash_kind_path(enum lc_dash_kind kind)
{
	return kinds[kind].path;
}

const char *lc_dash_action_name(enum lc_dash_action a)
{
	switch (a) {
	case LC_DASH_NOOP: return "unchanged";
	case LC_DASH_CREATE: return "create";
	case LC_DASH_UPDATE: return "update";
	case LC_DASH_DELETE: return "delete";
	case LC_DASH_KEEP: return "keep";
	case LC_DASH_CONFLICT: return "conflict";
	}
	return "?";
}

/* ---- names and markers ------------------------------------------------ */

static int valid_name(const char *s, size_t len)
{
	size_t i;

	if (!len || len > NAME_MAX_LEN)
		return 0;
	for (i = 0; i < len; i++) {
		char c = s[i];

		if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
		      (i && (c == '_' || c == '-' || c == '.'))))
			return 0;
	}
	return 1;
}

static struct lc_node *str_node(const char *s, size_t len)
{
	struct lc_node *n = lc_node_new_scalar(s, len);

	n->plain = 0;
	return n;
}

static size_t trimmed_len(const char *s, size_t len)
{
	while (len && (s[len - 1] == ' ' || s[len - 1] == '\t' || s[len - 1] == '\n' ||
		       s[len - 1] == '\r'))
		len--;
	return len;
}

/* The name in the last "[labctl:NAME]" of text. */
static char *marker_in(const char *text)
{
	const char *p = NULL, *s, *end;

	for (s = text; (s = strstr(s, "[" LC_DASH_MARKER_PREFIX)); s++)
		p = s;
	if (!p)
		return NULL;
	p += strlen("[" LC_DASH_MARKER_PREFIX);
	if (!(end = strchr(p, ']')) || !valid_name(p, (size_t)(end - p)))
		return NULL;
	return lc_xstrndup(p, (size_t)(end - p));
}

char *lc_dash_identity(enum lc_dash_kind kind, const struct lc_node *obj)
{
	const struct lc_node *v;
	size_t i, plen = strlen(LC_DASH_MARKER_PREFIX);

	if (!obj || obj->kind != LC_NODE_MAP)
		return NULL;
	if (kinds[kind].text_field) {
		v = lc_node_get(obj, kinds[kind].text_field);
		return lc_json_type(v) == LC_JSON_STRING ? marker_in(v->str) : NULL;
	}
	v = lc_node_get(obj, "tags");
	if (!v || v->kind != LC_NODE_SEQ)
		return NULL;
	for (i = 0; i < v->n_items; i++) {
		const struct lc_node *t = v->items[i];

		if (t->kind == LC_NODE_SCALAR && !strncmp(t->str, LC_DASH_MARKER_PREFIX, plen) &&
		    valid_name(t->str + plen, t->len - plen))
			return lc_xstrdup(t->str + plen);
	}
	return NULL;
}

void lc_dash_mark(struct lc_node *body, enum lc_dash_kind kind, const char *name)
{
	const char *field = kinds[kind].text_field;
	struct lc_buf b = LC_BUF_INIT;
	const struct lc_node *v;

	if (!field) {
		struct lc_node *tags = (struct lc_node *)lc_node_get(body, "tags");

		lc_buf_addf(&b, LC_DASH_MARKER_PREFIX "%s", name);
		if (!tags || tags->kind != LC_NODE_SEQ) {
			tags = lc_node_new(LC_NODE_SEQ, NULL, 0, 0);
			lc_node_map_set(body, lc_node_new_scalar("tags", 4), tags);
		}
		lc_node_seq_add(tags, str_node(b.buf, b.len));
		lc_buf_release(&b);
		return;
	}
	v = lc_node_get(body, field);
	if (lc_json_type(v) == LC_JSON_STRING && trimmed_len(v->str, v->len)) {
		lc_buf_add(&b, v->str, trimmed_len(v->str, v->len));
		lc_buf_adds(&b, "\n\n");
	}
	lc_buf_addf(&b, "[" LC_DASH_MARKER_PREFIX "%s]", name);
	lc_node_map_set(body, lc_node_new_scalar(field, strlen(field)), str_node(b.buf, b.len));
	lc_buf_release(&b);
}

/* ---- the template scope ------------------------------------------------ */

struct scope {
	const struct lc_inventory *inv;
	struct lc_node *hosts;
	struct lc_node *empty;
};

static struct lc_node *scalar(const char *s)
{
	return lc_node_new_scalar(s, strlen(s));
}

static const struct lc_node *scope_lookup(void *data, const char *name)
{
	struct scope *s = data;
	const struct lc_node *v;

	if (!strcmp(name, "hosts"))
		return s->hosts;
	if (!strcmp(name, "tags")) {
		v = s->inv ? lc_node_get(s->inv->doc.root, "tags") : NULL;
		return v ? v : s->empty;
	}
	return s->inv ? lc_node_get(s->inv->vars, name) : NULL;
}

static void scope_init(struct scope *s, const struct lc_inventory *inv)
{
	s->inv = inv;
	s->hosts = lc_inventory_hosts_node(inv);
	s->empty = lc_node_new(LC_NODE_SEQ, NULL, 0, 0);
}

static void scope_release(struct scope *s)
{
	lc_node_free(s->hosts);
	lc_node_free(s->empty);
}

/* Render every string value below n in place (keys are not templates). */
static int render_tree(struct lc_node *n, struct scope *s, struct lc_buf *path,
		       struct lc_error *err)
{
	size_t i, mark = path->len;
	int rc = 0;

	if (n->kind == LC_NODE_MAP) {
		for (i = 0; i < n->n_pairs && !rc; i++) {
			lc_buf_addf(path, "%s%s", mark ? "." : "", n->pairs[i].key->str);
			rc = render_tree(n->pairs[i].value, s, path, err);
			lc_buf_setlen(path, mark);
		}
		return rc;
	}
	if (n->kind == LC_NODE_SEQ) {
		for (i = 0; i < n->n_items && !rc; i++) {
			lc_buf_addf(path, "[%zu]", i);
			rc = render_tree(n->items[i], s, path, err);
			lc_buf_setlen(path, mark);
		}
		return rc;
	}
	if (memmem(n->str, n->len, "{{", 2)) {
		struct lc_buf name = LC_BUF_INIT, out = LC_BUF_INIT;
		int secret = 0;

		lc_node_where(&name, n);
		lc_buf_addf(&name, " '%s'", path->buf);
		rc = lc_template_render(&out, name.buf, n->str, n->len, scope_lookup, s, &secret,
					err);
		if (!rc && secret)
			rc = lc_node_error(err, LC_EPARSE, n, "'%s' uses a secret variable; "
					   "definitions are sent to the API and shown by plan, so "
					   "secrets are refused", path->buf);
		else if (!rc && memchr(out.buf, '\0', out.len))
			rc = lc_node_error(err, LC_EPARSE, n, "'%s' renders a NUL byte", path->buf);
		if (!rc) {
			free(n->str);
			n->len = out.len;
			n->str = lc_buf_detach(&out, NULL);
		}
		lc_buf_release(&out);
		lc_buf_release(&name);
	}
	return rc;
}

/* ---- loading definitions ------------------------------------------------- */

static int require(const struct lc_node *body, const char *key, enum lc_node_kind kind,
		   const char *kname, struct lc_error *err)
{
	const struct lc_node *v = lc_node_get(body, key);
	struct lc_buf what = LC_BUF_INIT;
	int rc;

	if (!v)
		return lc_node_error(err, LC_EPARSE, body, "a %s needs '%s'", kname, key);
	lc_buf_addf(&what, "'%s'", key);
	rc = lc_node_expect(v, kind, what.buf, err);
	lc_buf_release(&what);
	return rc;
}

static int optional(const struct lc_node *body, const char *key, enum lc_node_kind kind,
		    struct lc_error *err)
{
	const struct lc_node *v = lc_node_get(body, key);
	struct lc_buf what = LC_BUF_INIT;
	int rc;

	if (!v || lc_json_type(v) == LC_JSON_NULL)
		return 0;
	lc_buf_addf(&what, "'%s'", key);
	rc = lc_node_expect(v, kind, what.buf, err);
	lc_buf_release(&what);
	return rc;
}

static int check_strings(const struct lc_node *list, struct lc_error *err)
{
	size_t i;
	int rc;

	for (i = 0; list && list->kind == LC_NODE_SEQ && i < list->n_items; i++)
		if ((rc = lc_node_expect(list->items[i], LC_NODE_SCALAR, "a tag", err)))
			return rc;
	return 0;
}

static int validate(const struct lc_node *body, enum lc_dash_kind kind, struct lc_error *err)
{
	const char *kn = kinds[kind].name;
	const struct lc_node *v;
	int rc;

	if ((rc = lc_node_expect(body, LC_NODE_MAP, "a definition", err)))
		return rc;
	if ((v = lc_node_get(body, "id")))
		return lc_node_error(err, LC_EPARSE, v, "'id' is the API's: labctl finds its "
				     "objects by their labctl: marker (leave 'id' out)");
	switch (kind) {
	case LC_DASH_DASHBOARD:
		if ((rc = require(body, "title", LC_NODE_SCALAR, kn, err)) ||
		    (rc = require(body, "layout_type", LC_NODE_SCALAR, kn, err)) ||
		    (rc = require(body, "widgets", LC_NODE_SEQ, kn, err)) ||
		    (rc = optional(body, "description", LC_NODE_SCALAR, err)))
			return rc;
		break;
	case LC_DASH_MONITOR:
		if ((rc = require(body, "type", LC_NODE_SCALAR, kn, err)) ||
		    (rc = require(body, "query", LC_NODE_SCALAR, kn, err)) ||
		    (rc = optional(body, "options", LC_NODE_MAP, err)) ||
		    (rc = optional(body, "tags", LC_NODE_SEQ, err)) ||
		    (rc = check_strings(lc_node_get(body, "tags"), err)))
			return rc;
		if ((v = lc_node_get(body, "tags"))) {
			size_t i;

			for (i = 0; v->kind == LC_NODE_SEQ && i < v->n_items; i++)
				if (!strncmp(v->items[i]->str, LC_DASH_MARKER_PREFIX,
					     strlen(LC_DASH_MARKER_PREFIX)))
					return lc_node_error(err, LC_EPARSE, v->items[i],
							     "labctl adds its own '%s' tag (the "
							     "file's name): leave it out",
							     LC_DASH_MARKER_PREFIX "NAME");
		}
		break;
	case LC_DASH_DOWNTIME:
		if (!(v = lc_node_get(body, "scope")))
			return lc_node_error(err, LC_EPARSE, body, "a downtime needs 'scope'");
		if (v->kind == LC_NODE_MAP)
			return lc_node_error(err, LC_EPARSE, v,
					     "'scope' is a tag or a list of tags, not a mapping");
		if ((rc = check_strings(v, err)) ||
		    (rc = optional(body, "message", LC_NODE_SCALAR, err)) ||
		    (rc = optional(body, "monitor_tags", LC_NODE_SEQ, err)) ||
		    (rc = check_strings(lc_node_get(body, "monitor_tags"), err)) ||
		    (rc = optional(body, "recurrence", LC_NODE_MAP, err)))
			return rc;
		break;
	case LC_DASH_N_KINDS:
		break;
	}
	return 0;
}

/* "NAME.KIND.EXT" -> kind, name; 1 when the file is a definition at all. */
static int split_file(const char *shown, const char *base, enum lc_dash_kind *kind,
		      char **name, int *json, struct lc_error *err)
{
	const char *ext = strrchr(base, '.'), *k;
	size_t i;

	*name = NULL;
	if (!ext || (strcmp(ext, ".yaml") && strcmp(ext, ".yml") && strcmp(ext, ".json")))
		return 0;
	*json = !strcmp(ext, ".json");
	for (k = ext; k > base && k[-1] != '.'; k--)
		;
	for (i = 0; k > base && i < LC_DASH_N_KINDS; i++) {
		size_t kl = strlen(kinds[i].name);

		if ((size_t)(ext - k) == kl && !memcmp(k, kinds[i].name, kl)) {
			if (!valid_name(base, (size_t)(k - 1 - base)))
				return lc_error_set(err, LC_EPARSE, "%s: '%.*s' is not a valid "
						    "name (lowercase letters, digits, '_', '-', "
						    "'.'; it becomes the tag labctl:NAME)", shown,
						    (int)(k - 1 - base), base);
			*kind = (enum lc_dash_kind)i;
			*name = lc_xstrndup(base, (size_t)(k - 1 - base));
			return 1;
		}
	}
	return lc_error_set(err, LC_EPARSE, "%s: cannot tell what this defines: name it "
			    "NAME.dashboard%s, NAME.monitor%s or NAME.downtime%s", shown, ext, ext,
			    ext);
}

static int cmp_def(const void *a, const void *b)
{
	const struct lc_dash_def *x = a, *y = b;

	if (x->kind != y->kind)
		return x->kind < y->kind ? -1 : 1;
	return strcmp(x->name, y->name);
}

int lc_dash_load_buf(struct lc_dash_defs *defs, const char *file, const char *data,
		     size_t len, const struct lc_inventory *inv, struct lc_error *err)
{
	struct lc_doc doc = LC_DOC_INIT;
	struct lc_dash_def *d;
	struct lc_buf path = LC_BUF_INIT;
	struct scope s;
	const char *base = strrchr(file, '/') ? strrchr(file, '/') + 1 : file;
	enum lc_dash_kind kind = LC_DASH_DASHBOARD;
	char *name = NULL;
	size_t i;
	int json = 0, rc;

	if ((rc = split_file(file, base, &kind, &name, &json, err)) <= 0)
		return rc ? rc : lc_error_set(err, LC_EPARSE, "%s: not a .yaml, .yml or .json "
					      "file", file);
	for (i = 0; i < defs->n; i++)
		if (defs->items[i].kind == kind && !strcmp(defs->items[i].name, name)) {
			rc = lc_error_set(err, LC_EPARSE, "%s: %s '%s' is already defined by %s",
					  file, kinds[kind].name, name, defs->items[i].file);
			free(name);
			return rc;
		}
	rc = json ? lc_json_parse(&doc, file, data, len, NULL, err)
		  : lc_yaml_load_buf(&doc, file, data, len, NULL, err);
	if (rc)
		goto out;
	if (!doc.root) {
		rc = lc_error_set(err, LC_EPARSE, "%s: empty (expected a %s in the API's "
				  "schema)", file, kinds[kind].name);
		goto out;
	}
	if ((rc = validate(doc.root, kind, err)))
		goto out;
	scope_init(&s, inv);
	rc = render_tree(doc.root, &s, &path, err);
	scope_release(&s);
	lc_buf_release(&path);
	if (rc)
		goto out;
	lc_dash_mark(doc.root, kind, name);
	LC_ALLOC_GROW(defs->items, defs->n + 1, defs->alloc);
	d = &defs->items[defs->n++];
	d->kind = kind;
	d->name = name;
	d->file = doc.file;
	d->body = doc.root;
	name = NULL;
	doc.file = NULL;
	doc.root = NULL;
	qsort(defs->items, defs->n, sizeof(*defs->items), cmp_def);
out:
	free(name);
	lc_doc_release(&doc);
	return rc;
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

int lc_dash_load(struct lc_dash_defs *out, const char *dir, const struct lc_inventory *inv,
		 struct lc_error *err)
{
	struct lc_dash_defs defs = { NULL, 0, 0 };
	struct lc_buf data = LC_BUF_INIT;
	char **names = NULL;
	size_t n = 0, alloc = 0, i;
	struct dirent *e;
	DIR *d;
	int rc = 0;

	memset(out, 0, sizeof(*out));
	if (!(d = opendir(dir)))
		return lc_error_set(err, LC_EIO, "%s: %s (the dashboard, monitor and downtime "
				    "definitions)", dir, strerror(errno));
	while ((e = readdir(d))) {
		if (e->d_name[0] == '.')
			continue;
		LC_ALLOC_GROW(names, n + 1, alloc);
		names[n++] = lc_xstrdup(e->d_name);
	}
	closedir(d);
	if (n)
		qsort(names, n, sizeof(*names), cmp_str);
	for (i = 0; i < n && !rc; i++) {
		enum lc_dash_kind kind;
		char *name, *path = lc_xasprintf("%s/%s", dir, names[i]);
		int json, r;

		if ((r = split_file(path, names[i], &kind, &name, &json, err)) <= 0) {
			rc = r;
			free(path);
			continue;
		}
		free(name);
		if ((r = lc_file_read(&data, path, DEF_MAX_BYTES)) < 0)
			rc = lc_error_set(err, LC_EIO, "%s: %s", path, r == -EFBIG ?
					  "larger than 4 MiB" : strerror(-r));
		else
			rc = lc_dash_load_buf(&defs, path, data.buf, data.len, inv, err);
		free(path);
	}
	for (i = 0; i < n; i++)
		free(names[i]);
	free(names);
	lc_buf_release(&data);
	if (!rc)
		rc = lc_dash_check(&defs, err);
	if (rc) {
		lc_dash_defs_release(&defs);
		return rc;
	}
	*out = defs;
	return 0;
}

int lc_dash_check(const struct lc_dash_defs *defs, struct lc_error *err)
{
	size_t i, j, k, plen = strlen(LC_DASH_MARKER_PREFIX);

	for (i = 0; i < defs->n; i++) {
		const struct lc_node *mt;

		if (defs->items[i].kind != LC_DASH_DOWNTIME ||
		    !(mt = lc_node_get(defs->items[i].body, "monitor_tags")) ||
		    mt->kind != LC_NODE_SEQ)
			continue;
		for (j = 0; j < mt->n_items; j++) {
			const char *t = mt->items[j]->str;
			int found = 0;

			if (strncmp(t, LC_DASH_MARKER_PREFIX, plen))
				continue;
			for (k = 0; k < defs->n && !found; k++)
				found = defs->items[k].kind == LC_DASH_MONITOR &&
					!strcmp(defs->items[k].name, t + plen);
			if (!found)
				return lc_node_error(err, LC_EPARSE, mt->items[j],
						     "'monitor_tags' names '%s' but no monitor '%s' "
						     "is defined (%s.monitor.yaml)", t, t + plen,
						     t + plen);
		}
	}
	return 0;
}

void lc_dash_defs_release(struct lc_dash_defs *defs)
{
	size_t i;

	for (i = 0; i < defs->n; i++) {
		lc_node_free(defs->items[i].body);
		free(defs->items[i].name);
		free(defs->items[i].file);
	}
	free(defs->items);
	memset(defs, 0, sizeof(*defs));
}

/* ---- what the API holds ---------------------------------------------------- */

int lc_dash_remotes_add_list(struct lc_dash_remotes *r, enum lc_dash_kind kind,
			     struct lc_node *list, struct lc_error *err)
{
	struct lc_node *items = list;
	size_t i;
	int rc = 0;

	if (kind == LC_DASH_DASHBOARD && list && list->kind == LC_NODE_MAP)
		items = (struct lc_node *)lc_node_get(list, "dashboards");
	if (!items || items->kind != LC_NODE_SEQ) {
		rc = lc_error_set(err, LC_EREMOTE, "the API's list of %ss is not %s", kinds[kind].name,
				  kind == LC_DASH_DASHBOARD ? "{\"dashboards\": [...]}" : "an array");
		goto out;
	}
	for (i = 0; i < items->n_items; i++) {
		struct lc_node *o = items->items[i];
		const struct lc_node *id, *t;
		struct lc_dash_remote *x;

		if (o->kind != LC_NODE_MAP || !(id = lc_node_get(o, "id")) ||
		    id->kind != LC_NODE_SCALAR) {
			rc = lc_error_set(err, LC_EREMOTE, "the API listed a %s without an id",
					  kinds[kind].name);
			goto out;
		}
		if (!id->len || strspn(id->str, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
				       "0123456789_-") != id->len) {
			rc = lc_error_set(err, LC_EREMOTE, "the API listed a %s whose id is not "
					  "letters, digits, '-' and '_'", kinds[kind].name);
			goto out;
		}
		if (kind == LC_DASH_DOWNTIME &&
		    (lc_json_type(lc_node_get(o, "canceled")) != LC_JSON_NULL ||
		     ((t = lc_node_get(o, "disabled")) && lc_json_type(t) == LC_JSON_BOOL &&
		      (t->str[0] == 't' || t->str[0] == 'T'))))
			continue;
		LC_ALLOC_GROW(r->items, r->n + 1, r->alloc);
		x = &r->items[r->n++];
		memset(x, 0, sizeof(*x));
		x->kind = kind;
		x->id = lc_xstrdup(id->str);
		x->name = lc_dash_identity(kind, o);
		if (kinds[kind].title_field && (t = lc_node_get(o, kinds[kind].title_field)) &&
		    t->kind == LC_NODE_SCALAR)
			x->title = lc_xstrdup(t->str);
		x->body = lc_node_dup(o);
	}
out:
	lc_node_free(list);
	return rc;
}

void lc_dash_remote_set_body(struct lc_dash_remote *r, struct lc_node *body)
{
	lc_node_free(r->body);
	r->body = body;
}

void lc_dash_remotes_release(struct lc_dash_remotes *r)
{
	size_t i;

	for (i = 0; i < r->n; i++) {
		free(r->items[i].id);
		free(r->items[i].name);
		free(r->items[i].title);
		lc_node_free(r->items[i].body);
	}
	free(r->items);
	memset(r, 0, sizeof(*r));
}

/* ---- desired vs existing ------------------------------------------------------ */

static int set_like(const char *key)
{
	return key && (!strcmp(key, "tags") || !strcmp(key, "monitor_tags") ||
		       !strcmp(key, "scope") || !strcmp(key, "week_days"));
}

static int scalar_eq(const struct lc_node *a, const struct lc_node *b)
{
	enum lc_json_type ta = lc_json_type(a), tb = lc_json_type(b);

	if (ta != tb)
		return 0;
	switch (ta) {
	case LC_JSON_NULL:
		return 1;
	case LC_JSON_BOOL:
		return (a->str[0] == 't' || a->str[0] == 'T') ==
		       (b->str[0] == 't' || b->str[0] == 'T');
	case LC_JSON_NUMBER:
		return !strcmp(a->str, b->str) || strtod(a->str, NULL) == strtod(b->str, NULL);
	case LC_JSON_STRING: {
		size_t la = trimmed_len(a->str, a->len), lb = trimmed_len(b->str, b->len);

		return la == lb && !memcmp(a->str, b->str, la);
	}
	default:
		return 0;
	}
}

/* Two lists of scalars hold the same items, in any order. */
static int same_set(const struct lc_node *a, const struct lc_node *b)
{
	unsigned char *used;
	size_t i, j;
	int ok = 1;

	if (a->n_items != b->n_items)
		return 0;
	for (i = 0; i < a->n_items; i++)
		if (a->items[i]->kind != LC_NODE_SCALAR || b->items[i]->kind != LC_NODE_SCALAR)
			return 0;
	used = lc_xcalloc(b->n_items + 1, 1);
	for (i = 0; i < a->n_items && ok; i++) {
		for (j = 0; j < b->n_items; j++)
			if (!used[j] && scalar_eq(a->items[i], b->items[j]))
				break;
		if (j == b->n_items)
			ok = 0;
		else
			used[j] = 1;
	}
	free(used);
	return ok;
}

static struct lc_node *view_rec(const char *key, const struct lc_node *d,
				const struct lc_node *e)
{
	enum lc_json_type td = lc_json_type(d), te = lc_json_type(e);
	struct lc_node *out;
	size_t i;

	if (td == LC_JSON_OBJECT && te == LC_JSON_OBJECT) {
		out = lc_node_new(LC_NODE_MAP, NULL, 0, 0);
		for (i = 0; i < d->n_pairs; i++) {
			const struct lc_node *dv = d->pairs[i].value, *ev;
			const char *k = d->pairs[i].key->str;

			if (!(ev = lc_node_get(e, k))) {
				if (lc_json_type(dv) == LC_JSON_NULL)
					lc_node_map_set(out, scalar(k), lc_node_dup(dv));
				continue;
			}
			lc_node_map_set(out, scalar(k), view_rec(k, dv, ev));
		}
		return out;
	}
	if (td == LC_JSON_ARRAY && te == LC_JSON_ARRAY) {
		if (set_like(key))
			return lc_node_dup(same_set(d, e) ? d : e);
		out = lc_node_new(LC_NODE_SEQ, NULL, 0, 0);
		for (i = 0; i < e->n_items; i++)
			lc_node_seq_add(out, i < d->n_items ? view_rec(NULL, d->items[i], e->items[i])
						       : lc_node_dup(e->items[i]));
		return out;
	}
	if (set_like(key) && td == LC_JSON_STRING && te == LC_JSON_ARRAY && e->n_items == 1 &&
	    scalar_eq(d, e->items[0]))
		return lc_node_dup(d);
	if (td != LC_JSON_OBJECT && td != LC_JSON_ARRAY && scalar_eq(d, e))
		return lc_node_dup(d);
	return lc_node_dup(e);
}

static int get_ll(long long *out, const struct lc_node *n)
{
	char *end;

	if (lc_json_type(n) != LC_JSON_NUMBER)
		return -1;
	*out = (long long)strtod(n->str, &end);
	return 0;
}

static int is_metric_alert(const struct lc_node *n)
{
	return lc_json_type(n) == LC_JSON_STRING &&
	       (!strcmp(n->str, "metric alert") || !strcmp(n->str, "query alert"));
}

struct lc_node *lc_dash_view(enum lc_dash_kind kind, const struct lc_node *desired,
			     const struct lc_node *existing)
{
	struct lc_node *v;

	if (!existing)
		return NULL;
	v = view_rec(NULL, desired, existing);
	if (v->kind != LC_NODE_MAP || desired->kind != LC_NODE_MAP)
		return v;
	if (kind == LC_DASH_MONITOR && is_metric_alert(lc_node_get(desired, "type")) &&
	    is_metric_alert(lc_node_get(existing, "type")))
		lc_node_map_set(v, scalar("type"), lc_node_dup(lc_node_get(desired, "type")));
	if (kind == LC_DASH_DOWNTIME &&
	    lc_json_type(lc_node_get(desired, "recurrence")) == LC_JSON_OBJECT) {
		long long ds, de, es, ee;

		if (!get_ll(&ds, lc_node_get(desired, "start")) &&
		    !get_ll(&de, lc_node_get(desired, "end")) &&
		    !get_ll(&es, lc_node_get(existing, "start")) &&
		    !get_ll(&ee, lc_node_get(existing, "end")) &&
		    de - ds == ee - es && ((es - ds) % DAY + DAY) % DAY == 0) {
			lc_node_map_set(v, scalar("start"),
					lc_node_dup(lc_node_get(desired, "start")));
			lc_node_map_set(v, scalar("end"), lc_node_dup(lc_node_get(desired, "end")));
		}
	}
	return v;
}

int lc_dash_same(enum lc_dash_kind kind, const struct lc_node *desired,
		 const struct lc_node *existing)
{
	struct lc_node *v = lc_dash_view(kind, desired, existing);
	struct lc_buf a = LC_BUF_INIT, b = LC_BUF_INIT;
	int same;

	if (!v)
		return 0;
	lc_json_write(&a, v, -1);
	lc_json_write(&b, desired, -1);
	same = a.len == b.len && !memcmp(a.buf, b.buf, a.len);
	lc_buf_release(&a);
	lc_buf_release(&b);
	lc_node_free(v);
	return same;
}

static int json_equal(const struct lc_node *a, const struct lc_node *b)
{
	struct lc_buf x = LC_BUF_INIT, y = LC_BUF_INIT;
	int eq;

	lc_json_write(&x, a, -1);
	lc_json_write(&y, b, -1);
	eq = x.len == y.len && !memcmp(x.buf, y.buf, x.len);
	lc_buf_release(&x);
	lc_buf_release(&y);
	return eq;
}

static void add_change(struct lc_node *out, const char *path, const struct lc_node *old,
		       const struct lc_node *new)
{
	struct lc_node *c = lc_json_push(out, lc_json_object());

	lc_json_set(c, "path", lc_json_str(path));
	if (old)
		lc_json_set(c, "old", lc_node_dup(old));
	if (new)
		lc_json_set(c, "new", lc_node_dup(new));
}

static void changes_rec(struct lc_node *out, struct lc_buf *path, const struct lc_node *v,
			const struct lc_node *d)
{
	size_t i, mark = path->len;

	if (v && d && v->kind == LC_NODE_MAP && d->kind == LC_NODE_MAP) {
		for (i = 0; i < d->n_pairs; i++) {
			lc_buf_addf(path, "%s%s", mark ? "." : "", d->pairs[i].key->str);
			changes_rec(out, path, lc_node_get(v, d->pairs[i].key->str),
				    d->pairs[i].value);
			lc_buf_setlen(path, mark);
		}
		return;
	}
	if (v && d && v->kind == LC_NODE_SEQ && d->kind == LC_NODE_SEQ &&
	    v->n_items == d->n_items) {
		for (i = 0; i < d->n_items; i++) {
			lc_buf_addf(path, "[%zu]", i);
			changes_rec(out, path, v->items[i], d->items[i]);
			lc_buf_setlen(path, mark);
		}
		return;
	}
	if (!v || !json_equal(v, d))
		add_change(out, path->buf, v, d);
}

struct lc_node *lc_dash_changes(const struct lc_node *view, const struct lc_node *desired)
{
	struct lc_buf path = LC_BUF_INIT;
	struct lc_node *out = lc_json_array();

	changes_rec(out, &path, view, desired);
	lc_buf_release(&path);
	return out;
}

/* ---- deciding ------------------------------------------------------------------ */

static struct lc_dash_step *add_step(struct lc_dash_plan *p, enum lc_dash_kind kind,
				     enum lc_dash_action a, const char *name)
{
	struct lc_dash_step *s;

	LC_ALLOC_GROW(p->steps, p->n + 1, p->alloc);
	s = &p->steps[p->n++];
	memset(s, 0, sizeof(*s));
	s->kind = kind;
	s->action = a;
	s->name = name;
	return s;
}

static int defined(const struct lc_dash_defs *defs, enum lc_dash_kind kind, const char *name)
{
	size_t i;

	for (i = 0; i < defs->n; i++)
		if (defs->items[i].kind == kind && !strcmp(defs->items[i].name, name))
			return 1;
	return 0;
}

void lc_dash_decide(struct lc_dash_plan *out, const struct lc_dash_defs *defs,
		    const struct lc_dash_remotes *remotes, int prune)
{
	size_t i, j;
	int k;

	memset(out, 0, sizeof(*out));
	for (i = 0; i < defs->n; i++) {
		const struct lc_dash_def *d = &defs->items[i];
		const struct lc_dash_remote *match = NULL;
		struct lc_buf ids = LC_BUF_INIT;
		struct lc_dash_step *s;
		size_t n = 0;

		for (j = 0; j < remotes->n; j++) {
			const struct lc_dash_remote *r = &remotes->items[j];

			if (r->kind != d->kind || !r->name || strcmp(r->name, d->name))
				continue;
			lc_buf_addf(&ids, "%s%s", n ? ", " : "", r->id);
			if (!n++)
				match = r;
		}
		if (!match) {
			s = add_step(out, d->kind, LC_DASH_CREATE, d->name);
		} else if (n > 1) {
			s = add_step(out, d->kind, LC_DASH_CONFLICT, d->name);
			s->why = lc_xasprintf("%zu %ss carry the marker labctl:%s (ids %s): remove "
					      "it from all but one", n, kinds[d->kind].name,
					      d->name, ids.buf);
		} else {
			int same = lc_dash_same(d->kind, d->body, match->body);

			s = add_step(out, d->kind, same ? LC_DASH_NOOP : LC_DASH_UPDATE, d->name);
			s->remote = match;
			s->view = lc_dash_view(d->kind, d->body, match->body);
		}
		s->def = d;
		lc_buf_release(&ids);
	}
	for (k = LC_DASH_N_KINDS - 1; k >= 0; k--)
		for (j = 0; j < remotes->n; j++) {
			const struct lc_dash_remote *r = &remotes->items[j];
			struct lc_dash_step *s;

			if ((int)r->kind != k || !r->name || defined(defs, r->kind, r->name))
				continue;
			s = add_step(out, r->kind, prune ? LC_DASH_DELETE : LC_DASH_KEEP, r->name);
			s->remote = r;
		}
}

void lc_dash_plan_release(struct lc_dash_plan *plan)
{
	size_t i;

	for (i = 0; i < plan->n; i++) {
		lc_node_free(plan->steps[i].view);
		free(plan->steps[i].why);
	}
	free(plan->steps);
	memset(plan, 0, sizeof(*plan));
}
