/* cmd_down.c - `labctl down [TARGET...]`: stop local hosts, remove state. */
#include "cmd.h"

#include <stdlib.h>
#include <string.h>

#include "inventory.h"
#include "provider_local.h"
#include "report.h"

static int exec_down(struct lc_cmd_ctx *ctx)
{
	struct lc_error err = LC_ERROR_INIT;
	struct lc_inventory inv;
	struct lc_local_host *hosts;
	struct lc_report rep;
	unsigned char *mask;
	size_t i, n = 0;
	int status = LC_EXIT_OK;

	if (lc_inventory_load(&inv, ctx->inventory, &err)) {
		fprintf(ctx->err, "labctl: %s\n", err.msg);
		return lc_cmd_exit_status(err.code, LC_EXIT_USAGE);
	}
	if (strcmp(inv.provider, "local")) {
		fprintf(ctx->err, "labctl: down only stops local lab hosts; %s uses provider '%s'\n",
			inv.path, inv.provider);
		lc_inventory_release(&inv);
		return LC_EXIT_USAGE;
	}
	mask = lc_xcalloc(inv.n_hosts + 1, 1);
	hosts = lc_xcalloc(inv.n_hosts + 1, sizeof(*hosts));
	lc_report_init(&rep, ctx->out, ctx->json, ctx->verbose, NULL);
	if (lc_inventory_select(mask, &inv, ctx->args, ctx->n_args, &err)) {
		fprintf(ctx->err, "labctl: %s\n", err.msg);
		status = lc_cmd_exit_status(err.code, LC_EXIT_USAGE);
		goto out;
	}
	for (i = 0; i < inv.n_hosts; i++) {
		if (!mask[i])
			continue;
		hosts[n].name = inv.hosts[i].name;
		hosts[n].address = inv.hosts[i].address;
		hosts[n].port = inv.hosts[i].port;
		n++;
	}
	if (lc_local_down(inv.state_dir, hosts, n, &err)) {
		fprintf(ctx->err, "labctl: %s\n", err.msg);
		status = LC_EXIT_FAILED;
		goto out;
	}
	for (i = 0; i < n; i++)
		lc_report_note(&rep, "host_stopped", hosts[i].name, "stopped and removed");
out:
	lc_report_release(&rep);
	free(hosts);
	free(mask);
	lc_inventory_release(&inv);
	return status;
}

const struct lc_cmd lc_cmd_down = {
	.name = "down",
	.usage = "down [TARGET...]",
	.summary = "stop local lab hosts and remove their state",
	.help =
		"Stops the selected local hosts (all when no TARGET is given), every process\n"
		"inside them, and removes their private copy of the file system.\n",
	.flags = LC_FLAG_VERBOSE | LC_FLAG_JSON,
	.exec = exec_down,
};
