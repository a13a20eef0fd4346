/* cmd_completion.c - `labctl completion bash`: the shell completion script,
 * made from the command and flag tables. */
#include "cmd.h"

#include <string.h>

static int exec_completion(struct lc_cmd_ctx *ctx)
{
	if (ctx->n_args != 1 || strcmp(ctx->args[0], "bash")) {
		fprintf(ctx->err, "labctl: completion needs 'bash' (the one shell it knows)\n");
		lc_cmd_print_usage_line(ctx->err, &lc_cmd_completion);
		return LC_EXIT_USAGE;
	}
	lc_cmd_print_bash_completion(ctx->out);
	return LC_EXIT_OK;
}

const struct lc_cmd lc_cmd_completion = {
	.name = "completion",
	.usage = "completion bash",
	.summary = "print the bash completion script",
	.help =
		"Prints a bash completion script for labctl: commands, the flags each\n"
		"command takes, and files after -i. 'cmake --install' installs it; to try\n"
		"it in a shell: source <(labctl completion bash)\n",
	.words = "bash",
	.exec = exec_completion,
};
