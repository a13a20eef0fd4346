/* op.c - the table of op types, and what ops share. */
#include "op.h"

#include <stdlib.h>
#include <string.h>

extern const struct lc_op_type lc_op_dir, lc_op_file, lc_op_template, lc_op_edit,
	lc_op_command, lc_op_package, lc_op_service;

/* One line per op type; the order is the one `labctl --help` and errors
 * list them in. */
static const struct lc_op_type *const table[] = {
	&lc_op_dir,
	&lc_op_file,
	&lc_op_template,
	&lc_op_edit,
	&lc_op_command,
	&lc_op_package,
	&lc_op_service,
	NULL,
};

const struct lc_op_type *const *lc_op_types(void)
{
	return table;
}

const struct lc_op_type *lc_op_type_find(const char *name)
{
	size_t i;

	for (i = 0; table[i]; i++)
		if (!strcmp(table[i]->name, name))
			return table[i];
	return NULL;
}

void lc_op_arg(struct lc_buf *out, const char *s)
{
	lc_buf_addc(out, ' ');
	lc_buf_add_shquote(out, s ? s : "");
}

void lc_op_free_data(struct lc_op *op)
{
	free(op->data);
}

void lc_op_call(struct lc_buf *out, const char *fn, size_t idx, const char *arg)
{
	lc_buf_addf(out, "%s %zu", fn, idx);
	lc_op_arg(out, arg);
	lc_buf_addc(out, '\n');
}

void lc_op_owner_args(struct lc_buf *out, const struct lc_res *r)
{
	lc_op_arg(out, r->owner);
	lc_op_arg(out, r->group);
}

int lc_op_path(char **out, struct lc_plan_scope *s, const struct lc_op *op, const char *field,
	       struct lc_error *err)
{
	const char *path;
	size_t len;
	int rc;

	if ((rc = lc_plan_render_field(out, s, op, field, op->path, NULL, err)))
		return rc;
	path = *out;
	len = strlen(path);
	if (path[0] != '/')
		rc = lc_node_error(err, LC_EPARSE, op->where,
				   "path '%s' on the host must be absolute", path);
	else if (strstr(path, "/../") || strstr(path, "/./") || strstr(path, "//") ||
		 (len > 1 && path[len - 1] == '/') ||
		 (len >= 2 && !strcmp(path + len - 2, "/.")) ||
		 (len >= 3 && !strcmp(path + len - 3, "/..")))
		rc = lc_node_error(err, LC_EPARSE, op->where,
				   "path '%s' on the host must be normalized (no '..', '.', "
				   "'//' or trailing '/')", path);
	else if (strchr(path, '\n'))
		rc = lc_node_error(err, LC_EPARSE, op->where,
				   "a path on the host may not contain a newline");
	if (rc) {
		free(*out);
		*out = NULL;
	}
	return rc;
}

int lc_op_set_owner(struct lc_res *r, struct lc_plan_scope *s, const struct lc_op *op,
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

void lc_op_describe_meta(struct lc_buf *b, const struct lc_res *r)
{
	const struct lc_fact *f = &r->fact;

	if (f->exists && f->mode != r->mode)
		lc_buf_addf(b, "mode %04o -> %04o\n", f->mode, r->mode);
	if (f->exists && r->owner && strcmp(r->owner, f->owner ? f->owner : ""))
		lc_buf_addf(b, "owner %s -> %s\n", f->owner ? f->owner : "?", r->owner);
	if (f->exists && r->group && strcmp(r->group, f->group ? f->group : ""))
		lc_buf_addf(b, "group %s -> %s\n", f->group ? f->group : "?", r->group);
}
