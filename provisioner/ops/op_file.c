/* op_file.c - `file: { src, dest, mode, owner, group, sha256 }`: a file or
 * a whole tree from the role (or @apps/, @build/, or an artifact's URL),
 * and the file resource that template, edit and service ops write too:
 * its content is computed here (template and edits composed) and compared
 * with the host's by digest, uploaded to a temp file next to it and
 * renamed over it. */
#include "op.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "codec.h"
#include "diff.h"
#include "fetch.h"
#include "source.h"
#include "template.h"

struct file_op {
	const char *url;      /* an artifact: http(s):// or file:// */
	const char *sha256;   /* its pinned digest */
	int is_tree;          /* src is a directory */
};

static const char *const keys[] = { "src", "dest", "mode", "owner", "group", "sha256", NULL };

static int parse(struct lc_op *op, const struct lc_node *body, const struct lc_role *role,
		 struct lc_error *err)
{
	const struct lc_node *v, *d = lc_node_get(body, "sha256");
	struct file_op *f = lc_xcalloc(1, sizeof(*f));
	int rc;

	op->data = f;
	if ((rc = lc_role_str(&op->path, body, "dest", 1, "file", err)))
		return rc;
	if (!(v = lc_node_get(body, "src")))
		return lc_node_error(err, LC_EPARSE, body, "file needs 'src'");
	if ((rc = lc_node_expect(v, LC_NODE_SCALAR, "'src'", err)))
		return rc;
	if (strstr(v->str, "://")) {
		if (strncmp(v->str, "http://", 7) && strncmp(v->str, "https://", 8) &&
		    strncmp(v->str, "file://", 7))
			return lc_node_error(err, LC_EPARSE, v, "a URL src must be http://, "
					     "https:// or file://, in a file op");
		if (!d || d->kind != LC_NODE_SCALAR || d->len != 64 ||
		    strspn(d->str, "0123456789abcdef") != 64)
			return lc_node_error(err, LC_EPARSE, d ? d : body,
					     "a URL src needs 'sha256': its SHA-256 as 64 "
					     "lowercase hex digits");
		f->url = v->str;
		f->sha256 = d->str;
	} else if (d) {
		return lc_node_error(err, LC_EPARSE, d, "'sha256' goes with a URL src");
	} else if ((rc = lc_role_src(op, role, "files", &f->is_tree, v, err))) {
		return rc;
	}
	return lc_role_meta(op, body, err);
}

/* ---- the file resource: planning -------------------------------------- */

int lc_op_file_res(struct lc_res **out, struct lc_host_plan *p, const struct lc_op *op,
		   char *dest, struct lc_error *err)
{
	struct lc_res *r = lc_plan_res_find(p, dest);

	*out = NULL;
	if (r && (r->type != &lc_res_file || r->has_content)) {
		int rc = lc_node_error(err, LC_EPARSE, op->where,
				       "%s is already managed by the %s op at %s:%u",
				       dest, r->op->type->name, r->op->where->file,
				       r->op->where->line);
		free(dest);
		return rc;
	}
	if (r) {
		free(dest);
		r->op = op;
	} else {
		r = lc_plan_res_add(p, &lc_res_file, op, dest);
	}
	*out = r;
	return 0;
}

struct lc_res *lc_op_file_computed(struct lc_host_plan *p, const struct lc_op *op, char *path,
				   struct lc_buf *content, int mode)
{
	struct lc_res *r = lc_plan_res_add(p, &lc_res_file, op, path);

	r->has_content = 1;
	r->own = *content;
	lc_buf_init(content);
	r->data = r->own.buf;
	r->len = r->own.len;
	lc_sha256_hex(r->sha, r->data, r->len);
	r->mode = mode;
	return r;
}

/* dest gets the content of the local file src (read once per run, shared
 * by every host). */
static int add_blob_file(struct lc_host_plan *p, struct lc_plan_scope *s, const struct lc_op *op,
			 struct lc_source *from, const char *src, char *dest,
			 struct lc_error *err)
{
	const struct lc_blob *b;
	struct lc_res *r;
	int rc;

	if ((rc = lc_plan_blob_get(&b, s->blobs, from, src, err))) {
		free(dest);
		return rc;
	}
	if ((rc = lc_op_file_res(&r, p, op, dest, err)))
		return rc;
	r->has_content = 1;
	r->data = b->data;
	r->file = !b->owned && b->len ? b->path : NULL;
	r->len = b->len;
	memcpy(r->sha, b->sha, sizeof(r->sha));
	r->mode = op->mode >= 0 ? op->mode : (b->mode & 0777);
	return lc_op_set_owner(r, s, op, err);
}

/* A tree: its directories (0755 unless planned already) and files. */
static int add_tree(struct lc_host_plan *p, struct lc_plan_scope *s, const struct lc_op *op,
		    const char *src, const char *dest, struct lc_error *err)
{
	struct lc_source *fs = NULL, *from = op->src_source;
	struct lc_res *r;
	char **names = NULL;
	size_t i, n = 0;
	int rc = 0;

	if (!from)
		from = fs = lc_source_fs();
	if (!lc_plan_res_find(p, dest)) {
		r = lc_plan_res_add(p, &lc_res_dir, op, lc_xstrdup(dest));
		r->mode = 0755;
		if ((rc = lc_op_set_owner(r, s, op, err)))
			goto out;
	}
	if ((rc = from->ops->list(from, src, &names, &n, err)))
		goto out;
	for (i = 0; i < n && !rc; i++) {
		char *sp = lc_xasprintf("%s/%s", src, names[i]);
		char *dp = lc_xasprintf("%s/%s", dest, names[i]);
		enum lc_src_kind kind;
		struct stat st;
		int mode;

		/* the work tree: a link is refused, not followed */
		if (fs && lstat(sp, &st) == 0 && S_ISLNK(st.st_mode))
			kind = LC_SRC_LINK;
		else if ((rc = from->ops->stat(from, sp, &kind, &mode, err)))
			kind = LC_SRC_MISSING;
		if (rc) {
			/* error set */
		} else if (kind == LC_SRC_LINK) {
			rc = lc_node_error(err, LC_EPARSE, op->where,
					   "%s is a symbolic link; role files must be regular files", sp);
		} else if (kind == LC_SRC_DIR) {
			rc = add_tree(p, s, op, sp, dp, err);
		} else if (kind == LC_SRC_FILE) {
			rc = add_blob_file(p, s, op, op->src_source, sp, dp, err);
			dp = NULL;
		}
		free(sp);
		free(dp);
	}
out:
	for (i = 0; i < n; i++)
		free(names[i]);
	free(names);
	lc_source_free(fs);
	return rc;
}

/* An artifact: downloaded once into the state directory's cache/<sha256>,
 * checked, and read from there (once a run, whatever the host count). */
static int add_artifact(struct lc_host_plan *p, struct lc_plan_scope *s, const struct lc_op *op,
			char *path, struct lc_error *err)
{
	const struct file_op *f = op->data;
	char *cache = lc_xasprintf("%s/cache", s->inv->state_dir), *local;
	const struct lc_blob *b;
	int rc = 0, got;

	local = lc_xasprintf("%s/%s", cache, f->sha256);
	b = lc_plan_blob_find(s->blobs, NULL, local);
	if (!b || strcmp(b->sha, f->sha256)) {
		free(local);
		local = NULL;
		if (mkdir(s->inv->state_dir, 0700) < 0 && errno != EEXIST)
			rc = lc_error_set(err, LC_EIO, "%s: %s", s->inv->state_dir, strerror(errno));
		else
			rc = lc_fetch(&local, &got, cache, f->url, f->sha256, 60000, err);
	}
	free(cache);
	if (rc) {
		free(path);
		free(local);
		return lc_node_error(err, rc, op->where, "%s", err ? err->msg : "fetch");
	}
	rc = add_blob_file(p, s, op, NULL, local, path, err);
	free(local);
	return rc;
}

static int plan(struct lc_host_plan *p, struct lc_plan_scope *s, const struct lc_op *op,
		struct lc_error *err)
{
	const struct file_op *f = op->data;
	char *path;
	int rc;

	if ((rc = lc_op_path(&path, s, op, "dest", err)))
		return rc;
	if (f->url)
		return add_artifact(p, s, op, path, err);
	if (f->is_tree) {
		rc = add_tree(p, s, op, op->src, path, err);
		free(path);
		return rc;
	}
	return add_blob_file(p, s, op, op->src_source, op->src, path, err);
}

const struct lc_op_type lc_op_file = {
	.name = "file",
	.keys = keys,
	.parse = parse,
	.plan = plan,
	.release = lc_op_free_data,
};

/* ---- edits over content ------------------------------------------------ */

/* Run every edit over in; with prove, also check each edit on its own
 * result (an edit that changes its own output would change the file on
 * every converge).  Each edit works on the result in place: one that
 * changes nothing copies nothing. */
static int run_edits(struct lc_buf *out, const struct lc_res *r, const char *in, size_t len,
		     int prove, struct lc_error *err)
{
	/* two buffers, each edit writing the other: no allocation per edit */
	struct lc_buf buf[2] = { LC_BUF_INIT, LC_BUF_INIT };
	size_t i;
	int cur = 0, changed, again = 0, rc = 0;

	lc_buf_add(&buf[0], in, len);
	for (i = 0; i < r->n_edits && !rc; i++) {
		lc_buf_reset(&buf[!cur]);
		if ((rc = lc_edit_apply_into(&buf[!cur], &r->edits[i], buf[cur].buf, buf[cur].len,
					     &changed, prove ? &again : NULL, err)))
			break;
		if (changed)
			cur = !cur;
		if (prove && again) {
			struct lc_buf where = LC_BUF_INIT;

			lc_node_where(&where, r->edit_where[i]);
			rc = lc_error_set(err, LC_EPARSE,
					  "%s: this edit of %s is not idempotent: applied to its own "
					  "result it changes the file again, so every converge would "
					  "report a change (make the replacement no longer match its "
					  "pattern, or use a line edit)", where.buf, r->path);
			lc_buf_release(&where);
		}
	}
	lc_buf_release(&buf[!cur]);
	if (!rc) {
		*out = buf[cur];
		return 0;
	}
	lc_buf_release(&buf[cur]);
	return rc;
}

int lc_op_file_run_edits(struct lc_buf *out, const struct lc_res *r, const char *in, size_t len)
{
	return run_edits(out, r, in, len, 0, NULL);
}

/* Whether the edits, applied in order to in[0..len), give something else:
 * dry runs while each edit leaves it alone, the edits themselves from the
 * first one that does not (a later one may put it back). */
static int edits_change(int *changed, const struct lc_res *r, const char *in, size_t len,
			struct lc_error *err)
{
	struct lc_buf cur = LC_BUF_INIT;
	size_t i;
	int c = 0, rc = 0;

	*changed = 0;
	for (i = 0; i < r->n_edits && !c; i++)
		if ((rc = lc_edit_changes(&r->edits[i], in, len, &c, err)))
			return rc;
	if (!c)
		return 0;
	lc_buf_add(&cur, in, len);
	for (i--; i < r->n_edits && !rc; i++)
		rc = lc_edit_apply(&cur, &r->edits[i], cur.buf, cur.len, &c, err);
	if (!rc)
		*changed = cur.len != len || memcmp(cur.buf, in, len);
	lc_buf_release(&cur);
	return rc;
}

int lc_op_file_apply_edits(struct lc_res *r, const char *base, size_t len, struct lc_error *err)
{
	struct lc_buf res = LC_BUF_INIT;
	int rc, changed;

	if ((rc = run_edits(&res, r, base, len, 1, err)))
		return rc;
	if ((rc = edits_change(&changed, r, res.buf, res.len, err)))
		goto fail;
	/* the whole list on its own result: edits that undo each other */
	if (changed) {
		struct lc_buf where = LC_BUF_INIT;

		lc_node_where(&where, r->edit_where[0]);
		rc = lc_error_set(err, LC_EPARSE,
				  "%s: the edits of %s undo each other: applying them to their own "
				  "result changes the file again, so every converge would report a "
				  "change", where.buf, r->path);
		lc_buf_release(&where);
		goto fail;
	}
	lc_buf_release(&r->own);
	r->own = res;
	r->data = r->own.buf;
	r->file = NULL;
	r->len = r->own.len;
	r->has_content = 1;
	lc_sha256_hex(r->sha, r->data, r->len);
	return 0;
fail:
	lc_buf_release(&res);
	return rc;
}

/* ---- the file resource: the host -------------------------------------- */

/* The edits are applied: free them now, not with the plan.  glibc keeps
 * what each regex matched as a DFA (up to a hundred KiB of tables), and a
 * plan of every host lives until the converge ends. */
static void release_edits(struct lc_res *r)
{
	size_t i;

	for (i = 0; i < r->n_edits; i++)
		lc_edit_release(&r->edits[i]);
	free(r->edits);
	r->edits = NULL;
	r->n_edits = 0;
}

/* Content known here: template and edits become one result, compared once
 * with the host's. */
static int resolve(struct lc_host_plan *p, struct lc_res *r, struct lc_error *err)
{
	int rc;

	if (!r->has_content)
		return 0;
	if (r->own.len || !r->data) {
		r->data = r->own.buf;
		r->len = r->own.len;
	}
	if (!r->n_edits) {
		if (r->data == r->own.buf)
			lc_sha256_hex(r->sha, r->data, r->len);
		return 0;
	}
	if ((rc = lc_op_file_apply_edits(r, r->data, r->len, err)))
		return lc_error_prefix(err, "%s: editing %s", p->host->name, r->path);
	if (r->has_masked) {
		struct lc_buf m = LC_BUF_INIT;

		r->has_masked = !run_edits(&m, r, r->masked.buf, r->masked.len, 0, NULL);
		lc_buf_release(&r->masked);
		r->masked = m;
	}
	release_edits(r);
	return 0;
}

/* "lc_content IDX PATH [1]": the host's content (through a link with follow) */
static void content_call(struct lc_buf *out, const struct lc_res *r, size_t idx)
{
	lc_buf_addf(out, "lc_content %zu", idx);
	lc_op_arg(out, r->path);
	lc_buf_adds(out, r->follow ? " 1\n" : "\n");
}

/* edits only: the host's content is their input */
static void facts(struct lc_buf *out, const struct lc_host_plan *p, const struct lc_res *r,
		  size_t idx)
{
	(void)p;
	if (r->has_content)
		return;
	content_call(out, r, idx);
}

static int fact(struct lc_res *r, char what, const char *rest, struct lc_error *err)
{
	if (what != 'C')
		return lc_error_set(err, LC_EREMOTE, "unexpected output from the host for %s",
				    r->path);
	lc_buf_reset(&r->fact.content);
	if (lc_base64_decode(&r->fact.content, rest, strlen(rest)))
		return lc_error_set(err, LC_EREMOTE, "bad content for %s", r->path);
	return 0;
}

/* Whether every edit of r only removes lines: a file without those lines,
 * or without any, is what they want. */
static int only_absent(const struct lc_res *r)
{
	size_t i;

	for (i = 0; i < r->n_edits; i++)
		if (r->edits[i].kind != LC_EDIT_ABSENT)
			return 0;
	return r->n_edits > 0;
}

static int decide(struct lc_host_plan *p, struct lc_res *r, struct lc_error *err)
{
	const struct lc_fact *f = &r->fact;
	int mode, rc;

	if (!r->has_content) {
		if (!f->exists && only_absent(r)) {
			/* nothing to remove from a file that is not there: no file
			 * is created, even with create: true */
			r->need_content = r->need_meta = 0;
			return 0;
		}
		if (!f->exists && !r->create)
			return lc_error_set(err, LC_EREMOTE,
					    "%s does not exist on %s (set create: true to "
					    "create it)", r->path, p->host->name);
		if ((rc = lc_op_file_apply_edits(r, f->content.buf, f->content.len, err)))
			return rc;
		r->from_host = 1;
	}
	if (r->mode >= 0)
		mode = r->mode;
	else if (r->secret)  /* a secret makes the file 0640 or stricter */
		mode = f->exists ? (f->mode & 0640) : 0640;
	else
		mode = f->exists ? f->mode : 0644;
	r->mode = mode;
	r->need_content = !f->exists || strcmp(r->sha, f->sha);
	r->need_meta = !r->need_content &&
		       (f->mode != mode ||
			(r->owner && strcmp(r->owner, f->owner ? f->owner : "")) ||
			(r->group && strcmp(r->group, f->group ? f->group : "")));
	return 0;
}

static void apply(struct lc_buf *out, const struct lc_host_plan *p, const struct lc_res *r)
{
	(void)p;
	if (!r->need_content) {
		lc_buf_adds(out, "lc_meta");
		lc_op_arg(out, r->path);
		lc_buf_addf(out, " %04o", r->mode);
		lc_op_owner_args(out, r);
		return;
	}
	if (r->inline_put) {
		/* the content, here: no SFTP round trips (base64 has no '_') */
		lc_buf_adds(out, "lc_inline");
		lc_op_arg(out, r->tmp_path);
		lc_buf_adds(out, " <<'__LC_EOF__' || return 1\n");
		lc_base64_encode(out, r->data, r->len, 1);
		lc_buf_adds(out, "\n__LC_EOF__\n  ");
	}
	lc_buf_adds(out, "lc_put");
	lc_op_arg(out, r->path);
	lc_op_arg(out, r->tmp_path);
	lc_op_arg(out, r->up_path);
	lc_buf_addf(out, " %04o", r->mode);
	lc_op_owner_args(out, r);
	/* content computed from the host's: never overwrite a file that
	 * changed since it was read */
	lc_op_arg(out, !r->from_host ? NULL : r->fact.exists ? r->fact.sha : "-");
	if (r->validate || r->follow)
		lc_op_arg(out, r->validate);
	if (r->follow)
		lc_buf_adds(out, " 1");
}

/* plan: the host's content of a text file that would change, for its diff */
static int diff_facts(struct lc_buf *out, const struct lc_res *r, size_t idx)
{
	if (!r->need_content || !r->fact.exists || !r->has_content || r->fact.content.len ||
	    r->fact.size > LC_DIFF_MAX_BYTES)
		return 0;
	content_call(out, r, idx);
	return 1;
}

/* ---- the file resource: what plan shows ------------------------------- */

/* Does line h match m, where each ******** in m stands for any text? */
static int masked_match(const char *h, size_t hl, const char *m, size_t ml)
{
	const size_t sl = strlen(LC_TEMPLATE_MASK);
	const char *star = memmem(m, ml, LC_TEMPLATE_MASK, sl);
	size_t pre;

	if (!star)
		return hl == ml && !memcmp(h, m, hl);
	pre = (size_t)(star - m);
	if (hl < pre || memcmp(h, m, pre))
		return 0;
	h += pre;
	hl -= pre;
	m = star + sl;
	ml -= pre + sl;
	/* the wildcard takes as little as it can, then the rest must match */
	for (;;) {
		if (masked_match(h, hl, m, ml))
			return 1;
		if (!hl)
			return 0;
		h++;
		hl--;
	}
}

/* The host's content with each line that matches a masked line of the
 * desired content replaced by it: an old secret on the host is not shown. */
static void mask_host(struct lc_buf *out, const struct lc_buf *host, const struct lc_buf *masked)
{
	const char *h = host->buf, *hend = host->buf + host->len;

	while (h < hend) {
		const char *hnl = memchr(h, '\n', (size_t)(hend - h));
		size_t hl = hnl ? (size_t)(hnl - h) : (size_t)(hend - h);
		const char *m = masked->buf, *mend = masked->buf + masked->len;
		int done = 0;

		while (m < mend && !done) {
			const char *mnl = memchr(m, '\n', (size_t)(mend - m));
			size_t ml = mnl ? (size_t)(mnl - m) : (size_t)(mend - m);

			if (memmem(m, ml, LC_TEMPLATE_MASK, strlen(LC_TEMPLATE_MASK)) &&
			    masked_match(h, hl, m, ml)) {
				lc_buf_add(out, m, ml);
				done = 1;
			}
			m += ml + 1;
		}
		if (!done)
			lc_buf_add(out, h, hl);
		if (hnl)
			lc_buf_addc(out, '\n');
		h += hl + 1;
	}
}

/* A unified diff for text (secrets masked, an old secret on the host
 * too), sizes and digests for binaries, then mode and owner changes. */
static void describe(struct lc_buf *b, const struct lc_res *r)
{
	const struct lc_fact *f = &r->fact;
	struct lc_buf la = LC_BUF_INIT, lb = LC_BUF_INIT, hm = LC_BUF_INIT;
	int have_host = f->exists && (f->content.len || !f->size);

	if (!r->need_content) {
		lc_op_describe_meta(b, r);
		return;
	}
	if (lc_diff_is_binary(r->data, r->len) || (long)r->len > LC_DIFF_MAX_BYTES ||
	    (f->exists && (!have_host || lc_diff_is_binary(f->content.buf, f->content.len)))) {
		if (f->exists)
			lc_buf_addf(b, "binary: %ld bytes sha256:%.16s... -> %zu bytes sha256:%.16s...\n",
				    f->size, f->sha, r->len, r->sha);
		else
			lc_buf_addf(b, "new binary file: %zu bytes sha256:%.16s...\n", r->len, r->sha);
	} else if (r->secret && !r->has_masked) {
		lc_buf_addf(b, "content holds a secret (diff not shown): %ld -> %zu bytes\n",
			    f->exists ? f->size : 0L, r->len);
	} else {
		const char *want = r->secret ? r->masked.buf : r->data;
		size_t wlen = r->secret ? r->masked.len : r->len;

		if (f->exists && r->secret)
			mask_host(&hm, &f->content, &r->masked);
		else if (f->exists)
			lc_buf_add(&hm, f->content.buf, f->content.len);
		lc_buf_addf(&la, "%s (%s)", f->exists ? r->path : "/dev/null", "host");
		lc_buf_addf(&lb, "%s (%s)", r->path, "labctl");
		if (!lc_diff_unified(b, hm.buf, hm.len, want, wlen, la.buf, lb.buf,
				     LC_DIFF_CONTEXT_DEFAULT))
			lc_buf_adds(b, "a secret value changes (not shown)\n");
	}
	if (!f->exists)
		lc_buf_addf(b, "mode %04o\n", r->mode);
	else
		lc_op_describe_meta(b, r);
	lc_buf_release(&la);
	lc_buf_release(&lb);
	lc_buf_release(&hm);
}

const struct lc_res_type lc_res_file = {
	.name = "file",
	.flags = LC_RES_F_PATH | LC_RES_F_CONTENT,
	.stat = 'F',
	.tools = "stat chmod chown chgrp mkdir mv rm cp",
	.facts = facts,
	.fact = fact,
	.resolve = resolve,
	.decide = decide,
	.apply = apply,
	.describe = describe,
	.diff_facts = diff_facts,
};
