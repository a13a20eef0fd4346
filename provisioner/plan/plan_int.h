/* plan_int.h - what the plan modules share, private to them:
 * plan.c (resources), plan_vars.c (the variables a host sees),
 * plan_service.c (services), plan_describe.c (what plan shows). */
#ifndef LC_PLAN_INT_H
#define LC_PLAN_INT_H

#include "plan.h"

struct lc_plan_scope {
	const struct lc_inventory *inv;
	const struct lc_host *host;
	struct lc_node *defaults;      /* resolved role defaults, or NULL */
	struct lc_node *hosts;         /* hosts.NAME.{name,address,...,vars} */
	struct lc_node *hostname;
	struct lc_node *roles;
	struct lc_node *version;       /* repo_version */
};

void lc_plan_scope_init(struct lc_plan_scope *s, const struct lc_inventory *inv,
			const struct lc_host *h);
void lc_plan_scope_release(struct lc_plan_scope *s);
const struct lc_node *lc_plan_scope_lookup(void *data, const char *name);
struct lc_node *lc_plan_scalar(const char *s);
/* Render a role.yaml string field (errors name role.yaml:line:col). */
int lc_plan_render_field(char **out, struct lc_plan_scope *s, const struct lc_op *op,
			 const char *field, const char *text, int *secret, struct lc_error *err);

struct lc_res *lc_plan_res_add(struct lc_host_plan *p, enum lc_res_kind kind,
			       const struct lc_op *op, char *path);

int lc_plan_add_service(struct lc_host_plan *p, struct lc_plan_scope *s, const struct lc_op *op,
			struct lc_error *err);
int lc_plan_resolve_watches(struct lc_host_plan *p, struct lc_error *err);

#endif
