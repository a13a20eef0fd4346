/* main.c - flags (from the flag table), command lookup, run, flush
 * stdout; no logic. */
#include <getopt.h>
#include <malloc.h>
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

/* Set what flag f says in ctx; an exit status when its value is bad. */
static int set_flag(struct lc_cmd_ctx *ctx, const struct lc_flag *f, const char *arg)
{
	char *end;
	long n;

	switch (f->bit) {
	case LC_FLAG_INVENTORY: ctx->inventory = arg; break;
	case LC_FLAG_JOBS:
		n = strtol(arg, &end, 10);
		if (*end || n < 1 || n > 1024) {
			fprintf(ctx->err, "labctl: -j expects a number from 1 to 1024, not '%s'\n",
				arg);
			return LC_EXIT_USAGE;
		}
		ctx->jobs = (int)n;
		break;
	case LC_FLAG_VERBOSE: ctx->verbose = 1; break;
	case LC_FLAG_JSON: ctx->json = 1; break;
	case LC_FLAG_ACCEPT_NEW_HOSTKEYS: ctx->accept_new_hostkeys = 1; break;
	case LC_FLAG_LOCK_TIMEOUT:
		n = strtol(arg, &end, 10);
		if (*end || n < 0 || n > 86400) {
			fprintf(ctx->err, "labctl: --lock-timeout expects seconds from 0 to 86400, "
				"not '%s'\n", arg);
			return LC_EXIT_USAGE;
		}
		ctx->lock_timeout = (int)n;
		break;
	case LC_FLAG_REF: ctx->ref = arg; break;
	case LC_FLAG_CHANGED: ctx->changed_only = 1; break;
	case LC_FLAG_PRUNE: ctx->prune = 1; break;
	default: break;  /* --help, --version: main looks at them */
	}
	return 0;
}

/* The flags the command does not take: an error naming the first, with
 * the command's usage line. */
static int check_flags(struct lc_cmd_ctx *ctx, const struct lc_cmd *cmd, unsigned given)
{
	const struct lc_flag *f;
	unsigned extra = given & ~(cmd->flags | LC_FLAGS_ALWAYS);

	if (!extra)
		return 0;
	for (f = lc_cmd_flags(); f->name && !(f->bit & extra); f++)
		;
	if (f->letter)
		fprintf(ctx->err, "labctl: '%s' does not take -%c/--%s\n", cmd->name, f->letter,
			f->name);
	else
		fprintf(ctx->err, "labctl: '%s' does not take --%s\n", cmd->name, f->name);
	lc_cmd_print_usage_line(ctx->err, cmd);
	fprintf(ctx->err, "try 'labctl %s --help'\n", cmd->name);
	return LC_EXIT_USAGE;
}

int main(int argc, char **argv)
{
	const struct lc_flag *flags = lc_cmd_flags();
	struct option longopts[32];
	char shortopts[32];
	struct lc_cmd_ctx ctx;
	struct lc_error err = LC_ERROR_INIT;
	const struct lc_cmd *cmd;
	unsigned given = 0;
	size_t i, k = 0;
	int c, status;

	/* One malloc arena for every thread: a host's thread spends its time
	 * waiting for the network, and glibc's arena per thread (up to eight
	 * per core) keeps what each thread freed: 2-3 MiB at 50 hosts. */
	mallopt(M_ARENA_MAX, 1);
	memset(&ctx, 0, sizeof(ctx));
	ctx.inventory = LC_INVENTORY_DEFAULT_PATH;
	ctx.jobs = 0;   /* every host at once */
	ctx.lock_timeout = 60;
	ctx.out = stdout;
	ctx.err = stderr;
	/* getopt's tables from the flag table: val is the flag's index */
	memset(longopts, 0, sizeof(longopts));
	for (i = 0; flags[i].name; i++) {
		longopts[i].name = flags[i].name;
		longopts[i].has_arg = flags[i].arg ? required_argument : no_argument;
		longopts[i].val = 256 + (int)i;
		if (flags[i].letter) {
			shortopts[k++] = flags[i].letter;
			if (flags[i].arg)
				shortopts[k++] = ':';
		}
	}
	shortopts[k] = '\0';
	while ((c = getopt_long(argc, argv, shortopts, longopts, NULL)) != -1) {
		const struct lc_flag *f = NULL;

		if (c >= 256)
			f = &flags[c - 256];
		for (i = 0; !f && flags[i].name; i++)
			if (flags[i].letter && flags[i].letter == c)
				f = &flags[i];
		if (!f) {
			fputs("labctl: try 'labctl --help'\n", stderr);
			return LC_EXIT_USAGE;
		}
		given |= f->bit;
		if ((status = set_flag(&ctx, f, optarg)))
			return status;
	}
	if (given & LC_FLAG_VERSION) {
		printf("labctl %s (%s)\n", LABCTL_VERSION, lc_cmd_build_commit());
		return LC_EXIT_OK;
	}
	if (optind >= argc) {
		lc_cmd_print_usage(given & LC_FLAG_HELP ? stdout : stderr);
		return given & LC_FLAG_HELP ? LC_EXIT_OK : LC_EXIT_USAGE;
	}
	cmd = lc_cmd_find(argv[optind]);
	if (!cmd) {
		fprintf(stderr, "labctl: unknown or ambiguous command '%s'; try 'labctl --help'\n",
			argv[optind]);
		return LC_EXIT_USAGE;
	}
	if (given & LC_FLAG_HELP) {
		lc_cmd_print_help(stdout, cmd);
		return LC_EXIT_OK;
	}
	if ((status = check_flags(&ctx, cmd, given)))
		return status;
	ctx.args = argv + optind + 1;
	ctx.n_args = (size_t)(argc - optind - 1);
	if (lc_transport_ssh_global_init(&err) || lc_health_global_init(&err) ||
	    lc_source_global_init(&err)) {
		fprintf(stderr, "labctl: %s\n", err.msg);
		return lc_cmd_exit_status(err.code, LC_EXIT_FAILED);
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
