/* cmd.h - the command table: one command, one file, one entry. */
#ifndef LC_CMD_H
#define LC_CMD_H

#include <signal.h>
#include <stddef.h>
#include <stdio.h>

/* Exit statuses (documented in the README). */
enum {
	LC_EXIT_OK = 0,        /* every host succeeded */
	LC_EXIT_FAILED = 1,    /* a host failed or was unreachable */
	LC_EXIT_CHANGES = 2,   /* plan: changes pending */
	LC_EXIT_USAGE = 3,     /* bad command line, inventory or role */
	LC_EXIT_INTERRUPTED = 130,  /* SIGINT or SIGTERM: stopped early */
};

struct lc_cmd_ctx {
	const char *inventory;   /* -i FILE */
	int jobs;                /* -j N */
	int verbose;             /* -v */
	int json;                /* --json */
	int accept_new_hostkeys;
	int lock_timeout;        /* --lock-timeout seconds */
	const char *ref;         /* --ref REV: deploy this commit */
	int changed_only;        /* --changed */
	int prune;               /* --prune (dash apply) */
	const volatile sig_atomic_t *cancel;  /* set by SIGINT/SIGTERM */
	char **args;             /* operands after the command name */
	size_t n_args;
	FILE *out;               /* results */
	FILE *err;               /* errors */
};

struct lc_cmd {
	const char *name;
	const char *usage;       /* "up [TARGET...]" */
	const char *summary;     /* one line */
	const char *help;        /* paragraph(s) for `labctl CMD --help` */
	int (*exec)(struct lc_cmd_ctx *ctx);
};

extern const struct lc_cmd lc_cmd_up;
extern const struct lc_cmd lc_cmd_converge;
extern const struct lc_cmd lc_cmd_plan;
extern const struct lc_cmd lc_cmd_status;
extern const struct lc_cmd lc_cmd_ping;
extern const struct lc_cmd lc_cmd_down;
extern const struct lc_cmd lc_cmd_dash;

/* Exact name or unique prefix; NULL when unknown or ambiguous. */
const struct lc_cmd *lc_cmd_find(const char *name);
const struct lc_cmd *const *lc_cmd_table(void);

/* Shared by up and converge: load, plan every selected host (nothing is
 * touched if any fails), run, report. Returns an exit status. */
struct lc_inventory;
struct lc_report;
/* Start the selected hosts (up): LC_EXIT_OK, LC_EXIT_FAILED (some did not
 * start: they show as unreachable) or LC_EXIT_USAGE (stop). */
typedef int lc_cmd_start_fn(struct lc_cmd_ctx *ctx, const struct lc_inventory *inv,
			    const unsigned char *selected, struct lc_report *rep);
/* converge (apply 1) or plan the selected hosts; start, when given, runs
 * after everything loaded and before any host is contacted. */
int lc_cmd_converge_targets(struct lc_cmd_ctx *ctx, int apply, lc_cmd_start_fn *start);

#endif
