/* report.h - what a person reads (a line per change or failure, a recap)
 * and what a script reads (--json: one object per line).  Secret values are
 * replaced by ******** in everything written here. */
#ifndef LC_REPORT_H
#define LC_REPORT_H

#include <stdio.h>

#include "engine.h"
#include "inventory.h"

struct lc_report {
	FILE *out;
	int json;
	int verbose;          /* also list ok ops */
	int plan;             /* nothing is applied: say what would change */
	char **secrets;       /* values to mask */
	size_t n_secrets;
};

/* Collect secret values from the inventory's vars (lab and hosts). */
void lc_report_init(struct lc_report *r, FILE *out, int json, int verbose,
		    const struct lc_inventory *inv);
void lc_report_release(struct lc_report *r);

/* Mask secrets in s: a new string. */
char *lc_report_mask(const struct lc_report *r, const char *s);

void lc_report_host(struct lc_report *r, const struct lc_host_run *run);
/* One line per health check of a host. */
void lc_report_health(struct lc_report *r, const struct lc_host_run *run);
void lc_report_recap(struct lc_report *r, const struct lc_host_run *runs, size_t n,
		     double seconds);
/* A one-line progress/status message ("starting 5 local hosts"). */
void lc_report_note(struct lc_report *r, const char *event, const char *host,
		    const char *fmt, ...) __attribute__((format(printf, 4, 5)));

#endif
