/* role.h - roles/<name>/role.yaml: defaults and an ordered list of ops.
 *
 *   defaults: { var: value, ... }
 *   ops:                             in order; one key each, the op's kind
 *     - file: { src: files/app.py, dest: /opt/app/app.py }
 *     - ...                          (ops/op_*.c: one file per kind says
 *                                     what its body holds)
 *
 *   health:                          checked after the converge, concurrently
 *     - { url: "http://{{ host.address }}:8081/health", status: 200, timeout: 10 }
 *
 * String fields other than run/unless are templates ({{ var }}).  run and
 * unless are shell text written by the role author and are never templated:
 * values reach them only through `env`, which is passed literally. */
#ifndef LC_ROLE_H
#define LC_ROLE_H

#include <stddef.h>

#include "error.h"
#include "yamlx.h"

struct lc_op_type;   /* ops/op.h: what each kind of op does */
struct lc_source;

/* One op of a role, as read by its type's parse (ops/op_NAME.c). */
struct lc_op {
	const struct lc_op_type *type;
	const struct lc_node *where;  /* the op in role.yaml, for messages */
	const char *role;
	const char *path;             /* the path on the host it manages, as written
				       * (dir path, file dest, edit path), or NULL */
	char *src;                    /* a local file or tree it copies: absolute */
	struct lc_source *src_source; /* where src is read (NULL: the work tree) */
	int mode;                     /* -1: not managed */
	const char *owner, *group;    /* NULL: not managed */
	void *data;                   /* the type's own (released by it) */
	/* when: "VAR == VALUE" / "VAR != VALUE": the op is planned only on
	 * hosts where it holds (when_var NULL: always) */
	const struct lc_node *when;
	char *when_var, *when_value;
	int when_negate;
};

struct lc_role {
	char *name;
	char *dir;
	char *project_dir;               /* where @apps/ and @build/ live */
	struct lc_source *source;        /* NULL: the work tree */
	struct lc_doc doc;
	const struct lc_node *defaults;  /* map or NULL, inside doc */
	const struct lc_node *health;    /* list or NULL, inside doc */
	struct lc_op *ops;
	size_t n_ops;
};

struct lc_roles {
	struct lc_role *roles;
	size_t n;
};

/* Load roles_dir/NAME/role.yaml. Checks every src stays inside the role. */
int lc_role_load(struct lc_role *out, const char *roles_dir, const char *project_dir,
		 const char *name, struct lc_source *source, struct lc_error *err);
void lc_role_release(struct lc_role *r);

/* Load every role named by the hosts (and base, if roles_dir has it). */
struct lc_inventory;
int lc_roles_load(struct lc_roles *out, const struct lc_inventory *inv, struct lc_error *err);
const struct lc_role *lc_roles_find(const struct lc_roles *rs, const char *name);
void lc_roles_release(struct lc_roles *rs);

/* For the op types' parse functions: errors name role.yaml:line:col. */

/* *out = map[key] if it is a non-empty string (NULL when absent and not
 * required); what names the thing in "WHAT needs 'KEY'". */
int lc_role_str(const char **out, const struct lc_node *map, const char *key, int required,
		const char *what, struct lc_error *err);
/* mode (octal string), owner and group of body into op. */
int lc_role_meta(struct lc_op *op, const struct lc_node *body, struct lc_error *err);
/* env: { NAME: value template } (NULL when absent). */
int lc_role_env(const struct lc_node **out, const struct lc_node *body, struct lc_error *err);
/* src v must name something inside the role's sub directory (or, written
 * @apps/... or @build/..., the project's apps/ or build/) after resolving
 * symlinks: sets op->src and op->src_source.  is_tree: set to whether it is
 * a directory; NULL refuses directories. */
int lc_role_src(struct lc_op *op, const struct lc_role *r, const char *sub, int *is_tree,
		const struct lc_node *v, struct lc_error *err);

#endif
