/* op_dir.c - `dir: { path, mode, owner, group }`: a directory, and the
 * directory resource (also made by `file` for the directories of a tree). */
#include "op.h"

#include <stdlib.h>
#include <string.h>

static const char *const keys[] = { "path", "mode", "owner", "group", NULL };

static int parse(struct lc_op *op, const struct lc_node *body, const struct lc_role *role,
		 struct lc_error *err)
{
	int rc;

	(void)role;
	if ((rc = lc_role_str(&op->path, body, "path", 1, "a dir op", err)))
		return rc;
	return lc_role_meta(op, body, err);
}

static int dir_res(struct lc_host_plan *p, struct lc_plan_scope *s, const struct lc_op *op,
		  char *path, int mode, struct lc_error *err)
{
	struct lc_res *r = lc_plan_res_find(p, path);

	if (r) {
		free(path);
		if (r->type != &lc_res_dir)
			return lc_node_error(err, LC_EPARSE, op->where,
					     "%s is already managed as a file", r->path);
	} else {
		r = lc_plan_res_add(p, &lc_res_dir, op, path);
	}
	r->mode = mode;
	return lc_op_set_owner(r, s, op, err);
}

static int plan(struct lc_host_plan *p, struct lc_plan_scope *s, const struct lc_op *op,
		struct lc_error *err)
{
	char *path;
	int rc;

	if ((rc = lc_op_path(&path, s, op, "path", err)))
		return rc;
	return dir_res(p, s, op, path, op->mode >= 0 ? op->mode : 0755, err);
}

const struct lc_op_type lc_op_dir = {
	.name = "dir",
	.keys = keys,
	.parse = parse,
	.plan = plan,
};

/* ---- the directory resource ------------------------------------------- */

static int decide(struct lc_host_plan *p, struct lc_res *r, struct lc_error *err)
{
	const struct lc_fact *f = &r->fact;

	(void)p;
	(void)err;
	r->need_meta = !f->exists || (f->mode != r->mode) ||
		       (r->owner && strcmp(r->owner, f->owner ? f->owner : "")) ||
		       (r->group && strcmp(r->group, f->group ? f->group : ""));
	return 0;
}

static void apply(struct lc_buf *out, const struct lc_host_plan *p, const struct lc_res *r)
{
	(void)p;
	lc_buf_adds(out, "lc_dir");
	lc_op_arg(out, r->path);
	lc_buf_addf(out, " %04o", r->mode);
	lc_op_owner_args(out, r);
	lc_buf_addf(out, " %d", r->fact.exists);
}

static void describe(struct lc_buf *out, const struct lc_res *r)
{
	if (!r->fact.exists)
		lc_buf_addf(out, "create directory, mode %04o\n", r->mode);
	else
		lc_op_describe_meta(out, r);
}

const struct lc_res_type lc_res_dir = {
	.name = "dir",
	.flags = LC_RES_F_PATH,
	.stat = 'D',
	.tools = "stat chmod chown chgrp mkdir",
	.decide = decide,
	.apply = apply,
	.describe = describe,
};
