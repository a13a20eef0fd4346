/* report.c - human and JSON output. */
#include "report.h"

#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "json.h"
#include "op.h"

static void collect(struct lc_report *r, const struct lc_node *n)
{
	size_t i;

	if (!n)
		return;
	if (n->kind == LC_NODE_SCALAR) {
		if (n->secret && n->len >= 1) {
			r->secrets = lc_xrealloc(r->secrets, (r->n_secrets + 1) * sizeof(*r->secrets));
			r->secrets[r->n_secrets++] = lc_xstrndup(n->str, n->len);
		}
		return;
	}
	for (i = 0; i < n->n_items; i++)
		collect(r, n->items[i]);
	for (i = 0; i < n->n_pairs; i++)
		collect(r, n->pairs[i].value);
}

void lc_report_init(struct lc_report *r, FILE *out, int json, int verbose,
		    const struct lc_inventory *inv)
{
	size_t i;

	memset(r, 0, sizeof(*r));
	r->out = out;
	r->json = json;
	r->verbose = verbose;
	if (!inv)
		return;
	collect(r, inv->vars);
	for (i = 0; i < inv->n_hosts; i++)
		collect(r, inv->hosts[i].vars);
}

void lc_report_release(struct lc_report *r)
{
	size_t i;

	for (i = 0; i < r->n_secrets; i++)
		free(r->secrets[i]);
	free(r->secrets);
	r->secrets = NULL;
	r->n_secrets = 0;
}

char *lc_report_mask(const struct lc_report *r, const char *s)
{
	struct lc_buf b = LC_BUF_INIT;
	size_t i;

	const char *p = s ? s : "";

	while (*p) {
		size_t best = 0;

		for (i = 0; i < r->n_secrets; i++) {
			size_t sl = strlen(r->secrets[i]);

			if (sl > best && !strncmp(p, r->secrets[i], sl))
				best = sl;
		}
		if (best) {
			lc_buf_adds(&b, "********");
			p += best;
		} else {
			lc_buf_addc(&b, *p++);
		}
	}
	return lc_buf_detach(&b, NULL);
}

static const char *status_name(enum lc_res_status s)
{
	switch (s) {
	case LC_RES_OK: return "ok";
	case LC_RES_CHANGED: return "changed";
	case LC_RES_FAILED: return "failed";
	case LC_RES_SKIPPED: return "skipped";
	default: return "pending";
	}
}

/* What a resource is called: its path, or the first line of a command. */
static char *res_subject(const struct lc_res *res)
{
	const char *nl;
	size_t len;

	if (!(res->type->flags & LC_RES_F_TEXT))
		return lc_xstrdup(res->path);
	nl = strchr(res->path, '\n');
	len = nl ? (size_t)(nl - res->path) : strlen(res->path);
	if (len > 60)
		return lc_xasprintf("%.57s...", res->path);
	return lc_xstrndup(res->path, len);
}

static const char *why_name(enum lc_change_why w)
{
	switch (w) {
	case LC_WHY_PENDING: return "pending";
	case LC_WHY_DRIFT: return "drift";
	case LC_WHY_BOTH: return "pending+drift";
	default: return "new";
	}
}

static const char *action_name(enum lc_svc_action a)
{
	switch (a) {
	case LC_SVC_START: return "start";
	case LC_SVC_RESTART: return "restart";
	case LC_SVC_STOP: return "stop";
	default: return "none";
	}
}

/* The word in the status column. */
static const char *status_word(const struct lc_report *r, const struct lc_res *res)
{
	if (!r->plan || res->status != LC_RES_CHANGED)
		return status_name(res->status);
	if (res->need_content &&
	    (res->why == LC_WHY_DRIFT || res->why == LC_WHY_BOTH))
		return res->why == LC_WHY_DRIFT ? "drift" : "pending+drift";
	return "pending";
}

/* A note after the subject: why, or what a service does. */
static void add_note(struct lc_buf *b, const struct lc_report *r, const struct lc_res *res)
{
	if (res->status != LC_RES_CHANGED)
		return;
	if (res->action != LC_SVC_NONE) {
		static const char *const done[] = { "", "started", "restarted", "stopped" };
		static const char *const todo[] = { "", "would start", "would restart", "would stop" };

		lc_buf_addf(b, " (%s)", (r->plan ? todo : done)[res->action]);
	} else if (!r->plan && res->need_content &&
		   (res->why == LC_WHY_DRIFT || res->why == LC_WHY_BOTH)) {
		lc_buf_adds(b, " (drift repaired)");
	}
}

/* A JSON string of s with secrets masked. */
static struct lc_node *masked_str(const struct lc_report *r, const char *s)
{
	char *m = lc_report_mask(r, s);
	struct lc_node *n = lc_json_str(m);

	free(m);
	return n;
}

/* {"event": EVENT, "host": HOST} to add to (host NULL: left out). */
static struct lc_node *event(const struct lc_report *r, const char *name, const char *host)
{
	struct lc_node *o = lc_json_object();

	lc_json_set(o, "event", lc_json_str(name));
	if (host)
		lc_json_set(o, "host", masked_str(r, host));
	return o;
}

/* Seconds as --json shows them: to the millisecond. */
static struct lc_node *seconds(double s)
{
	return lc_json_real(round(s * 1000) / 1000);
}

void lc_report_host(struct lc_report *r, const struct lc_host_run *run)
{
	const struct lc_host_plan *p = &run->plan;
	const char *host = p->host->name;
	struct lc_buf b = LC_BUF_INIT;
	size_t i;

	for (i = 0; i < p->n_res; i++) {
		const struct lc_res *res = &p->res[i];
		char *subj;

		if (res->status != LC_RES_CHANGED && res->status != LC_RES_FAILED &&
		    !(r->verbose && res->status != LC_RES_PENDING))
			continue;
		subj = res_subject(res);
		lc_buf_reset(&b);
		if (r->json) {
			struct lc_node *o = event(r, "op", host);

			lc_json_set(o, "status", lc_json_str(r->plan && res->status == LC_RES_CHANGED ?
							      "pending" : status_name(res->status)));
			lc_json_set(o, "op", lc_json_str(res->op->type->name));
			lc_json_set(o, "role", masked_str(r, res->op->role));
			lc_json_set(o, "path", masked_str(r, subj));
			if (res->status == LC_RES_CHANGED && res->need_content)
				lc_json_set(o, "why", lc_json_str(why_name(res->why)));
			if (res->status == LC_RES_CHANGED && res->action != LC_SVC_NONE)
				lc_json_set(o, "action", lc_json_str(action_name(res->action)));
			if (r->plan && res->diff)
				lc_json_set(o, "diff", masked_str(r, res->diff));
			if (res->msg && res->status == LC_RES_FAILED)
				lc_json_set(o, "error", masked_str(r, res->msg));
			lc_json_line(&b, o);
		} else {
			lc_buf_addf(&b, "%-18s %-8s %s %s", host, status_word(r, res),
				    res->op->type->name, subj);
			add_note(&b, r, res);
			if (res->msg && res->status == LC_RES_FAILED)
				lc_buf_addf(&b, ": %s", res->msg);
			lc_buf_addc(&b, '\n');
			if (r->plan && res->diff && res->status == LC_RES_CHANGED) {
				const char *d = res->diff;

				while (*d) {
					const char *nl = strchr(d, '\n');
					size_t l = nl ? (size_t)(nl - d) : strlen(d);

					lc_buf_adds(&b, "    ");
					lc_buf_add(&b, d, l);
					lc_buf_addc(&b, '\n');
					d += l + (nl ? 1 : 0);
				}
			}
		}
		free(subj);
		{
			char *m = r->json ? lc_xstrdup(b.buf) : lc_report_mask(r, b.buf);

			fputs(m, r->out);
			free(m);
		}
	}
	if (p->skipped) {
		lc_buf_reset(&b);
		if (r->json) {
			struct lc_node *o = event(r, "host", host);

			lc_json_set(o, "status", lc_json_str("skipped"));
			lc_json_set(o, "reason", lc_json_str("role inputs unchanged"));
			lc_json_line(&b, o);
		} else {
			lc_buf_addf(&b, "%-18s skipped  role inputs unchanged since the last converge\n",
				    host);
		}
		fputs(b.buf, r->out);
	}
	if (run->status == LC_HOST_UNREACHABLE || run->status == LC_HOST_FAILED) {
		const char *what = run->status == LC_HOST_UNREACHABLE ? "unreachable" : "failed";

		lc_buf_reset(&b);
		if (r->json) {
			struct lc_node *o = event(r, "host", host);

			lc_json_set(o, "status", lc_json_str(what));
			lc_json_set(o, "error", masked_str(r, run->err.msg));
			lc_json_line(&b, o);
			fputs(b.buf, r->out);
		} else {
			char *m = lc_report_mask(r, run->err.msg);

			fprintf(r->out, "%-18s %-8s %s\n", host, what, m);
			free(m);
		}
	}
	fflush(r->out);
	lc_buf_release(&b);
}

void lc_report_health(struct lc_report *r, const struct lc_host_run *run)
{
	const struct lc_host_plan *p = &run->plan;
	struct lc_buf b = LC_BUF_INIT;
	size_t i;

	for (i = 0; i < p->n_health; i++) {
		const struct lc_health_check *c = &p->health[i];

		lc_buf_reset(&b);
		if (r->json) {
			struct lc_node *o = event(r, "health", p->host->name);

			lc_json_set(o, "url", masked_str(r, c->url));
			lc_json_set(o, "ok", lc_json_bool(c->ok));
			lc_json_set(o, "status", lc_json_int(c->got_status));
			lc_json_set(o, "seconds", seconds(c->seconds));
			if (c->error)
				lc_json_set(o, "error", masked_str(r, c->error));
			lc_json_line(&b, o);
			fputs(b.buf, r->out);
		} else {
			char *m;

			lc_buf_addf(&b, "%-18s %-8s health %s", p->host->name,
				    c->ok ? "healthy" : "failed", c->url);
			if (c->ok)
				lc_buf_addf(&b, " (%ld in %.2f s)\n", c->got_status, c->seconds);
			else
				lc_buf_addf(&b, ": %s\n", c->error ? c->error : "failed");
			m = lc_report_mask(r, b.buf);
			fputs(m, r->out);
			free(m);
		}
	}
	fflush(r->out);
	lc_buf_release(&b);
}

void lc_report_recap(struct lc_report *r, const struct lc_host_run *runs, size_t n,
		     double total)
{
	struct lc_buf b = LC_BUF_INIT;
	unsigned hosts = 0, changed = 0, failed = 0, unreach = 0, restarts = 0;
	size_t i;

	if (r->json) {
		struct lc_node *o = event(r, "summary", NULL);
		struct lc_node *hs = lc_json_set(o, "hosts", lc_json_object());

		for (i = 0; i < n; i++) {
			const struct lc_host_run *run = &runs[i];
			struct lc_node *h;
			char *name;

			if (!run->plan.host)
				continue;
			name = lc_report_mask(r, run->plan.host->name);
			h = lc_json_set(hs, name, lc_json_object());
			free(name);
			lc_json_set(h, "ok", lc_json_int(run->ok));
			lc_json_set(h, "changed", lc_json_int(run->changed));
			lc_json_set(h, "restarts", lc_json_int(run->restarts));
			lc_json_set(h, "failed", lc_json_int(run->failed + run->health_failed +
							      (run->status == LC_HOST_FAILED)));
			lc_json_set(h, "unreachable", lc_json_bool(run->status == LC_HOST_UNREACHABLE));
			lc_json_set(h, "connections", lc_json_int(run->stats.connections));
			lc_json_set(h, "exec_channels", lc_json_int(run->stats.exec_channels));
			lc_json_set(h, "round_trips", lc_json_int(run->stats.round_trips));
			lc_json_set(h, "wire_round_trips", lc_json_int(run->stats.wire_round_trips));
			lc_json_set(h, "sftp_files", lc_json_int(run->stats.sftp_files));
			lc_json_set(h, "seconds", seconds(run->seconds));
		}
		lc_json_set(o, "seconds", seconds(total));
		lc_json_line(&b, o);
		fputs(b.buf, r->out);
		fflush(r->out);
		lc_buf_release(&b);
		return;
	}
	fputs("\nRECAP\n", r->out);
	for (i = 0; i < n; i++) {
		const struct lc_host_run *run = &runs[i];
		unsigned f = run->failed + run->health_failed + (run->status == LC_HOST_FAILED);
		int u = run->status == LC_HOST_UNREACHABLE;

		if (!run->plan.host)
			continue;
		hosts++;
		changed += run->changed;
		restarts += run->restarts;
		failed += f;
		unreach += (unsigned)u;
		fprintf(r->out, "%-18s ok=%-4u %s=%-4u restarts=%-3u failed=%-4u unreachable=%d\n",
			run->plan.host->name, run->ok, r->plan ? "pending" : "changed",
			run->changed, run->restarts, f, u);
	}
	fprintf(r->out, "%u host%s: %u %s, %u restart%s, %u failed, %u unreachable in %.2f s\n",
		hosts, hosts == 1 ? "" : "s", changed, r->plan ? "pending" : "changed",
		restarts, restarts == 1 ? "" : "s", failed, unreach, total);
	fflush(r->out);
}

void lc_report_note(struct lc_report *r, const char *name, const char *host,
		    const char *fmt, ...)
{
	struct lc_buf msg = LC_BUF_INIT, b = LC_BUF_INIT;
	va_list ap;
	char *m;

	va_start(ap, fmt);
	lc_buf_vaddf(&msg, fmt, ap);
	va_end(ap);
	m = lc_report_mask(r, msg.buf);
	if (r->json) {
		struct lc_node *o = event(r, name, host);

		lc_json_set(o, "message", lc_json_str(m));
		lc_json_line(&b, o);
	} else if (host) {
		lc_buf_addf(&b, "%-18s %s\n", host, m);
	} else {
		lc_buf_addf(&b, "%s\n", m);
	}
	fputs(b.buf, r->out);
	fflush(r->out);
	free(m);
	lc_buf_release(&msg);
	lc_buf_release(&b);
}
