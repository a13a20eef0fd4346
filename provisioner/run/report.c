/* report.c - human and JSON output. */
#include "report.h"

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

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

static void json_str(struct lc_buf *b, const struct lc_report *r, const char *s)
{
	char *m = lc_report_mask(r, s);

	lc_buf_add_json(b, m, strlen(m));
	free(m);
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
			lc_buf_adds(&b, "{\"event\":\"op\",\"host\":");
			json_str(&b, r, host);
			lc_buf_addf(&b, ",\"status\":\"%s\",\"op\":\"%s\",\"role\":",
				    r->plan && res->status == LC_RES_CHANGED ? "pending" :
				    status_name(res->status), res->op->type->name);
			json_str(&b, r, res->op->role);
			lc_buf_adds(&b, ",\"path\":");
			json_str(&b, r, subj);
			if (res->status == LC_RES_CHANGED && res->need_content)
				lc_buf_addf(&b, ",\"why\":\"%s\"", why_name(res->why));
			if (res->status == LC_RES_CHANGED && res->action != LC_SVC_NONE)
				lc_buf_addf(&b, ",\"action\":\"%s\"", action_name(res->action));
			if (r->plan && res->diff) {
				lc_buf_adds(&b, ",\"diff\":");
				json_str(&b, r, res->diff);
			}
			if (res->msg && res->status == LC_RES_FAILED) {
				lc_buf_adds(&b, ",\"error\":");
				json_str(&b, r, res->msg);
			}
			lc_buf_adds(&b, "}\n");
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
			lc_buf_adds(&b, "{\"event\":\"host\",\"host\":");
			json_str(&b, r, host);
			lc_buf_adds(&b, ",\"status\":\"skipped\",\"reason\":\"role inputs unchanged\"}\n");
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
			lc_buf_adds(&b, "{\"event\":\"host\",\"host\":");
			json_str(&b, r, host);
			lc_buf_addf(&b, ",\"status\":\"%s\",\"error\":", what);
			json_str(&b, r, run->err.msg);
			lc_buf_adds(&b, "}\n");
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
			lc_buf_adds(&b, "{\"event\":\"health\",\"host\":");
			json_str(&b, r, p->host->name);
			lc_buf_adds(&b, ",\"url\":");
			json_str(&b, r, c->url);
			lc_buf_addf(&b, ",\"ok\":%s,\"status\":%ld,\"seconds\":%.3f",
				    c->ok ? "true" : "false", c->got_status, c->seconds);
			if (c->error) {
				lc_buf_adds(&b, ",\"error\":");
				json_str(&b, r, c->error);
			}
			lc_buf_adds(&b, "}\n");
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
		     double seconds)
{
	struct lc_buf b = LC_BUF_INIT;
	unsigned hosts = 0, changed = 0, failed = 0, unreach = 0, restarts = 0;
	size_t i;
	int first = 1;

	if (r->json) {
		lc_buf_adds(&b, "{\"event\":\"summary\",\"hosts\":{");
		for (i = 0; i < n; i++) {
			const struct lc_host_run *run = &runs[i];

			if (!run->plan.host)
				continue;
			if (!first)
				lc_buf_addc(&b, ',');
			first = 0;
			json_str(&b, r, run->plan.host->name);
			lc_buf_addf(&b, ":{\"ok\":%u,\"changed\":%u,\"restarts\":%u,\"failed\":%u,"
				    "\"unreachable\":%s,\"connections\":%u,\"exec_channels\":%u,"
				    "\"round_trips\":%u,\"sftp_files\":%u,\"seconds\":%.3f}",
				    run->ok, run->changed, run->restarts,
				    run->failed + run->health_failed + (run->status == LC_HOST_FAILED),
				    run->status == LC_HOST_UNREACHABLE ? "true" : "false",
				    run->stats.connections, run->stats.exec_channels,
				    run->stats.round_trips, run->stats.sftp_files, run->seconds);
		}
		lc_buf_addf(&b, "},\"seconds\":%.3f}\n", seconds);
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
		restarts, restarts == 1 ? "" : "s", failed, unreach, seconds);
	fflush(r->out);
}

void lc_report_note(struct lc_report *r, const char *event, const char *host,
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
		lc_buf_addf(&b, "{\"event\":\"%s\"", event);
		if (host) {
			lc_buf_adds(&b, ",\"host\":");
			lc_buf_add_json(&b, host, strlen(host));
		}
		lc_buf_adds(&b, ",\"message\":");
		lc_buf_add_json(&b, m, strlen(m));
		lc_buf_adds(&b, "}\n");
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
