/* op_edit.c - `edit: { path, edits, create, mode, owner, group }`:
 * sed-style edits of a file (plan/edit.h): of the content another op of
 * the role writes, composed with it here, or of the host's own content,
 * read by the facts batch.  Either way the file is one file resource
 * (op_file.c) and every edit is proven idempotent before it is sent. */
#include "op.h"

#include <stdlib.h>
#include <string.h>

enum spec_kind { SPEC_SUBST, SPEC_LINE, SPEC_ABSENT };

struct spec {
	enum spec_kind kind;
	const struct lc_node *where;
	const char *expr;    /* subst expression or absent ERE (template text) */
	const char *line;    /* line: the line (template text) */
	const char *match;   /* line: ERE or NULL */
	const char *after;   /* line: ERE or NULL */
	const char *before;  /* line: ERE, "BOF" or NULL */
	const char *from, *to;  /* between: the region's EREs, or NULL */
};

struct edit_op {
	int create;          /* a missing file is created (else an error) */
	int follow;          /* a symbolic link: edit the file it points to */
	const char *validate;  /* a command, %s the staged file, or NULL */
	struct spec *specs;
	size_t n;
};

static const char *const keys[] = { "path", "edits", "create", "follow", "validate", "mode",
				     "owner", "group", NULL };

#define EXPECTED "expected an edit: \"s/ERE/replacement/[g]\", {subst: ...}, " \
		 "{line: ..., match: ...} or {absent: ERE}"

/* between: [START_ERE, END_ERE] */
static int parse_between(struct spec *s, const struct lc_node *n, struct lc_error *err)
{
	const struct lc_node *b = lc_node_get(n, "between");
	size_t i;

	if (!b)
		return 0;
	if (b->kind != LC_NODE_SEQ || b->n_items != 2)
		return lc_node_error(err, LC_EPARSE, b, "'between' is a list of two regexes: "
				     "[START, END]");
	for (i = 0; i < 2; i++)
		if (b->items[i]->kind != LC_NODE_SCALAR || !b->items[i]->len)
			return lc_node_error(err, LC_EPARSE, b->items[i],
					     "'between' needs two non-empty regexes");
	s->from = b->items[0]->str;
	s->to = b->items[1]->str;
	return 0;
}

static int parse_edits(struct edit_op *e, const struct lc_node *list, struct lc_error *err)
{
	static const char *const line_keys[] = { "line", "match", "after", "before", "between",
						 NULL };
	static const char *const absent_keys[] = { "absent", "between", NULL };
	static const char *const subst_keys[] = { "subst", "between", NULL };
	size_t i;
	int rc;

	if ((rc = lc_node_expect(list, LC_NODE_SEQ, "'edits'", err)))
		return rc;
	if (!list->n_items)
		return lc_node_error(err, LC_EPARSE, list, "'edits' is empty");
	e->specs = lc_xcalloc(list->n_items, sizeof(*e->specs));
	for (i = 0; i < list->n_items; i++) {
		const struct lc_node *n = list->items[i];
		struct spec *s = &e->specs[e->n++];

		s->where = n;
		if (n->kind == LC_NODE_SCALAR) {
			if (n->len < 2 || n->str[0] != 's')
				return lc_node_error(err, LC_EPARSE, n, EXPECTED);
			s->kind = SPEC_SUBST;
			s->expr = n->str;
		} else if (n->kind == LC_NODE_MAP && lc_node_get(n, "subst")) {
			if ((rc = lc_node_check_keys(n, subst_keys, "a subst edit", err)) ||
			    (rc = lc_role_str(&s->expr, n, "subst", 1, "a subst edit", err)))
				return rc;
			s->kind = SPEC_SUBST;
		} else if (n->kind == LC_NODE_MAP && lc_node_get(n, "line")) {
			if ((rc = lc_node_check_keys(n, line_keys, "a line edit", err)))
				return rc;
			s->kind = SPEC_LINE;
			if ((rc = lc_role_str(&s->line, n, "line", 1, "a line edit", err)) ||
			    (rc = lc_role_str(&s->match, n, "match", 0, "a line edit", err)) ||
			    (rc = lc_role_str(&s->after, n, "after", 0, "a line edit", err)) ||
			    (rc = lc_role_str(&s->before, n, "before", 0, "a line edit", err)))
				return rc;
			if (s->after && s->before)
				return lc_node_error(err, LC_EPARSE, lc_node_get(n, "before"),
						     "a line edit has 'after' or 'before', not both");
		} else if (n->kind == LC_NODE_MAP && lc_node_get(n, "absent")) {
			if ((rc = lc_node_check_keys(n, absent_keys, "an absent edit", err)))
				return rc;
			s->kind = SPEC_ABSENT;
			if ((rc = lc_role_str(&s->expr, n, "absent", 1, "an absent edit", err)))
				return rc;
		} else {
			return lc_node_error(err, LC_EPARSE, n, EXPECTED);
		}
		if (n->kind == LC_NODE_MAP && (rc = parse_between(s, n, err)))
			return rc;
	}
	return 0;
}

static int parse(struct lc_op *op, const struct lc_node *body, const struct lc_role *role,
		 struct lc_error *err)
{
	struct edit_op *e = lc_xcalloc(1, sizeof(*e));
	const struct lc_node *v;
	int rc;

	(void)role;
	op->data = e;
	if ((rc = lc_role_str(&op->path, body, "path", 1, "an edit op", err)))
		return rc;
	if ((v = lc_node_get(body, "create")) && (rc = lc_node_bool(&e->create, v, err)))
		return rc;
	if ((v = lc_node_get(body, "follow")) && (rc = lc_node_bool(&e->follow, v, err)))
		return rc;
	if ((rc = lc_role_str(&e->validate, body, "validate", 0, "an edit op", err)))
		return rc;
	if (e->validate && !strstr(e->validate, "%s"))
		return lc_node_error(err, LC_EPARSE, lc_node_get(body, "validate"),
				     "'validate' needs %%s where the staged file's path goes "
				     "(e.g. \"visudo -cf %%s\")");
	if (!(v = lc_node_get(body, "edits")))
		return lc_node_error(err, LC_EPARSE, body, "an edit op needs 'edits'");
	if ((rc = parse_edits(e, v, err)))
		return rc;
	return lc_role_meta(op, body, err);
}

static void release(struct lc_op *op)
{
	struct edit_op *e = op->data;

	if (e)
		free(e->specs);
	free(e);
}

/* Render a spec's templates and compile it; secret is or'ed with whether
 * a secret went into it. */
static int compile(struct lc_edit *e, struct lc_plan_scope *s, const struct lc_op *op,
		   const struct spec *spec, int *secret, struct lc_error *err)
{
	char *a = NULL, *b = NULL, *c = NULL, *d = NULL;
	struct lc_buf where = LC_BUF_INIT;
	int rc, s1 = 0, s2 = 0, s3 = 0, s4 = 0, s5 = 0, s6 = 0;

	switch (spec->kind) {
	case SPEC_SUBST:
		if (!(rc = lc_plan_render_field(&a, s, op, "edits", spec->expr, &s1, err)))
			rc = lc_edit_parse_subst(e, a, err);
		break;
	case SPEC_ABSENT:
		if (!(rc = lc_plan_render_field(&a, s, op, "absent", spec->expr, &s1, err)))
			rc = lc_edit_init_absent(e, a, err);
		break;
	default:
		if (!(rc = lc_plan_render_field(&a, s, op, "line", spec->line, &s1, err)) &&
		    (!spec->match ||
		     !(rc = lc_plan_render_field(&b, s, op, "match", spec->match, &s2, err))) &&
		    (!spec->after ||
		     !(rc = lc_plan_render_field(&c, s, op, "after", spec->after, &s3, err))) &&
		    (!spec->before ||
		     !(rc = lc_plan_render_field(&d, s, op, "before", spec->before, &s4, err))) &&
		    !(rc = lc_edit_init_line(e, a, b, c, err)) && d &&
		    (rc = lc_edit_set_before(e, d, err)))
			lc_edit_release(e);
		break;
	}
	if (!rc && spec->from) {
		free(a);
		free(b);
		a = b = NULL;
		if ((rc = lc_plan_render_field(&a, s, op, "between", spec->from, &s5, err)) ||
		    (rc = lc_plan_render_field(&b, s, op, "between", spec->to, &s6, err)) ||
		    (rc = lc_edit_set_between(e, a, b, err)))
			lc_edit_release(e);
	}
	if (rc && err) {
		lc_node_where(&where, spec->where);
		if (!strstr(err->msg, where.buf))
			lc_error_prefix(err, "%s", where.buf);
	}
	lc_buf_release(&where);
	*secret |= s1 | s2 | s3 | s4 | s5 | s6;
	free(a);
	free(b);
	free(c);
	free(d);
	return rc;
}

/* The file's validate command, rendered; one per file. */
static int set_validate(struct lc_res *r, struct lc_plan_scope *s, const struct lc_op *op,
			const char *text, struct lc_error *err)
{
	char *v;
	int rc, secret = 0;

	if ((rc = lc_plan_render_field(&v, s, op, "validate", text, &secret, err)))
		return rc;
	if (r->validate && strcmp(r->validate, v)) {
		free(v);
		return lc_node_error(err, LC_EPARSE, op->where, "%s has two different 'validate' "
				     "commands; give it one", r->path);
	}
	free(r->validate);
	r->validate = v;
	return 0;
}

static int plan(struct lc_host_plan *p, struct lc_plan_scope *s, const struct lc_op *op,
		struct lc_error *err)
{
	const struct edit_op *e = op->data;
	struct lc_res *r;
	char *path;
	size_t i;
	int rc, secret = 0;

	if ((rc = lc_op_path(&path, s, op, "path", err)))
		return rc;
	r = lc_plan_res_find(p, path);
	if (r && r->type != &lc_res_file) {
		free(path);
		return lc_node_error(err, LC_EPARSE, op->where, "%s is managed as a directory",
				     r->path);
	}
	if (r)
		free(path);
	else
		r = lc_plan_res_add(p, &lc_res_file, op, path);
	r->create |= e->create;
	r->follow |= e->follow;
	if (e->validate && (rc = set_validate(r, s, op, e->validate, err)))
		return rc;
	if (op->mode >= 0)
		r->mode = op->mode;
	if ((op->owner || op->group) && (rc = lc_op_set_owner(r, s, op, err)))
		return rc;
	r->edits = lc_xrealloc(r->edits, (r->n_edits + e->n) * sizeof(*r->edits));
	r->edit_where = lc_xrealloc(r->edit_where, (r->n_edits + e->n) * sizeof(*r->edit_where));
	for (i = 0; i < e->n; i++) {
		struct lc_edit *ed = &r->edits[r->n_edits];

		r->edit_where[r->n_edits] = e->specs[i].where;
		memset(ed, 0, sizeof(*ed));
		if ((rc = compile(ed, s, op, &e->specs[i], &secret, err)))
			return rc;
		r->n_edits++;
	}
	if (secret && !r->secret) {
		r->secret = 1;
		if (r->has_content && r->op->mode < 0 && r->mode == 0644)
			r->mode = 0640;
	}
	return 0;
}

const struct lc_op_type lc_op_edit = {
	.name = "edit",
	.keys = keys,
	.parse = parse,
	.plan = plan,
	.release = release,
};
