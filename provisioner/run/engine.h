/* engine.h - converge hosts: one thread per host (bounded by jobs), one SSH
 * connection per host, one facts batch (inside the exec command when it
 * holds no secret), SFTP for large content within one upload budget for
 * all hosts, one apply batch.  A no-op converge is one connection, one exec
 * channel and the facts batch alone (two batches when the digest cache
 * learned new digests). */
#ifndef LC_ENGINE_H
#define LC_ENGINE_H

#include <signal.h>
#include <stddef.h>

#include "error.h"
#include "inventory.h"
#include "plan.h"
#include "transport.h"

enum lc_host_status {
	LC_HOST_PENDING,
	LC_HOST_DONE,          /* reached; see counts */
	LC_HOST_UNREACHABLE,   /* could not connect / authenticate / trust */
	LC_HOST_FAILED,        /* reached, but the run broke down (not an op) */
};

struct lc_reach;

struct lc_host_run {
	struct lc_host_plan plan;
	struct lc_reach *reach;       /* how to connect (session.c resolves it) */
	enum lc_host_status status;
	struct lc_error err;          /* for UNREACHABLE / FAILED */
	unsigned ok, changed, failed;
	unsigned restarts;            /* services restarted (or to restart: plan) */
	unsigned health_failed;       /* health checks that did not pass */
	struct lc_transport_stats stats;
	double seconds;
};

struct lc_engine_opts {
	int jobs;                     /* hosts at once; 0: all of them */
	int apply;                    /* 0: read facts and decide only */
	int describe;                 /* with apply 0: fetch contents, make diffs */
	int changed_only;             /* leave hosts whose role inputs are unchanged */
	const volatile sig_atomic_t *cancel;  /* set on SIGINT/SIGTERM: stop */
	int lock_timeout;             /* seconds to wait for another labctl's lock */
	const char *lock_holder;      /* who we are, for a waiting labctl's message;
				       * NULL: take no lock (read-only runs) */
	/* Called under the engine's lock, once per host when it finishes, so
	 * output of different hosts never interleaves. */
	void (*on_host_done)(void *data, const struct lc_host_run *run);
	void *data;
};

/* How to reach every host whose runs[i].plan.host is set (the inventory's
 * ssh settings and its ssh_config): errors name the config's file:line. */
int lc_engine_resolve(struct lc_host_run *runs, size_t n, const struct lc_inventory *inv,
		      int accept_new, struct lc_error *err);
/* Release each run's plan and reach (not the array). */
void lc_engine_runs_release(struct lc_host_run *runs, size_t n);

/* Run every host whose runs[i].plan.host is set (resolved first).  Returns 0 when all hosts
 * are DONE with no failed op, else LC_ERR. */
int lc_engine_run(struct lc_host_run *runs, size_t n, const struct lc_inventory *inv,
		  const struct lc_engine_opts *opts);

#endif
