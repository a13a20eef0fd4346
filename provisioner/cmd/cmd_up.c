/* cmd_up.c - `labctl up [TARGET...]`: create the local hosts that are not
 * running (provider local), then converge. */
#include "cmd.h"

#include <stdlib.h>
#include <string.h>

#include "inventory.h"
#include "provider_local.h"
#include "report.h"

static int start_local(struct lc_cmd_ctx *ctx, const struct lc_inventory *inv,
		       const unsigned char *mask, struct lc_report *rep)
{
	struct lc_error err = LC_ERROR_INIT;
	struct lc_local_host *hosts = NULL;
	struct lc_local_result *res = NULL;
	size_t i, n = 0;
	int status = LC_EXIT_OK;

	if (strcmp(inv->provider, "local"))
		return LC_EXIT_OK;  /* real hosts exist already */
	if (lc_local_check(&err) || lc_local_ensure_keys(inv->state_dir, &err)) {
		fprintf(ctx->err, "labctl: %s\n", err.msg);
		return LC_EXIT_USAGE;
	}
	hosts = lc_xcalloc(inv->n_hosts + 1, sizeof(*hosts));
	res = lc_xcalloc(inv->n_hosts + 1, sizeof(*res));
	for (i = 0; i < inv->n_hosts; i++) {
		if (!mask[i])
			continue;
		hosts[n].name = inv->hosts[i].name;
		hosts[n].address = inv->hosts[i].address;
		hosts[n].port = inv->hosts[i].port;
		n++;
	}
	if (lc_local_up(inv->state_dir, hosts, n, res, &err))
		status = LC_EXIT_FAILED;
	for (i = 0; i < n; i++) {
		switch (res[i].state) {
		case LC_LOCAL_STARTED:
			lc_report_note(rep, "host_started", hosts[i].name,
				       "started (local host on %s:%d)", hosts[i].address,
				       hosts[i].port);
			break;
		case LC_LOCAL_RUNNING:
			if (ctx->verbose)
				lc_report_note(rep, "host_running", hosts[i].name,
					       "already running");
			break;
		case LC_LOCAL_FAILED:
			fprintf(ctx->err, "labctl: %s: could not start: %s\n", hosts[i].name,
				res[i].err.msg);
			break;
		}
	}
	if (status && err.msg[0] && !n)
		fprintf(ctx->err, "labctl: %s\n", err.msg);
	free(hosts);
	free(res);
	return status;
}

/* Every role is loaded and every host's desired state computed before a
 * local host starts: a role error leaves nothing running. */
static int exec_up(struct lc_cmd_ctx *ctx)
{
	return lc_cmd_converge_targets(ctx, 1, start_local);
}

const struct lc_cmd lc_cmd_up = {
	.name = "up",
	.usage = "up [TARGET...]",
	.summary = "create the lab's hosts if needed and converge them",
	.help =
		"With 'provider: local' (the default inventory), first starts every selected\n"
		"local host that is not running - a private copy of this machine with its\n"
		"own sshd on a 127.0.10.x address - and reuses those that are. Then\n"
		"converges the selected hosts (all of them when no TARGET is given).\n"
		"Needs root and openssh-server for the local hosts.\n",
	.flags = LC_FLAGS_CONVERGE,
	.exec = exec_up,
};
