/* role.c - load and check roles/<name>/role.yaml. */
#include "role.h"

#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "inventory.h"
#include "source.h"

const char *lc_op_kind_name(enum lc_op_kind k)
{
	switch (k) {
	case LC_OP_DIR: return "dir";
	case LC_OP_FILE: return "file";
	case LC_OP_TEMPLATE: return "template";
	case LC_OP_EDIT: return "edit";
	case LC_OP_COMMAND: return "command";
	case LC_OP_SERVICE: return "service";
	case LC_OP_PACKAGE: return "package";
	}
	return "?";
}

static int get_str(const char **out, const struct lc_node *map, const char *key,
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
static int resolve_src(struct lc_op *op, const struct lc_role *r, const char *sub,
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
	op->is_tree = kind == LC_SRC_DIR;
	if (op->is_tree && op->kind != LC_OP_FILE) {
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

static int load_edits(struct lc_op *op, const struct lc_node *list, struct lc_error *err)
{
	static const char *const line_keys[] = { "line", "match", "after", NULL };
	static const char *const absent_keys[] = { "absent", NULL };
	size_t i;
	int rc;

	if ((rc = lc_node_expect(list, LC_NODE_SEQ, "'edits'", err)))
		return rc;
	if (!list->n_items)
		return lc_node_error(err, LC_EPARSE, list, "'edits' is empty");
	op->edits = lc_xcalloc(list->n_items, sizeof(*op->edits));
	for (i = 0; i < list->n_items; i++) {
		const struct lc_node *e = list->items[i];
		struct lc_edit_spec *s = &op->edits[op->n_edits++];

		s->where = e;
		if (e->kind == LC_NODE_SCALAR) {
			if (e->len < 2 || e->str[0] != 's')
				return lc_node_error(err, LC_EPARSE, e,
						     "expected an edit: \"s/ERE/replacement/[g]\", "
						     "{line: ..., match: ...} or {absent: ERE}");
			s->kind = LC_SPEC_SUBST;
			s->expr = e->str;
		} else if (e->kind == LC_NODE_MAP && lc_node_get(e, "line")) {
			if ((rc = lc_node_check_keys(e, line_keys, "a line edit", err)))
				return rc;
			s->kind = LC_SPEC_LINE;
			if ((rc = get_str(&s->line, e, "line", 1, "a line edit", err)) ||
			    (rc = get_str(&s->match, e, "match", 0, "a line edit", err)) ||
			    (rc = get_str(&s->after, e, "after", 0, "a line edit", err)))
				return rc;
		} else if (e->kind == LC_NODE_MAP && lc_node_get(e, "absent")) {
			if ((rc = lc_node_check_keys(e, absent_keys, "an absent edit", err)))
				return rc;
			s->kind = LC_SPEC_ABSENT;
			if ((rc = get_str(&s->expr, e, "absent", 1, "an absent edit", err)))
				return rc;
		} else {
			return lc_node_error(err, LC_EPARSE, e,
					     "expected an edit: \"s/ERE/replacement/[g]\", "
					     "{line: ..., match: ...} or {absent: ERE}");
		}
	}
	return 0;
}

/* env: { NAME: value template } for command and service ops. */
static int load_env(struct lc_op *op, const struct lc_node *body, struct lc_error *err)
{
	size_t i, j;
	int rc;

	if (!(op->env = lc_node_get(body, "env")))
		return 0;
	if ((rc = lc_node_expect(op->env, LC_NODE_MAP, "'env'", err)))
		return rc;
	for (i = 0; i < op->env->n_pairs; i++) {
		const char *k = op->env->pairs[i].key->str;

		for (j = 0; k[j]; j++)
			if (!((k[j] >= 'A' && k[j] <= 'Z') || (k[j] >= 'a' && k[j] <= 'z') ||
			      k[j] == '_' || (j && k[j] >= '0' && k[j] <= '9')))
				return lc_node_error(err, LC_EPARSE, op->env->pairs[i].key,
						     "invalid environment variable name '%s'", k);
		if ((rc = lc_node_expect(op->env->pairs[i].value, LC_NODE_SCALAR,
					 "an env value", err)))
			return rc;
	}
	return 0;
}

static int load_op(struct lc_role *r, struct lc_op *op, const struct lc_node *n,
		   struct lc_error *err)
{
	static const char *const kinds[] = { "dir", "file", "template", "edit", "command",
		"service", "package", NULL };
	static const char *const pkg_keys[] = { "names", "cache_valid_time", NULL };
	static const char *const dir_keys[] = { "path", "mode", "owner", "group", NULL };
	static const char *const file_keys[] = { "src", "dest", "mode", "owner", "group", "sha256",
		NULL };
	static const char *const edit_keys[] = { "path", "edits", "create", "mode", "owner",
		"group", NULL };
	static const char *const cmd_keys[] = { "run", "creates", "unless", "chdir", "env", NULL };
	static const char *const svc_keys[] = { "name", "run", "chdir", "user", "env", "state",
		"restart_on", "stop_signal", NULL };
	const struct lc_node *body, *v;
	const char *name;
	int rc;

	op->role = r->name;
	op->where = n;
	op->mode = -1;
	if ((rc = lc_node_expect(n, LC_NODE_MAP, "an op", err)))
		return rc;
	if (n->n_pairs != 1 || (rc = lc_node_check_keys(n, kinds, "an op", err)))
		return rc ? rc : lc_node_error(err, LC_EPARSE, n,
					       "an op has exactly one key: dir, file, template, edit or command");
	name = n->pairs[0].key->str;
	body = n->pairs[0].value;
	if ((rc = lc_node_expect(body, LC_NODE_MAP, name, err)))
		return rc;
	if (!strcmp(name, "dir")) {
		op->kind = LC_OP_DIR;
		if ((rc = lc_node_check_keys(body, dir_keys, "a dir op", err)) ||
		    (rc = get_str(&op->path, body, "path", 1, "a dir op", err)))
			return rc;
	} else if (!strcmp(name, "file") || !strcmp(name, "template")) {
		op->kind = name[0] == 'f' ? LC_OP_FILE : LC_OP_TEMPLATE;
		if ((rc = lc_node_check_keys(body, file_keys, name[0] == 'f' ? "a file op" :
					     "a template op", err)) ||
		    (rc = get_str(&op->path, body, "dest", 1, name, err)))
			return rc;
		if (!(v = lc_node_get(body, "src")))
			return lc_node_error(err, LC_EPARSE, body, "%s needs 'src'", name);
		if ((rc = lc_node_expect(v, LC_NODE_SCALAR, "'src'", err)))
			return rc;
		if (strstr(v->str, "://")) {
			const struct lc_node *d = lc_node_get(body, "sha256");

			if (op->kind != LC_OP_FILE ||
			    (strncmp(v->str, "http://", 7) && strncmp(v->str, "https://", 8) &&
			     strncmp(v->str, "file://", 7)))
				return lc_node_error(err, LC_EPARSE, v, "a URL src must be http://, "
						     "https:// or file://, in a file op");
			if (!d || d->kind != LC_NODE_SCALAR || d->len != 64 ||
			    strspn(d->str, "0123456789abcdef") != 64)
				return lc_node_error(err, LC_EPARSE, d ? d : body,
						     "a URL src needs 'sha256': its SHA-256 as 64 "
						     "lowercase hex digits");
			op->url = v->str;
			op->sha256 = d->str;
		} else if (lc_node_get(body, "sha256")) {
			return lc_node_error(err, LC_EPARSE, lc_node_get(body, "sha256"),
					     "'sha256' goes with a URL src");
		} else if ((rc = resolve_src(op, r, op->kind == LC_OP_FILE ? "files" : "templates",
					     v, err))) {
			return rc;
		}
	} else if (!strcmp(name, "edit")) {
		op->kind = LC_OP_EDIT;
		if ((rc = lc_node_check_keys(body, edit_keys, "an edit op", err)) ||
		    (rc = get_str(&op->path, body, "path", 1, "an edit op", err)))
			return rc;
		if ((v = lc_node_get(body, "create")) && (rc = lc_node_bool(&op->create, v, err)))
			return rc;
		if (!(v = lc_node_get(body, "edits")))
			return lc_node_error(err, LC_EPARSE, body, "an edit op needs 'edits'");
		if ((rc = load_edits(op, v, err)))
			return rc;
	} else if (!strcmp(name, "package")) {
		size_t i, j;

		op->kind = LC_OP_PACKAGE;
		if ((rc = lc_node_check_keys(body, pkg_keys, "a package op", err)))
			return rc;
		op->cache_valid_time = 3600;
		if ((v = lc_node_get(body, "cache_valid_time")) &&
		    (rc = lc_node_int(&op->cache_valid_time, v, 0, 31 * 86400, err)))
			return rc;
		if (!(op->packages = lc_node_get(body, "names")))
			return lc_node_error(err, LC_EPARSE, body, "a package op needs 'names'");
		if ((rc = lc_node_expect(op->packages, LC_NODE_SEQ, "'names'", err)))
			return rc;
		if (!op->packages->n_items)
			return lc_node_error(err, LC_EPARSE, op->packages, "'names' is empty");
		for (i = 0; i < op->packages->n_items; i++) {
			const struct lc_node *pn = op->packages->items[i];

			if ((rc = lc_node_expect(pn, LC_NODE_SCALAR, "a package name", err)))
				return rc;
			/* Debian package names: [a-z0-9][a-z0-9+.-]+ */
			for (j = 0; j < pn->len; j++)
				if (!((pn->str[j] >= 'a' && pn->str[j] <= 'z') ||
				      (pn->str[j] >= '0' && pn->str[j] <= '9') ||
				      (j && strchr("+.-", pn->str[j]))))
					return lc_node_error(err, LC_EPARSE, pn,
							     "'%s' is not a Debian package name", pn->str);
			if (pn->len < 2)
				return lc_node_error(err, LC_EPARSE, pn,
						     "'%s' is not a Debian package name", pn->str);
		}
		return 0;
	} else if (!strcmp(name, "service")) {
		const char *state = NULL;
		size_t i;

		op->kind = LC_OP_SERVICE;
		if ((rc = lc_node_check_keys(body, svc_keys, "a service op", err)) ||
		    (rc = get_str(&op->name, body, "name", 1, "a service op", err)) ||
		    (rc = get_str(&op->run, body, "run", 1, "a service op", err)) ||
		    (rc = get_str(&op->chdir, body, "chdir", 0, "a service op", err)) ||
		    (rc = get_str(&op->user, body, "user", 0, "a service op", err)) ||
		    (rc = get_str(&state, body, "state", 0, "a service op", err)) ||
		    (rc = get_str(&op->stop_signal, body, "stop_signal", 0, "a service op", err)))
			return rc;
		if (op->stop_signal && strcmp(op->stop_signal, "TERM") && strcmp(op->stop_signal, "INT") &&
		    strcmp(op->stop_signal, "QUIT") && strcmp(op->stop_signal, "HUP"))
			return lc_node_error(err, LC_EPARSE, lc_node_get(body, "stop_signal"),
					     "expected TERM, INT, QUIT or HUP for 'stop_signal'");
		for (i = 0; op->name[i]; i++)
			if (!((op->name[i] >= 'a' && op->name[i] <= 'z') ||
			      (op->name[i] >= '0' && op->name[i] <= '9') ||
			      op->name[i] == '-' || op->name[i] == '_'))
				return lc_node_error(err, LC_EPARSE, lc_node_get(body, "name"),
						     "a service name is lowercase letters, digits, "
						     "'-' and '_'");
		if (state && strcmp(state, "running") && strcmp(state, "stopped"))
			return lc_node_error(err, LC_EPARSE, lc_node_get(body, "state"),
					     "expected running or stopped for 'state'");
		op->stopped = state && !strcmp(state, "stopped");
		if ((op->restart_on = lc_node_get(body, "restart_on"))) {
			if ((rc = lc_node_expect(op->restart_on, LC_NODE_SEQ, "'restart_on'", err)))
				return rc;
			for (i = 0; i < op->restart_on->n_items; i++)
				if ((rc = lc_node_expect(op->restart_on->items[i], LC_NODE_SCALAR,
							 "a path in restart_on", err)))
					return rc;
		}
		return load_env(op, body, err);
	} else {
		op->kind = LC_OP_COMMAND;
		if ((rc = lc_node_check_keys(body, cmd_keys, "a command op", err)) ||
		    (rc = get_str(&op->run, body, "run", 1, "a command op", err)) ||
		    (rc = get_str(&op->creates, body, "creates", 0, "a command op", err)) ||
		    (rc = get_str(&op->unless, body, "unless", 0, "a command op", err)) ||
		    (rc = get_str(&op->chdir, body, "chdir", 0, "a command op", err)))
			return rc;
		if (!op->creates && !op->unless)
			return lc_node_error(err, LC_EPARSE, body,
					     "a command op needs 'creates' or 'unless' so that a "
					     "second converge does not run it again");
		return load_env(op, body, err);
	}
	{
		if ((rc = get_mode(&op->mode, body, err)) ||
		    (rc = get_str(&op->owner, body, "owner", 0, name, err)) ||
		    (rc = get_str(&op->group, body, "group", 0, name, err)))
			return rc;
	}
	return 0;
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
		free(r->ops[i].edits);
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
