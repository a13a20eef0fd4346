/* submit.h - the forwarder: a bounded buffer of metric points and a thread
 * that POSTs them to <intake>/api/v1/series (service checks to
 * /api/v1/check_run; a batch that fails is sent again whole) every flush
 * interval, backing off while the intake is down.  The only libcurl user is submit.c; it
 * never prints, and never shows the api key. */
#ifndef LC_SUBMIT_H
#define LC_SUBMIT_H

#include <stddef.h>
#include <time.h>

#include "buf.h"
#include "error.h"
#include "metric.h"

#define LC_SUBMIT_MAX_POINTS 10000
#define LC_SUBMIT_FLUSH_S 10
#define LC_SUBMIT_BATCH 1000       /* points per POST */
#define LC_SUBMIT_BACKOFF_MAX_S 300
#define LC_SUBMIT_METADATA_S 1800      /* host metadata: at start, then this often */

struct lc_submit;

struct lc_submit_stats {
	unsigned long long sent;       /* points accepted (2xx) */
	unsigned long long failed;     /* POSTs that failed */
	unsigned long long dropped;    /* points dropped (buffer full) */
	size_t buffered;
	time_t last_success;           /* 0: never */
	char *last_error;              /* malloc'd copy or NULL */
	unsigned long long events;     /* grows on every change */
};

/* curl_global_init happens here: call before any other thread starts. */
int lc_submit_new(struct lc_submit **out, size_t max_points, struct lc_error *err);
/* The stop/start of the thread and every other call are thread safe. */
void lc_submit_free(struct lc_submit *s);
/* Where to send and with which key (copied).  An empty key means submission
 * is off: lc_submit_push drops nothing and buffers nothing. */
void lc_submit_configure(struct lc_submit *s, const char *intake, const char *api_key);
int lc_submit_enabled(struct lc_submit *s);
/* Take the metrics (from is left empty); the oldest points are dropped
 * when the buffer would exceed max_points. */
void lc_submit_push(struct lc_submit *s, struct lc_metrics *from);
/* The host metadata body (copied; NULL: none) to POST to <intake>/intake/
 * with the next flush, then every LC_SUBMIT_METADATA_S. */
void lc_submit_set_metadata(struct lc_submit *s, const char *body);
/* Send everything buffered now, once (no retry): --once mode. */
int lc_submit_flush(struct lc_submit *s, struct lc_error *err);
/* Flush every interval_s seconds in a thread, with backoff on failure. */
int lc_submit_start(struct lc_submit *s, unsigned interval_s, struct lc_error *err);
/* Stop the thread: one last flush unless the intake is known to be down. */
void lc_submit_stop(struct lc_submit *s);
/* A snapshot; release with lc_submit_stats_release. */
void lc_submit_get_stats(struct lc_submit *s, struct lc_submit_stats *out);
void lc_submit_stats_release(struct lc_submit_stats *st);

/* Replace every occurrence of secret in b by "***" (for response bodies). */
void lc_submit_scrub(struct lc_buf *b, const char *secret);

#endif
