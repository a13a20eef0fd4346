/* cmd_converge.c - `labctl converge TARGET...` and the pipeline it shares
 * with `up`. */
#include "cmd.h"

#include <stdlib.h>

#include "session.h"

static void on_host_done(void *data, const struct lc_host_run *run)
{
	lc_report_host(data, run);
}

int lc_cmd_converge_targets(struct lc_cmd_ctx *ctx, int apply, lc_cmd_start_fn *start)
{
	struct lc_session s;
	size_t i;
	int status, started = LC_EXIT_OK;

	if ((status = lc_session_load(&s, ctx, apply ? "converge" : "plan")))
		return status;
	/* up: every role loaded and every plan made; now start the hosts */
	if (start) {
		unsigned char *sel = lc_xcalloc(s.inv.n_hosts + 1, 1);

		for (i = 0; i < s.inv.n_hosts; i++)
			sel[i] = s.runs[i].plan.host != NULL;
		started = start(ctx, &s.inv, sel, &s.rep);
		free(sel);
		if (started == LC_EXIT_USAGE) {
			lc_session_close(&s);
			return started;
		}
	}
	if ((status = lc_session_check_key(&s, ctx))) {
		lc_session_close(&s);
		return status;
	}
	s.rep.plan = !apply;
	status = lc_session_run(&s, ctx, apply, !apply, on_host_done) ? LC_EXIT_FAILED : LC_EXIT_OK;
	if (apply && lc_session_health(&s, 1))
		status = LC_EXIT_FAILED;
	for (i = 0; !apply && status == LC_EXIT_OK && i < s.inv.n_hosts; i++)
		if (s.runs[i].changed)
			status = LC_EXIT_CHANGES;
	lc_report_recap(&s.rep, s.runs, s.inv.n_hosts, lc_session_seconds(&s));
	lc_session_close(&s);
	/* hosts that failed to start show as unreachable in the converge */
	return status ? status : started;
}

static int exec_converge(struct lc_cmd_ctx *ctx)
{
	if (!ctx->n_args) {
		fprintf(ctx->err, "labctl: converge needs at least one TARGET (a host or a role); "
			"use 'labctl up' for the whole lab\n");
		return LC_EXIT_USAGE;
	}
	return lc_cmd_converge_targets(ctx, 1, NULL);
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
	.flags = LC_FLAGS_CONVERGE,
	.exec = exec_converge,
};
