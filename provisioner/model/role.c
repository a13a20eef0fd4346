/* role.c - load and check roles/<name>/role.yaml. */
#include "role.h"

#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "inventory.h"
#include "op.h"
#include "source.h"

int lc_role_str(const char **out, const struct lc_node *map, const char *key,
		   int required, const char *what, struct lc_error *err)
{
	const struct lc_node *v = lc_node_get(map, key);

	*out = NULL;
	if (!v) {
		if (required)
			return lc_node_error(err, LC_EPARSE, map, "%s needs '%s'", what, key);
		return 0;
	}
	if (v->kind != LC_NODE_SCALAR || !v->len)
		return lc_node_error(err, LC_EPARSE, v, "expected a non-empty string for '%s'", key);
	*out = v->str;
	return 0;
}

static int get_mode(int *out, const struct lc_node *map, struct lc_error *err)
{
	const struct lc_node *v = lc_node_get(map, "mode");
	char *end;
	long m;

	*out = -1;
	if (!v)
		return 0;
	if (v->kind == LC_NODE_SCALAR && v->len) {
		m = strtol(v->str, &end, 8);
		if (!*end && m >= 0 && m <= 07777) {
			*out = (int)m;
			return 0;
		}
	}
	return lc_node_error(err, LC_EPARSE, v, "expected an octal mode such as \"0644\" for 'mode'");
}

/* src must name something inside role_dir/sub - or, written @apps/... or
 * @build/..., inside the project's apps/ or build/ directory - after
 * resolving symlinks. */
int lc_role_src(struct lc_op *op, const struct lc_role *r, const char *sub, int *is_tree,
		const struct lc_node *v, struct lc_error *err)
{
	char *base = NULL, *want = NULL, *real_base = NULL, *real = NULL;
	const char *rel = v->str, *top = NULL;
	struct lc_source *fs = NULL, *src;
	enum lc_src_kind kind = LC_SRC_MISSING;
	size_t bl;
	int rc = 0, mode;

	if (!strncmp(rel, "@apps/", 6) || !strncmp(rel, "@build/", 7)) {
		top = rel[1] == 'a' ? "apps" : "build";
		rel += strlen(top) + 2;
	}
	if (!*rel || rel[0] == '/' || !strcmp(rel, "..") || !strncmp(rel, "../", 3) ||
	    strstr(rel, "/../") || (strlen(rel) >= 3 && !strcmp(rel + strlen(rel) - 3, "/..")))
		return lc_node_error(err, LC_EPARSE, v,
				     "src '%s' must be a relative path inside %s/%s", v->str,
				     top ? r->project_dir : r->dir, top ? top : sub);
	fs = lc_source_fs();
	base = top ? lc_xasprintf("%s/%s", r->project_dir, top) : lc_xasprintf("%s/%s", r->dir, sub);
	want = lc_xasprintf("%s/%s", base, rel);
	/* build output is never in a commit: @build/ always comes from the
	 * work tree */
	op->src_source = top && !strcmp(top, "build") ? NULL : r->source;
	src = op->src_source ? op->src_source : fs;
	if (src->ops->resolve(src, base, &real_base, NULL) ||
	    src->ops->resolve(src, want, &real, err)) {
		rc = lc_node_error(err, LC_EPARSE, v, "src '%s': %s%s", v->str,
				   err ? err->msg : want,
				   top && !strcmp(top, "build") ? " (build labctl first: ./bootstrap)" : "");
		goto out;
	}
	if (!top) {
		char *real_role = NULL, *expect = NULL;
		int same;

		src->ops->resolve(src, r->dir, &real_role, NULL);
		expect = real_role ? lc_xasprintf("%s/%s", real_role, sub) : NULL;
		same = expect && !strcmp(expect, real_base);
		free(real_role);
		free(expect);
		if (!same) {
			rc = lc_node_error(err, LC_EPARSE, v,
					   "src '%s' resolves to %s, outside the role's %s directory",
					   v->str, real, sub);
			goto out;
		}
	}
	bl = strlen(real_base);
	if (strncmp(real, real_base, bl) || (real[bl] != '/' && real[bl] != '\0')) {
		rc = lc_node_error(err, LC_EPARSE, v,
				   "src '%s' resolves to %s, outside the role's %s directory",
				   v->str, real, sub);
		goto out;
	}
	if (src->ops->stat(src, real, &kind, &mode, err) || kind == LC_SRC_MISSING ||
	    kind == LC_SRC_LINK) {
		rc = lc_node_error(err, LC_EPARSE, v, "src '%s': %s is %s", v->str, real,
				   kind == LC_SRC_LINK ? "a symbolic link" : "missing");
		goto out;
	}
	if (is_tree)
		*is_tree = kind == LC_SRC_DIR;
	else if (kind == LC_SRC_DIR) {
		rc = lc_node_error(err, LC_EPARSE, v, "src '%s' is a directory; only 'file' copies trees",
				   v->str);
		goto out;
	}
	op->src = real;
	real = NULL;
out:
	lc_source_free(fs);
	free(base);
	free(want);
	free(real_base);
	free(real);
	return rc;
}

int lc_role_env(const struct lc_node **out, const struct lc_node *body, struct lc_error *err)
{
	const struct lc_node *env;
	size_t i, j;
	int rc;

	if (!(*out = env = lc_node_get(body, "env")))
		return 0;
	if ((rc = lc_node_expect(env, LC_NODE_MAP, "'env'", err)))
		return rc;
	for (i = 0; i < env->n_pairs; i++) {
		const char *k = env->pairs[i].key->str;

		for (j = 0; k[j]; j++)
			if (!((k[j] >= 'A' && k[j] <= 'Z') || (k[j] >= 'a' && k[j] <= 'z') ||
			      k[j] == '_' || (j && k[j] >= '0' && k[j] <= '9')))
				return lc_node_error(err, LC_EPARSE, env->pairs[i].key,
						     "invalid environment variable name '%s'", k);
		if ((rc = lc_node_expect(env->pairs[i].value, LC_NODE_SCALAR,
					 "an env value", err)))
			return rc;
	}
	return 0;
}

int lc_role_meta(struct lc_op *op, const struct lc_node *body, struct lc_error *err)
{
	int rc;

	if ((rc = get_mode(&op->mode, body, err)) ||
	    (rc = lc_role_str(&op->owner, body, "owner", 0, op->type->name, err)) ||
	    (rc = lc_role_str(&op->group, body, "group", 0, op->type->name, err)))
		return rc;
	return 0;
}

/* when: "NAME == VALUE" or "NAME != VALUE"; NAME a (dotted) variable,
 * VALUE a word or a quoted string. */
static int parse_when(struct lc_op *op, const struct lc_node *w, struct lc_error *err)
{
	const char *s, *p, *q;
	size_t n;

	op->when = w;
	if (w->kind != LC_NODE_SCALAR)
		return lc_node_error(err, LC_EPARSE, w, "'when' is a condition, as in "
				     "\"agent.flavor == lab\"");
	s = w->str;
	while (*s == ' ')
		s++;
	for (p = s; *p && (isalnum((unsigned char)*p) || *p == '_' || *p == '.'); p++)
		;
	n = (size_t)(p - s);
	while (*p == ' ')
		p++;
	if (!n || !isalpha((unsigned char)*s) || (strncmp(p, "==", 2) && strncmp(p, "!=", 2)))
		return lc_node_error(err, LC_EPARSE, w, "'when: %s': expected VARIABLE == VALUE "
				     "or VARIABLE != VALUE", w->str);
	op->when_negate = p[0] == '!';
	for (p += 2; *p == ' '; p++)
		;
	q = p + strlen(p);
	while (q > p && q[-1] == ' ')
		q--;
	if (q - p >= 2 && (*p == '"' || *p == '\'') && q[-1] == *p) {
		p++;
		q--;
	}
	if (q == p)
		return lc_node_error(err, LC_EPARSE, w, "'when: %s': no value to compare with",
				     w->str);
	op->when_var = lc_xstrndup(s, n);
	op->when_value = lc_xstrndup(p, (size_t)(q - p));
	return 0;
}

/* An op is a map with one key, its kind, whose value is its body; and
 * optionally 'when', a condition on the host. */
static int load_op(struct lc_role *r, struct lc_op *op, const struct lc_node *n,
		   struct lc_error *err)
{
	const struct lc_op_type *const *types = lc_op_types();
	struct lc_buf kinds = LC_BUF_INIT, what = LC_BUF_INIT;
	const struct lc_node *body, *kind = NULL;
	const char *name;
	size_t i, n_kinds = 0;
	int rc;

	op->role = r->name;
	op->where = n;
	op->mode = -1;
	if ((rc = lc_node_expect(n, LC_NODE_MAP, "an op", err)))
		return rc;
	for (i = 0; types[i]; i++)
		lc_buf_addf(&kinds, "%s%s", i ? (types[i + 1] ? ", " : " or ") : "", types[i]->name);
	for (i = 0; i < n->n_pairs; i++) {
		if (!strcmp(n->pairs[i].key->str, "when") && !op->when) {
			if ((rc = parse_when(op, n->pairs[i].value, err)))
				goto out;
		} else {
			n_kinds++;
			if (!kind)
				kind = n->pairs[i].key;
			body = n->pairs[i].value;
		}
	}
	if (n_kinds != 1 || !lc_op_type_find(kind->str)) {
		rc = lc_node_error(err, LC_EPARSE, kind ? kind : n,
				   n_kinds == 1 ? "unknown op '%s' (expected %s)" :
				   "an op has exactly one key%.0s, its kind (and maybe 'when'): %s",
				   kind ? kind->str : "", kinds.buf);
		goto out;
	}
	name = kind->str;
	op->type = lc_op_type_find(name);
	lc_buf_addf(&what, "a%s %s op", strchr("aeiou", name[0]) ? "n" : "", name);
	if ((rc = lc_node_expect(body, LC_NODE_MAP, name, err)) ||
	    (rc = lc_node_check_keys(body, op->type->keys, what.buf, err)))
		goto out;
	rc = op->type->parse(op, body, r, err);
out:
	lc_buf_release(&kinds);
	lc_buf_release(&what);
	return rc;
}

int lc_role_load(struct lc_role *out, const char *roles_dir, const char *project_dir,
		 const char *name, struct lc_source *source, struct lc_error *err)
{
	static const char *const keys[] = { "description", "defaults", "ops", "health", NULL };
	static const char *const health_keys[] = { "url", "status", "timeout", NULL };
	const struct lc_node *root, *ops;
	char *path;
	size_t i;
	int rc;

	memset(out, 0, sizeof(*out));
	out->name = lc_xstrdup(name);
	out->dir = lc_xasprintf("%s/%s", roles_dir, name);
	out->project_dir = lc_xstrdup(project_dir);
	out->source = source;
	path = lc_xasprintf("%s/role.yaml", out->dir);
	if ((rc = lc_source_load_yaml(&out->doc, source, path, err))) {
		if (rc == LC_EIO)
			rc = lc_error_set(err, LC_EPARSE, "role '%s': %s does not exist", name, path);
		goto fail;
	}
	root = out->doc.root;
	if (!root) {
		rc = lc_error_set(err, LC_EPARSE, "%s: the role is empty (expected 'ops')", path);
		goto fail;
	}
	if ((rc = lc_node_expect(root, LC_NODE_MAP, "a role", err)) ||
	    (rc = lc_node_check_keys(root, keys, "a role", err)))
		goto fail;
	if ((out->defaults = lc_node_get(root, "defaults")) &&
	    (rc = lc_node_expect(out->defaults, LC_NODE_MAP, "'defaults'", err)))
		goto fail;
	if ((out->health = lc_node_get(root, "health"))) {
		if ((rc = lc_node_expect(out->health, LC_NODE_SEQ, "'health'", err)))
			goto fail;
		for (i = 0; i < out->health->n_items; i++) {
			const struct lc_node *h = out->health->items[i], *v;
			long x;

			if ((rc = lc_node_expect(h, LC_NODE_MAP, "a health check", err)) ||
			    (rc = lc_node_check_keys(h, health_keys, "a health check", err)))
				goto fail;
			if (!(v = lc_node_get(h, "url")) || v->kind != LC_NODE_SCALAR ||
			    (strncmp(v->str, "http://", 7) && strncmp(v->str, "https://", 8))) {
				rc = lc_node_error(err, LC_EPARSE, v ? v : h,
						   "a health check needs an http:// or https:// 'url'");
				goto fail;
			}
			if (((v = lc_node_get(h, "status")) && (rc = lc_node_int(&x, v, 100, 599, err))) ||
			    ((v = lc_node_get(h, "timeout")) && (rc = lc_node_int(&x, v, 1, 600, err))))
				goto fail;
		}
	}
	if (!(ops = lc_node_get(root, "ops"))) {
		rc = lc_error_set(err, LC_EPARSE, "%s: the role has no 'ops'", path);
		goto fail;
	}
	if ((rc = lc_node_expect(ops, LC_NODE_SEQ, "'ops'", err)))
		goto fail;
	out->ops = lc_xcalloc(ops->n_items + 1, sizeof(*out->ops));
	for (i = 0; i < ops->n_items; i++) {
		out->n_ops++;
		if ((rc = load_op(out, &out->ops[i], ops->items[i], err)))
			goto fail;
	}
	free(path);
	return 0;
fail:
	free(path);
	lc_role_release(out);
	return rc;
}

void lc_role_release(struct lc_role *r)
{
	size_t i;

	for (i = 0; i < r->n_ops; i++) {
		free(r->ops[i].src);
		free(r->ops[i].when_var);
		free(r->ops[i].when_value);
		if (r->ops[i].type && r->ops[i].type->release)
			r->ops[i].type->release(&r->ops[i]);
	}
	free(r->ops);
	free(r->name);
	free(r->dir);
	free(r->project_dir);
	lc_doc_release(&r->doc);
	memset(r, 0, sizeof(*r));
}

const struct lc_role *lc_roles_find(const struct lc_roles *rs, const char *name)
{
	size_t i;

	for (i = 0; i < rs->n; i++)
		if (!strcmp(rs->roles[i].name, name))
			return &rs->roles[i];
	return NULL;
}

static int add_role(struct lc_roles *rs, const struct lc_inventory *inv, const char *name,
		    const struct lc_node *where, struct lc_error *err)
{
	enum lc_src_kind kind = LC_SRC_MISSING;
	struct stat st;
	char *path;
	int rc, mode;

	if (lc_roles_find(rs, name))
		return 0;
	path = lc_xasprintf("%s/%s/role.yaml", inv->roles_dir, name);
	if (inv->source)
		inv->source->ops->stat(inv->source, path, &kind, &mode, NULL);
	else
		kind = stat(path, &st) == 0 ? LC_SRC_FILE : LC_SRC_MISSING;
	if (kind != LC_SRC_FILE && where) {
		rc = lc_node_error(err, LC_EPARSE, where, "undefined role '%s' (there is no %s)",
				   name, path);
		free(path);
		return rc;
	}
	free(path);
	rs->roles = lc_xrealloc(rs->roles, (rs->n + 1) * sizeof(*rs->roles));
	if ((rc = lc_role_load(&rs->roles[rs->n], inv->roles_dir, inv->project_dir, name,
			       inv->source, err)))
		return rc;
	rs->n++;
	return 0;
}

int lc_roles_load(struct lc_roles *out, const struct lc_inventory *inv, struct lc_error *err)
{
	enum lc_src_kind kind = LC_SRC_MISSING;
	struct stat st;
	int mode;
	char *base;
	size_t i, j;
	int rc = 0;

	memset(out, 0, sizeof(*out));
	base = lc_xasprintf("%s/base/role.yaml", inv->roles_dir);
	if (inv->source)
		inv->source->ops->stat(inv->source, base, &kind, &mode, NULL);
	else
		kind = stat(base, &st) == 0 ? LC_SRC_FILE : LC_SRC_MISSING;
	if (kind == LC_SRC_FILE)
		rc = add_role(out, inv, "base", NULL, err);
	free(base);
	for (i = 0; !rc && i < inv->n_hosts; i++)
		for (j = 0; !rc && j < inv->hosts[i].n_roles; j++)
			rc = add_role(out, inv, inv->hosts[i].roles[j],
				      inv->hosts[i].roles_node->items[j], err);
	if (rc)
		lc_roles_release(out);
	return rc;
}

void lc_roles_release(struct lc_roles *rs)
{
	size_t i;

	for (i = 0; i < rs->n; i++)
		lc_role_release(&rs->roles[i]);
	free(rs->roles);
	memset(rs, 0, sizeof(*rs));
}
