/* flags.c - the flag table, and every text made from the command and flag
 * tables: `labctl --help`, `labctl CMD --help`, usage lines. */
#include "cmd.h"

#include <string.h>

#include "inventory.h"

static const struct lc_flag flags[] = {
	{ LC_FLAG_INVENTORY, "inventory", 'i', "FILE",
	  "inventory to use (default: " LC_INVENTORY_DEFAULT_PATH ")" },
	{ LC_FLAG_JOBS, "jobs", 'j', "N", "hosts handled in parallel (default: 10)" },
	{ LC_FLAG_VERBOSE, "verbose", 'v', NULL, "also list operations that were already ok" },
	{ LC_FLAG_JSON, "json", 0, NULL, "one JSON object per line instead of text" },
	{ LC_FLAG_ACCEPT_NEW_HOSTKEYS, "accept-new-hostkeys", 0, NULL,
	  "trust and record unknown host keys" },
	{ LC_FLAG_LOCK_TIMEOUT, "lock-timeout", 0, "S",
	  "wait up to S seconds for another labctl on a host (60)" },
	{ LC_FLAG_REF, "ref", 0, "REV", "deploy what commit REV holds (not the work tree)" },
	{ LC_FLAG_CHANGED, "changed", 0, NULL, "converge only hosts whose role inputs changed" },
	{ LC_FLAG_PRUNE, "prune", 0, NULL, "delete labctl's objects removed from the repo" },
	{ LC_FLAG_HELP, "help", 'h', NULL, "this help; 'labctl COMMAND --help' for a command" },
	{ LC_FLAG_VERSION, "version", 0, NULL, "print the version" },
	{ 0, NULL, 0, NULL, NULL },
};

const struct lc_flag *lc_cmd_flags(void)
{
	return flags;
}

const struct lc_flag *lc_cmd_flag(unsigned bit)
{
	const struct lc_flag *f;

	for (f = flags; f->name; f++)
		if (f->bit == bit)
			return f;
	return NULL;
}

static void print_flags(FILE *out, unsigned which)
{
	const struct lc_flag *f;

	for (f = flags; f->name; f++) {
		char left[40];

		if (!(f->bit & which))
			continue;
		snprintf(left, sizeof(left), "%s%c%s--%s%s%s", f->letter ? "-" : " ",
			 f->letter ? f->letter : ' ', f->letter ? ", " : "  ", f->name,
			 f->arg ? " " : "", f->arg ? f->arg : "");
		if (strlen(left) > 24)
			fprintf(out, "  %s\n  %-24s %s\n", left, "", f->help);
		else
			fprintf(out, "  %-24s %s\n", left, f->help);
	}
}

static const char exit_text[] =
	"Exit status: 0 every host succeeded; 1 a host failed or was unreachable;\n"
	"2 changes pending (plan, dash plan); 3 bad command line, inventory or role;\n"
	"130 interrupted (SIGINT or SIGTERM).\n";

void lc_cmd_print_usage(FILE *f)
{
	const struct lc_cmd *const *t = lc_cmd_table();
	size_t i;

	fputs("usage: labctl [OPTIONS] COMMAND [ARGS...]\n\n"
	      "Build and keep the lab's hosts in shape over SSH.\n\nCommands:\n", f);
	for (i = 0; t[i]; i++)
		fprintf(f, "  %-26s %s\n", t[i]->usage, t[i]->summary);
	fputs("\nOptions (each command takes those its --help lists):\n", f);
	print_flags(f, ~0u);
	fputc('\n', f);
	fputs(exit_text, f);
}

void lc_cmd_print_usage_line(FILE *f, const struct lc_cmd *cmd)
{
	fprintf(f, "usage: labctl [OPTIONS] %s\n", cmd->usage);
}

void lc_cmd_print_help(FILE *f, const struct lc_cmd *cmd)
{
	lc_cmd_print_usage_line(f, cmd);
	fprintf(f, "\n%s\nOptions:\n", cmd->help);
	print_flags(f, cmd->flags | LC_FLAGS_ALWAYS);
}
