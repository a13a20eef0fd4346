/* session.h - what converge, plan and status share: load the inventory and
 * roles, select the targets, compute every selected host's desired state
 * (nothing is touched on any host unless all of them load), run the engine,
 * run the health checks.  Command-layer code: it prints errors. */
#ifndef LC_SESSION_H
#define LC_SESSION_H

#include "cmd.h"
#include "engine.h"
#include "inventory.h"
#include "plan.h"
#include "report.h"
#include "role.h"
#include "source.h"

struct lc_session {
	struct lc_inventory inv;
	struct lc_source *source;     /* NULL: the work tree; else --ref's commit */
	struct lc_repo_info repo;
	struct lc_roles roles;
	struct lc_blobs blobs;
	struct lc_host_run *runs;     /* inv.n_hosts; plan.host set when selected */
	struct lc_report rep;
	char *holder;                 /* who we are, for the host lock */
	double t0;
};

/* Returns 0, or the exit status to return (the error is printed). */
int lc_session_open(struct lc_session *s, struct lc_cmd_ctx *ctx, const char *what);
/* The same in two steps, for `up`, which starts the local hosts (and makes
 * their key) in between: load everything, then check the SSH key. */
int lc_session_load(struct lc_session *s, struct lc_cmd_ctx *ctx, const char *what);
int lc_session_check_key(struct lc_session *s, struct lc_cmd_ctx *ctx);
/* Run the engine; returns 0 when every host succeeded. */
int lc_session_run(struct lc_session *s, struct lc_cmd_ctx *ctx, int apply, int describe,
		   void (*on_host_done)(void *data, const struct lc_host_run *run));
/* Health checks of every host that converged cleanly; 1 if any failed. */
int lc_session_health(struct lc_session *s, int report);
double lc_session_seconds(const struct lc_session *s);
void lc_session_close(struct lc_session *s);

#endif
