/* cmd_plan.c - `labctl plan [TARGET...]`: the converge pipeline with apply
 * switched off. */
#include "cmd.h"

static int exec_plan(struct lc_cmd_ctx *ctx)
{
	return lc_cmd_converge_targets(ctx, 0, NULL);
}

const struct lc_cmd lc_cmd_plan = {
	.name = "plan",
	.usage = "plan [TARGET...]",
	.summary = "show what a converge would change, change nothing",
	.help =
		"Reads every selected host's facts and lists the operations that would\n"
		"change: a unified diff for text files (secrets shown as ********), sizes\n"
		"and digests for binaries, mode and owner changes, commands that would run\n"
		"and services that would start, restart or stop. A file changed by hand on\n"
		"the host since the last converge is marked 'drift'; a change the repo asks\n"
		"for is 'pending'. Nothing on any host is changed.\n"
		"Exit status: 0 no changes, 2 changes pending, 1 a host failed or was\n"
		"unreachable, 3 bad command line, inventory or role.\n",
	.flags = LC_FLAGS_CONVERGE,
	.exec = exec_plan,
};
