/* op_command.c - `command: { run, creates | unless, chdir, env }`: shell
 * text run on the host when its guard says so (creates: a path that must
 * not exist; unless: a command that must fail), so that a second converge
 * does not run it again.  run and unless are never templated: values reach
 * them through env, passed literally. */
#include "op.h"

#include <stdlib.h>
#include <string.h>

struct cmd_op {
	const char *run, *creates, *unless, *chdir;
	const struct lc_node *env;
};

static const char *const keys[] = { "run", "creates", "unless", "chdir", "env", NULL };

static int parse(struct lc_op *op, const struct lc_node *body, const struct lc_role *role,
		 struct lc_error *err)
{
	struct cmd_op *c = lc_xcalloc(1, sizeof(*c));
	int rc;

	(void)role;
	op->data = c;
	if ((rc = lc_role_str(&c->run, body, "run", 1, "a command op", err)) ||
	    (rc = lc_role_str(&c->creates, body, "creates", 0, "a command op", err)) ||
	    (rc = lc_role_str(&c->unless, body, "unless", 0, "a command op", err)) ||
	    (rc = lc_role_str(&c->chdir, body, "chdir", 0, "a command op", err)))
		return rc;
	if (!c->creates && !c->unless)
		return lc_node_error(err, LC_EPARSE, body,
				     "a command op needs 'creates' or 'unless' so that a "
				     "second converge does not run it again");
	return lc_role_env(&c->env, body, err);
}

static int plan(struct lc_host_plan *p, struct lc_plan_scope *s, const struct lc_op *op,
		struct lc_error *err)
{
	const struct cmd_op *c = op->data;
	struct lc_res *r = lc_plan_res_add(p, &lc_res_command, op, lc_xstrdup(c->run));
	int rc;

	r->run = c->run;
	r->unless = c->unless;
	r->chdir = c->chdir;
	if (c->creates &&
	    (rc = lc_plan_render_field(&r->creates, s, op, "creates", c->creates, NULL, err)))
		return rc;
	return lc_plan_env(&r->env, &r->n_env, &r->secret, s, op, c->env, err);
}

const struct lc_op_type lc_op_command = {
	.name = "command",
	.keys = keys,
	.parse = parse,
	.plan = plan,
	.release = lc_op_free_data,
};

/* ---- the command resource --------------------------------------------- */

static void facts(struct lc_buf *out, const struct lc_host_plan *p, const struct lc_res *r,
		  size_t idx)
{
	size_t j;

	(void)p;
	lc_buf_addf(out, "lc_guard %zu", idx);
	lc_op_arg(out, r->creates);
	lc_op_arg(out, r->unless ? r->chdir : NULL);
	lc_op_arg(out, r->unless);
	for (j = 0; r->unless && j < r->n_env; j++)
		lc_op_arg(out, r->env[j]);
	lc_buf_addc(out, '\n');
}

/* The guard's environment goes in the facts batch with unless only. */
static int facts_secret(const struct lc_res *r)
{
	return r->secret && r->unless;
}

static int fact(struct lc_res *r, char what, const char *rest, struct lc_error *err)
{
	if (what != 'G')
		return lc_error_set(err, LC_EREMOTE, "unexpected output from the host for a command");
	r->fact.guard_run = rest[0] == '1';
	return 0;
}

static int decide(struct lc_host_plan *p, struct lc_res *r, struct lc_error *err)
{
	(void)p;
	(void)err;
	r->need_meta = r->fact.guard_run;
	return 0;
}

static void apply(struct lc_buf *out, const struct lc_host_plan *p, const struct lc_res *r)
{
	size_t j;

	(void)p;
	lc_buf_adds(out, "lc_cmd");
	lc_op_arg(out, r->creates);
	lc_op_arg(out, r->chdir);
	lc_op_arg(out, r->unless);
	lc_op_arg(out, r->run);
	for (j = 0; j < r->n_env; j++)
		lc_op_arg(out, r->env[j]);
}

static void describe(struct lc_buf *out, const struct lc_res *r)
{
	lc_buf_adds(out, "would run: ");
	lc_buf_adds(out, r->run);
	if (!out->len || out->buf[out->len - 1] != '\n')
		lc_buf_addc(out, '\n');
}

const struct lc_res_type lc_res_command = {
	.name = "command",
	.flags = LC_RES_F_TEXT,
	.facts = facts,
	.facts_secret = facts_secret,
	.fact = fact,
	.decide = decide,
	.apply = apply,
	.describe = describe,
};
