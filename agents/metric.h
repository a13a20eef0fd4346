/* metric.h - metric samples, tag lists and the series JSON the intake takes.
 * Pure data: no I/O, no libcurl. */
#ifndef LC_METRIC_H
#define LC_METRIC_H

#include <stddef.h>

#include "buf.h"

/* A list of owned strings ("k:v" tags), in order. */
struct lc_tags {
	char **v;
	size_t nr, alloc;
};

#define LC_TAGS_INIT { NULL, 0, 0 }

void lc_tags_add(struct lc_tags *t, const char *s, size_t len);
void lc_tags_adds(struct lc_tags *t, const char *s);
/* Add s unless an equal string is already there; returns 1 when added. */
int lc_tags_add_unique(struct lc_tags *t, const char *s);
int lc_tags_has(const struct lc_tags *t, const char *s);
void lc_tags_copy(struct lc_tags *out, const struct lc_tags *from);
void lc_tags_release(struct lc_tags *t);
/* The tags as a JSON array (a new tree, lib/json.h). */
struct lc_node;
struct lc_node *lc_tags_node(const struct lc_tags *t);

enum lc_metric_type {
	LC_METRIC_GAUGE,
	LC_METRIC_COUNT,
	LC_METRIC_SERVICE_CHECK,   /* value: 0 OK, 1 WARNING, 2 CRITICAL, 3 UNKNOWN */
};

struct lc_metric {
	char *name;
	double value;
	enum lc_metric_type type;
	long long ts;          /* seconds since the epoch */
	long interval;         /* seconds; sent with counts only, 0 = none */
	char *host;            /* NULL until lc_metrics_decorate */
	char *own;             /* the metric's own tags joined by ',' (NULL
				  when none): tells apart same-named metrics
				  in the status file */
	struct lc_tags tags;   /* own tags; after decorate: all of them */
	char *message;         /* service check: its message, or NULL */
};

struct lc_metrics {
	struct lc_metric *v;
	size_t nr, alloc;
};

#define LC_METRICS_INIT { NULL, 0, 0 }

/* Append a sample named name (copied); returns it to add own tags to. */
struct lc_metric *lc_metrics_add(struct lc_metrics *l, const char *name,
				 double value, enum lc_metric_type type);
/* Move every metric of from (left empty) to the end of to. */
void lc_metrics_take(struct lc_metrics *to, struct lc_metrics *from);
/* Free the first n metrics and shift the rest down. */
void lc_metrics_drop_front(struct lc_metrics *l, size_t n);
void lc_metrics_release(struct lc_metrics *l);
void lc_metric_release(struct lc_metric *m);

/* What every metric of a host carries: the host name and the base tags
 * (datadog.yaml tags, then env:<env> unless already there). */
struct lc_metric_base {
	const char *host;
	struct lc_tags tags;
};

#define LC_METRIC_BASE_INIT { NULL, LC_TAGS_INIT }

void lc_metric_base_init(struct lc_metric_base *b, const char *host,
			 const struct lc_tags *tags, const char *env);
void lc_metric_base_release(struct lc_metric_base *b);

/* Give metrics l[from..] their host, timestamp and final tags: base tags,
 * then inst_tags, then each metric's own tags, duplicates dropped (first
 * wins).  Counts get interval. */
void lc_metrics_decorate(struct lc_metrics *l, size_t from,
			 const struct lc_metric_base *base,
			 const struct lc_tags *inst_tags, long long ts,
			 long interval);

const char *lc_metric_type_name(enum lc_metric_type type);

/* The body of POST /api/v1/series for m[0..n):
 * {"series":[{"metric":..,"points":[[ts,v]],"type":"gauge","host":..,
 *   "tags":[..]}, ...]} */
void lc_series_json(struct lc_buf *out, const struct lc_metric *m, size_t n);
/* The body of POST /api/v1/check_run for the service checks of m[0..n):
 * [{"check":..,"host_name":..,"timestamp":..,"status":0,"message":..,
 *   "tags":[..]}, ...] */
void lc_check_runs_json(struct lc_buf *out, const struct lc_metric *m, size_t n);

#endif
