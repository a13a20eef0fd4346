/* plan_vars.c - the variables a host's templates see: host vars, role
 * defaults, lab vars, and the built-ins (host, hosts, tags, roles,
 * inventory_hostname, repo_version). */
#include "plan_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "template.h"

struct lc_node *lc_plan_scalar(const char *s)
{
	return lc_node_new_scalar(s, strlen(s));
}

const struct lc_node *lc_plan_scope_lookup(void *data, const char *name)
{
	struct lc_plan_scope *s = data;
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
	if (!strcmp(name, "repo_version"))
		return s->version;
	if ((v = lc_node_get(s->host->vars, name)))
		return v;
	if ((v = lc_node_get(s->defaults, name)))
		return v;
	return lc_node_get(s->inv->vars, name);
}

void lc_plan_scope_init(struct lc_plan_scope *s, const struct lc_inventory *inv,
			const struct lc_host *h, const struct lc_node *hosts)
{
	size_t i;

	memset(s, 0, sizeof(*s));
	s->inv = inv;
	s->host = h;
	s->hosts = hosts;
	s->hostname = lc_plan_scalar(h->name);
	s->roles = lc_node_new(LC_NODE_SEQ, NULL, 0, 0);
	lc_node_seq_add(s->roles, lc_plan_scalar("base"));
	for (i = 0; i < h->n_roles; i++)
		lc_node_seq_add(s->roles, lc_plan_scalar(h->roles[i]));
}

void lc_plan_scope_release(struct lc_plan_scope *s)
{
	lc_node_free(s->defaults);
	lc_node_free(s->hostname);
	lc_node_free(s->roles);
	lc_node_free(s->version);
}

/* Render a role.yaml string field. */
int lc_plan_render_field(char **out, struct lc_plan_scope *s, const struct lc_op *op,
			 const char *field, const char *text, int *secret, struct lc_error *err)
{
	struct lc_buf name = LC_BUF_INIT, b = LC_BUF_INIT;
	int rc;

	*out = NULL;
	lc_node_where(&name, op->where);
	lc_buf_addf(&name, " '%s'", field);
	rc = lc_template_render(&b, name.buf, text, strlen(text), lc_plan_scope_lookup, s, secret, err);
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


int lc_plan_env(char ***out, size_t *n, int *secret, struct lc_plan_scope *s,
		const struct lc_op *op, const struct lc_node *env, struct lc_error *err)
{
	size_t i;
	int rc;

	if (!env)
		return 0;
	*out = lc_xrealloc(*out, (*n + env->n_pairs + 1) * sizeof(**out));
	for (i = 0; i < env->n_pairs; i++) {
		char *v;
		int sv = 0;

		if ((rc = lc_plan_render_field(&v, s, op, "env", env->pairs[i].value->str, &sv, err)))
			return rc;
		*secret |= sv;
		(*out)[(*n)++] = lc_xasprintf("%s=%s", env->pairs[i].key->str, v);
		free(v);
	}
	return 0;
}
