/* op.h - the kinds of op a role lists, as a table the generic code walks.
 *
 * An op type (dir, file, template, edit, command, package, service) knows
 * how to read its body in role.yaml (parse) and what it wants on a host
 * (plan: it adds resources to the host's plan).  A resource type knows
 * what the host batches do with one resource: the facts to read, how to
 * decide from them, the apply step, what `plan` shows.  Role loading,
 * planning, the engine, the batches and the report only call these
 * functions; none of them knows an op by name.
 *
 * Each op lives in one file, ops/op_NAME.c, with the resource type it
 * introduces (op_dir.c: lc_res_dir, op_file.c: lc_res_file and the helpers
 * the other file-writing ops share, op_command.c, op_package.c,
 * op_service.c).  Adding an op is one new file and one line in op.c's
 * table (CONTRIBUTING.md has a worked example). */
#ifndef LC_OP_H
#define LC_OP_H

#include <stddef.h>

#include "buf.h"
#include "error.h"
#include "plan_int.h"
#include "role.h"
#include "yamlx.h"

/* ---- op types ---------------------------------------------------------- */

struct lc_op_type {
	const char *name;             /* its key in role.yaml */
	const char *const *keys;      /* the keys its body may have (NULL-terminated) */
	/* Read the body (a map, keys already checked) into op: op->type,
	 * where and role are set; mode is -1.  Errors name role.yaml:line:col. */
	int (*parse)(struct lc_op *op, const struct lc_node *body, const struct lc_role *role,
		     struct lc_error *err);
	/* Add what the op wants on this host to p (templates rendered in s). */
	int (*plan)(struct lc_host_plan *p, struct lc_plan_scope *s, const struct lc_op *op,
		    struct lc_error *err);
	/* Free op->data (NULL: there is none to free). */
	void (*release)(struct lc_op *op);
};

/* The table, NULL-terminated, and a lookup by name. */
const struct lc_op_type *const *lc_op_types(void);
const struct lc_op_type *lc_op_type_find(const char *name);

/* ---- resource types ---------------------------------------------------- */

enum {
	LC_RES_F_PATH = 1,     /* a path on the host: one resource per path, stat'ed by
				* the facts batch (stat 'D' or 'F', below) */
	LC_RES_F_CONTENT = 2,  /* content labctl computes and uploads: its digest goes in
				* the state record and the digest cache */
	LC_RES_F_LAST = 4,     /* decided and applied after every other resource (it
				* watches them) */
	LC_RES_F_PROCESS = 8,  /* a process on the host: `status` lists it */
	LC_RES_F_TEXT = 16,    /* path is shell text: shown by its first line */
};

struct lc_res_type {
	const char *name;
	unsigned flags;
	char stat;             /* LC_RES_F_PATH: the letter of the stat pass, 'D' or 'F' */
	const char *tools;     /* commands its batches need on the host, space-separated;
				* a shell expansion is allowed ($lc_svc_tools) */
	/* Facts batch: lines that report r (index idx), beyond the stat pass.
	 * Optional. */
	void (*facts)(struct lc_buf *out, const struct lc_host_plan *p, const struct lc_res *r,
		      size_t idx);
	/* Whether the lines facts() writes for r hold a secret (then the facts
	 * batch may not travel in the exec command).  Optional: no. */
	int (*facts_secret)(const struct lc_res *r);
	/* A facts line "IDX WHAT REST" for r, WHAT other than '-' and 'C'.
	 * Optional; unknown letters are an error. */
	int (*fact)(struct lc_res *r, char what, const char *rest, struct lc_error *err);
	/* After every op is planned (e.g. what a service watches).  Optional. */
	int (*resolve)(struct lc_host_plan *p, struct lc_res *r, struct lc_error *err);
	/* From the facts: set need_content, need_meta and action (status and
	 * why are set by the caller).  An error fails the resource. */
	int (*decide)(struct lc_host_plan *p, struct lc_res *r, struct lc_error *err);
	/* The body of the apply step of a changed r: shell calls (lib.sh). */
	void (*apply)(struct lc_buf *out, const struct lc_host_plan *p, const struct lc_res *r);
	/* plan: what changes (a diff, the command that would run, ...). */
	void (*describe)(struct lc_buf *out, const struct lc_res *r);
	/* plan: lines of a batch that fetch what describe needs from the host
	 * (reported as facts); returns how many.  Optional. */
	int (*diff_facts)(struct lc_buf *out, const struct lc_res *r, size_t idx);
};

extern const struct lc_res_type lc_res_dir, lc_res_file, lc_res_command, lc_res_package,
	lc_res_service;

/* ---- what ops share ---------------------------------------------------- */

/* release for an op whose data is one allocation */
void lc_op_free_data(struct lc_op *op);
/* "FN IDX 'ARG'\n": a lib.sh function that reports resource IDX. */
void lc_op_call(struct lc_buf *out, const char *fn, size_t idx, const char *arg);
/* " 'ARG'" ("" for NULL): a value for a lib.sh function. */
void lc_op_arg(struct lc_buf *out, const char *s);
/* " 'OWNER' 'GROUP'" of r ("" when unmanaged). */
void lc_op_owner_args(struct lc_buf *out, const struct lc_res *r);
/* Render op->path (field names it in errors) and check it is an absolute,
 * normalized path. */
int lc_op_path(char **out, struct lc_plan_scope *s, const struct lc_op *op, const char *field,
	       struct lc_error *err);
/* Render op's owner and group onto r. */
int lc_op_set_owner(struct lc_res *r, struct lc_plan_scope *s, const struct lc_op *op,
		    struct lc_error *err);
/* plan: mode, owner and group changes of an existing path. */
void lc_op_describe_meta(struct lc_buf *out, const struct lc_res *r);

/* op_file.c: the file resource for dest (taken): new, or the one only
 * edits have declared so far; an error when another op writes it. */
int lc_op_file_res(struct lc_res **out, struct lc_host_plan *p, const struct lc_op *op,
		   char *dest, struct lc_error *err);
/* op_file.c: apply r's edits to base (proving them idempotent on it); the
 * result becomes r's content. */
int lc_op_file_apply_edits(struct lc_res *r, const char *base, size_t len,
			   struct lc_error *err);
/* op_file.c: run r's edits over in without proving (masked content). */
int lc_op_file_run_edits(struct lc_buf *out, const struct lc_res *r, const char *in,
			 size_t len);
/* op_file.c: a file resource with content computed here (taken from
 * content), e.g. a service's unit. */
struct lc_res *lc_op_file_computed(struct lc_host_plan *p, const struct lc_op *op, char *path,
				   struct lc_buf *content, int mode);

#endif
