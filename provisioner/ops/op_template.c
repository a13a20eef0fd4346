/* op_template.c - `template: { src, dest, mode, owner, group }`: a file
 * rendered from the role's templates/ with the host's variables (a file
 * resource: see op_file.c).  A file that uses a secret gets mode 0640
 * unless the role sets one, and plan shows it masked. */
#include "op.h"

#include <stdlib.h>
#include <string.h>

#include "files.h"
#include "source.h"
#include "template.h"

static const char *const keys[] = { "src", "dest", "mode", "owner", "group", NULL };

static int parse(struct lc_op *op, const struct lc_node *body, const struct lc_role *role,
		 struct lc_error *err)
{
	const struct lc_node *v;
	int rc;

	if ((rc = lc_role_str(&op->path, body, "dest", 1, "template", err)))
		return rc;
	if (!(v = lc_node_get(body, "src")))
		return lc_node_error(err, LC_EPARSE, body, "template needs 'src'");
	if ((rc = lc_node_expect(v, LC_NODE_SCALAR, "'src'", err)))
		return rc;
	if (strstr(v->str, "://"))
		return lc_node_error(err, LC_EPARSE, v, "a URL src must be http://, "
				     "https:// or file://, in a file op");
	if ((rc = lc_role_src(op, role, "templates", NULL, v, err)))
		return rc;
	return lc_role_meta(op, body, err);
}

static int plan(struct lc_host_plan *p, struct lc_plan_scope *s, const struct lc_op *op,
		struct lc_error *err)
{
	struct lc_buf src = LC_BUF_INIT, out = LC_BUF_INIT;
	struct lc_res *r = NULL;
	const char *rel;
	char *path;
	int rc, secret = 0;

	if ((rc = lc_op_path(&path, s, op, "dest", err)))
		return rc;
	if (op->src_source)
		rc = lc_source_read(op->src_source, op->src, &src, 16u << 20, err);
	else if ((rc = lc_file_read(&src, op->src, 16u << 20)) < 0)
		rc = lc_error_set(err, LC_EIO, "%s", strerror(-rc));
	if (rc) {
		free(path);
		rc = lc_node_error(err, LC_EIO, op->where, "template %s: %s", op->src,
				   err ? err->msg : "");
		goto out;
	}
	rel = strstr(op->src, "/roles/") ? strstr(op->src, "/roles/") + 1 : op->src;
	rc = lc_template_render(&out, rel, src.buf, src.len, lc_plan_scope_lookup, s, &secret, err);
	if (rc)
		free(path);
	if (rc || (rc = lc_op_file_res(&r, p, op, path, err)))
		goto out;
	r->has_content = 1;
	r->own = out;
	lc_buf_init(&out);
	r->secret |= secret;
	if (secret) {
		lc_buf_reset(&r->masked);
		r->has_masked = !lc_template_render_masked(&r->masked, rel, src.buf, src.len,
							   lc_plan_scope_lookup, s, NULL);
	}
	if (op->mode >= 0)
		r->mode = op->mode;
	else if (r->mode < 0)
		r->mode = r->secret ? 0640 : 0644;
	if (op->owner || op->group)
		rc = lc_op_set_owner(r, s, op, err);
out:
	lc_buf_release(&out);
	lc_buf_release(&src);
	return rc;
}

const struct lc_op_type lc_op_template = {
	.name = "template",
	.keys = keys,
	.parse = parse,
	.plan = plan,
};
