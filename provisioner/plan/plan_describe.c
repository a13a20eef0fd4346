/* plan_describe.c - what `plan` shows for a change: a unified diff for
 * text (secrets masked, an old secret on the host too), sizes and digests
 * for binaries, mode and owner changes, commands, service actions. */
#include "plan_int.h"

#include <stdlib.h>
#include <string.h>

#include "diff.h"
#include "template.h"

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

static void describe_meta(struct lc_buf *b, const struct lc_res *r)
{
	const struct lc_fact *f = &r->fact;

	if (f->exists && f->mode != r->mode)
		lc_buf_addf(b, "mode %04o -> %04o\n", f->mode, r->mode);
	if (f->exists && r->owner && strcmp(r->owner, f->owner ? f->owner : ""))
		lc_buf_addf(b, "owner %s -> %s\n", f->owner ? f->owner : "?", r->owner);
	if (f->exists && r->group && strcmp(r->group, f->group ? f->group : ""))
		lc_buf_addf(b, "group %s -> %s\n", f->group ? f->group : "?", r->group);
}

static void describe_file(struct lc_buf *b, const struct lc_res *r)
{
	const struct lc_fact *f = &r->fact;
	struct lc_buf la = LC_BUF_INIT, lb = LC_BUF_INIT, hm = LC_BUF_INIT;
	int have_host = f->exists && (f->content.len || !f->size);

	if (!r->need_content) {
		describe_meta(b, r);
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
		describe_meta(b, r);
	lc_buf_release(&la);
	lc_buf_release(&lb);
	lc_buf_release(&hm);
}

void lc_res_describe(struct lc_res *r)
{
	struct lc_buf b = LC_BUF_INIT;
	size_t i;

	switch (r->kind) {
	case LC_RES_DIR:
		if (!r->fact.exists)
			lc_buf_addf(&b, "create directory, mode %04o\n", r->mode);
		else
			describe_meta(&b, r);
		break;
	case LC_RES_FILE:
		describe_file(&b, r);
		break;
	case LC_RES_PACKAGE:
		lc_buf_addf(&b, "would install: %s\n", r->fact.missing ? r->fact.missing : "");
		break;
	case LC_RES_COMMAND:
		lc_buf_adds(&b, "would run: ");
		lc_buf_adds(&b, r->run);
		if (!b.len || b.buf[b.len - 1] != '\n')
			lc_buf_addc(&b, '\n');
		break;
	case LC_RES_SERVICE:
		/* the action itself is in the op's line */
		if (r->action == LC_SVC_RESTART && r->fact.restart_pending)
			lc_buf_adds(&b, "a restart left pending by an earlier converge\n");
		(void)i;
		break;
	}
	free(r->diff);
	r->diff = lc_buf_detach(&b, NULL);
}
