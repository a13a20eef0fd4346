/* role.h - roles/<name>/role.yaml: defaults and an ordered list of ops.
 *
 *   defaults: { var: value, ... }
 *   ops:
 *     - dir:      { path: P, mode: "0755", owner: U, group: G }
 *     - file:     { src: files/..., dest: P, mode, owner, group }   (a file or a tree;
 *                   src @apps/X or @build/X: the project's apps/ or build/ dir;
 *                   src http(s):// or file:// URL with sha256: an artifact)
 *     - template: { src: templates/..., dest: P, mode, owner, group }
 *     - edit:     { path: P, create: false, mode, owner, group,
 *                   edits: [ "s/ERE/repl/g" | { line: L, match: ERE, after: ERE } |
 *                            { absent: ERE } ] }
 *     - command:  { run: CMD, creates: P | unless: CMD, chdir: D, env: { K: V } }
 *     - package:  { names: [ nginx, python3-flask ] }        (apt/dpkg)
 *     - service:  { name: N, run: CMD, chdir: D, user: U, env: { K: V },
 *                   state: running | stopped, restart_on: [ PATH, ... ],
 *                   stop_signal: TERM | INT | QUIT | HUP }
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

enum lc_op_kind {
	LC_OP_DIR,
	LC_OP_FILE,
	LC_OP_TEMPLATE,
	LC_OP_EDIT,
	LC_OP_COMMAND,
	LC_OP_SERVICE,
	LC_OP_PACKAGE,
};

enum lc_edit_spec_kind { LC_SPEC_SUBST, LC_SPEC_LINE, LC_SPEC_ABSENT };

struct lc_edit_spec {
	enum lc_edit_spec_kind kind;
	const struct lc_node *where;
	const char *expr;    /* subst expression or absent ERE (template text) */
	const char *line;    /* line: the line (template text) */
	const char *match;   /* line: ERE or NULL */
	const char *after;   /* line: ERE or NULL */
};

struct lc_op {
	enum lc_op_kind kind;
	const struct lc_node *where;  /* the op in role.yaml, for messages */
	const char *role;
	const char *path;             /* dir path, file/template dest, edit path */
	char *src;                    /* absolute local path (file, template) */
	struct lc_source *src_source; /* where src is read (NULL: the work tree) */
	const char *url;              /* file: an artifact's URL (src), with sha256 */
	const char *sha256;
	int is_tree;                  /* file: src is a directory */
	int mode;                     /* -1: not managed */
	const char *owner, *group;    /* NULL: not managed */
	int create;                   /* edit */
	struct lc_edit_spec *edits;
	size_t n_edits;
	const char *run, *creates, *unless, *chdir;
	const struct lc_node *env;    /* map or NULL */
	/* service */
	const char *name, *user;
	const char *stop_signal;      /* TERM (default), INT, QUIT, HUP */
	int stopped;                  /* state: stopped */
	const struct lc_node *restart_on;  /* list of path templates or NULL */
	/* package */
	const struct lc_node *packages;    /* list of package names */
	long cache_valid_time;             /* s: older apt lists are updated first */
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
struct lc_source;
int lc_role_load(struct lc_role *out, const char *roles_dir, const char *project_dir,
		 const char *name, struct lc_source *source, struct lc_error *err);
void lc_role_release(struct lc_role *r);

/* Load every role named by the hosts (and base, if roles_dir has it). */
struct lc_inventory;
int lc_roles_load(struct lc_roles *out, const struct lc_inventory *inv, struct lc_error *err);
const struct lc_role *lc_roles_find(const struct lc_roles *rs, const char *name);
void lc_roles_release(struct lc_roles *rs);

const char *lc_op_kind_name(enum lc_op_kind k);

#endif
