/* session.c - the pipeline converge, plan and status share. */
#include "session.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "clock.h"
#include "health.h"

static void print_err(struct lc_session *s, struct lc_cmd_ctx *ctx, const char *msg,
		      const char *extra)
{
	char *m = lc_report_mask(&s->rep, msg);

	fprintf(ctx->err, "labctl: %s\n%s", m, extra ? extra : "");
	free(m);
}

int lc_session_check_key(struct lc_session *s, struct lc_cmd_ctx *ctx)
{
	if (s->inv.identity_file && access(s->inv.identity_file, R_OK) < 0) {
		fprintf(ctx->err, "labctl: the SSH key %s cannot be read: %s%s\n",
			s->inv.identity_file, strerror(errno),
			!strcmp(s->inv.provider, "local") ? " (run 'labctl up' to create the lab)" : "");
		return LC_EXIT_USAGE;
	}
	return 0;
}

int lc_session_open(struct lc_session *s, struct lc_cmd_ctx *ctx, const char *what)
{
	int status = lc_session_load(s, ctx, what);

	/* after the roles and plans: their errors come first */
	if (!status && (status = lc_session_check_key(s, ctx)))
		lc_session_close(s);
	return status;
}

int lc_session_load(struct lc_session *s, struct lc_cmd_ctx *ctx, const char *what)
{
	struct lc_error err = LC_ERROR_INIT;
	struct lc_plan_run run;
	unsigned char *mask = NULL;
	char hn[256] = "?", when[LC_CLOCK_ISO];
	size_t i;
	int rc;

	memset(s, 0, sizeof(*s));
	s->t0 = lc_clock_now();
	{
		const char *slash = strrchr(ctx->inventory, '/');
		char *near = slash ? lc_xstrndup(ctx->inventory, (size_t)(slash - ctx->inventory)) :
			     lc_xstrdup(".");
		if (ctx->ref)
			rc = lc_source_git(&s->source, near, ctx->ref, &s->repo, &err);
		else
			rc = lc_repo_info(&s->repo, near, &err);
		free(near);
		if (rc) {
			fprintf(ctx->err, "labctl: %s\n", err.msg);
			lc_repo_info_release(&s->repo);
			return lc_cmd_exit_status(err.code, LC_EXIT_USAGE);
		}
	}
	if (lc_inventory_load_from(&s->inv, ctx->inventory, s->source, &err)) {
		fprintf(ctx->err, "labctl: %s\n", err.msg);
		lc_source_free(s->source);
		lc_repo_info_release(&s->repo);
		return lc_cmd_exit_status(err.code, LC_EXIT_USAGE);
	}
	s->inv.repo = &s->repo;
	lc_report_init(&s->rep, ctx->out, ctx->json, ctx->verbose, &s->inv);
	if (s->source)
		lc_report_note(&s->rep, "source", NULL, "deploying %s; uncommitted changes are "
			       "ignored", s->source->desc);
	if (lc_roles_load(&s->roles, &s->inv, &err)) {
		print_err(s, ctx, err.msg, NULL);
		goto fail;
	}
	mask = lc_xcalloc(s->inv.n_hosts + 1, 1);
	s->runs = lc_xcalloc(s->inv.n_hosts + 1, sizeof(*s->runs));
	if (lc_inventory_select(mask, &s->inv, ctx->args, ctx->n_args, &err)) {
		fprintf(ctx->err, "labctl: %s\n", err.msg);
		goto fail;
	}
	if (lc_plan_run_init(&run, &s->inv, &s->roles, &s->blobs, &err)) {
		print_err(s, ctx, err.msg, NULL);
		goto fail;
	}
	for (i = 0; i < s->inv.n_hosts; i++) {
		if (!mask[i])
			continue;
		if (lc_plan_host(&s->runs[i].plan, &run, &s->inv.hosts[i], &err)) {
			lc_plan_run_release(&run);
			print_err(s, ctx, err.msg, "labctl: no host was touched\n");
			goto fail;
		}
	}
	lc_plan_run_release(&run);
	if (lc_engine_resolve(s->runs, s->inv.n_hosts, &s->inv, ctx->accept_new_hostkeys, &err)) {
		print_err(s, ctx, err.msg, "labctl: no host was touched\n");
		goto fail;
	}
	gethostname(hn, sizeof(hn) - 1);
	lc_clock_utc_iso(when, time(NULL));
	s->holder = lc_xasprintf("labctl %s (pid %ld on %s) since %s", what, (long)getpid(), hn,
				 when);
	free(mask);
	return 0;
fail:
	free(mask);
	lc_session_close(s);
	return lc_cmd_exit_status(err.code, LC_EXIT_USAGE);
}

int lc_session_run(struct lc_session *s, struct lc_cmd_ctx *ctx, int apply, int describe,
		   void (*on_host_done)(void *data, const struct lc_host_run *run))
{
	struct lc_engine_opts opts;

	memset(&opts, 0, sizeof(opts));
	opts.jobs = ctx->jobs;
	opts.apply = apply;
	opts.describe = describe;
	opts.lock_timeout = ctx->lock_timeout;
	opts.lock_holder = apply || describe ? s->holder : NULL;
	opts.changed_only = ctx->changed_only;
	opts.cancel = ctx->cancel;
	opts.on_host_done = on_host_done;
	opts.data = &s->rep;
	return lc_engine_run(s->runs, s->inv.n_hosts, &s->inv, &opts);
}

static int checked(const struct lc_host_run *run)
{
	return run->plan.host && run->status == LC_HOST_DONE && !run->failed;
}

int lc_session_health(struct lc_session *s, int report)
{
	struct lc_error err = LC_ERROR_INIT;
	struct lc_health_check *all;
	struct lc_host_run *runs = s->runs;
	size_t i, j, k = 0, total = 0, n = s->inv.n_hosts;
	int bad = 0;

	for (i = 0; i < n; i++)
		if (checked(&runs[i]))
			total += runs[i].plan.n_health;
	if (!total)
		return 0;
	all = lc_xcalloc(total, sizeof(*all));
	for (i = 0; i < n; i++)
		if (checked(&runs[i]))
			for (j = 0; j < runs[i].plan.n_health; j++)
				all[k++] = runs[i].plan.health[j];
	if (lc_health_run(all, total, &err) < 0)
		for (i = 0; i < total; i++)
			all[i].error = lc_xstrdup(err.msg);
	for (i = 0, k = 0; i < n; i++) {
		if (!checked(&runs[i]))
			continue;
		for (j = 0; j < runs[i].plan.n_health; j++, k++) {
			runs[i].plan.health[j] = all[k];
			if (!all[k].ok) {
				runs[i].health_failed++;
				bad = 1;
			}
		}
		if (report)
			lc_report_health(&s->rep, &runs[i]);
	}
	free(all);
	return bad;
}

double lc_session_seconds(const struct lc_session *s)
{
	return lc_clock_now() - s->t0;
}

void lc_session_close(struct lc_session *s)
{
	lc_engine_runs_release(s->runs, s->inv.n_hosts);
	free(s->runs);
	free(s->holder);
	lc_blobs_release(&s->blobs);
	lc_roles_release(&s->roles);
	lc_report_release(&s->rep);
	lc_inventory_release(&s->inv);
	lc_source_free(s->source);
	lc_repo_info_release(&s->repo);
	memset(s, 0, sizeof(*s));
}
