/* main.c - flags, command lookup, run, flush stdout; no logic. */
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmd.h"
#include "health.h"
#include "source.h"
#include "inventory.h"
#include "transport.h"

/* The one global: set by SIGINT/SIGTERM, read by every wait. */
static volatile sig_atomic_t interrupted;

static void on_signal(int sig)
{
	(void)sig;
	interrupted = 1;
}

static void catch_signals(void)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;  /* no SA_RESTART: waits wake up */
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
}

static void usage(FILE *f)
{
	const struct lc_cmd *const *t = lc_cmd_table();
	size_t i;

	fputs("usage: labctl [OPTIONS] COMMAND [TARGET...]\n\n"
	      "Build and keep the lab's hosts in shape over SSH.\n\nCommands:\n", f);
	for (i = 0; t[i]; i++)
		fprintf(f, "  %-22s %s\n", t[i]->usage, t[i]->summary);
	fputs("\nOptions:\n"
	      "  -i, --inventory FILE   inventory to use (default: " LC_INVENTORY_DEFAULT_PATH ")\n"
	      "  -j, --jobs N           hosts handled in parallel (default: 10)\n"
	      "  -v, --verbose          also list operations that were already ok\n"
	      "      --json             one JSON object per line instead of text\n"
	      "      --accept-new-hostkeys  trust and record unknown host keys\n"
	      "      --lock-timeout S   wait up to S seconds for another labctl on a host (60)\n"
	      "      --ref REV          deploy what commit REV holds (not the work tree)\n"
	      "      --changed          converge only hosts whose role inputs changed\n"
	      "      --prune            dash apply: delete labctl's objects removed from the repo\n"
	      "  -h, --help             this help; 'labctl COMMAND --help' for a command\n"
	      "      --version          print the version\n\n"
	      "Exit status: 0 every host succeeded; 1 a host failed or was unreachable;\n"
	      "2 changes pending (plan); 3 bad command line, inventory or role;\n"
	      "130 interrupted (SIGINT or SIGTERM).\n", f);
}

int main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "inventory", required_argument, NULL, 'i' },
		{ "jobs", required_argument, NULL, 'j' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "json", no_argument, NULL, 'J' },
		{ "accept-new-hostkeys", no_argument, NULL, 'A' },
		{ "lock-timeout", required_argument, NULL, 'L' },
		{ "ref", required_argument, NULL, 'R' },
		{ "changed", no_argument, NULL, 'C' },
		{ "prune", no_argument, NULL, 'P' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 },
	};
	struct lc_cmd_ctx ctx;
	struct lc_error err = LC_ERROR_INIT;
	const struct lc_cmd *cmd;
	int c, help = 0, status;
	char *end;
	long j;

	memset(&ctx, 0, sizeof(ctx));
	ctx.inventory = LC_INVENTORY_DEFAULT_PATH;
	ctx.jobs = 10;
	ctx.lock_timeout = 60;
	ctx.out = stdout;
	ctx.err = stderr;
	while ((c = getopt_long(argc, argv, "i:j:vh", longopts, NULL)) != -1) {
		switch (c) {
		case 'i': ctx.inventory = optarg; break;
		case 'j':
			j = strtol(optarg, &end, 10);
			if (*end || j < 1 || j > 1024) {
				fprintf(stderr, "labctl: -j expects a number from 1 to 1024, not '%s'\n",
					optarg);
				return LC_EXIT_USAGE;
			}
			ctx.jobs = (int)j;
			break;
		case 'v': ctx.verbose = 1; break;
		case 'J': ctx.json = 1; break;
		case 'A': ctx.accept_new_hostkeys = 1; break;
		case 'R': ctx.ref = optarg; break;
		case 'C': ctx.changed_only = 1; break;
		case 'P': ctx.prune = 1; break;
		case 'L':
			j = strtol(optarg, &end, 10);
			if (*end || j < 0 || j > 86400) {
				fprintf(stderr, "labctl: --lock-timeout expects seconds from 0 to 86400, "
					"not '%s'\n", optarg);
				return LC_EXIT_USAGE;
			}
			ctx.lock_timeout = (int)j;
			break;
		case 'h': help = 1; break;
		case 'V': printf("labctl %s\n", LABCTL_VERSION); return LC_EXIT_OK;
		default:
			fputs("labctl: try 'labctl --help'\n", stderr);
			return LC_EXIT_USAGE;
		}
	}
	if (optind >= argc) {
		usage(help ? stdout : stderr);
		return help ? LC_EXIT_OK : LC_EXIT_USAGE;
	}
	cmd = lc_cmd_find(argv[optind]);
	if (!cmd) {
		fprintf(stderr, "labctl: unknown or ambiguous command '%s'; try 'labctl --help'\n",
			argv[optind]);
		return LC_EXIT_USAGE;
	}
	if (help) {
		printf("usage: labctl [OPTIONS] %s\n\n%s", cmd->usage, cmd->help);
		return LC_EXIT_OK;
	}
	ctx.args = argv + optind + 1;
	ctx.n_args = (size_t)(argc - optind - 1);
	if (lc_transport_ssh_global_init(&err) || lc_health_global_init(&err) ||
	    lc_source_global_init(&err)) {
		fprintf(stderr, "labctl: %s\n", err.msg);
		return LC_EXIT_FAILED;
	}
	ctx.cancel = &interrupted;
	catch_signals();
	status = cmd->exec(&ctx);
	if (interrupted) {
		fputs("labctl: interrupted; hosts that were being converged may be half-way: "
		      "run the same command again to finish\n", stderr);
		status = LC_EXIT_INTERRUPTED;
	}
	lc_source_global_release();
	lc_health_global_release();
	lc_transport_ssh_global_release();
	if (fflush(stdout) != 0)
		return LC_EXIT_FAILED;
	return status;
}
