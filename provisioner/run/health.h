/* health.h - HTTP health checks, run concurrently with libcurl's multi
 * interface (the only libcurl user in labctl).  A check passes when its URL
 * answers with the expected status; until its timeout it is retried, since
 * services start in the background. */
#ifndef LC_HEALTH_H
#define LC_HEALTH_H

#include <stddef.h>

#include "error.h"

struct lc_health_check {
	const char *host;      /* inventory host it belongs to */
	const char *url;       /* http or https */
	long want_status;
	int timeout_ms;
	/* results */
	int ok;
	long got_status;       /* 0 when no HTTP answer */
	char *error;           /* why it failed (curl's message or the status) */
	double seconds;        /* until it passed, or gave up */
	unsigned attempts;
};

int lc_health_global_init(struct lc_error *err);
void lc_health_global_release(void);

/* Run every check; returns the number that failed (or a negative code when
 * the checks could not be run at all). */
int lc_health_run(struct lc_health_check *checks, size_t n, struct lc_error *err);

void lc_health_release(struct lc_health_check *c);

#endif
