/* plan.c - the desired state of one host, computed locally. */
#include "plan.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "codec.h"
#include "template.h"

#define LC_FILE_MAX ((size_t)1 << 30)

/* ---- shared local files ---------------------------------------------- */

static int blob_get(const struct lc_blob **out, struct lc_blobs *bs, const char *path,
		    struct lc_error *err)
{
	struct lc_blob *b;
	struct stat st;
	void *map = NULL;
	size_t i;
	int fd;

	*out = NULL;
	for (i = 0; i < bs->n; i++)
		if (!strcmp(bs->items[i].path, path)) {
			*out = &bs->items[i];
			return 0;
		}
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return lc_error_set(err, LC_EIO, "%s: %s", path, strerror(errno));
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) || (size_t)st.st_size > LC_FILE_MAX) {
		close(fd);
		return lc_error_set(err, LC_EIO, "%s: not a regular file of at most 1 GiB", path);
	}
	if (st.st_size > 0) {
		map = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
		if (map == MAP_FAILED) {
			close(fd);
			return lc_error_set(err, LC_EIO, "%s: %s", path, strerror(errno));
		}
	}
	close(fd);
	LC_ALLOC_GROW(bs->items, bs->n + 1, bs->alloc);
	b = &bs->items[bs->n++];
	b->path = lc_xstrdup(path);
	b->data = map ? map : "";
	b->len = (size_t)st.st_size;
	b->mode = (int)(st.st_mode & 07777);
	lc_sha256_hex(b->sha, b->data, b->len);
	*out = b;
	return 0;
}

void lc_blobs_release(struct lc_blobs *bs)
{
	size_t i;

	for (i = 0; i < bs->n; i++) {
		if (bs->items[i].len)
			munmap((void *)bs->items[i].data, bs->items[i].len);
		free(bs->items[i].path);
	}
	free(bs->items);
	bs->items = NULL;
	bs->n = bs->alloc = 0;
}

/* ---- variables ------------------------------------------------------- */

struct scope {
	const struct lc_inventory *inv;
	const struct lc_host *host;
	struct lc_node *defaults;      /* resolved role defaults, or NULL */
	struct lc_node *hosts;         /* hosts.NAME.{name,address,...,vars} */
	struct lc_node *hostname;
	struct lc_node *roles;
};

static struct lc_node *scalar(const char *s)
{
	return lc_node_new_scalar(s, strlen(s));
}

static struct lc_node *key(const char *s)
{
	return scalar(s);
}

static struct lc_node *host_node(const struct lc_inventory *inv, const struct lc_host *h)
{
	struct lc_node *m = lc_node_new(LC_NODE_MAP, NULL, 0, 0);
	struct lc_node *roles = lc_node_new(LC_NODE_SEQ, NULL, 0, 0);
	char port[16];
	size_t i;

	for (i = 0; i < inv->vars->n_pairs; i++)
		lc_node_map_set(m, lc_node_dup(inv->vars->pairs[i].key),
				lc_node_dup(inv->vars->pairs[i].value));
	for (i = 0; i < h->vars->n_pairs; i++)
		lc_node_map_set(m, lc_node_dup(h->vars->pairs[i].key),
				lc_node_dup(h->vars->pairs[i].value));
	snprintf(port, sizeof(port), "%d", h->port);
	lc_node_map_set(m, key("name"), scalar(h->name));
	lc_node_map_set(m, key("address"), scalar(h->address));
	lc_node_map_set(m, key("port"), scalar(port));
	lc_node_map_set(m, key("user"), scalar(h->user));
	for (i = 0; i < h->n_roles; i++)
		lc_node_seq_add(roles, scalar(h->roles[i]));
	lc_node_map_set(m, key("roles"), roles);
	lc_node_map_set(m, key("tags"), lc_node_dup(h->tags));
	return m;
}

static const struct lc_node *scope_lookup(void *data, const char *name)
{
	struct scope *s = data;
	const struct lc_node *v;

	if (!strcmp(name, "inventory_hostname"))
		return s->hostname;
	if (!strcmp(name, "hosts"))
		return s->hosts;
	if (!strcmp(name, "host"))
		return lc_node_get(s->hosts, s->host->name);
	if (!strcmp(name, "tags"))
		return s->host->tags;
	if (!strcmp(name, "roles"))
		return s->roles;
	if ((v = lc_node_get(s->host->vars, name)))
		return v;
	if ((v = lc_node_get(s->defaults, name)))
		return v;
	return lc_node_get(s->inv->vars, name);
}

static void scope_init(struct scope *s, const struct lc_inventory *inv, const struct lc_host *h)
{
	size_t i;

	memset(s, 0, sizeof(*s));
	s->inv = inv;
	s->host = h;
	s->hosts = lc_node_new(LC_NODE_MAP, NULL, 0, 0);
	for (i = 0; i < inv->n_hosts; i++)
		lc_node_map_set(s->hosts, key(inv->hosts[i].name), host_node(inv, &inv->hosts[i]));
	s->hostname = scalar(h->name);
	s->roles = lc_node_new(LC_NODE_SEQ, NULL, 0, 0);
	lc_node_seq_add(s->roles, scalar("base"));
	for (i = 0; i < h->n_roles; i++)
		lc_node_seq_add(s->roles, scalar(h->roles[i]));
}

static void scope_release(struct scope *s)
{
	lc_node_free(s->defaults);
	lc_node_free(s->hosts);
	lc_node_free(s->hostname);
	lc_node_free(s->roles);
}

/* Render a role.yaml string field. */
static int render_field(char **out, struct scope *s, const struct lc_op *op, const char *field,
			const char *text, int *secret, struct lc_error *err)
{
	struct lc_buf name = LC_BUF_INIT, b = LC_BUF_INIT;
	int rc;

	*out = NULL;
	lc_node_where(&name, op->where);
	lc_buf_addf(&name, " '%s'", field);
	rc = lc_template_render(&b, name.buf, text, strlen(text), scope_lookup, s, secret, err);
	lc_buf_release(&name);
	if (rc) {
		lc_buf_release(&b);
		return rc;
	}
	if (memchr(b.buf, '\0', b.len)) {
		lc_buf_release(&b);
		return lc_node_error(err, LC_EPARSE, op->where, "'%s' contains a NUL byte", field);
	}
	*out = lc_buf_detach(&b, NULL);
	return 0;
}

/* ---- building resources ---------------------------------------------- */

static struct lc_res *res_add(struct lc_host_plan *p, enum lc_res_kind kind,
			      const struct lc_op *op, char *path)
{
	struct lc_res *r;

	p->res = lc_xrealloc(p->res, (p->n_res + 1) * sizeof(*p->res));
	r = &p->res[p->n_res++];
	memset(r, 0, sizeof(*r));
	r->kind = kind;
	r->op = op;
	r->label = op->kind;
	r->path = path;
	r->mode = -1;
	lc_buf_init(&r->own);
	lc_buf_init(&r->fact.content);
	return r;
}

static struct lc_res *res_find(struct lc_host_plan *p, const char *path)
{
	size_t i;

	for (i = 0; i < p->n_res; i++)
		if (p->res[i].kind != LC_RES_COMMAND && !strcmp(p->res[i].path, path))
			return &p->res[i];
	return NULL;
}

static int check_path(const struct lc_op *op, const char *path, struct lc_error *err)
{
	if (path[0] != '/')
		return lc_node_error(err, LC_EPARSE, op->where,
				     "path '%s' on the host must be absolute", path);
	if (strstr(path, "/../") || strstr(path, "/./") || strstr(path, "//") ||
	    (strlen(path) > 1 && path[strlen(path) - 1] == '/') ||
	    (strlen(path) >= 2 && !strcmp(path + strlen(path) - 2, "/.")) ||
	    (strlen(path) >= 3 && !strcmp(path + strlen(path) - 3, "/..")))
		return lc_node_error(err, LC_EPARSE, op->where,
				     "path '%s' on the host must be normalized (no '..', '.', "
				     "'//' or trailing '/')", path);
	return 0;
}

static int set_owner(struct lc_res *r, struct scope *s, const struct lc_op *op,
		     struct lc_error *err)
{
	int rc;

	free(r->owner);
	free(r->group);
	r->owner = r->group = NULL;
	if (op->owner && (rc = render_field(&r->owner, s, op, "owner", op->owner, NULL, err)))
		return rc;
	if (op->group && (rc = render_field(&r->group, s, op, "group", op->group, NULL, err)))
		return rc;
	return 0;
}

/* A file resource for dest: new, or the existing one when only edits were
 * declared for it so far. */
static int file_res(struct lc_res **out, struct lc_host_plan *p, const struct lc_op *op,
		    char *dest, struct lc_error *err)
{
	struct lc_res *r = res_find(p, dest);

	*out = NULL;
	if (r && (r->kind != LC_RES_FILE || r->has_content)) {
		int rc = lc_node_error(err, LC_EPARSE, op->where,
				       "%s is already managed by the %s op at %s:%u",
				       dest, lc_op_kind_name(r->op->kind), r->op->where->file,
				       r->op->where->line);
		free(dest);
		return rc;
	}
	if (r) {
		free(dest);
		r->op = op;
		r->label = op->kind;
	} else {
		r = res_add(p, LC_RES_FILE, op, dest);
	}
	*out = r;
	return 0;
}

static int add_blob_file(struct lc_host_plan *p, struct scope *s, const struct lc_op *op,
			 struct lc_blobs *blobs, const char *src, char *dest, struct lc_error *err)
{
	const struct lc_blob *b;
	struct lc_res *r;
	int rc;

	if ((rc = blob_get(&b, blobs, src, err))) {
		free(dest);
		return rc;
	}
	if ((rc = file_res(&r, p, op, dest, err)))
		return rc;
	r->has_content = 1;
	r->data = b->data;
	r->len = b->len;
	memcpy(r->sha, b->sha, sizeof(r->sha));
	r->mode = op->mode >= 0 ? op->mode : (b->mode & 0777);
	return set_owner(r, s, op, err);
}

static int add_tree(struct lc_host_plan *p, struct scope *s, const struct lc_op *op,
		    struct lc_blobs *blobs, const char *src, const char *dest, struct lc_error *err)
{
	struct dirent **names = NULL;
	struct lc_res *r;
	int i, n, rc = 0;

	if (!res_find(p, dest)) {
		r = res_add(p, LC_RES_DIR, op, lc_xstrdup(dest));
		r->mode = 0755;
		if ((rc = set_owner(r, s, op, err)))
			return rc;
	}
	n = scandir(src, &names, NULL, alphasort);
	if (n < 0)
		return lc_error_set(err, LC_EIO, "%s: %s", src, strerror(errno));
	for (i = 0; i < n; i++) {
		const char *nm = names[i]->d_name;
		char *sp, *dp;
		struct stat st;

		if (rc || !strcmp(nm, ".") || !strcmp(nm, ".."))
			continue;
		sp = lc_xasprintf("%s/%s", src, nm);
		dp = lc_xasprintf("%s/%s", dest, nm);
		if (lstat(sp, &st) < 0) {
			rc = lc_error_set(err, LC_EIO, "%s: %s", sp, strerror(errno));
		} else if (S_ISLNK(st.st_mode)) {
			rc = lc_node_error(err, LC_EPARSE, op->where,
					   "%s is a symbolic link; role files must be regular files", sp);
		} else if (S_ISDIR(st.st_mode)) {
			rc = add_tree(p, s, op, blobs, sp, dp, err);
		} else {
			rc = add_blob_file(p, s, op, blobs, sp, dp, err);
			dp = NULL;
		}
		free(sp);
		free(dp);
	}
	for (i = 0; i < n; i++)
		free(names[i]);
	free(names);
	return rc;
}

static int compile_edit(struct lc_edit *e, struct scope *s, const struct lc_op *op,
			const struct lc_edit_spec *spec, int *secret, struct lc_error *err)
{
	char *a = NULL, *b = NULL, *c = NULL;
	struct lc_buf where = LC_BUF_INIT;
	int rc, s1 = 0, s2 = 0, s3 = 0;

	switch (spec->kind) {
	case LC_SPEC_SUBST:
		if (!(rc = render_field(&a, s, op, "edits", spec->expr, &s1, err)))
			rc = lc_edit_parse_subst(e, a, err);
		break;
	case LC_SPEC_ABSENT:
		if (!(rc = render_field(&a, s, op, "absent", spec->expr, &s1, err)))
			rc = lc_edit_init_absent(e, a, err);
		break;
	default:
		if (!(rc = render_field(&a, s, op, "line", spec->line, &s1, err)) &&
		    (!spec->match || !(rc = render_field(&b, s, op, "match", spec->match, &s2, err))) &&
		    (!spec->after || !(rc = render_field(&c, s, op, "after", spec->after, &s3, err))))
			rc = lc_edit_init_line(e, a, b, c, err);
		break;
	}
	if (rc && err) {
		lc_node_where(&where, spec->where);
		if (!strstr(err->msg, where.buf))
			lc_error_prefix(err, "%s", where.buf);
	}
	lc_buf_release(&where);
	*secret |= s1 | s2 | s3;
	free(a);
	free(b);
	free(c);
	return rc;
}

static int add_op(struct lc_host_plan *p, struct scope *s, const struct lc_op *op,
		  struct lc_blobs *blobs, struct lc_error *err)
{
	struct lc_res *r;
	char *path = NULL;
	size_t i;
	int rc, secret = 0;

	if (op->kind != LC_OP_COMMAND) {
		if ((rc = render_field(&path, s, op, op->kind == LC_OP_FILE ||
				       op->kind == LC_OP_TEMPLATE ? "dest" : "path",
				       op->path, NULL, err)))
			return rc;
		if ((rc = check_path(op, path, err))) {
			free(path);
			return rc;
		}
	}
	switch (op->kind) {
	case LC_OP_DIR:
		if ((r = res_find(p, path))) {
			free(path);
			if (r->kind != LC_RES_DIR)
				return lc_node_error(err, LC_EPARSE, op->where,
						     "%s is already managed as a file", r->path);
		} else {
			r = res_add(p, LC_RES_DIR, op, path);
		}
		r->mode = op->mode >= 0 ? op->mode : 0755;
		return set_owner(r, s, op, err);
	case LC_OP_FILE:
		if (op->is_tree) {
			rc = add_tree(p, s, op, blobs, op->src, path, err);
			free(path);
			return rc;
		}
		return add_blob_file(p, s, op, blobs, op->src, path, err);
	case LC_OP_TEMPLATE: {
		struct lc_buf src = LC_BUF_INIT, out = LC_BUF_INIT;
		const char *rel;

		if ((rc = lc_read_file(&src, op->src, 16u << 20)) < 0) {
			free(path);
			return lc_node_error(err, LC_EIO, op->where, "template %s: %s", op->src,
					     strerror(-rc));
		}
		rel = strstr(op->src, "/roles/") ? strstr(op->src, "/roles/") + 1 : op->src;
		rc = lc_template_render(&out, rel, src.buf, src.len, scope_lookup, s, &secret, err);
		lc_buf_release(&src);
		if (rc)
			free(path);
		if (rc || (rc = file_res(&r, p, op, path, err))) {
			lc_buf_release(&out);
			return rc;
		}
		r->has_content = 1;
		r->own = out;
		r->secret |= secret;
		if (op->mode >= 0)
			r->mode = op->mode;
		else if (r->mode < 0)
			r->mode = r->secret ? 0640 : 0644;
		if (!op->owner && !op->group)
			return 0;
		return set_owner(r, s, op, err);
	}
	case LC_OP_EDIT:
		r = res_find(p, path);
		if (r && r->kind != LC_RES_FILE) {
			free(path);
			return lc_node_error(err, LC_EPARSE, op->where, "%s is managed as a directory",
					     r->path);
		}
		if (r) {
			free(path);
		} else {
			r = res_add(p, LC_RES_FILE, op, path);
		}
		r->create |= op->create;
		if (op->mode >= 0)
			r->mode = op->mode;
		if ((op->owner || op->group) && (rc = set_owner(r, s, op, err)))
			return rc;
		r->edits = lc_xrealloc(r->edits, (r->n_edits + op->n_edits) * sizeof(*r->edits));
		r->edit_where = lc_xrealloc(r->edit_where,
					    (r->n_edits + op->n_edits) * sizeof(*r->edit_where));
		for (i = 0; i < op->n_edits; i++) {
			struct lc_edit *e = &r->edits[r->n_edits];

			r->edit_where[r->n_edits] = op->edits[i].where;
			memset(e, 0, sizeof(*e));
			if ((rc = compile_edit(e, s, op, &op->edits[i], &secret, err)))
				return rc;
			r->n_edits++;
		}
		if (secret && !r->secret) {
			r->secret = 1;
			if (r->has_content && r->op->mode < 0 && r->mode == 0644)
				r->mode = 0640;
		}
		return 0;
	case LC_OP_COMMAND:
		r = res_add(p, LC_RES_COMMAND, op, lc_xstrdup(op->run));
		r->run = op->run;
		r->unless = op->unless;
		r->chdir = op->chdir;
		if (op->creates && (rc = render_field(&r->creates, s, op, "creates", op->creates,
						      NULL, err)))
			return rc;
		if (op->env) {
			r->env = lc_xcalloc(op->env->n_pairs, sizeof(*r->env));
			for (i = 0; i < op->env->n_pairs; i++) {
				char *v;
				int sv = 0;

				if ((rc = render_field(&v, s, op, "env", op->env->pairs[i].value->str,
						       &sv, err)))
					return rc;
				secret |= sv;
				r->env[r->n_env++] = lc_xasprintf("%s=%s", op->env->pairs[i].key->str, v);
				free(v);
			}
			r->secret = secret;
		}
		return 0;
	}
	return 0;
}

/* Run every edit over in; with prove, also check each edit on its own
 * result (an edit that changes its own output would change the file on
 * every converge) and the whole list on its result (edits that undo each
 * other). */
static int run_edits(struct lc_buf *out, const struct lc_res *r, const char *in, size_t len,
		     int prove, struct lc_error *err)
{
	struct lc_buf cur = LC_BUF_INIT, next = LC_BUF_INIT, again = LC_BUF_INIT;
	size_t i;
	int changed, rc = 0;

	lc_buf_add(&cur, in, len);
	for (i = 0; i < r->n_edits; i++) {
		if ((rc = lc_edit_apply(&next, &r->edits[i], cur.buf, cur.len, &changed, err)))
			break;
		if (prove && (rc = lc_edit_apply(&again, &r->edits[i], next.buf, next.len,
						 &changed, err)))
			break;
		if (prove && changed) {
			struct lc_buf where = LC_BUF_INIT;

			lc_node_where(&where, r->edit_where[i]);
			rc = lc_error_set(err, LC_EPARSE,
					  "%s: this edit of %s is not idempotent: applied to its own "
					  "result it changes the file again, so every converge would "
					  "report a change (make the replacement no longer match its "
					  "pattern, or use a line edit)", where.buf, r->path);
			lc_buf_release(&where);
			break;
		}
		lc_buf_release(&cur);
		cur = next;
		lc_buf_init(&next);
	}
	lc_buf_release(&next);
	lc_buf_release(&again);
	if (!rc) {
		*out = cur;
		return 0;
	}
	lc_buf_release(&cur);
	return rc;
}

/* Apply r's edits to base; the result becomes r's own content.  Edits are
 * proven idempotent on this very input before anything is sent. */
static int apply_edits(struct lc_res *r, const char *base, size_t len, struct lc_error *err)
{
	struct lc_buf res = LC_BUF_INIT, twice = LC_BUF_INIT;
	int rc;

	if ((rc = run_edits(&res, r, base, len, 1, err)))
		return rc;
	if ((rc = run_edits(&twice, r, res.buf, res.len, 0, err)))
		goto fail;
	if (twice.len != res.len || memcmp(twice.buf, res.buf, res.len)) {
		struct lc_buf where = LC_BUF_INIT;

		lc_node_where(&where, r->edit_where[0]);
		rc = lc_error_set(err, LC_EPARSE,
				  "%s: the edits of %s undo each other: applying them to their own "
				  "result changes the file again, so every converge would report a "
				  "change", where.buf, r->path);
		lc_buf_release(&where);
		goto fail;
	}
	lc_buf_release(&twice);
	lc_buf_release(&r->own);
	r->own = res;
	r->data = r->own.buf;
	r->len = r->own.len;
	r->has_content = 1;
	lc_sha256_hex(r->sha, r->data, r->len);
	return 0;
fail:
	lc_buf_release(&res);
	lc_buf_release(&twice);
	return rc;
}

int lc_plan_host(struct lc_host_plan *out, const struct lc_inventory *inv,
		 const struct lc_roles *roles, struct lc_blobs *blobs,
		 const struct lc_host *host, struct lc_error *err)
{
	struct scope s;
	size_t i, j, n_names = 0;
	const char **names;
	int rc = 0;

	memset(out, 0, sizeof(*out));
	out->host = host;
	scope_init(&s, inv, host);
	names = lc_xcalloc(host->n_roles + 1, sizeof(*names));
	if (lc_roles_find(roles, "base"))
		names[n_names++] = "base";
	for (i = 0; i < host->n_roles; i++)
		if (strcmp(host->roles[i], "base"))
			names[n_names++] = host->roles[i];
	for (i = 0; !rc && i < n_names; i++) {
		const struct lc_role *role = lc_roles_find(roles, names[i]);

		lc_node_free(s.defaults);
		s.defaults = NULL;
		if (role->defaults && (rc = lc_vars_resolve(&s.defaults, role->defaults, err)))
			break;
		for (j = 0; !rc && j < role->n_ops; j++)
			rc = add_op(out, &s, &role->ops[j], blobs, err);
	}
	/* Content known locally: apply edits now, so template + edits are one
	 * computed result compared once with the host. */
	for (i = 0; !rc && i < out->n_res; i++) {
		struct lc_res *r = &out->res[i];

		if (r->kind != LC_RES_FILE || !r->has_content)
			continue;
		if (r->own.len || !r->data) {
			r->data = r->own.buf;
			r->len = r->own.len;
		}
		if (r->n_edits) {
			rc = apply_edits(r, r->data, r->len, err);
			if (rc)
				lc_error_prefix(err, "%s: editing %s", host->name, r->path);
		} else if (r->data == r->own.buf) {
			lc_sha256_hex(r->sha, r->data, r->len);
		}
	}
	free(names);
	scope_release(&s);
	if (rc)
		lc_host_plan_release(out);
	return rc;
}

int lc_res_decide(struct lc_res *r, const char *host, struct lc_error *err)
{
	const struct lc_fact *f = &r->fact;
	int mode;

	r->need_content = r->need_meta = 0;
	switch (r->kind) {
	case LC_RES_DIR:
		r->need_meta = !f->exists || (f->mode != r->mode) ||
			       (r->owner && strcmp(r->owner, f->owner ? f->owner : "")) ||
			       (r->group && strcmp(r->group, f->group ? f->group : ""));
		break;
	case LC_RES_FILE:
		if (!r->has_content) {
			int rc;

			if (!f->exists && !r->create)
				return lc_error_set(err, LC_EREMOTE,
						    "%s does not exist on %s (set create: true to "
						    "create it)", r->path, host);
			if ((rc = apply_edits(r, f->content.buf, f->content.len, err)))
				return rc;
		}
		if (r->mode >= 0)
			mode = r->mode;
		else if (r->secret)  /* a secret makes the file 0640 or stricter */
			mode = f->exists ? (f->mode & 0640) : 0640;
		else
			mode = f->exists ? f->mode : 0644;
		r->mode = mode;
		r->need_content = !f->exists || strcmp(r->sha, f->sha);
		r->need_meta = !r->need_content &&
			       (f->mode != mode ||
				(r->owner && strcmp(r->owner, f->owner ? f->owner : "")) ||
				(r->group && strcmp(r->group, f->group ? f->group : "")));
		break;
	case LC_RES_COMMAND:
		r->need_meta = f->guard_run;
		break;
	}
	r->status = (r->need_content || r->need_meta) ? LC_RES_CHANGED : LC_RES_OK;
	return 0;
}

void lc_host_plan_release(struct lc_host_plan *p)
{
	size_t i, j;

	for (i = 0; i < p->n_res; i++) {
		struct lc_res *r = &p->res[i];

		free(r->path);
		free(r->owner);
		free(r->group);
		lc_buf_release(&r->own);
		for (j = 0; j < r->n_edits; j++)
			lc_edit_release(&r->edits[j]);
		free(r->edits);
		free(r->edit_where);
		free(r->creates);
		for (j = 0; j < r->n_env; j++)
			free(r->env[j]);
		free(r->env);
		free(r->fact.owner);
		free(r->fact.group);
		lc_buf_release(&r->fact.content);
		free(r->tmp_path);
		free(r->msg);
	}
	free(p->res);
	memset(p, 0, sizeof(*p));
}
