/* tu_plan.h - planning one host in a test, as a session plans all of them
 * (the unit tests that plan include it after plan.h). */
#ifndef TU_PLAN_H
#define TU_PLAN_H

#include "plan.h"

/* lc_plan_host within a run of its own (a run per call: what a session
 * does for all hosts at once). */
static inline int tu_plan_host(struct lc_host_plan *out, const struct lc_inventory *inv,
			       const struct lc_roles *roles, struct lc_blobs *blobs,
			       const struct lc_host *h, struct lc_error *err)
{
	struct lc_plan_run run;
	int rc;

	if ((rc = lc_plan_run_init(&run, inv, roles, blobs, err)))
		return rc;
	rc = lc_plan_host(out, &run, h, err);
	lc_plan_run_release(&run);
	return rc;
}

#endif
