/* plan_int.h - what the plan modules and the op types (ops/) share:
 * plan.c (resources, local files), plan_vars.c (the variables a host
 * sees). */
#ifndef LC_PLAN_INT_H
#define LC_PLAN_INT_H

#include "plan.h"

struct lc_plan_scope {
	const struct lc_inventory *inv;
	const struct lc_host *host;
	struct lc_node *defaults;      /* resolved role defaults, or NULL */
	const struct lc_node *hosts;   /* hosts.NAME.{name,address,...,vars} (the run's) */
	struct lc_node *hostname;
	struct lc_node *roles;
	struct lc_node *version;       /* repo_version */
	struct lc_blobs *blobs;        /* local files read once a run */
};

void lc_plan_scope_init(struct lc_plan_scope *s, const struct lc_inventory *inv,
			const struct lc_host *h, const struct lc_node *hosts);
void lc_plan_scope_release(struct lc_plan_scope *s);
const struct lc_node *lc_plan_scope_lookup(void *data, const char *name);
struct lc_node *lc_plan_scalar(const char *s);
/* Render a role.yaml string field (errors name role.yaml:line:col). */
int lc_plan_render_field(char **out, struct lc_plan_scope *s, const struct lc_op *op,
			 const char *field, const char *text, int *secret, struct lc_error *err);

/* Render env: { K: V } into "K=V" strings (*out, *n: appended to, freed
 * by the caller also on failure); *secret is or'ed with whether a secret
 * went in. */
int lc_plan_env(char ***out, size_t *n, int *secret, struct lc_plan_scope *s,
		const struct lc_op *op, const struct lc_node *env, struct lc_error *err);

/* A new resource of p (the array may move: earlier pointers go stale). */
struct lc_res *lc_plan_res_add(struct lc_host_plan *p, const struct lc_res_type *type,
			       const struct lc_op *op, char *path);
/* The resource that manages path on the host, or NULL. */
struct lc_res *lc_plan_res_find(struct lc_host_plan *p, const char *path);

/* A local file's content, read (work tree: mapped) once a run, from src
 * (NULL: the work tree). */
int lc_plan_blob_get(const struct lc_blob **out, struct lc_blobs *bs, struct lc_source *src,
		     const char *path, struct lc_error *err);
const struct lc_blob *lc_plan_blob_find(const struct lc_blobs *bs, const struct lc_source *src,
					const char *path);

#endif
