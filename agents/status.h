/* status.h - what the agent is doing, as a JSON file rewritten atomically
 * (temp file + rename) after every check run:
 * {"version":..,"pid":..,"running_since":"ISO8601",
 *  "config":{"dir":..,"hostname":..,"tags":[..],"env":..,"dd_url":..,
 *            "submission":"enabled"|"disabled (no api_key)","errors":[..]},
 *  "checks":{"<name>":{"last_run":"ISO8601"|null,"last_value":{name:value},
 *            "error":null|"text","runs":N}},
 *  "intake":{"sent":N,"failed":N,"dropped":N,"buffered":N,
 *            "last_success":"ISO8601"|null,"last_error":null|"text"}} */
#ifndef LC_STATUS_H
#define LC_STATUS_H

#include <stddef.h>
#include <time.h>

#include "buf.h"
#include "error.h"
#include "metric.h"

struct lc_status_value {
	char *key;             /* metric name, or name{own,tags} */
	double value;
};

struct lc_status_check {
	char *name;
	time_t last_run;       /* 0: never */
	struct lc_status_value *values;
	size_t n_values, alloc;
	char *error;
	unsigned long runs;
};

struct lc_status_intake {
	unsigned long long sent;       /* points the intake accepted */
	unsigned long long failed;     /* POSTs that failed */
	unsigned long long dropped;    /* points dropped: buffer full */
	size_t buffered;               /* points waiting */
	time_t last_success;           /* 0: never */
	char *last_error;
};

struct lc_status {
	time_t running_since;
	long pid;
	/* config */
	char *dir;
	char *hostname;
	struct lc_tags tags;
	char *env;
	char *dd_url;          /* redacted */
	int submission;        /* 1 when an api_key is set */
	struct lc_tags errors; /* datadog.yaml and conf.d problems */
	struct lc_status_check *checks;
	size_t n_checks, alloc;
	struct lc_status_intake intake;
	struct lc_node *apm;   /* the trace receiver's part (apm.h), NULL: none */
};

#define LC_STATUS_INIT { 0 }

void lc_status_release(struct lc_status *st);
/* The entry of check name (added when missing). */
struct lc_status_check *lc_status_check(struct lc_status *st, const char *name);
/* Drop the checks whose name is not in keep. */
void lc_status_keep_only(struct lc_status *st, const struct lc_tags *keep);
/* A run of the check: its metrics (decorated: m->own tells apart metrics
 * of the same name) and its error (NULL: none). */
void lc_status_check_record(struct lc_status_check *c, time_t when,
			    const struct lc_metric *m, size_t n, const char *error);
/* A check that cannot run: error and no run. */
void lc_status_check_set_error(struct lc_status_check *c, const char *error);

void lc_status_render(struct lc_buf *out, const struct lc_status *st);
/* Render and write path atomically (creating its directory). */
int lc_status_write(const char *path, const struct lc_status *st,
		    struct lc_error *err);

#endif
