/* plan.c - the desired state of one host, computed locally. */
#include "plan_int.h"

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
#include "fetch.h"
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
static const struct lc_blob *blob_find(const struct lc_blobs *bs, const struct lc_source *src,
				       const char *path)
{
	size_t i;

	for (i = 0; i < bs->n; i++)
		if (!strcmp(bs->items[i].path, path) && bs->items[i].source == src)
			return &bs->items[i];
	return NULL;
}

static int blob_get(const struct lc_blob **out, struct lc_blobs *bs, struct lc_source *src,
		    const char *path, struct lc_error *err)
{
	char sha[LC_SHA256_HEX];
	struct lc_blob *b;
	struct stat st;
	void *map = NULL;
	int fd, rc;

	if (lc_source_is_fs(src))
		src = NULL;  /* the work tree: mapped */
	if ((*out = blob_find(bs, src, path)))
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

struct lc_res *lc_plan_res_add(struct lc_host_plan *p, enum lc_res_kind kind,
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
	lc_buf_init(&r->masked);
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
	if (strchr(path, '\n'))
		return lc_node_error(err, LC_EPARSE, op->where,
				     "a path on the host may not contain a newline");
	return 0;
}

static int set_owner(struct lc_res *r, struct lc_plan_scope *s, const struct lc_op *op,
		     struct lc_error *err)
{
	int rc;

	free(r->owner);
	free(r->group);
	r->owner = r->group = NULL;
	if (op->owner && (rc = lc_plan_render_field(&r->owner, s, op, "owner", op->owner, NULL, err)))
		return rc;
	if (op->group && (rc = lc_plan_render_field(&r->group, s, op, "group", op->group, NULL, err)))
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
		r = lc_plan_res_add(p, LC_RES_FILE, op, dest);
	}
	*out = r;
	return 0;
}

static int add_blob_file(struct lc_host_plan *p, struct lc_plan_scope *s, const struct lc_op *op,
			 struct lc_blobs *blobs, const char *src, char *dest, struct lc_error *err)
{
	const struct lc_blob *b;
	struct lc_res *r;
	int rc;

	if ((rc = blob_get(&b, blobs, op->src_source, src, err))) {
		free(dest);
		return rc;
	}
	if ((rc = file_res(&r, p, op, dest, err)))
		return rc;
	r->has_content = 1;
	r->data = b->data;
	r->file = !b->owned && b->len ? b->path : NULL;
	r->len = b->len;
	memcpy(r->sha, b->sha, sizeof(r->sha));
	r->mode = op->mode >= 0 ? op->mode : (b->mode & 0777);
	return set_owner(r, s, op, err);
}

static int add_tree(struct lc_host_plan *p, struct lc_plan_scope *s, const struct lc_op *op,
		    struct lc_blobs *blobs, const char *src, const char *dest, struct lc_error *err)
{
	struct lc_source *fs = NULL, *from = op->src_source;
	struct lc_res *r;
	char **names = NULL;
	size_t i, n = 0;
	int rc = 0;

	if (!from)
		from = fs = lc_source_fs();
	if (!res_find(p, dest)) {
		r = lc_plan_res_add(p, LC_RES_DIR, op, lc_xstrdup(dest));
		r->mode = 0755;
		if ((rc = set_owner(r, s, op, err)))
			goto out;
	}
	if ((rc = from->ops->list(from, src, &names, &n, err)))
		goto out;
	for (i = 0; i < n; i++) {
		char *sp, *dp;
		enum lc_src_kind kind;
		struct stat st;
		int mode;

		if (rc)
			break;
		sp = lc_xasprintf("%s/%s", src, names[i]);
		dp = lc_xasprintf("%s/%s", dest, names[i]);
		/* the work tree: a link is refused, not followed */
		if (fs && lstat(sp, &st) == 0 && S_ISLNK(st.st_mode))
			kind = LC_SRC_LINK;
		else if ((rc = from->ops->stat(from, sp, &kind, &mode, err)))
			kind = LC_SRC_MISSING;
		if (rc) {
			/* error set */
		} else if (kind == LC_SRC_LINK) {
			rc = lc_node_error(err, LC_EPARSE, op->where,
					   "%s is a symbolic link; role files must be regular files", sp);
		} else if (kind == LC_SRC_DIR) {
			rc = add_tree(p, s, op, blobs, sp, dp, err);
		} else if (kind == LC_SRC_FILE) {
			rc = add_blob_file(p, s, op, blobs, sp, dp, err);
			dp = NULL;
		}
		free(sp);
		free(dp);
	}
out:
	for (i = 0; i < n; i++)
		free(names[i]);
	free(names);
	lc_source_free(fs);
	return rc;
}

static int compile_edit(struct lc_edit *e, struct lc_plan_scope *s, const struct lc_op *op,
			const struct lc_edit_spec *spec, int *secret, struct lc_error *err)
{
	char *a = NULL, *b = NULL, *c = NULL;
	struct lc_buf where = LC_BUF_INIT;
	int rc, s1 = 0, s2 = 0, s3 = 0;

	switch (spec->kind) {
	case LC_SPEC_SUBST:
		if (!(rc = lc_plan_render_field(&a, s, op, "edits", spec->expr, &s1, err)))
			rc = lc_edit_parse_subst(e, a, err);
		break;
	case LC_SPEC_ABSENT:
		if (!(rc = lc_plan_render_field(&a, s, op, "absent", spec->expr, &s1, err)))
			rc = lc_edit_init_absent(e, a, err);
		break;
	default:
		if (!(rc = lc_plan_render_field(&a, s, op, "line", spec->line, &s1, err)) &&
		    (!spec->match || !(rc = lc_plan_render_field(&b, s, op, "match", spec->match, &s2, err))) &&
		    (!spec->after || !(rc = lc_plan_render_field(&c, s, op, "after", spec->after, &s3, err))))
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

static int add_op(struct lc_host_plan *p, struct lc_plan_scope *s, const struct lc_op *op,
		  struct lc_blobs *blobs, struct lc_error *err)
{
	struct lc_res *r;
	char *path = NULL;
	size_t i;
	int rc, secret = 0;

	if (op->kind != LC_OP_COMMAND && op->kind != LC_OP_SERVICE && op->kind != LC_OP_PACKAGE) {
		if ((rc = lc_plan_render_field(&path, s, op, op->kind == LC_OP_FILE ||
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
			r = lc_plan_res_add(p, LC_RES_DIR, op, path);
		}
		r->mode = op->mode >= 0 ? op->mode : 0755;
		return set_owner(r, s, op, err);
	case LC_OP_FILE:
		if (op->url) {
			char *cache = lc_xasprintf("%s/cache", s->inv->state_dir), *local = NULL;
			const struct lc_blob *b;
			int got;

			/* CACHE/<sha256>, checked and read by an earlier host this
			 * run: not hashed again for every host */
			local = lc_xasprintf("%s/%s", cache, op->sha256);
			b = blob_find(blobs, NULL, local);
			if (b && !strcmp(b->sha, op->sha256)) {
				free(cache);
				rc = add_blob_file(p, s, op, blobs, local, path, err);
				free(local);
				return rc;
			}
			free(local);
			local = NULL;
			/* the cache lives in labctl's state directory */
			if (mkdir(s->inv->state_dir, 0700) < 0 && errno != EEXIST)
				rc = lc_error_set(err, LC_EIO, "%s: %s", s->inv->state_dir,
						  strerror(errno));
			else
				rc = lc_fetch(&local, &got, cache, op->url, op->sha256, 60000, err);
			free(cache);
			if (rc) {
				free(path);
				return lc_node_error(err, rc, op->where, "%s", err ? err->msg : "fetch");
			}
			/* the cached file is read from the work tree (op->src_source
			 * is NULL for a URL) */
			rc = add_blob_file(p, s, op, blobs, local, path, err);
			free(local);
			return rc;
		}
		if (op->is_tree) {
			rc = add_tree(p, s, op, blobs, op->src, path, err);
			free(path);
			return rc;
		}
		return add_blob_file(p, s, op, blobs, op->src, path, err);
	case LC_OP_TEMPLATE: {
		struct lc_buf src = LC_BUF_INIT, out = LC_BUF_INIT;
		const char *rel;

		if (op->src_source)
			rc = lc_source_read(op->src_source, op->src, &src, 16u << 20, err);
		else if ((rc = lc_file_read(&src, op->src, 16u << 20)) < 0)
			rc = lc_error_set(err, LC_EIO, "%s", strerror(-rc));
		if (rc) {
			free(path);
			lc_buf_release(&src);
			return lc_node_error(err, LC_EIO, op->where, "template %s: %s", op->src,
					     err ? err->msg : "");
		}
		rel = strstr(op->src, "/roles/") ? strstr(op->src, "/roles/") + 1 : op->src;
		rc = lc_template_render(&out, rel, src.buf, src.len, lc_plan_scope_lookup, s, &secret, err);
		if (rc)
			free(path);
		if (rc || (rc = file_res(&r, p, op, path, err))) {
			lc_buf_release(&out);
			lc_buf_release(&src);
			return rc;
		}
		r->has_content = 1;
		r->own = out;
		r->secret |= secret;
		if (secret) {
			lc_buf_reset(&r->masked);
			r->has_masked = !lc_template_render_masked(&r->masked, rel, src.buf, src.len,
								   lc_plan_scope_lookup, s, NULL);
		}
		lc_buf_release(&src);
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
			r = lc_plan_res_add(p, LC_RES_FILE, op, path);
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
	case LC_OP_SERVICE:
		return lc_plan_add_service(p, s, op, err);
	case LC_OP_PACKAGE: {
		struct lc_buf names = LC_BUF_INIT;

		for (i = 0; i < op->packages->n_items; i++)
			lc_buf_addf(&names, "%s%s", i ? " " : "", op->packages->items[i]->str);
		lc_plan_res_add(p, LC_RES_PACKAGE, op, lc_buf_detach(&names, NULL));
		return 0;
	}
	case LC_OP_COMMAND:
		r = lc_plan_res_add(p, LC_RES_COMMAND, op, lc_xstrdup(op->run));
		r->run = op->run;
		r->unless = op->unless;
		r->chdir = op->chdir;
		if (op->creates && (rc = lc_plan_render_field(&r->creates, s, op, "creates", op->creates,
						      NULL, err)))
			return rc;
		if (op->env) {
			r->env = lc_xcalloc(op->env->n_pairs, sizeof(*r->env));
			for (i = 0; i < op->env->n_pairs; i++) {
				char *v;
				int sv = 0;

				if ((rc = lc_plan_render_field(&v, s, op, "env", op->env->pairs[i].value->str,
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
	r->file = NULL;
	r->len = r->own.len;
	r->has_content = 1;
	lc_sha256_hex(r->sha, r->data, r->len);
	return 0;
fail:
	lc_buf_release(&res);
	lc_buf_release(&twice);
	return rc;
}

/* repo_version for this host: the deployed commit, short, with "-dirty"
 * when the work tree differs from it under the host's roles or the app
 * files they take (a --ref deploy is never dirty). */
static int host_version(struct lc_host_plan *p, const struct lc_inventory *inv,
			const struct lc_roles *roles, struct lc_error *err)
{
	char **paths = NULL;
	size_t i, j, n = 0, alloc = 0;
	int dirty = 0;

	if (!inv->repo || !inv->repo->is_repo) {
		snprintf(p->version, sizeof(p->version), "unversioned");
		return 0;
	}
	if (lc_source_is_fs(inv->source)) {
		for (i = 0; i < p->n_roles; i++) {
			const struct lc_role *r = lc_roles_find(roles, p->roles[i]);

			LC_ALLOC_GROW(paths, n + 1, alloc);
			paths[n++] = r->dir;
			for (j = 0; j < r->n_ops; j++)
				if (r->ops[j].src && !strncmp(r->ops[j].src, inv->project_dir,
							      strlen(inv->project_dir)) &&
				    r->ops[j].src_source == inv->source) {
					LC_ALLOC_GROW(paths, n + 1, alloc);
					paths[n++] = r->ops[j].src;
				}
		}
		dirty = lc_repo_dirty(inv->repo, paths, n, err);
		free(paths);
		if (dirty < 0)
			return dirty;
	}
	p->dirty = dirty;
	memcpy(p->commit, inv->repo->commit, sizeof(p->commit));
	snprintf(p->version, sizeof(p->version), "%.7s%s", inv->repo->commit,
		 dirty ? "-dirty" : "");
	return 0;
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
			lc_buf_addf(&b, "%d %s %o %s %s %s %d", (int)r->kind, r->path, (unsigned)r->mode,
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

int lc_plan_host(struct lc_host_plan *out, const struct lc_inventory *inv,
		 const struct lc_roles *roles, struct lc_blobs *blobs,
		 const struct lc_host *host, struct lc_error *err)
{
	struct lc_plan_scope s;
	size_t i, j, n_names = 0;
	const char **names;
	int rc = 0;

	memset(out, 0, sizeof(*out));
	out->host = host;
	out->backend = !host->service_manager ? LC_BACKEND_ANY :
		       !strcmp(host->service_manager, "systemd") ? LC_BACKEND_SYSTEMD :
		       LC_BACKEND_DAEMON;
	lc_plan_scope_init(&s, inv, host);
	names = lc_xcalloc(host->n_roles + 1, sizeof(*names));
	if (lc_roles_find(roles, "base"))
		names[n_names++] = "base";
	for (i = 0; i < host->n_roles; i++)
		if (strcmp(host->roles[i], "base"))
			names[n_names++] = host->roles[i];
	out->roles = lc_xcalloc(n_names + 1, sizeof(*out->roles));
	for (i = 0; i < n_names; i++)
		out->roles[out->n_roles++] = lc_xstrdup(names[i]);
	if ((rc = host_version(out, inv, roles, err)))
		goto done;
	s.version = lc_plan_scalar(out->version);
	for (i = 0; !rc && i < n_names; i++) {
		const struct lc_role *role = lc_roles_find(roles, names[i]);

		lc_node_free(s.defaults);
		s.defaults = NULL;
		if (role->defaults && (rc = lc_vars_resolve(&s.defaults, role->defaults, err)))
			break;
		for (j = 0; !rc && j < role->n_ops; j++)
			rc = add_op(out, &s, &role->ops[j], blobs, err);
		for (j = 0; !rc && role->health && j < role->health->n_items; j++)
			rc = add_health(out, &s, role->health->items[j], err);
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
			if (!rc && r->has_masked) {
				struct lc_buf m = LC_BUF_INIT;

				r->has_masked = !run_edits(&m, r, r->masked.buf, r->masked.len, 0, NULL);
				lc_buf_release(&r->masked);
				r->masked = m;
			}
		} else if (r->data == r->own.buf) {
			lc_sha256_hex(r->sha, r->data, r->len);
		}
	}
	if (!rc)
		rc = lc_plan_resolve_watches(out, err);
	if (!rc)
		role_digests(out);
done:
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
	if ((rc = lc_yaml_load_buf(&p->state, LC_STATE_FILE, text, len, NULL, err)))
		return rc;
	files = lc_node_get(p->state.root, "files");
	for (i = 0; i < p->n_res; i++) {
		const struct lc_node *h;

		if (p->res[i].kind != LC_RES_FILE)
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
	const struct lc_fact *f = &r->fact;
	const char *host = p->host->name;
	size_t i;
	int mode, watched = 0;

	r->need_content = r->need_meta = 0;
	r->action = LC_SVC_NONE;
	if (is_na(p, r)) {
		r->status = LC_RES_NA;
		return 0;
	}
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
			r->from_host = 1;
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
	case LC_RES_PACKAGE:
		r->need_meta = f->missing && *f->missing;
		break;
	case LC_RES_SERVICE:
		for (i = 0; i < r->n_watch; i++)
			if (p->res[r->watch[i]].status == LC_RES_CHANGED)
				watched = 1;
		if (r->stopped)
			r->action = f->running ? LC_SVC_STOP : LC_SVC_NONE;
		else if (!f->running)
			r->action = LC_SVC_START;
		else if (watched || f->restart_pending)
			r->action = LC_SVC_RESTART;
		r->need_meta = r->action != LC_SVC_NONE;
		break;
	}
	if (r->need_content)
		r->why = classify(r);
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
		lc_buf_release(&r->masked);
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

