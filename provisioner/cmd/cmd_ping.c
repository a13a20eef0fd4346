/* cmd_ping.c - `labctl ping [TARGET...]`: connect, authenticate, run one
 * empty batch. */
#include "cmd.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "engine.h"
#include "report.h"

static void on_done(void *data, const struct lc_host_run *run)
{
	struct lc_report *rep = data;

	if (run->status == LC_HOST_DONE)
		lc_report_note(rep, "pong", run->plan.host->name, "pong (%.0f ms)",
			       run->seconds * 1000);
	else
		lc_report_host(rep, run);
}

static int exec_ping(struct lc_cmd_ctx *ctx)
{
	struct lc_error err = LC_ERROR_INIT;
	struct lc_inventory inv;
	struct lc_host_run *runs;
	struct lc_report rep;
	struct lc_engine_opts opts;
	unsigned char *mask;
	size_t i;
	int status;

	if (lc_inventory_load(&inv, ctx->inventory, &err)) {
		fprintf(ctx->err, "labctl: %s\n", err.msg);
		return lc_cmd_exit_status(err.code, LC_EXIT_USAGE);
	}
	mask = lc_xcalloc(inv.n_hosts + 1, 1);
	runs = lc_xcalloc(inv.n_hosts + 1, sizeof(*runs));
	if (lc_inventory_select(mask, &inv, ctx->args, ctx->n_args, &err)) {
		fprintf(ctx->err, "labctl: %s\n", err.msg);
		status = lc_cmd_exit_status(err.code, LC_EXIT_USAGE);
		goto out;
	}
	for (i = 0; i < inv.n_hosts; i++)
		if (mask[i])
			runs[i].plan.host = &inv.hosts[i];
	if (lc_engine_resolve(runs, inv.n_hosts, &inv, ctx->accept_new_hostkeys, &err)) {
		fprintf(ctx->err, "labctl: %s\n", err.msg);
		status = lc_cmd_exit_status(err.code, LC_EXIT_USAGE);
		goto out;
	}
	lc_report_init(&rep, ctx->out, ctx->json, ctx->verbose, &inv);
	memset(&opts, 0, sizeof(opts));
	opts.jobs = ctx->jobs;
	opts.on_host_done = on_done;
	opts.data = &rep;
	status = lc_engine_run(runs, inv.n_hosts, &inv, &opts) ? LC_EXIT_FAILED : LC_EXIT_OK;
	lc_report_release(&rep);
out:
	lc_engine_runs_release(runs, inv.n_hosts);
	free(runs);
	free(mask);
	lc_inventory_release(&inv);
	return status;
}

const struct lc_cmd lc_cmd_ping = {
	.name = "ping",
	.usage = "ping [TARGET...]",
	.summary = "check that every host can be reached and logged in to",
	.help =
		"Connects to each selected host over SSH (host key checked), logs in and\n"
		"runs an empty batch. Exit status 0 when every host answered.\n",
	.flags = LC_FLAG_JOBS | LC_FLAG_VERBOSE | LC_FLAG_JSON | LC_FLAG_ACCEPT_NEW_HOSTKEYS,
	.exec = exec_ping,
};
