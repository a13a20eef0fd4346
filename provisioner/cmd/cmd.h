/* cmd.h - the command table: one command, one file, one entry. */
#ifndef LC_CMD_H
#define LC_CMD_H

#include <signal.h>
#include <stddef.h>
#include <stdio.h>

/* Exit statuses (documented in the README and labctl(1)). */
enum {
	LC_EXIT_OK = 0,        /* every host succeeded */
	LC_EXIT_FAILED = 1,    /* a host failed or was unreachable */
	LC_EXIT_CHANGES = 2,   /* plan: changes pending */
	LC_EXIT_USAGE = 3,     /* bad command line, inventory or role */
	LC_EXIT_INTERRUPTED = 130,  /* SIGINT or SIGTERM: stopped early */
};

/* The one place an error becomes an exit status: what the user wrote is
 * wrong (command line, inventory, roles, definitions, files) ->
 * LC_EXIT_USAGE; an interruption -> LC_EXIT_INTERRUPTED; a host, the
 * network or an API -> LC_EXIT_FAILED; a generic code (LC_ERR, LC_ENOMEM,
 * LC_EHOSTKEY, or none set) -> what the caller knows of its stage:
 * LC_EXIT_USAGE while loading, LC_EXIT_FAILED while running. */
int lc_cmd_exit_status(int code, int generic);

/* Flags.  Each command's table entry lists those it takes; LC_FLAGS_ALWAYS
 * go with every command. */
enum {
	LC_FLAG_INVENTORY = 1u << 0,
	LC_FLAG_JOBS = 1u << 1,
	LC_FLAG_VERBOSE = 1u << 2,
	LC_FLAG_JSON = 1u << 3,
	LC_FLAG_ACCEPT_NEW_HOSTKEYS = 1u << 4,
	LC_FLAG_LOCK_TIMEOUT = 1u << 5,
	LC_FLAG_REF = 1u << 6,
	LC_FLAG_CHANGED = 1u << 7,
	LC_FLAG_PRUNE = 1u << 8,
	LC_FLAG_HELP = 1u << 9,
	LC_FLAG_VERSION = 1u << 10,
};

#define LC_FLAGS_ALWAYS (LC_FLAG_INVENTORY | LC_FLAG_HELP | LC_FLAG_VERSION)
/* up, converge, plan: the converge pipeline */
#define LC_FLAGS_CONVERGE (LC_FLAG_JOBS | LC_FLAG_VERBOSE | LC_FLAG_JSON | \
			   LC_FLAG_ACCEPT_NEW_HOSTKEYS | LC_FLAG_LOCK_TIMEOUT | LC_FLAG_REF | \
			   LC_FLAG_CHANGED)

struct lc_flag {
	unsigned bit;
	const char *name;      /* --NAME */
	char letter;           /* -L, or 0 */
	const char *arg;       /* its argument as the help names it; NULL: none */
	const char *help;      /* one line */
};

/* Every flag, in the order help lists them; ends with a zeroed entry. */
const struct lc_flag *lc_cmd_flags(void);
/* The flag with bit; NULL if none. */
const struct lc_flag *lc_cmd_flag(unsigned bit);

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
	unsigned flags;          /* LC_FLAG_* it takes besides LC_FLAGS_ALWAYS */
	const char *words;       /* its fixed operands, for completion ("plan apply") */
	int (*exec)(struct lc_cmd_ctx *ctx);
};

extern const struct lc_cmd lc_cmd_up;
extern const struct lc_cmd lc_cmd_converge;
extern const struct lc_cmd lc_cmd_plan;
extern const struct lc_cmd lc_cmd_status;
extern const struct lc_cmd lc_cmd_ping;
extern const struct lc_cmd lc_cmd_down;
extern const struct lc_cmd lc_cmd_dash;
extern const struct lc_cmd lc_cmd_completion;

/* Exact name or unique prefix; NULL when unknown or ambiguous. */
const struct lc_cmd *lc_cmd_find(const char *name);
const struct lc_cmd *const *lc_cmd_table(void);

/* Text made from the tables (flags.c): `labctl --help`, `labctl CMD
 * --help`, the usage line a bad command line gets, and the bash
 * completion script. */
void lc_cmd_print_usage(FILE *f);
void lc_cmd_print_help(FILE *f, const struct lc_cmd *cmd);
void lc_cmd_print_usage_line(FILE *f, const struct lc_cmd *cmd);
void lc_cmd_print_bash_completion(FILE *f);

/* "commit 1234abcd5678[-dirty]" labctl was built from, or "unknown commit"
 * (gen/commit.c, written by cmake/commit.cmake). */
const char *lc_cmd_build_commit(void);

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
