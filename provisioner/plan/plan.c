/* plan.c - the desired state of one host, computed locally. */
#include "plan_int.h"
#include "json.h"
#include "op.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "files.h"
#include "source.h"
#include "template.h"

#define LC_FILE_MAX ((size_t)1 << 30)

/* ---- shared local files ---------------------------------------------- */

/* A file from a commit: read into memory (a commit's blobs cannot be
 * mapped). */
static int blob_from_source(const struct lc_blob **out, struct lc_blobs *bs,
			    struct lc_source *src, const char *path, struct lc_error *err)
{
	struct lc_buf data = LC_BUF_INIT;
	enum lc_src_kind kind;
	struct lc_blob *b;
	int rc, mode;

	if ((rc = src->ops->stat(src, path, &kind, &mode, err)) ||
	    (rc = src->ops->read(src, path, &data, LC_FILE_MAX, err))) {
		lc_buf_release(&data);
		return rc;
	}
	LC_ALLOC_GROW(bs->items, bs->n + 1, bs->alloc);
	b = &bs->items[bs->n++];
	memset(b, 0, sizeof(*b));
	b->path = lc_xstrdup(path);
	b->source = src;
	b->len = data.len;
	b->owned = lc_buf_detach(&data, NULL);
	b->data = b->owned;
	b->mode = mode;
	lc_sha256_hex(b->sha, b->data, b->len);
	*out = b;
	return 0;
}

/* The blob already read for path from src (NULL: the work tree). */
const struct lc_blob *lc_plan_blob_find(const struct lc_blobs *bs, const struct lc_source *src,
					const char *path)
{
	size_t i;

	for (i = 0; i < bs->n; i++)
		if (!strcmp(bs->items[i].path, path) && bs->items[i].source == src)
			return &bs->items[i];
	return NULL;
}

int lc_plan_blob_get(const struct lc_blob **out, struct lc_blobs *bs, struct lc_source *src,
		     const char *path, struct lc_error *err)
{
	char sha[LC_SHA256_HEX];
	struct lc_blob *b;
	struct stat st;
	void *map = NULL;
	int fd, rc;

	if (lc_source_is_fs(src))
		src = NULL;  /* the work tree: mapped */
	if ((*out = lc_plan_blob_find(bs, src, path)))
		return 0;
	if (src)
		return blob_from_source(out, bs, src, path, err);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return lc_error_set(err, LC_EIO, "%s: %s", path, strerror(errno));
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) || (size_t)st.st_size > LC_FILE_MAX) {
		close(fd);
		return lc_error_set(err, LC_EIO, "%s: not a regular file of at most 1 GiB", path);
	}
	/* Digest by reading; the mapping is for diffs, uploads read the file
	 * (engine.c): a converge never brings its pages into memory. */
	if ((rc = lc_sha256_fd(sha, fd, (size_t)st.st_size)) == 0 && st.st_size > 0) {
		map = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
		if (map == MAP_FAILED)
			rc = errno;
	}
	close(fd);
	if (rc)
		return lc_error_set(err, LC_EIO, "%s: %s", path, strerror(rc));
	LC_ALLOC_GROW(bs->items, bs->n + 1, bs->alloc);
	b = &bs->items[bs->n++];
	memset(b, 0, sizeof(*b));
	b->path = lc_xstrdup(path);
	b->data = map ? map : "";
	b->len = (size_t)st.st_size;
	b->mode = (int)(st.st_mode & 07777);
	memcpy(b->sha, sha, LC_SHA256_HEX);
	*out = b;
	return 0;
}

void lc_blobs_release(struct lc_blobs *bs)
{
	size_t i;

	for (i = 0; i < bs->n; i++) {
		if (bs->items[i].owned)
			free(bs->items[i].owned);
		else if (bs->items[i].len)
			munmap((void *)bs->items[i].data, bs->items[i].len);
		free(bs->items[i].path);
	}
	free(bs->items);
	bs->items = NULL;
	bs->n = bs->alloc = 0;
}

/* ---- building resources ---------------------------------------------- */

struct lc_res *lc_plan_res_add(struct lc_host_plan *p, const struct lc_res_type *type,
			      const struct lc_op *op, char *path)
{
	struct lc_res *r;

	p->res = lc_xrealloc(p->res, (p->n_res + 1) * sizeof(*p->res));
	r = &p->res[p->n_res++];
	memset(r, 0, sizeof(*r));
	r->type = type;
	r->op = op;
	r->path = path;
	r->mode = -1;
	lc_buf_init(&r->own);
	lc_buf_init(&r->masked);
	lc_buf_init(&r->fact.content);
	return r;
}

struct lc_res *lc_plan_res_find(struct lc_host_plan *p, const char *path)
{
	size_t i;

	for (i = 0; i < p->n_res; i++)
		if ((p->res[i].type->flags & LC_RES_F_PATH) && !strcmp(p->res[i].path, path))
			return &p->res[i];
	return NULL;
}

static int add_health(struct lc_host_plan *p, struct lc_plan_scope *s, const struct lc_node *h,
		      struct lc_error *err)
{
	const struct lc_node *url = lc_node_get(h, "url"), *v;
	struct lc_buf name = LC_BUF_INIT, b = LC_BUF_INIT;
	struct lc_health_check *c;
	long x;
	int rc;

	lc_node_where(&name, url);
	rc = lc_template_render(&b, name.buf, url->str, url->len, lc_plan_scope_lookup, s, NULL, err);
	lc_buf_release(&name);
	if (rc) {
		lc_buf_release(&b);
		return rc;
	}
	p->health = lc_xrealloc(p->health, (p->n_health + 1) * sizeof(*p->health));
	c = &p->health[p->n_health++];
	memset(c, 0, sizeof(*c));
	c->host = p->host->name;
	c->url = lc_buf_detach(&b, NULL);
	c->want_status = 200;
	c->timeout_ms = 10000;
	if ((v = lc_node_get(h, "status")) && !lc_node_int(&x, v, 100, 599, NULL))
		c->want_status = x;
	if ((v = lc_node_get(h, "timeout")) && !lc_node_int(&x, v, 1, 600, NULL))
		c->timeout_ms = (int)x * 1000;
	return 0;
}

/* The work tree paths a role's inputs come from: its directory and the
 * project files it takes (@apps/...). */
static size_t role_paths(char ***out, const struct lc_inventory *inv, const struct lc_role *r)
{
	size_t j, n = 0, alloc = 0;

	*out = NULL;
	LC_ALLOC_GROW(*out, n + 1, alloc);
	(*out)[n++] = r->dir;
	for (j = 0; j < r->n_ops; j++)
		if (r->ops[j].src && !strncmp(r->ops[j].src, inv->project_dir, strlen(inv->project_dir)) &&
		    r->ops[j].src_source == inv->source) {
			LC_ALLOC_GROW(*out, n + 1, alloc);
			(*out)[n++] = r->ops[j].src;
		}
	return n;
}

/* Which roles' inputs differ from HEAD in the work tree: one git status
 * over every role's paths (a --ref deploy is never dirty). */
static int roles_dirty(struct lc_plan_run *run, struct lc_error *err)
{
	const struct lc_inventory *inv = run->inv;
	char **all = NULL, **changes = NULL;
	size_t i, k, n_all = 0, alloc = 0, n_changes = 0;
	int rc;

	run->role_dirty = lc_xcalloc(run->roles->n + 1, 1);
	if (!inv->repo || !inv->repo->is_repo || !lc_source_is_fs(inv->source))
		return 0;
	for (i = 0; i < run->roles->n; i++) {
		char **paths;
		size_t n = role_paths(&paths, inv, &run->roles->roles[i]);

		for (k = 0; k < n; k++) {
			LC_ALLOC_GROW(all, n_all + 1, alloc);
			all[n_all++] = paths[k];
		}
		free(paths);
	}
	rc = lc_repo_changes(&changes, &n_changes, inv->repo, all, n_all, err);
	for (i = 0; !rc && i < run->roles->n; i++) {
		char **paths;
		size_t n = role_paths(&paths, inv, &run->roles->roles[i]);

		run->role_dirty[i] = (unsigned char)lc_repo_any_under(changes, n_changes, paths, n);
		free(paths);
	}
	for (i = 0; i < n_changes; i++)
		free(changes[i]);
	free(changes);
	free(all);
	return rc;
}

int lc_plan_run_init(struct lc_plan_run *run, const struct lc_inventory *inv,
		     const struct lc_roles *roles, struct lc_blobs *blobs, struct lc_error *err)
{
	int rc;

	memset(run, 0, sizeof(*run));
	run->inv = inv;
	run->roles = roles;
	run->blobs = blobs;
	run->hosts = lc_inventory_hosts_node(inv);
	if ((rc = roles_dirty(run, err)))
		lc_plan_run_release(run);
	return rc;
}

void lc_plan_run_release(struct lc_plan_run *run)
{
	lc_node_free(run->hosts);
	free(run->role_dirty);
	memset(run, 0, sizeof(*run));
}

/* repo_version for this host: the deployed commit, short, with "-dirty"
 * when the work tree differs from it under the host's roles or the app
 * files they take. */
static void host_version(struct lc_host_plan *p, const struct lc_plan_run *run)
{
	const struct lc_repo_info *repo = run->inv->repo;
	size_t i, k;

	if (!repo || !repo->is_repo) {
		snprintf(p->version, sizeof(p->version), "unversioned");
		return;
	}
	for (i = 0; i < p->n_roles; i++)
		for (k = 0; k < run->roles->n; k++)
			if (!strcmp(run->roles->roles[k].name, p->roles[i]) && run->role_dirty[k])
				p->dirty = 1;
	memcpy(p->commit, repo->commit, sizeof(p->commit));
	snprintf(p->version, sizeof(p->version), "%.7s%s", repo->commit, p->dirty ? "-dirty" : "");
}

/* One digest per role over everything it wants on this host. */
static void role_digests(struct lc_host_plan *p)
{
	struct lc_buf b = LC_BUF_INIT;
	char hex[LC_SHA256_HEX];
	size_t i, j, k;

	p->role_digest = lc_xcalloc(p->n_roles + 1, sizeof(*p->role_digest));
	for (i = 0; i < p->n_roles; i++) {
		lc_buf_reset(&b);
		for (j = 0; j < p->n_res; j++) {
			const struct lc_res *r = &p->res[j];

			if (strcmp(r->op->role, p->roles[i]))
				continue;
			lc_buf_addf(&b, "%s %s %o %s %s %s %d", r->type->name, r->path, (unsigned)r->mode,
				    r->owner ? r->owner : "-", r->group ? r->group : "-",
				    r->has_content ? r->sha : "-", r->stopped);
			for (k = 0; k < r->n_edits; k++)
				lc_buf_addf(&b, " e:%d|%s|%s|%s|%d", (int)r->edits[k].kind,
					    r->edits[k].pattern ? r->edits[k].pattern : "",
					    r->edits[k].replacement ? r->edits[k].replacement : "",
					    r->edits[k].after ? r->edits[k].after : "",
					    r->edits[k].global);
			for (k = 0; k < r->n_env; k++)
				lc_buf_addf(&b, " %s", r->env[k]);
			if (r->creates)
				lc_buf_addf(&b, " c=%s", r->creates);
			if (r->unless)
				lc_buf_addf(&b, " u=%s", r->unless);
			lc_buf_addc(&b, '\n');
		}
		lc_sha256_hex(hex, b.buf, b.len);
		p->role_digest[i] = lc_xstrdup(hex);
	}
	lc_buf_release(&b);
}

char *lc_plan_roles_behind(const struct lc_host_plan *p)
{
	const struct lc_node *inputs = lc_node_get(p->state.root, "inputs");
	struct lc_buf b = LC_BUF_INIT;
	size_t i;

	if (!p->state.root)
		return NULL;
	for (i = 0; i < p->n_roles; i++) {
		const struct lc_node *d = lc_node_get(inputs, p->roles[i]);

		if (!d || d->kind != LC_NODE_SCALAR || !p->role_digest ||
		    strcmp(d->str, p->role_digest[i]))
			lc_buf_addf(&b, "%s%s", b.len ? " " : "", p->roles[i]);
	}
	return lc_buf_detach(&b, NULL);
}

/* Whether op's 'when' holds on this host: its (dotted) variable, as
 * templates see it, against the value; an undefined variable or one that
 * is not a plain value is an error at the 'when'. */
static int when_holds(int *on, struct lc_plan_scope *s, const struct lc_op *op,
		      struct lc_error *err)
{
	char *name = lc_xstrdup(op->when_var), *part, *save = NULL;
	const struct lc_node *v = NULL;
	int rc = 0;

	for (part = strtok_r(name, ".", &save); part; part = strtok_r(NULL, ".", &save))
		if (!(v = v ? lc_node_get(v, part) : lc_plan_scope_lookup(s, part)))
			break;
	if (!v)
		rc = lc_node_error(err, LC_EUNDEF, op->when, "'when': undefined variable '%s'",
				   op->when_var);
	else if (v->kind != LC_NODE_SCALAR)
		rc = lc_node_error(err, LC_EPARSE, op->when, "'when': '%s' is a %s, not a value",
				   op->when_var, v->kind == LC_NODE_MAP ? "map" : "list");
	else
		*on = (strcmp(v->str, op->when_value) == 0) != op->when_negate;
	free(name);
	return rc;
}

int lc_plan_host(struct lc_host_plan *out, struct lc_plan_run *run, const struct lc_host *host,
		 struct lc_error *err)
{
	const struct lc_roles *roles = run->roles;
	struct lc_plan_scope s;
	size_t i, j, n_names = 0;
	const char **names;
	int rc = 0;

	memset(out, 0, sizeof(*out));
	out->host = host;
	out->backend = !host->service_manager ? LC_BACKEND_ANY :
		       !strcmp(host->service_manager, "systemd") ? LC_BACKEND_SYSTEMD :
		       LC_BACKEND_DAEMON;
	lc_plan_scope_init(&s, run->inv, host, run->hosts);
	s.blobs = run->blobs;
	names = lc_xcalloc(host->n_roles + 1, sizeof(*names));
	if (lc_roles_find(roles, "base"))
		names[n_names++] = "base";
	for (i = 0; i < host->n_roles; i++)
		if (strcmp(host->roles[i], "base"))
			names[n_names++] = host->roles[i];
	out->roles = lc_xcalloc(n_names + 1, sizeof(*out->roles));
	for (i = 0; i < n_names; i++)
		out->roles[out->n_roles++] = lc_xstrdup(names[i]);
	host_version(out, run);
	s.version = lc_plan_scalar(out->version);
	for (i = 0; !rc && i < n_names; i++) {
		const struct lc_role *role = lc_roles_find(roles, names[i]);

		lc_node_free(s.defaults);
		s.defaults = NULL;
		if (role->defaults && (rc = lc_vars_resolve(&s.defaults, role->defaults, err)))
			break;
		for (j = 0; !rc && j < role->n_ops; j++) {
			int on = 1;

			if (role->ops[j].when_var && (rc = when_holds(&on, &s, &role->ops[j], err)))
				break;
			if (on)
				rc = role->ops[j].type->plan(out, &s, &role->ops[j], err);
		}
		for (j = 0; !rc && role->health && j < role->health->n_items; j++)
			rc = add_health(out, &s, role->health->items[j], err);
	}
	/* what needs every resource planned: edits over content known here,
	 * what a service watches */
	for (i = 0; !rc && i < out->n_res; i++)
		if (out->res[i].type->resolve)
			rc = out->res[i].type->resolve(out, &out->res[i], err);
	if (!rc)
		role_digests(out);
	free(names);
	lc_plan_scope_release(&s);
	if (rc)
		lc_host_plan_release(out);
	return rc;
}

int lc_plan_read_state(struct lc_host_plan *p, const char *text, size_t len,
		       struct lc_error *err)
{
	const struct lc_node *files;
	size_t i;
	int rc;

	lc_doc_release(&p->state);
	if ((rc = lc_json_parse(&p->state, LC_STATE_FILE, text, len, NULL, err)))
		return rc;
	files = lc_node_get(p->state.root, "files");
	for (i = 0; i < p->n_res; i++) {
		const struct lc_node *h;

		if (!(p->res[i].type->flags & LC_RES_F_CONTENT))
			continue;
		h = lc_node_get(files, p->res[i].path);
		if (h && h->kind == LC_NODE_SCALAR && h->len == 64)
			memcpy(p->res[i].fact.recorded, h->str, LC_SHA256_HEX);
	}
	return 0;
}

static int is_na(const struct lc_host_plan *p, const struct lc_res *r)
{
	return r->backend != LC_BACKEND_ANY && r->backend != p->backend;
}

static enum lc_change_why classify(const struct lc_res *r)
{
	const struct lc_fact *f = &r->fact;
	int drift, pending;

	if (!f->recorded[0])
		return LC_WHY_NEW;
	drift = !f->exists || strcmp(f->sha, f->recorded);
	pending = strcmp(r->sha, f->recorded) != 0;
	if (drift && pending)
		return LC_WHY_BOTH;
	return drift ? LC_WHY_DRIFT : LC_WHY_PENDING;
}

int lc_res_decide(struct lc_host_plan *p, struct lc_res *r, struct lc_error *err)
{
	int rc;

	r->need_content = r->need_meta = 0;
	r->action = LC_SVC_NONE;
	if (is_na(p, r)) {
		r->status = LC_RES_NA;
		return 0;
	}
	if (r->fact.is_link)
		return lc_error_set(err, LC_EREMOTE, "%s is a symbolic link on %s; labctl does not "
				    "write through a link%s", r->path, p->host->name,
				    r->type->flags & LC_RES_F_CONTENT ?
				    " (set follow: true on an edit op to edit the file it points to)" :
				    "");
	if ((rc = r->type->decide(p, r, err)))
		return rc;
	if (r->need_content)
		r->why = classify(r);
	r->status = (r->need_content || r->need_meta) ? LC_RES_CHANGED : LC_RES_OK;
	return 0;
}

void lc_res_describe(struct lc_res *r)
{
	struct lc_buf b = LC_BUF_INIT;

	r->type->describe(&b, r);
	free(r->diff);
	r->diff = lc_buf_detach(&b, NULL);
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
		lc_buf_release(&r->masked);
		for (j = 0; j < r->n_edits; j++)
			lc_edit_release(&r->edits[j]);
		free(r->edits);
		free(r->edit_where);
		free(r->creates);
		free(r->validate);
		for (j = 0; j < r->n_env; j++)
			free(r->env[j]);
		free(r->env);
		free(r->fact.owner);
		free(r->fact.group);
		free(r->fact.sig);
		free(r->fact.missing);
		lc_buf_release(&r->fact.content);
		free(r->tmp_path);
		free(r->up_path);
		free(r->msg);
		free(r->diff);
		for (j = 0; j < r->n_restart_on; j++)
			free(r->restart_on[j]);
		free(r->restart_on);
		free(r->watch);
	}
	free(p->res);
	for (i = 0; i < p->n_health; i++) {
		free((char *)p->health[i].url);
		lc_health_release(&p->health[i]);
	}
	free(p->health);
	lc_buf_release(&p->agent_status);
	for (i = 0; i < p->n_roles; i++) {
		free(p->roles[i]);
		if (p->role_digest)
			free(p->role_digest[i]);
	}
	free(p->roles);
	free(p->role_digest);
	lc_doc_release(&p->state);
	free(p->ustage);
	free(p->missing_tools);
	memset(p, 0, sizeof(*p));
}

