/* cmd_converge.c - `labctl converge TARGET...` and the pipeline it shares
 * with `up`. */
#include "cmd.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "engine.h"
#include "inventory.h"
#include "plan.h"
#include "report.h"
#include "role.h"

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void on_host_done(void *data, const struct lc_host_run *run)
{
	lc_report_host(data, run);
}

int lc_cmd_converge_targets(struct lc_cmd_ctx *ctx, int apply)
{
	struct lc_error err = LC_ERROR_INIT;
	struct lc_inventory inv;
	struct lc_roles roles;
	struct lc_blobs blobs = LC_BLOBS_INIT;
	struct lc_host_run *runs = NULL;
	struct lc_report rep;
	struct lc_engine_opts opts;
	unsigned char *mask = NULL;
	double t0 = now();
	char when[32], *holder = NULL;
	size_t i;
	int status = LC_EXIT_USAGE;

	if (lc_inventory_load(&inv, ctx->inventory, &err)) {
		fprintf(ctx->err, "labctl: %s\n", err.msg);
		return LC_EXIT_USAGE;
	}
	lc_report_init(&rep, ctx->out, ctx->json, ctx->verbose, &inv);
	rep.plan = !apply;
	if (lc_roles_load(&roles, &inv, &err)) {
		char *m = lc_report_mask(&rep, err.msg);

		fprintf(ctx->err, "labctl: %s\n", m);
		free(m);
		goto out_inv;
	}
	mask = lc_xcalloc(inv.n_hosts + 1, 1);
	runs = lc_xcalloc(inv.n_hosts + 1, sizeof(*runs));
	if (lc_inventory_select(mask, &inv, ctx->args, ctx->n_args, &err)) {
		fprintf(ctx->err, "labctl: %s\n", err.msg);
		goto out;
	}
	/* Every selected host's desired state first: nothing is touched on any
	 * host unless all of them load. */
	for (i = 0; i < inv.n_hosts; i++) {
		if (!mask[i])
			continue;
		if (lc_plan_host(&runs[i].plan, &inv, &roles, &blobs, &inv.hosts[i], &err)) {
			char *m = lc_report_mask(&rep, err.msg);

			fprintf(ctx->err, "labctl: %s\nlabctl: no host was touched\n", m);
			free(m);
			goto out;
		}
	}
	{
		char hn[256] = "?";
		time_t t = time(NULL);
		struct tm tm;

		gethostname(hn, sizeof(hn) - 1);
		gmtime_r(&t, &tm);
		strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%SZ", &tm);
		holder = lc_xasprintf("labctl %s (pid %ld on %s) since %s", apply ? "converge" : "plan",
				      (long)getpid(), hn, when);
	}
	memset(&opts, 0, sizeof(opts));
	opts.jobs = ctx->jobs;
	opts.apply = apply;
	opts.accept_new_hostkeys = ctx->accept_new_hostkeys;
	opts.lock_timeout = ctx->lock_timeout;
	opts.lock_holder = holder;
	opts.on_host_done = on_host_done;
	opts.data = &rep;
	status = lc_engine_run(runs, inv.n_hosts, &inv, &opts) ? LC_EXIT_FAILED : LC_EXIT_OK;
	for (i = 0; !apply && status == LC_EXIT_OK && i < inv.n_hosts; i++)
		if (runs[i].changed)
			status = LC_EXIT_CHANGES;
	lc_report_recap(&rep, runs, inv.n_hosts, now() - t0);
out:
	for (i = 0; runs && i < inv.n_hosts; i++)
		lc_host_plan_release(&runs[i].plan);
	free(runs);
	free(mask);
	free(holder);
	lc_blobs_release(&blobs);
	lc_roles_release(&roles);
out_inv:
	lc_report_release(&rep);
	lc_inventory_release(&inv);
	return status;
}

static int exec_converge(struct lc_cmd_ctx *ctx)
{
	if (!ctx->n_args) {
		fprintf(ctx->err, "labctl: converge needs at least one TARGET (a host or a role); "
			"use 'labctl up' for the whole lab\n");
		return LC_EXIT_USAGE;
	}
	return lc_cmd_converge_targets(ctx, 1);
}

const struct lc_cmd lc_cmd_converge = {
	.name = "converge",
	.usage = "converge TARGET...",
	.summary = "apply the roles of the given hosts or roles",
	.help =
		"Brings each selected host to the state its roles describe. A TARGET is a\n"
		"host name or a role name (a role selects every host that has it). Only\n"
		"what differs is pushed; a second converge reports 0 changed.\n"
		"The hosts must already exist (see 'labctl up').\n",
	.exec = exec_converge,
};
