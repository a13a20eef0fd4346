/* op_package.c - `package: { names, cache_valid_time }`: Debian packages,
 * each NAME or NAME=VERSION (that version exactly), templates allowed.
 * The facts batch asks dpkg which are missing (or at another version); only
 * those are installed (apt-get, non-interactive, after updating package
 * lists that are older than cache_valid_time seconds or than a source in
 * /etc/apt, waiting for another apt's dpkg lock). */
#include "op.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>

struct pkg_op {
	const struct lc_node *names;   /* a list of package names */
	long cache_valid_time;         /* s: older apt lists are updated first */
};

static const char *const keys[] = { "names", "cache_valid_time", NULL };

/* A Debian package name, [a-z0-9][a-z0-9+.-]+, optionally =VERSION
 * ([A-Za-z0-9.+:~-]+, starting with a digit). */
static int valid_spec(const char *s)
{
	const char *eq = strchr(s, '=');
	size_t j, n = eq ? (size_t)(eq - s) : strlen(s);

	if (n < 2)
		return 0;
	for (j = 0; j < n; j++)
		if (!((s[j] >= 'a' && s[j] <= 'z') || (s[j] >= '0' && s[j] <= '9') ||
		      (j && strchr("+.-", s[j]))))
			return 0;
	if (!eq)
		return 1;
	if (!(eq[1] >= '0' && eq[1] <= '9'))
		return 0;
	for (j = 1; eq[j]; j++)
		if (!(isalnum((unsigned char)eq[j]) || strchr(".+:~-", eq[j])))
			return 0;
	return 1;
}

static const char bad_spec[] = "'%s' is not a Debian package name (NAME or NAME=VERSION)";

static int parse(struct lc_op *op, const struct lc_node *body, const struct lc_role *role,
		 struct lc_error *err)
{
	struct pkg_op *k = lc_xcalloc(1, sizeof(*k));
	const struct lc_node *v;
	size_t i;
	int rc;

	(void)role;
	op->data = k;
	k->cache_valid_time = 3600;
	if ((v = lc_node_get(body, "cache_valid_time")) &&
	    (rc = lc_node_int(&k->cache_valid_time, v, 0, 31 * 86400, err)))
		return rc;
	if (!(k->names = lc_node_get(body, "names")))
		return lc_node_error(err, LC_EPARSE, body, "a package op needs 'names'");
	if ((rc = lc_node_expect(k->names, LC_NODE_SEQ, "'names'", err)))
		return rc;
	if (!k->names->n_items)
		return lc_node_error(err, LC_EPARSE, k->names, "'names' is empty");
	for (i = 0; i < k->names->n_items; i++) {
		const struct lc_node *n = k->names->items[i];

		if ((rc = lc_node_expect(n, LC_NODE_SCALAR, "a package name", err)))
			return rc;
		/* with a template, checked once rendered */
		if (!strstr(n->str, "{{") && !valid_spec(n->str))
			return lc_node_error(err, LC_EPARSE, n, bad_spec, n->str);
	}
	return 0;
}

/* One resource; its path is the names, space-separated. */
static int plan(struct lc_host_plan *p, struct lc_plan_scope *s, const struct lc_op *op,
		struct lc_error *err)
{
	const struct pkg_op *k = op->data;
	struct lc_buf names = LC_BUF_INIT;
	size_t i;
	int rc, secret = 0;

	for (i = 0; i < k->names->n_items; i++) {
		const struct lc_node *n = k->names->items[i];
		char *v;

		if ((rc = lc_plan_render_field(&v, s, op, "names", n->str, &secret, err))) {
			lc_buf_release(&names);
			return rc;
		}
		if (!valid_spec(v)) {
			rc = lc_node_error(err, LC_EPARSE, n, bad_spec, v);
			free(v);
			lc_buf_release(&names);
			return rc;
		}
		lc_buf_addf(&names, "%s%s", i ? " " : "", v);
		free(v);
	}
	lc_plan_res_add(p, &lc_res_package, op, lc_buf_detach(&names, NULL));
	return 0;
}

const struct lc_op_type lc_op_package = {
	.name = "package",
	.keys = keys,
	.parse = parse,
	.plan = plan,
	.release = lc_op_free_data,
};

/* ---- the package resource --------------------------------------------- */

static void facts(struct lc_buf *out, const struct lc_host_plan *p, const struct lc_res *r,
		  size_t idx)
{
	(void)p;
	/* names were checked when planned: [a-z0-9+.-], =[A-Za-z0-9.+:~-] */
	lc_op_call(out, "lc_pkgs", idx, r->path);
}

static int fact(struct lc_res *r, char what, const char *rest, struct lc_error *err)
{
	if (what != 'K')
		return lc_error_set(err, LC_EREMOTE, "unexpected output from the host for %s",
				    r->path);
	free(r->fact.missing);
	r->fact.missing = lc_xstrdup(rest);
	return 0;
}

static int decide(struct lc_host_plan *p, struct lc_res *r, struct lc_error *err)
{
	(void)p;
	(void)err;
	r->need_meta = r->fact.missing && *r->fact.missing;
	return 0;
}

static void apply(struct lc_buf *out, const struct lc_host_plan *p, const struct lc_res *r)
{
	const struct pkg_op *k = r->op->data;

	(void)p;
	lc_buf_addf(out, "lc_apt %ld", k->cache_valid_time);
	lc_op_arg(out, r->fact.missing);
}

static void describe(struct lc_buf *out, const struct lc_res *r)
{
	lc_buf_addf(out, "would install: %s\n", r->fact.missing ? r->fact.missing : "");
}

const struct lc_res_type lc_res_package = {
	.name = "package",
	.tools = "dpkg-query apt-get",
	.facts = facts,
	.fact = fact,
	.decide = decide,
	.apply = apply,
	.describe = describe,
};
