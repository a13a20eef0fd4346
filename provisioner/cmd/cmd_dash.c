/* cmd_dash.c - `labctl dash plan|apply [--prune]`: the lab's dashboards,
 * monitors and downtimes, kept as files in apps/dashboards/ and applied to
 * the monitoring API idempotently. */
#include "cmd.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "clock.h"
#include "dash.h"
#include "dd_api.h"
#include "diff.h"
#include "json.h"
#include "report.h"

#define DEFS_SUBDIR "apps/dashboards"

struct dash_run {
	struct lc_cmd_ctx *ctx;
	struct lc_inventory inv;
	struct lc_report rep;          /* masks the inventory's secrets */
	struct lc_dd_api api;
	struct lc_dash_defs defs;
	struct lc_dash_remotes remotes;
	struct lc_dash_plan plan;
	int apply, prune, interrupted;
	double t0;
	unsigned n[6];                 /* per lc_dash_action: planned, or done when applying */
	unsigned failed;
	struct lc_buf not_applied;     /* text lines */
	struct lc_node *not_applied_json;  /* --json: an array of them */
	unsigned n_not_applied;
};

/* Write s with secrets and keys masked. */
static void emit(struct dash_run *r, FILE *f, const char *s)
{
	char *a = lc_report_mask(&r->rep, s);
	char *b = r->api.base ? lc_dd_api_mask(&r->api, a) : lc_xstrdup(a);

	fputs(b, f);
	fflush(f);
	free(a);
	free(b);
}

static void errorf(struct dash_run *r, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void errorf(struct dash_run *r, const char *fmt, ...)
{
	struct lc_buf b = LC_BUF_INIT;
	va_list ap;

	lc_buf_adds(&b, "labctl: ");
	va_start(ap, fmt);
	lc_buf_vaddf(&b, fmt, ap);
	va_end(ap);
	lc_buf_addc(&b, '\n');
	emit(r, r->ctx->err, b.buf);
	lc_buf_release(&b);
}

static void on_wait(void *data, const char *method, const char *path, unsigned seconds)
{
	struct dash_run *r = data;
	struct lc_buf b = LC_BUF_INIT;

	if (r->ctx->json) {
		struct lc_node *o = lc_json_object();

		lc_json_set(o, "event", lc_json_str("rate_limit"));
		lc_json_set(o, "request", lc_json_str(method));
		lc_json_set(o, "path", lc_json_str(path));
		lc_json_set(o, "wait_seconds", lc_json_int(seconds));
		lc_json_line(&b, o);
	} else {
		lc_buf_addf(&b, "%-10s %s %s: rate limited (HTTP 429), retrying in %u s\n", "api",
			    method, path, seconds);
	}
	emit(r, r->ctx->out, b.buf);
	lc_buf_release(&b);
}

/* ---- setting up -------------------------------------------------------- */

static int base_url(char **out, const struct lc_inventory *inv, struct lc_error *err)
{
	const struct lc_node *v = lc_node_get(inv->vars, "dd_api_url");
	const struct lc_node *site = lc_node_get(inv->vars, "dd_site");

	*out = NULL;
	if (v) {
		if (v->kind != LC_NODE_SCALAR)
			return lc_error_set(err, LC_EUSAGE, "the lab var dd_api_url must be a URL "
					    "(it is %s)", lc_node_kind_name(v->kind));
		*out = lc_xstrdup(v->str);
	} else if (site && site->kind == LC_NODE_SCALAR && site->len && !site->secret) {
		*out = lc_xasprintf("https://api.%s", site->str);
	} else {
		*out = lc_xstrdup(LC_DD_API_DEFAULT_URL);
	}
	return 0;
}

static int open_run(struct dash_run *r, struct lc_error *err)
{
	const struct lc_node *t;
	char *dir, *url = NULL;
	long secs;
	int rc;

	if ((rc = lc_inventory_load(&r->inv, r->ctx->inventory, err)))
		return rc;
	lc_report_init(&r->rep, r->ctx->out, r->ctx->json, r->ctx->verbose, &r->inv);
	dir = lc_xasprintf("%s/" DEFS_SUBDIR, r->inv.project_dir);
	rc = lc_dash_load(&r->defs, dir, &r->inv, err);
	free(dir);
	if (rc)
		return rc;
	if ((rc = base_url(&url, &r->inv, err)) ||
	    (rc = lc_dd_api_init(&r->api, url, err))) {
		free(url);
		return rc;
	}
	free(url);
	if ((t = lc_node_get(r->inv.vars, "dd_api_timeout"))) {
		if ((rc = lc_node_int(&secs, t, 1, 3600, err)))
			return lc_error_prefix(err, "the lab var dd_api_timeout (seconds)");
		r->api.timeout_ms = secs * 1000;
	}
	r->api.on_wait = on_wait;
	r->api.data = r;
	return 0;
}

/* List what the API holds; dashboards carrying a labctl marker that the
 * repo defines are read in full (the list has only their summary). */
static int list_remote(struct dash_run *r, struct lc_error *err)
{
	size_t i;
	int k, rc;

	for (k = 0; k < LC_DASH_N_KINDS; k++) {
		struct lc_node *list;

		if ((rc = lc_dd_api_call(&r->api, &list, NULL, "GET", lc_dash_kind_path(k), NULL,
					 err)) ||
		    (rc = lc_dash_remotes_add_list(&r->remotes, k, list, err)))
			return lc_error_prefix(err, "listing %ss", lc_dash_kind_name(k));
	}
	for (i = 0; i < r->remotes.n; i++) {
		struct lc_dash_remote *x = &r->remotes.items[i];
		struct lc_node *full;
		size_t j;
		int wanted = 0;
		char *path;

		if (x->kind != LC_DASH_DASHBOARD || !x->name)
			continue;
		for (j = 0; j < r->defs.n && !wanted; j++)
			wanted = r->defs.items[j].kind == LC_DASH_DASHBOARD &&
				 !strcmp(r->defs.items[j].name, x->name);
		if (!wanted)
			continue;
		path = lc_xasprintf("%s/%s", lc_dash_kind_path(x->kind), x->id);
		rc = lc_dd_api_call(&r->api, &full, NULL, "GET", path, NULL, err);
		free(path);
		if (rc)
			return lc_error_prefix(err, "reading dashboard %s (id %s)", x->name, x->id);
		lc_dash_remote_set_body(x, full);
	}
	return 0;
}

/* ---- output -------------------------------------------------------------- */

static const char *file_of(const struct lc_dash_step *s)
{
	return s->def ? s->def->file : NULL;
}

/* {"event": "dash", "kind", "name", "action", "id", "file"} to add to. */
static struct lc_node *json_head(const struct lc_dash_step *s)
{
	struct lc_node *o = lc_json_object();

	lc_json_set(o, "event", lc_json_str("dash"));
	lc_json_set(o, "kind", lc_json_str(lc_dash_kind_name(s->kind)));
	lc_json_set(o, "name", lc_json_str(s->name));
	lc_json_set(o, "action", lc_json_str(lc_dash_action_name(s->action)));
	if (s->remote)
		lc_json_set(o, "id", lc_json_str(s->remote->id));
	if (file_of(s))
		lc_json_set(o, "file", lc_json_str(file_of(s)));
	return o;
}

static void human_head(struct lc_buf *b, const struct lc_dash_step *s, const char *status,
		       const char *id)
{
	lc_buf_addf(b, "%-10s %-30s ", lc_dash_kind_name(s->kind), s->name);
	if (id)
		lc_buf_addf(b, "%-10s id %s", status, id);
	else
		lc_buf_adds(b, status);
}

static void print_plan_step(struct dash_run *r, const struct lc_dash_step *s)
{
	struct lc_buf b = LC_BUF_INIT, x = LC_BUF_INIT, y = LC_BUF_INIT;
	const char *id = s->remote ? s->remote->id : NULL;

	if (s->action == LC_DASH_NOOP && !r->ctx->verbose)
		return;
	if (r->ctx->json) {
		struct lc_node *o = json_head(s);

		if (s->action == LC_DASH_CREATE)
			lc_json_set(o, "body", lc_node_dup(s->def->body));
		else if (s->action == LC_DASH_UPDATE)
			lc_json_set(o, "changes", lc_dash_changes(s->view, s->def->body));
		else if (s->action == LC_DASH_CONFLICT)
			lc_json_set(o, "error", lc_json_str(s->why));
		lc_json_line(&b, o);
		emit(r, r->ctx->out, b.buf);
		lc_buf_release(&b);
		return;
	}
	human_head(&b, s, lc_dash_action_name(s->action), id);
	switch (s->action) {
	case LC_DASH_CREATE:
	case LC_DASH_UPDATE: {
		char *la = s->remote ? lc_xasprintf("%s %s (API, id %s)", lc_dash_kind_name(s->kind),
						    s->name, s->remote->id)
				     : lc_xasprintf("%s %s (API: none)", lc_dash_kind_name(s->kind),
						    s->name);

		lc_buf_addc(&b, '\n');
		if (s->view) {
			lc_json_write(&x, s->view, 2);
			lc_buf_addc(&x, '\n');
		}
		lc_json_write(&y, s->def->body, 2);
		lc_buf_addc(&y, '\n');
		lc_diff_unified(&b, x.buf, x.len, y.buf, y.len, la, s->def->file, 3);
		free(la);
		break;
	}
	case LC_DASH_DELETE:
		lc_buf_adds(&b, " (removed from the repo)\n");
		break;
	case LC_DASH_KEEP:
		lc_buf_adds(&b, " (removed from the repo; --prune deletes it)\n");
		break;
	case LC_DASH_CONFLICT:
		lc_buf_addf(&b, " %s\n", s->why);
		break;
	case LC_DASH_NOOP:
		lc_buf_addc(&b, '\n');
		break;
	}
	emit(r, r->ctx->out, b.buf);
	lc_buf_release(&b);
	lc_buf_release(&x);
	lc_buf_release(&y);
}

static void not_applied(struct dash_run *r, const struct lc_dash_step *s, const char *why)
{
	struct lc_buf *b = &r->not_applied;
	const char *k = lc_dash_kind_name(s->kind), *a = lc_dash_action_name(s->action);

	if (r->ctx->json) {
		struct lc_node *o = lc_json_push(r->not_applied_json, lc_json_object());

		lc_json_set(o, "kind", lc_json_str(k));
		lc_json_set(o, "name", lc_json_str(s->name));
		lc_json_set(o, "action", lc_json_str(a));
		lc_json_set(o, "error", lc_json_str(why));
	} else {
		lc_buf_addf(b, "  %s %s (%s): %s\n", k, s->name, a, why);
	}
	r->n_not_applied++;
}

/* ---- applying ------------------------------------------------------------ */

static const char *done_name(enum lc_dash_action a)
{
	switch (a) {
	case LC_DASH_CREATE: return "created";
	case LC_DASH_UPDATE: return "updated";
	case LC_DASH_DELETE: return "deleted";
	case LC_DASH_KEEP: return "kept";
	case LC_DASH_NOOP: return "unchanged";
	case LC_DASH_CONFLICT: return "failed";
	}
	return "?";
}

static void report_result(struct dash_run *r, const struct lc_dash_step *s, const char *id,
			  const char *error)
{
	struct lc_buf b = LC_BUF_INIT;
	const char *status = error ? "failed" : done_name(s->action);

	if (s->action == LC_DASH_NOOP && !error && !r->ctx->verbose)
		return;
	if (r->ctx->json) {
		struct lc_node *o = json_head(s);

		lc_json_set(o, "status", lc_json_str(status));
		if (id && !s->remote)
			lc_json_set(o, "id", lc_json_str(id));
		if (error)
			lc_json_set(o, "error", lc_json_str(error));
		lc_json_line(&b, o);
	} else {
		human_head(&b, s, status, id);
		if (error)
			lc_buf_addf(&b, " %s", error);
		else if (s->action == LC_DASH_KEEP)
			lc_buf_adds(&b, " (removed from the repo; --prune deletes it)");
		lc_buf_addc(&b, '\n');
	}
	emit(r, r->ctx->out, b.buf);
	lc_buf_release(&b);
}

static void apply_step(struct dash_run *r, const struct lc_dash_step *s)
{
	struct lc_error err = LC_ERROR_INIT;
	struct lc_buf body = LC_BUF_INIT;
	struct lc_node *answer = NULL;
	const char *kp = lc_dash_kind_path(s->kind), *method = NULL;
	char *path = NULL, *id = NULL;
	int rc = 0;

	switch (s->action) {
	case LC_DASH_NOOP:
	case LC_DASH_KEEP:
		r->n[s->action]++;
		report_result(r, s, s->remote->id, NULL);
		return;
	case LC_DASH_CONFLICT:
		r->failed++;
		report_result(r, s, NULL, s->why);
		not_applied(r, s, s->why);
		return;
	case LC_DASH_CREATE:
		method = "POST";
		path = lc_xstrdup(kp);
		break;
	case LC_DASH_UPDATE:
		method = "PUT";
		path = lc_xasprintf("%s/%s", kp, s->remote->id);
		break;
	case LC_DASH_DELETE:
		method = "DELETE";
		path = lc_xasprintf("%s/%s", kp, s->remote->id);
		break;
	}
	if (s->def)
		lc_json_write(&body, s->def->body, -1);
	rc = lc_dd_api_call(&r->api, &answer, NULL, method, path, s->def ? body.buf : NULL, &err);
	if (!rc && s->action == LC_DASH_CREATE) {
		const struct lc_node *v = lc_node_get(answer, "id");

		if (v && v->kind == LC_NODE_SCALAR)
			id = lc_xstrdup(v->str);
		else
			rc = lc_error_set(&err, LC_EREMOTE, "%s %s: the answer has no id", method,
					  path);
	}
	if (rc) {
		r->failed++;
		report_result(r, s, s->remote ? s->remote->id : NULL, err.msg);
		not_applied(r, s, err.msg);
	} else {
		r->n[s->action]++;
		report_result(r, s, id ? id : s->remote->id, NULL);
	}
	lc_node_free(answer);
	lc_buf_release(&body);
	free(path);
	free(id);
}

/* ---- the recap ----------------------------------------------------------- */

static void recap(struct dash_run *r)
{
	struct lc_buf b = LC_BUF_INIT;
	double secs = lc_clock_now() - r->t0;
	const unsigned *n = r->n;

	if (r->ctx->json) {
		struct lc_node *o = lc_json_object();

		lc_json_set(o, "event", lc_json_str("dash_summary"));
		lc_json_set(o, "apply", lc_json_bool(r->apply));
		lc_json_set(o, "prune", lc_json_bool(r->prune));
		lc_json_set(o, r->apply ? "created" : "create", lc_json_int(n[LC_DASH_CREATE]));
		lc_json_set(o, r->apply ? "updated" : "update", lc_json_int(n[LC_DASH_UPDATE]));
		lc_json_set(o, r->apply ? "deleted" : "delete", lc_json_int(n[LC_DASH_DELETE]));
		lc_json_set(o, "unchanged", lc_json_int(n[LC_DASH_NOOP]));
		lc_json_set(o, "kept", lc_json_int(n[LC_DASH_KEEP]));
		lc_json_set(o, "failed", lc_json_int(r->failed));
		lc_json_set(o, "not_applied", r->not_applied_json);
		r->not_applied_json = NULL;
		lc_json_set(o, "requests", lc_json_int(r->api.requests));
		lc_json_set(o, "writes", lc_json_int(r->api.writes));
		lc_json_set(o, "rate_limited", lc_json_int(r->api.rate_limited));
		lc_json_set(o, "seconds", lc_json_real(round(secs * 1000) / 1000));
		lc_json_line(&b, o);
	} else if (r->apply) {
		lc_buf_addf(&b, "\nRECAP\ndash: %u created, %u updated, %u deleted, %u unchanged, "
			    "%u kept, %u failed (%u requests, %u writes) in %.2f s\n",
			    n[LC_DASH_CREATE], n[LC_DASH_UPDATE], n[LC_DASH_DELETE],
			    n[LC_DASH_NOOP], n[LC_DASH_KEEP], r->failed, r->api.requests,
			    r->api.writes, secs);
		if (r->n_not_applied)
			lc_buf_addf(&b, "not applied:\n%s", r->not_applied.buf);
		if (n[LC_DASH_KEEP])
			lc_buf_addf(&b, "%u object%s removed from the repo kept: "
				    "'labctl dash apply --prune' deletes them\n", n[LC_DASH_KEEP],
				    n[LC_DASH_KEEP] == 1 ? "" : "s");
	} else {
		lc_buf_addf(&b, "\nPLAN\ndash: %u to create, %u to update, %u to delete, "
			    "%u unchanged, %u kept, %u in conflict (%u requests) in %.2f s\n",
			    n[LC_DASH_CREATE], n[LC_DASH_UPDATE], n[LC_DASH_DELETE],
			    n[LC_DASH_NOOP], n[LC_DASH_KEEP], n[LC_DASH_CONFLICT],
			    r->api.requests, secs);
	}
	emit(r, r->ctx->out, b.buf);
	lc_buf_release(&b);
}

/* ---- the command --------------------------------------------------------- */

static int usage(struct lc_cmd_ctx *ctx, const char *what)
{
	fprintf(ctx->err, "labctl: %s\nusage: labctl dash plan|apply [--prune]\n", what);
	return LC_EXIT_USAGE;
}

static int exec_dash(struct lc_cmd_ctx *ctx)
{
	struct lc_error err = LC_ERROR_INIT;
	struct dash_run r;
	size_t i;
	int status = LC_EXIT_OK;

	memset(&r, 0, sizeof(r));
	r.ctx = ctx;
	r.t0 = lc_clock_now();
	lc_buf_init(&r.not_applied);
	r.not_applied_json = lc_json_array();
	if (!ctx->n_args)
		return usage(ctx, "dash needs 'plan' or 'apply'");
	if (!strcmp(ctx->args[0], "apply"))
		r.apply = 1;
	else if (strcmp(ctx->args[0], "plan"))
		return usage(ctx, "dash needs 'plan' or 'apply'");
	r.prune = ctx->prune;
	for (i = 1; i < ctx->n_args; i++) {
		if (!strcmp(ctx->args[i], "--prune"))
			r.prune = 1;
		else if (strcmp(ctx->args[i], "--"))
			return usage(ctx, "dash takes no targets: it applies every definition in "
				     DEFS_SUBDIR "/");
	}
	if (open_run(&r, &err)) {
		errorf(&r, "%s", err.msg);
		errorf(&r, "nothing was applied");
		status = lc_cmd_exit_status(err.code, LC_EXIT_FAILED);
		goto out;
	}
	if (list_remote(&r, &err)) {
		errorf(&r, "%s", err.msg);
		errorf(&r, "nothing was applied");
		status = LC_EXIT_FAILED;
		goto out;
	}
	lc_dash_decide(&r.plan, &r.defs, &r.remotes, r.prune);
	for (i = 0; i < r.plan.n; i++) {
		const struct lc_dash_step *s = &r.plan.steps[i];

		if (r.apply && ctx->cancel && *ctx->cancel) {
			if (s->action != LC_DASH_NOOP && s->action != LC_DASH_KEEP)
				not_applied(&r, s, "interrupted before it was sent");
			r.interrupted = 1;
		} else if (r.apply) {
			apply_step(&r, s);
		} else {
			r.n[s->action]++;
			print_plan_step(&r, s);
		}
	}
	recap(&r);
	if (r.interrupted)
		status = LC_EXIT_INTERRUPTED;
	else if (r.apply)
		status = r.failed || r.n_not_applied ? LC_EXIT_FAILED : LC_EXIT_OK;
	else if (r.n[LC_DASH_CONFLICT])
		status = LC_EXIT_FAILED;
	else
		status = r.n[LC_DASH_CREATE] || r.n[LC_DASH_UPDATE] || r.n[LC_DASH_DELETE] ?
			 LC_EXIT_CHANGES : LC_EXIT_OK;
out:
	lc_dash_plan_release(&r.plan);
	lc_dash_remotes_release(&r.remotes);
	lc_dash_defs_release(&r.defs);
	lc_dd_api_release(&r.api);
	lc_report_release(&r.rep);
	lc_inventory_release(&r.inv);
	lc_buf_release(&r.not_applied);
	lc_node_free(r.not_applied_json);
	return status;
}

const struct lc_cmd lc_cmd_dash = {
	.name = "dash",
	.usage = "dash plan|apply [--prune]",
	.summary = "dashboards, monitors and downtimes from apps/dashboards/",
	.help =
		"Reads the definitions in apps/dashboards/ (NAME.dashboard.yaml,\n"
		"NAME.monitor.yaml, NAME.downtime.yaml, or .json: the Datadog API v1 schema,\n"
		"string values rendered as labctl templates), lists what the API holds and\n"
		"matches objects by their labctl:NAME marker (a monitor's tag; the last line\n"
		"of a dashboard's description or a downtime's message).\n"
		"  plan     show a JSON diff per object that would change, change nothing\n"
		"  apply    create, update (PUT) or leave alone each object; a second apply\n"
		"           makes no write request\n"
		"  --prune  also delete labctl's objects whose definition was removed\n"
		"Objects without a labctl marker are never touched.  The keys come from\n"
		"DD_API_KEY and DD_APPLICATION_KEY and are never shown; the API URL from the\n"
		"lab var dd_api_url (default https://api.<dd_site>, else " LC_DD_API_DEFAULT_URL
		").\n"
		"Exit status: 0 nothing to change / all applied, 2 changes pending (plan),\n"
		"1 an API error (the recap lists what was not applied), 3 bad command line,\n"
		"inventory, definition, URL or missing key (nothing was applied).\n",
	.flags = LC_FLAG_VERBOSE | LC_FLAG_JSON | LC_FLAG_PRUNE,
	.words = "plan apply",
	.exec = exec_dash,
};
