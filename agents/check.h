/* check.h - a check is a small table of functions (system, postgres,
 * custom); check.c schedules the instances of every configured check and
 * runs the ones that are due. */
#ifndef LC_CHECK_H
#define LC_CHECK_H

#include <stddef.h>

#include "buf.h"
#include "clock.h"
#include "config.h"
#include "error.h"
#include "metric.h"

/* Lets a long check (a custom script) stop early when the agent stops. */
struct lc_cancel {
	int (*cancelled)(void *arg);
	void *arg;
};

struct lc_check_ops {
	const char *kind;
	/* Read the instance's own keys (positioned errors) into *out. */
	int (*init)(void **out, const struct lc_check_conf *conf,
		    const struct lc_check_instance *inst, struct lc_error *err);
	/* Run once: append samples with their own tags only to out.  Samples
	 * may be appended even when an error is returned. */
	int (*run)(void *state, struct lc_metrics *out,
		   const struct lc_cancel *cancel, struct lc_error *err);
	void (*free)(void *state);
};

extern const struct lc_check_ops lc_check_system_ops;
extern const struct lc_check_ops lc_check_postgres_ops;
extern const struct lc_check_ops lc_check_custom_ops;

struct lc_check_slot {
	const struct lc_check_instance *inst;
	void *state;
	double next_due;       /* monotonic seconds */
};

struct lc_check {
	const struct lc_check_conf *conf;   /* borrowed from lc_check_confs */
	const struct lc_check_ops *ops;     /* NULL when the check cannot run */
	struct lc_check_slot *slots;
	size_t n_slots;
	char *error;           /* why it cannot run (config), else NULL */
};

struct lc_checks {
	struct lc_check *v;
	size_t nr;
};

#define LC_CHECKS_INIT { NULL, 0 }

/* One lc_check per conf (confs must outlive out).  Instances whose init
 * fails make the whole check an error; every instance is due at now. */
void lc_checks_build(struct lc_checks *out, const struct lc_check_confs *confs,
		     double now);
void lc_checks_release(struct lc_checks *cs);

/* Is any instance of c due at now? */
int lc_check_due(const struct lc_check *c, double now);
/* The earliest time any runnable instance is due (now + 3600 if none). */
double lc_checks_next_due(const struct lc_checks *cs, double now);

/* Run the due instances of c, appending decorated metrics (host, tags,
 * timestamp) to out.  Errors of the instances are joined in errors
 * ("instance 2: ..." when there are several); returns how many instances
 * ran. */
size_t lc_check_run_due(struct lc_check *c, double now,
			const struct lc_metric_base *base, struct lc_metrics *out,
			struct lc_buf *errors, const struct lc_cancel *cancel);

#endif
